// @ts-nocheck: AssemblyScript, compiled by asc (not by tsc)
/**
 * A minimal kernel for the toolchain tests (build.test.ts copies it to
 * kernel/main.ts of a temporary tree; the interop test runs it on QEMU under
 * OpenSBI and under firmware_min.ts). It is the placeholder kernel/main.ts of
 * issue 3, kept here so that the tests do not depend on the real kernel.
 *
 * The toolchain's entry stub (toolchain/stubs/kernel.ts) has already turned
 * Sv39 on and moved to 0xFFFF_FFFF_8020_0000 when kernel_main runs; this
 * prints one line through the legacy SBI console and returns 0, and the stub
 * shuts the machine down through SBI SRST.
 */

@external("riscv", "ecall")
declare function ecall(a0: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64, a6: u64, a7: u64): u64;

const SBI_EXT_0_1_CONSOLE_PUTCHAR: u64 = 0x01;
const SBI_EXT_SRST: u64 = 0x5352_5354;
const FRAME_CAUSE: usize = 272;

function putc(c: u32): void {
  ecall(c, 0, 0, 0, 0, 0, 0, SBI_EXT_0_1_CONSOLE_PUTCHAR);
}

function puts(s: string): void {
  for (let i = 0; i < s.length; i++) putc(s.charCodeAt(i));
}

function puthex(v: u64): void {
  puts("0x");
  for (let shift: i32 = 60; shift >= 0; shift -= 4) {
    const d = <u32>((v >> <u64>shift) & 0xf);
    putc(d < 10 ? 0x30 + d : 0x57 + d);
  }
}

export function kernel_main(hartid: u32, dtb: usize): i32 {
  puts("kmemlab kernel (placeholder): hart ");
  putc(0x30 + hartid % 10);
  puts(", device tree at ");
  puthex(<u64>dtb);
  puts("\n");
  return 0;
}

export function kernel_trap(frame: usize): void {
  puts("kmemlab kernel (placeholder): unexpected trap, scause ");
  puthex(load<u64>(frame + FRAME_CAUSE));
  puts("\n");
  ecall(0, 1, 0, 0, 0, 0, 0, SBI_EXT_SRST); // shutdown, reason: system failure
}
