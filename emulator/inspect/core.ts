/**
 * Memory dumps as ELF cores: a stopped machine's RAM and registers in the
 * file QEMU's `dump-guest-memory` (non-paging, ELF) writes for riscv64, which
 * `gdb-multiarch kernel.elf dump.core` and crash-style tools read, plus the
 * reader that gives our own inspectors (emulator/inspect/*) a ReadPhys over a
 * dump, so buddyinfo & co. work on a saved machine as on a live one.
 *
 * The file (ELF gABI "ELF Header", "Program Header", "Note Section"; all
 * little-endian, ELFCLASS64):
 *
 *   offset 0     ┌──────────────────────────────────────────────┐
 *                │ Elf64_Ehdr        e_type ET_CORE, e_machine  │
 *                │                   EM_RISCV (243), e_flags 0  │
 *   64           ├──────────────────────────────────────────────┤
 *                │ Elf64_Phdr [0]    PT_NOTE                    │
 *                │ Elf64_Phdr [1..]  PT_LOAD, ascending p_vaddr │
 *                ├──────────────────────────────────────────────┤
 *                │ notes (4-byte aligned, Linux/QEMU style):    │
 *                │   per hart: "CORE" NT_PRSTATUS               │
 *                │             "KMEMLAB" NT_KMEMLAB_CSRS        │
 *                │   once:     "VMCOREINFO" 0 (if published)    │
 *   page aligned ├──────────────────────────────────────────────┤
 *                │ RAM bytes, bank after bank, ascending PA,    │
 *                │ long all-zero stretches left out (below)     │
 *                └──────────────────────────────────────────────┘
 *
 * e_flags is 0, as QEMU 7.2's dump-guest-memory writes it (checked with
 * `readelf -h` on a dump of our firmware and kernel under qemu-system-
 * riscv64 -M virt) and as Linux's binfmt_elf writes cores (riscv defines no
 * ELF_CORE_EFLAGS); gdb takes the ABI from the kernel ELF given with it. No
 * section headers (QEMU 7.2 adds an empty .shstrtab; nothing reads it).
 *
 * PT_LOAD segments. QEMU's non-paging dump has one PT_LOAD per RAM block
 * with p_paddr = p_vaddr = the physical address. That is enough for
 * firmware (M mode, physical addresses) but not for gdb reading kernel
 * globals: the kernel's ELF symbols are linear-map addresses (a kernel VA is
 * the sign extension of the 32-bit PA: 0x8000_0000 ↔ 0xffff_ffff_8000_0000,
 * DESIGN.md §5, vmcoreinfo.ts linearPa), and gdb reads a core by p_vaddr. So
 * each piece of low DRAM appears twice, both views pointing at the same file
 * bytes:
 *
 *   bank      identity view                    linear view
 *   mrom      p_vaddr = p_paddr = PA           (its sign extension is itself)
 *   dram      p_vaddr = p_paddr = PA           p_vaddr = 0xffff_ffff_0000_0000 | PA,
 *                                              p_paddr = PA
 *   highmem   p_vaddr = p_paddr = PA           none: above 4 GiB, no linear map
 *
 * Every p_paddr is physical, as QEMU's, so readCore (and any reader that
 * goes by p_paddr) sees each byte once per view with the same contents.
 * p_flags R|W|X (R|X for the ROM), p_align = page size (offsets and
 * addresses are page aligned).
 *
 * Zero stretches. A default machine has 512 MiB of RAM of which a boot
 * touches a few MiB, and the host buffer is zero-filled, so each bank is cut
 * into pieces at runs of at least `holePages` all-zero pages (and at the
 * zero run that ends a bank, whatever its length): a piece is one
 * PT_LOAD whose p_filesz covers its data and whose p_memsz also covers the
 * zero run after it (gABI: bytes past p_filesz up to p_memsz are zero — the
 * .bss rule), and a bank that starts with a zero run gets a first piece with
 * p_filesz = 0. The pieces tile every bank exactly, so every RAM address is
 * in exactly one piece per view. BFD turns the zero tail into a section
 * without contents ("loadNb") which gdb reads as zeros — but only after
 * asking the executable file (seen with GDB 13: a kernel-text piece cut to
 * p_filesz 0 read back the ELF's code by its linear address and zeros by
 * its physical one), so a zero run inside a loaded image's file
 * bytes (the kernel's .text/.data as the ELF has them) would read back the
 * ELF's initial value instead of the zero in RAM: those ranges are never
 * left out. `holePages` starts at 16 (64 KiB) and doubles until the dump
 * needs at most MAX_PHNUM program headers, so e_phnum never needs the
 * PN_XNUM extension (the reader accepts it all the same). The default
 * machine (4 harts, 256 + 256 MiB) after selftest=page_alloc dumps to
 * 6.6 MB with 27 program headers (measured once; the first scan of RAM is
 * the slow part, ~1 s, as the host maps the untouched zero pages).
 *
 * Notes (name, type: desc). Linux's own layouts for riscv64, the ones BFD
 * (elfnn-riscv.c riscv_elf_grok_prstatus) and gdb
 * (riscv-linux-tdep.c riscv_linux_gregmap) expect:
 *
 *   "CORE", NT_PRSTATUS (1): struct elf_prstatus, 376 bytes
 *       +32  pr_pid = hart id + 1 (QEMU: cpu index + 1; gdb's "LWP n")
 *       +112 pr_reg = elf_gregset_t, 32 × u64: pc, x1 … x31
 *            (arch/riscv/include/uapi/asm/ptrace.h user_regs_struct)
 *       everything else 0 (no signal, no times)
 *   No NT_PRPSINFO (QEMU writes none either): BFD compares its pr_fname
 *   with the executable's file name and gdb warns "core file may not match
 *   specified executable file" whenever they differ.
 *   "VMCOREINFO", 0: the kernel's VMCOREINFO text (no header, no NUL), as
 *       Linux's crash_core.c and QEMU's vmcoreinfo device put it in a dump;
 *       only when the kernel published one (found through the kernel ELF's
 *       vmcoreinfo_data symbol; a dump of a machine without it has none)
 *   "KMEMLAB", NT_KMEMLAB_CSRS (0x4b4d4c01, ours; "KML" 1, a type no BFD
 *       or Linux note uses): the CSR state a host needs for virtual reads
 *       of the dump (satp) and to know where the hart was (priv, sstatus,
 *       sepc, scause …, the counters and `time`, the board's mtime), so that
 *       machineFromCore (the end of this file) rebuilds a machine that the
 *       debugger console reads as it read the live one
 *       +0  u32 version (1)       +4  u32 hart id
 *       +8  u32 privilege (0 U, 1 S, 3 M)
 *       +12 u32 flags (bit 0: in wfi, bit 1: halted)
 *       +16 u32 n                 +20 u32 0
 *       +24 n × { u32 CSR number, u32 0, u64 value } in KMEMLAB_CSRS order
 *
 * Deterministic: the same machine state gives the same bytes (no time
 * stamps, no host names). Reading checks every size and offset against the
 * file before use: a bad file ends in one CoreError naming the file, the
 * structure and the offset, never in a RangeError.
 */
