/**
 * The platform-level interrupt controller (RISC-V PLIC specification 1.0.0;
 * Linux drivers/irqchip/irq-sifive-plic.c), for external interrupts.
 *
 *   base + 4·id                          priority of source id (0 = never)
 *   base + 0x2000 + 0x80·ctx + 4·(id/32) enable bits of context ctx
 *   base + 0x20_0000 + 0x1000·ctx        threshold of ctx
 *   base + 0x20_0004 + 0x1000·ctx        claim (read) / complete (write)
 *
 * Contexts come from the PLIC node's interrupts-extended: entry i is
 * <&cpuN_intc 11> (hart N, M-mode) or <… 9> (hart N, S-mode); we use the
 * S-mode one of each hart (2·hart + 1 on QEMU virt and kmemlab). The
 * registers are mapped with early_ioremap.
 *
 * Each source has at most one handler and is routed to one CPU (the one
 * given to request_irq). Handlers run in interrupt context with interrupts
 * off and must not sleep. Registration: boot CPU, or any CPU with the
 * source disabled (plic_lock covers the enable words).
 */
import { of_find_compatible_node, of_address_to_resource, resource, of_irq_context_target, nr_cpu_ids, cpuid_to_hartid } from "../of/fdt";
import { fdt_getprop_u32 } from "../lib/fdt";
import { initial_boot_params } from "../of/fdt";
import { early_ioremap } from "../arch/early_ioremap";
import { readl, writel } from "../arch/io";
import { csrs_sie } from "../arch/riscv";
import { SIE_SEIE, IRQ_S_EXT } from "../arch/csr";
import { this_cpu } from "../cpu";
import { NR_CPUS } from "../arch/layout";
import { spinlock_t, SPINLOCK_SIZE, spin_lock_irqsave, spin_unlock_irqrestore } from "../locking/spinlock";
import { pr_info, pr_warn, pr_err } from "../printk";

export const NR_IRQS: i32 = 1024;
const PRIORITY_BASE: usize = 0;
const ENABLE_BASE: usize = 0x2000;
const ENABLE_PER_CTX: usize = 0x80;
const CONTEXT_BASE: usize = 0x20_0000;
const CONTEXT_PER_CTX: usize = 0x1000;
const CONTEXT_CLAIM: usize = 4;

let plic_base: usize = 0;
let plic_ndev: i32 = 0;
/** S-mode context of each logical CPU (-1 = none). */
const cpu_ctx: usize = memory.data(NR_CPUS * 4, 4);
/** Handler (function object) and argument of each source. */
const MAX_HANDLED: i32 = 128;
const handlers: usize = memory.data(MAX_HANDLED * 16, 8);
const plic_lock = changetype<spinlock_t>(memory.data(SPINLOCK_SIZE, 16));
/** Interrupts handled per source (statistics, like /proc/interrupts). */
const irq_counts: usize = memory.data(MAX_HANDLED * 8, 8);

/** Is the PLIC up? */
export function plic_present(): bool { return plic_base != 0; }

function ctx_of(cpu: i32): i32 { return load<i32>(cpu_ctx + <usize>(cpu * 4)); }

/**
 * Find the PLIC in the device tree, map it, and route nothing yet.
 * Returns 0, or -19 (-ENODEV) without a PLIC. Context: boot CPU, early.
 */
export function plic_init(): i32 {
  let node = of_find_compatible_node(-1, "riscv,plic0");
  if (node < 0) node = of_find_compatible_node(-1, "sifive,plic-1.0.0");
  if (node < 0) { pr_warn("plic: no PLIC in the device tree\n"); return -19; }
  const res = changetype<resource>(memory.data(16, 8));
  if (of_address_to_resource(node, 0, res) < 0) { pr_err("plic: no registers\n"); return -19; }
  plic_ndev = <i32>fdt_getprop_u32(initial_boot_params, node, "riscv,ndev", 0);
  for (let cpu = 0; cpu < NR_CPUS; cpu++) store<i32>(cpu_ctx + <usize>(cpu * 4), -1);
  let nctx = 0;
  for (let i = 0; ; i++) {
    const t = of_irq_context_target(node, i);
    if (t < 0) break;
    nctx++;
    if ((t & 0xffff) != <i32>IRQ_S_EXT) continue;
    const hart = t >> 16;
    for (let cpu = 0; cpu < nr_cpu_ids; cpu++) {
      if (cpuid_to_hartid(cpu) == hart) store<i32>(cpu_ctx + <usize>(cpu * 4), i);
    }
  }
  plic_base = early_ioremap(res.start, res.end - res.start + 1);
  if (plic_base == 0) { pr_err("plic: cannot map registers\n"); return -12; }
  for (let id = 1; id <= plic_ndev; id++) writel(0, plic_base + PRIORITY_BASE + <usize>(id * 4));
  pr_info("plic: interrupt-controller@%lx: mapped %d interrupts with %d handlers for %d contexts.\n",
    res.start, plic_ndev, nr_cpu_ids, nctx);
  return 0;
}

