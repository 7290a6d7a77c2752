/**
 * RV64I, table-driven (unpriv chapters 2 and 5): each table is one guest
 * program; each row loads its inputs with `li`, runs one instruction and
 * records the result register. Expected values are written out by hand.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CAUSE, DATA, describeCases, expectTrap, lit, runBlocks, runGuest, sext, u64, uid, type Case, type Guest,
} from '../helpers/guest.js';

const MIN64 = 0x8000_0000_0000_0000n;
const MAX64 = 0x7fff_ffff_ffff_ffffn;
const ALL = 0xffff_ffff_ffff_ffffn;

/** rd = op(rs1 = a, rs2 = b) */
const rr = (op: string, rows: [bigint, bigint, bigint][]): Case[] =>
  rows.map(([a, b, r]) => ({
    name: `${op} ${lit(a)}, ${lit(b)} = ${lit(r)}`,
    code: `    li a1, ${lit(a)}\n    li a2, ${lit(b)}\n    ${op} a0, a1, a2`,
    want: [r],
  }));

/** rd = op(rs1 = a, imm) */
const ri = (op: string, rows: [bigint, number, bigint][]): Case[] =>
  rows.map(([a, imm, r]) => ({
    name: `${op} ${lit(a)}, ${imm} = ${lit(r)}`,
    code: `    li a1, ${lit(a)}\n    ${op} a0, a1, ${imm}`,
    want: [r],
  }));