import { openSync, closeSync, writeSync } from 'node:fs';
import { Machine, type ImageFile } from '../machine/machine.js';
import type { Hart } from '../cpu/riscv/hart.js';
import {
  CSR_MCAUSE, CSR_MCOUNTEREN, CSR_MCYCLE, CSR_MEDELEG, CSR_MENVCFG, CSR_MEPC, CSR_MHARTID, CSR_MIDELEG,
  CSR_MIE, CSR_MINSTRET, CSR_MIP, CSR_MISA, CSR_MSCRATCH, CSR_MSTATUS, CSR_MTVAL, CSR_MTVEC, CSR_NAMES,
  CSR_PMPADDR0, CSR_PMPCFG0, CSR_SATP, CSR_SCAUSE, CSR_SCOUNTEREN, CSR_SENVCFG, CSR_SEPC, CSR_SIE, CSR_SIP,
  CSR_SSCRATCH, CSR_SSTATUS, CSR_STVAL, CSR_STVEC, CSR_TIME, PMP_COUNT,
} from '../cpu/riscv/csr.js';
import { EM_RISCV, ET_CORE, PF_R, PF_W, PF_X, PN_XNUM, PT_LOAD } from '../machine/elf.js';
import { PAGE_SIZE, VIRT_DRAM_BASE, VIRT_HIGHMEM_BASE } from '../machine/memmap.js';
import { type ReadPhys, readVmcoreinfo } from './vmcoreinfo.js';

export class CoreError extends Error {
  override readonly name = 'CoreError';
}

// gABI / Linux numbers, named as in <elf.h> and include/uapi/linux/elf.h (PT_LOAD, PF_* from elf.ts).
export const PT_NOTE = 4;
export const NT_PRSTATUS = 1;
export const NT_VMCOREINFO = 0;
/** kmemlab's per-hart CSR note (name "KMEMLAB"). */
export const NT_KMEMLAB_CSRS = 0x4b4d_4c01;
export const KMEMLAB_CSRS_VERSION = 1;

const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const SHDR_SIZE = 64;
/** Linux riscv64 sizeof(struct elf_prstatus), offsetof pr_pid, offsetof pr_reg. */
export const PRSTATUS_SIZE = 376;
const PRSTATUS_PID = 32;
const PRSTATUS_REG = 112;
const KMEMLAB_HEADER = 24;
const KMEMLAB_ENTRY = 16;

