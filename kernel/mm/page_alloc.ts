/**
 * The page allocator: a binary buddy allocator per zone with per-CPU page
 * lists in front (Linux mm/page_alloc.c; Documentation/mm/physical_memory.rst
 * and the "Page Frame Management" design of Linux 2.6–6.x).
 *
 * Buddy. Each zone keeps free_area[order] lists of free blocks of 2^order
 * pages (order 0 … MAX_ORDER − 1 = 10). A free block's first page is
 * PageBuddy with its order in page.private_. Freeing a block of order o at
 * pfn merges it with its buddy at pfn ^ (1 << o) while the buddy is a free
 * block of the same order in the same zone, then files the result:
 *
 *     order 2 block at pfn 8:  buddy = 8 ^ 4 = 12 free (order 2)? merge →
 *     order 3 block at pfn 8:  buddy = 8 ^ 8 = 0  free (order 3)? merge → …
 *
 * Allocating order o takes the first block of the smallest non-empty list
 * ≥ o and splits it, filing the upper halves (expand()).
 *
 * Per-CPU lists (per_cpu_pages, orders 0 … 3): frees go to the freeing CPU's
 * list without the zone lock — at the head when hot (free_hot_page, the
 * default: the page is probably in that CPU's cache), at the tail when cold
 * (free_cold_page); allocations take the head, or the tail for __GFP_COLD.
 * An empty list is refilled with `batch` pages from the buddy lists; a list
 * above `high` pages gives `batch` pages back from its tail (the coldest).
 * The CPU's lists are protected by turning its interrupts off.
 *
 * Allocation (Linux __alloc_pages):
 *   1. fast path: the zonelist (the zone gfp_zone() names, then the lower
 *      zones: HIGHMEM → NORMAL → DMA, then the other nodes), each zone
 *      checked against its LOW watermark plus lowmem_reserve;
 *   2. slow path: the MIN watermark, lowered for __GFP_HIGH (min/2) and
 *      further for GFP_ATOMIC (−min/4 more, Linux ALLOC_HARDER); GFP_NOWAIT
 *      gets no reserve;
 *   3. "reclaim": there is no page cache to reclaim, so a retry drains the
 *      per-CPU lists back into the buddy lists (every CPU's when the caller
 *      may sleep — an IPI to each — else only this CPU's) and tries again.
 *      Policy by flags:
 *        cannot sleep (GFP_ATOMIC, GFP_NOWAIT)   one local drain, one retry
 *        __GFP_NORETRY                            one drain, one retry
 *        __GFP_RETRY_MAYFAIL (= __GFP_REPEAT)     up to MAX_RECLAIM_RETRIES
 *                                                 rounds of drain + 1-jiffy
 *                                                 sleep, any order
 *        default (GFP_KERNEL …), order ≤ 3        the same rounds ("too
 *                                                 small to fail" without an
 *                                                 OOM killer: then it fails)
 *        default, order > 3 (costly)              one drain, one retry
 *        __GFP_NOFAIL                             rounds until it succeeds
 *                                                 (another CPU must free)
 *   4. failure: unless __GFP_NOWARN, the Linux warning
 *      "<comm>: page allocation failure: order:N, mode:0x…(GFP_…), nodemask=(null)"
 *      and the zones' state.
 * A sleeping allocation (__GFP_DIRECT_RECLAIM: GFP_KERNEL, GFP_NOIO,
 * GFP_NOFS, GFP_USER) first calls might_sleep(), which reports it when made
 * with interrupts off or a spinlock held (in_atomic), as Linux's
 * might_sleep_if(gfpflags_allow_blocking()) does.
 *
 * Freeing checks the page (Linux free_pages_check / bad_page): a page that
 * is already free (PageBuddy or on a per-CPU list), reserved, not the head
 * of an allocated block, or freed with another order than it was allocated
 * with gives "BUG: Bad page state" and is left alone, so the allocator stays
 * intact. __free_pages drops one reference and frees at zero (get_page /
 * put_page semantics).
 *
 * Context: allocation and freeing from any context for non-sleeping flags
 * (interrupts may be on or off); sleeping flags from process context only.
 * Locks: zone->lock (irqsave) around the buddy lists; the per-CPU lists by
 * local_irq_save on their CPU (drain_all_pages runs on each CPU via IPI).
 */
