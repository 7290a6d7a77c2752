/**
 * S-mode payloads for the firmware tests, in assembly for our assembler,
 * linked at 0x8020_0000 (where the firmware starts the next stage). The same
 * bytes run on kmemlab and on qemu-system-riscv64 -M virt.
 *
 * A payload is a body of assembly run by the boot hart after this runtime
 * has set up a stack and stvec; it ends by jumping to `pass` (SRST shutdown,
 * exit 0) or `fail` (prints "payload: FAIL", SRST system failure). Every
 * line it prints starts with "payload: " so tests can pick them out.
 *
 * Runtime (standard calling convention; clobbers a0-a7, t0-t6 only):
 *
 *   putc(a0)  puts(a0 = NUL-terminated string)  puthex(a0)  putdec(a0, signed)
 *   print "text"             (the `say` helper below)  print a string and a newline
 *   show "label", reg, fmt   (the `show` helper)       "payload: label <value>\n"
 *
 *   secondary_entry          hart_start target: a1 (opaque) = address of the
 *                            code to run; gets its own stack and stvec
 *   strap                    S trap handler: saves the caller-saved registers
 *                            on the stack and calls the word at `trap_hook`
 *                            (a0 = scause, a1 = sepc, a2 = stval, a3 = frame;
 *                            it may change sepc with csrw), or, with no hook,
 *                            prints the trap and fails
 *   flags                    8 dwords per hart for payloads to signal with;
 *                            flag_addr(a0 = hart, a1 = index) gives an address,
 *                            wait_flag(a0 = address, a1 = value) spins on it
 *   other_hart(a0 = n)       the n-th hart id that is not the boot hart, so
 *                            payloads work whichever hart won the lottery
 *
 * Registers: tp = hart id (set by the runtime); `show` uses s11.
 */

export const PAYLOAD_BASE = 0x8020_0000n;

const REG = /^(zero|ra|sp|gp|tp|fp|t[0-6]|s[0-9]|s1[01]|a[0-7]|x[0-9]+)$/;

/** SBI extension IDs (SBI v2.0). */
export const EID = {
  putchar: 0x01, getchar: 0x02, base: 0x10, time: 0x54494d45, ipi: 0x735049, rfence: 0x52464e43,
  hsm: 0x48534d, srst: 0x53525354, dbcn: 0x4442434e, pmu: 0x504d55,
} as const;

/** Builds one payload: collects its strings so the body can refer to them by label. */
export class Payload {
  private readonly strings: string[] = [];

  /** Label of a NUL-terminated copy of `text` in the payload's data. */
  str(text: string): string {
    const i = this.strings.indexOf(text);
    if (i >= 0) return `str_${i}`;
    this.strings.push(text);
    return `str_${this.strings.length - 1}`;
  }

  /** Print "payload: <text>\n" (clobbers caller-saved registers). */
  say(text: string): string {
    return `
    la    a0, ${this.str(`payload: ${text}\n`)}
    call  puts`;
  }

  /** Print "payload: <label> <reg>\n" with reg in hex or signed decimal. */
  show(label: string, reg: string, fmt: 'hex' | 'dec' = 'hex'): string {
    return `
    mv    s11, ${reg}
    la    a0, ${this.str(`payload: ${label} `)}
    call  puts
    mv    a0, s11
    call  ${fmt === 'hex' ? 'puthex' : 'putdec'}
    li    a0, 10
    call  putc`;
  }

  /**
   * ecall with a7 = eid, a6 = fid and the arguments in a0, a1, ...: numbers
   * (li), registers (mv) or labels (la). A register argument must not be one
   * an earlier argument has already overwritten.
   */
  sbi(eid: number, fid: number, ...args: (number | bigint | string)[]): string {
    const set = args.map((a, i) => {
      if (typeof a !== 'string') return `    li    a${i}, ${a}`;
      if (!REG.test(a)) return `    la    a${i}, ${a}`;
      const clobbered = Array.from({ length: i }, (_, j) => `a${j}`);
      if (clobbered.includes(a)) throw new Error(`sbi(): argument ${i} reads ${a}, already overwritten`);
      return a === `a${i}` ? '' : `    mv    a${i}, ${a}`;
    });
    return `
${set.filter(Boolean).join('\n')}
    li    a7, ${eid}
    li    a6, ${fid}
    ecall`;
  }

