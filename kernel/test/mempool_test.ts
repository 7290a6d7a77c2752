/**
 * Suite `mempool`: memory pools (mm/mempool.ts) and the fault-injection
 * switches (mm/failslab.ts).
 *
 * Most cases run a pool over the suite's own allocator, `t_alloc` /
 * `t_free`: T_SLOTS objects of T_OBJ bytes in a static arena, with every
 * call counted, the flags of each call logged, and failure on demand:
 *
 *   t_mode  T_WORKS        every call succeeds (while slots are free)
 *           T_FAILS        every call fails
 *           T_FAIL_FIRST   the next call fails, the ones after succeed
 *           T_FAIL_AFTER   t_budget calls succeed, then every call fails
 *
 *   counters  t_calls  t_allocs  t_frees  t_in_use (slots out now)
 *             t_bad    (a free of something not out, or a wrong pool_data)
 *   gfp log   the flags of the last T_GFP_LOG calls (t_gfp_at(k): k-th call)
 *
 * so a case can see which way mempool_alloc took (allocator or reserve),
 * with which flags, and that every element comes back. The page pool
 * cases count blocks through the zones' pgalloc / pgfree and compare the
 * buddy lists (and nr_free_pages) before and after, one of them with the
 * lowmem zones taken down to their min watermark; the slab and kmalloc
 * pool cases make the slab allocator fail with failslab and count the
 * caches' live objects. The waiting cases put a sleeping GFP_KERNEL
 * mempool_alloc on other CPUs (skipped on one CPU) and wake it with a
 * mempool_free from this one; they wait for the other CPUs while the
 * machine's clock moves (csrr_time), giving up long before the pool's own
 * 5 s timeout could have woken the sleeper instead. The failslab cases
 * drive the switches directly and check the `failslab=` syntax.
 *
 * The suite's init puts aside a `failslab=` / `fail_page_alloc=` count
 * from the command line for each case (restored after it): the cases arm
 * the switches themselves.
 */
import { kunit, kunit_suite, kunit_suite_hooks, kunit_case, kunit_skip, KUNIT_EXPECT_EQ, KUNIT_EXPECT_NE, KUNIT_EXPECT_TRUE, KUNIT_EXPECT_FALSE,
  KUNIT_EXPECT_GE, KUNIT_EXPECT_LT, KUNIT_ASSERT_TRUE, kunit_quiet, kunit_loud, kunit_logged } from "./ktap";
import {
  mempool_t, mempool_s, mempool_create, mempool_create_node, mempool_destroy, mempool_alloc, mempool_free, mempool_resize,
  mempool_init, mempool_exit, mempool_initialized, mempool_is_saturated, mempool_has_waiters, mempool_create_page_pool,
  mempool_alloc_preallocated, mempool_create_slab_pool, mempool_create_kmalloc_pool,
  MEMPOOL_SIZE, MEMPOOL_WAIT_TIMEOUT, ENOMEM, EINVAL,
} from "../mm/mempool";
import {
  failslab_fail_next, failslab_remaining, failslab_failures, should_failslab, failslab_parse, fail_page_alloc_next,
  fail_page_alloc_remaining, fail_page_alloc_failures, should_fail_alloc_page,
} from "../mm/failslab";
import {
  gfp_t, GFP_KERNEL, GFP_ATOMIC, GFP_NOWAIT, GFP_NOIO, __GFP_DIRECT_RECLAIM, __GFP_IO, __GFP_NOWARN, __GFP_NORETRY, __GFP_NOMEMALLOC,
  __GFP_NOFAIL, MAX_NR_ZONES,
} from "../mm/gfp";
import { page, page_address, page_count, PageHighMem } from "../mm/page";
import { node_zone } from "../mm/mmzone";
import { alloc_fail_warnings, nr_free_pages, drain_all_pages } from "../mm/page_alloc";
import { kmem_cache_create, kmem_cache_destroy, kmem_cache_alloc, kmem_cache_free, kmem_cache_live_objects,
  kmem_cache_exists, slub_reports } from "../mm/slub";
import { kmalloc_slab, ksize } from "../mm/kmalloc";
import { exhaust, free_chain, buddy_snapshot, expect_same_state } from "./page_alloc_test";
import { kthread_run_on_cpu, msleep, might_sleep_count } from "../sched/core";
import { smp_call_function_single, num_online_cpus, cpu_online } from "../smp";
import { smp_processor_id } from "../cpu";
import { nr_cpu_ids } from "../of/fdt";
import { csrr_time } from "../arch/riscv";
import { timebase_freq } from "../time/clock";
import { get_jiffies_64, HZ } from "../time/tick";
import { str_to_bytes } from "../lib/string";

const NULL_POOL = changetype<mempool_t>(0);
// @ts-ignore: decorator
@inline function isnull(p: mempool_t): bool { return changetype<usize>(p) == 0; }

// --- the test allocator ----------------------------------------------------------------------------

const T_SLOTS: i32 = 64;
const T_OBJ: usize = 32;
/** What every pool over t_alloc passes as pool_data (checked on each call). */
const T_DATA: usize = 0x7e57_da7a;

const T_WORKS: u32 = 0;
const T_FAILS: u32 = 1;
const T_FAIL_FIRST: u32 = 2;
const T_FAIL_AFTER: u32 = 3;

const t_arena: usize = memory.data(T_SLOTS * <i32>T_OBJ, 16);
const t_used: usize = memory.data(T_SLOTS * 4, 4);
// counters (u32, atomic): +0 calls, +4 allocs, +8 frees, +12 in_use, +16 bad, +20 mode, +24 budget
const t_ctr: usize = memory.data(32, 8);
const T_GFP_LOG: i32 = 16;
const t_gfp_log: usize = memory.data(T_GFP_LOG * 4, 4);

// @ts-ignore: decorator
@inline function tget(off: usize): u32 { return atomic.load<u32>(t_ctr + off); }
// @ts-ignore: decorator
@inline function tadd(off: usize, d: u32): u32 { return atomic.add<u32>(t_ctr + off, d); }
function t_calls(): u32 { return tget(0); }
function t_allocs(): u32 { return tget(4); }
function t_frees(): u32 { return tget(8); }
function t_in_use(): u32 { return tget(12); }
function t_bad(): u32 { return tget(16); }
function t_set_mode(mode: u32, budget: u32 = 0): void { atomic.store<u32>(t_ctr + 24, budget); atomic.store<u32>(t_ctr + 20, mode); }
/** The flags of call number k (0-based, counted since t_reset); only the last T_GFP_LOG are kept. */
function t_gfp_at(k: u32): u32 { return atomic.load<u32>(t_gfp_log + <usize>((k % <u32>T_GFP_LOG) * 4)); }

function t_reset(): void {
  memory.fill(t_used, 0, T_SLOTS * 4);
  memory.fill(t_ctr, 0, 32);
  memory.fill(t_gfp_log, 0, T_GFP_LOG * 4);
}

