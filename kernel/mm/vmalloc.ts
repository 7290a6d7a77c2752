/**
 * vmalloc, vmap and ioremap: virtually contiguous kernel mappings on real
 * Sv39 page tables (Linux mm/vmalloc.c, 6.1, much smaller).
 *
 * The range (arch/layout.ts) is [VMALLOC_START, VMALLOC_END) = wasm
 * 0xC000_0000 … 0xF000_0000 (768 MiB, level-1 entries 0 … 383 of
 * early_pgd_l1). Every mapping is an *area*, followed by one unmapped guard
 * page that belongs to it (Linux's vm_struct.size counts it):
 *
 *   VMALLOC_START                                                 VMALLOC_END
 *   │ area A: pages │ guard │   free   │ area B: pages │ guard │   free  │
 *   └─ a->addr        a->addr + a->size ┘
 *
 * Areas and the allocator. Each area has a descriptor (vm_struct below,
 * kmalloc'ed) on one list, vmap_area_list, kept in address order. A new
 * area takes the *first* gap, from VMALLOC_START up, that holds its pages
 * plus the guard at the asked alignment (first fit over the address-sorted
 * list: the gaps between neighbours are the free list). O(areas) per
 * allocation; Linux uses an augmented rbtree over a separate free tree for
 * the same policy ("lowest address that fits"), which we do not need at
 * this size.
 *
 * Kinds (vm_struct.flags, Linux's VM_* bits):
 *   VM_ALLOC    vmalloc / vzalloc / __vmalloc: order-0 pages from the page
 *               allocator with gfp | __GFP_HIGHMEM (Linux's
 *               __vmalloc_area_node), so highmem is used first; the
 *               struct page pointers in a kmalloc'ed array (`pages`),
 *               freed by vfree.
 *   VM_MAP      vmap: the caller's pages, not owned (vunmap leaves them).
 *   VM_IOREMAP  ioremap: device registers at `phys_addr`. The PTEs are plain
 *               PAGE_KERNEL (R/W, not X): the machine has no Svpbmt, so
 *               there is no uncached memory type to ask for; the bus
 *               sends device addresses to the device whatever the PTE says.
 *
 * Page tables. PTEs are written for real (arch/pgtable.ts set_pte_kernel).
 * The level-0 table of each 2 MiB of the range is taken from the page
 * allocator (a zeroed lowmem page) the first time an area reaches it, and
 * kept for good, as Linux keeps vmalloc page tables.
 *
 * Teardown (vfree / vunmap / iounmap), in this order:
 *   1. the area is marked dying (lookups by vfree no longer find it);
 *   2. its PTEs are cleared;
 *   3. flush_tlb_kernel_range over the area: every online CPU fences
 *      (IPIs, arch/pgtable.ts) and the call waits for all of them;
 *   4. only then are the pages freed (vfree) and
 *   5. the area taken off the list, so its addresses can be reused.
 * Linux defers 2–5 (lazy purge, batching the flushes); we flush at once,
 * so no CPU ever reaches a freed page through a stale translation, and a
 * later access to the range faults.
 *
 * Faults. arch/traps.ts calls vmalloc_fault_report(addr) on every kernel
 * page fault: an address in the range is named in the log before the oops
 * (or before copy_from_kernel_nofault returns -EFAULT):
 *   vmalloc: fault at <addr>: guard page of area <start>-<end> (<caller>)
 *   vmalloc: fault at <addr>: in no vmalloc area (freed?)
 *
 * The caller of vmalloc and friends (for /proc/vmallocinfo, Linux's
 * __builtin_return_address(0)) is found as mm/slub.ts finds kmalloc's: the
 * API functions are @inline and pass their caller's sp_read(); the return
 * address into the caller sits at sp − 8 (arch/stacktrace.ts).
 *
 * Locks: vmap_area_lock (a plain spinlock, process context) guards the list
 * and the descriptors' links and dying flags; it is never held across page
 * allocation, TLB flushes or printk of a report. The fault report takes it
 * with a bounded trylock (it runs in the trap handler, maybe on a CPU that
 * holds it). Order: vmap_area_lock → nothing (leaf).
 *
 * Context: every allocating or freeing function may sleep (GFP_KERNEL
 * pages and descriptors, IPIs): process context only, interrupts on. Not
 * from interrupt handlers (Linux defers vfree there; we do not).
 * find_vm_area, is_vmalloc_addr, vmalloc_to_page: any context.
 */
