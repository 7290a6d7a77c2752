/**
 * ELF64 reader for loading RV64 images (firmware, kernels, ISA test binaries).
 *
 * Field names follow the System V ABI generic part (gABI), "Object Files"
 * (ELF Header, Sections, Symbol Table) and "Program Loading" (Program Header),
 * and the RISC-V ELF psABI for e_machine = EM_RISCV (243).
 *
 *   file offset 0        ┌──────────────────────────────┐
 *                        │ Elf64_Ehdr (64 bytes)        │ e_phoff, e_shoff point onward
 *   e_phoff              ├──────────────────────────────┤
 *                        │ Elf64_Phdr × e_phnum (56 B)  │ PT_LOAD → ElfSegment
 *                        ├──────────────────────────────┤
 *   p_offset             │ segment bytes (p_filesz)     │ memsz − filesz is zero-filled
 *                        ├──────────────────────────────┤
 *   sh_offset            │ .symtab (Elf64_Sym × n, 24 B)│ sh_link → its .strtab
 *                        ├──────────────────────────────┤
 *   e_shoff              │ Elf64_Shdr × e_shnum (64 B)  │
 *                        └──────────────────────────────┘
 *
 * Every offset and size read from the file is checked against the file before
 * use, so a truncated or corrupt file always ends in one ImageError (one line:
 * what is wrong, in which file, what to do), never in a RangeError or a hang.
 * 64-bit fields are read as bigint; physical addresses are returned as numbers
 * and must be below 2^53.
 */

/** A problem with an image file the user gave us; the message is one line. */
export class ImageError extends Error {
  override readonly name = 'ImageError';
  constructor(message: string) {
    super(message);
  }
}

/** One PT_LOAD segment with p_memsz > 0. */
export interface ElfSegment {
  /** p_paddr: where the loader puts the bytes. */
  paddr: number;
  /** p_vaddr. */
  vaddr: bigint;
  /** The p_filesz bytes of the segment (a view into the file's bytes). */
  data: Uint8Array;
  /** p_memsz; bytes from data.length to memsz are zero. */
  memsz: number;
  /** p_flags: PF_X | PF_W | PF_R. */
  flags: number;
}

export interface ElfImage {
  /** e_entry. */
  entry: bigint;
  /** PT_LOAD segments with p_memsz > 0, in program-header order. */
  segments: ElfSegment[];
  /** Defined symbols of .symtab by name (global ones win); empty if stripped. */
  symbols: Map<string, bigint>;
  /** STT_FUNC symbols with their st_size, in .symtab order (for symbolising pcs). */
  functions: ElfFunction[];
}

export interface ElfFunction {
  name: string;
  value: bigint;
  size: number;
}

// gABI constants, named as in <elf.h>.
export const ELFMAG = [0x7f, 0x45, 0x4c, 0x46] as const; // "\x7fELF"
export const EI_CLASS = 4;
export const EI_DATA = 5;
export const ELFCLASS32 = 1;
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const ELFDATA2MSB = 2;
export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;
export const ET_CORE = 4;
export const EM_RISCV = 243;
export const PT_NULL = 0;
export const PT_LOAD = 1;
export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_ABS = 0xfff1;
export const SHN_XINDEX = 0xffff;
export const PN_XNUM = 0xffff;
export const STB_LOCAL = 0;
export const STT_FUNC = 2;
const STT_SECTION = 3;
export const STT_FILE = 4;

/** sizeof(Elf64_Ehdr), sizeof(Elf64_Phdr), sizeof(Elf64_Shdr), sizeof(Elf64_Sym). */
export const EHDR64_SIZE = 64;
export const PHDR64_SIZE = 56;
export const SHDR64_SIZE = 64;
export const SYM64_SIZE = 24;

/**
 * Limits beyond which a field is "absurd" rather than merely large: no board
 * has more than 4 GiB of RAM, and no image needs 64 Ki program headers.
 */
const MAX_SEGMENT_BYTES = 2 ** 32;
const MAX_PHNUM = 4096;
const MAX_SHNUM = 65536;
const MAX_SYMBOLS = 1 << 20;

/** e_machine values people commonly hand us by mistake. */
const MACHINE_NAMES: ReadonlyMap<number, string> = new Map([
  [2, 'SPARC'],
  [3, 'i386'],
  [8, 'MIPS'],
  [20, 'PowerPC'],
  [21, 'PowerPC64'],
  [22, 'S/390'],
  [40, 'ARM'],
  [62, 'x86-64'],
  [183, 'AArch64'],
  [258, 'LoongArch'],
]);

const TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'ET_NONE'],
  [ET_REL, 'a relocatable object (ET_REL)'],
  [ET_CORE, 'a core dump (ET_CORE)'],
]);

const hex = (v: number | bigint): string => `0x${v.toString(16)}`;

/** True when `bytes` starts with the ELF magic (gABI e_ident[EI_MAG0..EI_MAG3]). */
export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && ELFMAG.every((b, i) => bytes[i] === b);
}

/**
 * Bounds-checked little-endian reader over the file. Every read names the
 * structure it belongs to so a failure says which part of the file is cut off.
 */
class FileReader {
  private readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    private readonly fileName: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get size(): number {
    return this.bytes.length;
  }

  /** Throws unless [off, off + len) lies inside the file. */
  need(off: bigint | number, len: bigint | number, what: string): number {
    const o = BigInt(off);
    const l = BigInt(len);
    if (o < 0n || l < 0n || o + l > BigInt(this.bytes.length)) {
      throw new ImageError(
        `${this.fileName}: ${what} at offset ${hex(o)} (${l} bytes) lies outside the file (${this.bytes.length} bytes); ` +
          `the file is truncated or corrupt, rebuild or re-copy it`,
      );
    }
    return Number(o);
  }

  u8(off: number): number {
    return this.view.getUint8(off);
  }
  u16(off: number): number {
    return this.view.getUint16(off, true);
  }
  u32(off: number): number {
    return this.view.getUint32(off, true);
  }
  u64(off: number): bigint {
    return this.view.getBigUint64(off, true);
  }
}

/** Elf64_Ehdr fields we use (gABI "ELF Header"). */
interface Ehdr {
  e_type: number;
  e_machine: number;
  e_entry: bigint;
  e_phoff: bigint;
  e_shoff: bigint;
  e_ehsize: number;
  e_phentsize: number;
  e_phnum: number;
  e_shentsize: number;
  e_shnum: number;
}

/** Elf64_Shdr fields we use (gABI "Sections"). */
interface Shdr {
  sh_type: number;
  sh_offset: bigint;
  sh_size: bigint;
  sh_link: number;
  sh_entsize: bigint;
}

/**
 * Parse an ELF64 RISC-V executable. Throws ImageError on anything that is not
 * a well-formed little-endian RV64 ET_EXEC/ET_DYN file with at least one
 * PT_LOAD segment.
 */
