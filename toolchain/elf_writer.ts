/**
 * ELF64 executable writer for RV64 images (System V gABI "Object Files" and
 * "Program Loading", RISC-V ELF psABI), and the `.kmemlab.lines` line table
 * that rides along in the same file.
 *
 * The caller describes sections (with their virtual addresses), which
 * allocated sections form each PT_LOAD segment (with its physical address),
 * and the symbols; the writer lays out the file:
 *
 *   file offset 0   ┌────────────────────────────────────┐
 *                   │ Elf64_Ehdr (64 B)                  │ e_flags = RVC | float ABI soft
 *   64              ├────────────────────────────────────┤
 *                   │ Elf64_Phdr × n (56 B each)         │ PT_LOAD per segment, PT_RISCV_ATTRIBUTES
 *                   ├────────────────────────────────────┤
 *   ≡ p_vaddr       │ segment 0: its sections, at the    │ p_offset ≡ p_vaddr (mod p_align = 4 KiB),
 *   (mod 4 KiB)     │ same distances as in memory        │ gaps between sections zero-filled;
 *                   ├────────────────────────────────────┤ SHT_NOBITS (.bss) only at a segment's end
 *                   │ segment 1 …                        │
 *                   ├────────────────────────────────────┤
 *                   │ non-allocated sections             │ .riscv.attributes, .kmemlab.lines …
 *                   │ .symtab (Elf64_Sym, 24 B)          │ locals first, sh_info = first global
 *                   │ .strtab, .shstrtab                 │
 *                   ├────────────────────────────────────┤
 *   e_shoff         │ Elf64_Shdr × m (64 B each)         │ [0] = SHN_UNDEF
 *                   └────────────────────────────────────┘
 *
 * `.kmemlab.lines` (SHT_PROGBITS, not allocated, little-endian), version 1:
 *
 *   0   u8[4]  magic "KMLT"
 *   4   u16    version (1)
 *   6   u16    entry size (24)
 *   8   u32    entry count N
 *   12  u32    file count F
 *   16  u32    string pool size S
 *   20  u32    reserved (0)
 *   24  u32[F] file names: offsets of NUL-terminated UTF-8 strings in the pool
 *   …   N entries, sorted by address, 24 bytes each:
 *         u64 addr         first pc of the range (the ELF's virtual address)
 *         u32 wasm_offset  byte offset of the wasm instruction in the module
 *         u32 file         index into the file table, 0xFFFF_FFFF = unknown
 *         u32 line         1-based source line, 0 = unknown
 *         u32 column       1-based source column (as SourceMap.lookup gives it)
 *   …   S bytes of string pool
 *
 *   Entry i covers [addr_i, addr_{i+1}); several entries may share an address
 *   (wasm instructions that generate no code), the last of them describes the
 *   code that follows.
 */

import { EM_RISCV, ET_EXEC, EHDR64_SIZE, PHDR64_SIZE, PT_LOAD, SHDR64_SIZE, SYM64_SIZE } from '../emulator/machine/elf.js';

// --- constants (named as in <elf.h> and the RISC-V psABI) ------------------------------------

export const EV_CURRENT = 1;
export const ELFOSABI_SYSV = 0;
/** e_flags (psABI "File Header"): the image may contain compressed instructions. */
export const EF_RISCV_RVC = 0x0001;
/** e_flags: float ABI soft (lp64), bits 1-2 = 0. */
export const EF_RISCV_FLOAT_ABI_SOFT = 0x0000;

export const PT_RISCV_ATTRIBUTES = 0x7000_0003;

export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_NOBITS = 8;
export const SHT_RISCV_ATTRIBUTES = 0x7000_0003;

export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;

export const SHN_UNDEF = 0;
export const SHN_ABS = 0xfff1;

export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;
export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STV_DEFAULT = 0;

/** p_align of every PT_LOAD: one 4 KiB page. */
export const SEGMENT_ALIGN = 0x1000;

/** The ISA string of `.riscv.attributes` (what the emulated CPU implements). */
export const RISCV_ARCH = 'rv64i2p1_m2p0_a2p1_c2p0_zicsr2p0_zifencei2p0';

// --- the description the caller gives ---------------------------------------------------------

