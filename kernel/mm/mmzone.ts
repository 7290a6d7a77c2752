/**
 * Nodes and zones (Linux include/linux/mmzone.h, the zone sizing of
 * mm/page_alloc.c: free_area_init, the watermarks and lowmem_reserve).
 *
 *   pglist_data (node) ─┬─ zone DMA      low DRAM inside the DMA engine's window
 *                       ├─ zone NORMAL   the rest of the linear map
 *                       └─ zone HIGHMEM  RAM the linear map cannot reach (high
 *                                        DRAM above 4 GiB; on QEMU, low DRAM
 *                                        beyond 1 GiB)
 *
 * A zone is a pfn span [zone_start_pfn, +spanned_pages) of one node; the
 * pages of its span that are RAM are `present`, those the buddy allocator
 * manages (present minus reserved) are `managed`.
 *
 *   struct zone                 free_area[0..MAX_ORDER-1]        per_cpu_pages (per-CPU)
 *   ┌──────────────────────┐    ┌─────────────────────────┐      ┌──────────────────────┐
 *   │ name, node, idx      │    │ list of free blocks of   │      │ lists[0..3] by order │
 *   │ start_pfn, spanned,  │    │ 2^order pages (heads:    │      │ count, high, batch   │
 *   │ present, managed     │    │ PageBuddy, order in      │      └──────────────────────┘
 *   │ _watermark[min/low/  │    │ page.private_), nr_free │
 *   │   high]              │    └─────────────────────────┘
 *   │ lowmem_reserve[z]    │
 *   │ free_pages (vmstat   │   NR_FREE_PAGES counts the buddy lists only, as in
 *   │   NR_FREE_PAGES)     │   Linux: pages parked on per-CPU lists are "in use"
 *   │ lock                 │   as far as watermarks and MemFree are concerned.
 *   └──────────────────────┘
 *
 * Watermarks (Linux __setup_per_zone_wmarks with its defaults):
 *   min_free_kbytes = clamp(sqrt(lowmem_kbytes · 16), 128, 262144)
 *   a lowmem zone's min = min_free_pages · managed / lowmem_managed;
 *   ZONE_HIGHMEM's min = clamp(managed / 1024, 32, 128) (SWAP_CLUSTER_MAX);
 *   delta = max(min / 4, managed · watermark_scale_factor(10) / 10000);
 *   low = min + delta, high = min + 2 · delta.
 * lowmem_reserve[j] of zone i < j = (managed pages of zones i+1..j) /
 *   sysctl_lowmem_reserve_ratio[i] (DMA 256, NORMAL 32): what an allocation
 *   that could have used zone j must leave in zone i.
 *
 * The per_cpu_pages live in per-CPU memory, as Linux's zone->per_cpu_pageset
 * (alloc_percpu there): one static per-CPU variable (DEFINE_PER_CPU, see
 * mm/percpu.ts) of every zone's per_cpu_pages, PCP_SIZE bytes by zone index
 * (node × MAX_NR_ZONES + zone). It is static, not alloc_percpu, because it
 * must exist before the allocators do: setup_per_cpu_areas runs before
 * free_area_init; zone_init places it. pcp_of(z, cpu) = per_cpu(pcp_pages, cpu) + index × PCP_SIZE;
 * this_cpu_pcp(z) the same through this_cpu_ptr. Only possible CPUs (the
 * percpu units, pcpu_nr_units) have a copy: loops stop there.
 *
 * Context: set up once by the boot CPU (mm_init); zone fields that change
 * later (free_pages, free_area) change under the zone's lock.
 */
import { spinlock_t, SPINLOCK_SIZE, spin_lock_init } from "../locking/spinlock";
import { per_cpu_var, per_cpu_ptr, this_cpu_ptr, pcpu_nr_units, PERCPU_DESC_MAGIC } from "./percpu";
import { LIST_HEAD_SIZE, INIT_LIST_HEAD } from "../lib/list";
import { ZONE_DMA, ZONE_NORMAL, ZONE_HIGHMEM, MAX_NR_ZONES } from "./gfp";

