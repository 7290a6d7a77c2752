/**
 * Physical memory protection (priv 1.12 §3.7): TOR, NA4 and NAPOT regions;
 * R/W/X denial for S and U with the access-fault causes; M-mode unaffected
 * unless L is set; locked entries; no matching entry; the page-table walk
 * checked by PMP as S-mode accesses. These programs start with every PMP
 * entry OFF (the runtime's allow-all entry is not programmed).
 */
import { describe, expect, it } from 'vitest';
import { CAUSE, DATA, MSTATUS_MPP, PT, enter, lit, runGuest, toM, type Guest } from '../helpers/guest.js';

const R = 1, W = 2, X = 4, L = 0x80;
const OFF = 0, TOR = 1 << 3, NA4 = 2 << 3, NAPOT = 3 << 3;
const ALL = -1n; // pmpaddr all ones + NAPOT: the whole address space

interface Entry { addr: bigint; cfg: number }
/** NAPOT pmpaddr of the naturally aligned power-of-two region [base, base + size), size >= 8. */
const napot = (base: bigint, size: bigint): bigint => (base >> 2n) | ((size >> 3n) - 1n);

/** M-mode code programming entries 0..n-1 (the rest OFF). */
function pmp(entries: Entry[]): string {
  const lines = entries.map((e, i) => `    li t0, ${lit(BigInt.asUintN(64, e.addr))}\n    csrw pmpaddr${i}, t0`);
  let cfg0 = 0n, cfg2 = 0n;
  entries.forEach((e, i) => {
    if (i < 8) cfg0 |= BigInt(e.cfg) << BigInt(8 * i);
    else cfg2 |= BigInt(e.cfg) << BigInt(8 * (i - 8));
  });
  lines.push(`    li t0, ${lit(cfg0)}\n    csrw pmpcfg0, t0\n    li t0, ${lit(cfg2)}\n    csrw pmpcfg2, t0`);
  return lines.join('\n');
}
const everything: Entry = { addr: ALL, cfg: NAPOT | R | W | X };

/** M: program PMP, run `s` in mode `mode`, come back, pass. */
function inMode(mode: 'S' | 'U', entries: Entry[], s: string, pre = ''): Guest {
  return runGuest(`
${pmp(entries)}
${pre}
${enter(mode, 'lower')}
lower:
${s}
${toM()}
    j pass`, { pmpAll: false });
}

const faults = (g: Guest): [bigint, bigint, bigint][] => g.traps().map((t) => [t.cause, t.epc, t.tval]);
const A = DATA + 0x1_0000n;
const B = A + 0x2000n;

