/**
 * Suite `slab`: the slab allocator (mm/slub.ts) through its API.
 *
 * Each case makes its own caches and destroys them: creation, allocation,
 * freeing and destruction with every object checked for overlap; the
 * constructor (counted); alignment (SLAB_HWCACHE_ALIGN and explicit);
 * objects per slab (counted by allocating, and Linux's numbers for the
 * kmalloc caches); the partial list and the refill from remote frees; pages
 * given back by kmem_cache_shrink (nr_free_pages, exactly); ZONE_DMA caches;
 * the SLUB debug reports, each provoked on purpose with the output sent to
 * the log ring (kunit_quiet), its lines checked there, and the allocator
 * checked to go on working; the SLAB_STORE_USER tracks; the slub_debug=
 * syntax; failslab. Concurrency proper is for a stress suite.
 *
 * Cases measure pages after drain_all_pages, so that "free" means the
 * buddy lists. Nothing else allocates from a case's caches.
 */
import { kunit, kunit_suite, kunit_case, kunit_skip, KUNIT_EXPECT_EQ, KUNIT_EXPECT_TRUE, KUNIT_EXPECT_FALSE, KUNIT_EXPECT_NE,
  KUNIT_EXPECT_GE, KUNIT_EXPECT_GT, KUNIT_EXPECT_LE, KUNIT_EXPECT_LT, KUNIT_ASSERT_TRUE, kunit_quiet, kunit_loud, kunit_logged } from "./ktap";
import { PAGE_SIZE, KERNEL_VIRT_BASE, KERNEL_PHYS_BASE } from "../arch/layout";
import { log_next_seq, log_read_record } from "../printk";
import { scnprintf } from "../lib/vsprintf";
import { str_to_bytes } from "../lib/string";
import { smp_processor_id } from "../cpu";
import { smp_call_function_single, cpu_online, num_online_cpus } from "../smp";
import { get_jiffies_64 } from "../time/tick";
import { current_pid } from "../sched/core";
import { nr_cpu_ids } from "../of/fdt";
import { drain_all_pages, nr_free_pages } from "../mm/page_alloc";
import { page, page_zonenum, page_address } from "../mm/page";
import { GFP_KERNEL, GFP_ATOMIC, __GFP_NOWARN, __GFP_NOFAIL, ZONE_DMA } from "../mm/gfp";
import { failslab_fail_next, failslab_remaining } from "../mm/failslab";
import {
  kmem_cache, kmem_cache_create, kmem_cache_alloc, kmem_cache_zalloc, kmem_cache_free, kmem_cache_destroy, kmem_cache_shrink,
  kmem_cache_size, kmem_cache_live_objects, kmem_cache_nr_slabs, kmem_cache_exists, kmem_cache_count, kmem_cache_cache,
  kmem_cache_name, get_node, slub_report_counts, virt_to_slab, slab_cache_of, slab_inuse, slab_order, slab_frozen, slub_reports, slub_min_objects,
  slub_debug_flags_for, slab_track_addr, slab_track_cpu, slab_track_pid, slab_track_when, slab_track_valid, kmem_cache_debug,
  SLAB_HWCACHE_ALIGN, SLAB_POISON, SLAB_RED_ZONE, SLAB_STORE_USER, SLAB_CONSISTENCY_CHECKS, SLAB_CACHE_DMA, SLAB_TYPESAFE_BY_RCU,
  DEBUG_DEFAULT_FLAGS, TRACK_ALLOC, TRACK_FREE, POISON_FREE, POISON_END, SLUB_RED_ACTIVE, SLUB_RED_INACTIVE, L1_CACHE_BYTES,
} from "../mm/slub";
import { kmalloc_cache, KMALLOC_NORMAL } from "../mm/kmalloc";

// --- helpers shared with the kmalloc suite ----------------------------------------------------------

/** Room for the objects a case holds at once. */
export const MAX_PTRS: i32 = 1024;
export const ptrs: usize = memory.data(MAX_PTRS * 4, 4);
// @ts-ignore: decorator
@inline export function ptr_at(i: i32): usize { return <usize>load<u32>(ptrs + <usize>(i * 4)); }
// @ts-ignore: decorator
@inline export function set_ptr(i: i32, p: usize): void { store<u32>(ptrs + <usize>(i * 4), <u32>p); }

const rec_buf: usize = memory.data(256, 8);
export const want_buf: usize = memory.data(256, 8);

/** Log records since `first` whose text starts with the `len` bytes at `want` (a formatted line). */
export function logged_bytes(first: u64, want: usize, len: i32): i32 {
  let n = 0;
  for (let s = first; s < log_next_seq(); s++) {
    const r = log_read_record(s, rec_buf, 256);
    if (r < 0 || (r >> 16) < len) continue;
    let same = true;
    for (let i = 0; i < len && same; i++) if (load<u8>(rec_buf + <usize>i) != load<u8>(want + <usize>i)) same = false;
    if (same) n++;
  }
  return n;
}

/** The counters of mm/slub.ts's reports, by field offset. */
// @ts-ignore: decorator
@inline export function reports_of(field: usize): i64 { return <i64>atomic.load<u32>(changetype<usize>(slub_reports) + field); }

/** nr_free_pages() after every CPU's page lists went back to the buddy lists. */
export function free_pages_now(): u64 {
  drain_all_pages();
  return nr_free_pages();
}

/** Pages held by the descriptor cache (creating and destroying a cache may change them). */
function desc_pages(): u64 { return kmem_cache_nr_slabs(kmem_cache_cache()) << kmem_cache_cache().oo_order; }

const NULL_CACHE = changetype<kmem_cache>(0);
// @ts-ignore: decorator
@inline function isnull(s: kmem_cache): bool { return changetype<usize>(s) == 0; }
// @ts-ignore: decorator
@inline function nr_partial(s: kmem_cache): i64 { return <i64>get_node(s, 0).nr_partial; }
// @ts-ignore: decorator
@inline function nr_full(s: kmem_cache): i64 { return <i64>get_node(s, 0).nr_full; }

/** Fill object i (size bytes) with a pattern naming it; check it is still there. */
function fill_obj(p: usize, size: u32, i: i32): void {
  store<u32>(p, <u32>i);
  for (let k: u32 = 4; k < size; k++) store<u8>(p + <usize>k, <u8>(i + <i32>k));
}
function obj_intact(p: usize, size: u32, i: i32): bool {
  if (load<u32>(p) != <u32>i) return false;
  for (let k: u32 = 4; k < size; k++) if (load<u8>(p + <usize>k) != <u8>(i + <i32>k)) return false;
  return true;
}

// --- cases ----------------------------------------------------------------------------------------

