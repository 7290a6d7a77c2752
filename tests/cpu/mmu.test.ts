/**
 * Sv39 (priv 1.12 §4.3-4.4): page tables built by the guest in M-mode, then
 * used from S-mode (and U-mode): 4 KiB, 2 MiB and 1 GiB pages, the walk's
 * page faults, U/SUM/MXR, hardware A/D updates, non-canonical addresses,
 * sfence.vma, MPRV. Every page fault goes to the M-mode handler of the test
 * runtime, which logs mcause/mepc/mtval and MPP.
 *
 * Layout (physical; VA 0x8000_0000-0xbfff_ffff is mapped 1:1 so that code,
 * the runtime, the trap log and the page tables are reachable from S-mode):
 *
 *   root  PT + 0x0000   [0] 1 GiB PA 0 (devices)  [1] -> L1  [2] 1 GiB 1:1 DRAM
 *                       [3] 1 GiB alias of DRAM at VA 0xc000_0000
 *                       [4] 1 GiB leaf at PA 0x8020_0000 (misaligned)
 *                       [5] -> a "table" at PA 0x4000_0000 (no memory there)
 *                       [510] 1 GiB VA 0xffff_ffff_8000_0000 -> DRAM
 *   L1    PT + 0x1000   [0] -> L0  [1] 2 MiB -> 0x8060_0000  [2] 2 MiB -> 0x8060_1000 (misaligned)
 *                       [3] 2 MiB -> 0x8060_0000 (remapped by the sfence test)
 *   L0    PT + 0x2000   VA 0x4000_0000 + k·4 KiB, see L0 below
 */
import { describe, expect, it } from 'vitest';
import {
  CAUSE, DATA, MSTATUS_MPP, MSTATUS_MPRV, MSTATUS_MXR, MSTATUS_SUM, PT, enter, lit, runGuest, toM,
  type Guest, type TrapRecord,
} from '../helpers/guest.js';

const F = { V: 1n, R: 2n, W: 4n, X: 8n, U: 16n, G: 32n, A: 64n, D: 128n };
const RW = F.V | F.R | F.W | F.A | F.D;
const pte = (pa: bigint, flags: bigint): bigint => ((pa >> 12n) << 10n) | flags;
const ROOT = PT, L1 = PT + 0x1000n, L0 = PT + 0x2000n;
/** Data page k and the marker M-mode writes at its start. */
const PG = (k: number): bigint => DATA + 0x1_0000n + BigInt(k) * 0x1000n;
const MARK = (k: number): bigint => 0x1111_0000n + BigInt(k);
const VA = (k: number): bigint => 0x4000_0000n + BigInt(k) * 0x1000n;
const SUPER = 0x8060_0000n, SUPER2 = 0x8080_0000n;
const SATP = (8n << 60n) | (PT >> 12n);

/** L0 entries: index -> PTE (code pages are filled at run time, see CODE_PTES). */
const L0_PTES: [number, bigint][] = [
  [0, pte(PG(0), RW)],
  [1, 0n], // invalid
  [2, pte(PG(2), F.V | F.W | F.A | F.D)], // W without R: reserved
  [3, pte(PG(3), F.V)], // a pointer at level 0
  [4, pte(PG(4), RW | F.U)],
  [7, pte(PG(7), F.V | F.R | F.W)], // A = D = 0
  [8, pte(PG(8), F.V | F.R | F.W)], // A = D = 0
  [9, pte(PG(9), F.V | F.R | F.A)], // read-only
  [10, pte(PG(10), RW)],
  [11, pte(PG(11), RW | F.X)],
  [12, 0n],
  [13, pte(0x40_0000_0000n, RW)], // a leaf pointing where there is no memory
  [15, pte(PG(15), RW)],
  [16, pte(PG(18), RW) | (1n << 63n)], // N (Svnapot, not implemented): reserved
  [17, pte(PG(18), RW) | (1n << 61n)], // PBMT (Svpbmt, not implemented): reserved
];
/** [L0 index, label of a 4 KiB-aligned code page, flags] */
const CODE_PTES: [number, string, bigint][] = [
  [5, 'upage', F.V | F.R | F.W | F.X | F.U | F.A | F.D], // U code: S may never fetch it
  [6, 'xopage', F.V | F.X | F.A], // execute-only
  [14, 'ucode', F.V | F.R | F.X | F.U | F.A], // U-mode test code
];

