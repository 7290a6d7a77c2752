/**
 * SBI Timer extension (EID "TIME", SBI v2.0 chapter 6), on the CLINT's
 * per-hart mtimecmp.
 *
 * S-mode cannot be given the machine timer directly, so the firmware relays
 * it: set_timer writes mtimecmp, clears STIP and enables the M timer
 * interrupt (MTIE); when mtime reaches mtimecmp the M timer interrupt traps
 * here, sets STIP (which mideleg hands to S-mode) and masks MTIE again so
 * that the still-pending MTIP does not trap again. The next set_timer
 * clears STIP: only the supervisor's next request ends its interrupt.
 */

import { MIP_MTIP, MIP_STIP } from "./csr";
import { CLINT_MTIMECMP } from "./platform";
import { csrc_mie, csrc_mip, csrr_mie, csrr_mip, csrs_mie, csrs_mip } from "./riscv";
import { sbi_err, SBI_ERR_NOT_SUPPORTED, SBI_SUCCESS } from "./sbi";
import { frame_get, REG_A0 } from "./trap";

export const SBI_EXT_TIME_SET_TIMER: u64 = 0;

const MIE_MTIE: u64 = MIP_MTIP;

function mtimecmp_write(hart: i32, value: u64): void {
  store<u64>(<usize>CLINT_MTIMECMP + (<usize>hart << 3), value);
}

/** Per-hart reset: no deadline, no timer interrupt pending or enabled. */
export function timer_hart_init(hart: i32): void {
  csrc_mie(MIE_MTIE);
  mtimecmp_write(hart, u64.MAX_VALUE);
  csrc_mip(MIP_STIP);
}

/** Program the next S-mode timer event at absolute time `stime_value`. */
export function timer_set(hart: i32, stime_value: u64): void {
  mtimecmp_write(hart, stime_value);
  csrc_mip(MIP_STIP);
  csrs_mie(MIE_MTIE);
}

/** The M timer interrupt: pass it on to S-mode as STIP. */
export function timer_interrupt(): void {
  csrs_mip(MIP_STIP);
  csrc_mie(MIE_MTIE);
}

/** Relay a timer interrupt that is pending while the hart waits in the firmware. */
export function timer_poll(): void {
  if ((csrr_mip() & csrr_mie() & MIP_MTIP) != 0) timer_interrupt();
}

export function sbi_time_call(hart: i32, fid: u64, frame: usize): void {
  if (fid == SBI_EXT_TIME_SET_TIMER) {
    timer_set(hart, frame_get(frame, REG_A0));
    sbi_err(frame, SBI_SUCCESS);
  } else {
    sbi_err(frame, SBI_ERR_NOT_SUPPORTED);
  }
}
