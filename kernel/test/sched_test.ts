/**
 * Suite `sched`: kernel threads, preemption on the tick, sleeping
 * (msleep), wait queues and completions across CPUs, and the atomic-context
 * check of might_sleep. The cases run in "init" (pid 1) on CPU 0 and sleep
 * while their threads work.
 */
import { kunit, kunit_suite, kunit_case, kunit_skip, KUNIT_EXPECT_EQ, KUNIT_EXPECT_TRUE, KUNIT_EXPECT_GE, KUNIT_EXPECT_FALSE, KUNIT_EXPECT_NE, KUNIT_ASSERT_TRUE } from "./ktap";
import {
  kthread_run_on_cpu, kthread_create_on_cpu, wake_up_process, msleep, current, current_pid, might_sleep, might_sleep_count,
  nr_tasks, task_struct, nr_context_switches, MAX_KTHREADS,
} from "../sched/core";
import { init_completion, complete, wait_for_completion, wait_for_completion_timeout, COMPLETION_SIZE, WAIT_QUEUE_HEAD_SIZE,
  init_waitqueue_head, wait_event, wake_up, wait_event_timeout, reinit_completion, try_wait_for_completion } from "../sched/wait";
import { smp_processor_id } from "../cpu";
import { num_online_cpus, cpu_online } from "../smp";
import { nr_cpu_ids } from "../of/fdt";
import { spinlock_t, SPINLOCK_SIZE, spin_lock, spin_unlock } from "../locking/spinlock";
import { csrr_time } from "../arch/riscv";
import { timebase_freq } from "../time/clock";
import { get_jiffies_64, msecs_to_jiffies } from "../time/tick";
import { console_loglevel, set_console_loglevel } from "../printk";

const done = memory.data(COMPLETION_SIZE, 16);
const go = memory.data(COMPLETION_SIZE, 16);
const wq = memory.data(WAIT_QUEUE_HEAD_SIZE, 16);
const slots: usize = memory.data(64 * 8, 8);
const counters: usize = memory.data(8 * 8, 8);
let stop_flag: i32 = 0;
let wq_flag: i32 = 0;
const finished: usize = memory.data(8, 8);

function record_and_complete(arg: u64): i32 {
  store<u64>(slots + (<usize>arg << 3), (<u64>smp_processor_id() << 32) | <u64><u32>current_pid());
  atomic.add<u64>(finished, 1);
  complete(done);
  return 0;
}

function sched_kthread_runs(test: kunit): void {
  init_completion(done);
  atomic.store<u64>(finished, 0);
  const before = nr_tasks();
  const t = kthread_run_on_cpu(record_and_complete, 0, 0, "kunit_simple");
  if (!KUNIT_ASSERT_TRUE(test, changetype<usize>(t) != 0)) return;
  const pid = t.pid;
  wait_for_completion(done);
  KUNIT_EXPECT_EQ(test, atomic.load<u64>(finished), 1);
  KUNIT_EXPECT_EQ(test, <i32>(load<u64>(slots) & 0xffffffff), pid);
  KUNIT_EXPECT_NE(test, pid, current_pid());
  // The dead thread is reaped at a later switch on its CPU.
  msleep(10);
  KUNIT_EXPECT_EQ(test, nr_tasks(), before);
}

function sched_kthread_on_every_cpu(test: kunit): void {
  init_completion(done);
  atomic.store<u64>(finished, 0);
  memory.fill(slots, 0xff, 64 * 8);
  let started = 0;
  for (let cpu = 0; cpu < nr_cpu_ids; cpu++) {
    if (!cpu_online(cpu)) continue;
    const t = kthread_run_on_cpu(record_and_complete, <u64>cpu, cpu, "kunit_percpu");
    if (changetype<usize>(t) != 0) started++;
  }
  KUNIT_EXPECT_EQ(test, started, num_online_cpus());
  for (let i = 0; i < started; i++) wait_for_completion(done);
  for (let cpu = 0; cpu < nr_cpu_ids; cpu++) {
    if (cpu_online(cpu)) KUNIT_EXPECT_EQ(test, <i32>(load<u64>(slots + (<usize>cpu << 3)) >> 32), cpu);
  }
}

