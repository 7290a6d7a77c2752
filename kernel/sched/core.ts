/**
 * Kernel threads and a small per-CPU scheduler (Linux kernel/sched/core.c,
 * kernel/kthread.c and kernel/time/timer.c's schedule_timeout / msleep, in
 * miniature): round-robin per CPU, preemptive on the tick, no migration.
 *
 * Context switch by trap frame. AssemblyScript cannot save registers or
 * switch stacks, but the trap entry saves every register of the trapped
 * context into a frame on its stack and restores them all (sp last) before
 * sret. So a switch is: copy the frame into prev's task_struct, copy next's
 * saved frame over it, return. The trap is the timer (preemption, at
 * interrupt exit) or an `ebreak` with TRAP_REQ_SWITCH (schedule()).
 *
 *   task_struct (TASK_STRIDE bytes)          per-CPU runqueue (RQ_STRIDE)
 *   ┌──────────────────────────────┐         ┌──────────────────────────┐
 *   │ pid state cpu on_cpu on_rq … │         │ lock                     │
 *   │ rq_next wq_next timer_next   │         │ head, tail: runnable     │
 *   │ fn arg stack name wake_at …  │         │   tasks (not running)    │
 *   ├──────────────────────────────┤ +256    │ timers: sleepers with a  │
 *   │ regs: the saved trap frame   │         │   wake_at, by CPU        │
 *   │ (pt_regs, 304 bytes)         │         │ dead: a task to reap at  │
 *   │                              │         │   the next switch or tick│
 *   └──────────────────────────────┘         └──────────────────────────┘
 *
 * New threads. Their first instructions are those after the `ebreak` in
 * kthread_trampoline, which the boot CPU runs once in sched_init to capture
 * a template: every register and the trampoline's own stack frame. A new
 * thread gets a copy of both, moved to the top of its own stack (sp and s0
 * relocated, the frame record cleared so back-traces end there), with
 * interrupts on; it finds its function in `current` and never returns.
 *
 * Tasks: CPU 0's boot context becomes "init" (pid 1: it runs the
 * self-tests and may sleep); every CPU has an idle task (swapper/N: CPU 0's
 * is a kernel thread, the others' are their boot contexts) that runs when
 * the runqueue is empty and is never queued.
 *
 * Locking and order: the switch runs in the trap handler with interrupts
 * off and takes its CPU's rq lock; wakeups take the target task's rq lock
 * with interrupts off (spin_lock_irqsave). Wait queues (wait.ts) take their
 * own lock first, then an rq lock. preempt_count lives per CPU and is 0 at
 * every switch (schedule() in atomic context is a BUG report, not a switch).
 */
import { pt_regs, PT_REGS_SIZE } from "../arch/ptrace";
import { SSTATUS_SPIE, SSTATUS_SPP } from "../arch/csr";
import { tp_read, ebreak, wfi, csrr_time } from "../arch/riscv";
import { trap_self, set_trap_request_hook, set_irq_exit_hook, set_task_pid_hook, set_task_comm_hook, TRAP_REQ_SWITCH, TRAP_REQ_CAPTURE, TRAP_REQ_PREEMPT, dump_stack } from "../arch/traps";
import { local_irq_save, local_irq_restore, irqs_disabled } from "../arch/irqflags";
import { this_cpu, cpu_hot_of, smp_processor_id } from "../cpu";
import { preempt_count, set_preempt_schedule_hook, in_atomic } from "../preempt";
import { NR_CPUS } from "../arch/layout";
import { spinlock_t, SPINLOCK_SIZE, arch_spin_lock, arch_spin_unlock } from "../locking/spinlock";
import { smp_send_reschedule, cpu_online, set_idle_hook } from "../smp";
import { set_tick_hook, get_jiffies_64, msecs_to_jiffies, jiffies_delay, time_after } from "../time/tick";
import { timebase_freq } from "../time/clock";
import { pr_err, pr_info } from "../printk";
import { panic } from "../panic";

