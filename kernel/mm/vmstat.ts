/**
 * The memory reports in Linux's /proc formats (Linux mm/vmstat.c
 * frag_show_print and zoneinfo_show_print, fs/proc/meminfo.c
 * meminfo_proc_show, as of 6.1), printed to the kernel log, each after a
 * line `# cat /proc/<name>` as in a shell transcript, so the host can cut
 * them out of the console and parse them with the parsers it would use on
 * a Linux machine. Nothing else is printed between a header and the last
 * line of its report.
 *
 * The default machine (256 MiB low DRAM, 256 MiB highmem), 4 harts:
 *
 *   # cat /proc/buddyinfo        free blocks per order 0 … 10, populated zones
 *   Node 0, zone      DMA      0      0 …      2      only (present pages ≠ 0, Linux
 *   Node 0, zone   Normal      1      1 …     58      populated_zone); the line is
 *   Node 0, zone  HighMem      0      0 …     64      "Node %d, zone %8s " and
 *                                                    "%6lu " per order, so it ends
 *                                                    in a space, as Linux's does
 *   # cat /proc/zoneinfo         every zone of the node, populated or not (Linux
 *   Node 0, zone      DMA        walks them with assert_populated = false); an
 *     pages free     2048        unpopulated zone (no highmem: HighMem spans 0)
 *           boost    0           stops after "protection:", as in Linux:
 *           min      16
 *           low      20            Node 0, zone  HighMem
 *           high     24              pages free     0
 *           spanned  4096            …
 *           present  4096            protection: (0, 0, 0)
 *           managed  2048
 *           cma      0
 *           protection: (0, 235, 491)   lowmem_reserve[DMA, Normal, HighMem]
 *         nr_free_pages 2048
 *     pagesets
 *       cpu: 0                   each online CPU
 *                 count: 0
 *                 high:  6
 *                 batch: 1
 *       …
 *     node_unreclaimable:  0
 *     start_pfn:           524288
 *   # cat /proc/meminfo          "%-16s%8lu kB" (Linux show_val_kb)
 *   MemTotal:         511996 kB
 *   MemFree:          511996 kB
 *   MemAvailable:     507716 kB
 *   …
 *   # cat /proc/slabinfo         version 2.1, one row per cache, newest first
 *   slabinfo - version: 2.1      (mm/slub.ts print_slabinfo_body: Linux's
 *   # name  <active_objs> …      cache_show printf, tunables 0 as SLUB's)
 *   kmalloc-8192   0   0   8192    4    8 : tunables    0    0    0 : slabdata …
 *
 * What is left out of Linux's output, for want of the thing it counts: the
 * "per-node stats" block of the first populated zone (LRU and page-cache
 * counters), the zone counters after nr_free_pages (nr_zone_*_anon/file,
 * nr_mlock, nr_bounce, …, numa_*), each CPU's "vm stats threshold:" (no
 * per-CPU vmstat deltas here: counters are exact), and the meminfo lines
 * after SwapFree. Buffers, Cached, SwapCached, SwapTotal and SwapFree are 0;
 * boost and cma are 0; node_unreclaimable is 0 (no kswapd). HighTotal …
 * LowFree are always printed (Linux: only with CONFIG_HIGHMEM; we always
 * have the zone, empty or not).
 *
 * Numbers. "pages free", nr_free_pages and MemFree are NR_FREE_PAGES: the
 * buddy lists only (zone.free_pages), as in Linux; pages parked on the
 * per-CPU lists count as in use. mm_reports_from_cmdline() therefore first
 * drains every CPU's lists (drain_all_pages), so that after it the reports
 * describe all the free memory and the pagesets' counts read 0.
 * MemAvailable is NR_FREE_PAGES minus the sum of the zones' high watermarks,
 * clamped at 0 (Linux si_mem_available without page cache or reclaimable
 * slab; Linux's totalreserve_pages also adds each zone's largest
 * lowmem_reserve, capped at its managed pages).
 *
 * Consistency. Each zone's free-area counts and free_pages are copied under
 * its lock (Linux prints with zone->lock held), so Σ nr_free[o]·2^o equals
 * "pages free" within a report; across the three reports they agree while
 * nothing allocates (the end of boot). Printing happens after the lock is
 * dropped: console output is slow and other CPUs would spin with
 * interrupts off.
 *
 * When. mm_reports_from_cmdline() runs once before power-off (init/main.ts);
 * with `report_each=suite` also after every KTAP suite (test/ktap.ts calls
 * mm_reports_after_suite), so that the host can stop on print_buddyinfo &c.
 * at several points of a self-test run, read the state itself (emulator/
 * inspect/) and compare it with what the guest prints next. Each round is
 * the same: drain, then the reports in report='s order. Breakpoints for the
 * host: print_header (it starts buddyinfo, zoneinfo, meminfo and slabinfo;
 * print_buddyinfo and print_meminfo have one caller and the optimizer may
 * inline them, so their symbols may be missing from the ELF) and
 * print_vmallocinfo (mm/vmalloc.ts); at their entry the state is what the
 * report prints (tests/inspect/zoneinfo.test.ts stops there and compares).
 *
 * Context: process context, any CPU; the print_* functions take each zone's
 * lock briefly (irqsave) and may be called with interrupts off;
 * mm_reports_from_cmdline() wants interrupts on (drain_all_pages sends IPIs;
 * with interrupts off only this CPU's lists are drained). Nothing here
 * allocates or sleeps. One report at a time: the line buffer and the zone
 * snapshot are static (the end of boot has one caller).
 */
