/**
 * The WebAssembly binary reader: bytes → WasmModule, validated.
 *
 * Core spec 2.0 §5 (binary format) and §3 (validation), plus the threads
 * proposal (0xFE atomics, shared memories). Sections are split first, the
 * `name` custom section is read before the others (it comes last in the
 * file, but function names are wanted in every error message), then the
 * standard sections are decoded in order, each checked as it is read:
 *
 *   magic, version
 *   ┌ type ─ import ─ function ─ table ─ memory ─ global ─ export ─ start ┐
 *   └ element ─ datacount ─ code ─ data ┘      (custom sections anywhere)
 *
 * Function bodies are decoded into flat `Instr` lists (decode.ts, from the
 * table of opcodes.ts) and typed by validate.ts instruction by instruction. Every problem — malformed bytes
 * (§5) or invalid module (§3) — is a WasmError whose one-line message names
 * the section or function and the byte offset:
 *
 *   in function "foo" at 0x1a3: i32.add expects i32 operand, got i64
 *
 * Implementation limits are V8's (limits.ts), so that the reader accepts
 * exactly what `WebAssembly.validate` accepts; a few features V8 has and this
 * toolchain does not (SIMD, exception handling, tail calls) are refused with
 * "… is not supported".
 */
import { ByteReader } from './binary.js';
import {
  WasmError,
  type DataSegment,
  type ElemSegment,
  type Export,
  type Func,
  type FuncType,
  type Global,
  type ImportFunc,
  type Instr,
  type Memory,
  type Table,
  type ValType,
  type WasmModule,
} from './module.js';
import { decodeInstr, readRefType, readValType } from './decode.js';
import { LIMITS } from './limits.js';
import { FuncValidator, type ValidationContext } from './validate.js';


/** Section ids (§5.5.2) and their required order. */
const SECTION_NAMES: Record<number, string> = {
  0: 'custom',
  1: 'type',
  2: 'import',
  3: 'function',
  4: 'table',
  5: 'memory',
  6: 'global',
  7: 'export',
  8: 'start',
  9: 'element',
  10: 'code',
  11: 'data',
  12: 'datacount',
};
/** Position of each standard section in the order of §5.5.16 (datacount sits between element and code). */
const SECTION_ORDER: Record<number, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9, 12: 10, 10: 11, 11: 12 };

interface Section {
  id: number;
  /** Offset of the id byte. */
  offset: number;
  start: number;
  end: number;
  /** Custom sections: the name. */
  name?: string;
}

/** Read and validate a module. Throws WasmError on any malformed or invalid input. */
export function readModule(bytes: Uint8Array): WasmModule {
  try {
    return new ModuleReader(bytes).read();
  } catch (e) {
    if (e instanceof WasmError) throw e;
    // A bug in the reader, never expected: keep the promise that only WasmError escapes.
    throw new WasmError(`internal error in the wasm reader: ${e instanceof Error ? e.message : String(e)}`);
  }
}

class ModuleReader {
  private readonly r: ByteReader;
  private readonly m: WasmModule = {
    types: [],
    importFuncs: [],
    importOther: [],
    funcs: [],
    tables: [],
    memories: [],
    globals: [],
    exports: [],
    elements: [],
    data: [],
    funcNames: new Map(),
  };
  /** Index spaces, imports included (§2.5.1). */
  private funcTypes: FuncType[] = [];
  private funcTypeIndices: number[] = [];
  private tables: Table[] = [];
  private memoryCount = 0;
  private globalTypes: { type: ValType; mutable: boolean; imported: boolean }[] = [];
  private globalNames = new Map<number, string>();
  private refs = new Set<number>();
  private dataCount: number | undefined;
  private declaredFuncs = 0;

  constructor(private readonly bytes: Uint8Array) {
    this.r = new ByteReader(bytes);
  }

