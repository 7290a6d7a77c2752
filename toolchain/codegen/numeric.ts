/**
 * Integer instructions (core spec §4.3.2): constants, arithmetic, bitwise,
 * shifts and rotations, comparisons (left pending for branch fusion),
 * division with its traps, bit counts, sign/zero extensions and wrap.
 *
 * i32 values live sign-extended in 64-bit registers, so the W-instructions
 * (addw, sllw, divuw …) compute them directly and unsigned i32 comparisons
 * are plain sltu/bltu: sign extension preserves the unsigned order.
 */
import type { Instr } from '../wasm/module.js';
import type { Cc } from './emitter.js';
import { foldBinary, foldUnary } from './fold.js';
import type { Fn } from './function.js';
import { SCRATCH1, SCRATCH2 } from './regs.js';
import { ValueStack, fitsImm12, norm, type Entry, type ValTy } from './values.js';

/** wasm comparison → [condition, swap operands]. */
const COMPARE: Readonly<Record<string, [Cc, boolean]>> = {
  eq: ['eq', false], ne: ['ne', false],
  lt_s: ['lt', false], lt_u: ['ltu', false], ge_s: ['ge', false], ge_u: ['geu', false],
  gt_s: ['lt', true], gt_u: ['ltu', true], le_s: ['ge', true], le_u: ['geu', true],
};

const BINARY = new Set(['add', 'sub', 'mul', 'div_s', 'div_u', 'rem_s', 'rem_u', 'and', 'or', 'xor', 'shl', 'shr_s', 'shr_u', 'rotl', 'rotr']);

const konst = (ty: ValTy, v: bigint): Entry => ({ k: 'const', ty, v: norm(ty, v) });
const isPow2 = (v: bigint): boolean => v > 0n && (v & (v - 1n)) === 0n;
const log2 = (v: bigint): number => v.toString(2).length - 1;

/** rd = ra <mn> rb. */
function rr(fx: Fn, ty: ValTy, mn: string, a: Entry, b: Entry): void {
  const ra = fx.reg(a, SCRATCH1);
  const rb = fx.reg(b, SCRATCH2);
  fx.release(a);
  fx.release(b);
  const rd = fx.resultReg();
  fx.em.insn(`${mn} ${rd}, ${ra}, ${rb}`);
  fx.pushReg(ty, rd);
}

/** rd = ra <mn> imm. */
function ri(fx: Fn, ty: ValTy, mn: string, a: Entry, imm: bigint | number): void {
  const ra = fx.reg(a, SCRATCH1);
  fx.release(a);
  const rd = fx.resultReg();
  fx.em.insn(`${mn} ${rd}, ${ra}, ${imm}`);
  fx.pushReg(ty, rd);
}

/** A unary sequence: each step is an instruction template with {d} (result) and {s} (the operand). */
function seq(fx: Fn, ty: ValTy, a: Entry, steps: string[]): void {
  const ra = fx.reg(a, SCRATCH1);
  fx.release(a);
  const rd = fx.resultReg();
  steps.forEach((t, i) => fx.em.insn(t.replace('{d}', rd).replace('{s}', i === 0 ? ra : rd)));
  fx.pushReg(ty, rd);
}

function binary(fx: Fn, ty: ValTy, name: string): void {
  let b = fx.pop();
  let a = fx.pop();
  if (a.k === 'const' && b.k === 'const') {
    const v = foldBinary(ty, name, a.v, b.v);
    if (v !== undefined) { fx.push(konst(ty, v)); return; }
  }
  const w = ty === 'i32' ? 'w' : '';
  const bits = ty === 'i32' ? 32n : 64n;
  switch (name) {
    case 'add': case 'and': case 'or': case 'xor': case 'mul':
      if (a.k === 'const') [a, b] = [b, a];
      break;
  }
  const c = b.k === 'const' ? b.v : undefined;
  switch (name) {
    case 'add':
      if (c === 0n) { fx.push(a); return; }
      if (c !== undefined && fitsImm12(c)) return ri(fx, ty, `addi${w}`, a, c);
      return rr(fx, ty, `add${w}`, a, b);
    case 'sub':
      if (c === 0n) { fx.push(a); return; }
      if (c !== undefined && fitsImm12(-c)) return ri(fx, ty, `addi${w}`, a, -c);
      if (a.k === 'const' && a.v === 0n) {
        const rb = fx.reg(b, SCRATCH2);
        fx.release(b);
        const rd = fx.resultReg();
        fx.em.insn(`neg${w} ${rd}, ${rb}`);
        fx.pushReg(ty, rd);
        return;
      }
      return rr(fx, ty, `sub${w}`, a, b);
    case 'and': case 'or': case 'xor':
      if (c !== undefined && fitsImm12(c)) {
        if (name !== 'and' && c === 0n) { fx.push(a); return; }
        return ri(fx, ty, `${name}i`, a, c);
      }
      return rr(fx, ty, name, a, b);
    case 'mul':
      if (c === 0n) { fx.release(a); fx.push(konst(ty, 0n)); return; }
      if (c === 1n) { fx.push(a); return; }
      if (c !== undefined && isPow2(BigInt.asUintN(Number(bits), c))) return ri(fx, ty, `slli${w}`, a, log2(BigInt.asUintN(Number(bits), c)));
      return rr(fx, ty, `mul${w}`, a, b);
    case 'shl': case 'shr_s': case 'shr_u': {
      const mn = name === 'shl' ? 'sll' : name === 'shr_s' ? 'sra' : 'srl';
      if (c !== undefined) {
        const k = Number(BigInt.asUintN(64, c) % bits);
        if (k === 0) { fx.push(a); return; }
        return ri(fx, ty, `${mn}i${w}`, a, k);
      }
      return rr(fx, ty, `${mn}${w}`, a, b);
    }
    case 'rotl': case 'rotr': return rotate(fx, ty, name, a, b);
    default: return divide(fx, ty, name, a, b);
  }
}

