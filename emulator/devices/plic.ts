/**
 * PLIC: the RISC-V Platform-Level Interrupt Controller, laid out as QEMU `virt`
 * configures its SiFive PLIC ("MS" per hart: 7 priority levels).
 *
 * Spec: RISC-V PLIC Specification 1.0.0, chapters "Interrupt Gateways",
 * "Interrupt Identifiers", "Memory Map", "Interrupt Priorities", "Interrupt
 * Pending Bits", "Interrupt Enables", "Priority Thresholds", "Interrupt Claim
 * Process", "Interrupt Completion".
 *
 *   offset                          register                       access
 *   0x00_0000 + 4*src               priority[src], src 1..ndev     RW, 3 bits (WARL)
 *   0x00_1000 + 4*w                 pending bits, sources 32w..    RO
 *   0x00_2000 + 0x80*ctx + 4*w      enable bits of context ctx     RW
 *   0x20_0000 + 0x1000*ctx          threshold of context ctx       RW, 3 bits (WARL)
 *   0x20_0000 + 0x1000*ctx + 4      claim (read) / complete (write)
 *
 * Contexts: 2 per hart, as QEMU virt's "MS" hart config: context 2h is hart h
 * in M-mode (drives its mip.MEIP), context 2h+1 is hart h in S-mode (drives
 * its mip.SEIP). `contextLines[ctx]` is that wire.
 *
 * Everything is a 32-bit register: other access sizes and misaligned offsets
 * read 0 and are ignored, as are writes to read-only registers (the pending
 * array, source 0's priority, enable bits of source 0 and of sources above
 * ndev, which are hardwired to zero); holes read 0. QEMU faults sub-word
 * accesses; a Device here cannot fault.
 *
 * Gateway ("Interrupt Gateways", level-sensitive): the first assertion of a
 * source's line sets its pending (IP) bit; the gateway then forwards nothing
 * more until it receives the completion for that source. A claim clears IP and
 * puts the source in service; a completion ends service and, if the line is
 * still asserted, forwards a new request (IP set again). A line dropped while
 * IP is set does NOT clear IP: "the gateway does not have the facility to
 * retract an interrupt request once forwarded" (QEMU, by contrast, clears IP
 * when the line drops; software must tolerate both, e.g. Linux's handlers
 * return IRQ_NONE).
 *
 * Claim: returns the enabled pending source with the highest priority that is
 * above the context's threshold, ties going to the lowest ID ("Interrupt
 * Identifiers"), or 0. Deviation: the spec says a claim "is not affected by
 * the setting of the priority threshold register"; QEMU's virt PLIC (which we
 * copy) only returns sources above the threshold, so software behaves the same
 * on both. Priority 0 means "never interrupt" under either rule.
 *
 * Completion: "If the completion ID does not match an interrupt source that
 * is currently enabled for the target, the completion is silently ignored"
 * (Linux's plic_irq_eoi re-enables a disabled source around its completion
 * write because of exactly this rule).
 *
 * Outputs ("Interrupt Notifications"): context ctx's EIP = some source is
 * pending, enabled for ctx, with priority > threshold[ctx]. Re-evaluated after
 * every change; a line is driven only when its level changes, except after
 * construction, `reset()` and `setState()`, which drive every line.
 */

import type { AccessSize, Device, IrqLine } from '../machine/bus.js';

export const PLIC_PRIORITY_BASE = 0x00_0000;
export const PLIC_PENDING_BASE = 0x00_1000;
export const PLIC_ENABLE_BASE = 0x00_2000;
export const PLIC_ENABLE_STRIDE = 0x80;
export const PLIC_CONTEXT_BASE = 0x20_0000;
export const PLIC_CONTEXT_STRIDE = 0x1000;
export const PLIC_CONTEXT_THRESHOLD = 0x0;
export const PLIC_CONTEXT_CLAIM = 0x4;
/** Sources 1..1023 ("Memory Map": priority registers up to 0xFFC). */
export const PLIC_MAX_SOURCES = 1023;
/** QEMU virt: VIRT_IRQCHIP_NUM_PRIO = 7, i.e. a 3-bit WARL priority. */
export const PLIC_PRIORITY_MASK = 7;
/** Contexts per hart (M, S), as QEMU virt's "MS" config. */
export const PLIC_CONTEXTS_PER_HART = 2;

