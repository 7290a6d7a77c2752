/**
 * The linker: translated code + the stub of an image kind → one ELF64 file,
 * with a symbol per wasm function and a pc → wasm offset → AssemblyScript
 * file:line table.
 *
 *   WasmModule ─translateModule─▶ Translation.text ─┐
 *   stub of the kind (toolchain/stubs) ─────────────┤ grouped by section, assembled once at the text base
 *                                                   ▼
 *             .text │ .rodata │ .data │ .bss ──────────▶ ELF segments (+ .data.wasm / .bss.wasm from the
 *                                                        wasm data segments, placed at their own addresses)
 *
 * Our assembler makes one flat image and has no sections, so the linker
 * splits both sources at their section directives (.text, .rodata, .data,
 * .bss, .section NAME) and assembles them concatenated: all code, then all
 * read-only data, then data, then .bss, each part starting on a 4 KiB
 * boundary (so that a kernel can map them with different permissions).
 * Stub reservations in .bss (stacks, page tables) are symbols only.
 *
 * Layouts (half-open ranges; addresses from emulator/machine/memmap.ts):
 *
 *  'bare'  M-mode, zext, no firmware; virtual = physical
 *   0x8000_0000 ┌─────────────────────────────────────┐ _stext = _start (QEMU jumps to the lowest address)
 *               │ .text    stub + translated code      │
 *               │ .rodata  call_indirect table, strings│ 4 KiB aligned parts
 *               │ .data    mutable globals, __result,  │
 *               │          tohost / fromhost           │
 *               │ .bss     hart 0 stack (1 MiB),       │
 *               │          report stack               │ __bss_stop (must stay below the wasm data)
 *   0x8040_0000 ├─────────────────────────────────────┤ BARE_MEMORY_BASE (asc --memoryBase)
 *               │ .data.wasm  the module's data        │ __data_end
 *               │ .bss.wasm   heap                     │ __heap_base … __heap_end = initial pages · 64 KiB
 *               └─────────────────────────────────────┘
 *
 *  'firmware'  M-mode, zext; virtual = physical; everything below 2 MiB
 *   0x8000_0000  .text .rodata .data .bss (hart stacks: 8 KiB × maxHarts)
 *   0x8010_0000  FIRMWARE_MEMORY_BASE: .data.wasm, .bss.wasm (heap)
 *   0x8020_0000  FIRMWARE_END: the kernel's first byte; nothing of the firmware reaches it
 *
 *  'kernel'  S-mode, sext; virtual = sext32(physical) (the linear map, DESIGN.md §5)
 *   PA 0x8020_0000 = VA 0xFFFF_FFFF_8020_0000  .text (_start first) .rodata .data
 *                                              .bss (early_pg_dir, boot stacks 16 KiB × maxHarts)
 *   PA 0x8060_0000 = VA 0xFFFF_FFFF_8060_0000  KERNEL_MEMORY_BASE: .data.wasm, .bss.wasm (heap)
 *   e_entry = the physical address of _start (loaders jump there with the MMU off)
 *
 * The wasm heap ends where the module's initial memory ends (asc
 * --initialMemory pages · 64 KiB; asconfig.json sets it per target).
 */

import { assemble, AsmError } from './asm.js';
import { dwarfLineSections } from './dwarf.js';
import {
  ElfWriteError, LINES_SECTION, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHT_NOBITS, SHT_PROGBITS, encodeLineTable, writeElf,
  type ElfSection, type ElfSegment, type ElfSymbol, type LineEntry,
} from './elf_writer.js';
import { funcTypeOf, type WasmModule } from './wasm/module.js';
import { KERNEL_LOAD_ADDR, MAX_HARTS, VIRT_DRAM_BASE } from '../emulator/machine/memmap.js';
import { PF_R, PF_W, PF_X } from '../emulator/machine/elf.js';
import { StubError, type AddressMode, type StubInput, type StubOutput } from './stubs/common.js';
import { bareStub } from './stubs/bare.js';
import { firmwareStub } from './stubs/firmware.js';
import { kernelStub, KERNEL_VA_OFFSET } from './stubs/kernel.js';

