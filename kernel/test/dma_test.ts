/**
 * Suite `dma`: the DMA engine and its driver (drivers/kmemlab_dma.ts)
 * against the machine. The window the device tree gives (dma-ranges) must
 * be the engine's own; transfers inside it move the bytes, transfers that
 * leave it fail with -EFAULT, write nothing, and leave one pr_err line in the
 * log; every transfer in process context ends with one interrupt; transfers
 * from every CPU at once are serialised. Without a `kmemlab,dma-engine`
 * node (QEMU virt) every case is skipped.
 *
 * Buffers: one order-8 block (1 MiB) from alloc_pages(GFP_DMA), taken by the
 * suite's init before each case and freed by its exit, reached through the
 * linear map (in low DRAM a kernel pointer's value is the physical address):
 *
 *   scratch +0x0_0000  A (64 KiB)   +0x1_0000  B (64 KiB)   +0x2_0000  per-CPU slices (2 × 1 KiB each, 64 CPUs)
 */
import { kunit, kunit_suite, kunit_suite_hooks, kunit_case, kunit_skip, KUNIT_EXPECT_EQ, KUNIT_EXPECT_TRUE, KUNIT_EXPECT_GT, KUNIT_ASSERT_TRUE } from "./ktap";
import {
  dma_present, dma_window_base, dma_window_size, dma_hw_window_base, dma_hw_window_size, dma_irq_number,
  dma_memcpy, dma_memset, dma_transfers_done, dma_transfers_failed, dma_irqs_handled,
} from "../drivers/kmemlab_dma";
import { of_dma_zone_window, nr_mem_banks, of_mem_bank } from "../of/fdt";
import { irq_count } from "../irq/plic";
import { console_loglevel, set_console_loglevel, log_next_seq, log_read_record } from "../printk";
import { scnprintf } from "../lib/vsprintf";
import { memcmp } from "../lib/string";
import { smp_call_function, num_online_cpus } from "../smp";
import { smp_processor_id } from "../cpu";
import { csrr_time } from "../arch/riscv";
import { timebase_freq } from "../time/clock";
import { alloc_pages, free_pages } from "../mm/page_alloc";
import { page_address } from "../mm/page";
import { GFP_KERNEL, __GFP_DMA } from "../mm/gfp";
import { PAGE_SIZE } from "../arch/layout";

const EFAULT: i32 = 14;
const ENOMEM: i32 = 12;
const NO_ENGINE = "no kmemlab,dma-engine in the device tree";

const SCRATCH_ORDER: u32 = 8;
const SCRATCH_SIZE: u64 = <u64>PAGE_SIZE << SCRATCH_ORDER;
const SLICE: u64 = 0x400;

/** The suite's scratch block (physical address), 0 outside a case or without an engine. */
let SCRATCH: u64 = 0;
// @ts-ignore: decorator
@inline function BUF_A(): u64 { return SCRATCH; }
// @ts-ignore: decorator
@inline function BUF_B(): u64 { return SCRATCH + 0x1_0000; }
// @ts-ignore: decorator
@inline function SLICES(): u64 { return SCRATCH + 0x2_0000; }

/** Suite init: the scratch block from ZONE_DMA (non-zero = the case fails). */
function dma_suite_init(test: kunit): i32 {
  if (!dma_present()) return 0;
  const pg = alloc_pages(GFP_KERNEL | __GFP_DMA, SCRATCH_ORDER);
  if (changetype<usize>(pg) == 0) return -ENOMEM;
  SCRATCH = <u64>page_address(pg);
  return 0;
}

/** Suite exit: give the scratch block back. */
function dma_suite_exit(test: kunit): void {
  if (SCRATCH == 0) return;
  free_pages(<usize>SCRATCH, SCRATCH_ORDER);
  SCRATCH = 0;
}

/** The CPU's view of physical `pa` in low DRAM (the linear map). */
// @ts-ignore: decorator
@inline function va(pa: u64): usize { return <usize>pa; }

