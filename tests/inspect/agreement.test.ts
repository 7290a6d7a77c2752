/**
 * Agreement at several instants: the host's inspectors read the same
 * numbers the guest prints about itself, not only at power-off but at
 * stopping points during the self-tests. With `report_each=suite` the kernel
 * prints its /proc reports after every KTAP suite (kernel/mm/vmstat.ts
 * mm_reports_after_suite); the debugger (emulator/debug/debugger.ts) stops
 * where each report starts, the host renders the same report out of guest
 * memory at that instant, the machine goes on, and the guest's print that
 * follows must be the host's text byte for byte.
 *
 * The stopping points are print_header(name) (kernel/mm/vmstat.ts), which
 * print_buddyinfo, _zoneinfo, _meminfo and _slabinfo call to print
 * "# cat /proc/<name>" (some of those have one caller each, so the
 * optimizer inlines them and they have no symbol; a0 holds the name, an
 * AssemblyScript string), and print_vmallocinfo, which prints its own.
 *
 *   report              host inspector
 *   /proc/buddyinfo     inspect/buddyinfo.ts
 *   /proc/zoneinfo      inspect/zoneinfo.ts
 *   /proc/meminfo       inspect/meminfo.ts
 *   /proc/slabinfo      inspect/slabinfo.ts
 *   /proc/vmallocinfo   inspect/vmallocinfo.ts
 *
 * The reports run on one CPU while the others idle between suites, and the
 * print functions read without stopping the others (as Linux's seq_files
 * do), so this holds as long as no other CPU allocates in between — which
 * is what the comparison checks.
 */
import { describe, expect, it } from 'vitest';
import { guestImages } from '../kernel/images.js';
import { guestBlocks } from './reports.js';
import { parseElf } from '../../emulator/machine/elf.js';
import { Machine } from '../../emulator/machine/machine.js';
import { Debugger } from '../../emulator/debug/debugger.js';
import { linearPa, readVmcoreinfo, type ReadPhys, type Vmcoreinfo } from '../../emulator/inspect/vmcoreinfo.js';
import { readAsString, renderBuddyinfo } from '../../emulator/inspect/buddyinfo.js';
import { renderZoneinfo } from '../../emulator/inspect/zoneinfo.js';
import { renderMeminfo } from '../../emulator/inspect/meminfo.js';
import { renderSlabinfo } from '../../emulator/inspect/slabinfo.js';
import { renderVmallocinfo } from '../../emulator/inspect/vmallocinfo.js';

const MAX_INSNS = 1_500_000_000;

const { kernel, firmware, missing } = await guestImages();

type Render = (read: ReadPhys, info: Vmcoreinfo) => string;
const REPORTS: { report: string; render: Render }[] = [
  { report: 'buddyinfo', render: renderBuddyinfo },
  { report: 'zoneinfo', render: renderZoneinfo },
  { report: 'meminfo', render: renderMeminfo },
  { report: 'slabinfo', render: renderSlabinfo },
  { report: 'vmallocinfo', render: renderVmallocinfo },
];

function fnAddress(symbols: ReadonlyMap<string, bigint>, fn: string): bigint {
  const hits = [...symbols].filter(([n]) => n.endsWith(`/${fn}`));
  expect(hits.map(([n]) => n), `one kernel symbol ends in /${fn}`).toHaveLength(1);
  return hits[0]![1];
}

const cases = [
  { harts: 4, selftest: 'page_alloc,slab,kmalloc,vmalloc,percpu,mempool' },
  { harts: 1, selftest: 'gfp,highmem,slab_stress,ioremap' },
];

it('the kernel and our firmware build', () => {
  expect(missing).toBeUndefined();
});

describe.skipIf(missing !== undefined)('host and guest agree at every stop', () => {
  const elf = missing === undefined ? parseElf(kernel.image!.elf, 'kernel.elf') : undefined;
  for (const c of cases) {
    it(`${c.harts} harts, selftest=${c.selftest}: stopped on each print_*, the host's text is the guest's next print`, () => {
      let out = '';
      const m = new Machine({
        harts: c.harts,
        bios: { name: 'firmware', bytes: firmware.image!.elf },
        kernel: { name: 'kernel.elf', bytes: kernel.image!.elf },
        append: `selftest=${c.selftest} report=${REPORTS.map((r) => r.report).join(',')} report_each=suite`,
        output: (b) => (out += String.fromCharCode(b)),
      });
      const d = new Debugger(m);
      const read: ReadPhys = (pa, len) => m.mem.readBytes(pa, len);
      const header = d.addBreakpoint(fnAddress(elf!.symbols, 'print_header'));
      d.addBreakpoint(fnAddress(elf!.symbols, 'print_vmallocinfo'));
      // Each stop: which report, what the host read there, and where the console was.
      const stops: { report: string; host: string; pos: number }[] = [];
      let info: Vmcoreinfo | undefined;
      for (;;) {
        const e = d.cont(MAX_INSNS - m.insns);
        if (e.reason !== 'breakpoint') {
          expect(e.reason, out.slice(-3000)).toBe('exit');
          break;
        }
        // print_header's a0: the report's name, an AssemblyScript string (UTF-16LE, byte length in the u32 before it).
        const name = e.breakpoint === header ? readAsString(read, linearPa(d.hart(e.hart).getReg(10))) : 'vmallocinfo';
        const r = REPORTS.find((x) => x.report === name);
        expect(r, `a report named ${name}`).toBeDefined();
        info ??= readVmcoreinfo(read, elf!.symbols);
        stops.push({ report: name, host: r!.render(read, info), pos: out.length });
      }
      expect(m.exit, out.slice(-2000)).toEqual({ kind: 'pass', code: 0, via: 'finisher' });
      const suites = c.selftest.split(',').length;
      const compared = new Map<string, number>(REPORTS.map((r) => [r.report, 0]));
      stops.forEach((stop, i) => {
        // What the console got from this stop to the next stop of the same report. A stop that prints
        // nothing there is a quiet call (the vmalloc suite checks print_vmallocinfo with the console off).
        const next = stops.slice(i + 1).find((x) => x.report === stop.report);
        const printed = guestBlocks(out.slice(stop.pos, next?.pos ?? out.length), stop.report);
        if (printed.length === 0) return;
        expect(printed.length, `${stop.report} after stop ${i}`).toBe(1);
        expect(printed[0]!.length, `${stop.report} at stop ${i} is not empty`).toBeGreaterThan(0);
        expect(stop.host, `${stop.report} at stop ${i}`).toBe(printed[0]);
        compared.set(stop.report, compared.get(stop.report)! + 1);
      });
      // After every suite, and once more before power-off; every report the guest printed was compared.
      for (const r of REPORTS) {
        expect(compared.get(r.report), r.report).toBe(suites + 1);
        expect(guestBlocks(out, r.report).length, r.report).toBe(suites + 1);
      }
      // The rounds differ (the suites leave the allocators in different states): the comparison is not vacuous.
      expect(new Set(guestBlocks(out, 'slabinfo')).size).toBeGreaterThan(1);
    });
  }
});
