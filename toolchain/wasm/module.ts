/**
 * The in-memory form of a WebAssembly module, as the reader produces it and
 * the code generator consumes it (WebAssembly core spec 2.0 with the threads
 * proposal; section numbers below are the binary format's, §5).
 *
 * Function bodies are kept as a flat list of instructions in binary order,
 * structured instructions included (`block`, `loop`, `if`, `else`, `end`),
 * each with the byte offset of its opcode in the module, so that errors and
 * the line table can name the exact place.
 */

export type NumType = 'i32' | 'i64' | 'f32' | 'f64';
export type ValType = NumType | 'v128' | 'funcref' | 'externref';

export interface FuncType {
  params: ValType[];
  results: ValType[];
}

/** An instruction. `op` is the text-format name: 'i32.add', 'br_table', 'memory.atomic.notify' … */
export interface Instr {
  op: string;
  /** Byte offset of the opcode (its first prefix byte) from the start of the module. */
  offset: number;
  /** local/global/function/type index, label depth (br, br_if), table index (table.*), data/elem index. */
  index?: number;
  /**
   * call_indirect: the table index (index holds the type index).
   * table.init: the table (index holds the element segment); table.copy: the
   * source table (index holds the destination).
   */
  table?: number;
  /** i32.const / i64.const, sign-extended to 64 bits. f32/f64 consts keep their raw bits here. */
  value?: bigint;
  /** memarg: log2 of the alignment, and the static offset. */
  align?: number;
  memOffset?: number;
  /** block / loop / if: the block type. */
  blockType?: FuncType;
  /** br_table: the label depths and the default. */
  labels?: number[];
  defaultLabel?: number;
  /** select with a type annotation. */
  selectType?: ValType[];
  /** ref.null: the reference type. */
  refType?: ValType;
}

export interface ImportFunc {
  module: string;
  name: string;
  typeIndex: number;
}

export interface Func {
  /** Index in the function index space (imports first). */
  index: number;
  typeIndex: number;
  type: FuncType;
  /** Declared locals, after the parameters. */
  locals: ValType[];
  body: Instr[];
  /** From the name section, or `func<index>`. */
  name: string;
  /** Byte offset of the body (its size field) in the module. */
  bodyOffset: number;
}

export interface Global {
  type: ValType;
  mutable: boolean;
  /** The constant initialiser: i32.const/i64.const value, or a global.get of an import (without the final `end`). */
  init: Instr[];
  name: string;
}

export interface Table {
  elemType: ValType;
  min: number;
  max?: number;
}

export interface Memory {
  min: number;
  max?: number;
  shared: boolean;
}

export interface Export {
  name: string;
  kind: 'func' | 'table' | 'memory' | 'global';
  index: number;
}

export interface ElemSegment {
  mode: 'active' | 'passive' | 'declarative';
  tableIndex: number;
  /** Active segments: the constant offset. */
  offset?: number;
  /** Active segments whose offset is `global.get` of an imported global: its index (then `offset` is absent). */
  offsetGlobal?: number;
  /** Function indices (null for a ref.null entry). */
  funcs: (number | null)[];
  /** The element type when it is not funcref. */
  elemType?: ValType;
}

export interface DataSegment {
  mode: 'active' | 'passive';
  memoryIndex: number;
  /** Active segments: the constant offset (a wasm address, u32). */
  offset?: number;
  /** Active segments whose offset is `global.get` of an imported global: its index (then `offset` is absent). */
  offsetGlobal?: number;
  bytes: Uint8Array;
}

export interface WasmModule {
  types: FuncType[];
  importFuncs: ImportFunc[];
  /** Imported globals, tables and memories (asc's output has none but `env.abort`, a function). */
  importOther: {
    module: string;
    name: string;
    kind: 'table' | 'memory' | 'global';
    /** The imported entity's type: the one matching `kind` is set. */
    global?: { type: ValType; mutable: boolean };
    table?: Table;
    memory?: Memory;
  }[];
  /** Defined functions; funcs[i].index === importFuncs.length + i. */
  funcs: Func[];
  /**
   * Defined tables, memories and globals only: in each index space the
   * imported ones (importOther, in order) come first, so `global.get i` names
   * globals[i - number of imported globals].
   */
  tables: Table[];
  memories: Memory[];
  globals: Global[];
  exports: Export[];
  start?: number;
  elements: ElemSegment[];
  data: DataSegment[];
  /** Names from the `name` custom section (function index -> name), imports included. */
  funcNames: Map<number, string>;
  /** The URL of the `sourceMappingURL` custom section, when present. */
  sourceMappingURL?: string;
}

/** The type of any function in the index space. */
export function funcTypeOf(m: WasmModule, funcIndex: number): FuncType {
  const imp = m.importFuncs[funcIndex];
  if (imp) return m.types[imp.typeIndex]!;
  return m.funcs[funcIndex - m.importFuncs.length]!.type;
}

/** A malformed or unsupported module: the message names the function and the byte offset. */
export class WasmError extends Error {
  constructor(message: string, readonly offset?: number, readonly func?: string) {
    super(message);
  }
}
