/**
 * SMP: bringing the other harts online, CPU masks, and inter-processor
 * interrupts with a call-function primitive (Linux kernel/smp.c,
 * arch/riscv/kernel/smp.c and smpboot.c).
 *
 * Bring-up (smp_init, on the boot CPU): each other hart of the device tree
 * is started through SBI HSM hart_start at the image's physical first byte
 * (_start, 0x8020_0000) with opaque = its logical CPU number. The
 * toolchain's entry stub gives it Sv39 on early_pg_dir, its boot stack and
 * stvec, and calls kernel_secondary(hartid, cpu), which ends in
 * secondary_start_kernel: per-CPU state, interrupts, tick, online, idle.
 * CPUs are started one at a time, each waited for (bounded by time).
 *
 * Masks are u64 words in memory (NR_CPUS = 64), updated with AMOs:
 * cpu_possible_mask (from the device tree), cpu_online_mask.
 *
 * IPIs: the sender ORs a message bit into the target's cpu_hot.ipi_pending,
 * then asks the firmware (SBI IPI send_ipi) to raise the target hart's
 * supervisor software interrupt. The target clears sip.SSIP, takes all its
 * messages with one atomic exchange, and handles them:
 *
 *   IPI_RESCHEDULE  set need_resched
 *   IPI_CALL_FUNC   run pending call-function requests
 *   IPI_CPU_STOP    go offline and halt (panic, power-off)
 *
 * Call-function: each CPU owns one request block (csd) naming a function,
 * its argument and the mask of CPUs that still have to run it. A sender
 * waits until its previous request is finished before reusing the block;
 * targets run the function with interrupts off and clear their bit. While
 * waiting, a sender serves its own incoming requests, so two CPUs calling
 * each other with interrupts disabled do not deadlock.
 */
import { sbi_hart_start, sbi_send_ipi, sbi_hart_get_status } from "./arch/sbi";
import { csrc_sip, csrr_time, wfi } from "./arch/riscv";
import { SIP_SSIP } from "./arch/csr";
import { KERNEL_PHYS_BASE, NR_CPUS } from "./arch/layout";
import { local_irq_save, local_irq_restore, local_irq_disable, local_irq_enable } from "./arch/irqflags";
import { this_cpu, cpu_hot, cpu_hot_of, smp_processor_id, cpu_hot_init } from "./cpu";
import { preempt_disable, preempt_enable } from "./preempt";
import { cpuid_to_hartid, nr_cpu_ids } from "./of/fdt";
import { timebase_freq } from "./time/clock";
import { pr_info, pr_err, pr_crit, pr_debug } from "./printk";
import { paging_switch_cpu } from "./arch/pgtable";

export const IPI_RESCHEDULE: u32 = 1;
export const IPI_CALL_FUNC: u32 = 2;
export const IPI_CPU_STOP: u32 = 4;

export const cpu_online_mask: usize = memory.data(8, 8);
export const cpu_possible_mask: usize = memory.data(8, 8);

// @ts-ignore: decorator
@inline function bit(cpu: i32): u64 { return (<u64>1) << (<u64>cpu); }

/** Mark `cpu` online or offline. Context: that CPU (or panic stopping it). */
export function set_cpu_online(cpu: i32, online: bool): void {
  if (online) atomic.or<u64>(cpu_online_mask, bit(cpu));
  else atomic.and<u64>(cpu_online_mask, ~bit(cpu));
}
export function cpu_online(cpu: i32): bool {
  return cpu >= 0 && cpu < NR_CPUS && (atomic.load<u64>(cpu_online_mask) & bit(cpu)) != 0;
}
export function online_mask(): u64 { return atomic.load<u64>(cpu_online_mask); }
export function num_online_cpus(): i32 { return <i32>popcnt<u64>(atomic.load<u64>(cpu_online_mask)); }
export function num_possible_cpus(): i32 { return <i32>popcnt<u64>(atomic.load<u64>(cpu_possible_mask)); }

// --- IPIs --------------------------------------------------------------------------

function ipi_pending_ptr(c: cpu_hot): usize {
  return changetype<usize>(c) + offsetof<cpu_hot>("ipi_pending");
}

/**
 * Send message `msg` (IPI_*) to every CPU in `mask`. Context: any.
 * Offline CPUs in the mask are skipped.
 */
export function send_ipi_mask(mask: u64, msg: u32): void {
  let harts: u64 = 0;
  for (let cpu = 0; cpu < nr_cpu_ids; cpu++) {
    if ((mask & bit(cpu)) == 0) continue;
    atomic.or<u32>(ipi_pending_ptr(cpu_hot_of(cpu)), msg);
    const hart = cpuid_to_hartid(cpu);
    if (hart < 64) harts |= bit(hart);
    else sbi_send_ipi(1, <u64>hart);
  }
  if (harts != 0) sbi_send_ipi(harts, 0);
}

