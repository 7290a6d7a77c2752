/**
 * RV64C (unpriv chapter 16): compressed parcels written as `.half` literals
 * from an encoder written here from the spec's figures 16.1-16.9, independent
 * of the emulator's table (isa.ts), which the assembler shares. The encoder
 * is pinned to GNU as 2.40 by the anchors below. Reserved encodings must
 * raise illegal instruction with mtval = the 16-bit parcel.
 */
import { describe, expect, it } from 'vitest';
import { CAUSE, DATA, describeCases, expectTrap, lit, runGuest, type Case } from '../helpers/guest.js';

// --- encoder (unpriv 16.2, table 16.1 formats) ---------------------------------------------
const bits = (v: number, hi: number, lo: number): number => (v >> lo) & ((1 << (hi - lo + 1)) - 1);
/** rd'/rs1'/rs2': x8..x15 as 3 bits. */
const p = (r: number): number => {
  if (r < 8 || r > 15) throw new Error(`x${r} has no 3-bit RVC form`);
  return r - 8;
};
const ca = (f6: number, f2: number) => (rd: number, rs2: number): number => (f6 << 10) | (p(rd) << 7) | (f2 << 5) | (p(rs2) << 2) | 1;
const cb = (f3: number) => (rs1: number, o: number): number =>
  (f3 << 13) | (bits(o, 8, 8) << 12) | (bits(o, 4, 3) << 10) | (p(rs1) << 7) | (bits(o, 7, 6) << 5) | (bits(o, 2, 1) << 3) | (bits(o, 5, 5) << 2) | 1;
