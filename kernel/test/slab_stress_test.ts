/**
 * Suite `slab_stress`: every online CPU allocates and frees at once across
 * several slab caches and kmalloc (mm/slub.ts, mm/kmalloc.ts under
 * contention), with two independent proofs that no object is ever handed
 * to two holders, objects moving between CPUs (SLUB's remote free path),
 * and every count back where it started at the end.
 *
 * One kernel thread per online CPU, each with its own xorshift64 generator
 * seeded from its CPU number and `slab_stress.seed` (the same sequence of
 * requests on every run), holding up to HELD_MAX objects in a private table:
 *
 *   held_area  [cpu 0: HELD_MAX entries][cpu 1: …] …            (static)
 *   entry (24) +0 object (u32)  +4 size asked (u32)  +8 owner tag (u64)
 *              +16 bytes claimed (u32)  +20 kind (u8)  +21 CPU that
 *              allocated it (u8)  +22 __GFP_DMA asked (u8)
 *
 *   kinds      0 slab_stress-16       plain, 256 a slab: mostly the fast path
 *              1 slab_stress-hw100    SLAB_HWCACHE_ALIGN (stride 128)
 *              2 slab_stress-ctor192  a constructor: every object of a new
 *                                     slab gets a pattern; holders give it
 *                                     back constructed, so a fresh object
 *                                     must show the pattern
 *              3 slab_stress-debug72  SLAB_POISON | SLAB_RED_ZONE: a fresh
 *                                     object must be poison (6b … a5); the
 *                                     red zones are checked by SLUB itself
 *              4 slab_stress-dma1000  SLAB_CACHE_DMA, align 32, order-2 slabs
 *              5 slab_stress-track40  SLAB_STORE_USER | SLAB_CONSISTENCY_CHECKS:
 *                                     the alloc track must name the CPU that
 *                                     allocated, the freelist is walked at
 *                                     every operation
 *              6 kmalloc              1 … 20000 bytes (the kmalloc-* caches,
 *                                     dma-kmalloc-* with __GFP_DMA, large
 *                                     blocks from the page allocator above
 *                                     8192), kzalloc, krealloc
 *
 * Operations come in phases of 64: growing (75 % allocations), then
 * shrinking (30 %), so that slabs fill, empty and go back; a quarter of the
 * allocations are GFP_ATOMIC, an eighth zeroed (not the ctor cache's: that
 * would undo the constructor); 1/16 of the frees of a kmalloc object are a
 * krealloc to a new random size instead.
 *
 * Ownership, twice:
 *   1. a shared bitmap, one bit per 8-byte granule of low memory (from the
 *      page allocator; a page's 64 bytes of it zeroed when the page is
 *      first touched), claimed with atomic.or over the object's
 *      whole usable size right after the allocation returns and released
 *      with atomic.and right before the free: a bit already set on claim,
 *      or already clear on release, is a double owner;
 *   2. a tag the holder writes into the object's first word (and its
 *      complement into the last whole word of the size it asked for),
 *      checked before the object is freed, handed over or reallocated.
 * A fresh object must also be well formed (its own cache, aligned, ksize ≥
 * the size asked, ZONE_DMA when asked for) and show its expected contents
 * (zeroes for kzalloc/kmem_cache_zalloc, poison, the constructor's pattern).
 *
 * Cases:
 *   slab_stress_local    every object is freed by the CPU that allocated it;
 *                        the objects that leave a CPU's slab go back
 *                        through the node lists under list_lock
 *   slab_stress_remote   a quarter of the frees hand the object to another
 *                        CPU through its inbox (spinlock, INBOX_MAX slots),
 *                        which frees it; 1/16 are an IPI to another CPU
 *                        whose handler frees the object and allocates a new
 *                        one (GFP_ATOMIC, in interrupt context) for the
 *                        requester to hold and free later. Skipped on one CPU.
 * In both, the first online CPU's thread calls kmem_cache_shrink on one of
 * the caches every 256 operations: flush_all IPIs land in the middle of the
 * other CPUs' work.
 *
 * Afterwards: no violation of any kind, every object allocated freed, the
 * bitmap empty; per cache, kmem_cache_live_objects 0 and SLUB's own
 * allocation / free statistics equal to the operations the threads made;
 * the constructor run exactly once per object of every slab made;
 * kmem_cache_shrink leaves no slab; every kmalloc cache's live objects as
 * before and its statistics moved by exactly the threads' kmallocs; the
 * large-kmalloc counters balanced; SLUB's report counters, might_sleep
 * warnings, bad pages and allocation-failure warnings unchanged; and after
 * kmem_cache_destroy and a shrink of the kmalloc and descriptor caches,
 * nr_free_pages exactly what it was before the case.
 *
 * Below COVERAGE_OPS operations per CPU, the expectations that the run
 * reached every kind, a remote free and an IPI exchange are left out.
 *
 * `slab_stress.ops=N` changes the operations per CPU and case (default
 * 2000: about 33 million instructions for the suite on 4 harts, 6 million
 * on one), `slab_stress.seed=N` the generators' sequences (default 0).
 *
 * Context: the cases run in init on CPU 0 and sleep while the threads work.
 */
import { prandom_seed, prandom_u64, PRANDOM_STATE_SIZE } from "../lib/prandom";
import { kunit, kunit_suite, kunit_case, kunit_skip, KUNIT_EXPECT_EQ, KUNIT_EXPECT_GT, KUNIT_EXPECT_TRUE, KUNIT_ASSERT_TRUE,
  KUNIT_ASSERT_EQ } from "./ktap";
import { PAGE_SIZE, PAGE_SHIFT, NR_CPUS } from "../arch/layout";
import { smp_processor_id } from "../cpu";
import { spinlock_t, spin_lock_init, spin_lock_irqsave, spin_unlock_irqrestore } from "../locking/spinlock";
import { local_irq_save, local_irq_restore } from "../arch/irqflags";
import { alloc_pages, __free_pages, drain_all_pages, nr_free_pages, bad_page_count, alloc_fail_warnings, lowmem_end_pfn } from "../mm/page_alloc";
import { page, page_address, virt_to_page, page_zonenum, min_pfn } from "../mm/page";
import { MAX_ORDER } from "../mm/mmzone";
import { gfp_t, GFP_KERNEL, GFP_ATOMIC, __GFP_DMA, __GFP_NOWARN, ZONE_DMA } from "../mm/gfp";
import {
  kmem_cache, kmem_cache_cpu, kmem_cache_create, kmem_cache_alloc, kmem_cache_zalloc, kmem_cache_free, kmem_cache_destroy,
  kmem_cache_shrink, kmem_cache_live_objects, kmem_cache_stat, kmem_cache_nr_slabs, kmem_cache_exists, kmem_cache_count,
  kmem_cache_cache, virt_to_slab, slab_cache_of, get_slabinfo, slabinfo, slub_reports, slub_report_counts, slab_track_cpu,
  slab_track_valid, get_order, SLAB_HWCACHE_ALIGN, SLAB_POISON, SLAB_RED_ZONE, SLAB_STORE_USER, SLAB_CONSISTENCY_CHECKS,
  SLAB_CACHE_DMA, TRACK_ALLOC, POISON_FREE, POISON_END,
} from "../mm/slub";
import {
  kmalloc, kzalloc, kfree, ksize, krealloc, kmalloc_slab, kmalloc_cache, kmalloc_large_stats, LARGE_ALLOCS, LARGE_FREES,
  LARGE_PAGES, KMALLOC_MAX_CACHE_SIZE, KMALLOC_SHIFT_HIGH, NR_KMALLOC_TYPES,
} from "../mm/kmalloc";
import { kthread_run_on_cpu, sched_yield, might_sleep_count } from "../sched/core";
import { init_completion, complete, wait_for_completion_timeout, COMPLETION_SIZE } from "../sched/wait";
import { cpu_online, smp_call_function_single } from "../smp";
import { nr_cpu_ids } from "../of/fdt";
import { HZ } from "../time/tick";
import { pr_info, pr_err } from "../printk";
import { cmdline_get_int } from "../cmdline";

