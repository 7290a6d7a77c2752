/**
 * High memory: temporary kernel mappings of pages the linear map cannot
 * reach (Linux mm/highmem.c, include/linux/highmem*.h).
 *
 * The kernel's pointers are 32-bit wasm addresses seen sign-extended: the
 * linear map covers low DRAM only (1 GiB at most). ZONE_HIGHMEM pages —
 * high DRAM at 0x1_0000_0000, and on QEMU the RAM above 0xC000_0000 — have
 * no kernel address until one of these functions gives them one, in root
 * slot 511 (arch/layout.ts):
 *
 *   PKMAP_BASE    0xFFFF_FFFF_F800_0000  512 slots  kmap(): any CPU, may sleep
 *   FIXADDR_START 0xFFFF_FFFF_F840_0000  16 × 64    kmap_local_page / kmap_atomic:
 *                                                   KM_MAX_IDX slots per CPU
 *
 * Lowmem pages are never remapped: every function here returns
 * page_address() for them, as Linux does.
 *
 * 1. kmap / kunmap: the permanent-kmap pool
 *
 *   pkmap_count[nr]   0      free, PTE clear, no TLB holds it
 *                     1      no user, but still mapped: the PTE and maybe
 *                            some TLBs still name the old page; a kmap() of
 *                            that page reuses it without any flush
 *                     n + 1  n users
 *
 *        kmap (new page)            kmap (same page)
 *     0 ───────────────────► 2 ◄──────────────────► 3 … n+1
 *     ▲                      │ kunmap               kunmap
 *     │                      ▼
 *     └──────────────────── 1 ── kmap (same page, page->virtual still set) ──► 2
 *      flush_all_zero_pkmaps: every 1 at once: clear its PTE, page->virtual = 0,
 *      then one flush_tlb_kernel_range of the whole window on every CPU
 *
 * A new mapping takes the next slot after last_pkmap_nr whose count is 0.
 * Each time the search wraps to slot 0, flush_all_zero_pkmaps turns every
 * 1 into 0 (so the global TLB flush is paid once per 512 mappings, not per
 * kunmap). When every slot has users (all counts ≥ 2), kmap sleeps on
 * pkmap_map_wait until a kunmap drops a count to 1, then searches again;
 * another task may have mapped the same page meanwhile (page->virtual).
 * The page's address lives in struct page (page->virtual, Linux's
 * WANT_PAGE_VIRTUAL), set on mapping and cleared by the flush: so
 * page_address() of a highmem page is its kmap address from kmap() until
 * the slot is recycled, 0 otherwise.
 *
 * Lock: kmap_lock (a plain spinlock, never taken in interrupt context;
 * kmap/kunmap are process-context only) protects pkmap_count, pkmap_page,
 * last_pkmap_nr and page->virtual of highmem pages. Lock order: kmap_lock →
 * the IPI wait of flush_tlb_kernel_range (other CPUs spinning on kmap_lock
 * have interrupts on and answer it) → pgtable_lock; pkmap_map_wait's lock
 * is taken only with kmap_lock released.
 *
 * 2. kmap_local_page / kmap_atomic: per-CPU fixmap slots
 *
 *   CPU c's slots: fixmap indices FIX_KMAP_BEGIN + KM_MAX_IDX·c + i, i < 16
 *   kmap_local_top[c] = slots in use (a stack: map pushes, unmap pops)
 *
 * Linux keeps this stack per task and disables *migration* while a local
 * mapping lives, saving and restoring the slots on context switch. We have
 * no migration and no per-task save, so a highmem kmap_local_page disables
 * *preemption* until its kunmap_local (as kmap_atomic always did): the
 * stack belongs to the CPU, and nothing else runs there in between except
 * interrupt handlers, which unmap before they return (LIFO holds). A
 * lowmem page gets page_address() and changes nothing, as in Linux.
 * kmap_atomic = preempt_disable + kmap_local_page (Linux also does
 * pagefault_disable: our kernel resolves no page faults at all — every
 * kernel fault is an oops — so there is no fault count to raise).
 * Unmapping pops the top slot; an address that is not the top is reported
 * and the top is popped anyway (Linux's behaviour: after all the unmaps of
 * a nesting the stack is empty and every PTE clear, whatever the order).
 * The TLB flush is local: only this CPU ever used the slot.
 *
 * Misuse (kunmap of a page that is not kmapped, unbalanced or out-of-order
 * kunmap_local, more than KM_MAX_IDX local mappings) is reported with
 * pr_err and a WARN back-trace, counted (kmap_bug_count), and survived.
 */
