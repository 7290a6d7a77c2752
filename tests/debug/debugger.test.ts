/**
 * The debugger core (emulator/debug/debugger.ts) on small guest programs
 * (tests/helpers/guest.ts: M-mode from the reset ROM, or S-mode on a page
 * table): breakpoints stop before the instruction (2- and 4-byte ones),
 * going on executes it once; single steps run exactly one instruction on one
 * hart; watchpoints stop after the access with the old and new bytes, on
 * plain, atomic and misaligned accesses and through another mapping of the
 * same memory; a debugged run that only stops and continues is the very run
 * of an undebugged machine; memory reads go through the hart's MMU and never
 * touch devices; bad requests are clear errors.
 */
import { describe, expect, it } from 'vitest';
import { ALIAS_BASE, DATA, GUEST_BASE, PT, runGuestWith, enterSv39Alias, guestSource, type Guest } from '../helpers/guest.js';
import { assemble } from '../../toolchain/asm.js';
import { Machine } from '../../emulator/machine/machine.js';
import { Debugger, DebugError, type StopEvent } from '../../emulator/debug/debugger.js';

const COUNTER = DATA + 0x100n;
const DONE = DATA + 0x200n;

/** Every hart adds 1 to COUNTER five times at `bump`; hart 0 waits for the others, then powers off. */
const MULTI = `
    li s1, ${COUNTER}
    li s2, 0
bump:
    li t0, 1
    amoadd.d zero, t0, (s1)
    addi s2, s2, 1
    li t0, 5
    blt s2, t0, bump
    li s3, ${DONE}
    li t0, 1
    amoadd.d zero, t0, (s3)
    bnez a0, park
wait:
    ld t0, 0(s3)
    li t1, 4
    bne t0, t1, wait
    j pass
park:
    wfi
    j park
`;

const LOOP = `
    li s1, ${COUNTER}
    li s2, 0
    li s3, 5
loop:
    addi s2, s2, 1
here:
    c.addi s2, 0
    sd s2, 0(s1)
after_store:
    ld t0, 0(s1)
after_load:
    blt s2, s3, loop
    li t0, 1
    amoadd.d zero, t0, (s1)
after_amo:
    j pass
`;

/** Run `src` with a debugger attached; `drive` gets the debugger and returns the last stop. */
function debugged(src: string, drive: (d: Debugger, g: () => Guest) => void, opts: { harts?: number } = {}): Guest {
  let dbg: Debugger | undefined;
  let guest: Guest | undefined;
  const g = runGuestWith(src, { harts: opts.harts ?? 1, expect: 'any' }, (m: Machine) => {
    dbg = new Debugger(m);
    drive(dbg, () => guest!);
    return 'exit';
  });
  guest = g;
  return g;
}

function expectStop<R extends StopEvent['reason']>(e: StopEvent, reason: R): Extract<StopEvent, { reason: R }> {
  expect(e.reason, JSON.stringify(e, (_k, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v))).toBe(reason);
  return e as Extract<StopEvent, { reason: R }>;
}

