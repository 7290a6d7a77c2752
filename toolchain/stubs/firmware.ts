/**
 * The 'firmware' image kind: M-mode, zero-extended addressing, loaded at the
 * start of DRAM (0x8000_0000) and kept under 2 MiB (the kernel starts at
 * 0x8020_0000).
 *
 *   _start (every hart, from the reset vector; a0 = mhartid, a1 = DTB)
 *     mie ← 0; hart id ≥ maxHarts → WFI forever
 *     sp ← top of the hart's stack, minus a 64-byte scratch area;
 *     mscratch ← that scratch area (the trap entry finds the hart's stack there)
 *     mtvec ← __fw_trap_entry (direct mode); s0 = ra = 0
 *     the first hart to get here runs the wasm start function (if any), the others wait for it
 *     call fw_main(hartid, dtb)        (i32 arguments sign-extended)
 *     fw_main returned → WFI forever
 *
 *   per hart h:   __fw_stacks + h·FW_STACK_SIZE ┌────────────────────────────┐
 *                                               │ stack (grows down)         │
 *                 top − 64 = sp₀ = mscratch →   ├────────────────────────────┤
 *                                               │ scratch: +0 tmp, +8 hartid │
 *                 __fw_stacks + (h+1)·SIZE      └────────────────────────────┘
 *
 *   __fw_trap_entry: a trap from S/U-mode builds its frame just below the
 *   scratch area (the M stack is idle while the hart runs below M); a trap
 *   from M-mode (an ecall or fault inside the firmware) builds it below the
 *   current sp. It saves every register, mepc, mstatus, mtval and mcause
 *   (layout in common.ts), calls fw_trap(frame), writes everything back from
 *   the frame (mepc and mstatus too, then the registers, sp last) and
 *   executes mret. So a handler changes where and how the trap returns by
 *   changing the frame, never the CSRs mepc/mstatus (to start a hart in
 *   S-mode: frame epc = entry, frame status.MPP = S, frame a0/a1). fw_main
 *   leaves M-mode the same way: it executes `ecall` (cause 11 from M) and
 *   fw_trap rewrites the frame.
 *
 *   __wasm_trap / __wasm_abort print on the UART and power off with exit code
 *   4 / 5, unless the module exports fw_wasm_trap(reason: usize) /
 *   fw_abort(message, file, line, column), which are then called instead.
 */

import { VIRT_TEST_BASE } from '../../emulator/machine/memmap.js';
import {
  CONSOLE_FUNCTIONS, FINISHER_FAIL, FRAME_CAUSE, FRAME_EPC, FRAME_RECORD, FRAME_SIZE, FRAME_STATUS, FRAME_TVAL,
  REPORT_FUNCTIONS, StubError, argFixups, checkSignature, consoleAsm, frameReg, loadRegs, regsExcept, reportAsm,
  storeRegs, type StubInput, type StubOutput,
} from './common.js';

/** Stack per hart (as OpenSBI's default hart stack). */
export const FW_STACK_SIZE = 8192;
/** The scratch area at the top of each hart's stack (mscratch points at it). */
export const FW_SCRATCH_SIZE = 64;

