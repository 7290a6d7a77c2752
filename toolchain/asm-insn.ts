/**
 * Encoding one assembler statement that is an instruction or a
 * pseudo-instruction (GNU as syntax) into 16/32-bit parcels, driven by the
 * shared table of emulator/cpu/riscv/isa.ts. Operand layouts per format are
 * described there; pseudo-instructions follow unpriv chapter 25 ("RISC-V
 * Assembly Programmer's Handbook", tables 25.2-25.3) and GNU as.
 *
 * Every encoding is decoded back through the table before it is returned, so
 * a wrong encoding cannot leave this file silently.
 */
import {
  Op, SPEC_BY_NAME, SPEC_OF_OP, compressedSpec, decode, C_EXPAND,
  encodeB, encodeI, encodeJ, encodeR, encodeS, encodeU, type CInsnSpec, type InsnSpec,
} from '../emulator/cpu/riscv/isa.js';
import { ExprError, hi20, isInt32, lo12 } from './asm-expr.js';
import { liSequence } from './asm-li.js';
import { csrNumber } from './csr-names.js';
import { regNumber, X_RA, X_SP, X_T1, X_ZERO } from './regs.js';

export interface Parcel {
  readonly bits: number;
  readonly length: 2 | 4;
}

/** What instruction encoding needs from the assembler driver. */
export interface InsnContext {
  /** Last pass: report range errors and unresolved symbols (earlier passes only size things). */
  readonly final: boolean;
  /** Address of the statement's first byte. */
  readonly pc: bigint;
  /** Evaluate an expression at address `at` (default pc); undefined while unresolved (never when final). */
  evaluate(src: string, at?: bigint): bigint | undefined;
  /** Remember the %pcrel_hi target of the auipc at `auipc`, for %pcrel_lo(label). */
  recordPcrelHi(auipc: bigint, target: bigint): void;
}

const fail = (msg: string): never => {
  throw new ExprError(msg);
};

const M = (op: Op): number => SPEC_OF_OP[op].match;

// --- operands ------------------------------------------------------------------------------

function reg(s: string | undefined): number {
  if (s === undefined || s === '') return fail('missing register operand');
  const r = regNumber(s.trim());
  return r === undefined ? fail(`bad register '${s.trim()}'`) : r;
}

const isReg = (s: string | undefined): boolean => s !== undefined && regNumber(s.trim()) !== undefined;

function count(ops: readonly string[], ...allowed: number[]): void {
  if (!allowed.includes(ops.length)) {
    fail(`expected ${allowed.join(' or ')} operand${allowed.length === 1 && allowed[0] === 1 ? '' : 's'}, got ${ops.length}`);
  }
}

/** A signed 64-bit value of an expression; 0 while unresolved in an early pass. */
function value(ctx: InsnContext, src: string, at?: bigint): bigint {
  const v = ctx.evaluate(src, at);
  return v === undefined ? 0n : BigInt.asIntN(64, v);
}

/** An immediate that must lie in [lo, hi] (checked on the final pass). */
function imm(ctx: InsnContext, src: string, lo: number, hi: number, what: string, at?: bigint): number {
  const v = value(ctx, src, at);
  if (v < BigInt(lo) || v > BigInt(hi)) {
    if (ctx.final) fail(`${what} ${v} out of range [${lo}, ${hi}]`);
    return Math.min(Math.max(0, lo), hi); // an encodable placeholder until the last pass
  }
  return Number(v);
}

/** An immediate that must also be a multiple of `align`. */
function scaledImm(ctx: InsnContext, src: string, lo: number, hi: number, align: number, what: string): number {
  const v = imm(ctx, src, lo, hi, what);
  if (v % align !== 0) {
    if (ctx.final) fail(`${what} ${v} is not a multiple of ${align}`);
    return Math.min(Math.max(0, lo), hi);
  }
  return v;
}

/** pc-relative offset to a target expression, even and within ±range. */
function offsetTo(ctx: InsnContext, src: string, range: number, what: string): number {
  const target = ctx.evaluate(src);
  if (target === undefined) return 0;
  const off = BigInt.asIntN(64, target - ctx.pc);
  if (off < BigInt(-range) || off >= BigInt(range)) {
    if (ctx.final) fail(`${what} target out of range (offset ${off}, must be within ±${range})`);
    return 0;
  }
  if ((off & 1n) !== 0n) {
    if (ctx.final) fail(`${what} target is at an odd offset (${off})`);
    return 0;
  }
  return Number(off);
}

