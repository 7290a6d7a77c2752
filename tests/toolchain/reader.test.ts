/**
 * The wasm reader (toolchain/wasm/reader.ts): asc's real output, a module
 * with every opcode, every error class with its message, the name section,
 * LEB128 edge cases, and seeded fuzzing against V8's own validator
 * (`WebAssembly.validate`): on mutated and random inputs both must agree on
 * valid vs invalid, and the reader must throw nothing but WasmError.
 *
 * Known, deliberate differences from V8 (Node 20, V8 11.3), tolerated by
 * the fuzzers:
 *  - atomic accesses must be naturally aligned (threads proposal, as the
 *    spec says); V8 accepts smaller alignments;
 *  - SIMD, exception handling and tail calls are valid for V8 and refused
 *    here with "… is not supported".
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ByteReader } from '../../toolchain/wasm/binary.js';
import { encodeModule } from '../../toolchain/wasm/encoder.js';
import { WasmError, type Instr, type WasmModule } from '../../toolchain/wasm/module.js';
import { OPCODES } from '../../toolchain/wasm/opcodes.js';
import { readModule } from '../../toolchain/wasm/reader.js';
import { prng } from '../helpers/prng.js';
import { ASC_SAMPLE, I, T, asc, fn, kitchenSink, mod, typedBody } from './wasm_fixtures.js';

/** Our verdict: undefined when valid, else the WasmError message. Fails the test on any other exception. */
function verdict(bytes: Uint8Array<ArrayBuffer>): string | undefined {
  try {
    readModule(bytes);
    return undefined;
  } catch (e) {
    if (!(e instanceof WasmError)) throw new Error(`readModule threw a non-WasmError: ${String(e)}`);
    expect(e.message).not.toMatch(/internal error/);
    return e.message;
  }
}

/** A difference with V8 that is deliberate (see the header). */
function tolerated(message: string): boolean {
  return /is not supported|must be exactly the natural alignment/.test(message);
}

function hex(b: Uint8Array<ArrayBuffer>): string {
  return Buffer.from(b).toString('hex');
}

/** Compare our verdict with V8's; returns a description of the disagreement, if any. */
function disagreement(bytes: Uint8Array<ArrayBuffer>): string | undefined {
  const v8 = WebAssembly.validate(bytes);
  const ours = verdict(bytes);
  if (v8 === (ours === undefined)) return undefined;
  if (v8 && tolerated(ours!)) return undefined;
  let v8Message = '';
  try {
    new WebAssembly.Module(bytes);
  } catch (e) {
    v8Message = String(e);
  }
  return `V8 says ${v8 ? 'valid' : `invalid (${v8Message})`}, we say ${ours ?? 'valid'}: ${hex(bytes).slice(0, 400)}`;
}

let sample: Uint8Array<ArrayBuffer>;
let sampleBase: Uint8Array<ArrayBuffer>;
let sampleO3: Uint8Array<ArrayBuffer>;

beforeAll(async () => {
  [sample, sampleBase, sampleO3] = (await Promise.all([
    asc(ASC_SAMPLE, ['--debug']),
    asc(ASC_SAMPLE, ['--debug', '--memoryBase', '2149580800']),
    asc(ASC_SAMPLE, ['-O3', '--sharedMemory', '--maximumMemory', '16', '--sourceMap']),
  ])).map((o) => o.wasm) as [Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>];
}, 120_000);

