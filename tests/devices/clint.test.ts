import { describe, expect, it } from 'vitest';
import type { IrqLine } from '../../emulator/machine/bus.js';
import { Clint, CLINT_MTIME, CLINT_MTIMECMP_BASE } from '../../emulator/devices/clint.js';
import { Wire } from '../helpers/wire.js';

/** An IrqLine that remembers its level and every set() call. */

const TWO32 = 0x1_0000_0000;

function make(numHarts = 2) {
  const msip = Array.from({ length: numHarts }, () => new Wire());
  const mtip = Array.from({ length: numHarts }, () => new Wire());
  const clint = new Clint(numHarts, msip, mtip);
  const cmp = (h: number) => CLINT_MTIMECMP_BASE + 8 * h;
  /** A 64-bit store as the bus performs it: low word first. */
  const write64 = (off: number, v: bigint) => {
    clint.write(off, 4, Number(v & 0xffff_ffffn));
    clint.write(off + 4, 4, Number(v >> 32n));
  };
  const read64 = (off: number) => (BigInt(clint.read(off + 4, 4)) << 32n) | BigInt(clint.read(off, 4));
  return { clint, msip, mtip, cmp, write64, read64 };
}

describe('Clint reset state', () => {
  it('starts with mtime 0, mtimecmp all ones, every line driven low once', () => {
    const { clint, msip, mtip, cmp, read64 } = make(3);
    expect(clint.mtime).toBe(0);
    expect(read64(CLINT_MTIME)).toBe(0n);
    for (let h = 0; h < 3; h++) {
      expect(read64(cmp(h))).toBe(0xffff_ffff_ffff_ffffn);
      expect(clint.read(4 * h, 4)).toBe(0);
      expect(mtip[h]!.history).toEqual([false]);
      expect(msip[h]!.history).toEqual([false]);
    }
    expect(clint.nextDeadline()).toBe(Infinity);
  });

  it('rejects a wrong number of lines', () => {
    expect(() => new Clint(2, [new Wire()], [new Wire(), new Wire()])).toThrow(RangeError);
  });
});

describe('Clint MSWI', () => {
  it('drives MSIP from bit 0 of each hart register', () => {
    const { clint, msip } = make(2);
    clint.write(4, 4, 1);
    expect(msip[1]!.level).toBe(true);
    expect(msip[0]!.level).toBe(false);
    expect(clint.read(4, 4)).toBe(1);
    clint.write(4, 4, 0xffff_fffe); // bit 0 clear: upper bits are tied to zero
    expect(msip[1]!.level).toBe(false);
    expect(clint.read(4, 4)).toBe(0);
    clint.write(4, 4, 0xffff_ffff);
    expect(clint.read(4, 4)).toBe(1);
    expect(msip[1]!.history).toEqual([false, true, false, true]);
  });

  it('ignores harts that do not exist and sub-word accesses', () => {
    const { clint, msip } = make(2);
    clint.write(8, 4, 1);
    expect(clint.read(8, 4)).toBe(0);
    clint.write(0, 1, 1);
    clint.write(0, 2, 1);
    expect(clint.read(0, 4)).toBe(0);
    expect(msip[0]!.history).toEqual([false]);
    clint.write(0, 4, 1);
    expect(clint.read(0, 1)).toBe(0);
    expect(clint.read(0, 4)).toBe(1);
  });
});