export interface ElfSection {
  name: string;
  /** SHT_PROGBITS, SHT_NOBITS, … */
  type: number;
  /** SHF_* bits. */
  flags: number;
  /** sh_addr: the virtual address for allocated sections, 0 otherwise. */
  addr?: bigint;
  /** Contents (not for SHT_NOBITS). */
  data?: Uint8Array;
  /** Size of a SHT_NOBITS section. */
  size?: number;
  /** sh_addralign (default 1). */
  align?: number;
}

export interface ElfSegment {
  /** PF_R | PF_W | PF_X. */
  flags: number;
  /** Names of allocated sections, in increasing address order; p_vaddr is the first one's address. */
  sections: string[];
  /** p_paddr (default: p_vaddr). */
  paddr?: bigint;
}

export type SymbolType = 'func' | 'object' | 'notype';

export interface ElfSymbol {
  name: string;
  value: bigint;
  size?: number | bigint;
  type?: SymbolType;
  /** Default 'global'. */
  bind?: 'local' | 'global' | 'weak';
  /** Name of the section holding it; undefined = absolute (SHN_ABS). */
  section?: string;
}

export interface ElfDescription {
  entry: bigint;
  /** e_flags (default EF_RISCV_RVC | EF_RISCV_FLOAT_ABI_SOFT). */
  flags?: number;
  /** Allocated and non-allocated sections; .symtab/.strtab/.shstrtab are added by the writer. */
  sections: ElfSection[];
  segments: ElfSegment[];
  symbols: ElfSymbol[];
  /** Add `.riscv.attributes` and its PT_RISCV_ATTRIBUTES header (default true). */
  attributes?: boolean;
}

/** A description that cannot become a valid file (overlapping sections, unknown names …). */
export class ElfWriteError extends Error {
  override readonly name = 'ElfWriteError';
}

// --- helpers ------------------------------------------------------------------------------

const alignUp = (n: number, a: number): number => (a <= 1 ? n : Math.ceil(n / a) * a);
const U64 = (1n << 64n) - 1n;

class StringTable {
  private readonly parts: Uint8Array[] = [new Uint8Array(1)];
  private size = 1;
  private readonly index = new Map<string, number>();
  private readonly enc = new TextEncoder();