const C = {
  addi4spn: (rd: number, u: number) => (bits(u, 5, 4) << 11) | (bits(u, 9, 6) << 7) | (bits(u, 2, 2) << 6) | (bits(u, 3, 3) << 5) | (p(rd) << 2),
  lw: (rd: number, u: number, rs1: number) => (2 << 13) | (bits(u, 5, 3) << 10) | (p(rs1) << 7) | (bits(u, 2, 2) << 6) | (bits(u, 6, 6) << 5) | (p(rd) << 2),
  ld: (rd: number, u: number, rs1: number) => (3 << 13) | (bits(u, 5, 3) << 10) | (p(rs1) << 7) | (bits(u, 7, 6) << 5) | (p(rd) << 2),
  sw: (rs2: number, u: number, rs1: number) => (6 << 13) | (bits(u, 5, 3) << 10) | (p(rs1) << 7) | (bits(u, 2, 2) << 6) | (bits(u, 6, 6) << 5) | (p(rs2) << 2),
  sd: (rs2: number, u: number, rs1: number) => (7 << 13) | (bits(u, 5, 3) << 10) | (p(rs1) << 7) | (bits(u, 7, 6) << 5) | (p(rs2) << 2),
  addi: (rd: number, i: number) => (bits(i, 5, 5) << 12) | (rd << 7) | (bits(i, 4, 0) << 2) | 1,
  addiw: (rd: number, i: number) => (1 << 13) | (bits(i, 5, 5) << 12) | (rd << 7) | (bits(i, 4, 0) << 2) | 1,
  li: (rd: number, i: number) => (2 << 13) | (bits(i, 5, 5) << 12) | (rd << 7) | (bits(i, 4, 0) << 2) | 1,
  addi16sp: (i: number) => (3 << 13) | (bits(i, 9, 9) << 12) | (2 << 7) | (bits(i, 4, 4) << 6) | (bits(i, 6, 6) << 5) | (bits(i, 8, 7) << 3) | (bits(i, 5, 5) << 2) | 1,
  /** imm6 = nzimm[17:12] */
  lui: (rd: number, imm6: number) => (3 << 13) | (bits(imm6, 5, 5) << 12) | (rd << 7) | (bits(imm6, 4, 0) << 2) | 1,
  srli: (rd: number, s: number) => (4 << 13) | (bits(s, 5, 5) << 12) | (p(rd) << 7) | (bits(s, 4, 0) << 2) | 1,
  srai: (rd: number, s: number) => (4 << 13) | (bits(s, 5, 5) << 12) | (1 << 10) | (p(rd) << 7) | (bits(s, 4, 0) << 2) | 1,
  andi: (rd: number, i: number) => (4 << 13) | (bits(i, 5, 5) << 12) | (2 << 10) | (p(rd) << 7) | (bits(i, 4, 0) << 2) | 1,
  sub: ca(0x23, 0), xor: ca(0x23, 1), or: ca(0x23, 2), and: ca(0x23, 3), subw: ca(0x27, 0), addw: ca(0x27, 1),
  j: (o: number) => (5 << 13) | (bits(o, 11, 11) << 12) | (bits(o, 4, 4) << 11) | (bits(o, 9, 8) << 9) | (bits(o, 10, 10) << 8) |
    (bits(o, 6, 6) << 7) | (bits(o, 7, 7) << 6) | (bits(o, 3, 1) << 3) | (bits(o, 5, 5) << 2) | 1,
  beqz: cb(6), bnez: cb(7),
  slli: (rd: number, s: number) => (bits(s, 5, 5) << 12) | (rd << 7) | (bits(s, 4, 0) << 2) | 2,
  lwsp: (rd: number, u: number) => (2 << 13) | (bits(u, 5, 5) << 12) | (rd << 7) | (bits(u, 4, 2) << 4) | (bits(u, 7, 6) << 2) | 2,
  ldsp: (rd: number, u: number) => (3 << 13) | (bits(u, 5, 5) << 12) | (rd << 7) | (bits(u, 4, 3) << 5) | (bits(u, 8, 6) << 2) | 2,
  jr: (rs1: number) => (8 << 12) | (rs1 << 7) | 2,
  mv: (rd: number, rs2: number) => (8 << 12) | (rd << 7) | (rs2 << 2) | 2,
  ebreak: () => 0x9002,
  jalr: (rs1: number) => (9 << 12) | (rs1 << 7) | 2,
  add: (rd: number, rs2: number) => (9 << 12) | (rd << 7) | (rs2 << 2) | 2,
  swsp: (rs2: number, u: number) => (6 << 13) | (bits(u, 5, 2) << 9) | (bits(u, 7, 6) << 7) | (rs2 << 2) | 2,
  sdsp: (rs2: number, u: number) => (7 << 13) | (bits(u, 5, 3) << 10) | (bits(u, 8, 6) << 7) | (rs2 << 2) | 2,
};
const RA = 1, S1 = 9, A0 = 10, A1 = 11, A2 = 12, A5 = 15;
const half = (v: number): string => `    .half 0x${v.toString(16).padStart(4, '0')}`;

describe('RVC encoder anchors (objdump of GNU as 2.40, -march=rv64imac)', () => {
  it.each([
    ['c.addi4spn a0, sp, 1020', C.addi4spn(A0, 1020), 0x1fe8],
    ['c.lw a0, 124(a1)', C.lw(A0, 124, A1), 0x5de8],
    ['c.ld a2, 128(s1)', C.ld(A2, 128, S1), 0x60d0],
    ['c.sd a2, 248(a1)', C.sd(A2, 248, A1), 0xfdf0],
    ['c.addi16sp sp, -512', C.addi16sp(-512), 0x7101],
    ['c.lui a0, 0xfffe0', C.lui(A0, 0x20), 0x7501],
    ['c.srai a0, 63', C.srai(A0, 63), 0x957d],
    ['c.subw a0, a1', C.subw(A0, A1), 0x9d0d],
    ['c.j .-2048', C.j(-2048), 0xb001],
    ['c.bnez s1, .-256', C.bnez(S1, -256), 0xf081],
    ['c.ldsp a0, 504(sp)', C.ldsp(A0, 504), 0x757e],
    ['c.sdsp a0, 504(sp)', C.sdsp(A0, 504), 0xffaa],
    ['c.swsp a0, 252(sp)', C.swsp(A0, 252), 0xdfaa],
    ['c.jalr a1', C.jalr(A1), 0x9582],
  ])('%s = 0x%s', (_name, got, want) => {
    expect(got.toString(16)).toBe(want.toString(16));
  });
});

