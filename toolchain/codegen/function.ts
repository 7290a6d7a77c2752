/**
 * Translation of one wasm function into RV64 assembly text.
 *
 * One pass over the body with the virtual value stack of values.ts; the
 * instruction families live in their own files (control.ts, numeric.ts,
 * memory.ts, calls.ts, atomics.ts, intrinsics.ts). The prologue is written
 * last, when the frame is known.
 *
 * Frame (functions that need one; s0 = the caller's sp = CFA):
 *
 *        caller's frame
 *   s0 → ───────────────────  ← stack-passed arguments of this function at 0(s0), 8(s0) …
 *         ra                  -8(s0)
 *         caller's s0         -16(s0)    (so s0 chains let a debugger walk the stack)
 *         s1 … sN             -24(s0) …  callee-saved registers holding locals
 *         local slots                    locals that did not get a register
 *         ecall a1 slot                  (only with the ecall_a1 intrinsic)
 *         spill slots                    values spilled under pressure / around calls
 *         outgoing stack args  8(sp), 0(sp)
 *   sp → ───────────────────  16-byte aligned
 *
 * Leaf functions whose locals fit in caller-saved registers and that never
 * spill have no frame at all.
 */
import type { Func, Instr, ValType } from '../wasm/module.js';
import { WasmError } from '../wasm/module.js';
import { analyze, type BodyInfo } from './analysis.js';
import type { ModuleContext } from './context.js';
import { Emitter } from './emitter.js';
import { RegPool, SAVED_REGS, SCRATCH1, callerSavedOrder, type Reg } from './regs.js';
import { ValueStack, type Home, type ValTy } from './values.js';
import { controlOp, type Ctrl } from './control.js';
import { variableOp } from './variables.js';
import { numericOp } from './numeric.js';
import { memoryOp } from './memory.js';
import { callOp, isCallLike, callArgCount } from './calls.js';
import { atomicOp } from './atomics.js';

/** Keep at least this many caller-saved registers for the value stack in leaf functions… */
const MIN_TEMPS = 5;
/** … and this many when LR/SC loops (8/16-bit atomics, cmpxchg) need several at once. */
const MIN_TEMPS_ATOMIC = 8;

/** Registers left free for a block's own values when it is entered with values below it. */
const MIN_FREE_IN_BLOCK = 5;

/** Instructions that take a pending comparison as it is. */
const COND_CONSUMERS = new Set(['i32.eqz', 'br_if', 'if', 'select', 'drop']);

export interface FunctionCode {
  text: string;
  /** Machine instructions emitted (statistics). */
  insns: number;
}

/** Reload a register from frame slot `off` in the epilogue (beyond the 12-bit reach through t6). */
function restoreFar(r: Reg, off: number): string[] {
  if (off >= -2048) return [`ld ${r}, ${off}(s0)`];
  return [`li t6, ${off}`, 'add t6, t6, s0', `ld ${r}, 0(t6)`];
}

export function isFloatType(t: ValType): boolean {
  return t === 'f32' || t === 'f64';
}

export class Fn extends ValueStack {
  readonly info: BodyInfo;
  readonly body: Instr[];
  readonly ctrls: Ctrl[] = [];
  /** Index of the instruction being translated. */
  pc = 0;
  /** The code at pc cannot be reached. */
  dead = false;
  readonly localTypes: ValTy[];
  readonly retLabel: string;
  /** Out-of-line trap calls: label, message label, wasm offset. */
  private readonly stubs: { label: string; msg: string; offset: number }[] = [];
  private savedRegs: Reg[] = [];
  private forceFrame = false;
  /** The frame slot holding a1 after an ecall (ecall_a1 intrinsic). */
  ecallA1Slot: number | undefined;
  private prologueMoves: ((em: Emitter) => void)[] = [];
  /** The hoisted constants' li, after the parameter moves. */
  private constInits: ((em: Emitter) => void)[] = [];
  /** 'zext' mode: a register holding 0xFFFF_FFFF, when the function's loops access memory. */
  zextMaskReg: Reg | undefined;
  /** const instruction index → the read-only local (index ≥ the real locals) holding its value. */
  readonly constHome = new Map<number, number>();
  /** Number of real locals (parameters and declared); higher indices are hoisted constants. */
  get realLocals(): number {
    return this.localTypes.length;
  }
  /** Code placed after the function's return sequence (slow paths), with its wasm offset. */
  private readonly coldCode: { offset: number; emit: () => void }[] = [];

