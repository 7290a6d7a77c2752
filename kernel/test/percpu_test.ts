/**
 * Suite `percpu`: per-CPU variables and the per-CPU allocator (mm/percpu.ts).
 *
 * Cases:
 *   percpu_first_chunk_layout   one unit per possible CPU, __per_cpu_offset[cpu]
 *                               = cpu × unit, this_cpu_ptr = per_cpu_ptr(smp_processor_id()),
 *                               the reserved and first dynamic chunk records
 *   percpu_static_vars          DEFINE_PER_CPU variables: placed in the static area,
 *                               aligned, zero, one distinct copy per CPU, no overlap
 *   percpu_all_harts_increment  two kthreads per online CPU spin on this_cpu_inc /
 *                               this_cpu_add of a static and a dynamic counter until
 *                               the tick has preempted them; each CPU's copies equal
 *                               the increments made on that CPU exactly (no lost
 *                               update), and the threads were preempted; meanwhile
 *                               CPU 0 keeps IPIing the others, whose handler
 *                               increments the same copies (interrupts the ops)
 *   percpu_this_cpu_ops         read / write / add / add_return / inc / dec / sub on
 *                               this CPU only, other copies untouched
 *   percpu_get_put_cpu          get_cpu / get_cpu_var / get_cpu_ptr raise preempt_count,
 *                               the put_ variants lower it; a GFP_KERNEL allocation
 *                               (alloc_percpu, alloc_page) in between is reported by
 *                               might_sleep, a GFP_NOWAIT one is not
 *   percpu_alloc_sizes_aligns   96 allocations of 12 sizes × 8 alignments: aligned,
 *                               zero on every CPU's copy, no two live ones overlapping
 *                               (interval check and per-CPU patterns intact), freed
 *                               back to the starting free bytes
 *   percpu_random_alloc_free    1200 random allocations (4 B … 3 KiB, align 1 … 512) and
 *                               frees over 48 slots: aligned, zero on every CPU, each
 *                               CPU's copy tagged and intact at its free, chunks that
 *                               grew released, the first chunk back to empty
 *   percpu_chunk_growth         1 KiB allocations until a new chunk appears: the first
 *                               chunk was full, the new one (a vmalloc area of one unit
 *                               per CPU) is usable and zero on every CPU; emptied under
 *                               get_cpu it stays as a spare, the next sleeping free
 *                               releases it (vmalloc pages back where they were)
 *   percpu_free_reuse           first fit: freed offsets come back, reused memory zeroed
 *   percpu_reserved_chunk       __alloc_reserved_percpu lands in the reserved part
 *   percpu_illegal_and_failures the "illegal size (…) or align (…)" WARN for size 0,
 *                               size > PCPU_MIN_UNIT_SIZE, align 12, align 2 pages;
 *                               silence with __GFP_NOWARN; the three "allocation failed"
 *                               reasons; a bad free_percpu is reported and ignored
 *
 * Context: the cases run in init on CPU 0; the increment case sleeps while
 * its threads work.
 */
import { kunit, kunit_suite, kunit_case, kunit_quiet, kunit_loud, kunit_logged, KUNIT_EXPECT_EQ, KUNIT_EXPECT_NE,
  KUNIT_EXPECT_TRUE, KUNIT_EXPECT_GE, KUNIT_EXPECT_LT, KUNIT_ASSERT_TRUE, KUNIT_ASSERT_EQ } from "./ktap";
import {
  per_cpu_var, per_cpu, per_cpu_ptr, this_cpu_ptr, __per_cpu_offset, this_cpu_read, this_cpu_write, this_cpu_add,
  this_cpu_add_return, this_cpu_inc, this_cpu_dec, this_cpu_sub, get_cpu_var, put_cpu_var, get_cpu_ptr, put_cpu_ptr,
  __alloc_percpu, __alloc_percpu_gfp, __alloc_reserved_percpu, alloc_percpu, alloc_percpu_gfp, free_percpu,
  pcpu_chunk_of, pcpu_nr_chunks, pcpu_chunk_free_bytes, pcpu_chunk_nr_alloc, pcpu_base_addr, pcpu_nr_units,
  pcpu_static_used, pcpu_bad_frees, pcpu_chunks_created, pcpu_chunks_destroyed, pcpu_nr_empty_chunks,
  PCPU_UNIT_SIZE, PCPU_MIN_UNIT_SIZE, PERCPU_STATIC_SIZE, PERCPU_MODULE_RESERVE, PERCPU_DYNAMIC_SIZE,
  PCPU_RESERVED_CHUNK, PCPU_FIRST_CHUNK, PERCPU_DESC_MAGIC,
} from "../mm/percpu";
import { alloc_page, __free_page } from "../mm/page_alloc";
import { vmalloc_nr_pages } from "../mm/vmalloc";
import { fail_page_alloc_next } from "../mm/failslab";
import { GFP_KERNEL, GFP_NOWAIT, GFP_ATOMIC, __GFP_NOWARN } from "../mm/gfp";
import { PAGE_SIZE } from "../arch/layout";
import { smp_processor_id, this_cpu } from "../cpu";
import { preempt_count, get_cpu, put_cpu } from "../preempt";
import { kthread_run_on_cpu, might_sleep_count, current } from "../sched/core";
import { init_completion, complete, wait_for_completion_timeout, COMPLETION_SIZE } from "../sched/wait";
import { cpu_online, num_online_cpus, online_mask, smp_call_function_many } from "../smp";
import { prandom_seed, prandom_u64, PRANDOM_STATE_SIZE } from "../lib/prandom";
import { nr_cpu_ids } from "../of/fdt";
import { get_jiffies_64, HZ } from "../time/tick";

