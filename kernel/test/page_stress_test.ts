/**
 * Suite `page_stress`: every online CPU allocates and frees at once
 * (mm/page_alloc.ts under contention), with an ownership bitmap that proves
 * no page is ever handed to two owners, and the allocator's state and
 * counters balanced at the end.
 *
 * One kernel thread per online CPU, each with its own xorshift64 generator
 * seeded from its CPU number (the same sequence of requests on every run)
 * and a private table of up to HELD_MAX blocks it holds:
 *
 *   held_area   [cpu 0: HELD_MAX entries][cpu 1: …] …        (static, per CPU)
 *   entry (16)  +0 struct page (u32)  +4 order (u32)  +8 pattern (u64)
 *
 *   ownership bitmap (allocated from the page allocator itself, zeroed):
 *   bit (pfn − bitmap_base_pfn) of word (bit >> 5); bitmap_base_pfn is
 *   min_pfn rounded down to 32, so a block of order ≤ 5 (aligned to its
 *   size) lies in one u32 word and is claimed by one atomic.or:
 *
 *     alloc: old = atomic.or(word, mask);  (old & mask) != 0 → double owner
 *     free:  old = atomic.and(word, ~mask); (old & mask) != mask → lost owner
 *
 * Bits are cleared before the block is freed and set after it is
 * allocated, so a page handed out twice is always caught. Lowmem blocks
 * also carry the owner's pattern (CPU, op index) in their first and last
 * word, checked before freeing: two owners writing the same memory.
 *
 * Cases:
 *   page_stress_random_orders   orders 0..5, GFP_KERNEL / GFP_ATOMIC /
 *                               GFP_HIGHUSER / GFP_DMA, hot, cold and plain frees
 *   page_stress_watermark       order 0 from ZONE_DMA only, the zone first
 *                               taken down to low + 200 free pages (fewer
 *                               with fewer than 4 CPUs), so the
 *                               per-CPU lists refill and spill while the
 *                               watermark checks race
 * Afterwards: no violation, every allocation a well-formed block or NULL,
 * the buddy state (drained) equal to the one before, and every zone's
 * pgalloc − pgfree back where it was, pgalloc moved by the allocations made.
 *
 * `page_stress.ops=N` on the command line changes the operations per CPU
 * (default 1500), `page_stress.seed=N` the generators' sequences (default 0).
 *
 * Context: the cases run in init on CPU 0 and sleep while the threads work.
 */
import { prandom_seed, prandom_u64, PRANDOM_STATE_SIZE } from "../lib/prandom";
import { kunit, kunit_suite, kunit_case, kunit_skip, KUNIT_EXPECT_EQ, KUNIT_EXPECT_GE, KUNIT_EXPECT_LE, KUNIT_ASSERT_TRUE,
  KUNIT_ASSERT_EQ } from "./ktap";
import { buddy_snapshot, expect_same_state } from "./page_alloc_test";
import { PAGE_SIZE, NR_CPUS } from "../arch/layout";
import {
  alloc_pages, __free_pages, __free_page, free_hot_page, free_cold_page, free_pages, drain_all_pages,
  bad_page_count, alloc_fail_warnings,
} from "../mm/page_alloc";
import {
  page, page_to_pfn, page_address, page_is_valid, page_count, PageBuddy, PageReserved, PageHighMem, page_zonenum,
  min_pfn, max_pfn, PG_pcp, PG_head,
} from "../mm/page";
import { node_zone, zone, MAX_ORDER, populated_zone, zone_watermark, WMARK_MIN, WMARK_LOW } from "../mm/mmzone";
import {
  gfp_t, gfp_zone, GFP_KERNEL, GFP_ATOMIC, GFP_HIGHUSER, GFP_DMA, __GFP_DMA, __GFP_NOWARN, __GFP_NORETRY, __GFP_ZERO,
  ZONE_DMA, MAX_NR_ZONES,
} from "../mm/gfp";
import { kthread_run_on_cpu, sched_yield } from "../sched/core";
import { init_completion, complete, wait_for_completion_timeout, COMPLETION_SIZE } from "../sched/wait";
import { cpu_online, num_online_cpus } from "../smp";
import { nr_cpu_ids } from "../of/fdt";
import { HZ } from "../time/tick";
import { pr_info, pr_err } from "../printk";
import { cmdline_get_int } from "../cmdline";