import { PAGE_SHIFT, PAGE_SIZE, PAGE_OFFSET, LAST_PKMAP, LAST_PKMAP_MASK, PKMAP_BASE, PKMAP_END, KM_MAX_IDX, FIX_KMAP_BEGIN,
  FIXADDR_START, FIXADDR_TOP, NR_CPUS, PKMAP_ADDR, PKMAP_NR, __fix_to_virt, vaddr } from "../arch/layout";
import { PAGE_KERNEL, pfn_pte, pte_none, pgtable_kernel_init, pgtable_populate, pte_offset_kernel, set_pte_kernel, clear_pte_kernel,
  flush_tlb_kernel_page, flush_tlb_kernel_range } from "../arch/pgtable";
import { page, PageHighMem, page_address, set_page_address, page_to_pfn } from "./page";
import { set_clear_highpage } from "./page_alloc";
import { spinlock_t, SPINLOCK_SIZE, spin_lock, spin_unlock, spin_lock_init } from "../locking/spinlock";
import { WAIT_QUEUE_HEAD_SIZE, init_waitqueue_head, waitqueue_active, wake_up, wait_event } from "../sched/wait";
import { might_sleep, current_pid } from "../sched/core";
import { preempt_disable, preempt_enable } from "../preempt";
import { smp_processor_id } from "../cpu";
import { pr_info, pr_err, pr_warn } from "../printk";
import { dump_stack } from "../arch/traps";
import { vmcoreinfo_symbol, vmcoreinfo_number, vmcoreinfo_append } from "../vmcoreinfo";

// --- state -------------------------------------------------------------------------

const kmap_lock = changetype<spinlock_t>(memory.data(SPINLOCK_SIZE, 16));
/** pkmap_count[LAST_PKMAP] (i32): see the state machine above. */
const pkmap_count: usize = memory.data(LAST_PKMAP * 4, 4);
/** The struct page each mapped slot maps (u32 kernel pointers; 0 = none). */
const pkmap_page: usize = memory.data(LAST_PKMAP * 4, 4);
let last_pkmap_nr: i32 = 0;
const pkmap_map_wait: usize = memory.data(WAIT_QUEUE_HEAD_SIZE, 16);
/** Slots with users (count ≥ 2), atomic: the sleepers' wake-up condition reads it without the lock. */
const pkmap_busy: usize = memory.data(4, 4);
/** kmap_local_top[cpu] (i32): local mappings this CPU holds. */
const kmap_local_top: usize = memory.data(NR_CPUS * 4, 4);

/** Counters (atomic u64): global pkmap flushes, kmap sleeps, reported misuse. */
const stats: usize = memory.data(8 * 4, 8);
const ST_FLUSHES: usize = 0;
const ST_SLEEPS: usize = 8;
const ST_BUGS: usize = 16;
const ST_LOCAL_MAPS: usize = 24;

let kmap_ready: bool = false;

// @ts-ignore: decorator
@inline function count_ptr(nr: i32): usize { return pkmap_count + <usize>nr * 4; }
// @ts-ignore: decorator
@inline function stat_inc(off: usize): void { atomic.add<u64>(stats + off, 1); }
/** page->virtual, read directly (page_address() answers the linear map for lowmem pages). */
// @ts-ignore: decorator
@inline function pkmap_address_of(pg: page): usize { return <usize>atomic.load<u32>(changetype<usize>(pg), offsetof<page>("virtual")); }
// @ts-ignore: decorator
@inline function in_pkmap(va: u64): bool { return va >= PKMAP_BASE && va < PKMAP_END; }
// @ts-ignore: decorator
@inline function in_fixmap(va: u64): bool { return va >= FIXADDR_START && va < FIXADDR_TOP; }

/** Virtual address of CPU `cpu`'s local slot `idx`. */
export function kmap_local_slot_vaddr(cpu: i32, idx: i32): u64 {
  return __fix_to_virt(FIX_KMAP_BEGIN + KM_MAX_IDX * cpu + idx);
}

