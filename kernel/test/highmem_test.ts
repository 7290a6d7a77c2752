/**
 * Suite `highmem`: kmap, kmap_local_page, kmap_atomic (mm/highmem.ts) on the
 * real Sv39 tables of arch/pgtable.ts.
 *
 * Pages come from the page allocator: GFP_HIGHUSER gives ZONE_HIGHMEM pages
 * when the machine has high DRAM (or, on QEMU, RAM beyond the linear map).
 * Without highmem the cases that are about highmem pages as such skip with
 * "no highmem"; the machinery under them still runs, by mapping lowmem
 * pages' frames into the same slots directly (kmap_high on a lowmem page
 * for the pkmap pool, kmap_local_pfn / kmap_atomic_pfn for the fixmap).
 * Every mapping is checked against the data seen through another mapping
 * of the same frame, and against the page tables themselves (pte_lookup).
 */
import { kunit, kunit_suite, kunit_case, kunit_skip, KUNIT_EXPECT_EQ, KUNIT_EXPECT_NE, KUNIT_EXPECT_TRUE, KUNIT_EXPECT_FALSE,
  KUNIT_EXPECT_GT, KUNIT_ASSERT_TRUE, kunit_quiet, kunit_loud, kunit_logged } from "./ktap";
import { PAGE_SIZE, LAST_PKMAP, KM_MAX_IDX, PKMAP_BASE, PKMAP_END, FIXADDR_START, FIXADDR_TOP, PKMAP_NR, vaddr, NR_CPUS } from "../arch/layout";
import { PTE_V, PTE_R, PTE_W, PTE_X, PTE_U, PTE_G, PTE_A, PTE_D, PAGE_KERNEL, pte_lookup, pte_pfn, kernel_virt_to_phys, set_pte_kernel,
  flush_tlb_kernel_range, tlb_flush_count_of, tlb_range_flush_count } from "../arch/pgtable";
import { kmap, kunmap, kmap_high, kunmap_high, kmap_local_page, kunmap_local, kmap_atomic, kunmap_atomic, kmap_local_pfn,
  kmap_atomic_pfn, kmap_flush_unused, kmap_local_slot_vaddr, kmap_local_depth, pkmap_slots_in_use, pkmap_slots_mapped,
  pkmap_count_of, pkmap_flush_count, kmap_sleep_count, kmap_bug_count } from "../mm/highmem";
import { alloc_page, __free_page } from "../mm/page_alloc";
import { page, page_address, page_to_pfn, page_to_phys, PageHighMem } from "../mm/page";
import { GFP_KERNEL, GFP_HIGHUSER, __GFP_NOWARN } from "../mm/gfp";
import { preempt_count, in_atomic } from "../preempt";
import { smp_processor_id } from "../cpu";
import { smp_call_function, cpu_online, num_online_cpus } from "../smp";
import { nr_cpu_ids } from "../of/fdt";
import { kthread_run_on_cpu, msleep, sched_running } from "../sched/core";
import { init_completion, complete, completion_done, wait_for_completion_timeout, COMPLETION_SIZE } from "../sched/wait";
import { csrr_time } from "../arch/riscv";
import { timebase_freq } from "../time/clock";

const NULL_PAGE = changetype<page>(0);
// @ts-ignore: decorator
@inline function isnull(p: page): bool { return changetype<usize>(p) == 0; }
// @ts-ignore: decorator
@inline function in_pkmap(p: usize): bool { const va = vaddr(p); return va >= PKMAP_BASE && va < PKMAP_END; }
// @ts-ignore: decorator
@inline function in_fixmap(p: usize): bool { const va = vaddr(p); return va >= FIXADDR_START && va < FIXADDR_TOP; }
/** page->virtual as stored (page_address() answers the linear map for lowmem pages). */
// @ts-ignore: decorator
@inline function page_virtual(pg: page): usize { return <usize>atomic.load<u32>(changetype<usize>(pg), offsetof<page>("virtual")); }

/** The pkmap pool for any page: kmap for highmem, kmap_high directly for lowmem (the machinery without high DRAM). */
function pk_map(pg: page): usize { return PageHighMem(pg) ? kmap(pg) : kmap_high(pg); }
function pk_unmap(pg: page): void { if (PageHighMem(pg)) kunmap(pg); else kunmap_high(pg); }
/** A fixmap slot for any page: kmap_local_page for highmem, kmap_local_pfn for lowmem. */
function lk_map(pg: page): usize { return PageHighMem(pg) ? kmap_local_page(pg) : kmap_local_pfn(page_to_pfn(pg)); }

/** Fill a page (through `p`) with words derived from `seed`; check them. */
function fill_page(p: usize, seed: u64): void {
  for (let i: usize = 0; i < PAGE_SIZE; i += 8) store<u64>(p + i, seed ^ (<u64>i * 0x9E37_79B9_7F4A_7C15));
}
function page_matches(p: usize, seed: u64): bool {
  for (let i: usize = 0; i < PAGE_SIZE; i += 8) if (load<u64>(p + i) != (seed ^ (<u64>i * 0x9E37_79B9_7F4A_7C15))) return false;
  return true;
}

