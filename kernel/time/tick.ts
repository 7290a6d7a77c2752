/**
 * The periodic tick (Linux kernel/time/tick-common.c in periodic mode, and
 * jiffies): every online CPU programs its next timer interrupt through SBI
 * set_timer, HZ times a second of machine time; CPU 0 keeps jiffies.
 *
 *   jiffies_64 = (time − time_at_boot) / tick_period, recomputed by the
 *   timekeeping CPU at each of its ticks, so a tick lost while interrupts
 *   were off is caught up rather than skipped.
 *
 * A CPU whose deadline has already passed (it had interrupts off for longer
 * than a tick) is re-armed one period from now, never in the past, so a
 * stalled CPU does not take a storm of ticks.
 *
 * jiffies_64 is a u64 in memory (the host reads it, AMO-free: one writer).
 * Context of tick_handle: the timer interrupt. Readers: any context.
 */
import { csrr_time, csrs_sie, wfi } from "../arch/riscv";
import { SIE_STIE } from "../arch/csr";
import { sbi_set_timer } from "../arch/sbi";
import { this_cpu } from "../cpu";
import { timebase_freq } from "./clock";
import { irqs_disabled } from "../arch/irqflags";

/** Ticks per second (Linux riscv's default CONFIG_HZ). */
export const HZ: u32 = 250;

export const jiffies_64: usize = memory.data(8, 8);
/** time value per tick. */
export let tick_period: u64 = 40000;
let time_at_boot: u64 = 0;
/** The CPU that advances jiffies. */
export const tick_do_timer_cpu: i32 = 0;

/** Hook run on every tick of every CPU (the scheduler's scheduler_tick). */
let tick_hook: usize = 0;
export function set_tick_hook(fn: () => void): void { tick_hook = changetype<usize>(fn); }

/** Fix the period from the timebase. Context: boot CPU, before any tick. */
export function tick_init(): void {
  tick_period = timebase_freq / <u64>HZ;
  if (tick_period == 0) tick_period = 1;
  time_at_boot = csrr_time();
  atomic.store<u64>(jiffies_64, 0);
}

/** Start this CPU's tick. Context: the CPU itself, interrupts off. */
export function tick_setup_cpu(): void {
  const c = this_cpu();
  c.next_tick = csrr_time() + tick_period;
  sbi_set_timer(c.next_tick);
  csrs_sie(SIE_STIE);
}

/** The supervisor timer interrupt. */
export function tick_handle(): void {
  const c = this_cpu();
  const now = csrr_time();
  c.next_tick += tick_period;
  if (c.next_tick <= now) c.next_tick = now + tick_period;
  sbi_set_timer(c.next_tick);
  c.ticks++;
  c.irq_timer++;
  if (c.cpu == tick_do_timer_cpu) {
    const j = (now - time_at_boot) / tick_period;
    if (j > atomic.load<u64>(jiffies_64)) atomic.store<u64>(jiffies_64, j);
  }
  if (tick_hook != 0) changetype<() => void>(tick_hook)();
}

/** jiffies since boot. Context: any. */
export function get_jiffies_64(): u64 {
  return atomic.load<u64>(jiffies_64);
}

/** Linux's time_after(a, b): a is later than b (wrap-safe). */
// @ts-ignore: decorator
@inline export function time_after(a: u64, b: u64): bool { return <i64>(b - a) < 0; }

export function msecs_to_jiffies(ms: u64): u64 { return (ms * <u64>HZ + 999) / 1000; }
export function jiffies_to_msecs(j: u64): u64 { return j * 1000 / <u64>HZ; }

/**
 * Wait until `n` more jiffies have passed, idling in WFI. Context: process
 * context with interrupts on (returns at once, after busy-waiting on the
 * clock, when they are off: jiffies would not move). Does not sleep in the
 * scheduler's sense: the CPU just waits.
 */
export function jiffies_delay(n: u64): void {
  const end = get_jiffies_64() + n;
  if (irqs_disabled()) {
    const t_end = csrr_time() + n * tick_period;
    while (csrr_time() < t_end) { /* spin */ }
    return;
  }
  while (time_after(end, get_jiffies_64())) wfi();
}
