/**
 * One S-mode payload per firmware behaviour (the runtime is in payload.ts).
 * Each prints "payload: ..." lines the tests check, on kmemlab and on QEMU.
 * Secondary harts are picked with other_hart(n), so a payload does the same
 * whichever hart won the boot lottery; all of them assume 4 harts.
 */
import { EID, Payload } from './payload.js';

const SIE_SSIE = 1 << 1;
const SIE_STIE = 1 << 5;
const SSTATUS_SIE = 1 << 1;
const HSM = { start: 0, stop: 1, status: 2, suspend: 3 } as const;

/** The rfence payload maps VA 0x4000_0000 to one of these 2 MiB pages. */
export const TLB_VA = 0x4000_0000n;
export const TLB_PAGE_A = 0x8040_0000n;
export const TLB_PAGE_B = 0x8060_0000n;
/** Sv39 leaf permissions with A and D set: V R W (X) A D. */
const PTE_RW = 0xc7;
const PTE_RWX = 0xcf;

/** Save a0 and a1 of an SBI call in s6 (error) and s7 (value), then show them. */
function result(p: Payload, what: string, value = false): string {
  return `
    mv    s6, a0
    mv    s7, a1
${p.show(`${what}: error`, 's6', 'dec')}
${value ? p.show(`${what}: value`, 's7', 'dec') : ''}`;
}

/** BASE: versions, ids, probing every extension, unknown EIDs and FIDs. */
export function basePayload(): string {
  const p = new Payload();
  const probes: [string, number][] = [
    ['BASE', EID.base], ['TIME', EID.time], ['IPI', EID.ipi], ['RFENCE', EID.rfence], ['HSM', EID.hsm],
    ['SRST', EID.srst], ['DBCN', EID.dbcn], ['legacy putchar', EID.putchar], ['legacy getchar', EID.getchar],
    ['legacy set_timer', 0x00], ['legacy shutdown', 0x08], ['PMU', EID.pmu], ['0x12345678', 0x12345678],
  ];
  return p.source(`
${p.sbi(EID.base, 0)}
${result(p, 'get_spec_version')}
${p.show('spec version', 's7')}
${p.sbi(EID.base, 1)}
${p.show('impl id', 'a1')}
${p.sbi(EID.base, 2)}
${p.show('impl version', 'a1')}
${probes.map(([name, eid]) => `${p.sbi(EID.base, 3, eid)}\n${p.show(`probe ${name}`, 'a1', 'dec')}`).join('\n')}
${p.sbi(EID.base, 4)}
${p.show('machine mvendorid', 'a1')}
${p.sbi(EID.base, 5)}
${p.show('machine marchid', 'a1')}
${p.sbi(EID.base, 6)}
${p.show('machine mimpid', 'a1')}
${p.sbi(0x12345678, 0)}
${p.show('unknown EID: error', 'a0', 'dec')}
${p.sbi(EID.base, 7)}
${p.show('BASE fid 7: error', 'a0', 'dec')}
${p.sbi(EID.time, 1)}
${p.show('TIME fid 1: error', 'a0', 'dec')}
    li    s2, 0x5a5a
    mv    a1, s2
${p.sbi(EID.putchar, 0, 0x3e)}
    sub   s2, a1, s2
    mv    s6, a0
    li    a0, 10
    call  putc
${p.show('legacy putchar: a0', 's6', 'dec')}
${p.show('legacy putchar: a1 changed by', 's2')}
`);
}