export function parseElf(bytes: Uint8Array, fileName: string): ElfImage {
  const r = new FileReader(bytes, fileName);
  const fail = (what: string, todo: string): never => {
    throw new ImageError(`${fileName}: ${what}; ${todo}`);
  };

  if (bytes.length === 0) fail('the file is empty', 'give the path of an RV64 ELF image or raw binary');
  if (!isElf(bytes)) {
    const shown = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    fail(`not an ELF file (starts with ${shown})`, 'give an RV64 ELF image, or load the file as a raw binary');
  }
  r.need(0, EI_DATA + 1, 'e_ident');
  const cls = r.u8(EI_CLASS);
  if (cls === ELFCLASS32) fail('32-bit ELF; kmemlab runs RV64 images', 'rebuild it for rv64 (e.g. -march=rv64imac -mabi=lp64)');
  if (cls !== ELFCLASS64) fail(`unknown ELF class ${cls} in e_ident[EI_CLASS]`, 'the file is corrupt, rebuild it');
  const data = r.u8(EI_DATA);
  if (data === ELFDATA2MSB) fail('big-endian ELF (ELFDATA2MSB); RISC-V is little-endian', 'rebuild it for riscv64 little-endian');
  if (data !== ELFDATA2LSB) fail(`unknown data encoding ${data} in e_ident[EI_DATA]`, 'the file is corrupt, rebuild it');

  r.need(0, EHDR64_SIZE, 'the ELF header (Elf64_Ehdr)');
  const eh: Ehdr = {
    e_type: r.u16(16),
    e_machine: r.u16(18),
    e_entry: r.u64(24),
    e_phoff: r.u64(32),
    e_shoff: r.u64(40),
    e_ehsize: r.u16(52),
    e_phentsize: r.u16(54),
    e_phnum: r.u16(56),
    e_shentsize: r.u16(58),
    e_shnum: r.u16(60),
  };

  if (eh.e_machine !== EM_RISCV) {
    const name = MACHINE_NAMES.get(eh.e_machine) ?? `e_machine ${eh.e_machine}`;
    fail(`built for ${name}, not RISC-V (EM_RISCV = ${EM_RISCV})`, 'rebuild it with a riscv64 toolchain');
  }
  if (eh.e_type !== ET_EXEC && eh.e_type !== ET_DYN) {
    const name = TYPE_NAMES.get(eh.e_type) ?? `e_type ${eh.e_type}`;
    fail(`${name} is not an executable (ET_EXEC or ET_DYN)`, 'link it into an executable first');
  }
  if (eh.e_ehsize < EHDR64_SIZE) fail(`e_ehsize is ${eh.e_ehsize}, less than ${EHDR64_SIZE}`, 'the header is corrupt, rebuild the file');

  // Section header 0 holds the real counts when they do not fit the 16-bit
  // fields (gABI "Sections": e_shnum = 0, e_phnum = PN_XNUM).
  let sh0: Shdr | undefined;
  if (eh.e_shoff !== 0n) {
    if (eh.e_shentsize < SHDR64_SIZE) fail(`e_shentsize is ${eh.e_shentsize}, less than ${SHDR64_SIZE}`, 'the section header table is corrupt, rebuild or strip the file');
    sh0 = readShdr(r, eh.e_shoff, 'section header 0');
  }
  let phnum = eh.e_phnum;
  if (phnum === PN_XNUM && sh0) phnum = readShdrInfo(r, eh.e_shoff);
  let shnum = eh.e_shnum;
  if (shnum === 0 && sh0) {
    if (sh0.sh_size > BigInt(MAX_SHNUM)) fail(`section count ${sh0.sh_size} is absurd`, 'the section header table is corrupt, rebuild or strip the file');
    shnum = Number(sh0.sh_size);
  }

  // Program headers (gABI "Program Header").
  if (phnum === 0) fail('no program headers (e_phnum = 0), so nothing to load', 'link it as an executable with PT_LOAD segments');
  if (phnum > MAX_PHNUM) fail(`e_phnum is ${phnum}, absurd for an image`, 'the header is corrupt, rebuild the file');
  if (eh.e_phentsize < PHDR64_SIZE) fail(`e_phentsize is ${eh.e_phentsize}, less than ${PHDR64_SIZE}`, 'the header is corrupt, rebuild the file');
  r.need(eh.e_phoff, BigInt(phnum) * BigInt(eh.e_phentsize), 'the program header table (e_phoff, e_phnum)');

  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const off = Number(eh.e_phoff) + i * eh.e_phentsize;
    const p_type = r.u32(off);
    if (p_type !== PT_LOAD) continue;
    const p_flags = r.u32(off + 4);
    const p_offset = r.u64(off + 8);
    const p_vaddr = r.u64(off + 16);
    const p_paddr = r.u64(off + 24);
    const p_filesz = r.u64(off + 32);
    const p_memsz = r.u64(off + 40);
    const seg = `segment ${i} (PT_LOAD at p_paddr ${hex(p_paddr)})`;
    if (p_filesz > p_memsz) fail(`${seg} has p_filesz ${hex(p_filesz)} > p_memsz ${hex(p_memsz)}`, 'the program header is corrupt, rebuild the file');
    if (p_memsz > BigInt(MAX_SEGMENT_BYTES)) fail(`${seg} has p_memsz ${hex(p_memsz)}, more than any board's RAM`, 'check the linker script');
    if (p_memsz === 0n) continue;
    if (p_paddr + p_memsz > BigInt(Number.MAX_SAFE_INTEGER)) {
      fail(`${seg} ends at ${hex(p_paddr + p_memsz)}, beyond 2^53`, 'link it at a physical address inside the board\'s RAM');
    }
    const start = r.need(p_offset, p_filesz, `the bytes of ${seg} (p_offset, p_filesz)`);
    segments.push({
      paddr: Number(p_paddr),
      vaddr: p_vaddr,
      data: bytes.subarray(start, start + Number(p_filesz)),
      memsz: Number(p_memsz),
      flags: p_flags,
    });
  }
  if (segments.length === 0) fail('no PT_LOAD segment with p_memsz > 0, so nothing to load', 'check the linker script');

  const functions: ElfFunction[] = [];
  const symbols = eh.e_shoff !== 0n ? readSymbols(r, eh, shnum, fail, functions) : new Map<string, bigint>();
  return { entry: eh.e_entry, segments, symbols, functions };
}

