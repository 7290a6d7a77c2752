/**
 * The slab allocator, SLUB-style (Linux mm/slub.c and the cache side of
 * mm/slab_common.c, as of 6.1; the debug reports in the 4.19 shape, with
 * their INFO: lines): caches of equal-sized objects carved out of blocks
 * from the page allocator.
 *
 * A cache (struct kmem_cache, one descriptor, itself an object of the
 * cache "kmem_cache"):
 *
 *   kmem_cache ┬ header      name, object_size, size (the stride), inuse,
 *              │             offset (free pointer), align, red_left_pad,
 *              │             flags, allocflags, ctor, oo (preferred order
 *              │             and its objects), min (fallback), min_partial
 *              ├ node[MAX_NUMNODES]   list_lock ─┬─ partial ⇄ slab ⇄ slab …
 *              │                                 └─ full    ⇄ slab …
 *              │                      nr_partial, nr_full, nr_slabs, total_objects
 *              ├ cpu_slab ──────────▶ per-CPU kmem_cache_cpu (alloc_percpu)
 *              └ cpu_slab[nr_cpu_ids] the boot caches' embedded copies
 *
 *   kmem_cache_cpu: freelist ─▶ obj ─▶ obj ─▶ 0   (this CPU's, no lock)
 *                   slab (frozen: on no list)
 *                   statistics (ALLOC_FASTPATH …)
 *
 * Where the kmem_cache_cpu live: a cache made by kmem_cache_create gets
 * them from the per-CPU allocator, as Linux (s->cpu_slab =
 * alloc_percpu(struct kmem_cache_cpu), mm/percpu.ts), freed by
 * kmem_cache_destroy. The boot caches (the kmem_cache cache, whose static
 * bootstrap descriptor is copied into its own slab, and kmalloc's,
 * create_boot_cache with GFP_NOWAIT) keep an array of nr_cpus entries
 * embedded after node[]: s.cpu_slab == 0 says so. Every descriptor keeps
 * room for that array (they are all objects of the one kmem_cache cache).
 * cpu_slab_of(s, cpu) and this_cpu_slab(s) hide the difference.
 *
 * A slab is a block of 2^order pages; its struct page carries the slab
 * fields (slab_cache, freelist, inuse, frozen; see mm/page.ts). Objects
 * are laid out at a fixed stride, free ones chained through a free pointer
 * at s.offset inside (or, see below, after) each object:
 *
 *   page_address ─▶ │ obj 0 │ obj 1 │ obj 2 │ … │ obj n-1 │ leftover │
 *                    ◀ size ▶
 *
 * Allocation (slab_alloc):
 *   fast path   interrupts off on this CPU (what SLUB's this_cpu_cmpxchg
 *               stands for); pop cpu_slab[cpu].freelist.
 *   slow path   the CPU's slab's own freelist (objects other CPUs freed into
 *               it meanwhile), taken under the node's list_lock; else the
 *               exhausted slab is unfrozen (to the full list) and the first
 *               partial slab frozen in its place; else a new slab from the
 *               page allocator (interrupts back as the caller had them, so
 *               GFP_KERNEL may sleep), set up object by object (debug
 *               patterns, then the constructor) and frozen for this CPU.
 * Freeing (kmem_cache_free):
 *   fast path   the object belongs to this CPU's slab: push it on the CPU
 *               freelist, interrupts off, no lock.
 *   slow path   under list_lock: push it on its slab's freelist; a full
 *               slab moves to the partial list, an empty one is given back
 *               to the page allocator once the node keeps min_partial
 *               partial slabs (5 … 10, from the object size, as Linux).
 * kmem_cache_shrink and kmem_cache_destroy first flush every CPU's slab
 * (an IPI to each: flush_all), then give empty slabs back.
 *
 * Sizes and orders (Linux calculate_sizes, calculate_order): the stride is
 * the object size rounded to 8 bytes and to the alignment (align,
 * ARCH_SLAB_MINALIGN 8, SLAB_HWCACHE_ALIGN: the 64-byte line halved while
 * the object fits in half of it); the order is the smallest that holds
 * min_objects = 4·(fls(nr_cpu_ids) + 1) objects with at most 1/16 (then
 * 1/8, 1/4) of the slab left over, up to order 3 (slub_max_order), fewer
 * objects when that fails. The free pointer sits in the middle of the
 * object (6.1), after it when a constructor or poisoning must keep the
 * object's bytes.
 *
 * Debugging (per cache flag, or slub_debug=<FZPU…>[,cache[,cache…]][;…]
 * on the command line; `slub_debug` alone is FZPU for every cache; a name
 * may end in '*'). A debug cache takes no fast path: every allocation and
 * free runs under list_lock with the checks, and its free pointer always
 * lies outside the object, so that in an allocated object the slot holds
 * the object's state (OBJ_ACTIVE, or OBJ_ISOLATED once a report took it
 * out of use):
 *
 *   p - red_left_pad   p                p+object_size   p+inuse   p+offset   +8
 *   │ left redzone     │ object         │ right redzone │ (pad)   │ free ptr │ track[ALLOC] │ track[FREE] │ padding │
 *                       0x6b … 0x6b 0xa5  0xbb free / 0xcc allocated           (SLAB_STORE_USER)
 *
 *   SLAB_POISON     free (and freshly allocated) objects are 0x6b ending in
 *                   0xa5, checked when the object is allocated; padding 0x5a
 *   SLAB_RED_ZONE   8+ bytes either side, 0xbb while free, 0xcc while
 *                   allocated, checked on allocation and on free
 *   SLAB_STORE_USER who allocated / freed: the call site and 4 frames
 *                   above it, CPU, pid, jiffies (the API functions are
 *                   @inline wrappers that pass the caller's sp_read() down,
 *                   see save_caller_stack)
 *   SLAB_CONSISTENCY_CHECKS  the slab's counters and its whole freelist
 *                   ("Wrong object count", "Freechain corrupt") each time
 * Reports are SLUB's: a line of '=', "BUG <cache> (Not tainted): <what>",
 * a line of '-', INFO: lines (tracks, slab, object), hex dumps of the
 * object's bytes ("Object 0000000081234560: 6b 6b …  kkkk"), dump_stack,
 * and "FIX <cache>: …" for what was done. A report never corrupts the
 * allocator: overwritten bytes are restored, and an object found
 * overwritten is isolated (never handed out again; at kmem_cache_destroy
 * it goes back with its slab); a double free or a free with a bad pointer
 * is not performed; a free with the wrong cache is done to the object's
 * own cache, after the warning (Linux cache_from_obj). Without debug
 * flags, a double free of the object at the head of a freelist is still
 * caught (SLUB's naive check).
 *
 * Context. kmem_cache_alloc / kmem_cache_free: any context with
 * non-sleeping GFP flags (interrupt handlers included); GFP_KERNEL
 * allocations from process context only (might_sleep checks). Creation,
 * shrinking and destruction: process context (they may sleep and send
 * IPIs). Locks, in order: slab_caches_lock, then a node's list_lock, then
 * the object map's lock, then the report lock; the page allocator is
 * called with none of them held.
 * A CPU's cpu_slab entry is touched only by that CPU with its interrupts
 * off (flush_all reaches the others by IPI).
 *
 * Not here: per-CPU partial lists, cache merging (aliases), RCU-freed
 * caches (SLAB_TYPESAFE_BY_RCU is refused), memcg accounting, freelist
 * randomisation and hardening, sysfs. Only node 0 exists (mm/mmzone.ts),
 * but the node array is there.
 */
import { PAGE_SIZE, NR_CPUS, KERNEL_VIRT_BASE, vaddr, pa_in_linear_map, __pa } from "../arch/layout";
import { local_irq_save, local_irq_restore } from "../arch/irqflags";
import { sp_read } from "../arch/riscv";
import { kernel_text_or_data } from "../arch/stacktrace";
import { dump_stack } from "../arch/traps";
import { spinlock_t, spin_lock_init, spin_lock_irqsave, spin_unlock_irqrestore, SPINLOCK_SIZE } from "../locking/spinlock";
import { smp_processor_id } from "../cpu";
import { on_each_cpu } from "../smp";
import { pr_err, pr_warn, pr_info } from "../printk";
import { scnprintf } from "../lib/vsprintf";
import { panic } from "../panic";
import { get_jiffies_64 } from "../time/tick";
import { might_sleep, current_pid } from "../sched/core";
import { nr_cpu_ids } from "../of/fdt";
import { cmdline_find, cmdline_val_ptr, cmdline_val_len } from "../cmdline";
import { LIST_HEAD_SIZE, INIT_LIST_HEAD, list_empty, list_next, list_add, list_add_tail, list_del_init } from "../lib/list";
import {
  gfp_t, gfp_flags_name, gfpflags_allow_blocking, GFP_KERNEL, GFP_NOWAIT, GFP_DMA, GFP_DMA32, __GFP_ZERO, __GFP_NOWARN,
  __GFP_NORETRY, __GFP_NOFAIL, __GFP_NOMEMALLOC, __GFP_RECLAIM, __GFP_DIRECT_RECLAIM, __GFP_HIGH, __GFP_IO, __GFP_FS,
  __GFP_RETRY_MAYFAIL, __GFP_MEMALLOC, __GFP_ATOMIC, __GFP_HARDWALL, __GFP_THISNODE, __GFP_COMP, __GFP_RECLAIMABLE,
  __GFP_DMA32, __GFP_HIGHMEM, ___GFP_COLD,
} from "./gfp";
import {
  page, PG_slab, PG_head, nth_page, page_address, virt_to_page, page_to_nid, SLAB_LIST_OFFSET, SLAB_CACHE_OFFSET,
  SLAB_COUNTERS_OFFSET, SLAB_FREELIST_OFFSET, SLAB_HEAD_OFFSET, STRUCT_PAGE_SIZE, mem_section, mem_section_of,
  MEM_SECTION_SIZE, MAX_MEM_SECTIONS, PG_reserved, PG_highmem, PG_pcp, PG_dma_zone, PAGE_TYPE_BUDDY, PAGE_TYPE_LARGE_KMALLOC,
} from "./page";
import { alloc_pages_node, __free_pages } from "./page_alloc";
import { MAX_ORDER, MAX_NUMNODES, NUMA_NO_NODE, PAGE_ALLOC_COSTLY_ORDER, nr_online_nodes } from "./mmzone";
import { should_failslab } from "./failslab";
import { per_cpu_ptr, this_cpu_ptr, alloc_percpu_gfp, free_percpu } from "./percpu";
import { vmcoreinfo_symbol, vmcoreinfo_size, vmcoreinfo_offset, vmcoreinfo_number, vmcoreinfo_append } from "../vmcoreinfo";

// --- flags (Linux include/linux/slab.h, 6.1 values) ------------------------------------------------

export const SLAB_CONSISTENCY_CHECKS: u32 = 0x00000100; // 'F': check the slab's state at every operation
export const SLAB_RED_ZONE: u32 = 0x00000400;           // 'Z': red zones around every object
export const SLAB_POISON: u32 = 0x00000800;             // 'P': poison free objects
export const SLAB_KMALLOC: u32 = 0x00001000;            // a kmalloc cache (mm/kmalloc.ts)
export const SLAB_HWCACHE_ALIGN: u32 = 0x00002000;      // align objects to the 64-byte cache line
export const SLAB_CACHE_DMA: u32 = 0x00004000;          // slabs from ZONE_DMA
export const SLAB_CACHE_DMA32: u32 = 0x00008000;        // slabs from ZONE_DMA32 (= ZONE_DMA here)
export const SLAB_STORE_USER: u32 = 0x00010000;         // 'U': remember who allocated / freed
export const SLAB_RECLAIM_ACCOUNT: u32 = 0x00020000;    // accepted, no effect (no reclaim)
export const SLAB_PANIC: u32 = 0x00040000;              // panic if kmem_cache_create fails
export const SLAB_TYPESAFE_BY_RCU: u32 = 0x00080000;    // refused: no RCU here
export const SLAB_MEM_SPREAD: u32 = 0x00100000;         // accepted, no effect
export const SLAB_TRACE: u32 = 0x00200000;              // accepted, no effect
export const SLAB_NOLEAKTRACE: u32 = 0x00800000;        // accepted, no effect
export const SLAB_ACCOUNT: u32 = 0x04000000;            // accepted, no effect (no memcg)
/** Internal: the objects are poisoned (SLAB_POISON without a constructor). */
const __OBJECT_POISON: u32 = 0x80000000;

export const SLAB_DEBUG_FLAGS: u32 = SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_CONSISTENCY_CHECKS;
/** What `slub_debug` without letters turns on (Linux DEBUG_DEFAULT_FLAGS). */
export const DEBUG_DEFAULT_FLAGS: u32 = SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER;
const CACHE_CREATE_MASK: u32 = SLAB_HWCACHE_ALIGN | SLAB_CACHE_DMA | SLAB_CACHE_DMA32 | SLAB_PANIC | SLAB_RECLAIM_ACCOUNT |
  SLAB_MEM_SPREAD | SLAB_TRACE | SLAB_NOLEAKTRACE | SLAB_ACCOUNT | SLAB_KMALLOC | SLAB_DEBUG_FLAGS;

/** Poison values (Linux include/linux/poison.h). */
export const POISON_INUSE: u8 = 0x5a;
export const POISON_FREE: u8 = 0x6b;
export const POISON_END: u8 = 0xa5;
export const SLUB_RED_INACTIVE: u8 = 0xbb;
export const SLUB_RED_ACTIVE: u8 = 0xcc;

/** The state word in a debug cache's free-pointer slot while the object is not free (odd: never a pointer). */
export const OBJ_ACTIVE: u32 = 0xa110c8ed;
export const OBJ_ISOLATED: u32 = 0x1501a7ed;