  constructor(readonly ctx: ModuleContext, readonly f: Func, displayName: string) {
    super(new Emitter(`.L${f.index}`), displayName);
    this.body = f.body;
    const at = `in function ${displayName} at 0x${f.bodyOffset.toString(16)}`;
    const check = (t: ValType, what: string): void => {
      if (isFloatType(t)) throw new WasmError(`floating point is not supported: ${t} ${what} ${at}`, f.bodyOffset, displayName);
      if (t !== 'i32' && t !== 'i64') throw new WasmError(`${t} values are not supported: ${t} ${what} ${at}`, f.bodyOffset, displayName);
    };
    for (const t of [...f.type.params, ...f.type.results]) check(t, 'parameter or result');
    for (const t of f.locals) check(t, 'local');
    if (f.type.results.length > 1) this.fail('multiple results are not supported');
    this.localTypes = [...f.type.params, ...f.locals] as ValTy[];
    this.info = analyze(f, {
      isCallLike: (ins) => isCallLike(ctx, ins),
      argCount: (ins) => callArgCount(ctx, ins),
      callType: (ins) => (ins.op === 'call' ? ctx.funcType(ins.index!) : ctx.m.types[ins.index!]!),
      sext: ctx.opts.addressMode === 'sext',
    });
    this.retLabel = this.em.newLabel('ret');
    this.assignHomes();
  }

  // --- homes of locals ---------------------------------------------------------------------

  private assignHomes(): void {
    const { info } = this;
    const nParams = this.f.type.params.length;
    const nReal = this.localTypes.length;
    // Hoisted constants are read-only locals after the real ones (index nReal + k).
    const consts = info.constants;
    const n = nReal + consts.length;
    const weight = (l: number): number => (l < nReal ? info.weight[l]! : consts[l - nReal]!.weight);
    const ranked = [...Array(n).keys()].filter((l) => weight(l) > 0).sort((a, b) => weight(b) - weight(a) || a - b);
    const saved = [...SAVED_REGS];
    let nextSlot = -16;
    const slot = (): Home => {
      nextSlot -= 8;
      return { k: 'slot', off: nextSlot };
    };
    const callerSaved = callerSavedOrder(!info.usesBitHelpers);
    const homes: Home[] = [];
    for (let l = 0; l < n; l++) homes.push({ k: 'reg', r: l < 8 && l < nParams ? `a${l}` : 'zero' });
    // Reserve the callee-saved registers first, so that slot offsets come after them.
    const regFor: (Reg | undefined)[] = new Array<Reg | undefined>(n);
    let free: Reg[];
    // Locals live across no call may use caller-saved registers (all of them, in a leaf function):
    // a parameter keeps its argument register, the others share what the value stack can spare.
    const callFree = (l: number): boolean => !info.hasCalls || info.callFree[l] === true;
    const reserve = info.usesAtomicLoops ? MIN_TEMPS_ATOMIC : MIN_TEMPS;
    free = [...callerSaved];
    const take = (r: Reg): void => { free.splice(free.indexOf(r), 1); };
    for (const l of ranked) {
      if (l < nParams && l < 8 && callFree(l) && free.includes(`a${l}`) && free.length > reserve) {
        regFor[l] = `a${l}`;
        take(`a${l}`);
      }
    }
    for (const l of ranked) {
      if (regFor[l] !== undefined) continue;
      if (callFree(l) && free.length > reserve) {
        // Take registers from the end of the preference order: temporaries keep t0-t2.
        regFor[l] = free.pop();
      } else if (l < nReal || info.hasCalls) {
        regFor[l] = saved.shift();
      }
      // A constant of a leaf function that gets no caller-saved register stays a constant (a frame would cost more).
    }
    this.savedRegs = SAVED_REGS.filter((r) => regFor.includes(r));
    const constInits: ((em: Emitter) => void)[] = [];
    nextSlot = -16 - 8 * this.savedRegs.length;
    for (const l of ranked) {
      const r = regFor[l];
      if (l >= nReal) {
        if (r !== undefined) {
          homes[l] = { k: 'reg', r };
          const c = consts[l - nReal]!;
          for (const pc of c.pcs) this.constHome.set(pc, l);
          if (l - nReal === info.zextMask) this.zextMaskReg = r;
          // After the parameter moves: r may be the argument register of a parameter that moves to its home.
          constInits.push((em) => em.li(r, c.value));
        }
        continue;
      }
      if (r !== undefined) homes[l] = { k: 'reg', r };
      else if (l >= 8 && l < nParams) {
        homes[l] = { k: 'slot', off: 8 * (l - 8) }; // stays where the caller put it
        this.forceFrame = true;
      } else homes[l] = slot();
    }
    this.homes = homes;
    const isEcallA1 = (ins: Instr): boolean => {
      const imp = ins.op === 'call' ? this.ctx.importOf(ins.index!) : undefined;
      return imp?.module === 'riscv' && imp.name === 'ecall_a1';
    };
    if (this.body.some(isEcallA1)) {
      slot();
      this.ecallA1Slot = nextSlot;
    }
    this.slotStart = nextSlot - 8;
    this.constInits = constInits;
    this.slotNext = this.slotStart;
    this.pool = new RegPool(free);
    // Entry code: parameters into their homes, zero-initialised locals.
    for (let l = 0; l < nReal; l++) {
      const h = homes[l]!;
      if (info.weight[l] === 0) continue;
      if (l < nParams) {
        if (l < 8) {
          if (h.k === 'reg') { if (h.r !== `a${l}`) this.prologueMoves.push((em) => em.mv(h.r, `a${l}`)); }
          else this.prologueMoves.push((em) => em.insn(`sd a${l}, ${em.slot(h.off)}`));
        } else if (h.k === 'reg') {
          this.prologueMoves.push((em) => em.insn(`ld ${h.r}, ${8 * (l - 8)}(${this.framed ? 's0' : 'sp'})`));
        }
      } else if (info.needsInit[l]) {
        if (h.k === 'reg') this.prologueMoves.push((em) => em.insn(`li ${h.r}, 0`));
        else this.prologueMoves.push((em) => em.insn(`sd zero, ${em.slot(h.off)}`));
      }
    }
  }