const rec: usize = memory.data(192, 8);
const want: usize = memory.data(128, 8);
const before: usize = memory.data(64, 8);
const win: usize = memory.data(16, 8);

/** Skip the case when there is no engine (or the scratch range is outside its window). */
function need_engine(test: kunit): bool {
  if (!dma_present()) { kunit_skip(test, NO_ENGINE); return false; }
  if (SCRATCH < dma_window_base() || SCRATCH + SCRATCH_SIZE > dma_window_base() + dma_window_size()) {
    kunit_skip(test, "the GFP_DMA scratch block lies outside the DMA window");
    return false;
  }
  return true;
}

function window_end(): u64 { return dma_window_base() + dma_window_size(); }

/** Is [pa, pa + len) low DRAM (safe to read through the linear map)? */
function is_low_ram(pa: u64, len: u64): bool {
  if (nr_mem_banks < 1) return false;
  const b = of_mem_bank(0);
  return pa >= b.base && pa + len <= b.base + b.size;
}

/** Did the log get the driver's line for an out-of-window failure at `addr` since `first`? */
function logged_failure(first: u64, addr: u64): bool {
  const n = scnprintf(want, 128, "kmemlab-dma: transfer failed: out of window at %#018lx (status ", addr);
  for (let s = first; s < log_next_seq(); s++) {
    const r = log_read_record(s, rec, 192);
    if (r < 0) continue;
    const len = r >> 16;
    if (len >= n && memcmp(rec, want, <usize>n) == 0) return true;
  }
  return false;
}

function fill_pattern(pa: u64, len: u64, seed: u32): void {
  for (let i: u64 = 0; i < len; i++) store<u8>(va(pa + i), <u8>((<u32>i * 7 + seed * 13) & 0xff));
}

function all_bytes(pa: u64, len: u64, v: u8): bool {
  for (let i: u64 = 0; i < len; i++) if (load<u8>(va(pa + i)) != v) return false;
  return true;
}

// --- cases ---------------------------------------------------------------------------

function dma_engine_present(test: kunit): void {
  if (!dma_present()) { kunit_skip(test, NO_ENGINE); return; }
  KUNIT_EXPECT_GT(test, dma_irq_number(), 0);
  KUNIT_EXPECT_GT(test, dma_window_size(), 0);
}

function dma_window_from_device_tree(test: kunit): void {
  if (!dma_present()) { kunit_skip(test, NO_ENGINE); return; }
  KUNIT_EXPECT_EQ(test, of_dma_zone_window(win, win + 8), 0);
  KUNIT_EXPECT_EQ(test, load<u64>(win), dma_window_base());
  KUNIT_EXPECT_EQ(test, load<u64>(win + 8), dma_window_size());
  KUNIT_EXPECT_EQ(test, dma_window_base(), dma_hw_window_base());
  KUNIT_EXPECT_EQ(test, dma_window_size(), dma_hw_window_size());
  // The window is the start of low DRAM.
  KUNIT_ASSERT_TRUE(test, nr_mem_banks >= 1);
  KUNIT_EXPECT_EQ(test, dma_window_base(), of_mem_bank(0).base);
  KUNIT_EXPECT_TRUE(test, dma_window_size() <= of_mem_bank(0).size);
}

function dma_fill_inside_window(test: kunit): void {
  if (!need_engine(test)) return;
  memory.fill(va(BUF_A()), 0, 4096 + 64);
  KUNIT_EXPECT_EQ(test, dma_memset(BUF_A() + 32, 0xa5, 4096), 0);
  KUNIT_EXPECT_TRUE(test, all_bytes(BUF_A(), 32, 0));
  KUNIT_EXPECT_TRUE(test, all_bytes(BUF_A() + 32, 4096, 0xa5));
  KUNIT_EXPECT_TRUE(test, all_bytes(BUF_A() + 32 + 4096, 32, 0));
  // LEN 0 succeeds and writes nothing.
  KUNIT_EXPECT_EQ(test, dma_memset(BUF_A(), 0xff, 0), 0);
  KUNIT_EXPECT_TRUE(test, all_bytes(BUF_A(), 32, 0));
}