describe('asc output', () => {
  it('reads what asc emits, and V8 agrees it is valid', () => {
    for (const b of [sample, sampleBase, sampleO3]) {
      expect(WebAssembly.validate(b)).toBe(true);
      const m = readModule(b);
      expect(m.funcs.length).toBeGreaterThan(5);
      expect(m.importFuncs).toEqual([{ module: 'env', name: 'abort', typeIndex: expect.any(Number) }]);
      expect(m.memories).toHaveLength(1);
      m.funcs.forEach((f, i) => expect(f.index).toBe(m.importFuncs.length + i));
    }
  });

  it('names functions from the name section, and each body ends with end', () => {
    const m = readModule(sample);
    const names = m.funcs.map((f) => f.name);
    for (const n of ['test/add', 'test/twice', 'test/indirect', 'test/atomics', 'test/bulk', 'test/loops', 'test/text']) expect(names).toContain(n);
    for (const f of m.funcs) {
      expect(f.name).toBe(m.funcNames.get(f.index));
      expect(f.body[f.body.length - 1]!.op).toBe('end');
    }
    expect(m.globals.map((g) => g.name)).toContain('test/counter');
  });

  it('falls back to func<index> without a name section (asc without --debug)', () => {
    const m = readModule(sampleO3);
    expect(m.funcNames.size).toBe(0);
    for (const f of m.funcs) expect(f.name).toBe(`func${f.index}`);
  });

  it('gives every instruction the offset of its opcode, and every body the offset of its size', () => {
    for (const b of [sample, sampleO3]) {
      const m = readModule(b);
      for (const f of m.funcs) {
        // The body size is a LEB128 u32 whose value is the distance to the next body.
        const r = new ByteReader(b, f.bodyOffset);
        const size = r.u32();
        expect(f.body[f.body.length - 1]!.offset).toBe(r.pos + size - 1);
        for (const ins of f.body) {
          const info = [...OPCODES.values()].find((o) => o.name === ins.op)!;
          const first = info.code > 0xff ? info.code >> 8 : info.code === 0x1c ? 0x1b : info.code;
          expect(b[ins.offset] === first || (ins.op === 'select' && b[ins.offset] === 0x1c)).toBe(true);
        }
      }
    }
  });

  it('decodes the atomics, bulk memory and call_indirect asc emits', () => {
    const m = readModule(sample);
    const ops = (name: string): string[] => m.funcs.find((f) => f.name === name)!.body.map((i) => i.op);
    expect(ops('test/atomics')).toEqual(
      expect.arrayContaining(['i64.atomic.store', 'i32.atomic.rmw.cmpxchg', 'memory.atomic.notify', 'memory.atomic.wait32', 'i64.atomic.rmw.xchg', 'i32.atomic.rmw8.sub_u', 'i64.atomic.load16_u']),
    );
    expect(ops('test/bulk')).toEqual(expect.arrayContaining(['memory.copy', 'memory.fill', 'i32.store8', 'i32.store16', 'i64.load']));
    const ci = m.funcs.find((f) => f.name === 'test/indirect')!.body.find((i) => i.op === 'call_indirect')!;
    expect(m.types[ci.index!]).toEqual(T(['i32'], ['i32']));
    expect(ci.table).toBe(0);
    const atomic = m.funcs.find((f) => f.name === 'test/atomics')!.body.find((i) => i.op === 'i64.atomic.store')!;
    expect(atomic.align).toBe(3);
    expect(m.elements).toEqual([{ mode: 'active', tableIndex: 0, offset: 1, funcs: [expect.any(Number), expect.any(Number)] }]);
  });

  it('places static data at --memoryBase (0x8020_0000) as an unsigned offset', () => {
    const m = readModule(sampleBase);
    expect(m.data.length).toBeGreaterThan(0);
    for (const d of m.data) {
      expect(d.mode).toBe('active');
      expect(d.offset).toBeGreaterThanOrEqual(0x8020_0000);
      expect(d.offset).toBeLessThan(0x8030_0000);
    }
    const m0 = readModule(sample);
    expect(m0.data.every((d) => d.offset! < 0x1_0000)).toBe(true);
  });

  it('reads i32/i64 constants sign-extended to 64 bits', () => {
    const m = readModule(encodeModule(mod([fn(T([], []), [
      I('i32.const', { value: -1n }), I('drop'),
      I('i32.const', { value: -2147483648n }), I('drop'),
      I('i64.const', { value: -9223372036854775808n }), I('drop'),
      I('i64.const', { value: 0x7fff_ffff_ffff_ffffn }), I('drop'),
    ])])));
    expect(m.funcs[0]!.body.filter((i) => i.value !== undefined).map((i) => i.value)).toEqual([-1n, -2147483648n, -9223372036854775808n, 0x7fff_ffff_ffff_ffffn]);
  });
});

describe('every opcode', () => {
  it('the kitchen-sink module uses every opcode of the table and is valid for V8 and for us', () => {
    const b = encodeModule(kitchenSink());
    expect(WebAssembly.validate(b)).toBe(true);
    const m = readModule(b);
    const used = new Set<string>();
    for (const f of m.funcs) for (const i of f.body) used.add(i.op + (i.op === 'select' && i.selectType ? '_t' : ''));
    for (const info of OPCODES.values()) used.has(info.name + (info.code === 0x1c ? '_t' : '')) || expect.fail(`${info.name} unused`);
    expect(OPCODES.size).toBe(268);
  });
});

// ── errors ───────────────────────────────────────────────────────────────

const HDR = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const sec = (id: number, ...b: number[]): number[] => [id, b.length, ...b];
const raw = (...b: number[]): Uint8Array<ArrayBuffer> => new Uint8Array([...HDR, ...b]);
/** One function of type [] → [] with this raw body (local declarations, instructions; no size), with a memory when `memory`. */
const rawFunc = (body: number[], memory = false): Uint8Array<ArrayBuffer> =>
  raw(...sec(1, 1, 0x60, 0, 0), ...sec(3, 1, 0), ...(memory ? sec(5, 1, 0, 1) : []), ...sec(10, 1, body.length, ...body));
const body = (...instrs: Instr[]): WasmModule => mod([{ ...fn(T(['i32'], ['i32']), instrs, ['i64']), name: 'foo' }], { memories: [{ min: 1, shared: false }] });
const c32 = (v: number): Instr => I('i32.const', { value: BigInt(v) });
const c64 = (v: number): Instr => I('i64.const', { value: BigInt(v) });