function slab_create_alloc_free_destroy(test: kunit): void {
  const caches0 = kmem_cache_count();
  const s = kmem_cache_create("slab_test_basic", 100, 0, 0, 0);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(s))) return;
  KUNIT_EXPECT_EQ(test, kmem_cache_count(), caches0 + 1);
  KUNIT_EXPECT_TRUE(test, kmem_cache_exists(s));
  KUNIT_EXPECT_EQ(test, kmem_cache_size(s), 100);
  KUNIT_EXPECT_GE(test, s.size, 100);
  const desc0 = desc_pages();
  const free0 = free_pages_now();
  const n = 3 * <i32>s.oo_objects + 5;
  if (!KUNIT_ASSERT_TRUE(test, n <= MAX_PTRS)) return;
  for (let i = 0; i < n; i++) {
    const p = kmem_cache_alloc(s, GFP_KERNEL);
    set_ptr(i, p);
    if (!KUNIT_ASSERT_TRUE(test, p != 0)) return;
    KUNIT_EXPECT_EQ(test, p & 7, 0);
    const slab = virt_to_slab(p);
    KUNIT_EXPECT_TRUE(test, changetype<usize>(slab) != 0 && slab_cache_of(slab) === s);
    fill_obj(p, 100, i);
  }
  // No two objects overlap: every pattern survived all the others' writes.
  let intact = 0;
  for (let i = 0; i < n; i++) if (obj_intact(ptr_at(i), 100, i)) intact++;
  KUNIT_EXPECT_EQ(test, intact, n);
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(s), n);
  KUNIT_EXPECT_EQ(test, kmem_cache_nr_slabs(s), 4);
  const pages = kmem_cache_nr_slabs(s) << s.oo_order;
  KUNIT_EXPECT_EQ(test, free_pages_now(), free0 - pages);
  // kmem_cache_zalloc: a dirty object comes back zeroed.
  const last = ptr_at(n - 1);
  kmem_cache_free(s, last);
  const z = kmem_cache_zalloc(s, GFP_KERNEL);
  KUNIT_EXPECT_EQ(test, z, last); // the object just freed (LIFO)
  let zero = true;
  for (let k: usize = 0; k < 100; k++) if (load<u8>(z + k) != 0) zero = false;
  KUNIT_EXPECT_TRUE(test, zero);
  for (let i = 0; i < n; i++) kmem_cache_free(s, ptr_at(i));
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(s), 0);
  kmem_cache_destroy(s);
  KUNIT_EXPECT_EQ(test, kmem_cache_count(), caches0);
  KUNIT_EXPECT_FALSE(test, kmem_cache_exists(s));
  // Every page of the cache went back (the descriptor cache may have changed its own).
  KUNIT_EXPECT_EQ(test, free_pages_now(), free0 - (desc_pages() - desc0));
}

let ctor_calls: i32 = 0;
function test_ctor(obj: usize): void {
  ctor_calls++;
  store<u32>(obj, 0xc0ffee);
  store<u32>(obj, 0x5eed, 44);
}

function slab_ctor_calls(test: kunit): void {
  ctor_calls = 0;
  const s = kmem_cache_create("slab_test_ctor", 48, 0, 0, changetype<usize>(test_ctor));
  if (!KUNIT_ASSERT_TRUE(test, !isnull(s))) return;
  KUNIT_EXPECT_EQ(test, ctor_calls, 0); // no slab yet
  KUNIT_EXPECT_GE(test, s.offset, s.inuse); // the free pointer stays out of constructed objects
  const n = <i32>s.oo_objects;
  const a = kmem_cache_alloc(s, GFP_KERNEL);
  if (!KUNIT_ASSERT_TRUE(test, a != 0)) return;
  KUNIT_EXPECT_EQ(test, ctor_calls, n); // every object of the new slab, once
  KUNIT_EXPECT_EQ(test, load<u32>(a), 0xc0ffee);
  KUNIT_EXPECT_EQ(test, load<u32>(a, 44), 0x5eed);
  // A freed object comes back as it was freed: the constructor does not run again.
  store<u32>(a, 0xdead);
  kmem_cache_free(s, a);
  const b = kmem_cache_alloc(s, GFP_KERNEL);
  KUNIT_EXPECT_EQ(test, b, a);
  KUNIT_EXPECT_EQ(test, load<u32>(b), 0xdead);
  KUNIT_EXPECT_EQ(test, ctor_calls, n);
  set_ptr(0, b);
  let constructed = 0;
  for (let i = 1; i < n; i++) {
    const p = kmem_cache_alloc(s, GFP_KERNEL);
    set_ptr(i, p);
    if (p != 0 && load<u32>(p) == 0xc0ffee && load<u32>(p, 44) == 0x5eed) constructed++;
  }
  KUNIT_EXPECT_EQ(test, constructed, n - 1);
  KUNIT_EXPECT_EQ(test, ctor_calls, n); // still one slab
  const c = kmem_cache_alloc(s, GFP_KERNEL);
  KUNIT_EXPECT_EQ(test, ctor_calls, 2 * n); // the second slab
  KUNIT_EXPECT_EQ(test, load<u32>(c), 0xc0ffee);
  kmem_cache_free(s, c);
  for (let i = 0; i < n; i++) kmem_cache_free(s, ptr_at(i));
  kmem_cache_destroy(s);
  KUNIT_EXPECT_FALSE(test, kmem_cache_exists(s));
}

/** Allocate a few objects of `s`; all aligned to `align`? */
function objects_aligned(s: kmem_cache, align: u32): bool {
  let ok = true;
  for (let i = 0; i < 8; i++) {
    const p = kmem_cache_alloc(s, GFP_KERNEL);
    set_ptr(i, p);
    if (p == 0 || (p & <usize>(align - 1)) != 0) ok = false;
  }
  for (let i = 0; i < 8; i++) kmem_cache_free(s, ptr_at(i));
  return ok;
}

