/**
 * RV64A (unpriv chapter 8): every AMO in .w and .d with the signed/unsigned
 * min/max edges, the old value returned (sign-extended for .w), neighbours
 * untouched; LR/SC success and failure; misaligned atomics; reservations
 * broken by another hart's stores.
 */
import { describe, expect, it } from 'vitest';
import { CAUSE, DATA, describeCases, expectTrap, lit, runGuest, sext, type Case } from '../helpers/guest.js';

const MIN64 = 0x8000_0000_0000_0000n;
const MAX64 = 0x7fff_ffff_ffff_ffffn;
const ALL = 0xffff_ffff_ffff_ffffn;
const NEIGHBOUR = 0x5a5a_5a5a_5a5a_5a5an;
const CELL = DATA + 0x4000n;

/**
 * amo<op>.<w|d> with memory = mem and rs2 = src. Captures a0 (rd), a3 (the
 * dword holding the result) and a4 (the next dword). For .w the word sits at
 * +0 or +4 of its dword; the other half must keep NEIGHBOUR's bytes.
 */
function amo(op: string, width: 'w' | 'd', rows: [bigint, bigint, bigint][], at: 0 | 4 = 0): Case[] {
  return rows.map(([mem, src, next]) => {
    const old = width === 'w' ? sext(mem, 32) : mem;
    let dword = next;
    if (width === 'w') dword = at === 0 ? (NEIGHBOUR & ~0xffff_ffffn) | next : ((next << 32n) | (NEIGHBOUR & 0xffff_ffffn));
    return {
      name: `amo${op}.${width}${at ? ' (upper word)' : ''} mem=${lit(mem)} rs2=${lit(src)} -> rd=${lit(old)} mem=${lit(next)}`,
      code: `
    li t0, ${lit(CELL)}
    li t1, ${lit(NEIGHBOUR)}
    sd t1, 0(t0)
    sd t1, 8(t0)
    li a1, ${lit(mem)}
    s${width} a1, ${at}(t0)
    addi t2, t0, ${at}
    li a2, ${lit(src)}
    amo${op}.${width} a0, a2, (t2)
    ld a3, 0(t0)
    ld a4, 8(t0)`,
      want: [old, dword, NEIGHBOUR],
    };
  });
}

const CAPTURE = ['a0', 'a3', 'a4'];

describe('RV64A AMO .w: 32-bit operation, old value sign-extended, rs2[63:32] ignored', () => {
  describeCases('amoswap/amoadd/amoxor/amoand/amoor .w', [
    ...amo('swap', 'w', [[0x8000_0000n, 0x1234n, 0x1234n], [0x1234n, 0xffff_ffff_8765_4321n, 0x8765_4321n]]),
    ...amo('add', 'w', [
      [0x7fff_ffffn, 1n, 0x8000_0000n],
      [0xffff_ffffn, 1n, 0n], // no carry into the neighbour
      [5n, 0x1_0000_0001n, 6n],
      [0x8000_0000n, 0xffff_ffffn, 0x7fff_ffffn],
    ]),
    ...amo('add', 'w', [[0xffff_ffffn, 2n, 1n]], 4),
    ...amo('xor', 'w', [[0xf0f0_f0f0n, 0xffff_ffff_00ff_00ffn, 0xf00f_f00fn]]),
    ...amo('and', 'w', [[0xf0f0_f0f0n, 0xffff_ffff_00ff_00ffn, 0x00f0_00f0n]]),
    ...amo('or', 'w', [[0xf0f0_f0f0n, 0xffff_ffff_00ff_00ffn, 0xf0ff_f0ffn]]),
  ], CAPTURE);

  describeCases('amomin/amomax/amominu/amomaxu .w edges', [
    ...amo('min', 'w', [
      [0x8000_0000n, 1n, 0x8000_0000n],
      [0x7fff_ffffn, 0xffff_ffffn, 0xffff_ffffn],
      [5n, 0x1_0000_0000n, 0n], // rs2 is 0 as a word
      [0xffff_fffen, 0xffff_ffff_ffff_ffffn, 0xffff_fffen],
    ]),
    ...amo('max', 'w', [
      [0x8000_0000n, 0x7fff_ffffn, 0x7fff_ffffn],
      [0xffff_ffffn, 0n, 0n],
      [0x7fff_ffffn, 0x8000_0000n, 0x7fff_ffffn],
    ]),
    ...amo('max', 'w', [[0x8000_0000n, 0xffff_ffffn, 0xffff_ffffn]], 4),
    ...amo('minu', 'w', [
      [0x8000_0000n, 1n, 1n],
      [0xffff_ffffn, 0xffff_fffen, 0xffff_fffen],
      [2n, 0xffff_ffff_0000_0001n, 1n],
      [0x7fff_ffffn, 0x8000_0000n, 0x7fff_ffffn],
    ]),
    ...amo('maxu', 'w', [
      [0x8000_0000n, 0x7fff_ffffn, 0x8000_0000n],
      [0n, 0xffff_ffffn, 0xffff_ffffn],
      [0x7fff_ffffn, 0x8000_0000n, 0x8000_0000n],
      [0xffff_fffen, 0x1_0000_0001n, 0xffff_fffen],
    ]),
    ...amo('minu', 'w', [[0xffff_ffffn, 0n, 0n]], 4),
  ], CAPTURE);
});