/** [what, module bytes, expected message]. Every one is also invalid for V8. */
const ERRORS: [string, Uint8Array<ArrayBuffer> | WasmModule, RegExp][] = [
  // Module structure (§5.5.15, §5.5.16)
  ['bad magic', new Uint8Array([0, 0x61, 0x73, 0x6e, 1, 0, 0, 0]), /^at 0x0: not a wasm module: bad magic number$/],
  ['bad version', new Uint8Array([0, 0x61, 0x73, 0x6d, 2, 0, 0, 0]), /^at 0x4: unsupported wasm version/],
  ['truncated header', new Uint8Array([0, 0x61, 0x73]), /^at 0x0: unexpected end .*magic number/],
  ['section too long', raw(1, 5, 0), /^at 0x8: section size 5 is larger than the bytes left \(1\)$/],
  ['section too short', raw(...sec(1, 1, 0x60, 0, 0, 0)), /^in section "type" at 0xe: section size mismatch: 1 bytes left over$/],
  ['unknown section', raw(14, 0), /^at 0x8: unknown section id 14$/],
  ['duplicate section', raw(...sec(1, 0), ...sec(1, 0)), /^at 0xb: section "type" is out of order or duplicated$/],
  ['out of order', raw(...sec(3, 0), ...sec(1, 0)), /out of order/],
  ['datacount after code', raw(...sec(10, 0), ...sec(12, 0)), /section "datacount" is out of order/],
  ['custom section name not UTF-8', raw(0, 3, 2, 0xff, 0xfe), /^in a custom section at 0xa: custom section name is not valid UTF-8$/],
  // LEB128 (§5.2.2)
  ['u32 too long', raw(1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00), /^at 0x9: section size: integer representation too long$/],
  ['u32 too large', raw(1, 0x80, 0x80, 0x80, 0x80, 0x10), /^at 0x9: section size: integer too large$/],
  ['s32 too large', raw(...sec(6, 1, 0x7f, 0, 0x41, 0x80, 0x80, 0x80, 0x80, 0x70, 0x0b)), /^in section "global" at 0xe: i32 constant: integer too large$/],
  ['s64 too long', raw(...sec(6, 1, 0x7e, 0, 0x42, ...Array(10).fill(0x80), 0x00, 0x0b)), /i64 constant: integer representation too long/],
  // Types, imports, functions (§5.5.4–6)
  ['bad type form', raw(...sec(1, 1, 0x5f, 0, 0)), /^in section "type" at 0xb: invalid function type form 0x5f \(expected 0x60\)$/],
  ['bad value type', raw(...sec(1, 1, 0x60, 1, 0x55, 0)), /^in section "type" at 0xd: invalid value type 0x55$/],
  ['too many params', mod([], { types: [T(Array(1001).fill('i32'), [])] }), /too many parameters: 1001 \(implementation limit 1000\)/],
  ['import name not UTF-8', raw(...sec(2, 1, 1, 0xc0, 1, 0x61, 0, 0)), /^in section "import" at 0xb: import module name is not valid UTF-8$/],
  ['bad import kind', raw(...sec(2, 1, 1, 0x61, 1, 0x62, 5, 0)), /^in section "import" at 0xf: invalid import kind 5$/],
  ['import type index', raw(...sec(2, 1, 1, 0x61, 1, 0x62, 0, 0)), /^in section "import" at 0x10: type index 0 is out of range \(0 types\)$/],
  ['function type index', raw(...sec(1, 1, 0x60, 0, 0), ...sec(3, 1, 1)), /^in section "function" at 0x11: type index 1 is out of range \(1 types\)$/],
  ['count larger than the section', raw(...sec(3, 0x7f)), /^in section "function" at 0xa: 127 functions cannot fit in the 0 bytes left$/],
  ['function without code', raw(...sec(1, 1, 0x60, 0, 0), ...sec(3, 1, 0)), /the function section declares 1 functions but there is no code section/],
  ['code count mismatch', raw(...sec(1, 1, 0x60, 0, 0), ...sec(3, 1, 0), ...sec(10, 0)), /0 function bodies, but the function section declares 1/],
  // Tables, memories, globals (§5.5.7–9, threads proposal)
  ['bad table limits flags', raw(...sec(4, 1, 0x70, 2, 1)), /invalid table limits flags 0x2/],
  ['table element type', raw(...sec(4, 1, 0x7f, 0, 1)), /table element type must be funcref or externref, got i32/],
  ['table max < min', mod([], { tables: [{ elemType: 'funcref', min: 2, max: 1 }] }), /table maximum 1 is smaller than the minimum 2/],
  ['two memories', mod([], { memories: [{ min: 1, shared: false }, { min: 1, shared: false }] }), /at most one memory is allowed/],
  ['memory too large', mod([], { memories: [{ min: 65537, shared: false }] }), /memory minimum 65537 is larger than the limit 65536/],
  ['memory max too large', mod([], { memories: [{ min: 1, max: 65537, shared: false }] }), /memory maximum 65537 is larger than the limit 65536/],
  ['memory64 flags', raw(...sec(5, 1, 4, 1)), /invalid memory limits flags 0x4/],
  ['shared memory without max', raw(...sec(5, 1, 2, 1)), /a shared memory must have a maximum/],
  ['global mutability', raw(...sec(6, 1, 0x7f, 2, 0x41, 0, 0x0b)), /invalid global mutability 2/],
  ['global init type', mod([], { globals: [{ type: 'i32', mutable: false, init: [c64(1)], name: 'g' }] }), /the initialiser of global 0 must produce one i32, got \[i64\]/],
  ['global init two values', mod([], { globals: [{ type: 'i32', mutable: false, init: [c32(1), c32(2)], name: 'g' }] }), /must produce one i32, got \[i32 i32\]/],
  ['global init not constant', mod([], { globals: [{ type: 'i32', mutable: false, init: [c32(1), c32(1), I('i32.add')], name: 'g' }] }), /i32.add is not allowed in a constant expression/],
  ['global init global.get of a defined global', mod([], { globals: [
    { type: 'i32', mutable: false, init: [c32(1)], name: 'a' },
    { type: 'i32', mutable: false, init: [I('global.get', { index: 0 })], name: 'b' },
  ] }), /global.get of global 0, which is not imported/],
  ['global init global.get of a mutable import', mod([], {
    importOther: [{ module: 'a', name: 'g', kind: 'global', global: { type: 'i32', mutable: true } }],
    globals: [{ type: 'i32', mutable: false, init: [I('global.get', { index: 0 })], name: 'b' }],
  }), /global.get of mutable global 0/],
  // Exports, start (§5.5.10–11)
  ['duplicate export', mod([fn(T([], []), [])], { exports: [{ name: 'x', kind: 'func', index: 0 }, { name: 'x', kind: 'func', index: 0 }] }), /duplicate export name "x"/],
  ['export index', mod([], { exports: [{ name: 'x', kind: 'global', index: 0 }] }), /exported global index 0 is out of range \(0\)/],
  ['start index', mod([], { start: 3 }), /^in section "start" at 0x[0-9a-f]+: start function index 3 is out of range \(0 functions\)$/],
  ['start type', mod([fn(T(['i32'], []), [])], { start: 0 }), /the start function 0 must have type \[\] → \[\]/],
  // Elements, data, datacount (§5.5.12–14)
  ['element table index', mod([fn(T([], []), [])], { elements: [{ mode: 'active', tableIndex: 0, offset: 0, funcs: [0] }] }), /^in section "element" at 0x[0-9a-f]+: table index 0 is out of range \(0 tables\)$/],
  ['element function index', mod([], { tables: [{ elemType: 'funcref', min: 1 }], elements: [{ mode: 'active', tableIndex: 0, offset: 0, funcs: [4] }] }), /function index 4 is out of range \(0 functions\)/],
  ['element type vs table type', mod([], { tables: [{ elemType: 'externref', min: 1 }], elements: [{ mode: 'active', tableIndex: 0, offset: 0, funcs: [] }] }), /element segment 0 of type funcref does not match table 0 of type externref/],
  ['element flags', raw(...sec(9, 1, 8)), /invalid element segment flags 8/],
  ['element kind', raw(...sec(9, 1, 1, 1, 0)), /invalid element kind 1/],
  ['element expression type', raw(...sec(9, 1, 5, 0x70, 1, 0xd0, 0x6f, 0x0b)), /element 0 of segment 0 must produce one funcref, got \[externref\]/],
  ['data without memory', mod([], { data: [{ mode: 'active', memoryIndex: 0, offset: 0, bytes: new Uint8Array(1) }] }), /data segment 0: memory index 0 is out of range \(0 memories\)/],
  ['data flags', raw(...sec(5, 1, 0, 1), ...sec(11, 1, 3)), /invalid data segment flags 3/],
  ['data offset type', raw(...sec(5, 1, 0, 1), ...sec(11, 1, 0, 0x42, 0, 0x0b, 0)), /the offset of data segment 0 must produce one i32, got \[i64\]/],
  ['data count mismatch', raw(...sec(5, 1, 0, 1), ...sec(12, 2), ...sec(11, 1, 1, 0)), /1 data segments, but the data count section says 2/],
  ['data count without data', raw(...sec(12, 1)), /the data count section says 1 segments but there is no data section/],
  // Function bodies (§3.3, §5.4)
  ['operand type', body(c32(1), c64(2), I('i32.add')), /^in function "foo" at 0x[0-9a-f]+: i32.add expects i32 operand, got i64$/],
  ['empty stack', body(I('i32.add')), /^in function "foo" at 0x[0-9a-f]+: i32.add expects an i32 operand, but the stack is empty$/],
  ['result type at the end', body(c64(1)), /^in function "foo" at 0x[0-9a-f]+: end expects i32 operand, got i64$/],
  ['extra values at the end', body(c32(1), c32(2)), /end leaves 1 extra value\(s\) on the stack \[i32\] at the end of the function, expected \[i32\]/],
  ['block result', body(I('block', { blockType: T([], ['i32']) }), I('end'), I('drop'), c32(0)), /end expects an i32 operand, but the stack is empty/],
  ['if without else changing types', body(c32(1), I('if', { blockType: T([], ['i32']) }), c32(1), I('end')), /end of an if without else must have matching parameter and result types, got \[\] → \[i32\]/],
  ['else without if', body(I('block'), I('else'), I('end'), c32(0)), /else without a matching if \(in a block\)/],
  ['missing end', raw(...sec(1, 1, 0x60, 0, 0), ...sec(3, 1, 0), ...sec(10, 1, 2, 0, 0x01)), /^in function "func0" at 0x18: unexpected end of the function body \(missing end\)$/],
  ['bytes after end', rawFunc([0, 0x0b, 0x01]), /^in function "func0" at 0x18: 1 bytes after the end of the function body$/],
  ['unknown opcode', rawFunc([0, 0xff, 0x0b]), /^in function "func0" at 0x17: unknown opcode 0xff$/],
  ['unknown prefixed opcode', rawFunc([0, 0xfc, 0x12, 0x0b]), /unknown opcode 0xfc 0x12/],
  ['label depth', body(I('br', { index: 1 })), /br label 1 is out of range \(depth 1\)/],
  ['br_table arity', body(I('block'), c32(0), c32(0), I('br_table', { labels: [0], defaultLabel: 1 }), I('end'), c32(0)), /br_table label 0 has arity 0, the default label 1 has 1/],
  ['local index', body(I('local.get', { index: 2 })), /local.get local index 2 is out of range \(2 locals\)/],
  ['local type', body(c32(0), I('local.set', { index: 1 }), c32(0)), /local.set expects i64 operand, got i32/],
  ['global index', body(I('global.get', { index: 0 })), /global.get global index 0 is out of range \(0 globals\)/],
  ['immutable global.set', mod([fn(T([], []), [c32(0), I('global.set', { index: 0 })])], { globals: [{ type: 'i32', mutable: false, init: [c32(0)], name: 'g' }] }), /global.set of immutable global 0/],
  ['call index', body(I('call', { index: 7 })), /call function index 7 is out of range \(1 functions\)/],
  ['call arguments', body(c64(0), I('call', { index: 0 })), /call expects i32 operand, got i64/],
  ['call_indirect without table', body(c32(0), I('call_indirect', { index: 0, table: 0 })), /call_indirect table index 0 is out of range \(0 tables\)/],
  ['call_indirect on externref table', mod([fn(T([], []), [c32(0), I('call_indirect', { index: 0, table: 0 })])], { tables: [{ elemType: 'externref', min: 1 }] }), /table 0 has element type externref, not funcref/],
  ['call_indirect type index', mod([fn(T([], []), [c32(0), I('call_indirect', { index: 5, table: 0 })])], { tables: [{ elemType: 'funcref', min: 1 }] }), /call_indirect type index 5 is out of range \(1 types\)/],
  ['block type index', rawFunc([0, 0x02, 0x05, 0x0b, 0x0b]), /block type index 5 is out of range \(1 types\)/],
  ['bad block type', rawFunc([0, 0x02, 0x50, 0x0b, 0x0b]), /invalid block type 0x50/],
  ['select operand types', body(c32(0), c64(0), c32(0), I('select'), I('drop'), c32(0)), /select expects operands of the same type, got i32 and i64/],
  ['untyped select of references', body(I('ref.null', { refType: 'funcref' }), I('ref.null', { refType: 'funcref' }), c32(0), I('select'), I('drop'), c32(0)), /select without a type annotation expects numeric operands, got funcref/],
  ['typed select arity', body(c32(0), c32(0), c32(0), I('select', { selectType: [] })), /select must have exactly one type annotation, got 0/],
  ['ref.is_null of a number', body(c32(0), I('ref.is_null')), /ref.is_null expects a reference operand, got i32/],
  ['ref.func undeclared', mod([fn(T([], []), [I('ref.func', { index: 0 }), I('drop')])]), /ref.func of function 0, which is not declared in an element segment, export or global/],
  ['ref.null of a number type', rawFunc([0, 0xd0, 0x7f, 0x1a, 0x0b]), /reference type must be funcref or externref, got i32/],
  ['memory access without memory', rawFunc([0, 0x41, 0, 0x28, 2, 0, 0x1a, 0x0b]), /i32.load needs a memory, but the module has none/],
  ['atomic access without memory', rawFunc([0, 0x41, 0, 0xfe, 0x10, 2, 0, 0x1a, 0x0b]), /i32.atomic.load needs a memory, but the module has none/],
  ['alignment above natural', body(c32(0), I('i32.load', { align: 3 })), /i32.load alignment 2\^3 must be at most the natural alignment 2\^2/],
  ['atomic alignment above natural', body(c32(0), I('i32.atomic.load', { align: 3 })), /i32.atomic.load alignment 2\^3 must be exactly the natural alignment 2\^2/],
  ['reserved byte', rawFunc([0, 0x3f, 0x01, 0x1a, 0x0b], true), /reserved byte must be 0x00, got 0x1/],
  ['memory.init without datacount', encodeModule(body(c32(0), c32(0), c32(0), I('memory.init', { index: 0 }), c32(0)), { dataCount: false }), /memory.init needs a data count section/],
  ['data.drop index', encodeModule(body(I('data.drop', { index: 0 }), c32(0)), { dataCount: true }), /data.drop data segment index 0 is out of range \(0 segments\)/],
  ['elem.drop index', body(I('elem.drop', { index: 0 }), c32(0)), /elem.drop element segment index 0 is out of range \(0 segments\)/],
  ['table.copy types', mod([fn(T([], []), [c32(0), c32(0), c32(0), I('table.copy', { index: 0, table: 1 })])], { tables: [{ elemType: 'funcref', min: 1 }, { elemType: 'externref', min: 1 }] }), /table.copy between tables of types externref and funcref/],
  ['table.init types', mod([fn(T([], []), [c32(0), c32(0), c32(0), I('table.init', { index: 0, table: 0 })])], { tables: [{ elemType: 'externref', min: 1 }], elements: [{ mode: 'passive', tableIndex: 0, funcs: [] }] }), /table.init of a funcref segment into a externref table/],
  ['too many locals', mod([fn(T(['i32'], []), [], Array(50000).fill('i32'))]), /too many locals \(50001, implementation limit 50000\)/],
  ['instruction after the end', rawFunc([0, 0x0b, 0x0b]), /1 bytes after the end of the function body/],
];

