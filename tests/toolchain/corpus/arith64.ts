// i64 arithmetic over every pair of edge values; division traps as exports.
import { put, result } from './lib/check';
import { V64, pick64 } from './lib/values';

export function main(): i64 {
  const n = V64.length;
  for (let i = 0; i < n; i++) {
    const a = unchecked(V64[i]);
    for (let j = 0; j < n; j++) {
      const b = unchecked(V64[j]);
      put(a + b);
      put(a - b);
      put(a * b);
      if (b != 0) {
        put(<i64>(<u64>a / <u64>b));
        put(<i64>(<u64>a % <u64>b));
        put(a % b); // INT_MIN % -1 == 0, no trap
        if (a != i64.MIN_VALUE || b != -1) put(a / b);
      }
      // immediates: the translator may fold small constants into addi/andi/...
      put(a + 2047);
      put(a - 2048);
      put(a * 3);
      put(a / 4);
      put(a % 8);
      put(<i64>(<u64>a / 16));
      put(<i64>(<u64>a % 4096));
      if (a != i64.MIN_VALUE) put(a / -1);
      put(a + 0x7ffff800);
      put(a * 0x100000001);
    }
  }
  return result();
}

export function div_s_overflow(): i64 {
  return pick64(i64.MIN_VALUE) / pick64(-1);
}
export function div_s_by_zero(): i64 {
  return pick64(7) / pick64(0);
}
export function div_u_by_zero(): i64 {
  return <i64>(<u64>pick64(7) / <u64>pick64(0));
}
export function rem_s_by_zero(): i64 {
  return pick64(7) % pick64(0);
}
export function rem_u_by_zero(): i64 {
  return <i64>(<u64>pick64(-1) % <u64>pick64(0));
}
export function rem_s_min_neg1(): i64 {
  return pick64(i64.MIN_VALUE) % pick64(-1);
}
