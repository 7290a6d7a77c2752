/**
 * The differential harness: the same WebAssembly runs in V8 (the oracle) and,
 * translated to RV64 and linked as a bare M-mode image, on the emulated CPU;
 * the result, the way the run ended and the bytes of chosen memory ranges
 * must agree bit for bit.
 *
 *   wasm bytes ─┬─ WebAssembly.Instance ── call export ──────────────┐
 *               └─ readModule → translateModule(zext) → linkImage ──┤ compare: outcome, memory ranges
 *                  → new Machine(kernel = ELF) → run(limit) ────────┘
 *
 * Addresses: the machine runs in M-mode with zero-extended wasm addresses, so
 * the wasm address a is the physical address a; asc compiles with
 * --memoryBase BASE (the linker's BARE_MEMORY_BASE) so the data is at the
 * same place on both sides.
 *
 * Outcomes: a return (i32 results sign-extended to 64 bits, as the bare stub
 * stores them in __result), or a failure with the bare image's exit code:
 * 4 = wasm trap (V8: WebAssembly.RuntimeError), 5 = abort (V8: env.abort was
 * called), 3 = CPU trap (never expected), or the instruction limit.
 *
 * V8 runs with --no-liftoff: Node 20's baseline compiler (Liftoff, x64)
 * miscompiles atomic and/or/xor (i32 and i64, every width) whose static
 * offset is 2^31 or more — it returns 0 as the old value, or crashes the
 * process (SIGSEGV). TurboFan gets it right. With the data "\50\f3\ca\2b" at
 * 0x8040022c, f(4) returns 0 under --liftoff-only and 0x2bcaf350 otherwise:
 *   (func (export "f") (param i32) (result i64)
 *     (i64.atomic.rmw32.or_u offset=2151678504 (local.get 0) (i64.const 127)))
 */
import v8 from 'node:v8';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Machine as MachineClass } from '../../../emulator/machine/machine.js';
import { disassemble } from '../../../toolchain/disasm.js';
import { BARE_MEMORY_BASE, type LinkedImage } from '../../../toolchain/link.js';
import type { Instr, WasmModule } from '../../../toolchain/wasm/module.js';

v8.setFlagsFromString('--no-liftoff');

/**
 * The code under test (reader, translator, linker) and the machine, bundled
 * by esbuild as the CLI is (scripts/build.mjs). Under vitest each module is
 * transformed on its own, so the interpreter's `switch (op) { case Op.ADD: … }`
 * (and the assembler's) read the exported enums as object properties instead
 * of constants, which runs 5-20 times slower (25 M guest instructions: 0.8 s
 * bundled, 10-60 s through vitest's transform); the bundle inlines them as
 * the shipped CLI does. Same sources, same semantics.
 */
interface Bundle {
  Machine: typeof import('../../../emulator/machine/machine.js').Machine;
  readModule: typeof import('../../../toolchain/wasm/reader.js').readModule;
  translateModule: typeof import('../../../toolchain/translate.js').translateModule;
  linkImage: typeof import('../../../toolchain/link.js').linkImage;
}
async function loadBundle(root: string): Promise<Bundle> {
  const inline = (globalThis as { __kmemlabDiffBundle?: Bundle }).__kmemlabDiffBundle;
  if (inline) return inline; // already bundled (bundle-inline.ts)
  const { build } = await import('esbuild');
  const dir = join(tmpdir(), 'kmemlab-differential-cache');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `bundle-${process.pid}-${Date.now()}.mjs`);
  await build({
    stdin: {
      contents: [
        "export { Machine } from './emulator/machine/machine.ts';",
        "export { readModule } from './toolchain/wasm/reader.ts';",
        "export { translateModule } from './toolchain/translate.ts';",
        "export { linkImage } from './toolchain/link.ts';",
      ].join('\n'),
      resolveDir: root, sourcefile: 'differential-bundle.ts', loader: 'ts',
    },
    bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: out, logLevel: 'warning', sourcemap: 'inline',
  });
  process.setSourceMapsEnabled(true); // stack traces name the TypeScript sources, not the bundle
  const mod = (await import(pathToFileURL(out).href)) as Bundle;
  rmSync(out, { force: true });
  return mod;
}

