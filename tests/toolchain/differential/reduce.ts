/**
 * Test-case reduction for generated programs, and a WAT-like dump.
 *
 * `reduceProgram` shrinks a failing program greedily while `stillFails` holds:
 * it empties the bodies of functions case k cannot reach, deletes statements
 * and replaces expressions by constants, outermost first, until nothing more
 * can go. Mutations that no longer validate (a branch left without its label)
 * are skipped.
 */
import type { FuncType, Instr, WasmModule } from '../../../toolchain/wasm/module.js';
import { buildModule, reachable, type Expr, type GenProgram, type Stmt } from './generator.js';

type Obj = Record<string, unknown>;
const isNode = (x: unknown): x is Obj => typeof x === 'object' && x !== null && typeof (x as Obj).k === 'string';
const isExpr = (x: unknown): x is Expr => isNode(x) && typeof (x as Obj).t === 'string';
const isStmtList = (x: unknown): x is Stmt[] => Array.isArray(x) && x.every((s) => isNode(s) && !isExpr(s));

interface Site {
  /** Apply the mutation to a fresh clone of the program (sites are found again on the clone by position). */
  apply(p: GenProgram): boolean;
  what: string;
}

/** Every mutation site of the functions in `funcs`, outermost first. */
function sites(p: GenProgram, funcs: number[]): Site[] {
  const out: Site[] = [];
  for (const fi of funcs) {
    // Paths from the function object to the holder.
    const walk = (node: unknown, path: (string | number)[]): void => {
      if (Array.isArray(node)) {
        if (isStmtList(node)) {
          node.forEach((s, i) => {
            if (s.k !== 'nop') {
              out.push({ what: `f${fi}: delete ${s.k} at ${path.join('.')}[${i}]`, apply: (q) => { const l = at(q, fi, path) as Stmt[]; l.splice(i, 1); return true; } });
            }
            // Unwrap a block, loop or if: its statements take its place (invalid when a branch needed its label; then skipped).
            const inner = s.k === 'block' || s.k === 'loop' ? s.body : s.k === 'if' ? [...s.then, ...(s.else ?? [])] : undefined;
            if (inner) {
              out.push({
                what: `f${fi}: unwrap ${s.k} at ${path.join('.')}[${i}]`,
                apply: (q) => { const l = at(q, fi, path) as Stmt[]; const x = l[i] as Stmt & { body?: Stmt[]; then?: Stmt[]; else?: Stmt[] | null }; l.splice(i, 1, ...(x.body ?? [...(x.then ?? []), ...(x.else ?? [])])); return true; },
              });
            }
          });
        }
        node.forEach((x, i) => walk(x, [...path, i]));
        return;
      }
      if (typeof node !== 'object' || node === null) return;
      for (const [key, v] of Object.entries(node as Obj)) {
        if (key === 'label' || key === 'labels' || key === 'targets' || key === 'dflt' || key === 'brk' || key === 'cont') continue;
        if (isExpr(v) && v.k !== 'const') {
          out.push({
            what: `f${fi}: ${v.k} -> const at ${[...path, key].join('.')}`,
            apply: (q) => { const h = at(q, fi, path) as Obj; h[key] = { k: 'const', t: v.t, v: 0n }; return true; },
          });
          // Hoist a child of the same type into the place of its parent (select(a, b, c) -> a, x + y -> x, …).
          for (const [ck, cv] of Object.entries(v as Obj)) {
            if (isExpr(cv) && cv.t === v.t) {
              out.push({
                what: `f${fi}: ${v.k} -> its ${ck} at ${[...path, key].join('.')}`,
                apply: (q) => { const h = at(q, fi, path) as Obj; h[key] = (h[key] as Obj)[ck]; return true; },
              });
            }
          }
          if (v.k !== 'local.get' && v.k !== 'global.get') {
            out.push({
              what: `f${fi}: ${v.k} -> const 1 at ${[...path, key].join('.')}`,
              apply: (q) => { const h = at(q, fi, path) as Obj; h[key] = { k: 'const', t: v.t, v: 1n }; return true; },
            });
          }
        }
        if (typeof v === 'object' && v !== null) walk(v, [...path, key]);
      }
    };
    walk(p.funcs[fi], []);
  }
  return out;
}

function at(p: GenProgram, fi: number, path: (string | number)[]): unknown {
  let x: unknown = p.funcs[fi];
  for (const k of path) x = (x as Record<string | number, unknown>)[k];
  return x;
}

export interface ReduceResult {
  program: GenProgram;
  steps: number;
  tries: number;
}

export function reduceProgram(p0: GenProgram, k: number, stillFails: (p: GenProgram) => boolean, maxTries = 3000): ReduceResult {
  let p = structuredClone(p0);
  let steps = 0;
  let tries = 0;
  const attempt = (mut: (q: GenProgram) => boolean): boolean => {
    if (tries >= maxTries) return false;
    const q = structuredClone(p);
    if (!mut(q)) return false;
    try {
      const b = buildModule(q);
      if (!WebAssembly.validate(b.bytes)) return false;
    } catch {
      return false;
    }
    tries++;
    if (!stillFails(q)) return false;
    p = q;
    steps++;
    return true;
  };
  // Functions case k cannot reach: empty them.
  const keep = new Set(reachable(p, k));
  attempt((q) => {
    q.funcs.forEach((f, i) => {
      if (keep.has(i)) return;
      f.body = [];
      f.locals = [];
      f.counters = new Set();
      if (f.result) f.tail = { k: 'const', t: f.result, v: 0n };
    });
    return true;
  });
  // Simpler surroundings: no data (all zero), zero arguments, zero initial globals.
  attempt((q) => { q.data = new Uint8Array(q.data.length); return true; });
  attempt((q) => { q.args[k] = q.args[k]!.map(() => 0n); return true; });
  attempt((q) => { q.globals.forEach((g) => { g.init = 0n; }); return true; });
  let progress = true;
  while (progress && tries < maxTries) {
    progress = false;
    const funcs = reachable(p, k);
    for (const s of sites(p, funcs)) {
      if (attempt(s.apply)) {
        progress = true;
        break;
      }
    }
  }
  return { program: p, steps, tries };
}

