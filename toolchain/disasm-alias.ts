/**
 * The pseudo-instruction names plain `objdump -d` (GNU binutils 2.40) prints
 * instead of the base instructions: `li`, `mv`, `ret`, `j`, `nop`, `csrr` …
 *
 * binutils picks the first row of its opcode table (opcodes/riscv-opc.c) that
 * matches, aliases included, so these rules follow that table's order for the
 * instructions this machine has. Version 2.40 quirks reproduced on purpose:
 * immediate forms print under the register mnemonic (`add a0,a1,5` for addi,
 * `sll` for slli, `csrrw rd,csr,5` for csrrwi, `addw` for addiw …), compressed
 * instructions print as their 32-bit equivalents, and `c.addi zero,imm≠0`
 * prints as `c.nop imm`. objdump's default architecture for raw binaries is
 * rv64gc, so the F-extension CSR aliases (frcsr, fsrm, fsflagsi …) are printed
 * too. Address hints follow the operand letters of the alias row (a `mv` or
 * `sext.w` row has no immediate operand, so it neither prints nor consumes one).
 */
import {
  Op, rd, rs1, rs2, immI, immB, immJ, shamt5, shamt6, csrOf, zimm, fencePred, fenceSucc, fenceFm,
  cRd, cRs2, cRdPrime, cRs1Prime, cRs2Prime, cImmCI, cShamt, cImmLui, cImmAddi16sp, cImmAddi4spn, cImmLw, cImmLd,
  cImmLwsp, cImmLdsp, cImmSwsp, cImmSdsp, cImmJ, cImmB,
} from '../emulator/cpu/riscv/isa.js';
import type { AliasHelpers, DecodedInsn } from './disasm.js';
import { REG_ABI_NAMES, X_RA } from './regs.js';

const reg = (n: number): string => REG_ABI_NAMES[n];
const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;

/** F-extension CSRs (unpriv 11.2) and the aliases binutils has for them. */
const CSR_FFLAGS = 0x001;
const CSR_FRM = 0x002;
const CSR_FCSR = 0x003;
const F_CSR_READ: ReadonlyMap<number, string> = new Map([[CSR_FCSR, 'frcsr'], [CSR_FRM, 'frrm'], [CSR_FFLAGS, 'frflags']]);
const F_CSR_SWAP: ReadonlyMap<number, string> = new Map([[CSR_FCSR, 'fscsr'], [CSR_FRM, 'fsrm'], [CSR_FFLAGS, 'fsflags']]);
const F_CSR_SWAPI: ReadonlyMap<number, string> = new Map([[CSR_FRM, 'fsrmi'], [CSR_FFLAGS, 'fsflagsi']]);
/** Zicntr read aliases: csrrs rd, <counter>, zero. */
const COUNTER_READ: ReadonlyMap<number, string> = new Map([[0xc00, 'rdcycle'], [0xc01, 'rdtime'], [0xc02, 'rdinstret']]);

/** The 2.40 register-mnemonic spelling of each immediate op. */
const IMM_AS_REG: Partial<Record<Op, string>> = {
  [Op.ADDI]: 'add', [Op.ANDI]: 'and', [Op.ORI]: 'or', [Op.XORI]: 'xor', [Op.ADDIW]: 'addw',
  [Op.SLLI]: 'sll', [Op.SRLI]: 'srl', [Op.SRAI]: 'sra', [Op.SLLIW]: 'sllw', [Op.SRLIW]: 'srlw', [Op.SRAIW]: 'sraw',
  [Op.CSRRWI]: 'csrrw', [Op.CSRRSI]: 'csrrs', [Op.CSRRCI]: 'csrrc',
};

/** The alias text objdump prints for this instruction, or undefined to print the base form. */
export function aliasText(d: DecodedInsn, h: AliasHelpers): string | undefined {
  return d.length === 2 ? compressedAlias(d, h) : fullAlias(d, h);
}