/** Orders 0 … MAX_ORDER − 1 (Linux's MAX_ORDER = 11 of 6.1: blocks up to 4 MiB). */
export const MAX_ORDER: u32 = 11;
/** Per-CPU lists hold blocks of orders 0 … PCP_MAX_ORDER (Linux PAGE_ALLOC_COSTLY_ORDER). */
export const PAGE_ALLOC_COSTLY_ORDER: u32 = 3;
export const NR_PCP_ORDERS: u32 = PAGE_ALLOC_COSTLY_ORDER + 1;
export const MAX_NUMNODES: i32 = 4;
export const NUMA_NO_NODE: i32 = -1;

export const WMARK_MIN: i32 = 0;
export const WMARK_LOW: i32 = 1;
export const WMARK_HIGH: i32 = 2;

@unmanaged
export class zone {
  name: usize;            // "DMA", "Normal", "HighMem" (a string pointer)
  node: i32;
  idx: i32;               // ZONE_DMA / ZONE_NORMAL / ZONE_HIGHMEM
  zone_start_pfn: u64;
  spanned_pages: u64;
  present_pages: u64;
  managed_pages: u64;
  wmark_min: u64;
  wmark_low: u64;
  wmark_high: u64;
  lowmem_reserve0: u64;   // lowmem_reserve[ZONE_DMA]
  lowmem_reserve1: u64;   // lowmem_reserve[ZONE_NORMAL]
  lowmem_reserve2: u64;   // lowmem_reserve[ZONE_HIGHMEM]
  free_pages: u64;        // NR_FREE_PAGES (buddy lists only)
  /** Counters (vmstat-like): allocations served, failures, blocks split, merges. */
  pgalloc: u64;
  pgfree: u64;
  alloc_fail: u64;
  splits: u64;
  merges: u64;
  pcp_batch: u32;
  pcp_high: u32;
}
export const ZONE_STRIDE: usize = 160;

/** A free_area: the list of free blocks of one order, and how many there are. */
export const FREE_AREA_SIZE: usize = 16; // list_head (8), nr_free (u64)

/** per_cpu_pages: one list per order 0..3, the pages they hold (count), and the marks. */
export const PCP_SIZE: usize = 48;
export const PCP_LISTS: usize = 0;       // NR_PCP_ORDERS list heads
export const PCP_COUNT: usize = 32;      // u32: pages (not blocks) on the lists
export const PCP_HIGH: usize = 36;       // u32
export const PCP_BATCH: usize = 40;      // u32

const NR_ZONES_ALL: i32 = MAX_NUMNODES * MAX_NR_ZONES;
const zone_area: usize = memory.data(<i32>(<usize>NR_ZONES_ALL * ZONE_STRIDE), 8);
const zone_locks: usize = memory.data(NR_ZONES_ALL * SPINLOCK_SIZE, 16);
const free_areas: usize = memory.data(<i32>(<usize>NR_ZONES_ALL * <usize>MAX_ORDER * FREE_AREA_SIZE), 8);
/**
 * DEFINE_PER_CPU(struct per_cpu_pages[NR_ZONES_ALL], pcp_pages): 576 bytes
 * = NR_ZONES_ALL (12) × PCP_SIZE (48), a literal (the descriptor is static data).
 */
const pcp_pages: usize = memory.data<u32>([576, 8, 0, PERCPU_DESC_MAGIC], 8);
/** Its per-CPU pointer (per_cpu_var(pcp_pages)), fetched by the first zone_init: the hot paths skip the descriptor. */
let pcp_pages_ptr: usize = 0;

/** Nodes with memory (node ids 0 … nr_online_nodes − 1). */
export let nr_online_nodes: i32 = 1;
export let min_free_kbytes: u64 = 0;
export const watermark_scale_factor: u64 = 10;
export const SWAP_CLUSTER_MAX: u64 = 32;
const lowmem_reserve_ratio: StaticArray<u64> = [256, 32, 0];

/** NODE_DATA(nid)->node_zones[zid]. */
export function node_zone(nid: i32, zid: i32): zone {
  return changetype<zone>(zone_area + <usize>(nid * MAX_NR_ZONES + zid) * ZONE_STRIDE);
}
export function zone_lock(z: zone): spinlock_t {
  return changetype<spinlock_t>(zone_locks + <usize>(z.node * MAX_NR_ZONES + z.idx) * <usize>SPINLOCK_SIZE);
}
/** The free_area of `order` in zone `z`. */
// @ts-ignore: decorator
@inline export function free_area_of(z: zone, order: u32): usize {
  return free_areas + (<usize>(z.node * MAX_NR_ZONES + z.idx) * <usize>MAX_ORDER + <usize>order) * FREE_AREA_SIZE;
}
/** free_area.nr_free (blocks). */
// @ts-ignore: decorator
@inline export function free_area_nr_free(z: zone, order: u32): u64 { return load<u64>(free_area_of(z, order), LIST_HEAD_SIZE); }
/** The per_cpu_pages of `cpu` in zone `z` (a possible CPU: cpu < pcpu_nr_units). */
// @ts-ignore: decorator
@inline export function pcp_of(z: zone, cpu: i32): usize {
  return per_cpu_ptr(pcp_pages_ptr, cpu) + <usize>(z.node * MAX_NR_ZONES + z.idx) * PCP_SIZE;
}
/** This CPU's per_cpu_pages in zone `z` (interrupts or preemption off to keep it this CPU's). */
// @ts-ignore: decorator
@inline export function this_cpu_pcp(z: zone): usize {
  return this_cpu_ptr(pcp_pages_ptr) + <usize>(z.node * MAX_NR_ZONES + z.idx) * PCP_SIZE;
}
/** The list head of `order` in a per_cpu_pages. */
// @ts-ignore: decorator
@inline export function pcp_list(pcp: usize, order: u32): usize { return pcp + PCP_LISTS + <usize>order * LIST_HEAD_SIZE; }

export function zone_name(zid: i32): string {
  return zid == ZONE_DMA ? "DMA" : zid == ZONE_NORMAL ? "Normal" : "HighMem";
}

export function zone_lowmem_reserve(z: zone, zid: i32): u64 {
  return zid == 0 ? z.lowmem_reserve0 : zid == 1 ? z.lowmem_reserve1 : z.lowmem_reserve2;
}

export function zone_watermark(z: zone, mark: i32): u64 {
  return mark == WMARK_MIN ? z.wmark_min : mark == WMARK_LOW ? z.wmark_low : z.wmark_high;
}

/** Does the zone have any pages (Linux populated_zone: managed pages)? */
// @ts-ignore: decorator
@inline export function populated_zone(z: zone): bool { return z.managed_pages != 0; }

// @ts-ignore: decorator
@inline export function zone_end_pfn(z: zone): u64 { return z.zone_start_pfn + z.spanned_pages; }

/** Set up an empty zone (boot): name, span, locks, empty lists. */
export function zone_init(nid: i32, zid: i32, start_pfn: u64, end_pfn: u64): zone {
  const z = node_zone(nid, zid);
  if (pcp_pages_ptr == 0) pcp_pages_ptr = per_cpu_var(pcp_pages);
  memory.fill(changetype<usize>(z), 0, ZONE_STRIDE);
  z.name = changetype<usize>(zone_name(zid));
  z.node = nid;
  z.idx = zid;
  z.zone_start_pfn = start_pfn;
  z.spanned_pages = end_pfn > start_pfn ? end_pfn - start_pfn : 0;
  spin_lock_init(zone_lock(z));
  for (let o: u32 = 0; o < MAX_ORDER; o++) {
    INIT_LIST_HEAD(free_area_of(z, o));
    store<u64>(free_area_of(z, o), 0, LIST_HEAD_SIZE);
  }
  for (let cpu = 0; cpu < pcpu_nr_units; cpu++) {
    const pcp = pcp_of(z, cpu);
    for (let o: u32 = 0; o < NR_PCP_ORDERS; o++) INIT_LIST_HEAD(pcp_list(pcp, o));
    store<u32>(pcp, 0, PCP_COUNT);
  }
  return z;
}

