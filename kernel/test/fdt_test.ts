/**
 * Suite `fdt`: the device tree as the kernel parsed it (of/fdt.ts,
 * lib/fdt.ts) against the machine. The host may state what it built
 * (fdt.expect_mem=, fdt.expect_highmem=, fdt.expect_harts= on the command
 * line); without them the cases check kmemlab's fixed layout only.
 */
import { kunit, kunit_suite, kunit_case, kunit_skip, KUNIT_EXPECT_EQ, KUNIT_EXPECT_TRUE, KUNIT_EXPECT_GE, KUNIT_EXPECT_NE } from "./ktap";
import {
  nr_mem_banks, of_mem_bank, nr_reserved, of_reserved, nr_cpu_ids, cpuid_to_hartid, boot_command_line,
  boot_command_line_len, of_timebase_frequency, initial_boot_params, of_find_compatible_node, of_address_to_resource,
  resource, of_irq_get,
} from "../of/fdt";
import { fdt_check_header, fdt_path_offset, fdt_getprop, fdt_getprop_len } from "../lib/fdt";
import { cmdline_get_int } from "../cmdline";
import { this_cpu } from "../cpu";
import { KERNEL_PHYS_BASE, PHYS_DRAM_BASE } from "../arch/layout";

const res = changetype<resource>(memory.data(16, 8));

function fdt_header_valid(test: kunit): void {
  KUNIT_EXPECT_EQ(test, fdt_check_header(initial_boot_params), 0);
}

function fdt_memory_banks(test: kunit): void {
  const mem = cmdline_get_int("fdt.expect_mem", -1);
  const high = cmdline_get_int("fdt.expect_highmem", -1);
  KUNIT_EXPECT_GE(test, nr_mem_banks, 1);
  if (nr_mem_banks < 1) return;
  KUNIT_EXPECT_EQ(test, of_mem_bank(0).base, PHYS_DRAM_BASE);
  KUNIT_EXPECT_EQ(test, of_mem_bank(0).size & 0xfff, 0);
  // The kernel runs from low DRAM.
  KUNIT_EXPECT_TRUE(test, KERNEL_PHYS_BASE >= of_mem_bank(0).base && KERNEL_PHYS_BASE < of_mem_bank(0).base + of_mem_bank(0).size);
  if (mem >= 0) KUNIT_EXPECT_EQ(test, of_mem_bank(0).size, mem);
  if (high > 0) {
    KUNIT_EXPECT_EQ(test, nr_mem_banks, 2);
    if (nr_mem_banks < 2) return;
    KUNIT_EXPECT_EQ(test, of_mem_bank(1).base, 0x1_0000_0000);
    KUNIT_EXPECT_EQ(test, of_mem_bank(1).size, high);
  } else if (high == 0) {
    KUNIT_EXPECT_EQ(test, nr_mem_banks, 1);
  }
}

function fdt_reserved_regions(test: kunit): void {
  // Every reservation (OpenSBI reserves its own memory) lies in a bank and spares the kernel image.
  for (let i = 0; i < nr_reserved; i++) {
    const r = of_reserved(i);
    let inside = false;
    for (let b = 0; b < nr_mem_banks; b++) {
      const m = of_mem_bank(b);
      if (r.base >= m.base && r.base + r.size <= m.base + m.size) inside = true;
    }
    KUNIT_EXPECT_TRUE(test, inside);
    KUNIT_EXPECT_TRUE(test, r.base + r.size <= KERNEL_PHYS_BASE || r.base >= KERNEL_PHYS_BASE + 0x40_0000);
  }
}

function fdt_hart_count(test: kunit): void {
  const want = cmdline_get_int("fdt.expect_harts", -1);
  KUNIT_EXPECT_GE(test, nr_cpu_ids, 1);
  if (want >= 0) KUNIT_EXPECT_EQ(test, nr_cpu_ids, want);
  // Logical CPU 0 is the hart we booted on; hart ids are distinct.
  KUNIT_EXPECT_EQ(test, cpuid_to_hartid(0), this_cpu().hartid);
  for (let a = 0; a < nr_cpu_ids; a++) {
    for (let b = a + 1; b < nr_cpu_ids; b++) KUNIT_EXPECT_NE(test, cpuid_to_hartid(a), cpuid_to_hartid(b));
  }
  KUNIT_EXPECT_EQ(test, cpuid_to_hartid(nr_cpu_ids), -1);
}

function fdt_bootargs(test: kunit): void {
  const chosen = fdt_path_offset(initial_boot_params, "/chosen");
  KUNIT_EXPECT_GE(test, chosen, 0);
  const len = fdt_getprop_len(initial_boot_params, chosen, "bootargs");
  // We run because the command line asked for self-tests: it is there.
  KUNIT_EXPECT_GE(test, len, 1);
  KUNIT_EXPECT_EQ(test, boot_command_line_len, len - 1);
  const p = fdt_getprop(initial_boot_params, chosen, "bootargs", 0);
  let same = p != 0;
  for (let i = 0; same && i < boot_command_line_len; i++) same = load<u8>(p + <usize>i) == load<u8>(boot_command_line + <usize>i);
  KUNIT_EXPECT_TRUE(test, same);
}

function fdt_timebase(test: kunit): void {
  KUNIT_EXPECT_EQ(test, of_timebase_frequency, 10_000_000);
}

function fdt_devices(test: kunit): void {
  const uart = of_find_compatible_node(-1, "ns16550a");
  if (uart < 0) { kunit_skip(test, "no ns16550a in the device tree"); return; }
  KUNIT_EXPECT_EQ(test, of_address_to_resource(uart, 0, res), 0);
  KUNIT_EXPECT_EQ(test, res.start, 0x1000_0000);
  KUNIT_EXPECT_EQ(test, of_irq_get(uart, 0), 10);
  const plic = of_find_compatible_node(-1, "riscv,plic0");
  KUNIT_EXPECT_GE(test, plic, 0);
  KUNIT_EXPECT_EQ(test, of_address_to_resource(plic, 0, res), 0);
  KUNIT_EXPECT_EQ(test, res.start, 0x0c00_0000);
  KUNIT_EXPECT_EQ(test, res.end, 0x0c5f_ffff);
  const clint = of_find_compatible_node(-1, "riscv,clint0");
  KUNIT_EXPECT_GE(test, clint, 0);
  KUNIT_EXPECT_EQ(test, of_find_compatible_node(-1, "kmemlab,no-such-device"), -1);
}

export function register_fdt_tests(): void {
  kunit_suite("fdt");
  kunit_case("fdt_header_valid", fdt_header_valid);
  kunit_case("fdt_memory_banks", fdt_memory_banks);
  kunit_case("fdt_reserved_regions", fdt_reserved_regions);
  kunit_case("fdt_hart_count", fdt_hart_count);
  kunit_case("fdt_bootargs", fdt_bootargs);
  kunit_case("fdt_timebase", fdt_timebase);
  kunit_case("fdt_devices", fdt_devices);
}