/** The alloc_fn: a free slot of the arena, or 0 (by mode, or when all are out). */
function t_alloc(gfp: gfp_t, data: usize): usize {
  const k = tadd(0, 1);
  atomic.store<u32>(t_gfp_log + <usize>((k % <u32>T_GFP_LOG) * 4), gfp);
  if (data != T_DATA) tadd(16, 1);
  const mode = tget(20);
  if (mode == T_FAILS) return 0;
  if (mode == T_FAIL_FIRST) { atomic.store<u32>(t_ctr + 20, T_WORKS); return 0; }
  if (mode == T_FAIL_AFTER) {
    while (true) {
      const b = tget(24);
      if (b == 0) return 0;
      if (atomic.cmpxchg<u32>(t_ctr + 24, b, b - 1) == b) break;
    }
  }
  for (let i = 0; i < T_SLOTS; i++) {
    if (atomic.cmpxchg<u32>(t_used + <usize>(i * 4), 0, 1) != 0) continue;
    const p = t_arena + <usize>i * T_OBJ;
    store<u64>(p, 0xa110c);
    tadd(4, 1);
    tadd(12, 1);
    return p;
  }
  return 0;
}

/** The free_fn: the slot must be out. */
function t_free(element: usize, data: usize): void {
  if (data != T_DATA) tadd(16, 1);
  const i = <i32>((element - t_arena) / T_OBJ);
  if (element < t_arena || i >= T_SLOTS || element != t_arena + <usize>i * T_OBJ ||
      atomic.cmpxchg<u32>(t_used + <usize>(i * 4), 1, 0) != 1) {
    tadd(16, 1);
    return;
  }
  tadd(8, 1);
  tadd(12, <u32>-1);
}

/** Is `e` an object of the arena that is out now? */
function t_is_out(e: usize): bool {
  if (e < t_arena || e >= t_arena + <usize>T_SLOTS * T_OBJ || ((e - t_arena) % T_OBJ) != 0) return false;
  return atomic.load<u32>(t_used + <usize>(((e - t_arena) / T_OBJ) * 4)) == 1;
}

function t_pool(min_nr: i32): mempool_t {
  return mempool_create(min_nr, changetype<usize>(t_alloc), changetype<usize>(t_free), T_DATA);
}

/** The flags mempool_alloc's first round passes: no reclaim or I/O, and never retry, warn or dip into reserves. */
function first_round(gfp: gfp_t): gfp_t { return (gfp | __GFP_NOWARN | __GFP_NORETRY | __GFP_NOMEMALLOC) & ~(__GFP_DIRECT_RECLAIM | __GFP_IO); }
function full_round(gfp: gfp_t): gfp_t { return gfp | __GFP_NOWARN | __GFP_NORETRY | __GFP_NOMEMALLOC; }

const held: usize = memory.data(64 * 4, 4);
// @ts-ignore: decorator
@inline function held_at(i: i32): usize { return load<usize>(held + <usize>(i * 4)); }
// @ts-ignore: decorator
@inline function set_held(i: i32, e: usize): void { store<usize>(held + <usize>(i * 4), e); }

/** A copy of a pool's reserve (its element array as it was), and a lookup in its first m entries. */
const reserve_copy: usize = memory.data(64 * 4, 4);
function save_reserve(pool: mempool_t): void {
  for (let i = 0; i < pool.curr_nr; i++) store<usize>(reserve_copy + <usize>(i * 4), load<usize>(pool.elements + <usize>(i * 4)));
}
function in_saved_reserve(e: usize, m: i32): bool {
  for (let i = 0; i < m; i++) if (load<usize>(reserve_copy + <usize>(i * 4)) == e) return true;
  return false;
}

// --- creation ----------------------------------------------------------------------------------

function mempool_create_reserves_min_nr(test: kunit): void {
  t_reset();
  const pool = t_pool(5);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(pool))) return;
  // min_nr elements, each through alloc_fn with the creation flags (GFP_KERNEL) and our pool_data.
  KUNIT_EXPECT_EQ(test, t_calls(), 5);
  KUNIT_EXPECT_EQ(test, t_allocs(), 5);
  KUNIT_EXPECT_EQ(test, t_in_use(), 5);
  for (let k: u32 = 0; k < 5; k++) KUNIT_EXPECT_EQ(test, t_gfp_at(k), GFP_KERNEL);
  KUNIT_EXPECT_EQ(test, pool.min_nr, 5);
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 5);
  KUNIT_EXPECT_TRUE(test, mempool_is_saturated(pool));
  KUNIT_EXPECT_TRUE(test, mempool_initialized(pool));
  for (let i = 0; i < 5; i++) KUNIT_EXPECT_TRUE(test, t_is_out(load<usize>(pool.elements + <usize>(i * 4))));
  KUNIT_EXPECT_EQ(test, t_bad(), 0);
  mempool_destroy(pool);
  KUNIT_EXPECT_EQ(test, t_frees(), 5);
  KUNIT_EXPECT_EQ(test, t_in_use(), 0);
  KUNIT_EXPECT_EQ(test, t_bad(), 0);
  // Other flags for the reserve: mempool_create_node passes its own.
  t_reset();
  const p2 = mempool_create_node(2, changetype<usize>(t_alloc), changetype<usize>(t_free), T_DATA, GFP_ATOMIC, -1);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(p2))) return;
  KUNIT_EXPECT_EQ(test, t_gfp_at(0), GFP_ATOMIC);
  KUNIT_EXPECT_EQ(test, t_gfp_at(1), GFP_ATOMIC);
  mempool_destroy(p2);
  KUNIT_EXPECT_EQ(test, t_in_use(), 0);
}

function mempool_create_fails_when_kmalloc_fails(test: kunit): void {
  // The descriptor (kmalloc) fails: NULL before the allocator is ever called.
  t_reset();
  const d0 = kmem_cache_live_objects(kmalloc_slab(<usize>MEMPOOL_SIZE, GFP_KERNEL));
  failslab_fail_next(1);
  let q = kunit_quiet();
  const pool = t_pool(3);
  kunit_loud();
  KUNIT_EXPECT_TRUE(test, isnull(pool));
  KUNIT_EXPECT_EQ(test, kunit_logged(q, "FAULT_INJECTION: forcing a failure."), 1);
  KUNIT_EXPECT_EQ(test, t_calls(), 0);
  // The element array (kmalloc) of an embedded pool fails: -ENOMEM, likewise.
  failslab_fail_next(1);
  q = kunit_quiet();
  const r = mempool_init(changetype<mempool_t>(embedded), 3, changetype<usize>(t_alloc), changetype<usize>(t_free), T_DATA);
  kunit_loud();
  KUNIT_EXPECT_EQ(test, r, -ENOMEM);
  KUNIT_EXPECT_EQ(test, t_calls(), 0);
  KUNIT_EXPECT_EQ(test, failslab_remaining(), 0);
  // A pool's descriptor is one kmalloc-96 object while it lives.
  const ok = t_pool(1);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(ok))) return;
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(kmalloc_slab(<usize>MEMPOOL_SIZE, GFP_KERNEL)), d0 + 1);
  mempool_destroy(ok);
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(kmalloc_slab(<usize>MEMPOOL_SIZE, GFP_KERNEL)), d0);
  KUNIT_EXPECT_EQ(test, t_in_use(), 0);
}

