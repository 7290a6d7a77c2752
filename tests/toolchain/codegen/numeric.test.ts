/**
 * Integer instructions against V8: every binary, comparison and unary
 * operator of i32 and i64 on edge values, with both operands in registers,
 * with a constant on either side (the immediate forms), and comparisons
 * fused into branches and selects. Plus the division traps.
 */
import { describe, expect, it } from 'vitest';
import { buildModule, run, runMany, single, v8Many } from './harness.js';
import type { ValType } from '../../../toolchain/wasm/module.js';

const I32_EDGES: bigint[] = [
  0, 1, -1, 2, -2, 3, 5, 7, 8, 31, 32, 33, 63, 64, 100, -100, 255, 256, 2047, 2048, -2048, -2049, 4095, 65535, 65536,
  0x7fffffff, -0x80000000, -0x7fffffff, 0x12345678, -0x12345678, 0x55555555, -0x55555556, 0x7ffff800, 0x40000000,
].map(BigInt);
const I64_EDGES: bigint[] = [
  ...I32_EDGES, 0xffffffffn, 0x100000000n, -0x100000000n, 0x80000000n, 0x7fffffffffffffffn, -0x8000000000000000n,
  0x123456789abcdef0n, -0x123456789abcdef0n, 0x5555555555555555n, 0x0000800000000000n, 0xfffffffffn, 64n, 65n, 127n,
];

const BINARY = ['add', 'sub', 'mul', 'div_s', 'div_u', 'rem_s', 'rem_u', 'and', 'or', 'xor', 'shl', 'shr_s', 'shr_u', 'rotl', 'rotr'];
const COMPARE = ['eq', 'ne', 'lt_s', 'lt_u', 'gt_s', 'gt_u', 'le_s', 'le_u', 'ge_s', 'ge_u'];
/** Constants for the immediate forms (a subset: each one is an arm of a br_table). */
const CONSTS32 = [0, 1, -1, 2, 3, 7, 31, 32, 33, 2047, 2048, -2048, -2049, 0x7fffffff, -0x80000000, 0x12345678, 4096, 65535].map(BigInt);
const CONSTS64 = [...CONSTS32, 63n, 64n, 0x100000000n, -0x8000000000000000n, 0x7fffffffffffffffn, 0x123456789abcdef0n];

function pairs(xs: bigint[]): bigint[][] {
  return xs.flatMap((a) => xs.map((b) => [a, b]));
}

/** Check export f of m on every argument list against V8; argument lists on which V8 traps are skipped. */
async function agree(body: string, params: ValType[], results: ValType[], argLists: bigint[][], locals: ValType[] = []): Promise<number> {
  const m = single(body, params, results, locals);
  const want = await v8Many(m, 'f', argLists);
  const ok = argLists.filter((_, i) => want[i] !== 'trap');
  const got = runMany(m, 'f', ok);
  const expected = want.filter((w) => w !== 'trap');
  for (let i = 0; i < ok.length; i++) {
    if (got[i] !== expected[i]) expect.fail(`${body.replace(/\n/g, '; ')} on (${ok[i]!.join(', ')}): got ${got[i]}, V8 says ${String(expected[i])}`);
  }
  return ok.length;
}

/** A function (x, k) whose k-th br_table arm computes `x op C_k` (or `C_k op x`). */
function constArms(ty: 'i32' | 'i64', op: string, consts: bigint[], constFirst: boolean, kind: 'binary' | 'compare' = 'binary'): string {
  const lines: string[] = [];
  for (let k = consts.length; k >= 0; k--) lines.push(`block`);
  lines.push(`local.get 1`, `br_table ${consts.map((_, k) => k).join(' ')} ${consts.length}`);
  consts.forEach((c, k) => {
    lines.push('end');
    const res = kind === 'compare' ? `${ty}.${op}; i64.extend_i32_u` : `${ty}.${op}`;
    lines.push(constFirst ? `${ty}.const ${c}; local.get 0; ${res}` : `local.get 0; ${ty}.const ${c}; ${res}`);
    if (ty === 'i32' && kind === 'binary') lines.push('i64.extend_i32_s');
    lines.push('return');
    void k;
  });
  lines.push('end', 'unreachable');
  return lines.join('\n');
}