  /**
   * A trap hook named `name`: saves ra and s2-s5, moves a0-a3 (scause,
   * sepc, stval, frame) to s2-s5, runs `body`, restores and returns.
   */
  hook(name: string, body: string): string {
    return `
${name}:
    addi  sp, sp, -48
    sd    ra, 40(sp)
    sd    s2, 32(sp)
    sd    s3, 24(sp)
    sd    s4, 16(sp)
    sd    s5, 8(sp)
    mv    s2, a0
    mv    s3, a1
    mv    s4, a2
    mv    s5, a3
${body}
    ld    s5, 8(sp)
    ld    s4, 16(sp)
    ld    s3, 24(sp)
    ld    s2, 32(sp)
    ld    ra, 40(sp)
    addi  sp, sp, 48
    ret
`;
  }

  /** Install `label` as the trap hook (clobbers t0, t1). */
  setHook(label: string): string {
    return `
    la    t0, trap_hook
    la    t1, ${label}
    sd    t1, 0(t0)`;
  }

  /** flags[hart][index] (hart: a register) → `dst` (clobbers a0, a1, t0). */
  loadFlag(dst: string, hart: string, index: number): string {
    return `
    mv    a0, ${hart}
    li    a1, ${index}
    call  flag_addr
    ld    ${dst}, 0(a0)`;
  }

  /** flags[hart][index] = value (a register or number; clobbers a0, a1, t0, t1). */
  setFlag(hart: string, index: number, value: string | number): string {
    return `
    mv    t1, ${typeof value === 'number' ? 'zero' : value}
    ${typeof value === 'number' ? `li    t1, ${value}` : ''}
    mv    a0, ${hart}
    li    a1, ${index}
    call  flag_addr
    fence
    sd    t1, 0(a0)`;
  }

  /** Spin until flags[hart][index] == value (clobbers a0, a1, t0). */
  waitFlag(hart: string, index: number, value: number): string {
    return `
    mv    a0, ${hart}
    li    a1, ${index}
    call  flag_addr
    li    a1, ${value}
    call  wait_flag`;
  }

  /** The whole program: runtime, the body (with any functions after it), then `data`. */
  source(body: string, data = ''): string {
    return `${RUNTIME_TEXT}
main:
${body}
    j     pass

${RUNTIME_FUNCTIONS}
${this.strings.map((s, i) => `str_${i}: .string ${JSON.stringify(s)}`).join('\n')}
str_fail: .string "payload: FAIL\\n"
str_trap: .string "payload: unexpected trap scause "
str_sepc: .string " sepc "
str_stval: .string " stval "
    .balign 8
boot_hart: .dword 0
dtb: .dword 0
trap_hook: .dword 0
flags: .zero ${8 * 8 * 64}
buf: .zero 256
    .balign 4096
stacks: .zero ${8 * 4096}
${data}
`;
  }
}

const RUNTIME_TEXT = `
_start:
    la    t0, boot_hart
    sd    a0, 0(t0)
    la    t0, dtb
    sd    a1, 0(t0)
    call  setup_hart
    j     main

# hart_start target: a0 = hartid, a1 = the code to run.
secondary_entry:
    mv    s1, a1
    call  setup_hart
    jr    s1

# sp = stacks + (hartid + 1) * 4096 (a0 = hartid); tp = hartid; stvec = strap. Keeps a0.
setup_hart:
    mv    tp, a0
    la    sp, stacks
    addi  t0, a0, 1
    slli  t0, t0, 12
    add   sp, sp, t0
    la    t0, strap
    csrw  stvec, t0
    ret
`;

/** Registers strap saves around a hook; hooks must keep s0-s10 themselves (see hook()). */
const SAVED = ['ra', 't0', 't1', 't2', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 't3', 't4', 't5', 't6', 's11'];

