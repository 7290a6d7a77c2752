/**
 * The kernel log read by the host out of guest memory, as `dmesg` prints it
 * (Linux kernel/printk/printk.c, the 3.5–5.9 "struct printk_log" ring that
 * crash(8)'s `log` and vmcore-dmesg read; kernel/printk.ts is that ring):
 *
 *   SYMBOL(log_buf)               the ring, NUMBER(log_buf_len) bytes
 *   SYMBOL(printk_state)          u32 log_first_idx / log_next_idx, u64 log_first_seq /
 *                                 log_next_seq at OFFSET(printk_state.<name>)
 *   record (SIZE(printk_log))     u64 ts_nsec, u16 len (the whole record, 8-aligned),
 *                                 u16 text_len, u8 flags:5 | level:3 << 5 at
 *                                 OFFSET(printk_log.flags_level), u32 caller_id (the
 *                                 CPU; bit 31 set in interrupt context); the text follows
 *                                 the header, without its newline
 *
 * The records are log_first_seq … log_next_seq − 1, from log_first_idx on;
 * a header with len 0 means "continue at the start of the ring" (Linux
 * log_next / log_from_idx).
 *
 * The text is laid out as the guest's console lays it out with printk.time=1
 * (printk.ts emit_console), so that it can be compared with the console
 * line for line: a record starts a line "[%5lu.%06lu] text" (seconds and
 * microseconds of ts_nsec) unless it continues the previous one (LOG_CONT:
 * no prefix); a record with LOG_NEWLINE ends its line; a new, non-continuing
 * record after an open line ends that line first. Unlike the console, every
 * record is shown, whatever its level (dmesg ignores console_loglevel).
 * Records that the ring has already dropped are gone (the text starts at the
 * oldest one left).
 */
import { type ReadPhys, type Vmcoreinfo, VmcoreinfoError, linearPa, readU32, readU64, vmci } from './vmcoreinfo.js';

/** Record flags (printk.ts, Linux enum log_flags). */
export const LOG_NEWLINE = 2;
export const LOG_CONT = 8;

export interface LogRecord {
  seq: bigint;
  tsNsec: bigint;
  level: number;
  flags: number;
  /** The CPU that logged it (caller_id without its context bit). */
  cpu: number;
  text: string;
}

function u16(read: ReadPhys, pa: number): number {
  const b = read(pa, 2);
  return b[0]! | (b[1]! << 8);
}

/** The records still in the ring, oldest first. */
export function readLogRecords(read: ReadPhys, info: Vmcoreinfo): LogRecord[] {
  const buf = linearPa(vmci.symbol(info, 'log_buf'));
  const bufLen = vmci.number(info, 'log_buf_len');
  const st = linearPa(vmci.symbol(info, 'printk_state'));
  const firstIdx = readU32(read, st + vmci.offset(info, 'printk_state.log_first_idx'));
  const firstSeq = readU64(read, st + vmci.offset(info, 'printk_state.log_first_seq'));
  const nextSeq = readU64(read, st + vmci.offset(info, 'printk_state.log_next_seq'));
  const hdr = vmci.size(info, 'printk_log');
  const o = {
    ts: vmci.offset(info, 'printk_log.ts_nsec'), len: vmci.offset(info, 'printk_log.len'),
    textLen: vmci.offset(info, 'printk_log.text_len'), flags: vmci.offset(info, 'printk_log.flags_level'),
    caller: vmci.offset(info, 'printk_log.caller_id'),
  };
  if (nextSeq < firstSeq) throw new VmcoreinfoError(`printk_state is corrupt: log_next_seq ${nextSeq} < log_first_seq ${firstSeq}`);
  if (nextSeq - firstSeq > BigInt(bufLen / 8)) throw new VmcoreinfoError(`printk_state is corrupt: ${nextSeq - firstSeq} records cannot fit in ${bufLen} bytes`);
  const out: LogRecord[] = [];
  let idx = firstIdx;
  for (let seq = firstSeq; seq < nextSeq; seq++) {
    if (idx + hdr > bufLen) throw new VmcoreinfoError(`log record ${seq} at index ${idx} runs past the ring (${bufLen} bytes)`);
    if (u16(read, buf + idx + o.len) === 0) idx = 0; // the wrap marker
    const r = buf + idx;
    const len = u16(read, r + o.len);
    const textLen = u16(read, r + o.textLen);
    if (len < hdr || hdr + textLen > len || idx + len > bufLen) {
      throw new VmcoreinfoError(`log record ${seq} at index ${idx} is corrupt (len ${len}, text_len ${textLen})`);
    }
    const fl = read(r + o.flags, 1)[0]!;
    out.push({
      seq, tsNsec: readU64(read, r + o.ts), level: fl >> 5, flags: fl & 0x1f, cpu: readU32(read, r + o.caller) & 0x7fff_ffff,
      text: Buffer.from(read(r + hdr, textLen)).toString('latin1'),
    });
    idx += len;
  }
  return out;
}

/** "[%5lu.%06lu] " of a timestamp in nanoseconds (printk.ts emit_console). */
export function printkTime(tsNsec: bigint): string {
  const us = tsNsec / 1000n;
  return `[${String(us / 1_000_000n).padStart(5)}.${String(us % 1_000_000n).padStart(6, '0')}] `;
}

/** The records as dmesg lays them out (see the note); the text ends in "\n" unless the last line is open. */
export function formatDmesg(records: readonly Omit<LogRecord, 'cpu'>[]): string {
  let out = '';
  let open = false;
  for (const r of records) {
    const cont = (r.flags & LOG_CONT) !== 0;
    if (!cont && open) out += '\n';
    if (!cont) out += printkTime(r.tsNsec);
    out += r.text;
    open = (r.flags & LOG_NEWLINE) === 0;
    if (!open) out += '\n';
  }
  return out;
}

/** readLogRecords + formatDmesg. */
export function renderDmesg(read: ReadPhys, info: Vmcoreinfo): string {
  return formatDmesg(readLogRecords(read, info));
}
