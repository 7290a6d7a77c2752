/**
 * The boot-time allocator: memblock, and the bootmem interface on top of it
 * (Linux mm/memblock.c and the pre-4.20 include/linux/bootmem.h names).
 *
 * Before the page allocator exists, memory is two sorted, merged lists of
 * physical ranges:
 *
 *   memblock.memory    every RAM bank of the device tree
 *   memblock.reserved  what must not be handed out: the firmware (the DT's
 *                      reservation block and /reserved-memory), the kernel
 *                      image with its static data, the DTB, and everything
 *                      memblock_alloc has given out since
 *
 *   free = memory − reserved. Allocation searches the free ranges top-down
 *   (Linux's default), below `memblock_current_limit` (the end of the linear
 *   map: memblock_alloc returns kernel pointers) unless the caller gives a
 *   range, and reserves what it returns. memblock_free un-reserves.
 *
 * memblock_free_all (called once by mm_init, after the memory map and zones
 * exist) hands every free page to the buddy allocator; from then on
 * memblock is read-only (memblock_alloc warns and fails), as in Linux after
 * mem_init.
 *
 * bootmem (LDD3 era): alloc_bootmem(size) = zeroed memory aligned to a
 * cache line, panicking when there is none ("bootmem alloc of N bytes
 * failed!"); _low variants allocate below ARCH_LOW_ADDRESS_LIMIT, which
 * here is the DMA engine's window (ZONE_DMA); _pages variants page-align;
 * free_bootmem(phys, size) gives memory back (it reaches the buddy
 * allocator at memblock_free_all).
 *
 * Context: boot CPU, before SMP, single-threaded: no locking.
 */
import { PAGE_SIZE, PHYS_DRAM_BASE, LINEAR_MAP_SIZE, __va, __pa } from "../arch/layout";
import { pr_err, pr_warn, pr_info } from "../printk";
import { panic } from "../panic";

export const INIT_MEMBLOCK_REGIONS: i32 = 128;
/** Linux SMP_CACHE_BYTES: alloc_bootmem's alignment. */
export const SMP_CACHE_BYTES: u64 = 64;

/** Flags of memblock_phys_alloc_range's `end`: anywhere the caller can map. */
export const MEMBLOCK_ALLOC_ACCESSIBLE: u64 = 0;
export const MEMBLOCK_ALLOC_ANYWHERE: u64 = U64.MAX_VALUE;

@unmanaged
export class memblock_region {
  base: u64;
  size: u64;
}
const REGION_SIZE: usize = 16;

@unmanaged
export class memblock_type {
  cnt: i32;
  max: i32;
  regions: usize;
  /** Total bytes. */
  total_size: u64;
}

export const memblock_memory = changetype<memblock_type>(memory.data(24, 8));
export const memblock_reserved = changetype<memblock_type>(memory.data(24, 8));
const memory_regions: usize = memory.data(<i32>(<usize>INIT_MEMBLOCK_REGIONS * REGION_SIZE), 8);
const reserved_regions: usize = memory.data(<i32>(<usize>INIT_MEMBLOCK_REGIONS * REGION_SIZE), 8);

/** Allocations below this address only (the end of the linear map, or of low DRAM). */
export let memblock_current_limit: u64 = 0;
/** ARCH_LOW_ADDRESS_LIMIT: the end of the DMA window (alloc_bootmem_low). */
export let arch_low_address_limit: u64 = 0;
/** True once memblock_free_all has run: memblock hands nothing out any more. */
export let memblock_done: bool = false;
/** Bytes memblock_free_all released to the buddy allocator, and calls that failed. */
export let memblock_released_pages: u64 = 0;
export let memblock_alloc_failures: i32 = 0;

export function memblock_region_of(t: memblock_type, i: i32): memblock_region {
  return changetype<memblock_region>(t.regions + <usize>i * REGION_SIZE);
}

