/**
 * DWARF line information for the images we link (DWARF 4, §6.2 "Line Number
 * Information" and §7.5 "Format of Debugging Information"), so that gdb and
 * binutils show AssemblyScript source lines for our code: `break
 * kernel/mm/slub.ts:1551`, `list`, `info line`, `bt` with `at file:line`,
 * `objdump -l`. It is the `.kmemlab.lines` table (elf_writer.ts) told in
 * DWARF's words; our own tools keep reading `.kmemlab.lines`.
 *
 * Three non-allocated sections, one compilation unit for the whole text:
 *
 *   .debug_abbrev   abbreviation 1: DW_TAG_compile_unit, no children, with
 *                   DW_AT_producer, _language (DW_LANG_C99: gdb parses
 *                   expressions as C, which is what our kernel's integer and
 *                   pointer arithmetic reads like), _name, _comp_dir ("."),
 *                   _low_pc, _high_pc (a length, DW_FORM_data8), _stmt_list
 *   .debug_info     the unit header (version 4, 8-byte addresses) and its DIE
 *   .debug_line     version-4 header (minimum_instruction_length 1,
 *                   default_is_stmt 1, line_base −5, line_range 14,
 *                   opcode_base 13), no include directories, the files as the
 *                   source map names them (relative to the project root, which
 *                   is the comp_dir "." — run gdb there, or `directory` it),
 *                   then one sequence over [low_pc, high_pc): a row for each
 *                   address the line table has (the last entry at an address
 *                   wins, as in .kmemlab.lines), DW_LNS_advance_pc /
 *                   advance_line / set_file / copy, and DW_LNE_end_sequence.
 *                   Code whose source is unknown gets line 0 (§6.2.2: no
 *                   source line).
 *
 * Only standard opcodes with fixed operands are used, so every consumer
 * reads it; no special opcodes (their compactness is not worth the code).
 */
import type { LineEntry } from './elf_writer.js';

export const DW_TAG_compile_unit = 0x11;
export const DW_CHILDREN_no = 0;
export const DW_AT_name = 0x03;
export const DW_AT_stmt_list = 0x10;
export const DW_AT_low_pc = 0x11;
export const DW_AT_high_pc = 0x12;
export const DW_AT_language = 0x13;
export const DW_AT_comp_dir = 0x1b;
export const DW_AT_producer = 0x25;
export const DW_FORM_addr = 0x01;
export const DW_FORM_data2 = 0x05;
export const DW_FORM_data8 = 0x07;
export const DW_FORM_string = 0x08;
export const DW_FORM_sec_offset = 0x17;
export const DW_LANG_C99 = 0x000c;
export const DW_LNS_copy = 0x01;
export const DW_LNS_advance_pc = 0x02;
export const DW_LNS_advance_line = 0x03;
export const DW_LNS_set_file = 0x04;
export const DW_LNE_end_sequence = 0x01;
export const DW_LNE_set_address = 0x02;
const LINE_BASE = -5;
const LINE_RANGE = 14;
const OPCODE_BASE = 13;
/** Operands of the standard opcodes 1 … 12 (§6.2.5.2). */
const STANDARD_OPCODE_LENGTHS = [0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1];

class Bytes {
  private readonly out: number[] = [];
  u8(v: number): this { this.out.push(v & 0xff); return this; }
  u16(v: number): this { return this.u8(v).u8(v >>> 8); }
  u32(v: number): this { return this.u16(v & 0xffff).u16(v >>> 16); }
  u64(v: bigint): this { return this.u32(Number(v & 0xffff_ffffn)).u32(Number((v >> 32n) & 0xffff_ffffn)); }
  uleb(v: number | bigint): this {
    let x = BigInt(v);
    do {
      const b = Number(x & 0x7fn);
      x >>= 7n;
      this.u8(x !== 0n ? b | 0x80 : b);
    } while (x !== 0n);
    return this;
  }
  sleb(v: number): this {
    let x = BigInt(v);
    for (;;) {
      const b = Number(x & 0x7fn);
      x >>= 7n;
      const done = (x === 0n && (b & 0x40) === 0) || (x === -1n && (b & 0x40) !== 0);
      this.u8(done ? b : b | 0x80);
      if (done) return this;
    }
  }
  str(s: string): this {
    for (const b of Buffer.from(s, 'utf8')) this.u8(b);
    return this.u8(0);
  }
  bytes(b: Uint8Array | number[]): this { for (const x of b) this.u8(x); return this; }
  get length(): number { return this.out.length; }
  done(): Uint8Array { return Uint8Array.from(this.out); }
}

export interface DwarfLineInput {
  /** The line table, sorted by address. */
  lines: readonly LineEntry[];
  /** The code the unit covers: [low, high). */
  low: bigint;
  high: bigint;
  /** DW_AT_name of the unit (the entry file), DW_AT_producer. */
  name: string;
  producer: string;
}

export interface DwarfSections {
  debugAbbrev: Uint8Array;
  debugInfo: Uint8Array;
  debugLine: Uint8Array;
}

/** The three sections for one compilation unit over [low, high). */
export function dwarfLineSections(input: DwarfLineInput): DwarfSections {
  const abbrev = new Bytes()
    .uleb(1).uleb(DW_TAG_compile_unit).u8(DW_CHILDREN_no)
    .uleb(DW_AT_producer).uleb(DW_FORM_string)
    .uleb(DW_AT_language).uleb(DW_FORM_data2)
    .uleb(DW_AT_name).uleb(DW_FORM_string)
    .uleb(DW_AT_comp_dir).uleb(DW_FORM_string)
    .uleb(DW_AT_low_pc).uleb(DW_FORM_addr)
    .uleb(DW_AT_high_pc).uleb(DW_FORM_data8)
    .uleb(DW_AT_stmt_list).uleb(DW_FORM_sec_offset)
    .uleb(0).uleb(0)
    .uleb(0);

  const die = new Bytes()
    .uleb(1).str(input.producer).u16(DW_LANG_C99).str(input.name).str('.')
    .u64(input.low).u64(input.high - input.low).u32(0);
  const info = new Bytes().u32(2 + 4 + 1 + die.length).u16(4).u32(0).u8(8).bytes(die.done());

  // Rows: the last entry at each address in [low, high).
  const rows: { addr: bigint; file: number; line: number }[] = [];
  const files = new Map<string, number>();
  for (const e of input.lines) {
    if (e.addr < input.low || e.addr >= input.high) continue;
    let file = 0;
    if (e.source !== undefined && e.line !== undefined) {
      file = files.get(e.source) ?? 0;
      if (file === 0) files.set(e.source, (file = files.size + 1));
    }
    const row = { addr: e.addr, file, line: file === 0 ? 0 : e.line! };
    if (rows.length && rows[rows.length - 1]!.addr === e.addr) rows[rows.length - 1] = row;
    else rows.push(row);
  }

  const header = new Bytes()
    .u8(1).u8(1).u8(1).u8(LINE_BASE).u8(LINE_RANGE).u8(OPCODE_BASE).bytes(STANDARD_OPCODE_LENGTHS)
    .u8(0); // no include_directories
  for (const name of files.keys()) header.str(name).uleb(0).uleb(0).uleb(0);
  header.u8(0);

  const prog = new Bytes();
  prog.u8(0).uleb(9).u8(DW_LNE_set_address).u64(input.low);
  let addr = input.low;
  let file = 1;
  let line = 1;
  for (const r of rows) {
    // Line 0 rows keep the file they follow (a file change means nothing there).
    if (r.file !== 0 && r.file !== file) {
      prog.u8(DW_LNS_set_file).uleb(r.file);
      file = r.file;
    }
    if (r.addr !== addr) {
      prog.u8(DW_LNS_advance_pc).uleb(r.addr - addr);
      addr = r.addr;
    }
    if (r.line !== line) {
      prog.u8(DW_LNS_advance_line).sleb(r.line - line);
      line = r.line;
    }
    prog.u8(DW_LNS_copy);
  }
  if (input.high !== addr) prog.u8(DW_LNS_advance_pc).uleb(input.high - addr);
  prog.u8(0).uleb(1).u8(DW_LNE_end_sequence);

  const hdr = header.done();
  const body = prog.done();
  const unit = new Bytes().u32(2 + 4 + hdr.length + body.length).u16(4).u32(hdr.length).bytes(hdr).bytes(body);
  return { debugAbbrev: abbrev.done(), debugInfo: info.done(), debugLine: unit.done() };
}
