/**
 * The MMU of one hart: Sv39 translation (privileged spec 1.12 §4.3-4.4),
 * physical memory protection (§3.7) and the software TLB.
 *
 * Software TLB
 * ------------
 * Three direct-mapped TLBs, one per access kind (fetch, load, store), as in
 * TinyEMU. Each holds RAM pages only: an entry maps a virtual page (tagged by
 * the full upper word of the address, so a non-canonical address can never
 * hit) to the byte offset of the physical page in the guest RAM buffer.
 * MMIO is never cached, so every device access takes the slow path.
 *
 *   index = (va >>> 12) & (TLB_SIZE - 1)
 *   hit   = tagLo[index] === va_lo >>> 12 && tagHi[index] === va_hi
 *   host  = off[index] + (va & 0xfff)
 *
 * An entry is installed only when the access it serves is allowed: fetch
 * entries need X, load entries R (or X with MXR), store entries W with the
 * dirty bit already set; and only when PMP grants the access for the whole
 * 4 KiB page (otherwise every access is checked on the slow path). The
 * entries depend on the effective privilege and on mstatus.SUM/MXR/MPRV/MPP,
 * satp and the PMP registers: a change to any of them flushes all three TLBs
 * (Hart calls flush()). The same TLB serves bare mode (identity mapping).
 *
 * A/D bits: this MMU updates them in hardware (the spec's second scheme,
 * §4.3.1): a walk that finds A=0, or D=0 for a store, sets the bit in the PTE
 * in memory. Linux and OpenSBI work with either scheme; hardware update keeps
 * the kernel's page-table code simple.
 *
 * Superpages are cached as the 4 KiB pages actually touched; `hasSuper`
 * remembers that a superpage fed the TLB, so that an `sfence.vma` of one
 * address then flushes everything (it must drop the whole superpage).
 */

import {
  CAUSE_FETCH_ACCESS, CAUSE_FETCH_PAGE_FAULT, CAUSE_LOAD_ACCESS, CAUSE_LOAD_PAGE_FAULT,
  CAUSE_STORE_ACCESS, CAUSE_STORE_PAGE_FAULT, MSTATUS_MPP, MSTATUS_MPP_SHIFT, MSTATUS_MPRV,
  MSTATUS_MXR, MSTATUS_SUM, PMP_A_NA4, PMP_A_NAPOT, PMP_A_OFF, PMP_A_SHIFT, PMP_A_TOR, PMP_COUNT,
  PMP_L, PMP_R, PMP_W, PMP_X, PRV_M, PRV_S, PRV_U, PTE_A, PTE_D, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X,
  SATP_MODE_SV39,
} from './csr.js';
import type { PhysMemory } from '../../machine/ram.js';

export const TLB_BITS = 10;
export const TLB_SIZE = 1 << TLB_BITS;
export const TLB_MASK = TLB_SIZE - 1;

export const ACCESS_FETCH = 0;
export const ACCESS_LOAD = 1;
export const ACCESS_STORE = 2;
export type AccessType = 0 | 1 | 2;

const PAGE_FAULT = [CAUSE_FETCH_PAGE_FAULT, CAUSE_LOAD_PAGE_FAULT, CAUSE_STORE_PAGE_FAULT];
const ACCESS_FAULT = [CAUSE_FETCH_ACCESS, CAUSE_LOAD_ACCESS, CAUSE_STORE_ACCESS];
const PMP_PERM = [PMP_X, PMP_R, PMP_W];
const TWO32 = 4294967296;

/** What the MMU needs of its hart. */
export interface MmuHost {
  priv: number;
  /** mstatus, low word. */
  mstatus: number;
  satpMode: number;
  /** Root page-table PPN. */
  satpPpn: number;
  /** Raise a synchronous exception: records it and throws (never returns). */
  raise(cause: number, tvalLo: number, tvalHi: number): never;
}

