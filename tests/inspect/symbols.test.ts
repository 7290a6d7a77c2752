import { describe, expect, it } from 'vitest';
import { ConsoleSymbolizer, SymbolTable } from '../../emulator/inspect/symbols.js';

const table = new SymbolTable([
  { name: 'kernel/mm/page_alloc/__alloc_pages', value: 0xffffffff80201000n, size: 0x100 },
  { name: '_start', value: 0xffffffff80200000n, size: 0x40 },
  { name: 'kernel/panic/panic', value: 0xffffffff80201100n, size: 0x20 },
  { name: 'zero_sized', value: 0xffffffff80202000n, size: 0 },
]);

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('SymbolTable', () => {
  it('finds the function holding a pc, first and last byte included', () => {
    expect(table.format(0xffffffff80201000n)).toBe('__alloc_pages+0x0/0x100');
    expect(table.format(0xffffffff802010ffn)).toBe('__alloc_pages+0xff/0x100');
    expect(table.format(0xffffffff80201100n)).toBe('panic+0x0/0x20');
    expect(table.format(0xffffffff8020003cn)).toBe('_start+0x3c/0x40');
  });
  it('names nothing outside every function (gaps, zero-sized symbols, other ranges)', () => {
    expect(table.format(0xffffffff80200040n)).toBeUndefined();
    expect(table.format(0xffffffff80201120n)).toBeUndefined();
    expect(table.format(0xffffffff80202000n)).toBeUndefined();
    expect(table.format(0n)).toBeUndefined();
    expect(table.size).toBe(3);
  });
});

describe('ConsoleSymbolizer', () => {
  it('appends the symbol to each frame line, leaving every other byte as it was', () => {
    const s = new ConsoleSymbolizer(table);
    const text = 'Call Trace:\n[<ffffffff80201010>]\n[<ffffffff80209999>]\nok 1 [<ffffffff80201010>] x\r\n';
    expect(dec(s.filter(enc(text)))).toBe(
      'Call Trace:\n[<ffffffff80201010>] __alloc_pages+0x10/0x100\n[<ffffffff80209999>]\nok 1 [<ffffffff80201010>] x\r\n',
    );
  });
  it('works when a frame line arrives split over chunks, and passes a chunk without frames through untouched', () => {
    const s = new ConsoleSymbolizer(table);
    const parts = ['[<ffffffff8020', '1104>]', '\nplain\n'];
    const out = parts.map((p) => dec(s.filter(enc(p)))).join('');
    expect(out).toBe('[<ffffffff80201104>] panic+0x4/0x20\nplain\n');
    const chunk = enc('no frames here\n');
    expect(s.filter(chunk)).toBe(chunk);
  });
});
