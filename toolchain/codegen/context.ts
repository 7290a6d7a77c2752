/**
 * What the translation of one function needs to know about the module
 * around it; implemented by toolchain/translate.ts.
 */
import type { FuncType, ImportFunc, WasmModule } from '../wasm/module.js';

export interface TranslateOptions {
  /**
   * How a wasm address (u32) plus the static offset becomes a machine
   * address: 'sext' = sext32(addr) + offset (the kernel's top-2-GiB window),
   * 'zext' = zext32(addr) + offset (M-mode firmware, physical addresses).
   */
  addressMode: 'sext' | 'zext';
}

export interface GlobalInfo {
  ty: 'i32' | 'i64';
  /** Immutable with a constant initialiser: the value, inlined at each use. */
  constant?: bigint;
  /** Mutable: the label of its .dword storage. */
  label?: string;
}

export interface ModuleContext {
  readonly m: WasmModule;
  readonly opts: TranslateOptions;
  /** Label of a defined function (or the stub an import became). */
  funcLabel(funcIndex: number): string;
  funcType(funcIndex: number): FuncType;
  /** The import behind a function index, or undefined for a defined function. */
  importOf(funcIndex: number): ImportFunc | undefined;
  /** Structural type id of a type index (equal types, equal ids). */
  typeId(typeIndex: number): number;
  /** A global by index (throws a WasmError for unsupported ones). */
  global(globalIndex: number, where: string): GlobalInfo;
  /** Label of a NUL-terminated string in the read-only data. */
  string(text: string): string;
  /** The indirect-call table: label and number of entries. */
  table(tableIndex: number): { label: string; size: number };
  /** Label of a passive data segment's bytes and their length. */
  passiveData(dataIndex: number): { label: string; size: number };
  /** Memory 0's declared size in pages. */
  memoryPages(): number;
  /** Note that a runtime routine or an extern symbol is referenced. */
  use(symbol: string): void;
}
