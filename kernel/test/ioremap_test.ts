/**
 * Suite `ioremap`: device registers mapped into the vmalloc range
 * (mm/vmalloc.ts ioremap / iounmap), with the DMA engine's registers as
 * the device: its ID and VERSION read through a second mapping agree with
 * the driver's own (itself an ioremap area), the PTEs name the device's
 * physical page, and after iounmap the mapping faults (probed with
 * copy_from_kernel_nofault). Without the engine (QEMU virt) those cases
 * are skipped; the UART case runs on every board: two mappings of the
 * ns16550's registers see the same scratch register (SCR).
 */
import { kunit, kunit_suite, kunit_case, kunit_skip, KUNIT_EXPECT_EQ, KUNIT_EXPECT_TRUE, KUNIT_ASSERT_TRUE,
  kunit_quiet, kunit_loud, kunit_logged } from "./ktap";
import { PAGE_SIZE, vaddr } from "../arch/layout";
import { pte_lookup, pte_pfn, kernel_virt_to_phys, PTE_X, PTE_W, PTE_R } from "../arch/pgtable";
import { copy_from_kernel_nofault } from "../arch/traps";
import { readl, readb, writeb } from "../arch/io";
import { of_find_compatible_node, of_address_to_resource, resource } from "../of/fdt";
import { ioremap, iounmap, find_vm_area, is_vmalloc_addr, vmalloc, vfree, vmap_area_count, VM_IOREMAP } from "../mm/vmalloc";
import { dma_present, dma_regs_base, dma_regs_phys, dma_version } from "../drivers/kmemlab_dma";

const DMA_ID_VALUE: u32 = 0x414d444b; // "KDMA"
const probe_buf: usize = memory.data(8, 8);

/** A second mapping of the engine's registers reads ID and VERSION; unmapped, it faults. */
function ioremap_dma_registers(test: kunit): void {
  if (!dma_present()) { kunit_skip(test, "no DMA engine"); return; }
  const phys = dma_regs_phys();
  const areas = vmap_area_count();
  const p = ioremap(phys, 0x48);
  if (!KUNIT_ASSERT_TRUE(test, p != 0)) return;
  KUNIT_EXPECT_TRUE(test, is_vmalloc_addr(p));
  KUNIT_EXPECT_TRUE(test, p != dma_regs_base());
  KUNIT_EXPECT_EQ(test, readl(p), DMA_ID_VALUE);
  KUNIT_EXPECT_EQ(test, readl(p + 4), dma_version());
  KUNIT_EXPECT_TRUE(test, dma_version() != 0);
  // The PTE: the device's page, read/write, not executable.
  const pte = pte_lookup(vaddr(p));
  KUNIT_EXPECT_EQ(test, pte_pfn(pte), phys >> 12);
  KUNIT_EXPECT_EQ(test, pte & (PTE_R | PTE_W | PTE_X), PTE_R | PTE_W);
  KUNIT_EXPECT_EQ(test, kernel_virt_to_phys(vaddr(p) + 4), phys + 4);
  const vm = find_vm_area(p);
  KUNIT_EXPECT_TRUE(test, changetype<usize>(vm) != 0 && (vm.flags & VM_IOREMAP) != 0 && vm.phys_addr == (phys & ~(<u64>PAGE_SIZE - 1)) && vm.nr_pages == 0);
  iounmap(p);
  KUNIT_EXPECT_EQ(test, vmap_area_count(), areas);
  KUNIT_EXPECT_EQ(test, pte_lookup(vaddr(p)), 0);
  const first = kunit_quiet();
  KUNIT_EXPECT_EQ(test, copy_from_kernel_nofault(probe_buf, p + 4, 4), -14);
  kunit_loud();
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "vmalloc: fault at"), 1);
  // The driver's own mapping still works.
  KUNIT_EXPECT_EQ(test, readl(dma_regs_base()), DMA_ID_VALUE);
}

