/**
 * CLINT: the RISC-V ACLINT MSWI + MTIMER pair, laid out as QEMU `virt` does.
 *
 * Spec: RISC-V Advanced Core Local Interruptor (ACLINT) 1.0, §1.1 (backward
 * compatibility with the SiFive CLINT), §2 (MTIMER), §3 (MSWI).
 *
 *   offset                     register              width  spec
 *   0x0000 + 4*hart            MSIP[hart]            32     §3.2: WARL, bit 0 only
 *   0x4000 + 8*hart            MTIMECMP[hart] lo/hi  64     §2.3
 *   0xBFF8                     MTIME lo/hi           64     §2.2
 *
 * Registers are reached as 32-bit words; the bus splits a 64-bit `ld`/`sd`
 * into two 4-byte accesses, low word first. Byte and halfword accesses read 0
 * and are ignored on write: QEMU's ACLINT accepts only 4- and 8-byte accesses
 * (and faults the others), and no firmware or kernel uses them.
 *
 * Time is not the host clock. The machine owns the timeline and calls
 * `advance(ticks)` as instructions retire, or `setMtime()` when every hart
 * waits in `wfi` and time jumps to `nextDeadline()`. Guest writes to MTIME are
 * allowed, as on QEMU (OpenSBI never writes it; the spec's §2.4 sync sequence
 * does).
 *
 * Values: MTIME and each MTIMECMP are kept as two u32 halves so that any 64-bit
 * value written by the guest reads back exactly (OpenSBI parks MTIMECMP at
 * 0xFFFF_FFFF_FFFF_FFFF) and compares correctly. The `mtime` getter returns a
 * JS number; it is exact while MTIME < 2^53, which holds for centuries of
 * 10 MHz ticks unless the guest itself writes a huge MTIME.
 *
 * Interrupt lines: MTIP[h] = MTIME >= MTIMECMP[h] (§2.3, unsigned compare),
 * re-evaluated after every change of MTIME or MTIMECMP[h]; MSIP[h] follows
 * bit 0 of the MSIP register. A line is driven only when its level changes,
 * except after construction, `reset()` and `setState()`, which drive every line.
 *
 * Reset (§2.2, §2.3, §3.2): MTIME = 0, MSIP = 0. The spec leaves MTIMECMP
 * "in unknown state"; QEMU happens to start it at 0, which makes MTIP pending
 * from the first instruction. We reset it to 0xFFFF_FFFF_FFFF_FFFF
 * (MTIMECMP_RESET) instead: a legal choice under the spec, and it means no
 * timer interrupt is pending until software programs one, which is what
 * firmware assumes anyway (OpenSBI writes all-ones before enabling MTIE).
 */

import type { AccessSize, Device, IrqLine } from '../machine/bus.js';

/** ACLINT §1.1: MSWI at +0x0000, MTIMER at +0x4000 in a SiFive-CLINT layout. */
export const CLINT_MSIP_BASE = 0x0000;
export const CLINT_MTIMECMP_BASE = 0x4000;
export const CLINT_MTIME = 0xbff8;
/** Each MSWI/MTIMER device serves at most 4095 harts (ACLINT §2, §3). */
export const ACLINT_MAX_HARTS = 4095;

/** Our reset value of every MTIMECMP (the spec leaves it unknown): all ones. */
export const MTIMECMP_RESET = 0xffff_ffff_ffff_ffffn;

const TWO32 = 0x1_0000_0000;

function checkTicks(what: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new RangeError(`clint: ${what} must be a non-negative safe integer, got ${v}`);
  }
}

function hex64(hi: number, lo: number): string {
  return '0x' + ((BigInt(hi) << 32n) | BigInt(lo)).toString(16).padStart(16, '0');
}

function parse64(v: unknown, what: string): [hi: number, lo: number] {
  if (typeof v !== 'string' && typeof v !== 'number') throw new Error(`clint: bad ${what} in state`);
  const b = BigInt(v);
  if (b < 0n || b > 0xffff_ffff_ffff_ffffn) throw new Error(`clint: ${what} out of range in state`);
  return [Number(b >> 32n), Number(b & 0xffff_ffffn)];
}