function isqrt(n: u64): u64 {
  let x: u64 = 0;
  let bit: u64 = <u64>1 << 62;
  while (bit > n) bit >>= 2;
  while (bit != 0) {
    if (n >= x + bit) { n -= x + bit; x = (x >> 1) + bit; } else x >>= 1;
    bit >>= 2;
  }
  return x;
}

/** Linux zone_batchsize (the 6.1 rule) and the classic high = 6 · batch. */
function pcp_marks(z: zone): void {
  let batch = z.managed_pages / 1024;
  const cap: u64 = (1024 * 1024) / 4096; // at most 1 MiB worth of pages
  if (batch > cap) batch = cap;
  batch /= 4;
  if (batch < 1) batch = 1;
  // rounddown_pow_of_two(batch + batch / 2) − 1, at least 1
  let v = batch + batch / 2;
  let p: u64 = 1;
  while (p * 2 <= v) p *= 2;
  batch = p > 1 ? p - 1 : 1;
  z.pcp_batch = <u32>batch;
  z.pcp_high = <u32>(6 * batch);
  for (let cpu = 0; cpu < pcpu_nr_units; cpu++) {
    const pcp = pcp_of(z, cpu);
    store<u32>(pcp, z.pcp_high, PCP_HIGH);
    store<u32>(pcp, z.pcp_batch, PCP_BATCH);
  }
}

/**
 * Compute min_free_kbytes, every zone's watermarks, lowmem_reserve and
 * per-CPU marks from the managed page counts (after memblock_free_all).
 */
export function setup_per_zone_wmarks(): void {
  let lowmem_pages: u64 = 0;
  for (let nid = 0; nid < nr_online_nodes; nid++) {
    for (let zid = 0; zid < MAX_NR_ZONES; zid++) if (zid != ZONE_HIGHMEM) lowmem_pages += node_zone(nid, zid).managed_pages;
  }
  min_free_kbytes = isqrt(lowmem_pages * 4 * 16);
  if (min_free_kbytes < 128) min_free_kbytes = 128;
  if (min_free_kbytes > 262144) min_free_kbytes = 262144;
  const pages_min = min_free_kbytes >> 2;
  for (let nid = 0; nid < nr_online_nodes; nid++) {
    for (let zid = 0; zid < MAX_NR_ZONES; zid++) {
      const z = node_zone(nid, zid);
      let tmp = lowmem_pages != 0 ? pages_min * z.managed_pages / lowmem_pages : 0;
      if (zid == ZONE_HIGHMEM) {
        let m = z.managed_pages / 1024;
        if (m < SWAP_CLUSTER_MAX) m = SWAP_CLUSTER_MAX;
        if (m > 128) m = 128;
        z.wmark_min = z.managed_pages != 0 ? m : 0;
      } else {
        z.wmark_min = tmp;
      }
      let scaled = z.managed_pages * watermark_scale_factor / 10000;
      if ((tmp >> 2) > scaled) scaled = tmp >> 2;
      z.wmark_low = z.wmark_min + scaled;
      z.wmark_high = z.wmark_min + 2 * scaled;
      pcp_marks(z);
    }
    // lowmem_reserve
    for (let i = 0; i < MAX_NR_ZONES; i++) {
      const zi = node_zone(nid, i);
      zi.lowmem_reserve0 = 0; zi.lowmem_reserve1 = 0; zi.lowmem_reserve2 = 0;
      let managed: u64 = 0;
      for (let j = i + 1; j < MAX_NR_ZONES; j++) {
        managed += node_zone(nid, j).managed_pages;
        const r = lowmem_reserve_ratio[i] != 0 ? managed / lowmem_reserve_ratio[i] : 0;
        if (j == 1) zi.lowmem_reserve1 = r; else zi.lowmem_reserve2 = r;
      }
    }
  }
}
