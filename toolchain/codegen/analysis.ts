/**
 * One pass over a function body before code generation: block structure
 * (matching else/end), which blocks contain calls, how hot each local is
 * (uses weighted by loop depth, for register assignment), which declared
 * locals need their zero initialisation, and what the function needs from
 * its frame (calls, outgoing stack arguments, helpers).
 */
import type { Func, FuncType, Instr } from '../wasm/module.js';
import { OPS_BY_NAME } from '../wasm/opcodes.js';
import { liSize } from './emitter.js';

export interface BodyInfo {
  /** block/loop/if index → index of its `end`. */
  endOf: Map<number, number>;
  /** if index → index of its `else`. */
  elseOf: Map<number, number>;
  /** Indices of block/loop/if whose body contains a call (anything that clobbers caller-saved registers). */
  blocksWithCalls: Set<number>;
  /** Per local (params first): uses weighted by 8^loop depth; 0 = never used. */
  weight: number[];
  /** Per local: a declared local that may be read before it is written (needs `= 0` on entry). */
  needsInit: boolean[];
  /** Any call-like instruction at all: locals then live in callee-saved registers. */
  hasCalls: boolean;
  /** clz/ctz/popcnt: the bit-count helpers (t3/t4 clobbered). */
  usesBitHelpers: boolean;
  /** Largest number of stack-passed arguments of any call (beyond a0-a7). */
  maxStackArgs: number;
  /**
   * For an instruction that pushes one value: the instruction that pops it
   * and the operand position (0 = deepest operand), when both are known.
   * Block results count as produced by their `end`.
   */
  consumer: Map<number, { pc: number; arg: number }>;
  /**
   * Constants worth a register of their own (hoisted out of loops): each
   * value with its weight (uses inside loops, by depth) and the indices of
   * the const instructions that would read it from the register.
   */
  constants: { value: bigint; weight: number; pcs: number[] }[];
}

export interface CallInfo {
  /** Does this instruction clobber caller-saved registers (a call, a runtime routine, ecall)? */
  isCallLike(ins: Instr): boolean;
  /** Number of arguments, for calls and call_indirect. */
  argCount(ins: Instr): number;
  /** The type of a call or call_indirect. */
  callType(ins: Instr): FuncType;
  /** The address mode is 'sext' (a constant address then costs a lui that a register saves). */
  sext: boolean;
}

const BIT_OPS = new Set(['i32.clz', 'i32.ctz', 'i32.popcnt', 'i64.clz', 'i64.ctz', 'i64.popcnt']);

export function analyze(f: Func, calls: CallInfo): BodyInfo {
  const nLocals = f.type.params.length + f.locals.length;
  const info: BodyInfo = {
    endOf: new Map(), elseOf: new Map(), blocksWithCalls: new Set(),
    weight: new Array<number>(nLocals).fill(0), needsInit: new Array<boolean>(nLocals).fill(false),
    hasCalls: false, usesBitHelpers: false, maxStackArgs: 0, consumer: consumers(f, calls), constants: [],
  };
  const loopDepthAt: number[] = [];
  const open: number[] = [];
  let loopDepth = 0;
  const loopStack: boolean[] = [];
  const seen = new Array<boolean>(nLocals).fill(false);
  for (let i = 0; i < f.body.length; i++) {
    const ins = f.body[i]!;
    loopDepthAt[i] = loopDepth;
    switch (ins.op) {
      case 'block': case 'loop': case 'if':
        open.push(i);
        loopStack.push(ins.op === 'loop');
        if (ins.op === 'loop') loopDepth++;
        break;
      case 'else':
        info.elseOf.set(open[open.length - 1]!, i);
        break;
      case 'end':
        if (open.length > 0) {
          info.endOf.set(open.pop()!, i);
          if (loopStack.pop()) loopDepth--;
        }
        break;
      case 'local.get': case 'local.set': case 'local.tee': {
        const l = ins.index!;
        info.weight[l]! += 1 << (3 * Math.min(loopDepth, 4));
        if (!seen[l]) {
          seen[l] = true;
          // Written first, unconditionally (outside any block): no zero initialisation needed.
          const writtenFirst = ins.op !== 'local.get' && open.length === 0;
          info.needsInit[l] = l >= f.type.params.length && !writtenFirst;
        }
        break;
      }
      default:
        if (BIT_OPS.has(ins.op)) info.usesBitHelpers = true;
        if (calls.isCallLike(ins)) {
          info.hasCalls = true;
          for (const b of open) info.blocksWithCalls.add(b);
          if (ins.op === 'call' || ins.op === 'call_indirect') {
            info.maxStackArgs = Math.max(info.maxStackArgs, calls.argCount(ins) - 8);
          }
        }
    }
  }
  info.constants = hoistable(f, info, loopDepthAt, calls.sext);
  return info;
}

const fits12 = (v: bigint): boolean => v >= -2048n && v <= 2047n;
const isPow2 = (v: bigint): boolean => v > 0n && (v & (v - 1n)) === 0n;
const COMPARES = new Set(['eq', 'ne', 'lt_s', 'lt_u', 'gt_s', 'gt_u', 'le_s', 'le_u', 'ge_s', 'ge_u']);

/**
 * Would this constant, where its consumer uses it, need an instruction of
 * its own (li, lui) that a register holding it saves? Immediates (addi,
 * andi, shifts, offsets) and x0 need none.
 */
