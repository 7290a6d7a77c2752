/**
 * struct page read by the host out of guest memory (kernel/mm/page.ts, the
 * slab overlay of kernel/mm/slub.ts), with the layout the kernel publishes
 * in VMCOREINFO (kernel/mm/slub.ts slab_vmcoreinfo_setup), and the kernel
 * memory helpers the other inspectors share (kernel pointers, the page walk
 * for addresses outside the linear map).
 *
 *   pfn → struct page          SYMBOL(mem_section): LENGTH(mem_section) entries of
 *                              SIZE(mem_section) = { u64 start_pfn, u64 end_pfn,
 *                              u32 map at OFFSET(mem_section.section_mem_map) };
 *                              map 0 = unused; page = map + (pfn − start_pfn) · SIZE(page)
 *   struct page                flags (PG_* bit numbers: NUMBER(PG_reserved) …),
 *                              _refcount, private (buddy / pcp / slab / large kmalloc:
 *                              the block's order), page_type (NUMBER(PAGE_TYPE_BUDDY):
 *                              heads a free block), zone_id (then node_id, a u8),
 *                              compound_head (a slab tail page's head)
 *   slab head page             slab_cache, counters (u16: inuse bits 0-14, frozen bit 15),
 *                              freelist
 *
 * What the decoding mirrors: Linux's dump_page / %pGp for the flags
 * ("0x28(head|slab)"), is_free_buddy_page for a page inside a free block
 * (the head is the PageBuddy page at or below it whose order covers it),
 * virt_to_slab / slab->slab_cache for the owning cache, page_zone.
 *
 * Kernel pointers in the kernel's structures are 32-bit wasm values whose
 * 64-bit address is their sign extension (kernel/arch/layout.ts): below
 * 0xC000_0000 a linear-map pointer (its value is the physical address),
 * above it vmalloc / pkmap / fixmap space, read through the page tables at
 * SYMBOL(swapper_pg_dir) (emulator/inspect/pagetable.ts).
 * Read a stopped machine: the fields are read without the kernel's locks.
 */
import { readVirt, translateSv39 } from './pagetable.js';
import { type ReadPhys, type Vmcoreinfo, VmcoreinfoError, linearPa, readU32, readU64, vmci } from './vmcoreinfo.js';

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;
/** The linear map: low DRAM at 0xffff_ffff_8000_0000 (kernel/arch/layout.ts), 1 GiB. */
export const PAGE_OFFSET = 0xffff_ffff_8000_0000n;
export const LINEAR_MAP_END = 0xffff_ffff_c000_0000n;
export const PHYS_DRAM_BASE = 0x8000_0000;
export const LINEAR_MAP_SIZE = 0x4000_0000;

/** A bad address or a structure that does not hold together (a VmcoreinfoError, so one catch serves both). */
export class InspectError extends VmcoreinfoError {}

export function readU8(read: ReadPhys, pa: number): number {
  return read(pa, 1)[0]!;
}

export function readU16(read: ReadPhys, pa: number): number {
  const b = read(pa, 2);
  return b[0]! | (b[1]! << 8);
}

export function readI32(read: ReadPhys, pa: number): number {
  return readU32(read, pa) | 0;
}

/** The 64-bit address of a 32-bit kernel pointer (sign extension). */
export function kptr(p: number): bigint {
  return BigInt.asUintN(64, BigInt(p | 0));
}

export function hex(v: bigint | number, width = 0): string {
  return `0x${v.toString(16).padStart(width, '0')}`;
}

/** Is `va` a linear-map address? */
export function isLinear(va: bigint): boolean {
  return va >= PAGE_OFFSET && va < LINEAR_MAP_END;
}

/** The kernel root page table's physical address (SYMBOL(swapper_pg_dir)), or undefined when not published. */
export function kernelRoot(info: Vmcoreinfo): number | undefined {
  const s = info.symbols.get('swapper_pg_dir');
  return s === undefined ? undefined : linearPa(s);
}

/**
 * Physical address of kernel virtual `va`: the linear map directly, anything
 * else through the page tables; throws InspectError / PageTableError naming
 * why it cannot.
 */
export function kernelPa(read: ReadPhys, info: Vmcoreinfo, va: bigint): number {
  const v = BigInt.asUintN(64, va);
  if (isLinear(v)) return Number(v - PAGE_OFFSET) + PHYS_DRAM_BASE;
  const root = kernelRoot(info);
  if (root === undefined) throw new InspectError(`${hex(v)} is outside the linear map and VMCOREINFO has no SYMBOL(swapper_pg_dir) to walk the page tables`);
  return translateSv39(read, root, v);
}

