/**
 * Flattened device tree (Devicetree Specification v0.4, chapter 5), read in
 * place: libfdt's offset-based API, cut down to what the kernel needs.
 *
 *   fdt ─► ┌──────────────────────┐ header: 10 big-endian u32 (5.2)
 *          │ fdt_header           │ magic d00dfeed, totalsize, off_dt_struct,
 *          ├──────────────────────┤ off_dt_strings, off_mem_rsvmap, version …
 *          │ memory reservations  │ (u64 address, u64 size)… (0, 0)   (5.3)
 *          ├──────────────────────┤
 *          │ structure block      │ tokens, 4-byte aligned (5.4):
 *          │                      │   BEGIN_NODE name\0 pad | PROP len nameoff value pad
 *          │                      │   END_NODE | NOP | END
 *          ├──────────────────────┤
 *          │ strings block        │ property names, NUL-terminated
 *          └──────────────────────┘
 *
 * A node is named by the offset of its BEGIN_NODE token from off_dt_struct
 * (0 = the root); errors are negative FDT_ERR_* values, as in libfdt. Names
 * and string properties are returned as pointers into the blob.
 *
 * The blob is read-only here and never changes after boot: every function is
 * pure and may run in any context, on any CPU, without locks.
 */
import { strlen, bytes_eq_str, memchr_idx } from "./string";

export const FDT_MAGIC: u32 = 0xd00dfeed;
export const FDT_BEGIN_NODE: u32 = 1;
export const FDT_END_NODE: u32 = 2;
export const FDT_PROP: u32 = 3;
export const FDT_NOP: u32 = 4;
export const FDT_END: u32 = 9;

export const FDT_ERR_NOTFOUND: i32 = -1;
export const FDT_ERR_TRUNCATED: i32 = -8;
export const FDT_ERR_BADMAGIC: i32 = -9;
export const FDT_ERR_BADVERSION: i32 = -10;
export const FDT_ERR_BADSTRUCTURE: i32 = -11;
export const FDT_ERR_BADOFFSET: i32 = -4;
export const FDT_ERR_BADNCELLS: i32 = -14;

/** Read a big-endian u32 / u64 at p. */
// @ts-ignore: decorator
@inline export function fdt32_ld(p: usize): u32 { return bswap<u32>(load<u32>(p)); }
// @ts-ignore: decorator
@inline export function fdt64_ld(p: usize): u64 { return bswap<u64>(load<u64>(p)); }

// @ts-ignore: decorator
@inline function hdr(fdt: usize, field: i32): u32 { return fdt32_ld(fdt + <usize>(field * 4)); }
export function fdt_magic(fdt: usize): u32 { return hdr(fdt, 0); }
export function fdt_totalsize(fdt: usize): u32 { return hdr(fdt, 1); }
export function fdt_off_dt_struct(fdt: usize): u32 { return hdr(fdt, 2); }
export function fdt_off_dt_strings(fdt: usize): u32 { return hdr(fdt, 3); }
export function fdt_off_mem_rsvmap(fdt: usize): u32 { return hdr(fdt, 4); }
export function fdt_version(fdt: usize): u32 { return hdr(fdt, 5); }
export function fdt_boot_cpuid_phys(fdt: usize): u32 { return hdr(fdt, 7); }
export function fdt_size_dt_strings(fdt: usize): u32 { return hdr(fdt, 8); }
export function fdt_size_dt_struct(fdt: usize): u32 { return hdr(fdt, 9); }

/** Sanity-check the header. Returns 0 or FDT_ERR_BADMAGIC / BADVERSION / TRUNCATED. */
export function fdt_check_header(fdt: usize): i32 {
  if (fdt == 0 || fdt_magic(fdt) != FDT_MAGIC) return FDT_ERR_BADMAGIC;
  if (fdt_version(fdt) < 16 || hdr(fdt, 6) > 17) return FDT_ERR_BADVERSION;
  const total = fdt_totalsize(fdt);
  if (total < 40 || fdt_off_dt_struct(fdt) >= total || fdt_off_dt_strings(fdt) > total
      || fdt_off_dt_struct(fdt) + fdt_size_dt_struct(fdt) > total) return FDT_ERR_TRUNCATED;
  return 0;
}

// @ts-ignore: decorator
@inline function sp(fdt: usize, offset: i32): usize { return fdt + <usize>fdt_off_dt_struct(fdt) + <usize>offset; }
// @ts-ignore: decorator
@inline function align4(x: i32): i32 { return (x + 3) & ~3; }

/** Token at `offset`. */
function tag(fdt: usize, offset: i32): u32 {
  if (offset < 0 || <u32>offset + 4 > fdt_size_dt_struct(fdt)) return FDT_END;
  return fdt32_ld(sp(fdt, offset));
}

