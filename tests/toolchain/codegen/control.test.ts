/**
 * Control flow against V8: nested blocks with results, br / br_if / br_table
 * (with defaults, out-of-range indices and values carried to the target),
 * loops, early returns, if/else with results, select, unreachable, and the
 * value stack across joins (spills, values below a block).
 */
import { describe, expect, it } from 'vitest';
import { buildModule, run, runMany, single, v8Many } from './harness.js';
import type { ValType, WasmModule } from '../../../toolchain/wasm/module.js';

async function agreeM(m: WasmModule, name: string, argLists: bigint[][]): Promise<void> {
  const want = await v8Many(m, name, argLists);
  expect(want.includes('trap')).toBe(false);
  expect(runMany(m, name, argLists)).toEqual(want);
}

const agree = (body: string, params: ValType[], results: ValType[], args: bigint[][], locals: ValType[] = []): Promise<void> =>
  agreeM(single(body, params, results, locals), 'f', args);

const range = (a: number, b: number): bigint[][] => Array.from({ length: b - a }, (_, i) => [BigInt(a + i)]);

describe('blocks and branches', () => {
  it('br_table with a default, out-of-range and negative indices', async () => {
    const body = `
      block; block; block; block; block
        local.get 0
        br_table 3 1 0 2 4 1 4
      end; i32.const 10; return
      end; i32.const 20; return
      end; i32.const 30; return
      end; i32.const 40; return
      end; i32.const 50`;
    await agree(body, ['i32'], ['i32'], [...range(-3, 10), [0x7fffffffn], [-0x80000000n]]);
  });

  it('br_table with few entries (compare chain) and with one entry', async () => {
    await agree('block; block; local.get 0; br_table 1 0 1; end; i32.const 7; return; end; i32.const 8', ['i32'], ['i32'], range(-2, 5));
    await agree('block; local.get 0; br_table 0; end; i32.const 9', ['i32'], ['i32'], range(-2, 3));
  });

  it('br_table carrying a value to blocks with results', async () => {
    const body = `
      block i32
        block i32
          block i32
            local.get 0; i32.const 100; i32.mul
            local.get 0
            br_table 0 1 2 1
          end; i32.const 1; i32.add
        end; i32.const 2; i32.add
      end; i32.const 3; i32.add`;
    await agree(body, ['i32'], ['i32'], range(-1, 6));
  });

  it('br_if carrying a value, taken and not taken', async () => {
    const body = `
      block i32
        local.get 0; i32.const 3; i32.mul
        local.get 0; i32.const 5; i32.gt_s
        br_if 0
        i32.const 7; i32.add
      end
      local.get 0; i32.add`;
    await agree(body, ['i32'], ['i32'], range(0, 10));
    await agree('block i64; local.get 0; local.get 0; i64.eqz; br_if 0; drop; i64.const 9; end', ['i64'], ['i64'], range(-1, 2));
  });

  it('deep nesting with branches out of several levels', async () => {
    const depth = 40;
    const lines: string[] = [];
    for (let i = 0; i < depth; i++) lines.push('block i32', `local.get 0; i32.const ${i}; i32.eq; if; i32.const ${i * 3}; br ${i + 1}; end`);
    lines.push('i32.const -1');
    for (let i = 0; i < depth; i++) lines.push(`i32.const ${i}; i32.add; end`);
    await agree(lines.join('\n'), ['i32'], ['i32'], range(-1, depth + 1));
  });

  it('if/else with results, nested, and a value below the if', async () => {
    const body = `
      local.get 0; i32.const 1000; i32.mul
      local.get 0; i32.const 0; i32.lt_s
      if i32
        local.get 0; i32.const -10; i32.lt_s
        if i32; i32.const 1; else; i32.const 2; end
      else
        local.get 0; i32.eqz
        if i32; i32.const 3; else; local.get 0; i32.const 100; i32.add; end
      end
      i32.add`;
    await agree(body, ['i32'], ['i32'], range(-12, 4));
  });

  it('if without else, and an if whose then-arm ends in a branch', async () => {
    await agree('local.get 0; if; i32.const 5; local.set 0; end; local.get 0', ['i32'], ['i32'], range(-1, 3));
    await agree('block i32; local.get 0; if; i32.const 5; br 1; end; i32.const 6; end', ['i32'], ['i32'], range(-1, 3));
    await agree('local.get 0; if i32; i32.const 5; return; else; i32.const 6; end', ['i32'], ['i32'], range(-1, 3));
  });

  it('unreachable code after br, return and unreachable is skipped', async () => {
    await agree('block; br 0; i32.const 1; drop; block; unreachable; end; end; local.get 0', ['i32'], ['i32'], range(0, 2));
    await agree('local.get 0; return; i32.const 1; i32.add; block i32; unreachable; br 0; end; drop', ['i32'], ['i32'], range(0, 2));
  });

  it('constant conditions', async () => {
    await agree('i32.const 1; if i32; i32.const 5; else; i32.const 6; end; i32.const 0; if i32; i32.const 7; else; i32.const 8; end; i32.add', [], ['i32'], [[]]);
    await agree('block; i32.const 0; br_if 0; i32.const 3; return; end; i32.const 4', [], ['i32'], [[]]);
    await agree('block; i32.const 1; br_if 0; i32.const 3; return; end; i32.const 4', [], ['i32'], [[]]);
    await agree('block; block; i32.const 1; br_table 0 1 0; end; i32.const 5; return; end; i32.const 6', [], ['i32'], [[]]);
  });
});