/** A page from GFP_HIGHUSER (highmem when there is any); null on failure. */
function alloc_highuser(): page { return alloc_page(GFP_HIGHUSER | __GFP_NOWARN); }

// --- kmap ----------------------------------------------------------------------------

function kmap_lowmem_is_page_address(test: kunit): void {
  const pg = alloc_page(GFP_KERNEL);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(pg))) return;
  KUNIT_EXPECT_FALSE(test, PageHighMem(pg));
  const busy = pkmap_slots_in_use();
  const pc = preempt_count();
  const a = kmap(pg);
  KUNIT_EXPECT_NE(test, a, 0);
  KUNIT_EXPECT_EQ(test, a, page_address(pg));
  KUNIT_EXPECT_EQ(test, pkmap_slots_in_use(), busy);
  KUNIT_EXPECT_EQ(test, preempt_count(), pc);
  const l = kmap_local_page(pg);
  KUNIT_EXPECT_EQ(test, l, page_address(pg));
  KUNIT_EXPECT_EQ(test, preempt_count(), pc);
  kunmap_local(l);
  kunmap(pg);
  KUNIT_EXPECT_EQ(test, preempt_count(), pc);
  __free_page(pg);
}

function kmap_highmem_page_in_pkmap(test: kunit): void {
  const pg = alloc_highuser();
  if (!KUNIT_ASSERT_TRUE(test, !isnull(pg))) return;
  if (!PageHighMem(pg)) { __free_page(pg); kunit_skip(test, "no highmem"); return; }
  kmap_flush_unused(); // a freed page may still sit in a cached slot
  KUNIT_EXPECT_EQ(test, page_address(pg), 0);
  const busy = pkmap_slots_in_use();
  const a = kmap(pg);
  KUNIT_EXPECT_TRUE(test, in_pkmap(a));
  KUNIT_EXPECT_EQ(test, a & (PAGE_SIZE - 1), 0);
  KUNIT_EXPECT_EQ(test, page_address(pg), a);
  KUNIT_EXPECT_EQ(test, pkmap_count_of(PKMAP_NR(vaddr(a))), 2);
  KUNIT_EXPECT_EQ(test, pkmap_slots_in_use(), busy + 1);
  kunmap(pg);
  // No user, still cached (count 1): the address stays until the slot is recycled.
  KUNIT_EXPECT_EQ(test, pkmap_count_of(PKMAP_NR(vaddr(a))), 1);
  KUNIT_EXPECT_EQ(test, pkmap_slots_in_use(), busy);
  KUNIT_EXPECT_EQ(test, page_address(pg), a);
  // Mapping it again reuses the cached slot, without a flush.
  const flushes = pkmap_flush_count();
  KUNIT_EXPECT_EQ(test, kmap(pg), a);
  KUNIT_EXPECT_EQ(test, pkmap_flush_count(), flushes);
  kunmap(pg);
  kmap_flush_unused();
  KUNIT_EXPECT_EQ(test, pkmap_flush_count(), flushes + 1);
  KUNIT_EXPECT_EQ(test, pkmap_count_of(PKMAP_NR(vaddr(a))), 0);
  KUNIT_EXPECT_EQ(test, page_address(pg), 0);
  KUNIT_EXPECT_EQ(test, pte_lookup(vaddr(a)), 0);
  __free_page(pg);
}

function pkmap_lowmem_frame(test: kunit): void {
  // The pkmap pool on a lowmem page's frame: an alias of its linear-map address.
  const pg = alloc_page(GFP_KERNEL);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(pg))) return;
  const lin = page_address(pg);
  fill_page(lin, 0x1111);
  const a = kmap_high(pg);
  KUNIT_EXPECT_TRUE(test, in_pkmap(a));
  KUNIT_EXPECT_NE(test, a, lin);
  KUNIT_EXPECT_EQ(test, page_virtual(pg), a);
  KUNIT_EXPECT_TRUE(test, page_matches(a, 0x1111));
  fill_page(a, 0x2222);
  KUNIT_EXPECT_TRUE(test, page_matches(lin, 0x2222));
  kunmap_high(pg);
  kmap_flush_unused();
  KUNIT_EXPECT_EQ(test, page_virtual(pg), 0);
  KUNIT_EXPECT_EQ(test, pte_lookup(vaddr(a)), 0);
  __free_page(pg);
}

