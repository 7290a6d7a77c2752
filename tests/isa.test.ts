/**
 * The instruction table and decoders of emulator/cpu/riscv/isa.ts.
 *
 * Expected encodings below were produced by GNU as 2.40
 * (riscv64-unknown-elf-as -march=rv64imac_zicsr_zifencei) from the source in
 * the comment; the compressed expansions are checked against a reference
 * written here straight from the spec's RVC listings (unpriv 16.8, tables
 * 16.5-16.7), independently of isa.ts's own field helpers.
 */
import { describe, expect, it } from 'vitest';
import {
  C_EXPAND, C_INSNS, INSNS, OP_COUNT, Op, SPEC_OF_OP, compressedSpec, decode, expandCompressed,
  csrOf, immB, immI, immJ, immS, immU, rd, rs1, rs2, shamt6, zimm,
} from '../emulator/cpu/riscv/isa.js';
import { prng } from './helpers/prng.js';


const OP_NAMES = `LUI AUIPC JAL JALR BEQ BNE BLT BGE BLTU BGEU LB LH LW LD LBU LHU LWU SB SH SW SD ADDI SLTI SLTIU XORI
ORI ANDI SLLI SRLI SRAI ADD SUB SLL SLT SLTU XOR SRL SRA OR AND ADDIW SLLIW SRLIW SRAIW ADDW SUBW SLLW SRLW SRAW FENCE
ECALL EBREAK FENCE_I CSRRW CSRRS CSRRC CSRRWI CSRRSI CSRRCI MUL MULH MULHSU MULHU DIV DIVU REM REMU MULW DIVW DIVUW
REMW REMUW LR_W SC_W AMOSWAP_W AMOADD_W AMOXOR_W AMOAND_W AMOOR_W AMOMIN_W AMOMAX_W AMOMINU_W AMOMAXU_W LR_D SC_D
AMOSWAP_D AMOADD_D AMOXOR_D AMOAND_D AMOOR_D AMOMIN_D AMOMAX_D AMOMINU_D AMOMAXU_D SRET MRET WFI SFENCE_VMA`.split(/\s+/);

