/**
 * A minimal reader of the flattened device tree the board hands us in a1
 * (Devicetree Specification v0.4, chapter 5): just enough to learn which
 * harts exist and where memory is.
 *
 *   /cpus/cpu@N      reg = hart id (#address-cells of /cpus, normally 1);
 *                    a hart whose status is not "okay" is left out
 *   /memory@...      reg = (base, size) pairs in the root's #address-cells
 *                    and #size-cells (QEMU and kmemlab: 2 and 2)
 *
 * Nodes are recognised by name at their depth, as QEMU writes them.
 *
 * The one change the firmware makes to the blob: fdt_add_mem_rsv adds its
 * own memory to the header's memory reservation block (as OpenSBI adds a
 * /reserved-memory node), so that the kernel does not hand it out.
 *
 *   header ──► structure block: BEGIN_NODE name, PROP len nameoff value,
 *              END_NODE, NOP, END (big-endian 32-bit tokens, 4-byte aligned)
 *          └─► strings block: property names, NUL-terminated
 */

import { MAX_HARTS, MAX_MEM_BANKS } from "./platform";

const FDT_MAGIC: u32 = 0xd00d_feed;
const FDT_BEGIN_NODE: u32 = 1;
const FDT_END_NODE: u32 = 2;
const FDT_PROP: u32 = 3;
const FDT_NOP: u32 = 4;
const FDT_END: u32 = 9;

// Header fields (byte offsets).
const FDT_OFF_TOTALSIZE: usize = 4;
const FDT_OFF_DT_STRUCT: usize = 8;
const FDT_OFF_DT_STRINGS: usize = 12;
const FDT_OFF_MEM_RSVMAP: usize = 16;
/** One memory reservation entry: big-endian u64 address and size. */
const FDT_RSV_ENTRY_SIZE: usize = 16;

/** Harts the device tree lists (bit N = hart id N; ids >= 64 are ignored). */
export let fdt_hart_mask: u64 = 0;
/** Memory banks: fdt_mem_count entries of (base, size). */
export let fdt_mem_count: i32 = 0;
const fdt_mem_base: usize = memory.data(MAX_MEM_BANKS * 8, 8);
const fdt_mem_size: usize = memory.data(MAX_MEM_BANKS * 8, 8);

export function fdt_mem_bank_base(i: i32): u64 {
  return load<u64>(fdt_mem_base + (<usize>i << 3));
}

export function fdt_mem_bank_size(i: i32): u64 {
  return load<u64>(fdt_mem_size + (<usize>i << 3));
}

function be32(p: usize): u32 {
  return bswap<u32>(load<u32>(p));
}

function set_be32(p: usize, v: u32): void {
  store<u32>(p, bswap<u32>(v));
}

/** Read a big-endian number of `cells` 32-bit cells (1 or 2). */
function read_cells(p: usize, cells: u32): u64 {
  let v: u64 = 0;
  for (let i: u32 = 0; i < cells; i++) v = (v << 32) | <u64>be32(p + (<usize>i << 2));
  return v;
}

/** Length of the NUL-terminated string at p. */
function cstr_len(p: usize): usize {
  let n: usize = 0;
  while (load<u8>(p + n) != 0) n++;
  return n;
}

/** Does the NUL-terminated string at p equal s? */
function cstr_eq(p: usize, s: string): bool {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    if (<i32>load<u8>(p + <usize>i) != s.charCodeAt(i)) return false;
  }
  return load<u8>(p + <usize>n) == 0;
}

/** Does the node name at p equal `s`, or start with `s` followed by '@'? */
function node_is(p: usize, s: string): bool {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    if (<i32>load<u8>(p + <usize>i) != s.charCodeAt(i)) return false;
  }
  const c = load<u8>(p + <usize>n);
  return c == 0 || c == 0x40; // '\0' or '@'
}

function align4(n: usize): usize {
  return (n + 3) & ~(<usize>3);
}

/** Size of the whole blob in bytes (the header's totalsize). */
export function fdt_total_size(dtb: usize): u32 {
  return be32(dtb + FDT_OFF_TOTALSIZE);
}

/**
 * Walk the blob at `dtb` and fill fdt_hart_mask and the memory banks.
 * Returns false when there is no valid blob there.
 */
