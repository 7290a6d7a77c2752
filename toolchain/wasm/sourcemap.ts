/**
 * Source Map revision 3 (https://tc39.es/source-map/, formerly the Google
 * doc "Source Map Revision 3 Proposal"), as asc writes them for wasm:
 *
 *   { "version": 3, "sources": ["~lib/rt/common.ts", "a.ts"], "names": [],
 *     "sourceRoot": "./out", "mappings": "uICEE,EAAW,E,CAAX,..." }
 *
 * `mappings` is a list of lines separated by ';', each a list of segments
 * separated by ','. A segment is 1, 4 or 5 Base64 VLQ numbers:
 *
 *   [generated column, source index, original line, original column, name index]
 *
 * all relative to the previous segment (the generated column only within its
 * line; the others across the whole map). A 1-field segment maps its column
 * to no source. VLQ: each Base64 digit carries 5 bits, least significant
 * group first, 0x20 = more digits follow; the lowest bit of the result is the
 * sign.
 *
 * For wasm the generated "file" is the binary: everything is on generated
 * line 1 and the column is the byte offset in the module (asc, binaryen and
 * emscripten all do this), so `lookup` takes a byte offset.
 */
import { WasmError } from './module.js';

export interface SourcePosition {
  /** The `sources` entry, as written (sourceRoot is not prepended: asc sets it to the output's basename). */
  source: string;
  /** 1-based, as compilers print them. */
  line: number;
  /** 1-based. */
  column: number;
}

/** One segment of generated line 1: the byte offset it starts at, and its position (absent: no source). */
export interface Mapping {
  offset: number;
  position?: SourcePosition;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const BASE64_VALUE = new Map([...BASE64].map((c, i) => [c, i]));

export class SourceMap {
  /** The mappings of generated line 1, sorted by offset (ties keep their order in the map). */
  readonly mappings: readonly Mapping[];
  /** For each mapping, the position of the last mapping up to it that has a source. */
  private readonly carried: readonly (SourcePosition | undefined)[];

  constructor(
    readonly sources: readonly string[],
    readonly sourceRoot: string | undefined,
    readonly names: readonly string[],
    mappings: Mapping[],
    /** The original sources' text, when the map embeds it (asc does). */
    readonly sourcesContent?: readonly (string | null)[],
  ) {
    this.mappings = [...mappings].sort((a, b) => a.offset - b.offset);
    let last: SourcePosition | undefined;
    this.carried = this.mappings.map((m) => (last = m.position ?? last));
  }

  /**
   * The source position of the byte at `wasmByteOffset`: the nearest mapping
   * at or before it. asc ends some ranges with a source-less segment (e.g.
   * the `call $abort` of an assert); by default those are skipped, so the
   * offset takes the position of the nearest mapping before it that has one,
   * which is what a line table wants. With `skipUnmapped: false`, such a
   * segment gives undefined. Undefined also when no mapping precedes it.
   */
  lookup(wasmByteOffset: number, options: { skipUnmapped?: boolean } = {}): SourcePosition | undefined {
    const ms = this.mappings;
    let lo = 0;
    let hi = ms.length; // first mapping with offset > wasmByteOffset
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ms[mid]!.offset <= wasmByteOffset) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return undefined;
    return options.skipUnmapped === false ? ms[lo - 1]!.position : this.carried[lo - 1];
  }
}

function fail(message: string): never {
  throw new WasmError(`source map: ${message}`);
}

/** Parse a Source Map v3 JSON text. Throws WasmError ("source map: …") when it is malformed. */
export function parseSourceMap(json: string): SourceMap {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    return fail(`invalid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof raw !== 'object' || raw === null) return fail('not an object');
  const obj = raw as Record<string, unknown>;
  if (obj['version'] !== 3) fail(`unsupported version ${JSON.stringify(obj['version'])} (expected 3)`);
  const strings = (key: string, optional: boolean): string[] => {
    const v = obj[key];
    if (v === undefined && optional) return [];
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) fail(`"${key}" must be an array of strings`);
    return v as string[];
  };
  const sources = strings('sources', false);
  const names = strings('names', true);
  const sourceRoot = obj['sourceRoot'];
  if (sourceRoot !== undefined && typeof sourceRoot !== 'string') fail('"sourceRoot" must be a string');
  const mappings = obj['mappings'];
  if (typeof mappings !== 'string') fail('"mappings" must be a string');
  const content = obj['sourcesContent'];
  const sourcesContent = Array.isArray(content) ? content.map((c) => (typeof c === 'string' ? c : null)) : undefined;
  return new SourceMap(sources, sourceRoot, names, decodeMappings(mappings, sources), sourcesContent);
}

/** Decode the segments of generated line 1 (a wasm map has no other line; later lines are ignored). */
function decodeMappings(text: string, sources: readonly string[]): Mapping[] {
  const out: Mapping[] = [];
  let pos = 0;
  // Fields 2–5 are relative across lines, field 1 only within its line.
  let source = 0;
  let line = 0;
  let column = 0;
  let name = 0;
  const vlq = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const c = text[pos];
      const digit = c === undefined ? undefined : BASE64_VALUE.get(c);
      if (digit === undefined) fail(`bad Base64 VLQ digit ${JSON.stringify(c ?? 'end of mappings')} at ${pos}`);
      pos++;
      result += (digit & 0x1f) * 2 ** shift;
      shift += 5;
      if (shift > 50) fail(`VLQ number too long at ${pos}`);
      if (!(digit & 0x20)) break;
    }
    return result % 2 ? -(result - 1) / 2 : result / 2;
  };
  let generatedLine = 0;
  let generated = 0;
  while (pos < text.length) {
    const c = text[pos]!;
    if (c === ';') {
      pos++;
      generatedLine++;
      generated = 0;
      continue;
    }
    if (c === ',') {
      pos++;
      continue;
    }
    generated += vlq();
    const fields: number[] = [];
    while (pos < text.length && text[pos] !== ',' && text[pos] !== ';') fields.push(vlq());
    if (fields.length !== 0 && fields.length !== 3 && fields.length !== 4) fail(`a segment has ${fields.length + 1} fields (expected 1, 4 or 5)`);
    if (generated < 0) fail(`negative generated column at ${pos}`);
    let position: SourcePosition | undefined;
    if (fields.length) {
      source += fields[0]!;
      line += fields[1]!;
      column += fields[2]!;
      if (fields.length === 4) name += fields[3]!;
      const file = sources[source];
      if (file === undefined) fail(`source index ${source} is out of range (${sources.length} sources)`);
      if (line < 0 || column < 0) fail(`negative original line or column at ${pos}`);
      position = { source: file, line: line + 1, column: column + 1 };
    }
    if (generatedLine === 0) out.push(position ? { offset: generated, position } : { offset: generated });
  }
  return out;
}