function setupCode(): string {
  const st = (addr: bigint, v: bigint) => `    li t0, ${lit(addr)}\n    li t1, ${lit(v)}\n    sd t1, 0(t0)`;
  const lines: string[] = [
    st(ROOT + 0n * 8n, pte(0n, RW)),
    st(ROOT + 1n * 8n, pte(L1, F.V)),
    st(ROOT + 2n * 8n, pte(0x8000_0000n, RW | F.X)),
    st(ROOT + 3n * 8n, pte(0x8000_0000n, RW)),
    st(ROOT + 4n * 8n, pte(0x8020_0000n, RW)),
    st(ROOT + 5n * 8n, pte(0x4000_0000n, F.V)),
    st(ROOT + 510n * 8n, pte(0x8000_0000n, RW)),
    st(L1 + 0n * 8n, pte(L0, F.V)),
    st(L1 + 1n * 8n, pte(SUPER, RW)),
    st(L1 + 2n * 8n, pte(SUPER + 0x1000n, RW)),
    st(L1 + 3n * 8n, pte(SUPER, RW)),
    ...L0_PTES.map(([k, v]) => st(L0 + BigInt(k) * 8n, v)),
    ...Array.from({ length: 21 }, (_, k) => st(PG(k), MARK(k))),
    st(SUPER + 0x1_2340n, 0x2222_0000n),
    st(SUPER + 0x1000n, 0x2222_1000n),
    st(SUPER2 + 0x1000n, 0x3333_1000n),
  ];
  for (const [k, label, flags] of CODE_PTES) {
    lines.push(`    la t1, ${label}\n    srli t1, t1, 12\n    slli t1, t1, 10\n    ori t1, t1, ${flags}\n    li t0, ${lit(L0 + BigInt(k) * 8n)}\n    sd t1, 0(t0)`);
  }
  lines.push(`    li t0, ${lit(SATP)}\n    csrw satp, t0\n    sfence.vma`);
  return lines.join('\n');
}

/** Code pages, 4 KiB aligned, at the end of the image. `ucode` holds `u` (U-mode code). */
function codePages(u = '    j fail'): string {
  return `
    .align 12
upage:
    li a0, 0x66
    ret
    .align 12
xopage:
    addi a0, zero, 0x77       # 0x07700513
    ret
    .align 12
ucode:
${u}
    .align 12`;
}

/** M-mode setup, then `s` in S-mode; back to M, paging off, pass. */
function inS(s: string, opts: { u?: string; pre?: string } = {}): Guest {
  return runGuest(`
${setupCode()}
${opts.pre ?? ''}
${enter('S', 's_code')}
s_code:
${s}
${toM()}
    csrw satp, zero
    j pass
${codePages(opts.u)}`);
}

const faults = (g: Guest): [bigint, bigint, bigint][] => g.traps().map((t: TrapRecord) => [t.cause, t.epc, t.tval]);
const pteAt = (g: Guest, k: number): bigint => g.read(L0 + BigInt(k) * 8n, 8);

describe('Sv39 mappings of every size', () => {
  it('4 KiB page: load and store through it', () => {
    const g = inS(`
    li a1, ${lit(VA(0))}
    ld a0, 0(a1)
    li t0, 0xabcd
    sd t0, 8(a1)`);
    expect(g.traps()).toEqual([]);
    expect(g.reg('a0')).toBe(MARK(0));
    expect(g.read(PG(0) + 8n, 8)).toBe(0xabcdn);
  });

  it('2 MiB megapage: the low VA bits select the 4 KiB page inside it', () => {
    const g = inS(`
    li a1, 0x40212340
    ld a0, 0(a1)
    li a1, 0x40201000
    ld a2, 0(a1)
    li t0, 0x5678
    sd t0, 0x18(a1)`);
    expect(g.traps()).toEqual([]);
    expect([g.reg('a0'), g.reg('a2')]).toEqual([0x2222_0000n, 0x2222_1000n]);
    expect(g.read(SUPER + 0x1018n, 8)).toBe(0x5678n);
  });

  it('1 GiB gigapage at VA 0xc000_0000 and in the upper half (VA 0xffff_ffff_8000_0000)', () => {
    const off = PG(0) - 0x8000_0000n;
    const g = inS(`
    li a1, ${lit(0xc000_0000n + off)}
    ld a0, 0(a1)
    li a1, ${lit(0xffff_ffff_8000_0000n + off)}
    ld a2, 0(a1)
    li t0, 0x99
    sd t0, 16(a1)`);
    expect(g.traps()).toEqual([]);
    expect([g.reg('a0'), g.reg('a2')]).toEqual([MARK(0), MARK(0)]);
    expect(g.read(PG(0) + 16n, 8)).toBe(0x99n);
  });
});

