/**
 * One RV64IMAC hart (Zicsr, Zifencei; M, S and U modes; privileged spec 1.12).
 *
 * Registers
 * ---------
 * The 32 integer registers live in one Int32Array as (low word, high word)
 * pairs: x[2*i] is bits 31..0 of register i, x[2*i+1] bits 63..32. All the
 * common operations (add, logic, shifts, compares, loads and stores, address
 * arithmetic) are done on 32-bit halves with ordinary JS integer ops, which V8
 * compiles to machine integer code; a BigInt64Array over the same buffer
 * (`x64`) serves the rare wide operations (mulh*, 64-bit division of large
 * values) and CSR instructions. x0 is written freely and cleared after each
 * instruction.
 *
 * Execution
 * ---------
 * `run(budget)` executes up to `budget` instructions in a tight loop:
 * fetch through the fetch TLB, expand compressed parcels through
 * `C_EXPAND`, decode through the table of isa.ts, execute in one switch.
 * Synchronous exceptions are raised by throwing a preallocated sentinel that
 * the loop catches (no Error object, no stack trace), then the trap is taken.
 * Anything that may make an interrupt pending or enabled (CSR writes, xRET,
 * MMIO, an IrqLine of a device) sets `stopFlag`, which leaves the inner loop
 * so that interrupts are checked between instructions, never inside one.
 *
 * Misaligned loads and stores are emulated (byte by byte, each byte
 * translated, so a page-crossing access is correct and faults name the part
 * that faulted). LR/SC and AMOs must be naturally aligned: a misaligned one
 * raises the address-misaligned exception (cause 4 for LR, 6 otherwise).
 * Misaligned accesses to MMIO also raise address-misaligned.
 *
 * Counters: one cycle per instruction, including instructions that trap;
 * instret counts retired instructions. mcountinhibit is hardwired to zero and
 * the hpm counters and events read as zero (allowed by §3.1.10-11).
 */

import {
  CAUSE_BREAKPOINT, CAUSE_ILLEGAL_INSTRUCTION, CAUSE_LOAD_ACCESS, CAUSE_MISALIGNED_LOAD,
  CAUSE_MISALIGNED_STORE, CAUSE_STORE_ACCESS, CAUSE_USER_ECALL, CAUSE_FETCH_ACCESS,
  CSR_CYCLE, CSR_INSTRET, CSR_MCAUSE, CSR_MCONFIGPTR, CSR_MCOUNTEREN, CSR_MCOUNTINHIBIT, CSR_MCYCLE,
  CSR_MEDELEG, CSR_MENVCFG, CSR_MEPC, CSR_MHARTID, CSR_MIDELEG, CSR_MIE, CSR_MIMPID, CSR_MINSTRET,
  CSR_MIP, CSR_MISA, CSR_MARCHID, CSR_MSCRATCH, CSR_MSTATUS, CSR_MTVAL, CSR_MTVEC, CSR_MVENDORID,
  CSR_PMPADDR0, CSR_PMPCFG0, CSR_SATP, CSR_SCAUSE, CSR_SCOUNTEREN, CSR_SENVCFG, CSR_SEPC, CSR_SIE,
  CSR_SIP, CSR_SSCRATCH, CSR_SSTATUS, CSR_STVAL, CSR_STVEC, CSR_TIME,
  IRQ_M_EXT, IRQ_M_SOFT, IRQ_M_TIMER, IRQ_S_EXT, IRQ_S_SOFT, IRQ_S_TIMER,
  MIP_MEIP, MIP_MSIP, MIP_MTIP, MIP_SEIP, MIP_SSIP, MIP_STIP, MSTATUS_MIE, MSTATUS_MPIE, MSTATUS_MPP,
  MSTATUS_MPP_SHIFT, MSTATUS_MPRV, MSTATUS_MXR, MSTATUS_SIE, MSTATUS_SPIE, MSTATUS_SPP, MSTATUS_SUM,
  MSTATUS_TSR, MSTATUS_TVM, MSTATUS_TW, PMP_A_SHIFT, PMP_A_TOR, PMP_COUNT, PRV_M, PRV_S, PRV_U,
  SATP_MODE_BARE, SATP_MODE_SV39, SSTATUS_MASK,
} from './csr.js';
import { C_EXPAND, Op, decode } from './isa.js';
import { ACCESS_FETCH, ACCESS_LOAD, ACCESS_STORE, Mmu, TLB_MASK } from './mmu.js';
import type { PhysMemory } from '../../machine/ram.js';
import type { IrqLine } from '../../machine/bus.js';

/** What a hart needs of the board around it. */
export interface HartEnv {
  readonly mem: PhysMemory;
  /** MMIO read of 1, 2 or 4 bytes: the unsigned value, or -1 for an access fault. */
  ioRead(paddr: number, size: 1 | 2 | 4): number;
  /** MMIO write: false for an access fault. */
  ioWrite(paddr: number, size: 1 | 2 | 4, value: number): boolean;
  /** The CLINT's mtime, for the `time` CSR. */
  mtime(): number;
  /**
   * A store to RAM went through the slow path or was atomic (to break other
   * harts' reservations, watch tohost …). `off` is the RAM buffer offset.
   */
  observeStore(hart: Hart, off: number, len: number): void;
  /** This hart took an LR reservation at RAM buffer offset `off`. */
  reserved(hart: Hart, off: number): void;
}

/**
 * What a debugger (emulator/debug/debugger.ts) asks of a hart. Only slow
 * paths consult it: pages with a breakpoint are never cached in the fetch
 * TLB and watched RAM pages never in the load/store TLBs (the debugger
 * flushes every TLB when it adds one), so fetches there come through
 * fetchSlow and accesses through the slow load/store paths, which ask here.
 */
export interface HartDebug {
  /** Is there a breakpoint at this virtual pc (for this hart)? */
  breakAt(hart: Hart, pc: bigint): boolean;
  /** An access to RAM (buffer offset `off`, `len` bytes) is about to happen; true when a watchpoint fires. */
  access(hart: Hart, off: number, len: number, write: boolean): boolean;
}

/** Thrown (never an Error: no stack trace) to unwind a faulting instruction. */
const TRAP = { trap: true };
/** Thrown from fetchSlow to stop before an instruction with a breakpoint. */
const BREAK = { break: true };

const TWO32 = 4294967296;
const MISA_VALUE = (2n << 62n) | BigInt((1 << 0) | (1 << 2) | (1 << 8) | (1 << 12) | (1 << 18) | (1 << 20)); // RV64 ACIMSU
const MSTATUS_HI = 0xa; // UXL = SXL = 2 (64-bit), read-only
const MSTATUS_WRITABLE =
  MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP | MSTATUS_MPP | MSTATUS_MPRV |
  MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR;
const MSTATUS_TLB_BITS = MSTATUS_MPRV | MSTATUS_MPP | MSTATUS_SUM | MSTATUS_MXR;
const SSTATUS_WRITABLE = MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR;
/** medeleg: every standard exception but ecall from M (§3.1.8). */
const MEDELEG_MASK = 0xb3ff & ~(1 << 11);
const MIDELEG_MASK = MIP_SSIP | MIP_STIP | MIP_SEIP;
const MIE_MASK = MIP_SSIP | MIP_MSIP | MIP_STIP | MIP_MTIP | MIP_SEIP | MIP_MEIP;
const MIP_SW_MASK = MIP_SSIP | MIP_STIP | MIP_SEIP;
const U64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const S64 = (v: bigint): bigint => BigInt.asIntN(64, v);

export class Hart {
  /** Integer registers as (lo, hi) word pairs. */
  readonly x = new Int32Array(64);
  readonly x64 = new BigInt64Array(this.x.buffer);
  pcLo = 0;
  pcHi = 0;
  priv = PRV_M;

  // --- CSR state -------------------------------------------------------------
  mstatus = 0; // low word; high word is MSTATUS_HI
  medeleg = 0;
  mideleg = 0;
  mie = 0;
  /** mip bits driven by devices (MSIP, MTIP, MEIP, and the PLIC's SEIP). */
  mipHw = 0;
  /** mip bits written by software (SSIP, STIP, SEIP). */
  mipSw = 0;
  mtvec = 0n;
  stvec = 0n;
  mepc = 0n;
  sepc = 0n;
  mcause = 0n;
  scause = 0n;
  mtval = 0n;
  stval = 0n;
  mscratch = 0n;
  sscratch = 0n;
  mcounteren = 0;
  scounteren = 0;
  menvcfg = 0n;
  senvcfg = 0n;
  satpMode = SATP_MODE_BARE;
  satpAsid = 0;
  satpPpn = 0;

