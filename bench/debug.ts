/**
 * What a debugger costs (issue 8; part of `npm run bench`; figures as
 * measured in one run, never thresholds). The kernel boots with
 * `selftest=slab,kmalloc` on 4 harts four ways:
 *
 *   plain            no debugger
 *   attached         emulator/debug/debugger.ts attached, nothing set: the
 *                    hooks sit on the slow paths only
 *   breakpoint       one breakpoint on a function the run never calls
 *                    (panic): its page leaves the fetch TLB
 *   bp, every stop   a breakpoint on __kmem_cache_alloc (SLUB's slab_alloc), stopped at and
 *                    continued from every time (the cost per stop)
 *
 * Each way is timed best of three after a warm-up boot. Every way must execute the same instructions (a debugger that only stops
 * and continues changes nothing of the run): the table says so or not.
 */
import { findRoot } from '../toolchain/build.js';
import { parseElf } from '../emulator/machine/elf.js';
import { Machine } from '../emulator/machine/machine.js';
import { Debugger } from '../emulator/debug/debugger.js';
import { kernelImages, table } from './kernel_bench.js';

const APPEND = 'selftest=slab,kmalloc';
const HARTS = 4;
const LIMIT = 2_000_000_000;

function symbol(symbols: ReadonlyMap<string, bigint>, suffix: string): bigint {
  for (const [name, addr] of symbols) if (name === suffix || name.endsWith(`/${suffix}`)) return addr;
  throw new Error(`the kernel has no symbol ${suffix}`);
}

export async function debugBench(): Promise<void> {
  const root = findRoot(process.cwd());
  if (root === undefined) throw new Error(`no asconfig.json above ${process.cwd()}: run the benchmark from the project`);
  const images = await kernelImages(root);
  const symbols = parseElf(images.kernel, 'kernel.elf').symbols;
  const make = (): Machine => new Machine({
    harts: HARTS,
    bios: { name: 'firmware.elf', bytes: images.bios },
    kernel: { name: 'kernel.elf', bytes: images.kernel },
    append: APPEND,
  });
  const ways: { name: string; setup: (m: Machine) => Debugger | undefined }[] = [
    { name: 'plain', setup: () => undefined },
    { name: 'attached', setup: (m) => new Debugger(m) },
    { name: 'breakpoint', setup: (m) => { const d = new Debugger(m); d.addBreakpoint(symbol(symbols, 'panic')); return d; } },
    { name: 'bp, every stop', setup: (m) => { const d = new Debugger(m); d.addBreakpoint(symbol(symbols, '__kmem_cache_alloc')); return d; } },
  ];
  const rows: string[][] = [];
  let base = 0;
  let baseInsns = 0;
  const once = (w: (typeof ways)[number]): { m: Machine; stops: number; ms: number } => {
    const m = make();
    const d = w.setup(m);
    let stops = 0;
    const t0 = process.hrtime.bigint();
    if (d) {
      for (;;) {
        const e = d.cont(LIMIT - m.insns);
        if (e.reason !== 'breakpoint') break;
        stops++;
      }
    } else {
      m.run(LIMIT);
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (m.exit?.kind !== 'pass') throw new Error(`debug bench (${w.name}) did not power off cleanly: ${JSON.stringify(m.exit)}`);
    return { m, stops, ms };
  };
  once(ways[0]!); // warm the JIT up: the first boot in a process is the slowest
  for (const w of ways) {
    // Best of three: the least disturbed by the rest of the host.
    const runs = [once(w), once(w), once(w)];
    const { m, stops } = runs[0]!;
    const ms = Math.min(...runs.map((r) => r.ms));
    if (w.name === 'plain') { base = ms; baseInsns = m.insns; }
    rows.push([w.name, String(m.insns), m.insns === baseInsns ? 'yes' : 'NO', String(stops), ms.toFixed(0), (ms / base).toFixed(2),
      stops ? ((ms - base) / stops * 1000).toFixed(1) : '-']);
  }
  console.log(`\n## The debugger's cost (${APPEND}, ${HARTS} harts)\n`);
  table(['way', 'instructions', 'same run', 'stops', 'ms', 'x plain', 'µs per stop'], rows, new Set([1, 3, 4, 5, 6]));
}