export class Mmu {
  // Fetch, load and store TLBs (see the note above).
  readonly ftLo = new Int32Array(TLB_SIZE).fill(-1);
  readonly ftHi = new Int32Array(TLB_SIZE);
  readonly ftOff = new Uint32Array(TLB_SIZE);
  readonly ltLo = new Int32Array(TLB_SIZE).fill(-1);
  readonly ltHi = new Int32Array(TLB_SIZE);
  readonly ltOff = new Uint32Array(TLB_SIZE);
  readonly stLo = new Int32Array(TLB_SIZE).fill(-1);
  readonly stHi = new Int32Array(TLB_SIZE);
  readonly stOff = new Uint32Array(TLB_SIZE);
  hasSuper = false;
  /**
   * Set by the board: RAM pages (by buffer offset) whose stores must take the
   * slow path: another hart's LR reservation, the HTIF tohost word, a watchpoint.
   */
  storeWatch: (pageOff: number) => boolean = () => false;
  /** Set by a debugger: RAM pages (by buffer offset) whose loads must take the slow path (watchpoints). */
  loadWatch: ((pageOff: number) => boolean) | null = null;
  /** Set by a debugger: virtual pages (lo, hi words of an address in them) with a breakpoint, never cached for fetch. */
  fetchWatch: ((lo: number, hi: number) => boolean) | null = null;
  /** Set by the board: the walk stored an A/D update to the PTE at RAM offset `off` (breaks reservations). */
  pteStored: (off: number) => void = () => {};

  // PMP registers (§3.7.1) and their decoded byte ranges [pmpLo, pmpHi).
  readonly pmpcfg = new Uint8Array(PMP_COUNT);
  readonly pmpaddr: bigint[] = new Array<bigint>(PMP_COUNT).fill(0n);
  private readonly pmpLo = new Float64Array(PMP_COUNT);
  private readonly pmpHi = new Float64Array(PMP_COUNT);
  /** Number of entries whose A field is not OFF (0 = fast "no PMP" path). */
  private pmpActive = 0;

  /** Set by translate(): whether the last translation may be cached in a TLB. */
  lastCacheable = false;

  constructor(private readonly hart: MmuHost, private readonly mem: PhysMemory) {}

  flush(): void {
    this.ftLo.fill(-1);
    this.ltLo.fill(-1);
    this.stLo.fill(-1);
    this.hasSuper = false;
  }

  /** sfence.vma with rs1 != x0: drop the entries for one virtual address. */
  flushVa(lo: number, hi: number): void {
    if (this.hasSuper) {
      this.flush();
      return;
    }
    const i = (lo >>> 12) & TLB_MASK;
    if (this.ftHi[i] === hi) this.ftLo[i] = -1;
    if (this.ltHi[i] === hi) this.ltLo[i] = -1;
    if (this.stHi[i] === hi) this.stLo[i] = -1;
  }

  /** Drop every store entry (another hart now holds a reservation, a watch was set …). */
  flushStores(): void {
    this.stLo.fill(-1);
  }

  /** Effective privilege for an access (§3.1.6.3: MPRV applies to loads and stores). */
  effectivePriv(access: AccessType): number {
    const h = this.hart;
    if (access !== ACCESS_FETCH && h.priv === PRV_M && (h.mstatus & MSTATUS_MPRV) !== 0) {
      return (h.mstatus & MSTATUS_MPP) >>> MSTATUS_MPP_SHIFT;
    }
    return h.priv;
  }

  /**
   * Translate a virtual address (lo, hi words) for `access`; returns the
   * physical address as a number, or raises a page or access fault.
   * Also checks PMP for `len` bytes. Sets `lastCacheable`.
   */
  translate(lo: number, hi: number, access: AccessType, len: number): number {
    const h = this.hart;
    const priv = this.effectivePriv(access);
    let pa: number;
    let cacheable = true;
    if (priv === PRV_M || h.satpMode !== SATP_MODE_SV39) {
      pa = (hi >>> 0) * TWO32 + (lo >>> 0);
    } else {
      // §4.4.1: bits 63..39 must all equal bit 38.
      const top = hi >> 6;
      if ((top !== 0 && top !== -1) || (top & 1) !== ((hi >>> 6) & 1)) h.raise(PAGE_FAULT[access], lo, hi);
      pa = this.walk(lo, hi, access, priv);
    }
    if (!this.pmpAllows(pa, len, access, priv)) h.raise(ACCESS_FAULT[access], lo, hi);
    if (cacheable) cacheable = this.pmpWholePage(pa - (pa % 4096), access, priv);
    this.lastCacheable = cacheable;
    return pa;
  }

