/**
 * The page allocator benchmark (not a test: it prints figures, it passes
 * or fails nothing). Asked for by `bench=page_alloc` on the command line;
 * kernel_main runs it before the self-tests, then powers off as usual.
 *
 * The measure is instret, this hart's retired instructions (the `instret`
 * CSR, readable in S-mode when the firmware sets mcounteren.IR: ours does,
 * in hart_init, and so does OpenSBI). Every op is an allocation plus the
 * free of the same block; the figure is the mean over the iterations, the
 * loop and tick interrupts included (one tick per 4 ms of machine time:
 * well under 1 % here). Under QEMU without -icount, instret reads host
 * ticks, not instructions: the figures mean something on kmemlab only.
 *
 *   bench: order0_pcp <N> insns/op        alloc_page + __free_page, GFP_KERNEL:
 *                                         the per-CPU list's head, no zone lock
 *   bench: order3_pcp <N> insns/op        order 3: still a per-CPU list
 *   bench: order4_buddy <N> insns/op      order 4: the buddy lists under the
 *                                         zone lock, split on alloc, merge on free
 *   bench: order0_contended <N> insns/op  order 0 on every online CPU at once
 *                                         (one kthread each): the mean of the CPUs
 *   bench: order0_burst_contended <N> insns/op
 *                                         every CPU allocates BURST pages, then
 *                                         frees them: the per-CPU lists refill and
 *                                         spill through the shared zone lock
 *
 * The host side (bench/page_alloc.ts) parses these lines.
 *
 * Context: boot CPU, process context (init), interrupts on, after SMP.
 */
import { csrr_instret } from "../arch/riscv";
import { NR_CPUS } from "../arch/layout";
import { alloc_page, alloc_pages, __free_page, __free_pages, drain_all_pages } from "../mm/page_alloc";
import { page } from "../mm/page";
import { GFP_KERNEL } from "../mm/gfp";
import { kthread_run_on_cpu, sched_yield } from "../sched/core";
import { init_completion, complete, wait_for_completion_timeout, COMPLETION_SIZE } from "../sched/wait";
import { cpu_online, num_online_cpus } from "../smp";
import { nr_cpu_ids } from "../of/fdt";
import { HZ } from "../time/tick";
import { pr_info, pr_err } from "../printk";
import { cmdline_find, cmdline_val_ptr, cmdline_val_len, list_contains } from "../cmdline";

const ITERS: u32 = 10000;
const WARMUP: u32 = 200;
const CONTENDED_ITERS: u32 = 2000;
const BURST: u32 = 128;
const BURST_ROUNDS: u32 = 16;

// @ts-ignore: decorator
@inline function isnull(p: page): bool { return changetype<usize>(p) == 0; }

/** alloc + free of one block of `order`, `iters` times. Returns the instructions, or U64 max if an allocation failed. */
function alloc_free_loop(order: u32, iters: u32): u64 {
  const t0 = csrr_instret();
  for (let i: u32 = 0; i < iters; i++) {
    const pg = alloc_pages(GFP_KERNEL, order);
    if (isnull(pg)) return U64.MAX_VALUE;
    __free_pages(pg, order);
  }
  return csrr_instret() - t0;
}

function report(name: string, insns: u64, ops: u64): void {
  if (insns == U64.MAX_VALUE || ops == 0) { pr_err("bench: %s failed (an allocation returned NULL)\n", changetype<usize>(name)); return; }
  pr_info("bench: %s %lu insns/op\n", changetype<usize>(name), (insns + ops / 2) / ops);
}

function single(name: string, order: u32): void {
  drain_all_pages();
  alloc_free_loop(order, WARMUP); // the per-CPU list refilled, the code and data warm
  report(name, alloc_free_loop(order, ITERS), ITERS);
}

// --- all CPUs at once ------------------------------------------------------------------------------

const done = memory.data(COMPLETION_SIZE, 16);
/** The start line: threads wait (yielding, so init can create the rest) until all exist. */
const go: usize = memory.data(4, 4);
/** Per CPU: instructions, ops (u64 each). */
const results: usize = memory.data(NR_CPUS * 16, 8);
const burst_pages: usize = memory.data(<i32>(<usize>NR_CPUS * <usize>BURST * 4), 8);
let bench_burst: bool = false;

