/**
 * Traps and privilege (priv 1.12 chapters 3 and 4): every synchronous
 * exception this machine can raise, with mepc/mcause/mtval and the mstatus
 * stack (MPP/MPIE) after it; delegation to S-mode; xRET; counters and their
 * enables; CLINT timer and software interrupts, vectored trap vectors, WFI,
 * the PLIC's external interrupts, and the "M-mode forwards the timer to S"
 * pattern.
 *
 * Cause 0 (instruction address misaligned) cannot happen on this machine:
 * with C, IALIGN = 16; jalr clears bit 0 and branch/jal offsets are multiples
 * of 2, so no control transfer can misalign the pc. Causes 4 and 6 come from
 * misaligned atomics (rv64a.test.ts; misaligned loads/stores are emulated);
 * 12, 13 and 15 are covered here once and in depth in mmu.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  CAUSE, CLINT, INTERRUPT, IRQ, MSTATUS_MIE, MSTATUS_MPIE, MSTATUS_MPP, MSTATUS_MPRV, MSTATUS_SIE, MSTATUS_SPIE,
  MSTATUS_SPP, MSTATUS_TSR, MSTATUS_TVM, MSTATUS_TW, MTIME, MTIMECMP, PT, enter, expectTrap, lit, logCount, runGuest,
  toM, type TrapRecord,
} from '../helpers/guest.js';

// --- instruction words (unpriv chapter 24; priv 2.x "privileged instructions") ----------------
const csrI = (f3: number, rd: number, csr: number, rs1: number): number =>
  ((csr << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | 0x73) >>> 0;
const CSRRW = 1, CSRRS = 2, CSRRSI = 6;
const A0 = 10, A1 = 11;
const MRET = 0x3020_0073, SRET = 0x1020_0073, WFI = 0x1050_0073, SFENCE_VMA = 0x1200_0073;
const word = (w: number): string => `    .word 0x${w.toString(16).padStart(8, '0')}`;
const mpp = (t: TrapRecord): bigint => (t.status & MSTATUS_MPP) >> 11n;
const has = (v: bigint, bit: bigint): boolean => (v & bit) !== 0n;
const PRIV = { U: 0n, S: 1n, M: 3n } as const;
const PLIC = 0x0c00_0000n;
const UART_IER = 0x1000_0001n;

/** Run `insn` at label `bad` in `mode` after `setup` (M-mode code); the trap goes to M. */
function trapIn(mode: 'U' | 'S' | 'M', insn: string, setup = '') {
  const g = runGuest(`
${setup}
${enter(mode, 'go')}
go:
    li a1, 1
bad:
${insn}
${toM()}
    j pass`);
  return { t: g.traps(), at: g.sym('bad'), g };
}

/** Sv39 root at PT: VA 0-1 GiB and 2-3 GiB mapped 1:1 by gigapages (RWX, A, D), the rest invalid. */
const IDENTITY_SV39 = `
    li t0, ${lit(PT)}
    li t1, 0xcf               # PPN 0, D A X W R V
    sd t1, 0(t0)
    li t1, ${lit((0x8000_0000n >> 12n << 10n) | 0xcfn)}
    sd t1, 16(t0)
    li t0, ${lit((8n << 60n) | (PT >> 12n))}
    csrw satp, t0`;