/** Send `msg` to one CPU. */
export function send_ipi_single(cpu: i32, msg: u32): void {
  send_ipi_mask(bit(cpu), msg);
}

@unmanaged
class call_single_data {
  func: usize;
  pad: u32;
  arg: u64;
  /** CPUs that have not yet run func (atomic). */
  pending: u64;
  /** Requests completed, for statistics. */
  done: u64;
}
const CSD_STRIDE: usize = 32;
const csd_area: usize = memory.data(<i32>CSD_STRIDE * NR_CPUS, 8);
// @ts-ignore: decorator
@inline function csd_of(cpu: i32): call_single_data { return changetype<call_single_data>(csd_area + <usize>cpu * CSD_STRIDE); }
// @ts-ignore: decorator
@inline function csd_pending(c: call_single_data): usize { return changetype<usize>(c) + offsetof<call_single_data>("pending"); }

/** Calls this CPU has run for others (statistics for the tests). */
export function smp_call_function_count(cpu: i32): u64 { return csd_of(cpu).done; }

/** Run the call-function requests addressed to this CPU. Context: interrupts off. */
function generic_smp_call_function_interrupt(): void {
  const me = smp_processor_id();
  const mine = bit(me);
  for (let src = 0; src < nr_cpu_ids; src++) {
    const csd = csd_of(src);
    if ((atomic.load<u64>(csd_pending(csd)) & mine) == 0) continue;
    const fn = changetype<(arg: u64) => void>(csd.func);
    fn(csd.arg);
    atomic.and<u64>(csd_pending(csd), ~mine);
    csd_of(me).done++;
  }
}

/** IPI_CPU_STOP: go offline and halt with interrupts off (panic, power-off). */
function ipi_stop(): void {
  set_cpu_online(smp_processor_id(), false);
  local_irq_disable();
  while (true) wfi();
}

/**
 * The supervisor software interrupt: take and handle every pending
 * message. Context: interrupt (or polling with interrupts off).
 */
export function handle_ipi(): void {
  csrc_sip(SIP_SSIP);
  const c = this_cpu();
  const msgs = atomic.xchg<u32>(ipi_pending_ptr(c), 0);
  if (msgs & IPI_CPU_STOP) ipi_stop();
  if (msgs & IPI_CALL_FUNC) generic_smp_call_function_interrupt();
  if (msgs & IPI_RESCHEDULE) c.need_resched = 1;
  c.irq_soft++;
}

/** Serve this CPU's own pending IPIs from process context (while spinning). */
function poll_ipi(): void {
  const c = this_cpu();
  if (atomic.load<u32>(ipi_pending_ptr(c)) == 0) return;
  const flags = local_irq_save();
  handle_ipi();
  local_irq_restore(flags);
}

/**
 * Run func(arg) on every online CPU in `mask` except the calling one. With
 * `wait`, return once all have finished. Context: process context, may be
 * called with interrupts off (it serves incoming requests while waiting);
 * not from an interrupt handler. Never fails (offline CPUs are skipped).
 */
export function smp_call_function_many(mask: u64, func: (arg: u64) => void, arg: u64, wait: bool): void {
  preempt_disable();
  const me = smp_processor_id();
  mask &= online_mask() & ~bit(me);
  if (mask == 0) { preempt_enable(); return; }
  const csd = csd_of(me);
  while (atomic.load<u64>(csd_pending(csd)) != 0) poll_ipi();
  csd.func = changetype<usize>(func);
  csd.arg = arg;
  atomic.store<u64>(csd_pending(csd), mask);
  send_ipi_mask(mask, IPI_CALL_FUNC);
  if (wait) {
    while (atomic.load<u64>(csd_pending(csd)) != 0) poll_ipi();
  }
  preempt_enable();
}

/** func(arg) on every other online CPU. Context: as smp_call_function_many. */
export function smp_call_function(func: (arg: u64) => void, arg: u64, wait: bool): void {
  smp_call_function_many(~(<u64>0), func, arg, wait);
}

/**
 * func(arg) on CPU `cpu` (this one included: then it runs here with
 * interrupts off). Returns 0, or -6 (-ENXIO) when `cpu` is not online.
 */
export function smp_call_function_single(cpu: i32, func: (arg: u64) => void, arg: u64, wait: bool): i32 {
  if (!cpu_online(cpu)) return -6;
  preempt_disable();
  if (cpu == smp_processor_id()) {
    const flags = local_irq_save();
    func(arg);
    local_irq_restore(flags);
  } else {
    smp_call_function_many(bit(cpu), func, arg, wait);
  }
  preempt_enable();
  return 0;
}

