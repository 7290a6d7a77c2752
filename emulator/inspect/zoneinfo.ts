/**
 * /proc/zoneinfo read by the host out of guest memory (Linux mm/vmstat.c
 * zoneinfo_show_print, 6.1), with the layout the kernel publishes in
 * VMCOREINFO (kernel/vmcoreinfo.ts; what the guest prints is
 * kernel/mm/vmstat.ts print_zoneinfo, whose note lists what is left out of
 * Linux's text):
 *
 *   zone (nid, zid)         SYMBOL(node_zones) + (nid · NUMBER(MAX_NR_ZONES) + zid) · SIZE(zone)
 *     u64 at OFFSET(zone.free_pages | zone_start_pfn | spanned_pages |
 *       present_pages | managed_pages); _watermark[] at OFFSET(zone.watermark)
 *       (LENGTH(zone.watermark) u64: min, low, high); lowmem_reserve[] at
 *       OFFSET(zone.lowmem_reserve) (LENGTH(zone.lowmem_reserve) u64)
 *   its pageset of CPU c    SYMBOL(pcp_pages) + percpu_offset(c) + (nid · MAX_NR_ZONES + zid)
 *                           · SIZE(per_cpu_pages); u32 count / high / batch at
 *                           OFFSET(per_cpu_pages.count | high | batch)
 *   percpu_offset(c)        u32 at SYMBOL(cpu_hot_area) + c · SIZE(cpu_hot) + OFFSET(cpu_hot.percpu_offset)
 *   online CPUs             the u64 bitmap at SYMBOL(cpu_online_mask), CPUs 0 … NUMBER(NR_CPUS) − 1
 *
 * Every zone of nodes 0 … NUMBER(nr_online_nodes) − 1 is listed, populated
 * or not; an unpopulated one (present pages 0) stops after "protection:", as
 * in Linux. boost, cma and node_unreclaimable are 0 (the guest has none of
 * them). The numbers are read without the zone locks: read a stopped
 * machine, or one whose allocator is quiescent.
 */
import { type ReadPhys, type Vmcoreinfo, linearPa, readU32, readU64, vmci } from './vmcoreinfo.js';
import { readAsString } from './buddyinfo.js';

export interface Pageset {
  cpu: number;
  count: number;
  high: number;
  batch: number;
}

export interface ZoneInfo {
  node: number;
  /** Zone index inside the node (ZONE_DMA 0, ZONE_NORMAL 1, ZONE_HIGHMEM 2). */
  zid: number;
  zone: string;
  /** NR_FREE_PAGES: pages on the buddy lists. */
  free: bigint;
  min: bigint;
  low: bigint;
  high: bigint;
  spanned: bigint;
  present: bigint;
  managed: bigint;
  startPfn: bigint;
  /** lowmem_reserve[] (Linux's "protection:"). */
  protection: bigint[];
  /** The online CPUs' per_cpu_pages (read for populated zones only, as printed). */
  pagesets: Pageset[];
}

/** The online CPUs, ascending. */
export function readOnlineCpus(read: ReadPhys, info: Vmcoreinfo): number[] {
  const mask = readU64(read, linearPa(vmci.symbol(info, 'cpu_online_mask')));
  const nrCpus = Math.min(vmci.number(info, 'NR_CPUS'), 64);
  const out: number[] = [];
  for (let c = 0; c < nrCpus; c++) if ((mask >> BigInt(c)) & 1n) out.push(c);
  return out;
}

/** __per_cpu_offset[cpu], from the CPU's cpu_hot block (a u32: kernel pointers are 32-bit). */
export function readPerCpuOffset(read: ReadPhys, info: Vmcoreinfo, cpu: number): number {
  const hot = linearPa(vmci.symbol(info, 'cpu_hot_area'));
  return readU32(read, hot + cpu * vmci.size(info, 'cpu_hot') + vmci.offset(info, 'cpu_hot.percpu_offset'));
}

const s32 = (v: number): number => v | 0;

