/**
 * Guest programs for CPU tests: assemble a program at 0x8000_0000, run it on
 * a Machine with no firmware (M-mode, straight from the reset ROM), and hand
 * back the machine, the registers and what the program recorded.
 *
 * A program ends by jumping to `pass` (power off through the SiFive test
 * finisher) or to `fail` with a code in a0. The run is bounded by an
 * instruction count, never by wall time: if the guest has not finished
 * within `maxInsns`, runGuest throws with the hart state and the trap log.
 *
 * Memory used by the runtime (physical; S-mode tests map it 1:1):
 *
 *   0x8000_0000  the image: prologue, the test's code, then the runtime
 *   0x8010_0000  SCRATCH: per hart h, at + h·0x1000:
 *                  +0x000  M save area (mscratch)   +0x38 log base
 *                  +0x080  S save area (sscratch)   +0xb8 log base
 *                  +0x200  the trap log: dword count, then 64-byte entries
 *                          (starting at +0x240): mode (3 = M, 1 = S),
 *                          cause, epc, tval, status, ip
 *   0x8020_0000  DATA: free for tests (2 MiB)
 *   0x8040_0000  PT: free for page tables (2 MiB)
 *
 * Runtime entry points (labels the test source may use):
 *   pass, fail (a0 = code)   power off; clobber t5, t6 (and a0 for fail)
 *   mtrap, strap             the trap handlers mtvec / stvec point at
 *
 * The handlers log each trap, then resume: an interrupt has its enable bit
 * (mie / sie) cleared so that it does not fire again, and execution resumes
 * at xepc; an exception resumes at s11 when s11 != 0 (and s11 is cleared),
 * else at the instruction after the faulting one (its length read at xepc,
 * through the trapped mode's translation: with MPRV in M, with SUM in S, so
 * the faulting code's page must be readable; use s11 when it is not).
 * They preserve every register but s11. An `ecall` with a7 = ESCAPE taken
 * to M-mode is not logged: it returns in M-mode to the next instruction, or
 * to the address in a6 if a6 != 0 (the way back from S or U: see `toM`).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { assemble } from '../../toolchain/asm.js';
import { regNumber } from '../../toolchain/regs.js';
import { Machine } from '../../emulator/machine/machine.js';
import type { Hart } from '../../emulator/cpu/riscv/hart.js';

export const GUEST_BASE = 0x8000_0000n;
export const SCRATCH = 0x8010_0000n;
export const DATA = 0x8020_0000n;
export const PT = 0x8040_0000n;
export const FINISHER = 0x10_0000n;
export const UART = 0x1000_0000n;
export const CLINT = 0x200_0000n;
export const MTIMECMP = CLINT + 0x4000n;
export const MTIME = CLINT + 0xbff8n;
/** a7 value of an `ecall` that asks the M-mode handler to return in M-mode. */
export const ESCAPE = 0x4553_43n;

const LOG_OFF = 0x200n;
const LOG_MAX = 60n;
/** Address of hart h's trap count (the dword before its log entries). */
export const logCount = (h = 0): bigint => SCRATCH + BigInt(h) * 0x1000n + LOG_OFF;

// --- mstatus / mip bits and causes, as the privileged spec names them -------------------
export const MSTATUS_SIE = 1n << 1n;
export const MSTATUS_MIE = 1n << 3n;
export const MSTATUS_SPIE = 1n << 5n;
export const MSTATUS_MPIE = 1n << 7n;
export const MSTATUS_SPP = 1n << 8n;
export const MSTATUS_MPP = 3n << 11n;
export const MSTATUS_MPRV = 1n << 17n;
export const MSTATUS_SUM = 1n << 18n;
export const MSTATUS_MXR = 1n << 19n;
export const MSTATUS_TVM = 1n << 20n;
export const MSTATUS_TW = 1n << 21n;
export const MSTATUS_TSR = 1n << 22n;
export const INTERRUPT = 1n << 63n;

