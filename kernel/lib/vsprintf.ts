/**
 * printf-style formatting for the kernel (Linux lib/vsprintf.c, cut down).
 *
 * AssemblyScript has no varargs, so every formatting function takes the
 * format and up to eight u64 arguments (a0..a7, default 0), consumed left to
 * right by the conversions. Integers of any width convert implicitly; strings
 * go in as str("…"), which passes the AssemblyScript string's address.
 *
 *   %d %i %u %x %X %o %c %%      int-sized (the low 32 bits; h / hh narrow further)
 *   %ld %lu %lx %lld %llx %zu …  64-bit (l, ll, z, t)
 *   %s                           an AssemblyScript string: str(s)
 *   %pz                          a NUL-terminated byte string at a kernel pointer
 *   %p %px                       a pointer: 16 hex digits of the 64-bit address
 *                                (kernel pointers are sign-extended: ffffffff8020…)
 *   %pa                          a phys_addr_t: 0x + 16 hex digits
 *   %pS %ps                      a code address: [<ffffffff80201234>] for the
 *                                host to symbolise (no symbol table in the guest)
 *   flags - 0 + space #, width and precision as digits or *
 *
 * Output stops at size - 1 bytes and is always NUL-terminated when size > 0;
 * the return value is the length the whole output would have had (C99).
 * Every function here is pure: no locks, any context, reentrant.
 */
import { vaddr } from "../arch/layout";

/** An AssemblyScript string as a formatting argument (for %s). */
// @ts-ignore: decorator
@inline export function str(s: string): u64 {
  return <u64>changetype<usize>(s);
}

const FLAG_LEFT: u32 = 1;
const FLAG_ZERO: u32 = 2;
const FLAG_PLUS: u32 = 4;
const FLAG_SPACE: u32 = 8;
const FLAG_SPECIAL: u32 = 16;
const FLAG_UPPER: u32 = 32;

// @ts-ignore: decorator
@inline function put(buf: usize, size: i32, pos: i32, c: u32): i32 {
  if (pos < size - 1) store<u8>(buf + <usize>pos, <u8>c);
  return pos + 1;
}

// @ts-ignore: decorator
@inline function fmt_char(fmt: string, i: i32): u32 {
  return <u32>load<u16>(changetype<usize>(fmt) + (<usize>i << 1));
}

function pick(i: i32, a0: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64, a6: u64, a7: u64): u64 {
  switch (i) {
    case 0: return a0;
    case 1: return a1;
    case 2: return a2;
    case 3: return a3;
    case 4: return a4;
    case 5: return a5;
    case 6: return a6;
    case 7: return a7;
    default: return 0;
  }
}

/** Number of digits of `v` in `base` (at least 1). */
function ndigits(v: u64, base: u32): i32 {
  let n = 1;
  const b = <u64>base;
  while (v >= b) { v /= b; n++; }
  return n;
}

/** The digit of `v` at position `k` (0 = least significant) in `base`. */
function digit_at(v: u64, base: u32, k: i32): u32 {
  const b = <u64>base;
  for (let i = 0; i < k; i++) v /= b;
  return <u32>(v % b);
}

function number(buf: usize, size: i32, pos: i32, value: u64, neg: bool, base: u32, width: i32, prec: i32, flags: u32): i32 {
  let sign: u32 = 0;
  if (neg) sign = 45; // '-'
  else if (flags & FLAG_PLUS) sign = 43;
  else if (flags & FLAG_SPACE) sign = 32;
  let prefix = 0; // length of 0x / 0
  if (flags & FLAG_SPECIAL) {
    if (base == 16) prefix = 2;
    else if (base == 8 && value != 0) prefix = 1;
  }
  let nd = value == 0 && prec == 0 ? 0 : ndigits(value, base);
  const zeros = prec > nd ? prec - nd : 0;
  let len = nd + zeros + prefix + (sign ? 1 : 0);
  let pad = width > len ? width - len : 0;
  const zero_pad = (flags & FLAG_ZERO) != 0 && (flags & FLAG_LEFT) == 0 && prec < 0;
  if (!(flags & FLAG_LEFT) && !zero_pad) { for (; pad > 0; pad--) pos = put(buf, size, pos, 32); }
  if (sign) pos = put(buf, size, pos, sign);
  if (prefix >= 1) pos = put(buf, size, pos, 48);
  if (prefix == 2) pos = put(buf, size, pos, flags & FLAG_UPPER ? 88 : 120);
  if (zero_pad) { for (; pad > 0; pad--) pos = put(buf, size, pos, 48); }
  for (let i = 0; i < zeros; i++) pos = put(buf, size, pos, 48);
  if (base == 10) {
    for (let k = nd - 1; k >= 0; k--) pos = put(buf, size, pos, 48 + digit_at(value, 10, k));
  } else {
    const shift: u32 = base == 16 ? 4 : base == 8 ? 3 : 1;
    const mask: u64 = (<u64>base) - 1;
    for (let k = nd - 1; k >= 0; k--) {
      const d = <u32>((value >> (<u64>(<u32>k * shift))) & mask);
      pos = put(buf, size, pos, d < 10 ? 48 + d : (flags & FLAG_UPPER ? 55 : 87) + d);
    }
  }
  for (; pad > 0; pad--) pos = put(buf, size, pos, 32);
  return pos;
}