export const BASE = BARE_MEMORY_BASE;
/** The repository root: the nearest kmemlab package.json above this file (or above the cwd, when bundled elsewhere). */
function findRoot(): string {
  for (const start of [dirname(fileURLToPath(import.meta.url)), process.cwd()]) {
    for (let d = start; ; d = dirname(d)) {
      const pkg = join(d, 'package.json');
      if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'kmemlab') return d;
      if (dirname(d) === d) break;
    }
  }
  throw new Error('cannot find the kmemlab repository root');
}
export const ROOT = findRoot();
const bundle = await loadBundle(ROOT);
const { Machine, translateModule, linkImage } = bundle;
/** The reader, from the bundle (see loadBundle). */
export const readModule = bundle.readModule;
type Machine = MachineClass;
export const CORPUS = join(ROOT, 'tests/toolchain/corpus');

/** Exit codes of the bare image (toolchain/stubs/common.ts). */
export const EXIT_CPU_TRAP = 3;
export const EXIT_WASM_TRAP = 4;
export const EXIT_ABORT = 5;

export type Outcome =
  | { kind: 'return'; value: bigint }
  | { kind: 'trap'; code: number; message: string }
  | { kind: 'limit'; message: string }
  | { kind: 'error'; message: string };

export interface Range { start: number; length: number }
export interface Poke { addr: number; bytes: Uint8Array }

export interface Observed {
  outcome: Outcome;
  /** The bytes of each compared range, in order. */
  memory: Uint8Array[];
}

const hex = (v: bigint | number, width = 0): string => `0x${BigInt.asUintN(64, BigInt(v)).toString(16).padStart(width, '0')}`;

export function outcomeText(o: Outcome): string {
  switch (o.kind) {
    case 'return': return `returned ${hex(o.value)} (${BigInt.asIntN(64, o.value)})`;
    case 'trap': return `failed with exit code ${o.code} (${o.code === EXIT_WASM_TRAP ? 'wasm trap' : o.code === EXIT_ABORT ? 'abort' : o.code === EXIT_CPU_TRAP ? 'CPU trap' : 'unknown'}: ${o.message.trim()})`;
    case 'limit': return `did not finish: ${o.message}`;
    case 'error': return `threw: ${o.message}`;
  }
}

export function sameOutcome(a: Outcome, b: Outcome): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'return') return a.value === (b as typeof a).value;
  if (a.kind === 'trap') return a.code === (b as typeof a).code;
  return false;
}

// ---------------------------------------------------------------------------
// asc
// ---------------------------------------------------------------------------

export const ASC_FLAGS = ['--runtime', 'stub', '--enable', 'threads', '--noAssert', '-O3'];
const CACHE = join(tmpdir(), 'kmemlab-differential-cache');

function ascVersion(): string {
  return JSON.parse(readFileSync(join(ROOT, 'node_modules/assemblyscript/package.json'), 'utf8')).version as string;
}

/** The corpus programs (AssemblyScript and hand-written WAT), without the shared lib/. */
export function corpusFiles(): string[] {
  return readdirSync(CORPUS).filter((f) => f.endsWith('.ts') || f.endsWith('.wat')).sort().map((f) => join(CORPUS, f));
}

function libHash(): string {
  const h = createHash('sha256');
  const lib = join(CORPUS, 'lib');
  if (existsSync(lib)) for (const f of readdirSync(lib).sort()) h.update(f).update(readFileSync(join(lib, f)));
  return h.digest('hex');
}

function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    p.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

/**
 * Compile AssemblyScript files with asc (child processes, as many at once as
 * there are CPUs), at --memoryBase `base`; results are cached in the OS temp
 * directory by content (source, corpus lib, asc version, flags).
 */
