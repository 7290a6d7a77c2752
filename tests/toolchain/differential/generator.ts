/**
 * Seeded generator of random, well-typed WebAssembly programs for the
 * differential test (V8 against the translated code on the emulated CPU).
 *
 * Programs are built as a small AST (expressions and statements over i32/i64),
 * valid by construction, then flattened into the module IR of
 * toolchain/wasm/module.ts and encoded with our own encoder (wasm-encode.ts).
 * The AST makes failing cases reducible: reduce.ts replaces subtrees with
 * constants and drops statements while the failure persists.
 *
 * Every generated module holds `nFuncs` functions f0..f(n-1) plus one exported
 * wrapper `case<k>` per function: it resets the globals, calls f<k> with
 * constant arguments, stores every global into a dump area of the memory
 * (so the comparison of memory also compares globals) and returns the result
 * as i64. A function only calls functions with a lower index (directly or
 * through the table), and loops count down a counter the loop body cannot
 * write, so every program terminates; a cost estimate bounds the work per case.
 *
 * Memory: the scratch region [base, base + REGION_SIZE) starts with random
 * data; loads and stores hit it with random widths, signs, offsets and
 * alignments (atomics only naturally aligned); globals are dumped at base + DUMP_OFFSET.
 */
import type { FuncType, Instr, ValType, WasmModule } from '../../../toolchain/wasm/module.js';
import { prng } from '../../helpers/prng.js';
import { encodeWasm, typeIndex } from './wasm-encode.js';

export type T = 'i32' | 'i64';

export const REGION_SIZE = 0x2000;
export const DUMP_OFFSET = 0x1f00;
/** The i32 that selects which case the exported `main` dispatcher runs (poked before each run). */
export const SELECTOR_OFFSET = 0x1ff0;

export interface Label { readonly result: T | null; readonly loop: boolean; readonly id: number }

export interface Addr {
  /** 'masked': base + (e & mask) + offset; 'const': address constant; 'offset': (e & mask) with the base in the static offset. */
  mode: 'masked' | 'const' | 'offset';
  e?: Expr;
  mask: number;
  /** The constant address (mode 'const') or the base added (mode 'masked'). */
  addr: number;
  memOffset: number;
  align: number;
}

export type Expr =
  | { k: 'const'; t: T; v: bigint }
  | { k: 'local.get'; t: T; i: number }
  | { k: 'global.get'; t: T; i: number }
  | { k: 'un'; t: T; op: string; a: Expr }
  | { k: 'bin'; t: T; op: string; a: Expr; b: Expr }
  | { k: 'load'; t: T; op: string; addr: Addr }
  | { k: 'rmw'; t: T; op: string; addr: Addr; v: Expr }
  | { k: 'cmpxchg'; t: T; op: string; addr: Addr; e: Expr; r: Expr }
  | { k: 'select'; t: T; a: Expr; b: Expr; c: Expr; typed: boolean }
  | { k: 'tee'; t: T; i: number; a: Expr }
  | { k: 'call'; t: T; f: number; args: Expr[] }
  | { k: 'call_indirect'; t: T; type: FuncType; args: Expr[]; idx: Expr }
  | { k: 'block'; t: T; label: Label; body: Stmt[]; tail: Expr }
  | { k: 'loopv'; t: T; body: Stmt[]; tail: Expr }
  | { k: 'if'; t: T; label: Label; c: Expr; then: Stmt[]; thenV: Expr; else: Stmt[]; elseV: Expr }
  | { k: 'brtable'; t: T; labels: [Label, Label, Label]; v: Expr; idx: Expr; targets: Label[]; dflt: Label; k1: bigint; k2: bigint };

export type Stmt =
  | { k: 'set'; i: number; v: Expr }
  | { k: 'gset'; i: number; v: Expr }
  | { k: 'store'; op: string; addr: Addr; v: Expr }
  | { k: 'drop'; v: Expr }
  | { k: 'nop' }
  | { k: 'call'; f: number; args: Expr[]; dropResult: boolean }
  | { k: 'if'; label: Label; c: Expr; then: Stmt[]; else: Stmt[] | null }
  | { k: 'block'; label: Label; body: Stmt[] }
  | { k: 'loop'; counter: number; n: number; brk: Label; cont: Label; body: Stmt[] }
  | { k: 'br'; label: Label; v?: Expr }
  | { k: 'br_if'; label: Label; c: Expr; v?: Expr }
  | { k: 'br_table'; targets: Label[]; dflt: Label; idx: Expr; v?: Expr }
  | { k: 'return'; v?: Expr }
  | { k: 'unreachable' }
  | { k: 'fill'; dst: Expr; val: Expr; len: Expr }
  | { k: 'copy'; dst: Expr; src: Expr; len: Expr }
  | { k: 'fence' };

export interface GenFunc {
  name: string;
  params: T[];
  result: T | null;
  /** Declared locals after the params (counters included). */
  locals: T[];
  /** Locals (by index, params included) that loops use as counters: never written by other code. */
  counters: Set<number>;
  label: Label;
  body: Stmt[];
  /** The value left for the function's result (when result is not null). */
  tail?: Expr;
  /** Estimated worst-case count of executed wasm instructions. */
  cost: number;
}

export interface GenProgram {
  seed: number;
  base: number;
  funcs: GenFunc[];
  globals: { t: T; mutable: boolean; init: bigint }[];
  data: Uint8Array;
  /** Table: slot i holds f<i> for i < funcs.length; TABLE_EXTRA null slots follow. */
  tableSize: number;
  /** Constant arguments each wrapper passes. */
  args: bigint[][];
}

export const TABLE_EXTRA = 4;

const M32 = 0xffff_ffffn;
const I32_EDGES = [0n, 1n, -1n, 2n, -2n, 3n, 7n, 8n, 15n, 16n, 31n, 32n, 33n, 63n, 64n, 65n, 0x7fn, 0x80n, 0xffn, 0x100n, 0x7fffn, 0x8000n, 0xffffn,
  0x10000n, 2047n, 2048n, -2048n, -2049n, 4095n, 4096n, 0x7fff_ffffn, -0x8000_0000n, -0x7fff_ffffn, 0x1234_5678n, -0x2152_4111n /* 0xdeadbeef */,
  -0x7fff_f800n /* 0x8000_0800 */, 0x7fff_f800n, 0x5555_5555n, -0x5555_5556n];
