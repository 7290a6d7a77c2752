/**
 * A small, independent WebAssembly binary encoder for the differential tests:
 * it writes the subset of the module IR (toolchain/wasm/module.ts) that the
 * generator builds — integer code, memory, atomics, bulk memory, tables,
 * globals, data and the `name` section. It is deliberately separate from
 * toolchain/wasm/encoder.ts so that the generated programs do not depend on
 * the code under test: V8 reads these bytes, and so does our reader.
 */
import type { FuncType, Instr, ValType, WasmModule } from '../../../toolchain/wasm/module.js';

/** Opcode bytes by text-format name (prefix bytes included). */
export const OPCODES: ReadonlyMap<string, number[]> = (() => {
  const m = new Map<string, number[]>();
  const one = (names: string[], first: number): void => names.forEach((n, i) => m.set(n, [first + i]));
  one(['unreachable', 'nop', 'block', 'loop', 'if', 'else'], 0x00);
  one(['end', 'br', 'br_if', 'br_table', 'return', 'call', 'call_indirect'], 0x0b);
  m.set('drop', [0x1a]);
  m.set('select', [0x1b]);
  m.set('select_t', [0x1c]);
  one(['local.get', 'local.set', 'local.tee', 'global.get', 'global.set'], 0x20);
  one([
    'i32.load', 'i64.load', 'f32.load', 'f64.load', 'i32.load8_s', 'i32.load8_u', 'i32.load16_s', 'i32.load16_u',
    'i64.load8_s', 'i64.load8_u', 'i64.load16_s', 'i64.load16_u', 'i64.load32_s', 'i64.load32_u',
    'i32.store', 'i64.store', 'f32.store', 'f64.store', 'i32.store8', 'i32.store16', 'i64.store8', 'i64.store16', 'i64.store32',
    'memory.size', 'memory.grow', 'i32.const', 'i64.const',
  ], 0x28);
  one(['i32.eqz', 'i32.eq', 'i32.ne', 'i32.lt_s', 'i32.lt_u', 'i32.gt_s', 'i32.gt_u', 'i32.le_s', 'i32.le_u', 'i32.ge_s', 'i32.ge_u'], 0x45);
  one(['i64.eqz', 'i64.eq', 'i64.ne', 'i64.lt_s', 'i64.lt_u', 'i64.gt_s', 'i64.gt_u', 'i64.le_s', 'i64.le_u', 'i64.ge_s', 'i64.ge_u'], 0x50);
  const arith = ['clz', 'ctz', 'popcnt', 'add', 'sub', 'mul', 'div_s', 'div_u', 'rem_s', 'rem_u', 'and', 'or', 'xor', 'shl', 'shr_s', 'shr_u', 'rotl', 'rotr'];
  one(arith.map((a) => `i32.${a}`), 0x67);
  one(arith.map((a) => `i64.${a}`), 0x79);
  m.set('i32.wrap_i64', [0xa7]);
  m.set('i64.extend_i32_s', [0xac]);
  m.set('i64.extend_i32_u', [0xad]);
  one(['i32.extend8_s', 'i32.extend16_s', 'i64.extend8_s', 'i64.extend16_s', 'i64.extend32_s'], 0xc0);
  m.set('memory.copy', [0xfc, 10]);
  m.set('memory.fill', [0xfc, 11]);
  m.set('memory.atomic.notify', [0xfe, 0x00]);
  m.set('memory.atomic.wait32', [0xfe, 0x01]);
  m.set('memory.atomic.wait64', [0xfe, 0x02]);
  m.set('atomic.fence', [0xfe, 0x03]);
  const at = (names: string[], first: number): void => names.forEach((n, i) => m.set(n, [0xfe, first + i]));
  at(['i32.atomic.load', 'i64.atomic.load', 'i32.atomic.load8_u', 'i32.atomic.load16_u', 'i64.atomic.load8_u', 'i64.atomic.load16_u', 'i64.atomic.load32_u',
    'i32.atomic.store', 'i64.atomic.store', 'i32.atomic.store8', 'i32.atomic.store16', 'i64.atomic.store8', 'i64.atomic.store16', 'i64.atomic.store32'], 0x10);
  const rmws = ['add', 'sub', 'and', 'or', 'xor', 'xchg', 'cmpxchg'];
  rmws.forEach((r, k) => at([`i32.atomic.rmw.${r}`, `i64.atomic.rmw.${r}`, `i32.atomic.rmw8.${r}_u`, `i32.atomic.rmw16.${r}_u`,
    `i64.atomic.rmw8.${r}_u`, `i64.atomic.rmw16.${r}_u`, `i64.atomic.rmw32.${r}_u`], 0x1e + 7 * k));
  return m;
})();

