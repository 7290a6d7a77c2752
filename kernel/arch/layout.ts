/**
 * The kernel's virtual layout: every address constant of the kernel lives here.
 *
 * The toolchain translates wasm32 addresses by sign extension (DESIGN.md §4),
 * so a kernel pointer `p` (a wasm i32) is the RV64 address sext32(p): the
 * kernel lives in the top 2 GiB of the 64-bit space.
 *
 *   0xFFFF_FFFF_FFFF_FFFF ┐
 *                          │ fixmap, pkmap, vmalloc / ioremap   (wasm 0xC000_0000 …)
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
 * everything below, owned by arch/early_ioremap.ts until vmalloc exists):
 *
 *   0xFFFF_FFFF_C000_0000  VMALLOC_START   vmalloc / ioremap (later)
 *   0xFFFF_FFFF_F000_0000  EARLY_IO_START  early I/O window: device registers
 *                                          mapped in 2 MiB pages at boot (PLIC,
 *                                          UART), permanent
 *   0xFFFF_FFFF_F800_0000  EARLY_IO_END    (pkmap, fixmap: later)
 */
export const VMALLOC_START: u64 = 0xFFFF_FFFF_C000_0000;
export const VMALLOC_END: u64 = 0xFFFF_FFFF_F000_0000;
export const EARLY_IO_START: u64 = 0xFFFF_FFFF_F000_0000;
export const EARLY_IO_END: u64 = 0xFFFF_FFFF_F800_0000;

/** Hart and CPU limits: the machine has at most 64 harts. */
export const NR_CPUS: i32 = 64;

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