/** An address inside a page: the offset is kept, the area covers whole pages. */
function ioremap_offset(test: kunit): void {
  if (!dma_present()) { kunit_skip(test, "no DMA engine"); return; }
  const phys = dma_regs_phys();
  const p = ioremap(phys + 4, 4);
  if (!KUNIT_ASSERT_TRUE(test, p != 0)) return;
  KUNIT_EXPECT_EQ(test, <u64>(p & (PAGE_SIZE - 1)), (phys + 4) & (<u64>PAGE_SIZE - 1));
  KUNIT_EXPECT_EQ(test, readl(p), dma_version());
  const vm = find_vm_area(p);
  KUNIT_EXPECT_TRUE(test, changetype<usize>(vm) != 0 && vm.size == 2 * <u64>PAGE_SIZE);
  iounmap(p); // any address in the first page
  KUNIT_EXPECT_TRUE(test, changetype<usize>(find_vm_area(p)) == 0);
}

/** The driver maps its registers with ioremap: an ioremap area at the engine's address. */
function dma_driver_uses_ioremap(test: kunit): void {
  if (!dma_present()) { kunit_skip(test, "no DMA engine"); return; }
  const base = dma_regs_base();
  KUNIT_EXPECT_TRUE(test, is_vmalloc_addr(base));
  const vm = find_vm_area(base);
  KUNIT_EXPECT_TRUE(test, changetype<usize>(vm) != 0 && (vm.flags & VM_IOREMAP) != 0);
  if (changetype<usize>(vm) != 0) KUNIT_EXPECT_EQ(test, vm.phys_addr, dma_regs_phys() & ~(<u64>PAGE_SIZE - 1));
}

/** iounmap of what is not an ioremap area is reported and leaves it alone. */
function iounmap_bad(test: kunit): void {
  const p = vmalloc(PAGE_SIZE);
  if (!KUNIT_ASSERT_TRUE(test, p != 0)) return;
  const first = kunit_quiet();
  iounmap(p);
  kunit_loud();
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "vmalloc: Trying to iounmap() nonexistent vm area"), 1);
  store<u64>(p, 7);
  KUNIT_EXPECT_EQ(test, load<u64>(p), 7);
  vfree(p);
}

const uart_res = changetype<resource>(memory.data(16, 8));
const UART_SCR: usize = 7;

/** Two ioremap()s of the UART: a byte written to SCR through one reads back through the other; unmapped, both fault. */
function ioremap_uart_registers(test: kunit): void {
  const node = of_find_compatible_node(-1, "ns16550a");
  if (!KUNIT_ASSERT_TRUE(test, node >= 0)) return;
  if (!KUNIT_ASSERT_TRUE(test, of_address_to_resource(node, 0, uart_res) == 0)) return;
  const phys = uart_res.start;
  const areas = vmap_area_count();
  const a = ioremap(phys, 8);
  const b = ioremap(phys, 8);
  if (!KUNIT_ASSERT_TRUE(test, a != 0 && b != 0)) return;
  KUNIT_EXPECT_TRUE(test, a != b && is_vmalloc_addr(a) && is_vmalloc_addr(b));
  KUNIT_EXPECT_EQ(test, vmap_area_count(), areas + 2);
  KUNIT_EXPECT_EQ(test, pte_pfn(pte_lookup(vaddr(a))), phys >> 12);
  KUNIT_EXPECT_EQ(test, pte_pfn(pte_lookup(vaddr(b))), phys >> 12);
  const saved = readb(a + UART_SCR);
  writeb(0xa5, a + UART_SCR);
  KUNIT_EXPECT_EQ(test, readb(b + UART_SCR), 0xa5);
  writeb(0x5a, b + UART_SCR);
  KUNIT_EXPECT_EQ(test, readb(a + UART_SCR), 0x5a);
  writeb(saved, a + UART_SCR);
  iounmap(a);
  iounmap(b);
  KUNIT_EXPECT_EQ(test, vmap_area_count(), areas);
  const first = kunit_quiet();
  KUNIT_EXPECT_EQ(test, copy_from_kernel_nofault(probe_buf, a + UART_SCR, 1), -14);
  KUNIT_EXPECT_EQ(test, copy_from_kernel_nofault(probe_buf, b + UART_SCR, 1), -14);
  kunit_loud();
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "vmalloc: fault at"), 2);
}

export function register_ioremap_tests(): void {
  kunit_suite("ioremap");
  kunit_case("ioremap_dma_registers", ioremap_dma_registers);
  kunit_case("ioremap_offset", ioremap_offset);
  kunit_case("dma_driver_uses_ioremap", dma_driver_uses_ioremap);
  kunit_case("iounmap_bad", iounmap_bad);
  kunit_case("ioremap_uart_registers", ioremap_uart_registers);
}
