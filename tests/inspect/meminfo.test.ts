/**
 * The host reads /proc/meminfo out of guest memory (emulator/inspect/
 * meminfo.ts: the zones of kernel/vmcoreinfo.ts's layout, summed as
 * kernel/mm/vmstat.ts print_meminfo sums them) and renders it byte for byte
 * as the guest prints it (`report=meminfo`, right before power-off).
 * Machines: 1 and 4 harts, with and without highmem, without self-tests and
 * after selftest=page_alloc / vmalloc / slab. MemTotal and HighTotal also
 * equal the guest's own totalram_pages / totalhigh_pages globals (read
 * through their ELF symbols), which the host does not use: MemTotal is
 * Σ managed pages because page_alloc.ts sets it so.
 */
import { describe, expect, it } from 'vitest';
import { boot, guestImages } from '../kernel/images.js';
import { parseElf } from '../../emulator/machine/elf.js';
import { readU64, readVmcoreinfo, type ReadPhys } from '../../emulator/inspect/vmcoreinfo.js';
import { readMeminfo, renderMeminfo, formatMeminfo, meminfoFromZones } from '../../emulator/inspect/meminfo.js';
import type { ZoneInfo } from '../../emulator/inspect/zoneinfo.js';

const MAX_INSNS = 400_000_000;

const { kernel, firmware, missing } = await guestImages();

/** The guest's report: the "Label:   N kB" lines after "# cat /proc/meminfo", each with "\n". */
function guestMeminfo(console: string): string {
  const lines = console.split(/\r?\n/);
  const at = lines.indexOf('# cat /proc/meminfo');
  expect(at, 'no "# cat /proc/meminfo" line').toBeGreaterThanOrEqual(0);
  expect(lines.indexOf('# cat /proc/meminfo', at + 1), 'two reports').toBe(-1);
  const out: string[] = [];
  for (let i = at + 1; i < lines.length && /^[A-Za-z()]+: +\d+ kB$/.test(lines[i]!); i++) out.push(`${lines[i]}\n`);
  expect(out.length).toBe(12);
  return out.join('');
}

describe('formatMeminfo', () => {
  it("sums the zones as print_meminfo does and pads as Linux's show_val_kb", () => {
    const zone = (zid: number, managed: bigint, free: bigint, high: bigint): ZoneInfo => ({
      node: 0, zid, zone: ['DMA', 'Normal', 'HighMem'][zid]!, free, min: 0n, low: 0n, high, spanned: managed, present: managed,
      managed, startPfn: 0n, protection: [0n, 0n, 0n], pagesets: [],
    });
    const m = meminfoFromZones([zone(0, 100n, 50n, 10n), zone(1, 1000n, 900n, 100n), zone(2, 500n, 400n, 50n)], 2, 4096);
    const text = formatMeminfo(m);
    expect(text.split('\n')[0]).toBe('MemTotal:           6400 kB');
    expect(text).toContain('MemAvailable:       4760 kB\n');
    expect(text).toContain('HighFree:           1600 kB\n');
    expect(text).toContain('LowTotal:           4400 kB\n');
    // MemAvailable clamps at 0.
    expect(meminfoFromZones([zone(0, 10n, 1n, 5n)], 2, 4096)[2]).toEqual(['MemAvailable', 0n]);
  });
});

it('the kernel and our firmware build', () => {
  expect(missing).toBeUndefined();
});

const cases = [
  { harts: 4, selftest: undefined, highmem: true },
  { harts: 1, selftest: undefined, highmem: false },
  { harts: 4, selftest: 'page_alloc', highmem: true },
  { harts: 1, selftest: 'vmalloc', highmem: false },
  { harts: 4, selftest: 'slab', highmem: true },
];

describe.skipIf(missing !== undefined)('the host reads /proc/meminfo out of guest memory', () => {
  const elf = missing === undefined ? parseElf(kernel.image!.elf, 'kernel.elf') : undefined;
  for (const c of cases) {
    const title = `${c.harts} harts, ${c.selftest ? `selftest=${c.selftest}` : 'no self-tests'}, ${c.highmem ? 'highmem' : 'no highmem'}`;
    it(`equals the guest's own report byte for byte (${title})`, () => {
      const append = `${c.selftest ? `selftest=${c.selftest} ` : ''}report=meminfo`;
      const r = boot({ kernel: kernel.image!.elf, bios: firmware.image!.elf, harts: c.harts, append, maxInsns: MAX_INSNS, ...(c.highmem ? {} : { highmemSize: 0 }) });
      expect(r.exit, r.console.slice(-2000)).toEqual({ kind: 'pass', code: 0, via: 'finisher' });
      const read: ReadPhys = (pa, len) => r.machine.mem.readBytes(pa, len);
      const info = readVmcoreinfo(read, elf!.symbols);
      expect(renderMeminfo(read, info)).toBe(guestMeminfo(r.console));
      const m = new Map(readMeminfo(read, info));
      const global = (name: string): bigint => readU64(read, Number(elf!.symbols.get(`kernel/mm/page_alloc/${name}`)! & 0xffff_ffffn));
      expect(m.get('MemTotal')).toBe(global('totalram_pages') * 4n);
      expect(m.get('HighTotal')).toBe(global('totalhigh_pages') * 4n);
      expect(m.get('HighTotal')! > 0n).toBe(c.highmem);
      expect(m.get('MemFree')! > 0n && m.get('MemFree')! <= m.get('MemTotal')!).toBe(true);
    });
  }
});