const I64_EDGES = [...I32_EDGES, 0xffff_ffffn, 0x1_0000_0000n, 0x8000_0000n, -0x8000_0000_0000_0000n, 0x7fff_ffff_ffff_ffffn,
  -0x7fff_ffff_ffff_ffffn, 0x8000_0000_0000_0800n - (1n << 64n), 0x0123_4567_89ab_cdefn, -0x1_0000_0000n, 0xffff_ffff_0000_0000n - (1n << 64n),
  0x7fff_ffff_8000_0000n, 0x5555_5555_5555_5555n];

const UN: Record<T, string[]> = {
  i32: ['i32.clz', 'i32.ctz', 'i32.popcnt', 'i32.extend8_s', 'i32.extend16_s', 'i32.eqz'],
  i64: ['i64.clz', 'i64.ctz', 'i64.popcnt', 'i64.extend8_s', 'i64.extend16_s', 'i64.extend32_s'],
};
const ARITH = ['add', 'sub', 'mul', 'div_s', 'div_u', 'rem_s', 'rem_u', 'and', 'or', 'xor', 'shl', 'shr_s', 'shr_u', 'rotl', 'rotr'];
const CMP = ['eq', 'ne', 'lt_s', 'lt_u', 'gt_s', 'gt_u', 'le_s', 'le_u', 'ge_s', 'ge_u'];
const LOADS: Record<T, string[]> = {
  i32: ['i32.load', 'i32.load8_s', 'i32.load8_u', 'i32.load16_s', 'i32.load16_u'],
  i64: ['i64.load', 'i64.load8_s', 'i64.load8_u', 'i64.load16_s', 'i64.load16_u', 'i64.load32_s', 'i64.load32_u'],
};
const STORES: Record<T, string[]> = {
  i32: ['i32.store', 'i32.store8', 'i32.store16'],
  i64: ['i64.store', 'i64.store8', 'i64.store16', 'i64.store32'],
};
const ATOMIC_LOADS: Record<T, string[]> = {
  i32: ['i32.atomic.load', 'i32.atomic.load8_u', 'i32.atomic.load16_u'],
  i64: ['i64.atomic.load', 'i64.atomic.load8_u', 'i64.atomic.load16_u', 'i64.atomic.load32_u'],
};
const ATOMIC_STORES: Record<T, string[]> = {
  i32: ['i32.atomic.store', 'i32.atomic.store8', 'i32.atomic.store16'],
  i64: ['i64.atomic.store', 'i64.atomic.store8', 'i64.atomic.store16', 'i64.atomic.store32'],
};
const RMW_OPS = ['add', 'sub', 'and', 'or', 'xor', 'xchg'];
const rmwName = (t: T, bits: number, op: string): string =>
  bits === (t === 'i32' ? 32 : 64) ? `${t}.atomic.rmw.${op}` : `${t}.atomic.rmw${bits}.${op}_u`;
const OFFSETS = [0, 0, 0, 1, 2, 3, 4, 5, 7, 8, 12, 15, 16, 24, 100, 255, 2040, 2047, 2048, 2049, 3000];

/** Natural alignment (log2) of a memory op. */
export function naturalAlign(op: string): number {
  const bits = /(?:load|store|rmw)(8|16|32)/.exec(op)?.[1];
  if (bits) return Math.log2(Number(bits) / 8);
  return op.startsWith('i64') ? 3 : 2;
}

export interface GenOptions {
  funcs?: number;
  /** Worst-case wasm instructions per function (callees included). */
  budget?: number;
}

class Rng {
  private readonly next: () => number;
  constructor(seed: number) { this.next = prng(seed); }
  u32(): number { return this.next(); }
  int(n: number): number { return n <= 1 ? 0 : this.next() % n; }
  range(lo: number, hi: number): number { return lo + this.int(hi - lo + 1); }
  chance(p: number): boolean { return this.next() / 0x1_0000_0000 < p; }
  pick<X>(xs: readonly X[]): X { return xs[this.int(xs.length)]!; }
  weighted<X>(items: [number, X][]): X {
    const total = items.reduce((s, [w]) => s + w, 0);
    let r = this.next() % Math.max(1, total);
    for (const [w, x] of items) {
      if (r < w) return x;
      r -= w;
    }
    return items[items.length - 1]![1];
  }
  u64(): bigint { return (BigInt(this.u32()) << 32n) | BigInt(this.u32()); }
}

let labelIds = 0;
const newLabel = (result: T | null, loop = false): Label => ({ result, loop, id: labelIds++ });

class FuncBuilder {
  readonly f: GenFunc;
  cost = 0;
  mult = 1;
  /** Enclosing labels, innermost last; the function's label first. */
  readonly labels: Label[] = [];
  constructor(private readonly g: ProgramBuilder, private readonly r: Rng, readonly index: number, f: GenFunc) {
    this.f = f;
    this.labels.push(f.label);
  }

  private tick(n = 1): void { this.cost += n * this.mult; }

  const(t: T): Extract<Expr, { k: 'const' }> {
    const r = this.r;
    let v: bigint;
    const w = r.int(10);
    if (w < 6) v = r.pick(t === 'i32' ? I32_EDGES : I64_EDGES);
    else if (w < 8) v = BigInt(r.range(-20, 20));
    else v = r.u64();
    v = t === 'i32' ? BigInt.asIntN(32, v) : BigInt.asIntN(64, v);
    return { k: 'const', t, v };
  }

  private localsOf(t: T, writable: boolean): number[] {
    const all = [...this.f.params, ...this.f.locals];
    const out: number[] = [];
    all.forEach((lt, i) => { if (lt === t && !(writable && this.f.counters.has(i))) out.push(i); });
    return out;
  }

  private globalsOf(t: T, mutable: boolean): number[] {
    const out: number[] = [];
    this.g.p.globals.forEach((gl, i) => { if (gl.t === t && (!mutable || gl.mutable)) out.push(i); });
    return out;
  }