import { PAGE_SHIFT, PAGE_SIZE, PMD_SIZE, VMALLOC_START, VMALLOC_END, KERNEL_VIRT_BASE, vaddr, __pa } from "../arch/layout";
import { PAGE_KERNEL, pte_lookup, pte_leaf, pte_pfn, set_pte_kernel, clear_pte_kernel, pte_table_present,
  pgtable_install_table, flush_tlb_kernel_range } from "../arch/pgtable";
import { sfence_vma, sfence_vma_all, sp_read } from "../arch/riscv";
import { set_kernel_fault_hook } from "../arch/traps";
import { kernel_text_or_data } from "../arch/stacktrace";
import { page, pfn_valid, pfn_to_page, page_to_pfn, page_address } from "./page";
import { alloc_page, __free_page, totalram_pages } from "./page_alloc";
import { gfp_t, GFP_KERNEL, __GFP_HIGHMEM, __GFP_ZERO, __GFP_NOWARN, __GFP_DMA, __GFP_DMA32, __GFP_DIRECT_RECLAIM } from "./gfp";
import { irqs_disabled } from "../arch/irqflags";
import { kmalloc, kzalloc, kfree } from "./kmalloc";
import { spinlock_t, SPINLOCK_SIZE, spin_lock_init, spin_lock, spin_unlock, arch_spin_unlock } from "../locking/spinlock";
import { smp_processor_id } from "../cpu";
import { LIST_HEAD_SIZE, INIT_LIST_HEAD, list_next, list_prev, list_add_tail, list_del_init } from "../lib/list";
import { might_sleep } from "../sched/core";
import { pr_info, pr_err, pr_warn } from "../printk";
import { scnprintf } from "../lib/vsprintf";
import { dump_stack } from "../arch/traps";
import { vmcoreinfo_mm_late } from "../vmcoreinfo";

export const VM_IOREMAP: u32 = 0x0001;
export const VM_ALLOC: u32 = 0x0002;
export const VM_MAP: u32 = 0x0004;

const ENOMEM: i32 = 12;

/** One area (Linux struct vm_struct and its vmap_area in one). */
@unmanaged
export class vm_struct {
  /** vmap_area_list links (lib/list.ts list_head: next, prev). */
  next: u32;
  prev: u32;
  /** First byte, as the CPU sees it (64-bit). */
  addr: u64;
  /** Bytes, the guard page included. */
  size: u64;
  /** ioremap: the physical address of the first page. */
  phys_addr: u64;
  /** The code address that asked for it. */
  caller: u64;
  flags: u32;
  nr_pages: u32;
  /** VM_ALLOC: kmalloc'ed array of nr_pages struct page pointers (u32). */
  pages: usize;
  /** Being torn down: not found by vfree / find_vm_area. */
  dying: u32;
}

const vmap_area_lock = changetype<spinlock_t>(memory.data(SPINLOCK_SIZE, 16));
/** The areas, in address order (exported for VMCOREINFO's SYMBOL(vmap_area_list)). */
export const vmap_area_list: usize = memory.data(<i32>LIST_HEAD_SIZE, 8);
let vmalloc_ready: bool = false;

/** Counters (under vmap_area_lock): live areas, pages of VM_ALLOC areas. */
let nr_vmap_areas: i32 = 0;
let nr_vmalloc_pages: u64 = 0;
/** Atomic counters: areas that could not be placed, vmalloc page-allocation failures. */
const vstats: usize = memory.data(16, 8);

// @ts-ignore: decorator
@inline function area_of(e: usize): vm_struct { return changetype<vm_struct>(e); }
// @ts-ignore: decorator
@inline function in_range(va: u64): bool { return va >= VMALLOC_START && va < VMALLOC_END; }
// @ts-ignore: decorator
@inline function page_align(n: u64): u64 { return (n + PAGE_SIZE - 1) & ~(<u64>PAGE_SIZE - 1); }
/** The kernel pointer of a range address (its low 32 bits: the CPU sign-extends them back). */
// @ts-ignore: decorator
@inline function ptr_of(va: u64): usize { return <usize><u32>va; }