export async function compileAsc(files: string[], base = BASE): Promise<Map<string, Uint8Array<ArrayBuffer>>> {
  mkdirSync(CACHE, { recursive: true });
  const lib = libHash();
  const version = ascVersion();
  const out = new Map<string, Uint8Array<ArrayBuffer>>();
  const todo: { file: string; target: string }[] = [];
  for (const file of files) {
    const key = createHash('sha256').update(readFileSync(file)).update(lib).update(version).update(ASC_FLAGS.join(' ')).update(String(base)).digest('hex').slice(0, 24);
    const target = join(CACHE, `${basename(file, '.ts')}-${key}.wasm`);
    if (existsSync(target)) out.set(file, new Uint8Array(readFileSync(target)));
    else todo.push({ file, target });
  }
  const asc = join(ROOT, 'node_modules/assemblyscript/bin/asc.js');
  const errors: string[] = [];
  const workers = Math.max(1, Math.min(cpus().length, todo.length));
  let next = 0;
  await Promise.all(Array.from({ length: workers }, async () => {
    while (next < todo.length) {
      const { file, target } = todo[next++]!;
      const tmp = `${target}.${process.pid}.wasm`;
      // --memoryBase in decimal: asc 0.28 reads a hex value as 0 without a word.
      const r = await run(process.execPath, [asc, file, ...ASC_FLAGS, '--memoryBase', String(base), '--outFile', tmp]);
      if (r.code !== 0 || !existsSync(tmp)) { errors.push(`asc ${basename(file)} failed:\n${r.out}`); continue; }
      const bytes = new Uint8Array(readFileSync(tmp));
      writeFileSync(target, bytes);
      out.set(file, bytes);
    }
  }));
  if (errors.length) throw new Error(errors.join('\n'));
  return out;
}

/** A hand-written .wat file of the corpus, assembled by binaryen (no optimisation). */
export async function compileWat(file: string): Promise<Uint8Array<ArrayBuffer>> {
  const binaryen = (await import('binaryen')).default;
  const m = binaryen.parseText(readFileSync(file, 'utf8'));
  try {
    m.setFeatures(binaryen.Features.All);
    if (!m.validate()) throw new Error(`${basename(file)} does not validate`);
    return new Uint8Array(m.emitBinary());
  } finally {
    m.dispose();
  }
}

// ---------------------------------------------------------------------------
// The oracle: V8
// ---------------------------------------------------------------------------

export class AbortCalled extends Error {}

export interface OracleInstance {
  instance: WebAssembly.Instance;
  memory: WebAssembly.Memory;
}

/** Read an AssemblyScript string (UTF-16, length in the header before it) from wasm memory. */
function ascString(mem: WebAssembly.Memory, ptr: number): string {
  if (ptr === 0) return 'null';
  const u8 = new Uint8Array(mem.buffer);
  const p = ptr >>> 0;
  const len = new DataView(mem.buffer).getUint32(p - 4, true);
  let s = '';
  for (let i = 0; i + 1 < len && i < 400; i += 2) s += String.fromCharCode(u8[p + i]! | (u8[p + i + 1]! << 8));
  return s;
}

export function instantiate(module: WebAssembly.Module): OracleInstance {
  let memory: WebAssembly.Memory | undefined;
  const env = {
    abort(msg: number, file: number, line: number, col: number): never {
      const m = memory ? `${ascString(memory, msg)} at ${ascString(memory, file)}:${line}:${col}` : 'abort';
      throw new AbortCalled(m);
    },
  };
  const imports: WebAssembly.Imports = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module === 'env' && imp.name === 'abort') imports.env = env;
    else throw new Error(`the differential harness provides no import ${imp.module}.${imp.name}`);
  }
  const instance = new WebAssembly.Instance(module, imports);
  memory = Object.values(instance.exports).find((e): e is WebAssembly.Memory => e instanceof WebAssembly.Memory);
  if (!memory) throw new Error('the module exports no memory');
  return { instance, memory };
}