  leaf(t: T): Expr {
    this.tick();
    const r = this.r.int(10);
    if (r < 4) return this.const(t);
    if (r < 8) {
      const ls = this.localsOf(t, false);
      if (ls.length) return { k: 'local.get', t, i: this.r.pick(ls) };
    }
    const gs = this.globalsOf(t, false);
    if (gs.length) return { k: 'global.get', t, i: this.r.pick(gs) };
    return this.const(t);
  }

  /** A divisor that cannot trap: (e & 0x7fff..) | 1. */
  private safeDivisor(t: T, e: Expr): Expr {
    this.tick(4);
    const max = t === 'i32' ? 0x7fff_ffffn : 0x7fff_ffff_ffff_ffffn;
    return { k: 'bin', t, op: `${t}.or`, a: { k: 'bin', t, op: `${t}.and`, a: e, b: { k: 'const', t, v: max } }, b: { k: 'const', t, v: 1n } };
  }

  addr(op: string, d: number, atomic: boolean): Addr {
    this.tick(4);
    const width = 1 << naturalAlign(op);
    const base = this.g.p.base;
    const mode = this.r.weighted<Addr['mode']>([[6, 'masked'], [2, 'const'], [2, 'offset']]);
    const align = atomic ? naturalAlign(op) : this.r.int(naturalAlign(op) + 1);
    const alignDown = (x: number): number => (atomic ? x & ~(width - 1) : x);
    if (mode === 'const') {
      return { mode, mask: 0, addr: base + alignDown(this.r.int(0x1000)), memOffset: alignDown(this.r.pick([0, 0, 1, 2, 4, 8, 16])), align };
    }
    const e = this.expr('i32', d);
    if (mode === 'masked') {
      return { mode, e, mask: alignDown(0x7ff), addr: base, memOffset: alignDown(this.r.pick(OFFSETS)), align };
    }
    return { mode, e, mask: alignDown(0x7ff), addr: 0, memOffset: base + alignDown(this.r.int(0x800)), align };
  }

  expr(t: T, d: number): Expr {
    if (d <= 0) return this.leaf(t);
    const r = this.r;
    const kind = r.weighted<string>([
      [6, 'leaf'], [4, 'un'], [14, 'bin'], [t === 'i32' ? 6 : 0, 'cmp'], [3, 'conv'], [5, 'load'], [2, 'atomic'],
      [2, 'select'], [1, 'tee'], [this.g.callable(this).length ? 3 : 0, 'call'], [2, 'call_indirect'],
      [d >= 2 ? 2 : 0, 'block'], [d >= 2 ? 2 : 0, 'if'], [d >= 2 ? 1 : 0, 'brtable'], [d >= 2 ? 1 : 0, 'loopv'],
    ]);
    switch (kind) {
      case 'un': {
        const op = r.pick(UN[t]);
        this.tick();
        if (op === 'i32.eqz' && r.chance(0.5)) return { k: 'un', t, op: 'i64.eqz', a: this.expr('i64', d - 1) };
        return { k: 'un', t, op, a: this.expr(t, d - 1) };
      }
      case 'bin': {
        const name = r.pick(ARITH);
        const op = `${t}.${name}`;
        this.tick();
        const a = this.expr(t, d - 1);
        let b = this.expr(t, d - 1);
        if (/div|rem/.test(name) && r.chance(0.92)) b = this.safeDivisor(t, b);
        return { k: 'bin', t, op, a, b };
      }
      case 'cmp': {
        const ot: T = r.chance(0.5) ? 'i32' : 'i64';
        this.tick();
        return { k: 'bin', t, op: `${ot}.${r.pick(CMP)}`, a: this.expr(ot, d - 1), b: this.expr(ot, d - 1) };
      }
      case 'conv': {
        this.tick();
        if (t === 'i32') return { k: 'un', t, op: 'i32.wrap_i64', a: this.expr('i64', d - 1) };
        return { k: 'un', t, op: r.chance(0.5) ? 'i64.extend_i32_s' : 'i64.extend_i32_u', a: this.expr('i32', d - 1) };
      }
      case 'load': {
        const op = r.pick(LOADS[t]);
        this.tick();
        return { k: 'load', t, op, addr: this.addr(op, d - 1, false) };
      }
      case 'atomic': {
        this.tick();
        const w = r.int(3);
        if (w === 0) {
          const op = r.pick(ATOMIC_LOADS[t]);
          return { k: 'load', t, op, addr: this.addr(op, d - 1, true) };
        }
        const bits = r.pick(t === 'i32' ? [8, 16, 32] : [8, 16, 32, 64]);
        if (w === 1) {
          const op = rmwName(t, bits, r.pick(RMW_OPS));
          return { k: 'rmw', t, op, addr: this.addr(op, d - 1, true), v: this.expr(t, d - 1) };
        }
        const op = rmwName(t, bits, 'cmpxchg');
        const addr = this.addr(op, d - 1, true);
        // Expected values often equal to what is in memory, so that the exchange happens sometimes.
        const e: Expr = r.chance(0.5) ? { k: 'load', t, op: op.replace(/rmw(\d*)\.cmpxchg(_u)?/, (_m, b: string) => (b ? `load${b}_u` : 'load')), addr: { ...addr, e: addr.e ? cloneExpr(addr.e) : undefined } } : this.expr(t, d - 1);
        return { k: 'cmpxchg', t, op, addr, e, r: this.expr(t, d - 1) };
      }
      case 'select':
        this.tick();
        return { k: 'select', t, a: this.expr(t, d - 1), b: this.expr(t, d - 1), c: this.expr('i32', d - 1), typed: r.chance(0.3) };
      case 'tee': {
        const ls = this.localsOf(t, true);
        if (!ls.length) return this.leaf(t);
        this.tick();
        return { k: 'tee', t, i: r.pick(ls), a: this.expr(t, d - 1) };
      }
      case 'call': {
        const cands = this.g.callable(this).filter((j) => this.g.p.funcs[j]!.result === t);
        if (!cands.length) return this.leaf(t);
        const j = r.pick(cands);
        this.tick();
        this.cost += this.mult * this.g.p.funcs[j]!.cost;
        return { k: 'call', t, f: j, args: this.g.p.funcs[j]!.params.map((pt) => this.expr(pt, d - 2)) };
      }
      case 'call_indirect': return this.callIndirect(t, d);
      case 'block': {
        const label = newLabel(t);
        this.tick(2);
        this.labels.push(label);
        const body = this.stmts(r.range(0, 3), d - 1);
        const tail = this.expr(t, d - 1);
        this.labels.pop();
        return { k: 'block', t, label, body, tail };
      }
      case 'loopv': {
        // A loop with a result: its label (type []) is never a branch target, so it runs once.
        this.tick(2);
        this.labels.push(newLabel(null, true)); // placeholder, filtered out as a target (loop without counter)
        const placeholder = this.labels[this.labels.length - 1]!;
        (placeholder as { noTarget?: boolean }).noTarget = true;
        const body = this.stmts(r.range(0, 2), d - 1);
        const tail = this.expr(t, d - 1);
        this.labels.pop();
        return { k: 'loopv', t, body, tail };
      }
      case 'if': {
        const label = newLabel(t);
        this.tick(3);
        const c = this.expr('i32', d - 1);
        this.labels.push(label);
        const then = this.stmts(r.range(0, 2), d - 1);
        const thenV = this.expr(t, d - 1);
        const els = this.stmts(r.range(0, 2), d - 1);
        const elseV = this.expr(t, d - 1);
        this.labels.pop();
        return { k: 'if', t, label, c, then, thenV, else: els, elseV };
      }
      case 'brtable': {
        const ls: [Label, Label, Label] = [newLabel(t), newLabel(t), newLabel(t)];
        this.tick(8);
        const outer = this.labels.filter((l) => l.result === t && !l.loop);
        this.labels.push(...ls);
        const v = this.expr(t, d - 1);
        let idx = this.expr('i32', d - 1);
        if (r.chance(0.6)) idx = { k: 'bin', t: 'i32', op: 'i32.and', a: idx, b: { k: 'const', t: 'i32', v: BigInt(r.pick([1, 3, 7, 15])) } };
        this.labels.length -= 3;
        const pool: Label[] = [...ls, ...ls, ...ls, ...(r.chance(0.3) ? outer : [])];
        const targets = Array.from({ length: r.range(0, 9) }, () => r.pick(pool));
        return { k: 'brtable', t, labels: ls, v, idx, targets, dflt: r.pick(pool), k1: this.const(t).v, k2: this.const(t).v };
      }
      default:
        return this.leaf(t);
    }
  }