describe('exceptions: mcause, mepc, mtval and the mstatus stack', () => {
  it('1 instruction access fault: a jump to unmapped memory, to a device, to address 0', () => {
    const g = runGuest(`
    la s11, back1
    li t0, 0x40000000
    jr t0
back1:
    la s11, back2
    li t0, 0x10000000
    jalr t0
back2:
    la s11, back3
    jr zero
back3:
    j pass`);
    const t = g.traps();
    expect(t.map((x) => [x.cause, x.epc, x.tval, mpp(x)])).toEqual([
      [CAUSE.fetchAccess, 0x4000_0000n, 0x4000_0000n, 3n],
      [CAUSE.fetchAccess, 0x1000_0000n, 0x1000_0000n, 3n],
      [CAUSE.fetchAccess, 0n, 0n, 3n],
    ]);
  });

  it('1 instruction access fault on the upper half of a 32-bit instruction at the end of RAM: mtval names that half', () => {
    // 16 MiB of DRAM ends at 0x8100_0000; its last 2 bytes hold the low parcel of `addi a0, a0, 1`.
    const g = runGuest(`
    li t0, 0x80fffffe
    li t1, 0x0513
    sh t1, 0(t0)
    fence.i
    la s11, back
    jr t0
back:
    j pass`, { dramSize: 16 << 20 });
    // priv 3.1.16: mtval = the address of the portion of the instruction that faulted; mepc = its start.
    expectTrap(g.traps()[0], { cause: CAUSE.fetchAccess, epc: 0x80ff_fffen, tval: 0x8100_0000n });
  });

  describe('2 illegal instruction, mtval = the instruction bits', () => {
    it.each([
      ['an unknown opcode (custom-0)', 0x0000_000b],
      ['bit 31 set (mtval is zero-extended)', 0xfe00_007b],
      ['ecall with rs1 != 0 (reserved fields)', 0x0000_8073],
      ['sfence.vma with rd != 0', 0x1200_00f3],
      ['a CSR that does not exist (csrrs a0, 0x7c0, zero)', csrI(CSRRS, A0, 0x7c0, 0)],
      ['a CSR of an absent extension (mtinst, hypervisor)', csrI(CSRRS, A0, 0x34a, 0)],
      ['a write to a read-only CSR (csrrw zero, mhartid, a0)', csrI(CSRRW, 0, 0xf14, A0)],
      ['a write to a read-only CSR (csrrs a0, cycle, a1 with a1 = 1)', csrI(CSRRS, A0, 0xc00, A1)],
      ['a write to a read-only CSR (csrrsi a0, mvendorid, 1)', csrI(CSRRSI, A0, 0xf11, 1)],
      ['pmpcfg1, which RV64 does not have', csrI(CSRRS, A0, 0x3a1, 0)],
      ['cycleh, which RV64 does not have', csrI(CSRRS, A0, 0xc80, 0)],
      ['mstatush, which RV64 does not have', csrI(CSRRS, A0, 0x310, 0)],
      ['csrrwi with uimm = 0 writes: csrrwi a0, instret, 0', csrI(5, A0, 0xc02, 0)],
    ])('in M-mode: %s', (_name, w) => {
      const { t, at } = trapIn('M', word(w));
      expectTrap(t[0], { mode: 'M', cause: CAUSE.illegal, epc: at, tval: BigInt(w) });
      expect(mpp(t[0])).toBe(3n);
      expect(t).toHaveLength(1);
    });

    it.each([
      ['mret in S-mode', 'S', MRET, ''],
      ['mret in U-mode', 'U', MRET, ''],
      ['sret in U-mode', 'U', SRET, ''],
      ['sret in S-mode with mstatus.TSR', 'S', SRET, `    li t0, ${MSTATUS_TSR}\n    csrs mstatus, t0`],
      ['wfi in U-mode', 'U', WFI, ''],
      ['wfi in S-mode with mstatus.TW', 'S', WFI, `    li t0, ${MSTATUS_TW}\n    csrs mstatus, t0`],
      ['sfence.vma in U-mode', 'U', SFENCE_VMA, ''],
      ['sfence.vma in S-mode with mstatus.TVM', 'S', SFENCE_VMA, `    li t0, ${MSTATUS_TVM}\n    csrs mstatus, t0`],
      ['csrr a0, satp in S-mode with mstatus.TVM', 'S', csrI(CSRRS, A0, 0x180, 0), `    li t0, ${MSTATUS_TVM}\n    csrs mstatus, t0`],
      ['csrw satp, zero in S-mode with mstatus.TVM', 'S', csrI(CSRRW, 0, 0x180, 0), `    li t0, ${MSTATUS_TVM}\n    csrs mstatus, t0`],
      ['csrr a0, mstatus in S-mode', 'S', csrI(CSRRS, A0, 0x300, 0), ''],
      ['csrr a0, mscratch in S-mode', 'S', csrI(CSRRS, A0, 0x340, 0), ''],
      ['csrr a0, sstatus in U-mode', 'U', csrI(CSRRS, A0, 0x100, 0), ''],
      ['csrr a0, satp in U-mode', 'U', csrI(CSRRS, A0, 0x180, 0), ''],
    ] as [string, 'S' | 'U', number, string][])('%s', (_name, mode, w, setup) => {
      const { t, at } = trapIn(mode, word(w), setup);
      expectTrap(t[0], { mode: 'M', cause: CAUSE.illegal, epc: at, tval: BigInt(w) });
      expect(mpp(t[0])).toBe(PRIV[mode]);
      expect(t).toHaveLength(1);
    });

    it('without TSR/TW/TVM, sret, sfence.vma and satp are legal in S-mode', () => {
      const g = runGuest(`
${enter('S', 's_mode')}
s_mode:
    csrr a0, satp
    csrw satp, zero
    sfence.vma
    la t0, s_after
    csrw sepc, t0
    li t0, ${MSTATUS_SPP}
    csrs sstatus, t0
    sret
s_after:
    li a1, 0x5a
${toM()}
    j pass`);
      expect(g.traps()).toEqual([]);
      expect(g.reg('a1')).toBe(0x5an);
    });
  });

  it('3 breakpoint: ebreak, mepc = its address', () => {
    const g = runGuest(`
bp:
    ebreak
    j pass`);
    const t = g.traps()[0];
    expectTrap(t, { mode: 'M', cause: CAUSE.breakpoint, epc: g.sym('bp') });
    // priv 3.1.16: for a breakpoint mtval is either 0 or the faulting address.
    expect([0n, g.sym('bp')]).toContain(t.tval);
  });

  it('5 load access fault and 7 store access fault: unmapped memory, a gap below the ROM, the ROM', () => {
    const g = runGuest(`
    li a1, 0x40000000
l1: ld a0, 0(a1)
    li a1, 0x8
l2: lw a0, 0(a1)
    li a1, 0x40000000
s1: sd a0, 0(a1)
    li a1, 0x1000
s2: sw a0, 0(a1)
    li a1, 0x1004
s3: sb a0, 0(a1)
    lw a2, 0(a1)
    j pass`);
    expect(g.traps().map((x) => [x.cause, x.epc, x.tval])).toEqual([
      [CAUSE.loadAccess, g.sym('l1'), 0x4000_0000n],
      [CAUSE.loadAccess, g.sym('l2'), 0x8n],
      [CAUSE.storeAccess, g.sym('s1'), 0x4000_0000n],
      [CAUSE.storeAccess, g.sym('s2'), 0x1000n],
      [CAUSE.storeAccess, g.sym('s3'), 0x1004n],
    ]);
    // The ROM is readable and unchanged: its second word is `addi a2, t0, 40`.
    expect(g.reg('a2')).toBe(0x0282_8613n);
  });

  it('8/9/11 ecall from U, S and M: cause, mepc = the ecall, mtval = 0, MPP, MPIE = the old MIE, MIE = 0', () => {
    const g = runGuest(`
    csrsi mstatus, 8          # MIE = 1 (mie = 0: nothing can fire)
m_ecall:
    ecall
    csrci mstatus, 8
    li t0, ${MSTATUS_MPIE}
    csrs mstatus, t0          # the mret into S sets MIE
${enter('S', 's_go')}
s_go:
s_ecall:
    ecall
${toM()}
    li t0, ${MSTATUS_MPIE}
    csrc mstatus, t0
${enter('U', 'u_go')}
u_go:
u_ecall:
    ecall
${toM()}
    j pass`);
    const t = g.traps();
    expect(t).toHaveLength(3);
    expectTrap(t[0], { mode: 'M', cause: CAUSE.ecallM, epc: g.sym('m_ecall'), tval: 0n });
    expectTrap(t[1], { mode: 'M', cause: CAUSE.ecallS, epc: g.sym('s_ecall'), tval: 0n });
    expectTrap(t[2], { mode: 'M', cause: CAUSE.ecallU, epc: g.sym('u_ecall'), tval: 0n });
    expect(t.map(mpp)).toEqual([3n, 1n, 0n]);
    expect(t.map((x) => has(x.status, MSTATUS_MPIE))).toEqual([true, true, false]);
    expect(t.map((x) => has(x.status, MSTATUS_MIE))).toEqual([false, false, false]);
  });

  it('12/13/15 page faults: fetch, load and store of an unmapped virtual address, mtval = the address', () => {
    const g = runGuest(`
${IDENTITY_SV39}
${enter('S', 's_code')}
s_code:
    li a1, 0x40001000
l1: ld a0, 8(a1)
s1: sd a0, 16(a1)
    la s11, s_back
    jalr zero, 4(a1)
s_back:
${toM()}
    csrw satp, zero
    j pass`);
    const t = g.traps();
    expect(t.map((x) => [x.cause, x.epc, x.tval, mpp(x)])).toEqual([
      [CAUSE.loadPage, g.sym('l1'), 0x4000_1008n, 1n],
      [CAUSE.storePage, g.sym('s1'), 0x4000_1010n, 1n],
      [CAUSE.fetchPage, 0x4000_1004n, 0x4000_1004n, 1n],
    ]);
  });
});