/**
 * Report a misuse: pr_err the message, then Linux's WARN report (cut-here
 * line, the call chain, end marker), all below KERN_EMERG so that a test
 * can keep an expected report off the console. Never fails.
 */
function kmap_bug(fmt: string, a0: u64 = 0, a1: u64 = 0, a2: u64 = 0): void {
  stat_inc(ST_BUGS);
  pr_err(fmt, a0, a1, a2);
  pr_warn("------------[ cut here ]------------\n");
  pr_warn("WARNING: CPU: %d PID: %d at mm/highmem\n", smp_processor_id(), current_pid());
  dump_stack();
  pr_warn("---[ end trace 0000000000000000 ]---\n");
}

// --- counters for tests and reports ---------------------------------------------------

/** Pkmap slots that have users (count ≥ 2). Context: any (a snapshot). */
export function pkmap_slots_in_use(): i32 { return <i32>atomic.load<u32>(pkmap_busy); }
/** Pkmap slots still mapped (count ≥ 1: in use, or cached until the next flush). Context: any (a snapshot). */
export function pkmap_slots_mapped(): i32 {
  let n = 0;
  for (let i = 0; i < LAST_PKMAP; i++) if (atomic.load<i32>(count_ptr(i)) >= 1) n++;
  return n;
}
/** pkmap_count[nr] (a snapshot). */
export function pkmap_count_of(nr: i32): i32 { return atomic.load<i32>(count_ptr(nr & LAST_PKMAP_MASK)); }
/** flush_all_zero_pkmaps runs that cleared slots and flushed every CPU's TLB. */
export function pkmap_flush_count(): u64 { return atomic.load<u64>(stats + ST_FLUSHES); }
/** Times kmap slept because every slot had users. */
export function kmap_sleep_count(): u64 { return atomic.load<u64>(stats + ST_SLEEPS); }
/** Misuse reports so far (kunmap of an unmapped page, bad kunmap_local, too deep nesting). */
export function kmap_bug_count(): u64 { return atomic.load<u64>(stats + ST_BUGS); }
/** Local (fixmap) mappings made so far, all CPUs. */
export function kmap_local_map_count(): u64 { return atomic.load<u64>(stats + ST_LOCAL_MAPS); }
/** Local mappings CPU `cpu` holds now. */
export function kmap_local_depth(cpu: i32): i32 { return load<i32>(kmap_local_top + <usize>cpu * 4); }

// --- init ----------------------------------------------------------------------------

/**
 * Set up the pkmap and fixmap page tables and the pkmap state. Context:
 * boot CPU, once, before SMP bring-up (panics when the tables cannot be
 * made: a build-time sizing error).
 */
export function kmap_init(): void {
  if (kmap_ready) return;
  pgtable_kernel_init();
  const e1 = pgtable_populate(PKMAP_BASE, PKMAP_END);
  const e2 = pgtable_populate(FIXADDR_START, FIXADDR_TOP);
  if (e1 != 0 || e2 != 0) {
    kmap_bug("kmap_init: no page tables for pkmap (%d) / fixmap (%d)\n", e1, e2);
    return;
  }
  spin_lock_init(kmap_lock);
  init_waitqueue_head(pkmap_map_wait);
  memory.fill(pkmap_count, 0, <usize>LAST_PKMAP * 4);
  memory.fill(pkmap_page, 0, <usize>LAST_PKMAP * 4);
  memory.fill(kmap_local_top, 0, <usize>NR_CPUS * 4);
  atomic.store<u32>(pkmap_busy, 0);
  last_pkmap_nr = 0;
  kmap_ready = true;
  set_clear_highpage(clear_highpage);   // __GFP_ZERO of highmem pages
  pr_info("highmem: pkmap %#lx-%#lx (%d slots), fixmap %#lx-%#lx (%d slots per CPU)\n",
    PKMAP_BASE, PKMAP_END - 1, LAST_PKMAP, FIXADDR_START, FIXADDR_TOP - 1, KM_MAX_IDX);
  // What the host needs to list the temporary mappings (addresses as unsigned decimals).
  vmcoreinfo_append("NUMBER(PKMAP_BASE)=%lu\n", PKMAP_BASE);
  vmcoreinfo_number("LAST_PKMAP", LAST_PKMAP);
  vmcoreinfo_append("NUMBER(FIXADDR_TOP)=%lu\n", FIXADDR_TOP);
  vmcoreinfo_number("KM_MAX_IDX", KM_MAX_IDX);
  vmcoreinfo_symbol("pkmap_count", pkmap_count);
  vmcoreinfo_symbol("pkmap_page", pkmap_page);
  vmcoreinfo_symbol("kmap_local_top", kmap_local_top);
}