function mempool_create_fails_cleanly(test: kunit): void {
  // The allocator gives 3 of the 5: creation fails, and the 3 go back.
  t_reset();
  t_set_mode(T_FAIL_AFTER, 3);
  const pool = t_pool(5);
  KUNIT_EXPECT_TRUE(test, isnull(pool));
  KUNIT_EXPECT_EQ(test, t_calls(), 4);
  KUNIT_EXPECT_EQ(test, t_allocs(), 3);
  KUNIT_EXPECT_EQ(test, t_frees(), 3);
  KUNIT_EXPECT_EQ(test, t_in_use(), 0);
  KUNIT_EXPECT_EQ(test, t_bad(), 0);
  // A negative reserve is refused without calling the allocator.
  t_reset();
  KUNIT_EXPECT_TRUE(test, isnull(t_pool(-1)));
  KUNIT_EXPECT_EQ(test, t_calls(), 0);
  // Failed creations leave no descriptor behind: as many pools as before can be made.
  const again = t_pool(1);
  KUNIT_EXPECT_FALSE(test, isnull(again));
  mempool_destroy(again);
  mempool_destroy(NULL_POOL); // ignored, as in Linux
  KUNIT_EXPECT_EQ(test, t_in_use(), 0);
}

// --- allocation ---------------------------------------------------------------------------------

function mempool_alloc_uses_allocator_first(test: kunit): void {
  t_reset();
  const pool = t_pool(4);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(pool))) return;
  save_reserve(pool);
  // The reserve on its own (mempool_alloc_preallocated): no allocator call, the top element.
  let c0 = t_calls();
  const r = mempool_alloc_preallocated(pool);
  KUNIT_EXPECT_EQ(test, r, load<usize>(reserve_copy + 12));
  KUNIT_EXPECT_EQ(test, t_calls(), c0);
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 3);
  mempool_free(r, pool); // back into the reserve
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 4);
  KUNIT_EXPECT_EQ(test, t_frees(), 0);
  for (let i = 0; i < 3; i++) {
    c0 = t_calls();
    const e = mempool_alloc(pool, GFP_KERNEL);
    set_held(i, e);
    KUNIT_EXPECT_TRUE(test, t_is_out(e));
    KUNIT_EXPECT_FALSE(test, in_saved_reserve(e, 4)); // a fresh object, not a reserve one
    KUNIT_EXPECT_EQ(test, t_calls(), c0 + 1);
    KUNIT_EXPECT_EQ(test, t_gfp_at(c0), first_round(GFP_KERNEL)); // no reclaim, NOWARN|NORETRY|NOMEMALLOC
    KUNIT_EXPECT_EQ(test, pool.curr_nr, 4);                        // the reserve untouched
  }
  KUNIT_EXPECT_EQ(test, pool.nr_out, 3);
  // GFP_ATOMIC goes to the allocator first too, with its own flags plus the three.
  const c1 = t_calls();
  const a = mempool_alloc(pool, GFP_ATOMIC);
  KUNIT_EXPECT_TRUE(test, t_is_out(a) && !in_saved_reserve(a, 4));
  KUNIT_EXPECT_EQ(test, t_gfp_at(c1), first_round(GFP_ATOMIC));
  // Back with a full reserve: every element goes to free_fn.
  const f0 = t_frees();
  for (let i = 0; i < 3; i++) mempool_free(held_at(i), pool);
  mempool_free(a, pool);
  KUNIT_EXPECT_EQ(test, t_frees(), f0 + 4);
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 4);
  KUNIT_EXPECT_EQ(test, pool.nr_out, 0);
  KUNIT_EXPECT_EQ(test, pool.nr_waits, 0);  // read before destroy frees the descriptor
  mempool_destroy(pool);
  KUNIT_EXPECT_EQ(test, t_in_use(), 0);
  KUNIT_EXPECT_EQ(test, t_bad(), 0);
}

function mempool_alloc_falls_back_to_reserve(test: kunit): void {
  t_reset();
  const pool = t_pool(4);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(pool))) return;
  save_reserve(pool);
  t_set_mode(T_FAILS);
  // Each allocation: one call of the allocator (it fails), then the reserve — last in, first out.
  for (let i = 0; i < 4; i++) {
    const c0 = t_calls();
    const e = mempool_alloc(pool, GFP_KERNEL);
    set_held(i, e);
    KUNIT_EXPECT_EQ(test, t_calls(), c0 + 1);
    KUNIT_EXPECT_EQ(test, e, load<usize>(reserve_copy + <usize>((3 - i) * 4)));
    KUNIT_EXPECT_EQ(test, pool.curr_nr, 3 - i);
  }
  KUNIT_EXPECT_FALSE(test, mempool_is_saturated(pool));
  // mempool_alloc_preallocated never asks the allocator: with the reserve empty, NULL.
  KUNIT_EXPECT_EQ(test, mempool_alloc_preallocated(pool), 0);
  // Empty reserve, failing allocator, no right to sleep: NULL at once (one call, no retry, no wait).
  let c0 = t_calls();
  KUNIT_EXPECT_EQ(test, mempool_alloc(pool, GFP_ATOMIC), 0);
  KUNIT_EXPECT_EQ(test, t_calls(), c0 + 1);
  c0 = t_calls();
  KUNIT_EXPECT_EQ(test, mempool_alloc(pool, GFP_NOWAIT), 0);
  KUNIT_EXPECT_EQ(test, t_calls(), c0 + 1);
  KUNIT_EXPECT_EQ(test, t_gfp_at(c0), first_round(GFP_NOWAIT));
  KUNIT_EXPECT_EQ(test, pool.nr_waits, 0);
  // Empty reserve, GFP_KERNEL: a second call right away, now with reclaim allowed; it succeeds.
  t_set_mode(T_FAIL_FIRST);
  c0 = t_calls();
  const e = mempool_alloc(pool, GFP_KERNEL);
  KUNIT_EXPECT_TRUE(test, t_is_out(e));
  KUNIT_EXPECT_EQ(test, t_calls(), c0 + 2);
  KUNIT_EXPECT_EQ(test, t_gfp_at(c0), first_round(GFP_KERNEL));
  KUNIT_EXPECT_EQ(test, t_gfp_at(c0 + 1), full_round(GFP_KERNEL));
  KUNIT_EXPECT_TRUE(test, (t_gfp_at(c0 + 1) & __GFP_DIRECT_RECLAIM) != 0);
  KUNIT_EXPECT_EQ(test, pool.nr_waits, 0);
  mempool_free(e, pool);
  for (let i = 0; i < 4; i++) mempool_free(held_at(i), pool);
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 4);
  mempool_destroy(pool);
  KUNIT_EXPECT_EQ(test, t_in_use(), 0);
  KUNIT_EXPECT_EQ(test, t_bad(), 0);
}

function mempool_free_refills_reserve_first(test: kunit): void {
  t_reset();
  const pool = t_pool(3);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(pool))) return;
  t_set_mode(T_FAILS);
  for (let i = 0; i < 3; i++) set_held(i, mempool_alloc(pool, GFP_KERNEL)); // the reserve, emptied
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 0);
  t_set_mode(T_WORKS);
  for (let i = 3; i < 5; i++) set_held(i, mempool_alloc(pool, GFP_KERNEL)); // from the allocator
  KUNIT_EXPECT_EQ(test, t_in_use(), 5);
  // Give them back newest first: the first three fill the reserve, free_fn sees none of them.
  const f0 = t_frees();
  for (let i = 4; i >= 2; i--) {
    mempool_free(held_at(i), pool);
    KUNIT_EXPECT_EQ(test, pool.curr_nr, 5 - i);
    KUNIT_EXPECT_EQ(test, t_frees(), f0);
  }
  KUNIT_EXPECT_EQ(test, load<usize>(pool.elements), held_at(4));
  // Full: the rest go to free_fn.
  mempool_free(held_at(1), pool);
  mempool_free(held_at(0), pool);
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 3);
  KUNIT_EXPECT_EQ(test, t_frees(), f0 + 2);
  KUNIT_EXPECT_FALSE(test, t_is_out(held_at(0)));
  KUNIT_EXPECT_FALSE(test, t_is_out(held_at(1)));
  KUNIT_EXPECT_TRUE(test, t_is_out(held_at(2)));
  // NULL is ignored.
  mempool_free(0, pool);
  KUNIT_EXPECT_EQ(test, t_frees(), f0 + 2);
  KUNIT_EXPECT_EQ(test, pool.nr_out, 0);
  mempool_destroy(pool);
  KUNIT_EXPECT_EQ(test, t_in_use(), 0);
  KUNIT_EXPECT_EQ(test, t_bad(), 0);
}

