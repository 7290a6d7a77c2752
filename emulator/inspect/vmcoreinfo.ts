/**
 * The host's view of the guest's VMCOREINFO block (kernel/vmcoreinfo.ts;
 * DESIGN.md §6): find it through the kernel's ELF symbol, read it out of
 * guest physical memory and parse Linux's lines (kernel/crash_core.c):
 *
 *   SYMBOL(name)=hex           a kernel virtual address
 *   OFFSET(struct.field)=dec   bytes from the struct's start
 *   SIZE(struct)=dec           bytes
 *   NUMBER(name)=dec           a signed number
 *   LENGTH(name)=dec           an array's element count
 *   NAME=value                 anything else (OSRELEASE=…, PAGESIZE=…)
 *
 * The block sits behind a 16-byte header: u64 magic "VMCOREIN", u32 text
 * bytes, u32 version (1). The kernel global `vmcoreinfo_data` (ELF symbol
 * kernel/vmcoreinfo/vmcoreinfo_data, a u64) holds the header's address.
 */

/** Read `len` bytes of guest physical memory at `pa` (e.g. machine.mem.readBytes). */
export type ReadPhys = (pa: number, len: number) => Uint8Array;

export const VMCOREINFO_MAGIC = 0x4e49_4552_4f43_4d56n;
export const VMCOREINFO_HEADER = 16;
/** The kernel's buffer size (kernel/vmcoreinfo.ts VMCOREINFO_BYTES): the text never exceeds it. */
export const VMCOREINFO_BYTES = 8192;
/** ELF symbols under which the kernel keeps the header's address. */
export const VMCOREINFO_SYMBOLS = ['kernel/vmcoreinfo/vmcoreinfo_data', 'kernel.vmcoreinfo.vmcoreinfo_data', 'vmcoreinfo_data'];

export class VmcoreinfoError extends Error {}

export interface Vmcoreinfo {
  /** Physical address of the header. */
  pa: number;
  text: string;
  symbols: Map<string, bigint>;
  offsets: Map<string, number>;
  sizes: Map<string, number>;
  numbers: Map<string, bigint>;
  lengths: Map<string, number>;
  strings: Map<string, string>;
}

/** Physical address of a kernel virtual address in the linear map (VA = sign extension of the 32-bit PA). */
export function linearPa(va: bigint): number {
  if (va >> 32n !== 0xffff_ffffn) throw new VmcoreinfoError(`0x${va.toString(16)} is not a linear-map address`);
  return Number(va & 0xffff_ffffn);
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

export function readU64(read: ReadPhys, pa: number): bigint {
  return view(read(pa, 8)).getBigUint64(0, true);
}

export function readU32(read: ReadPhys, pa: number): number {
  return view(read(pa, 4)).getUint32(0, true);
}

/** Parse the text of a VMCOREINFO block. Malformed values throw. */
export function parseVmcoreinfo(text: string, pa = 0): Vmcoreinfo {
  const info: Vmcoreinfo = {
    pa, text, symbols: new Map(), offsets: new Map(), sizes: new Map(), numbers: new Map(), lengths: new Map(), strings: new Map(),
  };
  const dec = (v: string, line: string): number => {
    if (!/^\d+$/.test(v)) throw new VmcoreinfoError(`not a decimal number: ${JSON.stringify(line)}`);
    return Number(v);
  };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = /^(SYMBOL|OFFSET|SIZE|NUMBER|LENGTH)\(([^)]+)\)=(.*)$/.exec(line);
    if (m) {
      const [, kind, name, value] = m as unknown as [string, string, string, string];
      switch (kind) {
        case 'SYMBOL':
          if (!/^[0-9a-f]+$/i.test(value)) throw new VmcoreinfoError(`not a hex address: ${JSON.stringify(line)}`);
          info.symbols.set(name, BigInt(`0x${value}`));
          break;
        case 'OFFSET': info.offsets.set(name, dec(value, line)); break;
        case 'SIZE': info.sizes.set(name, dec(value, line)); break;
        case 'LENGTH': info.lengths.set(name, dec(value, line)); break;
        default:
          if (!/^-?\d+$/.test(value)) throw new VmcoreinfoError(`not a number: ${JSON.stringify(line)}`);
          info.numbers.set(name, BigInt(value));
      }
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new VmcoreinfoError(`not a VMCOREINFO line: ${JSON.stringify(line)}`);
    info.strings.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return info;
}

/** Read and parse the block whose header is at physical address `pa`. */
export function readVmcoreinfoAt(read: ReadPhys, pa: number): Vmcoreinfo {
  const magic = readU64(read, pa);
  if (magic !== VMCOREINFO_MAGIC) throw new VmcoreinfoError(`no VMCOREINFO header at 0x${pa.toString(16)} (magic 0x${magic.toString(16)})`);
  const len = readU32(read, pa + 8);
  if (len > VMCOREINFO_BYTES - VMCOREINFO_HEADER) throw new VmcoreinfoError(`VMCOREINFO text length ${len} is out of range`);
  const text = Buffer.from(read(pa + VMCOREINFO_HEADER, len)).toString('latin1');
  return parseVmcoreinfo(text, pa);
}

/**
 * Find the block without symbols, as in a raw memory image: scan physical
 * [start, end) in 16-byte steps for the header's magic (the kernel writes it
 * with numeric stores, so it appears nowhere else). Undefined when absent.
 */
export function scanVmcoreinfo(read: ReadPhys, start: number, end: number): Vmcoreinfo | undefined {
  const chunk = 1 << 16;
  for (let base = start; base < end; base += chunk) {
    const bytes = read(base, Math.min(chunk, end - base));
    const v = view(bytes);
    for (let off = 0; off + VMCOREINFO_HEADER <= bytes.length; off += 16) {
      if (v.getBigUint64(off, true) === VMCOREINFO_MAGIC) return readVmcoreinfoAt(read, base + off);
    }
  }
  return undefined;
}

/**
 * Find the block through the kernel's ELF symbols (parseElf(...).symbols):
 * the global `vmcoreinfo_data` holds the header's kernel address.
 */
export function readVmcoreinfo(read: ReadPhys, elfSymbols: ReadonlyMap<string, bigint>): Vmcoreinfo {
  const sym = VMCOREINFO_SYMBOLS.map((n) => elfSymbols.get(n)).find((v) => v !== undefined);
  if (sym === undefined) throw new VmcoreinfoError('the kernel ELF has no vmcoreinfo_data symbol');
  const va = readU64(read, linearPa(sym));
  if (va === 0n) throw new VmcoreinfoError('vmcoreinfo_data is 0: the kernel has not written its VMCOREINFO block yet');
  return readVmcoreinfoAt(read, linearPa(va));
}

function need<T>(m: Map<string, T>, kind: string, name: string): T {
  const v = m.get(name);
  if (v === undefined) throw new VmcoreinfoError(`VMCOREINFO has no ${kind}(${name})`);
  return v;
}

/** Lookups that throw a clear error when the kernel did not publish the entry. */
export const vmci = {
  symbol: (i: Vmcoreinfo, name: string): bigint => need(i.symbols, 'SYMBOL', name),
  offset: (i: Vmcoreinfo, name: string): number => need(i.offsets, 'OFFSET', name),
  size: (i: Vmcoreinfo, name: string): number => need(i.sizes, 'SIZE', name),
  number: (i: Vmcoreinfo, name: string): number => Number(need(i.numbers, 'NUMBER', name)),
  length: (i: Vmcoreinfo, name: string): number => need(i.lengths, 'LENGTH', name),
};