function slab_alignment(test: kunit): void {
  // SLAB_HWCACHE_ALIGN: the 64-byte line for objects above half a line…
  let s = kmem_cache_create("slab_test_hw100", 100, 0, SLAB_HWCACHE_ALIGN, 0);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(s))) return;
  KUNIT_EXPECT_EQ(test, s.align, L1_CACHE_BYTES);
  if (!kmem_cache_debug(s)) KUNIT_EXPECT_EQ(test, s.size, 128); // (slub_debug= adds metadata)
  KUNIT_EXPECT_EQ(test, s.size % 64, 0);
  KUNIT_EXPECT_TRUE(test, objects_aligned(s, 64));
  kmem_cache_destroy(s);
  // … halved while the object fits in half of it (Linux calculate_alignment): 20 bytes → 32.
  s = kmem_cache_create("slab_test_hw20", 20, 0, SLAB_HWCACHE_ALIGN, 0);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(s))) return;
  KUNIT_EXPECT_EQ(test, s.align, 32);
  if (!kmem_cache_debug(s)) KUNIT_EXPECT_EQ(test, s.size, 32);
  KUNIT_EXPECT_EQ(test, s.size % 32, 0);
  KUNIT_EXPECT_TRUE(test, objects_aligned(s, 32));
  kmem_cache_destroy(s);
  // Explicit alignment.
  s = kmem_cache_create("slab_test_al128", 40, 128, 0, 0);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(s))) return;
  KUNIT_EXPECT_EQ(test, s.align, 128);
  if (!kmem_cache_debug(s)) KUNIT_EXPECT_EQ(test, s.size, 128);
  KUNIT_EXPECT_EQ(test, s.size % 128, 0);
  KUNIT_EXPECT_TRUE(test, objects_aligned(s, 128));
  kmem_cache_destroy(s);
  s = kmem_cache_create("slab_test_al256", 200, 256, SLAB_HWCACHE_ALIGN, 0);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(s))) return;
  KUNIT_EXPECT_EQ(test, s.align, 256);
  KUNIT_EXPECT_TRUE(test, objects_aligned(s, 256));
  kmem_cache_destroy(s);
  // None: 8 bytes (ARCH_SLAB_MINALIGN), the size rounded to it.
  s = kmem_cache_create("slab_test_al0", 12, 0, 0, 0);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(s))) return;
  KUNIT_EXPECT_EQ(test, s.align, 8);
  if (!kmem_cache_debug(s)) KUNIT_EXPECT_EQ(test, s.size, 16);
  KUNIT_EXPECT_EQ(test, s.size % 8, 0);
  KUNIT_EXPECT_TRUE(test, objects_aligned(s, 8));
  kmem_cache_destroy(s);
  // Refused: an alignment that is not a power of two, size 0, an RCU cache.
  const caches0 = kmem_cache_count();
  const first = kunit_quiet();
  KUNIT_EXPECT_TRUE(test, isnull(kmem_cache_create("slab_test_bad24", 64, 24, 0, 0)));
  KUNIT_EXPECT_TRUE(test, isnull(kmem_cache_create("slab_test_bad0", 0, 0, 0, 0)));
  KUNIT_EXPECT_TRUE(test, isnull(kmem_cache_create("slab_test_rcu", 64, 0, SLAB_TYPESAFE_BY_RCU, 0)));
  kunit_loud();
  KUNIT_EXPECT_EQ(test, kmem_cache_count(), caches0);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "kmem_cache_create(slab_test_bad24) failed with error -22"), 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "kmem_cache_create(slab_test_bad0) failed with error -22"), 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "kmem_cache_create(slab_test_rcu) failed with error -22"), 1);
}

/** Objects per slab counted by allocating: objects share the first object's slab until one does not. */
function count_per_slab(test: kunit, s: kmem_cache): i32 {
  const first = kmem_cache_alloc(s, GFP_KERNEL);
  const slab = virt_to_slab(first);
  set_ptr(0, first);
  let n = 1;
  while (n < MAX_PTRS) {
    const p = kmem_cache_alloc(s, GFP_KERNEL);
    set_ptr(n, p);
    if (p == 0) break;
    n++;
    if (changetype<usize>(virt_to_slab(p)) != changetype<usize>(slab)) break;
  }
  KUNIT_EXPECT_EQ(test, slab_order(slab), s.oo_order);
  for (let i = 0; i < n; i++) kmem_cache_free(s, ptr_at(i));
  return n - 1;
}

/** Linux's objects per slab and order of kmalloc-8 … 8192 for min_objects 8 (1 CPU), 12 (2-3), 16 (4-7: the reference sample). */
const REF_SIZES: StaticArray<u32> = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192];
const REF_INDEX: StaticArray<i32> = [3, 4, 5, 6, 1, 7, 2, 8, 9, 10, 11, 12, 13];
const REF_OBJS_8: StaticArray<u32> = [512, 256, 128, 64, 42, 32, 21, 16, 8, 8, 8, 8, 4];
const REF_ORDER_8: StaticArray<u32> = [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 3];
const REF_OBJS_12: StaticArray<u32> = [512, 256, 128, 64, 42, 32, 21, 16, 16, 16, 16, 8, 4];
const REF_ORDER_12: StaticArray<u32> = [0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 3, 3];
const REF_OBJS_16: StaticArray<u32> = [512, 256, 128, 64, 42, 32, 21, 16, 16, 16, 16, 8, 4];
const REF_ORDER_16: StaticArray<u32> = [0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 3, 3];

const OPS_SIZES: StaticArray<u32> = [8, 24, 100, 700, 1500, 3000, 5000, 9000];

function slab_objects_per_slab(test: kunit): void {
  // Counted: for caches of several sizes, objects per slab = what a slab of the chosen order holds.
  for (let k = 0; k < OPS_SIZES.length; k++) {
    const s = kmem_cache_create("slab_test_ops", OPS_SIZES[k], 0, 0, 0);
    if (!KUNIT_ASSERT_TRUE(test, !isnull(s))) return;
    KUNIT_EXPECT_EQ(test, s.oo_objects, (PAGE_SIZE << s.oo_order) / s.size);
    KUNIT_EXPECT_LE(test, s.oo_order, 3); // slub_max_order for everything that fits
    KUNIT_EXPECT_GE(test, s.oo_objects, 1);
    // The leftover is at most a quarter of the slab (calc_slab_order's coarsest fraction).
    KUNIT_EXPECT_LE(test, (PAGE_SIZE << s.oo_order) % s.size, (PAGE_SIZE << s.oo_order) / 4);
    if (<i32>s.oo_objects < MAX_PTRS) KUNIT_EXPECT_EQ(test, count_per_slab(test, s), s.oo_objects);
    kmem_cache_shrink(s);
    KUNIT_EXPECT_EQ(test, kmem_cache_nr_slabs(s), 0);
    kmem_cache_destroy(s);
  }
  // Linux's numbers for the kmalloc caches (no debug metadata), for this machine's CPU count.
  const min_objects = slub_min_objects();
  KUNIT_EXPECT_EQ(test, min_objects, 4 * (32 - clz<u32>(<u32>nr_cpu_ids) + 1));
  for (let k = 0; k < REF_SIZES.length; k++) {
    const s = kmalloc_cache(KMALLOC_NORMAL, REF_INDEX[k]);
    if (!KUNIT_ASSERT_TRUE(test, !isnull(s))) return;
    KUNIT_EXPECT_EQ(test, s.object_size, REF_SIZES[k]);
    if (kmem_cache_debug(s)) continue; // slub_debug= adds metadata: other numbers
    if (min_objects == 8) {
      KUNIT_EXPECT_EQ(test, s.oo_objects, REF_OBJS_8[k]);
      KUNIT_EXPECT_EQ(test, s.oo_order, REF_ORDER_8[k]);
    } else if (min_objects == 12) {
      KUNIT_EXPECT_EQ(test, s.oo_objects, REF_OBJS_12[k]);
      KUNIT_EXPECT_EQ(test, s.oo_order, REF_ORDER_12[k]);
    } else if (min_objects == 16) {
      KUNIT_EXPECT_EQ(test, s.oo_objects, REF_OBJS_16[k]);
      KUNIT_EXPECT_EQ(test, s.oo_order, REF_ORDER_16[k]);
    }
  }
}

