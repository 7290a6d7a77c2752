/**
 * Suite `gfp`: one case per GFP flag, each checking the behaviour the flag
 * is for (kernel/mm/gfp.ts, the policy table at the top of mm/page_alloc.ts):
 * zone choice, zeroing, reserve access below the min watermark, the retry
 * policies, the failure warning, the cold end, and the might-sleep check.
 *
 * Reserve cases take the lowmem zones down with GFP_KERNEL | __GFP_NORETRY
 * (which stops at the min watermark) and then see which flags still get a
 * page. Everything taken is given back; each case leaves the buddy state as
 * it found it.
 */
import { kunit, kunit_suite, kunit_case, kunit_skip, KUNIT_EXPECT_EQ, KUNIT_EXPECT_TRUE, KUNIT_EXPECT_FALSE, KUNIT_EXPECT_NE,
  KUNIT_EXPECT_GE, KUNIT_EXPECT_GT, KUNIT_EXPECT_LE, KUNIT_EXPECT_LT, KUNIT_ASSERT_TRUE, KUNIT_EXPECT_BYTES_STREQ, kunit_quiet, kunit_loud, kunit_logged } from "./ktap";
import { PAGE_SIZE } from "../arch/layout";
import { local_irq_save, local_irq_restore, local_irq_disable, local_irq_enable } from "../arch/irqflags";
import { spinlock_t, SPINLOCK_SIZE, spin_lock, spin_unlock, spin_lock_init } from "../locking/spinlock";
import {
  alloc_pages, alloc_page, __free_pages, __free_page, free_hot_page, free_cold_page, get_zeroed_page, free_page,
  alloc_retries, alloc_fail_warnings, nofail_waits, MAX_RECLAIM_RETRIES, dma_zone_end_pfn, drain_all_pages,
} from "../mm/page_alloc";
import { page, page_to_pfn, page_address, PageHighMem, page_zonenum } from "../mm/page";
import { node_zone, populated_zone } from "../mm/mmzone";
import {
  gfp_t, GFP_KERNEL, GFP_ATOMIC, GFP_NOWAIT, GFP_NOIO, GFP_NOFS, GFP_USER, GFP_HIGHUSER, GFP_DMA, __GFP_DMA, __GFP_HIGHMEM,
  __GFP_ZERO, __GFP_HIGH, __GFP_NOWARN, __GFP_NORETRY, __GFP_REPEAT, __GFP_RETRY_MAYFAIL, __GFP_NOFAIL, __GFP_COLD,
  ZONE_DMA, ZONE_NORMAL, ZONE_HIGHMEM, gfp_flags_name,
} from "../mm/gfp";
import { might_sleep_count, kthread_run_on_cpu, msleep } from "../sched/core";
import { exhaust, free_chain, buddy_snapshot, expect_same_state } from "./page_alloc_test";
import { num_online_cpus } from "../smp";

const NULL_PAGE = changetype<page>(0);
// @ts-ignore: decorator
@inline function isnull(p: page): bool { return changetype<usize>(p) == 0; }
const per_zone: usize = memory.data(24, 8);
const snap_a: usize = memory.data(8 * 3 * 12, 8);
const snap_b: usize = memory.data(8 * 3 * 12, 8);
const lock = changetype<spinlock_t>(memory.data(SPINLOCK_SIZE, 16));

function gfp_dma_zone(test: kunit): void {
  const pg = alloc_pages(GFP_DMA | GFP_KERNEL, 1);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(pg))) return;
  KUNIT_EXPECT_EQ(test, page_zonenum(pg), ZONE_DMA);
  KUNIT_EXPECT_LE(test, page_to_pfn(pg) + 2, dma_zone_end_pfn);
  __free_pages(pg, 1);
}

function gfp_highmem_zone(test: kunit): void {
  if (!populated_zone(node_zone(0, ZONE_HIGHMEM))) { kunit_skip(test, "no highmem"); return; }
  const pg = alloc_page(GFP_KERNEL | __GFP_HIGHMEM);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(pg))) return;
  KUNIT_EXPECT_EQ(test, page_zonenum(pg), ZONE_HIGHMEM);
  KUNIT_EXPECT_TRUE(test, PageHighMem(pg));
  KUNIT_EXPECT_EQ(test, page_address(pg), 0); // not mapped until kmap
  __free_page(pg);
}