describe('delegation to S-mode (medeleg)', () => {
  it('medeleg/mideleg are WARL: ecall from M is never delegable; the other standard exceptions are; only S interrupts', () => {
    const g = runGuest(`
    li t0, -1
    csrw medeleg, t0
    csrr a0, medeleg
    csrw mideleg, t0
    csrr a1, mideleg
    csrw medeleg, zero
    csrw mideleg, zero
    j pass`);
    expect(g.reg('a0') & (1n << 11n)).toBe(0n);
    for (const c of [0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 12n, 13n, 15n]) expect(g.reg('a0') & (1n << c), `cause ${c}`).toBe(1n << c);
    expect(g.reg('a1')).toBe((1n << IRQ.ssi) | (1n << IRQ.sti) | (1n << IRQ.sei));
  });

  it('from U: scause, sepc, stval, SPP = U, SPIE = the old SIE, SIE = 0; mcause/mtval untouched', () => {
    const g = runGuest(`
    li t0, ${(1n << 8n) | (1n << 2n)}
    csrw medeleg, t0
    li t0, 0x77
    csrw mcause, t0
    csrw mtval, t0
    csrsi sstatus, 2          # SIE = 1 (sie = 0: nothing fires)
${enter('U', 'u_code')}
u_code:
u_ecall:
    ecall
u_bad:
    .word 0x0000000b
    j pass                    # the finisher is reachable from U (bare, PMP open)`);
    const t = g.traps();
    expect(t).toHaveLength(2);
    expectTrap(t[0], { mode: 'S', cause: CAUSE.ecallU, epc: g.sym('u_ecall'), tval: 0n });
    expectTrap(t[1], { mode: 'S', cause: CAUSE.illegal, epc: g.sym('u_bad'), tval: 0xbn });
    expect(t.map((x) => [has(x.status, MSTATUS_SPP), has(x.status, MSTATUS_SPIE), has(x.status, MSTATUS_SIE)]))
      .toEqual([[false, true, false], [false, true, false]]);
    expect([g.hart.mcause, g.hart.mtval]).toEqual([0x77n, 0x77n]);
    expect(g.hart.scause).toBe(CAUSE.illegal); // (sepc was advanced by the handler)
  });

  it('from S: SPP = S; SPIE = 0 when SIE was 0', () => {
    const g = runGuest(`
    li t0, ${1n << 2n}
    csrw medeleg, t0
${enter('S', 's_code')}
s_code:
s_bad:
    .word 0x0000000b
${toM()}
    j pass`);
    const t = g.traps();
    expectTrap(t[0], { mode: 'S', cause: CAUSE.illegal, epc: g.sym('s_bad'), tval: 0xbn });
    expect([has(t[0].status, MSTATUS_SPP), has(t[0].status, MSTATUS_SPIE)]).toEqual([true, false]);
  });

  it('exceptions in M-mode are never delegated', () => {
    const g = runGuest(`
    li t0, -1
    csrw medeleg, t0
m_bad:
    .word 0x0000000b
m_ecall:
    ecall
    csrw medeleg, zero
    j pass`);
    expect(g.traps().map((x) => [x.mode, x.cause, x.epc])).toEqual([
      ['M', CAUSE.illegal, g.sym('m_bad')],
      ['M', CAUSE.ecallM, g.sym('m_ecall')],
    ]);
  });
});

