/**
 * Address expressions of the debugger console, a small part of gdb's C
 * expression language, evaluated in 64-bit unsigned arithmetic (wrapping):
 *
 *   expr    := sum
 *   sum     := product (('+' | '-') product)*
 *   product := unary ('*' unary)*
 *   unary   := '-' unary | '*' unary | primary        *X reads the u64 at X
 *   primary := NUMBER | '$'NAME | SYMBOL | '(' expr ')'
 *
 * NUMBER is hex with 0x (underscores allowed: 0xffff_ffff_8020_0000) or
 * decimal; $NAME a register ($pc, $sp, $a0, $x5, $fp) or a CSR ($satp,
 * $sstatus); SYMBOL an ELF symbol as the symbol table resolves it (full
 * `kernel/mm/kmalloc/__kmalloc` or a unique short name; characters
 * A-Z a-z 0-9 _ . / ~ after a first letter, '_', '.' or '~'). Every mistake
 * is an ExprError with one line saying what and where.
 */

export class ExprError extends Error {}

export interface ExprEnv {
  /** A register or CSR value by name (without '$'); undefined when unknown. */
  reg(name: string): bigint | undefined;
  /** A symbol's address; throws (ExprError or the table's error) when unknown. */
  symbol(name: string): bigint;
  /** The u64 at an address (for unary '*'); throws when unreadable. */
  deref(addr: bigint): bigint;
}

type Tok = { k: 'num'; v: bigint } | { k: 'reg'; v: string } | { k: 'sym'; v: string } | { k: 'op'; v: string };

const U64 = (v: bigint): bigint => BigInt.asUintN(64, v);

export function tokenize(text: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t') { i++; continue; }
    if ('+-*()'.includes(c)) { out.push({ k: 'op', v: c }); i++; continue; }
    let m = /^0[xX][0-9a-fA-F_]+/.exec(text.slice(i));
    if (m) {
      out.push({ k: 'num', v: BigInt(m[0].replace(/_/g, '')) });
      i += m[0].length;
      if (/^[\w.]/.test(text.slice(i))) throw new ExprError(`bad number near '${text.slice(i - m[0].length)}'`);
      continue;
    }
    m = /^\d[\d_]*/.exec(text.slice(i));
    if (m) {
      out.push({ k: 'num', v: BigInt(m[0].replace(/_/g, '')) });
      i += m[0].length;
      if (/^[\w.]/.test(text.slice(i))) throw new ExprError(`bad number near '${text.slice(i - m[0].length)}' (hex needs 0x)`);
      continue;
    }
    m = /^\$[A-Za-z_][\w]*/.exec(text.slice(i));
    if (m) { out.push({ k: 'reg', v: m[0].slice(1) }); i += m[0].length; continue; }
    m = /^[A-Za-z_.~][\w./~]*/.exec(text.slice(i));
    if (m) { out.push({ k: 'sym', v: m[0] }); i += m[0].length; continue; }
    throw new ExprError(`unexpected '${c}' in expression '${text}'`);
  }
  return out;
}

/** Evaluate `text` (see the grammar above) to a u64. */
export function evaluate(text: string, env: ExprEnv): bigint {
  const toks = tokenize(text);
  if (toks.length === 0) throw new ExprError('an address or expression is needed');
  let p = 0;
  const peek = (): Tok | undefined => toks[p];
  const isOp = (v: string): boolean => {
    const t = peek();
    return t !== undefined && t.k === 'op' && t.v === v;
  };
  const sum = (): bigint => {
    let v = product();
    for (;;) {
      if (isOp('+')) { p++; v = U64(v + product()); } else if (isOp('-')) { p++; v = U64(v - product()); } else return v;
    }
  };
  const product = (): bigint => {
    let v = unary();
    while (isOp('*')) { p++; v = U64(v * unary()); }
    return v;
  };
  const unary = (): bigint => {
    if (isOp('-')) { p++; return U64(-unary()); }
    if (isOp('*')) { p++; return env.deref(unary()); }
    return primary();
  };
  const primary = (): bigint => {
    const t = toks[p++];
    if (t === undefined) throw new ExprError(`expression '${text}' ends too early`);
    switch (t.k) {
      case 'num': return U64(t.v);
      case 'reg': {
        const v = env.reg(t.v);
        if (v === undefined) throw new ExprError(`no register or CSR named $${t.v}`);
        return U64(v);
      }
      case 'sym': return U64(env.symbol(t.v));
      case 'op':
        if (t.v === '(') {
          const v = sum();
          if (!isOp(')')) throw new ExprError(`missing ')' in '${text}'`);
          p++;
          return v;
        }
        throw new ExprError(`unexpected '${t.v}' in '${text}'`);
    }
  };
  const v = sum();
  if (p < toks.length) {
    const t = toks[p]!;
    throw new ExprError(`unexpected '${t.k === 'num' ? `0x${t.v.toString(16)}` : t.v}' in '${text}'`);
  }
  return v;
}
