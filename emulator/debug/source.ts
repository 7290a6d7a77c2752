/**
 * What the debugger console knows about the programs in the machine: the
 * symbols and line tables of the loaded ELF images, the AssemblyScript source
 * text behind them, and the stack frames of a stopped hart.
 *
 * Symbols. Each image's `.symtab` is read whole (name, value, size, type),
 * because the machine's parsed ELF keeps sizes for functions only and `p`
 * needs the size of a global. Names are the toolchain's
 * `file/path/function` (`kernel/mm/kmalloc/__kmalloc`); a user may give the
 * last component alone when it is unique (`__kmalloc`). The kernel's public
 * allocator API is largely `@inline` wrappers (kmalloc → __kmalloc,
 * kmem_cache_alloc → __kmem_cache_alloc, as Linux's own inline kmalloc calls
 * __kmalloc), so a name with no function of its own falls back to `__name`
 * (then `_name`, `___name`), and says so.
 *
 * Lines. `.kmemlab.lines` (toolchain/elf_writer.ts) maps pcs to
 * `file:line`; its file names are relative to the project root
 * (`kernel/mm/kmalloc.ts`) or AssemblyScript's standard library
 * (`~lib/string.ts` = node_modules/assemblyscript/std/assembly/string.ts).
 * A pc is looked up only in the image whose functions cover it, so the last
 * line of one image never claims the gap before the next. `FILE:LINE` gives
 * the lowest address of the line (a suffix of the file name is enough).
 *
 * Source text comes through an injected reader (the console stays free of
 * host file APIs; the CLI and the tests pass one: see sourcePaths()).
 *
 * Frames. The code generator keeps a frame record as GCC does with frame
 * pointers (kernel/arch/stacktrace.ts): prologue `addi sp,sp,-N; sd ra,N-8(sp);
 * sd s0,N-16(sp); addi s0,sp,N`, epilogue `... addi sp,s0,-16; ld s0,0(sp);
 * addi sp,sp,16; ret`. So for the innermost frame: before its `addi s0,sp,N`
 * has run, after its `ld s0,0(sp)`, or in a function with no frame (a leaf),
 * the caller is `ra` and s0 is still the caller's; elsewhere the return
 * address is at s0-8 and the caller's s0 at s0-16. Outer frames follow the
 * records with the guest walker's checks (aligned, growing, gaps < 64 KiB).
 */
import { readSection, decodeLineTable, lineAt, LINES_SECTION, type LineEntry } from '../../toolchain/elf_writer.js';
import { parseElf, isElf, type ElfImage } from '../machine/elf.js';

export type SymbolKind = 'func' | 'object' | 'notype';

export interface DebugSymbol {
  name: string;
  value: bigint;
  size: number;
  kind: SymbolKind;
  /** The image (file name) it comes from. */
  image: string;
}

export interface Location {
  pc: bigint;
  /** The symbol holding pc (a function, or a sized object). */
  symbol?: DebugSymbol;
  offset?: number;
  file?: string;
  line?: number;
}

export class SymbolError extends Error {}

interface ImageInfo {
  name: string;
  lines: LineEntry[];
  /** [lo, hi) of the image's functions: where its line table applies. */
  lo: bigint;
  hi: bigint;
  /** PT_LOAD segments: code may be read from the image by virtual address. */
  elf?: ElfImage;
}

const STT_OBJECT = 1;
const STT_FUNC = 2;
const SYM_SIZE = 24;

