# Minimal start-up for bare-metal test programs: one hart runs main(), the
# others park; main's return value goes to HTIF tohost (0 -> pass).
    .section .text.init
    .globl _start
_start:
    csrr  t0, mhartid
    bnez  t0, 2f
    la    sp, __stack_top
    call  main
    slli  a0, a0, 1
    ori   a0, a0, 1
    la    t0, tohost
1:  sd    a0, 0(t0)
    j     1b
2:  wfi
    j     2b

    .section .tohost, "aw", @progbits
    .align 6
    .globl tohost
    .type tohost, @object
    .size tohost, 8
tohost: .dword 0
    .align 6
    .globl fromhost
    .type fromhost, @object
    .size fromhost, 8
fromhost: .dword 0

    .bss
    .align 4
    .space 16384
__stack_top:
