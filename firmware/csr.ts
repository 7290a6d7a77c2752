/**
 * CSR fields, interrupt numbers and exception causes, named as the RISC-V
 * privileged specification 1.12 names them (chapter 3).
 */

// --- mstatus (3.1.6) -----------------------------------------------------------
export const MSTATUS_SIE: u64 = 1 << 1;
export const MSTATUS_MIE: u64 = 1 << 3;
export const MSTATUS_SPIE: u64 = 1 << 5;
export const MSTATUS_MPIE: u64 = 1 << 7;
export const MSTATUS_SPP: u64 = 1 << 8;
export const MSTATUS_MPP_SHIFT: u64 = 11;
export const MSTATUS_MPP: u64 = 3 << 11;
export const MSTATUS_MPRV: u64 = 1 << 17;

// --- privilege levels --------------------------------------------------------
export const PRV_U: u64 = 0;
export const PRV_S: u64 = 1;
export const PRV_M: u64 = 3;

// --- interrupts: bit numbers in mip/mie and interrupt cause codes (3.1.9) -------
export const IRQ_S_SOFT: u64 = 1;
export const IRQ_M_SOFT: u64 = 3;
export const IRQ_S_TIMER: u64 = 5;
export const IRQ_M_TIMER: u64 = 7;
export const IRQ_S_EXT: u64 = 9;
export const IRQ_M_EXT: u64 = 11;

export const MIP_SSIP: u64 = 1 << IRQ_S_SOFT;
export const MIP_MSIP: u64 = 1 << IRQ_M_SOFT;
export const MIP_STIP: u64 = 1 << IRQ_S_TIMER;
export const MIP_MTIP: u64 = 1 << IRQ_M_TIMER;
export const MIP_SEIP: u64 = 1 << IRQ_S_EXT;
export const MIP_MEIP: u64 = 1 << IRQ_M_EXT;

/** mcause: the interrupt bit (3.1.15). */
export const CAUSE_INTERRUPT: u64 = 1 << 63;

// --- exception causes (3.1.15, table 3.6) ---------------------------------------
export const CAUSE_MISALIGNED_FETCH: u64 = 0;
export const CAUSE_FETCH_ACCESS: u64 = 1;
export const CAUSE_ILLEGAL_INSTRUCTION: u64 = 2;
export const CAUSE_BREAKPOINT: u64 = 3;
export const CAUSE_MISALIGNED_LOAD: u64 = 4;
export const CAUSE_LOAD_ACCESS: u64 = 5;
export const CAUSE_MISALIGNED_STORE: u64 = 6;
export const CAUSE_STORE_ACCESS: u64 = 7;
export const CAUSE_USER_ECALL: u64 = 8;
export const CAUSE_SUPERVISOR_ECALL: u64 = 9;
export const CAUSE_MACHINE_ECALL: u64 = 11;
export const CAUSE_FETCH_PAGE_FAULT: u64 = 12;
export const CAUSE_LOAD_PAGE_FAULT: u64 = 13;
export const CAUSE_STORE_PAGE_FAULT: u64 = 15;

// --- counter enables (3.1.11) ----------------------------------------------------
export const COUNTEREN_CY: u64 = 1 << 0;
export const COUNTEREN_TM: u64 = 1 << 1;
export const COUNTEREN_IR: u64 = 1 << 2;

// --- PMP configuration (3.7.1) -----------------------------------------------------
export const PMP_R: u64 = 1 << 0;
export const PMP_W: u64 = 1 << 1;
export const PMP_X: u64 = 1 << 2;
export const PMP_A_NAPOT: u64 = 3 << 3;
