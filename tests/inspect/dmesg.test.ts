/**
 * The host reads the kernel log out of guest memory (emulator/inspect/
 * dmesg.ts: the printk_log ring of kernel/printk.ts, found through
 * VMCOREINFO's SYMBOL(log_buf), SYMBOL(printk_state), OFFSET(printk_log.*))
 * and lays it out as dmesg does.
 *
 * Boots: with printk.time=1 the console prints the same records with the
 * same "[%5lu.%06lu] " prefix, so every console line of the kernel is a line
 * of the host's dmesg, in the same order, and the host has more (the
 * records a self-test keeps off the console with kunit_quiet, and
 * KERN_DEBUG ones); without printk.time the same holds for the text after
 * the prefix. 1 and 4 harts, selftest=slab / page_alloc.
 *
 * A ring built by hand with the kernel's layout: records across the wrap
 * marker come out in order, KERN_CONT pieces join their line, an open last
 * line has no newline, a corrupt header or state is a VmcoreinfoError.
 */
import { describe, expect, it } from 'vitest';
import { boot, guestImages } from '../kernel/images.js';
import { parseElf } from '../../emulator/machine/elf.js';
import { parseVmcoreinfo, readVmcoreinfo, VmcoreinfoError, type ReadPhys } from '../../emulator/inspect/vmcoreinfo.js';
import { readLogRecords, renderDmesg, formatDmesg, printkTime, LOG_CONT, LOG_NEWLINE } from '../../emulator/inspect/dmesg.js';

const MAX_INSNS = 400_000_000;
const TIME = /^\[ *\d+\.\d{6}\] /;

/** Is `sub` a subsequence of `all`? Returns the first line of `sub` that is not found, in order. */
function notInOrder(sub: readonly string[], all: readonly string[]): string | undefined {
  let j = 0;
  for (const l of sub) {
    while (j < all.length && all[j] !== l) j++;
    if (j === all.length) return l;
    j++;
  }
  return undefined;
}

// --- a ring built by hand -------------------------------------------------------------------

const BUF = 0x1000, STATE = 0x800, LEN = 256;
const INFO = parseVmcoreinfo([
  `SYMBOL(log_buf)=ffffffff${BUF.toString(16).padStart(8, '0')}`, `SYMBOL(printk_state)=ffffffff${STATE.toString(16).padStart(8, '0')}`,
  `NUMBER(log_buf_len)=${LEN}`, 'OFFSET(printk_state.log_first_idx)=8', 'OFFSET(printk_state.log_next_idx)=12',
  'OFFSET(printk_state.log_first_seq)=16', 'OFFSET(printk_state.log_next_seq)=24', 'SIZE(printk_log)=24',
  'OFFSET(printk_log.ts_nsec)=0', 'OFFSET(printk_log.len)=8', 'OFFSET(printk_log.text_len)=10', 'OFFSET(printk_log.flags_level)=15', 'OFFSET(printk_log.caller_id)=16', '',
].join('\n'));

/** A ring of LEN bytes written as printk.ts log_store writes it (wrapping, dropping the oldest). */
function ring(records: { ts: bigint; level: number; flags: number; text: string }[]): { mem: Uint8Array; read: ReadPhys } {
  const mem = new Uint8Array(0x2000);
  const dv = new DataView(mem.buffer);
  let first = 0, next = 0, firstSeq = 0n, nextSeq = 0n;
  const recLen = (idx: number): number => dv.getUint16(BUF + idx + 8, true);
  for (const r of records) {
    const size = (24 + r.text.length + 7) & ~7;
    while (firstSeq < nextSeq) {
      const free = next > first ? Math.max(LEN - next, first) : first - next;
      if (free >= size + 24) break;
      first = recLen(first) === 0 ? recLen(0) : first + recLen(first);
      firstSeq++;
    }
    if (next + size + 24 > LEN) {
      mem.fill(0, BUF + next, BUF + next + 24);
      next = 0;
      if (firstSeq === nextSeq) first = 0;
    }
    const at = BUF + next;
    dv.setBigUint64(at, r.ts, true);
    dv.setUint16(at + 8, size, true);
    dv.setUint16(at + 10, r.text.length, true);
    mem[at + 15] = (r.flags & 0x1f) | (r.level << 5);
    mem.set(Buffer.from(r.text, 'latin1'), at + 24);
    next += size;
    nextSeq++;
  }
  dv.setUint32(STATE + 8, first, true);
  dv.setUint32(STATE + 12, next, true);
  dv.setBigUint64(STATE + 16, firstSeq, true);
  dv.setBigUint64(STATE + 24, nextSeq, true);
  return { mem, read: (pa, len) => mem.subarray(pa, pa + len) };
}

