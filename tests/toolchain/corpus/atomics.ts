// Atomics: load/store, add/sub/and/or/xor/xchg/cmpxchg in 8, 16, 32 and 64 bits.
import { put, put32, result } from './lib/check';
import { V32, V64 } from './lib/values';

const CELLS: usize = memory.data(256, 16);

export function main(): i64 {
  for (let i = 0; i < V32.length; i++) {
    const v = unchecked(V32[i]);
    const w = unchecked(V64[i]);
    const p32 = CELLS + 16;
    const p64 = CELLS + 64;
    atomic.store<i32>(p32, 0x01020304 * (i + 1));
    put32(atomic.add<i32>(p32, v));
    put32(atomic.sub<i32>(p32, v >> 1));
    put32(atomic.and<i32>(p32, v | 0xf0));
    put32(atomic.or<i32>(p32, v & 0x0f0f));
    put32(atomic.xor<i32>(p32, v));
    put32(atomic.xchg<i32>(p32, ~v));
    put32(atomic.cmpxchg<i32>(p32, ~v, v));      // succeeds
    put32(atomic.cmpxchg<i32>(p32, ~v, 12345));  // fails
    put32(atomic.load<i32>(p32));

    atomic.store<i64>(p64, w);
    put(atomic.add<i64>(p64, w));
    put(atomic.sub<i64>(p64, 0x100000001));
    put(atomic.and<i64>(p64, w ^ 0xff00ff00ff00ff));
    put(atomic.or<i64>(p64, w >> 3));
    put(atomic.xor<i64>(p64, -1));
    put(atomic.xchg<i64>(p64, w));
    put(atomic.cmpxchg<i64>(p64, w, w + 1));
    put(atomic.cmpxchg<i64>(p64, w, 0));
    put(atomic.load<i64>(p64));

    // narrow ones: the neighbours of the cell must not change
    const p8 = CELLS + 128 + <usize>(i & 7);
    const p16 = CELLS + 160 + <usize>((i & 3) << 1);
    put32(atomic.add<u8>(p8, <u8>v));
    put32(atomic.sub<u8>(p8, 1));
    put32(atomic.and<u8>(p8, 0x7e));
    put32(atomic.or<u8>(p8, 0x81));
    put32(atomic.xor<u8>(p8, <u8>(v >> 8)));
    put32(atomic.xchg<u8>(p8, <u8>(v >> 4)));
    put32(atomic.cmpxchg<u8>(p8, <u8>(v >> 4), 0xfe));
    put32(atomic.load<u8>(p8));
    atomic.store<u8>(p8 + 8, <u8>v);
    put32(atomic.add<u16>(p16, <u16>v));
    put32(atomic.sub<u16>(p16, 0x8001));
    put32(atomic.and<u16>(p16, 0xfff0));
    put32(atomic.or<u16>(p16, 0x8000));
    put32(atomic.xor<u16>(p16, <u16>w));
    put32(atomic.xchg<u16>(p16, 0xffff));
    put32(atomic.cmpxchg<u16>(p16, 0xffff, <u16>v));
    put32(atomic.cmpxchg<u16>(p16, 0x1234, 0));
    put32(atomic.load<u16>(p16));
    atomic.store<u16>(p16 + 16, <u16>v);
    // atomic.fence() is not used here: asc 0.28 emits a fence binaryen's validator rejects (see fence.wat)
    put(load<i64>(CELLS + 128));
    put(load<i64>(CELLS + 160));
    put(load<i64>(CELLS + 168));
  }
  return result();
}

// i64 narrow atomics (i64.atomic.rmw8/16/32.*_u) come from the i64 forms with narrow types.
export function narrow64(): i64 {
  const p = CELLS + 192;
  for (let i = 0; i < V64.length; i++) {
    const w = unchecked(V64[i]);
    store<i64>(p, 0x8899aabbccddeeff);
    put(<i64>atomic.add<u32>(p, <u32>w));
    put(<i64>atomic.xchg<u16>(p + 4, <u16>w));
    put(<i64>atomic.cmpxchg<u8>(p + 6, 0x88, <u8>w));
    put(<i64>atomic.load<u32>(p + 4));
    put(load<i64>(p));
  }
  return result();
}
