/**
 * "What is at this address?" for the host (in the spirit of crash's `kmem
 * <addr>` and the debugger's `whatis`): a few lines about a physical or
 * kernel virtual address of a stopped guest, from the inspectors beside it.
 *
 *   kernel virtual address (kernel/arch/layout.ts)
 *     0xffff_ffff_8000_0000  linear map of low DRAM; inside it the kernel
 *                            image (the ELF's PT_LOAD segments: text, rodata,
 *                            data/bss), with the nearest symbol
 *     0xffff_ffff_c000_0000  vmalloc / ioremap: the vmap area
 *                            (emulator/inspect/vmallocinfo.ts), the page walk
 *     0xffff_ffff_f000_0000  early I/O window (device registers)
 *     0xffff_ffff_f800_0000  pkmap: the kmap() slot, the page walk
 *     0xffff_ffff_f840_0000  fixmap: kmap_local slot (CPU, index), the page walk
 *     anything else           not a kernel address (an error for non-canonical
 *                            ones; "not mapped" for holes)
 *   physical address (below 2^39)  the frame directly
 *
 * Then, for the physical frame (emulator/inspect/page.ts): its zone and page
 * flags; a free buddy block's order and head; a slab's cache and the object
 * (index, start, offset inside, allocated or free, owner with
 * SLAB_STORE_USER: emulator/inspect/slabinfo.ts); a per-CPU chunk's unit
 * (emulator/inspect/percpu.ts).
 */
import type { ElfImage } from '../machine/elf.js';
import { walkSv39, isTranslation } from './pagetable.js';
import { type ReadPhys, type Vmcoreinfo } from './vmcoreinfo.js';
import {
  InspectError, PAGE_OFFSET, PAGE_SIZE, LINEAR_MAP_END, PHYS_DRAM_BASE, describePage, formatPage, hex, kernelRoot, kptr,
  readMemSections, pfnToPage, type PageDescription,
} from './page.js';
import { readSlabObjects, objectAt, type SlabObject, type Track } from './slabinfo.js';
import { readPercpuLayout } from './percpu.js';
import { readVmapAreas, findVmapArea, formatVmapArea } from './vmallocinfo.js';
import type { SymbolTable } from './symbols.js';

export const VMALLOC_START = 0xffff_ffff_c000_0000n;
export const EARLY_IO_START = 0xffff_ffff_f000_0000n;
export const PKMAP_BASE = 0xffff_ffff_f800_0000n;
export const FIXADDR_START = 0xffff_ffff_f840_0000n;
/** Addresses below this are taken as physical. */
export const MAX_PHYS = 1n << 39n;

export interface WhatisOptions {
  /** Treat `addr` as physical (default: physical when below 2^39, virtual otherwise). */
  physical?: boolean;
  /** The kernel ELF: its segments name the image's sections, its symbols the nearest variable. */
  elf?: ElfImage;
  /** Function symbols: text addresses and owners' pcs as name+0xoff/0xsize. */
  symbols?: SymbolTable;
  /** jiffies now, for owners' ages (default: SYMBOL(jiffies_64)). */
  now?: bigint;
}

export interface WhatisResult {
  addr: bigint;
  /** Where the address lies: 'linear', 'kernel-image', 'vmalloc', 'early-io', 'pkmap', 'fixmap', 'physical', 'unmapped', 'not-ram'. */
  region: string;
  /** Its physical address, when it maps. */
  pa?: number;
  page?: PageDescription;
  object?: { cache: string; index: number; start: bigint; offset: number; allocated: boolean; cpuFreelist?: number; alloc?: Track; free?: Track };
  lines: string[];
}

function owner(t: Track, what: string, opts: WhatisOptions, now: bigint | undefined): string {
  const site = t.addrs[0] === undefined ? '<not-available>' : (opts.symbols?.format(t.addrs[0]) ?? hex(t.addrs[0]));
  return `${what} by ${site}${now !== undefined ? ` age=${now - t.when}` : ''} cpu=${t.cpu} pid=${t.pid}`;
}