  read(): WasmModule {
    const sections = this.split();
    const nameSection = sections.find((s) => s.id === 0 && s.name === 'name');
    if (nameSection) this.readNames(nameSection);
    const seen = new Set<number>();
    for (const s of sections) {
      if (s.id === 0) {
        if (s.name === 'sourceMappingURL') this.readSourceMappingURL(s);
        continue;
      }
      seen.add(s.id);
      this.r.pos = s.start;
      this.r.end = s.end;
      this.r.context = `in section "${SECTION_NAMES[s.id]}"`;
      this.r.func = undefined;
      this.readSection(s);
      if (this.r.pos !== s.end) this.r.fail(`section size mismatch: ${s.end - this.r.pos} bytes left over`);
    }
    this.r.context = '';
    this.r.end = this.bytes.length;
    if (!seen.has(10) && this.declaredFuncs !== 0) {
      this.r.fail(`the function section declares ${this.declaredFuncs} functions but there is no code section`, this.bytes.length);
    }
    if (!seen.has(11) && this.dataCount !== undefined && this.dataCount !== 0) {
      this.r.fail(`the data count section says ${this.dataCount} segments but there is no data section`, this.bytes.length);
    }
    return this.m;
  }

  // ── module structure (§5.5.15, §5.5.16) ───────────────────────────────

  private split(): Section[] {
    const r = this.r;
    const magic = r.take(4, 'magic number');
    if (magic[0] !== 0x00 || magic[1] !== 0x61 || magic[2] !== 0x73 || magic[3] !== 0x6d) r.fail('not a wasm module: bad magic number', 0);
    const version = r.take(4, 'version');
    if (version[0] !== 1 || version[1] !== 0 || version[2] !== 0 || version[3] !== 0) r.fail('unsupported wasm version (expected 1)', 4);
    const sections: Section[] = [];
    let lastOrder = 0;
    while (!r.atEnd()) {
      const offset = r.pos;
      const id = r.u8('section id');
      const size = r.u32('section size');
      if (size > r.remaining()) r.fail(`section size ${size} is larger than the bytes left (${r.remaining()})`, offset);
      const section: Section = { id, offset, start: r.pos, end: r.pos + size };
      if (id === 0) {
        const saved = r.end;
        r.end = section.end;
        r.context = 'in a custom section';
        section.name = r.name('custom section name');
        r.context = '';
        r.end = saved;
        section.start = r.pos;
      } else {
        if (id === 13) r.fail('the tag section (exception handling) is not supported', offset);
        const order = SECTION_ORDER[id];
        if (order === undefined) r.fail(`unknown section id ${id}`, offset);
        if (order <= lastOrder) r.fail(`section "${SECTION_NAMES[id]}" is out of order or duplicated`, offset);
        lastOrder = order;
      }
      r.pos = section.end;
      sections.push(section);
    }
    return sections;
  }

  private readSection(s: Section): void {
    switch (s.id) {
      case 1: return this.readTypes();
      case 2: return this.readImports();
      case 3: return this.readFunctions();
      case 4: return this.readTables();
      case 5: return this.readMemories();
      case 6: return this.readGlobals();
      case 7: return this.readExports();
      case 8: return this.readStart();
      case 9: return this.readElements();
      case 12: return this.readDataCount();
      case 10: return this.readCode();
      case 11: return this.readData();
    }
  }

  // ── types (§5.3) ──────────────────────────────────────────────────────

  private valType(what = 'value type'): ValType {
    return readValType(this.r, what);
  }

  private refType(what = 'reference type'): ValType {
    return readRefType(this.r, what);
  }

  /** limits (§5.3.7); `shared` allowed for memories (threads proposal: flag 0x02, needs a maximum). */
  private limits(what: 'table' | 'memory', maxValue: number): { min: number; max?: number; shared: boolean } {
    const r = this.r;
    const at = r.pos;
    const flags = r.u8('limits flags');
    const validFlags = what === 'memory' ? [0, 1, 2, 3] : [0, 1];
    if (!validFlags.includes(flags)) r.fail(`invalid ${what} limits flags 0x${flags.toString(16)}`, at);
    const minAt = r.pos;
    const min = r.u32(`${what} minimum`);
    let max: number | undefined;
    const maxAt = r.pos;
    if (flags & 1) max = r.u32(`${what} maximum`);
    const shared = (flags & 2) !== 0;
    if (shared && max === undefined) r.fail('a shared memory must have a maximum', at);
    if (min > maxValue) r.fail(`${what} minimum ${min} is larger than the limit ${maxValue}`, minAt);
    if (max !== undefined && max > maxValue && what === 'memory') r.fail(`memory maximum ${max} is larger than the limit ${maxValue}`, maxAt);
    if (max !== undefined && max < min) r.fail(`${what} maximum ${max} is smaller than the minimum ${min}`, maxAt);
    return max === undefined ? { min, shared } : { min, max, shared };
  }