/** Emit `len` characters taken by `src_kind`: 0 = AS string (UTF-16), 1 = bytes. */
function fmt_string(buf: usize, size: i32, pos: i32, p: usize, kind: i32, width: i32, prec: i32, flags: u32): i32 {
  let len = 0;
  if (p == 0) {
    // Linux prints (null) for a NULL %s.
    return fmt_string(buf, size, pos, changetype<usize>("(null)"), 0, width, prec, flags);
  }
  if (kind == 0) {
    len = changetype<string>(p).length;
  } else {
    while ((prec < 0 || len < prec) && load<u8>(p + <usize>len) != 0) len++;
  }
  if (prec >= 0 && len > prec) len = prec;
  let pad = width > len ? width - len : 0;
  if (!(flags & FLAG_LEFT)) { for (; pad > 0; pad--) pos = put(buf, size, pos, 32); }
  for (let i = 0; i < len; i++) {
    let c: u32 = kind == 0 ? <u32>load<u16>(p + (<usize>i << 1)) : <u32>load<u8>(p + <usize>i);
    if (c > 0xff) c = 63; // '?': the console is bytes
    pos = put(buf, size, pos, c);
  }
  for (; pad > 0; pad--) pos = put(buf, size, pos, 32);
  return pos;
}

/**
 * Format into `buf` (`size` bytes). Returns the full length of the output
 * (excluding the NUL), which may exceed size - 1. See the file note for the
 * conversions. Context: any; pure.
 */
