/**
 * Guest RAM: every RAM-like bank of the board in one host ArrayBuffer.
 *
 *   buffer offset 0                 mromSize          + lowSize
 *   ┌──────────────┬─────────────────────────┬───────────────────────┐
 *   │ reset ROM    │ low DRAM (0x8000_0000)  │ high DRAM (0x1_0000_0000)
 *   └──────────────┴─────────────────────────┴───────────────────────┘
 *
 * One buffer means one set of typed-array views, so the CPU's TLB can store a
 * plain byte offset per page and a load on the fast path is one array read.
 * The buffer is allocated zero-filled by the host; on Linux V8 obtains large
 * zeroed buffers from the kernel with mmap, so untouched guest pages cost no
 * host memory (a 4 GiB guest that touches 1 MiB costs about 1 MiB).
 * Every bank starts on a page boundary in the buffer; at most 4 GiB in all, so
 * offsets fit a Uint32Array (the TLB's) and `off >>> 2` indexes the word views.
 */

import { PAGE_SIZE } from './memmap.js';

export interface RamBank {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  /** Byte offset of the bank in the buffer. */
  readonly offset: number;
  readonly readOnly: boolean;
}

export const RAM_MAX_TOTAL = 4 * 1024 * 1024 * 1024 - PAGE_SIZE;

export class PhysMemory {
  readonly buffer: ArrayBuffer;
  readonly u8: Uint8Array;
  readonly i8: Int8Array;
  readonly u16: Uint16Array;
  readonly i16: Int16Array;
  readonly i32: Int32Array;
  readonly u32: Uint32Array;
  readonly banks: readonly RamBank[];

  constructor(banks: { name: string; base: number; size: number; readOnly?: boolean }[]) {
    let offset = 0;
    const placed: RamBank[] = [];
    for (const b of banks) {
      if (b.size === 0) continue;
      if (b.base % PAGE_SIZE !== 0 || b.size % PAGE_SIZE !== 0) {
        throw new Error(`RAM bank ${b.name} must be page aligned (base 0x${b.base.toString(16)}, size 0x${b.size.toString(16)})`);
      }
      placed.push({ name: b.name, base: b.base, size: b.size, offset, readOnly: b.readOnly ?? false });
      offset += b.size;
    }
    if (offset > RAM_MAX_TOTAL) throw new Error(`RAM of ${offset} bytes in all is more than kmemlab supports (4 GiB)`);
    this.banks = placed;
    this.buffer = new ArrayBuffer(offset);
    this.u8 = new Uint8Array(this.buffer);
    this.i8 = new Int8Array(this.buffer);
    this.u16 = new Uint16Array(this.buffer);
    this.i16 = new Int16Array(this.buffer);
    this.i32 = new Int32Array(this.buffer);
    this.u32 = new Uint32Array(this.buffer);
  }

  /** The bank holding `[paddr, paddr + len)` wholly, or undefined. */
  bankOf(paddr: number, len = 1): RamBank | undefined {
    for (const b of this.banks) {
      if (paddr >= b.base && paddr + len <= b.base + b.size) return b;
    }
    return undefined;
  }

  /** Buffer offset of `[paddr, paddr + len)`, or -1 when it is not wholly RAM. */
  offsetOf(paddr: number, len = 1): number {
    const b = this.bankOf(paddr, len);
    return b === undefined ? -1 : b.offset + (paddr - b.base);
  }

  contains(paddr: number, len: number): boolean {
    return this.bankOf(paddr, len) !== undefined;
  }

  /** Copy bytes into guest RAM (loader, host tools). Throws outside RAM. */
  writeBytes(paddr: number, data: Uint8Array): void {
    const off = this.offsetOf(paddr, Math.max(1, data.length));
    if (off < 0) throw new Error(`0x${paddr.toString(16)}+${data.length} is not RAM`);
    this.u8.set(data, off);
  }

  readBytes(paddr: number, len: number): Uint8Array {
    const off = this.offsetOf(paddr, Math.max(1, len));
    if (off < 0) throw new Error(`0x${paddr.toString(16)}+${len} is not RAM`);
    return this.u8.slice(off, off + len);
  }
}
