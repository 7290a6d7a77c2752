/**
 * Calls into the SBI firmware (RISC-V SBI specification 2.0).
 *
 * Calling convention (SBI spec ch. 3): a7 = extension id (EID), a6 = function
 * id (FID), arguments in a0..a5; the firmware returns `struct sbiret` as
 * a0 = error (0 or a negative SBI_ERR_*), a1 = value. The toolchain inlines
 * `ecall` and keeps a1 for ecall_a1(), which every wrapper reads right after
 * its call, so one hart's calls never see another's value.
 *
 * Two firmwares run us: ours (SBI 2.0, every extension below) and Debian's
 * OpenSBI 1.1 (SBI 1.0: no DBCN). sbi_init() probes once; the console then
 * uses DBCN when present and the legacy putchar (EID 0x01) otherwise.
 *
 * Context of every function here: any, interrupts on or off, no locks taken;
 * the firmware serialises its own state. None may sleep.
 */
import { ecall, ecall_a1 } from "./riscv";
import { __pa } from "./layout";

// Extension ids (SBI spec chapters 4-12).
export const SBI_EXT_0_1_SET_TIMER: u64 = 0x00;
export const SBI_EXT_0_1_CONSOLE_PUTCHAR: u64 = 0x01;
export const SBI_EXT_0_1_CONSOLE_GETCHAR: u64 = 0x02;
export const SBI_EXT_0_1_SHUTDOWN: u64 = 0x08;
export const SBI_EXT_BASE: u64 = 0x10;
export const SBI_EXT_TIME: u64 = 0x54494D45;
export const SBI_EXT_IPI: u64 = 0x735049;
export const SBI_EXT_RFENCE: u64 = 0x52464E43;
export const SBI_EXT_HSM: u64 = 0x48534D;
export const SBI_EXT_SRST: u64 = 0x53525354;
export const SBI_EXT_DBCN: u64 = 0x4442434E;

// Error codes (SBI spec 3.2, table 1).
export const SBI_SUCCESS: i64 = 0;
export const SBI_ERR_FAILED: i64 = -1;
export const SBI_ERR_NOT_SUPPORTED: i64 = -2;
export const SBI_ERR_INVALID_PARAM: i64 = -3;
export const SBI_ERR_DENIED: i64 = -4;
export const SBI_ERR_INVALID_ADDRESS: i64 = -5;
export const SBI_ERR_ALREADY_AVAILABLE: i64 = -6;
export const SBI_ERR_ALREADY_STARTED: i64 = -7;
export const SBI_ERR_ALREADY_STOPPED: i64 = -8;

// HSM states (9.1).
export const SBI_HSM_STATE_STARTED: i64 = 0;
export const SBI_HSM_STATE_STOPPED: i64 = 1;
export const SBI_HSM_STATE_START_PENDING: i64 = 2;
export const SBI_HSM_STATE_STOP_PENDING: i64 = 3;

// SRST types and reasons (10.1).
export const SBI_SRST_RESET_TYPE_SHUTDOWN: u32 = 0;
export const SBI_SRST_RESET_TYPE_COLD_REBOOT: u32 = 1;
export const SBI_SRST_RESET_TYPE_WARM_REBOOT: u32 = 2;
export const SBI_SRST_RESET_REASON_NONE: u32 = 0;
export const SBI_SRST_RESET_REASON_SYS_FAILURE: u32 = 1;

/** Implementation ids (BASE get_impl_id) we care about. */
export const SBI_IMPL_OPENSBI: i64 = 1;

/** What sbi_init() found. Written once on the boot hart before any other hart runs. */
export let sbi_spec_version: i64 = 0;
export let sbi_impl_id: i64 = -1;
export let sbi_impl_version: i64 = 0;
export let sbi_has_dbcn: bool = false;
export let sbi_has_srst: bool = false;
export let sbi_has_hsm: bool = false;
export let sbi_has_ipi: bool = false;
export let sbi_has_time: bool = false;

/**
 * One SBI call. Returns the error (a0) when negative, else the value (a1).
 * Functions whose value may be negative use sbi_call_err / ecall_a1 directly.
 */
export function sbi_call(eid: u64, fid: u64, a0: u64 = 0, a1: u64 = 0, a2: u64 = 0, a3: u64 = 0): i64 {
  const err = <i64>ecall(a0, a1, a2, a3, 0, 0, fid, eid);
  const value = <i64>ecall_a1();
  return err < 0 ? err : value;
}

/** BASE probe_extension: true when the firmware implements `eid`. */
export function sbi_probe_extension(eid: u64): bool {
  return sbi_call(SBI_EXT_BASE, 3, eid) > 0;
}

/**
 * Probe the firmware once, on the boot hart, before the console is used.
 * SBI v0.1 firmware (no BASE) leaves everything false: legacy calls only.
 */
