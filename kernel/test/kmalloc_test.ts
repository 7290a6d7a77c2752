/**
 * Suite `kmalloc`: the kmalloc family (mm/kmalloc.ts) over the kmalloc
 * caches and the page allocator.
 *
 * Every size-class boundary lands in the right cache (by ksize and by the
 * cache's name), zeroing (kzalloc, kcalloc, large blocks), the overflow of
 * kmalloc_array / kcalloc, every krealloc case, kstrdup / kstrndup /
 * kmemdup, ZERO_SIZE_PTR, the dma-kmalloc caches and large DMA blocks in
 * ZONE_DMA, large blocks' pages, bad frees reported and refused, the GFP
 * fix-up. The suite's init and exit hooks check that every case leaves
 * each kmalloc cache with as many live objects as it found, and the large
 * blocks too.
 */
import { kunit, kunit_suite, kunit_suite_hooks, kunit_case, KUNIT_EXPECT_EQ, KUNIT_EXPECT_TRUE, KUNIT_EXPECT_FALSE, KUNIT_EXPECT_NE,
  KUNIT_EXPECT_GE, KUNIT_EXPECT_LT, KUNIT_EXPECT_STREQ, KUNIT_ASSERT_TRUE, kunit_quiet, kunit_loud, kunit_logged } from "./ktap";
import { PAGE_SIZE, PAGE_SHIFT, KERNEL_PHYS_BASE } from "../arch/layout";
import { scnprintf } from "../lib/vsprintf";
import { str_to_bytes, strlen } from "../lib/string";
import { nr_free_pages } from "../mm/page_alloc";
import { dma_zone_end_pfn } from "../mm/page_alloc";
import { page, page_zonenum, virt_to_page, page_to_pfn, PAGE_TYPE_LARGE_KMALLOC } from "../mm/page";
import { GFP_KERNEL, GFP_DMA, __GFP_HIGHMEM, __GFP_NOWARN, ZONE_DMA, ZONE_NORMAL, ZONE_HIGHMEM } from "../mm/gfp";
import { failslab_fail_next } from "../mm/failslab";
import {
  kmem_cache, kmem_cache_create, kmem_cache_alloc, kmem_cache_free, kmem_cache_destroy, kmem_cache_live_objects, kmem_cache_name,
  virt_to_slab, slab_cache_of, slub_reports, slub_report_counts, get_order,
} from "../mm/slub";
import {
  kmalloc, kzalloc, kcalloc, kmalloc_array, krealloc, kfree, ksize, kstrdup, kstrndup, kmemdup, ZERO_SIZE_PTR, ZERO_OR_NULL_PTR,
  kmalloc_cache, kmalloc_slab, kmalloc_large_stats, LARGE_ALLOCS, LARGE_FREES, LARGE_PAGES, KMALLOC_NORMAL, KMALLOC_DMA,
  NR_KMALLOC_TYPES, KMALLOC_SHIFT_HIGH, KMALLOC_MAX_CACHE_SIZE,
} from "../mm/kmalloc";
import { MAX_PTRS, ptr_at, set_ptr, want_buf, logged_bytes, reports_of, free_pages_now } from "./slab_test";

// --- the suite's hooks: counts as found ----------------------------------------------------------

const NR_IDX: i32 = <i32>KMALLOC_SHIFT_HIGH + 1;
const live_before: usize = memory.data(NR_KMALLOC_TYPES * NR_IDX * 8, 8);
let large_before: i64 = 0;
let large_pages_before: i64 = 0;

function live_of(type: i32, idx: i32): i64 {
  const s = kmalloc_cache(type, idx);
  return changetype<usize>(s) == 0 ? 0 : kmem_cache_live_objects(s);
}

function kmalloc_suite_init(test: kunit): i32 {
  for (let t = 0; t < NR_KMALLOC_TYPES; t++)
    for (let i = 0; i < NR_IDX; i++) store<i64>(live_before + <usize>((t * NR_IDX + i) * 8), live_of(t, i));
  large_before = kmalloc_large_stats(LARGE_ALLOCS) - kmalloc_large_stats(LARGE_FREES);
  large_pages_before = kmalloc_large_stats(LARGE_PAGES);
  return 0;
}

