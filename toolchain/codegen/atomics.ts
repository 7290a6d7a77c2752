/**
 * Threads-proposal atomics on RVWMO, with the mapping of the unprivileged
 * spec's Table A.6 for sequentially consistent operations (every wasm
 * atomic is seq_cst):
 *
 *   load       fence rw,rw ; l{b|h|w|d} ; fence r,rw
 *   store      fence rw,w ; s{b|h|w|d}
 *   rmw 32/64  amo<op>.{w|d}.aqrl        (sub = add of the negation, xchg = amoswap)
 *   cmpxchg    lr.{w|d}.aqrl / sc.{w|d}.rl loop
 *   rmw 8/16   lr.w/sc.w loop on the aligned word, with a mask
 *   fence      fence rw,rw
 *
 * Wasm traps on a misaligned atomic access (the threads proposal): each
 * access wider than a byte checks the low address bits first and calls
 * __wasm_trap("unaligned atomic access in <function>").
 *
 * memory.atomic.wait32/64 are refused (there is no scheduler to block on);
 * memory.atomic.notify returns 0 (no agent can be waiting, since nothing
 * can wait).
 */
import type { Instr } from '../wasm/module.js';
import type { Fn } from './function.js';
import { address, addressReg, valueReg } from './memory.js';
import { SCRATCH1, SCRATCH2, type Reg } from './regs.js';
import type { Entry, ValTy } from './values.js';

const LOADS: Readonly<Record<string, [string, ValTy]>> = {
  'i32.atomic.load': ['lw', 'i32'], 'i64.atomic.load': ['ld', 'i64'],
  'i32.atomic.load8_u': ['lbu', 'i32'], 'i32.atomic.load16_u': ['lhu', 'i32'],
  'i64.atomic.load8_u': ['lbu', 'i64'], 'i64.atomic.load16_u': ['lhu', 'i64'], 'i64.atomic.load32_u': ['lwu', 'i64'],
};

const STORES: Readonly<Record<string, string>> = {
  'i32.atomic.store': 'sw', 'i64.atomic.store': 'sd', 'i32.atomic.store8': 'sb', 'i32.atomic.store16': 'sh',
  'i64.atomic.store8': 'sb', 'i64.atomic.store16': 'sh', 'i64.atomic.store32': 'sw',
};

const RMW = /^(i32|i64)\.atomic\.rmw(8|16|32)?\.(add|sub|and|or|xor|xchg|cmpxchg)(_u)?$/;
const AMO: Readonly<Record<string, string>> = { add: 'amoadd', sub: 'amoadd', and: 'amoand', or: 'amoor', xor: 'amoxor', xchg: 'amoswap' };

/** Registers an entry reads (for avoid lists). */
function regsOf(fx: Fn, e: Entry): Reg[] {
  if (e.k === 'reg') return [e.r];
  if (e.k === 'local') {
    const h = fx.homes[e.idx]!;
    return h.k === 'reg' ? [h.r] : [];
  }
  return [];
}

/** Trap unless base + off is a multiple of `bytes` (uses t6). */
function checkAligned(fx: Fn, base: Reg, off: number, bytes: number): void {
  if (bytes === 1) return;
  if (off % bytes === 0) {
    fx.em.insn(`andi ${SCRATCH2}, ${base}, ${bytes - 1}`);
  } else {
    fx.em.insn(`addi ${SCRATCH2}, ${base}, ${off}`);
    fx.em.insn(`andi ${SCRATCH2}, ${SCRATCH2}, ${bytes - 1}`);
  }
  fx.em.branch('ne', SCRATCH2, 'zero', fx.trapStub('unaligned atomic access'));
}

/** Zero-extend the low `bits` of r in place. */
function zextIn(fx: Fn, r: Reg, bits: number): void {
  if (bits === 64) return;
  if (bits === 8) { fx.em.insn(`andi ${r}, ${r}, 255`); return; }
  fx.em.insn(`slli ${r}, ${r}, ${64 - bits}`);
  fx.em.insn(`srli ${r}, ${r}, ${64 - bits}`);
}

