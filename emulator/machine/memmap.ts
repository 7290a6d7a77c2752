/**
 * The board's physical memory map: every base and size lives here and only here.
 *
 * It copies QEMU's `virt` machine (hw/riscv/virt.c memmap) so that real firmware
 * built for `virt` (Debian's OpenSBI fw_jump.elf, U-Boot) runs unchanged, and so
 * that our own images also boot on `qemu-system-riscv64 -M virt`.
 * All ranges are half-open: [base, base + size).
 */

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** SiFive test finisher (`sifive,test0`): power off / fail / reset. */
export const VIRT_TEST_BASE = 0x0010_0000;
export const VIRT_TEST_SIZE = 0x1000;

/** Reset ROM: holds the reset vector trampoline, like QEMU's mrom. */
export const VIRT_MROM_BASE = 0x0000_1000;
export const VIRT_MROM_SIZE = 0xf000;

/** CLINT (ACLINT MSWI + MTIMER). */
export const VIRT_CLINT_BASE = 0x0200_0000;
export const VIRT_CLINT_SIZE = 0x1_0000;

/** PLIC: 2 contexts (M, S) per hart. */
export const VIRT_PLIC_BASE = 0x0c00_0000;
export const VIRT_PLIC_SIZE = 0x60_0000;

/** UART0: ns16550a, console. */
export const VIRT_UART0_BASE = 0x1000_0000;
export const VIRT_UART0_SIZE = 0x100;
export const VIRT_UART0_IRQ = 10;
export const VIRT_UART0_CLOCK = 3_686_400;

/**
 * DMA engine (ours, `kmemlab,dma-engine`): outside every QEMU `virt` region
 * (QEMU has fw_cfg at 0x1010_0000 and flash at 0x2000_0000).
 */
export const VIRT_DMA_BASE = 0x1020_0000;
export const VIRT_DMA_SIZE = 0x1000;
export const VIRT_DMA_IRQ = 12;

/** Number of PLIC interrupt sources (QEMU virt: VIRT_IRQCHIP_NUM_SOURCES - 1). */
export const VIRT_PLIC_NDEV = 95;

/** Low DRAM: firmware at +0, kernel at +2 MiB. */
export const VIRT_DRAM_BASE = 0x8000_0000;
export const DRAM_DEFAULT_SIZE = 256 * MiB;
export const DRAM_MAX_SIZE = 1 * GiB;

/**
 * The DMA window: what the DMA engine can reach, [VIRT_DRAM_BASE, + limit)
 * (`--dma-limit`, at most the low DRAM size; the default is clipped to it).
 */
export const DMA_DEFAULT_LIMIT = 16 * MiB;

/** High DRAM (the highmem region), above 4 GiB. */
export const VIRT_HIGHMEM_BASE = 0x1_0000_0000;
export const HIGHMEM_DEFAULT_SIZE = 256 * MiB;
export const HIGHMEM_MAX_SIZE = 2 * GiB; // with low DRAM, all RAM stays below the 4 GiB the TLB offsets address

/** Where fw_jump firmware expects the next stage, and where we put a kernel. */
export const KERNEL_LOAD_OFFSET = 2 * MiB;
export const KERNEL_LOAD_ADDR = VIRT_DRAM_BASE + KERNEL_LOAD_OFFSET;

/** CLINT timebase: 10 MHz, as QEMU virt. */
export const TIMEBASE_FREQ = 10_000_000;

/** Harts. */
export const MAX_HARTS = 64;
export const DEFAULT_HARTS = 4;

/** Size of one page for RAM and TLB bookkeeping. */
export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