/** Program headers at most (1 PT_NOTE + PT_LOADs): well below PN_XNUM. */
export const MAX_PHNUM = 1024;
/** The first (smallest) zero run left out, in pages; doubled until the dump fits MAX_PHNUM. */
export const MIN_HOLE_PAGES = 16;
/** The linear map: VA = sign extension of the 32-bit PA (0x8000_0000 … 0xffff_ffff ↔ 0xffff_ffff_8000_0000 …). */
const LINEAR_HIGH = 0xffff_ffff_0000_0000n;

/** The CSRs the KMEMLAB note keeps, in this order. satp is computed (csrRead traps on it under TVM). */
export const KMEMLAB_CSRS: readonly number[] = [
  CSR_MSTATUS, CSR_MISA, CSR_MEDELEG, CSR_MIDELEG, CSR_MIE, CSR_MIP, CSR_MTVEC, CSR_MSCRATCH, CSR_MEPC,
  CSR_MCAUSE, CSR_MTVAL, CSR_MCOUNTEREN, CSR_MENVCFG, CSR_MHARTID,
  CSR_SSTATUS, CSR_SIE, CSR_SIP, CSR_STVEC, CSR_SSCRATCH, CSR_SEPC, CSR_SCAUSE, CSR_STVAL, CSR_SCOUNTEREN,
  CSR_SENVCFG, CSR_SATP, CSR_MCYCLE, CSR_MINSTRET, CSR_TIME,
  ...Array.from({ length: PMP_COUNT / 8 }, (_, i) => CSR_PMPCFG0 + 2 * i),
  ...Array.from({ length: PMP_COUNT }, (_, i) => CSR_PMPADDR0 + i),
];

export interface CoreOptions {
  /**
   * The kernel ELF's symbols (parseElf(...).symbols), to find the VMCOREINFO
   * block. Default: the symbols of the images the machine loaded.
   */
  kernelSymbols?: ReadonlyMap<string, bigint>;
}

/** One PT_LOAD as the file has it. */
export interface CoreLoad {
  vaddr: bigint;
  paddr: number;
  offset: number;
  filesz: number;
  memsz: number;
}

export interface CoreHart {
  /** Hart id (pr_pid − 1). */
  id: number;
  pc: bigint;
  /** x0 … x31 (x0 = 0). */
  regs: bigint[];
  /** From the KMEMLAB note by name (CSR_NAMES; "priv" = the privilege level); empty without one. */
  csrs: Record<string, bigint>;
  /** The KMEMLAB note's flags: waiting in WFI, stopped (SBI HSM); false without one. */
  wfi: boolean;
  halted: boolean;
}

export interface CoreDump {
  name: string;
  readPhys: ReadPhys;
  /** In NT_PRSTATUS order. */
  harts: CoreHart[];
  vmcoreinfo?: string;
  loads: CoreLoad[];
}

// =============================================================================
// Writing
// =============================================================================

/** A piece of a bank: [pa, pa + memsz) in memory, its first filesz bytes in the file. */
interface Piece {
  pa: number;
  filesz: number;
  memsz: number;
  /** Offset in mem.u8 of pa. */
  bufOff: number;
  flags: number;
  /** Also emit the linear-map view. */
  linear: boolean;
}

interface Layout {
  head: Uint8Array;
  /** Segment data in file order, right after head (each piece's filesz bytes, page-aligned ends). */
  data: Uint8Array[];
  size: number;
}

const ZERO_PAGE = new Uint8Array(PAGE_SIZE);

/** Is the page at buffer offset `off` all zero? (Buffer.compare is a memcmp: 512 MiB in a fraction of a second.) */
function pageIsZero(u8: Uint8Array, off: number): boolean {
  return Buffer.compare(u8.subarray(off, off + PAGE_SIZE), ZERO_PAGE) === 0;
}

/** Physical ranges that must stay in the file: the file bytes of every image the machine loaded. */
function keptRanges(machine: Machine): [number, number][] {
  const out: [number, number][] = [];
  for (const img of machine.images) {
    for (const s of img.elf?.segments ?? []) if (s.data.length > 0) out.push([s.paddr, s.paddr + s.data.length]);
  }
  return out;
}

