import { describe, expect, it } from 'vitest';
import {
  FINISHER_FAIL,
  FINISHER_PASS,
  FINISHER_RESET,
  TestFinisher,
  type FinishKind,
} from '../../emulator/devices/test_finisher.js';

function make() {
  const calls: [FinishKind, number][] = [];
  const dev = new TestFinisher((kind, code) => calls.push([kind, code]));
  return { dev, calls };
}

describe('TestFinisher', () => {
  it('0x5555 powers off with success', () => {
    const { dev, calls } = make();
    dev.write(0, 4, FINISHER_PASS);
    expect(calls).toEqual([['pass', 0]]);
  });

  it('0x3333 | code << 16 fails with that code', () => {
    const { dev, calls } = make();
    dev.write(0, 4, FINISHER_FAIL | (42 << 16));
    dev.write(0, 4, (FINISHER_FAIL | (0xffff << 16)) >>> 0);
    expect(calls).toEqual([
      ['fail', 42],
      ['fail', 0xffff],
    ]);
  });

  it('a failure with code 0 is reported as code 1, never as success', () => {
    const { dev, calls } = make();
    dev.write(0, 4, FINISHER_FAIL);
    expect(calls).toEqual([['fail', 1]]);
  });

  it('0x7777 requests a reset', () => {
    const { dev, calls } = make();
    dev.write(0, 4, FINISHER_RESET);
    expect(calls).toEqual([['reset', 0]]);
  });

  it('selects the command by the low 16 bits, as QEMU does', () => {
    const { dev, calls } = make();
    dev.write(0, 4, FINISHER_PASS | (7 << 16));
    dev.write(0, 4, FINISHER_RESET | (7 << 16));
    expect(calls).toEqual([
      ['pass', 0],
      ['reset', 0],
    ]);
  });

  it('accepts a 16-bit write (no code bits: a failure reads as code 1)', () => {
    const { dev, calls } = make();
    dev.write(0, 2, FINISHER_PASS);
    dev.write(0, 2, FINISHER_FAIL);
    expect(calls).toEqual([
      ['pass', 0],
      ['fail', 1],
    ]);
  });

  it('ignores other values, other offsets and byte writes; reads return 0', () => {
    const { dev, calls } = make();
    dev.write(0, 4, 0);
    dev.write(0, 4, 0x1234);
    dev.write(0, 4, 0x5556);
    dev.write(0, 4, 0x5555_0000); // PASS in the code bits only
    dev.write(4, 4, FINISHER_PASS);
    dev.write(0x800, 4, FINISHER_FAIL);
    dev.write(0, 1, 0x55);
    expect(calls).toEqual([]);
    expect(dev.read(0, 4)).toBe(0);
    dev.write(0, 4, FINISHER_PASS); // still armed after ignored writes
    expect(calls).toEqual([['pass', 0]]);
  });
});