/** Memory instructions and their natural alignment (log2). */
export const MEM_ALIGN: ReadonlyMap<string, number> = (() => {
  const m = new Map<string, number>();
  const w = (op: string): number => {
    const bits = /(?:load|store|rmw)(8|16|32)/.exec(op)?.[1];
    if (bits) return Math.log2(Number(bits) / 8);
    return op.startsWith('i64') ? 3 : 2;
  };
  for (const op of OPCODES.keys()) {
    if (/\.(load|store)|atomic\.(rmw|load|store)|atomic\.wait|atomic\.notify/.test(op) && op !== 'memory.size') {
      m.set(op, op === 'memory.atomic.notify' ? 2 : op === 'memory.atomic.wait64' ? 3 : w(op));
    }
  }
  return m;
})();

class Bytes {
  readonly a: number[] = [];
  byte(b: number): void { this.a.push(b & 0xff); }
  bytes(b: ArrayLike<number>): void { for (let i = 0; i < b.length; i++) this.a.push(b[i]! & 0xff); }
  u32(v: number): void {
    let x = v >>> 0;
    do {
      let b = x & 0x7f;
      x >>>= 7;
      if (x !== 0) b |= 0x80;
      this.a.push(b);
    } while (x !== 0);
  }
  sleb(v: bigint): void {
    let x = v;
    for (;;) {
      const b = Number(x & 0x7fn);
      x >>= 7n;
      const done = (x === 0n && (b & 0x40) === 0) || (x === -1n && (b & 0x40) !== 0);
      this.a.push(done ? b : b | 0x80);
      if (done) return;
    }
  }
  name(s: string): void {
    const e = new TextEncoder().encode(s);
    this.u32(e.length);
    this.bytes(e);
  }
  vec<T>(items: readonly T[], f: (x: T) => void): void {
    this.u32(items.length);
    items.forEach(f);
  }
}

const VALTYPE: Record<ValType, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b, funcref: 0x70, externref: 0x6f };

function blockType(out: Bytes, t: FuncType | undefined): void {
  if (!t || (t.params.length === 0 && t.results.length === 0)) return out.byte(0x40);
  if (t.params.length === 0 && t.results.length === 1) return out.byte(VALTYPE[t.results[0]!]);
  throw new Error('the differential encoder writes only empty or single-result block types');
}

export function encodeInstr(out: Bytes, ins: Instr): void {
  const code = OPCODES.get(ins.op);
  if (!code) throw new Error(`encoder: unknown op ${ins.op}`);
  if (ins.op === 'select' && ins.selectType) {
    out.byte(0x1c);
    out.vec(ins.selectType, (t) => out.byte(VALTYPE[t]));
    return;
  }
  out.byte(code[0]!);
  if (code.length > 1) out.u32(code[1]!);
  switch (ins.op) {
    case 'block': case 'loop': case 'if': blockType(out, ins.blockType); break;
    case 'br': case 'br_if': case 'call': case 'local.get': case 'local.set': case 'local.tee': case 'global.get': case 'global.set':
      out.u32(ins.index!); break;
    case 'br_table': out.vec(ins.labels!, (l) => out.u32(l)); out.u32(ins.defaultLabel!); break;
    case 'call_indirect': out.u32(ins.index!); out.u32(ins.table ?? 0); break;
    case 'i32.const': out.sleb(BigInt.asIntN(32, ins.value!)); break;
    case 'i64.const': out.sleb(BigInt.asIntN(64, ins.value!)); break;
    case 'memory.size': case 'memory.grow': case 'memory.fill': out.byte(0); break;
    case 'memory.copy': out.byte(0); out.byte(0); break;
    case 'atomic.fence': out.byte(0); break;
    default:
      if (MEM_ALIGN.has(ins.op)) {
        out.u32(ins.align ?? MEM_ALIGN.get(ins.op)!);
        out.u32(ins.memOffset ?? 0);
      }
  }
}

function section(out: Bytes, id: number, body: Bytes): void {
  out.byte(id);
  out.u32(body.a.length);
  out.bytes(body.a);
}

const sameType = (a: FuncType, b: FuncType): boolean =>
  a.params.length === b.params.length && a.results.length === b.results.length &&
  a.params.every((p, i) => p === b.params[i]) && a.results.every((r, i) => r === b.results[i]);

/** The index of `t` in `types`, added when missing. */
export function typeIndex(types: FuncType[], t: FuncType): number {
  const i = types.findIndex((u) => sameType(u, t));
  if (i >= 0) return i;
  types.push(t);
  return types.length - 1;
}

