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
  /**
   * Per local, then per hoisted constant: no call-like instruction can run
   * while it holds a live value, so a caller-saved register can be its home
   * even in a function that calls. (Its accesses span an interval of the
   * body, widened to the outermost loop around each access; no call lies in
   * that interval.)
   */
  callFree: boolean[];
  /** Any call-like instruction at all: locals then live in callee-saved registers. */
  hasCalls: boolean;
  /** clz/ctz/popcnt: the bit-count helpers (t3/t4 clobbered). */
  usesBitHelpers: boolean;
  /** Atomics done with LR/SC loops, which need several temporaries at once. */
  usesAtomicLoops: boolean;
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
  /** 'zext' mode: the index in `constants` of 0xFFFF_FFFF, the mask that zero-extends addresses in loops (and rd, rs, mask). */
  zextMask?: number;
  /** The accesses that use it (for its live interval). */
  zextMaskUses: number[];
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
    hasCalls: false, usesBitHelpers: false, usesAtomicLoops: false, maxStackArgs: 0, consumer: consumers(f, calls), constants: [],
    callFree: [], zextMaskUses: [],
  };
  const outerLoopAt: number[] = [];
  const callPcs: number[] = [];
  const loopDepthAt: number[] = [];
  const open: number[] = [];
  let loopDepth = 0;
  const loopStack: boolean[] = [];
  for (let i = 0; i < f.body.length; i++) {
    const ins = f.body[i]!;
    loopDepthAt[i] = loopDepth;
    const outer = open.find((b) => f.body[b]!.op === 'loop');
    outerLoopAt[i] = outer ?? -1;
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
        break;
      }
      default:
        if (BIT_OPS.has(ins.op)) info.usesBitHelpers = true;
        if (/^i(32|64)\.atomic\.rmw(8|16)\.|cmpxchg/.test(ins.op)) info.usesAtomicLoops = true;
        if (calls.isCallLike(ins)) {
          info.hasCalls = true;
          callPcs.push(i);
          for (const b of open) info.blocksWithCalls.add(b);
          if (ins.op === 'call' || ins.op === 'call_indirect') {
            info.maxStackArgs = Math.max(info.maxStackArgs, calls.argCount(ins) - 8);
          }
        }
    }
  }
  info.constants = hoistable(f, info, loopDepthAt, calls.sext);
  info.needsInit = readBeforeWrite(f);
  // Live intervals against the calls (see callFree).
  const lo = new Array<number>(nLocals + info.constants.length).fill(Infinity);
  const hi = new Array<number>(nLocals + info.constants.length).fill(-1);
  const touch = (l: number, pc: number): void => {
    const loop = outerLoopAt[pc]!;
    lo[l] = Math.min(lo[l]!, loop >= 0 ? loop : pc);
    hi[l] = Math.max(hi[l]!, loop >= 0 ? info.endOf.get(loop)! : pc);
  };
  f.body.forEach((ins, pc) => {
    if (ins.op === 'local.get' || ins.op === 'local.set' || ins.op === 'local.tee') touch(ins.index!, pc);
  });
  info.constants.forEach((c, k) => { for (const pc of c.pcs) touch(nLocals + k, pc); });
  if (info.zextMask !== undefined) for (const pc of info.zextMaskUses) touch(nLocals + info.zextMask, pc);
  for (let l = 0; l < lo.length; l++) {
    if (l < f.type.params.length || info.needsInit[l] || l >= nLocals) lo[l] = 0; // live from the entry
    info.callFree[l] = !callPcs.some((pc) => pc >= lo[l]! && pc <= hi[l]!);
  }
  return info;
}

/**
 * Which declared locals may be read before anything was written to them
 * (they need their zero), by forward "definitely written" analysis over the
 * structured control flow: a join (a block's end) keeps what every way in
 * wrote; a loop's head is its entry state (a back edge only ever adds).
 */
function readBeforeWrite(f: Func): boolean[] {
  const nParams = f.type.params.length;
  const n = nParams + f.locals.length;
  type State = Uint8Array | null; // null: unreachable
  const meet = (a: State, b: State): State => {
    if (a === null) return b === null ? null : b.slice();
    if (b === null) return a;
    for (let i = 0; i < n; i++) a[i]! &= b[i]!;
    return a;
  };
  const needs = new Array<boolean>(n).fill(false);
  let cur: State = new Uint8Array(n).fill(0);
  for (let i = 0; i < nParams; i++) cur[i] = 1;
  const frames: { kind: string; entry: State; incoming: State[]; sawElse: boolean }[] = [{ kind: 'func', entry: null, incoming: [], sawElse: false }];
  const branch = (depth: number): void => {
    const fr = frames[frames.length - 1 - depth];
    if (fr !== undefined && fr.kind !== 'loop') fr.incoming.push(cur === null ? null : cur.slice());
  };
  for (const ins of f.body) {
    switch (ins.op) {
      case 'block': case 'loop': case 'if':
        frames.push({ kind: ins.op, entry: cur === null ? null : cur.slice(), incoming: [], sawElse: false });
        break;
      case 'else': {
        const fr = frames[frames.length - 1]!;
        fr.incoming.push(cur);
        cur = fr.entry === null ? null : fr.entry.slice();
        fr.sawElse = true;
        break;
      }
      case 'end': {
        const fr = frames.pop();
        if (fr === undefined || fr.kind === 'loop' || fr.kind === 'func') break;
        let st: State = cur;
        for (const inc of fr.incoming) st = meet(st, inc);
        if (fr.kind === 'if' && !fr.sawElse) st = meet(st, fr.entry);
        cur = st;
        break;
      }
      case 'br': branch(ins.index!); cur = null; break;
      case 'br_if': branch(ins.index!); break;
      case 'br_table': for (const d of [...ins.labels!, ins.defaultLabel!]) branch(d); cur = null; break;
      case 'return': case 'unreachable': cur = null; break;
      case 'local.get':
        if (cur !== null && !cur[ins.index!]) needs[ins.index!] = true;
        break;
      case 'local.set': case 'local.tee':
        if (cur !== null) cur[ins.index!] = 1;
        break;
      default: break;
    }
  }
  return needs.map((x, i) => x && i >= nParams);
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
  // zext mode: memory accesses in loops zero-extend their address; a mask register makes that one `and`.
  let maskWeight = 0;
  if (!sext) {
    // Weighed by the accesses in loops, but every access uses it once it has a register.
    f.body.forEach((ins, pc) => {
      if (!/\.(load|store)|\.atomic\./.test(ins.op)) return;
      if (loopDepthAt[pc]! > 0) maskWeight += 1 << (3 * Math.min(loopDepthAt[pc]!, 4));
      info.zextMaskUses.push(pc);
    });
  }
  if (maskWeight > 0) {
    const v = 0xffff_ffffn;
    const c = byValue.get(v) ?? { value: v, weight: 0, pcs: [] };
    c.weight += maskWeight;
    byValue.set(v, c);
  }
  const out = [...byValue.values()];
  if (maskWeight > 0) info.zextMask = out.findIndex((c) => c.value === 0xffff_ffffn);
  return out;
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
