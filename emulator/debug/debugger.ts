/**
 * The debugger core shared by the console (`kmemlab debug`, emulator/debug/
 * console.ts) and the GDB remote stub (emulator/debug/gdbstub.ts):
 * breakpoints, watchpoints, stepping and continuing a Machine, and reading
 * and writing guest memory and registers without disturbing the guest.
 *
 * Breakpoints are on virtual pcs and never patch memory (an `ebreak` written
 * into the image would be seen by the guest's own reads and by DMA): a hart
 * checks its pc against them in fetchSlow before it executes, and pages that
 * hold a breakpoint are never cached in the fetch TLB, so every fetch on such
 * a page comes through that check (emulator/cpu/riscv/hart.ts HartDebug). So
 * 2- and 4-byte instructions are alike, and "software" and "hardware"
 * breakpoints (gdb's Z0 and Z1) are one mechanism. A hart stops *before* the
 * instruction at a breakpoint; going on executes it once (skipBreakPc).
 *
 * Watchpoints are on physical bytes: the address given is translated once,
 * through the current hart's MMU, when the watchpoint is set, so every alias
 * of the memory (the linear map, a vmalloc or kmap mapping, another hart)
 * triggers it. Watched RAM pages are never cached in any TLB; the slow load
 * and store paths report each access (before a store writes, so the old
 * value is known) and the hart stops *after* the instruction, as gdb expects
 * of hardware watchpoints. Only the harts' own accesses count; DMA does not.
 *
 * Stepping runs one instruction on one hart with interrupts held off (as
 * QEMU's gdbstub does by default), the other harts stay where they are. A
 * hart that waits (WFI, or not started) is stepped by running the machine
 * until it executes one instruction, as the other CPUs run during a step
 * under gdb and QEMU.
 * Continuing runs the machine's deterministic scheduler; stopping and going
 * on at any point gives exactly the run of one call (Machine.run), so a
 * debugging session changes nothing of the guest's run but the stops'
 * single steps.
 *
 * Reads never have side effects: no A/D bits, no TLB fill, no MMIO (device
 * reads can change device state, so the debugger refuses them).
 */
import { Machine, type ExitState, QUANTUM } from '../machine/machine.js';
import type { Hart, HartDebug } from '../cpu/riscv/hart.js';
import { PRV_M, SATP_MODE_SV39 } from '../cpu/riscv/csr.js';
import { PAGE_SIZE, walkSv39, isTranslation } from '../inspect/pagetable.js';

export class DebugError extends Error {}

export type WatchType = 'write' | 'read' | 'access';

export interface Breakpoint {
  kind: 'breakpoint';
  id: number;
  addr: bigint;
  hits: number;
  /** Removed at its first hit (the console's `ni`, `until`). */
  temporary: boolean;
  /** Only this hart stops at it; undefined: every hart. */
  hart?: number;
}

export interface Watchpoint {
  kind: 'watchpoint';
  id: number;
  /** The address as given (virtual, or physical with `phys`). */
  addr: bigint;
  len: number;
  type: WatchType;
  /** Physical address and RAM buffer offset the address translated to when set. */
  pa: number;
  off: number;
  hits: number;
}

export type StopEvent =
  | { reason: 'breakpoint'; hart: number; pc: bigint; breakpoint: Breakpoint }
  | {
    reason: 'watchpoint'; hart: number; pc: bigint; watchpoint: Watchpoint;
    /** The accessing instruction's pc and whether it wrote; the watched bytes before and after. */
    insnPc: bigint; write: boolean; old: Uint8Array; value: Uint8Array;
  }
  | { reason: 'step'; hart: number; pc: bigint }
  /** A step asked of a hart that cannot execute now (waits in WFI, or stopped by SBI HSM). */
  | { reason: 'blocked'; hart: number; pc: bigint; why: string }
  | { reason: 'exit'; exit: ExitState }
  | { reason: 'limit' }
  | { reason: 'idle' }
  | { reason: 'interrupted' };

interface WatchHit {
  watchpoint: Watchpoint;
  hart: Hart;
  insnPc: bigint;
  write: boolean;
  old: Uint8Array;
}

const TWO20 = 1048576;

/** A virtual page number of (lo, hi) words as one safe integer. */
function pageKey(lo: number, hi: number): number {
  return (hi >>> 0) * TWO20 + (lo >>> 12);
}