describe('breakpoints', () => {
  it('at a label: the hit count, the pc, the register before the instruction', () => {
    // Learn the labels with a first run, then debug a second one.
    const probe = debugged(LOOP, (d) => { d.cont(); });
    const loop = probe.sym('loop');
    const here = probe.sym('here');
    const g = debugged(LOOP, (d) => {
      const bp = d.addBreakpoint(loop);
      const seen: bigint[] = [];
      for (let i = 0; i < 5; i++) {
        const e = expectStop(d.cont(), 'breakpoint');
        expect(e.pc).toBe(loop);
        expect(e.breakpoint.id).toBe(bp.id);
        seen.push(d.hart().getReg(18)); // s2 before `addi s2, s2, 1`
      }
      expect(seen).toEqual([0n, 1n, 2n, 3n, 4n]);
      expect(bp.hits).toBe(5);
      // A compressed instruction: the breakpoint is at its exact 2-byte address.
      expect(d.delete(bp.id)).toBe(true);
      expect(d.delete(bp.id)).toBe(false);
      expectStop(d.cont(), 'exit');
    });
    expect(g.machine.exit).toEqual({ kind: 'pass', code: 0, via: 'finisher' });
    // `here` is a c.addi: 2 bytes, so the store after it is at here + 2.
    expect(probe.sym('here') + 2n).toBe(here + 2n);
    const g2 = debugged(LOOP, (d) => {
      d.addBreakpoint(here);
      const e = expectStop(d.cont(), 'breakpoint');
      expect(e.pc).toBe(here);
      const s = expectStop(d.step(), 'step');
      expect(s.pc).toBe(here + 2n);
      // Stepping off a breakpoint goes past it; the next round stops there again.
      expect(expectStop(d.cont(), 'breakpoint').pc).toBe(here);
      expect(d.deleteBreakpointAt(here)).toBe(true);
      expectStop(d.cont(), 'exit');
    });
    expect(g2.machine.exit?.kind).toBe('pass');
  });

  it('a temporary breakpoint and one for a single hart', () => {
    const probe = debugged(MULTI, (d) => { d.cont(); }, { harts: 4 });
    const bump = probe.sym('bump');
    debugged(MULTI, (d) => {
      const t = d.addBreakpoint(bump, { temporary: true, hart: 2 });
      const e = expectStop(d.cont(), 'breakpoint');
      expect(e.hart).toBe(2);
      expect(e.breakpoint.id).toBe(t.id);
      expect(d.current).toBe(2);
      expect(d.list()).toEqual([]);
      expectStop(d.cont(), 'exit');
    }, { harts: 4 });
  });

  it('rejects odd addresses and harts that do not exist', () => {
    debugged(LOOP, (d) => {
      expect(() => d.addBreakpoint(0x80000001n)).toThrow(/2-byte aligned/);
      expect(() => d.addBreakpoint(0x80000000n, { hart: 7 })).toThrow(/no hart 7/);
      expect(() => d.selectHart(3)).toThrow(DebugError);
      d.cont();
    });
  });
});

describe('single steps', () => {
  it('run exactly one instruction on the chosen hart; the others stay put', () => {
    debugged(MULTI, (d) => {
      const [h0, h1] = d.machine.harts;
      const pc1 = h1!.pc;
      const insns = d.machine.insns;
      const e = expectStop(d.step(0), 'step');
      expect(d.machine.insns).toBe(insns + 1);
      expect(e.pc).toBe(h0!.pc);
      expect(h1!.pc).toBe(pc1);
      d.step(1);
      expect(h1!.pc).not.toBe(pc1);
      expect(d.machine.insns).toBe(insns + 2);
      expectStop(d.cont(), 'exit');
    }, { harts: 4 });
  });
});

