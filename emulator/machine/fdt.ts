/**
 * Flattened device tree (DTB) writer and reader, per the Devicetree
 * Specification v0.4, chapter 5 "Flattened Devicetree (DTB) Format".
 *
 *   offset 0        ┌─────────────────────────────┐
 *                   │ struct fdt_header (40 B)    │ 5.2, big-endian u32 fields
 *   off_mem_rsvmap  ├─────────────────────────────┤ 8-byte aligned (5.6)
 *                   │ fdt_reserve_entry × n       │ 5.3: {u64 address, u64 size},
 *                   │ {0, 0} terminator           │      ends with a zero entry
 *   off_dt_struct   ├─────────────────────────────┤ 4-byte aligned (5.6)
 *                   │ FDT_BEGIN_NODE name\0 pad   │ 5.4: tokens, each u32,
 *                   │ FDT_PROP len nameoff val pad│      values padded to 4
 *                   │ FDT_END_NODE … FDT_END      │
 *   off_dt_strings  ├─────────────────────────────┤ no alignment (5.5)
 *                   │ "compatible\0reg\0…"        │ property names, de-duplicated
 *   totalsize       └─────────────────────────────┘
 *
 * The writer is a streaming builder (beginNode / prop* / endNode) that
 * enforces the rules of 5.4.2 (properties before child nodes, one root node
 * with an empty name) and the naming rules of 2.2.1 and 2.2.4, so a mistake in
 * the board description fails at build time rather than in the guest. The
 * reader checks every offset against the blob and throws FdtError.
 */

/** 5.2: the value of fdt_header.magic. */
export const FDT_MAGIC = 0xd00dfeed;
/** 5.1: the version we write and the oldest version it is compatible with. */
export const FDT_VERSION = 17;
export const FDT_LAST_COMP_VERSION = 16;
/** 5.4.1 structure block tokens. */
export const FDT_BEGIN_NODE = 0x1;
export const FDT_END_NODE = 0x2;
export const FDT_PROP = 0x3;
export const FDT_NOP = 0x4;
export const FDT_END = 0x9;
/** Deepest nesting the reader accepts (Linux's unflatten_dt_nodes uses the same bound). */
export const FDT_MAX_DEPTH = 64;
/** sizeof(struct fdt_header) for version 17. */
export const FDT_HEADER_SIZE = 40;

/** A malformed blob, or a builder used against the rules of the spec. */
export class FdtError extends Error {
  override readonly name = 'FdtError';
}

/** 5.2 struct fdt_header. */
export interface FdtHeader {
  magic: number;
  totalsize: number;
  off_dt_struct: number;
  off_dt_strings: number;
  off_mem_rsvmap: number;
  version: number;
  last_comp_version: number;
  boot_cpuid_phys: number;
  size_dt_strings: number;
  size_dt_struct: number;
}

/** 5.3.2 struct fdt_reserve_entry. */
export interface FdtReservation {
  address: bigint;
  size: bigint;
}