function gfp_user_zone(test: kunit): void {
  const pg = alloc_page(GFP_USER);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(pg))) return;
  KUNIT_EXPECT_EQ(test, page_zonenum(pg), ZONE_NORMAL);
  KUNIT_EXPECT_NE(test, page_address(pg), 0);
  __free_page(pg);
}

function gfp_highuser_zone(test: kunit): void {
  const pg = alloc_page(GFP_HIGHUSER);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(pg))) return;
  KUNIT_EXPECT_EQ(test, page_zonenum(pg), populated_zone(node_zone(0, ZONE_HIGHMEM)) ? ZONE_HIGHMEM : ZONE_NORMAL);
  __free_page(pg);
}

function gfp_zero(test: kunit): void {
  // Dirty a page, free it hot, and get it back zeroed (the hot end returns the same page).
  const flags = local_irq_save();
  const pg = alloc_page(GFP_ATOMIC);
  memory.fill(page_address(pg), 0xa5, PAGE_SIZE);
  free_hot_page(pg);
  const z = alloc_page(GFP_ATOMIC | __GFP_ZERO);
  local_irq_restore(flags);
  KUNIT_EXPECT_EQ(test, changetype<usize>(z), changetype<usize>(pg));
  let nonzero = 0;
  const va = page_address(z);
  for (let i: usize = 0; i < PAGE_SIZE; i += 8) if (load<u64>(va + i) != 0) nonzero++;
  KUNIT_EXPECT_EQ(test, nonzero, 0);
  memory.fill(va, 0x5a, PAGE_SIZE);
  __free_page(z);
  // get_zeroed_page is __GFP_ZERO too.
  const p = get_zeroed_page(GFP_KERNEL);
  nonzero = 0;
  for (let i: usize = 0; i < PAGE_SIZE; i += 8) if (load<u64>(p + i) != 0) nonzero++;
  KUNIT_EXPECT_EQ(test, nonzero, 0);
  free_page(p);
}

/** Take the lowmem zones to the min watermark; returns the chain to give back. */
function lowmem_to_min(): page {
  return exhaust(GFP_KERNEL, per_zone);
}

function gfp_atomic_reserve(test: kunit): void {
  buddy_snapshot(snap_a);
  const chain = lowmem_to_min();
  // GFP_NOWAIT has no reserve access: nothing below min.
  const nw = alloc_page(GFP_NOWAIT | __GFP_NOWARN);
  KUNIT_EXPECT_TRUE(test, isnull(nw));
  if (!isnull(nw)) __free_page(nw);
  // GFP_ATOMIC may dig into the reserve: pages, but fewer than the min mark.
  const atomic_chain = exhaust(GFP_ATOMIC, per_zone);
  const got = load<u64>(per_zone) + load<u64>(per_zone, 8);
  const mins = node_zone(0, ZONE_DMA).wmark_min + node_zone(0, ZONE_NORMAL).wmark_min;
  KUNIT_EXPECT_GT(test, got, 0);
  KUNIT_EXPECT_LT(test, got, mins);
  free_chain(atomic_chain);
  free_chain(chain);
  buddy_snapshot(snap_b);
  expect_same_state(test, snap_a, snap_b);
}

function gfp_high_reserve(test: kunit): void {
  buddy_snapshot(snap_a);
  const chain = lowmem_to_min();
  // __GFP_HIGH alone (no __GFP_ATOMIC): half the min reserve — less than GFP_ATOMIC gets.
  const high_chain = exhaust(__GFP_HIGH, per_zone);
  const high_got = load<u64>(per_zone) + load<u64>(per_zone, 8);
  KUNIT_EXPECT_GT(test, high_got, 0);
  const atomic_chain = exhaust(GFP_ATOMIC, per_zone);
  KUNIT_EXPECT_GT(test, load<u64>(per_zone) + load<u64>(per_zone, 8), 0); // GFP_ATOMIC still finds more
  free_chain(atomic_chain);
  free_chain(high_chain);
  free_chain(chain);
  buddy_snapshot(snap_b);
  expect_same_state(test, snap_a, snap_b);
}

