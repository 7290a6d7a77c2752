/**
 * Small AssemblyScript programs compiled by asc, run in V8 and on the
 * emulated machine (zext mode, data at 0x8100_0000), results compared:
 * sieve, recursion, switch, function pointers, globals, hashing, a linked
 * list, memcpy/memset, atomics, 64-bit arithmetic. Instruction counts are
 * printed for the record (the benchmark reports them properly).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MEM, compileAS, runMany } from './harness.js';
import type { WasmModule } from '../../../toolchain/wasm/module.js';

const SOURCE = `
const BUF: usize = (__heap_base + 15) & ~15;

export function sieve(n: i32): i32 {
  memory.fill(BUF, 1, <usize>n);
  let count = 0;
  for (let i = 2; i < n; i++) {
    if (load<u8>(BUF + <usize>i)) {
      count++;
      for (let j = i * i; j < n; j += i) store<u8>(BUF + <usize>j, 0);
    }
  }
  return count;
}

export function fib(n: i32): i32 { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

export function ack(m: i32, n: i32): i32 {
  if (m == 0) return n + 1;
  if (n == 0) return ack(m - 1, 1);
  return ack(m - 1, ack(m, n - 1));
}

export function classify(x: i32): i32 {
  switch (x) {
    case 0: return 100; case 1: return 101; case 2: return 102; case 3: return 103;
    case 5: return 105; case 8: return 108; case 13: return 113;
    default: return x < 0 ? -1 : 999;
  }
}

function sq(x: i32): i32 { return x * x; }
function neg(x: i32): i32 { return -x; }
function twice(x: i32): i32 { return x << 1; }
export function apply(k: i32, x: i32): i32 {
  let f: (x: i32) => i32 = sq;
  if (k == 1) f = neg; else if (k == 2) f = twice;
  return f(x) + f(x + 1);
}

let total: i64 = 0;
let calls: i32 = 0;
export function accumulate(x: i64): i64 { total += x; calls++; return total * <i64>calls; }

export function fnv1a(n: i32, seed: u32): u32 {
  for (let i = 0; i < n; i++) store<u8>(BUF + <usize>i, <u8>(i * 7 + seed));
  let h: u32 = 2166136261;
  for (let i = 0; i < n; i++) { h ^= load<u8>(BUF + <usize>i); h *= 16777619; }
  return h;
}

export function xorshift(rounds: i32, seed: u64): u64 {
  let x = seed | 1;
  for (let i = 0; i < rounds; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; }
  return x;
}

// A singly linked list of (next: u32, value: i32) nodes in a static pool.
export function listChurn(n: i32): i32 {
  const pool = BUF;
  let head: usize = 0;
  let free: usize = 0;
  for (let i = 0; i < n; i++) { const p = pool + <usize>(i * 8); store<u32>(p, <u32>free); free = p; }
  let sum = 0;
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < n; i++) {
      const p = free; free = <usize>load<u32>(p);
      store<i32>(p, i * round, 4); store<u32>(p, <u32>head); head = p;
    }
    for (let i = 0; i < n; i += 2) {
      const p = head; head = <usize>load<u32>(p);
      sum += load<i32>(p, 4);
      store<u32>(p, <u32>free); free = p;
      if (head == 0) break;
      const q = head; head = <usize>load<u32>(q); sum -= load<i32>(q, 4) >> 1;
      store<u32>(q, <u32>free); free = q;
      if (head == 0) break;
    }
  }
  return sum;
}

export function copyFill(n: i32, shift: i32): i32 {
  for (let i = 0; i < n + 64; i++) store<u8>(BUF + <usize>i, <u8>(i * 13));
  memory.copy(BUF + <usize>shift, BUF, <usize>n);
  memory.copy(BUF + 7, BUF + 9, 40);
  memory.fill(BUF + <usize>(n / 2), 0xee, <usize>(n / 4));
  let h: u32 = 0;
  for (let i = 0; i < n + 64; i++) h = h * 31 + load<u8>(BUF + <usize>i);
  return <i32>h;
}

export function atomics(n: i32): i32 {
  const p = BUF;
  atomic.store<i32>(p, 10);
  atomic.store<u64>(p + 8, 0);
  atomic.store<u32>(p + 16, 0);
  for (let i = 0; i < n; i++) {
    atomic.add<i32>(p, i);
    atomic.sub<u64>(p + 8, <u64>i);
    atomic.or<u8>(p + 17, <u8>(<u8>1 << <u8>(i & 7)));
    atomic.xchg<u16>(p + 18, <u16>i);
  }
  const a = atomic.cmpxchg<i32>(p, 0, 5);
  const b = atomic.cmpxchg<u16>(p + 18, <u16>(n - 1), 77);
  return atomic.load<i32>(p) + a + b + <i32>atomic.load<u8>(p + 17) + <i32>atomic.load<u16>(p + 18) + <i32>atomic.load<i64>(p + 8);
}

export function wide(a: i64, b: i64): i64 {
  let r: i64 = 0;
  if (b != 0) { r += a / b; r ^= a % b; r += <i64>(<u64>a / <u64>b) + <i64>(<u64>a % <u64>b); }
  r += rotl<i64>(a, <i64>(b & 63)) ^ rotr<i64>(b, 3) ^ <i64>clz<i64>(a) ^ <i64>ctz<i64>(b) ^ <i64>popcnt<i64>(a ^ b);
  return r + (a < b ? 1 : 0) + <i64>(<u64>a < <u64>b);
}
`;

let emu: WasmModule;
let v8: WebAssembly.Instance;

beforeAll(async () => {
  emu = compileAS(SOURCE, ['--memoryBase', String(MEM)]).module;
  const { bytes } = compileAS(SOURCE, ['--initialMemory', '2']);
  const compiled = await WebAssembly.compile(new Uint8Array(bytes));
  v8 = await WebAssembly.instantiate(compiled, { env: { abort: () => { throw new Error('abort'); } } });
}, 60_000);

const CASES: [string, (bigint | number)[][]][] = [
  ['sieve', [[10], [100], [5000]]],
  ['fib', [[0], [1], [2], [15]]],
  ['ack', [[2, 3], [2, 10]]],
  ['classify', [[-5], [0], [1], [2], [3], [4], [5], [8], [13], [14], [1000]]],
  ['apply', [[0, 5], [1, 5], [2, 5], [0, -3]]],
  ['accumulate', [[5n], [-7n], [1n << 40n]]],
  ['fnv1a', [[0, 1], [100, 3], [1000, 0xffffffff]]],
  ['xorshift', [[1, 1n], [1000, 0x123456789n]]],
  ['listChurn', [[1], [2], [50], [301]]],
  ['copyFill', [[0, 0], [100, 3], [257, 64], [64, 1]]],
  ['atomics', [[1], [9], [100]]],
  ['wide', [[7n, 3n], [-7n, 3n], [-(1n << 63n), 3n], [123456789012345n, 0n], [-1n, 64n], [1n << 62n, -3n]]],
];

describe('AssemblyScript programs agree with V8', () => {
  it.each(CASES)('%s', (name, args) => {
    const f = v8.exports[name] as (...a: unknown[]) => unknown;
    const want = args.map((a) => {
      const r = f(...a.map((x) => (typeof x === 'bigint' ? x : Number(x))));
      return typeof r === 'bigint' ? BigInt.asIntN(64, r) : BigInt(r as number);
    });
    // Globals persist between calls in both, so one run of the emulator does the whole sequence.
    const got = runMany(emu, name, args.map((a) => a.map((x) => BigInt(x))));
    // V8 returns u32 as unsigned numbers and i32 as signed: compare as the low 32 bits where the result is 32-bit.
    const norm = (v: bigint): bigint => (name === 'fnv1a' ? BigInt.asUintN(32, v) : v);
    expect(got.map(norm)).toEqual(want.map(norm));
  });
});
