/**
 * Suite `bootmem`: the boot-time allocator (kernel/mm/memblock.ts).
 *
 * bootmem only exists before memblock_free_all, long before the self-tests
 * run. So the allocations are made early — mm_init calls
 * bootmem_selftest_early() through its hook when selftest= names this suite
 * (or all) — and recorded; the cases check the records and, after boot,
 * what became of the memory: freed bootmem must have reached the buddy
 * allocator, kept bootmem must still be reserved.
 *
 * `bootmem_fail=1` on the command line makes the early hook ask
 * alloc_bootmem for more than the machine has, to check the panic report
 * ("bootmem alloc of N bytes failed!") from the host.
 */
import { kunit, kunit_suite, kunit_case, KUNIT_EXPECT_EQ, KUNIT_EXPECT_TRUE, KUNIT_EXPECT_FALSE, KUNIT_EXPECT_NE,
  KUNIT_EXPECT_LE, KUNIT_EXPECT_GE, kunit_quiet, kunit_loud, kunit_logged } from "./ktap";
import { PAGE_SIZE, PAGE_SHIFT, __pa, __va } from "../arch/layout";
import {
  alloc_bootmem, alloc_bootmem_low, alloc_bootmem_pages, alloc_bootmem_low_pages, free_bootmem, memblock_alloc, memblock_free,
  memblock_phys_alloc_range, memblock_phys_free, arch_low_address_limit, memblock_done, memblock_is_region_reserved,
  SMP_CACHE_BYTES,
} from "../mm/memblock";
import { pfn_to_page, PageReserved, PageBuddy, page } from "../mm/page";
import { alloc_page, __free_page, nr_free_pages } from "../mm/page_alloc";
import { GFP_KERNEL } from "../mm/gfp";
import { cmdline_get_bool } from "../cmdline";
import { MAX_ORDER } from "../mm/mmzone";

/** What the early hook saw. */
let ran = false;
let a_small: usize = 0;       // alloc_bootmem(100)
let a_low: usize = 0;         // alloc_bootmem_low(1000)
let a_pages: usize = 0;       // alloc_bootmem_pages(5000)
let a_low_pages: usize = 0;   // alloc_bootmem_low_pages(3 pages)
let zero_reused: bool = false; // the second allocation reused the dirtied memory
let zero_ok: bool = false;    // … and it was zeroed
let range_pa: u64 = 0;        // memblock_phys_alloc_range inside [lo, hi)
let range_lo: u64 = 0;
let range_hi: u64 = 0;
let range_none: u64 = 1;      // an impossible range: must be 0
let freed_pa: u64 = 0;        // free_bootmem'd: must reach the buddy allocator
let kept_pa: u64 = 0;         // kept: must stay reserved
let low_limit: u64 = 0;

/** Run by mm_init before memblock_free_all. */
export function bootmem_selftest_early(): void {
  ran = true;
  low_limit = arch_low_address_limit;
  if (cmdline_get_bool("bootmem_fail", false)) alloc_bootmem(<u64>1 << 40); // panics
  // Zeroing: dirty a block, give it back, allocate the same size again (top-down: the same place).
  const d = memblock_alloc(4096, 64);
  memory.fill(d, 0xaa, 4096);
  memblock_free(d, 4096);
  const z = alloc_bootmem(4096);
  zero_reused = z == d;
  let nz = 0;
  for (let i: usize = 0; i < 4096; i += 8) if (load<u64>(z + i) != 0) nz++;
  zero_ok = nz == 0;
  a_small = alloc_bootmem(100);
  a_low = alloc_bootmem_low(1000);
  a_pages = alloc_bootmem_pages(5000);
  a_low_pages = alloc_bootmem_low_pages(3 * PAGE_SIZE);
  // A window 1 MiB below the low limit, and one with no RAM at all.
  range_lo = low_limit - (1 << 20);
  range_hi = low_limit - (1 << 19);
  range_pa = memblock_phys_alloc_range(8192, 4096, range_lo, range_hi);
  range_none = memblock_phys_alloc_range(4096, 4096, 0x1000, 0x2000);
  // Page-aligned bootmem given back with free_bootmem, and one kept.
  // (Both allocated before the free: top-down, a later allocation would reuse the hole.)
  freed_pa = __pa(alloc_bootmem_pages(4 * PAGE_SIZE));
  kept_pa = __pa(alloc_bootmem_pages(PAGE_SIZE));
  free_bootmem(freed_pa, 4 * PAGE_SIZE);
}

