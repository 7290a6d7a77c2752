/**
 * SBI RFENCE extension (EID "RFNC", SBI v2.0 chapter 8): FENCE.I and
 * SFENCE.VMA on other harts, through IPIs. The caller returns only when every
 * target has done it.
 *
 * Each calling hart C owns one request record (kind, start, size, asid) and
 * a count of targets still to finish. C fills its record, sets the count,
 * sets bit C in each target's `rfence_from` word and rings the target's
 * doorbell (sbi_ipi.ts). A target takes its `rfence_from` word, performs the
 * request of every hart named there and decrements that hart's count. While
 * C waits for its count to reach zero it serves requests sent to itself, so
 * two harts fencing each other at once do not wait for ever.
 *
 *   rfence_req[C]     kind | start | size | asid   (32 bytes)
 *   rfence_left[C]    targets of C's request that have not finished
 *   rfence_from[T]    bit C set: C has a request for T
 *
 * Stopped harts are skipped: a hart is started with its TLB and instruction
 * cache flushed (trap.ts enter_s_mode).
 */

import {
  hart_mask_decode, hart_mask_is_valid, hsm_state_get, SBI_HSM_STATE_STOPPED,
} from "./harts";
import { MAX_HARTS } from "./platform";
import { fence_i, sfence_vma, sfence_vma_all } from "./riscv";
import { ipi_raise } from "./sbi_ipi";
import { sbi_err, SBI_ERR_INVALID_ADDRESS, SBI_ERR_INVALID_PARAM, SBI_ERR_NOT_SUPPORTED, SBI_SUCCESS } from "./sbi";
import { frame_get, REG_A0, REG_A1, REG_A2, REG_A3, REG_A4 } from "./trap";

export const SBI_EXT_RFENCE_REMOTE_FENCE_I: u64 = 0;
export const SBI_EXT_RFENCE_REMOTE_SFENCE_VMA: u64 = 1;
export const SBI_EXT_RFENCE_REMOTE_SFENCE_VMA_ASID: u64 = 2;
export const SBI_EXT_RFENCE_REMOTE_HFENCE_GVMA_VMID: u64 = 3;
export const SBI_EXT_RFENCE_REMOTE_HFENCE_GVMA: u64 = 4;
export const SBI_EXT_RFENCE_REMOTE_HFENCE_VVMA_ASID: u64 = 5;
export const SBI_EXT_RFENCE_REMOTE_HFENCE_VVMA: u64 = 6;

const PAGE_SIZE: u64 = 4096;
/** Ranges longer than this many pages are flushed whole (as OpenSBI's default limit). */
const FLUSH_PAGES_MAX: u64 = 64;

const RFENCE_KIND_FENCE_I: u64 = 0;
const RFENCE_KIND_SFENCE_VMA: u64 = 1;
const RFENCE_KIND_SFENCE_VMA_ASID: u64 = 2;

const REQ_SIZE: usize = 32;
const rfence_req: usize = memory.data(MAX_HARTS * <i32>REQ_SIZE, 8);
const rfence_left: usize = memory.data(MAX_HARTS * 4, 4);
const rfence_from: usize = memory.data(MAX_HARTS * 8, 8);

/** Does (start, size) mean "the whole address space" (SBI v2.0 chapter 8)? */
function whole_space(start: u64, size: u64): bool {
  return (start == 0 && size == 0) || size == u64.MAX_VALUE;
}

/** Perform one request on the calling hart. */
function rfence_local(kind: u64, start: u64, size: u64, asid: u64): void {
  if (kind == RFENCE_KIND_FENCE_I) {
    fence_i();
    return;
  }
  const by_asid = kind == RFENCE_KIND_SFENCE_VMA_ASID;
  if (whole_space(start, size) || size > FLUSH_PAGES_MAX * PAGE_SIZE) {
    if (by_asid) sfence_vma(0, asid); // rs1 = x0: every address of that ASID
    else sfence_vma_all();
    return;
  }
  const end = start + size;
  for (let va = start & ~(PAGE_SIZE - 1); va < end; va += PAGE_SIZE) {
    if (by_asid) sfence_vma(va, asid);
    else sfence_vma(va, 0); // rs2 = x0: every ASID
  }
}

