/**
 * The wasm value stack, mapped onto registers.
 *
 * Code is generated in one pass with a *virtual* value stack: an entry is a
 * constant, a register holding the value, a lazy reference to a local (no
 * copy is made until the local is overwritten), a spill slot in the frame,
 * or a pending comparison (so that `lt_s; br_if` becomes one `blt`).
 *
 *   ┌────────────┬──────────────────────────────────────────────────────┐
 *   │ const      │ folded into immediates (addi, andi, lw offsets …)    │
 *   │ reg        │ an owned temporary of the pool (caller-saved)        │
 *   │ local      │ the local's home register or slot, read in place     │
 *   │ spill      │ -off(s0), after register pressure or around calls    │
 *   │ cond       │ a comparison of two entries, only ever on top        │
 *   └────────────┴──────────────────────────────────────────────────────┘
 *
 * Representation: an i32 in a register is always sign-extended to 64 bits
 * (RV64 psABI), so W-instructions keep it valid and i64.extend_i32_s is free.
 *
 * Entries below the innermost block's base are *locked*: they stay where
 * they are until the block ends (the control-flow joins rely on it), so only
 * entries above the base are ever spilled.
 */
import { NEGATE, type Cc, type Emitter } from './emitter.js';
import { RegPool, SCRATCH1, SCRATCH2, isCallerSaved, type Reg } from './regs.js';
import { WasmError } from '../wasm/module.js';

export type ValTy = 'i32' | 'i64';

export type Entry =
  | { k: 'const'; ty: ValTy; v: bigint }
  | { k: 'reg'; ty: ValTy; r: Reg }
  | { k: 'local'; ty: ValTy; idx: number }
  | { k: 'spill'; ty: ValTy; off: number }
  | { k: 'cond'; ty: ValTy; cc: Cc; a: Entry; b: Entry };

/** Where a local lives for the whole function. */
export type Home = { k: 'reg'; r: Reg } | { k: 'slot'; off: number };

export const fitsImm12 = (v: bigint): boolean => v >= -2048n && v <= 2047n;

/** The canonical 64-bit form of a constant of type ty. */
export const norm = (ty: ValTy, v: bigint): bigint => (ty === 'i32' ? BigInt.asIntN(32, v) : BigInt.asIntN(64, v));

export abstract class ValueStack {
  stack: Entry[] = [];
  homes: Home[] = [];
  protected pool!: RegPool;
  /** Spill slots: offsets from s0 (negative), the next one, and the free ones. */
  protected slotStart = 0;
  protected slotNext = 0;
  protected freeSlots: number[] = [];
  /** Slots that are not spill slots (a borrowed register's save slot): never handed out again. */
  protected readonly pinnedSlots = new Set<number>();

  constructor(readonly em: Emitter, readonly funcName: string) {}

  /** Height below which entries are locked (the innermost block's base). */
  protected abstract lockHeight(): number;
  /**
   * The register the current instruction should leave its result in, if
   * any (a local about to be set, a call argument …); `evict`: a value
   * holding it may be moved to the frame (it would be spilled by the call
   * anyway).
   */
  protected abstract hintReg(): { r: Reg; evict: boolean } | undefined;

  fail(msg: string): never {
    throw new WasmError(`${msg} in function ${this.funcName}`, undefined, this.funcName);
  }

  // --- the stack ---------------------------------------------------------------------------

  push(e: Entry): void {
    this.stack.push(e);
  }

  pop(): Entry {
    const e = this.stack.pop();
    if (e === undefined) this.fail('value stack underflow (internal error)');
    return e;
  }

  top(): Entry | undefined {
    return this.stack[this.stack.length - 1];
  }

  pushReg(ty: ValTy, r: Reg): void {
    this.stack.push({ k: 'reg', ty, r });
  }

  /** Give back what an entry owns (its temporary, its spill slot, a condition's operands). */
  release(e: Entry): void {
    switch (e.k) {
      case 'reg': this.pool.release(e.r); break;
      case 'spill': this.freeSlots.push(e.off); break;
      case 'cond': this.release(e.a); this.release(e.b); break;
      default: break;
    }
  }

  // --- registers ---------------------------------------------------------------------------

  /** Is r one of the function's temporaries (not a local's home, not scratch)? */
  isTemp(r: Reg): boolean {
    return this.pool.has(r);
  }

