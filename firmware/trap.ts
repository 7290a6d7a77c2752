/**
 * The trap frame, and the three ways out of an M-mode trap besides a plain
 * return: into S-mode at a chosen address (boot, hart_start, non-retentive
 * resume), redirected to S-mode's own trap handler (exceptions S-mode must
 * see), or a fatal report and power-off.
 *
 * The frame is built by the toolchain's generated trap entry
 * (toolchain/stubs/firmware.ts, layout in toolchain/stubs/common.ts): it
 * saves every register and mepc, mstatus, mtval, mcause, calls
 * fw_trap(frame), writes registers, mepc and mstatus back from the frame and
 * executes mret. So the way to change where and how the trap returns is to
 * change the frame, never the CSRs mepc and mstatus.
 *
 *   frame + 0      epc      (mepc)
 *   frame + 8·i    x_i      ra = +8, sp = +16, a0 = +80 … a7 = +136
 *   frame + 256    status   (mstatus)
 *   frame + 264    tval     (mtval)
 *   frame + 272    cause    (mcause)
 */

import {
  CAUSE_INTERRUPT, MSTATUS_MPIE, MSTATUS_MPP, MSTATUS_MPP_SHIFT, MSTATUS_SIE, MSTATUS_SPIE, MSTATUS_SPP, PRV_M, PRV_S,
} from "./csr";
import { console_lock_acquire, console_lock_release, print, print_dec, print_hex } from "./console";
import { FINISHER_BASE, FINISHER_FAIL } from "./platform";
import { csrr_stvec, csrw_satp, csrw_scause, csrw_sepc, csrw_stval, fence_i, sfence_vma_all, wfi } from "./riscv";

export const FRAME_EPC: usize = 0;
export const FRAME_STATUS: usize = 256;
export const FRAME_TVAL: usize = 264;
export const FRAME_CAUSE: usize = 272;

export const REG_A0: i32 = 10;
export const REG_A1: i32 = 11;
export const REG_A2: i32 = 12;
export const REG_A3: i32 = 13;
export const REG_A4: i32 = 14;
export const REG_A5: i32 = 15;
export const REG_A6: i32 = 16;
export const REG_A7: i32 = 17;

/** Exit code of the test finisher when the firmware meets a trap it cannot handle (as the stub's own). */
export const FW_FATAL_EXIT_CODE: u32 = 3;

export function frame_get(frame: usize, reg: i32): u64 {
  return load<u64>(frame + (<usize>reg << 3));
}

export function frame_set(frame: usize, reg: i32, value: u64): void {
  store<u64>(frame + (<usize>reg << 3), value);
}

export function frame_epc(frame: usize): u64 {
  return load<u64>(frame + FRAME_EPC);
}

export function frame_set_epc(frame: usize, epc: u64): void {
  store<u64>(frame + FRAME_EPC, epc);
}

/** The privilege mode the trap came from (mstatus.MPP). */
export function trap_from_mode(frame: usize): u64 {
  return (load<u64>(frame + FRAME_STATUS) & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT;
}

/**
 * Leave the trap into S-mode at `addr` with a0 and a1 set, translation off
 * and S-mode interrupts disabled: the register state SBI HSM (section 9.1)
 * gives a started or resumed hart, and the kernel's boot entry.
 */
export function enter_s_mode(frame: usize, addr: u64, a0: u64, a1: u64): void {
  frame_set(frame, REG_A0, a0);
  frame_set(frame, REG_A1, a1);
  csrw_satp(0);
  sfence_vma_all();
  fence_i();
  let status = load<u64>(frame + FRAME_STATUS);
  status &= ~(MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE);
  status |= PRV_S << MSTATUS_MPP_SHIFT;
  store<u64>(frame + FRAME_STATUS, status);
  frame_set_epc(frame, addr);
}

/**
 * Hand the exception being handled to S-mode's trap handler, as if it had
 * been delegated (privileged spec 3.1.6.1 and 4.1.1; OpenSBI's
 * sbi_trap_redirect does the same). Returns false when that cannot work:
 * S-mode has no handler (stvec = 0) or the trap came from the handler's
 * first instruction, which would loop for ever.
 */
export function redirect_to_s_mode(frame: usize): bool {
  const status = load<u64>(frame + FRAME_STATUS);
  const from = (status & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT;
  const epc = frame_epc(frame);
  const handler = csrr_stvec() & ~(<u64>3); // exceptions always go to the base
  if (handler == 0 || (from == PRV_S && epc == handler)) return false;
  csrw_sepc(epc);
  csrw_scause(load<u64>(frame + FRAME_CAUSE));
  csrw_stval(load<u64>(frame + FRAME_TVAL));
  // sstatus.SPP = the mode it came from, SPIE = SIE, SIE = 0; continue in S.
  let next = status & ~(MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE | MSTATUS_MPP);
  if (from == PRV_S) next |= MSTATUS_SPP;
  if ((status & MSTATUS_SIE) != 0) next |= MSTATUS_SPIE;
  next |= PRV_S << MSTATUS_MPP_SHIFT;
  store<u64>(frame + FRAME_STATUS, next);
  frame_set_epc(frame, handler);
  return true;
}

/** Power the machine off with a failure code (the test finisher) and never return. */
export function power_off_fail(code: u32): void {
  store<u32>(FINISHER_BASE, FINISHER_FAIL | (code << 16));
  while (true) wfi();
}

/** Report the trap in `frame` as one the firmware cannot handle, and power off. */
export function fatal_trap(hart: i32, frame: usize): void {
  const cause = load<u64>(frame + FRAME_CAUSE);
  const from = trap_from_mode(frame);
  console_lock_acquire();
  print("kmemlab firmware: unhandled ");
  print((cause & CAUSE_INTERRUPT) != 0 ? "interrupt" : "exception");
  print(" on hart ");
  print_dec(<u64>hart);
  print(" from ");
  print(from == PRV_M ? "M" : from == PRV_S ? "S" : "U");
  print("-mode: mcause ");
  print_hex(cause);
  print(" mepc ");
  print_hex(frame_epc(frame));
  print(" mtval ");
  print_hex(load<u64>(frame + FRAME_TVAL));
  print("\n");
  console_lock_release();
  power_off_fail(FW_FATAL_EXIT_CODE);
}