function fullAlias(d: DecodedInsn, h: AliasHelpers): string | undefined {
  const i = d.insn;
  const op = d.spec.op;
  const r = rd(i), s1 = rs1(i), s2 = rs2(i), imm = immI(i);
  switch (op) {
    case Op.ADDI:
      if (i === 0x00000013) return 'nop';
      if (s1 === 0) return `li\t${reg(r)},${imm}`;
      if (imm === 0) return `mv\t${reg(r)},${reg(s1)}`;
      h.hint(s1, imm, false);
      return `add\t${reg(r)},${reg(s1)},${imm}`;
    case Op.ADDIW:
      if (imm === 0) return `sext.w\t${reg(r)},${reg(s1)}`;
      if (s1 !== 0) h.hint(s1, imm, true);
      return `addw\t${reg(r)},${reg(s1)},${imm}`;
    case Op.ANDI:
      if (imm === 255) return `zext.b\t${reg(r)},${reg(s1)}`;
      return `and\t${reg(r)},${reg(s1)},${imm}`;
    case Op.XORI:
      if (imm === -1) return `not\t${reg(r)},${reg(s1)}`;
      return `xor\t${reg(r)},${reg(s1)},${imm}`;
    case Op.ORI:
      return `or\t${reg(r)},${reg(s1)},${imm}`;
    case Op.SLTIU:
      return imm === 1 ? `seqz\t${reg(r)},${reg(s1)}` : undefined;
    case Op.SLLI: case Op.SRLI: case Op.SRAI:
      return `${IMM_AS_REG[op]}\t${reg(r)},${reg(s1)},${hex(shamt6(i))}`;
    case Op.SLLIW: case Op.SRLIW: case Op.SRAIW:
      return `${IMM_AS_REG[op]}\t${reg(r)},${reg(s1)},${hex(shamt5(i))}`;
    case Op.SUB:
      return s1 === 0 ? `neg\t${reg(r)},${reg(s2)}` : undefined;
    case Op.SUBW:
      return s1 === 0 ? `negw\t${reg(r)},${reg(s2)}` : undefined;
    case Op.SLTU:
      return s1 === 0 ? `snez\t${reg(r)},${reg(s2)}` : undefined;
    case Op.SLT:
      if (s2 === 0) return `sltz\t${reg(r)},${reg(s1)}`;
      if (s1 === 0) return `sgtz\t${reg(r)},${reg(s2)}`;
      return undefined;
    case Op.BEQ: case Op.BNE:
      return s2 === 0 ? `${op === Op.BEQ ? 'beqz' : 'bnez'}\t${reg(s1)},${h.target(immB(i))}` : undefined;
    case Op.BGE:
      if (s1 === 0) return `blez\t${reg(s2)},${h.target(immB(i))}`;
      if (s2 === 0) return `bgez\t${reg(s1)},${h.target(immB(i))}`;
      return undefined;
    case Op.BLT:
      if (s2 === 0) return `bltz\t${reg(s1)},${h.target(immB(i))}`;
      if (s1 === 0) return `bgtz\t${reg(s2)},${h.target(immB(i))}`;
      return undefined;
    case Op.JAL:
      if (r === 0) return `j\t${h.target(immJ(i))}`;
      if (r === X_RA) return `jal\t${h.target(immJ(i))}`;
      return undefined;
    case Op.JALR:
      return jalrAlias(r, s1, imm, h);
    case Op.FENCE:
      return fenceFm(i) === 0 && fencePred(i) === 0xf && fenceSucc(i) === 0xf && r === 0 && s1 === 0 ? 'fence' : undefined;
    case Op.SFENCE_VMA:
      if (s2 !== 0) return undefined;
      return s1 === 0 ? 'sfence.vma' : `sfence.vma\t${reg(s1)}`;
    case Op.CSRRS: case Op.CSRRW: case Op.CSRRC:
      return csrAlias(op, r, csrOf(i), s1, h);
    case Op.CSRRWI: case Op.CSRRSI: case Op.CSRRCI:
      return csrImmAlias(op, r, csrOf(i), zimm(i), h);
    default:
      return undefined;
  }
}

/** jalr rows in riscv-opc.c order: ret, jr s / jr o(s), jalr s / jalr o(s), jalr d,s, then the base. */
function jalrAlias(r: number, s1: number, imm: number, h: AliasHelpers): string | undefined {
  if (r === 0 && s1 === X_RA && imm === 0) return 'ret';
  if (r === 0 || r === X_RA) {
    const name = r === 0 ? 'jr' : 'jalr';
    h.hint(s1, imm, false);
    if (imm === 0) return `${name}\t${reg(s1)}`; // operand 's': one hint lookup
    h.hint(s1, imm, false); // operand 'o' falls through to 'j': a second lookup (matters for tp/zero bases)
    return `${name}\t${imm}(${reg(s1)})`;
  }
  if (imm === 0) {
    h.hint(s1, imm, false);
    return `jalr\t${reg(r)},${reg(s1)}`;
  }
  return undefined;
}

function csrAlias(op: Op, r: number, csr: number, s1: number, h: AliasHelpers): string | undefined {
  if (op === Op.CSRRS && s1 === 0) {
    const counter = COUNTER_READ.get(csr);
    if (counter !== undefined) return `${counter}\t${reg(r)}`;
    const f = F_CSR_READ.get(csr);
    if (f !== undefined) return `${f}\t${reg(r)}`;
    return `csrr\t${reg(r)},${h.csr(csr)}`;
  }
  if (op === Op.CSRRW) {
    const f = F_CSR_SWAP.get(csr);
    if (f !== undefined) return r === 0 ? `${f}\t${reg(s1)}` : `${f}\t${reg(r)},${reg(s1)}`;
  }
  if (r !== 0) return undefined;
  const name = op === Op.CSRRW ? 'csrw' : op === Op.CSRRS ? 'csrs' : 'csrc';
  return `${name}\t${h.csr(csr)},${reg(s1)}`;
}

