/**
 * Atomics: every rmw operation at every width (AMOs for 32/64 bits, LR/SC
 * loops on the aligned word for 8/16 bits), cmpxchg (hit and miss, with the
 * expected value wrapped to the access width), atomic loads and stores,
 * fences, notify and the refused waits — in both address modes, checked
 * against a model of the memory bytes.
 */
import { describe, expect, it } from 'vitest';
import { MEM, buildModule, run, runMany } from './harness.js';
import { translateModule } from '../../../toolchain/translate.js';
import { WasmError } from '../../../toolchain/wasm/module.js';

const OPS = ['add', 'sub', 'and', 'or', 'xor', 'xchg'] as const;
const WIDTHS: [string, 'i32' | 'i64', number][] = [
  ['i32.atomic.rmw', 'i32', 4], ['i64.atomic.rmw', 'i64', 8], ['i32.atomic.rmw8', 'i32', 1], ['i32.atomic.rmw16', 'i32', 2],
  ['i64.atomic.rmw8', 'i64', 1], ['i64.atomic.rmw16', 'i64', 2], ['i64.atomic.rmw32', 'i64', 4],
];
const INIT = Uint8Array.from({ length: 64 }, (_, i) => (i * 29 + 0xf3) & 0xff);

function apply(op: string, a: bigint, b: bigint, bits: number): bigint {
  const mask = (1n << BigInt(bits)) - 1n;
  switch (op) {
    case 'add': return (a + b) & mask;
    case 'sub': return (a - b) & mask;
    case 'and': return a & b & mask;
    case 'or': return (a | b) & mask;
    case 'xor': return (a ^ b) & mask;
    default: return b & mask;
  }
}

class Model {
  readonly bytes = INIT.slice();
  read(off: number, n: number): bigint {
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.bytes[off + i]!);
    return v;
  }
  write(off: number, n: number, v: bigint): void {
    for (let i = 0; i < n; i++) this.bytes[off + i] = Number((v >> BigInt(8 * i)) & 0xffn);
  }
}

/** The value an op returns: the old value, zero-extended from the access width (then an i32 result sign-extended). */
const result = (ty: 'i32' | 'i64', v: bigint): bigint => (ty === 'i32' ? BigInt.asIntN(32, v) : BigInt.asIntN(64, v));

