/**
 * The kmalloc family (Linux mm/slab_common.c and include/linux/slab.h, as
 * of 6.1; cache names as of 4.19: kmalloc-8192, not kmalloc-8k):
 * general-purpose allocations by size, from a set of slab caches
 * (mm/slub.ts) and, above 8 KiB, straight from the page allocator.
 *
 *   size      0     1…8  9…16  17…32  33…64  65…96  97…128  129…192  193…256 … 4097…8192   8193 …
 *   cache     ZERO_ kmalloc-8 -16 -32    -64    -96    -128    -192     -256    …  -8192      pages:
 *             SIZE_                                                                          order =
 *             PTR   (≤ 192: Linux's size_index table; above: the next power of two)          get_order(size)
 *
 *   kmalloc_caches[KMALLOC_NORMAL][i]   "kmalloc-<n>"       i = 3 … 13 (8 … 8192), 1 = 96, 2 = 192
 *   kmalloc_caches[KMALLOC_DMA][i]      "dma-kmalloc-<n>"   SLAB_CACHE_DMA: slabs from ZONE_DMA,
 *                                                           chosen by __GFP_DMA in the flags
 *
 * Above KMALLOC_MAX_CACHE_SIZE (8192) kmalloc takes 2^order pages with
 * alloc_pages(flags | __GFP_COMP): the head page is marked
 * PAGE_TYPE_LARGE_KMALLOC and keeps its order (mm/page.ts), so that ksize
 * says PAGE_SIZE << order and kfree gives the block back; __GFP_DMA gives
 * ZONE_DMA pages; requests beyond the largest block (4 MiB) fail.
 *
 * Semantics as Linux's: kmalloc(0) is ZERO_SIZE_PTR (16), which kfree and
 * ksize accept (ZERO_OR_NULL_PTR); kmalloc_array and kcalloc return NULL
 * when n · size overflows (size_t is the 32-bit kernel pointer width here);
 * krealloc(NULL, n) is kmalloc(n), krealloc(p, 0) frees p and returns
 * ZERO_SIZE_PTR, a new size within ksize(p) keeps p (shrinking in place
 * too), else the contents move to a new object and p is freed (p stays
 * untouched when that allocation fails); kstrdup / kstrndup / kmemdup copy
 * C strings and bytes into kmalloc memory. __GFP_HIGHMEM and __GFP_DMA32
 * are a caller's bug: stripped with Linux's "Unexpected gfp" warning
 * (kmalloc_fix_flags). SLAB_STORE_USER tracking records the call site of
 * the kmalloc-family call, as Linux's _RET_IP_ does: the API functions are
 * @inline wrappers that pass sp_read(), the caller's stack pointer, down
 * (mm/slub.ts save_caller_stack).
 *
 * kmem_cache_init() (from mm_init, once the buddy allocator is up) brings
 * up the descriptor cache "kmem_cache" (mm/slub.ts) and then the kmalloc
 * caches in Linux's order (normal, then DMA; 8 … 64, 96, 128, 192, 256 …).
 *
 * Context: as mm/slub.ts: any context with non-sleeping flags, process
 * context for GFP_KERNEL; kfree, ksize never sleep.
 */
import { PAGE_SIZE, pa_in_linear_map, __pa } from "../arch/layout";
import { sp_read } from "../arch/riscv";
import { dump_stack } from "../arch/traps";
import { pr_err, pr_info } from "../printk";
import { strnlen } from "../lib/string";
import { nr_cpu_ids } from "../of/fdt";
import { gfp_t, __GFP_DMA, __GFP_ZERO, __GFP_COMP, __GFP_NOWARN } from "./gfp";
import { page, PG_head, PG_slab, virt_to_page, page_address, page_to_pfn, PAGE_TYPE_LARGE_KMALLOC } from "./page";
import { alloc_pages, __free_pages } from "./page_alloc";
import { MAX_ORDER, nr_online_nodes, NUMA_NO_NODE } from "./mmzone";
import {
  kmem_cache, kmem_cache_init_boot, create_boot_cache, __kmem_cache_alloc, __kmem_cache_free_slab, virt_to_slab,
  slab_cache_of, slab_ksize, get_order, fls, kmalloc_fix_flags, slab_set_state, SLAB_UP, SLAB_FULL, SLAB_KMALLOC,
  SLAB_CACHE_DMA, GFP_SLAB_BUG_MASK, ARCH_SLAB_MINALIGN, L1_CACHE_BYTES, slub_min_order, slub_max_order, slub_reports,
  slub_report_counts,
} from "./slub";

