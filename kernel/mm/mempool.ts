/**
 * Memory pools (Linux mm/mempool.c): a reserve of preallocated elements in
 * front of an allocator, so that an allocation that must make progress
 * under memory pressure (the I/O path freeing memory, say) always gets an
 * element eventually: either from the allocator, or from the reserve, or —
 * when it may sleep — from the next element someone gives back.
 *
 *   mempool_s (MEMPOOL_SIZE bytes)                   elements[] (capacity entries)
 *   ┌──────────────────────────────────────┐         ┌────┬────┬────┬────┬ ─ ─ ┐
 *   │ lock (spinlock_t, 16)                │         │ e0 │ e1 │ …  │    │     │
 *   │ min_nr  curr_nr  elements capacity ──┼───────▶ └────┴────┴────┴────┴ ─ ─ ┘
 *   │ pool_data  alloc  free  flags        │          [0, curr_nr) the reserve, a stack:
 *   │ wait (wait_queue_head, 32)           │          add at curr_nr, take at curr_nr − 1
 *   │ nr_out  nr_waits (statistics)        │
 *   └──────────────────────────────────────┘
 *
 * The allocator is a pair of functions, stored as pointers:
 *   alloc_fn(gfp: gfp_t, pool_data: usize) => usize     0 = failure
 *   free_fn(element: usize, pool_data: usize) => void
 * with helper pairs below for a page pool (pool_data = the order, elements
 * are struct pages), a kmalloc pool (pool_data = the size) and a slab pool
 * (pool_data = a kmem_cache).
 *
 * mempool_alloc(pool, gfp), Linux's order:
 *   1. alloc_fn with gfp | __GFP_NOWARN | __GFP_NORETRY | __GFP_NOMEMALLOC
 *      and without __GFP_DIRECT_RECLAIM | __GFP_IO: no reclaim, no retry
 *      loop, no emergency reserves, no warning — a failure is expected and
 *      the pool's own reserve is the answer;
 *   2. the reserve, if not empty;
 *   3. if step 1 ran without reclaim but gfp allows it: step 1 again with
 *      the caller's full flags (plus the three above), then the reserve;
 *   4. without __GFP_DIRECT_RECLAIM (GFP_ATOMIC, GFP_NOWAIT): NULL at once;
 *   5. else sleep on the pool's wait queue until mempool_free puts an
 *      element back, or MEMPOOL_WAIT_TIMEOUT (5 s, as Linux) passes — memory
 *      may have come back to the allocator meanwhile — and go to 3.
 * So an allocation that may sleep never returns NULL (Linux's guarantee);
 * it may wait for ever if nothing is ever freed.
 *
 * mempool_free(element, pool): back into the reserve while it holds fewer
 * than min_nr elements (waking the waiters), else to free_fn. A pool with
 * min_nr = 0 keeps one element (later Linux: otherwise a sleeper would only
 * ever be woken by its timeout).
 *
 * mempool_resize(pool, n): shrinking gives reserve elements beyond n to
 * free_fn at once; growing allocates with GFP_KERNEL until the reserve
 * holds n — if alloc_fn fails on the way, min_nr is n all the same and
 * later mempool_free calls fill it up (Linux: returns 0 then too; -ENOMEM
 * only when the element array cannot be had).
 *
 * mempool_destroy(pool): gives every reserve element to free_fn and frees
 * the pool. Elements still allocated from the pool are the caller's bug,
 * which Linux does not catch (they would be freed into freed memory later);
 * here the pool counts them (nr_out: mempool_alloc minus mempool_free) and
 * mempool_destroy warns when some are still out. The caller must then give
 * them back to the underlying allocator itself, never to mempool_free.
 *
 * Storage (as Linux): the descriptor of a mempool_create* pool is
 * kmalloc(MEMPOOL_SIZE) (kmalloc-96), the element array
 * kmalloc_array(max(min_nr, 1), sizeof(usize)) with the creation flags,
 * so their failure (failslab included) fails the creation. A mempool_init
 * pool lives in the caller's MEMPOOL_SIZE bytes (8-aligned); only its
 * array is kmalloc'ed. Growing beyond the array's length takes a new one
 * with GFP_KERNEL (-ENOMEM if that fails); shrinking keeps the array, so a
 * later grow within its length allocates nothing.
 *
 * Context and locks: pool->lock (irqsave: mempool_free may run in an
 * interrupt handler) guards the reserve; it is never held across alloc_fn,
 * free_fn, or sleeping. Lock order: pool->lock, then the wait queue's lock
 * (prepare_to_wait under pool->lock closes the window between "reserve
 * empty" and "asleep": a mempool_free in between finds the task queued).
 * mempool_alloc may be called from any context with non-sleeping flags;
 * with sleeping flags from process context only (might_sleep checks).
 * mempool_free from any context (if free_fn allows it). Creation, resize
 * and destruction: process context, may sleep.
 */