/** Every zone of the online nodes, in node then zone-index order. */
export function readZoneinfo(read: ReadPhys, info: Vmcoreinfo): ZoneInfo[] {
  const zones = linearPa(vmci.symbol(info, 'node_zones'));
  const zoneSize = vmci.size(info, 'zone');
  const off = (f: string): number => vmci.offset(info, `zone.${f}`);
  const o = {
    name: off('name'), free: off('free_pages'), start: off('zone_start_pfn'), spanned: off('spanned_pages'),
    present: off('present_pages'), managed: off('managed_pages'), wmark: off('watermark'), reserve: off('lowmem_reserve'),
  };
  const nrWmarks = vmci.length(info, 'zone.watermark');
  const nrReserve = vmci.length(info, 'zone.lowmem_reserve');
  const maxNrZones = vmci.number(info, 'MAX_NR_ZONES');
  const nodes = vmci.number(info, 'nr_online_nodes');
  const pcpBase = Number(vmci.symbol(info, 'pcp_pages') & 0xffff_ffffn);
  const pcpSize = vmci.size(info, 'per_cpu_pages');
  const pcpOff = { count: vmci.offset(info, 'per_cpu_pages.count'), high: vmci.offset(info, 'per_cpu_pages.high'), batch: vmci.offset(info, 'per_cpu_pages.batch') };
  const cpus = readOnlineCpus(read, info).map((cpu) => ({ cpu, offset: readPerCpuOffset(read, info, cpu) }));
  const out: ZoneInfo[] = [];
  for (let nid = 0; nid < nodes; nid++) {
    for (let zid = 0; zid < maxNrZones; zid++) {
      const index = nid * maxNrZones + zid;
      const z = zones + index * zoneSize;
      const u64 = (at: number): bigint => readU64(read, z + at);
      const wm: bigint[] = [];
      for (let i = 0; i < nrWmarks; i++) wm.push(u64(o.wmark + 8 * i));
      const protection: bigint[] = [];
      for (let i = 0; i < nrReserve; i++) protection.push(u64(o.reserve + 8 * i));
      const present = u64(o.present);
      const pagesets: Pageset[] = [];
      if (present !== 0n) {
        for (const { cpu, offset } of cpus) {
          // A per-CPU pointer is a kernel pointer: 32 bits, linear map.
          const pcp = linearPa(BigInt.asUintN(64, BigInt((pcpBase + offset + index * pcpSize) | 0)));
          pagesets.push({
            cpu,
            count: s32(readU32(read, pcp + pcpOff.count)),
            high: s32(readU32(read, pcp + pcpOff.high)),
            batch: s32(readU32(read, pcp + pcpOff.batch)),
          });
        }
      }
      out.push({
        node: nid, zid, zone: readAsString(read, readU32(read, z + o.name)),
        free: u64(o.free), min: wm[0] ?? 0n, low: wm[1] ?? 0n, high: wm[2] ?? 0n,
        spanned: u64(o.spanned), present, managed: u64(o.managed), startPfn: u64(o.start),
        protection, pagesets,
      });
    }
  }
  return out;
}

/** Linux's text (see kernel/mm/vmstat.ts print_zoneinfo for the layout), each line ending in "\n". */
export function formatZoneinfo(zones: readonly ZoneInfo[]): string {
  const lines: string[] = [];
  for (const z of zones) {
    lines.push(`Node ${z.node}, zone ${z.zone.padStart(8)}`);
    lines.push(`  pages free     ${z.free}`);
    lines.push('        boost    0');
    lines.push(`        min      ${z.min}`);
    lines.push(`        low      ${z.low}`);
    lines.push(`        high     ${z.high}`);
    lines.push(`        spanned  ${z.spanned}`);
    lines.push(`        present  ${z.present}`);
    lines.push(`        managed  ${z.managed}`);
    lines.push('        cma      0');
    // %ld of a u64
    lines.push(`        protection: (${z.protection.map((r) => BigInt.asIntN(64, r)).join(', ')})`);
    if (z.present === 0n) continue; // Linux: "If unpopulated, no other information is useful"
    lines.push(`      ${'nr_free_pages'.padEnd(12)} ${z.free}`);
    lines.push('  pagesets');
    for (const p of z.pagesets) {
      lines.push(`    cpu: ${p.cpu}`);
      lines.push(`              count: ${p.count}`);
      lines.push(`              high:  ${p.high}`);
      lines.push(`              batch: ${p.batch}`);
    }
    lines.push('  node_unreclaimable:  0');
    lines.push(`  start_pfn:           ${z.startPfn}`);
  }
  return lines.map((l) => `${l}\n`).join('');
}

/** readZoneinfo + formatZoneinfo: the lines the guest prints after "# cat /proc/zoneinfo". */
export function renderZoneinfo(read: ReadPhys, info: Vmcoreinfo): string {
  return formatZoneinfo(readZoneinfo(read, info));
}