describe('errors', () => {
  it.each(ERRORS)('%s', (_what, input, message) => {
    const bytes = input instanceof Uint8Array ? input : encodeModule(input);
    expect(WebAssembly.validate(bytes)).toBe(false);
    let error: unknown;
    try {
      readModule(bytes);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WasmError);
    const e = error as WasmError;
    expect(e.message).toMatch(message);
    expect(e.message).not.toContain('\n');
    // The offset is in the message, in hex, and on the error.
    expect(e.message).toMatch(/at 0x[0-9a-f]+/);
    expect(e.offset).toBe(parseInt(/at 0x([0-9a-f]+)/.exec(e.message)![1]!, 16));
    if (e.message.startsWith('in function')) expect(e.func).toBe(/in function "([^"]+)"/.exec(e.message)![1]);
  });

  it('refuses what V8 accepts but the toolchain does not support, saying so', () => {
    const unsupported: [string, Uint8Array<ArrayBuffer>, RegExp][] = [
      ['v128 type', raw(...sec(1, 1, 0x60, 1, 0x7b, 0)), /^in section "type" at 0xd: v128 \(SIMD\) is not supported$/],
      ['SIMD instruction', rawFunc([0, 0xfd, 0x0c, ...Array(16).fill(0), 0x1a, 0x0b]), /^in function "func0" at 0x17: SIMD \(0xfd prefix\) is not supported$/],
      ['tail call', raw(...sec(1, 1, 0x60, 0, 0), ...sec(3, 1, 0), ...sec(10, 1, 4, 0, 0x12, 0, 0x0b)), /tail calls \(return_call\) is not supported/],
      ['exception handling', raw(...sec(1, 1, 0x60, 0, 0), ...sec(3, 1, 0), ...sec(10, 1, 5, 0, 0x06, 0x40, 0x0b, 0x0b)), /exception handling \(try\) is not supported/],
      ['tag section', raw(...sec(1, 1, 0x60, 0, 0), 13, 3, 1, 0, 0), /^at 0xe: the tag section \(exception handling\) is not supported$/],
      ['atomic access below natural alignment (the threads proposal requires it, V8 does not check)', encodeModule(body(c32(0), I('i32.atomic.load', { align: 1 }))), /alignment 2\^1 must be exactly the natural alignment 2\^2/],
    ];
    for (const [what, bytes, message] of unsupported) {
      expect(WebAssembly.validate(bytes), what).toBe(true);
      expect(verdict(bytes), what).toMatch(message);
    }
  });

  it('names the function in body errors from the name section', () => {
    const m = body(c64(1));
    m.funcs[0]!.name = 'kernel/mm/slub/kmalloc';
    expect(() => readModule(encodeModule(m))).toThrow(/^in function "kernel\/mm\/slub\/kmalloc" at 0x/);
  });

  it('accepts what is valid though unusual, as V8 does', () => {
    const valid: [string, Uint8Array<ArrayBuffer> | WasmModule][] = [
      ['empty module', raw()],
      ['datacount 0 without data', raw(...sec(12, 0))],
      ['empty function section without code', raw(...sec(3, 0))],
      ['empty code section without functions', raw(...sec(10, 0))],
      ['malformed name section (ignored, §7.4)', raw(0, 8, 4, 0x6e, 0x61, 0x6d, 0x65, 1, 9, 9)],
      ['non-minimal LEB128 counts and flags', raw(...sec(1, 1, 0x60, 0, 0), ...sec(3, 1, 0), ...sec(4, 1, 0x70, 0, 1), ...sec(9, 1, 0x80, 0x00, 0x41, 0, 0x0b, 1, 0), ...sec(10, 0x81, 0x00, 2, 0, 0x0b))],
      ['5-byte negative s32', raw(...sec(6, 1, 0x7f, 0, 0x41, 0x80, 0x80, 0x80, 0x80, 0x78, 0x0b))],
      ['atomic access on an unshared memory', body(c32(0), I('i32.atomic.load', { align: 2 }))],
      ['atomic.fence without memory', rawFunc([0, 0xfe, 0x03, 0x00, 0x0b])],
      ['if without else, [i32] → [i32]', mod([fn(T([], []), [c32(0), c32(0), I('if', { blockType: T(['i32'], ['i32']) }), I('end'), I('drop')])], { types: [T(['i32'], ['i32'])] })],
      ['dead code after br, polymorphic stack', body(I('block', { blockType: T([], ['i32']) }), c32(1), I('br', { index: 0 }), I('i64.add'), I('i32.wrap_i64'), I('select'), I('i32.eqz'), I('end'))],
      ['ref.func declared by a global', mod([fn(T([], []), [I('ref.func', { index: 0 }), I('drop')])], { globals: [{ type: 'funcref', mutable: false, init: [I('ref.func', { index: 0 })], name: 'g' }] })],
      ['start function imported', mod([], { types: [T([], [])], importFuncs: [{ module: 'a', name: 'b', typeIndex: 0 }], start: 0 })],
      ['table sizes beyond V8 instantiation limits', mod([], { tables: [{ elemType: 'funcref', min: 0xffff_ffff, max: 0xffff_ffff }] })],
      ['49 999 locals and a parameter', mod([fn(T(['i32'], []), [], Array(49999).fill('i32'))])],
    ];
    for (const [what, input] of valid) {
      const bytes = input instanceof Uint8Array ? input : encodeModule(input);
      expect(WebAssembly.validate(bytes), what).toBe(true);
      expect(verdict(bytes), what).toBeUndefined();
    }
  });
});