export function fdt_scan(dtb: usize): bool {
  if (be32(dtb) != FDT_MAGIC) return false;
  const strings = dtb + <usize>be32(dtb + FDT_OFF_DT_STRINGS);
  let p = dtb + <usize>be32(dtb + FDT_OFF_DT_STRUCT);

  // Depth 1 is the root, 2 its children (cpus, memory@...), 3 cpus' children.
  let depth = 0;
  let root_addr_cells: u32 = 2;
  let root_size_cells: u32 = 1;
  let cpus_addr_cells: u32 = 1;
  let in_cpus = false;
  let in_cpu = false;
  let in_memory = false;
  let cpu_id: u64 = u64.MAX_VALUE;
  let cpu_okay = true;

  while (true) {
    const token = be32(p);
    p += 4;
    if (token == FDT_BEGIN_NODE) {
      depth++;
      if (depth == 2) {
        in_cpus = node_is(p, "cpus");
        in_memory = node_is(p, "memory");
      } else if (depth == 3 && in_cpus && node_is(p, "cpu")) {
        in_cpu = true;
        cpu_id = u64.MAX_VALUE;
        cpu_okay = true;
      }
      p += align4(cstr_len(p) + 1);
    } else if (token == FDT_END_NODE) {
      if (depth == 3 && in_cpu) {
        if (cpu_okay && cpu_id < <u64>MAX_HARTS) fdt_hart_mask |= (<u64>1) << cpu_id;
        in_cpu = false;
      } else if (depth == 2) {
        in_cpus = false;
        in_memory = false;
      }
      depth--;
    } else if (token == FDT_PROP) {
      const len = <usize>be32(p);
      const name = strings + <usize>be32(p + 4);
      const value = p + 8;
      p = value + align4(len);
      if (depth == 1) {
        if (cstr_eq(name, "#address-cells")) root_addr_cells = be32(value);
        else if (cstr_eq(name, "#size-cells")) root_size_cells = be32(value);
      } else if (depth == 2 && in_cpus) {
        if (cstr_eq(name, "#address-cells")) cpus_addr_cells = be32(value);
      } else if (depth == 2 && in_memory && cstr_eq(name, "reg")) {
        const entry = <usize>(root_addr_cells + root_size_cells) << 2;
        for (let off: usize = 0; off + entry <= len && fdt_mem_count < MAX_MEM_BANKS; off += entry) {
          const i = <usize>fdt_mem_count << 3;
          store<u64>(fdt_mem_base + i, read_cells(value + off, root_addr_cells));
          store<u64>(fdt_mem_size + i, read_cells(value + off + (<usize>root_addr_cells << 2), root_size_cells));
          fdt_mem_count++;
        }
      } else if (depth == 3 && in_cpu) {
        if (cstr_eq(name, "reg")) cpu_id = read_cells(value, cpus_addr_cells);
        else if (cstr_eq(name, "status")) cpu_okay = cstr_eq(value, "okay") || cstr_eq(value, "ok");
      }
    } else if (token == FDT_NOP) {
      // nothing
    } else {
      // FDT_END, or a token we do not know: stop here.
      break;
    }
  }
  return fdt_hart_mask != 0;
}

/**
 * Add [base, base + size) to the memory reservation block (Devicetree
 * Specification 5.3), growing the blob in place by one 16-byte entry: the
 * structure and strings blocks move up and the header offsets follow. Returns
 * false (and changes nothing) when the blob would grow past `room_end`.
 *
 * QEMU and kmemlab put the blob at the start of a 2 MiB-aligned block near
 * the end of DRAM, so the bytes after it are free.
 */
export function fdt_add_mem_rsv(dtb: usize, base: u64, size: u64, room_end: u64): bool {
  const total = be32(dtb + FDT_OFF_TOTALSIZE);
  if (<u64>dtb + <u64>total + <u64>FDT_RSV_ENTRY_SIZE > room_end) return false;
  // The terminating (0, 0) entry: the new entry goes there, the rest moves up.
  let entry = dtb + <usize>be32(dtb + FDT_OFF_MEM_RSVMAP);
  while (load<u64>(entry) != 0 || load<u64>(entry, 8) != 0) entry += FDT_RSV_ENTRY_SIZE;
  const at = <u32>(entry - dtb);
  memory.copy(entry + FDT_RSV_ENTRY_SIZE, entry, <usize>(total - at));
  store<u64>(entry, bswap<u64>(base));
  store<u64>(entry, bswap<u64>(size), 8);
  set_be32(dtb + FDT_OFF_TOTALSIZE, total + <u32>FDT_RSV_ENTRY_SIZE);
  const struct_off = be32(dtb + FDT_OFF_DT_STRUCT);
  if (struct_off >= at) set_be32(dtb + FDT_OFF_DT_STRUCT, struct_off + <u32>FDT_RSV_ENTRY_SIZE);
  const strings_off = be32(dtb + FDT_OFF_DT_STRINGS);
  if (strings_off >= at) set_be32(dtb + FDT_OFF_DT_STRINGS, strings_off + <u32>FDT_RSV_ENTRY_SIZE);
  return true;
}

/** End of the memory bank holding `addr`, or 0 when no bank holds it. */
export function fdt_mem_bank_end(addr: u64): u64 {
  for (let i = 0; i < fdt_mem_count; i++) {
    const base = fdt_mem_bank_base(i);
    const end = base + fdt_mem_bank_size(i);
    if (addr >= base && addr < end) return end;
  }
  return 0;
}
