/**
 * Guest tests: `/proc/vmallocinfo` (kernel/mm/vmalloc.ts print_vmallocinfo,
 * asked for with `report=vmallocinfo`) is in Linux 6.1's format (mm/vmalloc.c
 * s_show) and agrees with the guest's own numbers.
 *
 * Each line is parsed with Linux's fields and re-rendered with its printf
 * ("0x%pK-0x%pK %7ld", then " %pS", " pages=%d", " phys=%pa", " ioremap",
 * " vmalloc", " vmap") and must come out byte for byte. Then:
 *
 *   end − start = size, a whole number of pages, inside [VMALLOC_START,
 *     VMALLOC_END); areas in address order, never overlapping
 *   a vmalloc area's pages = size / 4 KiB − 1 (the guard page)
 *   the summary line the guest prints before the header ("vmallocinfo: N
 *     areas, P pages, B bytes") = the number of lines, Σ pages, Σ size
 *   the DMA engine's registers are an ioremap area at its physical address
 *     (VIRT_DMA_BASE), and its caller symbolises to kmemlab_dma_probe
 *   after selftest=vmalloc,ioremap nothing the suites made is left over
 *
 * Machines: 1 and 4 harts, with and without the self-tests. Bounded by
 * instructions, not wall time.
 */
import { describe, expect, it } from 'vitest';
import { boot, symbolize, type BootResult, guestImages } from './images.js';
import { VIRT_DMA_BASE } from '../../emulator/machine/memmap.js';

const MAX_INSNS = 400_000_000;
const PAGE_SIZE = 4096n;
const VMALLOC_START = 0xFFFF_FFFF_C000_0000n;
const VMALLOC_END = 0xFFFF_FFFF_F000_0000n;

const { kernel, firmware, missing } = await guestImages();

interface Area {
  start: bigint; end: bigint; size: bigint; caller?: bigint; pages?: number; phys?: bigint;
  ioremap: boolean; vmalloc: boolean; vmap: boolean;
}

const LINE = /^0x([0-9a-f]{16})-0x([0-9a-f]{16}) +(\d+)(?: \[<([0-9a-f]{16})>\])?(?: pages=(\d+))?(?: phys=0x([0-9a-f]{16}))?( ioremap)?( vmalloc)?( vmap)?$/;
const hex16 = (v: bigint): string => v.toString(16).padStart(16, '0');

/** Linux s_show's seq_printf calls, joined (%pK as %px: 16 hex digits; %pS as the guest prints it without kallsyms). */
function render(a: Area): string {
  let s = `0x${hex16(a.start)}-0x${hex16(a.end)} ${String(a.size).padStart(7)}`;
  if (a.caller !== undefined) s += ` [<${hex16(a.caller)}>]`;
  if (a.pages !== undefined) s += ` pages=${a.pages}`;
  if (a.phys !== undefined) s += ` phys=0x${hex16(a.phys)}`;
  if (a.ioremap) s += ' ioremap';
  if (a.vmalloc) s += ' vmalloc';
  if (a.vmap) s += ' vmap';
  return s;
}

function parseLine(l: string): Area {
  const m = LINE.exec(l);
  expect(m, `vmallocinfo line: ${JSON.stringify(l)}`).not.toBeNull();
  const a: Area = {
    start: BigInt(`0x${m![1]}`), end: BigInt(`0x${m![2]}`), size: BigInt(m![3]!),
    caller: m![4] ? BigInt(`0x${m![4]}`) : undefined, pages: m![5] ? Number(m![5]) : undefined,
    phys: m![6] ? BigInt(`0x${m![6]}`) : undefined, ioremap: !!m![7], vmalloc: !!m![8], vmap: !!m![9],
  };
  expect(render(a), 'the line re-rendered with Linux\'s printf').toBe(l);
  return a;
}

interface Report { areas: Area[]; summary: { areas: number; pages: number; bytes: bigint } }

