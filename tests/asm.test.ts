/**
 * The assembler (toolchain/asm.ts): pseudo-instructions, li, labels and
 * expressions, directives, compression and error reporting. Round trips
 * through the disassembler over the whole table are in disasm.test.ts.
 *
 * Expected words marked "GNU as" were produced by riscv64-unknown-elf-as 2.40
 * (-march=rv64imac_zicsr_zifencei -mno-relax, linked at 0x80000000).
 */
import { describe, expect, it } from 'vitest';
import { AsmError, assemble } from '../toolchain/asm.js';
import { liSequence } from '../toolchain/asm-li.js';
import { Op, decode, immI, immU, rd, rs1, shamt6, C_EXPAND } from '../emulator/cpu/riscv/isa.js';
import { prng } from './helpers/prng.js';

const BASE = 0x8000_0000n;

/** The image as 32-bit little-endian words. */
function words(bytes: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i + 3 < bytes.length; i += 4) out.push((bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24)) >>> 0);
  return out;
}

const hex = (ws: number[]): string[] => ws.map((w) => w.toString(16).padStart(8, '0'));

/** Run the handful of ops li uses on a 64-bit register file; returns x[reg]. */
function run(bytes: Uint8Array, reg: number): bigint {
  const x = new Array<bigint>(32).fill(0n);
  const set = (r: number, v: bigint): void => { if (r !== 0) x[r] = BigInt.asIntN(64, v); };
  for (const w of words(bytes)) {
    const a = x[rs1(w)];
    switch (decode(w)) {
      case Op.LUI: set(rd(w), BigInt(immU(w))); break;
      case Op.ADDI: set(rd(w), a + BigInt(immI(w))); break;
      case Op.ADDIW: set(rd(w), BigInt.asIntN(32, a + BigInt(immI(w)))); break;
      case Op.XORI: set(rd(w), a ^ BigInt(immI(w))); break;
      case Op.SLLI: set(rd(w), a << BigInt(shamt6(w))); break;
      case Op.SRLI: set(rd(w), BigInt.asUintN(64, a) >> BigInt(shamt6(w))); break;
      default: throw new Error(`unexpected instruction 0x${w.toString(16)} in li`);
    }
  }
  return x[reg];
}


function asmError(src: string): AsmError {
  try {
    assemble(src);
  } catch (e) {
    if (e instanceof AsmError) return e;
    throw e;
  }
  throw new Error(`no error for: ${src}`);
}

describe('li', () => {
  const CASES: ReadonlyArray<readonly [bigint, number]> = [
    [0n, 1], [1n, 1], [-1n, 1], [2047n, 1], [-2047n, 1], [-2048n, 1], [2048n, 2], [-2049n, 2],
    [0x7fffffffn, 2], [-0x80000000n, 1], [0x80000000n, 2], [0xffffffffn, 2], [0x12345678n, 2],
    [0x100000000n, 2], [0x123456789abcdef0n, 8], [-0x123456789abcdef0n, 8], [0x7fffffffffffffffn, 2],
    [-0x8000000000000000n, 2], [0xffffffffffffffffn, 1], [0x8000000000000000n, 2], [0xfedcba9876543210n, 7],
    [0x00000fff00000000n, 2], [0x0000123400000000n, 2],
  ];
  it.each(CASES.map(([v, n]) => [`0x${BigInt.asUintN(64, v).toString(16)}`, n, v] as const))(
    'li a0, %s takes %i instruction(s) and yields the value', (_h, n, v) => {
      const r = assemble(`li a0, ${v}`);
      expect(r.bytes.length / 4).toBe(n);
      expect(run(r.bytes, 10)).toBe(BigInt.asIntN(64, v));
    });

  it('uses lui + addiw for 32-bit values (addiw sign-extends correctly on RV64)', () => {
    expect(hex(words(assemble('li a0, 0x7fffffff').bytes))).toEqual(['80000537', 'fff5051b']);
    expect(hex(words(assemble('li t0, 0x12345678').bytes))).toEqual(['123452b7', '6782829b']);
  });

  it('builds 20000 random 64-bit values in at most 8 instructions', () => {
    const rnd = prng(7);
    for (let k = 0; k < 20000; k++) {
      // Mix fully random values with sparse ones and ones near powers of two.
      const kind = k % 4;
      let v = (BigInt(rnd()) << 32n) | BigInt(rnd());
      if (kind === 1) v &= (1n << BigInt(rnd() % 64)) - 1n;
      if (kind === 2) v = (1n << BigInt(rnd() % 64)) + BigInt((rnd() % 4096) - 2048);
      if (kind === 3) v = BigInt.asIntN(64, -v);
      const seq = liSequence(v);
      if (seq.length > 8) expect.fail(`li ${v}: ${seq.length} instructions`);
      const r = assemble(`li a5, ${v}`);
      if (run(r.bytes, 15) !== BigInt.asIntN(64, v)) expect.fail(`li ${v} computes ${run(r.bytes, 15)}`);
    }
  });

  it('accepts expressions and rejects values beyond 64 bits', () => {
    expect(run(assemble('.equ K, 3\nli a0, (K << 40) | 0x55').bytes, 10)).toBe((3n << 40n) | 0x55n);
    expect(run(assemble("li a0, 'A'").bytes, 10)).toBe(65n);
    expect(asmError('li a0, 0x10000000000000000').reason).toMatch(/64 bits/);
  });
});

