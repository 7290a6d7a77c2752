/**
 * A small WebAssembly module writer: WasmModule → bytes, the inverse of
 * reader.ts (binary format, core spec 2.0 §5, threads proposal atomics).
 *
 * For tests and the random-program generator: it writes what it is given,
 * valid or not (an out-of-range index or an ill-typed body is encoded as
 * is, so that tests can check the reader's errors), and only refuses what
 * has no encoding (an unknown op, a block type absent from `types`).
 *
 * Round trip: readModule(encodeModule(m)) deep-equals m, offsets aside, for
 * any valid m whose `funcNames` holds every non-default function name (the
 * name section is written from `funcNames` plus each function whose `name`
 * is not `func<index>`).
 *
 * Encoding choices, where the format has several:
 *   - LEB128 integers in their shortest form;
 *   - block types as 0x40 / a value type when they fit, else the index of
 *     the first equal type in `types`;
 *   - element segments with function indices (flags 0–3) when every entry is
 *     a function of a funcref segment, else with expressions (flags 4–7);
 *   - a datacount section whenever there are data segments.
 */
import { ByteWriter } from './binary.js';
import { WasmError, type ElemSegment, type FuncType, type Instr, type Memory, type Table, type ValType, type WasmModule } from './module.js';
import { OPS_BY_NAME, SELECT_T, VALTYPE_CODE, type OpInfo } from './opcodes.js';
import { sameTypes } from './validate.js';

export interface EncodeOptions {
  /** Write the datacount section (default: when there are data segments). */
  dataCount?: boolean;
}

