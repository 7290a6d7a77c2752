/**
 * CSR numbers and bit fields, named as the RISC-V privileged spec 1.12 names
 * them (chapter 2, tables 2.2-2.5; chapter 3 for the machine-level registers,
 * chapter 4 for the supervisor-level ones).
 */

// --- Unprivileged counters (Zicntr) -----------------------------------------
export const CSR_CYCLE = 0xc00;
export const CSR_TIME = 0xc01;
export const CSR_INSTRET = 0xc02;
export const CSR_HPMCOUNTER3 = 0xc03; // .. 0xc1f

// --- Supervisor (4.1) -------------------------------------------------------
export const CSR_SSTATUS = 0x100;
export const CSR_SIE = 0x104;
export const CSR_STVEC = 0x105;
export const CSR_SCOUNTEREN = 0x106;
export const CSR_SENVCFG = 0x10a;
export const CSR_SSCRATCH = 0x140;
export const CSR_SEPC = 0x141;
export const CSR_SCAUSE = 0x142;
export const CSR_STVAL = 0x143;
export const CSR_SIP = 0x144;
export const CSR_SATP = 0x180;

// --- Machine (3.1) ----------------------------------------------------------
export const CSR_MVENDORID = 0xf11;
export const CSR_MARCHID = 0xf12;
export const CSR_MIMPID = 0xf13;
export const CSR_MHARTID = 0xf14;
export const CSR_MCONFIGPTR = 0xf15;
export const CSR_MSTATUS = 0x300;
export const CSR_MISA = 0x301;
export const CSR_MEDELEG = 0x302;
export const CSR_MIDELEG = 0x303;
export const CSR_MIE = 0x304;
export const CSR_MTVEC = 0x305;
export const CSR_MCOUNTEREN = 0x306;
export const CSR_MENVCFG = 0x30a;
export const CSR_MCOUNTINHIBIT = 0x320;
export const CSR_MHPMEVENT3 = 0x323; // .. 0x33f
export const CSR_MSCRATCH = 0x340;
export const CSR_MEPC = 0x341;
export const CSR_MCAUSE = 0x342;
export const CSR_MTVAL = 0x343;
export const CSR_MIP = 0x344;
export const CSR_MTINST = 0x34a;
export const CSR_MTVAL2 = 0x34b;
export const CSR_PMPCFG0 = 0x3a0; // .. 0x3af (even ones only on RV64)
export const CSR_PMPADDR0 = 0x3b0; // .. 0x3ef
export const CSR_MCYCLE = 0xb00;
export const CSR_MINSTRET = 0xb02;
export const CSR_MHPMCOUNTER3 = 0xb03; // .. 0xb1f

// --- Debug/trace (Sdtrig): tselect reads as "no triggers" --------------------
export const CSR_TSELECT = 0x7a0;
export const CSR_TDATA1 = 0x7a1;

// --- mstatus fields (3.1.6) -------------------------------------------------
export const MSTATUS_SIE = 1 << 1;
export const MSTATUS_MIE = 1 << 3;
export const MSTATUS_SPIE = 1 << 5;
export const MSTATUS_UBE = 1 << 6;
export const MSTATUS_MPIE = 1 << 7;
export const MSTATUS_SPP = 1 << 8;
export const MSTATUS_VS = 3 << 9;
export const MSTATUS_MPP_SHIFT = 11;
export const MSTATUS_MPP = 3 << 11;
export const MSTATUS_FS = 3 << 13;
export const MSTATUS_XS = 3 << 15;
export const MSTATUS_MPRV = 1 << 17;
export const MSTATUS_SUM = 1 << 18;
export const MSTATUS_MXR = 1 << 19;
export const MSTATUS_TVM = 1 << 20;
export const MSTATUS_TW = 1 << 21;
export const MSTATUS_TSR = 1 << 22;
/** High word (bits 32-63) of mstatus. */
export const MSTATUSH_UXL_SHIFT = 0; // bits 33:32 -> high word bits 1:0
export const MSTATUSH_SXL_SHIFT = 2; // bits 35:34 -> high word bits 3:2
export const XLEN_64 = 2;

/** The sstatus view of mstatus (4.1.1), low word. */
export const SSTATUS_MASK =
  MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_UBE | MSTATUS_SPP | MSTATUS_VS | MSTATUS_FS | MSTATUS_XS | MSTATUS_SUM | MSTATUS_MXR;

// --- Privilege levels -------------------------------------------------------
export const PRV_U = 0;
export const PRV_S = 1;
export const PRV_M = 3;

// --- Interrupts: bit numbers in mip/mie and cause codes (3.1.9) -------------
export const IRQ_S_SOFT = 1;
export const IRQ_M_SOFT = 3;
export const IRQ_S_TIMER = 5;
export const IRQ_M_TIMER = 7;
export const IRQ_S_EXT = 9;
export const IRQ_M_EXT = 11;