// --- parameters ------------------------------------------------------------------------------------

const DEFAULT_OPS: i64 = 2000;
/**
 * Below this many operations per CPU a run is too short to be sure of
 * reaching every kind, a remote free and an IPI exchange: those coverage
 * expectations apply from here on (the correctness ones always do).
 */
const COVERAGE_OPS: u32 = 256;
/** Objects a CPU holds at most. */
const HELD_MAX: u32 = 48;
const ENTRY: usize = 24;
/** Objects waiting in a CPU's inbox at most (remote case). */
const INBOX_MAX: u32 = 32;
/** Received objects a thread frees per operation (the rest wait for the next ones). */
const INBOX_BATCH: i32 = 2;
/** Diagnostics printed at most, per case. */
const MAX_REPORTS: u64 = 6;
/** kmem_cache_shrink of one cache by the first CPU's thread, every SHRINK_EVERY operations. */
const SHRINK_EVERY: u32 = 256;

const NCACHES: i32 = 6;
const K_PLAIN: i32 = 0;
const K_HWALIGN: i32 = 1;
const K_CTOR: i32 = 2;
const K_POISON: i32 = 3;
const K_DMA: i32 = 4;
const K_TRACK: i32 = 5;
const K_KMALLOC: i32 = 6;
const NKINDS: i32 = 7;

const CACHE_NAMES: StaticArray<string> = [
  "slab_stress-16", "slab_stress-hw100", "slab_stress-ctor192", "slab_stress-debug72", "slab_stress-dma1000", "slab_stress-track40",
];

function cache_size(k: i32): u32 {
  switch (k) {
    case K_PLAIN: return 16;
    case K_HWALIGN: return 100;
    case K_CTOR: return 192;
    case K_POISON: return 72;
    case K_DMA: return 1000;
    default: return 40;
  }
}
function cache_align(k: i32): u32 { return k == K_DMA ? 32 : 0; }
function cache_flags(k: i32): u32 {
  switch (k) {
    case K_HWALIGN: return SLAB_HWCACHE_ALIGN;
    case K_POISON: return SLAB_POISON | SLAB_RED_ZONE;
    case K_DMA: return SLAB_CACHE_DMA;
    case K_TRACK: return SLAB_STORE_USER | SLAB_CONSISTENCY_CHECKS;
    default: return 0;
  }
}

/** The constructor's pattern: word k of a constructed ctor192 object. */
const CTOR_WORDS: u32 = 192 / 8;
// @ts-ignore: decorator
@inline function ctor_word(k: u32): u64 { return 0xC7C7_0000_5EED_0000 | <u64>k; }
const TAG_MAGIC: u64 = 0x5AB5;

// --- state -----------------------------------------------------------------------------------------

const caches: usize = memory.data(NCACHES * 4, 4);
// @ts-ignore: decorator
@inline function cache_at(k: i32): kmem_cache { return changetype<kmem_cache>(<usize>load<u32>(caches + <usize>(k * 4))); }

const held_area: usize = memory.data(<i32>(<usize>NR_CPUS * <usize>HELD_MAX * ENTRY), 8);
const rng_area: usize = memory.data(PRANDOM_STATE_SIZE, 8);
/** Per CPU: the next serial number of its tags. */
const serial_area: usize = memory.data(NR_CPUS * 8, 8);
/** The online CPUs, in order (bytes), and how many. */
const online_list: usize = memory.data(NR_CPUS, 8);
let nr_online: i32 = 0;
let lead_cpu: i32 = 0;

/** Per CPU: an inbox of objects handed over by other CPUs (remote case). */
const INBOX_LOCK: usize = 0;
const INBOX_COUNT: usize = 16;
const INBOX_SLOTS: usize = 24;
const INBOX_STRIDE: usize = INBOX_SLOTS + <usize>INBOX_MAX * ENTRY;
const inbox_area: usize = memory.data(<i32>(<usize>NR_CPUS * INBOX_STRIDE), 16);
// @ts-ignore: decorator
@inline function inbox_of(cpu: i32): usize { return inbox_area + <usize>cpu * INBOX_STRIDE; }
/** Per CPU: a received entry being freed. */
const rx_area: usize = memory.data(<i32>(<usize>NR_CPUS * ENTRY), 8);

/**
 * Per requesting CPU: an IPI exchange. +0 the entry to free, +24 the entry
 * of the new object, +48 its random bits, +56 status (1: a new object).
 */
const REQ_STRIDE: usize = 64;
const req_area: usize = memory.data(<i32>(<usize>NR_CPUS * REQ_STRIDE), 8);

// Shared statistics, updated atomically.
const NST: i32 = 24;
const st: usize = memory.data(NST * 8, 8);
const ST_ALLOCS: usize = 0;        // objects allocated (well formed), every kind
const ST_FREES: usize = 8;         // objects freed
const ST_FAILS: usize = 16;        // NULL returns
const ST_VIOLATIONS: usize = 24;   // bitmap: claimed while claimed, or released while not
const ST_TAG: usize = 32;          // a holder's tag overwritten
const ST_CONTENT: usize = 40;      // a fresh object not zero / poison / constructed as it should be
const ST_BAD: usize = 48;          // a fresh object not well formed (cache, alignment, ksize, zone, range)
const ST_TRACK: usize = 56;        // an alloc track naming the wrong CPU
const ST_PROGRESS: usize = 64;     // operations done, all CPUs
const ST_REMOTE: usize = 72;       // objects freed by another CPU than the one that allocated them
const ST_HANDOFF: usize = 80;      // objects handed over through an inbox
const ST_IPI: usize = 88;          // IPI exchanges
const ST_IRQ_ALLOCS: usize = 96;   // objects allocated in an IPI handler
const ST_SHRINKS: usize = 104;
const ST_REALLOC: usize = 112;     // krealloc calls
const ST_REALLOC_MOVED: usize = 120;
const ST_KM_ALLOC: usize = 128;    // kmalloc objects from the kmalloc caches (krealloc's included)
const ST_KM_FREE: usize = 136;
const ST_LARGE_ALLOC: usize = 144; // large kmalloc blocks
const ST_LARGE_FREE: usize = 152;
const ST_REPORTS: usize = 160;
const ST_ZALLOC: usize = 168;
const ST_RUNNING: usize = 176;     // threads still in their operation loop
/** Per kind: allocations, frees (u64 each); kmalloc counts every object, large ones too. */
const kind_st: usize = memory.data(NKINDS * 16, 8);