/** One instance of every op, encoded by GNU as. */
const KNOWN: ReadonlyArray<readonly [number, Op]> = [
  [0xfffff537, Op.LUI], // lui a0, 0xfffff
  [0x12345297, Op.AUIPC], // auipc t0, 0x12345
  [0x001000ef, Op.JAL], // jal ra, .+2048
  [0xffc60367, Op.JALR], // jalr t1, -4(a2)
  [0xfeb508e3, Op.BEQ], // beq a0, a1, .-16
  [0x00941463, Op.BNE], // bne s0, s1, .+8
  [0x7e62cfe3, Op.BLT], // blt t0, t1, .+4094
  [0x80d65063, Op.BGE], // bge a2, a3, .-4096
  [0x02f76063, Op.BLTU], // bltu a4, a5, .+32
  [0xff397fe3, Op.BGEU], // bgeu s2, s3, .-2
  [0xfff10503, Op.LB], // lb a0, -1(sp)
  [0x7ff51583, Op.LH], // lh a1, 2047(a0)
  [0x8005a603, Op.LW], // lw a2, -2048(a1)
  [0x00813083, Op.LD], // ld ra, 8(sp)
  [0x000e4383, Op.LBU], // lbu t2, 0(t3)
  [0x006f5e83, Op.LHU], // lhu t4, 6(t5)
  [0x00cdef83, Op.LWU], // lwu t6, 12(s11)
  [0xfea10fa3, Op.SB], // sb a0, -1(sp)
  [0x7eb51fa3, Op.SH], // sh a1, 2047(a0)
  [0x80c5a023, Op.SW], // sw a2, -2048(a1)
  [0x00113423, Op.SD], // sd ra, 8(sp)
  [0xffb58513, Op.ADDI], // addi a0, a1, -5
  [0x0645a513, Op.SLTI], // slti a0, a1, 100
  [0xfff5b513, Op.SLTIU], // sltiu a0, a1, -1
  [0x7ff5c513, Op.XORI], // xori a0, a1, 0x7ff
  [0x8005e513, Op.ORI], // ori a0, a1, -2048
  [0x0ff5f513, Op.ANDI], // andi a0, a1, 255
  [0x03f59513, Op.SLLI], // slli a0, a1, 63
  [0x0205d513, Op.SRLI], // srli a0, a1, 32
  [0x4015d513, Op.SRAI], // srai a0, a1, 1
  [0x00c58533, Op.ADD], // add a0, a1, a2
  [0x41248433, Op.SUB], // sub s0, s1, s2
  [0x007312b3, Op.SLL], // sll t0, t1, t2
  [0x00f726b3, Op.SLT], // slt a3, a4, a5
  [0x0128b833, Op.SLTU], // sltu a6, a7, s2
  [0x015a49b3, Op.XOR], // xor s3, s4, s5
  [0x018bdb33, Op.SRL], // srl s6, s7, s8
  [0x41bd5cb3, Op.SRA], // sra s9, s10, s11
  [0x01eeee33, Op.OR], // or t3, t4, t5
  [0x00107fb3, Op.AND], // and t6, zero, ra
  [0xfff5851b, Op.ADDIW], // addiw a0, a1, -1
  [0x01f5951b, Op.SLLIW], // slliw a0, a1, 31
  [0x0015d51b, Op.SRLIW], // srliw a0, a1, 1
  [0x4115d51b, Op.SRAIW], // sraiw a0, a1, 17
  [0x00c5853b, Op.ADDW], // addw a0, a1, a2
  [0x40c5853b, Op.SUBW], // subw a0, a1, a2
  [0x00c5953b, Op.SLLW], // sllw a0, a1, a2
  [0x00c5d53b, Op.SRLW], // srlw a0, a1, a2
  [0x40c5d53b, Op.SRAW], // sraw a0, a1, a2
  [0x0310000f, Op.FENCE], // fence rw, w
  [0x00000073, Op.ECALL], // ecall
  [0x00100073, Op.EBREAK], // ebreak
  [0x0000100f, Op.FENCE_I], // fence.i
  [0x300312f3, Op.CSRRW], // csrrw t0, mstatus, t1
  [0xf1402573, Op.CSRRS], // csrrs a0, mhartid, zero
  [0x3045b073, Op.CSRRC], // csrrc zero, mie, a1
  [0x305fd073, Op.CSRRWI], // csrrwi zero, mtvec, 31
  [0x10016573, Op.CSRRSI], // csrrsi a0, sstatus, 2
  [0x1800f5f3, Op.CSRRCI], // csrrci a1, satp, 1
  [0x02c58533, Op.MUL], // mul a0, a1, a2
  [0x02c59533, Op.MULH], // mulh a0, a1, a2
  [0x02c5a533, Op.MULHSU], // mulhsu a0, a1, a2
  [0x02c5b533, Op.MULHU], // mulhu a0, a1, a2
  [0x02c5c533, Op.DIV], // div a0, a1, a2
  [0x02c5d533, Op.DIVU], // divu a0, a1, a2
  [0x02c5e533, Op.REM], // rem a0, a1, a2
  [0x02c5f533, Op.REMU], // remu a0, a1, a2
  [0x02c5853b, Op.MULW], // mulw a0, a1, a2
  [0x02c5c53b, Op.DIVW], // divw a0, a1, a2
  [0x02c5d53b, Op.DIVUW], // divuw a0, a1, a2
  [0x02c5e53b, Op.REMW], // remw a0, a1, a2
  [0x02c5f53b, Op.REMUW], // remuw a0, a1, a2
  [0x1005a52f, Op.LR_W], // lr.w a0, (a1)
  [0x18b6252f, Op.SC_W], // sc.w a0, a1, (a2)
  [0x08b6252f, Op.AMOSWAP_W], // amoswap.w a0, a1, (a2)
  [0x00b6252f, Op.AMOADD_W], // amoadd.w a0, a1, (a2)
  [0x20b6252f, Op.AMOXOR_W], // amoxor.w a0, a1, (a2)
  [0x60b6252f, Op.AMOAND_W], // amoand.w a0, a1, (a2)
  [0x40b6252f, Op.AMOOR_W], // amoor.w a0, a1, (a2)
  [0x80b6252f, Op.AMOMIN_W], // amomin.w a0, a1, (a2)
  [0xa0b6252f, Op.AMOMAX_W], // amomax.w a0, a1, (a2)
  [0xc0b6252f, Op.AMOMINU_W], // amominu.w a0, a1, (a2)
  [0xe0b6252f, Op.AMOMAXU_W], // amomaxu.w a0, a1, (a2)
  [0x1405b52f, Op.LR_D], // lr.d.aq a0, (a1)
  [0x1ab6352f, Op.SC_D], // sc.d.rl a0, a1, (a2)
  [0x0eb6352f, Op.AMOSWAP_D], // amoswap.d.aqrl a0, a1, (a2)
  [0x00b6352f, Op.AMOADD_D], // amoadd.d a0, a1, (a2)
  [0x20b6352f, Op.AMOXOR_D], // amoxor.d a0, a1, (a2)
  [0x60b6352f, Op.AMOAND_D], // amoand.d a0, a1, (a2)
  [0x40b6352f, Op.AMOOR_D], // amoor.d a0, a1, (a2)
  [0x80b6352f, Op.AMOMIN_D], // amomin.d a0, a1, (a2)
  [0xa0b6352f, Op.AMOMAX_D], // amomax.d a0, a1, (a2)
  [0xc0b6352f, Op.AMOMINU_D], // amominu.d a0, a1, (a2)
  [0xe0b6352f, Op.AMOMAXU_D], // amomaxu.d a0, a1, (a2)
  [0x10200073, Op.SRET], // sret
  [0x30200073, Op.MRET], // mret
  [0x10500073, Op.WFI], // wfi
  [0x12b50073, Op.SFENCE_VMA], // sfence.vma a0, a1
];