/** Context number of hart `hart` in M-mode (`m`) or S-mode (`s`). */
export function plicContext(hart: number, mode: 'm' | 's'): number {
  return hart * PLIC_CONTEXTS_PER_HART + (mode === 'm' ? 0 : 1);
}

function numberArray(v: unknown, len: number, what: string): number[] {
  if (!Array.isArray(v) || v.length !== len) throw new Error(`plic: bad ${what} in state`);
  return v.map((x) => Number(x) >>> 0);
}

export class Plic implements Device {
  readonly name = 'plic';
  readonly numHarts: number;
  readonly ndev: number;
  readonly numContexts: number;

  /** 32-bit words in each bit array (pending, in service, one context's enables). */
  private readonly words: number;
  /** Per word: which bits name real sources (1..ndev). */
  private readonly validMask: Uint32Array;

  private readonly priority: Uint8Array; // [0..ndev], [0] stays 0
  private readonly pending: Uint32Array;
  private readonly inService: Uint32Array; // claimed, completion not yet received
  private readonly enable: Uint32Array; // numContexts * words
  private readonly threshold: Uint8Array;
  private readonly lineLevel: Uint8Array; // [0..ndev], input wire levels

  private readonly contextLines: IrqLine[];
  private readonly contextLevel: Uint8Array;
  private readonly sources: IrqLine[];

  constructor(numHarts: number, ndev: number, contextLines: IrqLine[]) {
    if (!Number.isInteger(numHarts) || numHarts < 1) throw new RangeError(`plic: bad hart count ${numHarts}`);
    if (!Number.isInteger(ndev) || ndev < 1 || ndev > PLIC_MAX_SOURCES) {
      throw new RangeError(`plic: bad source count ${ndev}`);
    }
    const numContexts = numHarts * PLIC_CONTEXTS_PER_HART;
    // The enable array ends at 0x1F_FFFF ("Memory Map").
    if (PLIC_ENABLE_BASE + numContexts * PLIC_ENABLE_STRIDE > PLIC_CONTEXT_BASE) {
      throw new RangeError(`plic: too many harts (${numHarts})`);
    }
    if (contextLines.length !== numContexts) {
      throw new RangeError(`plic: need ${numContexts} context lines, got ${contextLines.length}`);
    }
    this.numHarts = numHarts;
    this.ndev = ndev;
    this.numContexts = numContexts;
    this.words = (ndev + 1 + 31) >>> 5;
    this.validMask = new Uint32Array(this.words);
    for (let src = 1; src <= ndev; src++) this.validMask[src >>> 5] |= 1 << (src & 31);

    this.priority = new Uint8Array(ndev + 1);
    this.pending = new Uint32Array(this.words);
    this.inService = new Uint32Array(this.words);
    this.enable = new Uint32Array(numContexts * this.words);
    this.threshold = new Uint8Array(numContexts);
    this.lineLevel = new Uint8Array(ndev + 1);
    this.contextLines = contextLines.slice();
    this.contextLevel = new Uint8Array(numContexts);

    this.sources = [];
    for (let src = 0; src <= ndev; src++) {
      this.sources.push({ set: (level: boolean) => this.setLine(src, level) });
    }
    this.reset();
  }

  /** The input wire of source `n` (1..ndev), to hand to a device. */
  source(n: number): IrqLine {
    if (!Number.isInteger(n) || n < 1 || n > this.ndev) throw new RangeError(`plic: no source ${n}`);
    return this.sources[n];
  }

  /**
   * Power-on state: every register 0, nothing pending or in service. Input
   * wire levels are kept (devices own them); a source still asserted becomes
   * pending again.
   */
  reset(): void {
    this.priority.fill(0);
    this.pending.fill(0);
    this.inService.fill(0);
    this.enable.fill(0);
    this.threshold.fill(0);
    for (let src = 1; src <= this.ndev; src++) {
      if (this.lineLevel[src]) this.pending[src >>> 5] |= 1 << (src & 31);
    }
    this.driveAll();
  }