// --- counters for tests and reports ------------------------------------------------

/** Live areas (every kind). Context: any (a snapshot). */
export function vmap_area_count(): i32 { return nr_vmap_areas; }
/** Pages held by live vmalloc areas. */
export function vmalloc_nr_pages(): u64 { return nr_vmalloc_pages; }
/** Area requests that found no gap ("vmap allocation … failed"). */
export function vmap_area_failures(): u64 { return atomic.load<u64>(vstats); }
/** vmalloc requests whose pages could not all be allocated. */
export function vmalloc_page_failures(): u64 { return atomic.load<u64>(vstats + 8); }

/** Is `p` (a kernel pointer) in the vmalloc / ioremap range (Linux is_vmalloc_addr)? Context: any. */
export function is_vmalloc_addr(p: usize): bool { return in_range(vaddr(p)); }

// --- the caller -----------------------------------------------------------------------

/** Static data comes after the code (toolchain memoryBase): the code's upper bound. */
const text_end_marker: usize = memory.data(8, 8);

/** The return address into the caller of an @inline API function, from its sp (0 when it does not look right). */
function caller_of(api_sp: u64): u64 {
  if (api_sp == 0 || (api_sp & 7) != 0 || !kernel_text_or_data(api_sp - 16)) return 0;
  const ra = load<u64>(<usize>api_sp - 8);
  return ra >= KERNEL_VIRT_BASE && ra < vaddr(text_end_marker) ? ra : 0;
}

// --- init -------------------------------------------------------------------------------

/**
 * Set up the area list and the fault report. Context: boot CPU, once,
 * after kmem_cache_init and kmap_init (the tables of slot 511), before
 * the first ioremap.
 */
export function vmalloc_init(): void {
  if (vmalloc_ready) return;
  spin_lock_init(vmap_area_lock);
  INIT_LIST_HEAD(vmap_area_list);
  set_kernel_fault_hook(vmalloc_fault_report);
  vmalloc_ready = true;
  vmcoreinfo_mm_late();                 // the zones exist now: their per-CPU lists' address
  pr_info("vmalloc: %#lx-%#lx (%lu MiB), first fit, one guard page per area\n",
    VMALLOC_START, VMALLOC_END - 1, (VMALLOC_END - VMALLOC_START) >> 20);
}

// --- areas --------------------------------------------------------------------------------

/** Give [start, end) level-0 tables from the page allocator. Returns 0 or -ENOMEM. Context: may sleep. */
function vmap_populate_tables(start: u64, end: u64, gfp: gfp_t): i32 {
  for (let va = start & ~(PMD_SIZE - 1); va < end; va += PMD_SIZE) {
    if (pte_table_present(va)) continue;
    const pg = alloc_page((gfp & ~(__GFP_HIGHMEM | __GFP_DMA | __GFP_DMA32)) | __GFP_ZERO);
    if (changetype<usize>(pg) == 0) return -ENOMEM;
    if (pgtable_install_table(va, page_address(pg)) != 0) __free_page(pg); // another CPU was first
  }
  return 0;
}

/**
 * The gfp for descriptors and page tables: the caller's reclaim mode, and
 * none while interrupts are off (boot, before the tick: Linux masks
 * __GFP_DIRECT_RECLAIM off the same way with gfp_allowed_mask until the
 * scheduler runs).
 */
function meta_gfp(gfp: gfp_t): gfp_t {
  const g = GFP_KERNEL & ~(__GFP_DIRECT_RECLAIM) | (gfp & __GFP_DIRECT_RECLAIM);
  return irqs_disabled() ? g & ~__GFP_DIRECT_RECLAIM : g;
}

/**
 * Reserve an area of `size` bytes (rounded up to pages; a guard page is
 * added) aligned to `align` (a power of two ≥ PAGE_SIZE) and, with
 * `populate`, give it page tables; nothing is mapped yet (Linux
 * __get_vm_area_node). Returns the
 * descriptor, or null (0) when size is 0, no gap fits ("vmap allocation
 * for size … failed", unless __GFP_NOWARN) or memory ran out. Context:
 * process context, may sleep.
 */