export const TASK_RUNNING: i32 = 0;
export const TASK_INTERRUPTIBLE: i32 = 1;
export const TASK_UNINTERRUPTIBLE: i32 = 2;
export const TASK_DEAD: i32 = 64;
/** A free slot of the task pool. */
const TASK_FREE: i32 = -1;

@unmanaged
export class task_struct {
  pid: i32;
  state: i32;
  cpu: i32;
  flags: u32;
  /** Running on its CPU right now (its registers are live, not in regs). */
  on_cpu: i32;
  /** Linked in its CPU's runqueue. */
  on_rq: i32;
  exit_code: i32;
  /** Linked in its CPU's timer list (wake_at valid). */
  on_timer: i32;
  rq_next: usize;
  wq_next: usize;
  /** The wait queue it is queued on, 0 = none. */
  wq: usize;
  timer_next: usize;
  /** The thread function ((arg: u64) => i32) and its argument. */
  fn: usize;
  arg: u64;
  /** Bottom of its stack (kernel threads), 0 for boot contexts. */
  stack: usize;
  /** Name (an AS string). */
  name: usize;
  wake_at: u64;
  /** Times switched in; ticks it was running at. */
  switches: u64;
  ticks: u64;
  /** Voluntary and involuntary (preempted) switches out. */
  nvcsw: u64;
  nivcsw: u64;
}

export const TASK_FLAG_KTHREAD: u32 = 1;
export const TASK_FLAG_IDLE: u32 = 2;

const TASK_STRIDE: usize = 576;
const TASK_REGS: usize = 256;
/** Kernel threads at once (each with a stack), plus one task per CPU's idle and init. */
export const MAX_KTHREADS: i32 = 48; // 2 per CPU on 16 harts, with room for the suites that hold more
const MAX_TASKS: i32 = MAX_KTHREADS + NR_CPUS + 1;
export const THREAD_SIZE: usize = 8192;

const task_pool: usize = memory.data(<i32>TASK_STRIDE * MAX_TASKS, 16);
const stack_pool: usize = memory.data(<i32>THREAD_SIZE * MAX_KTHREADS, 16);
const pool_lock = changetype<spinlock_t>(memory.data(SPINLOCK_SIZE, 16));

/** A CPU's runqueue; its first 16 bytes are its lock (a spinlock_t). */
@unmanaged
class runqueue {
  lock_next: u32;
  lock_owner: u32;
  lock_cpu: i32;
  lock_pad: u32;
  head: usize;
  tail: usize;
  nr_running: i32;
  timers: usize;
  dead: usize;
  /** Context switches on this CPU. */
  nr_switches: u64;
}
const RQ_STRIDE: usize = 64;
const rq_area: usize = memory.data(<i32>RQ_STRIDE * NR_CPUS, 16);

// @ts-ignore: decorator
@inline function task_at(i: i32): task_struct { return changetype<task_struct>(task_pool + <usize>i * TASK_STRIDE); }
// @ts-ignore: decorator
@inline function regs_of(t: task_struct): usize { return changetype<usize>(t) + TASK_REGS; }
// @ts-ignore: decorator
@inline function rq_of(cpu: i32): runqueue { return changetype<runqueue>(rq_area + <usize>cpu * RQ_STRIDE); }
/** Bare rq lock (interrupts are off in every caller; no preemption from inside the scheduler). */
// @ts-ignore: decorator
@inline function rq_lock(rq: runqueue): void { arch_spin_lock(changetype<spinlock_t>(changetype<usize>(rq))); }
// @ts-ignore: decorator
@inline function rq_unlock(rq: runqueue): void { arch_spin_unlock(changetype<spinlock_t>(changetype<usize>(rq))); }

/** Is the scheduler running (sched_init done)? */
export let sched_running: bool = false;
let next_pid: i32 = 2;