/** A case: `setup` in 32-bit code, then the parcels, then `after`; capture a0 (and a1). */
function c(name: string, setup: string, parcels: number[], want: bigint[], after = ''): Case {
  return { name, code: `${setup}\n${parcels.map(half).join('\n')}\n${after}`, want };
}
const MEM = DATA + 0x6000n;

describe('RV64C computation and memory', () => {
  describeCases('each compressed form against its effect', [
    c('c.addi4spn a0, sp, 1020', 'li sp, 0x10000\nli a1, 0', [C.addi4spn(A0, 1020)], [0x10000n + 1020n, 0n]),
    c('c.addi4spn a5, sp, 4', 'li sp, 0x10000\nli a1, 0', [C.addi4spn(A5, 4)], [0n, 0n], 'addi a0, a5, -4\nli t0, 0x10000\nsub a0, a0, t0'),
    c('c.lw a0, 124(a1) sign-extends', `li a1, ${lit(MEM)}\nli t0, 0x80000001\nsw t0, 124(a1)`, [C.lw(A0, 124, A1)], [0xffff_ffff_8000_0001n, MEM]),
    c('c.ld a2, 128(s1)', `li s1, ${lit(MEM)}\nli t0, 0x123456789abcdef0\nsd t0, 128(s1)\nli a1, 0`, [C.ld(A2, 128, S1)], [0x1234_5678_9abc_def0n, 0n], 'mv a0, a2'),
    c('c.sw a2, 124(a1) stores the low word only', `li a1, ${lit(MEM + 0x100n)}\nli t0, -1\nsd t0, 120(a1)\nli a2, 0x1122334455667788`, [C.sw(A2, 124, A1)], [0x5566_7788_ffff_ffffn, 0n], 'ld a0, 120(a1)\nli a1, 0'),
    c('c.sd a2, 248(a1)', `li a1, ${lit(MEM + 0x200n)}\nli a2, 0x1122334455667788`, [C.sd(A2, 248, A1)], [0x1122_3344_5566_7788n, 0n], 'ld a0, 248(a1)\nli a1, 0'),
    c('c.addi a0, -32', 'li a0, 0\nli a1, 0', [C.addi(A0, -32)], [0xffff_ffff_ffff_ffe0n, 0n]),
    c('c.addi a0, 31 carries into the high word', 'li a0, 0xfffffff0\nli a1, 0', [C.addi(A0, 31)], [0x1_0000_000fn, 0n]),
    c('c.addiw a0, 1 sign-extends', 'li a0, 0x7fffffff\nli a1, 0', [C.addiw(A0, 1)], [0xffff_ffff_8000_0000n, 0n]),
    c('c.addiw a0, 0 (sext.w)', 'li a0, 0x180000000\nli a1, 0', [C.addiw(A0, 0)], [0xffff_ffff_8000_0000n, 0n]),
    c('c.addiw a0, -1 of 0x1_0000_0000', 'li a0, 0x100000000\nli a1, 0', [C.addiw(A0, -1)], [0xffff_ffff_ffff_ffffn, 0n]),
    c('c.li a0, -32', 'li a0, 5\nli a1, 0', [C.li(A0, -32)], [0xffff_ffff_ffff_ffe0n, 0n]),
    c('c.addi16sp sp, -512', 'li sp, 0x10000\nli a1, 0', [C.addi16sp(-512)], [0x10000n - 512n, 0n], 'mv a0, sp'),
    c('c.addi16sp sp, 496', 'li sp, 0x10000\nli a1, 0', [C.addi16sp(496)], [0x10000n + 496n, 0n], 'mv a0, sp'),
    c('c.addi16sp sp, 16 / 32 / 64 / 128 / 256', 'li sp, 0\nli a1, 0',
      [C.addi16sp(16), C.addi16sp(32), C.addi16sp(64), C.addi16sp(128), C.addi16sp(256)], [496n, 0n], 'mv a0, sp'),
    c('c.lui a0, 0xfffe0 (nzimm[17] set: sign-extended)', 'li a1, 0', [C.lui(A0, 0x20)], [0xffff_ffff_fffe_0000n, 0n]),
    c('c.lui a0, 1', 'li a1, 0', [C.lui(A0, 1)], [0x1000n, 0n]),
    c('c.lui a0, 0x1f', 'li a1, 0', [C.lui(A0, 0x1f)], [0x1_f000n, 0n]),
    c('c.srli a0, 32 (6-bit shamt)', 'li a0, 0x8123456789abcdef\nli a1, 0', [C.srli(A0, 32)], [0x8123_4567n, 0n]),
    c('c.srli a0, 63', 'li a0, 0x8123456789abcdef\nli a1, 0', [C.srli(A0, 63)], [1n, 0n]),
    c('c.srai a0, 63', 'li a0, 0x8123456789abcdef\nli a1, 0', [C.srai(A0, 63)], [0xffff_ffff_ffff_ffffn, 0n]),
    c('c.srai a0, 32', 'li a0, 0x8123456789abcdef\nli a1, 0', [C.srai(A0, 32)], [0xffff_ffff_8123_4567n, 0n]),
    c('c.srai s1, 5', 'li s1, -64\nli a1, 0', [C.srai(S1, 5)], [0xffff_ffff_ffff_fffen, 0n], 'mv a0, s1'),
    c('c.slli a0, 63', 'li a0, 3\nli a1, 0', [C.slli(A0, 63)], [0x8000_0000_0000_0000n, 0n]),
    c('c.slli a0, 32', 'li a0, 0x89abcdef\nli a1, 0', [C.slli(A0, 32)], [0x89ab_cdef_0000_0000n, 0n]),
    c('c.andi a0, -32', 'li a0, -1\nli a1, 0', [C.andi(A0, -32)], [0xffff_ffff_ffff_ffe0n, 0n]),
    c('c.andi a0, 31', 'li a0, -1\nli a1, 0', [C.andi(A0, 31)], [31n, 0n]),
    c('c.sub a0, a1', 'li a0, 0x100000000\nli a1, 1', [C.sub(A0, A1)], [0xffff_ffffn, 1n]),
    c('c.xor a0, a1', 'li a0, 0xff00ff00ff00ff00\nli a1, 0x0f0f0f0f0f0f0f0f', [C.xor(A0, A1)], [0xf00f_f00f_f00f_f00fn, 0x0f0f_0f0f_0f0f_0f0fn]),
    c('c.or a0, a1', 'li a0, 0xff00ff00ff00ff00\nli a1, 0x0f0f0f0f0f0f0f0f', [C.or(A0, A1)], [0xff0f_ff0f_ff0f_ff0fn, 0x0f0f_0f0f_0f0f_0f0fn]),
    c('c.and a0, a1', 'li a0, 0xff00ff00ff00ff00\nli a1, 0x0f0f0f0f0f0f0f0f', [C.and(A0, A1)], [0x0f00_0f00_0f00_0f00n, 0x0f0f_0f0f_0f0f_0f0fn]),
    c('c.subw a0, a1: 0x80000000 - 1', 'li a0, 0x80000000\nli a1, 1', [C.subw(A0, A1)], [0x7fff_ffffn, 1n]),
    c('c.subw a0, a1: 0 - 1 sign-extended', 'li a0, 0x500000000\nli a1, 1', [C.subw(A0, A1)], [0xffff_ffff_ffff_ffffn, 1n]),
    c('c.addw a0, a1: 0x7fffffff + 1 sign-extended', 'li a0, 0x7fffffff\nli a1, 0x300000001', [C.addw(A0, A1)], [0xffff_ffff_8000_0000n, 0x3_0000_0001n]),
    c('c.mv a0, a1', 'li a0, 0\nli a1, 0x123456789', [C.mv(A0, A1)], [0x1_2345_6789n, 0x1_2345_6789n]),
    c('c.add a0, a1', 'li a0, 0xffffffff\nli a1, 1', [C.add(A0, A1)], [0x1_0000_0000n, 1n]),
    c('c.lwsp a0, 252(sp) sign-extends', `li sp, ${lit(MEM + 0x400n)}\nli t0, 0xfffffffe\nsw t0, 252(sp)\nli a1, 0`, [C.lwsp(A0, 252)], [0xffff_ffff_ffff_fffen, 0n]),
    c('c.lwsp ra, 64(sp)', `li sp, ${lit(MEM + 0x400n)}\nli t0, 0x7654321\nsw t0, 64(sp)\nli a1, 0`, [C.lwsp(RA, 64)], [0x765_4321n, 0n], 'mv a0, ra'),
    c('c.ldsp a0, 504(sp)', `li sp, ${lit(MEM + 0x800n)}\nli t0, 0xfedcba9876543210\nsd t0, 504(sp)\nli a1, 0`, [C.ldsp(A0, 504)], [0xfedc_ba98_7654_3210n, 0n]),
    c('c.swsp a0, 252(sp)', `li sp, ${lit(MEM + 0xc00n)}\nsd zero, 248(sp)\nli a0, 0x1122334455667788\nli a1, 0`, [C.swsp(A0, 252)], [0x5566_7788_0000_0000n, 0n], 'ld a0, 248(sp)'),
    c('c.sdsp a0, 504(sp)', `li sp, ${lit(MEM + 0xc00n)}\nli a0, 0x1122334455667788\nli a1, 0`, [C.sdsp(A0, 504)], [0x1122_3344_5566_7788n, 0n], 'ld a0, 504(sp)'),
  ], ['a0', 'a1']);
});