/** Spins without ever yielding: only the tick can take the CPU away. */
function spinner(arg: u64): i32 {
  while (atomic.load<i32>(changetype<usize>(stop_flag_ptr)) == 0) {
    atomic.add<u64>(counters + (<usize>arg << 3), 1);
  }
  complete(done);
  return 0;
}
const stop_flag_ptr: usize = memory.data(4, 4);

function sched_preemption_on_tick(test: kunit): void {
  init_completion(done);
  atomic.store<i32>(stop_flag_ptr, 0);
  memory.fill(counters, 0, 64);
  const cpu = smp_processor_id();
  const a = kthread_run_on_cpu(spinner, 0, cpu, "kunit_spin_a");
  const b = kthread_run_on_cpu(spinner, 1, cpu, "kunit_spin_b");
  if (!KUNIT_ASSERT_TRUE(test, changetype<usize>(a) != 0 && changetype<usize>(b) != 0)) return;
  const switches = nr_context_switches(cpu);
  // Two threads that never yield share our CPU with us: we get it back only through preemption.
  msleep(40);
  const ca = atomic.load<u64>(counters);
  const cb = atomic.load<u64>(counters + 8);
  atomic.store<i32>(stop_flag_ptr, 1);
  wait_for_completion(done);
  wait_for_completion(done);
  KUNIT_EXPECT_GE(test, ca, 1);
  KUNIT_EXPECT_GE(test, cb, 1);
  KUNIT_EXPECT_GE(test, nr_context_switches(cpu) - switches, 4);
  KUNIT_EXPECT_GE(test, a.nivcsw + b.nivcsw, 2);
}

function sched_msleep_duration(test: kunit): void {
  const t0 = csrr_time();
  const j0 = get_jiffies_64();
  msleep(20);
  KUNIT_EXPECT_GE(test, csrr_time() - t0, timebase_freq * 20 / 1000);
  KUNIT_EXPECT_GE(test, get_jiffies_64() - j0, msecs_to_jiffies(20));
}

function wq_cond(): bool { return atomic.load<i32>(changetype<usize>(wq_flag_ptr)) != 0; }
const wq_flag_ptr: usize = memory.data(4, 4);

function wq_waiter(arg: u64): i32 {
  wait_event(wq, wq_cond);
  atomic.add<u64>(finished, 1);
  complete(done);
  return 0;
}

function sched_wait_queue_wakes_all(test: kunit): void {
  init_waitqueue_head(wq);
  init_completion(done);
  atomic.store<i32>(wq_flag_ptr, 0);
  atomic.store<u64>(finished, 0);
  let n = 0;
  for (let cpu = 0; cpu < nr_cpu_ids; cpu++) {
    if (!cpu_online(cpu)) continue;
    if (changetype<usize>(kthread_run_on_cpu(wq_waiter, 0, cpu, "kunit_wq")) != 0) n++;
  }
  msleep(8);
  // Nobody got through before the condition holds.
  KUNIT_EXPECT_EQ(test, atomic.load<u64>(finished), 0);
  atomic.store<i32>(wq_flag_ptr, 1);
  wake_up(wq);
  for (let i = 0; i < n; i++) wait_for_completion(done);
  KUNIT_EXPECT_EQ(test, atomic.load<u64>(finished), n);
}

function sched_wait_event_timeout(test: kunit): void {
  init_waitqueue_head(wq);
  atomic.store<i32>(wq_flag_ptr, 0);
  const j0 = get_jiffies_64();
  KUNIT_EXPECT_EQ(test, wait_event_timeout(wq, wq_cond, 3), 0);
  KUNIT_EXPECT_GE(test, get_jiffies_64() - j0, 3);
  atomic.store<i32>(wq_flag_ptr, 1);
  KUNIT_EXPECT_GE(test, wait_event_timeout(wq, wq_cond, 3), 1);
}