/** Cut every RAM bank into pieces at zero runs of at least `holePages` pages (see the header). */
function pieces(machine: Machine, zero: Uint8Array[], holePages: number): Piece[] {
  const out: Piece[] = [];
  machine.mem.banks.forEach((b, bi) => {
    const z = zero[bi]!;
    const pages = b.size / PAGE_SIZE;
    const flags = b.readOnly ? PF_R | PF_X : PF_R | PF_W | PF_X;
    const linear = b.base >= VIRT_DRAM_BASE && b.base + b.size <= 0x1_0000_0000;
    let start = 0; // first page of the current piece
    let p = 0;
    while (p < pages) {
      if (z[p] === 0) { p++; continue; }
      let q = p;
      while (q < pages && z[q] === 1) q++;
      // A long zero run, or one that ends the bank (it costs no extra header), joins the piece before it
      // as its p_memsz tail; at the bank's start that piece has no file bytes.
      if (q - p >= holePages || q === pages) {
        out.push({ pa: b.base + start * PAGE_SIZE, filesz: (p - start) * PAGE_SIZE, memsz: (q - start) * PAGE_SIZE, bufOff: b.offset + start * PAGE_SIZE, flags, linear });
        start = q;
      }
      p = q;
    }
    if (start < pages) out.push({ pa: b.base + start * PAGE_SIZE, filesz: (pages - start) * PAGE_SIZE, memsz: (pages - start) * PAGE_SIZE, bufOff: b.offset + start * PAGE_SIZE, flags, linear });
  });
  return out;
}

function loadCount(ps: readonly Piece[]): number {
  return ps.reduce((n, p) => n + (p.linear ? 2 : 1), 0);
}

/** Zero map per bank: 1 = the page is all zero and may be left out. */
function zeroMaps(machine: Machine): Uint8Array[] {
  const { mem } = machine;
  const kept = keptRanges(machine);
  return mem.banks.map((b) => {
    const pages = b.size / PAGE_SIZE;
    const z = new Uint8Array(pages);
    for (let i = 0; i < pages; i++) z[i] = pageIsZero(mem.u8, b.offset + i * PAGE_SIZE) ? 1 : 0;
    for (const [lo, hi] of kept) {
      const a = Math.max(lo, b.base);
      const e = Math.min(hi, b.base + b.size);
      for (let pa = a - ((a - b.base) % PAGE_SIZE); pa < e; pa += PAGE_SIZE) z[(pa - b.base) / PAGE_SIZE] = 0;
    }
    return z;
  });
}

class Notes {
  readonly parts: Uint8Array[] = [];
  size = 0;
  add(name: string, type: number, desc: Uint8Array): void {
    const nameBytes = Buffer.from(`${name}\0`, 'latin1');
    const nameLen = align(nameBytes.length, 4);
    const b = new Uint8Array(12 + nameLen + align(desc.length, 4));
    const v = new DataView(b.buffer);
    v.setUint32(0, nameBytes.length, true);
    v.setUint32(4, desc.length, true);
    v.setUint32(8, type, true);
    b.set(nameBytes, 12);
    b.set(desc, 12 + nameLen);
    this.parts.push(b);
    this.size += b.length;
  }
}

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

function prstatus(h: Hart): Uint8Array {
  const b = new Uint8Array(PRSTATUS_SIZE);
  const v = new DataView(b.buffer);
  v.setUint32(PRSTATUS_PID, h.hartId + 1, true);
  v.setBigUint64(PRSTATUS_REG, h.pc, true);
  for (let i = 1; i < 32; i++) v.setBigUint64(PRSTATUS_REG + 8 * i, h.getReg(i), true);
  return b;
}

/** A CSR's value as the hart holds it, without side effects or traps. */
function csrValue(h: Hart, csr: number): bigint {
  if (csr === CSR_SATP) return (BigInt(h.satpMode) << 60n) | (BigInt(h.satpAsid) << 44n) | BigInt(h.satpPpn);
  return BigInt.asUintN(64, h.csrRead(csr));
}

function kmemlabNote(h: Hart): Uint8Array {
  const b = new Uint8Array(KMEMLAB_HEADER + KMEMLAB_CSRS.length * KMEMLAB_ENTRY);
  const v = new DataView(b.buffer);
  v.setUint32(0, KMEMLAB_CSRS_VERSION, true);
  v.setUint32(4, h.hartId, true);
  v.setUint32(8, h.priv, true);
  v.setUint32(12, (h.wfi ? 1 : 0) | (h.halted ? 2 : 0), true);
  v.setUint32(16, KMEMLAB_CSRS.length, true);
  KMEMLAB_CSRS.forEach((csr, i) => {
    v.setUint32(KMEMLAB_HEADER + i * KMEMLAB_ENTRY, csr, true);
    v.setBigUint64(KMEMLAB_HEADER + i * KMEMLAB_ENTRY + 8, csrValue(h, csr), true);
  });
  return b;
}

