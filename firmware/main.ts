/**
 * kmemlab's SBI firmware: M-mode, SBI specification v2.0.
 *
 * The toolchain's entry stub (toolchain/stubs/firmware.ts: _start) gives
 * every hart a stack, points mtvec at the generated trap entry, and calls
 * fw_main(hartid, dtb) on every hart. The trap entry saves all registers,
 * mepc and mstatus to a frame (trap.ts), calls fw_trap(frame), restores them
 * from the frame and executes mret.
 *
 * Boot, on every hart:
 *   1. hart_init: PMP, delegation, counters, interrupts (per-hart CSRs)
 *   2. lottery: the first hart to get here is the boot hart. It reads the
 *      device tree (harts, memory), adds the firmware's memory to the
 *      tree's memory reservation block, marks every other hart STOPPED,
 *      prints the banner, and rings the others' doorbells; they wait for it
 *      to finish.
 *   3. ecall (from M-mode): fw_trap leaves the trap into S-mode, the boot
 *      hart at the kernel (0x8020_0000) with a0 = hart id and a1 = the DTB,
 *      the others into the HSM wait loop until hart_start names them.
 *      (Leaving through the trap exit is how M-mode code written in
 *      AssemblyScript gets all of a0, a1, mepc and mstatus set for mret.)
 *
 * At run time fw_trap handles: ecalls from S-mode (SBI calls, dispatched by
 * EID), the M software interrupt (IPIs and RFENCE requests), the M timer
 * interrupt (relayed to S as STIP), exceptions from S/U-mode that are not
 * delegated (redirected to S-mode's handler, as OpenSBI does), and anything
 * else (a report and a failing power-off).
 */

import {
  CAUSE_BREAKPOINT, CAUSE_FETCH_PAGE_FAULT, CAUSE_INTERRUPT, CAUSE_LOAD_PAGE_FAULT, CAUSE_MACHINE_ECALL,
  CAUSE_MISALIGNED_FETCH, CAUSE_STORE_PAGE_FAULT, CAUSE_SUPERVISOR_ECALL, CAUSE_USER_ECALL, COUNTEREN_CY,
  COUNTEREN_IR, COUNTEREN_TM, IRQ_M_SOFT, IRQ_M_TIMER, MIP_MSIP, MIP_SEIP, MIP_SSIP, MIP_STIP, PMP_A_NAPOT, PMP_R,
  PMP_W, PMP_X, PRV_M,
} from "./csr";
import { console_lock_acquire, console_lock_release, print, print_dec, print_hex } from "./console";
import { fdt_add_mem_rsv, fdt_mem_bank_end, fdt_scan } from "./fdt";
import { boot_hart, hart_count, hart_is_valid, hart_valid_mask, harts_init, this_hart } from "./harts";
import { FW_BASE, FW_NEXT_ADDR, FW_SIZE, MAX_HARTS } from "./platform";
import {
  csrw_mcounteren, csrw_medeleg, csrw_mideleg, csrw_mie, csrw_pmpaddr0,
  csrw_pmpaddr1, csrw_pmpcfg0, ecall, wfi,
} from "./riscv";
import {
  sbi_err, SBI_ERR_NOT_SUPPORTED, SBI_EXT_0_1_CONSOLE_GETCHAR, SBI_EXT_0_1_CONSOLE_PUTCHAR, SBI_EXT_BASE,
  SBI_EXT_DBCN, SBI_EXT_HSM, SBI_EXT_IPI, SBI_EXT_RFENCE, SBI_EXT_SRST, SBI_EXT_TIME,
} from "./sbi";
import { sbi_base_call } from "./sbi_base";
import { sbi_dbcn_call, sbi_legacy_getchar, sbi_legacy_putchar } from "./sbi_dbcn";
import { hsm_wait_for_start, sbi_hsm_call } from "./sbi_hsm";
import { ipi_clear, ipi_process, ipi_raise, sbi_ipi_call } from "./sbi_ipi";
import { rfence_process, sbi_rfence_call } from "./sbi_rfence";
import { sbi_srst_call } from "./sbi_srst";
import { sbi_time_call, timer_hart_init, timer_interrupt } from "./sbi_time";
import {
  enter_s_mode, fatal_trap, frame_epc, frame_get, frame_set_epc, FRAME_CAUSE, power_off_fail, redirect_to_s_mode, REG_A6,
  REG_A7, trap_from_mode,
} from "./trap";

/** Exceptions S-mode handles itself (medeleg). */
const MEDELEG_BITS: u64 = (1 << CAUSE_MISALIGNED_FETCH) | (1 << CAUSE_BREAKPOINT) | (1 << CAUSE_USER_ECALL) |
  (1 << CAUSE_FETCH_PAGE_FAULT) | (1 << CAUSE_LOAD_PAGE_FAULT) | (1 << CAUSE_STORE_PAGE_FAULT);
/** Interrupts S-mode handles itself (mideleg). */
const MIDELEG_BITS: u64 = MIP_SSIP | MIP_STIP | MIP_SEIP;

/** Exit code when the boot hart finds no device tree. */
const FW_NO_DTB_EXIT_CODE: u32 = 6;

/** 0 until a hart wins the boot lottery, then 1. */
const lottery: usize = memory.data(4, 4);
/** 1 once the boot hart has set up the shared state. */
const fw_ready: usize = memory.data(4, 4);
/** Per hart: 1 between fw_main's ecall and fw_trap taking it. */
const fw_booting: usize = memory.data(MAX_HARTS * 4, 4);
/** The device tree the boot hart was given (passed on in a1). */
let fw_dtb: u64 = 0;

