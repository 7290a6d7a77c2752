// Static data: StaticArrays of every element width and string literals in data segments.
import { put, put32, result } from './lib/check';

const BYTES: StaticArray<u8> = [0, 1, 2, 0x7f, 0x80, 0xfe, 0xff, 42];
const SBYTES: StaticArray<i8> = [0, 1, -1, 127, -128, -2, 42, -42];
const HALVES: StaticArray<i16> = [0, 1, -1, 32767, -32768, 12345, -12345, 256];
const UHALVES: StaticArray<u16> = [0, 1, 0xffff, 0x8000, 0x7fff, 12345, 54321, 256];
const WORDS: StaticArray<u32> = [0, 1, 0xffffffff, 0x80000000, 0x7fffffff, 0xdeadbeef, 0x12345678, 65536];
const DWORDS: StaticArray<i64> = [0, 1, -1, 0x7fffffffffffffff, <i64>0x8000000000000000, 0x0123456789abcdef, -42, 1 << 40];

const GREETING = 'Hello, kmemlab! ✓ π';
const LONG = 'The quick brown fox jumps over the lazy dog, 0123456789 times; the translator copies this verbatim.';

function fnv(s: string): u32 {
  let h: u32 = 0x811c9dc5;
  const p = changetype<usize>(s);
  const n = <usize>s.length << 1;
  for (let i: usize = 0; i < n; i++) {
    h ^= <u32>load<u8>(p + i);
    h *= 0x01000193;
  }
  return h;
}

export function main(): i64 {
  for (let i = 0; i < 8; i++) {
    put32(<i32>unchecked(BYTES[i]));
    put32(<i32>unchecked(SBYTES[i]));
    put32(<i32>unchecked(HALVES[i]));
    put32(<i32>unchecked(UHALVES[i]));
    put(<i64>unchecked(WORDS[i]));
    put(unchecked(DWORDS[i]));
  }
  put32(GREETING.length);
  put(<i64>fnv(GREETING));
  put(<i64>fnv(LONG));
  put32(<i32>load<u16>(changetype<usize>(GREETING) + 34)); // a UTF-16 code unit
  return result();
}
