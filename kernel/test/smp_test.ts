/**
 * Suites that need every hart: `smp` (bring-up), `spinlock` (contention
 * from all CPUs), `ipi` (call-function), `timer` (the tick on every CPU).
 * Cross-CPU work goes through smp_call_function, so each case runs the same
 * code on all online CPUs at once; results land in static counters.
 */
import { kunit, kunit_suite, kunit_case, kunit_skip, KUNIT_EXPECT_EQ, KUNIT_EXPECT_TRUE, KUNIT_EXPECT_GE, KUNIT_EXPECT_FALSE, KUNIT_EXPECT_NE } from "./ktap";
import { spinlock_t, SPINLOCK_SIZE, spin_lock, spin_unlock, spin_lock_irqsave, spin_unlock_irqrestore, spin_trylock, spin_is_locked, spin_lock_init } from "../locking/spinlock";
import { smp_call_function, smp_call_function_single, on_each_cpu, num_online_cpus, cpu_online, online_mask } from "../smp";
import { smp_processor_id, cpu_hot_of, this_cpu } from "../cpu";
import { nr_cpu_ids, cpuid_to_hartid } from "../of/fdt";
import { preempt_count } from "../preempt";
import { irqs_disabled } from "../arch/irqflags";
import { csrr_time, tp_read } from "../arch/riscv";
import { get_jiffies_64, jiffies_delay, tick_period, HZ } from "../time/tick";
import { udelay, timebase_freq } from "../time/clock";
import { cmdline_get_int } from "../cmdline";

const shared = changetype<spinlock_t>(memory.data(SPINLOCK_SIZE, 16));
/** Plain (non-atomic) counter the lock protects, and the CPUs done. */
const counter: usize = memory.data(8, 8);
const finished: usize = memory.data(8, 8);
const seen_mask: usize = memory.data(8, 8);
const slot: usize = memory.data(64 * 8, 8);

const ROUNDS: u64 = 500;

/** Increment `counter` ROUNDS times under `shared`, with a window between load and store. */
function hammer(irqsave: u64): void {
  for (let i: u64 = 0; i < ROUNDS; i++) {
    let flags: u64 = 0;
    if (irqsave) flags = spin_lock_irqsave(shared);
    else spin_lock(shared);
    const v = load<u64>(counter);
    for (let k = 0; k < 8; k++) store<u64>(slot + 8 * 63, load<u64>(slot + 8 * 63) + 1);
    store<u64>(counter, v + 1);
    if (irqsave) spin_unlock_irqrestore(shared, flags);
    else spin_unlock(shared);
  }
  atomic.add<u64>(finished, 1);
}

function contend(test: kunit, irqsave: u64): void {
  spin_lock_init(shared);
  store<u64>(counter, 0);
  atomic.store<u64>(finished, 0);
  const n = num_online_cpus();
  smp_call_function(hammer, irqsave, false);
  hammer(irqsave);
  // Wait for the others while they make progress; give up after 5 s of
  // machine time in which the counter did not move (a deadlock). Progress,
  // not a fixed deadline: under QEMU on a busy host a ticket lock hands over
  // only when the host runs the next ticket's virtual CPU, so 2000 hand-overs
  // can take seconds there without anything being wrong.
  let last = load<u64>(counter);
  let deadline = csrr_time() + timebase_freq * 5;
  while (atomic.load<u64>(finished) < <u64>n && csrr_time() < deadline) {
    const now = atomic.load<u64>(counter);
    if (now != last) { last = now; deadline = csrr_time() + timebase_freq * 5; }
  }
  KUNIT_EXPECT_EQ(test, atomic.load<u64>(finished), n);
  KUNIT_EXPECT_EQ(test, load<u64>(counter), ROUNDS * <u64>n);
  KUNIT_EXPECT_FALSE(test, spin_is_locked(shared));
}

function spinlock_lock_unlock(test: kunit): void {
  spin_lock_init(shared);
  const pc = preempt_count();
  spin_lock(shared);
  KUNIT_EXPECT_TRUE(test, spin_is_locked(shared));
  KUNIT_EXPECT_EQ(test, preempt_count(), pc + 1);
  KUNIT_EXPECT_FALSE(test, spin_trylock(shared));
  spin_unlock(shared);
  KUNIT_EXPECT_FALSE(test, spin_is_locked(shared));
  KUNIT_EXPECT_EQ(test, preempt_count(), pc);
  KUNIT_EXPECT_TRUE(test, spin_trylock(shared));
  spin_unlock(shared);
}