// DEFINE_PER_CPU(u64, pcpu_test_counter), a 200-byte cache-aligned block, a u32.
const pcpu_test_counter: usize = memory.data<u32>([8, 8, 0, PERCPU_DESC_MAGIC], 8);
const pcpu_test_block: usize = memory.data<u32>([200, 64, 0, PERCPU_DESC_MAGIC], 8);
const pcpu_test_u32: usize = memory.data<u32>([4, 4, 0, PERCPU_DESC_MAGIC], 8);

// @ts-ignore: decorator
@inline function bytes_all(p: usize, n: usize, v: u8): bool {
  for (let i: usize = 0; i < n; i++) if (load<u8>(p + i) != v) return false;
  return true;
}

function percpu_first_chunk_layout(test: kunit): void {
  KUNIT_EXPECT_EQ(test, pcpu_nr_units, nr_cpu_ids);
  KUNIT_EXPECT_NE(test, pcpu_base_addr, 0);
  KUNIT_EXPECT_EQ(test, pcpu_base_addr & (PAGE_SIZE - 1), 0);
  for (let cpu = 0; cpu < nr_cpu_ids; cpu++) KUNIT_EXPECT_EQ(test, __per_cpu_offset(cpu), <usize>cpu * PCPU_UNIT_SIZE);
  KUNIT_EXPECT_EQ(test, this_cpu().percpu_offset, __per_cpu_offset(smp_processor_id()));
  KUNIT_EXPECT_EQ(test, this_cpu_ptr(pcpu_base_addr + 64), per_cpu_ptr(pcpu_base_addr + 64, smp_processor_id()));
  KUNIT_EXPECT_EQ(test, PERCPU_STATIC_SIZE + PERCPU_MODULE_RESERVE + PERCPU_DYNAMIC_SIZE, PCPU_UNIT_SIZE);
  // Both records of the first chunk, nothing else, nothing allocated.
  KUNIT_EXPECT_EQ(test, pcpu_nr_chunks(), 2);
  KUNIT_EXPECT_EQ(test, pcpu_chunk_free_bytes(PCPU_RESERVED_CHUNK), PERCPU_MODULE_RESERVE);
  KUNIT_EXPECT_EQ(test, pcpu_chunk_free_bytes(PCPU_FIRST_CHUNK), PERCPU_DYNAMIC_SIZE);
  KUNIT_EXPECT_EQ(test, pcpu_chunk_of(pcpu_base_addr + PERCPU_STATIC_SIZE), PCPU_RESERVED_CHUNK);
  KUNIT_EXPECT_EQ(test, pcpu_chunk_of(pcpu_base_addr + PERCPU_STATIC_SIZE + PERCPU_MODULE_RESERVE), PCPU_FIRST_CHUNK);
  KUNIT_EXPECT_EQ(test, pcpu_chunk_of(pcpu_base_addr), -1); // the static area is no chunk's
}

function percpu_static_vars(test: kunit): void {
  const c = per_cpu_var(pcpu_test_counter);
  const b = per_cpu_var(pcpu_test_block);
  const w = per_cpu_var(pcpu_test_u32);
  // Placed once: the same pointer every time, in the static area, aligned.
  KUNIT_EXPECT_EQ(test, per_cpu_var(pcpu_test_counter), c);
  KUNIT_EXPECT_EQ(test, load<u32>(pcpu_test_counter, 8), c);
  KUNIT_EXPECT_TRUE(test, c >= pcpu_base_addr && c + 8 <= pcpu_base_addr + PERCPU_STATIC_SIZE);
  KUNIT_EXPECT_TRUE(test, b >= pcpu_base_addr && b + 200 <= pcpu_base_addr + PERCPU_STATIC_SIZE);
  KUNIT_EXPECT_TRUE(test, w >= pcpu_base_addr && w + 4 <= pcpu_base_addr + PERCPU_STATIC_SIZE);
  KUNIT_EXPECT_EQ(test, c & 7, 0);
  KUNIT_EXPECT_EQ(test, b & 63, 0);
  KUNIT_EXPECT_EQ(test, w & 3, 0);
  KUNIT_EXPECT_GE(test, pcpu_static_used, (b - pcpu_base_addr) + 200);
  // No overlap between the three.
  KUNIT_EXPECT_TRUE(test, c + 8 <= b || b + 200 <= c);
  KUNIT_EXPECT_TRUE(test, c + 8 <= w || w + 4 <= c);
  KUNIT_EXPECT_TRUE(test, b + 200 <= w || w + 4 <= b);
  // One copy per CPU, a unit apart; zero until written (the block is only used here).
  for (let cpu = 0; cpu < nr_cpu_ids; cpu++) {
    KUNIT_EXPECT_EQ(test, per_cpu(pcpu_test_block, cpu), b + <usize>cpu * PCPU_UNIT_SIZE);
    KUNIT_EXPECT_TRUE(test, bytes_all(per_cpu(pcpu_test_block, cpu), 200, 0));
  }
  for (let cpu = 0; cpu < nr_cpu_ids; cpu++) {
    memory.fill(per_cpu(pcpu_test_block, cpu), <u8>(0x40 + cpu), 200);
    store<u32>(per_cpu(pcpu_test_u32, cpu), 0xc0de0000 | <u32>cpu);
  }
  for (let cpu = 0; cpu < nr_cpu_ids; cpu++) {
    KUNIT_EXPECT_TRUE(test, bytes_all(per_cpu(pcpu_test_block, cpu), 200, <u8>(0x40 + cpu)));
    KUNIT_EXPECT_EQ(test, load<u32>(per_cpu(pcpu_test_u32, cpu)), 0xc0de0000 | <u32>cpu);
  }
  KUNIT_EXPECT_EQ(test, load<u32>(get_cpu_var(pcpu_test_u32)), 0xc0de0000 | <u32>smp_processor_id());
  put_cpu_var(pcpu_test_u32);
  for (let cpu = 0; cpu < nr_cpu_ids; cpu++) memory.fill(per_cpu(pcpu_test_block, cpu), 0, 200);
}

