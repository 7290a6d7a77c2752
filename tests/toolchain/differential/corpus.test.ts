/**
 * Differential corpus: every zero-argument export of every program in
 * tests/toolchain/corpus (AssemblyScript compiled by asc at the bare memory
 * base, and hand-written WAT) runs in V8 and, translated, on the emulated
 * CPU; the outcome (result, wasm trap, abort) and the program's memory
 * [BASE, BASE + 256 KiB) must agree bit for bit.
 *
 * The programs are compiled once, while the file is collected (asc in
 * parallel child processes, cached by content in the OS temp directory).
 */
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { WasmModule } from '../../../toolchain/wasm/module.js';
import {
  EXIT_ABORT, EXIT_WASM_TRAP, buildImage, compare, compileAsc, compileWat, corpusFiles, corpusRanges, exportResultType,
  instantiate, outcomeText, readModule, runImage, runOracle,
} from './harness.js';

interface Program { name: string; bytes: Uint8Array; module: WasmModule; wasm: WebAssembly.Module; exports: string[] }

async function loadCorpus(): Promise<Program[]> {
  const files = corpusFiles();
  const asc = await compileAsc(files.filter((f) => f.endsWith('.ts')));
  const out: Program[] = [];
  for (const file of files) {
    const bytes = file.endsWith('.wat') ? await compileWat(file) : asc.get(file)!;
    const module = readModule(bytes);
    const exports = module.exports
      .filter((e) => e.kind === 'func' && (module.funcs[e.index - module.importFuncs.length]?.type.params.length ?? 1) === 0)
      .map((e) => e.name);
    out.push({ name: basename(file), bytes, module, wasm: new WebAssembly.Module(bytes), exports });
  }
  return out;
}

const programs = await loadCorpus();

/** What V8 must do with the exports that exist to trap (a check of the corpus itself). */
const EXPECTED_TRAPS: Record<string, number> = {
  'arith32.ts div_s_overflow': EXIT_WASM_TRAP,
  'arith32.ts div_s_by_zero': EXIT_WASM_TRAP,
  'arith32.ts div_u_by_zero': EXIT_WASM_TRAP,
  'arith32.ts rem_s_by_zero': EXIT_WASM_TRAP,
  'arith32.ts rem_u_by_zero': EXIT_WASM_TRAP,
  'arith64.ts div_s_overflow': EXIT_WASM_TRAP,
  'arith64.ts div_s_by_zero': EXIT_WASM_TRAP,
  'arith64.ts div_u_by_zero': EXIT_WASM_TRAP,
  'arith64.ts rem_s_by_zero': EXIT_WASM_TRAP,
  'arith64.ts rem_u_by_zero': EXIT_WASM_TRAP,
  'handwritten.wat indirect_mismatch': EXIT_WASM_TRAP,
  'handwritten.wat indirect_null': EXIT_WASM_TRAP,
  'handwritten.wat indirect_out_of_range': EXIT_WASM_TRAP,
  'handwritten.wat indirect_huge_index': EXIT_WASM_TRAP,
  'handwritten.wat atomic_unaligned': EXIT_WASM_TRAP,
  'handwritten.wat atomic_unaligned_load': EXIT_WASM_TRAP,
  'handwritten.wat atomic_unaligned_store': EXIT_WASM_TRAP,
  'handwritten.wat atomic_unaligned_cmpxchg': EXIT_WASM_TRAP,
  'handwritten.wat atomic_unaligned_rmw16': EXIT_WASM_TRAP,
  'handwritten.wat atomic_unaligned_offset': EXIT_WASM_TRAP,
  'traps.ts reaches_unreachable': EXIT_WASM_TRAP,
  'traps.ts store_then_trap': EXIT_WASM_TRAP,
  'traps.ts bounds_abort': EXIT_ABORT,
  'traps.ts explicit_abort': EXIT_ABORT,
};

/** Opcodes the corpus must contain (beyond those, the generated programs cover the rest). */
const REQUIRED_OPS = [
  ...['add', 'sub', 'mul', 'div_s', 'div_u', 'rem_s', 'rem_u', 'and', 'or', 'xor', 'shl', 'shr_s', 'shr_u', 'rotl', 'rotr', 'clz', 'ctz', 'popcnt',
    'eqz', 'eq', 'ne', 'lt_s', 'lt_u', 'gt_s', 'gt_u', 'le_s', 'le_u', 'ge_s', 'ge_u', 'extend8_s', 'extend16_s', 'load', 'store', 'const',
    'load8_s', 'load8_u', 'load16_s', 'load16_u', 'store8', 'store16', 'atomic.load', 'atomic.store', 'atomic.rmw.add', 'atomic.rmw.sub',
    'atomic.rmw.and', 'atomic.rmw.or', 'atomic.rmw.xor', 'atomic.rmw.xchg', 'atomic.rmw.cmpxchg', 'atomic.rmw8.add_u', 'atomic.rmw16.cmpxchg_u',
    'atomic.load8_u', 'atomic.load16_u', 'atomic.store8', 'atomic.store16',
  ].flatMap((o) => [`i32.${o}`, `i64.${o}`]),
  'i64.load32_s', 'i64.load32_u', 'i64.store32', 'i64.extend32_s', 'i64.atomic.load32_u', 'i64.atomic.store32', 'i64.atomic.rmw32.or_u',
  'i32.wrap_i64', 'i64.extend_i32_s', 'i64.extend_i32_u',
  'block', 'loop', 'if', 'else', 'br', 'br_if', 'br_table', 'return', 'unreachable', 'call', 'call_indirect', 'drop', 'select', 'nop',
  'local.get', 'local.set', 'local.tee', 'global.get', 'global.set', 'memory.copy', 'memory.fill', 'atomic.fence',
];

describe('differential corpus: V8 against the translated code on the emulated CPU', () => {
  it('covers every required opcode', () => {
    const seen = new Set<string>();
    for (const p of programs) for (const f of p.module.funcs) for (const i of f.body) seen.add(i.op);
    expect(REQUIRED_OPS.filter((op) => !seen.has(op))).toEqual([]);
  });

  for (const p of programs) {
    describe(p.name, () => {
      for (const name of p.exports) {
        it(name, () => {
          const ranges = corpusRanges(p.module);
          const want = runOracle(instantiate(p.wasm), name, ranges);
          const expected = EXPECTED_TRAPS[`${p.name} ${name}`];
          if (expected !== undefined) {
            expect(want.outcome.kind === 'trap' && want.outcome.code, `V8 ${outcomeText(want.outcome)}`).toBe(expected);
          } else {
            expect(want.outcome.kind, `V8 ${outcomeText(want.outcome)}`).toBe('return');
          }
          const img = buildImage(p.bytes, name, p.module);
          const got = runImage(img, ranges);
          const bad = compare(`${p.name} ${name}`, ranges, want, got, exportResultType(p.module, name));
          expect(bad?.text, bad?.text).toBeUndefined();
        });
      }
    });
  }
});
