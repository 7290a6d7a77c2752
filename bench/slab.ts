/**
 * The slab allocator benchmark's host side (part of `npm run bench`;
 * figures as measured in one run, never thresholds). Builds the kernel and
 * our firmware (toolchain/build.ts, cached in build/ as `kmemlab build`),
 * boots them with `bench=slab` on 1 hart and on 4, and tabulates the
 * kernel's lines (kernel/test/slab_bench.ts):
 *
 *   bench: <name> <N> insns/op   guest instructions (instret) per alloc+free
 *                                pair, or per object for the bursts
 *   bench: <name> <N> objs/s     kmalloc(64)+kfree pairs per second of machine
 *                                time (the time CSR), all CPUs together
 *
 * Objects per second are given two ways: in machine time, as the guest
 * measures it (time follows executed instructions: each hart runs a nominal
 * QUANTUM / insnsPerTick instructions per tick, so N harts do N times the
 * work per machine second), and in host time, from the host's MIPS over the
 * whole boot divided by the instructions per pair (one JS thread runs every
 * hart in turn, so more harts share the same host MIPS).
 *
 * The reference point is Linux SLUB's kmalloc/kfree fast path (a
 * this_cpu_cmpxchg_double on the per-CPU freelist, no lock, no interrupt
 * masking), given as an order of magnitude only ("tens of instructions" per
 * pair on x86-64): it is not measured here, and the two are different
 * machines and compilers.
 */
import { DEFAULT_INSNS_PER_TICK } from '../emulator/machine/machine.js';
import { TIMEBASE_FREQ } from '../emulator/machine/memmap.js';
import { findRoot } from '../toolchain/build.js';
import { runGuestBench, table, type GuestBenchRun } from './kernel_bench.js';


/** What each figure measures (kernel/test/slab_bench.ts). */
const WHAT: Record<string, string> = {
  kmalloc64_fast: 'kmalloc(64) + kfree, GFP_KERNEL: the CPU freelist (fast path)',
  cache_fast: 'kmem_cache_alloc + kmem_cache_free, 128-byte cache, no flags',
  cache_debug: 'the same with SLAB_POISON | SLAB_RED_ZONE: the debug path under list_lock',
  cache_newslab_alloc: 'per object: 4 slabs of allocations from an empty cache (new slabs from the page allocator)',
  cache_burst_free: 'per object: freeing such bursts (other slabs: __slab_free under list_lock)',
  cache_partial_refill: 'per object: allocating the burst again (CPU freelist, then get_partial)',
  kmalloc64_allcpus: 'kmalloc64_fast on every CPU at once (mean of the CPUs)',
  cache_burst_allcpus: 'every CPU: 128 allocs then 128 frees of one shared cache (refills through list_lock)',
  cache_remote_free: 'per object freed by another CPU than its allocator (remote __slab_free)',
};
const ORDER = Object.keys(WHAT);

/** What a boot of the benchmark gives (figures, rates, info lines, the boot's instructions and time). */
export type SlabBenchResult = GuestBenchRun;

/** Boot `bench=slab` on `harts` harts and collect its lines. Throws when the build or the boot fails. */
export async function runSlabBench(root: string, harts: number): Promise<SlabBenchResult> {
  const r = await runGuestBench(root, harts, 'bench=slab');
  if (!r.figures.has('kmalloc64_fast')) throw new Error(`no bench=slab lines on the console (${harts} harts); tail:\n${r.console.slice(-2000)}`);
  return r;
}


const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

export async function slabBench(): Promise<void> {
  const root = findRoot(process.cwd());
  if (root === undefined) {
    console.log('slab allocator: no asconfig.json here or above; run npm run bench in the repository');
    return;
  }
  const runs: SlabBenchResult[] = [];
  for (const harts of [1, 4]) {
    try {
      runs.push(await runSlabBench(root, harts));
    } catch (e) {
      console.log(`slab allocator: ${(e as Error).message}`);
      return;
    }
  }
  const [one, four] = runs as [SlabBenchResult, SlabBenchResult];
  const base = one.figures.get('kmalloc64_fast')!;
  const names = [...new Set([...ORDER, ...one.figures.keys(), ...four.figures.keys()])].filter((n) => one.figures.has(n) || four.figures.has(n));
  const cell = (r: SlabBenchResult, n: string): string => (r.figures.has(n) ? fmt(r.figures.get(n)!) : '—');
  const rows = names.map((n) => {
    const v = four.figures.get(n) ?? one.figures.get(n)!;
    return [n, cell(one, n), cell(four, n), `${(v / base).toFixed(2)}x`, WHAT[n] ?? ''];
  });
  console.log('slab allocator (kernel bench=slab, our firmware; guest instructions from instret, per alloc+free pair unless "per object"):');
  table(['benchmark', '1 hart', '4 harts', 'vs kmalloc64_fast', 'what'], rows, new Set([1, 2, 3]));

  // Objects per second: kmalloc(64)+kfree pairs on every CPU at once.
  const rateRows = runs.map((r) => {
    const per = r.figures.get('kmalloc64_allcpus') ?? r.figures.get('kmalloc64_fast')!;
    const mips = r.insns / r.ms / 1000;
    const machine = r.rates.get('kmalloc64_allcpus_rate');
    return [
      `${r.harts}`,
      fmt(per),
      machine === undefined ? '—' : fmt(machine),
      mips.toFixed(1),
      fmt((mips * 1e6) / per),
    ];
  });
  const nominal = (TIMEBASE_FREQ * DEFAULT_INSNS_PER_TICK) / 1e6; // MIPS per hart in machine time
  console.log(`objects per second (kmalloc(64)+kfree pairs, every hart at once):`);
  table(['harts', 'insns/pair', 'objs/s, machine time', 'host MIPS', 'objs/s, host time'], rateRows, new Set([0, 1, 2, 3, 4]));
  console.log(
    `  machine time: the time CSR (${TIMEBASE_FREQ / 1e6} MHz) advances one tick per ${DEFAULT_INSNS_PER_TICK} instructions of every hart's turn, so each hart\n` +
      `  runs a nominal ${nominal} MIPS of machine time and N harts do N times the pairs; host time: one JS thread runs all harts,\n` +
      '  so the objects/s on this host are the boot\'s MIPS over the instructions per pair, whatever the harts.',
  );
  for (const r of runs) for (const i of r.info) console.log(`  [${r.harts} hart${r.harts > 1 ? 's' : ''}] ${i}`);
  for (const r of runs) console.log(`  (the ${r.harts}-hart boot: ${fmt(r.insns)} instructions in ${r.ms.toFixed(0)} ms)`);
  console.log(
    "  reference: Linux SLUB's kmalloc/kfree fast path (this_cpu_cmpxchg_double on the per-CPU freelist, no lock, interrupts\n" +
      '  left on) is on the order of tens of instructions per pair on x86-64 — an order of magnitude for context, not measured\n' +
      '  here; ours is AssemblyScript compiled to wasm and translated to RV64 by our toolchain, and its fast path also masks\n' +
      '  interrupts and validates the pointer on every free.',
  );
}

// Run alone: npx esbuild bench/slab.ts --bundle --platform=node --format=esm --outfile=dist/bench-slab.js && node dist/bench-slab.js --standalone
if (process.argv.includes('--standalone')) await slabBench();
