/**
 * The slab allocator benchmark (not a test: it prints figures, it passes
 * or fails nothing). Asked for by `bench=slab` on the command line (a
 * comma-separated list: `bench=page_alloc,slab` runs both); kernel_main
 * runs it after the page allocator's, before the self-tests.
 *
 * The measure is instret, this hart's retired instructions (see
 * test/page_bench.ts: meaningful on kmemlab, not under QEMU without
 * -icount). Figures are means over the iterations, the loop and tick
 * interrupts included.
 *
 *   bench: kmalloc64_fast <N> insns/op      kmalloc(64) + kfree, GFP_KERNEL: the
 *                                           CPU's freelist (SLUB's fast path)
 *   bench: cache_fast <N> insns/op          kmem_cache_alloc + kmem_cache_free,
 *                                           a 128-byte cache without flags
 *   bench: cache_debug <N> insns/op         the same with SLAB_POISON | SLAB_RED_ZONE:
 *                                           SLUB's debug path, under list_lock
 *   bench: cache_newslab_alloc <N> insns/op per object, allocating BURST_SLABS
 *                                           slabs' worth from an empty cache:
 *                                           new slabs from the page allocator,
 *                                           set up object by object
 *   bench: cache_burst_free <N> insns/op    per object, freeing them again: the
 *                                           CPU's slab on the fast path, the
 *                                           others through __slab_free (list_lock),
 *                                           full → partial
 *   bench: cache_partial_refill <N> insns/op per object, allocating them once more:
 *                                           the CPU's freelist, then the partial
 *                                           slabs (get_partial under list_lock)
 *   bench: kmalloc64_allcpus <N> insns/op   kmalloc64_fast on every online CPU at
 *                                           once (one kthread each; mean of the CPUs)
 *   bench: kmalloc64_allcpus_rate <N> objs/s  the same in machine time (the time
 *                                           CSR): kmalloc+kfree pairs per second,
 *                                           all CPUs together
 *   bench: cache_burst_allcpus <N> insns/op every CPU: BURST allocations, then BURST
 *                                           frees, from one shared cache: refills and
 *                                           flushes through the node's list_lock
 *   bench: cache_remote_free <N> insns/op   (2+ CPUs) per object freed by another
 *                                           CPU than the one that allocated it:
 *                                           SLUB's remote free (__slab_free)
 *   bench-info: …                           context (fast-path share, objects per slab)
 *
 * The host side (bench/slab.ts) parses these lines.
 *
 * Context: boot CPU, process context (init), interrupts on, after SMP.
 */
import { csrr_instret, csrr_time } from "../arch/riscv";
import { NR_CPUS } from "../arch/layout";
import { GFP_KERNEL } from "../mm/gfp";
import {
  kmem_cache, kmem_cache_cpu, kmem_cache_create, kmem_cache_destroy, kmem_cache_alloc, kmem_cache_free, kmem_cache_shrink,
  kmem_cache_stat, SLAB_POISON, SLAB_RED_ZONE,
} from "../mm/slub";
import { kmalloc, kfree, kmalloc_slab } from "../mm/kmalloc";
import { drain_all_pages } from "../mm/page_alloc";
import { kthread_run_on_cpu, sched_yield } from "../sched/core";
import { init_completion, complete, wait_for_completion_timeout, COMPLETION_SIZE } from "../sched/wait";
import { cpu_online, num_online_cpus } from "../smp";
import { nr_cpu_ids } from "../of/fdt";
import { HZ } from "../time/tick";
import { timebase_freq } from "../time/clock";
import { pr_info, pr_err } from "../printk";
import { cmdline_find, cmdline_val_ptr, cmdline_val_len, list_contains } from "../cmdline";

const ITERS: u32 = 10000;
const WARMUP: u32 = 200;
const ALLCPU_ITERS: u32 = 4000;
/** Slabs' worth of objects in a burst: fewer than MIN_PARTIAL (5), so that every emptied slab stays on the partial list. */
const BURST_SLABS: u32 = 4;
const BURST_ROUNDS: u32 = 8;
/** Objects a CPU allocates at once in the all-CPU burst and the remote free. */
const BURST: u32 = 128;
const ALLCPU_ROUNDS: u32 = 16;
const MAX_SLOTS: u32 = 1024;

const OFF_ALLOC_FAST = offsetof<kmem_cache_cpu>("alloc_fastpath");
const OFF_ALLOC_SLOW = offsetof<kmem_cache_cpu>("alloc_slowpath");

const slots: usize = memory.data(<i32>(MAX_SLOTS * 4), 4);

