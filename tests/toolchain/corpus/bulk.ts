// memory.copy with overlaps in both directions, memory.fill, at every alignment and many sizes.
import { put, result } from './lib/check';

const BUF: usize = memory.data(4096, 16);

function init(): void {
  for (let i: usize = 0; i < 4096; i += 4) store<u32>(BUF + i, <u32>(i * 0x01010101) ^ 0xa5c3e1f7);
}

function sum(from: usize, n: usize): i64 {
  let h: i64 = 0;
  for (let i: usize = 0; i < n; i++) h = h * 131 + <i64>load<u8>(BUF + from + i);
  return h;
}

const SIZES: StaticArray<i32> = [0, 1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 255, 256, 257, 1000];

export function main(): i64 {
  init();
  for (let s = 0; s < SIZES.length; s++) {
    const n = <usize>unchecked(SIZES[s]);
    for (let a: usize = 0; a < 8; a++) {
      for (let b: usize = 0; b < 8; b += 3) {
        // disjoint
        memory.copy(BUF + 2048 + a, BUF + 64 + b, n);
        put(sum(2048, 1100));
        // overlapping, dst above src (copies backwards)
        memory.copy(BUF + 300 + a + 5, BUF + 300 + b, n);
        // overlapping, dst below src (copies forwards)
        memory.copy(BUF + 1400 + b, BUF + 1400 + a + 9, n);
        put(sum(280, 1400));
        // same address
        memory.copy(BUF + 40 + a, BUF + 40 + a, n);
        memory.fill(BUF + 3000 + a, <u8>(n + a * 17 + b), n);
        put(sum(2990, 1100));
      }
    }
  }
  // fill with a value wider than a byte: only the low byte counts
  memory.fill(BUF + 1, <u8>0x1ff, 77);
  put(sum(0, 100));
  return result();
}

// A zero-length copy or fill does nothing, even at the end of the buffer.
export function zero_length(): i64 {
  init();
  memory.copy(BUF + 4096, BUF, 0);
  memory.fill(BUF + 4096, 0xff, 0);
  put(sum(0, 4096));
  return result();
}
