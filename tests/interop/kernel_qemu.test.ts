/**
 * Interop: the kernel on qemu-system-riscv64 -M virt -smp 4, behind Debian's
 * OpenSBI and behind our firmware, gives the same KTAP results as on
 * kmemlab (4 harts, our firmware): the same suites, cases, verdicts and skip
 * reasons, every case passing, exit code 0 — except the `dma` suite, whose
 * engine is kmemlab's own (QEMU virt has none): there every case must SKIP
 * with the reason the driver gives. QEMU gets 1280 MiB, so that the RAM
 * beyond the 1 GiB linear map is ZONE_HIGHMEM and the highmem cases run.
 *
 * QEMU runs its harts truly in parallel and in real time, so the kernel's
 * self-tests that involve time wait for progress rather than for a fixed
 * span of wall-clock time (a ticket lock on a host with fewer cores than
 * harts hands over only when the host runs the right virtual CPU).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { boot, buildKernel, buildTarget, openSbi, OPENSBI, type Built } from '../kernel/images.js';
import { ktapCases, parseKtap, type KtapDocument } from '../kernel/ktap.js';

const haveQemu = spawnSync('sh', ['-c', 'command -v qemu-system-riscv64']).status === 0;
const haveSbi = openSbi() !== undefined;

/** QEMU's virt board has no DMA engine: its suite, and the ioremap cases that map its registers, skip there. */
const noEngine = /^ioremap\.(ioremap_dma_registers|ioremap_offset|dma_driver_uses_ioremap) /;

/** One line per case: "suite.case ok|not ok|SKIP reason". */
function verdicts(doc: KtapDocument): string[] {
  return ktapCases(doc).map(({ suite, test }) =>
    `${suite}.${test.name} ${test.directive === 'SKIP' ? `SKIP ${test.reason ?? ''}` : test.ok ? 'ok' : 'not ok'}`);
}

describe.skipIf(!haveQemu || !haveSbi)(
  `the kernel on QEMU virt${haveQemu && haveSbi ? '' : ' (skipped: apt-get install qemu-system-misc opensbi)'}`, () => {
    let kernel: Built;
    let firmware: Built;
    let dir = '';
    let reference: string[] = [];

    beforeAll(async () => {
      kernel = await buildKernel();
      firmware = await buildTarget('firmware');
      dir = mkdtempSync(join(tmpdir(), 'kmemlab-qemu-'));
      if (kernel.image) writeFileSync(join(dir, 'kernel.elf'), kernel.image.elf);
      if (firmware.image) writeFileSync(join(dir, 'firmware.elf'), firmware.image.elf);
      if (kernel.image && firmware.image) {
        const r = boot({ kernel: kernel.image.elf, bios: firmware.image.elf, harts: 4, append: 'selftest=all', maxInsns: 200_000_000 });
        reference = verdicts(parseKtap(r.console)).map((v) =>
          v.startsWith('dma.') ? v.replace(/ ok$/, ' SKIP no kmemlab,dma-engine in the device tree')
            : noEngine.test(v) ? v.replace(/ ok$/, ' SKIP no DMA engine') : v);
      }
    });

    it.each(['opensbi', 'kmemlab'])('selftest=all behind %s firmware, 4 harts: the KTAP results of kmemlab, exit code 0', (fw) => {
      expect(kernel.error).toBeUndefined();
      expect(firmware.error).toBeUndefined();
      expect(reference.length).toBeGreaterThan(30);
      expect(reference.filter((v) => !v.endsWith(' ok') && !v.startsWith('dma.') && !noEngine.test(v))).toEqual([]);
      const bios = fw === 'kmemlab' ? join(dir, 'firmware.elf') : OPENSBI;
      const r = spawnSync('qemu-system-riscv64', ['-M', 'virt', '-smp', '4', '-m', '1280M', '-nographic', '-bios', bios,
        '-kernel', join(dir, 'kernel.elf'), '-append', 'selftest=all'], { encoding: 'latin1', timeout: 240_000 });
      const doc = parseKtap(r.stdout);
      expect(doc.errors, r.stdout.slice(-3000)).toEqual([]);
      expect(verdicts(doc), r.stdout.slice(-3000)).toEqual(reference);
      expect(r.status, r.stdout.slice(-3000)).toBe(0);
    }, 300_000);
  });
