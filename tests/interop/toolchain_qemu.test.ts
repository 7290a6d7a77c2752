/**
 * Interop for the toolchain's images: an AssemblyScript program built 'bare'
 * prints the same lines and exits 0 on `kmemlab run --bios none` and on
 * `qemu-system-riscv64 -M virt -bios none`; the minimal firmware and kernel
 * of the tests boot together on both, and the kernel also boots under QEMU's
 * OpenSBI; GNU readelf and objdump read every image without a warning, and
 * gdb-multiarch loads their symbols.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildBareProgram } from '../../toolchain/build.js';
import { helloExpected } from '../toolchain/link_helpers.js';
import { makeScratchTree } from '../toolchain/scratch_tree.js';

const ROOT = join(__dirname, '../..');
const CLI = join(ROOT, 'dist/kmemlab.js');
const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const haveQemu = has('qemu-system-riscv64');
const haveBinutils = has('riscv64-unknown-elf-readelf') && has('riscv64-unknown-elf-objdump');
const haveGdb = has('gdb-multiarch');

let dir = '';
const images: Record<string, string> = {};

const kmemlab = (...args: string[]) =>
  spawnSync('node', [CLI, ...args, '--max-insns', '200000000'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const qemu = (...args: string[]) =>
  spawnSync('qemu-system-riscv64', ['-M', 'virt', ...args, '-nographic', '-monitor', 'none'], {
    encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'],
  });
const crlf = (s: string): string => s.replace(/\r\n/g, '\n');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kmemlab-toolchain-interop-'));
  const b = spawnSync('node', ['scripts/build.mjs'], { cwd: ROOT, encoding: 'utf8' });
  expect(b.status, b.stderr).toBe(0);
  const hello = await buildBareProgram(ROOT, 'tests/toolchain/programs/hello.ts');
  images['hello'] = join(dir, 'hello.elf');
  writeFileSync(images['hello'], hello.image.elf);
  // The tests' minimal firmware and kernel, built by `kmemlab build` in a scratch tree.
  const root = join(dir, 'tree');
  mkdirSync(root);
  makeScratchTree(root);
  const r = spawnSync('node', [CLI, 'build', '--root', root], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  images['firmware'] = join(root, 'build/firmware.elf');
  images['kernel'] = join(root, 'build/kernel.elf');
});

describe.skipIf(!haveQemu)(`AssemblyScript images on kmemlab and QEMU${haveQemu ? '' : ' (skipped: apt-get install qemu-system-misc)'}`, () => {
  it('a bare program prints the same lines and exits 0 on both', () => {
    const ours = kmemlab('run', '--bios', 'none', '--kernel', images['hello']!);
    expect(ours.stderr).toBe('');
    expect(ours.status).toBe(0);
    expect(ours.stdout).toBe(helloExpected());
    const q = qemu('-bios', 'none', '-kernel', images['hello']!);
    expect(q.status).toBe(0);
    expect(crlf(q.stdout)).toBe(ours.stdout);
  });

  it('the firmware boots the kernel (Sv39, S-mode, SBI) the same way on both', () => {
    const ours = kmemlab('run', '--harts', '2', '--bios', images['firmware']!, '--kernel', images['kernel']!);
    expect(ours.status).toBe(0);
    expect(ours.stdout).toContain('kmemlab kernel (placeholder): hart 0, device tree at ');
    const q = qemu('-smp', '2', '-bios', images['firmware']!, '-kernel', images['kernel']!);
    expect(q.status).toBe(0);
    // The device tree sits at the top of RAM: kmemlab's default RAM is 256 MiB, QEMU's 128 MiB.
    const dtb = (s: string): string => s.replace(/device tree at 0x[0-9a-f]+/, 'device tree at …');
    expect(dtb(crlf(q.stdout))).toBe(dtb(ours.stdout));
  });

  it("the kernel also boots under QEMU's OpenSBI", () => {
    const q = qemu('-smp', '2', '-kernel', images['kernel']!);
    expect(q.status).toBe(0);
    expect(crlf(q.stdout)).toMatch(/OpenSBI[\s\S]*\nkmemlab kernel \(placeholder\): hart \d, device tree at 0x[0-9a-f]{16}\n$/);
  });
});

describe.skipIf(!haveBinutils)('GNU binutils read the images', () => {
  for (const name of ['hello', 'firmware', 'kernel']) {
    it(`readelf -a and objdump -d accept ${name}.elf without a warning`, () => {
      const re = spawnSync('riscv64-unknown-elf-readelf', ['-a', '-W', images[name]!], { encoding: 'utf8' });
      expect(re.status).toBe(0);
      expect(re.stderr).toBe('');
      expect(re.stdout).toContain('Flags:                             0x1, RVC, soft-float ABI');
      expect(re.stdout).toContain('Tag_RISCV_arch: "rv64i2p1_m2p0_a2p1_c2p0_zicsr2p0_zifencei2p0"');
      const od = spawnSync('riscv64-unknown-elf-objdump', ['-d', images[name]!], { encoding: 'utf8', maxBuffer: 64 << 20 });
      expect(od.status).toBe(0);
      expect(od.stderr).toBe('');
      expect(od.stdout).toMatch(/<_start>:/);
    });
  }

  it('objdump names the wasm functions and disassembles them', () => {
    const od = spawnSync('riscv64-unknown-elf-objdump', ['-d', images['hello']!], { encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(od.stdout).toMatch(/<tests\/toolchain\/programs\/hello\/fib>:\n\s+80[0-9a-f]+:\s+[0-9a-f]{4,8}\s+\S+/);
  });
});

describe.skipIf(!haveGdb)('gdb-multiarch', () => {
  it('loads the symbols of the kernel image (virtual addresses)', () => {
    const g = spawnSync('gdb-multiarch', ['-batch', '-nx', '-ex', 'info address kernel/main/kernel_main', '-ex', 'info symbol _start', images['kernel']!], { encoding: 'utf8' });
    expect(g.status).toBe(0);
    expect(g.stdout).toMatch(/Symbol "kernel\/main\/kernel_main" is at 0xffffffff802[0-9a-f]{5} in a file compiled without debugging/);
    expect(g.stdout).toContain('_start in section .text');
  });
});