describe('RV64I integer computation', () => {
  describeCases('add: carries across bits 31/32 and 63', rr('add', [
    [1n, 2n, 3n],
    [0x7fff_ffffn, 1n, 0x8000_0000n],
    [0xffff_ffffn, 1n, 0x1_0000_0000n],
    [0xffff_ffffn, 0xffff_ffffn, 0x1_ffff_fffen],
    [MAX64, 1n, MIN64],
    [ALL, 1n, 0n],
    [MIN64, MIN64, 0n],
    [0xffff_ffff_0000_0000n, 0x1_0000_0000n, 0n],
    [u64(-5n), 3n, u64(-2n)],
  ]));

  describeCases('sub: borrows across bits 31/32 and 63', rr('sub', [
    [0n, 1n, ALL],
    [0x1_0000_0000n, 1n, 0xffff_ffffn],
    [0x8000_0000n, 1n, 0x7fff_ffffn],
    [MIN64, 1n, MAX64],
    [5n, 7n, u64(-2n)],
    [MAX64, ALL, MIN64],
    [0x1_0000_0000n, 0x1_0000_0000n, 0n],
  ]));

  describeCases('addw/subw: 32-bit result sign-extended, upper input bits ignored', [
    ...rr('addw', [
      [0x7fff_ffffn, 1n, 0xffff_ffff_8000_0000n],
      [0xffff_ffffn, 1n, 0n],
      [0x1_0000_0005n, 0x2_0000_0003n, 8n],
      [0x8000_0000n, 0x8000_0000n, 0n],
      [0x8000_0000n, 0n, 0xffff_ffff_8000_0000n],
      [0x7fff_fffen, 0n, 0x7fff_fffen],
    ]),
    ...rr('subw', [
      [0n, 1n, ALL],
      [0x8000_0000n, 1n, 0x7fff_ffffn],
      [0x7fff_ffffn, ALL, 0xffff_ffff_8000_0000n],
      [0x1_0000_0000n, 0n, 0n],
      [0x5_0000_0003n, 0x3n, 0n],
    ]),
  ]);

  describeCases('addi/addiw: 12-bit immediate sign-extended', [
    ...ri('addi', [
      [0n, -1, ALL],
      [0xffff_ffffn, 1, 0x1_0000_0000n],
      [MAX64, 1, MIN64],
      [5n, -2048, 0xffff_ffff_ffff_f805n],
      [0n, 2047, 0x7ffn],
      [0x1_0000_0000n, -1, 0xffff_ffffn],
    ]),
    ...ri('addiw', [
      [0x7fff_ffffn, 1, 0xffff_ffff_8000_0000n],
      [0xffff_ffffn, 0, ALL],
      [0x1_2345_6789n, 0, 0x2345_6789n],
      [0x8000_0000n, -1, 0x7fff_ffffn],
      [0n, -2048, 0xffff_ffff_ffff_f800n],
    ]),
  ]);

  describeCases('slt/sltu with mixed signs', [
    ...rr('slt', [
      [ALL, 1n, 1n],
      [1n, ALL, 0n],
      [MIN64, MAX64, 1n],
      [MAX64, MIN64, 0n],
      [0x8000_0000n, 0x7fff_ffffn, 0n],
      [u64(-2n), ALL, 1n],
      [5n, 5n, 0n],
      [0xffff_ffffn, 0x1_0000_0000n, 1n],
      [u64(-0x1_0000_0000n), u64(-0xffff_ffffn), 1n],
    ]),
    ...rr('sltu', [
      [ALL, 1n, 0n],
      [1n, ALL, 1n],
      [MIN64, MAX64, 0n],
      [0x7fff_ffffn, 0x8000_0000n, 1n],
      [5n, 5n, 0n],
      [0xffff_ffffn, 0x1_0000_0000n, 1n],
      [0x1_0000_0000n, 0xffff_ffffn, 0n],
    ]),
    ...ri('slti', [
      [ALL, 0, 1n],
      [0n, -1, 0n],
      [2047n, 2047, 0n],
      [2046n, 2047, 1n],
      [MIN64, -2048, 1n],
      [u64(-2048n), -2048, 0n],
      [0x8000_0000n, -1, 0n],
    ]),
    ...ri('sltiu', [
      [0n, 1, 1n],
      [5n, 1, 0n],
      [ALL, -1, 0n],
      [u64(-2n), -1, 1n],
      [0x7ffn, -2048, 1n],
      [u64(-2048n), -2048, 0n],
      [0x1_0000_0000n, 2047, 0n],
    ]),
  ]);

  describeCases('logic: xor/or/and and their immediates (sign-extended)', [
    ...rr('xor', [[0xff00_ff00_ff00_ff00n, 0x0f0f_0f0f_0f0f_0f0fn, 0xf00f_f00f_f00f_f00fn]]),
    ...rr('or', [[0xff00_ff00_ff00_ff00n, 0x0f0f_0f0f_0f0f_0f0fn, 0xff0f_ff0f_ff0f_ff0fn]]),
    ...rr('and', [[0xff00_ff00_ff00_ff00n, 0x0f0f_0f0f_0f0f_0f0fn, 0x0f00_0f00_0f00_0f00n]]),
    ...ri('xori', [
      [0x0123_4567_89ab_cdefn, -1, 0xfedc_ba98_7654_3210n],
      [0xffff_ffff_0000_0000n, 0x7ff, 0xffff_ffff_0000_07ffn],
    ]),
    ...ri('ori', [
      [0n, -2048, 0xffff_ffff_ffff_f800n],
      [0x1_0000_0000n, 0x555, 0x1_0000_0555n],
    ]),
    ...ri('andi', [
      [ALL, 0x7ff, 0x7ffn],
      [0x1234_5678_9abc_deffn, -16, 0x1234_5678_9abc_def0n],
      [0xffff_ffff_0000_0000n, -1, 0xffff_ffff_0000_0000n],
    ]),
  ]);
});