function pageKeyOf(va: bigint): number {
  return Number(BigInt.asUintN(64, va) >> 12n);
}

const hex = (v: bigint | number): string => `0x${v.toString(16)}`;

/** How long a step of a waiting hart lets the others run for it (instructions of the whole machine). */
export const STEP_WAIT_LIMIT = 20_000_000;

export class Debugger {
  readonly machine: Machine;
  /** The hart commands act on (gdb's current thread). */
  current = 0;
  private nextId = 1;
  private readonly breakpoints = new Map<number, Breakpoint>();
  private readonly byPc = new Map<bigint, Breakpoint[]>();
  private readonly breakPages = new Map<number, number>();
  private readonly watchpoints = new Map<number, Watchpoint>();
  private readonly watchPages = new Map<number, number>();
  private hit: WatchHit | undefined;
  /** The hart and pc of the last breakpoint stop: going on executes that instruction once. */
  private resumeFrom: { hart: Hart; pc: bigint } | undefined;
  private stopRequested = false;
  private readonly hooks: HartDebug;

  constructor(machine: Machine) {
    this.machine = machine;
    this.hooks = {
      breakAt: (hart, pc) => this.breakAt(hart, pc),
      access: (hart, off, len, write) => this.access(hart, off, len, write),
    };
    for (const h of machine.harts) {
      h.debug = this.hooks;
      h.mmu.fetchWatch = (lo, hi) => this.breakPages.has(pageKey(lo, hi));
      h.mmu.loadWatch = (pageOff) => this.watchPages.has(pageOff);
    }
    machine.debugWatch = (pageOff) => this.watchPages.has(pageOff);
  }

  /** Take the hooks out: the machine runs at full speed again, as if never debugged. */
  detach(): void {
    this.breakpoints.clear();
    this.byPc.clear();
    this.breakPages.clear();
    this.watchpoints.clear();
    this.watchPages.clear();
    for (const h of this.machine.harts) {
      h.debug = null;
      h.debugStop = undefined;
      h.skipBreakPc = -1n;
      h.mmu.fetchWatch = null;
      h.mmu.loadWatch = null;
    }
    this.machine.debugWatch = null;
  }

  hart(i = this.current): Hart {
    const h = this.machine.harts[i];
    if (h === undefined) throw new DebugError(`no hart ${i}: this machine has harts 0 to ${this.machine.harts.length - 1}`);
    return h;
  }

  selectHart(i: number): void {
    this.hart(i);
    this.current = i;
  }

  // --- breakpoints and watchpoints --------------------------------------------

  addBreakpoint(addr: bigint, opts: { temporary?: boolean; hart?: number } = {}): Breakpoint {
    const pc = BigInt.asUintN(64, addr);
    if ((pc & 1n) !== 0n) throw new DebugError(`${hex(pc)} is not a possible instruction address (instructions are 2-byte aligned)`);
    if (opts.hart !== undefined) this.hart(opts.hart);
    const bp: Breakpoint = { kind: 'breakpoint', id: this.nextId++, addr: pc, hits: 0, temporary: opts.temporary ?? false, hart: opts.hart };
    this.breakpoints.set(bp.id, bp);
    const list = this.byPc.get(pc);
    if (list) list.push(bp);
    else this.byPc.set(pc, [bp]);
    const key = pageKeyOf(pc);
    this.breakPages.set(key, (this.breakPages.get(key) ?? 0) + 1);
    this.flushTlbs();
    return bp;
  }

  /**
   * Watch `len` bytes (1 … 4096, not crossing more than one page boundary) at
   * `addr`: virtual through hart `hart`'s MMU, or physical with `phys`.
   */
  addWatchpoint(addr: bigint, len: number, type: WatchType, opts: { phys?: boolean; hart?: number } = {}): Watchpoint {
    if (!Number.isInteger(len) || len < 1 || len > PAGE_SIZE) throw new DebugError(`watch length ${len} is out of range: 1 to ${PAGE_SIZE} bytes`);
    const va = BigInt.asUintN(64, addr);
    const pa = opts.phys ? Number(va) : this.translate(va, opts.hart);
    const bytes = opts.phys ? len : this.contiguous(va, len, pa, opts.hart);
    const off = this.machine.mem.offsetOf(pa, bytes);
    if (off < 0) throw new DebugError(`${hex(va)} (physical ${hex(pa)}) is not RAM: only memory can be watched`);
    const wp: Watchpoint = { kind: 'watchpoint', id: this.nextId++, addr: va, len, type, pa, off, hits: 0 };
    this.watchpoints.set(wp.id, wp);
    for (let p = off - (off % PAGE_SIZE); p < off + len; p += PAGE_SIZE) this.watchPages.set(p, (this.watchPages.get(p) ?? 0) + 1);
    this.flushTlbs();
    return wp;
  }