describe('stepping a hart that waits', () => {
  const WAKE = `
    bnez a0, sleeper
    # hart 0: spin a while, then wake hart 1 with a software interrupt (CLINT msip), then spin on.
    li t0, 3000
spin0:
    addi t0, t0, -1
    bnez t0, spin0
    li t0, 0x2000004
    li t1, 1
    sw t1, 0(t0)
forever:
    j forever
sleeper:
    li t0, 8
    csrs mie, t0
    la t0, woke
    csrw mtvec, t0
    csrsi mstatus, 8
park1:
    wfi
    j park1
woke:
    li t1, 0x2000004
    sw zero, 0(t1)
    j pass
`;

  it('runs the others until it executes one instruction: the first of its interrupt handler', () => {
    const probe = debugged(WAKE, (d) => { d.cont(); }, { harts: 2 });
    debugged(WAKE, (d) => {
      // Step hart 1 alone to its wfi (hart 0 stays at the reset vector).
      for (let i = 0; i < 500 && !d.hart(1).wfi; i++) expectStop(d.step(1), 'step');
      expect(d.hart(1).wfi).toBe(true);
      const before = d.machine.insns;
      const e = expectStop(d.step(1), 'step');
      expect(e.hart).toBe(1);
      // One instruction of the handler ran (hart 0's msip write woke it; the trap went to mtvec = woke).
      expect(e.pc > probe.sym('woke') && e.pc <= probe.sym('woke') + 4n, `pc 0x${e.pc.toString(16)}`).toBe(true);
      expect(d.machine.insns - before).toBeGreaterThan(3000); // hart 0 ran its spin meanwhile
      expect(d.current).toBe(1);
      expectStop(d.cont(), 'exit');
    }, { harts: 2 });
  });

  it('says so when nothing can wake it, or it does not run within the bound', () => {
    debugged(LOOP, (d) => {
      d.machine.harts[0]!.wfi = true; // parked, no interrupt enabled: nothing will ever wake it
      const e = expectStop(d.step(0), 'blocked');
      expect(e.why).toMatch(/^hart 0 waits for an interrupt \(wfi\), and nothing can wake it/);
      d.machine.harts[0]!.wfi = false;
      d.cont();
    });
    debugged(WAKE, (d) => {
      for (let i = 0; i < 500 && !d.hart(1).wfi; i++) expectStop(d.step(1), 'step');
      expect(d.hart(1).wfi).toBe(true);
      const e = expectStop(d.step(1, 100), 'blocked');
      expect(e.why).toBe('hart 1 waits for an interrupt (wfi), and did not run within 100 instructions of the others');
      d.cont();
    }, { harts: 2 });
  });
});

describe('watchpoints', () => {
  it('watch (write): stops after the store with the old and new value', () => {
    const probe = debugged(LOOP, (d) => { d.cont(); });
    debugged(LOOP, (d) => {
      const wp = d.addWatchpoint(COUNTER, 8, 'write');
      const e = expectStop(d.cont(), 'watchpoint');
      expect(e.watchpoint.id).toBe(wp.id);
      expect(e.write).toBe(true);
      expect(e.insnPc).toBe(probe.sym('after_store') - 4n);
      expect(e.pc).toBe(probe.sym('after_store'));
      expect(Buffer.from(e.old).readBigUInt64LE()).toBe(0n);
      expect(Buffer.from(e.value).readBigUInt64LE()).toBe(1n);
      // The load of the same word is no write: the next stop is the next round's store.
      const e2 = expectStop(d.cont(), 'watchpoint');
      expect(Buffer.from(e2.old).readBigUInt64LE()).toBe(1n);
      expect(Buffer.from(e2.value).readBigUInt64LE()).toBe(2n);
      d.delete(wp.id);
      expectStop(d.cont(), 'exit');
    });
  });

  it('rwatch stops after loads only; awatch after both; an AMO counts as a write', () => {
    const probe = debugged(LOOP, (d) => { d.cont(); });
    debugged(LOOP, (d) => {
      d.addWatchpoint(COUNTER + 4n, 2, 'read');
      const e = expectStop(d.cont(), 'watchpoint');
      expect(e.write).toBe(false);
      expect(e.pc).toBe(probe.sym('after_load'));
      let more = 0;
      while (d.cont().reason === 'watchpoint') more++;
      expect(more).toBe(4);
    });
    debugged(LOOP, (d) => {
      d.addWatchpoint(COUNTER, 1, 'access');
      const pcs: bigint[] = [];
      for (;;) {
        const e = d.cont();
        if (e.reason !== 'watchpoint') break;
        pcs.push(e.pc);
      }
      // 5 rounds of store + load, then the AMO.
      expect(pcs.length).toBe(11);
      expect(pcs[0]).toBe(probe.sym('after_store'));
      expect(pcs[1]).toBe(probe.sym('after_load'));
      expect(pcs[10]).toBe(probe.sym('after_amo'));
    });
  });

  it('watch memory that S-mode reaches through another mapping (an alias page)', () => {
    // S-mode: VA 0x4000_0000 (a 1 GiB leaf over low DRAM + 0x0) and the identity map.
    const ALIAS = ALIAS_BASE;
    const src = `
    ${enterSv39Alias('s_code')}
s_code:
    li s1, ${ALIAS + (COUNTER - 0x8000_0000n)}
    li t0, 42
    sd t0, 0(s1)
s_after:
    li t0, 0x100000
    li t1, 0x5555
    sw t1, 0(t0)
s_end:
    j s_end
`;
    const probe = debugged(src, (d) => { d.cont(); });
    debugged(src, (d) => {
      // Physical watch on the counter; the store comes through the alias VA.
      d.addWatchpoint(COUNTER, 8, 'write', { phys: true });
      const e = expectStop(d.cont(), 'watchpoint');
      expect(e.pc).toBe(probe.sym('s_after'));
      expect(Buffer.from(e.value).readBigUInt64LE()).toBe(42n);
      // Reads through the hart's MMU: the alias and the identity map see the same bytes; PTE A/D untouched.
      const h = d.hart();
      expect(h.priv).toBe(1);
      const pte = d.readPhys(Number(PT) + 8, 8);
      expect(d.readVirt(ALIAS + (COUNTER - 0x8000_0000n), 8)).toEqual(d.readPhys(Number(COUNTER), 8));
      expect(d.translate(ALIAS + 0x123n)).toBe(0x8000_0123);
      expect(d.readPhys(Number(PT) + 8, 8)).toEqual(pte);
      expect(() => d.translate(0xc000_0000n)).toThrow(/not mapped on hart 0: no valid entry at level 2/);
      expect(() => d.translate(0x8000_0000_0000_0000n)).toThrow(/not a canonical Sv39 address/);
      d.cont();
    });
  });

  it('rejects a watch on a device or a bad length', () => {
    debugged(LOOP, (d) => {
      expect(() => d.addWatchpoint(0x1000_0000n, 1, 'write')).toThrow(/not RAM/);
      expect(() => d.addWatchpoint(COUNTER, 0, 'write')).toThrow(/length 0/);
      expect(() => d.readPhys(0x1000_0000, 1)).toThrow(/not RAM .*side effects/);
      d.cont();
    });
  });
});

