/**
 * Code generator tests: build small wasm modules from a flat text form (or
 * compile AssemblyScript with asc), translate them, assemble them behind a
 * tiny prologue at 0x8000_0000 and run one export on the emulated machine.
 *
 *   0x8000_0000  prologue: sp, (sext mode: Sv39 + drop to S-mode), the
 *                arguments, `call <export>`, store a0, power off (0x5555)
 *                __wasm_trap / __wasm_abort / the M-mode trap handler record
 *                what happened and power off with a failure code
 *   …            the translation (functions, runtime, rodata, globals)
 *   0x80f0_0000  Sv39 root table (sext mode): VA 0x8000_0000 and
 *                0xFFFF_FFFF_8000_0000 both map the 1 GiB at PA 0x8000_0000,
 *                VA 0 maps PA 0 (the test finisher)
 *   0x8100_0000  MEM: where tests put their wasm memory (wasm address = PA)
 *   0x80e0_0000  top of the stack
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble } from '../../../toolchain/asm.js';
import { Machine } from '../../../emulator/machine/machine.js';
import { translateModule, type Translation } from '../../../toolchain/translate.js';
import { readModule } from '../../../toolchain/wasm/reader.js';
import type { FuncType, Instr, ValType, WasmModule } from '../../../toolchain/wasm/module.js';

export const MEM = 0x8100_0000;
const ROOT = 0x80f0_0000;
const STACK_TOP = 0x80e0_0000n;

// --- modules from a flat text form ----------------------------------------------------------

export interface FuncSpec {
  name: string;
  params?: ValType[];
  results?: ValType[];
  locals?: ValType[];
  /** One instruction per line (or ';'-separated): `op imm…`, `block i32`, `br_table 0 1 2`, `i32.load offset=4`. */
  body: string;
  export?: boolean;
}

export interface ModuleSpec {
  funcs: FuncSpec[];
  /** Imported functions, before the defined ones in the index space. */
  imports?: { module: string; name: string; params?: ValType[]; results?: ValType[] }[];
  /** Extra types (for call_indirect): referenced by index after the functions' own. */
  types?: FuncType[];
  globals?: { type: ValType; mutable: boolean; value: bigint }[];
  memoryPages?: number;
  data?: { offset: number; bytes: Uint8Array | number[] }[];
  /** Table 0's contents (function indices or null). */
  table?: (number | null)[];
}

function typeIndex(types: FuncType[], t: FuncType): number {
  const k = JSON.stringify(t);
  let i = types.findIndex((x) => JSON.stringify(x) === k);
  if (i < 0) { types.push(t); i = types.length - 1; }
  return i;
}

