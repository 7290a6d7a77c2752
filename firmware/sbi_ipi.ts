/**
 * SBI IPI extension (EID "sPI", SBI v2.0 chapter 7), and the firmware's own
 * inter-hart messages, both on the CLINT's per-hart MSIP bit.
 *
 * Each hart has a word of pending message bits. A sender sets bits in the
 * target's word, then raises the target's MSIP; the target, in its M
 * software interrupt (or in any wait loop of the firmware), first clears its
 * MSIP, then takes the whole word and acts on every bit. Clearing before
 * reading means a message sent meanwhile raises MSIP again and is not lost.
 *
 *   IPI_SSIP     S-mode IPI: set mip.SSIP, which mideleg hands to S-mode
 *   (RFENCE requests travel in sbi_rfence.ts's own words; they only borrow
 *    the MSIP doorbell)
 */

import { MIP_SSIP } from "./csr";
import {
  hart_mask_decode, hart_mask_is_valid, hsm_state_get, SBI_HSM_STATE_STOPPED,
} from "./harts";
import { CLINT_MSIP, MAX_HARTS } from "./platform";
import { csrs_mip, fence } from "./riscv";
import { sbi_err, SBI_ERR_INVALID_PARAM, SBI_ERR_NOT_SUPPORTED, SBI_SUCCESS } from "./sbi";
import { frame_get, REG_A0, REG_A1 } from "./trap";

export const SBI_EXT_IPI_SEND_IPI: u64 = 0;

/** Message bits in a hart's pending word. */
const IPI_SSIP: u64 = 1 << 0;

const ipi_pending: usize = memory.data(MAX_HARTS * 8, 8);

/** Ring hart h's doorbell (CLINT MSIP). */
export function ipi_raise(h: i32): void {
  fence();
  store<u32>(<usize>CLINT_MSIP + (<usize>h << 2), 1);
}

/** Silence the calling hart's doorbell; call before looking for messages. */
export function ipi_clear(me: i32): void {
  store<u32>(<usize>CLINT_MSIP + (<usize>me << 2), 0);
  fence();
}

/** Act on the S-mode IPIs sent to the calling hart. */
export function ipi_process(me: i32): void {
  const bits = atomic.xchg<u64>(ipi_pending + (<usize>me << 3), 0);
  if ((bits & IPI_SSIP) != 0) csrs_mip(MIP_SSIP);
}

/** Forget messages for hart h (it is stopping). */
export function ipi_hart_reset(h: i32): void {
  atomic.store<u64>(ipi_pending + (<usize>h << 3), 0);
}

/**
 * sbi_send_ipi(hart_mask, hart_mask_base): an S software interrupt on every
 * named hart. Stopped harts are skipped (they have no S-mode to interrupt).
 */
function send_ipi(hart_mask: u64, hart_mask_base: u64): i64 {
  if (!hart_mask_is_valid(hart_mask, hart_mask_base)) return SBI_ERR_INVALID_PARAM;
  let targets = hart_mask_decode(hart_mask, hart_mask_base);
  while (targets != 0) {
    const h = <i32>ctz<u64>(targets);
    targets &= targets - 1;
    if (hsm_state_get(h) == SBI_HSM_STATE_STOPPED) continue;
    atomic.or<u64>(ipi_pending + (<usize>h << 3), IPI_SSIP);
    ipi_raise(h);
  }
  return SBI_SUCCESS;
}

export function sbi_ipi_call(fid: u64, frame: usize): void {
  if (fid == SBI_EXT_IPI_SEND_IPI) sbi_err(frame, send_ipi(frame_get(frame, REG_A0), frame_get(frame, REG_A1)));
  else sbi_err(frame, SBI_ERR_NOT_SUPPORTED);
}