describe('RV64I shifts', () => {
  const V = 0x8123_4567_89ab_cdefn;
  // [shamt, sll, srl, sra] of V
  const rows: [number, bigint, bigint, bigint][] = [
    [0, V, V, V],
    [1, 0x0246_8acf_1357_9bden, 0x4091_a2b3_c4d5_e6f7n, 0xc091_a2b3_c4d5_e6f7n],
    [31, 0xc4d5_e6f7_8000_0000n, 0x1_0246_8acfn, 0xffff_ffff_0246_8acfn],
    [32, 0x89ab_cdef_0000_0000n, 0x8123_4567n, 0xffff_ffff_8123_4567n],
    [63, MIN64, 1n, ALL],
  ];
  describeCases('slli/srli/srai: 6-bit shift amounts', rows.flatMap(([sh, l, r, a]) => [
    ...ri('slli', [[V, sh, l]]),
    ...ri('srli', [[V, sh, r]]),
    ...ri('srai', [[V, sh, a]]),
  ]));

  describeCases('sll/srl/sra: amount from rs2[5:0]', [
    ...rows.flatMap(([sh, l, r, a]) => [
      ...rr('sll', [[V, BigInt(sh), l]]),
      ...rr('srl', [[V, BigInt(sh), r]]),
      ...rr('sra', [[V, BigInt(sh), a]]),
    ]),
    // Only the low 6 bits of rs2 count: 64 shifts by 0, 65 by 1, -1 by 63.
    ...rr('sll', [[V, 64n, V], [V, 65n, 0x0246_8acf_1357_9bden], [V, ALL, MIN64]]),
    ...rr('srl', [[V, 64n, V], [V, 0x1_0000_0020n, 0x8123_4567n]]),
    ...rr('sra', [[V, ALL, ALL], [V, 0xffc0n, V]]),
  ]);

  describeCases('sllw/srlw/sraw: 5-bit amounts, 32-bit results sign-extended', [
    ...rr('sllw', [
      [1n, 31n, 0xffff_ffff_8000_0000n],
      [1n, 32n, 1n],
      [1n, 33n, 2n],
      [0x1_ffff_ffffn, 0n, ALL],
      [0x0123_4567_89ab_cdefn, 4n, 0xffff_ffff_9abc_def0n],
      [3n, 63n, 0xffff_ffff_8000_0000n],
    ]),
    ...rr('srlw', [
      [0xffff_ffff_8000_0000n, 31n, 1n],
      [0xffff_ffff_8000_0000n, 0n, 0xffff_ffff_8000_0000n],
      [0xffff_ffff_8000_0000n, 32n, 0xffff_ffff_8000_0000n],
      [0x8000_0000n, 1n, 0x4000_0000n],
      [0x0123_4567_89ab_cdefn, 63n, 1n],
    ]),
    ...rr('sraw', [
      [0x8000_0000n, 31n, ALL],
      [0x8000_0000n, 1n, 0xffff_ffff_c000_0000n],
      [0x1_7fff_ffffn, 4n, 0x07ff_ffffn],
      [0x8000_0000n, 32n, 0xffff_ffff_8000_0000n],
      [0x8000_0000n, 33n, 0xffff_ffff_c000_0000n],
    ]),
    ...ri('slliw', [[1n, 31, 0xffff_ffff_8000_0000n], [0xffff_ffffn, 0, ALL], [0x1_0000_0001n, 1, 2n]]),
    ...ri('srliw', [[0x8000_0000n, 0, 0xffff_ffff_8000_0000n], [0xffff_ffffn, 1, 0x7fff_ffffn], [0xffff_ffffn, 31, 1n]]),
    ...ri('sraiw', [[0x8000_0000n, 31, ALL], [0x7fff_ffffn, 31, 0n], [0x1_8000_0000n, 4, 0xffff_ffff_f800_0000n]]),
  ]);

  it('slliw/srliw/sraiw with shamt[5] = 1 are reserved: illegal instruction', () => {
    // slliw a0, a0, 32 / srliw a0, a0, 33 / sraiw a0, a0, 63 (funct7 bit 25 set)
    const words = [0x0205151b, 0x0215551b, 0x43f5551b];
    const g = runGuest(words.map((w) => `    .word ${lit(BigInt(w))}`).join('\n') + '\n    j pass');
    const t = g.traps();
    expect(t.map((x) => x.cause)).toEqual([CAUSE.illegal, CAUSE.illegal, CAUSE.illegal]);
    expect(t.map((x) => x.tval)).toEqual(words.map(BigInt));
  });
});

