/**
 * Kernel bring-up, in order (Linux init/main.c start_kernel, much smaller).
 * The toolchain's entry stub has already: picked the boot hart, turned on
 * Sv39 with early_pg_dir (the linear map), given every hart a boot stack,
 * set stvec to its trap entry, and called the wasm start function (static
 * initialisers). Then:
 *
 *   boot hart:  kernel_main(hartid, dtb)        ─► the list below
 *   other harts (started by smp_init through SBI HSM):
 *               kernel_secondary(hartid, cpu)  ─► secondary_start_kernel
 *   every trap: kernel_trap(frame)              ─► arch/traps.ts
 *
 * The self-tests run on the boot CPU at the end of bring-up; their result
 * is the machine's exit code (SBI SRST: reason none, or system failure).
 */
import { cpu_hot_init } from "../cpu";
import { sbi_init, sbi_spec_version, sbi_impl_id, sbi_impl_version, sbi_has_dbcn, sbi_has_hsm, sbi_has_srst, sbi_has_ipi, sbi_has_time,
  sbi_major_version, sbi_minor_version } from "../arch/sbi";
import { early_init_dt_scan, of_timebase_frequency, nr_mem_banks, of_mem_bank, nr_reserved, of_reserved, nr_cpu_ids,
  boot_command_line, of_model, RESERVED_NOMAP } from "../of/fdt";
import { parse_early_params, cmdline_get_int, cmdline_get_bool, cmdline_has } from "../cmdline";
import { pr_info, pr_notice, pr_err, pr_warn } from "../printk";
import { set_timebase_freq, timebase_freq } from "../time/clock";
import { tick_init, tick_setup_cpu, HZ } from "../time/tick";
import { trap_init_cpu } from "../arch/traps";
import { plic_init, plic_cpu_init } from "../irq/plic";
import { kmemlab_dma_probe } from "../drivers/kmemlab_dma";
import { smp_prepare_boot_cpu, smp_init, set_secondary_init, secondary_start_kernel } from "../smp";
import { local_irq_enable, local_irq_disable } from "../arch/irqflags";
import { panic } from "../panic";
import { machine_power_off } from "../reboot";
import { register_all_suites, run_selftests, selftest_requested } from "../test/suites";
import { run_page_bench_from_cmdline } from "../test/page_bench";
import { run_slab_bench_from_cmdline } from "../test/slab_bench";
import { run_vm_bench_from_cmdline } from "../test/vm_bench";
import { run_examples_from_cmdline } from "../examples/examples";
import { failslab_init } from "../mm/failslab";
import { UTS_SYSNAME, UTS_RELEASE, UTS_VERSION, LINUX_COMPILER } from "../version";
import { NR_CPUS, PAGE_SIZE } from "../arch/layout";
import { sched_init, sched_init_secondary } from "../sched/core";
import { vmcoreinfo_string, vmcoreinfo_number, vmcoreinfo_symbol, vmcoreinfo_size, vmcoreinfo_offset } from "../vmcoreinfo";
import { log_buf_vmcoreinfo_setup } from "../printk";
import { cpu_hot_area, cpu_hot, CPU_HOT_STRIDE } from "../cpu";
import { cpu_online_mask, cpu_possible_mask } from "../smp";
import { jiffies_64 } from "../time/tick";
import { mm_init, set_bootmem_early_hook, set_dma_window_lookup } from "../mm/init";
import { of_dma_zone_window } from "../of/fdt";
import { bootmem_selftest_early } from "../test/bootmem_test";
import { mm_reports_from_cmdline } from "../mm/vmstat";
import { kmap_init } from "../mm/highmem";
import { vmalloc_init } from "../mm/vmalloc";
import { early_ioremap } from "../arch/early_ioremap";
import { pa_in_linear_map } from "../arch/layout";

export { kernel_trap } from "../arch/traps";

/** Per-CPU setup every secondary CPU runs (interrupts off). */
function secondary_init(): void {
  trap_init_cpu();   // software interrupts: IPIs
  plic_cpu_init();   // this hart's PLIC context
  tick_setup_cpu();  // its periodic tick
  sched_init_secondary(); // its boot context becomes its idle task
}

