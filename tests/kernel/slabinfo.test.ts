/**
 * Guest tests: `/proc/slabinfo` (kernel/mm/slub.ts print_slabinfo_body,
 * asked for with `report=slabinfo`) is in Linux's format, version 2.1, and
 * its numbers hold together.
 *
 * The report follows a `# cat /proc/slabinfo` line. Every row is parsed and
 * re-rendered with Linux's printf (mm/slab_common.c cache_show:
 * "%-17s %6lu %6lu %6u %4u %4d : tunables %4u %4u %4u : slabdata %6lu %6lu %6lu")
 * and must come out byte for byte; then:
 *
 *   active_objs ≤ num_objs = num_slabs · objperslab, active_slabs = num_slabs
 *   objsize ≥ the size the cache was made for (kmalloc-N, dma-kmalloc-N, the
 *     kmem_cache descriptor), objsize · objperslab ≤ the slab's bytes
 *   tunables and sharedavail 0 (SLUB)
 *   the caches of kmem_cache_init, newest first: dma-kmalloc-8192 … kmalloc-8,
 *     kmem_cache last; nothing the self-tests created is left over (their
 *     caches are all destroyed)
 *   on 4 harts, the kmalloc caches' objsize / objperslab / pagesperslab are
 *     those of Linux 6.1 on riscv64 (the reference sample, 4 harts)
 *
 * Machines: 1 and 4 harts, at the end of a boot without self-tests and after
 * selftest=slab,kmalloc; one with slub_debug on the kmalloc-64 cache (bigger
 * objects, same invariants). Bounded by instructions, not wall time.
 */
import { describe, expect, it } from 'vitest';
import { boot, type BootResult, guestImages } from './images.js';

const MAX_INSNS = 400_000_000;
const PAGE_SIZE = 4096;

const { kernel, firmware, missing } = await guestImages();

const HEADER = '# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> '
  + '<sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>';

interface Row {
  name: string; activeObjs: number; numObjs: number; objSize: number; objPerSlab: number; pagesPerSlab: number;
  limit: number; batchCount: number; sharedFactor: number; activeSlabs: number; numSlabs: number; sharedAvail: number;
}

/** C's %-Ns / %Nu: padded to N columns, never cut. */
const left = (s: string, w: number): string => s.padEnd(w);
const right = (v: number, w: number): string => String(v).padStart(w);

/** Linux cache_show's three seq_printf calls, joined. */
function render(r: Row): string {
  return `${left(r.name, 17)} ${right(r.activeObjs, 6)} ${right(r.numObjs, 6)} ${right(r.objSize, 6)} ${right(r.objPerSlab, 4)} ${right(r.pagesPerSlab, 4)}`
    + ` : tunables ${right(r.limit, 4)} ${right(r.batchCount, 4)} ${right(r.sharedFactor, 4)}`
    + ` : slabdata ${right(r.activeSlabs, 6)} ${right(r.numSlabs, 6)} ${right(r.sharedAvail, 6)}`;
}

const ROW = /^(\S+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) : tunables +(\d+) +(\d+) +(\d+) : slabdata +(\d+) +(\d+) +(\d+)$/;

function parseRow(l: string): Row {
  const m = ROW.exec(l);
  expect(m, `slabinfo row: ${JSON.stringify(l)}`).not.toBeNull();
  const n = m!.slice(2).map(Number);
  const row: Row = {
    name: m![1]!, activeObjs: n[0]!, numObjs: n[1]!, objSize: n[2]!, objPerSlab: n[3]!, pagesPerSlab: n[4]!,
    limit: n[5]!, batchCount: n[6]!, sharedFactor: n[7]!, activeSlabs: n[8]!, numSlabs: n[9]!, sharedAvail: n[10]!,
  };
  expect(render(row), 'the row re-rendered with Linux\'s printf').toBe(l);
  return row;
}

/** The rows after `# cat /proc/slabinfo`, its version and header lines checked. */
function parseSlabinfo(console: string): Row[] {
  const lines = console.split(/\r?\n/);
  const at = lines.indexOf('# cat /proc/slabinfo');
  expect(at, 'no "# cat /proc/slabinfo" line').toBeGreaterThanOrEqual(0);
  expect(lines.indexOf('# cat /proc/slabinfo', at + 1), 'two reports').toBe(-1);
  expect(lines[at + 1]).toBe('slabinfo - version: 2.1');
  expect(lines[at + 2]).toBe(HEADER);
  const rows: Row[] = [];
  for (let i = at + 3; i < lines.length && ROW.test(lines[i]!); i++) rows.push(parseRow(lines[i]!));
  return rows;
}

/** The size a cache was made for, when its name says it. */
function requested(name: string, descriptorSize: number): number | undefined {
  const m = /^(?:dma-)?kmalloc-(\d+)$/.exec(name);
  if (m) return Number(m[1]);
  if (name === 'kmem_cache') return descriptorSize;
  return undefined;
}

/** kmem_cache_init's caches in creation order (Linux create_kmalloc_caches: 96 after 64, 192 after 128). */
const KMALLOC_ORDER = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192];
const EXPECTED_NAMES = ['kmem_cache', ...KMALLOC_ORDER.map((n) => `kmalloc-${n}`), ...KMALLOC_ORDER.map((n) => `dma-kmalloc-${n}`)].reverse();

