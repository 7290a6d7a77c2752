/**
 * Suite `page_alloc`: the buddy allocator and the per-CPU lists (mm/page_alloc.ts).
 *
 * Every order; exhausting each zone (the pages allocated chained through
 * their struct page's lru_next, so no other storage is needed); the exact
 * free state after freeing everything; the fallback order; hot/cold ends of
 * the per-CPU lists; bad frees reported with the allocator left intact.
 * Cases that change the free counts drain the per-CPU lists first, so that
 * "the state" means the buddy lists.
 */
import { kunit, kunit_suite, kunit_case, kunit_skip, KUNIT_EXPECT_EQ, KUNIT_EXPECT_TRUE, KUNIT_EXPECT_FALSE, KUNIT_EXPECT_NE,
  KUNIT_EXPECT_GE, KUNIT_EXPECT_GT, KUNIT_EXPECT_LE, KUNIT_EXPECT_LT, KUNIT_ASSERT_TRUE, kunit_quiet, kunit_loud, kunit_logged } from "./ktap";
import { PAGE_SHIFT, PAGE_SIZE, KERNEL_PHYS_BASE } from "../arch/layout";
import { local_irq_save, local_irq_restore } from "../arch/irqflags";
import {
  alloc_pages, alloc_page, __free_pages, __free_page, free_hot_page, free_cold_page, __get_free_pages, free_pages,
  drain_all_pages, bad_page_count, get_page, dma_zone_end_pfn, lowmem_end_pfn,
} from "../mm/page_alloc";
import { page, page_to_pfn, pfn_to_page, page_address, PageBuddy, PageReserved, PageHighMem, page_zonenum, nth_page, virt_to_page } from "../mm/page";
import { node_zone, free_area_of, zone, MAX_ORDER, populated_zone, zone_watermark, WMARK_MIN } from "../mm/mmzone";
import {
  GFP_KERNEL, GFP_ATOMIC, GFP_DMA, GFP_HIGHUSER, GFP_USER, __GFP_NOWARN, __GFP_NORETRY, __GFP_COLD, ZONE_DMA, ZONE_NORMAL, ZONE_HIGHMEM,
  MAX_NR_ZONES, gfp_t,
} from "../mm/gfp";
import { LIST_HEAD_SIZE } from "../lib/list";

const NULL_PAGE = changetype<page>(0);
const GFP_ATOMIC_NOWARN: gfp_t = GFP_ATOMIC | __GFP_NOWARN;
// @ts-ignore: decorator
@inline function isnull(p: page): bool { return changetype<usize>(p) == 0; }

/** Snapshot of the buddy state: per zone, free pages and nr_free of every order. */
const SNAP_WORDS: i32 = MAX_NR_ZONES * (1 + <i32>MAX_ORDER);
const snap_a: usize = memory.data(SNAP_WORDS * 8, 8);
const snap_b: usize = memory.data(SNAP_WORDS * 8, 8);

export function buddy_snapshot(to: usize): void {
  drain_all_pages();
  let k = 0;
  for (let zid = 0; zid < MAX_NR_ZONES; zid++) {
    const z = node_zone(0, zid);
    store<u64>(to + <usize>(k++ * 8), z.free_pages);
    for (let o: u32 = 0; o < MAX_ORDER; o++) store<u64>(to + <usize>(k++ * 8), load<u64>(free_area_of(z, o), LIST_HEAD_SIZE));
  }
}

/** Expect two snapshots to be equal, word by word. */
export function expect_same_state(test: kunit, a: usize, b: usize): void {
  for (let k = 0; k < SNAP_WORDS; k++) KUNIT_EXPECT_EQ(test, load<u64>(b + <usize>(k * 8)), load<u64>(a + <usize>(k * 8)));
}

/**
 * Allocate with `gfp` until it fails, largest blocks first (order 10 down to
 * 0, so that taking a zone down costs a few hundred allocations, not tens
 * of thousands); chain the blocks through lru_next (the order is in the
 * head's private_). Returns the chain head; counts pages per zone into
 * `per_zone` (3 u64). The zones end where order-0 allocations with `gfp`
 * fail: at their watermark.
 */