// --- every hart at once --------------------------------------------------------------------

const done = memory.data(COMPLETION_SIZE, 16);
/** Per CPU: increments made there by the threads and by the IPI handler (atomic), preemptions seen, pointer mismatches. */
const made: usize = memory.data(64 * 8, 8);
const ipi_made: usize = memory.data(64 * 8, 8);
const threads_done: usize = memory.data(8, 8);
const preempted: usize = memory.data(64 * 8, 8);
const mismatches: usize = memory.data(8, 8);
let dyn_counter: usize = 0;
let inc_deadline: u64 = 0;
/**
 * Past the soft deadline a thread spins on until it has itself been
 * preempted once (its CPU's other thread may start late: on QEMU the harts
 * run in real time and the first thread could finish its four ticks alone),
 * up to this hard limit, after which the case reports what it saw.
 */
let inc_hard_deadline: u64 = 0;
const MIN_OPS: u64 = 300;
const THREADS_PER_CPU: i32 = 2;

function inc_thread(arg: u64): i32 {
  const cpu = smp_processor_id();
  const s = per_cpu_var(pcpu_test_counter);
  if (this_cpu_ptr(s) != per_cpu_ptr(s, cpu) || this_cpu_ptr(dyn_counter) != per_cpu_ptr(dyn_counter, cpu)) {
    atomic.add<u64>(mismatches, 1);
  }
  let ops: u64 = 0;
  while (ops < MIN_OPS || get_jiffies_64() < inc_deadline || (current().nivcsw == 0 && get_jiffies_64() < inc_hard_deadline)) {
    this_cpu_inc(s);
    this_cpu_add(dyn_counter, 3);
    ops++;
  }
  atomic.add<u64>(made + (<usize>cpu << 3), ops);
  atomic.add<u64>(preempted + (<usize>cpu << 3), current().nivcsw);
  atomic.add<u64>(threads_done, 1);
  complete(done);
  return 0;
}

/** IPI handler: interrupts a thread anywhere in its this_cpu_inc, and increments the same copy. */
function ipi_inc(arg: u64): void {
  this_cpu_inc(per_cpu_var(pcpu_test_counter));
  this_cpu_add(dyn_counter, 3);
  const cpu = smp_processor_id();
  atomic.add<u64>(ipi_made + (<usize>cpu << 3), 1);
}

function percpu_all_harts_increment(test: kunit): void {
  const s = per_cpu_var(pcpu_test_counter);
  dyn_counter = alloc_percpu(8);
  if (!KUNIT_ASSERT_TRUE(test, dyn_counter != 0)) return;
  for (let cpu = 0; cpu < nr_cpu_ids; cpu++) store<u64>(per_cpu_ptr(s, cpu), 0);
  memory.fill(made, 0, 64 * 8);
  memory.fill(preempted, 0, 64 * 8);
  memory.fill(ipi_made, 0, 64 * 8);
  store<u64>(mismatches, 0);
  atomic.store<u64>(threads_done, 0);
  init_completion(done);
  // Four ticks of spinning: two threads on one CPU that never yield share it by preemption.
  inc_deadline = get_jiffies_64() + 4;
  inc_hard_deadline = inc_deadline + 250; // one second at HZ = 250
  let started = 0;
  for (let cpu = 0; cpu < nr_cpu_ids; cpu++) {
    if (!cpu_online(cpu)) continue;
    for (let t = 0; t < THREADS_PER_CPU; t++) {
      if (changetype<usize>(kthread_run_on_cpu(inc_thread, <u64>t, cpu, "percpu_inc")) != 0) started++;
    }
  }
  KUNIT_EXPECT_EQ(test, started, num_online_cpus() * THREADS_PER_CPU);
  // Meanwhile the other CPUs take IPIs whose handler increments the same
  // copies: a read-modify-write that interrupts could split would lose some.
  let ipis: u64 = 0;
  const others = online_mask() & ~(<u64>1 << <u64>smp_processor_id());
  while (others != 0 && atomic.load<u64>(threads_done) < <u64>started && ipis < 200000) {
    smp_call_function_many(others, ipi_inc, 0, true);
    ipis++;
  }
  let finished = 0;
  let waits = 0;
  while (finished < started && waits < 60) {
    if (wait_for_completion_timeout(done, <u64>HZ) != 0) finished++; else waits++;
  }
  if (!KUNIT_ASSERT_EQ(test, finished, started)) return;
  KUNIT_EXPECT_EQ(test, load<u64>(mismatches), 0);
  let total: u64 = 0;
  let counted: u64 = 0;
  for (let cpu = 0; cpu < nr_cpu_ids; cpu++) {
    const m = load<u64>(made + (<usize>cpu << 3)) + load<u64>(ipi_made + (<usize>cpu << 3));
    if (cpu_online(cpu) && cpu != smp_processor_id()) KUNIT_EXPECT_EQ(test, load<u64>(ipi_made + (<usize>cpu << 3)), ipis);
    if (cpu_online(cpu)) {
      KUNIT_EXPECT_GE(test, m, MIN_OPS * <u64>THREADS_PER_CPU);
      KUNIT_EXPECT_GE(test, load<u64>(preempted + (<usize>cpu << 3)), 1);
    }
    // Exact: every increment made on this CPU, on this CPU's copy only.
    KUNIT_EXPECT_EQ(test, load<u64>(per_cpu_ptr(s, cpu)), m);
    KUNIT_EXPECT_EQ(test, load<u64>(per_cpu_ptr(dyn_counter, cpu)), 3 * m);
    total += m;
    counted += load<u64>(per_cpu_ptr(s, cpu));
  }
  KUNIT_EXPECT_EQ(test, counted, total);
  free_percpu(dyn_counter);
  dyn_counter = 0;
}

