import { describe, expect, it } from 'vitest';
import type { IrqLine } from '../../emulator/machine/bus.js';
import {
  Plic,
  PLIC_CONTEXT_BASE,
  PLIC_CONTEXT_STRIDE,
  PLIC_ENABLE_BASE,
  PLIC_ENABLE_STRIDE,
  PLIC_PENDING_BASE,
  plicContext,
} from '../../emulator/devices/plic.js';
import { Wire } from '../helpers/wire.js';


const NDEV = 40; // two pending/enable words: sources 1..31 and 32..40

function make(numHarts = 2, ndev = NDEV) {
  const ctx = Array.from({ length: numHarts * 2 }, () => new Wire());
  const plic = new Plic(numHarts, ndev, ctx);
  const prio = (src: number, v: number) => plic.write(4 * src, 4, v);
  const enableOff = (c: number, w: number) => PLIC_ENABLE_BASE + PLIC_ENABLE_STRIDE * c + 4 * w;
  const enable = (c: number, ...srcs: number[]) => {
    for (const s of srcs) {
      const off = enableOff(c, s >>> 5);
      plic.write(off, 4, (plic.read(off, 4) | (1 << (s & 31))) >>> 0);
    }
  };
  const disable = (c: number, s: number) => {
    const off = enableOff(c, s >>> 5);
    plic.write(off, 4, (plic.read(off, 4) & ~(1 << (s & 31))) >>> 0);
  };
  const thresholdOff = (c: number) => PLIC_CONTEXT_BASE + PLIC_CONTEXT_STRIDE * c;
  const claimOff = (c: number) => thresholdOff(c) + 4;
  const claim = (c: number) => plic.read(claimOff(c), 4);
  const complete = (c: number, src: number) => plic.write(claimOff(c), 4, src);
  const pending = (w = 0) => plic.read(PLIC_PENDING_BASE + 4 * w, 4);
  const levels = () => ctx.map((w) => w.level);
  return { plic, ctx, prio, enable, disable, enableOff, thresholdOff, claim, complete, pending, levels };
}

describe('Plic registers', () => {
  it('priorities are 3-bit WARL; source 0 and sources above ndev read 0', () => {
    const { plic, prio } = make();
    prio(1, 0xff);
    expect(plic.read(4, 4)).toBe(7);
    prio(2, 0x0a);
    expect(plic.read(8, 4)).toBe(2);
    prio(0, 5);
    expect(plic.read(0, 4)).toBe(0);
    prio(NDEV + 1, 5);
    expect(plic.read(4 * (NDEV + 1), 4)).toBe(0);
    expect(plic.read(4 * NDEV, 4)).toBe(0);
    prio(NDEV, 3);
    expect(plic.read(4 * NDEV, 4)).toBe(3);
  });

  it('enable bits of source 0 and of missing sources are hardwired to 0', () => {
    const { plic, enableOff } = make();
    plic.write(enableOff(1, 0), 4, 0xffff_ffff);
    expect(plic.read(enableOff(1, 0), 4)).toBe(0xffff_fffe);
    plic.write(enableOff(1, 1), 4, 0xffff_ffff);
    expect(plic.read(enableOff(1, 1), 4)).toBe(0x1ff); // sources 32..40
    plic.write(enableOff(1, 2), 4, 0xffff_ffff);
    expect(plic.read(enableOff(1, 2), 4)).toBe(0);
    expect(plic.read(enableOff(0, 0), 4)).toBe(0); // other contexts untouched
    expect(plic.read(enableOff(4, 0), 4)).toBe(0); // context 4 does not exist (2 harts)
  });

  it('thresholds are 3-bit WARL per context; holes read 0; pending is read-only', () => {
    const { plic, thresholdOff, pending } = make();
    plic.write(thresholdOff(3), 4, 0xff);
    expect(plic.read(thresholdOff(3), 4)).toBe(7);
    expect(plic.read(thresholdOff(2), 4)).toBe(0);
    expect(plic.read(thresholdOff(3) + 8, 4)).toBe(0);
    plic.write(thresholdOff(4), 4, 3);
    expect(plic.read(thresholdOff(4), 4)).toBe(0);
    plic.write(PLIC_PENDING_BASE, 4, 0xffff_ffff);
    expect(pending()).toBe(0);
  });

  it('ignores sub-word and misaligned accesses (a byte read of claim does not claim)', () => {
    const { plic, prio, enable, thresholdOff, pending } = make();
    prio(1, 1);
    enable(0, 1);
    plic.source(1).set(true);
    expect(plic.read(thresholdOff(0) + 4, 1)).toBe(0);
    expect(plic.read(thresholdOff(0) + 4, 2)).toBe(0);
    expect(pending()).toBe(2);
    plic.write(4, 1, 7);
    plic.write(6, 4, 7);
    expect(plic.read(4, 4)).toBe(1);
  });

  it('numbers contexts M, S per hart and validates source numbers', () => {
    const { plic } = make(3);
    expect(plicContext(0, 'm')).toBe(0);
    expect(plicContext(0, 's')).toBe(1);
    expect(plicContext(2, 'm')).toBe(4);
    expect(plicContext(2, 's')).toBe(5);
    expect(plic.numContexts).toBe(6);
    expect(() => plic.source(0)).toThrow(RangeError);
    expect(() => plic.source(NDEV + 1)).toThrow(RangeError);
    expect(() => new Plic(2, NDEV, [new Wire()])).toThrow(RangeError);
  });
});