export const CAUSE = {
  fetchAccess: 1n, illegal: 2n, breakpoint: 3n, misalignedLoad: 4n, loadAccess: 5n,
  misalignedStore: 6n, storeAccess: 7n, ecallU: 8n, ecallS: 9n, ecallM: 11n,
  fetchPage: 12n, loadPage: 13n, storePage: 15n,
} as const;

export const IRQ = { ssi: 1n, msi: 3n, sti: 5n, mti: 7n, sei: 9n, mei: 11n } as const;

export interface GuestOptions {
  /** Harts (default 1). Every hart runs the same image from the start, a0 = hart id. */
  harts?: number;
  /** Instruction bound for the whole machine (default 2 000 000). */
  maxInsns?: number;
  dramSize?: number;
  /** High DRAM at 0x1_0000_0000 (default 0: none). */
  highmemSize?: number;
  insnsPerTick?: number;
  /** How the guest must end (default 'pass'); 'any' accepts every exit. */
  expect?: 'pass' | 'fail' | 'any';
  /** Program PMP entry 0 as NAPOT over everything, RWX, so that S and U can run (default true). */
  pmpAll?: boolean;
}

export interface TrapRecord {
  /** 'M' or 'S': the mode that took the trap. */
  mode: 'M' | 'S';
  cause: bigint;
  interrupt: boolean;
  /** Exception or interrupt code (cause without the interrupt bit). */
  code: bigint;
  epc: bigint;
  tval: bigint;
  /** mstatus (M) or sstatus (S) as the handler found it. */
  status: bigint;
  /** mip (M) or sip (S) as the handler found it. */
  ip: bigint;
}

export interface Guest {
  machine: Machine;
  /** Hart 0. */
  hart: Hart;
  symbols: Map<string, bigint>;
  output: string;
  /** A register of hart `h` (default 0), by ABI name or number, as an unsigned 64-bit value. */
  reg(r: string | number, h?: number): bigint;
  /** Address of a label; throws if the program has none. */
  sym(name: string): bigint;
  /** Read guest physical memory, little-endian, unsigned. */
  read(addr: bigint, size: 1 | 2 | 4 | 8): bigint;
  readBytes(addr: bigint, len: number): Uint8Array;
  /** The trap log of hart `h` (default 0). */
  traps(h?: number): TrapRecord[];
}

/** The code every program starts with: trap vectors, scratch pointers, PMP. */
function prologue(pmpAll: boolean): string {
  return `
    csrr  t0, mhartid
    slli  t0, t0, 12
    li    t1, ${SCRATCH}
    add   t0, t0, t1
    csrw  mscratch, t0
    addi  t1, t0, ${LOG_OFF}
    sd    t1, 0x38(t0)
    sd    t1, 0xb8(t0)
    sd    zero, 0(t1)
    addi  t0, t0, 0x80
    csrw  sscratch, t0
    la    t0, mtrap
    csrw  mtvec, t0
    la    t0, strap
    csrw  stvec, t0
${pmpAll ? `    li    t0, -1
    csrw  pmpaddr0, t0
    li    t0, 0x1f
    csrw  pmpcfg0, t0` : ''}
    li    t0, 0
    li    t1, 0
    li    s11, 0
`;
}