function kmap_same_page_all_ways(test: kunit): void {
  const pg = alloc_highuser();
  if (!KUNIT_ASSERT_TRUE(test, !isnull(pg))) return;
  const high = PageHighMem(pg);
  const a = kmap(pg);
  if (!KUNIT_ASSERT_TRUE(test, a != 0)) { __free_page(pg); return; }
  fill_page(a, 0xABCD);
  // A second kmap of the same page: the same address, two users.
  const b = kmap(pg);
  KUNIT_EXPECT_EQ(test, b, a);
  if (high) KUNIT_EXPECT_EQ(test, pkmap_count_of(PKMAP_NR(vaddr(a))), 3);
  const l = kmap_local_page(pg);
  KUNIT_EXPECT_TRUE(test, page_matches(l, 0xABCD));
  const at = kmap_atomic(pg);
  KUNIT_EXPECT_TRUE(test, page_matches(at, 0xABCD));
  if (high) {
    KUNIT_EXPECT_TRUE(test, in_fixmap(l));
    KUNIT_EXPECT_TRUE(test, in_fixmap(at));
    KUNIT_EXPECT_NE(test, l, at);
    KUNIT_EXPECT_NE(test, l, a);
  }
  // Written through the atomic mapping, seen through the others.
  fill_page(at, 0x5678);
  kunmap_atomic(at);
  KUNIT_EXPECT_TRUE(test, page_matches(l, 0x5678));
  kunmap_local(l);
  KUNIT_EXPECT_TRUE(test, page_matches(a, 0x5678));
  kunmap(pg);
  if (high) KUNIT_EXPECT_EQ(test, pkmap_count_of(PKMAP_NR(vaddr(a))), 2);
  kunmap(pg);
  if (high) KUNIT_EXPECT_EQ(test, pkmap_count_of(PKMAP_NR(vaddr(a))), 1);
  __free_page(pg);
}

// --- kmap_local / kmap_atomic ------------------------------------------------------------

const NEST: i32 = KM_MAX_IDX;
const nest_pages: usize = memory.data(KM_MAX_IDX * 4, 4);
const nest_addr: usize = memory.data(KM_MAX_IDX * 4, 4);
// @ts-ignore: decorator
@inline function nest_page(i: i32): page { return changetype<page>(load<usize>(nest_pages + <usize>i * 4)); }

function alloc_nest(test: kunit, n: i32): bool {
  for (let i = 0; i < n; i++) {
    const pg = alloc_highuser();
    store<usize>(nest_pages + <usize>i * 4, changetype<usize>(pg));
    if (isnull(pg)) { KUNIT_EXPECT_TRUE(test, false, "alloc_page(GFP_HIGHUSER)"); for (let k = 0; k < i; k++) __free_page(nest_page(k)); return false; }
  }
  return true;
}
function free_nest(n: i32): void { for (let i = 0; i < n; i++) __free_page(nest_page(i)); }

function kmap_local_nested_lifo(test: kunit): void {
  if (!alloc_nest(test, NEST)) return;
  const pc = preempt_count();
  const depth0 = kmap_local_depth(smp_processor_id());
  KUNIT_EXPECT_EQ(test, depth0, 0);
  let cpu = -1;
  for (let i = 0; i < NEST; i++) {
    const p = lk_map(nest_page(i));
    if (cpu < 0) cpu = smp_processor_id(); // preemption is off from here on
    store<usize>(nest_addr + <usize>i * 4, p);
    KUNIT_EXPECT_EQ(test, vaddr(p), kmap_local_slot_vaddr(cpu, i));
    KUNIT_EXPECT_EQ(test, kmap_local_depth(cpu), i + 1);
    fill_page(p, 0x100 + <u64>i);
  }
  KUNIT_EXPECT_EQ(test, preempt_count(), pc + <u32>NEST);
  // Every mapping still names its own page (no slot was reused).
  for (let i = 0; i < NEST; i++) {
    const p = load<usize>(nest_addr + <usize>i * 4);
    KUNIT_EXPECT_TRUE(test, page_matches(p, 0x100 + <u64>i));
    KUNIT_EXPECT_EQ(test, pte_pfn(pte_lookup(vaddr(p))), page_to_pfn(nest_page(i)));
  }
  for (let i = NEST - 1; i >= 0; i--) {
    const p = load<usize>(nest_addr + <usize>i * 4);
    kunmap_local(p);
    KUNIT_EXPECT_EQ(test, kmap_local_depth(cpu), i);
    KUNIT_EXPECT_EQ(test, pte_lookup(vaddr(p)), 0);
  }
  KUNIT_EXPECT_EQ(test, preempt_count(), pc);
  // The data is in the pages themselves.
  for (let i = 0; i < NEST; i++) {
    const pg = nest_page(i);
    const p = pk_map(pg);
    KUNIT_EXPECT_TRUE(test, page_matches(p, 0x100 + <u64>i));
    pk_unmap(pg);
  }
  free_nest(NEST);
}

