/**
 * Memory instructions: loads and stores of every width and signedness, the
 * address modes, memory.size/grow, and bulk memory (memory.copy/fill/init,
 * data.drop) through the runtime routines of runtime.ts.
 *
 * Address modes (DESIGN §4): the wasm address a (u32) plus the static offset
 * becomes sext32(a) + offset ('sext', the kernel: an i32 register already
 * holds sext32(a), so `lw rd, off(rs)` is the whole access) or
 * zext32(a) + offset ('zext', M-mode firmware: two shifts first).
 */
import { lo12 } from '../asm-expr.js';
import type { Instr } from '../wasm/module.js';
import { emitCall } from './calls.js';
import type { Fn } from './function.js';
import { SCRATCH1, SCRATCH2, type Reg } from './regs.js';
import { fitsImm12, type Entry, type ValTy } from './values.js';

const LOADS: Readonly<Record<string, [string, ValTy]>> = {
  'i32.load': ['lw', 'i32'], 'i32.load8_s': ['lb', 'i32'], 'i32.load8_u': ['lbu', 'i32'],
  'i32.load16_s': ['lh', 'i32'], 'i32.load16_u': ['lhu', 'i32'],
  'i64.load': ['ld', 'i64'], 'i64.load8_s': ['lb', 'i64'], 'i64.load8_u': ['lbu', 'i64'],
  'i64.load16_s': ['lh', 'i64'], 'i64.load16_u': ['lhu', 'i64'], 'i64.load32_s': ['lw', 'i64'], 'i64.load32_u': ['lwu', 'i64'],
};

const STORES: Readonly<Record<string, string>> = {
  'i32.store': 'sw', 'i32.store8': 'sb', 'i32.store16': 'sh',
  'i64.store': 'sd', 'i64.store8': 'sb', 'i64.store16': 'sh', 'i64.store32': 'sw',
};

/** A machine address as base register + signed 12-bit offset. */
export interface Addr {
  base: Reg;
  off: number;
}

/** Base + 12-bit offset for a constant machine address (t5 holds the upper part). */
function constAddr(fx: Fn, full: bigint): Addr {
  if (fitsImm12(full)) return { base: 'zero', off: Number(full) };
  const lo = lo12(full);
  fx.em.li(SCRATCH1, full - lo);
  return { base: SCRATCH1, off: Number(lo) };
}

/**
 * The machine address of wasm address `e` + static `offset`, in the
 * function's address mode. May use t5 and t6; the entry is not released.
 */
export function address(fx: Fn, e: Entry, offset: number): Addr {
  const zext = fx.ctx.opts.addressMode === 'zext';
  const off = BigInt(offset >>> 0);
  if (e.k === 'const') return constAddr(fx, (zext ? BigInt.asUintN(32, e.v) : BigInt.asIntN(32, e.v)) + off);
  let r = fx.reg(e, SCRATCH1);
  if (zext) {
    if (fx.zextMaskReg !== undefined) {
      fx.em.insn(`and ${SCRATCH1}, ${r}, ${fx.zextMaskReg}`);
    } else {
      fx.em.insn(`slli ${SCRATCH1}, ${r}, 32`);
      fx.em.insn(`srli ${SCRATCH1}, ${SCRATCH1}, 32`);
    }
    r = SCRATCH1;
  }
  if (off < 2048n) return { base: r, off: Number(off) };
  const lo = lo12(off);
  fx.em.li(SCRATCH2, off - lo);
  fx.em.insn(`add ${SCRATCH1}, ${r}, ${SCRATCH2}`);
  return { base: SCRATCH1, off: Number(lo) };
}

/** The machine address in a single register (for AMOs and LR/SC, which have no offset): t5 or the entry's own. */
export function addressReg(fx: Fn, e: Entry, offset: number): Reg {
  const a = address(fx, e, offset);
  if (a.off === 0) return a.base;
  fx.em.insn(`addi ${SCRATCH1}, ${a.base}, ${a.off}`);
  return SCRATCH1;
}

/**
 * A register holding a value to store, without using the scratch registers
 * (the address needs them): constants other than 0 and memory operands get
 * a temporary. Returns the register and whether it is such a temporary.
 */
export function valueReg(fx: Fn, v: Entry): { r: Reg; temp: boolean } {
  if (v.k === 'const' && v.v === 0n) return { r: 'zero', temp: false };
  if (v.k === 'reg') return { r: v.r, temp: false };
  if (v.k === 'local') {
    const h = fx.homes[v.idx]!;
    if (h.k === 'reg') return { r: h.r, temp: false };
  }
  const r = fx.alloc();
  fx.moveTo(v, r);
  return { r, temp: true };
}

function load(fx: Fn, ins: Instr, mn: string, ty: ValTy): void {
  const a = fx.pop();
  const { base, off } = address(fx, a, ins.memOffset ?? 0);
  fx.release(a);
  const rd = fx.resultReg();
  fx.em.insn(`${mn} ${rd}, ${off}(${base})`);
  fx.pushReg(ty, rd);
}

function store(fx: Fn, ins: Instr, mn: string): void {
  const v = fx.pop();
  const a = fx.pop();
  const val = valueReg(fx, v);
  const { base, off } = address(fx, a, ins.memOffset ?? 0);
  fx.em.insn(`${mn} ${val.r}, ${off}(${base})`);
  if (val.temp) fx.freeReg(val.r);
  fx.release(v);
  fx.release(a);
}

/** Zero-extend a 32-bit count or address in place. */
function zext32(fx: Fn, r: Reg): void {
  fx.em.insn(`slli ${r}, ${r}, 32`);
  fx.em.insn(`srli ${r}, ${r}, 32`);
}

/** memory.copy / memory.fill / memory.init: a call to __rt_memmove or __rt_memset (a0, a1, a2). */
function bulk(fx: Fn, ins: Instr): void {
  const n = fx.pop();
  const src = fx.pop();
  const dst = fx.pop();
  const zext = fx.ctx.opts.addressMode === 'zext';
  const routine = ins.op === 'memory.fill' ? '__rt_memset' : '__rt_memmove';
  fx.ctx.use(routine);
  emitCall(fx, [dst, src, n], () => {
    if (zext) zext32(fx, 'a0');
    if (ins.op === 'memory.copy' && zext) zext32(fx, 'a1');
    if (ins.op === 'memory.init') {
      const seg = fx.ctx.passiveData(ins.index!);
      zext32(fx, 'a1');
      fx.em.insn(`la ${SCRATCH1}, ${seg.label}`);
      fx.em.insn(`add a1, a1, ${SCRATCH1}`);
    }
    zext32(fx, 'a2');
    fx.em.insn(`call ${routine}`);
  }, []);
}

export function memoryOp(fx: Fn, ins: Instr): boolean {
  const ld = LOADS[ins.op];
  if (ld !== undefined) { load(fx, ins, ld[0], ld[1]); return true; }
  const st = STORES[ins.op];
  if (st !== undefined) { store(fx, ins, st); return true; }
  switch (ins.op) {
    case 'memory.size':
      fx.push({ k: 'const', ty: 'i32', v: BigInt(fx.ctx.memoryPages()) });
      return true;
    case 'memory.grow':
      fx.unsupported(ins, 'is not supported (the machine\'s memory has a fixed size)');
    // falls through: unsupported() throws
    case 'memory.copy': case 'memory.fill': case 'memory.init':
      bulk(fx, ins);
      return true;
    case 'data.drop':
      return true;
    default:
      return false;
  }
}