/** Serve every request other harts have for the calling hart. */
export function rfence_process(me: i32): void {
  let from = atomic.xchg<u64>(rfence_from + (<usize>me << 3), 0);
  while (from != 0) {
    const c = <i32>ctz<u64>(from);
    from &= from - 1;
    const req = rfence_req + <usize>c * REQ_SIZE;
    rfence_local(load<u64>(req), load<u64>(req, 8), load<u64>(req, 16), load<u64>(req, 24));
    atomic.sub<i32>(rfence_left + (<usize>c << 2), 1);
  }
}

/** Ask every target hart (and the caller, if it is one) to fence; wait until all have. */
function rfence_many(me: i32, targets: u64, kind: u64, start: u64, size: u64, asid: u64): void {
  const self = ((targets >> <u64>me) & 1) != 0;
  let others = targets & ~((<u64>1) << <u64>me);
  // Stopped harts have nothing to flush (see the note at the top).
  let t = others;
  while (t != 0) {
    const h = <i32>ctz<u64>(t);
    t &= t - 1;
    if (hsm_state_get(h) == SBI_HSM_STATE_STOPPED) others &= ~((<u64>1) << <u64>h);
  }
  if (others != 0) {
    const req = rfence_req + <usize>me * REQ_SIZE;
    store<u64>(req, kind);
    store<u64>(req, start, 8);
    store<u64>(req, size, 16);
    store<u64>(req, asid, 24);
    atomic.store<i32>(rfence_left + (<usize>me << 2), <i32>popcnt<u64>(others));
    t = others;
    while (t != 0) {
      const h = <i32>ctz<u64>(t);
      t &= t - 1;
      atomic.or<u64>(rfence_from + (<usize>h << 3), (<u64>1) << <u64>me);
      ipi_raise(h);
    }
  }
  if (self) rfence_local(kind, start, size, asid);
  while (others != 0 && atomic.load<i32>(rfence_left + (<usize>me << 2)) != 0) {
    rfence_process(me);
  }
}

function remote_fence(me: i32, frame: usize, kind: u64): i64 {
  const hart_mask = frame_get(frame, REG_A0);
  const hart_mask_base = frame_get(frame, REG_A1);
  const start = kind == RFENCE_KIND_FENCE_I ? 0 : frame_get(frame, REG_A2);
  const size = kind == RFENCE_KIND_FENCE_I ? 0 : frame_get(frame, REG_A3);
  const asid = kind == RFENCE_KIND_SFENCE_VMA_ASID ? frame_get(frame, REG_A4) : 0;
  if (!hart_mask_is_valid(hart_mask, hart_mask_base)) return SBI_ERR_INVALID_PARAM;
  // A range that wraps around the address space is not a valid range.
  if (!whole_space(start, size) && start + size < start) return SBI_ERR_INVALID_ADDRESS;
  rfence_many(me, hart_mask_decode(hart_mask, hart_mask_base), kind, start, size, asid);
  return SBI_SUCCESS;
}

export function sbi_rfence_call(me: i32, fid: u64, frame: usize): void {
  if (fid == SBI_EXT_RFENCE_REMOTE_FENCE_I) sbi_err(frame, remote_fence(me, frame, RFENCE_KIND_FENCE_I));
  else if (fid == SBI_EXT_RFENCE_REMOTE_SFENCE_VMA) sbi_err(frame, remote_fence(me, frame, RFENCE_KIND_SFENCE_VMA));
  else if (fid == SBI_EXT_RFENCE_REMOTE_SFENCE_VMA_ASID) sbi_err(frame, remote_fence(me, frame, RFENCE_KIND_SFENCE_VMA_ASID));
  // HFENCE.* (FIDs 3..6) need the hypervisor extension, which our harts lack.
  else sbi_err(frame, SBI_ERR_NOT_SUPPORTED);
}
