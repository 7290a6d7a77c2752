/**
 * kmemlab-dma: the driver of the board's DMA engine (`kmemlab,dma-engine`,
 * emulator/devices/dma.ts), a bus master that copies and fills physical
 * memory inside a window of low DRAM and raises an interrupt when done.
 *
 * Registers (little-endian; 64-bit ones written as two 32-bit halves):
 *
 *   0x00 ID = "KDMA"   0x04 VERSION   0x08 SRC   0x10 DST   0x18 LEN   0x20 FILL
 *   0x28 CTRL: op (1 COPY, 2 FILL) | IRQ_EN (bit 8); op != 0 starts
 *   0x2C STATUS: BUSY | DONE | ERROR | code << 8 (W1C DONE, ERROR)
 *   0x30 ERR_ADDR      0x38 WIN_BASE   0x40 WIN_SIZE
 *
 * Probe (kmemlab_dma_probe, boot CPU, after plic_init): the node from the
 * device tree, its registers through ioremap (mm/vmalloc.ts: an ioremap area
 * with a guard page), its interrupt through
 * request_irq (routed to the boot CPU), its window from the parent bus's
 * `dma-ranges` (of_dma_get_range). QEMU virt has no such node: -ENODEV, and
 * every transfer then fails with -ENODEV.
 *
 * Transfers (dma_memcpy, dma_memset): the engine runs one at a time, so
 * users are serialised by `dma_in_use`, a flag taken under dma_lock (a
 * mutex built from a spinlock and a wait queue: sleepers wait on dma_wq,
 * atomic callers spin). The owner programs the registers, starts the
 * transfer and waits for its end in one of two ways:
 *
 *   may sleep (scheduler running, a task, not atomic)  CTRL has IRQ_EN; the
 *       interrupt handler reaps STATUS and completes dma_done; the owner
 *       sleeps on dma_done (and reaps STATUS itself every DMA_REAP_JIFFIES,
 *       in case the boot CPU, which takes the interrupt, is itself spinning
 *       for the engine with interrupts off).
 *   atomic, or before the scheduler                     no IRQ_EN; the owner
 *       polls STATUS.
 *
 * "Reaping" (dma_reap, under dma_lock with interrupts off) happens once per
 * transfer: whoever first sees STATUS with DONE or ERROR and BUSY clear
 * records it and ERR_ADDR in dma_result_*, clears them with W1C (which drops
 * the interrupt line) and sets dma_result_ready. The owner loops on
 * dma_result_ready, never on the completion's count, so a late complete()
 * from a previous transfer's handler only causes one extra wake-up.
 *
 * Lock order: dma_lock is a leaf (nothing is taken inside it but MMIO);
 * dma_done's and dma_wq's own locks are taken without it.
 *
 * Buffers are physical addresses inside the window (ZONE_DMA); the kernel's
 * linear map gives their CPU view (__va). The engine writes memory behind the
 * CPU's back: nothing here is cached, and the emulator breaks LR
 * reservations on what it writes.
 */
import { of_find_compatible_node, of_address_to_resource, of_irq_get, of_dma_get_range, resource, initial_boot_params } from "../of/fdt";
import { ioremap } from "../mm/vmalloc";
import { readl, writel, writel_relaxed } from "../arch/io";
import { request_irq } from "../irq/plic";
import { spinlock_t, SPINLOCK_SIZE, spin_lock_init, spin_lock_irqsave, spin_unlock_irqrestore } from "../locking/spinlock";
import { COMPLETION_SIZE, WAIT_QUEUE_HEAD_SIZE, init_completion, reinit_completion, complete, wait_for_completion_timeout,
  init_waitqueue_head, wait_event, wake_up } from "../sched/wait";
import { sched_running, might_sleep } from "../sched/core";
import { in_atomic } from "../preempt";
import { this_cpu } from "../cpu";
import { pause } from "../arch/riscv";
import { pr_info, pr_err, pr_warn } from "../printk";

const ENODEV: i32 = 19;
const EFAULT: i32 = 14;
const EBUSY: i32 = 16;
const EINVAL: i32 = 22;

