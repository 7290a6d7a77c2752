/**
 * The kernel's virtual layout: every address constant of the kernel lives here.
 *
 * The toolchain translates wasm32 addresses by sign extension (DESIGN.md §4),
 * so a kernel pointer `p` (a wasm i32) is the RV64 address sext32(p): the
 * kernel lives in the top 2 GiB of the 64-bit space.
 *
 *   0xFFFF_FFFF_FFFF_FFFF ┐
 *                          │ vmalloc / ioremap, early I/O,      (wasm 0xC000_0000 …)
 *                          │ pkmap, fixmap (detail below)
 *   0xFFFF_FFFF_C000_0000 ┤
 *                          │ linear map of low DRAM (1 GiB)      (wasm 0x8000_0000 …)
 *                          │   +2 MiB: the kernel image (0x8020_0000 physical)
 *   0xFFFF_FFFF_8000_0000 ┘ PAGE_OFFSET
 *            …
 *   0x0000_0000_7FFF_FFFF ┐ user space (later)
 *   0x0000_0000_0000_0000 ┘
 *
 * Because the linear map starts where low DRAM starts, a linear-map pointer's
 * 32-bit wasm value *is* the physical address: __va(pa) = pa, __pa(p) = p.
 * Ranges are half-open [base, base + size).
 */

export const PAGE_SHIFT: u32 = 12;
export const PAGE_SIZE: u32 = 1 << PAGE_SHIFT;

/** Start of the linear map, as a 64-bit virtual address. */
export const PAGE_OFFSET: u64 = 0xFFFF_FFFF_8000_0000;
/** Physical base of low DRAM, mapped at PAGE_OFFSET. */
export const PHYS_DRAM_BASE: u64 = 0x8000_0000;
/** The linear map covers at most this much low DRAM (the machine's maximum). */
export const LINEAR_MAP_SIZE: u64 = 0x4000_0000;
/** Where the kernel image is loaded (physical) and runs (virtual). */
export const KERNEL_PHYS_BASE: u64 = 0x8020_0000;
export const KERNEL_VIRT_BASE: u64 = 0xFFFF_FFFF_8020_0000;

/**
 * The last GiB (root page-table slot 511, one level-1 table shared by
 * everything below: early_pgd_l1 of arch/early_ioremap.ts, whose 2 MiB
 * device leaves stay; arch/pgtable.ts hangs 4 KiB level-0 tables off it for
 * pkmap and fixmap):
 *
 *   VA                     wasm        name
 *   0xFFFF_FFFF_C000_0000  0xC000_0000 VMALLOC_START   vmalloc / ioremap areas (mm/vmalloc.ts; level-0
 *                                                      tables from the page allocator at run time)
 *   0xFFFF_FFFF_F000_0000  0xF000_0000 EARLY_IO_START  early I/O window: device registers
 *                                                      mapped in 2 MiB pages at boot (PLIC,
 *                                                      UART), permanent
 *   0xFFFF_FFFF_F800_0000  0xF800_0000 EARLY_IO_END = PKMAP_BASE
 *                                      pkmap: LAST_PKMAP (512) 4 KiB slots for kmap(),
 *                                      one level-0 table (l1 index 448)
 *   0xFFFF_FFFF_F820_0000  0xF820_0000 PKMAP_END       2 MiB hole (no table: a fault)
 *   0xFFFF_FFFF_F840_0000  0xF840_0000 FIXADDR_START   fixmap: KM_MAX_IDX (16) kmap_local /
 *                                      kmap_atomic slots per CPU × NR_CPUS (64) = 1024 pages,
 *                                      two level-0 tables (l1 450, 451); index i at
 *                                      FIXADDR_TOP − (i + 1)·4 KiB (top down, as Linux)
 *   0xFFFF_FFFF_F880_0000  0xF880_0000 FIXADDR_TOP     free up to 0xFFFF_FFFF_FFFF_F000
 *
 * Everything mapped ends below wasm 0xFFFF_F000, so `p + PAGE_SIZE` of any
 * mapped page never wraps the 32-bit pointer.
 */