/** The `.symtab` of an ELF64 file: every named, defined symbol. */
export function readSymtab(bytes: Uint8Array, image: string): DebugSymbol[] {
  const tab = readSection(bytes, '.symtab');
  const str = readSection(bytes, '.strtab');
  if (!tab || !str) return [];
  const v = new DataView(tab.buffer, tab.byteOffset, tab.byteLength);
  const dec = new TextDecoder();
  const out: DebugSymbol[] = [];
  for (let o = SYM_SIZE; o + SYM_SIZE <= tab.length; o += SYM_SIZE) {
    const nameOff = v.getUint32(o, true);
    const info = v.getUint8(o + 4);
    const shndx = v.getUint16(o + 6, true);
    if (shndx === 0 || nameOff === 0 || nameOff >= str.length) continue;
    let end = nameOff;
    while (end < str.length && str[end] !== 0) end++;
    const name = dec.decode(str.subarray(nameOff, end));
    if (!usableName(name)) continue;
    const type = info & 0xf;
    if (type !== 0 && type !== STT_OBJECT && type !== STT_FUNC) continue;
    out.push({
      name, image, value: v.getBigUint64(o + 8, true), size: Number(v.getBigUint64(o + 16, true)),
      kind: type === STT_FUNC ? 'func' : type === STT_OBJECT ? 'object' : 'notype',
    });
  }
  return out;
}

/** Assembler-local labels and numeric labels are not names a user means. */
function usableName(n: string): boolean {
  return n !== '' && !n.startsWith('.L') && !/^\d/.test(n) && !n.startsWith('$');
}

/** `kernel/mm/kmalloc/__kmalloc` → `__kmalloc`. */
export function shortName(name: string): string {
  const slash = name.lastIndexOf('/');
  return slash >= 0 && slash < name.length - 1 ? name.slice(slash + 1) : name;
}

const cmp = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

/** Candidate paths of a line-table file name under the given roots (project root first). */
export function sourcePaths(file: string, roots: readonly string[]): string[] {
  const rel = file.startsWith('~lib/') ? `node_modules/assemblyscript/std/assembly/${file.slice(5)}` : file;
  if (rel.startsWith('/')) return [rel];
  return roots.map((r) => `${r.replace(/\/+$/, '')}/${rel}`);
}

export class ProgramInfo {
  readonly symbols: DebugSymbol[] = [];
  /** Functions and sized objects by address, for pc → name. */
  private readonly byAddr: DebugSymbol[];
  private readonly images: ImageInfo[] = [];
  private readonly sources = new Map<string, string[] | undefined>();

  /**
   * `files`: the ELF images as bytes (symbols with sizes, line tables);
   * `parsed`: images known only parsed (machine.images), used when no bytes
   * were given for them.
   */
  constructor(
    files: readonly { name: string; bytes: Uint8Array }[],
    parsed: readonly { name: string; elf?: ElfImage }[] = [],
    private readonly readSource?: (file: string) => string | undefined,
  ) {
    for (const f of files) {
      if (!isElf(f.bytes)) continue;
      let elf: ElfImage | undefined;
      try {
        elf = parseElf(f.bytes, f.name);
      } catch {
        continue;
      }
      const syms = readSymtab(f.bytes, f.name);
      this.symbols.push(...syms);
      let lines: LineEntry[] = [];
      try {
        const s = readSection(f.bytes, LINES_SECTION);
        if (s) lines = decodeLineTable(s);
      } catch {
        lines = [];
      }
      this.addImage(f.name, syms, lines, elf);
    }
    if (files.length === 0) {
      for (const p of parsed) {
        if (!p.elf) continue;
        const funcs = p.elf.functions.map((fn): DebugSymbol => ({ name: fn.name, value: fn.value, size: fn.size, kind: 'func', image: p.name }));
        const seen = new Set(funcs.map((s) => s.name));
        const others = [...p.elf.symbols].filter(([n]) => !seen.has(n) && usableName(n))
          .map(([name, value]): DebugSymbol => ({ name, value, size: 0, kind: 'notype', image: p.name }));
        this.symbols.push(...funcs, ...others);
        this.addImage(p.name, funcs, [], p.elf);
      }
    }
    this.byAddr = this.symbols.filter((s) => s.size > 0 && s.kind !== 'notype')
      .sort((a, b) => cmp(a.value, b.value) || (a.kind === 'func' ? -1 : 1));
  }