import { NR_CPUS } from "../arch/layout";
import { pr_info, pr_err } from "../printk";
import { scnprintf } from "../lib/vsprintf";
import { cpu_online } from "../smp";
import { spin_lock_irqsave, spin_unlock_irqrestore } from "../locking/spinlock";
import { cmdline_find, cmdline_val_ptr, cmdline_val_len } from "../cmdline";
import { bytes_eq_str } from "../lib/string";
import { MAX_NR_ZONES, ZONE_HIGHMEM } from "./gfp";
import {
  zone, node_zone, zone_lock, free_area_nr_free, zone_lowmem_reserve, pcp_of, nr_online_nodes, MAX_ORDER,
  PCP_COUNT, PCP_HIGH, PCP_BATCH,
} from "./mmzone";
import { drain_all_pages, totalram_pages, totalhigh_pages } from "./page_alloc";
import { print_slabinfo_body } from "./slub";
import { print_vmallocinfo } from "./vmalloc";

/** One formatted line (buddyinfo's is 22 + 11 · 7 = 99 characters). */
const LINE_SIZE: i32 = 256;
const line_buf: usize = memory.data(LINE_SIZE, 8);

/** A zone's free-area counts (blocks per order) and NR_FREE_PAGES, copied under its lock. */
const snap_nr_free: usize = memory.data(<i32>(<usize>MAX_ORDER * 8), 8);
let snap_free_pages: u64 = 0;

function snapshot_zone(z: zone): void {
  const flags = spin_lock_irqsave(zone_lock(z));
  for (let o: u32 = 0; o < MAX_ORDER; o++) store<u64>(snap_nr_free + <usize>o * 8, free_area_nr_free(z, o));
  snap_free_pages = z.free_pages;
  spin_unlock_irqrestore(zone_lock(z), flags);
}

/** Linux populated_zone(): the zone has present pages (whether or not the buddy allocator manages any). */
// @ts-ignore: decorator
@inline function zone_has_pages(z: zone): bool { return z.present_pages != 0; }

function print_header(name: string): void {
  pr_info("# cat /proc/%s\n", changetype<usize>(name));
}

/**
 * /proc/buddyinfo: per populated zone, the number of free blocks of each
 * order 0 … MAX_ORDER − 1. Context: any (takes each zone's lock briefly).
 */
export function print_buddyinfo(): void {
  print_header("buddyinfo");
  for (let nid = 0; nid < nr_online_nodes; nid++) {
    for (let zid = 0; zid < MAX_NR_ZONES; zid++) {
      const z = node_zone(nid, zid);
      if (!zone_has_pages(z)) continue;
      snapshot_zone(z);
      let n = scnprintf(line_buf, LINE_SIZE, "Node %d, zone %8s ", nid, z.name);
      for (let o: u32 = 0; o < MAX_ORDER; o++) {
        n += scnprintf(line_buf + <usize>n, LINE_SIZE - n, "%6lu ", load<u64>(snap_nr_free + <usize>o * 8));
      }
      pr_info("%pz\n", line_buf);
    }
  }
}

/** "        protection: (r0, r1, r2)": lowmem_reserve[] of every zone index. */
function print_protection(z: zone): void {
  let n = scnprintf(line_buf, LINE_SIZE, "        protection: (%ld", zone_lowmem_reserve(z, 0));
  for (let j = 1; j < MAX_NR_ZONES; j++) n += scnprintf(line_buf + <usize>n, LINE_SIZE - n, ", %ld", zone_lowmem_reserve(z, j));
  scnprintf(line_buf + <usize>n, LINE_SIZE - n, ")");
  pr_info("%pz\n", line_buf);
}

/**
 * /proc/zoneinfo: every zone of every node (see the note for what an
 * unpopulated zone shows and what is left out). Context: any (takes each
 * zone's lock briefly).
 */