describe('RV64I lui/auipc', () => {
  describeCases('lui: imm20 << 12, sign-extended from bit 31', [
    [0x80000, 0xffff_ffff_8000_0000n],
    [0x7ffff, 0x7fff_f000n],
    [0xfffff, 0xffff_ffff_ffff_f000n],
    [0x00001, 0x1000n],
    [0, 0n],
  ].map(([imm, r]) => ({ name: `lui 0x${imm.toString(16)}`, code: `    lui a0, 0x${imm.toString(16)}`, want: [r as bigint] })));

  const auipc = (imm: number): Case => {
    const l = uid('auipc');
    return {
      name: `auipc 0x${imm.toString(16)} = pc + sext(imm << 12)`,
      code: `${l}:\n    auipc a0, 0x${imm.toString(16)}`,
      want: (g: Guest) => [u64(g.sym(l) + BigInt.asIntN(32, BigInt(imm) << 12n))],
    };
  };
  describeCases('auipc', [auipc(0), auipc(1), auipc(0x7ffff), auipc(0x80000), auipc(0xfffff)]);
});

describe('RV64I branches', () => {
  const pairs: [bigint, bigint][] = [
    [5n, 5n],
    [0x1_0000_0005n, 5n], // differ in the high word only
    [ALL, 1n],
    [1n, ALL],
    [MIN64, MAX64],
    [0x8000_0000n, 0x7fff_ffffn],
    [u64(-2n), ALL],
    [0n, 0n],
  ];
  const ops: [string, (a: bigint, b: bigint) => boolean][] = [
    ['beq', (a, b) => a === b],
    ['bne', (a, b) => a !== b],
    ['blt', (a, b) => BigInt.asIntN(64, a) < BigInt.asIntN(64, b)],
    ['bge', (a, b) => BigInt.asIntN(64, a) >= BigInt.asIntN(64, b)],
    ['bltu', (a, b) => a < b],
    ['bgeu', (a, b) => a >= b],
  ];
  // a0: taken forward, a3: taken backward (negative offset).
  const cases: Case[] = ops.flatMap(([op, ref]) => pairs.map(([a, b]) => {
    const l = uid(op);
    const t = ref(a, b) ? 1n : 0n;
    return {
      name: `${op} ${lit(a)}, ${lit(b)} ${t ? 'taken' : 'not taken'} (forward and backward)`,
      code: `
    li a1, ${lit(a)}
    li a2, ${lit(b)}
    li a0, 0
    li a3, 0
    ${op} a1, a2, ${l}_ft
    j ${l}_fd
${l}_ft:
    li a0, 1
${l}_fd:
    j ${l}_bs
${l}_bt:
    li a3, 1
    j ${l}_bd
${l}_bs:
    ${op} a1, a2, ${l}_bt
${l}_bd:`,
      want: [t, t],
    };
  }));
  describeCases('every condition, both directions', cases, ['a0', 'a3']);
});

