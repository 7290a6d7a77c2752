/**
 * What the guest benchmarks share: build the kernel and our firmware once
 * (toolchain/build.ts, cached in build/ as `kmemlab build`), boot them with
 * `bench=NAME` on N harts to the end, and read the kernel's lines:
 *
 *   bench: <name> <N> insns/op     guest instructions (instret) per operation
 *   bench: <name> <N> objs/s       a rate the kernel computed
 *   bench-info: <text>             context printed beside the table
 *
 * Figures are as measured in one run, never thresholds.
 */
import { readFileSync } from 'node:fs';
import { Machine } from '../emulator/machine/machine.js';
import { buildImages } from '../toolchain/build.js';

const LIMIT = 2_000_000_000;

export interface GuestBenchRun {
  harts: number;
  /** `bench: <name> <N> insns/op` lines. */
  figures: Map<string, number>;
  /** `bench: <name> <N> objs/s` lines. */
  rates: Map<string, number>;
  /** `bench-info:` lines, and any line that says a benchmark failed. */
  info: string[];
  /** The whole boot's instructions and host milliseconds. */
  insns: number;
  ms: number;
  console: string;
}

export interface KernelImages { root: string; bios: Uint8Array; kernel: Uint8Array }

let images: KernelImages | undefined;

/** The kernel and our firmware, built once per process (cached in build/ as `kmemlab build`). Throws when the build fails. */
export async function kernelImages(root: string): Promise<KernelImages> {
  if (images?.root !== root) {
    const built = await buildImages({ root, targets: ['kernel', 'firmware'] });
    if (!built.ok) {
      const errors = built.targets.flatMap((t) => t.errors);
      throw new Error(`kernel/firmware build failed:\n${errors.join('\n')}`);
    }
    const elf = (t: string): Uint8Array => new Uint8Array(readFileSync(built.targets.find((x) => x.target === t)!.elf));
    images = { root, bios: elf('firmware'), kernel: elf('kernel') };
  }
  return images;
}

/** Boot `append` (e.g. `bench=slab`) on `harts` harts and collect its lines. Throws when the build or the boot fails. */
export async function runGuestBench(root: string, harts: number, append: string): Promise<GuestBenchRun> {
  const images = await kernelImages(root);
  let out = '';
  const m = new Machine({
    harts,
    bios: { name: 'firmware.elf', bytes: images.bios },
    kernel: { name: 'kernel.elf', bytes: images.kernel },
    append,
    output: (b) => (out += String.fromCharCode(b)),
  });
  const t0 = process.hrtime.bigint();
  const stop = m.run(LIMIT);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (stop !== 'exit' || m.exit?.kind !== 'pass') {
    throw new Error(`the bench boot (${append}, ${harts} harts) ended with ${stop} ${JSON.stringify(m.exit)}; console tail:\n${out.slice(-2000)}`);
  }
  const figures = new Map<string, number>();
  const rates = new Map<string, number>();
  const info: string[] = [];
  for (const line of out.split('\n')) {
    const f = /bench: (\S+) (\d+) insns\/op/.exec(line);
    if (f) figures.set(f[1]!, Number(f[2]));
    const r = /bench: (\S+) (\d+) objs\/s/.exec(line);
    if (r) rates.set(r[1]!, Number(r[2]));
    const i = /bench-info: (.*)$/.exec(line);
    if (i) info.push(i[1]!.trim());
    if (/bench: .* failed|bench: .*did not finish|started \d+ of/.test(line)) info.push(`problem: ${line.trim()}`);
  }
  return { harts, figures, rates, info, insns: m.insns, ms, console: out };
}

/** Print a Markdown table; the columns in `right` are right-aligned. */
export function table(head: string[], rows: string[][], right: Set<number>): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w, i) => (right.has(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`);
  for (const row of rows) console.log(line(row));
}