  private addImage(name: string, syms: DebugSymbol[], lines: LineEntry[], elf?: ElfImage): void {
    let lo = -1n;
    let hi = -1n;
    for (const s of syms) {
      if (s.kind !== 'func' || s.size === 0) continue;
      if (lo < 0n || s.value < lo) lo = s.value;
      if (s.value + BigInt(s.size) > hi) hi = s.value + BigInt(s.size);
    }
    this.images.push({ name, lines, lo: lo < 0n ? 0n : lo, hi: hi < 0n ? 0n : hi, elf });
  }

  get hasLines(): boolean {
    return this.images.some((i) => i.lines.length > 0);
  }

  /** The function or sized object holding `addr` (functions win over objects). */
  symbolAt(addr: bigint, funcsOnly = false): DebugSymbol | undefined {
    const a = BigInt.asUintN(64, addr);
    const list = this.byAddr;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.value <= a) lo = mid + 1;
      else hi = mid;
    }
    // Symbols may nest or overlap (an object inside another): look back a little.
    for (let i = lo - 1; i >= 0 && i >= lo - 8; i--) {
      const s = list[i]!;
      if (funcsOnly && s.kind !== 'func') continue;
      if (a < s.value + BigInt(s.size)) return s;
    }
    return undefined;
  }

  lineOf(pc: bigint): { file: string; line: number } | undefined {
    const a = BigInt.asUintN(64, pc);
    for (const img of this.images) {
      if (img.lines.length === 0 || a < img.lo || a >= img.hi) continue;
      const e = lineAt(img.lines, a);
      if (e?.source !== undefined && e.line !== undefined) return { file: e.source, line: e.line };
    }
    return undefined;
  }

  /** pc → symbol+offset and file:line. `lookupPc` (e.g. a return address − 1) chooses where to look. */
  locate(pc: bigint, lookupPc = pc): Location {
    const loc: Location = { pc: BigInt.asUintN(64, pc) };
    const sym = this.symbolAt(lookupPc);
    if (sym) {
      loc.symbol = sym;
      loc.offset = Number(loc.pc - sym.value);
    }
    const l = this.lineOf(lookupPc);
    if (l) {
      loc.file = l.file;
      loc.line = l.line;
    }
    return loc;
  }

  /** `name+0xoff (file:line)` (gdb's "in" clause); `?? ()` with nothing known. */
  static where(loc: Location): string {
    const fn = loc.symbol ? `${loc.symbol.name}+0x${(loc.offset ?? 0).toString(16)}` : '??';
    if (loc.file !== undefined) return `${fn} (${loc.file}:${loc.line})`;
    return loc.symbol ? fn : `${fn} ()`;
  }

  /**
   * A symbol by name: the full name, else a unique last component, else
   * `__name`, `_name`, `___name` (inline wrappers). `kinds` limits the
   * search (breakpoints want functions). Throws SymbolError with the
   * candidates when the name is ambiguous, or when nothing matches.
   */
  resolve(name: string, kinds: readonly SymbolKind[] = ['func', 'object', 'notype']): { symbol: DebugSymbol; note?: string } {
    const pool = this.symbols.filter((s) => kinds.includes(s.kind));
    const exact = uniqueByName(pool.filter((s) => s.name === name));
    if (exact.length === 1) return { symbol: exact[0]! };
    const pick = (n: string): DebugSymbol[] => uniqueByName(pool.filter((s) => shortName(s.name) === n));
    const short = exact.length > 1 ? exact : pick(name);
    if (short.length === 1) return { symbol: short[0]! };
    if (short.length > 1) throw new SymbolError(ambiguous(name, short));
    for (const prefix of ['__', '_', '___']) {
      const c = pick(prefix + name);
      if (c.length === 1) {
        return { symbol: c[0]!, note: `no function '${name}' of its own (an @inline wrapper?): using ${c[0]!.name}, which it calls` };
      }
      if (c.length > 1) throw new SymbolError(ambiguous(prefix + name, c));
    }
    throw new SymbolError(`No symbol "${name}" in the loaded images.`);
  }

  /** Completion candidates: short names starting with `prefix`, or full names when it has a '/'. */
  completions(prefix: string): string[] {
    const out = new Set<string>();
    const full = prefix.includes('/');
    for (const s of this.symbols) {
      const name = full ? s.name : shortName(s.name);
      if (name.startsWith(prefix)) out.add(name);
    }
    return [...out].sort();
  }

  /** Line-table files whose name is `file` or ends in `/file`. */
  matchFiles(file: string): string[] {
    const out = new Set<string>();
    for (const img of this.images) {
      for (const e of img.lines) {
        if (e.source !== undefined && (e.source === file || e.source.endsWith(`/${file}`))) out.add(e.source);
      }
    }
    return [...out].sort();
  }

  /**
   * The lowest address whose code comes from `file:line`, or of the first
   * line after it that has code (as gdb moves a breakpoint to the next line
   * with code). Throws SymbolError when the file is unknown or ambiguous.
   */
  addressOfLine(file: string, line: number): { addr: bigint; file: string; line: number } {
    const files = this.matchFiles(file);
    if (files.length === 0) throw new SymbolError(`No source file named ${file} in the line table.`);
    if (files.length > 1) throw new SymbolError(`Source file name "${file}" is ambiguous: ${files.join(', ')}`);
    const f = files[0]!;
    let best: { addr: bigint; line: number } | undefined;
    for (const img of this.images) {
      for (const e of img.lines) {
        if (e.source !== f || e.line === undefined || e.line < line) continue;
        if (!best || e.line < best.line || (e.line === best.line && e.addr < best.addr)) best = { addr: e.addr, line: e.line };
      }
    }
    if (!best) throw new SymbolError(`Line ${line} of "${f}" has no code (nor does any line after it).`);
    return { addr: best.addr, file: f, line: best.line };
  }

  /** The source file's lines, or undefined when it cannot be read. */
  sourceLines(file: string): string[] | undefined {
    if (!this.sources.has(file)) {
      const text = this.readSource?.(file);
      this.sources.set(file, text === undefined ? undefined : text.split(/\r?\n/));
    }
    return this.sources.get(file);
  }

  /**
   * The physical address an image's loader put virtual address `va` at (its
   * PT_LOAD's p_paddr), for reading code and data by symbol while the hart
   * does not map them (M-mode at reset, before paging). Undefined outside.
   */
  imagePhys(va: bigint, len: number): number | undefined {
    const a = BigInt.asUintN(64, va);
    for (const img of this.images) {
      for (const s of img.elf?.segments ?? []) {
        if (a >= s.vaddr && a + BigInt(len) <= s.vaddr + BigInt(s.memsz)) return s.paddr + Number(a - s.vaddr);
      }
    }
    return undefined;
  }
}

