/**
 * Early device-tree scan (Linux drivers/of/fdt.c early_init_dt_scan and the
 * of_address / of_irq helpers, for a flattened tree read in place).
 *
 * At boot, early_init_dt_scan(dtb) records what the rest of the kernel needs
 * before any allocator exists, in static tables:
 *
 *   memory banks     every /memory node with device_type = "memory" (all its
 *                    reg pairs): on kmemlab, low DRAM and high DRAM
 *   reserved regions the header's memory reservation block, and each child of
 *                    /reserved-memory with a reg (no-map noted)
 *   CPUs             /cpus/cpu@N: hart ids; logical CPU 0 is the boot hart,
 *                    the others follow in tree order (Linux's
 *                    cpuid_to_hartid_map); /cpus/timebase-frequency
 *   command line     /chosen/bootargs, copied to boot_command_line
 *
 * Devices are looked up later by `compatible` (of_find_compatible_node) with
 * their registers (of_address_to_resource, translated through the parents'
 * `ranges`) and interrupts (of_irq_get: `interrupts` with `interrupt-parent`,
 * or `interrupts-extended`), and their DMA windows (of_dma_get_range: the
 * `dma-ranges` of the buses above them; of_dma_zone_window for ZONE_DMA).
 *
 * Context: early_init_dt_scan runs once on the boot CPU before SMP; the
 * tables are read-only afterwards and every reader is lock-free.
 */
import {
  fdt_check_header, fdt_path_offset, fdt_first_subnode, fdt_next_subnode, fdt_getprop_u32, fdt_getprop_len,
  fdt_stringlist_contains_prop, fdt_device_is_available, fdt_address_cells, fdt_size_cells, fdt_read_number,
  fdt_num_mem_rsv, fdt_mem_rsv_address, fdt_mem_rsv_size, fdt_next_node, fdt_node_check_compatible,
  fdt_getprop, fdt_parent_offset, fdt_node_offset_by_phandle, fdt_totalsize, fdt_node_name_eq, fdt32_ld,
  FDT_ERR_NOTFOUND,
} from "../lib/fdt";
import { NR_CPUS } from "../arch/layout";

export const MAX_MEM_BANKS: i32 = 8;
export const MAX_RESERVED: i32 = 32;
export const COMMAND_LINE_SIZE: i32 = 1024;
/** Flag of a reserved region: must not be mapped (reserved-memory no-map). */
export const RESERVED_NOMAP: u32 = 1;
/** Flag of a reserved region: came from the header's reservation block. */
export const RESERVED_RSVMAP: u32 = 2;

/** [base, base + size) with flags: a memory bank or a reserved region. */
@unmanaged
export class of_region {
  base: u64;
  size: u64;
  flags: u32;
  pad: u32;
}
const REGION_SIZE: i32 = 24;

const mem_banks: usize = memory.data(MAX_MEM_BANKS * REGION_SIZE, 8);
const reserved: usize = memory.data(MAX_RESERVED * REGION_SIZE, 8);
/** Logical CPU → hart id. */
const cpu_hartid: usize = memory.data(NR_CPUS * 4, 4);

export let nr_mem_banks: i32 = 0;
export let nr_reserved: i32 = 0;
/** Number of CPUs the device tree describes (possible CPUs). */
export let nr_cpu_ids: i32 = 0;
/** The tree, as the firmware handed it over (a linear-map pointer), and its size. */
export let initial_boot_params: usize = 0;
export let initial_boot_params_size: u32 = 0;
/** The root's `model` property (NUL-terminated), 0 when absent. */
export let of_model: usize = 0;
/** /cpus/timebase-frequency, 0 when absent. */
export let of_timebase_frequency: u64 = 0;
/** /chosen/bootargs, NUL-terminated ("" when absent). */
export const boot_command_line: usize = memory.data(COMMAND_LINE_SIZE, 8);
export let boot_command_line_len: i32 = 0;

