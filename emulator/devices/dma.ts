/**
 * DMA engine: kmemlab's own bus master (`kmemlab,dma-engine`), one transfer
 * at a time, copy or fill between physical addresses, with a completion
 * interrupt. It is the device behind the board's DMA-limited bus: it reaches
 * only a window of low DRAM, [WIN_BASE, WIN_BASE + WIN_SIZE), by default the
 * first 16 MiB (`--dma-limit`). The device tree publishes the window as the
 * `dma-ranges` of the bus node the engine sits on (virt_dtb.ts).
 *
 * Registers (little-endian; offsets from VIRT_DMA_BASE):
 *
 *   off   name      width  access  meaning
 *   0x00  ID        32     RO      0x414D444B, the bytes "KDMA"
 *   0x04  VERSION   32     RO      1
 *   0x08  SRC       64     RW      source physical address (COPY)
 *   0x10  DST       64     RW      destination physical address
 *   0x18  LEN       64     RW      bytes to move
 *   0x20  FILL      64     RW      bits 7:0 are the FILL byte (the rest is kept, unused)
 *   0x28  CTRL      32     RW      bits 1:0 op (1 COPY src→dst, 2 FILL dst), bit 8 IRQ_EN;
 *                                  a write with op != 0 starts a transfer; reads give
 *                                  the last value written
 *   0x2C  STATUS    32     RO/W1C  bit 0 BUSY, bit 1 DONE, bit 2 ERROR, bits 15:8 code
 *   0x30  ERR_ADDR  64     RO      first offending physical address of a failed transfer
 *   0x38  WIN_BASE  64     RO      the window
 *   0x40  WIN_SIZE  64     RO
 *
 * 64-bit registers take 32-bit accesses to either half (the bus splits a
 * 64-bit access into two, low word first); every register takes aligned
 * 32-bit accesses only. Other sizes, misaligned offsets and offsets past
 * WIN_SIZE read 0 and ignore writes, as do writes to read-only registers.
 * No access can raise a host exception.
 *
 * Error codes (STATUS bits 15:8, meaningful while ERROR is set):
 *   1 OUT_OF_WINDOW  some byte of the source (COPY) or destination range is
 *                    outside the window, or addr + LEN wraps past 2^64
 *   2 BAD_OP         CTRL op 3
 *   3 BUSY           a start while a transfer runs (that transfer goes on)
 *   4 BUS_ERROR      inside the window but not writable RAM (cannot happen
 *                    while the window lies in low DRAM, which --dma-limit
 *                    guarantees; the check stays for other boards)
 *
 * A start (CTRL op != 0 while not BUSY) latches SRC, DST, LEN and the FILL
 * byte and clears DONE, ERROR, the code and ERR_ADDR. Op 3 then sets ERROR,
 * code BAD_OP at once (nothing runs, DONE stays clear). Ops 1 and 2 set BUSY.
 * A start while BUSY only sets ERROR, code BUSY (DONE clear); the running
 * transfer continues and its completion rewrites STATUS, so after a
 * completion STATUS always describes the transfer that completed.
 *
 * Timing, deterministic: a transfer completes 16 + ceil(LEN / 64) mtime
 * ticks after its start, counted in the ticks the machine advances the
 * CLINT by (`advance`), so guest writes to MTIME do not disturb it. Time only
 * moves between the machine's rounds, so a completion never lands inside an
 * instruction. At completion, all at once: the window rule is checked (COPY:
 * the source range first, then the destination range; FILL: the destination
 * range), and either every byte moves, or none does and STATUS gets ERROR
 * with the code and ERR_ADDR the first address of the range outside the
 * window (or outside RAM). Either way BUSY clears and DONE is set. LEN 0
 * moves nothing and cannot fail. An overlapping COPY behaves like memmove.
 * A transfer that could never finish in the JS timeline (LEN near 2^64) stays
 * BUSY for ever and offers no deadline (`ticksToCompletion` = Infinity).
 *
 * Interrupt: the line is high while STATUS has DONE or ERROR and the last
 * CTRL written has IRQ_EN. Writing 1 to DONE / ERROR in STATUS clears them
 * (clearing ERROR clears the code too); BUSY is not writable.
 *
 * Memory: the engine writes the machine's RAM buffer directly and then calls
 * `wrote(paddr, len)`, through which the machine breaks LR reservations and
 * watches tohost, as for any store by someone other than a hart. Harts keep
 * no decoded instructions and their TLBs hold RAM offsets, not data, so
 * code the engine overwrites is what they fetch next.
 */

import type { AccessSize, Device, IrqLine } from '../machine/bus.js';
import type { RamBank } from '../machine/ram.js';