export function firmwareStub(input: StubInput): StubOutput {
  const main = input.exportFunc('fw_main');
  const trap = input.exportFunc('fw_trap');
  if (!main) throw new StubError("the firmware exports no function 'fw_main'; write `export function fw_main(hartid: u32, dtb: usize): void`");
  if (!trap) throw new StubError("the firmware exports no function 'fw_trap'; write `export function fw_trap(frame: usize): void`");
  checkSignature('fw_main', main.type, [['i32', 'i64'], ['i32', 'i64']], 'expected fw_main(hartid: u32, dtb: usize)');
  checkSignature('fw_trap', trap.type, [['i32', 'i64']], 'expected fw_trap(frame: usize)');
  const abortHook = input.exportFunc('fw_abort');
  const trapHook = input.exportFunc('fw_wasm_trap');
  if (abortHook) checkSignature('fw_abort', abortHook.type, [['i32'], ['i32'], ['i32'], ['i32']], 'expected fw_abort(message: usize, file: usize, line: u32, column: u32)');
  if (trapHook) checkSignature('fw_wasm_trap', trapHook.type, [['i32', 'i64']], 'expected fw_wasm_trap(reason: usize)');
  // The wasm start function initialises globals: the first hart runs it, the others wait for it.
  const start = input.startLabel ? `la t0, __fw_start_lottery
    li t1, 1
    amoadd.w t1, t1, (t0)
    la t0, __fw_start_done
    bnez t1, 3f
    call ${input.startLabel}             # the wasm start function
    la t0, __fw_start_done
    li t1, 1
    fence rw, w
    sw t1, 0(t0)
3:  lw t1, 0(t0)
    beqz t1, 3b
    fence r, rw` : '';
  // The trap entry saves everything but sp (saved from the scratch path) and t0, tp (saved by hand).
  const rest = regsExcept(2, 4, 5);
  const text = `
    .text
# --- entry: every hart, from the reset vector (a0 = mhartid, a1 = DTB) ---------------------
_start:
    csrw mie, zero
    csrr a0, mhartid
    li t0, ${input.maxHarts}
    bgeu a0, t0, __fw_park
    la sp, __fw_stacks
    addi t0, a0, 1
    li t1, ${FW_STACK_SIZE}
    mul t0, t0, t1
    add sp, sp, t0
    addi sp, sp, -${FW_SCRATCH_SIZE}
    sd zero, 0(sp)                # scratch.tmp
    sd a0, 8(sp)                  # scratch.hartid
    csrw mscratch, sp
    la t0, __fw_trap_entry
    csrw mtvec, t0
    li s0, 0                      # end of the frame chain
    li ra, 0
    mv s1, a0
    mv s2, a1
    ${start}
    mv a0, s1
    mv a1, s2
    ${argFixups(main.type, ['a0', 'a1'])}
    call ${main.label}            # fw_main(hartid, dtb)
__fw_park:
    wfi
    j __fw_park
_start.end:

# a0 = exit code: power off through the test finisher with a failure.
__fw_fail:
    slli t1, a0, 16
    li t0, ${FINISHER_FAIL}
    or t1, t1, t0
    li t0, ${VIRT_TEST_BASE}
    sw t1, 0(t0)
    j __fw_park
__fw_fail.end:

# --- mtvec (direct mode) ---------------------------------------------------------------------
    .balign 4
__fw_trap_entry:
    csrrw tp, mscratch, tp        # tp = this hart's scratch area
    sd t0, 0(tp)                  # scratch.tmp = t0
    csrr t0, mstatus
    srli t0, t0, 11
    andi t0, t0, 3                # MPP
    addi t0, t0, -3
    beqz t0, 1f
    mv t0, tp                     # from S/U: the frame goes below the scratch area
    j 2f
1:  mv t0, sp                     # from M: below the current sp
2:  addi t0, t0, -${FRAME_SIZE}
    sd sp, ${frameReg(2)}(t0)     # the interrupted sp
    mv sp, t0
    ld t0, 0(tp)
    sd t0, ${frameReg(5)}(sp)     # t0
    csrrw tp, mscratch, tp        # tp back, mscratch = scratch again
    sd tp, ${frameReg(4)}(sp)
    ${storeRegs(rest, 'sp')}
    csrr t0, mepc
    sd t0, ${FRAME_EPC}(sp)
    csrr t0, mstatus
    sd t0, ${FRAME_STATUS}(sp)
    csrr t0, mtval
    sd t0, ${FRAME_TVAL}(sp)
    csrr t0, mcause
    sd t0, ${FRAME_CAUSE}(sp)
    sd zero, ${FRAME_CAUSE + 8}(sp)
    sd s0, ${FRAME_RECORD}(sp)    # frame record: the interrupted s0 and pc
    ld t0, ${FRAME_EPC}(sp)
    sd t0, ${FRAME_RECORD + 8}(sp)
    addi s0, sp, ${FRAME_SIZE}
    mv a0, sp
    ${argFixups(trap.type, ['a0'])}
    call ${trap.label}            # fw_trap(frame)
    ld t0, ${FRAME_EPC}(sp)
    csrw mepc, t0
    ld t0, ${FRAME_STATUS}(sp)
    csrw mstatus, t0
    ${loadRegs(regsExcept(2), 'sp')}
    ld sp, ${frameReg(2)}(sp)
    mret
__fw_trap_entry.end:

    .data
    .balign 8
__fw_start_lottery: .word 0
__fw_start_done: .word 0
${consoleAsm('uart')}
${reportAsm({
  mode: 'zext', fail: '__fw_fail', prologue: '',
  abortHook: abortHook ? { label: abortHook.label } : undefined,
  trapHook: trapHook ? { label: trapHook.label } : undefined,
})}
`;
  return {
    text,
    bss: [{ name: '__fw_stacks', size: FW_STACK_SIZE * input.maxHarts, align: 16 }],
    functions: ['_start', '__fw_fail', '__fw_trap_entry', ...CONSOLE_FUNCTIONS, ...REPORT_FUNCTIONS],
    objects: [{ name: '__fw_start_lottery', size: 4 }, { name: '__fw_start_done', size: 4 }],
  };
}
