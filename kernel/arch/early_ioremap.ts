/**
 * Early I/O mappings: device registers mapped at boot, before any page
 * allocator, in 2 MiB pages inside [EARLY_IO_START, EARLY_IO_END).
 *
 * The toolchain's entry stub runs the kernel on early_pg_dir, whose only
 * entries are two 1 GiB leaves (the identity slot 2 for the jump, the linear
 * map in slot 510). Device registers live below 0x8000_0000, outside both.
 * early_ioremap adds root slot 511 → early_pgd_l1 (a static level-1 table)
 * and 2 MiB leaves in it:
 *
 *   satp ─► early_pg_dir            early_pgd_l1 (slot 511: VA ≥ 0xFFFF_FFFF_C000_0000)
 *           [2]   1 GiB identity     [384 + k] 2 MiB leaf → device PA, RW, G, A, D
 *           [510] 1 GiB linear map
 *           [511] ──────────────────►
 *
 * Every hart runs on early_pg_dir (those started later too), so a mapping
 * made before smp_init is visible everywhere without a remote fence.
 * Context: boot CPU, before SMP (mappings are never removed). The vmalloc
 * code, when it comes, must take over early_pgd_l1 rather than replace it.
 */
import { csrr_satp, sfence_vma_all } from "./riscv";
import { SATP_PPN_MASK } from "./csr";
import { EARLY_IO_START, EARLY_IO_END, vaddr, __pa } from "./layout";

const PTE_V: u64 = 1 << 0;
const PTE_R: u64 = 1 << 1;
const PTE_W: u64 = 1 << 2;
const PTE_G: u64 = 1 << 5;
const PTE_A: u64 = 1 << 6;
const PTE_D: u64 = 1 << 7;
const PTE_PPN_SHIFT: u64 = 10;
const PMD_SIZE: u64 = 2 << 20;

/** The level-1 table of root slot 511. */
export const early_pgd_l1: usize = memory.data(4096, 4096);
/** Next free VA of the window. */
let early_io_next: u64 = 0xFFFF_FFFF_F000_0000; // EARLY_IO_START (a literal: no wasm start function)

/** Root page table in use (linear-map pointer). */
export function current_pgd(): usize {
  return <usize>((csrr_satp() & SATP_PPN_MASK) << 12);
}

/**
 * Map physical [pa, pa + size) for device access (read/write, never
 * executable). Returns the kernel pointer to `pa`, or 0 when the window is
 * full. Mapping the same 2 MiB pages twice gives two aliases.
 */
export function early_ioremap(pa: u64, size: u64): usize {
  const base = pa & ~(PMD_SIZE - 1);
  const end = (pa + size + PMD_SIZE - 1) & ~(PMD_SIZE - 1);
  if (early_io_next + (end - base) > EARLY_IO_END) return 0;
  const pgd = current_pgd();
  const slot = pgd + 511 * 8;
  if ((load<u64>(slot) & PTE_V) == 0) {
    memory.fill(early_pgd_l1, 0, 4096);
    store<u64>(slot, ((__pa(early_pgd_l1) >> 12) << PTE_PPN_SHIFT) | PTE_V);
  }
  const va0 = early_io_next;
  for (let p = base; p < end; p += PMD_SIZE) {
    const idx = <usize>((early_io_next >> 21) & 511);
    store<u64>(early_pgd_l1 + idx * 8, ((p >> 12) << PTE_PPN_SHIFT) | PTE_V | PTE_R | PTE_W | PTE_G | PTE_A | PTE_D);
    early_io_next += PMD_SIZE;
  }
  sfence_vma_all();
  return <usize>(va0 + (pa - base));
}

/** Is kernel pointer `p` inside the early I/O window? */
export function is_early_io(p: usize): bool {
  const va = vaddr(p);
  return va >= EARLY_IO_START && va < early_io_next;
}