function mempool_resize_both_ways(test: kunit): void {
  t_reset();
  const pool = t_pool(2);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(pool))) return;
  // Grow: four more elements, each from the allocator with GFP_KERNEL.
  let c0 = t_calls();
  KUNIT_EXPECT_EQ(test, mempool_resize(pool, 6), 0);
  KUNIT_EXPECT_EQ(test, t_calls(), c0 + 4);
  for (let k: u32 = 0; k < 4; k++) KUNIT_EXPECT_EQ(test, t_gfp_at(c0 + k), GFP_KERNEL);
  KUNIT_EXPECT_EQ(test, pool.min_nr, 6);
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 6);
  KUNIT_EXPECT_EQ(test, t_in_use(), 6);
  // Shrink: the surplus goes to free_fn at once.
  let f0 = t_frees();
  KUNIT_EXPECT_EQ(test, mempool_resize(pool, 3), 0);
  KUNIT_EXPECT_EQ(test, t_frees(), f0 + 3);
  KUNIT_EXPECT_EQ(test, pool.min_nr, 3);
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 3);
  KUNIT_EXPECT_EQ(test, t_in_use(), 3);
  // The same size: nothing happens.
  c0 = t_calls();
  f0 = t_frees();
  KUNIT_EXPECT_EQ(test, mempool_resize(pool, 3), 0);
  KUNIT_EXPECT_EQ(test, t_calls(), c0);
  KUNIT_EXPECT_EQ(test, t_frees(), f0);
  // Shrinking a pool whose reserve is partly out frees only what is there beyond the new size.
  t_set_mode(T_FAILS);
  set_held(0, mempool_alloc(pool, GFP_KERNEL));
  set_held(1, mempool_alloc(pool, GFP_KERNEL)); // curr_nr 1
  f0 = t_frees();
  KUNIT_EXPECT_EQ(test, mempool_resize(pool, 2), 0);
  KUNIT_EXPECT_EQ(test, t_frees(), f0);
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 1);
  KUNIT_EXPECT_EQ(test, pool.min_nr, 2);
  // Growing while the allocator fails half-way: 0 all the same (Linux), min_nr raised, the reserve short …
  t_set_mode(T_FAIL_AFTER, 2);
  KUNIT_EXPECT_EQ(test, mempool_resize(pool, 5), 0);
  KUNIT_EXPECT_EQ(test, pool.min_nr, 5);
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 3);
  // … and the next frees fill it before anything goes back to the allocator.
  f0 = t_frees();
  mempool_free(held_at(0), pool);
  mempool_free(held_at(1), pool);
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 5);
  KUNIT_EXPECT_EQ(test, t_frees(), f0);
  KUNIT_EXPECT_TRUE(test, mempool_is_saturated(pool));
  // Bad sizes: -EINVAL (Linux BUGs), nothing changed; a reserve too large for any array: -ENOMEM.
  const first = kunit_quiet();
  const r0 = mempool_resize(pool, 0);
  kunit_loud();
  KUNIT_EXPECT_EQ(test, r0, -EINVAL);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "mempool_resize: pool "), 1);
  // Growing within the array's length (it had 6 entries) allocates no new array …
  t_set_mode(T_WORKS);
  const arr = pool.elements;
  KUNIT_EXPECT_EQ(test, mempool_resize(pool, 6), 0);
  KUNIT_EXPECT_EQ(test, pool.elements, arr);
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 6);
  KUNIT_EXPECT_EQ(test, mempool_resize(pool, 5), 0);
  // … beyond it a new one, with the reserve moved over; when kmalloc fails (failslab): -ENOMEM, nothing changed.
  c0 = t_calls();
  failslab_fail_next(1);
  const q = kunit_quiet();
  const r1 = mempool_resize(pool, 40);
  kunit_loud();
  failslab_fail_next(0);
  KUNIT_EXPECT_EQ(test, r1, -ENOMEM);
  KUNIT_EXPECT_EQ(test, kunit_logged(q, "FAULT_INJECTION: forcing a failure."), 1);
  KUNIT_EXPECT_EQ(test, t_calls(), c0);
  KUNIT_EXPECT_EQ(test, pool.min_nr, 5);
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 5);
  KUNIT_EXPECT_EQ(test, pool.elements, arr);
  save_reserve(pool);
  KUNIT_EXPECT_EQ(test, mempool_resize(pool, 40), 0);
  KUNIT_EXPECT_NE(test, pool.elements, arr);
  KUNIT_EXPECT_EQ(test, pool.capacity, 40);
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 40);
  KUNIT_EXPECT_EQ(test, t_calls(), c0 + 35);
  for (let i = 0; i < 5; i++) KUNIT_EXPECT_EQ(test, load<usize>(pool.elements + <usize>(i * 4)), load<usize>(reserve_copy + <usize>(i * 4)));
  mempool_destroy(pool);
  KUNIT_EXPECT_EQ(test, t_in_use(), 0);
  KUNIT_EXPECT_EQ(test, t_bad(), 0);
}

const embedded: usize = memory.data(MEMPOOL_SIZE, 16);

function mempool_init_exit_embedded(test: kunit): void {
  t_reset();
  const pool = changetype<mempool_t>(embedded);
  KUNIT_EXPECT_EQ(test, mempool_init(pool, 3, changetype<usize>(t_alloc), changetype<usize>(t_free), T_DATA), 0);
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 3);
  KUNIT_EXPECT_EQ(test, t_in_use(), 3);
  t_set_mode(T_FAILS);
  const e = mempool_alloc(pool, GFP_ATOMIC);
  KUNIT_EXPECT_TRUE(test, t_is_out(e));
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 2);
  mempool_free(e, pool);
  mempool_exit(pool);
  KUNIT_EXPECT_FALSE(test, mempool_initialized(pool));
  KUNIT_EXPECT_EQ(test, t_in_use(), 0);
  KUNIT_EXPECT_EQ(test, t_frees(), 3);
  // mempool_init failing half-way leaves nothing allocated.
  t_reset();
  t_set_mode(T_FAIL_AFTER, 1);
  KUNIT_EXPECT_EQ(test, mempool_init(pool, 3, changetype<usize>(t_alloc), changetype<usize>(t_free), T_DATA), -ENOMEM);
  KUNIT_EXPECT_EQ(test, t_in_use(), 0);
  KUNIT_EXPECT_FALSE(test, mempool_initialized(pool));
}

