/**
 * Suite `vmalloc`: vmalloc, vzalloc, vfree, vmap, vunmap (mm/vmalloc.ts) on
 * the real Sv39 tables, the guard page and use-after-free faults, the
 * range running out, and the TLB shootdown on every CPU.
 *
 * The first six cases are Linux's lib/test_vmalloc.c, scaled down (its
 * loops run a million times; ours a few dozen, to stay within the boot's
 * instruction budget on 4 harts), and made to check what the Linux module
 * only exercises: the data written through each mapping, the alignment,
 * the first-fit placement. Faults are provoked through
 * copy_from_kernel_nofault (arch/traps.ts), which survives them; the
 * report line the fault hook writes is looked for in the log, byte for
 * byte, with the addresses the case expects.
 */
import { kunit, kunit_suite, kunit_case, kunit_skip, KUNIT_EXPECT_EQ, KUNIT_EXPECT_NE, KUNIT_EXPECT_TRUE, KUNIT_EXPECT_FALSE,
  KUNIT_EXPECT_GT, KUNIT_EXPECT_GE, KUNIT_ASSERT_TRUE, kunit_quiet, kunit_loud, kunit_logged } from "./ktap";
import { PAGE_SIZE, PAGE_SHIFT, VMALLOC_START, VMALLOC_END, NR_CPUS, vaddr } from "../arch/layout";
import { pte_lookup, pte_pfn, kernel_virt_to_phys, tlb_flush_count_of, tlb_range_flush_count, PAGE_KERNEL } from "../arch/pgtable";
import { copy_from_kernel_nofault } from "../arch/traps";
import { vmalloc, vzalloc, vfree, vmap, vunmap, __vmalloc, __vmalloc_node, find_vm_area, is_vmalloc_addr, vmalloc_to_page,
  get_vm_area, free_vm_area, get_vm_area_size, vm_struct, vmap_area_count, vmalloc_nr_pages, vmap_area_failures, print_vmallocinfo,
  VM_ALLOC, VM_MAP } from "../mm/vmalloc";
import { kmap_local_page, kunmap_local } from "../mm/highmem";
import { alloc_page, __free_page, nr_free_highpages } from "../mm/page_alloc";
import { page, page_to_pfn, PageHighMem } from "../mm/page";
import { GFP_KERNEL, GFP_HIGHUSER, __GFP_NOWARN, __GFP_ZERO } from "../mm/gfp";
import { kmalloc, kfree } from "../mm/kmalloc";
import { smp_processor_id } from "../cpu";
import { on_each_cpu, cpu_online } from "../smp";
import { nr_cpu_ids } from "../of/fdt";
import { prandom_seed, prandom_u64 } from "../lib/prandom";
import { scnprintf } from "../lib/vsprintf";
import { log_next_seq, log_read_record } from "../printk";

// --- helpers ---------------------------------------------------------------------------------

const rnd: usize = memory.data(NR_CPUS * 8, 8);
function rand(): u64 { return prandom_u64(rnd, 0); }

/** Fill `n` bytes at `p` with a pattern from `seed`, one u64 per 8 bytes; check it. */
function fill(p: usize, n: u64, seed: u64): void {
  for (let i: u64 = 0; i + 8 <= n; i += 8) store<u64>(p + <usize>i, seed ^ (i * 0x9E37_79B9_7F4A_7C15));
}
function matches(p: usize, n: u64, seed: u64): bool {
  for (let i: u64 = 0; i + 8 <= n; i += 8) if (load<u64>(p + <usize>i) != (seed ^ (i * 0x9E37_79B9_7F4A_7C15))) return false;
  return true;
}