describe('Op enum and table', () => {
  it('has exactly the ops of RV64IMAC + Zicsr + Zifencei + privileged', () => {
    const names = Object.keys(Op).filter((k) => Number.isNaN(Number(k)));
    expect(names).toEqual(['ILLEGAL', ...OP_NAMES]);
    expect(OP_COUNT).toBe(OP_NAMES.length + 1);
  });

  it('has one 32-bit row per op, named as the op is', () => {
    const ops = INSNS.map((s) => s.op).sort((a, b) => a - b);
    expect(ops).toEqual(Array.from({ length: OP_COUNT - 1 }, (_, i) => i + 1));
    for (const s of INSNS) {
      expect(Op[s.op]).toBe(s.name.toUpperCase().replace('.', '_'));
      expect(SPEC_OF_OP[s.op]).toBe(s);
      expect((s.match & ~s.mask) >>> 0, s.name).toBe(0);
      expect(s.match & 3, s.name).toBe(3);
    }
  });

  it('has no two 32-bit rows that match the same encoding', () => {
    for (let i = 0; i < INSNS.length; i++) {
      for (let j = i + 1; j < INSNS.length; j++) {
        const a = INSNS[i], b = INSNS[j];
        expect(((a.match ^ b.match) & a.mask & b.mask) >>> 0, `${a.name} / ${b.name}`).not.toBe(0);
      }
    }
  });

  it('covers every op in KNOWN', () => {
    expect(new Set(KNOWN.map(([, op]) => op)).size).toBe(OP_COUNT - 1);
  });
});

