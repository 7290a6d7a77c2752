/**
 * printk: the kernel log (Linux kernel/printk/printk.c as of 3.5-5.9, the
 * last "struct printk_log" design, which crash(8), makedumpfile and
 * vmcore-dmesg still read; the host reads it the same way).
 *
 * Levels travel in the text as in Linux: KERN_SOH ("\x01") and a digit,
 * at the start of the format: printk("\x016cpu %d up\n", cpu). The
 * pr_err / pr_info / … helpers add the level for you. A message without a
 * level gets default_message_loglevel (4, warning); a message goes to the
 * console when its level < console_loglevel (7 by default; `loglevel=N`,
 * `quiet` = 4, `debug` = 10 on the command line). KERN_CONT ("\x01c")
 * continues the previous line.
 *
 * Every message becomes one record in log_buf, the console sees the text
 * (plus "[  sec.usec] " when printk.time=1):
 *
 *   log_buf (LOG_BUF_LEN bytes)       record (LOG_ALIGN = 8)
 *   ┌──────┬──────┬──────┬─────┬───┐   ┌──────────────┐ +0  u64 ts_nsec
 *   │ rec  │ rec  │ rec  │ ... │ 0 │   │ printk_log   │ +8  u16 len (whole record)
 *   └──────┴──────┴──────┴─────┴───┘   │   24 bytes   │ +10 u16 text_len
 *     ▲ log_first_idx    ▲ log_next_idx│              │ +12 u16 dict_len (0)
 *                                      │              │ +14 u8 facility (0)
 *   A zero `len` header means "wrap    │              │ +15 u8 flags:5 | level:3 << 5
 *   to the start of the buffer".       │              │ +16 u32 caller_id (0x80000000 | cpu)
 *   The oldest records are dropped     ├──────────────┤ +24 text (no trailing newline)
 *   to make room (log_first_seq++).    └──────────────┘
 *
 * The state the host reads (printk_state, below) sits in linear memory at a
 * fixed symbol, with the buffer: log_buf, log_buf_len, log_first_idx,
 * log_next_idx, log_first_seq, log_next_seq.
 *
 * Locking: logbuf_lock (a spinlock, interrupts off) covers formatting into
 * the shared text buffer, the ring and the console, so lines from different
 * harts never interleave. A printk on a CPU that is already inside printk (a
 * trap in the middle of one: an oops) formats into a separate buffer and
 * writes the console directly. panic() calls printk_bust_locks() after
 * stopping the other CPUs, in case one of them died holding the lock.
 */
import { vsnprintf, scnprintf } from "./lib/vsprintf";
import { spinlock_t, SPINLOCK_SIZE, spin_lock_init, spin_is_mine, arch_spin_lock, arch_spin_unlock } from "./locking/spinlock";
import { local_irq_save, local_irq_restore } from "./arch/irqflags";
import { sbi_console_write } from "./arch/sbi";
import { this_cpu, smp_processor_id } from "./cpu";
import { local_clock } from "./time/clock";
import { vmcoreinfo_symbol, vmcoreinfo_size, vmcoreinfo_offset, vmcoreinfo_number } from "./vmcoreinfo";

// Levels (include/linux/kern_levels.h).
export const KERN_SOH = "\x01";
export const KERN_EMERG = "\x010";
export const KERN_ALERT = "\x011";
export const KERN_CRIT = "\x012";
export const KERN_ERR = "\x013";
export const KERN_WARNING = "\x014";
export const KERN_NOTICE = "\x015";
export const KERN_INFO = "\x016";
export const KERN_DEBUG = "\x017";
export const KERN_DEFAULT = "";
export const KERN_CONT = "\x01c";

export const LOGLEVEL_DEFAULT: i32 = -1;
export const LOGLEVEL_EMERG: i32 = 0;
export const LOGLEVEL_ALERT: i32 = 1;
export const LOGLEVEL_CRIT: i32 = 2;
export const LOGLEVEL_ERR: i32 = 3;
export const LOGLEVEL_WARNING: i32 = 4;
export const LOGLEVEL_NOTICE: i32 = 5;
export const LOGLEVEL_INFO: i32 = 6;
export const LOGLEVEL_DEBUG: i32 = 7;

export const CONSOLE_LOGLEVEL_DEFAULT: i32 = 7;
export const CONSOLE_LOGLEVEL_QUIET: i32 = 4;
export const MESSAGE_LOGLEVEL_DEFAULT: i32 = 4;