/** A trap handler for mode m ('m' or 's'). */
function handler(m: 'm' | 's'): string {
  const tag = m === 'm' ? 3 : 1;
  const escape = m === 'm' ? `
    li    t1, ${ESCAPE}
    bne   a7, t1, ${m}trap_log
    li    t1, 8
    beq   t2, t1, ${m}trap_escape
    li    t1, 9
    beq   t2, t1, ${m}trap_escape
    li    t1, 11
    bne   t2, t1, ${m}trap_log
${m}trap_escape:
    li    t1, 0x1800
    csrs  mstatus, t1
    csrr  t1, mepc
    addi  t1, t1, 4
    beqz  a6, ${m}trap_escape_next
    mv    t1, a6
${m}trap_escape_next:
    csrw  mepc, t1
    j     ${m}trap_out
` : '';
  return `
    .align 2
${m}trap:
    csrrw t0, ${m}scratch, t0
    sd    t1, 0(t0)
    sd    t2, 8(t0)
    sd    t3, 16(t0)
    csrr  t2, ${m}cause
${escape}
${m}trap_log:
    ld    t1, 0x38(t0)
    ld    t3, 0(t1)
    addi  t2, t3, 1
    sd    t2, 0(t1)
    li    t2, ${LOG_MAX}
    bgeu  t3, t2, ${m}trap_runaway
    addi  t3, t3, 1
    slli  t3, t3, 6
    add   t1, t1, t3
    li    t2, ${tag}
    sd    t2, 0(t1)
    csrr  t2, ${m}cause
    sd    t2, 8(t1)
    csrr  t2, ${m}epc
    sd    t2, 16(t1)
    csrr  t2, ${m}tval
    sd    t2, 24(t1)
    csrr  t2, ${m}status
    sd    t2, 32(t1)
    csrr  t2, ${m}ip
    sd    t2, 40(t1)
    csrr  t2, ${m}cause
    bgez  t2, ${m}trap_exception
    li    t3, 1
    sll   t3, t3, t2
    csrc  ${m}ie, t3
    j     ${m}trap_out
${m}trap_exception:
    beqz  s11, ${m}trap_skip
    csrw  ${m}epc, s11
    li    s11, 0
    j     ${m}trap_out
${m}trap_skip:
    csrr  t2, ${m}epc
    li    t1, ${m === 'm' ? MSTATUS_MPRV : MSTATUS_SUM}
    csrrs t1, ${m}status, t1
    lhu   t3, 0(t2)
    csrw  ${m}status, t1
    andi  t3, t3, 3
    addi  t2, t2, 2
    li    t1, 3
    bne   t3, t1, ${m}trap_short
    addi  t2, t2, 2
${m}trap_short:
    csrw  ${m}epc, t2
${m}trap_out:
    ld    t1, 0(t0)
    ld    t2, 8(t0)
    ld    t3, 16(t0)
    csrrw t0, ${m}scratch, t0
    ${m}ret
${m}trap_runaway:
    li    a0, 0xee
    j     fail
`;
}

const RUNTIME = `
    .align 2
pass:
    li    t6, ${FINISHER}
    li    t5, 0x5555
    sw    t5, 0(t6)
    j     pass
fail:
    li    t6, ${FINISHER}
    slli  a0, a0, 16
    li    t5, 0x3333
    or    t5, t5, a0
    sw    t5, 0(t6)
    j     fail
${handler('m')}
${handler('s')}
`;

/** The full source runGuest assembles: prologue, the test's code, the runtime. */
export function guestSource(src: string, pmpAll = true): string {
  return `${prologue(pmpAll)}\n# ---- test ----\n${src}\n# ---- runtime ----\n    j fail\n${RUNTIME}`;
}

export const hex = (v: bigint): string => '0x' + BigInt.asUintN(64, v).toString(16);

/** Assemble `src` at 0x8000_0000, run it, and check that it ended as expected. */
export function runGuest(src: string, opts: GuestOptions = {}): Guest {
  const max = opts.maxInsns ?? 2_000_000;
  return runGuestWith(src, opts, (m) => m.run(max));
}

/**
 * As runGuest, but `drive` runs the machine (e.g. in slices) and returns the
 * last stop reason.
 */