function report(name: string, insns: u64, ops: u64): void {
  if (insns == U64.MAX_VALUE || ops == 0) { pr_err("bench: %s failed (an allocation returned NULL)\n", changetype<usize>(name)); return; }
  pr_info("bench: %s %lu insns/op\n", changetype<usize>(name), (insns + ops / 2) / ops);
}

/** The fast-path share of the allocations of `s` since `fast0`/`slow0`. */
function fast_share(name: string, s: kmem_cache, fast0: u64, slow0: u64): void {
  const fast = kmem_cache_stat(s, OFF_ALLOC_FAST) - fast0;
  const slow = kmem_cache_stat(s, OFF_ALLOC_SLOW) - slow0;
  pr_info("bench-info: %s: %lu of %lu allocations on the fast path (%s)\n", changetype<usize>(name), fast, fast + slow, <u64>s.name);
}

// --- one CPU ---------------------------------------------------------------------------------------

function kmalloc_loop(size: usize, iters: u32): u64 {
  const t0 = csrr_instret();
  for (let i: u32 = 0; i < iters; i++) {
    const p = kmalloc(size, GFP_KERNEL);
    if (p == 0) return U64.MAX_VALUE;
    kfree(p);
  }
  return csrr_instret() - t0;
}

function cache_loop(s: kmem_cache, iters: u32): u64 {
  const t0 = csrr_instret();
  for (let i: u32 = 0; i < iters; i++) {
    const p = kmem_cache_alloc(s, GFP_KERNEL);
    if (p == 0) return U64.MAX_VALUE;
    kmem_cache_free(s, p);
  }
  return csrr_instret() - t0;
}

function single_kmalloc(name: string, size: usize): void {
  kmalloc_loop(size, WARMUP);
  const s = kmalloc_slab(size, GFP_KERNEL);
  const f0 = kmem_cache_stat(s, OFF_ALLOC_FAST), s0 = kmem_cache_stat(s, OFF_ALLOC_SLOW);
  report(name, kmalloc_loop(size, ITERS), ITERS);
  fast_share(name, s, f0, s0);
}

function single_cache(name: string, s: kmem_cache): void {
  cache_loop(s, WARMUP);
  const f0 = kmem_cache_stat(s, OFF_ALLOC_FAST), s0 = kmem_cache_stat(s, OFF_ALLOC_SLOW);
  report(name, cache_loop(s, ITERS), ITERS);
  fast_share(name, s, f0, s0);
}

/** Allocate n objects of `s` into the slots. Instructions, or U64 max on a failure. */
function alloc_n(s: kmem_cache, base: usize, n: u32): u64 {
  const t0 = csrr_instret();
  for (let i: u32 = 0; i < n; i++) {
    const p = kmem_cache_alloc(s, GFP_KERNEL);
    store<u32>(base + <usize>(i * 4), <u32>p);
    if (p == 0) return U64.MAX_VALUE;
  }
  return csrr_instret() - t0;
}

/** Free the n objects in the slots (NULLs skipped). Instructions. */
function free_n(s: kmem_cache, base: usize, n: u32): u64 {
  const t0 = csrr_instret();
  for (let i: u32 = 0; i < n; i++) {
    const p = <usize>load<u32>(base + <usize>(i * 4));
    kmem_cache_free(s, p);
  }
  const t = csrr_instret() - t0;
  memory.fill(base, 0, <usize>(n * 4));
  return t;
}

/** The slow paths: new slabs, frees that leave the CPU's slab, refills from the partial list. */
function bursts(): void {
  const s = kmem_cache_create("slab_bench-256", 256, 0, 0, 0);
  if (changetype<usize>(s) == 0) { pr_err("bench: cache_newslab_alloc failed (no cache)\n"); return; }
  let n = BURST_SLABS * s.oo_objects;
  if (n > MAX_SLOTS) n = MAX_SLOTS;
  let t_new: u64 = 0, t_free: u64 = 0, t_refill: u64 = 0;
  let failed = false;
  const f0 = kmem_cache_stat(s, OFF_ALLOC_FAST), s0 = kmem_cache_stat(s, OFF_ALLOC_SLOW);
  for (let r: u32 = 0; r < BURST_ROUNDS && !failed; r++) {
    kmem_cache_shrink(s); // no slab left: every allocation below needs a new one at each slab boundary
    const a = alloc_n(s, slots, n);
    if (a == U64.MAX_VALUE) { failed = true; free_n(s, slots, n); break; }
    t_new += a;
    t_free += free_n(s, slots, n);
    const b = alloc_n(s, slots, n);
    if (b == U64.MAX_VALUE) { failed = true; free_n(s, slots, n); break; }
    t_refill += b;
    t_free += free_n(s, slots, n);
  }
  const ops = <u64>n * <u64>BURST_ROUNDS;
  report("cache_newslab_alloc", failed ? U64.MAX_VALUE : t_new, ops);
  report("cache_burst_free", failed ? U64.MAX_VALUE : t_free, 2 * ops);
  report("cache_partial_refill", failed ? U64.MAX_VALUE : t_refill, ops);
  pr_info("bench-info: bursts of %u objects (%u slabs of %u objects, order %u) from %s\n", n, BURST_SLABS, s.oo_objects, s.oo_order,
    <u64>s.name);
  fast_share("bursts", s, f0, s0);
  kmem_cache_destroy(s);
}