  private tableType(): Table {
    const elemType = this.refType('table element type');
    // V8 checks table sizes against its limit only when instantiating, so any u32 validates.
    const { min, max } = this.limits('table', 0xffff_ffff);
    const t: Table = { elemType, min };
    if (max !== undefined) t.max = max;
    return t;
  }

  private memoryType(): Memory {
    const at = this.r.pos;
    if (this.memoryCount >= 1) this.r.fail('at most one memory is allowed', at);
    this.memoryCount++;
    const { min, max, shared } = this.limits('memory', LIMITS.memoryPages);
    const mem: Memory = { min, shared };
    if (max !== undefined) mem.max = max;
    return mem;
  }

  private globalType(): { type: ValType; mutable: boolean } {
    const type = this.valType();
    const at = this.r.pos;
    const mut = this.r.u8('global mutability');
    if (mut > 1) this.r.fail(`invalid global mutability ${mut}`, at);
    return { type, mutable: mut === 1 };
  }

  private typeIndex(): number {
    const at = this.r.pos;
    const i = this.r.u32('type index');
    if (i >= this.m.types.length) this.r.fail(`type index ${i} is out of range (${this.m.types.length} types)`, at);
    return i;
  }

  private funcIndex(what = 'function index'): number {
    const at = this.r.pos;
    const i = this.r.u32(what);
    if (i >= this.funcTypes.length) this.r.fail(`${what} ${i} is out of range (${this.funcTypes.length} functions)`, at);
    return i;
  }

  // ── sections ──────────────────────────────────────────────────────────

  /** §5.5.4 */
  private readTypes(): void {
    const r = this.r;
    const n = r.count('types', LIMITS.types, 3);
    for (let i = 0; i < n; i++) {
      const at = r.pos;
      const form = r.u8('type form');
      if (form !== 0x60) r.fail(`invalid function type form 0x${form.toString(16)} (expected 0x60)`, at);
      const np = r.count('parameters', LIMITS.params);
      const params: ValType[] = [];
      for (let j = 0; j < np; j++) params.push(this.valType());
      const nr = r.count('results', LIMITS.results);
      const results: ValType[] = [];
      for (let j = 0; j < nr; j++) results.push(this.valType());
      this.m.types.push({ params, results });
    }
  }

  /** §5.5.5 */
  private readImports(): void {
    const r = this.r;
    const n = r.count('imports', LIMITS.imports, 4);
    for (let i = 0; i < n; i++) {
      const module = r.name('import module name');
      const name = r.name('import name');
      const at = r.pos;
      const kind = r.u8('import kind');
      switch (kind) {
        case 0: {
          const typeIndex = this.typeIndex();
          const imp: ImportFunc = { module, name, typeIndex };
          this.m.importFuncs.push(imp);
          this.funcTypes.push(this.m.types[typeIndex]!);
          this.funcTypeIndices.push(typeIndex);
          break;
        }
        case 1: {
          const table = this.tableType();
          this.tables.push(table);
          this.m.importOther.push({ module, name, kind: 'table', table });
          break;
        }
        case 2: {
          const memory = this.memoryType();
          this.m.importOther.push({ module, name, kind: 'memory', memory });
          break;
        }
        case 3: {
          const global = this.globalType();
          this.globalTypes.push({ ...global, imported: true });
          this.m.importOther.push({ module, name, kind: 'global', global });
          break;
        }
        default:
          r.fail(kind === 4 ? 'tag imports (exception handling) are not supported' : `invalid import kind ${kind}`, at);
      }
    }
  }

  /** §5.5.6 */
  private readFunctions(): void {
    const r = this.r;
    const n = r.count('functions', LIMITS.funcs);
    if (this.funcTypes.length + n > LIMITS.funcs) r.fail(`too many functions (implementation limit ${LIMITS.funcs})`);
    for (let i = 0; i < n; i++) {
      const t = this.typeIndex();
      this.funcTypes.push(this.m.types[t]!);
      this.funcTypeIndices.push(t);
    }
    this.declaredFuncs = n;
  }