// --- kmap / kunmap -----------------------------------------------------------------

/**
 * Clear every slot whose count is 1, then flush the whole window on every
 * CPU once (Linux flush_all_zero_pkmaps). Context: kmap_lock held.
 */
function flush_all_zero_pkmaps(): void {
  let need_flush = false;
  for (let i = 0; i < LAST_PKMAP; i++) {
    if (load<i32>(count_ptr(i)) != 1) continue;
    atomic.store<i32>(count_ptr(i), 0);
    const old = clear_pte_kernel(PKMAP_ADDR(i));
    if (pte_none(old)) pr_err("highmem: pkmap slot %d had count 1 but no PTE\n", i);
    const pg = load<u32>(pkmap_page + <usize>i * 4);
    if (pg != 0) set_page_address(changetype<page>(<usize>pg), 0);
    store<u32>(pkmap_page + <usize>i * 4, 0);
    need_flush = true;
  }
  if (need_flush) {
    flush_tlb_kernel_range(PKMAP_BASE, PKMAP_END);
    stat_inc(ST_FLUSHES);
  }
}

/** Sleepers' condition: some slot is free or freeable. */
function pkmap_slot_freeable(): bool { return atomic.load<u32>(pkmap_busy) < <u32>LAST_PKMAP; }

/**
 * A slot for `pg` (physical page `pfn`), count 1 (Linux map_new_virtual).
 * Context: kmap_lock held; drops it to sleep when every slot has users.
 * Returns the address (possibly one another task mapped meanwhile).
 */
function map_new_virtual(pg: page, pfn: u64): usize {
  while (true) {
    let count = LAST_PKMAP;
    while (true) {
      last_pkmap_nr = (last_pkmap_nr + 1) & LAST_PKMAP_MASK;
      if (last_pkmap_nr == 0) {
        flush_all_zero_pkmaps();
        count = LAST_PKMAP;
      }
      if (load<i32>(count_ptr(last_pkmap_nr)) == 0) {
        const va = PKMAP_ADDR(last_pkmap_nr);
        set_pte_kernel(va, pfn << PAGE_SHIFT, PAGE_KERNEL);
        flush_tlb_kernel_page(va); // invalid → valid: a local fence (arch/pgtable.ts)
        atomic.store<i32>(count_ptr(last_pkmap_nr), 1);
        store<u32>(pkmap_page + <usize>last_pkmap_nr * 4, <u32>changetype<usize>(pg));
        const addr = <usize>va;
        set_page_address(pg, addr);
        return addr;
      }
      if (--count == 0) break;
    }
    // Every slot has users: sleep until a kunmap frees one, then retry.
    stat_inc(ST_SLEEPS);
    spin_unlock(kmap_lock);
    wait_event(pkmap_map_wait, pkmap_slot_freeable);
    spin_lock(kmap_lock);
    // Somebody else might have mapped it while we slept.
    const addr = pkmap_address_of(pg);
    if (addr != 0) return addr;
  }
  return 0;
}

/**
 * The pkmap part of kmap() for `pg` at physical page `pfn` (any page:
 * tests map lowmem pages here to exercise the pool without high DRAM).
 * Returns the address, or 0 before kmap_init or for a corrupt page->virtual
 * (reported). Context: process context, may sleep.
 */
export function kmap_high_pfn(pg: page, pfn: u64): usize {
  if (!kmap_ready) {
    kmap_bug("kmap: called before kmap_init (page %p)\n", vaddr(changetype<usize>(pg)));
    return 0;
  }
  spin_lock(kmap_lock);
  let addr = pkmap_address_of(pg);
  if (addr != 0 && !in_pkmap(vaddr(addr))) {
    spin_unlock(kmap_lock);
    kmap_bug("kmap: page %p has virtual %p outside the pkmap window\n", vaddr(changetype<usize>(pg)), vaddr(addr));
    return 0;
  }
  if (addr == 0) addr = map_new_virtual(pg, pfn);
  const p = count_ptr(PKMAP_NR(vaddr(addr)));
  const c = load<i32>(p) + 1;
  atomic.store<i32>(p, c);
  if (c == 2) atomic.add<u32>(pkmap_busy, 1);
  spin_unlock(kmap_lock);
  if (c < 2) kmap_bug("kmap: pkmap slot %d count %d after mapping\n", PKMAP_NR(vaddr(addr)), c);
  return addr;
}