describe('decode', () => {
  it.each(KNOWN.map(([insn, op]) => [`0x${insn.toString(16).padStart(8, '0')}`, Op[op], insn, op] as const))(
    '%s is %s', (_hex, _name, insn, op) => {
      expect(decode(insn)).toBe(op);
      expect(decode(insn | 0)).toBe(op); // the interpreter passes signed int32 values
    });

  const ILLEGAL: ReadonlyArray<readonly [number, string]> = [
    [0x0200101b, 'slliw with shamt[5] = 1 (unpriv 5.2.1: reserved)'],
    [0x0200501b, 'srliw with shamt[5] = 1'],
    [0x4200501b, 'sraiw with shamt[5] = 1'],
    [0x12000173, 'sfence.vma with rd != 0'],
    [0x1015a52f, 'lr.w with rs2 != 0'],
    [0x1015b52f, 'lr.d with rs2 != 0'],
    [0x000000f3, 'ecall with rd != 0'],
    [0x00008073, 'ecall with rs1 != 0'],
    [0x12004073, 'sfence.vma with funct3 = 4'],
    [0x302000f3, 'mret with rd != 0'],
    [0x10208073, 'sret with rs1 != 0'],
    [0x10500173, 'wfi with rd != 0'],
    [0x00200073, 'uret (N extension, not in priv 1.12)'],
    [0x7b200073, 'dret (debug mode only)'],
    [0x22000073, 'hfence.vvma (no H extension)'],
    [0x0000200f, 'MISC-MEM funct3 = 2'],
    [0x08001013, 'slli with funct6 = 000010'],
    [0x44005013, 'srai with funct6 = 010001'],
    [0x40001033, 'sll with funct7 = 0100000'],
    [0x04000033, 'OP with funct7 = 0000010'],
    [0x4000403b, 'OP-32 funct3 = 4 with funct7 = 0100000'],
    [0x0200103b, 'mulw slot funct3 = 1 (no mulhw)'],
    [0x0000203b, 'OP-32 funct3 = 2'],
    [0x0000201b, 'OP-IMM-32 funct3 = 2'],
    [0x00007003, 'LOAD funct3 = 7'],
    [0x00004023, 'STORE funct3 = 4'],
    [0x00002063, 'BRANCH funct3 = 2'],
    [0x00001067, 'JALR funct3 = 1'],
    [0x00004073, 'SYSTEM funct3 = 4'],
    [0x2800252f, 'AMO funct5 = 00101'],
    [0x0000052f, 'AMO funct3 = 0 (no byte AMOs)'],
    [0x0000452f, 'AMO funct3 = 4'],
    [0x00000007, 'LOAD-FP (no F/D)'],
    [0x00000027, 'STORE-FP'],
    [0x00000053, 'OP-FP'],
    [0x00000043, 'MADD'],
    [0x0000000b, 'custom-0'],
    [0x0000002b, 'custom-1'],
    [0x00000057, 'OP-V'],
    [0x00000077, 'reserved opcode 1110111'],
    [0x0000001f, '48-bit encoding prefix'],
    [0x0000003f, '64-bit encoding prefix'],
    [0xffffffff, 'all ones'],
    [0x00000000, 'all zeros (low bits 00: not a 32-bit encoding)'],
    [0x00000001, 'low bits 01'],
  ];
  it.each(ILLEGAL.map(([i, why]) => [`0x${i.toString(16).padStart(8, '0')}`, why, i] as const))(
    '%s is illegal: %s', (_h, _w, insn) => {
      expect(decode(insn)).toBe(Op.ILLEGAL);
    });

  it('accepts the ignored fields of FENCE (fm, rs1, rd) and FENCE.I (imm, rs1, rd)', () => {
    expect(decode(0x8330000f)).toBe(Op.FENCE); // fence.tso
    expect(decode(0x0100000f)).toBe(Op.FENCE); // pause
    expect(decode(0xf0f5858f)).toBe(Op.FENCE); // reserved fm, rs1 and rd set
    expect(decode(0xfff5958f)).toBe(Op.FENCE_I);
  });

  it('decodes random operands in every row\'s free fields to that row (property)', () => {
    const rnd = prng(1);
    for (const s of INSNS) {
      for (let k = 0; k < 2000; k++) {
        const insn = (s.match | (rnd() & ~s.mask)) >>> 0;
        if (decode(insn) !== s.op) expect.fail(`${s.name}: 0x${insn.toString(16)} decoded as ${Op[decode(insn)]}`);
      }
    }
  });

  it('agrees with a linear match/mask scan on random words', () => {
    const rnd = prng(2);
    for (let k = 0; k < 200_000; k++) {
      const insn = rnd() | 3;
      const slow = INSNS.find((s) => ((insn & s.mask) >>> 0) === s.match)?.op ?? Op.ILLEGAL;
      if (decode(insn) !== slow) expect.fail(`0x${(insn >>> 0).toString(16)}: ${Op[decode(insn)]} vs ${Op[slow]}`);
    }
  });
});

describe('field extractors', () => {
  it('extract registers, signed immediates and CSR numbers', () => {
    const lw = 0x80058603; // lw a2, -2048(a1)
    expect([rd(lw), rs1(lw), immI(lw)]).toEqual([12, 11, -2048]);
    const sb = 0xfe010fa3; // sb zero, -1(sp)
    expect([rs1(sb), rs2(sb), immS(sb)]).toEqual([2, 0, -1]);
    expect(immS(0x7eb52fa3)).toBe(2047); // sw a1, 2047(a0)
    expect(immB(0x80d60063)).toBe(-4096); // bge a2, a3, .-4096
    expect(immB(0x7e628fe3)).toBe(4094); // blt t0, t1, .+4094
    expect(immB(0xfe0b8fe3)).toBe(-2);
    expect(immU(0xfffff537)).toBe(-4096);
    expect(immU(0x12345297)).toBe(0x12345000);
    expect(immJ(0x001000ef)).toBe(2048);
    expect(immJ(0x800000ef)).toBe(-(1 << 20));
    expect(immJ(0x7ffff0ef)).toBe((1 << 20) - 2);
    expect(csrOf(0xf1402573)).toBe(0xf14);
    expect(zimm(0x300fd073)).toBe(31);
    expect(shamt6(0x03f59513)).toBe(63);
  });
});