export function vsnprintf(buf: usize, size: i32, fmt: string,
    a0: u64 = 0, a1: u64 = 0, a2: u64 = 0, a3: u64 = 0, a4: u64 = 0, a5: u64 = 0, a6: u64 = 0, a7: u64 = 0): i32 {
  let pos = 0;
  let ai = 0; // next argument
  const n = fmt.length;
  let i = 0;
  while (i < n) {
    let c = fmt_char(fmt, i++);
    if (c != 37 /* % */) { pos = put(buf, size, pos, c); continue; }
    if (i >= n) { pos = put(buf, size, pos, 37); break; }
    // flags
    let flags: u32 = 0;
    for (;;) {
      c = fmt_char(fmt, i);
      if (c == 45) flags |= FLAG_LEFT;
      else if (c == 48) flags |= FLAG_ZERO;
      else if (c == 43) flags |= FLAG_PLUS;
      else if (c == 32) flags |= FLAG_SPACE;
      else if (c == 35) flags |= FLAG_SPECIAL;
      else break;
      i++;
    }
    // width
    let width = 0;
    if (i < n && fmt_char(fmt, i) == 42 /* * */) {
      width = <i32>pick(ai++, a0, a1, a2, a3, a4, a5, a6, a7);
      if (width < 0) { flags |= FLAG_LEFT; width = -width; }
      i++;
    } else {
      while (i < n && (c = fmt_char(fmt, i)) >= 48 && c <= 57) { width = width * 10 + <i32>(c - 48); i++; }
    }
    // precision
    let prec = -1;
    if (i < n && fmt_char(fmt, i) == 46 /* . */) {
      i++;
      prec = 0;
      if (i < n && fmt_char(fmt, i) == 42) {
        prec = <i32>pick(ai++, a0, a1, a2, a3, a4, a5, a6, a7);
        if (prec < 0) prec = -1;
        i++;
      } else {
        while (i < n && (c = fmt_char(fmt, i)) >= 48 && c <= 57) { prec = prec * 10 + <i32>(c - 48); i++; }
      }
    }
    // length: 0 = int, 1 = long / long long / size_t, -1 = short, -2 = char
    let qual = 0;
    for (;;) {
      if (i >= n) break;
      c = fmt_char(fmt, i);
      if (c == 108 /* l */ || c == 122 /* z */ || c == 116 /* t */ || c == 106 /* j */) qual = 1;
      else if (c == 104 /* h */) qual = qual == -1 ? -2 : -1;
      else break;
      i++;
    }
    if (i >= n) break;
    c = fmt_char(fmt, i++);
    switch (c) {
      case 37: pos = put(buf, size, pos, 37); break;
      case 99: { // c
        let pad = width > 1 ? width - 1 : 0;
        if (!(flags & FLAG_LEFT)) { for (; pad > 0; pad--) pos = put(buf, size, pos, 32); }
        pos = put(buf, size, pos, <u32>(pick(ai++, a0, a1, a2, a3, a4, a5, a6, a7) & 0xff));
        for (; pad > 0; pad--) pos = put(buf, size, pos, 32);
        break;
      }
      case 115: // s
        pos = fmt_string(buf, size, pos, <usize>pick(ai++, a0, a1, a2, a3, a4, a5, a6, a7), 0, width, prec, flags);
        break;
      case 100: case 105: { // d i
        let v = pick(ai++, a0, a1, a2, a3, a4, a5, a6, a7);
        let sv: i64 = qual == 1 ? <i64>v : qual == -1 ? <i64><i16>v : qual == -2 ? <i64><i8>v : <i64><i32>v;
        const neg = sv < 0;
        pos = number(buf, size, pos, neg ? <u64>(-sv) : <u64>sv, neg, 10, width, prec, flags);
        break;
      }
      case 117: case 120: case 88: case 111: { // u x X o
        let v = pick(ai++, a0, a1, a2, a3, a4, a5, a6, a7);
        if (qual == 0) v &= 0xffffffff;
        else if (qual == -1) v &= 0xffff;
        else if (qual == -2) v &= 0xff;
        const base: u32 = c == 117 ? 10 : c == 111 ? 8 : 16;
        pos = number(buf, size, pos, v, false, base, width, prec, c == 88 ? flags | FLAG_UPPER : flags);
        break;
      }
      case 112: { // p and its extensions
        let v = pick(ai++, a0, a1, a2, a3, a4, a5, a6, a7);
        let ext: u32 = i < n ? fmt_char(fmt, i) : 0;
        // A 32-bit value is a kernel pointer: show the address the CPU uses.
        const addr: u64 = (v >> 32) == 0 ? vaddr(<usize>v) : v;
        if (ext == 122 /* z */) {
          i++;
          pos = fmt_string(buf, size, pos, <usize>v, 1, width, prec, flags);
        } else if (ext == 97 /* a */) {
          i++;
          pos = number(buf, size, pos, v, false, 16, 18, -1, flags | FLAG_SPECIAL | FLAG_ZERO);
        } else if (ext == 83 /* S */ || ext == 115 /* s */ || ext == 66 /* B */) {
          i++;
          pos = put(buf, size, pos, 91);
          pos = put(buf, size, pos, 60);
          pos = number(buf, size, pos, addr, false, 16, 16, -1, FLAG_ZERO);
          pos = put(buf, size, pos, 62);
          pos = put(buf, size, pos, 93);
        } else {
          if (ext == 120 /* x */) i++;
          pos = number(buf, size, pos, addr, false, 16, width > 0 ? width : 16, -1, flags | FLAG_ZERO);
        }
        break;
      }
      default:
        // Unknown conversion: print it as it stands, as Linux does.
        pos = put(buf, size, pos, 37);
        pos = put(buf, size, pos, c);
    }
  }
  if (size > 0) store<u8>(buf + <usize>(pos < size - 1 ? pos : size - 1), 0);
  return pos;
}

/** As vsnprintf, but returns the bytes actually stored (at most size - 1), like scnprintf. */
export function scnprintf(buf: usize, size: i32, fmt: string,
    a0: u64 = 0, a1: u64 = 0, a2: u64 = 0, a3: u64 = 0, a4: u64 = 0, a5: u64 = 0, a6: u64 = 0, a7: u64 = 0): i32 {
  const n = vsnprintf(buf, size, fmt, a0, a1, a2, a3, a4, a5, a6, a7);
  if (size <= 0) return 0;
  return n < size - 1 ? n : size - 1;
}