/** `offset(reg)`, `(reg)` or `%lo(sym)(reg)`; undefined when the operand has no (reg) suffix. */
function memOperand(s: string): { offset: string; base: string } | undefined {
  const t = s.trim();
  if (!t.endsWith(')')) return undefined;
  let depth = 0;
  for (let i = t.length - 1; i >= 0; i--) {
    if (t[i] === ')') depth++;
    else if (t[i] === '(' && --depth === 0) {
      const inner = t.slice(i + 1, -1).trim();
      if (!isReg(inner)) return undefined;
      const offset = t.slice(0, i).trim();
      return { offset: offset === '' ? '0' : offset, base: inner };
    }
  }
  return undefined;
}

function mem(s: string | undefined): { offset: string; base: string } {
  const m = s === undefined ? undefined : memOperand(s);
  return m ?? fail(`expected a memory operand like 8(sp), got '${s ?? ''}'`);
}

/** A CSR by name (csr-names.ts) or number 0..4095. */
function csr(ctx: InsnContext, s: string | undefined): number {
  if (s === undefined) return fail('missing CSR operand');
  const n = csrNumber(s.trim().toLowerCase());
  return n !== undefined ? n : imm(ctx, s, 0, 0xfff, 'CSR number');
}

/** FENCE predecessor/successor set: letters of "iorw" (unpriv 2.7: PI PO PR PW = bits 3..0). */
function fenceSet(s: string): number {
  const t = s.trim().toLowerCase();
  let bits = 0;
  for (const c of t) {
    const bit = 'wroi'.indexOf(c);
    if (bit < 0 || bits & (1 << bit)) fail(`bad fence operand '${t}' (use letters of iorw)`);
    bits |= 1 << bit;
  }
  return bits === 0 ? fail('empty fence operand') : bits;
}

// --- base instructions from the table ---------------------------------------------------

/** Check a 32-bit encoding against the decoder before it leaves the assembler. */
function checked(spec: InsnSpec, bits: number): Parcel {
  if (decode(bits) !== spec.op) fail(`internal error: ${spec.name} encoded as 0x${(bits >>> 0).toString(16)}`);
  return { bits: bits >>> 0, length: 4 };
}

/** Check a 16-bit encoding against the compressed table. */
function checkedC(spec: CInsnSpec, bits: number): Parcel {
  if (compressedSpec(bits)?.name !== spec.name) fail(`internal error: ${spec.name} encoded as 0x${bits.toString(16)}`);
  return { bits, length: 2 };
}

/** Register-register mnemonics GNU as also accepts with an immediate, meaning the I form (objdump 2.40 prints them). */
const IMMEDIATE_FORM: ReadonlyMap<Op, Op> = new Map([
  [Op.ADD, Op.ADDI], [Op.AND, Op.ANDI], [Op.OR, Op.ORI], [Op.XOR, Op.XORI], [Op.SLT, Op.SLTI], [Op.SLTU, Op.SLTIU],
  [Op.SLL, Op.SLLI], [Op.SRL, Op.SRLI], [Op.SRA, Op.SRAI], [Op.ADDW, Op.ADDIW], [Op.SLLW, Op.SLLIW],
  [Op.SRLW, Op.SRLIW], [Op.SRAW, Op.SRAIW],
]);

/** .aq/.rl/.aqrl → bits 26/25 (unpriv 8.2). */
const ORDERING: Record<string, number> = { '': 0, '.rl': 1 << 25, '.aq': 1 << 26, '.aqrl': 3 << 25 };

/** Split an AMO/LR/SC mnemonic into its table name and ordering bits. */
function ordering(mnemonic: string): { name: string; bits: number } | undefined {
  const m = /^(.*?)(\.aqrl|\.aq|\.rl)$/.exec(mnemonic);
  if (!m) return undefined;
  const spec = SPEC_BY_NAME.get(m[1]);
  return spec && (spec.format === 'amo' || spec.format === 'lr') ? { name: m[1], bits: ORDERING[m[2]] } : undefined;
}

