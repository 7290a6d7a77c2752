/**
 * GFP flags: what an allocation may do and where its memory may come from
 * (Linux include/linux/gfp_types.h, the 6.1 bit layout).
 *
 * Bit values are Linux 6.1's, so a `mode:0x…` in a warning reads the same
 * as on Linux. Two names of older kernels are kept: __GFP_REPEAT is
 * __GFP_RETRY_MAYFAIL (its successor since 4.13), and __GFP_COLD (removed
 * in 4.15, when per-CPU lists lost their cold end) gets the first free bit
 * above Linux 6.1's flags, because our per-CPU lists keep hot and cold ends.
 *
 *   zone modifiers   __GFP_DMA  __GFP_HIGHMEM  (__GFP_DMA32 = __GFP_DMA here)
 *   watermark        __GFP_HIGH (may use part of the min reserve),
 *                    __GFP_ATOMIC (may use more of it: GFP_ATOMIC)
 *   reclaim          __GFP_DIRECT_RECLAIM (may sleep), __GFP_KSWAPD_RECLAIM
 *   retry policy     __GFP_NORETRY, __GFP_RETRY_MAYFAIL, __GFP_NOFAIL
 *   action           __GFP_ZERO, __GFP_NOWARN, __GFP_COLD
 *
 * Which zone: gfp_zone() below; the zonelist (fallback order) is
 * HIGHMEM → NORMAL → DMA from the zone gfp_zone() names, downwards only.
 */

export type gfp_t = u32;

export const ___GFP_DMA: u32 = 0x01;
export const ___GFP_HIGHMEM: u32 = 0x02;
export const ___GFP_DMA32: u32 = 0x04;
export const ___GFP_MOVABLE: u32 = 0x08;
export const ___GFP_RECLAIMABLE: u32 = 0x10;
export const ___GFP_HIGH: u32 = 0x20;
export const ___GFP_IO: u32 = 0x40;
export const ___GFP_FS: u32 = 0x80;
export const ___GFP_ZERO: u32 = 0x100;
export const ___GFP_ATOMIC: u32 = 0x200;
export const ___GFP_DIRECT_RECLAIM: u32 = 0x400;
export const ___GFP_KSWAPD_RECLAIM: u32 = 0x800;
export const ___GFP_WRITE: u32 = 0x1000;
export const ___GFP_NOWARN: u32 = 0x2000;
export const ___GFP_RETRY_MAYFAIL: u32 = 0x4000;
export const ___GFP_NOFAIL: u32 = 0x8000;
export const ___GFP_NORETRY: u32 = 0x10000;
export const ___GFP_MEMALLOC: u32 = 0x20000;
export const ___GFP_COMP: u32 = 0x40000;
export const ___GFP_NOMEMALLOC: u32 = 0x80000;
export const ___GFP_HARDWALL: u32 = 0x100000;
export const ___GFP_THISNODE: u32 = 0x200000;
export const ___GFP_ACCOUNT: u32 = 0x400000;
/** Not in Linux 6.1 (see the note above): allocate from the cold end of the per-CPU list. */
export const ___GFP_COLD: u32 = 0x1000000;

export const __GFP_DMA: gfp_t = ___GFP_DMA;
export const __GFP_HIGHMEM: gfp_t = ___GFP_HIGHMEM;
export const __GFP_DMA32: gfp_t = ___GFP_DMA32;
export const __GFP_MOVABLE: gfp_t = ___GFP_MOVABLE;
export const __GFP_RECLAIMABLE: gfp_t = ___GFP_RECLAIMABLE;
export const __GFP_HIGH: gfp_t = ___GFP_HIGH;
export const __GFP_IO: gfp_t = ___GFP_IO;
export const __GFP_FS: gfp_t = ___GFP_FS;
export const __GFP_ZERO: gfp_t = ___GFP_ZERO;
export const __GFP_ATOMIC: gfp_t = ___GFP_ATOMIC;
export const __GFP_DIRECT_RECLAIM: gfp_t = ___GFP_DIRECT_RECLAIM;
export const __GFP_KSWAPD_RECLAIM: gfp_t = ___GFP_KSWAPD_RECLAIM;
export const __GFP_RECLAIM: gfp_t = ___GFP_DIRECT_RECLAIM | ___GFP_KSWAPD_RECLAIM;
export const __GFP_WRITE: gfp_t = ___GFP_WRITE;
export const __GFP_NOWARN: gfp_t = ___GFP_NOWARN;
export const __GFP_RETRY_MAYFAIL: gfp_t = ___GFP_RETRY_MAYFAIL;
/** The pre-4.13 name of __GFP_RETRY_MAYFAIL. */
export const __GFP_REPEAT: gfp_t = ___GFP_RETRY_MAYFAIL;
export const __GFP_NOFAIL: gfp_t = ___GFP_NOFAIL;
export const __GFP_NORETRY: gfp_t = ___GFP_NORETRY;
export const __GFP_MEMALLOC: gfp_t = ___GFP_MEMALLOC;
export const __GFP_COMP: gfp_t = ___GFP_COMP;
export const __GFP_NOMEMALLOC: gfp_t = ___GFP_NOMEMALLOC;
export const __GFP_HARDWALL: gfp_t = ___GFP_HARDWALL;
export const __GFP_THISNODE: gfp_t = ___GFP_THISNODE;
export const __GFP_ACCOUNT: gfp_t = ___GFP_ACCOUNT;
export const __GFP_COLD: gfp_t = ___GFP_COLD;