function dma_copy_inside_window(test: kunit): void {
  if (!need_engine(test)) return;
  fill_pattern(BUF_A(), 8192, 3);
  memory.fill(va(BUF_B()), 0, 8192);
  KUNIT_EXPECT_EQ(test, dma_memcpy(BUF_B(), BUF_A(), 8192), 0);
  KUNIT_EXPECT_EQ(test, memcmp(va(BUF_A()), va(BUF_B()), 8192), 0);
  // Overlapping, forwards: memmove semantics (B[100..] = old B[0..]).
  memory.copy(va(BUF_A()), va(BUF_B()), 4096);
  KUNIT_EXPECT_EQ(test, dma_memcpy(BUF_B() + 100, BUF_B(), 4096), 0);
  KUNIT_EXPECT_EQ(test, memcmp(va(BUF_B() + 100), va(BUF_A()), 4096), 0);
}

function dma_copy_beyond_window_fails(test: kunit): void {
  if (!need_engine(test)) return;
  const end = window_end();
  const readable = is_low_ram(end, 64);
  if (readable) memory.copy(before, va(end), 64);
  fill_pattern(BUF_A(), 64, 5);
  const failed = dma_transfers_failed();
  const level = console_loglevel;
  const first = log_next_seq();
  set_console_loglevel(1); // the expected error goes to the log, not the console
  const r = dma_memcpy(end, BUF_A(), 64);
  set_console_loglevel(level);
  KUNIT_EXPECT_EQ(test, r, -EFAULT);
  KUNIT_EXPECT_EQ(test, dma_transfers_failed(), failed + 1);
  KUNIT_EXPECT_TRUE(test, logged_failure(first, end));
  if (readable) KUNIT_EXPECT_EQ(test, memcmp(before, va(end), 64), 0);
  // Straddling the end: the bytes inside the window stay untouched too.
  memory.fill(va(BUF_B()), 0x3c, 64);
  const inside = end - 16;
  const keep = (inside >= SCRATCH + SCRATCH_SIZE || inside + 16 <= SCRATCH) && is_low_ram(inside, 16);
  if (keep) memory.copy(before, va(inside), 16);
  set_console_loglevel(1);
  const r2 = dma_memcpy(inside, BUF_B(), 64);
  set_console_loglevel(level);
  KUNIT_EXPECT_EQ(test, r2, -EFAULT);
  KUNIT_EXPECT_TRUE(test, logged_failure(first, end));
  if (keep) KUNIT_EXPECT_EQ(test, memcmp(before, va(inside), 16), 0);
}

function dma_source_beyond_window_fails(test: kunit): void {
  if (!need_engine(test)) return;
  const end = window_end();
  memory.fill(va(BUF_B()), 0x5a, 256);
  const level = console_loglevel;
  const first = log_next_seq();
  set_console_loglevel(1);
  const r = dma_memcpy(BUF_B(), end + 0x1000, 256);
  set_console_loglevel(level);
  KUNIT_EXPECT_EQ(test, r, -EFAULT);
  KUNIT_EXPECT_TRUE(test, all_bytes(BUF_B(), 256, 0x5a));
  KUNIT_EXPECT_TRUE(test, logged_failure(first, end + 0x1000));
  // A fill of the same place fails likewise.
  set_console_loglevel(1);
  const r2 = dma_memset(end + 0x1000, 0, 16);
  set_console_loglevel(level);
  KUNIT_EXPECT_EQ(test, r2, -EFAULT);
}