export function runGuestWith(src: string, opts: GuestOptions, drive: (m: Machine) => string): Guest {
  const { bytes, symbols } = assemble(guestSource(src, opts.pmpAll ?? true), { base: GUEST_BASE });
  const out: number[] = [];
  const machine = new Machine({
    harts: opts.harts ?? 1,
    dramSize: opts.dramSize ?? 16 * 1024 * 1024,
    highmemSize: opts.highmemSize ?? 0,
    insnsPerTick: opts.insnsPerTick,
    kernel: { name: 'guest.bin', bytes },
    output: (b) => out.push(b),
  });
  const max = opts.maxInsns ?? 2_000_000;
  const stop = drive(machine);
  const output = String.fromCharCode(...out);
  const g: Guest = {
    machine,
    hart: machine.harts[0],
    symbols,
    output,
    reg(r, h = 0) {
      const n = typeof r === 'number' ? r : regNumber(r);
      if (n === undefined) throw new Error(`no register ${r}`);
      return machine.harts[h].getReg(n);
    },
    sym(name) {
      const v = symbols.get(name);
      if (v === undefined) throw new Error(`the program has no label ${name}`);
      return v;
    },
    read(addr, size) {
      const b = machine.mem.readBytes(Number(addr), size);
      let v = 0n;
      for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
      return v;
    },
    readBytes(addr, len) {
      return machine.mem.readBytes(Number(addr), len);
    },
    traps(h = 0) {
      const log = logCount(h);
      const n = Number(g.read(log, 8));
      const list: TrapRecord[] = [];
      for (let i = 1; i <= Math.min(n, Number(LOG_MAX)); i++) {
        const e = log + BigInt(i) * 64n;
        const cause = g.read(e + 8n, 8);
        list.push({
          mode: g.read(e, 8) === 3n ? 'M' : 'S',
          cause,
          interrupt: cause >> 63n === 1n,
          code: cause & ~INTERRUPT,
          epc: g.read(e + 16n, 8),
          tval: g.read(e + 24n, 8),
          status: g.read(e + 32n, 8),
          ip: g.read(e + 40n, 8),
        });
      }
      return list;
    },
  };
  const want = opts.expect ?? 'pass';
  const ok = stop === 'exit' && machine.exit !== undefined && (want === 'any' || machine.exit.kind === want);
  if (!ok) throw new Error(describeFailure(g, stop, max, want));
  return g;
}

function describeFailure(g: Guest, stop: string, max: number, want: string): string {
  const m = g.machine;
  const lines = [
    stop === 'exit'
      ? `guest exited with ${m.exit?.kind} (code ${m.exit?.code}), expected ${want}`
      : `guest did not finish: run() returned '${stop}' after ${m.insns} instructions (bound ${max})`,
  ];
  m.harts.forEach((h, i) => {
    lines.push(`hart ${i}: pc=${hex(h.pc)} priv=${h.priv} mcause=${hex(h.mcause)} mepc=${hex(h.mepc)} ` +
      `mtval=${hex(h.mtval)} scause=${hex(h.scause)} sepc=${hex(h.sepc)} stval=${hex(h.stval)}`);
    for (const t of g.traps(i)) {
      lines.push(`  trap ${t.mode} cause=${hex(t.cause)} epc=${hex(t.epc)} tval=${hex(t.tval)} status=${hex(t.status)}`);
    }
  });
  if (g.output) lines.push(`output: ${JSON.stringify(g.output)}`);
  return lines.join('\n');
}

// --- snippets --------------------------------------------------------------------------

const PRIV = { U: 0n, S: 1n, M: 3n } as const;

/** From M-mode, go to `label` in mode `mode` by mret (clobbers t0). */
export function enter(mode: 'U' | 'S' | 'M', label: string): string {
  return `
    li    t0, ${MSTATUS_MPP}
    csrc  mstatus, t0
    li    t0, ${PRIV[mode] << 11n}
    csrs  mstatus, t0
    la    t0, ${label}
    csrw  mepc, t0
    mret
`;
}

/** Where enterSv39Alias maps a second view of low DRAM. */
export const ALIAS_BASE = 0x4000_0000n;

/**
 * From M-mode, build one Sv39 root at PT of 1 GiB leaves and go to `label`
 * in S-mode on it (clobbers t0, t1): [0] identity over the devices,
 * [1] ALIAS_BASE → 0x8000_0000 (a second mapping of low DRAM), [2] identity
 * over low DRAM, where the code runs.
 */