  // --- Counters --------------------------------------------------------------
  /** Instructions retired. */
  instret = 0;
  /** Instructions that trapped (cycles = instret + excCount). */
  excCount = 0;
  private instretDelta = 0n;
  private cycleDelta = 0n;

  // --- Run state ---------------------------------------------------------------
  /** Leave the inner loop after the current instruction. */
  stopFlag = false;
  /** Parked in WFI until (mip & mie) != 0. */
  wfi = false;
  /** Stopped for HSM (not started) or by the board. */
  halted = false;
  /** LR reservation: RAM buffer offset of the 8-byte granule, or -1. */
  resvOff = -1;

  // --- Debugger ----------------------------------------------------------------
  /** The attached debugger's hooks, or null (the hot paths never look). */
  debug: HartDebug | null = null;
  /**
   * Why the hart stopped for the debugger: 'break' before the instruction at
   * pc (not executed), 'watch' after the instruction that made the access,
   * 'step' after a single step; undefined while running. run() returns at once
   * while it is set: the debugger clears it to go on.
   */
  debugStop: 'break' | 'watch' | 'step' | undefined = undefined;
  /** Go past a breakpoint at this pc once (resuming from it); -1 for none. */
  skipBreakPc = -1n;
  /**
   * Execute one instruction at the hart's next turn, then stop for the
   * debugger ('step'): a step of a hart that waits (WFI, HSM) while the
   * machine runs on until it can execute.
   */
  stepOnce = false;

  readonly mmu: Mmu;
  private readonly mem: PhysMemory;
  private readonly i32: Int32Array;
  private readonly u16: Uint16Array;
  private readonly u8: Uint8Array;
  private readonly i16: Int16Array;
  private readonly i8: Int8Array;
  private trapCause = 0;
  private trapTvalLo = 0;
  private trapTvalHi = 0;
  /** Scratch result of 64-bit loads on the slow path. */
  private tmpHi = 0;

  constructor(readonly hartId: number, private readonly env: HartEnv) {
    this.mem = env.mem;
    this.i32 = env.mem.i32;
    this.u16 = env.mem.u16;
    this.u8 = env.mem.u8;
    this.i16 = env.mem.i16;
    this.i8 = env.mem.i8;
    this.mmu = new Mmu(this, env.mem);
  }

  // ===========================================================================
  // Registers and pc as BigInt, for hosts (loader, debugger, tests)
  // ===========================================================================

  get pc(): bigint {
    return U64((BigInt(this.pcHi) << 32n) | BigInt(this.pcLo >>> 0));
  }

  set pc(v: bigint) {
    const u = U64(v);
    this.pcLo = Number(u & 0xffffffffn) | 0;
    this.pcHi = Number(u >> 32n) | 0;
  }

  getReg(i: number): bigint {
    return U64(this.x64[i]);
  }

  setReg(i: number, v: bigint): void {
    if (i !== 0) this.x64[i] = S64(v);
  }

  /** Reset to the state QEMU gives a hart at the reset vector. */
  reset(pc: bigint): void {
    this.x.fill(0);
    this.pc = pc;
    this.priv = PRV_M;
    this.mstatus = 0;
    this.medeleg = this.mideleg = this.mie = this.mipSw = 0;
    this.mtvec = this.stvec = this.mepc = this.sepc = this.mcause = this.scause = 0n;
    this.mtval = this.stval = this.mscratch = this.sscratch = 0n;
    this.mcounteren = this.scounteren = 0;
    this.menvcfg = this.senvcfg = 0n;
    this.satpMode = SATP_MODE_BARE;
    this.satpAsid = this.satpPpn = 0;
    this.mmu.pmpcfg.fill(0);
    this.mmu.pmpaddr.fill(0n);
    this.mmu.updatePmp();
    this.mmu.flush();
    this.wfi = false;
    this.halted = false;
    this.resvOff = -1;
  }

  /** An interrupt wire into mip (MSIP, MTIP, MEIP or SEIP). */
  irqLine(bit: number): IrqLine {
    const mask = 1 << bit;
    return {
      set: (level: boolean) => {
        const old = this.mipHw;
        this.mipHw = level ? old | mask : old & ~mask;
        if (this.mipHw !== old) this.stopFlag = true;
      },
    };
  }

  get mip(): number {
    return this.mipHw | this.mipSw;
  }

  /** Would WFI end now (§3.3.3: any pending and enabled interrupt, ignoring xIE)? */
  wakeable(): boolean {
    return (this.mip & this.mie) !== 0;
  }

  // ===========================================================================
  // The interpreter
  // ===========================================================================

  /**
   * Execute up to `budget` instructions. Returns the number executed
   * (trapping ones included). Stops early on WFI, halt, or when the host sets
   * `stopFlag` from outside (power-off, breakpoint).
   */
  run(budget: number, interrupts = true): number {
    let done = 0;
    if (this.debugStop !== undefined) return 0;
    if (this.stepOnce) budget = Math.min(budget, 1);
    if (interrupts) this.checkInterrupts();
    while (done < budget && !this.wfi && !this.halted) {
      this.stopFlag = false;
      done += this.inner(budget - done);
      if (this.debugStop !== undefined) break;
      if (this.stopFlag) {
        if (interrupts) this.checkInterrupts();
        if (this.externalStop) break;
      }
    }
    if (this.stepOnce && done > 0 && this.debugStop === undefined) {
      this.stepOnce = false;
      this.debugStop = 'step';
    }
    return done;
  }

  /** A CSR's value as the debugger sees it (no privilege checks, no side effects); undefined when it does not exist. */
  debugCsrRead(csr: number): bigint | undefined {
    const priv = this.priv;
    this.priv = PRV_M;
    try {
      return this.csrRead(csr);
    } catch (e) {
      if (e !== TRAP) throw e;
      return undefined;
    } finally {
      this.priv = priv;
    }
  }

  /** Write a CSR for the debugger, with the instruction's legalisation; false when it does not exist or is read-only. */
  debugCsrWrite(csr: number, v: bigint): boolean {
    if ((csr >>> 10) === 3) return false; // read-only by number (§2.1)
    if (this.debugCsrRead(csr) === undefined) return false;
    const priv = this.priv;
    this.priv = PRV_M;
    try {
      this.csrWrite(csr, v);
      // csrWrite counts the writing instruction's own retirement (§3.3.1); a debugger write is no instruction.
      if (csr === CSR_MCYCLE) this.cycleDelta += 1n;
      else if (csr === CSR_MINSTRET) this.instretDelta += 1n;
      return true;
    } catch (e) {
      if (e !== TRAP) throw e;
      return false;
    } finally {
      this.priv = priv;
    }
  }

  /** Stop for the debugger after this instruction (a watchpoint fired). */
  private watchFired(): void {
    this.debugStop = 'watch';
    this.stopFlag = true;
  }

  /** Set by the board to leave run() at the next instruction boundary. */
  externalStop = false;

  /** Raise a synchronous exception from inside an instruction. */
  raise(cause: number, tvalLo: number, tvalHi: number): never {
    this.trapCause = cause;
    this.trapTvalLo = tvalLo;
    this.trapTvalHi = tvalHi;
    throw TRAP;
  }

  private illegal(insn: number): never {
    return this.raise(CAUSE_ILLEGAL_INSTRUCTION, insn, 0);
  }