describe('Sv39 page faults (§4.3.2)', () => {
  it('misaligned superpages: a 2 MiB leaf with PPN[0] != 0, a 1 GiB leaf with PPN[1] != 0', () => {
    const g = inS(`
    li a1, 0x40400000
l1: ld a0, 0(a1)
    li a1, 0x100000000
l2: ld a0, 0(a1)
s2: sd a0, 8(a1)`);
    expect(faults(g)).toEqual([
      [CAUSE.loadPage, g.sym('l1'), 0x4040_0000n],
      [CAUSE.loadPage, g.sym('l2'), 0x1_0000_0000n],
      [CAUSE.storePage, g.sym('s2'), 0x1_0000_0008n],
    ]);
    expect(g.traps().every((t) => (t.status & MSTATUS_MPP) >> 11n === 1n)).toBe(true);
  });

  it('invalid PTE, W without R, a pointer at level 0: load, store and fetch page faults', () => {
    const g = inS(`
    li a0, 0x5a
    li a1, ${lit(VA(1))}
l1: ld a0, 0(a1)
s1: sd a0, 0(a1)
    la s11, f1_back
    jalr a1
f1_back:
    li a1, ${lit(VA(2))}
l2: ld a0, 8(a1)
s2: sd a0, 8(a1)
    li a1, ${lit(VA(3))}
l3: lw a0, 4(a1)
s3: sb a0, 4(a1)`);
    expect(faults(g)).toEqual([
      [CAUSE.loadPage, g.sym('l1'), VA(1)],
      [CAUSE.storePage, g.sym('s1'), VA(1)],
      [CAUSE.fetchPage, VA(1), VA(1)],
      [CAUSE.loadPage, g.sym('l2'), VA(2) + 8n],
      [CAUSE.storePage, g.sym('s2'), VA(2) + 8n],
      [CAUSE.loadPage, g.sym('l3'), VA(3) + 4n],
      [CAUSE.storePage, g.sym('s3'), VA(3) + 4n],
    ]);
    expect(g.reg('a0')).toBe(0x5an); // no faulting load wrote its destination
  });

  it('a leaf with reserved bits 63-54 set (N, PBMT: extensions this hart lacks) faults (§4.4.1)', () => {
    const g = inS(`
    li a1, ${lit(VA(16))}
l1: ld a0, 0(a1)
    li a1, ${lit(VA(17))}
l2: ld a0, 0(a1)`);
    expect(faults(g)).toEqual([[CAUSE.loadPage, g.sym('l1'), VA(16)], [CAUSE.loadPage, g.sym('l2'), VA(17)]]);
  });

  it('store to a read-only page: store page fault; the page is unchanged', () => {
    const g = inS(`
    li a1, ${lit(VA(9))}
    ld a0, 0(a1)
s1: sd zero, 0(a1)
a1_: amoadd.d a2, a0, (a1)`);
    expect(faults(g)).toEqual([
      [CAUSE.storePage, g.sym('s1'), VA(9)],
      [CAUSE.storePage, g.sym('a1_'), VA(9)],
    ]);
    expect(g.reg('a0')).toBe(MARK(9));
    expect(g.read(PG(9), 8)).toBe(MARK(9));
  });

  it.each([
    ['bit 38 set, bits 63-39 clear', 0x0000_0040_0000_0000n],
    ['bit 63 set only', 0x8000_0000_0000_0000n],
    ['bits 63-39 set, bit 38 clear', 0xffff_ff80_0000_0000n],
    ['bit 39 set only', 0x0000_0080_0000_0000n],
  ])('non-canonical address (%s): page fault for load, store and fetch, stval = the address', (_n, va) => {
    const g = inS(`
    li a1, ${lit(va)}
l1: ld a0, 0(a1)
s1: sd a0, 0(a1)
    la s11, back
    jr a1
back:`);
    expect(faults(g)).toEqual([
      [CAUSE.loadPage, g.sym('l1'), va],
      [CAUSE.storePage, g.sym('s1'), va],
      [CAUSE.fetchPage, va, va],
    ]);
  });

  it('a canonical upper-half address with no mapping faults; the mapped one does not', () => {
    const g = inS(`
    li a1, 0xffffffc000000000
l1: ld a0, 0(a1)
    li a1, ${lit(0xffff_ffff_8000_0000n + (PG(1) - 0x8000_0000n))}
    ld a2, 0(a1)`);
    expect(faults(g)).toEqual([[CAUSE.loadPage, g.sym('l1'), 0xffff_ffc0_0000_0000n]]);
    expect(g.reg('a2')).toBe(MARK(1));
  });

  it('misaligned load/store across into an unmapped page: page fault naming the access, no partial effect', () => {
    const g = inS(`
    li a1, ${lit(VA(11) + 0xffcn)}
    li a0, 0x5a
    li t0, -1
    sd t0, -4(a1)
l1: ld a0, 0(a1)
s1: sd t0, 0(a1)
    ld a2, -4(a1)`);
    const t = g.traps();
    expect(t.map((x) => [x.cause, x.epc])).toEqual([[CAUSE.loadPage, g.sym('l1')], [CAUSE.storePage, g.sym('s1')]]);
    // priv 3.1.16 lets stval be the access's address or the faulting part's: it must lie within the access.
    for (const x of t) expect(x.tval >= VA(11) + 0xffcn && x.tval < VA(11) + 0x1004n, `stval ${x.tval.toString(16)}`).toBe(true);
    expect(g.reg('a0')).toBe(0x5an);
    expect(g.reg('a2')).toBe(0xffff_ffff_ffff_ffffn); // the mapped bytes were not written
    expect(g.read(PG(11) + 0xff8n, 8)).toBe(0xffff_ffff_ffff_ffffn);
  });

  it('a 32-bit instruction crossing into an unmapped page: fetch page fault, mepc = its start, mtval = the second page', () => {
    const g = inS(`
    li a1, ${lit(VA(11) + 0xffen)}
    li t0, 0x0513             # low parcel of addi a0, a0, ...
    sh t0, 0(a1)
    fence.i
    la s11, back
    jr a1
back:`);
    expect(faults(g)).toEqual([[CAUSE.fetchPage, VA(11) + 0xffen, VA(12)]]);
  });

  it('16-bit instructions in the last bytes of a page run without touching the unmapped next page', () => {
    const g = inS(`
    li a1, ${lit(VA(11) + 0xffcn)}
    li t0, 0x84024515         # c.li a0, 5 ; c.jr s0
    sw t0, 0(a1)
    fence.i
    li a0, 0
    la s0, back
    jr a1
back:`);
    expect(g.traps()).toEqual([]);
    expect(g.reg('a0')).toBe(5n);
  });

  it('a leaf pointing outside memory gives an access fault; a table outside memory too (never a page fault)', () => {
    const g = inS(`
    li a1, ${lit(VA(13))}
l1: ld a0, 0(a1)
s1: sd a0, 0(a1)
    li a1, 0x140000000
l2: ld a0, 0(a1)
s2: sw a0, 0(a1)`);
    expect(faults(g)).toEqual([
      [CAUSE.loadAccess, g.sym('l1'), VA(13)],
      [CAUSE.storeAccess, g.sym('s1'), VA(13)],
      [CAUSE.loadAccess, g.sym('l2'), 0x1_4000_0000n],
      [CAUSE.storeAccess, g.sym('s2'), 0x1_4000_0000n],
    ]);
  });

  it('page faults delegated to S-mode: scause/sepc/stval', () => {
    const g = runGuest(`
${setupCode()}
    li t0, ${(1n << 12n) | (1n << 13n) | (1n << 15n)}
    csrw medeleg, t0
${enter('S', 's_code')}
s_code:
    li a1, ${lit(VA(1))}
l1: ld a0, 0(a1)
s1: sd a0, 0(a1)
    la s11, back
    jr a1
back:
${toM()}
    csrw satp, zero
    j pass
${codePages()}`);
    expect(g.traps().map((t) => [t.mode, t.cause, t.epc, t.tval])).toEqual([
      ['S', CAUSE.loadPage, g.sym('l1'), VA(1)],
      ['S', CAUSE.storePage, g.sym('s1'), VA(1)],
      ['S', CAUSE.fetchPage, VA(1), VA(1)],
    ]);
  });
});

