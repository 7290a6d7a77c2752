import { describe, expect, it } from 'vitest';
import { ImageError, isElf, parseElf, PF_R, PF_W, PF_X, type ElfImage } from '../../emulator/machine/elf.js';
import { findHtif, planLoad, rawImage, type RamLayout } from '../../emulator/machine/loader.js';
import { EH, PH, SH, writeElf64, type TestElf } from '../helpers/elf_writer.js';

const FILE = 'kernel.elf';
const code = Uint8Array.from({ length: 64 }, (_, i) => i + 1);
const data = Uint8Array.from([0xaa, 0xbb, 0xcc, 0xdd]);

/** Two loadable segments plus a non-load one and an empty PT_LOAD, with symbols. */
const sample: TestElf = {
  entry: 0x8000_0010,
  segments: [
    { paddr: 0x8000_0000, data: code, flags: PF_R | PF_X },
    { type: 4 /* PT_NOTE */, paddr: 0, data: new Uint8Array(8) },
    { paddr: 0x8000_1000, vaddr: 0xffff_ffc0_0000_1000n, data, memsz: 0x100, flags: PF_R | PF_W },
    { paddr: 0x8000_2000, data: new Uint8Array(0), memsz: 0 },
  ],
  symbols: [
    { name: 'tohost', value: 0x8000_1000 },
    { name: 'fromhost', value: 0x8000_1040 },
    { name: 'local_then_global', value: 1, bind: 0 },
    { name: 'local_then_global', value: 2, bind: 1 },
    { name: 'global_then_local', value: 3, bind: 1 },
    { name: 'global_then_local', value: 4, bind: 0 },
    { name: 'undefined_sym', value: 5, shndx: 0 },
    { name: 'a_section', value: 6, type: 3 /* STT_SECTION */ },
    { name: 'a_file.c', value: 7, type: 4 /* STT_FILE */ },
    { name: 'absolute', value: 0x1234, shndx: 0xfff1 /* SHN_ABS */ },
  ],
};

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** The ImageError thrown by parseElf, with the checks every message must pass. */
function imageError(bytes: Uint8Array, fileName = FILE): ImageError {
  try {
    parseElf(bytes, fileName);
  } catch (e) {
    expect(e).toBeInstanceOf(ImageError);
    const err = e as ImageError;
    expect(err.message).not.toContain('\n');
    expect(err.message.startsWith(`${fileName}: `)).toBe(true);
    expect(err.message).toMatch(/; \S/); // "what is wrong; what to do"
    return err;
  }
  throw new Error('parseElf accepted a bad file');
}

/** A copy of the sample with one field patched. */
function patched(patch: (v: DataView, bytes: Uint8Array) => void, elf: TestElf = sample): Uint8Array {
  const bytes = writeElf64(elf);
  patch(view(bytes), bytes);
  return bytes;
}

const phdr = (i: number, field: number): number => 64 + 56 * i + field;

describe('parseElf', () => {
  it('reads entry, PT_LOAD segments and symbols', () => {
    const img = parseElf(writeElf64(sample), FILE);
    expect(img.entry).toBe(0x8000_0010n);
    expect(img.segments).toHaveLength(2); // PT_NOTE and the memsz-0 PT_LOAD are skipped
    const [text, rw] = img.segments;
    expect(text!.paddr).toBe(0x8000_0000);
    expect(text!.vaddr).toBe(0x8000_0000n);
    expect(text!.data).toEqual(code);
    expect(text!.memsz).toBe(64);
    expect(text!.flags).toBe(PF_R | PF_X);
    expect(rw!.paddr).toBe(0x8000_1000);
    expect(rw!.vaddr).toBe(0xffff_ffc0_0000_1000n);
    expect(rw!.data).toEqual(data);
    expect(rw!.memsz).toBe(0x100);
    expect(rw!.flags).toBe(PF_R | PF_W);
  });

  it('keeps defined symbols, global over local, and skips undefined, section and file symbols', () => {
    const { symbols } = parseElf(writeElf64(sample), FILE);
    expect(symbols.get('tohost')).toBe(0x8000_1000n);
    expect(symbols.get('fromhost')).toBe(0x8000_1040n);
    expect(symbols.get('local_then_global')).toBe(2n);
    expect(symbols.get('global_then_local')).toBe(3n);
    expect(symbols.get('absolute')).toBe(0x1234n);
    expect(symbols.has('undefined_sym')).toBe(false);
    expect(symbols.has('a_section')).toBe(false);
    expect(symbols.has('a_file.c')).toBe(false);
    expect(symbols.has('')).toBe(false);
  });

  it('accepts a stripped image (no section headers) with an empty symbol map', () => {
    const img = parseElf(writeElf64({ ...sample, symbols: undefined }), FILE);
    expect(img.segments).toHaveLength(2);
    expect(img.symbols.size).toBe(0);
  });

  it('accepts ET_DYN (position-independent) images', () => {
    expect(parseElf(writeElf64({ ...sample, type: 3 }), FILE).segments).toHaveLength(2);
  });

  it('takes a 64-bit paddr up to 2^53', () => {
    const img = parseElf(writeElf64({ segments: [{ paddr: 2 ** 52, data: code }] }), FILE);
    expect(img.segments[0]!.paddr).toBe(2 ** 52);
  });

  it('handles PN_XNUM (program header count in section header 0)', () => {
    const bytes = patched((v) => {
      v.setUint16(EH.e_phnum, 0xffff, true);
      const shoff = Number(v.getBigUint64(EH.e_shoff, true));
      v.setUint32(shoff + SH.sh_info, 4, true);
    });
    expect(parseElf(bytes, FILE).segments).toHaveLength(2);
  });

  it('isElf looks at the magic only', () => {
    expect(isElf(writeElf64(sample))).toBe(true);
    expect(isElf(new Uint8Array([0x7f, 0x45, 0x4c]))).toBe(false);
    expect(isElf(new TextEncoder().encode('#!/bin/sh\n'))).toBe(false);
    expect(isElf(new Uint8Array(0))).toBe(false);
  });
});