/** Linux cache_line_size(), ARCH_SLAB_MINALIGN, sizeof(void *) on RV64. */
export const L1_CACHE_BYTES: u32 = 64;
export const ARCH_SLAB_MINALIGN: u32 = 8;
const WORD: u32 = 8;
/** Largest object kmem_cache_create accepts (Linux KMALLOC_MAX_SIZE: the largest block, order MAX_ORDER − 1). */
const MAX_OBJECT_SIZE: u32 = PAGE_SIZE << (MAX_ORDER - 1);
/** Linux slub_min_order / slub_max_order (PAGE_ALLOC_COSTLY_ORDER) / MAX_OBJS_PER_PAGE (15 bits of inuse). */
export const slub_min_order: u32 = 0;
export const slub_max_order: u32 = PAGE_ALLOC_COSTLY_ORDER;
const MAX_OBJS_PER_PAGE: u32 = 32767;
/** Empty slabs a node keeps on its partial list (Linux MIN_PARTIAL, MAX_PARTIAL). */
const MIN_PARTIAL: u32 = 5;
const MAX_PARTIAL: u32 = 10;

/** GFP bits a slab page may be allocated with from the caller's (Linux GFP_RECLAIM_MASK | GFP_CONSTRAINT_MASK). */
const GFP_RECLAIM_MASK: gfp_t = __GFP_RECLAIM | __GFP_HIGH | __GFP_IO | __GFP_FS | __GFP_NOWARN | __GFP_RETRY_MAYFAIL |
  __GFP_NOFAIL | __GFP_NORETRY | __GFP_MEMALLOC | __GFP_NOMEMALLOC | __GFP_ATOMIC;
const GFP_CONSTRAINT_MASK: gfp_t = __GFP_HARDWALL | __GFP_THISNODE;
/** Bits a slab or kmalloc caller must not pass (Linux GFP_SLAB_BUG_MASK): the zone is the cache's to choose. */
export const GFP_SLAB_BUG_MASK: gfp_t = __GFP_DMA32 | __GFP_HIGHMEM | ~((___GFP_COLD << 1) - 1);

// --- structures ----------------------------------------------------------------------------------

/** Per-CPU state of a cache (Linux struct kmem_cache_cpu plus CONFIG_SLUB_STATS counters). 64 bytes. */
@unmanaged
export class kmem_cache_cpu {
  /** The next free object of this CPU's slab, 0 = none. */
  freelist: u32;
  /** This CPU's slab (a frozen struct page), 0 = none. */
  slab: u32;
  alloc_fastpath: u64;
  alloc_slowpath: u64;
  free_fastpath: u64;
  free_slowpath: u64;
  alloc_slab: u64;
  free_slab: u64;
  cpuslab_flush: u64;
}
export const KMEM_CACHE_CPU_SIZE: usize = 64;

/** Per-node lists (Linux struct kmem_cache_node). 64 bytes; list_lock is the spinlock_t at +0. */
@unmanaged
export class kmem_cache_node {
  lock_next: u32;
  lock_owner: u32;
  lock_owner_cpu: i32;
  lock_pad: u32;
  partial_next: u32;      // +16 list_head: slabs with free and used objects (and up to min_partial empty ones)
  partial_prev: u32;
  full_next: u32;         // +24 list_head: unfrozen slabs without a free object
  full_prev: u32;
  nr_partial: u32;
  nr_full: u32;
  /** Slabs and their objects, every state (atomics: new_slab runs without the lock). */
  nr_slabs: u64;
  total_objects: u64;
  /** Objects taken out of use by reports (debug caches). */
  nr_isolated: u32;
  _pad: u32;
}
export const KMEM_CACHE_NODE_SIZE: usize = 64;
const NODE_PARTIAL: usize = 16;
const NODE_FULL: usize = 24;

/** A cache (Linux struct kmem_cache). The header is followed by node[MAX_NUMNODES] and cpu_slab[nr_cpus]. */
@unmanaged
export class kmem_cache {
  /** The name (an AS string, the caller's: it must live as long as the cache). */
  name: usize;
  /** The size asked for (Linux object_size). */
  object_size: u32;
  /** The stride of objects in a slab, metadata and alignment included. */
  size: u32;
  /** Offset of the metadata after the object (object + right red zone). */
  inuse: u32;
  /** Offset of the free pointer. */
  offset: u32;
  align: u32;
  /** Left red zone (SLAB_RED_ZONE), before each object. */
  red_left_pad: u32;
  flags: u32;
  /** GFP bits for the cache's pages (GFP_DMA for SLAB_CACHE_DMA, __GFP_COMP). */
  allocflags: u32;
  /** The constructor, (obj: usize) => void, 0 = none. */
  ctor: usize;
  /** The preferred order and its objects per slab (Linux s->oo), and the fallback (s->min). */
  oo_order: u32;
  oo_objects: u32;
  min_order: u32;
  min_objects: u32;
  min_partial: u32;
  refcount: i32;
  /** The slab_caches list. */
  list_next: u32;
  list_prev: u32;
  /** Entries of cpu_slab[] (nr_cpu_ids when created). */
  nr_cpus: i32;
  /** Slab allocations served at the fallback order. */
  order_fallback: u32;
  /** kmem_cache_destroy calls refused because objects were still allocated. */
  destroy_failed: u32;
  /** The per-CPU kmem_cache_cpu (a per-CPU pointer, alloc_percpu); 0 = the embedded cpu_slab[] (boot caches). */
  cpu_slab: usize;
}
const KMEM_CACHE_HEADER: usize = 128;
const NODE_OFFSET: usize = KMEM_CACHE_HEADER;
const CPU_SLAB_OFFSET: usize = NODE_OFFSET + <usize>MAX_NUMNODES * KMEM_CACHE_NODE_SIZE;

/** Size of a kmem_cache descriptor with `nr_cpus` per-CPU entries. */
export function kmem_cache_struct_size(nr_cpus: i32): u32 { return <u32>(CPU_SLAB_OFFSET + <usize>nr_cpus * KMEM_CACHE_CPU_SIZE); }

/** struct track (SLAB_STORE_USER): addrs[0] is the caller, addrs[1 …] its callers. */
export const TRACK_ADDRS_COUNT: i32 = 5;
const TRACK_WHEN: usize = 40;   // u64 jiffies
const TRACK_CPU: usize = 48;    // u16
const TRACK_VALID: usize = 50;  // u16: 1 once set
const TRACK_PID: usize = 52;    // i32
export const TRACK_SIZE: u32 = 56;
export const TRACK_ALLOC: u32 = 0;
export const TRACK_FREE: u32 = 1;

/** Counters of what the debug code saw (read by the self-tests). */
@unmanaged
export class slub_report_counts {
  /** Every BUG report (slab_bug). */
  reports: u32;
  double_free: u32;
  poison: u32;
  redzone: u32;
  padding: u32;
  freepointer: u32;
  wrong_cache: u32;
  invalid_pointer: u32;
  not_slab: u32;
  objects_remaining: u32;
  /** Objects taken out of use after a report. */
  isolated: u32;
  /** kmalloc_fix_flags warnings. */
  gfp_fixups: u32;
  /** slab_out_of_memory warnings. */
  oom: u32;
  consistency: u32;
}
export const slub_reports = changetype<slub_report_counts>(memory.data(offsetof<slub_report_counts>(), 8));

// @ts-ignore: decorator
@inline function count(field: usize): void { atomic.add<u32>(changetype<usize>(slub_reports) + field, 1); }

// --- state ----------------------------------------------------------------------------------------

/** Linux slab_state: DOWN, PARTIAL (kmem_cache usable), UP (kmalloc caches), FULL. */
export const SLAB_DOWN: i32 = 0;
export const SLAB_PARTIAL: i32 = 1;
export const SLAB_UP: i32 = 2;
export const SLAB_FULL: i32 = 3;
export let slab_state: i32 = 0; // SLAB_DOWN (a literal: no wasm start function)

/** The cache of cache descriptors (Linux's kmem_cache variable; read with kmem_cache_cache()). */
let kmem_cache_cache_p: usize = 0;
// @ts-ignore: decorator
@inline export function kmem_cache_cache(): kmem_cache { return changetype<kmem_cache>(kmem_cache_cache_p); }
/** Its bootstrap descriptor (Linux's static boot_kmem_cache), room for NR_CPUS. */
const boot_kmem_cache: usize = memory.data(<i32>(CPU_SLAB_OFFSET + <usize>NR_CPUS * KMEM_CACHE_CPU_SIZE), 64);

/** Every cache, newest first (Linux slab_caches under slab_mutex). */
const slab_caches: usize = memory.data(<i32>LIST_HEAD_SIZE, 8);
const slab_caches_lock = changetype<spinlock_t>(memory.data(SPINLOCK_SIZE, 16));
const report_lock = changetype<spinlock_t>(memory.data(SPINLOCK_SIZE, 16));
const map_lock = changetype<spinlock_t>(memory.data(SPINLOCK_SIZE, 16));

// --- accessors ------------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function isnull<T>(p: T): bool { return changetype<usize>(p) == 0; }
// @ts-ignore: decorator
@inline export function kmem_cache_debug(s: kmem_cache): bool { return (s.flags & SLAB_DEBUG_FLAGS) != 0; }
// @ts-ignore: decorator
@inline export function get_node(s: kmem_cache, nid: i32): kmem_cache_node {
  return changetype<kmem_cache_node>(changetype<usize>(s) + NODE_OFFSET + <usize>nid * KMEM_CACHE_NODE_SIZE);
}
// @ts-ignore: decorator
@inline export function cpu_slab_of(s: kmem_cache, cpu: i32): kmem_cache_cpu {
  const p = s.cpu_slab;
  return changetype<kmem_cache_cpu>(p != 0 ? per_cpu_ptr(p, cpu) : changetype<usize>(s) + CPU_SLAB_OFFSET + <usize>cpu * KMEM_CACHE_CPU_SIZE);
}
/** This CPU's kmem_cache_cpu of `s` (interrupts off to keep it this CPU's). */
// @ts-ignore: decorator
@inline export function this_cpu_slab(s: kmem_cache): kmem_cache_cpu {
  const p = s.cpu_slab;
  return changetype<kmem_cache_cpu>(p != 0 ? this_cpu_ptr(p) : changetype<usize>(s) + CPU_SLAB_OFFSET + <usize>smp_processor_id() * KMEM_CACHE_CPU_SIZE);
}
// @ts-ignore: decorator
@inline function node_lock(n: kmem_cache_node): spinlock_t { return changetype<spinlock_t>(n); }

// The slab fields of a struct page (mm/page.ts's note).
// @ts-ignore: decorator
@inline export function slab_cache_of(slab: page): kmem_cache { return changetype<kmem_cache>(<usize>load<u32>(changetype<usize>(slab), SLAB_CACHE_OFFSET)); }
// @ts-ignore: decorator
@inline function set_slab_cache(slab: page, s: kmem_cache): void { store<u32>(changetype<usize>(slab), <u32>changetype<usize>(s), SLAB_CACHE_OFFSET); }
// @ts-ignore: decorator
@inline export function slab_freelist(slab: page): usize { return <usize>load<u32>(changetype<usize>(slab), SLAB_FREELIST_OFFSET); }
// @ts-ignore: decorator
@inline function set_slab_freelist(slab: page, p: usize): void { store<u32>(changetype<usize>(slab), <u32>p, SLAB_FREELIST_OFFSET); }
// @ts-ignore: decorator
@inline export function slab_inuse(slab: page): u32 { return <u32>load<u16>(changetype<usize>(slab), SLAB_COUNTERS_OFFSET) & 0x7fff; }
// @ts-ignore: decorator
@inline function set_slab_inuse(slab: page, n: u32): void {
  const p = changetype<usize>(slab);
  store<u16>(p, <u16>((<u32>load<u16>(p, SLAB_COUNTERS_OFFSET) & 0x8000) | n), SLAB_COUNTERS_OFFSET);
}
// @ts-ignore: decorator
@inline export function slab_frozen(slab: page): bool { return (load<u16>(changetype<usize>(slab), SLAB_COUNTERS_OFFSET) & 0x8000) != 0; }
// @ts-ignore: decorator
@inline function set_slab_frozen(slab: page, f: bool): void {
  const p = changetype<usize>(slab);
  const v = <u32>load<u16>(p, SLAB_COUNTERS_OFFSET) & 0x7fff;
  store<u16>(p, <u16>(f ? v | 0x8000 : v), SLAB_COUNTERS_OFFSET);
}
// @ts-ignore: decorator
@inline function slab_lru(slab: page): usize { return changetype<usize>(slab) + SLAB_LIST_OFFSET; }
// @ts-ignore: decorator
@inline function lru_slab(e: usize): page { return changetype<page>(e - SLAB_LIST_OFFSET); }
/** The slab's order (the page allocator's, in private_). */
// @ts-ignore: decorator
@inline export function slab_order(slab: page): u32 { return slab.private_; }

/** Objects of `size` bytes in a block of `order` (Linux order_objects). */
// @ts-ignore: decorator
@inline export function order_objects(order: u32, size: u32): u32 { return (PAGE_SIZE << order) / size; }
/** Objects in this slab (every slab of a cache has oo's or min's order). */
export function slab_objects(s: kmem_cache, slab: page): u32 {
  const o = slab_order(slab);
  return o == s.oo_order ? s.oo_objects : o == s.min_order ? s.min_objects : order_objects(o, s.size);
}
/** The first byte of the slab's memory. */
// @ts-ignore: decorator
@inline function slab_address(slab: page): usize { return page_address(slab); }

/** The free pointer of a free object (a 32-bit kernel pointer; in a debug cache's allocated object: its state). */
// @ts-ignore: decorator
@inline function get_freepointer(s: kmem_cache, obj: usize): usize { return <usize>load<u32>(obj + <usize>s.offset); }
// @ts-ignore: decorator
@inline function set_freepointer(s: kmem_cache, obj: usize, fp: usize): void { store<u32>(obj + <usize>s.offset, <u32>fp); }
/** Is the free pointer after the object (Linux freeptr_outside_object)? */
// @ts-ignore: decorator
@inline function freeptr_outside_object(s: kmem_cache): bool { return s.offset >= s.inuse; }
/** Where the tracks start (Linux get_info_end). */
// @ts-ignore: decorator
@inline function get_info_end(s: kmem_cache): u32 { return freeptr_outside_object(s) ? s.inuse + WORD : s.inuse; }
// @ts-ignore: decorator
@inline function get_track(s: kmem_cache, obj: usize, alloc: u32): usize { return obj + <usize>(get_info_end(s) + alloc * TRACK_SIZE); }
/** The bytes of a stride after the left red zone (Linux size_from_object). */
// @ts-ignore: decorator
@inline function size_from_object(s: kmem_cache): u32 { return (s.flags & SLAB_RED_ZONE) != 0 ? s.size - s.red_left_pad : s.size; }