  /** A virtual range must be physically contiguous to be watched as one. */
  private contiguous(va: bigint, len: number, pa: number, hart?: number): number {
    const firstPart = PAGE_SIZE - (pa % PAGE_SIZE);
    if (len > firstPart) {
      const pa2 = this.translate(va + BigInt(firstPart), hart);
      if (pa2 !== pa + firstPart) throw new DebugError(`${hex(va)}+${len} crosses into a page that is not physically next to it: watch each page on its own`);
    }
    return len;
  }

  /** Delete breakpoint or watchpoint `id`; false when there is none. */
  delete(id: number): boolean {
    const bp = this.breakpoints.get(id);
    if (bp) {
      this.breakpoints.delete(id);
      const list = this.byPc.get(bp.addr)!.filter((b) => b !== bp);
      if (list.length) this.byPc.set(bp.addr, list);
      else this.byPc.delete(bp.addr);
      const key = pageKeyOf(bp.addr);
      const n = this.breakPages.get(key)! - 1;
      if (n) this.breakPages.set(key, n);
      else this.breakPages.delete(key);
      return true;
    }
    const wp = this.watchpoints.get(id);
    if (wp) {
      this.watchpoints.delete(id);
      for (let p = wp.off - (wp.off % PAGE_SIZE); p < wp.off + wp.len; p += PAGE_SIZE) {
        const n = this.watchPages.get(p)! - 1;
        if (n) this.watchPages.set(p, n);
        else this.watchPages.delete(p);
      }
      return true;
    }
    return false;
  }

  /** Delete the breakpoints at `addr` (gdb's z0/z1); false when there was none. */
  deleteBreakpointAt(addr: bigint): boolean {
    const list = this.byPc.get(BigInt.asUintN(64, addr));
    if (!list) return false;
    for (const bp of [...list]) this.delete(bp.id);
    return true;
  }

  /** Delete the watchpoints set with this address, length and type (gdb's z2–z4); false when none. */
  deleteWatchpointAt(addr: bigint, len: number, type: WatchType): boolean {
    const va = BigInt.asUintN(64, addr);
    let found = false;
    for (const wp of [...this.watchpoints.values()]) {
      if (wp.addr === va && wp.len === len && wp.type === type) found = this.delete(wp.id) || found;
    }
    return found;
  }

  /** Every breakpoint and watchpoint, by id. */
  list(): (Breakpoint | Watchpoint)[] {
    return [...this.breakpoints.values(), ...this.watchpoints.values()].sort((a, b) => a.id - b.id);
  }

  private flushTlbs(): void {
    for (const h of this.machine.harts) h.mmu.flush();
  }

  private breakAt(hart: Hart, pc: bigint): boolean {
    const list = this.byPc.get(pc);
    if (!list) return false;
    return list.some((b) => b.hart === undefined || b.hart === hart.hartId);
  }

  private access(hart: Hart, off: number, len: number, write: boolean): boolean {
    if (this.watchpoints.size === 0) return false;
    for (const wp of this.watchpoints.values()) {
      if (off >= wp.off + wp.len || wp.off >= off + len) continue;
      if (write ? wp.type === 'read' : wp.type === 'write') continue;
      if (this.hit === undefined) {
        this.hit = { watchpoint: wp, hart, insnPc: hart.pc, write, old: this.machine.mem.u8.slice(wp.off, wp.off + wp.len) };
      }
      return true;
    }
    return false;
  }

  // --- running --------------------------------------------------------------

  /** Ask a running cont() / contAsync() to stop at the next slice boundary (gdb's ^C). */
  requestStop(): void {
    this.stopRequested = true;
  }

  /** Clear the harts' stop marks and arrange to go past the breakpoint the last stop reported. */
  private prepareResume(): void {
    for (const h of this.machine.harts) h.debugStop = undefined;
    const r = this.resumeFrom;
    this.resumeFrom = undefined;
    if (r && r.hart.pc === r.pc && this.byPc.has(r.pc)) r.hart.skipBreakPc = r.pc;
  }