export function sbi_init(): void {
  const v = sbi_call(SBI_EXT_BASE, 0);
  if (v < 0) return;
  sbi_spec_version = v;
  sbi_impl_id = sbi_call(SBI_EXT_BASE, 1);
  sbi_impl_version = sbi_call(SBI_EXT_BASE, 2);
  sbi_has_dbcn = sbi_probe_extension(SBI_EXT_DBCN);
  sbi_has_srst = sbi_probe_extension(SBI_EXT_SRST);
  sbi_has_hsm = sbi_probe_extension(SBI_EXT_HSM);
  sbi_has_ipi = sbi_probe_extension(SBI_EXT_IPI);
  sbi_has_time = sbi_probe_extension(SBI_EXT_TIME);
}

/** SBI spec version as "major.minor" parts. */
export function sbi_major_version(): i32 { return <i32>((sbi_spec_version >> 24) & 0x7f); }
export function sbi_minor_version(): i32 { return <i32>(sbi_spec_version & 0xffffff); }

// --- console --------------------------------------------------------------

/** Legacy console putchar (EID 0x01): always there, one trap per byte. */
export function sbi_console_putchar(ch: u32): void {
  ecall(<u64>ch, 0, 0, 0, 0, 0, 0, SBI_EXT_0_1_CONSOLE_PUTCHAR);
}

/** Legacy console getchar: the byte, or -1 when none is waiting. */
export function sbi_console_getchar(): i32 {
  return <i32><i64>ecall(0, 0, 0, 0, 0, 0, 0, SBI_EXT_0_1_CONSOLE_GETCHAR);
}

/**
 * Write `len` bytes at kernel pointer `buf` (linear map) to the console:
 * DBCN console_write when the firmware has it (in as many calls as it takes),
 * else one legacy putchar per byte. Returns bytes written (len), or a
 * negative SBI error when DBCN fails outright.
 */
export function sbi_console_write(buf: usize, len: i32): i32 {
  if (!sbi_has_dbcn) {
    for (let i = 0; i < len; i++) sbi_console_putchar(load<u8>(buf + i));
    return len;
  }
  let done = 0;
  while (done < len) {
    const r = sbi_call(SBI_EXT_DBCN, 0, <u64>(len - done), __pa(buf + done), 0);
    if (r < 0) return <i32>r;
    done += <i32>r;
  }
  return len;
}

// --- timer, IPI, HSM, SRST ------------------------------------------------

/** Program this hart's next timer interrupt at absolute `time` value; clears the pending one. */
export function sbi_set_timer(stime_value: u64): void {
  if (sbi_has_time) sbi_call(SBI_EXT_TIME, 0, stime_value);
  else ecall(stime_value, 0, 0, 0, 0, 0, 0, SBI_EXT_0_1_SET_TIMER);
}

/**
 * Raise a supervisor software interrupt on the harts in `hart_mask`
 * (bit i = hart hart_mask_base + i). Returns 0 or an SBI error.
 */
export function sbi_send_ipi(hart_mask: u64, hart_mask_base: u64): i64 {
  return sbi_call(SBI_EXT_IPI, 0, hart_mask, hart_mask_base);
}

/**
 * Start `hartid` in S-mode at physical `start_addr` with a0 = hartid,
 * a1 = opaque, satp = 0. Returns 0 or an SBI error (ALREADY_AVAILABLE when
 * the hart runs).
 */
export function sbi_hart_start(hartid: u64, start_addr: u64, opaque: u64): i64 {
  return <i64>ecall(hartid, start_addr, opaque, 0, 0, 0, 0, SBI_EXT_HSM);
}

/** Stop the calling hart (returns only on failure, with the error). */
export function sbi_hart_stop(): i64 {
  return <i64>ecall(0, 0, 0, 0, 0, 0, 1, SBI_EXT_HSM);
}

/** HSM state of `hartid` (SBI_HSM_STATE_*), or a negative SBI error. */
export function sbi_hart_get_status(hartid: u64): i64 {
  return sbi_call(SBI_EXT_HSM, 2, hartid);
}

/**
 * Shut down or reboot the system. Returns only when the firmware refuses,
 * with the error; then the legacy shutdown is tried for `SHUTDOWN`.
 */
export function sbi_system_reset(reset_type: u32, reason: u32): i64 {
  let r: i64 = SBI_ERR_NOT_SUPPORTED;
  if (sbi_has_srst) r = <i64>ecall(<u64>reset_type, <u64>reason, 0, 0, 0, 0, 0, SBI_EXT_SRST);
  if (reset_type == SBI_SRST_RESET_TYPE_SHUTDOWN) ecall(0, 0, 0, 0, 0, 0, 0, SBI_EXT_0_1_SHUTDOWN);
  return r;
}