const NULL_PAGE = changetype<page>(0);
// @ts-ignore: decorator
@inline function isnull(p: page): bool { return changetype<usize>(p) == 0; }

const MODE_RANDOM: i32 = 0;
const MODE_WATERMARK: i32 = 1;

/** Blocks a CPU holds at most, and the bytes of one table entry. */
const HELD_MAX: u32 = 64;
/**
 * What one CPU may hold in this run: HELD_MAX up to 4 CPUs, then shared out
 * so that all CPUs together hold at most 256 blocks (ZONE_DMA is 16 MiB: with
 * 16 CPUs × 64 blocks of up to order 5 it would run dry, and a failure here
 * is meant to show a watermark bug, not a small zone).
 */
let held_limit: u32 = 64; // HELD_MAX (a literal: no wasm start function)
const ENTRY: usize = 16;
const MAX_STRESS_ORDER: u32 = 5;
const DEFAULT_OPS: i64 = 1500;
/**
 * The watermark case takes its zone down to low + WM_HEADROOM free pages,
 * less with fewer CPUs: three quarters of what they can hold together, so
 * that even one CPU crosses the low mark.
 */
const WM_HEADROOM: u64 = 200;
/** Diagnostics printed at most this many times per kind and case. */
const MAX_REPORTS: u64 = 4;

const held_area: usize = memory.data(<i32>(<usize>NR_CPUS * <usize>HELD_MAX * ENTRY), 8);
const rng_area: usize = memory.data(PRANDOM_STATE_SIZE, 8);
/** Per CPU: the lowest free_pages of the watermark zone seen after an allocation. */
const min_free_area: usize = memory.data(NR_CPUS * 8, 8);

// Shared statistics, updated atomically by the threads.
const st: usize = memory.data(10 * 8, 8);
const ST_ALLOCS: usize = 0;       // blocks allocated (well-formed)
const ST_FAILS: usize = 8;        // NULL returns
const ST_FREES: usize = 16;       // blocks freed
const ST_VIOLATIONS: usize = 24;  // ownership bitmap: claimed twice, or released unclaimed
const ST_PATTERN: usize = 32;     // pattern overwritten while held
const ST_BAD: usize = 40;         // a returned block that is not a fresh allocated block
const ST_PROGRESS: usize = 48;    // operations done (all CPUs)
const ST_ATOMIC_FAILS: usize = 56;
const ST_HIGHMEM: usize = 64;     // blocks that came from ZONE_HIGHMEM
const ST_REPORTS: usize = 72;     // diagnostics printed

// @ts-ignore: decorator
@inline function st_add(off: usize, v: u64): void { atomic.add<u64>(st + off, v); }
// @ts-ignore: decorator
@inline function st_get(off: usize): u64 { return atomic.load<u64>(st + off); }

/** What the threads read (set by the case before they start). */
let stress_mode: i32 = 0;
let stress_ops: u32 = 1500;
let bitmap_va: usize = 0;
let bitmap_base_pfn: u64 = 0;
let bitmap_bytes: usize = 0;
let wm_zone_ptr: usize = 0;
/** How often an operation allocates (else it frees), in percent. */
let alloc_percent: u64 = 55;

const done = memory.data(COMPLETION_SIZE, 16);
/** The start line: threads wait (yielding) until every thread exists, so that they all run at once. */
const go: usize = memory.data(4, 4);

// --- per-CPU generator ---------------------------------------------------------------------------

function rng_seed(cpu: i32, salt: u64): void { prandom_seed(rng_area, cpu, salt); }
function rnd(cpu: i32): u64 { return prandom_u64(rng_area, cpu); }

// --- ownership bitmap ----------------------------------------------------------------------------

/** The word and mask of a block's bits. */
// @ts-ignore: decorator
@inline function bit_word(pfn: u64): usize { return bitmap_va + <usize>((pfn - bitmap_base_pfn) >> 5) * 4; }
// @ts-ignore: decorator
@inline function bit_mask(pfn: u64, order: u32): u32 {
  const n: u32 = <u32>1 << order;
  const m: u32 = n >= 32 ? 0xffff_ffff : ((<u32>1 << n) - 1);
  return m << <u32>((pfn - bitmap_base_pfn) & 31);
}

