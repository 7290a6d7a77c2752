/**
 * The host reads /proc/zoneinfo out of guest memory (emulator/inspect/
 * zoneinfo.ts, through the VMCOREINFO entries of kernel/vmcoreinfo.ts) and
 * renders it byte for byte as the guest prints it (kernel/mm/vmstat.ts
 * print_zoneinfo, `report=zoneinfo`, right before power-off: the allocator
 * is quiescent and its per-CPU lists drained, so the stopped machine holds
 * what was printed). Machines: 1 and 4 harts, with and without highmem,
 * without self-tests and after selftest=page_alloc / vmalloc.
 *
 * Also: `report_each=suite` prints the reports after every KTAP suite; each
 * round is well-formed (every line re-rendered from its numbers, buddyinfo's
 * free pages = zoneinfo's, meminfo's MemFree = Σ pages free), and the last
 * round equals the host's reading (tests/inspect/agreement.test.ts stops on
 * a breakpoint before every round and compares each report at that instant).
 * And bad input to the VMCOREINFO reader:
 * an ELF without the symbol, vmcoreinfo_data = 0, a corrupted block, an
 * entry missing → VmcoreinfoError with a message that says which.
 */
import { describe, expect, it } from 'vitest';
import { boot, guestImages } from '../kernel/images.js';
import { parseElf } from '../../emulator/machine/elf.js';
import { readVmcoreinfo, readVmcoreinfoAt, parseVmcoreinfo, vmci, VmcoreinfoError, VMCOREINFO_BYTES, VMCOREINFO_HEADER, type ReadPhys } from '../../emulator/inspect/vmcoreinfo.js';
import { readZoneinfo, renderZoneinfo } from '../../emulator/inspect/zoneinfo.js';
import { renderBuddyinfo } from '../../emulator/inspect/buddyinfo.js';
import { renderMeminfo } from '../../emulator/inspect/meminfo.js';
import { renderVmallocinfo } from '../../emulator/inspect/vmallocinfo.js';

const MAX_INSNS = 400_000_000;

const { kernel, firmware, missing } = await guestImages();

const ZONEINFO_LINE = /^(Node \d+, zone +\S+|  pages free +\d+|        (boost|min|low|high|spanned|present|managed|cma) +\d+|        protection: \([\d, ]+\)|      nr_free_pages \d+|  pagesets|    cpu: \d+|              (count|high|batch): +-?\d+|  node_unreclaimable: +\d+|  start_pfn: +\d+)$/;
const BUDDYINFO_LINE = /^Node \d+, zone +\S+ (( +\d+) )+$/;
const MEMINFO_LINE = /^[A-Za-z()]+: +\d+ kB$/;
const VMALLOCINFO_LINE = /^0x[0-9a-f]{16}-0x[0-9a-f]{16} +\d+/;

/** Every report `name` on the console: the lines after each "# cat /proc/<name>" that match `line`, each with "\n". */
function guestReports(console: string, name: string, line: RegExp): string[] {
  const lines = console.split(/\r?\n/);
  const out: string[] = [];
  for (let at = lines.indexOf(`# cat /proc/${name}`); at >= 0; at = lines.indexOf(`# cat /proc/${name}`, at + 1)) {
    const r: string[] = [];
    for (let i = at + 1; i < lines.length && line.test(lines[i]!); i++) r.push(`${lines[i]}\n`);
    out.push(r.join(''));
  }
  return out;
}

it('the kernel and our firmware build', () => {
  expect(missing).toBeUndefined();
});

const cases = [
  { harts: 4, selftest: undefined, highmem: true },
  { harts: 1, selftest: undefined, highmem: false },
  { harts: 4, selftest: 'page_alloc', highmem: false },
  { harts: 1, selftest: 'vmalloc', highmem: true },
];

