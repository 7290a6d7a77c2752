/**
 * RV64IMAC + Zicsr + Zifencei + privileged disassembler, driven by the
 * instruction table of emulator/cpu/riscv/isa.ts.
 *
 * Output follows GNU objdump 2.40 exactly, so that our listings can be diffed
 * against `riscv64-unknown-elf-objdump -d -M no-aliases` (the default mode
 * here) or plain `objdump -d` (`{ aliases: true }`, see disasm-alias.ts):
 *  - "mnemonic<TAB>operands", operands separated by ',' without spaces;
 *  - registers by ABI name, CSRs by name when binutils knows one (csr-names.ts);
 *  - I/S immediates and load/store offsets in decimal, lui/auipc/c.lui
 *    immediates and shift amounts in hex, branch/jump targets as absolute
 *    addresses "0x…" (or ".+off" when no pc is given);
 *  - objdump's address hints: after `lui`/`auipc`/`c.lui rd`, the next
 *    addi/addiw/jalr/load/store based on rd gets " # 0x<address>", and
 *    loads/stores based on zero or tp always do. Disassembler keeps that state
 *    across calls the way objdump does (a hint is consumed once, never
 *    invalidated by other writes to rd);
 *  - encodings that are not legal on this machine print as `.2byte 0x…` /
 *    `.4byte 0x…`, as objdump 2.40 prints unknown encodings. So do a few legal
 *    but non-canonical ones that objdump refuses (FENCE with fm/rs1/rd ≠ 0
 *    other than FENCE.TSO, FENCE.I with imm/rs1/rd ≠ 0), even though the CPU
 *    executes them as FENCE / FENCE.I (unpriv 2.7, 3.1).
 */
import {
  Op, compressedSpec, insnSpec, type CInsnSpec, type InsnSpec,
  rd, rs1, rs2, immI, immS, immB, immJ, shamt6, shamt5, csrOf, zimm, aqOf, rlOf, fenceFm, fencePred, fenceSucc,
  cRd, cRs2, cRdPrime, cRs1Prime, cRs2Prime, cImmCI, cShamt, cImmLui, cImmAddi16sp, cImmAddi4spn, cImmLw, cImmLd,
  cImmLwsp, cImmLdsp, cImmSwsp, cImmSdsp, cImmJ, cImmB,
} from '../emulator/cpu/riscv/isa.js';
import { csrName } from './csr-names.js';
import { REG_ABI_NAMES, X_GP, X_TP } from './regs.js';
import { aliasText } from './disasm-alias.js';

export interface DisasmOptions {
  /** Print pseudo-instructions as plain `objdump -d` does (default false: `-M no-aliases`). */
  readonly aliases?: boolean;
  /** Value of gp, if known: gp-relative accesses then get an address hint (objdump does this with __global_pointer$). */
  readonly gp?: bigint;
}

export interface Disassembly {
  /** "mnemonic\toperands[ # 0xaddr]" */
  readonly text: string;
  readonly length: 2 | 4;
}

/** FENCE.TSO: fm = 1000, pred = succ = RW, rs1 = rd = 0 (unpriv 2.7). */
const FENCE_TSO = 0x8330000f;
/** The canonical FENCE.I: imm = rs1 = rd = 0. */
const FENCE_I = 0x0000100f;
/** `unimp` = csrrw zero, cycle, zero: binutils prints it as `unimp` even with no-aliases. */
const UNIMP_32 = 0xc0001073;
/** FENCE predecessor/successor sets as objdump names them (index = PI PO PR PW). */
const PRED_SUCC = ['unknown', 'w', 'r', 'rw', 'o', 'ow', 'or', 'orw', 'i', 'iw', 'ir', 'irw', 'io', 'iow', 'ior', 'iorw'];

const reg = (n: number): string => REG_ABI_NAMES[n];
const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;
const U64 = (1n << 64n) - 1n;

/** objdump's print_address_func for a raw binary: 0x + 64-bit hex. */
export function formatAddress(a: bigint): string {
  return `0x${(a & U64).toString(16)}`;
}

/** A decoded instruction, handed to the alias printer. */
export interface DecodedInsn {
  readonly insn: number;
  readonly length: 2 | 4;
  readonly spec: InsnSpec | CInsnSpec;
  readonly pc: bigint | undefined;
}

/**
 * Stateful disassembler: keeps objdump's per-register address hints
 * (riscv-dis.c `hi_addr`) between calls, so a listing of consecutive
 * instructions matches objdump line for line.
 */
export class Disassembler {
  private readonly hiAddr: (bigint | undefined)[] = new Array<bigint | undefined>(32).fill(undefined);
  private printAddr: bigint | undefined;

  constructor(private readonly opts: DisasmOptions = {}) {}

  /** Forget the address hints (objdump starts each section afresh). */
  reset(): void {
    this.hiAddr.fill(undefined);
  }

  /** Disassemble one instruction (raw 16- or 32-bit value) at pc. */
  disassemble(insn: number, pc?: bigint): Disassembly {
    insn >>>= 0;
    this.printAddr = undefined;
    let text: string;
    let length: 2 | 4;
    if ((insn & 3) !== 3) {
      length = 2;
      insn &= 0xffff;
      text = this.compressed(insn, pc);
    } else {
      length = 4;
      text = this.full(insn, pc);
    }
    if (this.printAddr !== undefined) text += ` # ${formatAddress(this.printAddr)}`;
    return { text, length };
  }

  // --- objdump's address hints (riscv-dis.c maybe_print_address) -------------------------

  private setHi(r: number, value: bigint | undefined): void {
    this.hiAddr[r] = value === undefined ? undefined : value & U64;
  }

  private maybePrintAddress(base: number, offset: number, wide: boolean): void {
    let addr: bigint;
    const hi = this.hiAddr[base];
    if (hi !== undefined) {
      addr = (base !== 0 ? hi : 0n) + BigInt(offset);
      this.hiAddr[base] = undefined;
    } else if (base === X_GP && this.opts.gp !== undefined) {
      addr = this.opts.gp + BigInt(offset);
    } else if (base === X_TP || base === 0) {
      addr = BigInt(offset);
    } else {
      return;
    }
    if (wide) addr = BigInt.asIntN(32, addr);
    this.printAddr = addr & U64;
  }

  private target(pc: bigint | undefined, off: number): string {
    if (pc === undefined) return off < 0 ? `.${off}` : `.+${off}`;
    return formatAddress(pc + BigInt(off));
  }

  // --- 32-bit ---------------------------------------------------------------------------

  private full(insn: number, pc: bigint | undefined): string {
    const spec = insnSpec(insn);
    if (spec === undefined || !objdumpAccepts(spec, insn)) return `.4byte\t${hex(insn)}`;
    if (insn === UNIMP_32) return 'unimp';
    if (this.opts.aliases) {
      const alias = aliasText({ insn, length: 4, spec, pc }, this.operandHelpers(pc));
      if (alias !== undefined) return alias;
    }
    const name = spec.name;
    const d = rd(insn), s1 = rs1(insn), s2 = rs2(insn);
    switch (spec.format) {
      case 'U':
        if (spec.op === Op.AUIPC) this.setHi(d, pc === undefined ? undefined : pc + BigInt(insn & ~0xfff));
        else this.setHi(d, BigInt(insn & ~0xfff));
        return `${name}\t${reg(d)},${hex(insn >>> 12)}`;
      case 'J':
        return `${name}\t${reg(d)},${this.target(pc, immJ(insn))}`;
      case 'I-jalr':
        // objdump's 'o' then 'j' operand handlers both try the hint (the second is a no-op after the first).
        this.maybePrintAddress(s1, immI(insn), false);
        this.maybePrintAddress(s1, immI(insn), false);
        return `${name}\t${reg(d)},${immI(insn)}(${reg(s1)})`;
      case 'B':
        return `${name}\t${reg(s1)},${reg(s2)},${this.target(pc, immB(insn))}`;
      case 'I-load':
        this.maybePrintAddress(s1, immI(insn), false);
        return `${name}\t${reg(d)},${immI(insn)}(${reg(s1)})`;
      case 'S':
        this.maybePrintAddress(s1, immS(insn), false);
        return `${name}\t${reg(s2)},${immS(insn)}(${reg(s1)})`;
      case 'I':
        if (spec.op === Op.ADDI && s1 !== 0) this.maybePrintAddress(s1, immI(insn), false);
        if (spec.op === Op.ADDIW && s1 !== 0) this.maybePrintAddress(s1, immI(insn), true);
        return `${name}\t${reg(d)},${reg(s1)},${immI(insn)}`;
      case 'shift64':
        return `${name}\t${reg(d)},${reg(s1)},${hex(shamt6(insn))}`;
      case 'shift32':
        return `${name}\t${reg(d)},${reg(s1)},${hex(shamt5(insn))}`;
      case 'R':
        return `${name}\t${reg(d)},${reg(s1)},${reg(s2)}`;
      case 'fence':
        if (insn === FENCE_TSO) return 'fence.tso';
        return `${name}\t${PRED_SUCC[fencePred(insn)]},${PRED_SUCC[fenceSucc(insn)]}`;
      case 'none':
        return name;
      case 'sfence':
        return `${name}\t${reg(s1)},${reg(s2)}`;
      case 'csr':
        return `${name}\t${reg(d)},${csrText(csrOf(insn))},${reg(s1)}`;
      case 'csr-imm':
        return `${name}\t${reg(d)},${csrText(csrOf(insn))},${zimm(insn)}`;
      case 'amo':
        return `${name}${orderingSuffix(insn)}\t${reg(d)},${reg(s2)},(${reg(s1)})`;
      case 'lr':
        return `${name}${orderingSuffix(insn)}\t${reg(d)},(${reg(s1)})`;
      default:
        throw new Error(`disasm: format ${spec.format} is not a 32-bit format`);
    }
  }

  // --- 16-bit ---------------------------------------------------------------------------

  private compressed(p: number, pc: bigint | undefined): string {
    if (p === 0) return this.opts.aliases ? 'unimp' : 'c.unimp';
    const spec = compressedSpec(p);
    if (spec === undefined) return `.2byte\t${hex(p)}`;
    if (this.opts.aliases) {
      const alias = aliasText({ insn: p, length: 2, spec, pc }, this.operandHelpers(pc));
      if (alias !== undefined) return alias;
    }
    const name = spec.name;
    switch (spec.format) {
      case 'CIW':
        return `${name}\t${reg(cRdPrime(p))},sp,${cImmAddi4spn(p)}`;
      case 'CL-w':
        return `${name}\t${reg(cRdPrime(p))},${cImmLw(p)}(${reg(cRs1Prime(p))})`;
      case 'CL-d':
        return `${name}\t${reg(cRdPrime(p))},${cImmLd(p)}(${reg(cRs1Prime(p))})`;
      case 'CS-w':
        return `${name}\t${reg(cRs2Prime(p))},${cImmLw(p)}(${reg(cRs1Prime(p))})`;
      case 'CS-d':
        return `${name}\t${reg(cRs2Prime(p))},${cImmLd(p)}(${reg(cRs1Prime(p))})`;
      case 'CI':
        this.compressedHint(p, spec);
        return `${name}\t${reg(cRd(p))},${cImmCI(p)}`;
      case 'CI-sp':
        return `${name}\tsp,${cImmAddi16sp(p)}`;
      case 'CI-lui':
        this.setHi(cRd(p), BigInt(cImmLui(p)));
        return `${name}\t${reg(cRd(p))},${hex(cImmCI(p) & 0xfffff)}`;
      case 'CI-shift':
        return `${name}\t${reg(cRd(p))},${hex(cShamt(p))}`;
      case 'CI-rd':
        return `${name}\t${reg(cRd(p))}`;
      case 'CB-shift':
        return `${name}\t${reg(cRs1Prime(p))},${hex(cShamt(p))}`;
      case 'CB-rd':
        return `${name}\t${reg(cRs1Prime(p))}`;
      case 'CB-imm':
        return `${name}\t${reg(cRs1Prime(p))},${cImmCI(p)}`;
      case 'CA':
        return `${name}\t${reg(cRs1Prime(p))},${reg(cRs2Prime(p))}`;
      case 'CJ':
        return `${name}\t${this.target(pc, cImmJ(p))}`;
      case 'CB':
        return `${name}\t${reg(cRs1Prime(p))},${this.target(pc, cImmB(p))}`;
      case 'CI-lwsp':
        return `${name}\t${reg(cRd(p))},${cImmLwsp(p)}(sp)`;
      case 'CI-ldsp':
        return `${name}\t${reg(cRd(p))},${cImmLdsp(p)}(sp)`;
      case 'CSS-w':
        return `${name}\t${reg(cRs2(p))},${cImmSwsp(p)}(sp)`;
      case 'CSS-d':
        return `${name}\t${reg(cRs2(p))},${cImmSdsp(p)}(sp)`;
      case 'CR-rs1':
        return `${name}\t${reg(cRd(p))}`;
      case 'CR':
        return `${name}\t${reg(cRd(p))},${reg(cRs2(p))}`;
      case 'C-none':
        return name;
      default:
        throw new Error(`disasm: format ${spec.format} is not a compressed format`);
    }
  }