function parseBody(text: string, base: number): Instr[] {
  const out: Instr[] = [];
  const lines = text.split(/[\n;]/).map((l) => l.replace(/#.*/, '').trim()).filter((l) => l !== '');
  for (const line of lines) {
    const [op, ...args] = line.split(/\s+/) as [string, ...string[]];
    const ins: Instr = { op, offset: base + 2 * out.length };
    if (op === 'block' || op === 'loop' || op === 'if') {
      ins.blockType = { params: [], results: args as ValType[] };
    } else if (op === 'br_table') {
      const n = args.map(Number);
      ins.defaultLabel = n.pop()!;
      ins.labels = n;
    } else if (op === 'i32.const' || op === 'i64.const') {
      ins.value = BigInt(args[0]!);
    } else if (op === 'call_indirect') {
      ins.index = Number(args[0]);
      ins.table = 0;
    } else if (/load|store|atomic\.(rmw|notify|wait)/.test(op)) {
      ins.memOffset = 0;
      ins.align = 0;
      for (const a of args) {
        const [k, v] = a.split('=');
        if (k === 'offset') ins.memOffset = Number(v);
        if (k === 'align') ins.align = Number(v);
      }
    } else if (args.length > 0) {
      ins.index = Number(args[0]);
    }
    out.push(ins);
  }
  return out;
}

export function buildModule(spec: ModuleSpec): WasmModule {
  const types: FuncType[] = [...(spec.types ?? [])];
  const imports = (spec.imports ?? []).map((i) => ({
    module: i.module, name: i.name, typeIndex: typeIndex(types, { params: i.params ?? [], results: i.results ?? [] }),
  }));
  const nImp = imports.length;
  const funcNames = new Map<number, string>();
  imports.forEach((i, k) => funcNames.set(k, `${i.module}.${i.name}`));
  const funcs = spec.funcs.map((f, k) => {
    const type = { params: f.params ?? [], results: f.results ?? [] };
    const index = nImp + k;
    funcNames.set(index, f.name);
    return {
      index, typeIndex: typeIndex(types, type), type, locals: f.locals ?? [],
      body: [...parseBody(f.body, 0x1000 * (k + 1)), { op: 'end', offset: 0x1000 * (k + 1) + 0xffe }],
      name: f.name, bodyOffset: 0x1000 * (k + 1) - 2,
    };
  });
  return {
    types, importFuncs: imports, importOther: [], funcs,
    tables: spec.table ? [{ elemType: 'funcref', min: spec.table.length }] : [],
    memories: spec.memoryPages !== undefined ? [{ min: spec.memoryPages, shared: false }] : [],
    globals: (spec.globals ?? []).map((g, i) => ({
      type: g.type, mutable: g.mutable, init: [{ op: `${g.type}.const`, offset: 0, value: g.value }], name: `g${i}`,
    })),
    exports: spec.funcs.map((f, k) => ({ name: f.name, kind: 'func' as const, index: nImp + k })),
    elements: spec.table ? [{ mode: 'active' as const, tableIndex: 0, offset: 0, funcs: spec.table }] : [],
    data: (spec.data ?? []).map((d) => ({ mode: 'active' as const, memoryIndex: 0, offset: d.offset, bytes: Uint8Array.from(d.bytes) })),
    funcNames,
  };
}

/** A module with one function. */
export function single(body: string, params: ValType[] = [], results: ValType[] = ['i32'], locals: ValType[] = []): WasmModule {
  return buildModule({ funcs: [{ name: 'f', params, results, locals, body }] });
}

// --- AssemblyScript ------------------------------------------------------------------------

const ASC = join(process.cwd(), 'node_modules/.bin/asc');

/**
 * Compile AssemblyScript source (--runtime stub --enable threads -O3 --noAssert) and read the module.
 * `files` are written next to it (e.g. riscv.ts for `import … from './riscv'`).
 */
export function compileAS(source: string, extraArgs: string[] = [], files: Record<string, string> = {}): { module: WasmModule; bytes: Uint8Array } {
  const dir = mkdtempSync(join(tmpdir(), 'kmemlab-cg-'));
  writeFileSync(join(dir, 'x.ts'), source);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  execFileSync(ASC, ['x.ts', '--runtime', 'stub', '--enable', 'threads', '--noAssert', '-O3', '--outFile', 'x.wasm', ...extraArgs], { cwd: dir, stdio: 'pipe' });
  const bytes = new Uint8Array(readFileSync(join(dir, 'x.wasm')));
  return { module: readModule(bytes), bytes };
}

// --- running -------------------------------------------------------------------------------

export interface RunOptions {
  addressMode?: 'sext' | 'zext';
  /** M-mode ecall handler instead of a fault: a0 += a7, a1 = a0 + 1, back after the ecall (zext mode only). */
  ecallReturns?: boolean;
  args?: (bigint | number)[];
  maxInsns?: number;
}

export interface RunResult {
  /** a0 after the export returned. */
  value: bigint;
  /** The message passed to __wasm_trap. */
  trap?: string;
  abort?: bigint[];
  /** An exception taken to M-mode: mcause, mepc, mtval. */
  fault?: bigint[];
  insns: number;
  machine: Machine;
  translation: Translation;
  symbols: Map<string, bigint>;
}

/** Sv39 on and a drop to S-mode (sext mode: the kernel's address space). */
function sextSetup(): string[] {
  return [
    '\tli t0, -1', '\tsrli t0, t0, 10', '\tcsrw pmpaddr0, t0', '\tli t0, 0x1f', '\tcsrw pmpcfg0, t0',
    `\tli t0, ${(8n << 60n) | BigInt(ROOT >>> 12)}`, '\tcsrw satp, t0', '\tsfence.vma',
    '\tli t0, 0x1800', '\tcsrc mstatus, t0', '\tli t0, 0x800', '\tcsrs mstatus, t0',
    '\tla t0, s_entry', '\tcsrw mepc, t0', '\tmret', 's_entry:',
  ];
}

/** A machine running the image, with the data segments in place and (sext) the page table. */
function boot(bytes: Uint8Array, t: Translation, sext: boolean): Machine {
  const machine = new Machine({ harts: 1, dramSize: 32 << 20, kernel: { name: 'test', bytes } });
  for (const d of t.data) machine.mem.writeBytes(d.addr, d.bytes);
  if (sext) {
    const pte = (pa: bigint): bigint => ((pa >> 12n) << 10n) | 0xcfn;
    const root = new Uint8Array(4096);
    const view = new DataView(root.buffer);
    view.setBigUint64(0 * 8, pte(0n), true);
    view.setBigUint64(2 * 8, pte(0x8000_0000n), true);
    view.setBigUint64(510 * 8, pte(0x8000_0000n), true);
    machine.mem.writeBytes(ROOT, root);
  }
  return machine;
}

function prologue(label: string, args: bigint[], sext: boolean, ecallReturns = false, start?: string): string {
  const s: string[] = ['_start:', `\tli sp, ${STACK_TOP}`, `\tla t0, ${ecallReturns ? 'ecall_handler' : 'mtrap'}`, '\tcsrw mtvec, t0'];
  if (sext) s.push(...sextSetup());
  if (start !== undefined) s.push(`\tcall ${start}`);
  args.forEach((a, i) => s.push(`\tli a${i}, ${BigInt.asIntN(64, a)}`));
  s.push(
    `\tcall ${label}`, '\tla t0, __result', '\tsd a0, 0(t0)', '\tli t0, 0x100000', '\tli t1, 0x5555', '\tsw t1, 0(t0)', '0:\tj 0b',
    '__wasm_trap:', '\tla t0, __trapmsg', '\tsd a0, 0(t0)', '\tli t0, 0x100000', '\tli t1, 0x13333', '\tsw t1, 0(t0)', '0:\tj 0b',
    '__wasm_abort:', '\tla t0, __abort', '\tsd a0, 0(t0)', '\tsd a1, 8(t0)', '\tsd a2, 16(t0)', '\tsd a3, 24(t0)',
    '\tli t0, 0x100000', '\tli t1, 0x23333', '\tsw t1, 0(t0)', '0:\tj 0b',
    '\t.balign 4', 'ecall_handler:', '\tcsrr t0, mepc', '\taddi t0, t0, 4', '\tcsrw mepc, t0', '\tadd a0, a0, a7', '\taddi a1, a0, 1', '\tmret',
    '\t.balign 4', 'mtrap:', '\tla t0, __fault', '\tcsrr t1, mcause', '\tsd t1, 0(t0)', '\tcsrr t1, mepc', '\tsd t1, 8(t0)',
    '\tcsrr t1, mtval', '\tsd t1, 16(t0)', '\tli t0, 0x100000', '\tli t1, 0x33333', '\tsw t1, 0(t0)', '0:\tj 0b',
    '\t.balign 8', '__result: .dword 0', '__trapmsg: .dword 0', '__abort: .dword 0, 0, 0, 0', '__fault: .dword 0, 0, 0',
  );
  return s.join('\n');
}

function cString(mem: Machine['mem'], addr: number): string {
  const bytes = mem.readBytes(addr, 256);
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(bytes.subarray(0, end < 0 ? bytes.length : end));
}

const translations = new WeakMap<WasmModule, Map<string, Translation>>();

export function translateCached(m: WasmModule, addressMode: 'sext' | 'zext'): Translation {
  let byMode = translations.get(m);
  if (!byMode) { byMode = new Map(); translations.set(m, byMode); }
  let t = byMode.get(addressMode);
  if (!t) { t = translateModule(m, { addressMode }); byMode.set(addressMode, t); }
  return t;
}

/** Translate m, run export `name` with args, and report what happened. */
export function run(m: WasmModule, name: string, opts: RunOptions = {}): RunResult {
  const mode = opts.addressMode ?? 'zext';
  const t = translateCached(m, mode);
  const exp = m.exports.find((e) => e.kind === 'func' && e.name === name);
  if (!exp) throw new Error(`no export ${name}`);
  const src = `${prologue(t.funcLabels[exp.index]!, (opts.args ?? []).map(BigInt), mode === 'sext', opts.ecallReturns, t.start)}\n${t.text}`;
  const { bytes, symbols } = assemble(src, { base: 0x8000_0000n });
  const machine = boot(bytes, t, mode === 'sext');
  machine.run(opts.maxInsns ?? 5_000_000);
  if (!machine.exit) throw new Error(`no exit after ${machine.insns} instructions (pc 0x${machine.harts[0]!.pc.toString(16)})`);
  const dword = (sym: string, k = 0): bigint => {
    const b = machine.mem.readBytes(Number(symbols.get(sym)!) + 8 * k, 8);
    return new DataView(b.buffer, b.byteOffset).getBigUint64(0, true);
  };
  const res: RunResult = { value: BigInt.asIntN(64, dword('__result')), insns: machine.insns, machine, translation: t, symbols };
  const code = machine.exit.code;
  if (code === 1) res.trap = cString(machine.mem, Number(dword('__trapmsg')));
  if (code === 2) res.abort = [0, 1, 2, 3].map((k) => dword('__abort', k));
  if (code === 3) res.fault = [0, 1, 2].map((k) => dword('__fault', k));
  return res;
}

/** Run and return a0, failing loudly on a trap. */
export function call(m: WasmModule, name: string, args: (bigint | number)[] = [], addressMode: 'sext' | 'zext' = 'zext'): bigint {
  const r = run(m, name, { args, addressMode });
  if (r.trap !== undefined) throw new Error(`trap: ${r.trap}`);
  if (r.fault !== undefined) throw new Error(`fault: mcause ${r.fault[0]} mepc 0x${r.fault[1]!.toString(16)} mtval 0x${r.fault[2]!.toString(16)}`);
  if (r.abort !== undefined) throw new Error(`abort: ${r.abort.join(', ')}`);
  return r.value;
}

export const i32 = (v: bigint): bigint => BigInt.asIntN(32, v);
export const u32 = (v: bigint): bigint => BigInt.asUintN(32, v);

// --- many calls in one run, checked against V8 -------------------------------------------------

const CANARY = 0x5a5a_0000_0000_0000n;

/**
 * Call export `name` once per argument list in a single run of the machine.
 * The driver keeps its loop state in s1-s3 and canaries in s4-s11 and sp,
 * and fails (code 4) if the translated code does not preserve them.
 * Returns a0 after each call (raw 64 bits, so that tests also see whether
 * an i32 result is sign-extended).
 */
export function runMany(m: WasmModule, name: string, argLists: (bigint | number)[][], addressMode: 'sext' | 'zext' = 'zext'): bigint[] {
  const t = translateCached(m, addressMode);
  const exp = m.exports.find((e) => e.kind === 'func' && e.name === name);
  if (!exp) throw new Error(`no export ${name}`);
  const type = m.types[(m.funcs[exp.index - m.importFuncs.length] ?? { typeIndex: 0 }).typeIndex]!;
  const n = type.params.length;
  const s: string[] = ['_start:', `\tli sp, ${STACK_TOP}`, '\tla t0, mtrap', '\tcsrw mtvec, t0'];
  if (addressMode === 'sext') s.push(...sextSetup());
  for (let k = 4; k <= 11; k++) s.push(`\tli s${k}, ${CANARY + BigInt(k)}`);
  if (t.start !== undefined) s.push(`\tcall ${t.start}`); // the wasm start function runs first, as in V8
  s.push('\tla s1, __args', '\tla s2, __results', `\tli s3, ${argLists.length}`, '\tbeqz s3, 9f', '1:');
  for (let i = 0; i < Math.min(n, 8); i++) s.push(`\tld a${i}, ${8 * i}(s1)`);
  const stackArgs = Math.max(0, n - 8);
  if (stackArgs > 0) {
    s.push(`\taddi sp, sp, -${Math.ceil(stackArgs / 2) * 16}`);
    for (let i = 8; i < n; i++) s.push(`\tld t0, ${8 * i}(s1)`, `\tsd t0, ${8 * (i - 8)}(sp)`);
  }
  s.push(`\tcall ${t.funcLabels[exp.index]}`);
  if (stackArgs > 0) s.push(`\taddi sp, sp, ${Math.ceil(stackArgs / 2) * 16}`);
  for (let k = 4; k <= 11; k++) s.push(`\tli t0, ${CANARY + BigInt(k)}`, `\tbne s${k}, t0, 8f`);
  s.push(`\tli t0, ${STACK_TOP}`, '\tbne sp, t0, 8f');
  s.push('\tsd a0, 0(s2)', `\taddi s1, s1, ${8 * Math.max(n, 1)}`, '\taddi s2, s2, 8', '\taddi s3, s3, -1', '\tbnez s3, 1b');
  s.push('9:\tli t0, 0x100000', '\tli t1, 0x5555', '\tsw t1, 0(t0)', '0:\tj 0b');
  s.push('8:\tli t0, 0x100000', '\tli t1, 0x43333', '\tsw t1, 0(t0)', '0:\tj 0b');
  const full = prologue('__never', [], false).split('\n');
  // Reuse the trap handlers of the single-call prologue (everything from __wasm_trap on).
  s.push(...full.slice(full.findIndex((l) => l === '__wasm_trap:')));
  s.push('\t.balign 8', '__args:');
  for (const args of argLists) {
    const vals = type.params.map((p, i) => (p === 'i32' ? BigInt.asIntN(32, BigInt(args[i]!)) : BigInt.asIntN(64, BigInt(args[i]!))));
    s.push(`\t.dword ${vals.length ? vals.join(', ') : 0}`);
  }
  s.push('__results:', `\t.zero ${8 * argLists.length}`, '__never: ret');
  const { bytes, symbols } = assemble(`${s.join('\n')}\n${t.text}`, { base: 0x8000_0000n });
  const machine = boot(bytes, t, addressMode === 'sext');
  machine.run(50_000_000);
  const code = machine.exit?.code;
  const dword = (sym: string, k = 0): bigint => {
    const b = machine.mem.readBytes(Number(symbols.get(sym)!) + 8 * k, 8);
    return new DataView(b.buffer, b.byteOffset).getBigUint64(0, true);
  };
  if (code === 1) throw new Error(`trap: ${cString(machine.mem, Number(dword('__trapmsg')))}`);
  if (code === 3) throw new Error(`fault: mcause ${dword('__fault')} mepc 0x${dword('__fault', 1).toString(16)}`);
  if (code === 4) throw new Error('the translated code did not preserve s1-s11 or sp');
  if (code !== 0) throw new Error(`exit ${String(code)} after ${machine.insns} instructions`);
  return argLists.map((_, k) => BigInt.asIntN(64, dword('__results', k)));
}

/**
 * V8's answer for export `name` on each argument list (the module without
 * its data segments and memory placement, which V8 does not need for pure
 * functions). A trap gives the string 'trap'. Results normalised like the
 * emulator's: i32 sign-extended to 64 bits.
 */
export async function v8Many(m: WasmModule, name: string, argLists: (bigint | number)[][]): Promise<(bigint | 'trap')[]> {
  const { encodeModule } = await import('../../../toolchain/wasm/encoder.js');
  const bare: WasmModule = { ...m, data: [], memories: m.memories.map((x) => ({ ...x, min: Math.min(x.min, 1) })) };
  const { instance } = await WebAssembly.instantiate(encodeModule(bare), {
    env: { abort: () => { throw new Error('abort'); } },
  });
  const f = instance.exports[name] as (...a: unknown[]) => unknown;
  const exp = m.exports.find((e) => e.kind === 'func' && e.name === name)!;
  const type = m.types[m.funcs[exp.index - m.importFuncs.length]!.typeIndex]!;
  return argLists.map((args) => {
    try {
      const r = f(...type.params.map((p, i) => (p === 'i32' ? Number(BigInt.asIntN(32, BigInt(args[i]!))) : BigInt.asIntN(64, BigInt(args[i]!)))));
      return typeof r === 'bigint' ? BigInt.asIntN(64, r) : BigInt(r as number);
    } catch {
      return 'trap';
    }
  });
}
