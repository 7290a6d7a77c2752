/**
 * Ahead-of-time translation of an AssemblyScript WebAssembly module into
 * RV64IMAC assembly for toolchain/asm.ts (DESIGN §4). The per-function code
 * generator is in toolchain/codegen/ (function.ts describes the frame and
 * the register use, values.ts the value stack).
 *
 * Layout of the text (one flat piece; the linker places it):
 *
 *   .text                 every defined function under its label, then the runtime routines
 *   .section .rodata      __wasm_rodata_start: trap messages, the indirect-call tables
 *                         (code address, type id), passive data segments
 *   .data                 __wasm_data_start: mutable globals, one .dword each
 *                         (__global_<index>), __wasm_data_end
 *
 * Each section directive stands on its own line, so the linker can gather
 * the parts by section (toolchain/link.ts splitSections). The text may be
 * assembled with compression on: br_table's jump tables are kept at 4 bytes
 * per entry with .option norvc.
 *
 * Labels of the form `.L…` are local to a function; everything else may go
 * into the ELF symbol table.
 *
 * Supported: every i32/i64 instruction (wasm semantics, traps included),
 * sign extension, select, locals and globals, structured control flow,
 * call and call_indirect (bounds- and signature-checked), loads and stores
 * of every width in both address modes, memory.size/copy/fill/init,
 * data.drop, the threads atomics (memory.atomic.notify returns 0), env.abort
 * and the "riscv" intrinsics. Refused with a WasmError that names the
 * function and the offset: floating point (any f32/f64 instruction, value
 * type or global), memory.grow, memory.atomic.wait32/64, block parameters,
 * multiple results, reference and table instructions, imported globals,
 * tables and memories, and any import but env.abort and "riscv".
 */
import type { FuncType, ImportFunc, WasmModule } from './wasm/module.js';
import { WasmError, funcTypeOf } from './wasm/module.js';
import type { GlobalInfo, ModuleContext, TranslateOptions } from './codegen/context.js';
import { Fn } from './codegen/function.js';
import { checkIntrinsic } from './codegen/intrinsics.js';
import { runtimeText } from './codegen/runtime.js';

export type { TranslateOptions } from './codegen/context.js';

export interface Translation {
  /** Assembly text for our assembler: every function under a global label, the runtime helpers, the indirect-call
   *  table and the mutable globals' storage (as .dword), in one flat piece. No .org: the linker places it. */
  text: string;
  /** Active data segments, at their wasm addresses (u32, as asc's --memoryBase puts them). */
  data: { addr: number; bytes: Uint8Array }[];
  /** Label of each function, by function index (imports: the intrinsic or stub they became, or ''). */
  funcLabels: string[];
  /** Symbol names the linker must provide: '__wasm_abort' (a0-a3 = asc abort's msg, file, line, column) and
   *  '__wasm_trap' (a0 = address of a NUL-terminated string in .rodata such as "integer divide by zero in foo"). */
  externs: string[];
  /** Label of the start function (the wasm `start` section), which the entry code must call first; undefined if none. */
  start?: string;
  /** Machine instructions generated per defined function (by function index), for code-quality statistics. */
  insnCounts?: Map<number, number>;
}

const EXTERNS = ['__wasm_abort', '__wasm_trap'];

