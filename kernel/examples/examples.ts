/**
 * The seed documents' allocation examples as guest programs, run with
 * `kmemlab run --append example=NAME` (kmalloc, kmem_cache, mempool, or
 * `all`). Each narrates what it does on the console, the way a driver
 * writer would try the interfaces out in a module's init function (LDD3
 * chapter 8, "Allocating Memory": kmalloc and its flags, lookaside caches,
 * memory pools), and checks what it can: an example whose allocator did
 * not behave as described ends with "example NAME: FAILED" and a non-zero
 * exit code.
 *
 *   kmalloc     sizes and their caches (ksize), kzalloc, kmalloc(0) =
 *               ZERO_SIZE_PTR, GFP_ATOMIC under a spinlock, a GFP_DMA
 *               buffer below the DMA limit, a large buffer from the page
 *               allocator, krealloc, kstrdup
 *   kmem_cache  a "scullc"-style cache of quantum objects with a
 *               constructor; freeing an object into the wrong cache
 *               (SLUB's "Wrong slab cache" warning; the object goes back
 *               to the cache it came from, as Linux's cache_from_obj does);
 *               reading an object after kmem_cache_free under SLAB_POISON
 *               (0x6b … 0xa5), then a write after free that the next
 *               allocation catches ("Poison overwritten")
 *   mempool     a pool over a slab cache with a reserve of 4; allocations
 *               under memory pressure (failslab) served from the reserve,
 *               the reserve running dry for GFP_ATOMIC, mempool_free
 *               refilling it
 *
 * Context: the init thread, after SMP bring-up (process context, may sleep).
 */
import { pr_info, pr_err } from "../printk";
import { cmdline_find, cmdline_val_ptr, cmdline_val_len, list_contains } from "../cmdline";
import { bytes_eq_str } from "../lib/string";
import { scnprintf } from "../lib/vsprintf";
import { GFP_KERNEL, GFP_ATOMIC, GFP_DMA, __GFP_NOWARN, gfp_t, ZONE_DMA } from "../mm/gfp";
import { kmalloc, kzalloc, kfree, ksize, krealloc, kstrdup, ZERO_SIZE_PTR } from "../mm/kmalloc";
import {
  kmem_cache, kmem_cache_create, kmem_cache_alloc, kmem_cache_free, kmem_cache_destroy, kmem_cache_name,
  kmem_cache_size, SLAB_HWCACHE_ALIGN, SLAB_POISON, slub_reports,
} from "../mm/slub";
import { mempool_t, mempool_create, mempool_alloc, mempool_free, mempool_destroy, mempool_alloc_slab, mempool_free_slab } from "../mm/mempool";
import { failslab_fail_next } from "../mm/failslab";
import { virt_to_page, page_zonenum } from "../mm/page";
import { dma_zone_end_pfn } from "../mm/page_alloc";
import { __pa, PAGE_SHIFT } from "../arch/layout";
import { spinlock_t, SPINLOCK_SIZE, spin_lock_init, spin_lock, spin_unlock } from "../locking/spinlock";

let failed = 0;

/** An example's own check: say what was expected when it does not hold. */
function check(ok: bool, what: string): void {
  if (ok) return;
  failed++;
  pr_err("example: expected %s\n", changetype<usize>(what));
}

// --- kmalloc ---------------------------------------------------------------------------------

const lock = changetype<spinlock_t>(memory.data(<i32>SPINLOCK_SIZE, 8));
const hello: usize = memory.data<u8>([0x6b, 0x6d, 0x65, 0x6d, 0x6c, 0x61, 0x62, 0]); // "kmemlab"

function show_kmalloc(size: usize, flags: gfp_t): usize {
  const p = kmalloc(size, flags);
  if (p == 0) { pr_info("  kmalloc(%lu) = NULL\n", size); return 0; }
  pr_info("  kmalloc(%4lu) = %p  ksize %lu\n", size, p, ksize(p));
  return p;
}