describe('RV64C control transfer', () => {
  // Offsets are fixed by the layout: the assembler does not compress, so every
  // 32-bit mnemonic below is 4 bytes.
  describeCases('c.j / c.beqz / c.bnez / c.jr / c.jalr', [
    c('c.j .+6 skips one 4-byte instruction', 'li a0, 0\nli a1, 0', [C.j(6)], [0n, 0n], 'li a0, 1'),
    {
      name: 'c.j .-8 jumps backward',
      code: `
    li a0, 0
    li a1, 0
    j 2f
1:  li a1, 1
    j 3f
2:
${half(C.j(-8))}
    li a0, 1
3:`,
      want: [0n, 1n],
    },
    c('c.beqz a0, .+6 taken', 'li a0, 0\nli a1, 0', [C.beqz(A0, 6)], [0n, 0n], 'li a1, 1'),
    c('c.beqz a0, .+6 not taken (a0 = 0x1_0000_0000: all 64 bits compared)', 'li a0, 0x100000000\nli a1, 0', [C.beqz(A0, 6)], [0x1_0000_0000n, 1n], 'li a1, 1'),
    c('c.bnez a0, .+6 taken', 'li a0, -1\nli a1, 0', [C.bnez(A0, 6)], [0xffff_ffff_ffff_ffffn, 0n], 'li a1, 1'),
    c('c.bnez a0, .+6 not taken', 'li a0, 0\nli a1, 0', [C.bnez(A0, 6)], [0n, 1n], 'li a1, 1'),
    {
      name: 'c.beqz a0, .-8 taken backward',
      code: `
    li a0, 0
    li a1, 0
    j 2f
1:  li a1, 1
    j 3f
2:
${half(C.beqz(A0, -8))}
    li a0, 7
3:`,
      want: [0n, 1n],
    },
    {
      name: 'c.bnez a0, .-8 taken backward',
      code: `
    li a0, 9
    li a1, 0
    j 2f
1:  li a1, 1
    j 3f
2:
${half(C.bnez(A0, -8))}
    li a0, 7
3:`,
      want: [9n, 1n],
    },
    {
      name: 'c.jr a1 jumps without linking',
      code: `
    li ra, 0
    la a1, 1f
${half(C.jr(A1))}
    li ra, 5
1:  mv a0, ra
    li a1, 0`,
      want: [0n, 0n],
    },
  ], ['a0', 'a1']);

  it('c.jalr a1 links pc + 2', () => {
    const g = runGuest(`
    la a1, target
cjalr:
${half(C.jalr(A1))}
    j fail
target:
    mv a0, ra
    j pass`);
    expect(g.reg('a0')).toBe(g.sym('cjalr') + 2n);
  });

  it('c.ebreak raises breakpoint at its own address', () => {
    const g = runGuest(`
cebreak:
${half(C.ebreak())}
    .half 0x0001
    j pass`);
    // mtval = pc for breakpoints is this machine's choice (priv 3.1.16 allows 0 too).
    expectTrap(g.traps()[0], { cause: CAUSE.breakpoint, epc: g.sym('cebreak'), tval: g.sym('cebreak') });
    expect(g.traps()).toHaveLength(1);
  });

  it('a 32-bit instruction at a 2-byte-aligned address runs (IALIGN = 16)', () => {
    const g = runGuest(`
    li a0, 0
    .half 0x0001          # c.nop: what follows is only 2-byte aligned
    addi a0, a0, 0x123
    j pass`);
    expect(g.reg('a0')).toBe(0x123n);
  });
});