  /** c.addi / c.addiw with rd ≠ 0 consume an address hint (riscv-dis.c, operand 'Co'/'Cj'). */
  private compressedHint(p: number, spec: CInsnSpec | InsnSpec): void {
    const d = cRd(p);
    if (d === 0) return;
    if (spec.name === 'c.addi') this.maybePrintAddress(d, cImmCI(p), false);
    else if (spec.name === 'c.addiw') this.maybePrintAddress(d, cImmCI(p), true);
  }

  /** The pieces the alias printer needs, bound to this disassembler's state. */
  private operandHelpers(pc: bigint | undefined): AliasHelpers {
    return {
      target: (off) => this.target(pc, off),
      hint: (base, off, wide) => this.maybePrintAddress(base, off, wide),
      setHi: (r, v) => this.setHi(r, v),
      csr: csrText,
    };
  }
}

/** What disasm-alias.ts may call back into. */
export interface AliasHelpers {
  /** Format a branch/jump target at pc + off. */
  target(off: number): string;
  /** objdump's maybe_print_address. */
  hint(base: number, off: number, wide: boolean): void;
  /** Record an address hint for rd (lui/auipc/c.lui). */
  setHi(r: number, v: bigint | undefined): void;
  /** A CSR operand. */
  csr(num: number): string;
}

/** CSR operand: its name when binutils has one, else 0x%x. */
export function csrText(num: number): string {
  return csrName(num) ?? hex(num);
}

/** .aq / .rl / .aqrl from bits 26/25 (unpriv 8.2). */
export function orderingSuffix(insn: number): string {
  return ['', '.rl', '.aq', '.aqrl'][(aqOf(insn) << 1) | rlOf(insn)];
}

/**
 * Whether objdump prints this legal encoding as an instruction: it refuses
 * FENCE with fm/rs1/rd ≠ 0 (except FENCE.TSO) and FENCE.I with any of
 * imm/rs1/rd ≠ 0, which the spec says to execute as plain FENCE / FENCE.I.
 */
function objdumpAccepts(spec: InsnSpec, insn: number): boolean {
  if (spec.op === Op.FENCE) return insn === FENCE_TSO || (fenceFm(insn) === 0 && rs1(insn) === 0 && rd(insn) === 0);
  if (spec.op === Op.FENCE_I) return insn === FENCE_I;
  return true;
}

/** Disassemble one instruction (stateless: no address hints carried from earlier instructions). */
export function disassemble(insn: number, pc?: bigint, opts?: DisasmOptions): Disassembly {
  return new Disassembler(opts).disassemble(insn, pc);
}

export interface DisasmLine {
  readonly address: bigint;
  /** The raw instruction (16- or 32-bit), or the bytes' value for trailing data. */
  readonly insn: number;
  readonly length: number;
  readonly text: string;
}

/**
 * Disassemble a buffer of little-endian code starting at `base`, the way
 * objdump walks a section: instruction lengths from the low bits of each
 * parcel (unpriv 1.5), address hints carried from line to line. Encodings
 * longer than 32 bits (low bits 11111) are printed as objdump does (`.byte` /
 * `.8byte`), and a trailing fragment too short for its instruction as `.byte`.
 */
