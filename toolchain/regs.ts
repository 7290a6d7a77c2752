/**
 * Integer register names: the ABI names of the RISC-V psABI (chapter 1,
 * "Register Convention"), as GNU as accepts them and objdump prints them.
 */

/** ABI name of each x register, as objdump prints it. */
export const REG_ABI_NAMES: readonly string[] = [
  'zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2',
  's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5',
  'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7',
  's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6',
];

const BY_NAME = new Map<string, number>();
REG_ABI_NAMES.forEach((n, i) => BY_NAME.set(n, i));
for (let i = 0; i < 32; i++) BY_NAME.set(`x${i}`, i);
BY_NAME.set('fp', 8); // s0 is also the frame pointer

/** Register number of an x-register name (x0-x31, ABI names, fp), or undefined. */
export function regNumber(name: string): number | undefined {
  return BY_NAME.get(name.toLowerCase());
}

export const X_ZERO = 0;
export const X_RA = 1;
export const X_SP = 2;
export const X_GP = 3;
export const X_TP = 4;
export const X_T0 = 5;
export const X_T1 = 6;
