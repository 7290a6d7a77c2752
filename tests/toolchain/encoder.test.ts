/**
 * The wasm module writer (toolchain/wasm/encoder.ts): round trips through
 * the reader (readModule(encodeModule(m)) deep-equals m, offsets aside), V8
 * accepting what it writes, its encoding choices, and its refusals.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from '../../toolchain/wasm/binary.js';
import { encodeModule } from '../../toolchain/wasm/encoder.js';
import { WasmError, type ElemSegment } from '../../toolchain/wasm/module.js';
import { readModule } from '../../toolchain/wasm/reader.js';
import { prng } from '../helpers/prng.js';
import { ASC_SAMPLE, I, T, asc, fn, kitchenSink, mod, typedBody, withoutOffsets } from './wasm_fixtures.js';

/** The content of the first section with this id (empty when absent). */
function section(bytes: Uint8Array<ArrayBuffer>, id: number): Uint8Array<ArrayBuffer> {
  for (let p = 8; p < bytes.length;) {
    const r = new ByteReader(bytes, p);
    const sid = r.u8();
    const size = r.u32();
    if (sid === id) return bytes.subarray(r.pos, r.pos + size);
    p = r.pos + size;
  }
  return new Uint8Array();
}

describe('round trip', () => {
  it('the kitchen-sink module (every opcode, every kind of section entry)', () => {
    const m = kitchenSink();
    const bytes = encodeModule(m);
    expect(WebAssembly.validate(bytes)).toBe(true);
    expect(withoutOffsets(readModule(bytes))).toEqual(withoutOffsets(m));
  });

  let ascModules: Uint8Array<ArrayBuffer>[] = [];
  beforeAll(async () => {
    ascModules = (await Promise.all([
      asc(ASC_SAMPLE, ['--debug', '--sourceMap']),
      asc(ASC_SAMPLE, ['-O3', '--memoryBase', '2149580800']),
    ])).map((o) => o.wasm);
  }, 120_000);

  it('asc output: read, write, read again gives the same module, and V8 accepts the rewrite', () => {
    for (const original of ascModules) {
      const m = readModule(original);
      const bytes = encodeModule(m);
      expect(WebAssembly.validate(bytes)).toBe(true);
      expect(withoutOffsets(readModule(bytes))).toEqual(withoutOffsets(m));
      // Writing is deterministic and idempotent.
      expect(encodeModule(readModule(bytes))).toEqual(bytes);
    }
  });

  it('1000 modules with random well-typed bodies', () => {
    const rnd = prng(0xe2c0de);
    for (let i = 0; i < 1000; i++) {
      const m = kitchenSink();
      const f = m.funcs[1]!;
      f.locals = ['i64', 'externref', 'f32', 'i32'];
      f.body = typedBody(rnd, [...f.type.params, ...f.locals], f.type.results, 1 + (rnd() % 40));
      const bytes = encodeModule(m);
      expect(WebAssembly.validate(bytes)).toBe(true);
      expect(withoutOffsets(readModule(bytes))).toEqual(withoutOffsets(m));
    }
  });

  it('extreme immediates: constants, memory offsets, indices, float bits', () => {
    const consts = [0n, -1n, 63n, 64n, -64n, -65n, 2147483647n, -2147483648n];
    const m = mod([fn(T([], []), [
      ...consts.map((v) => [I('i32.const', { value: v }), I('drop')]).flat(),
      ...[...consts, 0x7fff_ffff_ffff_ffffn, -(1n << 63n)].map((v) => [I('i64.const', { value: v }), I('drop')]).flat(),
      I('f32.const', { value: 0xffff_ffffn }), I('drop'),
      I('f64.const', { value: 0x7ff8_0000_0000_0001n }), I('drop'),
      I('i32.const', { value: 0n }), I('i64.load', { align: 0, memOffset: 0xffff_ffff }), I('drop'),
    ])], { memories: [{ min: 0, max: 65536, shared: true }] });
    const bytes = encodeModule(m);
    expect(WebAssembly.validate(bytes)).toBe(true);
    expect(withoutOffsets(readModule(bytes))).toEqual(withoutOffsets(m));
  });
});

