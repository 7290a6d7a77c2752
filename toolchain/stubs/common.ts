/**
 * What the three image kinds' stubs (bare.ts, firmware.ts, kernel.ts) share:
 * the trap frame layout, the console helpers, and the reporting of wasm
 * traps and AssemblyScript `abort`. Everything is RV64 assembly text for our
 * own assembler (toolchain/asm.ts), written as GNU as would read it.
 *
 * Trap frame (Linux's struct pt_regs order, so slot i holds x_i):
 *
 *   frame + 0     epc       (mepc / sepc: where the trap happened)
 *   frame + 8·i   x_i       for i = 1…31: ra=8 sp=16 gp=24 tp=32 t0=40 t1=48 t2=56
 *                           s0=64 s1=72 a0=80 … a7=136 s2=144 … s11=216 t3=224 … t6=248
 *   frame + 256   status    (mstatus / sstatus)
 *   frame + 264   tval      (mtval / stval)
 *   frame + 272   cause     (mcause / scause)
 *   frame + 280   reserved  (0)
 *   frame + 288   frame record: the interrupted s0   ┐ so that s0 = frame + 304 makes a
 *   frame + 296   frame record: epc                  ┘ frame-pointer unwinder walk from the
 *   frame + 304   (end, 16-byte aligned)               handler into the interrupted code
 *
 * The handler may change any slot: epc and status are written back to
 * xepc/xstatus, then x1…x31 (sp last), then mret/sret (Linux's pt_regs
 * semantics: a handler changes where the trap returns through the frame,
 * and a kernel can switch threads inside its handler). tval and cause are
 * not written back.
 */

import type { FuncType } from '../wasm/module.js';

export const FRAME_EPC = 0;
/** Offset of x_i in the frame. */
export const frameReg = (i: number): number => 8 * i;
export const FRAME_STATUS = 256;
export const FRAME_TVAL = 264;
export const FRAME_CAUSE = 272;
export const FRAME_RECORD = 288;
export const FRAME_SIZE = 304;

/** SiFive test finisher (memmap.ts VIRT_TEST_BASE) and its commands. */
export const FINISHER_PASS = 0x5555;
export const FINISHER_FAIL = 0x3333;

/** Exit codes of the stubs' failure paths. */
export const EXIT_TRAP = 3;
export const EXIT_WASM_TRAP = 4;
export const EXIT_ABORT = 5;

/** What a stub needs to know about the translated module. */
export interface StubInput {
  /** The label and wasm type of an exported function, or undefined when the module does not export it. */
  exportFunc(name: string): { label: string; type: FuncType } | undefined;
  /** Label of the wasm start function, if the module has one. */
  startLabel?: string;
  /** Harts that get a stack (hart ids 0 … maxHarts-1); others park. */
  maxHarts: number;
}

/** A region of .bss the stub needs (stacks, page tables): the linker places it. */
export interface BssReservation {
  name: string;
  size: number;
  align: number;
}

export interface StubOutput {
  /** Assembly with .text / .rodata / .data parts; `_start` is the first .text statement. */
  text: string;
  bss: BssReservation[];
  /** Labels of the stub's functions; each has a `<name>.end` label after its last byte (for st_size). */
  functions: string[];
  /** Data objects of the stub with their sizes (STT_OBJECT symbols). */
  objects: { name: string; size: number }[];
}

/** How translated code turns a wasm i32 pointer into an address (DESIGN.md §4). */
export type AddressMode = 'sext' | 'zext';

/** Assembly that turns the wasm pointer in `reg` into a 64-bit address, in place. */
export function widenPointer(reg: string, mode: AddressMode): string {
  return mode === 'sext' ? `sext.w ${reg}, ${reg}` : `slli ${reg}, ${reg}, 32\n    srli ${reg}, ${reg}, 32`;
}

/**
 * Argument fix-up before calling an exported AssemblyScript function from
 * assembly: i32 parameters are passed sign-extended (the LP64 convention for
 * 32-bit integers), i64 ones as they are.
 */
export function argFixups(type: FuncType, regs: readonly string[]): string {
  return type.params.map((p, i) => (p === 'i32' && regs[i] ? `sext.w ${regs[i]}, ${regs[i]}` : '')).filter(Boolean).join('\n    ');
}