describe.each(['i32', 'i64'] as const)('%s operators agree with V8', (ty) => {
  const edges = ty === 'i32' ? I32_EDGES : I64_EDGES;
  const consts = ty === 'i32' ? CONSTS32 : CONSTS64;

  it.each(BINARY)('%s: both operands in registers', async (op) => {
    expect(await agree(`local.get 0; local.get 1; ${ty}.${op}`, [ty, ty], [ty], pairs(edges))).toBeGreaterThan(100);
  });

  it.each(BINARY)('%s: a constant on either side (immediate forms)', async (op) => {
    const args = edges.flatMap((x) => consts.map((_, k) => [x, BigInt(k)]));
    await agree(constArms(ty, op, consts, false), [ty, 'i32'], ['i64'], args);
    await agree(constArms(ty, op, consts, true), [ty, 'i32'], ['i64'], args);
  });

  it.each(COMPARE)('%s: as a value, a fused branch and a select', async (op) => {
    const args = pairs(edges);
    await agree(`local.get 0; local.get 1; ${ty}.${op}`, [ty, ty], ['i32'], args);
    await agree(`local.get 0; local.get 1; ${ty}.${op}; if i32; i32.const 11; else; i32.const 22; end`, [ty, ty], ['i32'], args);
    await agree(`block; local.get 0; local.get 1; ${ty}.${op}; br_if 0; i32.const 5; return; end; i32.const 6`, [ty, ty], ['i32'], args);
    await agree(`block; local.get 0; local.get 1; ${ty}.${op}; i32.eqz; br_if 0; i32.const 5; return; end; i32.const 6`, [ty, ty], ['i32'], args);
    await agree(`i32.const 100; i32.const 200; local.get 0; local.get 1; ${ty}.${op}; select`, [ty, ty], ['i32'], args);
    const cargs = edges.flatMap((x) => consts.map((_, k) => [x, BigInt(k)]));
    await agree(constArms(ty, op, consts, false, 'compare'), [ty, 'i32'], ['i64'], cargs);
    await agree(constArms(ty, op, consts, true, 'compare'), [ty, 'i32'], ['i64'], cargs);
  });

  it.each(['clz', 'ctz', 'popcnt', 'eqz', 'extend8_s', 'extend16_s', ...(ty === 'i64' ? ['extend32_s'] : [])])('%s', async (op) => {
    await agree(`local.get 0; ${ty}.${op}`, [ty], [op === 'eqz' ? 'i32' : ty], edges.map((x) => [x]));
    // Constant operand: folded at translation time.
    for (const c of edges.slice(0, 12)) await agree(`${ty}.const ${c}; ${ty}.${op}`, [], [op === 'eqz' ? 'i32' : ty], [[]]);
  });

  it('eqz of a comparison, and double negation, branch correctly', async () => {
    await agree(`local.get 0; local.get 1; ${ty}.lt_s; i32.eqz; i32.eqz; if i32; i32.const 1; else; i32.const 2; end`, [ty, ty], ['i32'], pairs(edges.slice(0, 12)));
    await agree(`local.get 0; local.get 1; ${ty}.lt_u; i32.eqz`, [ty, ty], ['i32'], pairs(edges.slice(0, 12)));
  });
});

describe('conversions', () => {
  it('wrap, extend_i32_s, extend_i32_u agree with V8', async () => {
    await agree('local.get 0; i32.wrap_i64', ['i64'], ['i32'], I64_EDGES.map((x) => [x]));
    await agree('local.get 0; i64.extend_i32_s', ['i32'], ['i64'], I32_EDGES.map((x) => [x]));
    await agree('local.get 0; i64.extend_i32_u', ['i32'], ['i64'], I32_EDGES.map((x) => [x]));
    await agree('local.get 0; i64.extend_i32_u; local.get 1; i64.add; i32.wrap_i64', ['i32', 'i64'], ['i32'], pairs(I64_EDGES).slice(0, 400));
  });

  it('keeps i32 results sign-extended in a0 (psABI)', () => {
    const m = single('local.get 0; local.get 1; i32.add', ['i32', 'i32']);
    expect(runMany(m, 'f', [[0x7fffffff, 1], [-1, 0], [0x40000000, 0x40000000]])).toEqual([-0x80000000n, -1n, -0x80000000n]);
  });
});