// --- every CPU at once -----------------------------------------------------------------------------

const MODE_KMALLOC: i32 = 0;
const MODE_BURST: i32 = 1;
const MODE_REMOTE: i32 = 2;
let mode: i32 = 0;
let shared_cache: usize = 0;
let nr_threads: i32 = 0;

const done = memory.data(COMPLETION_SIZE, 16);
const go: usize = memory.data(4, 4);
/** Per CPU: instructions, ops, start time, end time (u64 each). */
const RES: usize = 32;
const results: usize = memory.data(NR_CPUS * <i32>RES, 8);
/** Per CPU: BURST object slots (the remote free reads its neighbour's). */
const cpu_slots: usize = memory.data(<i32>(<usize>NR_CPUS * <usize>BURST * 4), 8);
/** Thread index → CPU, and the barrier's count and generation. */
const thread_cpu: usize = memory.data(NR_CPUS * 4, 4);
const bar: usize = memory.data(8, 8);

/** Every thread waits here until all have arrived. */
function barrier(): void {
  const gen = atomic.load<u32>(bar, 4);
  if (atomic.add<u32>(bar, 1) == <u32>(nr_threads - 1)) {
    atomic.store<u32>(bar, 0);
    atomic.add<u32>(bar, 1, 4);
  } else {
    while (atomic.load<u32>(bar, 4) == gen) sched_yield();
  }
}

function allcpu_thread(arg: u64): i32 {
  const idx = <i32>arg;
  const cpu = <i32>load<u32>(thread_cpu + <usize>(idx * 4));
  const res = results + <usize>cpu * RES;
  const s = changetype<kmem_cache>(shared_cache);
  const mine = cpu_slots + <usize>cpu * <usize>BURST * 4;
  while (atomic.load<u32>(go) == 0) sched_yield();
  let insns: u64 = 0, ops: u64 = 0;
  if (mode == MODE_KMALLOC) {
    kmalloc_loop(64, WARMUP);
    barrier();
    store<u64>(res, csrr_time(), 16);
    insns = kmalloc_loop(64, ALLCPU_ITERS);
    store<u64>(res, csrr_time(), 24);
    ops = ALLCPU_ITERS;
  } else if (mode == MODE_BURST) {
    barrier();
    for (let r: u32 = 0; r < ALLCPU_ROUNDS && insns != U64.MAX_VALUE; r++) {
      const a = alloc_n(s, mine, BURST);
      if (a == U64.MAX_VALUE) { insns = a; free_n(s, mine, BURST); break; }
      insns += a + free_n(s, mine, BURST);
      ops += BURST;
    }
  } else {
    // Allocate a burst, then free the previous CPU's: every free is remote.
    const from = <i32>load<u32>(thread_cpu + <usize>(((idx + nr_threads - 1) % nr_threads) * 4));
    const theirs = cpu_slots + <usize>from * <usize>BURST * 4;
    for (let r: u32 = 0; r < ALLCPU_ROUNDS; r++) {
      const a = alloc_n(s, mine, BURST);
      barrier();
      if (a == U64.MAX_VALUE) insns = a;
      const f = free_n(s, theirs, BURST);
      if (insns != U64.MAX_VALUE) { insns += f; ops += BURST; }
      barrier();
    }
  }
  store<u64>(res, insns);
  store<u64>(res, ops, 8);
  complete(done);
  return 0;
}