  /**
   * Execute one instruction on hart `i` (default: the current one); the
   * others stay stopped. A hart that cannot execute now (it waits in WFI, or
   * SBI HSM has not started it) is stepped the way a step under gdb and QEMU
   * goes when the other CPUs run: the machine runs on, every hart, until
   * that hart executes its one instruction (the first of the interrupt
   * handler, typically) — or something else stops it first (a breakpoint, a
   * watchpoint, power-off), or `waitLimit` instructions pass ('blocked').
   */
  step(i = this.current, waitLimit = STEP_WAIT_LIMIT): StopEvent {
    const h = this.hart(i);
    if (this.machine.exit) return { reason: 'exit', exit: this.machine.exit };
    if (h.halted || (h.wfi && !h.wakeable())) return this.stepWaiting(h, waitLimit);
    this.prepareResume();
    if (this.byPc.has(h.pc)) h.skipBreakPc = h.pc;
    this.hit = undefined;
    this.machine.stepHart(h);
    h.skipBreakPc = -1n;
    return this.stopped(h, { reason: 'step', hart: i, pc: h.pc });
  }

  private stepWaiting(h: Hart, waitLimit: number): StopEvent {
    const i = h.hartId;
    const waits = h.halted ? 'is stopped (SBI HSM) until another hart starts it' : 'waits for an interrupt (wfi)';
    this.prepareResume();
    this.hit = undefined;
    h.stepOnce = true;
    let r: ReturnType<Machine['run']>;
    try {
      r = this.machine.run(waitLimit);
    } finally {
      h.stepOnce = false;
    }
    if (r === 'limit') return { reason: 'blocked', hart: i, pc: h.pc, why: `hart ${i} ${waits}, and did not run within ${waitLimit} instructions of the others` };
    if (r === 'idle') return { reason: 'blocked', hart: i, pc: h.pc, why: `hart ${i} ${waits}, and nothing can wake it: every hart waits, no timer is armed` };
    if (r === 'break' && this.machine.debugHart === h && h.debugStop === 'step') {
      h.debugStop = undefined;
      this.current = i;
      return { reason: 'step', hart: i, pc: h.pc };
    }
    return this.afterRun(r);
  }

  /**
   * Run the machine until a breakpoint, a watchpoint, power-off, every hart
   * idle, or `limit` more instructions (then 'limit').
   */
  cont(limit = Infinity): StopEvent {
    this.prepareResume();
    this.hit = undefined;
    const r = this.machine.run(limit);
    return this.afterRun(r);
  }

