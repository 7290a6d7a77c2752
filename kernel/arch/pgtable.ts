/**
 * Kernel page tables of the last GiB (Sv39 root slot 511): the PTE format,
 * level-0 tables for pkmap and fixmap, and TLB flushing (Linux
 * arch/riscv/include/asm/pgtable*.h, mm/tlbflush.c).
 *
 * Sv39 PTE (privileged spec 1.12, §4.4.1):
 *
 *    63   54 53        10 9   8 7 6 5 4 3 2 1 0
 *   ┌───────┬────────────┬─────┬─┬─┬─┬─┬─┬─┬─┬─┐
 *   │   0   │    PPN     │ RSW │D│A│G│U│X│W│R│V│
 *   └───────┴────────────┴─────┴─┴─┴─┴─┴─┴─┴─┴─┘
 *   R = W = X = 0 with V: a pointer to the next level; any of R/W/X: a leaf.
 *
 * Every hart runs on the same root table (swapper_pg_dir, built by
 * paging_init below; early_pg_dir of the toolchain's entry stub only until
 * then), so a kernel PTE written here is the same for all of them; only
 * their TLBs differ. The last GiB hangs off one level-1
 * table, early_pgd_l1 (arch/early_ioremap.ts), which we take over rather
 * than replace: its 2 MiB device leaves stay where they are.
 *
 *   satp ─► swapper_pg_dir              early_pgd_l1 (VA ≥ 0xFFFF_FFFF_C000_0000)
 *           [510] linear map (below)    [384 …]  2 MiB device leaves (early I/O)
 *           [511] ────────────────────► [448]    ─► pte table: pkmap, 512 × 4 KiB
 *                                       [449]       (hole: a guard)
 *                                       [450]    ─► pte table: fixmap, top half of
 *                                       [451]    ─► pte table:   the kmap_local slots
 *
 * Level-0 tables for pkmap and fixmap come from a static pool (no page
 * allocator may be relied on when kmap_init runs), sized for exactly those
 * areas; pgtable_populate() fills their level-1 entries once at boot, so
 * later PTE writes there never allocate. The vmalloc / ioremap range
 * [VMALLOC_START, VMALLOC_END) (l1 0 … 383) is different: its tables come
 * from the page allocator at run time (mm/vmalloc.ts allocates a zeroed
 * lowmem page and hands it to pgtable_install_table before it writes PTEs
 * there), never from the static pool, and are never freed (as Linux keeps
 * kernel page tables of the vmalloc range once made). Kernel leaves are global (G) and are created with
 * A and D set: hardware that does not update A/D itself (the spec allows
 * it to fault instead, Svade) never traps on them, and hardware that does
 * (our MMU, QEMU) never writes them.
 *
 * TLB flushing. A PTE that goes from valid to invalid (or changes its
 * target) must be fenced on every hart that may hold it:
 *   - flush_tlb_kernel_page(va): sfence.vma va on this hart only (the
 *     kmap_local slots: only their own CPU ever touches them);
 *   - flush_tlb_kernel_range(start, end): every online CPU, through IPIs
 *     (on_each_cpu with wait), as Linux's generic flush_tlb_kernel_range
 *     does on arches that shoot down by IPI (and riscv when the irqchip
 *     has IPIs, riscv_use_ipi_for_rfence). We do not use the SBI RFENCE
 *     extension (remote_sfence_vma): it costs the same M-mode IPI round
 *     trip, needs SBI v0.2+, and the IPI path is one code path on every
 *     firmware that the tests can count (tlb_flush_ipis per CPU). Ranges
 *     over TLB_FLUSH_ALL_THRESHOLD pages are flushed whole (sfence.vma x0),
 *     as Linux's tlb_flush_all_threshold.
 * A PTE that goes from invalid to valid is fenced locally only: the spec
 * allows a hart to cache invalid entries, but neither QEMU nor our MMU do,
 * and no CPU touches a free slot's address. The IPI path may wait while the
 * caller holds a spinlock taken without _irqsave: CPUs spinning on it still
 * take the IPI. Never call it with interrupts off while another CPU may be
 * spinning with interrupts off.
 *
 * Context: pgtable_populate at boot (one CPU, before SMP); the PTE helpers
 * from any context (the caller serialises writes to one PTE: kmap_lock, or
 * the owning CPU for fixmap slots); flush_tlb_kernel_range from process
 * context or with interrupts off, not from an interrupt handler.
 */
