/**
 * The trap frame: what the toolchain's trap entry (toolchain/stubs/common.ts)
 * saves before calling kernel_trap(frame), in Linux's struct pt_regs order
 * (arch/riscv/include/asm/ptrace.h), so slot i holds x_i:
 *
 *   +0 epc  +8 ra  +16 sp  +24 gp  +32 tp  +40 t0 … +248 t6
 *   +256 status  +264 badaddr (stval)  +272 cause  +280 (reserved)
 *   +288 frame record: the interrupted s0 and epc (so a frame-pointer walk
 *        from the handler continues into the interrupted code)
 *   +304 end
 *
 * kernel_trap may rewrite any slot; the entry stub writes them all back
 * (epc and status too), sp last.
 */

@unmanaged
export class pt_regs {
  epc: u64;
  ra: u64;
  sp: u64;
  gp: u64;
  tp: u64;
  t0: u64;
  t1: u64;
  t2: u64;
  s0: u64;
  s1: u64;
  a0: u64;
  a1: u64;
  a2: u64;
  a3: u64;
  a4: u64;
  a5: u64;
  a6: u64;
  a7: u64;
  s2: u64;
  s3: u64;
  s4: u64;
  s5: u64;
  s6: u64;
  s7: u64;
  s8: u64;
  s9: u64;
  s10: u64;
  s11: u64;
  t3: u64;
  t4: u64;
  t5: u64;
  t6: u64;
  status: u64;
  badaddr: u64;
  cause: u64;
  reserved: u64;
  record_fp: u64;
  record_pc: u64;
}

export const PT_REGS_SIZE: i32 = 304;

/** Register x_i of a frame (x0 reads 0). */
export function regs_get(regs: pt_regs, i: i32): u64 {
  if (i <= 0 || i > 31) return 0;
  return load<u64>(changetype<usize>(regs) + <usize>(i * 8));
}

/** Set register x_i of a frame (x0 ignored). */
export function regs_set(regs: pt_regs, i: i32, v: u64): void {
  if (i <= 0 || i > 31) return;
  store<u64>(changetype<usize>(regs) + <usize>(i * 8), v);
}