export class Clint implements Device {
  readonly name = 'clint';
  readonly numHarts: number;

  private readonly msipLines: IrqLine[];
  private readonly mtipLines: IrqLine[];

  private mtimeLo = 0;
  private mtimeHi = 0;
  private readonly msip: Uint8Array;
  private readonly cmpLo: Uint32Array;
  private readonly cmpHi: Uint32Array;
  /** Last level driven on each MTIP line (1 = high). */
  private readonly mtipLevel: Uint8Array;

  constructor(numHarts: number, msip: IrqLine[], mtip: IrqLine[]) {
    if (!Number.isInteger(numHarts) || numHarts < 1 || numHarts > ACLINT_MAX_HARTS) {
      throw new RangeError(`clint: bad hart count ${numHarts}`);
    }
    if (msip.length !== numHarts || mtip.length !== numHarts) {
      throw new RangeError(`clint: need ${numHarts} msip and mtip lines`);
    }
    this.numHarts = numHarts;
    this.msipLines = msip.slice();
    this.mtipLines = mtip.slice();
    this.msip = new Uint8Array(numHarts);
    this.cmpLo = new Uint32Array(numHarts);
    this.cmpHi = new Uint32Array(numHarts);
    this.mtipLevel = new Uint8Array(numHarts);
    this.reset();
  }

  /** Power-on state (see the file comment), driving every line. */
  reset(): void {
    this.mtimeLo = 0;
    this.mtimeHi = 0;
    this.msip.fill(0);
    this.cmpLo.fill(0xffff_ffff);
    this.cmpHi.fill(0xffff_ffff);
    this.driveAll();
  }

  // --- Host side: the machine's timeline --------------------------------------

  /** MTIME as a JS number (exact below 2^53). */
  get mtime(): number {
    return this.mtimeHi * TWO32 + this.mtimeLo;
  }

  /** Move MTIME forward by `ticks` (wrapping at 2^64 like the hardware counter). */
  advance(ticks: number): void {
    checkTicks('ticks', ticks);
    if (ticks === 0) return;
    // Add in halves so that every step stays exact.
    const tHi = Math.floor(ticks / TWO32);
    let lo = this.mtimeLo + (ticks - tHi * TWO32);
    let carry = 0;
    if (lo >= TWO32) {
      lo -= TWO32;
      carry = 1;
    }
    this.mtimeLo = lo;
    this.mtimeHi = (this.mtimeHi + tHi + carry) % TWO32;
    this.updateTimers();
  }

  /** Set MTIME (e.g. jump to `nextDeadline()` while every hart is in wfi). */
  setMtime(value: number): void {
    checkTicks('mtime', value);
    this.mtimeHi = Math.floor(value / TWO32);
    this.mtimeLo = value - this.mtimeHi * TWO32;
    this.updateTimers();
  }

  /**
   * The smallest MTIMECMP that is still in the future (> MTIME), as a number,
   * or Infinity when there is none. Deadlines at or above 2^53 (such as the
   * all-ones "no timer" value) count as none: the JS-number timeline never
   * reaches them.
   */
  nextDeadline(): number {
    let best = Infinity;
    for (let h = 0; h < this.numHarts; h++) {
      const hi = this.cmpHi[h];
      if (hi >= 0x20_0000) continue; // >= 2^53
      const lo = this.cmpLo[h];
      if (hi < this.mtimeHi || (hi === this.mtimeHi && lo <= this.mtimeLo)) continue; // not > MTIME
      const v = hi * TWO32 + lo;
      if (v < best) best = v;
    }
    return best;
  }

  // --- Device -----------------------------------------------------------------

