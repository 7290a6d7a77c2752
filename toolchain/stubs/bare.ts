/**
 * The 'bare' image kind: an AssemblyScript program run directly in M-mode
 * with no firmware (`kmemlab run --bios none --kernel x.elf`,
 * `qemu-system-riscv64 -M virt -bios none -kernel x.elf`). Tests and the
 * differential harness use it.
 *
 *   _start (every hart, a0 = mhartid, a1 = DTB)
 *     hart ≠ 0 → WFI forever
 *     hart 0:  mtvec → __bare_trap, sp → top of __bare_stack, s0 = ra = 0
 *              call the wasm start function (if any), then the export `entryExport`
 *              __result ← its result (i32 sign-extended, i64 as is)
 *              power off: tohost ← 1, finisher ← 0x5555 (exit 0)
 *
 *   __bare_fail(a0 = code): tohost ← code<<1 | 1 (HTIF: kmemlab, Spike), then
 *     finisher ← 0x3333 | code<<16 (QEMU virt, kmemlab without HTIF)
 *
 *   failures: an M-mode trap prints "trap: mcause=… mepc=… mtval=…" → exit 3;
 *   __wasm_trap prints "wasm trap: <reason>" → exit 4; __wasm_abort prints
 *   "abort: <message> at <file>:<line>:<column>" → exit 5. The reports run on
 *   their own stack (__bare_trap_stack), so a smashed sp still gets a message.
 */

import { VIRT_TEST_BASE } from '../../emulator/machine/memmap.js';
import {
  CONSOLE_FUNCTIONS, EXIT_TRAP, FINISHER_FAIL, FINISHER_PASS, REPORT_FUNCTIONS, StubError, argFixups,
  consoleAsm, reportAsm, type StubInput, type StubOutput,
} from './common.js';

/** Stack of hart 0 (in .bss). */
export const BARE_STACK_SIZE = 1 << 20;
/** Stack the failure reports switch to. */
export const BARE_TRAP_STACK_SIZE = 4096;

export function bareStub(input: StubInput, entryExport = 'main'): StubOutput {
  const entry = input.exportFunc(entryExport);
  if (!entry) throw new StubError(`the module exports no function '${entryExport}' (the bare image's entry point)`);
  if (entry.type.params.length !== 0) {
    throw new StubError(`export ${entryExport} takes ${entry.type.params.length} parameter(s); a bare image's entry takes none`);
  }
  const result = entry.type.results[0];
  const keep = result === 'i32' ? 'sext.w a0, a0' : result === 'i64' ? '' : 'li a0, 0';
  const start = input.startLabel ? `call ${input.startLabel}             # the wasm start function` : '';
  const text = `
    .text
# --- entry: every hart comes here from the reset vector -----------------------------------
_start:
    csrr t0, mhartid
    bnez t0, __bare_park
    la t0, __bare_trap
    csrw mtvec, t0
    la sp, __bare_stack + ${BARE_STACK_SIZE}
    li s0, 0                      # end of the frame chain
    li ra, 0
    ${start}
    ${argFixups(entry.type, [])}
    call ${entry.label}           # export '${entryExport}'
    ${keep}
    la t0, __result
    sd a0, 0(t0)
    la t0, tohost
    li t1, 1                      # HTIF: exit code 0
    sd t1, 0(t0)
    li t0, ${VIRT_TEST_BASE}
    li t1, ${FINISHER_PASS}
    sw t1, 0(t0)
    j __bare_park
_start.end:

__bare_park:
    wfi
    j __bare_park
__bare_park.end:

# a0 = exit code (1 … 0xffff); never returns.
__bare_fail:
    slli t1, a0, 1
    ori t1, t1, 1
    la t0, tohost
    sd t1, 0(t0)
    slli t1, a0, 16
    li t0, ${FINISHER_FAIL}
    or t1, t1, t0
    li t0, ${VIRT_TEST_BASE}
    sw t1, 0(t0)
    j __bare_park
__bare_fail.end:

# mtvec (direct mode): report the trap and fail.
    .balign 4
__bare_trap:
    la sp, __bare_trap_stack + ${BARE_TRAP_STACK_SIZE}
    la a0, __str_mcause
    call __con_puts
    csrr a0, mcause
    call __con_puthex
    la a0, __str_mepc
    call __con_puts
    csrr a0, mepc
    call __con_puthex
    la a0, __str_mtval
    call __con_puts
    csrr a0, mtval
    call __con_puthex
    li a0, '\\n'
    call __con_putc
    li a0, ${EXIT_TRAP}
    j __bare_fail
__bare_trap.end:

    .section .rodata
__str_mcause: .asciz "trap: mcause="
__str_mepc: .asciz " mepc="
__str_mtval: .asciz " mtval="

    .data
    .balign 64
# HTIF mailbox (riscv-fesvr): kmemlab and Spike end the run when tohost is written.
tohost: .dword 0
fromhost: .dword 0
# The entry export's result, for tests that read memory after the run.
__result: .dword 0
${consoleAsm('uart')}
${reportAsm({ mode: 'zext', fail: '__bare_fail', prologue: `    la sp, __bare_trap_stack + ${BARE_TRAP_STACK_SIZE}` })}
`;
  return {
    text,
    bss: [
      { name: '__bare_stack', size: BARE_STACK_SIZE, align: 16 },
      { name: '__bare_trap_stack', size: BARE_TRAP_STACK_SIZE, align: 16 },
    ],
    functions: ['_start', '__bare_park', '__bare_fail', '__bare_trap', ...CONSOLE_FUNCTIONS, ...REPORT_FUNCTIONS],
    objects: [{ name: 'tohost', size: 8 }, { name: 'fromhost', size: 8 }, { name: '__result', size: 8 }],
  };
}