describe('loops', () => {
  it('while loop, do-while loop, nested loops with continue/break', async () => {
    // sum of i*j for i < n, j < i, skipping j == 3, stopping the inner loop at j == 7
    const body = `
      block
        loop
          local.get 1; local.get 0; i32.ge_s; br_if 1
          i32.const 0; local.set 2
          block
            loop
              local.get 2; local.get 1; i32.ge_s; br_if 1
              local.get 2; i32.const 7; i32.eq; br_if 1
              local.get 2; i32.const 1; i32.add; local.set 2
              local.get 2; i32.const 4; i32.eq; br_if 0
              local.get 3; local.get 1; local.get 2; i32.mul; i32.add; local.set 3
              br 0
            end
          end
          local.get 1; i32.const 1; i32.add; local.set 1
          br 0
        end
      end
      local.get 3`;
    await agree(body, ['i32'], ['i32'], range(0, 15), ['i32', 'i32', 'i32']);
  });

  it('loop with a result', async () => {
    await agree('loop i32; local.get 0; i32.const 1; i32.sub; local.tee 0; i32.const 10; i32.gt_s; br_if 0; local.get 0; end', ['i32'], ['i32'], range(0, 20));
  });

  it('a value below a loop survives it', async () => {
    await agree('local.get 0; i32.const 3; i32.mul; loop; local.get 0; i32.const 1; i32.sub; local.tee 0; br_if 0; end; local.get 0; i32.add', ['i32'], ['i32'], range(1, 8));
  });
});

describe('select, drop, early return', () => {
  it('select of registers, constants and locals', async () => {
    await agree('local.get 0; local.get 1; local.get 2; select', ['i32', 'i32', 'i32'], ['i32'], [[1n, 2n, 0n], [1n, 2n, 1n], [1n, 2n, -1n]]);
    await agree('local.get 0; i64.const 77; local.get 1; select', ['i64', 'i32'], ['i64'], [[5n, 0n], [5n, 3n]]);
    await agree('i32.const 4; local.get 0; local.get 1; select; local.set 0; local.get 0', ['i32', 'i32'], ['i32'], [[5n, 0n], [5n, 3n]]);
    await agree('local.get 1; local.get 0; local.get 0; local.get 1; i32.lt_u; select; local.set 1; local.get 1', ['i32', 'i32'], ['i32'], [[5n, 9n], [9n, 5n], [-1n, 5n]]);
  });

  it('early return from inside a loop', async () => {
    await agree('loop; local.get 0; i32.const 17; i32.eq; if; i32.const 99; return; end; local.get 0; i32.const 1; i32.add; local.tee 0; i32.const 100; i32.lt_s; br_if 0; end; i32.const -1', ['i32'], ['i32'], range(10, 20).concat([[200n]]));
  });

  it('unreachable traps with the function name', () => {
    const m = buildModule({ funcs: [{ name: 'kmem_cache_bug', params: ['i32'], results: ['i32'], body: 'local.get 0; if; unreachable; end; i32.const 3' }] });
    expect(runMany(m, 'kmem_cache_bug', [[0n]])).toEqual([3n]);
    expect(run(m, 'kmem_cache_bug', { args: [1n] }).trap).toBe('unreachable in kmem_cache_bug');
  });
});

describe('register pressure', () => {
  it('a long expression spills and reloads correctly', async () => {
    // ((x+1)*(x+2)*…) with all partial operands pushed first: 40 values live at once.
    const n = 40;
    const lines: string[] = [];
    for (let i = 1; i <= n; i++) lines.push(`local.get 0; i64.const ${i}; i64.add`);
    for (let i = 1; i < n; i++) lines.push(i % 2 ? 'i64.mul' : 'i64.xor');
    await agree(lines.join('\n'), ['i64'], ['i64'], [[3n], [-1000n]]);
  });

  it('values live across a block that spills', async () => {
    const lines = ['local.get 0'];
    for (let i = 0; i < 20; i++) lines.push(`local.get 0; i32.const ${i}; i32.add`);
    lines.push('block i32');
    for (let i = 0; i < 20; i++) lines.push(`local.get 0; i32.const ${i * 7}; i32.xor`);
    for (let i = 0; i < 19; i++) lines.push('i32.add');
    lines.push('end');
    for (let i = 0; i < 21; i++) lines.push('i32.sub');
    await agree(lines.join('\n'), ['i32'], ['i32'], range(0, 5));
  });
});

describe('big frames', () => {
  it('hundreds of locals and spills beyond the 12-bit reach of s0', async () => {
    const n = 400;
    const locals: ValType[] = Array.from({ length: n }, (_, i) => (i % 3 ? 'i32' : 'i64'));
    const lines: string[] = [];
    // A call makes every local live in s-registers or the frame.
    locals.forEach((t, i) => lines.push(`local.get 0; i32.const ${i * 7 + 1}; i32.mul; ${t === 'i64' ? 'i64.extend_i32_s;' : ''} local.set ${i + 1}`));
    lines.push('local.get 0; call 0; drop');
    locals.forEach((t, i) => lines.push(`local.get ${i + 1}; ${t === 'i64' ? 'i32.wrap_i64;' : ''}`));
    for (let i = 1; i < n; i++) lines.push(i % 2 ? 'i32.add' : 'i32.xor');
    const m = buildModule({
      funcs: [
        { name: 'id', params: ['i32'], results: ['i32'], body: 'local.get 0' },
        { name: 'f', params: ['i32'], results: ['i32'], locals, body: lines.join('\n').replace('call 0', 'call 0') },
      ],
    });
    // Function indices: id = 0, f = 1.
    const want = await v8Many(m, 'f', [[3n], [-5n]]);
    expect(runMany(m, 'f', [[3n], [-5n]])).toEqual(want);
  });
});