function print_banner(): void {
  pr_notice("%s version %s (%s) %s\n", changetype<usize>(UTS_SYSNAME), changetype<usize>(UTS_RELEASE),
    changetype<usize>(LINUX_COMPILER), changetype<usize>(UTS_VERSION));
}

function print_machine(): void {
  if (of_model != 0) pr_info("Machine model: %pz\n", of_model);
  if (sbi_spec_version > 0) {
    pr_info("SBI specification v%d.%d detected\n", sbi_major_version(), sbi_minor_version());
    pr_info("SBI implementation ID=0x%lx Version=0x%lx\n", sbi_impl_id, sbi_impl_version);
    pr_info("SBI extensions:%s%s%s%s%s\n", changetype<usize>(sbi_has_time ? " TIME" : ""), changetype<usize>(sbi_has_ipi ? " IPI" : ""),
      changetype<usize>(sbi_has_hsm ? " HSM" : ""), changetype<usize>(sbi_has_srst ? " SRST" : ""), changetype<usize>(sbi_has_dbcn ? " DBCN" : ""));
  } else {
    pr_warn("SBI v0.1 firmware: legacy calls only\n");
  }
  for (let i = 0; i < nr_mem_banks; i++) {
    const m = of_mem_bank(i);
    pr_info("memory: bank %d [mem %#018lx-%#018lx] (%lu MiB)\n", i, m.base, m.base + m.size - 1, m.size >> 20);
  }
  for (let i = 0; i < nr_reserved; i++) {
    const r = of_reserved(i);
    pr_info("memory: reserved [mem %#018lx-%#018lx]%s\n", r.base, r.base + r.size - 1, changetype<usize>(r.flags & RESERVED_NOMAP ? " no-map" : ""));
  }
  pr_info("Kernel command line: %pz\n", boot_command_line);
  pr_info("clocksource: riscv time CSR at %lu Hz, tick %d Hz\n", timebase_freq, HZ);
}

/** The bring-up's part of VMCOREINFO (kernel/vmcoreinfo.ts): release, log, CPUs, time. */
function crash_save_vmcoreinfo(): void {
  vmcoreinfo_string("OSRELEASE", UTS_RELEASE);
  vmcoreinfo_number("PAGESIZE", PAGE_SIZE);
  log_buf_vmcoreinfo_setup();
  vmcoreinfo_number("NR_CPUS", NR_CPUS);
  vmcoreinfo_symbol("cpu_online_mask", cpu_online_mask);
  vmcoreinfo_symbol("cpu_possible_mask", cpu_possible_mask);
  vmcoreinfo_symbol("cpu_hot_area", cpu_hot_area);
  vmcoreinfo_size("cpu_hot", CPU_HOT_STRIDE);
  vmcoreinfo_offset("cpu_hot.cpu", offsetof<cpu_hot>("cpu"));
  vmcoreinfo_offset("cpu_hot.hartid", offsetof<cpu_hot>("hartid"));
  vmcoreinfo_offset("cpu_hot.preempt_count", offsetof<cpu_hot>("preempt_count"));
  vmcoreinfo_offset("cpu_hot.ticks", offsetof<cpu_hot>("ticks"));
  vmcoreinfo_symbol("jiffies_64", jiffies_64);
}

/** Deliberate failures, to check the reporting of each. */
function boot_fault_injection(): void {
  if (cmdline_get_bool("panic_on_boot", false)) panic("panic_on_boot requested on the command line");
  if (cmdline_get_bool("oops_on_boot", false)) {
    pr_notice("oops_on_boot: writing through a NULL pointer\n");
    store<u32>(8, 0xdead);
  }
  if (cmdline_get_bool("hang_on_boot", false)) {
    pr_notice("hang_on_boot: spinning with interrupts off\n");
    local_irq_disable();
    while (true) { /* the host's instruction bound must stop us */ }
  }
}

/**
 * The boot hart's entry: bring the kernel up, run the self-tests the
 * command line asks for, and power off with their verdict. Never returns.
 */