function rotate(fx: Fn, ty: ValTy, name: string, a: Entry, b: Entry): void {
  const w = ty === 'i32' ? 'w' : '';
  const bits = ty === 'i32' ? 32 : 64;
  if (b.k === 'const') {
    let k = Number(BigInt.asUintN(64, b.v) % BigInt(bits));
    if (name === 'rotr') k = (bits - k) % bits;
    if (k === 0) { fx.push(a); return; }
    const ra = fx.reg(a, SCRATCH1);
    const s = fx.scratch([ra]);
    fx.em.insn(`srli${w} ${s}, ${ra}, ${bits - k}`);
    fx.release(a);
    const rd = fx.resultReg([s]);
    fx.em.insn(`slli${w} ${rd}, ${ra}, ${k}`);
    fx.em.insn(`or ${rd}, ${rd}, ${s}`);
    if (s !== SCRATCH1 && s !== SCRATCH2) fx.freeReg(s);
    fx.pushReg(ty, rd);
    return;
  }
  const ra = fx.reg(a, SCRATCH1);
  const rb = fx.reg(b, SCRATCH2);
  const [first, second] = name === 'rotl' ? ['sll', 'srl'] : ['srl', 'sll'];
  const s = fx.scratch([ra, rb]);
  fx.em.insn(`neg${w} ${s}, ${rb}`);
  fx.em.insn(`${second}${w} ${s}, ${ra}, ${s}`);
  fx.release(a);
  fx.release(b);
  const rd = fx.resultReg([s]);
  fx.em.insn(`${first}${w} ${rd}, ${ra}, ${rb}`);
  fx.em.insn(`or ${rd}, ${rd}, ${s}`);
  if (s !== SCRATCH1 && s !== SCRATCH2) fx.freeReg(s);
  fx.pushReg(ty, rd);
}

/** div/rem: wasm traps on a zero divisor, and div_s on INT_MIN / -1 (rem_s gives 0 there, as RISC-V does). */
function divide(fx: Fn, ty: ValTy, name: string, a: Entry, b: Entry): void {
  const w = ty === 'i32' ? 'w' : '';
  const mn = `${({ div_s: 'div', div_u: 'divu', rem_s: 'rem', rem_u: 'remu' } as Record<string, string>)[name]!}${w}`;
  const intMin = ty === 'i32' ? -(1n << 31n) : -(1n << 63n);
  if (b.k === 'const') {
    const c = b.v;
    if (c === 0n) {
      fx.em.j(fx.trapStub('integer divide by zero'));
      fx.release(a);
      fx.push(konst(ty, 0n));
      return;
    }
    const uc = BigInt.asUintN(ty === 'i32' ? 32 : 64, c);
    if (name === 'div_u' && isPow2(uc)) return ri(fx, ty, `srli${w}`, a, log2(uc));
    if (name === 'rem_u' && isPow2(uc) && uc <= 2048n) return ri(fx, ty, 'andi', a, uc - 1n);
    if (name === 'div_s' && c === -1n) {
      const ra = fx.reg(a, SCRATCH1);
      fx.em.li(SCRATCH2, intMin);
      fx.em.branch('eq', ra, SCRATCH2, fx.trapStub('integer overflow'));
      fx.release(a);
      const rd = fx.resultReg();
      fx.em.insn(`neg${w} ${rd}, ${ra}`);
      fx.pushReg(ty, rd);
      return;
    }
    return rr(fx, ty, mn, a, b);
  }
  const ra = fx.reg(a, SCRATCH1);
  const rb = fx.reg(b, SCRATCH2);
  fx.em.branch('eq', rb, 'zero', fx.trapStub('integer divide by zero'));
  if (name === 'div_s') {
    const notMinus1 = fx.em.newLabel('div');
    const s = fx.scratch([ra, rb]);
    fx.em.insn(`addi ${s}, ${rb}, 1`);
    fx.em.branch('ne', s, 'zero', notMinus1);
    fx.em.li(s, intMin);
    fx.em.branch('eq', ra, s, fx.trapStub('integer overflow'));
    fx.em.label(notMinus1);
    if (s !== SCRATCH1 && s !== SCRATCH2) fx.freeReg(s);
  }
  fx.release(a);
  fx.release(b);
  const rd = fx.resultReg();
  fx.em.insn(`${mn} ${rd}, ${ra}, ${rb}`);
  fx.pushReg(ty, rd);
}