describe('name section', () => {
  it('reads function names (imports included) and global names, ignoring unknown subsections', () => {
    const names = (id: number, entries: [number, string][]): number[] => {
      const content = [entries.length, ...entries.flatMap(([i, n]) => [i, n.length, ...Buffer.from(n)])];
      return [id, content.length, ...content];
    };
    const payload = [4, ...Buffer.from('name'), ...names(0x55, [[0, 'junk']]), ...names(1, [[0, 'imp'], [1, 'main']]), ...[2, 1, 0], ...names(7, [[0, 'g0']])];
    const bytes = raw(
      ...sec(1, 1, 0x60, 0, 0),
      ...sec(2, 1, 1, 0x61, 1, 0x62, 0, 0),
      ...sec(3, 2, 0, 0),
      ...sec(6, 1, 0x7f, 0, 0x41, 0, 0x0b),
      ...sec(10, 2, 2, 0, 0x0b, 2, 0, 0x0b),
      0, payload.length, ...payload,
    );
    expect(WebAssembly.validate(bytes)).toBe(true);
    const m = readModule(bytes);
    expect([...m.funcNames]).toEqual([[0, 'imp'], [1, 'main']]);
    expect(m.funcs.map((f) => f.name)).toEqual(['main', 'func2']);
    expect(m.globals[0]!.name).toBe('g0');
  });

  it('reads the sourceMappingURL section', () => {
    const url = [...Buffer.from('./out.wasm.map')];
    const payload = [16, ...Buffer.from('sourceMappingURL'), url.length, ...url];
    expect(readModule(raw(0, payload.length, ...payload)).sourceMappingURL).toBe('./out.wasm.map');
    expect(readModule(raw()).sourceMappingURL).toBeUndefined();
  });
});