/** Reset both lists (boot, and the host-side tests of this file). */
export function memblock_init(): void {
  memblock_memory.cnt = 0;
  memblock_memory.max = INIT_MEMBLOCK_REGIONS;
  memblock_memory.regions = memory_regions;
  memblock_memory.total_size = 0;
  memblock_reserved.cnt = 0;
  memblock_reserved.max = INIT_MEMBLOCK_REGIONS;
  memblock_reserved.regions = reserved_regions;
  memblock_reserved.total_size = 0;
  memblock_current_limit = PHYS_DRAM_BASE + LINEAR_MAP_SIZE;
  arch_low_address_limit = PHYS_DRAM_BASE + LINEAR_MAP_SIZE;
  memblock_done = false;
}

export function memblock_set_current_limit(limit: u64): void { memblock_current_limit = limit; }
export function memblock_set_low_limit(limit: u64): void { arch_low_address_limit = limit; }

function type_total(t: memblock_type): void {
  let s: u64 = 0;
  for (let i = 0; i < t.cnt; i++) s += memblock_region_of(t, i).size;
  t.total_size = s;
}

/** Add [base, base + size) to `t`, keeping it sorted and merged. Returns 0 or -ENOMEM (-12). */
function memblock_add_range(t: memblock_type, base: u64, size: u64): i32 {
  if (size == 0) return 0;
  let end = base + size;
  if (end < base) end = U64.MAX_VALUE; // clip a range that wraps
  // Merge every region that overlaps or touches [base, end).
  let i = 0;
  while (i < t.cnt) {
    const r = memblock_region_of(t, i);
    const rend = r.base + r.size;
    if (rend < base || r.base > end) { i++; continue; }
    if (r.base < base) base = r.base;
    if (rend > end) end = rend;
    remove_region(t, i);
  }
  if (t.cnt >= t.max) {
    pr_err("memblock: no room for [%#018lx-%#018lx] (%d regions)\n", base, end - 1, t.max);
    return -12;
  }
  let at = 0;
  while (at < t.cnt && memblock_region_of(t, at).base < base) at++;
  memory.copy(t.regions + <usize>(at + 1) * REGION_SIZE, t.regions + <usize>at * REGION_SIZE, <usize>(t.cnt - at) * REGION_SIZE);
  const nr = memblock_region_of(t, at);
  nr.base = base;
  nr.size = end - base;
  t.cnt++;
  type_total(t);
  return 0;
}

function remove_region(t: memblock_type, i: i32): void {
  memory.copy(t.regions + <usize>i * REGION_SIZE, t.regions + <usize>(i + 1) * REGION_SIZE, <usize>(t.cnt - i - 1) * REGION_SIZE);
  t.cnt--;
}

/** Remove [base, base + size) from `t`, splitting regions. */
function memblock_remove_range(t: memblock_type, base: u64, size: u64): i32 {
  if (size == 0) return 0;
  const end = base + size;
  let i = 0;
  while (i < t.cnt) {
    const r = memblock_region_of(t, i);
    const rbase = r.base;
    const rend = r.base + r.size;
    if (rend <= base || rbase >= end) { i++; continue; }
    if (rbase < base && rend > end) {
      // Split in two.
      r.size = base - rbase;
      type_total(t);
      return memblock_add_range(t, end, rend - end);
    }
    if (rbase < base) { r.size = base - rbase; i++; continue; }
    if (rend > end) { r.base = end; r.size = rend - end; i++; continue; }
    remove_region(t, i);
  }
  type_total(t);
  return 0;
}

/** Register RAM. */
export function memblock_add(base: u64, size: u64): i32 { return memblock_add_range(memblock_memory, base, size); }
/** Mark [base, base + size) as not to be handed out. */
export function memblock_reserve(base: u64, size: u64): i32 { return memblock_add_range(memblock_reserved, base, size); }
/** Un-reserve a physical range (Linux memblock_phys_free). */
export function memblock_phys_free(base: u64, size: u64): i32 { return memblock_remove_range(memblock_reserved, base, size); }