  /** §5.5.7 */
  private readTables(): void {
    const n = this.r.count('tables', LIMITS.tables, 3);
    if (this.tables.length + n > LIMITS.tables) this.r.fail(`too many tables (implementation limit ${LIMITS.tables})`);
    for (let i = 0; i < n; i++) {
      const t = this.tableType();
      this.tables.push(t);
      this.m.tables.push(t);
    }
  }

  /** §5.5.8 */
  private readMemories(): void {
    const n = this.r.count('memories', 0xffff_ffff, 2);
    for (let i = 0; i < n; i++) this.m.memories.push(this.memoryType());
  }

  /** §5.5.9 */
  private readGlobals(): void {
    const r = this.r;
    const n = r.count('globals', LIMITS.globals, 3);
    if (this.globalTypes.length + n > LIMITS.globals) r.fail(`too many globals (implementation limit ${LIMITS.globals})`);
    for (let i = 0; i < n; i++) {
      const index = this.globalTypes.length;
      const { type, mutable } = this.globalType();
      const init = this.constExpr(type, `the initialiser of global ${index}`);
      this.globalTypes.push({ type, mutable, imported: false });
      this.m.globals.push({ type, mutable, init, name: this.globalNames.get(index) ?? `global${index}` } satisfies Global);
    }
  }

  /** §5.5.10 */
  private readExports(): void {
    const r = this.r;
    const n = r.count('exports', LIMITS.exports, 3);
    const names = new Set<string>();
    const kinds = ['func', 'table', 'memory', 'global'] as const;
    for (let i = 0; i < n; i++) {
      const nameAt = r.pos;
      const name = r.name('export name');
      if (names.has(name)) r.fail(`duplicate export name "${name}"`, nameAt);
      names.add(name);
      const kindAt = r.pos;
      const k = r.u8('export kind');
      if (k === 4) r.fail('tag exports (exception handling) are not supported', kindAt);
      const kind = kinds[k];
      if (kind === undefined) r.fail(`invalid export kind ${k}`, kindAt);
      const at = r.pos;
      const index = r.u32('export index');
      const space = { func: this.funcTypes.length, table: this.tables.length, memory: this.memoryCount, global: this.globalTypes.length }[kind];
      if (index >= space) r.fail(`exported ${kind} index ${index} is out of range (${space})`, at);
      if (kind === 'func') this.refs.add(index);
      this.m.exports.push({ name, kind, index } satisfies Export);
    }
  }

  /** §5.5.11 */
  private readStart(): void {
    const at = this.r.pos;
    const f = this.funcIndex('start function index');
    const t = this.funcTypes[f]!;
    if (t.params.length || t.results.length) this.r.fail(`the start function ${f} must have type [] → []`, at);
    this.m.start = f;
  }

  /** §5.5.12: eight encodings, by the flags' bits (0: passive/declarative, 1: explicit table or declarative, 2: expressions). */
  private readElements(): void {
    const r = this.r;
    const n = r.count('element segments', LIMITS.elemSegments);
    for (let i = 0; i < n; i++) {
      const flagsAt = r.pos;
      const flags = r.u32('element segment flags');
      if (flags > 7) r.fail(`invalid element segment flags ${flags}`, flagsAt);
      const seg: ElemSegment = { mode: 'active', tableIndex: 0, funcs: [] };
      if (flags & 1) seg.mode = flags & 2 ? 'declarative' : 'passive';
      let tableAt = r.pos;
      if ((flags & 3) === 2) {
        tableAt = r.pos;
        seg.tableIndex = r.u32('table index');
      }
      if (seg.mode === 'active') {
        if (seg.tableIndex >= this.tables.length) r.fail(`table index ${seg.tableIndex} is out of range (${this.tables.length} tables)`, tableAt);
        this.segmentOffset(seg, `the offset of element segment ${i}`);
      }
      const exprs = (flags & 4) !== 0;
      let elemType: ValType = 'funcref';
      if (flags & 3) {
        // An elemkind (0x00 = funcref) or, for expression encodings, a reftype.
        if (exprs) elemType = this.refType('element type');
        else {
          const at = r.pos;
          const kind = r.u8('element kind');
          if (kind !== 0) r.fail(`invalid element kind ${kind}`, at);
        }
      }
      const count = r.count('elements', LIMITS.tableInit);
      for (let j = 0; j < count; j++) {
        if (!exprs) {
          const f = this.funcIndex();
          this.refs.add(f);
          seg.funcs.push(f);
          continue;
        }
        const [e] = this.constExpr(elemType, `element ${j} of segment ${i}`);
        if (e?.op === 'ref.func') {
          this.refs.add(e.index!);
          seg.funcs.push(e.index!);
        } else if (e?.op === 'ref.null') seg.funcs.push(null);
        else r.fail(`element ${j} of segment ${i}: global.get in element expressions is not supported`, e?.offset);
      }
      if (seg.mode === 'active') {
        const table = this.tables[seg.tableIndex]!;
        if (table.elemType !== elemType) r.fail(`element segment ${i} of type ${elemType} does not match table ${seg.tableIndex} of type ${table.elemType}`, flagsAt);
      }
      if (elemType !== 'funcref') seg.elemType = elemType;
      this.m.elements.push(seg);
    }
  }