function __get_vm_area(size: u64, flags: u32, align: u64, gfp: gfp_t, caller: u64, populate: bool): vm_struct {
  size = page_align(size);
  if (size == 0 || size > VMALLOC_END - VMALLOC_START || !vmalloc_ready) return changetype<vm_struct>(0);
  if (align < <u64>PAGE_SIZE) align = PAGE_SIZE;
  const need = size + PAGE_SIZE;
  const vm = changetype<vm_struct>(kzalloc(offsetof<vm_struct>(), meta_gfp(gfp)));
  if (changetype<usize>(vm) == 0) return vm;
  spin_lock(vmap_area_lock);
  let cand = (VMALLOC_START + align - 1) & ~(align - 1);
  let e = list_next(vmap_area_list);
  while (e != vmap_area_list) {
    const a = area_of(e);
    if (cand + need <= a.addr) break;
    const end = a.addr + a.size;
    if (end > cand) cand = (end + align - 1) & ~(align - 1);
    e = list_next(e);
  }
  if (cand + need > VMALLOC_END || cand < VMALLOC_START) {
    spin_unlock(vmap_area_lock);
    kfree(changetype<usize>(vm));
    atomic.add<u64>(vstats, 1);
    if ((gfp & __GFP_NOWARN) == 0) pr_warn("vmap allocation for size %lu failed: use vmalloc=<size> to increase size\n", need);
    return changetype<vm_struct>(0);
  }
  vm.addr = cand;
  vm.size = need;
  vm.flags = flags;
  vm.caller = caller;
  list_add_tail(changetype<usize>(vm), e); // before the first area above it: the list stays sorted
  nr_vmap_areas++;
  spin_unlock(vmap_area_lock);
  if (populate && vmap_populate_tables(cand, cand + size, meta_gfp(gfp)) != 0) {
    remove_area(vm);
    return changetype<vm_struct>(0);
  }
  return vm;
}

/** Take `vm` off the list and free its descriptor (its pages are gone, its PTEs clear and flushed). */
function remove_area(vm: vm_struct): void {
  spin_lock(vmap_area_lock);
  list_del_init(changetype<usize>(vm));
  nr_vmap_areas--;
  if (vm.flags & VM_ALLOC) nr_vmalloc_pages -= vm.nr_pages;
  spin_unlock(vmap_area_lock);
  if (vm.pages != 0) kfree(vm.pages);
  kfree(changetype<usize>(vm));
}

/**
 * Reserve an area of `size` bytes with flags VM_* and map nothing (Linux
 * get_vm_area): for tests and callers that map it themselves. Returns the
 * descriptor or null. Context: may sleep. Give it back with free_vm_area.
 */
// @ts-ignore: decorator
@inline export function get_vm_area(size: u64, flags: u32): vm_struct { return __get_vm_area_sp(size, flags, sp_read()); }

export function __get_vm_area_sp(size: u64, flags: u32, api_sp: u64): vm_struct {
  return __get_vm_area(size, flags, PAGE_SIZE, GFP_KERNEL | __GFP_NOWARN, caller_of(api_sp), false);
}

/** Give back an area from get_vm_area (its PTEs are cleared and flushed first). Context: may sleep. */
export function free_vm_area(vm: vm_struct): void {
  if (changetype<usize>(vm) == 0) return;
  vm.dying = 1;
  unmap_area(vm);
  remove_area(vm);
}

/** The area containing kernel pointer `p` (guard page included), or null (Linux find_vm_area). Context: any but the fault path. */
export function find_vm_area(p: usize): vm_struct {
  const va = vaddr(p);
  if (!in_range(va) || !vmalloc_ready) return changetype<vm_struct>(0);
  spin_lock(vmap_area_lock);
  let found: usize = 0;
  for (let e = list_next(vmap_area_list); e != vmap_area_list; e = list_next(e)) {
    const a = area_of(e);
    if (va < a.addr) break;
    if (va < a.addr + a.size && a.dying == 0) { found = e; break; }
  }
  spin_unlock(vmap_area_lock);
  return changetype<vm_struct>(found);
}

/** Find the live area starting at page `va` and mark it dying (one teardown wins). Null when there is none. */
function claim_area(va: u64): vm_struct {
  spin_lock(vmap_area_lock);
  let found: usize = 0;
  for (let e = list_next(vmap_area_list); e != vmap_area_list; e = list_next(e)) {
    const a = area_of(e);
    if (a.addr > va) break;
    if (a.addr == va && a.dying == 0) { a.dying = 1; found = e; break; }
  }
  spin_unlock(vmap_area_lock);
  return changetype<vm_struct>(found);
}