export function kernel_main(hartid: u32, dtb: usize): i32 {
  cpu_hot_init(0, <i32>hartid);                       // this hart is CPU 0: tp → its per-CPU block
  sbi_init();                                          // what the firmware offers (DBCN, HSM, SRST …)
  const dtb_pa: u64 = <u64>dtb;
  if (dtb != 0 && !pa_in_linear_map(dtb_pa)) {
    // QEMU puts the DTB near the top of RAM, beyond the linear map when RAM
    // exceeds 1 GiB: map it through the early I/O window (Linux: early fixmap).
    dtb = early_ioremap(dtb_pa, 1 << 21);
  }
  const dt_err = early_init_dt_scan(dtb, <i32>hartid); // memory banks, CPUs, bootargs
  parse_early_params();                                // loglevel=, quiet, printk.time=
  print_banner();
  crash_save_vmcoreinfo();                             // what the host needs to read our state
  if (dt_err < 0) panic("no device tree at %p (FDT error %d)", dtb, dt_err);
  set_timebase_freq(of_timebase_frequency);            // the time CSR's rate
  print_machine();
  failslab_init();                                     // failslab= / fail_page_alloc= from the command line
  if (selftest_requested()) set_bootmem_early_hook(bootmem_selftest_early); // bootmem cases run now, checked later
  set_dma_window_lookup(of_dma_zone_window);          // ZONE_DMA = the DMA engine's window (dma-ranges)
  mm_init(dtb_pa);                                     // memblock, memory map, zones, buddy allocator
  kmap_init();                                         // highmem: pkmap and fixmap page tables
  vmalloc_init();                                      // vmalloc / ioremap areas (before the DMA engine's ioremap)
  smp_prepare_boot_cpu();                              // possible / online masks
  trap_init_cpu();                                     // software interrupts (IPIs)
  plic_init();                                         // external interrupts: map the PLIC
  plic_cpu_init();                                     //   and open this hart's context
  kmemlab_dma_probe();                                 // the DMA engine, if the board has one
  tick_init();                                         // the periodic tick (HZ)
  tick_setup_cpu();                                    //   on this CPU
  set_secondary_init(secondary_init);
  local_irq_enable();
  sched_init();                                        // tasks: this context becomes init, CPU 0 gets an idle thread
  let maxcpus = <i32>cmdline_get_int("maxcpus", NR_CPUS);
  if (cmdline_has("nosmp")) maxcpus = 1;
  smp_init(maxcpus < 1 ? 1 : maxcpus);                 // the other harts, through SBI HSM
  boot_fault_injection();
  run_page_bench_from_cmdline();                       // bench=page_alloc: the allocator benchmark
  run_slab_bench_from_cmdline();                       // bench=slab: the slab allocator benchmark
  run_vm_bench_from_cmdline();                         // bench=vmalloc: vmalloc, TLB shootdown, per-CPU
  const example = run_examples_from_cmdline();         // example=NAME: the seed documents' examples
  if (example >= 0) {
    mm_reports_from_cmdline();
    machine_power_off(example != 0);
  } else if (selftest_requested()) {
    register_all_suites();
    const failures = run_selftests();
    mm_reports_from_cmdline();                       // report=: /proc-style memory reports, after the tests
    machine_power_off(failures != 0);
  } else {
    pr_info("%s: boot complete on %d CPU%s; no selftest= on the command line, powering off\n",
      changetype<usize>(UTS_SYSNAME), nr_cpu_ids, changetype<usize>(nr_cpu_ids == 1 ? "" : "s"));
    mm_reports_from_cmdline();
    machine_power_off(false);
  }
  return 0;
}

/** A secondary hart's entry (SBI HSM hart_start with opaque = its CPU number). Never returns. */
export function kernel_secondary(hartid: u32, opaque: usize): i32 {
  secondary_start_kernel(<i32>hartid, <i32>opaque);
  return 0;
}

/** asc's abort() (failed assertion, `throw`): a panic naming the place. */
export function kernel_abort(message: usize, file: usize, line: u32, column: u32): void {
  panic("abort: %s at %s:%u:%u", message, file, line, column);
}

/** A wasm trap (unreachable, bad call_indirect, …) inside translated code: a panic with the reason. */
export function kernel_wasm_trap(reason: usize): void {
  panic("wasm trap: %pz", reason);
}