export function exportResultType(m: WasmModule, name: string): 'i32' | 'i64' | 'none' {
  const e = m.exports.find((x) => x.kind === 'func' && x.name === name);
  if (!e) throw new Error(`no export ${name}`);
  const f = m.funcs[e.index - m.importFuncs.length];
  const r = f?.type.results[0];
  return r === 'i32' ? 'i32' : r === 'i64' ? 'i64' : 'none';
}

/** Call `entry` (no arguments) in V8 after the pokes; read the ranges afterwards, trap or not. */
export function runOracle(o: OracleInstance, entry: string, ranges: Range[], pokes: Poke[] = []): Observed {
  const u8 = new Uint8Array(o.memory.buffer);
  for (const p of pokes) u8.set(p.bytes, p.addr >>> 0);
  const fn = o.instance.exports[entry] as (() => number | bigint | undefined) | undefined;
  if (typeof fn !== 'function') throw new Error(`no export ${entry}`);
  let outcome: Outcome;
  try {
    const r = fn();
    const value = typeof r === 'bigint' ? BigInt.asUintN(64, r) : r === undefined ? 0n : BigInt.asUintN(64, BigInt(r | 0));
    outcome = { kind: 'return', value };
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) outcome = { kind: 'trap', code: EXIT_WASM_TRAP, message: e.message };
    else if (e instanceof AbortCalled) outcome = { kind: 'trap', code: EXIT_ABORT, message: e.message };
    else outcome = { kind: 'error', message: String((e as Error)?.message ?? e) };
  }
  const mem = new Uint8Array(o.memory.buffer);
  return { outcome, memory: ranges.map((r) => mem.slice(r.start >>> 0, (r.start >>> 0) + r.length)) };
}

// ---------------------------------------------------------------------------
// The machine
// ---------------------------------------------------------------------------

export interface Image {
  module: WasmModule;
  link: LinkedImage;
  entry: string;
}

/** readModule → translateModule (zext) → linkImage (bare, entry export). */
export function buildImage(bytes: Uint8Array, entry: string, module?: WasmModule): Image {
  const m = module ?? readModule(bytes);
  const tr = translateModule(m, { addressMode: 'zext' });
  const link = linkImage(m, tr, { kind: 'bare', entryExport: entry });
  return { module: m, link, entry };
}

export interface MachineRun extends Observed {
  insns: number;
  console: string;
  /** For unexpected ends: where the hart was, with disassembly. */
  where?: string;
}

export const DEFAULT_LIMIT = 50_000_000;

/**
 * Runs an image, many times. A machine costs ~6 ms to build (most of it
 * allocating and collecting its RAM), more than a generated case takes to
 * run, so by default one machine serves every run of the image: before each
 * run its RAM up to the end of the image (everything a bare program can
 * write: code, data, stacks, the wasm memory) is restored from a snapshot
 * taken right after construction, the hart is reset to the reset vector (registers, CSRs, TLB,
 * reservation) and the exit state is cleared. The devices keep their state
 * (CLINT time, UART), which these programs never read. `fresh: true` builds a
 * new machine instead; the generated tests check on samples that both agree.
 */
export class ImageRunner {
  private machine: MachineClass | undefined;
  /** RAM [0x8000_0000, image end) right after construction: all a run can write (code, data, stacks, wasm memory). */
  private snapshot: Uint8Array | undefined;
  private snapshotOff = 0;
  private consoleText = '';
  readonly dramSize: number;

  constructor(readonly img: Image) {
    const end = Number(img.link.symbols.get('_end') ?? BigInt(BASE + 0x10_0000)) - 0x8000_0000;
    // The DTB goes 2 MiB-aligned below the top of DRAM, above the image.
    const MiB2 = 2 * 1024 * 1024;
    this.dramSize = Math.max(8 * 1024 * 1024, Math.ceil(end / MiB2) * MiB2 + MiB2);
  }