describe('RV64I jal/jalr', () => {
  const l = uid('j');
  describeCases('link values and targets', [
    {
      name: 'jal forward: rd = address of the next instruction',
      code: `
${l}_a:
    jal ra, ${l}_a_t
${l}_a_ret:
    li a0, 0
    j ${l}_a_end
${l}_a_t:
    li a1, 1
    mv a0, ra
${l}_a_end:`,
      want: (g) => [g.sym(`${l}_a_ret`), 1n],
    },
    {
      name: 'jal backward (negative offset)',
      code: `
    j ${l}_b_setup
${l}_b_t:
    li a1, 1
    mv a0, ra
    j ${l}_b_end
${l}_b_setup:
    jal ra, ${l}_b_t
${l}_b_ret:
    li a0, 0
${l}_b_end:`,
      want: (g) => [g.sym(`${l}_b_ret`), 1n],
    },
    {
      name: 'jalr clears bit 0 of the target (rs1 odd)',
      code: `
    li a1, 0
    la t0, ${l}_c_t
    addi t0, t0, 1
    jalr ra, 0(t0)
${l}_c_ret:
    j ${l}_c_end
    .align 2
${l}_c_t:
    li a1, 1
    mv a0, ra
    j ${l}_c_end
${l}_c_end:`,
      want: (g) => [g.sym(`${l}_c_ret`), 1n],
    },
    {
      name: 'jalr with an odd immediate also lands on the even address',
      code: `
    li a1, 0
    la t1, ${l}_d_t
    jalr ra, 1(t1)
${l}_d_ret:
    j ${l}_d_end
    .align 2
${l}_d_t:
    li a1, 1
    mv a0, ra
${l}_d_end:`,
      want: (g) => [g.sym(`${l}_d_ret`), 1n],
    },
    {
      name: 'jalr with a negative immediate',
      code: `
    li a1, 0
    la t1, ${l}_e_t
    addi t1, t1, 16
    jalr ra, -16(t1)
${l}_e_ret:
    j ${l}_e_end
${l}_e_t:
    li a1, 1
    mv a0, ra
${l}_e_end:`,
      want: (g) => [g.sym(`${l}_e_ret`), 1n],
    },
    {
      name: 'jalr rd = rs1: the target is computed from the old rs1',
      code: `
    li a1, 0
    la t0, ${l}_f_t
    jalr t0, 0(t0)
${l}_f_ret:
    j ${l}_f_end
${l}_f_t:
    li a1, 1
    mv a0, t0
${l}_f_end:`,
      want: (g) => [g.sym(`${l}_f_ret`), 1n],
    },
  ], ['a0', 'a1']);
});

// ---- loads and stores ------------------------------------------------------------

/** 16 bytes around a page boundary: DATA + 0xff8 .. DATA + 0x1007. */
const PATTERN = [0x80, 0x7f, 0xff, 0x01, 0xfe, 0x02, 0x93, 0x6c, 0xa5, 0x5a, 0xc3, 0x3c, 0x8e, 0x71, 0xf0, 0x0f];
const PBASE = DATA + 0xff8n;
const le = (bytes: number[]): bigint => bytes.reduceRight((v, b) => (v << 8n) | BigInt(b), 0n);

const LOADS: [string, number, boolean][] = [
  ['lb', 1, true], ['lbu', 1, false], ['lh', 2, true], ['lhu', 2, false],
  ['lw', 4, true], ['lwu', 4, false], ['ld', 8, true],
];

function loadCases(base: bigint, offsets: number[], crossAt: number): Case[] {
  const init = `
    li t0, ${lit(base)}
    li t1, ${lit(le(PATTERN.slice(0, 8)))}
    sd t1, 0(t0)
    li t1, ${lit(le(PATTERN.slice(8, 16)))}
    sd t1, 8(t0)
    li a0, 0`;
  const cases: Case[] = [{ name: 'store the pattern', code: init, want: [0n] }];
  for (const [op, size, signed] of LOADS) {
    for (const off of offsets) {
      if (off + size > 16) continue;
      const raw = le(PATTERN.slice(off, off + size));
      const want = signed ? sext(raw, size * 8) : raw;
      const where = off % size !== 0 ? (off < crossAt && off + size > crossAt ? ' misaligned, page-crossing' : ' misaligned') : '';
      cases.push({
        name: `${op} at +${off}${where} = ${lit(want)}`,
        code: `    li a1, ${lit(base + BigInt(off))}\n    ${op} a0, 0(a1)`,
        want: [want],
      });
    }
  }
  return cases;
}