import { pcpu_nr_units } from "./percpu";
import { PAGE_SHIFT, PAGE_SIZE, PHYS_DRAM_BASE, LINEAR_MAP_SIZE, NR_CPUS, __va, __pa, pa_in_linear_map } from "../arch/layout";
import { local_irq_save, local_irq_restore, irqs_disabled } from "../arch/irqflags";
import { spin_lock_irqsave, spin_unlock_irqrestore } from "../locking/spinlock";
import { smp_processor_id } from "../cpu";
import { on_each_cpu } from "../smp";
import { pr_err, pr_warn, pr_info, pr_cont } from "../printk";
import { scnprintf } from "../lib/vsprintf";
import { should_fail_alloc_page } from "./failslab";
import { dump_stack } from "../arch/traps";
import { might_sleep, schedule_timeout_uninterruptible, current_comm } from "../sched/core";
import { LIST_HEAD_SIZE, INIT_LIST_HEAD, list_empty, list_next, list_prev, list_add, list_add_tail, list_del_init } from "../lib/list";
import {
  gfp_t, gfp_zone, gfpflags_allow_blocking, gfp_flags_name, ZONE_DMA, ZONE_NORMAL, ZONE_HIGHMEM, MAX_NR_ZONES,
  __GFP_HIGHMEM, __GFP_ZERO, __GFP_COLD, __GFP_HIGH, __GFP_ATOMIC, __GFP_NOWARN, __GFP_NORETRY, __GFP_RETRY_MAYFAIL,
  __GFP_NOFAIL, __GFP_THISNODE, __GFP_MEMALLOC, __GFP_NOMEMALLOC,
} from "./gfp";
import {
  page, STRUCT_PAGE_SIZE, PG_reserved, PG_highmem, PG_pcp, PG_head, PG_dma_zone, PAGE_TYPE_BUDDY,
  pfn_to_page, page_to_pfn, pfn_valid, page_is_valid, nth_page, page_address, virt_to_page, add_mem_section,
  nr_mem_sections, mem_section_of, PageBuddy, PageReserved, PageHighMem,
} from "./page";
import {
  zone, node_zone, zone_lock, free_area_of, pcp_of, this_cpu_pcp, pcp_list, zone_init, setup_per_zone_wmarks, populated_zone,
  zone_lowmem_reserve, zone_watermark, zone_end_pfn, MAX_ORDER, NR_PCP_ORDERS, PAGE_ALLOC_COSTLY_ORDER, PCP_COUNT,
  PCP_HIGH, PCP_BATCH, WMARK_MIN, WMARK_LOW, WMARK_HIGH, nr_online_nodes, NUMA_NO_NODE,
} from "./mmzone";
import {
  memblock_memory, memblock_reserved, memblock_region_of, memblock_alloc, memblock_set_done, memblock_is_region_reserved,
} from "./memblock";

// Offsets inside struct page of the fields touched with plain loads here.
const LRU: usize = 8; // offsetof<page>("lru_next"): the list_head

/** The list entry of a page, and the page of a list entry. */
// @ts-ignore: decorator
@inline function page_lru(pg: page): usize { return changetype<usize>(pg) + LRU; }
// @ts-ignore: decorator
@inline function lru_page(e: usize): page { return changetype<page>(e - LRU); }

/** How many drain-and-wait rounds before a retrying allocation gives up (Linux MAX_RECLAIM_RETRIES). */
export const MAX_RECLAIM_RETRIES: i32 = 16;

// alloc_flags (Linux mm/internal.h)
const ALLOC_WMARK_MIN: u32 = 0;
const ALLOC_WMARK_LOW: u32 = 1;
const ALLOC_WMARK_HIGH: u32 = 2;
const ALLOC_NO_WATERMARKS: u32 = 4;
const ALLOC_WMARK_MASK: u32 = 3;
const ALLOC_HARDER: u32 = 0x10;
const ALLOC_HIGH: u32 = 0x20;

/** Statistics the tests and reports read. */
export let totalram_pages: u64 = 0;
export let totalhigh_pages: u64 = 0;
export let bad_page_count: i32 = 0;
export let alloc_fail_warnings: i32 = 0;
export let alloc_retries: u64 = 0;
export let drain_all_count: u64 = 0;
export let drain_local_count: u64 = 0;
export let nofail_waits: u64 = 0;
export let page_alloc_ready: bool = false;

/** The DMA window (ZONE_DMA), and the end of the linear map (lowmem). */
export let dma_zone_end_pfn: u64 = 0;
export let lowmem_end_pfn: u64 = 0;

// --- buddy ----------------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function set_buddy_order(pg: page, order: u32): void {
  pg.private_ = order;
  pg.page_type = PAGE_TYPE_BUDDY;
}

// @ts-ignore: decorator
@inline function clear_buddy(pg: page): void {
  pg.page_type = 0;
  pg.private_ = 0;
}

function add_to_free_list(pg: page, z: zone, order: u32, tail: bool): void {
  const fa = free_area_of(z, order);
  if (tail) list_add_tail(page_lru(pg), fa); else list_add(page_lru(pg), fa);
  store<u64>(fa, load<u64>(fa, LIST_HEAD_SIZE) + 1, LIST_HEAD_SIZE);
}

function del_from_free_list(pg: page, z: zone, order: u32): void {
  const fa = free_area_of(z, order);
  list_del_init(page_lru(pg));
  store<u64>(fa, load<u64>(fa, LIST_HEAD_SIZE) - 1, LIST_HEAD_SIZE);
  clear_buddy(pg);
}

/** The struct page of `pfn` if it is a free block of `order` in zone `z` (the buddy to merge with), else 0. */
function find_free_buddy(z: zone, pfn: u64, order: u32): page {
  if (pfn < z.zone_start_pfn || pfn >= zone_end_pfn(z)) return changetype<page>(0);
  const b = pfn_to_page(pfn);
  if (changetype<usize>(b) == 0) return b;
  if (!PageBuddy(b) || b.private_ != order || <i32>b.zone_id != z.idx || <i32>b.node_id != z.node) return changetype<page>(0);
  return b;
}