/** The running task of this CPU, or null before the scheduler starts. Context: any. */
export function current(): task_struct { return changetype<task_struct>(this_cpu().current); }
/** Its pid (0 for idle tasks), -1 before the scheduler. */
/** The current task's name (Linux current->comm) as an AS string for %s; "swapper" before the scheduler runs. Context: any. */
export function current_comm(): usize {
  const t = this_cpu().current;
  if (t == 0 || changetype<task_struct>(t).name == 0) return changetype<usize>("swapper");
  return changetype<task_struct>(t).name;
}
export function current_pid(): i32 { const t = this_cpu().current; return t == 0 ? -1 : changetype<task_struct>(t).pid; }

// --- runqueue lists (callers hold the rq lock) -----------------------------------------

function enqueue(rq: runqueue, t: task_struct): void {
  if (t.on_rq) return;
  t.rq_next = 0;
  if (rq.tail != 0) changetype<task_struct>(rq.tail).rq_next = changetype<usize>(t);
  else rq.head = changetype<usize>(t);
  rq.tail = changetype<usize>(t);
  t.on_rq = 1;
  rq.nr_running++;
}

function dequeue_head(rq: runqueue): task_struct {
  const t = rq.head;
  if (t == 0) return changetype<task_struct>(0);
  const task = changetype<task_struct>(t);
  rq.head = task.rq_next;
  if (rq.head == 0) rq.tail = 0;
  task.rq_next = 0;
  task.on_rq = 0;
  rq.nr_running--;
  return task;
}

function timer_unlink(rq: runqueue, t: task_struct): void {
  if (!t.on_timer) return;
  let prev: usize = 0;
  let p = rq.timers;
  while (p != 0 && p != changetype<usize>(t)) { prev = p; p = changetype<task_struct>(p).timer_next; }
  if (p != 0) {
    if (prev == 0) rq.timers = t.timer_next;
    else changetype<task_struct>(prev).timer_next = t.timer_next;
  }
  t.timer_next = 0;
  t.on_timer = 0;
}

function free_task(t: task_struct): void {
  const flags = local_irq_save();
  arch_spin_lock(pool_lock);
  t.state = TASK_FREE;
  arch_spin_unlock(pool_lock);
  local_irq_restore(flags);
}

// --- the switch --------------------------------------------------------------------

/**
 * Pick the next task of this CPU and switch to it by rewriting `regs`.
 * `voluntary`: prev called schedule(), and goes to sleep unless its state
 * is TASK_RUNNING. A preempted task stays runnable whatever its state (as
 * Linux's preempted tasks stay on the runqueue): it may have been caught
 * between setting its sleep state and testing its condition, and taking it
 * off the runqueue there would lose a wakeup that already happened.
 * Context: the trap handler, interrupts off.
 */
function __schedule(regs: pt_regs, voluntary: bool): void {
  const c = this_cpu();
  const rq = rq_of(c.cpu);
  rq_lock(rq);
  c.need_resched = 0;
  if (rq.dead != 0) {
    free_task(changetype<task_struct>(rq.dead));
    rq.dead = 0;
  }
  const prev = changetype<task_struct>(c.current);
  if ((prev.state == TASK_RUNNING || (!voluntary && prev.state != TASK_DEAD)) && !(prev.flags & TASK_FLAG_IDLE)) enqueue(rq, prev);
  let next = dequeue_head(rq);
  if (changetype<usize>(next) == 0) next = changetype<task_struct>(c.idle);
  if (next == prev) {
    rq_unlock(rq);
    return;
  }
  memory.copy(regs_of(prev), changetype<usize>(regs), <usize>PT_REGS_SIZE);
  prev.on_cpu = 0;
  if (voluntary) prev.nvcsw++;
  else prev.nivcsw++;
  if (prev.state == TASK_DEAD) rq.dead = changetype<usize>(prev);
  memory.copy(changetype<usize>(regs), regs_of(next), <usize>PT_REGS_SIZE);
  regs.tp = tp_read(); // tp belongs to the CPU, not the task
  next.on_cpu = 1;
  next.cpu = c.cpu;
  next.switches++;
  c.current = changetype<usize>(next);
  rq.nr_switches++;
  rq_unlock(rq);
}

