// call_indirect through function references (first-class functions, no closures).
import { put, put32, result } from './lib/check';
import { V32 } from './lib/values';

function add(a: i32, b: i32): i32 { return a + b; }
function sub(a: i32, b: i32): i32 { return a - b; }
function mul(a: i32, b: i32): i32 { return a * b; }
function shl(a: i32, b: i32): i32 { return a << b; }
function rot(a: i32, b: i32): i32 { return rotr<i32>(a, b); }
function neg64(a: i64): i64 { return -a; }
function sq64(a: i64): i64 { return a * a; }
function noop(): void {}

const OPS: StaticArray<(a: i32, b: i32) => i32> = [add, sub, mul, shl, rot];

function apply(f: (a: i32, b: i32) => i32, a: i32, b: i32): i32 {
  return f(a, b);
}

function pick64(i: i32): (a: i64) => i64 {
  return i & 1 ? neg64 : sq64;
}

export function main(): i64 {
  let f: (a: i32) => i32 = (x: i32): i32 => x * 2 + 1;
  put32(f(20));
  for (let i = 0; i < V32.length; i++) {
    const v = unchecked(V32[i]);
    for (let k = 0; k < OPS.length; k++) put32(apply(unchecked(OPS[k]), v, 0x1234567 ^ k));
    put(pick64(i)(<i64>v << 3));
    const g = pick64(v);
    put(g(<i64>v));
    const n: () => void = noop;
    n();
  }
  return result();
}