/** Console threshold: messages with level < console_loglevel are printed. */
export let console_loglevel: i32 = 7; // CONSOLE_LOGLEVEL_DEFAULT (a literal: no wasm start function)
export let default_message_loglevel: i32 = 4; // MESSAGE_LOGLEVEL_DEFAULT
/** printk.time=1: prefix console lines with the timestamp. */
export let printk_time: bool = false;
/** Set while an oops or panic is being reported. */
export let oops_in_progress: i32 = 0;

export function set_console_loglevel(level: i32): void {
  console_loglevel = level < 1 ? 1 : level;
}
export function set_printk_time(on: bool): void { printk_time = on; }
export function set_oops_in_progress(v: i32): void { oops_in_progress = v; }

// Record flags (enum log_flags).
export const LOG_NEWLINE: u8 = 2;
export const LOG_CONT: u8 = 8;

export const LOG_BUF_SHIFT: u32 = 17;
export const LOG_BUF_LEN: u32 = 1 << LOG_BUF_SHIFT;
export const LOG_ALIGN: u32 = 8;
export const PRINTK_LOG_SIZE: u32 = 24;
export const LOG_LINE_MAX: i32 = 1024 - 32;

/** The ring, at a fixed address (see the note). */
export const log_buf: usize = memory.data(<i32>LOG_BUF_LEN, 8);

@unmanaged
export class printk_state {
  log_buf: u32;
  log_buf_len: u32;
  log_first_idx: u32;
  log_next_idx: u32;
  log_first_seq: u64;
  log_next_seq: u64;
  /** The console's last output lacked a newline (an open KERN_CONT line). */
  cont_open: u32;
  /** Records that reached the console / were suppressed by console_loglevel. */
  console_seq: u32;
}
export const prb = changetype<printk_state>(memory.data(offsetof<printk_state>(), 8));

const logbuf_lock = changetype<spinlock_t>(memory.data(SPINLOCK_SIZE, 16));
const textbuf: usize = memory.data(1024, 8);
const consbuf: usize = memory.data(64, 8);
const emergbuf: usize = memory.data(512, 8);

/** Where console text goes: the SBI console unless a driver takes over. */
let console_write_fn: usize = 0;

/** Replace the console (a driver, or the host tests). Context: boot, one CPU. */
export function register_console(write: (buf: usize, len: i32) => i32): void {
  console_write_fn = changetype<usize>(write);
}

function console_write(buf: usize, len: i32): void {
  if (len <= 0) return;
  if (console_write_fn != 0) changetype<(buf: usize, len: i32) => i32>(console_write_fn)(buf, len);
  else sbi_console_write(buf, len);
}

function rec_len(idx: u32): u32 { return <u32>load<u16>(log_buf + idx + 8); }

/** Index of the record after the one at `idx` (log_next in Linux). */
function log_next(idx: u32): u32 {
  const len = rec_len(idx);
  if (len == 0) return rec_len(0);
  return idx + len;
}

function log_store(level: i32, flags: u8, ts: u64, text: usize, text_len: u32): void {
  let size = PRINTK_LOG_SIZE + text_len;
  size = (size + LOG_ALIGN - 1) & ~(LOG_ALIGN - 1);
  if (prb.log_buf == 0) {
    prb.log_buf = <u32>log_buf;
    prb.log_buf_len = LOG_BUF_LEN;
  }
  // Make room: drop old records until there is enough contiguous space.
  while (prb.log_first_seq < prb.log_next_seq) {
    let free: u32;
    if (prb.log_next_idx > prb.log_first_idx) {
      const tail = LOG_BUF_LEN - prb.log_next_idx;
      free = tail > prb.log_first_idx ? tail : prb.log_first_idx;
    } else {
      free = prb.log_first_idx - prb.log_next_idx;
    }
    if (free >= size + PRINTK_LOG_SIZE) break;
    prb.log_first_idx = log_next(prb.log_first_idx);
    prb.log_first_seq++;
  }
  if (prb.log_next_idx + size + PRINTK_LOG_SIZE > LOG_BUF_LEN) {
    // An empty header marks the wrap.
    memory.fill(log_buf + prb.log_next_idx, 0, PRINTK_LOG_SIZE);
    prb.log_next_idx = 0;
    if (prb.log_first_seq == prb.log_next_seq) prb.log_first_idx = 0;
  }
  const r = log_buf + prb.log_next_idx;
  store<u64>(r, ts);
  store<u16>(r + 8, <u16>size);
  store<u16>(r + 10, <u16>text_len);
  store<u16>(r + 12, 0);
  store<u8>(r + 14, 0);
  store<u8>(r + 15, <u8>((flags & 0x1f) | ((<u8>level & 7) << 5)));
  store<u32>(r + 16, 0x8000_0000 | <u32>smp_processor_id());
  store<u32>(r + 20, 0);
  memory.copy(r + PRINTK_LOG_SIZE, text, text_len);
  prb.log_next_idx += size;
  prb.log_next_seq++;
}