/** The mapped bytes of an area (without its guard page). */
// @ts-ignore: decorator
@inline export function get_vm_area_size(vm: vm_struct): u64 { return vm.size - PAGE_SIZE; }

/** Map page `i` of `vm` to `pa`. */
function map_one(vm: vm_struct, i: u64, pa: u64, prot: u64): i32 {
  return set_pte_kernel(vm.addr + (i << PAGE_SHIFT), pa, prot);
}

/** Local fence after new mappings (the other CPUs hold no entry for a free range: see arch/pgtable.ts). */
function fence_new(vm: vm_struct): void {
  const pages = get_vm_area_size(vm) >> PAGE_SHIFT;
  if (pages > 64) { sfence_vma_all(); return; }
  for (let i: u64 = 0; i < pages; i++) sfence_vma(vm.addr + (i << PAGE_SHIFT), 0);
}

/** Clear every PTE of `vm` and flush the range on every online CPU (waits for all). */
function unmap_area(vm: vm_struct): void {
  const end = vm.addr + get_vm_area_size(vm);
  for (let va = vm.addr; va < end; va += PAGE_SIZE) clear_pte_kernel(va);
  flush_tlb_kernel_range(vm.addr, end);
}

// --- vmalloc ---------------------------------------------------------------------------------

/**
 * The real vmalloc (Linux __vmalloc_node_range): an area of `size` bytes
 * aligned to `align`, mapped with PAGE_KERNEL onto order-0 pages allocated
 * with gfp | __GFP_HIGHMEM. `caller` is recorded for vmallocinfo. Returns
 * the kernel pointer, or 0 (NULL) when size is 0 or larger than RAM, no
 * gap fits, or pages ran out ("vmalloc error: size …", unless
 * __GFP_NOWARN). `api_sp` is the stack pointer of the @inline wrapper's
 * caller (its sp_read()): the caller is the return address right below it.
 * Context: process context, may sleep (GFP_KERNEL).
 */
export function __vmalloc_node_sp(size: u64, align: u64, gfp: gfp_t, api_sp: u64): usize {
  const caller = caller_of(api_sp);
  might_sleep("mm/vmalloc.ts (vmalloc)");
  const real = page_align(size);
  if (real == 0 || (real >> PAGE_SHIFT) > totalram_pages) return 0;
  const vm = __get_vm_area(real, VM_ALLOC, align, gfp, caller, true);
  if (changetype<usize>(vm) == 0) {
    if ((gfp & __GFP_NOWARN) == 0) pr_warn("vmalloc error: size %lu, vm_struct allocation failed\n", real);
    return 0;
  }
  const n = <u32>(real >> PAGE_SHIFT);
  vm.pages = kmalloc(<usize>n * 4, meta_gfp(gfp));
  if (vm.pages == 0) { vm.dying = 1; remove_area(vm); return 0; }
  const page_gfp = (gfp & ~(__GFP_DMA | __GFP_DMA32)) | __GFP_HIGHMEM | __GFP_NOWARN;
  let got: u32 = 0;
  for (; got < n; got++) {
    const pg = alloc_page(page_gfp);
    if (changetype<usize>(pg) == 0) break;
    store<u32>(vm.pages + <usize>got * 4, <u32>changetype<usize>(pg));
    if (map_one(vm, got, page_to_pfn(pg) << PAGE_SHIFT, PAGE_KERNEL) != 0) { got++; break; }
    vm.nr_pages = got + 1;
  }
  if (vm.nr_pages < n) {
    atomic.add<u64>(vstats + 8, 1);
    if ((gfp & __GFP_NOWARN) == 0) pr_warn("vmalloc error: size %lu, failed to allocate pages, mode:%#x\n", real, gfp);
    vm.dying = 1;
    unmap_area(vm);
    for (let i: u32 = 0; i < got; i++) __free_page(changetype<page>(<usize>load<u32>(vm.pages + <usize>i * 4)));
    vm.nr_pages = 0;
    remove_area(vm);
    return 0;
  }
  spin_lock(vmap_area_lock);
  nr_vmalloc_pages += n;
  spin_unlock(vmap_area_lock);
  fence_new(vm);
  return ptr_of(vm.addr);
}

