/**
 * RV64IMAC + Zicsr + Zifencei + privileged assembler with GNU as syntax,
 * producing one flat little-endian image (no sections, no relocations: every
 * symbol is resolved in place, so %hi/%lo/%pcrel_hi/%pcrel_lo are computed
 * here rather than by a linker).
 *
 *   source ──split──▶ statements ──layout passes──▶ addresses ──final pass──▶ bytes
 *
 * Sizes can depend on symbol values (li of a symbol difference, .align, .org,
 * compressed branches), so the layout is repeated until every label keeps its
 * address; then a strict pass emits the bytes and reports every error
 * (undefined symbols, out-of-range immediates) with the line it comes from.
 * If sizes keep changing, later passes only let statements grow, and a
 * statement emitted shorter than its slot is padded with nops.
 *
 * Syntax: one statement per line or several separated by ';'; comments start
 * with '#' or are C-style block comments; labels `name:` and numeric local
 * labels `1:` referenced as `1b` / `1f`; `name = expr`. Directives: see
 * Pass.directive below. Alignment padding is nops (0x00000013, or c.nop when
 * compressing) in .text and zero bytes in any other section, as GNU as does;
 * an explicit fill value always wins.
 */
import { ExprError, evalExpr, parseEscape, parseExpr, type Expr, type ExprEnv } from './asm-expr.js';
import { compress, encodeInstruction, knownMnemonic, type InsnContext } from './asm-insn.js';

export interface AsmOptions {
  /** Address of the first byte (default 0x8000_0000). */
  readonly base?: bigint | number;
  /** Compress eligible instructions to RVC forms, as GNU as does with C enabled (default false). */
  readonly compress?: boolean;
}

export interface AsmResult {
  /** The image, from `base` to the last byte emitted. */
  readonly bytes: Uint8Array;
  /** Every named label and .equ/.set symbol (numeric local labels excluded). */
  readonly symbols: Map<string, bigint>;
  /**
   * `.mark N` records, in source order: the address of the next byte and N.
   * The code generator marks each wasm instruction's code with its byte
   * offset, from which the linker builds the pc → wasm offset → line table.
   */
  readonly marks: { addr: bigint; value: number }[];
}

/** An assembly error: which line, its text, and what is wrong. */
export class AsmError extends Error {
  constructor(readonly line: number, readonly text: string, readonly reason: string) {
    super(`line ${line}: ${reason}\n    ${line} | ${text.trim()}`);
    this.name = 'AsmError';
  }
}

// --- splitting the source --------------------------------------------------------------------

interface Stmt {
  readonly line: number;
  readonly text: string;
  readonly labels: readonly string[];
  readonly localLabels: readonly number[];
  /** Lower-cased mnemonic or directive, undefined for a label-only line. */
  readonly op?: string;
  readonly args: readonly string[];
  readonly assign?: { readonly name: string; readonly expr: string };
}

/** Skip a quoted string or character constant starting at s[i]; returns the index after it. */
function skipQuoted(s: string, i: number): number {
  if (s[i] === '"') {
    let j = i + 1;
    while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
    return Math.min(j + 1, s.length);
  }
  // 'c, 'c' or '\n'
  let j = i + 1;
  if (s[j] === '\\') j++;
  j++;
  if (s[j] === "'") j++;
  return Math.min(j, s.length);
}

/** Replace C-style block comments by spaces, keeping line breaks (GNU as allows them anywhere). */
function stripBlockComments(src: string): string {
  let out = '';
  let i = 0;
  while (i < src.length) {
    if (src[i] === '"' || src[i] === "'") {
      const j = skipQuoted(src, i);
      out += src.slice(i, j);
      i = j;
    } else if (src.startsWith('/*', i)) {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? src.length : end + 2;
      out += src.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else {
      out += src[i++];
    }
  }
  return out;
}

/** Split at `sep` outside quotes and parentheses; a '#' outside quotes ends the text. */
function splitTop(s: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === '"' || c === "'") { i = skipQuoted(s, i); continue; }
    if (c === '#') break;
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === sep && depth <= 0) { parts.push(s.slice(start, i)); start = i + 1; }
    i++;
  }
  parts.push(s.slice(start, i));
  return parts;
}