function bootmem_ran_early(test: kunit): void {
  KUNIT_EXPECT_TRUE(test, ran);
  KUNIT_EXPECT_TRUE(test, memblock_done); // and memblock is finished now
  // After memblock_free_all, memblock hands out nothing, and says so.
  const first = kunit_quiet();
  const late = memblock_phys_alloc_range(4096, 4096, 0, 0);
  kunit_loud();
  KUNIT_EXPECT_EQ(test, late, 0);
  KUNIT_EXPECT_EQ(test, kunit_logged(first, "memblock: memblock_phys_alloc_range(4096) after memblock_free_all"), 1);
}

function bootmem_alignment(test: kunit): void {
  KUNIT_EXPECT_NE(test, a_small, 0);
  KUNIT_EXPECT_EQ(test, <u64>a_small & (SMP_CACHE_BYTES - 1), 0);
  KUNIT_EXPECT_EQ(test, <u64>a_low & (SMP_CACHE_BYTES - 1), 0);
  KUNIT_EXPECT_EQ(test, <u64>a_pages & <u64>(PAGE_SIZE - 1), 0);
  KUNIT_EXPECT_EQ(test, <u64>a_low_pages & <u64>(PAGE_SIZE - 1), 0);
}

function bootmem_zeroed(test: kunit): void {
  KUNIT_EXPECT_TRUE(test, zero_reused);
  KUNIT_EXPECT_TRUE(test, zero_ok);
}

function bootmem_limits(test: kunit): void {
  // _low: below ARCH_LOW_ADDRESS_LIMIT (the DMA window's end).
  KUNIT_EXPECT_LE(test, __pa(a_low) + 1000, low_limit);
  KUNIT_EXPECT_LE(test, __pa(a_low_pages) + 3 * <u64>PAGE_SIZE, low_limit);
  // A range: inside it, aligned.
  KUNIT_EXPECT_GE(test, range_pa, range_lo);
  KUNIT_EXPECT_LE(test, range_pa + 8192, range_hi);
  KUNIT_EXPECT_EQ(test, range_pa & 4095, 0);
  // No RAM in the range: 0.
  KUNIT_EXPECT_EQ(test, range_none, 0);
}

function bootmem_free_reaches_buddy(test: kunit): void {
  // Freed bootmem pages are managed by the buddy allocator: not reserved,
  // and either free (in a buddy block) or allocated since — both mean the
  // page allocator owns them.
  for (let i: u64 = 0; i < 4; i++) {
    const pg = pfn_to_page((freed_pa >> PAGE_SHIFT) + i);
    KUNIT_EXPECT_FALSE(test, PageReserved(pg));
  }
  // Kept bootmem stays reserved, and memblock still lists it.
  KUNIT_EXPECT_TRUE(test, PageReserved(pfn_to_page(kept_pa >> PAGE_SHIFT)));
  KUNIT_EXPECT_TRUE(test, memblock_is_region_reserved(kept_pa, PAGE_SIZE));
  KUNIT_EXPECT_TRUE(test, PageReserved(pfn_to_page(__pa(a_small) >> PAGE_SHIFT)));
}

export function register_bootmem_tests(): void {
  kunit_suite("bootmem");
  kunit_case("bootmem_ran_early", bootmem_ran_early);
  kunit_case("bootmem_alignment", bootmem_alignment);
  kunit_case("bootmem_zeroed", bootmem_zeroed);
  kunit_case("bootmem_limits", bootmem_limits);
  kunit_case("bootmem_free_reaches_buddy", bootmem_free_reaches_buddy);
}