function switch_request(regs: pt_regs): void {
  __schedule(regs, true);
}

function preempt_request(regs: pt_regs): void {
  __schedule(regs, false);
}

/** At interrupt exit: preempt the interrupted task when the tick (or a wakeup) asked for it. */
function sched_irq_exit(regs: pt_regs): void {
  const c = this_cpu();
  if (c.need_resched == 0 || c.current == 0) return;
  if (c.preempt_count != 0) return;
  // Only a context that had interrupts on, in S-mode, is preemptible.
  if ((regs.status & SSTATUS_SPIE) == 0 || (regs.status & SSTATUS_SPP) == 0) return;
  __schedule(regs, false);
}

/** The tick: account, wake expired sleepers, and ask for a switch when others wait. */
function scheduler_tick(): void {
  const c = this_cpu();
  if (c.current == 0) return;
  const cur = changetype<task_struct>(c.current);
  cur.ticks++;
  const rq = rq_of(c.cpu);
  const now = get_jiffies_64();
  rq_lock(rq);
  // A thread that died here is off its stack by now (we run on another): reap it.
  if (rq.dead != 0 && rq.dead != c.current) {
    free_task(changetype<task_struct>(rq.dead));
    rq.dead = 0;
  }
  let p = rq.timers;
  while (p != 0) {
    const t = changetype<task_struct>(p);
    p = t.timer_next;
    if (!time_after(t.wake_at, now)) {
      timer_unlink(rq, t);
      if (t.state != TASK_RUNNING && t.state != TASK_DEAD) {
        t.state = TASK_RUNNING;
        if (!t.on_cpu) enqueue(rq, t);
      }
    }
  }
  if (rq.nr_running > 0) c.need_resched = 1;
  rq_unlock(rq);
}

// --- public API ----------------------------------------------------------------------

/** Set the current task's state before sleeping (Linux set_current_state). */
export function set_current_state(state: i32): void {
  current().state = state;
}

/**
 * Give up the CPU: switch to the next runnable task. The current task comes
 * back when it is runnable again (state TASK_RUNNING, or woken). Context:
 * process context, may sleep; calling it in atomic context is a BUG report
 * (and no switch).
 */
export function schedule(): void {
  if (!sched_running || this_cpu().current == 0) { wfi(); return; }
  if (preempt_count() != 0 || irqs_disabled()) {
    pr_err("BUG: scheduling while atomic: %s/%d, preempt_count %x\n", current().name, current_pid(), preempt_count());
    dump_stack();
    current().state = TASK_RUNNING;
    return;
  }
  trap_self(TRAP_REQ_SWITCH);
}

/**
 * preempt_enable()'s way in: preemption was just re-enabled with a switch
 * pending. The current task stays runnable. Context: process context,
 * interrupts on.
 */
export function preempt_schedule(): void {
  if (!sched_running || this_cpu().current == 0) return;
  trap_self(TRAP_REQ_PREEMPT);
}

/** Let others run (the current task stays runnable). Context: process context. */
export function sched_yield(): void {
  if (!sched_running) return;
  current().state = TASK_RUNNING;
  this_cpu().need_resched = 1;
  schedule();
}

/**
 * Make `t` runnable. Returns true when it was asleep. Context: any
 * (interrupts are saved and disabled inside; takes t's rq lock).
 */
export function wake_up_process(t: task_struct): bool {
  const flags = local_irq_save();
  const rq = rq_of(t.cpu);
  rq_lock(rq);
  let woke = false;
  if (t.state != TASK_RUNNING && t.state != TASK_DEAD && t.state != TASK_FREE) {
    t.state = TASK_RUNNING;
    woke = true;
    if (!t.on_cpu) enqueue(rq, t);
  }
  rq_unlock(rq);
  if (woke) {
    if (t.cpu == smp_processor_id()) this_cpu().need_resched = 1;
    else smp_send_reschedule(t.cpu);
  }
  local_irq_restore(flags);
  return woke;
}