  /** §4.3.2: the Sv39 walk. Returns the physical address. */
  private walk(lo: number, hi: number, access: AccessType, priv: number): number {
    const h = this.hart;
    const mem = this.mem;
    const vpn = [(lo >>> 12) & 0x1ff, (lo >>> 21) & 0x1ff, ((lo >>> 30) | ((hi & 0x7f) << 2)) & 0x1ff];
    let table = h.satpPpn * 4096;
    for (let level = 2; level >= 0; level--) {
      const pteAddr = table + vpn[level] * 8;
      // The walk's own reads are S-mode accesses for PMP (§3.7.1) and must be RAM.
      if (!this.pmpAllows(pteAddr, 8, ACCESS_LOAD, PRV_S)) h.raise(ACCESS_FAULT[access], lo, hi);
      const off = mem.offsetOf(pteAddr, 8);
      if (off < 0) h.raise(ACCESS_FAULT[access], lo, hi);
      let pteLo = mem.i32[off >>> 2];
      const pteHi = mem.i32[(off >>> 2) + 1];
      // Reserved bits 63..54 (N, PBMT and the rest) are not implemented: must be 0.
      if ((pteLo & PTE_V) === 0 || ((pteLo & PTE_R) === 0 && (pteLo & PTE_W) !== 0) || pteHi >>> 22 !== 0) {
        h.raise(PAGE_FAULT[access], lo, hi);
      }
      const ppnLo = pteLo >>> 10; // PPN bits 0..21
      const ppnHi = pteHi & 0x3fffff; // PPN bits 22..43
      if ((pteLo & (PTE_R | PTE_X)) === 0) {
        // Pointer to the next level; D, A and U must be 0 on non-leaf PTEs (§4.3.1).
        if (level === 0 || (pteLo & (PTE_D | PTE_A | PTE_U)) !== 0) h.raise(PAGE_FAULT[access], lo, hi);
        table = (ppnHi * 4194304 + ppnLo) * 4096;
        continue;
      }
      // Leaf: permissions (§4.3.2 step 5).
      const user = (pteLo & PTE_U) !== 0;
      if (priv === PRV_U && !user) h.raise(PAGE_FAULT[access], lo, hi);
      if (priv === PRV_S && user && (access === ACCESS_FETCH || (h.mstatus & MSTATUS_SUM) === 0)) {
        h.raise(PAGE_FAULT[access], lo, hi);
      }
      if (access === ACCESS_FETCH) {
        if ((pteLo & PTE_X) === 0) h.raise(PAGE_FAULT[access], lo, hi);
      } else if (access === ACCESS_LOAD) {
        const readable = (pteLo & PTE_R) !== 0 || ((h.mstatus & MSTATUS_MXR) !== 0 && (pteLo & PTE_X) !== 0);
        if (!readable) h.raise(PAGE_FAULT[access], lo, hi);
      } else if ((pteLo & PTE_W) === 0) {
        h.raise(PAGE_FAULT[access], lo, hi);
      }
      // Misaligned superpage (step 6).
      const lowMask = level === 2 ? 0x3ffff : level === 1 ? 0x1ff : 0;
      if ((ppnLo & lowMask) !== 0) h.raise(PAGE_FAULT[access], lo, hi);
      // A/D in hardware (step 7).
      const need = PTE_A | (access === ACCESS_STORE ? PTE_D : 0);
      if ((pteLo & need) !== need) {
        // The update is a store: PMP and PMA (read-only memory) must allow it.
        if (!this.pmpAllows(pteAddr, 8, ACCESS_STORE, PRV_S) || mem.bankOf(pteAddr, 8)!.readOnly) {
          h.raise(ACCESS_FAULT[access], lo, hi);
        }
        pteLo |= need;
        mem.i32[off >>> 2] = pteLo;
        this.pteStored(off);
      }
      if (level > 0) this.hasSuper = true;
      // Page number of the 4 KiB page: the leaf's PPN with the low levels from the VA.
      const pagePpnLo = (ppnLo & ~lowMask) | ((lo >>> 12) & lowMask);
      return (ppnHi * 4194304 + pagePpnLo) * 4096 + (lo & 0xfff);
    }
    return h.raise(PAGE_FAULT[access], lo, hi);
  }

