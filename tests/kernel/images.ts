/**
 * The images the guest tests boot, built once per test file with the
 * toolchain's own API (toolchain/build.ts): asconfig.json's "kernel" and
 * "firmware" targets, exactly as `kmemlab build` builds them (the kernel
 * target lists the KUnit transform, kernel/test/kunit_transform.mjs, so
 * that failure reports name file:line).
 *
 * Also: symbolising guest pcs with the image's symbols and line table, and
 * booting a Machine to the end with an instruction bound.
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { compileAssemblyScript, translateAndLink } from '../../toolchain/build.js';
import { parseSourceMap } from '../../toolchain/wasm/sourcemap.js';
import type { LinkedImage } from '../../toolchain/link.js';
import { Machine, type ExitState, type StopReason } from '../../emulator/machine/machine.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const OPENSBI = '/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf';
export const KUNIT_TRANSFORM = './kernel/test/kunit_transform.mjs';

export interface Built {
  image?: LinkedImage;
  /** Why there is no image (asc or toolchain errors, one per line). */
  error?: string;
}

// --- a cache shared by the test files ------------------------------------------------------
//
// Every guest test file builds the same images, each in its own worker; a
// kernel build takes tens of seconds. The cache keys an image by the bytes of
// everything that makes it (the target's sources, the toolchain, asconfig.json,
// the assemblyscript version, the extra arguments), so a change anywhere is a
// miss, never a stale image. Entries are written to a temporary name and
// renamed, so a reader never sees half a file.

const CACHE_DIR = path.join(ROOT, 'node_modules', '.cache', 'kmemlab-test-images');

function hashTree(h: ReturnType<typeof createHash>, dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) hashTree(h, p);
    else if (/\.(ts|mjs|js|json|S|s)$/.test(name)) h.update(path.relative(ROOT, p)).update('\0').update(readFileSync(p)).update('\0');
  }
}

function cacheKey(target: string, extra: string[]): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ target, extra }));
  for (const d of [target, 'toolchain']) hashTree(h, path.join(ROOT, d));
  h.update(readFileSync(path.join(ROOT, 'asconfig.json')));
  const asc = path.join(ROOT, 'node_modules', 'assemblyscript', 'package.json');
  if (existsSync(asc)) h.update(readFileSync(asc));
  return h.digest('hex').slice(0, 32);
}

interface CachedImage {
  elf: string;
  symbols: [string, string][];
  lines: { addr: string; wasmOffset: number; source?: string; line?: number }[];
  entry: string;
  regions: { name: string; start: string; end: string; phys: string }[];
}

function loadCached(file: string): LinkedImage | undefined {
  try {
    const c = JSON.parse(readFileSync(file, 'utf8')) as CachedImage;
    return {
      elf: new Uint8Array(Buffer.from(c.elf, 'base64')),
      symbols: new Map(c.symbols.map(([k, v]) => [k, BigInt(v)])),
      lines: c.lines.map((l) => ({ ...l, addr: BigInt(l.addr) })),
      entry: BigInt(c.entry),
      regions: c.regions.map((r) => ({ name: r.name, start: BigInt(r.start), end: BigInt(r.end), phys: BigInt(r.phys) })),
    };
  } catch {
    return undefined; // absent or unreadable: build
  }
}

function storeCached(file: string, image: LinkedImage): void {
  const c: CachedImage = {
    elf: Buffer.from(image.elf).toString('base64'),
    symbols: [...image.symbols].map(([k, v]) => [k, v.toString()]),
    lines: image.lines.map((l) => ({ ...l, addr: l.addr.toString() })),
    entry: image.entry.toString(),
    regions: image.regions.map((r) => ({ name: r.name, start: r.start.toString(), end: r.end.toString(), phys: r.phys.toString() })),
  };
  try {
    mkdirSync(CACHE_DIR, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(c));
    renameSync(tmp, file);
  } catch {
    // a read-only tree: no cache, the tests still run
  }
}

/** Build an asconfig.json target with the toolchain (extra asc arguments appended), or take it from the cache. */
export async function buildTarget(target: 'kernel' | 'firmware', extra: string[] = []): Promise<Built> {
  const file = path.join(CACHE_DIR, `${target}-${cacheKey(target, extra)}.json`);
  const cached = loadCached(file);
  if (cached) return { image: cached };
  const built = await buildTargetUncached(target, extra);
  if (built.image) storeCached(file, built.image);
  return built;
}