describe('PMP address matching', () => {
  it('TOR: [pmpaddr(i-1), pmpaddr(i)) read-only for S: loads work, stores and fetches fault', () => {
    const g = inMode('S', [{ addr: A >> 2n, cfg: OFF }, { addr: B >> 2n, cfg: TOR | R }, everything], `
    li a1, ${lit(A)}
    ld a0, 0(a1)
s1: sd a0, 0(a1)
    li a2, ${lit(B - 8n)}
    ld a3, 0(a2)
s2: sd a3, 0(a2)
    sd a3, 8(a2)              # B: above the region
    sd a3, -16(a1)            # below it
    la s11, back
    jalr a1
back:`);
    expect(faults(g)).toEqual([
      [CAUSE.storeAccess, g.sym('s1'), A],
      [CAUSE.storeAccess, g.sym('s2'), B - 8n],
      [CAUSE.fetchAccess, A, A],
    ]);
    expect(g.traps().every((t) => (t.status & MSTATUS_MPP) >> 11n === 1n)).toBe(true);
  });

  it('TOR entry 0 starts at address 0', () => {
    const g = inMode('S', [{ addr: 0x1000_1000n >> 2n, cfg: TOR }, everything], `
    li a1, 0x10000000
l1: lb a0, 0(a1)              # the UART, below the top: denied
    li a1, 0x1000
l2: lw a0, 0(a1)              # the ROM: denied
    li a1, ${lit(A)}
    ld a0, 0(a1)`);
    expect(faults(g)).toEqual([
      [CAUSE.loadAccess, g.sym('l1'), 0x1000_0000n],
      [CAUSE.loadAccess, g.sym('l2'), 0x1000n],
    ]);
  });

  it('NA4: exactly 4 bytes; an access matching only some of its bytes fails', () => {
    const x = A + 0x104n; // x - 4 is 8-aligned
    const g = inMode('S', [{ addr: x >> 2n, cfg: NA4 }, everything], `
    li a1, ${lit(x)}
    lw a0, 8(a1)              # same page, outside the entry (and fills the TLB)
l1: lw a0, 0(a1)
l2: lb a0, 3(a1)
    lw a0, 4(a1)
    lw a0, -4(a1)
l3: ld a0, -4(a1)             # bytes x-4 .. x+3: partly inside
s1: sh a0, 2(a1)`);
    expect(faults(g)).toEqual([
      [CAUSE.loadAccess, g.sym('l1'), x],
      [CAUSE.loadAccess, g.sym('l2'), x + 3n],
      [CAUSE.loadAccess, g.sym('l3'), x - 4n],
      [CAUSE.storeAccess, g.sym('s1'), x + 2n],
    ]);
  });

  it.each([
    [8n, 'the smallest NAPOT (pmpaddr ends in 0)'],
    [16n, 'pmpaddr ends in 01'],
    [4096n, 'a 4 KiB page'],
    [0x10_0000n, '1 MiB'],
  ])('NAPOT of %s bytes (%s): denied inside, allowed just outside', (size) => {
    const base = DATA + 0x10_0000n; // 1 MiB aligned
    const g = inMode('S', [{ addr: napot(base, size), cfg: NAPOT }, everything], `
    li a1, ${lit(base)}
l1: lw a0, 0(a1)
    li a2, ${lit(base + size - 4n)}
l2: lw a0, 0(a2)
    li a3, ${lit(base + size)}
    lw a0, 0(a3)
    li a4, ${lit(base - 4n)}
    lw a0, 0(a4)`);
    expect(faults(g)).toEqual([
      [CAUSE.loadAccess, g.sym('l1'), base],
      [CAUSE.loadAccess, g.sym('l2'), base + size - 4n],
    ]);
  });

  it('the lowest-numbered matching entry decides, not the most permissive', () => {
    const x = A + 0x200n;
    const g = inMode('S', [{ addr: x >> 2n, cfg: NA4 | R }, { addr: napot(A, 4096n), cfg: NAPOT | R | W }, everything], `
    li a1, ${lit(x)}
s1: sw zero, 0(a1)
    sw zero, 4(a1)
    lw a0, 0(a1)`);
    expect(faults(g)).toEqual([[CAUSE.storeAccess, g.sym('s1'), x]]);
  });
});

describe('PMP permissions', () => {
  it('X-only NAPOT page: S loads and stores fault, S executes it', () => {
    const P = DATA + 0x3_0000n;
    const g = inMode('S', [{ addr: napot(P, 4096n), cfg: NAPOT | X }, everything], `
    li a1, ${lit(P)}
l1: lw a0, 0(a1)
s1: sw a0, 0(a1)
    jalr a1                   # li a0, 0x66; ret
    mv a2, a0`, `
    li t0, ${lit(P)}
    li t1, 0x06600513
    sw t1, 0(t0)
    li t1, 0x00008067
    sw t1, 4(t0)
    fence.i`);
    expect(faults(g)).toEqual([[CAUSE.loadAccess, g.sym('l1'), P], [CAUSE.storeAccess, g.sym('s1'), P]]);
    expect(g.reg('a2')).toBe(0x66n);
  });

  it('U-mode is checked like S-mode', () => {
    const g = inMode('U', [{ addr: napot(A, 4096n), cfg: NAPOT | R }, everything], `
    li a1, ${lit(A)}
    ld a0, 0(a1)
s1: sd a0, 0(a1)`);
    expect(faults(g)).toEqual([[CAUSE.storeAccess, g.sym('s1'), A]]);
    expect((g.traps()[0].status & MSTATUS_MPP) >> 11n).toBe(0n);
  });

  it('with no entry matching, S-mode accesses fail (entries are implemented)', () => {
    // Only the first MiB of DRAM (the code) is covered; DATA is not.
    const g = inMode('S', [{ addr: napot(0x8000_0000n, 0x10_0000n), cfg: NAPOT | R | W | X }], `
    li a1, ${lit(A)}
l1: ld a0, 0(a1)
s1: sd a0, 0(a1)
    li a1, 0x80000000
    ld a2, 0(a1)`);
    expect(faults(g)).toEqual([[CAUSE.loadAccess, g.sym('l1'), A], [CAUSE.storeAccess, g.sym('s1'), A]]);
  });

  it('with every entry OFF, S-mode cannot even fetch its first instruction', () => {
    const g = runGuest(`
    la t0, m_handler
    csrw mtvec, t0
    csrw pmpcfg0, zero
${enter('S', 's_code')}
s_code:
    nop
    j fail
    .align 2
m_handler:
    csrr a0, mcause
    csrr a1, mepc
    csrr a2, mtval
    j pass`, { pmpAll: false });
    expect([g.reg('a0'), g.reg('a1'), g.reg('a2')]).toEqual([CAUSE.fetchAccess, g.sym('s_code'), g.sym('s_code')]);
  });
});