/** Check that an export has the parameter types a stub passes it. */
export function checkSignature(name: string, got: FuncType, params: readonly ('i32' | 'i64')[][], what: string): void {
  const ok = got.params.length === params.length && got.params.every((p, i) => params[i]!.includes(p as 'i32' | 'i64'));
  if (!ok) {
    throw new StubError(`export ${name} has type (${got.params.join(', ')}) -> (${got.results.join(', ')}); ${what}`);
  }
}

/** A module that does not fit a kind's stub (missing or mistyped exports). */
export class StubError extends Error {
  override readonly name = 'StubError';
}

/** How a kind's console writes one byte. */
export type ConsoleKind = 'uart' | 'sbi';

/** UART0 (ns16550a, memmap.ts VIRT_UART0_BASE): THR at +0, LSR at +5, LSR.THRE = bit 5. */
const UART0 = 0x1000_0000;

/**
 * Console helpers, callable with the standard calling convention (they
 * clobber only caller-saved registers):
 *
 *   __con_putc(a0 = byte)                 one byte (UART THR after LSR.THRE, or SBI legacy putchar)
 *   __con_puts(a0 = address)              a NUL-terminated ASCII string
 *   __con_puthex(a0 = value)              "0x" and 16 hex digits
 *   __con_putdec(a0 = value)              unsigned decimal
 *   __con_putwstr(a0 = address or 0)      an AssemblyScript string (UTF-16LE, byte length at -4),
 *                                         at most 1024 bytes, non-ASCII as '?', 0 as "(null)"
 */
export function consoleAsm(kind: ConsoleKind): string {
  const putc = kind === 'uart'
    ? `    li t0, ${UART0}
1:  lbu t1, 5(t0)                 # LSR
    andi t1, t1, 0x20             # THRE: the transmitter holding register is empty
    beqz t1, 1b
    sb a0, 0(t0)                  # THR
    ret`
    : `    li a7, 1                      # SBI legacy console_putchar (EID 0x01), a0 = byte
    ecall
    ret`;
  return `
    .text
    .balign 4
__con_putc:
${putc}
__con_putc.end:

__con_puts:
    addi sp, sp, -16
    sd ra, 8(sp)
    sd s1, 0(sp)
    mv s1, a0
1:  lbu a0, 0(s1)
    beqz a0, 2f
    call __con_putc
    addi s1, s1, 1
    j 1b
2:  ld s1, 0(sp)
    ld ra, 8(sp)
    addi sp, sp, 16
    ret
__con_puts.end:

__con_puthex:
    addi sp, sp, -32
    sd ra, 24(sp)
    sd s1, 16(sp)
    sd s2, 8(sp)
    mv s1, a0
    li a0, '0'
    call __con_putc
    li a0, 'x'
    call __con_putc
    li s2, 60                     # shift of the next nibble
1:  srl a0, s1, s2
    andi a0, a0, 15
    li t0, 10
    blt a0, t0, 2f
    addi a0, a0, 'a' - 10 - '0'
2:  addi a0, a0, '0'
    call __con_putc
    addi s2, s2, -4
    bgez s2, 1b
    ld s2, 8(sp)
    ld s1, 16(sp)
    ld ra, 24(sp)
    addi sp, sp, 32
    ret
__con_puthex.end:

__con_putdec:
    addi sp, sp, -64
    sd ra, 56(sp)
    sd s1, 48(sp)
    sd s2, 40(sp)
    mv s1, a0
    addi s2, sp, 32               # digits are written backwards into sp[0, 32)
    li t1, 10
1:  remu t0, s1, t1
    divu s1, s1, t1
    addi t0, t0, '0'
    addi s2, s2, -1
    sb t0, 0(s2)
    bnez s1, 1b
2:  lbu a0, 0(s2)
    call __con_putc
    addi s2, s2, 1
    addi t0, sp, 32
    bltu s2, t0, 2b
    ld s2, 40(sp)
    ld s1, 48(sp)
    ld ra, 56(sp)
    addi sp, sp, 64
    ret
__con_putdec.end:

__con_putwstr:
    addi sp, sp, -32
    sd ra, 24(sp)
    sd s1, 16(sp)
    sd s2, 8(sp)
    bnez a0, 1f
    la a0, __str_null
    call __con_puts
    j 9f
1:  mv s1, a0
    lwu s2, -4(s1)                # byte length (the runtime header's rtSize)
    li t0, 1024
    bleu s2, t0, 2f
    mv s2, t0
2:  add s2, s1, s2                # end
3:  bgeu s1, s2, 9f
    lhu a0, 0(s1)
    li t0, 0x80
    bltu a0, t0, 4f
    li a0, '?'
4:  call __con_putc
    addi s1, s1, 2
    j 3b
9:  ld s2, 8(sp)
    ld s1, 16(sp)
    ld ra, 24(sp)
    addi sp, sp, 32
    ret
__con_putwstr.end:

    .section .rodata
__str_null: .asciz "(null)"
`;
}