/** Read `len` bytes at kernel virtual `va` (linear map directly, anything else page by page through the tables). */
export function readKernel(read: ReadPhys, info: Vmcoreinfo, va: bigint, len: number): Uint8Array {
  const v = BigInt.asUintN(64, va);
  if (isLinear(v) && v + BigInt(len) <= LINEAR_MAP_END) return read(Number(v - PAGE_OFFSET) + PHYS_DRAM_BASE, len);
  const root = kernelRoot(info);
  if (root === undefined) throw new InspectError(`${hex(v)} is outside the linear map and VMCOREINFO has no SYMBOL(swapper_pg_dir) to walk the page tables`);
  return readVirt(read, root, v, len);
}

function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

export function readKernelU32(read: ReadPhys, info: Vmcoreinfo, va: bigint): number {
  return dv(readKernel(read, info, va, 4)).getUint32(0, true);
}

export function readKernelU64(read: ReadPhys, info: Vmcoreinfo, va: bigint): bigint {
  return dv(readKernel(read, info, va, 8)).getBigUint64(0, true);
}

/** Longest believable kernel string (bytes of UTF-16). */
const MAX_STRING_BYTES = 512;

/** An AssemblyScript string at kernel pointer `p` (UTF-16LE, its byte length in the u32 before it). */
export function readKernelString(read: ReadPhys, info: Vmcoreinfo, p: number): string {
  if (p === 0) throw new InspectError('a NULL string pointer');
  const va = kptr(p);
  const bytes = readKernelU32(read, info, va - 4n);
  if (bytes % 2 !== 0 || bytes > MAX_STRING_BYTES) throw new InspectError(`no AssemblyScript string at ${hex(va)} (length ${bytes})`);
  return Buffer.from(readKernel(read, info, va, bytes)).toString('utf16le');
}

// --- the memory map -------------------------------------------------------------------------------

export interface MemSection {
  startPfn: number;
  endPfn: number;
  /** Kernel pointer (u32) of the section's struct page array. */
  map: number;
}

/** The memory map's sections (Linux mem_section[]), unused entries left out. */
export function readMemSections(read: ReadPhys, info: Vmcoreinfo): MemSection[] {
  const base = linearPa(vmci.symbol(info, 'mem_section'));
  const size = vmci.size(info, 'mem_section');
  const n = vmci.length(info, 'mem_section');
  const mapOff = vmci.offset(info, 'mem_section.section_mem_map');
  const out: MemSection[] = [];
  for (let i = 0; i < n; i++) {
    const e = base + i * size;
    const map = readU32(read, e + mapOff);
    if (map === 0) continue;
    out.push({ startPfn: Number(readU64(read, e)), endPfn: Number(readU64(read, e + 8)), map });
  }
  if (out.length === 0) throw new InspectError('the memory map has no sections: read after mm_init');
  return out;
}

/** Kernel pointer (u32) of the struct page of `pfn`, or undefined when no section describes it (Linux pfn_valid). */
export function pfnToPage(read: ReadPhys, info: Vmcoreinfo, pfn: number, sections = readMemSections(read, info)): number | undefined {
  const sz = vmci.size(info, 'page');
  for (const s of sections) if (pfn >= s.startPfn && pfn < s.endPfn) return s.map + (pfn - s.startPfn) * sz;
  return undefined;
}

/** The pfn a struct page pointer describes, or undefined. */
export function pageToPfn(info: Vmcoreinfo, page: number, sections: readonly MemSection[]): number | undefined {
  const sz = vmci.size(info, 'page');
  for (const s of sections) {
    const end = s.map + (s.endPfn - s.startPfn) * sz;
    if (page >= s.map && page < end && (page - s.map) % sz === 0) return s.startPfn + (page - s.map) / sz;
  }
  return undefined;
}

// --- struct page --------------------------------------------------------------------------------

/** Flag names in bit order, as the kernel's PG_* (NUMBER(PG_…) gives each bit). */
export const PAGE_FLAG_NAMES = ['reserved', 'highmem', 'pcp', 'head', 'dma_zone', 'slab'] as const;

export interface RawPage {
  /** Kernel pointer (u32) of the struct page. */
  addr: number;
  flags: number;
  refcount: number;
  private: number;
  pageType: number;
  zoneId: number;
  nodeId: number;
  compoundHead: number;
}