function base(spec: InsnSpec, ops: readonly string[], ctx: InsnContext, orderBits = 0): Parcel[] {
  const { match } = spec;
  switch (spec.format) {
    case 'R': {
      count(ops, 3);
      const immForm = IMMEDIATE_FORM.get(spec.op);
      if (immForm !== undefined && !isReg(ops[2]) && !/^x\d+$/i.test(ops[2].trim())) {
        return base(SPEC_OF_OP[immForm], ops, ctx); // GNU as: add a0, a1, 5 = addi
      }
      return [checked(spec, encodeR(match, reg(ops[0]), reg(ops[1]), reg(ops[2])))];
    }
    case 'I':
      count(ops, 3);
      return [checked(spec, encodeI(match, reg(ops[0]), reg(ops[1]), imm(ctx, ops[2], -2048, 2047, 'immediate')))];
    case 'shift64':
      count(ops, 3);
      return [checked(spec, encodeI(match, reg(ops[0]), reg(ops[1]), imm(ctx, ops[2], 0, 63, 'shift amount')))];
    case 'shift32':
      count(ops, 3);
      return [checked(spec, encodeI(match, reg(ops[0]), reg(ops[1]), imm(ctx, ops[2], 0, 31, 'shift amount')))];
    case 'I-load': {
      count(ops, 2);
      const m = memOperand(ops[1]);
      if (m === undefined) return loadSymbol(spec, ops, ctx);
      return [checked(spec, encodeI(match, reg(ops[0]), reg(m.base), imm(ctx, m.offset, -2048, 2047, 'offset')))];
    }
    case 'S': {
      count(ops, 2, 3);
      const m = ops.length === 2 ? memOperand(ops[1]) : undefined;
      if (m === undefined) return storeSymbol(spec, ops, ctx);
      return [checked(spec, encodeS(match, reg(m.base), reg(ops[0]), imm(ctx, m.offset, -2048, 2047, 'offset')))];
    }
    case 'B':
      count(ops, 3);
      return [checked(spec, encodeB(match, reg(ops[0]), reg(ops[1]), offsetTo(ctx, ops[2], 1 << 12, 'branch')))];
    case 'J': {
      count(ops, 1, 2);
      const rd = ops.length === 2 ? reg(ops[0]) : X_RA; // `jal label` = jal ra, label
      return [checked(spec, encodeJ(match, rd, offsetTo(ctx, ops[ops.length - 1], 1 << 20, 'jump')))];
    }
    case 'I-jalr':
      return [checked(spec, jalr(ops, ctx))];
    case 'U':
      count(ops, 2);
      return [checked(spec, encodeU(match, reg(ops[0]), imm(ctx, ops[1], 0, 0xfffff, 'upper immediate')))];
    case 'fence': {
      count(ops, 0, 2);
      const [pred, succ] = ops.length === 0 ? [0xf, 0xf] : [fenceSet(ops[0]), fenceSet(ops[1])];
      return [checked(spec, (match | (pred << 24) | (succ << 20)) >>> 0)];
    }
    case 'none':
      count(ops, 0);
      return [checked(spec, match)];
    case 'sfence':
      count(ops, 0, 1, 2);
      return [checked(spec, encodeR(match, 0, ops.length > 0 ? reg(ops[0]) : 0, ops.length > 1 ? reg(ops[1]) : 0))];
    case 'csr': {
      count(ops, 3);
      if (!isReg(ops[2])) { // GNU as: csrrw rd, csr, imm = csrrwi
        const immForm = SPEC_OF_OP[spec.op === Op.CSRRW ? Op.CSRRWI : spec.op === Op.CSRRS ? Op.CSRRSI : Op.CSRRCI];
        return base(immForm, ops, ctx);
      }
      return [checked(spec, encodeI(match, reg(ops[0]), reg(ops[2]), 0) | (csr(ctx, ops[1]) << 20))];
    }
    case 'csr-imm':
      count(ops, 3);
      return [checked(spec, (encodeI(match, reg(ops[0]), imm(ctx, ops[2], 0, 31, 'CSR immediate'), 0) | (csr(ctx, ops[1]) << 20)) >>> 0)];
    case 'amo': {
      count(ops, 3);
      const m = amoAddress(ops[2], ctx);
      return [checked(spec, (encodeR(match, reg(ops[0]), m, reg(ops[1])) | orderBits) >>> 0)];
    }
    case 'lr': {
      count(ops, 2);
      return [checked(spec, (encodeR(match, reg(ops[0]), amoAddress(ops[1], ctx), 0) | orderBits) >>> 0)];
    }
    default:
      return compressed(spec as CInsnSpec, ops, ctx);
  }
}

/** AMO/LR/SC address: (rs1) or 0(rs1) (unpriv 8.1: no offset). */
function amoAddress(s: string, ctx: InsnContext): number {
  const m = mem(s);
  if (value(ctx, m.offset) !== 0n) fail('AMO address must be (reg) or 0(reg)');
  return reg(m.base);
}