async function buildTargetUncached(target: 'kernel' | 'firmware', extra: string[]): Promise<Built> {
  const entry = `${target}/main.ts`;
  const compiled = await compileAssemblyScript(ROOT, [entry], ['--config', 'asconfig.json', '--target', target, ...extra], `${target}.wasm`);
  if (!compiled.wasm) return { error: compiled.errors.join('\n') || 'asc produced no module' };
  try {
    const sourceMap = compiled.sourceMap !== undefined ? parseSourceMap(compiled.sourceMap) : undefined;
    return { image: translateAndLink(compiled.wasm, sourceMap, target).image };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

export function buildKernel(): Promise<Built> {
  return buildTarget('kernel');
}

/** What a guest test file boots: the kernel and our firmware, and why not (a build error) when one did not build. */
export interface GuestImages {
  kernel: Built;
  firmware: Built;
  missing: string | undefined;
}

export async function guestImages(): Promise<GuestImages> {
  const kernel = await buildKernel();
  const firmware = await buildTarget('firmware');
  const missing = !kernel.image ? `the kernel did not build: ${kernel.error}`
    : !firmware.image ? `our firmware did not build: ${firmware.error}` : undefined;
  return { kernel, firmware, missing };
}

export function openSbi(): Uint8Array | undefined {
  return existsSync(OPENSBI) ? new Uint8Array(readFileSync(OPENSBI)) : undefined;
}

export interface BootResult {
  console: string;
  stop: StopReason;
  exit?: ExitState;
  /** Instructions executed by all harts. */
  insns: number;
  /** Wall-clock milliseconds of the run (not a test criterion). */
  ms: number;
  /** The machine after the run, for reading guest memory. */
  machine: Machine;
}

/** Boot `kernel` behind `bios` (undefined = none) and run until power-off or `maxInsns`. */
export function boot(opts: { kernel: Uint8Array; bios?: Uint8Array; harts: number; append: string; maxInsns: number; dramSize?: number; highmemSize?: number }): BootResult {
  const out: number[] = [];
  const m = new Machine({
    harts: opts.harts,
    bios: opts.bios ? { name: 'firmware', bytes: opts.bios } : undefined,
    kernel: { name: 'kernel.elf', bytes: opts.kernel },
    append: opts.append,
    dramSize: opts.dramSize,
    highmemSize: opts.highmemSize,
    output: (b) => out.push(b),
  });
  const t0 = performance.now();
  const stop = m.run(opts.maxInsns);
  return { console: Buffer.from(out).toString('latin1'), stop, exit: m.exit, insns: m.insns, ms: performance.now() - t0, machine: m };
}

/** "function+0xoff (file:line)" for a guest pc, from the image's symbols and line table. */
export function symbolize(image: LinkedImage, pc: bigint): string {
  let best: [string, bigint] | undefined;
  for (const [name, addr] of image.symbols) {
    if (addr <= pc && (!best || addr > best[1]) && !name.includes('.L') && !/^\d/.test(name)) best = [name, addr];
  }
  let line: string | undefined;
  const lines = image.lines;
  let lo = 0;
  let hi = lines.length - 1;
  let hit = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (lines[mid]!.addr <= pc) { hit = mid; lo = mid + 1; } else hi = mid - 1;
  }
  if (hit >= 0 && lines[hit]!.source) line = `${lines[hit]!.source}:${lines[hit]!.line}`;
  const fn = best ? `${best[0]}+0x${(pc - best[1]).toString(16)}` : `0x${pc.toString(16)}`;
  return line ? `${fn} (${line})` : fn;
}

/** The pcs of the first "Call Trace:" in console text. */
export function callTrace(text: string): bigint[] {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.trim() === 'Call Trace:');
  if (at < 0) return [];
  const pcs: bigint[] = [];
  for (const l of lines.slice(at + 1)) {
    const m = /^\[<([0-9a-f]{16})>\]/.exec(l.trim());
    if (!m) break;
    pcs.push(BigInt(`0x${m[1]}`));
  }
  return pcs;
}
