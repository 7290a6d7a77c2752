/**
 * `kmemlab build`: AssemblyScript → wasm (asc) → RV64 (translateModule) →
 * ELF (linkImage), for the targets of asconfig.json, cached by content hash.
 *
 *   asconfig.json targets.<name>          build/<name>.wasm, .wasm.map   build/<name>.elf
 *     entries: ["kernel/main.ts"]  ──asc──▶ (kept for inspection) ──translate, link──▶ (kind: kernel / firmware)
 *     kind, asc options …
 *
 * asconfig.json is asc's own format; each target also names its entry files
 * and image kind ("entries", "kind": keys asc ignores inside a target), so
 * `npx asc kernel/main.ts --config asconfig.json --target kernel` compiles
 * the same module by hand. The file has no top-level "options" or "entries":
 * asc reads asconfig.json from its base directory on every run, and other
 * compilations in this tree (tests, the differential harness) must not
 * inherit the kernel's options.
 *
 * Cache: build/.kmemlab-build.json keeps, per target, a SHA-256 over the asc
 * version, asconfig.json, every file under the target's entry directories,
 * every other file asc read in the last build (shared libraries; "missing"
 * when gone), and the toolchain's own sources (every file under toolchain/
 * and the files outside it that they import). A target whose key matches and
 * whose ELF exists is "up to date".
 *
 * Errors (asc diagnostics, a WasmError from the reader or the translator, a
 * LinkError) are reported one line each, as `file:line:column: error …` when
 * the place is known; the build then fails (exit code 2 in the CLI).
 */

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { readModule } from './wasm/reader.js';
import { parseSourceMap, type SourceMap } from './wasm/sourcemap.js';
import { WasmError, type WasmModule } from './wasm/module.js';
import { translateModule } from './translate.js';
import { BARE_MEMORY_BASE, LinkError, addressModeOf, linkImage, type ImageKind, type LinkedImage } from './link.js';

export const CACHE_FILE = '.kmemlab-build.json';
const CACHE_VERSION = 1;

export interface BuildOptions {
  /** Repository root: asconfig.json, the AssemblyScript sources, toolchain/. */
  root: string;
  /** Output directory (default <root>/build). */
  outDir?: string;
  /** Targets to build (default: every target of asconfig.json). */
  targets?: string[];
  /** Rebuild even when up to date. */
  force?: boolean;
  /** One line of progress (no newline). */
  log?: (line: string) => void;
}

export interface TargetResult {
  target: string;
  /** Path of the ELF (written unless errors). */
  elf: string;
  upToDate: boolean;
  /** One line per problem; empty when the target built. */
  errors: string[];
  warnings: string[];
}

export interface BuildResult {
  ok: boolean;
  targets: TargetResult[];
}

/** A problem with the build's configuration (asconfig.json, unknown target): one line. */
export class BuildError extends Error {
  override readonly name = 'BuildError';
}

interface TargetConfig {
  name: string;
  entries: string[];
  kind: ImageKind;
}

// --- asc --------------------------------------------------------------------------------------

/** asc's Node API, loaded on first use (it is large; and kept out of the CLI bundle). */
interface AscApi {
  version: string;
  main(argv: string[], options: {
    readFile?: (name: string, baseDir: string) => Promise<string | null> | string | null;
    writeFile?: (name: string, contents: Uint8Array | string, baseDir: string) => Promise<void> | void;
    listFiles?: (dirname: string, baseDir: string) => Promise<string[] | null> | string[] | null;
    stdout?: unknown;
    stderr?: unknown;
    reportDiagnostic?: (d: AscDiagnostic) => void;
  }): Promise<{ error: Error | null; stderr: { toString(): string } }>;
  createMemoryStream(): { toString(): string };
}

interface AscDiagnostic {
  message: string;
  code: number;
  /** 0 pedantic, 1 info, 2 warning, 3 error. */
  category: number;
  range: { start: number; end: number; source: { normalizedPath: string } | null } | null;
}

let ascApi: Promise<AscApi> | undefined;
function loadAsc(): Promise<AscApi> {
  // A computed specifier: esbuild leaves the import to Node at run time instead of bundling asc and binaryen.
  const spec = ['assemblyscript', 'asc'].join('/');
  ascApi ??= import(spec).then((m: { default: AscApi }) => m.default);
  return ascApi;
}

