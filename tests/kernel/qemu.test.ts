/**
 * Interop: the same kernel image on qemu-system-riscv64 -M virt, behind
 * Debian's OpenSBI and behind our firmware, with 4 harts: the same KTAP
 * results as on kmemlab. QEMU runs in real time (and its harts truly in
 * parallel), so this is opt-in: KMEMLAB_QEMU=1 npx vitest run tests/kernel/qemu.test.ts
 * (needs qemu-system-misc; .ci/run installs it).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildKernel, buildTarget, OPENSBI } from './images.js';
import { ktapCases, parseKtap } from './ktap.js';

const haveQemu = spawnSync('sh', ['-c', 'command -v qemu-system-riscv64']).status === 0;
const enabled = haveQemu && process.env.KMEMLAB_QEMU === '1';

describe.skipIf(!enabled)(`the kernel on QEMU virt${enabled ? '' : ' (skipped: set KMEMLAB_QEMU=1, needs qemu-system-riscv64)'}`, () => {
  it.each(['opensbi', 'kmemlab'])('selftest=all behind %s firmware, 4 harts: every case passes, exit code 0', async (fw) => {
    const kernel = await buildKernel();
    expect(kernel.error).toBeUndefined();
    const dir = mkdtempSync(join(tmpdir(), 'kmemlab-qemu-'));
    const elf = join(dir, 'kernel.elf');
    writeFileSync(elf, kernel.image!.elf);
    let bios = OPENSBI;
    if (fw === 'kmemlab') {
      const firmware = await buildTarget('firmware');
      expect(firmware.error).toBeUndefined();
      bios = join(dir, 'firmware.elf');
      writeFileSync(bios, firmware.image!.elf);
    }
    const r = spawnSync('qemu-system-riscv64', ['-M', 'virt', '-smp', '4', '-m', '256M', '-nographic', '-bios', bios, '-kernel', elf,
      '-append', 'selftest=all'], { encoding: 'latin1', timeout: 120_000 });
    const doc = parseKtap(r.stdout);
    expect(doc.errors, r.stdout.slice(-3000)).toEqual([]);
    const failed = ktapCases(doc).filter((c) => !c.test.ok).map((c) => `${c.suite}.${c.test.name}`);
    expect(failed).toEqual([]);
    expect(r.status).toBe(0);
  }, 300_000);
});