function gfp_noretry(test: kunit): void {
  const chain = lowmem_to_min();
  const r0 = alloc_retries;
  const pg = alloc_page(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN);
  KUNIT_EXPECT_TRUE(test, isnull(pg));
  KUNIT_EXPECT_EQ(test, alloc_retries - r0, 1); // one drain, one retry
  free_chain(chain);
}

function gfp_retry_mayfail(test: kunit): void {
  const chain = lowmem_to_min();
  let r0 = alloc_retries;
  // A costly order: by default one retry, with __GFP_RETRY_MAYFAIL (= __GFP_REPEAT) MAX_RECLAIM_RETRIES.
  let pg = alloc_pages(GFP_KERNEL | __GFP_NOWARN, 5);
  KUNIT_EXPECT_TRUE(test, isnull(pg));
  KUNIT_EXPECT_EQ(test, alloc_retries - r0, 1);
  r0 = alloc_retries;
  pg = alloc_pages(GFP_KERNEL | __GFP_REPEAT | __GFP_NOWARN, 5);
  KUNIT_EXPECT_TRUE(test, isnull(pg));
  KUNIT_EXPECT_EQ(test, alloc_retries - r0, MAX_RECLAIM_RETRIES);
  KUNIT_EXPECT_EQ(test, __GFP_REPEAT, __GFP_RETRY_MAYFAIL);
  free_chain(chain);
}

let nofail_chain: usize = 0;
function nofail_releaser(arg: u64): i32 {
  msleep(20);
  // Give back a handful of pages: enough for one allocation above the min mark.
  let head = changetype<page>(<usize>arg);
  for (let i = 0; i < 64 && !isnull(head); i++) {
    const next = changetype<page>(<usize>head.lru_next);
    head.lru_next = 0;
    __free_pages(head, head.private_);
    head = next;
  }
  atomic.store<u32>(changetype<usize>(nofail_chain_ptr), <u32>changetype<usize>(head));
  return 0;
}
const nofail_chain_ptr: usize = memory.data(4, 4);

function gfp_nofail(test: kunit): void {
  const chain = lowmem_to_min();
  const w0 = nofail_waits;
  atomic.store<u32>(nofail_chain_ptr, 0);
  // Another thread frees pages 20 ms from now; __GFP_NOFAIL waits for them.
  const cpu = num_online_cpus() > 1 ? 1 : 0;
  kthread_run_on_cpu(nofail_releaser, <u64>changetype<usize>(chain), cpu, "nofail_free");
  const pg = alloc_page(GFP_KERNEL | __GFP_NOFAIL);
  KUNIT_EXPECT_FALSE(test, isnull(pg));
  KUNIT_EXPECT_GT(test, nofail_waits, w0);
  if (!isnull(pg)) __free_page(pg);
  // Wait for the releaser, then give back the rest.
  while (atomic.load<u32>(nofail_chain_ptr) == 0) msleep(4);
  free_chain(changetype<page>(<usize>atomic.load<u32>(nofail_chain_ptr)));
}

function gfp_nowarn(test: kunit): void {
  const w0 = alloc_fail_warnings;
  let pg = alloc_pages(GFP_KERNEL | __GFP_NOWARN, 10 + 1); // ≥ MAX_ORDER: fails at once
  KUNIT_EXPECT_TRUE(test, isnull(pg));
  const chain = lowmem_to_min();
  pg = alloc_page(GFP_NOWAIT | __GFP_NOWARN);
  KUNIT_EXPECT_TRUE(test, isnull(pg));
  KUNIT_EXPECT_EQ(test, alloc_fail_warnings, w0);
  const first = kunit_quiet();
  pg = alloc_page(GFP_NOWAIT);
  kunit_loud();
  KUNIT_EXPECT_TRUE(test, isnull(pg));
  KUNIT_EXPECT_EQ(test, alloc_fail_warnings, w0 + 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "init: page allocation failure: order:0, mode:0x800(GFP_NOWAIT), nodemask=(null)"), 1);
  free_chain(chain);
}