function kmap_local_depth_limit(test: kunit): void {
  if (!alloc_nest(test, 1)) return;
  const pfn = page_to_pfn(nest_page(0));
  const pc = preempt_count();
  const bugs = kmap_bug_count();
  for (let i = 0; i < KM_MAX_IDX; i++) store<usize>(nest_addr + <usize>i * 4, kmap_local_pfn(pfn));
  const cpu = smp_processor_id();
  KUNIT_EXPECT_EQ(test, kmap_local_depth(cpu), KM_MAX_IDX);
  // One more than KM_MAX_IDX: refused and reported, nothing held.
  const first = kunit_quiet();
  const over = kmap_local_pfn(pfn);
  kunit_loud();
  KUNIT_EXPECT_EQ(test, over, 0);
  KUNIT_EXPECT_EQ(test, kmap_bug_count(), bugs + 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "BUG: kmap_local: CPU"), 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "WARNING: CPU:"), 1);
  KUNIT_EXPECT_EQ(test, kmap_local_depth(cpu), KM_MAX_IDX);
  KUNIT_EXPECT_EQ(test, preempt_count(), pc + <u32>KM_MAX_IDX);
  for (let i = KM_MAX_IDX - 1; i >= 0; i--) kunmap_local(load<usize>(nest_addr + <usize>i * 4));
  KUNIT_EXPECT_EQ(test, kmap_local_depth(cpu), 0);
  KUNIT_EXPECT_EQ(test, preempt_count(), pc);
  KUNIT_EXPECT_EQ(test, kmap_bug_count(), bugs + 1);
  free_nest(1);
}

function kmap_local_out_of_order(test: kunit): void {
  if (!alloc_nest(test, 2)) return;
  const pc = preempt_count();
  const bugs = kmap_bug_count();
  const a = kmap_local_pfn(page_to_pfn(nest_page(0)));
  const b = kmap_local_pfn(page_to_pfn(nest_page(1)));
  const cpu = smp_processor_id();
  // Out of LIFO order: reported each time; the top slot is popped anyway,
  // so after both unmaps the stack is empty and both PTEs are clear.
  const first = kunit_quiet();
  kunmap_local(a);
  kunit_loud();
  KUNIT_EXPECT_EQ(test, kmap_bug_count(), bugs + 1);
  KUNIT_EXPECT_EQ(test, kmap_local_depth(cpu), 1);
  kunit_quiet();
  kunmap_local(b);
  kunit_loud();
  KUNIT_EXPECT_EQ(test, kmap_bug_count(), bugs + 2);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "BUG: kunmap_local("), 2);
  KUNIT_EXPECT_EQ(test, kmap_local_depth(cpu), 0);
  KUNIT_EXPECT_EQ(test, pte_lookup(vaddr(a)), 0);
  KUNIT_EXPECT_EQ(test, pte_lookup(vaddr(b)), 0);
  KUNIT_EXPECT_EQ(test, preempt_count(), pc);
  // With nothing mapped: reported, preemption untouched.
  kunit_quiet();
  kunmap_local(a);
  kunit_loud();
  KUNIT_EXPECT_EQ(test, kmap_bug_count(), bugs + 3);
  KUNIT_EXPECT_EQ(test, preempt_count(), pc);
  free_nest(2);
}

function kmap_atomic_preempt_count(test: kunit): void {
  const low = alloc_page(GFP_KERNEL);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(low))) return;
  const pc = preempt_count();
  // Lowmem: kmap_atomic is page_address plus preempt_disable.
  const a = kmap_atomic(low);
  KUNIT_EXPECT_EQ(test, a, page_address(low));
  KUNIT_EXPECT_EQ(test, preempt_count(), pc + 1);
  KUNIT_EXPECT_TRUE(test, in_atomic());
  kunmap_atomic(a);
  KUNIT_EXPECT_EQ(test, preempt_count(), pc);
  // A frame in a fixmap slot (kmap_atomic_pfn, or a highmem page): one
  // more for the local slot, held until the unmap.
  const b = kmap_atomic_pfn(page_to_pfn(low));
  KUNIT_EXPECT_TRUE(test, in_fixmap(b));
  KUNIT_EXPECT_EQ(test, preempt_count(), pc + 2);
  kunmap_atomic(b);
  KUNIT_EXPECT_EQ(test, preempt_count(), pc);
  const hp = alloc_highuser();
  if (!isnull(hp) && PageHighMem(hp)) {
    const c = kmap_atomic(hp);
    KUNIT_EXPECT_TRUE(test, in_fixmap(c));
    KUNIT_EXPECT_EQ(test, preempt_count(), pc + 2);
    kunmap_atomic(c);
    KUNIT_EXPECT_EQ(test, preempt_count(), pc);
    const d = kmap_local_page(hp);
    KUNIT_EXPECT_EQ(test, preempt_count(), pc + 1);
    kunmap_local(d);
    KUNIT_EXPECT_EQ(test, preempt_count(), pc);
  }
  if (!isnull(hp)) __free_page(hp);
  __free_page(low);
}

// --- the pkmap pool: exhaustion, recycling, sleeping ------------------------------------