describe('mret and sret', () => {
  it.each([
    [1n, 1n, 1n, 0n],
    [0n, 0n, 1n, 0n],
  ])('mret with MPP = M, MPIE = %s: MIE = %s, MPIE = %s, MPP = %s (U)', (mpie, mie, newMpie, newMpp) => {
    const g = runGuest(`
    li t0, ${MSTATUS_MPP | MSTATUS_MPIE}
    csrc mstatus, t0
    li t0, ${(3n << 11n) | (mpie ? MSTATUS_MPIE : 0n)}
    csrs mstatus, t0
    la t0, after
    csrw mepc, t0
    mret
    j fail
after:
    csrr a0, mstatus
    csrci mstatus, 8
    j pass`);
    const s = g.reg('a0');
    expect([(s & MSTATUS_MIE) >> 3n, (s & MSTATUS_MPIE) >> 7n, (s & MSTATUS_MPP) >> 11n]).toEqual([mie, newMpie, newMpp]);
  });

  it('mret to S clears MPRV; mret to M keeps it', () => {
    const g = runGuest(`
    li t0, ${MSTATUS_MPRV}
    csrs mstatus, t0
${enter('M', 'in_m')}
in_m:
    csrr a0, mstatus
    li t0, ${MSTATUS_MPRV}
    csrs mstatus, t0
${enter('S', 'in_s')}
in_s:
s_ecall:
    ecall
${toM()}
    j pass`);
    expect(has(g.reg('a0'), MSTATUS_MPRV)).toBe(true);
    const t = g.traps()[0];
    expectTrap(t, { cause: CAUSE.ecallS, epc: g.sym('s_ecall') });
    expect(has(t.status, MSTATUS_MPRV)).toBe(false);
  });

  it('sret from S to U: SIE = SPIE, SPIE = 1, SPP = U, and the mode is U', () => {
    const g = runGuest(`
${enter('S', 's_code')}
s_code:
    li t0, ${MSTATUS_SPP | MSTATUS_SIE}
    csrc sstatus, t0
    li t0, ${MSTATUS_SPIE}
    csrs sstatus, t0
    la t0, u_code
    csrw sepc, t0
    sret
u_code:
u_ecall:
    ecall
${toM()}
    j pass`);
    const t = g.traps()[0];
    expectTrap(t, { mode: 'M', cause: CAUSE.ecallU, epc: g.sym('u_ecall') });
    expect([has(t.status, MSTATUS_SIE), has(t.status, MSTATUS_SPIE), has(t.status, MSTATUS_SPP)]).toEqual([true, true, false]);
  });

  it('sret is legal in M-mode and returns to SPP', () => {
    const g = runGuest(`
    li t0, ${MSTATUS_SPP}
    csrs mstatus, t0
    la t0, s_code
    csrw sepc, t0
    sret
s_code:
s_ecall:
    ecall
${toM()}
    j pass`);
    expectTrap(g.traps()[0], { mode: 'M', cause: CAUSE.ecallS, epc: g.sym('s_ecall') });
    expect(g.traps()).toHaveLength(1);
  });

  it('mepc/sepc ignore bit 0 (IALIGN = 16)', () => {
    const g = runGuest(`
    li t0, 0x80001235
    csrw mepc, t0
    csrr a0, mepc
    csrw sepc, t0
    csrr a1, sepc
    j pass`);
    expect([g.reg('a0'), g.reg('a1')]).toEqual([0x8000_1234n, 0x8000_1234n]);
  });
});

