/**
 * Traps (Linux arch/riscv/kernel/traps.c, entry.S's dispatch, and
 * kernel/panic.c's oops side): kernel_trap(frame) is what the toolchain's
 * trap entry calls with every register saved in a pt_regs frame.
 *
 *   scause.Interrupt = 1                      scause.Interrupt = 0 (exceptions)
 *   ├─ 1 supervisor software → handle_ipi     ├─ breakpoint with this CPU's trap_request
 *   ├─ 5 supervisor timer    → tick_handle    │    set: the request (TRAP_REQ_DUMP_STACK:
 *   └─ 9 supervisor external → PLIC           │    print the trace; others: the hook set
 *      (preempt_count += HARDIRQ_OFFSET        │    for them, e.g. the scheduler's switch), then resume
 *       around the handler)                    │    after the ebreak
 *                                              └─ anything else: an oops (die)
 *
 * The kernel takes exceptions on purpose only through `ebreak` with a
 * request posted in its cpu_hot block (as Linux's BUG/WARN use ebreak with
 * a bug table). An oops prints
 *
 *   Unable to handle kernel NULL pointer dereference at virtual address …
 *   Oops: load page fault at <sepc> stval <stval> [#1]
 *   CPU: 0 PID: 0 Comm: swapper/0 Not tainted 0.1.0 #1 SMP
 *   Hardware name: <model> (DT)
 *   epc : … ra : … sp : …   (every register, Linux's __show_regs layout)
 *   status: … badaddr: … cause: …
 *   Call Trace:
 *   [<ffffffff80201234>] 0xffffffff80201234
 *   ---[ end trace 0000000000000000 ]---
 *
 * and panics ("Fatal exception"). A second oops on the same CPU while the
 * first is being reported powers off at once.
 *
 * Page faults, before the oops: the kernel fault hook (mm/vmalloc.ts sets
 * it) may name what the address was ("vmalloc: fault at …: guard page of
 * area …"). One fixup exists, in the spirit of Linux's exception table:
 * copy_from_kernel_nofault (Linux mm/maccess.c) marks this CPU as probing;
 * a page fault while it does is not an oops: the hook still reports it (to
 * the log), the faulting load is skipped (sepc += its length) and the probe
 * returns -EFAULT.
 *
 * Context: kernel_trap runs with interrupts off (the hardware cleared SIE)
 * on the interrupted context's stack; handlers must not sleep or re-enable
 * interrupts.
 */
import { pt_regs } from "./ptrace";
import { SCAUSE_INTERRUPT, IRQ_S_SOFT, IRQ_S_TIMER, IRQ_S_EXT, EXC_LOAD_PAGE_FAULT, EXC_STORE_PAGE_FAULT,
  EXC_INST_PAGE_FAULT, EXC_BREAKPOINT, exception_name, SIE_SSIE } from "./csr";
import { csrc_sie, csrs_sie, ebreak } from "./riscv";
import { PAGE_SIZE, NR_CPUS } from "./layout";
import { local_irq_save, local_irq_restore } from "./irqflags";
import { walk_stackframe } from "./stacktrace";
import { this_cpu, smp_processor_id } from "../cpu";
import { preempt_count_add, preempt_count_sub, HARDIRQ_OFFSET, in_hardirq } from "../preempt";
import { handle_ipi } from "../smp";
import { tick_handle } from "../time/tick";
import { plic_handle_irq } from "../irq/plic";
import { printk, pr_emerg, pr_warn, set_oops_in_progress, set_console_loglevel, KERN_EMERG, KERN_WARNING } from "../printk";
import { spinlock_t, SPINLOCK_SIZE, arch_spin_lock, arch_spin_unlock } from "../locking/spinlock";
import { of_model } from "../of/fdt";
import { UTS_RELEASE, UTS_VERSION } from "../version";
import { panic } from "../panic";
import { machine_power_off } from "../reboot";

let die_counter: i32 = 0;
const die_lock = changetype<spinlock_t>(memory.data(SPINLOCK_SIZE, 16));

