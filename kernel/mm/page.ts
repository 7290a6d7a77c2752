/**
 * struct page, the memory map and the address conversions (Linux
 * include/linux/mm_types.h, mm.h, memory_model.h, page-flags.h).
 *
 * One struct page (32 bytes) describes each physical page of every memory
 * bank, low DRAM and high DRAM alike. The arrays live in low memory, one
 * per bank (a "section": the banks are far apart, 0x8000_0000 and
 * 0x1_0000_0000, so one flat array would waste the hole between them):
 *
 *   mem_section[i] = { start_pfn, end_pfn, map }     i < nr_mem_sections
 *   pfn_to_page(pfn) = map + (pfn − start_pfn) · 32 of the section holding pfn
 *
 *   struct page  +0  flags      PG_* bits (PG_reserved, PG_highmem, PG_pcp, …)
 *                +4  _refcount  0 when free, 1 when allocated
 *                +8  lru_next   list link (buddy free_area list, pcp list):
 *               +12  lru_prev     struct page pointers (32-bit kernel pointers)
 *               +16  private_   buddy: the order of the free block it heads;
 *                               pcp: the order of the block on the list
 *               +20  page_type  PAGE_TYPE_BUDDY while it heads a free block
 *               +24  zone_id, node_id (u8 each), cpu (u8: pcp owner), pad
 *               +28  virtual    highmem: kmap address while mapped, else 0
 *                               (Linux's WANT_PAGE_VIRTUAL)
 *
 * The slab allocator (mm/slub.ts) reuses the fields of the blocks it owns
 * (Linux struct slab, mm/slab.h, overlaid on struct page), so struct page
 * stays 32 bytes:
 *
 *   slab head page  (PG_slab | PG_head)
 *                +8  slab_list  lru_next/lru_prev: the node's partial or full list
 *               +16  private_   the block's order, as the page allocator set it (kept)
 *               +20  slab_cache page_type's place: the kmem_cache (0 again before
 *                               the block goes back: it must not look PageBuddy)
 *               +26  counters   cpu and _pad's place, one u16: inuse (bits 0-14),
 *                               frozen (bit 15: a CPU's slab, on no list)
 *               +28  freelist   virtual's place: the first free object (slab pages
 *                               are never highmem, so page_address never reads it)
 *   slab tail page  (PG_slab without PG_head; order > 0)
 *               +28  compound head   the head page (Linux compound_head)
 *   large kmalloc   (PG_head, page_type = PAGE_TYPE_LARGE_KMALLOC): kmalloc
 *                   blocks above 8 KiB, straight from the page allocator; the
 *                   order stays in private_ (ksize and kfree read it)
 *
 * Lowmem pages are always mapped: page_address(page) = __va(pfn << 12) (the
 * linear map). A highmem page has a kernel address only while kmap()ed
 * (mm/highmem.ts sets `virtual`); page_address() of an unmapped one is 0
 * (NULL), as in Linux.
 *
 * Context: the conversions are pure and run in any context. The sections
 * are set once at boot (mm_init in mm/init.ts) before SMP.
 */
import { PAGE_SHIFT, PAGE_SIZE, pa_in_linear_map, __va, __pa } from "../arch/layout";
import { ZONE_HIGHMEM } from "./gfp";

@unmanaged
export class page {
  flags: u32;
  _refcount: i32;
  lru_next: u32;
  lru_prev: u32;
  private_: u32;
  page_type: u32;
  zone_id: u8;
  node_id: u8;
  cpu: u8;
  _pad: u8;
  virtual: u32;
}
export const STRUCT_PAGE_SIZE: usize = 32;

/** PG_* flag bits. */
export const PG_reserved: u32 = 1 << 0;   // not managed by the buddy allocator (firmware, kernel image, holes)
export const PG_highmem: u32 = 1 << 1;    // in ZONE_HIGHMEM: not permanently mapped
export const PG_pcp: u32 = 1 << 2;        // on a per-CPU list (free, but not in the buddy lists)
export const PG_head: u32 = 1 << 3;       // first page of an allocated block of order > 0 (order in private_)
export const PG_dma_zone: u32 = 1 << 4;   // in ZONE_DMA (for a report; zone_id is authoritative)
export const PG_slab: u32 = 1 << 5;       // owned by the slab allocator (mm/slub.ts): the slab fields above apply

/** page_type value of the page that heads a free buddy block (Linux PG_buddy as a page type). */
export const PAGE_TYPE_BUDDY: u32 = 0xf000_0080;
/** page_type value of the head of a kmalloc block above KMALLOC_MAX_CACHE_SIZE (later Linux's PGTY_large_kmalloc). */
export const PAGE_TYPE_LARGE_KMALLOC: u32 = 0xf000_0800;

/** Offsets of the slab fields overlaid on struct page (see the note). */
export const SLAB_LIST_OFFSET: usize = 8;
export const SLAB_CACHE_OFFSET: usize = 20;
export const SLAB_COUNTERS_OFFSET: usize = 26;
export const SLAB_FREELIST_OFFSET: usize = 28;
export const SLAB_HEAD_OFFSET: usize = 28;

export const MAX_MEM_SECTIONS: i32 = 8;

@unmanaged
export class mem_section {
  start_pfn: u64;
  end_pfn: u64;
  map: usize;
  _pad: u32;
}
export const MEM_SECTION_SIZE: usize = 24;