/** Encode `m` (the subset described above). Instruction offsets in `m` are updated to the written positions. */
export function encodeWasm(m: WasmModule): Uint8Array<ArrayBuffer> {
  const out = new Bytes();
  out.bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  let s = new Bytes();
  s.vec(m.types, (t) => {
    s.byte(0x60);
    s.vec(t.params, (p) => s.byte(VALTYPE[p]));
    s.vec(t.results, (r) => s.byte(VALTYPE[r]));
  });
  section(out, 1, s);
  if (m.importFuncs.length > 0) {
    s = new Bytes();
    s.vec(m.importFuncs, (f) => { s.name(f.module); s.name(f.name); s.byte(0); s.u32(f.typeIndex); });
    section(out, 2, s);
  }
  s = new Bytes();
  s.vec(m.funcs, (f) => s.u32(f.typeIndex));
  section(out, 3, s);
  if (m.tables.length > 0) {
    s = new Bytes();
    s.vec(m.tables, (t) => {
      s.byte(VALTYPE[t.elemType]);
      if (t.max === undefined) { s.byte(0); s.u32(t.min); } else { s.byte(1); s.u32(t.min); s.u32(t.max); }
    });
    section(out, 4, s);
  }
  if (m.memories.length > 0) {
    s = new Bytes();
    s.vec(m.memories, (mem) => {
      const flags = (mem.max === undefined ? 0 : 1) | (mem.shared ? 2 : 0);
      s.byte(flags);
      s.u32(mem.min);
      if (mem.max !== undefined) s.u32(mem.max);
    });
    section(out, 5, s);
  }
  if (m.globals.length > 0) {
    s = new Bytes();
    s.vec(m.globals, (g) => {
      s.byte(VALTYPE[g.type]);
      s.byte(g.mutable ? 1 : 0);
      for (const ins of g.init) encodeInstr(s, ins);
      s.byte(0x0b);
    });
    section(out, 6, s);
  }
  s = new Bytes();
  s.vec(m.exports, (e) => { s.name(e.name); s.byte({ func: 0, table: 1, memory: 2, global: 3 }[e.kind]); s.u32(e.index); });
  section(out, 7, s);
  if (m.elements.length > 0) {
    s = new Bytes();
    s.vec(m.elements, (e) => {
      if (e.mode !== 'active' || e.tableIndex !== 0 || e.funcs.some((f) => f === null)) throw new Error('encoder: only active funcref elements in table 0');
      s.byte(0);
      s.byte(0x41); s.sleb(BigInt(e.offset ?? 0)); s.byte(0x0b);
      s.vec(e.funcs, (f) => s.u32(f!));
    });
    section(out, 9, s);
  }
  if (m.data.length > 0) {
    // DataCount (12) precedes Code: memory.copy/fill need no data index, but keep the section for data.drop-free modules valid anyway.
    s = new Bytes();
    s.u32(m.data.length);
    section(out, 12, s);
  }
  s = new Bytes();
  s.u32(m.funcs.length);
  for (const f of m.funcs) {
    const body = new Bytes();
    // Locals, run-length encoded.
    const runs: [number, ValType][] = [];
    for (const l of f.locals) {
      const last = runs[runs.length - 1];
      if (last && last[1] === l) last[0]++; else runs.push([1, l]);
    }
    body.vec(runs, ([n, t]) => { body.u32(n); body.byte(VALTYPE[t]); });
    const codeStart = body.a.length;
    const offs: number[] = [];
    for (const ins of f.body) {
      offs.push(body.a.length - codeStart);
      encodeInstr(body, ins);
    }
    f.bodyOffset = s.a.length; // relative to the code section payload; made absolute below
    s.u32(body.a.length);
    const codeAt = s.a.length + codeStart;
    f.body.forEach((ins, i) => { ins.offset = codeAt + offs[i]!; });
    s.bytes(body.a);
  }
  // Make offsets absolute: the code section payload starts after its id and size bytes.
  const sizeLen = new Bytes();
  sizeLen.u32(s.a.length);
  const payloadAt = out.a.length + 1 + sizeLen.a.length;
  for (const f of m.funcs) {
    f.bodyOffset += payloadAt;
    for (const ins of f.body) ins.offset += payloadAt;
  }
  section(out, 10, s);
  if (m.data.length > 0) {
    s = new Bytes();
    s.vec(m.data, (d) => {
      if (d.mode !== 'active' || d.memoryIndex !== 0) throw new Error('encoder: only active data in memory 0');
      s.byte(0);
      s.byte(0x41); s.sleb(BigInt((d.offset ?? 0) | 0)); s.byte(0x0b);
      s.u32(d.bytes.length);
      s.bytes(d.bytes);
    });
    section(out, 11, s);
  }
  if (m.funcNames.size > 0) {
    s = new Bytes();
    s.name('name');
    const sub = new Bytes();
    const names = [...m.funcNames.entries()].sort((a, b) => a[0] - b[0]);
    sub.vec(names, ([i, n]) => { sub.u32(i); sub.name(n); });
    s.byte(1);
    s.u32(sub.a.length);
    s.bytes(sub.a);
    section(out, 0, s);
  }
  return new Uint8Array(out.a);
}