function slab_partial_reuse(test: kunit): void {
  const s = kmem_cache_create("slab_test_partial", 256, 0, 0, 0);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(s))) return;
  if (kmem_cache_debug(s)) { kmem_cache_destroy(s); kunit_skip(test, "slub_debug= made it a debug cache: no CPU slabs"); return; }
  const n = <i32>s.oo_objects;
  if (!KUNIT_ASSERT_TRUE(test, 2 * n + 1 <= MAX_PTRS)) return;
  // Slab A: n objects, this CPU's slab, used up.
  for (let i = 0; i < n; i++) set_ptr(i, kmem_cache_alloc(s, GFP_KERNEL));
  const a = virt_to_slab(ptr_at(0));
  let same = 0;
  for (let i = 0; i < n; i++) if (changetype<usize>(virt_to_slab(ptr_at(i))) == changetype<usize>(a)) same++;
  KUNIT_EXPECT_EQ(test, same, n);
  KUNIT_EXPECT_TRUE(test, slab_frozen(a));
  // One more: A goes to the full list, slab B becomes this CPU's.
  set_ptr(n, kmem_cache_alloc(s, GFP_KERNEL));
  const b = virt_to_slab(ptr_at(n));
  KUNIT_EXPECT_NE(test, changetype<usize>(b), changetype<usize>(a));
  KUNIT_EXPECT_FALSE(test, slab_frozen(a));
  KUNIT_EXPECT_EQ(test, nr_full(s), 1);
  KUNIT_EXPECT_EQ(test, nr_partial(s), 0);
  KUNIT_EXPECT_EQ(test, kmem_cache_nr_slabs(s), 2);
  // A free into A: A moves to the partial list.
  const hole = ptr_at(3);
  kmem_cache_free(s, hole);
  KUNIT_EXPECT_EQ(test, nr_full(s), 0);
  KUNIT_EXPECT_EQ(test, nr_partial(s), 1);
  KUNIT_EXPECT_EQ(test, slab_inuse(a), n - 1);
  // Use B up; the next allocation takes A from the partial list, not a new slab.
  for (let i = n + 1; i < 2 * n; i++) set_ptr(i, kmem_cache_alloc(s, GFP_KERNEL));
  const again = kmem_cache_alloc(s, GFP_KERNEL);
  KUNIT_EXPECT_EQ(test, again, hole);
  KUNIT_EXPECT_EQ(test, kmem_cache_nr_slabs(s), 2);
  KUNIT_EXPECT_TRUE(test, slab_frozen(a));
  KUNIT_EXPECT_EQ(test, nr_partial(s), 0);
  set_ptr(3, again);
  for (let i = 0; i < 2 * n; i++) kmem_cache_free(s, ptr_at(i));
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(s), 0);
  // Both slabs are empty now; the node keeps them (min_partial) until a shrink.
  KUNIT_EXPECT_EQ(test, kmem_cache_nr_slabs(s), 2);
  KUNIT_EXPECT_EQ(test, kmem_cache_shrink(s), 0);
  KUNIT_EXPECT_EQ(test, kmem_cache_nr_slabs(s), 0);
  kmem_cache_destroy(s);
}

function free_on_other_cpu(arg: u64): void { kmem_cache_free(changetype<kmem_cache>(remote_cache), <usize>arg); }
let remote_cache: usize = 0;
let remote_cpu: i32 = 0;

function slab_remote_free(test: kunit): void {
  let other = -1;
  for (let cpu = 0; cpu < nr_cpu_ids; cpu++) if (cpu != smp_processor_id() && cpu_online(cpu)) { other = cpu; break; }
  if (other < 0) { kunit_skip(test, "needs a second CPU"); return; }
  const s = kmem_cache_create("slab_test_remote", 64, 0, 0, 0);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(s))) return;
  if (kmem_cache_debug(s)) { kmem_cache_destroy(s); kunit_skip(test, "slub_debug= made it a debug cache: no CPU slabs"); return; }
  remote_cache = changetype<usize>(s);
  const n = <i32>s.oo_objects;
  for (let i = 0; i < n; i++) set_ptr(i, kmem_cache_alloc(s, GFP_KERNEL));
  const a = virt_to_slab(ptr_at(0));
  // Another CPU frees into this CPU's slab: onto the slab's own freelist, under the node lock.
  smp_call_function_single(other, free_on_other_cpu, <u64>ptr_at(5), true);
  KUNIT_EXPECT_TRUE(test, slab_frozen(a));
  KUNIT_EXPECT_EQ(test, slab_inuse(a), n - 1);
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(s), n - 1);
  // This CPU's freelist is empty: the slow path picks the object up from the slab.
  const p = kmem_cache_alloc(s, GFP_KERNEL);
  KUNIT_EXPECT_EQ(test, p, ptr_at(5));
  KUNIT_EXPECT_EQ(test, kmem_cache_nr_slabs(s), 1);
  set_ptr(5, p);
  for (let i = 0; i < n; i++) kmem_cache_free(s, ptr_at(i));
  kmem_cache_destroy(s);
  KUNIT_EXPECT_FALSE(test, kmem_cache_exists(s));
}

function slab_shrink_returns_pages(test: kunit): void {
  const s = kmem_cache_create("slab_test_shrink", 512, 0, 0, 0);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(s))) return;
  const free0 = free_pages_now();
  const slabs = 20;
  let n = slabs * <i32>s.oo_objects;
  if (n > MAX_PTRS) n = MAX_PTRS;
  for (let i = 0; i < n; i++) set_ptr(i, kmem_cache_alloc(s, GFP_KERNEL));
  const held = kmem_cache_nr_slabs(s);
  KUNIT_EXPECT_EQ(test, held, <u64>((n + <i32>s.oo_objects - 1) / <i32>s.oo_objects));
  KUNIT_EXPECT_EQ(test, free_pages_now(), free0 - (held << s.oo_order));
  for (let i = 0; i < n; i++) kmem_cache_free(s, ptr_at(i));
  // Empty slabs beyond min_partial went back at once; the rest wait for a shrink.
  const kept = kmem_cache_nr_slabs(s);
  KUNIT_EXPECT_GE(test, kept, 1);
  KUNIT_EXPECT_LE(test, kept, <u64>s.min_partial + 1);
  KUNIT_EXPECT_LT(test, kept, held);
  KUNIT_EXPECT_EQ(test, free_pages_now(), free0 - (kept << s.oo_order));
  KUNIT_EXPECT_EQ(test, kmem_cache_shrink(s), 0);
  KUNIT_EXPECT_EQ(test, kmem_cache_nr_slabs(s), 0);
  KUNIT_EXPECT_EQ(test, free_pages_now(), free0);
  // A shrink with an object left keeps its slab and says so.
  const p = kmem_cache_alloc(s, GFP_KERNEL);
  KUNIT_EXPECT_EQ(test, kmem_cache_shrink(s), 1);
  KUNIT_EXPECT_EQ(test, kmem_cache_nr_slabs(s), 1);
  kmem_cache_free(s, p);
  kmem_cache_destroy(s);
  KUNIT_EXPECT_EQ(test, free_pages_now(), free0);
}

