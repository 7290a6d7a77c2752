// Traps and aborts that must end the run with the matching failure code.
import { put, result } from './lib/check';
import { pick32 } from './lib/values';

const ARR: StaticArray<i32> = [1, 2, 3];

export function reaches_unreachable(): i32 {
  put(1);
  if (pick32(7) == 7) unreachable();
  return 0;
}

// A bounds-checked StaticArray access out of range calls asc's abort (exit 5).
export function bounds_abort(): i32 {
  put(2);
  return ARR[pick32(7)];
}

export function explicit_abort(): i64 {
  put(3);
  if (pick32(-1) < 0) abort('explicit abort from the corpus');
  return result();
}

// Stores before the trap must be visible (bit-for-bit memory comparison after the trap).
export function store_then_trap(): i64 {
  for (let i = 0; i < 10; i++) put(<i64>i * 1000);
  const z = pick32(0);
  put(<i64>(100 / z));
  return result();
}