  read(offset: number, size: AccessSize): number {
    if (size !== 4 || (offset & 3) !== 0) return 0;
    if (offset < CLINT_MTIMECMP_BASE) {
      const h = offset >>> 2;
      return h < this.numHarts ? this.msip[h] : 0;
    }
    if (offset === CLINT_MTIME) return this.mtimeLo;
    if (offset === CLINT_MTIME + 4) return this.mtimeHi;
    const h = (offset - CLINT_MTIMECMP_BASE) >>> 3;
    if (offset < CLINT_MTIME && h < this.numHarts) {
      return offset & 4 ? this.cmpHi[h] : this.cmpLo[h];
    }
    return 0;
  }

  write(offset: number, size: AccessSize, value: number): void {
    if (size !== 4 || (offset & 3) !== 0) return;
    value >>>= 0;
    if (offset < CLINT_MTIMECMP_BASE) {
      // ACLINT §3.2: MSIP is WARL with the upper 31 bits tied to zero.
      const h = offset >>> 2;
      if (h >= this.numHarts) return;
      const bit = value & 1;
      if (bit !== this.msip[h]) {
        this.msip[h] = bit;
        this.msipLines[h].set(bit === 1);
      }
      return;
    }
    if (offset === CLINT_MTIME || offset === CLINT_MTIME + 4) {
      if (offset === CLINT_MTIME) this.mtimeLo = value;
      else this.mtimeHi = value;
      this.updateTimers();
      return;
    }
    const h = (offset - CLINT_MTIMECMP_BASE) >>> 3;
    if (offset < CLINT_MTIME && h < this.numHarts) {
      if (offset & 4) this.cmpHi[h] = value;
      else this.cmpLo[h] = value;
      this.updateTimer(h);
    }
  }

  // --- Snapshots --------------------------------------------------------------

  getState(): Record<string, unknown> {
    const mtimecmp: string[] = [];
    for (let h = 0; h < this.numHarts; h++) mtimecmp.push(hex64(this.cmpHi[h], this.cmpLo[h]));
    return {
      version: 1,
      mtime: hex64(this.mtimeHi, this.mtimeLo),
      msip: Array.from(this.msip),
      mtimecmp,
    };
  }

  setState(state: Record<string, unknown>): void {
    if (state['version'] !== 1) throw new Error(`clint: unsupported state version ${String(state['version'])}`);
    const msip = state['msip'];
    const cmp = state['mtimecmp'];
    if (!Array.isArray(msip) || msip.length !== this.numHarts || !Array.isArray(cmp) || cmp.length !== this.numHarts) {
      throw new Error(`clint: state is not for ${this.numHarts} harts`);
    }
    [this.mtimeHi, this.mtimeLo] = parse64(state['mtime'], 'mtime');
    for (let h = 0; h < this.numHarts; h++) {
      this.msip[h] = Number(msip[h]) & 1;
      [this.cmpHi[h], this.cmpLo[h]] = parse64(cmp[h], 'mtimecmp');
    }
    this.driveAll();
  }

  // --- Internals --------------------------------------------------------------

  /** ACLINT §2.3: MTIP is pending whenever MTIME >= MTIMECMP (unsigned 64-bit). */
  private expired(h: number): boolean {
    const hi = this.cmpHi[h];
    return this.mtimeHi > hi || (this.mtimeHi === hi && this.mtimeLo >= this.cmpLo[h]);
  }

  private updateTimer(h: number): void {
    const level = this.expired(h) ? 1 : 0;
    if (level !== this.mtipLevel[h]) {
      this.mtipLevel[h] = level;
      this.mtipLines[h].set(level === 1);
    }
  }

  private updateTimers(): void {
    for (let h = 0; h < this.numHarts; h++) this.updateTimer(h);
  }

  private driveAll(): void {
    for (let h = 0; h < this.numHarts; h++) {
      const level = this.expired(h) ? 1 : 0;
      this.mtipLevel[h] = level;
      this.mtipLines[h].set(level === 1);
      this.msipLines[h].set(this.msip[h] === 1);
    }
  }
}