function dma_completion_interrupt(test: kunit): void {
  if (!need_engine(test)) return;
  const irq = dma_irq_number();
  const count0 = irq_count(irq);
  const handled0 = dma_irqs_handled();
  const done0 = dma_transfers_done();
  for (let i: u64 = 1; i <= 3; i++) {
    KUNIT_EXPECT_EQ(test, dma_memset(BUF_A(), <u8>i, 512), 0);
    KUNIT_EXPECT_EQ(test, irq_count(irq), count0 + i);
    KUNIT_EXPECT_TRUE(test, all_bytes(BUF_A(), 512, <u8>i));
  }
  KUNIT_EXPECT_EQ(test, dma_irqs_handled(), handled0 + 3);
  KUNIT_EXPECT_EQ(test, dma_transfers_done(), done0 + 3);
}

// Transfers from every CPU at once.
const ROUNDS: u32 = 8;
const smp_finished: usize = memory.data(8, 8);
const smp_bad: usize = memory.data(8, 8);
const smp_progress: usize = memory.data(8, 8);

/** On each CPU: fill its slice, copy it to its second slice, check both, ROUNDS times. */
function dma_worker(arg: u64): void {
  const cpu = <u64>smp_processor_id();
  const a = SLICES() + cpu * 2 * SLICE;
  const b = a + SLICE;
  for (let i: u32 = 0; i < ROUNDS; i++) {
    const v = <u8>((cpu << 4) + <u64>i + 1);
    if (dma_memset(a, v, SLICE) != 0) atomic.add<u64>(smp_bad, 1);
    if (!all_bytes(a, SLICE, v)) atomic.add<u64>(smp_bad, 1);
    if (dma_memcpy(b, a, SLICE) != 0) atomic.add<u64>(smp_bad, 1);
    if (!all_bytes(b, SLICE, v)) atomic.add<u64>(smp_bad, 1);
    atomic.add<u64>(smp_progress, 1);
  }
  atomic.add<u64>(smp_finished, 1);
}

function dma_transfers_from_all_cpus(test: kunit): void {
  if (!need_engine(test)) return;
  const n = num_online_cpus();
  const done0 = dma_transfers_done();
  const failed0 = dma_transfers_failed();
  atomic.store<u64>(smp_finished, 0);
  atomic.store<u64>(smp_bad, 0);
  atomic.store<u64>(smp_progress, 0);
  smp_call_function(dma_worker, 0, false); // the others: interrupts off, polled
  dma_worker(0);                           // this CPU: process context, interrupt-driven
  // Wait for the others while they make progress (bounded by machine time, not a fixed deadline).
  let last = atomic.load<u64>(smp_progress);
  let deadline = csrr_time() + timebase_freq * 5;
  while (atomic.load<u64>(smp_finished) < <u64>n && csrr_time() < deadline) {
    const now = atomic.load<u64>(smp_progress);
    if (now != last) { last = now; deadline = csrr_time() + timebase_freq * 5; }
  }
  KUNIT_EXPECT_EQ(test, atomic.load<u64>(smp_finished), n);
  KUNIT_EXPECT_EQ(test, atomic.load<u64>(smp_bad), 0);
  KUNIT_EXPECT_EQ(test, dma_transfers_done(), done0 + <u64>(2 * ROUNDS) * <u64>n);
  KUNIT_EXPECT_EQ(test, dma_transfers_failed(), failed0);
}

export function register_dma_tests(): void {
  kunit_suite("dma");
  kunit_suite_hooks(dma_suite_init, dma_suite_exit);
  kunit_case("dma_engine_present", dma_engine_present);
  kunit_case("dma_window_from_device_tree", dma_window_from_device_tree);
  kunit_case("dma_fill_inside_window", dma_fill_inside_window);
  kunit_case("dma_copy_inside_window", dma_copy_inside_window);
  kunit_case("dma_copy_beyond_window_fails", dma_copy_beyond_window_fails);
  kunit_case("dma_source_beyond_window_fails", dma_source_beyond_window_fails);
  kunit_case("dma_completion_interrupt", dma_completion_interrupt);
  kunit_case("dma_transfers_from_all_cpus", dma_transfers_from_all_cpus);
}