/** jalr forms of GNU as: `jalr rs`, `jalr imm(rs)`, `jalr rd, rs`, `jalr rd, imm(rs)`, `jalr rd, rs, imm`. */
function jalr(ops: readonly string[], ctx: InsnContext): number {
  const match = M(Op.JALR);
  const off = (s: string): number => imm(ctx, s, -2048, 2047, 'offset');
  if (ops.length === 1) {
    const m = memOperand(ops[0]);
    return m ? encodeI(match, X_RA, reg(m.base), off(m.offset)) : encodeI(match, X_RA, reg(ops[0]), 0);
  }
  if (ops.length === 2) {
    const m = memOperand(ops[1]);
    return m ? encodeI(match, reg(ops[0]), reg(m.base), off(m.offset)) : encodeI(match, reg(ops[0]), reg(ops[1]), 0);
  }
  count(ops, 3);
  return encodeI(match, reg(ops[0]), reg(ops[1]), off(ops[2]));
}

/** auipc rd, %pcrel_hi(target) at pc; returns [hi20 field, lo12] of the pc-relative distance. */
function pcrel(ctx: InsnContext, target: string): [number, number] {
  const t = ctx.evaluate(target);
  if (t === undefined) return [0, 0];
  const delta = BigInt.asIntN(64, t - ctx.pc);
  if (!isInt32(delta)) {
    if (ctx.final) fail(`'${target.trim()}' is more than ±2 GiB from here`);
    return [0, 0];
  }
  ctx.recordPcrelHi(ctx.pc, t);
  return [Number(hi20(delta)), Number(lo12(delta))];
}

const auipc = (rd: number, hi: number): Parcel => checked(SPEC_OF_OP[Op.AUIPC], encodeU(M(Op.AUIPC), rd, hi));

/** `ld rd, symbol` (GNU as): auipc rd, %pcrel_hi(symbol); ld rd, %pcrel_lo(rd). */
function loadSymbol(spec: InsnSpec, ops: readonly string[], ctx: InsnContext): Parcel[] {
  const rd = reg(ops[0]);
  const [hi, lo] = pcrel(ctx, ops[1]);
  return [auipc(rd, hi), checked(spec, encodeI(spec.match, rd, rd, lo))];
}

/** `sd rs2, symbol, rt` (GNU as): auipc rt, %pcrel_hi(symbol); sd rs2, %pcrel_lo(rt). */
function storeSymbol(spec: InsnSpec, ops: readonly string[], ctx: InsnContext): Parcel[] {
  if (ops.length !== 3) fail(`expected a memory operand like 8(sp), got '${ops[1]}'`);
  const rt = reg(ops[2]);
  const [hi, lo] = pcrel(ctx, ops[1]);
  return [auipc(rt, hi), checked(spec, encodeS(spec.match, rt, reg(ops[0]), lo))];
}

// --- compressed instructions (unpriv 16.3-16.6) ------------------------------------------

/** A register of x8..x15 as its 3-bit field. */
function cReg(s: string | undefined): number {
  const r = reg(s);
  return r >= 8 && r <= 15 ? r - 8 : fail(`register '${s!.trim()}' is not one of x8-x15 (s0-s1, a0-a5), as compressed instructions need`);
}

function needSp(s: string | undefined): void {
  if (reg(s) !== X_SP) fail(`expected sp, got '${s?.trim()}'`);
}

const bit = (v: number, from: number, to: number): number => ((v >>> from) & 1) << to;
const bits = (v: number, hi: number, lo: number, to: number): number => ((v >>> lo) & ((1 << (hi - lo + 1)) - 1)) << to;

