// i32 arithmetic over every pair of edge values; division traps as exports.
import { put32, result } from './lib/check';
import { V32, pick32 } from './lib/values';

export function main(): i64 {
  const n = V32.length;
  for (let i = 0; i < n; i++) {
    const a = unchecked(V32[i]);
    for (let j = 0; j < n; j++) {
      const b = unchecked(V32[j]);
      put32(a + b);
      put32(a - b);
      put32(a * b);
      if (b != 0) {
        put32(<i32>(<u32>a / <u32>b));
        put32(<i32>(<u32>a % <u32>b));
        put32(a % b); // INT_MIN % -1 == 0, no trap
        if (a != i32.MIN_VALUE || b != -1) put32(a / b);
      }
      // immediates: the translator may fold small constants into addi/andi/...
      put32(a + 2047);
      put32(a - 2048);
      put32(a * 3);
      put32(a / 4);
      put32(a % 8);
      put32(<i32>(<u32>a / 16));
      put32(<i32>(<u32>a % 4096));
      if (a != i32.MIN_VALUE) put32(a / -1);
    }
  }
  return result();
}

export function div_s_overflow(): i32 {
  return pick32(i32.MIN_VALUE) / pick32(-1);
}
export function div_s_by_zero(): i32 {
  return pick32(7) / pick32(0);
}
export function div_u_by_zero(): i32 {
  return <i32>(<u32>pick32(7) / <u32>pick32(0));
}
export function rem_s_by_zero(): i32 {
  return pick32(7) % pick32(0);
}
export function rem_u_by_zero(): i32 {
  return <i32>(<u32>pick32(-1) % <u32>pick32(0));
}
export function rem_s_min_neg1(): i32 {
  return pick32(i32.MIN_VALUE) % pick32(-1);
}