/** Every kmalloc cache has the live objects it had before the case; so have the large blocks. */
function kmalloc_suite_exit(test: kunit): void {
  let changed = 0;
  for (let t = 0; t < NR_KMALLOC_TYPES; t++)
    for (let i = 0; i < NR_IDX; i++) if (live_of(t, i) != load<i64>(live_before + <usize>((t * NR_IDX + i) * 8))) changed++;
  KUNIT_EXPECT_EQ(test, changed, 0);
  KUNIT_EXPECT_EQ(test, kmalloc_large_stats(LARGE_ALLOCS) - kmalloc_large_stats(LARGE_FREES), large_before);
  KUNIT_EXPECT_EQ(test, kmalloc_large_stats(LARGE_PAGES), large_pages_before);
}

// --- helpers -------------------------------------------------------------------------------------

/** The name of the cache `p` came from, or "" for a large block. */
function cache_name_of(p: usize): string {
  const slab = virt_to_slab(p);
  return changetype<usize>(slab) == 0 ? "" : kmem_cache_name(slab_cache_of(slab));
}

function is_large_block(p: usize): bool {
  const pg = virt_to_page(p);
  return changetype<usize>(virt_to_slab(p)) == 0 && pg.page_type == PAGE_TYPE_LARGE_KMALLOC && (p & (PAGE_SIZE - 1)) == 0;
}

function all_bytes(p: usize, n: usize, v: u8): bool {
  for (let i: usize = 0; i < n; i++) if (load<u8>(p + i) != v) return false;
  return true;
}

// --- cases ---------------------------------------------------------------------------------------

/** Sizes at every boundary, the class each must land in, and its cache. */
const CLASS_SIZES: StaticArray<u32> = [
  1, 7, 8, 9, 16, 17, 24, 32, 33, 64, 65, 72, 96, 97, 128, 129, 136, 192, 193, 256, 257, 512, 513, 1024, 1025, 2048, 2049,
  4096, 4097, 8192,
];
const CLASS_OF: StaticArray<u32> = [
  8, 8, 8, 16, 16, 32, 32, 32, 64, 64, 96, 96, 96, 128, 128, 192, 192, 192, 256, 256, 512, 512, 1024, 1024, 2048, 2048, 4096,
  4096, 8192, 8192,
];
const CLASS_NAME: StaticArray<string> = [
  "kmalloc-8", "kmalloc-8", "kmalloc-8", "kmalloc-16", "kmalloc-16", "kmalloc-32", "kmalloc-32", "kmalloc-32", "kmalloc-64",
  "kmalloc-64", "kmalloc-96", "kmalloc-96", "kmalloc-96", "kmalloc-128", "kmalloc-128", "kmalloc-192", "kmalloc-192",
  "kmalloc-192", "kmalloc-256", "kmalloc-256", "kmalloc-512", "kmalloc-512", "kmalloc-1024", "kmalloc-1024", "kmalloc-2048",
  "kmalloc-2048", "kmalloc-4096", "kmalloc-4096", "kmalloc-8192", "kmalloc-8192",
];
/** Above 8192: straight from the page allocator, PAGE_SIZE << get_order(size). */
const LARGE_SIZES: StaticArray<u32> = [8193, 12288, 16384, 16385, 65536, 100000];
const LARGE_KSIZE: StaticArray<u32> = [16384, 16384, 16384, 32768, 65536, 131072];

function kmalloc_size_classes(test: kunit): void {
  for (let k = 0; k < CLASS_SIZES.length; k++) {
    const size = CLASS_SIZES[k];
    const p = kmalloc(size, GFP_KERNEL);
    if (!KUNIT_ASSERT_TRUE(test, p != 0)) return;
    KUNIT_EXPECT_EQ(test, ksize(p), CLASS_OF[k]);
    KUNIT_EXPECT_STREQ(test, cache_name_of(p), CLASS_NAME[k]);
    KUNIT_EXPECT_EQ(test, p & 7, 0);
    // The whole class size is usable.
    memory.fill(p, 0x77, ksize(p));
    KUNIT_EXPECT_TRUE(test, all_bytes(p, ksize(p), 0x77));
    // kmalloc_slab says the same.
    KUNIT_EXPECT_EQ(test, changetype<usize>(kmalloc_slab(size, GFP_KERNEL)), changetype<usize>(slab_cache_of(virt_to_slab(p))));
    kfree(p);
  }
  for (let k = 0; k < LARGE_SIZES.length; k++) {
    const size = LARGE_SIZES[k];
    const p = kmalloc(size, GFP_KERNEL);
    if (!KUNIT_ASSERT_TRUE(test, p != 0)) return;
    KUNIT_EXPECT_TRUE(test, is_large_block(p));
    KUNIT_EXPECT_EQ(test, ksize(p), LARGE_KSIZE[k]);
    KUNIT_EXPECT_EQ(test, virt_to_page(p).private_, get_order(<u64>size));
    store<u8>(p, 1);
    store<u8>(p + <usize>(size - 1), 2);
    KUNIT_EXPECT_EQ(test, load<u8>(p) + load<u8>(p + <usize>(size - 1)), 3);
    KUNIT_EXPECT_TRUE(test, changetype<usize>(kmalloc_slab(size, GFP_KERNEL)) == 0);
    kfree(p);
  }
}

