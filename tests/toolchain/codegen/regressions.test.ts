/**
 * Shapes the differential generator (tests/toolchain/differential) found
 * wrong once, reduced to the point: register homes of locals around calls,
 * the order of the entry code, and register pressure in LR/SC loops.
 */
import { describe, expect, it } from 'vitest';
import { MEM, buildModule, runMany, v8Many, type ModuleSpec } from './harness.js';
import type { ValType } from '../../../toolchain/wasm/module.js';

async function agree(spec: ModuleSpec, name: string, args: bigint[][], addressMode: 'zext' | 'sext' = 'zext'): Promise<void> {
  const m = buildModule(spec);
  const want = await v8Many(m, name, args);
  expect(runMany(m, name, args, addressMode)).toEqual(want);
}

const id64 = { name: 'id64', params: ['i64'] as ValType[], results: ['i64'] as ValType[], body: 'local.get 0' };

describe('regressions', () => {
  it('a call result stays apart from a local that lives in a0 after the call', async () => {
    // Local 1 is live only after the call, so it may live in a0; the call's result (also a0) is still on the stack.
    const body = 'i64.const 5; call 0; i64.const 7; local.set 1; local.get 1; local.get 1; i64.mul; i64.add';
    await agree({ funcs: [id64, { name: 'f', params: ['i64'], results: ['i64'], locals: ['i64'], body }] }, 'f', [[1n]]);
  });

  it('hoisted constants are set up after the parameters have moved out of a0-a7', async () => {
    // p1, p2 live across the call (s-registers); loop constants are call-free and may take a1/a2.
    const body = `
      block; loop
        local.get 3; i64.const 4096; i64.ge_s; br_if 1
        local.get 3; i64.const 4095; i64.add; local.set 3
        br 0
      end; end
      local.get 0; call 0; drop
      local.get 1; local.get 2; i64.add; local.get 3; i64.add`;
    await agree({ funcs: [id64, { name: 'f', params: ['i64', 'i64', 'i64'], results: ['i64'], locals: ['i64'], body }] }, 'f', [[1n, 20n, 300n]]);
  });

  it('the zero-extension mask register (zext mode) is not live across a call', async () => {
    const body = `
      block; loop
        local.get 1; i32.const 4; i32.ge_u; br_if 1
        local.get 0; local.get 1; i32.add; i32.load8_u; local.get 2; i32.add; local.set 2
        local.get 1; i32.const 1; i32.add; local.set 1
        br 0
      end; end
      i64.const 3; call 0; drop
      local.get 0; i32.load16_u offset=4; local.get 2; i32.add`;
    const m = buildModule({ memoryPages: 1, data: [{ offset: MEM, bytes: [1, 2, 3, 4, 5, 6, 7, 8] }], funcs: [id64, { name: 'f', params: ['i32'], results: ['i32'], locals: ['i32', 'i32'], body }] });
    expect(runMany(m, 'f', [[BigInt(MEM)]], 'zext')).toEqual([1n + 2n + 3n + 4n + 0x0605n]);
  });

  it('a leaf with eight live parameters, bit counts and 8/16-bit atomics keeps enough temporaries', () => {
    const params: ValType[] = ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'];
    const sum = params.map((_, i) => `local.get ${i}`).join('; ') + '; ' + params.slice(1).map(() => 'i32.add').join('; ');
    const body = `local.get 0; local.get 1; i32.popcnt; local.get 2; i32.atomic.rmw8.cmpxchg_u; local.get 0; local.get 3; i32.clz; i32.atomic.rmw16.add_u offset=2; i32.add; ${sum}; i32.add`;
    const m = buildModule({ memoryPages: 1, data: [{ offset: MEM, bytes: [9, 0, 1, 0] }], funcs: [{ name: 'f', params, results: ['i32'], body }] });
    const args = [BigInt(MEM), 0xffn, 0x77n, 0x10000n, 1n, 2n, 3n, 4n];
    const s = args.reduce((a, b) => a + b, 0n);
    // cmpxchg8 at MEM: expected popcnt(0xff) = 8 ≠ 9 → old 9; rmw16 add at MEM+2: old 1, + clz(0x10000) = 15.
    expect(runMany(m, 'f', [args])).toEqual([BigInt.asIntN(32, 9n + 1n + s)]);
  });
});
