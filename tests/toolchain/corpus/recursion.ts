// Recursion: fib, ackermann, mutual recursion, gcd, a deep call chain with many arguments.
import { put, put32, result } from './lib/check';
import { V32 } from './lib/values';

function fib(n: i32): i32 {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

function fib64(n: i64): i64 {
  return n < 2 ? n : fib64(n - 1) + fib64(n - 2);
}

function ack(m: i32, n: i32): i32 {
  if (m == 0) return n + 1;
  if (n == 0) return ack(m - 1, 1);
  return ack(m - 1, ack(m, n - 1));
}

function isEven(n: u32): bool {
  return n == 0 ? true : isOdd(n - 1);
}
function isOdd(n: u32): bool {
  return n == 0 ? false : isEven(n - 1);
}

function gcd(a: u64, b: u64): u64 {
  return b == 0 ? a : gcd(b, a % b);
}

// Many arguments (more than the 8 argument registers) of both types.
function many(a: i32, b: i64, c: i32, d: i64, e: i32, f: i64, g: i32, h: i64, i: i32, j: i64, k: i32, l: i64, depth: i32): i64 {
  if (depth == 0) return <i64>a * 3 + b - <i64>c + d * 5 + <i64>e - f + <i64>g * 7 + h + <i64>i - j + <i64>k * 11 + l;
  return many(b as i32, <i64>a, e, d + 1, c, f ^ h, i, <i64>g, k, l, <i32>j, <i64>depth, depth - 1) + <i64>depth;
}

export function main(): i64 {
  for (let n = 0; n < 22; n++) put32(fib(n));
  put(fib64(25));
  for (let m = 0; m <= 2; m++) for (let n = 0; n <= 5; n++) put32(ack(m, n));
  put32(ack(3, 3));
  for (let i = 0; i < V32.length; i++) {
    const v = unchecked(V32[i]);
    put32(<i32>isEven(<u32>(v & 0x3ff)));
    put(<i64>gcd(<u64>v * 7919, <u64>(v ^ 0x5555) * 104729));
    put(many(v, <i64>v << 20, v ^ 1, -1, 2, 3, v, 5, 6, 7, 8, <i64>v * v, 6));
  }
  return result();
}

// 2000 frames deep: the native stack must hold it (1 MiB in a bare image).
export function deep_chain(): i64 {
  return chain(2000, 0);
}
function chain(n: i32, acc: i64): i64 {
  if (n == 0) return acc;
  const r = chain(n - 1, acc * 3 + <i64>n);
  return r ^ <i64>n;
}