/** Put a free block of 2^order pages at pfn into the buddy lists, merging. Zone lock held. */
function __free_one_page(pg: page, pfn: u64, z: zone, order: u32): void {
  const pages: u64 = <u64>1 << order;
  while (order < MAX_ORDER - 1) {
    const buddy_pfn = pfn ^ (<u64>1 << order);
    const buddy = find_free_buddy(z, buddy_pfn, order);
    if (changetype<usize>(buddy) == 0) break;
    del_from_free_list(buddy, z, order);
    z.merges++;
    const combined = buddy_pfn & pfn;
    if (combined != pfn) pg = buddy;
    pfn = combined;
    order++;
  }
  set_buddy_order(pg, order);
  add_to_free_list(pg, z, order, false);
  z.free_pages += pages;
}

/** Split a block of order `high` at `pg` down to order `low`, filing the upper halves. Zone lock held. */
function expand(z: zone, pg: page, low: u32, high: u32): void {
  let size: u64 = <u64>1 << high;
  while (high > low) {
    high--;
    size >>= 1;
    const half = nth_page(pg, size);
    set_buddy_order(half, high);
    add_to_free_list(half, z, high, false);
    z.splits++;
  }
}

/** Take a block of `order` from the smallest list that has one. Zone lock held. Returns 0 when none. */
function __rmqueue_smallest(z: zone, order: u32): page {
  for (let o = order; o < MAX_ORDER; o++) {
    const fa = free_area_of(z, o);
    if (list_empty(fa)) continue;
    const pg = lru_page(list_next(fa));
    del_from_free_list(pg, z, o);
    expand(z, pg, order, o);
    z.free_pages -= <u64>1 << order;
    return pg;
  }
  return changetype<page>(0);
}

// --- per-CPU lists --------------------------------------------------------------------------------

/** Move up to `count` blocks of `order` from the buddy lists to the tail of a per-CPU list. */
function rmqueue_bulk(z: zone, order: u32, count: u32, list: usize): u32 {
  const flags = spin_lock_irqsave(zone_lock(z));
  let n: u32 = 0;
  for (; n < count; n++) {
    const pg = __rmqueue_smallest(z, order);
    if (changetype<usize>(pg) == 0) break;
    pg.flags |= PG_pcp;
    pg.private_ = order;
    list_add_tail(page_lru(pg), list);
  }
  spin_unlock_irqrestore(zone_lock(z), flags);
  return n;
}

/** Give `count` pages (at least) from a per-CPU list set back to the buddy lists, coldest (tail) first. Interrupts off. */
function free_pcppages_bulk(z: zone, pcp: usize, count: i64): void {
  const flags = spin_lock_irqsave(zone_lock(z));
  let o: u32 = 0;
  let empty_rounds: u32 = 0;
  while (count > 0 && empty_rounds < NR_PCP_ORDERS) {
    const list = pcp_list(pcp, o);
    if (list_empty(list)) {
      empty_rounds++;
    } else {
      empty_rounds = 0;
      const pg = lru_page(list_prev(list));
      list_del_init(page_lru(pg));
      pg.flags &= ~PG_pcp;
      const order = pg.private_;
      store<u32>(pcp, load<u32>(pcp, PCP_COUNT) - (<u32>1 << order), PCP_COUNT);
      count -= <i64>1 << order;
      __free_one_page(pg, page_to_pfn(pg), z, order);
    }
    o = (o + 1) % NR_PCP_ORDERS;
  }
  spin_unlock_irqrestore(zone_lock(z), flags);
}

/** Allocate from this CPU's list of `order` in `z`, refilling it from the buddy lists when empty. */
function rmqueue_pcplist(z: zone, order: u32, cold: bool): page {
  const flags = local_irq_save();
  const pcp = this_cpu_pcp(z);
  const list = pcp_list(pcp, order);
  if (list_empty(list)) {
    let blocks = load<u32>(pcp, PCP_BATCH) >> order;
    if (blocks == 0) blocks = 1;
    const got = rmqueue_bulk(z, order, blocks, list);
    store<u32>(pcp, load<u32>(pcp, PCP_COUNT) + (got << order), PCP_COUNT);
    if (got == 0) { local_irq_restore(flags); return changetype<page>(0); }
  }
  const pg = lru_page(cold ? list_prev(list) : list_next(list));
  list_del_init(page_lru(pg));
  pg.flags &= ~PG_pcp;
  store<u32>(pcp, load<u32>(pcp, PCP_COUNT) - (<u32>1 << order), PCP_COUNT);
  local_irq_restore(flags);
  return pg;
}

/** Free a block of order ≤ 3 to this CPU's list: head if hot, tail if cold; spill `batch` above `high`. */
function free_unref_page(z: zone, pg: page, order: u32, cold: bool): void {
  const flags = local_irq_save();
  const pcp = this_cpu_pcp(z);
  const list = pcp_list(pcp, order);
  pg.flags |= PG_pcp;
  pg.private_ = order;
  pg.cpu = <u8>smp_processor_id();
  if (cold) list_add_tail(page_lru(pg), list); else list_add(page_lru(pg), list);
  const count = load<u32>(pcp, PCP_COUNT) + (<u32>1 << order);
  store<u32>(pcp, count, PCP_COUNT);
  if (count >= load<u32>(pcp, PCP_HIGH)) free_pcppages_bulk(z, pcp, <i64>load<u32>(pcp, PCP_BATCH));
  local_irq_restore(flags);
}