/** The kernel's VMCOREINFO text, or undefined when no symbol table finds a published block. */
function vmcoreinfoText(machine: Machine, opts: CoreOptions): string | undefined {
  const read: ReadPhys = (pa, len) => machine.mem.readBytes(pa, len);
  const tables = opts.kernelSymbols ? [opts.kernelSymbols] : machine.images.map((i) => i.elf?.symbols).filter((s) => s !== undefined);
  for (const syms of tables) {
    try {
      return readVmcoreinfo(read, syms).text;
    } catch {
      // No symbol, not yet written, or not in RAM: this image publishes none.
    }
  }
  return undefined;
}

function layout(machine: Machine, opts: CoreOptions = {}): Layout {
  const zero = zeroMaps(machine);
  let holePages = MIN_HOLE_PAGES;
  let ps = pieces(machine, zero, holePages);
  while (1 + loadCount(ps) > MAX_PHNUM) {
    holePages *= 2;
    ps = pieces(machine, zero, holePages);
  }

  const notes = new Notes();
  for (const h of machine.harts) {
    notes.add('CORE', NT_PRSTATUS, prstatus(h));
    notes.add('KMEMLAB', NT_KMEMLAB_CSRS, kmemlabNote(h));
  }
  const vmci = vmcoreinfoText(machine, opts);
  if (vmci !== undefined) notes.add('VMCOREINFO', NT_VMCOREINFO, Buffer.from(vmci, 'latin1'));

  const phnum = 1 + loadCount(ps);
  const notesOff = EHDR_SIZE + phnum * PHDR_SIZE;
  const dataOff = align(notesOff + notes.size, PAGE_SIZE);
  const head = new Uint8Array(dataOff);
  const v = new DataView(head.buffer);

  // Elf64_Ehdr
  head.set([0x7f, 0x45, 0x4c, 0x46, 2 /* ELFCLASS64 */, 1 /* ELFDATA2LSB */, 1 /* EV_CURRENT */, 0 /* ELFOSABI_NONE */]);
  v.setUint16(16, ET_CORE, true);
  v.setUint16(18, EM_RISCV, true);
  v.setUint32(20, 1, true); // e_version
  v.setBigUint64(24, 0n, true); // e_entry
  v.setBigUint64(32, BigInt(EHDR_SIZE), true); // e_phoff
  v.setBigUint64(40, 0n, true); // e_shoff
  v.setUint32(48, 0, true); // e_flags
  v.setUint16(52, EHDR_SIZE, true);
  v.setUint16(54, PHDR_SIZE, true);
  v.setUint16(56, phnum, true);
  v.setUint16(58, SHDR_SIZE, true);
  v.setUint16(60, 0, true); // e_shnum
  v.setUint16(62, 0, true); // e_shstrndx

  const phdr = (i: number, type: number, flags: number, offset: number, vaddr: bigint, paddr: number, filesz: number, memsz: number, palign: number): void => {
    const o = EHDR_SIZE + i * PHDR_SIZE;
    v.setUint32(o, type, true);
    v.setUint32(o + 4, flags, true);
    v.setBigUint64(o + 8, BigInt(offset), true);
    v.setBigUint64(o + 16, vaddr, true);
    v.setBigUint64(o + 24, BigInt(paddr), true);
    v.setBigUint64(o + 32, BigInt(filesz), true);
    v.setBigUint64(o + 40, BigInt(memsz), true);
    v.setBigUint64(o + 48, BigInt(palign), true);
  };
  phdr(0, PT_NOTE, 0, notesOff, 0n, 0, notes.size, notes.size, 4);
  let off = notesOff;
  for (const n of notes.parts) { head.set(n, off); off += n.length; }

  // File offsets of the pieces, then identity views (ascending PA) and linear views after them (ascending VA).
  const data: Uint8Array[] = [];
  const offsets: number[] = [];
  let fileOff = dataOff;
  for (const p of ps) {
    offsets.push(fileOff);
    if (p.filesz > 0) data.push(machine.mem.u8.subarray(p.bufOff, p.bufOff + p.filesz));
    fileOff += p.filesz;
  }
  let i = 1;
  ps.forEach((p, k) => phdr(i++, PT_LOAD, p.flags, offsets[k]!, BigInt(p.pa), p.pa, p.filesz, p.memsz, PAGE_SIZE));
  ps.forEach((p, k) => { if (p.linear) phdr(i++, PT_LOAD, p.flags, offsets[k]!, LINEAR_HIGH | BigInt(p.pa), p.pa, p.filesz, p.memsz, PAGE_SIZE); });
  return { head, data, size: fileOff };
}

/**
 * The ELF core of a stopped machine: RAM, one NT_PRSTATUS and one KMEMLAB
 * note per hart, VMCOREINFO when the kernel published it.
 * Context: the machine must not run meanwhile (the file is a snapshot).
 * Return: the file's bytes (holding every non-zero RAM page: up to the RAM size).
 */