  // --- PMP ------------------------------------------------------------------

  /** Recompute the decoded ranges after a pmpcfg/pmpaddr write (§3.7.1). */
  updatePmp(): void {
    let active = 0;
    for (let i = 0; i < PMP_COUNT; i++) {
      const a = (this.pmpcfg[i] >> PMP_A_SHIFT) & 3;
      const addr = this.pmpaddr[i];
      let lo = 0n;
      let hi = 0n;
      if (a === PMP_A_TOR) {
        lo = i === 0 ? 0n : this.pmpaddr[i - 1] << 2n;
        hi = addr << 2n;
      } else if (a === PMP_A_NA4) {
        lo = addr << 2n;
        hi = lo + 4n;
      } else if (a === PMP_A_NAPOT) {
        // Trailing ones give the size: yyy...y0111 -> 2^(ones+3) bytes.
        let ones = 0n;
        while (ones < 54n && ((addr >> ones) & 1n) === 1n) ones++;
        const size = 1n << (ones + 3n);
        lo = (addr & ~((1n << ones) - 1n)) << 2n;
        hi = lo + size;
      }
      if (a !== PMP_A_OFF) active++;
      this.pmpLo[i] = Number(lo);
      this.pmpHi[i] = hi > lo ? Number(hi) : Number(lo);
    }
    this.pmpActive = active;
  }

  isPmpLocked(i: number): boolean {
    return (this.pmpcfg[i] & PMP_L) !== 0;
  }

  /** §3.7.1: may `priv` access [pa, pa + len) this way? */
  pmpAllows(pa: number, len: number, access: AccessType, priv: number): boolean {
    // §3.7.1: with no entry matching, M-mode succeeds and S/U fail, since
    // PMP entries are implemented (even when all are OFF).
    if (this.pmpActive === 0) return priv === PRV_M;
    const end = pa + len;
    for (let i = 0; i < PMP_COUNT; i++) {
      const cfg = this.pmpcfg[i];
      if (((cfg >> PMP_A_SHIFT) & 3) === PMP_A_OFF) continue;
      const lo = this.pmpLo[i];
      const hi = this.pmpHi[i];
      if (end <= lo || pa >= hi) continue; // no byte matches
      if (pa < lo || end > hi) return false; // some bytes match, not all: fails
      if (priv === PRV_M && (cfg & PMP_L) === 0) return true;
      return (cfg & PMP_PERM[access]) !== 0;
    }
    return priv === PRV_M;
  }

  /** Does PMP give the same answer (allowed) for every byte of this 4 KiB page? */
  private pmpWholePage(page: number, access: AccessType, priv: number): boolean {
    return this.pmpAllows(page, 4096, access, priv);
  }

  /** The TLB entry for `access` at this virtual page now maps the page of buffer offset `off`. */
  install(access: AccessType, lo: number, hi: number, off: number): void {
    const i = (lo >>> 12) & TLB_MASK;
    const tag = lo >>> 12;
    const pageOff = off - (off % 4096);
    if (access === ACCESS_FETCH) {
      if (this.fetchWatch !== null && this.fetchWatch(lo, hi)) return;
      this.ftLo[i] = tag; this.ftHi[i] = hi; this.ftOff[i] = pageOff;
    } else if (access === ACCESS_LOAD) {
      if (this.loadWatch !== null && this.loadWatch(pageOff)) return;
      this.ltLo[i] = tag; this.ltHi[i] = hi; this.ltOff[i] = pageOff;
    } else if (!this.storeWatch(pageOff)) {
      this.stLo[i] = tag; this.stHi[i] = hi; this.stOff[i] = pageOff;
    }
  }

  getState(): Record<string, unknown> {
    return { pmpcfg: Array.from(this.pmpcfg), pmpaddr: this.pmpaddr.map((a) => a.toString()) };
  }

  setState(s: Record<string, unknown>): void {
    (s.pmpcfg as number[]).forEach((v, i) => (this.pmpcfg[i] = v));
    (s.pmpaddr as string[]).forEach((v, i) => (this.pmpaddr[i] = BigInt(v)));
    this.updatePmp();
    this.flush();
  }
}