// @ts-ignore: decorator
@inline function st_add(off: usize, v: u64): void { atomic.add<u64>(st + off, v); }
// @ts-ignore: decorator
@inline function st_get(off: usize): u64 { return atomic.load<u64>(st + off); }
// @ts-ignore: decorator
@inline function kind_add(kind: i32, free: bool): void { atomic.add<u64>(kind_st + <usize>(kind * 16) + (free ? 8 : 0), 1); }
// @ts-ignore: decorator
@inline function kind_get(kind: i32, free: bool): u64 { return atomic.load<u64>(kind_st + <usize>(kind * 16) + (free ? 8 : 0)); }

/** What the threads read (set by the case before they start). */
let stress_ops: u32 = 1500;
let stress_remote: bool = false;

const done = memory.data(COMPLETION_SIZE, 16);
/** The start line: threads wait (yielding) until every thread exists. */
const go: usize = memory.data(4, 4);

// --- generator -------------------------------------------------------------------------------------

function rng_seed(cpu: i32, salt: u64): void { prandom_seed(rng_area, cpu, salt); }
function rnd(cpu: i32): u64 { return prandom_u64(rng_area, cpu); }

// --- diagnostics -----------------------------------------------------------------------------------

function report(what: string, p: usize, a: u64, b: u64): void {
  if (atomic.add<u64>(st + ST_REPORTS, 1) >= MAX_REPORTS) return;
  pr_err("    # slab_stress: %s: object %#x on CPU %d (%#lx %#lx)\n", changetype<usize>(what), p, smp_processor_id(), a, b);
}

// --- the ownership bitmap --------------------------------------------------------------------------

/**
 * One bit per 8-byte granule of low memory, [bm_base, bm_end): 64 bytes of
 * bitmap per page of memory, in chunks of bm_order pages (4 MiB cover
 * 256 MiB). Zeroing megabytes costs millions of instructions, so a page's
 * 64 bytes are zeroed when the page is first touched: pstate[page] (a u32
 * per page of memory, zeroed at the start) goes 0 → 1 (being zeroed, with
 * interrupts off so that no handler on this CPU waits for it) → 2 (ready).
 * The final scan visits only the pages in state 2.
 */
const MAX_CHUNKS: i32 = 8;
const chunk_pages: usize = memory.data(MAX_CHUNKS * 4, 4);
const chunk_va: usize = memory.data(MAX_CHUNKS * 4, 4);
let bm_chunks: i32 = 0;
let bm_order: u32 = 0;
/** log2 of the memory pages a chunk covers. */
let bm_page_shift: u32 = 0;
/** The bytes of memory the bitmap covers: [bm_base, bm_end). */
let bm_base: usize = 0;
let bm_end: usize = 0;
let pstate_pg: usize = 0;
let pstate_order: u32 = 0;
let pstate: usize = 0;
let bm_pages: u32 = 0;

const BITS_PER_PAGE_BYTES: usize = <usize>PAGE_SIZE / 64; // 64

/** The 64 bitmap bytes of memory page `pi` (an index from bm_base), zeroed on first use. */
function page_bits(pi: u32): usize {
  const ps = pstate + (<usize>pi << 2);
  const in_chunk: u32 = (<u32>1 << bm_page_shift) - 1;
  const bits = <usize>load<u32>(chunk_va + (<usize>(pi >> bm_page_shift) << 2)) + <usize>(pi & in_chunk) * BITS_PER_PAGE_BYTES;
  if (atomic.load<u32>(ps) != 2) {
    const flags = local_irq_save();
    if (atomic.cmpxchg<u32>(ps, 0, 1) == 0) {
      memory.fill(bits, 0, BITS_PER_PAGE_BYTES);
      atomic.store<u32>(ps, 2);
    } else {
      while (atomic.load<u32>(ps) != 2) { /* another CPU zeroes 64 bytes */ }
    }
    local_irq_restore(flags);
  }
  return bits;
}

/**
 * Set (claim) or clear (release) the bits of the granules of [p, p + len).
 * Returns false when one was already set (claim) or already clear (release).
 */
function bits_update(p: usize, len: u32, set: bool): bool {
  let g: u32 = <u32>((p - bm_base) >> 3);
  let n: u32 = (len + 7) >> 3;
  let ok = true;
  let cur_page: u32 = U32.MAX_VALUE;
  let bits: usize = 0;
  while (n > 0) {
    const w = g >> 5;
    const b = g & 31;
    let m: u32 = 32 - b;
    if (m > n) m = n;
    const mask: u32 = (m == 32 ? <u32>0xffff_ffff : ((<u32>1 << m) - 1)) << b;
    if ((w >> 4) != cur_page) { cur_page = w >> 4; bits = page_bits(cur_page); }
    const addr = bits + (<usize>(w & 15) << 2);
    if (set) {
      const old = atomic.or<u32>(addr, mask);
      if ((old & mask) != 0) ok = false;
    } else {
      const old = atomic.and<u32>(addr, ~mask);
      if ((old & mask) != mask) ok = false;
    }
    g += m;
    n -= m;
  }
  return ok;
}

function claim(owner: i32, p: usize, len: u32): void {
  if (!bits_update(p, len, true)) {
    st_add(ST_VIOLATIONS, 1);
    report("object handed out while another holder has (part of) it", p, <u64>len, <u64>owner);
  }
}

function release(p: usize, len: u32): void {
  if (!bits_update(p, len, false)) {
    st_add(ST_VIOLATIONS, 1);
    report("freeing an object whose ownership bits someone else cleared", p, <u64>len, 0);
  }
}

function order_for_bytes(bytes: u64): u32 {
  let order: u32 = 0;
  while ((<u64>PAGE_SIZE << order) < bytes) order++;
  return order;
}