function slab_dma_cache(test: kunit): void {
  const s = kmem_cache_create("slab_test_dma", 64, 0, SLAB_CACHE_DMA, 0);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(s))) return;
  let in_dma = 0;
  for (let i = 0; i < 100; i++) {
    const p = kmem_cache_alloc(s, GFP_KERNEL);
    set_ptr(i, p);
    if (p != 0 && page_zonenum(virt_to_slab(p)) == ZONE_DMA) in_dma++;
  }
  KUNIT_EXPECT_EQ(test, in_dma, 100);
  for (let i = 0; i < 100; i++) kmem_cache_free(s, ptr_at(i));
  kmem_cache_destroy(s);
}

const EQUALS_LINE = "=============================================================================";
const DASH_LINE = "-----------------------------------------------------------------------------";

function slab_debug_double_free(test: kunit): void {
  const s = kmem_cache_create("slab_test_dbl", 40, 0, SLAB_POISON | SLAB_RED_ZONE | SLAB_STORE_USER, 0);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(s))) return;
  const reports0 = reports_of(offsetof<slub_report_counts>("reports"));
  const dbl0 = reports_of(offsetof<slub_report_counts>("double_free"));
  const a = kmem_cache_alloc(s, GFP_KERNEL);
  const b = kmem_cache_alloc(s, GFP_KERNEL);
  if (!KUNIT_ASSERT_TRUE(test, a != 0 && b != 0)) return;
  kmem_cache_free(s, a);
  const first = kunit_quiet();
  kmem_cache_free(s, a);
  kunit_loud();
  KUNIT_EXPECT_EQ(test, reports_of(offsetof<slub_report_counts>("double_free")), dbl0 + 1);
  KUNIT_EXPECT_EQ(test, reports_of(offsetof<slub_report_counts>("reports")), reports0 + 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, EQUALS_LINE), 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "BUG slab_test_dbl (Not tainted): Object already free"), 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, DASH_LINE), 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "INFO: Allocated in [<ffffffff8"), 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "INFO: Freed in [<ffffffff8"), 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "INFO: Slab 0x"), 1);
  let len = scnprintf(want_buf, 256, "INFO: Object 0x%016lx @offset=", <u64>a);
  KUNIT_EXPECT_EQ(test, logged_bytes(first, want_buf, len), 1);
  // The object's bytes, poisoned: 40 bytes = 3 lines, the first "6b 6b … 6b  kkkk…".
  len = scnprintf(want_buf, 256, "Object %016lx: 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b  kkkkkkkkkkkkkkkk", <u64>a);
  KUNIT_EXPECT_EQ(test, logged_bytes(first, want_buf, len), 1);
  len = scnprintf(want_buf, 256, "Object %016lx: 6b 6b 6b 6b 6b 6b 6b a5", <u64>(a + 32));
  KUNIT_EXPECT_EQ(test, logged_bytes(first, want_buf, len), 1);
  len = scnprintf(want_buf, 256, "Redzone %016lx: bb bb bb bb bb bb bb bb", <u64>(a + 40));
  KUNIT_EXPECT_EQ(test, logged_bytes(first, want_buf, len), 1);
  KUNIT_EXPECT_GE(test, kunit_logged(first, "Call Trace:"), 1);
  // The allocator goes on: `a` is free once, handed out once.
  const c = kmem_cache_alloc(s, GFP_KERNEL);
  const d = kmem_cache_alloc(s, GFP_KERNEL);
  KUNIT_EXPECT_EQ(test, c, a);
  KUNIT_EXPECT_NE(test, d, a);
  KUNIT_EXPECT_NE(test, d, b);
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(s), 3);
  kmem_cache_free(s, b);
  kmem_cache_free(s, c);
  kmem_cache_free(s, d);
  kmem_cache_destroy(s);
  KUNIT_EXPECT_FALSE(test, kmem_cache_exists(s));
  // Without debug flags, the naive check still catches a free of the object at the freelist's head.
  const t = kmem_cache_create("slab_test_dbl_fast", 40, 0, 0, 0);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(t))) return;
  const e = kmem_cache_alloc(t, GFP_KERNEL);
  kmem_cache_free(t, e);
  const first2 = kunit_quiet();
  kmem_cache_free(t, e);
  kunit_loud();
  KUNIT_EXPECT_EQ(test, reports_of(offsetof<slub_report_counts>("double_free")), dbl0 + 2);
  KUNIT_EXPECT_EQ(test, kunit_logged(first2, "BUG slab_test_dbl_fast (Not tainted): Object already free"), 1);
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(t), 0);
  const e2 = kmem_cache_alloc(t, GFP_KERNEL);
  const f = kmem_cache_alloc(t, GFP_KERNEL);
  KUNIT_EXPECT_EQ(test, e2, e);
  KUNIT_EXPECT_NE(test, f, e);
  kmem_cache_free(t, e2);
  kmem_cache_free(t, f);
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(t), 0);
  kmem_cache_destroy(t);
  KUNIT_EXPECT_FALSE(test, kmem_cache_exists(t));
}

/** Objects of `s` handed out now: none of them is `bad`, each poisoned as a fresh object is. Frees them again. */
function allocations_avoid(test: kunit, s: kmem_cache, bad1: usize, bad2: usize, n: i32): void {
  let avoided = 0, poisoned = 0;
  for (let i = 0; i < n; i++) {
    const p = kmem_cache_alloc(s, GFP_KERNEL);
    set_ptr(i, p);
    if (p != 0 && p != bad1 && p != bad2) avoided++;
    if ((s.flags & SLAB_POISON) != 0 && s.ctor == 0) {
      let ok = load<u8>(p + <usize>(s.object_size - 1)) == POISON_END;
      for (let k: u32 = 0; k + 1 < s.object_size; k++) if (load<u8>(p + <usize>k) != POISON_FREE) ok = false;
      if (ok) poisoned++;
    }
  }
  KUNIT_EXPECT_EQ(test, avoided, n);
  if ((s.flags & SLAB_POISON) != 0) KUNIT_EXPECT_EQ(test, poisoned, n);
  for (let i = 0; i < n; i++) kmem_cache_free(s, ptr_at(i));
}

