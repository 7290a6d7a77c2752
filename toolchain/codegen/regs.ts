/**
 * Register roles in generated code (RISC-V psABI names).
 *
 *   zero ra sp gp tp     fixed: never allocated (gp and tp belong to the kernel)
 *   s0                   frame pointer of every function that has a frame
 *   s1 … s11             callee-saved: locals of functions that make calls
 *   a0 … a7, t0 … t4     caller-saved: arguments, the wasm value stack, and the
 *                        locals of leaf functions
 *   t5, t6               scratch of single instruction sequences (constants,
 *                        reloads, addresses); never hold a value between wasm
 *                        instructions
 *
 * The bit-count helpers (clz, ctz, popcnt) use their own convention: argument
 * and result in t5, return address in t6, and they may clobber t3 and t4, so
 * a function that uses them leaves t3/t4 out of its pool.
 */
export type Reg = string;

export const ARG_REGS: readonly Reg[] = ['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7'];
export const SAVED_REGS: readonly Reg[] = ['s1', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11'];
export const SCRATCH1: Reg = 't5';
export const SCRATCH2: Reg = 't6';
/** Clobbered by the bit-count helpers besides t5/t6. */
export const HELPER_CLOBBERS: readonly Reg[] = ['t3', 't4'];

/** Caller-saved registers a function may allocate, in order of preference for temporaries. */
export function callerSavedOrder(withHelperRegs: boolean): Reg[] {
  const t = withHelperRegs ? ['t0', 't1', 't2', 't3', 't4'] : ['t0', 't1', 't2'];
  return [...t, 'a7', 'a6', 'a5', 'a4', 'a3', 'a2', 'a1', 'a0'];
}

export const isCallerSaved = (r: Reg): boolean => r[0] === 'a' || r[0] === 't';

/** The free temporaries of a function. */
export class RegPool {
  private readonly free = new Set<Reg>();

  private readonly order: Reg[];

  constructor(order: readonly Reg[]) {
    this.order = [...order];
    for (const r of order) this.free.add(r);
  }

  /** A new (free) register for the pool. */
  add(r: Reg): void {
    if (this.order.includes(r)) return;
    this.order.push(r);
    this.free.add(r);
  }

  get size(): number {
    return this.order.length;
  }

  has(r: Reg): boolean {
    return this.order.includes(r);
  }

  isFree(r: Reg): boolean {
    return this.free.has(r);
  }

  /** A free register not in `avoid`, or undefined. */
  alloc(avoid: readonly Reg[] = []): Reg | undefined {
    for (const r of this.order) {
      if (this.free.has(r) && !avoid.includes(r)) {
        this.free.delete(r);
        return r;
      }
    }
    return undefined;
  }

  take(r: Reg): void {
    this.free.delete(r);
  }

  release(r: Reg): void {
    if (this.order.includes(r)) this.free.add(r);
  }

  /** Everything free except `busy`. */
  reset(busy: Iterable<Reg>): void {
    this.free.clear();
    for (const r of this.order) this.free.add(r);
    for (const r of busy) this.free.delete(r);
  }
}