// Registers.
const DMA_ID: usize = 0x00;
const DMA_VERSION: usize = 0x04;
const DMA_SRC: usize = 0x08;
const DMA_DST: usize = 0x10;
const DMA_LEN: usize = 0x18;
const DMA_FILL: usize = 0x20;
const DMA_CTRL: usize = 0x28;
const DMA_STATUS: usize = 0x2c;
const DMA_ERR_ADDR: usize = 0x30;
const DMA_WIN_BASE: usize = 0x38;
const DMA_WIN_SIZE: usize = 0x40;
const DMA_ID_VALUE: u32 = 0x414d444b; // "KDMA"

export const DMA_OP_COPY: u32 = 1;
export const DMA_OP_FILL: u32 = 2;
export const DMA_CTRL_IRQ_EN: u32 = 1 << 8;
export const DMA_STATUS_BUSY: u32 = 1;
export const DMA_STATUS_DONE: u32 = 2;
export const DMA_STATUS_ERROR: u32 = 4;
export const DMA_ERR_OUT_OF_WINDOW: u32 = 1;
export const DMA_ERR_BAD_OP: u32 = 2;
export const DMA_ERR_BUSY: u32 = 3;
export const DMA_ERR_BUS_ERROR: u32 = 4;

/** How long a sleeping owner trusts the interrupt before it looks at STATUS itself. */
const DMA_REAP_JIFFIES: u64 = 2;

let dma_regs: usize = 0;
let dma_irq: i32 = -1;
let dma_win_base: u64 = 0;
let dma_win_size: u64 = 0;
/** The register base as the tree gives it (for messages). */
let dma_phys: u64 = 0;

const dma_lock = changetype<spinlock_t>(memory.data(SPINLOCK_SIZE, 16));
/** Completed by the interrupt handler when it reaped a transfer. */
const dma_done: usize = memory.data(COMPLETION_SIZE, 16);
/** Tasks waiting for the engine. */
const dma_wq: usize = memory.data(WAIT_QUEUE_HEAD_SIZE, 16);
/** Shared words (atomics): in use, result ready, result status, ERR_ADDR, and statistics. */
const dma_state: usize = memory.data(64, 8);
const IN_USE: usize = 0;       // u32: the engine has an owner
const READY: usize = 4;        // u32: the current transfer was reaped
const RESULT: usize = 8;       // u32: its STATUS
const RESULT_ADDR: usize = 16; // u64: its ERR_ADDR
const N_DONE: usize = 24;      // u64: transfers that succeeded
const N_FAILED: usize = 32;    // u64: transfers that failed
const N_IRQ: usize = 40;       // u64: interrupts the handler took
const N_IRQ_REAPED: usize = 48; // u64: of those, the ones that ended a transfer

// @ts-ignore: decorator
@inline function reg(off: usize): usize { return dma_regs + off; }

function read64(off: usize): u64 {
  return <u64>readl(reg(off)) | (<u64>readl(reg(off + 4)) << 32);
}

/** 64-bit register, low half first; the caller orders it with a writel before the start. */
function write64(off: usize, v: u64): void {
  writel_relaxed(<u32>v, reg(off));
  writel_relaxed(<u32>(v >> 32), reg(off + 4));
}

// What the driver found and did. Context: any; lock-free reads.

/** Is the engine there (probed)? */
export function dma_present(): bool { return dma_regs != 0; }
/** First physical address the engine reaches (0 when absent). */
export function dma_window_base(): u64 { return dma_win_base; }
/** Bytes the engine reaches from dma_window_base() (0 when absent). */
export function dma_window_size(): u64 { return dma_win_size; }
/** The engine's own WIN_BASE / WIN_SIZE registers (0 when absent), to check the tree against. */
export function dma_hw_window_base(): u64 { return dma_regs != 0 ? read64(DMA_WIN_BASE) : 0; }
export function dma_hw_window_size(): u64 { return dma_regs != 0 ? read64(DMA_WIN_SIZE) : 0; }
/** Its PLIC source (-1 when absent or polled). */
export function dma_irq_number(): i32 { return dma_irq; }
/** The registers: the kernel pointer they are mapped at (an ioremap area), and their physical base. */
export function dma_regs_base(): usize { return dma_regs; }
export function dma_regs_phys(): u64 { return dma_phys; }
/** The engine's VERSION register (0 without an engine). */
export function dma_version(): u32 { return dma_regs != 0 ? readl(reg(DMA_VERSION)) : 0; }
/** Transfers that succeeded, failed; interrupts taken (statistics for the self-tests). */
export function dma_transfers_done(): u64 { return atomic.load<u64>(dma_state + N_DONE); }
export function dma_transfers_failed(): u64 { return atomic.load<u64>(dma_state + N_FAILED); }
export function dma_irqs_handled(): u64 { return atomic.load<u64>(dma_state + N_IRQ); }

