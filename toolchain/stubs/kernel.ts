/**
 * The 'kernel' image kind: S-mode, sign-extended addressing, loaded at
 * physical 0x8020_0000 (KERNEL_LOAD_ADDR) and linked at virtual
 * 0xFFFF_FFFF_8020_0000, inside the linear map VA = sext32(PA) of DESIGN.md §5.
 *
 *   _start (physical address, MMU off; a0 = hartid, a1 = DTB or, for a hart
 *   started through SBI HSM, its opaque value)
 *     sie ← 0
 *     the first hart in (amoadd lottery) is the boot hart: it zeroes
 *     early_pg_dir (4 KiB, .bss) and writes two 1 GiB leaves, both → PA 0x8000_0000,
 *     V R W X G A D:
 *         [2]   VA 0x0000_0000_8000_0000  identity, only for the jump
 *         [510] VA 0xFFFF_FFFF_8000_0000  the linear map (PAGE_OFFSET)
 *     then sets __boot_ready; later harts wait for it
 *     satp ← Sv39 | early_pg_dir, sfence.vma, jump to the virtual address
 *   (virtual from here on)
 *     hart id ≥ maxHarts → WFI forever
 *     sp ← top of the hart's boot stack (__kernel_stacks + (hartid+1)·KERNEL_STACK_SIZE)
 *     tp ← hartid; stvec ← __kernel_trap_entry (direct); sscratch ← 0; s0 = ra = 0
 *     boot hart:   the wasm start function (if any), then kernel_main(hartid, dtb)
 *     other harts: kernel_secondary(hartid, opaque) if exported, else WFI forever
 *     (i32 arguments sign-extended: a dtb: usize below 4 GiB becomes its
 *      linear-map address; declare it u64 to get the physical address)
 *     a return from kernel_main / kernel_secondary → SBI SRST shutdown
 *     (reason "system failure" when the result is non-zero)
 *
 * The early table stays in use by harts that arrive later (HSM): keep
 * early_pg_dir's two entries until every hart has switched to the kernel's
 * own table. _start is the image's first byte, so its physical address is
 * KERNEL_LOAD_ADDR (what sbi_hart_start needs).
 *
 * __kernel_trap_entry (stvec): sscratch = 0 while the hart runs in S-mode;
 * a trap from S-mode builds its frame below the current sp. Before an sret
 * to U-mode the handler's return path puts the kernel stack top (frame end)
 * into sscratch, so a trap from U-mode switches to it. The frame (common.ts)
 * holds every register, sepc, sstatus, stval, scause; kernel_trap(frame) may
 * rewrite any of them; they are written back (sepc and sstatus too), then sret.
 *
 * __wasm_trap / __wasm_abort print through SBI (legacy console_putchar) and
 * shut down through SBI SRST, unless the module exports
 * kernel_wasm_trap(reason: usize) / kernel_abort(message, file, line, column),
 * which are then called instead (a kernel panic with a backtrace, say).
 */

import {
  CONSOLE_FUNCTIONS, FRAME_CAUSE, FRAME_EPC, FRAME_RECORD, FRAME_SIZE, FRAME_STATUS, FRAME_TVAL, REPORT_FUNCTIONS,
  StubError, argFixups, checkSignature, consoleAsm, frameReg, loadRegs, regsExcept, reportAsm, storeRegs,
  type StubInput, type StubOutput,
} from './common.js';

/** Boot stack per hart (as Linux's THREAD_SIZE on RV64). */
export const KERNEL_STACK_SIZE = 16384;
/** Virtual − physical for the kernel image and the linear map. */
export const KERNEL_VA_OFFSET = 0xffff_ffff_0000_0000n;

/** Sv39 PTE bits (privileged spec 4.4.1). */
const PTE_V = 1 << 0;
const PTE_R = 1 << 1;
const PTE_W = 1 << 2;
const PTE_X = 1 << 3;
const PTE_G = 1 << 5;
const PTE_A = 1 << 6;
const PTE_D = 1 << 7;
/** satp.MODE = Sv39 (privileged spec 4.1.11). */
const SATP_MODE_SV39 = 8n << 60n;
/** A 1 GiB leaf for PA 0x8000_0000: PPN = PA >> 12 in bits 53:10. */
const GIGA_PTE = ((0x8000_0000 >>> 12) * 1024) | PTE_V | PTE_R | PTE_W | PTE_X | PTE_G | PTE_A | PTE_D;
/** VPN[2] of the identity VA 0x8000_0000 and of the linear map VA 0xFFFF_FFFF_8000_0000. */
const IDENTITY_SLOT = 2;
const LINEAR_SLOT = 510;