export function of_mem_bank(i: i32): of_region { return changetype<of_region>(mem_banks + <usize>(i * REGION_SIZE)); }
export function of_reserved(i: i32): of_region { return changetype<of_region>(reserved + <usize>(i * REGION_SIZE)); }
/** Hart id of logical CPU `cpu` (-1 when out of range). */
export function cpuid_to_hartid(cpu: i32): i32 {
  return cpu >= 0 && cpu < nr_cpu_ids ? load<i32>(cpu_hartid + <usize>(cpu * 4)) : -1;
}
/** Logical CPU of hart `hartid`, or -1. */
export function hartid_to_cpuid(hartid: i32): i32 {
  for (let i = 0; i < nr_cpu_ids; i++) if (load<i32>(cpu_hartid + <usize>(i * 4)) == hartid) return i;
  return -1;
}

function add_region(table: usize, n: i32, max: i32, base: u64, size: u64, flags: u32): i32 {
  if (n >= max || size == 0) return n;
  const r = changetype<of_region>(table + <usize>(n * REGION_SIZE));
  r.base = base;
  r.size = size;
  r.flags = flags;
  return n + 1;
}

/** Scan /memory nodes. */
function scan_memory(fdt: usize): void {
  const ac = fdt_address_cells(fdt, 0);
  const sc = fdt_size_cells(fdt, 0);
  for (let n = fdt_first_subnode(fdt, 0); n >= 0; n = fdt_next_subnode(fdt, n)) {
    if (!fdt_stringlist_contains_prop(fdt, n, "device_type", "memory")) continue;
    if (!fdt_device_is_available(fdt, n)) continue;
    const len = fdt_getprop_len(fdt, n, "reg");
    const p = fdt_getprop(fdt, n, "reg", 0);
    const entry = (ac + sc) * 4;
    if (p == 0 || entry == 0) continue;
    for (let off = 0; off + entry <= len; off += entry) {
      const base = fdt_read_number(p + <usize>off, ac);
      const size = fdt_read_number(p + <usize>(off + ac * 4), sc);
      nr_mem_banks = add_region(mem_banks, nr_mem_banks, MAX_MEM_BANKS, base, size, 0);
    }
  }
}

/** The header's reservation block and /reserved-memory. */
function scan_reserved(fdt: usize): void {
  const n_rsv = fdt_num_mem_rsv(fdt);
  for (let i = 0; i < n_rsv; i++) {
    nr_reserved = add_region(reserved, nr_reserved, MAX_RESERVED, fdt_mem_rsv_address(fdt, i), fdt_mem_rsv_size(fdt, i), RESERVED_RSVMAP);
  }
  const rm = fdt_path_offset(fdt, "/reserved-memory");
  if (rm < 0) return;
  const ac = fdt_address_cells(fdt, rm);
  const sc = fdt_size_cells(fdt, rm);
  for (let n = fdt_first_subnode(fdt, rm); n >= 0; n = fdt_next_subnode(fdt, n)) {
    if (!fdt_device_is_available(fdt, n)) continue;
    const len = fdt_getprop_len(fdt, n, "reg");
    const p = fdt_getprop(fdt, n, "reg", 0);
    const entry = (ac + sc) * 4;
    if (p == 0 || entry == 0) continue; // dynamic (size/alloc-ranges) regions are not placed here
    const flags: u32 = fdt_getprop_len(fdt, n, "no-map") >= 0 ? RESERVED_NOMAP : 0;
    for (let off = 0; off + entry <= len; off += entry) {
      nr_reserved = add_region(reserved, nr_reserved, MAX_RESERVED,
        fdt_read_number(p + <usize>off, ac), fdt_read_number(p + <usize>(off + ac * 4), sc), flags);
    }
  }
}

/** /cpus: hart ids (boot hart first) and the timebase. */
function scan_cpus(fdt: usize, boot_hartid: i32): void {
  const cpus = fdt_path_offset(fdt, "/cpus");
  if (cpus < 0) return;
  of_timebase_frequency = <u64>fdt_getprop_u32(fdt, cpus, "timebase-frequency", 0);
  const ac = fdt_address_cells(fdt, cpus);
  nr_cpu_ids = 0;
  if (boot_hartid >= 0) {
    store<i32>(cpu_hartid, boot_hartid);
    nr_cpu_ids = 1;
  }
  for (let n = fdt_first_subnode(fdt, cpus); n >= 0; n = fdt_next_subnode(fdt, n)) {
    if (!fdt_stringlist_contains_prop(fdt, n, "device_type", "cpu")) continue;
    if (!fdt_device_is_available(fdt, n)) continue;
    const p = fdt_getprop(fdt, n, "reg", 0);
    if (p == 0) continue;
    const hartid = <i32>fdt_read_number(p, ac);
    if (hartid == boot_hartid) continue;
    if (nr_cpu_ids >= NR_CPUS) break;
    store<i32>(cpu_hartid + <usize>(nr_cpu_ids * 4), hartid);
    nr_cpu_ids++;
  }
}

/** /chosen/bootargs → boot_command_line. */
function scan_chosen(fdt: usize): void {
  boot_command_line_len = 0;
  store<u8>(boot_command_line, 0);
  const chosen = fdt_path_offset(fdt, "/chosen");
  if (chosen < 0) return;
  const len = fdt_getprop_len(fdt, chosen, "bootargs");
  const p = fdt_getprop(fdt, chosen, "bootargs", 0);
  if (p == 0) return;
  let n = 0;
  while (n < len && n < COMMAND_LINE_SIZE - 1 && load<u8>(p + <usize>n) != 0) {
    store<u8>(boot_command_line + <usize>n, load<u8>(p + <usize>n));
    n++;
  }
  store<u8>(boot_command_line + <usize>n, 0);
  boot_command_line_len = n;
}

/**
 * Scan the tree at kernel pointer `dtb` for the boot hart `boot_hartid`.
 * Returns 0, or a negative FDT_ERR_* when the blob is not a device tree
 * (then nothing is recorded). Context: boot CPU, before SMP.
 */
export function early_init_dt_scan(dtb: usize, boot_hartid: i32): i32 {
  const err = fdt_check_header(dtb);
  if (err < 0) return err;
  initial_boot_params = dtb;
  initial_boot_params_size = fdt_totalsize(dtb);
  nr_mem_banks = 0;
  nr_reserved = 0;
  scan_memory(dtb);
  scan_reserved(dtb);
  scan_cpus(dtb, boot_hartid);
  scan_chosen(dtb);
  of_model = fdt_getprop(dtb, 0, "model", 0);
  return 0;
}

// --- devices -----------------------------------------------------------------

/** The next available node after `from` (-1 = the start) compatible with `compat`, or FDT_ERR_NOTFOUND. */
export function of_find_compatible_node(from: i32, compat: string): i32 {
  const fdt = initial_boot_params;
  for (let n = fdt_next_node(fdt, from, 0); n >= 0; n = fdt_next_node(fdt, n, 0)) {
    if (fdt_node_check_compatible(fdt, n, compat) == 0 && fdt_device_is_available(fdt, n)) return n;
  }
  return FDT_ERR_NOTFOUND;
}

/** A register window, Linux's struct resource: [start, end] inclusive. */
@unmanaged
export class resource {
  start: u64;
  end: u64;
}

/**
 * Translate bus address `addr` of a child of `bus` one level up through
 * bus's "ranges" (CPU addresses), or its "dma-ranges" when `dma`.
 * An empty property is the identity; an absent "ranges" means the bus is
 * not translatable, an absent "dma-ranges" is taken as 1:1 (the parent
 * buses of our boards carry none). Returns the parent address, or
 * 0xFFFF_FFFF_FFFF_FFFF (OF_BAD_ADDR) when no range covers it.
 */
