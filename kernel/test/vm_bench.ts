/**
 * The vmalloc and per-CPU benchmark (issue 7; not a test: it prints
 * figures, it passes or fails nothing). Asked for by `bench=vmalloc` on the
 * command line (a comma-separated list with the others:
 * `bench=page_alloc,slab,vmalloc`); kernel_main runs it after the slab
 * benchmark, before the self-tests.
 *
 * The measure is instret (see test/page_bench.ts). "Calling CPU" figures
 * are this hart's retired instructions per operation, the loop and tick
 * interrupts included.
 *
 *   bench: vmalloc4 <N> insns/op          vmalloc(4 pages) + vfree: area, page
 *                                         allocations, PTEs, and the TLB
 *                                         shootdown of vfree (IPIs, waits)
 *   bench: vfree1 <N> insns/op            vfree of a 1-page area alone (the
 *                                         vmalloc before it is not counted)
 *   bench: flush_tlb_range1 <N> insns/op  flush_tlb_kernel_range over one page:
 *                                         the shootdown alone
 *   bench: <name>_allharts <N> insns/op   (2+ CPUs) the same summed over every
 *                                         hart: the calling CPU's plus what the
 *                                         other CPUs retired meanwhile (their IPI
 *                                         handlers), less what they retire in an
 *                                         idle stretch of the same length (ticks)
 *   bench: this_cpu_add <N> insns/op      this_cpu_add on an alloc_percpu(8) u64
 *   bench: percpu_alloc8 <N> insns/op     alloc_percpu(8) + free_percpu (first
 *                                         chunk: bitmap first fit, zeroing on
 *                                         every CPU's unit)
 *   bench-info: …                         context
 *
 * The other CPUs' instructions are read on each of them (on_each_cpu
 * reading its own instret) before and after the loop. They sit in wfi when
 * idle, and wfi does not retire instructions while it waits, so what they
 * retire is their IPI handling plus ticks; the idle baseline (the same
 * sampling around a local spin of the loop's length) removes the ticks and
 * the sampling itself. The host side (bench/vmalloc.ts) parses these lines.
 *
 * Context: boot CPU, process context (init), interrupts on, after SMP; it
 * sleeps (vmalloc, vfree, IPIs).
 */
import { csrr_instret } from "../arch/riscv";
import { NR_CPUS, PAGE_SIZE, VMALLOC_START } from "../arch/layout";
import { flush_tlb_kernel_range } from "../arch/pgtable";
import { vmalloc, vfree } from "../mm/vmalloc";
import { alloc_percpu, free_percpu, this_cpu_add, per_cpu_ptr } from "../mm/percpu";
import { cpu_online, num_online_cpus, on_each_cpu } from "../smp";
import { nr_cpu_ids } from "../of/fdt";
import { smp_processor_id } from "../cpu";
import { pr_info, pr_err } from "../printk";
import { cmdline_find, cmdline_val_ptr, cmdline_val_len, list_contains } from "../cmdline";

const VM_ITERS: u32 = 1000;
const VM_WARMUP: u32 = 20;
const ADD_ITERS: u32 = 100000;
const PCPU_ITERS: u32 = 5000;
const PCPU_WARMUP: u32 = 50;

const MODE_VMALLOC4: i32 = 0;
const MODE_VFREE1: i32 = 1;
const MODE_FLUSH1: i32 = 2;
const MODE_SPIN: i32 = 3;

/** Per CPU: instret at the first sample and at the second (u64 each). */
const samples: usize = memory.data(NR_CPUS * 16, 8);
/** The spin's target (instructions) for MODE_SPIN. */
let spin_target: u64 = 0;

function report(name: string, insns: u64, ops: u64): void {
  if (insns == U64.MAX_VALUE || ops == 0) { pr_err("bench: %s failed (an allocation returned NULL)\n", changetype<usize>(name)); return; }
  pr_info("bench: %s %lu insns/op\n", changetype<usize>(name), (insns + ops / 2) / ops);
}

/** on_each_cpu callback: this CPU's instret into its sample slot `arg` (0 or 1). */
function sample_instret(arg: u64): void {
  const cpu = smp_processor_id();
  if (cpu < 0 || cpu >= NR_CPUS) return;
  store<u64>(samples + <usize>cpu * 16 + <usize>(arg * 8), csrr_instret());
}

/** Instructions the other online CPUs retired between the two samples. */
function remote_delta(): u64 {
  const me = smp_processor_id();
  let sum: u64 = 0;
  for (let cpu = 0; cpu < nr_cpu_ids && cpu < NR_CPUS; cpu++) {
    if (cpu == me || !cpu_online(cpu)) continue;
    const s = samples + <usize>cpu * 16;
    sum += load<u64>(s, 8) - load<u64>(s);
  }
  return sum;
}

/**
 * One loop of `mode`, `iters` operations. Returns the calling CPU's timed
 * instructions (for vfree1 the vfree calls only), or U64 max on a failure.
 * `span` (if not 0) receives the whole loop's instructions, untimed parts included.
 */