function parseReport(console: string): Report {
  const lines = console.split(/\r?\n/);
  const at = lines.indexOf('# cat /proc/vmallocinfo');
  expect(at, 'no "# cat /proc/vmallocinfo" line').toBeGreaterThan(0);
  expect(lines.indexOf('# cat /proc/vmallocinfo', at + 1), 'two reports').toBe(-1);
  const sm = /^vmallocinfo: (\d+) areas, (\d+) pages, (\d+) bytes$/.exec(lines[at - 1]!);
  expect(sm, `summary line: ${JSON.stringify(lines[at - 1])}`).not.toBeNull();
  const areas: Area[] = [];
  for (let i = at + 1; i < lines.length && lines[i]!.startsWith('0x'); i++) areas.push(parseLine(lines[i]!));
  return { areas, summary: { areas: Number(sm![1]), pages: Number(sm![2]), bytes: BigInt(sm![3]!) } };
}

function checkReport(rep: Report): void {
  const { areas, summary } = rep;
  expect(areas.length).toBe(summary.areas);
  expect(areas.reduce((n, a) => n + (a.pages ?? 0), 0)).toBe(summary.pages);
  expect(areas.reduce((n, a) => n + a.size, 0n)).toBe(summary.bytes);
  let last = VMALLOC_START;
  for (const a of areas) {
    const what = render(a);
    expect(a.end - a.start, what).toBe(a.size);
    expect(a.size % PAGE_SIZE, what).toBe(0n);
    expect(a.size, what).toBeGreaterThanOrEqual(2n * PAGE_SIZE); // a page and the guard
    expect(a.start >= last, `${what}: in address order, no overlap`).toBe(true);
    expect(a.end <= VMALLOC_END, what).toBe(true);
    expect([a.ioremap, a.vmalloc, a.vmap].filter((x) => x).length, what).toBe(1);
    if (a.vmalloc) expect(a.pages, what).toBe(Number(a.size / PAGE_SIZE) - 1);
    if (a.ioremap) expect(a.phys, what).toBeDefined();
    last = a.end;
  }
}

interface Case { harts: number; selftest?: string }
const cases: Case[] = [
  { harts: 1 }, { harts: 4 }, { harts: 1, selftest: 'vmalloc,ioremap' }, { harts: 4, selftest: 'vmalloc,ioremap' },
];
const title = (c: Case): string => `${c.harts} hart${c.harts > 1 ? 's' : ''}, ${c.selftest ? `after selftest=${c.selftest}` : 'no self-test'}`;

function run(c: Case): BootResult | undefined {
  if (missing) return undefined;
  const append = [c.selftest ? `selftest=${c.selftest}` : '', 'report=vmallocinfo'].filter((x) => x).join(' ');
  return boot({ kernel: kernel.image!.elf, bios: firmware.image!.elf, harts: c.harts, append, maxInsns: MAX_INSNS });
}

const runs = cases.map((c) => ({ c, r: run(c) }));

it('the kernel and our firmware build', () => {
  expect(missing).toBeUndefined();
});

describe.skipIf(missing !== undefined)('/proc/vmallocinfo', () => {
  for (const { c, r } of runs) {
    describe(title(c), () => {
      it('powers off cleanly after the report', () => {
        expect(r!.stop, r!.console.slice(-3000)).toBe('exit');
        expect(r!.exit?.kind, r!.console.slice(-3000)).toBe('pass');
      });

      it('is in Linux\'s format and agrees with the guest\'s summary', () => {
        checkReport(parseReport(r!.console));
      });

      it('the DMA engine\'s registers are an ioremap area, mapped by kmemlab_dma_probe', () => {
        const { areas } = parseReport(r!.console);
        const dma = areas.filter((a) => a.ioremap && a.phys === BigInt(VIRT_DMA_BASE));
        expect(dma.length).toBe(1);
        expect(dma[0]!.size).toBe(2n * PAGE_SIZE);
        expect(dma[0]!.caller).toBeDefined();
        expect(symbolize(kernel.image!, dma[0]!.caller!)).toMatch(/(^|\.)kmemlab_dma_probe\+0x/);
      });

      if (c.selftest) {
        it('the suites leave no area behind', () => {
          const { summary } = parseReport(r!.console);
          expect(summary).toEqual({ areas: 1, pages: 0, bytes: 2n * PAGE_SIZE });
        });
      }
    });
  }
});