/** TIME: set_timer raises an S timer interrupt at the deadline; set_timer(-1) clears it; a past deadline fires at once. */
export function timerPayload(): string {
  const p = new Payload();
  return p.source(`
${p.setHook('timer_hook')}
    li    t0, ${SIE_STIE}
    csrs  sie, t0
    rdtime s2
    li    t0, 1000000             # 100 ms at 10 MHz
    add   s2, s2, t0
${p.sbi(EID.time, 0, 's2')}
    csrr  t0, sip
    andi  s3, t0, ${SIE_STIE}
${result(p, 'set_timer')}
${p.show('sip.STIP before the deadline', 's3')}
    li    t0, ${SSTATUS_SIE}
    csrs  sstatus, t0
1:
${p.loadFlag('t0', 'tp', 0)}
    bnez  t0, 2f
    wfi
    j     1b
2:
    rdtime t0
    sltu  s3, t0, s2              # 1 if the interrupt came early
${p.show('interrupt before the deadline', 's3')}
    csrr  t0, sip
    andi  s3, t0, ${SIE_STIE}
${p.show('sip.STIP after set_timer(-1)', 's3')}
    # A deadline in the past: the interrupt comes as soon as S-mode can take it.
${p.sbi(EID.time, 0, 0)}
    nop
${p.loadFlag('s3', 'tp', 0)}
${p.show('timer interrupts taken', 's3', 'dec')}
    j     pass
${p.hook('timer_hook', `
${p.show('trap: scause', 's2')}
${p.sbi(EID.time, 0, -1)}
${p.loadFlag('t1', 'tp', 0)}
    addi  t1, t1, 1
${p.setFlag('tp', 0, 't1')}`)}
`);
}

/** Secondaries that wait for S software interrupts and count them in flags[h][1]; flags[h][0] = 1 once ready. */
function ipiWaiter(p: Payload): string {
  return `
ipi_waiter:
${p.setHook('ipi_hook')}
    li    t0, ${SIE_SSIE}
    csrs  sie, t0
${p.setFlag('tp', 0, 1)}
    li    t0, ${SSTATUS_SIE}
    csrs  sstatus, t0
1:  wfi
    j     1b
${p.hook('ipi_hook', `
    li    t0, ${SIE_SSIE}
    csrc  sip, t0
    mv    a0, tp
    li    a1, 1
    call  flag_addr
    li    t0, 1
    amoadd.d zero, t0, (a0)`)}
`;
}

/** IPI: send_ipi to one hart (two encodings), to every hart (base -1), to a stopped hart, and invalid masks. */
export function ipiPayload(): string {
  const p = new Payload();
  return p.source(`
    li    a0, 1
    call  other_hart
    mv    s2, a0                  # s2 = the first secondary: waits for IPIs
    li    a0, 2
    call  other_hart
    mv    s3, a0                  # s3 = the second secondary: stays stopped
${p.sbi(EID.hsm, HSM.start, 's2', 'secondary_entry', 'ipi_waiter')}
${result(p, 'hart_start')}
${p.waitFlag('s2', 0, 1)}
${p.sbi(EID.ipi, 0, 1, 's2')}
${result(p, 'send_ipi(1, base = secondary)')}
${p.waitFlag('s2', 1, 1)}
${p.say('the secondary took 1 S software interrupt')}
    li    t0, 1
    sll   s4, t0, s2
${p.sbi(EID.ipi, 0, 's4', 0)}
${result(p, 'send_ipi(1 << secondary, base = 0)')}
${p.waitFlag('s2', 1, 2)}
${p.say('the secondary took 2 S software interrupts')}
    # Every hart (hart_mask_base = -1): the boot hart too.
${p.setHook('ipi_hook')}
    li    t0, ${SIE_SSIE}
    csrs  sie, t0
    li    t0, ${SSTATUS_SIE}
    csrs  sstatus, t0
${p.sbi(EID.ipi, 0, 0, -1)}
${result(p, 'send_ipi(0, base = -1)')}
${p.waitFlag('s2', 1, 3)}
${p.waitFlag('tp', 1, 1)}
${p.say('the secondary and the boot hart took the broadcast IPI')}
    li    t0, 1
    sll   s4, t0, s3
${p.sbi(EID.ipi, 0, 's4', 0)}
${result(p, 'send_ipi to a stopped hart')}
${p.sbi(EID.hsm, HSM.status, 's3')}
${p.show('status of that hart', 'a1', 'dec')}
${p.sbi(EID.ipi, 0, 1, 64)}
${result(p, 'send_ipi(1, base = 64)')}
${p.sbi(EID.ipi, 0, 0x10, 0)}
${result(p, 'send_ipi(1 << 4, base = 0) on 4 harts')}
${p.sbi(EID.ipi, 0, 3, 3)}
${result(p, 'send_ipi(3, base = 3) on 4 harts')}
${p.sbi(EID.ipi, 1)}
${result(p, 'IPI fid 1')}
    j     pass
${ipiWaiter(p)}
`);
}

