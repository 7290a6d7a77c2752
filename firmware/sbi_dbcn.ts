/**
 * SBI Debug Console extension (EID "DBCN", SBI v2.0 chapter 12), and the
 * legacy console putchar and getchar (EIDs 0x01 and 0x02, chapter 5), on the
 * UART (console.ts).
 *
 * console_write and console_read take a physical buffer: base_addr_lo holds
 * the address (base_addr_hi holds bits 64 and up: 0 on this board). It must lie
 * in memory S-mode may use (harts.ts s_mode_range_ok: one DRAM bank, not the
 * firmware's own memory), else SBI_ERR_INVALID_PARAM.
 *
 * Reaching the buffer: the firmware's pointers are zero-extended 32-bit wasm
 * addresses, so below 4 GiB a buffer byte is a plain load. Above, the
 * translated load still adds the instruction's constant offset in 64 bits
 * (zext32(pointer) + offset), and an offset of 0x7FFF_FFFF (AssemblyScript's
 * largest) reaches up to 0x1_7FFF_FFFE: the highmem bank of kmemlab
 * (0x1_0000_0000, at most 2 GiB) but for its very last byte. A buffer beyond
 * PHYS_END is SBI_ERR_INVALID_PARAM too.
 *
 * console_write writes every byte (the UART is always able to take more);
 * console_read returns what has arrived, possibly nothing.
 */

import { console_getc, console_lock_acquire, console_lock_release, console_putc } from "./console";
import { s_mode_range_ok } from "./harts";
import { sbi_err, SBI_ERR_INVALID_PARAM, SBI_ERR_NOT_SUPPORTED, sbi_legacy_ret, sbi_ret, SBI_SUCCESS } from "./sbi";
import { frame_get, REG_A0, REG_A1, REG_A2 } from "./trap";

export const SBI_EXT_DBCN_CONSOLE_WRITE: u64 = 0;
export const SBI_EXT_DBCN_CONSOLE_READ: u64 = 1;
export const SBI_EXT_DBCN_CONSOLE_WRITE_BYTE: u64 = 2;

/** The end of the physical addresses the firmware can reach (see above). */
const PHYS_END: u64 = 0x1_7fff_ffff;

function phys_load_u8(pa: u64): u8 {
  if (pa < 0x1_0000_0000) return load<u8>(<usize>pa);
  return load<u8>(<usize>(pa - 0x7fff_ffff), 0x7fff_ffff);
}

function phys_store_u8(pa: u64, v: u8): void {
  if (pa < 0x1_0000_0000) store<u8>(<usize>pa, v);
  else store<u8>(<usize>(pa - 0x7fff_ffff), v, 0x7fff_ffff);
}

/** Is [lo, lo + n) (hi: the upper XLEN bits) a buffer of S-mode's that we can reach? */
function buffer_ok(n: u64, lo: u64, hi: u64): bool {
  if (hi != 0 || lo >= PHYS_END || n > PHYS_END - lo) return false;
  return s_mode_range_ok(lo, n);
}

function console_write(frame: usize): void {
  const n = frame_get(frame, REG_A0);
  const lo = frame_get(frame, REG_A1);
  if (n == 0) return sbi_ret(frame, SBI_SUCCESS, 0);
  if (!buffer_ok(n, lo, frame_get(frame, REG_A2))) return sbi_err(frame, SBI_ERR_INVALID_PARAM);
  console_lock_acquire();
  for (let i: u64 = 0; i < n; i++) console_putc(<u32>phys_load_u8(lo + i));
  console_lock_release();
  sbi_ret(frame, SBI_SUCCESS, n);
}

function console_read(frame: usize): void {
  const n = frame_get(frame, REG_A0);
  const lo = frame_get(frame, REG_A1);
  if (n == 0) return sbi_ret(frame, SBI_SUCCESS, 0);
  if (!buffer_ok(n, lo, frame_get(frame, REG_A2))) return sbi_err(frame, SBI_ERR_INVALID_PARAM);
  let got: u64 = 0;
  while (got < n) {
    const c = console_getc();
    if (c < 0) break;
    phys_store_u8(lo + got, <u8>c);
    got++;
  }
  sbi_ret(frame, SBI_SUCCESS, got);
}

export function sbi_dbcn_call(fid: u64, frame: usize): void {
  if (fid == SBI_EXT_DBCN_CONSOLE_WRITE) console_write(frame);
  else if (fid == SBI_EXT_DBCN_CONSOLE_READ) console_read(frame);
  else if (fid == SBI_EXT_DBCN_CONSOLE_WRITE_BYTE) {
    console_putc(<u32>(frame_get(frame, REG_A0) & 0xff));
    sbi_err(frame, SBI_SUCCESS);
  } else sbi_err(frame, SBI_ERR_NOT_SUPPORTED);
}

/** Legacy console putchar (EID 0x01): a0 = 0. */
export function sbi_legacy_putchar(frame: usize): void {
  console_putc(<u32>(frame_get(frame, REG_A0) & 0xff));
  sbi_legacy_ret(frame, 0);
}

/** Legacy console getchar (EID 0x02): a0 = the byte, or -1 when none has arrived. */
export function sbi_legacy_getchar(frame: usize): void {
  sbi_legacy_ret(frame, <i64>console_getc());
}