const LABEL = /^\s*([A-Za-z_.$][\w.$]*|[0-9]+)\s*:(?!=)/;
const ASSIGN = /^\s*([A-Za-z_.$][\w.$]*)\s*=(?!=)\s*(.*)$/;

function parseSource(source: string): Stmt[] {
  const stmts: Stmt[] = [];
  const originals = source.split(/\r?\n/);
  const lines = stripBlockComments(source).split(/\r?\n/);
  lines.forEach((rawLine, idx) => {
    const line = idx + 1;
    const original = originals[idx] ?? rawLine;
    for (let piece of splitTop(rawLine, ';')) {
      const labels: string[] = [];
      const localLabels: number[] = [];
      let m: RegExpExecArray | null;
      while ((m = LABEL.exec(piece))) {
        if (/^[0-9]+$/.test(m[1])) localLabels.push(Number(m[1]));
        else labels.push(m[1]);
        piece = piece.slice(m[0].length);
      }
      const body = piece.trim();
      if (body === '') {
        if (labels.length || localLabels.length) stmts.push({ line, text: original, labels, localLabels, args: [] });
        continue;
      }
      const a = ASSIGN.exec(body);
      if (a) {
        stmts.push({ line, text: original, labels, localLabels, args: [], assign: { name: a[1], expr: a[2] } });
        continue;
      }
      const sp = /^(\S+)\s*(.*)$/.exec(body)!;
      const rest = sp[2].trim();
      const args = rest === '' ? [] : splitTop(rest, ',').map((x) => x.trim());
      stmts.push({ line, text: original, labels, localLabels, op: sp[1].toLowerCase(), args });
    }
  });
  return stmts;
}

// --- passes --------------------------------------------------------------------------------

/** Results of one layout pass, read by the next one for forward references. */
interface PassResult {
  readonly symbols: Map<string, bigint>;
  /** Numeric label → [statement index, address] in source order. */
  readonly locals: Map<number, [number, bigint][]>;
  readonly pcrelHi: Map<bigint, bigint>;
  readonly sizes: number[];
  readonly bytes: Uint8Array;
  readonly marks: { addr: bigint; value: number }[];
}

const NOP = 0x00000013;
const C_NOP = 0x0001;
/** Passes before sizes are only allowed to grow. */
const FREE_PASSES = 8;
const MAX_PASSES = 40;

class ImageBuilder {
  private buf = new Uint8Array(4096);
  length = 0;