/** Give every page on this CPU's lists back to the buddy lists (Linux drain_local_pages). Context: any. */
export function drain_local_pages(): void {
  const flags = local_irq_save();
  for (let nid = 0; nid < nr_online_nodes; nid++) {
    for (let zid = 0; zid < MAX_NR_ZONES; zid++) {
      const z = node_zone(nid, zid);
      if (!populated_zone(z)) continue;
      const pcp = this_cpu_pcp(z);
      const n = load<u32>(pcp, PCP_COUNT);
      if (n != 0) free_pcppages_bulk(z, pcp, <i64>n);
    }
  }
  drain_local_count++;
  local_irq_restore(flags);
}

function drain_local_pages_ipi(arg: u64): void { drain_local_pages(); }

/**
 * Drain every online CPU's lists (Linux drain_all_pages): an IPI to each,
 * waiting for all. Context: process context with interrupts on (it waits
 * for the other CPUs); with interrupts off, only this CPU's lists.
 */
export function drain_all_pages(): void {
  if (irqs_disabled()) { drain_local_pages(); return; }
  on_each_cpu(drain_local_pages_ipi, 0, true);
  drain_all_count++;
}

/** Pages on all CPUs' lists of zone `z`. */
export function zone_pcp_pages(z: zone): u64 {
  let n: u64 = 0;
  for (let cpu = 0; cpu < pcpu_nr_units; cpu++) n += <u64>load<u32>(pcp_of(z, cpu), PCP_COUNT);
  return n;
}

// --- allocation -----------------------------------------------------------------------------------

/**
 * Linux __zone_watermark_ok: may an allocation of `order` leave zone `z`
 * above `mark` (plus what it must leave for allocations that could use
 * higher zones)?
 */
export function zone_watermark_ok(z: zone, order: u32, mark: u64, highest_zoneidx: i32, alloc_flags: u32): bool {
  let min: i64 = <i64>mark;
  let free_pages: i64 = <i64>z.free_pages - ((<i64>1 << order) - 1);
  if (alloc_flags & ALLOC_HIGH) min -= min / 2;
  if (alloc_flags & ALLOC_HARDER) min -= min / 4;
  if (free_pages <= min + <i64>zone_lowmem_reserve(z, highest_zoneidx)) return false;
  if (order == 0) return true;
  for (let o = order; o < MAX_ORDER; o++) if (load<u64>(free_area_of(z, o), LIST_HEAD_SIZE) != 0) return true;
  return false;
}

/** Take a block of `order` from zone `z`: the per-CPU list for small orders, else the buddy lists. */
function rmqueue(z: zone, order: u32, gfp: gfp_t): page {
  if (order <= PAGE_ALLOC_COSTLY_ORDER) return rmqueue_pcplist(z, order, (gfp & __GFP_COLD) != 0);
  const flags = spin_lock_irqsave(zone_lock(z));
  const pg = __rmqueue_smallest(z, order);
  spin_unlock_irqrestore(zone_lock(z), flags);
  return pg;
}

/** mm/highmem.ts's clear_highpage (a hook: highmem.ts sits above this file). */
let clear_highpage_fn: usize = 0;
export function set_clear_highpage(fn: (pg: page) => void): void { clear_highpage_fn = changetype<usize>(fn); }

/** Zero 2^order pages (lowmem directly, highmem through temporary mappings). */
function clear_pages(pg: page, order: u32): void {
  const n: u64 = <u64>1 << order;
  if (PageHighMem(pg)) {
    if (clear_highpage_fn == 0) { pr_err("__GFP_ZERO: no kmap yet to clear highmem page pfn %#lx\n", page_to_pfn(pg)); return; }
    for (let i: u64 = 0; i < n; i++) changetype<(pg: page) => void>(clear_highpage_fn)(nth_page(pg, i));
  } else {
    memory.fill(page_address(pg), 0, <usize>(n << PAGE_SHIFT));
  }
}

/** An allocated block: one reference, its order in the head. */
function prep_new_page(pg: page, order: u32, gfp: gfp_t, z: zone): void {
  pg.flags = (pg.flags & ~PG_pcp) | PG_head;
  pg.private_ = order;
  pg.page_type = 0;
  atomic.store<i32>(changetype<usize>(pg), 1, offsetof<page>("_refcount"));
  if (gfp & __GFP_ZERO) clear_pages(pg, order);
  atomic.add<u64>(changetype<usize>(z), 1, offsetof<zone>("pgalloc")); // lock-free paths on every CPU
}