const want_line: usize = memory.data(192, 8);
const rec_buf: usize = memory.data(192, 8);
/** Log records since `first` whose text is exactly the line in want_line (len bytes). */
function logged_exact(first: u64, len: i32): i32 {
  let n = 0;
  for (let s = first; s < log_next_seq(); s++) {
    const r = log_read_record(s, rec_buf, 192);
    if (r < 0 || (r >> 16) != len) continue;
    let same = true;
    for (let i = 0; i < len && same; i++) if (load<u8>(rec_buf + <usize>i) != load<u8>(want_line + <usize>i)) same = false;
    if (same) n++;
  }
  return n;
}

/** Probe one byte at `p` without oopsing: 0, or -14 (-EFAULT). */
const probe_byte: usize = memory.data(8, 8);
function probe(p: usize): i32 { return copy_from_kernel_nofault(probe_byte, p, 1); }

// --- Linux lib/test_vmalloc.c, scaled down -------------------------------------------------------

/** fixed_size_alloc_test: vmalloc(3 pages) / use / vfree, in a loop. */
function fixed_size_alloc(test: kunit): void {
  const areas = vmap_area_count();
  let ok = 0;
  for (let i = 0; i < 24; i++) {
    const p = vmalloc(3 * PAGE_SIZE);
    if (p == 0) break;
    fill(p, 3 * PAGE_SIZE, <u64>i);
    if (matches(p, 3 * PAGE_SIZE, <u64>i) && is_vmalloc_addr(p)) ok++;
    vfree(p);
  }
  KUNIT_EXPECT_EQ(test, ok, 24);
  KUNIT_EXPECT_EQ(test, vmap_area_count(), areas);
}

/**
 * full_fit_alloc_test: holes of exactly one page + guard between busy
 * areas; a one-page request takes the lowest hole (first fit), every time.
 */
const ff_ptr: usize = memory.data(32 * 4, 4);
const ff_junk: usize = memory.data(32 * 4, 4);
function full_fit_alloc(test: kunit): void {
  const N = 16;
  let ok = true;
  for (let i = 0; i < N; i++) {
    store<u32>(ff_ptr + <usize>i * 4, <u32>vmalloc(PAGE_SIZE));
    store<u32>(ff_junk + <usize>i * 4, <u32>vmalloc(PAGE_SIZE));
    if (load<u32>(ff_ptr + <usize>i * 4) == 0 || load<u32>(ff_junk + <usize>i * 4) == 0) ok = false;
  }
  if (KUNIT_ASSERT_TRUE(test, ok)) {
    // Holes where the junk was: each exactly one page and its guard.
    for (let i = 0; i < N; i++) vfree(<usize>load<u32>(ff_junk + <usize>i * 4));
    let fits = 0;
    for (let i = 0; i < N; i++) {
      const p = vmalloc(PAGE_SIZE);
      // The lowest hole left is junk[i]'s (lower ones were refilled, in order).
      if (p == <usize>load<u32>(ff_junk + <usize>i * 4)) fits++;
      store<u32>(ff_junk + <usize>i * 4, <u32>p);
    }
    KUNIT_EXPECT_EQ(test, fits, N);
  }
  for (let i = 0; i < N; i++) {
    vfree(<usize>load<u32>(ff_ptr + <usize>i * 4));
    vfree(<usize>load<u32>(ff_junk + <usize>i * 4));
  }
}

/**
 * long_busy_list_alloc_test: with a long list of busy areas, allocations
 * still succeed and land right after them; all freed, the count is back.
 */