describe('counters (Zicntr) and their enables', () => {
  it('instret counts retired instructions exactly; cycle and time are monotonic; time is the CLINT mtime', () => {
    const g = runGuest(`
    rdinstret a0
    ${'nop\n    '.repeat(10)}
    rdinstret a1
    rdcycle a2
    ${'nop\n    '.repeat(10)}
    rdcycle a3
    rdtime a4
    li t0, 100000
spin:
    addi t0, t0, -1
    bnez t0, spin
    rdtime a5
    li t0, ${MTIME}
    ld a6, 0(t0)
    rdtime a7
    j pass`);
    const [i0, i1, c0, c1, t0, t1, mt, t2] = ['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7'].map((r) => g.reg(r));
    expect(i1 - i0).toBe(11n);
    expect(c1 - c0 >= 11n).toBe(true);
    expect(t1 > t0).toBe(true);
    expect(mt >= t1 && t2 >= mt).toBe(true);
  });

  it('instructions that trap do not retire (instret) but take cycles; the handler\'s instructions retire', () => {
    const g = runGuest(`
    la t0, h
    csrw mtvec, t0
    rdinstret a0
    rdcycle a2
    ecall
    li a1, 0x40000000
    ld a1, 0(a1)              # load access fault
    rdinstret a1
    rdcycle a3
    j pass
    .align 2
h:
    csrr t0, mepc
    addi t0, t0, 4
    csrw mepc, t0
    mret`);
    // retired between the two reads: rdinstret a0, rdcycle, (ecall: no), 4 in the handler,
    // li (one lui), (ld: no), 4 in the handler = 11
    expect(g.reg('a1') - g.reg('a0')).toBe(11n);
    // cycles (hart.ts: one per instruction executed, trapping ones included): from rdcycle a2 to
    // rdcycle a3: rdcycle, ecall, 4, li, ld, 4, rdinstret = 13
    expect(g.reg('a3') - g.reg('a2')).toBe(13n);
  });

  it('writing minstret/mcycle: the next instruction sees the value written', () => {
    const g = runGuest(`
    li t0, 1000
    csrw minstret, t0
    csrr a0, minstret
    csrr a1, instret
    csrw mcycle, t0
    csrr a2, mcycle
    j pass`);
    expect([g.reg('a0'), g.reg('a1')]).toEqual([1000n, 1001n]);
    expect(g.reg('a2') >= 1000n && g.reg('a2') <= 1001n).toBe(true);
  });

  it.each([
    // mode, mcounteren, scounteren, csr, traps
    ['S', 0, 0, 'cycle', true],
    ['S', 1, 0, 'cycle', false],
    ['S', 6, 7, 'cycle', true],
    ['S', 2, 0, 'time', false],
    ['S', 5, 7, 'time', true],
    ['S', 4, 0, 'instret', false],
    ['S', 3, 7, 'instret', true],
    ['S', 8, 0, 'hpmcounter3', false],
    ['S', 7, 0, 'hpmcounter3', true],
    ['U', 7, 0, 'cycle', true],
    ['U', 0, 7, 'cycle', true],
    ['U', 7, 7, 'cycle', false],
    ['U', 7, 7, 'time', false],
    ['U', 7, 5, 'time', true],
    ['U', 5, 7, 'time', true],
    ['U', 7, 7, 'instret', false],
    ['U', 7, 3, 'instret', true],
    ['M', 0, 0, 'cycle', false],
  ] as ['S' | 'U' | 'M', number, number, string, boolean][])(
    '%s-mode, mcounteren=%i, scounteren=%i: %s %s',
    (mode, mcen, scen, csr, traps) => {
      const { t, at, g } = trapIn(mode, `    csrr a0, ${csr}`, `
    li a0, 0x5a5a
    li t0, ${mcen}
    csrw mcounteren, t0
    li t0, ${scen}
    csrw scounteren, t0`);
      if (traps) {
        expectTrap(t[0], { cause: CAUSE.illegal, epc: at });
        expect(g.reg('a0')).toBe(0x5a5an);
      } else {
        expect(t).toEqual([]);
        expect(g.reg('a0')).not.toBe(0x5a5an);
      }
    },
  );
});

/** Wait (in any mode, paging off) until hart 0 has logged `n` traps. */
const waitTraps = (n: number, label: string): string => `
    li t1, ${lit(logCount(0))}
    li t2, ${n}
${label}:
    ld t0, 0(t1)
    bltu t0, t2, ${label}`;