describe('RV64C HINTs execute as no-ops (unpriv 16.7)', () => {
  it.each([
    ['c.addi x0, 1 (c.nop with imm)', C.addi(0, 1)],
    ['c.li x0, 5', C.li(0, 5)],
    ['c.lui x0, 1', C.lui(0, 1)],
    ['c.mv x0, a0', C.mv(0, A0)],
    ['c.add x0, a0', C.add(0, A0)],
    ['c.slli x0, 1', C.slli(0, 1)],
    ['c.addi a0, 0', C.addi(A0, 0)],
  ])('%s', (_name, parcel) => {
    const g = runGuest(`
    li a0, 0x55
${half(parcel)}
    mv a1, zero
    j pass`);
    expect(g.traps()).toEqual([]);
    expect([g.reg('a0'), g.reg('a1')]).toEqual([0x55n, 0n]);
  });
});

describe('RV64C reserved and unsupported encodings: illegal instruction, mtval = the parcel', () => {
  it.each([
    ['0x0000 (defined illegal instruction)', 0x0000],
    ['c.addi4spn a1\', sp, 0 (nzuimm = 0)', 0x0004],
    ['c.lui a0, 0 (nzimm = 0)', 0x6501],
    ['c.addi16sp sp, 0 (nzimm = 0)', 0x6101],
    ['c.jr x0', 0x8002],
    ['c.lwsp x0, 4(sp)', C.lwsp(0, 4)],
    ['c.lwsp x0, 0(sp)', 0x4002],
    ['c.ldsp x0, 8(sp)', C.ldsp(0, 8)],
    ['c.addiw x0, 1', C.addiw(0, 1)],
    ['quadrant 0, funct3 = 100 (reserved)', 0x8000],
    ['c.subw-space funct2 = 10 (reserved on RV64)', 0x9c41],
    ['c.subw-space funct2 = 11 (reserved on RV64)', 0x9c61],
    ['c.fld (no D extension)', 0x2000],
    ['c.fsd (no D extension)', 0xa000],
    ['c.fldsp (no D extension)', 0x2002],
    ['c.fsdsp (no D extension)', 0xa002],
  ])('%s', (_name, parcel) => {
    const g = runGuest(`
    li a0, 0x55
bad:
${half(parcel)}
    .half 0x0001          # c.nop: the handler resumes here
    j pass`);
    expectTrap(g.traps()[0], { mode: 'M', cause: CAUSE.illegal, epc: g.sym('bad'), tval: BigInt(parcel) });
    expect(g.traps()).toHaveLength(1);
    expect(g.reg('a0')).toBe(0x55n);
  });

  it('mtval holds only the 16 bits of a reserved parcel even when the next parcel is non-zero', () => {
    const g = runGuest(`
bad:
    .half 0x6101          # c.addi16sp sp, 0: reserved
    .half 0x4501          # c.li a0, 0
    j pass`);
    expectTrap(g.traps()[0], { cause: CAUSE.illegal, epc: g.sym('bad'), tval: 0x6101n });
  });
});