/** Has the current transfer been reaped? */
function dma_reaped(): bool { return atomic.load<u32>(dma_state + READY) != 0; }

/**
 * Take the result of the current transfer if it has ended and nobody took
 * it yet. Returns whether this call took it. Context: any; takes dma_lock
 * (interrupts off).
 */
function dma_reap(): bool {
  const flags = spin_lock_irqsave(dma_lock);
  let took = false;
  if (!dma_reaped()) {
    const s = readl(reg(DMA_STATUS));
    if ((s & DMA_STATUS_BUSY) == 0 && (s & (DMA_STATUS_DONE | DMA_STATUS_ERROR)) != 0) {
      atomic.store<u32>(dma_state + RESULT, s);
      atomic.store<u64>(dma_state + RESULT_ADDR, read64(DMA_ERR_ADDR));
      writel(s & (DMA_STATUS_DONE | DMA_STATUS_ERROR), reg(DMA_STATUS)); // W1C: the line drops
      atomic.store<u32>(dma_state + READY, 1);
      took = true;
    }
  }
  spin_unlock_irqrestore(dma_lock, flags);
  return took;
}

/** The completion interrupt (the engine's PLIC source). Context: hard interrupt, boot CPU. */
function dma_interrupt(irq: i32, arg: u64): void {
  atomic.add<u64>(dma_state + N_IRQ, 1);
  if (dma_reap()) {
    atomic.add<u64>(dma_state + N_IRQ_REAPED, 1);
    complete(dma_done);
  }
}

function dma_engine_free(): bool { return atomic.load<u32>(dma_state + IN_USE) == 0; }

/** Become the engine's owner. Sleeps on dma_wq when `sleep`, else spins. */
function dma_acquire(sleep: bool): void {
  while (true) {
    const flags = spin_lock_irqsave(dma_lock);
    const got = atomic.load<u32>(dma_state + IN_USE) == 0;
    if (got) atomic.store<u32>(dma_state + IN_USE, 1);
    spin_unlock_irqrestore(dma_lock, flags);
    if (got) return;
    if (sleep) wait_event(dma_wq, dma_engine_free);
    else while (!dma_engine_free()) pause();
  }
}

function dma_release(): void {
  const flags = spin_lock_irqsave(dma_lock);
  atomic.store<u32>(dma_state + IN_USE, 0);
  spin_unlock_irqrestore(dma_lock, flags);
  wake_up(dma_wq);
}

function dma_can_sleep(): bool {
  return sched_running && this_cpu().current != 0 && !in_atomic();
}

function dma_error_name(code: u32): string {
  if (code == DMA_ERR_OUT_OF_WINDOW) return "out of window";
  if (code == DMA_ERR_BAD_OP) return "bad operation";
  if (code == DMA_ERR_BUSY) return "engine busy";
  if (code == DMA_ERR_BUS_ERROR) return "bus error";
  return "unknown error";
}

/** One transfer, start to end. Returns 0 or a negative errno (the file comment). */
function dma_transfer(op: u32, dst_pa: u64, src_pa: u64, len: u64, fill: u8): i32 {
  if (dma_regs == 0) return -ENODEV;
  const sleep = dma_can_sleep() && dma_irq > 0;
  if (sleep) might_sleep("dma_transfer");
  dma_acquire(sleep);

  reinit_completion(dma_done);
  atomic.store<u32>(dma_state + READY, 0);
  writel(DMA_STATUS_DONE | DMA_STATUS_ERROR, reg(DMA_STATUS)); // nothing left over
  write64(DMA_SRC, src_pa);
  write64(DMA_DST, dst_pa);
  write64(DMA_LEN, len);
  write64(DMA_FILL, <u64>fill);
  // writel's fence: the buffers and the registers above reach the engine first.
  writel(op | (sleep ? DMA_CTRL_IRQ_EN : 0), reg(DMA_CTRL));

  if (sleep) {
    while (!dma_reaped()) {
      wait_for_completion_timeout(dma_done, DMA_REAP_JIFFIES);
      dma_reap();
    }
  } else {
    while (!dma_reaped()) if (!dma_reap()) pause();
  }
  const status = atomic.load<u32>(dma_state + RESULT);
  const err_addr = atomic.load<u64>(dma_state + RESULT_ADDR);
  dma_release();

  if ((status & DMA_STATUS_ERROR) == 0) {
    atomic.add<u64>(dma_state + N_DONE, 1);
    return 0;
  }
  atomic.add<u64>(dma_state + N_FAILED, 1);
  const code = (status >> 8) & 0xff;
  pr_err("kmemlab-dma: transfer failed: %s at %#018lx (status %#x)\n", changetype<usize>(dma_error_name(code)), err_addr, status);
  if (code == DMA_ERR_OUT_OF_WINDOW || code == DMA_ERR_BUS_ERROR) return -EFAULT;
  if (code == DMA_ERR_BUSY) return -EBUSY;
  return -EINVAL;
}