/** SBI (SBI spec 2.0): SRST extension, system_reset(type = shutdown, reason). */
const SBI_EXT_SRST = 0x5352_5354;
const SBI_EXT_LEGACY_SHUTDOWN = 0x08;

export function kernelStub(input: StubInput): StubOutput {
  const main = input.exportFunc('kernel_main');
  const trap = input.exportFunc('kernel_trap');
  if (!main) throw new StubError("the kernel exports no function 'kernel_main'; write `export function kernel_main(hartid: u32, dtb: usize): i32`");
  if (!trap) throw new StubError("the kernel exports no function 'kernel_trap'; write `export function kernel_trap(frame: usize): void`");
  checkSignature('kernel_main', main.type, [['i32', 'i64'], ['i32', 'i64']], 'expected kernel_main(hartid: u32, dtb: usize)');
  checkSignature('kernel_trap', trap.type, [['i32', 'i64']], 'expected kernel_trap(frame: usize)');
  const secondary = input.exportFunc('kernel_secondary');
  if (secondary) checkSignature('kernel_secondary', secondary.type, [['i32', 'i64'], ['i32', 'i64']], 'expected kernel_secondary(hartid: u32, opaque: usize)');
  const abortHook = input.exportFunc('kernel_abort');
  const trapHook = input.exportFunc('kernel_wasm_trap');
  if (abortHook) checkSignature('kernel_abort', abortHook.type, [['i32'], ['i32'], ['i32'], ['i32']], 'expected kernel_abort(message: usize, file: usize, line: u32, column: u32)');
  if (trapHook) checkSignature('kernel_wasm_trap', trapHook.type, [['i32', 'i64']], 'expected kernel_wasm_trap(reason: usize)');
  const keep = (t: { results: string[] }): string => (t.results[0] === 'i32' ? 'sext.w a0, a0' : t.results.length ? '' : 'li a0, 0');
  const secondaryCall = secondary
    ? `${argFixups(secondary.type, ['a0', 'a1'])}
    call ${secondary.label}       # kernel_secondary(hartid, opaque)
    ${keep(secondary.type)}
    j __kernel_shutdown`
    : 'j __kernel_park';
  const text = `
    .text
# --- entry, at the physical address with the MMU off ----------------------------------------
_start:
    csrw sie, zero
    la t0, __boot_lottery         # pc-relative: physical while the MMU is off
    li s2, 1
    amoadd.w s2, s2, (t0)         # s2 = 0 on the boot hart
    bnez s2, 2f
    la t0, early_pg_dir
    li t1, 512
1:  sd zero, 0(t0)
    addi t0, t0, 8
    addi t1, t1, -1
    bnez t1, 1b
    la t0, early_pg_dir
    li t1, ${GIGA_PTE}
    sd t1, ${8 * IDENTITY_SLOT}(t0)     # VA 0x8000_0000 → PA 0x8000_0000 (the jump)
    addi t0, t0, 2040
    sd t1, ${8 * LINEAR_SLOT - 2040}(t0)  # VA 0xFFFF_FFFF_8000_0000 → PA 0x8000_0000
    la t0, __boot_ready
    li t1, 1
    fence rw, w
    sw t1, 0(t0)
    j 3f
2:  la t0, __boot_ready           # a later hart: the table must be ready
    lw t1, 0(t0)
    beqz t1, 2b
    fence r, rw
3:  la t0, early_pg_dir
    srli t0, t0, 12
    li t1, ${SATP_MODE_SV39}
    or t0, t0, t1
    sfence.vma
    csrw satp, t0
    sfence.vma
    la t0, 4f
    li t1, ${KERNEL_VA_OFFSET}
    add t0, t0, t1
    jr t0                         # to the same code at its virtual address
4:  li t0, ${input.maxHarts}
    bgeu a0, t0, __kernel_park
    la sp, __kernel_stacks
    addi t0, a0, 1
    li t1, ${KERNEL_STACK_SIZE}
    mul t0, t0, t1
    add sp, sp, t0
    mv tp, a0                     # the hart id, until per-CPU areas exist
    la t0, __kernel_trap_entry
    csrw stvec, t0
    csrw sscratch, zero
    li s0, 0                      # end of the frame chain
    li ra, 0
    bnez s2, 5f
    mv s1, a0
    mv s2, a1
    ${input.startLabel ? `call ${input.startLabel}             # the wasm start function` : ''}
    mv a0, s1
    mv a1, s2
    ${argFixups(main.type, ['a0', 'a1'])}
    call ${main.label}            # kernel_main(hartid, dtb)
    ${keep(main.type)}
    j __kernel_shutdown
5:  ${secondaryCall}
_start.end:

__kernel_park:
    wfi
    j __kernel_park
__kernel_park.end:

# a0 = status: SBI SRST shutdown, reason "system failure" (1) when a0 ≠ 0.
__kernel_shutdown:
    snez a1, a0
    li a0, 0                      # SBI_SRST_RESET_TYPE_SHUTDOWN
    li a6, 0                      # FID 0: system_reset
    li a7, ${SBI_EXT_SRST}
    ecall
    li a7, ${SBI_EXT_LEGACY_SHUTDOWN}
    ecall
    j __kernel_park
__kernel_shutdown.end:

# --- stvec (direct mode) ---------------------------------------------------------------------
    .balign 4
__kernel_trap_entry:
    csrrw sp, sscratch, sp        # sscratch = 0 ⇔ the trap comes from S-mode
    bnez sp, 1f                   # from U: sp = the kernel stack top
    csrrw sp, sscratch, sp        # from S: back to the kernel sp, sscratch = 0
1:  addi sp, sp, -${FRAME_SIZE}
    sd t0, ${frameReg(5)}(sp)
    csrrw t0, sscratch, zero      # the user sp, or 0 from S-mode; sscratch = 0 in the kernel
    bnez t0, 2f
    addi t0, sp, ${FRAME_SIZE}    # from S: the interrupted sp is the frame's end
2:  sd t0, ${frameReg(2)}(sp)
    ${storeRegs(regsExcept(2, 5), 'sp')}
    csrr t0, sepc
    sd t0, ${FRAME_EPC}(sp)
    csrr t0, sstatus
    sd t0, ${FRAME_STATUS}(sp)
    csrr t0, stval
    sd t0, ${FRAME_TVAL}(sp)
    csrr t0, scause
    sd t0, ${FRAME_CAUSE}(sp)
    sd zero, ${FRAME_CAUSE + 8}(sp)
    sd s0, ${FRAME_RECORD}(sp)    # frame record: the interrupted s0 and pc
    ld t0, ${FRAME_EPC}(sp)
    sd t0, ${FRAME_RECORD + 8}(sp)
    addi s0, sp, ${FRAME_SIZE}
    mv a0, sp
    ${argFixups(trap.type, ['a0'])}
    call ${trap.label}            # kernel_trap(frame)
    ld t0, ${FRAME_EPC}(sp)
    csrw sepc, t0
    ld t0, ${FRAME_STATUS}(sp)
    csrw sstatus, t0
    andi t0, t0, 0x100            # SPP: 0 = returning to U-mode
    bnez t0, 3f
    addi t0, sp, ${FRAME_SIZE}
    csrw sscratch, t0             # the kernel stack for the next trap from U-mode
3:  ${loadRegs(regsExcept(2), 'sp')}
    ld sp, ${frameReg(2)}(sp)
    sret
__kernel_trap_entry.end:

# a0 = exit code (unused by SBI): shut down with a failure.
__kernel_fail:
    li a0, 1
    j __kernel_shutdown
__kernel_fail.end:

    .data
    .balign 8
__boot_lottery: .word 0
__boot_ready: .word 0
${consoleAsm('sbi')}
${reportAsm({
  mode: 'sext', fail: '__kernel_fail', prologue: '',
  abortHook: abortHook ? { label: abortHook.label } : undefined,
  trapHook: trapHook ? { label: trapHook.label } : undefined,
})}
`;
  return {
    text,
    bss: [
      { name: 'early_pg_dir', size: 4096, align: 4096 },
      { name: '__kernel_stacks', size: KERNEL_STACK_SIZE * input.maxHarts, align: 16 },
    ],
    functions: ['_start', '__kernel_park', '__kernel_shutdown', '__kernel_trap_entry', '__kernel_fail', ...CONSOLE_FUNCTIONS, ...REPORT_FUNCTIONS],
    objects: [{ name: '__boot_lottery', size: 4 }, { name: '__boot_ready', size: 4 }],
  };
}