const lb_ptr: usize = memory.data(128 * 4, 4);
function long_busy_list_alloc(test: kunit): void {
  const N = 100;
  const areas = vmap_area_count();
  let ok = true;
  let top: u64 = 0;
  for (let i = 0; i < N; i++) {
    const p = vmalloc(PAGE_SIZE);
    store<u32>(lb_ptr + <usize>i * 4, <u32>p);
    if (p == 0) { ok = false; break; }
    if (vaddr(p) > top) top = vaddr(p);
  }
  if (KUNIT_ASSERT_TRUE(test, ok)) {
    KUNIT_EXPECT_EQ(test, vmap_area_count(), areas + N);
    let ok2 = 0;
    let first: u64 = 0;
    for (let i = 0; i < 16; i++) {
      const p = vmalloc(2 * PAGE_SIZE);
      if (p != 0) {
        if (i == 0) first = vaddr(p);
        fill(p, 2 * PAGE_SIZE, 7);
        // Above every busy area; the same place every time (it was freed).
        if (vaddr(p) > top && vaddr(p) == first && matches(p, 2 * PAGE_SIZE, 7)) ok2++;
        vfree(p);
      }
    }
    KUNIT_EXPECT_EQ(test, ok2, 16);
  }
  for (let i = 0; i < N; i++) vfree(<usize>load<u32>(lb_ptr + <usize>i * 4));
  KUNIT_EXPECT_EQ(test, vmap_area_count(), areas);
}

/** random_size_alloc_test: 1 … 16 pages at random, every byte range written and read back. */
function random_size_alloc(test: kunit): void {
  prandom_seed(rnd, 0, 0x766d_616c);
  let ok = 0;
  const pages0 = vmalloc_nr_pages();
  for (let i = 0; i < 24; i++) {
    const n = (rand() % 16) + 1;
    const p = vmalloc(n << PAGE_SHIFT);
    if (p == 0) continue;
    const vm = find_vm_area(p);
    const good = changetype<usize>(vm) != 0 && get_vm_area_size(vm) == (n << PAGE_SHIFT) && vm.nr_pages == <u32>n
      && vmalloc_nr_pages() == pages0 + n;
    fill(p, n << PAGE_SHIFT, n);
    if (good && matches(p, n << PAGE_SHIFT, n)) ok++;
    vfree(p);
  }
  KUNIT_EXPECT_EQ(test, ok, 24);
  KUNIT_EXPECT_EQ(test, vmalloc_nr_pages(), pages0);
}

/** fix_align_alloc_test: __vmalloc_node(5 pages, 64 KiB alignment): aligned every time. */
function fix_align_alloc(test: kunit): void {
  let ok = 0;
  for (let i = 0; i < 12; i++) {
    const p = __vmalloc_node(5 * PAGE_SIZE, 0x10000, GFP_KERNEL | __GFP_ZERO, -1);
    if (p == 0) continue;
    if ((vaddr(p) & 0xFFFF) == 0 && load<u64>(p + 4 * PAGE_SIZE + 8) == 0) ok++;
    store<u64>(p, 1);
    vfree(p);
  }
  KUNIT_EXPECT_EQ(test, ok, 12);
}

/** random_size_align_alloc_test: random sizes, random power-of-two alignments (4 KiB … 1 MiB). */
function random_size_align_alloc(test: kunit): void {
  prandom_seed(rnd, 0, 0x616c_6967);
  let ok = 0;
  for (let i = 0; i < 16; i++) {
    const align = (<u64>1) << (12 + rand() % 9);
    const size = ((rand() % 8) + 1) << PAGE_SHIFT;
    const p = __vmalloc_node(size, align, GFP_KERNEL, -1);
    if (p == 0) continue;
    fill(p, size, align);
    if ((vaddr(p) & (align - 1)) == 0 && matches(p, size, align)) ok++;
    vfree(p);
  }
  KUNIT_EXPECT_EQ(test, ok, 16);
}

// --- beyond test_vmalloc.c ----------------------------------------------------------------------------

/** vzalloc returns zeroes, even where the pages held a pattern (the same pages, reused). */
function vzalloc_zeroes(test: kunit): void {
  const size: u64 = 8 * PAGE_SIZE;
  const a = vmalloc(size);
  if (!KUNIT_ASSERT_TRUE(test, a != 0)) return;
  memory.fill(a, 0xA5, <usize>size);
  vfree(a);
  const b = vzalloc(size);
  if (!KUNIT_ASSERT_TRUE(test, b != 0)) return;
  let nonzero = 0;
  for (let i: u64 = 0; i < size; i += 8) if (load<u64>(b + <usize>i) != 0) nonzero++;
  KUNIT_EXPECT_EQ(test, nonzero, 0);
  vfree(b);
}

/** The pages behind a vmalloc: highmem first, each PTE a 4 KiB leaf to the page vmalloc_to_page names. */
function vmalloc_pages_and_ptes(test: kunit): void {
  const n: u64 = 4;
  const p = vmalloc(n << PAGE_SHIFT);
  if (!KUNIT_ASSERT_TRUE(test, p != 0)) return;
  const highmem = nr_free_highpages() > 64;
  for (let i: u64 = 0; i < n; i++) {
    const q = p + <usize>(i << PAGE_SHIFT);
    const pg = vmalloc_to_page(q);
    KUNIT_EXPECT_TRUE(test, changetype<usize>(pg) != 0);
    if (changetype<usize>(pg) == 0) continue;
    KUNIT_EXPECT_EQ(test, pte_pfn(pte_lookup(vaddr(q))), page_to_pfn(pg));
    KUNIT_EXPECT_EQ(test, kernel_virt_to_phys(vaddr(q) + 0x123), (page_to_pfn(pg) << PAGE_SHIFT) + 0x123);
    if (highmem) KUNIT_EXPECT_TRUE(test, PageHighMem(pg));
    // The data is the page's: seen through kmap_local_page too.
    store<u64>(q + 64, 0xC0FFEE00 + i);
    const k = kmap_local_page(pg);
    KUNIT_EXPECT_EQ(test, load<u64>(k + 64), 0xC0FFEE00 + i);
    kunmap_local(k);
  }
  const vm = find_vm_area(p + PAGE_SIZE);
  KUNIT_EXPECT_TRUE(test, changetype<usize>(vm) != 0 && vaddr(p) == vm.addr && (vm.flags & VM_ALLOC) != 0);
  // The guard page has no PTE.
  KUNIT_EXPECT_EQ(test, pte_lookup(vaddr(p) + (n << PAGE_SHIFT)), 0);
  vfree(p);
  KUNIT_EXPECT_EQ(test, pte_lookup(vaddr(p)), 0);
  KUNIT_EXPECT_TRUE(test, changetype<usize>(find_vm_area(p)) == 0);
}

/** vmap of highmem pages: data written through kmap_local_page reads through the vmap, and back. */
const vm_pages: usize = memory.data(8 * 4, 4);
function vmap_highmem_pages(test: kunit): void {
  const N: u32 = 4;
  let ok = true;
  for (let i: u32 = 0; i < N; i++) {
    const pg = alloc_page(GFP_HIGHUSER);
    store<u32>(vm_pages + <usize>i * 4, <u32>changetype<usize>(pg));
    if (changetype<usize>(pg) == 0) ok = false;
  }
  if (KUNIT_ASSERT_TRUE(test, ok)) {
    if (nr_free_highpages() > 0) KUNIT_EXPECT_TRUE(test, PageHighMem(changetype<page>(<usize>load<u32>(vm_pages))));
    for (let i: u32 = 0; i < N; i++) {
      const k = kmap_local_page(changetype<page>(<usize>load<u32>(vm_pages + <usize>i * 4)));
      fill(k, PAGE_SIZE, 0x1000 + <u64>i);
      kunmap_local(k);
    }
    const v = vmap(vm_pages, N, 0, PAGE_KERNEL);
    if (KUNIT_ASSERT_TRUE(test, v != 0)) {
      let good = 0;
      for (let i: u32 = 0; i < N; i++) if (matches(v + <usize>i * PAGE_SIZE, PAGE_SIZE, 0x1000 + <u64>i)) good++;
      KUNIT_EXPECT_EQ(test, good, N);
      const vm = find_vm_area(v);
      KUNIT_EXPECT_TRUE(test, changetype<usize>(vm) != 0 && (vm.flags & VM_MAP) != 0 && vm.nr_pages == 0);
      store<u64>(v + 2 * PAGE_SIZE + 16, 0xFEED_FACE);
      vunmap(v);
      const first = kunit_quiet();
      KUNIT_EXPECT_EQ(test, probe(v), -14);
      kunit_loud();
      KUNIT_EXPECT_EQ(test, kunit_logged(first, "vmalloc: fault at"), 1);
      // The pages are the caller's still, with what was written through the vmap.
      const k = kmap_local_page(changetype<page>(<usize>load<u32>(vm_pages + 2 * 4)));
      KUNIT_EXPECT_EQ(test, load<u64>(k + 16), 0xFEED_FACE);
      kunmap_local(k);
    }
  }
  for (let i: u32 = 0; i < N; i++) {
    const pg = <usize>load<u32>(vm_pages + <usize>i * 4);
    if (pg != 0) __free_page(changetype<page>(pg));
  }
}