  /**
   * The interpreter loop. pc and the retired count live in locals; they are
   * written back to the hart ("sync") before anything that may raise an
   * exception or read them (slow paths, CSR instructions), and at the end.
   * An exception unwinds to the catch below, which takes the trap and goes on.
   */
  private inner(budget: number): number {
    const x = this.x;
    let done = 0;
    let retired = 0;
    let pcLo = this.pcLo;
    let pcHi = this.pcHi;
    // The page being executed: its TLB tag and RAM offset, kept in locals
    // while straight-line code stays on it; dropped at every sync, since a
    // slow path may flush the TLB.
    let fpTag = -1;
    let fpHi = 0;
    let fpOff = 0;
    const mmu = this.mmu;
    const ftLo = mmu.ftLo, ftHi = mmu.ftHi, ftOff = mmu.ftOff;
    const ltLo = mmu.ltLo, ltHi = mmu.ltHi, ltOff = mmu.ltOff;
    const stLo = mmu.stLo, stHi = mmu.stHi, stOff = mmu.stOff;
    const u16 = this.u16, u8 = this.u8, i8 = this.i8, i16 = this.i16, i32 = this.i32;
    for (;;) {
    try {
    while (done < budget) {
      // ---- fetch ------------------------------------------------------------
      const vpn = pcLo >>> 12;
      let insn: number;
      if (vpn === fpTag && pcHi === fpHi) {
        const hw = (fpOff + (pcLo & 0xfff)) >>> 1;
        insn = u16[hw];
        if ((insn & 3) === 3) {
          if ((pcLo & 0xfff) !== 0xffe) insn |= u16[hw + 1] << 16;
          else { this.pcLo = pcLo; this.pcHi = pcHi; this.instret += retired; retired = 0; fpTag = -1; insn = this.fetchSlow(); }
        }
      } else if (ftLo[vpn & TLB_MASK] === vpn && ftHi[vpn & TLB_MASK] === pcHi) {
        fpTag = vpn;
        fpHi = pcHi;
        fpOff = ftOff[vpn & TLB_MASK];
        const hw = (fpOff + (pcLo & 0xfff)) >>> 1;
        insn = u16[hw];
        if ((insn & 3) === 3) {
          if ((pcLo & 0xfff) !== 0xffe) insn |= u16[hw + 1] << 16;
          else { this.pcLo = pcLo; this.pcHi = pcHi; this.instret += retired; retired = 0; fpTag = -1; insn = this.fetchSlow(); }
        }
      } else {
        this.pcLo = pcLo; this.pcHi = pcHi; this.instret += retired; retired = 0; fpTag = -1;
        insn = this.fetchSlow();
      }
      let ilen = 4;
      const raw = insn;
      if ((insn & 3) !== 3) {
        const e = C_EXPAND[insn];
        if (e === 0) { this.pcLo = pcLo; this.pcHi = pcHi; this.instret += retired; retired = 0; fpTag = -1; this.illegal(insn); }
        insn = e;
        ilen = 2;
      }
      let npcLo = (pcLo + ilen) | 0;
      let npcHi = (npcLo >>> 0) < ilen ? (pcHi + 1) | 0 : pcHi;

      const d = (insn >> 6) & 62; // 2 * rd
      const s1 = (insn >> 14) & 62; // 2 * rs1
      const s2 = (insn >> 19) & 62; // 2 * rs2

      // ---- execute ------------------------------------------------------------
      const op = decode(insn);
      switch (op) {
        case Op.LUI:
          x[d] = insn & 0xfffff000;
          x[d + 1] = insn >> 31;
          break;
        case Op.AUIPC: {
          const imm = insn & 0xfffff000;
          const l = (pcLo + imm) | 0;
          x[d + 1] = (pcHi + (imm >> 31) + ((l >>> 0) < (pcLo >>> 0) ? 1 : 0)) | 0;
          x[d] = l;
          break;
        }
        case Op.JAL: {
          const imm = ((insn >> 31) << 20) | (insn & 0xff000) | (((insn >> 20) & 1) << 11) | (((insn >> 21) & 0x3ff) << 1);
          x[d] = npcLo;
          x[d + 1] = npcHi;
          npcLo = (pcLo + imm) | 0;
          npcHi = (pcHi + (imm >> 31) + ((npcLo >>> 0) < (pcLo >>> 0) ? 1 : 0)) | 0;
          break;
        }
        case Op.JALR: {
          const imm = insn >> 20;
          const bl = x[s1], bh = x[s1 + 1];
          const l = (bl + imm) | 0;
          const h = (bh + (imm >> 31) + ((l >>> 0) < (bl >>> 0) ? 1 : 0)) | 0;
          x[d] = npcLo;
          x[d + 1] = npcHi;
          npcLo = l & ~1;
          npcHi = h;
          break;
        }
        case Op.BEQ:
        case Op.BNE:
        case Op.BLT:
        case Op.BGE:
        case Op.BLTU:
        case Op.BGEU: {
          const al = x[s1], ah = x[s1 + 1], bl = x[s2], bh = x[s2 + 1];
          let taken: boolean;
          switch ((insn >> 12) & 7) {
            case 0: taken = al === bl && ah === bh; break;
            case 1: taken = al !== bl || ah !== bh; break;
            case 4: taken = ah < bh || (ah === bh && (al >>> 0) < (bl >>> 0)); break;
            case 5: taken = ah > bh || (ah === bh && (al >>> 0) >= (bl >>> 0)); break;
            case 6: taken = (ah >>> 0) < (bh >>> 0) || (ah === bh && (al >>> 0) < (bl >>> 0)); break;
            default: taken = (ah >>> 0) > (bh >>> 0) || (ah === bh && (al >>> 0) >= (bl >>> 0)); break;
          }
          if (taken) {
            const imm = ((insn >> 31) << 12) | (((insn >> 7) & 1) << 11) | (((insn >> 25) & 0x3f) << 5) | (((insn >> 8) & 0xf) << 1);
            npcLo = (pcLo + imm) | 0;
            npcHi = (pcHi + (imm >> 31) + ((npcLo >>> 0) < (pcLo >>> 0) ? 1 : 0)) | 0;
          }
          break;
        }
        // ---- loads ------------------------------------------------------------
        case Op.LB:
        case Op.LH:
        case Op.LW:
        case Op.LBU:
        case Op.LHU:
        case Op.LWU:
        case Op.LD: {
          const imm = insn >> 20;
          const bl = x[s1], bh = x[s1 + 1];
          const lo = (bl + imm) | 0;
          const hi = (bh + (imm >> 31) + ((lo >>> 0) < (bl >>> 0) ? 1 : 0)) | 0;
          const f3 = (insn >> 12) & 7;
          const size = 1 << (f3 & 3);
          const t = lo >>> 12;
          const i = t & TLB_MASK;
          let vl: number, vh: number;
          if (ltLo[i] === t && ltHi[i] === hi && (lo & (size - 1)) === 0) {
            const off = ltOff[i] + (lo & 0xfff);
            switch (f3) {
              case 0: vl = i8[off]; vh = vl >> 31; break;
              case 1: vl = i16[off >>> 1]; vh = vl >> 31; break;
              case 2: vl = i32[off >>> 2]; vh = vl >> 31; break;
              case 3: vl = i32[off >>> 2]; vh = i32[(off >>> 2) + 1]; break;
              case 4: vl = u8[off]; vh = 0; break;
              case 5: vl = u16[off >>> 1]; vh = 0; break;
              default: vl = i32[off >>> 2]; vh = 0; break;
            }
          } else {
            this.pcLo = pcLo; this.pcHi = pcHi; this.instret += retired; retired = 0; fpTag = -1;
            vl = this.loadSlow(lo, hi, size);
            vh = this.tmpHi;
            switch (f3) {
              case 0: vl = (vl << 24) >> 24; vh = vl >> 31; break;
              case 1: vl = (vl << 16) >> 16; vh = vl >> 31; break;
              case 2: vl |= 0; vh = vl >> 31; break;
              case 3: vl |= 0; break;
              default: vl |= 0; vh = 0; break;
            }
          }
          x[d] = vl;
          x[d + 1] = vh;
          break;
        }
        // ---- stores -----------------------------------------------------------
        case Op.SB:
        case Op.SH:
        case Op.SW:
        case Op.SD: {
          const imm = ((insn >> 25) << 5) | ((insn >> 7) & 31);
          const bl = x[s1], bh = x[s1 + 1];
          const lo = (bl + imm) | 0;
          const hi = (bh + (imm >> 31) + ((lo >>> 0) < (bl >>> 0) ? 1 : 0)) | 0;
          const f3 = (insn >> 12) & 7;
          const size = 1 << f3;
          const t = lo >>> 12;
          const i = t & TLB_MASK;
          if (stLo[i] === t && stHi[i] === hi && (lo & (size - 1)) === 0) {
            const off = stOff[i] + (lo & 0xfff);
            switch (f3) {
              case 0: u8[off] = x[s2]; break;
              case 1: u16[off >>> 1] = x[s2]; break;
              case 2: i32[off >>> 2] = x[s2]; break;
              default: i32[off >>> 2] = x[s2]; i32[(off >>> 2) + 1] = x[s2 + 1]; break;
            }
          } else {
            this.pcLo = pcLo; this.pcHi = pcHi; this.instret += retired; retired = 0; fpTag = -1;
            this.storeSlow(lo, hi, size, x[s2], x[s2 + 1]);
          }
          break;
        }
        // ---- integer register-immediate ----------------------------------------
        case Op.ADDI: {
          const imm = insn >> 20;
          const bl = x[s1];
          const l = (bl + imm) | 0;
          x[d + 1] = (x[s1 + 1] + (imm >> 31) + ((l >>> 0) < (bl >>> 0) ? 1 : 0)) | 0;
          x[d] = l;
          break;
        }
        case Op.SLTI: {
          const imm = insn >> 20, ih = imm >> 31, ah = x[s1 + 1];
          x[d] = ah < ih || (ah === ih && (x[s1] >>> 0) < (imm >>> 0)) ? 1 : 0;
          x[d + 1] = 0;
          break;
        }
        case Op.SLTIU: {
          const imm = insn >> 20, ih = imm >> 31, ah = x[s1 + 1];
          x[d] = (ah >>> 0) < (ih >>> 0) || (ah === ih && (x[s1] >>> 0) < (imm >>> 0)) ? 1 : 0;
          x[d + 1] = 0;
          break;
        }
        case Op.XORI: { const imm = insn >> 20; x[d] = x[s1] ^ imm; x[d + 1] = x[s1 + 1] ^ (imm >> 31); break; }
        case Op.ORI: { const imm = insn >> 20; x[d] = x[s1] | imm; x[d + 1] = x[s1 + 1] | (imm >> 31); break; }
        case Op.ANDI: { const imm = insn >> 20; x[d] = x[s1] & imm; x[d + 1] = x[s1 + 1] & (imm >> 31); break; }
        case Op.SLLI: this.sll(d, x[s1], x[s1 + 1], (insn >> 20) & 63); break;
        case Op.SRLI: this.srl(d, x[s1], x[s1 + 1], (insn >> 20) & 63); break;
        case Op.SRAI: this.sra(d, x[s1], x[s1 + 1], (insn >> 20) & 63); break;
        case Op.ADDIW: { const v = (x[s1] + (insn >> 20)) | 0; x[d] = v; x[d + 1] = v >> 31; break; }
        case Op.SLLIW: { const v = x[s1] << ((insn >> 20) & 31); x[d] = v; x[d + 1] = v >> 31; break; }
        case Op.SRLIW: { const v = (x[s1] >>> ((insn >> 20) & 31)) | 0; x[d] = v; x[d + 1] = v >> 31; break; }
        case Op.SRAIW: { const v = x[s1] >> ((insn >> 20) & 31); x[d] = v; x[d + 1] = v >> 31; break; }
        // ---- integer register-register -----------------------------------------
        case Op.ADD: {
          const al = x[s1], bl = x[s2];
          const l = (al + bl) | 0;
          x[d + 1] = (x[s1 + 1] + x[s2 + 1] + ((l >>> 0) < (al >>> 0) ? 1 : 0)) | 0;
          x[d] = l;
          break;
        }
        case Op.SUB: {
          const al = x[s1], bl = x[s2];
          const l = (al - bl) | 0;
          x[d + 1] = (x[s1 + 1] - x[s2 + 1] - ((al >>> 0) < (bl >>> 0) ? 1 : 0)) | 0;
          x[d] = l;
          break;
        }
        case Op.SLL: this.sll(d, x[s1], x[s1 + 1], x[s2] & 63); break;
        case Op.SRL: this.srl(d, x[s1], x[s1 + 1], x[s2] & 63); break;
        case Op.SRA: this.sra(d, x[s1], x[s1 + 1], x[s2] & 63); break;
        case Op.SLT: {
          const ah = x[s1 + 1], bh = x[s2 + 1];
          x[d] = ah < bh || (ah === bh && (x[s1] >>> 0) < (x[s2] >>> 0)) ? 1 : 0;
          x[d + 1] = 0;
          break;
        }
        case Op.SLTU: {
          const ah = x[s1 + 1], bh = x[s2 + 1];
          x[d] = (ah >>> 0) < (bh >>> 0) || (ah === bh && (x[s1] >>> 0) < (x[s2] >>> 0)) ? 1 : 0;
          x[d + 1] = 0;
          break;
        }
        case Op.XOR: x[d] = x[s1] ^ x[s2]; x[d + 1] = x[s1 + 1] ^ x[s2 + 1]; break;
        case Op.OR: x[d] = x[s1] | x[s2]; x[d + 1] = x[s1 + 1] | x[s2 + 1]; break;
        case Op.AND: x[d] = x[s1] & x[s2]; x[d + 1] = x[s1 + 1] & x[s2 + 1]; break;
        case Op.ADDW: { const v = (x[s1] + x[s2]) | 0; x[d] = v; x[d + 1] = v >> 31; break; }
        case Op.SUBW: { const v = (x[s1] - x[s2]) | 0; x[d] = v; x[d + 1] = v >> 31; break; }
        case Op.SLLW: { const v = x[s1] << (x[s2] & 31); x[d] = v; x[d + 1] = v >> 31; break; }
        case Op.SRLW: { const v = (x[s1] >>> (x[s2] & 31)) | 0; x[d] = v; x[d + 1] = v >> 31; break; }
        case Op.SRAW: { const v = x[s1] >> (x[s2] & 31); x[d] = v; x[d + 1] = v >> 31; break; }
        // ---- M ------------------------------------------------------------------
        case Op.MUL: this.mul(d, x[s1], x[s1 + 1], x[s2], x[s2 + 1]); break;
        case Op.MULH: this.x64[d >> 1] = S64((this.x64[s1 >> 1] * this.x64[s2 >> 1]) >> 64n); break;
        case Op.MULHSU: this.x64[d >> 1] = S64((this.x64[s1 >> 1] * U64(this.x64[s2 >> 1])) >> 64n); break;
        case Op.MULHU: this.x64[d >> 1] = S64((U64(this.x64[s1 >> 1]) * U64(this.x64[s2 >> 1])) >> 64n); break;
        case Op.DIV:
        case Op.DIVU:
        case Op.REM:
        case Op.REMU: this.div64(d, s1, s2, (insn >> 12) & 3); break;
        case Op.MULW: { const v = Math.imul(x[s1], x[s2]); x[d] = v; x[d + 1] = v >> 31; break; }
        case Op.DIVW: {
          const a = x[s1], b = x[s2];
          const v = b === 0 ? -1 : a === -0x80000000 && b === -1 ? a : (a / b) | 0;
          x[d] = v; x[d + 1] = v >> 31;
          break;
        }
        case Op.DIVUW: {
          const a = x[s1] >>> 0, b = x[s2] >>> 0;
          const v = b === 0 ? -1 : Math.floor(a / b) | 0;
          x[d] = v; x[d + 1] = v >> 31;
          break;
        }
        case Op.REMW: {
          const a = x[s1], b = x[s2];
          const v = b === 0 ? a : a === -0x80000000 && b === -1 ? 0 : a % b | 0;
          x[d] = v; x[d + 1] = v >> 31;
          break;
        }
        case Op.REMUW: {
          const a = x[s1] >>> 0, b = x[s2] >>> 0;
          const v = b === 0 ? a | 0 : a % b | 0;
          x[d] = v; x[d + 1] = v >> 31;
          break;
        }
        // ---- A --------------------------------------------------------------------
        case Op.LR_W: case Op.LR_D: case Op.SC_W: case Op.SC_D:
        case Op.AMOSWAP_W: case Op.AMOADD_W: case Op.AMOXOR_W: case Op.AMOAND_W: case Op.AMOOR_W:
        case Op.AMOMIN_W: case Op.AMOMAX_W: case Op.AMOMINU_W: case Op.AMOMAXU_W:
        case Op.AMOSWAP_D: case Op.AMOADD_D: case Op.AMOXOR_D: case Op.AMOAND_D: case Op.AMOOR_D:
        case Op.AMOMIN_D: case Op.AMOMAX_D: case Op.AMOMINU_D: case Op.AMOMAXU_D:
          this.pcLo = pcLo; this.pcHi = pcHi; this.instret += retired; retired = 0; fpTag = -1;
          this.atomic(insn, d, s1, s2);
          break;
        // ---- fences ---------------------------------------------------------------
        case Op.FENCE:
          break; // one thread, sequentially consistent memory: nothing to order
        case Op.FENCE_I:
          break; // no instruction cache: fetches always read memory
        // ---- system -----------------------------------------------------------------
        case Op.CSRRW: case Op.CSRRS: case Op.CSRRC: case Op.CSRRWI: case Op.CSRRSI: case Op.CSRRCI:
          this.pcLo = pcLo; this.pcHi = pcHi; this.instret += retired; retired = 0; fpTag = -1;
          this.csrInstruction(insn, raw);
          break;
        case Op.ECALL:
          this.pcLo = pcLo; this.pcHi = pcHi; this.instret += retired; retired = 0; fpTag = -1;
          this.raise(CAUSE_USER_ECALL + this.priv, 0, 0);
          break;
        case Op.EBREAK:
          this.pcLo = pcLo; this.pcHi = pcHi; this.instret += retired; retired = 0; fpTag = -1;
          this.raise(CAUSE_BREAKPOINT, pcLo, pcHi);
          break;
        case Op.MRET:
        case Op.SRET: {
          this.pcLo = pcLo; this.pcHi = pcHi; this.instret += retired; retired = 0; fpTag = -1;
          const [l, h] = this.xret(raw, op === Op.MRET);
          npcLo = l;
          npcHi = h;
          break;
        }
        case Op.WFI:
          this.pcLo = pcLo; this.pcHi = pcHi; this.instret += retired; retired = 0; fpTag = -1;
          // §3.1.6.5: TW traps WFI in S-mode; in U-mode WFI is illegal (S exists).
          if (this.priv === PRV_U || (this.priv === PRV_S && (this.mstatus & MSTATUS_TW) !== 0)) this.illegal(raw);
          if (!this.wakeable()) {
            this.wfi = true;
            this.stopFlag = true;
          }
          break;
        case Op.SFENCE_VMA:
          this.pcLo = pcLo; this.pcHi = pcHi; this.instret += retired; retired = 0; fpTag = -1;
          if (this.priv === PRV_U || (this.priv === PRV_S && (this.mstatus & MSTATUS_TVM) !== 0)) this.illegal(raw);
          if (s1 === 0) this.mmu.flush();
          else this.mmu.flushVa(x[s1], x[s1 + 1]);
          break;
        default:
          this.pcLo = pcLo; this.pcHi = pcHi; this.instret += retired; retired = 0; fpTag = -1;
          this.illegal(raw);
      }
      x[0] = 0;
      x[1] = 0;
      pcLo = npcLo;
      pcHi = npcHi;
      retired++;
      done++;
      if (this.stopFlag) break;
    }
    break;
    } catch (e) {
      // A breakpoint: fetchSlow's callers synced pc and the count; nothing ran.
      if (e === BREAK) return done;
      if (e !== TRAP) throw e;
      // The faulting instruction synced pc and the count before it raised.
      done++;
      this.excCount++;
      this.takeTrap(this.trapCause, this.trapTvalLo, this.trapTvalHi, false);
      pcLo = this.pcLo;
      pcHi = this.pcHi;
    }
    }
    this.pcLo = pcLo;
    this.pcHi = pcHi;
    this.instret += retired;
    return done;
  }

