/**
 * Guest tests: the kernel's memory reports (kernel/mm/vmstat.ts, asked for
 * with `report=buddyinfo,zoneinfo,meminfo`) are in Linux's /proc formats and
 * agree with each other and with the boot log.
 *
 * Each report follows a `# cat /proc/<name>` line on the console. The
 * parsers below accept only Linux's exact spacing (each line is also
 * re-rendered with Linux's printf formats and compared), then the numbers
 * are checked against each other:
 *
 *   buddyinfo  Σ nr_free[o]·2^o  ==  zoneinfo "pages free"  ==  nr_free_pages
 *   meminfo    MemFree = Σ free · 4 kB, MemTotal = Σ managed · 4 kB,
 *              HighTotal/HighFree = HighMem's, Low* + High* = Mem*,
 *              MemAvailable = max(0, MemFree − Σ high watermarks · 4 kB)
 *   zoneinfo   min < low < high; spanned ≥ present ≥ managed; protection =
 *              lowmem_reserve (kernel/mm/mmzone.ts); start_pfn / spanned =
 *              the boot log's "Zone ranges:"; pagesets: the online CPUs,
 *              count 0 (the lists are drained before the reports)
 *
 * Machines: 1 and 4 harts, with the default 256 MiB of highmem and without
 * (highmemSize 0); at the end of a boot without self-tests, and after
 * selftest=page_alloc. Bounded by instructions, not wall time.
 */
import { describe, expect, it } from 'vitest';
import { boot, type BootResult, guestImages } from './images.js';

const MAX_INSNS = 400_000_000;
const PAGE_KB = 4;
const MAX_ORDER = 11;
const ZONES = ['DMA', 'Normal', 'HighMem'];
/** kernel/mm/mmzone.ts: sysctl_lowmem_reserve_ratio per zone (0 = none). */
const LOWMEM_RESERVE_RATIO = [256, 32, 0];

const { kernel, firmware, missing } = await guestImages();

// --- parsers -----------------------------------------------------------------------------------

interface BuddyLine { node: number; zone: string; nrFree: number[] }
interface PageSet { cpu: number; count: number; high: number; batch: number }
interface ZoneInfo {
  node: number; zone: string;
  free: number; boost: number; min: number; low: number; high: number;
  spanned: number; present: number; managed: number; cma: number;
  protection: number[];
  /** Present only for a populated zone (present pages ≠ 0), as in Linux. */
  populated?: { nrFreePages: number; pagesets: PageSet[]; nodeUnreclaimable: number; startPfn: number };
}
interface ZoneRange { zone: string; startPfn: number; spanned: number }

/** The lines of the report after `# cat /proc/<name>`, up to the first line that is not that report's. */
function reportLines(lines: string[], name: string, belongs: (l: string) => boolean): string[] {
  const at = lines.indexOf(`# cat /proc/${name}`);
  expect(at, `no "# cat /proc/${name}" line`).toBeGreaterThanOrEqual(0);
  expect(lines.indexOf(`# cat /proc/${name}`, at + 1), `two "# cat /proc/${name}" lines`).toBe(-1);
  const out: string[] = [];
  for (let i = at + 1; i < lines.length && belongs(lines[i]!); i++) out.push(lines[i]!);
  return out;
}

/** Linux's `%*lu`: right-aligned in `w` columns (wider numbers are not cut). */
const num = (v: number, w: number): string => String(v).padStart(w);

/** /proc/buddyinfo: `seq_printf("Node %d, zone %8s ")` then `"%6lu "` per order. */
function parseBuddyinfo(lines: string[]): BuddyLine[] {
  return reportLines(lines, 'buddyinfo', (l) => l.startsWith('Node ')).map((l) => {
    const m = /^Node (\d+), zone +(\S+) ((?: *\d+ ){11})$/.exec(l);
    expect(m, `buddyinfo line: ${JSON.stringify(l)}`).not.toBeNull();
    const node = Number(m![1]);
    const zone = m![2]!;
    const nrFree = m![3]!.trim().split(/ +/).map(Number);
    expect(nrFree).toHaveLength(MAX_ORDER);
    expect(l).toBe(`Node ${node}, zone ${zone.padStart(8)} ${nrFree.map((n) => `${num(n, 6)} `).join('')}`);
    return { node, zone, nrFree };
  });
}

