// Benchmark + corpus: FNV-1a (32-bit), CRC-32 (table) and a 64-bit mix over a static buffer.
const LEN: usize = 16384;
const BUF: usize = memory.data(<i32>LEN, 16);
const CRC: usize = memory.data(256 * 4, 16);

export function main(): i64 {
  let x: u64 = 0x9e3779b97f4a7c15;
  for (let i: usize = 0; i < LEN; i += 8) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    store<u64>(BUF + i, x);
  }
  for (let i: u32 = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320 & (0 - (c & 1)));
    store<u32>(CRC + (<usize>i << 2), c);
  }
  let fnv: u32 = 0x811c9dc5;
  let crc: u32 = 0xffffffff;
  let mix: u64 = 0;
  for (let i: usize = 0; i < LEN; i++) {
    const b = <u32>load<u8>(BUF + i);
    fnv = (fnv ^ b) * 0x01000193;
    crc = load<u32>(CRC + (<usize>((crc ^ b) & 0xff) << 2)) ^ (crc >> 8);
  }
  for (let i: usize = 0; i < LEN; i += 8) {
    mix = (mix ^ load<u64>(BUF + i)) * 0xff51afd7ed558ccd;
    mix ^= mix >> 33;
  }
  return (<i64>fnv << 32) ^ <i64>(~crc) ^ <i64>mix;
}
