/**
 * Structured control flow: block, loop, if/else, end, br, br_if, br_table,
 * return, unreachable, select, drop, nop.
 *
 * Joins. Every way into the end of a block (branches to it, the fall-through
 * of an if's then-arm, the block's own fall-through) must leave the block's
 * results in the same registers: the *delivery* registers, chosen by the
 * first path that gets there (the registers its values are already in,
 * where possible) and followed by every later one. They need no
 * reservation in between: when a path arrives, the only live values are the
 * delivered ones, the locked entries below the block and the locals, and
 * the delivery registers are none of those. The function itself is the
 * outermost block, delivering into a0.
 */
import type { Instr } from '../wasm/module.js';
import type { Fn } from './function.js';
import type { Reg } from './regs.js';
import { ValueStack, type Entry, type ValTy } from './values.js';

export interface Ctrl {
  kind: 'func' | 'block' | 'loop' | 'if';
  /** Index of the block instruction. */
  start: number;
  /** Stack height below the block's values. */
  base: number;
  results: ValTy[];
  /** Where branches go: a loop's head, the end of anything else. */
  label: string;
  elseLabel?: string;
  delivery?: Reg[];
  /** Some branch (or the then-arm of an if) reaches the end. */
  endReachable: boolean;
  sawElse: boolean;
}

function blockResults(fx: Fn, ins: Instr): ValTy[] {
  const bt = ins.blockType;
  if (bt === undefined) return [];
  if (bt.params.length > 0) fx.unsupported(ins, 'with block parameters is not supported');
  for (const t of bt.results) {
    if (t === 'f32' || t === 'f64') fx.floatError(ins);
    if (t !== 'i32' && t !== 'i64') fx.unsupported(ins, `with a ${t} result is not supported`);
  }
  return bt.results as ValTy[];
}

/** Choose the delivery registers of c from the values a first path brings. */
function chooseDelivery(fx: Fn, c: Ctrl, values: Entry[]): Reg[] {
  if (c.delivery !== undefined) return c.delivery;
  // Where the value goes right after the block (a0 to return it, a call argument, a local's home)?
  if (c.kind !== 'func' && values.length === 1) {
    const r = fx.preferredReg(fx.info.endOf.get(c.start)!, 0);
    if (r !== undefined && !fx.stack.some((e) => e !== values[0] && fx.regsOf(e).includes(r))) {
      c.delivery = [r];
      return c.delivery;
    }
  }
  const chosen: Reg[] = [];
  const fresh: Reg[] = [];
  for (const e of values) {
    if (e.k === 'reg' && fx.isTemp(e.r) && !chosen.includes(e.r)) chosen.push(e.r);
    else {
      const busy = values.flatMap((v) => (v.k === 'reg' ? [v.r] : []));
      const r = fx.alloc([...chosen, ...busy]);
      fresh.push(r);
      chosen.push(r);
    }
  }
  // Delivery registers are not reserved (see above): the fresh ones go back to the pool.
  for (const r of fresh) fx.freeReg(r);
  c.delivery = chosen;
  return chosen;
}

/** Values are in place when each is already in its delivery register. */
function inPlace(values: Entry[], delivery: Reg[]): boolean {
  return values.every((e, i) => e.k === 'reg' && e.r === delivery[i]);
}

/**
 * Jump to c's label (a return goes through the epilogue). A block whose end
 * is the function's end, with its result already in a0, returns right here.
 */
function jumpTo(fx: Fn, c: Ctrl): void {
  const last = fx.body.length - 1;
  const returns = c.kind === 'func' ||
    (c.kind !== 'loop' && c.base === 0 && fx.info.endOf.get(c.start) === last - 1 &&
      (c.results.length === 0 ? fx.f.type.results.length === 0 : c.delivery?.[0] === 'a0'));
  if (returns) fx.em.placeholder('ret');
  else fx.em.j(c.label);
}

/** Move the branch values into c's delivery registers (nothing for a loop). */
function deliver(fx: Fn, c: Ctrl, values: Entry[]): void {
  if (c.kind === 'loop') return;
  c.endReachable = true;
  if (values.length === 0) return;
  const d = chooseDelivery(fx, c, values);
  fx.moveEntries(values.map((src, i) => ({ src, dst: d[i]! })));
}