/**
 * Sleep `timeout` jiffies in TASK_UNINTERRUPTIBLE (Linux
 * schedule_timeout_uninterruptible); before the scheduler runs, wait in
 * WFI instead. Context: process context, may sleep.
 */
export function schedule_timeout_uninterruptible(timeout: u64): u64 {
  if (!sched_running || this_cpu().current == 0) { jiffies_delay(timeout); return 0; }
  set_current_state(TASK_UNINTERRUPTIBLE);
  return schedule_timeout(timeout);
}

/**
 * Sleep until woken or for `timeout` jiffies; the caller sets its state
 * first (as in Linux). Returns the jiffies left (0 = the time ran out).
 * Context: process context, may sleep.
 */
export function schedule_timeout(timeout: u64): u64 {
  const t = current();
  const expire = get_jiffies_64() + timeout;
  const flags = local_irq_save();
  const rq = rq_of(t.cpu);
  rq_lock(rq);
  t.wake_at = expire;
  if (!t.on_timer) {
    t.timer_next = rq.timers;
    rq.timers = changetype<usize>(t);
    t.on_timer = 1;
  }
  rq_unlock(rq);
  local_irq_restore(flags);
  schedule();
  const f2 = local_irq_save();
  rq_lock(rq);
  timer_unlink(rq, t);
  rq_unlock(rq);
  local_irq_restore(f2);
  const now = get_jiffies_64();
  return time_after(expire, now) ? expire - now : 0;
}

/**
 * Sleep at least `ms` milliseconds (Linux msleep: whole jiffies, plus one).
 * Context: process context, may sleep; before the scheduler runs it waits
 * in WFI instead.
 */
export function msleep(ms: u64): void {
  // jiffies are advanced by one CPU's tick. On a host that runs that virtual
  // CPU late (QEMU under load) they lag the clock and then catch up in a
  // jump, so counting jiffies alone can return early: also wait for the
  // clock itself, a tick at a time, so that msleep(ms) never returns before
  // `ms` milliseconds of machine time have passed.
  const until = csrr_time() + ms * timebase_freq / 1000;
  let timeout = msecs_to_jiffies(ms) + 1;
  const sleeps = sched_running && this_cpu().current != 0;
  while (true) {
    if (!sleeps) jiffies_delay(timeout);
    else {
      while (timeout != 0) {
        set_current_state(TASK_UNINTERRUPTIBLE);
        timeout = schedule_timeout(timeout);
      }
    }
    if (csrr_time() >= until) return;
    timeout = 1;
  }
}

let might_sleep_warnings: i32 = 0;
/** How often might_sleep() caught a sleep in atomic context. */
export function might_sleep_count(): i32 { return might_sleep_warnings; }

/**
 * Linux's might_sleep(): report a function that may sleep called in atomic
 * context (preemption off, interrupts off or an interrupt handler). Returns
 * true when the context is fine. Context: any.
 */
export function might_sleep(what: string = ""): bool {
  if (!in_atomic()) return true;
  might_sleep_warnings++;
  pr_err("BUG: sleeping function called from invalid context at %s\n", changetype<usize>(what));
  pr_err("in_atomic(): %d, irqs_disabled(): %d, non_block: 0, pid: %d, name: %s\n", preempt_count() != 0 ? 1 : 0,
    irqs_disabled() ? 1 : 0, current_pid(), current_comm());
  pr_err("preempt_count: %x, expected: 0\n", preempt_count());
  dump_stack();
  return false;
}

// --- kernel threads ---------------------------------------------------------------------

/** The captured template for new threads: registers, and the trampoline's frame. */
const template_regs: usize = memory.data(PT_REGS_SIZE, 16);
const TEMPLATE_FRAME_MAX: i32 = 1024;
const template_frame: usize = memory.data(TEMPLATE_FRAME_MAX, 16);
let template_frame_size: u32 = 0;
/** Set at run time so that the optimiser cannot inline the trampoline into sched_init. */
let trampoline_fn: usize = 0;