/** Walk the zonelist for one attempt. Returns the page or 0. */
function get_page_from_freelist(gfp: gfp_t, order: u32, alloc_flags: u32, nid: i32, highest_zoneidx: i32): page {
  const first_nid = nid == NUMA_NO_NODE ? 0 : nid;
  const nodes = (gfp & __GFP_THISNODE) != 0 ? 1 : nr_online_nodes;
  for (let k = 0; k < nodes; k++) {
    const n = (first_nid + k) % nr_online_nodes;
    for (let zid = highest_zoneidx; zid >= 0; zid--) {
      const z = node_zone(n, zid);
      if (!populated_zone(z)) continue;
      if ((alloc_flags & ALLOC_NO_WATERMARKS) == 0) {
        const mark = zone_watermark(z, <i32>(alloc_flags & ALLOC_WMARK_MASK));
        if (!zone_watermark_ok(z, order, mark, highest_zoneidx, alloc_flags)) continue;
      }
      const pg = rmqueue(z, order, gfp);
      if (changetype<usize>(pg) != 0) {
        prep_new_page(pg, order, gfp, z);
        return pg;
      }
    }
  }
  return changetype<page>(0);
}

/** Linux gfp_to_alloc_flags for the slow path. */
function gfp_to_alloc_flags(gfp: gfp_t): u32 {
  let f = ALLOC_WMARK_MIN;
  if (gfp & __GFP_HIGH) f |= ALLOC_HIGH;
  if ((gfp & __GFP_ATOMIC) != 0 && (gfp & __GFP_NOMEMALLOC) == 0) f |= ALLOC_HARDER;
  if ((gfp & __GFP_MEMALLOC) != 0 && (gfp & __GFP_NOMEMALLOC) == 0) f |= ALLOC_NO_WATERMARKS;
  return f;
}

const gfp_name_buf: usize = memory.data(256, 8);

/** Linux warn_alloc: the failure line, the backtrace and the zones' free pages. */
function warn_alloc(gfp: gfp_t, order: u32): void {
  alloc_fail_warnings++;
  gfp_flags_name(gfp, gfp_name_buf, 256);
  pr_warn("%s: page allocation failure: order:%u, mode:%#x(%pz), nodemask=(null)\n", current_comm(), order, gfp, gfp_name_buf);
  dump_stack();
  show_free_areas();
}

/** One line per zone: free pages, watermarks, and the per-order counts ("Node 0 DMA: 1*4kB 2*8kB … = N kB"). */
export function show_free_areas(): void {
  for (let nid = 0; nid < nr_online_nodes; nid++) {
    for (let zid = 0; zid < MAX_NR_ZONES; zid++) {
      const z = node_zone(nid, zid);
      if (z.spanned_pages == 0) continue;
      pr_warn("Node %d %s free:%lukB min:%lukB low:%lukB high:%lukB managed:%lukB\n", nid, z.name + 0,
        z.free_pages << 2, z.wmark_min << 2, z.wmark_low << 2, z.wmark_high << 2, z.managed_pages << 2);
    }
  }
}

/**
 * Allocate 2^order contiguous pages (Linux __alloc_pages / alloc_pages_node).
 * Returns the first struct page, or 0 (NULL). See the note at the top for
 * the flags' behaviour. Context: see the note at the top.
 */
export function __alloc_pages(gfp: gfp_t, order: u32, nid: i32): page {
  if (order >= MAX_ORDER) {
    if ((gfp & __GFP_NOWARN) == 0) pr_warn("WARNING: page allocation of order %u (>= MAX_ORDER %u)\n", order, MAX_ORDER);
    return changetype<page>(0);
  }
  if (nid != NUMA_NO_NODE && (nid < 0 || nid >= nr_online_nodes)) {
    if ((gfp & __GFP_NOWARN) == 0) pr_warn("page allocation for node %d: no such node (%d online)\n", nid, nr_online_nodes);
    return changetype<page>(0);
  }
  if (should_fail_alloc_page(gfp, order)) return changetype<page>(0); // fail_page_alloc= (Linux prepare_alloc_pages)
  const can_sleep = gfpflags_allow_blocking(gfp);
  if (can_sleep) might_sleep("mm/page_alloc.ts (__alloc_pages)");
  const highest = gfp_zone(gfp);
  // Fast path: the low watermark.
  let pg = get_page_from_freelist(gfp, order, ALLOC_WMARK_LOW, nid, highest);
  if (changetype<usize>(pg) != 0) return pg;
  // Slow path: the min watermark with the caller's reserve access.
  const alloc_flags = gfp_to_alloc_flags(gfp);
  pg = get_page_from_freelist(gfp, order, alloc_flags, nid, highest);
  if (changetype<usize>(pg) != 0) return pg;
  // Retries: drain the per-CPU lists (our only "reclaim") and try again.
  const nofail = (gfp & __GFP_NOFAIL) != 0;
  let rounds = 1;
  if (can_sleep && (gfp & __GFP_NORETRY) == 0) {
    if (nofail) rounds = I32.MAX_VALUE;
    else if ((gfp & __GFP_RETRY_MAYFAIL) != 0 || order <= PAGE_ALLOC_COSTLY_ORDER) rounds = MAX_RECLAIM_RETRIES;
  } else if (nofail) {
    // __GFP_NOFAIL without the right to sleep: Linux warns and keeps trying with the reserves.
    rounds = MAX_RECLAIM_RETRIES;
  }
  for (let r = 0; r < rounds; r++) {
    alloc_retries++;
    if (can_sleep) drain_all_pages(); else drain_local_pages();
    pg = get_page_from_freelist(gfp, order, alloc_flags, nid, highest);
    if (changetype<usize>(pg) != 0) return pg;
    if (r + 1 < rounds && can_sleep) {
      if (nofail) nofail_waits++;
      schedule_timeout_uninterruptible(1); // let other CPUs free pages
    }
  }
  if (nofail && !can_sleep) {
    // Last resort for an atomic __GFP_NOFAIL: ignore the watermarks (Linux ALLOC_NO_WATERMARKS | ALLOC_HARDER).
    pg = get_page_from_freelist(gfp, order, ALLOC_NO_WATERMARKS, nid, highest);
    if (changetype<usize>(pg) != 0) return pg;
  }
  for (let zid = highest; zid >= 0; zid--) atomic.add<u64>(changetype<usize>(node_zone(nid == NUMA_NO_NODE ? 0 : nid, zid)), 1, offsetof<zone>("alloc_fail"));
  if ((gfp & __GFP_NOWARN) == 0) warn_alloc(gfp, order);
  return changetype<page>(0);
}