/** Hooks: ebreak requests (the scheduler's context switch), interrupt return (preemption), task identity for reports. */
const MAX_TRAP_REQ: i32 = 8;
const trap_req_hooks: usize = memory.data(MAX_TRAP_REQ * 4, 4);
let irq_exit_hook: usize = 0;
let task_pid_hook: usize = 0;
/** Serve ebreak request `req` (2 … 7) with fn(regs), which may rewrite the whole frame. Context: boot. */
export function set_trap_request_hook(req: i32, fn: (regs: pt_regs) => void): void {
  if (req > TRAP_REQ_DUMP_STACK && req < MAX_TRAP_REQ) store<usize>(trap_req_hooks + <usize>(req * 4), changetype<usize>(fn));
}
export function set_irq_exit_hook(fn: (regs: pt_regs) => void): void { irq_exit_hook = changetype<usize>(fn); }
/** fn() returns the current task's pid (-1 before the scheduler runs on this CPU). */
export function set_task_pid_hook(fn: () => i32): void { task_pid_hook = changetype<usize>(fn); }
let task_comm_hook: usize = 0;
/** The scheduler names the current task (an AS string pointer) for the report header. */
export function set_task_comm_hook(fn: () => usize): void { task_comm_hook = changetype<usize>(fn); }

/** Kernel page faults: fn(addr) may print what `addr` is (mm/vmalloc.ts), at KERN_ERR. Context: boot. */
let kernel_fault_hook: usize = 0;
export function set_kernel_fault_hook(fn: (addr: u64) => void): void { kernel_fault_hook = changetype<usize>(fn); }

/** Per CPU (i32): 1 while copy_from_kernel_nofault runs there, 2 once it faulted. */
const nofault_state: usize = memory.data(NR_CPUS * 4, 4);
const NOFAULT_ACTIVE: i32 = 1;
const NOFAULT_FAULTED: i32 = 2;
/** Faults copy_from_kernel_nofault survived, all CPUs. */
let nofault_faults: u64 = 0;
export function nofault_fault_count(): u64 { return nofault_faults; }

/**
 * Copy `size` bytes from kernel address `src` to `dst` without oopsing when
 * `src` is unmapped (Linux copy_from_kernel_nofault). Returns 0, or -EFAULT
 * (-14) at the first byte that faulted (the bytes before it are copied;
 * the fault is reported by the fault hook, to the log). `dst` must be
 * mapped: a fault on it is skipped too, but the byte is lost. Context: any;
 * interrupts are off while it runs (the probe state is per CPU).
 */
export function copy_from_kernel_nofault(dst: usize, src: usize, size: usize): i32 {
  const flags = local_irq_save();
  const st = nofault_state + <usize>smp_processor_id() * 4;
  atomic.store<i32>(st, NOFAULT_ACTIVE);
  let ret = 0;
  for (let i: usize = 0; i < size; i++) {
    // Atomic loads keep the order: the probe's load, then the state check.
    const b = atomic.load<u8>(src + i);
    if (atomic.load<i32>(st) != NOFAULT_ACTIVE) { ret = -14; break; }
    store<u8>(dst + i, b);
  }
  atomic.store<i32>(st, 0);
  local_irq_restore(flags);
  return ret;
}

/**
 * Copy `size` bytes from `src` to kernel address `dst` without oopsing when
 * `dst` is unmapped or read-only (Linux copy_to_kernel_nofault). Returns 0,
 * or -EFAULT (-14) at the first byte whose store faulted (that byte is not
 * written). Context: as copy_from_kernel_nofault.
 */
export function copy_to_kernel_nofault(dst: usize, src: usize, size: usize): i32 {
  const flags = local_irq_save();
  const st = nofault_state + <usize>smp_processor_id() * 4;
  atomic.store<i32>(st, NOFAULT_ACTIVE);
  let ret = 0;
  for (let i: usize = 0; i < size; i++) {
    atomic.store<u8>(dst + i, load<u8>(src + i));
    if (atomic.load<i32>(st) != NOFAULT_ACTIVE) { ret = -14; break; }
  }
  atomic.store<i32>(st, 0);
  local_irq_restore(flags);
  return ret;
}

/** Install the trap side of this CPU: software interrupts on (stvec was set by the entry stub). */
export function trap_init_cpu(): void {
  csrs_sie(SIE_SSIE);
}

/** Length of the instruction at `epc` (2 for a compressed one, else 4). */
export function insn_length(epc: u64): u64 {
  return (load<u16>(<usize>epc) & 3) == 3 ? 4 : 2;
}