export function writeCore(machine: Machine, opts: CoreOptions = {}): Uint8Array {
  const l = layout(machine, opts);
  const out = new Uint8Array(l.size);
  out.set(l.head, 0);
  let off = l.head.length;
  for (const d of l.data) { out.set(d, off); off += d.length; }
  return out;
}

/**
 * writeCore to `file`, streamed from guest RAM (no second copy of it).
 * Return: the file's size in bytes. Throws the file system's error.
 */
export function saveCore(machine: Machine, file: string, opts: CoreOptions = {}): number {
  const l = layout(machine, opts);
  const fd = openSync(file, 'w');
  try {
    for (const part of [l.head, ...l.data]) {
      for (let done = 0; done < part.length;) done += writeSync(fd, part, done, part.length - done);
    }
  } finally {
    closeSync(fd);
  }
  return l.size;
}

// =============================================================================
// Reading
// =============================================================================

const hex = (v: number | bigint): string => `0x${v.toString(16)}`;

/** A phys range of one PT_LOAD, for readPhys. */
interface PhysRange {
  pa: number;
  end: number;
  offset: number;
  filesz: number;
}

/**
 * Parse an ELF core (ours, QEMU's dump-guest-memory, or any riscv64 core
 * with physical p_paddr). `name` is used in error messages.
 * Return: the dump; throws CoreError for anything malformed.
 */