function pageBit(info: Vmcoreinfo, name: string): number {
  return 1 << vmci.number(info, `PG_${name}`);
}

export function readRawPage(read: ReadPhys, info: Vmcoreinfo, addr: number): RawPage {
  const pa = linearPa(kptr(addr));
  const zoneOff = vmci.offset(info, 'page.zone_id');
  return {
    addr,
    flags: readU32(read, pa + vmci.offset(info, 'page.flags')),
    refcount: readI32(read, pa + vmci.offset(info, 'page._refcount')),
    private: readU32(read, pa + vmci.offset(info, 'page.private')),
    pageType: readU32(read, pa + vmci.offset(info, 'page.page_type')),
    zoneId: readU8(read, pa + zoneOff),
    nodeId: readU8(read, pa + zoneOff + 1),
    compoundHead: readU32(read, pa + vmci.offset(info, 'page.compound_head')),
  };
}

/** Linux %pGp: "0x28(head|slab)", "0x0()" for none. */
export function formatPageFlags(info: Vmcoreinfo, flags: number): string {
  const names = PAGE_FLAG_NAMES.filter((n) => (flags & pageBit(info, n)) !== 0);
  return `${hex(flags >>> 0)}(${names.join('|')})`;
}

export function pageFlagNames(info: Vmcoreinfo, flags: number): string[] {
  return PAGE_FLAG_NAMES.filter((n) => (flags & pageBit(info, n)) !== 0);
}

/** A zone's name by index (node_zones, published by kernel/vmcoreinfo.ts). */
export function zoneName(read: ReadPhys, info: Vmcoreinfo, nid: number, zid: number): string {
  const maxNrZones = vmci.number(info, 'MAX_NR_ZONES');
  if (zid >= maxNrZones || nid >= vmci.number(info, 'MAX_NUMNODES')) throw new InspectError(`no zone ${nid}/${zid}`);
  const z = linearPa(vmci.symbol(info, 'node_zones')) + (nid * maxNrZones + zid) * vmci.size(info, 'zone');
  return readKernelString(read, info, readU32(read, z + vmci.offset(info, 'zone.name')));
}

export interface SlabPageInfo {
  /** Kernel pointer of the cache (struct kmem_cache). */
  cache: number;
  cacheName: string;
  headPfn: number;
  order: number;
  inuse: number;
  frozen: boolean;
  /** Kernel pointer of the first free object on the slab's own freelist (0 = none). */
  freelist: number;
}

export interface PageDescription {
  pfn: number;
  pa: number;
  /** Kernel pointer (u32) of the struct page. */
  page: number;
  flags: number;
  /** "0x28(head|slab)" */
  flagString: string;
  flagNames: string[];
  refcount: number;
  node: number;
  zone: string;
  /** A free buddy block holds the page: its head and order. */
  buddy?: { headPfn: number; order: number };
  /** Free on a CPU's page list (PG_pcp): the order of the block there. */
  pcpOrder?: number;
  slab?: SlabPageInfo;
  /** The head of a large kmalloc block (above the kmalloc caches): its order. */
  largeKmallocOrder?: number;
}

/** Is `pfn` inside a free buddy block? The block's head and order (Linux is_free_buddy_page). */
export function findBuddy(read: ReadPhys, info: Vmcoreinfo, pfn: number, sections: readonly MemSection[]): { headPfn: number; order: number } | undefined {
  const maxOrder = vmci.length(info, 'zone.free_area');
  const buddy = vmci.number(info, 'PAGE_TYPE_BUDDY') >>> 0;
  const sz = vmci.size(info, 'page');
  const typeOff = vmci.offset(info, 'page.page_type');
  const privOff = vmci.offset(info, 'page.private');
  for (let order = 0; order < maxOrder; order++) {
    const head = pfn - (pfn % (1 << order));
    const sec = sections.find((s) => head >= s.startPfn && head < s.endPfn);
    if (!sec) break;
    const pa = linearPa(kptr(sec.map + (head - sec.startPfn) * sz));
    if (readU32(read, pa + typeOff) >>> 0 !== buddy) continue;
    const o = readU32(read, pa + privOff);
    if (o >= order && pfn < head + (1 << o)) return { headPfn: head, order: o };
  }
  return undefined;
}