describe('RV64A AMO .d', () => {
  describeCases('amoswap/amoadd/amoxor/amoand/amoor .d', [
    ...amo('swap', 'd', [[MIN64, 0x1234n, 0x1234n]]),
    ...amo('add', 'd', [[MAX64, 1n, MIN64], [ALL, 1n, 0n], [0xffff_ffffn, 1n, 0x1_0000_0000n], [MIN64, MIN64, 0n]]),
    ...amo('xor', 'd', [[0xff00_ff00_ff00_ff00n, 0x0f0f_0f0f_0f0f_0f0fn, 0xf00f_f00f_f00f_f00fn]]),
    ...amo('and', 'd', [[0xff00_ff00_ff00_ff00n, 0x0f0f_0f0f_0f0f_0f0fn, 0x0f00_0f00_0f00_0f00n]]),
    ...amo('or', 'd', [[0xff00_ff00_ff00_ff00n, 0x0f0f_0f0f_0f0f_0f0fn, 0xff0f_ff0f_ff0f_ff0fn]]),
  ], CAPTURE);

  describeCases('amomin/amomax/amominu/amomaxu .d edges', [
    ...amo('min', 'd', [[MIN64, MAX64, MIN64], [ALL, 0n, ALL], [MAX64, MIN64, MIN64], [0xffff_ffffn, 0x1_0000_0000n, 0xffff_ffffn]]),
    ...amo('max', 'd', [[MIN64, MAX64, MAX64], [ALL, 0n, 0n], [0x1_0000_0000n, 0xffff_ffffn, 0x1_0000_0000n]]),
    ...amo('minu', 'd', [[MIN64, MAX64, MAX64], [ALL, 0n, 0n], [0x1_0000_0000n, 0xffff_ffffn, 0xffff_ffffn]]),
    ...amo('maxu', 'd', [[ALL, 0n, ALL], [MIN64, MAX64, MIN64], [0x1_0000_0000n, 0xffff_ffffn, 0x1_0000_0000n], [0x1_0000_0000n, 0x1_0000_0001n, 0x1_0000_0001n]]),
  ], CAPTURE);
});

describe('RV64A register aliasing and ordering bits', () => {
  describeCases('rd = rs2, rd = rs1, .aq/.rl/.aqrl', [
    {
      name: 'amoadd.d a2, a2, (t0): rd gets the old value, memory old + rs2',
      code: `
    li t0, ${lit(CELL)}
    li t1, 100
    sd t1, 0(t0)
    li a2, 5
    amoadd.d a2, a2, (t0)
    mv a0, a2
    ld a1, 0(t0)`,
      want: [100n, 105n],
    },
    {
      name: 'amoswap.w t0, a1, (t0): the address is read before rd is written',
      code: `
    li t0, ${lit(CELL)}
    mv t2, t0
    li t1, 0x11
    sw t1, 0(t0)
    li a1, 0x22
    amoswap.w t0, a1, (t0)
    mv a0, t0
    lw a1, 0(t2)`,
      want: [0x11n, 0x22n],
    },
    {
      name: 'amoor.w.aq, amoand.d.rl, amoadd.w.aqrl, lr.d.aq/sc.d.rl work like the plain forms',
      code: `
    li t0, ${lit(CELL)}
    sd zero, 0(t0)
    li t1, 6
    amoor.w.aq zero, t1, (t0)
    li t1, 3
    amoadd.w.aqrl zero, t1, (t0)
    li t1, -2
    amoand.d.rl zero, t1, (t0)
    lr.d.aq a0, (t0)
    addi a0, a0, 1
    sc.d.rl a1, a0, (t0)
    ld a0, 0(t0)`,
      want: [9n, 0n],
    },
  ], ['a0', 'a1']);
});