/** kmalloc(0)'s result: not NULL, but no object (Linux ZERO_SIZE_PTR). */
export const ZERO_SIZE_PTR: usize = 16;
/** NULL or ZERO_SIZE_PTR (Linux ZERO_OR_NULL_PTR): nothing to free or read. */
// @ts-ignore: decorator
@inline export function ZERO_OR_NULL_PTR(p: usize): bool { return p <= ZERO_SIZE_PTR; }

export const KMALLOC_SHIFT_LOW: u32 = 3;
export const KMALLOC_SHIFT_HIGH: u32 = 13;
export const KMALLOC_MIN_SIZE: u32 = 1 << KMALLOC_SHIFT_LOW;
/** The largest kmalloc served by a cache (SLUB: two pages). */
export const KMALLOC_MAX_CACHE_SIZE: u32 = 1 << KMALLOC_SHIFT_HIGH;
/** The largest kmalloc at all: one block of order MAX_ORDER − 1. */
export const KMALLOC_MAX_SIZE: usize = <usize>PAGE_SIZE << (MAX_ORDER - 1);
/** Linux ARCH_KMALLOC_MINALIGN. */
export const ARCH_KMALLOC_MINALIGN: u32 = 8;

export const KMALLOC_NORMAL: i32 = 0;
export const KMALLOC_DMA: i32 = 1;
export const NR_KMALLOC_TYPES: i32 = 2;
const NR_KMALLOC_INDEX: i32 = <i32>KMALLOC_SHIFT_HIGH + 1;

/** kmalloc_caches[type][index] (kmem_cache pointers). */
const kmalloc_caches: usize = memory.data(NR_KMALLOC_TYPES * NR_KMALLOC_INDEX * 4, 4);

/** Linux size_index[]: the cache index for sizes 1 … 192, by (size − 1) / 8. */
const size_index: StaticArray<u8> = [
  3, 4, 5, 5, 6, 6, 6, 6,    //   8  16  24  32  40  48  56  64
  1, 1, 1, 1, 7, 7, 7, 7,    //  72  80  88  96 104 112 120 128
  2, 2, 2, 2, 2, 2, 2, 2,    // 136 144 152 160 168 176 184 192
];

/** Linux kmalloc_info[]: names and sizes by index. */
const KMALLOC_NAMES: StaticArray<string> = [
  "", "kmalloc-96", "kmalloc-192", "kmalloc-8", "kmalloc-16", "kmalloc-32", "kmalloc-64", "kmalloc-128",
  "kmalloc-256", "kmalloc-512", "kmalloc-1024", "kmalloc-2048", "kmalloc-4096", "kmalloc-8192",
];
const DMA_KMALLOC_NAMES: StaticArray<string> = [
  "", "dma-kmalloc-96", "dma-kmalloc-192", "dma-kmalloc-8", "dma-kmalloc-16", "dma-kmalloc-32", "dma-kmalloc-64",
  "dma-kmalloc-128", "dma-kmalloc-256", "dma-kmalloc-512", "dma-kmalloc-1024", "dma-kmalloc-2048", "dma-kmalloc-4096",
  "dma-kmalloc-8192",
];

/** The object size of kmalloc index `i` (Linux kmalloc_size). */
export function kmalloc_size(i: i32): u32 {
  if (i == 1) return 96;
  if (i == 2) return 192;
  return i >= <i32>KMALLOC_SHIFT_LOW && i <= <i32>KMALLOC_SHIFT_HIGH ? <u32>1 << <u32>i : 0;
}