  // ===========================================================================
  // Shifts and multiply/divide on word pairs
  // ===========================================================================

  private sll(d: number, l: number, h: number, sh: number): void {
    const x = this.x;
    if (sh === 0) { x[d] = l; x[d + 1] = h; }
    else if (sh < 32) { x[d + 1] = (h << sh) | (l >>> (32 - sh)); x[d] = l << sh; }
    else { x[d + 1] = l << (sh - 32); x[d] = 0; }
  }

  private srl(d: number, l: number, h: number, sh: number): void {
    const x = this.x;
    if (sh === 0) { x[d] = l; x[d + 1] = h; }
    else if (sh < 32) { x[d] = (l >>> sh) | (h << (32 - sh)); x[d + 1] = (h >>> sh) | 0; }
    else { x[d] = (h >>> (sh - 32)) | 0; x[d + 1] = 0; }
  }

  private sra(d: number, l: number, h: number, sh: number): void {
    const x = this.x;
    if (sh === 0) { x[d] = l; x[d + 1] = h; }
    else if (sh < 32) { x[d] = (l >>> sh) | (h << (32 - sh)); x[d + 1] = h >> sh; }
    else { x[d] = h >> (sh - 32); x[d + 1] = h >> 31; }
  }

  /** Low 64 bits of a 64x64 product, on 16-bit limbs (every partial product exact). */
  private mul(d: number, al: number, ah: number, bl: number, bh: number): void {
    const x = this.x;
    // Both operands sign-extended 32-bit values with a small product: one double multiply.
    if (ah === al >> 31 && bh === bl >> 31) {
      const p = al * bl;
      if (p <= 9007199254740991 && p >= -9007199254740991) {
        const hi = Math.floor(p / TWO32);
        x[d] = (p - hi * TWO32) | 0;
        x[d + 1] = hi | 0;
        return;
      }
    }
    const a0 = al & 0xffff, a1 = al >>> 16, a2 = ah & 0xffff, a3 = ah >>> 16;
    const b0 = bl & 0xffff, b1 = bl >>> 16, b2 = bh & 0xffff, b3 = bh >>> 16;
    let t = a0 * b0;
    const r0 = t & 0xffff;
    t = Math.floor(t / 65536) + a1 * b0 + a0 * b1;
    const r1 = t % 65536;
    t = Math.floor(t / 65536) + a2 * b0 + a1 * b1 + a0 * b2;
    const r2 = t % 65536;
    t = Math.floor(t / 65536) + a3 * b0 + a2 * b1 + a1 * b2 + a0 * b3;
    const r3 = t % 65536;
    x[d] = r0 | (r1 << 16);
    x[d + 1] = r2 | (r3 << 16);
  }