import { sfence_vma, sfence_vma_all, csrw_satp } from "./riscv";
import { early_pgd_l1, current_pgd } from "./early_ioremap";
import { PAGE_SHIFT, PAGE_SIZE, PMD_SIZE, PKMAP_SIZE, FIXADDR_SIZE, NR_CPUS, VMALLOC_START, VMALLOC_END, vaddr, __pa, __va } from "./layout";
import { on_each_cpu } from "../smp";
import { smp_processor_id } from "../cpu";
import { spinlock_t, SPINLOCK_SIZE, spin_lock_irqsave, spin_unlock_irqrestore } from "../locking/spinlock";
import { pr_err, pr_info, pr_warn } from "../printk";
import { vmcoreinfo_symbol } from "../vmcoreinfo";

// --- the PTE (privileged spec §4.4.1) ---------------------------------------------

export const PTE_V: u64 = 1 << 0;
export const PTE_R: u64 = 1 << 1;
export const PTE_W: u64 = 1 << 2;
export const PTE_X: u64 = 1 << 3;
export const PTE_U: u64 = 1 << 4;
export const PTE_G: u64 = 1 << 5;
export const PTE_A: u64 = 1 << 6;
export const PTE_D: u64 = 1 << 7;
/** The PPN field starts at bit 10 (Linux _PAGE_PFN_SHIFT). */
export const PTE_PPN_SHIFT: u64 = 10;
/** PPN[2:0]: 44 bits. */
export const PTE_PPN_MASK: u64 = ((<u64>1 << 44) - 1) << PTE_PPN_SHIFT;
export const PTE_LEAF: u64 = PTE_R | PTE_W | PTE_X;

/** Protections (Linux PAGE_KERNEL, PAGE_KERNEL_RO; kmap_prot = PAGE_KERNEL). */
export const PAGE_KERNEL: u64 = PTE_V | PTE_R | PTE_W | PTE_G | PTE_A | PTE_D;
export const PAGE_KERNEL_RO: u64 = PTE_V | PTE_R | PTE_G | PTE_A;

/** Entries per table, and the VA bits each level indexes (VPN[2], VPN[1], VPN[0]). */
export const PTRS_PER_PTE: u64 = 512;
// @ts-ignore: decorator
@inline function vpn(va: u64, level: u64): usize { return <usize>((va >> (PAGE_SHIFT + 9 * level)) & 511); }

// @ts-ignore: decorator
@inline export function pfn_pte(pfn: u64, prot: u64): u64 { return (pfn << PTE_PPN_SHIFT) | prot; }
// @ts-ignore: decorator
@inline export function pte_pfn(pte: u64): u64 { return (pte & PTE_PPN_MASK) >> PTE_PPN_SHIFT; }
// @ts-ignore: decorator
@inline export function pte_none(pte: u64): bool { return pte == 0; }
// @ts-ignore: decorator
@inline export function pte_present(pte: u64): bool { return (pte & PTE_V) != 0; }
// @ts-ignore: decorator
@inline export function pte_leaf(pte: u64): bool { return (pte & PTE_V) != 0 && (pte & PTE_LEAF) != 0; }
/** The kernel pointer of the table a non-leaf PTE points to (tables live in the linear map). */
// @ts-ignore: decorator
@inline function pte_table(pte: u64): usize { return __va(pte_pfn(pte) << PAGE_SHIFT); }

// --- the level-0 table pool -------------------------------------------------------

/** Tables for the pkmap and fixmap areas: one per 2 MiB they span. */
export const KERNEL_PTE_TABLES: i32 = <i32>((PKMAP_SIZE + PMD_SIZE - 1) / PMD_SIZE + (FIXADDR_SIZE + PMD_SIZE - 1) / PMD_SIZE);
const pte_pool: usize = memory.data(KERNEL_PTE_TABLES * 4096, 4096);
let pte_pool_used: i32 = 0;
const pgtable_lock = changetype<spinlock_t>(memory.data(SPINLOCK_SIZE, 16));

/** Tables handed out so far (for tests and reports). */
export function kernel_pte_tables_used(): i32 { return pte_pool_used; }

/** Is `va` in the last GiB (root slot 511, our level-1 table)? */
// @ts-ignore: decorator
@inline function in_slot511(va: u64): bool { return (va >> 30) == 0x3_FFFF_FFFF; }

/**
 * Make root slot 511 point at early_pgd_l1, as early_ioremap would (it may
 * have run already: then this changes nothing). Context: boot, one CPU.
 */
export function pgtable_kernel_init(): void {
  const slot = current_pgd() + 511 * 8;
  if ((load<u64>(slot) & PTE_V) == 0) {
    memory.fill(early_pgd_l1, 0, 4096);
    store<u64>(slot, pfn_pte(__pa(early_pgd_l1) >> PAGE_SHIFT, PTE_V));
    sfence_vma_all();
  }
}

/**
 * The level-1 entry of `va` (a pointer into early_pgd_l1), or 0 when `va`
 * is outside root slot 511.
 */
function pmd_offset_kernel(va: u64): usize {
  if (!in_slot511(va)) return 0;
  return early_pgd_l1 + vpn(va, 1) * 8;
}

/**
 * Pointer to the level-0 PTE that maps `va`, with `alloc`: taking a table
 * from the pool when there is none yet. Returns 0 when `va` is outside slot
 * 511, covered by a 2 MiB leaf (early I/O), or the pool is empty.
 */
function pte_offset(va: u64, alloc: bool): usize {
  const pmd = pmd_offset_kernel(va);
  if (pmd == 0) return 0;
  let e = load<u64>(pmd);
  if (pte_leaf(e)) return 0;
  if (!pte_present(e)) {
    // The vmalloc range takes its tables from the page allocator (pgtable_install_table), never the pool.
    if (!alloc || in_vmalloc_range(va)) return 0;
    const flags = spin_lock_irqsave(pgtable_lock);
    e = load<u64>(pmd);
    if (!pte_present(e)) {
      if (pte_pool_used >= KERNEL_PTE_TABLES) {
        spin_unlock_irqrestore(pgtable_lock, flags);
        return 0;
      }
      const table = pte_pool + <usize>pte_pool_used * 4096;
      pte_pool_used++;
      memory.fill(table, 0, 4096);
      e = pfn_pte(__pa(table) >> PAGE_SHIFT, PTE_V);
      store<u64>(pmd, e);
      // A new non-leaf entry: no hart can hold a translation through it yet
      // (none existed), so no fence is needed beyond ordering, given by the
      // unlock's release.
    }
    spin_unlock_irqrestore(pgtable_lock, flags);
  }
  return pte_table(e) + vpn(va, 0) * 8;
}

// @ts-ignore: decorator
@inline function in_vmalloc_range(va: u64): bool { return va >= VMALLOC_START && va < VMALLOC_END; }

/** Level-0 tables of the vmalloc range taken from the page allocator so far. */
let vmalloc_pte_tables: i32 = 0;
export function vmalloc_pte_tables_used(): i32 { return vmalloc_pte_tables; }

/** Does a level-0 table cover `va` (its 2 MiB block)? Context: any. */
export function pte_table_present(va: u64): bool {
  const pmd = pmd_offset_kernel(va);
  if (pmd == 0) return false;
  const e = load<u64>(pmd);
  return pte_present(e) && !pte_leaf(e);
}

/**
 * Hang the zeroed, page-aligned linear-map page `table` under the level-1
 * entry of `va` (a vmalloc-range address) as its level-0 table. Returns 0
 * when installed, 1 when a table was already there (another CPU won the
 * race: the caller frees its page), -22 (-EINVAL) when `va` is outside the
 * vmalloc range. Context: any; takes pgtable_lock (irqsave).
 */
export function pgtable_install_table(va: u64, table: usize): i32 {
  if (!in_vmalloc_range(va) || (table & (PAGE_SIZE - 1)) != 0) return -22;
  const pmd = pmd_offset_kernel(va);
  const flags = spin_lock_irqsave(pgtable_lock);
  if (pte_present(load<u64>(pmd))) {
    spin_unlock_irqrestore(pgtable_lock, flags);
    return 1;
  }
  store<u64>(pmd, pfn_pte(__pa(table) >> PAGE_SHIFT, PTE_V));
  vmalloc_pte_tables++;
  spin_unlock_irqrestore(pgtable_lock, flags);
  return 0;
}