describe('U bit, SUM and MXR (§4.3.1, §4.1.1)', () => {
  it('S loads/stores on a U page fault without SUM and work with it', () => {
    const g = inS(`
    li a1, ${lit(VA(4))}
l1: ld a0, 0(a1)
s1: sd a0, 8(a1)
    li t0, ${MSTATUS_SUM}
    csrs sstatus, t0
    ld a2, 0(a1)
    li t1, 0x44
    sd t1, 8(a1)
    csrc sstatus, t0`);
    expect(faults(g)).toEqual([[CAUSE.loadPage, g.sym('l1'), VA(4)], [CAUSE.storePage, g.sym('s1'), VA(4) + 8n]]);
    expect(g.reg('a2')).toBe(MARK(4));
    expect(g.read(PG(4) + 8n, 8)).toBe(0x44n);
  });

  it('S can never fetch from a U page, with or without SUM', () => {
    const g = inS(`
    li a0, 0
    li a1, ${lit(VA(5))}
    la s11, b1
    jalr a1
b1:
    li t0, ${MSTATUS_SUM}
    csrs sstatus, t0
    la s11, b2
    jalr a1
b2:
    csrc sstatus, t0`);
    expect(faults(g)).toEqual([[CAUSE.fetchPage, VA(5), VA(5)], [CAUSE.fetchPage, VA(5), VA(5)]]);
    expect(g.reg('a0')).toBe(0n);
  });

  it('execute-only page: fetch works; loads fault unless MXR', () => {
    const g = inS(`
    li a1, ${lit(VA(6))}
    jalr a1                   # a0 = 0x77
    mv a2, a0
l1: lw a0, 0(a1)
    li t0, ${MSTATUS_MXR}
    csrs sstatus, t0
    lw a3, 0(a1)
s1: sw a3, 0(a1)
    csrc sstatus, t0`);
    expect(g.reg('a2')).toBe(0x77n);
    expect(g.reg('a3')).toBe(0x0770_0513n);
    expect(faults(g)).toEqual([[CAUSE.loadPage, g.sym('l1'), VA(6)], [CAUSE.storePage, g.sym('s1'), VA(6)]]);
  });

  it('U-mode: U pages work; S pages fault for load, store and fetch, even with SUM', () => {
    const g = runGuest(`
${setupCode()}
    li t0, ${MSTATUS_SUM}
    csrs mstatus, t0
    li t0, ${MSTATUS_MPP}
    csrc mstatus, t0          # MPP = U
    li t0, ${lit(VA(14))}
    csrw mepc, t0
    mret
u_done:
    csrw satp, zero
    j pass
${codePages(`
    li a1, ${lit(VA(4))}
    ld a2, 0(a1)
    li a1, ${lit(VA(0))}
ul1:
    ld a0, 0(a1)
us1:
    sd a0, 0(a1)
    la s11, ub
    jalr a1
ub:
${toM('u_done')}`)}`);
    const va = (label: string): bigint => VA(14) + g.sym(label) - g.sym('ucode');
    expect(g.reg('a2')).toBe(MARK(4));
    expect(faults(g)).toEqual([
      [CAUSE.loadPage, va('ul1'), VA(0)],
      [CAUSE.storePage, va('us1'), VA(0)],
      [CAUSE.fetchPage, VA(0), VA(0)],
    ]);
    expect(g.traps().every((t) => (t.status & MSTATUS_MPP) === 0n)).toBe(true);
  });
});