/** The nearest ELF symbol at or below `va` (data symbols too), as name+0xoff. */
function nearestSymbol(elf: ElfImage | undefined, va: bigint): string | undefined {
  if (!elf) return undefined;
  let best: [string, bigint] | undefined;
  for (const [name, v] of elf.symbols) if (v <= va && (!best || v > best[1]) && !name.includes('.L')) best = [name, v];
  return best && va - best[1] < 0x10000n ? `${best[0]}+${hex(va - best[1])}` : undefined;
}

/**
 * A few lines about `addr` (see the note). Throws InspectError for input that
 * is no address (negative, above 64 bits, non-canonical); an address that is
 * merely unmapped or not RAM gets an answer saying so.
 */
export function whatis(read: ReadPhys, info: Vmcoreinfo, addr: bigint, opts: WhatisOptions = {}): WhatisResult {
  if (typeof addr !== 'bigint' || addr < 0n || addr >= 1n << 64n) throw new InspectError(`not an address: ${String(addr)}`);
  const physical = opts.physical ?? addr < MAX_PHYS;
  const lines: string[] = [];
  const res: WhatisResult = { addr, region: 'physical', lines };
  let pa: number | undefined;
  if (physical) {
    if (addr >= MAX_PHYS) throw new InspectError(`${hex(addr)} is beyond the 39-bit physical address space`);
    pa = Number(addr);
    lines.push(`${hex(addr)}: physical address`);
  } else {
    const top = addr >> 38n;
    if (top !== 0n && top !== (1n << 26n) - 1n) throw new InspectError(`${hex(addr)} is not a canonical Sv39 address (bits 63..39 must equal bit 38)`);
    if (addr < PAGE_OFFSET) {
      res.region = 'unmapped';
      lines.push(`${hex(addr, 16)}: not a kernel address (user space or the hole below the linear map)`);
      return res;
    }
    if (addr < LINEAR_MAP_END) {
      pa = Number(addr - PAGE_OFFSET) + PHYS_DRAM_BASE;
      const seg = opts.elf?.segments.find((s) => addr >= s.vaddr && addr < s.vaddr + BigInt(s.memsz));
      if (seg) {
        res.region = 'kernel-image';
        const kind = (seg.flags & 1) !== 0 ? 'text' : (seg.flags & 2) !== 0 ? (addr >= seg.vaddr + BigInt(seg.data.length) ? 'bss' : 'data') : 'rodata';
        const fn = (seg.flags & 1) !== 0 ? opts.symbols?.format(addr) : undefined;
        const sym = fn ?? nearestSymbol(opts.elf, addr);
        lines.push(`${hex(addr, 16)}: kernel image ${kind}${sym ? `: ${sym}` : ''} (linear map, pa ${hex(pa)})`);
      } else {
        res.region = 'linear';
        lines.push(`${hex(addr, 16)}: linear map, pa ${hex(pa)}`);
      }
    } else {
      const root = kernelRoot(info);
      if (addr < EARLY_IO_START) {
        res.region = 'vmalloc';
        let area = '';
        try {
          const a = findVmapArea(readVmapAreas(read, info), addr);
          area = a ? `, area ${formatVmapArea(a).trim()}${opts.symbols && a.caller !== 0n ? ` ${opts.symbols.format(a.caller) ?? ''}` : ''}` : ', in no vmap area';
        } catch (e) {
          area = ` (vmap areas unreadable: ${(e as Error).message})`;
        }
        lines.push(`${hex(addr, 16)}: vmalloc space${area}`);
      } else if (addr < PKMAP_BASE) {
        res.region = 'early-io';
        lines.push(`${hex(addr, 16)}: early I/O window (device registers, mapped at boot)`);
      } else if (addr < FIXADDR_START) {
        res.region = 'pkmap';
        lines.push(`${hex(addr, 16)}: pkmap (kmap) slot ${Number((addr - PKMAP_BASE) >> 12n)}`);
      } else {
        res.region = 'fixmap';
        const top = info.numbers.get('FIXADDR_TOP');
        const km = Number(info.numbers.get('KM_MAX_IDX') ?? 16n);
        if (top !== undefined && addr < BigInt.asUintN(64, top)) {
          const idx = Number((BigInt.asUintN(64, top) - (addr & ~0xfffn)) >> 12n) - 1;
          lines.push(`${hex(addr, 16)}: fixmap index ${idx} (kmap_local slot ${idx % km} of CPU ${Math.floor(idx / km)})`);
        } else {
          lines.push(`${hex(addr, 16)}: fixmap region`);
        }
      }
      if (root === undefined) {
        lines.push('  (no SYMBOL(swapper_pg_dir): cannot walk the page tables)');
        return res;
      }
      const t = walkSv39(read, root, addr);
      if (!isTranslation(t)) {
        lines.push(`  not mapped: ${t.reason}`);
        return res;
      }
      pa = t.pa;
      lines.push(`  maps to pa ${hex(pa)} (level-${t.level} leaf)`);
    }
  }
  res.pa = pa;
  const pfn = Math.floor(pa / PAGE_SIZE);
  const sections = readMemSections(read, info);
  if (pfnToPage(read, info, pfn, sections) === undefined) {
    res.region = physical ? 'not-ram' : res.region;
    lines.push(`  pfn ${hex(pfn)}: not RAM (no memory bank holds it: device or hole)`);
    return res;
  }
  const page = describePage(read, info, pfn, sections);
  res.page = page;
  for (const l of formatPage(page)) lines.push(`  ${l}`);
  // Per-CPU chunks.
  try {
    const l = readPercpuLayout(read, info);
    const va = physical ? kptr(pa) : addr;
    const seen = new Set<bigint>();
    for (const c of l.chunks) {
      if (seen.has(c.base)) continue;
      seen.add(c.base);
      for (let cpu = 0; cpu < l.nrUnits; cpu++) {
        const u = c.base + BigInt(l.offsets[cpu]!);
        if (va >= u && va < u + BigInt(l.unitSize)) {
          const off = Number(va - u);
          const part = c.index <= 1 ? (off < l.staticSize ? 'static area' : off < (l.chunks.find((x) => x.index === 0)?.endOff ?? 0) ? 'reserved chunk' : 'first dynamic chunk') : `${c.kind} chunk ${c.index}`;
          lines.push(`  per-CPU: unit of CPU ${cpu}, offset ${hex(off)} (${part}); the per-CPU pointer is ${hex(c.base + BigInt(off), 16)}`);
        }
      }
    }
  } catch {
    // no per-CPU layout published: say nothing
  }
  if (page.slab) {
    const objs = readSlabObjects(read, info, page.slab.cache);
    const hit = objectAt(objs, kptr(pa)); // slab pages are lowmem: their linear-map address is the physical one
    if (!hit) {
      lines.push(`  in the slab's leftover or red zone (no object of ${objs.cache.name} holds it)`);
    } else {
      const o: SlabObject = hit.object;
      res.object = {
        cache: objs.cache.name, index: o.index, start: o.addr, offset: hit.offset, allocated: o.allocated,
        ...(o.cpuFreelist !== undefined ? { cpuFreelist: o.cpuFreelist } : {}), ...(o.alloc ? { alloc: o.alloc } : {}), ...(o.free ? { free: o.free } : {}),
      };
      const state = o.allocated ? 'allocated' : o.cpuFreelist !== undefined ? `free (on CPU ${o.cpuFreelist}'s freelist)` : 'free';
      const where = hit.offset < 0 ? `${-hit.offset} bytes before it (left red zone)` : hit.offset >= objs.cache.objectSize ? `offset ${hit.offset} (past the object's ${objs.cache.objectSize} bytes: red zone / metadata)` : `offset ${hit.offset}`;
      lines.push(`  slab object ${o.index} of ${objs.cache.name} at ${hex(o.addr, 16)} (object size ${objs.cache.objectSize}, stride ${objs.cache.size}), ${where}: ${state}`);
      let now = opts.now;
      if (now === undefined && info.symbols.has('jiffies_64')) {
        const b = read(Number(info.symbols.get('jiffies_64')! - PAGE_OFFSET) + PHYS_DRAM_BASE, 8);
        now = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
      }
      if (o.alloc) lines.push(`  ${owner(o.alloc, 'allocated', opts, now)}`);
      if (o.free) lines.push(`  ${owner(o.free, 'freed', opts, now)}`);
    }
  }
  return res;
}

/** whatis(...).lines joined, each with "\n". */
export function formatWhatis(r: WhatisResult): string {
  return r.lines.map((l) => `${l}\n`).join('');
}