/** Offset of the token after the one at `offset` (skipping its payload), or an error. */
function next_tag(fdt: usize, offset: i32): i32 {
  const t = tag(fdt, offset);
  let next = offset + 4;
  if (t == FDT_BEGIN_NODE) {
    next += strlen(sp(fdt, next)) + 1;
  } else if (t == FDT_PROP) {
    const len = <i32>fdt32_ld(sp(fdt, next));
    next += 8 + len;
  } else if (t == FDT_END) {
    return FDT_ERR_BADSTRUCTURE;
  }
  return align4(next);
}

/**
 * The node after `offset` in document order and the depth change, packed:
 * low 32 bits the offset (or a negative error), high 32 bits the new depth.
 */
function next_node_d(fdt: usize, offset: i32, depth: i32): i64 {
  let next = offset;
  if (offset >= 0) {
    if (tag(fdt, offset) != FDT_BEGIN_NODE) return pack(FDT_ERR_BADOFFSET, depth);
    next = next_tag(fdt, offset);
  } else {
    if (tag(fdt, 0) == FDT_BEGIN_NODE) return pack(0, depth + 1);
    return pack(FDT_ERR_BADSTRUCTURE, depth);
  }
  while (true) {
    if (next < 0) return pack(next, depth);
    const t = tag(fdt, next);
    if (t == FDT_BEGIN_NODE) return pack(next, depth + 1);
    if (t == FDT_END_NODE) {
      depth--;
    } else if (t == FDT_END) {
      return pack(FDT_ERR_NOTFOUND, depth);
    }
    next = next_tag(fdt, next);
  }
}

// @ts-ignore: decorator
@inline function pack(off: i32, depth: i32): i64 { return (<i64>depth << 32) | <i64><u32>off; }
// @ts-ignore: decorator
@inline function unpack_off(v: i64): i32 { return <i32>v; }
// @ts-ignore: decorator
@inline function unpack_depth(v: i64): i32 { return <i32>(v >> 32); }

/**
 * The node after `offset` (-1: the root) in document order. `depth` (a
 * pointer to an i32, or 0) is adjusted by the change of depth; libfdt's
 * semantics: returns the next node's offset, or FDT_ERR_NOTFOUND at the end
 * of the tree (or when the depth would go below zero).
 */
export function fdt_next_node(fdt: usize, offset: i32, depth: usize): i32 {
  const d0 = depth ? load<i32>(depth) : 0;
  const r = next_node_d(fdt, offset, d0);
  const off = unpack_off(r);
  if (depth) {
    store<i32>(depth, unpack_depth(r));
    if (off >= 0 && unpack_depth(r) < 1 && offset >= 0) return FDT_ERR_NOTFOUND;
  }
  return off;
}

/** First child of `parent`, or FDT_ERR_NOTFOUND. */
export function fdt_first_subnode(fdt: usize, parent: i32): i32 {
  const r = next_node_d(fdt, parent, 0);
  if (unpack_off(r) < 0 || unpack_depth(r) != 1) return FDT_ERR_NOTFOUND;
  return unpack_off(r);
}

/** Next sibling of `node`, or FDT_ERR_NOTFOUND. */
export function fdt_next_subnode(fdt: usize, node: i32): i32 {
  let depth = 1;
  let off = node;
  do {
    const r = next_node_d(fdt, off, depth);
    off = unpack_off(r);
    depth = unpack_depth(r);
    if (off < 0 || depth < 1) return FDT_ERR_NOTFOUND;
  } while (depth > 1);
  return off;
}

/** The node's name ("cpu@0"; "" for the root) as a pointer to NUL-terminated bytes. */
export function fdt_get_name(fdt: usize, node: i32): usize {
  return sp(fdt, node + 4);
}

/**
 * Does the node's name equal name[start, start + len), or, when that part has
 * no unit address, the node name's part before '@'?
 */
function node_name_eq_part(fdt: usize, node: i32, name: string, start: i32, len: i32): bool {
  const p = fdt_get_name(fdt, node);
  const plen = strlen(p);
  let has_at = false;
  for (let i = 0; i < len; i++) if (name.charCodeAt(start + i) == 64) has_at = true;
  const at = memchr_idx(p, 64, plen);
  const cmp_len = !has_at && at >= 0 ? at : plen;
  if (cmp_len != len) return false;
  for (let i = 0; i < len; i++) {
    if (<i32>load<u8>(p + <usize>i) != name.charCodeAt(start + i)) return false;
  }
  return true;
}

