/**
 * Wait queues and completions (Linux kernel/sched/wait.c, completion.c).
 *
 *   wait_queue_head (WAIT_QUEUE_HEAD_SIZE bytes)      completion (COMPLETION_SIZE)
 *   ┌────────────────┬───────────┬───────┐          ┌──────┬─────┬──────────────────┐
 *   │ lock (16)      │ head task │ count │          │ done │ pad │ wait_queue_head  │
 *   └────────────────┴───────────┴───────┘          └──────┴─────┴──────────────────┘
 *   waiting tasks are chained through task_struct.wq_next
 *
 * A sleeper queues itself and sets its state under the queue's lock, then
 * schedules; a waker takes the same lock and wakes every queued task
 * (all waiters are non-exclusive), so a wakeup between "queue" and
 * "schedule" is never lost: the task is just runnable again when it
 * switches out. Conditions are functions (AssemblyScript has no closures):
 * they read shared state and must not sleep.
 *
 * Lock order: a queue's lock, then a runqueue lock (inside wake_up_process).
 * Before the scheduler runs (or in a context that is no task), waiting
 * falls back to polling with WFI.
 *
 * Define them statically: const wq = memory.data(WAIT_QUEUE_HEAD_SIZE, 16)
 * (zero is a valid empty queue / a completion not yet done).
 */
import { task_struct, current, schedule, wake_up_process, schedule_timeout, sched_running, TASK_RUNNING, TASK_UNINTERRUPTIBLE, might_sleep } from "./core";
import { spinlock_t, spin_lock_irqsave, spin_unlock_irqrestore, spin_lock_init } from "../locking/spinlock";
import { this_cpu } from "../cpu";
import { wfi, csrr_time } from "../arch/riscv";
import { get_jiffies_64, time_after, tick_period } from "../time/tick";

export const WAIT_QUEUE_HEAD_SIZE: i32 = 32;
export const COMPLETION_SIZE: i32 = 48;
/** complete_all's count: every waiter, now and later, goes through. */
const COMPLETE_ALL: u32 = 0x7fff_ffff;

// @ts-ignore: decorator
@inline function wq_lock(wq: usize): spinlock_t { return changetype<spinlock_t>(wq); }

export function init_waitqueue_head(wq: usize): void {
  spin_lock_init(wq_lock(wq));
  store<usize>(wq, 0, 16);
  store<i32>(wq, 0, 20);
}

/** Are there waiters? (A hint: no lock.) */
export function waitqueue_active(wq: usize): bool { return load<usize>(wq, 16) != 0; }

function can_sleep(): bool {
  return sched_running && this_cpu().current != 0;
}

/** Queue `t` (caller holds the lock). */
function add_waiter(wq: usize, t: task_struct): void {
  if (t.wq == wq) return;
  t.wq_next = load<usize>(wq, 16);
  store<usize>(wq, changetype<usize>(t), 16);
  store<i32>(wq, load<i32>(wq, 20) + 1, 20);
  t.wq = wq;
}

/** Unqueue `t` if queued here (caller holds the lock). */
function remove_waiter(wq: usize, t: task_struct): void {
  if (t.wq != wq) return;
  let prev: usize = 0;
  let p = load<usize>(wq, 16);
  while (p != 0 && p != changetype<usize>(t)) { prev = p; p = changetype<task_struct>(p).wq_next; }
  if (p != 0) {
    if (prev == 0) store<usize>(wq, t.wq_next, 16);
    else changetype<task_struct>(prev).wq_next = t.wq_next;
    store<i32>(wq, load<i32>(wq, 20) - 1, 20);
  }
  t.wq_next = 0;
  t.wq = 0;
}

/** Queue the current task on `wq` and set its state (before testing the condition). Context: process. */
export function prepare_to_wait(wq: usize, state: i32): void {
  const t = current();
  const flags = spin_lock_irqsave(wq_lock(wq));
  add_waiter(wq, t);
  t.state = state;
  spin_unlock_irqrestore(wq_lock(wq), flags);
}

/** Back to running and off the queue (after the wait). Context: process. */
export function finish_wait(wq: usize): void {
  const t = current();
  t.state = TASK_RUNNING;
  const flags = spin_lock_irqsave(wq_lock(wq));
  remove_waiter(wq, t);
  spin_unlock_irqrestore(wq_lock(wq), flags);
}

/**
 * Wake every task waiting on `wq`. Returns how many were asleep.
 * Context: any (interrupt handlers too).
 */
export function wake_up(wq: usize): i32 {
  const flags = spin_lock_irqsave(wq_lock(wq));
  let n = 0;
  let p = load<usize>(wq, 16);
  while (p != 0) {
    const t = changetype<task_struct>(p);
    p = t.wq_next;
    if (wake_up_process(t)) n++;
  }
  spin_unlock_irqrestore(wq_lock(wq), flags);
  return n;
}