/**
 * The slab (head struct page) holding kernel address `obj`, or NULL when
 * `obj` is not in a slab page (Linux virt_to_slab). Context: any.
 */
export function virt_to_slab(obj: usize): page {
  if (!pa_in_linear_map(__pa(obj))) return changetype<page>(0);
  let pg = virt_to_page(obj);
  if (isnull(pg) || (pg.flags & PG_slab) == 0) return changetype<page>(0);
  if ((pg.flags & PG_head) == 0) pg = changetype<page>(<usize>load<u32>(changetype<usize>(pg), SLAB_HEAD_OFFSET));
  return pg;
}

/** Is `obj` the start of an object of slab `slab` of cache `s` (or NULL)? (Linux check_valid_pointer.) */
export function check_valid_pointer(s: kmem_cache, slab: page, obj: usize): bool {
  if (obj == 0) return true;
  const base = slab_address(slab);
  const first = base + <usize>s.red_left_pad;
  if (obj < first || obj >= base + <usize>(slab_objects(s, slab) * s.size)) return false;
  return (obj - first) % <usize>s.size == 0;
}

// --- sizes ----------------------------------------------------------------------------------------

/** Smallest order whose block holds `size` bytes (Linux get_order). */
export function get_order(size: u64): u32 {
  let order: u32 = 0;
  while ((<u64>PAGE_SIZE << order) < size) order++;
  return order;
}

/** Linux fls(): the 1-based index of the highest set bit, 0 for 0. */
// @ts-ignore: decorator
@inline export function fls(x: u32): u32 { return 32 - <u32>clz<u32>(x); }

/** Linux calc_slab_order. */
function calc_slab_order(size: u32, min_objects: u32, max_order: u32, fract_leftover: u32): u32 {
  if (order_objects(slub_min_order, size) > MAX_OBJS_PER_PAGE) return get_order(<u64>size * MAX_OBJS_PER_PAGE) - 1;
  let order = get_order(<u64>min_objects * size);
  if (order < slub_min_order) order = slub_min_order;
  for (; order <= max_order; order++) {
    const slab_size = PAGE_SIZE << order;
    if (slab_size % size <= slab_size / fract_leftover) break;
  }
  return order;
}

/** Objects a slab should hold at least (Linux: 4 · (fls(nr_cpus) + 1)). */
export function slub_min_objects(): u32 {
  const cpus = nr_cpu_ids > 0 ? <u32>nr_cpu_ids : 1;
  return 4 * (fls(cpus) + 1);
}

/** The slab order for objects of stride `size` (Linux calculate_order), or -1 when none fits. */
export function calculate_order(size: u32): i32 {
  let min_objects = slub_min_objects();
  const max_objects = order_objects(slub_max_order, size);
  if (min_objects > max_objects) min_objects = max_objects;
  while (min_objects > 1) {
    let fraction: u32 = 16;
    while (fraction >= 4) {
      const order = calc_slab_order(size, min_objects, slub_max_order, fraction);
      if (order <= slub_max_order) return <i32>order;
      fraction /= 2;
    }
    min_objects--;
  }
  let order = calc_slab_order(size, 1, slub_max_order, 1);
  if (order <= slub_max_order) return <i32>order;
  order = calc_slab_order(size, 1, MAX_ORDER, 1);
  if (order < MAX_ORDER) return <i32>order;
  return -1;
}

/** Linux calculate_alignment. */
export function calculate_alignment(flags: u32, align: u32, size: u32): u32 {
  if (flags & SLAB_HWCACHE_ALIGN) {
    let ralign = L1_CACHE_BYTES;
    while (size <= ralign / 2) ralign /= 2;
    if (ralign > align) align = ralign;
  }
  if (align < ARCH_SLAB_MINALIGN) align = ARCH_SLAB_MINALIGN;
  return (align + WORD - 1) & ~(WORD - 1);
}

// @ts-ignore: decorator
@inline function ALIGN(x: u32, a: u32): u32 { return (x + a - 1) & ~(a - 1); }

/** Linux calculate_sizes: the object layout, the stride and the order. False when no order fits. */
function calculate_sizes(s: kmem_cache): bool {
  const flags = s.flags;
  let size = ALIGN(s.object_size, WORD);
  if ((flags & SLAB_POISON) != 0 && s.ctor == 0) s.flags |= __OBJECT_POISON;
  else s.flags &= ~__OBJECT_POISON;
  if ((flags & SLAB_RED_ZONE) != 0 && size == s.object_size) size += WORD;
  s.inuse = size;
  if ((flags & SLAB_DEBUG_FLAGS) != 0 || s.ctor != 0) {
    // Outside the object: a constructed object keeps its bytes, and a debug
    // cache keeps the object's state in the slot while it is allocated.
    s.offset = size;
    size += WORD;
  } else {
    s.offset = (s.object_size / 2) & ~(WORD - 1);
  }
  if (flags & SLAB_STORE_USER) size += 2 * TRACK_SIZE;
  if (flags & SLAB_RED_ZONE) {
    size += WORD; // catch overwrites from the object before rather than let them reach its free pointer
    s.red_left_pad = ALIGN(WORD, s.align);
    size += s.red_left_pad;
  } else {
    s.red_left_pad = 0;
  }
  size = ALIGN(size, s.align);
  s.size = size;
  const order = calculate_order(size);
  if (order < 0) return false;
  s.allocflags = order > 0 ? __GFP_COMP : 0;
  if (s.flags & SLAB_CACHE_DMA) s.allocflags |= GFP_DMA;
  if (s.flags & SLAB_CACHE_DMA32) s.allocflags |= GFP_DMA32;
  if (s.flags & SLAB_RECLAIM_ACCOUNT) s.allocflags |= __GFP_RECLAIMABLE;
  s.oo_order = <u32>order;
  s.oo_objects = order_objects(<u32>order, size);
  s.min_order = get_order(<u64>size);
  s.min_objects = order_objects(s.min_order, size);
  return s.oo_objects != 0;
}

/** Linux set_min_partial(s, ilog2(s->size) / 2), clamped to [MIN_PARTIAL, MAX_PARTIAL]. */
function set_min_partial(s: kmem_cache): void {
  let min = (fls(s.size) - 1) / 2;
  if (min < MIN_PARTIAL) min = MIN_PARTIAL;
  else if (min > MAX_PARTIAL) min = MAX_PARTIAL;
  s.min_partial = min;
}

// --- slub_debug= ---------------------------------------------------------------------------------

/** Linux parse_slub_debug_flags: the flags of the letters in [p, p+len). Unknown letters are reported when `warn`. */
function debug_letters(p: usize, len: i32, warn: bool): u32 {
  if (len == 0) return DEBUG_DEFAULT_FLAGS;
  let f: u32 = 0;
  for (let i = 0; i < len; i++) {
    const c = <u32>load<u8>(p + <usize>i) | 0x20;
    if (c == 0x66) f |= SLAB_CONSISTENCY_CHECKS;     // f
    else if (c == 0x7a) f |= SLAB_RED_ZONE;          // z
    else if (c == 0x70) f |= SLAB_POISON;            // p
    else if (c == 0x75) f |= SLAB_STORE_USER;        // u
    else if (c == 0x74) f |= SLAB_TRACE;             // t (accepted, no effect)
    else if (c == 0x2d) f = 0;                       // -: none
    else if (warn) pr_err("slub_debug option '%c' unknown. skipped\n", <u32>load<u8>(p + <usize>i));
  }
  return f;
}

/** Does the byte string [p, p+len) name cache `name` (a trailing '*' matches any rest)? */
function name_matches(p: usize, len: i32, name: string): bool {
  if (len > 0 && load<u8>(p + <usize>(len - 1)) == 0x2a) {
    const n = len - 1;
    if (name.length < n) return false;
    for (let i = 0; i < n; i++) if (<u32>load<u8>(p + <usize>i) != <u32>name.charCodeAt(i)) return false;
    return true;
  }
  if (name.length != len) return false;
  for (let i = 0; i < len; i++) if (<u32>load<u8>(p + <usize>i) != <u32>name.charCodeAt(i)) return false;
  return true;
}

/**
 * The debug flags the slub_debug value [p, p+len) gives cache `name`
 * (Linux kmem_cache_flags): blocks separated by ';', each
 * `<letters>[,<cache>[,<cache>…]]`; a block with names applies to those
 * caches only (the first that names the cache wins), one without names to
 * every cache; empty letters mean FZPU; len < 0 stands for a bare
 * `slub_debug` (FZPU everywhere). Pure. Context: any.
 */
export function slub_debug_flags_for(p: usize, len: i32, name: string, warn: bool = false): u32 {
  if (len < 0) return DEBUG_DEFAULT_FLAGS;
  if (len == 0) return DEBUG_DEFAULT_FLAGS;
  let global: u32 = 0;
  let i = 0;
  while (i < len) {
    let e = i;
    while (e < len && load<u8>(p + <usize>e) != 0x3b) e++;            // ';'
    let c = i;
    while (c < e && load<u8>(p + <usize>c) != 0x2c) c++;               // ','
    const f = debug_letters(p + <usize>i, c - i, warn);
    if (c == e) {
      global = f;
    } else {
      let k = c + 1;
      while (k <= e) {
        let ke = k;
        while (ke < e && load<u8>(p + <usize>ke) != 0x2c) ke++;
        if (ke > k && name_matches(p + <usize>k, ke - k, name)) return f;
        k = ke + 1;
      }
    }
    i = e + 1;
  }
  return global;
}

let slub_debug_warned: bool = false;

/** The flags a new cache gets: its own and the command line's slub_debug (Linux kmem_cache_flags). */
function kmem_cache_flags(flags: u32, name: string): u32 {
  const v = cmdline_find("slub_debug");
  if (v < 0) return flags;
  const len = cmdline_val_len(v);
  const warn = !slub_debug_warned;
  slub_debug_warned = true;
  return flags | slub_debug_flags_for(cmdline_val_ptr(v), len == 0 ? -1 : len, name, warn);
}

// --- caller tracking ------------------------------------------------------------------------------

/** Upper bound of the kernel's code: static data comes after it (toolchain memoryBase). */
const text_end_marker: usize = memory.data(8, 8);
/** A frame record further than this from the last is not believed (as arch/stacktrace.ts). */
const MAX_FRAME_GAP: u64 = 64 * 1024;

// @ts-ignore: decorator
@inline function is_kernel_text(pc: u64): bool { return pc >= KERNEL_VIRT_BASE && pc < vaddr(text_end_marker); }

/**
 * The call chain of an API call, for SLAB_STORE_USER. The API functions
 * (kmem_cache_alloc, kmalloc, kfree …) are @inline: their bodies, sp_read()
 * included, become part of the caller, so `api_sp` is the caller's stack
 * pointer at the call into this file. The function the caller called there
 * has a frame (it calls on, down to here), whose record sits right below
 * api_sp (arch/stacktrace.ts): at api_sp − 8 the return address, a pc in
 * the caller just after the call (what Linux's _RET_IP_ names), at
 * api_sp − 16 the caller's frame pointer, from which the records give the
 * callers above. Fills addrs[0 … TRACK_ADDRS_COUNT) (0 = none). A chain
 * that does not look right (not in the linear map, not growing, a return
 * address outside the kernel's code) stops the walk. Context: any.
 */
function save_caller_stack(api_sp: u64, out: usize): void {
  for (let i = 0; i < TRACK_ADDRS_COUNT; i++) store<u64>(out + <usize>(i * 8), 0);
  if (api_sp == 0 || (api_sp & 7) != 0 || !kernel_text_or_data(api_sp - 16)) return;
  const site = load<u64>(<usize>api_sp - 8);
  if (!is_kernel_text(site)) return;
  store<u64>(out, site);
  let fp = load<u64>(<usize>api_sp - 16);
  let last = api_sp;
  for (let i = 1; i < TRACK_ADDRS_COUNT; i++) {
    if (fp <= last || fp - last > MAX_FRAME_GAP || (fp & 7) != 0 || !kernel_text_or_data(fp - 16)) break;
    const ra = load<u64>(<usize>fp - 8);
    if (!is_kernel_text(ra)) break;
    store<u64>(out + <usize>(i * 8), ra);
    last = fp;
    fp = load<u64>(<usize>fp - 16);
  }
}

function set_track(s: kmem_cache, obj: usize, alloc: u32, api_sp: u64): void {
  const t = get_track(s, obj, alloc);
  save_caller_stack(api_sp, t);
  store<u64>(t, get_jiffies_64(), TRACK_WHEN);
  store<u16>(t, <u16>smp_processor_id(), TRACK_CPU);
  store<u16>(t, 1, TRACK_VALID);
  const pid = current_pid();
  store<i32>(t, pid < 0 ? 0 : pid, TRACK_PID);
}

function init_tracking(s: kmem_cache, obj: usize): void {
  if ((s.flags & SLAB_STORE_USER) == 0) return;
  memory.fill(get_track(s, obj, TRACK_ALLOC), 0, <usize>(2 * TRACK_SIZE));
}

/** The track of an object (SLAB_STORE_USER), for the self-tests: its caller, the frames, cpu, pid, when. */
export function slab_track_addr(s: kmem_cache, obj: usize, alloc: u32, i: i32): u64 { return load<u64>(get_track(s, obj, alloc) + <usize>(i * 8)); }
export function slab_track_cpu(s: kmem_cache, obj: usize, alloc: u32): i32 { return <i32>load<u16>(get_track(s, obj, alloc), TRACK_CPU); }
export function slab_track_pid(s: kmem_cache, obj: usize, alloc: u32): i32 { return load<i32>(get_track(s, obj, alloc), TRACK_PID); }
export function slab_track_when(s: kmem_cache, obj: usize, alloc: u32): u64 { return load<u64>(get_track(s, obj, alloc), TRACK_WHEN); }
export function slab_track_valid(s: kmem_cache, obj: usize, alloc: u32): bool { return load<u16>(get_track(s, obj, alloc), TRACK_VALID) != 0; }