  /** DIV, DIVU, REM, REMU (§7.2): division by zero and overflow give the spec's values. */
  private div64(d: number, s1: number, s2: number, kind: number): void {
    const x = this.x;
    const al = x[s1], ah = x[s1 + 1], bl = x[s2], bh = x[s2 + 1];
    const signed = (kind & 1) === 0; // DIV=4 (0b100), DIVU=5, REM=6, REMU=7 in funct3
    const rem = (kind & 2) !== 0;
    // Fast path: both operands fit in 32 bits of the operation's signedness.
    if (signed ? ah === al >> 31 && bh === bl >> 31 : ah === 0 && bh === 0) {
      const a = signed ? al : al >>> 0;
      const b = signed ? bl : bl >>> 0;
      let v: number;
      if (b === 0) v = rem ? a : -1;
      else if (rem) v = a % b;
      else v = Math.trunc(a / b);
      // a / b for 32-bit operands never overflows 64 bits (-2^31 / -1 = 2^31).
      const hi = Math.floor(v / TWO32);
      x[d] = (v - hi * TWO32) | 0;
      x[d + 1] = hi | 0;
      return;
    }
    const x64 = this.x64;
    const A = signed ? x64[s1 >> 1] : U64(x64[s1 >> 1]);
    const B = signed ? x64[s2 >> 1] : U64(x64[s2 >> 1]);
    let r: bigint;
    if (B === 0n) r = rem ? A : -1n;
    else if (signed && A === -(1n << 63n) && B === -1n) r = rem ? 0n : A;
    else r = rem ? A % B : A / B;
    x64[d >> 1] = S64(r);
  }

  // ===========================================================================
  // Memory: slow paths
  // ===========================================================================

  private fetchSlow(): number {
    const lo = this.pcLo, hi = this.pcHi;
    if (this.debug !== null) {
      const pc = this.pc;
      if (this.debug.breakAt(this, pc)) {
        if (this.skipBreakPc === pc) this.skipBreakPc = -1n;
        else {
          this.debugStop = 'break';
          throw BREAK;
        }
      }
    }
    const pa = this.mmu.translate(lo, hi, ACCESS_FETCH, 2);
    const off = this.mem.offsetOf(pa, 2);
    if (off < 0) this.raise(CAUSE_FETCH_ACCESS, lo, hi);
    if (this.mmu.lastCacheable) this.mmu.install(ACCESS_FETCH, lo, hi, off);
    const first = this.u16[off >>> 1];
    if ((first & 3) !== 3) return first;
    // The upper parcel, perhaps on the next page (the fault names that page).
    const lo2 = (lo + 2) | 0;
    const hi2 = (lo2 >>> 0) < 2 ? (hi + 1) | 0 : hi;
    const pa2 = this.mmu.translate(lo2, hi2, ACCESS_FETCH, 2);
    const off2 = this.mem.offsetOf(pa2, 2);
    if (off2 < 0) this.raise(CAUSE_FETCH_ACCESS, lo2, hi2);
    return first | (this.u16[off2 >>> 1] << 16);
  }