export function exhaust(gfp: gfp_t, per_zone: usize): page {
  let head = NULL_PAGE;
  for (let zid = 0; zid < MAX_NR_ZONES; zid++) store<u64>(per_zone + <usize>(zid * 8), 0);
  for (let order: i32 = <i32>MAX_ORDER - 1; order >= 0; order--) {
    while (true) {
      const pg = alloc_pages(gfp | __GFP_NOWARN | __GFP_NORETRY, <u32>order);
      if (isnull(pg)) break;
      pg.lru_next = <u32>changetype<usize>(head);
      head = pg;
      const slot = per_zone + <usize>(page_zonenum(pg) * 8);
      store<u64>(slot, load<u64>(slot) + (<u64>1 << order));
    }
  }
  return head;
}

/** Free a chain made by exhaust(). Returns how many pages. */
export function free_chain(head: page): u64 {
  let n: u64 = 0;
  while (!isnull(head)) {
    const next = changetype<page>(<usize>head.lru_next);
    head.lru_next = 0;
    const order = head.private_;
    __free_pages(head, order);
    head = next;
    n += <u64>1 << order;
  }
  return n;
}

function page_alloc_every_order(test: kunit): void {
  buddy_snapshot(snap_a);
  for (let order: u32 = 0; order < MAX_ORDER; order++) {
    const pg = alloc_pages(GFP_KERNEL, order);
    if (!KUNIT_ASSERT_TRUE(test, !isnull(pg))) return;
    const pfn = page_to_pfn(pg);
    KUNIT_EXPECT_EQ(test, pfn & ((<u64>1 << order) - 1), 0);
    KUNIT_EXPECT_EQ(test, page_zonenum(pg), ZONE_NORMAL);
    KUNIT_EXPECT_EQ(test, pg._refcount, 1);
    const va = page_address(pg);
    KUNIT_EXPECT_EQ(test, <u64>va, pfn << PAGE_SHIFT);
    // The whole block is usable: first and last byte.
    const last = va + (<usize>PAGE_SIZE << order) - 1;
    store<u8>(va, 0x5a);
    store<u8>(last, 0xa5);
    KUNIT_EXPECT_EQ(test, load<u8>(va), 0x5a);
    KUNIT_EXPECT_EQ(test, load<u8>(last), 0xa5);
    __free_pages(pg, order);
  }
  KUNIT_EXPECT_TRUE(test, isnull(alloc_pages(GFP_KERNEL | __GFP_NOWARN, MAX_ORDER)));
  buddy_snapshot(snap_b);
  expect_same_state(test, snap_a, snap_b);
}

const per_zone: usize = memory.data(24, 8);

function page_alloc_exhaust_zones(test: kunit): void {
  buddy_snapshot(snap_a);
  // GFP_DMA: only ZONE_DMA, down to its min watermark.
  let chain = exhaust(GFP_DMA, per_zone);
  const dma = node_zone(0, ZONE_DMA);
  KUNIT_EXPECT_GT(test, load<u64>(per_zone), 0);
  KUNIT_EXPECT_EQ(test, load<u64>(per_zone, 8), 0);
  KUNIT_EXPECT_EQ(test, load<u64>(per_zone, 16), 0);
  KUNIT_EXPECT_LE(test, dma.free_pages, zone_watermark(dma, WMARK_MIN) + 1);
  free_chain(chain);
  // GFP_KERNEL: NORMAL, then DMA (never HIGHMEM), each down to min + lowmem_reserve.
  chain = exhaust(GFP_KERNEL, per_zone);
  const normal = node_zone(0, ZONE_NORMAL);
  KUNIT_EXPECT_GT(test, load<u64>(per_zone, 8), normal.managed_pages / 2);
  KUNIT_EXPECT_EQ(test, load<u64>(per_zone, 16), 0);
  KUNIT_EXPECT_LE(test, normal.free_pages, zone_watermark(normal, WMARK_MIN) + 1);
  KUNIT_EXPECT_LE(test, dma.free_pages, zone_watermark(dma, WMARK_MIN) + dma.lowmem_reserve1 + 1);
  // It stopped above the min mark: the reserve is left for GFP_ATOMIC.
  KUNIT_EXPECT_GT(test, dma.free_pages + normal.free_pages, 0);
  free_chain(chain);
  // GFP_HIGHUSER: HIGHMEM first, then NORMAL, then DMA.
  const high = node_zone(0, ZONE_HIGHMEM);
  chain = exhaust(GFP_HIGHUSER, per_zone);
  if (populated_zone(high)) {
    KUNIT_EXPECT_GT(test, load<u64>(per_zone, 16), high.managed_pages / 2);
    KUNIT_EXPECT_LE(test, high.free_pages, zone_watermark(high, WMARK_MIN) + 1);
  } else {
    KUNIT_EXPECT_EQ(test, load<u64>(per_zone, 16), 0);
  }
  KUNIT_EXPECT_GT(test, load<u64>(per_zone, 8), 0);
  free_chain(chain);
  buddy_snapshot(snap_b);
  expect_same_state(test, snap_a, snap_b);
}