function report(what: string, pfn: u64, order: u32, a: u64, b: u64): void {
  if (atomic.add<u64>(st + ST_REPORTS, 1) >= MAX_REPORTS) return;
  pr_err("    # page_stress: %s: pfn %#lx order %u (%#lx %#lx)\n", changetype<usize>(what), pfn, order, a, b);
}

function claim(pfn: u64, order: u32): void {
  const mask = bit_mask(pfn, order);
  const old = atomic.or<u32>(bit_word(pfn), mask);
  if ((old & mask) != 0) {
    st_add(ST_VIOLATIONS, 1);
    report("page handed out while another owner holds it", pfn, order, old, mask);
  }
}

function release(pfn: u64, order: u32): void {
  const mask = bit_mask(pfn, order);
  const old = atomic.and<u32>(bit_word(pfn), ~mask);
  if ((old & mask) != mask) {
    st_add(ST_VIOLATIONS, 1);
    report("freeing a block whose ownership bits were cleared by someone else", pfn, order, old, mask);
  }
}

// --- the threads ---------------------------------------------------------------------------------

function pick_gfp(r: u64): gfp_t {
  if (stress_mode == MODE_RANDOM) {
    switch (<i32>(r & 3)) {
      case 0: return GFP_KERNEL | __GFP_NOWARN;
      case 1: return GFP_ATOMIC | __GFP_NOWARN;
      case 2: return GFP_HIGHUSER | __GFP_NOWARN;
      default: return GFP_DMA | __GFP_NOWARN;
    }
  }
  // One zone only (ZONE_DMA). A sleeping allocation retries once: a full
  // retry round would wait jiffies for other CPUs on every failure.
  const r3 = <i32>(r % 3);
  if (r3 == 0) return GFP_KERNEL | __GFP_DMA | __GFP_NORETRY | __GFP_NOWARN;
  if (r3 == 1) return GFP_ATOMIC | __GFP_DMA | __GFP_NOWARN;
  return GFP_DMA | __GFP_NOWARN; // no reclaim, no reserve: as GFP_NOWAIT
}

/** Is `pg` a freshly allocated block of `order` that `gfp` allowed? */
function check_new_block(pg: page, order: u32, gfp: gfp_t): bool {
  if (!page_is_valid(pg)) { report("not a struct page", 0, order, changetype<usize>(pg), gfp); return false; }
  const pfn = page_to_pfn(pg);
  let ok = true;
  if ((pfn & ((<u64>1 << order) - 1)) != 0) ok = false;
  if (pfn < min_pfn || pfn + (<u64>1 << order) > max_pfn) ok = false;
  if (page_count(pg) != 1 || PageBuddy(pg) || PageReserved(pg)) ok = false;
  if ((pg.flags & PG_pcp) != 0 || (pg.flags & PG_head) == 0) ok = false;
  if (page_zonenum(pg) > gfp_zone(gfp)) ok = false;
  if (!ok) report("not a well-formed allocated block", pfn, order, <u64>pg.flags, (<u64>page_count(pg) << 32) | <u64>gfp);
  return ok;
}

// @ts-ignore: decorator
@inline function entry_of(cpu: i32, i: u32): usize { return held_area + (<usize>cpu * <usize>HELD_MAX + <usize>i) * ENTRY; }

/** Check the pattern, give up ownership, and free held entry `i` one of several ways. */
function release_entry(cpu: i32, i: u32, sel: u64): void {
  const e = entry_of(cpu, i);
  const pg = changetype<page>(<usize>load<u32>(e));
  const order = load<u32>(e, 4);
  const pattern = load<u64>(e, 8);
  const pfn = page_to_pfn(pg);
  const lowmem = !PageHighMem(pg);
  const va = lowmem ? page_address(pg) : 0;
  if (va != 0) {
    const last = va + (<usize>PAGE_SIZE << order) - 8;
    const a = load<u64>(va), b = load<u64>(last);
    if (a != pattern || b != pattern) {
      st_add(ST_PATTERN, 1);
      report("the block's pattern was overwritten while held", pfn, order, a, b);
    }
  }
  release(pfn, order);
  st_add(ST_FREES, 1);
  if (order == 0) {
    switch (<i32>(sel % 5)) {
      case 0: free_hot_page(pg); break;
      case 1: free_cold_page(pg); break;
      case 2: __free_pages(pg, 0); break;
      case 3: __free_page(pg); break;
      default: if (va != 0) free_pages(va, 0); else __free_pages(pg, 0);
    }
  } else {
    if ((sel & 1) != 0 && va != 0) free_pages(va, order); else __free_pages(pg, order);
  }
}