export function disassembleBuffer(bytes: Uint8Array, base: bigint | number = 0x8000_0000n, opts?: DisasmOptions): DisasmLine[] {
  const d = new Disassembler(opts);
  const lines: DisasmLine[] = [];
  let off = 0;
  const start = BigInt(base);
  while (off < bytes.length) {
    const address = start + BigInt(off);
    const avail = bytes.length - off;
    if (avail < 2) {
      lines.push({ address, insn: bytes[off], length: 1, text: `.byte\t${hex(bytes[off])}` });
      break;
    }
    const lo = bytes[off] | (bytes[off + 1] << 8);
    const len = objdumpInsnLength(lo);
    if (len > avail) {
      lines.push({ address, insn: 0, length: avail, text: byteList(bytes.subarray(off)) });
      break;
    }
    if (len === 2 && (lo & 3) === 3) {
      // The reserved ≥192-bit prefix: objdump shows the one parcel.
      lines.push({ address, insn: lo, length: 2, text: `.2byte\t${hex(lo)}` });
    } else if (len === 2 || len === 4) {
      const insn = len === 2 ? lo : (lo | (bytes[off + 2] << 16) | (bytes[off + 3] << 24)) >>> 0;
      lines.push({ address, insn, length: len, text: d.disassemble(insn, address).text });
    } else if (len === 8) {
      let v = 0n;
      for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(bytes[off + i]);
      lines.push({ address, insn: lo, length: 8, text: `.8byte\t0x${v.toString(16)}` });
    } else {
      lines.push({ address, insn: lo, length: len, text: byteList(bytes.subarray(off, off + len)) });
    }
    off += len;
  }
  return lines;
}

function byteList(b: Uint8Array): string {
  return `.byte\t${Array.from(b, (x) => `0x${x.toString(16).padStart(2, '0')}`).join(', ')}`;
}

/** binutils riscv_insn_length (unpriv 1.5): 2, 4, 6, 8, 10…22, and 2 for the reserved ≥192-bit prefix. */
export function objdumpInsnLength(parcel: number): number {
  if ((parcel & 3) !== 3) return 2;
  if ((parcel & 0x1f) !== 0x1f) return 4;
  if ((parcel & 0x3f) === 0x1f) return 6;
  if ((parcel & 0x7f) === 0x3f) return 8;
  if ((parcel & 0x7000) !== 0x7000) return 10 + ((parcel >>> 11) & 0xe);
  return 2;
}

/**
 * One line of `objdump -D` output for a DisasmLine:
 * "<addr>:\t<hex chunks padded>\t<text>", with the address right-aligned the
 * way objdump does for a section ending at `end`.
 */
export function formatObjdumpLine(line: DisasmLine, bytes: Uint8Array, base: bigint, end: bigint): string {
  const width = objdumpAddressWidth(end);
  const addr = line.address.toString(16).padStart(width, ' ');
  const off = Number(line.address - base);
  const chunk = line.length % 4 === 0 ? 4 : 2;
  let raw = '';
  let shown = 0;
  for (; shown < line.length && shown < 8; shown += chunk) {
    let h = '';
    for (let i = Math.min(chunk, line.length - shown) - 1; i >= 0; i--) h += bytes[off + shown + i].toString(16).padStart(2, '0');
    raw += `${h} `;
  }
  for (; shown < 8; shown += chunk) raw += `${' '.repeat(2 * chunk)} `;
  return `${addr}:\t${raw}\t${line.text}`;
}

/** objdump drops leading zeros of addresses in groups of 4, keeping at least one (objdump.c skip_addr_chars). */
function objdumpAddressWidth(end: bigint): number {
  const full = (end & U64).toString(16).padStart(16, '0');
  let skip = 0;
  while (skip < full.length && full[skip] === '0') skip++;
  if (skip !== 0) skip = (skip - 1) & ~3;
  return 16 - skip;
}

/** A whole `objdump -D`-style listing of a buffer (instruction lines only, no headers). */
export function objdumpListing(bytes: Uint8Array, base: bigint | number = 0x8000_0000n, opts?: DisasmOptions): string[] {
  const start = BigInt(base);
  const end = start + BigInt(bytes.length);
  return disassembleBuffer(bytes, start, opts).map((l) => formatObjdumpLine(l, bytes, start, end));
}