const sections: usize = memory.data(<i32>(<usize>MAX_MEM_SECTIONS * MEM_SECTION_SIZE), 8);
export let nr_mem_sections: i32 = 0;
/** The lowest and highest+1 pfn of any section. */
export let min_pfn: u64 = 0;
export let max_pfn: u64 = 0;

export function mem_section_of(i: i32): mem_section { return changetype<mem_section>(sections + <usize>i * MEM_SECTION_SIZE); }

/** Add a section (boot only): pages [start_pfn, end_pfn) described by the array at `map`. */
export function add_mem_section(start_pfn: u64, end_pfn: u64, map: usize): void {
  const s = mem_section_of(nr_mem_sections++);
  s.start_pfn = start_pfn;
  s.end_pfn = end_pfn;
  s.map = map;
  if (nr_mem_sections == 1 || start_pfn < min_pfn) min_pfn = start_pfn;
  if (end_pfn > max_pfn) max_pfn = end_pfn;
}

/** Does a struct page exist for `pfn` (Linux pfn_valid)? */
export function pfn_valid(pfn: u64): bool {
  for (let i = 0; i < nr_mem_sections; i++) {
    const s = mem_section_of(i);
    if (pfn >= s.start_pfn && pfn < s.end_pfn) return true;
  }
  return false;
}

/** The struct page of `pfn`, or NULL (0) when no section holds it. */
export function pfn_to_page(pfn: u64): page {
  for (let i = 0; i < nr_mem_sections; i++) {
    const s = mem_section_of(i);
    if (pfn >= s.start_pfn && pfn < s.end_pfn) return changetype<page>(s.map + <usize>(pfn - s.start_pfn) * STRUCT_PAGE_SIZE);
  }
  return changetype<page>(0);
}

/** The pfn a struct page describes, or u64 max when `pg` is not in any memory map. */
export function page_to_pfn(pg: page): u64 {
  const p = changetype<usize>(pg);
  for (let i = 0; i < nr_mem_sections; i++) {
    const s = mem_section_of(i);
    const n = <usize>(s.end_pfn - s.start_pfn);
    if (p >= s.map && p < s.map + n * STRUCT_PAGE_SIZE) return s.start_pfn + <u64>((p - s.map) / STRUCT_PAGE_SIZE);
  }
  return U64.MAX_VALUE;
}

/** Is `pg` a pointer to a struct page of some section (and on a struct boundary)? */
export function page_is_valid(pg: page): bool {
  const p = changetype<usize>(pg);
  for (let i = 0; i < nr_mem_sections; i++) {
    const s = mem_section_of(i);
    const n = <usize>(s.end_pfn - s.start_pfn);
    if (p >= s.map && p < s.map + n * STRUCT_PAGE_SIZE) return (p - s.map) % STRUCT_PAGE_SIZE == 0;
  }
  return false;
}

// @ts-ignore: decorator
@inline export function page_to_phys(pg: page): u64 { return page_to_pfn(pg) << PAGE_SHIFT; }
// @ts-ignore: decorator
@inline export function phys_to_page(pa: u64): page { return pfn_to_page(pa >> PAGE_SHIFT); }

/** The page `n` pages after `pg` (pfn order; the block must lie inside one section). */
// @ts-ignore: decorator
@inline export function nth_page(pg: page, n: u64): page {
  return changetype<page>(changetype<usize>(pg) + <usize>n * STRUCT_PAGE_SIZE);
}

// @ts-ignore: decorator
@inline export function PageHighMem(pg: page): bool { return (pg.flags & PG_highmem) != 0; }
// @ts-ignore: decorator
@inline export function PageReserved(pg: page): bool { return (pg.flags & PG_reserved) != 0; }
// @ts-ignore: decorator
@inline export function PageBuddy(pg: page): bool { return pg.page_type == PAGE_TYPE_BUDDY; }
// @ts-ignore: decorator
@inline export function page_zonenum(pg: page): i32 { return <i32>pg.zone_id; }
// @ts-ignore: decorator
@inline export function page_to_nid(pg: page): i32 { return <i32>pg.node_id; }
// @ts-ignore: decorator
@inline export function page_count(pg: page): i32 { return atomic.load<i32>(changetype<usize>(pg), offsetof<page>("_refcount")); }

/**
 * The kernel address of a page's memory (Linux page_address): the linear
 * map for lowmem, the kmap address for a mapped highmem page, 0 (NULL) for
 * an unmapped highmem page.
 */
export function page_address(pg: page): usize {
  if (PageHighMem(pg)) return <usize>atomic.load<u32>(changetype<usize>(pg), offsetof<page>("virtual"));
  const pa = page_to_phys(pg);
  return pa_in_linear_map(pa) ? __va(pa) : 0;
}

/** Record the kmap address of a highmem page (0 = unmapped). Used by mm/highmem.ts. */
export function set_page_address(pg: page, addr: usize): void {
  atomic.store<u32>(changetype<usize>(pg), <u32>addr, offsetof<page>("virtual"));
}

/** The struct page of a linear-map (lowmem) kernel address (Linux virt_to_page). */
export function virt_to_page(addr: usize): page {
  return pfn_to_page(__pa(addr) >> PAGE_SHIFT);
}

/** Is the linear-map address `addr` page aligned? */
// @ts-ignore: decorator
@inline export function PAGE_ALIGNED(addr: u64): bool { return (addr & <u64>(PAGE_SIZE - 1)) == 0; }

/** Is ZONE_HIGHMEM the page's zone (equivalent to PageHighMem once mm_init has run)? */
export function is_highmem_page(pg: page): bool { return page_zonenum(pg) == ZONE_HIGHMEM; }