describe('parseElf errors', () => {
  it('empty file', () => {
    expect(imageError(new Uint8Array(0)).message).toMatch(/is empty/);
  });

  it('bad magic', () => {
    const e = imageError(new TextEncoder().encode('MZ\x90\x00 this is a PE file'));
    expect(e.message).toMatch(/not an ELF file \(starts with 4d 5a c2 90\)/);
    expect(imageError(new Uint8Array([1])).message).toMatch(/not an ELF file/);
  });

  it('ELFCLASS32', () => {
    expect(imageError(patched((v) => v.setUint8(4, 1))).message).toMatch(/32-bit ELF; kmemlab runs RV64 images/);
    expect(imageError(patched((v) => v.setUint8(4, 7))).message).toMatch(/unknown ELF class 7/);
  });

  it('big-endian', () => {
    expect(imageError(patched((v) => v.setUint8(5, 2))).message).toMatch(/big-endian/);
    expect(imageError(patched((v) => v.setUint8(5, 0))).message).toMatch(/unknown data encoding 0/);
  });

  it.each([
    [62, 'x86-64'],
    [183, 'AArch64'],
    [3, 'i386'],
    [40, 'ARM'],
    [999, 'e_machine 999'],
  ])('e_machine %i names %s', (machine, name) => {
    const e = imageError(writeElf64({ ...sample, machine }));
    expect(e.message).toContain(`built for ${name}, not RISC-V`);
  });

  it.each([
    [1, /relocatable object \(ET_REL\)/],
    [4, /core dump \(ET_CORE\)/],
    [0, /ET_NONE/],
    [0xfe00, /e_type 65024/],
  ])('e_type %i is not an executable', (type, re) => {
    const e = imageError(writeElf64({ ...sample, type }));
    expect(e.message).toMatch(re);
    expect(e.message).toMatch(/not an executable/);
  });

  it('truncated ELF header', () => {
    const bytes = writeElf64(sample).slice(0, 40);
    expect(imageError(bytes).message).toMatch(/ELF header \(Elf64_Ehdr\).*outside the file.*truncated/);
  });

  it('program header table outside the file', () => {
    const e = imageError(patched((v) => v.setBigUint64(EH.e_phoff, 0xffff_ffff_ffff_0000n, true)));
    expect(e.message).toMatch(/program header table.*outside the file/);
  });

  it('section header table outside the file', () => {
    const e = imageError(patched((v, b) => v.setBigUint64(EH.e_shoff, BigInt(b.length - 10), true)));
    expect(e.message).toMatch(/section header 0.*outside the file/);
  });

  it('segment bytes outside the file', () => {
    const e = imageError(patched((v) => v.setBigUint64(phdr(0, PH.p_offset), 0x10_0000n, true)));
    expect(e.message).toMatch(/bytes of segment 0 .*outside the file/);
  });

  it('p_filesz > p_memsz', () => {
    const e = imageError(patched((v) => v.setBigUint64(phdr(0, PH.p_memsz), 8n, true)));
    expect(e.message).toMatch(/segment 0 .*p_filesz 0x40 > p_memsz 0x8/);
  });

  it('absurd sizes', () => {
    expect(imageError(patched((v) => v.setBigUint64(phdr(2, PH.p_memsz), 1n << 40n, true))).message).toMatch(
      /p_memsz 0x10000000000, more than any board's RAM/,
    );
    expect(imageError(patched((v) => v.setUint16(EH.e_phnum, 0xfff0, true))).message).toMatch(/e_phnum is 65520, absurd/);
    expect(imageError(patched((v) => v.setUint16(EH.e_phentsize, 32, true))).message).toMatch(/e_phentsize is 32/);
    expect(imageError(patched((v) => v.setUint16(EH.e_shentsize, 40, true))).message).toMatch(/e_shentsize is 40/);
    expect(imageError(patched((v) => v.setUint16(EH.e_ehsize, 52, true))).message).toMatch(/e_ehsize is 52/);
  });

  it('paddr at or beyond 2^53', () => {
    const e = imageError(writeElf64({ segments: [{ paddr: 1n << 53n, data: code }] }));
    expect(e.message).toMatch(/beyond 2\^53/);
    const wrap = imageError(writeElf64({ segments: [{ paddr: 0xffff_ffff_ffff_f000n, data: code, memsz: 0x2000 }] }));
    expect(wrap.message).toMatch(/beyond 2\^53/);
  });

  it('no PT_LOAD segment', () => {
    const onlyNote = imageError(writeElf64({ segments: [{ type: 4, paddr: 0, data: code }] }));
    expect(onlyNote.message).toMatch(/no PT_LOAD segment/);
    const emptyLoad = imageError(writeElf64({ segments: [{ paddr: 0x8000_0000, data: new Uint8Array(0), memsz: 0 }] }));
    expect(emptyLoad.message).toMatch(/no PT_LOAD segment/);
    expect(imageError(patched((v) => v.setUint16(EH.e_phnum, 0, true))).message).toMatch(/no program headers/);
  });

  it('corrupt symbol table', () => {
    const symtab = (v: DataView): number => Number(v.getBigUint64(EH.e_shoff, true)) + 64; // section 1
    expect(imageError(patched((v) => v.setBigUint64(symtab(v) + SH.sh_entsize, 16n, true))).message).toMatch(/sh_entsize 16/);
    expect(imageError(patched((v) => v.setUint32(symtab(v) + SH.sh_link, 9, true))).message).toMatch(/sh_link 9 names no section/);
    expect(imageError(patched((v) => v.setUint32(symtab(v) + SH.sh_link, 1, true))).message).toMatch(/not a string table/);
    expect(imageError(patched((v) => v.setBigUint64(symtab(v) + SH.sh_size, 1n << 40n, true))).message).toMatch(/absurd/);
    expect(imageError(patched((v) => v.setBigUint64(symtab(v) + SH.sh_offset, 1n << 40n, true))).message).toMatch(/\.symtab.*outside the file/);
    const firstSym = (v: DataView): number => Number(v.getBigUint64(symtab(v) + SH.sh_offset, true)) + 24;
    expect(imageError(patched((v) => v.setUint32(firstSym(v), 0x10000, true))).message).toMatch(/st_name 65536 beyond the string table/);
  });

  it('every truncation of a valid file ends in an ImageError', () => {
    const full = writeElf64(sample);
    for (let len = 0; len < full.length; len++) {
      const e = imageError(full.slice(0, len));
      expect(e.message.length).toBeLessThan(300);
    }
  });

  it('random corruption never throws anything but ImageError, and results stay consistent', () => {
    const full = writeElf64(sample);
    let seed = 0x1234_5678;
    const rand = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    let accepted = 0;
    for (let round = 0; round < 3000; round++) {
      const bytes = full.slice();
      for (let k = 1 + rand(4); k > 0; k--) {
        // Bias towards the headers, where the interesting fields are.
        const at = rand(3) === 0 ? rand(bytes.length) : rand(64 + 56 * 4);
        bytes[at] = rand(256);
      }
      let img: ElfImage;
      try {
        img = parseElf(bytes, FILE);
      } catch (e) {
        expect(e).toBeInstanceOf(ImageError);
        continue;
      }
      accepted++;
      for (const s of img.segments) {
        expect(Number.isSafeInteger(s.paddr + s.memsz)).toBe(true);
        expect(s.data.length).toBeLessThanOrEqual(s.memsz);
        expect(s.memsz).toBeGreaterThan(0);
      }
    }
    expect(accepted).toBeGreaterThan(0);
  });
});