/** HSM: start, stop, status, restart, errors, and suspend (retentive and not). */
export function hsmPayload(): string {
  const p = new Payload();
  return p.source(`
    li    a0, 1
    call  other_hart
    mv    s2, a0
${p.sbi(EID.hsm, HSM.status, 's2')}
${p.show('status of a parked secondary', 'a1', 'dec')}
${p.sbi(EID.hsm, HSM.status, 'tp')}
${p.show('status of the boot hart', 'a1', 'dec')}
    # Start each secondary in turn: it prints its hart id and stops.
    li    s3, 1
1:  mv    a0, s3
    call  other_hart
    mv    s2, a0
${p.sbi(EID.hsm, HSM.start, 's2', 'secondary_entry', 'hsm_hello')}
    mv    s4, a0                  # printed once the secondary is done printing
${p.waitFlag('s2', 0, 1)}
2:
${p.sbi(EID.hsm, HSM.status, 's2')}
    li    t0, 1
    bne   a1, t0, 2b
    mv    s5, a1
${p.show('hart_start: error', 's4', 'dec')}
${p.show('status after hart_stop', 's5', 'dec')}
    addi  s3, s3, 1
    li    t0, 4
    blt   s3, t0, 1b

    # A stopped hart starts again; a started one cannot be started.
    li    a0, 1
    call  other_hart
    mv    s2, a0
${p.setFlag('s2', 0, 0)}
${p.sbi(EID.hsm, HSM.start, 's2', 'secondary_entry', 'hsm_idle')}
${result(p, 'hart_start of a stopped hart')}
${p.waitFlag('s2', 0, 1)}
${p.sbi(EID.hsm, HSM.status, 's2')}
${p.show('its status', 'a1', 'dec')}
${p.sbi(EID.hsm, HSM.start, 's2', 'secondary_entry', 'hsm_idle')}
${result(p, 'hart_start of a started hart')}
${p.sbi(EID.hsm, HSM.start, 'tp', 'secondary_entry', 'hsm_idle')}
${result(p, 'hart_start of the boot hart')}

    # Errors.
    li    a0, 2
    call  other_hart
    mv    s3, a0
${p.sbi(EID.hsm, HSM.status, 64)}
${result(p, 'hart_get_status(64)')}
${p.sbi(EID.hsm, HSM.start, 64, 'secondary_entry', 0)}
${result(p, 'hart_start(64)')}
${p.sbi(EID.hsm, HSM.start, 's3', 0x8000_0000, 0)}
${result(p, 'hart_start at 0x80000000 (firmware)')}
${p.sbi(EID.hsm, HSM.start, 's3', 0x1000, 0)}
${result(p, 'hart_start at 0x1000 (not RAM)')}
${p.sbi(EID.hsm, HSM.status, 's3')}
${p.show('status after the failed starts', 'a1', 'dec')}
${p.sbi(EID.hsm, HSM.suspend, 1, 0, 0)}
${result(p, 'hart_suspend(1) (reserved)')}
${p.sbi(EID.hsm, HSM.suspend, 0x1000_0000, 0, 0)}
${result(p, 'hart_suspend(0x10000000) (platform)')}
${p.sbi(EID.hsm, HSM.suspend, 0x8000_0000, 0x8000_0000, 0)}
${result(p, 'hart_suspend(non-retentive, resume at 0x80000000)')}
${p.sbi(EID.hsm, 4)}
${result(p, 'HSM fid 4')}

    # A secondary suspends (retentive) until an IPI wakes it.
${p.sbi(EID.hsm, HSM.start, 's3', 'secondary_entry', 'hsm_suspender')}
${result(p, 'hart_start of the suspender')}
${p.waitFlag('s3', 0, 1)}
3:
${p.sbi(EID.hsm, HSM.status, 's3')}
    li    t0, 4
    bne   a1, t0, 3b
${p.show('status of the suspended hart', 'a1', 'dec')}
    li    t0, 1
    sll   s4, t0, s3
${p.sbi(EID.ipi, 0, 's4', 0)}
${p.waitFlag('s3', 0, 2)}
${p.loadFlag('s4', 's3', 2)}
${p.show('the suspender resumed; hart_suspend returned', 's4', 'dec')}
4:
${p.sbi(EID.hsm, HSM.status, 's3')}
    li    t0, 1
    bne   a1, t0, 4b

    # The boot hart: retentive suspend, woken by its timer (SIE = 0: not taken).
    li    t0, ${SIE_STIE}
    csrs  sie, t0
    rdtime s4
    addi  s4, s4, 1000
${p.sbi(EID.time, 0, 's4')}
${p.sbi(EID.hsm, HSM.suspend, 0, 0, 0)}
${result(p, 'hart_suspend(retentive)')}
    rdtime t0
    sltu  s4, t0, s4
${p.show('woke before the deadline', 's4')}
    csrr  t0, sip
    andi  s4, t0, ${SIE_STIE}
${p.show('sip.STIP after resuming', 's4')}
    # Non-retentive: resumes at hsm_resumed with a0 = hart id, a1 = opaque.
    rdtime s4
    addi  s4, s4, 1000
${p.sbi(EID.time, 0, 's4')}
${p.sbi(EID.hsm, HSM.suspend, 0x8000_0000, 'hsm_resumed', 0x5678)}
${result(p, 'hart_suspend(non-retentive) returned')}
    j     fail

hsm_resumed:
    mv    s2, a0
    mv    s3, a1
    call  setup_hart
    la    t0, boot_hart
    ld    t0, 0(t0)
    sub   s2, s2, t0
    seqz  s2, s2
${p.show('resumed at resume_addr: a0 is the hart id', 's2')}
${p.show('resumed at resume_addr: a1', 's3')}
    csrr  s2, satp
${p.show('resumed at resume_addr: satp', 's2')}
${p.sbi(EID.time, 0, -1)}
    j     pass

hsm_hello:
    mv    s2, a0
    la    t0, hsm_hello
    sub   s3, s1, t0
    seqz  s3, s3
${p.show('secondary started: hart id (a0)', 's2', 'dec')}
${p.show('secondary started: a1 is the opaque value', 's3')}
    csrr  s3, satp
${p.show('secondary started: satp', 's3')}
    csrr  s3, sstatus
    andi  s3, s3, ${SSTATUS_SIE}
${p.show('secondary started: sstatus.SIE', 's3')}
${p.setFlag('tp', 0, 1)}
${p.sbi(EID.hsm, HSM.stop)}
${result(p, 'hart_stop returned')}
    j     fail

hsm_idle:
${p.setFlag('tp', 0, 1)}
1:  wfi
    j     1b

hsm_suspender:
    li    t0, ${SIE_SSIE}
    csrs  sie, t0                 # sstatus.SIE stays 0: the IPI wakes, is not taken
${p.setFlag('tp', 0, 1)}
${p.sbi(EID.hsm, HSM.suspend, 0, 0, 0)}
    mv    s2, a0
    li    t0, ${SIE_SSIE}
    csrc  sip, t0
${p.setFlag('tp', 2, 's2')}
${p.setFlag('tp', 0, 2)}
${p.sbi(EID.hsm, HSM.stop)}
    j     fail
`);
}