// --- reports --------------------------------------------------------------------------------------

const msg_buf: usize = memory.data(160, 8);
const hex_line: usize = memory.data(96, 8);
const gfp_buf_a: usize = memory.data(256, 8);
const gfp_buf_b: usize = memory.data(256, 8);

/** A kernel pointer as the reports print it: 16 hex digits of its 32-bit value (= the physical address). */
// @ts-ignore: decorator
@inline function P(p: usize): u64 { return <u64>p; }

/** Linux slab_bug: the banner. `what` is a C string. Report lock held. */
function slab_bug(s: kmem_cache, what: usize): void {
  atomic.add<u32>(changetype<usize>(slub_reports), 1, offsetof<slub_report_counts>("reports"));
  pr_err("=============================================================================\n");
  pr_err("BUG %s (Not tainted): %pz\n", <u64>s.name, what);
  pr_err("-----------------------------------------------------------------------------\n");
  pr_err("\n");
}

/** Linux slab_fix: "FIX <cache>: <what>". */
function slab_fix(s: kmem_cache, what: usize): void {
  pr_err("FIX %s: %pz\n", <u64>s.name, what);
}

function hexdig(v: u32): u8 { return <u8>(v < 10 ? 48 + v : 87 + v); }

/**
 * Linux print_section: print_hex_dump(KERN_ERR, text, DUMP_PREFIX_ADDRESS,
 * 16, 1, addr, length, true): "<text><address>: xx xx …  <ascii>".
 */
function print_section(text: string, addr: usize, length: u32): void {
  for (let i: u32 = 0; i < length; i += 16) {
    const n: u32 = length - i < 16 ? length - i : 16;
    let lx: usize = 0;
    for (let j: u32 = 0; j < n; j++) {
      const ch = <u32>load<u8>(addr + <usize>(i + j));
      store<u8>(hex_line + lx, hexdig(ch >> 4));
      store<u8>(hex_line + lx + 1, hexdig(ch & 15));
      store<u8>(hex_line + lx + 2, 32);
      lx += 3;
    }
    lx--; // no space after the last byte
    while (lx < 49) { store<u8>(hex_line + lx, 32); lx++; } // the ASCII column: rowsize·2 + rowsize/groupsize + 1
    for (let j: u32 = 0; j < n; j++) {
      const ch = load<u8>(addr + <usize>(i + j));
      store<u8>(hex_line + lx, ch >= 32 && ch < 127 ? ch : 46);
      lx++;
    }
    store<u8>(hex_line + lx, 0);
    pr_err("%s%016lx: %pz\n", changetype<usize>(text), P(addr + <usize>i), hex_line);
  }
}

function print_track(what: string, t: usize, now: u64): void {
  if (load<u16>(t, TRACK_VALID) == 0) return;
  pr_err("INFO: %s in %pS age=%lu cpu=%u pid=%d\n", changetype<usize>(what), load<u64>(t), now - load<u64>(t, TRACK_WHEN),
    <u32>load<u16>(t, TRACK_CPU), load<i32>(t, TRACK_PID));
  for (let i = 0; i < TRACK_ADDRS_COUNT; i++) {
    const a = load<u64>(t + <usize>(i * 8));
    if (a == 0) break;
    pr_err("\t%pS\n", a);
  }
}

/** Linux print_tracking. */
function print_tracking(s: kmem_cache, obj: usize): void {
  if ((s.flags & SLAB_STORE_USER) == 0) return;
  const now = get_jiffies_64();
  print_track("Allocated", get_track(s, obj, TRACK_ALLOC), now);
  print_track("Freed", get_track(s, obj, TRACK_FREE), now);
}

/** Linux print_page_info (4.19): "INFO: Slab 0x… objects=… used=… fp=0x… flags=0x…". */
function print_slab_info(s: kmem_cache, slab: page): void {
  pr_err("INFO: Slab 0x%016lx objects=%u used=%u fp=0x%016lx flags=0x%04x\n", P(changetype<usize>(slab)), slab_objects(s, slab),
    slab_inuse(slab), P(slab_freelist(slab)), slab.flags);
}

/** Linux print_trailer: tracks, the slab, the object and its surroundings, the stack. Report lock held. */
function print_trailer(s: kmem_cache, slab: page, p: usize): void {
  const base = slab_address(slab);
  print_tracking(s, p);
  print_slab_info(s, slab);
  pr_err("INFO: Object 0x%016lx @offset=%u fp=0x%016lx\n", P(p), <u64>(p - base), P(get_freepointer(s, p)));
  pr_err("\n");
  if (s.flags & SLAB_RED_ZONE) print_section("Redzone ", p - <usize>s.red_left_pad, s.red_left_pad);
  else if (p > base + 16) print_section("Bytes b4 ", p - 16, 16);
  print_section("Object ", p, s.object_size < PAGE_SIZE ? s.object_size : PAGE_SIZE);
  if (s.flags & SLAB_RED_ZONE) print_section("Redzone ", p + <usize>s.object_size, s.inuse - s.object_size);
  let off = get_info_end(s);
  if (s.flags & SLAB_STORE_USER) off += 2 * TRACK_SIZE;
  if (off != size_from_object(s)) print_section("Padding ", p + <usize>off, size_from_object(s) - off);
  dump_stack();
}

/** Linux object_err: a report about one object. Takes the report lock. */
function object_err(s: kmem_cache, slab: page, obj: usize, reason: string): void {
  const flags = spin_lock_irqsave(report_lock);
  scnprintf(msg_buf, 160, "%s", changetype<usize>(reason));
  slab_bug(s, msg_buf);
  print_trailer(s, slab, obj);
  spin_unlock_irqrestore(report_lock, flags);
}

/** Linux slab_err with the message already in msg_buf: the banner, the slab, the stack. Report lock held. */
function __slab_err(s: kmem_cache, slab: page): void {
  slab_bug(s, msg_buf);
  print_slab_info(s, slab);
  dump_stack();
}

/**
 * Linux check_bytes_and_report: are the `bytes` bytes at `start` all
 * `value`? If not, report "<what> overwritten" with the first and last
 * wrong byte, and restore them. Takes the report lock.
 */
function check_bytes_and_report(s: kmem_cache, slab: page, obj: usize, what: string, start: usize, value: u8, bytes: u32): bool {
  let fault: usize = 0;
  for (let i: u32 = 0; i < bytes; i++) if (load<u8>(start + <usize>i) != value) { fault = start + <usize>i; break; }
  if (fault == 0) return true;
  let end = start + <usize>bytes;
  while (end > fault && load<u8>(end - 1) == value) end--;
  const flags = spin_lock_irqsave(report_lock);
  scnprintf(msg_buf, 160, "%s overwritten", changetype<usize>(what));
  slab_bug(s, msg_buf);
  pr_err("INFO: 0x%016lx-0x%016lx @offset=%u. First byte 0x%x instead of 0x%x\n", P(fault), P(end - 1),
    <u64>(fault - slab_address(slab)), <u32>load<u8>(fault), <u32>value);
  print_trailer(s, slab, obj);
  scnprintf(msg_buf, 160, "Restoring %s 0x%016lx-0x%016lx=0x%x", changetype<usize>(what), P(fault), P(end - 1), <u32>value);
  slab_fix(s, msg_buf);
  memory.fill(fault, value, end - fault);
  spin_unlock_irqrestore(report_lock, flags);
  return false;
}

function count_overwrite(what: string, ok: bool): bool {
  if (ok) return true;
  if (what.charCodeAt(0) == 82 || what.charCodeAt(0) == 76) count(offsetof<slub_report_counts>("redzone"));   // Right / Left Redzone
  else if (what.charCodeAt(0) == 80 && what.charCodeAt(1) == 111) count(offsetof<slub_report_counts>("poison")); // Poison
  else if (what.charCodeAt(0) == 69) count(offsetof<slub_report_counts>("poison"));                              // End Poison
  else count(offsetof<slub_report_counts>("padding"));
  return false;
}

function check_bytes(s: kmem_cache, slab: page, obj: usize, what: string, start: usize, value: u8, bytes: u32): bool {
  return count_overwrite(what, check_bytes_and_report(s, slab, obj, what, start, value, bytes));
}

/** Linux init_object: the red zones and the poison for state `val` (SLUB_RED_ACTIVE / SLUB_RED_INACTIVE). */
function init_object(s: kmem_cache, p: usize, val: u8): void {
  if (s.flags & SLAB_RED_ZONE) memory.fill(p - <usize>s.red_left_pad, val, <usize>s.red_left_pad);
  if (s.flags & __OBJECT_POISON) {
    memory.fill(p, POISON_FREE, <usize>(s.object_size - 1));
    store<u8>(p + <usize>(s.object_size - 1), POISON_END);
  }
  if (s.flags & SLAB_RED_ZONE) memory.fill(p + <usize>s.object_size, val, <usize>(s.inuse - s.object_size));
}

/**
 * Linux check_object: the red zones, the poison of a free object, the
 * padding, and a free object's free pointer. A failed check has been
 * reported and its bytes restored. List lock held.
 */
function check_object(s: kmem_cache, slab: page, p: usize, val: u8): bool {
  const endobject = p + <usize>s.object_size;
  if (s.flags & SLAB_RED_ZONE) {
    if (!check_bytes(s, slab, p, "Left Redzone", p - <usize>s.red_left_pad, val, s.red_left_pad)) return false;
    if (!check_bytes(s, slab, p, "Right Redzone", endobject, val, s.inuse - s.object_size)) return false;
  } else if ((s.flags & SLAB_POISON) != 0 && s.object_size < s.inuse) {
    check_bytes(s, slab, p, "Alignment padding", endobject, POISON_INUSE, s.inuse - s.object_size);
  }
  if (s.flags & SLAB_POISON) {
    if (val != SLUB_RED_ACTIVE && (s.flags & __OBJECT_POISON) != 0 &&
        (!check_bytes(s, slab, p, "Poison", p, POISON_FREE, s.object_size - 1) ||
         !check_bytes(s, slab, p, "End Poison", p + <usize>(s.object_size - 1), POISON_END, 1))) return false;
    check_pad_bytes(s, slab, p);
  }
  if (val == SLUB_RED_ACTIVE) return true; // the slot holds the object's state, not a pointer
  const fp = get_freepointer(s, p);
  if (!check_valid_pointer(s, slab, fp)) {
    count(offsetof<slub_report_counts>("freepointer"));
    object_err(s, slab, p, "Freepointer corrupt");
    set_freepointer(s, p, 0);
    return false;
  }
  return true;
}

/** Linux check_pad_bytes: the padding after the metadata is POISON_INUSE. */
function check_pad_bytes(s: kmem_cache, slab: page, p: usize): bool {
  let off = get_info_end(s);
  if (s.flags & SLAB_STORE_USER) off += 2 * TRACK_SIZE;
  if (size_from_object(s) == off) return true;
  return check_bytes(s, slab, p, "Object padding", p + <usize>off, POISON_INUSE, size_from_object(s) - off);
}

/** Linux slab_pad_check: the slab's leftover after the last object is POISON_INUSE. */
function slab_pad_check(s: kmem_cache, slab: page): void {
  if ((s.flags & SLAB_POISON) == 0) return;
  const base = slab_address(slab);
  const length = PAGE_SIZE << slab_order(slab);
  const used = slab_objects(s, slab) * s.size;
  if (length == used) return;
  const start = base + <usize>used;
  let fault: usize = 0;
  for (let i = start; i < base + <usize>length; i++) if (load<u8>(i) != POISON_INUSE) { fault = i; break; }
  if (fault == 0) return;
  let end = base + <usize>length;
  while (end > fault && load<u8>(end - 1) == POISON_INUSE) end--;
  count(offsetof<slub_report_counts>("padding"));
  const flags = spin_lock_irqsave(report_lock);
  scnprintf(msg_buf, 160, "Padding overwritten. 0x%016lx-0x%016lx @offset=%u", P(fault), P(end - 1), <u64>(fault - base));
  __slab_err(s, slab);
  print_section("Padding ", end - 16 > fault ? end - 16 : fault, <u32>(end - (end - 16 > fault ? end - 16 : fault)));
  scnprintf(msg_buf, 160, "Restoring Padding 0x%016lx-0x%016lx=0x%x", P(fault), P(end - 1), <u32>POISON_INUSE);
  slab_fix(s, msg_buf);
  memory.fill(fault, POISON_INUSE, end - fault);
  spin_unlock_irqrestore(report_lock, flags);
}

/** Linux check_slab (SLAB_CONSISTENCY_CHECKS): the slab's struct page is sane. List lock held. */
function check_slab(s: kmem_cache, slab: page): bool {
  if ((slab.flags & PG_slab) == 0 || slab_cache_of(slab) !== s) {
    count(offsetof<slub_report_counts>("consistency"));
    const flags = spin_lock_irqsave(report_lock);
    scnprintf(msg_buf, 160, "Not a valid slab page");
    __slab_err(s, slab);
    spin_unlock_irqrestore(report_lock, flags);
    return false;
  }
  if (slab_inuse(slab) > slab_objects(s, slab)) {
    count(offsetof<slub_report_counts>("consistency"));
    const flags = spin_lock_irqsave(report_lock);
    scnprintf(msg_buf, 160, "inuse %u > max %u", slab_inuse(slab), slab_objects(s, slab));
    __slab_err(s, slab);
    spin_unlock_irqrestore(report_lock, flags);
    return false;
  }
  return true;
}

/**
 * Linux on_freelist (SLAB_CONSISTENCY_CHECKS): walk the slab's freelist;
 * true when `search` is on it. A corrupt link ends the list there; a
 * wrong inuse is adjusted to what was counted. List lock held.
 */