describe('pseudo-instructions', () => {
  const SOURCE = `
_start:
  nop
  mv a0, a1
  not a0, a1
  neg a0, a1
  negw a0, a1
  sext.w a0, a1
  seqz a0, a1
  snez a0, a1
  sltz a0, a1
  sgtz a0, a1
  beqz a0, _start
  bnez a0, _start
  blez a0, _start
  bgez a0, _start
  bltz a0, _start
  bgtz a0, _start
  bgt a0, a1, _start
  ble a0, a1, _start
  bgtu a0, a1, _start
  bleu a0, a1, _start
  j _start
  jal _start
  jr a0
  jalr a0
  ret
  call target
  tail target
  la a0, target
  lla a0, target
  csrr a0, mscratch
  csrw mscratch, a0
  csrs mstatus, a0
  csrc mstatus, a0
  csrwi mscratch, 5
  csrsi mstatus, 8
  csrci mstatus, 8
  rdcycle a0
  rdtime a0
  rdinstret a0
  fence
  unimp
  fence.tso
target:
  ret
`;
  // GNU as
  const EXPECTED = `00000013 00058513 fff5c513 40b00533 40b0053b 0005851b 0015b513 00b03533 0005a533 00b02533 fc050ce3
    fc051ae3 fca058e3 fc0556e3 fc0544e3 fca042e3 fca5c0e3 faa5dee3 faa5ece3 faa5fae3 fb1ff06f fadff0ef 00050067 000500e7
    00008067 00000097 054080e7 00000317 04c30067 00000517 04450513 00000517 03c50513 34002573 34051073 30052073 30053073
    3402d073 30046073 30047073 c0002573 c0102573 c0202573 0ff0000f c0001073 8330000f 00008067`.split(/\s+/);

  it('expand exactly as GNU as expands them', () => {
    expect(hex(words(assemble(SOURCE).bytes))).toEqual(EXPECTED);
  });

  it('accept the other GNU forms of jal, jalr, jr, call and csr writes (GNU as)', () => {
    const r = assemble(`
      jal ra, 1f
      jalr t0, a1
      jalr t0, 8(a1)
      jalr t0, a1, -8
      jalr 16(a1)
      jr 4(a1)
      jr a1, 4
      call t0, 1f
      csrw mscratch, 7
      csrrw a0, mscratch, 3
      add a0, a1, -5
      sll a0, a1, 3
      sfence.vma
      sfence.vma a0
    1:`);
    expect(hex(words(r.bytes))).toEqual([
      '03c000ef', '000582e7', '008582e7', 'ff8582e7', '010580e7', '00458067', '00458067', '00000317', '020302e7',
      '3403d073', '3401d573', 'ffb58513', '00359513', '12000073', '12050073',
    ]);
  });

  it('loads and stores through a symbol with auipc (GNU as `ld rd, sym` / `sd rs, sym, rt`)', () => {
    const r = assemble('ld a0, v\nsd a1, v, t0\nv: .dword 1');
    expect(hex(words(r.bytes)).slice(0, 4)).toEqual(['00000517', '01053503', '00000297', '00b2b423']);
  });
});