// Register offsets.
export const DMA_ID = 0x00;
export const DMA_VERSION = 0x04;
export const DMA_SRC = 0x08;
export const DMA_DST = 0x10;
export const DMA_LEN = 0x18;
export const DMA_FILL = 0x20;
export const DMA_CTRL = 0x28;
export const DMA_STATUS = 0x2c;
export const DMA_ERR_ADDR = 0x30;
export const DMA_WIN_BASE = 0x38;
export const DMA_WIN_SIZE = 0x40;
/** First offset past the registers. */
export const DMA_REG_END = 0x48;

/** "KDMA" read as a little-endian u32. */
export const DMA_ID_VALUE = 0x414d444b;
export const DMA_VERSION_VALUE = 1;

export const DMA_CTRL_OP_MASK = 0x3;
export const DMA_OP_COPY = 1;
export const DMA_OP_FILL = 2;
export const DMA_CTRL_IRQ_EN = 1 << 8;

export const DMA_STATUS_BUSY = 1 << 0;
export const DMA_STATUS_DONE = 1 << 1;
export const DMA_STATUS_ERROR = 1 << 2;
export const DMA_STATUS_CODE_SHIFT = 8;
export const DMA_STATUS_CODE_MASK = 0xff << DMA_STATUS_CODE_SHIFT;

export const DMA_ERR_OUT_OF_WINDOW = 1;
export const DMA_ERR_BAD_OP = 2;
export const DMA_ERR_BUSY = 3;
export const DMA_ERR_BUS_ERROR = 4;

/** Fixed part of a transfer's duration, in mtime ticks. */
export const DMA_SETUP_TICKS = 16;
/** Bytes moved per mtime tick. */
export const DMA_BYTES_PER_TICK = 64;

const U64_MASK = 0xffff_ffff_ffff_ffffn;

/** Ticks a transfer of `len` bytes takes: 16 + ceil(len / 64). */
export function dmaTransferTicks(len: bigint): bigint {
  return BigInt(DMA_SETUP_TICKS) + (len + BigInt(DMA_BYTES_PER_TICK) - 1n) / BigInt(DMA_BYTES_PER_TICK);
}

/** What the engine needs of the board's RAM (PhysMemory has it). */
export interface DmaMemory {
  readonly u8: Uint8Array;
  bankOf(paddr: number, len?: number): RamBank | undefined;
}

export interface DmaOptions {
  /** The window: [windowBase, windowBase + windowSize), bytes. */
  windowBase: number;
  windowSize: number;
  /** Called after the engine wrote [paddr, paddr + len) of RAM. */
  wrote?: (paddr: number, len: number) => void;
}

/** The transfer in flight, latched at its start. */
interface Transfer {
  op: number;
  src: bigint;
  dst: bigint;
  len: bigint;
  fill: number;
  /** Ticks left until completion (a bigint: LEN may be huge). */
  left: bigint;
}

function hex(v: bigint): string {
  return '0x' + v.toString(16).padStart(16, '0');
}

function parseU64(v: unknown, what: string): bigint {
  if (typeof v !== 'string' && typeof v !== 'number') throw new Error(`dma: bad ${what} in state`);
  const b = BigInt(v);
  if (b < 0n || b > U64_MASK) throw new Error(`dma: ${what} out of range in state`);
  return b;
}

export class DmaEngine implements Device {
  readonly name = 'dma';
  readonly windowBase: bigint;
  readonly windowSize: bigint;

  private readonly irq: IrqLine;
  private readonly mem: DmaMemory;
  private readonly wrote: (paddr: number, len: number) => void;

  private src = 0n;
  private dst = 0n;
  private len = 0n;
  private fill = 0n;
  private ctrl = 0;
  private status = 0;
  private errAddr = 0n;
  private xfer: Transfer | undefined;
  private irqLevel = false;
  /** Transfers completed (successful or not), for host-side statistics. */
  completed = 0;

  constructor(irq: IrqLine, mem: DmaMemory, opts: DmaOptions) {
    const { windowBase, windowSize } = opts;
    if (!Number.isSafeInteger(windowBase) || windowBase < 0 || !Number.isSafeInteger(windowSize) || windowSize <= 0) {
      throw new RangeError(`dma: bad window 0x${windowBase.toString(16)}+0x${windowSize.toString(16)}`);
    }
    this.irq = irq;
    this.mem = mem;
    this.wrote = opts.wrote ?? (() => {});
    this.windowBase = BigInt(windowBase);
    this.windowSize = BigInt(windowSize);
    this.reset();
  }