describe('the log ring, built by hand', () => {
  const recs = Array.from({ length: 12 }, (_, i) => ({ ts: BigInt(i) * 1_500_000_123n, level: 6, flags: LOG_NEWLINE, text: `message number ${i}` }));
  it('reads the records left in the ring in order across the wrap marker', () => {
    const { read } = ring(recs);
    const got = readLogRecords(read, INFO);
    expect(got.length).toBeGreaterThan(2);
    expect(got.length).toBeLessThan(12);
    expect(got.map((r) => r.text)).toEqual(recs.slice(12 - got.length).map((r) => r.text));
    expect(got.map((r) => r.seq)).toEqual(got.map((_, i) => BigInt(12 - got.length + i)));
    expect(got.every((r) => r.level === 6 && r.flags === LOG_NEWLINE)).toBe(true);
    expect(renderDmesg(read, INFO).split('\n')[0]).toBe(`${printkTime(got[0]!.tsNsec)}${got[0]!.text}`);
  });
  it('lays out timestamps and KERN_CONT pieces as the console does', () => {
    expect(printkTime(0n)).toBe('[    0.000000] ');
    expect(printkTime(123_456_789_012n)).toBe('[  123.456789] ');
    const text = formatDmesg([
      { seq: 0n, tsNsec: 1_000n, level: 6, flags: 0, text: 'SBI extensions:' },
      { seq: 1n, tsNsec: 2_000n, level: 6, flags: LOG_CONT, text: ' TIME' },
      { seq: 2n, tsNsec: 3_000n, level: 6, flags: LOG_CONT | LOG_NEWLINE, text: ' IPI' },
      { seq: 3n, tsNsec: 4_000n, level: 4, flags: 0, text: 'open line' },
      { seq: 4n, tsNsec: 5_000n, level: 4, flags: LOG_NEWLINE, text: 'next line' },
      { seq: 5n, tsNsec: 6_000n, level: 4, flags: 0, text: 'last, open' },
    ]);
    expect(text).toBe('[    0.000001] SBI extensions: TIME IPI\n[    0.000004] open line\n[    0.000005] next line\n[    0.000006] last, open');
  });
  it('a corrupt record or state is a VmcoreinfoError', () => {
    const { mem, read } = ring(recs.slice(0, 3));
    const dv = new DataView(mem.buffer);
    dv.setUint16(BUF + 8 + 40, 8, true); // the second record's len below the header's size
    expect(() => readLogRecords(read, INFO)).toThrow(VmcoreinfoError);
    expect(() => readLogRecords(read, INFO)).toThrow(/log record 1 at index 40 is corrupt \(len 8/);
    const s = ring(recs.slice(0, 3));
    new DataView(s.mem.buffer).setBigUint64(STATE + 24, 1n << 40n, true);
    expect(() => readLogRecords(s.read, INFO)).toThrow(/printk_state is corrupt/);
  });
});

// --- boots ----------------------------------------------------------------------------------

const { kernel, firmware, missing } = await guestImages();

it('the kernel and our firmware build', () => {
  expect(missing).toBeUndefined();
});

const cases = [
  { harts: 4, selftest: 'slab', time: true },
  { harts: 1, selftest: 'page_alloc', time: true },
  { harts: 4, selftest: 'page_alloc', time: false },
];

describe.skipIf(missing !== undefined)('the host reads the kernel log out of guest memory', () => {
  const elf = missing === undefined ? parseElf(kernel.image!.elf, 'kernel.elf') : undefined;
  for (const c of cases) {
    it(`has the console's lines in order, and more (${c.harts} harts, selftest=${c.selftest}, printk.time=${c.time ? 1 : 0})`, () => {
      const append = `selftest=${c.selftest}${c.time ? ' printk.time=1' : ''}`;
      const r = boot({ kernel: kernel.image!.elf, bios: firmware.image!.elf, harts: c.harts, append, maxInsns: MAX_INSNS });
      expect(r.exit, r.console.slice(-2000)).toEqual({ kind: 'pass', code: 0, via: 'finisher' });
      const read: ReadPhys = (pa, len) => r.machine.mem.readBytes(pa, len);
      const info = readVmcoreinfo(read, elf!.symbols);
      const records = readLogRecords(read, info);
      expect(records[0]!.seq).toBe(0n); // nothing dropped: the whole boot fits in the ring
      const dmesg = renderDmesg(read, info).split('\n');
      const consoleLines = r.console.split(/\r?\n/);
      const banner = consoleLines.findIndex((l) => l.replace(TIME, '').startsWith('kmemlab version'));
      expect(banner).toBeGreaterThanOrEqual(0);
      // The kernel's lines: from its banner to the last line (the firmware's come before).
      const kernelLines = consoleLines.slice(banner).filter((l) => l !== '');
      if (c.time) {
        expect(kernelLines.every((l) => TIME.test(l))).toBe(true);
        expect(notInOrder(kernelLines, dmesg)).toBeUndefined();
      } else {
        expect(notInOrder(kernelLines, dmesg.map((l) => l.replace(TIME, '')))).toBeUndefined();
      }
      expect(dmesg[0]).toMatch(/^\[ *\d+\.\d{6}\] kmemlab version /);
      // More than the console: records below console_loglevel or kept quiet by a self-test.
      expect(records.length).toBeGreaterThan(kernelLines.length);
      // Timestamps never go backwards.
      for (let i = 1; i < records.length; i++) expect(records[i]!.tsNsec >= records[i - 1]!.tsNsec).toBe(true);
    });
  }
});
