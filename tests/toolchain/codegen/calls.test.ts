/**
 * Calls against V8: recursion, many arguments (a0-a7 and the stack), values
 * live across calls, call_indirect with its checks, globals, env.abort, and
 * the frame chain (s0) a debugger walks.
 */
import { describe, expect, it } from 'vitest';
import { buildModule, run, runMany, v8Many, type ModuleSpec } from './harness.js';
import type { ValType } from '../../../toolchain/wasm/module.js';

async function agree(spec: ModuleSpec, name: string, args: bigint[][]): Promise<void> {
  const m = buildModule(spec);
  const want = await v8Many(m, name, args);
  expect(runMany(m, name, args)).toEqual(want);
}

const range = (a: number, b: number): bigint[][] => Array.from({ length: b - a }, (_, i) => [BigInt(a + i)]);

describe('direct calls', () => {
  it('recursion (fib) and mutual recursion (even/odd)', async () => {
    await agree({
      funcs: [{
        name: 'fib', params: ['i32'], results: ['i32'],
        body: 'local.get 0; i32.const 2; i32.lt_s; if i32; local.get 0; else; local.get 0; i32.const 1; i32.sub; call 0; local.get 0; i32.const 2; i32.sub; call 0; i32.add; end',
      }],
    }, 'fib', range(0, 16));
    await agree({
      funcs: [
        { name: 'even', params: ['i64'], results: ['i32'], body: 'local.get 0; i64.eqz; if i32; i32.const 1; else; local.get 0; i64.const 1; i64.sub; call 1; end' },
        { name: 'odd', params: ['i64'], results: ['i32'], body: 'local.get 0; i64.eqz; if i32; i32.const 0; else; local.get 0; i64.const 1; i64.sub; call 0; end' },
      ],
    }, 'even', range(0, 12));
  });

  it('arguments in a0-a7 and on the stack, in both directions, with values live across the call', async () => {
    const params: ValType[] = Array.from({ length: 11 }, (_, i) => (i % 2 ? 'i64' : 'i32'));
    const sum = params.map((t, i) => `local.get ${i}; ${t === 'i32' ? 'i64.extend_i32_s;' : ''} i64.const ${2 * i + 1}; i64.mul`).join('\n')
      + '\n' + params.slice(1).map(() => 'i64.add').join('\n');
    const args = params.map((t, i) => `local.get 0; i32.const ${i}; i32.add; ${t === 'i64' ? 'i64.extend_i32_s' : ''}`).join('\n');
    await agree({
      funcs: [
        { name: 'many', params, results: ['i64'], body: sum },
        // Caller: keeps x*1000 live across the call, passes reversed-looking arguments.
        { name: 'caller', params: ['i32'], results: ['i64'], body: `local.get 0; i64.extend_i32_s; i64.const 1000; i64.mul\n${args}\ncall 0\ni64.add` },
      ],
    }, 'caller', range(-3, 4));
  });

  it('a callee with many live locals preserves the caller\'s (s-registers)', async () => {
    const locals: ValType[] = Array.from({ length: 14 }, () => 'i32');
    const init = locals.map((_, i) => `local.get 0; i32.const ${i + 1}; i32.mul; local.set ${i + 1}`).join('\n');
    const use = locals.map((_, i) => `local.get ${i + 1}`).join('\n') + '\n' + locals.slice(1).map(() => 'i32.add').join('\n');
    await agree({
      funcs: [
        { name: 'leafy', params: ['i32'], results: ['i32'], locals, body: `${init}\n${use}` },
        { name: 'outer', params: ['i32'], results: ['i32'], locals, body: `${init}\nlocal.get 0; call 0; drop\nlocal.get 0; i32.const 3; i32.add; call 0\n${use}\ni32.add` },
      ],
    }, 'outer', range(0, 6));
  });

  it('parameters passed through to another call, permuted (parallel moves with a cycle)', async () => {
    await agree({
      funcs: [
        { name: 'sub4', params: ['i32', 'i32', 'i32', 'i32'], results: ['i32'], body: 'local.get 0; local.get 1; i32.const 10; i32.mul; i32.add; local.get 2; i32.const 100; i32.mul; i32.add; local.get 3; i32.const 1000; i32.mul; i32.add' },
        { name: 'perm', params: ['i32', 'i32', 'i32', 'i32'], results: ['i32'], body: 'local.get 1; local.get 0; local.get 3; local.get 2; call 0; local.get 3; local.get 2; local.get 1; local.get 0; call 0; i32.sub' },
      ],
    }, 'perm', [[1n, 2n, 3n, 4n], [5n, 6n, 7n, 8n]].map((a) => a));
  });
});