function target(fx: Fn, depth: number): Ctrl {
  const c = fx.ctrls[fx.ctrls.length - 1 - depth];
  if (c === undefined) fx.fail(`branch depth ${depth} out of range`);
  return c;
}

const branchValues = (fx: Fn, c: Ctrl): Entry[] =>
  c.kind === 'loop' ? [] : fx.stack.slice(fx.stack.length - c.results.length);

function br(fx: Fn, depth: number): void {
  const c = target(fx, depth);
  deliver(fx, c, branchValues(fx, c));
  jumpTo(fx, c);
  fx.dead = true;
}

function brIf(fx: Fn, depth: number): void {
  const cond = fx.pop();
  const c = target(fx, depth);
  const values = branchValues(fx, c);
  const known = ValueStack.constCond(cond);
  if (known === false) { fx.release(cond); return; }
  if (known === true) { fx.release(cond); br(fx, depth); return; }
  if (c.kind !== 'loop') {
    c.endReachable = true;
    if (values.length > 0) chooseDelivery(fx, c, values);
  }
  const label = c.kind === 'func' ? fx.retLabel : c.label;
  if (c.kind === 'loop' || values.length === 0 || inPlace(values, c.delivery!)) {
    fx.branchIf(cond, label);
  } else {
    const skip = fx.em.newLabel('nbr');
    fx.branchIf(cond, skip, true);
    deliver(fx, c, values);
    jumpTo(fx, c);
    fx.em.label(skip);
  }
  fx.release(cond);
}

function brTable(fx: Fn, ins: Instr): void {
  const idx = fx.pop();
  const labels = [...ins.labels!, ins.defaultLabel!];
  if (idx.k === 'const') {
    const i = BigInt.asUintN(32, idx.v);
    br(fx, labels[i < BigInt(labels.length - 1) ? Number(i) : labels.length - 1]!);
    return;
  }
  // Where each distinct depth jumps to: the target itself, or a trampoline that moves the values first.
  const dest = new Map<number, string>();
  const tramps: { label: string; c: Ctrl }[] = [];
  for (const d of new Set(labels)) {
    const c = target(fx, d);
    const values = branchValues(fx, c);
    if (c.kind !== 'loop') {
      c.endReachable = true;
      if (values.length > 0) chooseDelivery(fx, c, values);
    }
    if (c.kind === 'loop' || values.length === 0 || inPlace(values, c.delivery!)) {
      dest.set(d, c.kind === 'func' ? fx.retLabel : c.label);
    } else {
      const label = fx.em.newLabel('tramp');
      dest.set(d, label);
      tramps.push({ label, c });
    }
  }
  const r = fx.reg(idx, 't6');
  const n = labels.length - 1; // entries before the default
  const dflt = dest.get(labels[n]!)!;
  if (n <= 3) {
    for (let k = 0; k < n; k++) {
      if (k === 0) fx.em.branch('eq', r, 'zero', dest.get(labels[0]!)!);
      else {
        fx.em.li('t5', BigInt(k));
        fx.em.branch('eq', r, 't5', dest.get(labels[k]!)!);
      }
    }
    fx.em.j(dflt);
  } else {
    if (n < 2048) {
      fx.em.insn(`sltiu t5, ${r}, ${n}`);
      fx.em.branch('eq', 't5', 'zero', dflt);
    } else {
      fx.em.li('t5', BigInt(n));
      fx.em.branch('geu', r, 't5', dflt);
    }
    const table = fx.em.newLabel('jt');
    fx.em.insn(`slli t6, ${r}, 2`);
    fx.em.insn(`la t5, ${table}`);
    fx.em.insn('add t5, t5, t6');
    fx.em.insn('jr t5');
    // Four bytes per entry even when the linker compresses: c.j would halve the stride.
    fx.em.directive('.option push');
    fx.em.directive('.option norvc');
    fx.em.label(table);
    for (let k = 0; k < n; k++) fx.em.j(dest.get(labels[k]!)!);
    fx.em.directive('.option pop');
  }
  for (const t of tramps) {
    fx.em.label(t.label);
    deliver(fx, t.c, branchValues(fx, t.c));
    jumpTo(fx, t.c);
  }
  fx.release(idx);
  fx.dead = true;
}