describe('RV64I loads', () => {
  describeCases('every width and signedness at every alignment, across a page boundary',
    loadCases(PBASE, [0, 1, 2, 3, 4, 5, 6, 7, 8], 8));

  describeCases('loads from high DRAM (address above 4 GiB), across a page boundary',
    loadCases(0x1_0000_0ff8n, [0, 3, 5, 6, 7, 8], 8), ['a0'], { highmemSize: 1 << 20 });

  describeCases('load offsets: negative and maximal immediates', [
    {
      name: 'ld -8(a1), lw 2047(a1), lb -2048(a1)',
      code: `
    li t0, ${lit(DATA + 0x3000n)}
    li t1, 0x1122334455667788
    sd t1, 0(t0)
    li t1, 0x99aabbcc
    sw t1, 2047(t0)
    li t1, 0xf0
    sb t1, -2048(t0)
    addi a1, t0, 8
    ld a0, -8(a1)
    lw a2, 2047(t0)
    lb a3, -2048(t0)`,
      want: [0x1122_3344_5566_7788n, 0xffff_ffff_99aa_bbccn, 0xffff_ffff_ffff_fff0n],
    },
    {
      name: 'a load into x0 leaves x0 zero',
      code: `
    li a1, ${lit(PBASE)}
    ld zero, 0(a1)
    mv a0, zero
    li a2, 0
    li a3, 0`,
      want: [0n, 0n, 0n],
    },
  ], ['a0', 'a2', 'a3']);
});

describe('RV64I stores', () => {
  const VALUE = 0x8877_6655_4433_2211n;
  const STORES: [string, number][] = [['sb', 1], ['sh', 2], ['sw', 4], ['sd', 8]];
  const rows: { op: string; size: number; off: number; page: bigint }[] = [];
  for (const [op, size] of STORES) {
    for (let off = 0; off < 8; off++) rows.push({ op, size, off, page: DATA + 0x10_0000n + BigInt(rows.length) * 0x1000n });
  }
  let g: Guest;
  beforeAll(() => {
    // Each row gets its own page; the 16 bytes around the page's end start as 0xaa.
    const code = rows.map((r) => `
    li t0, ${lit(r.page + 0xff8n)}
    li t1, 0xaaaaaaaaaaaaaaaa
    sd t1, 0(t0)
    sd t1, 8(t0)
    li a2, ${lit(VALUE)}
    ${r.op} a2, ${r.off}(t0)`).join('\n');
    g = runGuest(code + '\n    j pass');
  });
  it.each(rows.map((r) => ({ ...r, name: `${r.op} at +${r.off}${r.off % r.size ? ' (misaligned)' : ''}${r.off + r.size > 8 ? ' crossing the page' : ''}` })))(
    '$name writes exactly its bytes',
    ({ op, size, off, page }) => {
      const want = new Array<number>(16).fill(0xaa);
      for (let i = 0; i < size; i++) want[off + i] = Number((VALUE >> BigInt(8 * i)) & 0xffn);
      expect(Array.from(g.readBytes(page + 0xff8n, 16)), op).toEqual(want);
    },
  );
});

describe('RV64I fences and Zicsr', () => {
  it('fence.i after a store makes the new instruction run (self-modifying code)', () => {
    const g = runGuest(`
    li a0, 0
    la t0, smc
    li t1, 0x00200513      # addi a0, zero, 2
    sw t1, 0(t0)
    fence.i
    fence rw, rw
smc:
    .word 0x00100513       # addi a0, zero, 1
    j pass`);
    expect(g.reg('a0')).toBe(2n);
  });

  describeCases('csrrw/csrrs/csrrc and the immediate forms on mscratch (old value in rd)', [
    ['csrrw', 'a1', 0x1234n, 0xf0f0n, 0x1234n],
    ['csrrs', 'a1', 0x0f0fn, 0xf0f0n, 0xffffn],
    ['csrrc', 'a1', 0x00ffn, 0xf0f0n, 0xf000n],
    ['csrrs', 'zero', 0n, 0xf0f0n, 0xf0f0n],
    ['csrrwi', '0x1f', 0n, 0xf0f0n, 0x1fn],
    ['csrrsi', '0x1f', 0n, 0xf0f0n, 0xf0ffn],
    ['csrrci', '0x10', 0n, 0xf0f0n, 0xf0e0n],
    ['csrrsi', '0', 0n, 0xf0f0n, 0xf0f0n],
  ].map(([op, src, a1, init, after]) => ({
    name: `${op} mscratch=${lit(init as bigint)}, ${src === 'a1' ? lit(a1 as bigint) : src} -> ${lit(after as bigint)}`,
    code: `
    li t0, ${lit(init as bigint)}
    csrw mscratch, t0
    li a1, ${lit(a1 as bigint)}
    ${op} a0, mscratch, ${src}
    csrr a2, mscratch
    li t0, ${0x8010_0000}
    csrw mscratch, t0`,
    want: [init as bigint, after as bigint],
  })), ['a0', 'a2']);

  it('a CSR instruction with rd = rs1 reads the old value and writes the old rs1', () => {
    const g = runGuest(`
    li t0, 0x55
    csrw sscratch, t0
    li a0, 0xaa
    csrrw a0, sscratch, a0
    csrr a1, sscratch
    j pass`);
    expect([g.reg('a0'), g.reg('a1')]).toEqual([0x55n, 0xaan]);
  });
});