export const MIP_SSIP = 1 << IRQ_S_SOFT;
export const MIP_MSIP = 1 << IRQ_M_SOFT;
export const MIP_STIP = 1 << IRQ_S_TIMER;
export const MIP_MTIP = 1 << IRQ_M_TIMER;
export const MIP_SEIP = 1 << IRQ_S_EXT;
export const MIP_MEIP = 1 << IRQ_M_EXT;
export const SIP_MASK = MIP_SSIP | MIP_STIP | MIP_SEIP;

// --- Exception cause codes (3.1.15, table 3.6) ------------------------------
export const CAUSE_MISALIGNED_FETCH = 0;
export const CAUSE_FETCH_ACCESS = 1;
export const CAUSE_ILLEGAL_INSTRUCTION = 2;
export const CAUSE_BREAKPOINT = 3;
export const CAUSE_MISALIGNED_LOAD = 4;
export const CAUSE_LOAD_ACCESS = 5;
export const CAUSE_MISALIGNED_STORE = 6;
export const CAUSE_STORE_ACCESS = 7;
export const CAUSE_USER_ECALL = 8;
export const CAUSE_SUPERVISOR_ECALL = 9;
export const CAUSE_MACHINE_ECALL = 11;
export const CAUSE_FETCH_PAGE_FAULT = 12;
export const CAUSE_LOAD_PAGE_FAULT = 13;
export const CAUSE_STORE_PAGE_FAULT = 15;

// --- satp (4.1.11) ----------------------------------------------------------
export const SATP_MODE_BARE = 0;
export const SATP_MODE_SV39 = 8;

// --- Sv39 PTE bits (4.3.1 / 4.4.1) ------------------------------------------
export const PTE_V = 1 << 0;
export const PTE_R = 1 << 1;
export const PTE_W = 1 << 2;
export const PTE_X = 1 << 3;
export const PTE_U = 1 << 4;
export const PTE_G = 1 << 5;
export const PTE_A = 1 << 6;
export const PTE_D = 1 << 7;

// --- PMP (3.7) --------------------------------------------------------------
export const PMP_R = 1 << 0;
export const PMP_W = 1 << 1;
export const PMP_X = 1 << 2;
export const PMP_A_SHIFT = 3;
export const PMP_A = 3 << 3;
export const PMP_L = 1 << 7;
export const PMP_A_OFF = 0;
export const PMP_A_TOR = 1;
export const PMP_A_NA4 = 2;
export const PMP_A_NAPOT = 3;
export const PMP_COUNT = 16;

/** The names objdump and assemblers use for each CSR number. */
export const CSR_NAMES: ReadonlyMap<number, string> = (() => {
  const m = new Map<number, string>([
    [CSR_CYCLE, 'cycle'], [CSR_TIME, 'time'], [CSR_INSTRET, 'instret'],
    [CSR_SSTATUS, 'sstatus'], [CSR_SIE, 'sie'], [CSR_STVEC, 'stvec'], [CSR_SCOUNTEREN, 'scounteren'],
    [CSR_SENVCFG, 'senvcfg'], [CSR_SSCRATCH, 'sscratch'], [CSR_SEPC, 'sepc'], [CSR_SCAUSE, 'scause'],
    [CSR_STVAL, 'stval'], [CSR_SIP, 'sip'], [CSR_SATP, 'satp'],
    [CSR_MVENDORID, 'mvendorid'], [CSR_MARCHID, 'marchid'], [CSR_MIMPID, 'mimpid'], [CSR_MHARTID, 'mhartid'],
    [CSR_MCONFIGPTR, 'mconfigptr'],
    [CSR_MSTATUS, 'mstatus'], [CSR_MISA, 'misa'], [CSR_MEDELEG, 'medeleg'], [CSR_MIDELEG, 'mideleg'],
    [CSR_MIE, 'mie'], [CSR_MTVEC, 'mtvec'], [CSR_MCOUNTEREN, 'mcounteren'], [CSR_MENVCFG, 'menvcfg'],
    [CSR_MCOUNTINHIBIT, 'mcountinhibit'],
    [CSR_MSCRATCH, 'mscratch'], [CSR_MEPC, 'mepc'], [CSR_MCAUSE, 'mcause'], [CSR_MTVAL, 'mtval'],
    [CSR_MIP, 'mip'], [CSR_MTINST, 'mtinst'], [CSR_MTVAL2, 'mtval2'],
    [CSR_MCYCLE, 'mcycle'], [CSR_MINSTRET, 'minstret'],
    [CSR_TSELECT, 'tselect'], [CSR_TDATA1, 'tdata1'], [0x7a2, 'tdata2'], [0x7a3, 'tdata3'],
  ]);
  for (let i = 3; i < 32; i++) {
    m.set(0xc00 + i, `hpmcounter${i}`);
    m.set(0xb00 + i, `mhpmcounter${i}`);
    m.set(0x320 + i, `mhpmevent${i}`);
  }
  for (let i = 0; i < 16; i++) m.set(CSR_PMPCFG0 + i, `pmpcfg${i}`);
  for (let i = 0; i < 64; i++) m.set(CSR_PMPADDR0 + i, `pmpaddr${i}`);
  return m;
})();

/** CSR number from its name (or undefined). */
export const CSR_BY_NAME: ReadonlyMap<string, number> = new Map([...CSR_NAMES].map(([n, s]) => [s, n]));