describe('Clint MTIMER', () => {
  it('raises MTIP when mtime reaches mtimecmp and lowers it when mtimecmp moves ahead', () => {
    const { clint, mtip, cmp, write64 } = make(2);
    write64(cmp(0), 100n);
    clint.advance(99);
    expect(mtip[0]!.level).toBe(false);
    clint.advance(1);
    expect(clint.mtime).toBe(100);
    expect(mtip[0]!.level).toBe(true); // mtime >= mtimecmp
    expect(mtip[1]!.level).toBe(false);
    write64(cmp(0), 200n);
    expect(mtip[0]!.level).toBe(false);
    clint.advance(150);
    expect(mtip[0]!.level).toBe(true);
    expect(mtip[0]!.history).toEqual([false, true, false, true]);
  });

  it('keeps 0xFFFF_FFFF_FFFF_FFFF exact and never fires for it below the top of time', () => {
    const { clint, mtip, cmp, write64, read64 } = make(1);
    write64(cmp(0), 0n);
    expect(mtip[0]!.level).toBe(true);
    write64(cmp(0), 0xffff_ffff_ffff_ffffn);
    expect(read64(cmp(0))).toBe(0xffff_ffff_ffff_ffffn);
    expect(mtip[0]!.level).toBe(false);
    clint.setMtime(2 ** 53 - 1);
    expect(mtip[0]!.level).toBe(false);
    // The guest may write MTIME (as on QEMU): all ones reaches it, wrapping leaves it.
    write64(CLINT_MTIME, 0xffff_ffff_ffff_ffffn);
    expect(read64(CLINT_MTIME)).toBe(0xffff_ffff_ffff_ffffn);
    expect(mtip[0]!.level).toBe(true);
    clint.advance(1);
    expect(read64(CLINT_MTIME)).toBe(0n);
    expect(mtip[0]!.level).toBe(false);
  });

  it('compares the two 32-bit halves as one unsigned 64-bit value', () => {
    const { clint, mtip, cmp } = make(1);
    clint.write(cmp(0), 4, 0); // mtimecmp = 0xFFFFFFFF_00000000
    expect(mtip[0]!.level).toBe(false);
    clint.write(cmp(0) + 4, 4, 1); // mtimecmp = 0x1_00000000
    expect(clint.read(cmp(0), 4)).toBe(0);
    expect(clint.read(cmp(0) + 4, 4)).toBe(1);
    clint.setMtime(TWO32 - 1);
    expect(mtip[0]!.level).toBe(false);
    clint.advance(1);
    expect(mtip[0]!.level).toBe(true);
    // Low half above mtime's low half but high half below: still expired.
    clint.write(cmp(0), 4, 0xffff_0000);
    clint.write(cmp(0) + 4, 4, 0);
    expect(mtip[0]!.level).toBe(true);
    // High half above mtime's: not expired, whatever the low half.
    clint.write(cmp(0), 4, 0);
    clint.write(cmp(0) + 4, 4, 2);
    expect(mtip[0]!.level).toBe(false);
  });

  it('carries mtime across 2^32 and exposes both halves', () => {
    const { clint } = make(1);
    clint.advance(TWO32 - 3);
    clint.advance(8);
    expect(clint.read(CLINT_MTIME, 4)).toBe(5);
    expect(clint.read(CLINT_MTIME + 4, 4)).toBe(1);
    expect(clint.mtime).toBe(TWO32 + 5);
    clint.advance(3 * TWO32 + 1);
    expect(clint.read(CLINT_MTIME, 4)).toBe(6);
    expect(clint.read(CLINT_MTIME + 4, 4)).toBe(4);
  });

  it('re-evaluates every hart when the guest writes one half of mtime', () => {
    const { clint, mtip, cmp, write64 } = make(2);
    write64(cmp(0), 0x1_0000_0010n);
    write64(cmp(1), 0x20n);
    clint.write(CLINT_MTIME + 4, 4, 1); // mtime = 0x1_00000000
    expect(mtip[0]!.level).toBe(false);
    expect(mtip[1]!.level).toBe(true);
    clint.write(CLINT_MTIME, 4, 0x10); // mtime = 0x1_00000010, high half kept
    expect(clint.mtime).toBe(TWO32 + 0x10);
    expect(mtip[0]!.level).toBe(true);
    clint.write(CLINT_MTIME + 4, 4, 0); // mtime = 0x10
    expect(mtip[0]!.level).toBe(false);
    expect(mtip[1]!.level).toBe(false);
  });

  it('setMtime jumps both ways', () => {
    const { clint, mtip, cmp, write64 } = make(1);
    write64(cmp(0), 1000n);
    clint.setMtime(1000);
    expect(mtip[0]!.level).toBe(true);
    clint.setMtime(999);
    expect(mtip[0]!.level).toBe(false);
    expect(clint.mtime).toBe(999);
  });

  it('nextDeadline is the smallest future mtimecmp', () => {
    const { clint, cmp, write64 } = make(4);
    write64(cmp(0), 500n);
    write64(cmp(1), 300n);
    write64(cmp(2), 1000n);
    // hart 3 keeps all ones: no deadline
    expect(clint.nextDeadline()).toBe(300);
    clint.setMtime(400);
    expect(clint.nextDeadline()).toBe(500);
    clint.setMtime(500); // equal is not "> mtime"
    expect(clint.nextDeadline()).toBe(1000);
    clint.setMtime(1000);
    expect(clint.nextDeadline()).toBe(Infinity);
    write64(cmp(3), 2n ** 53n); // beyond the JS-number timeline
    expect(clint.nextDeadline()).toBe(Infinity);
    write64(cmp(3), 2n ** 53n - 1n);
    expect(clint.nextDeadline()).toBe(2 ** 53 - 1);
  });

  it('reads holes and other harts as 0 and rejects bad tick counts', () => {
    const { clint } = make(1);
    expect(clint.read(CLINT_MTIMECMP_BASE + 8, 4)).toBe(0);
    clint.write(CLINT_MTIMECMP_BASE + 8, 4, 5);
    expect(clint.read(CLINT_MTIMECMP_BASE + 8, 4)).toBe(0);
    expect(clint.read(0xbff0, 4)).toBe(0);
    expect(clint.read(0xfffc, 4)).toBe(0);
    expect(() => clint.advance(-1)).toThrow(RangeError);
    expect(() => clint.advance(1.5)).toThrow(RangeError);
    expect(() => clint.setMtime(2 ** 53)).toThrow(RangeError);
  });
});

describe('Clint snapshots', () => {
  it('round-trips state and drives the restored levels', () => {
    const a = make(2);
    a.write64(a.cmp(0), 0xffff_ffff_ffff_ffffn);
    a.write64(a.cmp(1), 50n);
    a.clint.write(0, 4, 1);
    a.clint.advance(60);
    const state = a.clint.getState();
    expect(state).toMatchObject({ version: 1, mtime: '0x000000000000003c', msip: [1, 0] });
    const b = make(2);
    b.clint.setState(JSON.parse(JSON.stringify(state)) as Record<string, unknown>);
    expect(b.read64(b.cmp(0))).toBe(0xffff_ffff_ffff_ffffn);
    expect(b.read64(b.cmp(1))).toBe(50n);
    expect(b.clint.mtime).toBe(60);
    expect(b.msip[0]!.level).toBe(true);
    expect(b.mtip[1]!.level).toBe(true);
    expect(b.mtip[0]!.level).toBe(false);
    expect(() => b.clint.setState({ ...state, version: 2 })).toThrow();
    expect(() => make(3).clint.setState(state)).toThrow();
  });

  it('reset() returns to the power-on state', () => {
    const { clint, msip, mtip, cmp, write64, read64 } = make(1);
    write64(cmp(0), 10n);
    clint.advance(20);
    clint.write(0, 4, 1);
    clint.reset();
    expect(clint.mtime).toBe(0);
    expect(read64(cmp(0))).toBe(0xffff_ffff_ffff_ffffn);
    expect(mtip[0]!.level).toBe(false);
    expect(msip[0]!.level).toBe(false);
  });
});
