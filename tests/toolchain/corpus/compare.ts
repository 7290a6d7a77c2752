// Signed and unsigned comparisons around 0x8000_0000 and 0x8000_0000_0000_0000, eqz, select.
import { put, put32, result } from './lib/check';
import { V32, V64 } from './lib/values';

export function main(): i64 {
  for (let i = 0; i < V32.length; i++) {
    const a = unchecked(V32[i]);
    put32(i32(a == 0));
    put32(i32(a != 0));
    for (let j = 0; j < V32.length; j++) {
      const b = unchecked(V32[j]);
      let bits = 0;
      if (a == b) bits |= 1;
      if (a != b) bits |= 2;
      if (a < b) bits |= 4;
      if (<u32>a < <u32>b) bits |= 8;
      if (a > b) bits |= 16;
      if (<u32>a > <u32>b) bits |= 32;
      if (a <= b) bits |= 64;
      if (<u32>a <= <u32>b) bits |= 128;
      if (a >= b) bits |= 256;
      if (<u32>a >= <u32>b) bits |= 512;
      put32(bits);
      put32(select<i32>(a, b, a < b));         // select
      put32(select<i32>(a, b, <u32>a > <u32>b));
      put32(i32(a < b) + i32(<u32>a < <u32>b) * 2); // comparisons as values
      put32(i32(a >= 2047) | i32(<u32>a < 2048) << 1 | i32(a > -2049) << 2 | i32(<u32>a >= 0x80000000) << 3);
    }
  }
  for (let i = 0; i < V64.length; i++) {
    const a = unchecked(V64[i]);
    put32(i32(a == 0));
    for (let j = 0; j < V64.length; j++) {
      const b = unchecked(V64[j]);
      let bits = 0;
      if (a == b) bits |= 1;
      if (a != b) bits |= 2;
      if (a < b) bits |= 4;
      if (<u64>a < <u64>b) bits |= 8;
      if (a > b) bits |= 16;
      if (<u64>a > <u64>b) bits |= 32;
      if (a <= b) bits |= 64;
      if (<u64>a <= <u64>b) bits |= 128;
      if (a >= b) bits |= 256;
      if (<u64>a >= <u64>b) bits |= 512;
      put32(bits);
      put(select<i64>(a, b, a > b));
      put(select<i64>(a, b, <u64>a <= <u64>b));
      put32(i32(a < b) - i32(<u64>a < <u64>b));
      put32(i32(a >= 0x80000000) | i32(<u64>a < 0x100000000) << 1 | i32(a > -1) << 2 | i32(<u64>a >= 0x8000000000000000) << 3);
    }
  }
  return result();
}