function on_freelist(s: kmem_cache, slab: page, search: usize): bool {
  const objects = slab_objects(s, slab);
  let fp = slab_freelist(slab);
  let obj: usize = 0;
  let nr: u32 = 0;
  while (fp != 0 && nr <= objects) {
    if (fp == search) return true;
    if (!check_valid_pointer(s, slab, fp)) {
      count(offsetof<slub_report_counts>("consistency"));
      if (obj != 0) {
        object_err(s, slab, obj, "Freechain corrupt");
        set_freepointer(s, obj, 0);
      } else {
        const flags = spin_lock_irqsave(report_lock);
        scnprintf(msg_buf, 160, "Freepointer corrupt");
        __slab_err(s, slab);
        spin_unlock_irqrestore(report_lock, flags);
        set_slab_freelist(slab, 0);
        set_slab_inuse(slab, objects);
        scnprintf(msg_buf, 160, "Isolating the slab's free objects");
        slab_fix(s, msg_buf);
        return false;
      }
      break;
    }
    obj = fp;
    fp = get_freepointer(s, obj);
    nr++;
  }
  if (slab_inuse(slab) != objects - nr) {
    count(offsetof<slub_report_counts>("consistency"));
    const flags = spin_lock_irqsave(report_lock);
    scnprintf(msg_buf, 160, "Wrong object count. Counter is %d but counted were %d", slab_inuse(slab), objects - nr);
    __slab_err(s, slab);
    set_slab_inuse(slab, objects - nr);
    scnprintf(msg_buf, 160, "Object count adjusted");
    slab_fix(s, msg_buf);
    spin_unlock_irqrestore(report_lock, flags);
  }
  return search == 0;
}

/** Is `obj` on the slab's freelist (a bounded walk that stops at a bad link)? List lock held. */
function freelist_contains(s: kmem_cache, slab: page, obj: usize): bool {
  const objects = slab_objects(s, slab);
  let nr: u32 = 0;
  for (let p = slab_freelist(slab); p != 0 && nr < objects && check_valid_pointer(s, slab, p); p = get_freepointer(s, p)) {
    if (p == obj) return true;
    nr++;
  }
  return false;
}

/** Linux kmalloc_fix_flags: strip the bits a slab caller must not pass, with the warning. */
export function kmalloc_fix_flags(flags: gfp_t): gfp_t {
  const invalid = flags & GFP_SLAB_BUG_MASK;
  const fixed = flags & ~GFP_SLAB_BUG_MASK;
  count(offsetof<slub_report_counts>("gfp_fixups"));
  gfp_flags_name(invalid, gfp_buf_a, 256);
  gfp_flags_name(fixed, gfp_buf_b, 256);
  pr_warn("Unexpected gfp: %#x (%pz). Fixing up to gfp: %#x (%pz). Fix your code!\n", invalid, gfp_buf_a, fixed, gfp_buf_b);
  dump_stack();
  return fixed;
}

/** Linux slab_out_of_memory. */
function slab_out_of_memory(s: kmem_cache, gfp: gfp_t, nid: i32): void {
  if (gfp & __GFP_NOWARN) return;
  count(offsetof<slub_report_counts>("oom"));
  gfp_flags_name(gfp, gfp_buf_a, 256);
  pr_warn("SLUB: Unable to allocate memory on node %d, gfp=%#x(%pz)\n", nid, gfp, gfp_buf_a);
  pr_warn("  cache: %s, object size: %u, buffer size: %u, default order: %u, min order: %u\n", <u64>s.name, s.object_size,
    s.size, s.oo_order, s.min_order);
  for (let n = 0; n < nr_online_nodes; n++) {
    const node = get_node(s, n);
    pr_warn("  node %d: slabs: %ld, objs: %ld, free: %ld\n", n, atomic.load<u64>(changetype<usize>(node), offsetof<kmem_cache_node>("nr_slabs")),
      atomic.load<u64>(changetype<usize>(node), offsetof<kmem_cache_node>("total_objects")), count_partial_free(node, s));
  }
}

// --- lists ----------------------------------------------------------------------------------------

function add_partial(n: kmem_cache_node, slab: page, tail: bool): void {
  const head = changetype<usize>(n) + NODE_PARTIAL;
  if (tail) list_add_tail(slab_lru(slab), head); else list_add(slab_lru(slab), head);
  n.nr_partial++;
}
function remove_partial(n: kmem_cache_node, slab: page): void { list_del_init(slab_lru(slab)); n.nr_partial--; }
function add_full(n: kmem_cache_node, slab: page): void { list_add(slab_lru(slab), changetype<usize>(n) + NODE_FULL); n.nr_full++; }
function remove_full(n: kmem_cache_node, slab: page): void { list_del_init(slab_lru(slab)); n.nr_full--; }

/** Free objects on the node's partial slabs (Linux count_partial(n, count_free)). Takes the list lock. */
function count_partial_free(n: kmem_cache_node, s: kmem_cache): u64 {
  const flags = spin_lock_irqsave(node_lock(n));
  let free: u64 = 0;
  const head = changetype<usize>(n) + NODE_PARTIAL;
  for (let e = list_next(head); e != head; e = list_next(e)) {
    const slab = lru_slab(e);
    free += <u64>(slab_objects(s, slab) - slab_inuse(slab));
  }
  spin_unlock_irqrestore(node_lock(n), flags);
  return free;
}

function init_kmem_cache_node(n: kmem_cache_node): void {
  spin_lock_init(node_lock(n));
  INIT_LIST_HEAD(changetype<usize>(n) + NODE_PARTIAL);
  INIT_LIST_HEAD(changetype<usize>(n) + NODE_FULL);
  n.nr_partial = 0;
  n.nr_full = 0;
  n.nr_slabs = 0;
  n.total_objects = 0;
  n.nr_isolated = 0;
}

// --- slabs ----------------------------------------------------------------------------------------

/** Linux setup_object: the debug patterns, then the constructor. */
function setup_object(s: kmem_cache, p: usize): void {
  if (kmem_cache_debug(s)) {
    init_object(s, p, SLUB_RED_INACTIVE);
    init_tracking(s, p);
  }
  if (s.ctor != 0) changetype<(obj: usize) => void>(s.ctor)(p);
}

/**
 * A new slab for `s` (Linux allocate_slab / new_slab): the preferred order
 * without retries or warnings, else the fallback order with the caller's
 * flags; every object set up and on the slab's freelist. Not on any list,
 * not frozen. Context: as the caller's gfp allows; no lock held. NULL on
 * failure.
 */
function new_slab(s: kmem_cache, gfp: gfp_t, nid: i32): page {
  if (gfp & GFP_SLAB_BUG_MASK) gfp = kmalloc_fix_flags(gfp);
  const flags = (gfp & (GFP_RECLAIM_MASK | GFP_CONSTRAINT_MASK)) | s.allocflags;
  let alloc_gfp = (flags | __GFP_NOWARN | __GFP_NORETRY) & ~__GFP_NOFAIL;
  if ((alloc_gfp & __GFP_DIRECT_RECLAIM) != 0 && s.oo_order > s.min_order) alloc_gfp = (alloc_gfp | __GFP_NOMEMALLOC) & ~__GFP_RECLAIM;
  let order = s.oo_order;
  let slab = alloc_pages_node(nid, alloc_gfp, order);
  if (isnull(slab)) {
    order = s.min_order;
    slab = alloc_pages_node(nid, flags, order);
    if (isnull(slab)) return slab;
    atomic.add<u32>(changetype<usize>(s), 1, offsetof<kmem_cache>("order_fallback"));
  }
  const objects = order_objects(order, s.size);
  slab.flags |= PG_slab;
  set_slab_cache(slab, s);
  store<u16>(changetype<usize>(slab), 0, SLAB_COUNTERS_OFFSET);
  const npages: u64 = <u64>1 << order;
  for (let k: u64 = 1; k < npages; k++) {
    const tail = nth_page(slab, k);
    tail.flags |= PG_slab;
    store<u32>(changetype<usize>(tail), <u32>changetype<usize>(slab), SLAB_HEAD_OFFSET);
  }
  const base = slab_address(slab);
  if (s.flags & SLAB_POISON) memory.fill(base, POISON_INUSE, <usize>(PAGE_SIZE << order));
  const first = base + <usize>s.red_left_pad;
  let p = first;
  setup_object(s, p);
  for (let i: u32 = 1; i < objects; i++) {
    const next = p + <usize>s.size;
    setup_object(s, next);
    set_freepointer(s, p, next);
    p = next;
  }
  set_freepointer(s, p, 0);
  set_slab_freelist(slab, first);
  const n = get_node(s, page_to_nid(slab));
  atomic.add<u64>(changetype<usize>(n), 1, offsetof<kmem_cache_node>("nr_slabs"));
  atomic.add<u64>(changetype<usize>(n), <u64>objects, offsetof<kmem_cache_node>("total_objects"));
  return slab;
}

/**
 * Give a slab back to the page allocator (Linux discard_slab / free_slab):
 * it is on no list any more. Context: any; no list lock held.
 */
function discard_slab(s: kmem_cache, slab: page): void {
  const n = get_node(s, page_to_nid(slab));
  const objects = slab_objects(s, slab);
  atomic.sub<u64>(changetype<usize>(n), 1, offsetof<kmem_cache_node>("nr_slabs"));
  atomic.sub<u64>(changetype<usize>(n), <u64>objects, offsetof<kmem_cache_node>("total_objects"));
  if (kmem_cache_debug(s)) slab_pad_check(s, slab);
  const order = slab_order(slab);
  const npages: u64 = <u64>1 << order;
  for (let k: u64 = 1; k < npages; k++) {
    const tail = nth_page(slab, k);
    tail.flags &= ~PG_slab;
    store<u32>(changetype<usize>(tail), 0, SLAB_HEAD_OFFSET);
  }
  slab.flags &= ~PG_slab;
  set_slab_cache(slab, changetype<kmem_cache>(0));
  set_slab_freelist(slab, 0);
  store<u16>(changetype<usize>(slab), 0, SLAB_COUNTERS_OFFSET);
  INIT_LIST_HEAD(slab_lru(slab));
  const flags = local_irq_save();
  this_cpu_slab(s).free_slab++;
  local_irq_restore(flags);
  __free_pages(slab, order);
}

/** Free slabs chained through their lru_next (slabs taken off the lists under the lock). */
function discard_chain(s: kmem_cache, chain: usize): void {
  while (chain != 0) {
    const slab = changetype<page>(chain);
    chain = <usize>slab.lru_next;
    discard_slab(s, slab);
  }
}

// --- CPU slabs ------------------------------------------------------------------------------------

/**
 * Give a CPU's slab back to its node (Linux deactivate_slab): the CPU's
 * freelist goes back into the slab, which is unfrozen onto the partial or
 * the full list, or given back when empty and the node has enough partial
 * slabs. Context: interrupts off; the slab is no CPU's any more.
 */
function deactivate_slab(s: kmem_cache, slab: page, freelist: usize): void {
  // The CPU's freelist is private: count it before taking the lock.
  let tail: usize = 0;
  let nr: u32 = 0;
  for (let p = freelist; p != 0; p = get_freepointer(s, p)) { tail = p; nr++; }
  const n = get_node(s, page_to_nid(slab));
  const flags = spin_lock_irqsave(node_lock(n));
  if (tail != 0) {
    set_freepointer(s, tail, slab_freelist(slab));
    set_slab_freelist(slab, freelist);
  }
  const inuse = slab_inuse(slab) - nr;
  set_slab_inuse(slab, inuse);
  set_slab_frozen(slab, false);
  let discard = false;
  if (inuse == 0 && n.nr_partial >= s.min_partial) discard = true;
  else if (slab_freelist(slab) == 0) add_full(n, slab);
  else add_partial(n, slab, false);
  spin_unlock_irqrestore(node_lock(n), flags);
  if (discard) discard_slab(s, slab);
}

/** Linux flush_slab for this CPU. Interrupts off. */
function flush_this_cpu_slab(s: kmem_cache): void {
  const cpu = smp_processor_id();
  if (cpu >= s.nr_cpus) return;
  const c = cpu_slab_of(s, cpu);
  if (c.slab == 0) return;
  const slab = changetype<page>(<usize>c.slab);
  const freelist = <usize>c.freelist;
  c.slab = 0;
  c.freelist = 0;
  c.cpuslab_flush++;
  deactivate_slab(s, slab, freelist);
}

function flush_cpu_slab_ipi(arg: u64): void {
  const flags = local_irq_save();
  flush_this_cpu_slab(changetype<kmem_cache>(<usize>arg));
  local_irq_restore(flags);
}

/** Every CPU gives its slab of `s` back (Linux flush_all). Context: process context (IPIs to every online CPU). */
export function flush_all(s: kmem_cache): void {
  on_each_cpu(flush_cpu_slab_ipi, <u64>changetype<usize>(s), true);
}

/**
 * The slow path of allocation (Linux ___slab_alloc), interrupts off on
 * entry and on return (`irqflags`: the caller's state, restored while a new
 * slab is allocated). Returns the object or 0.
 */