/** Sleep on `wq` until cond() holds. Context: process context, may sleep. */
export function wait_event(wq: usize, cond: () => bool): void {
  if (cond()) return;
  might_sleep("wait_event");
  if (!can_sleep()) { while (!cond()) wfi(); return; }
  while (true) {
    prepare_to_wait(wq, TASK_UNINTERRUPTIBLE);
    if (cond()) break;
    schedule();
  }
  finish_wait(wq);
}

/**
 * As wait_event, for at most `timeout` jiffies. Returns 0 when the time ran
 * out with cond() still false, else the jiffies left (at least 1).
 */
export function wait_event_timeout(wq: usize, cond: () => bool, timeout: u64): u64 {
  if (cond()) return timeout == 0 ? 1 : timeout;
  might_sleep("wait_event_timeout");
  const end = get_jiffies_64() + timeout;
  if (!can_sleep()) {
    const t_end = csrr_time() + timeout * tick_period;
    while (!cond() && csrr_time() < t_end) wfi();
    return cond() ? 1 : 0;
  }
  let left = timeout;
  while (true) {
    prepare_to_wait(wq, TASK_UNINTERRUPTIBLE);
    if (cond()) break;
    left = schedule_timeout(left);
    if (left == 0) break;
  }
  finish_wait(wq);
  if (cond()) {
    const now = get_jiffies_64();
    return time_after(end, now) ? end - now : 1;
  }
  return 0;
}

// --- completions ---------------------------------------------------------------------

export function init_completion(x: usize): void {
  store<u32>(x, 0);
  init_waitqueue_head(x + 16);
}

/** Make `x` reusable (no waiter may be queued). */
export function reinit_completion(x: usize): void { store<u32>(x, 0); }

/** One waiter (now or later) may go on. Context: any. */
export function complete(x: usize): void {
  const wq = x + 16;
  const flags = spin_lock_irqsave(wq_lock(wq));
  const d = load<u32>(x);
  if (d != COMPLETE_ALL) store<u32>(x, d + 1);
  let p = load<usize>(wq, 16);
  while (p != 0) {
    const t = changetype<task_struct>(p);
    p = t.wq_next;
    wake_up_process(t);
  }
  spin_unlock_irqrestore(wq_lock(wq), flags);
}

/** Every waiter, now and later, may go on. Context: any. */
export function complete_all(x: usize): void {
  store<u32>(x, COMPLETE_ALL - 1);
  complete(x);
}

/** Take one completion if there is one. */
function try_take(x: usize): bool {
  const d = load<u32>(x);
  if (d == 0) return false;
  if (d != COMPLETE_ALL) store<u32>(x, d - 1);
  return true;
}

/** Is a completion available (a hint)? */
export function completion_done(x: usize): bool { return load<u32>(x) != 0; }

/** Take a completion without waiting. Returns false when none is available. Context: any. */
export function try_wait_for_completion(x: usize): bool {
  const wq = x + 16;
  const flags = spin_lock_irqsave(wq_lock(wq));
  const ok = try_take(x);
  spin_unlock_irqrestore(wq_lock(wq), flags);
  return ok;
}

/**
 * Wait for `x`, at most `timeout` jiffies (0 = for ever). Returns the
 * jiffies left (at least 1), or 0 on timeout. Context: process context,
 * may sleep.
 */
export function wait_for_completion_timeout(x: usize, timeout: u64): u64 {
  const wq = x + 16;
  const forever = timeout == 0;
  const end = get_jiffies_64() + timeout;
  might_sleep("wait_for_completion");
  if (!can_sleep()) {
    const t_end = csrr_time() + timeout * tick_period;
    while (true) {
      if (try_wait_for_completion(x)) return 1;
      if (!forever && csrr_time() >= t_end) return 0;
      wfi();
    }
  }
  const t = current();
  let left = timeout;
  while (true) {
    const flags = spin_lock_irqsave(wq_lock(wq));
    if (try_take(x)) {
      remove_waiter(wq, t);
      t.state = TASK_RUNNING;
      spin_unlock_irqrestore(wq_lock(wq), flags);
      if (forever) return 1;
      const now = get_jiffies_64();
      return time_after(end, now) ? end - now : 1;
    }
    if (!forever && left == 0) {
      remove_waiter(wq, t);
      t.state = TASK_RUNNING;
      spin_unlock_irqrestore(wq_lock(wq), flags);
      return 0;
    }
    add_waiter(wq, t);
    t.state = TASK_UNINTERRUPTIBLE;
    spin_unlock_irqrestore(wq_lock(wq), flags);
    if (forever) schedule();
    else left = schedule_timeout(left);
  }
  return 0;
}

/** Wait for `x` for ever. Context: process context, may sleep. */
export function wait_for_completion(x: usize): void {
  wait_for_completion_timeout(x, 0);
}