export interface CompileResult {
  wasm?: Uint8Array;
  sourceMap?: string;
  errors: string[];
  warnings: string[];
  /** Files asc read, relative to the root (the standard library, ~lib/, excluded). */
  filesRead: string[];
}

/**
 * Compile AssemblyScript entries with asc's Node API. `args` are asc
 * arguments besides the entries and the output (e.g. --config/--target, or
 * explicit options). Diagnostics become `file:line:column: error TSnnnn: …`.
 */
export async function compileAssemblyScript(root: string, entries: string[], args: string[], outName = 'module.wasm'): Promise<CompileResult> {
  const asc = await loadAsc();
  const outputs = new Map<string, Uint8Array | string>();
  const texts = new Map<string, string>();
  const filesRead = new Set<string>();
  const errors: string[] = [];
  const warnings: string[] = [];
  const result = await asc.main([...entries, '--baseDir', root, ...args, '--outFile', outName, '--sourceMap', '--noColors'], {
    readFile(name, baseDir) {
      const path = resolve(baseDir, name);
      try {
        const text = readFileSync(path, 'utf8');
        const rel = relative(root, path).split(sep).join('/');
        if (!rel.startsWith('..')) {
          filesRead.add(rel);
          texts.set(rel, text);
        }
        return text;
      } catch {
        return null;
      }
    },
    writeFile(name, contents) {
      outputs.set(name.split(sep).join('/'), contents);
    },
    listFiles(dir, baseDir) {
      try {
        return readdirSync(resolve(baseDir, dir)).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
      } catch {
        return null;
      }
    },
    stdout: asc.createMemoryStream(),
    stderr: asc.createMemoryStream(),
    reportDiagnostic(d) {
      if (d.category < 2) return;
      const where = d.range?.source ? `${d.range.source.normalizedPath}:${lineCol(texts.get(d.range.source.normalizedPath), d.range.start)}: ` : '';
      const line = `${where}${d.category === 3 ? 'error' : 'warning'} TS${d.code}: ${d.message}`;
      (d.category === 3 ? errors : warnings).push(line);
    },
  });
  if (result.error && errors.length === 0) {
    // Not a diagnostic (a missing entry file, a bad option): asc's own line.
    const text = result.stderr.toString().split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('FAILURE'));
    errors.push(text[0] ?? result.error.message);
  }
  const wasm = outputs.get(outName);
  const map = outputs.get(`${outName}.map`);
  return {
    wasm: errors.length === 0 && wasm instanceof Uint8Array ? wasm : undefined,
    sourceMap: typeof map === 'string' ? map : undefined,
    errors, warnings,
    filesRead: [...filesRead].filter((f) => f !== 'asconfig.json').sort(),
  };
}

/** "line:column" (1-based) of a character offset. */
function lineCol(text: string | undefined, offset: number): string {
  if (text === undefined) return '?:?';
  let line = 1;
  let col = 1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') { line++; col = 1; } else col++;
  }
  return `${line}:${col}`;
}

// --- translate and link -----------------------------------------------------------------------

/**
 * wasm (+ its source map, for the line table) → ELF image of the kind.
 * Throws WasmError or LinkError (see describeError for the one-line report).
 */
export function translateAndLink(wasm: Uint8Array, sourceMap: SourceMap | undefined, kind: ImageKind, opts: { entryExport?: string } = {}): { mod: WasmModule; image: LinkedImage } {
  const mod = readModule(wasm);
  const tr = translateModule(mod, { addressMode: addressModeOf(kind) });
  const image = linkImage(mod, tr, { kind, sourceMap, entryExport: opts.entryExport });
  return { mod, image };
}

/** One line for a WasmError (with its source place when the map knows the offset) or a LinkError. */
export function describeError(e: unknown, sourceMap?: SourceMap): string | undefined {
  if (e instanceof WasmError) {
    const pos = e.offset !== undefined ? sourceMap?.lookup(e.offset) : undefined;
    return pos ? `${pos.source}:${pos.line}:${pos.column}: error: ${e.message}` : `error: ${e.message}`;
  }
  if (e instanceof LinkError) return `error: ${e.message}`;
  return undefined;
}

/**
 * asc arguments for a 'bare' program (tests, the differential harness, the
 * benchmarks): the kernel's compiler options, with the data at BARE_MEMORY_BASE.
 */