/**
 * Copy `len` bytes from physical `src_pa` to physical `dst_pa` with the
 * engine (overlap allowed: memmove). Both ranges must lie in the window.
 * Returns 0; -EFAULT (-14) when a range leaves the window (nothing is
 * written; one pr_err line names the address), -EBUSY (-16), -EINVAL (-22)
 * for what the engine rejects, -ENODEV (-19) without an engine.
 * Context: process context, may sleep (until the completion interrupt);
 * from atomic context or before the scheduler runs it polls instead.
 */
export function dma_memcpy(dst_pa: u64, src_pa: u64, len: u64): i32 {
  return dma_transfer(DMA_OP_COPY, dst_pa, src_pa, len, 0);
}

/**
 * Fill `len` bytes at physical `dst_pa` with `value` using the engine.
 * Returns and context as dma_memcpy.
 */
export function dma_memset(dst_pa: u64, value: u8, len: u64): i32 {
  return dma_transfer(DMA_OP_FILL, dst_pa, 0, len, value);
}

/**
 * Find, map and start the DMA engine the device tree describes. Returns 0,
 * or -ENODEV (-19) when there is none (QEMU virt) or it does not answer.
 * Without a usable interrupt the engine still works, polled. Context: boot
 * CPU, after plic_init and vmalloc_init, before SMP.
 */
export function kmemlab_dma_probe(): i32 {
  if (dma_regs != 0) return 0;
  if (initial_boot_params == 0) return -ENODEV;
  const node = of_find_compatible_node(-1, "kmemlab,dma-engine");
  if (node < 0) return -ENODEV;
  const res = changetype<resource>(memory.data(16, 8));
  if (of_address_to_resource(node, 0, res) < 0) { pr_err("kmemlab-dma: no registers in the device tree\n"); return -ENODEV; }
  const regs = ioremap(res.start, res.end - res.start + 1);
  if (regs == 0) { pr_err("kmemlab-dma: cannot map registers at %#lx\n", res.start); return -ENODEV; }
  const id = readl(regs + DMA_ID);
  if (id != DMA_ID_VALUE) { pr_err("kmemlab-dma: no engine at %#lx (ID %#x)\n", res.start, id); return -ENODEV; }
  spin_lock_init(dma_lock);
  init_completion(dma_done);
  init_waitqueue_head(dma_wq);
  memory.fill(dma_state, 0, 64);
  dma_regs = regs;
  dma_phys = res.start;
  writel(0, reg(DMA_CTRL));
  writel(DMA_STATUS_DONE | DMA_STATUS_ERROR, reg(DMA_STATUS));

  const win = memory.data(16, 8);
  if (of_dma_get_range(node, win, win + 8) == 0) {
    dma_win_base = load<u64>(win);
    dma_win_size = load<u64>(win + 8);
  } else {
    pr_warn("kmemlab-dma: no dma-ranges above the engine; using its WIN registers\n");
    dma_win_base = read64(DMA_WIN_BASE);
    dma_win_size = read64(DMA_WIN_SIZE);
  }
  const irq = of_irq_get(node, 0);
  const err = irq > 0 ? request_irq(irq, dma_interrupt, 0, 0) : -ENODEV;
  if (err == 0) dma_irq = irq;
  else pr_warn("kmemlab-dma: no interrupt (%d); transfers are polled\n", err);
  pr_info("kmemlab-dma: dma-controller@%lx: version %u, DMA window [mem %#018lx-%#018lx], irq %d\n",
    dma_phys, readl(reg(DMA_VERSION)), dma_win_base, dma_win_base + dma_win_size - 1, dma_irq);
  return 0;
}
