/**
 * The table of self-test suites, in the order they run, and the run that
 * the command line asks for (selftest=all or selftest=a,b; selftest_fail=1
 * adds a deliberately failing case, to check the reporting end to end).
 *
 * To add a suite: write kernel/test/<name>_test.ts with a register function
 * (kunit_suite, then kunit_case for each case) and call it below.
 */
import { kunit, kunit_suite, kunit_case, kunit_run_selected, kunit_nr_suites, kunit_suite_name, KUNIT_SUITE_ALWAYS, KUNIT_EXPECT_EQ } from "./ktap";
import { register_fdt_tests } from "./fdt_test";
import { register_printk_tests } from "./printk_test";
import { register_smp_tests } from "./smp_test";
import { register_trap_tests } from "./trap_test";
import { register_sched_tests } from "./sched_test";
import { register_dma_tests } from "./dma_test";
import { register_bootmem_tests } from "./bootmem_test";
import { register_page_alloc_tests } from "./page_alloc_test";
import { register_page_stress_tests } from "./page_stress_test";
import { register_gfp_tests } from "./gfp_test";
import { register_highmem_tests } from "./highmem_test";
import { register_slab_tests } from "./slab_test";
import { register_kmalloc_tests } from "./kmalloc_test";
import { register_mempool_tests } from "./mempool_test";
import { register_slab_stress_tests } from "./slab_stress_test";
import { register_percpu_tests } from "./percpu_test";
import { register_vmalloc_tests } from "./vmalloc_test";
import { register_ioremap_tests } from "./ioremap_test";
import { register_pgtable_tests } from "./pgtable_test";
import { cmdline_find, cmdline_val_ptr, cmdline_val_len, cmdline_get_bool, list_contains } from "../cmdline";
import { bytes_eq_str } from "../lib/string";
import { pr_info, pr_err } from "../printk";

function deliberate_failure(test: kunit): void {
  // The KUnit example's failing expectation.
  KUNIT_EXPECT_EQ(test, 1 + 1, 3);
}

/** Register every suite. Context: boot CPU, once. */
export function register_all_suites(): void {
  register_fdt_tests();
  register_printk_tests();
  register_smp_tests();
  register_trap_tests();
  register_sched_tests();
  register_dma_tests();
  register_bootmem_tests();
  register_page_alloc_tests();
  register_page_stress_tests();
  register_gfp_tests();
  register_highmem_tests();
  register_slab_tests();
  register_kmalloc_tests();
  register_mempool_tests();
  register_slab_stress_tests();
  register_percpu_tests();
  register_vmalloc_tests();
  register_ioremap_tests();
  register_pgtable_tests();
  if (cmdline_get_bool("selftest_fail", false)) {
    kunit_suite("selftest_fail", KUNIT_SUITE_ALWAYS);
    kunit_case("deliberate_failure", deliberate_failure);
  }
}

let sel_ptr: usize = 0;
let sel_len: i32 = 0;

function selected(name: string): bool {
  if (bytes_eq_str(sel_ptr, sel_len, "all")) return true;
  return list_contains(sel_ptr, sel_len, name);
}

/** Is the self-test run requested (selftest= present)? */
export function selftest_requested(): bool {
  return cmdline_find("selftest") >= 0;
}

/**
 * Run the requested suites. Returns the number of failures: failed cases,
 * plus one per requested suite name that does not exist. Context: boot CPU,
 * process context, interrupts on, after SMP bring-up.
 */
export function run_selftests(): i32 {
  const v = cmdline_find("selftest");
  if (v < 0) return 0;
  sel_ptr = cmdline_val_ptr(v);
  sel_len = cmdline_val_len(v);
  // Names that match no suite are an error: a typo must not look like a pass.
  let unknown = 0;
  if (!bytes_eq_str(sel_ptr, sel_len, "all")) {
    let i = 0;
    while (i <= sel_len) {
      let e = i;
      while (e < sel_len && load<u8>(sel_ptr + <usize>e) != 44) e++;
      let found = false;
      for (let s = 0; s < kunit_nr_suites(); s++) if (bytes_eq_str(sel_ptr + <usize>i, e - i, kunit_suite_name(s))) found = true;
      if (!found && e > i) {
        pr_err("selftest: no suite named '%.*pz'\n", e - i, sel_ptr + <usize>i);
        unknown++;
      }
      i = e + 1;
    }
  }
  const r = kunit_run_selected(selected);
  pr_info("selftest: %d suites, %d cases: %d passed, %d failed, %d skipped\n", r.suites_run, r.total, r.passed, r.failed, r.skipped);
  return r.failed + unknown;
}