function amo(fx: Fn, ins: Instr, ty: ValTy, bits: number, op: string): void {
  const v = fx.pop();
  const a = fx.pop();
  const sfx = bits === 64 ? 'd' : 'w';
  let val = valueReg(fx, v);
  if (op === 'sub') {
    const r = val.temp ? val.r : fx.alloc();
    fx.em.insn(`neg ${r}, ${val.r}`);
    val = { r, temp: true };
  }
  const ra = addressReg(fx, a, ins.memOffset ?? 0);
  checkAligned(fx, ra, 0, bits / 8);
  fx.release(a);
  fx.release(v);
  if (val.temp) fx.freeReg(val.r);
  const rd = fx.resultReg([ra, val.r]);
  fx.em.insn(`${AMO[op]}.${sfx}.aqrl ${rd}, ${val.r}, (${ra})`);
  if (bits === 32 && ty === 'i64') zextIn(fx, rd, 32);
  fx.pushReg(ty, rd);
}

function cmpxchg(fx: Fn, ins: Instr, ty: ValTy, bits: number): void {
  const rep = fx.pop();
  const exp = fx.pop();
  const a = fx.pop();
  const sfx = bits === 64 ? 'd' : 'w';
  const temps: Reg[] = [];
  const avoid = [...regsOf(fx, rep), ...regsOf(fx, exp), ...regsOf(fx, a)];
  const rRep = valueReg(fx, rep);
  if (rRep.temp) temps.push(rRep.r);
  let rExp: Reg;
  if (bits === 32 && ty === 'i64') {
    // The expected value is wrapped to the access width; lr.w sign-extends.
    rExp = fx.alloc([...avoid, ...temps]);
    fx.em.insn(`addiw ${rExp}, ${fx.reg(exp, rExp)}, 0`);
    temps.push(rExp);
  } else {
    const e = valueReg(fx, exp);
    if (e.temp) temps.push(e.r);
    rExp = e.r;
  }
  const ra = addressReg(fx, a, ins.memOffset ?? 0);
  checkAligned(fx, ra, 0, bits / 8);
  fx.release(a);
  fx.release(exp);
  fx.release(rep);
  const rd = fx.resultReg([ra, rExp, rRep.r, ...temps, ...avoid, SCRATCH2]);
  const loop = fx.em.newLabel('cas');
  const done = fx.em.newLabel('casd');
  fx.em.label(loop);
  fx.em.insn(`lr.${sfx}.aqrl ${rd}, (${ra})`);
  fx.em.branch('ne', rd, rExp, done);
  fx.em.insn(`sc.${sfx}.rl ${SCRATCH2}, ${rRep.r}, (${ra})`);
  fx.em.branch('ne', SCRATCH2, 'zero', loop);
  fx.em.label(done);
  if (bits === 32 && ty === 'i64') zextIn(fx, rd, 32);
  for (const t of temps) fx.freeReg(t);
  fx.pushReg(ty, rd);
}