  private callIndirect(t: T, d: number): Expr {
    const r = this.r;
    const p = this.g.p;
    const cands = this.g.callable(this).filter((j) => p.funcs[j]!.result === t);
    this.tick(2);
    const trapKind = r.int(100);
    if (!cands.length || trapKind < 1) {
      // A call that traps: a signature mismatch, a null slot or an index past the table.
      const type: FuncType = { params: [r.pick<T>(['i32', 'i64']), 'i32', 'i64', 'i64', 'i32'].slice(0, r.range(0, 5)) as ValType[], results: [t] };
      const mismatched = p.funcs.map((f, j) => ({ f, j })).filter(({ f }) => !sameSig(f, type)).map(({ j }) => j);
      const which = r.int(3);
      // (p.funcs holds only the functions made so far: the null slots are counted from the final table size.)
      const idx = which === 0 && mismatched.length ? r.pick(mismatched) : which === 1 ? p.tableSize - TABLE_EXTRA + r.int(TABLE_EXTRA) : p.tableSize + r.int(1000);
      if (!cands.length && r.chance(0.97)) return this.leaf(t);
      return { k: 'call_indirect', t, type, args: type.params.map((pt) => this.expr(pt as T, d - 2)), idx: { k: 'const', t: 'i32', v: BigInt(idx) } };
    }
    const j = r.pick(cands);
    const fj = p.funcs[j]!;
    const type: FuncType = { params: fj.params, results: fj.result ? [fj.result] : [] };
    this.cost += this.mult * fj.cost;
    let idx: Expr = { k: 'const', t: 'i32', v: BigInt(j) };
    const same = cands.filter((k) => sameSig(p.funcs[k]!, type) && k !== j);
    if (same.length && r.chance(0.4)) {
      const k = r.pick(same);
      this.cost += this.mult * p.funcs[k]!.cost;
      idx = { k: 'select', t: 'i32', a: idx, b: { k: 'const', t: 'i32', v: BigInt(k) }, c: this.expr('i32', d - 2), typed: false };
    }
    return { k: 'call_indirect', t, type, args: fj.params.map((pt) => this.expr(pt, d - 2)), idx };
  }

  private targets(withValue: boolean): Label[] {
    return this.labels.filter((l) => !(l as { noTarget?: boolean }).noTarget && (withValue ? l.result !== null && !l.loop : l.result === null));
  }

  stmts(n: number, d: number): Stmt[] {
    const out: Stmt[] = [];
    for (let i = 0; i < n; i++) out.push(this.stmt(d));
    return out;
  }