function mempool_min_nr_zero(test: kunit): void {
  // min_nr 0 (later Linux): one element kept, so that a free can still wake a sleeper.
  t_reset();
  const pool = t_pool(0);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(pool))) return;
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 1);
  t_set_mode(T_FAILS);
  const e = mempool_alloc(pool, GFP_NOWAIT);
  KUNIT_EXPECT_TRUE(test, t_is_out(e));
  KUNIT_EXPECT_EQ(test, mempool_alloc(pool, GFP_NOWAIT), 0);
  t_set_mode(T_WORKS);
  const e2 = mempool_alloc(pool, GFP_NOWAIT);
  const f0 = t_frees();
  mempool_free(e, pool);  // the empty reserve takes it
  mempool_free(e2, pool); // then free_fn
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 1);
  KUNIT_EXPECT_EQ(test, t_frees(), f0 + 1);
  mempool_destroy(pool);
  KUNIT_EXPECT_EQ(test, t_in_use(), 0);
  KUNIT_EXPECT_EQ(test, t_bad(), 0);
}

function mempool_destroy_with_elements_out(test: kunit): void {
  // Linux does not notice; here mempool_destroy warns, frees the reserve, and the element stays the caller's.
  t_reset();
  const pool = t_pool(2);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(pool))) return;
  const e = mempool_alloc(pool, GFP_KERNEL);
  KUNIT_EXPECT_TRUE(test, t_is_out(e));
  const first = kunit_quiet();
  mempool_destroy(pool);
  kunit_loud();
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "mempool_destroy: pool "), 1);
  KUNIT_EXPECT_EQ(test, t_in_use(), 1);     // the reserve went back, the element is still out
  KUNIT_EXPECT_TRUE(test, t_is_out(e));
  t_free(e, T_DATA);                        // its owner gives it to the allocator directly
  KUNIT_EXPECT_EQ(test, t_in_use(), 0);
  KUNIT_EXPECT_EQ(test, t_bad(), 0);
}

// --- the page pool -----------------------------------------------------------------------------

const snap_a: usize = memory.data(8 * 3 * 12, 8);
const snap_b: usize = memory.data(8 * 3 * 12, 8);
const per_zone: usize = memory.data(24, 8);

/** Blocks allocated and not freed, over every zone (pgalloc − pgfree). */
function blocks_out(): i64 {
  let n: i64 = 0;
  for (let zid = 0; zid < MAX_NR_ZONES; zid++) {
    const z = node_zone(0, zid);
    n += <i64>z.pgalloc - <i64>z.pgfree;
  }
  return n;
}

function zone_alloc_fails(): u64 {
  let n: u64 = 0;
  for (let zid = 0; zid < MAX_NR_ZONES; zid++) n += node_zone(0, zid).alloc_fail;
  return n;
}

/**
 * A pool's descriptor and element array come from kmalloc caches, whose
 * slabs stay after the objects are freed: make and destroy one pool of the
 * same shape first, so that the one under test finds its kmalloc objects
 * in existing slabs and the page counts see only its elements.
 */
function warm_up_page_pool(min_nr: i32, order: u32): void {
  mempool_destroy(mempool_create_page_pool(min_nr, order));
}

function mempool_page_pool(test: kunit): void {
  warm_up_page_pool(4, 1);
  buddy_snapshot(snap_a); // drains the per-CPU lists first
  const free0 = nr_free_pages();
  const b0 = blocks_out();
  const pool = mempool_create_page_pool(4, 1);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(pool))) return;
  KUNIT_EXPECT_EQ(test, blocks_out(), b0 + 4);
  drain_all_pages();
  KUNIT_EXPECT_EQ(test, nr_free_pages(), free0 - 8); // four order-1 blocks
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 4);
  KUNIT_EXPECT_EQ(test, pool.pool_data, 1);
  for (let i = 0; i < 4; i++) {
    const pg = changetype<page>(load<usize>(pool.elements + <usize>(i * 4)));
    KUNIT_EXPECT_EQ(test, pg.private_, 1); // order-1 blocks
    KUNIT_EXPECT_EQ(test, page_count(pg), 1);
  }
  // While memory is plentiful, allocations come from the page allocator.
  const e = mempool_alloc(pool, GFP_KERNEL);
  KUNIT_EXPECT_NE(test, e, 0);
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 4);
  KUNIT_EXPECT_EQ(test, blocks_out(), b0 + 5);
  const pg = changetype<page>(e);
  KUNIT_EXPECT_EQ(test, pg.private_, 1);
  KUNIT_EXPECT_FALSE(test, PageHighMem(pg));
  // The whole block is usable.
  const va = page_address(pg);
  store<u8>(va, 1);
  store<u8>(va + 8191, 2);
  KUNIT_EXPECT_EQ(test, load<u8>(va) + load<u8>(va + 8191), 3);
  mempool_free(e, pool); // full reserve: back to the page allocator
  KUNIT_EXPECT_EQ(test, blocks_out(), b0 + 4);
  mempool_destroy(pool);
  KUNIT_EXPECT_EQ(test, blocks_out(), b0);
  buddy_snapshot(snap_b);
  KUNIT_EXPECT_EQ(test, nr_free_pages(), free0);
  expect_same_state(test, snap_a, snap_b); // every page back in the buddy lists where it was
}

function mempool_page_pool_under_pressure(test: kunit): void {
  warm_up_page_pool(3, 0);
  buddy_snapshot(snap_a);
  const b0 = blocks_out();
  const pool = mempool_create_page_pool(3, 0);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(pool))) return;
  // Take the lowmem zones down to their min watermark: GFP_KERNEL without reclaim gets nothing now.
  const chain = exhaust(GFP_KERNEL, per_zone);
  const w0 = alloc_fail_warnings;
  const fails0 = zone_alloc_fails();
  for (let i = 0; i < 3; i++) {
    const e = mempool_alloc(pool, GFP_KERNEL);
    set_held(i, e);
    KUNIT_EXPECT_NE(test, e, 0);
    KUNIT_EXPECT_EQ(test, pool.curr_nr, 2 - i); // from the reserve
  }
  KUNIT_EXPECT_GE(test, zone_alloc_fails(), fails0 + 3); // the page allocator was asked first, each time
  // Reserve empty, GFP_NOWAIT (no access below min): NULL.
  KUNIT_EXPECT_EQ(test, mempool_alloc(pool, GFP_NOWAIT), 0);
  KUNIT_EXPECT_EQ(test, alloc_fail_warnings, w0); // __GFP_NOWARN on every try
  for (let i = 0; i < 3; i++) mempool_free(held_at(i), pool);
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 3);
  free_chain(chain);
  mempool_destroy(pool);
  KUNIT_EXPECT_EQ(test, blocks_out(), b0);
  buddy_snapshot(snap_b);
  expect_same_state(test, snap_a, snap_b);
}

// --- the slab and kmalloc pools ---------------------------------------------------------------

const SLAB_OBJ: u32 = 48;