describe('RV64A LR/SC on one hart', () => {
  it('LR.D/SC.D succeeds: rd = 0 and the store happens', () => {
    const g = runGuest(`
    li t0, ${lit(CELL)}
    li t1, 0x1111
    sd t1, 0(t0)
    lr.d a0, (t0)
    li a2, 0x2222
    sc.d a1, a2, (t0)
    ld a3, 0(t0)
    j pass`);
    expect([g.reg('a0'), g.reg('a1'), g.reg('a3')]).toEqual([0x1111n, 0n, 0x2222n]);
  });

  it('LR.W sign-extends; SC.W writes only its word', () => {
    const g = runGuest(`
    li t0, ${lit(CELL)}
    li t1, ${lit(NEIGHBOUR)}
    sd t1, 0(t0)
    li t1, 0x80000000
    sw t1, 4(t0)
    addi t2, t0, 4
    lr.w a0, (t2)
    li a2, 0x12345678
    sc.w a1, a2, (t2)
    ld a3, 0(t0)
    j pass`);
    expect([g.reg('a0'), g.reg('a1'), g.reg('a3')]).toEqual([0xffff_ffff_8000_0000n, 0n, 0x1234_5678_5a5a_5a5an]);
  });

  it('SC without a preceding LR fails and does not write', () => {
    const g = runGuest(`
    li t0, ${lit(CELL)}
    li t1, 0x1111
    sd t1, 0(t0)
    li a2, 0x2222
    sc.d a1, a2, (t0)
    ld a3, 0(t0)
    sc.w a4, a2, (t0)
    ld a5, 0(t0)
    j pass`);
    expect(g.reg('a1')).not.toBe(0n);
    expect(g.reg('a4')).not.toBe(0n);
    expect([g.reg('a3'), g.reg('a5')]).toEqual([0x1111n, 0x1111n]);
  });

  it('SC to an address outside the reservation fails, and invalidates the reservation', () => {
    const g = runGuest(`
    li t0, ${lit(CELL)}
    addi t2, t0, 64
    li t1, 0x1111
    sd t1, 0(t0)
    sd t1, 0(t2)
    lr.d a0, (t0)
    li a2, 0x2222
    sc.d a1, a2, (t2)
    ld a3, 0(t2)
    sc.d a4, a2, (t0)
    ld a5, 0(t0)
    j pass`);
    expect(g.reg('a1'), 'SC to another address').not.toBe(0n);
    expect(g.reg('a3')).toBe(0x1111n);
    // unpriv 8.2: "executing an SC instruction invalidates any reservation held by this hart"
    expect(g.reg('a4'), 'SC after a failed SC').not.toBe(0n);
    expect(g.reg('a5')).toBe(0x1111n);
  });

  it('SC twice after one LR: the second fails', () => {
    const g = runGuest(`
    li t0, ${lit(CELL)}
    sd zero, 0(t0)
    lr.d a0, (t0)
    li a2, 1
    sc.d a1, a2, (t0)
    li a2, 2
    sc.d a3, a2, (t0)
    ld a4, 0(t0)
    j pass`);
    expect(g.reg('a1')).toBe(0n);
    expect(g.reg('a3')).not.toBe(0n);
    expect(g.reg('a4')).toBe(1n);
  });
});

