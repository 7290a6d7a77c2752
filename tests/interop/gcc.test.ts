/**
 * Interop: bare-metal C compiled by Debian's riscv64-unknown-elf-gcc runs on
 * kmemlab; its ELF defines `tohost`, so pass and fail reach the exit code
 * (HTIF, as on Spike and QEMU). The same ELF on qemu-system-riscv64 -M spike
 * (which honours HTIF too) prints the same lines.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const GCC = 'riscv64-unknown-elf-gcc';
const haveGcc = spawnSync('sh', ['-c', `command -v ${GCC}`]).status === 0;
const haveQemu = spawnSync('sh', ['-c', 'command -v qemu-system-riscv64']).status === 0;
const ROOT = join(__dirname, '../..');
const SRC = join(__dirname, 'c');
const CLI = join(ROOT, 'dist/kmemlab.js');

let dir = '';
function compile(name: string): string {
  const out = join(dir, `${name}.elf`);
  const r = spawnSync(GCC, [
    '-march=rv64imac_zicsr', '-mabi=lp64', '-mcmodel=medany', '-O2', '-ffreestanding', '-nostdlib', '-static',
    '-T', join(SRC, 'link.ld'), join(SRC, 'crt0.S'), join(SRC, `${name}.c`), '-lgcc', '-o', out,
  ], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return out;
}

const run = (elf: string) =>
  spawnSync('node', [CLI, 'run', '--bios', 'none', '--kernel', elf, '--harts', '2', '--max-insns', '100000000'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** CRC-32 (IEEE) and the xorshift buffer of cpucheck.c, in JavaScript. */
function expected(): { crc: string; fib: string } {
  let x = 0x9e3779b97f4a7c15n;
  const M = (1n << 64n) - 1n;
  const buf: number[] = [];
  for (let i = 0; i < 1024; i++) {
    x ^= (x << 13n) & M; x ^= x >> 7n; x ^= (x << 17n) & M;
    buf.push(Number(x & 0xffn));
  }
  let c = 0xffffffff;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  const fib = (n: number): number => (n < 2 ? n : fib(n - 1) + fib(n - 2));
  const hex = (v: number | bigint) => `0x${BigInt(v).toString(16).padStart(16, '0')}`;
  return { crc: hex((~c) >>> 0), fib: hex(fib(24)) };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kmemlab-gcc-'));
  const b = spawnSync('node', ['scripts/build.mjs'], { cwd: ROOT, encoding: 'utf8' });
  expect(b.status, b.stderr).toBe(0);
});

describe.skipIf(!haveGcc)(`GCC-built bare-metal programs${haveGcc ? '' : ' (skipped: apt-get install gcc-riscv64-unknown-elf)'}`, () => {
  it('passes through tohost with exit code 0 and prints results that match JavaScript', () => {
    const r = run(compile('cpucheck'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const e = expected();
    expect(r.stdout).toContain(`crc32 ${e.crc}\n`);
    expect(r.stdout).toContain(`fib ${e.fib}\n`);
    expect(r.stdout).toContain('atomic 0x00000000000003e8\n');
  });

  it('fails through tohost with the program\'s code', () => {
    const r = run(compile('fail'));
    expect(r.status).toBe(3);
  });

  it.skipIf(!haveQemu)('prints exactly what qemu-system-riscv64 -M spike prints for the same ELF', () => {
    const elf = compile('cpucheck');
    const ours = run(elf);
    const q = spawnSync('qemu-system-riscv64', ['-M', 'spike', '-smp', '2', '-bios', 'none', '-kernel', elf, '-nographic', '-monitor', 'none'], {
      encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(q.status).toBe(0);
    expect(q.stdout.split('\n').length).toBeGreaterThanOrEqual(5);
    expect(ours.stdout).toBe(q.stdout.replace(/\r\n/g, '\n'));
  });
});
