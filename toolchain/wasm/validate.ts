/**
 * Function-body validation: the operand-stack typing of core spec 2.0 §3.3,
 * implemented as the spec's appendix "Validation Algorithm" (A.3) describes,
 * one instruction at a time as the reader decodes them.
 *
 *   vals:  the operand stack; 'unknown' is the bottom type that appears
 *          when popping below the frame's height in unreachable code
 *   ctrls: the control frames (function body, block, loop, if, else), each
 *          with its start/end types, the height of `vals` at entry, and
 *          whether the rest of the frame is unreachable (after br,
 *          br_table, return, unreachable) — then its stack is polymorphic.
 *
 * Threads proposal: atomic accesses need a memory (shared or not: asc emits
 * them on an unshared memory too) and exactly the natural alignment.
 */
import type { FuncType, Instr, Table, ValType } from './module.js';
import { isRefType, type OpInfo } from './opcodes.js';

type Operand = ValType | 'unknown';

interface Frame {
  op: string;
  start: readonly ValType[];
  end: readonly ValType[];
  height: number;
  unreachable: boolean;
}

/** What a function body may refer to (§3.1.1 the context C). Index spaces include imports. */
export interface ValidationContext {
  types: readonly FuncType[];
  funcs: readonly FuncType[];
  tables: readonly Table[];
  memories: number;
  globals: readonly { type: ValType; mutable: boolean }[];
  /** Element segments' element types. */
  elems: readonly ValType[];
  /** The data count section's value; absent without that section (memory.init/data.drop are then invalid, §5.5.13). */
  dataCount: number | undefined;
  /** C.refs: functions that may be named by ref.func (§3.4.10: those in elems, globals and exports). */
  refs: ReadonlySet<number>;
}

export class FuncValidator {
  private vals: Operand[] = [];
  private ctrls: Frame[] = [];

  /**
   * @param locals parameters then declared locals
   * @param fail   throws the located error (never returns)
   */
  constructor(
    private readonly ctx: ValidationContext,
    private readonly locals: readonly ValType[],
    results: readonly ValType[],
    private readonly fail: (message: string, offset: number) => never,
  ) {
    this.ctrls.push({ op: 'function', start: [], end: results, height: 0, unreachable: false });
  }

  /** True once the function's final `end` has been seen. */
  get done(): boolean {
    return this.ctrls.length === 0;
  }

  // ── the stack discipline of appendix A.3 ──────────────────────────────

  private ins!: Instr;

  private err(message: string): never {
    return this.fail(`${this.ins.op} ${message}`, this.ins.offset);
  }

  private push(t: Operand): void {
    this.vals.push(t);
  }

  private pop(expect?: ValType): Operand {
    const frame = this.ctrls[this.ctrls.length - 1]!;
    let actual: Operand;
    if (this.vals.length === frame.height) {
      if (!frame.unreachable) {
        this.err(expect ? `expects an ${expect} operand, but the stack is empty` : 'expects an operand, but the stack is empty');
      }
      actual = 'unknown';
    } else {
      actual = this.vals.pop()!;
    }
    if (expect && actual !== 'unknown' && actual !== expect) this.err(`expects ${expect} operand, got ${actual}`);
    return actual;
  }

  private popAll(types: readonly ValType[]): void {
    for (let i = types.length - 1; i >= 0; i--) this.pop(types[i]);
  }

  private pushAll(types: readonly Operand[]): void {
    for (const t of types) this.push(t);
  }

  private pushCtrl(op: string, start: readonly ValType[], end: readonly ValType[]): void {
    this.ctrls.push({ op, start, end, height: this.vals.length, unreachable: false });
    this.pushAll(start);
  }

  private popCtrl(): Frame {
    const frame = this.ctrls[this.ctrls.length - 1]!;
    this.popAll(frame.end);
    if (this.vals.length !== frame.height) {
      const extra = this.vals.slice(frame.height).join(' ');
      this.err(`leaves ${this.vals.length - frame.height} extra value(s) on the stack [${extra}] at the end of the ${frame.op}, expected [${frame.end.join(' ')}]`);
    }
    this.ctrls.pop();
    return frame;
  }

  private labelTypes(frame: Frame): readonly ValType[] {
    return frame.op === 'loop' ? frame.start : frame.end;
  }

  private unreachable(): void {
    const frame = this.ctrls[this.ctrls.length - 1]!;
    this.vals.length = frame.height;
    frame.unreachable = true;
  }