/**
 * Allocate `size` bytes of virtually contiguous memory (Linux vmalloc):
 * GFP_KERNEL, highmem pages first. NULL on failure. Context: process, may sleep.
 */
// @ts-ignore: decorator
@inline export function vmalloc(size: u64): usize { return __vmalloc_node_sp(size, PAGE_SIZE, GFP_KERNEL, sp_read()); }

/** vmalloc of zeroed memory (Linux vzalloc). NULL on failure. Context: as vmalloc. */
// @ts-ignore: decorator
@inline export function vzalloc(size: u64): usize { return __vmalloc_node_sp(size, PAGE_SIZE, GFP_KERNEL | __GFP_ZERO, sp_read()); }

/** vmalloc with the caller's gfp (Linux __vmalloc; __GFP_HIGHMEM is always added). NULL on failure. */
// @ts-ignore: decorator
@inline export function __vmalloc(size: u64, gfp: gfp_t): usize { return __vmalloc_node_sp(size, PAGE_SIZE, gfp, sp_read()); }

/**
 * vmalloc aligned to `align` (Linux __vmalloc_node; the node is ignored:
 * one node; the caller is found from the stack, not passed). NULL on failure.
 */
// @ts-ignore: decorator
@inline export function __vmalloc_node(size: u64, align: u64, gfp: gfp_t, node: i32): usize { return __vmalloc_node_sp(size, align, gfp, sp_read()); }

/** Report a free of something that is not a live area of the right kind (Linux's WARN). */
function bad_free(what: string, p: usize): void {
  pr_err("%s: Trying to %s() nonexistent vm area (%px)\n", changetype<usize>("vmalloc"), changetype<usize>(what), p);
  dump_stack();
}

/**
 * Free a vmalloc area (Linux vfree): PTEs cleared, every CPU's TLB flushed,
 * then the pages freed. NULL is ignored; anything that is not the start of
 * a live vmalloc area is reported (and left alone). Context: process
 * context, may sleep (IPIs).
 */
export function vfree(p: usize): void {
  if (p == 0) return;
  might_sleep("mm/vmalloc.ts (vfree)");
  const vm = claim_area(vaddr(p));
  if (changetype<usize>(vm) == 0) { bad_free("vfree", p); return; }
  if ((vm.flags & VM_ALLOC) == 0) { vm.dying = 0; bad_free("vfree", p); return; }
  unmap_area(vm);
  for (let i: u32 = 0; i < vm.nr_pages; i++) __free_page(changetype<page>(<usize>load<u32>(vm.pages + <usize>i * 4)));
  remove_area(vm);
}

// --- vmap ---------------------------------------------------------------------------------------

/**
 * Map `count` pages (an array of u32 struct page pointers at `pages`) into
 * one contiguous area (Linux vmap); `flags` are added to VM_MAP, `prot` is
 * the PTE protection (PAGE_KERNEL …). The pages stay the caller's. Returns
 * the kernel pointer, or NULL (count 0, no gap, no memory for tables).
 * Context: process context, may sleep.
 */
// @ts-ignore: decorator
@inline export function vmap(pages: usize, count: u32, flags: u32, prot: u64): usize { return __vmap(pages, count, flags, prot, sp_read()); }

export function __vmap(pages: usize, count: u32, flags: u32, prot: u64, api_sp: u64): usize {
  const caller = caller_of(api_sp);
  might_sleep("mm/vmalloc.ts (vmap)");
  if (count == 0 || <u64>count > totalram_pages) return 0;
  const vm = __get_vm_area(<u64>count << PAGE_SHIFT, flags | VM_MAP, PAGE_SIZE, GFP_KERNEL, caller, true);
  if (changetype<usize>(vm) == 0) return 0;
  for (let i: u32 = 0; i < count; i++) {
    const pg = changetype<page>(<usize>load<u32>(pages + <usize>i * 4));
    if (map_one(vm, i, page_to_pfn(pg) << PAGE_SHIFT, prot) != 0) {
      vm.dying = 1;
      unmap_area(vm);
      remove_area(vm);
      return 0;
    }
  }
  fence_new(vm);
  return ptr_of(vm.addr);
}

