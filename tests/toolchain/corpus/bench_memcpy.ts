// Benchmark + corpus: memory.copy of many sizes and alignments, plus a byte-loop copy.
const LEN: usize = 8192;
const SRC: usize = memory.data(<i32>LEN, 16);
const DST: usize = memory.data(<i32>LEN, 16);

export function main(): i64 {
  for (let i: usize = 0; i < LEN; i++) store<u8>(SRC + i, <u8>(i * 7 + (i >> 8)));
  let h: i64 = 0;
  for (let round = 0; round < 8; round++) {
    for (let n: usize = 1; n < 4096; n = n * 3 + 1) {
      for (let a: usize = 0; a < 4; a++) {
        memory.copy(DST + a, SRC + (a * 3), n);
        h = h * 31 + <i64>load<u8>(DST + a + n - 1);
      }
    }
    // a hand-written byte loop
    for (let i: usize = 0; i < 2048; i++) store<u8>(DST + 4096 + i, load<u8>(SRC + 1 + i));
    h ^= load<i64>(DST + 4096 + 8 * <usize>round);
  }
  return h;
}