  stmt(d: number): Stmt {
    const r = this.r;
    const canNest = d >= 1;
    const kind = r.weighted<string>([
      [10, 'set'], [3, 'gset'], [7, 'store'], [2, 'astore'], [2, 'drop'], [1, 'nop'], [this.g.callable(this).length ? 2 : 0, 'call'],
      [canNest ? 4 : 0, 'if'], [canNest ? 3 : 0, 'block'], [canNest && this.mult <= 8 ? 3 : 0, 'loop'],
      [3, 'br_if'], [1, 'br'], [2, 'br_table'], [1, 'return'], [1, 'unreachable'], [1, 'fill'], [1, 'copy'], [1, 'fence'],
    ]);
    switch (kind) {
      case 'set': {
        const t: T = r.chance(0.5) ? 'i32' : 'i64';
        const ls = this.localsOf(t, true);
        this.tick();
        if (!ls.length) return { k: 'drop', v: this.expr(t, d + 1) };
        return { k: 'set', i: r.pick(ls), v: this.expr(t, d + 1) };
      }
      case 'gset': {
        const t: T = r.chance(0.5) ? 'i32' : 'i64';
        const gs = this.globalsOf(t, true);
        this.tick();
        if (!gs.length) return { k: 'nop' };
        return { k: 'gset', i: r.pick(gs), v: this.expr(t, d + 1) };
      }
      case 'store': case 'astore': {
        const t: T = r.chance(0.5) ? 'i32' : 'i64';
        const op = r.pick(kind === 'store' ? STORES[t] : ATOMIC_STORES[t]);
        this.tick();
        return { k: 'store', op, addr: this.addr(op, d, kind === 'astore'), v: this.expr(t, d + 1) };
      }
      case 'drop': this.tick(); return { k: 'drop', v: this.expr(r.chance(0.5) ? 'i32' : 'i64', d + 1) };
      case 'call': {
        const j = r.pick(this.g.callable(this));
        const fj = this.g.p.funcs[j]!;
        this.tick();
        this.cost += this.mult * fj.cost;
        return { k: 'call', f: j, args: fj.params.map((pt) => this.expr(pt, d)), dropResult: fj.result !== null };
      }
      case 'if': {
        const label = newLabel(null);
        this.tick(2);
        const c = this.expr('i32', d);
        this.labels.push(label);
        const then = this.stmts(r.range(1, 3), d - 1);
        const els = r.chance(0.5) ? this.stmts(r.range(1, 3), d - 1) : null;
        this.labels.pop();
        return { k: 'if', label, c, then, else: els };
      }
      case 'block': {
        const label = newLabel(null);
        this.tick(2);
        this.labels.push(label);
        const body = this.stmts(r.range(1, 4), d - 1);
        this.labels.pop();
        return { k: 'block', label, body };
      }
      case 'loop': {
        const n = r.weighted([[2, 0], [3, 1], [4, 2], [4, 3], [2, 4], [1, 7]]);
        const counter = this.f.params.length + this.f.locals.length;
        this.f.locals.push('i32');
        this.f.counters.add(counter);
        const brk = newLabel(null);
        const cont = newLabel(null, true);
        this.tick(10);
        const saved = this.mult;
        this.mult *= n + 1;
        this.labels.push(brk, cont);
        const body = this.stmts(r.range(1, 4), d - 1);
        this.labels.length -= 2;
        this.mult = saved;
        return { k: 'loop', counter, n, brk, cont, body };
      }
      case 'br_if': case 'br': {
        const withValue = r.chance(0.3);
        const ts = this.targets(withValue);
        if (!ts.length) return { k: 'nop' };
        const label = r.pick(ts);
        this.tick(2);
        const v = withValue ? this.expr(label.result!, d) : undefined;
        if (kind === 'br') return { k: 'br', label, v };
        return { k: 'br_if', label, c: this.expr('i32', d), v };
      }
      case 'br_table': {
        const withValue = r.chance(0.2);
        let ts = this.targets(withValue);
        if (withValue && ts.length) {
          const t0 = r.pick(ts).result;
          ts = ts.filter((l) => l.result === t0);
        }
        if (!ts.length) return { k: 'nop' };
        this.tick(3);
        const v = withValue ? this.expr(ts[0]!.result!, d) : undefined;
        let idx = this.expr('i32', d);
        if (r.chance(0.6)) idx = { k: 'bin', t: 'i32', op: 'i32.and', a: idx, b: { k: 'const', t: 'i32', v: BigInt(r.pick([1, 3, 7])) } };
        const targets = Array.from({ length: r.range(0, 6) }, () => r.pick(ts));
        return { k: 'br_table', targets, dflt: r.pick(ts), idx, v };
      }
      case 'return': {
        // Mostly guarded: an unconditional return ends the function early every time.
        if (r.chance(0.7)) {
          const label = newLabel(null);
          this.labels.push(label);
          const ret: Stmt = { k: 'return', v: this.f.result ? this.expr(this.f.result, d) : undefined };
          this.labels.pop();
          return { k: 'if', label, c: this.expr('i32', d), then: [ret], else: null };
        }
        this.tick();
        return { k: 'return', v: this.f.result ? this.expr(this.f.result, d) : undefined };
      }
      case 'unreachable': {
        // Always under a condition that is rarely true.
        const label = newLabel(null);
        const c: Expr = { k: 'bin', t: 'i32', op: 'i32.eq', a: this.expr('i32', d), b: { k: 'const', t: 'i32', v: BigInt(r.pick([0x1234567, -1, 7])) } };
        return { k: 'if', label, c, then: [{ k: 'unreachable' }], else: null };
      }
      case 'fill': case 'copy': {
        const base = this.g.p.base;
        const at = (mask: number): Expr => ({ k: 'bin', t: 'i32', op: 'i32.add',
          a: { k: 'bin', t: 'i32', op: 'i32.and', a: this.expr('i32', d), b: { k: 'const', t: 'i32', v: BigInt(mask) } }, b: { k: 'const', t: 'i32', v: BigInt(base | 0) } });
        const len: Expr = { k: 'bin', t: 'i32', op: 'i32.and', a: this.expr('i32', d), b: { k: 'const', t: 'i32', v: BigInt(r.pick([0x7, 0x1f, 0xff, 0x1ff])) } };
        this.tick(10);
        this.cost += this.mult * 64;
        if (kind === 'fill') return { k: 'fill', dst: at(0x7ff), val: this.expr('i32', d), len };
        return { k: 'copy', dst: at(0x7ff), src: at(0x7ff), len };
      }
      case 'fence': this.tick(); return { k: 'fence' };
      default: return { k: 'nop' };
    }
  }
}

const sameSig = (f: GenFunc, t: FuncType): boolean =>
  f.params.length === t.params.length && f.params.every((p, i) => p === t.params[i]) &&
  (f.result === null ? t.results.length === 0 : t.results.length === 1 && t.results[0] === f.result);