const POOL: i32 = LAST_PKMAP + 1;
const pool_pages: usize = memory.data(POOL * 4, 4);
const pool_addr: usize = memory.data(POOL * 4, 4);
// @ts-ignore: decorator
@inline function pool_page(i: i32): page { return changetype<page>(load<usize>(pool_pages + <usize>i * 4)); }

function alloc_pool(test: kunit): bool {
  for (let i = 0; i < POOL; i++) {
    const pg = alloc_highuser();
    store<usize>(pool_pages + <usize>i * 4, changetype<usize>(pg));
    if (isnull(pg)) { KUNIT_EXPECT_TRUE(test, false, "alloc_page(GFP_HIGHUSER)"); for (let k = 0; k < i; k++) __free_page(pool_page(k)); return false; }
  }
  return true;
}
function free_pool(): void { for (let i = 0; i < POOL; i++) __free_page(pool_page(i)); }

/** Map pool pages 0 … LAST_PKMAP − 1: every slot gets a user. */
function map_all_slots(test: kunit): void {
  for (let i = 0; i < LAST_PKMAP; i++) {
    const a = pk_map(pool_page(i));
    store<usize>(pool_addr + <usize>i * 4, a);
    KUNIT_EXPECT_TRUE(test, in_pkmap(a));
    fill_page(a, 0xC0DE_0000 + <u64>i);
  }
}

function kmap_exhaust_and_recycle(test: kunit): void {
  if (!alloc_pool(test)) return;
  kmap_flush_unused();
  KUNIT_EXPECT_EQ(test, pkmap_slots_in_use(), 0);
  map_all_slots(test);
  KUNIT_EXPECT_EQ(test, pkmap_slots_in_use(), LAST_PKMAP);
  KUNIT_EXPECT_EQ(test, pkmap_slots_mapped(), LAST_PKMAP);
  // 512 pages in 512 slots: every slot has exactly one user, so no two share one.
  for (let nr = 0; nr < LAST_PKMAP; nr++) KUNIT_EXPECT_EQ(test, pkmap_count_of(nr), 2);
  for (let i = 0; i < LAST_PKMAP; i++) {
    const a = load<usize>(pool_addr + <usize>i * 4);
    KUNIT_EXPECT_TRUE(test, page_matches(a, 0xC0DE_0000 + <u64>i));
  }
  for (let i = 0; i < LAST_PKMAP; i++) pk_unmap(pool_page(i));
  KUNIT_EXPECT_EQ(test, pkmap_slots_in_use(), 0);
  KUNIT_EXPECT_EQ(test, pkmap_slots_mapped(), LAST_PKMAP); // all cached (count 1)
  // One more page: no slot is free (all are 1), so the search wraps and
  // flush_all_zero_pkmaps recycles every cached slot with one TLB flush.
  const flushes = pkmap_flush_count();
  const ranges = tlb_range_flush_count();
  const extra = pool_page(LAST_PKMAP);
  const a = pk_map(extra);
  KUNIT_EXPECT_TRUE(test, in_pkmap(a));
  KUNIT_EXPECT_EQ(test, pkmap_flush_count(), flushes + 1);
  KUNIT_EXPECT_EQ(test, tlb_range_flush_count(), ranges + 1);
  KUNIT_EXPECT_EQ(test, pkmap_slots_mapped(), 1);
  fill_page(a, 0xE);
  pk_unmap(extra);
  for (let i = 0; i < LAST_PKMAP; i++) {
    const pg = pool_page(i);
    KUNIT_EXPECT_EQ(test, page_virtual(pg), 0);
    if (PageHighMem(pg)) KUNIT_EXPECT_EQ(test, page_address(pg), 0);
  }
  // The data stayed in the pages.
  for (let i = 0; i < LAST_PKMAP; i += 73) {
    const pg = pool_page(i);
    const p = pk_map(pg);
    KUNIT_EXPECT_TRUE(test, page_matches(p, 0xC0DE_0000 + <u64>i));
    pk_unmap(pg);
  }
  kmap_flush_unused();
  free_pool();
}

let sleeper_addr: usize = 0;
const sleeper_done: usize = memory.data(COMPLETION_SIZE, 16);

function kmap_sleeper(arg: u64): i32 {
  const pg = pool_page(LAST_PKMAP);
  const a = pk_map(pg);
  sleeper_addr = a;
  fill_page(a, 0x51EE9);
  pk_unmap(pg);
  complete(sleeper_done);
  return 0;
}

