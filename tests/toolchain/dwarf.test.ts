/**
 * toolchain/dwarf.ts on a small table: the unit header and DIE hold what the
 * section says (version 4, 8-byte addresses, low_pc / high_pc, stmt_list 0),
 * and running the line program (DWARF 4 §6.2: standard opcodes, set_address,
 * end_sequence) gives back the table's rows: the last entry per address,
 * unknown sources as line 0, nothing outside [low, high). readelf and gdb
 * read the real images in tests/interop/dwarf.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { dwarfLineSections } from '../../toolchain/dwarf.js';
import type { LineEntry } from '../../toolchain/elf_writer.js';

function uleb(b: Uint8Array, at: { i: number }): bigint {
  let v = 0n, shift = 0n, x: number;
  do { x = b[at.i++]!; v |= BigInt(x & 0x7f) << shift; shift += 7n; } while (x & 0x80);
  return v;
}
function sleb(b: Uint8Array, at: { i: number }): bigint {
  let v = 0n, shift = 0n, x: number;
  do { x = b[at.i++]!; v |= BigInt(x & 0x7f) << shift; shift += 7n; } while (x & 0x80);
  return x & 0x40 ? v - (1n << shift) : v;
}
function cstr(b: Uint8Array, at: { i: number }): string {
  const s = at.i;
  while (b[at.i] !== 0) at.i++;
  return Buffer.from(b.subarray(s, at.i++)).toString('utf8');
}

/** Run a version-4 line program with standard opcodes: the rows (file name, line, address) and the sequence end. */
function runProgram(sec: Uint8Array): { rows: { file: string; line: number; addr: bigint }[]; end: bigint } {
  const v = new DataView(sec.buffer, sec.byteOffset, sec.byteLength);
  expect(v.getUint32(0, true)).toBe(sec.length - 4);
  expect(v.getUint16(4, true)).toBe(4);
  const headerLength = v.getUint32(6, true);
  const at = { i: 10 };
  expect([sec[10], sec[11], sec[12], (sec[13]! << 24) >> 24, sec[14], sec[15]]).toEqual([1, 1, 1, -5, 14, 13]);
  at.i = 16 + 12;
  expect(sec[at.i++]).toBe(0); // no include directories
  const files: string[] = [];
  while (sec[at.i] !== 0) { files.push(cstr(sec, at)); uleb(sec, at); uleb(sec, at); uleb(sec, at); }
  at.i++;
  expect(at.i).toBe(10 + headerLength);
  let addr = 0n, file = 1, line = 1;
  const rows: { file: string; line: number; addr: bigint }[] = [];
  for (;;) {
    const op = sec[at.i++]!;
    if (op === 0) {
      const len = Number(uleb(sec, at));
      const sub = sec[at.i++]!;
      if (sub === 2) { addr = v.getBigUint64(at.i, true); at.i += 8; continue; }
      expect([sub, len]).toEqual([1, 1]);
      return { rows, end: addr };
    }
    if (op === 1) rows.push({ file: files[file - 1]!, line, addr });
    else if (op === 2) addr += uleb(sec, at);
    else if (op === 3) line += Number(sleb(sec, at));
    else if (op === 4) file = Number(uleb(sec, at));
    else throw new Error(`unexpected opcode ${op}`);
  }
}

describe('dwarfLineSections', () => {
  const lines: LineEntry[] = [
    { addr: 0x0ffcn, wasmOffset: 0, source: 'kernel/outside.ts', line: 9 },
    { addr: 0x1000n, wasmOffset: 1, source: 'kernel/a.ts', line: 10 },
    { addr: 0x1004n, wasmOffset: 2, source: 'kernel/a.ts', line: 300 },
    { addr: 0x1004n, wasmOffset: 3, source: 'kernel/b.ts', line: 2 },
    { addr: 0x1010n, wasmOffset: 4 },
    { addr: 0x1200n, wasmOffset: 5, source: 'kernel/a.ts', line: 1 },
    { addr: 0x2000n, wasmOffset: 6, source: 'kernel/a.ts', line: 5 },
  ];
  const d = dwarfLineSections({ lines, low: 0x1000n, high: 0x2000n, name: 'kernel/main.ts', producer: 'test' });

  it('the line program gives back the rows: the last entry per address, line 0 for unknown code, nothing outside', () => {
    const { rows, end } = runProgram(d.debugLine);
    expect(rows).toEqual([
      { file: 'kernel/a.ts', line: 10, addr: 0x1000n },
      { file: 'kernel/b.ts', line: 2, addr: 0x1004n },
      { file: 'kernel/b.ts', line: 0, addr: 0x1010n },
      { file: 'kernel/a.ts', line: 1, addr: 0x1200n },
    ]);
    expect(end).toBe(0x2000n);
  });

  it('the compilation unit: version 4, 8-byte addresses, [low, high) and the line program at offset 0', () => {
    const v = new DataView(d.debugInfo.buffer, d.debugInfo.byteOffset, d.debugInfo.byteLength);
    expect(v.getUint32(0, true)).toBe(d.debugInfo.length - 4);
    expect([v.getUint16(4, true), v.getUint32(6, true), d.debugInfo[10], d.debugInfo[11]]).toEqual([4, 0, 8, 1]);
    const at = { i: 12 };
    expect(cstr(d.debugInfo, at)).toBe('test');
    expect(v.getUint16(at.i, true)).toBe(0x0c); // DW_LANG_C99
    at.i += 2;
    expect([cstr(d.debugInfo, at), cstr(d.debugInfo, at)]).toEqual(['kernel/main.ts', '.']);
    expect([v.getBigUint64(at.i, true), v.getBigUint64(at.i + 8, true), v.getUint32(at.i + 16, true)]).toEqual([0x1000n, 0x1000n, 0]);
    expect(at.i + 20).toBe(d.debugInfo.length);
    // The abbreviation: compile_unit, no children, seven attributes, then the terminators.
    expect([...d.debugAbbrev.subarray(0, 3)]).toEqual([1, 0x11, 0]);
    expect([...d.debugAbbrev.subarray(-3)]).toEqual([0, 0, 0]);
  });
});