class ProgramBuilder {
  readonly p: GenProgram;
  private readonly budget: number;
  constructor(seed: number, base: number, private readonly r: Rng, opts: GenOptions) {
    const n = opts.funcs ?? 50;
    this.budget = opts.budget ?? 3000;
    const data = new Uint8Array(0x1000);
    for (let i = 0; i < data.length; i += 4) new DataView(data.buffer).setUint32(i, r.u32(), true);
    const globals: GenProgram['globals'] = [];
    const ng = r.range(2, 6);
    for (let i = 0; i < ng; i++) {
      const t: T = i % 2 === 0 ? 'i32' : 'i64';
      const edges = t === 'i32' ? I32_EDGES : I64_EDGES;
      globals.push({ t, mutable: i < ng - 1 || r.chance(0.5), init: BigInt.asIntN(t === 'i32' ? 32 : 64, r.chance(0.5) ? r.pick(edges) : r.u64()) });
    }
    this.p = { seed, base, funcs: [], globals, data, tableSize: n + TABLE_EXTRA, args: [] };
    for (let i = 0; i < n; i++) this.genFunc(i);
  }

  /** Functions `fb` may call: lower index, within the remaining budget. */
  callable(fb: FuncBuilder): number[] {
    const out: number[] = [];
    for (let j = 0; j < fb.index; j++) {
      if (fb.cost + fb.mult * this.p.funcs[j]!.cost <= this.budget) out.push(j);
    }
    return out;
  }

  private genFunc(i: number): void {
    const r = this.r;
    // Sometimes more parameters than argument registers (a0-a7), and many locals (register pressure, spills).
    const params = Array.from({ length: r.weighted([[2, 0], [3, 1], [3, 2], [2, 3], [1, 5], [1, r.range(8, 12)]]) }, () => r.pick<T>(['i32', 'i64']));
    const result = r.weighted<T | null>([[5, 'i32'], [5, 'i64'], [1, null]]);
    const locals = Array.from({ length: r.chance(0.15) ? r.range(10, 24) : r.range(0, 5) }, () => r.pick<T>(['i32', 'i64']));
    const f: GenFunc = { name: `f${i}`, params, result, locals, counters: new Set(), label: newLabel(result), body: [], cost: 0 };
    const fb = new FuncBuilder(this, r, i, f);
    f.body = fb.stmts(r.range(2, 5), r.range(2, 3));
    // Now and then a deep expression: many values live at once on the value stack, across calls.
    if (result) f.tail = fb.expr(result, r.chance(0.1) ? 5 : 3);
    f.cost = fb.cost + 20;
    this.p.funcs.push(f);
    this.p.args.push(params.map((t) => fb.const(t).v));
  }
}

export function generateProgram(seed: number, base: number, opts: GenOptions = {}): GenProgram {
  labelIds = 0;
  return new ProgramBuilder(seed, base, new Rng(seed), opts).p;
}

/** A deep copy that keeps Label objects shared (a copied branch must still target its label in scope). */
export function cloneExpr(e: Expr): Expr {
  const copy = (x: unknown): unknown => {
    if (typeof x !== 'object' || x === null || x instanceof Uint8Array) return x;
    if (Array.isArray(x)) return x.map(copy);
    if ('id' in x && 'loop' in x && 'result' in x) return x; // a Label
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, copy(v)]));
  };
  return copy(e) as Expr;
}

// ---------------------------------------------------------------------------
// Flattening into the module IR
// ---------------------------------------------------------------------------

const blockType = (t: T | null): FuncType => ({ params: [], results: t ? [t] : [] });

class Flattener {
  readonly out: Instr[] = [];
  private readonly labels: Label[] = [];
  constructor(private readonly types: FuncType[], private readonly nImports: number) {}

  private op(op: string, extra: Partial<Instr> = {}): void { this.out.push({ op, offset: 0, ...extra }); }
  private depth(l: Label): number {
    const i = this.labels.lastIndexOf(l);
    if (i < 0) throw new Error(`generator: label ${l.id} is not in scope`);
    return this.labels.length - 1 - i;
  }
  private c32(v: number | bigint): void { this.op('i32.const', { value: BigInt.asIntN(32, BigInt(v)) }); }

  func(f: GenFunc): Instr[] {
    this.labels.push(f.label);
    this.stmts(f.body);
    if (f.tail) this.expr(f.tail);
    this.labels.pop();
    this.op('end');
    return this.out;
  }

  private addr(a: Addr): void {
    if (a.mode === 'const') return this.c32(a.addr);
    this.expr(a.e!);
    this.c32(a.mask);
    this.op('i32.and');
    if (a.mode === 'masked') {
      this.c32(a.addr);
      this.op('i32.add');
    }
  }
  private mem(op: string, a: Addr): void { this.op(op, { align: a.align, memOffset: a.memOffset }); }

  stmts(ss: Stmt[]): void { for (const s of ss) this.stmt(s); }