describe('interrupts: CLINT timer and software interrupts, priorities, vectoring', () => {
  it('machine timer: mtimecmp <= mtime with MTIE and MIE traps to M; mip.MTIP set; the handler ran after the deadline', () => {
    const g = runGuest(`
    li t0, ${MTIME}
    ld s1, 0(t0)
    addi s1, s1, 300
    li t0, ${MTIMECMP}
    sd s1, 0(t0)
    li t0, 0x80
    csrs mie, t0
    csrsi mstatus, 8
    li t1, ${lit(logCount(0))}
spin:
    ld t0, 0(t1)
    beqz t0, spin
    li t0, ${MTIME}
    ld s2, 0(t0)
    j pass`);
    const t = g.traps();
    expect(t).toHaveLength(1);
    expectTrap(t[0], { mode: 'M', interrupt: true, cause: INTERRUPT | IRQ.mti, tval: 0n });
    expect([g.sym('spin'), g.sym('spin') + 4n]).toContain(t[0].epc);
    expect(has(t[0].ip, 1n << IRQ.mti)).toBe(true);
    expect([mpp(t[0]), has(t[0].status, MSTATUS_MPIE)]).toEqual([3n, true]);
    expect(g.reg('s2') >= g.reg('s1')).toBe(true);
  });

  it('a pending, enabled interrupt waits for mstatus.MIE in M-mode, then traps right after the CSR write', () => {
    const g = runGuest(`
    li t0, ${MTIMECMP}
    sd zero, 0(t0)            # mtime >= 0: MTIP pending
    li t0, 0x80
    csrs mie, t0
    csrr a0, mip
    li t1, 100
loop:
    addi t1, t1, -1
    bnez t1, loop
    li t0, ${lit(logCount(0))}
    ld a1, 0(t0)
    csrsi mstatus, 8
after:
    nop
    li t0, ${MTIMECMP}
    li t1, -1
    sd t1, 0(t0)
    csrr a2, mip
    j pass`);
    expect(has(g.reg('a0'), 0x80n)).toBe(true);
    expect(g.reg('a1')).toBe(0n);
    expectTrap(g.traps()[0], { cause: INTERRUPT | IRQ.mti, epc: g.sym('after') });
    expect(has(g.reg('a2'), 0x80n)).toBe(false);
  });

  it('an M interrupt is taken in S-mode whatever mstatus.MIE', () => {
    const g = runGuest(`
    li t0, ${MTIMECMP}
    sd zero, 0(t0)
    li t0, 0x80
    csrs mie, t0
${enter('S', 's_code')}
s_code:
    nop
    nop
${toM()}
    li t0, ${MTIMECMP}
    li t1, -1
    sd t1, 0(t0)
    j pass`);
    const t = g.traps()[0];
    expectTrap(t, { mode: 'M', cause: INTERRUPT | IRQ.mti, epc: g.sym('s_code') });
    expect([mpp(t), has(t.status, MSTATUS_MPIE)]).toEqual([1n, false]);
  });

  it('priority when several are pending: MSI, MTI, SEI, SSI, STI (priv 3.1.9)', () => {
    const g = runGuest(`
    li t0, ${CLINT}
    li t1, 1
    sw t1, 0(t0)              # MSIP
    li t0, ${MTIMECMP}
    sd zero, 0(t0)            # MTIP
    li t0, 0x222
    csrs mip, t0              # SEIP, STIP, SSIP (software-writable in mip)
    li t0, 0xaaa
    csrs mie, t0
    csrsi mstatus, 8
after:
    csrci mstatus, 8
    li t0, ${CLINT}
    sw zero, 0(t0)
    li t0, ${MTIMECMP}
    li t1, -1
    sd t1, 0(t0)
    li t0, 0x222
    csrc mip, t0
    j pass`);
    const t = g.traps();
    expect(t.map((x) => x.cause)).toEqual([IRQ.msi, IRQ.mti, IRQ.sei, IRQ.ssi, IRQ.sti].map((c) => INTERRUPT | c));
    expect(t.every((x) => x.mode === 'M' && x.epc === g.sym('after'))).toBe(true);
  });

  it('mtvec vectored: an interrupt goes to BASE + 4 × cause, an exception to BASE', () => {
    const entries = Array.from({ length: 12 }, (_, k) => `    j vec_${k}`).join('\n');
    const handler = (k: number): string => {
      if (k === 0) return 'vec_0:\n    csrr s2, mcause\n    csrr t0, mepc\n    addi t0, t0, 4\n    csrw mepc, t0\n    addi s1, s1, 1\n    mret';
      if (k === 3) return `vec_3:\n    csrr s3, mcause\n    li t0, ${CLINT}\n    sw zero, 0(t0)\n    addi s1, s1, 16\n    mret`;
      return `vec_${k}:\n    li a0, ${0x50 + k}\n    j fail`;
    };
    const g = runGuest(`
    la t0, vtable
    ori t0, t0, 1
    csrw mtvec, t0
    li s1, 0
    ecall
    li t0, ${CLINT}
    li t1, 1
    sw t1, 0(t0)
    li t0, 8
    csrs mie, t0
    csrsi mstatus, 8
    nop
    nop
    j pass
    .align 8
vtable:
${entries}
${Array.from({ length: 12 }, (_, k) => handler(k)).join('\n')}`);
    expect(g.reg('s1')).toBe(17n);
    expect([g.reg('s2'), g.reg('s3')]).toEqual([CAUSE.ecallM, INTERRUPT | IRQ.msi]);
  });

  it('an interrupt raised by an MMIO store (own msip, mtimecmp) is taken before the next instruction', () => {
    const g = runGuest(`
    li t0, 0x88
    csrs mie, t0
    csrsi mstatus, 8
    li t0, ${CLINT}
    li t1, 1
    sw t1, 0(t0)
after_msip:
    sw zero, 0(t0)
    li t0, ${MTIME}
    ld t1, 0(t0)
    li t0, ${MTIMECMP}
    sd t1, 0(t0)
after_cmp:
    li t1, -1
    sd t1, 0(t0)
    j pass`);
    expect(g.traps().map((t) => [t.cause, t.epc])).toEqual([
      [INTERRUPT | IRQ.msi, g.sym('after_msip')],
      [INTERRUPT | IRQ.mti, g.sym('after_cmp')],
    ]);
  });

  it('software interrupt from another hart: hart 1 writes msip[0], hart 0 takes MSI', () => {
    const g = runGuest(`
    bnez a0, hart1
    li t0, 8
    csrs mie, t0
    csrsi mstatus, 8
${waitTraps(1, 'w0')}
    csrr a1, mip
    li t0, ${CLINT}
    sw zero, 0(t0)
    csrr a2, mip
    j pass
hart1:
    li t0, ${CLINT}
    li t1, 1
    sw t1, 0(t0)
park:
    wfi
    j park`, { harts: 2 });
    expectTrap(g.traps(0)[0], { mode: 'M', cause: INTERRUPT | IRQ.msi });
    expect(has(g.reg('a1'), 8n)).toBe(true);
    expect(has(g.reg('a2'), 8n)).toBe(false);
    expect(g.traps(1)).toEqual([]);
  });

  it('wfi wakes on a software interrupt from another hart even with MIE = 0, and continues without a trap', () => {
    const g = runGuest(`
    li s1, ${lit(0x8020_0000n)}
    bnez a0, hart1
hart0:
    ld t0, 0(s1)              # wait until hart 1 is ready
    beqz t0, hart0
    li t0, ${CLINT + 4n}
    li t1, 1
    sw t1, 0(t0)              # msip[1] = 1
w0: ld t0, 8(s1)
    beqz t0, w0
    j pass
hart1:
    li t0, 8
    csrs mie, t0              # MSIE, but mstatus.MIE = 0
    li t0, 1
    sd t0, 0(s1)
    wfi
    csrr a1, mip
    li t0, ${CLINT + 4n}
    sw zero, 0(t0)
    li t0, 1
    sd t0, 8(s1)
park:
    csrw mie, zero
    wfi
    j park`, { harts: 2 });
    expect(has(g.reg('a1', 1), 8n)).toBe(true);
    expect(g.traps(1)).toEqual([]);
  });

  it('wfi with every hart asleep: time jumps to the deadline (no spinning), then the hart continues', () => {
    const g = runGuest(`
    li t0, ${MTIME}
    ld s1, 0(t0)
    li t1, 50000000
    add s1, s1, t1            # 5 s of 10 MHz ticks
    li t0, ${MTIMECMP}
    sd s1, 0(t0)
    li t0, 0x80
    csrs mie, t0
    wfi
    li t0, ${MTIME}
    ld s2, 0(t0)
    csrr a1, mip
    j pass`, { maxInsns: 100_000 });
    expect(g.reg('s2') >= g.reg('s1')).toBe(true);
    expect(has(g.reg('a1'), 0x80n)).toBe(true);
    expect(g.traps()).toEqual([]);
    expect(g.machine.insns).toBeLessThan(10_000);
  });

  it('wfi with MIE = 1: the interrupt is taken and mepc is the instruction after the wfi', () => {
    const g = runGuest(`
    li t0, ${MTIME}
    ld t1, 0(t0)
    addi t1, t1, 500
    li t0, ${MTIMECMP}
    sd t1, 0(t0)
    li t0, 0x80
    csrs mie, t0
    csrsi mstatus, 8
w:
    wfi
after:
    j pass`, { maxInsns: 100_000 });
    expectTrap(g.traps()[0], { cause: INTERRUPT | IRQ.mti, epc: g.sym('after') });
    expect(g.sym('after') - g.sym('w')).toBe(4n);
  });

  it('wfi does not sleep while an enabled interrupt is pending, even one delegated to S and disabled by SIE', () => {
    // priv 3.3.3: WFI resumes when any interrupt is pending in mip and enabled in mie, ignoring mideleg and xIE.
    const g = runGuest(`
    li t0, 0x20
    csrs mideleg, t0
    csrs mie, t0              # STIE (delegated; sstatus.SIE = 0)
    csrs mip, t0              # STIP
    wfi
    li a1, 1
    csrc mip, t0
    j pass`, { maxInsns: 100_000 });
    expect(g.reg('a1')).toBe(1n);
    expect(g.traps()).toEqual([]);
  });
});