/** Touching the guard page faults; the report names the area and its caller. */
function guard_page_fault(test: kunit): void {
  const p = vmalloc(2 * PAGE_SIZE);
  if (!KUNIT_ASSERT_TRUE(test, p != 0)) return;
  const vm = find_vm_area(p);
  if (!KUNIT_ASSERT_TRUE(test, changetype<usize>(vm) != 0)) return;
  KUNIT_EXPECT_NE(test, vm.caller, 0);
  store<u8>(p + 2 * PAGE_SIZE - 1, 0x5A);
  const first = kunit_quiet();
  KUNIT_EXPECT_EQ(test, probe(p + 2 * PAGE_SIZE - 1), 0);
  KUNIT_EXPECT_EQ(test, load<u8>(probe_byte), 0x5A);
  const guard = p + 2 * PAGE_SIZE + 8;
  KUNIT_EXPECT_EQ(test, probe(guard), -14);
  kunit_loud();
  const len = scnprintf(want_line, 192, "vmalloc: fault at %px: guard page of area %px-%px (%pS)", vaddr(guard), vm.addr, vm.addr + vm.size, vm.caller);
  KUNIT_EXPECT_EQ(test, logged_exact(first, len), 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "vmalloc: fault at"), 1);
  vfree(p);
}

/** A freed area faults (the PTEs are gone, every TLB flushed); the report says no area. */
function use_after_vfree_fault(test: kunit): void {
  const p = vmalloc(PAGE_SIZE);
  if (!KUNIT_ASSERT_TRUE(test, p != 0)) return;
  store<u64>(p, 0x1234_5678);
  KUNIT_EXPECT_EQ(test, probe(p), 0);
  vfree(p);
  const first = kunit_quiet();
  KUNIT_EXPECT_EQ(test, probe(p + 8), -14);
  // vfree of what is no longer an area: reported, nothing else happens.
  vfree(p);
  kunit_loud();
  const len = scnprintf(want_line, 192, "vmalloc: fault at %px: in no vmalloc area (freed?)", vaddr(p + 8));
  KUNIT_EXPECT_EQ(test, logged_exact(first, len), 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "vmalloc: Trying to vfree() nonexistent vm area"), 1);
}

