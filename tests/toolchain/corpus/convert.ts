// wrap / extend: i64 <-> i32, extend8/16/32_s, extend_i32_u of negative values, narrow casts.
import { put, put32, result } from './lib/check';
import { V32, V64 } from './lib/values';

export function main(): i64 {
  for (let i = 0; i < V32.length; i++) {
    const a = unchecked(V32[i]);
    put(<i64>a);                  // i64.extend_i32_s
    put(<i64><u32>a);             // i64.extend_i32_u
    put32(<i32><i8>a);            // i32.extend8_s
    put32(<i32><i16>a);           // i32.extend16_s
    put32(<i32><u8>a);            // and 0xff
    put32(<i32><u16>a);           // and 0xffff
    put(<i64><i8>a);
    put(<i64><u16>a);
    put(<i64><u32>(a + 1));
    put(<i64>(a * a));
    put((<i64><u32>a) * 3);
  }
  for (let i = 0; i < V64.length; i++) {
    const a = unchecked(V64[i]);
    put32(<i32>a);                // i32.wrap_i64
    put(<i64><i32>a);             // i64.extend32_s (or wrap + extend)
    put(<i64><i8>a);              // i64.extend8_s
    put(<i64><i16>a);             // i64.extend16_s
    put(<i64><u32>a);             // and 0xffffffff
    put(<i64><u8>a);
    put(<i64><u16>a);
    put32(<i32>(a >> 32));
    put32(<i32>(<u64>a >>> 33));
    put(<i64>(<i32>a) << 32);
  }
  return result();
}
