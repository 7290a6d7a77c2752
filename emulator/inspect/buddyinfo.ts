/**
 * /proc/buddyinfo read by the host out of guest memory (Linux mm/vmstat.c
 * frag_show_print), with the layout the kernel publishes in VMCOREINFO
 * (kernel/vmcoreinfo.ts vmcoreinfo_mm_setup):
 *
 *   zone (nid, zid)           SYMBOL(node_zones) + (nid · NUMBER(MAX_NR_ZONES) + zid) · SIZE(zone)
 *   its free_area[order]      SYMBOL(free_area) + ((nid · MAX_NR_ZONES + zid) · LENGTH(zone.free_area)
 *                                                  + order) · SIZE(free_area)
 *   nr_free                   u64 at OFFSET(free_area.nr_free)
 *   populated (Linux          u64 zone.present_pages ≠ 0
 *     populated_zone)
 *   name                      a pointer at OFFSET(zone.name) to an AssemblyScript
 *                             string: UTF-16LE, its byte length in the u32 before it
 *
 * Nodes 0 … NUMBER(nr_online_nodes) − 1, each populated zone one line:
 * "Node %d, zone %8s " then "%6lu " per order (so a line ends in a space).
 * The numbers are read without the zone locks: read a stopped machine, or
 * one whose allocator is quiescent.
 */
import { type ReadPhys, type Vmcoreinfo, VmcoreinfoError, linearPa, readU32, readU64, vmci } from './vmcoreinfo.js';

export interface BuddyZone {
  node: number;
  zone: string;
  /** Free blocks per order 0 … LENGTH(zone.free_area) − 1. */
  nrFree: bigint[];
}

/** Largest believable zone name (bytes of UTF-16). */
const MAX_NAME_BYTES = 64;

/** An AssemblyScript string at physical address `pa` (rtSize, the byte length, is the u32 before it). */
export function readAsString(read: ReadPhys, pa: number): string {
  const bytes = readU32(read, pa - 4);
  if (bytes % 2 !== 0 || bytes > MAX_NAME_BYTES) throw new VmcoreinfoError(`no AssemblyScript string at 0x${pa.toString(16)} (length ${bytes})`);
  return Buffer.from(read(pa, bytes)).toString('utf16le');
}

/** The populated zones of the online nodes with their free-area counts. */
export function readBuddyinfo(read: ReadPhys, info: Vmcoreinfo): BuddyZone[] {
  const zones = linearPa(vmci.symbol(info, 'node_zones'));
  const zoneSize = vmci.size(info, 'zone');
  const nameOff = vmci.offset(info, 'zone.name');
  const presentOff = vmci.offset(info, 'zone.present_pages');
  const areas = linearPa(vmci.symbol(info, 'free_area'));
  const areaSize = vmci.size(info, 'free_area');
  const nrFreeOff = vmci.offset(info, 'free_area.nr_free');
  const maxOrder = vmci.length(info, 'zone.free_area');
  const maxNrZones = vmci.number(info, 'MAX_NR_ZONES');
  const nodes = vmci.number(info, 'nr_online_nodes');
  const out: BuddyZone[] = [];
  for (let nid = 0; nid < nodes; nid++) {
    for (let zid = 0; zid < maxNrZones; zid++) {
      const index = nid * maxNrZones + zid;
      const z = zones + index * zoneSize;
      if (readU64(read, z + presentOff) === 0n) continue;
      const name = readAsString(read, readU32(read, z + nameOff));
      const nrFree: bigint[] = [];
      for (let o = 0; o < maxOrder; o++) nrFree.push(readU64(read, areas + (index * maxOrder + o) * areaSize + nrFreeOff));
      out.push({ node: nid, zone: name, nrFree });
    }
  }
  return out;
}

/** Linux's text: `Node %d, zone %8s ` then `%6lu ` per order, one line per zone, each ending in "\n". */
export function formatBuddyinfo(zones: readonly BuddyZone[]): string {
  return zones.map((z) => `Node ${z.node}, zone ${z.zone.padStart(8)} ${z.nrFree.map((n) => `${String(n).padStart(6)} `).join('')}\n`).join('');
}

/** readBuddyinfo + formatBuddyinfo. */
export function renderBuddyinfo(read: ReadPhys, info: Vmcoreinfo): string {
  return formatBuddyinfo(readBuddyinfo(read, info));
}