import { gfp_t, GFP_KERNEL, __GFP_DIRECT_RECLAIM, __GFP_IO, __GFP_NOWARN, __GFP_NORETRY, __GFP_NOMEMALLOC, __GFP_ZERO,
  gfpflags_allow_blocking } from "./gfp";
import { page } from "./page";
import { alloc_pages, __free_pages } from "./page_alloc";
import { kmem_cache, kmem_cache_alloc, kmem_cache_free } from "./slub";
import { kmalloc, kmalloc_array, kfree } from "./kmalloc";
import { NUMA_NO_NODE } from "./mmzone";
import { spinlock_t, spin_lock_init, spin_lock_irqsave, spin_unlock_irqrestore } from "../locking/spinlock";
import { WAIT_QUEUE_HEAD_SIZE, init_waitqueue_head, prepare_to_wait, finish_wait, wake_up, waitqueue_active } from "../sched/wait";
import { sched_running, schedule_timeout, schedule_timeout_uninterruptible, might_sleep, TASK_UNINTERRUPTIBLE } from "../sched/core";
import { this_cpu } from "../cpu";
import { HZ } from "../time/tick";
import { pr_warn } from "../printk";
import { BUG } from "../panic";
import { dump_stack } from "../arch/traps";

export const ENOMEM: i32 = 12;
export const EINVAL: i32 = 22;

/** How long a sleeping mempool_alloc waits for a mempool_free before trying the allocator again (Linux: 5*HZ). */
export const MEMPOOL_WAIT_TIMEOUT: u64 = 5 * <u64>HZ;

/** The pool descriptor (Linux struct mempool_s; mempool_t). Lay it over MEMPOOL_SIZE bytes, 8-aligned. */
@unmanaged
export class mempool_s {
  // spinlock_t lock (16 bytes)
  lock_next: u32;
  lock_owner: u32;
  lock_cpu: i32;
  lock_pad: u32;
  /** Elements the reserve is meant to hold. */
  min_nr: i32;
  /** Elements in the reserve now (0 … capacity). */
  curr_nr: i32;
  /** The reserve: an array of `capacity` element pointers. */
  elements: usize;
  /** Length of elements[] (Linux's array is always min_nr long; here it may be longer after a shrink). */
  capacity: i32;
  pool_data: usize;
  /** alloc_fn and free_fn (function pointers). */
  alloc: usize;
  free: usize;
  /** MEMPOOL_F_* (where the descriptor and the array came from). */
  flags: u32;
  // wait_queue_head wait (WAIT_QUEUE_HEAD_SIZE = 32 bytes)
  wait0: u64;
  wait1: u64;
  wait2: u64;
  wait3: u64;
  /** Elements handed out by mempool_alloc and not yet back through mempool_free (not in Linux). */
  nr_out: i32;
  /** Times a mempool_alloc went to sleep on this pool (not in Linux). */
  nr_waits: i32;
}

/** The pool type of the API (Linux's mempool_t typedef). */
export type mempool_t = mempool_s;

/** Bytes for a pool laid out by the caller (mempool_init); 8-aligned. */
export const MEMPOOL_SIZE: i32 = 96;

/** Flag: the descriptor came from mempool_create* (kmalloc), not from the caller (mempool_init). */
const MEMPOOL_F_CREATED: u32 = 1;