/** The index of the cache for `size` bytes, 1 ≤ size ≤ 8192 (Linux kmalloc_slab's index). */
export function kmalloc_index(size: usize): i32 {
  if (size <= 192) return <i32>size_index[<i32>((size - 1) / 8)];
  return <i32>fls(<u32>(size - 1));
}

/** The cache kmalloc(size, flags) uses, or null (size 0, size > 8192, before kmem_cache_init). Context: any. */
export function kmalloc_slab(size: usize, flags: gfp_t): kmem_cache {
  if (size == 0 || size > <usize>KMALLOC_MAX_CACHE_SIZE) return changetype<kmem_cache>(0);
  const type = (flags & __GFP_DMA) != 0 ? KMALLOC_DMA : KMALLOC_NORMAL;
  return kmalloc_cache(type, kmalloc_index(size));
}

/** kmalloc_caches[type][index] (null when absent). Context: any. */
export function kmalloc_cache(type: i32, index: i32): kmem_cache {
  if (type < 0 || type >= NR_KMALLOC_TYPES || index < 0 || index >= NR_KMALLOC_INDEX) return changetype<kmem_cache>(0);
  return changetype<kmem_cache>(<usize>load<u32>(kmalloc_caches + <usize>((type * NR_KMALLOC_INDEX + index) * 4)));
}

// --- large kmalloc --------------------------------------------------------------------------------

/** Large blocks: allocations, frees, pages held (atomics, read with kmalloc_large_stats). */
const large_stats: usize = memory.data(24, 8);
export const LARGE_ALLOCS: i32 = 0;
export const LARGE_FREES: i32 = 1;
export const LARGE_PAGES: i32 = 2;

/** A large-kmalloc counter (LARGE_ALLOCS, LARGE_FREES, LARGE_PAGES). Context: any. */
export function kmalloc_large_stats(which: i32): i64 { return atomic.load<i64>(large_stats + <usize>(which * 8)); }

function kmalloc_large(size: usize, flags: gfp_t): usize {
  if (flags & GFP_SLAB_BUG_MASK) flags = kmalloc_fix_flags(flags);
  const order = get_order(<u64>size);
  const pg = alloc_pages(flags | __GFP_COMP, order);
  if (changetype<usize>(pg) == 0) return 0;
  pg.page_type = PAGE_TYPE_LARGE_KMALLOC;
  atomic.add<i64>(large_stats, 1);
  atomic.add<i64>(large_stats, <i64>1 << order, 16);
  return page_address(pg);
}

/** The head page of a large kmalloc block starting at `p`, or null. */
function large_kmalloc_page(p: usize): page {
  if (!pa_in_linear_map(__pa(p)) || (p & (PAGE_SIZE - 1)) != 0) return changetype<page>(0);
  const pg = virt_to_page(p);
  if (changetype<usize>(pg) == 0 || (pg.flags & PG_head) == 0 || pg.page_type != PAGE_TYPE_LARGE_KMALLOC) return changetype<page>(0);
  return pg;
}

function bad_kfree(fn: string, p: usize): void {
  atomic.add<u32>(changetype<usize>(slub_reports), 1, offsetof<slub_report_counts>("not_slab"));
  let pfn: u64 = 0;
  if (pa_in_linear_map(__pa(p))) {
    const pg = virt_to_page(p);
    if (changetype<usize>(pg) != 0) pfn = page_to_pfn(pg);
  }
  pr_err("%s: 0x%016lx was not handed out by kmalloc (not in a slab, not a large kmalloc block; pfn %#lx)\n",
    changetype<usize>(fn), <u64>p, pfn);
  dump_stack();
}

// --- the family -----------------------------------------------------------------------------------

/** kmalloc with the API function's stack pointer (caller tracking). */
function __kmalloc(size: usize, flags: gfp_t, api_sp: u64): usize {
  if (size > <usize>KMALLOC_MAX_CACHE_SIZE) return kmalloc_large(size, flags);
  if (size == 0) return ZERO_SIZE_PTR;
  const s = kmalloc_slab(size, flags);
  if (changetype<usize>(s) == 0) return 0;
  return __kmem_cache_alloc(s, flags, NUMA_NO_NODE, api_sp);
}