describe('a debugged run is the undebugged run', () => {
  it('stopping at breakpoints and going on changes neither the count nor the state', () => {
    const plain = debugged(MULTI, (d) => { d.detach(); d.machine.run(); }, { harts: 4 });
    const g = debugged(MULTI, (d) => {
      d.addBreakpoint(plain.sym('bump'));
      let stops = 0;
      while (d.cont().reason === 'breakpoint') stops++;
      expect(stops).toBe(20);
    }, { harts: 4 });
    expect(g.machine.insns).toBe(plain.machine.insns);
    for (let i = 0; i < 4; i++) {
      expect(g.machine.harts[i]!.pc).toBe(plain.machine.harts[i]!.pc);
      for (let r = 0; r < 32; r++) expect(g.machine.harts[i]!.getReg(r)).toBe(plain.machine.harts[i]!.getReg(r));
    }
    expect(g.read(COUNTER, 8)).toBe(plain.read(COUNTER, 8));
  });

  it('contAsync in slices gives the same run and can be interrupted', async () => {
    const { bytes } = assemble(guestSource(`
    li t0, 3000000
spin:
    addi t0, t0, -1
    bnez t0, spin
    j pass
`), { base: GUEST_BASE });
    const make = (): Machine => new Machine({ harts: 1, dramSize: 16 << 20, highmemSize: 0, kernel: { name: 'spin.bin', bytes } });
    const d = new Debugger(make());
    // contAsync runs its first slice before it yields: the stop lands right after it, whatever the host's speed.
    const p = d.contAsync(Infinity, 1000);
    d.requestStop();
    const e = await p;
    expect(e.reason).toBe('interrupted');
    const insns = d.machine.insns;
    expect(insns).toBe(1000);
    expect((await d.contAsync(5000, 1000)).reason).toBe('limit');
    expect(d.machine.insns).toBe(insns + 5000);
    expect((await d.contAsync()).reason).toBe('exit');
    // The same count as one undebugged run.
    const plain = make();
    expect(plain.run()).toBe('exit');
    expect(d.machine.insns).toBe(plain.insns);
  });
});