function uniqueByName(list: DebugSymbol[]): DebugSymbol[] {
  const seen = new Map<string, DebugSymbol>();
  for (const s of list) if (!seen.has(`${s.name}@${s.value}`)) seen.set(`${s.name}@${s.value}`, s);
  return [...seen.values()];
}

function ambiguous(name: string, list: DebugSymbol[]): string {
  const same = list.every((s) => s.name === list[0]!.name);
  const names = list.slice(0, 12).map((s) => (same ? `${s.name} in ${s.image} at 0x${s.value.toString(16)}` : s.name)).join(', ');
  return `Symbol "${name}" is ambiguous (${list.length} matches): ${names}${list.length > 12 ? ', …' : ''}; give ${same ? 'the address' : 'the full name'}.`;
}

// --- frames -------------------------------------------------------------------------------------

export interface Frame {
  level: number;
  pc: bigint;
  /** The frame pointer (s0) of this frame, when known. */
  fp?: bigint;
  loc: Location;
}

export interface FrameRegs {
  pc: bigint;
  ra: bigint;
  sp: bigint;
  s0: bigint;
}

/** Reads 8 or 4 bytes of guest memory; throws when unmapped. */
export type ReadMem = (va: bigint, len: number) => Uint8Array;

const MAX_FRAMES = 64;
const MAX_FRAME_GAP = 64n * 1024n;