describe('PMP and M-mode: the L bit', () => {
  it('M-mode ignores an unlocked entry, and obeys it once L is set (after its TLB has cached the page)', () => {
    const x = A + 0x300n;
    const g = runGuest(`
${pmp([{ addr: x >> 2n, cfg: NA4 }])}
    li a1, ${lit(x)}
    lw a0, 0(a1)
    sw a0, 0(a1)
    lw a0, 4(a1)
    li t0, ${L | NA4}
    csrw pmpcfg0, t0
l1: lw a2, 0(a1)
s1: sw a2, 0(a1)
    lw a3, 4(a1)
    j pass`, { pmpAll: false });
    expect(faults(g)).toEqual([[CAUSE.loadAccess, g.sym('l1'), x], [CAUSE.storeAccess, g.sym('s1'), x]]);
  });

  it('a locked entry without X stops M-mode fetches from it', () => {
    const P = DATA + 0x4_0000n;
    const g = runGuest(`
    li t0, ${lit(P)}
    li t1, 0x06600513
    sw t1, 0(t0)
    li t1, 0x00008067
    sw t1, 4(t0)
    fence.i
${pmp([{ addr: napot(P, 4096n), cfg: L | NAPOT | R }])}
    li a1, ${lit(P)}
    lw a2, 0(a1)
    la s11, back
    li a0, 0
    jalr a1
back:
    j pass`, { pmpAll: false });
    expect(faults(g)).toEqual([[CAUSE.fetchAccess, P, P]]);
    expect([g.reg('a0'), g.reg('a2')]).toEqual([0n, 0x0660_0513n]);
  });

  it('locked entries ignore writes to their pmpcfg and pmpaddr; other entries stay writable', () => {
    const g = runGuest(`
${pmp([{ addr: 0x1234n, cfg: L | NA4 | R }, { addr: 0x5678n, cfg: R }])}
    li t0, 0x1f1f
    csrw pmpcfg0, t0
    csrr a0, pmpcfg0
    li t0, 0x9999
    csrw pmpaddr0, t0
    csrr a1, pmpaddr0
    csrr a2, pmpaddr1
    j pass`, { pmpAll: false });
    expect(g.reg('a0') & 0xffffn).toBe(0x1f91n);
    expect([g.reg('a1'), g.reg('a2')]).toEqual([0x1234n, 0x5678n]);
  });

  it('a locked TOR entry also locks the pmpaddr below it (not that entry\'s pmpcfg)', () => {
    const g = runGuest(`
${pmp([{ addr: A >> 2n, cfg: OFF }, { addr: B >> 2n, cfg: L | TOR | R }, { addr: 0x42n, cfg: OFF }])}
    li t0, 0x1111
    csrw pmpaddr0, t0
    csrr a0, pmpaddr0
    li t0, ${L | TOR | R | W}
    slli t0, t0, 8
    ori t0, t0, ${NA4 | R}
    csrw pmpcfg0, t0
    csrr a1, pmpcfg0
    li t0, 0x2222
    csrw pmpaddr2, t0
    csrr a2, pmpaddr2
    j pass`, { pmpAll: false });
    expect(g.reg('a0')).toBe(A >> 2n);
    expect(g.reg('a1') & 0xffffn).toBe(BigInt(((L | TOR | R) << 8) | NA4 | R));
    expect(g.reg('a2')).toBe(0x2222n);
  });

  it('pmpcfg is WARL: R = 0 with W = 1 is not kept; bits 6:5 read 0', () => {
    const g = runGuest(`
    li t0, ${(NAPOT | W) | (0x60 | NAPOT | R) << 8}
    csrw pmpcfg0, t0
    csrr a0, pmpcfg0
    csrw pmpcfg0, zero
    j pass`, { pmpAll: false });
    expect((g.reg('a0') & 3n)).not.toBe(2n);
    expect((g.reg('a0') >> 8n) & 0xffn).toBe(BigInt(NAPOT | R));
  });
});