/**
 * RFENCE: a secondary runs with Sv39 on and reads VA 0x4000_0000 (page A);
 * the boot hart remaps it to page B and fences the secondary's TLB with
 * remote_sfence_vma; the secondary then reads page B. flags[secondary][3]
 * holds what it read after the remap but before the fence (for the host).
 */
export function rfencePayload(): string {
  const p = new Payload();
  const pte = (pa: bigint, perms: number): bigint => ((pa >> 12n) << 10n) | BigInt(perms);
  return p.source(`
    la    t0, pt_root
    li    t1, ${pte(0x8000_0000n, PTE_RWX)}
    sd    t1, 16(t0)              # root[2]: 0x8000_0000 1 GiB identity (this code, data)
    la    t1, pt_l1
    srli  t1, t1, 12
    slli  t1, t1, 10
    ori   t1, t1, 1
    sd    t1, 8(t0)               # root[1] -> pt_l1 (VA 0x4000_0000 ..)
    la    t0, pt_l1
    li    t1, ${pte(TLB_PAGE_A, PTE_RW)}
    sd    t1, 0(t0)               # l1[0]: VA 0x4000_0000 -> page A (2 MiB)
    li    t0, ${TLB_PAGE_A}
    li    t1, 0xaaaa
    sd    t1, 0(t0)
    li    t0, ${TLB_PAGE_B}
    li    t1, 0xbbbb
    sd    t1, 0(t0)
    li    a0, 1
    call  other_hart
    mv    s2, a0
${p.sbi(EID.hsm, HSM.start, 's2', 'secondary_entry', 'tlb_reader')}
${p.waitFlag('s2', 0, 1)}
${p.loadFlag('s3', 's2', 2)}
${p.show('secondary reads VA 0x40000000', 's3')}
    la    t0, pt_l1
    li    t1, ${pte(TLB_PAGE_B, PTE_RW)}
    sd    t1, 0(t0)               # remap to page B, no fence yet
${p.setFlag('s2', 1, 1)}
${p.waitFlag('s2', 0, 2)}
${p.sbi(EID.rfence, 1, 1, 's2', TLB_VA, 4096)}
${result(p, 'remote_sfence_vma(secondary, 0x40000000, 4096)')}
${p.setFlag('s2', 1, 2)}
${p.waitFlag('s2', 0, 3)}
${p.loadFlag('s3', 's2', 4)}
${p.show('secondary reads VA 0x40000000 after remote_sfence_vma', 's3')}
${p.sbi(EID.rfence, 0, 0, -1)}
${result(p, 'remote_fence_i(all)')}
${p.sbi(EID.rfence, 1, 0, -1, 0, 0)}
${result(p, 'remote_sfence_vma(all, whole space)')}
${p.sbi(EID.rfence, 1, 0, -1, 0x1000, 0x40_0000)}
${result(p, 'remote_sfence_vma(all, 4 MiB)')}
${p.sbi(EID.rfence, 2, 0, -1, 0, 0, 1)}
${result(p, 'remote_sfence_vma_asid(all, whole space, asid 1)')}
${p.sbi(EID.rfence, 2, 1, 's2', TLB_VA, 8192, 0)}
${result(p, 'remote_sfence_vma_asid(secondary, 2 pages, asid 0)')}
${p.sbi(EID.rfence, 1, 0, -1, -4096, 8192)}
${result(p, 'remote_sfence_vma of a range that wraps')}
${p.sbi(EID.rfence, 1, 1, 64, 0, 0)}
${result(p, 'remote_sfence_vma(1, base = 64)')}
${p.sbi(EID.rfence, 3, 0, -1, 0, 0, 0)}
${result(p, 'remote_hfence_gvma_vmid')}
${p.sbi(EID.rfence, 7)}
${result(p, 'RFENCE fid 7')}
    j     pass

tlb_reader:
    la    t0, pt_root
    srli  t0, t0, 12
    li    t1, 0x8000000000000000  # Sv39
    or    t0, t0, t1
    csrw  satp, t0
    sfence.vma
    li    s3, ${TLB_VA}
    ld    s4, 0(s3)
${p.setFlag('tp', 2, 's4')}
${p.setFlag('tp', 0, 1)}
${p.waitFlag('tp', 1, 1)}
    ld    s4, 0(s3)
${p.setFlag('tp', 3, 's4')}
${p.setFlag('tp', 0, 2)}
${p.waitFlag('tp', 1, 2)}
    ld    s4, 0(s3)
${p.setFlag('tp', 4, 's4')}
${p.setFlag('tp', 0, 3)}
1:  wfi
    j     1b
`, `
    .balign 4096
pt_root: .zero 4096
pt_l1: .zero 4096
`);
}

