/**
 * The kmemlab command line, run in-process through main(): exit codes, bad
 * input (one clear line, code 2, never a stack trace), HTIF tohost, limits.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/kmemlab.js';
import { assemble } from '../../toolchain/asm.js';
import { writeElf64 } from '../helpers/elf_writer.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kmemlab-cli-'));
});

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, {
    writeOut: (b) => (out += Buffer.from(b).toString('latin1')),
    writeErr: (t) => (err += t),
  });
  return { code, out, err };
}

function file(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

/** An ELF at 0x8000_0000 defining tohost/fromhost, built from assembly. */
function htifElf(name: string, body: string): string {
  const src = `${body}\n    .align 3\ntohost: .dword 0\nfromhost: .dword 0\n`;
  const { bytes, symbols } = assemble(src, { base: 0x8000_0000 });
  return file(name, writeElf64({
    entry: 0x8000_0000,
    segments: [{ paddr: 0x8000_0000, data: bytes, flags: 7 }],
    symbols: [{ name: 'tohost', value: symbols.get('tohost')! }, { name: 'fromhost', value: symbols.get('fromhost')! }],
  }));
}

describe('HTIF tohost', () => {
  it('reports pass (tohost = 1) as exit code 0', async () => {
    const elf = htifElf('pass.elf', `
      la t0, tohost
      li t1, 1
      sd t1, 0(t0)
    1: j 1b`);
    const r = await cli('run', '--bios', 'none', '--kernel', elf, '--max-insns', '100000');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  });

  it('reports failure (tohost = code << 1 | 1) as exit code `code`', async () => {
    const elf = htifElf('fail.elf', `
      la t0, tohost
      li t1, (7 << 1) | 1
      sd t1, 0(t0)
    1: j 1b`);
    const r = await cli('run', '--bios', 'none', '--kernel', elf, '--max-insns', '100000');
    expect(r.code).toBe(7);
  });

  it('prints through the HTIF console (device 1, command 1) and clears tohost', async () => {
    const elf = htifElf('putc.elf', `
      la t0, tohost
      li t1, (1 << 56) | (1 << 48) | 'h'
      sd t1, 0(t0)
      ld t2, 0(t0)            # the host cleared it
      bnez t2, 2f
      li t1, (1 << 56) | (1 << 48) | 'i'
      sd t1, 0(t0)
      li t1, 1
      sd t1, 0(t0)
    1: j 1b
    2: li t1, 3
      sd t1, 0(t0)
      j 1b`);
    const r = await cli('run', '--bios', 'none', '--kernel', elf, '--max-insns', '100000');
    expect(r.out).toBe('hi');
    expect(r.code).toBe(0);
  });
});

describe('limits and ends', () => {
  it('stops a runaway guest at --max-insns with exit code 124 and says so', async () => {
    const bin = file('loop.bin', assemble('1: j 1b').bytes);
    const r = await cli('run', '--bios', 'none', '--kernel', bin, '--max-insns', '12345', '--harts', '1');
    expect(r.code).toBe(124);
    expect(r.err).toBe('kmemlab: stopped the guest after 12345 instructions (--max-insns 12345)\n');
  });

  it('reports a machine where every hart waits forever (exit code 125)', async () => {
    const bin = file('wfi.bin', assemble('1: wfi\n j 1b').bytes);
    const r = await cli('run', '--bios', 'none', '--kernel', bin, '--harts', '2');
    expect(r.code).toBe(125);
    expect(r.err).toMatch(/every hart waits for an interrupt/);
  });

  it('passes the finisher failure code through', async () => {
    const bin = file('fail.bin', assemble('li t0, 0x100000\n li t1, (42 << 16) | 0x3333\n sw t1, 0(t0)\n1: j 1b').bytes);
    const r = await cli('run', '--bios', 'none', '--kernel', bin);
    expect(r.code).toBe(42);
  });
});

describe('bad input: one line on stderr, exit code 2, no stack trace', () => {
  const cases: [string, () => string[], RegExp][] = [
    ['missing file', () => ['run', '--kernel', join(dir, 'nope.elf')], /--kernel '.*nope\.elf': no such file/],
    ['empty file', () => ['run', '--kernel', file('empty.bin', new Uint8Array(0))], /empty/],
    ['truncated ELF', () => ['run', '--kernel', file('trunc.elf', new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]))], /trunc\.elf/],
    ['ELF for x86-64', () => {
      const e = writeElf64({ entry: 0x8000_0000, segments: [{ paddr: 0x8000_0000, data: new Uint8Array(16) }] });
      new DataView(e.buffer).setUint16(18, 62, true);
      return ['run', '--kernel', file('x86.elf', e)];
    }, /x86-64/],
    ['segment outside RAM', () => ['run', '--kernel', file('far.elf', writeElf64({ entry: 0x4000_0000, segments: [{ paddr: 0x4000_0000, data: new Uint8Array(16) }] }))], /outside RAM/],
    ['no image', () => ['run'], /nothing to run/],
    ['zero harts', () => ['run', '--harts', '0', '--kernel', 'x'], /--harts: 0 is out of range/],
    ['65 harts', () => ['run', '--harts', '65', '--kernel', 'x'], /--harts: 65 is out of range/],
    ['memory too large', () => ['run', '--mem', '3G', '--kernel', file('ok.bin', new Uint8Array(4))], /memory size .* out of range/],
    ['not a size', () => ['run', '--mem', 'lots'], /'lots' is not a size/],
    ['unknown option', () => ['run', '--frobnicate'], /unknown option '--frobnicate'/],
    ['unknown command', () => ['frob'], /unknown command 'frob'/],
  ];
  it.each(cases)('%s', async (_name, argv, message) => {
    const r = await cli(...argv());
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
    expect(r.err).not.toMatch(/\n\s+at /);
  });
});

describe('kmemlab machine-test', () => {
  it.each([1, 4])('boots the machine self-test image on %i hart(s): KTAP, exit code 0', async (harts) => {
    const r = await cli('machine-test', '--harts', String(harts));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^KTAP version 1\n1\.\.1\n/);
    expect(r.out).toContain('    ok 2 amo_all_harts\n');
    expect(r.out).toContain('    ok 4 timer_interrupt\n');
    expect(r.out).toContain(harts > 1 ? '    ok 5 ipi\n' : '    ok 5 ipi # SKIP needs 2 harts\n');
    expect(r.out).not.toContain('not ok');
    expect(r.out.endsWith('ok 1 machine\n')).toBe(true);
  });
});