function example_kmalloc(): void {
  pr_info("example kmalloc: each size is rounded up to its cache (kmalloc-8 … kmalloc-8192, plus 96 and 192)\n");
  const a = show_kmalloc(1, GFP_KERNEL);
  const b = show_kmalloc(96, GFP_KERNEL);
  const c = show_kmalloc(100, GFP_KERNEL);
  const d = show_kmalloc(1024, GFP_KERNEL);
  const e = show_kmalloc(4000, GFP_KERNEL);
  check(ksize(a) == 8 && ksize(b) == 96 && ksize(c) == 128 && ksize(d) == 1024 && ksize(e) == 4096, "ksize 8, 96, 128, 1024, 4096");
  kfree(a); kfree(b); kfree(c); kfree(d); kfree(e);

  pr_info("example kmalloc: kzalloc returns zeroed memory\n");
  const z = kzalloc(256, GFP_KERNEL);
  let zero = z != 0;
  for (let i: usize = 0; zero && i < 256; i++) if (load<u8>(z + i) != 0) zero = false;
  pr_info("  kzalloc(256) = %p, all zero: %s\n", z, changetype<usize>(zero ? "yes" : "no"));
  check(zero, "kzalloc(256) to be zeroed");
  kfree(z);

  pr_info("example kmalloc: kmalloc(0) is ZERO_SIZE_PTR, and kfree of it (or of NULL) does nothing\n");
  const zs = kmalloc(0, GFP_KERNEL);
  pr_info("  kmalloc(0) = %p (ZERO_SIZE_PTR = %p)\n", zs, ZERO_SIZE_PTR);
  check(zs == ZERO_SIZE_PTR, "kmalloc(0) == ZERO_SIZE_PTR");
  kfree(zs);
  kfree(0);

  pr_info("example kmalloc: with a spinlock held only GFP_ATOMIC may be used (it never sleeps)\n");
  spin_lock_init(lock);
  spin_lock(lock);
  const at = kmalloc(128, GFP_ATOMIC);
  spin_unlock(lock);
  pr_info("  kmalloc(128, GFP_ATOMIC) under the lock = %p\n", at);
  check(at != 0, "a GFP_ATOMIC allocation to succeed");
  kfree(at);

  pr_info("example kmalloc: GFP_DMA memory lies where the DMA engine reaches (ZONE_DMA)\n");
  const dma = kmalloc(512, GFP_KERNEL | GFP_DMA);
  if (dma != 0) {
    const pa = __pa(dma);
    pr_info("  kmalloc(512, GFP_KERNEL | GFP_DMA) = %p, physical %#lx, DMA limit %#lx\n", dma, pa, dma_zone_end_pfn << PAGE_SHIFT);
    check(page_zonenum(virt_to_page(dma)) == ZONE_DMA, "the GFP_DMA buffer to be in ZONE_DMA");
    kfree(dma);
  } else {
    check(false, "a GFP_DMA allocation to succeed");
  }

  pr_info("example kmalloc: above 8192 bytes kmalloc takes pages straight from the page allocator\n");
  const big = kmalloc(64 * 1024, GFP_KERNEL);
  pr_info("  kmalloc(65536) = %p  ksize %lu\n", big, big != 0 ? ksize(big) : 0);
  check(big != 0 && ksize(big) == 64 * 1024, "a 64 KiB kmalloc with ksize 65536");

  pr_info("example kmalloc: krealloc keeps the contents\n");
  if (big != 0) store<u64>(big, 0x1122334455667788);
  const grown = krealloc(big, 128 * 1024, GFP_KERNEL);
  pr_info("  krealloc(%p, 131072) = %p, first word %#lx\n", big, grown, grown != 0 ? load<u64>(grown) : 0);
  check(grown != 0 && load<u64>(grown) == 0x1122334455667788, "krealloc to keep the first word");
  kfree(grown != 0 ? grown : big);

  const s = kstrdup(hello, GFP_KERNEL);
  pr_info("  kstrdup(\"kmemlab\") = %p \"%pz\" (ksize %lu)\n", s, s, s != 0 ? ksize(s) : 0);
  check(s != 0 && bytes_eq_str(s, 7, "kmemlab") && load<u8>(s + 7) == 0, "kstrdup to copy the string");
  kfree(s);
}

// --- kmem_cache ------------------------------------------------------------------------------

const QUANTUM: u32 = 4000;
let ctor_calls: u32 = 0;

/** The constructor: runs once per object when a new slab is set up, not on every allocation. */
function scullc_ctor(obj: usize): void {
  ctor_calls++;
  store<u32>(obj, 0x5c011c);
}