function emit_console(level: i32, flags: u8, ts: u64, text: usize, len: i32): void {
  const cont = (flags & LOG_CONT) != 0;
  if (level >= console_loglevel) return;
  if (!cont && prb.cont_open != 0) {
    store<u8>(consbuf, 10);
    console_write(consbuf, 1);
  }
  if (!cont && printk_time) {
    const us = ts / 1000;
    const n = scnprintf(consbuf, 64, "[%5lu.%06lu] ", us / 1_000_000, us % 1_000_000);
    console_write(consbuf, n);
  }
  console_write(text, len);
  if (flags & LOG_NEWLINE) {
    store<u8>(consbuf, 10);
    console_write(consbuf, 1);
    prb.cont_open = 0;
  } else {
    prb.cont_open = 1;
  }
  prb.console_seq++;
}

/**
 * Split the level prefix off formatted text at `text` (len bytes): returns
 * the number of prefix bytes, and writes level (or -1) and the CONT flag
 * into `out` (i32 level, i32 cont).
 */
function parse_prefix(text: usize, len: i32, out: usize): i32 {
  let skip = 0;
  let level = LOGLEVEL_DEFAULT;
  let cont = 0;
  while (skip + 1 < len && load<u8>(text + skip) == 1) {
    const c = <i32>load<u8>(text + skip + 1);
    if (c >= 48 && c <= 55) level = c - 48;
    else if (c == 99) cont = 1;
    else if (c != 100) break; // 'd' = KERN_DEFAULT
    skip += 2;
  }
  store<i32>(out, level);
  store<i32>(out, cont, 4);
  return skip;
}

const prefix_out: usize = memory.data(8, 8);
const emerg_prefix_out: usize = memory.data(8, 8);
/** pr_cont's level argument: continue the previous line. */
const LOGLEVEL_CONT: i32 = -2;
/** Level of the last line, which a KERN_CONT piece inherits. */
let last_level: i32 = 4;

/** The level of a message: the caller's, else its prefix's; a continuation keeps the line's. */
function resolve_level(level: i32, out: usize): i32 {
  let lvl = level >= 0 ? level : load<i32>(out);
  if (resolve_cont(level, out) && lvl < 0) lvl = last_level;
  if (lvl < 0) lvl = default_message_loglevel;
  last_level = lvl;
  return lvl;
}

function resolve_cont(level: i32, out: usize): bool {
  return level == LOGLEVEL_CONT || load<i32>(out, 4) != 0;
}

/** Format and log one message at `text`/`len`. Caller holds logbuf_lock or is in the emergency path. */
function log_text(level: i32, cont: bool, text: usize, len: i32, store_it: bool): void {
  let flags: u8 = cont ? LOG_CONT : 0;
  if (len > 0 && load<u8>(text + len - 1) == 10) {
    len--;
    flags |= LOG_NEWLINE;
  }
  if (level == LOGLEVEL_DEFAULT) level = default_message_loglevel;
  const ts = local_clock();
  if (store_it) log_store(level, flags, ts, text, <u32>len);
  emit_console(level, flags, ts, text, len);
}

/**
 * The core of printk: `level` (or LOGLEVEL_DEFAULT to take it from the text),
 * `fmt` and its arguments. Returns the number of bytes of the message.
 * Context: any (interrupts are disabled inside); never sleeps.
 */
