/**
 * preempt_count: Linux's per-CPU counter of the reasons the running code may
 * not be preempted or sleep (include/linux/preempt.h), same bit layout:
 *
 *   bits 0-7   PREEMPT   preempt_disable() nesting (spinlocks, get_cpu)
 *   bits 8-15  SOFTIRQ   (unused so far)
 *   bits 16-19 HARDIRQ   interrupt handler nesting (irq_enter / irq_exit)
 *
 * The count lives in this CPU's cpu_hot block; only its own CPU touches it.
 * Context of every function: any.
 */
import { this_cpu } from "./cpu";
import { irqs_disabled } from "./arch/irqflags";

export const PREEMPT_OFFSET: u32 = 1;
export const SOFTIRQ_OFFSET: u32 = 1 << 8;
export const HARDIRQ_OFFSET: u32 = 1 << 16;
export const PREEMPT_MASK: u32 = 0xff;
export const SOFTIRQ_MASK: u32 = 0xff00;
export const HARDIRQ_MASK: u32 = 0xf0000;

// @ts-ignore: decorator
@inline export function preempt_count(): u32 { return this_cpu().preempt_count; }
// @ts-ignore: decorator
@inline export function preempt_count_add(v: u32): void { const c = this_cpu(); c.preempt_count += v; }
// @ts-ignore: decorator
@inline export function preempt_count_sub(v: u32): void { const c = this_cpu(); c.preempt_count -= v; }

// @ts-ignore: decorator
@inline export function preempt_disable(): void { preempt_count_add(PREEMPT_OFFSET); }
// @ts-ignore: decorator
@inline export function preempt_enable_no_resched(): void { preempt_count_sub(PREEMPT_OFFSET); }

/** Hook the scheduler installs: called when preemption is re-enabled with need_resched set. */
let preempt_schedule_hook: usize = 0;
export function set_preempt_schedule_hook(fn: () => void): void {
  preempt_schedule_hook = changetype<usize>(fn);
}

/** Re-enable preemption; reschedule now if the tick asked for it and nothing else forbids. */
export function preempt_enable(): void {
  const c = this_cpu();
  c.preempt_count -= PREEMPT_OFFSET;
  if (c.preempt_count == 0 && c.need_resched != 0 && preempt_schedule_hook != 0 && !irqs_disabled()) {
    changetype<() => void>(preempt_schedule_hook)();
  }
}

/** Disable preemption and return this CPU's number (Linux get_cpu). Pair with put_cpu. */
export function get_cpu(): i32 {
  preempt_disable();
  return this_cpu().cpu;
}

/** End of a get_cpu section. */
export function put_cpu(): void {
  preempt_enable();
}

// @ts-ignore: decorator
@inline export function in_hardirq(): bool { return (preempt_count() & HARDIRQ_MASK) != 0; }
// @ts-ignore: decorator
@inline export function in_interrupt(): bool { return (preempt_count() & (HARDIRQ_MASK | SOFTIRQ_MASK)) != 0; }
/** Atomic context: sleeping is forbidden (preemption off, in an interrupt, or interrupts off). */
// @ts-ignore: decorator
@inline export function in_atomic(): bool { return preempt_count() != 0 || irqs_disabled(); }