describe('interrupts delegated to S-mode', () => {
  it('delegated SSIP: never in M, not in S with SIE = 0, taken at once in U (to S, SPP = U); sip/sie show it', () => {
    const g = runGuest(`
    li t0, 2
    csrs mideleg, t0
    csrs mie, t0
    csrs mip, t0              # SSIP pending
    csrsi mstatus, 8
    nop
    nop
    csrci mstatus, 8
${enter('S', 's_code')}
s_code:
    csrr a2, sip
    csrr a3, sie
    li t1, 20
s_loop:
    addi t1, t1, -1
    bnez t1, s_loop
    li t0, ${lit(logCount(0))}
    ld a1, 0(t0)
    li t0, ${MSTATUS_SPP}
    csrc sstatus, t0
    la t0, u_code
    csrw sepc, t0
    sret
u_code:
    nop
    j pass`);
    expect([g.reg('a1'), g.reg('a2'), g.reg('a3')]).toEqual([0n, 2n, 2n]);
    const t = g.traps();
    expect(t).toHaveLength(1);
    expectTrap(t[0], { mode: 'S', cause: INTERRUPT | IRQ.ssi, epc: g.sym('u_code') });
    expect(has(t[0].status, MSTATUS_SPP)).toBe(false);
  });

  it('S-mode sets sip.SSIP itself (delegated) and takes it after the write; not delegated, sip.SSIP is read-only 0', () => {
    const g = runGuest(`
    csrsi sie, 2              # SSIE not delegated: sie reads 0
    csrr a3, sie
${enter('S', 's_plain')}
s_plain:
    csrsi sip, 2
    csrr a4, sip
${toM()}
    li t0, 2
    csrs mideleg, t0
    csrs mie, t0
${enter('S', 's_code')}
s_code:
    csrsi sstatus, 2
    csrsi sip, 2
after:
    csrci sip, 2
${toM()}
    j pass`);
    expect([g.reg('a3'), g.reg('a4')]).toEqual([0n, 0n]);
    const t = g.traps();
    expect(t).toHaveLength(1);
    expectTrap(t[0], { mode: 'S', cause: INTERRUPT | IRQ.ssi, epc: g.sym('after') });
    expect(has(t[0].status, MSTATUS_SPP)).toBe(true);
  });

  it('the timer forwarded by M-mode: M handles MTI and sets mip.STIP; S takes STI through a vectored stvec', () => {
    const vec = Array.from({ length: 16 }, (_, k) => `    j ${k === 5 ? 'strap' : 'svec_bad'}`).join('\n');
    const g = runGuest(`
    la t0, m_timer
    csrw mtvec, t0
    la t0, svec
    ori t0, t0, 1
    csrw stvec, t0
    li t0, 0x20
    csrs mideleg, t0
    csrs mie, t0              # STIE
    li t0, 0x80
    csrs mie, t0              # MTIE
    li t0, ${MTIME}
    ld t1, 0(t0)
    addi t1, t1, 300
    li t0, ${MTIMECMP}
    sd t1, 0(t0)
${enter('S', 's_code')}
s_code:
    csrsi sstatus, 2
${waitTraps(1, 's_spin')}
    j pass
    .align 2
m_timer:
    li t6, ${MTIMECMP}
    li t5, -1
    sd t5, 0(t6)              # clears MTIP
    li t6, 0x20
    csrs mip, t6              # raise STIP for S
    mret
svec_bad:
    li a0, 0x5b
    j fail
    .align 8
svec:
${vec}`);
    const t = g.traps();
    expect(t).toHaveLength(1);
    expectTrap(t[0], { mode: 'S', cause: INTERRUPT | IRQ.sti });
    expect([g.sym('s_spin'), g.sym('s_spin') + 4n]).toContain(t[0].epc);
    expect(has(t[0].ip, 1n << IRQ.sti)).toBe(true);
    expect(has(BigInt(g.hart.mip), 1n << IRQ.sti)).toBe(true); // only M can clear it
  });
});

