/**
 * /proc/vmallocinfo read by the host out of guest memory (Linux mm/vmalloc.c
 * s_show, 6.1), as the guest prints it (kernel/mm/vmalloc.ts
 * print_vmallocinfo), with the layout of kernel/vmcoreinfo.ts:
 *
 *   SYMBOL(vmap_area_list)     list_head: u32 next, u32 prev (kernel pointers:
 *                              32 bits, sign-extended; the descriptors are
 *                              kmalloc'ed, so in the linear map)
 *     └─► vm_struct ─► vm_struct ─► …  back to the head, in address order, linked
 *                              at OFFSET(vmap_area.list)
 *   vm_struct                  u64 addr, size (the guard page included), phys_addr,
 *                              caller; u32 flags, nr_pages (OFFSET(vm_struct.*))
 *
 * One line per area, at most VMALLOCINFO_MAX_LINES (the guest's snapshot,
 * vmalloc.ts MAX_SNAP; the summary counts them all):
 *
 *   0x<start %016x>-0x<end %016x> <size %7ld>[ [<caller %016x>]][ pages=N][ phys=0x%016x][ ioremap][ vmalloc][ vmap]
 *
 * The caller is printed as the guest's %pS prints it ([<addr>], to be
 * symbolised by the host), Linux's phys= as %pa. Before the
 * "# cat /proc/vmallocinfo" header the guest prints a summary,
 * "vmallocinfo: N areas, P pages, B bytes" (renderVmallocSummary).
 *
 * The list is read without vmap_area_lock: read a stopped machine, or one
 * that is not mapping or unmapping. A list that does not come back to its
 * head (a loop, or more than MAX_AREAS entries), or that leaves the linear
 * map, is reported as corrupt (VmcoreinfoError).
 */
import { type ReadPhys, type Vmcoreinfo, VmcoreinfoError, linearPa, readU32, readU64, vmci } from './vmcoreinfo.js';

/** The guest's print cap (kernel/mm/vmalloc.ts MAX_SNAP). */
export const VMALLOCINFO_MAX_LINES = 256;
/** More areas than the 768 MiB range could hold (2 pages each): the list is corrupt. */
const MAX_AREAS = 1 << 17;

export interface VmapArea {
  /** First byte (a CPU address). */
  addr: bigint;
  /** Bytes, the guard page included. */
  size: bigint;
  /** The code address that asked for it (0n: unknown); symbolise with the kernel ELF's symbols. */
  caller: bigint;
  nrPages: number;
  /** ioremap: the physical address of the first page (0n otherwise). */
  phys: bigint;
  flags: number;
  ioremap: boolean;
  vmalloc: boolean;
  vmap: boolean;
  /** Physical address of the descriptor (struct vm_struct). */
  descPa: number;
}

/** A kernel pointer (u32, sign-extended by the CPU) → its physical address through the linear map. */
function ptrPa(p: number, what: string): number {
  const va = BigInt.asUintN(64, BigInt(p | 0));
  try {
    return linearPa(va);
  } catch {
    throw new VmcoreinfoError(`${what} 0x${va.toString(16)} is not a linear-map pointer: vmap_area_list is corrupt`);
  }
}

/** The live vmap areas in list (address) order. */
export function readVmapAreas(read: ReadPhys, info: Vmcoreinfo): VmapArea[] {
  const head = linearPa(vmci.symbol(info, 'vmap_area_list'));
  const link = vmci.offset(info, 'vmap_area.list');
  const o = {
    addr: vmci.offset(info, 'vm_struct.addr'), size: vmci.offset(info, 'vm_struct.size'),
    phys: vmci.offset(info, 'vm_struct.phys_addr'), caller: vmci.offset(info, 'vm_struct.caller'),
    flags: vmci.offset(info, 'vm_struct.flags'), nrPages: vmci.offset(info, 'vm_struct.nr_pages'),
  };
  const VM_IOREMAP = vmci.number(info, 'VM_IOREMAP');
  const VM_ALLOC = vmci.number(info, 'VM_ALLOC');
  const VM_MAP = vmci.number(info, 'VM_MAP');
  const out: VmapArea[] = [];
  const seen = new Set<number>();
  let e = ptrPa(readU32(read, head), 'vmap_area_list.next');
  while (e !== head) {
    if (seen.has(e)) throw new VmcoreinfoError(`vmap_area_list is corrupt: it loops back to the area at 0x${(e - link).toString(16)} without reaching its head`);
    if (out.length >= MAX_AREAS) throw new VmcoreinfoError(`vmap_area_list does not come back to its head after ${MAX_AREAS} areas: corrupt`);
    seen.add(e);
    const a = e - link;
    const flags = readU32(read, a + o.flags);
    out.push({
      addr: readU64(read, a + o.addr), size: readU64(read, a + o.size), caller: readU64(read, a + o.caller),
      nrPages: readU32(read, a + o.nrPages), phys: readU64(read, a + o.phys), flags,
      ioremap: (flags & VM_IOREMAP) !== 0, vmalloc: (flags & VM_ALLOC) !== 0, vmap: (flags & VM_MAP) !== 0,
      descPa: a,
    });
    e = ptrPa(readU32(read, e), `the next pointer of the area at 0x${a.toString(16)}`);
  }
  return out;
}

/** The area that holds `va` (its guard page included), if any: for "whatis ADDR". */
export function findVmapArea(areas: readonly VmapArea[], va: bigint): VmapArea | undefined {
  const v = BigInt.asUintN(64, va);
  return areas.find((a) => v >= a.addr && v < a.addr + a.size);
}

const hex16 = (v: bigint): string => BigInt.asUintN(64, v).toString(16).padStart(16, '0');

/** One line, without its "\n" (s_show's fields, in its order). */
export function formatVmapArea(a: VmapArea): string {
  let l = `0x${hex16(a.addr)}-0x${hex16(a.addr + a.size)} ${String(BigInt.asIntN(64, a.size)).padStart(7)}`;
  if (a.caller !== 0n) l += ` [<${hex16(a.caller)}>]`;
  if (a.nrPages !== 0) l += ` pages=${a.nrPages | 0}`;
  if (a.phys !== 0n) l += ` phys=0x${hex16(a.phys)}`;
  if (a.ioremap) l += ' ioremap';
  if (a.vmalloc) l += ' vmalloc';
  if (a.vmap) l += ' vmap';
  return l;
}

/** The lines the guest prints after "# cat /proc/vmallocinfo" (at most VMALLOCINFO_MAX_LINES), each ending in "\n". */
export function formatVmallocinfo(areas: readonly VmapArea[]): string {
  return areas.slice(0, VMALLOCINFO_MAX_LINES).map((a) => `${formatVmapArea(a)}\n`).join('');
}

/** The guest's summary line before the header: "vmallocinfo: N areas, P pages, B bytes\n". */
export function formatVmallocSummary(areas: readonly VmapArea[]): string {
  const pages = areas.reduce((s, a) => s + BigInt(a.nrPages), 0n);
  const bytes = areas.reduce((s, a) => BigInt.asUintN(64, s + a.size), 0n);
  return `vmallocinfo: ${areas.length} areas, ${pages} pages, ${bytes} bytes\n`;
}

/** readVmapAreas + formatVmallocinfo. */
export function renderVmallocinfo(read: ReadPhys, info: Vmcoreinfo): string {
  return formatVmallocinfo(readVmapAreas(read, info));
}

/** readVmapAreas + formatVmallocSummary. */
export function renderVmallocSummary(read: ReadPhys, info: Vmcoreinfo): string {
  return formatVmallocSummary(readVmapAreas(read, info));
}