/** The entry point the toolchain's trap entry calls. */
export function kernel_trap(frame: usize): void {
  const regs = changetype<pt_regs>(frame);
  const cause = regs.cause;
  if (cause & SCAUSE_INTERRUPT) {
    handle_arch_irq(regs, <u32>(cause & 0xff));
  } else {
    do_exception(regs, <u32>cause);
  }
}

function handle_arch_irq(regs: pt_regs, code: u32): void {
  preempt_count_add(HARDIRQ_OFFSET);
  if (code == IRQ_S_TIMER) tick_handle();
  else if (code == IRQ_S_SOFT) handle_ipi();
  else if (code == IRQ_S_EXT) plic_handle_irq();
  else {
    this_cpu().irq_spurious++;
    csrc_sie((<u64>1) << (<u64>code));
    pr_warn("unexpected interrupt %d: disabled\n", code);
  }
  preempt_count_sub(HARDIRQ_OFFSET);
  if (irq_exit_hook != 0) changetype<(regs: pt_regs) => void>(irq_exit_hook)(regs);
}

/** Requests a CPU posts in cpu_hot.trap_request before its `ebreak`. */
export const TRAP_REQ_NONE: i32 = 0;
export const TRAP_REQ_DUMP_STACK: i32 = 1;
export const TRAP_REQ_SWITCH: i32 = 2;
export const TRAP_REQ_CAPTURE: i32 = 3;
export const TRAP_REQ_PREEMPT: i32 = 4;

function do_exception(regs: pt_regs, code: u32): void {
  const c = this_cpu();
  if (code == EXC_BREAKPOINT && c.trap_request != TRAP_REQ_NONE) {
    const req = c.trap_request;
    c.trap_request = TRAP_REQ_NONE;
    regs.epc += insn_length(regs.epc);
    if (req == TRAP_REQ_DUMP_STACK) {
      show_stack_header(KERN_WARNING);
      printk("%sCall Trace:\n", changetype<usize>(KERN_WARNING));
      walk_stackframe(regs.s0, regs.epc, KERN_WARNING);
      return;
    }
    const hook = req > 0 && req < MAX_TRAP_REQ ? load<usize>(trap_req_hooks + <usize>(req * 4)) : 0;
    if (hook != 0) {
      changetype<(regs: pt_regs) => void>(hook)(regs);
      return;
    }
  }
  if (code == EXC_LOAD_PAGE_FAULT || code == EXC_STORE_PAGE_FAULT || code == EXC_INST_PAGE_FAULT) {
    const st = nofault_state + <usize>smp_processor_id() * 4;
    if (code != EXC_INST_PAGE_FAULT && atomic.load<i32>(st) == NOFAULT_ACTIVE) {
      // The fixup: report, skip the faulting access, let the probe see the fault.
      if (kernel_fault_hook != 0) changetype<(addr: u64) => void>(kernel_fault_hook)(regs.badaddr);
      atomic.store<i32>(st, NOFAULT_FAULTED);
      nofault_faults++;
      regs.epc += insn_length(regs.epc);
      return;
    }
  }
  die(regs, exception_name(code), code);
}

/**
 * Trap into this CPU's own handler with request `req` (TRAP_REQ_*): the
 * handler sees every register of the caller in a frame, serves the request
 * and resumes after the ebreak. Context: any.
 */
export function trap_self(req: i32): void {
  this_cpu().trap_request = req;
  ebreak();
}

function show_stack_header(lvl: string): void {
  const cpu = smp_processor_id();
  const pid = task_pid_hook != 0 ? changetype<() => i32>(task_pid_hook)() : -1;
  if (pid > 0 && task_comm_hook != 0) printk("%sCPU: %d PID: %d Comm: %s Not tainted %s %s\n", changetype<usize>(lvl), cpu, pid, changetype<() => usize>(task_comm_hook)(), changetype<usize>(UTS_RELEASE), changetype<usize>(UTS_VERSION));
  else if (pid > 0) printk("%sCPU: %d PID: %d Comm: kthread/%d Not tainted %s %s\n", changetype<usize>(lvl), cpu, pid, pid, changetype<usize>(UTS_RELEASE), changetype<usize>(UTS_VERSION));
  else printk("%sCPU: %d PID: 0 Comm: swapper/%d Not tainted %s %s\n", changetype<usize>(lvl), cpu, cpu, changetype<usize>(UTS_RELEASE), changetype<usize>(UTS_VERSION));
  if (of_model != 0) printk("%sHardware name: %pz (DT)\n", changetype<usize>(lvl), of_model);
}