function compressed(spec: CInsnSpec, ops: readonly string[], ctx: InsnContext): Parcel[] {
  const m = spec.match;
  const nonZeroRd = (s: string | undefined, why: string): number => {
    const r = reg(s);
    return r === 0 ? fail(`${spec.name} with rd = zero is reserved (${why})`) : r;
  };
  const ci6 = (v: number): number => bit(v, 5, 12) | bits(v, 4, 0, 2);
  let p: number;
  switch (spec.format) {
    case 'CIW': {
      count(ops, 3);
      needSp(ops[1]);
      const v = scaledImm(ctx, ops[2], 4, 1020, 4, 'c.addi4spn immediate');
      p = m | (cReg(ops[0]) << 2) | bits(v, 5, 4, 11) | bits(v, 9, 6, 7) | bit(v, 2, 6) | bit(v, 3, 5);
      break;
    }
    case 'CL-w': case 'CS-w': case 'CL-d': case 'CS-d': {
      count(ops, 2);
      const a = mem(ops[1]);
      const word = spec.format.endsWith('-w');
      const v = word ? scaledImm(ctx, a.offset, 0, 124, 4, 'offset') : scaledImm(ctx, a.offset, 0, 248, 8, 'offset');
      const enc = word ? bits(v, 5, 3, 10) | bit(v, 2, 6) | bit(v, 6, 5) : bits(v, 5, 3, 10) | bits(v, 7, 6, 5);
      p = m | (cReg(ops[0]) << 2) | (cReg(a.base) << 7) | enc;
      break;
    }
    case 'CI': {
      count(ops, 2);
      const rd = spec.name === 'c.addiw' ? nonZeroRd(ops[0], 'unpriv 16.5') : reg(ops[0]);
      p = m | (rd << 7) | ci6(imm(ctx, ops[1], -32, 31, 'immediate'));
      break;
    }
    case 'CI-sp': {
      count(ops, 2);
      needSp(ops[0]);
      let v = scaledImm(ctx, ops[1], -512, 496, 16, 'c.addi16sp immediate');
      if (v === 0 && ctx.final) fail('c.addi16sp with immediate 0 is reserved');
      if (v === 0) v = 16; // placeholder until the last pass
      p = m | bit(v, 9, 12) | bit(v, 4, 6) | bit(v, 6, 5) | bits(v, 8, 7, 3) | bit(v, 5, 2);
      break;
    }
    case 'CI-lui': {
      count(ops, 2);
      const rd = reg(ops[0]);
      if (rd === X_SP) fail('c.lui with rd = sp is c.addi16sp');
      const v = imm(ctx, ops[1], 0, 0xfffff, 'c.lui immediate');
      const ok = (v >= 1 && v <= 0x1f) || v >= 0xfffe0;
      if (!ok && ctx.final) fail(`c.lui immediate 0x${v.toString(16)} must be 0x1-0x1f or 0xfffe0-0xfffff`);
      p = m | (rd << 7) | ci6(ok ? v & 0x3f : 1);
      break;
    }
    case 'CI-shift':
      count(ops, 2);
      p = m | (reg(ops[0]) << 7) | ci6(imm(ctx, ops[1], 1, 63, 'shift amount'));
      break;
    case 'CI-rd':
      count(ops, 1);
      p = m | (reg(ops[0]) << 7);
      break;
    case 'CB-shift':
      count(ops, 2);
      p = m | (cReg(ops[0]) << 7) | ci6(imm(ctx, ops[1], 1, 63, 'shift amount'));
      break;
    case 'CB-rd':
      count(ops, 1);
      p = m | (cReg(ops[0]) << 7);
      break;
    case 'CB-imm':
      count(ops, 2);
      p = m | (cReg(ops[0]) << 7) | ci6(imm(ctx, ops[1], -32, 31, 'immediate'));
      break;
    case 'CA':
      count(ops, 2);
      p = m | (cReg(ops[0]) << 7) | (cReg(ops[1]) << 2);
      break;
    case 'CJ': {
      count(ops, 1);
      const o = offsetTo(ctx, ops[0], 1 << 11, 'c.j');
      p = m | bit(o, 11, 12) | bit(o, 4, 11) | bits(o, 9, 8, 9) | bit(o, 10, 8) | bit(o, 6, 7) | bit(o, 7, 6) |
        bits(o, 3, 1, 3) | bit(o, 5, 2);
      break;
    }
    case 'CB': {
      count(ops, 2);
      const o = offsetTo(ctx, ops[1], 1 << 8, 'branch');
      p = m | (cReg(ops[0]) << 7) | bit(o, 8, 12) | bits(o, 4, 3, 10) | bits(o, 7, 6, 5) | bits(o, 2, 1, 3) | bit(o, 5, 2);
      break;
    }
    case 'CI-lwsp': case 'CI-ldsp': {
      count(ops, 2);
      const rd = nonZeroRd(ops[0], 'unpriv 16.3');
      const a = mem(ops[1]);
      needSp(a.base);
      if (spec.format === 'CI-lwsp') {
        const v = scaledImm(ctx, a.offset, 0, 252, 4, 'offset');
        p = m | (rd << 7) | bit(v, 5, 12) | bits(v, 4, 2, 4) | bits(v, 7, 6, 2);
      } else {
        const v = scaledImm(ctx, a.offset, 0, 504, 8, 'offset');
        p = m | (rd << 7) | bit(v, 5, 12) | bits(v, 4, 3, 5) | bits(v, 8, 6, 2);
      }
      break;
    }
    case 'CSS-w': case 'CSS-d': {
      count(ops, 2);
      const a = mem(ops[1]);
      needSp(a.base);
      if (spec.format === 'CSS-w') {
        const v = scaledImm(ctx, a.offset, 0, 252, 4, 'offset');
        p = m | (reg(ops[0]) << 2) | bits(v, 5, 2, 9) | bits(v, 7, 6, 7);
      } else {
        const v = scaledImm(ctx, a.offset, 0, 504, 8, 'offset');
        p = m | (reg(ops[0]) << 2) | bits(v, 5, 3, 10) | bits(v, 8, 6, 7);
      }
      break;
    }
    case 'CR-rs1': {
      count(ops, 1);
      const r = reg(ops[0]);
      if (r === 0) fail(`${spec.name} with rs1 = zero is ${spec.name === 'c.jr' ? 'reserved' : 'c.ebreak'}`);
      p = m | (r << 7);
      break;
    }
    case 'CR': {
      count(ops, 2);
      const rs2 = reg(ops[1]);
      if (rs2 === 0) fail(`${spec.name} with rs2 = zero is not encodable (that encoding is c.jr/c.jalr)`);
      p = m | (reg(ops[0]) << 7) | (rs2 << 2);
      break;
    }
    case 'C-none':
      count(ops, 0);
      p = m;
      break;
    default:
      return fail(`internal error: no encoder for format ${spec.format}`);
  }
  return [checkedC(spec, p)];
}

