/**
 * The RISC-V instructions the firmware needs and AssemblyScript cannot say:
 * the toolchain's declarations (toolchain/as/riscv.ts, imports from module
 * "riscv" that the translator inlines), taken from this one place so that
 * every firmware file imports "./riscv".
 *
 * Used here: csrr_/csrw_/csrs_/csrc_ of the M-mode trap and setup CSRs, the
 * PMP and the S-mode CSRs of a redirect; fence, fence_i, wfi, sfence_vma
 * (a constant 0 argument is x0: all addresses / all ASIDs), sfence_vma_all,
 * and ecall (fw_main's way into fw_trap).
 */
export * from "../toolchain/as/riscv";
