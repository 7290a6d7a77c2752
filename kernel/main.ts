/**
 * The kernel image's entry file (asconfig.json target "kernel"): the
 * exports the toolchain's entry stub calls. The bring-up itself is
 * kernel/init/main.ts.
 *
 *   kernel_main(hartid, dtb)           the boot hart
 *   kernel_secondary(hartid, opaque)   harts started through SBI HSM
 *   kernel_trap(frame)                 every trap (stvec)
 *   kernel_abort / kernel_wasm_trap    asc's abort and wasm traps: a panic
 */
export { kernel_main, kernel_secondary, kernel_trap, kernel_abort, kernel_wasm_trap } from "./init/main";