function checkRows(rows: Row[], harts: number): void {
  // The descriptor: header, 4 nodes, one 64-byte entry per CPU (kernel/mm/slub.ts kmem_cache_struct_size).
  const descriptor = 128 + 4 * 64 + 64 * harts;
  expect(rows.map((r) => r.name)).toEqual(EXPECTED_NAMES);
  for (const r of rows) {
    const what = r.name;
    expect(r.activeObjs, what).toBeLessThanOrEqual(r.numObjs);
    expect(r.numObjs, what).toBe(r.numSlabs * r.objPerSlab);
    expect(r.activeSlabs, what).toBe(r.numSlabs);
    expect([r.limit, r.batchCount, r.sharedFactor, r.sharedAvail], what).toEqual([0, 0, 0, 0]);
    expect([1, 2, 4, 8], what).toContain(r.pagesPerSlab);
    expect(r.objPerSlab, what).toBeGreaterThanOrEqual(1);
    expect(r.objSize * r.objPerSlab, what).toBeLessThanOrEqual(r.pagesPerSlab * PAGE_SIZE);
    // No room for one more object: the slab holds as many as fit.
    expect(r.objSize * (r.objPerSlab + 1), what).toBeGreaterThan(r.pagesPerSlab * PAGE_SIZE);
    expect(r.objSize % 8, what).toBe(0);
    const want = requested(r.name, descriptor);
    expect(want, what).toBeDefined();
    expect(r.objSize, what).toBeGreaterThanOrEqual(want!);
  }
  // The descriptor cache holds one object per cache at least (the list itself).
  const kc = rows.find((r) => r.name === 'kmem_cache')!;
  expect(kc.activeObjs).toBeGreaterThanOrEqual(rows.length);
  expect(kc.objSize).toBe(descriptor + ((64 - (descriptor % 64)) % 64)); // SLAB_HWCACHE_ALIGN
}

/** Linux 6.1 on riscv64, 4 harts (the reference sample's /proc/slabinfo): objsize, objperslab, pagesperslab. */
const LINUX_4_HARTS: Record<number, [number, number, number]> = {
  8192: [8192, 4, 8], 4096: [4096, 8, 8], 2048: [2048, 16, 8], 1024: [1024, 16, 4], 512: [512, 16, 2], 256: [256, 16, 1],
  192: [192, 21, 1], 128: [128, 32, 1], 96: [96, 42, 1], 64: [64, 64, 1], 32: [32, 128, 1], 16: [16, 256, 1], 8: [8, 512, 1],
};

interface Case { harts: number; selftest?: string; extra?: string }
const cases: Case[] = [
  { harts: 1 }, { harts: 4 }, { harts: 1, selftest: 'slab,kmalloc' }, { harts: 4, selftest: 'slab,kmalloc' },
];
const title = (c: Case): string => `${c.harts} hart${c.harts > 1 ? 's' : ''}, ${c.selftest ? `after selftest=${c.selftest}` : 'no self-test'}`;

function run(c: Case): BootResult | undefined {
  if (missing) return undefined;
  const append = [c.selftest ? `selftest=${c.selftest}` : '', 'report=slabinfo', c.extra ?? ''].filter((x) => x).join(' ');
  return boot({ kernel: kernel.image!.elf, bios: firmware.image!.elf, harts: c.harts, append, maxInsns: MAX_INSNS });
}

const runs = cases.map((c) => ({ c, r: run(c) }));

it('the kernel and our firmware build', () => {
  expect(missing).toBeUndefined();
});

describe.skipIf(missing !== undefined)('/proc/slabinfo', () => {
  for (const { c, r } of runs) {
    describe(title(c), () => {
      it('powers off cleanly after the report', () => {
        expect(r!.stop, r!.console.slice(-3000)).toBe('exit');
        expect(r!.exit?.kind, r!.console.slice(-3000)).toBe('pass');
        expect(r!.console).toContain(`SLUB: HWalign=64, Order=0-3, MinObjects=0, CPUs=${c.harts}, Nodes=1`);
      });

      it('is in Linux\'s format, version 2.1, and its numbers agree', () => {
        checkRows(parseSlabinfo(r!.console), c.harts);
      });

      if (c.harts === 4) {
        it('the kmalloc caches are laid out as Linux 6.1 lays them out on 4 harts', () => {
          for (const row of parseSlabinfo(r!.console)) {
            const m = /^(?:dma-)?kmalloc-(\d+)$/.exec(row.name);
            if (!m) continue;
            expect([row.objSize, row.objPerSlab, row.pagesPerSlab], row.name).toEqual(LINUX_4_HARTS[Number(m[1])]);
          }
        });
      }
    });
  }

  it('slub_debug on one cache: bigger objects there, the same invariants', () => {
    const c: Case = { harts: 2, extra: 'slub_debug=FZPU,kmalloc-64' };
    const r = run(c)!;
    expect(r.exit?.kind, r.console.slice(-3000)).toBe('pass');
    const rows = parseSlabinfo(r.console);
    checkRows(rows, 2);
    const k64 = rows.find((x) => x.name === 'kmalloc-64')!;
    const k32 = rows.find((x) => x.name === 'kmalloc-32')!;
    // 8 left red zone + 64 + 8 right red zone + 8 free pointer + 2 · 56 tracks + 8 padding = 208.
    expect(k64.objSize).toBe(208);
    expect(k32.objSize).toBe(32);
  });

  it('report=slabinfo among the others, in the order asked', () => {
    const r = boot({ kernel: kernel.image!.elf, bios: firmware.image!.elf, harts: 2, append: 'report=meminfo,slabinfo,buddyinfo', maxInsns: MAX_INSNS });
    expect(r.exit?.kind).toBe('pass');
    const lines = r.console.split(/\r?\n/);
    const mi = lines.indexOf('# cat /proc/meminfo');
    const si = lines.indexOf('# cat /proc/slabinfo');
    const bi = lines.indexOf('# cat /proc/buddyinfo');
    expect(mi).toBeGreaterThanOrEqual(0);
    expect(si).toBeGreaterThan(mi);
    expect(bi).toBeGreaterThan(si);
    checkRows(parseSlabinfo(r.console), 2);
  });
});