function spinlock_irqsave_restores(test: kunit): void {
  KUNIT_EXPECT_FALSE(test, irqs_disabled());
  const flags = spin_lock_irqsave(shared);
  KUNIT_EXPECT_TRUE(test, irqs_disabled());
  spin_unlock_irqrestore(shared, flags);
  KUNIT_EXPECT_FALSE(test, irqs_disabled());
}

function spinlock_contention_all_cpus(test: kunit): void { contend(test, 0); }
function spinlock_irqsave_contention_all_cpus(test: kunit): void { contend(test, 1); }

// --- ipi ---------------------------------------------------------------------------

function mark_cpu(arg: u64): void {
  atomic.or<u64>(seen_mask, (<u64>1) << (<u64>smp_processor_id()));
  store<u64>(slot + (<usize>smp_processor_id() << 3), arg);
}

function ipi_call_function_all(test: kunit): void {
  if (num_online_cpus() < 2) { kunit_skip(test, "needs at least 2 CPUs"); return; }
  atomic.store<u64>(seen_mask, 0);
  smp_call_function(mark_cpu, 0x1234, true);
  const me = (<u64>1) << (<u64>smp_processor_id());
  KUNIT_EXPECT_EQ(test, atomic.load<u64>(seen_mask), online_mask() & ~me);
  for (let cpu = 0; cpu < nr_cpu_ids; cpu++) {
    if (cpu != smp_processor_id() && cpu_online(cpu)) KUNIT_EXPECT_EQ(test, load<u64>(slot + (<usize>cpu << 3)), 0x1234);
  }
}

function ipi_call_function_single(test: kunit): void {
  if (num_online_cpus() < 2) { kunit_skip(test, "needs at least 2 CPUs"); return; }
  for (let cpu = 0; cpu < nr_cpu_ids; cpu++) {
    if (!cpu_online(cpu)) continue;
    atomic.store<u64>(seen_mask, 0);
    KUNIT_EXPECT_EQ(test, smp_call_function_single(cpu, mark_cpu, <u64>(100 + cpu), true), 0);
    KUNIT_EXPECT_EQ(test, atomic.load<u64>(seen_mask), (<u64>1) << (<u64>cpu));
    KUNIT_EXPECT_EQ(test, load<u64>(slot + (<usize>cpu << 3)), 100 + cpu);
  }
}

function ipi_on_each_cpu(test: kunit): void {
  atomic.store<u64>(seen_mask, 0);
  on_each_cpu(mark_cpu, 7, true);
  KUNIT_EXPECT_EQ(test, atomic.load<u64>(seen_mask), online_mask());
}

function ipi_offline_cpu(test: kunit): void {
  KUNIT_EXPECT_EQ(test, smp_call_function_single(nr_cpu_ids, mark_cpu, 0, true), -6);
}

/** Many back-to-back calls without waiting: none lost, none run twice. */
const ipi_runs: usize = memory.data(8, 8);
function count_run(arg: u64): void { atomic.add<u64>(ipi_runs, arg); }
function ipi_many_calls(test: kunit): void {
  if (num_online_cpus() < 2) { kunit_skip(test, "needs at least 2 CPUs"); return; }
  atomic.store<u64>(ipi_runs, 0);
  const calls = 50;
  for (let i = 0; i < calls; i++) smp_call_function(count_run, 1, i == calls - 1);
  KUNIT_EXPECT_EQ(test, atomic.load<u64>(ipi_runs), <u64>(calls * (num_online_cpus() - 1)));
}

// --- smp ---------------------------------------------------------------------------

function record_identity(arg: u64): void {
  const cpu = smp_processor_id();
  store<u64>(slot + (<usize>cpu << 3), (<u64><u32>this_cpu().hartid << 32) | tp_read());
}

function smp_all_cpus_online(test: kunit): void {
  const max = cmdline_get_int("maxcpus", 64);
  const want = <i64>nr_cpu_ids < max ? nr_cpu_ids : <i32>max;
  KUNIT_EXPECT_EQ(test, num_online_cpus(), want);
  for (let cpu = 0; cpu < want; cpu++) KUNIT_EXPECT_TRUE(test, cpu_online(cpu));
}

function smp_boot_cpu_is_zero(test: kunit): void {
  KUNIT_EXPECT_EQ(test, smp_processor_id(), 0);
  KUNIT_EXPECT_EQ(test, this_cpu().hartid, cpuid_to_hartid(0));
}

