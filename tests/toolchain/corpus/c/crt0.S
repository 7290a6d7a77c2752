# Bare-metal start-up for the C versions of the benchmark programs (after
# tests/interop/c/crt0.S): hart 0 runs bench(), stores its result in
# __result, then reports pass through HTIF tohost; other harts park.
    .section .text.init
    .globl _start
_start:
    csrr  t0, mhartid
    bnez  t0, 2f
    la    sp, __stack_top
    call  bench
    la    t0, __result
    sd    a0, 0(t0)
    li    a0, 1
    la    t0, tohost
1:  sd    a0, 0(t0)
    j     1b
2:  wfi
    j     2b

    .section .tohost, "aw", @progbits
    .align 6
    .globl tohost
tohost: .dword 0
    .align 6
    .globl fromhost
fromhost: .dword 0

    .data
    .align 3
    .globl __result
__result: .dword 0

    .bss
    .align 4
    .space 65536
__stack_top:
