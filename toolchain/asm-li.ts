/**
 * Materialising a 64-bit constant for `li` (unpriv 2.4 and 5.2: LUI + ADDIW
 * build any sign-extended 32-bit value; wider values are built recursively
 * with SLLI/ADDI). The algorithm follows LLVM's RISCVMatInt (base recursion,
 * then the trailing-zeros, ADDI-adjust, leading-zeros/SRLI and inverted/XORI
 * alternatives), keeping whichever sequence is shortest. At most 8
 * instructions for any 64-bit value.
 */
import { hi20, isInt32, lo12 } from './asm-expr.js';

export type LiOp = 'lui' | 'addi' | 'addiw' | 'slli' | 'srli' | 'xori';

/** One step. The first step reads x0 (lui reads nothing); every later step reads rd. */
export interface LiStep {
  readonly op: LiOp;
  /** lui: the 20-bit field; shifts: the shift amount; others: the signed 12-bit immediate. */
  readonly imm: number;
}

const isInt12 = (x: bigint): boolean => x >= -2048n && x < 2048n;

/** Trailing zeros of a non-zero 64-bit pattern. */
function ctz(x: bigint): number {
  let n = 0;
  let v = BigInt.asUintN(64, x);
  while ((v & 1n) === 0n && n < 64) { v >>= 1n; n++; }
  return n;
}

/** Leading zeros of a 64-bit pattern. */
function clz(x: bigint): number {
  const v = BigInt.asUintN(64, x);
  return v === 0n ? 64 : 64 - v.toString(2).length;
}

/** LLVM generateInstSeqImpl. */
function baseSeq(val: bigint, out: LiStep[]): void {
  if (isInt32(val)) {
    const hi = hi20(val);
    const lo = lo12(val);
    if (hi !== 0n) out.push({ op: 'lui', imm: Number(hi) });
    if (lo !== 0n || hi === 0n) out.push({ op: hi !== 0n ? 'addiw' : 'addi', imm: Number(lo) });
    return;
  }
  const lo = lo12(val);
  let rest = BigInt.asIntN(64, val - lo);
  let shift = 0;
  if (!isInt32(rest)) {
    shift = ctz(rest);
    rest >>= BigInt(shift);
    // Reduce the shift so that the upper part ends in 12 zero bits and becomes a lui.
    if (shift > 12 && !isInt12(rest) && isInt32(BigInt.asIntN(64, rest << 12n))) {
      shift -= 12;
      rest = BigInt.asIntN(64, rest << 12n);
    }
  }
  baseSeq(rest, out);
  if (shift !== 0) out.push({ op: 'slli', imm: shift });
  if (lo !== 0n) out.push({ op: 'addi', imm: Number(lo) });
}

function seqOf(val: bigint): LiStep[] {
  const out: LiStep[] = [];
  baseSeq(BigInt.asIntN(64, val), out);
  return out;
}

/** LLVM generateInstSeqLeadingZeros: build a left-justified value, then SRLI. */
function leadingZerosSeq(val: bigint, best: LiStep[] | undefined): LiStep[] | undefined {
  const lz = clz(val);
  const mask = (1n << BigInt(lz)) - 1n;
  let shifted = BigInt.asUintN(64, val << BigInt(lz)) | mask;
  for (let attempt = 0; attempt < 2; attempt++) {
    const tmp = seqOf(shifted);
    if (best === undefined || tmp.length + 1 < best.length) best = [...tmp, { op: 'srli', imm: lz }];
    shifted &= ~mask; // the other variant: fill with zeros
  }
  return best;
}

/** The instruction sequence that leaves `value` (taken modulo 2^64) in a register. */
export function liSequence(value: bigint): LiStep[] {
  const val = BigInt.asIntN(64, value);
  let best = seqOf(val);
  // Trailing zeros: build val >> tz, then shift left.
  if ((val & 0xfffn) !== 0n && (val & 1n) === 0n && best.length >= 2) {
    const tz = ctz(val);
    const tmp = seqOf(val >> BigInt(tz));
    if (tmp.length + 1 < best.length) best = [...tmp, { op: 'slli', imm: tz }];
  }
  if (best.length <= 2) return best;
  // Low 13 bits like 0x17ff: add 1 first, subtract it at the end.
  if ((val & 0xfffn) !== 0n && (val & 0x1800n) === 0x1000n) {
    const imm12 = -(0x800n - (val & 0xfffn));
    const tmp = seqOf(val - imm12);
    if (tmp.length + 1 < best.length) best = [...tmp, { op: 'addi', imm: Number(imm12) }];
  }
  if (val > 0n && best.length > 2) best = leadingZerosSeq(val, best)!;
  if (val < 0n && best.length > 3) {
    const inverted = leadingZerosSeq(BigInt.asUintN(64, ~val), undefined);
    if (inverted !== undefined && inverted.length + 1 < best.length) best = [...inverted, { op: 'xori', imm: -1 }];
  }
  return best;
}