  // --- Device -----------------------------------------------------------------

  read(offset: number, size: AccessSize): number {
    if (size !== 4 || (offset & 3) !== 0) return 0;
    if (offset < PLIC_PENDING_BASE) {
      const src = offset >>> 2;
      return src <= this.ndev ? this.priority[src] : 0;
    }
    if (offset < PLIC_ENABLE_BASE) {
      const w = (offset - PLIC_PENDING_BASE) >>> 2;
      return w < this.words ? this.pending[w] : 0;
    }
    if (offset < PLIC_CONTEXT_BASE) {
      const rel = offset - PLIC_ENABLE_BASE;
      const ctx = Math.floor(rel / PLIC_ENABLE_STRIDE);
      const w = (rel % PLIC_ENABLE_STRIDE) >>> 2;
      return ctx < this.numContexts && w < this.words ? this.enable[ctx * this.words + w] : 0;
    }
    const rel = offset - PLIC_CONTEXT_BASE;
    const ctx = Math.floor(rel / PLIC_CONTEXT_STRIDE);
    if (ctx >= this.numContexts) return 0;
    switch (rel % PLIC_CONTEXT_STRIDE) {
      case PLIC_CONTEXT_THRESHOLD:
        return this.threshold[ctx];
      case PLIC_CONTEXT_CLAIM:
        return this.claim(ctx);
      default:
        return 0;
    }
  }

  write(offset: number, size: AccessSize, value: number): void {
    if (size !== 4 || (offset & 3) !== 0) return;
    value >>>= 0;
    if (offset < PLIC_PENDING_BASE) {
      const src = offset >>> 2;
      if (src === 0 || src > this.ndev) return;
      this.priority[src] = value & PLIC_PRIORITY_MASK;
      this.update();
      return;
    }
    if (offset < PLIC_ENABLE_BASE) return; // pending bits are read-only
    if (offset < PLIC_CONTEXT_BASE) {
      const rel = offset - PLIC_ENABLE_BASE;
      const ctx = Math.floor(rel / PLIC_ENABLE_STRIDE);
      const w = (rel % PLIC_ENABLE_STRIDE) >>> 2;
      if (ctx >= this.numContexts || w >= this.words) return;
      this.enable[ctx * this.words + w] = value & this.validMask[w];
      this.update();
      return;
    }
    const rel = offset - PLIC_CONTEXT_BASE;
    const ctx = Math.floor(rel / PLIC_CONTEXT_STRIDE);
    if (ctx >= this.numContexts) return;
    switch (rel % PLIC_CONTEXT_STRIDE) {
      case PLIC_CONTEXT_THRESHOLD:
        this.threshold[ctx] = value & PLIC_PRIORITY_MASK;
        this.update();
        return;
      case PLIC_CONTEXT_CLAIM:
        this.complete(ctx, value);
        return;
      default:
        return;
    }
  }

  // --- Snapshots --------------------------------------------------------------

  getState(): Record<string, unknown> {
    const enable: number[][] = [];
    for (let ctx = 0; ctx < this.numContexts; ctx++) {
      enable.push(Array.from(this.enable.subarray(ctx * this.words, (ctx + 1) * this.words)));
    }
    return {
      version: 1,
      ndev: this.ndev,
      priority: Array.from(this.priority),
      pending: Array.from(this.pending),
      inService: Array.from(this.inService),
      enable,
      threshold: Array.from(this.threshold),
      lineLevel: Array.from(this.lineLevel),
    };
  }