describe('LEB128 (§5.2.2)', () => {
  const r = (...b: number[]): ByteReader => new ByteReader(new Uint8Array(b));
  it('u32: maximum, non-minimal forms, too long, too large', () => {
    expect(r(0xff, 0xff, 0xff, 0xff, 0x0f).u32()).toBe(0xffff_ffff);
    expect(r(0x80, 0x80, 0x80, 0x80, 0x00).u32()).toBe(0);
    expect(r(0xe5, 0x8e, 0x26).u32()).toBe(624485);
    expect(() => r(0xff, 0xff, 0xff, 0xff, 0x1f).u32()).toThrow(/integer too large/);
    expect(() => r(0x80, 0x80, 0x80, 0x80, 0x80, 0x00).u32()).toThrow(/integer representation too long/);
    expect(() => r(0x80).u32()).toThrow(WasmError);
  });
  it('s32, s33, s64 at their boundaries', () => {
    expect(r(0x80, 0x80, 0x80, 0x80, 0x78).signed(32, 's')).toBe(-2147483648n);
    expect(r(0xff, 0xff, 0xff, 0xff, 0x07).signed(32, 's')).toBe(2147483647n);
    expect(r(0x7f).signed(32, 's')).toBe(-1n);
    expect(r(0xff, 0x7f).signed(32, 's')).toBe(-1n);
    expect(() => r(0xff, 0xff, 0xff, 0xff, 0x0f).signed(32, 's')).toThrow(/too large/);
    expect(() => r(0x80, 0x80, 0x80, 0x80, 0x70).signed(32, 's')).toThrow(/too large/);
    expect(r(0xff, 0xff, 0xff, 0xff, 0x0f).signed(33, 's')).toBe(0xffff_ffffn);
    expect(() => r(0xff, 0xff, 0xff, 0xff, 0x1f).signed(33, 's')).toThrow(/too large/);
    expect(r(...Array(9).fill(0x80), 0x7f).signed(64, 's')).toBe(-(1n << 63n));
    expect(r(...Array(9).fill(0xff), 0x00).signed(64, 's')).toBe((1n << 63n) - 1n);
    expect(() => r(...Array(9).fill(0xff), 0x01).signed(64, 's')).toThrow(/too large/);
    expect(() => r(...Array(10).fill(0x80), 0x00).signed(64, 's')).toThrow(/too long/);
  });
});