/**
 * Remove a vmap mapping (Linux vunmap): PTEs cleared and flushed on every
 * CPU; the pages are not touched. Anything but the start of a live vmap
 * area is reported. Context: process context, may sleep.
 */
export function vunmap(p: usize): void {
  if (p == 0) return;
  might_sleep("mm/vmalloc.ts (vunmap)");
  const vm = claim_area(vaddr(p));
  if (changetype<usize>(vm) == 0) { bad_free("vunmap", p); return; }
  if ((vm.flags & VM_MAP) == 0) { vm.dying = 0; bad_free("vunmap", p); return; }
  unmap_area(vm);
  remove_area(vm);
}

// --- ioremap -------------------------------------------------------------------------------------

/**
 * Map device registers at physical [phys, phys + size) (Linux ioremap):
 * an ioremap area of whole pages, plain PAGE_KERNEL PTEs (no Svpbmt on
 * this machine: no memory type to set). Returns the kernel pointer to
 * `phys` (its offset in the page kept), or NULL (size 0, no gap, no
 * memory). Context: process context or boot after vmalloc_init; may sleep.
 */
// @ts-ignore: decorator
@inline export function ioremap(phys: u64, size: u64): usize { return __ioremap(phys, size, sp_read()); }

export function __ioremap(phys: u64, size: u64, api_sp: u64): usize {
  const caller = caller_of(api_sp);
  if (size == 0) return 0;
  const offset = phys & (<u64>PAGE_SIZE - 1);
  const base = phys - offset;
  const len = page_align(size + offset);
  const vm = __get_vm_area(len, VM_IOREMAP, PAGE_SIZE, GFP_KERNEL, caller, true);
  if (changetype<usize>(vm) == 0) return 0;
  vm.phys_addr = base;
  for (let i: u64 = 0; i < (len >> PAGE_SHIFT); i++) {
    if (map_one(vm, i, base + (i << PAGE_SHIFT), PAGE_KERNEL) != 0) {
      vm.dying = 1;
      unmap_area(vm);
      remove_area(vm);
      return 0;
    }
  }
  fence_new(vm);
  return ptr_of(vm.addr + offset);
}

/**
 * Remove an ioremap mapping (Linux iounmap): any address inside its first
 * page. Anything else is reported. Context: process context, may sleep.
 */
export function iounmap(p: usize): void {
  if (p == 0) return;
  const va = vaddr(p) & ~(<u64>PAGE_SIZE - 1);
  const vm = claim_area(va);
  if (changetype<usize>(vm) == 0) { bad_free("iounmap", p); return; }
  if ((vm.flags & VM_IOREMAP) == 0) { vm.dying = 0; bad_free("iounmap", p); return; }
  unmap_area(vm);
  remove_area(vm);
}

// --- lookups ---------------------------------------------------------------------------------------

/**
 * The struct page mapped at vmalloc address `p` (Linux vmalloc_to_page),
 * or null when nothing is mapped there (or it is not RAM: ioremap).
 * Context: any.
 */
export function vmalloc_to_page(p: usize): page {
  const va = vaddr(p);
  if (!in_range(va)) return changetype<page>(0);
  const pte = pte_lookup(va);
  if (!pte_leaf(pte) || !pfn_valid(pte_pfn(pte))) return changetype<page>(0);
  return pfn_to_page(pte_pfn(pte));
}

/** The page frame number mapped at `p` (Linux vmalloc_to_pfn), 0 when none. */
export function vmalloc_to_pfn(p: usize): u64 {
  const pte = pte_lookup(vaddr(p));
  return pte_leaf(pte) ? pte_pfn(pte) : 0;
}

// --- the fault report ---------------------------------------------------------------------------------

/**
 * Name a faulting vmalloc-range address, at KERN_ERR (the trap handler
 * calls it before the oops, or before copy_from_kernel_nofault returns
 * -EFAULT). Context: the trap handler; takes vmap_area_lock by trylock only.
 */
/** One ticket-lock attempt on vmap_area_lock, no preemption change (the trap handler must not reschedule). */
function arch_trylock(): bool {
  const p = changetype<usize>(vmap_area_lock);
  const owner = atomic.load<u32>(p, 4);
  if (atomic.cmpxchg<u32>(p, owner, owner + 1) != owner) return false;
  vmap_area_lock.owner_cpu = smp_processor_id() + 1;
  return true;
}

