/**
 * Supervisor-mode CSR bits and trap causes, named as the RISC-V privileged
 * specification 1.12 names them (sections 4.1.1 sstatus, 4.1.3 sip/sie,
 * 4.1.9 scause table 4.2). One module, no logic.
 */

// 4.1.1 sstatus
export const SSTATUS_SIE: u64 = 1 << 1;
export const SSTATUS_SPIE: u64 = 1 << 5;
export const SSTATUS_SPP: u64 = 1 << 8;
export const SSTATUS_SUM: u64 = 1 << 18;
export const SSTATUS_MXR: u64 = 1 << 19;

// 4.1.3 interrupt numbers and the sip / sie bits
export const IRQ_S_SOFT: u32 = 1;
export const IRQ_S_TIMER: u32 = 5;
export const IRQ_S_EXT: u32 = 9;
export const SIE_SSIE: u64 = 1 << IRQ_S_SOFT;
export const SIE_STIE: u64 = 1 << IRQ_S_TIMER;
export const SIE_SEIE: u64 = 1 << IRQ_S_EXT;
export const SIP_SSIP: u64 = SIE_SSIE;

// 4.1.9 scause
export const SCAUSE_INTERRUPT: u64 = 1 << 63;
export const EXC_INST_MISALIGNED: u32 = 0;
export const EXC_INST_ACCESS: u32 = 1;
export const EXC_INST_ILLEGAL: u32 = 2;
export const EXC_BREAKPOINT: u32 = 3;
export const EXC_LOAD_MISALIGNED: u32 = 4;
export const EXC_LOAD_ACCESS: u32 = 5;
export const EXC_STORE_MISALIGNED: u32 = 6;
export const EXC_STORE_ACCESS: u32 = 7;
export const EXC_SYSCALL_U: u32 = 8;
export const EXC_SYSCALL_S: u32 = 9;
export const EXC_SYSCALL_M: u32 = 11;
export const EXC_INST_PAGE_FAULT: u32 = 12;
export const EXC_LOAD_PAGE_FAULT: u32 = 13;
export const EXC_STORE_PAGE_FAULT: u32 = 15;

/** The name Linux's riscv trap handlers give each exception (arch/riscv/kernel/traps.c). */
export function exception_name(code: u32): string {
  switch (code) {
    case EXC_INST_MISALIGNED: return "instruction address misaligned";
    case EXC_INST_ACCESS: return "instruction access fault";
    case EXC_INST_ILLEGAL: return "illegal instruction";
    case EXC_BREAKPOINT: return "breakpoint";
    case EXC_LOAD_MISALIGNED: return "load address misaligned";
    case EXC_LOAD_ACCESS: return "load access fault";
    case EXC_STORE_MISALIGNED: return "store (or AMO) address misaligned";
    case EXC_STORE_ACCESS: return "store (or AMO) access fault";
    case EXC_SYSCALL_U: return "environment call from U-mode";
    case EXC_SYSCALL_S: return "environment call from S-mode";
    case EXC_SYSCALL_M: return "environment call from M-mode";
    case EXC_INST_PAGE_FAULT: return "instruction page fault";
    case EXC_LOAD_PAGE_FAULT: return "load page fault";
    case EXC_STORE_PAGE_FAULT: return "store (or AMO) page fault";
    default: return "unknown exception";
  }
}

/** satp (4.1.11): MODE field and the Sv39 value. */
export const SATP_MODE_SHIFT: u32 = 60;
export const SATP_MODE_SV39: u64 = 8;
export const SATP_PPN_MASK: u64 = (<u64>1 << 44) - 1;