describe.skipIf(missing !== undefined)('the host reads /proc/zoneinfo out of guest memory', () => {
  const elf = missing === undefined ? parseElf(kernel.image!.elf, 'kernel.elf') : undefined;
  for (const c of cases) {
    const title = `${c.harts} harts, ${c.selftest ? `selftest=${c.selftest}` : 'no self-tests'}, ${c.highmem ? 'highmem' : 'no highmem'}`;
    it(`equals the guest's own report byte for byte (${title})`, () => {
      const append = `${c.selftest ? `selftest=${c.selftest} ` : ''}report=zoneinfo`;
      const r = boot({ kernel: kernel.image!.elf, bios: firmware.image!.elf, harts: c.harts, append, maxInsns: MAX_INSNS, ...(c.highmem ? {} : { highmemSize: 0 }) });
      expect(r.exit, r.console.slice(-2000)).toEqual({ kind: 'pass', code: 0, via: 'finisher' });
      const read: ReadPhys = (pa, len) => r.machine.mem.readBytes(pa, len);
      const info = readVmcoreinfo(read, elf!.symbols);
      const guest = guestReports(r.console, 'zoneinfo', ZONEINFO_LINE);
      expect(guest.length).toBe(1);
      expect(renderZoneinfo(read, info)).toBe(guest[0]);
      // Something to compare: every zone, the online CPUs' pagesets in the populated ones.
      const zones = readZoneinfo(read, info);
      expect(zones.map((z) => z.zone)).toEqual(['DMA', 'Normal', 'HighMem']);
      expect(zones[2]!.present > 0n).toBe(c.highmem);
      for (const z of zones.filter((x) => x.present > 0n)) {
        expect(z.pagesets.map((p) => p.cpu)).toEqual([...Array(c.harts).keys()]);
        expect(z.pagesets.every((p) => p.count === 0 && p.high > 0 && p.batch > 0)).toBe(true);
      }
    });
  }

  it('report_each=suite: a well-formed round of reports after every suite, the last one equal to the host\'s reading', () => {
    const suites = ['page_alloc', 'highmem', 'vmalloc']; // in the order the suite table runs them
    const append = `selftest=${suites.join(',')} report=buddyinfo,zoneinfo,meminfo,vmallocinfo report_each=suite`;
    const r = boot({ kernel: kernel.image!.elf, bios: firmware.image!.elf, harts: 4, append, maxInsns: MAX_INSNS });
    expect(r.exit, r.console.slice(-2000)).toEqual({ kind: 'pass', code: 0, via: 'finisher' });
    expect(r.console).not.toContain('report_each:');
    const buddy = guestReports(r.console, 'buddyinfo', BUDDYINFO_LINE);
    const zone = guestReports(r.console, 'zoneinfo', ZONEINFO_LINE);
    const mem = guestReports(r.console, 'meminfo', MEMINFO_LINE);
    const vm = guestReports(r.console, 'vmallocinfo', VMALLOCINFO_LINE);
    // One round per suite, then the final one.
    for (const rep of [buddy, zone, mem, vm]) expect(rep.length).toBe(suites.length + 1);
    // Each round comes after its suite's KTAP result line and before the next suite's.
    const lines = r.console.split(/\r?\n/);
    const results = suites.map((s, i) => lines.findIndex((l) => new RegExp(`^(not )?ok ${i + 1} ${s}$`).test(l)));
    const headers = lines.flatMap((l, i) => (l === '# cat /proc/buddyinfo' ? [i] : []));
    for (let i = 0; i < suites.length; i++) {
      expect(headers[i]!).toBeGreaterThan(results[i]!);
      if (i + 1 < suites.length) expect(headers[i]!).toBeLessThan(results[i + 1]!);
    }
    for (let round = 0; round <= suites.length; round++) {
      const zl = zone[round]!.split('\n').filter((l) => l);
      // Linux's spacing: every zone line is one of print_zoneinfo's formats (the regex), nothing else in between.
      expect(zl.length).toBeGreaterThanOrEqual(3 * 11);
      const free = zl.filter((l) => l.startsWith('  pages free')).map((l) => Number(/\d+$/.exec(l)![0]));
      const nrFree = zl.filter((l) => l.startsWith('      nr_free_pages')).map((l) => Number(/\d+$/.exec(l)![0]));
      expect(free.length).toBe(3);
      // buddyinfo: Σ nr_free[o] · 2^o per populated zone = its "pages free".
      const bl = buddy[round]!.split('\n').filter((l) => l);
      const buddyFree = bl.map((l) => l.trim().split(/ +/).slice(4).reduce((s, n, o) => s + Number(n) * 2 ** o, 0));
      expect(buddyFree).toEqual(nrFree);
      expect(nrFree).toEqual(free.filter((_, i) => i < nrFree.length));
      // meminfo: MemFree = Σ pages free · 4 kB.
      const memFree = Number(/^MemFree: +(\d+) kB$/m.exec(mem[round]!)![1]);
      expect(memFree).toBe(free.reduce((s, n) => s + n, 0) * 4);
      // pagesets drained before each round.
      expect(zl.filter((l) => l.startsWith('              count:')).every((l) => l.endsWith(' 0'))).toBe(true);
    }
    const read: ReadPhys = (pa, len) => r.machine.mem.readBytes(pa, len);
    const info = readVmcoreinfo(read, parseElf(kernel.image!.elf, 'kernel.elf').symbols);
    expect(renderBuddyinfo(read, info)).toBe(buddy[suites.length]);
    expect(renderZoneinfo(read, info)).toBe(zone[suites.length]);
    expect(renderMeminfo(read, info)).toBe(mem[suites.length]);
    expect(renderVmallocinfo(read, info)).toBe(vm[suites.length]);
  });

  it('report_each with an unknown stopping point says so and prints the final reports only', () => {
    const r = boot({ kernel: kernel.image!.elf, bios: firmware.image!.elf, harts: 1, append: 'selftest=page_alloc,gfp report=meminfo report_each=case', maxInsns: MAX_INSNS });
    expect(r.exit?.kind, r.console.slice(-2000)).toBe('pass');
    expect(r.console.split("report_each: 'case' is not a stopping point (suite)").length).toBe(2); // said once
    expect(guestReports(r.console, 'meminfo', MEMINFO_LINE).length).toBe(1);
  });
});