// @ts-ignore: decorator
@inline function pool_lock(pool: mempool_t): spinlock_t { return changetype<spinlock_t>(changetype<usize>(pool)); }
// @ts-ignore: decorator
@inline function pool_wait(pool: mempool_t): usize { return changetype<usize>(pool) + offsetof<mempool_s>("wait0"); }
// @ts-ignore: decorator
@inline function elem_slot(pool: mempool_t, i: i32): usize { return pool.elements + <usize>i * sizeof<usize>(); }
// @ts-ignore: decorator
@inline function NULL_POOL(): mempool_t { return changetype<mempool_t>(0); }

// --- storage (kmalloc) ---------------------------------------------------------------------------

/** A zeroed descriptor from kmalloc, or 0. */
function desc_alloc(gfp: gfp_t): usize {
  const p = kmalloc(<usize>MEMPOOL_SIZE, gfp);
  if (p == 0) return 0;
  memory.fill(p, 0, MEMPOOL_SIZE);
  return p;
}

function desc_free(p: usize): void { kfree(p); }

/** A kmalloc'ed array of `n` element pointers: sets pool.elements, pool.capacity. false = none to be had. */
function array_alloc(pool: mempool_t, n: i32, gfp: gfp_t): bool {
  const a = kmalloc_array(<usize>n, sizeof<usize>(), gfp);
  if (a == 0) return false;
  pool.elements = a;
  pool.capacity = n;
  return true;
}

function array_free(elements: usize): void { kfree(elements); }

// --- the reserve (pool->lock held) -------------------------------------------------------------

function add_element(pool: mempool_t, element: usize): void {
  if (pool.curr_nr >= pool.capacity || (pool.min_nr != 0 && pool.curr_nr >= pool.min_nr)) BUG("mempool: add_element beyond min_nr");
  store<usize>(elem_slot(pool, pool.curr_nr), element);
  atomic.store<i32>(changetype<usize>(pool), pool.curr_nr + 1, offsetof<mempool_s>("curr_nr"));
}

function remove_element(pool: mempool_t): usize {
  if (pool.curr_nr <= 0) BUG("mempool: remove_element from an empty reserve");
  const n = pool.curr_nr - 1;
  atomic.store<i32>(changetype<usize>(pool), n, offsetof<mempool_s>("curr_nr"));
  const e = load<usize>(elem_slot(pool, n));
  store<usize>(elem_slot(pool, n), 0);
  return e;
}

// @ts-ignore: decorator
@inline function call_alloc(pool: mempool_t, gfp: gfp_t): usize {
  return changetype<(gfp: gfp_t, pool_data: usize) => usize>(pool.alloc)(gfp, pool.pool_data);
}
// @ts-ignore: decorator
@inline function call_free(pool: mempool_t, element: usize): void {
  changetype<(element: usize, pool_data: usize) => void>(pool.free)(element, pool.pool_data);
}

// @ts-ignore: decorator
@inline function out_add(pool: mempool_t, d: i32): void { atomic.add<i32>(changetype<usize>(pool), d, offsetof<mempool_s>("nr_out")); }

// --- creation and destruction ------------------------------------------------------------------

/**
 * Give every reserve element to free_fn and release the element array
 * (Linux mempool_exit). For a pool set up by mempool_init; also safe on a
 * zeroed, never initialised one. Context: process context; sleeps only if
 * free_fn does.
 */
export function mempool_exit(pool: mempool_t): void {
  while (pool.curr_nr > 0) {
    const flags = spin_lock_irqsave(pool_lock(pool));
    const e = pool.curr_nr > 0 ? remove_element(pool) : 0;
    spin_unlock_irqrestore(pool_lock(pool), flags);
    if (e != 0) call_free(pool, e);
  }
  if (pool.elements != 0) array_free(pool.elements);
  pool.elements = 0;
  pool.capacity = 0;
}

/**
 * Set up a pool in caller storage (MEMPOOL_SIZE bytes, 8-aligned) and
 * fill its reserve: min_nr elements (one when min_nr is 0) from alloc_fn
 * with `gfp` (Linux mempool_init_node; `nid` only says where the element
 * array should live, and there is one node). Returns 0, -EINVAL for
 * min_nr < 0, or -ENOMEM (nothing is left allocated).
 * Context: process context; may sleep if gfp allows it.
 */
