/**
 * Interop: Debian's OpenSBI fw_jump.elf (firmware nobody here wrote) boots on
 * `kmemlab run` with 1 and 4 harts and hands over to an S-mode payload made
 * with our assembler, which prints through the SBI console and powers off
 * through SBI SRST (exit code 0). The same payload on qemu-system-riscv64
 * -M virt prints the same lines.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assemble } from '../../toolchain/asm.js';
import { PAYLOAD_BASE, sbiPayloadSource } from '../helpers/sbi_payload.js';

const FW_JUMP = '/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf';
const haveSbi = existsSync(FW_JUMP);
const haveQemu = spawnSync('sh', ['-c', 'command -v qemu-system-riscv64']).status === 0;
const CLI = join(__dirname, '../../dist/kmemlab.js');

let payload = '';

beforeAll(() => {
  const build = spawnSync('node', ['scripts/build.mjs'], { cwd: join(__dirname, '../..'), encoding: 'utf8' });
  expect(build.status, build.stderr).toBe(0);
  const dir = mkdtempSync(join(tmpdir(), 'kmemlab-sbi-'));
  payload = join(dir, 'payload.bin');
  writeFileSync(payload, assemble(sbiPayloadSource(), { base: PAYLOAD_BASE }).bytes);
});

const payloadLines = (out: string): string[] => out.split(/\r?\n/).filter((l) => l.startsWith('kmemlab payload:'));

describe.skipIf(!haveSbi)(`OpenSBI fw_jump.elf on kmemlab${haveSbi ? '' : ' (skipped: apt-get install opensbi)'}`, () => {
  it.each([1, 4])('boots to our S-mode payload with %i hart(s) and powers off with exit code 0', (harts) => {
    const r = spawnSync('node', [CLI, 'run', '--bios', FW_JUMP, '--kernel', payload, '--harts', String(harts), '--max-insns', '200000000'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`Platform HART Count\\s*: ${harts}\\b`));
    expect(r.stdout).toMatch(/Domain0 Next Address\s*: 0x0000000080200000/);
    expect(r.stdout).toMatch(/Domain0 Next Mode\s*: S-mode/);
    const lines = payloadLines(r.stdout);
    expect(lines[0]).toMatch(/^kmemlab payload: hello from S-mode on hart \d+$/);
    expect(lines).toContain('kmemlab payload: device tree magic 0xedfe0dd0');
    expect(lines).toContain('kmemlab payload: powering off through SBI SRST');
    expect(lines).not.toContain('kmemlab payload: SRST returned!');
  });

  it('gives the same output and instruction count on two runs (determinism)', () => {
    const args = [CLI, 'run', '--bios', FW_JUMP, '--kernel', payload, '--harts', '4', '--stats'];
    const a = spawnSync('node', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const b = spawnSync('node', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(a.status).toBe(0);
    expect(a.stderr).toMatch(/^kmemlab: \d+ instructions\n$/);
    expect(b.stderr).toBe(a.stderr);
    expect(b.stdout).toBe(a.stdout);
  });
});

describe.skipIf(!haveSbi || !haveQemu)(`the same payload on qemu-system-riscv64 -M virt${haveQemu ? '' : ' (skipped: apt-get install qemu-system-misc)'}`, () => {
  it('prints the same payload lines as kmemlab (1 hart)', () => {
    const ours = spawnSync('node', [CLI, 'run', '--bios', FW_JUMP, '--kernel', payload, '--harts', '1'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const q = spawnSync('qemu-system-riscv64', ['-M', 'virt', '-smp', '1', '-m', '256M', '-nographic', '-monitor', 'none', '-serial', 'stdio', '-bios', FW_JUMP, '-kernel', payload], {
      encoding: 'utf8',
      timeout: 60_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(q.status).toBe(0);
    expect(ours.status).toBe(0);
    const theirs = payloadLines(q.stdout);
    expect(theirs.length).toBeGreaterThanOrEqual(4);
    expect(payloadLines(ours.stdout)).toEqual(theirs);
  });
});

const UBOOT = '/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin';
const haveUboot = existsSync(UBOOT);

describe.skipIf(!haveSbi || !haveUboot)(`U-Boot (S-mode) under OpenSBI on kmemlab${haveUboot ? '' : ' (skipped: apt-get install u-boot-qemu)'}`, () => {
  it('reads our device tree, finds the UART and DRAM, and counts down to autoboot on its timer', () => {
    const r = spawnSync('node', [CLI, 'run', '--bios', FW_JUMP, '--kernel', UBOOT, '--harts', '2', '--max-insns', '250000000'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // U-Boot waits for a key: the instruction limit ends the run, as it must.
    expect(r.status).toBe(124);
    expect(r.stdout).toMatch(/U-Boot 20\d\d/);
    expect(r.stdout).toMatch(/CPU:\s+rv64imac/);
    expect(r.stdout).toMatch(/Model: riscv-virtio,kmemlab/);
    expect(r.stdout).toMatch(/DRAM:\s+256 MiB/);
    expect(r.stdout).toMatch(/In:\s+serial@10000000/);
    // The countdown advances with the CLINT timer (mtime follows instructions).
    expect(r.stdout).toMatch(/Hit any key to stop autoboot:\s+2\W+1/);
  });
});