/** Does the node's name equal `name` ("cpu@0"), or its part before '@' when `name` has no unit address ("cpu")? */
export function fdt_node_name_eq(fdt: usize, node: i32, name: string): bool {
  return node_name_eq_part(fdt, node, name, 0, name.length);
}

function subnode_part(fdt: usize, parent: i32, name: string, start: i32, len: i32): i32 {
  for (let n = fdt_first_subnode(fdt, parent); n >= 0; n = fdt_next_subnode(fdt, n)) {
    if (node_name_eq_part(fdt, n, name, start, len)) return n;
  }
  return FDT_ERR_NOTFOUND;
}

/** Child of `parent` named `name` (unit address optional), or FDT_ERR_NOTFOUND. */
export function fdt_subnode_offset(fdt: usize, parent: i32, name: string): i32 {
  return subnode_part(fdt, parent, name, 0, name.length);
}

/** Offset of the node at absolute `path` ("/", "/cpus", "/soc/plic@c000000"), or FDT_ERR_NOTFOUND. */
export function fdt_path_offset(fdt: usize, path: string): i32 {
  if (path.length == 0 || path.charCodeAt(0) != 47) return FDT_ERR_BADOFFSET;
  let node = 0;
  let i = 1;
  const n = path.length;
  while (i < n) {
    let j = i;
    while (j < n && path.charCodeAt(j) != 47) j++;
    if (j > i) {
      node = subnode_part(fdt, node, path, i, j - i);
      if (node < 0) return node;
    }
    i = j + 1;
  }
  return node;
}

/**
 * Property `name` of `node`: a pointer to its value, with its length stored
 * at `lenp` (an i32 pointer, or 0). Returns 0 when the node has no such
 * property (length FDT_ERR_NOTFOUND).
 */
export function fdt_getprop(fdt: usize, node: i32, name: string, lenp: usize): usize {
  const r = getprop_packed(fdt, node, name);
  if (lenp) store<i32>(lenp, <i32>(r >> 32));
  return <usize><u32>r;
}

/** fdt_getprop's result packed: low 32 bits the pointer (0 = none), high 32 bits the length or error. */
function getprop_packed(fdt: usize, node: i32, name: string): i64 {
  if (tag(fdt, node) != FDT_BEGIN_NODE) return <i64>FDT_ERR_BADOFFSET << 32;
  let off = next_tag(fdt, node);
  const strings = fdt + <usize>fdt_off_dt_strings(fdt);
  while (off >= 0) {
    const t = tag(fdt, off);
    if (t == FDT_PROP) {
      const p = sp(fdt, off);
      const len = <i32>fdt32_ld(p + 4);
      const pname = strings + <usize>fdt32_ld(p + 8);
      if (bytes_eq_str(pname, strlen(pname), name)) return (<i64>len << 32) | <i64><u32>(p + 12);
    } else if (t != FDT_NOP) {
      break; // a subnode or the end: properties come first (5.4.2)
    }
    off = next_tag(fdt, off);
  }
  return <i64>FDT_ERR_NOTFOUND << 32;
}

/** A u32 property (first cell), or `dflt` when absent or too short. */
export function fdt_getprop_u32(fdt: usize, node: i32, name: string, dflt: u32): u32 {
  const r = getprop_packed(fdt, node, name);
  if (<u32>r == 0 || <i32>(r >> 32) < 4) return dflt;
  return fdt32_ld(<usize><u32>r);
}

/** Length of property `name` of `node`, or FDT_ERR_NOTFOUND. */
export function fdt_getprop_len(fdt: usize, node: i32, name: string): i32 {
  const r = getprop_packed(fdt, node, name);
  return <u32>r == 0 ? FDT_ERR_NOTFOUND : <i32>(r >> 32);
}

/** Is `s` one of the strings of stringlist property `name`? (compatible, device_type …) */
export function fdt_stringlist_contains_prop(fdt: usize, node: i32, name: string, s: string): bool {
  const r = getprop_packed(fdt, node, name);
  const p = <usize><u32>r;
  if (p == 0) return false;
  const len = <i32>(r >> 32);
  let i = 0;
  while (i < len) {
    let e = i;
    while (e < len && load<u8>(p + <usize>e) != 0) e++;
    if (bytes_eq_str(p + <usize>i, e - i, s)) return true;
    i = e + 1;
  }
  return false;
}

/** 0 when `node` is compatible with `compat`, 1 when not, FDT_ERR_NOTFOUND without a compatible. */
export function fdt_node_check_compatible(fdt: usize, node: i32, compat: string): i32 {
  if (fdt_getprop_len(fdt, node, "compatible") < 0) return FDT_ERR_NOTFOUND;
  return fdt_stringlist_contains_prop(fdt, node, "compatible", compat) ? 0 : 1;
}