/** The range runs out: vmalloc fails (with the warning), and works again once an area is given back. */
const ex_areas: usize = memory.data(64 * 4, 4);
function vmalloc_space_exhausted(test: kunit): void {
  let n = 0;
  const fails0 = vmap_area_failures();
  // Reserve the whole range in halving chunks (no tables, no pages: get_vm_area maps nothing).
  let chunk: u64 = 64 << 20;
  while (chunk >= <u64>PAGE_SIZE && n < 64) {
    const vm = get_vm_area(chunk - PAGE_SIZE, 0);
    if (changetype<usize>(vm) == 0) { chunk >>= 1; continue; }
    store<u32>(ex_areas + <usize>n * 4, <u32>changetype<usize>(vm));
    n++;
  }
  KUNIT_EXPECT_GT(test, n, 10);
  const first = kunit_quiet();
  const p = vmalloc(PAGE_SIZE);
  kunit_loud();
  KUNIT_EXPECT_EQ(test, p, 0);
  KUNIT_EXPECT_GT(test, vmap_area_failures(), fails0);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "vmap allocation for size 8192 failed"), 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "vmalloc error: size 4096, vm_struct allocation failed"), 1);
  // __GFP_NOWARN: the same failure, silent.
  const second = kunit_quiet();
  KUNIT_EXPECT_EQ(test, __vmalloc(PAGE_SIZE, GFP_KERNEL | __GFP_NOWARN), 0);
  kunit_loud();
  KUNIT_EXPECT_EQ(test, kunit_logged(second, "vmap allocation"), 0);
  // Give back one of the big ones: vmalloc works again, inside it.
  const big = changetype<vm_struct>(<usize>load<u32>(ex_areas + 4));
  const lo = big.addr, hi = big.addr + big.size;
  free_vm_area(big);
  store<u32>(ex_areas + 4, 0);
  const q = vmalloc(4 * PAGE_SIZE);
  KUNIT_EXPECT_TRUE(test, q != 0 && vaddr(q) >= lo && vaddr(q) < hi);
  if (q != 0) { fill(q, 4 * PAGE_SIZE, 3); KUNIT_EXPECT_TRUE(test, matches(q, 4 * PAGE_SIZE, 3)); vfree(q); }
  for (let i = 0; i < n; i++) {
    const vm = <usize>load<u32>(ex_areas + <usize>i * 4);
    if (vm != 0) free_vm_area(changetype<vm_struct>(vm));
  }
  const r = vmalloc(PAGE_SIZE);
  KUNIT_EXPECT_TRUE(test, r != 0 && vaddr(r) >= VMALLOC_START && vaddr(r) < VMALLOC_END);
  vfree(r);
}

/** Every CPU reads a new mapping; after vfree no CPU can (each had it in its TLB). */
let smp_target: usize = 0;
const smp_seen: usize = memory.data(NR_CPUS * 8, 8);
const smp_probe: usize = memory.data(NR_CPUS * 4, 4);
const smp_flush0: usize = memory.data(NR_CPUS * 8, 8);
function read_on_cpu(arg: u64): void {
  const cpu = smp_processor_id();
  let sum: u64 = 0;
  for (let i: usize = 0; i < 4; i++) sum += load<u64>(smp_target + i * PAGE_SIZE);
  store<u64>(smp_seen + <usize>cpu * 8, sum);
}
function probe_on_cpu(arg: u64): void {
  const cpu = smp_processor_id();
  let worst = 0;
  for (let i: usize = 0; i < 4; i++) {
    const r = copy_from_kernel_nofault(smp_seen + <usize>cpu * 8, smp_target + i * PAGE_SIZE, 8);
    if (r == 0) worst = 1; // readable: a stale translation
  }
  store<i32>(smp_probe + <usize>cpu * 4, worst == 0 ? -14 : 0);
}
function every_cpu_sees_mapping(test: kunit): void {
  const p = vmalloc(4 * PAGE_SIZE);
  if (!KUNIT_ASSERT_TRUE(test, p != 0)) return;
  for (let i: usize = 0; i < 4; i++) store<u64>(p + i * PAGE_SIZE, 0x1111 * (<u64>i + 1));
  smp_target = p;
  memory.fill(smp_seen, 0, NR_CPUS * 8);
  on_each_cpu(read_on_cpu, 0, true);
  for (let cpu = 0; cpu < nr_cpu_ids; cpu++) {
    if (!cpu_online(cpu)) continue;
    KUNIT_EXPECT_EQ(test, load<u64>(smp_seen + <usize>cpu * 8), 0x1111 * 10);
    store<u64>(smp_flush0 + <usize>cpu * 8, tlb_flush_count_of(cpu));
  }
  const flushes = tlb_range_flush_count();
  vfree(p); // the translations are in every TLB: only the shootdown removes them
  KUNIT_EXPECT_EQ(test, tlb_range_flush_count(), flushes + 1);
  memory.fill(smp_probe, 0xff, NR_CPUS * 4);
  const first = kunit_quiet();
  on_each_cpu(probe_on_cpu, 0, true);
  kunit_loud();
  let online = 0;
  for (let cpu = 0; cpu < nr_cpu_ids; cpu++) {
    if (!cpu_online(cpu)) continue;
    online++;
    KUNIT_EXPECT_EQ(test, load<i32>(smp_probe + <usize>cpu * 4), -14);
    KUNIT_EXPECT_GT(test, tlb_flush_count_of(cpu), load<u64>(smp_flush0 + <usize>cpu * 8));
  }
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "vmalloc: fault at"), online * 4);
}