// --- pseudo-instructions (unpriv chapter 25, tables 25.2 and 25.3; GNU as) ----------------

const R = (op: Op, rd: number, rs1: number, rs2: number): Parcel => checked(SPEC_OF_OP[op], encodeR(M(op), rd, rs1, rs2));
const I = (op: Op, rd: number, rs1: number, v: number): Parcel => checked(SPEC_OF_OP[op], encodeI(M(op), rd, rs1, v));
const B = (op: Op, rs1: number, rs2: number, off: number): Parcel => checked(SPEC_OF_OP[op], encodeB(M(op), rs1, rs2, off));
const CSR_I = (op: Op, rd: number, c: number, rs1: number): Parcel => checked(SPEC_OF_OP[op], (encodeI(M(op), rd, rs1, 0) | (c << 20)) >>> 0);

/** li rd, value: the sequence of asm-li.ts. */
function li(ops: readonly string[], ctx: InsnContext): Parcel[] {
  count(ops, 2);
  const rd = reg(ops[0]);
  const v = ctx.evaluate(ops[1]);
  if (v !== undefined && (v < -(1n << 63n) || v >= 1n << 64n)) fail(`li value ${v} does not fit in 64 bits`);
  return liSequence(v ?? 0n).map((s, i) => {
    const src = i === 0 ? X_ZERO : rd;
    switch (s.op) {
      case 'lui': return checked(SPEC_OF_OP[Op.LUI], encodeU(M(Op.LUI), rd, s.imm));
      case 'addi': return I(Op.ADDI, rd, src, s.imm);
      case 'addiw': return I(Op.ADDIW, rd, src, s.imm);
      case 'xori': return I(Op.XORI, rd, src, s.imm);
      case 'slli': return I(Op.SLLI, rd, src, s.imm);
      case 'srli': return I(Op.SRLI, rd, src, s.imm);
    }
  });
}

type Pseudo = (ops: readonly string[], ctx: InsnContext) => Parcel[];

const branchZero = (op: Op, zeroFirst: boolean): Pseudo => (ops, ctx) => {
  count(ops, 2);
  const r = reg(ops[0]);
  const off = offsetTo(ctx, ops[1], 1 << 12, 'branch');
  return [zeroFirst ? B(op, X_ZERO, r, off) : B(op, r, X_ZERO, off)];
};
const branchSwapped = (op: Op): Pseudo => (ops, ctx) => {
  count(ops, 3);
  return [B(op, reg(ops[1]), reg(ops[0]), offsetTo(ctx, ops[2], 1 << 12, 'branch'))];
};
const csrRead = (c: number): Pseudo => (ops) => {
  count(ops, 1);
  return [CSR_I(Op.CSRRS, reg(ops[0]), c, X_ZERO)];
};
/** csrw/csrs/csrc: register or (GNU as) immediate source. */
const csrWrite = (op: Op, immOp: Op): Pseudo => (ops, ctx) => {
  count(ops, 2);
  const c = csr(ctx, ops[0]);
  if (isReg(ops[1])) return [CSR_I(op, X_ZERO, c, reg(ops[1]))];
  return [CSR_I(immOp, X_ZERO, c, imm(ctx, ops[1], 0, 31, 'CSR immediate'))];
};
const csrWriteImm = (op: Op): Pseudo => (ops, ctx) => {
  count(ops, 2);
  return [CSR_I(op, X_ZERO, csr(ctx, ops[0]), imm(ctx, ops[1], 0, 31, 'CSR immediate'))];
};

/** auipc + addi/jalr through a pc-relative distance (la, lla, call, tail). */
const pcrelPair = (second: (rd: number, lo: number) => Parcel, fixedRd?: number): Pseudo => (ops, ctx) => {
  count(ops, fixedRd === undefined ? 2 : 1);
  const rd = fixedRd ?? reg(ops[0]);
  const [hi, lo] = pcrel(ctx, ops[ops.length - 1]);
  return [auipc(rd, hi), second(rd, lo)];
};