/** Pointer to the PTE of `va` (Linux pte_offset_kernel), 0 when no level-0 table maps it. Context: any. */
export function pte_offset_kernel(va: u64): usize { return pte_offset(va, false); }

/**
 * Give [start, end) level-0 tables (Linux's page-table preallocation for
 * pkmap and fixmap). Returns 0, or -12 (-ENOMEM) when the pool ran out or
 * -22 (-EINVAL) when the range is not ours (outside slot 511, or a 2 MiB
 * leaf there). Context: boot, one CPU.
 */
export function pgtable_populate(start: u64, end: u64): i32 {
  for (let va = start & ~(PMD_SIZE - 1); va < end; va += PMD_SIZE) {
    if (pte_offset(va, true) != 0) continue;
    const pmd = pmd_offset_kernel(va);
    if (pmd == 0 || pte_leaf(load<u64>(pmd))) return -22;
    return -12;
  }
  return 0;
}

/**
 * Map the page at `va` to physical `pa` with protection `prot` (PTE_* bits,
 * usually PAGE_KERNEL). No TLB flush: the PTE was empty (or the caller
 * flushes). Returns 0, -22 (-EINVAL: not a page-aligned slot-511 address
 * outside the 2 MiB leaves) or -12 (-ENOMEM: no table left). Context: any;
 * the caller owns the PTE.
 */
export function set_pte_kernel(va: u64, pa: u64, prot: u64): i32 {
  if ((va & (<u64>PAGE_SIZE - 1)) != 0 || (pa & (<u64>PAGE_SIZE - 1)) != 0) return -22;
  const ptep = pte_offset(va, true);
  if (ptep == 0) return pmd_offset_kernel(va) == 0 || pte_leaf(load<u64>(pmd_offset_kernel(va))) ? -22 : -12;
  store<u64>(ptep, pfn_pte(pa >> PAGE_SHIFT, prot | PTE_V));
  return 0;
}

/**
 * Clear the PTE of `va` and return what it held (0 when it had no table or
 * was empty). The caller flushes the TLBs. Context: any; the caller owns
 * the PTE.
 */
export function clear_pte_kernel(va: u64): u64 {
  const ptep = pte_offset(va, false);
  if (ptep == 0) return 0;
  const old = load<u64>(ptep);
  store<u64>(ptep, 0);
  return old;
}

/**
 * Walk the tables the CPU uses (satp's root) for `va` and return the leaf
 * PTE that maps it, at whatever level (a 1 GiB leaf for the linear map, a
 * 2 MiB leaf for early I/O, a 4 KiB one for pkmap / fixmap), or 0 when
 * nothing maps it. Context: any.
 */
export function pte_lookup(va: u64): u64 {
  let table = current_pgd();
  for (let level: u64 = 2; ; level--) {
    const e = load<u64>(table + vpn(va, level) * 8);
    if (!pte_present(e)) return 0;
    if (pte_leaf(e)) return e;
    if (level == 0) return 0;
    table = pte_table(e);
  }
  return 0;
}

/**
 * The physical address `va` translates to (the walk of pte_lookup, with
 * superpage offsets), or U64.MAX_VALUE when unmapped. Context: any.
 */
export function kernel_virt_to_phys(va: u64): u64 {
  let table = current_pgd();
  for (let level: u64 = 2; ; level--) {
    const e = load<u64>(table + vpn(va, level) * 8);
    if (!pte_present(e)) return U64.MAX_VALUE;
    if (pte_leaf(e)) {
      const span = (<u64>1) << (PAGE_SHIFT + 9 * level);
      return ((pte_pfn(e) << PAGE_SHIFT) & ~(span - 1)) | (va & (span - 1));
    }
    if (level == 0) return U64.MAX_VALUE;
    table = pte_table(e);
  }
  return U64.MAX_VALUE;
}

// --- TLB ---------------------------------------------------------------------------

/** Ranges longer than this many pages are flushed whole (Linux tlb_flush_all_threshold). */
export const TLB_FLUSH_ALL_THRESHOLD: u64 = 64;