function readShdr(r: FileReader, shoff: bigint, what: string, index = 0, entsize = SHDR64_SIZE): Shdr {
  const off = r.need(shoff + BigInt(index) * BigInt(entsize), SHDR64_SIZE, `${what} (e_shoff)`);
  return {
    sh_type: r.u32(off + 4),
    sh_offset: r.u64(off + 24),
    sh_size: r.u64(off + 32),
    sh_link: r.u32(off + 40),
    sh_entsize: r.u64(off + 56),
  };
}

function readShdrInfo(r: FileReader, shoff: bigint): number {
  const off = r.need(shoff, SHDR64_SIZE, 'section header 0 (e_shoff)');
  return r.u32(off + 44);
}

/**
 * The defined symbols of the first SHT_SYMTAB section (gABI "Symbol Table"),
 * by name. A global symbol wins over a local one of the same name; section
 * and file symbols are skipped.
 */
function readSymbols(
  r: FileReader,
  eh: Ehdr,
  shnum: number,
  fail: (what: string, todo: string) => never,
  functions: ElfFunction[],
): Map<string, bigint> {
  const symbols = new Map<string, bigint>();
  const todo = 'the section headers are corrupt, rebuild the file or strip it (riscv64-linux-gnu-strip)';
  if (shnum > MAX_SHNUM) fail(`e_shnum ${shnum} is absurd`, todo);
  r.need(eh.e_shoff, BigInt(shnum) * BigInt(eh.e_shentsize), 'the section header table (e_shoff, e_shnum)');

  for (let i = 0; i < shnum; i++) {
    const sh = readShdr(r, eh.e_shoff, `section header ${i}`, i, eh.e_shentsize);
    if (sh.sh_type !== SHT_SYMTAB) continue;
    if (sh.sh_entsize !== BigInt(SYM64_SIZE)) fail(`.symtab has sh_entsize ${sh.sh_entsize}, not ${SYM64_SIZE}`, todo);
    const count = sh.sh_size / BigInt(SYM64_SIZE);
    if (count > BigInt(MAX_SYMBOLS)) fail(`.symtab holds ${count} symbols, absurd`, todo);
    const symOff = r.need(sh.sh_offset, sh.sh_size, '.symtab (sh_offset, sh_size)');
    if (sh.sh_link === 0 || sh.sh_link >= shnum) fail(`.symtab sh_link ${sh.sh_link} names no section`, todo);
    const str = readShdr(r, eh.e_shoff, `section header ${sh.sh_link}`, sh.sh_link, eh.e_shentsize);
    if (str.sh_type !== SHT_STRTAB) fail(`.symtab sh_link ${sh.sh_link} is not a string table`, todo);
    const strOff = r.need(str.sh_offset, str.sh_size, 'the symbol string table (sh_offset, sh_size)');
    const strEnd = strOff + Number(str.sh_size);
    const decoder = new TextDecoder();
    const globals = new Set<string>();

    for (let k = 1; k < Number(count); k++) {
      const s = symOff + k * SYM64_SIZE;
      const st_name = r.u32(s);
      const st_info = r.u8(s + 4);
      const st_shndx = r.u16(s + 6);
      const st_value = r.u64(s + 8);
      const type = st_info & 0xf;
      const bind = st_info >> 4;
      if (st_name === 0 || st_shndx === SHN_UNDEF || type === STT_SECTION || type === STT_FILE) continue;
      if (st_name >= strEnd - strOff) fail(`symbol ${k} has st_name ${st_name} beyond the string table`, todo);
      let end = strOff + st_name;
      while (end < strEnd && r.bytes[end] !== 0) end++;
      const name = decoder.decode(r.bytes.subarray(strOff + st_name, end));
      // First definition wins, except that a global or weak one replaces a local.
      if (!symbols.has(name) || (bind !== STB_LOCAL && !globals.has(name))) symbols.set(name, st_value);
      if (bind !== STB_LOCAL) globals.add(name);
      if (type === STT_FUNC) functions.push({ name, value: st_value, size: Number(r.u64(s + 16)) });
    }
    break; // gABI: at most one SHT_SYMTAB section.
  }
  return symbols;
}