const PSEUDOS: ReadonlyMap<string, Pseudo> = new Map<string, Pseudo>([
  ['nop', (ops) => { count(ops, 0); return [I(Op.ADDI, 0, 0, 0)]; }],
  ['li', li],
  ['la', pcrelPair((rd, lo) => I(Op.ADDI, rd, rd, lo))], // flat image, no GOT: la = lla
  ['lla', pcrelPair((rd, lo) => I(Op.ADDI, rd, rd, lo))],
  ['mv', (ops) => { count(ops, 2); return [I(Op.ADDI, reg(ops[0]), reg(ops[1]), 0)]; }],
  ['not', (ops) => { count(ops, 2); return [I(Op.XORI, reg(ops[0]), reg(ops[1]), -1)]; }],
  ['neg', (ops) => { count(ops, 2); return [R(Op.SUB, reg(ops[0]), X_ZERO, reg(ops[1]))]; }],
  ['negw', (ops) => { count(ops, 2); return [R(Op.SUBW, reg(ops[0]), X_ZERO, reg(ops[1]))]; }],
  ['sext.w', (ops) => { count(ops, 2); return [I(Op.ADDIW, reg(ops[0]), reg(ops[1]), 0)]; }],
  ['zext.b', (ops) => { count(ops, 2); return [I(Op.ANDI, reg(ops[0]), reg(ops[1]), 255)]; }],
  ['seqz', (ops) => { count(ops, 2); return [I(Op.SLTIU, reg(ops[0]), reg(ops[1]), 1)]; }],
  ['snez', (ops) => { count(ops, 2); return [R(Op.SLTU, reg(ops[0]), X_ZERO, reg(ops[1]))]; }],
  ['sltz', (ops) => { count(ops, 2); return [R(Op.SLT, reg(ops[0]), reg(ops[1]), X_ZERO)]; }],
  ['sgtz', (ops) => { count(ops, 2); return [R(Op.SLT, reg(ops[0]), X_ZERO, reg(ops[1]))]; }],
  ['sgt', (ops) => { count(ops, 3); return [R(Op.SLT, reg(ops[0]), reg(ops[2]), reg(ops[1]))]; }],
  ['sgtu', (ops) => { count(ops, 3); return [R(Op.SLTU, reg(ops[0]), reg(ops[2]), reg(ops[1]))]; }],
  ['beqz', branchZero(Op.BEQ, false)],
  ['bnez', branchZero(Op.BNE, false)],
  ['blez', branchZero(Op.BGE, true)],
  ['bgez', branchZero(Op.BGE, false)],
  ['bltz', branchZero(Op.BLT, false)],
  ['bgtz', branchZero(Op.BLT, true)],
  ['bgt', branchSwapped(Op.BLT)],
  ['ble', branchSwapped(Op.BGE)],
  ['bgtu', branchSwapped(Op.BLTU)],
  ['bleu', branchSwapped(Op.BGEU)],
  ['j', (ops, ctx) => { count(ops, 1); return [checked(SPEC_OF_OP[Op.JAL], encodeJ(M(Op.JAL), X_ZERO, offsetTo(ctx, ops[0], 1 << 20, 'jump')))]; }],
  ['jr', (ops, ctx) => {
    count(ops, 1, 2);
    const m = ops.length === 1 ? memOperand(ops[0]) : undefined;
    if (m) return [I(Op.JALR, X_ZERO, reg(m.base), imm(ctx, m.offset, -2048, 2047, 'offset'))];
    return [I(Op.JALR, X_ZERO, reg(ops[0]), ops.length === 2 ? imm(ctx, ops[1], -2048, 2047, 'offset') : 0)];
  }],
  ['ret', (ops) => { count(ops, 0); return [I(Op.JALR, X_ZERO, X_RA, 0)]; }],
  // call sym = auipc ra, …; jalr ra, …(ra). call rd, sym goes through t1 like GNU as: auipc t1; jalr rd, …(t1).
  ['call', (ops, ctx) => {
    count(ops, 1, 2);
    if (ops.length === 1) return pcrelPair((r, lo) => I(Op.JALR, r, r, lo), X_RA)(ops, ctx);
    const rd = reg(ops[0]);
    return pcrelPair((t, lo) => I(Op.JALR, rd, t, lo), X_T1)([ops[1]], ctx);
  }],
  ['tail', pcrelPair((r, lo) => I(Op.JALR, X_ZERO, r, lo), X_T1)],
  ['csrr', (ops, ctx) => { count(ops, 2); return [CSR_I(Op.CSRRS, reg(ops[0]), csr(ctx, ops[1]), X_ZERO)]; }],
  ['csrw', csrWrite(Op.CSRRW, Op.CSRRWI)],
  ['csrs', csrWrite(Op.CSRRS, Op.CSRRSI)],
  ['csrc', csrWrite(Op.CSRRC, Op.CSRRCI)],
  ['csrwi', csrWriteImm(Op.CSRRWI)],
  ['csrsi', csrWriteImm(Op.CSRRSI)],
  ['csrci', csrWriteImm(Op.CSRRCI)],
  ['rdcycle', csrRead(0xc00)],
  ['rdtime', csrRead(0xc01)],
  ['rdinstret', csrRead(0xc02)],
  // unimp = csrrw zero, cycle, zero: cycle is read-only, so it always traps (GNU as).
  ['unimp', (ops) => { count(ops, 0); return [CSR_I(Op.CSRRW, X_ZERO, 0xc00, X_ZERO)]; }],
  ['c.unimp', (ops) => { count(ops, 0); return [{ bits: 0, length: 2 }]; }],
  // c.nop; `c.nop imm` is objdump's name for the HINT c.addi x0, imm (unpriv 16.7).
  ['c.nop', (ops, ctx) => {
    count(ops, 0, 1);
    const v = ops.length === 0 ? 0 : imm(ctx, ops[0], -32, 31, 'immediate');
    return [{ bits: 0x0001 | ((v & 0x20) << 7) | ((v & 0x1f) << 2), length: 2 }];
  }],
  // FENCE.TSO and PAUSE (Zihintpause) are FENCE encodings (unpriv 2.7); this machine runs them as FENCE.
  ['fence.tso', (ops) => { count(ops, 0); return [checked(SPEC_OF_OP[Op.FENCE], 0x8330000f)]; }],
  ['pause', (ops) => { count(ops, 0); return [checked(SPEC_OF_OP[Op.FENCE], 0x0100000f)]; }],
]);

