/**
 * The benchmark's guest programs, in assembly for our assembler.
 */

/**
 * A CPU-bound bare-metal loop: ALU, shifts, branches, loads and stores, mul
 * and div, about 30 instructions an iteration. Hart 0 runs it; other harts
 * park in WFI. It ends by powering off through the SiFive test finisher, so
 * it runs unchanged on `qemu-system-riscv64 -M virt -bios none`.
 */
export function cpuLoopSource(iterations: number): string {
  return `
_start:
    csrr  a0, mhartid
    bnez  a0, park
    li    s0, ${iterations}
    la    s1, buf
    li    s2, 0x12345
loop:
    add   t0, s2, s0
    xor   t1, t0, s0
    slli  t2, t1, 3
    srli  t3, t2, 5
    or    t4, t3, t0
    sub   s2, t4, t1
    andi  t5, s0, 255
    slli  t5, t5, 3
    add   t5, t5, s1
    ld    t6, 0(t5)
    add   t6, t6, s2
    sd    t6, 0(t5)
    lw    a1, 4(t5)
    sw    a1, 0(s1)
    mul   a2, t6, s0
    srli  a2, a2, 33
    addi  a3, s0, 7
    divu  a4, a2, a3
    remu  a5, a2, a3
    add   s2, s2, a4
    xor   s2, s2, a5
    andi  a6, s0, 1
    beqz  a6, 1f
    addi  s2, s2, 1
1:  sltu  a7, s2, s0
    add   s2, s2, a7
    addi  s0, s0, -1
    bnez  s0, loop
    li    t0, 0x100000
    li    t1, 0x5555
    sw    t1, 0(t0)
park:
    wfi
    j     park
    .align 12                   # data on its own page: QEMU must not see self-modifying code
buf:
    .zero 2056
`;
}
