/**
 * Memory bring-up, in order (Linux setup_bootmem / paging_init / mm_init,
 * much smaller):
 *
 *   memblock_init           empty lists; allocation limit = end of the linear map
 *   memblock_add            every memory bank of the device tree
 *   memblock_reserve        the firmware (reservation block, /reserved-memory),
 *                           the kernel image and its static data
 *                           [KERNEL_PHYS_BASE, end of wasm memory), the DTB
 *   DMA window              from the device tree (the DMA engine's dma-ranges);
 *                           without an engine, Linux's ISA rule: 16 MiB
 *   (bootmem early tests)   when selftest= asks for the bootmem suite
 *   setup_per_cpu_areas     the per-CPU first chunk, one unit per possible CPU
 *                           (mm/percpu.ts), from memblock
 *   free_area_init          memory map (struct page arrays) and zones
 *   memblock_free_all       free pages → buddy; watermarks
 *   kmem_cache_init         the slab allocator: the descriptor cache, the
 *                           kmalloc caches (mm/slub.ts, mm/kmalloc.ts)
 *
 * Context: boot CPU, before SMP, once.
 */
import { PAGE_SHIFT, PAGE_SIZE, KERNEL_PHYS_BASE, PHYS_DRAM_BASE, LINEAR_MAP_SIZE } from "../arch/layout";
import { nr_mem_banks, of_mem_bank, nr_reserved, of_reserved, initial_boot_params_size } from "../of/fdt";
import { pr_info, pr_cont, pr_notice } from "../printk";
import {
  memblock_init, memblock_add, memblock_reserve, memblock_set_low_limit, memblock_phys_mem_size, memblock_reserved_size,
  memblock_dump_all, memblock_alloc,
} from "./memblock";
import { free_area_init, memblock_free_all, totalram_pages, totalhigh_pages, nr_free_pages } from "./page_alloc";
import { node_zone, zone_end_pfn } from "./mmzone";
import { kmem_cache_init } from "./kmalloc";
import { setup_per_cpu_areas } from "./percpu";
import { paging_init } from "../arch/pgtable";
import { MAX_NR_ZONES } from "./gfp";
import { cmdline_find, cmdline_val_ptr, cmdline_val_len } from "../cmdline";
import { bytes_eq_str } from "../lib/string";

/** Linux's ISA DMA limit, the DMA window when the device tree has no DMA engine. */
export const ISA_DMA_WINDOW: u64 = 16 << 20;

/** Where ZONE_DMA ends (physical), and where the window was found. */
export let dma_window_base: u64 = 0;
export let dma_window_size: u64 = 0;
export let dma_window_from_dt: bool = false;
/** The kernel image's physical end (the end of its wasm memory). */
export let kernel_image_end: u64 = 0;

/** Early hook: the bootmem self-test's allocations, made while memblock still allocates. */
let bootmem_early_hook: usize = 0;
export function set_bootmem_early_hook(fn: () => void): void { bootmem_early_hook = changetype<usize>(fn); }

/** The DMA window lookup (drivers/kmemlab_dma.ts's of_dma_zone_window), registered before mm_init. */
let dma_window_lookup: usize = 0;
export function set_dma_window_lookup(fn: (base_out: usize, size_out: usize) => i32): void { dma_window_lookup = changetype<usize>(fn); }

const window_out: usize = memory.data(16, 8);

/** Bring up memblock, the memory map, the zones and the buddy allocator. `dtb_pa`: the DTB's physical address. */
export function mm_init(dtb_pa: u64): void {
  memblock_init();
  for (let i = 0; i < nr_mem_banks; i++) {
    const b = of_mem_bank(i);
    memblock_add(b.base, b.size);
  }
  for (let i = 0; i < nr_reserved; i++) {
    const r = of_reserved(i);
    memblock_reserve(r.base, r.size);
  }
  kernel_image_end = <u64>memory.size() << 16;
  memblock_reserve(KERNEL_PHYS_BASE, kernel_image_end - KERNEL_PHYS_BASE);
  if (dtb_pa != 0) memblock_reserve(dtb_pa & ~<u64>(PAGE_SIZE - 1), <u64>initial_boot_params_size + (dtb_pa & <u64>(PAGE_SIZE - 1)));

  dma_window_base = PHYS_DRAM_BASE;
  dma_window_size = ISA_DMA_WINDOW;
  dma_window_from_dt = false;
  if (dma_window_lookup != 0 && changetype<(b: usize, s: usize) => i32>(dma_window_lookup)(window_out, window_out + 8) == 0) {
    dma_window_base = load<u64>(window_out);
    dma_window_size = load<u64>(window_out, 8);
    dma_window_from_dt = true;
  }
  let dma_end = dma_window_base + dma_window_size;
  if (dma_end > PHYS_DRAM_BASE + LINEAR_MAP_SIZE) dma_end = PHYS_DRAM_BASE + LINEAR_MAP_SIZE;
  memblock_set_low_limit(dma_end);
  const mb = cmdline_find("memblock");
  if (mb >= 0 && bytes_eq_str(cmdline_val_ptr(mb), cmdline_val_len(mb), "debug")) memblock_dump_all();

  paging_init(memblock_alloc);
  if (bootmem_early_hook != 0) changetype<() => void>(bootmem_early_hook)();

  setup_per_cpu_areas();
  free_area_init(dma_end);
  print_zone_ranges();
  const freed = memblock_free_all();
  pr_info("Memory: %luK/%luK available (%luK kernel code and data, %luK reserved, %luK highmem)\n",
    nr_free_pages() << (PAGE_SHIFT - 10), memblock_phys_mem_size() >> 10, (kernel_image_end - KERNEL_PHYS_BASE) >> 10,
    (memblock_phys_mem_size() - (freed << PAGE_SHIFT)) >> 10, totalhigh_pages << (PAGE_SHIFT - 10));
  kmem_cache_init();
}

function print_zone_ranges(): void {
  pr_info("Zone ranges:\n");
  for (let zid = 0; zid < MAX_NR_ZONES; zid++) {
    const z = node_zone(0, zid);
    if (z.spanned_pages == 0) { pr_info("  %-8s empty\n", z.name); continue; }
    pr_info("  %-8s [mem %#018lx-%#018lx]\n", z.name, z.zone_start_pfn << PAGE_SHIFT, (zone_end_pfn(z) << PAGE_SHIFT) - 1);
  }
  pr_info("DMA window: [mem %#018lx-%#018lx] (%s)\n", dma_window_base, dma_window_base + dma_window_size - 1,
    changetype<usize>(dma_window_from_dt ? "device tree dma-ranges" : "no DMA engine: 16 MiB"));
}