export function readCore(bytes: Uint8Array, name: string): CoreDump {
  const fail = (what: string): never => {
    throw new CoreError(`${name}: ${what}`);
  };
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (off: number, len: number, what: string): void => {
    if (off + len > bytes.length) fail(`the file is truncated: ${what} at offset ${hex(off)} needs ${len} bytes, the file has ${bytes.length}`);
  };
  const u64 = (off: number, what: string): number => {
    const x = v.getBigUint64(off, true);
    if (x > BigInt(Number.MAX_SAFE_INTEGER)) fail(`${what} is absurd (${hex(x)})`);
    return Number(x);
  };

  if (bytes.length < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) fail('not an ELF file (no \\x7fELF magic)');
  need(0, EHDR_SIZE, 'the ELF header');
  if (bytes[4] !== 2) fail(`not a 64-bit ELF file (EI_CLASS ${bytes[4]}); a riscv64 core is ELFCLASS64`);
  if (bytes[5] !== 1) fail(`not a little-endian ELF file (EI_DATA ${bytes[5]})`);
  const type = v.getUint16(16, true);
  if (type !== ET_CORE) fail(`not a core file (e_type ${type}, a core is ET_CORE = 4)`);
  const machineNo = v.getUint16(18, true);
  if (machineNo !== EM_RISCV) fail(`not a RISC-V core (e_machine ${machineNo}, RISC-V is ${EM_RISCV})`);
  const phoff = u64(32, 'e_phoff');
  const shoff = u64(40, 'e_shoff');
  const phentsize = v.getUint16(54, true);
  if (phentsize !== PHDR_SIZE) fail(`e_phentsize is ${phentsize}, ELF64 program headers are ${PHDR_SIZE} bytes`);
  let phnum = v.getUint16(56, true);
  if (phnum === PN_XNUM) {
    // gABI extended numbering: the real count is section header 0's sh_info.
    need(shoff, SHDR_SIZE, 'section header 0 (e_phnum is PN_XNUM)');
    phnum = v.getUint32(shoff + 44, true);
  }
  need(phoff, phnum * PHDR_SIZE, `the ${phnum} program headers`);

  const loads: CoreLoad[] = [];
  const noteSegs: { offset: number; size: number; index: number }[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * PHDR_SIZE;
    const ptype = v.getUint32(o, true);
    if (ptype !== PT_LOAD && ptype !== PT_NOTE) continue;
    const offset = u64(o + 8, `program header ${i} p_offset`);
    const filesz = u64(o + 32, `program header ${i} p_filesz`);
    if (ptype === PT_NOTE) {
      if (offset + filesz > bytes.length) fail(`PT_NOTE (program header ${i}) at offset ${hex(offset)} + ${hex(filesz)} runs past the end of the file (${hex(bytes.length)} bytes)`);
      noteSegs.push({ offset, size: filesz, index: i });
      continue;
    }
    const vaddr = v.getBigUint64(o + 16, true);
    const paddr = u64(o + 24, `program header ${i} p_paddr`);
    const memsz = u64(o + 40, `program header ${i} p_memsz`);
    if (filesz > memsz) fail(`PT_LOAD (program header ${i}, paddr ${hex(paddr)}) has p_filesz ${hex(filesz)} > p_memsz ${hex(memsz)}`);
    if (offset + filesz > bytes.length) fail(`PT_LOAD (program header ${i}, paddr ${hex(paddr)}) at offset ${hex(offset)} + ${hex(filesz)} runs past the end of the file (${hex(bytes.length)} bytes)`);
    loads.push({ vaddr, paddr, offset, filesz, memsz });
  }

  // Notes
  const prs: { id: number; regs: bigint[]; pc: bigint }[] = [];
  const csrsById = new Map<number, Record<string, bigint>>();
  const flagsById = new Map<number, number>();
  let vmcoreinfo: string | undefined;
  for (const seg of noteSegs) {
    let p = seg.offset;
    const end = seg.offset + seg.size;
    for (let k = 0; p < end; k++) {
      const where = `note ${k} of PT_NOTE (program header ${seg.index}) at offset ${hex(p)}`;
      if (p + 12 > end) fail(`${where}: its 12-byte header runs past the segment's end at ${hex(end)}`);
      const namesz = v.getUint32(p, true);
      const descsz = v.getUint32(p + 4, true);
      const ntype = v.getUint32(p + 8, true);
      const descOff = p + 12 + align(namesz, 4);
      const next = descOff + align(descsz, 4);
      if (next > end) fail(`${where}: name (${namesz} bytes) and desc (${descsz} bytes) run past the segment's end at ${hex(end)}`);
      const noteName = Buffer.from(bytes.subarray(p + 12, p + 12 + namesz)).toString('latin1').replace(/\0+$/, '');
      const desc = bytes.subarray(descOff, descOff + descsz);
      const dv = new DataView(desc.buffer, desc.byteOffset, desc.byteLength);
      if (noteName === 'CORE' && ntype === NT_PRSTATUS) {
        if (descsz !== PRSTATUS_SIZE) fail(`${where}: NT_PRSTATUS is ${descsz} bytes, riscv64's struct elf_prstatus is ${PRSTATUS_SIZE}`);
        const regs = Array.from({ length: 32 }, (_, r) => (r === 0 ? 0n : dv.getBigUint64(PRSTATUS_REG + 8 * r, true)));
        prs.push({ id: dv.getUint32(PRSTATUS_PID, true) - 1, regs, pc: dv.getBigUint64(PRSTATUS_REG, true) });
      } else if (noteName === 'KMEMLAB' && ntype === NT_KMEMLAB_CSRS) {
        if (descsz < KMEMLAB_HEADER) fail(`${where}: the KMEMLAB note is ${descsz} bytes, shorter than its ${KMEMLAB_HEADER}-byte header`);
        const version = dv.getUint32(0, true);
        if (version !== KMEMLAB_CSRS_VERSION) fail(`${where}: KMEMLAB note version ${version}, this reader knows ${KMEMLAB_CSRS_VERSION}`);
        const n = dv.getUint32(16, true);
        if (KMEMLAB_HEADER + n * KMEMLAB_ENTRY > descsz) fail(`${where}: the KMEMLAB note says ${n} CSRs but has room for ${Math.floor((descsz - KMEMLAB_HEADER) / KMEMLAB_ENTRY)}`);
        const csrs: Record<string, bigint> = { priv: BigInt(dv.getUint32(8, true)) };
        for (let e = 0; e < n; e++) {
          const num = dv.getUint32(KMEMLAB_HEADER + e * KMEMLAB_ENTRY, true);
          csrs[CSR_NAMES.get(num) ?? `csr${hex(num)}`] = dv.getBigUint64(KMEMLAB_HEADER + e * KMEMLAB_ENTRY + 8, true);
        }
        csrsById.set(dv.getUint32(4, true), csrs);
        flagsById.set(dv.getUint32(4, true), dv.getUint32(12, true));
      } else if (noteName === 'VMCOREINFO') {
        vmcoreinfo = Buffer.from(desc).toString('latin1');
      }
      p = next;
    }
  }
  const harts: CoreHart[] = prs.map((h) => {
    const flags = flagsById.get(h.id) ?? 0;
    return { ...h, csrs: csrsById.get(h.id) ?? {}, wfi: (flags & 1) !== 0, halted: (flags & 2) !== 0 };
  });

  // Physical view by p_paddr. The linear view repeats the identity view's p_paddr and bytes; where two
  // PT_LOADs overlap in p_paddr, the one with the lower p_paddr (then the earlier one) wins.
  const ranges: PhysRange[] = [];
  for (const l of [...loads].sort((a, b) => a.paddr - b.paddr)) {
    const last = ranges[ranges.length - 1];
    if (last && l.paddr < last.end) continue;
    if (l.memsz > 0) ranges.push({ pa: l.paddr, end: l.paddr + l.memsz, offset: l.offset, filesz: l.filesz });
  }
  const find = (pa: number): PhysRange | undefined => {
    let lo = 0;
    let hi = ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = ranges[mid]!;
      if (pa < r.pa) hi = mid - 1;
      else if (pa >= r.end) lo = mid + 1;
      else return r;
    }
    return undefined;
  };
  const readPhys: ReadPhys = (pa, len) => {
    if (!Number.isSafeInteger(pa) || pa < 0 || !Number.isSafeInteger(len) || len < 0) throw new CoreError(`${name}: cannot read ${len} bytes at ${pa}`);
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const at = pa + done;
      const r = find(at);
      if (!r) throw new CoreError(`${name}: physical address ${hex(at)} is not in the dump (reading ${len} bytes at ${hex(pa)})`);
      const n = Math.min(len - done, r.end - at);
      const inFile = Math.max(0, Math.min(n, r.filesz - (at - r.pa)));
      if (inFile > 0) out.set(bytes.subarray(r.offset + (at - r.pa), r.offset + (at - r.pa) + inFile), done);
      done += n; // the rest, past p_filesz, is zero
    }
    return out;
  };
  return { name, readPhys, harts, vmcoreinfo, loads };
}

