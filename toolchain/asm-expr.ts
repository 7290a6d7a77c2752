/**
 * Constant expressions of the assembler, with GNU as syntax and precedence
 * (GNU as manual, "Expressions" / "Infix Operators"):
 *
 *   highest  unary  - ~ ! +
 *            * / % << >>
 *            | & ^ !           (GNU as puts the bitwise operators above + -)
 *            + - == != <> < > <= >=
 *   lowest   && ||
 *
 * Operands: decimal, 0x hex, 0b binary, 0-prefixed octal, character constants
 * ('a', 'a or '\n'), symbols, `.` (the current address), numeric local label
 * references (1b, 1f), parentheses, and the RISC-V relocation operators
 * %hi(x), %lo(x), %pcrel_hi(x), %pcrel_lo(label) (psABI "Relocations": the
 * assembler resolves them itself because the image is flat).
 *
 * Values are BigInts; the caller decides how they must fit.
 */

export type RelocFn = 'hi' | 'lo' | 'pcrel_hi' | 'pcrel_lo';

export type Expr =
  | { readonly kind: 'num'; readonly value: bigint }
  | { readonly kind: 'sym'; readonly name: string }
  | { readonly kind: 'dot' }
  | { readonly kind: 'local'; readonly label: number; readonly dir: 'b' | 'f' }
  | { readonly kind: 'unary'; readonly op: string; readonly a: Expr }
  | { readonly kind: 'binary'; readonly op: string; readonly a: Expr; readonly b: Expr }
  | { readonly kind: 'reloc'; readonly fn: RelocFn; readonly a: Expr };

/** A syntax or evaluation error; the assembler adds the line number and text. */
export class ExprError extends Error {}

/** What an expression can refer to. Lookups return undefined while a value is not known yet. */
export interface ExprEnv {
  /** Report unresolved symbols as errors (final pass) instead of returning undefined. */
  readonly strict: boolean;
  /** Address of the statement being assembled (`.`, and the pc of %pcrel_hi). */
  readonly dot: bigint;
  symbol(name: string): bigint | undefined;
  local(label: number, dir: 'b' | 'f'): bigint | undefined;
  /** The %pcrel_hi target recorded for the auipc at this address. */
  pcrelHiTarget(auipcAddress: bigint): bigint | undefined;
  /** Called when %pcrel_hi(target) is evaluated at `dot`, so a later %pcrel_lo(label) can find it. */
  notePcrelHi(target: bigint): void;
}

type Tok =
  | { t: 'num'; v: bigint }
  | { t: 'id'; v: string }
  | { t: 'local'; label: number; dir: 'b' | 'f' }
  | { t: 'op'; v: string }
  | { t: 'reloc'; v: RelocFn };

const OPS = ['<<', '>>', '==', '!=', '<>', '<=', '>=', '&&', '||', '+', '-', '*', '/', '%', '|', '&', '^', '~', '!', '<', '>', '(', ')'];
const RELOCS: readonly RelocFn[] = ['pcrel_hi', 'pcrel_lo', 'hi', 'lo'];