/** Allocate the bitmap and the page states for low memory. False when they cannot be had. */
function bitmap_alloc(): bool {
  bm_base = <usize>(min_pfn << PAGE_SHIFT);
  bm_end = <usize>(lowmem_end_pfn << PAGE_SHIFT);
  bm_pages = <u32>((bm_end - bm_base) >> PAGE_SHIFT);
  const bytes: u64 = <u64>bm_pages * <u64>BITS_PER_PAGE_BYTES;
  bm_order = order_for_bytes(bytes);
  if (bm_order > MAX_ORDER - 1) bm_order = MAX_ORDER - 1;
  bm_page_shift = PAGE_SHIFT + bm_order - 6;
  const chunk_bytes: u64 = <u64>PAGE_SIZE << bm_order;
  bm_chunks = 0;
  pstate_order = order_for_bytes(<u64>bm_pages * 4);
  if (pstate_order > MAX_ORDER - 1) return false;
  const spg = alloc_pages(GFP_KERNEL | __GFP_NOWARN, pstate_order);
  if (changetype<usize>(spg) == 0) return false;
  pstate_pg = changetype<usize>(spg);
  pstate = page_address(spg);
  memory.fill(pstate, 0, <usize>bm_pages * 4);
  for (let got: u64 = 0; got < bytes; got += chunk_bytes) {
    if (bm_chunks >= MAX_CHUNKS) return false;
    const pg = alloc_pages(GFP_KERNEL | __GFP_NOWARN, bm_order);
    if (changetype<usize>(pg) == 0) return false;
    store<u32>(chunk_pages + <usize>(bm_chunks * 4), <u32>changetype<usize>(pg));
    store<u32>(chunk_va + <usize>(bm_chunks * 4), <u32>page_address(pg));
    bm_chunks++;
  }
  return true;
}

function bitmap_free(): void {
  for (let i = 0; i < bm_chunks; i++) __free_pages(changetype<page>(<usize>load<u32>(chunk_pages + <usize>(i * 4))), bm_order);
  bm_chunks = 0;
  if (pstate_pg != 0) __free_pages(changetype<page>(pstate_pg), pstate_order);
  pstate_pg = 0;
}

/** Pages of memory whose bits are not all clear (0 after a clean run), and how many pages were touched. */
let pages_touched: u32 = 0;
function bitmap_stray(): u32 {
  let stray: u32 = 0;
  pages_touched = 0;
  for (let pi: u32 = 0; pi < bm_pages; pi++) {
    if (load<u32>(pstate + (<usize>pi << 2)) == 0) continue;
    pages_touched++;
    const bits = page_bits(pi);
    let any: u64 = 0;
    for (let k: usize = 0; k < BITS_PER_PAGE_BYTES; k += 8) any |= load<u64>(bits + k);
    if (any != 0) stray++;
  }
  return stray;
}

// --- objects ---------------------------------------------------------------------------------------

/** The constructor of slab_stress-ctor192 (runs in new_slab, any context). */
const ctor_calls_ptr: usize = memory.data(8, 8);
function stress_ctor(obj: usize): void {
  atomic.add<u64>(ctor_calls_ptr, 1);
  for (let k: u32 = 0; k < CTOR_WORDS; k++) store<u64>(obj + (<usize>k << 3), ctor_word(k));
}

function ctor_intact(p: usize): bool {
  for (let k: u32 = 0; k < CTOR_WORDS; k++) if (load<u64>(p + (<usize>k << 3)) != ctor_word(k)) return false;
  return true;
}

/** Are the n bytes at p (8-aligned) all v? */
function bytes_are(p: usize, n: u32, v: u8): bool {
  const v64: u64 = <u64>v * 0x0101_0101_0101_0101;
  let i: u32 = 0;
  for (; i + 8 <= n; i += 8) if (load<u64>(p + <usize>i) != v64) return false;
  for (; i < n; i++) if (load<u8>(p + <usize>i) != v) return false;
  return true;
}

/** The size of a kmalloc request: mostly small, some up to 8 KiB, a few large blocks. */
function kmalloc_size_of(r: u64): u32 {
  const sel = <u32>(r & 31);
  const v = r >> 5;
  if (sel < 16) return 1 + <u32>(v % 128);
  if (sel < 26) return 129 + <u32>(v % 896);
  if (sel < 30) return 1025 + <u32>(v % 7168);
  return KMALLOC_MAX_CACHE_SIZE + 1 + <u32>(v % 12000);
}

// @ts-ignore: decorator
@inline function e_ptr(e: usize): usize { return <usize>load<u32>(e); }
// @ts-ignore: decorator
@inline function e_size(e: usize): u32 { return load<u32>(e, 4); }
// @ts-ignore: decorator
@inline function e_tag(e: usize): u64 { return load<u64>(e, 8); }
// @ts-ignore: decorator
@inline function e_claim(e: usize): u32 { return load<u32>(e, 16); }
// @ts-ignore: decorator
@inline function e_kind(e: usize): i32 { return <i32>load<u8>(e, 20); }
// @ts-ignore: decorator
@inline function e_cpu(e: usize): i32 { return <i32>load<u8>(e, 21); }
// @ts-ignore: decorator
@inline function e_dma(e: usize): bool { return load<u8>(e, 22) != 0; }
// @ts-ignore: decorator
@inline function tail_off(size: u32): usize { return <usize>((size - 8) & ~<u32>7); }

/** Is p, just allocated, a well-formed object of its kind? */
function well_formed(kind: i32, p: usize, size: u32, gfp: gfp_t): bool {
  if (p < bm_base || p + <usize>size > bm_end) return false;
  const slab = virt_to_slab(p);
  if (kind < NCACHES) {
    const s = cache_at(kind);
    if ((p & <usize>(s.align - 1)) != 0) return false;
    if (changetype<usize>(slab) == 0 || slab_cache_of(slab) !== s) return false;
    if (kind == K_DMA && page_zonenum(virt_to_page(p)) != ZONE_DMA) return false;
    return true;
  }
  if (size > KMALLOC_MAX_CACHE_SIZE) {
    if ((p & <usize>(PAGE_SIZE - 1)) != 0 || changetype<usize>(slab) != 0) return false;
    return ksize(p) == (<usize>PAGE_SIZE << get_order(<u64>size));
  }
  if ((p & 7) != 0) return false;
  if (changetype<usize>(slab) == 0 || slab_cache_of(slab) !== kmalloc_slab(<usize>size, gfp)) return false;
  if (ksize(p) < <usize>size) return false;
  if ((gfp & __GFP_DMA) != 0 && page_zonenum(virt_to_page(p)) != ZONE_DMA) return false;
  return true;
}

/** Bytes of the object its holder owns: the cache's object, or what ksize says for kmalloc. */
function claim_len(kind: i32, p: usize, size: u32): u32 {
  if (kind < NCACHES) return (size + 7) & ~<u32>7;
  return <u32>ksize(p);
}

function new_tag(owner: i32): u64 {
  const sp = serial_area + (<usize>owner << 3);
  const serial = load<u64>(sp);
  store<u64>(sp, serial + 1);
  return (TAG_MAGIC << 48) | (<u64>owner << 40) | (serial & 0xff_ffff_ffff);
}

function write_tags(p: usize, size: u32, tag: u64): void {
  store<u64>(p, tag);
  if (size >= 16) store<u64>(p + tail_off(size), ~tag);
}