  takeReg(r: Reg): void {
    this.pool.take(r);
  }

  freeReg(r: Reg): void {
    this.pool.release(r);
  }

  /** A scratch register not in `used`: t5 or t6, else a temporary (give it back with freeReg). */
  scratch(used: readonly Reg[]): Reg {
    if (!used.includes(SCRATCH1)) return SCRATCH1;
    if (!used.includes(SCRATCH2)) return SCRATCH2;
    return this.alloc(used);
  }

  /**
   * A free temporary not in `avoid`: spill an unlocked entry if there is
   * none, and as a last resort borrow a callee-saved register for the rest
   * of the function.
   */
  alloc(avoid: readonly Reg[] = []): Reg {
    const r = this.pool.alloc(avoid);
    if (r !== undefined) return r;
    if (!this.spillOne(avoid)) {
      const s = this.borrowSaved();
      if (s === undefined) this.fail('out of registers: too many values live at once (internal error)');
      this.pool.add(s);
    }
    const r2 = this.pool.alloc(avoid);
    if (r2 === undefined) this.fail('out of registers (internal error)');
    return r2;
  }

  /** A callee-saved register no local uses, saved by the prologue, for the pool; undefined if none is left. */
  protected abstract borrowSaved(): Reg | undefined;

  /** Register for the result of the current instruction: the hinted local's home, or a temporary. */
  resultReg(avoid: readonly Reg[] = []): Reg {
    const hint = this.hintReg();
    const h = hint?.r;
    if (h !== undefined && !avoid.includes(h)) {
      if (!this.pool.has(h)) return h; // a local's home (or a0 in a leaf function, right before returning)
      if (!this.pool.isFree(h) && hint!.evict) {
        const owner = this.stack.findIndex((e) => e.k === 'reg' && e.r === h);
        if (owner >= this.lockHeight()) this.spillEntry(owner);
      }
      if (this.pool.isFree(h)) {
        this.pool.take(h);
        return h;
      }
    }
    return this.alloc(avoid);
  }

  /** A new spill slot (offset from s0). */
  newSlot(): number {
    const s = this.freeSlots.pop();
    if (s !== undefined) return s;
    const off = this.slotNext;
    this.slotNext -= 8;
    return off;
  }

  protected spillEntry(i: number): void {
    const e = this.stack[i]!;
    if (e.k !== 'reg') return;
    const off = this.newSlot();
    this.em.insn(`sd ${e.r}, ${this.em.slot(off)}`);
    this.pool.release(e.r);
    this.stack[i] = { k: 'spill', ty: e.ty, off };
  }

  /** Spill the deepest unlocked entry held in a temporary not in `avoid`; false if there is none. */
  private spillOne(avoid: readonly Reg[]): boolean {
    for (let i = this.lockHeight(); i < this.stack.length; i++) {
      const e = this.stack[i]!;
      if (e.k === 'reg' && this.pool.has(e.r) && !avoid.includes(e.r)) {
        this.spillEntry(i);
        return true;
      }
    }
    return false;
  }

  /** Before a call: every value held in a caller-saved register goes to the frame. */
  spillCallerSaved(): void {
    for (let i = 0; i < this.stack.length; i++) {
      const e = this.stack[i]!;
      if (e.k === 'cond') this.materializeAt(i);
      const f = this.stack[i]!;
      if (f.k === 'local') {
        const h = this.homes[f.idx]!;
        if (h.k === 'reg' && isCallerSaved(h.r)) this.copyToTemp(i);
      }
      const g = this.stack[i]!;
      if (g.k === 'reg' && isCallerSaved(g.r)) this.spillEntry(i);
    }
  }

  /** Recompute the free registers and slots from the stack (after a control-flow join). */
  rebuildPool(): void {
    const busy: Reg[] = [];
    const usedSlots = new Set<number>();
    const visit = (e: Entry): void => {
      if (e.k === 'reg') busy.push(e.r);
      else if (e.k === 'spill') usedSlots.add(e.off);
      else if (e.k === 'cond') { visit(e.a); visit(e.b); }
    };
    this.stack.forEach(visit);
    this.pool.reset(busy);
    this.freeSlots = [];
    for (let off = this.slotStart; off > this.slotNext; off -= 8) {
      if (!usedSlots.has(off) && !this.pinnedSlots.has(off)) this.freeSlots.push(off);
    }
  }