  /**
   * Load `size` bytes. Returns the low word as an unsigned-or-signed bit
   * pattern (callers normalise) and leaves the high word of an 8-byte load
   * in tmpHi.
   */
  private loadSlow(lo: number, hi: number, size: number): number {
    this.tmpHi = 0;
    if ((lo & (size - 1)) !== 0) return this.loadMisaligned(lo, hi, size);
    const mmu = this.mmu;
    const pa = mmu.translate(lo, hi, ACCESS_LOAD, size);
    const off = this.mem.offsetOf(pa, size);
    if (off >= 0) {
      if (this.debug !== null && this.debug.access(this, off, size, false)) this.watchFired();
      if (mmu.lastCacheable) mmu.install(ACCESS_LOAD, lo, hi, off);
      switch (size) {
        case 1: return this.u8[off];
        case 2: return this.u16[off >>> 1];
        case 4: return this.i32[off >>> 2];
        default: this.tmpHi = this.i32[(off >>> 2) + 1]; return this.i32[off >>> 2];
      }
    }
    this.stopFlag = true; // a device may have changed an interrupt line
    if (size === 8) {
      const l = this.env.ioRead(pa, 4);
      const h = this.env.ioRead(pa + 4, 4);
      if (l < 0 || h < 0) this.raise(CAUSE_LOAD_ACCESS, lo, hi);
      this.tmpHi = h | 0;
      return l | 0;
    }
    const v = this.env.ioRead(pa, size as 1 | 2 | 4);
    if (v < 0) this.raise(CAUSE_LOAD_ACCESS, lo, hi);
    return v;
  }

  private loadMisaligned(lo: number, hi: number, size: number): number {
    let l = 0, h = 0;
    for (let k = 0; k < size; k++) {
      const bl = (lo + k) | 0;
      const bh = (bl >>> 0) < k ? (hi + 1) | 0 : hi;
      const pa = this.mmu.translate(bl, bh, ACCESS_LOAD, 1);
      const off = this.mem.offsetOf(pa, 1);
      if (off < 0) this.raise(CAUSE_MISALIGNED_LOAD, lo, hi);
      if (this.debug !== null && this.debug.access(this, off, 1, false)) this.watchFired();
      const b = this.u8[off];
      if (k < 4) l |= b << (8 * k);
      else h |= b << (8 * (k - 4));
    }
    this.tmpHi = h;
    return l;
  }

  private storeSlow(lo: number, hi: number, size: number, vl: number, vh: number): void {
    if ((lo & (size - 1)) !== 0) {
      this.storeMisaligned(lo, hi, size, vl, vh);
      return;
    }
    const mmu = this.mmu;
    const pa = mmu.translate(lo, hi, ACCESS_STORE, size);
    const bank = this.mem.bankOf(pa, size);
    if (bank !== undefined) {
      if (bank.readOnly) this.raise(CAUSE_STORE_ACCESS, lo, hi);
      const off = bank.offset + (pa - bank.base);
      if (this.debug !== null && this.debug.access(this, off, size, true)) this.watchFired();
      if (mmu.lastCacheable) mmu.install(ACCESS_STORE, lo, hi, off);
      switch (size) {
        case 1: this.u8[off] = vl; break;
        case 2: this.u16[off >>> 1] = vl; break;
        case 4: this.i32[off >>> 2] = vl; break;
        default: this.i32[off >>> 2] = vl; this.i32[(off >>> 2) + 1] = vh; break;
      }
      this.env.observeStore(this, off, size);
      return;
    }
    this.stopFlag = true;
    let ok: boolean;
    if (size === 8) ok = this.env.ioWrite(pa, 4, vl >>> 0) && this.env.ioWrite(pa + 4, 4, vh >>> 0);
    else ok = this.env.ioWrite(pa, size as 1 | 2 | 4, size === 4 ? vl >>> 0 : vl & (size === 1 ? 0xff : 0xffff));
    if (!ok) this.raise(CAUSE_STORE_ACCESS, lo, hi);
  }

  private storeMisaligned(lo: number, hi: number, size: number, vl: number, vh: number): void {
    // Translate every byte first, so that a fault leaves memory unchanged.
    const offs: number[] = [];
    for (let k = 0; k < size; k++) {
      const bl = (lo + k) | 0;
      const bh = (bl >>> 0) < k ? (hi + 1) | 0 : hi;
      const pa = this.mmu.translate(bl, bh, ACCESS_STORE, 1);
      const bank = this.mem.bankOf(pa, 1);
      if (bank === undefined || bank.readOnly) this.raise(CAUSE_MISALIGNED_STORE, lo, hi);
      offs.push(bank.offset + (pa - bank.base));
    }
    for (let k = 0; k < size; k++) {
      if (this.debug !== null && this.debug.access(this, offs[k], 1, true)) this.watchFired();
      this.u8[offs[k]] = k < 4 ? vl >>> (8 * k) : vh >>> (8 * (k - 4));
      this.env.observeStore(this, offs[k], 1);
    }
  }

  /** Buffer offset for an atomic access; checks alignment, permission and RAM. */
  private atomicOffset(lo: number, hi: number, size: number, access: 1 | 2): number {
    if ((lo & (size - 1)) !== 0) {
      this.raise(access === ACCESS_LOAD ? CAUSE_MISALIGNED_LOAD : CAUSE_MISALIGNED_STORE, lo, hi);
    }
    const mmu = this.mmu;
    const t = lo >>> 12;
    const i = t & TLB_MASK;
    if (access === ACCESS_STORE && mmu.stLo[i] === t && mmu.stHi[i] === hi) return mmu.stOff[i] + (lo & 0xfff);
    const pa = mmu.translate(lo, hi, access, size);
    const bank = this.mem.bankOf(pa, size);
    // AMOs and LR/SC are for main memory only (PMA): anything else is an access fault.
    if (bank === undefined || (access === ACCESS_STORE && bank.readOnly)) {
      return this.raise(access === ACCESS_LOAD ? CAUSE_LOAD_ACCESS : CAUSE_STORE_ACCESS, lo, hi);
    }
    const off = bank.offset + (pa - bank.base);
    if (this.debug !== null && this.debug.access(this, off, size, access === ACCESS_STORE)) this.watchFired();
    if (mmu.lastCacheable) mmu.install(access, lo, hi, off);
    return off;
  }

  private atomic(insn: number, d: number, s1: number, s2: number): void {
    const x = this.x;
    const wide = ((insn >> 12) & 7) === 3;
    const size = wide ? 8 : 4;
    const funct5 = insn >>> 27;
    const lo = x[s1], hi = x[s1 + 1];
    const i32 = this.i32;
    if (funct5 === 2) {
      // LR: the reservation set is the naturally aligned 8 bytes around the word.
      const off = this.atomicOffset(lo, hi, size, ACCESS_LOAD);
      const vl = i32[off >>> 2];
      x[d] = vl;
      x[d + 1] = wide ? i32[(off >>> 2) + 1] : vl >> 31;
      this.resvOff = off - (off % 8);
      this.env.reserved(this, this.resvOff);
      return;
    }
    const off = this.atomicOffset(lo, hi, size, ACCESS_STORE);
    const w = off >>> 2;
    if (funct5 === 3) {
      // SC
      const ok = this.resvOff >= 0 && this.resvOff === off - (off % 8);
      this.resvOff = -1;
      if (ok) {
        i32[w] = x[s2];
        if (wide) i32[w + 1] = x[s2 + 1];
        this.env.observeStore(this, off, size);
      }
      x[d] = ok ? 0 : 1;
      x[d + 1] = 0;
      return;
    }
    const ol = i32[w];
    const oh = wide ? i32[w + 1] : ol >> 31;
    const bl = x[s2];
    const bh = wide ? x[s2 + 1] : bl >> 31;
    let nl: number, nh: number;
    switch (funct5) {
      case 1: nl = bl; nh = bh; break; // AMOSWAP
      case 0: { // AMOADD
        nl = (ol + bl) | 0;
        nh = (oh + bh + ((nl >>> 0) < (ol >>> 0) ? 1 : 0)) | 0;
        break;
      }
      case 4: nl = ol ^ bl; nh = oh ^ bh; break;
      case 12: nl = ol & bl; nh = oh & bh; break;
      case 8: nl = ol | bl; nh = oh | bh; break;
      default: {
        const lt = funct5 === 16 || funct5 === 20 // signed
          ? oh < bh || (oh === bh && (ol >>> 0) < (bl >>> 0))
          : (oh >>> 0) < (bh >>> 0) || (oh === bh && (ol >>> 0) < (bl >>> 0));
        const takeOld = funct5 === 16 || funct5 === 24 ? lt : !lt; // MIN/MINU keep the smaller
        nl = takeOld ? ol : bl;
        nh = takeOld ? oh : bh;
        break;
      }
    }
    i32[w] = nl;
    if (wide) i32[w + 1] = nh;
    x[d] = ol;
    x[d + 1] = oh;
    this.env.observeStore(this, off, size);
  }

