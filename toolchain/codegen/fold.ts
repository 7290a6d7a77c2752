/**
 * Constant folding with the exact semantics of WebAssembly's integer
 * operators (core spec §4.3.2). Values are the canonical 64-bit forms of
 * values.ts (an i32 sign-extended). Operations that trap on these operands
 * (division by zero, INT_MIN / -1) are not folded: undefined is returned and
 * the code generator emits the trapping code.
 */
import type { ValTy } from './values.js';

const W = (ty: ValTy): bigint => (ty === 'i32' ? 32n : 64n);
const s = (ty: ValTy, v: bigint): bigint => BigInt.asIntN(Number(W(ty)), v);
const u = (ty: ValTy, v: bigint): bigint => BigInt.asUintN(Number(W(ty)), v);

function clz(ty: ValTy, v: bigint): bigint {
  const x = u(ty, v);
  return x === 0n ? W(ty) : W(ty) - BigInt(x.toString(2).length);
}

function ctz(ty: ValTy, v: bigint): bigint {
  let x = u(ty, v);
  if (x === 0n) return W(ty);
  let n = 0n;
  while ((x & 1n) === 0n) { x >>= 1n; n++; }
  return n;
}

function popcnt(ty: ValTy, v: bigint): bigint {
  let x = u(ty, v);
  let n = 0n;
  while (x !== 0n) { n += x & 1n; x >>= 1n; }
  return n;
}

/** a <op> b for the binary operator name without its type prefix ('add', 'div_s', …). */
export function foldBinary(ty: ValTy, op: string, a: bigint, b: bigint): bigint | undefined {
  const w = W(ty);
  const k = u(ty, b) % w;
  switch (op) {
    case 'add': return s(ty, a + b);
    case 'sub': return s(ty, a - b);
    case 'mul': return s(ty, a * b);
    case 'div_s':
      if (s(ty, b) === 0n || (s(ty, a) === -(1n << (w - 1n)) && s(ty, b) === -1n)) return undefined;
      return s(ty, s(ty, a) / s(ty, b)); // BigInt division truncates toward zero, as wasm does
    case 'div_u':
      if (u(ty, b) === 0n) return undefined;
      return s(ty, u(ty, a) / u(ty, b));
    case 'rem_s':
      if (s(ty, b) === 0n) return undefined;
      return s(ty, s(ty, a) % s(ty, b)); // sign of the dividend, as wasm; INT_MIN % -1 = 0
    case 'rem_u':
      if (u(ty, b) === 0n) return undefined;
      return s(ty, u(ty, a) % u(ty, b));
    case 'and': return s(ty, a & b);
    case 'or': return s(ty, a | b);
    case 'xor': return s(ty, a ^ b);
    case 'shl': return s(ty, a << k);
    case 'shr_s': return s(ty, s(ty, a) >> k);
    case 'shr_u': return s(ty, u(ty, a) >> k);
    case 'rotl': return s(ty, (u(ty, a) << k) | (u(ty, a) >> ((w - k) % w)));
    case 'rotr': return s(ty, (u(ty, a) >> k) | (u(ty, a) << ((w - k) % w)));
    default: return undefined;
  }
}

/** Unary operators: 'clz', 'ctz', 'popcnt', 'extend8_s', 'extend16_s', 'extend32_s'. */
export function foldUnary(ty: ValTy, op: string, a: bigint): bigint | undefined {
  switch (op) {
    case 'clz': return clz(ty, a);
    case 'ctz': return ctz(ty, a);
    case 'popcnt': return popcnt(ty, a);
    case 'extend8_s': return s(ty, BigInt.asIntN(8, a));
    case 'extend16_s': return s(ty, BigInt.asIntN(16, a));
    case 'extend32_s': return s(ty, BigInt.asIntN(32, a));
    default: return undefined;
  }
}