  /**
   * The register holding e's value, for reading by the next instruction:
   * constants and memory operands are loaded into `scratch`.
   */
  reg(e: Entry, scratch: Reg): Reg {
    switch (e.k) {
      case 'const':
        if (e.v === 0n) return 'zero';
        this.em.li(scratch, e.v);
        return scratch;
      case 'reg': return e.r;
      case 'local': {
        const h = this.homes[e.idx]!;
        if (h.k === 'reg') return h.r;
        this.em.insn(`ld ${scratch}, ${this.em.slot(h.off, scratch)}`);
        return scratch;
      }
      case 'spill':
        this.em.insn(`ld ${scratch}, ${this.em.slot(e.off, scratch)}`);
        return scratch;
      case 'cond':
        this.setcc(e, scratch);
        return scratch;
    }
  }

  /** Put e's value into register rd (rd must not be read by e, except as e's own register). */
  moveTo(e: Entry, rd: Reg): void {
    switch (e.k) {
      case 'const': this.em.li(rd, e.v); return;
      case 'cond': this.setcc(e, rd); return;
      default: {
        const r = this.reg(e, rd);
        this.em.mv(rd, r);
      }
    }
  }

  /** Make stack[i] an owned temporary (copying a local, loading a constant or a spill). */
  copyToTemp(i: number, avoid: readonly Reg[] = []): Reg {
    const e = this.stack[i]!;
    if (e.k === 'reg' && this.pool.has(e.r)) return e.r;
    const r = this.alloc(avoid);
    this.moveTo(e, r);
    this.release(e);
    this.stack[i] = { k: 'reg', ty: e.ty, r };
    return r;
  }

  /** Turn a pending condition at stack[i] into a 0/1 value. */
  materializeAt(i: number, hint?: Reg): void {
    const e = this.stack[i]!;
    if (e.k !== 'cond') return;
    const r = hint ?? this.alloc(this.regsOf(e));
    this.setcc(e, r);
    this.release(e);
    this.stack[i] = { k: 'reg', ty: 'i32', r };
  }

  /** Registers an entry reads. */
  regsOf(e: Entry): Reg[] {
    if (e.k === 'reg') return [e.r];
    if (e.k === 'cond') return [...this.regsOf(e.a), ...this.regsOf(e.b)];
    if (e.k === 'local') {
      const h = this.homes[e.idx]!;
      return h.k === 'reg' ? [h.r] : [];
    }
    return [];
  }

  /** Before local idx is written: every lazy reference to it takes a copy. */
  materializeLocal(idx: number): void {
    for (let i = 0; i < this.stack.length; i++) {
      const e = this.stack[i]!;
      if (e.k === 'local' && e.idx === idx) this.copyToTemp(i);
      else if (e.k === 'cond' && this.reads(e, idx)) this.materializeAt(i);
    }
  }

  /** Does entry e read local idx (lazily)? */
  reads(e: Entry, idx: number): boolean {
    if (e.k === 'local') return e.idx === idx;
    if (e.k === 'cond') return this.reads(e.a, idx) || this.reads(e.b, idx);
    return false;
  }

  /** Does any entry read local idx lazily? */
  refsLocal(idx: number): boolean {
    return this.stack.some((e) => this.reads(e, idx));
  }

  // --- conditions --------------------------------------------------------------------------

  /** A comparison entry (constants on the right where the condition allows it). */
  cond(ty: ValTy, cc: Cc, a: Entry, b: Entry): Entry {
    if (a.k === 'const' && b.k !== 'const' && (cc === 'eq' || cc === 'ne')) [a, b] = [b, a];
    return { k: 'cond', ty, cc, a, b };
  }

  /** Negate a condition entry. */
  negate(e: Entry): Entry {
    if (e.k !== 'cond') return this.cond('i32', 'eq', e, { k: 'const', ty: e.ty, v: 0n });
    return { ...e, cc: NEGATE[e.cc] };
  }

  /** Evaluate a condition of two constants. */
  static foldCond(cc: Cc, a: bigint, b: bigint): boolean {
    const ua = BigInt.asUintN(64, a);
    const ub = BigInt.asUintN(64, b);
    switch (cc) {
      case 'eq': return a === b;
      case 'ne': return a !== b;
      case 'lt': return a < b;
      case 'ge': return a >= b;
      case 'ltu': return ua < ub;
      case 'geu': return ua >= ub;
    }
  }