/** /proc/zoneinfo (Linux zoneinfo_show_print, the lines kmemlab has), strictly in order. */
function parseZoneinfo(lines: string[]): ZoneInfo[] {
  const body = reportLines(lines, 'zoneinfo', (l) => l.startsWith('Node ') || l.startsWith('  '));
  let i = 0;
  const take = (re: RegExp, what: string): RegExpExecArray => {
    const l = body[i];
    const m = l === undefined ? null : re.exec(l);
    expect(m, `zoneinfo line ${i + 1}: expected ${what}, got ${JSON.stringify(l)}\n${body.slice(Math.max(0, i - 5), i + 3).join('\n')}`).not.toBeNull();
    i++;
    return m!;
  };
  const value = (label: string): number => Number(take(new RegExp(`^${label.replace(/[()]/g, '\\$&')}(\\d+)$`), JSON.stringify(label))[1]);
  const zones: ZoneInfo[] = [];
  while (i < body.length) {
    const h = take(/^Node (\d+), zone +(\S+)$/, 'a zone header');
    const node = Number(h[1]);
    const zone = h[2]!;
    expect(h[0]).toBe(`Node ${node}, zone ${zone.padStart(8)}`);
    const z: ZoneInfo = {
      node, zone,
      free: value('  pages free     '),
      boost: value('        boost    '),
      min: value('        min      '),
      low: value('        low      '),
      high: value('        high     '),
      spanned: value('        spanned  '),
      present: value('        present  '),
      managed: value('        managed  '),
      cma: value('        cma      '),
      protection: take(/^ {8}protection: \((\d+(?:, \d+)*)\)$/, 'protection')[1]!.split(', ').map(Number),
    };
    if (z.present !== 0) {
      const nrFreePages = value('      nr_free_pages ');
      take(/^  pagesets$/, 'pagesets');
      const pagesets: PageSet[] = [];
      while (body[i] !== undefined && /^ {4}cpu: /.test(body[i]!)) {
        pagesets.push({
          cpu: value('    cpu: '),
          count: value('              count: '),
          high: value('              high:  '),
          batch: value('              batch: '),
        });
      }
      z.populated = {
        nrFreePages, pagesets,
        nodeUnreclaimable: value('  node_unreclaimable:  '),
        startPfn: value('  start_pfn:           '),
      };
    }
    zones.push(z);
  }
  return zones;
}

/** /proc/meminfo: Linux show_val_kb, the label padded to 16 columns and the value to 8, then " kB". */
function parseMeminfo(lines: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const l of reportLines(lines, 'meminfo', (x) => /^[A-Z][A-Za-z()]*:/.test(x))) {
    const m = /^([A-Za-z()]+): +(\d+) kB$/.exec(l);
    expect(m, `meminfo line: ${JSON.stringify(l)}`).not.toBeNull();
    expect(l).toBe(`${`${m![1]}:`.padEnd(16)}${num(Number(m![2]), 8)} kB`);
    out.set(m![1]!, Number(m![2]));
  }
  return out;
}

/** The boot log's "Zone ranges:" block (kernel/mm/init.ts print_zone_ranges). */
function parseZoneRanges(lines: string[]): ZoneRange[] {
  const at = lines.indexOf('Zone ranges:');
  expect(at, 'no "Zone ranges:" in the boot log').toBeGreaterThanOrEqual(0);
  return lines.slice(at + 1, at + 1 + ZONES.length).map((l) => {
    const empty = /^  (\S+) +empty$/.exec(l);
    if (empty) return { zone: empty[1]!, startPfn: 0, spanned: 0 };
    const m = /^  (\S+) +\[mem 0x([0-9a-f]{16})-0x([0-9a-f]{16})\]$/.exec(l);
    expect(m, `zone range line: ${JSON.stringify(l)}`).not.toBeNull();
    const start = BigInt(`0x${m![2]}`);
    const end = BigInt(`0x${m![3]}`) + 1n;
    return { zone: m![1]!, startPfn: Number(start >> 12n), spanned: Number((end - start) >> 12n) };
  });
}

// --- the checks --------------------------------------------------------------------------------

interface Reports { buddy: BuddyLine[]; zones: ZoneInfo[]; mem: Map<string, number>; ranges: ZoneRange[] }

function parseAll(r: BootResult): Reports {
  const lines = r.console.split(/\r?\n/);
  return { buddy: parseBuddyinfo(lines), zones: parseZoneinfo(lines), mem: parseMeminfo(lines), ranges: parseZoneRanges(lines) };
}