/** Bad frees are reported and change nothing: vunmap of a vmalloc area, vfree of a vmap area, of a lowmem pointer. */
function bad_frees_reported(test: kunit): void {
  const areas = vmap_area_count();
  const p = vmalloc(PAGE_SIZE);
  if (!KUNIT_ASSERT_TRUE(test, p != 0)) return;
  const lowmem = kmalloc(64, GFP_KERNEL);
  const first = kunit_quiet();
  vunmap(p);
  vfree(lowmem);
  vfree(p + 8); // not the start
  kunit_loud();
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "vmalloc: Trying to vunmap() nonexistent vm area"), 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "vmalloc: Trying to vfree() nonexistent vm area"), 2);
  store<u64>(p, 42); // still mapped
  KUNIT_EXPECT_EQ(test, load<u64>(p), 42);
  vfree(p);
  vfree(0);
  kfree(lowmem);
  KUNIT_EXPECT_EQ(test, vmap_area_count(), areas);
}

/** /proc/vmallocinfo: one line per area in Linux's format, the summary agrees. */
function vmallocinfo_lines(test: kunit): void {
  const p = vmalloc(3 * PAGE_SIZE);
  if (!KUNIT_ASSERT_TRUE(test, p != 0)) return;
  const vm = find_vm_area(p);
  const first = kunit_quiet();
  print_vmallocinfo();
  kunit_loud();
  const len = scnprintf(want_line, 192, "0x%px-0x%px %7ld %pS pages=3 vmalloc", vm.addr, vm.addr + vm.size, vm.size, vm.caller);
  KUNIT_EXPECT_EQ(test, logged_exact(first, len), 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "# cat /proc/vmallocinfo"), 1);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "0x"), vmap_area_count());
  vfree(p);
}

export function register_vmalloc_tests(): void {
  kunit_suite("vmalloc");
  kunit_case("fixed_size_alloc", fixed_size_alloc);
  kunit_case("full_fit_alloc", full_fit_alloc);
  kunit_case("long_busy_list_alloc", long_busy_list_alloc);
  kunit_case("random_size_alloc", random_size_alloc);
  kunit_case("fix_align_alloc", fix_align_alloc);
  kunit_case("random_size_align_alloc", random_size_align_alloc);
  kunit_case("vzalloc_zeroes", vzalloc_zeroes);
  kunit_case("vmalloc_pages_and_ptes", vmalloc_pages_and_ptes);
  kunit_case("vmap_highmem_pages", vmap_highmem_pages);
  kunit_case("guard_page_fault", guard_page_fault);
  kunit_case("use_after_vfree_fault", use_after_vfree_fault);
  kunit_case("vmalloc_space_exhausted", vmalloc_space_exhausted);
  kunit_case("every_cpu_sees_mapping", every_cpu_sees_mapping);
  kunit_case("bad_frees_reported", bad_frees_reported);
  kunit_case("vmallocinfo_lines", vmallocinfo_lines);
}
