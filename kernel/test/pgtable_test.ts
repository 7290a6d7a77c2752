/**
 * pgtable: the kernel's own Sv39 tables (arch/pgtable.ts swapper_pg_dir),
 * checked by walking what satp points at: every online CPU runs on
 * swapper_pg_dir; .text is R+X and never W, .rodata R only, .data/.bss and
 * the wasm data RW and never X, free memory of the linear map RW and never
 * X in 2 MiB leaves; a write to .text or .rodata faults
 * (copy_to_kernel_nofault), and set_memory_rw / set_memory_ro change a
 * page's permission on every CPU.
 */
import { kunit, kunit_suite, kunit_case, kunit_skip, KUNIT_EXPECT_EQ, KUNIT_EXPECT_TRUE, KUNIT_ASSERT_TRUE, kunit_quiet, kunit_loud } from "./ktap";
import { vaddr, __pa, NR_CPUS } from "../arch/layout";
import { pte_lookup, PTE_X, PTE_W, PTE_R, PTE_V, swapper_pg_dir, kernel_text_end, kernel_rodata_end, kernel_bss_start,
  set_memory_rw, set_memory_ro, linear_pte_tables_used } from "../arch/pgtable";
import { current_pgd } from "../arch/early_ioremap";
import { copy_to_kernel_nofault, copy_from_kernel_nofault } from "../arch/traps";
import { csrr_stvec, csrr_satp } from "../arch/riscv";
import { on_each_cpu, cpu_online } from "../smp";
import { smp_processor_id } from "../cpu";
import { __get_free_page, free_page } from "../mm/page_alloc";
import { GFP_KERNEL } from "../mm/gfp";

const satp_of: usize = memory.data(NR_CPUS * 8, 8);
const wasm_var: usize = memory.data(64, 8);
const buf: usize = memory.data(16, 8);

function rwx(va: u64): u64 { return pte_lookup(va) & (PTE_V | PTE_R | PTE_W | PTE_X); }

function record_satp(arg: u64): void { store<u64>(satp_of + <usize>smp_processor_id() * 8, csrr_satp()); }

function every_cpu_on_swapper(test: kunit): void {
  KUNIT_ASSERT_TRUE(test, swapper_pg_dir != 0);
  KUNIT_EXPECT_EQ(test, current_pgd(), swapper_pg_dir);
  memory.fill(satp_of, 0, NR_CPUS * 8);
  on_each_cpu(record_satp, 0, true);
  let bad = 0;
  for (let c = 0; c < NR_CPUS; c++) {
    if (!cpu_online(c)) continue;
    if (((load<u64>(satp_of + <usize>c * 8) & ((<u64>1 << 44) - 1)) << 12) != __pa(swapper_pg_dir)) bad++;
  }
  KUNIT_EXPECT_EQ(test, bad, 0);
  // The image's blocks have 4 KiB tables; the identity slot of early_pg_dir is gone.
  KUNIT_EXPECT_TRUE(test, linear_pte_tables_used() >= 1);
  KUNIT_EXPECT_EQ(test, load<u64>(swapper_pg_dir + 2 * 8), 0);
}

function text_is_rx(test: kunit): void {
  KUNIT_ASSERT_TRUE(test, kernel_text_end != 0);
  const entry = csrr_stvec() & ~<u64>3; // __kernel_trap_entry, in .text
  KUNIT_EXPECT_EQ(test, rwx(entry), PTE_V | PTE_R | PTE_X);
  KUNIT_EXPECT_EQ(test, rwx(vaddr(0x8020_0000)), PTE_V | PTE_R | PTE_X);
  KUNIT_EXPECT_EQ(test, rwx(vaddr(<usize>kernel_text_end) - 4), PTE_V | PTE_R | PTE_X);
}

function rodata_is_ro(test: kunit): void {
  KUNIT_ASSERT_TRUE(test, kernel_rodata_end > kernel_text_end);
  KUNIT_EXPECT_EQ(test, rwx(vaddr(<usize>kernel_text_end)), PTE_V | PTE_R);
  KUNIT_EXPECT_EQ(test, rwx(vaddr(<usize>kernel_rodata_end) - 8), PTE_V | PTE_R);
}

