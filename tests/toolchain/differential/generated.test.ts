/**
 * Generated differential tests: seeded random programs (generator.ts), 50
 * functions per module, one case per function; each case runs in V8 and,
 * translated, on the emulated CPU, and the result, the way it ended and the
 * scratch region (with the globals dumped into it) must agree bit for bit.
 *
 * Default: seeds 1..204 = 10 200 cases, spread over worker threads (one per
 * CPU). A failing case is reduced and printed as WAT-like text with its seed.
 *
 *   DIFF_SEEDS=1-204 | 17 | 3,9,12   which modules (default 1-204)
 *   DIFF_CASE=k                      only case k of each module (e.g. to reproduce one)
 *   DIFF_FUNCS=50                    functions (cases) per module
 *   DIFF_WORKERS=n                   worker threads (default: available CPUs)
 *   DIFF_REDUCE=0                    do not reduce failing cases
 */
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunOptions, SeedResult } from './gen-runner.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');

function parseSeeds(s: string): number[] {
  const out: number[] = [];
  for (const part of s.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+))?\s*$/.exec(part);
    if (!m) throw new Error(`DIFF_SEEDS: cannot read '${part}'`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}

const env = process.env;
const seeds = parseSeeds(env.DIFF_SEEDS ?? '1-204');
const opts: RunOptions = {
  funcs: env.DIFF_FUNCS ? Number(env.DIFF_FUNCS) : undefined,
  only: env.DIFF_CASE !== undefined ? Number(env.DIFF_CASE) : undefined,
  reduce: env.DIFF_REDUCE !== '0',
  reduceMax: 1,
};
const nWorkers = Math.max(1, Math.min(Number(env.DIFF_WORKERS ?? availableParallelism()), seeds.length));

// The worker script: gen-worker.ts and everything it imports, bundled.
const { build } = await import('esbuild');
const dir = join(tmpdir(), 'kmemlab-differential-cache');
mkdirSync(dir, { recursive: true });
const workerFile = join(dir, `gen-worker-${process.pid}-${Date.now()}.mjs`);
await build({
  entryPoints: [join(ROOT, 'tests/toolchain/differential/gen-worker.ts')], bundle: true, platform: 'node', format: 'esm',
  target: 'node20', outfile: workerFile, logLevel: 'warning', external: ['esbuild', 'binaryen', 'assemblyscript'], sourcemap: 'inline',
});

type Reply = { id: number; result?: SeedResult; error?: string };
const pending = new Map<number, { resolve: (r: SeedResult) => void; reject: (e: Error) => void }>();
const queue: number[] = [...seeds];
const results = new Map<number, Promise<SeedResult>>();
for (const s of seeds) {
  results.set(s, new Promise<SeedResult>((resolve, reject) => pending.set(s, { resolve, reject })));
}
const workers: Worker[] = [];
for (let i = 0; i < nWorkers; i++) {
  const w = new Worker(pathToFileURL(workerFile));
  let current: number | undefined;
  const feed = (): void => {
    current = queue.shift();
    if (current !== undefined) w.postMessage({ id: current, seed: current, opts });
  };
  w.on('message', (m: Reply | { ready: true }) => {
    if ('ready' in m) return feed();
    const p = pending.get(m.id)!;
    if (m.result) p.resolve(m.result); else p.reject(new Error(m.error));
    feed();
  });
  // A worker that dies fails the seed it was running; the others go on.
  w.on('error', (e) => {
    if (current !== undefined) pending.get(current)!.reject(e);
    current = undefined;
  });
  workers.push(w);
}
afterAll(async () => {
  await Promise.all(workers.map((w) => w.terminate()));
  rmSync(workerFile, { force: true });
});

const started = performance.now();
let cases = 0;
let traps = 0;
let guest = 0;
let done = 0;

describe(`generated programs: ${seeds.length} modules × ${opts.funcs ?? 50} cases, ${nWorkers} worker(s)`, () => {
  for (const seed of seeds) {
    it(`seed ${seed}`, async () => {
      const r = await results.get(seed)!;
      cases += r.cases;
      traps += r.traps;
      guest += r.guestInsns;
      if (++done === seeds.length) {
        const s = ((performance.now() - started) / 1000).toFixed(1);
        console.log(`generated: ${cases} cases (${traps} end in a trap), ${guest} guest instructions, ${s} s after collection`);
      }
      if (env.DIFF_VERBOSE) console.log(`seed ${seed}: ${JSON.stringify(r.ms)} ${r.cases} cases ${r.guestInsns} insns`);
      const lines = [...r.errors];
      for (const f of r.failures.slice(0, 3)) {
        lines.push(`${f.text}\nreproduce: DIFF_SEEDS=${f.seed} DIFF_CASE=${f.k} npx vitest run tests/toolchain/differential/generated.test.ts\n${f.dump}`);
      }
      if (r.failures.length > 3) lines.push(`… and ${r.failures.length - 3} more failing cases in seed ${seed}`);
      expect(lines.join('\n\n'), lines.join('\n\n')).toBe('');
      expect(r.cases, 'cases run').toBeGreaterThan(0);
    }, 600_000);
  }
});