/** The value of a character escape (GNU as "Strings"): \n \t \r \b \f \\ \' \" \ooo \xhh. */
export function parseEscape(s: string, i: number): { value: number; next: number } {
  const c = s[i];
  const simple: Record<string, number> = { n: 10, t: 9, r: 13, b: 8, f: 12, v: 11, a: 7, '\\': 92, "'": 39, '"': 34 };
  if (c in simple) return { value: simple[c], next: i + 1 };
  if (c === 'x' || c === 'X') {
    let j = i + 1;
    let v = 0;
    while (j < s.length && /[0-9a-fA-F]/.test(s[j])) v = ((v << 4) | parseInt(s[j++], 16)) & 0xff;
    if (j === i + 1) throw new ExprError('\\x needs hex digits');
    return { value: v, next: j };
  }
  if (/[0-7]/.test(c)) {
    let j = i;
    let v = 0;
    while (j < s.length && j < i + 3 && /[0-7]/.test(s[j])) v = v * 8 + Number(s[j++]);
    return { value: v & 0xff, next: j };
  }
  if (c === undefined) throw new ExprError('unterminated escape');
  return { value: c.charCodeAt(0), next: i + 1 };
}

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t') { i++; continue; }
    if (c === '%') {
      const m = /^%([a-z_]+)/.exec(src.slice(i));
      const fn = RELOCS.find((r) => r === m?.[1]);
      if (!m || fn === undefined) throw new ExprError(`unknown relocation operator '${m ? m[0] : '%'}'`);
      toks.push({ t: 'reloc', v: fn });
      i += m[0].length;
      continue;
    }
    if (c === "'") {
      let value: number;
      let next: number;
      if (src[i + 1] === '\\') ({ value, next } = parseEscape(src, i + 2));
      else if (i + 1 < src.length) { value = src.charCodeAt(i + 1); next = i + 2; }
      else throw new ExprError('empty character constant');
      if (src[next] === "'") next++;
      toks.push({ t: 'num', v: BigInt(value) });
      i = next;
      continue;
    }
    if (/[0-9]/.test(c)) {
      const rest = src.slice(i);
      let m: RegExpExecArray | null;
      if ((m = /^0[xX]([0-9a-fA-F]+)(?![\w$.])/.exec(rest))) toks.push({ t: 'num', v: BigInt(`0x${m[1]}`) });
      else if ((m = /^0[bB]([01]+)(?![\w$.])/.exec(rest))) toks.push({ t: 'num', v: BigInt(`0b${m[1]}`) });
      else if ((m = /^([0-9]+)([bf])(?![\w$.])/.exec(rest))) toks.push({ t: 'local', label: Number(m[1]), dir: m[2] as 'b' | 'f' });
      else if ((m = /^0([0-7]+)(?![\w$.])/.exec(rest))) toks.push({ t: 'num', v: BigInt(`0o${m[1]}`) });
      else if ((m = /^[0-9]+(?![\w$.])/.exec(rest))) toks.push({ t: 'num', v: BigInt(m[0]) });
      else throw new ExprError(`bad number '${/^[\w$.]+/.exec(rest)?.[0] ?? c}'`);
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z_.$]/.test(c)) {
      const m = /^[A-Za-z_.$][\w.$]*/.exec(src.slice(i));
      toks.push({ t: 'id', v: m![0] });
      i += m![0].length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op === undefined) throw new ExprError(`unexpected character '${c}'`);
    toks.push({ t: 'op', v: op });
    i += op.length;
  }
  return toks;
}

const BINARY_LEVELS: readonly (readonly string[])[] = [
  ['&&', '||'],
  ['+', '-', '==', '!=', '<>', '<', '>', '<=', '>='],
  ['|', '&', '^', '!'],
  ['*', '/', '%', '<<', '>>'],
];

/** Parse a whole expression. */
export function parseExpr(src: string): Expr {
  const toks = tokenize(src);
  if (toks.length === 0) throw new ExprError('missing expression');
  let pos = 0;
  const peekOp = (): string | undefined => {
    const t = toks[pos];
    return t?.t === 'op' ? t.v : undefined;
  };
  const expect = (op: string): void => {
    if (peekOp() !== op) throw new ExprError(`expected '${op}'`);
    pos++;
  };
  const binary = (level: number): Expr => {
    if (level === BINARY_LEVELS.length) return unary();
    let a = binary(level + 1);
    for (;;) {
      const op = peekOp();
      if (op === undefined || !BINARY_LEVELS[level].includes(op)) return a;
      pos++;
      a = { kind: 'binary', op, a, b: binary(level + 1) };
    }
  };
  const unary = (): Expr => {
    const op = peekOp();
    if (op === '-' || op === '~' || op === '!' || op === '+') {
      pos++;
      return { kind: 'unary', op, a: unary() };
    }
    return primary();
  };
  const primary = (): Expr => {
    const t = toks[pos++];
    if (t === undefined) throw new ExprError('unexpected end of expression');
    switch (t.t) {
      case 'num': return { kind: 'num', value: t.v };
      case 'local': return { kind: 'local', label: t.label, dir: t.dir };
      case 'id': return t.v === '.' ? { kind: 'dot' } : { kind: 'sym', name: t.v };
      case 'reloc': {
        expect('(');
        const a = binary(0);
        expect(')');
        return { kind: 'reloc', fn: t.v, a };
      }
      case 'op':
        if (t.v === '(') {
          const a = binary(0);
          expect(')');
          return a;
        }
        throw new ExprError(`unexpected '${t.v}'`);
    }
  };
  const e = binary(0);
  if (pos !== toks.length) {
    const t = toks[pos];
    throw new ExprError(`unexpected '${t.t === 'op' || t.t === 'id' ? t.v : 'token'}' after expression`);
  }
  return e;
}