function kmalloc_many_objects(test: kunit): void {
  // 40 objects of every class at once: distinct, non-overlapping (each keeps its fill).
  let n = 0;
  for (let k = 0; k < CLASS_SIZES.length && n + 40 <= MAX_PTRS; k += 2) {
    for (let i = 0; i < 40; i++) {
      const p = kmalloc(CLASS_SIZES[k], GFP_KERNEL);
      set_ptr(n, p);
      if (p != 0) memory.fill(p, <u8>n, <usize>CLASS_SIZES[k]);
      n++;
    }
  }
  let intact = 0;
  let idx = 0;
  for (let k = 0; k < CLASS_SIZES.length && idx + 40 <= n; k += 2) {
    for (let i = 0; i < 40; i++) {
      if (ptr_at(idx) != 0 && all_bytes(ptr_at(idx), <usize>CLASS_SIZES[k], <u8>idx)) intact++;
      idx++;
    }
  }
  KUNIT_EXPECT_EQ(test, intact, n);
  for (let i = 0; i < n; i++) kfree(ptr_at(i));
}

function kmalloc_zeroing(test: kunit): void {
  // A dirty object comes back zeroed from kzalloc (the same object: the freelist is LIFO).
  let p = kmalloc(200, GFP_KERNEL);
  memory.fill(p, 0xff, ksize(p));
  kfree(p);
  let z = kzalloc(200, GFP_KERNEL);
  KUNIT_EXPECT_EQ(test, z, p);
  KUNIT_EXPECT_EQ(test, ksize(z), 256);
  KUNIT_EXPECT_TRUE(test, all_bytes(z, 256, 0));
  kfree(z);
  // kcalloc: n · size bytes, zeroed.
  p = kmalloc(300, GFP_KERNEL);
  memory.fill(p, 0xee, ksize(p));
  kfree(p);
  z = kcalloc(10, 30, GFP_KERNEL);
  KUNIT_EXPECT_EQ(test, ksize(z), 512);
  KUNIT_EXPECT_TRUE(test, all_bytes(z, 300, 0));
  kfree(z);
  // Large blocks zeroed by the page allocator.
  p = kmalloc(12000, GFP_KERNEL);
  memory.fill(p, 0xdd, 12000);
  kfree(p);
  z = kcalloc(3, 4000, GFP_KERNEL);
  KUNIT_EXPECT_TRUE(test, is_large_block(z));
  KUNIT_EXPECT_TRUE(test, all_bytes(z, 16384, 0));
  kfree(z);
}

function kmalloc_array_overflow(test: kunit): void {
  // n · size overflows size_t: NULL, with nothing allocated and nothing printed.
  const first = kunit_quiet();
  KUNIT_EXPECT_EQ(test, kmalloc_array(0x10000, 0x10000, GFP_KERNEL), 0);
  KUNIT_EXPECT_EQ(test, kcalloc(0x80000000, 2, GFP_KERNEL), 0);
  KUNIT_EXPECT_EQ(test, kcalloc(3, 0x55555556, GFP_KERNEL), 0);
  KUNIT_EXPECT_EQ(test, kmalloc_array(<usize>U32.MAX_VALUE, <usize>U32.MAX_VALUE, GFP_KERNEL), 0);
  kunit_loud();
  KUNIT_EXPECT_EQ(test, kunit_logged(first, ""), 0);
  // Just below: no overflow, but more than the largest block: the page allocator refuses (quietly with NOWARN).
  KUNIT_EXPECT_EQ(test, kmalloc_array(0x7fffffff, 2, GFP_KERNEL | __GFP_NOWARN), 0);
  // Zero elements or zero size: ZERO_SIZE_PTR.
  KUNIT_EXPECT_EQ(test, kmalloc_array(0, 100, GFP_KERNEL), ZERO_SIZE_PTR);
  KUNIT_EXPECT_EQ(test, kcalloc(100, 0, GFP_KERNEL), ZERO_SIZE_PTR);
  // An ordinary product.
  const p = kmalloc_array(7, 9, GFP_KERNEL);
  KUNIT_EXPECT_EQ(test, ksize(p), 64);
  kfree(p);
  const q = kcalloc(1000, 4, GFP_KERNEL);
  KUNIT_EXPECT_EQ(test, ksize(q), 4096);
  KUNIT_EXPECT_TRUE(test, all_bytes(q, 4000, 0));
  kfree(q);
}