/** A label the assembler accepts, from a wasm function name. */
function sanitize(name: string): string {
  let s = name.replace(/\//g, '.').replace(/[^A-Za-z0-9_.$]/g, '_');
  if (/^[0-9]/.test(s) || s.startsWith('.L') || s === '') s = `_${s}`;
  return s;
}

/** A canonical string for structural type equality. */
const typeKey = (t: FuncType): string => `${t.params.join(',')}->${t.results.join(',')}`;

function escapeString(s: string): string {
  return [...new TextEncoder().encode(s)].map((b) => (b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : `\\${b.toString(8).padStart(3, '0')}`)).join('');
}

class Module implements ModuleContext {
  readonly labels: string[] = [];
  readonly used = new Set<string>();
  private readonly strings = new Map<string, string>();
  private readonly typeIds = new Map<string, number>();
  private readonly nImportedGlobals: number;

  constructor(readonly m: WasmModule, readonly opts: TranslateOptions) {
    this.nImportedGlobals = m.importOther.filter((i) => i.kind === 'global').length;
    const taken = new Set<string>(EXTERNS);
    m.importFuncs.forEach((imp, i) => this.labels.push(this.importLabel(imp, i)));
    for (const f of m.funcs) {
      const base = sanitize(m.funcNames.get(f.index) ?? f.name ?? `func${f.index}`);
      let label = base;
      for (let k = 1; taken.has(label) || label.startsWith('__rt_') || label.startsWith('__global_') || label.startsWith('__wasm_'); k++) {
        label = `${base}.${k}`;
      }
      taken.add(label);
      this.labels.push(label);
    }
  }

  private importLabel(imp: ImportFunc, index: number): string {
    const type = this.m.types[imp.typeIndex]!;
    if (imp.module === 'env' && imp.name === 'abort') {
      if (typeKey(type) !== 'i32,i32,i32,i32->') throw new WasmError(`import env.abort has type (${typeKey(type)}), expected (i32, i32, i32, i32) -> ()`);
      return '__wasm_abort';
    }
    if (imp.module === 'riscv') {
      const why = checkIntrinsic(imp.name, type);
      if (why !== undefined) throw new WasmError(`import riscv.${imp.name} (function ${index}): ${why}`);
      return '';
    }
    throw new WasmError(`unknown import ${imp.module}.${imp.name} (function ${index}): only env.abort and the "riscv" intrinsics can be imported`);
  }

  funcLabel(i: number): string {
    return this.labels[i]!;
  }

  funcType(i: number): FuncType {
    return funcTypeOf(this.m, i);
  }

  importOf(i: number): ImportFunc | undefined {
    return this.m.importFuncs[i];
  }

  typeId(typeIndex: number): number {
    const key = typeKey(this.m.types[typeIndex]!);
    let id = this.typeIds.get(key);
    if (id === undefined) {
      id = this.typeIds.size;
      this.typeIds.set(key, id);
    }
    return id;
  }

  global(i: number, where: string): GlobalInfo {
    if (i < this.nImportedGlobals) throw new WasmError(`imported globals are not supported (global ${i} in function ${where})`);
    const g = this.m.globals[i - this.nImportedGlobals];
    if (g === undefined) throw new WasmError(`global ${i} does not exist (function ${where})`);
    if (g.type !== 'i32' && g.type !== 'i64') {
      const kind = g.type === 'f32' || g.type === 'f64' ? 'floating point is not supported' : `${g.type} globals are not supported`;
      throw new WasmError(`${kind}: ${g.type} global ${g.name || i} in function ${where}`);
    }
    if (g.mutable) return { ty: g.type, label: `__global_${i}` };
    const init = g.init[0];
    if (g.init.length !== 1 || init === undefined || (init.op !== 'i32.const' && init.op !== 'i64.const')) {
      throw new WasmError(`global ${g.name || i}: only constant initialisers are supported (function ${where})`);
    }
    return { ty: g.type, constant: init.value! };
  }

  string(text: string): string {
    let label = this.strings.get(text);
    if (label === undefined) {
      label = `__wasm_str_${this.strings.size}`;
      this.strings.set(text, label);
    }
    return label;
  }

  table(t: number): { label: string; size: number } {
    const tab = this.m.tables[t];
    if (tab === undefined) throw new WasmError(`call_indirect: table ${t} does not exist (imported tables are not supported)`);
    this.used.add(`__wasm_table_${t}`);
    return { label: `__wasm_table_${t}`, size: this.tableEntries(t).length };
  }

  /** The entries of table t after the active element segments: function indices or null. */
  tableEntries(t: number): (number | null)[] {
    const tab = this.m.tables[t]!;
    const entries: (number | null)[] = new Array<number | null>(tab.min).fill(null);
    for (const seg of this.m.elements) {
      if (seg.mode !== 'active' || seg.tableIndex !== t) continue;
      if (seg.offset === undefined) throw new WasmError('element segments with an imported-global offset are not supported');
      seg.funcs.forEach((f, k) => { entries[seg.offset! + k] = f; });
    }
    return entries;
  }

  passiveData(d: number): { label: string; size: number } {
    const seg = this.m.data[d];
    if (seg === undefined) throw new WasmError(`memory.init: data segment ${d} does not exist`);
    this.used.add(`__wasm_data_${d}`);
    return { label: `__wasm_data_${d}`, size: seg.bytes.length };
  }

  memoryPages(): number {
    return this.m.memories[0]?.min ?? 0;
  }

  use(symbol: string): void {
    this.used.add(symbol);
  }

  /** Read-only data and mutable globals. */
  dataText(): string {
    const out: string[] = ['\t.section .rodata', '\t.balign 8', '__wasm_rodata_start:'];
    for (const [text, label] of this.strings) out.push(`${label}:`, `\t.string "${escapeString(text)}"`);
    out.push('\t.balign 8');
    this.m.tables.forEach((_, t) => {
      if (!this.used.has(`__wasm_table_${t}`)) return;
      out.push(`__wasm_table_${t}:`);
      for (const f of this.tableEntries(t)) {
        if (f === null) { out.push('\t.dword 0, -1'); continue; }
        const imp = this.m.importFuncs[f];
        if (imp !== undefined && imp.module === 'riscv') throw new WasmError(`intrinsic riscv.${imp.name} cannot be called indirectly (it is in table ${t})`);
        if (imp !== undefined) this.used.add(this.labels[f]!);
        const typeIndex = imp !== undefined ? imp.typeIndex : this.m.funcs[f - this.m.importFuncs.length]!.typeIndex;
        out.push(`\t.dword ${this.labels[f]}, ${this.typeId(typeIndex)}`);
      }
    });
    this.m.data.forEach((seg, d) => {
      if (!this.used.has(`__wasm_data_${d}`)) return;
      out.push(`__wasm_data_${d}:`);
      for (let i = 0; i < seg.bytes.length; i += 32) out.push(`\t.byte ${[...seg.bytes.subarray(i, i + 32)].join(', ')}`);
    });
    out.push('\t.data', '\t.balign 8', '__wasm_data_start:');
    this.m.globals.forEach((g, k) => {
      const i = k + this.nImportedGlobals;
      if (!g.mutable || (g.type !== 'i32' && g.type !== 'i64')) return;
      const init = g.init[0];
      if (g.init.length !== 1 || init === undefined || (init.op !== 'i32.const' && init.op !== 'i64.const')) {
        throw new WasmError(`global ${g.name || i}: only constant initialisers are supported`);
      }
      out.push(`__global_${i}:`, `\t.dword ${init.value!}`);
    });
    out.push('__wasm_data_end:');
    return out.join('\n');
  }
}

function displayName(m: WasmModule, index: number): string {
  return m.funcNames.get(index) ?? m.funcs[index - m.importFuncs.length]?.name ?? `func${index}`;
}

export function translateModule(m: WasmModule, opts: TranslateOptions): Translation {
  const mod = new Module(m, opts);
  if (m.memories.length > 1) throw new WasmError('more than one memory is not supported');
  const parts: string[] = ['\t.text', '\t.balign 4'];
  const insnCounts = new Map<number, number>();
  for (const f of m.funcs) {
    const code = new Fn(mod, f, displayName(m, f.index)).translate(mod.funcLabel(f.index));
    parts.push(code.text);
    insnCounts.set(f.index, code.insns);
  }
  parts.push(runtimeText(mod.used));
  parts.push(mod.dataText());
  const data: Translation['data'] = [];
  for (const seg of m.data) {
    if (seg.mode !== 'active') continue;
    if (seg.offset === undefined) throw new WasmError('data segments with an imported-global offset are not supported');
    data.push({ addr: seg.offset >>> 0, bytes: seg.bytes });
  }
  let start: string | undefined;
  if (m.start !== undefined) {
    if (m.importFuncs[m.start] !== undefined) throw new WasmError('an imported start function is not supported');
    start = mod.funcLabel(m.start);
  }
  return {
    text: `${parts.join('\n')}\n`,
    data,
    funcLabels: [...mod.labels],
    externs: EXTERNS.filter((e) => mod.used.has(e)),
    ...(start !== undefined ? { start } : {}),
    insnCounts,
  };
}
