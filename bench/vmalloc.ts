/**
 * The vmalloc / TLB shootdown / per-CPU benchmark's host side (issue 7; part
 * of `npm run bench`; figures as measured in one run, never thresholds).
 * Builds the kernel and our firmware (toolchain/build.ts, cached in build/
 * as `kmemlab build`), boots them with `bench=vmalloc` on 1, 4 and 16 harts,
 * and tabulates the kernel's lines (kernel/test/vm_bench.ts):
 *
 *   bench: <name> <N> insns/op            guest instructions (instret) per
 *                                         operation on the calling CPU
 *   bench: <name>_allharts <N> insns/op   the same summed over every hart (the
 *                                         other CPUs' IPI handling, their idle
 *                                         ticks subtracted)
 *
 * The shootdown table gives vfree of a 1-page area and a bare
 * flush_tlb_kernel_range of one page, on the calling CPU and over all harts,
 * with the ratio to the 1-hart figure: the flush is an IPI to every other
 * online CPU with a wait for all of them (arch/pgtable.ts), so its cost
 * grows with the harts.
 *
 * The Linux line is an order of magnitude only, from how Linux does these
 * things (lazy vfree purge, x86 this_cpu ops as one %gs instruction); it is
 * not measured here, and the two are different machines and compilers.
 */
import { findRoot } from '../toolchain/build.js';
import { runGuestBench, table, type GuestBenchRun } from './kernel_bench.js';

const HARTS = [1, 4, 16];

/** What each figure measures (kernel/test/vm_bench.ts). */
const WHAT: Record<string, string> = {
  vmalloc4: 'vmalloc(4 pages) + vfree, TLB shootdown included (calling CPU)',
  vmalloc4_allharts: 'the same, instructions of every hart',
  this_cpu_add: 'this_cpu_add on an alloc_percpu(8) u64 (irq save/restore around it)',
  percpu_alloc8: 'alloc_percpu(8) + free_percpu (first chunk; zeroed in every CPU unit)',
};

/** What a boot of the benchmark gives (figures, rates, info lines, the boot's instructions and time). */
export type VmBenchResult = GuestBenchRun;

/** Boot `bench=vmalloc` on `harts` harts and collect its lines. Throws when the build or the boot fails. */
export async function runVmBench(root: string, harts: number): Promise<VmBenchResult> {
  const r = await runGuestBench(root, harts, 'bench=vmalloc');
  if (!r.figures.has('vmalloc4')) throw new Error(`no bench=vmalloc lines on the console (${harts} harts); tail:\n${r.console.slice(-2000)}`);
  return r;
}


const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

export async function vmallocBench(): Promise<void> {
  const root = findRoot(process.cwd());
  if (root === undefined) {
    console.log('vmalloc/percpu: no asconfig.json here or above; run npm run bench in the repository');
    return;
  }
  const runs: VmBenchResult[] = [];
  for (const harts of HARTS) {
    try {
      runs.push(await runVmBench(root, harts));
    } catch (e) {
      console.log(`vmalloc/percpu: ${(e as Error).message}`);
      return;
    }
  }
  // With one hart there are no other CPUs: its all-harts figure is the calling CPU's.
  const get = (r: VmBenchResult, n: string): number | undefined => r.figures.get(n) ?? (r.harts === 1 ? r.figures.get(n.replace(/_allharts$/, '')) : undefined);
  const cell = (r: VmBenchResult, n: string): string => { const v = get(r, n); return v === undefined ? '—' : fmt(v); };
  const hartHead = runs.map((r) => `${r.harts} hart${r.harts > 1 ? 's' : ''}`);

  console.log('vmalloc and per-CPU (kernel bench=vmalloc, our firmware; guest instructions per operation from instret):');
  table(['benchmark', ...hartHead, 'what'], Object.keys(WHAT).map((n) => [n, ...runs.map((r) => cell(r, n)), WHAT[n]!]), new Set(runs.map((_, i) => i + 1)));

  // The shootdown as the harts grow: one row per hart count, ratio to 1 hart.
  console.log('TLB shootdown as harts grow (instructions per operation; "all harts" = the calling CPU plus the other CPUs, their idle ticks subtracted):');
  const one = runs[0]!;
  const ratio = (r: VmBenchResult, n: string): string => {
    const v = get(r, n), b = get(one, n);
    return v === undefined || b === undefined || b === 0 ? '—' : `${(v / b).toFixed(2)}x`;
  };
  const rows = runs.map((r) => [
    `${r.harts}`,
    cell(r, 'vfree1'), ratio(r, 'vfree1'),
    cell(r, 'vfree1_allharts'), ratio(r, 'vfree1_allharts'),
    cell(r, 'flush_tlb_range1'), ratio(r, 'flush_tlb_range1'),
    cell(r, 'flush_tlb_range1_allharts'), ratio(r, 'flush_tlb_range1_allharts'),
    r.harts > 1 && get(r, 'flush_tlb_range1_allharts') !== undefined && get(r, 'flush_tlb_range1') !== undefined
      ? fmt((get(r, 'flush_tlb_range1_allharts')! - get(r, 'flush_tlb_range1')!) / (r.harts - 1))
      : '—',
  ]);
  table(
    ['harts', 'vfree(1 page), caller', 'vs 1', 'vfree, all harts', 'vs 1', 'flush 1 page, caller', 'vs 1', 'flush, all harts', 'vs 1', 'per other hart'],
    rows,
    new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
  );
  console.log('  (vfree of a 1-page area alone, and a bare flush_tlb_kernel_range of one page; "per other hart" = (all harts − caller) / (harts − 1) for the flush)');
  for (const r of runs) for (const i of r.info) console.log(`  [${r.harts} hart${r.harts > 1 ? 's' : ''}] ${i}`);
  for (const r of runs) console.log(`  (the ${r.harts}-hart boot: ${fmt(r.insns)} instructions in ${r.ms.toFixed(0)} ms)`);
  console.log(
    '  reference, Linux (an order of magnitude for context, NOT measured here; different machines and compilers): this_cpu_add is\n' +
      '  one %gs-relative instruction on x86-64; vfree defers the unmap and the shootdown (lazy purge, one flush per batch), so a\n' +
      '  vmalloc+vfree pair costs thousands of instructions with the flush amortised; an IPI TLB shootdown costs the remote CPUs\n' +
      '  on the order of a thousand cycles each and the caller a few microseconds; alloc_percpu+free_percpu are thousands\n' +
      '  (pcpu_alloc_mutex, bitmap search, memset of every possible CPU\'s copy).',
  );
}

// Run alone: npx esbuild bench/vmalloc.ts --bundle --platform=node --format=esm --outfile=dist/bench-vmalloc.js && node dist/bench-vmalloc.js --standalone
if (process.argv.includes('--standalone')) await vmallocBench();