  private get framed(): boolean {
    const afterSaved = -16 - 8 * this.savedRegs.length;
    const hasSlots = this.slotStart !== afterSaved - 8 || this.slotNext !== this.slotStart;
    return this.forceFrame || this.info.hasCalls || this.savedRegs.length > 0 || hasSlots;
  }

  private frameSize(): number {
    const slots = -this.slotNext - 8; // bytes from s0 down to the last slot used
    return Math.ceil((slots + 8 * Math.max(0, this.info.maxStackArgs)) / 16) * 16;
  }

  // --- ValueStack hooks --------------------------------------------------------------------

  /** Callee-saved registers borrowed as temporaries, each saved in its own frame slot. */
  private readonly borrowed: { r: Reg; off: number }[] = [];

  protected borrowSaved(): Reg | undefined {
    const used = new Set<Reg>([...this.savedRegs, ...this.borrowed.map((b) => b.r)]);
    for (const h of this.homes) if (h.k === 'reg') used.add(h.r);
    const r = SAVED_REGS.find((x) => !used.has(x));
    if (r === undefined) return undefined;
    const off = this.newSlot();
    this.pinnedSlots.add(off);
    this.borrowed.push({ r, off });
    return r;
  }

  protected lockHeight(): number {
    return this.ctrls.length > 0 ? this.ctrls[this.ctrls.length - 1]!.base : 0;
  }

  protected hintReg(): { r: Reg; evict: boolean } | undefined {
    const r = this.preferredReg(this.pc, 0);
    if (r === undefined) return undefined;
    const use = this.info.consumer.get(this.pc);
    const op = use === undefined ? '' : this.body[use.pc]!.op;
    return { r, evict: op === 'call' || op === 'call_indirect' };
  }