const dump_buf: usize = memory.data(96, 8);

/** The first and last 8 bytes of an object, as hex. */
function show_bytes(what: string, obj: usize, size: u32): void {
  let n = 0;
  for (let i: u32 = 0; i < 8; i++) n += scnprintf(dump_buf + <usize>n, 96 - n, "%02x ", load<u8>(obj + <usize>i));
  n += scnprintf(dump_buf + <usize>n, 96 - n, "... ");
  for (let i: u32 = size - 8; i < size; i++) n += scnprintf(dump_buf + <usize>n, 96 - n, "%02x ", load<u8>(obj + <usize>i));
  pr_info("  %s: %pz\n", changetype<usize>(what), dump_buf);
}

function example_kmem_cache(): void {
  pr_info("example kmem_cache: a lookaside cache for %u-byte quanta (scullc), with a constructor\n", QUANTUM);
  const cache = kmem_cache_create("scullc", QUANTUM, 0, SLAB_HWCACHE_ALIGN, changetype<usize>(scullc_ctor));
  if (changetype<usize>(cache) == 0) { check(false, "kmem_cache_create(\"scullc\") to succeed"); return; }
  const q0 = kmem_cache_alloc(cache, GFP_KERNEL);
  const q1 = kmem_cache_alloc(cache, GFP_KERNEL);
  pr_info("  kmem_cache_alloc(scullc) = %p, %p; object size %u; constructor calls so far %u\n", q0, q1, kmem_cache_size(cache), ctor_calls);
  check(q0 != 0 && q1 != 0 && ctor_calls >= 2, "two objects and the constructor run for each slab object");
  check(q0 != 0 && load<u32>(q0) == 0x5c011c, "the constructor's mark in a fresh object");
  kmem_cache_free(cache, q1);

  pr_info("example kmem_cache: freeing an object into the wrong cache\n");
  const other = kmem_cache_create("scullc_other", QUANTUM, 0, 0, 0);
  const wrong0 = slub_reports.wrong_cache;
  if (changetype<usize>(other) != 0 && q0 != 0) {
    // SLUB warns "kmem_cache_free: Wrong slab cache. scullc_other but object is from scullc"
    // and, as Linux's cache_from_obj does, frees the object into the cache it came from.
    kmem_cache_free(other, q0);
    pr_info("  SLUB warned and freed the object into %s, where it came from, not into %s\n",
      changetype<usize>(kmem_cache_name(cache)), changetype<usize>(kmem_cache_name(other)));
    check(slub_reports.wrong_cache == wrong0 + 1, "one \"Wrong slab cache\" report");
    kmem_cache_destroy(other);   // empty: nothing went into it
  } else if (q0 != 0) {
    kmem_cache_free(cache, q0);
  }
  kmem_cache_destroy(cache);     // empty again: no "Objects remaining" report

  pr_info("example kmem_cache: SLAB_POISON fills a freed object with 0x6b and ends it with 0xa5\n");
  const pc = kmem_cache_create("scullc_poison", 64, 0, SLAB_POISON, 0);
  if (changetype<usize>(pc) == 0) { check(false, "kmem_cache_create(\"scullc_poison\") to succeed"); return; }
  const p = kmem_cache_alloc(pc, GFP_KERNEL);
  if (p == 0) { check(false, "an object from scullc_poison"); kmem_cache_destroy(pc); return; }
  memory.fill(p, 0x41, 64);
  show_bytes("in use    ", p, 64);
  kmem_cache_free(pc, p);
  show_bytes("after free", p, 64);   // a read after free: what a buggy driver would see
  check(load<u8>(p) == 0x6b && load<u8>(p + 62) == 0x6b && load<u8>(p + 63) == 0xa5, "6b … 6b a5 in the freed object");
  pr_info("example kmem_cache: a write after free is caught when the object is next handed out\n");
  store<u8>(p + 10, 0x00);
  const poison0 = slub_reports.poison;
  const again = kmem_cache_alloc(pc, GFP_KERNEL);   // SLUB: "Poison overwritten", the object is isolated
  pr_info("  the next allocation returned %p (the damaged object is set aside, not handed out)\n", again);
  check(slub_reports.poison == poison0 + 1, "one \"Poison overwritten\" report");
  check(again != p, "the damaged object not to be handed out again");
  if (again != 0) kmem_cache_free(pc, again);
  kmem_cache_destroy(pc);
}