export function vprintk_emit(level: i32, fmt: string,
    a0: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64, a6: u64, a7: u64): i32 {
  const flags = local_irq_save();
  const c = this_cpu();
  if (c.printk_depth > 0 || spin_is_mine(logbuf_lock)) {
    // Recursion (a trap inside printk): keep the lock untouched, go straight to the console.
    let n = scnprintf(emergbuf, 512, fmt, a0, a1, a2, a3, a4, a5, a6, a7);
    const skip = parse_prefix(emergbuf, n, emerg_prefix_out);
    log_text(resolve_level(level, emerg_prefix_out), resolve_cont(level, emerg_prefix_out), emergbuf + skip, n - skip, false);
    local_irq_restore(flags);
    return n - skip;
  }
  c.printk_depth++;
  // Bare lock: interrupts are already off, and printk must not reschedule.
  arch_spin_lock(logbuf_lock);

  let n = scnprintf(textbuf, LOG_LINE_MAX, fmt, a0, a1, a2, a3, a4, a5, a6, a7);
  const skip = parse_prefix(textbuf, n, prefix_out);
  log_text(resolve_level(level, prefix_out), resolve_cont(level, prefix_out), textbuf + skip, n - skip, true);

  arch_spin_unlock(logbuf_lock);
  c.printk_depth--;
  local_irq_restore(flags);
  return n - skip;
}

/** printk(fmt, …): the level comes from a KERN_* prefix in fmt. Returns the message length. Context: any. */
export function printk(fmt: string, a0: u64 = 0, a1: u64 = 0, a2: u64 = 0, a3: u64 = 0, a4: u64 = 0, a5: u64 = 0, a6: u64 = 0, a7: u64 = 0): i32 {
  return vprintk_emit(LOGLEVEL_DEFAULT, fmt, a0, a1, a2, a3, a4, a5, a6, a7);
}

/** printk at an explicit level (a KERN_* prefix in fmt is still honoured for KERN_CONT). */
export function printk_level(level: i32, fmt: string, a0: u64 = 0, a1: u64 = 0, a2: u64 = 0, a3: u64 = 0, a4: u64 = 0, a5: u64 = 0, a6: u64 = 0, a7: u64 = 0): i32 {
  return vprintk_emit(level, fmt, a0, a1, a2, a3, a4, a5, a6, a7);
}

export function pr_emerg(fmt: string, a0: u64 = 0, a1: u64 = 0, a2: u64 = 0, a3: u64 = 0, a4: u64 = 0, a5: u64 = 0, a6: u64 = 0, a7: u64 = 0): i32 {
  return vprintk_emit(LOGLEVEL_EMERG, fmt, a0, a1, a2, a3, a4, a5, a6, a7);
}
export function pr_alert(fmt: string, a0: u64 = 0, a1: u64 = 0, a2: u64 = 0, a3: u64 = 0, a4: u64 = 0, a5: u64 = 0, a6: u64 = 0, a7: u64 = 0): i32 {
  return vprintk_emit(LOGLEVEL_ALERT, fmt, a0, a1, a2, a3, a4, a5, a6, a7);
}
export function pr_crit(fmt: string, a0: u64 = 0, a1: u64 = 0, a2: u64 = 0, a3: u64 = 0, a4: u64 = 0, a5: u64 = 0, a6: u64 = 0, a7: u64 = 0): i32 {
  return vprintk_emit(LOGLEVEL_CRIT, fmt, a0, a1, a2, a3, a4, a5, a6, a7);
}
export function pr_err(fmt: string, a0: u64 = 0, a1: u64 = 0, a2: u64 = 0, a3: u64 = 0, a4: u64 = 0, a5: u64 = 0, a6: u64 = 0, a7: u64 = 0): i32 {
  return vprintk_emit(LOGLEVEL_ERR, fmt, a0, a1, a2, a3, a4, a5, a6, a7);
}
export function pr_warn(fmt: string, a0: u64 = 0, a1: u64 = 0, a2: u64 = 0, a3: u64 = 0, a4: u64 = 0, a5: u64 = 0, a6: u64 = 0, a7: u64 = 0): i32 {
  return vprintk_emit(LOGLEVEL_WARNING, fmt, a0, a1, a2, a3, a4, a5, a6, a7);
}
export function pr_notice(fmt: string, a0: u64 = 0, a1: u64 = 0, a2: u64 = 0, a3: u64 = 0, a4: u64 = 0, a5: u64 = 0, a6: u64 = 0, a7: u64 = 0): i32 {
  return vprintk_emit(LOGLEVEL_NOTICE, fmt, a0, a1, a2, a3, a4, a5, a6, a7);
}
export function pr_info(fmt: string, a0: u64 = 0, a1: u64 = 0, a2: u64 = 0, a3: u64 = 0, a4: u64 = 0, a5: u64 = 0, a6: u64 = 0, a7: u64 = 0): i32 {
  return vprintk_emit(LOGLEVEL_INFO, fmt, a0, a1, a2, a3, a4, a5, a6, a7);
}
export function pr_debug(fmt: string, a0: u64 = 0, a1: u64 = 0, a2: u64 = 0, a3: u64 = 0, a4: u64 = 0, a5: u64 = 0, a6: u64 = 0, a7: u64 = 0): i32 {
  return vprintk_emit(LOGLEVEL_DEBUG, fmt, a0, a1, a2, a3, a4, a5, a6, a7);
}
/** Continue the previous line (KERN_CONT). */
export function pr_cont(fmt: string, a0: u64 = 0, a1: u64 = 0, a2: u64 = 0, a3: u64 = 0, a4: u64 = 0, a5: u64 = 0, a6: u64 = 0, a7: u64 = 0): i32 {
  return vprintk_emit(LOGLEVEL_CONT, fmt, a0, a1, a2, a3, a4, a5, a6, a7);
}