/** Are the holder's tags still in the object of entry e? */
function tags_intact(e: usize): bool {
  const p = e_ptr(e);
  const size = e_size(e);
  const tag = e_tag(e);
  const a = load<u64>(p);
  const b = size >= 16 ? load<u64>(p + tail_off(size)) : ~tag;
  if (a == tag && b == ~tag) return true;
  st_add(ST_TAG, 1);
  report("the holder's tag was overwritten", p, a, b);
  return false;
}

function pick_kind(r: u64): i32 { return <i32>(r % <u64>NKINDS); }

/**
 * Allocate an object of `kind` on this CPU (`exec`) for `owner`, check it,
 * claim it, tag it, and describe it in entry e. `in_irq`: GFP_ATOMIC only.
 * Returns false when there is no object to hold (NULL, or a malformed one,
 * which is left allocated: freeing it could hide the damage).
 */
function make_object(exec: i32, owner: i32, kind: i32, r: u64, in_irq: bool, e: usize): bool {
  let gfp: gfp_t = in_irq || ((r >> 20) & 3) == 0 ? GFP_ATOMIC : GFP_KERNEL;
  gfp |= __GFP_NOWARN;
  // Zeroing a constructed object would undo its constructor: never for the ctor cache.
  const zero = ((r >> 23) & 7) == 0 && kind != K_CTOR;
  let p: usize = 0;
  let size: u32 = 0;
  let dma = false;
  if (kind < NCACHES) {
    const s = cache_at(kind);
    size = s.object_size;
    p = zero ? kmem_cache_zalloc(s, gfp) : kmem_cache_alloc(s, gfp);
  } else {
    size = kmalloc_size_of(r >> 32);
    dma = size <= KMALLOC_MAX_CACHE_SIZE && ((r >> 26) & 7) == 0;
    if (dma) gfp |= __GFP_DMA;
    p = zero ? kzalloc(<usize>size, gfp) : kmalloc(<usize>size, gfp);
  }
  if (p == 0) {
    st_add(ST_FAILS, 1);
    report("allocation failed", 0, <u64>kind, <u64>size);
    return false;
  }
  if (!well_formed(kind, p, size, gfp)) {
    st_add(ST_BAD, 1);
    report("not a well-formed object of its kind", p, <u64>kind, <u64>size);
    return false;
  }
  const len = claim_len(kind, p, size);
  claim(owner, p, len);
  let content_ok = true;
  if (zero) {
    st_add(ST_ZALLOC, 1);
    content_ok = bytes_are(p, size, 0);
  } else if (kind == K_POISON) {
    content_ok = bytes_are(p, size - 1, POISON_FREE) && load<u8>(p + <usize>(size - 1)) == POISON_END;
  } else if (kind == K_CTOR) {
    content_ok = ctor_intact(p);
  }
  if (!content_ok) {
    st_add(ST_CONTENT, 1);
    report("a fresh object is not zero / poison / constructed", p, <u64>kind, load<u64>(p));
  }
  const tag = new_tag(owner);
  write_tags(p, size, tag);
  store<u32>(e, <u32>p);
  store<u32>(e, size, 4);
  store<u64>(e, tag, 8);
  store<u32>(e, len, 16);
  store<u8>(e, <u8>kind, 20);
  store<u8>(e, <u8>exec, 21);
  store<u8>(e, dma ? 1 : 0, 22);
  store<u8>(e, 0, 23);
  st_add(ST_ALLOCS, 1);
  kind_add(kind, false);
  if (kind == K_KMALLOC) st_add(size > KMALLOC_MAX_CACHE_SIZE ? ST_LARGE_ALLOC : ST_KM_ALLOC, 1);
  if (in_irq) st_add(ST_IRQ_ALLOCS, 1);
  return true;
}

/** Is p in a slab (else a large kmalloc block)? */
// @ts-ignore: decorator
@inline function is_slab_object(p: usize): bool { return changetype<usize>(virt_to_slab(p)) != 0; }

/** Check the holder's tags, give the ownership up and free the object of entry e, on CPU `exec`. */
function drop_object(exec: i32, e: usize): void {
  const p = e_ptr(e);
  const kind = e_kind(e);
  tags_intact(e);
  if (kind == K_TRACK) {
    const s = cache_at(kind);
    if (!slab_track_valid(s, p, TRACK_ALLOC) || slab_track_cpu(s, p, TRACK_ALLOC) != e_cpu(e)) {
      st_add(ST_TRACK, 1);
      report("the alloc track names another CPU", p, <u64>slab_track_cpu(s, p, TRACK_ALLOC), <u64>e_cpu(e));
    }
  }
  if (kind == K_CTOR) {
    for (let k: u32 = 0; k < CTOR_WORDS; k++) store<u64>(p + (<usize>k << 3), ctor_word(k)); // back constructed
  }
  release(p, e_claim(e));
  if (kind < NCACHES) {
    kmem_cache_free(cache_at(kind), p);
  } else {
    st_add(is_slab_object(p) ? ST_KM_FREE : ST_LARGE_FREE, 1);
    kfree(p);
  }
  if (e_cpu(e) != exec) st_add(ST_REMOTE, 1);
  st_add(ST_FREES, 1);
  kind_add(kind, true);
}

/** krealloc a held kmalloc object to a new size; the entry follows it. */
function realloc_object(cpu: i32, e: usize, r: u64): void {
  const p = e_ptr(e);
  const size = e_size(e);
  const tag = e_tag(e);
  tags_intact(e);
  const new_size = kmalloc_size_of(r);
  let gfp: gfp_t = GFP_KERNEL | __GFP_NOWARN;
  if (e_dma(e)) gfp |= __GFP_DMA;
  st_add(ST_REALLOC, 1);
  const old_slab = is_slab_object(p); // a large block shrunk in place stays one, whatever its new size
  release(p, e_claim(e));
  const q = krealloc(p, <usize>new_size, gfp);
  if (q == 0) {
    st_add(ST_FAILS, 1);
    report("krealloc failed", p, <u64>size, <u64>new_size);
    claim(cpu, p, e_claim(e));
    return;
  }
  if (q != p) {
    st_add(ST_REALLOC_MOVED, 1);
    st_add(old_slab ? ST_KM_FREE : ST_LARGE_FREE, 1);
    if (!well_formed(K_KMALLOC, q, new_size, gfp)) {
      st_add(ST_BAD, 1);
      report("krealloc: not a well-formed kmalloc object", q, <u64>size, <u64>new_size);
    }
    st_add(new_size > KMALLOC_MAX_CACHE_SIZE ? ST_LARGE_ALLOC : ST_KM_ALLOC, 1);
  }
  const len = claim_len(K_KMALLOC, q, new_size);
  claim(cpu, q, len);
  // The contents moved with the object: the tag is there.
  if (load<u64>(q) != tag) {
    st_add(ST_TAG, 1);
    report("krealloc lost the contents", q, load<u64>(q), tag);
  }
  write_tags(q, new_size, tag);
  store<u32>(e, <u32>q);
  store<u32>(e, new_size, 4);
  store<u32>(e, len, 16);
  store<u8>(e, <u8>cpu, 21); // the object's current home: a moved one was allocated here
}

