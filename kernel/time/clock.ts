/**
 * The clock source: the `time` CSR, which counts at the timebase frequency
 * the device tree gives in /cpus/timebase-frequency (10 MHz on QEMU virt and
 * kmemlab). On kmemlab, time follows executed instructions, so every duration
 * below is reproducible. Context of every function: any.
 */
import { csrr_time } from "../arch/riscv";

/** Ticks of `time` per second; set from the device tree by time_init_fdt. */
export let timebase_freq: u64 = 10_000_000;

export function set_timebase_freq(hz: u64): void {
  if (hz != 0) timebase_freq = hz;
}

/** The raw counter (rdtime). */
// @ts-ignore: decorator
@inline export function get_cycles(): u64 {
  return csrr_time();
}

/** Nanoseconds since reset. */
export function local_clock(): u64 {
  const t = csrr_time();
  // t * 1e9 / f without overflow for any realistic uptime.
  const sec = t / timebase_freq;
  const rem = t % timebase_freq;
  return sec * 1_000_000_000 + rem * 1_000_000_000 / timebase_freq;
}

/** Busy-wait `us` microseconds. Context: any; does not sleep. */
export function udelay(us: u64): void {
  const end = csrr_time() + us * timebase_freq / 1_000_000;
  while (csrr_time() < end) { /* spin */ }
}

/** Busy-wait `ms` milliseconds. Context: any; does not sleep. */
export function mdelay(ms: u64): void {
  udelay(ms * 1000);
}