  private newMachine(): MachineClass {
    return new Machine({
      harts: 1,
      dramSize: this.dramSize,
      highmemSize: 0,
      kernel: { name: `${this.img.entry}.elf`, bytes: this.img.link.elf },
      output: (b) => { if (this.consoleText.length < 4000) this.consoleText += String.fromCharCode(b); },
    });
  }

  run(ranges: Range[], pokes: Poke[] = [], limit = DEFAULT_LIMIT, fresh = false): MachineRun {
    let machine: MachineClass;
    this.consoleText = '';
    if (fresh) {
      machine = this.newMachine();
    } else if (!this.machine) {
      machine = this.machine = this.newMachine();
      const end = Number(this.img.link.symbols.get('_end') ?? 0n);
      this.snapshotOff = machine.mem.offsetOf(0x8000_0000, 1);
      const len = Math.max(end - 0x8000_0000, 0);
      this.snapshot = machine.mem.u8.slice(this.snapshotOff, this.snapshotOff + len);
    } else {
      machine = this.machine;
      machine.mem.u8.set(this.snapshot!, this.snapshotOff);
      for (const h of machine.harts) h.reset(0x1000n);
      machine.exit = undefined;
    }
    for (const p of pokes) machine.mem.writeBytes(p.addr >>> 0, p.bytes);
    const insns0 = machine.insns;
    const img = this.img;
    let outcome: Outcome;
    let where: string | undefined;
    try {
      const stop = machine.run(limit);
      const exit = machine.exit;
      if (stop === 'exit' && exit) {
        if (exit.kind === 'pass') {
          const at = img.link.symbols.get('__result');
          if (at === undefined) throw new Error('the image has no __result symbol');
          const b = machine.mem.readBytes(Number(at), 8);
          outcome = { kind: 'return', value: new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true) };
        } else {
          outcome = { kind: 'trap', code: exit.code, message: this.consoleText.trim() || `exit ${exit.kind} ${exit.code}` };
          if (exit.code === EXIT_CPU_TRAP) where = describePc(img, machine, machine.harts[0]!.mepc, 'mepc');
        }
      } else {
        outcome = { kind: 'limit', message: `stopped (${stop}) after ${machine.insns - insns0} instructions` };
        where = describePc(img, machine, machine.harts[0]!.pc, 'pc');
      }
    } catch (e) {
      outcome = { kind: 'error', message: (e as Error).message };
      where = describePc(img, machine, machine.harts[0]!.pc, 'pc');
      this.machine = undefined; // do not reuse a machine in an unknown state
    }
    const memory = ranges.map((r) => machine.mem.readBytes(r.start >>> 0, r.length));
    return { outcome, memory, insns: machine.insns - insns0, console: this.consoleText, where };
  }
}

/** Run an image once, on a fresh machine. */
export function runImage(img: Image, ranges: Range[], pokes: Poke[] = [], limit = DEFAULT_LIMIT): MachineRun {
  return new ImageRunner(img).run(ranges, pokes, limit, true);
}

/** The symbol containing `pc` (the closest at or below it). */
export function symbolAt(link: LinkedImage, pc: bigint): string {
  let best: [string, bigint] | undefined;
  for (const [name, addr] of link.symbols) {
    if (name.startsWith('.L') || name.endsWith('.end')) continue;
    if (addr <= pc && (!best || addr > best[1])) best = [name, addr];
  }
  return best ? `${best[0]}+${hex(pc - best[1])}` : '?';
}

/** The wasm instruction a pc was generated for, via the line table. */
export function wasmInstrAt(img: Image, pc: bigint): string {
  let line: LinkedImage['lines'][number] | undefined;
  for (const l of img.link.lines) if (l.addr <= pc) line = l; else break;
  if (!line) return '';
  for (const f of img.module.funcs) {
    const i = f.body.findIndex((x) => x.offset === line!.wasmOffset);
    if (i >= 0) return `wasm ${f.name} @${hex(line.wasmOffset)}: ${instrLine(f.body[i]!)}`;
  }
  return `wasm offset ${hex(line.wasmOffset)}`;
}