describe('Plic delivery', () => {
  it('drives a context only for enabled pending sources above its threshold', () => {
    const { plic, ctx, prio, enable, disable, thresholdOff, pending, levels } = make();
    plic.source(35).set(true);
    expect(pending(1)).toBe(1 << 3);
    expect(levels()).toEqual([false, false, false, false]); // priority 0: never interrupt
    prio(35, 2);
    expect(levels()).toEqual([false, false, false, false]); // not enabled anywhere
    enable(1, 35); // hart 0, S-mode
    expect(levels()).toEqual([false, true, false, false]);
    enable(2, 35); // hart 1, M-mode: multicast
    expect(levels()).toEqual([false, true, true, false]);
    plic.write(thresholdOff(1), 4, 2); // priority must exceed the threshold
    expect(levels()).toEqual([false, false, true, false]);
    plic.write(thresholdOff(1), 4, 1);
    expect(levels()).toEqual([false, true, true, false]);
    disable(2, 35);
    expect(levels()).toEqual([false, true, false, false]);
    prio(35, 0);
    expect(levels()).toEqual([false, false, false, false]);
    expect(ctx[1]!.history).toEqual([false, true, false, true, false]);
  });

  it('claims by priority, ties to the lowest ID, then returns 0', () => {
    const { plic, prio, enable, claim, pending, levels } = make();
    for (const [src, p] of [[3, 2], [7, 5], [5, 5], [33, 6], [4, 1]] as const) {
      prio(src, p);
      enable(0, src);
      plic.source(src).set(true);
    }
    expect(levels()[0]).toBe(true);
    expect(pending(0)).toBe((1 << 3) | (1 << 4) | (1 << 5) | (1 << 7));
    expect(claim(0)).toBe(33);
    expect(pending(1)).toBe(0);
    expect(claim(0)).toBe(5);
    expect(claim(0)).toBe(7);
    expect(claim(0)).toBe(3);
    expect(levels()[0]).toBe(true);
    expect(claim(0)).toBe(4);
    expect(pending(0)).toBe(0);
    expect(levels()[0]).toBe(false);
    expect(claim(0)).toBe(0);
  });

  it('a claim does not return sources at or below the threshold (QEMU virt behaviour)', () => {
    const { plic, prio, enable, claim, thresholdOff } = make();
    prio(9, 3);
    enable(0, 9);
    plic.source(9).set(true);
    plic.write(thresholdOff(0), 4, 3);
    expect(claim(0)).toBe(0);
    plic.write(thresholdOff(0), 4, 2);
    expect(claim(0)).toBe(9);
  });

  it('re-pends a source whose line is still high at completion', () => {
    const { plic, ctx, prio, enable, claim, complete, pending } = make();
    prio(10, 1);
    enable(1, 10);
    plic.source(10).set(true);
    expect(ctx[1]!.level).toBe(true);
    expect(claim(1)).toBe(10);
    expect(pending()).toBe(0);
    expect(ctx[1]!.level).toBe(false);
    plic.source(10).set(false);
    plic.source(10).set(true); // in service: the gateway forwards nothing
    expect(pending()).toBe(0);
    expect(claim(1)).toBe(0);
    complete(1, 10);
    expect(pending()).toBe(1 << 10);
    expect(ctx[1]!.level).toBe(true);
    expect(claim(1)).toBe(10);
    plic.source(10).set(false);
    complete(1, 10); // line low now: nothing new
    expect(pending()).toBe(0);
    expect(ctx[1]!.level).toBe(false);
    expect(ctx[1]!.history).toEqual([false, true, false, true, false]);
  });

  it('keeps a request pending when the line drops before the claim (spec gateway)', () => {
    const { plic, prio, enable, claim, complete, pending } = make();
    prio(2, 1);
    enable(0, 2);
    plic.source(2).set(true);
    plic.source(2).set(false);
    expect(pending()).toBe(1 << 2);
    expect(claim(0)).toBe(2);
    complete(0, 2);
    expect(pending()).toBe(0);
  });

  it('ignores a completion for a source not enabled in that context', () => {
    const { plic, prio, enable, disable, claim, complete, pending } = make();
    prio(6, 1);
    enable(0, 6);
    plic.source(6).set(true);
    expect(claim(0)).toBe(6);
    complete(1, 6); // context 1 has source 6 disabled
    expect(pending()).toBe(0);
    disable(0, 6);
    complete(0, 6);
    expect(pending()).toBe(0);
    enable(0, 6);
    complete(0, 6);
    expect(pending()).toBe(1 << 6); // line still high: a new request
    complete(0, 0);
    complete(0, NDEV + 1);
    expect(claim(0)).toBe(6);
  });

  it('a claim by one context hides the source from the others', () => {
    const { plic, ctx, prio, enable, claim, complete } = make();
    prio(20, 4);
    enable(1, 20);
    enable(3, 20);
    plic.source(20).set(true);
    expect([ctx[1]!.level, ctx[3]!.level]).toEqual([true, true]);
    expect(claim(3)).toBe(20);
    expect([ctx[1]!.level, ctx[3]!.level]).toEqual([false, false]);
    expect(claim(1)).toBe(0);
    complete(3, 20);
    expect([ctx[1]!.level, ctx[3]!.level]).toEqual([true, true]);
  });
});

