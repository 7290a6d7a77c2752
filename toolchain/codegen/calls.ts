/**
 * Calls: direct calls, call_indirect through the checked table, asc's
 * env.abort, and the dispatch of "riscv" imports to the intrinsics.
 *
 * Standard RISC-V calling convention: arguments in a0-a7 (an i32
 * sign-extended), the rest at 0(sp), 8(sp) … of the caller's frame; the
 * result in a0. Before a call, every value the stack holds in a
 * caller-saved register goes to the frame (locals of functions that call
 * live in s1-s11, which the callee preserves).
 *
 * call_indirect (table entries are (code address, type id) dword pairs in
 * read-only data, type ids equal for structurally equal types):
 *
 *     sltiu t6, idx, SIZE ; beqz t6, undefined   bounds
 *     slli  t6, idx, 4 ; la t5, table ; add t5, t5, t6
 *     ld    t6, 8(t5) ; addi t6, t6, -ID ; bnez t6, mismatch
 *     ld    t5, 0(t5) ; <argument moves> ; jalr t5
 *
 * A null entry has type id -1: the mismatch stub tells the two apart.
 */
import type { Instr } from '../wasm/module.js';
import type { ModuleContext } from './context.js';
import type { Fn } from './function.js';
import { intrinsic, intrinsicIsCallLike } from './intrinsics.js';
import { ARG_REGS, SCRATCH1, SCRATCH2 } from './regs.js';
import type { Entry, ValTy } from './values.js';

export function isCallLike(ctx: ModuleContext, ins: Instr): boolean {
  switch (ins.op) {
    case 'call': {
      const imp = ctx.importOf(ins.index!);
      return imp === undefined || imp.module !== 'riscv' || intrinsicIsCallLike(imp.name);
    }
    case 'call_indirect': case 'memory.copy': case 'memory.fill': case 'memory.init':
      return true;
    default:
      return false;
  }
}

export function callArgCount(ctx: ModuleContext, ins: Instr): number {
  if (ins.op === 'call') return ctx.funcType(ins.index!).params.length;
  if (ins.op === 'call_indirect') return ctx.m.types[ins.index!]!.params.length;
  return 0;
}

/**
 * A call: spill what the call would clobber, pass `args` (already popped),
 * emit the call itself, and push the results (in a0).
 */
export function emitCall(fx: Fn, args: Entry[], emitTheCall: () => void, results: ValTy[]): void {
  fx.spillCallerSaved();
  for (let k = 8; k < args.length; k++) {
    const r = fx.reg(args[k]!, SCRATCH2); // t5 may hold call_indirect's target
    fx.em.insn(`sd ${r}, ${8 * (k - 8)}(sp)`);
  }
  fx.moveEntries(args.slice(0, 8).map((src, i) => ({ src, dst: ARG_REGS[i]! })));
  for (const a of args) fx.release(a);
  emitTheCall();
  fx.rebuildPool();
  if (results.length > 0) {
    if (fx.isTemp('a0')) {
      fx.takeReg('a0');
      fx.pushReg(results[0]!, 'a0');
    } else {
      // a0 is the home of a local that lives after the call (none lives across it): move the result away.
      const r = fx.alloc(['a0']);
      fx.em.mv(r, 'a0');
      fx.pushReg(results[0]!, r);
    }
  }
}

function popN(fx: Fn, n: number): Entry[] {
  if (fx.stack.length < n) fx.fail('value stack underflow (internal error)');
  return fx.stack.splice(fx.stack.length - n);
}

function valTypes(fx: Fn, ins: Instr, ts: readonly string[]): ValTy[] {
  for (const t of ts) {
    if (t === 'f32' || t === 'f64') fx.floatError(ins);
    if (t !== 'i32' && t !== 'i64') fx.unsupported(ins, `with ${t} values is not supported`);
  }
  return ts as ValTy[];
}

function callIndirect(fx: Fn, ins: Instr): void {
  const type = fx.ctx.m.types[ins.index!]!;
  valTypes(fx, ins, type.params);
  const results = valTypes(fx, ins, type.results);
  const table = fx.ctx.table(ins.table ?? 0);
  const id = fx.ctx.typeId(ins.index!);
  const idx = fx.pop();
  const args = popN(fx, type.params.length);
  const undef = fx.trapStub('undefined table element');
  const mismatch = fx.trapStub('indirect call signature mismatch');
  // Bounds, entry, signature: the code address ends up in t5, which the argument moves leave alone.
  fx.spillCallerSaved();
  const r = fx.reg(idx, SCRATCH1);
  if (table.size < 2048) {
    fx.em.insn(`sltiu ${SCRATCH2}, ${r}, ${table.size}`);
    fx.em.branch('eq', SCRATCH2, 'zero', undef);
  } else {
    fx.em.li(SCRATCH2, BigInt(table.size));
    fx.em.branch('geu', r, SCRATCH2, undef);
  }
  fx.em.insn(`slli ${SCRATCH2}, ${r}, 4`);
  fx.em.insn(`la ${SCRATCH1}, ${table.label}`);
  fx.em.insn(`add ${SCRATCH1}, ${SCRATCH1}, ${SCRATCH2}`);
  fx.em.insn(`ld ${SCRATCH2}, 8(${SCRATCH1})`);
  if (id > 2000) fx.fail('too many distinct function types for call_indirect');
  fx.em.insn(`addi ${SCRATCH2}, ${SCRATCH2}, ${-id}`);
  const check = fx.em.newLabel('sig');
  fx.em.branch('ne', SCRATCH2, 'zero', check);
  fx.em.insn(`ld ${SCRATCH1}, 0(${SCRATCH1})`);
  fx.release(idx);
  // Out of line: a null entry (id -1) is an undefined element, anything else a signature mismatch.
  fx.cold(() => {
    fx.em.label(check);
    fx.em.insn(`addi ${SCRATCH2}, ${SCRATCH2}, ${id + 1}`);
    fx.em.branch('eq', SCRATCH2, 'zero', undef);
    fx.em.j(mismatch);
  });
  emitCall(fx, args, () => fx.em.insn(`jalr ${SCRATCH1}`), results);
}

export function callOp(fx: Fn, ins: Instr): boolean {
  if (ins.op === 'call_indirect') {
    callIndirect(fx, ins);
    return true;
  }
  if (ins.op !== 'call') return false;
  const idx = ins.index!;
  const type = fx.ctx.funcType(idx);
  valTypes(fx, ins, type.params);
  const results = valTypes(fx, ins, type.results);
  const imp = fx.ctx.importOf(idx);
  if (imp !== undefined && imp.module === 'riscv') {
    intrinsic(fx, ins, imp.name, popN(fx, type.params.length), results);
    return true;
  }
  const args = popN(fx, type.params.length);
  const label = fx.ctx.funcLabel(idx);
  if (imp !== undefined) fx.ctx.use(label);
  emitCall(fx, args, () => fx.em.insn(`call ${label}`), results);
  return true;
}