describe('call_indirect', () => {
  const spec: ModuleSpec = {
    types: [{ params: ['i32'], results: ['i32'] }, { params: ['i64'], results: ['i64'] }],
    funcs: [
      { name: 'inc', params: ['i32'], results: ['i32'], body: 'local.get 0; i32.const 1; i32.add' },
      { name: 'dbl', params: ['i32'], results: ['i32'], body: 'local.get 0; i32.const 1; i32.shl' },
      { name: 'neg64', params: ['i64'], results: ['i64'], body: 'i64.const 0; local.get 0; i64.sub' },
      { name: 'dispatch', params: ['i32', 'i32'], results: ['i32'], body: 'local.get 1; local.get 0; call_indirect 0' },
      { name: 'dispatch64', params: ['i64', 'i32'], results: ['i64'], body: 'local.get 0; local.get 1; call_indirect 1' },
    ],
    table: [null, 0, 1, 2, 0],
  };

  it('calls through the table', async () => {
    await agree(spec, 'dispatch', [[1n, 10n], [2n, 10n], [4n, -7n]]);
    await agree(spec, 'dispatch64', [[5n, 3n]]);
  });

  it('traps on a signature mismatch, a null entry and an index out of bounds', () => {
    const m = buildModule(spec);
    expect(run(m, 'dispatch', { args: [3n, 1n] }).trap).toBe('indirect call signature mismatch in dispatch');
    expect(run(m, 'dispatch64', { args: [1n, 1n] }).trap).toBe('indirect call signature mismatch in dispatch64');
    expect(run(m, 'dispatch', { args: [0n, 1n] }).trap).toBe('undefined table element in dispatch');
    expect(run(m, 'dispatch', { args: [5n, 1n] }).trap).toBe('undefined table element in dispatch');
    expect(run(m, 'dispatch', { args: [-1n, 1n] }).trap).toBe('undefined table element in dispatch');
  });

  it('structurally equal types from different type indices match', async () => {
    const s: ModuleSpec = { ...spec, types: [...spec.types!, { params: ['i32'], results: ['i32'] }] };
    s.funcs = [...spec.funcs, { name: 'viaDup', params: ['i32', 'i32'], results: ['i32'], body: 'local.get 1; local.get 0; call_indirect 2' }];
    await agree(s, 'viaDup', [[1n, 41n]]);
  });
});

describe('globals', () => {
  it('mutable i32/i64 globals keep their values across calls; constant globals are inlined', async () => {
    const spec: ModuleSpec = {
      globals: [
        { type: 'i32', mutable: true, value: -5n },
        { type: 'i64', mutable: true, value: 0x123456789n },
        { type: 'i32', mutable: false, value: 1000n },
      ],
      funcs: [
        { name: 'bump', params: ['i32'], results: ['i64'], body: 'global.get 0; local.get 0; i32.add; global.set 0; global.get 1; global.get 0; i64.extend_i32_s; i64.add; global.set 1; global.get 1; global.get 2; i64.extend_i32_s; i64.add' },
      ],
    };
    const m = buildModule(spec);
    expect(runMany(m, 'bump', [[1n], [2n], [-10n]])).toEqual([0x123456789n - 4n + 1000n, 0x123456789n - 4n - 2n + 1000n, 0x123456789n - 4n - 2n - 12n + 1000n]);
    expect(await v8Many(m, 'bump', [[1n], [2n], [-10n]])).toEqual([0x123456789n - 4n + 1000n, 0x123456789n - 4n - 2n + 1000n, 0x123456789n - 4n - 2n - 12n + 1000n]);
  });
});