describe('division traps', () => {
  const cases: [string, ValType, bigint[], string][] = [
    ['local.get 0; local.get 1; i32.div_s', 'i32', [5n, 0n], 'integer divide by zero in f'],
    ['local.get 0; local.get 1; i32.div_u', 'i32', [5n, 0n], 'integer divide by zero in f'],
    ['local.get 0; local.get 1; i32.rem_s', 'i32', [5n, 0n], 'integer divide by zero in f'],
    ['local.get 0; local.get 1; i32.rem_u', 'i32', [5n, 0n], 'integer divide by zero in f'],
    ['local.get 0; local.get 1; i32.div_s', 'i32', [-0x80000000n, -1n], 'integer overflow in f'],
    ['local.get 0; local.get 1; i64.div_s', 'i64', [5n, 0n], 'integer divide by zero in f'],
    ['local.get 0; local.get 1; i64.rem_u', 'i64', [5n, 0n], 'integer divide by zero in f'],
    ['local.get 0; local.get 1; i64.div_s', 'i64', [-0x8000000000000000n, -1n], 'integer overflow in f'],
    ['local.get 0; i32.const 0; i32.div_u', 'i32', [5n, 1n], 'integer divide by zero in f'],
    ['local.get 0; i32.const -1; i32.div_s', 'i32', [-0x80000000n, 0n], 'integer overflow in f'],
    ['local.get 0; i64.const -1; i64.div_s', 'i64', [-0x8000000000000000n, 0n], 'integer overflow in f'],
  ];
  it.each(cases.map(([b, t, a, m]) => [`${b} (${a.join(', ')})`, t, a, m] as const))('%s traps', (_, ty, args, msg) => {
    const body = _.replace(/ \(.*/, '');
    const m = single(body, [ty, ty], [ty]);
    expect(run(m, 'f', { args }).trap).toBe(msg);
  });

  it('rem_s of INT_MIN by -1 is 0, not a trap', () => {
    const m32 = single('local.get 0; local.get 1; i32.rem_s', ['i32', 'i32']);
    const m64 = single('local.get 0; local.get 1; i64.rem_s', ['i64', 'i64'], ['i64']);
    expect(runMany(m32, 'f', [[-0x80000000n, -1n]])).toEqual([0n]);
    expect(runMany(m64, 'f', [[-0x8000000000000000n, -1n]])).toEqual([0n]);
  });
});

describe('locals', () => {
  it('declared locals start at zero, even in loops and across many locals', async () => {
    const locals: ValType[] = Array.from({ length: 30 }, (_, i) => (i % 2 ? 'i64' : 'i32'));
    const body = [
      ...locals.map((t, i) => `local.get ${i + 1}; ${t === 'i32' ? 'i64.extend_i32_s' : ''}`),
      ...locals.slice(1).map(() => 'i64.add'),
      'local.get 0; i64.extend_i32_s; i64.add',
    ].join('\n');
    await agree(body, ['i32'], ['i64'], [[5n], [-7n]], locals);
  });

  it('more locals than registers, all live in a loop', async () => {
    const n = 24;
    const locals: ValType[] = Array.from({ length: n }, () => 'i32');
    const lines = ['block', 'loop'];
    for (let i = 1; i <= n; i++) lines.push(`local.get ${i}; local.get 0; i32.const ${i}; i32.mul; i32.add; local.set ${i}`);
    lines.push('local.get 0; i32.const 1; i32.sub; local.tee 0; br_if 0', 'end', 'end');
    for (let i = 1; i <= n; i++) lines.push(`local.get ${i}`);
    for (let i = 1; i < n; i++) lines.push('i32.xor');
    await agree(lines.join('\n'), ['i32'], ['i32'], [[1n], [10n], [100n]], locals);
  });

  it('a local read lazily keeps its old value when overwritten before use', async () => {
    // local.get 0 is on the stack when local 0 changes: the stack must hold the old value.
    await agree('local.get 0; i32.const 5; local.set 0; local.get 0; i32.sub', ['i32'], ['i32'], [[1n], [100n]]);
    await agree('local.get 0; local.get 0; i32.const 3; i32.mul; local.tee 0; i32.add; local.get 0; i32.add', ['i32'], ['i32'], [[1n], [-7n]]);
    await agree('local.get 0; local.get 1; i32.lt_s; local.get 0; i32.const 1; i32.add; local.set 0; local.get 0; i32.add', ['i32', 'i32'], ['i32'], pairs([0n, 1n, -5n, 9n]));
  });

  it('stack parameters beyond a0-a7', async () => {
    const params: ValType[] = Array.from({ length: 12 }, (_, i) => (i % 3 === 2 ? 'i64' : 'i32'));
    const body = params.map((t, i) => `local.get ${i}; ${t === 'i32' ? 'i64.extend_i32_s;' : ''} i64.const ${i + 1}; i64.mul`).join('\n') + '\n' + params.slice(1).map(() => 'i64.add').join('\n');
    const args = [Array.from({ length: 12 }, (_, i) => BigInt(i * 1000 - 3)), Array.from({ length: 12 }, (_, i) => BigInt(-i) << 20n)];
    await agree(body, params, ['i64'], args);
  });
});

describe('module-level constants', () => {
  it('folds constant expressions exactly (no trap folded away)', async () => {
    const m = buildModule({ funcs: [{ name: 'f', results: ['i32'], body: 'i32.const 7; i32.const 0; i32.div_s' }] });
    expect(run(m, 'f').trap).toBe('integer divide by zero in f');
    await agree('i32.const -2147483648; i32.const -1; i32.rem_s; i32.const 7; i32.const 3; i32.rotl; i32.add', [], ['i32'], [[]]);
    await agree('i64.const -1; i64.const 63; i64.shr_u; i64.const 1; i64.const 64; i64.shl; i64.add', [], ['i64'], [[]]);
  });
});