function percpu_this_cpu_ops(test: kunit): void {
  const p = alloc_percpu(8);
  if (!KUNIT_ASSERT_TRUE(test, p != 0)) return;
  for (let cpu = 0; cpu < nr_cpu_ids; cpu++) store<u64>(per_cpu_ptr(p, cpu), 1000 + <u64>cpu);
  const me = get_cpu();
  KUNIT_EXPECT_EQ(test, this_cpu_read(p), 1000 + <u64>me);
  this_cpu_write(p, 5);
  this_cpu_add(p, 10);
  this_cpu_inc(p);
  this_cpu_inc(p);
  this_cpu_dec(p);
  this_cpu_sub(p, 4);
  KUNIT_EXPECT_EQ(test, this_cpu_read(p), 12);
  KUNIT_EXPECT_EQ(test, this_cpu_add_return(p, 30), 42);
  this_cpu_add(p, <u64>-50); // wraps like the C ops on an unsigned long
  KUNIT_EXPECT_EQ(test, <i64>this_cpu_read(p), -8);
  KUNIT_EXPECT_EQ(test, <i64>load<u64>(per_cpu_ptr(p, me)), -8);
  put_cpu();
  for (let cpu = 0; cpu < nr_cpu_ids; cpu++) if (cpu != me) KUNIT_EXPECT_EQ(test, load<u64>(per_cpu_ptr(p, cpu)), 1000 + <u64>cpu);
  free_percpu(p);
}

function percpu_get_put_cpu(test: kunit): void {
  const pc0 = preempt_count();
  const c0 = might_sleep_count();
  const cpu = get_cpu();
  KUNIT_EXPECT_EQ(test, cpu, smp_processor_id());
  KUNIT_EXPECT_EQ(test, preempt_count(), pc0 + 1);
  const v = get_cpu_var(pcpu_test_counter);
  KUNIT_EXPECT_EQ(test, preempt_count(), pc0 + 2);
  KUNIT_EXPECT_EQ(test, v, per_cpu(pcpu_test_counter, cpu));
  put_cpu_var(pcpu_test_counter);
  KUNIT_EXPECT_EQ(test, preempt_count(), pc0 + 1);
  // Non-sleeping allocations are fine here; sleeping ones are reported.
  const a = alloc_percpu_gfp(16, GFP_NOWAIT);
  KUNIT_EXPECT_NE(test, a, 0);
  KUNIT_EXPECT_EQ(test, might_sleep_count(), c0);
  const first = kunit_quiet();
  const b = alloc_percpu(16);
  const pg = alloc_page(GFP_KERNEL);
  kunit_loud();
  KUNIT_EXPECT_EQ(test, might_sleep_count(), c0 + 2);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "BUG: sleeping function called from invalid context at mm/percpu.ts"), 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "BUG: sleeping function called from invalid context at "), 2);
  put_cpu();
  KUNIT_EXPECT_EQ(test, preempt_count(), pc0);
  // get_cpu_ptr / put_cpu_ptr on a dynamic pointer, the same rule.
  const q = get_cpu_ptr(a);
  KUNIT_EXPECT_EQ(test, preempt_count(), pc0 + 1);
  KUNIT_EXPECT_EQ(test, q, per_cpu_ptr(a, smp_processor_id()));
  put_cpu_ptr(a);
  KUNIT_EXPECT_EQ(test, preempt_count(), pc0);
  // Outside: no report.
  const c1 = might_sleep_count();
  const d = alloc_percpu(16);
  KUNIT_EXPECT_EQ(test, might_sleep_count(), c1);
  free_percpu(a);
  free_percpu(b);
  free_percpu(d);
  if (changetype<usize>(pg) != 0) __free_page(pg);
}

// --- dynamic allocations ---------------------------------------------------------------------