/** Counters: flush_tlb_kernel_range calls, and the flushes each CPU ran for them. */
const tlb_range_flushes: usize = memory.data(8, 8);
const tlb_flush_ipis: usize = memory.data(NR_CPUS * 8, 8);
export function tlb_range_flush_count(): u64 { return atomic.load<u64>(tlb_range_flushes); }
/** Range flushes CPU `cpu` has carried out (its own and those asked by others). */
export function tlb_flush_count_of(cpu: i32): u64 { return atomic.load<u64>(tlb_flush_ipis + <usize>cpu * 8); }

/** sfence.vma for one kernel page on this hart (Linux local_flush_tlb_kernel_page). Context: any. */
export function flush_tlb_kernel_page(va: u64): void {
  sfence_vma(va, 0);
}

/** Local part of a range flush; `arg` = start page (wasm address) | pages << 32. */
function do_flush_tlb_kernel_range(arg: u64): void {
  const pages = arg >> 32;
  if (pages > TLB_FLUSH_ALL_THRESHOLD) {
    sfence_vma_all();
  } else {
    let va = vaddr(<usize><u32>arg);
    for (let i: u64 = 0; i < pages; i++, va += PAGE_SIZE) sfence_vma(va, 0);
  }
  atomic.add<u64>(tlb_flush_ipis + <usize>smp_processor_id() * 8, 1);
}

/**
 * Flush the kernel translations of [start, end) on every online CPU and
 * return when all have done so (IPIs, see the note above). Both ends are
 * 64-bit virtual addresses in the kernel window. Context: process context
 * or interrupts off; not from an interrupt handler; may be called with a
 * non-irqsave spinlock held. Never fails.
 */
export function flush_tlb_kernel_range(start: u64, end: u64): void {
  const first = start & ~(<u64>PAGE_SIZE - 1);
  if (end <= first) return;
  let pages = (end - first + PAGE_SIZE - 1) >> PAGE_SHIFT;
  if (pages > 0xFFFF_FFFF) pages = 0xFFFF_FFFF;
  atomic.add<u64>(tlb_range_flushes, 1);
  on_each_cpu(do_flush_tlb_kernel_range, (pages << 32) | (first & 0xFFFF_FFFF), true);
}

/** Flush every kernel translation on every online CPU. Context: as flush_tlb_kernel_range. */
export function flush_tlb_all(): void {
  atomic.add<u64>(tlb_range_flushes, 1);
  on_each_cpu(do_flush_tlb_kernel_range, (<u64>0xFFFF_FFFF) << 32, true);
}

/** Report a kernel page-table problem (for callers that found an impossible PTE). */
export function pgtable_bad(what: string, va: u64, pte: u64): void {
  pr_err("pgtable: %s: va %#lx pte %#lx\n", changetype<usize>(what), va, pte);
}

// --- swapper_pg_dir: the kernel's own tables (Linux paging_init / setup_vm_final) ---
//
// paging_init (mm_init, after memblock has its reservations) builds from bootmem:
//
//   swapper_pg_dir [510] ─► linear l1: 512 × 2 MiB leaves of low DRAM, RW, never X,
//                            except the 2 MiB blocks holding the image's .text,
//                            .rodata and .data, which get 4 KiB level-0 tables:
//                              .text            R X      [_start, __start_rodata)
//                              .rodata          R        [__start_rodata, _sdata)
//                              .data, the rest  R W      (never X)
//                  [511] ─► early_pgd_l1, shared (early I/O, vmalloc, pkmap, fixmap)
//                  the other slots as early_pg_dir has them, except the identity [2].
//
// The toolchain gives AS code no link symbols, so the boundaries are found at
// run time from what the linker guarantees (toolchain/link.ts): .text starts
// at KERNEL_PHYS_BASE; .rodata at the first page boundary after it, starting
// with the entry stub's "(null)\0wasm trap: \0" strings; .data at a later page
// boundary, starting with __boot_lottery (harts that entered _start, 1 … 64)
// and __boot_ready (1); .bss (early_pg_dir first: satp at boot) at the page
// after .data. A page that cannot be classified stays RW (and X when the
// text/rodata boundary is not found): a wrong guess costs protection, never
// a fault. The wasm data (.data.wasm/.bss.wasm, from 0x8060_0000) is RW, not X.
// Every CPU switches satp to swapper_pg_dir (paging_switch_cpu): the boot CPU
// here, secondaries first thing in secondary_start_kernel; early_pg_dir stays
// as it is for harts still coming up through _start.