function fill_pattern(p: usize, n: usize): void { for (let i: usize = 0; i < n; i++) store<u8>(p + i, <u8>(i * 7 + 3)); }
function has_pattern(p: usize, n: usize): bool {
  for (let i: usize = 0; i < n; i++) if (load<u8>(p + i) != <u8>(i * 7 + 3)) return false;
  return true;
}

function kmalloc_krealloc(test: kunit): void {
  const k64 = kmalloc_cache(KMALLOC_NORMAL, 6);
  const k128 = kmalloc_cache(KMALLOC_NORMAL, 7);
  const live64 = kmem_cache_live_objects(k64);
  const live128 = kmem_cache_live_objects(k128);
  // NULL: a plain kmalloc.
  const p = krealloc(0, 40, GFP_KERNEL);
  if (!KUNIT_ASSERT_TRUE(test, p != 0)) return;
  KUNIT_EXPECT_EQ(test, ksize(p), 64);
  fill_pattern(p, 40);
  // Within ksize: the same object, grown or shrunk in place.
  KUNIT_EXPECT_EQ(test, krealloc(p, 64, GFP_KERNEL), p);
  fill_pattern(p, 64);
  KUNIT_EXPECT_EQ(test, krealloc(p, 20, GFP_KERNEL), p);
  KUNIT_EXPECT_TRUE(test, has_pattern(p, 64));
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(k64), live64 + 1);
  // Beyond: a new object with the old contents (all ksize bytes), the old one freed.
  const r = krealloc(p, 100, GFP_KERNEL);
  KUNIT_EXPECT_NE(test, r, p);
  KUNIT_EXPECT_EQ(test, ksize(r), 128);
  KUNIT_EXPECT_TRUE(test, has_pattern(r, 64));
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(k64), live64);
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(k128), live128 + 1);
  // Size 0: freed, ZERO_SIZE_PTR back.
  KUNIT_EXPECT_EQ(test, krealloc(r, 0, GFP_KERNEL), ZERO_SIZE_PTR);
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(k128), live128);
  // From ZERO_SIZE_PTR: a new object; to ZERO_SIZE_PTR and NULL with size 0: nothing to free.
  const s = krealloc(ZERO_SIZE_PTR, 10, GFP_KERNEL);
  KUNIT_EXPECT_EQ(test, ksize(s), 16);
  KUNIT_EXPECT_EQ(test, krealloc(ZERO_SIZE_PTR, 0, GFP_KERNEL), ZERO_SIZE_PTR);
  KUNIT_EXPECT_EQ(test, krealloc(0, 0, GFP_KERNEL), ZERO_SIZE_PTR);
  // Into and between large blocks.
  fill_pattern(s, 16);
  const l = krealloc(s, 10000, GFP_KERNEL);
  KUNIT_EXPECT_TRUE(test, is_large_block(l));
  KUNIT_EXPECT_TRUE(test, has_pattern(l, 16));
  fill_pattern(l, 16384);
  KUNIT_EXPECT_EQ(test, krealloc(l, 16000, GFP_KERNEL), l);
  const l2 = krealloc(l, 20000, GFP_KERNEL);
  KUNIT_EXPECT_NE(test, l2, l);
  KUNIT_EXPECT_EQ(test, ksize(l2), 32768);
  KUNIT_EXPECT_TRUE(test, has_pattern(l2, 16384));
  // A failed reallocation leaves the old memory alone.
  const t = kmalloc(50, GFP_KERNEL);
  fill_pattern(t, 50);
  failslab_fail_next(1);
  KUNIT_EXPECT_EQ(test, krealloc(t, 500, GFP_KERNEL | __GFP_NOWARN), 0);
  failslab_fail_next(0);
  KUNIT_EXPECT_TRUE(test, has_pattern(t, 50));
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(k64), live64 + 1);
  kfree(t);
  kfree(l2);
}