function allcpus(name: string, m: i32): void {
  drain_all_pages();
  mode = m;
  init_completion(done);
  atomic.store<u32>(go, 0);
  atomic.store<u64>(bar, 0);
  memory.fill(results, 0, NR_CPUS * <i32>RES);
  memory.fill(cpu_slots, 0, <usize>NR_CPUS * <usize>BURST * 4);
  nr_threads = 0;
  for (let cpu = 0; cpu < nr_cpu_ids && cpu < NR_CPUS; cpu++) {
    if (!cpu_online(cpu)) continue;
    store<u32>(thread_cpu + <usize>(nr_threads * 4), <u32>cpu);
    nr_threads++;
  }
  let started = 0;
  for (let i = 0; i < nr_threads; i++) {
    const cpu = <i32>load<u32>(thread_cpu + <usize>(i * 4));
    if (changetype<usize>(kthread_run_on_cpu(allcpu_thread, <u64>i, cpu, "slab_bench")) != 0) started++;
  }
  if (started != nr_threads) {
    // The barrier counts every online CPU: without all threads it would never open.
    pr_err("bench: %s failed (started %d of %d threads)\n", changetype<usize>(name), started, nr_threads);
    nr_threads = started;
  }
  atomic.store<u32>(go, 1);
  let finished = 0;
  for (let i = 0; i < started; i++) if (wait_for_completion_timeout(done, <u64>HZ * 60) != 0) finished++;
  if (finished != started) { pr_err("bench: %s: %d of %d threads did not finish\n", changetype<usize>(name), started - finished, started); return; }
  let sum: u64 = 0, n: u64 = 0, worst: u64 = 0, total_ops: u64 = 0;
  let t_start: u64 = U64.MAX_VALUE, t_end: u64 = 0;
  for (let i = 0; i < nr_threads; i++) {
    const res = results + <usize>load<u32>(thread_cpu + <usize>(i * 4)) * RES;
    const insns = load<u64>(res);
    const ops = load<u64>(res, 8);
    if (insns == U64.MAX_VALUE) { report(name, insns, 1); return; }
    if (ops == 0) continue;
    const per = insns / ops;
    sum += per;
    n++;
    total_ops += ops;
    if (per > worst) worst = per;
    if (load<u64>(res, 16) < t_start) t_start = load<u64>(res, 16);
    if (load<u64>(res, 24) > t_end) t_end = load<u64>(res, 24);
  }
  pr_info("bench: %s %lu insns/op\n", changetype<usize>(name), n == 0 ? 0 : (sum + n / 2) / n);
  pr_info("bench-info: %s: %lu CPUs, slowest CPU %lu insns/op\n", changetype<usize>(name), n, worst);
  if (m == MODE_KMALLOC && t_end > t_start) {
    // Pairs per second of machine time: ops / ((t_end − t_start) / timebase_freq).
    const rate = total_ops * timebase_freq / (t_end - t_start);
    pr_info("bench: %s_rate %lu objs/s\n", changetype<usize>(name), rate);
    pr_info("bench-info: %s_rate: %lu kmalloc+kfree pairs in %lu ticks of %lu Hz (machine time)\n", changetype<usize>(name), total_ops,
      t_end - t_start, timebase_freq);
  }
}

/**
 * Run the benchmark if the command line says bench=slab (the value is a
 * comma-separated list). Context: boot CPU, process context, interrupts
 * on, after smp_init; it sleeps.
 */
export function run_slab_bench_from_cmdline(): void {
  const v = cmdline_find("bench");
  if (v < 0 || !list_contains(cmdline_val_ptr(v), cmdline_val_len(v), "slab")) return;
  pr_info("bench: slab start (%d CPUs; instret per alloc+free pair, or per object for bursts)\n", num_online_cpus());
  const c0 = csrr_instret();
  const c1 = csrr_instret();
  pr_info("bench-info: instret back to back: %lu\n", c1 - c0);

  single_kmalloc("kmalloc64_fast", 64);
  const plain = kmem_cache_create("slab_bench-128", 128, 0, 0, 0);
  const debug = kmem_cache_create("slab_bench-debug128", 128, 0, SLAB_POISON | SLAB_RED_ZONE, 0);
  if (changetype<usize>(plain) != 0) single_cache("cache_fast", plain); else pr_err("bench: cache_fast failed (no cache)\n");
  if (changetype<usize>(debug) != 0) single_cache("cache_debug", debug); else pr_err("bench: cache_debug failed (no cache)\n");
  bursts();

  allcpus("kmalloc64_allcpus", MODE_KMALLOC);
  if (changetype<usize>(plain) != 0) {
    shared_cache = changetype<usize>(plain);
    allcpus("cache_burst_allcpus", MODE_BURST);
    if (num_online_cpus() > 1) allcpus("cache_remote_free", MODE_REMOTE);
    else pr_info("bench-info: cache_remote_free: one CPU online, no remote frees\n");
  }
  kmem_cache_destroy(plain);
  kmem_cache_destroy(debug);
  drain_all_pages();
  pr_info("bench: slab done\n");
}