  /** Power-on state: every register 0, nothing running, the line low. */
  reset(): void {
    this.src = 0n;
    this.dst = 0n;
    this.len = 0n;
    this.fill = 0n;
    this.ctrl = 0;
    this.status = 0;
    this.errAddr = 0n;
    this.xfer = undefined;
    this.completed = 0;
    this.irqLevel = false;
    this.irq.set(false);
  }

  // --- Host side: the machine's timeline --------------------------------------

  /** `ticks` mtime ticks went by: complete the running transfer when its time has come. */
  advance(ticks: number): void {
    const x = this.xfer;
    if (x === undefined || ticks <= 0) return;
    x.left -= BigInt(ticks);
    if (x.left <= 0n) this.complete(x);
  }

  /** Ticks until the running transfer completes (Infinity when idle or beyond 2^53). */
  ticksToCompletion(): number {
    const x = this.xfer;
    if (x === undefined || x.left > BigInt(Number.MAX_SAFE_INTEGER)) return Infinity;
    return Number(x.left);
  }

  /** Is a transfer running? */
  busy(): boolean {
    return this.xfer !== undefined;
  }

  // --- Device -----------------------------------------------------------------

  read(offset: number, size: AccessSize): number {
    if (size !== 4 || (offset & 3) !== 0 || offset >= DMA_REG_END) return 0;
    switch (offset) {
      case DMA_ID: return DMA_ID_VALUE;
      case DMA_VERSION: return DMA_VERSION_VALUE;
      case DMA_CTRL: return this.ctrl;
      case DMA_STATUS: return this.status;
      default: {
        const v = this.reg64(offset & ~7);
        return Number((offset & 4 ? v >> 32n : v) & 0xffff_ffffn);
      }
    }
  }

  write(offset: number, size: AccessSize, value: number): void {
    if (size !== 4 || (offset & 3) !== 0 || offset >= DMA_REG_END) return;
    value >>>= 0;
    switch (offset) {
      case DMA_CTRL:
        this.writeCtrl(value);
        return;
      case DMA_STATUS: {
        let clear = value & (DMA_STATUS_DONE | DMA_STATUS_ERROR);
        if (clear & DMA_STATUS_ERROR) clear |= DMA_STATUS_CODE_MASK;
        this.status &= ~clear;
        this.update();
        return;
      }
      default: {
        const base = offset & ~7;
        if (base !== DMA_SRC && base !== DMA_DST && base !== DMA_LEN && base !== DMA_FILL) return; // RO or u32
        const old = this.reg64(base);
        const half = BigInt(value);
        const v = offset & 4 ? (old & 0xffff_ffffn) | (half << 32n) : (old & ~0xffff_ffffn & U64_MASK) | half;
        if (base === DMA_SRC) this.src = v;
        else if (base === DMA_DST) this.dst = v;
        else if (base === DMA_LEN) this.len = v;
        else this.fill = v;
      }
    }
  }

  // --- Snapshots --------------------------------------------------------------

  getState(): Record<string, unknown> {
    const x = this.xfer;
    return {
      version: 1,
      src: hex(this.src),
      dst: hex(this.dst),
      len: hex(this.len),
      fill: hex(this.fill),
      ctrl: this.ctrl,
      status: this.status,
      errAddr: hex(this.errAddr),
      completed: this.completed,
      transfer: x === undefined ? null : {
        op: x.op, src: hex(x.src), dst: hex(x.dst), len: hex(x.len), fill: x.fill, left: x.left.toString(),
      },
    };
  }

  setState(state: Record<string, unknown>): void {
    if (state['version'] !== 1) throw new Error(`dma: unsupported state version ${String(state['version'])}`);
    this.src = parseU64(state['src'], 'src');
    this.dst = parseU64(state['dst'], 'dst');
    this.len = parseU64(state['len'], 'len');
    this.fill = parseU64(state['fill'], 'fill');
    this.ctrl = Number(state['ctrl']) >>> 0;
    this.status = Number(state['status']) & (DMA_STATUS_BUSY | DMA_STATUS_DONE | DMA_STATUS_ERROR | DMA_STATUS_CODE_MASK);
    this.errAddr = parseU64(state['errAddr'], 'errAddr');
    this.completed = Number(state['completed'] ?? 0) >>> 0;
    const t = state['transfer'];
    if (t === null || t === undefined) {
      this.xfer = undefined;
      this.status &= ~DMA_STATUS_BUSY;
    } else {
      if (typeof t !== 'object') throw new Error('dma: bad transfer in state');
      const r = t as Record<string, unknown>;
      const op = Number(r['op']);
      if (op !== DMA_OP_COPY && op !== DMA_OP_FILL) throw new Error('dma: bad transfer op in state');
      const left = BigInt(String(r['left']));
      this.xfer = {
        op, src: parseU64(r['src'], 'transfer src'), dst: parseU64(r['dst'], 'transfer dst'),
        len: parseU64(r['len'], 'transfer len'), fill: Number(r['fill']) & 0xff, left: left < 1n ? 1n : left,
      };
      this.status |= DMA_STATUS_BUSY;
    }
    this.irqLevel = this.computeLevel();
    this.irq.set(this.irqLevel);
  }