/** Is any byte of [base, base + size) reserved? */
export function memblock_is_region_reserved(base: u64, size: u64): bool {
  const end = base + size;
  for (let i = 0; i < memblock_reserved.cnt; i++) {
    const r = memblock_region_of(memblock_reserved, i);
    if (r.base < end && r.base + r.size > base) return true;
  }
  return false;
}

/** Is `addr` RAM? */
export function memblock_is_memory(addr: u64): bool {
  for (let i = 0; i < memblock_memory.cnt; i++) {
    const r = memblock_region_of(memblock_memory, i);
    if (addr >= r.base && addr < r.base + r.size) return true;
  }
  return false;
}

/** Total RAM and reserved bytes. */
export function memblock_phys_mem_size(): u64 { return memblock_memory.total_size; }
export function memblock_reserved_size(): u64 { return memblock_reserved.total_size; }
export function memblock_start_of_DRAM(): u64 { return memblock_memory.cnt > 0 ? memblock_region_of(memblock_memory, 0).base : 0; }
export function memblock_end_of_DRAM(): u64 {
  if (memblock_memory.cnt == 0) return 0;
  const r = memblock_region_of(memblock_memory, memblock_memory.cnt - 1);
  return r.base + r.size;
}

/**
 * Find a free range of `size` bytes aligned to `align` inside [start, end),
 * highest first. Returns its base, or 0 when there is none.
 */
export function memblock_find_in_range(size: u64, align: u64, start: u64, end: u64): u64 {
  if (size == 0 || align == 0 || (align & (align - 1)) != 0) return 0;
  // Memory regions from the top; inside each, the gaps between the (sorted,
  // merged) reserved ranges from the top.
  for (let i = memblock_memory.cnt - 1; i >= 0; i--) {
    const m = memblock_region_of(memblock_memory, i);
    let hi = m.base + m.size;
    if (hi > end) hi = end;
    const lo = m.base > start ? m.base : start;
    if (hi <= lo) continue;
    for (let j = memblock_reserved.cnt - 1; j >= 0 && hi > lo; j--) {
      const r = memblock_region_of(memblock_reserved, j);
      const rend = r.base + r.size;
      if (r.base >= hi) continue;
      if (rend <= lo) break;
      const cand = fit(rend > lo ? rend : lo, hi, size, align);
      if (cand != 0) return cand;
      hi = r.base;
    }
    if (hi > lo) {
      const cand = fit(lo, hi, size, align);
      if (cand != 0) return cand;
    }
  }
  return 0;
}

/** The highest `align`-aligned base of `size` bytes inside [lo, hi), or 0. */
function fit(lo: u64, hi: u64, size: u64, align: u64): u64 {
  if (hi <= lo || hi - lo < size) return 0;
  const cand = (hi - size) & ~(align - 1);
  return cand >= lo ? cand : 0;
}

/**
 * Allocate `size` bytes aligned to `align` inside physical [start, end)
 * (end = MEMBLOCK_ALLOC_ACCESSIBLE: the current limit) and reserve them.
 * Not zeroed. Returns the physical address, or 0.
 */
export function memblock_phys_alloc_range(size: u64, align: u64, start: u64, end: u64): u64 {
  if (memblock_done) {
    pr_warn("memblock: memblock_phys_alloc_range(%lu) after memblock_free_all: use the page allocator\n", size);
    memblock_alloc_failures++;
    return 0;
  }
  if (end == MEMBLOCK_ALLOC_ACCESSIBLE || end > memblock_current_limit) end = memblock_current_limit;
  size = (size + 7) & ~7;
  const pa = memblock_find_in_range(size, align, start, end);
  if (pa == 0 || memblock_reserve(pa, size) != 0) { memblock_alloc_failures++; return 0; }
  return pa;
}

/** memblock_phys_alloc_range below the current limit. */
export function memblock_phys_alloc(size: u64, align: u64): u64 {
  return memblock_phys_alloc_range(size, align, 0, MEMBLOCK_ALLOC_ACCESSIBLE);
}

