/**
 * Runs generated programs through both sides: one module per seed, one image
 * per module (its `main` dispatches on a selector word in memory), one
 * machine per image, restored before each case (ImageRunner; sampled against
 * fresh machines). V8 keeps one instance per module and gets the scratch
 * region restored before each case (the wrappers reset the globals).
 * A failing case is reduced (reduce.ts) and dumped as WebAssembly text; the
 * complete module (with its data) goes to $TMPDIR/kmemlab-differential-failures/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Instr, WasmModule } from '../../../toolchain/wasm/module.js';
import {
  BASE, ImageRunner, buildImage, compare, instantiate, outcomeText, readModule, runImage, runOracle, sameOutcome, type Image, type Mismatch,
  type Poke, type Range,
} from './harness.js';
import { REGION_SIZE, SELECTOR_OFFSET, buildModule, generateProgram, type GenOptions, type GenProgram } from './generator.js';
import { dumpCase, reduceProgram } from './reduce.js';

/** Write a failing case as a complete .wat module (data included); the path. */
function saveCase(p: GenProgram, k: number, what: string): string {
  const dir = join(tmpdir(), 'kmemlab-differential-failures');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `seed${p.seed}-case${k}-${what}.wat`);
  writeFileSync(file, dumpCase(p, k, true));
  return file;
}

export const GEN_FUNCS = 50;
/** Failing cases reduced per process (worker): reduction costs seconds, and the same bug tends to fail many seeds. */
let reductionsLeft = 4;
/** Guest instructions per case; generated cases need far fewer (a few 10 000 at most). */
export const GEN_LIMIT = 5_000_000;

export interface CaseFailure {
  seed: number;
  k: number;
  text: string;
  dump: string;
}

export interface SeedResult {
  seed: number;
  cases: number;
  traps: number;
  guestInsns: number;
  failures: CaseFailure[];
  /** Problems outside the cases: the reader disagreeing with the encoder, the translator or linker throwing. */
  errors: string[];
  ms: { build: number; oracle: number; machine: number; [phase: string]: number };
}

const ranges: Range[] = [{ start: BASE, length: REGION_SIZE }];

function pokesFor(p: GenProgram, k: number): Poke[] {
  const region = new Uint8Array(REGION_SIZE);
  region.set(p.data, 0);
  new DataView(region.buffer).setUint32(SELECTOR_OFFSET, k, true);
  return [{ addr: BASE, bytes: region }];
}

/** Does the reader give back what the encoder wrote? One line per difference (first few). */
export function readerMismatches(mine: WasmModule, read: WasmModule): string[] {
  const out: string[] = [];
  const fields: (keyof Instr)[] = ['op', 'offset', 'index', 'table', 'value', 'align', 'memOffset', 'labels', 'defaultLabel', 'selectType'];
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) === JSON.stringify(b, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  if (read.funcs.length !== mine.funcs.length) return [`reader: ${read.funcs.length} functions, encoder wrote ${mine.funcs.length}`];
  for (let f = 0; f < mine.funcs.length && out.length < 5; f++) {
    const a = mine.funcs[f]!;
    const b = read.funcs[f]!;
    if (!same(a.locals, b.locals)) out.push(`reader: ${a.name} locals ${JSON.stringify(b.locals)}, encoder wrote ${JSON.stringify(a.locals)}`);
    const n = Math.max(a.body.length, b.body.length);
    for (let i = 0; i < n && out.length < 5; i++) {
      const x = a.body[i];
      const y = b.body[i];
      if (!x || !y) { out.push(`reader: ${a.name} has ${b.body.length} instructions, encoder wrote ${a.body.length}`); break; }
      for (const k of fields) {
        const vx = x[k];
        const vy = y[k];
        if (vx === undefined && (k === 'table' || k === 'selectType')) continue;
        if (k === 'align' || k === 'memOffset' || k === 'table') { if ((vx ?? 0) !== (vy ?? 0)) out.push(`reader: ${a.name}[${i}] ${x.op}: ${k} ${String(vy)}, encoder wrote ${String(vx)}`); continue; }
        if (!same(vx, vy)) out.push(`reader: ${a.name}[${i}] ${x.op}: ${k} ${String(vy)}, encoder wrote ${String(vx)}`);
      }
      const bt = (t: Instr['blockType']): string => (t ? `${t.params.join(',')}->${t.results.join(',')}` : '->');
      if ((x.op === 'block' || x.op === 'loop' || x.op === 'if') && bt(x.blockType) !== bt(y.blockType)) {
        out.push(`reader: ${a.name}[${i}] ${x.op}: block type ${bt(y.blockType)}, encoder wrote ${bt(x.blockType)}`);
      }
    }
  }
  return out;
}

/** Build, run and compare case k of a program (for the reducer); the mismatch, or undefined. */
export function checkCase(p: GenProgram, k: number): Mismatch | undefined {
  const b = buildModule(p);
  const o = instantiate(new WebAssembly.Module(b.bytes));
  const want = runOracle(o, b.exports[k]!, ranges, pokesFor(p, k));
  const img = buildImage(b.bytes, b.exports[k]!);
  const got = runImage(img, ranges, pokesFor(p, k), GEN_LIMIT);
  return compare(`seed ${p.seed} case ${k}`, ranges, want, got);
}