function stress_thread(arg: u64): i32 {
  const cpu = <i32>arg;
  const wm = changetype<zone>(wm_zone_ptr);
  let n: u32 = 0;
  let min_free: u64 = U64.MAX_VALUE;
  while (atomic.load<u32>(go) == 0) sched_yield();
  for (let op: u32 = 0; op < stress_ops; op++) {
    const r = rnd(cpu);
    if (n == 0 || (n < held_limit && (r % 100) < alloc_percent)) {
      const order: u32 = stress_mode == MODE_RANDOM ? <u32>((r >> 8) % (MAX_STRESS_ORDER + 1)) : 0;
      const gfp = pick_gfp(r >> 16);
      const pg = alloc_pages(gfp, order);
      if (stress_mode == MODE_WATERMARK && wm.free_pages < min_free) min_free = wm.free_pages;
      if (isnull(pg)) {
        st_add(ST_FAILS, 1);
        if ((gfp & GFP_ATOMIC) == GFP_ATOMIC) st_add(ST_ATOMIC_FAILS, 1);
      } else if (!check_new_block(pg, order, gfp)) {
        st_add(ST_BAD, 1); // left allocated: freeing a broken block could hide the damage
      } else {
        st_add(ST_ALLOCS, 1);
        const pfn = page_to_pfn(pg);
        claim(pfn, order);
        const pattern = (<u64>(0xa5_0000 | cpu) << 32) | <u64>op;
        if (PageHighMem(pg)) {
          st_add(ST_HIGHMEM, 1);
        } else {
          const va = page_address(pg);
          store<u64>(va, pattern);
          store<u64>(va + (<usize>PAGE_SIZE << order) - 8, pattern);
        }
        const e = entry_of(cpu, n++);
        store<u32>(e, <u32>changetype<usize>(pg));
        store<u32>(e, order, 4);
        store<u64>(e, pattern, 8);
      }
    } else {
      const i = <u32>((r >> 8) % <u64>n);
      release_entry(cpu, i, r >> 24);
      n--;
      if (i != n) memory.copy(entry_of(cpu, i), entry_of(cpu, n), ENTRY);
    }
    if ((op & 63) == 63) st_add(ST_PROGRESS, 64);
  }
  while (n > 0) { n--; release_entry(cpu, n, <u64>n); }
  store<u64>(min_free_area + (<usize>cpu << 3), min_free);
  complete(done);
  return 0;
}

// --- the cases -----------------------------------------------------------------------------------

const snap_before: usize = memory.data(MAX_NR_ZONES * (1 + <i32>MAX_ORDER) * 8, 8);
const snap_after: usize = memory.data(MAX_NR_ZONES * (1 + <i32>MAX_ORDER) * 8, 8);
/** Per zone: pgalloc, pgfree at the start. */
const ctr_before: usize = memory.data(MAX_NR_ZONES * 16, 8);

function order_for_bytes(bytes: usize): u32 {
  let order: u32 = 0;
  while ((<usize>PAGE_SIZE << order) < bytes) order++;
  return order;
}

/** Start one thread per online CPU; wait for all while they make progress. Returns whether all finished. */
function run_threads(test: kunit): bool {
  init_completion(done);
  atomic.store<u32>(go, 0);
  let started = 0;
  for (let cpu = 0; cpu < nr_cpu_ids; cpu++) {
    if (!cpu_online(cpu)) continue;
    if (changetype<usize>(kthread_run_on_cpu(stress_thread, <u64>cpu, cpu, "page_stress")) != 0) started++;
  }
  atomic.store<u32>(go, 1);
  KUNIT_EXPECT_EQ(test, started, num_online_cpus());
  // Wait while the threads make progress; give up after 20 s (machine time)
  // without any (a hang), not after a fixed time: QEMU may run them slowly.
  let finished = 0;
  let stalled = 0;
  let last = st_get(ST_PROGRESS);
  while (finished < started && stalled < 20) {
    if (wait_for_completion_timeout(done, <u64>HZ) != 0) { finished++; stalled = 0; continue; }
    const now = st_get(ST_PROGRESS);
    if (now == last) stalled++; else { stalled = 0; last = now; }
  }
  return KUNIT_ASSERT_EQ(test, finished, started);
}