export const GFP_ATOMIC: gfp_t = __GFP_HIGH | __GFP_ATOMIC | __GFP_KSWAPD_RECLAIM;
export const GFP_KERNEL: gfp_t = __GFP_RECLAIM | __GFP_IO | __GFP_FS;
export const GFP_KERNEL_ACCOUNT: gfp_t = GFP_KERNEL | __GFP_ACCOUNT;
export const GFP_NOWAIT: gfp_t = __GFP_KSWAPD_RECLAIM;
export const GFP_NOIO: gfp_t = __GFP_RECLAIM;
export const GFP_NOFS: gfp_t = __GFP_RECLAIM | __GFP_IO;
export const GFP_USER: gfp_t = __GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL;
export const GFP_DMA: gfp_t = __GFP_DMA;
export const GFP_DMA32: gfp_t = __GFP_DMA32;
export const GFP_HIGHUSER: gfp_t = GFP_USER | __GFP_HIGHMEM;
export const GFP_HIGHUSER_MOVABLE: gfp_t = GFP_HIGHUSER | __GFP_MOVABLE;

/** Zone indices (enum zone_type). ZONE_DMA32 folds into ZONE_DMA: the machine has one DMA window. */
export const ZONE_DMA: i32 = 0;
export const ZONE_NORMAL: i32 = 1;
export const ZONE_HIGHMEM: i32 = 2;
export const MAX_NR_ZONES: i32 = 3;

/** The highest zone an allocation with these flags may use (Linux gfp_zone()). */
export function gfp_zone(flags: gfp_t): i32 {
  if (flags & (__GFP_DMA | __GFP_DMA32)) return ZONE_DMA;
  if (flags & __GFP_HIGHMEM) return ZONE_HIGHMEM;
  return ZONE_NORMAL;
}

/** May an allocation with these flags sleep (Linux gfpflags_allow_blocking)? */
// @ts-ignore: decorator
@inline export function gfpflags_allow_blocking(flags: gfp_t): bool {
  return (flags & __GFP_DIRECT_RECLAIM) != 0;
}

/**
 * The composite names, longest first, then the single flags: how
 * Linux's %pGg prints a mask ("GFP_KERNEL|__GFP_ZERO").
 */
const GFP_NAMES_MASK: StaticArray<u32> = [
  GFP_HIGHUSER_MOVABLE, GFP_HIGHUSER, GFP_USER, GFP_KERNEL_ACCOUNT, GFP_KERNEL, GFP_NOFS, GFP_NOIO, GFP_ATOMIC, GFP_NOWAIT,
  __GFP_DMA, __GFP_HIGHMEM, __GFP_DMA32, __GFP_MOVABLE, __GFP_RECLAIMABLE, __GFP_HIGH, __GFP_IO, __GFP_FS, __GFP_ZERO,
  __GFP_ATOMIC, __GFP_DIRECT_RECLAIM, __GFP_KSWAPD_RECLAIM, __GFP_WRITE, __GFP_NOWARN, __GFP_RETRY_MAYFAIL, __GFP_NOFAIL,
  __GFP_NORETRY, __GFP_MEMALLOC, __GFP_COMP, __GFP_NOMEMALLOC, __GFP_HARDWALL, __GFP_THISNODE, __GFP_ACCOUNT, __GFP_COLD,
];
const GFP_NAMES: StaticArray<string> = [
  "GFP_HIGHUSER_MOVABLE", "GFP_HIGHUSER", "GFP_USER", "GFP_KERNEL_ACCOUNT", "GFP_KERNEL", "GFP_NOFS", "GFP_NOIO", "GFP_ATOMIC", "GFP_NOWAIT",
  "__GFP_DMA", "__GFP_HIGHMEM", "__GFP_DMA32", "__GFP_MOVABLE", "__GFP_RECLAIMABLE", "__GFP_HIGH", "__GFP_IO", "__GFP_FS", "__GFP_ZERO",
  "__GFP_ATOMIC", "__GFP_DIRECT_RECLAIM", "__GFP_KSWAPD_RECLAIM", "__GFP_WRITE", "__GFP_NOWARN", "__GFP_RETRY_MAYFAIL", "__GFP_NOFAIL",
  "__GFP_NORETRY", "__GFP_MEMALLOC", "__GFP_COMP", "__GFP_NOMEMALLOC", "__GFP_HARDWALL", "__GFP_THISNODE", "__GFP_ACCOUNT", "__GFP_COLD",
];

function put(s: string, buf: usize, cap: i32, len: i32): i32 {
  for (let i = 0; i < s.length && len < cap - 1; i++) { store<u8>(buf + <usize>len, <u8>s.charCodeAt(i)); len++; }
  return len;
}

/**
 * Write the %pGg rendering of `flags` ("GFP_KERNEL|__GFP_ZERO", "none" for
 * 0, unknown bits as a trailing "|0x…") into buf[0..cap) NUL-terminated.
 * Returns the length. Context: any.
 */
export function gfp_flags_name(flags: gfp_t, buf: usize, cap: i32): i32 {
  let len = 0;
  let rest = flags;
  if (flags == 0) len = put("none", buf, cap, len);
  for (let i = 0; i < GFP_NAMES_MASK.length && rest != 0; i++) {
    const m = GFP_NAMES_MASK[i];
    if ((rest & m) != m) continue;
    if (len > 0) len = put("|", buf, cap, len);
    len = put(GFP_NAMES[i], buf, cap, len);
    rest &= ~m;
  }
  if (rest != 0) {
    if (len > 0) len = put("|", buf, cap, len);
    len = put("0x", buf, cap, len);
    let started = false;
    for (let sh = 28; sh >= 0; sh -= 4) {
      const d = (rest >> <u32>sh) & 0xf;
      if (d == 0 && !started && sh != 0) continue;
      started = true;
      if (len < cap - 1) { store<u8>(buf + <usize>len, <u8>(d < 10 ? 48 + d : 87 + d)); len++; }
    }
  }
  store<u8>(buf + <usize>len, 0);
  return len;
}