function needsRegister(f: Func, info: BodyInfo, pc: number, v: bigint, sext: boolean): boolean {
  const use = info.consumer.get(pc);
  if (use === undefined) return false;
  const op = f.body[use.pc]!.op;
  const arg = use.arg;
  const dot = op.indexOf('.');
  const ty = op.slice(0, dot);
  const name = op.slice(dot + 1);
  if (ty === 'i32' || ty === 'i64') {
    switch (name) {
      case 'add': case 'and': case 'or': case 'xor': return !fits12(v);
      case 'sub': return arg === 1 ? !fits12(-v) : v !== 0n;
      case 'mul': { const u = BigInt.asUintN(64, v); return !(v === 0n || isPow2(u) || isPow2(BigInt.asUintN(32, v))); }
      case 'div_s': case 'div_u': case 'rem_s': case 'rem_u': return arg === 1 ? !(v === 0n || v === -1n || isPow2(v)) : v !== 0n;
      case 'shl': case 'shr_s': case 'shr_u': case 'rotl': case 'rotr': return arg === 0 && v !== 0n;
      default:
        if (COMPARES.has(name)) return v !== 0n;
        if (name.includes('load')) return sext && !fits12(v);
        if (name.includes('store')) return arg === 0 ? sext && !fits12(v) : v !== 0n;
        if (name.startsWith('atomic.rmw')) return arg > 0 && v !== 0n;
        return liSize(v) > 4;
    }
  }
  return liSize(v) > 4;
}

function hoistable(f: Func, info: BodyInfo, loopDepthAt: number[], sext: boolean): BodyInfo['constants'] {
  const byValue = new Map<bigint, { value: bigint; weight: number; pcs: number[] }>();
  f.body.forEach((ins, pc) => {
    if ((ins.op !== 'i32.const' && ins.op !== 'i64.const') || loopDepthAt[pc]! === 0) return;
    const v = ins.op === 'i32.const' ? BigInt.asIntN(32, ins.value!) : BigInt.asIntN(64, ins.value!);
    if (!needsRegister(f, info, pc, v, sext)) return;
    let c = byValue.get(v);
    if (c === undefined) { c = { value: v, weight: 0, pcs: [] }; byValue.set(v, c); }
    c.weight += 1 << (3 * Math.min(loopDepthAt[pc]!, 4));
    c.pcs.push(pc);
  });
  return [...byValue.values()];
}

/**
 * Who consumes each value: a simulation of the wasm stack holding the index
 * of the instruction that produced each value (-1 when unknown). The code
 * generator uses it to compute a value straight into the register its
 * consumer wants (a call argument, a0 for a return, a local's home).
 */
function consumers(f: Func, calls: CallInfo): Map<number, { pc: number; arg: number }> {
  const out = new Map<number, { pc: number; arg: number }>();
  let stack: number[] = [];
  const frames: { height: number; results: number }[] = [{ height: 0, results: f.type.results.length }];
  let dead = false;
  const pop = (pc: number, n: number): void => {
    const ops = stack.splice(Math.max(0, stack.length - n));
    ops.forEach((p, arg) => { if (p >= 0) out.set(p, { pc, arg: arg + (n - ops.length) }); });
  };
  const push = (pc: number, n: number): void => { for (let i = 0; i < n; i++) stack.push(n === 1 ? pc : -1); };
  for (let pc = 0; pc < f.body.length; pc++) {
    const ins = f.body[pc]!;
    const op = ins.op;
    if (dead && op !== 'else' && op !== 'end' && op !== 'block' && op !== 'loop' && op !== 'if') continue;
    switch (op) {
      case 'block': case 'loop': case 'if':
        if (op === 'if' && !dead) pop(pc, 1);
        frames.push({ height: dead ? -1 : stack.length, results: ins.blockType?.results.length ?? 0 });
        continue;
      case 'else': {
        const fr = frames[frames.length - 1]!;
        if (fr.height < 0) continue;
        stack.length = fr.height;
        dead = false;
        continue;
      }
      case 'end': {
        const fr = frames.pop()!;
        if (fr.height < 0) continue;
        if (!dead) pop(pc, fr.results);
        stack.length = fr.height;
        push(pc, fr.results);
        dead = false;
        continue;
      }
      case 'unreachable': case 'br': case 'br_table': case 'return':
        if (op === 'br_table') pop(pc, 1);
        if (op === 'return') pop(pc, f.type.results.length);
        if (op === 'br') {
          const fr = frames[frames.length - 1 - ins.index!];
          if (fr !== undefined && frames.length - 1 - ins.index! === 0) pop(pc, fr.results);
        }
        dead = true;
        continue;
      case 'br_if': pop(pc, 1); stack = stack.map(() => -1); continue;
      case 'call': case 'call_indirect': {
        const t = calls.callType(ins);
        pop(pc, t.params.length + (op === 'call_indirect' ? 1 : 0));
        push(pc, t.results.length);
        continue;
      }
      case 'drop': pop(pc, 1); continue;
      case 'select': pop(pc, 3); push(pc, 1); continue;
      case 'local.get': case 'global.get': push(pc, 1); continue;
      case 'local.set': case 'global.set': pop(pc, 1); continue;
      case 'local.tee': pop(pc, 1); push(pc, 1); continue;
      default: {
        const sig = OPS_BY_NAME.get(op)?.sig;
        if (sig === undefined) { stack = stack.map(() => -1); continue; }
        pop(pc, sig.params.length);
        push(pc, sig.results.length);
      }
    }
  }
  return out;
}
