/**
 * SBI System Reset extension (EID "SRST", SBI v2.0 chapter 10), on the
 * `virt` board's SiFive test finisher:
 *
 *   shutdown, no reason         → 0x5555              power off, exit code 0
 *   shutdown, system failure    → 0x3333 | 1 << 16    power off, exit code 1
 *   cold or warm reboot         → 0x7777              reset the machine
 *
 * The reason of a reboot is not recorded anywhere. Reserved types and
 * reasons, and the vendor and implementation-specific ones (this
 * implementation defines none), are SBI_ERR_INVALID_PARAM.
 */

import { FINISHER_BASE, FINISHER_FAIL, FINISHER_PASS, FINISHER_RESET } from "./platform";
import { sbi_err, SBI_ERR_FAILED, SBI_ERR_INVALID_PARAM, SBI_ERR_NOT_SUPPORTED } from "./sbi";
import { frame_get, REG_A0, REG_A1 } from "./trap";

export const SBI_EXT_SRST_RESET: u64 = 0;

export const SBI_SRST_RESET_TYPE_SHUTDOWN: u32 = 0;
export const SBI_SRST_RESET_TYPE_COLD_REBOOT: u32 = 1;
export const SBI_SRST_RESET_TYPE_WARM_REBOOT: u32 = 2;

export const SBI_SRST_RESET_REASON_NONE: u32 = 0;
export const SBI_SRST_RESET_REASON_SYSFAIL: u32 = 1;

/** Exit code of a shutdown whose reason is "system failure". */
export const SRST_SYSFAIL_EXIT_CODE: u32 = 1;

function system_reset(reset_type: u32, reset_reason: u32): i64 {
  if (reset_type > SBI_SRST_RESET_TYPE_WARM_REBOOT) return SBI_ERR_INVALID_PARAM;
  if (reset_reason > SBI_SRST_RESET_REASON_SYSFAIL) return SBI_ERR_INVALID_PARAM;
  let command: u32;
  if (reset_type != SBI_SRST_RESET_TYPE_SHUTDOWN) command = FINISHER_RESET;
  else if (reset_reason == SBI_SRST_RESET_REASON_SYSFAIL) command = FINISHER_FAIL | (SRST_SYSFAIL_EXIT_CODE << 16);
  else command = FINISHER_PASS;
  store<u32>(FINISHER_BASE, command);
  // Still here: the finisher did not take the command.
  return SBI_ERR_FAILED;
}

export function sbi_srst_call(fid: u64, frame: usize): void {
  if (fid == SBI_EXT_SRST_RESET) {
    // reset_type and reset_reason are 32-bit parameters (uint32_t).
    sbi_err(frame, system_reset(<u32>frame_get(frame, REG_A0), <u32>frame_get(frame, REG_A1)));
  } else {
    sbi_err(frame, SBI_ERR_NOT_SUPPORTED);
  }
}