function run_loop(mode: i32, iters: u32, span: usize): u64 {
  const t0 = csrr_instret();
  let timed: u64 = 0;
  let failed = false;
  if (mode == MODE_VMALLOC4) {
    for (let i: u32 = 0; i < iters; i++) {
      const p = vmalloc(4 * <u64>PAGE_SIZE);
      if (p == 0) { failed = true; break; }
      vfree(p);
    }
  } else if (mode == MODE_VFREE1) {
    for (let i: u32 = 0; i < iters; i++) {
      const p = vmalloc(<u64>PAGE_SIZE);
      if (p == 0) { failed = true; break; }
      const a = csrr_instret();
      vfree(p);
      timed += csrr_instret() - a;
    }
  } else if (mode == MODE_FLUSH1) {
    // A page of the vmalloc range: the flush does not care whether it is mapped.
    const va = VMALLOC_START + 16 * <u64>PAGE_SIZE;
    for (let i: u32 = 0; i < iters; i++) flush_tlb_kernel_range(va, va + PAGE_SIZE);
  } else {
    while (csrr_instret() - t0 < spin_target) {}
  }
  const total = csrr_instret() - t0;
  if (span != 0) store<u64>(span, total);
  if (failed) return U64.MAX_VALUE;
  return mode == MODE_VFREE1 ? timed : total;
}

const span_buf: usize = memory.data(8, 8);

/** Measure `mode` on this CPU and, with 2+ CPUs, over every hart. */
function shootdown_bench(name: string, all_name: string, mode: i32): void {
  if (run_loop(mode, VM_WARMUP, 0) == U64.MAX_VALUE) { report(name, U64.MAX_VALUE, 1); return; }
  const multi = num_online_cpus() > 1;
  if (multi) on_each_cpu(sample_instret, 0, true);
  const local = run_loop(mode, VM_ITERS, span_buf);
  if (multi) on_each_cpu(sample_instret, 1, true);
  report(name, local, VM_ITERS);
  if (!multi || local == U64.MAX_VALUE) return;
  const remote = remote_delta();
  // The idle baseline: the other CPUs over a local spin as long as the loop.
  spin_target = load<u64>(span_buf);
  on_each_cpu(sample_instret, 0, true);
  run_loop(MODE_SPIN, 0, 0);
  on_each_cpu(sample_instret, 1, true);
  const idle = remote_delta();
  const extra = remote > idle ? remote - idle : 0;
  report(all_name, local + extra, VM_ITERS);
  pr_info("bench-info: %s: other CPUs %lu insns/op (%lu over the loop, %lu over an idle stretch of the same length)\n",
    changetype<usize>(name), (extra + VM_ITERS / 2) / VM_ITERS, remote, idle);
}

function this_cpu_add_bench(): void {
  const p = alloc_percpu(8);
  if (p == 0) { report("this_cpu_add", U64.MAX_VALUE, 1); return; }
  for (let i: u32 = 0; i < 100; i++) this_cpu_add(p, 1);
  const t0 = csrr_instret();
  for (let i: u32 = 0; i < ADD_ITERS; i++) this_cpu_add(p, 1);
  const t = csrr_instret() - t0;
  // The empty loop's share, measured the same way, for the info line.
  const e0 = csrr_instret();
  for (let i: u32 = 0; i < ADD_ITERS; i++) { store<u64>(span_buf, <u64>i); }
  const e = csrr_instret() - e0;
  report("this_cpu_add", t, ADD_ITERS);
  let sum: u64 = 0;
  for (let cpu = 0; cpu < nr_cpu_ids && cpu < NR_CPUS; cpu++) if (cpu_online(cpu)) sum += load<u64>(per_cpu_ptr(p, cpu));
  pr_info("bench-info: this_cpu_add: a bare loop with one store is %lu insns/iteration; sum over CPUs %lu\n",
    (e + <u64>ADD_ITERS / 2) / <u64>ADD_ITERS, sum);
  free_percpu(p);
}

function percpu_alloc_loop(iters: u32): u64 {
  const t0 = csrr_instret();
  for (let i: u32 = 0; i < iters; i++) {
    const p = alloc_percpu(8);
    if (p == 0) return U64.MAX_VALUE;
    free_percpu(p);
  }
  return csrr_instret() - t0;
}

/**
 * Run the benchmark if the command line says bench=vmalloc (the value is a
 * comma-separated list). Context: boot CPU, process context, interrupts
 * on, after smp_init; it sleeps.
 */
export function run_vm_bench_from_cmdline(): void {
  const v = cmdline_find("bench");
  if (v < 0 || !list_contains(cmdline_val_ptr(v), cmdline_val_len(v), "vmalloc")) return;
  pr_info("bench: vmalloc start (%d CPUs; instret per operation)\n", num_online_cpus());
  shootdown_bench("vmalloc4", "vmalloc4_allharts", MODE_VMALLOC4);
  shootdown_bench("vfree1", "vfree1_allharts", MODE_VFREE1);
  shootdown_bench("flush_tlb_range1", "flush_tlb_range1_allharts", MODE_FLUSH1);
  this_cpu_add_bench();
  percpu_alloc_loop(PCPU_WARMUP);
  report("percpu_alloc8", percpu_alloc_loop(PCPU_ITERS), PCPU_ITERS);
  pr_info("bench: vmalloc done\n");
}