function translate_one(fdt: usize, bus: i32, addr: u64, dma: bool = false): u64 {
  const prop = dma ? "dma-ranges" : "ranges";
  const len = fdt_getprop_len(fdt, bus, prop);
  if (len == 0) return addr; // empty: identity
  if (len < 0) return dma ? addr : OF_BAD_ADDR;
  const p = fdt_getprop(fdt, bus, prop, 0);
  const parent = fdt_parent_offset(fdt, bus);
  const cac = fdt_address_cells(fdt, bus);
  const csc = fdt_size_cells(fdt, bus);
  const pac = fdt_address_cells(fdt, parent < 0 ? 0 : parent);
  const entry = (cac + pac + csc) * 4;
  if (entry <= 0) return OF_BAD_ADDR;
  for (let off = 0; off + entry <= len; off += entry) {
    const child = fdt_read_number(p + <usize>off, cac);
    const par = fdt_read_number(p + <usize>(off + cac * 4), pac);
    const size = fdt_read_number(p + <usize>(off + (cac + pac) * 4), csc);
    if (addr >= child && addr - child < size) return par + (addr - child);
  }
  return OF_BAD_ADDR;
}

export const OF_BAD_ADDR: u64 = 0xFFFF_FFFF_FFFF_FFFF;

/**
 * Register window `index` of `node`, as a CPU physical address range, into
 * `res`. Returns 0, or FDT_ERR_NOTFOUND when there is no such window or it
 * cannot be translated.
 */
export function of_address_to_resource(node: i32, index: i32, res: resource): i32 {
  const fdt = initial_boot_params;
  const parent = fdt_parent_offset(fdt, node);
  if (parent < 0) return FDT_ERR_NOTFOUND;
  const ac = fdt_address_cells(fdt, parent);
  const sc = fdt_size_cells(fdt, parent);
  const len = fdt_getprop_len(fdt, node, "reg");
  const p = fdt_getprop(fdt, node, "reg", 0);
  const entry = (ac + sc) * 4;
  if (p == 0 || entry == 0 || (index + 1) * entry > len) return FDT_ERR_NOTFOUND;
  let addr = fdt_read_number(p + <usize>(index * entry), ac);
  const size = fdt_read_number(p + <usize>(index * entry + ac * 4), sc);
  // Up through every bus to the root.
  for (let bus = parent; bus > 0; bus = fdt_parent_offset(fdt, bus)) {
    addr = translate_one(fdt, bus, addr);
    if (addr == OF_BAD_ADDR) return FDT_ERR_NOTFOUND;
  }
  res.start = addr;
  res.end = addr + size - 1;
  return 0;
}

/** The interrupt parent of `node`: interrupt-parent here or on an ancestor. */
function irq_parent(fdt: usize, node: i32): i32 {
  for (let n = node; n >= 0; n = fdt_parent_offset(fdt, n)) {
    const ph = fdt_getprop_u32(fdt, n, "interrupt-parent", 0);
    if (ph != 0) return fdt_node_offset_by_phandle(fdt, ph);
  }
  return FDT_ERR_NOTFOUND;
}

/**
 * The first cell of interrupt specifier `index` of `node` (the hwirq number
 * for the PLIC), from `interrupts` or `interrupts-extended`, or -1.
 */
export function of_irq_get(node: i32, index: i32): i32 {
  const fdt = initial_boot_params;
  let len = fdt_getprop_len(fdt, node, "interrupts-extended");
  if (len > 0) {
    const p = fdt_getprop(fdt, node, "interrupts-extended", 0);
    let off = 0;
    for (let i = 0; off < len; i++) {
      const ctrl = fdt_node_offset_by_phandle(fdt, fdt32_ld(p + <usize>off));
      if (ctrl < 0) return -1;
      const cells = <i32>fdt_getprop_u32(fdt, ctrl, "#interrupt-cells", 1);
      if (i == index) return cells > 0 ? <i32>fdt32_ld(p + <usize>(off + 4)) : -1;
      off += 4 + cells * 4;
    }
    return -1;
  }
  len = fdt_getprop_len(fdt, node, "interrupts");
  if (len <= 0) return -1;
  const ctrl = irq_parent(fdt, node);
  const cells = ctrl >= 0 ? <i32>fdt_getprop_u32(fdt, ctrl, "#interrupt-cells", 1) : 1;
  if (cells <= 0 || (index + 1) * cells * 4 > len) return -1;
  return <i32>fdt32_ld(fdt_getprop(fdt, node, "interrupts", 0) + <usize>(index * cells * 4));
}