function gfp_cold(test: kunit): void {
  const flags = local_irq_save();
  const a = alloc_page(GFP_ATOMIC);
  const b = alloc_page(GFP_ATOMIC);
  free_cold_page(b);
  free_hot_page(a);
  const hot = alloc_page(GFP_ATOMIC);
  const cold = alloc_page(GFP_ATOMIC | __GFP_COLD);
  local_irq_restore(flags);
  KUNIT_EXPECT_EQ(test, changetype<usize>(hot), changetype<usize>(a));
  KUNIT_EXPECT_EQ(test, changetype<usize>(cold), changetype<usize>(b));
  __free_page(hot);
  __free_page(cold);
}

function gfp_might_sleep(test: kunit): void {
  spin_lock_init(lock);
  let c0 = might_sleep_count();
  // Fine: sleeping flags in process context; atomic flags anywhere.
  __free_page(alloc_page(GFP_KERNEL));
  KUNIT_EXPECT_EQ(test, might_sleep_count(), c0);
  spin_lock(lock);
  __free_page(alloc_page(GFP_ATOMIC));
  KUNIT_EXPECT_EQ(test, might_sleep_count(), c0);
  const first = kunit_quiet();
  // Reported: each sleeping flag set with a spinlock held …
  __free_page(alloc_page(GFP_KERNEL));
  __free_page(alloc_page(GFP_NOIO));
  __free_page(alloc_page(GFP_NOFS));
  spin_unlock(lock);
  KUNIT_EXPECT_EQ(test, might_sleep_count(), c0 + 3);
  // … and with interrupts off.
  local_irq_disable();
  __free_page(alloc_page(GFP_KERNEL));
  local_irq_enable();
  kunit_loud();
  KUNIT_EXPECT_EQ(test, might_sleep_count(), c0 + 4);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "BUG: sleeping function called from invalid context at "), 4);
}

const name_buf: usize = memory.data(128, 8);
function gfp_flag_names(test: kunit): void {
  // Linux's %pGg spelling, used in the failure warning.
  gfp_flags_name(GFP_KERNEL, name_buf, 128);
  KUNIT_EXPECT_BYTES_STREQ(test, name_buf, 10, "GFP_KERNEL");
  KUNIT_EXPECT_EQ(test, GFP_KERNEL, 0xcc0);
  KUNIT_EXPECT_EQ(test, GFP_ATOMIC, 0xa20);
  KUNIT_EXPECT_EQ(test, GFP_NOWAIT, 0x800);
  KUNIT_EXPECT_EQ(test, GFP_HIGHUSER, 0x100cc2);
  const n = gfp_flags_name(GFP_KERNEL | __GFP_ZERO | __GFP_DMA, name_buf, 128);
  KUNIT_EXPECT_BYTES_STREQ(test, name_buf, n, "GFP_KERNEL|__GFP_DMA|__GFP_ZERO");
}

export function register_gfp_tests(): void {
  kunit_suite("gfp");
  kunit_case("gfp_dma_zone", gfp_dma_zone);
  kunit_case("gfp_highmem_zone", gfp_highmem_zone);
  kunit_case("gfp_user_zone", gfp_user_zone);
  kunit_case("gfp_highuser_zone", gfp_highuser_zone);
  kunit_case("gfp_zero", gfp_zero);
  kunit_case("gfp_atomic_reserve", gfp_atomic_reserve);
  kunit_case("gfp_high_reserve", gfp_high_reserve);
  kunit_case("gfp_noretry", gfp_noretry);
  kunit_case("gfp_retry_mayfail", gfp_retry_mayfail);
  kunit_case("gfp_nofail", gfp_nofail);
  kunit_case("gfp_nowarn", gfp_nowarn);
  kunit_case("gfp_cold", gfp_cold);
  kunit_case("gfp_might_sleep", gfp_might_sleep);
  kunit_case("gfp_flag_names", gfp_flag_names);
}