const MAX_LIVE: i32 = 128;
const live_ptr: usize = memory.data(MAX_LIVE * 4, 8);
const live_size: usize = memory.data(MAX_LIVE * 4, 8);
const SIZES: usize = memory.data<u32>([1, 3, 4, 8, 12, 16, 24, 40, 64, 100, 256, 1000], 4);
const NR_SIZES: i32 = 12;
const ALIGNS: usize = memory.data<u32>([1, 2, 4, 8, 16, 64, 256, 4096], 4);
const NR_ALIGNS: i32 = 8;

// @ts-ignore: decorator
@inline function pattern(k: i32, cpu: i32): u8 { return <u8>(((k * 7 + cpu * 13) & 0x7f) | 0x80); }

function percpu_alloc_sizes_aligns(test: kunit): void {
  const free0 = pcpu_chunk_free_bytes(PCPU_FIRST_CHUNK);
  const chunks0 = pcpu_nr_chunks();
  let n = 0;
  let bad_align = 0;
  let not_zero = 0;
  for (let si = 0; si < NR_SIZES; si++) {
    for (let ai = 0; ai < NR_ALIGNS; ai++) {
      const size = <usize>load<u32>(SIZES + (<usize>si << 2));
      const align = <usize>load<u32>(ALIGNS + (<usize>ai << 2));
      const p = __alloc_percpu(size, align);
      if (!KUNIT_ASSERT_TRUE(test, p != 0)) return;
      store<u32>(live_ptr + (<usize>n << 2), p);
      store<u32>(live_size + (<usize>n << 2), size);
      for (let cpu = 0; cpu < nr_cpu_ids; cpu++) {
        const q = per_cpu_ptr(p, cpu);
        if ((q & (align - 1)) != 0 || (q & 3) != 0) bad_align++;
        if (!bytes_all(q, size, 0)) not_zero++;
        memory.fill(q, pattern(n, cpu), size);
      }
      n++;
    }
  }
  KUNIT_EXPECT_EQ(test, bad_align, 0);
  KUNIT_EXPECT_EQ(test, not_zero, 0);
  // alloc_percpu: the natural alignment of the size, up to 8.
  const a12 = alloc_percpu(12);
  const a2 = alloc_percpu(2);
  KUNIT_EXPECT_EQ(test, a12 & 7, 0);
  KUNIT_EXPECT_EQ(test, a2 & 1, 0);
  // No two live allocations overlap (unit 0's addresses stand for all units) …
  let overlaps = 0;
  for (let i = 0; i < n; i++) {
    const pi = <usize>load<u32>(live_ptr + (<usize>i << 2));
    const si = <usize>load<u32>(live_size + (<usize>i << 2));
    for (let j = i + 1; j < n; j++) {
      const pj = <usize>load<u32>(live_ptr + (<usize>j << 2));
      const sj = <usize>load<u32>(live_size + (<usize>j << 2));
      if (pi < pj + sj && pj < pi + si) overlaps++;
    }
  }
  KUNIT_EXPECT_EQ(test, overlaps, 0);
  // … and every CPU's copy of every allocation still holds its own pattern.
  let smashed = 0;
  for (let i = 0; i < n; i++) {
    const p = <usize>load<u32>(live_ptr + (<usize>i << 2));
    const size = <usize>load<u32>(live_size + (<usize>i << 2));
    for (let cpu = 0; cpu < nr_cpu_ids; cpu++) if (!bytes_all(per_cpu_ptr(p, cpu), size, pattern(i, cpu))) smashed++;
  }
  KUNIT_EXPECT_EQ(test, smashed, 0);
  for (let i = 0; i < n; i++) free_percpu(<usize>load<u32>(live_ptr + (<usize>i << 2)));
  free_percpu(a12);
  free_percpu(a2);
  KUNIT_EXPECT_EQ(test, pcpu_chunk_free_bytes(PCPU_FIRST_CHUNK), free0);
  KUNIT_EXPECT_EQ(test, pcpu_chunk_nr_alloc(PCPU_FIRST_CHUNK), 0);
  KUNIT_EXPECT_EQ(test, pcpu_nr_chunks(), chunks0);
}

/** Is [p, p + n) zero? p is 4-aligned (every per-CPU allocation is). */
function zero_range(p: usize, n: usize): bool {
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) if (load<u32>(p + i) != 0) return false;
  for (; i < n; i++) if (load<u8>(p + i) != 0) return false;
  return true;
}

const rnd = memory.data(PRANDOM_STATE_SIZE, 8);
const FUZZ_SLOTS: i32 = 48;
const FUZZ_OPS: i32 = 1200;
const fuzz_ptr: usize = memory.data(FUZZ_SLOTS * 4, 8);
const fuzz_size: usize = memory.data(FUZZ_SLOTS * 4, 8);

/** Fill CPU copies of slot k with its tag; check it. The tag has every byte non-zero. */
// @ts-ignore: decorator
@inline function fuzz_tag(k: i32, cpu: i32, serial: i32): u32 { return 0x80808080 | (<u32>k << 24) | (<u32>cpu << 16) | (<u32>serial & 0x7f7f); }

function fuzz_fill(p: usize, n: usize, tag: u32): void {
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) store<u32>(p + i, tag);
  for (; i < n; i++) store<u8>(p + i, <u8>tag);
}

function fuzz_check(p: usize, n: usize, tag: u32): bool {
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) if (load<u32>(p + i) != tag) return false;
  for (; i < n; i++) if (load<u8>(p + i) != <u8>tag) return false;
  return true;
}

