/**
 * Code-quality benchmark of the toolchain (issue 3; not a test, no thresholds).
 *
 * For a few AssemblyScript programs (tests/toolchain/corpus/bench_*.ts:
 * sieve, linked-list churn, hashing, memcpy) it reports
 *   - wasm instructions executed, counted by running an instrumented copy of
 *     the module in V8: before every instruction except the structural
 *     markers (block, loop, else, end) the rewrite adds
 *     `global.get $n; i64.const 1; i64.add; global.set $n` (reader →
 *     rewrite → our differential encoder; exact, since the increment runs
 *     before the instruction it counts, whatever the control flow);
 *   - guest instructions the translated program executes on our Machine
 *     (bare M-mode image, whole run including the stub's few instructions);
 *   - their ratio;
 *   - when riscv64-unknown-elf-gcc is installed, the guest instructions of
 *     the same algorithm in C (tests/toolchain/corpus/c/, -O2 -march=rv64imac
 *     -mabi=lp64, bare metal, HTIF exit) and the AssemblyScript/C ratio.
 * Both sides must compute the same result; the table says so.
 *
 * Run:  npx esbuild bench/toolchain.ts --bundle --platform=node --format=esm \
 *         --packages=external --outfile=dist/bench-toolchain.js && node dist/bench-toolchain.js
 */
import '../tests/toolchain/differential/bundle-inline.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from '../emulator/machine/machine.js';
import { parseElf } from '../emulator/machine/elf.js';
import type { Instr, WasmModule } from '../toolchain/wasm/module.js';
import {
  CORPUS, ImageRunner, buildImage, compileAsc, instantiate, readModule, runOracle, outcomeText,
} from '../tests/toolchain/differential/harness.js';
import { encodeWasm } from '../tests/toolchain/differential/wasm-encode.js';

const PROGRAMS = ['bench_sieve', 'bench_list', 'bench_hash', 'bench_memcpy'];
const GCC = 'riscv64-unknown-elf-gcc';
const LIMIT = 2_000_000_000;
const UNCOUNTED = new Set(['block', 'loop', 'else', 'end']);

/** A copy of `m` that counts executed instructions in an exported mutable i64 global `__wasm_count`. */
function instrument(m: WasmModule): WasmModule {
  const counter = m.globals.length + m.importOther.filter((x) => x.kind === 'global').length;
  const at = (op: string, extra: Partial<Instr> = {}): Instr => ({ op, offset: 0, ...extra });
  const funcs = m.funcs.map((f) => {
    const body: Instr[] = [];
    for (const ins of f.body) {
      if (!UNCOUNTED.has(ins.op)) {
        body.push(at('global.get', { index: counter }), at('i64.const', { value: 1n }), at('i64.add'), at('global.set', { index: counter }));
      }
      body.push({ ...ins });
    }
    return { ...f, body };
  });
  return {
    ...m,
    funcs,
    globals: [...m.globals, { type: 'i64', mutable: true, init: [at('i64.const', { value: 0n })], name: '__wasm_count' }],
    exports: [...m.exports, { name: '__wasm_count', kind: 'global', index: counter }],
  };
}

interface Row {
  name: string;
  wasm: bigint;
  guest: number;
  same: boolean;
  c?: number;
  cSame?: boolean;
  note?: string;
}

function haveGcc(): boolean {
  return spawnSync('sh', ['-c', `command -v ${GCC}`]).status === 0;
}