  setState(state: Record<string, unknown>): void {
    if (state['version'] !== 1) throw new Error(`plic: unsupported state version ${String(state['version'])}`);
    if (state['ndev'] !== this.ndev) throw new Error(`plic: state is for ${String(state['ndev'])} sources`);
    const enable = state['enable'];
    if (!Array.isArray(enable) || enable.length !== this.numContexts) {
      throw new Error(`plic: state is not for ${this.numContexts} contexts`);
    }
    const priority = numberArray(state['priority'], this.ndev + 1, 'priority');
    const pending = numberArray(state['pending'], this.words, 'pending');
    const inService = numberArray(state['inService'], this.words, 'inService');
    const threshold = numberArray(state['threshold'], this.numContexts, 'threshold');
    const lineLevel = numberArray(state['lineLevel'], this.ndev + 1, 'lineLevel');
    for (let src = 0; src <= this.ndev; src++) {
      this.priority[src] = src === 0 ? 0 : priority[src] & PLIC_PRIORITY_MASK;
      this.lineLevel[src] = src === 0 ? 0 : lineLevel[src] & 1;
    }
    for (let w = 0; w < this.words; w++) {
      this.pending[w] = pending[w] & this.validMask[w];
      this.inService[w] = inService[w] & this.validMask[w];
    }
    for (let ctx = 0; ctx < this.numContexts; ctx++) {
      const words = numberArray(enable[ctx], this.words, 'enable');
      for (let w = 0; w < this.words; w++) this.enable[ctx * this.words + w] = words[w] & this.validMask[w];
      this.threshold[ctx] = threshold[ctx] & PLIC_PRIORITY_MASK;
    }
    this.driveAll();
  }

  // --- Internals --------------------------------------------------------------

  /** A source's input wire changed ("Interrupt Gateways", level-sensitive). */
  private setLine(src: number, level: boolean): void {
    if (src === 0) return;
    const v = level ? 1 : 0;
    if (this.lineLevel[src] === v) return;
    this.lineLevel[src] = v;
    if (level) this.request(src);
    // A falling line leaves IP alone: a forwarded request cannot be retracted.
  }

  /** The gateway forwards a request unless one is pending or in service. */
  private request(src: number): void {
    const w = src >>> 5;
    const bit = 1 << (src & 31);
    if ((this.pending[w] | this.inService[w]) & bit) return;
    this.pending[w] |= bit;
    this.update();
  }

  /**
   * The best source for `ctx`: pending, enabled, priority > threshold, highest
   * priority first, lowest ID on ties. 0 if none.
   */
  private best(ctx: number): number {
    let bestSrc = 0;
    let bestPrio = this.threshold[ctx];
    const base = ctx * this.words;
    for (let w = 0; w < this.words; w++) {
      let bits = this.pending[w] & this.enable[base + w];
      while (bits !== 0) {
        const j = 31 - Math.clz32(bits & -bits); // lowest set bit: ascending IDs
        bits &= bits - 1;
        const src = (w << 5) | j;
        const prio = this.priority[src];
        if (prio > bestPrio) {
          bestPrio = prio;
          bestSrc = src;
        }
      }
    }
    return bestSrc;
  }

  /** "Interrupt Claim Process". */
  private claim(ctx: number): number {
    const src = this.best(ctx);
    if (src !== 0) {
      const w = src >>> 5;
      const bit = 1 << (src & 31);
      this.pending[w] &= ~bit;
      this.inService[w] |= bit;
      this.update();
    }
    return src;
  }

  /** "Interrupt Completion": ignored unless `src` is enabled for `ctx`. */
  private complete(ctx: number, src: number): void {
    if (src === 0 || src > this.ndev) return;
    const w = src >>> 5;
    const bit = 1 << (src & 31);
    if ((this.enable[ctx * this.words + w] & bit) === 0) return;
    if ((this.inService[w] & bit) === 0) return;
    this.inService[w] &= ~bit;
    if (this.lineLevel[src]) this.request(src);
  }

  /** Recompute every context's EIP and drive the lines that changed. */
  private update(): void {
    for (let ctx = 0; ctx < this.numContexts; ctx++) {
      const level = this.best(ctx) !== 0 ? 1 : 0;
      if (level !== this.contextLevel[ctx]) {
        this.contextLevel[ctx] = level;
        this.contextLines[ctx].set(level === 1);
      }
    }
  }

  private driveAll(): void {
    for (let ctx = 0; ctx < this.numContexts; ctx++) {
      const level = this.best(ctx) !== 0 ? 1 : 0;
      this.contextLevel[ctx] = level;
      this.contextLines[ctx].set(level === 1);
    }
  }
}