export interface RunOptions extends GenOptions {
  /** Reduce failing cases (the first `reduceMax` of each seed). */
  reduce?: boolean;
  reduceMax?: number;
  only?: number;
}

/** The first line of a translator error without the function it names, to recognise the same failure in a reduced program. */
const errorKey = (e: unknown): string => String((e as Error)?.message ?? e).split('\n')[0]!.replace(/ in function \S+/g, '').replace(/\bf\d+\b/g, 'f#');

export function runSeed(seed: number, opts: RunOptions = {}): SeedResult {
  const res: SeedResult = { seed, cases: 0, traps: 0, guestInsns: 0, failures: [], errors: [], ms: { build: 0, oracle: 0, machine: 0 } };
  let t = performance.now();
  let p = generateProgram(seed, BASE, { funcs: opts.funcs ?? GEN_FUNCS, budget: opts.budget });
  let b = buildModule(p);
  if (!WebAssembly.validate(b.bytes)) {
    let why = '';
    try { new WebAssembly.Module(b.bytes); } catch (e) { why = (e as Error).message; }
    res.errors.push(`seed ${seed}: the generator made an invalid module: ${why}`);
    return res;
  }
  const lap = (phase: string): void => { const now = performance.now(); res.ms[phase] = (res.ms[phase] ?? 0) + now - t; res.ms.build += now - t; t = now; };
  lap('generate');
  if (seed % 4 === 1) res.errors.push(...readerMismatches(b.module, readModule(b.bytes)).map((s) => `seed ${seed}: ${s}`));
  lap('readerCheck');
  // Translate; a function the translator rejects is reported (reduced), then replaced by a trivial body so
  // that the other cases of the module still run.
  let img: Image | undefined;
  const rejected = new Set<number>();
  for (let attempt = 0; attempt < 10 && !img; attempt++) {
    try {
      img = buildImage(b.bytes, 'main');
      lap('translateLink');
    } catch (e) {
      lap('translateLink');
      const key = errorKey(e);
      const j = Number(/in function f(\d+)/.exec(String((e as Error).message))?.[1] ?? -1);
      if (j < 0 || rejected.has(j)) {
        res.errors.push(`seed ${seed}: translating or linking failed: ${(e as Error).stack ?? e}`);
        return res;
      }
      rejected.add(j);
      let dump = dumpCase(p, j);
      if (opts.reduce && reductionsLeft > 0) {
        reductionsLeft--;
        const r = reduceProgram(p, j, (q) => {
          try { buildImage(buildModule(q).bytes, `case${j}`); return false; } catch (x) { return errorKey(x) === key; }
        }, 400);
        dump = `;; reduced in ${r.steps} steps (${r.tries} tries); the module with its data: ${saveCase(r.program, j, 'reduced')}\n${dumpCase(r.program, j)}`;
      }
      res.failures.push({ seed, k: j, text: `seed ${seed} f${j}: the translator rejects a valid module: ${(e as Error).message.split('\n')[0]}`, dump });
      p = structuredClone(p);
      const f = p.funcs[j]!;
      f.body = [];
      if (f.result) f.tail = { k: 'const', t: f.result, v: 0n };
      b = buildModule(p);
    }
  }
  if (!img) return res;
  const oracle = instantiate(new WebAssembly.Module(b.bytes));
  lap('v8');
  const runner = new ImageRunner(img);
  let reduced = 0;
  for (let k = 0; k < p.funcs.length; k++) {
    if ((opts.only !== undefined && k !== opts.only) || rejected.has(k)) continue;
    res.cases++;
    t = performance.now();
    const want = runOracle(oracle, 'main', ranges, pokesFor(p, k));
    res.ms.oracle += performance.now() - t;
    t = performance.now();
    const got = runner.run(ranges, pokesFor(p, k), GEN_LIMIT);
    // Samples: a reused machine must behave exactly as a fresh one.
    if (k % 16 === 1) {
      const fresh = runner.run(ranges, pokesFor(p, k), GEN_LIMIT, true);
      if (!sameOutcome(fresh.outcome, got.outcome) || fresh.insns !== got.insns || compare('', ranges, fresh, got)) {
        res.errors.push(`seed ${seed} case ${k}: a reused machine ${outcomeText(got.outcome)} in ${got.insns} instructions, a fresh one ${outcomeText(fresh.outcome)} in ${fresh.insns}`);
      }
    }
    res.ms.machine += performance.now() - t;
    res.guestInsns += got.insns;
    if (want.outcome.kind === 'trap') res.traps++;
    const bad = compare(`seed ${seed} case ${k} (export ${b.exports[k]}, f${k})`, ranges, want, got);
    if (!bad) continue;
    let dump = dumpCase(p, k);
    if (opts.reduce && reduced < (opts.reduceMax ?? 1) && reductionsLeft > 0) {
      reduced++;
      reductionsLeft--;
      const kind = bad.kind;
      const r = reduceProgram(p, k, (q) => {
        try { return checkCase(q, k)?.kind === kind; } catch { return false; }
      }, 400);
      const again = checkCase(r.program, k);
      dump = `;; reduced in ${r.steps} steps (${r.tries} tries)${again ? `: ${again.text.split('\n')[0]}` : ''}; the module with its data: ${saveCase(r.program, k, 'reduced')}\n${dumpCase(r.program, k)}`;
    }
    res.failures.push({ seed, k, text: bad.text, dump });
  }
  return res;
}