function vmalloc_fault_report(addr: u64): void {
  if (!in_range(addr)) return;
  let locked = false;
  for (let i = 0; i < 1000 && !locked; i++) locked = arch_trylock();
  if (!locked) {
    pr_err("vmalloc: fault at %px: area list busy\n", addr);
    return;
  }
  let found: usize = 0;
  for (let e = list_next(vmap_area_list); e != vmap_area_list; e = list_next(e)) {
    const a = area_of(e);
    if (addr < a.addr) break;
    if (addr < a.addr + a.size) { found = e; break; }
  }
  if (found == 0) {
    pr_err("vmalloc: fault at %px: in no vmalloc area (freed?)\n", addr);
  } else {
    const a = area_of(found);
    const what = addr >= a.addr + a.size - PAGE_SIZE ? "guard page" : a.dying != 0 ? "unmapped page (being freed)" : "unmapped page";
    pr_err("vmalloc: fault at %px: %s of area %px-%px (%pS)\n", addr, changetype<usize>(what), a.addr, a.addr + a.size, a.caller);
  }
  arch_spin_unlock(vmap_area_lock);
}

// --- /proc/vmallocinfo -------------------------------------------------------------------------------

const LINE_SIZE: i32 = 160;
const line_buf: usize = memory.data(LINE_SIZE, 8);
/** Snapshot of one area, copied under the lock and printed after it is dropped. */
const MAX_SNAP: i32 = 256;
const snap: usize = memory.data(MAX_SNAP * 40, 8);

/**
 * Print /proc/vmallocinfo (Linux 6.1 s_show): one line per live area in
 * address order,
 *   0x<start>-0x<end> <size %7ld> [<caller>] pages=N phys=0x… ioremap|vmalloc|vmap
 * after a line "vmallocinfo: N areas, P pages, B bytes" and the header
 * "# cat /proc/vmallocinfo". At most MAX_SNAP areas are printed (the
 * summary counts them all). Context: process context (takes
 * vmap_area_lock briefly); does not allocate.
 */
export function print_vmallocinfo(): void {
  let n = 0, total = 0;
  let pages: u64 = 0, bytes: u64 = 0;
  spin_lock(vmap_area_lock);
  for (let e = list_next(vmap_area_list); e != vmap_area_list; e = list_next(e)) {
    const a = area_of(e);
    total++;
    pages += a.nr_pages;
    bytes += a.size;
    if (n >= MAX_SNAP) continue;
    const s = snap + <usize>n * 40;
    store<u64>(s, a.addr);
    store<u64>(s, a.size, 8);
    store<u64>(s, a.caller, 16);
    store<u64>(s, a.phys_addr, 24);
    store<u32>(s, a.nr_pages, 32);
    store<u32>(s, a.flags, 36);
    n++;
  }
  spin_unlock(vmap_area_lock);
  pr_info("vmallocinfo: %d areas, %lu pages, %lu bytes\n", total, pages, bytes);
  pr_info("# cat /proc/vmallocinfo\n");
  for (let i = 0; i < n; i++) {
    const s = snap + <usize>i * 40;
    const addr = load<u64>(s), size = load<u64>(s, 8), caller = load<u64>(s, 16), phys = load<u64>(s, 24);
    const nr = load<u32>(s, 32), flags = load<u32>(s, 36);
    let l = scnprintf(line_buf, LINE_SIZE, "0x%px-0x%px %7ld", addr, addr + size, size);
    if (caller != 0) l += scnprintf(line_buf + <usize>l, LINE_SIZE - l, " %pS", caller);
    if (nr != 0) l += scnprintf(line_buf + <usize>l, LINE_SIZE - l, " pages=%d", nr);
    if (phys != 0) l += scnprintf(line_buf + <usize>l, LINE_SIZE - l, " phys=%pa", phys);
    if (flags & VM_IOREMAP) l += scnprintf(line_buf + <usize>l, LINE_SIZE - l, " ioremap");
    if (flags & VM_ALLOC) l += scnprintf(line_buf + <usize>l, LINE_SIZE - l, " vmalloc");
    if (flags & VM_MAP) l += scnprintf(line_buf + <usize>l, LINE_SIZE - l, " vmap");
    pr_info("%pz\n", line_buf);
  }
}