/** Linux kmap_high: map a page into the pkmap window. Context: process context, may sleep. */
export function kmap_high(pg: page): usize {
  return kmap_high_pfn(pg, page_to_pfn(pg));
}

/**
 * Drop one user of `pg`'s pkmap slot (Linux kunmap_high). A page that is
 * not kmapped is reported (no change). Wakes kmap sleepers when the slot
 * loses its last user. Context: process context (does not sleep).
 */
export function kunmap_high(pg: page): void {
  if (!kmap_ready) { kmap_bug("kunmap: called before kmap_init (page %p)\n", vaddr(changetype<usize>(pg))); return; }
  spin_lock(kmap_lock);
  const addr = pkmap_address_of(pg);
  if (addr == 0 || !in_pkmap(vaddr(addr))) {
    spin_unlock(kmap_lock);
    kmap_bug("BUG: kunmap: page %p is not mapped by kmap (virtual %p)\n", vaddr(changetype<usize>(pg)), vaddr(addr));
    return;
  }
  const nr = PKMAP_NR(vaddr(addr));
  const p = count_ptr(nr);
  const c = load<i32>(p);
  if (c < 2) {
    spin_unlock(kmap_lock);
    kmap_bug("BUG: kunmap: page %p has no kmap user (pkmap slot %d, count %d)\n", vaddr(changetype<usize>(pg)), nr, c);
    return;
  }
  atomic.store<i32>(p, c - 1);
  let need_wakeup = false;
  if (c - 1 == 1) {
    atomic.sub<u32>(pkmap_busy, 1);
    need_wakeup = waitqueue_active(pkmap_map_wait);
  }
  spin_unlock(kmap_lock);
  if (need_wakeup) wake_up(pkmap_map_wait);
}

/**
 * Map `pg` for the kernel (Linux kmap): lowmem pages give page_address(),
 * highmem pages a pkmap slot until kunmap. The address is valid on every
 * CPU. Context: process context, may sleep (waits for a free slot when all
 * 512 have users). Returns 0 only on misuse (reported).
 */
export function kmap(pg: page): usize {
  might_sleep("mm/highmem.ts (kmap)");
  if (!PageHighMem(pg)) return page_address(pg);
  return kmap_high(pg);
}

/** Undo kmap(pg). Context: process context. */
export function kunmap(pg: page): void {
  if (!PageHighMem(pg)) return;
  kunmap_high(pg);
}

/**
 * Clear every pkmap slot without users now, with one global TLB flush
 * (Linux kmap_flush_unused). Context: process context.
 */
export function kmap_flush_unused(): void {
  if (!kmap_ready) return;
  spin_lock(kmap_lock);
  flush_all_zero_pkmaps();
  spin_unlock(kmap_lock);
}

// --- kmap_local / kmap_atomic --------------------------------------------------------

/**
 * Map physical page `pfn` with `prot` in this CPU's next fixmap slot
 * (Linux __kmap_local_pfn_prot). Disables preemption until the matching
 * kunmap_local. Returns the address, or 0 (reported, nothing held) when
 * the CPU already holds KM_MAX_IDX local mappings or before kmap_init.
 * Context: any (interrupt handlers too); does not sleep.
 */
export function kmap_local_pfn_prot(pfn: u64, prot: u64): usize {
  if (!kmap_ready) { kmap_bug("kmap_local: called before kmap_init (pfn %#lx)\n", pfn); return 0; }
  preempt_disable();
  const cpu = smp_processor_id();
  const topp = kmap_local_top + <usize>cpu * 4;
  const idx = load<i32>(topp);
  if (idx >= KM_MAX_IDX) {
    preempt_enable();
    kmap_bug("BUG: kmap_local: CPU%d already holds %d local mappings\n", cpu, idx);
    return 0;
  }
  const va = kmap_local_slot_vaddr(cpu, idx);
  const ptep = pte_offset_kernel(va);
  if (load<u64>(ptep) != 0) pr_err("highmem: kmap_local slot %d of CPU%d was not clear\n", idx, cpu);
  store<i32>(topp, idx + 1);
  store<u64>(ptep, pfn_pte(pfn, prot));
  flush_tlb_kernel_page(va); // invalid → valid (or a stale slot): local fence
  stat_inc(ST_LOCAL_MAPS);
  return <usize>va;
}