  /**
   * cont() in slices of `slice` instructions, yielding to the event loop
   * between them so that requestStop() (a ^C, a gdb interrupt packet) can
   * land. The same run as one cont(): slicing never changes the guest.
   */
  async contAsync(limit = Infinity, slice = 200 * QUANTUM): Promise<StopEvent> {
    this.stopRequested = false;
    this.prepareResume();
    this.hit = undefined;
    const stopAt = this.machine.insns + limit;
    for (;;) {
      const n = Math.min(slice, stopAt - this.machine.insns);
      const r = this.machine.run(n);
      if (r !== 'limit') return this.afterRun(r);
      if (this.machine.insns >= stopAt) return { reason: 'limit' };
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.stopRequested) {
        this.stopRequested = false;
        return { reason: 'interrupted' };
      }
    }
  }

  private afterRun(r: ReturnType<Machine['run']>): StopEvent {
    if (r === 'exit') return { reason: 'exit', exit: this.machine.exit! };
    if (r === 'limit') return { reason: 'limit' };
    if (r === 'idle') return { reason: 'idle' };
    const h = this.machine.debugHart!;
    return this.stopped(h, { reason: 'step', hart: h.hartId, pc: h.pc });
  }

  /** Turn a hart's debugStop into the event to report (or `otherwise`). */
  private stopped(h: Hart, otherwise: StopEvent): StopEvent {
    const why = h.debugStop;
    h.debugStop = undefined;
    if (this.machine.exit) return { reason: 'exit', exit: this.machine.exit };
    if (why === 'break') {
      const pc = h.pc;
      const bp = (this.byPc.get(pc) ?? []).find((b) => b.hart === undefined || b.hart === h.hartId)!;
      bp.hits++;
      this.resumeFrom = { hart: h, pc };
      this.current = h.hartId;
      if (bp.temporary) this.delete(bp.id);
      return { reason: 'breakpoint', hart: h.hartId, pc, breakpoint: bp };
    }
    if (why === 'watch' && this.hit) {
      const hit = this.hit;
      this.hit = undefined;
      const wp = hit.watchpoint;
      wp.hits++;
      this.current = hit.hart.hartId;
      return {
        reason: 'watchpoint', hart: hit.hart.hartId, pc: hit.hart.pc, watchpoint: wp, insnPc: hit.insnPc, write: hit.write,
        old: hit.old, value: this.machine.mem.u8.slice(wp.off, wp.off + wp.len),
      };
    }
    return otherwise;
  }

  // --- memory ---------------------------------------------------------------

  /**
   * The physical address of `va` as hart `i` sees it now: its satp and
   * privilege (M-mode and Bare translate nothing). Throws DebugError when the
   * address does not map.
   */
  translate(va: bigint, i = this.current): number {
    const t = this.walk(va, i);
    if (typeof t === 'string') throw new DebugError(t);
    return t;
  }

  private walk(va: bigint, i: number): number | string {
    const h = this.hart(i);
    const v = BigInt.asUintN(64, va);
    if (h.priv === PRV_M || h.satpMode !== SATP_MODE_SV39) {
      if (v > BigInt(Number.MAX_SAFE_INTEGER)) return `${hex(v)} is beyond physical memory (hart ${i} translates nothing: ${h.priv === PRV_M ? 'M-mode' : 'satp is Bare'})`;
      return Number(v);
    }
    try {
      const t = walkSv39((pa, len) => this.readPhys(pa, len), h.satpPpn * PAGE_SIZE, v);
      if (!isTranslation(t)) return `${hex(v)} is not mapped on hart ${i}: ${t.reason}`;
      return t.pa;
    } catch (e) {
      if (e instanceof DebugError) return `${hex(v)}: the page-table walk left RAM (${e.message})`;
      throw e;
    }
  }

  readPhys(pa: number, len: number): Uint8Array {
    if (!Number.isSafeInteger(pa) || pa < 0 || !this.machine.mem.contains(pa, Math.max(1, len))) {
      throw new DebugError(`cannot read ${len} bytes at physical ${hex(pa)}: not RAM (the debugger does not read devices: their reads have side effects)`);
    }
    return this.machine.mem.readBytes(pa, len);
  }

  writePhys(pa: number, data: Uint8Array): void {
    const bank = this.machine.mem.bankOf(pa, Math.max(1, data.length));
    if (!Number.isSafeInteger(pa) || pa < 0 || bank === undefined) throw new DebugError(`cannot write ${data.length} bytes at physical ${hex(pa)}: not RAM`);
    this.machine.mem.writeBytes(pa, data);
    this.machine.hostWrote(pa, data.length);
    // Code may have changed: no hart may go on from a stale decode.
    this.flushTlbs();
  }

  /** Read through hart `i`'s translation, page by page. */
  readVirt(va: bigint, len: number, i = this.current): Uint8Array {
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const at = BigInt.asUintN(64, va + BigInt(done));
      const pa = this.translate(at, i);
      const n = Math.min(len - done, PAGE_SIZE - (pa % PAGE_SIZE));
      out.set(this.readPhys(pa, n), done);
      done += n;
    }
    return out;
  }

  /** Write through hart `i`'s translation; every page is translated before the first byte is written. */
  writeVirt(va: bigint, data: Uint8Array, i = this.current): void {
    const parts: [number, Uint8Array][] = [];
    let done = 0;
    while (done < data.length) {
      const at = BigInt.asUintN(64, va + BigInt(done));
      const pa = this.translate(at, i);
      const n = Math.min(data.length - done, PAGE_SIZE - (pa % PAGE_SIZE));
      if (!this.machine.mem.contains(pa, n)) throw new DebugError(`cannot write at ${hex(at)} (physical ${hex(pa)}): not RAM`);
      parts.push([pa, data.subarray(done, done + n)]);
      done += n;
    }
    for (const [pa, d] of parts) this.writePhys(pa, d);
  }

  /** Read from the current hart's view, or physical memory with `phys`. */
  read(addr: bigint, len: number, phys = false, i = this.current): Uint8Array {
    return phys ? this.readPhys(Number(BigInt.asUintN(64, addr)), len) : this.readVirt(addr, len, i);
  }
}