function capture_request(regs: pt_regs): void {
  memory.copy(template_regs, changetype<usize>(regs), <usize>PT_REGS_SIZE);
  const sp = <usize>regs.sp;
  const fp = <usize>regs.s0;
  const size = <i64>fp - <i64>sp;
  if (size < 16 || size > TEMPLATE_FRAME_MAX || (size & 15) != 0) {
    panic("sched: cannot capture the kthread trampoline (frame %ld bytes)", size);
  }
  template_frame_size = <u32>size;
  memory.copy(template_frame, sp, <usize>size);
}

/**
 * Where every kernel thread starts. Called once at boot (through a
 * pointer, never inlined) to capture its state at the ebreak; each new
 * thread resumes from a copy of that state, right after the ebreak.
 */
function kthread_trampoline(): void {
  this_cpu().trap_request = TRAP_REQ_CAPTURE;
  ebreak();
  const t = changetype<task_struct>(this_cpu().current);
  if (changetype<usize>(t) == 0 || t.fn == 0) return; // the boot-time capture
  const ret = changetype<(arg: u64) => i32>(t.fn)(t.arg);
  kthread_exit(ret);
}

function alloc_task(): task_struct {
  const flags = local_irq_save();
  arch_spin_lock(pool_lock);
  let found: usize = 0;
  for (let i = 0; i < MAX_TASKS; i++) {
    const t = task_at(i);
    if (t.state == TASK_FREE) {
      memory.fill(changetype<usize>(t), 0, TASK_STRIDE);
      t.state = TASK_UNINTERRUPTIBLE;
      t.pid = next_pid++;
      found = changetype<usize>(t);
      break;
    }
  }
  arch_spin_unlock(pool_lock);
  local_irq_restore(flags);
  return changetype<task_struct>(found);
}

/** A stack for a kernel thread: the pool slot no live thread uses. */
function alloc_stack(): usize {
  for (let s = 0; s < MAX_KTHREADS; s++) {
    const base = stack_pool + <usize>s * THREAD_SIZE;
    let used = false;
    for (let i = 0; i < MAX_TASKS; i++) {
      const t = task_at(i);
      if (t.state != TASK_FREE && t.stack == base) { used = true; break; }
    }
    if (!used) return base;
  }
  return 0;
}

/**
 * Create a kernel thread running fn(arg) on CPU `cpu`, not yet runnable
 * (wake_up_process starts it). Returns the task, or null when the pool or
 * the stacks are exhausted or the CPU is offline. Context: process context.
 */
export function kthread_create_on_cpu(fn: (arg: u64) => i32, arg: u64, cpu: i32, name: string): task_struct {
  if (!sched_running || !cpu_online(cpu)) return changetype<task_struct>(0);
  const flags = local_irq_save();
  arch_spin_lock(pool_lock);
  const stack = alloc_stack();
  arch_spin_unlock(pool_lock);
  local_irq_restore(flags);
  if (stack == 0) return changetype<task_struct>(0);
  const t = alloc_task();
  if (changetype<usize>(t) == 0) return t;
  t.stack = stack;
  t.fn = changetype<usize>(fn);
  t.arg = arg;
  t.cpu = cpu;
  t.name = changetype<usize>(name);
  t.flags = TASK_FLAG_KTHREAD;
  // The template's registers and frame, moved to the top of the new stack.
  const regs = changetype<pt_regs>(regs_of(t));
  memory.copy(changetype<usize>(regs), template_regs, <usize>PT_REGS_SIZE);
  const fp = stack + THREAD_SIZE - 16;
  const sp = fp - <usize>template_frame_size;
  memory.copy(sp, template_frame, <usize>template_frame_size);
  store<u64>(fp - 8, 0);   // return address: none (the trampoline never returns)
  store<u64>(fp - 16, 0);  // caller's frame: none (back-traces stop here)
  store<u64>(fp, 0);
  store<u64>(fp + 8, 0);
  regs.sp = <u64><i64><i32>sp;
  regs.s0 = <u64><i64><i32>fp;
  regs.ra = 0;
  regs.status = (regs.status | SSTATUS_SPIE | SSTATUS_SPP);
  return t;
}