export function mempool_init_node(pool: mempool_t, min_nr: i32, alloc_fn: usize, free_fn: usize, pool_data: usize,
    gfp: gfp_t, nid: i32): i32 {
  // The layout promises (folded away at compile time).
  if (offsetof<mempool_s>() > <usize>MEMPOOL_SIZE || offsetof<mempool_s>("nr_out") - offsetof<mempool_s>("wait0") < <usize>WAIT_QUEUE_HEAD_SIZE) {
    BUG("mempool_s outgrew MEMPOOL_SIZE");
  }
  memory.fill(changetype<usize>(pool), 0, MEMPOOL_SIZE);
  if (min_nr < 0 || alloc_fn == 0 || free_fn == 0) return -EINVAL;
  spin_lock_init(pool_lock(pool));
  pool.min_nr = min_nr;
  pool.pool_data = pool_data;
  pool.alloc = alloc_fn;
  pool.free = free_fn;
  init_waitqueue_head(pool_wait(pool));
  const want = min_nr > 0 ? min_nr : 1;
  if (!array_alloc(pool, want, gfp)) return -ENOMEM;
  // First preallocate the guaranteed number of elements.
  while (pool.curr_nr < want) {
    const e = call_alloc(pool, gfp);
    if (e == 0) {
      mempool_exit(pool);
      return -ENOMEM;
    }
    const flags = spin_lock_irqsave(pool_lock(pool));
    add_element(pool, e);
    spin_unlock_irqrestore(pool_lock(pool), flags);
  }
  return 0;
}

/** mempool_init_node with GFP_KERNEL, any node (Linux mempool_init). Context: process context, may sleep. */
export function mempool_init(pool: mempool_t, min_nr: i32, alloc_fn: usize, free_fn: usize, pool_data: usize): i32 {
  return mempool_init_node(pool, min_nr, alloc_fn, free_fn, pool_data, GFP_KERNEL, NUMA_NO_NODE);
}

/**
 * Create a pool whose reserve holds min_nr elements from alloc_fn, taken
 * now with `gfp` (Linux mempool_create_node). alloc_fn is
 * changetype<usize>((gfp: gfp_t, pool_data: usize) => usize), free_fn
 * changetype<usize>((element: usize, pool_data: usize) => void). Returns
 * the pool, or null (no descriptor, no array, or alloc_fn failed — then
 * everything taken is given back). Context: process context; may sleep if
 * gfp allows it (and alloc_fn / free_fn may sleep whenever mempool_alloc
 * is not called from an interrupt).
 */
export function mempool_create_node(min_nr: i32, alloc_fn: usize, free_fn: usize, pool_data: usize, gfp: gfp_t, nid: i32): mempool_t {
  const p = desc_alloc(gfp);
  if (p == 0) return NULL_POOL();
  const pool = changetype<mempool_t>(p);
  if (mempool_init_node(pool, min_nr, alloc_fn, free_fn, pool_data, gfp, nid) != 0) {
    desc_free(p);
    return NULL_POOL();
  }
  pool.flags |= MEMPOOL_F_CREATED;
  return pool;
}

/** mempool_create_node with GFP_KERNEL, any node (Linux mempool_create). Context: process context, may sleep. Null on failure. */
export function mempool_create(min_nr: i32, alloc_fn: usize, free_fn: usize, pool_data: usize): mempool_t {
  return mempool_create_node(min_nr, alloc_fn, free_fn, pool_data, GFP_KERNEL, NUMA_NO_NODE);
}

/**
 * Free the reserve and the pool (Linux mempool_destroy); null is ignored.
 * Every element taken from the pool must have been given back first (see
 * the note at the top: warned about here, not in Linux). Context: process
 * context; sleeps only if free_fn does.
 */
export function mempool_destroy(pool: mempool_t): void {
  if (changetype<usize>(pool) == 0) return;
  const out = atomic.load<i32>(changetype<usize>(pool), offsetof<mempool_s>("nr_out"));
  if (out > 0) {
    pr_warn("mempool_destroy: pool %p destroyed with %d element(s) still allocated from it\n", changetype<usize>(pool), out);
    dump_stack();
  }
  mempool_exit(pool);
  if (pool.flags & MEMPOOL_F_CREATED) desc_free(changetype<usize>(pool));
}

/** Has the pool been set up (Linux mempool_initialized)? Context: any. */
export function mempool_initialized(pool: mempool_t): bool { return pool.elements != 0; }