  // --- Internals --------------------------------------------------------------

  private reg64(base: number): bigint {
    switch (base) {
      case DMA_SRC: return this.src;
      case DMA_DST: return this.dst;
      case DMA_LEN: return this.len;
      case DMA_FILL: return this.fill;
      case DMA_ERR_ADDR: return this.errAddr;
      case DMA_WIN_BASE: return this.windowBase;
      case DMA_WIN_SIZE: return this.windowSize;
      default: return 0n; // 0x00 (ID/VERSION) and 0x28 (CTRL/STATUS) are u32 pairs
    }
  }

  private writeCtrl(value: number): void {
    this.ctrl = value;
    const op = value & DMA_CTRL_OP_MASK;
    if (op !== 0) {
      if (this.xfer !== undefined) {
        this.setError(DMA_ERR_BUSY);
      } else {
        this.status = 0;
        this.errAddr = 0n;
        if (op === DMA_OP_COPY || op === DMA_OP_FILL) {
          this.xfer = {
            op, src: this.src, dst: this.dst, len: this.len, fill: Number(this.fill & 0xffn), left: dmaTransferTicks(this.len),
          };
          this.status = DMA_STATUS_BUSY;
        } else {
          this.setError(DMA_ERR_BAD_OP);
        }
      }
    }
    this.update();
  }

  private setError(code: number): void {
    this.status = (this.status & ~DMA_STATUS_CODE_MASK) | DMA_STATUS_ERROR | (code << DMA_STATUS_CODE_SHIFT);
  }

  /**
   * The first address of [addr, addr + len) (len > 0) the engine cannot use,
   * with the error code, or undefined when it may use all of it: outside the
   * window first (a wrap past 2^64 included), then not RAM (or read-only RAM,
   * for a destination).
   */
  private offending(addr: bigint, len: bigint, write: boolean): { addr: bigint; code: number } | undefined {
    const wb = this.windowBase;
    const we = wb + this.windowSize;
    if (addr < wb || addr >= we) return { addr, code: DMA_ERR_OUT_OF_WINDOW };
    if (addr + len > we) return { addr: we, code: DMA_ERR_OUT_OF_WINDOW }; // also every wrap past 2^64
    // Inside the window: must be RAM, all of it in one bank.
    const a = Number(addr);
    const bank = this.mem.bankOf(a, 1);
    if (bank === undefined || (write && bank.readOnly)) return { addr, code: DMA_ERR_BUS_ERROR };
    const bankEnd = BigInt(bank.base + bank.size);
    if (addr + len > bankEnd) return { addr: bankEnd, code: DMA_ERR_BUS_ERROR };
    return undefined;
  }

  private complete(x: Transfer): void {
    this.xfer = undefined;
    this.completed++;
    let status = DMA_STATUS_DONE;
    let errAddr = 0n;
    if (x.len > 0n) {
      const bad = (x.op === DMA_OP_COPY ? this.offending(x.src, x.len, false) : undefined) ?? this.offending(x.dst, x.len, true);
      if (bad !== undefined) {
        status |= DMA_STATUS_ERROR | (bad.code << DMA_STATUS_CODE_SHIFT);
        errAddr = bad.addr & U64_MASK;
      } else {
        this.move(x);
      }
    }
    this.status = status;
    this.errAddr = errAddr;
    this.update();
  }

  /** Move the bytes of a transfer that passed the checks (both ranges in RAM). */
  private move(x: Transfer): void {
    const len = Number(x.len);
    const dst = Number(x.dst);
    const dBank = this.mem.bankOf(dst, len)!;
    const dOff = dBank.offset + (dst - dBank.base);
    const u8 = this.mem.u8;
    if (x.op === DMA_OP_COPY) {
      const src = Number(x.src);
      const sBank = this.mem.bankOf(src, len)!;
      const sOff = sBank.offset + (src - sBank.base);
      u8.copyWithin(dOff, sOff, sOff + len); // memmove semantics
    } else {
      u8.fill(x.fill, dOff, dOff + len);
    }
    this.wrote(dst, len);
  }

  private computeLevel(): boolean {
    return (this.status & (DMA_STATUS_DONE | DMA_STATUS_ERROR)) !== 0 && (this.ctrl & DMA_CTRL_IRQ_EN) !== 0;
  }

  private update(): void {
    const level = this.computeLevel();
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.set(level);
    }
  }
}