const le32 = (b: Uint8Array): number => (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
const le64 = (b: Uint8Array): bigint => new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);

/** addi s0,sp,N (I-type, opcode 0x13, funct3 0, rd 8, rs1 2). */
function isSetFp(insn: number): boolean {
  return (insn & 0x000f_ffff) === 0x0001_0413;
}

/** ret: jalr x0,0(ra), or c.jr ra. */
function isRet(insn: number, len: number): boolean {
  return len === 4 ? insn >>> 0 === 0x0000_8067 : (insn & 0xffff) === 0x8082;
}

/** addi sp,sp,imm (4-byte) or c.addi16sp / c.addi sp. */
function isSpAdjust(insn: number, len: number): boolean {
  if (len === 4) return (insn & 0x000f_ffff) === 0x0001_0113;
  return (insn & 0xef83) === 0x6101 || (insn & 0xef83) === 0x0101;
}

function fetch(read: ReadMem, pc: bigint): { insn: number; len: number } | undefined {
  try {
    const lo = read(pc, 2);
    const half = lo[0]! | (lo[1]! << 8);
    if ((half & 3) !== 3) return { insn: half, len: 2 };
    return { insn: le32(read(pc, 4)), len: 4 };
  } catch {
    return undefined;
  }
}

/** Has the function holding pc set up its frame record (s0 = its own frame) at pc? */
function frameEstablished(prog: ProgramInfo, read: ReadMem, pc: bigint): boolean {
  const fn = prog.symbolAt(pc, true);
  if (!fn) return true;
  // Find `addi s0,sp,N` among the first instructions.
  let at = fn.value;
  let setFp: bigint | undefined;
  for (let i = 0; i < 8 && at < fn.value + BigInt(fn.size); i++) {
    const f = fetch(read, at);
    if (!f) return true;
    if (isSetFp(f.insn) && f.len === 4) { setFp = at; break; }
    at += BigInt(f.len);
  }
  if (setFp === undefined) return false; // a leaf without a frame
  if (pc <= setFp) return false;
  const here = fetch(read, pc);
  if (!here) return true;
  if (isRet(here.insn, here.len)) return false;
  if (isSpAdjust(here.insn, here.len)) {
    const next = fetch(read, pc + BigInt(here.len));
    if (next && isRet(next.insn, next.len)) return false;
  }
  return true;
}

/** Walk the frames of a stopped hart (innermost first). */
export function backtrace(prog: ProgramInfo, read: ReadMem, regs: FrameRegs): Frame[] {
  const frames: Frame[] = [{ level: 0, pc: regs.pc, loc: prog.locate(regs.pc) }];
  let fp: bigint;
  let retAddr: bigint;
  const own = frameEstablished(prog, read, regs.pc);
  if (own) {
    fp = regs.s0;
    frames[0]!.fp = fp;
    const rec = readRecord(read, fp);
    if (!rec) return frames;
    retAddr = rec.ra;
    fp = rec.fp;
  } else {
    retAddr = regs.ra;
    fp = regs.s0;
  }
  let last = 0n;
  while (frames.length < MAX_FRAMES) {
    if (retAddr === 0n) break;
    frames.push({ level: frames.length, pc: retAddr, fp, loc: prog.locate(retAddr, retAddr - 1n) });
    if (fp < 16n || (fp & 7n) !== 0n) break;
    if (last !== 0n && (fp <= last || fp - last > MAX_FRAME_GAP)) break;
    const rec = readRecord(read, fp);
    if (!rec) break;
    last = fp;
    retAddr = rec.ra;
    fp = rec.fp;
  }
  return frames;
}

function readRecord(read: ReadMem, fp: bigint): { ra: bigint; fp: bigint } | undefined {
  if (fp < 16n || (fp & 7n) !== 0n) return undefined;
  try {
    return { ra: le64(read(fp - 8n, 8)), fp: le64(read(fp - 16n, 8)) };
  } catch {
    return undefined;
  }
}