// --- mempool ---------------------------------------------------------------------------------

const MY_POOL_MINIMUM: i32 = 4;
const held: usize = memory.data(8 * 8, 8);

function example_mempool(): void {
  pr_info("example mempool: a pool of %d reserved objects over a slab cache\n", MY_POOL_MINIMUM);
  const cache = kmem_cache_create("mypool_objs", 256, 0, 0, 0);
  if (changetype<usize>(cache) == 0) { check(false, "kmem_cache_create(\"mypool_objs\") to succeed"); return; }
  const pool = mempool_create(MY_POOL_MINIMUM, changetype<usize>(mempool_alloc_slab), changetype<usize>(mempool_free_slab), changetype<usize>(cache));
  if (changetype<usize>(pool) == 0) { check(false, "mempool_create to succeed"); kmem_cache_destroy(cache); return; }
  pr_info("  mempool_create(%d, mempool_alloc_slab, mempool_free_slab, mypool_objs): reserve %d\n", MY_POOL_MINIMUM, pool.curr_nr);
  check(pool.curr_nr == MY_POOL_MINIMUM, "a full reserve after mempool_create");

  const e0 = mempool_alloc(pool, GFP_KERNEL);
  pr_info("  with memory to spare, mempool_alloc takes from the cache: %p, reserve still %d\n", e0, pool.curr_nr);
  check(e0 != 0 && pool.curr_nr == MY_POOL_MINIMUM, "the reserve untouched while the cache can allocate");

  pr_info("example mempool: under memory pressure (failslab: every slab allocation fails) the reserve serves\n");
  failslab_fail_next(1000);
  let got = 0;
  for (let i = 0; i < MY_POOL_MINIMUM + 1; i++) {
    const e = mempool_alloc(pool, GFP_ATOMIC | __GFP_NOWARN);
    store<usize>(held + <usize>(i * 8), e);
    pr_info("  mempool_alloc(GFP_ATOMIC) = %p, reserve now %d\n", e, pool.curr_nr);
    if (e != 0) got++;
  }
  check(got == MY_POOL_MINIMUM, "exactly the reserve's objects, then NULL for GFP_ATOMIC");
  pr_info("example mempool: mempool_free refills the reserve first\n");
  for (let i = 0; i < MY_POOL_MINIMUM + 1; i++) {
    const e = load<usize>(held + <usize>(i * 8));
    if (e != 0) mempool_free(e, pool);
  }
  pr_info("  after freeing them: reserve %d\n", pool.curr_nr);
  check(pool.curr_nr == MY_POOL_MINIMUM, "the reserve full again");
  failslab_fail_next(0);
  mempool_free(e0, pool);   // the reserve is full: back to the cache
  mempool_destroy(pool);
  kmem_cache_destroy(cache);
  pr_info("  mempool_destroy, kmem_cache_destroy: done\n");
}

// --- dispatch --------------------------------------------------------------------------------

/**
 * Run the examples `example=` names. Returns -1 when there is no
 * `example=` (boot goes on to the self-tests), else the number of failed
 * checks (0 = every example behaved as described).
 */
export function run_examples_from_cmdline(): i32 {
  const v = cmdline_find("example");
  if (v < 0) return -1;
  const p = cmdline_val_ptr(v);
  const len = cmdline_val_len(v);
  const all = bytes_eq_str(p, len, "all");
  let ran = 0;
  failed = 0;
  const reports0 = slub_reports.reports;
  if (all || list_contains(p, len, "kmalloc")) { example_kmalloc(); ran++; }
  if (all || list_contains(p, len, "kmem_cache")) { example_kmem_cache(); ran++; }
  if (all || list_contains(p, len, "mempool")) { example_mempool(); ran++; }
  if (ran == 0) {
    pr_err("example: no example named '%.*pz'; there are kmalloc, kmem_cache, mempool and all\n", len, p);
    return 1;
  }
  pr_info("example: %d run, %u slab reports printed, %s\n", ran, slub_reports.reports - reports0,
    changetype<usize>(failed == 0 ? "all behaved as described" : "FAILED"));
  return failed;
}