/** DBCN and the legacy console: write, write_byte, read (the test types "xyz"), bad buffers. */
export function dbcnPayload(): string {
  const p = new Payload();
  const msg = 'payload: written by console_write\n';
  const byteMsg = 'payload: written by console_write_byte\n';
  return p.source(`
${p.sbi(EID.dbcn, 0, msg.length, p.str(msg), 0)}
${result(p, 'console_write', true)}
${p.sbi(EID.dbcn, 0, 0, 0, 0)}
${result(p, 'console_write of 0 bytes', true)}
${p.sbi(EID.dbcn, 0, 4, 0x8000_0000, 0)}
${result(p, 'console_write from firmware memory')}
${p.sbi(EID.dbcn, 0, 4, 0x801f_fffe, 0)}
${result(p, 'console_write across the firmware end')}
${p.sbi(EID.dbcn, 0, 4, p.str(msg), 1)}
${result(p, 'console_write with base_addr_hi = 1')}
${p.sbi(EID.dbcn, 0, 4, 0x1000_0000, 0)}
${result(p, 'console_write from the UART registers')}
    la    s2, ${p.str(byteMsg)}
1:  lbu   s3, 0(s2)
    beqz  s3, 2f
${p.sbi(EID.dbcn, 2, 's3')}
    mv    s4, a0
    addi  s2, s2, 1
    j     1b
2:
${p.show('console_write_byte: error', 's4', 'dec')}
    # console_read until the three typed bytes have arrived
    li    s2, 0
    la    s3, buf
3:  li    t0, 3
    sub   t0, t0, s2
    add   t1, s3, s2
${p.sbi(EID.dbcn, 1, 't0', 't1', 0)}
    beqz  a0, 4f
    j     fail
4:  add   s2, s2, a1
    li    t0, 3
    blt   s2, t0, 3b
${p.show('console_read: bytes', 's2', 'dec')}
    la    a0, ${p.str('payload: console_read: "')}
    call  puts
${p.sbi(EID.dbcn, 0, 3, 'buf', 0)}
    la    a0, ${p.str('"\n')}
    call  puts
${p.sbi(EID.getchar, 0)}
${p.show('legacy getchar with nothing typed', 'a0', 'dec')}
${p.sbi(EID.dbcn, 1, 4, 0x8000_0000, 0)}
${result(p, 'console_read into firmware memory')}
${p.sbi(EID.dbcn, 1, 0, 0, 0)}
${result(p, 'console_read of 0 bytes', true)}
${p.sbi(EID.dbcn, 3)}
${result(p, 'DBCN fid 3')}
`);
}

