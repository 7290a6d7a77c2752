/**
 * Determinism (DESIGN.md §2, "Harts"): the same image and options give the
 * same instruction count, the same output and the same final state, every
 * time. Four harts contend on shared counters (amoadd and an LR/SC loop),
 * print to the UART, read time/cycle, and one takes timer interrupts.
 */
import { describe, expect, it } from 'vitest';
import { DATA, MTIME, MTIMECMP, lit, runGuest, runGuestWith, type Guest } from '../helpers/guest.js';

const N = 300;
const COUNTERS = DATA + 0x8000n; // +0 amoadd counter, +8 LR/SC counter, +16 harts done

const PROGRAM = `
    li s1, ${lit(COUNTERS)}
    mv s2, a0                 # hart id
    li s3, ${N}
    li s4, 0                  # iterations done
    bnez s2, loop
    # hart 0 also takes timer interrupts (the runtime handler disables MTIE each time; re-arm below)
    li s5, 0
loop:
    li t0, 1
    amoadd.d zero, t0, (s1)
retry:
    addi t1, s1, 8
    lr.d t2, (t1)
    addi t2, t2, 1
    sc.d t3, t2, (t1)
    bnez t3, retry
    addi s4, s4, 1
    li t0, 20
    remu t0, s4, t0
    bnez t0, no_print
    li t0, 0x10000000
    addi t1, s2, 65           # 'A' + hart id
    sb t1, 0(t0)
no_print:
    bnez s2, no_timer
    li t0, 50
    remu t0, s4, t0
    bnez t0, no_timer
    li t0, ${MTIME}
    ld t1, 0(t0)
    addi t1, t1, 7
    li t0, ${MTIMECMP}
    sd t1, 0(t0)
    li t0, 0x80
    csrs mie, t0
    csrsi mstatus, 8
    addi s5, s5, 1
no_timer:
    blt s4, s3, loop
    rdtime s6
    rdcycle s7
    rdinstret s8
    li t0, 1
    addi t1, s1, 16
    amoadd.d zero, t0, (t1)
    bnez s2, park
wait_all:
    ld t0, 16(s1)
    li t1, 4
    bne t0, t1, wait_all
    li t0, 0x10000000
    li t1, 10
    sb t1, 0(t0)
    ld a1, 0(s1)
    ld a2, 8(s1)
    j pass
park:
    wfi
    j park
`;

function snapshot(g: Guest) {
  return {
    insns: g.machine.insns,
    output: g.output,
    harts: g.machine.harts.map((h) => ({ pc: h.pc, x: Array.from({ length: 32 }, (_, i) => h.getReg(i)), instret: h.instret })),
    mtime: g.machine.clint.mtime,
    traps: [0, 1, 2, 3].map((h) => g.traps(h)),
  };
}

describe('determinism with 4 harts', () => {
  it('two runs give identical instruction counts, output, registers and traps', () => {
    const a = runGuest(PROGRAM, { harts: 4, maxInsns: 5_000_000 });
    const b = runGuest(PROGRAM, { harts: 4, maxInsns: 5_000_000 });
    const sa = snapshot(a);
    expect(snapshot(b)).toEqual(sa);
    // And the run did what it says: atomic counters exact, every hart printed, interrupts taken.
    expect([a.reg('a1'), a.reg('a2')]).toEqual([BigInt(4 * N), BigInt(4 * N)]);
    for (const c of 'ABCD') expect(sa.output.split(c).length - 1, c).toBe(N / 20);
    expect(sa.output.endsWith('\n')).toBe(true);
    expect(a.traps(0).length).toBeGreaterThan(0);
    expect(a.traps(0).every((t) => t.cause === (1n << 63n) + 7n)).toBe(true);
    expect(new Set(sa.output.slice(0, 20)).size).toBeGreaterThan(1); // harts interleave
  });
});

describe('determinism and the way the host slices the run', () => {
  // DESIGN.md §2: harts run "in fixed quanta"; a host that calls run(limit) in slices
  // (the CLI does, with 4 000 000; a debugger steps with 1) must get the same schedule.
  it.each([1, 777, 1000, 4096, 4_000_000])(
    'running in slices of %i instructions gives the same run as one call',
    (slice) => {
      const whole = snapshot(runGuest(PROGRAM, { harts: 4, maxInsns: 5_000_000 }));
      const sliced = snapshot(runGuestWith(PROGRAM, { harts: 4, maxInsns: 2_000_000 }, (m) => {
        let r = 'limit';
        while (r === 'limit' && m.insns < 2_000_000) r = m.run(slice);
        return r;
      }));
      expect(sliced.insns).toBe(whole.insns);
      expect(sliced.output).toBe(whole.output);
      expect(sliced).toEqual(whole);
    },
  );
});