export type { LineEntry } from './elf_writer.js';

export type ImageKind = 'bare' | 'firmware' | 'kernel';

/** Where the wasm data of a 'bare' image goes (asc --memoryBase). */
export const BARE_MEMORY_BASE = 0x8040_0000;
/** Where the firmware's wasm data goes (asc --memoryBase), and the end of everything the firmware owns. */
export const FIRMWARE_MEMORY_BASE = 0x8010_0000;
export const FIRMWARE_END = KERNEL_LOAD_ADDR;
/** Where the kernel's wasm data goes (asc --memoryBase, physical = wasm address), and the heap end. */
export const KERNEL_MEMORY_BASE = 0x8060_0000;
export const KERNEL_MEMORY_END = 0x8080_0000;

export interface KindLayout {
  /** How the translator must turn wasm pointers into addresses for this kind. */
  addressMode: AddressMode;
  /** Physical address of the first code byte (_start). */
  textPhys: number;
  /** Virtual − physical for the code and data of the image. */
  virtOffset: bigint;
  /** asc --memoryBase: the wasm address of the first data byte. */
  memoryBase: number;
  /** The highest physical address the image may reach (exclusive), if bounded. */
  limit?: number;
  /** asc --initialMemory / --maximumMemory in 64 KiB pages, when the kind fixes the heap end. */
  memoryPages?: number;
}

export const LAYOUTS: Readonly<Record<ImageKind, KindLayout>> = {
  bare: { addressMode: 'zext', textPhys: VIRT_DRAM_BASE, virtOffset: 0n, memoryBase: BARE_MEMORY_BASE },
  firmware: {
    addressMode: 'zext', textPhys: VIRT_DRAM_BASE, virtOffset: 0n, memoryBase: FIRMWARE_MEMORY_BASE,
    limit: FIRMWARE_END, memoryPages: FIRMWARE_END / 0x1_0000,
  },
  kernel: {
    addressMode: 'sext', textPhys: KERNEL_LOAD_ADDR, virtOffset: KERNEL_VA_OFFSET, memoryBase: KERNEL_MEMORY_BASE,
    limit: KERNEL_MEMORY_END, memoryPages: KERNEL_MEMORY_END / 0x1_0000,
  },
};

/** The address mode to translate a module of this kind with. */
export function addressModeOf(kind: ImageKind): AddressMode {
  return LAYOUTS[kind].addressMode;
}

/** What linkImage reads of the code generator's Translation (toolchain/translate.ts): a Translation is one. */
export interface TranslationInput {
  text: string;
  data: { addr: number; bytes: Uint8Array }[];
  funcLabels: string[];
  externs: string[];
  /** Labels of the mutable globals in .data, by global index (default: `__global_<index>`, the translator's). */
  globalLabels?: (string | undefined)[];
}

/** What linkImage reads of a source map: SourceMap of toolchain/wasm/sourcemap.ts (1-based line and column). */
export interface SourceLookup {
  lookup(wasmOffset: number): { source: string; line: number; column: number } | undefined | null;
}

export interface LinkOptions {
  kind: ImageKind;
  sourceMap?: SourceLookup;
  /** The 'bare' kind's entry export (default 'main'). */
  entryExport?: string;
  /** Emit compressed instructions where possible (default false). */
  compress?: boolean;
  /** Harts that get a stack (default MAX_HARTS = 64). */
  maxHarts?: number;
}

export interface LinkedImage {
  elf: Uint8Array;
  /** Every ELF symbol, and every label of the assembled text, by name (virtual addresses). */
  symbols: Map<string, bigint>;
  /** The line table, sorted by address (also in the ELF's .kmemlab.lines section). */
  lines: LineEntry[];
  /** e_entry. */
  entry: bigint;
  /** The regions as placed: [start, end) virtual addresses. */
  regions: { name: string; start: bigint; end: bigint; phys: bigint }[];
}

/** A module and translation that cannot become an image of the kind: one line, saying what to change. */
export class LinkError extends Error {
  override readonly name = 'LinkError';
}