export function encodeModule(m: WasmModule, options: EncodeOptions = {}): Uint8Array<ArrayBuffer> {
  const out = new ByteWriter();
  out.bytes(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
  const section = (id: number, body: ByteWriter): void => {
    out.u8(id).sized(body);
  };
  const vec = <T>(items: readonly T[], each: (w: ByteWriter, item: T) => void): ByteWriter => {
    const w = new ByteWriter().u32(items.length);
    for (const item of items) each(w, item);
    return w;
  };

  // §5.5.4 type section
  if (m.types.length) {
    section(1, vec(m.types, (w, t) => {
      w.u8(0x60);
      valTypes(w, t.params);
      valTypes(w, t.results);
    }));
  }

  // §5.5.5 import section: functions first, then the others
  if (m.importFuncs.length || m.importOther.length) {
    const w = new ByteWriter().u32(m.importFuncs.length + m.importOther.length);
    for (const imp of m.importFuncs) w.name(imp.module).name(imp.name).u8(0).u32(imp.typeIndex);
    for (const imp of m.importOther) {
      w.name(imp.module).name(imp.name);
      if (imp.kind === 'table') tableType(w.u8(1), need(imp.table, imp));
      else if (imp.kind === 'memory') memoryType(w.u8(2), need(imp.memory, imp));
      else {
        const g = need(imp.global, imp);
        w.u8(3).u8(VALTYPE_CODE[g.type]).u8(g.mutable ? 1 : 0);
      }
    }
    section(2, w);
  }

  // §5.5.6 function section
  if (m.funcs.length) section(3, vec(m.funcs, (w, f) => w.u32(f.typeIndex)));
  // §5.5.7, §5.5.8
  if (m.tables.length) section(4, vec(m.tables, tableType));
  if (m.memories.length) section(5, vec(m.memories, memoryType));

  // §5.5.9 global section
  if (m.globals.length) {
    section(6, vec(m.globals, (w, g) => {
      w.u8(VALTYPE_CODE[g.type]).u8(g.mutable ? 1 : 0);
      expr(w, g.init, m.types);
    }));
  }

  // §5.5.10 export section
  if (m.exports.length) {
    const kinds = { func: 0, table: 1, memory: 2, global: 3 } as const;
    section(7, vec(m.exports, (w, e) => w.name(e.name).u8(kinds[e.kind]).u32(e.index)));
  }

  // §5.5.11 start section
  if (m.start !== undefined) section(8, new ByteWriter().u32(m.start));

  // §5.5.12 element section
  if (m.elements.length) section(9, vec(m.elements, (w, e) => elemSegment(w, e)));

  // §5.5.13 data count section
  if (options.dataCount ?? m.data.length > 0) section(12, new ByteWriter().u32(m.data.length));

  // §5.5.13 code section
  if (m.funcs.length) {
    section(10, vec(m.funcs, (w, f) => {
      const body = new ByteWriter();
      // Locals in runs of equal types.
      const runs: [number, ValType][] = [];
      for (const t of f.locals) {
        const last = runs[runs.length - 1];
        if (last && last[1] === t) last[0]++;
        else runs.push([1, t]);
      }
      body.u32(runs.length);
      for (const [n, t] of runs) body.u32(n).u8(VALTYPE_CODE[t]);
      for (const ins of f.body) instr(body, ins, m.types);
      w.sized(body);
    }));
  }

  // §5.5.14 data section
  if (m.data.length) {
    section(11, vec(m.data, (w, d) => {
      if (d.mode === 'passive') w.u32(1);
      else {
        if (d.memoryIndex === 0) w.u32(0);
        else w.u32(2).u32(d.memoryIndex);
        offsetExpr(w, d);
      }
      w.u32(d.bytes.length).bytes(d.bytes);
    }));
  }

  // §7.4 name section: function names (1) and global names (7)
  const names = new Map(m.funcNames);
  for (const f of m.funcs) if (f.name !== `func${f.index}`) names.set(f.index, f.name);
  const globalBase = m.importOther.filter((i) => i.kind === 'global').length;
  const globalNames = new Map<number, string>();
  m.globals.forEach((g, i) => {
    if (g.name !== `global${globalBase + i}`) globalNames.set(globalBase + i, g.name);
  });
  if (names.size || globalNames.size) {
    const w = new ByteWriter().name('name');
    const nameMap = (id: number, map: Map<number, string>): void => {
      if (!map.size) return;
      const sorted = [...map].sort((a, b) => a[0] - b[0]);
      w.u8(id).sized(vec(sorted, (v, [i, n]) => v.u32(i).name(n)));
    };
    nameMap(1, names);
    nameMap(7, globalNames);
    section(0, w);
  }
  if (m.sourceMappingURL !== undefined) section(0, new ByteWriter().name('sourceMappingURL').name(m.sourceMappingURL));
  return out.finish();
}

function need<T>(value: T | undefined, imp: { module: string; name: string; kind: string }): T {
  if (value === undefined) throw new WasmError(`import "${imp.module}"."${imp.name}": no ${imp.kind} type given`);
  return value;
}

function valTypes(w: ByteWriter, types: readonly ValType[]): void {
  w.u32(types.length);
  for (const t of types) w.u8(VALTYPE_CODE[t]);
}

function limits(w: ByteWriter, min: number, max: number | undefined, shared: boolean): void {
  w.u8((max !== undefined ? 1 : 0) | (shared ? 2 : 0)).u32(min);
  if (max !== undefined) w.u32(max);
}

function tableType(w: ByteWriter, t: Table): void {
  w.u8(VALTYPE_CODE[t.elemType]);
  limits(w, t.min, t.max, false);
}

function memoryType(w: ByteWriter, mem: Memory): void {
  limits(w, mem.min, mem.max, mem.shared);
}

/** An active segment's offset expression, then `end`. */
function offsetExpr(w: ByteWriter, seg: { offset?: number; offsetGlobal?: number }): void {
  if (seg.offsetGlobal !== undefined) w.u8(0x23).u32(seg.offsetGlobal);
  else w.u8(0x41).signed(BigInt.asIntN(32, BigInt(seg.offset ?? 0)));
  w.u8(0x0b);
}

function elemSegment(w: ByteWriter, e: ElemSegment): void {
  const type = e.elemType ?? 'funcref';
  const exprs = type !== 'funcref' || e.funcs.some((f) => f === null);
  const explicitTable = e.mode === 'active' && e.tableIndex !== 0;
  // Bit 0: passive or declarative; bit 1: explicit table index (active) or declarative; bit 2: expressions.
  const flags = (e.mode === 'active' ? (explicitTable ? 2 : 0) : e.mode === 'passive' ? 1 : 3) | (exprs ? 4 : 0);
  w.u32(flags);
  if (explicitTable) w.u32(e.tableIndex);
  if (e.mode === 'active') offsetExpr(w, e);
  if (flags & 3) {
    if (exprs) w.u8(VALTYPE_CODE[type]);
    else w.u8(0x00); // elemkind funcref
  }
  w.u32(e.funcs.length);
  for (const f of e.funcs) {
    if (!exprs) w.u32(f!);
    else if (f === null) w.u8(0xd0).u8(VALTYPE_CODE[type]).u8(0x0b);
    else w.u8(0xd2).u32(f).u8(0x0b);
  }
}

/** A constant expression and its `end`. */
function expr(w: ByteWriter, body: readonly Instr[], types: readonly FuncType[]): void {
  for (const ins of body) instr(w, ins, types);
  w.u8(0x0b);
}

/** One instruction (§5.4), its immediates taken from the Instr fields the opcode table names. */
export function instr(w: ByteWriter, ins: Instr, types: readonly FuncType[]): void {
  const info: OpInfo | undefined = ins.op === 'select' && ins.selectType ? SELECT_T : OPS_BY_NAME.get(ins.op);
  if (!info) throw new WasmError(`cannot encode unknown instruction "${ins.op}"`, ins.offset);
  if (info.code > 0xff) w.u8(info.code >> 8).u32(info.code & 0xff);
  else w.u8(info.code);
  const field = (v: number | undefined, what: string): number => {
    if (v === undefined) throw new WasmError(`cannot encode ${ins.op}: no ${what}`, ins.offset);
    return v;
  };
  switch (info.imm) {
    case 'none':
      break;
    case 'block':
      blockType(w, ins.blockType ?? { params: [], results: [] }, types, ins);
      break;
    case 'label':
    case 'func':
    case 'local':
    case 'global':
    case 'table':
    case 'data':
    case 'elem':
      w.u32(field(ins.index, 'index'));
      break;
    case 'br_table':
      w.u32((ins.labels ?? []).length);
      for (const l of ins.labels ?? []) w.u32(l);
      w.u32(field(ins.defaultLabel, 'default label'));
      break;
    case 'call_indirect':
      w.u32(field(ins.index, 'type index')).u32(ins.table ?? 0);
      break;
    case 'memarg':
      w.u32(field(ins.align, 'alignment')).u32(ins.memOffset ?? 0);
      break;
    case 'zero':
      w.u8(0);
      break;
    case 'zero2':
      w.u8(0).u8(0);
      break;
    case 'i32':
      w.signed(BigInt.asIntN(32, ins.value ?? 0n));
      break;
    case 'i64':
      w.signed(BigInt.asIntN(64, ins.value ?? 0n));
      break;
    case 'f32':
      w.floatBits(ins.value ?? 0n, 4);
      break;
    case 'f64':
      w.floatBits(ins.value ?? 0n, 8);
      break;
    case 'select_t':
      valTypes(w, ins.selectType ?? []);
      break;
    case 'reftype':
      w.u8(VALTYPE_CODE[ins.refType ?? 'funcref']);
      break;
    case 'data_zero':
      w.u32(field(ins.index, 'data index')).u8(0);
      break;
    case 'elem_table':
    case 'table_table':
      w.u32(field(ins.index, 'index')).u32(ins.table ?? 0);
      break;
  }
}

function blockType(w: ByteWriter, bt: FuncType, types: readonly FuncType[], ins: Instr): void {
  if (bt.params.length === 0 && bt.results.length === 0) {
    w.u8(0x40);
    return;
  }
  if (bt.params.length === 0 && bt.results.length === 1) {
    w.u8(VALTYPE_CODE[bt.results[0]!]);
    return;
  }
  const i = types.findIndex((t) => sameTypes(t.params, bt.params) && sameTypes(t.results, bt.results));
  if (i < 0) throw new WasmError(`cannot encode ${ins.op}: block type [${bt.params.join(' ')}] → [${bt.results.join(' ')}] is not in the type section`, ins.offset);
  w.signed(BigInt(i));
}