/** clz/ctz/popcnt through the runtime helpers (argument and result in t5, link in t6). */
function bitCount(fx: Fn, ty: ValTy, name: string): void {
  const a = fx.pop();
  if (a.k === 'const') { fx.push(konst(ty, foldUnary(ty, name, a.v)!)); return; }
  const helper = `__rt_${name}${ty === 'i32' ? 32 : 64}`;
  fx.ctx.use(helper);
  fx.em.mv(SCRATCH1, fx.reg(a, SCRATCH1));
  fx.em.insn(`jal ${SCRATCH2}, ${helper}`);
  fx.release(a);
  const rd = fx.resultReg();
  fx.em.mv(rd, SCRATCH1);
  fx.pushReg(ty, rd);
}

function unary(fx: Fn, ty: ValTy, name: string, steps: string[]): void {
  const a = fx.pop();
  if (a.k === 'const') { fx.push(konst(ty, foldUnary(ty, name, a.v)!)); return; }
  seq(fx, ty, a, steps);
}

export function numericOp(fx: Fn, ins: Instr): boolean {
  const op = ins.op;
  const dot = op.indexOf('.');
  const t = op.slice(0, dot);
  if (t !== 'i32' && t !== 'i64') return false;
  const ty: ValTy = t;
  const name = op.slice(dot + 1);
  if (name === 'const') {
    const hoisted = fx.constHome.get(fx.pc);
    fx.push(hoisted !== undefined ? { k: 'local', ty, idx: hoisted } : konst(ty, ins.value!));
    return true;
  }
  if (BINARY.has(name)) {
    binary(fx, ty, name);
    return true;
  }
  const cmp = COMPARE[name];
  if (cmp !== undefined) {
    const b = fx.pop();
    const a = fx.pop();
    const [cc, swap] = cmp;
    const e = fx.cond('i32', cc, swap ? b : a, swap ? a : b);
    const known = ValueStack.constCond(e);
    fx.push(known === undefined ? e : konst('i32', known ? 1n : 0n));
    return true;
  }
  switch (name) {
    case 'eqz': {
      const a = fx.pop();
      if (a.k === 'const') fx.push(konst('i32', a.v === 0n ? 1n : 0n));
      else fx.push(fx.negate(a));
      return true;
    }
    case 'clz': case 'ctz': case 'popcnt':
      bitCount(fx, ty, name);
      return true;
    case 'extend8_s': unary(fx, ty, name, ['slli {d}, {s}, 56', 'srai {d}, {s}, 56']); return true;
    case 'extend16_s': unary(fx, ty, name, ['slli {d}, {s}, 48', 'srai {d}, {s}, 48']); return true;
    case 'extend32_s': unary(fx, ty, name, ['addiw {d}, {s}, 0']); return true;
    case 'wrap_i64': {
      const a = fx.pop();
      if (a.k === 'const') fx.push(konst('i32', a.v));
      else seq(fx, 'i32', a, ['addiw {d}, {s}, 0']);
      return true;
    }
    case 'extend_i32_s': {
      const a = fx.pop();
      fx.push({ ...a, ty: 'i64' } as Entry);
      return true;
    }
    case 'extend_i32_u': {
      const a = fx.pop();
      if (a.k === 'const') fx.push(konst('i64', BigInt.asUintN(32, a.v)));
      else seq(fx, 'i64', a, ['slli {d}, {s}, 32', 'srli {d}, {s}, 32']);
      return true;
    }
    default:
      return false;
  }
}

