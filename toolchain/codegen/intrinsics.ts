/**
 * Imports from module "riscv": machine instructions AssemblyScript cannot
 * express, inlined at the call site (declarations for AssemblyScript in
 * toolchain/as/riscv.ts).
 *
 *   csrr_<csr>(): u64                 csrr   rd, csr
 *   csrw_<csr>(v) / csrs_ / csrc_     csrw   csr, rs   (csrwi … for constants 0-31)
 *   csrrw_<csr>(v): u64 / csrrs_ / csrrc_   the old value
 *   sfence_vma(vaddr, asid), sfence_vma_all(), fence(), fence_i(), wfi(),
 *   pause(), ebreak(), mret(), sret()
 *   ecall(a0 … a7): u64               arguments in a0-a7, result a0
 *   ecall_a1(): u64                   a1 of the latest ecall of this function
 *   tp_read(), tp_write(v), sp_read()
 *
 * <csr> is any name the assembler knows (emulator/cpu/riscv/csr.ts and the
 * binutils names of toolchain/csr-names.ts).
 */
import { csrNumber } from '../csr-names.js';
import type { FuncType, Instr } from '../wasm/module.js';
import { emitCall } from './calls.js';
import type { Fn } from './function.js';
import { SCRATCH1, SCRATCH2 } from './regs.js';
import type { Entry, ValTy } from './values.js';

const CSR_OP = /^(csrr|csrw|csrs|csrc|csrrw|csrrs|csrrc)_([a-z0-9]+)$/;

/** Expected [parameter count, has result] of each fixed intrinsic. */
const FIXED: Readonly<Record<string, [number, boolean]>> = {
  sfence_vma: [2, false], sfence_vma_all: [0, false], fence: [0, false], fence_i: [0, false], wfi: [0, false],
  pause: [0, false], ebreak: [0, false], mret: [0, false], sret: [0, false],
  ecall: [8, true], ecall_a1: [0, true], tp_read: [0, true], tp_write: [1, false], sp_read: [0, true],
};

const SIMPLE: Readonly<Record<string, string>> = {
  sfence_vma_all: 'sfence.vma', fence: 'fence iorw, iorw', fence_i: 'fence.i', wfi: 'wfi', pause: 'pause',
  ebreak: 'ebreak', mret: 'mret', sret: 'sret',
};

/** Does the intrinsic clobber caller-saved registers (so that it counts as a call)? */
export function intrinsicIsCallLike(name: string): boolean {
  return name === 'ecall';
}

/** Why an import from "riscv" cannot be used, or undefined when it is fine. */
export function checkIntrinsic(name: string, type: FuncType): string | undefined {
  let shape: [number, boolean] | undefined = FIXED[name];
  const m = CSR_OP.exec(name);
  if (m) {
    if (csrNumber(m[2]!) === undefined) return `unknown CSR '${m[2]}'`;
    shape = [m[1] === 'csrr' ? 0 : 1, m[1] === 'csrr' || m[1]!.length === 5];
  }
  if (shape === undefined) return 'unknown intrinsic';
  const bad = [...type.params, ...type.results].some((t) => t !== 'i32' && t !== 'i64');
  if (bad || type.params.length !== shape[0] || type.results.length !== (shape[1] ? 1 : 0)) {
    return `expects ${shape[0]} integer parameter(s) and ${shape[1] ? 'an integer result' : 'no result'}`;
  }
  return undefined;
}

/** Push the register as the intrinsic's result (an i32 result is sign-extended first). */
function result(fx: Fn, ty: ValTy, emit: (rd: string) => void): void {
  const rd = fx.resultReg();
  emit(rd);
  if (ty === 'i32') fx.em.insn(`addiw ${rd}, ${rd}, 0`);
  fx.pushReg(ty, rd);
}

export function intrinsic(fx: Fn, ins: Instr, name: string, args: Entry[], results: ValTy[]): void {
  const simple = SIMPLE[name];
  if (simple !== undefined) {
    fx.em.insn(simple);
    return;
  }
  const m = CSR_OP.exec(name);
  if (m) {
    const [, op, csr] = m as unknown as [string, string, string];
    if (op === 'csrr') { result(fx, results[0]!, (rd) => fx.em.insn(`csrr ${rd}, ${csr}`)); return; }
    const v = args[0]!;
    if (op.length === 4) { // csrw, csrs, csrc
      if (v.k === 'const' && v.v >= 0n && v.v < 32n) fx.em.insn(`${op}i ${csr}, ${v.v}`);
      else fx.em.insn(`${op} ${csr}, ${fx.reg(v, SCRATCH1)}`);
      fx.release(v);
      return;
    }
    const r = fx.reg(v, SCRATCH1);
    fx.release(v);
    result(fx, results[0]!, (rd) => fx.em.insn(`${op} ${rd}, ${csr}, ${r}`));
    return;
  }
  switch (name) {
    case 'sfence_vma': {
      const [va, asid] = args as [Entry, Entry];
      fx.em.insn(`sfence.vma ${fx.reg(va, SCRATCH1)}, ${fx.reg(asid, SCRATCH2)}`);
      fx.release(va);
      fx.release(asid);
      return;
    }
    case 'ecall':
      emitCall(fx, args, () => {
        fx.em.insn('ecall');
        if (fx.ecallA1Slot !== undefined) fx.em.insn(`sd a1, ${fx.em.slot(fx.ecallA1Slot)}`);
      }, results);
      if (results[0] === 'i32') {
        const e = fx.pop() as Entry & { k: 'reg' };
        fx.em.insn(`addiw ${e.r}, ${e.r}, 0`);
        fx.push(e);
      }
      return;
    case 'ecall_a1':
      result(fx, results[0]!, (rd) => {
        if (fx.ecallA1Slot === undefined) fx.em.li(rd, 0n);
        else fx.em.insn(`ld ${rd}, ${fx.em.slot(fx.ecallA1Slot, rd)}`);
      });
      return;
    case 'tp_read': result(fx, results[0]!, (rd) => fx.em.mv(rd, 'tp')); return;
    case 'sp_read': result(fx, results[0]!, (rd) => fx.em.mv(rd, 'sp')); return;
    case 'tp_write': {
      const v = args[0]!;
      fx.em.mv('tp', fx.reg(v, SCRATCH1));
      fx.release(v);
      return;
    }
    default:
      fx.unsupported(ins, `(riscv.${name}) is not a known intrinsic`);
  }
}