const src: usize = memory.data(64, 8);

function kmalloc_strdup_memdup(test: kunit): void {
  const n = str_to_bytes("hello, slab", src, 64);
  const d = kstrdup(src, GFP_KERNEL);
  if (!KUNIT_ASSERT_TRUE(test, d != 0)) return;
  KUNIT_EXPECT_NE(test, d, src);
  KUNIT_EXPECT_EQ(test, strlen(d), n);
  KUNIT_EXPECT_EQ(test, ksize(d), 16);
  let same = true;
  for (let i = 0; i <= n; i++) if (load<u8>(d + <usize>i) != load<u8>(src + <usize>i)) same = false;
  KUNIT_EXPECT_TRUE(test, same);
  const h = kstrndup(src, 5, GFP_KERNEL);
  KUNIT_EXPECT_EQ(test, strlen(h), 5);
  KUNIT_EXPECT_EQ(test, load<u8>(h + 4), 0x6f); // 'o'
  KUNIT_EXPECT_EQ(test, ksize(h), 8);
  const w = kstrndup(src, 100, GFP_KERNEL);
  KUNIT_EXPECT_EQ(test, strlen(w), n);
  const m = kmemdup(src, 4, GFP_KERNEL);
  KUNIT_EXPECT_EQ(test, load<u32>(m), load<u32>(src));
  KUNIT_EXPECT_EQ(test, ksize(m), 8);
  const big = kmemdup(<usize>KERNEL_PHYS_BASE, 10000, GFP_KERNEL); // a large block copy of the kernel's first bytes
  KUNIT_EXPECT_TRUE(test, is_large_block(big));
  let same_big = true;
  for (let i: usize = 0; i < 10000; i++) if (load<u8>(big + i) != load<u8>(<usize>KERNEL_PHYS_BASE + i)) same_big = false;
  KUNIT_EXPECT_TRUE(test, same_big);
  KUNIT_EXPECT_EQ(test, kmemdup(src, 0, GFP_KERNEL), ZERO_SIZE_PTR);
  KUNIT_EXPECT_EQ(test, kstrdup(0, GFP_KERNEL), 0);
  KUNIT_EXPECT_EQ(test, kstrndup(0, 4, GFP_KERNEL), 0);
  store<u8>(src, 0);
  const e = kstrdup(src, GFP_KERNEL); // "" is one byte
  KUNIT_EXPECT_EQ(test, load<u8>(e), 0);
  KUNIT_EXPECT_EQ(test, ksize(e), 8);
  kfree(d);
  kfree(h);
  kfree(w);
  kfree(m);
  kfree(big);
  kfree(e);
}

function kmalloc_zero_size(test: kunit): void {
  const ns0 = reports_of(offsetof<slub_report_counts>("not_slab"));
  const inv0 = reports_of(offsetof<slub_report_counts>("invalid_pointer"));
  KUNIT_EXPECT_EQ(test, kmalloc(0, GFP_KERNEL), ZERO_SIZE_PTR);
  KUNIT_EXPECT_EQ(test, kzalloc(0, GFP_KERNEL), ZERO_SIZE_PTR);
  KUNIT_EXPECT_EQ(test, ZERO_SIZE_PTR, 16);
  KUNIT_EXPECT_TRUE(test, ZERO_OR_NULL_PTR(0));
  KUNIT_EXPECT_TRUE(test, ZERO_OR_NULL_PTR(ZERO_SIZE_PTR));
  KUNIT_EXPECT_FALSE(test, ZERO_OR_NULL_PTR(ZERO_SIZE_PTR + 1));
  KUNIT_EXPECT_EQ(test, ksize(ZERO_SIZE_PTR), 0);
  KUNIT_EXPECT_EQ(test, ksize(0), 0);
  kfree(ZERO_SIZE_PTR);
  kfree(0);
  KUNIT_EXPECT_EQ(test, reports_of(offsetof<slub_report_counts>("not_slab")), ns0);
  KUNIT_EXPECT_EQ(test, reports_of(offsetof<slub_report_counts>("invalid_pointer")), inv0);
}