const fuzz_serial: usize = memory.data(FUZZ_SLOTS * 4, 8);

function percpu_random_alloc_free(test: kunit): void {
  // Random sizes (4 B … 3 KiB, some large) and alignments (1 … 512), random frees:
  // every allocation aligned and zero on every CPU, every live one intact at its
  // free (no overlap), and at the end the allocator exactly as before.
  prandom_seed(rnd, 0, 0x9e3779b97f4a7c15);
  const chunks0 = pcpu_nr_chunks();
  const created0 = pcpu_chunks_created;
  const destroyed0 = pcpu_chunks_destroyed;
  memory.fill(fuzz_ptr, 0, FUZZ_SLOTS * 4);
  let bad_align = 0;
  let not_zero = 0;
  let smashed = 0;
  let failed = 0;
  let allocs = 0;
  for (let op = 0; op < FUZZ_OPS; op++) {
    const r = prandom_u64(rnd, 0);
    const k = <i32>(r % <u64>FUZZ_SLOTS);
    const p = <usize>load<u32>(fuzz_ptr + (<usize>k << 2));
    if (p != 0) {
      const n = <usize>load<u32>(fuzz_size + (<usize>k << 2));
      const serial = <i32>load<u32>(fuzz_serial + (<usize>k << 2));
      for (let cpu = 0; cpu < nr_cpu_ids; cpu++) if (!fuzz_check(per_cpu_ptr(p, cpu), n, fuzz_tag(k, cpu, serial))) smashed++;
      free_percpu(p);
      store<u32>(fuzz_ptr + (<usize>k << 2), 0);
      continue;
    }
    let size = <usize>((r >> 8) & 511) + 1;
    if (((r >> 20) & 7) == 0) size = <usize>((r >> 24) & 3071) + 1;
    const align = <usize>1 << <usize>((r >> 40) % 10);
    const q = __alloc_percpu(size, align);
    if (q == 0) { failed++; continue; }
    allocs++;
    store<u32>(fuzz_ptr + (<usize>k << 2), q);
    store<u32>(fuzz_size + (<usize>k << 2), size);
    store<u32>(fuzz_serial + (<usize>k << 2), op);
    for (let cpu = 0; cpu < nr_cpu_ids; cpu++) {
      const c = per_cpu_ptr(q, cpu);
      if ((c & (align - 1)) != 0 || (c & 3) != 0) bad_align++;
      if (!zero_range(c, size)) not_zero++;
      fuzz_fill(c, size, fuzz_tag(k, cpu, op));
    }
  }
  for (let k = 0; k < FUZZ_SLOTS; k++) {
    const p = <usize>load<u32>(fuzz_ptr + (<usize>k << 2));
    if (p == 0) continue;
    const n = <usize>load<u32>(fuzz_size + (<usize>k << 2));
    const serial = <i32>load<u32>(fuzz_serial + (<usize>k << 2));
    for (let cpu = 0; cpu < nr_cpu_ids; cpu++) if (!fuzz_check(per_cpu_ptr(p, cpu), n, fuzz_tag(k, cpu, serial))) smashed++;
    free_percpu(p);
  }
  KUNIT_EXPECT_GE(test, allocs, FUZZ_OPS / 3);
  KUNIT_EXPECT_EQ(test, failed, 0);
  KUNIT_EXPECT_EQ(test, bad_align, 0);
  KUNIT_EXPECT_EQ(test, not_zero, 0);
  KUNIT_EXPECT_EQ(test, smashed, 0);
  KUNIT_EXPECT_EQ(test, pcpu_nr_chunks(), chunks0);
  KUNIT_EXPECT_EQ(test, pcpu_chunks_created - created0, pcpu_chunks_destroyed - destroyed0);
  KUNIT_EXPECT_EQ(test, pcpu_chunk_free_bytes(PCPU_FIRST_CHUNK), PERCPU_DYNAMIC_SIZE);
  KUNIT_EXPECT_EQ(test, pcpu_chunk_nr_alloc(PCPU_FIRST_CHUNK), 0);
}