  /** rd = cond ? 1 : 0. */
  setcc(e: Entry & { k: 'cond' }, rd: Reg): void {
    const { cc, a, b } = e;
    if (a.k === 'const' && b.k === 'const') {
      this.em.li(rd, ValueStack.foldCond(cc, a.v, b.v) ? 1n : 0n);
      return;
    }
    const ra = this.reg(a, SCRATCH1);
    const bImm = b.k === 'const' ? b.v : undefined;
    switch (cc) {
      case 'eq': case 'ne': {
        const set = cc === 'eq' ? 'seqz' : 'snez';
        if (bImm === 0n) { this.em.insn(`${set} ${rd}, ${ra}`); return; }
        if (bImm !== undefined && fitsImm12(bImm)) this.em.insn(`xori ${rd}, ${ra}, ${bImm}`);
        else this.em.insn(`xor ${rd}, ${ra}, ${this.reg(b, SCRATCH2)}`);
        this.em.insn(`${set} ${rd}, ${rd}`);
        return;
      }
      case 'lt': case 'ge': case 'ltu': case 'geu': {
        const u = cc === 'ltu' || cc === 'geu' ? 'u' : '';
        if (bImm !== undefined && fitsImm12(bImm)) this.em.insn(`slti${u} ${rd}, ${ra}, ${bImm}`);
        else this.em.insn(`slt${u} ${rd}, ${ra}, ${this.reg(b, SCRATCH2)}`);
        if (cc === 'ge' || cc === 'geu') this.em.insn(`xori ${rd}, ${rd}, 1`);
        return;
      }
    }
  }

  /** Branch to target when the condition (or the value, when not a condition: != 0) holds. */
  branchIf(e: Entry, target: string, negate = false): void {
    const c = e.k === 'cond' ? e : (this.cond(e.ty, 'ne', e, { k: 'const', ty: e.ty, v: 0n }) as Entry & { k: 'cond' });
    const cc = negate ? NEGATE[c.cc] : c.cc;
    if (c.a.k === 'const' && c.b.k === 'const') {
      if (ValueStack.foldCond(cc, c.a.v, c.b.v)) this.em.j(target);
      return;
    }
    const ra = this.reg(c.a, SCRATCH1);
    const rb = this.reg(c.b, SCRATCH2);
    this.em.branch(cc, ra, rb, target);
  }

  /** Is this entry (a condition) always true / always false at translation time? */
  static constCond(e: Entry): boolean | undefined {
    if (e.k === 'const') return e.v !== 0n;
    if (e.k === 'cond' && e.a.k === 'const' && e.b.k === 'const') return ValueStack.foldCond(e.cc, e.a.v, e.b.v);
    return undefined;
  }

  // --- moves -------------------------------------------------------------------------------

  /**
   * Parallel move of entries into registers (call arguments, block results):
   * register-to-register moves first, in an order that never overwrites a
   * source still needed (a cycle goes through t6), then constants and loads.
   */
  moveEntries(pairs: readonly { src: Entry; dst: Reg }[]): void {
    const regMoves: { src: Reg; dst: Reg }[] = [];
    const rest: { src: Entry; dst: Reg }[] = [];
    for (const p of pairs) {
      let src: Reg | undefined;
      if (p.src.k === 'reg') src = p.src.r;
      else if (p.src.k === 'local') {
        const h = this.homes[p.src.idx]!;
        if (h.k === 'reg') src = h.r;
      }
      if (p.src.k === 'cond') this.fail('condition in a parallel move (internal error)');
      if (src !== undefined) {
        if (src !== p.dst) regMoves.push({ src, dst: p.dst });
      } else {
        rest.push(p);
      }
    }
    while (regMoves.length > 0) {
      const i = regMoves.findIndex((m) => !regMoves.some((o) => o !== m && o.src === m.dst));
      if (i >= 0) {
        const m = regMoves[i]!;
        this.em.mv(m.dst, m.src);
        regMoves.splice(i, 1);
      } else {
        // A cycle: park one source in t6.
        const m = regMoves[0]!;
        this.em.mv(SCRATCH2, m.src);
        for (const o of regMoves) if (o.src === m.src) o.src = SCRATCH2;
      }
    }
    for (const p of rest) this.moveTo(p.src, p.dst);
  }
}
