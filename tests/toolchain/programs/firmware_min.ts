// @ts-nocheck: AssemblyScript, compiled by asc (not by tsc)
/**
 * A minimal firmware for the toolchain tests (build.test.ts copies it to
 * firmware/main.ts of a temporary tree). It is the placeholder
 * firmware/main.ts of issue 3, kept here so that the tests do not depend on
 * the real SBI firmware.
 *
 * Hart 0 opens PMP to S-mode, prints a banner on the UART and enters the
 * kernel at 0x8020_0000 in S-mode (a0 = hart id, a1 = DTB) by way of an
 * `ecall` that fw_trap turns into an mret; the other harts sleep. It serves
 * only what the placeholder kernel uses: the legacy SBI console putchar
 * (EID 0x01) and SRST system_reset (shutdown; a failure reason fails the run).
 *
 * Entry and trap frame: toolchain/stubs/firmware.ts and common.ts.
 */

@external("riscv", "ecall")
declare function ecall(a0: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64, a6: u64, a7: u64): u64;
@external("riscv", "wfi")
declare function wfi(): void;
@external("riscv", "csrw_pmpaddr0")
declare function csrw_pmpaddr0(v: u64): void;
@external("riscv", "csrw_pmpcfg0")
declare function csrw_pmpcfg0(v: u64): void;

const UART_THR: usize = 0x1000_0000;
const UART_LSR: usize = 0x1000_0005;
const FINISHER: usize = 0x0010_0000;
const KERNEL_ENTRY: u64 = 0x8020_0000;

// The trap frame (toolchain/stubs/common.ts): epc, x1 … x31 at 8·i, status, tval, cause.
const FRAME_EPC: usize = 0;
const FRAME_A0: usize = 80;
const FRAME_A1: usize = 88;
const FRAME_A7: usize = 136;
const FRAME_STATUS: usize = 256;
const FRAME_CAUSE: usize = 272;

const MSTATUS_MPP: u64 = 3 << 11;
const MSTATUS_MPP_S: u64 = 1 << 11;
const CAUSE_SUPERVISOR_ECALL: u64 = 9;
const CAUSE_MACHINE_ECALL: u64 = 11;
const SBI_EXT_0_1_CONSOLE_PUTCHAR: u64 = 0x01;
const SBI_EXT_SRST: u64 = 0x5352_5354;
const SBI_ERR_NOT_SUPPORTED: i64 = -2;

let boot_dtb: u64 = 0;

function putc(c: u32): void {
  while ((load<u8>(UART_LSR) & 0x20) == 0) {} // LSR.THRE
  store<u8>(UART_THR, <u8>c);
}

function puts(s: string): void {
  for (let i = 0; i < s.length; i++) putc(s.charCodeAt(i));
}

export function fw_main(hartid: u64, dtb: u64): void {
  if (hartid != 0) {
    while (true) wfi();
  }
  csrw_pmpaddr0(~(<u64>0)); // PMP entry 0: NAPOT over everything,
  csrw_pmpcfg0(0x1f);       // R W X for S and U
  boot_dtb = dtb;
  puts("kmemlab firmware (placeholder): entering the kernel at 0x80200000\n");
  ecall(0, 0, 0, 0, 0, 0, 0, 0); // fw_trap leaves the trap into S-mode
}

export function fw_trap(frame: usize): void {
  const cause = load<u64>(frame + FRAME_CAUSE);
  if (cause == CAUSE_MACHINE_ECALL) {
    store<u64>(frame + FRAME_EPC, KERNEL_ENTRY);
    const status = load<u64>(frame + FRAME_STATUS);
    store<u64>(frame + FRAME_STATUS, (status & ~MSTATUS_MPP) | MSTATUS_MPP_S);
    store<u64>(frame + FRAME_A0, 0);
    store<u64>(frame + FRAME_A1, boot_dtb);
    return;
  }
  if (cause == CAUSE_SUPERVISOR_ECALL) {
    store<u64>(frame + FRAME_EPC, load<u64>(frame + FRAME_EPC) + 4);
    const eid = load<u64>(frame + FRAME_A7);
    if (eid == SBI_EXT_0_1_CONSOLE_PUTCHAR) {
      putc(<u32>load<u64>(frame + FRAME_A0));
      store<u64>(frame + FRAME_A0, 0);
    } else if (eid == SBI_EXT_SRST) {
      store<u32>(FINISHER, load<u64>(frame + FRAME_A1) != 0 ? 0x3333 | (1 << 16) : 0x5555);
    } else {
      store<i64>(frame + FRAME_A0, SBI_ERR_NOT_SUPPORTED);
    }
    return;
  }
  puts("kmemlab firmware (placeholder): unexpected trap\n");
  store<u32>(FINISHER, 0x3333 | (3 << 16));
}
