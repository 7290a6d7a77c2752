/**
 * Local interrupt control: the sstatus.SIE bit of the current hart
 * (Linux arch/riscv/include/asm/irqflags.h). Context: any.
 */
import { csrr_sstatus, csrs_sstatus, csrc_sstatus, csrrc_sstatus } from "./riscv";
import { SSTATUS_SIE } from "./csr";

/** Disable interrupts on this hart; returns the previous SIE bit for local_irq_restore. */
// @ts-ignore: decorator
@inline export function local_irq_save(): u64 {
  return csrrc_sstatus(SSTATUS_SIE) & SSTATUS_SIE;
}

/** Restore the SIE bit saved by local_irq_save. */
// @ts-ignore: decorator
@inline export function local_irq_restore(flags: u64): void {
  if (flags & SSTATUS_SIE) csrs_sstatus(SSTATUS_SIE);
}

// @ts-ignore: decorator
@inline export function local_irq_enable(): void { csrs_sstatus(SSTATUS_SIE); }
// @ts-ignore: decorator
@inline export function local_irq_disable(): void { csrc_sstatus(SSTATUS_SIE); }
// @ts-ignore: decorator
@inline export function irqs_disabled(): bool { return (csrr_sstatus() & SSTATUS_SIE) == 0; }
