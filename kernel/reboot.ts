/**
 * Power off and restart (Linux kernel/reboot.c, arch/riscv/kernel/reset.c):
 * through SBI SRST, which both firmwares turn into a write to the SiFive
 * test finisher (OpenSBI 1.1 too: reason "system failure" gives
 * FINISHER_FAIL | 1 << 16, exit code 1 on kmemlab and QEMU).
 *
 * Context: any; interrupts are disabled and the call never returns.
 */
import { sbi_system_reset, SBI_SRST_RESET_TYPE_SHUTDOWN, SBI_SRST_RESET_REASON_NONE, SBI_SRST_RESET_REASON_SYS_FAILURE } from "./arch/sbi";
import { local_irq_disable } from "./arch/irqflags";
import { wfi } from "./arch/riscv";
import { pr_emerg } from "./printk";

/** Stop this hart for good: interrupts off, WFI forever. */
export function machine_halt(): void {
  local_irq_disable();
  while (true) wfi();
}

/**
 * Power the machine off. `failure` = true reports a failed run (non-zero
 * exit code on kmemlab and QEMU). Never returns.
 */
export function machine_power_off(failure: bool): void {
  local_irq_disable();
  sbi_system_reset(SBI_SRST_RESET_TYPE_SHUTDOWN, failure ? SBI_SRST_RESET_REASON_SYS_FAILURE : SBI_SRST_RESET_REASON_NONE);
  pr_emerg("reboot: the firmware refused to power off; halting\n");
  machine_halt();
}
