/**
 * A tiny ELF64 little-endian writer for tests: header, program headers, the
 * segment bytes, and (when symbols are given) .symtab/.strtab/.shstrtab with a
 * section header table. Field offsets follow the gABI Elf64_* structures.
 *
 *   0     Elf64_Ehdr
 *   64    Elf64_Phdr × segments
 *   …     segment bytes, each 16-byte aligned
 *   …     .symtab (8-aligned), .strtab, .shstrtab
 *   …     Elf64_Shdr × 4 (8-aligned): NULL, .symtab, .strtab, .shstrtab
 */

export interface TestSegment {
  /** p_type, default PT_LOAD (1). */
  type?: number;
  paddr: number | bigint;
  /** Default: paddr. */
  vaddr?: number | bigint;
  data: Uint8Array;
  /** Default: data.length. */
  memsz?: number | bigint;
  /** p_flags, default PF_R | PF_X. */
  flags?: number;
}

export interface TestSymbol {
  name: string;
  value: number | bigint;
  /** STB_*, default STB_GLOBAL (1). */
  bind?: number;
  /** STT_*, default STT_OBJECT (1). */
  type?: number;
  /** st_shndx, default 1 (some defined section). */
  shndx?: number;
}

export interface TestElf {
  entry?: number | bigint;
  segments: TestSegment[];
  symbols?: TestSymbol[];
  /** e_machine, default EM_RISCV (243). */
  machine?: number;
  /** e_type, default ET_EXEC (2). */
  type?: number;
}

/** Offsets of the ELF header fields (gABI Elf64_Ehdr). */
export const EH = {
  e_type: 16,
  e_machine: 18,
  e_version: 20,
  e_entry: 24,
  e_phoff: 32,
  e_shoff: 40,
  e_flags: 48,
  e_ehsize: 52,
  e_phentsize: 54,
  e_phnum: 56,
  e_shentsize: 58,
  e_shnum: 60,
  e_shstrndx: 62,
} as const;

/** Offsets inside one Elf64_Phdr. */
export const PH = { p_type: 0, p_flags: 4, p_offset: 8, p_vaddr: 16, p_paddr: 24, p_filesz: 32, p_memsz: 40, p_align: 48 } as const;

/** Offsets inside one Elf64_Shdr. */
export const SH = { sh_name: 0, sh_type: 4, sh_flags: 8, sh_addr: 16, sh_offset: 24, sh_size: 32, sh_link: 40, sh_info: 44, sh_addralign: 48, sh_entsize: 56 } as const;

const align = (n: number, a: number): number => Math.ceil(n / a) * a;

export function writeElf64(elf: TestElf): Uint8Array {
  const enc = new TextEncoder();
  const phoff = 64;
  let off = phoff + 56 * elf.segments.length;
  const segOffsets = elf.segments.map((s) => {
    off = align(off, 16);
    const o = off;
    off += s.data.length;
    return o;
  });

  const syms = elf.symbols;
  let symtabOff = 0;
  let strtab = new Uint8Array(1);
  let strtabOff = 0;
  let shstrtab = new Uint8Array(0);
  let shstrtabOff = 0;
  let shoff = 0;
  const nameOffsets: number[] = [];
  if (syms) {
    const names: number[] = [0];
    for (const s of syms) {
      nameOffsets.push(names.length);
      names.push(...enc.encode(s.name), 0);
    }
    strtab = Uint8Array.from(names);
    shstrtab = enc.encode('\0.symtab\0.strtab\0.shstrtab\0');
    symtabOff = align(off, 8);
    off = symtabOff + 24 * (syms.length + 1);
    strtabOff = off;
    off += strtab.length;
    shstrtabOff = off;
    off += shstrtab.length;
    shoff = align(off, 8);
    off = shoff + 64 * 4;
  }

  const out = new Uint8Array(off);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0); // ELFCLASS64, ELFDATA2LSB, EV_CURRENT
  v.setUint16(EH.e_type, elf.type ?? 2, true);
  v.setUint16(EH.e_machine, elf.machine ?? 243, true);
  v.setUint32(EH.e_version, 1, true);
  v.setBigUint64(EH.e_entry, BigInt(elf.entry ?? elf.segments[0]?.paddr ?? 0), true);
  v.setBigUint64(EH.e_phoff, BigInt(phoff), true);
  v.setBigUint64(EH.e_shoff, BigInt(shoff), true);
  v.setUint16(EH.e_ehsize, 64, true);
  v.setUint16(EH.e_phentsize, 56, true);
  v.setUint16(EH.e_phnum, elf.segments.length, true);
  v.setUint16(EH.e_shentsize, 64, true);
  v.setUint16(EH.e_shnum, syms ? 4 : 0, true);
  v.setUint16(EH.e_shstrndx, syms ? 3 : 0, true);

  elf.segments.forEach((s, i) => {
    const p = phoff + 56 * i;
    v.setUint32(p + PH.p_type, s.type ?? 1, true);
    v.setUint32(p + PH.p_flags, s.flags ?? 5, true);
    v.setBigUint64(p + PH.p_offset, BigInt(segOffsets[i]!), true);
    v.setBigUint64(p + PH.p_vaddr, BigInt(s.vaddr ?? s.paddr), true);
    v.setBigUint64(p + PH.p_paddr, BigInt(s.paddr), true);
    v.setBigUint64(p + PH.p_filesz, BigInt(s.data.length), true);
    v.setBigUint64(p + PH.p_memsz, BigInt(s.memsz ?? s.data.length), true);
    v.setBigUint64(p + PH.p_align, 16n, true);
    out.set(s.data, segOffsets[i]!);
  });

  if (syms) {
    syms.forEach((s, i) => {
      const o = symtabOff + 24 * (i + 1);
      v.setUint32(o, nameOffsets[i]!, true);
      v.setUint8(o + 4, ((s.bind ?? 1) << 4) | (s.type ?? 1));
      v.setUint16(o + 6, s.shndx ?? 1, true);
      v.setBigUint64(o + 8, BigInt(s.value), true);
      v.setBigUint64(o + 16, 8n, true);
    });
    out.set(strtab, strtabOff);
    out.set(shstrtab, shstrtabOff);
    const sh = (i: number, name: number, type: number, offset: number, size: number, link: number, entsize: number): void => {
      const o = shoff + 64 * i;
      v.setUint32(o + SH.sh_name, name, true);
      v.setUint32(o + SH.sh_type, type, true);
      v.setBigUint64(o + SH.sh_offset, BigInt(offset), true);
      v.setBigUint64(o + SH.sh_size, BigInt(size), true);
      v.setUint32(o + SH.sh_link, link, true);
      v.setUint32(o + SH.sh_info, i === 1 ? 1 : 0, true);
      v.setBigUint64(o + SH.sh_addralign, 8n, true);
      v.setBigUint64(o + SH.sh_entsize, BigInt(entsize), true);
    };
    sh(1, 1, 2, symtabOff, 24 * (syms.length + 1), 2, 24); // .symtab → link .strtab
    sh(2, 9, 3, strtabOff, strtab.length, 0, 0); // .strtab
    sh(3, 17, 3, shstrtabOff, shstrtab.length, 0, 0); // .shstrtab
  }
  return out;
}