/** alloc_pages_node(nid, gfp, order): from node nid first (NUMA_NO_NODE = the local node, 0). */
export function alloc_pages_node(nid: i32, gfp: gfp_t, order: u32): page { return __alloc_pages(gfp, order, nid); }
export function alloc_pages(gfp: gfp_t, order: u32): page { return __alloc_pages(gfp, order, NUMA_NO_NODE); }
export function alloc_page(gfp: gfp_t): page { return __alloc_pages(gfp, 0, NUMA_NO_NODE); }

/** A lowmem block's kernel address (Linux __get_free_pages: __GFP_HIGHMEM is ignored). 0 on failure. */
export function __get_free_pages(gfp: gfp_t, order: u32): usize {
  const pg = __alloc_pages(gfp & ~__GFP_HIGHMEM, order, NUMA_NO_NODE);
  return changetype<usize>(pg) == 0 ? 0 : page_address(pg);
}
export function __get_free_page(gfp: gfp_t): usize { return __get_free_pages(gfp, 0); }
export function get_zeroed_page(gfp: gfp_t): usize { return __get_free_pages(gfp | __GFP_ZERO, 0); }

// --- freeing --------------------------------------------------------------------------------------

const flag_names_buf: usize = memory.data(64, 8);
/** The names of the set page flags joined by '|', as Linux's %pGp prints them (a C string). */
function page_flag_names(flags: u32): usize {
  let n = 0;
  for (let bit = 0; bit < 6; bit++) {
    if ((flags & (1 << bit)) == 0) continue;
    const name = bit == 0 ? "reserved" : bit == 1 ? "highmem" : bit == 2 ? "pcp" : bit == 3 ? "head" : bit == 4 ? "dma" : "slab";
    if (n != 0) n += scnprintf(flag_names_buf + <usize>n, 64 - n, "|");
    n += scnprintf(flag_names_buf + <usize>n, 64 - n, "%s", changetype<usize>(name));
  }
  store<u8>(flag_names_buf + <usize>n, 0);
  return flag_names_buf;
}

/**
 * Linux bad_page: report a page in a state it must not be freed in, and
 * leave it alone.
 */
export function bad_page(pg: page, reason: string): void {
  bad_page_count++;
  const pfn = page_is_valid(pg) ? page_to_pfn(pg) : 0;
  pr_err("BUG: Bad page state in process %s  pfn:%05lx\n", current_comm(), pfn);
  if (page_is_valid(pg)) {
    pr_err("page:%p refcount:%d mapcount:0 mapping:0000000000000000 index:0x0 pfn:%#lx\n", changetype<usize>(pg),
      <u64>pg._refcount, pfn);
    pr_err("flags: %#x(%pz) page_type: %#x private: %u\n", pg.flags, page_flag_names(pg.flags), pg.page_type, pg.private_);
  } else {
    pr_err("page:%p is not a struct page of any memory section\n", changetype<usize>(pg));
  }
  pr_err("page dumped because: %s\n", changetype<usize>(reason));
  dump_stack();
}

/** The checks before freeing (Linux free_pages_prepare): false = reported, do not free. */
function free_pages_check(pg: page, order: u32): bool {
  if (!page_is_valid(pg)) { bad_page(pg, "not a struct page"); return false; }
  if (PageReserved(pg)) { bad_page(pg, "PAGE_FLAGS_CHECK_AT_FREE flag(s) set: freeing a reserved page"); return false; }
  if (PageBuddy(pg) || (pg.flags & PG_pcp) != 0) { bad_page(pg, "double free: the page is already free"); return false; }
  if ((pg.flags & PG_head) == 0) { bad_page(pg, "not the first page of an allocated block (freeing a tail page, or a double free)"); return false; }
  if (pg.private_ != order) {
    pr_err("page allocated with order %u, freed with order %u\n", pg.private_, order);
    bad_page(pg, "wrong order");
    return false;
  }
  return true;
}

function zone_of(pg: page): zone { return node_zone(<i32>pg.node_id, <i32>pg.zone_id); }