  private label(depth: number): Frame {
    if (depth >= this.ctrls.length) this.err(`label ${depth} is out of range (depth ${this.ctrls.length})`);
    return this.ctrls[this.ctrls.length - 1 - depth]!;
  }

  // ── index checks (§3.3: "C.x[i] must be defined") ──────────────────────

  private local(i: number): ValType {
    if (i >= this.locals.length) this.err(`local index ${i} is out of range (${this.locals.length} locals)`);
    return this.locals[i]!;
  }

  private global(i: number): { type: ValType; mutable: boolean } {
    const g = this.ctx.globals[i];
    if (!g) this.err(`global index ${i} is out of range (${this.ctx.globals.length} globals)`);
    return g;
  }

  private table(i: number): Table {
    const t = this.ctx.tables[i];
    if (!t) this.err(`table index ${i} is out of range (${this.ctx.tables.length} tables)`);
    return t;
  }

  private func(i: number): FuncType {
    const f = this.ctx.funcs[i];
    if (!f) this.err(`function index ${i} is out of range (${this.ctx.funcs.length} functions)`);
    return f;
  }

  private type(i: number): FuncType {
    const t = this.ctx.types[i];
    if (!t) this.err(`type index ${i} is out of range (${this.ctx.types.length} types)`);
    return t;
  }

  private elem(i: number): ValType {
    const e = this.ctx.elems[i];
    if (!e) this.err(`element segment index ${i} is out of range (${this.ctx.elems.length} segments)`);
    return e;
  }

  private data(i: number): void {
    if (this.ctx.dataCount === undefined) this.err('needs a data count section (§5.5.13)');
    if (i >= this.ctx.dataCount) this.err(`data segment index ${i} is out of range (${this.ctx.dataCount} segments)`);
  }

  // ── one instruction ────────────────────────────────────────────────────