function kmap_sleeps_until_kunmap(test: kunit): void {
  if (!sched_running) { kunit_skip(test, "no scheduler"); return; }
  if (!alloc_pool(test)) return;
  kmap_flush_unused();
  map_all_slots(test);
  KUNIT_EXPECT_EQ(test, pkmap_slots_in_use(), LAST_PKMAP);
  init_completion(sleeper_done);
  sleeper_addr = 0;
  const sleeps = kmap_sleep_count();
  const t = kthread_run_on_cpu(kmap_sleeper, 0, smp_processor_id(), "kunit_kmap");
  if (KUNIT_ASSERT_TRUE(test, changetype<usize>(t) != 0)) {
    // Every slot has a user: the thread's kmap must sleep.
    for (let i = 0; i < 50 && kmap_sleep_count() == sleeps; i++) msleep(2);
    KUNIT_EXPECT_GT(test, kmap_sleep_count(), sleeps);
    msleep(4);
    KUNIT_EXPECT_FALSE(test, completion_done(sleeper_done));
    // Free one slot: the sleeper wakes, and gets exactly that slot.
    const freed = load<usize>(pool_addr);
    pk_unmap(pool_page(0));
    KUNIT_EXPECT_GT(test, wait_for_completion_timeout(sleeper_done, 250), 0);
    KUNIT_EXPECT_EQ(test, sleeper_addr, freed);
    const p = pk_map(pool_page(LAST_PKMAP));
    KUNIT_EXPECT_TRUE(test, page_matches(p, 0x51EE9));
    pk_unmap(pool_page(LAST_PKMAP));
  } else {
    pk_unmap(pool_page(0));
  }
  for (let i = 1; i < LAST_PKMAP; i++) pk_unmap(pool_page(i));
  KUNIT_EXPECT_EQ(test, pkmap_slots_in_use(), 0);
  kmap_flush_unused();
  free_pool();
}

function kunmap_unmapped_is_reported(test: kunit): void {
  const pg = alloc_highuser();
  if (!KUNIT_ASSERT_TRUE(test, !isnull(pg))) return;
  kmap_flush_unused();
  const bugs = kmap_bug_count();
  const first = kunit_quiet();
  pk_unmap(pg); // never mapped
  kunit_loud();
  KUNIT_EXPECT_EQ(test, kmap_bug_count(), bugs + 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "BUG: kunmap: page"), 1);
  const a = pk_map(pg);
  pk_unmap(pg);
  kunit_quiet();
  pk_unmap(pg); // mapped (cached) but without a user
  kunit_loud();
  KUNIT_EXPECT_EQ(test, kmap_bug_count(), bugs + 2);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "BUG: kunmap: page"), 2);
  KUNIT_EXPECT_EQ(test, pkmap_count_of(PKMAP_NR(vaddr(a))), 1);
  kmap_flush_unused();
  __free_page(pg);
}

// --- every CPU at once ---------------------------------------------------------------

/** Per CPU: its two pages, and what it saw: [local addr, atomic addr, depth before, depth after]. */
const cpu_pages: usize = memory.data(NR_CPUS * 2 * 4, 4);
const cpu_seen: usize = memory.data(NR_CPUS * 4 * 8, 8);
const cpus_done: usize = memory.data(8, 8);
// @ts-ignore: decorator
@inline function cpu_page(cpu: i32, k: i32): page { return changetype<page>(load<usize>(cpu_pages + <usize>(cpu * 2 + k) * 4)); }
// @ts-ignore: decorator
@inline function seen(cpu: i32, k: i32): usize { return cpu_seen + <usize>(cpu * 4 + k) * 8; }

function cpu_seed(cpu: i32, k: i32): u64 { return (<u64>cpu << 40) | (<u64>k << 32) | 0x600D; }

function kmap_on_this_cpu(arg: u64): void {
  const cpu = smp_processor_id();
  store<u64>(seen(cpu, 2), <u64>kmap_local_depth(cpu));
  const p0 = cpu_page(cpu, 0);
  const p1 = cpu_page(cpu, 1);
  const a = lk_map(p0);
  const b = PageHighMem(p1) ? kmap_atomic(p1) : kmap_atomic_pfn(page_to_pfn(p1));
  fill_page(a, cpu_seed(cpu, 0));
  fill_page(b, cpu_seed(cpu, 1));
  store<u64>(seen(cpu, 0), vaddr(a));
  store<u64>(seen(cpu, 1), vaddr(b));
  kunmap_atomic(b);
  kunmap_local(a);
  store<u64>(seen(cpu, 3), <u64>kmap_local_depth(cpu));
  atomic.add<u64>(cpus_done, 1);
}