function enter(fx: Fn, ins: Instr, kind: 'block' | 'loop' | 'if'): Ctrl {
  const results = blockResults(fx, ins);
  fx.lockStack(fx.info.blocksWithCalls.has(fx.pc));
  const c: Ctrl = {
    kind, start: fx.pc, base: fx.stack.length, results, label: fx.em.newLabel(kind === 'loop' ? 'loop' : 'end'),
    endReachable: false, sawElse: false,
  };
  fx.ctrls.push(c);
  return c;
}

function truncate(fx: Fn, height: number): void {
  fx.stack.length = Math.min(fx.stack.length, height);
  fx.rebuildPool();
}

function elseOp(fx: Fn): void {
  const c = fx.ctrls[fx.ctrls.length - 1]!;
  if (!fx.dead) {
    deliver(fx, c, fx.stack.slice(fx.stack.length - c.results.length));
    jumpTo(fx, c);
  }
  fx.em.label(c.elseLabel!);
  c.sawElse = true;
  truncate(fx, c.base);
  fx.dead = false;
}

function endOp(fx: Fn): void {
  const c = fx.ctrls.pop()!;
  let reachable: boolean;
  let keep = false;
  if (!fx.dead) {
    reachable = true;
    if (c.delivery !== undefined && c.kind !== 'loop') {
      const values = fx.stack.slice(fx.stack.length - c.results.length);
      fx.moveEntries(values.map((src, i) => ({ src, dst: c.delivery![i]! })));
    } else {
      keep = true; // the only way in: the results stay where they are
    }
  } else {
    reachable = c.endReachable || (c.kind === 'if' && !c.sawElse);
  }
  if (c.kind === 'if' && !c.sawElse) fx.em.label(c.elseLabel!);
  if (c.kind !== 'loop' && c.kind !== 'func') fx.em.label(c.label);
  if (c.kind === 'func') {
    fx.em.label(c.label);
    fx.dead = true;
    return;
  }
  if (!keep) {
    truncate(fx, c.base);
    if (reachable) for (let i = 0; i < c.results.length; i++) fx.pushReg(c.results[i]!, c.delivery![i]!);
  }
  fx.rebuildPool();
  fx.dead = !reachable;
}

function select(fx: Fn): void {
  const c = fx.pop();
  const b = fx.pop();
  const a = fx.pop();
  const known = ValueStack.constCond(c);
  if (known !== undefined) {
    fx.release(c);
    fx.release(known ? b : a);
    fx.push(known ? a : b);
    return;
  }
  const regsOf = (e: Entry): Reg[] => {
    if (e.k === 'reg') return [e.r];
    if (e.k === 'local') { const h = fx.homes[e.idx]!; return h.k === 'reg' ? [h.r] : []; }
    if (e.k === 'cond') return [...regsOf(e.a), ...regsOf(e.b)];
    return [];
  };
  const avoid = [...regsOf(b), ...regsOf(c)];
  let rd: Reg;
  if (a.k === 'reg' && fx.isTemp(a.r) && !avoid.includes(a.r)) rd = a.r;
  else {
    rd = fx.resultReg(avoid);
    fx.moveTo(a, rd);
    fx.release(a);
  }
  const skip = fx.em.newLabel('sel');
  fx.branchIf(c, skip);
  fx.moveTo(b, rd);
  fx.em.label(skip);
  fx.release(b);
  fx.release(c);
  fx.pushReg(a.ty, rd);
}

/** Instructions that end straight-line code: a loop condition made of anything else can be moved. */
const STRUCTURAL = new Set(['block', 'loop', 'if', 'else', 'end', 'br', 'br_if', 'br_table', 'return', 'unreachable']);

interface LoopShape {
  /** 'if': loop { cond; if { body; br 1 } } — 'exit': loop { cond; br_if 1; body; br 0 } inside a block. */
  kind: 'if' | 'exit';
  condEnd: number;
  bodyStart: number;
  bodyEnd: number;
}

/**
 * Is the loop at pc one of asc's (binaryen's) while-loop shapes, whose test
 * can move to the bottom so that each iteration takes one branch instead of
 * a branch and a jump?
 */