/** Ping-pong: the thread waits for `go`, then completes `done`. */
function ponger(arg: u64): i32 {
  for (let i: u64 = 0; i < arg; i++) {
    wait_for_completion(go);
    complete(done);
  }
  return 0;
}

function sched_completion_across_cpus(test: kunit): void {
  if (num_online_cpus() < 2) { kunit_skip(test, "needs at least 2 CPUs"); return; }
  init_completion(go);
  init_completion(done);
  const rounds = 20;
  const t = kthread_run_on_cpu(ponger, rounds, 1, "kunit_pong");
  if (!KUNIT_ASSERT_TRUE(test, changetype<usize>(t) != 0)) return;
  let ok = 0;
  for (let i = 0; i < rounds; i++) {
    complete(go);
    if (wait_for_completion_timeout(done, 250) != 0) ok++;
  }
  KUNIT_EXPECT_EQ(test, ok, rounds);
  KUNIT_EXPECT_FALSE(test, try_wait_for_completion(done));
}

function sched_completion_timeout(test: kunit): void {
  init_completion(done);
  const j0 = get_jiffies_64();
  KUNIT_EXPECT_EQ(test, wait_for_completion_timeout(done, 2), 0);
  KUNIT_EXPECT_GE(test, get_jiffies_64() - j0, 2);
  complete(done);
  KUNIT_EXPECT_TRUE(test, try_wait_for_completion(done));
  KUNIT_EXPECT_FALSE(test, try_wait_for_completion(done));
}

function sleeper(arg: u64): i32 {
  msleep(arg);
  complete(done);
  return 0;
}

function sched_many_threads(test: kunit): void {
  init_completion(done);
  msleep(8); // threads of earlier cases are reaped at their CPU's next tick
  const n = MAX_KTHREADS - 2; // CPU 0's idle thread holds one stack
  let started = 0;
  for (let i = 0; i < n; i++) {
    let cpu = i % nr_cpu_ids;
    if (!cpu_online(cpu)) cpu = 0;
    if (changetype<usize>(kthread_run_on_cpu(sleeper, <u64>(4 + i % 5), cpu, "kunit_many")) != 0) started++;
  }
  KUNIT_EXPECT_EQ(test, started, n);
  for (let i = 0; i < started; i++) KUNIT_EXPECT_GE(test, wait_for_completion_timeout(done, 500), 1);
  msleep(10);
  // All of them reaped: the pool takes another full round.
  const t = kthread_run_on_cpu(sleeper, 1, 0, "kunit_again");
  KUNIT_EXPECT_TRUE(test, changetype<usize>(t) != 0);
  wait_for_completion(done);
}

const lock = changetype<spinlock_t>(memory.data(SPINLOCK_SIZE, 16));

function sched_might_sleep_in_atomic(test: kunit): void {
  const level = console_loglevel;
  set_console_loglevel(1);
  const before = might_sleep_count();
  KUNIT_EXPECT_TRUE(test, might_sleep("kunit"));
  spin_lock(lock);
  const inside = might_sleep("kunit");
  spin_unlock(lock);
  set_console_loglevel(level);
  KUNIT_EXPECT_FALSE(test, inside);
  KUNIT_EXPECT_EQ(test, might_sleep_count(), before + 1);
}

export function register_sched_tests(): void {
  kunit_suite("sched");
  kunit_case("sched_kthread_runs", sched_kthread_runs);
  kunit_case("sched_kthread_on_every_cpu", sched_kthread_on_every_cpu);
  kunit_case("sched_preemption_on_tick", sched_preemption_on_tick);
  kunit_case("sched_msleep_duration", sched_msleep_duration);
  kunit_case("sched_wait_queue_wakes_all", sched_wait_queue_wakes_all);
  kunit_case("sched_wait_event_timeout", sched_wait_event_timeout);
  kunit_case("sched_completion_across_cpus", sched_completion_across_cpus);
  kunit_case("sched_completion_timeout", sched_completion_timeout);
  kunit_case("sched_many_threads", sched_many_threads);
  kunit_case("sched_might_sleep_in_atomic", sched_might_sleep_in_atomic);
}