describe('A and D bits, updated by hardware (§4.3.1 second scheme)', () => {
  it('a load sets A only; a store sets A and D, even after a load cached the page', () => {
    const g = inS(`
    li a1, ${lit(VA(7))}
    ld a0, 0(a1)
    li a1, ${lit(VA(8))}
    ld a2, 0(a1)
    li t0, ${lit(L0 + 8n * 8n)}
    ld a3, 0(t0)              # PTE 8 after the load
    sd a2, 8(a1)
    ld a4, 0(t0)              # PTE 8 after the store`);
    expect(g.traps()).toEqual([]);
    expect([g.reg('a0'), g.reg('a2')]).toEqual([MARK(7), MARK(8)]);
    expect(pteAt(g, 7) & (F.A | F.D)).toBe(F.A);
    expect(g.reg('a3') & (F.A | F.D)).toBe(F.A);
    expect(g.reg('a4') & (F.A | F.D)).toBe(F.A | F.D);
    expect(pteAt(g, 8)).toBe(pte(PG(8), F.V | F.R | F.W | F.A | F.D));
  });

  it('a store to a page whose PTE has A = D = 0 sets both', () => {
    const g = inS(`
    li a1, ${lit(VA(7))}
    li t0, 1
    sw t0, 4(a1)`);
    expect(pteAt(g, 7)).toBe(pte(PG(7), F.V | F.R | F.W | F.A | F.D));
    expect(g.read(PG(7) + 4n, 4)).toBe(1n);
  });

  it('a faulting access sets neither bit', () => {
    const g = inS(`
    li t0, ${lit(L0 + 7n * 8n)}
    li t1, ${lit(pte(PG(7), F.V | F.R))}
    sd t1, 0(t0)
    sfence.vma
    li a1, ${lit(VA(7))}
s1: sd zero, 0(a1)`);
    expect(faults(g)).toEqual([[CAUSE.storePage, g.sym('s1'), VA(7)]]);
    expect(pteAt(g, 7)).toBe(pte(PG(7), F.V | F.R));
  });
});