function smp_cpu_identity(test: kunit): void {
  memory.fill(slot, 0xff, 64 * 8);
  on_each_cpu(record_identity, 0, true);
  for (let cpu = 0; cpu < nr_cpu_ids; cpu++) {
    if (!cpu_online(cpu)) continue;
    const v = load<u64>(slot + (<usize>cpu << 3));
    KUNIT_EXPECT_EQ(test, <i32>(v >> 32), cpuid_to_hartid(cpu));
    KUNIT_EXPECT_EQ(test, cpu_hot_of(cpu).cpu, cpu);
    // Distinct per-CPU offsets in tp.
    for (let other = 0; other < cpu; other++) {
      if (cpu_online(other)) KUNIT_EXPECT_NE(test, <u32>v, <u32>load<u64>(slot + (<usize>other << 3)));
    }
  }
}

// --- timer -------------------------------------------------------------------------

function timer_ticks_advance(test: kunit): void {
  const j0 = get_jiffies_64();
  const t0 = this_cpu().ticks;
  const deadline = csrr_time() + 4 * tick_period;
  while (get_jiffies_64() == j0 && csrr_time() < deadline) { /* wait */ }
  KUNIT_EXPECT_GE(test, get_jiffies_64(), j0 + 1);
  KUNIT_EXPECT_GE(test, this_cpu().ticks, t0 + 1);
  KUNIT_EXPECT_EQ(test, HZ, 250);
}

function timer_delay_n_ticks(test: kunit): void {
  const n: u64 = 3;
  // Start on a tick boundary, so that a delay of n ticks spans n whole periods.
  const j = get_jiffies_64();
  const deadline = csrr_time() + 4 * tick_period;
  while (get_jiffies_64() == j && csrr_time() < deadline) { /* wait for the next tick */ }
  const j0 = get_jiffies_64();
  const t0 = csrr_time();
  jiffies_delay(n);
  const t1 = csrr_time();
  KUNIT_EXPECT_GE(test, get_jiffies_64() - j0, n);
  // The tick that moved jiffies may itself have come late (QEMU runs a
  // virtual CPU when the host lets it), and the next ones on time: n jiffies
  // span at least n - 1 whole periods.
  KUNIT_EXPECT_GE(test, t1 - t0, (n - 1) * tick_period);
}

function timer_tick_on_every_cpu(test: kunit): void {
  for (let cpu = 0; cpu < nr_cpu_ids; cpu++) store<u64>(slot + (<usize>cpu << 3), cpu_hot_of(cpu).ticks);
  // Every online CPU takes ticks: wait until each has taken one more (at most 25 ticks,
  // so that a host that runs a virtual CPU late, as QEMU can, does not fail the case).
  let all = false;
  for (let round = 0; round < 25 && !all; round++) {
    jiffies_delay(1);
    all = true;
    for (let cpu = 0; cpu < nr_cpu_ids; cpu++) {
      if (cpu_online(cpu) && cpu_hot_of(cpu).ticks <= load<u64>(slot + (<usize>cpu << 3))) all = false;
    }
  }
  for (let cpu = 0; cpu < nr_cpu_ids; cpu++) {
    if (cpu_online(cpu)) KUNIT_EXPECT_GE(test, cpu_hot_of(cpu).ticks, load<u64>(slot + (<usize>cpu << 3)) + 1);
  }
}

function timer_udelay(test: kunit): void {
  const t0 = csrr_time();
  udelay(200);
  KUNIT_EXPECT_GE(test, csrr_time() - t0, timebase_freq * 200 / 1_000_000);
}

export function register_smp_tests(): void {
  kunit_suite("smp");
  kunit_case("smp_all_cpus_online", smp_all_cpus_online);
  kunit_case("smp_boot_cpu_is_zero", smp_boot_cpu_is_zero);
  kunit_case("smp_cpu_identity", smp_cpu_identity);

  kunit_suite("spinlock");
  kunit_case("spinlock_lock_unlock", spinlock_lock_unlock);
  kunit_case("spinlock_irqsave_restores", spinlock_irqsave_restores);
  kunit_case("spinlock_contention_all_cpus", spinlock_contention_all_cpus);
  kunit_case("spinlock_irqsave_contention_all_cpus", spinlock_irqsave_contention_all_cpus);

  kunit_suite("ipi");
  kunit_case("ipi_call_function_all", ipi_call_function_all);
  kunit_case("ipi_call_function_single", ipi_call_function_single);
  kunit_case("ipi_on_each_cpu", ipi_on_each_cpu);
  kunit_case("ipi_offline_cpu", ipi_offline_cpu);
  kunit_case("ipi_many_calls", ipi_many_calls);

  kunit_suite("timer");
  kunit_case("timer_ticks_advance", timer_ticks_advance);
  kunit_case("timer_delay_n_ticks", timer_delay_n_ticks);
  kunit_case("timer_tick_on_every_cpu", timer_tick_on_every_cpu);
  kunit_case("timer_udelay", timer_udelay);
}