describe('external interrupts through the PLIC (UART THRE, source 10)', () => {
  /** UART IER.THRI = 1 raises the THRE interrupt at once; PLIC priority[10] = 1. */
  const UART_THRE = `
    li t0, ${UART_IER}
    li t1, 2
    sb t1, 0(t0)
    li t0, ${PLIC + 40n}
    li t1, 1
    sw t1, 0(t0)`;

  it('MEI: enabled for hart 0 M context, MEIE and MIE: cause 11; claim returns 10', () => {
    const g = runGuest(`
${UART_THRE}
    li t0, ${PLIC + 0x2000n}
    li t1, ${1 << 10}
    sw t1, 0(t0)              # context 0 (hart 0, M): enable source 10
    li t0, ${1 << 11}
    csrs mie, t0
    csrsi mstatus, 8
    nop
    li t0, ${PLIC + 0x20_0004n}
    lw a0, 0(t0)              # claim
    sw a0, 0(t0)              # complete
    li t0, ${UART_IER}
    sb zero, 0(t0)
    j pass`);
    expectTrap(g.traps()[0], { mode: 'M', cause: INTERRUPT | IRQ.mei });
    expect(g.reg('a0')).toBe(10n);
  });

  it('mip.SEIP from the PLIC is not latched by a csrs/csrc of other mip bits (priv 3.1.9)', () => {
    // "Only the software-writable SEIP bit participates in the read-modify-write
    // sequence of a CSRRS or CSRRC instruction."
    const g = runGuest(`
${UART_THRE}
    li t0, ${PLIC + 0x2080n}
    li t1, ${1 << 10}
    sw t1, 0(t0)              # context 1 (hart 0, S): enable source 10 -> SEIP
    csrr a0, mip
    li t0, 0x20
    csrs mip, t0              # set STIP: must not copy the PLIC's SEIP into the software bit
    li t0, ${PLIC + 0x2080n}
    sw zero, 0(t0)            # SEIP line low again
    csrr a1, mip
    li t0, 0x20
    csrc mip, t0
    csrr a2, mip
    li t0, ${UART_IER}
    sb zero, 0(t0)
    j pass`);
    expect(has(g.reg('a0'), 1n << IRQ.sei)).toBe(true);
    expect(g.reg('a1') & 0x220n).toBe(0x20n);
    expect(g.reg('a2') & 0x220n).toBe(0n);
  });
});

describe('misc CSRs', () => {
  it('misa: RV64 with A, C, I, M, S, U; mhartid per hart; mstatus.UXL = SXL = 2', () => {
    const g = runGuest(`
    csrr a1, misa
    csrr a2, mhartid
    csrr a3, mstatus
    csrr a4, sstatus
    li t0, ${lit(0x8020_0000n)}
    li t1, 1
    amoadd.d zero, t1, (t0)
    bnez a2, park
    li t2, 3
w:  ld t1, 0(t0)
    bne t1, t2, w
    j pass
park:
    wfi
    j park`, { harts: 3 });
    const ext = (c: string): bigint => 1n << BigInt(c.charCodeAt(0) - 65);
    expect(g.reg('a1')).toBe((2n << 62n) | ext('A') | ext('C') | ext('I') | ext('M') | ext('S') | ext('U'));
    expect([g.reg('a2', 0), g.reg('a2', 1), g.reg('a2', 2)]).toEqual([0n, 1n, 2n]);
    expect((g.reg('a3') >> 32n) & 0xfn).toBe(0xan);
    expect((g.reg('a4') >> 32n) & 0x3n).toBe(2n);
  });

  it('WARL fields read back legal values: MPP = 2, xtvec MODE >= 2, misa writes', () => {
    const g = runGuest(`
    li t0, ${MSTATUS_MPP}
    csrc mstatus, t0
    li t0, ${2n << 11n}
    csrs mstatus, t0
    csrr a0, mstatus
    la t0, mtrap
    ori t1, t0, 2
    csrw mtvec, t1
    csrr a1, mtvec
    ori t1, t0, 3
    csrw mtvec, t1
    csrr a2, mtvec
    csrw mtvec, t0
    csrr t0, misa
    csrw misa, zero
    csrr a3, misa
    csrrsi zero, cycle, 0     # a read-only CSR with a zero immediate: no write, no trap
    j pass`);
    expect([0n, 1n, 3n]).toContain((g.reg('a0') & MSTATUS_MPP) >> 11n);
    expect([0n, 1n]).toContain(g.reg('a1') & 3n);
    expect([0n, 1n]).toContain(g.reg('a2') & 3n);
    expect(g.reg('a3')).not.toBe(0n);
    expect(g.traps()).toEqual([]);
  });

  it('satp: writing an unsupported MODE (Sv48) has no effect', () => {
    const g = runGuest(`
    li t0, ${lit((8n << 60n) | 0x12345n)}
    csrw satp, t0
    li t0, ${lit((9n << 60n) | 0x777n)}
    csrw satp, t0
    csrr a0, satp
    csrw satp, zero
    j pass`);
    expect(g.reg('a0')).toBe((8n << 60n) | 0x12345n);
  });
});