/** This CPU's context: threshold 0, every source disabled, SEIE on. Context: the CPU itself, interrupts off. */
export function plic_cpu_init(): void {
  if (plic_base == 0) return;
  const ctx = ctx_of(this_cpu().cpu);
  if (ctx < 0) return;
  for (let w = 0; w * 32 <= plic_ndev; w++) {
    writel(0, plic_base + ENABLE_BASE + <usize>ctx * ENABLE_PER_CTX + <usize>(w * 4));
  }
  writel(0, plic_base + CONTEXT_BASE + <usize>ctx * CONTEXT_PER_CTX);
  csrs_sie(SIE_SEIE);
}

function set_enable(ctx: i32, hwirq: i32, on: bool): void {
  const p = plic_base + ENABLE_BASE + <usize>ctx * ENABLE_PER_CTX + <usize>((hwirq >> 5) * 4);
  const m: u32 = 1 << <u32>(hwirq & 31);
  const v = readl(p);
  writel(on ? v | m : v & ~m, p);
}

/**
 * Route source `hwirq` to CPU `cpu` and call handler(hwirq, arg) for each of
 * its interrupts. Returns 0, -22 (-EINVAL) for a bad source or CPU, -16
 * (-EBUSY) when the source already has a handler, -19 without a PLIC.
 * Context: process context; takes plic_lock.
 */
export function request_irq(hwirq: i32, handler: (irq: i32, arg: u64) => void, arg: u64, cpu: i32): i32 {
  if (plic_base == 0) return -19;
  if (hwirq <= 0 || hwirq > plic_ndev || hwirq >= MAX_HANDLED || cpu < 0 || cpu >= nr_cpu_ids || ctx_of(cpu) < 0) return -22;
  const flags = spin_lock_irqsave(plic_lock);
  const h = handlers + <usize>(hwirq * 16);
  if (load<usize>(h) != 0) { spin_unlock_irqrestore(plic_lock, flags); return -16; }
  store<usize>(h, changetype<usize>(handler));
  store<u64>(h + 8, arg);
  store<u32>(h + 4, <u32>cpu);
  writel(1, plic_base + PRIORITY_BASE + <usize>(hwirq * 4));
  set_enable(ctx_of(cpu), hwirq, true);
  spin_unlock_irqrestore(plic_lock, flags);
  return 0;
}

/** Disable source `hwirq` and forget its handler. Context: process context. */
export function free_irq(hwirq: i32): void {
  if (plic_base == 0 || hwirq <= 0 || hwirq >= MAX_HANDLED) return;
  const flags = spin_lock_irqsave(plic_lock);
  const h = handlers + <usize>(hwirq * 16);
  if (load<usize>(h) != 0) {
    const cpu = <i32>load<u32>(h + 4);
    set_enable(ctx_of(cpu), hwirq, false);
    writel(0, plic_base + PRIORITY_BASE + <usize>(hwirq * 4));
    store<usize>(h, 0);
  }
  spin_unlock_irqrestore(plic_lock, flags);
}

/** Interrupts source `hwirq` has delivered. */
export function irq_count(hwirq: i32): u64 {
  return hwirq > 0 && hwirq < MAX_HANDLED ? atomic.load<u64>(irq_counts + <usize>(hwirq * 8)) : 0;
}

/** The supervisor external interrupt: claim, handle, complete, until none is left. */
export function plic_handle_irq(): void {
  const c = this_cpu();
  c.irq_ext++;
  if (plic_base == 0) return;
  const ctx = ctx_of(c.cpu);
  if (ctx < 0) return;
  const claim = plic_base + CONTEXT_BASE + <usize>ctx * CONTEXT_PER_CTX + CONTEXT_CLAIM;
  let id: u32;
  while ((id = readl(claim)) != 0) {
    const h = id < <u32>MAX_HANDLED ? handlers + <usize>(id * 16) : 0;
    if (h != 0 && load<usize>(h) != 0) {
      atomic.add<u64>(irq_counts + <usize>(id * 8), 1);
      changetype<(irq: i32, arg: u64) => void>(load<usize>(h))(<i32>id, load<u64>(h + 8));
    } else {
      c.irq_spurious++;
      pr_warn("plic: interrupt %d without a handler\n", id);
    }
    writel(id, claim);
  }
}
