/**
 * Byte-level reading and writing of the WebAssembly binary format (§5.1–5.2):
 * bytes, LEB128 integers with their length and range checks, IEEE bits,
 * UTF-8 names, vectors.
 *
 * LEB128 (§5.2.2): an N-bit integer takes at most ceil(N/7) bytes, and the
 * unused bits of the last byte must be zero (unsigned) or copies of the sign
 * bit (signed). A longer encoding is "too long", a last byte with bad unused
 * bits is "too large". Both are malformed modules.
 */
import { WasmError } from './module.js';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** A cursor over `bytes[pos, end)`, throwing WasmError with a context ("in section \"type\"") on any problem. */
export class ByteReader {
  pos: number;
  /** Prefix of every error message, e.g. `in function "foo"`. */
  context = '';
  func: string | undefined;

  constructor(
    readonly bytes: Uint8Array,
    pos = 0,
    public end = bytes.length,
  ) {
    this.pos = pos;
  }

  /** Throw a WasmError located at `offset` (default: the current position). */
  fail(message: string, offset = this.pos): never {
    const where = `at 0x${offset.toString(16)}`;
    throw new WasmError(this.context ? `${this.context} ${where}: ${message}` : `${where}: ${message}`, offset, this.func);
  }

  atEnd(): boolean {
    return this.pos >= this.end;
  }

  remaining(): number {
    return this.end - this.pos;
  }

  u8(what = 'byte'): number {
    if (this.pos >= this.end) this.fail(`unexpected end of ${this.context ? 'section or function' : 'module'} reading ${what}`);
    return this.bytes[this.pos++]!;
  }

  /** The next `n` bytes, as a view (no copy). */
  take(n: number, what: string): Uint8Array {
    if (n > this.end - this.pos) this.fail(`unexpected end reading ${what} (${n} bytes, ${this.end - this.pos} left)`);
    const v = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** Unsigned LEB128 of at most 32 bits (§5.2.2 u32). */
  u32(what = 'u32'): number {
    const start = this.pos;
    let result = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.u8(what);
      if (i === 4) {
        if (b & 0x80) this.fail(`${what}: integer representation too long`, start);
        if (b & 0x70) this.fail(`${what}: integer too large`, start);
      }
      result += (b & 0x7f) * 2 ** (7 * i);
      if (!(b & 0x80)) return result;
    }
    return this.fail(`${what}: integer representation too long`, start);
  }

  /** Signed LEB128 of `bits` bits (§5.2.2 s32, s33, s64), as a bigint. */
  signed(bits: 32 | 33 | 64, what: string): bigint {
    const start = this.pos;
    const maxBytes = Math.ceil(bits / 7);
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < maxBytes; i++) {
      const b = this.u8(what);
      if (i === maxBytes - 1) {
        if (b & 0x80) this.fail(`${what}: integer representation too long`, start);
        // The payload bits above the value's width must all equal its sign bit.
        const used = bits - 7 * i; // value bits in this byte, including the sign bit
        const unusedMask = (0x7f >> (used - 1)) << (used - 1); // sign bit and above
        const high = b & unusedMask;
        if (high !== 0 && high !== unusedMask) this.fail(`${what}: integer too large`, start);
      }
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if (!(b & 0x80)) {
        if (b & 0x40) result -= 1n << shift; // sign-extend from the last payload bit
        return BigInt.asIntN(bits, result);
      }
    }
    return this.fail(`${what}: integer representation too long`, start);
  }

  s32(what = 's32'): number {
    return Number(this.signed(32, what));
  }

  /** Raw little-endian bits of an IEEE float of 4 or 8 bytes (§5.2.3). */
  floatBits(size: 4 | 8, what: string): bigint {
    const b = this.take(size, what);
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    return v;
  }

  /** A UTF-8 name (§5.2.4). */
  name(what = 'name'): string {
    const start = this.pos;
    const len = this.u32(`${what} length`);
    const b = this.take(len, what);
    try {
      return UTF8.decode(b);
    } catch {
      return this.fail(`${what} is not valid UTF-8`, start);
    }
  }

  /** A vector length (§5.1.3), checked against the bytes left (each element takes ≥ `minSize` bytes) and a limit. */
  count(what: string, limit = 0xffff_ffff, minSize = 1): number {
    const start = this.pos;
    const n = this.u32(`${what} count`);
    if (n > limit) this.fail(`too many ${what}: ${n} (implementation limit ${limit})`, start);
    if (n * minSize > this.end - this.pos) this.fail(`${n} ${what} cannot fit in the ${this.end - this.pos} bytes left`, start);
    return n;
  }
}

/** A growable byte buffer with the encodings of §5.2. */
export class ByteWriter {
  private buf: Uint8Array<ArrayBuffer> = new Uint8Array(256);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  u8(b: number): this {
    this.reserve(1);
    this.buf[this.length++] = b & 0xff;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw new WasmError(`cannot encode ${v} as u32`);
    do {
      let b = v % 128;
      v = Math.floor(v / 128);
      if (v !== 0) b |= 0x80;
      this.u8(b);
    } while (v !== 0);
    return this;
  }

  /** Signed LEB128 of a value already in range. */
  signed(v: bigint): this {
    for (;;) {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      const done = (v === 0n && !(b & 0x40)) || (v === -1n && (b & 0x40) !== 0);
      this.u8(done ? b : b | 0x80);
      if (done) return this;
    }
  }

  floatBits(bits: bigint, size: 4 | 8): this {
    for (let i = 0; i < size; i++) this.u8(Number((bits >> BigInt(8 * i)) & 0xffn));
    return this;
  }

  name(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.u32(b.length).bytes(b);
  }

  /** A length-prefixed copy of another writer's bytes (sections, subsections, function bodies). */
  sized(inner: ByteWriter): this {
    return this.u32(inner.length).bytes(inner.finish());
  }

  finish(): Uint8Array<ArrayBuffer> {
    return this.buf.slice(0, this.length);
  }
}
