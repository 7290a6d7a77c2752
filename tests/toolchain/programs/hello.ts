// @ts-nocheck: AssemblyScript, compiled by asc (not by tsc)
// A bare-metal AssemblyScript program for the toolchain tests: it prints
// computed values on the UART (ns16550a THR at 0x1000_0000, MMIO, M-mode)
// and returns a checksum that the bare stub stores in __result.
// Built 'bare' (zext addressing, wasm data at 0x8040_0000); the same ELF
// runs on kmemlab and on qemu-system-riscv64 -M virt -bios none.

const UART_THR: usize = 0x1000_0000;
const UART_LSR: usize = 0x1000_0005;

function putc(c: u32): void {
  while ((load<u8>(UART_LSR) & 0x20) == 0) {} // LSR.THRE: room in the transmitter
  store<u8>(UART_THR, <u8>c);
}

function puts(s: string): void {
  for (let i = 0; i < s.length; i++) putc(s.charCodeAt(i));
}

function putdec(v: u64): void {
  if (v >= 10) putdec(v / 10);
  putc(0x30 + <u32>(v % 10));
}

function puthex(v: u64): void {
  puts("0x");
  for (let shift = 60; shift >= 0; shift -= 4) {
    const d = <u32>((v >> <u64>shift) & 0xf);
    putc(d < 10 ? 0x30 + d : 0x61 + d - 10);
  }
}

export function fib(n: i32): i32 {
  if (n < 2) return n;
  return fib(n - 1) + fib(n - 2); // hello.ts: where the line-table test stops the machine
}

// FNV-1a over a table in the static data.
const TABLE: StaticArray<u8> = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3];

export function fnv1a(): u32 {
  let h: u32 = 0x811c9dc5;
  for (let i = 0; i < TABLE.length; i++) {
    h ^= unchecked(TABLE[i]);
    h *= 0x01000193;
  }
  return h;
}

export function mix(x: u64): u64 {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccd;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53;
  return x ^ (x >> 33); // hello.ts: a line the line-table test looks for
}

let counter: i32 = 0;

export function main(): i32 {
  puts("hello from AssemblyScript\n");
  puts("fib(20) = "); putdec(<u64>fib(20)); putc(10);
  puts("fnv1a = "); puthex(<u64>fnv1a()); putc(10);
  puts("mix = "); puthex(mix(0x0123456789abcdef)); putc(10);
  for (let i = 0; i < 10; i++) counter += i;
  puts("counter = "); putdec(<u64>counter); putc(10);
  return fib(10) + counter;
}
