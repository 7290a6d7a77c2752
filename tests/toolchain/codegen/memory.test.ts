/**
 * Memory access in both address modes ('zext' runs in M-mode, 'sext' in
 * S-mode with Sv39 mapping the top 2 GiB onto the same RAM, as the kernel
 * does), checked against a model of the bytes: every load and store width
 * and signedness, static offsets small and large, constant addresses, data
 * segments, memory.size, memory.copy with every kind of overlap and
 * alignment, memory.fill, memory.init.
 */
import { describe, expect, it } from 'vitest';
import { MEM, buildModule, run, runMany } from './harness.js';

const MODES = ['zext', 'sext'] as const;
const PATTERN = Uint8Array.from({ length: 256 }, (_, i) => (i * 37 + 0x81) & 0xff);
const view = new DataView(PATTERN.buffer);

const LOADS: [string, (o: number) => bigint][] = [
  ['i32.load8_s', (o) => BigInt(view.getInt8(o))],
  ['i32.load8_u', (o) => BigInt(view.getUint8(o))],
  ['i32.load16_s', (o) => BigInt(view.getInt16(o, true))],
  ['i32.load16_u', (o) => BigInt(view.getUint16(o, true))],
  ['i32.load', (o) => BigInt(view.getInt32(o, true))],
  ['i64.load8_s', (o) => BigInt(view.getInt8(o))],
  ['i64.load8_u', (o) => BigInt(view.getUint8(o))],
  ['i64.load16_s', (o) => BigInt(view.getInt16(o, true))],
  ['i64.load16_u', (o) => BigInt(view.getUint16(o, true))],
  ['i64.load32_s', (o) => BigInt(view.getInt32(o, true))],
  ['i64.load32_u', (o) => BigInt(view.getUint32(o, true))],
  ['i64.load', (o) => view.getBigInt64(o, true)],
];

describe.each(MODES)('%s address mode', (addressMode) => {
  it.each(LOADS)('%s at every alignment, with static offsets', (op, expected) => {
    const ty = op.startsWith('i32') ? 'i32' : 'i64';
    const offsets = [0, 1, 3, 8, 100];
    const m = buildModule({
      memoryPages: 1,
      data: [{ offset: MEM, bytes: PATTERN }],
      funcs: offsets.map((off) => ({ name: `f${off}`, params: ['i32' as const], results: [ty], body: `local.get 0; ${op} offset=${off}` })),
    });
    for (const off of offsets) {
      const addrs = [0, 1, 2, 3, 5, 8, 13, 64, 101].map((a) => [BigInt(MEM + a)]);
      expect(runMany(m, `f${off}`, addrs, addressMode)).toEqual(addrs.map(([a]) => expected(Number(a! - BigInt(MEM)) + off)));
    }
  });

  it('constant addresses and large static offsets (lui + add), negative as i32', () => {
    const m = buildModule({
      memoryPages: 1,
      data: [{ offset: MEM + 0x3000, bytes: PATTERN }],
      funcs: [
        { name: 'c', results: ['i64'], body: `i32.const ${MEM + 0x3000 + 16 - 0x100000000}; i64.load` },
        { name: 'c2', results: ['i64'], body: `i32.const ${MEM}; i64.load offset=${0x3000 + 24}` },
        { name: 'big', params: ['i32'], results: ['i32'], body: 'local.get 0; i32.load offset=12312' }, // 0x3018
        { name: 'huge', params: ['i32'], results: ['i32'], body: `local.get 0; i32.load offset=${0x80000000 + 0x3000 + 4}` },
      ],
    });
    expect(runMany(m, 'c', [[]], addressMode)).toEqual([view.getBigInt64(16, true)]);
    expect(runMany(m, 'c2', [[]], addressMode)).toEqual([view.getBigInt64(24, true)]);
    expect(runMany(m, 'big', [[BigInt(MEM)], [BigInt(MEM + 4)]], addressMode)).toEqual([BigInt(view.getInt32(0x18, true)), BigInt(view.getInt32(0x1c, true))]);
    expect(runMany(m, 'huge', [[BigInt(MEM - 0x80000000)]], addressMode)).toEqual([BigInt(view.getInt32(4, true))]);
  });

  it('stores of every width leave their neighbours alone', () => {
    const stores = ['i32.store8', 'i32.store16', 'i32.store', 'i64.store8', 'i64.store16', 'i64.store32', 'i64.store'];
    const widths = [1, 2, 4, 1, 2, 4, 8];
    stores.forEach((op, k) => {
      const ty = op.startsWith('i32') ? 'i32' : 'i64';
      const m = buildModule({
        memoryPages: 1,
        data: [{ offset: MEM, bytes: PATTERN }],
        funcs: [
          { name: 'st', params: ['i32', ty], results: ['i64'], body: `local.get 0; local.get 1; ${op} offset=3; local.get 0; i64.load; local.get 0; i64.load offset=8; i64.xor` },
          { name: 'stc', params: ['i32'], results: ['i64'], body: `local.get 0; ${ty}.const -6148914691236517206; ${op} offset=3; local.get 0; i64.load; local.get 0; i64.load offset=8; i64.xor` },
          { name: 'st0', params: ['i32'], results: ['i64'], body: `local.get 0; ${ty}.const 0; ${op} offset=3; local.get 0; i64.load; local.get 0; i64.load offset=8; i64.xor` },
        ],
      });
      const model = new DataView(PATTERN.slice().buffer);
      const expectAfter = (base: number, v: bigint): bigint => {
        for (let i = 0; i < widths[k]!; i++) model.setUint8(base + 3 + i, Number((v >> BigInt(8 * i)) & 0xffn));
        return model.getBigInt64(base, true) ^ model.getBigInt64(base + 8, true);
      };
      const cases: [number, bigint][] = [[0, 0x1122334455667788n], [16, -1n], [40, 0x7fn]];
      const got = runMany(m, 'st', cases.map(([b, v]) => [BigInt(MEM + b), v]), addressMode);
      expect(got).toEqual(cases.map(([b, v]) => expectAfter(b, v)));
      expect(runMany(m, 'stc', [[BigInt(MEM + 64)]], addressMode)).toEqual([expectAfter(64, -6148914691236517206n)]);
      expect(runMany(m, 'st0', [[BigInt(MEM + 96)]], addressMode)).toEqual([expectAfter(96, 0n)]);
    });
  });
});