/** The first allocations of each kind come from the zone gfp_zone() names; a lower zone only when that one is low. */
function page_alloc_fallback_order(test: kunit): void {
  const high = node_zone(0, ZONE_HIGHMEM);
  let pg = alloc_page(GFP_HIGHUSER);
  KUNIT_EXPECT_EQ(test, page_zonenum(pg), populated_zone(high) ? ZONE_HIGHMEM : ZONE_NORMAL);
  __free_page(pg);
  pg = alloc_page(GFP_KERNEL);
  KUNIT_EXPECT_EQ(test, page_zonenum(pg), ZONE_NORMAL);
  __free_page(pg);
  pg = alloc_page(GFP_DMA);
  KUNIT_EXPECT_EQ(test, page_zonenum(pg), ZONE_DMA);
  KUNIT_EXPECT_LT(test, page_to_pfn(pg), dma_zone_end_pfn);
  __free_page(pg);
  // (What happens when NORMAL runs low, the fall back to DMA, is page_alloc_exhaust_zones'.)
}

function page_alloc_hot_cold(test: kunit): void {
  // On one CPU with interrupts off, nothing else touches this CPU's lists.
  const flags = local_irq_save();
  // GFP_ATOMIC: a sleeping allocation with interrupts off would be reported by might_sleep.
  const a = alloc_page(GFP_ATOMIC_NOWARN);
  const b = alloc_page(GFP_ATOMIC_NOWARN);
  const c = alloc_page(GFP_ATOMIC_NOWARN);
  free_hot_page(a);                  // head
  free_cold_page(b);                 // tail
  let x = alloc_page(GFP_ATOMIC_NOWARN);
  KUNIT_EXPECT_EQ(test, changetype<usize>(x), changetype<usize>(a)); // hot: the page just freed
  let y = alloc_page(GFP_ATOMIC_NOWARN | __GFP_COLD);
  KUNIT_EXPECT_EQ(test, changetype<usize>(y), changetype<usize>(b)); // cold: the tail
  free_hot_page(x);
  free_hot_page(y);
  free_hot_page(c);
  local_irq_restore(flags);
}

function page_alloc_split_and_merge(test: kunit): void {
  drain_all_pages();
  const z = node_zone(0, ZONE_NORMAL);
  const splits0 = z.splits;
  const merges0 = z.merges;
  const pg = alloc_pages(GFP_KERNEL, 4); // order > 3: straight from the buddy lists
  if (!KUNIT_ASSERT_TRUE(test, !isnull(pg))) return;
  KUNIT_EXPECT_FALSE(test, PageBuddy(pg));
  __free_pages(pg, 4);
  // Freed: it is a free block again, merged back into something of order ≥ 4.
  KUNIT_EXPECT_GE(test, z.merges, merges0 + (z.splits - splits0));
  let head = pg;
  let order: u32 = 4;
  // Find the free block containing pg: walk up the orders.
  let found = false;
  for (let o: u32 = 4; o < MAX_ORDER; o++) {
    const pfn = page_to_pfn(pg) & ~((<u64>1 << o) - 1);
    const h = pfn_to_page(pfn);
    if (PageBuddy(h) && h.private_ >= o) { found = true; head = h; order = o; break; }
  }
  KUNIT_EXPECT_TRUE(test, found);
  KUNIT_EXPECT_GE(test, order, 4);
}