export const BARE_ASC_ARGS: readonly string[] = [
  '--runtime', 'stub', '--enable', 'threads', '--noAssert', '-O3', '--debug', '--memoryBase', String(BARE_MEMORY_BASE),
];

/**
 * Compile one AssemblyScript file (path relative to root) into a 'bare' ELF
 * image. Throws an Error listing the problems (one per line) when it does
 * not compile, translate or link.
 */
export async function buildBareProgram(root: string, entry: string, opts: { entryExport?: string; ascArgs?: readonly string[] } = {}): Promise<{ mod: WasmModule; image: LinkedImage; wasm: Uint8Array; sourceMap?: SourceMap }> {
  const name = entry.replace(/^.*\//, '').replace(/\.ts$/, '.wasm');
  const compiled = await compileAssemblyScript(root, [entry], [...(opts.ascArgs ?? BARE_ASC_ARGS)], name);
  if (!compiled.wasm) throw new Error(compiled.errors.join('\n'));
  let sourceMap: SourceMap | undefined;
  try {
    sourceMap = compiled.sourceMap !== undefined ? parseSourceMap(compiled.sourceMap) : undefined;
    return { ...translateAndLink(compiled.wasm, sourceMap, 'bare', opts), wasm: compiled.wasm, sourceMap };
  } catch (e) {
    const line = describeError(e, sourceMap);
    throw line === undefined ? e : new Error(line);
  }
}

// --- configuration ----------------------------------------------------------------------------

const KINDS: readonly ImageKind[] = ['bare', 'firmware', 'kernel'];

export function readTargets(root: string): TargetConfig[] {
  const path = join(root, 'asconfig.json');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new BuildError(`${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found; run kmemlab build at the repository root' : `not valid JSON (${(e as Error).message})`}`);
  }
  const targets = (json as { targets?: Record<string, { entries?: unknown; kind?: unknown }> }).targets;
  if (!targets || typeof targets !== 'object') throw new BuildError(`${path}: no "targets"`);
  return Object.entries(targets).map(([name, t]) => {
    if (!Array.isArray(t.entries) || !t.entries.every((x) => typeof x === 'string') || t.entries.length === 0) {
      throw new BuildError(`${path}: target ${name} needs "entries": ["<dir>/main.ts"]`);
    }
    if (!KINDS.includes(t.kind as ImageKind)) throw new BuildError(`${path}: target ${name} needs "kind": one of ${KINDS.join(', ')}`);
    return { name, entries: t.entries as string[], kind: t.kind as ImageKind };
  });
}

// --- the content hash -------------------------------------------------------------------------

function walk(dir: string, out: string[]): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names.sort()) {
    if (n === 'node_modules' || n.startsWith('.')) continue;
    const p = join(dir, n);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
}

const IMPORT = /(?:import|export)\s[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]/g;

/** Every file under toolchain/, and the repository files they import (transitively). */
export function toolchainFiles(root: string): string[] {
  const files: string[] = [];
  walk(join(root, 'toolchain'), files);
  const seen = new Set(files);
  const queue = files.filter((f) => f.endsWith('.ts'));
  while (queue.length) {
    const f = queue.pop()!;
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const m of text.matchAll(IMPORT)) {
      const target = resolve(dirname(f), m[1]!.replace(/\.js$/, '.ts'));
      if (seen.has(target) || !existsSync(target) || relative(root, target).startsWith('..')) continue;
      seen.add(target);
      files.push(target);
      queue.push(target);
    }
  }
  return files.map((f) => relative(root, f).split(sep).join('/')).sort();
}

/** The cache key of a target: what its ELF depends on. */
export function targetKey(root: string, t: TargetConfig, ascVersion: string, extraFiles: readonly string[]): string {
  const h = createHash('sha256');
  const add = (label: string, data: string | Uint8Array): void => {
    h.update(`${label}\0${data.length}\0`);
    h.update(data);
  };
  add('kmemlab-build', String(CACHE_VERSION));
  add('asc', ascVersion);
  add('target', `${t.name} ${t.kind} ${t.entries.join(' ')}`);
  const files = new Set<string>(['asconfig.json', ...extraFiles, ...toolchainFiles(root)]);
  for (const e of t.entries) {
    const list: string[] = [];
    walk(join(root, dirname(e)), list);
    for (const f of list) files.add(relative(root, f).split(sep).join('/'));
  }
  for (const f of [...files].sort()) {
    let data: Uint8Array | string;
    try {
      data = readFileSync(join(root, f));
    } catch {
      data = 'missing';
    }
    add(f, data);
  }
  return h.digest('hex');
}

