/**
 * Guest tests: the kernel boots on the emulated machine behind Debian's
 * OpenSBI and behind our own firmware, with 1 and 4 harts, runs its
 * self-tests (`selftest=all`), and powers off. Each guest KTAP case becomes
 * one vitest case; the run itself must end with exit code 0 and a complete
 * report. Then the failure paths: a deliberately failing case, a panic, an
 * oops, a hang stopped by the instruction bound.
 *
 * Everything is bounded by instruction counts, never by wall time. The
 * images are built once, at collection time (the guest cases are only known
 * after the boots).
 */
import { describe, expect, it } from 'vitest';
import { boot, buildKernel, buildTarget, callTrace, openSbi, symbolize, type BootResult } from './images.js';
import { ktapCases, parseKtap } from './ktap.js';
import { scanVmcoreinfo } from '../../emulator/inspect/vmcoreinfo.js';
import { readLogRecords } from '../../emulator/inspect/dmesg.js';
import { KERNEL_MEMORY_BASE, KERNEL_MEMORY_END } from '../../toolchain/link.js';

const MAX_INSNS = 400_000_000;
const MiB = 1 << 20;

const kernel = await buildKernel();
const firmware = await buildTarget('firmware');
const opensbi = openSbi();

type Fw = 'opensbi' | 'kmemlab';
const bios = (fw: Fw): Uint8Array | undefined => (fw === 'opensbi' ? opensbi : firmware.image?.elf);
const missing = (fw: Fw): string | undefined =>
  !kernel.image ? `the kernel did not build: ${kernel.error}`
    : fw === 'opensbi' && !opensbi ? 'no OpenSBI (apt-get install opensbi)'
      : fw === 'kmemlab' && !firmware.image ? `our firmware did not build: ${firmware.error}`
        : undefined;

function run(fw: Fw, harts: number, append: string, extra: { dramSize?: number; highmemSize?: number } = {}): BootResult | undefined {
  if (missing(fw)) return undefined;
  return boot({ kernel: kernel.image!.elf, bios: bios(fw), harts, append, maxInsns: MAX_INSNS, ...extra });
}

it('the kernel builds', () => {
  expect(kernel.error).toBeUndefined();
});

const configs: { fw: Fw; harts: number }[] = [
  { fw: 'opensbi', harts: 1 }, { fw: 'opensbi', harts: 4 }, { fw: 'kmemlab', harts: 1 }, { fw: 'kmemlab', harts: 4 },
];

for (const { fw, harts } of configs) {
  const why = missing(fw);
  const append = `selftest=all fdt.expect_mem=${256 * MiB} fdt.expect_highmem=${256 * MiB} fdt.expect_harts=${harts}`;
  const r = why ? undefined : run(fw, harts, append);
  const doc = r ? parseKtap(r.console) : undefined;

  describe.skipIf(why !== undefined)(`selftest=all on ${fw}, ${harts} hart${harts > 1 ? 's' : ''}${why ? ` (skipped: ${why})` : ''}`, () => {
    it('powers off with exit code 0 after a complete KTAP report', () => {
      expect(r!.stop, r!.console.slice(-3000)).toBe('exit');
      expect(doc!.errors, r!.console.slice(-3000)).toEqual([]);
      expect(r!.exit).toEqual({ kind: 'pass', code: 0, via: 'finisher' });
      expect(doc!.tests.length).toBeGreaterThanOrEqual(6);
      for (const suite of ['fdt', 'printk', 'spinlock', 'ipi', 'timer', 'smp']) expect(doc!.tests.map((t) => t.name)).toContain(suite);
      console.log(`kernel selftest=all, ${fw}, ${harts} hart(s): ${r!.insns} instructions, ${r!.ms.toFixed(0)} ms`);
    });

    for (const { suite, test } of doc ? ktapCases(doc) : []) {
      it(`${suite}: ${test.name}`, (ctx) => {
        if (test.directive === 'SKIP') {
          // Only the cases that need several CPUs may skip, and only on one hart.
          expect(harts).toBe(1);
          ctx.skip(test.reason);
        }
        expect(test.ok, test.diagnostics.join('\n')).toBe(true);
      });
    }
  });
}