  // ===========================================================================
  // Traps and interrupts (§3.1.6.1, §3.1.9, §3.3.2, §4.1.1)
  // ===========================================================================

  /** Take an interrupt if one is pending and enabled. */
  checkInterrupts(): boolean {
    const pending = this.mip & this.mie;
    if (pending === 0) return false;
    const mPending = pending & ~this.mideleg;
    const mOn = this.priv < PRV_M || (this.mstatus & MSTATUS_MIE) !== 0;
    let cause = -1;
    if (mPending !== 0 && mOn) cause = pickInterrupt(mPending);
    if (cause < 0) {
      const sPending = pending & this.mideleg;
      const sOn = this.priv < PRV_S || (this.priv === PRV_S && (this.mstatus & MSTATUS_SIE) !== 0);
      if (sPending !== 0 && sOn) cause = pickInterrupt(sPending);
    }
    if (cause < 0) return false;
    this.wfi = false;
    this.takeTrap(cause, 0, 0, true);
    return true;
  }

  private takeTrap(cause: number, tvalLo: number, tvalHi: number, interrupt: boolean): void {
    this.skipBreakPc = -1n;
    const deleg = interrupt ? this.mideleg : this.medeleg;
    const epc = this.pc;
    const tval = U64((BigInt(tvalHi) << 32n) | BigInt(tvalLo >>> 0));
    const causeBits = (interrupt ? 1n << 63n : 0n) | BigInt(cause);
    let vector: bigint;
    if (this.priv <= PRV_S && ((deleg >>> cause) & 1) !== 0) {
      this.scause = causeBits;
      this.sepc = epc;
      this.stval = tval;
      let s = this.mstatus & ~(MSTATUS_SPIE | MSTATUS_SIE | MSTATUS_SPP);
      if (this.mstatus & MSTATUS_SIE) s |= MSTATUS_SPIE;
      if (this.priv === PRV_S) s |= MSTATUS_SPP;
      this.mstatus = s;
      this.priv = PRV_S;
      vector = this.stvec;
    } else {
      this.mcause = causeBits;
      this.mepc = epc;
      this.mtval = tval;
      let s = this.mstatus & ~(MSTATUS_MPIE | MSTATUS_MIE | MSTATUS_MPP);
      if (this.mstatus & MSTATUS_MIE) s |= MSTATUS_MPIE;
      s |= this.priv << MSTATUS_MPP_SHIFT;
      this.mstatus = s;
      this.priv = PRV_M;
      vector = this.mtvec;
    }
    let target = vector & ~3n;
    if (interrupt && (vector & 3n) === 1n) target += BigInt(4 * cause);
    this.pc = target;
    this.resvOff = -1;
    this.mmu.flush();
  }

  /** MRET / SRET (§3.3.2). Returns the new pc as (lo, hi). */
  private xret(insn: number, m: boolean): [number, number] {
    let s = this.mstatus;
    let prev: number;
    let epc: bigint;
    if (m) {
      if (this.priv !== PRV_M) this.illegal(insn);
      prev = (s & MSTATUS_MPP) >>> MSTATUS_MPP_SHIFT;
      s = (s & ~(MSTATUS_MIE | MSTATUS_MPP)) | ((s & MSTATUS_MPIE) !== 0 ? MSTATUS_MIE : 0) | MSTATUS_MPIE;
      epc = this.mepc;
    } else {
      if (this.priv === PRV_U || (this.priv === PRV_S && (s & MSTATUS_TSR) !== 0)) this.illegal(insn);
      prev = (s & MSTATUS_SPP) !== 0 ? PRV_S : PRV_U;
      s = (s & ~(MSTATUS_SIE | MSTATUS_SPP)) | ((s & MSTATUS_SPIE) !== 0 ? MSTATUS_SIE : 0) | MSTATUS_SPIE;
      epc = this.sepc;
    }
    if (prev !== PRV_M) s &= ~MSTATUS_MPRV;
    this.mstatus = s;
    this.priv = prev;
    this.mmu.flush();
    this.stopFlag = true;
    const u = U64(epc);
    return [Number(u & 0xffffffffn) | 0, Number(u >> 32n) | 0];
  }

  // ===========================================================================
  // CSRs (§2, §3.1, §4.1)
  // ===========================================================================

  private csrInstruction(insn: number, raw: number): void {
    const csr = insn >>> 20;
    const rd = (insn >> 7) & 31;
    const rs1 = (insn >> 15) & 31;
    const f3 = (insn >> 12) & 7;
    const imm = (f3 & 4) !== 0;
    const src = imm ? BigInt(rs1) : U64(this.x64[rs1]);
    const op = f3 & 3; // 1 = RW, 2 = RS, 3 = RC
    const writes = op === 1 || rs1 !== 0;
    if (this.priv < ((csr >> 8) & 3)) this.illegal(raw);
    if (writes && csr >>> 10 === 3) this.illegal(raw);
    const old = this.csrRead(csr, raw);
    if (writes) {
      // §3.1.9: for the read-modify-write, mip.SEIP reads as the software-writable
      // bit alone, so a csrs/csrc of other bits never latches the PLIC's SEIP.
      const base = csr === CSR_MIP ? (old & ~BigInt(MIP_SEIP)) | BigInt(this.mipSw & MIP_SEIP) : old;
      const v = op === 1 ? src : op === 2 ? base | src : base & ~src;
      this.csrWrite(csr, v, raw);
    }
    if (rd !== 0) this.x64[rd] = S64(old);
  }

  private counter(csr: number, insn: number): bigint {
    // §3.1.11 / §4.1.4: mcounteren and scounteren gate the user-level counters.
    const bit = 1 << (csr & 31);
    if (this.priv < PRV_M && (this.mcounteren & bit) === 0) this.illegal(insn);
    if (this.priv === PRV_U && (this.scounteren & bit) === 0) this.illegal(insn);
    switch (csr & 31) {
      case 0: return this.cycles();
      case 1: return BigInt(this.env.mtime());
      case 2: return this.instrets();
      default: return 0n;
    }
  }

  private cycles(): bigint {
    return U64(BigInt(this.instret + this.excCount) + this.cycleDelta);
  }

  private instrets(): bigint {
    return U64(BigInt(this.instret) + this.instretDelta);
  }

  /** Read a CSR; an unimplemented one is an illegal instruction. */
  csrRead(csr: number, insn = 0): bigint {
    if (csr >= CSR_CYCLE && csr <= CSR_CYCLE + 31) return this.counter(csr, insn);
    if (csr >= 0xb03 && csr <= 0xb1f) return 0n; // mhpmcounter3..31
    if (csr >= 0x323 && csr <= 0x33f) return 0n; // mhpmevent3..31
    if (csr >= CSR_PMPCFG0 && csr <= CSR_PMPCFG0 + 15) {
      if (csr & 1) this.illegal(insn); // RV64: odd pmpcfg registers do not exist
      const first = (csr - CSR_PMPCFG0) * 4;
      let v = 0n;
      for (let k = 0; k < 8; k++) {
        const i = first + k;
        if (i < PMP_COUNT) v |= BigInt(this.mmu.pmpcfg[i]) << BigInt(8 * k);
      }
      return v;
    }
    if (csr >= CSR_PMPADDR0 && csr <= CSR_PMPADDR0 + 63) {
      const i = csr - CSR_PMPADDR0;
      return i < PMP_COUNT ? this.mmu.pmpaddr[i] : 0n;
    }
    switch (csr) {
      case CSR_SSTATUS: return (BigInt(MSTATUS_HI & 3) << 32n) | BigInt((this.mstatus & SSTATUS_MASK) >>> 0);
      case CSR_SIE: return BigInt(this.mie & this.mideleg);
      case CSR_STVEC: return this.stvec;
      case CSR_SCOUNTEREN: return BigInt(this.scounteren >>> 0);
      case CSR_SENVCFG: return this.senvcfg;
      case CSR_SSCRATCH: return this.sscratch;
      case CSR_SEPC: return this.sepc;
      case CSR_SCAUSE: return this.scause;
      case CSR_STVAL: return this.stval;
      case CSR_SIP: return BigInt(this.mip & this.mideleg);
      case CSR_SATP:
        if (this.priv === PRV_S && (this.mstatus & MSTATUS_TVM) !== 0) this.illegal(insn);
        return (BigInt(this.satpMode) << 60n) | (BigInt(this.satpAsid) << 44n) | BigInt(this.satpPpn);
      case CSR_MVENDORID: case CSR_MARCHID: case CSR_MIMPID: case CSR_MCONFIGPTR: return 0n;
      case CSR_MHARTID: return BigInt(this.hartId);
      case CSR_MSTATUS: return (BigInt(MSTATUS_HI) << 32n) | BigInt(this.mstatus >>> 0);
      case CSR_MISA: return MISA_VALUE;
      case CSR_MEDELEG: return BigInt(this.medeleg);
      case CSR_MIDELEG: return BigInt(this.mideleg);
      case CSR_MIE: return BigInt(this.mie);
      case CSR_MTVEC: return this.mtvec;
      case CSR_MCOUNTEREN: return BigInt(this.mcounteren >>> 0);
      case CSR_MENVCFG: return this.menvcfg;
      case CSR_MCOUNTINHIBIT: return 0n;
      case CSR_MSCRATCH: return this.mscratch;
      case CSR_MEPC: return this.mepc;
      case CSR_MCAUSE: return this.mcause;
      case CSR_MTVAL: return this.mtval;
      case CSR_MIP: return BigInt(this.mip);
      case CSR_MCYCLE: return this.cycles();
      case CSR_MINSTRET: return this.instrets();
      default: return this.illegal(insn);
    }
  }