// ── fuzzing against V8 ───────────────────────────────────────────────────

const SPECIAL = [0x00, 0x01, 0x0b, 0x40, 0x41, 0x60, 0x6f, 0x70, 0x7f, 0x80, 0xfc, 0xfe, 0xff];

function mutate(rnd: () => number, base: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const a = Array.from(base);
  const n = 1 + (rnd() % 3);
  for (let i = 0; i < n; i++) {
    const p = rnd() % Math.max(1, a.length);
    const v = rnd() % 4 === 0 ? SPECIAL[rnd() % SPECIAL.length]! : rnd() & 0xff;
    switch (rnd() % 6) {
      case 0:
      case 1: a[p] = v; break;
      case 2: a.splice(p, 0, v); break;
      case 3: a.splice(p, 1); break;
      case 4: a[p] = a[p]! ^ (1 << (rnd() % 8)); break;
      case 5: if (rnd() % 8 === 0) a.length = p; else a[p] = (a[p]! + (rnd() % 2 ? 1 : 255)) & 0xff; break;
    }
  }
  return new Uint8Array(a);
}

describe('fuzzing: we and V8 agree on valid vs invalid, and only WasmError escapes', () => {
  it('byte mutations of asc output and of the kitchen-sink module (6000 cases)', () => {
    const rnd = prng(0x5eed);
    const bases = [sample, sampleBase, sampleO3, encodeModule(kitchenSink())];
    const problems: string[] = [];
    let valid = 0;
    for (let i = 0; i < 6000; i++) {
      const b = mutate(rnd, bases[i % bases.length]!);
      if (WebAssembly.validate(b)) valid++;
      const d = disagreement(b);
      if (d) problems.push(`case ${i}: ${d}`);
    }
    expect(problems).toEqual([]);
    expect(valid).toBeGreaterThan(500); // mutations that keep the module valid are exercised too
  });

  it('random well-typed bodies and near-misses of them (3000 cases)', () => {
    const rnd = prng(0xb0d1e5);
    const problems: string[] = [];
    let valid = 0;
    for (let i = 0; i < 3000; i++) {
      const m = kitchenSink();
      const f = m.funcs[2]!;
      f.locals = ['i32', 'funcref', 'f64', 'i64', 'externref', 'f32'];
      f.body = typedBody(rnd, [...f.type.params, ...f.locals], f.type.results, 1 + (rnd() % 30));
      const mutations = rnd() % 2 ? 0 : 1 + (rnd() % 2);
      for (let k = 0; k < mutations; k++) {
        const p = rnd() % f.body.length;
        switch (rnd() % 4) {
          case 0: f.body.splice(p, 1); break;
          case 1: { const q = rnd() % f.body.length; [f.body[p], f.body[q]] = [f.body[q]!, f.body[p]!]; break; }
          case 2: f.body.splice(p, 0, f.body[rnd() % f.body.length]!); break;
          case 3: f.body.splice(p, 0, I(['unreachable', 'drop', 'select', 'else', 'end', 'br', 'i32.add', 'ref.is_null'][rnd() % 8]!, { index: 0 })); break;
        }
      }
      const b = encodeModule(m);
      if (mutations === 0) expect(WebAssembly.validate(b)).toBe(true); // the generator's own promise
      if (WebAssembly.validate(b)) valid++;
      const d = disagreement(b);
      if (d) problems.push(`case ${i}: ${d}`);
    }
    expect(problems).toEqual([]);
    expect(valid).toBeGreaterThan(1500);
  });

  it('random instruction soup (2000 cases)', () => {
    const rnd = prng(0x50c9);
    const infos = [...OPCODES.values()];
    const problems: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const m = kitchenSink();
      const f = m.funcs[2]!;
      f.body = Array.from({ length: 1 + (rnd() % 8) }, () => {
        const info = infos[rnd() % infos.length]!;
        const small = rnd() % 3;
        return I(info.name, {
          index: small, table: rnd() % 3, labels: [small], defaultLabel: rnd() % 2, align: rnd() % 4, memOffset: 0, value: 1n,
          blockType: T([], rnd() % 2 ? [] : ['i32']), refType: rnd() % 2 ? 'funcref' : 'externref',
          ...(info.code === 0x1c ? { selectType: ['i32'] } : {}),
        });
      });
      if (rnd() % 2) f.body.unshift(I('unreachable'));
      f.body.push(I('end'));
      const d = disagreement(encodeModule(m));
      if (d) problems.push(`case ${i}: ${d}`);
    }
    expect(problems).toEqual([]);
  });

  it('every prefix of a module, and random bytes after a valid header (3000 cases)', () => {
    const rnd = prng(0x9a5b);
    const problems: string[] = [];
    const full = encodeModule(kitchenSink());
    for (let n = 0; n <= full.length; n += 1 + (n % 2)) {
      const d = disagreement(full.subarray(0, n));
      if (d) problems.push(`prefix ${n}: ${d}`);
    }
    for (let i = 0; i < 1500; i++) {
      const tail = Array.from({ length: rnd() % 40 }, () => (rnd() % 3 ? rnd() % 16 : rnd() & 0xff));
      const d = disagreement(raw(...tail));
      if (d) problems.push(`random ${i}: ${d}`);
    }
    expect(problems).toEqual([]);
  });
});