function ___slab_alloc(s: kmem_cache, gfp: gfp_t, irqflags: u64, nid: i32): usize {
  let c = this_cpu_slab(s);
  if (c.slab != 0) {
    // Objects other CPUs freed into this CPU's slab (Linux get_freelist).
    const slab = changetype<page>(<usize>c.slab);
    const n = get_node(s, page_to_nid(slab));
    const f = spin_lock_irqsave(node_lock(n));
    const freelist = slab_freelist(slab);
    set_slab_freelist(slab, 0);
    set_slab_inuse(slab, slab_objects(s, slab));
    spin_unlock_irqrestore(node_lock(n), f);
    if (freelist != 0) {
      c.freelist = <u32>get_freepointer(s, freelist);
      c.alloc_slowpath++;
      return freelist;
    }
    c.slab = 0;
    deactivate_slab(s, slab, 0); // full
  }
  // A partial slab of the node (Linux get_partial).
  const node = nid == NUMA_NO_NODE ? 0 : nid;
  const n = get_node(s, node);
  if (n.nr_partial != 0) {
    const f = spin_lock_irqsave(node_lock(n));
    const head = changetype<usize>(n) + NODE_PARTIAL;
    if (!list_empty(head)) {
      const slab = lru_slab(list_next(head));
      remove_partial(n, slab);
      const freelist = slab_freelist(slab);
      set_slab_freelist(slab, 0);
      set_slab_inuse(slab, slab_objects(s, slab));
      set_slab_frozen(slab, true);
      spin_unlock_irqrestore(node_lock(n), f);
      c.slab = <u32>changetype<usize>(slab);
      c.freelist = <u32>get_freepointer(s, freelist);
      c.alloc_slowpath++;
      return freelist;
    }
    spin_unlock_irqrestore(node_lock(n), f);
  }
  // A new slab, with the caller's interrupt state (it may sleep).
  local_irq_restore(irqflags);
  const slab = new_slab(s, gfp, nid);
  local_irq_save();
  if (isnull(slab)) return 0;
  c = this_cpu_slab(s);
  if (c.slab != 0) flush_this_cpu_slab(s); // an interrupt on this CPU installed one meanwhile
  const freelist = slab_freelist(slab);
  set_slab_freelist(slab, 0);
  set_slab_inuse(slab, slab_objects(s, slab));
  set_slab_frozen(slab, true);
  c.slab = <u32>changetype<usize>(slab);
  c.freelist = <u32>get_freepointer(s, freelist);
  c.alloc_slab++;
  c.alloc_slowpath++;
  return freelist;
}

// --- debug caches: everything under the list lock -------------------------------------------------

/** Take a debug object out of use after a report. List lock held. */
function isolate_object(s: kmem_cache, slab: page, obj: usize, n: kmem_cache_node, why: string): void {
  set_freepointer(s, obj, OBJ_ISOLATED);
  n.nr_isolated++;
  count(offsetof<slub_report_counts>("isolated"));
  scnprintf(msg_buf, 160, "Object 0x%016lx %s", P(obj), changetype<usize>(why));
  slab_fix(s, msg_buf);
}

/**
 * Allocation for a debug cache (Linux alloc_single_from_partial /
 * alloc_debug_processing): the first free object of the first partial slab,
 * checked; an object found overwritten is isolated and the next one tried.
 */
function slab_alloc_debug(s: kmem_cache, gfp: gfp_t, nid: i32, api_sp: u64): usize {
  const n = get_node(s, nid == NUMA_NO_NODE ? 0 : nid);
  const head = changetype<usize>(n) + NODE_PARTIAL;
  while (true) {
    const flags = spin_lock_irqsave(node_lock(n));
    while (!list_empty(head)) {
      const slab = lru_slab(list_next(head));
      const obj = slab_freelist(slab);
      if ((s.flags & SLAB_CONSISTENCY_CHECKS) != 0 && (!check_slab(s, slab) || !on_freelist(s, slab, 0))) {
        // Reported: nothing more is taken from this slab (Linux: "Marking all objects used").
        const objects = slab_objects(s, slab);
        if (slab_inuse(slab) < objects) n.nr_isolated += objects - slab_inuse(slab);
        set_slab_freelist(slab, 0);
        set_slab_inuse(slab, objects);
        remove_partial(n, slab);
        add_full(n, slab);
        continue;
      }
      if (obj == 0) { remove_partial(n, slab); add_full(n, slab); continue; } // counters off: no free object after all
      let ok = true;
      if (!check_valid_pointer(s, slab, obj)) {
        count(offsetof<slub_report_counts>("freepointer"));
        const rf = spin_lock_irqsave(report_lock);
        scnprintf(msg_buf, 160, "Freelist Pointer check fails");
        __slab_err(s, slab);
        scnprintf(msg_buf, 160, "Isolating the slab's free objects");
        slab_fix(s, msg_buf);
        spin_unlock_irqrestore(report_lock, rf);
        set_slab_freelist(slab, 0);
        set_slab_inuse(slab, slab_objects(s, slab));
        remove_partial(n, slab);
        add_full(n, slab);
        continue;
      }
      if (!check_object(s, slab, obj, SLUB_RED_INACTIVE)) ok = false;
      const next = get_freepointer(s, obj);
      set_slab_freelist(slab, next);
      set_slab_inuse(slab, slab_inuse(slab) + 1);
      if (next == 0) {
        // The rest of the freelist may be lost (a corrupt free pointer was zapped): count what is left.
        remove_partial(n, slab);
        add_full(n, slab);
        const objects = slab_objects(s, slab);
        if (slab_inuse(slab) != objects) {
          n.nr_isolated += objects - slab_inuse(slab);
          set_slab_inuse(slab, objects);
        }
      }
      if (!ok) {
        isolate_object(s, slab, obj, n, "isolated: it will not be handed out again");
        continue;
      }
      set_freepointer(s, obj, OBJ_ACTIVE);
      init_object(s, obj, SLUB_RED_ACTIVE);
      if (s.flags & SLAB_STORE_USER) set_track(s, obj, TRACK_ALLOC, api_sp);
      this_cpu_slab(s).alloc_slowpath++;
      spin_unlock_irqrestore(node_lock(n), flags);
      return obj;
    }
    spin_unlock_irqrestore(node_lock(n), flags);
    const slab = new_slab(s, gfp, nid);
    if (isnull(slab)) return 0;
    const f = spin_lock_irqsave(node_lock(n));
    add_partial(n, slab, false);
    this_cpu_slab(s).alloc_slab++;
    spin_unlock_irqrestore(node_lock(n), f);
  }
  return 0;
}

const FREE_DONE: i32 = 0;
const FREE_REFUSED: i32 = 1;
const FREE_ISOLATED: i32 = 2;

/**
 * Linux free_debug_processing: is this a free of an allocated object with
 * intact red zones? FREE_REFUSED: reported, not freed (a double free);
 * FREE_ISOLATED: reported, the caller's object is taken out of use.
 * List lock held.
 */
function free_debug_processing(s: kmem_cache, slab: page, obj: usize, n: kmem_cache_node, api_sp: u64): i32 {
  if ((s.flags & SLAB_CONSISTENCY_CHECKS) != 0 && !check_slab(s, slab)) return FREE_REFUSED;
  const state = get_freepointer(s, obj);
  // The state word says "allocated" or "isolated"; anything else is a free pointer, or an
  // allocated object's slot overwritten from the object before it: the freelist decides.
  let on_list = false;
  if ((s.flags & SLAB_CONSISTENCY_CHECKS) != 0) on_list = on_freelist(s, slab, obj);
  else if (state != OBJ_ACTIVE && state != OBJ_ISOLATED) on_list = freelist_contains(s, slab, obj);
  if (on_list || state == OBJ_ISOLATED) {
    count(offsetof<slub_report_counts>("double_free"));
    object_err(s, slab, obj, "Object already free");
    if (state == OBJ_ISOLATED) {
      scnprintf(msg_buf, 160, "Object 0x%016lx was isolated after an earlier report: not freed", P(obj));
      slab_fix(s, msg_buf);
    }
    return FREE_REFUSED;
  }
  if (!check_object(s, slab, obj, SLUB_RED_ACTIVE)) {
    scnprintf(msg_buf, 160, "Object at 0x%016lx not freed", P(obj));
    slab_fix(s, msg_buf);
    isolate_object(s, slab, obj, n, "isolated: it will not be handed out again");
    return FREE_ISOLATED;
  }
  if (s.flags & SLAB_STORE_USER) set_track(s, obj, TRACK_FREE, api_sp);
  init_object(s, obj, SLUB_RED_INACTIVE);
  return FREE_DONE;
}

// --- freeing --------------------------------------------------------------------------------------

/** Report a double free caught by the naive check (an object at the head of a freelist). */
function naive_double_free(s: kmem_cache, slab: page, obj: usize): void {
  count(offsetof<slub_report_counts>("double_free"));
  object_err(s, slab, obj, "Object already free");
}

/**
 * Put `obj` on its slab's freelist under the list lock, moving the slab
 * between lists or giving it back (Linux __slab_free). `debug`: the debug
 * checks first.
 */
function __slab_free(s: kmem_cache, slab: page, obj: usize, api_sp: u64): void {
  const n = get_node(s, page_to_nid(slab));
  const flags = spin_lock_irqsave(node_lock(n));
  if (kmem_cache_debug(s)) {
    const r = free_debug_processing(s, slab, obj, n, api_sp);
    if (r == FREE_REFUSED) { spin_unlock_irqrestore(node_lock(n), flags); return; }
    this_cpu_slab(s).free_slowpath++;
    if (r == FREE_ISOLATED) { spin_unlock_irqrestore(node_lock(n), flags); return; }
  } else {
    if (obj == slab_freelist(slab)) { spin_unlock_irqrestore(node_lock(n), flags); naive_double_free(s, slab, obj); return; }
    this_cpu_slab(s).free_slowpath++;
  }
  const objects = slab_objects(s, slab);
  const was_full = slab_inuse(slab) == objects && !slab_frozen(slab);
  set_freepointer(s, obj, slab_freelist(slab));
  set_slab_freelist(slab, obj);
  const inuse = slab_inuse(slab) - 1;
  set_slab_inuse(slab, inuse);
  if (slab_frozen(slab)) { spin_unlock_irqrestore(node_lock(n), flags); return; } // a CPU's slab: it picks the object up
  let discard = false;
  if (inuse == 0 && n.nr_partial >= s.min_partial) {
    if (was_full) remove_full(n, slab); else remove_partial(n, slab);
    discard = true;
  } else if (was_full) {
    remove_full(n, slab);
    add_partial(n, slab, true);
  }
  spin_unlock_irqrestore(node_lock(n), flags);
  if (discard) discard_slab(s, slab);
}

/** Free `obj` of slab `slab` of `s` (checked): the fast path, else __slab_free. */
function do_slab_free(s: kmem_cache, slab: page, obj: usize, api_sp: u64): void {
  if (!kmem_cache_debug(s)) {
    const flags = local_irq_save();
    const c = this_cpu_slab(s);
    if (<usize>c.slab == changetype<usize>(slab)) {
      if (obj == <usize>c.freelist) {
        local_irq_restore(flags);
        naive_double_free(s, slab, obj);
        return;
      }
      set_freepointer(s, obj, <usize>c.freelist);
      c.freelist = <u32>obj;
      c.free_fastpath++;
      local_irq_restore(flags);
      return;
    }
    local_irq_restore(flags);
  }
  __slab_free(s, slab, obj, api_sp);
}

/** A free of something that is not a slab object (Linux virt_to_cache's WARN). */
function not_a_slab_object(fn: string, obj: usize): void {
  count(offsetof<slub_report_counts>("not_slab"));
  pr_err("%s: Object 0x%016lx is not a Slab page!\n", changetype<usize>(fn), P(obj));
  dump_stack();
}

/**
 * Free object `obj` of slab `slab`, whoever's cache `s` the caller named
 * (0: the object's own): the wrong-cache warning, the pointer check, then
 * the free. For mm/kmalloc.ts. Context: any.
 */
export function __kmem_cache_free_slab(s: kmem_cache, slab: page, obj: usize, api_sp: u64): void {
  const cachep = slab_cache_of(slab);
  if (!isnull(s) && cachep !== s) {
    // Linux cache_from_obj: warn, then free to the object's own cache.
    count(offsetof<slub_report_counts>("wrong_cache"));
    const flags = spin_lock_irqsave(report_lock);
    pr_warn("------------[ cut here ]------------\n");
    pr_warn("kmem_cache_free: Wrong slab cache. %s but object is from %s\n", <u64>s.name, <u64>cachep.name);
    pr_warn("WARNING: CPU: %d PID: %d at mm/slub.ts cache_from_obj\n", smp_processor_id(), current_pid() < 0 ? 0 : current_pid());
    print_tracking(cachep, obj);
    dump_stack();
    pr_warn("---[ end trace 0000000000000000 ]---\n");
    spin_unlock_irqrestore(report_lock, flags);
  }
  if (!check_valid_pointer(cachep, slab, obj)) {
    count(offsetof<slub_report_counts>("invalid_pointer"));
    const flags = spin_lock_irqsave(report_lock);
    scnprintf(msg_buf, 160, "Invalid object pointer 0x%016lx", P(obj));
    __slab_err(cachep, slab);
    scnprintf(msg_buf, 160, "Object at 0x%016lx not freed", P(obj));
    slab_fix(cachep, msg_buf);
    spin_unlock_irqrestore(report_lock, flags);
    return;
  }
  do_slab_free(cachep, slab, obj, api_sp);
}

/** kmem_cache_free with the caller's stack pointer (for the wrappers in mm/kmalloc.ts). */
export function __kmem_cache_free(s: kmem_cache, obj: usize, api_sp: u64): void {
  if (obj == 0) return;
  const slab = virt_to_slab(obj);
  if (isnull(slab)) { not_a_slab_object("kmem_cache_free", obj); return; }
  __kmem_cache_free_slab(s, slab, obj, api_sp);
}

// --- allocation -----------------------------------------------------------------------------------

/** The allocation path with the API function's stack pointer (for mm/kmalloc.ts). 0 on failure. */
export function __kmem_cache_alloc(s: kmem_cache, gfp: gfp_t, nid: i32, api_sp: u64): usize {
  if (isnull(s)) return 0;
  if (s !== kmem_cache_cache() && should_failslab(changetype<usize>(s), gfp)) return 0; // Linux: no injection for kmem_cache
  if (gfpflags_allow_blocking(gfp)) might_sleep("mm/slub.ts (slab_alloc)");
  let obj: usize;
  if (kmem_cache_debug(s)) {
    obj = slab_alloc_debug(s, gfp, nid, api_sp);
  } else {
    const flags = local_irq_save();
    const c = this_cpu_slab(s);
    obj = <usize>c.freelist;
    if (obj != 0 && (nid == NUMA_NO_NODE || page_to_nid(changetype<page>(<usize>c.slab)) == nid)) {
      c.freelist = <u32>get_freepointer(s, obj);
      c.alloc_fastpath++;
    } else {
      obj = ___slab_alloc(s, gfp, flags, nid);
    }
    local_irq_restore(flags);
  }
  if (obj == 0) {
    slab_out_of_memory(s, gfp, nid);
    return 0;
  }
  if (gfp & __GFP_ZERO) memory.fill(obj, 0, <usize>s.object_size);
  return obj;
}