// --- compressed: a reference expander written from unpriv 16.8 ------------------------------

/** Gather immediate bits: "12:11=5:4 6=2" puts parcel bits 12..11 at imm bits 5..4 and bit 6 at imm bit 2. */
function field(p: number, layout: string): number {
  let v = 0;
  for (const part of layout.split(' ')) {
    const [from, to] = part.split('=');
    const [fh, fl] = from.includes(':') ? from.split(':').map(Number) : [Number(from), Number(from)];
    const [th] = to.includes(':') ? to.split(':').map(Number) : [Number(to)];
    for (let b = fh; b >= fl; b--) v |= ((p >>> b) & 1) << (th - (fh - b));
  }
  return v;
}
const sext = (v: number, bits: number): number => (v << (32 - bits)) >> (32 - bits);

// 32-bit builders (unpriv figure 2.3), written independently of isa.ts.
const rType = (f7: number, s2: number, s1: number, f3: number, d: number, opc: number): number =>
  ((f7 << 25) | (s2 << 20) | (s1 << 15) | (f3 << 12) | (d << 7) | opc) >>> 0;
const iType = (imm: number, s1: number, f3: number, d: number, opc: number): number =>
  (((imm & 0xfff) << 20) | (s1 << 15) | (f3 << 12) | (d << 7) | opc) >>> 0;
const sType = (imm: number, s2: number, s1: number, f3: number, opc: number): number =>
  ((((imm >> 5) & 0x7f) << 25) | (s2 << 20) | (s1 << 15) | (f3 << 12) | ((imm & 0x1f) << 7) | opc) >>> 0;
const bType = (imm: number, s2: number, s1: number, f3: number): number =>
  ((((imm >> 12) & 1) << 31) | (((imm >> 5) & 0x3f) << 25) | (s2 << 20) | (s1 << 15) | (f3 << 12) |
    (((imm >> 1) & 0xf) << 8) | (((imm >> 11) & 1) << 7) | 0x63) >>> 0;
const jType = (imm: number, d: number): number =>
  ((((imm >> 20) & 1) << 31) | (((imm >> 1) & 0x3ff) << 21) | (((imm >> 11) & 1) << 20) | (((imm >> 12) & 0xff) << 12) |
    (d << 7) | 0x6f) >>> 0;