function mempool_slab_pool(test: kunit): void {
  const cache = kmem_cache_create("mempool_test", SLAB_OBJ, 0, 0, 0);
  if (!KUNIT_ASSERT_TRUE(test, changetype<usize>(cache) != 0)) return;
  const remaining0 = slub_reports.objects_remaining;
  const pool = mempool_create_slab_pool(4, cache);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(pool))) { kmem_cache_destroy(cache); return; }
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(cache), 4); // the reserve: four objects of the cache
  KUNIT_EXPECT_EQ(test, pool.pool_data, changetype<usize>(cache));
  // While the slab allocator works, elements come from it.
  const e = mempool_alloc(pool, GFP_KERNEL);
  KUNIT_EXPECT_NE(test, e, 0);
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(cache), 5);
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 4);
  // failslab: every slab allocation fails; the reserve carries on, one failed try per allocation.
  const f0 = failslab_failures();
  failslab_fail_next(-1);
  for (let i = 0; i < 4; i++) {
    set_held(i, mempool_alloc(pool, GFP_KERNEL));
    KUNIT_EXPECT_NE(test, held_at(i), 0);
    KUNIT_EXPECT_EQ(test, pool.curr_nr, 3 - i);
  }
  KUNIT_EXPECT_EQ(test, failslab_failures(), f0 + 4);
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(cache), 5);
  // Reserve empty, no right to sleep: NULL after one (failed) try.
  KUNIT_EXPECT_EQ(test, mempool_alloc(pool, GFP_ATOMIC), 0);
  KUNIT_EXPECT_EQ(test, mempool_alloc(pool, GFP_NOWAIT), 0);
  KUNIT_EXPECT_EQ(test, failslab_failures(), f0 + 6);
  // __GFP_NOFAIL is never failed by injection.
  const nf = kmem_cache_alloc(cache, GFP_KERNEL | __GFP_NOFAIL);
  KUNIT_EXPECT_NE(test, nf, 0);
  KUNIT_EXPECT_EQ(test, failslab_failures(), f0 + 6);
  kmem_cache_free(cache, nf);
  // Reserve empty, GFP_KERNEL: the first try (no reclaim) fails, the second (full flags) is asked at once.
  failslab_fail_next(1);
  const k = mempool_alloc(pool, GFP_KERNEL);
  KUNIT_EXPECT_NE(test, k, 0);
  KUNIT_EXPECT_EQ(test, failslab_failures(), f0 + 7);
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(cache), 6);
  KUNIT_EXPECT_EQ(test, pool.nr_waits, 0);
  // An injected failure outside a pool says so, unless __GFP_NOWARN.
  failslab_fail_next(1);
  const q = kunit_quiet();
  const direct = kmem_cache_alloc(cache, GFP_KERNEL);
  kunit_loud();
  KUNIT_EXPECT_EQ(test, direct, 0);
  KUNIT_EXPECT_EQ(test, kunit_logged(q, "FAULT_INJECTION: forcing a failure."), 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(q, "name failslab, interval 1, probability 100, space 0, times 0"), 1);
  failslab_fail_next(0);
  // Everything back: the reserve refilled first, the rest to the cache.
  mempool_free(k, pool);
  mempool_free(e, pool);
  for (let i = 0; i < 4; i++) mempool_free(held_at(i), pool);
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 4);
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(cache), 4);
  mempool_destroy(pool);
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(cache), 0);
  kmem_cache_destroy(cache);
  KUNIT_EXPECT_EQ(test, slub_reports.objects_remaining, remaining0); // nothing left in the cache
  KUNIT_EXPECT_FALSE(test, kmem_cache_exists(cache));
}

function mempool_kmalloc_pool(test: kunit): void {
  const size: usize = 200;
  const kc = kmalloc_slab(size, GFP_KERNEL); // kmalloc-256
  if (!KUNIT_ASSERT_TRUE(test, changetype<usize>(kc) != 0)) return;
  const live0 = kmem_cache_live_objects(kc);
  const pool = mempool_create_kmalloc_pool(3, size);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(pool))) return;
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(kc), live0 + 3);
  KUNIT_EXPECT_EQ(test, pool.pool_data, size);
  for (let i = 0; i < 3; i++) KUNIT_EXPECT_GE(test, ksize(load<usize>(pool.elements + <usize>(i * 4))), size);
  // The allocator first …
  const e = mempool_alloc(pool, GFP_KERNEL);
  KUNIT_EXPECT_GE(test, ksize(e), size);
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(kc), live0 + 4);
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 3);
  memory.fill(e, 0x5a, size); // all of it usable
  // … then, with kmalloc failing, the reserve.
  const f0 = failslab_failures();
  failslab_fail_next(-1);
  for (let i = 0; i < 3; i++) set_held(i, mempool_alloc(pool, GFP_NOIO));
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 0);
  KUNIT_EXPECT_EQ(test, mempool_alloc(pool, GFP_ATOMIC), 0);
  KUNIT_EXPECT_EQ(test, failslab_failures(), f0 + 4);
  failslab_fail_next(0);
  for (let i = 0; i < 3; i++) KUNIT_EXPECT_NE(test, held_at(i), 0);
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(kc), live0 + 4);
  mempool_free(e, pool); // refills the reserve
  for (let i = 0; i < 3; i++) mempool_free(held_at(i), pool);
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 3);
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(kc), live0 + 3);
  mempool_destroy(pool);
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(kc), live0);
}

// --- interrupt context -------------------------------------------------------------------------

let irq_pool: usize = 0;
const irq_result: usize = memory.data(16, 8);

function irq_alloc_free(arg: u64): void {
  const pool = changetype<mempool_t>(irq_pool);
  const e = mempool_alloc(pool, GFP_ATOMIC);
  store<u32>(irq_result, <u32>e);
  store<u32>(irq_result, <u32>smp_processor_id(), 4);
  store<u32>(irq_result, <u32>pool.curr_nr, 8);
  mempool_free(e, pool);
}

function mempool_atomic_in_interrupt(test: kunit): void {
  // GFP_ATOMIC mempool_alloc and mempool_free in an IPI handler (interrupts off): the reserve, no sleep report.
  t_reset();
  const pool = t_pool(2);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(pool))) return;
  irq_pool = changetype<usize>(pool);
  t_set_mode(T_FAILS);
  const ms0 = might_sleep_count();
  const cpu = num_online_cpus() > 1 ? 1 : 0;
  memory.fill(irq_result, 0, 16);
  KUNIT_EXPECT_EQ(test, smp_call_function_single(cpu, irq_alloc_free, 0, true), 0);
  KUNIT_EXPECT_TRUE(test, t_is_out(load<u32>(irq_result)));
  KUNIT_EXPECT_EQ(test, load<u32>(irq_result, 4), cpu);
  KUNIT_EXPECT_EQ(test, load<u32>(irq_result, 8), 1); // taken from the reserve …
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 2);             // … and put back
  KUNIT_EXPECT_EQ(test, might_sleep_count(), ms0);
  mempool_destroy(pool);
  KUNIT_EXPECT_EQ(test, t_in_use(), 0);
}

// --- sleeping and waking across CPUs -----------------------------------------------------------

const MAX_WAITERS: i32 = 16;
// per waiter (16 bytes): +0 element got, +4 cpu it ran on, +8 done flag, +12 pad
const waiter_area: usize = memory.data(MAX_WAITERS * 16, 8);
let wait_pool: usize = 0;
/** Jiffies when each waiter returned (u64 per waiter). */
const waiter_end: usize = memory.data(MAX_WAITERS * 8, 8);

function waiter_fn(arg: u64): i32 {
  const i = <i32>arg;
  const e = mempool_alloc(changetype<mempool_t>(wait_pool), GFP_KERNEL);
  const w = waiter_area + <usize>(i * 16);
  store<u64>(waiter_end + <usize>(i * 8), get_jiffies_64());
  store<u32>(w, <u32>e);
  store<u32>(w, <u32>smp_processor_id(), 4);
  atomic.store<u32>(w, 1, 8);
  return 0;
}

function waiters_done(n: i32): i32 {
  let d = 0;
  for (let i = 0; i < n; i++) d += <i32>atomic.load<u32>(waiter_area + <usize>(i * 16), 8);
  return d;
}