describe('labels, symbols and expressions', () => {
  it('resolves forward and backward labels and numeric local labels', () => {
    const r = assemble(`
    start:
      j end
    1: addi a0, a0, -1
      bnez a0, 1b
      beqz a0, 1f
      j 1b
    1: nop
    end: ret
    `);
    expect(hex(words(r.bytes))).toEqual(['0180006f', 'fff50513', 'fe051ee3', '00050463', 'ff5ff06f', '00000013', '00008067']);
    expect(r.symbols.get('start')).toBe(BASE);
    expect(r.symbols.get('end')).toBe(BASE + 24n);
    expect([...r.symbols.keys()].sort()).toEqual(['end', 'start']);
  });

  it('computes %hi/%lo, %pcrel_hi/%pcrel_lo and constant expressions', () => {
    const r = assemble(`
      lui a0, %hi(0x12345678)
      addi a0, a0, %lo(0x12345678)
      lui a1, %hi(-0x7ffff801)
    1: auipc a2, %pcrel_hi(data)
      ld a3, %pcrel_lo(1b)(a2)
      li a4, (1 << 4) | 3 * 2 + 0x10 - 'a'
      li a5, . - 1b
    data: .dword data
    `, { base: 0x1000 });
    const w = hex(words(r.bytes));
    expect(w.slice(0, 5)).toEqual(['12345537', '67850513', '800005b7', '00000617', '01063683']);
    expect(run(assemble('li a4, (1 << 4) | 3 * 2 + 0x10 - \'a\'').bytes, 14)).toBe(((1n << 4n) | (3n * 2n)) + 0x10n - 97n);
    expect(r.symbols.get('data')).toBe(0x1000n + 28n);
  });

  it('follows GNU as operator precedence (bitwise above additive)', () => {
    expect(run(assemble('li a0, 1 + 2 & 3').bytes, 10)).toBe(1n + (2n & 3n));
    expect(run(assemble('li a0, 2 * 3 << 1').bytes, 10)).toBe(12n);
    expect(run(assemble('li a0, -(5) + ~0').bytes, 10)).toBe(-6n);
    expect(run(assemble('li a0, 010 + 0b101').bytes, 10)).toBe(13n); // octal and binary
  });

  it('sizes li of a forward symbol difference correctly', () => {
    const r = assemble('li a0, end - start\nstart: .zero 0x12345\nend:');
    expect(run(r.bytes.subarray(0, 8), 10)).toBe(0x12345n);
  });

  it('supports .equ/.set and name = expr', () => {
    const r = assemble('.equ A, 5\n.set B, A * 2\nC = B + 1\n.word A, B, C');
    expect(words(r.bytes)).toEqual([5, 10, 11]);
    expect(r.symbols.get('C')).toBe(11n);
  });

  it('splits statements on ; and strips # and /* */ comments', () => {
    const r = assemble('nop; nop # two nops\n/* a\n comment */ ret # done');
    expect(hex(words(r.bytes))).toEqual(['00000013', '00000013', '00008067']);
  });
});

describe('directives', () => {
  it('emits data in little-endian order', () => {
    const r = assemble(`.byte 1, 0xff, -1, 'a'\n.half 0x1234, -2\n.2byte 7\n.word 0xdeadbeef\n.dword -2\n.quad 0x1122334455667788`, { base: 0 });
    expect([...r.bytes]).toEqual([
      1, 0xff, 0xff, 0x61, 0x34, 0x12, 0xfe, 0xff, 7, 0, 0xef, 0xbe, 0xad, 0xde,
      0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
    ]);
  });

  it('emits strings with escapes', () => {
    const r = assemble('.ascii "ab\\n"\n.asciz "c\\x41\\101\\""\n.string "é"', { base: 0 });
    expect([...r.bytes]).toEqual([0x61, 0x62, 10, 0x63, 0x41, 0x41, 0x22, 0, 0xc3, 0xa9, 0]);
  });

  it('aligns with nops in .text and zeros elsewhere; .balign, .p2align, fill values', () => {
    const t = assemble('.byte 1\n.align 3\nret', { base: 0 });
    expect([...t.bytes.subarray(0, 8)]).toEqual([1, 0, 0, 0, 0x13, 0, 0, 0]);
    const d = assemble('.data\n.byte 1\n.p2align 3\n.byte 2\n.balign 4, 0xee', { base: 0 });
    expect([...d.bytes]).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 2, 0xee, 0xee, 0xee]);
    const c = assemble('c.nop\n.balign 8', { base: 0, compress: true });
    expect([...c.bytes]).toEqual([1, 0, 1, 0, 0x13, 0, 0, 0]);
  });

  it('handles .zero/.space/.skip/.fill and .org (offset or absolute address)', () => {
    expect([...assemble('.zero 3\n.space 2, 7\n.skip 1', { base: 0 }).bytes]).toEqual([0, 0, 0, 7, 7, 0]);
    expect([...assemble('.fill 2, 2, 0x1234', { base: 0 }).bytes]).toEqual([0x34, 0x12, 0x34, 0x12]);
    const o = assemble('.byte 1\n.org 4\n.byte 2\n.org 0x80000008\n.byte 3');
    expect([...o.bytes]).toEqual([1, 0, 0, 0, 2, 0, 0, 0, 3]);
    expect(asmError('.zero 8\n.org 4').reason).toMatch(/backwards/);
  });

  it('ignores the object-file directives', () => {
    expect(assemble('.globl f\n.type f, @function\n.section .text.init\n.option norelax\n.size f, 4\n.cfi_startproc\nf: ret').bytes.length).toBe(4);
  });
});