// --- moving objects between CPUs -------------------------------------------------------------------

/** Hand entry e to CPU `target`'s inbox. False when the inbox is full (the caller keeps the object). */
function hand_over(e: usize, target: i32): bool {
  tags_intact(e); // intact while this CPU held it
  const ib = inbox_of(target);
  const flags = spin_lock_irqsave(changetype<spinlock_t>(ib + INBOX_LOCK));
  const n = load<u32>(ib, INBOX_COUNT);
  if (n >= INBOX_MAX) {
    spin_unlock_irqrestore(changetype<spinlock_t>(ib + INBOX_LOCK), flags);
    return false;
  }
  memory.copy(ib + INBOX_SLOTS + <usize>n * ENTRY, e, ENTRY);
  store<u32>(ib, n + 1, INBOX_COUNT);
  spin_unlock_irqrestore(changetype<spinlock_t>(ib + INBOX_LOCK), flags);
  st_add(ST_HANDOFF, 1);
  return true;
}

/** Free up to `max` objects other CPUs handed to this one (max < 0: all). Returns how many. */
function drain_inbox(cpu: i32, max: i32): i32 {
  const ib = inbox_of(cpu);
  const rx = rx_area + <usize>cpu * ENTRY;
  let got = 0;
  while (max < 0 || got < max) {
    const flags = spin_lock_irqsave(changetype<spinlock_t>(ib + INBOX_LOCK));
    const n = load<u32>(ib, INBOX_COUNT);
    if (n == 0) { spin_unlock_irqrestore(changetype<spinlock_t>(ib + INBOX_LOCK), flags); break; }
    memory.copy(rx, ib + INBOX_SLOTS + <usize>(n - 1) * ENTRY, ENTRY);
    store<u32>(ib, n - 1, INBOX_COUNT);
    spin_unlock_irqrestore(changetype<spinlock_t>(ib + INBOX_LOCK), flags);
    drop_object(cpu, rx);
    got++;
  }
  return got;
}

/** IPI handler: free the requester's object here, and allocate it a new one (interrupt context). */
function exchange_ipi(arg: u64): void {
  const owner = <i32>arg;
  const req = req_area + <usize>owner * REQ_STRIDE;
  const me = smp_processor_id();
  drop_object(me, req);
  const r = load<u64>(req, 48);
  const ok = make_object(me, owner, pick_kind(r), r >> 3, true, req + 24);
  store<u32>(req, ok ? 1 : 0, 56);
}

/** Ask `target` (by IPI) to free entry e and allocate a replacement. True when e now holds the new object. */
function exchange(cpu: i32, e: usize, target: i32): bool {
  const req = req_area + <usize>cpu * REQ_STRIDE;
  tags_intact(e);
  memory.copy(req, e, ENTRY);
  store<u64>(req, rnd(cpu), 48);
  store<u32>(req, 0, 56);
  st_add(ST_IPI, 1);
  if (smp_call_function_single(target, exchange_ipi, <u64>cpu, true) != 0) {
    report("smp_call_function_single failed", e_ptr(e), <u64>target, 0);
    drop_object(cpu, e); // the object is still ours
    return false;
  }
  if (load<u32>(req, 56) == 0) return false;
  memory.copy(e, req + 24, ENTRY);
  return true;
}

function other_cpu(cpu: i32, r: u64): i32 {
  let i = <i32>(r % <u64>nr_online);
  let t = <i32>load<u8>(online_list + <usize>i);
  if (t == cpu) t = <i32>load<u8>(online_list + <usize>((i + 1) % nr_online));
  return t;
}

// --- the threads -----------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function entry_of(cpu: i32, i: u32): usize { return held_area + (<usize>cpu * <usize>HELD_MAX + <usize>i) * ENTRY; }

function stress_thread(arg: u64): i32 {
  const cpu = <i32>arg;
  let n: u32 = 0;
  while (atomic.load<u32>(go) == 0) sched_yield();
  for (let op: u32 = 0; op < stress_ops; op++) {
    if (stress_remote) drain_inbox(cpu, INBOX_BATCH);
    const r = rnd(cpu);
    // Phases of 64 operations: growing (75 % allocations), then shrinking (30 %).
    const pct: u64 = ((op >> 6) & 1) == 0 ? 75 : 30;
    if (n == 0 || (n < HELD_MAX && (r % 100) < pct)) {
      if (make_object(cpu, cpu, pick_kind(r >> 8), rnd(cpu), false, entry_of(cpu, n))) n++;
    } else {
      const i = <u32>((r >> 8) % <u64>n);
      const e = entry_of(cpu, i);
      const action = <u32>((r >> 24) & 15);
      let keep = false;
      if (stress_remote && action < 4) {
        if (!hand_over(e, other_cpu(cpu, r >> 32))) drop_object(cpu, e);
      } else if (stress_remote && action == 4) {
        keep = exchange(cpu, e, other_cpu(cpu, r >> 32));
      } else if (action == 5 && e_kind(e) == K_KMALLOC) {
        realloc_object(cpu, e, r >> 32);
        keep = true;
      } else {
        drop_object(cpu, e);
      }
      if (!keep) {
        n--;
        if (i != n) memory.copy(e, entry_of(cpu, n), ENTRY);
      }
    }
    if (cpu == lead_cpu && (op % SHRINK_EVERY) == SHRINK_EVERY - 1) {
      kmem_cache_shrink(cache_at(<i32>((r >> 40) % <u64>NCACHES)));
      st_add(ST_SHRINKS, 1);
    }
    if ((op & 63) == 63) st_add(ST_PROGRESS, 64);
  }
  while (n > 0) { n--; drop_object(cpu, entry_of(cpu, n)); }
  atomic.sub<u64>(st + ST_RUNNING, 1);
  if (stress_remote) {
    // Objects may still arrive until every thread has left its loop.
    while (true) {
      const last = st_get(ST_RUNNING) == 0;
      drain_inbox(cpu, -1);
      if (last) break;
      sched_yield();
    }
  }
  complete(done);
  return 0;
}

