/**
 * The console on a real terminal: `script` gives kmemlab a pty, so stdin is
 * a TTY in raw mode; typed characters reach the guest's UART, and Ctrl-A x
 * quits as in QEMU.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assemble } from '../../toolchain/asm.js';

const ROOT = join(__dirname, '../..');
const haveScript = spawnSync('sh', ['-c', 'command -v script']).status === 0;
let echo = '';

beforeAll(() => {
  const b = spawnSync('node', ['scripts/build.mjs'], { cwd: ROOT, encoding: 'utf8' });
  expect(b.status, b.stderr).toBe(0);
  // Echo each character upper-cased; 'q' powers off.
  const src = `
    li   s0, 0x10000000
1:  lbu  t0, 5(s0)
    andi t0, t0, 1
    beqz t0, 1b
    lbu  t1, 0(s0)
    li   t2, 'q'
    beq  t1, t2, 2f
    addi t1, t1, -32
    sb   t1, 0(s0)
    j    1b
2:  li   t0, 0x100000
    li   t1, 0x5555
    sw   t1, 0(t0)
3:  j 3b`;
  echo = join(mkdtempSync(join(tmpdir(), 'kmemlab-tty-')), 'echo.bin');
  writeFileSync(echo, assemble(src).bytes);
});

function onPty(...chunks: string[]): { status: number | null; out: string } {
  // Each chunk arrives after a pause, as typed: the guest polls in between.
  const feed = chunks.map((c) => `sleep 1; printf '${c}'`).join('; ');
  const cmd = `(${feed}) | script -qec "node ${join(ROOT, 'dist/kmemlab.js')} run --bios none --kernel ${echo} --harts 1" /dev/null`;
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'latin1', timeout: 60_000 });
  return { status: r.status, out: r.stdout };
}

describe.skipIf(!haveScript)('the console on a terminal', () => {
  it('delivers typed characters to the UART and quits on Ctrl-A x', () => {
    const r = onPty('ab', '\\001x');
    expect(r.out).toContain('AB');
    expect(r.out).toContain('kmemlab: terminated (Ctrl-A x)');
    expect(r.status).toBe(0);
  });

  it('sends Ctrl-A itself on Ctrl-A Ctrl-A, and the guest ends the run', () => {
    const r = onPty('c\\001\\001q');
    // Ctrl-A (0x01) reached the guest, which echoed 0x01 - 32 = 0xe1.
    expect(r.out).toContain('C\u00e1');
    expect(r.out).not.toContain('terminated');
    expect(r.status).toBe(0);
  });
});