describe.skipIf(missing !== undefined)('bad input to the VMCOREINFO reader', () => {
  const elf = missing === undefined ? parseElf(kernel.image!.elf, 'kernel.elf') : undefined;
  const r = missing === undefined
    ? boot({ kernel: kernel.image!.elf, bios: firmware.image!.elf, harts: 1, append: '', maxInsns: MAX_INSNS })
    : undefined;
  const read: ReadPhys = (pa, len) => r!.machine.mem.readBytes(pa, len);

  it('an ELF without the vmcoreinfo_data symbol', () => {
    const symbols = new Map([...elf!.symbols].filter(([k]) => !k.includes('vmcoreinfo_data')));
    expect(() => readVmcoreinfo(read, symbols)).toThrow(VmcoreinfoError);
    expect(() => readVmcoreinfo(read, symbols)).toThrow('the kernel ELF has no vmcoreinfo_data symbol');
  });

  it('vmcoreinfo_data = 0 (the kernel has not published yet)', () => {
    const sym = elf!.symbols.get('kernel/vmcoreinfo/vmcoreinfo_data')!;
    const pa = Number(sym & 0xffff_ffffn);
    const zeroed: ReadPhys = (p, len) => {
      const b = new Uint8Array(read(p, len));
      for (let i = 0; i < len; i++) if (p + i >= pa && p + i < pa + 8) b[i] = 0;
      return b;
    };
    expect(() => readVmcoreinfo(zeroed, elf!.symbols)).toThrow(/vmcoreinfo_data is 0/);
  });

  it('a corrupted block: bad magic, a length out of range, a malformed line', () => {
    const info = readVmcoreinfo(read, elf!.symbols);
    const patch = (at: number, bytes: number[]): ReadPhys => (p, len) => {
      const b = new Uint8Array(read(p, len));
      bytes.forEach((v, i) => { if (at + i >= p && at + i < p + len) b[at + i - p] = v; });
      return b;
    };
    expect(() => readVmcoreinfoAt(patch(info.pa, [0x58]), info.pa)).toThrow(/no VMCOREINFO header at 0x[0-9a-f]+ \(magic/);
    expect(() => readVmcoreinfoAt(patch(info.pa + 8, [0xff, 0xff, 0, 0]), info.pa)).toThrow('VMCOREINFO text length 65535 is out of range');
    const eq = info.text.indexOf('SIZE(zone)=') + 'SIZE(zone)='.length;
    expect(() => readVmcoreinfoAt(patch(info.pa + 16 + eq, [0x78]), info.pa)).toThrow(/not a decimal number: "SIZE\(zone\)=x/);
  });

  it('an entry the kernel did not publish', () => {
    const info = readVmcoreinfo(read, elf!.symbols);
    const without = parseVmcoreinfo(info.text.split('\n').filter((l) => !l.startsWith('SYMBOL(pcp_pages)')).join('\n'));
    expect(() => renderZoneinfo(read, without)).toThrow('VMCOREINFO has no SYMBOL(pcp_pages)');
    expect(() => vmci.offset(info, 'zone.nonesuch')).toThrow('VMCOREINFO has no OFFSET(zone.nonesuch)');
  });

  it('the block is within its page and holds every entry the inspectors use', () => {
    const info = readVmcoreinfo(read, elf!.symbols);
    expect(info.text.length).toBeLessThan(VMCOREINFO_BYTES - VMCOREINFO_HEADER);
    for (const s of ['node_zones', 'free_area', 'pcp_pages', 'vmap_area_list', 'swapper_pg_dir', 'log_buf', 'printk_state', 'cpu_online_mask', 'cpu_hot_area']) {
      expect(info.symbols.has(s), s).toBe(true);
    }
  });
});