describe('encoding choices', () => {
  it('writes block types as 0x40, a value type, or a type index (§5.4.1)', () => {
    const pair = T(['i32'], ['i32', 'i32']);
    const m = mod([fn(T([], []), [
      I('block'), I('end'),
      I('block', { blockType: T([], ['i64']) }), I('i64.const', { value: 0n }), I('end'), I('drop'),
      I('i32.const', { value: 0n }), I('block', { blockType: pair }), I('i32.const', { value: 0n }), I('end'), I('drop'), I('drop'),
    ])], { types: [pair] });
    const bytes = encodeModule(m);
    const body = readModule(bytes).funcs[0]!.body;
    const typeByte = (n: number): number => bytes[body.filter((i) => i.op === 'block')[n]!.offset + 1]!;
    expect([typeByte(0), typeByte(1), typeByte(2)]).toEqual([0x40, 0x7e, 0x00]);
    expect(WebAssembly.validate(bytes)).toBe(true);
  });

  it('refuses a block type that is not in the type section, and unknown instructions', () => {
    const noType = mod([fn(T([], []), [I('block', { blockType: T(['i64'], []) }), I('end')])]);
    expect(() => encodeModule(noType)).toThrow(WasmError);
    expect(() => encodeModule(noType)).toThrow(/block type \[i64\] → \[\] is not in the type section/);
    expect(() => encodeModule(mod([fn(T([], []), [I('i32.frobnicate')])]))).toThrow(/cannot encode unknown instruction "i32.frobnicate"/);
    expect(() => encodeModule(mod([fn(T([], []), [I('local.get')])]))).toThrow(/cannot encode local.get: no index/);
  });

  it('writes invalid modules as given, for error tests', () => {
    const bytes = encodeModule(mod([fn(T([], ['i32']), [I('i64.const', { value: 1n })])]));
    expect(WebAssembly.validate(bytes)).toBe(false);
    expect(() => readModule(bytes)).toThrow(/end expects i32 operand, got i64/);
  });

  it('picks the element segment encoding from the entries (§5.5.12)', () => {
    const cases: [ElemSegment, number][] = [
      [{ mode: 'active', tableIndex: 0, offset: 0, funcs: [0] }, 0],
      [{ mode: 'passive', tableIndex: 0, funcs: [0] }, 1],
      [{ mode: 'active', tableIndex: 1, offset: 0, funcs: [0] }, 2],
      [{ mode: 'declarative', tableIndex: 0, funcs: [0] }, 3],
      [{ mode: 'active', tableIndex: 0, offset: 0, funcs: [0, null] }, 4],
      [{ mode: 'passive', tableIndex: 0, funcs: [null] }, 5],
      [{ mode: 'active', tableIndex: 2, offset: 0, funcs: [null], elemType: 'externref' }, 6],
      [{ mode: 'declarative', tableIndex: 0, funcs: [null], elemType: 'externref' }, 7],
    ];
    for (const [segment, flags] of cases) {
      const m = mod([fn(T([], []), [])], {
        tables: [{ elemType: 'funcref', min: 1 }, { elemType: 'funcref', min: 1 }, { elemType: 'externref', min: 1 }],
        elements: [segment],
      });
      const bytes = encodeModule(m);
      expect([...section(bytes, 9).subarray(0, 2)]).toEqual([1, flags]);
      expect(WebAssembly.validate(bytes)).toBe(true);
      expect(readModule(bytes).elements).toEqual([segment]);
    }
  });

  it('writes the name section from funcNames and non-default function names, and global names', () => {
    const m = mod([fn(T([], []), []), fn(T([], []), [])], {
      globals: [
        { type: 'i32', mutable: false, init: [I('i32.const', { value: 1n })], name: 'answer' },
        { type: 'i32', mutable: false, init: [I('i32.const', { value: 2n })], name: 'global1' },
      ],
    });
    m.funcs[1]!.name = 'func1';
    m.funcNames = new Map([[0, 'first']]);
    m.funcs[0]!.name = 'first';
    const back = readModule(encodeModule(m));
    expect([...back.funcNames]).toEqual([[0, 'first']]);
    expect(back.funcs.map((f) => f.name)).toEqual(['first', 'func1']);
    expect(back.globals.map((g) => g.name)).toEqual(['answer', 'global1']);
  });

  it('writes a datacount section when there are data segments, unless told otherwise', () => {
    const m = mod([], { memories: [{ min: 1, shared: false }], data: [{ mode: 'passive', memoryIndex: 0, bytes: new Uint8Array([1]) }] });
    const has12 = (b: Uint8Array<ArrayBuffer>): boolean => section(b, 12).length > 0;
    expect(has12(encodeModule(m))).toBe(true);
    expect(has12(encodeModule(m, { dataCount: false }))).toBe(false);
    expect(has12(encodeModule(mod([])))).toBe(false);
  });
});

describe('ByteWriter LEB128 (§5.2.2)', () => {
  const bytes = (f: (w: ByteWriter) => void): number[] => {
    const w = new ByteWriter();
    f(w);
    return [...w.finish()];
  };
  it('writes the shortest forms', () => {
    expect(bytes((w) => w.u32(0))).toEqual([0]);
    expect(bytes((w) => w.u32(127))).toEqual([0x7f]);
    expect(bytes((w) => w.u32(128))).toEqual([0x80, 0x01]);
    expect(bytes((w) => w.u32(624485))).toEqual([0xe5, 0x8e, 0x26]);
    expect(bytes((w) => w.u32(0xffff_ffff))).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(bytes((w) => w.signed(-1n))).toEqual([0x7f]);
    expect(bytes((w) => w.signed(63n))).toEqual([0x3f]);
    expect(bytes((w) => w.signed(64n))).toEqual([0xc0, 0x00]);
    expect(bytes((w) => w.signed(-64n))).toEqual([0x40]);
    expect(bytes((w) => w.signed(-65n))).toEqual([0xbf, 0x7f]);
    expect(bytes((w) => w.signed(-123456n))).toEqual([0xc0, 0xbb, 0x78]);
  });
  it('refuses what is not a u32', () => {
    expect(() => bytes((w) => w.u32(-1))).toThrow(WasmError);
    expect(() => bytes((w) => w.u32(2 ** 32))).toThrow(WasmError);
    expect(() => bytes((w) => w.u32(1.5))).toThrow(WasmError);
  });
  it('agrees with the reader on 2000 random values', () => {
    const rnd = prng(0x1eb);
    for (let i = 0; i < 2000; i++) {
      const u = rnd();
      const s = BigInt.asIntN(64, (BigInt(rnd()) << 32n) | BigInt(rnd())) >> BigInt(rnd() % 64);
      const w = new ByteWriter().u32(u).signed(s).signed(BigInt.asIntN(32, BigInt(u)));
      const r = new ByteReader(w.finish());
      expect(r.u32()).toBe(u);
      expect(r.signed(64, 's64')).toBe(s);
      expect(r.signed(32, 's32')).toBe(BigInt.asIntN(32, BigInt(u)));
      expect(r.atEnd()).toBe(true);
    }
  });
});