interface CacheRecord {
  version: number;
  targets: Record<string, { key: string; files: string[] }>;
}

function readCache(outDir: string): CacheRecord {
  try {
    const c = JSON.parse(readFileSync(join(outDir, CACHE_FILE), 'utf8')) as CacheRecord;
    if (c.version === CACHE_VERSION && c.targets) return c;
  } catch {
    // no cache yet
  }
  return { version: CACHE_VERSION, targets: {} };
}

/** Write through a temporary file, so that a reader never sees half a file. */
function writeAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

// --- the build --------------------------------------------------------------------------------

/** Build every (or the chosen) target of asconfig.json. Throws BuildError for a bad configuration. */
export async function buildImages(opts: BuildOptions): Promise<BuildResult> {
  const root = resolve(opts.root);
  const outDir = resolve(opts.outDir ?? join(root, 'build'));
  const log = opts.log ?? (() => {});
  const all = readTargets(root);
  const chosen = opts.targets ?? all.map((t) => t.name);
  for (const name of chosen) {
    if (!all.some((t) => t.name === name)) throw new BuildError(`no target '${name}' in asconfig.json (targets: ${all.map((t) => t.name).join(', ')})`);
  }
  const asc = await loadAsc();
  mkdirSync(outDir, { recursive: true });
  const cache = readCache(outDir);
  const results: TargetResult[] = [];

  for (const t of all.filter((x) => chosen.includes(x.name))) {
    const elfPath = join(outDir, `${t.name}.elf`);
    const result: TargetResult = { target: t.name, elf: elfPath, upToDate: false, errors: [], warnings: [] };
    results.push(result);
    await buildTarget(t, result);
    // A failed target leaves no ELF behind: nothing boots yesterday's image by mistake.
    if (result.errors.length) rmSync(elfPath, { force: true });
    for (const w of result.warnings) log(w);
    for (const e of result.errors) log(e);
    if (result.errors.length) log(`${t.name}.elf: not built (${result.errors.length} error${result.errors.length > 1 ? 's' : ''})`);
  }
  return { ok: results.every((r) => r.errors.length === 0), targets: results };

  async function buildTarget(t: TargetConfig, result: TargetResult): Promise<void> {
    const elfPath = result.elf;
    const previous = cache.targets[t.name];
    if (!opts.force && previous && existsSync(elfPath) && targetKey(root, t, asc.version, previous.files) === previous.key) {
      result.upToDate = true;
      log(`${t.name}.elf: up to date`);
      return;
    }
    log(`${t.name}.elf: compiling ${t.entries.join(', ')}`);
    const wasmName = `${t.name}.wasm`;
    const compiled = await compileAssemblyScript(root, t.entries, ['--config', 'asconfig.json', '--target', t.name], wasmName);
    result.warnings.push(...compiled.warnings);
    if (!compiled.wasm) {
      result.errors.push(...compiled.errors);
      return;
    }
    writeAtomic(join(outDir, wasmName), compiled.wasm);
    if (compiled.sourceMap !== undefined) writeAtomic(join(outDir, `${wasmName}.map`), compiled.sourceMap);
    let sourceMap: SourceMap | undefined;
    try {
      sourceMap = compiled.sourceMap !== undefined ? parseSourceMap(compiled.sourceMap) : undefined;
      const { image } = translateAndLink(compiled.wasm, sourceMap, t.kind);
      writeAtomic(elfPath, image.elf);
      const text = image.regions.find((r) => r.name === '.text')!;
      log(`${t.name}.elf: ${t.kind} image, ${text.end - text.start} bytes of code at 0x${text.start.toString(16)}`);
    } catch (e) {
      const line = describeError(e, sourceMap);
      if (line === undefined) throw e;
      result.errors.push(line);
      return;
    }
    const extra = compiled.filesRead.filter((f) => !t.entries.some((e) => f.startsWith(`${dirname(e)}/`)));
    cache.targets[t.name] = { key: targetKey(root, t, asc.version, extra), files: extra };
    writeAtomic(join(outDir, CACHE_FILE), `${JSON.stringify(cache, null, 2)}\n`);
  }
}

/** The repository root: the nearest directory at or above `from` holding asconfig.json. */
export function findRoot(from: string): string | undefined {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, 'asconfig.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}