/**
 * Allocate `size` bytes (Linux kmalloc): from the smallest kmalloc cache
 * that holds them (dma-kmalloc-* with __GFP_DMA), from the page allocator
 * above 8192. Returns the memory, ZERO_SIZE_PTR for size 0, or 0 (NULL) on
 * failure. Context: any with non-sleeping flags; GFP_KERNEL in process
 * context only.
 */
// @ts-ignore: decorator
@inline export function kmalloc(size: usize, flags: gfp_t): usize { return __kmalloc(size, flags, sp_read()); }

/** kmalloc of zeroed memory (Linux kzalloc). NULL on failure. Context: as kmalloc. */
// @ts-ignore: decorator
@inline export function kzalloc(size: usize, flags: gfp_t): usize { return __kmalloc(size, flags | __GFP_ZERO, sp_read()); }

function __kmalloc_array(n: usize, size: usize, flags: gfp_t, api_sp: u64): usize {
  if (size != 0 && n > <usize>U32.MAX_VALUE / size) return 0; // Linux check_mul_overflow
  return __kmalloc(n * size, flags, api_sp);
}

/** kmalloc(n · size), or NULL when the product overflows (Linux kmalloc_array). Context: as kmalloc. */
// @ts-ignore: decorator
@inline export function kmalloc_array(n: usize, size: usize, flags: gfp_t): usize { return __kmalloc_array(n, size, flags, sp_read()); }

/** Zeroed kmalloc_array (Linux kcalloc). NULL on overflow or failure. Context: as kmalloc. */
// @ts-ignore: decorator
@inline export function kcalloc(n: usize, size: usize, flags: gfp_t): usize { return __kmalloc_array(n, size, flags | __GFP_ZERO, sp_read()); }

/**
 * The usable size of kmalloc (or slab) memory at `p` (Linux ksize): the
 * cache's object size (its stride for a plain cache), PAGE_SIZE << order
 * for a large block, 0 for NULL and ZERO_SIZE_PTR; 0 with a report for
 * anything else. Context: any.
 */
export function ksize(p: usize): usize {
  if (ZERO_OR_NULL_PTR(p)) return 0;
  const slab = virt_to_slab(p);
  if (changetype<usize>(slab) != 0) return <usize>slab_ksize(slab_cache_of(slab));
  const pg = large_kmalloc_page(p);
  if (changetype<usize>(pg) != 0) return <usize>PAGE_SIZE << pg.private_;
  bad_kfree("ksize", p);
  return 0;
}

function __kfree(p: usize, api_sp: u64): void {
  if (ZERO_OR_NULL_PTR(p)) return;
  const slab = virt_to_slab(p);
  if (changetype<usize>(slab) != 0) {
    __kmem_cache_free_slab(changetype<kmem_cache>(0), slab, p, api_sp);
    return;
  }
  const pg = large_kmalloc_page(p);
  if (changetype<usize>(pg) == 0) { bad_kfree("kfree", p); return; }
  const order = pg.private_;
  pg.page_type = 0;
  atomic.add<i64>(large_stats, 1, 8);
  atomic.sub<i64>(large_stats, <i64>1 << order, 16);
  __free_pages(pg, order);
}

/**
 * Free kmalloc memory (Linux kfree): NULL and ZERO_SIZE_PTR are ignored;
 * slab objects go back to their cache (with its checks), large blocks to
 * the page allocator; anything else is reported and left alone. Context:
 * any (never sleeps).
 */
// @ts-ignore: decorator
@inline export function kfree(p: usize): void { __kfree(p, sp_read()); }

function __krealloc(p: usize, new_size: usize, flags: gfp_t, api_sp: u64): usize {
  if (new_size == 0) {
    __kfree(p, api_sp);
    return ZERO_SIZE_PTR;
  }
  const ks: usize = ZERO_OR_NULL_PTR(p) ? 0 : ksize(p);
  if (ks >= new_size) return p;
  const ret = __kmalloc(new_size, flags, api_sp);
  if (ret != 0 && !ZERO_OR_NULL_PTR(p)) {
    memory.copy(ret, p, ks);
    __kfree(p, api_sp);
  }
  return ret;
}