function percpu_chunk_growth(test: kunit): void {
  const chunks0 = pcpu_nr_chunks();
  const created0 = pcpu_chunks_created;
  const destroyed0 = pcpu_chunks_destroyed;
  const vpages0 = vmalloc_nr_pages();
  let n = 0;
  let grown_at = -1;
  while (n < MAX_LIVE) {
    const p = __alloc_percpu(1024, 8);
    if (!KUNIT_ASSERT_TRUE(test, p != 0)) break;
    store<u32>(live_ptr + (<usize>n << 2), p);
    n++;
    if (pcpu_nr_chunks() > chunks0) { grown_at = n - 1; break; }
  }
  if (KUNIT_ASSERT_TRUE(test, grown_at >= 0)) {
    // The first chunk's dynamic part had no room for 1 KiB more.
    KUNIT_EXPECT_LT(test, pcpu_chunk_free_bytes(PCPU_FIRST_CHUNK), 1024);
    KUNIT_EXPECT_EQ(test, grown_at, <i32>(PERCPU_DYNAMIC_SIZE / 1024));
    const p = <usize>load<u32>(live_ptr + (<usize>grown_at << 2));
    const ci = pcpu_chunk_of(p);
    KUNIT_EXPECT_GE(test, ci, PCPU_FIRST_CHUNK + 1);
    KUNIT_EXPECT_EQ(test, pcpu_chunks_created, created0 + 1);
    // A vmalloc area of one unit per possible CPU.
    KUNIT_EXPECT_EQ(test, vmalloc_nr_pages() - vpages0, <u64>(<usize>pcpu_nr_units * PCPU_UNIT_SIZE / PAGE_SIZE));
    // The new chunk is zeroed, usable and private on every CPU.
    for (let cpu = 0; cpu < nr_cpu_ids; cpu++) {
      KUNIT_EXPECT_TRUE(test, bytes_all(per_cpu_ptr(p, cpu), 1024, 0));
      memory.fill(per_cpu_ptr(p, cpu), <u8>(0xa0 + cpu), 1024);
    }
    for (let cpu = 0; cpu < nr_cpu_ids; cpu++) KUNIT_EXPECT_TRUE(test, bytes_all(per_cpu_ptr(p, cpu), 1024, <u8>(0xa0 + cpu)));
    // A second allocation goes to the new chunk too (the first is still full).
    const p2 = __alloc_percpu(1024, 8);
    KUNIT_EXPECT_EQ(test, pcpu_chunk_of(p2), ci);
    free_percpu(p2);
    // Emptied from atomic context, the chunk stays as a spare (vfree sleeps) …
    get_cpu();
    free_percpu(p);
    put_cpu();
    n--;
    KUNIT_EXPECT_EQ(test, pcpu_nr_chunks(), chunks0 + 1);
    KUNIT_EXPECT_EQ(test, pcpu_nr_empty_chunks(), 1);
    KUNIT_EXPECT_EQ(test, pcpu_chunks_destroyed, destroyed0);
  }
  // … and the next free that may sleep releases it.
  for (let i = 0; i < n; i++) free_percpu(<usize>load<u32>(live_ptr + (<usize>i << 2)));
  KUNIT_EXPECT_EQ(test, pcpu_nr_chunks(), chunks0);
  KUNIT_EXPECT_EQ(test, pcpu_nr_empty_chunks(), 0);
  KUNIT_EXPECT_EQ(test, pcpu_chunks_destroyed, destroyed0 + 1);
  KUNIT_EXPECT_EQ(test, pcpu_chunk_free_bytes(PCPU_FIRST_CHUNK), PERCPU_DYNAMIC_SIZE);
  KUNIT_EXPECT_EQ(test, vmalloc_nr_pages(), vpages0);
}

function percpu_free_reuse(test: kunit): void {
  const a = __alloc_percpu(64, 8);
  const b = __alloc_percpu(64, 8);
  const c = __alloc_percpu(64, 8);
  if (!KUNIT_ASSERT_TRUE(test, a != 0 && b != 0 && c != 0)) return;
  // First fit from an empty chunk: consecutive.
  KUNIT_EXPECT_EQ(test, b, a + 64);
  KUNIT_EXPECT_EQ(test, c, b + 64);
  for (let cpu = 0; cpu < nr_cpu_ids; cpu++) memory.fill(per_cpu_ptr(b, cpu), 0x5a, 64);
  free_percpu(b);
  const d = __alloc_percpu(64, 8);
  KUNIT_EXPECT_EQ(test, d, b);
  let dirty = 0;
  for (let cpu = 0; cpu < nr_cpu_ids; cpu++) if (!bytes_all(per_cpu_ptr(d, cpu), 64, 0)) dirty++;
  KUNIT_EXPECT_EQ(test, dirty, 0);
  // A freed hole is split by smaller requests, in order.
  free_percpu(a);
  const e = __alloc_percpu(32, 8);
  const f = __alloc_percpu(32, 8);
  KUNIT_EXPECT_EQ(test, e, a);
  KUNIT_EXPECT_EQ(test, f, a + 32);
  // A request the hole cannot hold goes past it.
  free_percpu(e);
  const g = __alloc_percpu(64, 8);
  KUNIT_EXPECT_EQ(test, g, c + 64);
  free_percpu(f);
  free_percpu(c);
  free_percpu(d);
  free_percpu(g);
  // Everything freed: the same sequence gives the same offsets.
  const a2 = __alloc_percpu(64, 8);
  KUNIT_EXPECT_EQ(test, a2, a);
  free_percpu(a2);
  KUNIT_EXPECT_EQ(test, pcpu_chunk_free_bytes(PCPU_FIRST_CHUNK), PERCPU_DYNAMIC_SIZE);
}

function percpu_reserved_chunk(test: kunit): void {
  const r = __alloc_reserved_percpu(100, 16);
  if (!KUNIT_ASSERT_TRUE(test, r != 0)) return;
  KUNIT_EXPECT_EQ(test, pcpu_chunk_of(r), PCPU_RESERVED_CHUNK);
  KUNIT_EXPECT_EQ(test, r, pcpu_base_addr + PERCPU_STATIC_SIZE);
  KUNIT_EXPECT_EQ(test, r & 15, 0);
  KUNIT_EXPECT_EQ(test, pcpu_chunk_free_bytes(PCPU_RESERVED_CHUNK), <i32>PERCPU_MODULE_RESERVE - 100);
  let nz = 0;
  for (let cpu = 0; cpu < nr_cpu_ids; cpu++) if (!bytes_all(per_cpu_ptr(r, cpu), 100, 0)) nz++;
  KUNIT_EXPECT_EQ(test, nz, 0);
  // Ordinary requests never land there.
  const d = __alloc_percpu(100, 16);
  KUNIT_EXPECT_EQ(test, pcpu_chunk_of(d), PCPU_FIRST_CHUNK);
  free_percpu(d);
  free_percpu(r);
  KUNIT_EXPECT_EQ(test, pcpu_chunk_free_bytes(PCPU_RESERVED_CHUNK), <i32>PERCPU_MODULE_RESERVE);
}