function checkConsistent(rep: Reports, harts: number, highmem: boolean): void {
  const { buddy, zones, mem, ranges } = rep;
  // zoneinfo: every zone of node 0, in zone order.
  expect(zones.map((z) => [z.node, z.zone])).toEqual(ZONES.map((n) => [0, n]));
  // buddyinfo: the populated ones, in the same order.
  expect(buddy.map((b) => [b.node, b.zone])).toEqual(zones.filter((z) => z.present !== 0).map((z) => [z.node, z.zone]));

  for (const z of zones) {
    const what = `zone ${z.zone}`;
    expect(z.boost, what).toBe(0);
    expect(z.cma, what).toBe(0);
    expect(z.spanned, what).toBeGreaterThanOrEqual(z.present);
    expect(z.present, what).toBeGreaterThanOrEqual(z.managed);
    expect(z.free, what).toBeLessThanOrEqual(z.managed);
    // Σ nr_free[order] · 2^order == pages free == nr_free_pages
    const b = buddy.find((x) => x.zone === z.zone);
    if (z.present === 0) {
      expect(z.populated, what).toBeUndefined();
      expect(z.free, what).toBe(0);
    } else {
      expect(b!.nrFree.reduce((s, n, o) => s + n * 2 ** o, 0), what).toBe(z.free);
      expect(z.populated!.nrFreePages, what).toBe(z.free);
      expect(z.populated!.nodeUnreclaimable, what).toBe(0);
      // Every online CPU, drained before the report.
      expect(z.populated!.pagesets.map((p) => p.cpu), what).toEqual([...Array(harts).keys()]);
      for (const p of z.populated!.pagesets) {
        expect(p.count, `${what} cpu ${p.cpu}`).toBe(0);
        expect(p.batch, `${what} cpu ${p.cpu}`).toBeGreaterThanOrEqual(1);
        expect(p.high, `${what} cpu ${p.cpu}`).toBeGreaterThanOrEqual(p.batch);
      }
    }
    if (z.managed !== 0) {
      expect(z.min, what).toBeGreaterThan(0);
      expect(z.min, what).toBeLessThan(z.low);
      expect(z.low, what).toBeLessThan(z.high);
    }
    // The boot log's zone ranges.
    const range = ranges.find((x) => x.zone === z.zone)!;
    expect(range, what).toBeDefined();
    expect(z.spanned, what).toBe(range.spanned);
    if (z.populated) expect(z.populated.startPfn, what).toBe(range.startPfn);
  }
  // protection: lowmem_reserve[j] of zone i < j = Σ managed(i+1 … j) / ratio[i], else 0.
  zones.forEach((z, i) => {
    const want = zones.map((_, j) => {
      if (j <= i || LOWMEM_RESERVE_RATIO[i] === 0) return 0;
      const upper = zones.slice(i + 1, j + 1).reduce((s, u) => s + u.managed, 0);
      return Math.floor(upper / LOWMEM_RESERVE_RATIO[i]!);
    });
    expect(z.protection, `protection of ${z.zone}`).toEqual(want);
  });
  // The zones tile the memory: DMA, Normal, HighMem in ascending pfn order, without overlap.
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i]!.spanned !== 0 && ranges[i - 1]!.spanned !== 0) {
      expect(ranges[i]!.startPfn).toBeGreaterThanOrEqual(ranges[i - 1]!.startPfn + ranges[i - 1]!.spanned);
    }
  }

  // meminfo
  expect([...mem.keys()]).toEqual([
    'MemTotal', 'MemFree', 'MemAvailable', 'Buffers', 'Cached', 'SwapCached',
    'HighTotal', 'HighFree', 'LowTotal', 'LowFree', 'SwapTotal', 'SwapFree',
  ]);
  const kb = (k: string): number => mem.get(k)!;
  const sum = (f: (z: ZoneInfo) => number): number => zones.reduce((s, z) => s + f(z), 0);
  const high = zones.find((z) => z.zone === 'HighMem')!;
  expect(kb('MemTotal')).toBe(sum((z) => z.managed) * PAGE_KB);
  expect(kb('MemFree')).toBe(sum((z) => z.free) * PAGE_KB);
  expect(kb('MemAvailable')).toBe(Math.max(0, kb('MemFree') - sum((z) => z.high) * PAGE_KB));
  expect(kb('HighTotal')).toBe(high.managed * PAGE_KB);
  expect(kb('HighFree')).toBe(high.free * PAGE_KB);
  expect(kb('LowTotal') + kb('HighTotal')).toBe(kb('MemTotal'));
  expect(kb('LowFree') + kb('HighFree')).toBe(kb('MemFree'));
  for (const k of ['Buffers', 'Cached', 'SwapCached', 'SwapTotal', 'SwapFree']) expect(kb(k), k).toBe(0);
  expect(kb('MemFree')).toBeLessThanOrEqual(kb('MemTotal'));
  expect(kb('MemFree')).toBeGreaterThan(0);

  // The machine's shape.
  if (highmem) {
    expect(high.spanned).toBe(256 * 256); // the default 256 MiB bank
    expect(kb('HighTotal')).toBeGreaterThan(0);
  } else {
    expect(high.spanned).toBe(0);
    expect(high.populated).toBeUndefined();
    expect(kb('HighTotal')).toBe(0);
    expect(kb('HighFree')).toBe(0);
  }
}