function contended_thread(arg: u64): i32 {
  const cpu = <i32>arg;
  while (atomic.load<u32>(go) == 0) sched_yield();
  let insns: u64 = 0, ops: u64 = 0;
  if (!bench_burst) {
    alloc_free_loop(0, WARMUP);
    insns = alloc_free_loop(0, CONTENDED_ITERS);
    ops = CONTENDED_ITERS;
  } else {
    const slots = burst_pages + <usize>cpu * <usize>BURST * 4;
    const t0 = csrr_instret();
    for (let r: u32 = 0; r < BURST_ROUNDS && insns != U64.MAX_VALUE; r++) {
      for (let i: u32 = 0; i < BURST; i++) {
        const pg = alloc_page(GFP_KERNEL);
        if (isnull(pg)) { insns = U64.MAX_VALUE; break; }
        store<u32>(slots + <usize>i * 4, <u32>changetype<usize>(pg));
        ops++;
      }
      for (let i: u32 = 0; i < BURST; i++) {
        const p = load<u32>(slots + <usize>i * 4);
        if (p != 0) __free_page(changetype<page>(<usize>p));
        store<u32>(slots + <usize>i * 4, 0);
      }
    }
    if (insns != U64.MAX_VALUE) insns = csrr_instret() - t0;
  }
  store<u64>(results + (<usize>cpu << 4), insns);
  store<u64>(results + (<usize>cpu << 4) + 8, ops);
  complete(done);
  return 0;
}

function contended(name: string, burst: bool): void {
  drain_all_pages();
  init_completion(done);
  atomic.store<u32>(go, 0);
  memory.fill(results, 0, NR_CPUS * 16);
  memory.fill(burst_pages, 0, <usize>NR_CPUS * <usize>BURST * 4);
  bench_burst = burst;
  let started = 0;
  for (let cpu = 0; cpu < nr_cpu_ids; cpu++) {
    if (!cpu_online(cpu)) continue;
    if (changetype<usize>(kthread_run_on_cpu(contended_thread, <u64>cpu, cpu, "page_bench")) != 0) started++;
  }
  atomic.store<u32>(go, 1);
  if (started != num_online_cpus()) pr_err("bench: %s: started %d of %d threads\n", changetype<usize>(name), started, num_online_cpus());
  let finished = 0;
  for (let i = 0; i < started; i++) if (wait_for_completion_timeout(done, <u64>HZ * 60) != 0) finished++;
  if (finished != started) { pr_err("bench: %s: %d of %d threads did not finish\n", changetype<usize>(name), started - finished, started); return; }
  let sum: u64 = 0, n: u64 = 0, worst: u64 = 0;
  for (let cpu = 0; cpu < nr_cpu_ids; cpu++) {
    const insns = load<u64>(results + (<usize>cpu << 4));
    const ops = load<u64>(results + (<usize>cpu << 4) + 8);
    if (ops == 0) continue;
    if (insns == U64.MAX_VALUE) { report(name, insns, 1); return; }
    const per = insns / ops;
    sum += per;
    n++;
    if (per > worst) worst = per;
  }
  pr_info("bench: %s %lu insns/op\n", changetype<usize>(name), n == 0 ? 0 : (sum + n / 2) / n);
  pr_info("bench-info: %s: %lu CPUs, slowest CPU %lu insns/op\n", changetype<usize>(name), n, worst);
}

/**
 * Run the benchmark if the command line says bench=page_alloc (the value
 * is a comma-separated list). Context: boot CPU, process context,
 * interrupts on, after smp_init; it sleeps.
 */
export function run_page_bench_from_cmdline(): void {
  const v = cmdline_find("bench");
  if (v < 0 || !list_contains(cmdline_val_ptr(v), cmdline_val_len(v), "page_alloc")) return;
  pr_info("bench: page_alloc start (%d CPUs; instret per alloc+free pair)\n", num_online_cpus());
  // Calibration: two reads in a row differ by one instruction where instret
  // counts instructions (ours; QEMU without -icount counts host ticks instead).
  const c0 = csrr_instret();
  const c1 = csrr_instret();
  pr_info("bench-info: instret back to back: %lu\n", c1 - c0);
  single("order0_pcp", 0);
  single("order3_pcp", 3);
  single("order4_buddy", 4);
  contended("order0_contended", false);
  contended("order0_burst_contended", true);
  drain_all_pages();
  pr_info("bench: page_alloc done\n");
}