describe('sfence.vma (§4.2.1)', () => {
  it('after changing a 4 KiB PTE, sfence.vma (all) makes the new mapping visible', () => {
    const g = inS(`
    li a1, ${lit(VA(10))}
    ld a0, 0(a1)
    li t0, ${lit(L0 + 10n * 8n)}
    li t1, ${lit(pte(PG(20), RW))}
    sd t1, 0(t0)
    sfence.vma
    ld a2, 0(a1)`);
    expect([g.reg('a0'), g.reg('a2')]).toEqual([MARK(10), MARK(20)]);
  });

  it('sfence.vma rs1 = the address also drops that page\'s translation; invalidating a PTE then faults', () => {
    const g = inS(`
    li a1, ${lit(VA(15))}
    ld a0, 0(a1)
    sd a0, 8(a1)
    li t0, ${lit(L0 + 15n * 8n)}
    li t1, ${lit(pte(PG(19), RW))}
    sd t1, 0(t0)
    sfence.vma a1, zero
    ld a2, 0(a1)
    sd zero, 0(t0)
    sfence.vma a1
l1: ld a3, 0(a1)
s1: sd a3, 0(a1)`);
    expect([g.reg('a0'), g.reg('a2')]).toEqual([MARK(15), MARK(19)]);
    expect(faults(g)).toEqual([[CAUSE.loadPage, g.sym('l1'), VA(15)], [CAUSE.storePage, g.sym('s1'), VA(15)]]);
  });

  it('sfence.vma of one address inside a 2 MiB page drops the whole superpage (another 4 KiB of it too)', () => {
    const g = inS(`
    li a1, 0x40600000
    li a2, 0x40601000
    ld a0, 0(a1)
    ld a3, 0(a2)
    sd a3, 8(a2)
    li t0, ${lit(L1 + 3n * 8n)}
    li t1, ${lit(pte(SUPER2, RW))}
    sd t1, 0(t0)
    sfence.vma a1
    ld a4, 0(a2)`);
    expect([g.reg('a3'), g.reg('a4')]).toEqual([0x2222_1000n, 0x3333_1000n]);
  });

  it('changing satp changes the translation (the TLB is not stale across satp writes)', () => {
    // A second root that maps VA 0x4000_0000 (1 GiB) to DRAM 1:1 at 0x8000_0000, plus the identity gigapages.
    const root2 = PT + 0x8000n;
    const g = inS(`
    li a1, ${lit(VA(0))}
    ld a0, 0(a1)
    li t0, ${lit(root2)}
    li t1, ${lit(pte(0n, RW))}
    sd t1, 0(t0)
    li t1, ${lit(pte(0x8000_0000n, RW))}
    sd t1, 8(t0)
    li t1, ${lit(pte(0x8000_0000n, RW | F.X))}
    sd t1, 16(t0)
    li t0, ${lit((8n << 60n) | (root2 >> 12n))}
    csrw satp, t0
    li a2, ${lit(0x4000_0000n + (PG(2) - 0x8000_0000n))}
    ld a2, 0(a2)
    ld a3, 0(a1)`);
    expect([g.reg('a0'), g.reg('a2'), g.reg('a3')]).toEqual([MARK(0), MARK(2), g.read(0x8000_0000n, 8)]);
  });
});