/** SRST: invalid types and reasons, then shutdown with reason "system failure" (exit code 1). */
export function srstFailurePayload(): string {
  const p = new Payload();
  return p.source(`
${p.sbi(EID.srst, 0, 3, 0)}
${result(p, 'system_reset(3, 0) (reserved type)')}
${p.sbi(EID.srst, 0, 0xf000_0000, 0)}
${result(p, 'system_reset(0xf0000000, 0) (vendor type)')}
${p.sbi(EID.srst, 0, 0, 2)}
${result(p, 'system_reset(0, 2) (reserved reason)')}
${p.sbi(EID.srst, 0, 0, 0xe000_0000)}
${result(p, 'system_reset(0, 0xe0000000) (SBI-specific reason)')}
${p.sbi(EID.srst, 0, 0, 0xf000_0000)}
${result(p, 'system_reset(0, 0xf0000000) (vendor reason)')}
${p.sbi(EID.srst, 1)}
${result(p, 'SRST fid 1')}
${p.say('shutting down with reason "system failure"')}
${p.sbi(EID.srst, 0, 0, 1)}
${p.say('system_reset returned')}
    j     fail
`);
}

/** SRST: cold (type 1) or warm (type 2) reboot. */
export function srstRebootPayload(type: 1 | 2): string {
  const p = new Payload();
  return p.source(`
${p.say(type === 1 ? 'cold reboot' : 'warm reboot')}
${p.sbi(EID.srst, 0, type, 0)}
${p.say('system_reset returned')}
    j     fail
`);
}