/** Start one thread per online CPU; wait while they make progress. Returns whether all finished. */
function run_threads(test: kunit): bool {
  init_completion(done);
  atomic.store<u32>(go, 0);
  atomic.store<u64>(st + ST_RUNNING, <u64>nr_online);
  let started = 0;
  for (let i = 0; i < nr_online; i++) {
    const cpu = <i32>load<u8>(online_list + <usize>i);
    if (changetype<usize>(kthread_run_on_cpu(stress_thread, <u64>cpu, cpu, "slab_stress")) != 0) started++;
  }
  if (started != nr_online) atomic.sub<u64>(st + ST_RUNNING, <u64>(nr_online - started));
  atomic.store<u32>(go, 1);
  KUNIT_EXPECT_EQ(test, started, nr_online);
  // Wait while the threads make progress; give up after 20 s (machine time)
  // without any (a hang), not after a fixed time.
  let finished = 0;
  let stalled = 0;
  let last = st_get(ST_PROGRESS) + st_get(ST_FREES);
  while (finished < started && stalled < 20) {
    if (wait_for_completion_timeout(done, <u64>HZ) != 0) { finished++; stalled = 0; continue; }
    const now = st_get(ST_PROGRESS) + st_get(ST_FREES);
    if (now == last) stalled++; else { stalled = 0; last = now; }
  }
  return KUNIT_ASSERT_EQ(test, finished, started);
}

// --- the cases -------------------------------------------------------------------------------------

/** Per kmalloc cache [type][index]: live objects, allocations, frees at the start (i64 each). */
const NKM: i32 = NR_KMALLOC_TYPES * (<i32>KMALLOC_SHIFT_HIGH + 1);
const km_before: usize = memory.data(NKM * 24, 8);
const reports_before: usize = memory.data(64, 8);
const OFF_ALLOC_FAST = offsetof<kmem_cache_cpu>("alloc_fastpath");
const OFF_ALLOC_SLOW = offsetof<kmem_cache_cpu>("alloc_slowpath");
const OFF_FREE_FAST = offsetof<kmem_cache_cpu>("free_fastpath");
const OFF_FREE_SLOW = offsetof<kmem_cache_cpu>("free_slowpath");
const OFF_ALLOC_SLAB = offsetof<kmem_cache_cpu>("alloc_slab");
const info = changetype<slabinfo>(memory.data(offsetof<slabinfo>(), 8));

function stat_allocs(s: kmem_cache): u64 { return kmem_cache_stat(s, OFF_ALLOC_FAST) + kmem_cache_stat(s, OFF_ALLOC_SLOW); }
function stat_frees(s: kmem_cache): u64 { return kmem_cache_stat(s, OFF_FREE_FAST) + kmem_cache_stat(s, OFF_FREE_SLOW); }

/** Shrink every kmalloc cache and the descriptor cache, then drain the page lists: nr_free_pages. */
function settled_free_pages(): u64 {
  for (let t = 0; t < NR_KMALLOC_TYPES; t++) {
    for (let i = 1; i <= <i32>KMALLOC_SHIFT_HIGH; i++) {
      const s = kmalloc_cache(t, i);
      if (changetype<usize>(s) != 0) kmem_cache_shrink(s);
    }
  }
  kmem_cache_shrink(kmem_cache_cache());
  drain_all_pages();
  return nr_free_pages();
}

