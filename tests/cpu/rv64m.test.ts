/**
 * RV64M (unpriv chapter 7), table-driven on extreme operands: INT64_MIN,
 * -1, all ones, large positives, values just past the 32-bit and 2^53
 * boundaries (where an implementation on JS numbers changes strategy), and
 * the division special cases of table 7.1 (division by zero, INT_MIN / -1).
 */
import { describe } from 'vitest';
import { describeCases, lit, type Case } from '../helpers/guest.js';

const MIN64 = 0x8000_0000_0000_0000n;
const MAX64 = 0x7fff_ffff_ffff_ffffn;
const ALL = 0xffff_ffff_ffff_ffffn;

const OUT = ['a3', 'a4', 'a5', 'a6', 'a7'];

/** One case per row and op: a1 = a, a2 = b, then every op into its own register. */
function cases(ops: string[], rows: bigint[][]): Case[] {
  return rows.map((r) => {
    const [a, b, ...want] = r;
    return {
      name: `${lit(a)}, ${lit(b)}: ${ops.map((op, i) => `${op}=${lit(want[i])}`).join(' ')}`,
      code: `    li a1, ${lit(a)}\n    li a2, ${lit(b)}\n` + ops.map((op, i) => `    ${op} ${OUT[i]}, a1, a2`).join('\n'),
      want,
    };
  });
}

describe('RV64M multiply', () => {
  // [a, b, mul, mulh, mulhsu, mulhu]
  describeCases('mul/mulh/mulhsu/mulhu', cases(['mul', 'mulh', 'mulhsu', 'mulhu'], [
    [MIN64, ALL, MIN64, 0n, MIN64, MAX64],
    [MIN64, MIN64, 0n, 0x4000_0000_0000_0000n, 0xc000_0000_0000_0000n, 0x4000_0000_0000_0000n],
    [MAX64, MAX64, 1n, 0x3fff_ffff_ffff_ffffn, 0x3fff_ffff_ffff_ffffn, 0x3fff_ffff_ffff_ffffn],
    [ALL, ALL, 1n, 0n, ALL, 0xffff_ffff_ffff_fffen],
    [MAX64, ALL, 0x8000_0000_0000_0001n, ALL, 0x7fff_ffff_ffff_fffen, 0x7fff_ffff_ffff_fffen],
    [MIN64, 1n, MIN64, ALL, ALL, 0n],
    [0x7fff_ffffn, 0x7fff_ffffn, 0x3fff_ffff_0000_0001n, 0n, 0n, 0n],
    [0xffff_ffff_8000_0000n, 0xffff_ffff_8000_0000n, 0x4000_0000_0000_0000n, 0n, 0xffff_ffff_8000_0000n, 0xffff_ffff_0000_0000n],
    [0xffff_ffffn, 0xffff_ffffn, 0xffff_fffe_0000_0001n, 0n, 0n, 0n],
    [0x0123_4567_89ab_cdefn, 0xfedc_ba98_7654_3210n, 0x2236_d88f_e561_8cf0n, 0xfffe_b499_23cc_0953n, 0x0121_fa00_ad77_d742n, 0x0121_fa00_ad77_d742n],
    // 3037000499^2 is just below 2^63 and above 2^53: not exact as a double
    [0xb504_f333n, 0xb504_f333n, 0x7fff_fffe_9ea1_dc29n, 0n, 0n, 0n],
    [u(-3n), 5n, u(-15n), ALL, ALL, 4n],
    [0x1f_ffffn, 0x10_0000n, 0x1ff_fff0_0000n, 0n, 0n, 0n],
    [0x1_0000_0000n, 0x1_0000_0000n, 0n, 1n, 1n, 1n],
    [0n, ALL, 0n, 0n, 0n, 0n],
  ]), OUT.slice(0, 4));
});

describe('RV64M divide', () => {
  // [a, b, div, divu, rem, remu]
  describeCases('div/divu/rem/remu, including table 7.1', cases(['div', 'divu', 'rem', 'remu'], [
    [7n, 0n, ALL, ALL, 7n, 7n], // division by zero
    [MIN64, 0n, ALL, ALL, MIN64, MIN64],
    [0n, 0n, ALL, ALL, 0n, 0n],
    [MIN64, ALL, MIN64, 0n, 0n, MIN64], // signed overflow
    [u(-7n), 2n, u(-3n), 0x7fff_ffff_ffff_fffcn, ALL, 1n], // rounds toward zero
    [7n, u(-2n), u(-3n), 0n, 1n, 7n],
    [u(-7n), u(-2n), 3n, 0n, ALL, u(-7n)],
    [MAX64, MIN64, 0n, 0n, MAX64, MAX64],
    [MIN64, MAX64, ALL, 1n, ALL, 1n],
    [ALL, 1n, ALL, ALL, 0n, 0n],
    [ALL, ALL, 1n, 1n, 0n, 0n],
    [0x1234_5678_9abc_def0n, 0x1_0000n, 0x1234_5678_9abcn, 0x1234_5678_9abcn, 0xdef0n, 0xdef0n],
    [0xffff_ffff_8000_0000n, ALL, 0x8000_0000n, 0n, 0n, 0xffff_ffff_8000_0000n], // INT32_MIN / -1 in 64 bits
    [0xffff_ffffn, 0x10n, 0x0fff_ffffn, 0x0fff_ffffn, 0xfn, 0xfn],
    [0x7fff_ffffn, ALL, 0xffff_ffff_8000_0001n, 0n, 0n, 0x7fff_ffffn],
  ]), OUT.slice(0, 4));
});

describe('RV64M word forms: 32-bit operands, results sign-extended', () => {
  // [a, b, mulw, divw, divuw, remw, remuw]
  describeCases('mulw/divw/divuw/remw/remuw', cases(['mulw', 'divw', 'divuw', 'remw', 'remuw'], [
    [7n, 0n, 0n, ALL, ALL, 7n, 7n], // division by zero
    [0x8000_0000n, 0n, 0n, ALL, ALL, 0xffff_ffff_8000_0000n, 0xffff_ffff_8000_0000n],
    [0x8000_0000n, 0xffff_ffffn, 0xffff_ffff_8000_0000n, 0xffff_ffff_8000_0000n, 0n, 0n, 0xffff_ffff_8000_0000n], // overflow
    [0xffff_fff9n, 2n, u(-14n), u(-3n), 0x7fff_fffcn, ALL, 1n],
    [7n, 0xffff_fffen, u(-14n), u(-3n), 0n, 1n, 7n],
    [0x1_0000_0007n, 0x2_0000_0002n, 0xen, 3n, 3n, 1n, 1n], // upper halves ignored
    [0x8000_0000n, 1n, 0xffff_ffff_8000_0000n, 0xffff_ffff_8000_0000n, 0xffff_ffff_8000_0000n, 0n, 0n],
    [0xffff_ffffn, 0xffff_ffffn, 1n, 1n, 1n, 0n, 0n],
    [0x7fff_ffffn, 0xffff_ffffn, 0xffff_ffff_8000_0001n, 0xffff_ffff_8000_0001n, 0n, 0n, 0x7fff_ffffn],
    [0x1_0000_0000n, 5n, 0n, 0n, 0n, 0n, 0n],
    [0x1234_5678n, 0x1_0000_0000n, 0n, ALL, ALL, 0x1234_5678n, 0x1234_5678n], // divisor's low word is 0
  ]), OUT.slice(0, 5));
});

function u(v: bigint): bigint {
  return BigInt.asUintN(64, v);
}