/**
 * PMP: S-mode loads, stores and jumps into the firmware's memory. The
 * firmware redirects each access fault to the payload's handler, which
 * prints it and skips the access.
 */
export function pmpPayload(): string {
  const p = new Payload();
  return p.source(`
${p.setHook('pmp_hook')}
    li    s2, 0x80000000
    ld    t0, 0(s2)
    sd    zero, 0(s2)
    li    s2, 0x801ffff8
    ld    t0, 0(s2)
    li    s2, 0x80000000
    jalr  ra, 0(s2)
    li    s2, 0x80200000
    ld    t0, 0(s2)
${p.say('the payload itself (0x80200000) is readable')}
    j     pass
${p.hook('pmp_hook', `
${p.show('trap: scause', 's2')}
${p.show('trap: stval', 's4')}
    li    t0, 1
    beq   s2, t0, 1f
    addi  s3, s3, 4               # skip the load or store
    csrw  sepc, s3
    j     2f
1:  ld    t0, FRAME_RA(s5)        # a fetch fault: return to the caller
    csrw  sepc, t0
2:`)}
`);
}

/** PMP with no S-mode trap handler: the firmware reports the fault and fails. */
export function pmpFatalPayload(): string {
  const p = new Payload();
  return p.source(`
    csrw  stvec, zero
${p.say('loading from firmware memory with stvec = 0')}
    li    t0, 0x80000000
    ld    t0, 0(t0)
${p.say('still running')}
    j     fail
`);
}

/** Calls BASE get_spec_version once (the M-mode fault test patches the firmware under it). */
export function baseCallPayload(): string {
  const p = new Payload();
  return p.source(`
${p.say('calling sbi_get_spec_version')}
${p.sbi(EID.base, 0)}
${p.say('returned')}
`);
}

/** Does nothing but power off: measures the firmware's boot. */
export function emptyPayload(): string {
  return new Payload().source('');
}

/** Where dbcnHighmemPayload puts its buffer: the highmem bank (kmemlab only; QEMU virt has none). */
export const HIGHMEM_BUFFER = 0x1_0000_1000n;

/** DBCN with buffers above 4 GiB, in the highmem bank (the test types "hi"). */
export function dbcnHighmemPayload(): string {
  const p = new Payload();
  const msg = 'payload: written from highmem\n';
  return p.source(`
    # copy the message to HIGHMEM_BUFFER
    la    t0, ${p.str(msg)}
    li    t1, ${HIGHMEM_BUFFER}
1:  lbu   t2, 0(t0)
    sb    t2, 0(t1)
    addi  t0, t0, 1
    addi  t1, t1, 1
    bnez  t2, 1b
${p.sbi(EID.dbcn, 0, msg.length, HIGHMEM_BUFFER, 0)}
${result(p, 'console_write from highmem', true)}
    li    s2, 0
2:  li    t0, 2
    sub   t0, t0, s2
    li    t1, ${HIGHMEM_BUFFER + 0x100n}
    add   t1, t1, s2
${p.sbi(EID.dbcn, 1, 't0', 't1', 0)}
    add   s2, s2, a1
    li    t0, 2
    blt   s2, t0, 2b
    li    t0, ${HIGHMEM_BUFFER + 0x100n}
    lbu   s3, 0(t0)
    lbu   s4, 1(t0)
${p.show('console_read into highmem: first byte', 's3')}
${p.show('console_read into highmem: second byte', 's4')}
${p.sbi(EID.dbcn, 0, 16, 0x1_0fff_fff8n, 0)}
${result(p, 'console_write across the end of highmem')}
${p.sbi(EID.dbcn, 0, 16, 0x1_8000_0000n, 0)}
${result(p, 'console_write beyond every bank')}
`);
}