// --- splitting assembly by section --------------------------------------------------------------

type SectionKey = 'text' | 'rodata' | 'data' | 'bss';

const SECTION_DIRECTIVE = /^\s*(?:[A-Za-z_.$][\w.$]*:\s*)*(\.text|\.data|\.rodata|\.bss|\.section\s+([^\s,#;]+)[^#;]*|\.pushsection\s+([^\s,#;]+)[^#;]*|\.popsection|\.previous)\s*(?:#.*)?$/;

function sectionOf(name: string): SectionKey | undefined {
  if (name === '.text' || name.startsWith('.text.') || name.startsWith('.init') || name.startsWith('.fini')) return 'text';
  if (name === '.rodata' || name.startsWith('.rodata.') || name === '.srodata' || name.startsWith('.srodata.')) return 'rodata';
  if (name === '.data' || name.startsWith('.data.') || name === '.sdata' || name.startsWith('.sdata.')) return 'data';
  if (name === '.bss' || name.startsWith('.bss.') || name === '.sbss' || name.startsWith('.sbss.')) return 'bss';
  return undefined;
}

/**
 * Split assembly into its .text / .rodata / .data / .bss parts, in source
 * order within each. Section directives must stand on their own line
 * (optionally after labels: those labels stay in the section before).
 */
export function splitSections(source: string, what: string): Record<SectionKey, string[]> {
  const parts: Record<SectionKey, string[]> = { text: [], rodata: [], data: [], bss: [] };
  let cur: SectionKey = 'text';
  let prev: SectionKey = 'text';
  const stack: SectionKey[] = [];
  const lines = source.split(/\r?\n/);
  lines.forEach((line, i) => {
    const m = SECTION_DIRECTIVE.exec(line);
    if (!m) {
      if (/(^|;)\s*\.(text|data|rodata|bss|section|pushsection|popsection|previous)\b/.test(line.replace(/#.*$/, '')) && !/^\s*\.(text|data|rodata|bss|section|pushsection|popsection|previous)\b/.test(line)) {
        throw new LinkError(`${what} line ${i + 1}: put the section directive on its own line: ${line.trim()}`);
      }
      parts[cur].push(line);
      return;
    }
    // Labels before the directive belong to the current section.
    const labels = line.slice(0, line.indexOf(m[1]!)).trim();
    if (labels) parts[cur].push(labels);
    const dir = m[1]!;
    let next: SectionKey | undefined;
    if (dir === '.popsection') next = stack.pop() ?? 'text';
    else if (dir === '.previous') next = prev;
    else if (dir.startsWith('.pushsection')) { stack.push(cur); next = sectionOf(m[3]!); }
    else if (dir.startsWith('.section')) next = sectionOf(m[2]!);
    else next = dir.slice(1) as SectionKey;
    if (next === undefined) throw new LinkError(`${what} line ${i + 1}: unknown section in '${line.trim()}' (use .text, .rodata, .data or .bss)`);
    prev = cur;
    cur = next;
  });
  return parts;
}

// --- the linker ---------------------------------------------------------------------------------

const PAGE = 4096;
const alignUp = (n: bigint, a: bigint): bigint => ((n + a - 1n) / a) * a;
/** sext32 as an unsigned 64-bit address (the form every address in this file has). */
const sext32 = (v: number): bigint => BigInt.asUintN(64, BigInt.asIntN(32, BigInt(v >>> 0)));
const hex = (v: bigint | number): string => `0x${BigInt.asUintN(64, BigInt(v)).toString(16)}`;

function stubFor(kind: ImageKind, input: StubInput, entryExport: string): StubOutput {
  switch (kind) {
    case 'bare': return bareStub(input, entryExport);
    case 'firmware': return firmwareStub(input);
    case 'kernel': return kernelStub(input);
  }
}

/** The value of an immutable i32 global asc names `…/__data_end` or `…/__heap_base`, if the module keeps it. */
function ascGlobal(mod: WasmModule, suffix: string): number | undefined {
  for (const g of mod.globals) {
    if (g.mutable || g.type !== 'i32' || !(g.name === suffix || g.name.endsWith(`/${suffix}`))) continue;
    const c = g.init[0];
    if (g.init.length === 1 && c?.op === 'i32.const' && c.value !== undefined) return Number(BigInt.asUintN(32, c.value));
  }
  return undefined;
}

/**
 * Link a translated module into an ELF image of the given kind. Throws
 * LinkError (missing or mistyped entry exports, undefined externs, an image
 * that does not fit its layout, an assembly error in the generated text).
 */
export function linkImage(mod: WasmModule, tr: TranslationInput, opts: LinkOptions): LinkedImage {
  const kind = opts.kind;
  const layout = LAYOUTS[kind];
  const maxHarts = opts.maxHarts ?? MAX_HARTS;

  // The stub of the kind, fed with the exports it calls.
  const input: StubInput = {
    exportFunc(name) {
      const e = mod.exports.find((x) => x.kind === 'func' && x.name === name);
      if (!e) return undefined;
      const label = tr.funcLabels[e.index];
      if (!label) throw new LinkError(`export ${name} (function ${e.index}) has no label in the translation`);
      return { label, type: funcTypeOf(mod, e.index) };
    },
    startLabel: mod.start !== undefined ? tr.funcLabels[mod.start] : undefined,
    maxHarts,
  };
  let stub: StubOutput;
  try {
    stub = stubFor(kind, input, opts.entryExport ?? 'main');
  } catch (e) {
    if (e instanceof StubError) throw new LinkError(`${kind} image: ${e.message}`);
    throw e;
  }

  // One source: every part of each section together, sections in order, boundaries labelled.
  const stubParts = splitSections(stub.text, `the ${kind} stub`);
  const genParts = splitSections(tr.text, 'the translated text');
  // .bss reservations are symbols past the end of the assembled bytes (no bytes are emitted for them).
  let resvSize = 0n;
  const resv = stub.bss.map((r) => {
    if (r.align > PAGE) throw new LinkError(`${kind} image: .bss reservation ${r.name} wants alignment ${r.align} > ${PAGE}`);
    const off = alignUp(resvSize, BigInt(r.align));
    resvSize = off + BigInt(r.size);
    return { ...r, off };
  });
  const source = [
    '    .text', '_stext:', ...stubParts.text, '    .text', ...genParts.text, '    .balign 4', '_etext:',
    '    .section .rodata', `    .balign ${PAGE}`, '__start_rodata:', ...stubParts.rodata, '    .section .rodata', ...genParts.rodata, '__end_rodata:',
    '    .data', `    .balign ${PAGE}`, '_sdata:', ...stubParts.data, '    .data', ...genParts.data, '    .balign 8', '_edata:',
    '    .bss', `    .balign ${PAGE}`, '__bss_start:', ...stubParts.bss, '    .bss', ...genParts.bss, `    .balign ${PAGE}`, '__bss_reserved:',
    ...resv.map((r) => `${r.name} = __bss_reserved + ${r.off}`),
  ].join('\n');
  const textBase = BigInt(layout.textPhys) + layout.virtOffset;
  let asm: ReturnType<typeof assemble>;
  try {
    asm = assemble(source, { base: textBase, compress: opts.compress ?? false });
  } catch (e) {
    if (e instanceof AsmError) throw new LinkError(`${kind} image: assembling the generated code failed at ${e.message}`);
    throw e;
  }
  const sym = (name: string): bigint => {
    const v = asm.symbols.get(name);
    if (v === undefined) throw new LinkError(`${kind} image: symbol ${name} is not defined`);
    return v;
  };
  for (const x of tr.externs) {
    if (!asm.symbols.has(x)) throw new LinkError(`${kind} image: the translation needs '${x}', which the ${kind} stub does not define`);
  }

  const symbols = new Map(asm.symbols);
  const reserved: ElfSymbol[] = resv.map((r) => ({ name: r.name, value: sym(r.name), size: r.size, type: 'object', bind: 'local', section: '.bss' }));
  const bssEnd = alignUp(sym('__bss_reserved') + resvSize, 16n);
  symbols.set('__bss_stop', bssEnd);

  const slice = (from: string, to: string): Uint8Array => asm.bytes.slice(Number(sym(from) - textBase), Number(sym(to) - textBase));
  const bssStart = sym('__bss_start');
  const tail = asm.bytes.subarray(Number(bssStart - textBase));
  if (tail.some((b) => b !== 0)) throw new LinkError(`${kind} image: .bss holds non-zero bytes; put initialised data in .data`);

  // The wasm data: one blob from the lowest segment address, later segments winning (wasm order).
  const segs = tr.data.filter((d) => d.bytes.length > 0);
  let memLo = layout.memoryBase;
  let memHi = layout.memoryBase;
  if (segs.length) {
    // asc starts the data a little past --memoryBase; the section then starts at the base itself.
    const lowest = Math.min(...segs.map((d) => d.addr >>> 0));
    memLo = lowest >= layout.memoryBase ? layout.memoryBase : lowest;
    memHi = Math.max(...segs.map((d) => (d.addr >>> 0) + d.bytes.length));
  }
  if (memHi > 2 ** 32) throw new LinkError(`${kind} image: a data segment ends at ${hex(memHi)}, beyond the 4 GiB wasm memory`);
  const blob = new Uint8Array(memHi - memLo);
  for (const d of segs) blob.set(d.bytes, (d.addr >>> 0) - memLo);
  const dataEnd = Math.max(memHi, ascGlobal(mod, '__data_end') ?? 0);
  const heapBase = Math.max(dataEnd, ascGlobal(mod, '__heap_base') ?? Number(alignUp(BigInt(dataEnd), 16n)));
  const memPages = mod.memories[0]?.min ?? 0;
  const heapEnd = Math.max(heapBase, Math.min(memPages * 0x1_0000, 2 ** 32));
  const wasmVirt = (a: number): bigint => (layout.addressMode === 'sext' ? sext32(a) : BigInt(a >>> 0));
  const toPhys = (va: bigint): bigint => va - layout.virtOffset;

  // Does it fit?
  const imageStart = textBase;
  if (segs.length && wasmVirt(memLo) < bssEnd && wasmVirt(heapEnd) > imageStart) {
    throw new LinkError(
      `${kind} image: code and stacks [${hex(imageStart)}, ${hex(bssEnd)}) run into the wasm data at ${hex(wasmVirt(memLo))}; ` +
        `move the data up (asc --memoryBase) or shrink the code`,
    );
  }
  if (layout.limit !== undefined) {
    const top = [toPhys(bssEnd), BigInt(heapEnd)].reduce((a, b) => (a > b ? a : b));
    if (top > BigInt(layout.limit)) {
      throw new LinkError(
        `${kind} image: it reaches ${hex(top)}, beyond its limit ${hex(layout.limit)} (code and stacks end at ${hex(toPhys(bssEnd))}, ` +
          `the wasm heap at ${hex(heapEnd)}); lower --initialMemory or shrink the code`,
      );
    }
  }
  if (kind === 'kernel' && (memLo < KERNEL_LOAD_ADDR || memHi > 0xc000_0000) && segs.length) {
    throw new LinkError(`kernel image: the wasm data [${hex(memLo)}, ${hex(memHi)}) must lie in the linear map above the image base ${hex(KERNEL_LOAD_ADDR)}`);
  }

  const wasmSymbols: Record<string, number> = { __memory_base: memLo, __data_end: dataEnd, __heap_base: heapBase, __heap_end: heapEnd };
  for (const [k, v] of Object.entries(wasmSymbols)) symbols.set(k, wasmVirt(v));
  const imageEnd = [bssEnd, wasmVirt(heapEnd)].reduce((a, b) => (a > b ? a : b));
  symbols.set('_end', imageEnd);

  // Sections and segments.
  const text = slice('_stext', '_etext');
  const rodata = slice('__start_rodata', '__end_rodata');
  const data = slice('_sdata', '_edata');
  const sections: ElfSection[] = [
    { name: '.text', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, addr: sym('_stext'), data: text, align: 4 },
    { name: '.rodata', type: SHT_PROGBITS, flags: SHF_ALLOC, addr: sym('__start_rodata'), data: rodata, align: 8 },
    { name: '.data', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_WRITE, addr: sym('_sdata'), data, align: 8 },
    { name: '.bss', type: SHT_NOBITS, flags: SHF_ALLOC | SHF_WRITE, addr: bssStart, size: Number(bssEnd - bssStart), align: PAGE },
    { name: '.data.wasm', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_WRITE, addr: wasmVirt(memLo), data: blob, align: 16 },
    { name: '.bss.wasm', type: SHT_NOBITS, flags: SHF_ALLOC | SHF_WRITE, addr: wasmVirt(memHi), size: heapEnd - memHi, align: 1 },
  ];
  const segments: ElfSegment[] = [
    { flags: PF_R | PF_X, sections: ['.text'], paddr: toPhys(sym('_stext')) },
    { flags: PF_R, sections: ['.rodata'], paddr: toPhys(sym('__start_rodata')) },
    { flags: PF_R | PF_W, sections: ['.data', '.bss'], paddr: toPhys(data.length ? sym('_sdata') : bssStart) },
    { flags: PF_R | PF_W, sections: ['.data.wasm', '.bss.wasm'], paddr: BigInt(blob.length ? memLo : memHi) },
  ];

  // Symbols: wasm functions (named from the name section), the stub's functions and objects, boundaries.
  const elfSyms: ElfSymbol[] = [];
  const funcStarts: { name: string; addr: bigint; wasm: boolean }[] = [];
  const seen = new Set<string>();
  for (const f of mod.funcs) {
    const label = tr.funcLabels[f.index];
    const addr = label !== undefined ? asm.symbols.get(label) : undefined;
    if (addr === undefined) continue;
    let name = f.name || `func${f.index}`;
    if (seen.has(name)) name = `${name}#${f.index}`;
    seen.add(name);
    funcStarts.push({ name, addr, wasm: true });
  }
  for (const fn of stub.functions) funcStarts.push({ name: fn, addr: sym(fn), wasm: false });
  // The translator's runtime routines: its other non-local labels in .text (`.L…` are local to a function).
  const labelled = new Set([...tr.funcLabels, ...stub.functions, '_stext', '_etext']);
  for (const [name, addr] of asm.symbols) {
    if (name.startsWith('.') || name.endsWith('.end') || labelled.has(name) || addr < sym('_stext') || addr >= sym('_etext')) continue;
    if (stubParts.text.some((l) => l.includes(`${name}:`))) continue; // the stub's inner labels
    funcStarts.push({ name, addr, wasm: false });
  }
  const sortedStarts = [...funcStarts].sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
  const etext = sym('_etext');
  for (const fn of funcStarts) {
    let size: bigint;
    const end = asm.symbols.get(`${fn.name}.end`);
    if (!fn.wasm && end !== undefined) size = end - fn.addr;
    else {
      const next = sortedStarts.find((s) => s.addr > fn.addr);
      size = (next?.addr ?? etext) - fn.addr;
    }
    const bind = fn.wasm ? 'global' : fn.name === '_start' ? 'global' : 'local';
    elfSyms.push({ name: fn.name, value: fn.addr, size, type: 'func', bind, section: '.text' });
    symbols.set(fn.name, fn.addr);
  }
  for (const o of stub.objects) elfSyms.push({ name: o.name, value: sym(o.name), size: o.size, type: 'object', bind: 'global', section: '.data' });
  elfSyms.push(...reserved);
  // Mutable globals: one .dword each, labelled __global_<index> by the translator (or as globalLabels says).
  const importedGlobals = mod.importOther.filter((x) => x.kind === 'global').length;
  mod.globals.forEach((g, k) => {
    const i = k + importedGlobals;
    const label = tr.globalLabels ? tr.globalLabels[i] : `__global_${i}`;
    const addr = label !== undefined ? asm.symbols.get(label) : undefined;
    if (addr === undefined || !g.mutable) return;
    let name = g.name || `global${i}`;
    if (seen.has(name)) name = `${name}#global${i}`;
    seen.add(name);
    elfSyms.push({ name, value: addr, size: 8, type: 'object', bind: 'local', section: '.data' });
    symbols.set(name, addr);
  });
  const boundary = (name: string, value: bigint, section: string): void => {
    elfSyms.push({ name, value, type: 'notype', bind: 'global', section });
    symbols.set(name, value);
  };
  boundary('_stext', sym('_stext'), '.text');
  boundary('_etext', etext, '.text');
  boundary('__start_rodata', sym('__start_rodata'), '.rodata');
  boundary('__end_rodata', sym('__end_rodata'), '.rodata');
  boundary('_sdata', sym('_sdata'), '.data');
  boundary('_edata', sym('_edata'), '.data');
  boundary('__bss_start', bssStart, '.bss');
  boundary('__bss_stop', bssEnd, '.bss');
  boundary('__memory_base', wasmVirt(memLo), '.data.wasm');
  boundary('__data_end', wasmVirt(dataEnd), dataEnd > memHi ? '.bss.wasm' : '.data.wasm');
  boundary('__heap_base', wasmVirt(heapBase), '.bss.wasm');
  boundary('__heap_end', wasmVirt(heapEnd), '.bss.wasm');
  boundary('_end', imageEnd, imageEnd === bssEnd ? '.bss' : '.bss.wasm');

  // The line table: pc → wasm offset (the translator's .mark) → source (the source map).
  const lines: LineEntry[] = [];
  for (const m of asm.marks ?? []) {
    const e: LineEntry = { addr: m.addr, wasmOffset: m.value };
    const loc = opts.sourceMap?.lookup(m.value);
    if (loc) {
      e.source = loc.source;
      e.line = loc.line;
      e.column = loc.column;
    }
    lines.push(e);
  }
  lines.sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
  sections.push({ name: LINES_SECTION, type: SHT_PROGBITS, flags: 0, data: encodeLineTable(lines), align: 8 });
  // The same table as DWARF line information, for gdb and binutils (toolchain/dwarf.ts).
  const code = sections.filter((s) => (s.flags & SHF_EXECINSTR) !== 0 && s.addr !== undefined);
  if (code.length > 0) {
    const low = code.reduce((m, s) => (s.addr! < m ? s.addr! : m), code[0]!.addr!);
    const high = code.reduce((m, s) => {
      const end = s.addr! + BigInt(s.data?.length ?? 0);
      return end > m ? end : m;
    }, low);
    const dwarf = dwarfLineSections({ lines, low, high, name: `${kind}/main.ts`, producer: 'kmemlab toolchain (AssemblyScript -> wasm -> RV64)' });
    sections.push({ name: '.debug_abbrev', type: SHT_PROGBITS, flags: 0, data: dwarf.debugAbbrev, align: 1 });
    sections.push({ name: '.debug_info', type: SHT_PROGBITS, flags: 0, data: dwarf.debugInfo, align: 1 });
    sections.push({ name: '.debug_line', type: SHT_PROGBITS, flags: 0, data: dwarf.debugLine, align: 1 });
  }

  const entry = toPhys(sym('_start'));
  let elf: Uint8Array;
  try {
    elf = writeElf({ entry, sections, segments, symbols: elfSyms });
  } catch (e) {
    if (e instanceof ElfWriteError) throw new LinkError(`${kind} image: ${e.message}`);
    throw e;
  }
  const regions = sections.filter((s) => s.flags & SHF_ALLOC).map((s) => {
    const size = BigInt(s.type === SHT_NOBITS ? s.size ?? 0 : s.data?.length ?? 0);
    return { name: s.name, start: s.addr!, end: s.addr! + size, phys: toPhys(s.addr!) };
  });
  for (const r of regions) if (r.name.endsWith('.wasm')) r.phys = r.start & 0xffff_ffffn;
  return { elf, symbols, lines, entry, regions };
}