/** Every mnemonic the assembler accepts (table rows, AMO ordering variants aside, and pseudo-instructions). */
export function knownMnemonic(mnemonic: string): boolean {
  return SPEC_BY_NAME.has(mnemonic) || PSEUDOS.has(mnemonic) || ordering(mnemonic) !== undefined;
}

/**
 * Encode one instruction statement. Table mnemonics come first, except that
 * `jal label` and the one-operand `jalr` forms are handled by the table rows
 * themselves; pseudo-instructions are looked up when no row has the name.
 */
export function encodeInstruction(mnemonic: string, ops: readonly string[], ctx: InsnContext): Parcel[] {
  const spec = SPEC_BY_NAME.get(mnemonic);
  if (spec !== undefined) return base(spec, ops, ctx);
  const ord = ordering(mnemonic);
  if (ord !== undefined) return base(SPEC_BY_NAME.get(ord.name)!, ops, ctx, ord.bits);
  const pseudo = PSEUDOS.get(mnemonic);
  if (pseudo !== undefined) return pseudo(ops, ctx);
  return fail(`unknown instruction '${mnemonic}'`);
}

// --- optional compression (GNU as with RVC enabled) ---------------------------------------

/**
 * 32-bit instruction → the compressed parcel that expands to it, for the
 * forms GNU as would pick: HINT encodings (rd = x0, zero shift, c.addi with
 * 0) are never produced, except c.nop for `nop`.
 */
const COMPRESS: ReadonlyMap<number, number> = (() => {
  const m = new Map<number, number>();
  for (let p = 1; p < 1 << 16; p++) {
    const e = C_EXPAND[p];
    if (e === 0) continue;
    const spec = compressedSpec(p)!;
    const rd = (e >>> 7) & 0x1f;
    const hint = p !== 0x0001 && (
      (rd === 0 && spec.op !== Op.JALR && spec.op !== Op.JAL && spec.op !== Op.BEQ && spec.op !== Op.BNE &&
        spec.op !== Op.SW && spec.op !== Op.SD && spec.op !== Op.EBREAK) ||
      spec.format === 'CI-rd' || spec.format === 'CB-rd' ||
      (spec.name === 'c.addi' && ((p >>> 2) & 0x1f) === 0 && ((p >>> 12) & 1) === 0));
    if (!hint && !m.has(e >>> 0)) m.set(e >>> 0, p);
  }
  return m;
})();

/** The compressed form of a 32-bit parcel, if there is one. */
export function compress(p: Parcel): Parcel {
  if (p.length !== 4) return p;
  const c = COMPRESS.get(p.bits >>> 0);
  return c === undefined ? p : { bits: c, length: 2 };
}
