/**
 * The host decodes struct page out of guest memory (emulator/inspect/page.ts,
 * through VMCOREINFO): the memory map's sections, flags as %pGp names, the
 * zone, a free buddy block's head and order for any page inside it, the slab
 * cache owning a slab page (tail pages through their head).
 *
 * Cross-checks on a stopped machine (`report=buddyinfo`: the guest drains the
 * per-CPU page lists first, so every free page is in a buddy block): the
 * free pages found by decoding every struct page (Σ 2^order over the
 * PageBuddy heads, per zone) equal the guest's own buddyinfo counts
 * (emulator/inspect/buddyinfo.ts, itself checked byte for byte against the
 * guest's print); the zones of the pages match the sections; every slab page
 * the slab walk found decodes to its cache; the kernel image is reserved.
 */
import { describe, expect, it } from 'vitest';
import { boot, guestImages } from '../kernel/images.js';
import { parseElf } from '../../emulator/machine/elf.js';
import { readVmcoreinfo, type ReadPhys } from '../../emulator/inspect/vmcoreinfo.js';
import { readBuddyinfo } from '../../emulator/inspect/buddyinfo.js';
import {
  InspectError, describePage, describePhys, formatPage, formatPageFlags, pfnToPage, readMemSections, readRawPage,
} from '../../emulator/inspect/page.js';
import { readSlabCaches, readSlabObjects } from '../../emulator/inspect/slabinfo.js';

const MAX_INSNS = 400_000_000;

const { kernel, firmware, missing } = await guestImages();
const elf = missing === undefined ? parseElf(kernel.image!.elf, 'kernel.elf') : undefined;

it('the kernel and our firmware build', () => {
  expect(missing).toBeUndefined();
});

describe.skipIf(missing !== undefined)('the host decodes struct page', () => {
  for (const c of [{ harts: 2, selftest: undefined }, { harts: 4, selftest: 'page_alloc,slab' }]) {
    it(`free buddy pages per zone equal buddyinfo; slab pages name their cache (${c.harts} harts, ${c.selftest ?? 'no self-tests'})`, () => {
      const append = c.selftest ? `selftest=${c.selftest} report=buddyinfo` : 'report=buddyinfo';
      const r = boot({ kernel: kernel.image!.elf, bios: firmware.image!.elf, harts: c.harts, append, maxInsns: MAX_INSNS });
      expect(r.exit, r.console.slice(-2000)).toEqual({ kind: 'pass', code: 0, via: 'finisher' });
      const read: ReadPhys = (pa, len) => r.machine.mem.readBytes(pa, len);
      const info = readVmcoreinfo(read, elf!.symbols);
      const sections = readMemSections(read, info);
      expect(sections.length).toBe(2); // low DRAM and high DRAM
      expect(sections[0]!.startPfn).toBe(0x80000);
      expect(sections[1]!.startPfn).toBe(0x100000);

      // Every struct page, decoded: the free pages by zone from the PageBuddy heads.
      const freeByZone = new Map<string, number>();
      const buddyType = Number(info.numbers.get('PAGE_TYPE_BUDDY')) >>> 0;
      let heads = 0;
      for (const s of sections) {
        for (let pfn = s.startPfn; pfn < s.endPfn; pfn++) {
          const p = readRawPage(read, info, pfnToPage(read, info, pfn, sections)!);
          if (p.pageType >>> 0 !== buddyType) continue;
          heads++;
          const d = describePage(read, info, pfn, sections);
          expect(d.buddy).toEqual({ headPfn: pfn, order: p.private });
          freeByZone.set(d.zone, (freeByZone.get(d.zone) ?? 0) + (1 << p.private));
          // The last page of the block is inside it too.
          if (p.private > 0) expect(describePage(read, info, pfn + (1 << p.private) - 1, sections).buddy).toEqual({ headPfn: pfn, order: p.private });
          pfn += (1 << p.private) - 1;
        }
      }
      expect(heads).toBeGreaterThan(0);
      const buddy = readBuddyinfo(read, info);
      for (const z of buddy) {
        const pages = z.nrFree.reduce((n, k, order) => n + Number(k) * (1 << order), 0);
        expect(freeByZone.get(z.zone) ?? 0, z.zone).toBe(pages);
      }
      expect([...freeByZone.keys()].sort()).toEqual(buddy.map((z) => z.zone).sort());

      // Zones: high DRAM is HighMem, with the flag.
      const high = describePage(read, info, sections[1]!.startPfn + 5, sections);
      expect(high.zone).toBe('HighMem');
      expect(high.flagNames).toContain('highmem');
      // The kernel image (pa 0x8020_0000) is reserved.
      const img = describePhys(read, info, 0x8020_0000);
      expect(img.flagNames).toContain('reserved');
      expect(img.buddy).toBeUndefined();
      expect(formatPage(img)[1]).toMatch(/^flags: 0x[0-9a-f]+\(([a-z_]+\|)*reserved(\|[a-z_]+)*\)$/);

      // Every slab page of every cache, head and tail pages, names its cache.
      let slabPages = 0;
      for (const cache of readSlabCaches(read, info)) {
        for (const s of readSlabObjects(read, info, cache.addr).slabs) {
          for (let k = 0; k < 1 << s.order; k++) {
            const d = describePage(read, info, s.pfn + k, sections);
            expect(d.slab?.cacheName, `${cache.name} pfn ${s.pfn + k}`).toBe(cache.name);
            expect(d.slab?.headPfn).toBe(s.pfn);
            expect(d.slab?.order).toBe(s.order);
            expect(d.flagNames).toContain('slab');
            expect(d.flagNames.includes('head')).toBe(k === 0);
            slabPages++;
          }
        }
      }
      expect(slabPages).toBeGreaterThan(0);
    });
  }

  it('flags as %pGp, and bad input', () => {
    const r = boot({ kernel: kernel.image!.elf, bios: firmware.image!.elf, harts: 1, append: 'report=buddyinfo', maxInsns: MAX_INSNS });
    const read: ReadPhys = (pa, len) => r.machine.mem.readBytes(pa, len);
    const info = readVmcoreinfo(read, elf!.symbols);
    expect(formatPageFlags(info, 0x28)).toBe('0x28(head|slab)');
    expect(formatPageFlags(info, 0)).toBe('0x0()');
    expect(formatPageFlags(info, 0x3)).toBe('0x3(reserved|highmem)');
    expect(() => describePage(read, info, 0x1234)).toThrow(InspectError);
    expect(() => describePage(read, info, 0x1234)).toThrow(/pfn 0x1234 \(physical 0x1234000\) has no struct page/);
    expect(() => describePage(read, info, -1)).toThrow(/not a page frame number/);
    expect(() => describePage(read, info, 1.5)).toThrow(/not a page frame number/);
    const noMap = { ...info, symbols: new Map([...info.symbols].filter(([k]) => k !== 'mem_section')) };
    expect(() => describePage(read, noMap, 0x80200)).toThrow(/VMCOREINFO has no SYMBOL\(mem_section\)/);
  });
});
