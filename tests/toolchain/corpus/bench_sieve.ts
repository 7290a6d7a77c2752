// Benchmark + corpus: sieve of Eratosthenes over a static byte array.
const N: usize = 65536;
const FLAGS: usize = memory.data(<i32>N, 16);

export function main(): i64 {
  let total: i64 = 0;
  for (let round = 0; round < 4; round++) {
    memory.fill(FLAGS, 1, N);
    store<u8>(FLAGS, 0);
    store<u8>(FLAGS + 1, 0);
    for (let i: usize = 2; i * i < N; i++) {
      if (load<u8>(FLAGS + i)) {
        for (let j = i * i; j < N; j += i) store<u8>(FLAGS + j, 0);
      }
    }
    let count: i64 = 0;
    for (let i: usize = 0; i < N; i++) count += <i64>load<u8>(FLAGS + i);
    total = total * 31 + count;
  }
  return total;
}