/** The slab fields of the slab (head) page at kernel pointer `head`. */
export function readSlabPage(read: ReadPhys, info: Vmcoreinfo, head: number, headPfn: number): SlabPageInfo {
  const pa = linearPa(kptr(head));
  const cache = readU32(read, pa + vmci.offset(info, 'slab.slab_cache'));
  const counters = readU16(read, pa + vmci.offset(info, 'slab.counters'));
  if (cache === 0) throw new InspectError(`slab page ${hex(kptr(head))} (pfn ${hex(headPfn)}) has no slab_cache`);
  return {
    cache,
    cacheName: readKernelString(read, info, readU32(read, linearPa(kptr(cache)) + vmci.offset(info, 'kmem_cache.name'))),
    headPfn,
    order: readU32(read, pa + vmci.offset(info, 'page.private')),
    inuse: counters & 0x7fff,
    frozen: (counters & 0x8000) !== 0,
    freelist: readU32(read, pa + vmci.offset(info, 'slab.freelist')),
  };
}

/**
 * Decode the struct page of `pfn`: flags, refcount, zone, and what owns it
 * (a free buddy block, a CPU's page list, a slab cache, a large kmalloc).
 * Throws InspectError when no struct page describes the pfn.
 */
export function describePage(read: ReadPhys, info: Vmcoreinfo, pfn: number, sections = readMemSections(read, info)): PageDescription {
  if (!Number.isSafeInteger(pfn) || pfn < 0) throw new InspectError(`not a page frame number: ${pfn}`);
  const addr = pfnToPage(read, info, pfn, sections);
  if (addr === undefined) throw new InspectError(`pfn ${hex(pfn)} (physical ${hex(pfn * PAGE_SIZE)}) has no struct page: not in any memory bank`);
  const p = readRawPage(read, info, addr);
  const d: PageDescription = {
    pfn, pa: pfn * PAGE_SIZE, page: addr, flags: p.flags, flagString: formatPageFlags(info, p.flags),
    flagNames: pageFlagNames(info, p.flags), refcount: p.refcount, node: p.nodeId, zone: zoneName(read, info, p.nodeId, p.zoneId),
  };
  const buddy = findBuddy(read, info, pfn, sections);
  if (buddy) d.buddy = buddy;
  if ((p.flags & pageBit(info, 'pcp')) !== 0) d.pcpOrder = p.private;
  if ((p.flags & pageBit(info, 'slab')) !== 0) {
    let head = addr;
    if ((p.flags & pageBit(info, 'head')) === 0) head = p.compoundHead;
    const headPfn = pageToPfn(info, head, sections);
    if (headPfn === undefined) throw new InspectError(`slab tail page of pfn ${hex(pfn)} points to ${hex(kptr(head))}, not a struct page`);
    d.slab = readSlabPage(read, info, head, headPfn);
  } else if ((p.flags & pageBit(info, 'head')) !== 0 && p.pageType >>> 0 === vmci.number(info, 'PAGE_TYPE_LARGE_KMALLOC') >>> 0) {
    d.largeKmallocOrder = p.private;
  }
  return d;
}

/** Decode the page holding physical address `pa`. */
export function describePhys(read: ReadPhys, info: Vmcoreinfo, pa: number): PageDescription {
  return describePage(read, info, Math.floor(pa / PAGE_SIZE));
}

/** A few lines, like Linux's dump_page: "page:… refcount:… pfn:…", "flags: …", and what owns it. */
export function formatPage(d: PageDescription): string[] {
  const lines = [`page:${hex(kptr(d.page), 16)} refcount:${d.refcount} pfn:${hex(d.pfn)} node:${d.node} zone:${d.zone}`, `flags: ${d.flagString}`];
  if (d.buddy) lines.push(`free buddy block: order ${d.buddy.order}, head pfn ${hex(d.buddy.headPfn)}${d.buddy.headPfn === d.pfn ? ' (this page)' : ''}`);
  if (d.pcpOrder !== undefined) lines.push(`free on a CPU's page list: order ${d.pcpOrder}`);
  if (d.slab) {
    lines.push(`slab: cache ${d.slab.cacheName}, head pfn ${hex(d.slab.headPfn)}, order ${d.slab.order}, inuse ${d.slab.inuse}${d.slab.frozen ? ', frozen (a CPU slab)' : ''}`);
  }
  if (d.largeKmallocOrder !== undefined) lines.push(`large kmalloc block: order ${d.largeKmallocOrder}`);
  return lines;
}