function percpu_illegal_and_failures(test: kunit): void {
  const chunks0 = pcpu_nr_chunks();
  const bad0 = pcpu_bad_frees;
  let first = kunit_quiet();
  KUNIT_EXPECT_EQ(test, __alloc_percpu(0, 4), 0);
  KUNIT_EXPECT_EQ(test, __alloc_percpu(PCPU_MIN_UNIT_SIZE + 1, 4), 0);
  KUNIT_EXPECT_EQ(test, __alloc_percpu(8, 12), 0);
  KUNIT_EXPECT_EQ(test, __alloc_percpu(8, PAGE_SIZE * 2), 0);
  kunit_loud();
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "illegal size ("), 4);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "illegal size (0) or align (4) for percpu allocation"), 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "illegal size (32772) or align (4) for percpu allocation"), 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "illegal size (8) or align (12) for percpu allocation"), 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "illegal size (8) or align (8192) for percpu allocation"), 1);
  // __GFP_NOWARN: the same refusal, silent. Align below 4 is raised, not refused.
  first = kunit_quiet();
  KUNIT_EXPECT_EQ(test, __alloc_percpu_gfp(0, 4, GFP_KERNEL | __GFP_NOWARN), 0);
  const odd = __alloc_percpu(6, 3);
  kunit_loud();
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "illegal size ("), 0);
  KUNIT_EXPECT_NE(test, odd, 0);
  KUNIT_EXPECT_EQ(test, odd & 3, 0);
  free_percpu(odd);
  // The largest request fits a new chunk (the whole unit), and goes with it.
  const big = __alloc_percpu(PCPU_MIN_UNIT_SIZE, PAGE_SIZE);
  KUNIT_EXPECT_NE(test, big, 0);
  KUNIT_EXPECT_GE(test, pcpu_chunk_of(big), PCPU_FIRST_CHUNK + 1);
  free_percpu(big);
  KUNIT_EXPECT_EQ(test, pcpu_nr_chunks(), chunks0);
  // The three failures: atomic with no room, no page block for a new chunk, reserved part full.
  first = kunit_quiet();
  KUNIT_EXPECT_EQ(test, __alloc_percpu_gfp(PCPU_MIN_UNIT_SIZE, 4, GFP_NOWAIT), 0);
  KUNIT_EXPECT_EQ(test, __alloc_percpu_gfp(PCPU_MIN_UNIT_SIZE, 4, GFP_ATOMIC | __GFP_NOWARN), 0);
  fail_page_alloc_next(1);
  KUNIT_EXPECT_EQ(test, __alloc_percpu(PCPU_MIN_UNIT_SIZE, 4), 0);
  fail_page_alloc_next(0);
  KUNIT_EXPECT_EQ(test, __alloc_reserved_percpu(PERCPU_MODULE_RESERVE + 4, 4), 0);
  // A bad free: reported, nothing changes.
  const p = __alloc_percpu(16, 8);
  free_percpu(p + 4);
  free_percpu(pcpu_base_addr); // the static area
  kunit_loud();
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "percpu: allocation failed, size=32768 align=4 atomic=1, atomic alloc failed, no space left"), 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "percpu: allocation failed, size=32768 align=4 atomic=0, failed to allocate new chunk"), 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "percpu: allocation failed, size=8196 align=4 atomic=0, alloc from reserved chunk failed"), 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "percpu: allocation failed"), 3);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "percpu: free_percpu("), 2);
  KUNIT_EXPECT_EQ(test, pcpu_bad_frees, bad0 + 2);
  KUNIT_EXPECT_EQ(test, pcpu_chunk_nr_alloc(PCPU_FIRST_CHUNK), 1);
  free_percpu(p);
  KUNIT_EXPECT_EQ(test, pcpu_chunk_nr_alloc(PCPU_FIRST_CHUNK), 0);
  KUNIT_EXPECT_EQ(test, pcpu_nr_chunks(), chunks0);
}

export function register_percpu_tests(): void {
  kunit_suite("percpu");
  kunit_case("percpu_first_chunk_layout", percpu_first_chunk_layout);
  kunit_case("percpu_static_vars", percpu_static_vars);
  kunit_case("percpu_all_harts_increment", percpu_all_harts_increment);
  kunit_case("percpu_this_cpu_ops", percpu_this_cpu_ops);
  kunit_case("percpu_get_put_cpu", percpu_get_put_cpu);
  kunit_case("percpu_alloc_sizes_aligns", percpu_alloc_sizes_aligns);
  kunit_case("percpu_random_alloc_free", percpu_random_alloc_free);
  kunit_case("percpu_chunk_growth", percpu_chunk_growth);
  kunit_case("percpu_free_reuse", percpu_free_reuse);
  kunit_case("percpu_reserved_chunk", percpu_reserved_chunk);
  kunit_case("percpu_illegal_and_failures", percpu_illegal_and_failures);
}