/** kthread_create_on_cpu + wake_up_process. */
export function kthread_run_on_cpu(fn: (arg: u64) => i32, arg: u64, cpu: i32, name: string): task_struct {
  const t = kthread_create_on_cpu(fn, arg, cpu, name);
  if (changetype<usize>(t) != 0) wake_up_process(t);
  return t;
}

/** End the current kernel thread with `code`. Never returns. Context: the thread itself. */
export function kthread_exit(code: i32): void {
  const t = current();
  t.exit_code = code;
  t.state = TASK_DEAD;
  schedule();
  panic("kthread_exit: a dead task ran again");
}

/** Tasks in use (not free), for the tests. */
export function nr_tasks(): i32 {
  let n = 0;
  for (let i = 0; i < MAX_TASKS; i++) if (task_at(i).state != TASK_FREE) n++;
  return n;
}

/** Context switches on `cpu` so far. */
export function nr_context_switches(cpu: i32): u64 { return rq_of(cpu).nr_switches; }

// --- bring-up ----------------------------------------------------------------------------

function idle_fn(arg: u64): i32 {
  while (true) wfi();
  return 0;
}

/** Make the calling context a task of this CPU. */
function adopt_context(name: string, pid: i32, flags: u32): task_struct {
  const t = alloc_task();
  if (changetype<usize>(t) == 0) panic("sched: no task for %s", changetype<usize>(name));
  t.pid = pid;
  t.state = TASK_RUNNING;
  t.on_cpu = 1;
  t.cpu = this_cpu().cpu;
  t.flags = flags;
  t.name = changetype<usize>(name);
  return t;
}

/**
 * Start the scheduler on the boot CPU: the boot context becomes "init",
 * CPU 0 gets its idle thread, the switch and preemption hooks go in.
 * Context: boot CPU, interrupts on, before smp_init.
 */
export function sched_init(): void {
  for (let i = 0; i < MAX_TASKS; i++) task_at(i).state = TASK_FREE;
  set_trap_request_hook(TRAP_REQ_CAPTURE, capture_request);
  trampoline_fn = changetype<usize>(kthread_trampoline);
  changetype<() => void>(trampoline_fn)();
  const c = this_cpu();
  const init = adopt_context("init", 1, 0);
  c.current = changetype<usize>(init);
  sched_running = true;
  const idle = kthread_create_on_cpu(idle_fn, 0, c.cpu, "swapper/0");
  if (changetype<usize>(idle) == 0) panic("sched: no idle thread for CPU 0");
  idle.pid = 0;
  idle.flags |= TASK_FLAG_IDLE;
  idle.state = TASK_RUNNING;
  c.idle = changetype<usize>(idle);
  set_trap_request_hook(TRAP_REQ_SWITCH, switch_request);
  set_trap_request_hook(TRAP_REQ_PREEMPT, preempt_request);
  set_irq_exit_hook(sched_irq_exit);
  set_tick_hook(scheduler_tick);
  set_task_pid_hook(current_pid);
  set_task_comm_hook(current_comm);
  set_preempt_schedule_hook(preempt_schedule);
  pr_info("sched: per-CPU round-robin, preemptive at %s; %d kernel threads of %d KiB\n",
    changetype<usize>("the tick"), MAX_KTHREADS, <i32>(THREAD_SIZE >> 10));
}

/** A secondary CPU's part: its boot context becomes its idle task. Context: that CPU, interrupts off. */
export function sched_init_secondary(): void {
  if (!sched_running) return;
  const c = this_cpu();
  const idle = adopt_context("swapper", 0, TASK_FLAG_IDLE | TASK_FLAG_KTHREAD);
  c.idle = changetype<usize>(idle);
  c.current = changetype<usize>(idle);
}