function kmap_on_every_cpu(test: kunit): void {
  let ok = true;
  for (let cpu = 0; cpu < nr_cpu_ids; cpu++) {
    for (let k = 0; k < 2; k++) {
      const pg = cpu_online(cpu) ? alloc_highuser() : NULL_PAGE;
      store<usize>(cpu_pages + <usize>(cpu * 2 + k) * 4, changetype<usize>(pg));
      if (cpu_online(cpu) && isnull(pg)) ok = false;
    }
  }
  if (KUNIT_ASSERT_TRUE(test, ok)) {
    memory.fill(cpu_seen, 0xff, <usize>NR_CPUS * 4 * 8);
    atomic.store<u64>(cpus_done, 0);
    const n = num_online_cpus();
    // The others in their IPI handlers, this CPU in process context, all at once.
    smp_call_function(kmap_on_this_cpu, 0, false);
    kmap_on_this_cpu(0);
    const deadline = csrr_time() + timebase_freq * 5;
    while (atomic.load<u64>(cpus_done) < <u64>n && csrr_time() < deadline) { /* wait */ }
    KUNIT_EXPECT_EQ(test, atomic.load<u64>(cpus_done), n);
    for (let cpu = 0; cpu < nr_cpu_ids; cpu++) {
      if (!cpu_online(cpu)) continue;
      KUNIT_EXPECT_EQ(test, load<u64>(seen(cpu, 2)), 0);
      KUNIT_EXPECT_EQ(test, load<u64>(seen(cpu, 3)), 0);
      // Each CPU used its own first two slots.
      KUNIT_EXPECT_EQ(test, load<u64>(seen(cpu, 0)), kmap_local_slot_vaddr(cpu, 0));
      KUNIT_EXPECT_EQ(test, load<u64>(seen(cpu, 1)), kmap_local_slot_vaddr(cpu, 1));
      // CPU 0 reads every page through kmap.
      for (let k = 0; k < 2; k++) {
        const pg = cpu_page(cpu, k);
        const p = kmap(pg);
        KUNIT_EXPECT_TRUE(test, page_matches(p, cpu_seed(cpu, k)));
        kunmap(pg);
      }
    }
  }
  for (let cpu = 0; cpu < nr_cpu_ids; cpu++) {
    for (let k = 0; k < 2; k++) if (!isnull(cpu_page(cpu, k))) __free_page(cpu_page(cpu, k));
  }
}

// --- the page tables themselves ------------------------------------------------------------

function kmap_pte_names_the_page(test: kunit): void {
  const pg = alloc_highuser();
  if (!KUNIT_ASSERT_TRUE(test, !isnull(pg))) return;
  const pa = page_to_phys(pg);
  const a = pk_map(pg);
  const pte = pte_lookup(vaddr(a));
  KUNIT_EXPECT_EQ(test, pte_pfn(pte), page_to_pfn(pg));
  KUNIT_EXPECT_EQ(test, pte & (PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_G | PTE_A | PTE_D), PAGE_KERNEL);
  KUNIT_EXPECT_EQ(test, kernel_virt_to_phys(vaddr(a) + 0x123), pa + 0x123);
  const l = lk_map(pg);
  KUNIT_EXPECT_EQ(test, pte_pfn(pte_lookup(vaddr(l))), page_to_pfn(pg));
  KUNIT_EXPECT_EQ(test, kernel_virt_to_phys(vaddr(l) + 8), pa + 8);
  kunmap_local(l);
  KUNIT_EXPECT_EQ(test, pte_lookup(vaddr(l)), 0);
  KUNIT_EXPECT_EQ(test, kernel_virt_to_phys(vaddr(l)), U64.MAX_VALUE);
  pk_unmap(pg);
  kmap_flush_unused();
  KUNIT_EXPECT_EQ(test, pte_lookup(vaddr(a)), 0);
  // The linear map, for comparison: 2 MiB leaves (swapper_pg_dir), __pa(p) = p.
  const low = alloc_page(GFP_KERNEL);
  if (!isnull(low)) {
    const p = page_address(low);
    KUNIT_EXPECT_EQ(test, kernel_virt_to_phys(vaddr(p)), page_to_phys(low));
    KUNIT_EXPECT_EQ(test, pte_pfn(pte_lookup(vaddr(p))), page_to_pfn(low) & ~<u64>511);
    __free_page(low);
  }
  __free_page(pg);
}

const tlb_seen: usize = memory.data(NR_CPUS * 8, 8);
const tlb_before: usize = memory.data(NR_CPUS * 8, 8);
const tlb_count0: usize = memory.data(NR_CPUS * 8, 8);
const tlb_ready: usize = memory.data(8, 8);
const tlb_phase: usize = memory.data(8, 8);
const tlb_done: usize = memory.data(COMPLETION_SIZE, 16);

/**
 * A kernel thread on another CPU: reads the address (its TLB now holds the
 * translation), then spins with interrupts on, taking no trap but the
 * flush's IPI, until told to read again.
 */
function tlb_reader(arg: u64): i32 {
  const cpu = smp_processor_id();
  const p = <usize><u32>arg;
  store<u64>(tlb_before + <usize>cpu * 8, load<u64>(p));
  atomic.add<u64>(tlb_ready, 1);
  while (atomic.load<u64>(tlb_phase) == 0) { /* spin */ }
  store<u64>(tlb_seen + <usize>cpu * 8, load<u64>(p));
  complete(tlb_done);
  return 0;
}