  add(s: string): number {
    if (s === '') return 0;
    const known = this.index.get(s);
    if (known !== undefined) return known;
    const b = this.enc.encode(s);
    const off = this.size;
    this.parts.push(b, new Uint8Array(1));
    this.size += b.length + 1;
    this.index.set(s, off);
    return off;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/** ULEB128 (DWARF 7.6), as the attributes section encodes integer tags. */
function uleb(v: number): number[] {
  const out: number[] = [];
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

/**
 * `.riscv.attributes` (psABI "Attributes"): format version 'A', one "riscv"
 * vendor subsection holding one Tag_File block with Tag_RISCV_stack_align
 * (4) = 16 and Tag_RISCV_arch (5).
 */
export function riscvAttributes(arch = RISCV_ARCH): Uint8Array {
  const attrs = [...uleb(4), ...uleb(16), ...uleb(5), ...new TextEncoder().encode(arch), 0];
  const fileBlock = [1, ...le32(5 + attrs.length), ...attrs];
  const vendor = [...new TextEncoder().encode('riscv'), 0];
  const sub = [...le32(4 + vendor.length + fileBlock.length), ...vendor, ...fileBlock];
  return Uint8Array.from([0x41, ...sub]);
}

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

interface PlacedSection extends ElfSection {
  offset: number;
  sizeInMemory: number;
  nameOff: number;
  link: number;
  info: number;
  entsize: number;
}

// --- the writer -----------------------------------------------------------------------------

/** Write an ET_EXEC ELF64 little-endian RISC-V file. Throws ElfWriteError on an inconsistent description. */
export function writeElf(desc: ElfDescription): Uint8Array {
  const shstr = new StringTable();
  const sections: PlacedSection[] = [];
  const byName = new Map<string, number>();
  const addSection = (s: ElfSection, extra: Partial<PlacedSection> = {}): PlacedSection => {
    if (byName.has(s.name)) throw new ElfWriteError(`section ${s.name} is described twice`);
    const size = s.type === SHT_NOBITS ? s.size ?? 0 : s.data?.length ?? 0;
    const p: PlacedSection = { ...s, offset: 0, sizeInMemory: size, nameOff: shstr.add(s.name), link: 0, info: 0, entsize: 0, ...extra };
    byName.set(s.name, sections.length + 1); // index 0 is the null section
    sections.push(p);
    return p;
  };
  for (const s of desc.sections) addSection(s);
  if (desc.attributes ?? true) addSection({ name: '.riscv.attributes', type: SHT_RISCV_ATTRIBUTES, flags: 0, data: riscvAttributes(), align: 1 });

  // Allocated sections must not overlap in the address space.
  const allocs = sections.filter((s) => s.flags & SHF_ALLOC).sort((a, b) => (a.addr! < b.addr! ? -1 : a.addr! > b.addr! ? 1 : 0));
  for (let i = 1; i < allocs.length; i++) {
    const p = allocs[i - 1]!;
    const c = allocs[i]!;
    if (c.addr! < p.addr! + BigInt(p.sizeInMemory)) {
      throw new ElfWriteError(`section ${c.name} at 0x${c.addr!.toString(16)} overlaps ${p.name} [0x${p.addr!.toString(16)}, 0x${(p.addr! + BigInt(p.sizeInMemory)).toString(16)})`);
    }
  }

  const segments = desc.segments.filter((seg) => seg.sections.some((n) => sections[(byName.get(n) ?? 0) - 1]?.sizeInMemory));
  const attrIndex = byName.get('.riscv.attributes');
  const phnum = segments.length + (attrIndex !== undefined ? 1 : 0);

  // Lay out segment contents: offset ≡ vaddr (mod SEGMENT_ALIGN), sections at their address distances.
  let off = EHDR64_SIZE + PHDR64_SIZE * phnum;
  interface SegLayout { seg: ElfSegment; vaddr: bigint; offset: number; filesz: number; memsz: number }
  const layouts: SegLayout[] = [];
  for (const seg of segments) {
    const secs = seg.sections.map((n) => {
      const i = byName.get(n);
      if (i === undefined) throw new ElfWriteError(`segment names section ${n}, which is not described`);
      const s = sections[i - 1]!;
      if (!(s.flags & SHF_ALLOC)) throw new ElfWriteError(`section ${n} is in a segment but has no SHF_ALLOC`);
      return s;
    }).filter((s) => s.sizeInMemory > 0);
    const vaddr = secs[0]!.addr!;
    const pageOff = Number(vaddr % BigInt(SEGMENT_ALIGN));
    const start = alignUp(off, SEGMENT_ALIGN) + pageOff;
    let filesz = 0;
    let memsz = 0;
    let sawNobits = false;
    for (const s of secs) {
      const delta = Number(s.addr! - vaddr);
      if (delta < memsz) throw new ElfWriteError(`section ${s.name} is out of address order in its segment`);
      if (s.type === SHT_NOBITS) {
        sawNobits = true;
        s.offset = start + Math.max(filesz, delta); // gABI: a NOBITS section's sh_offset is conceptual
      } else {
        if (sawNobits) throw new ElfWriteError(`section ${s.name} follows a SHT_NOBITS section inside its segment`);
        s.offset = start + delta;
        filesz = delta + s.sizeInMemory;
      }
      memsz = delta + s.sizeInMemory;
    }
    layouts.push({ seg, vaddr, offset: start, filesz, memsz });
    off = start + filesz;
  }

  // Non-allocated sections.
  for (const s of sections) {
    if (s.flags & SHF_ALLOC) continue;
    off = alignUp(off, s.align ?? 1);
    s.offset = off;
    off += s.sizeInMemory;
  }

  // Symbols: null, then one STT_SECTION per allocated section, then locals, then globals (gABI).
  const str = new StringTable();
  interface RawSym { name: number; info: number; shndx: number; value: bigint; size: bigint }
  const locals: RawSym[] = [];
  const globals: RawSym[] = [];
  for (const s of sections) {
    if (s.flags & SHF_ALLOC) locals.push({ name: 0, info: (STB_LOCAL << 4) | STT_SECTION, shndx: byName.get(s.name)!, value: s.addr!, size: 0n });
  }
  const TYPES: Record<SymbolType, number> = { func: STT_FUNC, object: STT_OBJECT, notype: STT_NOTYPE };
  const BINDS = { local: STB_LOCAL, global: STB_GLOBAL, weak: STB_WEAK } as const;
  for (const sym of desc.symbols) {
    const shndx = sym.section === undefined ? SHN_ABS : byName.get(sym.section);
    if (shndx === undefined) throw new ElfWriteError(`symbol ${sym.name} names section ${sym.section}, which is not described`);
    const bind = BINDS[sym.bind ?? 'global'];
    const raw: RawSym = {
      name: str.add(sym.name), info: (bind << 4) | TYPES[sym.type ?? 'notype'], shndx,
      value: BigInt.asUintN(64, sym.value), size: BigInt(sym.size ?? 0),
    };
    (bind === STB_LOCAL ? locals : globals).push(raw);
  }
  const syms = [{ name: 0, info: 0, shndx: 0, value: 0n, size: 0n }, ...locals, ...globals];
  const symtab = new Uint8Array(SYM64_SIZE * syms.length);
  const sv = new DataView(symtab.buffer);
  syms.forEach((s, i) => {
    const o = i * SYM64_SIZE;
    sv.setUint32(o, s.name, true);
    sv.setUint8(o + 4, s.info);
    sv.setUint8(o + 5, STV_DEFAULT);
    sv.setUint16(o + 6, s.shndx, true);
    sv.setBigUint64(o + 8, s.value & U64, true);
    sv.setBigUint64(o + 16, s.size & U64, true);
  });
  const strtabIndex = sections.length + 2;
  off = alignUp(off, 8);
  const symtabSec = addSection({ name: '.symtab', type: SHT_SYMTAB, flags: 0, data: symtab, align: 8 },
    { link: strtabIndex, info: 1 + locals.length, entsize: SYM64_SIZE });
  symtabSec.offset = off;
  off += symtab.length;
  const strtab = str.bytes();
  const strtabSec = addSection({ name: '.strtab', type: SHT_STRTAB, flags: 0, data: strtab, align: 1 });
  strtabSec.offset = off;
  off += strtab.length;
  const shstrtabSec = addSection({ name: '.shstrtab', type: SHT_STRTAB, flags: 0, align: 1 });
  const shstrtab = shstr.bytes(); // after the last add()
  shstrtabSec.data = shstrtab;
  shstrtabSec.sizeInMemory = shstrtab.length;
  shstrtabSec.offset = off;
  off += shstrtab.length;
  const shoff = alignUp(off, 8);
  const shnum = sections.length + 1;
  const total = shoff + SHDR64_SIZE * shnum;

  // Emit.
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2 /* ELFCLASS64 */, 1 /* ELFDATA2LSB */, EV_CURRENT, ELFOSABI_SYSV], 0);
  v.setUint16(16, ET_EXEC, true);
  v.setUint16(18, EM_RISCV, true);
  v.setUint32(20, EV_CURRENT, true);
  v.setBigUint64(24, BigInt.asUintN(64, desc.entry), true);
  v.setBigUint64(32, BigInt(EHDR64_SIZE), true);
  v.setBigUint64(40, BigInt(shoff), true);
  v.setUint32(48, desc.flags ?? EF_RISCV_RVC | EF_RISCV_FLOAT_ABI_SOFT, true);
  v.setUint16(52, EHDR64_SIZE, true);
  v.setUint16(54, PHDR64_SIZE, true);
  v.setUint16(56, phnum, true);
  v.setUint16(58, SHDR64_SIZE, true);
  v.setUint16(60, shnum, true);
  v.setUint16(62, shnum - 1, true); // e_shstrndx: .shstrtab is last

  let ph = EHDR64_SIZE;
  const phdr = (type: number, flags: number, offset: number, vaddr: bigint, paddr: bigint, filesz: number, memsz: number, align: number): void => {
    v.setUint32(ph, type, true);
    v.setUint32(ph + 4, flags, true);
    v.setBigUint64(ph + 8, BigInt(offset), true);
    v.setBigUint64(ph + 16, BigInt.asUintN(64, vaddr), true);
    v.setBigUint64(ph + 24, BigInt.asUintN(64, paddr), true);
    v.setBigUint64(ph + 32, BigInt(filesz), true);
    v.setBigUint64(ph + 40, BigInt(memsz), true);
    v.setBigUint64(ph + 48, BigInt(align), true);
    ph += PHDR64_SIZE;
  };
  if (attrIndex !== undefined) {
    const a = sections[attrIndex - 1]!;
    phdr(PT_RISCV_ATTRIBUTES, 4 /* PF_R */, a.offset, 0n, 0n, a.sizeInMemory, 0, 1);
  }
  for (const l of layouts) phdr(PT_LOAD, l.seg.flags, l.offset, l.vaddr, l.seg.paddr ?? l.vaddr, l.filesz, l.memsz, SEGMENT_ALIGN);

  for (const s of sections) if (s.type !== SHT_NOBITS && s.data) out.set(s.data, s.offset);

  sections.forEach((s, i) => {
    const o = shoff + SHDR64_SIZE * (i + 1);
    v.setUint32(o, s.nameOff, true);
    v.setUint32(o + 4, s.type, true);
    v.setBigUint64(o + 8, BigInt(s.flags), true);
    v.setBigUint64(o + 16, BigInt.asUintN(64, s.addr ?? 0n), true);
    v.setBigUint64(o + 24, BigInt(s.offset), true);
    v.setBigUint64(o + 32, BigInt(s.sizeInMemory), true);
    v.setUint32(o + 40, s.link, true);
    v.setUint32(o + 44, s.info, true);
    v.setBigUint64(o + 48, BigInt(s.align ?? 1), true);
    v.setBigUint64(o + 56, BigInt(s.entsize), true);
  });
  return out;
}

// --- reading sections back -------------------------------------------------------------------

/**
 * The contents of the section called `name` in an ELF64 little-endian file,
 * or undefined when there is none (or the file has no section headers).
 * For tools that need more than emulator/machine/elf.ts reads (the line table).
 */
export function readSection(file: Uint8Array, name: string): Uint8Array | undefined {
  if (file.length < EHDR64_SIZE) return undefined;
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const shoff = Number(v.getBigUint64(40, true));
  const shentsize = v.getUint16(58, true);
  const shnum = v.getUint16(60, true);
  const shstrndx = v.getUint16(62, true);
  if (shoff === 0 || shnum === 0 || shstrndx >= shnum || shoff + shnum * shentsize > file.length) return undefined;
  const hdr = (i: number) => {
    const o = shoff + i * shentsize;
    return { name: v.getUint32(o, true), type: v.getUint32(o + 4, true), offset: Number(v.getBigUint64(o + 24, true)), size: Number(v.getBigUint64(o + 32, true)) };
  };
  const strs = hdr(shstrndx);
  const dec = new TextDecoder();
  for (let i = 1; i < shnum; i++) {
    const h = hdr(i);
    let end = strs.offset + h.name;
    while (end < file.length && file[end] !== 0) end++;
    if (dec.decode(file.subarray(strs.offset + h.name, end)) !== name) continue;
    if (h.type === SHT_NOBITS || h.offset + h.size > file.length) return undefined;
    return file.subarray(h.offset, h.offset + h.size);
  }
  return undefined;
}

// --- the line table ---------------------------------------------------------------------------

/** One row of the line table: the code from `addr` on comes from this wasm instruction and source place. */
export interface LineEntry {
  /** pc (virtual address) of the first instruction generated for the wasm instruction. */
  addr: bigint;
  /** Byte offset of the wasm instruction in the module. */
  wasmOffset: number;
  /** AssemblyScript source file as the source map names it; undefined when unknown. */
  source?: string;
  /** 1-based line, or undefined. */
  line?: number;
  /** 1-based column. */
  column?: number;
}

export const LINES_SECTION = '.kmemlab.lines';
const LINES_MAGIC = [0x4b, 0x4d, 0x4c, 0x54]; // "KMLT"
const LINES_VERSION = 1;
const LINES_HEADER = 24;
const LINES_ENTRY = 24;
const NO_FILE = 0xffff_ffff;

/** Encode entries (any order; they are sorted by address) as the `.kmemlab.lines` payload. */
export function encodeLineTable(entries: readonly LineEntry[]): Uint8Array {
  const sorted = [...entries].sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
  const files: string[] = [];
  const fileIndex = new Map<string, number>();
  const pool = new StringTable();
  const fileOffsets: number[] = [];
  for (const e of sorted) {
    if (e.source === undefined || fileIndex.has(e.source)) continue;
    fileIndex.set(e.source, files.length);
    files.push(e.source);
    fileOffsets.push(pool.add(e.source));
  }
  const poolBytes = pool.bytes();
  const size = LINES_HEADER + 4 * files.length + LINES_ENTRY * sorted.length + poolBytes.length;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  out.set(LINES_MAGIC, 0);
  v.setUint16(4, LINES_VERSION, true);
  v.setUint16(6, LINES_ENTRY, true);
  v.setUint32(8, sorted.length, true);
  v.setUint32(12, files.length, true);
  v.setUint32(16, poolBytes.length, true);
  let o = LINES_HEADER;
  for (const f of fileOffsets) { v.setUint32(o, f, true); o += 4; }
  for (const e of sorted) {
    v.setBigUint64(o, BigInt.asUintN(64, e.addr), true);
    v.setUint32(o + 8, e.wasmOffset >>> 0, true);
    v.setUint32(o + 12, e.source === undefined ? NO_FILE : fileIndex.get(e.source)!, true);
    v.setUint32(o + 16, e.line ?? 0, true);
    v.setUint32(o + 20, e.column ?? 0, true);
    o += LINES_ENTRY;
  }
  out.set(poolBytes, o);
  return out;
}

/** Decode a `.kmemlab.lines` payload. Throws ElfWriteError when it is not one. */
export function decodeLineTable(bytes: Uint8Array): LineEntry[] {
  const bad = (why: string): never => {
    throw new ElfWriteError(`${LINES_SECTION}: ${why}`);
  };
  if (bytes.length < LINES_HEADER || LINES_MAGIC.some((b, i) => bytes[i] !== b)) bad('no "KMLT" header');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint16(4, true) !== LINES_VERSION) bad(`version ${v.getUint16(4, true)}, expected ${LINES_VERSION}`);
  const esize = v.getUint16(6, true);
  const n = v.getUint32(8, true);
  const nf = v.getUint32(12, true);
  const ps = v.getUint32(16, true);
  const filesAt = LINES_HEADER;
  const entriesAt = filesAt + 4 * nf;
  const poolAt = entriesAt + esize * n;
  if (esize < LINES_ENTRY || poolAt + ps > bytes.length) bad('truncated');
  const dec = new TextDecoder();
  const files: string[] = [];
  for (let i = 0; i < nf; i++) {
    const s = poolAt + v.getUint32(filesAt + 4 * i, true);
    let e = s;
    while (e < poolAt + ps && bytes[e] !== 0) e++;
    files.push(dec.decode(bytes.subarray(s, e)));
  }
  const out: LineEntry[] = [];
  for (let i = 0; i < n; i++) {
    const o = entriesAt + esize * i;
    const file = v.getUint32(o + 12, true);
    const line = v.getUint32(o + 16, true);
    const entry: LineEntry = { addr: v.getBigUint64(o, true), wasmOffset: v.getUint32(o + 8, true) };
    if (file !== NO_FILE) {
      entry.source = files[file];
      if (line !== 0) entry.line = line;
      entry.column = v.getUint32(o + 20, true);
    }
    out.push(entry);
  }
  return out;
}

/**
 * The line entry describing the code at `pc` in a table sorted by address:
 * the last entry whose address is ≤ pc (among entries at that same address,
 * the last one). Undefined before the first entry.
 */
export function lineAt(entries: readonly LineEntry[], pc: bigint): LineEntry | undefined {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.addr <= pc) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? undefined : entries[lo - 1];
}

/** The line table of an image written by linkImage, or undefined when the file has none. */
export function readLineTable(file: Uint8Array): LineEntry[] | undefined {
  const s = readSection(file, LINES_SECTION);
  return s === undefined ? undefined : decodeLineTable(s);
}