function referenceExpand(p: number): number {
  const q = p & 3, f3 = p >>> 13;
  const rdp = 8 + ((p >>> 2) & 7), rs1p = 8 + ((p >>> 7) & 7), r = (p >>> 7) & 31, r2 = (p >>> 2) & 31;
  const imm6 = sext(field(p, '12=5 6:2=4:0'), 6);
  const shamt = field(p, '12=5 6:2=4:0');
  if (q === 0) {
    switch (f3) {
      case 0: { const u = field(p, '12:11=5:4 10:7=9:6 6=2 5=3'); return u === 0 ? 0 : iType(u, 2, 0, rdp, 0x13); }
      case 2: return iType(field(p, '12:10=5:3 6=2 5=6'), rs1p, 2, rdp, 0x03);
      case 3: return iType(field(p, '12:10=5:3 6:5=7:6'), rs1p, 3, rdp, 0x03);
      case 6: return sType(field(p, '12:10=5:3 6=2 5=6'), rdp, rs1p, 2, 0x23);
      case 7: return sType(field(p, '12:10=5:3 6:5=7:6'), rdp, rs1p, 3, 0x23);
      default: return 0; // C.FLD, C.FSD (no D), reserved
    }
  }
  if (q === 1) {
    switch (f3) {
      case 0: return iType(imm6, r, 0, r, 0x13);
      case 1: return r === 0 ? 0 : iType(imm6, r, 0, r, 0x1b);
      case 2: return iType(imm6, 0, 0, r, 0x13);
      case 3:
        if (r === 2) { const n = sext(field(p, '12=9 6=4 5=6 4:3=8:7 2=5'), 10); return n === 0 ? 0 : iType(n, 2, 0, 2, 0x13); }
        return imm6 === 0 ? 0 : ((((imm6 << 12) >>> 12) & 0xfffff) << 12 | (r << 7) | 0x37) >>> 0;
      case 4:
        switch ((p >>> 10) & 3) {
          case 0: return iType(shamt, rs1p, 5, rs1p, 0x13);
          case 1: return iType(shamt | 0x400, rs1p, 5, rs1p, 0x13);
          case 2: return iType(imm6, rs1p, 7, rs1p, 0x13);
          default: {
            const rs2p = 8 + ((p >>> 2) & 7), f2 = (p >>> 5) & 3;
            if ((p >>> 12) & 1) return f2 === 0 ? rType(0x20, rs2p, rs1p, 0, rs1p, 0x3b) : f2 === 1 ? rType(0, rs2p, rs1p, 0, rs1p, 0x3b) : 0;
            return rType(f2 === 0 ? 0x20 : 0, rs2p, rs1p, [0, 4, 6, 7][f2], rs1p, 0x33);
          }
        }
      case 5: return jType(sext(field(p, '12=11 11=4 10:9=9:8 8=10 7=6 6=7 5:3=3:1 2=5'), 12), 0);
      default: return bType(sext(field(p, '12=8 11:10=4:3 6:5=7:6 4:3=2:1 2=5'), 9), 0, rs1p, f3 === 6 ? 0 : 1);
    }
  }
  switch (f3) {
    case 0: return iType(shamt, r, 1, r, 0x13);
    case 2: return r === 0 ? 0 : iType(field(p, '12=5 6:4=4:2 3:2=7:6'), 2, 2, r, 0x03);
    case 3: return r === 0 ? 0 : iType(field(p, '12=5 6:5=4:3 4:2=8:6'), 2, 3, r, 0x03);
    case 4:
      if (((p >>> 12) & 1) === 0) return r2 === 0 ? (r === 0 ? 0 : iType(0, r, 0, 0, 0x67)) : rType(0, r2, 0, 0, r, 0x33);
      if (r2 === 0) return r === 0 ? 0x00100073 : iType(0, r, 0, 1, 0x67);
      return rType(0, r2, r, 0, r, 0x33);
    case 6: return sType(field(p, '12:9=5:2 8:7=7:6'), r2, 2, 2, 0x23);
    case 7: return sType(field(p, '12:10=5:3 9:7=8:6'), r2, 2, 3, 0x23);
    default: return 0; // C.FLDSP, C.FSDSP
  }
}