/** RAM like the board's: low DRAM and high DRAM. */
const ram: RamLayout = {
  banks: [
    { name: 'dram', base: 0x8000_0000, size: 0x1000_0000 },
    { name: 'highmem', base: 0x1_0000_0000, size: 0x1000_0000 },
  ],
  contains(paddr, len) {
    return this.banks!.some((b) => paddr >= b.base && paddr + len <= b.base + b.size);
  },
};

describe('planLoad', () => {
  it('accepts segments inside RAM', () => {
    expect(() => planLoad(parseElf(writeElf64(sample), FILE), ram, FILE)).not.toThrow();
  });

  it('names the segment, its range and the banks when a segment lies outside RAM', () => {
    const img = parseElf(writeElf64({ segments: [{ paddr: 0x8000_0000, data: code }, { paddr: 0x9000_0000 - 0x10, data: code, flags: PF_R | PF_W }] }), FILE);
    expect(() => planLoad(img, ram, FILE)).toThrow(ImageError);
    expect(() => planLoad(img, ram, FILE)).toThrow(
      'kernel.elf: segment 1 (RW-, [0x8ffffff0, 0x90000030)) lies outside RAM (banks dram [0x80000000, 0x90000000), highmem [0x100000000, 0x110000000)); ',
    );
  });

  it('reports RAM banks as unknown when the layout does not list them', () => {
    const img = parseElf(writeElf64({ segments: [{ paddr: 0x1000, data: code }] }), FILE);
    expect(() => planLoad(img, { contains: () => false }, FILE)).toThrow(/banks unknown/);
  });

  it('rejects overlapping segments', () => {
    const img = parseElf(
      writeElf64({ segments: [{ paddr: 0x8000_1000, data: code, memsz: 0x2000 }, { paddr: 0x8000_2000, data: code }] }),
      FILE,
    );
    expect(() => planLoad(img, ram, FILE)).toThrow(
      /segment 0 \(R-X, \[0x80001000, 0x80003000\)\) overlaps segment 1 \(R-X, \[0x80002000, 0x80002040\)\)/,
    );
  });

  it('accepts adjacent segments (ranges are half-open)', () => {
    const img = parseElf(writeElf64({ segments: [{ paddr: 0x8000_1000, data: code }, { paddr: 0x8000_1040, data: code }] }), FILE);
    expect(() => planLoad(img, ram, FILE)).not.toThrow();
  });
});