  stmt(s: Stmt): void {
    switch (s.k) {
      case 'set': this.expr(s.v); this.op('local.set', { index: s.i }); break;
      case 'gset': this.expr(s.v); this.op('global.set', { index: s.i }); break;
      case 'store': this.addr(s.addr); this.expr(s.v); this.mem(s.op, s.addr); break;
      case 'drop': this.expr(s.v); this.op('drop'); break;
      case 'nop': this.op('nop'); break;
      case 'call':
        s.args.forEach((a) => this.expr(a));
        this.op('call', { index: this.nImports + s.f });
        if (s.dropResult) this.op('drop');
        break;
      case 'if':
        this.expr(s.c);
        this.op('if', { blockType: blockType(null) });
        this.labels.push(s.label);
        this.stmts(s.then);
        if (s.else) { this.op('else'); this.stmts(s.else); }
        this.labels.pop();
        this.op('end');
        break;
      case 'block':
        this.op('block', { blockType: blockType(null) });
        this.labels.push(s.label);
        this.stmts(s.body);
        this.labels.pop();
        this.op('end');
        break;
      case 'loop':
        // counter = n; block $brk loop $cont  counter -= 1; br_if $brk (counter < 0); body; br $cont  end end
        this.c32(s.n);
        this.op('local.set', { index: s.counter });
        this.op('block', { blockType: blockType(null) });
        this.labels.push(s.brk);
        this.op('loop', { blockType: blockType(null) });
        this.labels.push(s.cont);
        this.op('local.get', { index: s.counter });
        this.c32(1);
        this.op('i32.sub');
        this.op('local.tee', { index: s.counter });
        this.c32(0);
        this.op('i32.lt_s');
        this.op('br_if', { index: 1 });
        this.stmts(s.body);
        this.op('br', { index: 0 });
        this.labels.length -= 2;
        this.op('end');
        this.op('end');
        break;
      case 'br':
        if (s.v) this.expr(s.v);
        this.op('br', { index: this.depth(s.label) });
        break;
      case 'br_if':
        if (s.v) this.expr(s.v);
        this.expr(s.c);
        this.op('br_if', { index: this.depth(s.label) });
        if (s.v) this.op('drop');
        break;
      case 'br_table':
        if (s.v) this.expr(s.v);
        this.expr(s.idx);
        this.op('br_table', { labels: s.targets.map((l) => this.depth(l)), defaultLabel: this.depth(s.dflt) });
        break;
      case 'return':
        if (s.v) this.expr(s.v);
        this.op('return');
        break;
      case 'unreachable': this.op('unreachable'); break;
      case 'fill': this.expr(s.dst); this.expr(s.val); this.expr(s.len); this.op('memory.fill'); break;
      case 'copy': this.expr(s.dst); this.expr(s.src); this.expr(s.len); this.op('memory.copy'); break;
      case 'fence': this.op('atomic.fence'); break;
    }
  }

  expr(e: Expr): void {
    switch (e.k) {
      case 'const': this.op(`${e.t}.const`, { value: e.v }); break;
      case 'local.get': this.op('local.get', { index: e.i }); break;
      case 'global.get': this.op('global.get', { index: e.i }); break;
      case 'un': this.expr(e.a); this.op(e.op); break;
      case 'bin': this.expr(e.a); this.expr(e.b); this.op(e.op); break;
      case 'load': this.addr(e.addr); this.mem(e.op, e.addr); break;
      case 'rmw': this.addr(e.addr); this.expr(e.v); this.mem(e.op, e.addr); break;
      case 'cmpxchg': this.addr(e.addr); this.expr(e.e); this.expr(e.r); this.mem(e.op, e.addr); break;
      case 'select':
        this.expr(e.a); this.expr(e.b); this.expr(e.c);
        this.op('select', e.typed ? { selectType: [e.t] } : {});
        break;
      case 'tee': this.expr(e.a); this.op('local.tee', { index: e.i }); break;
      case 'call': e.args.forEach((a) => this.expr(a)); this.op('call', { index: this.nImports + e.f }); break;
      case 'call_indirect':
        e.args.forEach((a) => this.expr(a));
        this.expr(e.idx);
        this.op('call_indirect', { index: typeIndex(this.types, e.type), table: 0 });
        break;
      case 'block':
        this.op('block', { blockType: blockType(e.t) });
        this.labels.push(e.label);
        this.stmts(e.body);
        this.expr(e.tail);
        this.labels.pop();
        this.op('end');
        break;
      case 'loopv': {
        this.op('loop', { blockType: blockType(e.t) });
        const l = newLabel(null, true);
        this.labels.push(l);
        this.stmts(e.body);
        this.expr(e.tail);
        this.labels.pop();
        this.op('end');
        break;
      }
      case 'if':
        this.expr(e.c);
        this.op('if', { blockType: blockType(e.t) });
        this.labels.push(e.label);
        this.stmts(e.then);
        this.expr(e.thenV);
        this.op('else');
        this.stmts(e.else);
        this.expr(e.elseV);
        this.labels.pop();
        this.op('end');
        break;
      case 'brtable': {
        const [l0, l1, l2] = e.labels;
        this.op('block', { blockType: blockType(e.t) });
        this.labels.push(l0);
        this.op('block', { blockType: blockType(e.t) });
        this.labels.push(l1);
        this.op('block', { blockType: blockType(e.t) });
        this.labels.push(l2);
        this.expr(e.v);
        this.expr(e.idx);
        this.op('br_table', { labels: e.targets.map((l) => this.depth(l)), defaultLabel: this.depth(e.dflt) });
        this.labels.pop();
        this.op('end');
        this.op(`${e.t}.const`, { value: e.k1 });
        this.op(`${e.t}.xor`);
        this.labels.pop();
        this.op('end');
        this.op(`${e.t}.const`, { value: e.k2 });
        this.op(`${e.t}.add`);
        this.labels.pop();
        this.op('end');
        break;
      }
    }
  }
}

export interface BuiltModule {
  module: WasmModule;
  bytes: Uint8Array<ArrayBuffer>;
  /** Export name of the wrapper of f<k>, by k. */
  exports: string[];
}

