/**
 * SBI Hart State Management extension (EID "HSM", SBI v2.0 chapter 9):
 * start, stop, query and suspend harts.
 *
 * A hart the firmware owns (never started, stopped, or suspended) waits in
 * M-mode in `hsm_wait`, a WFI loop that still serves IPIs and RFENCE
 * requests and relays the timer. hart_start stores the start address and
 * opaque value in the target's slot, moves it STOPPED → START_PENDING and
 * rings its doorbell; the target leaves the loop, marks itself STARTED and
 * enters S-mode there (trap.ts enter_s_mode).
 *
 *   STOPPED ──hart_start──► START_PENDING ──► STARTED ──hart_stop──► STOP_PENDING ──► STOPPED
 *   STARTED ──hart_suspend──► SUSPEND_PENDING ──► SUSPENDED ──interrupt──► RESUME_PENDING ──► STARTED
 *
 * Suspend types: default retentive (0x0000_0000) waits for an interrupt and
 * returns from the call; default non-retentive (0x8000_0000) does the same
 * and then resumes at resume_addr as hart_start would. Platform-specific
 * types are not implemented (SBI_ERR_INVALID_PARAM, as the spec asks).
 */

import { MIP_SEIP, MIP_SSIP, MIP_STIP } from "./csr";
import {
  hart_is_valid, hsm_state_change, hsm_state_get, hsm_state_set, s_mode_range_ok, SBI_HSM_STATE_RESUME_PENDING,
  SBI_HSM_STATE_START_PENDING, SBI_HSM_STATE_STARTED, SBI_HSM_STATE_STOP_PENDING, SBI_HSM_STATE_STOPPED,
  SBI_HSM_STATE_SUSPEND_PENDING, SBI_HSM_STATE_SUSPENDED,
} from "./harts";
import { MAX_HARTS } from "./platform";
import { csrc_mip, csrr_mie, csrr_mip, wfi } from "./riscv";
import {
  sbi_err, SBI_ERR_ALREADY_AVAILABLE, SBI_ERR_FAILED, SBI_ERR_INVALID_ADDRESS, SBI_ERR_INVALID_PARAM,
  SBI_ERR_NOT_SUPPORTED, sbi_ret, SBI_SUCCESS,
} from "./sbi";
import { ipi_clear, ipi_hart_reset, ipi_process, ipi_raise } from "./sbi_ipi";
import { rfence_process } from "./sbi_rfence";
import { timer_hart_init, timer_poll } from "./sbi_time";
import { enter_s_mode, frame_get, REG_A0, REG_A1, REG_A2 } from "./trap";

export const SBI_EXT_HSM_HART_START: u64 = 0;
export const SBI_EXT_HSM_HART_STOP: u64 = 1;
export const SBI_EXT_HSM_HART_GET_STATUS: u64 = 2;
export const SBI_EXT_HSM_HART_SUSPEND: u64 = 3;

export const SBI_HSM_SUSPEND_RET_DEFAULT: u32 = 0x0000_0000;
export const SBI_HSM_SUSPEND_RET_PLATFORM: u32 = 0x1000_0000;
export const SBI_HSM_SUSPEND_NON_RET_DEFAULT: u32 = 0x8000_0000;
export const SBI_HSM_SUSPEND_NON_RET_PLATFORM: u32 = 0x9000_0000;

/** Where each hart starts (or resumes) in S-mode, and its a1 there. */
const hsm_start_addr: usize = memory.data(MAX_HARTS * 8, 8);
const hsm_start_opaque: usize = memory.data(MAX_HARTS * 8, 8);
/** Set by hart_start after the slot is written: the target may go. */
const hsm_start_go: usize = memory.data(MAX_HARTS * 4, 4);

/** S-mode interrupts that end a suspend when pending and enabled. */
const S_WAKE_IRQS: u64 = MIP_SSIP | MIP_STIP | MIP_SEIP;

/** Everything a waiting hart must keep doing: messages, fences, the timer. */
export function hart_serve(me: i32): void {
  ipi_clear(me);
  ipi_process(me);
  rfence_process(me);
  timer_poll();
}

/**
 * Wait in M-mode until hart_start names this hart, then enter S-mode at the
 * start address. Used for parked harts at boot and for hart_stop.
 */