/** Does the reserve hold min_nr elements (Linux mempool_is_saturated)? Context: any (a snapshot). */
export function mempool_is_saturated(pool: mempool_t): bool {
  return atomic.load<i32>(changetype<usize>(pool), offsetof<mempool_s>("curr_nr")) >= pool.min_nr;
}

// --- resize -----------------------------------------------------------------------------------

/**
 * Change the reserve's target to new_min_nr (Linux mempool_resize).
 * Shrinking gives the surplus reserve elements to free_fn now; growing
 * takes elements from alloc_fn with GFP_KERNEL until the reserve holds
 * new_min_nr, and stops quietly at the first failure (later frees fill
 * it). Returns 0, -ENOMEM when the larger element array cannot be had
 * (nothing changed then), or -EINVAL for new_min_nr ≤ 0 (Linux: BUG).
 * Must not race with mempool_destroy; mempool_alloc / mempool_free may run
 * meanwhile. Context: process context, may sleep.
 */
export function mempool_resize(pool: mempool_t, new_min_nr: i32): i32 {
  if (new_min_nr <= 0) {
    pr_warn("mempool_resize: pool %p: new_min_nr %d <= 0\n", changetype<usize>(pool), new_min_nr);
    dump_stack();
    return -EINVAL;
  }
  might_sleep("mm/mempool.ts (mempool_resize)");
  let flags = spin_lock_irqsave(pool_lock(pool));
  if (new_min_nr <= pool.min_nr) {
    while (new_min_nr < pool.curr_nr) {
      const e = remove_element(pool);
      spin_unlock_irqrestore(pool_lock(pool), flags);
      call_free(pool, e);
      flags = spin_lock_irqsave(pool_lock(pool));
    }
    pool.min_nr = new_min_nr;
    spin_unlock_irqrestore(pool_lock(pool), flags);
    return 0;
  }
  // Grow: a larger array first, unless the present one is long enough (after a shrink).
  if (new_min_nr > pool.capacity) {
    spin_unlock_irqrestore(pool_lock(pool), flags);
    const a = kmalloc_array(<usize>new_min_nr, sizeof<usize>(), GFP_KERNEL);
    if (a == 0) return -ENOMEM;
    flags = spin_lock_irqsave(pool_lock(pool));
    if (new_min_nr <= pool.min_nr) {
      // Raced with another resize, which does our work.
      spin_unlock_irqrestore(pool_lock(pool), flags);
      kfree(a);
      return 0;
    }
    let old: usize = 0;
    if (new_min_nr > pool.capacity) {
      memory.copy(a, pool.elements, <usize>pool.curr_nr * sizeof<usize>());
      old = pool.elements;
      pool.elements = a;
      pool.capacity = new_min_nr;
    } else {
      old = a; // another resize grew the array meanwhile
    }
    pool.min_nr = new_min_nr;
    spin_unlock_irqrestore(pool_lock(pool), flags);
    kfree(old);
    flags = spin_lock_irqsave(pool_lock(pool));
  }
  pool.min_nr = new_min_nr;
  while (pool.curr_nr < pool.min_nr) {
    spin_unlock_irqrestore(pool_lock(pool), flags);
    const e = call_alloc(pool, GFP_KERNEL);
    if (e == 0) return 0;
    flags = spin_lock_irqsave(pool_lock(pool));
    if (pool.curr_nr < pool.min_nr) {
      add_element(pool, e);
    } else {
      spin_unlock_irqrestore(pool_lock(pool), flags);
      call_free(pool, e); // raced with mempool_free
      return 0;
    }
  }
  spin_unlock_irqrestore(pool_lock(pool), flags);
  return 0;
}

// --- allocation and freeing --------------------------------------------------------------------

let zero_warned: bool = false;

/**
 * Allocate an element (Linux mempool_alloc): from alloc_fn without
 * reclaim, else from the reserve, else — if gfp may sleep — from alloc_fn
 * with the full flags, else by waiting for a mempool_free (see the note at
 * the top). __GFP_ZERO is not supported (reserve elements are not
 * zeroed): warned once. Returns the element; 0 only when gfp does not
 * allow sleeping (no __GFP_DIRECT_RECLAIM) and both alloc_fn and the
 * reserve came up empty. Context: any with non-sleeping flags; process
 * context with sleeping ones.
 */