function instrLine(ins: Instr): string {
  const extra = [ins.index, ins.value, ins.memOffset !== undefined ? `offset=${ins.memOffset}` : undefined].filter((x) => x !== undefined);
  return `${ins.op}${extra.length ? ` ${extra.join(' ')}` : ''}`;
}

export function describePc(img: Image, machine: Machine, pc: bigint, what: string): string {
  const lines = [`${what} ${hex(pc)} in ${symbolAt(img.link, pc)}; ${wasmInstrAt(img, pc)}`];
  for (let a = pc - 24n; a <= pc + 12n; a += 4n) {
    const off = machine.mem.offsetOf(Number(a), 4);
    if (off < 0) continue;
    const insn = machine.mem.u8[off]! | (machine.mem.u8[off + 1]! << 8) | (machine.mem.u8[off + 2]! << 16) | (machine.mem.u8[off + 3]! << 24);
    let text: string;
    try { text = disassemble(insn >>> 0, a).text; } catch { text = '?'; }
    lines.push(`${a === pc ? '=>' : '  '} ${hex(a)}  ${(insn >>> 0).toString(16).padStart(8, '0')}  ${text}`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------

export interface Mismatch {
  kind: 'outcome' | 'memory';
  text: string;
}

/** Compare V8's and the machine's observations; undefined when they agree. */
export function compare(name: string, ranges: Range[], want: Observed, got: MachineRun, resultType: 'i32' | 'i64' | 'none' = 'i64'): Mismatch | undefined {
  if (!sameOutcome(want.outcome, got.outcome)) {
    const lines = [`${name}: V8 ${outcomeText(want.outcome)}, the machine ${outcomeText(got.outcome)}`];
    if (want.outcome.kind === 'return' && got.outcome.kind === 'return') {
      const x = want.outcome.value ^ got.outcome.value;
      lines.push(`  (${resultType} result; differing bits ${hex(x)})`);
    }
    if (got.where) lines.push(got.where);
    if (got.console.trim()) lines.push(`console: ${got.console.trim()}`);
    return { kind: 'outcome', text: lines.join('\n') };
  }
  const diffs: string[] = [];
  let count = 0;
  ranges.forEach((r, k) => {
    const a = want.memory[k]!;
    const b = got.memory[k]!;
    for (let i = 0; i < r.length; i++) {
      if (a[i] === b[i]) continue;
      count++;
      if (diffs.length < 12) {
        const addr = (r.start >>> 0) + i;
        const w = addr & ~7;
        const word = (m: Uint8Array): string => {
          const o = w - (r.start >>> 0);
          let s = '';
          for (let j = 7; j >= 0; j--) s += o + j >= 0 && o + j < m.length ? m[o + j]!.toString(16).padStart(2, '0') : '..';
          return s;
        };
        diffs.push(`  ${hex(addr)}: V8 ${a[i]!.toString(16).padStart(2, '0')}, machine ${b[i]!.toString(16).padStart(2, '0')}  (dword at ${hex(w)}: V8 ${word(a)}, machine ${word(b)})`);
      }
    }
  });
  if (count === 0) return undefined;
  return {
    kind: 'memory',
    text: [`${name}: both ${outcomeText(want.outcome)}, but ${count} byte(s) of memory differ:`, ...diffs, ...(count > diffs.length ? [`  … and ${count - diffs.length} more`] : [])].join('\n'),
  };
}

/** The memory a corpus program is compared on: the first `max` bytes from BASE that the module's memory holds. */
export function corpusRanges(m: WasmModule, max = 256 * 1024): Range[] {
  const memEnd = (m.memories[0]?.min ?? 0) * 0x1_0000;
  const len = Math.max(0, Math.min(max, memEnd - BASE));
  return [{ start: BASE, length: len }];
}