  /** §5.5.13 */
  private readDataCount(): void {
    this.dataCount = this.r.u32('data count');
  }

  /** §5.5.14 */
  private readData(): void {
    const r = this.r;
    const countAt = r.pos;
    const n = r.count('data segments', LIMITS.dataSegments);
    if (this.dataCount !== undefined && n !== this.dataCount) r.fail(`${n} data segments, but the data count section says ${this.dataCount}`, countAt);
    for (let i = 0; i < n; i++) {
      const flagsAt = r.pos;
      const flags = r.u32('data segment flags');
      if (flags > 2) r.fail(`invalid data segment flags ${flags}`, flagsAt);
      const seg: DataSegment = { mode: flags === 1 ? 'passive' : 'active', memoryIndex: 0, bytes: new Uint8Array() };
      if (flags === 2) seg.memoryIndex = r.u32('memory index');
      if (seg.mode === 'active') {
        if (seg.memoryIndex >= this.memoryCount) r.fail(`data segment ${i}: memory index ${seg.memoryIndex} is out of range (${this.memoryCount} memories)`, flagsAt);
        this.segmentOffset(seg, `the offset of data segment ${i}`);
      }
      const len = r.u32('data segment size');
      seg.bytes = r.take(len, 'data segment bytes').slice();
      this.m.data.push(seg);
    }
  }

  /** The i32 offset expression of an active segment: a constant or a global.get. */
  private segmentOffset(seg: ElemSegment | DataSegment, what: string): void {
    const [e] = this.constExpr('i32', what);
    if (e?.op === 'i32.const') seg.offset = Number(BigInt.asUintN(32, e.value!));
    else if (e?.op === 'global.get') seg.offsetGlobal = e.index!;
  }

  // ── constant expressions (§3.3.10, §5.4.9) ────────────────────────────

  /**
   * A constant expression producing one `type`, up to and including its
   * `end` (which is not returned). Allowed: t.const, ref.null, ref.func, and
   * global.get of an imported immutable global.
   */
  private constExpr(type: ValType, what: string): Instr[] {
    const r = this.r;
    const out: Instr[] = [];
    const stack: ValType[] = [];
    for (;;) {
      const { ins } = decodeInstr(this.r, this.m.types);
      if (ins.op === 'end') break;
      let t: ValType;
      switch (ins.op) {
        case 'i32.const': t = 'i32'; break;
        case 'i64.const': t = 'i64'; break;
        case 'f32.const': t = 'f32'; break;
        case 'f64.const': t = 'f64'; break;
        case 'ref.null': t = ins.refType!; break;
        case 'ref.func':
          if (ins.index! >= this.funcTypes.length) r.fail(`${what}: function index ${ins.index} is out of range (${this.funcTypes.length} functions)`, ins.offset);
          this.refs.add(ins.index!);
          t = 'funcref';
          break;
        case 'global.get': {
          const g = this.globalTypes[ins.index!];
          if (!g) r.fail(`${what}: global index ${ins.index} is out of range (${this.globalTypes.length} globals)`, ins.offset);
          if (!g.imported) r.fail(`${what}: global.get of global ${ins.index}, which is not imported`, ins.offset);
          if (g.mutable) r.fail(`${what}: global.get of mutable global ${ins.index}`, ins.offset);
          t = g.type;
          break;
        }
        default:
          return r.fail(`${what}: ${ins.op} is not allowed in a constant expression`, ins.offset);
      }
      stack.push(t);
      out.push(ins);
    }
    if (stack.length !== 1 || stack[0] !== type) r.fail(`${what} must produce one ${type}, got [${stack.join(' ')}]`);
    return out;
  }