function run_stress(test: kunit, remote: bool): void {
  nr_online = 0;
  for (let cpu = 0; cpu < nr_cpu_ids && cpu < NR_CPUS; cpu++) {
    if (!cpu_online(cpu)) continue;
    store<u8>(online_list + <usize>nr_online, <u8>cpu);
    nr_online++;
  }
  if (remote && nr_online < 2) {
    kunit_skip(test, "one CPU online: no other CPU to free on (SLUB's remote free path needs two)");
    return;
  }
  lead_cpu = <i32>load<u8>(online_list);
  const ops = cmdline_get_int("slab_stress.ops", DEFAULT_OPS);
  stress_ops = <u32>(ops < 1 ? 1 : ops > 1_000_000 ? 1_000_000 : ops);
  stress_remote = remote;
  const seed = <u64>cmdline_get_int("slab_stress.seed", 0);

  // Where everything starts.
  const caches0 = kmem_cache_count();
  const free0 = settled_free_pages();
  for (let t = 0; t < NR_KMALLOC_TYPES; t++) {
    for (let i = 0; i <= <i32>KMALLOC_SHIFT_HIGH; i++) {
      const s = kmalloc_cache(t, i);
      const b = km_before + <usize>((t * (<i32>KMALLOC_SHIFT_HIGH + 1) + i) * 24);
      store<i64>(b, changetype<usize>(s) != 0 ? kmem_cache_live_objects(s) : 0);
      store<u64>(b, changetype<usize>(s) != 0 ? stat_allocs(s) : 0, 8);
      store<u64>(b, changetype<usize>(s) != 0 ? stat_frees(s) : 0, 16);
    }
  }
  const large_allocs0 = kmalloc_large_stats(LARGE_ALLOCS);
  const large_frees0 = kmalloc_large_stats(LARGE_FREES);
  const large_pages0 = kmalloc_large_stats(LARGE_PAGES);
  memory.copy(reports_before, changetype<usize>(slub_reports), offsetof<slub_report_counts>());
  const sleep0 = might_sleep_count();
  const bad0 = bad_page_count;
  const warn0 = alloc_fail_warnings;

  memory.fill(st, 0, NST * 8);
  memory.fill(kind_st, 0, NKINDS * 16);
  atomic.store<u64>(ctor_calls_ptr, 0);
  for (let k = 0; k < NCACHES; k++) {
    const s = kmem_cache_create(CACHE_NAMES[k], cache_size(k), cache_align(k), cache_flags(k),
      k == K_CTOR ? changetype<usize>(stress_ctor) : 0);
    store<u32>(caches + <usize>(k * 4), <u32>changetype<usize>(s));
    if (!KUNIT_ASSERT_TRUE(test, changetype<usize>(s) != 0)) {
      for (let j = 0; j < k; j++) kmem_cache_destroy(cache_at(j));
      return;
    }
  }
  if (!KUNIT_ASSERT_TRUE(test, bitmap_alloc())) {
    bitmap_free();
    for (let k = 0; k < NCACHES; k++) kmem_cache_destroy(cache_at(k));
    return;
  }
  for (let cpu = 0; cpu < NR_CPUS; cpu++) {
    rng_seed(cpu, (remote ? 0x5245_4d4f_5445_0000 : 0x4c4f_4341_4c00_0000) ^ (seed * 0xff51_afd7_ed55_8ccd));
    store<u64>(serial_area + (<usize>cpu << 3), 0);
    spin_lock_init(changetype<spinlock_t>(inbox_of(cpu) + INBOX_LOCK));
    store<u32>(inbox_of(cpu), 0, INBOX_COUNT);
  }

  if (!run_threads(test)) return; // threads still running: leave everything as it is

  const stray = bitmap_stray();
  bitmap_free();

  const allocs = st_get(ST_ALLOCS), frees = st_get(ST_FREES);
  pr_info("    # slab_stress: %d CPUs x %u ops: %lu objects (%lu kmalloc, %lu large, %lu zeroed), %lu freed, %lu by another CPU\n",
    nr_online, stress_ops, allocs, st_get(ST_KM_ALLOC), st_get(ST_LARGE_ALLOC), st_get(ST_ZALLOC), frees, st_get(ST_REMOTE));
  pr_info("    # slab_stress: %lu handed over, %lu IPI exchanges (%lu allocated in the handler), %lu krealloc (%lu moved), %lu shrinks, %u pages touched\n",
    st_get(ST_HANDOFF), st_get(ST_IPI), st_get(ST_IRQ_ALLOCS), st_get(ST_REALLOC), st_get(ST_REALLOC_MOVED), st_get(ST_SHRINKS), pages_touched);

  // What the threads saw.
  KUNIT_EXPECT_EQ(test, st_get(ST_VIOLATIONS), 0);
  KUNIT_EXPECT_EQ(test, st_get(ST_TAG), 0);
  KUNIT_EXPECT_EQ(test, st_get(ST_CONTENT), 0);
  KUNIT_EXPECT_EQ(test, st_get(ST_BAD), 0);
  KUNIT_EXPECT_EQ(test, st_get(ST_TRACK), 0);
  KUNIT_EXPECT_EQ(test, st_get(ST_FAILS), 0); // memory is plentiful: a failure is a bug
  KUNIT_EXPECT_EQ(test, stray, 0);
  KUNIT_EXPECT_EQ(test, allocs, frees);
  KUNIT_EXPECT_GT(test, allocs, <u64>stress_ops * <u64>nr_online / 4);
  // What the run must have exercised, once it is long enough to (see COVERAGE_OPS).
  const covered = stress_ops >= COVERAGE_OPS;
  if (remote) {
    if (covered) {
      KUNIT_EXPECT_GT(test, st_get(ST_REMOTE), 0);
      KUNIT_EXPECT_GT(test, st_get(ST_HANDOFF), 0);
      KUNIT_EXPECT_GT(test, st_get(ST_IPI), 0);
      KUNIT_EXPECT_GT(test, st_get(ST_IRQ_ALLOCS), 0);
    }
  } else {
    KUNIT_EXPECT_EQ(test, st_get(ST_REMOTE), 0); // every object freed where it was allocated
  }

  // Each cache: nothing live, SLUB's statistics equal to the threads' operations, nothing left after a shrink.
  for (let k = 0; k < NCACHES; k++) {
    const s = cache_at(k);
    KUNIT_EXPECT_EQ(test, kmem_cache_live_objects(s), 0);
    KUNIT_EXPECT_EQ(test, stat_allocs(s), kind_get(k, false));
    KUNIT_EXPECT_EQ(test, stat_frees(s), kind_get(k, true));
    if (covered) KUNIT_EXPECT_GT(test, kind_get(k, false), 0);
    if (k == K_CTOR) {
      // The constructor ran once for every object of every slab made (all at the preferred order, or counted).
      const slabs = kmem_cache_stat(s, OFF_ALLOC_SLAB);
      if (s.order_fallback == 0) KUNIT_EXPECT_EQ(test, atomic.load<u64>(ctor_calls_ptr), slabs * <u64>s.oo_objects);
      else KUNIT_EXPECT_TRUE(test, atomic.load<u64>(ctor_calls_ptr) >= slabs * <u64>s.min_objects);
    }
    KUNIT_EXPECT_EQ(test, kmem_cache_shrink(s), 0);
    KUNIT_EXPECT_EQ(test, kmem_cache_nr_slabs(s), 0);
    get_slabinfo(s, info);
    KUNIT_EXPECT_EQ(test, info.num_objs, 0);
    KUNIT_EXPECT_EQ(test, info.active_objs, 0);
    KUNIT_EXPECT_EQ(test, s.destroy_failed, 0);
    kmem_cache_destroy(s);
    KUNIT_EXPECT_TRUE(test, !kmem_cache_exists(s));
    store<u32>(caches + <usize>(k * 4), 0);
  }
  KUNIT_EXPECT_EQ(test, kmem_cache_count(), caches0);

  // The kmalloc caches: live objects as before, statistics moved by the threads' kmallocs exactly.
  let d_alloc: u64 = 0, d_free: u64 = 0;
  let live_moved = 0;
  for (let t = 0; t < NR_KMALLOC_TYPES; t++) {
    for (let i = 0; i <= <i32>KMALLOC_SHIFT_HIGH; i++) {
      const s = kmalloc_cache(t, i);
      if (changetype<usize>(s) == 0) continue;
      const b = km_before + <usize>((t * (<i32>KMALLOC_SHIFT_HIGH + 1) + i) * 24);
      if (kmem_cache_live_objects(s) != load<i64>(b)) {
        live_moved++;
        pr_err("    # slab_stress: %s: %ld live objects, %ld before\n", <u64>s.name, kmem_cache_live_objects(s), load<i64>(b));
      }
      d_alloc += stat_allocs(s) - load<u64>(b, 8);
      d_free += stat_frees(s) - load<u64>(b, 16);
    }
  }
  KUNIT_EXPECT_EQ(test, live_moved, 0);
  KUNIT_EXPECT_EQ(test, d_alloc, st_get(ST_KM_ALLOC));
  KUNIT_EXPECT_EQ(test, d_free, st_get(ST_KM_FREE));
  KUNIT_EXPECT_EQ(test, kmalloc_large_stats(LARGE_ALLOCS) - large_allocs0, st_get(ST_LARGE_ALLOC));
  KUNIT_EXPECT_EQ(test, kmalloc_large_stats(LARGE_FREES) - large_frees0, st_get(ST_LARGE_FREE));
  KUNIT_EXPECT_EQ(test, kmalloc_large_stats(LARGE_PAGES), large_pages0);

  // No report of any kind, no sleeping in atomic context, no bad page, no failure warning.
  let reports_moved = 0;
  for (let off: usize = 0; off < offsetof<slub_report_counts>(); off += 4) {
    const now = load<u32>(changetype<usize>(slub_reports) + off);
    const then = load<u32>(reports_before + off);
    if (now != then) {
      reports_moved++;
      pr_err("    # slab_stress: SLUB report counter at +%u went from %u to %u\n", <u32>off, then, now);
    }
  }
  KUNIT_EXPECT_EQ(test, reports_moved, 0);
  KUNIT_EXPECT_EQ(test, might_sleep_count(), sleep0);
  KUNIT_EXPECT_EQ(test, bad_page_count, bad0);
  KUNIT_EXPECT_EQ(test, alloc_fail_warnings, warn0);

  // Every page back: the caches destroyed, the kmalloc and descriptor caches shrunk.
  KUNIT_EXPECT_EQ(test, settled_free_pages(), free0);
}

function slab_stress_local(test: kunit): void { run_stress(test, false); }
function slab_stress_remote(test: kunit): void { run_stress(test, true); }

export function register_slab_stress_tests(): void {
  kunit_suite("slab_stress");
  kunit_case("slab_stress_local", slab_stress_local);
  kunit_case("slab_stress_remote", slab_stress_remote);
}