describe('memory.size and memory.grow', () => {
  it('memory.size is the declared size', () => {
    const m = buildModule({ memoryPages: 17, funcs: [{ name: 'f', results: ['i32'], body: 'memory.size' }] });
    expect(runMany(m, 'f', [[]])).toEqual([17n]);
  });
});

describe('bulk memory', () => {
  const AREA = 160;
  const spec = {
    memoryPages: 1,
    data: [{ offset: MEM, bytes: PATTERN.subarray(0, AREA) }, { offset: MEM + 0x1000, bytes: [1, 2, 3, 4, 5, 6, 7, 8, 9] }],
    funcs: [
      { name: 'copy', params: ['i32', 'i32', 'i32'] as ('i32')[], body: 'local.get 0; local.get 1; local.get 2; memory.copy' },
      { name: 'fill', params: ['i32', 'i32', 'i32'] as ('i32')[], body: 'local.get 0; local.get 1; local.get 2; memory.fill' },
    ],
  };

  const cases: [number, number, number][] = [];
  for (const n of [0, 1, 7, 8, 9, 31, 32, 33, 64, 70]) {
    for (const [d, s] of [[0, 40], [40, 0], [8, 16], [16, 8], [3, 21], [21, 3], [5, 6], [6, 5], [1, 0], [0, 1], [10, 10], [7, 72], [72, 7]]) {
      if (d! + n <= AREA && s! + n <= AREA) cases.push([d!, s!, n]);
    }
  }

  it.each(MODES)('memory.copy is memmove in every overlap and alignment (%s)', (addressMode) => {
    const m = buildModule(spec);
    for (const [d, s, n] of cases) {
      const r = run(m, 'copy', { args: [MEM + d, MEM + s, n], addressMode });
      const want = PATTERN.slice(0, AREA);
      want.copyWithin(d, s, s + n);
      expect([d, s, n, [...r.machine.mem.readBytes(MEM, AREA)]]).toEqual([d, s, n, [...want]]);
    }
  });

  it.each(MODES)('memory.fill at every alignment and length (%s)', (addressMode) => {
    const m = buildModule(spec);
    for (const [d, , n] of cases.filter((_, i) => i % 3 === 0)) {
      const r = run(m, 'fill', { args: [MEM + d, 0x1a5, n], addressMode });
      const want = PATTERN.slice(0, AREA);
      want.fill(0xa5, d, d + n);
      expect([d, n, [...r.machine.mem.readBytes(MEM, AREA)]]).toEqual([d, n, [...want]]);
    }
  });

  it('memory.init copies from a passive segment; data.drop is accepted', () => {
    const m = buildModule({ memoryPages: 1, funcs: [{ name: 'init', params: ['i32'], body: 'local.get 0; i32.const 2; i32.const 5; memory.init 0; data.drop 0' }] });
    m.data = [{ mode: 'passive', memoryIndex: 0, bytes: Uint8Array.from([10, 11, 12, 13, 14, 15, 16, 17]) }];
    const r = run(m, 'init', { args: [MEM + 3] });
    expect([...r.machine.mem.readBytes(MEM + 2, 8)]).toEqual([0, 12, 13, 14, 15, 16, 0, 0]);
  });

  it('active data segments are reported at their wasm addresses', () => {
    const m = buildModule(spec);
    const r = run(m, 'copy', { args: [MEM, MEM, 0] });
    expect(r.translation.data.map((d) => [d.addr, d.bytes.length])).toEqual([[MEM, AREA], [MEM + 0x1000, 9]]);
  });
});