describe('compression', () => {
  it('compresses eligible instructions only when asked (or under .option rvc)', () => {
    const src = 'add a0, a0, a1\nld a0, 8(sp)\naddi sp, sp, -16\nnop\nli a0, 5\nret';
    expect(assemble(src).bytes.length).toBe(24);
    const c = assemble(src, { compress: true });
    expect([...c.bytes]).toEqual([0x2e, 0x95, 0x22, 0x65, 0x41, 0x11, 0x01, 0x00, 0x15, 0x45, 0x82, 0x80]);
    expect(assemble('.option rvc\nret\n.option norvc\nret').bytes.length).toBe(6);
  });

  it('never compresses to a HINT encoding', () => {
    const c = assemble('addi zero, zero, 1\nmv a0, a0\nslli a0, a0, 0\nadd zero, a0, a1', { compress: true });
    expect(c.bytes.length).toBe(16);
  });

  it('compresses branches only while in range, and converges', () => {
    const src = '1: beqz a0, 2f\n.zero 300\n2: beqz a0, 1b\nbeqz a0, 3f\n.zero 100\n3: j 1b';
    const r = assemble(src, { compress: true });
    const first = r.bytes[0] | (r.bytes[1] << 8);
    expect(first & 3).toBe(3); // 304 bytes away: too far for c.beqz
    const third = r.bytes[308] | (r.bytes[309] << 8);
    expect(C_EXPAND[third]).not.toBe(0);
  });
});

describe('errors', () => {
  const CASES: ReadonlyArray<readonly [string, RegExp]> = [
    ['frob a0, a1', /unknown instruction 'frob'/],
    ['add a0, a1, x32', /bad register 'x32'/],
    ['add a0, a1', /expected 3 operands, got 2/],
    ['addi a0, a1, 2048', /immediate 2048 out of range \[-2048, 2047\]/],
    ['slli a0, a1, 64', /shift amount 64 out of range/],
    ['slliw a0, a1, 32', /shift amount 32 out of range/],
    ['lui a0, 0x100000', /upper immediate 1048576 out of range/],
    ['ld a0, 4096(sp)', /offset 4096 out of range/],
    ['beq a0, a1, nowhere', /undefined symbol 'nowhere'/],
    ['j 1f', /undefined local label '1f'/],
    ['beq a0, a1, . + 4096', /branch target out of range/],
    ['beq a0, a1, . + 3', /odd offset/],
    ['jal . + 0x100000', /jump target out of range/],
    ['csrrw a0, nosuchcsr, a1', /undefined symbol 'nosuchcsr'/],
    ['csrrwi a0, mstatus, 32', /CSR immediate 32 out of range/],
    ['csrr a0, 0x1000', /CSR number 4096 out of range/],
    ['fence rwx, w', /bad fence operand/],
    ['amoadd.w a0, a1, 4(a2)', /AMO address must be/],
    ['c.addi4spn a0, sp, 0', /c.addi4spn immediate 0 out of range/],
    ['c.lw a0, 2(a1)', /not a multiple of 4/],
    ['c.lw t0, 0(a1)', /not one of x8-x15/],
    ['c.lwsp zero, 0(sp)', /reserved/],
    ['c.jr zero', /reserved/],
    ['c.lui a0, 0x20', /c.lui immediate 0x20/],
    ['c.addi16sp sp, 0', /reserved/],
    ['c.mv a0, zero', /not encodable/],
    ['lui a0, %hi(0x80000000)', /%hi: 0x80000000 is not a sign-extended 32-bit value/],
    ['ld a0, %pcrel_lo(x)(a0)\nx: nop', /%pcrel_lo: no auipc/],
    ['.byte 256', /does not fit in 1 byte/],
    ['.frob 1', /unknown directive '.frob'/],
    ['x: nop\nx: nop', /label 'x' defined twice/],
    ['li a0, 1 +', /unexpected end of expression/],
    ['li a0, 1/0', /division by zero/],
    ['.align 3, 0, 2\n.balign 3', /not a power of two/],
  ];
  it.each(CASES)('%s → %s', (src, re) => {
    const e = asmError(src);
    expect(e.reason).toMatch(re);
  });

  it('names the line number and the line text', () => {
    const e = asmError('nop\n  nop\n  addi a0, a1, 5000  # too big\nnop');
    expect(e.line).toBe(3);
    expect(e.text).toBe('  addi a0, a1, 5000  # too big');
    expect(e.message).toContain('line 3: immediate 5000 out of range');
    expect(e.message).toContain('addi a0, a1, 5000');
    expect(e).toBeInstanceOf(Error);
  });
});