function kmalloc_dma_caches(test: kunit): void {
  const dma_end: u64 = dma_zone_end_pfn << PAGE_SHIFT;
  const a = kmalloc(64, GFP_KERNEL | GFP_DMA);
  if (!KUNIT_ASSERT_TRUE(test, a != 0)) return;
  KUNIT_EXPECT_STREQ(test, cache_name_of(a), "dma-kmalloc-64");
  KUNIT_EXPECT_EQ(test, page_zonenum(virt_to_page(a)), ZONE_DMA);
  KUNIT_EXPECT_LT(test, <u64>a, dma_end);
  const b = kmalloc(100, GFP_DMA);
  KUNIT_EXPECT_STREQ(test, cache_name_of(b), "dma-kmalloc-128");
  KUNIT_EXPECT_EQ(test, page_zonenum(virt_to_page(b)), ZONE_DMA);
  const c = kmalloc(8192, GFP_KERNEL | GFP_DMA);
  KUNIT_EXPECT_STREQ(test, cache_name_of(c), "dma-kmalloc-8192");
  KUNIT_EXPECT_LT(test, <u64>c + 8192, dma_end + 1);
  const l = kmalloc(20000, GFP_KERNEL | GFP_DMA);
  KUNIT_EXPECT_TRUE(test, is_large_block(l));
  KUNIT_EXPECT_EQ(test, page_zonenum(virt_to_page(l)), ZONE_DMA);
  KUNIT_EXPECT_LT(test, <u64>l + 32768, dma_end + 1);
  // Without GFP_DMA: the normal caches, and ZONE_NORMAL.
  const n = kmalloc(64, GFP_KERNEL);
  KUNIT_EXPECT_STREQ(test, cache_name_of(n), "kmalloc-64");
  KUNIT_EXPECT_EQ(test, page_zonenum(virt_to_page(n)), ZONE_NORMAL);
  KUNIT_EXPECT_EQ(test, changetype<usize>(kmalloc_slab(64, GFP_DMA)), changetype<usize>(kmalloc_cache(KMALLOC_DMA, 6)));
  kfree(a);
  kfree(b);
  kfree(c);
  kfree(l);
  kfree(n);
}

function kmalloc_large_blocks(test: kunit): void {
  const free0 = free_pages_now();
  const allocs0 = kmalloc_large_stats(LARGE_ALLOCS);
  const p = kmalloc(3 * PAGE_SIZE + 1, GFP_KERNEL); // order 2
  if (!KUNIT_ASSERT_TRUE(test, p != 0)) return;
  KUNIT_EXPECT_EQ(test, free_pages_now(), free0 - 4);
  KUNIT_EXPECT_EQ(test, kmalloc_large_stats(LARGE_ALLOCS), allocs0 + 1);
  const bad0 = reports_of(offsetof<slub_report_counts>("not_slab"));
  // A pointer into the block is not what kmalloc handed out: reported, nothing freed.
  let first = kunit_quiet();
  kfree(p + PAGE_SIZE);
  kunit_loud();
  KUNIT_EXPECT_EQ(test, reports_of(offsetof<slub_report_counts>("not_slab")), bad0 + 1);
  let len = scnprintf(want_buf, 256, "kfree: 0x%016lx was not handed out by kmalloc", <u64>(p + PAGE_SIZE));
  KUNIT_EXPECT_EQ(test, logged_bytes(first, want_buf, len), 1);
  KUNIT_EXPECT_EQ(test, free_pages_now(), free0 - 4);
  kfree(p);
  KUNIT_EXPECT_EQ(test, free_pages_now(), free0);
  // Freed twice: the second is reported (the pages are the buddy allocator's again).
  first = kunit_quiet();
  kfree(p);
  kunit_loud();
  KUNIT_EXPECT_EQ(test, reports_of(offsetof<slub_report_counts>("not_slab")), bad0 + 2);
  KUNIT_EXPECT_EQ(test, free_pages_now(), free0);
  // Beyond the largest block: NULL.
  KUNIT_EXPECT_EQ(test, kmalloc(8 << 20, GFP_KERNEL | __GFP_NOWARN), 0);
  KUNIT_EXPECT_EQ(test, kmalloc(KMALLOC_MAX_CACHE_SIZE + 1 + (4 << 20), GFP_KERNEL | __GFP_NOWARN), 0);
}