// --- the boots ---------------------------------------------------------------------------------

const REPORTS = 'report=buddyinfo,zoneinfo,meminfo';

interface Case { harts: number; highmem: boolean; selftest?: string }
const cases: Case[] = [
  { harts: 1, highmem: true }, { harts: 4, highmem: true }, { harts: 1, highmem: false }, { harts: 4, highmem: false },
  { harts: 4, highmem: true, selftest: 'page_alloc' }, { harts: 1, highmem: false, selftest: 'page_alloc' },
];
const title = (c: Case): string =>
  `${c.harts} hart${c.harts > 1 ? 's' : ''}, ${c.highmem ? 'with' : 'without'} highmem, ${c.selftest ? `after selftest=${c.selftest}` : 'no self-test'}`;

function run(c: Case): BootResult | undefined {
  if (missing) return undefined;
  const append = c.selftest ? `selftest=${c.selftest} ${REPORTS}` : REPORTS;
  return boot({ kernel: kernel.image!.elf, bios: firmware.image!.elf, harts: c.harts, append, maxInsns: MAX_INSNS, ...(c.highmem ? {} : { highmemSize: 0 }) });
}

const runs = cases.map((c) => ({ c, r: run(c) }));

it('the kernel and our firmware build', () => {
  expect(missing).toBeUndefined();
});

describe.skipIf(missing !== undefined)('memory reports in /proc formats', () => {
  for (const { c, r } of runs) {
    describe(title(c), () => {
      it('powers off cleanly after printing the three reports', () => {
        expect(r!.stop, r!.console.slice(-3000)).toBe('exit');
        expect(r!.exit?.kind, r!.console.slice(-3000)).toBe('pass');
        expect(r!.console).not.toContain('report: no report named');
      });

      it('the reports are in Linux\'s formats and agree with each other and the boot log', () => {
        checkConsistent(parseAll(r!), c.harts, c.highmem);
      });
    });
  }

  it('selftest=page_alloc gives back every page it takes: as many pages in use as without it', () => {
    // Not MemFree itself: selftest= also runs the bootmem cases' early memblock
    // allocations, which change what the buddy allocator manages (MemTotal).
    for (const { c, r } of runs.filter((x) => x.c.selftest === 'page_alloc')) {
      const same = runs.find((x) => x.c.harts === c.harts && x.c.highmem === c.highmem && !x.c.selftest)!;
      const inUse = (rep: Reports): number => rep.mem.get('MemTotal')! - rep.mem.get('MemFree')!;
      expect(inUse(parseAll(r!)), title(c)).toBe(inUse(parseAll(same.r!)));
    }
  });

  it('a subset in the order asked, and an unknown name is reported', () => {
    const r = boot({ kernel: kernel.image!.elf, bios: firmware.image!.elf, harts: 2, append: 'report=meminfo,nosuch,buddyinfo', maxInsns: MAX_INSNS });
    expect(r.exit?.kind).toBe('pass');
    const lines = r.console.split(/\r?\n/);
    const mi = lines.indexOf('# cat /proc/meminfo');
    const bi = lines.indexOf('# cat /proc/buddyinfo');
    expect(mi).toBeGreaterThanOrEqual(0);
    expect(bi).toBeGreaterThan(mi);
    expect(lines).not.toContain('# cat /proc/zoneinfo');
    expect(r.console).toContain("report: no report named 'nosuch' (buddyinfo, zoneinfo, meminfo, slabinfo, vmallocinfo)");
    parseBuddyinfo(lines);
    parseMeminfo(lines);
  });

  it('prints nothing without report=', () => {
    const r = boot({ kernel: kernel.image!.elf, bios: firmware.image!.elf, harts: 1, append: '', maxInsns: MAX_INSNS });
    expect(r.exit?.kind).toBe('pass');
    expect(r.console).not.toContain('# cat /proc/');
  });
});