describe('imports and the frame chain', () => {
  it('env.abort calls __wasm_abort with message, file, line and column', () => {
    const m = buildModule({
      imports: [{ module: 'env', name: 'abort', params: ['i32', 'i32', 'i32', 'i32'] }],
      funcs: [{ name: 'f', results: ['i32'], body: 'i32.const 1056; i32.const -2130706432; i32.const 42; i32.const 7; call 0; unreachable' }],
    });
    expect(run(m, 'f').abort).toEqual([1056n, BigInt.asUintN(64, -2130706432n), 42n, 7n]);
  });

  it('s0 chains through framed functions: each frame holds ra and the caller\'s s0', () => {
    // inner records its s0 through the sp_read intrinsic's neighbour: walk the chain from inner's frame.
    const m = buildModule({
      imports: [{ module: 'riscv', name: 'sp_read', results: ['i64'] }],
      funcs: [
        { name: 'inner', params: ['i32'], results: ['i64'], body: 'local.get 0; call 2; drop; call 0' },
        { name: 'leaf', params: ['i32'], results: ['i32'], body: 'local.get 0' },
        { name: 'outer', params: ['i32'], results: ['i64'], body: 'local.get 0; call 1' },
      ],
    });
    const r = run(m, 'outer', { args: [1n] });
    const mem = r.machine.mem;
    const q = (a: bigint): bigint => new DataView(mem.readBytes(Number(a), 8).buffer).getBigUint64(0, true);
    // inner's frame [sp, s0): the caller's s0 sits at -16(s0) and ra at -8(s0).
    const innerSp = BigInt.asUintN(64, r.value);
    let innerS0 = 0n;
    for (let a = innerSp; a < innerSp + 128n; a += 8n) if (q(a) === 0x80e0_0000n) { innerS0 = a + 16n; break; }
    expect(innerS0 > innerSp && (innerS0 - innerSp) % 16n === 0n).toBe(true);
    const outerS0 = q(innerS0 - 16n);
    const raIntoOuter = q(innerS0 - 8n);
    const outerStart = r.symbols.get('outer')!;
    expect(raIntoOuter > outerStart && raIntoOuter < outerStart + 64n).toBe(true);
    expect(outerS0).toBe(0x80e0_0000n); // outer's frame base is the driver's sp
  });
});

describe('the start function', () => {
  it('is reported for the linker to call', () => {
    const m = buildModule({ funcs: [{ name: 'init', body: 'nop' }] });
    m.start = 0;
    expect(runMany(m, 'init', [[]])).toEqual([0n]);
  });
});

describe('locals and constants live across calls', () => {
  const clobber = { name: 'clobber', params: ['i32'] as ValType[], results: ['i32'] as ValType[], body: 'local.get 0; i32.const 7; i32.mul; i32.const 123456789; i32.xor' };

  it('a parameter used before and after a call, and one used only before', async () => {
    await agree({
      funcs: [clobber, { name: 'f', params: ['i32', 'i32'], results: ['i32'], body: 'local.get 1; i32.const 3; i32.add; call 0; local.get 0; i32.add' }],
    }, 'f', [[5n, 6n], [-1n, 100n]]);
    await agree({
      funcs: [clobber, { name: 'f', params: ['i32', 'i32'], results: ['i32'], body: 'local.get 0; local.get 1; i32.add; call 0; i32.const 1; i32.add' }],
    }, 'f', [[5n, 6n]]);
  });

  it('a local written before a call inside a loop and read in the next iteration', async () => {
    // for (i = n; i; i--) { acc = acc * 3 + prev; prev = clobber(i); }
    const body = `
      block; loop
        local.get 0; i32.eqz; br_if 1
        local.get 2; i32.const 3; i32.mul; local.get 1; i32.add; local.set 2
        local.get 0; call 0; local.set 1
        local.get 0; i32.const 1; i32.sub; local.set 0
        br 0
      end; end
      local.get 2; local.get 1; i32.add`;
    await agree({ funcs: [clobber, { name: 'f', params: ['i32'], results: ['i32'], locals: ['i32', 'i32'], body }] }, 'f', [[0n], [1n], [5n]]);
  });

  it('nested loops: written in the inner loop, a call in the outer one, read in the inner one again', async () => {
    const body = `
      block; loop
        local.get 0; i32.eqz; br_if 1
        i32.const 3; local.set 3
        block; loop
          local.get 3; i32.eqz; br_if 1
          local.get 1; local.get 2; i32.add; local.set 1
          local.get 3; local.get 0; i32.mul; i32.const 1000003; i32.add; local.set 2
          local.get 3; i32.const 1; i32.sub; local.set 3
          br 0
        end; end
        local.get 0; call 0; drop
        local.get 0; i32.const 1; i32.sub; local.set 0
        br 0
      end; end
      local.get 1; local.get 2; i32.xor`;
    await agree({ funcs: [clobber, { name: 'f', params: ['i32'], results: ['i32'], locals: ['i32', 'i32', 'i32'], body }] }, 'f', [[0n], [1n], [4n]]);
  });

  it('a hoisted loop constant in a function that calls', async () => {
    const body = `
      block; loop
        local.get 0; i32.const 100000; i32.ge_s; br_if 1
        local.get 1; i32.const 0x12345678; i32.xor; call 0; local.set 1
        local.get 0; i32.const 0x2345; i32.add; local.set 0
        br 0
      end; end
      local.get 1`;
    await agree({ funcs: [clobber, { name: 'f', params: ['i32'], results: ['i32'], locals: ['i32'], body }] }, 'f', [[0n], [99990n]]);
  });
});