/** The first node after `start` (-1 = from the root) compatible with `compat`, or FDT_ERR_NOTFOUND. */
export function fdt_node_offset_by_compatible(fdt: usize, start: i32, compat: string): i32 {
  for (let n = fdt_next_node(fdt, start, 0); n >= 0; n = fdt_next_node(fdt, n, 0)) {
    if (fdt_node_check_compatible(fdt, n, compat) == 0) return n;
  }
  return FDT_ERR_NOTFOUND;
}

/** Is the node enabled (status absent, "okay" or "ok")? */
export function fdt_device_is_available(fdt: usize, node: i32): bool {
  const p = <usize><u32>getprop_packed(fdt, node, "status");
  if (p == 0) return true;
  const l = strlen(p);
  return bytes_eq_str(p, l, "okay") || bytes_eq_str(p, l, "ok");
}

/** The node's phandle (phandle or linux,phandle), 0 when none. */
export function fdt_get_phandle(fdt: usize, node: i32): u32 {
  let ph = fdt_getprop_u32(fdt, node, "phandle", 0);
  if (ph == 0) ph = fdt_getprop_u32(fdt, node, "linux,phandle", 0);
  return ph;
}

/** The node with phandle `ph`, or FDT_ERR_NOTFOUND. */
export function fdt_node_offset_by_phandle(fdt: usize, ph: u32): i32 {
  if (ph == 0 || ph == 0xffffffff) return FDT_ERR_NOTFOUND;
  for (let n = fdt_next_node(fdt, -1, 0); n >= 0; n = fdt_next_node(fdt, n, 0)) {
    if (fdt_get_phandle(fdt, n) == ph) return n;
  }
  return FDT_ERR_NOTFOUND;
}

/** Depth of `node` (root = 1), or an error. */
export function fdt_node_depth(fdt: usize, node: i32): i32 {
  let depth = 0;
  for (let off = -1; ;) {
    const r = next_node_d(fdt, off, depth);
    off = unpack_off(r);
    depth = unpack_depth(r);
    if (off < 0) return off;
    if (off == node) return depth;
  }
  return FDT_ERR_NOTFOUND;
}

/** Parent of `node` (two scans from the root), or FDT_ERR_NOTFOUND for the root. */
export function fdt_parent_offset(fdt: usize, node: i32): i32 {
  const target = fdt_node_depth(fdt, node);
  if (target < 0) return target;
  if (target < 2) return FDT_ERR_NOTFOUND;
  let depth = 0;
  let parent = FDT_ERR_NOTFOUND;
  for (let off = -1; ;) {
    const r = next_node_d(fdt, off, depth);
    off = unpack_off(r);
    depth = unpack_depth(r);
    if (off < 0 || off == node) break;
    if (depth == target - 1) parent = off;
  }
  return parent;
}

/** #address-cells a node gives its children (default 2, spec 2.3.5). */
export function fdt_address_cells(fdt: usize, node: i32): i32 {
  const v = <i32>fdt_getprop_u32(fdt, node, "#address-cells", 2);
  return v > 4 ? FDT_ERR_BADNCELLS : v;
}

/** #size-cells a node gives its children (default 1). */
export function fdt_size_cells(fdt: usize, node: i32): i32 {
  const v = <i32>fdt_getprop_u32(fdt, node, "#size-cells", 1);
  return v > 4 ? FDT_ERR_BADNCELLS : v;
}

/** A number of `cells` big-endian cells at p (1 or 2 used; more keep the low 64 bits). */
export function fdt_read_number(p: usize, cells: i32): u64 {
  let v: u64 = 0;
  for (let i = 0; i < cells; i++) v = (v << 32) | <u64>fdt32_ld(p + <usize>(i * 4));
  return v;
}

// --- memory reservation block ------------------------------------------------

/** Number of entries in the memory reservation block. */
export function fdt_num_mem_rsv(fdt: usize): i32 {
  const base = fdt + <usize>fdt_off_mem_rsvmap(fdt);
  let n = 0;
  while (fdt64_ld(base + <usize>(n * 16)) != 0 || fdt64_ld(base + <usize>(n * 16 + 8)) != 0) n++;
  return n;
}

/** Address / size of reservation `n`. */
export function fdt_mem_rsv_address(fdt: usize, n: i32): u64 {
  return fdt64_ld(fdt + <usize>fdt_off_mem_rsvmap(fdt) + <usize>(n * 16));
}
export function fdt_mem_rsv_size(fdt: usize, n: i32): u64 {
  return fdt64_ld(fdt + <usize>fdt_off_mem_rsvmap(fdt) + <usize>(n * 16 + 8));
}