/**
 * For an interrupt controller wired with interrupts-extended to the harts'
 * local controllers (the PLIC, the CLINT): the hart id and local interrupt
 * number of its output `index` (context), packed as hartid << 16 | irq, or
 * -1. Context i of the QEMU virt PLIC is <&cpuN_intc 11> (M) or <… 9> (S).
 */
export function of_irq_context_target(node: i32, index: i32): i32 {
  const fdt = initial_boot_params;
  const len = fdt_getprop_len(fdt, node, "interrupts-extended");
  if (len <= 0 || (index + 1) * 8 > len) return -1;
  const p = fdt_getprop(fdt, node, "interrupts-extended", 0);
  const intc = fdt_node_offset_by_phandle(fdt, fdt32_ld(p + <usize>(index * 8)));
  const irq = <i32>fdt32_ld(p + <usize>(index * 8 + 4));
  if (intc < 0) return -1;
  const cpu = fdt_parent_offset(fdt, intc);
  if (cpu < 0 || !fdt_node_name_eq(fdt, cpu, "cpu")) return -1;
  const hart = <i32>fdt_getprop_u32(fdt, cpu, "reg", 0xffffffff);
  if (hart < 0) return -1;
  return (hart << 16) | (irq & 0xffff);
}

// --- DMA windows -------------------------------------------------------------------

/**
 * The DMA window of `node` (Linux of_dma_get_range): from the nearest
 * ancestor bus with a non-empty `dma-ranges` (Devicetree spec 2.3.9: triplets
 * of child-bus-address in the bus's #address-cells, parent-bus-address in
 * its parent's #address-cells, length in the bus's #size-cells), the first
 * triplet's parent address, carried up through the `dma-ranges` of the
 * buses above (an empty or absent one is 1:1), and its length. Stores them
 * as u64 at `base_out` and `size_out`. Returns 0, or -1 when no ancestor
 * restricts DMA, or the property is malformed or cannot be carried up.
 * Context: any, after early_init_dt_scan; lock-free.
 */
export function of_dma_get_range(node: i32, base_out: usize, size_out: usize): i32 {
  const fdt = initial_boot_params;
  if (fdt == 0 || node < 0) return -1;
  for (let bus = fdt_parent_offset(fdt, node); bus >= 0; bus = fdt_parent_offset(fdt, bus)) {
    if (fdt_getprop_len(fdt, bus, "dma-ranges") <= 0) continue; // absent, or empty (1:1): look further up
    const parent = fdt_parent_offset(fdt, bus);
    const cac = fdt_address_cells(fdt, bus);
    const pac = fdt_address_cells(fdt, parent < 0 ? 0 : parent);
    const csc = fdt_size_cells(fdt, bus);
    const len = fdt_getprop_len(fdt, bus, "dma-ranges");
    const p = fdt_getprop(fdt, bus, "dma-ranges", 0);
    if (cac < 0 || pac < 0 || csc < 0 || p == 0 || (cac + pac + csc) * 4 > len) return -1;
    let base = fdt_read_number(p + <usize>(cac * 4), pac);
    const size = fdt_read_number(p + <usize>((cac + pac) * 4), csc);
    for (let up = parent; up > 0; up = fdt_parent_offset(fdt, up)) {
      base = translate_one(fdt, up, base, true);
      if (base == OF_BAD_ADDR) return -1;
    }
    store<u64>(base_out, base);
    store<u64>(size_out, size);
    return 0;
  }
  return -1;
}


/**
 * The window of the machine's DMA engine (the `kmemlab,dma-engine` node):
 * what ZONE_DMA covers. Stores base and size (u64) at `base_out` and
 * `size_out`. Returns 0, or -1 when the tree has no engine (QEMU virt) or
 * no dma-ranges above it. Context: any, after early_init_dt_scan.
 */
export function of_dma_zone_window(base_out: usize, size_out: usize): i32 {
  if (initial_boot_params == 0) return -1;
  const node = of_find_compatible_node(-1, "kmemlab,dma-engine");
  if (node < 0) return -1;
  return of_dma_get_range(node, base_out, size_out);
}
