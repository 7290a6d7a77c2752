/**
 * The RISC-V instructions AssemblyScript cannot express, as the kernel sees them.
 *
 * Every kernel file takes its intrinsics from here and nowhere else. They are
 * the toolchain's declarations (toolchain/as/riscv.ts, generated from the CSR
 * table: imports from module "riscv" that the translator inlines), plus the
 * few shapes the code generator accepts that that file does not declare.
 *
 * Notes for users: ecall returns a0 as u64 and ecall_a1() the a1 of the
 * latest ecall *of the same function* (cast to i64 for SBI errors); tp holds
 * this CPU's per-CPU offset (cpu.ts).
 */
export * from "../../toolchain/as/riscv";

/** csrrc sstatus: clear bits, return the old value (local_irq_save in one instruction). */
// @ts-ignore: decorator
@external("riscv", "csrrc_sstatus") export declare function csrrc_sstatus(v: u64): u64;