export const VMALLOC_START: u64 = 0xFFFF_FFFF_C000_0000;
export const VMALLOC_END: u64 = 0xFFFF_FFFF_F000_0000;
export const EARLY_IO_START: u64 = 0xFFFF_FFFF_F000_0000;
export const EARLY_IO_END: u64 = 0xFFFF_FFFF_F800_0000;

/** Hart and CPU limits: the machine has at most 64 harts. */
export const NR_CPUS: i32 = 64;

/** Size of what one level-0 table maps (a level-1 entry: Linux PMD_SIZE). */
export const PMD_SIZE: u64 = 2 << 20;

/** kmap()'s permanent-kmap window (mm/highmem.ts): LAST_PKMAP slots of one page. */
export const LAST_PKMAP: i32 = 512;
export const LAST_PKMAP_MASK: i32 = LAST_PKMAP - 1;
export const PKMAP_BASE: u64 = 0xFFFF_FFFF_F800_0000;
export const PKMAP_SIZE: u64 = <u64>LAST_PKMAP << PAGE_SHIFT;
export const PKMAP_END: u64 = PKMAP_BASE + PKMAP_SIZE;

/** kmap_local_page / kmap_atomic nesting depth per CPU (Linux KM_MAX_IDX). */
export const KM_MAX_IDX: i32 = 16;
/** Fixmap indices (enum fixed_addresses): the kmap_local slots of every CPU. */
export const FIX_KMAP_BEGIN: i32 = 0;
export const FIX_KMAP_END: i32 = FIX_KMAP_BEGIN + KM_MAX_IDX * NR_CPUS - 1;
export const __end_of_fixed_addresses: i32 = FIX_KMAP_END + 1;
export const FIXADDR_SIZE: u64 = <u64>__end_of_fixed_addresses << PAGE_SHIFT;
export const FIXADDR_START: u64 = 0xFFFF_FFFF_F840_0000;
/** One past the fixmap's last byte. */
export const FIXADDR_TOP: u64 = FIXADDR_START + FIXADDR_SIZE;

/** Virtual address of fixmap index `idx` (Linux __fix_to_virt: top down). */
// @ts-ignore: decorator
@inline export function __fix_to_virt(idx: i32): u64 {
  return FIXADDR_TOP - ((<u64>idx + 1) << PAGE_SHIFT);
}

/** Fixmap index of a fixmap virtual address (Linux __virt_to_fix). */
// @ts-ignore: decorator
@inline export function __virt_to_fix(va: u64): i32 {
  return <i32>((FIXADDR_TOP - (va & ~(<u64>PAGE_SIZE - 1))) >> PAGE_SHIFT) - 1;
}

/** Virtual address of pkmap slot `nr` (Linux PKMAP_ADDR). */
// @ts-ignore: decorator
@inline export function PKMAP_ADDR(nr: i32): u64 { return PKMAP_BASE + (<u64>nr << PAGE_SHIFT); }
/** Slot of a pkmap virtual address (Linux PKMAP_NR). */
// @ts-ignore: decorator
@inline export function PKMAP_NR(va: u64): i32 { return <i32>((va - PKMAP_BASE) >> PAGE_SHIFT); }

/** Is `pa` inside the linear map? */
// @ts-ignore: decorator
@inline export function pa_in_linear_map(pa: u64): bool {
  return pa >= PHYS_DRAM_BASE && pa < PHYS_DRAM_BASE + LINEAR_MAP_SIZE;
}

/** Kernel pointer of a physical address in the linear map (no check: see pa_in_linear_map). */
// @ts-ignore: decorator
@inline export function __va(pa: u64): usize {
  return <usize>pa;
}

/** Physical address of a linear-map pointer. */
// @ts-ignore: decorator
@inline export function __pa(p: usize): u64 {
  return <u64>p;
}

/** The 64-bit virtual address the CPU sees for kernel pointer `p` (sign extension). */
// @ts-ignore: decorator
@inline export function vaddr(p: usize): u64 {
  return <u64><i64><i32>p;
}
