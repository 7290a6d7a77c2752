/**
 * Stack traces by frame pointer (Linux arch/riscv/kernel/stacktrace.c).
 *
 * The code generator keeps a frame record in every function that has a
 * frame, as GCC does with -fno-omit-frame-pointer on RISC-V:
 *
 *        higher addresses
 *   fp ─► ┌──────────────┐  (fp = s0 = the caller's sp)
 *         │ return addr  │  fp - 8
 *         │ caller's fp  │  fp - 16
 *         │ spills …     │
 *   sp ─► └──────────────┘
 *
 * Leaf functions without a frame leave s0 alone, so they do not appear (the
 * register dump's ra names their caller). The trap entry stub adds a record
 * for the interrupted context, so a walk from inside a trap handler
 * continues into the code that trapped.
 *
 * Symbolisation is the host's job (the ELF symbol and line tables): the
 * guest prints raw pcs, "[<ffffffff80201234>]", the form Linux prints
 * without kallsyms, which the host's tools (and scripts/decode_stacktrace.sh
 * style filters) understand. A walk never faults: every fp is checked to
 * lie in the linear map, to be aligned and to grow towards the stack top.
 *
 * Context: any (used by oops and panic); no locks; does not sleep.
 */
import { printk } from "../printk";
import { PAGE_OFFSET, LINEAR_MAP_SIZE } from "./layout";

/** Frames a walk prints at most. */
export const STACKTRACE_MAX_DEPTH: i32 = 32;
/** A frame record further than this from the last is not believed. */
const MAX_FRAME_GAP: u64 = 64 * 1024;

/** Is the 64-bit address `a` inside the linear map (readable kernel memory)? */
export function kernel_text_or_data(a: u64): bool {
  return a >= PAGE_OFFSET && a < PAGE_OFFSET + LINEAR_MAP_SIZE;
}

/**
 * Print "[<pc>]" for `pc`, then for every frame of the chain starting at
 * frame pointer `fp`. Returns the number of frames printed.
 */
export function walk_stackframe(fp: u64, pc: u64, loglvl: string): i32 {
  let n = 0;
  if (pc != 0) {
    printk("%s[<%016lx>]\n", changetype<usize>(loglvl), pc);
    n++;
  }
  let last: u64 = 0;
  while (n < STACKTRACE_MAX_DEPTH) {
    if (fp < 16 || (fp & 7) != 0 || !kernel_text_or_data(fp - 16)) break;
    if (last != 0 && (fp <= last || fp - last > MAX_FRAME_GAP)) break;
    const p = <usize>fp;
    const ra = load<u64>(p - 8);
    const next = load<u64>(p - 16);
    if (ra == 0) break;
    printk("%s[<%016lx>]\n", changetype<usize>(loglvl), ra);
    n++;
    last = fp;
    fp = next;
  }
  return n;
}