/** Allocate zeroed memory in [min_addr, max_addr) and return a kernel pointer, or 0 (Linux memblock_alloc_try_nid). */
export function memblock_alloc_range(size: u64, align: u64, min_addr: u64, max_addr: u64): usize {
  const pa = memblock_phys_alloc_range(size, align, min_addr, max_addr);
  if (pa == 0) return 0;
  const p = __va(pa);
  memory.fill(p, 0, <usize>size);
  return p;
}

/** Zeroed memory from the linear map, or 0 (Linux memblock_alloc). */
export function memblock_alloc(size: u64, align: u64): usize {
  return memblock_alloc_range(size, align, 0, MEMBLOCK_ALLOC_ACCESSIBLE);
}

/** Give back memory memblock_alloc returned (Linux memblock_free, by pointer). */
export function memblock_free(ptr: usize, size: u64): void {
  memblock_phys_free(__pa(ptr), (size + 7) & ~7);
}

// --- bootmem ------------------------------------------------------------------------------------

function bootmem_or_panic(p: usize, size: u64): usize {
  if (p == 0) {
    pr_err("bootmem alloc of %lu bytes failed!\n", size);
    panic("Out of memory");
  }
  return p;
}

/** Zeroed, cache-line aligned; panics when there is no memory. */
export function alloc_bootmem(size: u64): usize {
  return bootmem_or_panic(memblock_alloc(size, SMP_CACHE_BYTES), size);
}

/** alloc_bootmem below ARCH_LOW_ADDRESS_LIMIT (the DMA window). */
export function alloc_bootmem_low(size: u64): usize {
  return bootmem_or_panic(memblock_alloc_range(size, SMP_CACHE_BYTES, 0, arch_low_address_limit), size);
}

/** alloc_bootmem, page aligned. */
export function alloc_bootmem_pages(size: u64): usize {
  return bootmem_or_panic(memblock_alloc(size, <u64>PAGE_SIZE), size);
}

/** alloc_bootmem_low, page aligned. */
export function alloc_bootmem_low_pages(size: u64): usize {
  return bootmem_or_panic(memblock_alloc_range(size, <u64>PAGE_SIZE, 0, arch_low_address_limit), size);
}

/** alloc_bootmem without the panic: 0 when there is no memory (Linux alloc_bootmem_nopanic). */
export function alloc_bootmem_nopanic(size: u64): usize {
  return memblock_alloc(size, SMP_CACHE_BYTES);
}

/** Give back [physaddr, physaddr + size): its pages reach the buddy allocator at memblock_free_all. */
export function free_bootmem(physaddr: u64, size: u64): void {
  memblock_phys_free(physaddr, size);
}

/** Print both lists (memblock=debug). */
export function memblock_dump_all(): void {
  pr_info("MEMBLOCK configuration:\n");
  pr_info(" memory size = %#lx reserved size = %#lx\n", memblock_memory.total_size, memblock_reserved.total_size);
  pr_info(" memory.cnt  = %#x\n", memblock_memory.cnt);
  for (let i = 0; i < memblock_memory.cnt; i++) {
    const r = memblock_region_of(memblock_memory, i);
    pr_info(" memory[%#x]\t[%#018lx-%#018lx], %#lx bytes\n", i, r.base, r.base + r.size - 1, r.size);
  }
  pr_info(" reserved.cnt  = %#x\n", memblock_reserved.cnt);
  for (let i = 0; i < memblock_reserved.cnt; i++) {
    const r = memblock_region_of(memblock_reserved, i);
    pr_info(" reserved[%#x]\t[%#018lx-%#018lx], %#lx bytes\n", i, r.base, r.base + r.size - 1, r.size);
  }
}

/** Mark memblock finished (memblock_free_all in page_alloc.ts calls this after releasing the pages). */
export function memblock_set_done(released_pages: u64): void {
  memblock_done = true;
  memblock_released_pages = released_pages;
}