function free_pages_ok(pg: page, order: u32, cold: bool): void {
  pg.flags &= ~PG_head;
  pg.private_ = 0;
  const z = zone_of(pg);
  atomic.add<u64>(changetype<usize>(z), 1, offsetof<zone>("pgfree"));
  if (order <= PAGE_ALLOC_COSTLY_ORDER) { free_unref_page(z, pg, order, cold); return; }
  const flags = spin_lock_irqsave(zone_lock(z));
  __free_one_page(pg, page_to_pfn(pg), z, order);
  spin_unlock_irqrestore(zone_lock(z), flags);
}

function put_and_free(pg: page, order: u32, cold: bool): void {
  if (!page_is_valid(pg)) { bad_page(pg, "not a struct page"); return; }
  const ref = atomic.load<i32>(changetype<usize>(pg), offsetof<page>("_refcount"));
  if (ref <= 0) {
    if (PageReserved(pg)) bad_page(pg, "PAGE_FLAGS_CHECK_AT_FREE flag(s) set: freeing a reserved page");
    else if (PageBuddy(pg) || (pg.flags & PG_pcp) != 0) bad_page(pg, "double free: the page is already free");
    else bad_page(pg, "nonzero _refcount expected: freeing a page nobody holds (a tail page, or a double free)");
    return;
  }
  if (atomic.sub<i32>(changetype<usize>(pg), 1, offsetof<page>("_refcount")) != 1) return; // other references remain
  if (!free_pages_check(pg, order)) {
    atomic.store<i32>(changetype<usize>(pg), ref, offsetof<page>("_refcount")); // leave the page as it was
    return;
  }
  free_pages_ok(pg, order, cold);
}

/** Drop a reference to a block of 2^order pages; free it when it was the last (Linux __free_pages). */
export function __free_pages(pg: page, order: u32): void { put_and_free(pg, order, false); }
export function __free_page(pg: page): void { put_and_free(pg, 0, false); }
/** free_pages by kernel address (lowmem); 0 is ignored. */
export function free_pages(addr: usize, order: u32): void {
  if (addr == 0) return;
  if (!pa_in_linear_map(__pa(addr)) || (addr & (PAGE_SIZE - 1)) != 0) {
    pr_err("free_pages: %p is not the page-aligned linear-map address of a page\n", addr);
    bad_page_count++;
    dump_stack();
    return;
  }
  put_and_free(virt_to_page(addr), order, false);
}
export function free_page(addr: usize): void { free_pages(addr, 0); }
/** Free an order-0 page to the hot end of this CPU's list (the classic free_hot_page). */
export function free_hot_page(pg: page): void { put_and_free(pg, 0, false); }
/** Free an order-0 page to the cold end of this CPU's list (free_cold_page). */
export function free_cold_page(pg: page): void { put_and_free(pg, 0, true); }

/** Take another reference (Linux get_page). */
export function get_page(pg: page): void { atomic.add<i32>(changetype<usize>(pg), 1, offsetof<page>("_refcount")); }

// --- boot -----------------------------------------------------------------------------------------

/**
 * Build the memory map and the zones from memblock (Linux free_area_init):
 * one struct page array per RAM region; zones DMA [DRAM, dma_end),
 * NORMAL [dma_end, linear-map end), HIGHMEM above. Every page starts
 * reserved; memblock_free_all releases the free ones.
 */
export function free_area_init(dma_end: u64): void {
  const lowmem_end: u64 = PHYS_DRAM_BASE + LINEAR_MAP_SIZE;
  dma_zone_end_pfn = dma_end >> PAGE_SHIFT;
  lowmem_end_pfn = lowmem_end >> PAGE_SHIFT;
  // Memory map: one section per memblock.memory region.
  for (let i = 0; i < memblock_memory.cnt; i++) {
    const r = memblock_region_of(memblock_memory, i);
    const start_pfn = (r.base + <u64>PAGE_SIZE - 1) >> PAGE_SHIFT;
    const end_pfn = (r.base + r.size) >> PAGE_SHIFT;
    if (end_pfn <= start_pfn) continue;
    const map = memblock_alloc((end_pfn - start_pfn) * <u64>STRUCT_PAGE_SIZE, <u64>PAGE_SIZE);
    if (map == 0) { pr_err("free_area_init: no memory for the memory map of [%#lx-%#lx]\n", r.base, r.base + r.size - 1); continue; }
    add_mem_section(start_pfn, end_pfn, map);
  }
  // Zone spans (node 0; one node unless the device tree says otherwise).
  let lo: u64 = U64.MAX_VALUE, hi: u64 = 0;
  for (let i = 0; i < nr_mem_sections; i++) {
    const s = mem_section_of(i);
    if (s.start_pfn < lo) lo = s.start_pfn;
    if (s.end_pfn > hi) hi = s.end_pfn;
  }
  // The end of the RAM the linear map covers.
  let low_ram_end = lo;
  for (let i = 0; i < nr_mem_sections; i++) {
    const s = mem_section_of(i);
    if (s.start_pfn >= lowmem_end_pfn) continue;
    const e = s.end_pfn < lowmem_end_pfn ? s.end_pfn : lowmem_end_pfn;
    if (e > low_ram_end) low_ram_end = e;
  }
  const dma_lo = lo, dma_hi = clampu(dma_zone_end_pfn, lo, low_ram_end);
  const norm_hi = low_ram_end;
  zone_init(0, ZONE_DMA, dma_lo, dma_hi);
  zone_init(0, ZONE_NORMAL, dma_hi, norm_hi);
  // HIGHMEM spans from the first RAM pfn above lowmem.
  let high_lo = hi;
  for (let i = 0; i < nr_mem_sections; i++) {
    const s = mem_section_of(i);
    if (s.end_pfn > norm_hi) { const st = s.start_pfn > norm_hi ? s.start_pfn : norm_hi; if (st < high_lo) high_lo = st; }
  }
  zone_init(0, ZONE_HIGHMEM, high_lo, hi > high_lo ? hi : high_lo);
  // Every struct page: reserved, its zone and node, list links to itself.
  for (let i = 0; i < nr_mem_sections; i++) {
    const s = mem_section_of(i);
    for (let pfn = s.start_pfn; pfn < s.end_pfn; pfn++) {
      const pg = changetype<page>(s.map + <usize>(pfn - s.start_pfn) * STRUCT_PAGE_SIZE);
      const zid = pfn < dma_hi ? ZONE_DMA : pfn < norm_hi ? ZONE_NORMAL : ZONE_HIGHMEM;
      pg.flags = PG_reserved | (zid == ZONE_HIGHMEM ? PG_highmem : 0) | (zid == ZONE_DMA ? PG_dma_zone : 0);
      pg.zone_id = <u8>zid;
      pg.node_id = 0;
      INIT_LIST_HEAD(page_lru(pg));
      node_zone(0, zid).present_pages++;
    }
  }
}