export function enterSv39Alias(label: string): string {
  return `
    li t0, ${PT}
    li t1, ${((0x8000_0000n >> 12n) << 10n) | 0xcfn}
    sd t1, 8(t0)
    sd t1, 16(t0)
    li t1, 0xcf
    sd t1, 0(t0)
    li t1, ${(8n << 60n) | (PT >> 12n)}
    csrw satp, t1
    sfence.vma
    ${enter('S', label)}
`;
}

/**
 * From S or U (with ecall not delegated), come back to M-mode: at the next
 * instruction, or at the physical address of label `at` (for code that runs
 * at a virtual address that is not its physical one). Clobbers a6 and a7.
 */
export function toM(at?: string): string {
  return `
    li    a7, ${ESCAPE}
    li    a6, ${at ?? 0}
    ecall
    li    a7, 0
`;
}

/**
 * One program running `blocks` one after the other; after each block the
 * registers of `capture` are stored, and returned per block. Blocks may use
 * any register but s0 (the results pointer), t5 and t6.
 */
export function runBlocks(
  blocks: string[], capture: string[] = ['a0'], opts: GuestOptions = {},
): { results: bigint[][]; guest: Guest } {
  const results = DATA;
  const parts = [`    li    s0, ${results}`];
  blocks.forEach((b, i) => {
    parts.push(`# block ${i}`, b);
    for (const r of capture) parts.push(`    sd    ${r}, 0(s0)`, '    addi  s0, s0, 8');
  });
  parts.push('    j     pass');
  const g = runGuest(parts.join('\n'), { maxInsns: 200_000 + blocks.length * 2000, ...opts });
  return {
    results: blocks.map((_, i) => capture.map((_, j) => g.read(results + BigInt((i * capture.length + j) * 8), 8))),
    guest: g,
  };
}

export interface Case {
  name: string;
  /** The block: leaves its results in the captured registers. */
  code: string;
  /** Expected values of the captured registers (unsigned 64-bit patterns). */
  want: bigint[] | ((g: Guest) => bigint[]);
}

let labelCounter = 0;
/** A label unique in the process (blocks of one program must not share labels). */
export function uid(prefix = 'L'): string {
  return `${prefix}_${++labelCounter}`;
}

/**
 * A table of cases run as one guest program (in beforeAll), one test per
 * case comparing the captured registers, printed in hex.
 */
export function describeCases(title: string, cases: Case[], capture: string[] = ['a0'], opts: GuestOptions = {}): void {
  describe(title, () => {
    let run: { results: bigint[][]; guest: Guest };
    beforeAll(() => {
      run = runBlocks(cases.map((c) => c.code), capture, opts);
    });
    it.each(cases.map((c, i) => ({ name: c.name, i })))('$name', ({ i }) => {
      const w = cases[i].want;
      const want = typeof w === 'function' ? w(run.guest) : w;
      expect(run.results[i].map(hex)).toEqual(want.map((v) => hex(v)));
    });
  });
}

/** A 64-bit value as the unsigned bit pattern of `v` (accepts negative numbers). */
export const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
/** Sign-extend the low `bits` of v to 64 bits, as an unsigned pattern. */
export const sext = (v: bigint, bits: number): bigint => BigInt.asUintN(64, BigInt.asIntN(bits, v));

/** `li` of a 64-bit pattern, written as a hex literal the assembler takes as is. */
export const lit = (v: bigint): string => hex(v);

/** Check one trap record against expected fields (only the given ones). */
export function expectTrap(t: TrapRecord | undefined, want: Partial<TrapRecord>): void {
  expect(t, 'a trap was expected').toBeDefined();
  const got: Partial<TrapRecord> = {};
  for (const k of Object.keys(want) as (keyof TrapRecord)[]) (got as Record<string, unknown>)[k] = t![k];
  expect(got).toEqual(want);
}