describe.each(['zext', 'sext'] as const)('%s address mode', (addressMode) => {
  it.each(WIDTHS)('%s.{add,sub,and,or,xor,xchg} return the old value and update only their bytes', (prefix, ty, n) => {
    const u = n < (ty === 'i32' ? 4 : 8) ? '_u' : '';
    const m = buildModule({
      memoryPages: 1,
      data: [{ offset: MEM, bytes: INIT }],
      funcs: OPS.map((op) => ({ name: op, params: ['i32' as const, ty], results: [ty], body: `local.get 0; local.get 1; ${prefix}.${op}${u} offset=8` })),
    });
    for (const op of OPS) {
      const model = new Model();
      const vals = [0x7fn, -1n, 0x1234_5678_9abc_def0n, 0x80n, 1n];
      // Every naturally aligned slot in 8..40, twice (the second sees the first's result).
      const slots = Array.from({ length: 32 / n }, (_, k) => k * n);
      const args = [...slots, ...slots].map((s, i) => [BigInt(MEM + s), vals[i % vals.length]!]);
      const want = args.map(([a, v]) => {
        const off = Number(a! - BigInt(MEM)) + 8;
        const old = model.read(off, n);
        model.write(off, n, apply(op, old, BigInt.asUintN(64, v!), 8 * n));
        return result(ty, old);
      });
      const r = runMany(m, op, args, addressMode);
      expect([op, r]).toEqual([op, want]);
    }
  });

  it.each(WIDTHS)('%s.cmpxchg: hit, miss, and the expected value wrapped to the width', (prefix, ty, n) => {
    const u = n < (ty === 'i32' ? 4 : 8) ? '_u' : '';
    const m = buildModule({
      memoryPages: 1,
      data: [{ offset: MEM, bytes: INIT }],
      funcs: [{ name: 'cas', params: ['i32', ty, ty], results: [ty], body: `local.get 0; local.get 1; local.get 2; ${prefix}.cmpxchg${u}` }],
    });
    const model = new Model();
    const args: bigint[][] = [];
    const want: bigint[] = [];
    for (let s = 0; s < 16; s += n) {
      const cur = model.read(s, n);
      const wide = cur | (0xabn << BigInt(8 * n)); // same low bits, garbage above: still a hit (wrapped)
      for (const expected of [cur + 1n, n < 8 ? wide : cur, cur]) {
        const repl = 0x0102_0304_0506_0708n + BigInt(s);
        const old = model.read(s, n);
        const wrapped = expected & ((1n << BigInt(8 * n)) - 1n);
        if (old === wrapped) model.write(s, n, repl & ((1n << BigInt(8 * n)) - 1n));
        args.push([BigInt(MEM + s), ty === 'i32' ? BigInt.asIntN(32, expected) : expected, repl]);
        want.push(result(ty, old));
      }
    }
    expect(runMany(m, 'cas', args, addressMode)).toEqual(want);
  });

  it('atomic loads and stores of every width, and the fences', () => {
    const loads = ['i32.atomic.load', 'i64.atomic.load', 'i32.atomic.load8_u', 'i32.atomic.load16_u', 'i64.atomic.load8_u', 'i64.atomic.load16_u', 'i64.atomic.load32_u'];
    const m = buildModule({
      memoryPages: 1,
      data: [{ offset: MEM, bytes: INIT }],
      funcs: [
        ...loads.map((op, k) => ({ name: `l${k}`, params: ['i32' as const], results: [op.startsWith('i32') ? 'i32' as const : 'i64' as const], body: `local.get 0; ${op} offset=16` })),
        { name: 'st', params: ['i32', 'i64'], results: ['i64'], body: 'local.get 0; local.get 1; i64.atomic.store32 offset=8; atomic.fence; local.get 0; local.get 1; i32.wrap_i64; i32.atomic.store8 offset=1; local.get 0; local.get 1; i64.atomic.store16 offset=2; local.get 0; i64.atomic.load' },
      ],
    });
    const model = new Model();
    const sizes = [4, 8, 1, 2, 1, 2, 4];
    loads.forEach((op, k) => {
      const got = runMany(m, `l${k}`, [[BigInt(MEM)], [BigInt(MEM + 8)]], addressMode);
      const ty = op.startsWith('i32') ? 'i32' : 'i64';
      expect([op, got]).toEqual([op, [0, 8].map((o) => result(ty, model.read(16 + o, sizes[k]!)))]);
    });
    const v = 0x1122334455667788n;
    model.write(40, 4, v);
    model.write(33, 1, v);
    model.write(34, 2, v);
    expect(runMany(m, 'st', [[BigInt(MEM + 32), v]], addressMode)).toEqual([BigInt.asIntN(64, model.read(32, 8))]);
    const text = translateModule(m, { addressMode }).text;
    expect(text).toContain('fence rw, rw');
    expect(text).toContain('fence r, rw');
    expect(text).toContain('fence rw, w');
  });
});

describe('wait and notify', () => {
  it('memory.atomic.notify returns 0 (nothing can be waiting)', () => {
    const m = buildModule({ memoryPages: 1, funcs: [{ name: 'n', params: ['i32'], results: ['i32'], body: 'local.get 0; i32.const 5; memory.atomic.notify' }] });
    expect(runMany(m, 'n', [[BigInt(MEM)]])).toEqual([0n]);
  });

  it.each(['memory.atomic.wait32', 'memory.atomic.wait64'])('%s is refused with the function and offset', (op) => {
    const ty = op.endsWith('64') ? 'i64' : 'i32';
    const m = buildModule({ memoryPages: 1, funcs: [{ name: 'sleepy', params: ['i32'], results: ['i32'], body: `local.get 0; ${ty}.const 0; i64.const -1; ${op}` }] });
    expect(() => translateModule(m, { addressMode: 'sext' })).toThrow(WasmError);
    expect(() => translateModule(m, { addressMode: 'sext' })).toThrow(new RegExp(`${op} is not supported.*in function sleepy at 0x1006`));
  });
});