export function print_zoneinfo(): void {
  print_header("zoneinfo");
  for (let nid = 0; nid < nr_online_nodes; nid++) {
    for (let zid = 0; zid < MAX_NR_ZONES; zid++) {
      const z = node_zone(nid, zid);
      snapshot_zone(z);
      pr_info("Node %d, zone %8s\n", nid, z.name);
      pr_info("  pages free     %lu\n", snap_free_pages);
      pr_info("        boost    %lu\n", 0);
      pr_info("        min      %lu\n", z.wmark_min);
      pr_info("        low      %lu\n", z.wmark_low);
      pr_info("        high     %lu\n", z.wmark_high);
      pr_info("        spanned  %lu\n", z.spanned_pages);
      pr_info("        present  %lu\n", z.present_pages);
      pr_info("        managed  %lu\n", z.managed_pages);
      pr_info("        cma      %lu\n", 0);
      print_protection(z);
      if (!zone_has_pages(z)) continue; // Linux: "If unpopulated, no other information is useful"
      pr_info("      %-12s %lu\n", changetype<usize>("nr_free_pages"), snap_free_pages);
      pr_info("  pagesets\n");
      for (let cpu = 0; cpu < NR_CPUS; cpu++) {
        if (!cpu_online(cpu)) continue;
        const pcp = pcp_of(z, cpu);
        pr_info("    cpu: %d\n", cpu);
        pr_info("              count: %d\n", load<u32>(pcp, PCP_COUNT));
        pr_info("              high:  %d\n", load<u32>(pcp, PCP_HIGH));
        pr_info("              batch: %d\n", load<u32>(pcp, PCP_BATCH));
      }
      pr_info("  node_unreclaimable:  %u\n", 0);
      pr_info("  start_pfn:           %lu\n", z.zone_start_pfn);
    }
  }
}

/** Linux show_val_kb: the label padded to 16 characters, the value in kB in 8. */
function show_val_kb(label: string, pages: u64): void {
  pr_info("%-16s%8lu kB\n", changetype<usize>(label), pages << 2);
}

/**
 * /proc/meminfo: the lines that mean something without page cache or swap.
 * Context: any (takes each zone's lock briefly).
 */
export function print_meminfo(): void {
  // One pass over the zones, so that LowFree + HighFree == MemFree exactly.
  let free: u64 = 0, free_high: u64 = 0, reserve: u64 = 0;
  for (let nid = 0; nid < nr_online_nodes; nid++) {
    for (let zid = 0; zid < MAX_NR_ZONES; zid++) {
      const z = node_zone(nid, zid);
      snapshot_zone(z);
      free += snap_free_pages;
      if (zid == ZONE_HIGHMEM) free_high += snap_free_pages;
      reserve += z.wmark_high;
    }
  }
  const available: u64 = free > reserve ? free - reserve : 0;
  print_header("meminfo");
  show_val_kb("MemTotal:", totalram_pages);
  show_val_kb("MemFree:", free);
  show_val_kb("MemAvailable:", available);
  show_val_kb("Buffers:", 0);
  show_val_kb("Cached:", 0);
  show_val_kb("SwapCached:", 0);
  show_val_kb("HighTotal:", totalhigh_pages);
  show_val_kb("HighFree:", free_high);
  show_val_kb("LowTotal:", totalram_pages - totalhigh_pages);
  show_val_kb("LowFree:", free - free_high);
  show_val_kb("SwapTotal:", 0);
  show_val_kb("SwapFree:", 0);
}

/**
 * /proc/slabinfo, version 2.1 (Linux mm/slab_common.c slab_show): one row
 * per cache, newest first; the numbers are mm/slub.ts's get_slabinfo.
 * Context: process context (takes the cache list and node locks briefly).
 */
export function print_slabinfo(): void {
  print_header("slabinfo");
  print_slabinfo_body();
}

/**
 * Print the reports `report=buddyinfo,zoneinfo,meminfo,slabinfo,vmallocinfo` asks for (any
 * subset, in the order given), after draining every CPU's page lists. An
 * unknown name is reported with pr_err and skipped. Does nothing without
 * report=. Context: process context, interrupts on (see the note).
 */
export function mm_reports_from_cmdline(): void {
  const v = cmdline_find("report");
  if (v < 0) return;
  const list = cmdline_val_ptr(v);
  const len = cmdline_val_len(v);
  drain_all_pages();
  let i = 0;
  while (i < len) {
    let e = i;
    while (e < len && load<u8>(list + <usize>e) != 44) e++;
    const item = list + <usize>i;
    if (bytes_eq_str(item, e - i, "buddyinfo")) print_buddyinfo();
    else if (bytes_eq_str(item, e - i, "zoneinfo")) print_zoneinfo();
    else if (bytes_eq_str(item, e - i, "meminfo")) print_meminfo();
    else if (bytes_eq_str(item, e - i, "slabinfo")) print_slabinfo();
    else if (bytes_eq_str(item, e - i, "vmallocinfo")) print_vmallocinfo();
    else if (e > i) pr_err("report: no report named '%.*pz' (buddyinfo, zoneinfo, meminfo, slabinfo, vmallocinfo)\n", e - i, item);
    i = e + 1;
  }
}

/**
 * `report_each=suite`: print the report= reports after every KTAP suite too
 * (test/ktap.ts calls this after each suite). Any other value is reported
 * once (pr_err) and otherwise ignored; none does nothing. Context: process context, interrupts on (as mm_reports_from_cmdline).
 */
let report_each_warned: bool = false;

export function mm_reports_after_suite(): void {
  const v = cmdline_find("report_each");
  if (v < 0) return;
  if (!bytes_eq_str(cmdline_val_ptr(v), cmdline_val_len(v), "suite")) {
    if (!report_each_warned) pr_err("report_each: '%.*pz' is not a stopping point (suite)\n", cmdline_val_len(v), cmdline_val_ptr(v));
    report_each_warned = true;
    return;
  }
  mm_reports_from_cmdline();
}
