// Edge values, read from memory at run time so that the optimizer cannot fold
// the operations that use them.

export const V32: StaticArray<i32> = [
  0, 1, -1, 2, -2, 3, 7, -7, 8, 15, 16, 31, 32, 33, 63, 64, 65,
  0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000,
  2047, 2048, -2048, -2049, 4095, 4096,
  0x7fffffff, <i32>0x80000000, <i32>0x80000001, <i32>0xfffffffe,
  0x12345678, <i32>0xdeadbeef, 0x55555555, <i32>0xaaaaaaaa, <i32>0x80000800, 0x7ffff800,
];

export const V64: StaticArray<i64> = [
  0, 1, -1, 2, -2, 7, -7, 31, 32, 33, 63, 64, 65, 0x7f, 0x80, 0xff, 0xffff, 0x8000,
  2047, 2048, -2048, -2049,
  0x7fffffff, 0x80000000, 0xffffffff, 0x100000000, 0x100000001, -0x80000000, -0x80000001, 0xffffffff80000000,
  0x7fffffffffffffff, <i64>0x8000000000000000, <i64>0x8000000000000001, <i64>0xfffffffffffffffe,
  0x0123456789abcdef, <i64>0xfedcba9876543210, 0x5555555555555555, <i64>0xaaaaaaaaaaaaaaaa,
  <i64>0x8000000000000800, 0x7ffffffffffff800, 0x00000000deadbeef, <i64>0xdeadbeef00000000,
];

/** Index of a value in V32 / V64, found at run time (so `pick32(-1)` is not a constant). */
export function pick32(v: i32): i32 {
  for (let i = 0; i < V32.length; i++) if (unchecked(V32[i]) == v) return unchecked(V32[i]);
  return 0x5a5a5a5a;
}

export function pick64(v: i64): i64 {
  for (let i = 0; i < V64.length; i++) if (unchecked(V64[i]) == v) return unchecked(V64[i]);
  return 0x5a5a5a5a5a5a5a5a;
}