  // ── code (§5.5.13, §5.4) ──────────────────────────────────────────────

  private readCode(): void {
    const r = this.r;
    const countAt = r.pos;
    const n = r.count('function bodies', LIMITS.funcs);
    if (n !== this.declaredFuncs) r.fail(`${n} function bodies, but the function section declares ${this.declaredFuncs}`, countAt);
    const ctx: ValidationContext = {
      types: this.m.types,
      funcs: this.funcTypes,
      tables: this.tables,
      memories: this.memoryCount,
      globals: this.globalTypes,
      elems: this.m.elements.map((e) => e.elemType ?? 'funcref'),
      dataCount: this.dataCount,
      refs: this.refs,
    };
    const section = this.r.context;
    const sectionEnd = r.end;
    const imported = this.m.importFuncs.length;
    for (let i = 0; i < n; i++) {
      const index = imported + i;
      const name = this.m.funcNames.get(index) ?? `func${index}`;
      const bodyOffset = r.pos;
      const size = r.u32('function body size');
      if (size > r.remaining()) r.fail(`function body size ${size} is larger than the bytes left (${r.remaining()})`, bodyOffset);
      if (size > LIMITS.functionSize) r.fail(`function body of ${size} bytes is larger than the limit ${LIMITS.functionSize}`, bodyOffset);
      r.end = r.pos + size;
      r.context = `in function "${name}"`;
      r.func = name;
      const type = this.funcTypes[index]!;
      const locals = this.locals(type.params.length);
      const body: Instr[] = [];
      const v = new FuncValidator(ctx, [...type.params, ...locals], type.results, (msg, at) => r.fail(msg, at));
      while (!v.done) {
        if (r.atEnd()) r.fail('unexpected end of the function body (missing end)');
        const { ins, info } = decodeInstr(r, this.m.types);
        v.step(ins, info);
        body.push(ins);
      }
      if (!r.atEnd()) r.fail(`${r.remaining()} bytes after the end of the function body`);
      r.end = sectionEnd;
      r.context = section;
      r.func = undefined;
      this.m.funcs.push({ index, typeIndex: this.funcTypeIndices[index]!, type, locals, body, name, bodyOffset } satisfies Func);
    }
  }

  private locals(params: number): ValType[] {
    const r = this.r;
    const groups = r.count('local declarations', 0xffff_ffff, 2);
    const out: ValType[] = [];
    let total = params;
    for (let i = 0; i < groups; i++) {
      const at = r.pos;
      const n = r.u32('local count');
      total += n;
      if (total > LIMITS.locals) r.fail(`too many locals (${total}, implementation limit ${LIMITS.locals})`, at);
      const t = this.valType('local type');
      for (let j = 0; j < n; j++) out.push(t);
    }
    return out;
  }

  // ── custom sections (§7.4 name section; the sourceMappingURL convention) ──

  /**
   * Function names (subsection 1) and global names (subsection 7, from the
   * extended-name-section proposal). A malformed name section is ignored, as
   * §7.4 allows, so it never makes a module invalid.
   */
  private readNames(s: Section): void {
    const r = new ByteReader(this.bytes, s.start, s.end);
    const funcs = new Map<number, string>();
    const globals = new Map<number, string>();
    try {
      while (!r.atEnd()) {
        const id = r.u8();
        const size = r.u32();
        const end = r.pos + size;
        if (end > s.end) return;
        if (id === 1 || id === 7) {
          const map = id === 1 ? funcs : globals;
          const n = r.count('names');
          for (let i = 0; i < n; i++) {
            const idx = r.u32();
            map.set(idx, r.name());
          }
        }
        r.pos = end;
      }
    } catch (e) {
      if (e instanceof WasmError) return;
      throw e;
    }
    this.m.funcNames = funcs;
    this.globalNames = globals;
  }

  private readSourceMappingURL(s: Section): void {
    const r = new ByteReader(this.bytes, s.start, s.end);
    try {
      this.m.sourceMappingURL = r.name();
    } catch (e) {
      if (!(e instanceof WasmError)) throw e;
    }
  }
}