/** Sign-extend the low 12 bits (the %lo part). */
export function lo12(x: bigint): bigint {
  return BigInt.asIntN(12, x);
}

/** The 20-bit field that pairs with lo12(x): (x + 0x800) >> 12. */
export function hi20(x: bigint): bigint {
  return ((x + 0x800n) >> 12n) & 0xfffffn;
}

/** Whether x (as a signed 64-bit value) is a sign-extended 32-bit value, so lui/auipc + addi reach it exactly. */
export function isInt32(x: bigint): boolean {
  const s = BigInt.asIntN(64, x);
  return s >= -(1n << 31n) && s < 1n << 31n;
}

/** Evaluate; undefined while something is not known yet (never in strict mode). */
export function evalExpr(e: Expr, env: ExprEnv): bigint | undefined {
  switch (e.kind) {
    case 'num':
      return e.value;
    case 'dot':
      return env.dot;
    case 'sym': {
      const v = env.symbol(e.name);
      if (v === undefined && env.strict) throw new ExprError(`undefined symbol '${e.name}'`);
      return v;
    }
    case 'local': {
      const v = env.local(e.label, e.dir);
      if (v === undefined && env.strict) {
        throw new ExprError(`undefined local label '${e.label}${e.dir}' (no '${e.label}:' ${e.dir === 'b' ? 'before' : 'after'} this line)`);
      }
      return v;
    }
    case 'unary': {
      const a = evalExpr(e.a, env);
      if (a === undefined) return undefined;
      switch (e.op) {
        case '-': return -a;
        case '~': return ~a;
        case '!': return a === 0n ? 1n : 0n;
        default: return a;
      }
    }
    case 'binary': {
      const a = evalExpr(e.a, env);
      const b = evalExpr(e.b, env);
      if (a === undefined || b === undefined) return undefined;
      return binaryOp(e.op, a, b);
    }
    case 'reloc':
      return evalReloc(e.fn, e.a, env);
  }
}

function binaryOp(op: string, a: bigint, b: bigint): bigint {
  const bool = (x: boolean): bigint => (x ? -1n : 0n); // GNU as: true comparisons are -1
  switch (op) {
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    case '/': if (b === 0n) throw new ExprError('division by zero'); return a / b;
    case '%': if (b === 0n) throw new ExprError('division by zero'); return a % b;
    case '<<': return b >= 64n || b < 0n ? 0n : BigInt.asIntN(64, a << b);
    case '>>': return b >= 64n || b < 0n ? (a < 0n ? -1n : 0n) : a >> b;
    case '|': return a | b;
    case '&': return a & b;
    case '^': return a ^ b;
    case '!': return a | ~b;
    case '==': return bool(a === b);
    case '!=': case '<>': return bool(a !== b);
    case '<': return bool(a < b);
    case '>': return bool(a > b);
    case '<=': return bool(a <= b);
    case '>=': return bool(a >= b);
    case '&&': return a !== 0n && b !== 0n ? 1n : 0n;
    case '||': return a !== 0n || b !== 0n ? 1n : 0n;
    default: throw new ExprError(`unknown operator '${op}'`);
  }
}

/** psABI relocation semantics, resolved in place (R_RISCV_HI20/LO12, PCREL_HI20/PCREL_LO12). */
function evalReloc(fn: RelocFn, arg: Expr, env: ExprEnv): bigint | undefined {
  const x = evalExpr(arg, env);
  if (x === undefined) return undefined;
  switch (fn) {
    case 'hi':
      if (env.strict && !isInt32(x)) {
        throw new ExprError(`%hi: 0x${BigInt.asUintN(64, x).toString(16)} is not a sign-extended 32-bit value, lui/addi cannot reach it (use la/lla)`);
      }
      return hi20(x);
    case 'lo':
      return lo12(x);
    case 'pcrel_hi': {
      const delta = x - env.dot;
      if (env.strict && !isInt32(delta)) throw new ExprError('%pcrel_hi: target is more than ±2 GiB away');
      env.notePcrelHi(x);
      return hi20(delta);
    }
    case 'pcrel_lo': {
      const target = env.pcrelHiTarget(x);
      if (target === undefined) {
        if (env.strict) throw new ExprError(`%pcrel_lo: no auipc with %pcrel_hi at 0x${x.toString(16)} (the operand must be the label of that auipc)`);
        return undefined;
      }
      return lo12(target - x);
    }
  }
}
