// Mutable globals of both types, updated in loops and across calls.
import { put, put32, result } from './lib/check';
import { V32, V64 } from './lib/values';

let g32: i32 = -123456;
let g64: i64 = 0x7fffffffffffffff;
let gu32: u32 = 0xfffffff0;
let count: i32 = 0;
let acc: i64 = 1;
let flag: bool = false;
let narrow: u8 = 200;
let signed: i16 = -300;

function bump(v: i32): i32 {
  count++;
  g32 += v;
  gu32 = gu32 * 3 + <u32>v;
  flag = !flag;
  narrow += <u8>v;
  signed -= <i16>v;
  return g32;
}

function bump64(v: i64): void {
  g64 = rotl<i64>(g64 ^ v, 7);
  acc = acc * 6364136223846793005 + 1442695040888963407;
}

export function main(): i64 {
  for (let i = 0; i < V32.length; i++) {
    put32(bump(unchecked(V32[i])));
    bump64(unchecked(V64[i % V64.length]));
    put(g64);
    put(<i64>gu32);
    put32(<i32>flag);
    put32(<i32>narrow);
    put32(<i32>signed);
  }
  put(acc);
  put32(count);
  return result();
}

// Globals keep their values between calls inside one run.
export function twice(): i64 {
  bump(5);
  bump(7);
  bump64(3);
  return <i64>g32 ^ g64 ^ (<i64>count << 40);
}