function run_stress(test: kunit, mode: i32): void {
  const ops = cmdline_get_int("page_stress.ops", DEFAULT_OPS);
  stress_ops = <u32>(ops < 1 ? 1 : ops > 1_000_000 ? 1_000_000 : ops);
  const ncpu = <u32>num_online_cpus();
  held_limit = ncpu <= 4 ? HELD_MAX : 256 / ncpu;
  stress_mode = mode;
  // The watermark case fills the tables fast and keeps them nearly full.
  alloc_percent = mode == MODE_RANDOM ? 55 : 75;
  const wm = node_zone(0, ZONE_DMA);
  wm_zone_ptr = changetype<usize>(wm);
  if (mode == MODE_WATERMARK && !populated_zone(wm)) { kunit_skip(test, "no ZONE_DMA"); return; }

  buddy_snapshot(snap_before); // drains every CPU's lists first
  for (let zid = 0; zid < MAX_NR_ZONES; zid++) {
    const z = node_zone(0, zid);
    store<u64>(ctr_before + <usize>(zid * 16), z.pgalloc);
    store<u64>(ctr_before + <usize>(zid * 16 + 8), z.pgfree);
  }
  const bad0 = bad_page_count;
  const warn0 = alloc_fail_warnings;
  memory.fill(st, 0, 10 * 8);
  for (let cpu = 0; cpu < NR_CPUS; cpu++) store<u64>(min_free_area + (<usize>cpu << 3), U64.MAX_VALUE);
  let extra_allocs: u64 = 0;
  let extra_frees: u64 = 0;

  // The ownership bitmap, from the allocator under test.
  bitmap_base_pfn = min_pfn & ~(<u64>31);
  bitmap_bytes = <usize>(((max_pfn - bitmap_base_pfn + 31) >> 5) * 4);
  const border = order_for_bytes(bitmap_bytes);
  if (!KUNIT_ASSERT_TRUE(test, border < MAX_ORDER)) return;
  const bpg = alloc_pages(GFP_KERNEL | __GFP_ZERO, border);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(bpg))) return;
  extra_allocs++;
  bitmap_va = page_address(bpg);

  // The watermark case: take ZONE_DMA down to low + headroom, holding
  // the pages in a chain through lru_next (order in lru_prev).
  let chain = NULL_PAGE;
  let start_free: u64 = 0;
  let headroom = <u64>num_online_cpus() * <u64>held_limit * 3 / 4;
  if (headroom > WM_HEADROOM) headroom = WM_HEADROOM;
  const target = zone_watermark(wm, WMARK_LOW) + headroom;
  if (mode == MODE_WATERMARK) {
    for (let round = 0; round < 4 && wm.free_pages > target; round++) {
      while (wm.free_pages > target) {
        const excess = wm.free_pages - target;
        let o: u32 = <u32>(63 - clz<u64>(excess));
        if (o > MAX_ORDER - 1) o = MAX_ORDER - 1;
        let pg = NULL_PAGE;
        while (true) {
          pg = alloc_pages(GFP_KERNEL | __GFP_DMA | __GFP_NOWARN | __GFP_NORETRY, o);
          if (!isnull(pg) || o == 0) break;
          o--;
        }
        if (isnull(pg)) break;
        extra_allocs++;
        pg.lru_next = <u32>changetype<usize>(chain);
        pg.lru_prev = o;
        chain = pg;
      }
      drain_all_pages(); // what the per-CPU refills took beyond the target goes back
    }
    start_free = wm.free_pages;
    pr_info("    # page_stress: ZONE_DMA taken down to %lu free pages (min %lu, low %lu, pcp batch %u high %u)\n",
      start_free, zone_watermark(wm, WMARK_MIN), zone_watermark(wm, WMARK_LOW), wm.pcp_batch, wm.pcp_high);
    KUNIT_EXPECT_LE(test, start_free, target + <u64>wm.pcp_batch * <u64>num_online_cpus() + 1);
  }

  const seed = <u64>cmdline_get_int("page_stress.seed", 0);
  for (let cpu = 0; cpu < NR_CPUS; cpu++) rng_seed(cpu, (mode == MODE_RANDOM ? 0 : 0x5741_544d_4152_4b00) ^ (seed * 0xff51_afd7_ed55_8ccd));
  if (!run_threads(test)) return; // threads still running: leave everything as it is

  while (!isnull(chain)) {
    const next = changetype<page>(<usize>chain.lru_next);
    const o = chain.lru_prev;
    chain.lru_next = 0;
    chain.lru_prev = 0;
    __free_pages(chain, o);
    extra_frees++;
    chain = next;
  }

  // Every claimed bit was released.
  let stray: u64 = 0;
  for (let off: usize = 0; off < bitmap_bytes; off += 4) if (load<u32>(bitmap_va + off) != 0) stray++;
  __free_pages(bpg, border);
  extra_frees++;
  bitmap_va = 0;

  const allocs = st_get(ST_ALLOCS), frees = st_get(ST_FREES), fails = st_get(ST_FAILS);
  pr_info("    # page_stress: %d CPUs x %u ops: %lu blocks allocated (%lu highmem), %lu freed, %lu failed (%lu GFP_ATOMIC)\n",
    num_online_cpus(), stress_ops, allocs, st_get(ST_HIGHMEM), frees, fails, st_get(ST_ATOMIC_FAILS));
  KUNIT_EXPECT_EQ(test, st_get(ST_VIOLATIONS), 0);
  KUNIT_EXPECT_EQ(test, st_get(ST_PATTERN), 0);
  KUNIT_EXPECT_EQ(test, st_get(ST_BAD), 0);
  KUNIT_EXPECT_EQ(test, stray, 0);
  KUNIT_EXPECT_EQ(test, allocs, frees);
  KUNIT_EXPECT_EQ(test, bad_page_count, bad0);
  KUNIT_EXPECT_EQ(test, alloc_fail_warnings, warn0); // every request said __GFP_NOWARN
  KUNIT_EXPECT_GE(test, allocs, <u64>stress_ops / 4);
  if (mode == MODE_RANDOM) {
    KUNIT_EXPECT_EQ(test, fails, 0); // memory is plentiful: a failure is a watermark bug
  } else {
    // How far below the marks the zone went. GFP_ATOMIC may go to 3/8 of min
    // (ALLOC_HIGH halves it, ALLOC_HARDER takes a quarter more); CPUs that
    // pass the check at once may each take one refill (pcp batch) beyond.
    let lowest: u64 = U64.MAX_VALUE;
    for (let cpu = 0; cpu < nr_cpu_ids; cpu++) {
      const m = load<u64>(min_free_area + (<usize>cpu << 3));
      if (m < lowest) lowest = m;
    }
    let floor = <i64>zone_watermark(wm, WMARK_MIN);
    floor -= floor / 2;
    floor -= floor / 4;
    pr_info("    # page_stress: ZONE_DMA free pages went down to %lu (GFP_ATOMIC floor %ld)\n", lowest, floor);
    KUNIT_EXPECT_GE(test, <i64>lowest + <i64>wm.pcp_batch * <i64>num_online_cpus(), floor);
  }

  // The buddy lists exactly as before, and the counters balanced.
  drain_all_pages();
  buddy_snapshot(snap_after);
  expect_same_state(test, snap_before, snap_after);
  let d_alloc: u64 = 0, d_free: u64 = 0;
  for (let zid = 0; zid < MAX_NR_ZONES; zid++) {
    const z = node_zone(0, zid);
    const a = z.pgalloc - load<u64>(ctr_before + <usize>(zid * 16));
    const f = z.pgfree - load<u64>(ctr_before + <usize>(zid * 16 + 8));
    KUNIT_EXPECT_EQ(test, a, f); // pgalloc − pgfree of every zone back where it was
    d_alloc += a;
    d_free += f;
  }
  KUNIT_EXPECT_EQ(test, d_alloc, allocs + extra_allocs);
  KUNIT_EXPECT_EQ(test, d_free, frees + extra_frees);
}

function page_stress_random_orders(test: kunit): void { run_stress(test, MODE_RANDOM); }
function page_stress_watermark(test: kunit): void { run_stress(test, MODE_WATERMARK); }

export function register_page_stress_tests(): void {
  kunit_suite("page_stress");
  kunit_case("page_stress_random_orders", page_stress_random_orders);
  kunit_case("page_stress_watermark", page_stress_watermark);
}