// 2.2.1: node-name characters; 2.2.4: property-name characters.
const NODE_NAME = /^[0-9a-zA-Z,._+-]{1,31}(@[0-9a-zA-Z,._+-]+)?$/;
const PROP_NAME = /^[0-9a-zA-Z,._+?#-]{1,31}$/;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A growable big-endian byte buffer. */
class ByteWriter {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, v >>> 0);
    this.length += 4;
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  /** Zero bytes up to the next multiple of `align`. */
  pad(align: number): void {
    const n = (align - (this.length % align)) % align;
    this.reserve(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Big-endian u32 cells as bytes (2.2.4.1 <u32>, <prop-encoded-array>). */
export function cellsToBytes(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw new FdtError(`cell value ${v} is not a u32`);
    view.setUint32(i * 4, v);
  });
  return out;
}

/** Split a 64-bit value into its two cells, high first (2.2.4.1 <u64>). */
export function u64Cells(v: number | bigint): [number, number] {
  const b = BigInt(v);
  if (b < 0n || b >= 1n << 64n) throw new FdtError(`value ${v} is not a u64`);
  return [Number(b >> 32n), Number(b & 0xffff_ffffn)];
}

interface OpenNode {
  name: string;
  props: Set<string>;
  children: Set<string>;
}

/**
 * Streaming DTB builder. Usage:
 *
 *   const b = new FdtBuilder();
 *   b.beginNode('');                       // the root node (5.4.2)
 *   b.propU32('#address-cells', 2);
 *   const ph = b.allocPhandle();
 *   b.beginNode('intc').propEmpty('interrupt-controller').propU32('phandle', ph).endNode();
 *   b.endNode();
 *   const blob = b.finish();
 */
export class FdtBuilder {
  private readonly struct = new ByteWriter();
  private readonly strings = new ByteWriter();
  private readonly stringOffsets = new Map<string, number>();
  private readonly stack: OpenNode[] = [];
  private readonly reservations: FdtReservation[] = [];
  /** Phandles handed out by allocPhandle, and those written to a node. */
  private readonly allocatedPhandles = new Set<number>();
  private readonly writtenPhandles = new Set<number>();
  private nextPhandle = 1;
  private rootDone = false;

  constructor(private readonly bootCpuidPhys = 0) {}

  /** 5.3: add a memory reservation entry. */
  addReservation(address: number | bigint, size: number | bigint): this {
    const entry = { address: BigInt(address), size: BigInt(size) };
    if (entry.size === 0n) throw new FdtError('a reservation of size 0 would end the reservation block');
    this.reservations.push(entry);
    return this;
  }

  /** 2.3.3: a phandle unique in this tree (1, 2, 3, …). */
  allocPhandle(): number {
    while (this.allocatedPhandles.has(this.nextPhandle) || this.writtenPhandles.has(this.nextPhandle)) this.nextPhandle++;
    const ph = this.nextPhandle++;
    this.allocatedPhandles.add(ph);
    return ph;
  }

  beginNode(name: string): this {
    if (this.stack.length === 0) {
      if (this.rootDone) throw new FdtError('a device tree has exactly one root node');
      if (name !== '') throw new FdtError(`the root node has an empty name, not "${name}" (5.4.2)`);
    } else {
      if (!NODE_NAME.test(name)) throw new FdtError(`invalid node name "${name}" (2.2.1)`);
      const parent = this.stack[this.stack.length - 1]!;
      if (parent.children.has(name)) throw new FdtError(`duplicate node ${this.path() === '/' ? '' : this.path()}/${name}`);
      parent.children.add(name);
    }
    this.struct.u32(FDT_BEGIN_NODE);
    this.struct.bytes(encoder.encode(name));
    this.struct.bytes(new Uint8Array(1));
    this.struct.pad(4);
    this.stack.push({ name, props: new Set(), children: new Set() });
    return this;
  }

  endNode(): this {
    if (this.stack.length === 0) throw new FdtError('endNode without an open node');
    this.stack.pop();
    this.struct.u32(FDT_END_NODE);
    if (this.stack.length === 0) this.rootDone = true;
    return this;
  }

  /** A property with a raw value (5.4.1 FDT_PROP). */
  propBytes(name: string, value: Uint8Array): this {
    const node = this.stack[this.stack.length - 1];
    if (!node) throw new FdtError(`property ${name} outside any node`);
    if (!PROP_NAME.test(name)) throw new FdtError(`invalid property name "${name}" (2.2.4)`);
    if (node.props.has(name)) throw new FdtError(`duplicate property ${name} in ${this.path()}`);
    if (node.children.size > 0) throw new FdtError(`property ${name} of ${this.path()} after a child node (5.4.2)`);
    node.props.add(name);
    if (name === 'phandle') this.notePhandle(value);
    this.struct.u32(FDT_PROP);
    this.struct.u32(value.length);
    this.struct.u32(this.stringOffset(name));
    this.struct.bytes(value);
    this.struct.pad(4);
    return this;
  }

  /** A property with an empty value, e.g. `interrupt-controller`, `ranges`. */
  propEmpty(name: string): this {
    return this.propBytes(name, new Uint8Array(0));
  }

  /** <u32> or <prop-encoded-array> of u32 cells. */
  propU32(name: string, ...values: number[]): this {
    return this.propBytes(name, cellsToBytes(values));
  }

  /** <u64> values, each as two cells, high first. */
  propU64(name: string, ...values: (number | bigint)[]): this {
    return this.propU32(name, ...values.flatMap((v) => u64Cells(v)));
  }

  /** <string> or <stringlist>: each string NUL-terminated. */
  propString(name: string, ...strings: string[]): this {
    if (strings.length === 0) throw new FdtError(`property ${name}: a string list needs at least one string`);
    const parts = strings.map((s) => {
      if (s.includes('\0')) throw new FdtError(`property ${name}: a string may not contain NUL`);
      return encoder.encode(s + '\0');
    });
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    return this.propBytes(name, out);
  }

  /** The blob: header, reservation block, structure block, strings block. */
  finish(): Uint8Array {
    if (!this.rootDone) throw new FdtError(this.stack.length ? `node ${this.path()} is still open` : 'no root node');
    this.struct.u32(FDT_END);
    const struct = this.struct.result();
    const strings = this.strings.result();

    const out = new ByteWriter();
    for (let i = 0; i < FDT_HEADER_SIZE / 4; i++) out.u32(0); // header, filled below
    out.pad(8);
    const offRsvmap = out.length;
    for (const r of [...this.reservations, { address: 0n, size: 0n }]) {
      for (const c of [...u64Cells(r.address), ...u64Cells(r.size)]) out.u32(c);
    }
    out.pad(4);
    const offStruct = out.length;
    out.bytes(struct);
    const offStrings = out.length;
    out.bytes(strings);
    const blob = out.result();

    const view = new DataView(blob.buffer);
    const header: FdtHeader = {
      magic: FDT_MAGIC,
      totalsize: blob.length,
      off_dt_struct: offStruct,
      off_dt_strings: offStrings,
      off_mem_rsvmap: offRsvmap,
      version: FDT_VERSION,
      last_comp_version: FDT_LAST_COMP_VERSION,
      boot_cpuid_phys: this.bootCpuidPhys,
      size_dt_strings: strings.length,
      size_dt_struct: struct.length,
    };
    HEADER_FIELDS.forEach((f, i) => view.setUint32(i * 4, header[f]));
    return blob;
  }

  private path(): string {
    return '/' + this.stack.slice(1).map((n) => n.name).join('/');
  }

  private notePhandle(value: Uint8Array): void {
    if (value.length !== 4) throw new FdtError(`phandle of ${this.path()} must be one cell`);
    const ph = new DataView(value.buffer, value.byteOffset, 4).getUint32(0);
    if (ph === 0 || ph === 0xffff_ffff) throw new FdtError(`phandle ${ph} of ${this.path()} is reserved (2.3.3)`);
    if (this.writtenPhandles.has(ph)) throw new FdtError(`phandle ${ph} of ${this.path()} is already used by another node`);
    this.writtenPhandles.add(ph);
  }

  private stringOffset(name: string): number {
    let off = this.stringOffsets.get(name);
    if (off === undefined) {
      off = this.strings.length;
      this.strings.bytes(encoder.encode(name + '\0'));
      this.stringOffsets.set(name, off);
    }
    return off;
  }
}

/** Header fields in file order (5.2). */
const HEADER_FIELDS = [
  'magic',
  'totalsize',
  'off_dt_struct',
  'off_dt_strings',
  'off_mem_rsvmap',
  'version',
  'last_comp_version',
  'boot_cpuid_phys',
  'size_dt_strings',
  'size_dt_struct',
] as const satisfies readonly (keyof FdtHeader)[];

/** One node of a parsed tree, with its properties as raw bytes. */
export class FdtNode {
  readonly props = new Map<string, Uint8Array>();
  readonly children: FdtNode[] = [];
  constructor(
    readonly name: string,
    readonly parent?: FdtNode,
  ) {}

  /** The full path, "/" for the root (2.2.3). */
  get path(): string {
    if (!this.parent) return '/';
    const p = this.parent.path;
    return p === '/' ? `/${this.name}` : `${p}/${this.name}`;
  }

  child(name: string): FdtNode | undefined {
    return this.children.find((c) => c.name === name);
  }

  /** The node at an absolute path ("/soc/serial@10000000") or relative to this one. */
  find(path: string): FdtNode | undefined {
    let node: FdtNode | undefined = this;
    if (path.startsWith('/')) while (node.parent) node = node.parent;
    for (const part of path.split('/').filter((p) => p.length > 0)) {
      node = node.child(part);
      if (!node) return undefined;
    }
    return node;
  }

  /** This node and every descendant, depth first. */
  *walk(): Generator<FdtNode> {
    yield this;
    for (const c of this.children) yield* c.walk();
  }

  /** The node whose `phandle` property is `ph`, searched from the root. */
  byPhandle(ph: number): FdtNode | undefined {
    let root: FdtNode = this;
    while (root.parent) root = root.parent;
    for (const n of root.walk()) if (n.u32('phandle') === ph) return n;
    return undefined;
  }

  has(name: string): boolean {
    return this.props.has(name);
  }

  /** The property as u32 cells; undefined when absent; throws when not a whole number of cells. */
  u32s(name: string): number[] | undefined {
    const v = this.props.get(name);
    if (v === undefined) return undefined;
    if (v.length % 4 !== 0) throw new FdtError(`${this.path}: property ${name} is ${v.length} bytes, not whole cells`);
    const view = new DataView(v.buffer, v.byteOffset, v.length);
    return Array.from({ length: v.length / 4 }, (_, i) => view.getUint32(i * 4));
  }

  /** The property as one u32; throws when it is not exactly one cell. */
  u32(name: string): number | undefined {
    const cells = this.u32s(name);
    if (cells === undefined) return undefined;
    if (cells.length !== 1) throw new FdtError(`${this.path}: property ${name} has ${cells.length} cells, not 1`);
    return cells[0];
  }

  /** The property as u64 values (pairs of cells). */
  u64s(name: string): bigint[] | undefined {
    const cells = this.u32s(name);
    if (cells === undefined) return undefined;
    if (cells.length % 2 !== 0) throw new FdtError(`${this.path}: property ${name} has an odd number of cells`);
    const out: bigint[] = [];
    for (let i = 0; i < cells.length; i += 2) out.push((BigInt(cells[i]!) << 32n) | BigInt(cells[i + 1]!));
    return out;
  }

  /** The property as a <stringlist>; throws when it is not NUL-terminated. */
  strings(name: string): string[] | undefined {
    const v = this.props.get(name);
    if (v === undefined) return undefined;
    if (v.length === 0 || v[v.length - 1] !== 0) throw new FdtError(`${this.path}: property ${name} is not a NUL-terminated string`);
    return decoder.decode(v.subarray(0, v.length - 1)).split('\0');
  }

  /** The property as one <string>. */
  string(name: string): string | undefined {
    const s = this.strings(name);
    if (s === undefined) return undefined;
    if (s.length !== 1) throw new FdtError(`${this.path}: property ${name} is a list of ${s.length} strings`);
    return s[0];
  }
}

/** Read and check the header (5.2). */
export function readFdtHeader(blob: Uint8Array): FdtHeader {
  if (blob.length < FDT_HEADER_SIZE) throw new FdtError(`blob of ${blob.length} bytes is shorter than the header`);
  const view = new DataView(blob.buffer, blob.byteOffset, blob.length);
  const h = {} as FdtHeader;
  HEADER_FIELDS.forEach((f, i) => (h[f] = view.getUint32(i * 4)));
  if (h.magic !== FDT_MAGIC) throw new FdtError(`bad magic 0x${h.magic.toString(16)}, not a DTB`);
  if (h.last_comp_version > FDT_VERSION) throw new FdtError(`version ${h.version} (compatible with ${h.last_comp_version}) is newer than 17`);
  if (h.version < FDT_LAST_COMP_VERSION) throw new FdtError(`version ${h.version} is older than 16`);
  if (h.totalsize > blob.length || h.totalsize < FDT_HEADER_SIZE) throw new FdtError(`totalsize ${h.totalsize} does not fit the blob of ${blob.length} bytes`);
  const inside = (off: number, size: number): boolean => off >= FDT_HEADER_SIZE && off + size <= h.totalsize;
  if (!inside(h.off_dt_struct, h.size_dt_struct)) throw new FdtError('the structure block lies outside the blob');
  if (!inside(h.off_dt_strings, h.size_dt_strings)) throw new FdtError('the strings block lies outside the blob');
  if (!inside(h.off_mem_rsvmap, 16)) throw new FdtError('the memory reservation block lies outside the blob');
  if (h.off_mem_rsvmap % 8 !== 0) throw new FdtError('the memory reservation block is not 8-byte aligned (5.6)');
  if (h.off_dt_struct % 4 !== 0 || h.size_dt_struct % 4 !== 0) throw new FdtError('the structure block is not 4-byte aligned (5.6)');
  return h;
}

/** The memory reservation entries (5.3), without the terminator. */
export function readFdtReservations(blob: Uint8Array): FdtReservation[] {
  const h = readFdtHeader(blob);
  const view = new DataView(blob.buffer, blob.byteOffset, blob.length);
  const out: FdtReservation[] = [];
  for (let off = h.off_mem_rsvmap; ; off += 16) {
    if (off + 16 > h.totalsize) throw new FdtError('the memory reservation block has no terminating entry');
    const address = view.getBigUint64(off);
    const size = view.getBigUint64(off + 8);
    if (address === 0n && size === 0n) return out;
    out.push({ address, size });
  }
}

/** Parse a DTB into a tree of nodes (5.4). Throws FdtError on a malformed blob. */
export function parseFdt(blob: Uint8Array): FdtNode {
  const h = readFdtHeader(blob);
  const view = new DataView(blob.buffer, blob.byteOffset, blob.length);
  const end = h.off_dt_struct + h.size_dt_struct;
  const strEnd = h.off_dt_strings + h.size_dt_strings;
  let off = h.off_dt_struct;
  const token = (): number => {
    if (off + 4 > end) throw new FdtError('the structure block ends without FDT_END');
    const t = view.getUint32(off);
    off += 4;
    return t;
  };
  const cstring = (from: number, limit: number, what: string): [string, number] => {
    let i = from;
    while (i < limit && blob[i] !== 0) i++;
    if (i >= limit) throw new FdtError(`${what} is not NUL-terminated`);
    return [decoder.decode(blob.subarray(from, i)), i + 1];
  };

  let root: FdtNode | undefined;
  let cur: FdtNode | undefined;
  let depth = 0;
  for (;;) {
    const t = token();
    if (t === FDT_NOP) continue;
    if (t === FDT_BEGIN_NODE) {
      const [name, next] = cstring(off, end, 'a node name');
      off = (next + 3) & ~3;
      if (!cur) {
        if (root) throw new FdtError('more than one root node');
        root = cur = new FdtNode(name);
      } else {
        if (++depth > FDT_MAX_DEPTH) throw new FdtError(`nodes nested deeper than ${FDT_MAX_DEPTH} levels`);
        const node = new FdtNode(name, cur);
        cur.children.push(node);
        cur = node;
      }
    } else if (t === FDT_PROP) {
      if (!cur) throw new FdtError('a property outside any node');
      const len = token();
      const nameoff = token();
      if (off + len > end) throw new FdtError(`property value of ${len} bytes runs past the structure block`);
      if (h.off_dt_strings + nameoff >= strEnd) throw new FdtError(`property name offset ${nameoff} is outside the strings block`);
      const [name] = cstring(h.off_dt_strings + nameoff, strEnd, 'a property name');
      cur.props.set(name, blob.slice(off, off + len));
      off = (off + len + 3) & ~3;
    } else if (t === FDT_END_NODE) {
      if (!cur) throw new FdtError('FDT_END_NODE without an open node');
      cur = cur.parent;
      depth--;
    } else if (t === FDT_END) {
      if (cur || !root) throw new FdtError('FDT_END inside a node or before the root');
      return root;
    } else {
      throw new FdtError(`unknown token 0x${t.toString(16)} at offset 0x${(off - 4).toString(16)}`);
    }
  }
}
