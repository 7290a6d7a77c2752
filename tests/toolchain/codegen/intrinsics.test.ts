/**
 * The "riscv" intrinsics: CSR access, tp/sp, fences, ecall with its a1,
 * mret/sret/wfi in the text, the AssemblyScript declarations (generated, up
 * to date, and compilable by asc), and the errors for unknown ones.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildModule, compileAS, run, runMany } from './harness.js';
import { translateModule } from '../../../toolchain/translate.js';
import { WasmError, type ValType } from '../../../toolchain/wasm/module.js';
import { RISCV_AS_PATH, riscvDeclarations } from '../../../toolchain/codegen/riscv-as.js';

const imp = (name: string, params: ValType[] = [], results: ValType[] = []) => ({ module: 'riscv', name, params, results });

describe('CSR intrinsics', () => {
  const m = buildModule({
    imports: [
      imp('csrw_mscratch', ['i64']), imp('csrr_mscratch', [], ['i64']), imp('csrs_mscratch', ['i64']),
      imp('csrc_mscratch', ['i64']), imp('csrrw_mscratch', ['i64'], ['i64']), imp('csrrs_mscratch', ['i64'], ['i64']),
      imp('csrr_mhartid', [], ['i32']),
    ],
    funcs: [
      { name: 'roundtrip', params: ['i64'], results: ['i64'], body: 'local.get 0; call 0; call 1' },
      { name: 'setclear', params: ['i64'], results: ['i64'], body: 'i64.const 0xf0; call 0; local.get 0; call 2; i64.const 0x30; call 3; i64.const 5; call 3; call 1' },
      { name: 'swap', params: ['i64', 'i64'], results: ['i64'], body: 'local.get 0; call 0; local.get 1; call 4; call 1; i64.add' },
      { name: 'setret', params: ['i64'], results: ['i64'], body: 'i64.const 1; call 0; local.get 0; call 5; call 1; i64.sub' },
      { name: 'hart', results: ['i32'], body: 'call 6' },
    ],
  });

  it('read, write, set, clear, swap', () => {
    expect(runMany(m, 'roundtrip', [[0x123456789abcdefn], [-1n], [0n]])).toEqual([0x123456789abcdefn, -1n, 0n]);
    expect(runMany(m, 'setclear', [[0x10f00n]])).toEqual([(0xf0n | 0x10f00n) & ~0x35n]);
    expect(runMany(m, 'swap', [[7n, 100n]])).toEqual([107n]);
    expect(runMany(m, 'setret', [[6n]])).toEqual([1n - 7n]);
    expect(runMany(m, 'hart', [[]])).toEqual([0n]);
  });

  it('uses csrwi/csrsi/csrci for constants 0-31 and the register forms otherwise', () => {
    const text = translateModule(m, { addressMode: 'zext' }).text;
    expect(text).toMatch(/csrsi mscratch, 0|csrw mscratch, /);
    expect(text).toContain('csrci mscratch, 5');
    expect(text).toMatch(/csrc mscratch, t\d|csrc mscratch, a\d/); // 0x30 = 48 does not fit the 5-bit immediate
    expect(text).toContain('csrrw ');
  });
});

describe('other intrinsics', () => {
  it('tp_read / tp_write / sp_read', () => {
    const m = buildModule({
      imports: [imp('tp_write', ['i64']), imp('tp_read', [], ['i64']), imp('sp_read', [], ['i64'])],
      funcs: [
        { name: 'tp', params: ['i64'], results: ['i64'], body: 'local.get 0; call 0; call 1' },
        { name: 'sp', results: ['i64'], body: 'call 2' },
      ],
    });
    expect(runMany(m, 'tp', [[0x8100_0000n], [-5n]])).toEqual([0x8100_0000n, -5n]);
    expect(runMany(m, 'sp', [[]])).toEqual([0x80e0_0000n]); // a leaf without a frame sees the caller's sp
  });

  it('fences, wfi, pause, ebreak, mret, sret, sfence.vma are inlined as themselves', () => {
    const names = ['fence', 'fence_i', 'wfi', 'pause', 'ebreak', 'mret', 'sret', 'sfence_vma_all'];
    const m = buildModule({
      imports: [...names.map((n) => imp(n)), imp('sfence_vma', ['i64', 'i64'])],
      funcs: [{ name: 'f', params: ['i64'], body: `${names.map((_, i) => `call ${i}`).join('; ')}; local.get 0; i64.const 0; call ${names.length}` }],
    });
    const text = translateModule(m, { addressMode: 'sext' }).text;
    for (const insn of ['fence iorw, iorw', 'fence.i', 'wfi', 'pause', 'ebreak', 'mret', 'sret', 'sfence.vma\n', 'sfence.vma a0, zero']) expect(text).toContain(insn);
    expect(text).not.toContain('call ');
  });

  it('ecall passes a0-a7, returns a0, and ecall_a1 gives the a1 it left', () => {
    const m = buildModule({
      imports: [imp('ecall', Array<ValType>(8).fill('i64'), ['i64']), imp('ecall_a1', [], ['i64'])],
      funcs: [{
        name: 'sbi', params: ['i64', 'i64'], results: ['i64'],
        body: 'local.get 0; i64.const 2; i64.const 3; i64.const 4; i64.const 5; i64.const 6; i64.const 7; local.get 1; call 0; call 1; i64.const 1000; i64.mul; i64.add',
      }],
    });
    // The test handler: a0 += a7, a1 = a0 + 1.
    const r = run(m, 'sbi', { args: [10n, 0x54494d45n], ecallReturns: true });
    const a0 = 10n + 0x54494d45n;
    expect(r.value).toBe(a0 + (a0 + 1n) * 1000n);
  });

  it('an ecall without a handler traps to M-mode with a7 = the extension id', () => {
    const m = buildModule({
      imports: [imp('ecall', Array<ValType>(8).fill('i64'), ['i64'])],
      funcs: [{ name: 'sbi', params: ['i64'], results: ['i64'], body: 'i64.const 1; i64.const 2; i64.const 3; i64.const 4; i64.const 5; i64.const 6; i64.const 7; local.get 0; call 0' }],
    });
    const r = run(m, 'sbi', { args: [0x10n] });
    expect(r.fault?.[0]).toBe(11n); // environment call from M-mode
    expect(r.machine.harts[0]!.getReg(17)).toBe(0x10n);
    expect(r.machine.harts[0]!.getReg(16)).toBe(7n);
  });
});

describe('errors', () => {
  it.each([
    ['csrr_nosuchcsr', [], ['i64'], /riscv\.csrr_nosuchcsr.*unknown CSR 'nosuchcsr'/],
    ['frobnicate', [], [], /riscv\.frobnicate.*unknown intrinsic/],
    ['csrw_mstatus', [], [], /riscv\.csrw_mstatus.*expects 1 integer parameter/],
    ['ecall', ['i64'], ['i64'], /riscv\.ecall.*expects 8 integer parameter/],
  ] as [string, ValType[], ValType[], RegExp][])('riscv.%s is refused', (name, params, results, msg) => {
    const m = buildModule({ imports: [imp(name, params, results)], funcs: [{ name: 'f', body: 'nop' }] });
    expect(() => translateModule(m, { addressMode: 'sext' })).toThrow(WasmError);
    expect(() => translateModule(m, { addressMode: 'sext' })).toThrow(msg);
  });
});

describe('AssemblyScript declarations (toolchain/as/riscv.ts)', () => {
  it('are up to date with the CSR table', () => {
    expect(readFileSync(RISCV_AS_PATH, 'utf8')).toBe(riscvDeclarations());
  });

  it('compile with asc and translate', () => {
    const { module } = compileAS(`
      import { csrr_mscratch, csrw_mscratch, csrs_mscratch, tp_read, fence, csrr_cycle } from './riscv';
      export function f(x: u64): u64 { csrw_mscratch(x); csrs_mscratch(1); fence(); return csrr_mscratch() + tp_read() + (csrr_cycle() & 0); }
    `, [], { 'riscv.ts': riscvDeclarations() });
    expect(runMany(module, 'f', [[0x40n]])).toEqual([0x41n]);
  });
});