function kmalloc_bad_frees(test: kunit): void {
  const inv0 = reports_of(offsetof<slub_report_counts>("invalid_pointer"));
  const bad0 = reports_of(offsetof<slub_report_counts>("not_slab"));
  const k96 = kmalloc_cache(KMALLOC_NORMAL, 1);
  const live0 = kmem_cache_live_objects(k96);
  const p = kmalloc(90, GFP_KERNEL);
  let first = kunit_quiet();
  kfree(p + 8);                           // inside an object
  kfree(<usize>KERNEL_PHYS_BASE + 4096);  // the kernel image
  const ks = ksize(<usize>KERNEL_PHYS_BASE + 4096);
  kunit_loud();
  KUNIT_EXPECT_EQ(test, ks, 0);
  KUNIT_EXPECT_EQ(test, reports_of(offsetof<slub_report_counts>("invalid_pointer")), inv0 + 1);
  KUNIT_EXPECT_EQ(test, reports_of(offsetof<slub_report_counts>("not_slab")), bad0 + 2);
  let len = scnprintf(want_buf, 256, "BUG kmalloc-96 (Not tainted): Invalid object pointer 0x%016lx", <u64>(p + 8));
  KUNIT_EXPECT_EQ(test, logged_bytes(first, want_buf, len), 1);
  len = scnprintf(want_buf, 256, "kfree: 0x%016lx was not handed out by kmalloc", <u64>KERNEL_PHYS_BASE + 4096);
  KUNIT_EXPECT_EQ(test, logged_bytes(first, want_buf, len), 1);
  len = scnprintf(want_buf, 256, "ksize: 0x%016lx was not handed out by kmalloc", <u64>KERNEL_PHYS_BASE + 4096);
  KUNIT_EXPECT_EQ(test, logged_bytes(first, want_buf, len), 1);
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(k96), live0 + 1); // still allocated
  kfree(p);
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(k96), live0);
}

function kmalloc_gfp_fixup(test: kunit): void {
  const fix0 = reports_of(offsetof<slub_report_counts>("gfp_fixups"));
  // A large block: __GFP_HIGHMEM stripped with the warning, the memory addressable.
  let first = kunit_quiet();
  const p = kmalloc(9000, GFP_KERNEL | __GFP_HIGHMEM);
  kunit_loud();
  if (!KUNIT_ASSERT_TRUE(test, p != 0)) return;
  KUNIT_EXPECT_EQ(test, reports_of(offsetof<slub_report_counts>("gfp_fixups")), fix0 + 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "Unexpected gfp: 0x2 (__GFP_HIGHMEM). Fixing up to gfp: 0xcc0 (GFP_KERNEL). Fix your code!"), 1);
  KUNIT_EXPECT_NE(test, page_zonenum(virt_to_page(p)), ZONE_HIGHMEM);
  kfree(p);
  // A new slab (a fresh cache needs one at once): the same.
  const s = kmem_cache_create("kmalloc_test_fixup", 40, 0, 0, 0);
  if (!KUNIT_ASSERT_TRUE(test, changetype<usize>(s) != 0)) return;
  first = kunit_quiet();
  const q = kmem_cache_alloc(s, GFP_KERNEL | __GFP_HIGHMEM);
  kunit_loud();
  KUNIT_EXPECT_NE(test, q, 0);
  KUNIT_EXPECT_EQ(test, reports_of(offsetof<slub_report_counts>("gfp_fixups")), fix0 + 2);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "Unexpected gfp: 0x2 (__GFP_HIGHMEM)"), 1);
  kmem_cache_free(s, q);
  kmem_cache_destroy(s);
}

export function register_kmalloc_tests(): void {
  kunit_suite("kmalloc");
  kunit_suite_hooks(kmalloc_suite_init, kmalloc_suite_exit);
  kunit_case("kmalloc_size_classes", kmalloc_size_classes);
  kunit_case("kmalloc_many_objects", kmalloc_many_objects);
  kunit_case("kmalloc_zeroing", kmalloc_zeroing);
  kunit_case("kmalloc_array_overflow", kmalloc_array_overflow);
  kunit_case("kmalloc_krealloc", kmalloc_krealloc);
  kunit_case("kmalloc_strdup_memdup", kmalloc_strdup_memdup);
  kunit_case("kmalloc_zero_size", kmalloc_zero_size);
  kunit_case("kmalloc_dma_caches", kmalloc_dma_caches);
  kunit_case("kmalloc_large_blocks", kmalloc_large_blocks);
  kunit_case("kmalloc_bad_frees", kmalloc_bad_frees);
  kunit_case("kmalloc_gfp_fixup", kmalloc_gfp_fixup);
}