/**
 * Wait until pred(n) holds, while the machine runs: give up after `secs`
 * seconds of machine time in which neither the allocator's call count nor
 * the done count moved.
 */
function wait_progress(n: i32, pred: (n: i32) => bool, secs: u64): bool {
  let last_calls = t_calls();
  let last_done = waiters_done(n);
  let deadline = csrr_time() + timebase_freq * secs;
  while (!pred(n)) {
    if (csrr_time() >= deadline) return false;
    msleep(1);
    const c = t_calls();
    const d = waiters_done(n);
    if (c != last_calls || d != last_done) { last_calls = c; last_done = d; deadline = csrr_time() + timebase_freq * secs; }
  }
  return true;
}

function all_asleep(n: i32): bool {
  const pool = changetype<mempool_t>(wait_pool);
  return atomic.load<i32>(wait_pool, offsetof<mempool_s>("nr_waits")) >= n && mempool_has_waiters(pool);
}
function all_done(n: i32): bool { return waiters_done(n) == n; }

/** Make the waiters' next tries succeed and wait for them (the failure path: leave no thread behind). */
function rescue_waiters(n: i32): void {
  t_set_mode(T_WORKS);
  const until = csrr_time() + timebase_freq * (MEMPOOL_WAIT_TIMEOUT / <u64>HZ + 5);
  while (!all_done(n) && csrr_time() < until) msleep(10);
}

function mempool_wait_woken_by_free(test: kunit): void {
  if (num_online_cpus() < 2) { kunit_skip(test, "needs 2 CPUs"); return; }
  t_reset();
  const pool = t_pool(2);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(pool))) return;
  wait_pool = changetype<usize>(pool);
  memory.fill(waiter_area, 0, MAX_WAITERS * 16);
  // Empty the reserve; the allocator keeps failing.
  t_set_mode(T_FAILS);
  const a = mempool_alloc(pool, GFP_KERNEL);
  const b = mempool_alloc(pool, GFP_KERNEL);
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 0);
  // A GFP_KERNEL allocation on CPU 1 must sleep.
  const c0 = t_calls();
  if (!KUNIT_ASSERT_TRUE(test, changetype<usize>(kthread_run_on_cpu(waiter_fn, 0, 1, "mempool_waiter")) != 0)) return;
  const asleep = wait_progress(1, all_asleep, 5);
  KUNIT_EXPECT_TRUE(test, asleep);
  KUNIT_EXPECT_EQ(test, waiters_done(1), 0);
  KUNIT_EXPECT_EQ(test, t_calls(), c0 + 2);                      // without reclaim, then with it, then asleep
  KUNIT_EXPECT_EQ(test, t_gfp_at(c0 + 1), full_round(GFP_KERNEL));
  // A free on this CPU (0) wakes it, and the element it gave back is the one the sleeper gets.
  const j0 = get_jiffies_64();
  mempool_free(b, pool);
  const woke = wait_progress(1, all_done, 2);
  if (!woke) rescue_waiters(1);
  KUNIT_EXPECT_TRUE(test, woke);
  KUNIT_EXPECT_EQ(test, load<u32>(waiter_area), b);
  KUNIT_EXPECT_EQ(test, load<u32>(waiter_area, 4), 1);
  KUNIT_EXPECT_EQ(test, pool.nr_waits, 1);                     // one sleep: woken, not timed out
  KUNIT_EXPECT_LT(test, load<u64>(waiter_end) - j0, MEMPOOL_WAIT_TIMEOUT);
  KUNIT_EXPECT_EQ(test, t_calls(), c0 + 3);                      // after the wake: the allocator, then the reserve
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 0);
  mempool_free(a, pool);
  mempool_free(load<u32>(waiter_area), pool);
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 2);
  KUNIT_EXPECT_EQ(test, pool.nr_out, 0);
  mempool_destroy(pool);
  KUNIT_EXPECT_EQ(test, t_in_use(), 0);
  KUNIT_EXPECT_EQ(test, t_bad(), 0);
}

function mempool_wait_many_waiters(test: kunit): void {
  const n = num_online_cpus() - 1;
  if (n < 1) { kunit_skip(test, "needs 2 CPUs"); return; }
  t_reset();
  const pool = t_pool(n);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(pool))) return;
  wait_pool = changetype<usize>(pool);
  memory.fill(waiter_area, 0, MAX_WAITERS * 16);
  t_set_mode(T_FAILS);
  for (let i = 0; i < n; i++) set_held(i, mempool_alloc(pool, GFP_KERNEL));
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 0);
  // One sleeper on each other CPU.
  let started = 0;
  let w = 0;
  for (let cpu = 1; cpu < nr_cpu_ids && w < MAX_WAITERS; cpu++) {
    if (!cpu_online(cpu)) continue;
    if (changetype<usize>(kthread_run_on_cpu(waiter_fn, <u64>w, cpu, "mempool_waiter")) != 0) started++;
    w++;
  }
  if (!KUNIT_ASSERT_TRUE(test, started == n)) { rescue_waiters(started); return; }
  const asleep = wait_progress(n, all_asleep, 5);
  KUNIT_EXPECT_TRUE(test, asleep);
  KUNIT_EXPECT_EQ(test, waiters_done(n), 0);
  // Give the elements back one by one from this CPU; each wakes every sleeper, exactly one of them gets it.
  for (let i = 0; i < n; i++) {
    mempool_free(held_at(i), pool);
    const want = i + 1;
    const until = csrr_time() + timebase_freq * 2;
    while (waiters_done(n) < want && csrr_time() < until) msleep(1);
    KUNIT_EXPECT_EQ(test, waiters_done(n), want);
  }
  const ok = wait_progress(n, all_done, 2);
  if (!ok) rescue_waiters(n);
  KUNIT_EXPECT_TRUE(test, ok);
  // Every waiter got one of the freed elements, no two the same, each on its own CPU.
  for (let i = 0; i < n; i++) {
    const e = load<u32>(waiter_area + <usize>(i * 16));
    let in_freed = 0, same = 0;
    for (let k = 0; k < n; k++) if (held_at(k) == e) in_freed++;
    for (let k = 0; k < n; k++) if (k != i && load<u32>(waiter_area + <usize>(k * 16)) == e) same++;
    KUNIT_EXPECT_EQ(test, in_freed, 1);
    KUNIT_EXPECT_EQ(test, same, 0);
    KUNIT_EXPECT_NE(test, load<u32>(waiter_area + <usize>(i * 16), 4), 0);
  }
  KUNIT_EXPECT_GE(test, pool.nr_waits, n);
  KUNIT_EXPECT_EQ(test, pool.curr_nr, 0);
  for (let i = 0; i < n; i++) mempool_free(load<u32>(waiter_area + <usize>(i * 16)), pool);
  KUNIT_EXPECT_EQ(test, pool.curr_nr, n);
  mempool_destroy(pool);
  KUNIT_EXPECT_EQ(test, t_in_use(), 0);
  KUNIT_EXPECT_EQ(test, t_bad(), 0);
}

// --- failslab ----------------------------------------------------------------------------------

const line_buf: usize = memory.data(64, 8);
function parse(s: string): i32 {
  const n = str_to_bytes(s, line_buf, 64);
  return failslab_parse(line_buf, n);
}