// =============================================================================
// A machine from a dump
// =============================================================================

/**
 * A Machine holding a dump's state, for the debugger console to look at a
 * saved machine with the commands it has for a live one (`kmemlab debug
 * --core FILE`): the RAM banks sized as the dump's, every byte of RAM as
 * dumped, each hart's registers, pc, CSRs (the KMEMLAB note: satp, so
 * virtual addresses translate as they did), privilege and WFI/HSM state.
 * The images are loaded first only so that the machine knows their symbols
 * (their bytes are then overwritten by the dump's RAM). Devices (timer,
 * interrupt controller, UART, DMA) are not in a dump: the machine is for
 * reading, not for running on (the console refuses to run it).
 */
export function machineFromCore(core: CoreDump, images: { bios?: ImageFile; kernel?: ImageFile } = {}): Machine {
  if (core.harts.length === 0) throw new CoreError(`${core.name}: no NT_PRSTATUS note: the dump has no harts`);
  // The identity view's pieces tile each bank exactly.
  const identity = core.loads.filter((l) => l.vaddr === BigInt(l.paddr));
  const bankEnd = (lo: number, hi: number): number => Math.max(lo, ...identity.filter((l) => l.paddr >= lo && l.paddr < hi).map((l) => l.paddr + l.memsz));
  const dramSize = bankEnd(VIRT_DRAM_BASE, VIRT_HIGHMEM_BASE) - VIRT_DRAM_BASE;
  const highmemSize = bankEnd(VIRT_HIGHMEM_BASE, Number.MAX_SAFE_INTEGER) - VIRT_HIGHMEM_BASE;
  if (dramSize <= 0) throw new CoreError(`${core.name}: no low DRAM at 0x${VIRT_DRAM_BASE.toString(16)} in the dump`);
  if (!images.kernel && !images.bios) throw new CoreError(`${core.name}: give the kernel ELF (--kernel FILE) the dump was made with, for its symbols`);
  const m = new Machine({ harts: core.harts.length, dramSize, highmemSize, bios: images.bios, kernel: images.kernel });
  for (const l of identity) {
    if (l.paddr < VIRT_DRAM_BASE) continue; // the reset ROM is the machine's own
    m.mem.u8.fill(0, m.mem.offsetOf(l.paddr, l.memsz), m.mem.offsetOf(l.paddr, l.memsz) + l.memsz);
    if (l.filesz > 0) m.mem.writeBytes(l.paddr, core.readPhys(l.paddr, l.filesz));
  }
  core.harts.forEach((c, i) => {
    const h = m.harts[i]!;
    if (c.id !== h.hartId) throw new CoreError(`${core.name}: hart ${c.id} is NT_PRSTATUS note ${i}: the notes are not in hart order`);
    for (let r = 1; r < 32; r++) h.setReg(r, c.regs[r]!);
    h.pc = c.pc;
    for (const [name, v] of Object.entries(c.csrs)) {
      const num = CSR_NUMBERS.get(name);
      if (num !== undefined && num !== CSR_MIP) h.debugCsrWrite(num, v);
    }
    if (c.csrs.priv !== undefined) h.priv = Number(c.csrs.priv);
    // time is the board's mtime (the same for every hart), kept in each hart's note.
    if (c.csrs.time !== undefined && i === 0) m.clint.setMtime(Number(c.csrs.time));
    h.wfi = c.wfi;
    h.halted = c.halted;
    h.mmu.flush();
  });
  return m;
}

const CSR_NUMBERS = new Map([...CSR_NAMES].map(([num, name]) => [name, num]));
