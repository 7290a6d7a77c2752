/**
 * Byte strings (NUL-terminated, in memory) and their comparison with
 * AssemblyScript strings (UTF-16 literals in the image), for the FDT parser
 * and the command line. All functions are pure: any context, no locks.
 */

/** Length of the NUL-terminated string at `p`. */
export function strlen(p: usize): i32 {
  let n = 0;
  while (load<u8>(p + <usize>n) != 0) n++;
  return n;
}

/** strlen bounded by `max`. */
export function strnlen(p: usize, max: i32): i32 {
  let n = 0;
  while (n < max && load<u8>(p + <usize>n) != 0) n++;
  return n;
}

/** Compare `len` bytes at `p` with all of AS string `s`: 0 when equal (same length). */
export function bytes_eq_str(p: usize, len: i32, s: string): bool {
  if (len != s.length) return false;
  for (let i = 0; i < len; i++) {
    if (<u32>load<u8>(p + <usize>i) != <u32>load<u16>(changetype<usize>(s) + (<usize>i << 1))) return false;
  }
  return true;
}

/** Does the NUL-terminated string at `p` equal `s`? */
export function cstr_eq(p: usize, s: string): bool {
  return bytes_eq_str(p, strlen(p), s);
}

/** Does the byte string at `p` (len bytes) start with `prefix`? */
export function bytes_starts_with(p: usize, len: i32, prefix: string): bool {
  const n = prefix.length;
  if (len < n) return false;
  return bytes_eq_str(p, n, prefix);
}

/** Index of byte `c` in [p, p + len), or -1. */
export function memchr_idx(p: usize, c: u32, len: i32): i32 {
  for (let i = 0; i < len; i++) if (<u32>load<u8>(p + <usize>i) == c) return i;
  return -1;
}

/** memcmp: < 0, 0, > 0. */
export function memcmp(a: usize, b: usize, n: usize): i32 {
  for (let i: usize = 0; i < n; i++) {
    const x = <i32>load<u8>(a + i);
    const y = <i32>load<u8>(b + i);
    if (x != y) return x - y;
  }
  return 0;
}

/** Copy AS string `s` into `buf` as bytes, NUL-terminated, at most size - 1 characters. Returns the length copied. */
export function str_to_bytes(s: string, buf: usize, size: i32): i32 {
  let n = s.length;
  if (n > size - 1) n = size - 1;
  for (let i = 0; i < n; i++) store<u8>(buf + <usize>i, <u8>load<u16>(changetype<usize>(s) + (<usize>i << 1)));
  if (size > 0) store<u8>(buf + <usize>(n < 0 ? 0 : n), 0);
  return n;
}

/**
 * Parse an unsigned number from bytes [p, p + len): decimal, 0x hex, or 0
 * octal, with an optional K/M/G suffix (memparse). Returns the value, or
 * -1 when the text is not a number.
 */
export function parse_u64(p: usize, len: i32, allow_suffix: bool): i64 {
  if (len <= 0) return -1;
  let i = 0;
  let base: u64 = 10;
  if (len > 2 && load<u8>(p) == 48 && (load<u8>(p + 1) | 0x20) == 120) { base = 16; i = 2; }
  else if (len > 1 && load<u8>(p) == 48) { base = 8; i = 1; }
  let v: u64 = 0;
  let digits = 0;
  for (; i < len; i++) {
    let c = <u32>load<u8>(p + <usize>i);
    let d: u32 = 0;
    if (c >= 48 && c <= 57) d = c - 48;
    else if ((c | 0x20) >= 97 && (c | 0x20) <= 102) d = (c | 0x20) - 87;
    else break;
    if (<u64>d >= base) break;
    v = v * base + <u64>d;
    digits++;
  }
  if (digits == 0 && base != 8) return -1;
  if (i < len && allow_suffix) {
    const c = load<u8>(p + <usize>i) | 0x20;
    if (c == 107) { v <<= 10; i++; }
    else if (c == 109) { v <<= 20; i++; }
    else if (c == 103) { v <<= 30; i++; }
  }
  if (i != len) return -1;
  return <i64>v;
}
