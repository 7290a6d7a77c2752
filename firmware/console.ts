/**
 * The console: the ns16550a UART of the `virt` board, polled (the firmware
 * never takes its interrupt), and the firmware's own printing.
 *
 * The UART needs no setup on QEMU or kmemlab (both come out of reset ready
 * for 8N1 output), so the firmware leaves its registers alone and the kernel
 * finds them as the board made them.
 *
 * Lines the firmware prints itself (banner, fatal traps) hold `console_lock`
 * so that harts do not interleave them; DBCN console_write holds it for the
 * whole buffer for the same reason. Single bytes (legacy putchar,
 * console_write_byte) are written without it, as OpenSBI does.
 */

import { UART0_BASE } from "./platform";

// 16550 registers (byte offsets) and line status bits (PC16550D datasheet).
const UART_RBR: u32 = 0; // receive buffer (read)
const UART_THR: u32 = 0; // transmit holding (write)
const UART_LSR: u32 = 5; // line status
const UART_LSR_DR: u8 = 0x01; // data ready
const UART_LSR_THRE: u8 = 0x20; // transmit holding register empty

const console_lock: usize = memory.data(8, 8);

export function console_lock_acquire(): void {
  while (atomic.cmpxchg<i32>(console_lock, 0, 1) != 0) {
    // spin: the holder prints a line at most
  }
}

export function console_lock_release(): void {
  atomic.store<i32>(console_lock, 0);
}

/** Write one byte, waiting until the transmitter can take it. */
export function console_putc(c: u32): void {
  while ((load<u8>(UART0_BASE + UART_LSR) & UART_LSR_THRE) == 0) {
    // wait for room
  }
  store<u8>(UART0_BASE + UART_THR, <u8>c);
}

/** Read one byte if one has arrived: 0..255, or -1 when there is none. */
export function console_getc(): i32 {
  if ((load<u8>(UART0_BASE + UART_LSR) & UART_LSR_DR) == 0) return -1;
  return <i32>load<u8>(UART0_BASE + UART_RBR);
}

/** Print a string literal (ASCII). */
export function print(s: string): void {
  const n = s.length;
  for (let i = 0; i < n; i++) console_putc(<u32>s.charCodeAt(i));
}

/** Print `v` in hex with a 0x prefix and no leading zeros. */
export function print_hex(v: u64): void {
  console_putc(0x30); // '0'
  console_putc(0x78); // 'x'
  let shift: i32 = 60;
  while (shift > 0 && ((v >> <u64>shift) & 0xf) == 0) shift -= 4;
  for (; shift >= 0; shift -= 4) {
    const d = <u32>((v >> <u64>shift) & 0xf);
    console_putc(d < 10 ? 0x30 + d : 0x61 + d - 10);
  }
}

/** Print `v` in decimal. */
export function print_dec(v: u64): void {
  let div: u64 = 1;
  while (v / div >= 10) div *= 10;
  for (; div > 0; div /= 10) console_putc(<u32>((v / div) % 10) + 0x30);
}
