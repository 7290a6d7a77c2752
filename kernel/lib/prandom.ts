/**
 * Per-CPU pseudo-random sequences for the stress tests: xorshift64
 * (Marsaglia 2003), one 64-bit state per CPU, seeded deterministically
 * from the CPU number and a salt, so a run is repeatable for a given
 * `*.seed=` and each CPU's sequence is distinct. Not for anything that
 * needs unpredictability.
 *
 * Context: any; a CPU touches only its own state (no locks).
 */
import { NR_CPUS } from "../arch/layout";

/** Storage for one generator per possible CPU (pass to the functions below). */
export const PRANDOM_STATE_SIZE: i32 = NR_CPUS * 8;

/** Seed `cpu`'s generator in `state`: distinct, non-zero, deterministic. */
export function prandom_seed(state: usize, cpu: i32, salt: u64): void {
  let x = (<u64>(cpu + 1) * 0x9E37_79B9_7F4A_7C15) ^ salt;
  x ^= x >> 31;
  if (x == 0) x = 0x2545_F491_4F6C_DD1D;
  store<u64>(state + (<usize>cpu << 3), x);
}

/** The next number of `cpu`'s sequence. */
export function prandom_u64(state: usize, cpu: i32): u64 {
  const p = state + (<usize>cpu << 3);
  let x = load<u64>(p);
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  store<u64>(p, x);
  return x;
}