/** Flatten and encode a program (the reduced copies too). Memory covers base + REGION_SIZE. */
export function buildModule(p: GenProgram): BuiltModule {
  const types: FuncType[] = [];
  const n = p.funcs.length;
  const funcs: WasmModule['funcs'] = [];
  const funcNames = new Map<number, string>();
  p.funcs.forEach((f, i) => {
    const type: FuncType = { params: f.params, results: f.result ? [f.result] : [] };
    const body = new Flattener(types, 0).func(f);
    funcs.push({ index: i, typeIndex: typeIndex(types, type), type, locals: [...f.locals], body, name: f.name, bodyOffset: 0 });
    funcNames.set(i, f.name);
  });
  // Wrappers: reset the globals, call, dump the globals, return the result as i64.
  const exports: WasmModule['exports'] = [];
  const names: string[] = [];
  const wrapType: FuncType = { params: [], results: ['i64'] };
  p.funcs.forEach((f, k) => {
    const body: Instr[] = [];
    const op = (o: string, extra: Partial<Instr> = {}): void => { body.push({ op: o, offset: 0, ...extra }); };
    p.globals.forEach((g, i) => { if (g.mutable) { op(`${g.t}.const`, { value: g.init }); op('global.set', { index: i }); } });
    p.args[k]!.forEach((v, i) => op(`${f.params[i]}.const`, { value: v }));
    op('call', { index: k });
    if (f.result === 'i32') op('i64.extend_i32_s');
    if (f.result === null) op('i64.const', { value: 0n });
    op('local.set', { index: 0 });
    p.globals.forEach((g, i) => {
      op('i32.const', { value: BigInt((p.base + DUMP_OFFSET + 8 * i) | 0) });
      op('global.get', { index: i });
      op(`${g.t}.store`, { align: g.t === 'i64' ? 3 : 2, memOffset: 0 });
    });
    op('local.get', { index: 0 });
    op('end');
    const index = n + k;
    const name = `case${k}`;
    funcs.push({ index, typeIndex: typeIndex(types, wrapType), type: wrapType, locals: ['i64'], body, name, bodyOffset: 0 });
    funcNames.set(index, name);
    exports.push({ name, kind: 'func', index });
    names.push(name);
  });
  // main(): the dispatcher, so that one image serves every case: br_table on the selector to `call case<k>; return`.
  {
    const body: Instr[] = [];
    const op = (o: string, extra: Partial<Instr> = {}): void => { body.push({ op: o, offset: 0, ...extra }); };
    for (let k = 0; k <= n; k++) op('block', { blockType: { params: [], results: [] } });
    op('i32.const', { value: BigInt((p.base + SELECTOR_OFFSET) | 0) });
    op('i32.load', { align: 2, memOffset: 0 });
    op('br_table', { labels: Array.from({ length: n }, (_, k) => k), defaultLabel: n });
    for (let k = 0; k < n; k++) {
      op('end');
      op('call', { index: n + k });
      op('return');
    }
    op('end');
    op('i64.const', { value: -1n });
    op('end');
    const index = 2 * n;
    funcs.push({ index, typeIndex: typeIndex(types, wrapType), type: wrapType, locals: [], body, name: 'main', bodyOffset: 0 });
    funcNames.set(index, 'main');
    exports.push({ name: 'main', kind: 'func', index });
  }
  exports.push({ name: 'memory', kind: 'memory', index: 0 });
  const pages = Math.ceil((p.base + 0x1_0000) / 0x1_0000);
  const module: WasmModule = {
    types,
    importFuncs: [],
    importOther: [],
    funcs,
    tables: [{ elemType: 'funcref', min: p.tableSize, max: p.tableSize }],
    memories: [{ min: pages, shared: false }],
    globals: p.globals.map((g, i) => ({ type: g.t, mutable: g.mutable, init: [{ op: `${g.t}.const`, offset: 0, value: g.init }], name: `g${i}` })),
    exports,
    elements: [{ mode: 'active', tableIndex: 0, offset: 0, funcs: p.funcs.map((_, i) => i) }],
    data: [{ mode: 'active', memoryIndex: 0, offset: p.base, bytes: p.data }],
    funcNames,
  };
  const bytes = encodeWasm(module);
  return { module, bytes, exports: names };
}

/** The functions f<k> may run (itself, its callees, the targets of its indirect calls). */
export function reachable(p: GenProgram, k: number): number[] {
  const seen = new Set<number>();
  const visit = (j: number): void => {
    if (seen.has(j) || !(j >= 0 && j < p.funcs.length)) return;
    seen.add(j);
    walkFunc(p.funcs[j]!, (node) => {
      if (node.k === 'call') visit(node.f);
      if (node.k === 'call_indirect') walkExpr(node.idx, (x) => { if (x.k === 'const') visit(Number(x.v)); });
    });
  };
  visit(k);
  return [...seen].sort((a, b) => a - b);
}

type Node = Expr | Stmt;
export function walkFunc(f: GenFunc, fn: (n: Node) => void): void {
  f.body.forEach((s) => walkStmt(s, fn));
  if (f.tail) walkExpr(f.tail, fn);
}
export function walkStmt(s: Stmt, fn: (n: Node) => void): void {
  fn(s);
  for (const c of childrenOfStmt(s)) (isStmt(c) ? walkStmt(c as Stmt, fn) : walkExpr(c as Expr, fn));
}
export function walkExpr(e: Expr, fn: (n: Node) => void): void {
  fn(e);
  for (const c of childrenOfExpr(e)) (isStmt(c) ? walkStmt(c as Stmt, fn) : walkExpr(c as Expr, fn));
}
/** Statements carry no type; expressions do. */
function isStmt(n: Node): boolean { return !('t' in n); }
function childrenOfStmt(s: Stmt): Node[] {
  switch (s.k) {
    case 'set': case 'gset': case 'drop': return [s.v];
    case 'store': return [...(s.addr.e ? [s.addr.e] : []), s.v];
    case 'call': return s.args;
    case 'if': return [s.c, ...s.then, ...(s.else ?? [])];
    case 'block': return s.body;
    case 'loop': return s.body;
    case 'br': case 'return': return s.v ? [s.v] : [];
    case 'br_if': return [...(s.v ? [s.v] : []), s.c];
    case 'br_table': return [...(s.v ? [s.v] : []), s.idx];
    case 'fill': return [s.dst, s.val, s.len];
    case 'copy': return [s.dst, s.src, s.len];
    default: return [];
  }
}
function childrenOfExpr(e: Expr): Node[] {
  switch (e.k) {
    case 'un': case 'tee': return [e.a];
    case 'bin': return [e.a, e.b];
    case 'load': return e.addr.e ? [e.addr.e] : [];
    case 'rmw': return [...(e.addr.e ? [e.addr.e] : []), e.v];
    case 'cmpxchg': return [...(e.addr.e ? [e.addr.e] : []), e.e, e.r];
    case 'select': return [e.a, e.b, e.c];
    case 'call': return e.args;
    case 'call_indirect': return [...e.args, e.idx];
    case 'block': case 'loopv': return [...e.body, e.tail];
    case 'if': return [e.c, ...e.then, e.thenV, ...e.else, e.elseV];
    case 'brtable': return [e.v, e.idx];
    default: return [];
  }
}