export function hsm_wait_for_start(me: i32, frame: usize): void {
  const go = hsm_start_go + (<usize>me << 2);
  while (true) {
    hart_serve(me);
    if (atomic.load<i32>(go) != 0) break;
    wfi();
  }
  atomic.store<i32>(go, 0);
  // A stopped hart has no S-mode interrupts of its own: forget stale ones.
  csrc_mip(MIP_SSIP | MIP_STIP);
  hsm_state_set(me, SBI_HSM_STATE_STARTED);
  enter_s_mode(frame, load<u64>(hsm_start_addr + (<usize>me << 3)), <u64>me, load<u64>(hsm_start_opaque + (<usize>me << 3)));
}

/** Wait in M-mode until an enabled S-mode interrupt is pending. */
function wait_for_s_interrupt(me: i32): void {
  while (true) {
    hart_serve(me);
    if ((csrr_mip() & csrr_mie() & S_WAKE_IRQS) != 0) return;
    wfi();
  }
}

function hart_start(hartid: u64, start_addr: u64, opaque: u64): i64 {
  if (!hart_is_valid(hartid)) return SBI_ERR_INVALID_PARAM;
  if (!s_mode_range_ok(start_addr, 4)) return SBI_ERR_INVALID_ADDRESS;
  const h = <i32>hartid;
  if (!hsm_state_change(h, SBI_HSM_STATE_STOPPED, SBI_HSM_STATE_START_PENDING)) return SBI_ERR_ALREADY_AVAILABLE;
  store<u64>(hsm_start_addr + (<usize>h << 3), start_addr);
  store<u64>(hsm_start_opaque + (<usize>h << 3), opaque);
  atomic.store<i32>(hsm_start_go + (<usize>h << 2), 1);
  ipi_raise(h);
  return SBI_SUCCESS;
}

/** hart_stop: returns only if the hart was not STARTED (SBI_ERR_FAILED). */
function hart_stop(me: i32, frame: usize): void {
  if (!hsm_state_change(me, SBI_HSM_STATE_STARTED, SBI_HSM_STATE_STOP_PENDING)) {
    sbi_err(frame, SBI_ERR_FAILED);
    return;
  }
  timer_hart_init(me);
  ipi_hart_reset(me);
  hsm_state_set(me, SBI_HSM_STATE_STOPPED);
  hsm_wait_for_start(me, frame);
}

function hart_get_status(frame: usize): void {
  const hartid = frame_get(frame, REG_A0);
  if (!hart_is_valid(hartid)) sbi_err(frame, SBI_ERR_INVALID_PARAM);
  else sbi_ret(frame, SBI_SUCCESS, <u64>hsm_state_get(<i32>hartid));
}

function hart_suspend(me: i32, frame: usize): void {
  const suspend_type = <u32>frame_get(frame, REG_A0);
  const resume_addr = frame_get(frame, REG_A1);
  const opaque = frame_get(frame, REG_A2);
  const retentive = suspend_type == SBI_HSM_SUSPEND_RET_DEFAULT;
  if (!retentive && suspend_type != SBI_HSM_SUSPEND_NON_RET_DEFAULT) {
    // Reserved, or platform-specific and not implemented.
    sbi_err(frame, SBI_ERR_INVALID_PARAM);
    return;
  }
  if (!retentive && !s_mode_range_ok(resume_addr, 4)) {
    sbi_err(frame, SBI_ERR_INVALID_ADDRESS);
    return;
  }
  if (!hsm_state_change(me, SBI_HSM_STATE_STARTED, SBI_HSM_STATE_SUSPEND_PENDING)) {
    sbi_err(frame, SBI_ERR_FAILED);
    return;
  }
  hsm_state_set(me, SBI_HSM_STATE_SUSPENDED);
  wait_for_s_interrupt(me);
  hsm_state_set(me, SBI_HSM_STATE_RESUME_PENDING);
  hsm_state_set(me, SBI_HSM_STATE_STARTED);
  if (retentive) sbi_err(frame, SBI_SUCCESS);
  else enter_s_mode(frame, resume_addr, <u64>me, opaque);
}

export function sbi_hsm_call(me: i32, fid: u64, frame: usize): void {
  if (fid == SBI_EXT_HSM_HART_START) {
    sbi_err(frame, hart_start(frame_get(frame, REG_A0), frame_get(frame, REG_A1), frame_get(frame, REG_A2)));
  } else if (fid == SBI_EXT_HSM_HART_STOP) {
    hart_stop(me, frame);
  } else if (fid == SBI_EXT_HSM_HART_GET_STATUS) {
    hart_get_status(frame);
  } else if (fid == SBI_EXT_HSM_HART_SUSPEND) {
    hart_suspend(me, frame);
  } else {
    sbi_err(frame, SBI_ERR_NOT_SUPPORTED);
  }
}