function clampu(v: u64, a: u64, b: u64): u64 { return v < a ? a : v > b ? b : v; }

/** Release [start_pfn, end_pfn) to the buddy allocator in the largest aligned blocks. */
function free_range(start_pfn: u64, end_pfn: u64): u64 {
  let pfn = start_pfn;
  let freed: u64 = 0;
  while (pfn < end_pfn) {
    let order: u32 = MAX_ORDER - 1;
    while (order > 0 && ((pfn & ((<u64>1 << order) - 1)) != 0 || pfn + (<u64>1 << order) > end_pfn)) order--;
    // A block must not straddle zones.
    const first = pfn_to_page(pfn);
    while (order > 0) {
      const last = pfn_to_page(pfn + (<u64>1 << order) - 1);
      if (changetype<usize>(last) != 0 && last.zone_id == first.zone_id) break;
      order--;
    }
    const n: u64 = <u64>1 << order;
    const z = zone_of(first);
    for (let k: u64 = 0; k < n; k++) nth_page(first, k).flags &= ~PG_reserved;
    z.managed_pages += n;
    __free_one_page(first, pfn, z, order);
    pfn += n;
    freed += n;
  }
  return freed;
}

/**
 * Hand every page that memblock has not reserved to the buddy allocator
 * (Linux memblock_free_all), then size the watermarks. Context: boot CPU,
 * before SMP, once.
 */
export function memblock_free_all(): u64 {
  let freed: u64 = 0;
  for (let i = 0; i < memblock_memory.cnt; i++) {
    const m = memblock_region_of(memblock_memory, i);
    let cur = (m.base + <u64>PAGE_SIZE - 1) >> PAGE_SHIFT;
    const end = (m.base + m.size) >> PAGE_SHIFT;
    // The free gaps: between the reserved ranges (rounded outwards to pages).
    for (let j = 0; j < memblock_reserved.cnt && cur < end; j++) {
      const r = memblock_region_of(memblock_reserved, j);
      const rs = r.base >> PAGE_SHIFT;
      const re = (r.base + r.size + <u64>PAGE_SIZE - 1) >> PAGE_SHIFT;
      if (re <= cur) continue;
      if (rs >= end) break;
      if (rs > cur) freed += free_range(cur, rs);
      cur = re;
    }
    if (cur < end) freed += free_range(cur, end);
  }
  memblock_set_done(freed);
  totalram_pages = 0;
  totalhigh_pages = 0;
  for (let nid = 0; nid < nr_online_nodes; nid++) {
    for (let zid = 0; zid < MAX_NR_ZONES; zid++) {
      const z = node_zone(nid, zid);
      totalram_pages += z.managed_pages;
      if (zid == ZONE_HIGHMEM) totalhigh_pages += z.managed_pages;
    }
  }
  setup_per_zone_wmarks();
  page_alloc_ready = true;
  return freed;
}

/** Free pages of all zones (buddy lists only: NR_FREE_PAGES). */
export function nr_free_pages(): u64 {
  let n: u64 = 0;
  for (let nid = 0; nid < nr_online_nodes; nid++) for (let zid = 0; zid < MAX_NR_ZONES; zid++) n += node_zone(nid, zid).free_pages;
  return n;
}

/** Free highmem pages. */
export function nr_free_highpages(): u64 {
  let n: u64 = 0;
  for (let nid = 0; nid < nr_online_nodes; nid++) n += node_zone(nid, ZONE_HIGHMEM).free_pages;
  return n;
}