/**
 * Resize kmalloc memory (Linux krealloc, 6.1): see the note. Returns the
 * memory (maybe `p` itself), ZERO_SIZE_PTR for new_size 0, or NULL when a
 * new object was needed and could not be had (`p` is then untouched).
 * Context: as kmalloc.
 */
// @ts-ignore: decorator
@inline export function krealloc(p: usize, new_size: usize, flags: gfp_t): usize { return __krealloc(p, new_size, flags, sp_read()); }

function __kstrndup(s: usize, max: usize, flags: gfp_t, api_sp: u64): usize {
  if (s == 0) return 0;
  const len = <usize>strnlen(s, max > <usize>I32.MAX_VALUE ? I32.MAX_VALUE : <i32>max);
  const buf = __kmalloc(len + 1, flags, api_sp);
  if (buf != 0) {
    memory.copy(buf, s, len);
    store<u8>(buf + len, 0);
  }
  return buf;
}

/** A kmalloc'ed copy of the C string at `s` (Linux kstrdup). NULL for NULL or on failure. Context: as kmalloc. */
// @ts-ignore: decorator
@inline export function kstrdup(s: usize, flags: gfp_t): usize { return __kstrndup(s, <usize>I32.MAX_VALUE, flags, sp_read()); }

/** A kmalloc'ed copy of at most `max` bytes of the C string at `s`, NUL-terminated (Linux kstrndup). NULL for NULL or on failure. */
// @ts-ignore: decorator
@inline export function kstrndup(s: usize, max: usize, flags: gfp_t): usize { return __kstrndup(s, max, flags, sp_read()); }

function __kmemdup(src: usize, len: usize, flags: gfp_t, api_sp: u64): usize {
  const p = __kmalloc(len, flags, api_sp);
  if (!ZERO_OR_NULL_PTR(p)) memory.copy(p, src, len);
  return p;
}

/** A kmalloc'ed copy of `len` bytes at `src` (Linux kmemdup); ZERO_SIZE_PTR for 0 bytes, NULL on failure. Context: as kmalloc. */
// @ts-ignore: decorator
@inline export function kmemdup(src: usize, len: usize, flags: gfp_t): usize { return __kmemdup(src, len, flags, sp_read()); }

// --- boot -----------------------------------------------------------------------------------------

function new_kmalloc_cache(index: i32, type: i32): void {
  const name = type == KMALLOC_DMA ? DMA_KMALLOC_NAMES[index] : KMALLOC_NAMES[index];
  const flags = SLAB_KMALLOC | (type == KMALLOC_DMA ? SLAB_CACHE_DMA : 0);
  const s = create_boot_cache(name, kmalloc_size(index), ARCH_KMALLOC_MINALIGN, flags);
  store<u32>(kmalloc_caches + <usize>((type * NR_KMALLOC_INDEX + index) * 4), <u32>changetype<usize>(s));
}

/**
 * Bring up the slab allocator: the descriptor cache, then the kmalloc
 * caches (Linux kmem_cache_init + create_kmalloc_caches). Context: boot
 * CPU, before SMP, after memblock_free_all; once.
 */
export function kmem_cache_init(): void {
  kmem_cache_init_boot();
  for (let type = KMALLOC_NORMAL; type < NR_KMALLOC_TYPES; type++) {
    for (let i = <i32>KMALLOC_SHIFT_LOW; i <= <i32>KMALLOC_SHIFT_HIGH; i++) {
      new_kmalloc_cache(i, type);
      // The caches that are not powers of two right after the power of two below them (Linux).
      if (i == 6) new_kmalloc_cache(1, type);
      if (i == 7) new_kmalloc_cache(2, type);
    }
  }
  slab_set_state(SLAB_UP);
  pr_info("SLUB: HWalign=%d, Order=%u-%u, MinObjects=%u, CPUs=%u, Nodes=%u\n", L1_CACHE_BYTES, slub_min_order, slub_max_order, 0,
    nr_cpu_ids, nr_online_nodes);
  slab_set_state(SLAB_FULL);
}