/** Map physical page `pfn` locally (Linux kmap_local_pfn): always a fixmap slot, lowmem or not. Context: as kmap_local_pfn_prot. */
export function kmap_local_pfn(pfn: u64): usize {
  return kmap_local_pfn_prot(pfn, PAGE_KERNEL);
}

/**
 * Map `pg` for short, CPU-local use (Linux kmap_local_page): lowmem pages
 * give page_address() and change nothing; highmem pages take this CPU's
 * next fixmap slot and keep preemption disabled until kunmap_local.
 * Nesting is LIFO, at most KM_MAX_IDX deep. Returns 0 only on misuse
 * (reported). Context: any; does not sleep.
 */
export function kmap_local_page(pg: page): usize {
  if (!PageHighMem(pg)) return page_address(pg);
  return kmap_local_pfn(page_to_pfn(pg));
}

/**
 * Undo a kmap_local_page / kmap_local_pfn (Linux kunmap_local_indexed):
 * pops this CPU's top slot, clears its PTE, flushes it locally, enables
 * preemption. Addresses outside the fixmap (lowmem pages) are a no-op;
 * a pkmap or user address, an empty stack, or an address that is not the
 * top slot are reported (the last one still pops the top). Context: the
 * CPU that mapped it (guaranteed: preemption is off in between).
 */
export function kunmap_local(addr: usize): void {
  const va = vaddr(addr) & ~(<u64>PAGE_SIZE - 1);
  if (!in_fixmap(va)) {
    if (in_pkmap(va)) kmap_bug("BUG: kunmap_local of kmap() address %p\n", vaddr(addr));
    else if (va < PAGE_OFFSET) kmap_bug("BUG: kunmap_local of non-kernel address %p\n", vaddr(addr));
    return;
  }
  const cpu = smp_processor_id();
  const topp = kmap_local_top + <usize>cpu * 4;
  const top = load<i32>(topp);
  if (top <= 0) {
    kmap_bug("BUG: kunmap_local(%p): CPU%d holds no local mapping\n", vaddr(addr), cpu);
    return;
  }
  const want = kmap_local_slot_vaddr(cpu, top - 1);
  if (va != want) kmap_bug("BUG: kunmap_local(%p) out of order: the top slot is %#lx\n", vaddr(addr), want);
  clear_pte_kernel(want);
  flush_tlb_kernel_page(want);
  store<i32>(topp, top - 1);
  preempt_enable();
}

/**
 * kmap_local_page with preemption disabled for the whole mapping, also for
 * lowmem pages (Linux kmap_atomic; pagefault_disable: see the note).
 * Context: any; the caller must not sleep until kunmap_atomic.
 */
export function kmap_atomic(pg: page): usize {
  preempt_disable();
  return kmap_local_page(pg);
}

/** kmap_atomic for a physical page (Linux kmap_atomic_pfn). */
export function kmap_atomic_pfn(pfn: u64): usize {
  preempt_disable();
  return kmap_local_pfn(pfn);
}

/** Undo kmap_atomic / kmap_atomic_pfn. Context: the mapping CPU. */
export function kunmap_atomic(addr: usize): void {
  kunmap_local(addr);
  preempt_enable();
}

// --- helpers on top -----------------------------------------------------------------

/** Zero a page of any zone (Linux clear_highpage). Context: any. */
export function clear_highpage(pg: page): void {
  const p = kmap_local_page(pg);
  if (p == 0) return;
  memory.fill(p, 0, PAGE_SIZE);
  kunmap_local(p);
}

/** Copy page `from` to page `to`, either zone (Linux copy_highpage). Context: any. */
export function copy_highpage(to: page, from: page): void {
  const s = kmap_local_page(from);
  const d = kmap_local_page(to);
  if (s != 0 && d != 0) memory.copy(d, s, PAGE_SIZE);
  if (d != 0) kunmap_local(d);
  if (s != 0) kunmap_local(s);
}