/**
 * Allocate an object from `s` (Linux kmem_cache_alloc). Returns it, or 0
 * (NULL) when no memory could be had with `gfp` (or failslab said so).
 * Context: any, with non-sleeping flags; GFP_KERNEL and other sleeping
 * flags in process context only.
 */
// @ts-ignore: decorator
@inline export function kmem_cache_alloc(s: kmem_cache, gfp: gfp_t): usize {
  return __kmem_cache_alloc(s, gfp, NUMA_NO_NODE, sp_read());
}

/** kmem_cache_alloc of a zeroed object (the first object_size bytes). 0 on failure. Context: as kmem_cache_alloc. */
// @ts-ignore: decorator
@inline export function kmem_cache_zalloc(s: kmem_cache, gfp: gfp_t): usize {
  return __kmem_cache_alloc(s, gfp | __GFP_ZERO, NUMA_NO_NODE, sp_read());
}

/** kmem_cache_alloc from node `nid` (NUMA_NO_NODE: any; only node 0 exists). 0 on failure. */
// @ts-ignore: decorator
@inline export function kmem_cache_alloc_node(s: kmem_cache, gfp: gfp_t, nid: i32): usize {
  return __kmem_cache_alloc(s, gfp, nid, sp_read());
}

/**
 * Give object `obj` back to cache `s` (Linux kmem_cache_free). NULL is
 * ignored. A pointer that is not an object start, not in a slab, or
 * already free is reported and not freed; an object of another cache is
 * reported and freed to its own cache. Context: any (never sleeps).
 */
// @ts-ignore: decorator
@inline export function kmem_cache_free(s: kmem_cache, obj: usize): void {
  __kmem_cache_free(s, obj, sp_read());
}

/** The object size the cache was created with (Linux kmem_cache_size). Context: any. */
export function kmem_cache_size(s: kmem_cache): u32 { return s.object_size; }

/**
 * The usable bytes of an object of `s` (Linux slab_ksize): the whole
 * stride, less the metadata a debug cache keeps after the object.
 */
export function slab_ksize(s: kmem_cache): u32 {
  if (s.flags & (SLAB_RED_ZONE | SLAB_POISON)) return s.object_size;
  if (s.flags & SLAB_STORE_USER) return s.inuse;
  if (s.ctor != 0) return s.inuse; // the free pointer lives after the object
  return s.size;
}

// --- caches ---------------------------------------------------------------------------------------

/** Set up descriptor `s` (zeroed, room for `nr_cpus` CPUs) (Linux kmem_cache_open). False: no layout fits. */
function kmem_cache_open(s: kmem_cache, name: string, size: u32, align: u32, flags: u32, ctor: usize, nr_cpus: i32): bool {
  memory.fill(changetype<usize>(s), 0, <usize>kmem_cache_struct_size(nr_cpus));
  s.name = changetype<usize>(name);
  s.object_size = size;
  s.ctor = ctor;
  s.flags = kmem_cache_flags(flags, name);
  s.align = calculate_alignment(s.flags, align, size);
  if (!calculate_sizes(s)) return false;
  set_min_partial(s);
  for (let nid = 0; nid < MAX_NUMNODES; nid++) init_kmem_cache_node(get_node(s, nid));
  s.nr_cpus = nr_cpus;
  s.refcount = 1;
  return true;
}

function cpus_for_caches(): i32 {
  let n = nr_cpu_ids;
  if (n < 1) n = 1;
  if (n > NR_CPUS) n = NR_CPUS;
  return n;
}

function link_cache(s: kmem_cache): void {
  const flags = spin_lock_irqsave(slab_caches_lock);
  list_add(changetype<usize>(s) + offsetof<kmem_cache>("list_next"), slab_caches);
  spin_unlock_irqrestore(slab_caches_lock, flags);
}

/** Create a cache with a descriptor from kmem_cache_cache. `gfp`: GFP_NOWAIT at boot. Returns null and the error. */
let create_error: i32 = 0;
function create_cache(name: string, size: u32, align: u32, flags: u32, ctor: usize, gfp: gfp_t, percpu: bool): kmem_cache {
  const null_cache = changetype<kmem_cache>(0);
  create_error = 0;
  if (slab_state < SLAB_PARTIAL) { create_error = -16; return null_cache; } // -EBUSY: before kmem_cache_init
  if (changetype<usize>(name) == 0 || size == 0 || size > MAX_OBJECT_SIZE) { create_error = -22; return null_cache; }
  if (flags & ~CACHE_CREATE_MASK) { create_error = -22; return null_cache; }
  if (align != 0 && ((align & (align - 1)) != 0 || align > PAGE_SIZE)) { create_error = -22; return null_cache; }
  const nr_cpus = cpus_for_caches();
  const s = changetype<kmem_cache>(__kmem_cache_alloc(kmem_cache_cache(), gfp, NUMA_NO_NODE, 0));
  if (isnull(s)) { create_error = -12; return null_cache; }
  if (!kmem_cache_open(s, name, size, align, flags, ctor, nr_cpus)) {
    __kmem_cache_free(kmem_cache_cache(), changetype<usize>(s), 0);
    create_error = -22;
    return null_cache;
  }
  if (percpu) {
    const pc = alloc_percpu_gfp(KMEM_CACHE_CPU_SIZE, gfp); // zeroed on every CPU
    if (pc == 0) {
      __kmem_cache_free(kmem_cache_cache(), changetype<usize>(s), 0);
      create_error = -12;
      return null_cache;
    }
    s.cpu_slab = pc;
  }
  link_cache(s);
  return s;
}

/**
 * Create a cache of `size`-byte objects (Linux kmem_cache_create): `align`
 * 0 or a power of two ≤ PAGE_SIZE, `flags` SLAB_* (the debug ones, and the
 * command line's slub_debug, add checks), `ctor` a (obj: usize) => void as
 * changetype<usize>(fn), run on every object when its slab is set up (0 =
 * none). `name` must outlive the cache. Returns the cache, or null on
 * failure (with a warning and the stack; SLAB_PANIC panics instead).
 * Context: process context (may sleep).
 */
export function kmem_cache_create(name: string, size: u32, align: u32, flags: u32, ctor: usize): kmem_cache {
  const s = create_cache(name, size, align, flags, ctor, GFP_KERNEL, true);
  if (isnull(s)) {
    if (flags & SLAB_PANIC) panic("kmem_cache_create: Failed to create slab '%s'. Error %d", changetype<usize>(name), create_error);
    pr_warn("kmem_cache_create(%s) failed with error %d\n", changetype<usize>(name), create_error);
    dump_stack();
  }
  return s;
}

/** A boot cache (Linux create_boot_cache): kmalloc's. Panics on failure. Context: boot. */
export function create_boot_cache(name: string, size: u32, align: u32, flags: u32): kmem_cache {
  const s = create_cache(name, size, align, flags, 0, GFP_NOWAIT, false);
  if (isnull(s)) panic("Creation of kmalloc slab %s size=%u failed. Reason %d", changetype<usize>(name), size, create_error);
  return s;
}

/** Live objects of `s`: allocations minus frees since creation, every CPU (CONFIG_SLUB_STATS sums). Context: any. */
export function kmem_cache_live_objects(s: kmem_cache): i64 {
  let n: i64 = 0;
  for (let cpu = 0; cpu < s.nr_cpus; cpu++) {
    const c = cpu_slab_of(s, cpu);
    n += <i64>(atomic.load<u64>(changetype<usize>(c), offsetof<kmem_cache_cpu>("alloc_fastpath")) +
      atomic.load<u64>(changetype<usize>(c), offsetof<kmem_cache_cpu>("alloc_slowpath")));
    n -= <i64>(atomic.load<u64>(changetype<usize>(c), offsetof<kmem_cache_cpu>("free_fastpath")) +
      atomic.load<u64>(changetype<usize>(c), offsetof<kmem_cache_cpu>("free_slowpath")));
  }
  return n;
}

/** Sum of one per-CPU statistic (offsetof<kmem_cache_cpu>(field)). Context: any. */
export function kmem_cache_stat(s: kmem_cache, field: usize): u64 {
  let n: u64 = 0;
  for (let cpu = 0; cpu < s.nr_cpus; cpu++) n += atomic.load<u64>(changetype<usize>(cpu_slab_of(s, cpu)) + field);
  return n;
}

/** Slabs of `s` on every node (any state). Context: any. */
export function kmem_cache_nr_slabs(s: kmem_cache): u64 {
  let n: u64 = 0;
  for (let nid = 0; nid < nr_online_nodes; nid++) n += atomic.load<u64>(changetype<usize>(get_node(s, nid)), offsetof<kmem_cache_node>("nr_slabs"));
  return n;
}

/** Bitmap of an object's index for list_slab_objects (Linux object_map, under object_map_lock). */
const object_map: usize = memory.data(<i32>(MAX_OBJS_PER_PAGE / 8 + 8), 8);

/**
 * Linux list_slab_objects: report the objects of `slab` that are neither
 * free nor isolated. List lock held.
 */
function list_slab_objects(s: kmem_cache, slab: page): void {
  const objects = slab_objects(s, slab);
  const mf = spin_lock_irqsave(map_lock);
  memory.fill(object_map, 0, <usize>((objects + 7) / 8));
  const base = slab_address(slab);
  const first = base + <usize>s.red_left_pad;
  let nr: u32 = 0;
  for (let p = slab_freelist(slab); p != 0 && nr < objects && check_valid_pointer(s, slab, p); p = get_freepointer(s, p)) {
    const idx = <u32>((p - first) / <usize>s.size);
    store<u8>(object_map + <usize>(idx >> 3), <u8>(<u32>load<u8>(object_map + <usize>(idx >> 3)) | (<u32>1 << (idx & 7))));
    nr++;
  }
  const rf = spin_lock_irqsave(report_lock);
  scnprintf(msg_buf, 160, "Objects remaining in %s on __kmem_cache_shutdown()", <u64>s.name);
  __slab_err(s, slab);
  for (let i: u32 = 0; i < objects; i++) {
    if ((<u32>load<u8>(object_map + <usize>(i >> 3)) & (<u32>1 << (i & 7))) != 0) continue;
    const p = first + <usize>(i * s.size);
    if (kmem_cache_debug(s) && get_freepointer(s, p) == OBJ_ISOLATED) continue;
    pr_err("INFO: Object 0x%016lx @offset=%u\n", P(p), <u64>(p - base));
    print_tracking(s, p);
  }
  spin_unlock_irqrestore(report_lock, rf);
  spin_unlock_irqrestore(map_lock, mf);
}

/**
 * Linux __kmem_cache_shutdown, after flush_all: with no live object, every
 * slab goes back (isolated objects with them); else the slabs holding
 * objects are reported and nothing is given back but empty slabs.
 * Returns true when the cache is empty.
 */
function __kmem_cache_shutdown(s: kmem_cache): bool {
  const live = kmem_cache_live_objects(s);
  let chain: usize = 0;
  for (let nid = 0; nid < MAX_NUMNODES; nid++) {
    const n = get_node(s, nid);
    const flags = spin_lock_irqsave(node_lock(n));
    for (let which = 0; which < 2; which++) {
      const head = changetype<usize>(n) + (which == 0 ? NODE_PARTIAL : NODE_FULL);
      let e = list_next(head);
      while (e != head) {
        const next = list_next(e);
        const slab = lru_slab(e);
        if (live <= 0 || slab_inuse(slab) == 0) {
          if (which == 0) remove_partial(n, slab); else remove_full(n, slab);
          slab.lru_next = <u32>chain;
          chain = changetype<usize>(slab);
        } else {
          if (live > 0) list_slab_objects(s, slab);
        }
        e = next;
      }
    }
    if (live <= 0) n.nr_isolated = 0;
    spin_unlock_irqrestore(node_lock(n), flags);
  }
  discard_chain(s, chain);
  if (live > 0) count(offsetof<slub_report_counts>("objects_remaining"));
  return live <= 0;
}

/**
 * Destroy cache `s` (Linux kmem_cache_destroy): NULL is ignored; with
 * objects still allocated, they are reported ("Objects remaining in …")
 * and the cache stays (usable; destroy it again once they are freed).
 * Context: process context (flush_all sends IPIs).
 */
export function kmem_cache_destroy(s: kmem_cache): void {
  if (isnull(s)) return;
  let flags = spin_lock_irqsave(slab_caches_lock);
  s.refcount--;
  const busy = s.refcount > 0;
  spin_unlock_irqrestore(slab_caches_lock, flags);
  if (busy) return;
  flush_all(s);
  if (!__kmem_cache_shutdown(s)) {
    flags = spin_lock_irqsave(slab_caches_lock);
    s.refcount = 1;
    s.destroy_failed++;
    spin_unlock_irqrestore(slab_caches_lock, flags);
    pr_err("kmem_cache_destroy %s: Slab cache still has objects\n", <u64>s.name);
    dump_stack();
    return;
  }
  flags = spin_lock_irqsave(slab_caches_lock);
  list_del_init(changetype<usize>(s) + offsetof<kmem_cache>("list_next"));
  spin_unlock_irqrestore(slab_caches_lock, flags);
  free_percpu(s.cpu_slab); // 0 (a boot cache) is ignored
  __kmem_cache_free(kmem_cache_cache(), changetype<usize>(s), 0);
}

/**
 * Give every empty slab of `s` back to the page allocator, after every CPU
 * has given its slab back (Linux kmem_cache_shrink). Returns 0 when the
 * cache holds no slab any more, 1 when some remain (Linux
 * __kmem_cache_do_shrink). Context: process context (IPIs).
 */
export function kmem_cache_shrink(s: kmem_cache): i32 {
  flush_all(s);
  let chain: usize = 0;
  for (let nid = 0; nid < MAX_NUMNODES; nid++) {
    const n = get_node(s, nid);
    const flags = spin_lock_irqsave(node_lock(n));
    const head = changetype<usize>(n) + NODE_PARTIAL;
    let e = list_next(head);
    while (e != head) {
      const next = list_next(e);
      const slab = lru_slab(e);
      if (slab_inuse(slab) == 0) {
        remove_partial(n, slab);
        slab.lru_next = <u32>chain;
        chain = changetype<usize>(slab);
      }
      e = next;
    }
    spin_unlock_irqrestore(node_lock(n), flags);
  }
  discard_chain(s, chain);
  return kmem_cache_nr_slabs(s) != 0 ? 1 : 0;
}

