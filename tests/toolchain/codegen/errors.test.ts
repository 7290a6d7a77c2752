/**
 * What the translator refuses, and how it says so: floating point (any
 * operator, constant, local, parameter, global), memory.grow, unknown
 * imports, imported globals, block parameters.
 */
import { describe, expect, it } from 'vitest';
import { buildModule, compileAS, single } from './harness.js';
import { translateModule } from '../../../toolchain/translate.js';
import { WasmError, type WasmModule } from '../../../toolchain/wasm/module.js';

function refusal(m: WasmModule): WasmError {
  try {
    translateModule(m, { addressMode: 'sext' });
  } catch (e) {
    if (e instanceof WasmError) return e;
    throw e;
  }
  throw new Error('translated without an error');
}

describe('floating point is refused, naming the function and the offset', () => {
  it.each([
    ['f32.const 1.5; drop', 'f32.const', 0x1000],
    ['i32.const 1; f32.convert_i32_s; drop', 'f32.convert_i32_s', 0x1002],
    ['i64.const 1; f64.reinterpret_i64; drop', 'f64.reinterpret_i64', 0x1002],
    ['local.get 0; f64.convert_i32_u; f64.sqrt; drop', 'f64.convert_i32_u', 0x1002],
  ])('%s', (body, op, at) => {
    const m = single(body.replace('1.5', '0'), ['i32'], []);
    const e = refusal(m);
    expect(e.message).toBe(`floating point is not supported: ${op} in function f at 0x${at.toString(16)}`);
  });

  it('a float local, parameter or result', () => {
    expect(refusal(single('nop', [], [], ['f64'])).message).toMatch(/^floating point is not supported: f64 local in function f at 0x/);
    expect(refusal(single('nop', ['f32'], [])).message).toMatch(/^floating point is not supported: f32 parameter or result in function f/);
  });

  it('a float global, when used', () => {
    const m = buildModule({ globals: [{ type: 'f64', mutable: true, value: 0n }], funcs: [{ name: 'f', body: 'global.get 0; drop' }] });
    expect(refusal(m).message).toMatch(/^floating point is not supported: f64 global .* in function f/);
  });

  it('an AssemblyScript program using f64', () => {
    const { module } = compileAS('export function area(r: i32): i32 { return <i32>(Math.PI * <f64>r * <f64>r); }');
    expect(refusal(module).message).toMatch(/^floating point is not supported: f64[ .]\S+ in function \S+ at 0x[0-9a-f]+$/);
  });
});

describe('other refusals', () => {
  it('memory.grow', () => {
    const m = buildModule({ memoryPages: 1, funcs: [{ name: 'grow_heap', results: ['i32'], body: 'i32.const 1; memory.grow' }] });
    expect(refusal(m).message).toBe('memory.grow is not supported (the machine\'s memory has a fixed size): in function grow_heap at 0x1002');
  });

  it('an unknown import, by module.name, even when never called', () => {
    const m = buildModule({ imports: [{ module: 'env', name: 'seed', results: ['f64'] }], funcs: [{ name: 'f', body: 'nop' }] });
    expect(refusal(m).message).toMatch(/^unknown import env\.seed/);
    const m2 = buildModule({ imports: [{ module: 'wasi', name: 'fd_write', params: ['i32'], results: ['i32'] }], funcs: [{ name: 'f', body: 'nop' }] });
    expect(refusal(m2).message).toMatch(/^unknown import wasi\.fd_write/);
  });

  it('env.abort with the wrong type', () => {
    const m = buildModule({ imports: [{ module: 'env', name: 'abort', params: ['i32'] }], funcs: [{ name: 'f', body: 'nop' }] });
    expect(refusal(m).message).toMatch(/env\.abort has type/);
  });

  it('block parameters (multi-value)', () => {
    const m = single('i32.const 1; block; end; drop', [], []);
    m.funcs[0]!.body[1]!.blockType = { params: ['i32'], results: [] };
    expect(refusal(m).message).toMatch(/^block with block parameters is not supported: in function f at 0x1002/);
  });

  it('reference-type instructions', () => {
    const m = single('ref.null; drop', [], []);
    expect(refusal(m).message).toMatch(/^ref\.null is not supported: in function f/);
  });
});