function flush_tlb_kernel_range_every_cpu(test: kunit): void {
  // Two lowmem frames behind one pkmap address: every CPU reads it (its TLB
  // now holds the translation), the PTE is pointed at the other frame, and
  // after flush_tlb_kernel_range every CPU must read the new frame.
  if (!sched_running) { kunit_skip(test, "no scheduler"); return; }
  const pa_pg = alloc_page(GFP_KERNEL);
  const pb_pg = alloc_page(GFP_KERNEL);
  if (KUNIT_ASSERT_TRUE(test, !isnull(pa_pg) && !isnull(pb_pg))) {
    store<u64>(page_address(pa_pg), 0xAAAA_AAAA);
    store<u64>(page_address(pb_pg), 0xBBBB_BBBB);
    const a = kmap_high(pa_pg);
    const va = vaddr(a);
    const me = smp_processor_id();
    memory.fill(tlb_seen, 0, <usize>NR_CPUS * 8);
    memory.fill(tlb_before, 0, <usize>NR_CPUS * 8);
    atomic.store<u64>(tlb_ready, 0);
    atomic.store<u64>(tlb_phase, 0);
    init_completion(tlb_done);
    let started = 0;
    for (let cpu = 0; cpu < nr_cpu_ids; cpu++) {
      if (cpu == me || !cpu_online(cpu)) continue;
      if (changetype<usize>(kthread_run_on_cpu(tlb_reader, <u64>a, cpu, "kunit_tlb")) != 0) started++;
    }
    KUNIT_EXPECT_EQ(test, started, num_online_cpus() - 1);
    const deadline = csrr_time() + timebase_freq * 5;
    while (atomic.load<u64>(tlb_ready) < <u64>started && csrr_time() < deadline) { /* wait */ }
    KUNIT_EXPECT_EQ(test, atomic.load<u64>(tlb_ready), started);
    KUNIT_EXPECT_EQ(test, load<u64>(a), 0xAAAA_AAAA);
    for (let cpu = 0; cpu < nr_cpu_ids; cpu++) store<u64>(tlb_count0 + <usize>cpu * 8, tlb_flush_count_of(cpu));
    KUNIT_EXPECT_EQ(test, set_pte_kernel(va, page_to_phys(pb_pg), PAGE_KERNEL), 0);
    flush_tlb_kernel_range(va, va + PAGE_SIZE);
    atomic.store<u64>(tlb_phase, 1);
    store<u64>(tlb_seen + <usize>me * 8, load<u64>(a));
    for (let i = 0; i < started; i++) KUNIT_EXPECT_GT(test, wait_for_completion_timeout(tlb_done, 250), 0);
    for (let cpu = 0; cpu < nr_cpu_ids; cpu++) {
      if (!cpu_online(cpu)) continue;
      if (cpu != me) KUNIT_EXPECT_EQ(test, load<u64>(tlb_before + <usize>cpu * 8), 0xAAAA_AAAA);
      KUNIT_EXPECT_EQ(test, load<u64>(tlb_seen + <usize>cpu * 8), 0xBBBB_BBBB);
      KUNIT_EXPECT_EQ(test, tlb_flush_count_of(cpu), load<u64>(tlb_count0 + <usize>cpu * 8) + 1);
    }
    // Put the slot back as kmap left it, then release it.
    set_pte_kernel(va, page_to_phys(pa_pg), PAGE_KERNEL);
    flush_tlb_kernel_range(va, va + PAGE_SIZE);
    KUNIT_EXPECT_EQ(test, load<u64>(a), 0xAAAA_AAAA);
    kunmap_high(pa_pg);
    kmap_flush_unused();
  }
  if (!isnull(pa_pg)) __free_page(pa_pg);
  if (!isnull(pb_pg)) __free_page(pb_pg);
}

export function register_highmem_tests(): void {
  kunit_suite("highmem");
  kunit_case("kmap_lowmem_is_page_address", kmap_lowmem_is_page_address);
  kunit_case("kmap_highmem_page_in_pkmap", kmap_highmem_page_in_pkmap);
  kunit_case("pkmap_lowmem_frame", pkmap_lowmem_frame);
  kunit_case("kmap_same_page_all_ways", kmap_same_page_all_ways);
  kunit_case("kmap_local_nested_lifo", kmap_local_nested_lifo);
  kunit_case("kmap_local_depth_limit", kmap_local_depth_limit);
  kunit_case("kmap_local_out_of_order", kmap_local_out_of_order);
  kunit_case("kmap_atomic_preempt_count", kmap_atomic_preempt_count);
  kunit_case("kmap_exhaust_and_recycle", kmap_exhaust_and_recycle);
  kunit_case("kmap_sleeps_until_kunmap", kmap_sleeps_until_kunmap);
  kunit_case("kunmap_unmapped_is_reported", kunmap_unmapped_is_reported);
  kunit_case("kmap_on_every_cpu", kmap_on_every_cpu);
  kunit_case("kmap_pte_names_the_page", kmap_pte_names_the_page);
  kunit_case("flush_tlb_kernel_range_every_cpu", flush_tlb_kernel_range_every_cpu);
}
