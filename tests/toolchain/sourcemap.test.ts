/**
 * Source Map v3 parsing and lookup (toolchain/wasm/sourcemap.ts): Base64 VLQ
 * decoding, relative fields, the lookup rule (nearest mapping at or before an
 * offset), malformed maps, and asc's real maps: a distinctive call on a known
 * line of an AssemblyScript file, found through the reader, maps back to it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { WasmError, type WasmModule } from '../../toolchain/wasm/module.js';
import { readModule } from '../../toolchain/wasm/reader.js';
import { parseSourceMap, type SourceMap } from '../../toolchain/wasm/sourcemap.js';
import { asc } from './wasm_fixtures.js';

const map = (mappings: string, sources = ['a.ts', 'b.ts'], extra: Record<string, unknown> = {}): SourceMap =>
  parseSourceMap(JSON.stringify({ version: 3, sources, names: [], mappings, ...extra }));

describe('Base64 VLQ and segments', () => {
  it('decodes single values: A=0, C=1, D=-1, gB=16, 2H=123, +/=31 continued', () => {
    // One segment per test: [column, source 0, line, column], positions are 1-based.
    expect(map('AAAA').mappings).toEqual([{ offset: 0, position: { source: 'a.ts', line: 1, column: 1 } }]);
    expect(map('CAAC').mappings[0]).toEqual({ offset: 1, position: { source: 'a.ts', line: 1, column: 2 } });
    expect(map('gBAgBA').mappings[0]).toEqual({ offset: 16, position: { source: 'a.ts', line: 17, column: 1 } });
    expect(map('2HA2HA').mappings[0]).toEqual({ offset: 123, position: { source: 'a.ts', line: 124, column: 1 } });
    // 1000 = zigzag 2000 = 0b11111_01000_10000 → digits 16|32, 8|32, 1... ('w', '+', 'B')
    expect(map('w+BAAA').mappings[0]!.offset).toBe(1000);
  });

  it('applies relative fields: columns within the line, the rest across segments', () => {
    // Segments: (10, a.ts, line 5, col 3), (+6, +1 source, -2 lines, +4 cols), (+4, no source), (+1, same source, +1 line, +0 col)
    const m = map('UAIE,MCFI,I,CACA');
    expect(m.mappings).toEqual([
      { offset: 10, position: { source: 'a.ts', line: 5, column: 3 } },
      { offset: 16, position: { source: 'b.ts', line: 3, column: 7 } },
      { offset: 20 },
      { offset: 21, position: { source: 'b.ts', line: 4, column: 7 } },
    ]);
  });

  it('reads the optional name field and sourceRoot / sourcesContent', () => {
    const m = map('AAAAA,CAACC', ['x.ts'], { names: ['f', 'g'], sourceRoot: './out', sourcesContent: ['let x = 1;'] });
    expect(m.mappings).toHaveLength(2);
    expect(m.sourceRoot).toBe('./out');
    expect(m.names).toEqual(['f', 'g']);
    expect(m.sourcesContent).toEqual(['let x = 1;']);
    expect(m.lookup(1)).toEqual({ source: 'x.ts', line: 1, column: 2 });
  });

  it('ignores generated lines after the first (a wasm map has one)', () => {
    expect(map('AAAA;CAAC').mappings).toHaveLength(1);
  });
});

describe('lookup', () => {
  const m = map('UAIE,MCFI,I,CACA');
  it('gives the nearest mapping at or before the offset', () => {
    expect(m.lookup(0)).toBeUndefined();
    expect(m.lookup(9)).toBeUndefined();
    expect(m.lookup(10)).toEqual({ source: 'a.ts', line: 5, column: 3 });
    expect(m.lookup(15)).toEqual({ source: 'a.ts', line: 5, column: 3 });
    expect(m.lookup(16)).toEqual({ source: 'b.ts', line: 3, column: 7 });
    expect(m.lookup(21)).toEqual({ source: 'b.ts', line: 4, column: 7 });
    expect(m.lookup(1_000_000)).toEqual({ source: 'b.ts', line: 4, column: 7 });
  });
  it('skips source-less segments by default, or reports them with skipUnmapped: false', () => {
    expect(m.lookup(20)).toEqual({ source: 'b.ts', line: 3, column: 7 });
    expect(m.lookup(20, { skipUnmapped: false })).toBeUndefined();
    expect(m.lookup(21, { skipUnmapped: false })).toEqual({ source: 'b.ts', line: 4, column: 7 });
  });
  it('sorts segments that are out of order', () => {
    const u = map('UAAA,TAAC'); // 10, then 10 - 9 = 1
    expect(u.mappings.map((s) => s.offset)).toEqual([1, 10]);
    expect(u.lookup(5)).toEqual({ source: 'a.ts', line: 1, column: 2 });
  });
});

describe('malformed maps', () => {
  const bad: [string, string, RegExp][] = [
    ['not JSON', '{', /^source map: invalid JSON/],
    ['not an object', '3', /not an object/],
    ['version 2', JSON.stringify({ version: 2, sources: [], mappings: '' }), /unsupported version 2 \(expected 3\)/],
    ['sources missing', JSON.stringify({ version: 3, mappings: '' }), /"sources" must be an array of strings/],
    ['mappings not a string', JSON.stringify({ version: 3, sources: [], mappings: 1 }), /"mappings" must be a string/],
    ['bad digit', JSON.stringify({ version: 3, sources: ['a'], mappings: 'AA*A' }), /bad Base64 VLQ digit "\*" at 2/],
    ['unterminated VLQ', JSON.stringify({ version: 3, sources: ['a'], mappings: 'g' }), /bad Base64 VLQ digit "end of mappings"/],
    ['two fields', JSON.stringify({ version: 3, sources: ['a'], mappings: 'AA' }), /a segment has 2 fields \(expected 1, 4 or 5\)/],
    ['source index', JSON.stringify({ version: 3, sources: ['a'], mappings: 'ACAA' }), /source index 1 is out of range \(1 sources\)/],
    ['negative line', JSON.stringify({ version: 3, sources: ['a'], mappings: 'AADA' }), /negative original line or column/],
    ['VLQ too long', JSON.stringify({ version: 3, sources: ['a'], mappings: 'gggggggggggA' }), /VLQ number too long/],
  ];
  it.each(bad)('%s', (_what, json, message) => {
    expect(() => parseSourceMap(json)).toThrow(WasmError);
    expect(() => parseSourceMap(json)).toThrow(message);
  });
});

describe("asc's source maps", () => {
  // Line numbers below are 1-based lines of SOURCE.
  const SOURCE = [
    /* 1 */ '@external("env", "marker_one")',
    /* 2 */ 'declare function markerOne(x: i32): void;',
    /* 3 */ '',
    /* 4 */ 'function helper(a: i32): i32 {',
    /* 5 */ '  return a * 7 + 1;',
    /* 6 */ '}',
    /* 7 */ '',
    /* 8 */ 'export function main(n: i32): i32 {',
    /* 9 */ '  let s = 0;',
    /* 10 */ '  for (let i = 0; i < n; i++) {',
    /* 11 */ '    s += helper(i);',
    /* 12 */ '  }',
    /* 13 */ '  markerOne(s);',
    /* 14 */ '  return s;',
    /* 15 */ '}',
  ].join('\n');

  let m: WasmModule;
  let sm: SourceMap;
  beforeAll(async () => {
    const out = await asc(SOURCE, ['--debug', '--sourceMap'], 'prog');
    m = readModule(out.wasm);
    sm = parseSourceMap(out.map!);
  }, 120_000);

  it('the sourceMappingURL custom section names the map', () => {
    expect(m.sourceMappingURL).toMatch(/out\.wasm\.map$/);
    expect(sm.sources).toContain('prog.ts');
  });

  it('the call of the imported marker maps to its line', () => {
    const marker = m.importFuncs.findIndex((i) => i.name === 'marker_one');
    expect(marker).toBeGreaterThanOrEqual(0);
    const main = m.funcs.find((f) => f.name === 'prog/main')!;
    const call = main.body.find((i) => i.op === 'call' && i.index === marker)!;
    expect(sm.lookup(call.offset)).toMatchObject({ source: 'prog.ts', line: 13 });
  });

  it('the call of helper maps to line 11, and helper\'s multiply to line 5', () => {
    const helper = m.funcs.find((f) => f.name === 'prog/helper')!;
    const main = m.funcs.find((f) => f.name === 'prog/main')!;
    const call = main.body.find((i) => i.op === 'call' && i.index === helper.index)!;
    expect(sm.lookup(call.offset)).toMatchObject({ source: 'prog.ts', line: 11 });
    const mul = helper.body.find((i) => i.op === 'i32.mul')!;
    expect(sm.lookup(mul.offset)).toMatchObject({ source: 'prog.ts', line: 5 });
  });

  it('every instruction of main maps into main\'s lines (8–15)', () => {
    const main = m.funcs.find((f) => f.name === 'prog/main')!;
    for (const ins of main.body.slice(0, -1)) {
      const p = sm.lookup(ins.offset);
      if (!p) continue; // before the function's first mapping
      expect(p.source).toBe('prog.ts');
      expect(p.line).toBeGreaterThanOrEqual(8);
      expect(p.line).toBeLessThanOrEqual(15);
    }
  });
});