// ---------------------------------------------------------------------------
// Dump: WebAssembly text (flat instruction syntax), valid for wat2wasm / binaryen
// ---------------------------------------------------------------------------

const typeText = (t: FuncType): string =>
  `${t.params.length ? ` (param ${t.params.join(' ')})` : ''}${t.results.length ? ` (result ${t.results.join(' ')})` : ''}`;

function instrText(m: WasmModule, ins: Instr): string {
  const parts = [ins.op];
  let comment = '';
  if (ins.op === 'select' && ins.selectType) parts.push(`(result ${ins.selectType.join(' ')})`);
  if (ins.blockType && (ins.blockType.results.length || ins.blockType.params.length)) parts.push(typeText(ins.blockType).trim());
  if (ins.op === 'call') parts.push(`$${m.funcNames.get(ins.index!) ?? ins.index}`);
  else if (ins.op === 'call_indirect') parts.push(typeText(m.types[ins.index!]!).trim());
  else if (ins.op.startsWith('local.') || ins.op.startsWith('global.')) parts.push(String(ins.index));
  else if (ins.op === 'br' || ins.op === 'br_if') parts.push(String(ins.index));
  if (ins.op === 'br_table') parts.push(`${[...ins.labels!, ins.defaultLabel!].join(' ')}`);
  if (ins.value !== undefined) {
    const v = ins.value;
    const bits = ins.op.startsWith('i32') ? 32 : 64;
    parts.push(String(v));
    if (v < -9n || v > 9n) comment = `  ;; 0x${BigInt.asUintN(bits, v).toString(16)}`;
  }
  if (ins.memOffset !== undefined && ins.memOffset !== 0) parts.push(`offset=0x${ins.memOffset.toString(16)}`);
  if (ins.align !== undefined) parts.push(`align=${1 << ins.align}`);
  return parts.join(' ') + comment;
}

/** One function as text: `(func $f3 (param i32) (result i64) (local i32) <flat body>)`. */
export function dumpFunc(m: WasmModule, index: number, exportAs?: string): string {
  const f = m.funcs[index - m.importFuncs.length]!;
  const lines = [`(func $${f.name}${exportAs ? ` (export "${exportAs}")` : ''}${typeText(f.type)}${f.locals.length ? ` (local ${f.locals.join(' ')})` : ''}`];
  let depth = 1;
  f.body.forEach((ins, i) => {
    if (ins.op === 'end' || ins.op === 'else') depth--;
    if (!(ins.op === 'end' && i === f.body.length - 1)) lines.push(`${'  '.repeat(depth)}${instrText(m, ins)}`);
    if (ins.op === 'block' || ins.op === 'loop' || ins.op === 'if' || ins.op === 'else') depth++;
  });
  lines.push(')');
  return lines.join('\n');
}

function dataString(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += `\\${b.toString(16).padStart(2, '0')}`;
  return out;
}

/**
 * Case k as a module in WebAssembly text: the case's wrapper exported as
 * `main`, the functions it can reach (the others with empty bodies, so that
 * the table keeps its indices), globals, table and, with `data`, the bytes of
 * the scratch region. It assembles with binaryen / wat2wasm as is.
 */
export function dumpCase(p: GenProgram, k: number, data = false): string {
  const b = buildModule(p);
  const keep = new Set(reachable(p, k));
  const out: string[] = [`;; seed ${p.seed}, case ${k} (export ${b.exports[k]}), base 0x${p.base.toString(16)}`, '(module'];
  out.push(`  (memory (export "memory") ${b.module.memories[0]!.min})`);
  p.globals.forEach((g, i) => out.push(`  (global $g${i} ${g.mutable ? `(mut ${g.t})` : g.t} (${g.t}.const ${g.init}))`));
  out.push(`  (table ${p.tableSize} ${p.tableSize} funcref)`);
  out.push(`  (elem (i32.const 0) func ${p.funcs.map((f) => `$${f.name}`).join(' ')})`);
  if (p.data.some((x) => x !== 0)) {
    out.push(data ? `  (data (i32.const 0x${p.base.toString(16)}) "${dataString(p.data)}")` : `  ;; (data (i32.const 0x${p.base.toString(16)}) ...${p.data.length} random bytes of seed ${p.seed}: dumpCase(p, k, true) writes them)`);
  }
  out.push(dumpFunc(b.module, p.funcs.length + k, 'main'));
  p.funcs.forEach((f, j) => {
    if (keep.has(j)) out.push(dumpFunc(b.module, j));
    else out.push(`(func $${f.name}${typeText({ params: f.params, results: f.result ? [f.result] : [] })}${f.result ? ` (${f.result}.const 0)` : ''})  ;; not reachable from case ${k}`);
  });
  out.push(')');
  return out.join('\n');
}
