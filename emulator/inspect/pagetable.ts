/**
 * Sv39 page tables read by the host (privileged spec 1.12, §4.3.2 and §4.4):
 * a walk from a root table that has no side effects (no A/D updates, no TLB
 * fill, no faults), for the debugger's virtual reads, the inspectors that
 * follow kernel pointers outside the linear map (vmalloc, per-CPU chunks,
 * pkmap) and the page-table dump.
 *
 *   VA bits 38..30 = VPN[2], 29..21 = VPN[1], 20..12 = VPN[0], 11..0 offset;
 *   bits 63..39 must equal bit 38 (else: not mapped).
 *   PTE: V R W X U G A D (bits 0..7), RSW 9..8, PPN 53..10; R = W = X = 0
 *   with V is a pointer to the next level, anything else with V a leaf
 *   (a 1 GiB leaf at level 2, 2 MiB at level 1, 4 KiB at level 0).
 *
 * A malformed entry (W without R, reserved bits set, a misaligned superpage,
 * a pointer at level 0) is reported as such, never followed, as the MMU would
 * raise a page fault on it.
 */
import type { ReadPhys } from './vmcoreinfo.js';

import { PTE_V, PTE_R, PTE_W, PTE_X } from '../cpu/riscv/csr.js';

export { PTE_V, PTE_R, PTE_W, PTE_X, PTE_U, PTE_G, PTE_A, PTE_D } from '../cpu/riscv/csr.js';
export const SATP_MODE_SV39 = 8n;
export const PAGE_SIZE = 4096;
/** Bytes mapped by a leaf at level 0, 1, 2. */
export const LEVEL_SIZE = [4096, 2 * 1024 * 1024, 1024 * 1024 * 1024] as const;

export class PageTableError extends Error {}

/** One level of a walk: the entry read and where it was. */
export interface WalkStep {
  level: number;
  /** Physical address of the PTE. */
  pteAddr: number;
  pte: bigint;
}

export interface Translation {
  va: bigint;
  /** Physical address of `va`. */
  pa: number;
  /** The leaf's level (2: 1 GiB, 1: 2 MiB, 0: 4 KiB). */
  level: number;
  /** The leaf PTE's low byte: V R W X U G A D. */
  flags: number;
  steps: WalkStep[];
}

/** Why a walk stopped without a leaf. */
export interface WalkFault {
  va: bigint;
  reason: string;
  steps: WalkStep[];
}

function u64(read: ReadPhys, pa: number): bigint {
  const b = read(pa, 8);
  return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
}

/** Is `va` canonical for Sv39 (bits 63..39 equal to bit 38)? */
export function canonicalSv39(va: bigint): boolean {
  const top = BigInt.asUintN(64, va) >> 38n;
  return top === 0n || top === (1n << 26n) - 1n;
}

/** The root table's physical address from a satp value, or undefined when satp is Bare. */
export function satpRoot(satp: bigint): number | undefined {
  if (BigInt.asUintN(64, satp) >> 60n !== SATP_MODE_SV39) return undefined;
  return Number(satp & ((1n << 44n) - 1n)) * PAGE_SIZE;
}

/**
 * Walk the Sv39 tables at physical `root` for `va`. Returns the translation,
 * or a WalkFault saying why there is none. Reads that leave guest memory
 * throw (the read function's error).
 */
export function walkSv39(read: ReadPhys, root: number, va: bigint): Translation | WalkFault {
  const v = BigInt.asUintN(64, va);
  const steps: WalkStep[] = [];
  if (!canonicalSv39(v)) return { va: v, reason: 'not a canonical Sv39 address (bits 63..39 must equal bit 38)', steps };
  let table = root;
  for (let level = 2; level >= 0; level--) {
    const vpn = Number((v >> BigInt(12 + 9 * level)) & 0x1ffn);
    const pteAddr = table + vpn * 8;
    const pte = u64(read, pteAddr);
    steps.push({ level, pteAddr, pte });
    const lo = Number(pte & 0xffn);
    if ((lo & PTE_V) === 0) return { va: v, reason: `no valid entry at level ${level}`, steps };
    if ((lo & PTE_R) === 0 && (lo & PTE_W) !== 0) return { va: v, reason: `level-${level} entry is writable but not readable (reserved)`, steps };
    if (pte >> 54n !== 0n) return { va: v, reason: `level-${level} entry has reserved bits 63..54 set`, steps };
    const ppn = (pte >> 10n) & ((1n << 44n) - 1n);
    if ((lo & (PTE_R | PTE_X)) === 0) {
      if (level === 0) return { va: v, reason: 'level-0 entry points to another table', steps };
      table = Number(ppn) * PAGE_SIZE;
      continue;
    }
    const lowMask = (1n << BigInt(9 * level)) - 1n;
    if ((ppn & lowMask) !== 0n) return { va: v, reason: `misaligned level-${level} superpage`, steps };
    const pageOff = v & (BigInt(LEVEL_SIZE[level]!) - 1n);
    return { va: v, pa: Number(ppn) * PAGE_SIZE + Number(pageOff), level, flags: lo, steps };
  }
  return { va: v, reason: 'no leaf', steps };
}

export function isTranslation(t: Translation | WalkFault): t is Translation {
  return 'pa' in t;
}

/** Physical address of `va`, or throw PageTableError naming why it does not map. */
export function translateSv39(read: ReadPhys, root: number, va: bigint): number {
  const t = walkSv39(read, root, va);
  if (!isTranslation(t)) throw new PageTableError(`0x${BigInt.asUintN(64, va).toString(16)} is not mapped: ${t.reason}`);
  return t.pa;
}

/** "rwxugad" style flag letters, '-' for clear bits, as Linux's ptdump shows them. */
export function pteFlagString(flags: number): string {
  const names = 'VRWXUGAD';
  let s = '';
  for (let i = 0; i < 8; i++) s += (flags & (1 << i)) !== 0 ? names[i] : '-';
  return s;
}

/**
 * Read `len` bytes at virtual `va` through the tables at `root`, page by page
 * (a range may cross pages that map to scattered frames). Throws
 * PageTableError at the first byte that does not map.
 */
export function readVirt(read: ReadPhys, root: number | undefined, va: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let done = 0;
  while (done < len) {
    const at = BigInt.asUintN(64, va + BigInt(done));
    const pa = root === undefined ? Number(at) : translateSv39(read, root, at);
    const chunk = Math.min(len - done, PAGE_SIZE - (pa % PAGE_SIZE));
    out.set(read(pa, chunk), done);
    done += chunk;
  }
  return out;
}