function failslab_counts_and_nofail(test: kunit): void {
  const f0 = failslab_failures();
  failslab_fail_next(2);
  KUNIT_EXPECT_EQ(test, failslab_remaining(), 2);
  // __GFP_NOFAIL is never failed, and does not use up the count.
  KUNIT_EXPECT_FALSE(test, should_failslab(0, GFP_KERNEL | __GFP_NOFAIL | __GFP_NOWARN));
  KUNIT_EXPECT_EQ(test, failslab_remaining(), 2);
  KUNIT_EXPECT_TRUE(test, should_failslab(0, GFP_ATOMIC | __GFP_NOWARN));
  KUNIT_EXPECT_TRUE(test, should_failslab(0, GFP_KERNEL | __GFP_NOWARN));
  KUNIT_EXPECT_FALSE(test, should_failslab(0, GFP_KERNEL | __GFP_NOWARN)); // used up
  KUNIT_EXPECT_EQ(test, failslab_remaining(), 0);
  KUNIT_EXPECT_EQ(test, failslab_failures(), f0 + 2);
  // -1: every one, until switched off.
  failslab_fail_next(-1);
  for (let i = 0; i < 5; i++) KUNIT_EXPECT_TRUE(test, should_failslab(0, GFP_NOWAIT | __GFP_NOWARN));
  KUNIT_EXPECT_EQ(test, failslab_remaining(), -1);
  failslab_fail_next(0);
  KUNIT_EXPECT_FALSE(test, should_failslab(0, GFP_NOWAIT | __GFP_NOWARN));
  KUNIT_EXPECT_EQ(test, failslab_failures(), f0 + 7);
  // Without __GFP_NOWARN, Linux's report (to the log only here).
  failslab_fail_next(1);
  const first = kunit_quiet();
  const r = should_failslab(0, GFP_KERNEL);
  kunit_loud();
  KUNIT_EXPECT_TRUE(test, r);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "FAULT_INJECTION: forcing a failure."), 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "name failslab, interval 1, probability 100, space 0, times 0"), 1);
  KUNIT_EXPECT_EQ(test, failslab_remaining(), 0);
}

function fail_page_alloc_switch(test: kunit): void {
  const f0 = fail_page_alloc_failures();
  fail_page_alloc_next(3);
  KUNIT_EXPECT_FALSE(test, should_fail_alloc_page(GFP_KERNEL | __GFP_NOFAIL, 0));
  KUNIT_EXPECT_TRUE(test, should_fail_alloc_page(GFP_KERNEL | __GFP_NOWARN, 0));
  KUNIT_EXPECT_TRUE(test, should_fail_alloc_page(GFP_ATOMIC | __GFP_NOWARN, 3));
  KUNIT_EXPECT_EQ(test, fail_page_alloc_remaining(), 1);
  const first = kunit_quiet();
  const r = should_fail_alloc_page(GFP_KERNEL, 1);
  kunit_loud();
  KUNIT_EXPECT_TRUE(test, r);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "name fail_page_alloc, interval 1, probability 100, space 0, times 0"), 1);
  KUNIT_EXPECT_FALSE(test, should_fail_alloc_page(GFP_KERNEL | __GFP_NOWARN, 0));
  KUNIT_EXPECT_EQ(test, fail_page_alloc_failures(), f0 + 3);
  // The two switches are independent.
  failslab_fail_next(0);
  fail_page_alloc_next(1);
  KUNIT_EXPECT_FALSE(test, should_failslab(0, GFP_KERNEL | __GFP_NOWARN));
  KUNIT_EXPECT_EQ(test, fail_page_alloc_remaining(), 1);
  fail_page_alloc_next(0);
}

function failslab_cmdline_syntax(test: kunit): void {
  KUNIT_EXPECT_EQ(test, parse("failslab=5"), 5);
  KUNIT_EXPECT_EQ(test, parse("quiet failslab=12 selftest=all"), 12);
  KUNIT_EXPECT_EQ(test, parse("failslab=-1"), -1);
  KUNIT_EXPECT_EQ(test, parse("failslab=0x10"), 16);
  KUNIT_EXPECT_EQ(test, parse("selftest=mempool"), -2);   // absent
  const first = kunit_quiet();
  KUNIT_EXPECT_EQ(test, parse("failslab=1,100,0,7"), 7);  // Linux's form: the times field
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "failslab=: only the times field is used"), 0);
  KUNIT_EXPECT_EQ(test, parse("failslab=10,50,0,3"), 3);  // other fields: warned, times used
  KUNIT_EXPECT_EQ(test, parse("failslab=abc"), -2);       // malformed: ignored with a warning
  KUNIT_EXPECT_EQ(test, parse("failslab=1,2"), -2);
  kunit_loud();
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "failslab=: only the times field is used"), 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "failslab=: bad count"), 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "failslab=: expected N or"), 1);
}

/**
 * Suite init and exit: the cases arm the fault-injection switches
 * themselves, so a `failslab=` / `fail_page_alloc=` count from the command
 * line is put aside for each case and restored after it.
 */
let saved_failslab: i32 = 0;
let saved_fail_page_alloc: i32 = 0;
function mempool_suite_init(test: kunit): i32 {
  saved_failslab = failslab_remaining();
  saved_fail_page_alloc = fail_page_alloc_remaining();
  failslab_fail_next(0);
  fail_page_alloc_next(0);
  return 0;
}
function mempool_suite_exit(test: kunit): void {
  failslab_fail_next(saved_failslab);
  fail_page_alloc_next(saved_fail_page_alloc);
}

export function register_mempool_tests(): void {
  kunit_suite("mempool");
  kunit_suite_hooks(mempool_suite_init, mempool_suite_exit);
  kunit_case("mempool_create_reserves_min_nr", mempool_create_reserves_min_nr);
  kunit_case("mempool_create_fails_cleanly", mempool_create_fails_cleanly);
  kunit_case("mempool_create_fails_when_kmalloc_fails", mempool_create_fails_when_kmalloc_fails);
  kunit_case("mempool_alloc_uses_allocator_first", mempool_alloc_uses_allocator_first);
  kunit_case("mempool_alloc_falls_back_to_reserve", mempool_alloc_falls_back_to_reserve);
  kunit_case("mempool_free_refills_reserve_first", mempool_free_refills_reserve_first);
  kunit_case("mempool_resize_both_ways", mempool_resize_both_ways);
  kunit_case("mempool_init_exit_embedded", mempool_init_exit_embedded);
  kunit_case("mempool_min_nr_zero", mempool_min_nr_zero);
  kunit_case("mempool_destroy_with_elements_out", mempool_destroy_with_elements_out);
  kunit_case("mempool_page_pool", mempool_page_pool);
  kunit_case("mempool_page_pool_under_pressure", mempool_page_pool_under_pressure);
  kunit_case("mempool_slab_pool", mempool_slab_pool);
  kunit_case("mempool_kmalloc_pool", mempool_kmalloc_pool);
  kunit_case("mempool_atomic_in_interrupt", mempool_atomic_in_interrupt);
  kunit_case("mempool_wait_woken_by_free", mempool_wait_woken_by_free);
  kunit_case("mempool_wait_many_waiters", mempool_wait_many_waiters);
  kunit_case("failslab_counts_and_nofail", failslab_counts_and_nofail);
  kunit_case("fail_page_alloc_switch", fail_page_alloc_switch);
  kunit_case("failslab_cmdline_syntax", failslab_cmdline_syntax);
}