function page_alloc_bad_free_reports(test: kunit): void {
  buddy_snapshot(snap_a);
  const bad0 = bad_page_count;
  const first = kunit_quiet();
  // Double free.
  const a = alloc_page(GFP_KERNEL);
  __free_page(a);
  __free_page(a);
  KUNIT_EXPECT_EQ(test, bad_page_count, bad0 + 1);
  // Wrong order: reported, the block stays allocated, the right order frees it.
  const b = alloc_pages(GFP_KERNEL, 2);
  __free_pages(b, 1);
  KUNIT_EXPECT_EQ(test, bad_page_count, bad0 + 2);
  KUNIT_EXPECT_EQ(test, b._refcount, 1);
  __free_pages(b, 2);
  KUNIT_EXPECT_EQ(test, bad_page_count, bad0 + 2);
  // A tail page of an allocated block.
  const c = alloc_pages(GFP_KERNEL, 1);
  __free_page(nth_page(c, 1));
  KUNIT_EXPECT_EQ(test, bad_page_count, bad0 + 3);
  __free_pages(c, 1);
  // A reserved page: the kernel image.
  const k = pfn_to_page(KERNEL_PHYS_BASE >> PAGE_SHIFT);
  KUNIT_EXPECT_TRUE(test, PageReserved(k));
  __free_page(k);
  KUNIT_EXPECT_EQ(test, bad_page_count, bad0 + 4);
  KUNIT_EXPECT_TRUE(test, PageReserved(k));
  // A pointer that is no struct page.
  __free_page(changetype<page>(<usize>KERNEL_PHYS_BASE + 4));
  KUNIT_EXPECT_EQ(test, bad_page_count, bad0 + 5);
  // free_pages of an address that is not page aligned.
  free_pages(<usize>KERNEL_PHYS_BASE + 12, 0);
  KUNIT_EXPECT_EQ(test, bad_page_count, bad0 + 6);
  // References: a second reference keeps the page.
  const d = alloc_page(GFP_KERNEL);
  get_page(d);
  __free_page(d);
  KUNIT_EXPECT_EQ(test, d._refcount, 1);
  KUNIT_EXPECT_EQ(test, bad_page_count, bad0 + 6);
  __free_page(d);
  kunit_loud();
  // Each report in Linux's shape, in the log.
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "BUG: Bad page state in process "), 5);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "page dumped because: double free"), 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "page dumped because: wrong order"), 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "page dumped because: PAGE_FLAGS_CHECK_AT_FREE flag(s) set"), 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "free_pages: "), 1);
  buddy_snapshot(snap_b);
  expect_same_state(test, snap_a, snap_b);
}

function page_alloc_get_free_pages(test: kunit): void {
  const va = __get_free_pages(GFP_KERNEL, 2);
  KUNIT_EXPECT_NE(test, va, 0);
  KUNIT_EXPECT_EQ(test, <u64>va & <u64>(4 * PAGE_SIZE - 1), 0);
  KUNIT_EXPECT_EQ(test, changetype<usize>(virt_to_page(va)) != 0 ? 1 : 0, 1);
  // __GFP_HIGHMEM is ignored: the result must have an address.
  const hv = __get_free_pages(GFP_HIGHUSER, 0);
  KUNIT_EXPECT_NE(test, hv, 0);
  KUNIT_EXPECT_FALSE(test, PageHighMem(virt_to_page(hv)));
  free_pages(hv, 0);
  free_pages(va, 2);
  free_pages(0, 3); // NULL: ignored
}

export function register_page_alloc_tests(): void {
  kunit_suite("page_alloc");
  kunit_case("page_alloc_every_order", page_alloc_every_order);
  kunit_case("page_alloc_exhaust_zones", page_alloc_exhaust_zones);
  kunit_case("page_alloc_fallback_order", page_alloc_fallback_order);
  kunit_case("page_alloc_hot_cold", page_alloc_hot_cold);
  kunit_case("page_alloc_split_and_merge", page_alloc_split_and_merge);
  kunit_case("page_alloc_bad_free_reports", page_alloc_bad_free_reports);
  kunit_case("page_alloc_get_free_pages", page_alloc_get_free_pages);
}
