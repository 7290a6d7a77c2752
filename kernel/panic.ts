/**
 * panic (Linux kernel/panic.c): the kernel cannot go on.
 *
 *   Kernel panic - not syncing: <message>
 *   CPU: … / Call Trace: …           (unless an oops already printed them)
 *   ---[ end Kernel panic - not syncing: <message> ]---
 *
 * then the other CPUs are stopped (IPI_CPU_STOP) and the machine powers off
 * through SBI SRST with reason "system failure", a non-zero exit code. Only
 * the first CPU to panic reports; a CPU that panics while another one does
 * halts quietly; a panic during the panic powers off at once.
 *
 * Context: any. Never returns.
 */
import { vsnprintf } from "./lib/vsprintf";
import { pr_emerg, pr_warn, printk_bust_locks, oops_in_progress, set_console_loglevel } from "./printk";
import { local_irq_disable } from "./arch/irqflags";
import { smp_processor_id } from "./cpu";
import { smp_send_stop } from "./smp";
import { dump_stack } from "./arch/traps";
import { machine_power_off, machine_halt } from "./reboot";
import { preempt_count_add, PREEMPT_OFFSET } from "./preempt";

/** CPU that is panicking, -1 = none (atomic). */
const panic_cpu: usize = memory.data(4, 4);
const panic_buf: usize = memory.data(256, 8);
/** Set once a panic has started (for tests and the host). */
export let panic_in_progress: bool = false;

/** Panic with a formatted message. Never returns. */
export function panic(fmt: string, a0: u64 = 0, a1: u64 = 0, a2: u64 = 0, a3: u64 = 0): void {
  local_irq_disable();
  preempt_count_add(PREEMPT_OFFSET);
  const me = smp_processor_id();
  const old = atomic.cmpxchg<i32>(panic_cpu, 0, me + 1);
  if (old != 0 && old != me + 1) machine_halt(); // another CPU reports
  if (old == me + 1) {
    pr_emerg("Kernel panic during panic on CPU %d\n", me);
    machine_power_off(true);
  }
  panic_in_progress = true;
  set_console_loglevel(15);
  vsnprintf(panic_buf, 256, fmt, a0, a1, a2, a3);
  pr_emerg("Kernel panic - not syncing: %pz\n", panic_buf);
  if (oops_in_progress == 0) dump_stack();
  smp_send_stop();
  printk_bust_locks();
  pr_emerg("---[ end Kernel panic - not syncing: %pz ]---\n", panic_buf);
  machine_power_off(true);
}

/**
 * BUG(): a condition the code cannot survive. Prints "kernel BUG: <what>"
 * and panics. Context: any. Never returns.
 */
export function BUG(what: string): void {
  pr_emerg("kernel BUG: %s\n", changetype<usize>(what));
  panic("BUG: %s", changetype<usize>(what));
}

/**
 * WARN_ON(cond): when `cond` holds, print a warning with the call chain and
 * go on. Returns cond. Context: any.
 */
export function WARN_ON(cond: bool, what: string = ""): bool {
  if (cond) {
    pr_warn("------------[ cut here ]------------\n");
    pr_warn("WARNING: CPU: %d: %s\n", smp_processor_id(), changetype<usize>(what));
    dump_stack();
    pr_warn("---[ end trace 0000000000000000 ]---\n");
  }
  return cond;
}
