/**
 * `.mark N` (toolchain/asm.ts) and the marks the code generator emits: the
 * raw material of the pc → wasm offset → source line table.
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../../toolchain/asm.js';
import { translateModule } from '../../../toolchain/translate.js';
import { buildModule } from './harness.js';

describe('.mark', () => {
  it('records the address of the next byte and the value, in source order', () => {
    const r = assemble('nop\n.mark 7\naddi a0, a0, 1\n.mark 0x10\n.mark 9\nnop', { base: 0x1000n });
    expect(r.marks).toEqual([{ addr: 0x1004n, value: 7 }, { addr: 0x1008n, value: 16 }, { addr: 0x1008n, value: 9 }]);
    expect(r.bytes.length).toBe(12);
  });

  it('is an error without a constant argument', () => {
    expect(() => assemble('.mark')).toThrow(/\.mark takes 1/);
    expect(() => assemble('.mark undefined_symbol')).toThrow();
  });
});

describe('marks in translated code', () => {
  const m = buildModule({
    funcs: [
      { name: 'first', params: ['i32', 'i32'], results: ['i32'], body: 'local.get 0; local.get 1; i32.div_s; i32.const 3; i32.mul' },
      { name: 'second', params: ['i32'], results: ['i32'], body: 'local.get 0; if i32; i32.const 1; else; unreachable; end' },
    ],
  });
  const t = translateModule(m, { addressMode: 'sext' });
  const a = assemble(`${t.text}\n__wasm_trap: ret\n__wasm_abort: ret`, { base: 0x8020_0000n });
  const markAt = (pc: bigint): number => {
    let best: { addr: bigint; value: number } | undefined;
    for (const mk of a.marks) if (mk.addr <= pc && (!best || mk.addr >= best.addr)) best = mk;
    return best!.value;
  };

  it('every function starts with a mark inside its own body', () => {
    const first = a.symbols.get(t.funcLabels[0]!)!;
    const second = a.symbols.get(t.funcLabels[1]!)!;
    expect(markAt(first)).toBeGreaterThanOrEqual(0x1000);
    expect(markAt(first)).toBeLessThan(0x2000);
    expect(markAt(second)).toBeGreaterThanOrEqual(0x2000);
    expect(markAt(second)).toBeLessThan(0x3000);
  });

  it('marks name the instruction whose code follows (div_s, its trap stubs, unreachable)', () => {
    const values = new Set(a.marks.map((mk) => mk.value));
    expect(values.has(0x1004)).toBe(true); // first: i32.div_s (third instruction, offset 0x1000 + 2·2)
    expect(values.has(0x1008)).toBe(true); // first: i32.mul
    expect(values.has(0x2008)).toBe(true); // second: unreachable
    // The trap stubs after the return sequence are marked with the division's offset.
    const stubMarks = a.marks.filter((mk) => mk.value === 0x1004);
    expect(stubMarks.length).toBeGreaterThanOrEqual(2);
  });
});