export const PAGE_KERNEL_EXEC: u64 = PTE_V | PTE_R | PTE_X | PTE_G | PTE_A;
export const PAGE_KERNEL_RWX: u64 = PAGE_KERNEL | PTE_X;

/** The root (linear-map pointer; 0 until paging_init), its satp value, the linear level-1 table. */
export let swapper_pg_dir: usize = 0;
let swapper_satp: u64 = 0;
let linear_l1: usize = 0;
/** Image boundaries found at boot (physical): .text end = .rodata start, .data start, .bss start. */
export let kernel_text_end: u64 = 0;
export let kernel_rodata_end: u64 = 0;
export let kernel_bss_start: u64 = 0;
/** Level-0 tables of the linear map (image blocks). */
let linear_pte_tables: i32 = 0;
export function linear_pte_tables_used(): i32 { return linear_pte_tables; }

function rodata_signature(p: usize): bool {
  // "(null)\0wasm trap: \0"
  return load<u8>(p) == 0x28 && load<u8>(p, 1) == 0x6E && load<u8>(p, 5) == 0x29 && load<u8>(p, 6) == 0 &&
    load<u8>(p, 7) == 0x77 && load<u8>(p, 11) == 0x20 && load<u8>(p, 12) == 0x74 && load<u8>(p, 16) == 0x3A;
}

function image_prot(pa: u64): u64 {
  if (pa < KERNEL_PHYS_BASE_PT || pa >= kernel_bss_start) return PAGE_KERNEL;
  if (kernel_text_end == 0) return PAGE_KERNEL_RWX;
  if (pa < kernel_text_end) return PAGE_KERNEL_EXEC;
  if (pa < kernel_rodata_end) return PAGE_KERNEL_RO;
  return PAGE_KERNEL;
}

const KERNEL_PHYS_BASE_PT: u64 = 0x8020_0000;
const LINEAR_BASE_PT: u64 = 0x8000_0000;

/**
 * Build swapper_pg_dir (see above) and switch the boot CPU to it. Context:
 * boot CPU, before SMP, memblock up (tables come from memblock_alloc).
 * Returns 0, or -12 when bootmem ran out (the CPU stays on early_pg_dir).
 */