  /**
   * The register the value produced by instruction `pc` (its result number
   * `arg`, for a block's end) should be computed into, from its consumer:
   * a local about to be set, a call argument register, a0 for a return.
   */
  preferredReg(pc: number, arg: number): Reg | undefined {
    const use = this.info.consumer.get(pc);
    if (use === undefined) return undefined;
    const c = this.body[use.pc]!;
    const next = use.pc === pc + 1;
    switch (c.op) {
      case 'local.set': case 'local.tee':
        return next ? this.hintFor(c, this.stack.length) : undefined;
      case 'return':
        return next && this.f.type.results.length === 1 ? 'a0' : undefined;
      case 'end':
        if (!next || arg !== 0) return undefined;
        if (use.pc === this.body.length - 1) return this.f.type.results.length === 1 ? 'a0' : undefined;
        {
          const top = this.ctrls[this.ctrls.length - 1];
          if (top !== undefined && this.info.endOf.get(top.start) === use.pc && top.delivery !== undefined) return top.delivery[use.arg];
        }
        return undefined;
      case 'call': case 'call_indirect': case 'memory.copy': case 'memory.fill': case 'memory.init': {
        if (c.op === 'call') {
          const imp = this.ctx.importOf(c.index!);
          if (imp !== undefined && (imp.module !== 'riscv' || imp.name !== 'ecall')) return undefined;
        }
        if (c.op === 'call_indirect' && use.arg === this.ctx.m.types[c.index!]!.params.length) return undefined;
        // Only while it is a temporary: a local living in a caller-saved register may still be live.
        return use.arg < 8 && this.isTemp(`a${use.arg}`) ? `a${use.arg}` : undefined;
      }
      default:
        return undefined;
    }
  }

  /** The home register of the local that `next` sets, if the value may be computed right into it. */
  private hintFor(next: Instr | undefined, height: number): Reg | undefined {
    if (next === undefined || (next.op !== 'local.set' && next.op !== 'local.tee')) return undefined;
    const h = this.homes[next.index!]!;
    if (h.k !== 'reg') return undefined;
    for (let i = 0; i < height; i++) {
      const e = this.stack[i]!;
      if (this.reads(e, next.index!)) return undefined;
    }
    return h.r;
  }

  // --- helpers for the instruction families ----------------------------------------------------

  /** Label of an out-of-line `__wasm_trap("<what> in <function>")` for the current instruction. */
  trapStub(what: string): string {
    const label = this.em.newLabel('trap');
    this.stubs.push({ label, msg: this.ctx.string(`${what} in ${this.funcName}`), offset: this.body[this.pc]?.offset ?? this.f.bodyOffset });
    this.ctx.use('__wasm_trap');
    return label;
  }

  /** Emit code out of line, after the return sequence (it must end in a jump or a trap). */
  cold(emit: () => void): void {
    this.coldCode.push({ offset: this.body[this.pc]?.offset ?? this.f.bodyOffset, emit });
  }

  /** An inline trap (unreachable). */
  trapHere(what: string): void {
    this.ctx.use('__wasm_trap');
    this.em.insn(`la a0, ${this.ctx.string(`${what} in ${this.funcName}`)}`);
    this.em.insn('call __wasm_trap');
  }

  /**
   * Block entry: the entries on the stack become locked (values.ts). Lazy
   * locals get copied (the block may write the local); around calls,
   * registers go to the frame; and if too many registers would stay locked,
   * the newest entries are spilled, so that the block has temporaries left.
   */
  lockStack(spillForCalls: boolean): void {
    const from = this.lockHeight();
    for (let i = 0; i < this.stack.length; i++) {
      const e = this.stack[i]!;
      if (e.k === 'local' && e.idx < this.realLocals) this.copyToTemp(i);
      else if (e.k === 'cond') this.materializeAt(i);
      if (spillForCalls && this.stack[i]!.k === 'reg') this.spillEntry(i);
    }
    let inRegs = this.stack.filter((e) => e.k === 'reg').length;
    const limit = Math.max(0, this.pool.size - (this.info.usesAtomicLoops ? MIN_TEMPS_ATOMIC : MIN_FREE_IN_BLOCK));
    for (let i = this.stack.length - 1; i >= from && inRegs > limit; i--) {
      if (this.stack[i]!.k === 'reg') {
        this.spillEntry(i);
        inRegs--;
      }
    }
  }

  floatError(ins: Instr): never {
    throw new WasmError(`floating point is not supported: ${ins.op} in function ${this.funcName} at 0x${ins.offset.toString(16)}`, ins.offset, this.funcName);
  }

  unsupported(ins: Instr, why = 'is not supported'): never {
    throw new WasmError(`${ins.op} ${why}: in function ${this.funcName} at 0x${ins.offset.toString(16)}`, ins.offset, this.funcName);
  }

  // --- the pass ------------------------------------------------------------------------------