describe('PMP checks the page-table walk (S-mode accesses, §3.7.1)', () => {
  const F = { V: 1n, R: 2n, W: 4n, X: 8n, A: 64n, D: 128n };
  const pte = (pa: bigint, flags: bigint): bigint => ((pa >> 12n) << 10n) | flags;
  const RWAD = F.V | F.R | F.W | F.A | F.D;
  const L1 = PT + 0x1000n, L0 = PT + 0x2000n;
  const PG = (k: number): bigint => DATA + 0x5_0000n + BigInt(k) * 0x1000n;
  const paging = (): string => [
    [PT, pte(0n, RWAD)], [PT + 8n, pte(L1, F.V)], [PT + 16n, pte(0x8000_0000n, RWAD | F.X)],
    [L1, pte(L0, F.V)],
    [L0, pte(PG(0), RWAD)], [L0 + 8n, pte(PG(1), F.V | F.R | F.W)], [L0 + 16n, pte(PG(2), RWAD | F.X)],
    [PG(0), 0x600dn], [PG(1), 0x601dn],
  ].map(([a, v]) => `    li t0, ${lit(a)}\n    li t1, ${lit(v)}\n    sd t1, 0(t0)`).join('\n') +
    `\n    li t0, ${lit((8n << 60n) | (PT >> 12n))}\n    csrw satp, t0`;

  it.each([
    ['no permission on the L0 table page', NAPOT],
    ['execute-only L0 table page', NAPOT | X],
  ])('%s: each access type faults with its own access-fault cause', (_n, cfg) => {
    const g = inMode('S', [{ addr: napot(L0, 4096n), cfg }, everything], `
    li a1, 0x40000000
l1: ld a0, 0(a1)
s1: sd a0, 0(a1)
    li a1, 0x40002000
    la s11, back
    jalr a1
back:`, paging());
    expect(faults(g)).toEqual([
      [CAUSE.loadAccess, g.sym('l1'), 0x4000_0000n],
      [CAUSE.storeAccess, g.sym('s1'), 0x4000_0000n],
      [CAUSE.fetchAccess, 0x4000_2000n, 0x4000_2000n],
    ]);
  });

  it('a read-only table page: walks work, but an A/D update (a write to the PTE) is an access fault', () => {
    const g = inMode('S', [{ addr: napot(L0, 4096n), cfg: NAPOT | R }, everything], `
    li a1, 0x40000000
    ld a0, 0(a1)              # A and D already set: no PTE write
    sd a0, 8(a1)
    li a1, 0x40001000
l1: ld a2, 0(a1)              # A = 0: the walk must write the PTE`, paging());
    expect(g.reg('a0')).toBe(0x600dn);
    expect(faults(g)).toEqual([[CAUSE.loadAccess, g.sym('l1'), 0x4000_1000n]]);
    expect(g.read(L0 + 8n, 8) & F.A).toBe(0n);
  });
});