/** Compile tests/toolchain/corpus/c/<name>.c bare-metal; the ELF bytes. */
function compileC(name: string, dir: string): Uint8Array {
  const c = join(CORPUS, 'c');
  // -march: rv64imac plus zicsr, which GCC 12+ wants spelled out for crt0's csrr; the C code is compiled the same either way.
  const arch = ['-march=rv64imac_zicsr', '-mabi=lp64', '-mcmodel=medany', '-O2', '-ffreestanding'];
  const support = join(dir, 'support.o');
  let r = spawnSync(GCC, [...arch, '-fno-builtin', '-fno-tree-loop-distribute-patterns', '-c', join(c, 'support.c'), '-o', support], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  const out = join(dir, `${name}.elf`);
  r = spawnSync(GCC, [...arch, '-nostdlib', '-static', '-T', join(c, 'link.ld'), join(c, 'crt0.S'), join(c, `${name}.c`), support, '-lgcc', '-o', out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return new Uint8Array(readFileSync(out));
}

function runC(elf: Uint8Array, name: string): { insns: number; result: bigint } {
  const m = new Machine({ harts: 1, dramSize: 16 * 1024 * 1024, highmemSize: 0, kernel: { name: `${name}.elf`, bytes: elf } });
  const stop = m.run(LIMIT);
  if (stop !== 'exit' || m.exit?.kind !== 'pass') throw new Error(`${name}.c: the run ended with ${stop} ${JSON.stringify(m.exit)}`);
  const at = parseElf(elf, name).symbols.get('__result');
  if (at === undefined) throw new Error(`${name}.c: no __result symbol`);
  const b = m.mem.readBytes(Number(at), 8);
  return { insns: m.insns, result: new DataView(b.buffer, b.byteOffset).getBigUint64(0, true) };
}

async function main(): Promise<void> {
  const files = PROGRAMS.map((p) => join(CORPUS, `${p}.ts`));
  const wasm = await compileAsc(files);
  const gcc = haveGcc();
  const dir = mkdtempSync(join(tmpdir(), 'kmemlab-bench-toolchain-'));
  const rows: Row[] = [];
  try {
    for (const [i, name] of PROGRAMS.entries()) {
      const bytes = wasm.get(files[i]!)!;
      const m = readModule(bytes);
      // The count: the instrumented module in V8.
      const counted = instantiate(new WebAssembly.Module(encodeWasm(instrument(readModule(bytes)))));
      const plain = runOracle(counted, 'main', []);
      if (plain.outcome.kind !== 'return') throw new Error(`${name}: V8 ${outcomeText(plain.outcome)}`);
      const wasmCount = (counted.instance.exports.__wasm_count as WebAssembly.Global).value as bigint;
      // The reference result, from the module as asc wrote it.
      const ref = runOracle(instantiate(new WebAssembly.Module(bytes)), 'main', []);
      // The machine.
      const run = new ImageRunner(buildImage(bytes, 'main', m)).run([], [], LIMIT, true);
      const same = ref.outcome.kind === 'return' && run.outcome.kind === 'return' && ref.outcome.value === run.outcome.value &&
        plain.outcome.value === ref.outcome.value;
      const row: Row = { name, wasm: wasmCount, guest: run.insns, same };
      if (gcc) {
        try {
          const c = runC(compileC(name, dir), name);
          row.c = c.insns;
          row.cSame = ref.outcome.kind === 'return' && c.result === ref.outcome.value;
        } catch (e) {
          row.note = `C: ${(e as Error).message.split('\n')[0]}`;
        }
      }
      rows.push(row);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const fmt = (n: number | bigint): string => n.toLocaleString('en-US');
  const head = ['program', 'wasm insns', 'guest insns', 'guest/wasm', ...(gcc ? ['C -O2 insns', 'AS/C'] : []), 'results agree'];
  const table = rows.map((r) => [
    r.name.replace('bench_', ''),
    fmt(r.wasm),
    fmt(r.guest),
    (r.guest / Number(r.wasm)).toFixed(2),
    ...(gcc ? [r.c !== undefined ? fmt(r.c) : '-', r.c !== undefined ? (r.guest / r.c).toFixed(2) : '-'] : []),
    `${r.same ? 'V8 = RV64' : 'V8 ≠ RV64!'}${r.cSame === undefined ? '' : r.cSame ? ', = C' : ', ≠ C!'}${r.note ? ` (${r.note})` : ''}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  console.log('Toolchain code quality: AssemblyScript → wasm (asc -O3) → RV64 (translate, zext, bare M-mode)');
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of table) console.log(line(row));
  if (!gcc) console.log(`(${GCC} not installed: no C comparison)`);
}

await main();