/**
 * Per-hart machine setup:
 *   PMP entry 0   NAPOT [FW_BASE, FW_BASE + FW_SIZE), no permissions: S and U
 *                 may not touch the firmware (M is not bound: entry unlocked)
 *   PMP entry 1   NAPOT over all addresses, RWX: everything else is S's
 */
function hart_init(me: i32): void {
  csrw_pmpaddr0((FW_BASE >> 2) | ((FW_SIZE >> 3) - 1));
  csrw_pmpaddr1(u64.MAX_VALUE);
  csrw_pmpcfg0(((PMP_A_NAPOT | PMP_R | PMP_W | PMP_X) << 8) | PMP_A_NAPOT);
  csrw_medeleg(MEDELEG_BITS);
  csrw_mideleg(MIDELEG_BITS);
  csrw_mcounteren(COUNTEREN_CY | COUNTEREN_TM | COUNTEREN_IR);
  csrw_mie(MIP_MSIP); // the doorbell; MTIE comes with set_timer
  timer_hart_init(me);
}

function banner(): void {
  console_lock_acquire();
  print("kmemlab SBI 2.0 firmware: ");
  print_dec(<u64>hart_count());
  print(hart_count() == 1 ? " hart, next " : " harts, next ");
  print_hex(FW_NEXT_ADDR);
  print(" (S-mode)\n");
  console_lock_release();
}

export function fw_main(hartid: u64, dtb: u64): void {
  const me = <i32>hartid;
  hart_init(me);
  if (atomic.cmpxchg<i32>(lottery, 0, 1) == 0) {
    if (dtb >= (<u64>1 << 32) || !fdt_scan(<usize>dtb)) {
      console_lock_acquire();
      print("kmemlab firmware: no device tree at ");
      print_hex(dtb);
      print(" (a1); cannot boot\n");
      console_lock_release();
      power_off_fail(FW_NO_DTB_EXIT_CODE);
    }
    fw_dtb = dtb;
    // Tell the kernel our memory is taken (no room: it still cannot touch it, PMP).
    fdt_add_mem_rsv(<usize>dtb, FW_BASE, FW_SIZE, fdt_mem_bank_end(dtb));
    harts_init(me);
    banner();
    atomic.store<i32>(fw_ready, 1);
    let others = hart_valid_mask & ~((<u64>1) << hartid);
    while (others != 0) {
      ipi_raise(<i32>ctz<u64>(others));
      others &= others - 1;
    }
  } else {
    while (atomic.load<i32>(fw_ready) == 0) wfi();
    if (!hart_is_valid(hartid)) {
      // Not in the device tree: nobody can start it. Sleep for good.
      csrw_mie(0);
      while (true) wfi();
    }
  }
  atomic.store<i32>(fw_booting + (<usize>me << 2), 1);
  ecall(0, 0, 0, 0, 0, 0, 0, 0); // into fw_trap, which leaves in S-mode (see the top of this file)
}

/** An SBI call: EID in a7, FID in a6, arguments in a0..a5, result in a0/a1. */
function sbi_call(me: i32, frame: usize): void {
  const eid = frame_get(frame, REG_A7);
  const fid = frame_get(frame, REG_A6);
  if (eid == SBI_EXT_BASE) sbi_base_call(fid, frame);
  else if (eid == SBI_EXT_TIME) sbi_time_call(me, fid, frame);
  else if (eid == SBI_EXT_IPI) sbi_ipi_call(fid, frame);
  else if (eid == SBI_EXT_RFENCE) sbi_rfence_call(me, fid, frame);
  else if (eid == SBI_EXT_HSM) sbi_hsm_call(me, fid, frame);
  else if (eid == SBI_EXT_SRST) sbi_srst_call(fid, frame);
  else if (eid == SBI_EXT_DBCN) sbi_dbcn_call(fid, frame);
  else if (eid == SBI_EXT_0_1_CONSOLE_PUTCHAR) sbi_legacy_putchar(frame);
  else if (eid == SBI_EXT_0_1_CONSOLE_GETCHAR) sbi_legacy_getchar(frame);
  else sbi_err(frame, SBI_ERR_NOT_SUPPORTED);
}

export function fw_trap(frame: usize): void {
  const me = this_hart();
  const cause = load<u64>(frame + FRAME_CAUSE);

  if ((cause & CAUSE_INTERRUPT) != 0) {
    const irq = cause & ~CAUSE_INTERRUPT;
    if (irq == IRQ_M_SOFT) {
      ipi_clear(me);
      ipi_process(me);
      rfence_process(me);
    } else if (irq == IRQ_M_TIMER) {
      timer_interrupt();
    } else {
      fatal_trap(me, frame);
    }
    return;
  }

  if (cause == CAUSE_SUPERVISOR_ECALL) {
    frame_set_epc(frame, frame_epc(frame) + 4); // past the ecall; hart_stop and suspend may set another
    sbi_call(me, frame);
    return;
  }

  const from = trap_from_mode(frame);
  const booting = fw_booting + (<usize>me << 2);
  if (cause == CAUSE_MACHINE_ECALL && from == PRV_M && atomic.xchg<i32>(booting, 0) != 0) {
    if (me == boot_hart) enter_s_mode(frame, FW_NEXT_ADDR, <u64>me, fw_dtb);
    else hsm_wait_for_start(me, frame);
    return;
  }

  // Exceptions from S or U that are not delegated (access faults, illegal
  // instructions, ...) belong to S-mode's handler; the firmware's own are fatal.
  if (from != PRV_M && redirect_to_s_mode(frame)) return;
  fatal_trap(me, frame);
}