function slab_debug_poison_overwritten(test: kunit): void {
  const s = kmem_cache_create("slab_test_poison", 64, 0, SLAB_POISON | SLAB_STORE_USER, 0);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(s))) return;
  const poison0 = reports_of(offsetof<slub_report_counts>("poison"));
  const isolated0 = reports_of(offsetof<slub_report_counts>("isolated"));
  const dbl0 = reports_of(offsetof<slub_report_counts>("double_free"));
  const a = kmem_cache_alloc(s, GFP_KERNEL);
  if (!KUNIT_ASSERT_TRUE(test, a != 0)) return;
  kmem_cache_free(s, a);
  store<u8>(a + 5, 0x42); // a write after free
  const first = kunit_quiet();
  const b = kmem_cache_alloc(s, GFP_KERNEL); // `a` is next on the freelist: checked, reported, isolated
  kunit_loud();
  KUNIT_EXPECT_NE(test, b, 0);
  KUNIT_EXPECT_NE(test, b, a);
  KUNIT_EXPECT_EQ(test, reports_of(offsetof<slub_report_counts>("poison")), poison0 + 1);
  KUNIT_EXPECT_EQ(test, reports_of(offsetof<slub_report_counts>("isolated")), isolated0 + 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "BUG slab_test_poison (Not tainted): Poison overwritten"), 1);
  const base = page_address(virt_to_slab(a));
  let len = scnprintf(want_buf, 256, "INFO: 0x%016lx-0x%016lx @offset=%u. First byte 0x42 instead of 0x6b", <u64>(a + 5), <u64>(a + 5),
    <u64>(a + 5 - base));
  KUNIT_EXPECT_EQ(test, logged_bytes(first, want_buf, len), 1);
  len = scnprintf(want_buf, 256, "Object %016lx: 6b 6b 6b 6b 6b 42 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b  kkkkkBkkkkkkkkkk", <u64>a);
  KUNIT_EXPECT_EQ(test, logged_bytes(first, want_buf, len), 1);
  len = scnprintf(want_buf, 256, "FIX slab_test_poison: Restoring Poison 0x%016lx-0x%016lx=0x6b", <u64>(a + 5), <u64>(a + 5));
  KUNIT_EXPECT_EQ(test, logged_bytes(first, want_buf, len), 1);
  len = scnprintf(want_buf, 256, "FIX slab_test_poison: Object 0x%016lx isolated", <u64>a);
  KUNIT_EXPECT_EQ(test, logged_bytes(first, want_buf, len), 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "INFO: Freed in [<ffffffff8"), 1);
  // The bytes were restored, and `a` is never handed out again.
  KUNIT_EXPECT_EQ(test, load<u8>(a + 5), POISON_FREE);
  allocations_avoid(test, s, a, 0, 2 * <i32>s.oo_objects);
  // Freeing the isolated object (a double free by its last owner) is refused.
  const first2 = kunit_quiet();
  kmem_cache_free(s, a);
  kunit_loud();
  KUNIT_EXPECT_EQ(test, reports_of(offsetof<slub_report_counts>("double_free")), dbl0 + 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first2, "BUG slab_test_poison (Not tainted): Object already free"), 1);
  kmem_cache_free(s, b);
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(s), 0);
  kmem_cache_destroy(s); // the isolated object goes back with its slab
  KUNIT_EXPECT_FALSE(test, kmem_cache_exists(s));
}

function slab_debug_redzone(test: kunit): void {
  const s = kmem_cache_create("slab_test_redzone", 24, 0, SLAB_RED_ZONE | SLAB_STORE_USER, 0);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(s))) return;
  const rz0 = reports_of(offsetof<slub_report_counts>("redzone"));
  const a = kmem_cache_alloc(s, GFP_KERNEL);
  const c = kmem_cache_alloc(s, GFP_KERNEL);
  if (!KUNIT_ASSERT_TRUE(test, a != 0 && c != 0)) return;
  KUNIT_EXPECT_EQ(test, load<u8>(a - 1), SLUB_RED_ACTIVE);
  KUNIT_EXPECT_EQ(test, load<u8>(a + 24), SLUB_RED_ACTIVE);
  const live0 = kmem_cache_live_objects(s);
  // One byte past the end.
  store<u8>(a + 24, 0x11);
  let first = kunit_quiet();
  kmem_cache_free(s, a);
  kunit_loud();
  KUNIT_EXPECT_EQ(test, reports_of(offsetof<slub_report_counts>("redzone")), rz0 + 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "BUG slab_test_redzone (Not tainted): Right Redzone overwritten"), 1);
  let len = scnprintf(want_buf, 256, "INFO: 0x%016lx-0x%016lx @offset=", <u64>(a + 24), <u64>(a + 24));
  KUNIT_EXPECT_EQ(test, logged_bytes(first, want_buf, len), 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "INFO: 0x"), 1);
  len = scnprintf(want_buf, 256, "Redzone %016lx: 11 cc cc cc cc cc cc cc                          .......", <u64>(a + 24));
  KUNIT_EXPECT_EQ(test, logged_bytes(first, want_buf, len), 1);
  len = scnprintf(want_buf, 256, "FIX slab_test_redzone: Object at 0x%016lx not freed", <u64>a);
  KUNIT_EXPECT_EQ(test, logged_bytes(first, want_buf, len), 1);
  KUNIT_EXPECT_EQ(test, load<u8>(a + 24), SLUB_RED_ACTIVE); // restored
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(s), live0 - 1); // the owner is done with it
  // One byte before the start.
  store<u8>(c - 1, 0x22);
  first = kunit_quiet();
  kmem_cache_free(s, c);
  kunit_loud();
  KUNIT_EXPECT_EQ(test, reports_of(offsetof<slub_report_counts>("redzone")), rz0 + 2);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "BUG slab_test_redzone (Not tainted): Left Redzone overwritten"), 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "INFO: 0x"), 1);
  KUNIT_EXPECT_GE(test, kunit_logged(first, "Redzone "), 2);
  // Neither is handed out again; new objects have intact zones, 0xcc while allocated, 0xbb once freed.
  allocations_avoid(test, s, a, c, 2 * <i32>s.oo_objects);
  const d = kmem_cache_alloc(s, GFP_KERNEL);
  KUNIT_EXPECT_EQ(test, load<u8>(d - 1), SLUB_RED_ACTIVE);
  KUNIT_EXPECT_EQ(test, load<u8>(d + 24), SLUB_RED_ACTIVE);
  kmem_cache_free(s, d);
  KUNIT_EXPECT_EQ(test, load<u8>(d - 1), SLUB_RED_INACTIVE);
  KUNIT_EXPECT_EQ(test, load<u8>(d + 24), SLUB_RED_INACTIVE);
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(s), 0);
  kmem_cache_destroy(s);
  KUNIT_EXPECT_FALSE(test, kmem_cache_exists(s));
}

