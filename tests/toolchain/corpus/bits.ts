// Shifts (by >= width and negative counts), rotations, clz/ctz/popcnt, bitwise ops.
import { put, put32, result } from './lib/check';
import { V32, V64 } from './lib/values';

export function main(): i64 {
  for (let i = 0; i < V32.length; i++) {
    const a = unchecked(V32[i]);
    put32(clz<i32>(a));
    put32(ctz<i32>(a));
    put32(popcnt<i32>(a));
    put32(~a);
    for (let j = 0; j < V32.length; j++) {
      const b = unchecked(V32[j]);
      put32(a << b);
      put32(a >> b);
      put32(<i32>(<u32>a >>> b));
      put32(rotl<i32>(a, b));
      put32(rotr<i32>(a, b));
      put32(a & b);
      put32(a | b);
      put32(a ^ b);
    }
    // constant counts, including >= 32 (wasm masks them)
    put32(a << 1); put32(a << 31); put32(a << 32); put32(a << 33);
    put32(a >> 1); put32(a >> 31); put32(a >> 32); put32(a >> 37);
    put32(<i32>(<u32>a >>> 1)); put32(<i32>(<u32>a >>> 31)); put32(<i32>(<u32>a >>> 32));
    put32(rotl<i32>(a, 1)); put32(rotl<i32>(a, 31)); put32(rotr<i32>(a, 7)); put32(rotr<i32>(a, 32)); put32(rotl<i32>(a, -1));
    put32(a & 0x7ff); put32(a & 0x800); put32(a | -2048); put32(a ^ 0x12345);
  }
  for (let i = 0; i < V64.length; i++) {
    const a = unchecked(V64[i]);
    put(clz<i64>(a));
    put(ctz<i64>(a));
    put(popcnt<i64>(a));
    put(~a);
    for (let j = 0; j < V64.length; j++) {
      const b = unchecked(V64[j]);
      put(a << b);
      put(a >> b);
      put(<i64>(<u64>a >>> b));
      put(rotl<i64>(a, b));
      put(rotr<i64>(a, b));
      put(a & b);
      put(a | b);
      put(a ^ b);
    }
    put(a << 1); put(a << 63); put(a << 64); put(a << 65);
    put(a >> 1); put(a >> 63); put(a >> 64); put(a >> 100);
    put(<i64>(<u64>a >>> 1)); put(<i64>(<u64>a >>> 63)); put(<i64>(<u64>a >>> 64));
    put(rotl<i64>(a, 1)); put(rotl<i64>(a, 63)); put(rotr<i64>(a, 13)); put(rotr<i64>(a, 64)); put(rotl<i64>(a, -1));
    put(a & 0x7ff); put(a & 0xffffffff); put(a | -2048); put(a ^ 0x123456789);
  }
  return result();
}

// Powers of two and their neighbours through clz/ctz/popcnt.
export function powers(): i64 {
  let s: i64 = 0;
  for (let k = 0; k < 64; k++) {
    const p: i64 = <i64>1 << <i64>k;
    put(clz<i64>(p)); put(ctz<i64>(p)); put(popcnt<i64>(p - 1)); put(clz<i64>(p - 1)); put(ctz<i64>(p + p));
    if (k < 32) {
      const q: i32 = 1 << k;
      put32(clz<i32>(q)); put32(ctz<i32>(q)); put32(popcnt<i32>(q - 1)); put32(clz<i32>(q | 1)); put32(ctz<i32>(q + q));
    }
    s += p;
  }
  put(s);
  return result();
}