export const CONSOLE_FUNCTIONS = ['__con_putc', '__con_puts', '__con_puthex', '__con_putdec', '__con_putwstr'];

export interface ReportOptions {
  mode: AddressMode;
  /** Label of the failure path: a0 = exit code, never returns. */
  fail: string;
  /** Assembly run first in both handlers (e.g. switch to a safe stack); '' for none. */
  prologue: string;
  /** Exported AssemblyScript hooks that take over when the module defines them. */
  abortHook?: { label: string };
  trapHook?: { label: string };
}

/**
 * `__wasm_trap(a0 = address of a NUL-terminated reason)` prints
 * "wasm trap: <reason>" and fails with EXIT_WASM_TRAP;
 * `__wasm_abort(a0 = message, a1 = file, a2 = line, a3 = column)` (asc's
 * `abort`, pointers as wasm i32) prints "abort: <message> at <file>:<line>:<column>"
 * and fails with EXIT_ABORT. A hook, when given, is tail-called instead with
 * the same arguments (the reason pointer sign-extended like an i32).
 */
export function reportAsm(o: ReportOptions): string {
  const trap = o.trapHook
    ? `    sext.w a0, a0
    tail ${o.trapHook.label}`
    : `${o.prologue}
    mv s1, a0
    la a0, __str_wasm_trap
    call __con_puts
    mv a0, s1
    call __con_puts
    li a0, '\\n'
    call __con_putc
    li a0, ${EXIT_WASM_TRAP}
    j ${o.fail}`;
  const abort = o.abortHook
    ? `    tail ${o.abortHook.label}`
    : `${o.prologue}
    mv s1, a0
    mv s2, a1
    mv s3, a2
    mv s4, a3
    la a0, __str_abort
    call __con_puts
    mv a0, s1
    ${widenPointer('a0', o.mode)}
    call __con_putwstr
    la a0, __str_at
    call __con_puts
    mv a0, s2
    ${widenPointer('a0', o.mode)}
    call __con_putwstr
    li a0, ':'
    call __con_putc
    slli a0, s3, 32
    srli a0, a0, 32
    call __con_putdec
    li a0, ':'
    call __con_putc
    slli a0, s4, 32
    srli a0, a0, 32
    call __con_putdec
    li a0, '\\n'
    call __con_putc
    li a0, ${EXIT_ABORT}
    j ${o.fail}`;
  return `
    .text
    .balign 4
__wasm_trap:
${trap}
__wasm_trap.end:

__wasm_abort:
${abort}
__wasm_abort.end:

    .section .rodata
__str_wasm_trap: .asciz "wasm trap: "
__str_abort: .asciz "abort: "
__str_at: .asciz " at "
`;
}

export const REPORT_FUNCTIONS = ['__wasm_trap', '__wasm_abort'];

/** `sd x_i, off(base)` for every register in `regs` (numbers). */
export function storeRegs(regs: readonly number[], base: string): string {
  return regs.map((i) => `sd x${i}, ${frameReg(i)}(${base})`).join('\n    ');
}

export function loadRegs(regs: readonly number[], base: string): string {
  return regs.map((i) => `ld x${i}, ${frameReg(i)}(${base})`).join('\n    ');
}

/** 1 … 31 without the listed registers. */
export function regsExcept(...skip: number[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < 32; i++) if (!skip.includes(i)) out.push(i);
  return out;
}
