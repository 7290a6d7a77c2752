/**
 * The board as the firmware sees it: QEMU's `virt` memory map (the same
 * numbers as emulator/machine/memmap.ts, which the firmware cannot import),
 * and where the firmware and the next stage live. Ranges are half-open.
 *
 *   0x0010_0000  test finisher (sifive,test0)
 *   0x0200_0000  CLINT: msip[h] at +4·h, mtimecmp[h] at +0x4000 + 8·h, mtime at +0xBFF8
 *   0x1000_0000  UART0 (ns16550a)
 *   0x8000_0000  ┌──────────────────────────┐ FW_BASE
 *                │ firmware: code, data,    │ PMP entry 0: no access from S/U
 *                │ stacks                   │
 *   0x8020_0000  ├──────────────────────────┤ FW_END = FW_NEXT_ADDR
 *                │ the kernel (S-mode)      │ PMP entry 1: all memory RWX
 *                │ ...       DTB at the end │
 */

export const FINISHER_BASE: u32 = 0x0010_0000;
/** Test finisher commands (QEMU hw/misc/sifive_test.c). */
export const FINISHER_FAIL: u32 = 0x3333;
export const FINISHER_PASS: u32 = 0x5555;
export const FINISHER_RESET: u32 = 0x7777;

export const CLINT_BASE: u32 = 0x0200_0000;
export const CLINT_MSIP: u32 = CLINT_BASE;
export const CLINT_MTIMECMP: u32 = CLINT_BASE + 0x4000;
export const CLINT_MTIME: u32 = CLINT_BASE + 0xbff8;

export const UART0_BASE: u32 = 0x1000_0000;

/** The firmware's own memory, which S-mode and U-mode may not touch. */
export const FW_BASE: u64 = 0x8000_0000;
export const FW_SIZE: u64 = 0x20_0000;
export const FW_END: u64 = FW_BASE + FW_SIZE;

/** Where the next stage (the kernel) starts, in S-mode. */
export const FW_NEXT_ADDR: u64 = 0x8020_0000;

/** Harts the firmware can manage: one bit each in a 64-bit hart mask. */
export const MAX_HARTS: i32 = 64;

/** Memory banks the firmware remembers from the device tree. */
export const MAX_MEM_BANKS: i32 = 8;