describe('MPRV (§3.1.6.3)', () => {
  it('M-mode with MPRV and MPP = S: loads and stores translate; fetches do not', () => {
    const g = runGuest(`
${setupCode()}
    li t0, ${MSTATUS_MPP}
    csrc mstatus, t0
    li t0, ${(1n << 11n) | MSTATUS_MPRV}
    csrs mstatus, t0          # MPRV = 1, MPP = S
    li a1, ${lit(VA(0))}
    ld a0, 0(a1)
    li t1, 0x4242
    sd t1, 16(a1)
    li a1, ${lit(VA(1))}
l1: ld a2, 0(a1)
    li t0, ${MSTATUS_MPRV}
    csrc mstatus, t0
    csrw satp, zero
    j pass
${codePages()}`);
    expect(g.reg('a0')).toBe(MARK(0));
    expect(g.read(PG(0) + 16n, 8)).toBe(0x4242n);
    expect(faults(g)).toEqual([[CAUSE.loadPage, g.sym('l1'), VA(1)]]);
    expect((g.traps()[0].status & MSTATUS_MPP) >> 11n).toBe(3n); // the trap came from M
  });

  it('MPRV with MPP = U: U permission rules, SUM irrelevant for U; MPRV with MPP = M: no translation', () => {
    const g = runGuest(`
${setupCode()}
    li t0, ${MSTATUS_MPP}
    csrc mstatus, t0
    li t0, ${MSTATUS_MPRV | MSTATUS_SUM}
    csrs mstatus, t0          # MPRV = 1, MPP = U
    li a1, ${lit(VA(4))}
    ld a0, 0(a1)
    li a1, ${lit(VA(0))}
l1: ld a2, 0(a1)
    li t0, ${MSTATUS_MPP}
    csrs mstatus, t0          # MPP = M
    li a1, ${lit(PG(3))}
    ld a3, 0(a1)
    li t0, ${MSTATUS_MPRV}
    csrc mstatus, t0
    csrw satp, zero
    j pass
${codePages()}`);
    expect(g.reg('a0')).toBe(MARK(4));
    expect(faults(g)).toEqual([[CAUSE.loadPage, g.sym('l1'), VA(0)]]);
    expect(g.reg('a3')).toBe(MARK(3));
  });
});

describe('TLB tags and code across the 4 GiB boundary', () => {
  it('two virtual pages with the same TLB index (4 MiB apart) keep their own translations', () => {
    const g = inS(`
    li t0, ${lit(L1 + 3n * 8n)}
    li t1, ${lit(pte(SUPER2, RW))}
    sd t1, 0(t0)
    sfence.vma
    li a1, 0x40201000
    li a2, 0x40601000
    ld s2, 0(a1)
    ld s3, 0(a2)
    ld s4, 0(a1)
    ld s5, 0(a2)
    li t0, 0x77
    sd t0, 8(a1)
    li t0, 0x88
    sd t0, 8(a2)
    ld s6, 8(a1)`);
    expect(['s2', 's3', 's4', 's5', 's6'].map((r) => g.reg(r))).toEqual([0x2222_1000n, 0x3333_1000n, 0x2222_1000n, 0x3333_1000n, 0x77n]);
    expect([g.read(SUPER + 0x1008n, 8), g.read(SUPER2 + 0x1008n, 8)]).toEqual([0x77n, 0x88n]);
  });

  it('two virtual pages that differ only above bit 31 keep their own translations', () => {
    const g = inS(`
    li t0, ${lit(ROOT + 511n * 8n)}
    li t1, ${lit(pte(0n, RW))}
    sd t1, 0(t0)              # VA 0xffff_ffff_c000_0000 -> PA 0 (the ROM is at 0x1000)
    sfence.vma
    li a1, 0xc0001000
    li a2, 0xffffffffc0001000
    lw s2, 0(a1)
    lw s3, 0(a2)
    lw s4, 0(a1)
    lw s5, 0(a2)`);
    const ram = g.read(0x8000_1000n, 4);
    expect(['s2', 's3', 's4', 's5'].map((r) => g.reg(r))).toEqual([ram, 0x297n, ram, 0x297n].map((v) => BigInt.asUintN(64, BigInt.asIntN(32, v))));
    expect(ram).not.toBe(0x297n);
  });

  it('code runs across VA 0xffff_ffff -> 0x1_0000_0000: sequential fetch, a straddling instruction, auipc, a branch back', () => {
    const R2 = PT + 0x10000n; // a root of its own
    const CP = PG(16), CP2 = PG(17);
    const halves: [bigint, number][] = [
      [CP + 0xff8n, 0x0613], [CP + 0xffan, 0x0016], // addi a2, a2, 1
      [CP + 0xffcn, 0x0001], // c.nop
      [CP + 0xffen, 0x0513], [CP2 + 0n, 0x0045], // addi a0, a0, 4, across the pages
      [CP2 + 2n, 0x0597], [CP2 + 4n, 0x0000], // auipc a1, 0
      [CP2 + 6n, 0x19e3], [CP2 + 8n, 0xfed6], // bne a2, a3, .-14
      [CP2 + 10n, 0x0067], [CP2 + 12n, 0x0004], // jr s0
    ];
    const ptes: [bigint, bigint][] = [
      [R2, pte(0n, RW)], [R2 + 16n, pte(0x8000_0000n, RW | F.X)],
      [R2 + 3n * 8n, pte(R2 + 0x1000n, F.V)], [R2 + 0x1000n + 511n * 8n, pte(R2 + 0x2000n, F.V)], [R2 + 0x2000n + 511n * 8n, pte(CP, RW | F.X)],
      [R2 + 4n * 8n, pte(R2 + 0x3000n, F.V)], [R2 + 0x3000n, pte(R2 + 0x4000n, F.V)], [R2 + 0x4000n, pte(CP2, RW | F.X)],
    ];
    const g = runGuest(`
${ptes.map(([a, v]) => `    li t0, ${lit(a)}\n    li t1, ${lit(v)}\n    sd t1, 0(t0)`).join('\n')}
${halves.map(([a, v]) => `    li t0, ${lit(a)}\n    li t1, ${v}\n    sh t1, 0(t0)`).join('\n')}
    fence.i
    li t0, ${lit((8n << 60n) | (R2 >> 12n))}
    csrw satp, t0
${enter('S', 's_code')}
s_code:
    li a0, 0
    li a2, 0
    li a3, 2
    la s0, back
    li t0, 0xfffffff8
    jr t0
back:
${toM()}
    csrw satp, zero
    j pass`);
    expect(g.traps()).toEqual([]);
    expect([g.reg('a0'), g.reg('a1'), g.reg('a2')]).toEqual([8n, 0x1_0000_0002n, 2n]);
  });
});