function data_is_rw_nx(test: kunit): void {
  KUNIT_EXPECT_EQ(test, rwx(vaddr(<usize>kernel_rodata_end)), PTE_V | PTE_R | PTE_W);   // .data
  KUNIT_EXPECT_EQ(test, rwx(vaddr(<usize>kernel_bss_start)), PTE_V | PTE_R | PTE_W);    // .bss (early_pg_dir)
  KUNIT_EXPECT_EQ(test, rwx(vaddr(wasm_var)), PTE_V | PTE_R | PTE_W);                   // the wasm data
  store<u64>(wasm_var, 0x1234);
  KUNIT_EXPECT_EQ(test, load<u64>(wasm_var), 0x1234);
}

function linear_map_nx(test: kunit): void {
  const p = __get_free_page(GFP_KERNEL);
  KUNIT_ASSERT_TRUE(test, p != 0);
  KUNIT_EXPECT_EQ(test, rwx(vaddr(p)), PTE_V | PTE_R | PTE_W);
  free_page(p);
  // A 2 MiB leaf of the linear map past the image (Linux's large linear-map pages).
  const top = load<u64>(swapper_pg_dir + 510 * 8);
  KUNIT_EXPECT_TRUE(test, (top & PTE_V) != 0 && (top & (PTE_R | PTE_W | PTE_X)) == 0);
  KUNIT_EXPECT_EQ(test, rwx(vaddr(0x8100_0000)), PTE_V | PTE_R | PTE_W);
}

function text_write_faults(test: kunit): void {
  const entry = <usize><u32>(csrr_stvec() & ~<u64>3);
  KUNIT_EXPECT_EQ(test, copy_from_kernel_nofault(buf, entry, 4), 0);
  const first = kunit_quiet();
  KUNIT_EXPECT_EQ(test, copy_to_kernel_nofault(entry, buf, 4), -14);
  KUNIT_EXPECT_EQ(test, copy_to_kernel_nofault(<usize>kernel_text_end, <usize>kernel_text_end, 1), -14);
  kunit_loud();
  // A writable variable still takes a nofault write.
  store<u32>(buf + 8, 0xA5A5_5A5A);
  KUNIT_EXPECT_EQ(test, copy_to_kernel_nofault(wasm_var, buf + 8, 4), 0);
  KUNIT_EXPECT_EQ(test, load<u32>(wasm_var), 0xA5A5_5A5A);
}

function set_memory_ro_rw(test: kunit): void {
  if (kernel_rodata_end <= kernel_text_end) { kunit_skip(test, "no .rodata found"); return; }
  const page = <usize>kernel_text_end;  // first page of .rodata
  KUNIT_EXPECT_EQ(test, set_memory_rw(page, 1), 0);
  KUNIT_EXPECT_EQ(test, rwx(vaddr(page)) & PTE_W, PTE_W);
  KUNIT_EXPECT_EQ(test, copy_to_kernel_nofault(page, page, 1), 0); // the same byte back
  KUNIT_EXPECT_EQ(test, set_memory_ro(page, 1), 0);
  KUNIT_EXPECT_EQ(test, rwx(vaddr(page)), PTE_V | PTE_R);
  kunit_quiet();
  KUNIT_EXPECT_EQ(test, copy_to_kernel_nofault(page, page, 1), -14);
  kunit_loud();
  // 2 MiB leaves are not split: -EINVAL.
  KUNIT_EXPECT_EQ(test, set_memory_ro(0x8100_0000, 1), -22);
}

export function register_pgtable_tests(): void {
  kunit_suite("pgtable");
  kunit_case("every_cpu_on_swapper", every_cpu_on_swapper);
  kunit_case("text_is_rx", text_is_rx);
  kunit_case("rodata_is_ro", rodata_is_ro);
  kunit_case("data_is_rw_nx", data_is_rw_nx);
  kunit_case("linear_map_nx", linear_map_nx);
  kunit_case("text_write_faults", text_write_faults);
  kunit_case("set_memory_ro_rw", set_memory_ro_rw);
}