const RUNTIME_FUNCTIONS = `
pass:
    li    a7, ${EID.srst}
    li    a6, 0
    li    a0, 0
    li    a1, 0
    ecall
1:  j     1b

fail:
    la    a0, str_fail
    call  puts
    li    a7, ${EID.srst}
    li    a6, 0
    li    a0, 0
    li    a1, 1                   # system failure
    ecall
1:  j     1b

    .balign 4
strap:
    addi  sp, sp, -${SAVED.length * 8 + 8}
${SAVED.map((r, i) => `    sd    ${r}, ${i * 8}(sp)`).join('\n')}
    csrr  a0, scause
    csrr  a1, sepc
    csrr  a2, stval
    mv    a3, sp
    la    t0, trap_hook
    ld    t0, 0(t0)
    beqz  t0, strap_unexpected
    jalr  t0
${SAVED.map((r, i) => `    ld    ${r}, ${i * 8}(sp)`).join('\n')}
    addi  sp, sp, ${SAVED.length * 8 + 8}
    sret
strap_unexpected:
    mv    s2, a0
    mv    s3, a1
    mv    s4, a2
    la    a0, str_trap
    call  puts
    mv    a0, s2
    call  puthex
    la    a0, str_sepc
    call  puts
    mv    a0, s3
    call  puthex
    la    a0, str_stval
    call  puts
    mv    a0, s4
    call  puthex
    li    a0, 10
    call  putc
    j     fail

# Offset of a saved register in strap's frame (for hooks, a3 = frame).
${SAVED.map((r, i) => `FRAME_${r.toUpperCase()} = ${i * 8}`).join('\n')}

# other_hart(a0 = n >= 1): the n-th hart id other than the boot hart (ids 0..N-1)
other_hart:
    addi  a0, a0, -1
    la    t0, boot_hart
    ld    t0, 0(t0)
    bltu  a0, t0, 1f
    addi  a0, a0, 1
1:  ret

# flag_addr(a0 = hart, a1 = index): address of flags[hart][index]
flag_addr:
    slli  a0, a0, 6
    slli  a1, a1, 3
    add   a0, a0, a1
    la    t0, flags
    add   a0, a0, t0
    ret

# wait_flag(a0 = address, a1 = value): spin until the dword there equals a1
wait_flag:
1:  ld    t0, 0(a0)
    beq   t0, a1, 2f
    j     1b
2:  ret

putc:
    li    a7, 1
    ecall
    ret

puts:
    addi  sp, sp, -16
    sd    ra, 8(sp)
    sd    s2, 0(sp)
    mv    s2, a0
1:  lbu   a0, 0(s2)
    beqz  a0, 2f
    call  putc
    addi  s2, s2, 1
    j     1b
2:  ld    s2, 0(sp)
    ld    ra, 8(sp)
    addi  sp, sp, 16
    ret

# puthex(a0): 0x and the digits, without leading zeros
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
    li    s3, 60
1:  beqz  s3, 2f                  # skip leading zero digits (keep the last)
    srl   t0, s2, s3
    andi  t0, t0, 15
    bnez  t0, 2f
    addi  s3, s3, -4
    j     1b
2:  srl   a0, s2, s3
    andi  a0, a0, 15
    li    t0, 10
    blt   a0, t0, 3f
    addi  a0, a0, 'a' - 10 - '0'
3:  addi  a0, a0, '0'
    call  putc
    addi  s3, s3, -4
    bgez  s3, 2b
    ld    s3, 8(sp)
    ld    s2, 16(sp)
    ld    ra, 24(sp)
    addi  sp, sp, 32
    ret

# putdec(a0): signed decimal
putdec:
    addi  sp, sp, -64
    sd    ra, 56(sp)
    sd    s2, 48(sp)
    sd    s3, 40(sp)
    mv    s2, a0
    bgez  s2, 1f
    li    a0, '-'
    call  putc
    neg   s2, s2
1:  addi  s3, sp, 32
    li    t1, 10
2:  remu  t0, s2, t1
    divu  s2, s2, t1
    addi  t0, t0, '0'
    addi  s3, s3, -1
    sb    t0, 0(s3)
    bnez  s2, 2b
3:  lbu   a0, 0(s3)
    call  putc
    addi  s3, s3, 1
    addi  t0, sp, 32
    bltu  s3, t0, 3b
    ld    s3, 40(sp)
    ld    s2, 48(sp)
    ld    ra, 56(sp)
    addi  sp, sp, 64
    ret
`;

/** Lines the payload printed ("payload: " prefix removed). */
export function payloadLines(out: string): string[] {
  return out.split(/\r?\n/).filter((l) => l.startsWith('payload: ')).map((l) => l.slice('payload: '.length));
}