  ensure(n: number): void {
    if (n <= this.buf.length) return;
    let cap = this.buf.length;
    while (cap < n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.length));
    this.buf = b;
  }

  /** Write `n` little-endian bytes of v at offset off. */
  put(off: number, v: bigint, n: number): void {
    this.ensure(off + n);
    for (let i = 0; i < n; i++) this.buf[off + i] = Number((v >> BigInt(8 * i)) & 0xffn);
    this.length = Math.max(this.length, off + n);
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

class Pass {
  readonly symbols = new Map<string, bigint>();
  readonly locals = new Map<number, [number, bigint][]>();
  readonly pcrelHi = new Map<bigint, bigint>();
  readonly sizes: number[] = [];
  readonly marks: { addr: bigint; value: number }[] = [];
  readonly image = new ImageBuilder();
  private readonly exprCache: Map<string, Expr>;
  /** Offset of the next byte from base. */
  private off = 0;
  private code = true;
  private compressing: boolean;
  private readonly optionStack: boolean[] = [];
  private index = 0;

  constructor(
    private readonly stmts: readonly Stmt[],
    private readonly base: bigint,
    private readonly prev: PassResult | undefined,
    private readonly strict: boolean,
    private readonly monotonic: boolean,
    compressOption: boolean,
    exprCache: Map<string, Expr>,
  ) {
    this.compressing = compressOption;
    this.exprCache = exprCache;
  }

  run(): PassResult {
    for (this.index = 0; this.index < this.stmts.length; this.index++) {
      const s = this.stmts[this.index];
      try {
        this.statement(s);
      } catch (e) {
        if (e instanceof AsmError) throw e;
        if (e instanceof ExprError) throw new AsmError(s.line, s.text, e.message);
        throw e;
      }
    }
    return {
      symbols: this.symbols, locals: this.locals, pcrelHi: this.pcrelHi, sizes: this.sizes, bytes: this.image.bytes(),
      marks: this.marks,
    };
  }

  private get dot(): bigint {
    return this.base + BigInt(this.off);
  }

  private define(name: string, v: bigint): void {
    this.symbols.set(name, v);
  }

  private statement(s: Stmt): void {
    for (const l of s.labels) {
      if (this.symbols.has(l)) throw new AsmError(s.line, s.text, `label '${l}' defined twice`);
      this.define(l, this.dot);
    }
    for (const n of s.localLabels) {
      const list = this.locals.get(n) ?? [];
      list.push([this.index, this.dot]);
      this.locals.set(n, list);
    }
    const start = this.off;
    if (s.assign) {
      const v = this.evaluate(s.assign.expr);
      this.define(s.assign.name, v ?? 0n);
    } else if (s.op !== undefined) {
      if (s.op.startsWith('.')) this.directive(s.op, s.args);
      else this.instruction(s.op, s.args);
    }
    this.sizes[this.index] = this.off - start;
  }

  // --- expressions ---

  private env(at: bigint): ExprEnv {
    const { prev, index } = this;
    return {
      strict: this.strict,
      dot: at,
      symbol: (name) => this.symbols.get(name) ?? prev?.symbols.get(name),
      local: (label, dir) => {
        if (dir === 'b') {
          const list = this.locals.get(label) ?? [];
          for (let i = list.length - 1; i >= 0; i--) if (list[i][0] <= index) return list[i][1];
          return undefined;
        }
        return prev?.locals.get(label)?.find(([i]) => i > index)?.[1];
      },
      pcrelHiTarget: (a) => this.pcrelHi.get(a) ?? prev?.pcrelHi.get(a),
      notePcrelHi: (target) => this.pcrelHi.set(at, target),
    };
  }

  evaluate(src: string, at: bigint = this.dot): bigint | undefined {
    let e = this.exprCache.get(src);
    if (e === undefined) {
      e = parseExpr(src);
      this.exprCache.set(src, e);
    }
    return evalExpr(e, this.env(at));
  }

  /** A value that must be known in this pass already (sizes depend on it). */
  private constant(src: string, what: string): bigint {
    const v = this.evaluate(src);
    if (v === undefined) {
      if (this.strict) throw new ExprError(`${what} must be a constant`);
      return 0n;
    }
    return v;
  }

  // --- instructions ---

  private instruction(op: string, args: readonly string[]): void {
    if (!knownMnemonic(op)) throw new ExprError(`unknown instruction '${op}'`);
    const pc = this.dot;
    const ctx: InsnContext = {
      final: this.strict,
      pc,
      evaluate: (src, at) => this.evaluate(src, at ?? pc),
      recordPcrelHi: (a, t) => this.pcrelHi.set(a, t),
    };
    // pc-relative parts of a multi-instruction sequence are all relative to its first parcel (the auipc).
    const parcels = encodeInstruction(op, args, ctx).map((p) => (this.compressing ? compress(p) : p));
    let size = parcels.reduce((n, p) => n + p.length, 0);
    const slot = this.monotonic ? Math.max(size, this.prev?.sizes[this.index] ?? 0) : size;
    for (const p of parcels) {
      this.image.put(this.off, BigInt(p.bits >>> 0), p.length);
      this.off += p.length;
    }
    // A statement that shrank after sizes were frozen keeps its slot, padded with nops.
    while (size < slot) {
      const n = slot - size >= 4 ? 4 : 2;
      this.image.put(this.off, BigInt(n === 4 ? NOP : C_NOP), n);
      this.off += n;
      size += n;
    }
  }

  // --- directives ---

  private emitValues(args: readonly string[], n: number, lo: bigint, hi: bigint): void {
    if (args.length === 0) throw new ExprError('missing value');
    for (const a of args) {
      const v = this.evaluate(a) ?? 0n;
      if (this.strict && (v < lo || v > hi)) throw new ExprError(`value ${v} does not fit in ${n} byte${n > 1 ? 's' : ''}`);
      this.image.put(this.off, BigInt.asUintN(8 * n, v), n);
      this.off += n;
    }
  }

  private emitStrings(args: readonly string[], nul: boolean): void {
    if (args.length === 0) throw new ExprError('missing string');
    for (const a of args) {
      const b = parseString(a);
      if (nul) b.push(0);
      for (const x of b) this.image.put(this.off++, BigInt(x), 1);
    }
  }

  private fill(count: number, value: bigint | undefined): void {
    if (value !== undefined || !this.code) {
      for (let i = 0; i < count; i++) this.image.put(this.off++, BigInt.asUintN(8, value ?? 0n), 1);
      return;
    }
    // Code: zero bytes up to instruction alignment, then nops (c.nop on a 2-byte boundary when compressing).
    while (count > 0 && (this.off & 1) !== 0) { this.image.put(this.off++, 0n, 1); count--; }
    while (count >= 2 && (this.off & 3) !== 0) {
      this.image.put(this.off, this.compressing ? BigInt(C_NOP) : 0n, 2);
      this.off += 2; count -= 2;
    }
    while (count >= 4) { this.image.put(this.off, BigInt(NOP), 4); this.off += 4; count -= 4; }
    while (count > 0) { this.image.put(this.off++, 0n, 1); count--; }
  }

  private align(bytes: bigint, fill: string | undefined, max: string | undefined): void {
    if (bytes <= 0n || (bytes & (bytes - 1n)) !== 0n) throw new ExprError(`alignment ${bytes} is not a power of two`);
    const pad = Number((bytes - (this.dot % bytes)) % bytes);
    if (max !== undefined && pad > Number(this.constant(max, 'maximum padding'))) return;
    this.fill(pad, fill === undefined || fill === '' ? undefined : this.constant(fill, 'fill value'));
  }

  private directive(op: string, args: readonly string[]): void {
    const arity = (...n: number[]): void => {
      if (!n.includes(args.length)) throw new ExprError(`${op} takes ${n.join(' or ')} argument(s), got ${args.length}`);
    };
    switch (op) {
      case '.text': this.code = true; return;
      case '.data': case '.rodata': case '.bss': this.code = false; return;
      case '.section': {
        const name = args[0] ?? '';
        this.code = name === '.text' || name.startsWith('.text.') || name.startsWith('.init') || name.startsWith('.fini');
        return;
      }
      case '.option':
        arity(1, 2);
        switch (args[0]) {
          case 'rvc': this.compressing = true; return;
          case 'norvc': this.compressing = false; return;
          case 'push': this.optionStack.push(this.compressing); return;
          case 'pop': this.compressing = this.optionStack.pop() ?? this.compressing; return;
          default: return; // arch, pic, nopic, relax, norelax: nothing to do in a flat image
        }
      case '.byte': return this.emitValues(args, 1, -(1n << 7n), (1n << 8n) - 1n);
      case '.half': case '.short': case '.2byte': return this.emitValues(args, 2, -(1n << 15n), (1n << 16n) - 1n);
      case '.word': case '.long': case '.4byte': return this.emitValues(args, 4, -(1n << 31n), (1n << 32n) - 1n);
      case '.dword': case '.quad': case '.8byte': return this.emitValues(args, 8, -(1n << 63n), (1n << 64n) - 1n);
      case '.ascii': return this.emitStrings(args, false);
      case '.asciz': case '.string': return this.emitStrings(args, true);
      case '.zero': case '.space': case '.skip': {
        arity(1, 2);
        const n = this.constant(args[0], `${op} size`);
        if (n < 0n) throw new ExprError(`${op} size ${n} is negative`);
        const fill = args.length > 1 ? this.constant(args[1], 'fill value') : 0n;
        for (let i = 0n; i < n; i++) this.image.put(this.off++, BigInt.asUintN(8, fill), 1);
        return;
      }
      case '.fill': {
        arity(1, 2, 3);
        const repeat = this.constant(args[0], 'repeat count');
        const size = args.length > 1 ? Number(this.constant(args[1], 'size')) : 1;
        const v = args.length > 2 ? this.constant(args[2], 'value') : 0n;
        if (size < 0 || size > 8) throw new ExprError('.fill size must be 0..8');
        for (let i = 0n; i < repeat; i++) { this.image.put(this.off, BigInt.asUintN(64, v), size); this.off += size; }
        return;
      }
      case '.align': case '.p2align': {
        arity(1, 2, 3);
        const n = this.constant(args[0], 'alignment');
        if (n < 0n || n > 30n) throw new ExprError(`alignment 2^${n} out of range`);
        return this.align(1n << n, args[1], args[2]);
      }
      case '.balign':
        arity(1, 2, 3);
        return this.align(this.constant(args[0], 'alignment'), args[1], args[2]);
      case '.org': {
        arity(1, 2);
        const v = this.constant(args[0], '.org address');
        // A value below the base is an offset into the image, anything else an absolute address.
        const target = v < this.base ? Number(v) : Number(v - this.base);
        if (target < this.off) throw new ExprError(`.org 0x${v.toString(16)} moves backwards (already at 0x${this.dot.toString(16)})`);
        const fill = args.length > 1 ? this.constant(args[1], 'fill value') : 0n;
        while (this.off < target) this.image.put(this.off++, BigInt.asUintN(8, fill), 1);
        return;
      }
      case '.mark': {
        arity(1);
        this.marks.push({ addr: this.dot, value: Number(this.constant(args[0], '.mark value')) });
        return;
      }
      case '.equ': case '.set': {
        arity(2);
        if (!/^[A-Za-z_.$][\w.$]*$/.test(args[0])) throw new ExprError(`bad symbol name '${args[0]}'`);
        this.define(args[0], this.evaluate(args[1]) ?? 0n);
        return;
      }
      default:
        if (IGNORED_DIRECTIVES.has(op) || op.startsWith('.cfi_')) return;
        throw new ExprError(`unknown directive '${op}'`);
    }
  }
}

/** Directives that mean nothing in a flat image without an object file. */
const IGNORED_DIRECTIVES = new Set([
  '.globl', '.global', '.local', '.weak', '.hidden', '.protected', '.type', '.size', '.file', '.ident', '.loc',
  '.attribute', '.end', '.previous', '.pushsection', '.popsection',
]);

/** A "…" string operand with GNU as escapes. */
function parseString(s: string): number[] {
  const t = s.trim();
  if (t.length < 2 || t[0] !== '"' || t[t.length - 1] !== '"') throw new ExprError(`expected a "string", got '${t}'`);
  const out: number[] = [];
  for (let i = 1; i < t.length - 1;) {
    if (t[i] === '\\') {
      const { value, next } = parseEscape(t, i + 1);
      out.push(value);
      i = next;
    } else {
      const cp = t.codePointAt(i)!;
      for (const b of new TextEncoder().encode(String.fromCodePoint(cp))) out.push(b);
      i += cp > 0xffff ? 2 : 1;
    }
  }
  return out;
}

function sameLayout(a: PassResult, b: PassResult): boolean {
  if (a.sizes.length !== b.sizes.length || a.sizes.some((s, i) => s !== b.sizes[i])) return false;
  for (const [k, v] of a.symbols) if (b.symbols.get(k) !== v) return false;
  return true;
}

/** Assemble `source` into a flat image at `opts.base` (default 0x8000_0000). Throws AsmError. */
export function assemble(source: string, opts: AsmOptions = {}): AsmResult {
  const base = BigInt(opts.base ?? 0x8000_0000n);
  const stmts = parseSource(source);
  const exprCache = new Map<string, Expr>();
  let prev: PassResult | undefined;
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const monotonic = pass >= FREE_PASSES;
    const run = (strict: boolean, p: PassResult | undefined): PassResult =>
      new Pass(stmts, base, p, strict, monotonic, opts.compress ?? false, exprCache).run();
    const result = run(false, prev);
    if (prev !== undefined && sameLayout(result, prev)) {
      const final = run(true, result);
      if (sameLayout(final, result)) return { bytes: final.bytes, symbols: final.symbols, marks: final.marks };
      prev = final;
      continue;
    }
    prev = result;
  }
  const last = stmts[stmts.length - 1];
  throw new AsmError(last?.line ?? 0, last?.text ?? '', `layout did not settle after ${MAX_PASSES} passes`);
}
