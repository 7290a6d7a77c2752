// Every load and store width and sign, static offsets (small, 12-bit edge, large),
// unaligned addresses.
import { put, put32, result } from './lib/check';
import { V64 } from './lib/values';

const BUF: usize = memory.data(8192, 16);

function fill(seed: i64): void {
  let x = seed;
  for (let i: usize = 0; i < 8192; i += 8) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    store<i64>(BUF + i, x);
  }
}

export function main(): i64 {
  fill(0x9e3779b97f4a7c15);
  // Loads at every alignment.
  for (let k: usize = 0; k < 24; k++) {
    const p = BUF + 100 + k;
    // i32 loads, mixed in i32 arithmetic so that the optimizer keeps them 32-bit
    let h: i32 = <i32>k;
    h = h * 31 + load<i8>(p);    // i32.load8_s
    h = h * 31 + load<u8>(p);    // i32.load8_u
    h = h * 31 + load<i16>(p);   // i32.load16_s
    h = h * 31 + load<u16>(p);   // i32.load16_u
    h = h * 31 + load<i32>(p);   // i32.load
    put32(h);
    put(load<i64>(p));           // i64.load
    put(<i64>load<i8>(p));       // i64.load8_s
    put(<i64>load<u8>(p));       // i64.load8_u
    put(<i64>load<i16>(p));      // i64.load16_s
    put(<i64>load<u16>(p));      // i64.load16_u
    put(<i64>load<i32>(p));      // i64.load32_s
    put(<i64>load<u32>(p));      // i64.load32_u
    // static offsets: 12-bit immediate edges and beyond
    put32(load<i32>(p, 2044) ^ h);
    put32(load<u16>(p, 2047) ^ h);
    put(load<i64>(p, 2048));
    put(<i64>load<i32>(p, 4000));
    put32(load<i8>(p, 6000) * h);
  }
  // Stores of every width, aligned and not, then read back wider.
  for (let k: usize = 0; k < 16; k++) {
    const v = unchecked(V64[<i32>k]);
    const v32 = <i32>v * 0x01000193 + <i32>k; // an i32 value, so the stores stay i32
    const p = BUF + 3000 + k * 17;
    store<i8>(p, v32);                // i32.store8
    store<i16>(p + 1, v32);           // i32.store16 (unaligned half the time)
    store<i32>(p + 3, v32);           // i32.store
    store<i64>(p + 7, v, 0);          // i64.store
    store<i8>(p + 15, v);             // i64.store8
    store<i16>(p + 16, v, 1);         // i64.store16 with offset
    store<i32>(p + 18, v, 2047);      // i64.store32 with a 12-bit-edge offset
    put(load<i64>(p));
    put(load<i64>(p + 8));
    put(load<i64>(p + 16));
    put(load<i64>(p + 18 + 2047 - 4));
  }
  // Negative-looking addresses: wasm addresses above 0x8000_0000 are zero-extended in M-mode.
  const hi = BUF + 5000;
  store<i64>(hi, 0x1122334455667788);
  put(<i64>load<u32>(hi + 4));
  put(<i64>load<i32>(hi + 4));
  return result();
}

// A load through a computed pointer with the address's top bit set.
export function pointer_math(): i64 {
  fill(12345);
  let acc: i64 = 0;
  for (let i = 0; i < 1000; i++) {
    const off = <usize>((i * 7919) & 8183);
    acc = acc * 31 + <i64>load<u8>(BUF + off) + (<i64>load<i16>(BUF + (off & ~1)) << 8);
    store<u8>(BUF + ((off * 3) & 8191), <u8>acc);
  }
  put(acc);
  return result();
}
