/**
 * The SBI binary encoding (RISC-V SBI specification v2.0, chapter 3), named
 * as the specification names it: the error codes of table 1 and the
 * extension IDs of the extensions this firmware implements.
 *
 * Calling convention: `ecall` from S-mode with the extension ID (EID) in a7,
 * the function ID (FID) in a6 and the arguments in a0..a5; the result comes
 * back as `struct sbiret { long error; long value; }` in a0 and a1, and every
 * other register is preserved. Legacy extensions (EIDs 0x00..0x0F) ignore a6
 * and return a single value in a0 (a1 is preserved). sbi_ret and friends
 * write results into the trap frame, whose registers the trap exit restores.
 */

import { frame_set, REG_A0, REG_A1 } from "./trap";

/** SBI specification version: minor in bits 23:0, major in bits 30:24. */
export const SBI_SPEC_VERSION_MAJOR: u64 = 2;
export const SBI_SPEC_VERSION_MINOR: u64 = 0;
export const SBI_SPEC_VERSION: u64 = (SBI_SPEC_VERSION_MAJOR << 24) | SBI_SPEC_VERSION_MINOR;

/**
 * Our implementation ID. The specification's table (section 4.9) assigns
 * 0 BBL, 1 OpenSBI, 2 Xvisor, 3 KVM, 4 RustSBI, 5 Diosix, 6 Coffer,
 * 7 Xen Project, 8 PolarFire HSS, 9 coreboot, 10 oreboot, 11 bhyve. We take
 * 0x4B4D4C42, "KMLB" in ASCII: far from the small numbers the table hands
 * out, and readable in a register dump.
 */
export const SBI_IMPL_ID_KMEMLAB: u64 = 0x4b4d_4c42;
/** Implementation version: major << 16 | minor (our encoding). Version 1.0. */
export const SBI_IMPL_VERSION: u64 = (1 << 16) | 0;

// --- Standard SBI errors (chapter 3, table 1) -------------------------------
export const SBI_SUCCESS: i64 = 0;
export const SBI_ERR_FAILED: i64 = -1;
export const SBI_ERR_NOT_SUPPORTED: i64 = -2;
export const SBI_ERR_INVALID_PARAM: i64 = -3;
export const SBI_ERR_DENIED: i64 = -4;
export const SBI_ERR_INVALID_ADDRESS: i64 = -5;
export const SBI_ERR_ALREADY_AVAILABLE: i64 = -6;
export const SBI_ERR_ALREADY_STARTED: i64 = -7;
export const SBI_ERR_ALREADY_STOPPED: i64 = -8;
export const SBI_ERR_NO_SHMEM: i64 = -9;

// --- Extension IDs ------------------------------------------------------------
/** Legacy console putchar (chapter 5). */
export const SBI_EXT_0_1_CONSOLE_PUTCHAR: u64 = 0x01;
/** Legacy console getchar (chapter 5). */
export const SBI_EXT_0_1_CONSOLE_GETCHAR: u64 = 0x02;
/** Base (chapter 4). */
export const SBI_EXT_BASE: u64 = 0x10;
/** Timer, "TIME" (chapter 6). */
export const SBI_EXT_TIME: u64 = 0x5449_4d45;
/** IPI, "sPI" (chapter 7). */
export const SBI_EXT_IPI: u64 = 0x73_5049;
/** RFENCE, "RFNC" (chapter 8). */
export const SBI_EXT_RFENCE: u64 = 0x5246_4e43;
/** Hart state management, "HSM" (chapter 9). */
export const SBI_EXT_HSM: u64 = 0x48_534d;
/** System reset, "SRST" (chapter 10). */
export const SBI_EXT_SRST: u64 = 0x5352_5354;
/** Debug console, "DBCN" (chapter 12). */
export const SBI_EXT_DBCN: u64 = 0x4442_434e;

/** `hart_mask_base` value meaning "every available hart, ignore hart_mask" (section 3.1). */
export const SBI_HART_MASK_BASE_ALL: u64 = u64.MAX_VALUE;

/** Return `struct sbiret { error, value }` to the caller: a0 = error, a1 = value. */
export function sbi_ret(frame: usize, error: i64, value: u64): void {
  frame_set(frame, REG_A0, <u64>error);
  frame_set(frame, REG_A1, value);
}

/** An error (or SBI_SUCCESS) with value 0. */
export function sbi_err(frame: usize, error: i64): void {
  sbi_ret(frame, error, 0);
}

/** Legacy extensions return one value in a0 and leave a1 alone. */
export function sbi_legacy_ret(frame: usize, value: i64): void {
  frame_set(frame, REG_A0, <u64>value);
}