/**
 * Forget that another CPU holds the log lock (it was stopped while holding
 * it). Context: panic, after the other CPUs are stopped.
 */
export function printk_bust_locks(): void {
  spin_lock_init(logbuf_lock);
  this_cpu().printk_depth = 0;
}

// --- reading the log back (dmesg) ------------------------------------------

/** Sequence number of the oldest record still in the ring. */
export function log_first_seq(): u64 { return prb.log_first_seq; }
/** Sequence number the next record will get. */
export function log_next_seq(): u64 { return prb.log_next_seq; }

/**
 * Copy the text of record `seq` into `buf` (NUL-terminated, at most size - 1
 * bytes). Returns the record's level in bits 8-10 | flags in bits 0-4 | the
 * copied length << 16, or -1 when the record has been overwritten or does
 * not exist yet. Context: any; takes logbuf_lock (interrupts off).
 */
export function log_read_record(seq: u64, buf: usize, size: i32): i32 {
  const flags = local_irq_save();
  arch_spin_lock(logbuf_lock);
  let result = -1;
  if (seq >= prb.log_first_seq && seq < prb.log_next_seq) {
    let idx = prb.log_first_idx;
    for (let s = prb.log_first_seq; s < seq; s++) idx = log_next(idx);
    if (rec_len(idx) == 0) idx = 0;
    const r = log_buf + idx;
    let n = <i32>load<u16>(r + 10);
    if (n > size - 1) n = size - 1;
    if (n < 0) n = 0;
    memory.copy(buf, r + PRINTK_LOG_SIZE, n);
    if (size > 0) store<u8>(buf + n, 0);
    const fl = <i32>load<u8>(r + 15);
    result = (n << 16) | ((fl >> 5) << 8) | (fl & 0x1f);
  }
  arch_spin_unlock(logbuf_lock);
  local_irq_restore(flags);
  return result;
}

/**
 * Publish the log's layout for the host (VMCOREINFO): the ring, its state
 * block and the record format, under Linux 3.5-5.9's names (log_buf,
 * log_buf_len, log_first_idx, log_next_idx, printk_log), plus
 * printk_state for the block that holds the indices here. Context: boot.
 */
export function log_buf_vmcoreinfo_setup(): void {
  if (prb.log_buf == 0) {
    prb.log_buf = <u32>log_buf;
    prb.log_buf_len = LOG_BUF_LEN;
  }
  vmcoreinfo_symbol("log_buf", log_buf);
  vmcoreinfo_symbol("printk_state", changetype<usize>(prb));
  vmcoreinfo_number("log_buf_len", LOG_BUF_LEN);
  vmcoreinfo_offset("printk_state.log_first_idx", offsetof<printk_state>("log_first_idx"));
  vmcoreinfo_offset("printk_state.log_next_idx", offsetof<printk_state>("log_next_idx"));
  vmcoreinfo_offset("printk_state.log_first_seq", offsetof<printk_state>("log_first_seq"));
  vmcoreinfo_offset("printk_state.log_next_seq", offsetof<printk_state>("log_next_seq"));
  vmcoreinfo_size("printk_log", PRINTK_LOG_SIZE);
  vmcoreinfo_offset("printk_log.ts_nsec", 0);
  vmcoreinfo_offset("printk_log.len", 8);
  vmcoreinfo_offset("printk_log.text_len", 10);
  vmcoreinfo_offset("printk_log.dict_len", 12);
  vmcoreinfo_offset("printk_log.flags_level", 15);
  vmcoreinfo_offset("printk_log.caller_id", 16);
}