describe('Plic snapshots', () => {
  it('round-trips state and drives the restored context levels', () => {
    const a = make();
    a.prio(4, 3);
    a.prio(38, 5);
    a.enable(1, 4, 38);
    a.plic.write(a.thresholdOff(1), 4, 2);
    a.plic.source(4).set(true);
    a.plic.source(38).set(true);
    expect(a.claim(1)).toBe(38); // 38 in service, 4 pending
    const state = JSON.parse(JSON.stringify(a.plic.getState())) as Record<string, unknown>;
    const b = make();
    b.plic.setState(state);
    expect(b.levels()).toEqual([false, true, false, false]);
    expect(b.plic.read(4 * 38, 4)).toBe(5);
    expect(b.plic.read(b.thresholdOff(1), 4)).toBe(2);
    expect(b.claim(1)).toBe(4);
    expect(b.claim(1)).toBe(0);
    b.complete(1, 38); // line 38 was high in the snapshot: re-pends
    expect(b.claim(1)).toBe(38);
    expect(() => make(1).plic.setState(state)).toThrow();
    expect(() => make(2, 50).plic.setState(state)).toThrow();
  });

  it('reset() clears registers but re-pends sources whose lines are high', () => {
    const { plic, prio, enable, claim, pending, levels } = make();
    prio(1, 1);
    enable(0, 1);
    plic.source(1).set(true);
    plic.source(2).set(true);
    expect(claim(0)).toBe(1);
    plic.reset();
    expect(plic.read(4, 4)).toBe(0);
    expect(pending()).toBe((1 << 1) | (1 << 2));
    expect(levels()).toEqual([false, false, false, false]);
  });
});