function slab_wrong_cache_and_bad_pointers(test: kunit): void {
  const s1 = kmem_cache_create("slab_test_wc_a", 32, 0, SLAB_STORE_USER, 0);
  const s2 = kmem_cache_create("slab_test_wc_b", 32, 0, 0, 0);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(s1) && !isnull(s2))) return;
  const wc0 = reports_of(offsetof<slub_report_counts>("wrong_cache"));
  const inv0 = reports_of(offsetof<slub_report_counts>("invalid_pointer"));
  const ns0 = reports_of(offsetof<slub_report_counts>("not_slab"));
  const a = kmem_cache_alloc(s1, GFP_KERNEL);
  const x = kmem_cache_alloc(s2, GFP_KERNEL);
  if (!KUNIT_ASSERT_TRUE(test, a != 0 && x != 0)) return;
  let first = kunit_quiet();
  kmem_cache_free(s2, a);
  kunit_loud();
  KUNIT_EXPECT_EQ(test, reports_of(offsetof<slub_report_counts>("wrong_cache")), wc0 + 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "kmem_cache_free: Wrong slab cache. slab_test_wc_b but object is from slab_test_wc_a"), 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "INFO: Allocated in [<ffffffff8"), 1); // the object's track (its cache stores users)
  // Freed to its own cache, as Linux does: s1 has nothing live, s2 still has x.
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(s1), 0);
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(s2), 1);
  const a2 = kmem_cache_alloc(s1, GFP_KERNEL);
  KUNIT_EXPECT_EQ(test, a2, a);
  // Not the start of an object: refused.
  first = kunit_quiet();
  kmem_cache_free(s1, a2 + 8);
  kunit_loud();
  KUNIT_EXPECT_EQ(test, reports_of(offsetof<slub_report_counts>("invalid_pointer")), inv0 + 1);
  let len = scnprintf(want_buf, 256, "BUG slab_test_wc_a (Not tainted): Invalid object pointer 0x%016lx", <u64>(a2 + 8));
  KUNIT_EXPECT_EQ(test, logged_bytes(first, want_buf, len), 1);
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(s1), 1);
  // Not in a slab at all (the kernel image): refused.
  first = kunit_quiet();
  kmem_cache_free(s1, <usize>KERNEL_PHYS_BASE + 64);
  kunit_loud();
  KUNIT_EXPECT_EQ(test, reports_of(offsetof<slub_report_counts>("not_slab")), ns0 + 1);
  len = scnprintf(want_buf, 256, "kmem_cache_free: Object 0x%016lx is not a Slab page!", <u64>KERNEL_PHYS_BASE + 64);
  KUNIT_EXPECT_EQ(test, logged_bytes(first, want_buf, len), 1);
  kmem_cache_free(s1, 0); // NULL: nothing
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(s1), 1);
  kmem_cache_free(s1, a2);
  kmem_cache_free(s2, x);
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(s1), 0);
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(s2), 0);
  kmem_cache_destroy(s1);
  kmem_cache_destroy(s2);
  KUNIT_EXPECT_FALSE(test, kmem_cache_exists(s1) || kmem_cache_exists(s2));
}

function slab_objects_remaining(test: kunit): void {
  const s = kmem_cache_create("slab_test_remain", 128, 0, SLAB_STORE_USER, 0);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(s))) return;
  const rem0 = reports_of(offsetof<slub_report_counts>("objects_remaining"));
  const a = kmem_cache_alloc(s, GFP_KERNEL);
  const b = kmem_cache_alloc(s, GFP_KERNEL);
  const c = kmem_cache_alloc(s, GFP_KERNEL);
  kmem_cache_free(s, b);
  const first = kunit_quiet();
  kmem_cache_destroy(s);
  kunit_loud();
  KUNIT_EXPECT_TRUE(test, kmem_cache_exists(s)); // not destroyed
  KUNIT_EXPECT_EQ(test, reports_of(offsetof<slub_report_counts>("objects_remaining")), rem0 + 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "BUG slab_test_remain (Not tainted): Objects remaining in slab_test_remain on __kmem_cache_shutdown()"), 1);
  let len = scnprintf(want_buf, 256, "INFO: Object 0x%016lx @offset=", <u64>a);
  KUNIT_EXPECT_EQ(test, logged_bytes(first, want_buf, len), 1);
  len = scnprintf(want_buf, 256, "INFO: Object 0x%016lx @offset=", <u64>c);
  KUNIT_EXPECT_EQ(test, logged_bytes(first, want_buf, len), 1);
  len = scnprintf(want_buf, 256, "INFO: Object 0x%016lx @offset=", <u64>b);
  KUNIT_EXPECT_EQ(test, logged_bytes(first, want_buf, len), 0); // freed: not listed
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "INFO: Allocated in [<ffffffff8"), 2);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "kmem_cache_destroy slab_test_remain: Slab cache still has objects"), 1);
  // Still usable; once everything is freed the destroy goes through.
  const d = kmem_cache_alloc(s, GFP_KERNEL);
  KUNIT_EXPECT_NE(test, d, 0);
  kmem_cache_free(s, a);
  kmem_cache_free(s, c);
  kmem_cache_free(s, d);
  kmem_cache_destroy(s);
  KUNIT_EXPECT_FALSE(test, kmem_cache_exists(s));
}

