/**
 * Fixtures for the wasm reader/encoder/source-map tests:
 *  - `asc()`: compile a small AssemblyScript source with the real compiler
 *    (node_modules/.bin/asc) in a temporary directory, with the flags the
 *    kernel uses (`--runtime stub --enable threads`);
 *  - `kitchenSink()`: a hand-built module that uses every opcode the reader
 *    knows and every kind of section entry, for round trips and fuzzing;
 *  - `mod()` / `fn()`: terse builders for small modules in error tests;
 *  - `typedBody()`: a random well-typed function body (nested blocks, if/else,
 *    br_if, select, unreachable, locals, every fixed-signature opcode), for
 *    fuzzing the validator with valid code and near-misses of it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Func, FuncType, Instr, ValType, WasmModule } from '../../toolchain/wasm/module.js';
import { OPCODES, isRefType } from '../../toolchain/wasm/opcodes.js';

const execFileAsync = promisify(execFile);
const ASC = fileURLToPath(new URL('../../node_modules/.bin/asc', import.meta.url));

export interface AscOutput {
  wasm: Uint8Array<ArrayBuffer>;
  /** The source map's JSON text, when `--sourceMap` was given. */
  map?: string;
}

/** Compile `source` (written as `<name>.ts`) with asc. Rejects with asc's output on a compile error. */
export async function asc(source: string, flags: string[] = [], name = 'test'): Promise<AscOutput> {
  const dir = mkdtempSync(join(tmpdir(), 'kmemlab-asc-'));
  try {
    writeFileSync(join(dir, `${name}.ts`), source);
    await execFileAsync(
      process.execPath,
      [ASC, `${name}.ts`, '--runtime', 'stub', '--enable', 'threads', '--outFile', 'out.wasm', ...flags],
      { cwd: dir },
    );
    const wasm = new Uint8Array(readFileSync(join(dir, 'out.wasm')));
    const mapFile = join(dir, 'out.wasm.map');
    return existsSync(mapFile) ? { wasm, map: readFileSync(mapFile, 'utf8') } : { wasm };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** AssemblyScript exercising what the kernel's code uses: integers, memory, atomics, bulk memory, call_indirect, strings. */
export const ASC_SAMPLE = `
let counter: i32 = 0;
const table: i64[] = [1, 2, 3];

export function add(a: i32, b: i32): i32 {
  counter += 1;
  return a + b;
}

function twice(x: i32): i32 { return x * 2; }
function thrice(x: i32): i32 { return x * 3; }

export function indirect(x: i32, which: bool): i32 {
  const f: (x: i32) => i32 = which ? twice : thrice;
  return f(x);
}

export function atomics(p: usize): i64 {
  atomic.store<i64>(p, 5);
  atomic.cmpxchg<i32>(p, 1, 2);
  atomic.notify(p, 1);
  const w = atomic.wait<i32>(p + 64, 7, 0);
  return atomic.xchg<i64>(p, 3) + <i64>atomic.sub<u8>(p, 1) + <i64>atomic.load<u16>(p) + <i64>w;
}

export function bulk(p: usize, n: i32): void {
  memory.copy(p, p + 8, n);
  memory.fill(p, 0xab, 4);
  store<u8>(p, 3);
  store<i16>(p, -2, 2);
  assert(load<i64>(p) != 7, "boom");
}

export function loops(n: i32): i64 {
  let s: i64 = 0;
  for (let i = 0; i < n; i++) {
    switch (i & 7) {
      case 0: s += 1; break;
      case 1: s ^= <i64>i << 3; break;
      case 2: s = rotl<i64>(s, 5); break;
      case 3: s += <i64>clz<i32>(i) + <i64>ctz<i64>(s) + <i64>popcnt<i32>(i); break;
      case 4: s = s / 3 + (s % 7); break;
      default: s -= <i64><u32>i >>> 1;
    }
  }
  return s + table[n % 3] + <i64><i8>n;
}

export function text(n: i32): string {
  return "n=" + n.toString();
}
`;

// ── builders ─────────────────────────────────────────────────────────────

/** An instruction with its fields; the offset is left 0 (the encoder ignores it). */
export function I(op: string, fields: Partial<Instr> = {}): Instr {
  return { op, offset: 0, ...fields };
}

/** A defined function, its final `end` appended to `body`; `index` and `name` are filled in by `mod`. */
export function fn(type: FuncType, body: Instr[], locals: ValType[] = []): Omit<Func, 'index' | 'typeIndex' | 'name' | 'bodyOffset'> & { name?: string } {
  return { type, locals, body: [...body, I('end')] };
}

/**
 * A module from defined functions (their types are collected into the type
 * section) plus any other fields. Function i gets index imports + i and name
 * `f<i>` unless named.
 */
export function mod(
  funcs: ReturnType<typeof fn>[],
  rest: Partial<WasmModule> = {},
): WasmModule {
  const types: FuncType[] = [...(rest.types ?? [])];
  const typeIndex = (t: FuncType): number => {
    const i = types.findIndex((u) => u.params.join() === t.params.join() && u.results.join() === t.results.join());
    if (i >= 0) return i;
    types.push(t);
    return types.length - 1;
  };
  const imported = rest.importFuncs?.length ?? 0;
  const built: Func[] = funcs.map((f, i) => ({
    index: imported + i,
    typeIndex: typeIndex(f.type),
    type: f.type,
    locals: f.locals,
    body: f.body,
    name: f.name ?? `f${i}`,
    bodyOffset: 0,
  }));
  const funcNames = new Map(rest.funcNames ?? []);
  for (const f of built) funcNames.set(f.index, f.name);
  return {
    importFuncs: [],
    importOther: [],
    tables: [],
    memories: [],
    globals: [],
    exports: [],
    elements: [],
    data: [],
    ...rest,
    types,
    funcs: built,
    funcNames,
  };
}

export const T = (params: ValType[], results: ValType[]): FuncType => ({ params, results });

const CONST_OF: Record<string, (v: bigint) => Instr> = {
  i32: (v) => I('i32.const', { value: v }),
  i64: (v) => I('i64.const', { value: v }),
  f32: (v) => I('f32.const', { value: v }),
  f64: (v) => I('f64.const', { value: v }),
};

/**
 * Every opcode of the table, each in a well-typed context, plus every kind of
 * section entry: imports of each kind, tables of both reference types, a
 * shared memory, globals with each kind of initialiser, all element segment
 * modes (with function indices and with expressions), passive and active data,
 * multi-value blocks, a start function and a sourceMappingURL.
 */
export function kitchenSink(): WasmModule {
  const simple: Instr[] = [];
  let k = 1n;
  for (const info of OPCODES.values()) {
    if (!info.sig || info.imm === 'data' || info.imm === 'data_zero' || info.name === 'nop') continue;
    for (const p of info.sig.params) simple.push(CONST_OF[p]!((k++ * 0x9e37n) & 0x7fffn));
    const fields: Partial<Instr> =
      info.imm === 'memarg' ? { align: info.natural!, memOffset: Number(k % 5n) * 8 }
        : info.imm in CONST_OF ? { value: k++ }
          : {};
    simple.push(I(info.name, fields));
    for (let i = 0; i < info.sig.results.length; i++) simple.push(I('drop'));
  }
  const pair = T(['i32', 'i32'], ['i32', 'i32']);
  const control: Instr[] = [
    I('nop'),
    I('local.get', { index: 0 }),
    I('i32.const', { value: 7n }),
    // A multi-value block with parameters (type index form).
    I('block', { blockType: pair }),
    I('i32.add'),
    I('i32.const', { value: -1n }),
    I('end'),
    I('local.set', { index: 1 }),
    I('local.tee', { index: 2 }),
    I('if', { blockType: T([], ['i32']) }),
    I('local.get', { index: 1 }),
    I('else'),
    I('i32.const', { value: -2147483648n }),
    I('end'),
    I('drop'),
    I('block', { blockType: T([], []) }),
    I('br', { index: 0 }),
    I('end'),
    I('block', { blockType: T([], []) }),
    I('loop', { blockType: T([], []) }),
    I('local.get', { index: 0 }),
    I('br_if', { index: 1 }),
    I('local.get', { index: 0 }),
    I('br_table', { labels: [0, 1, 0], defaultLabel: 1 }),
    I('end'),
    I('end'),
    I('local.get', { index: 0 }),
    I('if', { blockType: T([], []) }),
    I('unreachable'),
    I('end'),
    I('i32.const', { value: 1n }),
    I('i32.const', { value: 2n }),
    I('local.get', { index: 0 }),
    I('select'),
    I('ref.null', { refType: 'externref' }),
    I('ref.null', { refType: 'externref' }),
    I('local.get', { index: 0 }),
    I('select', { selectType: ['externref'] }),
    I('ref.is_null'),
    I('i32.add'),
    I('global.get', { index: 0 }), // imported immutable i32
    I('i32.add'),
    I('global.set', { index: 1 }),
    I('i32.const', { value: 0n }),
    I('i32.const', { value: 1n }),
    I('i32.const', { value: 2n }),
    I('i32.const', { value: 3n }),
    I('call', { index: 0 }), // the imported function
    I('i32.const', { value: 5n }),
    I('i32.const', { value: 0n }),
    I('call_indirect', { index: 2, table: 1 }),
    I('drop'),
    I('i32.const', { value: 0n }),
    I('ref.func', { index: 2 }),
    I('table.set', { index: 1 }),
    I('i32.const', { value: 0n }),
    I('table.get', { index: 1 }),
    I('drop'),
    I('i32.const', { value: 0n }),
    I('table.get', { index: 0 }),
    I('drop'),
    I('table.size', { index: 1 }),
    I('ref.null', { refType: 'funcref' }),
    I('i32.const', { value: 1n }),
    I('table.grow', { index: 1 }),
    I('i32.add'),
    I('ref.null', { refType: 'funcref' }),
    I('i32.const', { value: 1n }),
    I('table.fill', { index: 1 }),
    I('i32.const', { value: 0n }),
    I('i32.const', { value: 0n }),
    I('i32.const', { value: 1n }),
    I('table.copy', { index: 1, table: 0 }),
    I('i32.const', { value: 0n }),
    I('i32.const', { value: 0n }),
    I('i32.const', { value: 1n }),
    I('table.init', { index: 1, table: 1 }),
    I('elem.drop', { index: 2 }),
    I('i32.const', { value: 0n }),
    I('i32.const', { value: 0n }),
    I('i32.const', { value: 4n }),
    I('memory.init', { index: 1 }),
    I('data.drop', { index: 1 }),
    I('i32.const', { value: 0n }),
    I('i64.const', { value: -1n }),
    I('i64.const', { value: 0x7fff_ffff_ffff_ffffn }),
    I('memory.atomic.wait64', { align: 3, memOffset: 16 }),
    I('drop'),
    I('atomic.fence'),
    I('i32.const', { value: 0n }),
    I('return'),
  ];
  const m = mod(
    [
      { ...fn(T(['i32'], ['i32']), control, ['i32', 'i32']), name: 'control' },
      { ...fn(T([], []), simple, ['i64', 'i64', 'f32', 'funcref']), name: 'every_simple_op' },
      { ...fn(T(['i32'], ['i32']), [I('local.get', { index: 0 })]), name: 'callee' },
      { ...fn(T([], []), []), name: 'start' },
    ],
    {
      types: [T(['i32', 'i32', 'i32', 'i32'], []), pair, T(['i32'], ['i32'])],
      importFuncs: [{ module: 'env', name: 'abort', typeIndex: 0 }],
      importOther: [
        { module: 'env', name: 'base', kind: 'global', global: { type: 'i32', mutable: false } },
        { module: 'env', name: 'tab', kind: 'table', table: { elemType: 'funcref', min: 1 } },
      ],
      tables: [
        { elemType: 'funcref', min: 4, max: 8 },
        { elemType: 'externref', min: 2 },
      ],
      memories: [{ min: 1, max: 4, shared: true }],
      globals: [
        { type: 'i32', mutable: true, init: [I('i32.const', { value: 0n })], name: 'counter' },
        { type: 'i64', mutable: false, init: [I('i64.const', { value: -5n })], name: 'global2' },
        { type: 'i32', mutable: false, init: [I('global.get', { index: 0 })], name: 'copy_of_base' },
        { type: 'funcref', mutable: true, init: [I('ref.func', { index: 3 })], name: 'fref' },
        { type: 'externref', mutable: false, init: [I('ref.null', { refType: 'externref' })], name: 'global5' },
        { type: 'f64', mutable: false, init: [I('f64.const', { value: 0x400921fb54442d18n })], name: 'pi' },
      ],
      exports: [
        { name: 'control', kind: 'func', index: 1 },
        { name: 'memory', kind: 'memory', index: 0 },
        { name: 'counter', kind: 'global', index: 1 },
        { name: 'table', kind: 'table', index: 1 },
      ],
      start: 4,
      elements: [
        { mode: 'active', tableIndex: 1, offset: 0, funcs: [3, 3] },
        { mode: 'passive', tableIndex: 0, funcs: [1, null, 3] },
        { mode: 'declarative', tableIndex: 0, funcs: [2] },
        { mode: 'active', tableIndex: 0, offset: 1, funcs: [3] },
        { mode: 'active', tableIndex: 0, offsetGlobal: 0, funcs: [null, 3] },
        { mode: 'passive', tableIndex: 0, funcs: [null], elemType: 'externref' },
        { mode: 'active', tableIndex: 2, offset: 0, funcs: [null], elemType: 'externref' },
        { mode: 'declarative', tableIndex: 0, funcs: [null, 2] },
      ],
      data: [
        { mode: 'active', memoryIndex: 0, offset: 16, bytes: new Uint8Array([1, 2, 3]) },
        { mode: 'passive', memoryIndex: 0, bytes: new Uint8Array([9, 8, 7, 6]) },
        { mode: 'active', memoryIndex: 0, offsetGlobal: 0, bytes: new Uint8Array([]) },
        { mode: 'active', memoryIndex: 0, offset: 0xffff_fff0, bytes: new Uint8Array([]) },
      ],
      sourceMappingURL: 'kitchen.wasm.map',
    },
  );
  m.funcNames = new Map([[0, 'env.abort'], ...m.funcNames]);
  return m;
}

/**
 * A random well-typed body for a function with these locals (parameters
 * first) and results, about `len` steps long, ending with its `end`.
 * Memory and atomic accesses need the module to have a memory; data
 * instructions are not generated.
 */
export function typedBody(rnd: () => number, locals: readonly ValType[], results: readonly ValType[], len: number): Instr[] {
  const pick = <X>(a: readonly X[]): X => a[rnd() % a.length]!;
  const sigOps = [...OPCODES.values()].filter((o) => o.sig && o.imm !== 'data' && o.imm !== 'data_zero');
  const NUM: ValType[] = ['i32', 'i64', 'f32', 'f64'];
  const out: Instr[] = [];
  const stack: ValType[] = [];
  const frames: { results: readonly ValType[]; height: number; kind: string }[] = [{ results, height: 0, kind: 'func' }];
  const top = (): { results: readonly ValType[]; height: number; kind: string } => frames[frames.length - 1]!;
  const push = (t: ValType): void => {
    stack.push(t);
    if (isRefType(t)) out.push(I('ref.null', { refType: t }));
    else out.push(CONST_OF[t]!(BigInt(rnd() % 1000)));
  };
  // Close the innermost frame: drop extras, push its results (and an else branch for an if, sometimes unreachable).
  const close = (): void => {
    const f = top();
    while (stack.length > f.height) {
      stack.pop();
      out.push(I('drop'));
    }
    for (const t of f.results) push(t);
    if (f.kind === 'if' && (f.results.length > 0 || rnd() % 2)) {
      out.push(I('else'));
      stack.length = f.height;
      if (rnd() % 3 === 0) out.push(I('unreachable'));
      else for (const t of f.results) push(t);
    }
    frames.pop();
    stack.length = f.height;
    stack.push(...f.results);
    out.push(I('end'));
  };
  for (let i = 0; i < len; i++) {
    const avail = stack.length - top().height;
    const tos = avail > 0 ? stack[stack.length - 1] : undefined;
    const r = rnd() % 20;
    if (r < 4) push(pick([...NUM, 'funcref', 'externref']));
    else if (r < 6) {
      const l = rnd() % locals.length;
      out.push(I('local.get', { index: l }));
      stack.push(locals[l]!);
    } else if (r < 7 && tos) {
      const same = locals.flatMap((u, j) => (u === tos ? [j] : []));
      if (!same.length) continue;
      const set = rnd() % 2 === 0;
      out.push(I(set ? 'local.set' : 'local.tee', { index: pick(same) }));
      if (set) stack.pop();
    } else if (r < 8 && tos) {
      stack.pop();
      out.push(I('drop'));
    } else if (r < 9 && frames.length < 6) {
      const kind = pick(['block', 'loop', 'if'] as const);
      if (kind === 'if') {
        if (tos !== 'i32') continue;
        stack.pop();
      }
      const res = rnd() % 2 ? [] : [pick(NUM)];
      out.push(I(kind, { blockType: T([], res) }));
      frames.push({ results: res, height: stack.length, kind });
    } else if (r < 10 && frames.length > 1) close();
    else if (r < 11 && avail >= 3 && tos === 'i32' && stack[stack.length - 2] === stack[stack.length - 3]) {
      const t = stack[stack.length - 2]!;
      out.push(I('select', isRefType(t) || rnd() % 3 === 0 ? { selectType: [t] } : {}));
      stack.length -= 2;
      stack[stack.length - 1] = t;
    } else if (r < 12 && tos === 'i32') {
      // br_if to a label that takes no values.
      const d = rnd() % frames.length;
      const f = frames[frames.length - 1 - d]!;
      if (f.kind !== 'loop' && f.results.length) continue;
      stack.pop();
      out.push(I('br_if', { index: d }));
    } else if (r < 13 && rnd() % 4 === 0) {
      out.push(I('unreachable'));
      stack.length = top().height;
    } else if (r < 14 && tos && isRefType(tos)) {
      stack[stack.length - 1] = 'i32';
      out.push(I('ref.is_null'));
    } else {
      const o = pick(sigOps);
      for (const p of o.sig!.params) push(p);
      out.push(I(o.name, o.imm === 'memarg' ? { align: o.natural!, memOffset: rnd() % 16 } : o.imm in CONST_OF ? { value: BigInt(o.imm[0] === 'i' ? rnd() | 0 : rnd()) } : {}));
      stack.length -= o.sig!.params.length;
      stack.push(...o.sig!.results);
    }
  }
  while (frames.length) close();
  return out;
}

/** Deep copy of a module with every offset zeroed, for comparisons "offsets aside". */
export function withoutOffsets(m: WasmModule): WasmModule {
  const instrs = (l: Instr[]): Instr[] => l.map((i) => ({ ...i, offset: 0 }));
  return {
    ...m,
    funcs: m.funcs.map((f) => ({ ...f, bodyOffset: 0, body: instrs(f.body) })),
    globals: m.globals.map((g) => ({ ...g, init: instrs(g.init) })),
  };
}
