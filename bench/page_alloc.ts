/**
 * The page allocator benchmark's host side (part of `npm run bench`; figures
 * as measured in one run, never thresholds). Builds the kernel and our
 * firmware (toolchain/build.ts, cached in build/ as `kmemlab build`), boots
 * them on 4 harts with `bench=page_alloc`, and tabulates the kernel's
 * `bench: <name> <N> insns/op` lines (kernel/test/page_bench.ts: guest
 * instructions per alloc+free pair, read from the instret CSR).
 *
 * The reference point is Linux's own order-0 fast path through the per-CPU
 * lists, given as an order of magnitude only ("a few hundred instructions"
 * per alloc+free pair on x86-64): it is not measured here, and the two
 * are different machines and compilers, so the table compares our paths with
 * our own order-0 fast path and leaves Linux as context.
 */
import { findRoot } from '../toolchain/build.js';
import { runGuestBench, type GuestBenchRun } from './kernel_bench.js';

const HARTS = 4;

/** What each figure measures (kernel/test/page_bench.ts). */
const WHAT: Record<string, string> = {
  order0_pcp: 'alloc_page + __free_page, GFP_KERNEL: head of the per-CPU list, no zone lock',
  order3_pcp: 'order 3: still a per-CPU list (orders 0-3)',
  order4_buddy: 'order 4: buddy lists under the zone lock, split on alloc, merge on free',
  order0_contended: `order 0 on all ${HARTS} CPUs at once (mean of the CPUs): each stays on its own per-CPU list`,
  order0_burst_contended: `all ${HARTS} CPUs: 128 allocs then 128 frees, so the lists refill and spill through the zone lock`,
};

/** What a boot of the benchmark gives (figures, rates, info lines, the boot's instructions and time). */
export type PageBenchResult = GuestBenchRun;

/** Boot `bench=page_alloc` and collect its lines. Throws when the build or the boot fails. */
export async function runPageBench(root: string, harts = HARTS): Promise<PageBenchResult> {
  const r = await runGuestBench(root, harts, 'bench=page_alloc');
  if (!r.figures.has('order0_pcp')) throw new Error(`no bench lines on the console; tail:\n${r.console.slice(-2000)}`);
  return r;
}

export async function pageAllocBench(): Promise<void> {
  const root = findRoot(process.cwd());
  if (root === undefined) {
    console.log('page allocator: no asconfig.json here or above; run npm run bench in the repository');
    return;
  }
  let r: PageBenchResult;
  try {
    r = await runPageBench(root);
  } catch (e) {
    console.log(`page allocator: ${(e as Error).message}`);
    return;
  }
  const base = r.figures.get('order0_pcp')!;
  const rows = [...r.figures].map(([name, n]) => [name, n.toLocaleString('en-US'), `${(n / base).toFixed(2)}x`, WHAT[name] ?? '']);
  const head = ['benchmark', 'insns/op', 'vs order0_pcp', 'what'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (i === 1 || i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  console.log(`page allocator (kernel bench=page_alloc, ${HARTS} harts, our firmware; guest instructions per alloc+free pair from instret):`);
  console.log(line(head));
  console.log(`|${widths.map((w, i) => (i === 1 || i === 2 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`);
  for (const row of rows) console.log(line(row));
  for (const i of r.info) console.log(`  ${i}`);
  console.log(`  (the whole boot: ${r.insns.toLocaleString('en-US')} instructions in ${r.ms.toFixed(0)} ms)`);
  console.log(
    "  reference: Linux's order-0 alloc+free through the per-CPU lists (__alloc_pages → rmqueue_pcplist, free_unref_page)\n" +
      '  is on the order of a few hundred instructions on x86-64 — an order of magnitude for context, not measured here;\n' +
      '  ours is AssemblyScript compiled to wasm and translated to RV64 by our toolchain, on another ISA.',
  );
}

// Run alone: npx esbuild bench/page_alloc.ts --bundle --platform=node --format=esm --outfile=dist/bench-page.js && node dist/bench-page.js --standalone
if (process.argv.includes('--standalone')) await pageAllocBench();