export function mempool_alloc(pool: mempool_t, gfp: gfp_t): usize {
  if ((gfp & __GFP_ZERO) != 0 && !zero_warned) {
    zero_warned = true; // Linux VM_WARN_ON_ONCE
    pr_warn("mempool_alloc: __GFP_ZERO is not supported (reserve elements are not zeroed)\n");
    dump_stack();
  }
  if (gfpflags_allow_blocking(gfp)) might_sleep("mm/mempool.ts (mempool_alloc)");
  gfp |= __GFP_NOMEMALLOC; // don't allocate emergency reserves
  gfp |= __GFP_NORETRY;    // don't loop in the page allocator
  gfp |= __GFP_NOWARN;     // failures are OK
  let gfp_temp = gfp & ~(__GFP_DIRECT_RECLAIM | __GFP_IO);
  while (true) {
    let e = call_alloc(pool, gfp_temp);
    if (e != 0) {
      out_add(pool, 1);
      return e;
    }
    const flags = spin_lock_irqsave(pool_lock(pool));
    if (pool.curr_nr > 0) {
      e = remove_element(pool);
      spin_unlock_irqrestore(pool_lock(pool), flags);
      out_add(pool, 1);
      return e;
    }
    // The first round ran without reclaim; with the pool empty, retry at once with the caller's flags.
    if (gfp_temp != gfp) {
      spin_unlock_irqrestore(pool_lock(pool), flags);
      gfp_temp = gfp;
      continue;
    }
    // We must not sleep without __GFP_DIRECT_RECLAIM.
    if ((gfp & __GFP_DIRECT_RECLAIM) == 0) {
      spin_unlock_irqrestore(pool_lock(pool), flags);
      return 0;
    }
    // Wait for someone to give an element back (or for the timeout: memory may come back to alloc_fn).
    atomic.add<i32>(changetype<usize>(pool), 1, offsetof<mempool_s>("nr_waits"));
    if (sched_running && this_cpu().current != 0) {
      prepare_to_wait(pool_wait(pool), TASK_UNINTERRUPTIBLE);
      spin_unlock_irqrestore(pool_lock(pool), flags);
      schedule_timeout(MEMPOOL_WAIT_TIMEOUT);
      finish_wait(pool_wait(pool));
    } else {
      // No scheduler yet: poll a jiffy at a time.
      spin_unlock_irqrestore(pool_lock(pool), flags);
      schedule_timeout_uninterruptible(1);
    }
  }
  return 0;
}

/**
 * Take an element from the reserve only, never from alloc_fn (Linux
 * mempool_alloc_preallocated). Returns it, or 0 when the reserve is empty.
 * Context: any; never sleeps.
 */
export function mempool_alloc_preallocated(pool: mempool_t): usize {
  const flags = spin_lock_irqsave(pool_lock(pool));
  const e = pool.curr_nr > 0 ? remove_element(pool) : 0;
  spin_unlock_irqrestore(pool_lock(pool), flags);
  if (e != 0) out_add(pool, 1);
  return e;
}

/**
 * Give an element back (Linux mempool_free): into the reserve while it
 * holds fewer than min_nr (waking whoever waits in mempool_alloc), else to
 * free_fn. `element` must come from mempool_alloc on this pool; 0 is
 * ignored. Context: any (if free_fn allows it); never sleeps itself.
 */
export function mempool_free(element: usize, pool: mempool_t): void {
  if (element == 0) return;
  out_add(pool, -1);
  // Linux's smp_rmb here: curr_nr must be read after the element was
  // allocated. The atomic (sequentially consistent) load orders it, and
  // remove_element's atomic store pairs with it.
  const curr = atomic.load<i32>(changetype<usize>(pool), offsetof<mempool_s>("curr_nr"));
  if (curr < pool.min_nr || (pool.min_nr == 0 && curr == 0)) {
    const flags = spin_lock_irqsave(pool_lock(pool));
    if (pool.curr_nr < pool.min_nr || (pool.min_nr == 0 && pool.curr_nr == 0)) {
      add_element(pool, element);
      spin_unlock_irqrestore(pool_lock(pool), flags);
      wake_up(pool_wait(pool));
      return;
    }
    spin_unlock_irqrestore(pool_lock(pool), flags);
  }
  call_free(pool, element);
}