function csrImmAlias(op: Op, r: number, csr: number, uimm: number, h: AliasHelpers): string {
  if (op === Op.CSRRWI) {
    const f = F_CSR_SWAPI.get(csr);
    if (f !== undefined) return `${f}\t${reg(r)},${uimm}`;
  }
  if (r === 0) {
    const name = op === Op.CSRRWI ? 'csrw' : op === Op.CSRRSI ? 'csrs' : 'csrc';
    return `${name}\t${h.csr(csr)},${uimm}`;
  }
  return `${IMM_AS_REG[op]}\t${reg(r)},${h.csr(csr)},${uimm}`;
}

function compressedAlias(d: DecodedInsn, h: AliasHelpers): string | undefined {
  const p = d.insn;
  const r = cRd(p);
  const rp = cRs1Prime(p);
  switch (d.spec.name) {
    case 'c.addi4spn':
      return `add\t${reg(cRdPrime(p))},sp,${cImmAddi4spn(p)}`;
    case 'c.lw':
      return `lw\t${reg(cRdPrime(p))},${cImmLw(p)}(${reg(rp)})`;
    case 'c.ld':
      return `ld\t${reg(cRdPrime(p))},${cImmLd(p)}(${reg(rp)})`;
    case 'c.sw':
      return `sw\t${reg(cRs2Prime(p))},${cImmLw(p)}(${reg(rp)})`;
    case 'c.sd':
      return `sd\t${reg(cRs2Prime(p))},${cImmLd(p)}(${reg(rp)})`;
    case 'c.addi':
      if (r === 0) return cImmCI(p) === 0 ? 'nop' : `c.nop\t${cImmCI(p)}`;
      h.hint(r, cImmCI(p), false);
      return `add\t${reg(r)},${reg(r)},${cImmCI(p)}`;
    case 'c.addiw':
      if (cImmCI(p) === 0) return `sext.w\t${reg(r)},${reg(r)}`;
      h.hint(r, cImmCI(p), true);
      return `addw\t${reg(r)},${reg(r)},${cImmCI(p)}`;
    case 'c.li':
      return r === 0 ? undefined : `li\t${reg(r)},${cImmCI(p)}`;
    case 'c.addi16sp':
      return `add\tsp,sp,${cImmAddi16sp(p)}`;
    case 'c.lui':
      if (r === 0) return undefined;
      h.setHi(r, BigInt(cImmLui(p)));
      return `lui\t${reg(r)},${hex(cImmCI(p) & 0xfffff)}`;
    case 'c.srli': case 'c.srai':
      return `${d.spec.name === 'c.srli' ? 'srl' : 'sra'}\t${reg(rp)},${reg(rp)},${hex(cShamt(p))}`;
    case 'c.andi':
      return `and\t${reg(rp)},${reg(rp)},${cImmCI(p)}`;
    case 'c.sub': case 'c.xor': case 'c.or': case 'c.and': case 'c.subw': case 'c.addw':
      return `${d.spec.name.slice(2)}\t${reg(rp)},${reg(rp)},${reg(cRs2Prime(p))}`;
    case 'c.j':
      return `j\t${h.target(cImmJ(p))}`;
    case 'c.beqz': case 'c.bnez':
      return `${d.spec.name.slice(2)}\t${reg(rp)},${h.target(cImmB(p))}`;
    case 'c.slli':
      return r === 0 ? undefined : `sll\t${reg(r)},${reg(r)},${hex(cShamt(p))}`;
    case 'c.lwsp':
      return `lw\t${reg(r)},${cImmLwsp(p)}(sp)`;
    case 'c.ldsp':
      return `ld\t${reg(r)},${cImmLdsp(p)}(sp)`;
    case 'c.swsp':
      return `sw\t${reg(cRs2(p))},${cImmSwsp(p)}(sp)`;
    case 'c.sdsp':
      return `sd\t${reg(cRs2(p))},${cImmSdsp(p)}(sp)`;
    case 'c.jr':
      return r === X_RA ? 'ret' : `jr\t${reg(r)}`;
    case 'c.jalr':
      return `jalr\t${reg(r)}`;
    case 'c.mv':
      return r === 0 ? undefined : `mv\t${reg(r)},${reg(cRs2(p))}`;
    case 'c.add':
      return r === 0 ? undefined : `add\t${reg(r)},${reg(r)},${reg(cRs2(p))}`;
    case 'c.ebreak':
      return 'ebreak';
    default:
      return undefined;
  }
}