  /** Write a CSR with WARL legalisation; side effects on the TLB and interrupts. */
  csrWrite(csr: number, v: bigint, insn = 0): void {
    const lo = Number(v & 0xffffffffn) >>> 0;
    if (csr >= CSR_PMPCFG0 && csr <= CSR_PMPCFG0 + 15) {
      const first = (csr - CSR_PMPCFG0) * 4;
      for (let k = 0; k < 8; k++) {
        const i = first + k;
        if (i >= PMP_COUNT || this.mmu.isPmpLocked(i)) continue;
        let cfg = Number((v >> BigInt(8 * k)) & 0xffn);
        // W=1 with R=0 is reserved (WARL): keep such a field without W.
        if ((cfg & 3) === 2) cfg &= ~2;
        this.mmu.pmpcfg[i] = cfg & 0x9f; // bits 6:5 are reserved, read as zero
      }
      this.pmpChanged();
      return;
    }
    if (csr >= CSR_PMPADDR0 && csr <= CSR_PMPADDR0 + 63) {
      const i = csr - CSR_PMPADDR0;
      if (i >= PMP_COUNT || this.mmu.isPmpLocked(i)) return;
      // A locked TOR entry also locks the address below it (§3.7.1).
      if (i + 1 < PMP_COUNT && this.mmu.isPmpLocked(i + 1) && ((this.mmu.pmpcfg[i + 1] >> PMP_A_SHIFT) & 3) === PMP_A_TOR) return;
      this.mmu.pmpaddr[i] = v & ((1n << 54n) - 1n);
      this.pmpChanged();
      return;
    }
    switch (csr) {
      case CSR_SSTATUS:
        this.setMstatus((this.mstatus & ~SSTATUS_WRITABLE) | (lo & SSTATUS_WRITABLE));
        return;
      case CSR_SIE:
        this.mie = (this.mie & ~this.mideleg) | (lo & this.mideleg & MIE_MASK);
        this.stopFlag = true;
        return;
      case CSR_STVEC: this.stvec = v & ~2n; return;
      case CSR_SCOUNTEREN: this.scounteren = lo; return;
      case CSR_SENVCFG: this.senvcfg = v & 1n; return;
      case CSR_SSCRATCH: this.sscratch = v; return;
      case CSR_SEPC: this.sepc = v & ~1n; return;
      case CSR_SCAUSE: this.scause = v; return;
      case CSR_STVAL: this.stval = v; return;
      case CSR_SIP:
        // Only SSIP is writable through sip, and only when delegated (§4.1.3).
        if (this.mideleg & MIP_SSIP) this.mipSw = (this.mipSw & ~MIP_SSIP) | (lo & MIP_SSIP);
        this.stopFlag = true;
        return;
      case CSR_SATP: {
        if (this.priv === PRV_S && (this.mstatus & MSTATUS_TVM) !== 0) this.illegal(insn);
        const mode = Number(v >> 60n);
        // An unsupported MODE makes the whole write have no effect (§4.1.11).
        if (mode !== SATP_MODE_BARE && mode !== SATP_MODE_SV39) return;
        this.satpMode = mode;
        this.satpAsid = Number((v >> 44n) & 0xffffn);
        this.satpPpn = Number(v & ((1n << 44n) - 1n));
        this.mmu.flush();
        return;
      }
      case CSR_MSTATUS: this.setMstatus(lo); return;
      case CSR_MISA: return; // read-only (WARL): no extension can be turned off
      case CSR_MEDELEG: this.medeleg = lo & MEDELEG_MASK; return;
      case CSR_MIDELEG: this.mideleg = lo & MIDELEG_MASK; this.stopFlag = true; return;
      case CSR_MIE: this.mie = lo & MIE_MASK; this.stopFlag = true; return;
      case CSR_MTVEC: this.mtvec = v & ~2n; return;
      case CSR_MCOUNTEREN: this.mcounteren = lo; return;
      case CSR_MENVCFG: this.menvcfg = v & 1n; return;
      case CSR_MCOUNTINHIBIT: return;
      case CSR_MSCRATCH: this.mscratch = v; return;
      case CSR_MEPC: this.mepc = v & ~1n; return;
      case CSR_MCAUSE: this.mcause = v; return;
      case CSR_MTVAL: this.mtval = v; return;
      case CSR_MIP:
        this.mipSw = lo & MIP_SW_MASK;
        this.stopFlag = true;
        return;
      // The write takes effect after this instruction, whose own retirement is not counted.
      case CSR_MCYCLE: this.cycleDelta = v - BigInt(this.instret + this.excCount + 1); return;
      case CSR_MINSTRET: this.instretDelta = v - BigInt(this.instret + 1); return;
      default:
        if (csr >= 0xb03 && csr <= 0xb1f) return;
        if (csr >= 0x323 && csr <= 0x33f) return;
        this.illegal(insn);
    }
  }

  private setMstatus(v: number): void {
    let s = (this.mstatus & ~MSTATUS_WRITABLE) | (v & MSTATUS_WRITABLE);
    // MPP is WARL over {U, S, M}: the reserved value 2 becomes U.
    if (((s & MSTATUS_MPP) >>> MSTATUS_MPP_SHIFT) === 2) s &= ~MSTATUS_MPP;
    if (((s ^ this.mstatus) & MSTATUS_TLB_BITS) !== 0) this.mmu.flush();
    this.mstatus = s;
    this.stopFlag = true;
  }

  private pmpChanged(): void {
    this.mmu.updatePmp();
    this.mmu.flush();
  }

  // ===========================================================================
  // State for snapshots and the debugger
  // ===========================================================================

  getState(): Record<string, unknown> {
    return {
      version: 1,
      hartId: this.hartId,
      x: Array.from(this.x64, (v) => U64(v).toString(16)),
      pc: this.pc.toString(16),
      priv: this.priv,
      csrs: {
        mstatus: this.mstatus, medeleg: this.medeleg, mideleg: this.mideleg, mie: this.mie, mipSw: this.mipSw,
        mtvec: this.mtvec.toString(16), stvec: this.stvec.toString(16), mepc: this.mepc.toString(16),
        sepc: this.sepc.toString(16), mcause: this.mcause.toString(16), scause: this.scause.toString(16),
        mtval: this.mtval.toString(16), stval: this.stval.toString(16), mscratch: this.mscratch.toString(16),
        sscratch: this.sscratch.toString(16), mcounteren: this.mcounteren, scounteren: this.scounteren,
        menvcfg: this.menvcfg.toString(16), senvcfg: this.senvcfg.toString(16),
        satp: ((BigInt(this.satpMode) << 60n) | (BigInt(this.satpAsid) << 44n) | BigInt(this.satpPpn)).toString(16),
      },
      instret: this.instret,
      excCount: this.excCount,
      wfi: this.wfi,
      halted: this.halted,
      mmu: this.mmu.getState(),
    };
  }
}

/** §3.1.9: MEI, MSI, MTI, SEI, SSI, STI in decreasing priority. */
const INTERRUPT_ORDER = [IRQ_M_EXT, IRQ_M_SOFT, IRQ_M_TIMER, IRQ_S_EXT, IRQ_S_SOFT, IRQ_S_TIMER];
function pickInterrupt(bits: number): number {
  for (const irq of INTERRUPT_ORDER) if (bits & (1 << irq)) return irq;
  return -1;
}