  step(ins: Instr, info: OpInfo): void {
    this.ins = ins;
    if (this.ctrls.length === 0) this.err('after the end of the function');
    if (info.memory && this.ctx.memories === 0) this.err('needs a memory, but the module has none');
    if (info.imm === 'memarg') {
      const align = ins.align!;
      const natural = info.natural!;
      if (info.atomic ? align !== natural : align > natural) {
        this.err(`alignment 2^${align} must be ${info.atomic ? 'exactly' : 'at most'} the natural alignment 2^${natural}`);
      }
    }
    if (info.sig) {
      this.popAll(info.sig.params);
      this.pushAll(info.sig.results);
      if (info.imm === 'data' || info.imm === 'data_zero') this.data(ins.index!);
      return;
    }
    switch (ins.op) {
      case 'unreachable':
        this.unreachable();
        return;
      case 'block':
      case 'loop': {
        const bt = ins.blockType!;
        this.popAll(bt.params);
        this.pushCtrl(ins.op, bt.params, bt.results);
        return;
      }
      case 'if': {
        const bt = ins.blockType!;
        this.pop('i32');
        this.popAll(bt.params);
        this.pushCtrl('if', bt.params, bt.results);
        return;
      }
      case 'else': {
        const frame = this.ctrls[this.ctrls.length - 1]!;
        if (frame.op !== 'if') this.err(`without a matching if (in a ${frame.op})`);
        this.popCtrl();
        this.pushCtrl('else', frame.start, frame.end);
        return;
      }
      case 'end': {
        const frame = this.popCtrl();
        // An if without else has an empty else branch: [t1*] → [t2*] needs t1* = t2* (§3.3.8.5).
        if (frame.op === 'if' && !sameTypes(frame.start, frame.end)) {
          this.err(`of an if without else must have matching parameter and result types, got [${frame.start.join(' ')}] → [${frame.end.join(' ')}]`);
        }
        this.pushAll(frame.end);
        if (frame.op === 'function') this.vals.length = 0;
        return;
      }
      case 'br':
        this.popAll(this.labelTypes(this.label(ins.index!)));
        this.unreachable();
        return;
      case 'br_if': {
        const types = this.labelTypes(this.label(ins.index!));
        this.pop('i32');
        this.popAll(types);
        this.pushAll(types);
        return;
      }
      case 'br_table': {
        this.pop('i32');
        const defaultTypes = this.labelTypes(this.label(ins.defaultLabel!));
        const arity = defaultTypes.length;
        for (const l of ins.labels!) {
          const types = this.labelTypes(this.label(l));
          if (types.length !== arity) this.err(`label ${l} has arity ${types.length}, the default label ${ins.defaultLabel} has ${arity}`);
          // Pop and push back, so each label checks the same operands (A.3).
          const popped: Operand[] = [];
          for (let i = types.length - 1; i >= 0; i--) popped.unshift(this.pop(types[i]));
          this.pushAll(popped);
        }
        this.popAll(defaultTypes);
        this.unreachable();
        return;
      }
      case 'return':
        this.popAll(this.ctrls[0]!.end);
        this.unreachable();
        return;
      case 'call': {
        const f = this.func(ins.index!);
        this.popAll(f.params);
        this.pushAll(f.results);
        return;
      }
      case 'call_indirect': {
        const t = this.table(ins.table!);
        if (t.elemType !== 'funcref') this.err(`table ${ins.table} has element type ${t.elemType}, not funcref`);
        const f = this.type(ins.index!);
        this.pop('i32');
        this.popAll(f.params);
        this.pushAll(f.results);
        return;
      }
      case 'drop':
        this.pop();
        return;
      case 'select': {
        if (ins.selectType) {
          if (ins.selectType.length !== 1) this.err(`must have exactly one type annotation, got ${ins.selectType.length}`);
          const t = ins.selectType[0]!;
          this.pop('i32');
          this.pop(t);
          this.pop(t);
          this.push(t);
          return;
        }
        this.pop('i32');
        const t1 = this.pop();
        const t2 = this.pop();
        // Untyped select only takes numeric (or vector) operands (§3.3.4).
        if (t1 !== 'unknown' && isRefType(t1)) this.err(`without a type annotation expects numeric operands, got ${t1}`);
        if (t2 !== 'unknown' && isRefType(t2)) this.err(`without a type annotation expects numeric operands, got ${t2}`);
        if (t1 !== 'unknown' && t2 !== 'unknown' && t1 !== t2) this.err(`expects operands of the same type, got ${t2} and ${t1}`);
        this.push(t1 === 'unknown' ? t2 : t1);
        return;
      }
      case 'local.get':
        this.push(this.local(ins.index!));
        return;
      case 'local.set':
        this.pop(this.local(ins.index!));
        return;
      case 'local.tee': {
        const t = this.local(ins.index!);
        this.pop(t);
        this.push(t);
        return;
      }
      case 'global.get':
        this.push(this.global(ins.index!).type);
        return;
      case 'global.set': {
        const g = this.global(ins.index!);
        if (!g.mutable) this.err(`of immutable global ${ins.index}`);
        this.pop(g.type);
        return;
      }
      case 'table.get': {
        const t = this.table(ins.index!);
        this.pop('i32');
        this.push(t.elemType);
        return;
      }
      case 'table.set': {
        const t = this.table(ins.index!);
        this.pop(t.elemType);
        this.pop('i32');
        return;
      }
      case 'table.size':
        this.table(ins.index!);
        this.push('i32');
        return;
      case 'table.grow': {
        const t = this.table(ins.index!);
        this.pop('i32');
        this.pop(t.elemType);
        this.push('i32');
        return;
      }
      case 'table.fill': {
        const t = this.table(ins.index!);
        this.pop('i32');
        this.pop(t.elemType);
        this.pop('i32');
        return;
      }
      case 'table.copy': {
        const dst = this.table(ins.index!);
        const src = this.table(ins.table!);
        if (dst.elemType !== src.elemType) this.err(`between tables of types ${src.elemType} and ${dst.elemType}`);
        this.popAll(['i32', 'i32', 'i32']);
        return;
      }
      case 'table.init': {
        const t = this.table(ins.table!);
        const e = this.elem(ins.index!);
        if (t.elemType !== e) this.err(`of a ${e} segment into a ${t.elemType} table`);
        this.popAll(['i32', 'i32', 'i32']);
        return;
      }
      case 'elem.drop':
        this.elem(ins.index!);
        return;
      case 'ref.null':
        this.push(ins.refType!);
        return;
      case 'ref.is_null': {
        const t = this.pop();
        if (t !== 'unknown' && !isRefType(t)) this.err(`expects a reference operand, got ${t}`);
        this.push('i32');
        return;
      }
      case 'ref.func':
        this.func(ins.index!);
        if (!this.ctx.refs.has(ins.index!)) this.err(`of function ${ins.index}, which is not declared in an element segment, export or global`);
        this.push('funcref');
        return;
      default:
        this.err('has no typing rule (internal error)');
    }
  }
}

export function sameTypes(a: readonly ValType[], b: readonly ValType[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}