describe('hardware A/D updates and other harts (2 harts)', () => {
  it('a PTE update by the walk of one hart breaks another hart\'s LR reservation on that PTE', () => {
    // priv 4.3.1: the A/D update is a store to the PTE, atomic with respect to other accesses;
    // unpriv 8.2: an SC fails if another hart stored to the reservation set after the LR.
    const flag = DATA + 0x9000n;
    const g = runGuest(`
    li s2, ${lit(flag)}
    bnez a0, hart1
    li s1, ${lit(L0 + 7n * 8n)}
w1: ld t0, 0(s2)
    beqz t0, w1
    lr.d a1, (s1)             # the PTE, A = 0
    li t0, 2
    sd t0, 0(s2)
w3: ld t0, 0(s2)
    li t1, 3
    bne t0, t1, w3
    sc.d a3, a1, (s1)         # must fail: hart 1's walk wrote the PTE
    ld a4, 0(s1)
    j pass
hart1:
${setupCode()}
    li t0, 1
    sd t0, 0(s2)
${enter('S', 's_code')}
s_code:
w2: ld t0, 0(s2)
    li t1, 2
    bne t0, t1, w2
    li a1, ${lit(VA(7))}
    ld a0, 0(a1)              # the walk sets A in L0[7]
    li t0, 3
    sd t0, 0(s2)
park:
    wfi
    j park
${codePages()}`, { harts: 2 });
    expect(g.reg('a0', 1)).toBe(MARK(7));
    expect(g.reg('a1') & F.A).toBe(0n);
    expect(g.reg('a3'), 'SC over a PTE the other hart\'s walk updated').not.toBe(0n);
    expect(g.reg('a4') & F.A, 'the A bit set by the walk survives').toBe(F.A);
  });
});

describe('hardware A/D updates and physical memory attributes', () => {
  it('the walk never writes a PTE that lives in read-only memory (the reset ROM): access fault, ROM unchanged', () => {
    // L0 table = the reset ROM page (PA 0x1000). Its dword at +0x10 is words 4-5 of the reset
    // code, 0x00028067_0182b283: as a PTE, V|R|D with A = 0, a level-0 leaf. Loading through it
    // needs the walk to set A, i.e. to store into the ROM (priv 4.3.2 step 7: PMA/PMP-checked).
    const g = inS(`
    li t0, ${lit(L1 + 8n * 8n)}
    li t1, ${lit(pte(0x1000n, F.V))}
    sd t1, 0(t0)              # L1[8]: VA 0x4100_0000 -> L0 table in the ROM
    sfence.vma
    li a1, 0x41002000
l1: ld a0, 0(a1)`);
    expect(g.read(0x1010n, 8)).toBe(0x0002_8067_0182_b283n);
    expect(faults(g)).toEqual([[CAUSE.loadAccess, g.sym('l1'), 0x4100_2000n]]);
  });
});