export function paging_init(alloc: (size: u64, align: u64) => usize): i32 {
  const early = current_pgd();
  kernel_bss_start = __pa(early);
  // .rodata: the first page boundary past _start that carries the stub's strings.
  kernel_text_end = 0;
  kernel_rodata_end = 0;
  for (let pa = KERNEL_PHYS_BASE_PT + PAGE_SIZE; pa < kernel_bss_start; pa += PAGE_SIZE) {
    if (rodata_signature(__va(pa))) { kernel_text_end = pa; break; }
  }
  if (kernel_text_end != 0) {
    kernel_rodata_end = kernel_bss_start;
    for (let pa = kernel_text_end + PAGE_SIZE; pa < kernel_bss_start; pa += PAGE_SIZE) {
      const lottery = load<u32>(__va(pa));
      if (lottery >= 1 && lottery <= 64 && load<u32>(__va(pa), 4) == 1) { kernel_rodata_end = pa; break; }
    }
  }
  if (kernel_text_end == 0) pr_warn("paging: .rodata not found: the kernel image stays RWX\n");
  else pr_info("paging: swapper_pg_dir: text %#lx-%#lx RX, rodata -%#lx RO, data/bss from %#lx RW NX\n",
    KERNEL_PHYS_BASE_PT, kernel_text_end, kernel_rodata_end, kernel_rodata_end);
  const root = alloc(PAGE_SIZE, PAGE_SIZE);
  const l1 = alloc(PAGE_SIZE, PAGE_SIZE);
  if (root == 0 || l1 == 0) return -12;
  memory.fill(root, 0, PAGE_SIZE);
  memory.fill(l1, 0, PAGE_SIZE);
  const img_lo = KERNEL_PHYS_BASE_PT & ~(PMD_SIZE - 1);
  const img_hi = (kernel_bss_start + PMD_SIZE - 1) & ~(PMD_SIZE - 1);
  for (let i: u64 = 0; i < 512; i++) {
    const pa = LINEAR_BASE_PT + (i << 21);
    if (pa >= img_lo && pa < img_hi) {
      const t = alloc(PAGE_SIZE, PAGE_SIZE);
      if (t == 0) return -12;
      for (let j: u64 = 0; j < 512; j++) {
        const p = pa + (j << PAGE_SHIFT);
        store<u64>(t + <usize>j * 8, pfn_pte(p >> PAGE_SHIFT, image_prot(p)));
      }
      store<u64>(l1 + <usize>i * 8, pfn_pte(__pa(t) >> PAGE_SHIFT, PTE_V));
      linear_pte_tables++;
    } else {
      store<u64>(l1 + <usize>i * 8, pfn_pte(pa >> PAGE_SHIFT, PAGE_KERNEL));
    }
  }
  for (let s: usize = 0; s < 512; s++) {
    if (s == 2 || s == 510) continue;
    store<u64>(root + s * 8, load<u64>(early + s * 8));
  }
  store<u64>(root + 510 * 8, pfn_pte(__pa(l1) >> PAGE_SHIFT, PTE_V));
  if ((load<u64>(root + 511 * 8) & PTE_V) == 0) store<u64>(root + 511 * 8, pfn_pte(__pa(early_pgd_l1) >> PAGE_SHIFT, PTE_V));
  linear_l1 = l1;
  swapper_pg_dir = root;
  swapper_satp = (<u64>8 << 60) | (__pa(root) >> PAGE_SHIFT);
  vmcoreinfo_symbol("swapper_pg_dir", root);         // the host walks our tables from here
  paging_switch_cpu();
  return 0;
}

/** Load swapper_pg_dir into satp on this CPU (no-op before paging_init). Context: any CPU, early. */
export function paging_switch_cpu(): void {
  if (swapper_satp == 0) return;
  sfence_vma_all();
  csrw_satp(swapper_satp);
  sfence_vma_all();
}

/**
 * Change the protection of `n` 4 KiB pages of the linear map from kernel
 * pointer `p` (Linux set_memory_ro/rw/x/nx): bits `set` on, `clear` off, TLBs
 * flushed on every CPU. Only pages under a level-0 table (the image's blocks)
 * can change. Returns 0 or -22 (-EINVAL: a page not mapped by 4 KiB leaves).
 * Context: process context (flush_tlb_kernel_range).
 */
export function set_memory_prot(p: usize, n: i32, set: u64, clear: u64): i32 {
  if (linear_l1 == 0 || (p & (PAGE_SIZE - 1)) != 0) return -22;
  for (let k = 0; k < n; k++) {
    const ptep = linear_ptep(<u64>p + (<u64>k << PAGE_SHIFT));
    if (ptep == 0) return -22;
  }
  for (let k = 0; k < n; k++) {
    const ptep = linear_ptep(<u64>p + (<u64>k << PAGE_SHIFT));
    store<u64>(ptep, (load<u64>(ptep) & ~clear) | set);
  }
  flush_tlb_kernel_range(vaddr(p), vaddr(p) + (<u64>n << PAGE_SHIFT));
  return 0;
}
export function set_memory_ro(p: usize, n: i32): i32 { return set_memory_prot(p, n, 0, PTE_W | PTE_D); }
export function set_memory_rw(p: usize, n: i32): i32 { return set_memory_prot(p, n, PTE_W | PTE_D, 0); }

/** The level-0 PTE of linear-map physical `pa`, or 0 when a 2 MiB leaf maps it. */
function linear_ptep(pa: u64): usize {
  if (pa < LINEAR_BASE_PT || pa >= LINEAR_BASE_PT + 0x4000_0000) return 0;
  const e = load<u64>(linear_l1 + <usize>((pa >> 21) & 511) * 8);
  if (!pte_present(e) || pte_leaf(e)) return 0;
  return pte_table(e) + <usize>((pa >> PAGE_SHIFT) & 511) * 8;
}