/** func(arg) on every online CPU, this one last (with interrupts off). */
export function on_each_cpu(func: (arg: u64) => void, arg: u64, wait: bool): void {
  preempt_disable();
  smp_call_function(func, arg, wait);
  const flags = local_irq_save();
  func(arg);
  local_irq_restore(flags);
  preempt_enable();
}

/** Ask the reschedule IPI of `cpu`. */
export function smp_send_reschedule(cpu: i32): void {
  send_ipi_single(cpu, IPI_RESCHEDULE);
}

/**
 * Stop every other CPU (panic, power-off): they go offline and halt with
 * interrupts off. Waits up to 10 ms of machine time. Returns the number of
 * CPUs still online besides this one (0 when all stopped).
 */
export function smp_send_stop(): i32 {
  const me = smp_processor_id();
  const others = online_mask() & ~bit(me);
  if (others == 0) return 0;
  send_ipi_mask(others, IPI_CPU_STOP);
  const deadline = csrr_time() + timebase_freq / 100;
  while ((online_mask() & ~bit(me)) != 0 && csrr_time() < deadline) { /* wait */ }
  return <i32>popcnt<u64>(online_mask() & ~bit(me));
}

// --- bring-up --------------------------------------------------------------------

/** What each secondary CPU runs once its CPU state exists (set by init/main.ts). */
let secondary_init_fn: usize = 0;
export function set_secondary_init(fn: () => void): void { secondary_init_fn = changetype<usize>(fn); }

/** The boot CPU's part: possible and online masks. Context: boot, CPU 0. */
export function smp_prepare_boot_cpu(): void {
  let possible: u64 = 0;
  for (let cpu = 0; cpu < nr_cpu_ids; cpu++) possible |= bit(cpu);
  if (possible == 0) possible = 1;
  atomic.store<u64>(cpu_possible_mask, possible);
  set_cpu_online(0, true);
}

/**
 * Start CPUs 1 … max_cpus - 1 through SBI HSM, one at a time, each bounded
 * by 1 s of machine time. Returns the number of CPUs online. Context: boot
 * CPU, interrupts on.
 */
export function smp_init(max_cpus: i32): i32 {
  const n = max_cpus < nr_cpu_ids ? max_cpus : nr_cpu_ids;
  if (n > 1) pr_info("smp: Bringing up secondary CPUs ...\n");
  for (let cpu = 1; cpu < n; cpu++) {
    const hart = cpuid_to_hartid(cpu);
    const err = sbi_hart_start(<u64>hart, KERNEL_PHYS_BASE, <u64>cpu);
    if (err < 0) {
      pr_err("CPU%d: failed to start hart %d: SBI error %d (state %d)\n", cpu, hart, err, sbi_hart_get_status(<u64>hart));
      continue;
    }
    const deadline = csrr_time() + timebase_freq;
    while (!cpu_online(cpu) && csrr_time() < deadline) { /* wait */ }
    if (!cpu_online(cpu)) pr_crit("CPU%d: failed to come online\n", cpu);
  }
  const online = num_online_cpus();
  pr_info("smp: Brought up 1 node, %d CPU%s\n", online, changetype<usize>(online == 1 ? "" : "s"));
  return online;
}

/**
 * A secondary hart's first kernel code: `cpu` is the logical number the boot
 * CPU passed as HSM opaque. Never returns (ends in the idle loop).
 */
export function secondary_start_kernel(hartid: i32, cpu: i32): void {
  paging_switch_cpu(); // off early_pg_dir, onto swapper_pg_dir (arch/pgtable.ts)
  if (cpu <= 0 || cpu >= NR_CPUS || cpuid_to_hartid(cpu) != hartid) {
    // Not a hart we started: park it.
    local_irq_disable();
    while (true) wfi();
  }
  cpu_hot_init(cpu, hartid);
  if (secondary_init_fn != 0) changetype<() => void>(secondary_init_fn)();
  pr_debug("CPU%d: hart %d online\n", cpu, hartid);
  set_cpu_online(cpu, true);
  local_irq_enable();
  cpu_idle();
}

/** The idle hook the scheduler installs (0 = plain WFI loop). */
let idle_hook: usize = 0;
export function set_idle_hook(fn: () => void): void { idle_hook = changetype<usize>(fn); }

/** The idle loop: wait for interrupts forever. Context: a CPU with nothing else to do. */
export function cpu_idle(): void {
  while (true) {
    if (idle_hook != 0) changetype<() => void>(idle_hook)();
    else wfi();
  }
}
