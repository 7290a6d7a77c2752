/**
 * Whatever the guest does ends as a guest trap or a clear machine error,
 * never a host exception: garbage code (random words, random compressed
 * parcels), in M-mode and after dropping to S/U-mode, with the trap vector
 * pointing back into the garbage, so that every trap path is exercised.
 * Seeded, so any failure reproduces.
 */
import { describe, expect, it } from 'vitest';
import { Machine } from '../../emulator/machine/machine.js';
import { assemble } from '../../toolchain/asm.js';
import { prng } from '../helpers/prng.js';

/** A prologue that sets up a trap vector into the garbage, PMP for all, then jumps in at `mode`. */
function prologue(mode: 'M' | 'S' | 'U'): string {
  const mpp = mode === 'M' ? 3 : mode === 'S' ? 1 : 0;
  return `
    li   t0, -1
    csrw pmpaddr0, t0
    li   t0, 0x1f
    csrw pmpcfg0, t0
    la   t0, garbage + 64
    csrw mtvec, t0
    csrw stvec, t0
    li   t0, 0xb1ff
    csrw medeleg, t0
    li   t0, ${mpp << 11}
    csrs mstatus, t0
    la   t0, garbage
    csrw mepc, t0
    li   sp, 0x80100000
    mret
    .align 12
garbage:
`;
}

describe('garbage code never crashes the host', () => {
  const seeds = [1, 2, 3, 4, 5, 6, 7, 8];
  it.each(seeds.flatMap((s) => (['M', 'S', 'U'] as const).map((m) => [s, m] as const)))('seed %i in %s-mode', (seed, mode) => {
    const next = prng(seed * 7919);
    const words: string[] = [];
    for (let i = 0; i < 2048; i++) {
      const w = next();
      // Mix plain random words with words steered towards real opcodes (loads,
      // stores, AMOs, CSR and system ops), which reach deeper into the CPU.
      const steer = [0x03, 0x23, 0x2f, 0x73, 0x13, 0x33, 0x3b, 0x63, 0x67, 0x6f][next() % 10]!;
      words.push(`.word 0x${((i & 1 ? (w & ~0x7f) | steer : w) >>> 0).toString(16)}`);
    }
    const { bytes } = assemble(prologue(mode) + words.join('\n'), { base: 0x8000_0000 });
    const m = new Machine({ harts: 2, kernel: { name: `fuzz-${seed}`, bytes } });
    let reason = '';
    expect(() => {
      reason = m.run(200_000);
    }).not.toThrow();
    expect(['limit', 'exit', 'idle']).toContain(reason);
    // The machine still reads its own state.
    for (const h of m.harts) expect(typeof h.getState().pc).toBe('string');
  });
});
