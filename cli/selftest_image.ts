/**
 * The machine self-test image that `kmemlab start` boots until the kernel
 * exists: a bare-metal M-mode program (assembled by our assembler at start
 * time) that checks the board from the inside — arithmetic, AMOs from every
 * hart, LR/SC, the CLINT timer interrupt, an IPI between harts — prints the
 * results as KTAP version 1 on the UART and powers off through the SiFive
 * test finisher: exit code 0 only when every case passed.
 */

export const SELFTEST_CASES = ['arith', 'amo_all_harts', 'lr_sc', 'timer_interrupt', 'ipi'] as const;

export function machineSelftestSource(nharts: number): string {
  return `
    .equ  NHARTS, ${nharts}
    .equ  UART, 0x10000000
    .equ  FINISHER, 0x100000
    .equ  CLINT, 0x2000000
    .equ  MTIMECMP, 0x2004000
    .equ  MTIME, 0x200bff8
    .equ  SPINS, 2000000

_start:
    csrr  s11, mhartid
    la    sp, stacks
    addi  t0, s11, 1
    slli  t0, t0, 12
    add   sp, sp, t0
    la    t0, trap
    csrw  mtvec, t0
    bnez  s11, secondary

    la    a0, s_header
    call  puts
    li    s10, 0                  # failures

# ---- 1: arith --------------------------------------------------------------
    li    a0, 123456789
    li    a1, 987654321
    mul   a2, a0, a1
    li    a3, 121932631112635269
    bne   a2, a3, 1f
    li    a0, -7
    li    a1, 2
    div   a2, a0, a1
    rem   a3, a0, a1
    li    a4, -3
    bne   a2, a4, 1f
    li    a4, -1
    bne   a3, a4, 1f
    li    a0, 1
    divu  a2, a0, zero            # division by zero gives all ones
    li    a4, -1
    bne   a2, a4, 1f
    la    a0, s_ok1
    j     2f
1:  la    a0, s_nok1
    addi  s10, s10, 1
2:  call  puts

# ---- 2: amo_all_harts --------------------------------------------------------
    call  amo_work
    la    t0, done
    li    t2, SPINS
3:  ld    t1, 0(t0)
    li    t3, NHARTS
    beq   t1, t3, 4f
    addi  t2, t2, -1
    bnez  t2, 3b
    j     5f
4:  la    t0, counter
    ld    t1, 0(t0)
    li    t3, NHARTS * 1000
    bne   t1, t3, 5f
    la    a0, s_ok2
    j     6f
5:  la    a0, s_nok2
    addi  s10, s10, 1
6:  call  puts

# ---- 3: lr_sc ----------------------------------------------------------------
    la    t0, lrsc_word
    li    t2, 100
7:  lr.d  t1, (t0)
    addi  t1, t1, 1
    sc.d  t3, t1, (t0)
    bnez  t3, 7b
    addi  t2, t2, -1
    bnez  t2, 7b
    ld    t1, 0(t0)
    li    t3, 100
    bne   t1, t3, 8f
    sc.d  t3, t1, (t0)            # no reservation any more: must fail
    beqz  t3, 8f
    la    a0, s_ok3
    j     9f
8:  la    a0, s_nok3
    addi  s10, s10, 1
9:  call  puts

# ---- 4: timer_interrupt ------------------------------------------------------
    li    t0, MTIME
    ld    t1, 0(t0)
    addi  t1, t1, 500
    li    t0, MTIMECMP
    sd    t1, 0(t0)
    li    t0, 0x80                # MTIE
    csrw  mie, t0
    csrsi mstatus, 8              # MIE
    li    t2, 1000
10: la    t0, timer_flag
    ld    t1, 0(t0)
    bnez  t1, 11f
    wfi
    addi  t2, t2, -1
    bnez  t2, 10b
    la    a0, s_nok4
    addi  s10, s10, 1
    j     12f
11: la    a0, s_ok4
12: call  puts

# ---- 5: ipi --------------------------------------------------------------------
    li    t0, NHARTS
    li    t1, 2
    blt   t0, t1, 15f
    li    t0, CLINT + 4           # msip of hart 1
    li    t1, 1
    sw    t1, 0(t0)
    li    t2, SPINS
13: la    t0, ipi_flag
    ld    t1, 0(t0)
    bnez  t1, 14f
    addi  t2, t2, -1
    bnez  t2, 13b
    la    a0, s_nok5
    addi  s10, s10, 1
    j     16f
14: la    a0, s_ok5
    j     16f
15: la    a0, s_skip5
16: call  puts

# ---- totals and power-off -----------------------------------------------------
    bnez  s10, 17f
    la    a0, s_pass
    call  puts
    li    t0, FINISHER
    li    t1, 0x5555
    sw    t1, 0(t0)
17: la    a0, s_fail
    call  puts
    li    t0, FINISHER
    li    t1, 0x13333             # fail, exit code 1
    sw    t1, 0(t0)
18: wfi
    j     18b

# ---- other harts: AMOs, then wait for the IPI ----------------------------------
secondary:
    call  amo_work
    li    t0, 0x8                 # MSIE
    csrw  mie, t0
    csrsi mstatus, 8
19: wfi
    j     19b

# amo_work: 1000 amoadd.d on the shared counter, then count this hart done
amo_work:
    la    t0, counter
    li    t1, 1000
    li    t2, 1
20: amoadd.d zero, t2, (t0)
    addi  t1, t1, -1
    bnez  t1, 20b
    la    t0, done
    amoadd.d zero, t2, (t0)
    ret

# ---- M-mode trap handler: timer and software interrupts -------------------------
trap:
    addi  sp, sp, -32
    sd    t0, 0(sp)
    sd    t1, 8(sp)
    sd    t2, 16(sp)
    csrr  t0, mcause
    bgez  t0, bad_trap
    slli  t0, t0, 1
    srli  t0, t0, 1
    li    t1, 7
    beq   t0, t1, 21f
    li    t1, 3
    beq   t0, t1, 22f
    j     23f
21: csrr  t1, mhartid             # timer: disarm, flag
    slli  t1, t1, 3
    li    t0, MTIMECMP
    add   t0, t0, t1
    li    t2, -1
    sd    t2, 0(t0)
    la    t0, timer_flag
    li    t1, 1
    sd    t1, 0(t0)
    j     23f
22: csrr  t1, mhartid             # software: acknowledge, flag
    slli  t1, t1, 2
    li    t0, CLINT
    add   t0, t0, t1
    sw    zero, 0(t0)
    la    t0, ipi_flag
    li    t1, 1
    sd    t1, 0(t0)
23: ld    t2, 16(sp)
    ld    t1, 8(sp)
    ld    t0, 0(sp)
    addi  sp, sp, 32
    mret
bad_trap:
    la    a0, s_badtrap
    call  puts
    li    t0, FINISHER
    li    t1, 0x23333             # fail, exit code 2
    sw    t1, 0(t0)
24: j     24b

# puts(a0): NUL-terminated string to the UART (waits for THR empty)
puts:
    li    t0, UART
25: lbu   t1, 0(a0)
    beqz  t1, 27f
26: lbu   t2, 5(t0)
    andi  t2, t2, 0x20
    beqz  t2, 26b
    sb    t1, 0(t0)
    addi  a0, a0, 1
    j     25b
27: ret

s_header: .string "KTAP version 1\\n1..1\\n    KTAP version 1\\n    # Subtest: machine\\n    1..5\\n"
s_ok1:    .string "    ok 1 arith\\n"
s_nok1:   .string "    not ok 1 arith\\n"
s_ok2:    .string "    ok 2 amo_all_harts\\n"
s_nok2:   .string "    not ok 2 amo_all_harts\\n"
s_ok3:    .string "    ok 3 lr_sc\\n"
s_nok3:   .string "    not ok 3 lr_sc\\n"
s_ok4:    .string "    ok 4 timer_interrupt\\n"
s_nok4:   .string "    not ok 4 timer_interrupt\\n"
s_ok5:    .string "    ok 5 ipi\\n"
s_nok5:   .string "    not ok 5 ipi\\n"
s_skip5:  .string "    ok 5 ipi # SKIP needs 2 harts\\n"
s_pass:   .string "ok 1 machine\\n"
s_fail:   .string "not ok 1 machine\\n"
s_badtrap: .string "machine selftest: unexpected exception\\n"
    .align 3
counter:    .dword 0
done:       .dword 0
lrsc_word:  .dword 0
timer_flag: .dword 0
ipi_flag:   .dword 0
    .align 12
stacks:     .zero 4096 * NHARTS
`;
}
