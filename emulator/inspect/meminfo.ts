/**
 * /proc/meminfo read by the host out of guest memory (Linux
 * fs/proc/meminfo.c meminfo_proc_show, show_val_kb), as the guest prints
 * it (kernel/mm/vmstat.ts print_meminfo: the twelve lines up to SwapFree;
 * its note says what is left out and why).
 *
 * Everything comes from the zones (emulator/inspect/zoneinfo.ts reads them
 * with the VMCOREINFO layout of kernel/vmcoreinfo.ts), summed over every
 * zone of the online nodes exactly as print_meminfo sums them:
 *
 *   MemTotal      Σ managed_pages (page_alloc.ts totalram_pages is that sum)
 *   MemFree       Σ free_pages (NR_FREE_PAGES: the buddy lists)
 *   MemAvailable  max(0, MemFree − Σ high watermark)   (si_mem_available without
 *                                                      page cache or reclaimable slab)
 *   HighTotal     Σ managed_pages of the zones with index NUMBER(ZONE_HIGHMEM)
 *   HighFree      Σ free_pages of those
 *   LowTotal/LowFree  the rest; Buffers, Cached, SwapCached, SwapTotal, SwapFree 0
 *
 * Pages are NUMBER(PAGESIZE) bytes; a line is "%-16s%8lu kB".
 */
import { type ReadPhys, type Vmcoreinfo, vmci } from './vmcoreinfo.js';
import { readZoneinfo, type ZoneInfo } from './zoneinfo.js';

/** The meminfo lines in the guest's order, values in kB. */
export type Meminfo = [label: string, kb: bigint][];

/** Compute the lines from zones read with readZoneinfo. */
export function meminfoFromZones(zones: readonly ZoneInfo[], zoneHighmem: number, pageSize: number): Meminfo {
  let total = 0n, free = 0n, reserve = 0n, totalHigh = 0n, freeHigh = 0n;
  for (const z of zones) {
    total += z.managed;
    free += z.free;
    reserve += z.high;
    if (z.zid === zoneHighmem) { totalHigh += z.managed; freeHigh += z.free; }
  }
  const kb = (pages: bigint): bigint => BigInt.asUintN(64, pages * BigInt(pageSize)) / 1024n;
  const available = free > reserve ? free - reserve : 0n;
  return [
    ['MemTotal', kb(total)], ['MemFree', kb(free)], ['MemAvailable', kb(available)],
    ['Buffers', 0n], ['Cached', 0n], ['SwapCached', 0n],
    ['HighTotal', kb(totalHigh)], ['HighFree', kb(freeHigh)],
    ['LowTotal', kb(BigInt.asUintN(64, total - totalHigh))], ['LowFree', kb(free - freeHigh)],
    ['SwapTotal', 0n], ['SwapFree', 0n],
  ];
}

export function readMeminfo(read: ReadPhys, info: Vmcoreinfo): Meminfo {
  const pageSize = vmci.number(info, 'PAGESIZE');
  return meminfoFromZones(readZoneinfo(read, info), vmci.number(info, 'ZONE_HIGHMEM'), pageSize);
}

/** Linux show_val_kb: the label and its colon padded to 16 columns, the value to 8, then " kB\n". */
export function formatMeminfo(m: Meminfo): string {
  return m.map(([label, kb]) => `${`${label}:`.padEnd(16)}${String(kb).padStart(8)} kB\n`).join('');
}

/** readMeminfo + formatMeminfo: the lines the guest prints after "# cat /proc/meminfo". */
export function renderMeminfo(read: ReadPhys, info: Vmcoreinfo): string {
  return formatMeminfo(readMeminfo(read, info));
}