/** Every register of a frame, in Linux's __show_regs layout. Context: any. */
export function show_regs(regs: pt_regs): void {
  const l = changetype<usize>(KERN_EMERG);
  show_stack_header(KERN_EMERG);
  printk("%sepc : %016lx ra : %016lx sp : %016lx\n", l, regs.epc, regs.ra, regs.sp);
  printk("%s gp : %016lx tp : %016lx t0 : %016lx\n", l, regs.gp, regs.tp, regs.t0);
  printk("%s t1 : %016lx t2 : %016lx s0 : %016lx\n", l, regs.t1, regs.t2, regs.s0);
  printk("%s s1 : %016lx a0 : %016lx a1 : %016lx\n", l, regs.s1, regs.a0, regs.a1);
  printk("%s a2 : %016lx a3 : %016lx a4 : %016lx\n", l, regs.a2, regs.a3, regs.a4);
  printk("%s a5 : %016lx a6 : %016lx a7 : %016lx\n", l, regs.a5, regs.a6, regs.a7);
  printk("%s s2 : %016lx s3 : %016lx s4 : %016lx\n", l, regs.s2, regs.s3, regs.s4);
  printk("%s s5 : %016lx s6 : %016lx s7 : %016lx\n", l, regs.s5, regs.s6, regs.s7);
  printk("%s s8 : %016lx s9 : %016lx s10: %016lx\n", l, regs.s8, regs.s9, regs.s10);
  printk("%s s11: %016lx t3 : %016lx t4 : %016lx\n", l, regs.s11, regs.t3, regs.t4);
  printk("%s t5 : %016lx t6 : %016lx\n", l, regs.t5, regs.t6);
  printk("%sstatus: %016lx badaddr: %016lx cause: %016lx\n", l, regs.status, regs.badaddr, regs.cause);
}

/**
 * An exception the kernel cannot handle: report it (an oops) and panic.
 * Context: the trap handler. Never returns.
 */
export function die(regs: pt_regs, what: string, code: u32): void {
  const c = this_cpu();
  if (c.in_oops != 0) {
    pr_emerg("Recursive oops on CPU %d: %s at %016lx stval %016lx\n", c.cpu, changetype<usize>(what), regs.epc, regs.badaddr);
    machine_power_off(true);
  }
  c.in_oops = 1;
  set_oops_in_progress(1);
  set_console_loglevel(15);
  // Serialise reports from several CPUs (bare lock: interrupts are already off).
  arch_spin_lock(die_lock);
  if (code == EXC_LOAD_PAGE_FAULT || code == EXC_STORE_PAGE_FAULT || code == EXC_INST_PAGE_FAULT) {
    if (kernel_fault_hook != 0) changetype<(addr: u64) => void>(kernel_fault_hook)(regs.badaddr);
    if (regs.badaddr < <u64>PAGE_SIZE) pr_emerg("Unable to handle kernel NULL pointer dereference at virtual address %016lx\n", regs.badaddr);
    else pr_emerg("Unable to handle kernel paging request at virtual address %016lx\n", regs.badaddr);
  }
  die_counter++;
  pr_emerg("Oops: %s at %016lx stval %016lx [#%d]\n", changetype<usize>(what), regs.epc, regs.badaddr, die_counter);
  show_regs(regs);
  pr_emerg("Call Trace:\n");
  walk_stackframe(regs.s0, regs.epc, KERN_EMERG);
  pr_emerg("---[ end trace 0000000000000000 ]---\n");
  arch_spin_unlock(die_lock);
  panic(in_hardirq() ? "Fatal exception in interrupt" : "Fatal exception");
}

/**
 * Print the current call chain (Linux's dump_stack), through an ebreak that
 * the trap handler turns into a report (the frame gives it every register).
 * Context: any; does not sleep.
 */
export function dump_stack(): void {
  trap_self(TRAP_REQ_DUMP_STACK);
}