describe('RV64I code above 4 GiB (pc with a non-zero high word)', () => {
  it('auipc, jal links and branches in high DRAM compute 64-bit addresses', () => {
    // At 0x1_0000_0000: auipc a0, 0; jal ra, .+8; nop; auipc a1, 0x80000; bne a2, zero, .-4 (never); jr s0
    const words = [0x00000517, 0x008000ef, 0x00000013, 0x80000597, 0xfe061ee3, 0x00040067];
    const g = runGuest(`
    li t0, 0x100000000
${words.map((w, i) => `    li t1, ${lit(BigInt(w))}\n    sw t1, ${4 * i}(t0)`).join('\n')}
    fence.i
    li a2, 0
    la s0, back
    jr t0
back:
    j pass`, { highmemSize: 1 << 20 });
    expect([g.reg('a0'), g.reg('ra'), g.reg('a1')]).toEqual([0x1_0000_0000n, 0x1_0000_0008n, 0x8000_000cn]);
  });
});

describe('RV64I misc', () => {
  it('ecall records nothing in registers and continues after the handler skips it', () => {
    const g = runGuest(`
    li a0, 7
e1:
    ecall
    addi a0, a0, 1
    j pass`);
    expect(g.reg('a0')).toBe(8n);
    expectTrap(g.traps()[0], { mode: 'M', cause: CAUSE.ecallM, epc: g.sym('e1'), tval: 0n });
  });

  it('boot state (as QEMU virt): M-mode, a0 = hart id, a1 = the device tree (FDT magic), a2 = fw_dynamic_info', () => {
    const g = runGuest(`
    csrr s1, mhartid
    lwu s2, 0(a1)             # 0xd00dfeed, big-endian in memory
    ld s3, 0(a2)              # fw_dynamic_info.magic "OSBI"
    bnez a0, park
    li t0, ${lit(DATA)}
w:  ld t1, 0(t0)
    beqz t1, w
    j pass
park:
    li t0, ${lit(DATA)}
    sd a0, 0(t0)
p:  wfi
    j p`, { harts: 2 });
    expect([g.reg('a0', 0), g.reg('s1', 0), g.reg('a0', 1), g.reg('s1', 1)]).toEqual([0n, 0n, 1n, 1n]);
    expect(g.reg('a1')).toBe(BigInt(g.machine.dtbAddr));
    expect([g.reg('s2', 0), g.reg('s2', 1)]).toEqual([0xedfe_0dd0n, 0xedfe_0dd0n]);
    expect(g.reg('s3')).toBe(0x4942_534fn);
  });

  it('nop, fence and an x0 destination change no register', () => {
    const { results } = runBlocks([`
    li a0, 3
    nop
    fence
    addi zero, a0, 5
    add a0, a0, zero`], ['a0']);
    expect(results[0][0]).toBe(3n);
  });
});