describe('alignment', () => {
  it.each([
    ['i32.atomic.rmw.add', 'i32', 2], ['i64.atomic.rmw.xchg', 'i64', 4], ['i32.atomic.rmw16.or_u', 'i32', 1],
    ['i32.atomic.load', 'i32', 1], ['i64.atomic.store32', 'i64', 2], ['i64.atomic.rmw.cmpxchg', 'i64', 12],
  ] as const)('%s at a misaligned address traps like wasm', (op, ty, mis) => {
    const isStore = op.includes('store');
    const isLoad = op.includes('load');
    const args = op.includes('cmpxchg') ? `local.get 0; ${ty}.const 0; ${ty}.const 1` : isLoad ? 'local.get 0' : `local.get 0; ${ty}.const 1`;
    const body = `${args}; ${op}${isStore ? '' : '; drop'}; i32.const 0`;
    const m = buildModule({ memoryPages: 1, funcs: [{ name: 'racy', params: ['i32'], results: ['i32'], body }] });
    expect(runMany(m, 'racy', [[BigInt(MEM + 64)]])).toEqual([0n]);
    expect(run(m, 'racy', { args: [MEM + 64 + mis] }).trap).toBe('unaligned atomic access in racy');
  });
});

describe('register pressure', () => {
  it('LR/SC loops in a leaf function whose locals fill the caller-saved registers', () => {
    const locals = Array.from({ length: 16 }, () => 'i32' as const);
    const init = locals.map((_, i) => `i32.const ${i + 1}; local.set ${i + 1}`).join('\n');
    const sum = locals.map((_, i) => `local.get ${i + 1}`).join('\n') + '\n' + locals.slice(1).map(() => 'i32.add').join('\n');
    const m = buildModule({
      memoryPages: 1,
      data: [{ offset: MEM, bytes: INIT }],
      funcs: [{
        name: 'busy', params: ['i32'], results: ['i32'], locals,
        body: `${init}\nlocal.get 0; local.get 1; local.get 2; i32.atomic.rmw8.cmpxchg_u offset=3\nlocal.get 0; local.get 3; i32.atomic.rmw16.xchg_u offset=6; i32.add\n${sum}\ni32.add`,
      }],
    });
    const model = new Model();
    const old8 = model.read(3, 1);
    const old16 = model.read(6, 2);
    expect(runMany(m, 'busy', [[BigInt(MEM)]])).toEqual([old8 + old16 + BigInt((16 * 17) / 2)]);
  });
});

describe('register pressure inside a block', () => {
  it('borrows a callee-saved register when the locked values leave too few temporaries', () => {
    const n = 20;
    const lines: string[] = [];
    for (let i = 0; i < n; i++) lines.push(`local.get 1; i32.const ${i}; i32.add`);
    // Operands computed into temporaries, so that they hold registers while the LR/SC loop needs its own.
    lines.push('block i32', 'local.get 0; i32.const 1; i32.add; local.get 1; i32.const 0; i32.xor; i32.const 76; local.get 1; i32.const 3; i32.sub; i32.add; i32.atomic.rmw8.cmpxchg_u offset=4',
      'local.get 0; i32.const 2; i32.add; local.get 1; i32.const 0; i32.or; i32.atomic.rmw16.add_u offset=8', 'i32.add', 'end');
    for (let i = 0; i < n; i++) lines.push('i32.add');
    const m = buildModule({ memoryPages: 1, data: [{ offset: MEM, bytes: INIT }], funcs: [{ name: 'deep', params: ['i32', 'i32'], results: ['i32'], body: lines.join('\n') }] });
    const model = new Model();
    const x = 3n;
    const old8 = model.read(5, 1);
    const old16 = model.read(10, 2);
    const want = old8 + old16 + Array.from({ length: n }, (_, i) => x + BigInt(i)).reduce((a, b) => a + b, 0n);
    expect(runMany(m, 'deep', [[BigInt(MEM), x]])).toEqual([want]);
  });
});