describe('compressed (RV64C)', () => {
  it('expands every one of the 65536 parcels as the spec listing says', () => {
    let legal = 0;
    for (let p = 0; p < 0x10000; p++) {
      const want = (p & 3) === 3 ? 0 : referenceExpand(p);
      if (want !== 0) legal++;
      if (C_EXPAND[p] >>> 0 !== want) expect.fail(`0x${p.toString(16)}: 0x${(C_EXPAND[p] >>> 0).toString(16)}, want 0x${want.toString(16)}`);
      if (expandCompressed(p) !== C_EXPAND[p]) expect.fail('expandCompressed differs from C_EXPAND');
    }
    expect(legal).toBe(38551); // = what objdump decodes, minus C.FLD/FSD/FLDSP/FSDSP, c.unimp and 0x6101
  });

  it('expands to instructions whose op is the row\'s op', () => {
    for (let p = 0; p < 0x10000; p++) {
      const e = C_EXPAND[p];
      if (e === 0) { expect(compressedSpec(p)).toBeUndefined(); continue; }
      const spec = compressedSpec(p)!;
      if (decode(e) !== spec.op) expect.fail(`${spec.name} 0x${p.toString(16)} expands to ${Op[decode(e)]}`);
    }
  });

  const RESERVED: ReadonlyArray<readonly [number, string]> = [
    [0x0000, 'c.unimp: the defined illegal instruction'],
    [0x0004, 'c.addi4spn with nzuimm = 0'],
    [0x001c, 'c.addi4spn with nzuimm = 0, rd\' = a5'],
    [0x2000, 'c.fld (no D)'],
    [0x3ffc, 'c.fld'],
    [0xa000, 'c.fsd'],
    [0x2002, 'c.fldsp'],
    [0xa002, 'c.fsdsp'],
    [0x8000, 'quadrant 0, funct3 = 100'],
    [0x9ffc, 'quadrant 0, funct3 = 100'],
    [0x2001, 'c.addiw with rd = 0'],
    [0x3005, 'c.addiw with rd = 0'],
    [0x6081, 'c.lui with nzimm = 0 (rd = ra)'],
    [0x6001, 'c.lui with nzimm = 0 (rd = 0)'],
    [0x6101, 'c.addi16sp with nzimm = 0'],
    [0x4002, 'c.lwsp with rd = 0'],
    [0x6002, 'c.ldsp with rd = 0'],
    [0x8002, 'c.jr with rs1 = 0'],
    [0x9c41, 'RV64 reserved CA funct2 = 10'],
    [0x9c61, 'RV64 reserved CA funct2 = 11'],
    [0x0003, 'low bits 11: not compressed'],
    [0xffff, 'low bits 11: not compressed'],
  ];
  it.each(RESERVED.map(([p, why]) => [`0x${p.toString(16).padStart(4, '0')}`, why, p] as const))(
    '%s expands to 0: %s', (_h, _w, p) => {
      expect(C_EXPAND[p]).toBe(0);
    });

  const HINTS: ReadonlyArray<readonly [number, number, string]> = [
    [0x0001, 0x00000013, 'c.nop = addi x0, x0, 0'],
    [0x0005, 0x00100013, 'c.nop with imm != 0: addi x0, x0, 1'],
    [0x0501, 0x00050513, 'c.addi a0, 0: addi a0, a0, 0'],
    [0x4005, 0x00100013, 'c.li zero, 1: addi x0, x0, 1'],
    [0x6005, 0x00001037, 'c.lui zero, 1: lui x0, 1'],
    [0x0006, 0x00101013, 'c.slli zero, 1'],
    [0x0502, 0x00051513, 'c.slli64 a0: slli a0, a0, 0'],
    [0x8101, 0x00055513, 'c.srli64 a0: srli a0, a0, 0'],
    [0x8501, 0x40055513, 'c.srai64 a0: srai a0, a0, 0'],
    [0x8006, 0x00100033, 'c.mv zero, ra: add x0, x0, ra'],
    [0x9006, 0x00100033, 'c.add zero, ra: add x0, x0, ra'],
  ];
  it.each(HINTS.map(([p, e, why]) => [`0x${p.toString(16).padStart(4, '0')}`, why, p, e] as const))(
    'HINT %s is legal: %s', (_h, _w, p, e) => {
      expect(C_EXPAND[p] >>> 0).toBe(e);
    });

  it('uses the RV64 forms: 6-bit shifts, c.addiw instead of c.jal, c.ld/c.sd', () => {
    expect(C_EXPAND[0x157e] >>> 0).toBe(0x03f51513); // c.slli a0, 63
    expect(C_EXPAND[0x9101] >>> 0).toBe(0x02055513); // c.srli a0, 32
    expect(C_EXPAND[0x9501] >>> 0).toBe(0x42055513); // c.srai a0, 32
    expect(compressedSpec(0x2505)?.name).toBe('c.addiw'); // would be c.jal on RV32
    expect(C_EXPAND[0x2505] >>> 0).toBe(0x0015051b); // addiw a0, a0, 1
    expect(C_EXPAND[0x6008] >>> 0).toBe(0x00043503); // c.ld a0, 0(s0)
    expect(C_EXPAND[0xe008] >>> 0).toBe(0x00a43023); // c.sd a0, 0(s0)
    expect(C_EXPAND[0x9082] >>> 0).toBe(0x000080e7); // c.jalr ra: jalr ra, 0(ra)
    expect(C_EXPAND[0x9002] >>> 0).toBe(0x00100073); // c.ebreak
  });

  it('has every row reachable and names that objdump uses', () => {
    const seen = new Set<string>();
    for (let p = 0; p < 0x10000; p++) { const s = compressedSpec(p); if (s) seen.add(s.name); }
    expect([...seen].sort()).toEqual(C_INSNS.map((s) => s.name).sort());
    for (const s of C_INSNS) expect(s.name.startsWith('c.')).toBe(true);
  });
});