describe('rawImage', () => {
  it('is one RWX segment at paddr with the entry there', () => {
    const img = rawImage(code, 0x8020_0000);
    expect(img.entry).toBe(0x8020_0000n);
    expect(img.segments).toEqual([{ paddr: 0x8020_0000, vaddr: 0x8020_0000n, data: code, memsz: 64, flags: PF_R | PF_W | PF_X }]);
    expect(img.symbols.size).toBe(0);
    expect(() => planLoad(img, ram, 'fw.bin')).not.toThrow();
  });

  it('rejects an empty file and a bad address', () => {
    expect(() => rawImage(new Uint8Array(0), 0x8000_0000, 'fw.bin')).toThrow(/^fw\.bin: the file is empty; /);
    expect(() => rawImage(code, -1, 'fw.bin')).toThrow(ImageError);
  });
});

describe('findHtif', () => {
  it('takes tohost and fromhost from the symbols', () => {
    expect(findHtif(parseElf(writeElf64(sample), FILE), FILE)).toEqual({ tohost: 0x8000_1000, fromhost: 0x8000_1040 });
  });

  it('is undefined without tohost, and fromhost is optional', () => {
    expect(findHtif(parseElf(writeElf64({ ...sample, symbols: [] }), FILE))).toBeUndefined();
    const onlyTohost = parseElf(writeElf64({ ...sample, symbols: [{ name: 'tohost', value: 0x8000_1008 }] }), FILE);
    expect(findHtif(onlyTohost)).toEqual({ tohost: 0x8000_1008 });
  });

  it('rejects a mailbox outside every segment, including the zero-filled tail rule', () => {
    const outside = parseElf(writeElf64({ ...sample, symbols: [{ name: 'tohost', value: 0x8000_5000 }] }), FILE);
    expect(() => findHtif(outside, FILE)).toThrow(/^kernel\.elf: symbol tohost = 0x80005000 lies outside every loaded segment; /);
    // The last 8 bytes of the bss-like tail are inside; one byte further is not.
    const last = parseElf(writeElf64({ ...sample, symbols: [{ name: 'tohost', value: 0x8000_10f8 }] }), FILE);
    expect(findHtif(last)).toEqual({ tohost: 0x8000_10f8 });
    const straddle = parseElf(writeElf64({ ...sample, symbols: [{ name: 'tohost', value: 0x8000_10f9 }] }), FILE);
    expect(() => findHtif(straddle)).toThrow(ImageError);
    const badFrom = parseElf(
      writeElf64({ ...sample, symbols: [{ name: 'tohost', value: 0x8000_1000 }, { name: 'fromhost', value: 0x10 }] }),
      FILE,
    );
    expect(() => findHtif(badFrom)).toThrow(/symbol fromhost = 0x10/);
  });
});
