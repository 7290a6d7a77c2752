/**
 * Per-CPU bring-up state ("cpu_hot") and the current CPU's identity.
 *
 * Logical CPU numbers are dense (0 = the boot hart) and differ from hart ids
 * in general (OpenSBI's boot-hart lottery may pick any hart), exactly as in
 * Linux: cpuid_to_hartid_map[] translates.
 *
 * Each CPU owns one cpu_hot block in a static array; `tp` holds the current
 * CPU's per-CPU offset, the distance from CPU 0's block to its own (Linux's
 * __per_cpu_offset[cpu]; x86 and arm64 keep it in a register the same way),
 * so `this_cpu()` is one add. The per-CPU areas of mm/percpu.ts (units of
 * 32 KiB) have their own offsets; each block caches its CPU's in
 * `percpu_offset`, set by setup_per_cpu_areas, so this_cpu_ptr() is one
 * load from this block and an add:
 *
 *   cpu_hot_area ─► ┌────────── CPU 0 ──────────┐  tp = 0
 *                   │ cpu hartid preempt_count │
 *                   │ ipi_pending jiffies_local│
 *                   │ …                        │
 *                   ├────────── CPU 1 ──────────┤  tp = CPU_HOT_STRIDE
 *                   …
 *
 * Fields are written only by their own CPU, except ipi_pending (atomic OR by
 * any CPU, atomic exchange by the owner).
 */
import { tp_read, tp_write } from "./arch/riscv";
import { NR_CPUS } from "./arch/layout";

@unmanaged
export class cpu_hot {
  /** Logical CPU number. */
  cpu: i32;
  /** Hart id (mhartid) of this CPU. */
  hartid: i32;
  /** Linux's preempt_count layout: PREEMPT bits 0-7, SOFTIRQ 8-15, HARDIRQ 16-19. */
  preempt_count: u32;
  /** IPI_* bits other CPUs have raised for this one (atomic). */
  ipi_pending: u32;
  /** Interrupts handled on this CPU, by kind. */
  irq_timer: u64;
  irq_soft: u64;
  irq_ext: u64;
  /** Absolute `time` value of the next tick. */
  next_tick: u64;
  /** Nesting of printk on this CPU (recursion from a trap inside printk). */
  printk_depth: i32;
  /** Set once the CPU has run its bring-up and enabled interrupts. */
  online: i32;
  /** The running task (kernel/sched), 0 before the scheduler starts. */
  current: usize;
  /** The idle task of this CPU. */
  idle: usize;
  /** Set by the tick or a wakeup: reschedule at the next opportunity. */
  need_resched: i32;
  /** What this CPU's next `ebreak` asks of the trap handler (TRAP_REQ_*, arch/traps.ts). */
  trap_request: i32;
  /** Nesting of oops reports on this CPU (a second one is fatal at once). */
  in_oops: i32;
  /** Interrupts that found nothing to do. */
  irq_spurious: u64;
  /** Ticks this CPU has taken. */
  ticks: u64;
  /** This CPU's __per_cpu_offset (mm/percpu.ts; x86's this_cpu_off): this_cpu_ptr(p) = p + it. */
  percpu_offset: usize;
}

/** Bytes per CPU block (a power of two, cache-line multiple). */
export const CPU_HOT_STRIDE: usize = 128;
/** The blocks of every possible CPU. */
export const cpu_hot_area: usize = memory.data(<i32>CPU_HOT_STRIDE * NR_CPUS, 64);

/** The current CPU's block. Context: any; stable only while preemption is off. */
// @ts-ignore: decorator
@inline export function this_cpu(): cpu_hot {
  return changetype<cpu_hot>(cpu_hot_area + <usize>tp_read());
}

/** CPU `cpu`'s block. */
// @ts-ignore: decorator
@inline export function cpu_hot_of(cpu: i32): cpu_hot {
  return changetype<cpu_hot>(cpu_hot_area + <usize>cpu * CPU_HOT_STRIDE);
}

/** Logical number of the current CPU. Context: any. */
// @ts-ignore: decorator
@inline export function smp_processor_id(): i32 {
  return this_cpu().cpu;
}

/**
 * Make the calling hart CPU `cpu` with hart id `hartid`: fills its block and
 * points tp at it. Context: bring-up of that CPU, interrupts off.
 */
export function cpu_hot_init(cpu: i32, hartid: i32): void {
  // The block must fit its stride (a build-time fact, checked once here).
  if (offsetof<cpu_hot>() > CPU_HOT_STRIDE) unreachable();
  const c = cpu_hot_of(cpu);
  c.cpu = cpu;
  c.hartid = hartid;
  c.preempt_count = 0;
  tp_write(<u64>(<usize>cpu * CPU_HOT_STRIDE));
}