describe('RV64A misaligned and non-RAM atomics', () => {
  it.each([
    ['lr.w a0, (a1)', 2, CAUSE.misalignedLoad],
    ['lr.d a0, (a1)', 4, CAUSE.misalignedLoad],
    ['sc.w a0, a2, (a1)', 2, CAUSE.misalignedStore],
    ['sc.d a0, a2, (a1)', 4, CAUSE.misalignedStore],
    ['amoadd.w a0, a2, (a1)', 1, CAUSE.misalignedStore],
    ['amoswap.w a0, a2, (a1)', 2, CAUSE.misalignedStore],
    ['amoswap.d a0, a2, (a1)', 4, CAUSE.misalignedStore],
    ['amomaxu.d a0, a2, (a1)', 7, CAUSE.misalignedStore],
  ] as [string, number, bigint][])('%s at +%i traps with cause %i, no register or memory change', (insn, off, cause) => {
    const g = runGuest(`
    li t0, ${lit(CELL)}
    li t1, ${lit(NEIGHBOUR)}
    sd t1, 0(t0)
    sd t1, 8(t0)
    addi a1, t0, ${off}
    li a0, 0x1234
    li a2, -1
insn:
    ${insn}
    ld a3, 0(t0)
    ld a4, 8(t0)
    j pass`);
    expectTrap(g.traps()[0], { mode: 'M', cause, epc: g.sym('insn'), tval: CELL + BigInt(off) });
    expect(g.traps()).toHaveLength(1);
    expect([g.reg('a0'), g.reg('a3'), g.reg('a4')]).toEqual([0x1234n, NEIGHBOUR, NEIGHBOUR]);
  });

  it('AMO and SC to the reset ROM fault with store access fault; LR from it loads', () => {
    const g = runGuest(`
    li a1, 0x1000
    li a2, 1
amo:
    amoadd.w a0, a2, (a1)
    lr.w a3, (a1)
scw:
    sc.w a4, a2, (a1)
    lw a5, 0(a1)
    j pass`);
    const t = g.traps();
    expectTrap(t[0], { cause: CAUSE.storeAccess, epc: g.sym('amo'), tval: 0x1000n });
    expectTrap(t[1], { cause: CAUSE.storeAccess, epc: g.sym('scw'), tval: 0x1000n });
    expect(t).toHaveLength(2);
    // The first word of the reset ROM is auipc t0, 0 (0x00000297), unchanged.
    expect([g.reg('a3'), g.reg('a5')]).toEqual([0x297n, 0x297n]);
  });

  it('atomics to a device (CLINT) are access faults (hart.ts: AMOs and LR/SC need main memory)', () => {
    const g = runGuest(`
    li a1, 0x2004000
    li a2, 1
lr:
    lr.d a0, (a1)
amo:
    amoor.d a0, a2, (a1)
    j pass`);
    const t = g.traps();
    expectTrap(t[0], { cause: CAUSE.loadAccess, epc: g.sym('lr'), tval: 0x200_4000n });
    expectTrap(t[1], { cause: CAUSE.storeAccess, epc: g.sym('amo'), tval: 0x200_4000n });
  });
});

describe('RV64A reservations and other harts (2 harts)', () => {
  /**
   * Hart 1 first stores to the reserved page (so that a store TLB entry
   * could be cached), then tells hart 0 to take the reservation, then runs
   * `intrude`, then hart 0 tries its SC. Result in hart 0's a3 (0 = success).
   */
  function twoHarts(intrude: string): ReturnType<typeof runGuest> {
    return runGuest(`
    li s1, ${lit(CELL)}
    li s2, ${lit(CELL + 0x100n)}
    bnez a0, hart1
hart0:
w0: ld t0, 0(s2)
    li t1, 1
    bne t0, t1, w0
    lr.d a1, (s1)
    li t0, 2
    sd t0, 0(s2)
w2: ld t0, 0(s2)
    li t1, 3
    bne t0, t1, w2
    li a2, 0x77
    sc.d a3, a2, (s1)
    ld a4, 0(s1)
    j pass
hart1:
    sd zero, 0(s1)
    sd zero, 8(s1)
    li t0, 1
    sd t0, 0(s2)
w1: ld t0, 0(s2)
    li t1, 2
    bne t0, t1, w1
${intrude}
    li t0, 3
    sd t0, 0(s2)
park:
    wfi
    j park`, { harts: 2 });
  }

  it('control: with no intervening store the SC succeeds', () => {
    const g = twoHarts('    nop');
    expect(g.reg('a3')).toBe(0n);
    expect(g.reg('a4')).toBe(0x77n);
  });

  it.each([
    ['sd to the reserved dword', '    li t0, 0x55\n    sd t0, 0(s1)', 0x55n],
    ['sb to one byte of it', '    li t0, 0x55\n    sb t0, 3(s1)', 0x5500_0000n],
    ['amoadd.d to it', '    li t0, 0x55\n    amoadd.d zero, t0, (s1)', 0x55n],
    ['a misaligned sw overlapping it', '    li t0, 0x55\n    sw t0, 6(s1)', 0x0055_0000_0000_0000n],
    ['its own successful LR/SC', '    lr.d t0, (s1)\n    li t0, 0x55\n    sc.d t1, t0, (s1)', 0x55n],
  ])('a store by another hart breaks the reservation: %s', (_name, intrude, after) => {
    const g = twoHarts(intrude);
    expect(g.reg('a3'), 'SC after another hart wrote the reserved bytes').not.toBe(0n);
    expect(g.reg('a4')).toBe(after);
  });
});