  translate(label: string): FunctionCode {
    const resTy = this.f.type.results as ValTy[];
    this.ctrls.push({
      kind: 'func', start: -1, base: 0, results: resTy, label: this.retLabel,
      delivery: resTy.length ? ['a0'] : [], endReachable: false, sawElse: false,
    });
    const body = this.body;
    this.translateRange(0, body.length);
    // Prologue, then the body, the return sequence and the trap stubs.
    const pro = new Emitter(`.L${this.f.index}p`);
    pro.mark(body[0]?.offset ?? this.f.bodyOffset);
    const F = this.frameSize();
    const framed = this.framed;
    if (framed) {
      if (F <= 2032) {
        pro.insn(`addi sp, sp, -${F}`);
        pro.insn(`sd ra, ${F - 8}(sp)`);
        pro.insn(`sd s0, ${F - 16}(sp)`);
        pro.insn(`addi s0, sp, ${F}`);
      } else {
        pro.insn('addi sp, sp, -16');
        pro.insn('sd ra, 8(sp)');
        pro.insn('sd s0, 0(sp)');
        pro.insn('addi s0, sp, 16');
        pro.li(SCRATCH1, BigInt(F - 16));
        pro.insn(`sub sp, sp, ${SCRATCH1}`);
      }
      this.savedRegs.forEach((r, i) => pro.insn(`sd ${r}, ${-24 - 8 * i}(s0)`));
      for (const b of this.borrowed) pro.insn(`sd ${b.r}, ${pro.slot(b.off)}`);
    }
    for (const mv of this.prologueMoves) mv(pro);
    for (const init of this.constInits) init(pro);
    this.em.prepend(pro);
    const epilogue = framed
      ? ['ld ra, -8(s0)', ...this.savedRegs.map((r, i) => `ld ${r}, ${-24 - 8 * i}(s0)`), ...this.borrowed.flatMap((b) => restoreFar(b.r, b.off)),
        // Pop to the saved ra/s0 pair first and read s0 while it is still
        // above sp: an interrupt taken between the two would otherwise push
        // its trap frame over the slot (everything below sp is fair game).
        'addi sp, s0, -16', 'ld s0, 0(sp)', 'addi sp, sp, 16', 'ret']
      : ['ret'];
    this.em.placeholder('epilogue');
    for (const c of this.coldCode) {
      this.em.mark(c.offset);
      c.emit();
    }
    for (const s of this.stubs) {
      this.em.label(s.label);
      this.em.mark(s.offset);
      this.em.insn(`la a0, ${s.msg}`);
      this.em.insn('call __wasm_trap');
    }
    const text = this.em.finalize((key) => {
      if (key === 'epilogue') return epilogue;
      // 'ret': a return from the middle of the function.
      return epilogue.length <= 6 ? epilogue : [`j ${this.retLabel}`];
    });
    return { text: `${label}:\n${text}`, insns: this.em.count };
  }

  /**
   * Translate body[from, to): the whole body, or (loop rotation, control.ts)
   * a loop's body and then its condition. Stops after the function's end.
   */
  translateRange(from: number, to: number): void {
    const body = this.body;
    for (this.pc = from; this.pc < to; this.pc++) {
      const ins = body[this.pc]!;
      if (this.dead) {
        if (ins.op === 'block' || ins.op === 'loop' || ins.op === 'if') {
          this.pc = this.info.endOf.get(this.pc) ?? body.length;
          continue;
        }
        if (ins.op !== 'else' && ins.op !== 'end') continue;
      }
      this.em.mark(ins.offset);
      const top = this.top();
      if (top?.k === 'cond' && !COND_CONSUMERS.has(ins.op)) {
        this.materializeAt(this.stack.length - 1, this.hintFor(ins, this.stack.length - 1));
      }
      this.dispatch(ins);
      if (this.ctrls.length === 0) break;
    }
  }

  private dispatch(ins: Instr): void {
    const op = ins.op;
    if (variableOp(this, ins)) return;
    if (controlOp(this, ins)) return;
    if (numericOp(this, ins)) return;
    if (memoryOp(this, ins)) return;
    if (callOp(this, ins)) return;
    if (atomicOp(this, ins)) return;
    if (op.startsWith('f32.') || op.startsWith('f64.') || /_f(32|64)/.test(op)) this.floatError(ins);
    this.unsupported(ins);
  }
}