describe.skipIf(missing('opensbi') !== undefined)('failure paths (behind OpenSBI, 2 harts)', () => {
  it('selftest_fail=1 gives not ok with a KUnit report naming file:line, and a non-zero exit', () => {
    const r = run('opensbi', 2, 'selftest=printk selftest_fail=1')!;
    expect(r.stop).toBe('exit');
    expect(r.exit?.kind).toBe('fail');
    expect(r.exit?.code).not.toBe(0);
    const doc = parseKtap(r.console);
    expect(doc.errors).toEqual([]);
    expect(doc.tests.map((t) => [t.name, t.ok])).toEqual([['printk', true], ['selftest_fail', false]]);
    const failing = doc.tests[1]!.subtests[0]!;
    expect(failing).toMatchObject({ name: 'deliberate_failure', ok: false });
    expect(failing.diagnostics[0]).toMatch(/^# deliberate_failure: EXPECTATION FAILED at kernel\/test\/suites\.ts:\d+$/);
    expect(failing.diagnostics.slice(1)).toEqual(['Expected 1 + 1 == 3, but', '1 + 1 == 2 (0x2)']);
  });

  it('an unknown suite name is an error, not a silent pass', () => {
    const r = run('opensbi', 1, 'selftest=fdt,no_such_suite')!;
    expect(r.console).toContain("selftest: no suite named 'no_such_suite'");
    expect(r.exit?.kind).toBe('fail');
  });

  it('panic_on_boot=1 prints the panic with a backtrace and exits non-zero', () => {
    const r = run('opensbi', 2, 'panic_on_boot=1')!;
    expect(r.stop).toBe('exit');
    expect(r.exit?.kind).toBe('fail');
    expect(r.console).toMatch(/Kernel panic - not syncing: panic_on_boot requested on the command line\r?\n/);
    expect(r.console).toContain('---[ end Kernel panic - not syncing: panic_on_boot requested on the command line ]---');
    const trace = callTrace(r.console).map((pc) => symbolize(kernel.image!, pc));
    expect(trace.join('\n')).toMatch(/kernel\/init\/main\.ts/);
  });

  it('bootmem_fail=1: an alloc_bootmem that cannot be met says so and panics', () => {
    const r = run('opensbi', 1, 'selftest=bootmem bootmem_fail=1')!;
    expect(r.stop).toBe('exit');
    expect(r.exit?.kind).toBe('fail');
    expect(r.console).toMatch(/bootmem alloc of 1099511627776 bytes failed!\r?\nKernel panic - not syncing: Out of memory\r?\n/);
    const trace = callTrace(r.console).map((pc) => symbolize(kernel.image!, pc));
    expect(trace.join('\n')).toMatch(/kernel\/mm\/memblock\.ts/);
  });

  it('oops_on_boot=1 prints an oops with every register and the faulting place, then panics', () => {
    const r = run('opensbi', 2, 'oops_on_boot=1')!;
    expect(r.exit?.kind).toBe('fail');
    expect(r.console).toContain('Unable to handle kernel NULL pointer dereference at virtual address 0000000000000008');
    const oops = /Oops: store \(or AMO\) page fault at ([0-9a-f]{16}) stval 0000000000000008 \[#1\]/.exec(r.console);
    expect(oops).not.toBeNull();
    expect(r.console).toMatch(/epc : [0-9a-f]{16} ra : [0-9a-f]{16} sp : [0-9a-f]{16}/);
    expect(r.console).toMatch(/status: [0-9a-f]{16} badaddr: 0000000000000008 cause: 000000000000000f/);
    expect(symbolize(kernel.image!, BigInt(`0x${oops![1]}`))).toMatch(/kernel\/init\/main\.ts:\d+/);
    expect(r.console).toContain('Kernel panic - not syncing: Fatal exception');
  });

  it('a guest that hangs is stopped by the instruction bound', () => {
    const r = boot({ kernel: kernel.image!.elf, bios: opensbi, harts: 1, append: 'hang_on_boot=1', maxInsns: 30_000_000 });
    expect(r.stop).toBe('limit');
    expect(r.exit).toBeUndefined();
    expect(r.console).toContain('hang_on_boot: spinning with interrupts off');
  });
});

describe.skipIf(missing('kmemlab') !== undefined)('other machine shapes (our firmware)', () => {
  it('boots with no highmem and 64 MiB, 2 harts', () => {
    const r = run('kmemlab', 2, `selftest=fdt,smp fdt.expect_mem=${64 * MiB} fdt.expect_highmem=0 fdt.expect_harts=2`, { dramSize: 64 * MiB, highmemSize: 0 })!;
    const doc = parseKtap(r.console);
    expect(doc.errors).toEqual([]);
    expect(doc.tests.every((t) => t.ok), r.console).toBe(true);
    expect(r.exit?.kind).toBe('pass');
  });

  it('maxcpus=2 on 4 harts brings up 2 CPUs', () => {
    const r = run('kmemlab', 4, 'selftest=smp maxcpus=2')!;
    expect(r.console).toContain('smp: Brought up 1 node, 2 CPUs');
    expect(parseKtap(r.console).tests.every((t) => t.ok)).toBe(true);
    expect(r.exit?.kind).toBe('pass');
  });

  it('without selftest= the kernel boots, says so and powers off with exit code 0', () => {
    const r = run('kmemlab', 4, '')!;
    expect(r.console).toContain('no selftest= on the command line, powering off');
    expect(r.exit).toEqual({ kind: 'pass', code: 0, via: 'finisher' });
  });
});

describe.skipIf(missing('kmemlab') !== undefined)('the host reads the kernel log out of guest memory', () => {
  it('finds VMCOREINFO and walks the printk ring: every console line is a record, debug records too', () => {
    const r = run('kmemlab', 2, 'selftest=printk,fdt')!;
    expect(r.exit?.kind).toBe('pass');
    const read = (pa: number, len: number): Uint8Array => r.machine.mem.readBytes(pa, len);
    const info = scanVmcoreinfo(read, KERNEL_MEMORY_BASE, KERNEL_MEMORY_END)!;
    expect(info).toBeDefined();
    expect(info.strings.get('OSRELEASE')).toBe('0.1.0');
    expect(info.numbers.get('PAGESIZE')).toBe(4096n);
    expect(info.sizes.get('printk_log')).toBe(24);
    const log = readLogRecords(read, info);
    // The console shows the records below console_loglevel (7), in order, from the banner on.
    const consoleLines = r.console.split(/\r?\n/);
    const from = consoleLines.findIndex((l) => l.startsWith('kmemlab version'));
    const shown = consoleLines.slice(from).filter((l) => l !== '');
    expect(log.filter((rec) => rec.level < 7).map((rec) => rec.text)).toEqual(shown);
    // The printk suite's KERN_DEBUG records are in the ring but were never printed.
    expect(log.some((rec) => rec.level === 7 && rec.text === 'printk_test: record 42')).toBe(true);
    expect(shown).not.toContain('printk_test: record 42');
    // Timestamps never go backwards; CPU numbers are those of online CPUs.
    for (let i = 1; i < log.length; i++) expect(log[i]!.tsNsec).toBeGreaterThanOrEqual(log[i - 1]!.tsNsec);
    expect(new Set(log.map((rec) => rec.cpu)).size).toBeLessThanOrEqual(2);
  });
});