/** Is some task asleep in mempool_alloc on this pool (a hint)? Context: any. */
export function mempool_has_waiters(pool: mempool_t): bool { return waitqueue_active(pool_wait(pool)); }

// --- the common allocators ---------------------------------------------------------------------

/** alloc_fn of a page pool: alloc_pages(gfp, order = pool_data); the element is the struct page. */
export function mempool_alloc_pages(gfp: gfp_t, pool_data: usize): usize {
  return changetype<usize>(alloc_pages(gfp, <u32>pool_data));
}

/** free_fn of a page pool: __free_pages(element, order = pool_data). */
export function mempool_free_pages(element: usize, pool_data: usize): void {
  __free_pages(changetype<page>(element), <u32>pool_data);
}

/**
 * A pool of min_nr blocks of 2^order pages (Linux mempool_create_page_pool);
 * elements are struct pages (use page_address / kmap). Null on failure.
 * Context: process context, may sleep.
 */
export function mempool_create_page_pool(min_nr: i32, order: u32): mempool_t {
  return mempool_create(min_nr, changetype<usize>(mempool_alloc_pages), changetype<usize>(mempool_free_pages), <usize>order);
}

/** mempool_init with the page pool's pair (Linux mempool_init_page_pool). 0 or -ENOMEM. Context: process context, may sleep. */
export function mempool_init_page_pool(pool: mempool_t, min_nr: i32, order: u32): i32 {
  return mempool_init(pool, min_nr, changetype<usize>(mempool_alloc_pages), changetype<usize>(mempool_free_pages), <usize>order);
}

/** alloc_fn of a slab pool: kmem_cache_alloc(pool_data = the kmem_cache, gfp). */
export function mempool_alloc_slab(gfp: gfp_t, pool_data: usize): usize {
  return kmem_cache_alloc(changetype<kmem_cache>(pool_data), gfp);
}

/** free_fn of a slab pool: kmem_cache_free(pool_data = the kmem_cache, element). */
export function mempool_free_slab(element: usize, pool_data: usize): void {
  kmem_cache_free(changetype<kmem_cache>(pool_data), element);
}

/**
 * A pool of min_nr objects of cache `kc` (Linux mempool_create_slab_pool).
 * The cache must outlive the pool. Null on failure. Context: process
 * context, may sleep.
 */
export function mempool_create_slab_pool(min_nr: i32, kc: kmem_cache): mempool_t {
  return mempool_create(min_nr, changetype<usize>(mempool_alloc_slab), changetype<usize>(mempool_free_slab), changetype<usize>(kc));
}

/** mempool_init with the slab pool's pair (Linux mempool_init_slab_pool). 0 or -ENOMEM. Context: process context, may sleep. */
export function mempool_init_slab_pool(pool: mempool_t, min_nr: i32, kc: kmem_cache): i32 {
  return mempool_init(pool, min_nr, changetype<usize>(mempool_alloc_slab), changetype<usize>(mempool_free_slab), changetype<usize>(kc));
}

/** alloc_fn of a kmalloc pool: kmalloc(pool_data = the size, gfp). */
export function mempool_kmalloc(gfp: gfp_t, pool_data: usize): usize {
  return kmalloc(pool_data, gfp);
}

/** free_fn of a kmalloc pool: kfree(element). */
export function mempool_kfree(element: usize, pool_data: usize): void {
  kfree(element);
}

/**
 * A pool of min_nr kmalloc(size) blocks (Linux mempool_create_kmalloc_pool).
 * Null on failure. Context: process context, may sleep.
 */
export function mempool_create_kmalloc_pool(min_nr: i32, size: usize): mempool_t {
  return mempool_create(min_nr, changetype<usize>(mempool_kmalloc), changetype<usize>(mempool_kfree), size);
}

/** mempool_init with the kmalloc pool's pair (Linux mempool_init_kmalloc_pool). 0 or -ENOMEM. Context: process context, may sleep. */
export function mempool_init_kmalloc_pool(pool: mempool_t, min_nr: i32, size: usize): i32 {
  return mempool_init(pool, min_nr, changetype<usize>(mempool_kmalloc), changetype<usize>(mempool_kfree), size);
}