/** The cache's name (an AS string). Context: any. */
export function kmem_cache_name(s: kmem_cache): string { return changetype<string>(s.name); }

/** Is `s` on the list of caches? Context: any (takes slab_caches_lock). */
export function kmem_cache_exists(s: kmem_cache): bool {
  const flags = spin_lock_irqsave(slab_caches_lock);
  let found = false;
  for (let e = list_next(slab_caches); e != slab_caches; e = list_next(e)) if (e - offsetof<kmem_cache>("list_next") == changetype<usize>(s)) found = true;
  spin_unlock_irqrestore(slab_caches_lock, flags);
  return found;
}

/** Caches on the list. Context: any. */
export function kmem_cache_count(): i32 {
  const flags = spin_lock_irqsave(slab_caches_lock);
  let n = 0;
  for (let e = list_next(slab_caches); e != slab_caches; e = list_next(e)) n++;
  spin_unlock_irqrestore(slab_caches_lock, flags);
  return n;
}

// --- boot -----------------------------------------------------------------------------------------

/**
 * Bring up the cache of cache descriptors (Linux kmem_cache_init's first
 * half and bootstrap()): a static descriptor makes the first slab, the
 * real descriptor is an object of that slab, and the slabs move over to it.
 * Context: boot CPU, before SMP, after the page allocator; once.
 */
export function kmem_cache_init_boot(): void {
  INIT_LIST_HEAD(slab_caches);
  const nr_cpus = cpus_for_caches();
  if (offsetof<kmem_cache>() > KMEM_CACHE_HEADER || offsetof<kmem_cache_node>() != KMEM_CACHE_NODE_SIZE ||
      offsetof<kmem_cache_cpu>() != KMEM_CACHE_CPU_SIZE) panic("slub: descriptor layout");
  const boot = changetype<kmem_cache>(boot_kmem_cache);
  if (!kmem_cache_open(boot, "kmem_cache", kmem_cache_struct_size(nr_cpus), 0, SLAB_HWCACHE_ALIGN, 0, nr_cpus)) panic("slub: no layout for kmem_cache");
  kmem_cache_cache_p = changetype<usize>(boot);
  slab_state = SLAB_PARTIAL;
  const s = changetype<kmem_cache>(__kmem_cache_alloc(boot, GFP_NOWAIT, NUMA_NO_NODE, 0));
  if (isnull(s)) panic("slub: no memory for the kmem_cache descriptor");
  // bootstrap(): this CPU's slab back to the node lists, then everything over to the copy.
  const flags = local_irq_save();
  flush_this_cpu_slab(boot);
  local_irq_restore(flags);
  memory.copy(changetype<usize>(s), boot_kmem_cache, <usize>kmem_cache_struct_size(nr_cpus));
  for (let nid = 0; nid < MAX_NUMNODES; nid++) {
    const from = get_node(boot, nid);
    const to = get_node(s, nid);
    INIT_LIST_HEAD(changetype<usize>(to) + NODE_PARTIAL);
    INIT_LIST_HEAD(changetype<usize>(to) + NODE_FULL);
    for (let which = 0; which < 2; which++) {
      const off = which == 0 ? NODE_PARTIAL : NODE_FULL;
      const fh = changetype<usize>(from) + off;
      while (!list_empty(fh)) {
        const e = list_next(fh);
        list_del_init(e);
        set_slab_cache(lru_slab(e), s);
        list_add_tail(e, changetype<usize>(to) + off);
      }
    }
  }
  kmem_cache_cache_p = changetype<usize>(s);
  link_cache(s);
  slab_vmcoreinfo_setup();
}

/**
 * What the host needs to read the caches, their slabs and objects, and the
 * memory map out of guest memory (emulator/inspect/slabinfo.ts, page.ts,
 * whatis.ts), in VMCOREINFO (kernel/vmcoreinfo.ts). The block is one page
 * shared by every subsystem, so only what the host cannot derive is there:
 *
 *   SYMBOL(slab_caches)        the list head; a cache is at entry − OFFSET(kmem_cache.list)
 *   kmem_cache                 name (AS string), object_size, size, inuse, offset (free
 *                              pointer), red_left_pad, flags, oo (the order: its objects are
 *                              (PAGE_SIZE << order) / size), cpu_slab (a per-CPU pointer; 0 =
 *                              the boot caches' array of NUMBER(pcpu_nr_units) entries right
 *                              after node[NUMBER(MAX_NUMNODES)]), node[]
 *   kmem_cache_node            partial (list_head of slab.slab_list), full right after it;
 *                              nr_slabs, total_objects right after it (u64 each)
 *   kmem_cache_cpu             freelist, slab (u32 kernel pointers)
 *   track                      SIZE, LENGTH(track.addrs): addrs[] (u64), then u64 when,
 *                              u16 cpu, u16 valid, i32 pid; two per object after the
 *                              free pointer (SLAB_STORE_USER)
 *   page, slab                 struct page and the slab fields overlaid on it (mm/page.ts)
 *   SYMBOL(mem_section)        LENGTH entries of {u64 start_pfn, u64 end_pfn, map}; map 0 = unused
 *   NUMBER(PG_*)               bit numbers of page.flags (as Linux's); PAGE_TYPE_* page_type values
 *
 * Context: boot, once (kmem_cache_init_boot).
 */
function slab_vmcoreinfo_setup(): void {
  vmcoreinfo_symbol("slab_caches", slab_caches);
  vmcoreinfo_offset("kmem_cache.list", offsetof<kmem_cache>("list_next"));
  vmcoreinfo_offset("kmem_cache.name", offsetof<kmem_cache>("name"));
  vmcoreinfo_offset("kmem_cache.object_size", offsetof<kmem_cache>("object_size"));
  vmcoreinfo_offset("kmem_cache.size", offsetof<kmem_cache>("size"));
  vmcoreinfo_offset("kmem_cache.inuse", offsetof<kmem_cache>("inuse"));
  vmcoreinfo_offset("kmem_cache.offset", offsetof<kmem_cache>("offset"));
  vmcoreinfo_offset("kmem_cache.red_left_pad", offsetof<kmem_cache>("red_left_pad"));
  vmcoreinfo_offset("kmem_cache.flags", offsetof<kmem_cache>("flags"));
  vmcoreinfo_offset("kmem_cache.oo", offsetof<kmem_cache>("oo_order"));
  vmcoreinfo_offset("kmem_cache.cpu_slab", offsetof<kmem_cache>("cpu_slab"));
  vmcoreinfo_offset("kmem_cache.node", NODE_OFFSET);
  vmcoreinfo_size("kmem_cache_node", KMEM_CACHE_NODE_SIZE);
  vmcoreinfo_offset("kmem_cache_node.partial", NODE_PARTIAL);
  vmcoreinfo_offset("kmem_cache_node.nr_slabs", offsetof<kmem_cache_node>("nr_slabs"));
  vmcoreinfo_size("kmem_cache_cpu", KMEM_CACHE_CPU_SIZE);
  vmcoreinfo_offset("kmem_cache_cpu.freelist", offsetof<kmem_cache_cpu>("freelist"));
  vmcoreinfo_offset("kmem_cache_cpu.slab", offsetof<kmem_cache_cpu>("slab"));
  vmcoreinfo_size("track", TRACK_SIZE);
  vmcoreinfo_append("LENGTH(track.addrs)=%d\n", TRACK_ADDRS_COUNT);
  // struct page and the memory map (mm/page.ts).
  vmcoreinfo_size("page", STRUCT_PAGE_SIZE);
  vmcoreinfo_offset("page.flags", offsetof<page>("flags"));
  vmcoreinfo_offset("page._refcount", offsetof<page>("_refcount"));
  vmcoreinfo_offset("page.private", offsetof<page>("private_"));
  vmcoreinfo_offset("page.page_type", offsetof<page>("page_type"));
  vmcoreinfo_offset("page.zone_id", offsetof<page>("zone_id"));
  vmcoreinfo_offset("page.compound_head", SLAB_HEAD_OFFSET);
  vmcoreinfo_offset("slab.slab_list", SLAB_LIST_OFFSET);
  vmcoreinfo_offset("slab.slab_cache", SLAB_CACHE_OFFSET);
  vmcoreinfo_offset("slab.counters", SLAB_COUNTERS_OFFSET);
  vmcoreinfo_offset("slab.freelist", SLAB_FREELIST_OFFSET);
  vmcoreinfo_symbol("mem_section", changetype<usize>(mem_section_of(0)));
  vmcoreinfo_size("mem_section", MEM_SECTION_SIZE);
  vmcoreinfo_append("LENGTH(mem_section)=%d\n", MAX_MEM_SECTIONS);
  vmcoreinfo_offset("mem_section.section_mem_map", offsetof<mem_section>("map"));
  vmcoreinfo_number("PG_reserved", ctz<u32>(PG_reserved));
  vmcoreinfo_number("PG_highmem", ctz<u32>(PG_highmem));
  vmcoreinfo_number("PG_pcp", ctz<u32>(PG_pcp));
  vmcoreinfo_number("PG_head", ctz<u32>(PG_head));
  vmcoreinfo_number("PG_dma_zone", ctz<u32>(PG_dma_zone));
  vmcoreinfo_number("PG_slab", ctz<u32>(PG_slab));
  vmcoreinfo_number("PAGE_TYPE_BUDDY", PAGE_TYPE_BUDDY);
  vmcoreinfo_number("PAGE_TYPE_LARGE_KMALLOC", PAGE_TYPE_LARGE_KMALLOC);
}

/** kmalloc's caches exist (Linux slab_state = UP / FULL). Called by mm/kmalloc.ts. */
export function slab_set_state(state: i32): void { slab_state = state; }

/** Linux slab_is_available(): may kmalloc be called? Context: any. */
export function slab_is_available(): bool { return slab_state >= SLAB_UP; }

// --- /proc/slabinfo -------------------------------------------------------------------------------

/** One row of /proc/slabinfo (Linux struct slabinfo). */
@unmanaged
export class slabinfo {
  active_objs: u64;
  num_objs: u64;
  active_slabs: u64;
  num_slabs: u64;
  objects_per_slab: u32;
  cache_order: u32;
}

/**
 * Linux get_slabinfo: objects and slabs of every node; active objects are
 * all but those free on partial slabs (objects on CPU freelists count as
 * active, as in Linux). Context: any (takes each node's list lock).
 */
export function get_slabinfo(s: kmem_cache, info: slabinfo): void {
  let nr_slabs: u64 = 0, nr_objs: u64 = 0, nr_free: u64 = 0;
  for (let nid = 0; nid < nr_online_nodes; nid++) {
    const n = get_node(s, nid);
    nr_slabs += atomic.load<u64>(changetype<usize>(n), offsetof<kmem_cache_node>("nr_slabs"));
    nr_objs += atomic.load<u64>(changetype<usize>(n), offsetof<kmem_cache_node>("total_objects"));
    nr_free += count_partial_free(n, s);
  }
  info.active_objs = nr_objs - nr_free;
  info.num_objs = nr_objs;
  info.active_slabs = nr_slabs;
  info.num_slabs = nr_slabs;
  info.objects_per_slab = s.oo_objects;
  info.cache_order = s.oo_order;
}

const MAX_SLABINFO_ROWS: i32 = 128;
const ROW_WORDS: i32 = 8;
const slabinfo_rows: usize = memory.data(MAX_SLABINFO_ROWS * ROW_WORDS * 8, 8);
const row_info = changetype<slabinfo>(memory.data(offsetof<slabinfo>(), 8));
const line_buf: usize = memory.data(256, 8);

/**
 * The body of /proc/slabinfo (Linux slab_show / cache_show, version 2.1):
 * the version line, the header, one row per cache, newest first. The rows
 * are copied under slab_caches_lock and printed after it (at most 128).
 * Context: process context; takes slab_caches_lock and the node locks.
 */
export function print_slabinfo_body(): void {
  const flags = spin_lock_irqsave(slab_caches_lock);
  let rows = 0;
  let more = 0;
  for (let e = list_next(slab_caches); e != slab_caches; e = list_next(e)) {
    if (rows >= MAX_SLABINFO_ROWS) { more++; continue; }
    const s = changetype<kmem_cache>(e - offsetof<kmem_cache>("list_next"));
    get_slabinfo(s, row_info);
    const r = slabinfo_rows + <usize>(rows * ROW_WORDS * 8);
    store<u64>(r, <u64>s.name);
    store<u64>(r, row_info.active_objs, 8);
    store<u64>(r, row_info.num_objs, 16);
    store<u64>(r, <u64>s.size, 24);
    store<u64>(r, <u64>row_info.objects_per_slab, 32);
    store<u64>(r, <u64>1 << row_info.cache_order, 40);
    store<u64>(r, row_info.active_slabs, 48);
    store<u64>(r, row_info.num_slabs, 56);
    rows++;
  }
  spin_unlock_irqrestore(slab_caches_lock, flags);
  pr_info("slabinfo - version: 2.1\n");
  pr_info("# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n");
  for (let i = 0; i < rows; i++) {
    const r = slabinfo_rows + <usize>(i * ROW_WORDS * 8);
    let n = scnprintf(line_buf, 256, "%-17s %6lu %6lu %6u %4u %4d", load<u64>(r), load<u64>(r, 8), load<u64>(r, 16), load<u64>(r, 24),
      load<u64>(r, 32), load<u64>(r, 40));
    n += scnprintf(line_buf + <usize>n, 256 - n, " : tunables %4u %4u %4u", 0, 0, 0);
    scnprintf(line_buf + <usize>n, 256 - n, " : slabdata %6lu %6lu %6lu", load<u64>(r, 48), load<u64>(r, 56), 0);
    pr_info("%pz\n", line_buf);
  }
  if (more > 0) pr_err("slabinfo: %d more caches not shown\n", more);
}