function slab_store_user_tracks(test: kunit): void {
  const s = kmem_cache_create("slab_test_track", 32, 0, SLAB_STORE_USER, 0);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(s))) return;
  const j0 = get_jiffies_64();
  for (let i = 0; i < 3; i++) set_ptr(i, kmem_cache_alloc(s, GFP_KERNEL)); // one call site
  const q = kmem_cache_alloc(s, GFP_KERNEL);                                // another
  const p0 = ptr_at(0);
  const site = slab_track_addr(s, p0, TRACK_ALLOC, 0);
  KUNIT_EXPECT_TRUE(test, slab_track_valid(s, p0, TRACK_ALLOC));
  KUNIT_EXPECT_FALSE(test, slab_track_valid(s, p0, TRACK_FREE));
  KUNIT_EXPECT_GE(test, site, KERNEL_VIRT_BASE);                 // a return address in the kernel's code
  KUNIT_EXPECT_LT(test, site, KERNEL_VIRT_BASE + (4 << 20));
  KUNIT_EXPECT_EQ(test, slab_track_addr(s, ptr_at(1), TRACK_ALLOC, 0), site);
  KUNIT_EXPECT_EQ(test, slab_track_addr(s, ptr_at(2), TRACK_ALLOC, 0), site);
  KUNIT_EXPECT_NE(test, slab_track_addr(s, q, TRACK_ALLOC, 0), site);
  // The next frame is this case's caller, the same for both sites.
  KUNIT_EXPECT_NE(test, slab_track_addr(s, p0, TRACK_ALLOC, 1), 0);
  KUNIT_EXPECT_EQ(test, slab_track_addr(s, q, TRACK_ALLOC, 1), slab_track_addr(s, p0, TRACK_ALLOC, 1));
  KUNIT_EXPECT_EQ(test, slab_track_cpu(s, p0, TRACK_ALLOC), smp_processor_id());
  KUNIT_EXPECT_EQ(test, slab_track_pid(s, p0, TRACK_ALLOC), current_pid() < 0 ? 0 : current_pid());
  KUNIT_EXPECT_GE(test, slab_track_when(s, p0, TRACK_ALLOC), j0);
  KUNIT_EXPECT_LE(test, slab_track_when(s, p0, TRACK_ALLOC), get_jiffies_64());
  // Freeing records the free's call site, and keeps the allocation's.
  kmem_cache_free(s, p0);
  KUNIT_EXPECT_TRUE(test, slab_track_valid(s, p0, TRACK_FREE));
  const fsite = slab_track_addr(s, p0, TRACK_FREE, 0);
  KUNIT_EXPECT_GE(test, fsite, KERNEL_VIRT_BASE);
  KUNIT_EXPECT_NE(test, fsite, site);
  KUNIT_EXPECT_NE(test, fsite, slab_track_addr(s, q, TRACK_ALLOC, 0));
  KUNIT_EXPECT_EQ(test, slab_track_addr(s, p0, TRACK_ALLOC, 0), site);
  kmem_cache_free(s, ptr_at(1));
  kmem_cache_free(s, ptr_at(2));
  kmem_cache_free(s, q);
  kmem_cache_destroy(s);
}

const cmd_buf: usize = memory.data(128, 8);
function flags_for(value: string, name: string): u32 {
  const len = str_to_bytes(value, cmd_buf, 128);
  return slub_debug_flags_for(cmd_buf, len, name);
}

function slab_debug_cmdline(test: kunit): void {
  // Blocks by ';', letters then cache names; a block without names is for every cache.
  KUNIT_EXPECT_EQ(test, flags_for("FZ;P,slab_t*,foo;U,bar", "slab_test_x"), SLAB_POISON);
  KUNIT_EXPECT_EQ(test, flags_for("FZ;P,slab_t*,foo;U,bar", "foo"), SLAB_POISON);
  KUNIT_EXPECT_EQ(test, flags_for("FZ;P,slab_t*,foo;U,bar", "bar"), SLAB_STORE_USER);
  KUNIT_EXPECT_EQ(test, flags_for("FZ;P,slab_t*,foo;U,bar", "fo"), SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE);
  // No letters: everything; '-': nothing; letters in either case.
  KUNIT_EXPECT_EQ(test, flags_for(",kmalloc-64", "kmalloc-64"), DEBUG_DEFAULT_FLAGS);
  KUNIT_EXPECT_EQ(test, flags_for(",kmalloc-64", "kmalloc-32"), 0);
  KUNIT_EXPECT_EQ(test, flags_for("-", "kmalloc-64"), 0);
  KUNIT_EXPECT_EQ(test, flags_for("zpu,kmalloc-*", "kmalloc-8"), SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER);
  KUNIT_EXPECT_EQ(test, flags_for("zpu,kmalloc-*", "dma-kmalloc-8"), 0);
  KUNIT_EXPECT_EQ(test, flags_for("F", "anything"), SLAB_CONSISTENCY_CHECKS);
  // `slub_debug=` empty, and bare `slub_debug`: full debugging everywhere.
  KUNIT_EXPECT_EQ(test, slub_debug_flags_for(cmd_buf, 0, "x"), DEBUG_DEFAULT_FLAGS);
  KUNIT_EXPECT_EQ(test, slub_debug_flags_for(cmd_buf, -1, "x"), DEBUG_DEFAULT_FLAGS);
  // A cache with every check (what slub_debug gives) still works end to end.
  const s = kmem_cache_create("slab_test_fzpu", 72, 0, DEBUG_DEFAULT_FLAGS, 0);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(s))) return;
  allocations_avoid(test, s, 0, 0, 3 * <i32>s.oo_objects);
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(s), 0);
  kmem_cache_destroy(s);
  KUNIT_EXPECT_FALSE(test, kmem_cache_exists(s));
}

function slab_failslab(test: kunit): void {
  const s = kmem_cache_create("slab_test_failslab", 64, 0, 0, 0);
  if (!KUNIT_ASSERT_TRUE(test, !isnull(s))) return;
  failslab_fail_next(1);
  KUNIT_EXPECT_EQ(test, kmem_cache_alloc(s, GFP_KERNEL | __GFP_NOWARN), 0);
  KUNIT_EXPECT_EQ(test, failslab_remaining(), 0);
  const a = kmem_cache_alloc(s, GFP_KERNEL);
  KUNIT_EXPECT_NE(test, a, 0);
  // __GFP_NOFAIL is never failed; the descriptor cache is never failed (Linux).
  failslab_fail_next(1);
  const b = kmem_cache_alloc(s, GFP_KERNEL | __GFP_NOFAIL | __GFP_NOWARN);
  KUNIT_EXPECT_NE(test, b, 0);
  const t = kmem_cache_create("slab_test_failslab2", 64, 0, 0, 0);
  KUNIT_EXPECT_FALSE(test, isnull(t));
  KUNIT_EXPECT_EQ(test, failslab_remaining(), 1);
  failslab_fail_next(0);
  KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(s), 2);
  kmem_cache_free(s, a);
  kmem_cache_free(s, b);
  kmem_cache_destroy(s);
  kmem_cache_destroy(t);
}

export function register_slab_tests(): void {
  kunit_suite("slab");
  kunit_case("slab_create_alloc_free_destroy", slab_create_alloc_free_destroy);
  kunit_case("slab_ctor_calls", slab_ctor_calls);
  kunit_case("slab_alignment", slab_alignment);
  kunit_case("slab_objects_per_slab", slab_objects_per_slab);
  kunit_case("slab_partial_reuse", slab_partial_reuse);
  kunit_case("slab_remote_free", slab_remote_free);
  kunit_case("slab_shrink_returns_pages", slab_shrink_returns_pages);
  kunit_case("slab_dma_cache", slab_dma_cache);
  kunit_case("slab_debug_double_free", slab_debug_double_free);
  kunit_case("slab_debug_poison_overwritten", slab_debug_poison_overwritten);
  kunit_case("slab_debug_redzone", slab_debug_redzone);
  kunit_case("slab_wrong_cache_and_bad_pointers", slab_wrong_cache_and_bad_pointers);
  kunit_case("slab_objects_remaining", slab_objects_remaining);
  kunit_case("slab_store_user_tracks", slab_store_user_tracks);
  kunit_case("slab_debug_cmdline", slab_debug_cmdline);
  kunit_case("slab_failslab", slab_failslab);
}