function loopShape(fx: Fn, pc: number): LoopShape | undefined {
  const body = fx.body;
  const ins = body[pc]!;
  if ((ins.blockType?.results.length ?? 0) > 0 || (ins.blockType?.params.length ?? 0) > 0) return undefined;
  const end = fx.info.endOf.get(pc);
  if (end === undefined) return undefined;
  let i = pc + 1;
  while (i < end && !STRUCTURAL.has(body[i]!.op)) i++;
  if (i === pc + 1) return undefined; // no condition
  const at = body[i]!;
  if (at.op === 'if' && (at.blockType?.results.length ?? 0) === 0 && !fx.info.elseOf.has(i)) {
    const ifEnd = fx.info.endOf.get(i);
    const last = body[end - 2];
    if (ifEnd === end - 1 && last?.op === 'br' && last.index === 1) return { kind: 'if', condEnd: i, bodyStart: i + 1, bodyEnd: end - 2 };
  }
  if (at.op === 'br_if' && at.index === 1 && body[end - 1]?.op === 'br' && body[end - 1]!.index === 0) {
    const outer = fx.ctrls[fx.ctrls.length - 1]!;
    if (outer.kind === 'block' && outer.results.length === 0 && fx.info.endOf.get(outer.start) === end + 1) {
      return { kind: 'exit', condEnd: i, bodyStart: i + 1, bodyEnd: end - 1 };
    }
  }
  return undefined;
}

/**
 * A rotated loop:   j test; body: <body>; test: <cond>; b<cond> body; exit:
 * The loop's label (continue) is the test; the if's (break) is the exit.
 */
function rotatedLoop(fx: Fn, shape: LoopShape): void {
  const start = fx.pc;
  const end = fx.info.endOf.get(start)!;
  fx.lockStack(fx.info.blocksWithCalls.has(start));
  const base = fx.stack.length;
  const test = fx.em.newLabel('test');
  const top = fx.em.newLabel('body');
  const exit = fx.em.newLabel('exit');
  fx.ctrls.push({ kind: 'loop', start, base, results: [], label: test, endReachable: false, sawElse: false });
  if (shape.kind === 'if') {
    fx.ctrls.push({ kind: 'block', start: shape.condEnd, base, results: [], label: exit, endReachable: false, sawElse: false });
  }
  fx.em.j(test);
  fx.em.label(top);
  fx.translateRange(shape.bodyStart, shape.bodyEnd);
  if (shape.kind === 'if') fx.ctrls.pop();
  truncate(fx, base);
  fx.dead = false;
  fx.em.label(test);
  fx.translateRange(start + 1, shape.condEnd);
  fx.em.mark(fx.body[shape.condEnd]!.offset);
  const cond = fx.pop();
  fx.branchIf(cond, top, shape.kind === 'exit');
  fx.release(cond);
  fx.em.label(exit);
  fx.ctrls.pop();
  fx.rebuildPool();
  fx.pc = end; // the loop's end has been dealt with
}

export function controlOp(fx: Fn, ins: Instr): boolean {
  switch (ins.op) {
    case 'nop': return true;
    case 'block': enter(fx, ins, 'block'); return true;
    case 'loop': {
      const shape = loopShape(fx, fx.pc);
      if (shape !== undefined) {
        rotatedLoop(fx, shape);
        return true;
      }
      const c = enter(fx, ins, 'loop');
      fx.em.label(c.label);
      return true;
    }
    case 'if': {
      const cond = fx.pop();
      const c = enter(fx, ins, 'if');
      c.elseLabel = fx.em.newLabel('else');
      fx.branchIf(cond, c.elseLabel, true);
      fx.release(cond);
      return true;
    }
    case 'else': elseOp(fx); return true;
    case 'end': endOp(fx); return true;
    case 'br': br(fx, ins.index!); return true;
    case 'br_if': brIf(fx, ins.index!); return true;
    case 'br_table': brTable(fx, ins); return true;
    case 'return': br(fx, fx.ctrls.length - 1); return true;
    case 'unreachable':
      fx.trapHere('unreachable');
      fx.dead = true;
      return true;
    case 'drop': fx.release(fx.pop()); return true;
    case 'select': select(fx); return true;
    default: return false;
  }
}