/** 8- and 16-bit rmw and cmpxchg: LR/SC on the aligned word containing the value. */
function masked(fx: Fn, ins: Instr, ty: ValTy, bits: number, op: string): void {
  const isCas = op === 'cmpxchg';
  const v = fx.pop();
  const exp = isCas ? fx.pop() : undefined;
  const a = fx.pop();
  const avoid = [...regsOf(fx, v), ...(exp ? regsOf(fx, exp) : []), ...regsOf(fx, a)];
  const temps: Reg[] = [];
  const temp = (): Reg => {
    const r = fx.alloc([...avoid, ...temps]);
    temps.push(r);
    return r;
  };
  // t5 = the aligned word's address, sh = the value's bit position in it, mask = its bits.
  // Each operand is released as soon as it has been copied, to need as few registers as possible.
  const addr = address(fx, a, ins.memOffset ?? 0);
  checkAligned(fx, addr.base, addr.off, bits / 8);
  const sh = temp();
  fx.em.insn(`addi ${sh}, ${addr.base}, ${addr.off}`);
  fx.release(a);
  fx.em.insn(`andi ${SCRATCH1}, ${sh}, -4`);
  fx.em.insn(`andi ${sh}, ${sh}, 3`);
  fx.em.insn(`slli ${sh}, ${sh}, 3`);
  const val = temp();
  fx.moveTo(v, val);
  fx.release(v);
  zextIn(fx, val, bits);
  fx.em.insn(`sll ${val}, ${val}, ${sh}`);
  let ex: Reg | undefined;
  if (exp) {
    ex = temp();
    fx.moveTo(exp, ex);
    fx.release(exp);
    zextIn(fx, ex, bits);
    fx.em.insn(`sll ${ex}, ${ex}, ${sh}`);
  }
  const mask = temp();
  fx.em.li(mask, bits === 8 ? 0xffn : 0xffffn);
  fx.em.insn(`sll ${mask}, ${mask}, ${sh}`);
  if (op === 'and') {
    // old & (val | ~mask) leaves the other bytes alone.
    fx.em.insn(`not ${SCRATCH2}, ${mask}`);
    fx.em.insn(`or ${val}, ${val}, ${SCRATCH2}`);
  }
  const old = fx.resultReg([...avoid, ...temps, SCRATCH1, SCRATCH2]);
  const loop = fx.em.newLabel('amo');
  const done = fx.em.newLabel('amod');
  const n = SCRATCH2;
  fx.em.label(loop);
  fx.em.insn(`lr.w.aqrl ${old}, (${SCRATCH1})`);
  switch (op) {
    case 'cmpxchg':
      fx.em.insn(`and ${n}, ${old}, ${mask}`);
      fx.em.branch('ne', n, ex!, done);
      fx.em.insn(`xor ${n}, ${old}, ${n}`);
      fx.em.insn(`or ${n}, ${n}, ${val}`);
      break;
    case 'and': fx.em.insn(`and ${n}, ${old}, ${val}`); break;
    case 'or': fx.em.insn(`or ${n}, ${old}, ${val}`); break;
    case 'xor': fx.em.insn(`xor ${n}, ${old}, ${val}`); break;
    default: // add, sub, xchg: new = old ^ ((old ^ value) & mask)
      if (op === 'add') fx.em.insn(`add ${n}, ${old}, ${val}`);
      else if (op === 'sub') fx.em.insn(`sub ${n}, ${old}, ${val}`);
      else fx.em.mv(n, val);
      fx.em.insn(`xor ${n}, ${n}, ${old}`);
      fx.em.insn(`and ${n}, ${n}, ${mask}`);
      fx.em.insn(`xor ${n}, ${n}, ${old}`);
  }
  fx.em.insn(`sc.w.rl ${n}, ${n}, (${SCRATCH1})`);
  fx.em.branch('ne', n, 'zero', loop);
  fx.em.label(done);
  fx.em.insn(`and ${old}, ${old}, ${mask}`);
  fx.em.insn(`srl ${old}, ${old}, ${sh}`);
  for (const t of temps) fx.freeReg(t);
  fx.pushReg(ty, old);
}

export function atomicOp(fx: Fn, ins: Instr): boolean {
  const op = ins.op;
  const ld = LOADS[op];
  if (ld !== undefined) {
    const a = fx.pop();
    const { base, off } = address(fx, a, ins.memOffset ?? 0);
    checkAligned(fx, base, off, { lw: 4, ld: 8, lbu: 1, lhu: 2, lwu: 4 }[ld[0]]!);
    fx.release(a);
    const rd = fx.resultReg();
    fx.em.insn('fence rw, rw');
    fx.em.insn(`${ld[0]} ${rd}, ${off}(${base})`);
    fx.em.insn('fence r, rw');
    fx.pushReg(ld[1], rd);
    return true;
  }
  const st = STORES[op];
  if (st !== undefined) {
    const v = fx.pop();
    const a = fx.pop();
    const val = valueReg(fx, v);
    const { base, off } = address(fx, a, ins.memOffset ?? 0);
    checkAligned(fx, base, off, { sw: 4, sd: 8, sb: 1, sh: 2 }[st]!);
    fx.em.insn('fence rw, w');
    fx.em.insn(`${st} ${val.r}, ${off}(${base})`);
    if (val.temp) fx.freeReg(val.r);
    fx.release(v);
    fx.release(a);
    return true;
  }
  const m = RMW.exec(op);
  if (m) {
    const ty = m[1] as ValTy;
    const bits = m[2] ? Number(m[2]) : ty === 'i32' ? 32 : 64;
    const what = m[3]!;
    if (bits < 32) masked(fx, ins, ty, bits, what);
    else if (what === 'cmpxchg') cmpxchg(fx, ins, ty, bits);
    else amo(fx, ins, ty, bits, what);
    return true;
  }
  switch (op) {
    case 'atomic.fence':
      fx.em.insn('fence rw, rw');
      return true;
    case 'memory.atomic.notify': {
      fx.release(fx.pop());
      fx.release(fx.pop());
      fx.push({ k: 'const', ty: 'i32', v: 0n });
      return true;
    }
    case 'memory.atomic.wait32': case 'memory.atomic.wait64':
      fx.unsupported(ins, 'is not supported (nothing can block in the translated code)');
    // falls through: unsupported() throws
    default:
      return false;
  }
}
