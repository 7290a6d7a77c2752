/**
 * An S-mode payload for SBI firmware (OpenSBI's fw_jump, our firmware later),
 * in assembly for our assembler, linked at 0x8020_0000. It prints through the
 * legacy SBI console (EID 0x01), asks the SBI spec version (BASE, EID 0x10),
 * and powers off through SRST (EID 0x53525354) with "no reason": exit code 0.
 * The same bytes run on kmemlab and on qemu-system-riscv64 -M virt.
 */
export const PAYLOAD_BASE = 0x8020_0000;

export function sbiPayloadSource(): string {
  return `
_start:
    mv    s0, a0                # boot hart id
    mv    s1, a1                # device tree address
    la    sp, stack_top
    la    a0, hello
    call  puts
    mv    a0, s0
    call  putdec
    la    a0, specmsg
    call  puts
    li    a7, 0x10              # BASE
    li    a6, 0                 # sbi_get_spec_version
    ecall
    mv    a0, a1
    call  puthex
    la    a0, dtbmsg
    call  puts
    lwu   a0, 0(s1)             # FDT magic d00dfeed, read little-endian: 0xedfe0dd0
    call  puthex
    li    a0, 10
    call  putc
    la    a0, bye
    call  puts
    li    a7, 0x53525354        # SRST
    li    a6, 0                 # sbi_system_reset
    li    a0, 0                 # shutdown
    li    a1, 0                 # no reason
    ecall
    la    a0, failed
    call  puts
1:  j     1b

# putc(a0): legacy console putchar
putc:
    li    a7, 1
    ecall
    ret

# puts(a0): NUL-terminated string
puts:
    addi  sp, sp, -16
    sd    ra, 8(sp)
    sd    s2, 0(sp)
    mv    s2, a0
2:  lbu   a0, 0(s2)
    beqz  a0, 3f
    call  putc
    addi  s2, s2, 1
    j     2b
3:  ld    s2, 0(sp)
    ld    ra, 8(sp)
    addi  sp, sp, 16
    ret

# puthex(a0): 0x and 8 hex digits of the low word
puthex:
    addi  sp, sp, -32
    sd    ra, 24(sp)
    sd    s2, 16(sp)
    sd    s3, 8(sp)
    mv    s2, a0
    li    a0, '0'
    call  putc
    li    a0, 'x'
    call  putc
    li    s3, 28
4:  srl   a0, s2, s3
    andi  a0, a0, 15
    li    t0, 10
    blt   a0, t0, 5f
    addi  a0, a0, 'a' - 10
    j     6f
5:  addi  a0, a0, '0'
6:  call  putc
    addi  s3, s3, -4
    bgez  s3, 4b
    ld    s3, 8(sp)
    ld    s2, 16(sp)
    ld    ra, 24(sp)
    addi  sp, sp, 32
    ret

# putdec(a0): a small unsigned number (< 100)
putdec:
    addi  sp, sp, -16
    sd    ra, 8(sp)
    sd    s2, 0(sp)
    mv    s2, a0
    li    t0, 10
    blt   s2, t0, 7f
    divu  a0, s2, t0
    addi  a0, a0, '0'
    call  putc
    li    t0, 10
    remu  s2, s2, t0
7:  addi  a0, s2, '0'
    call  putc
    ld    s2, 0(sp)
    ld    ra, 8(sp)
    addi  sp, sp, 16
    ret

hello:   .string "kmemlab payload: hello from S-mode on hart "
specmsg: .string "\\nkmemlab payload: SBI spec version "
dtbmsg:  .string "\\nkmemlab payload: device tree magic "
bye:     .string "kmemlab payload: powering off through SBI SRST\\n"
failed:  .string "kmemlab payload: SRST returned!\\n"
    .align 4
stack:   .zero 4096
stack_top:
`;
}
