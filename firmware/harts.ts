/**
 * What the firmware knows about the harts and memory of the board, shared by
 * every extension: which hart ids exist (from the device tree), each hart's
 * HSM state, the SBI hart-mask encoding, and which physical ranges S-mode may
 * use.
 *
 * Per-hart words live in static memory (memory.data), indexed by hart id,
 * and are read and changed with atomics: any hart may look at any other's.
 */

import { fdt_hart_mask, fdt_mem_bank_base, fdt_mem_bank_size, fdt_mem_count } from "./fdt";
import { FW_BASE, FW_END, MAX_HARTS } from "./platform";
import { csrr_mhartid } from "./riscv";
import { SBI_HART_MASK_BASE_ALL } from "./sbi";

// HSM hart states (SBI v2.0 section 9, table 27).
export const SBI_HSM_STATE_STARTED: i32 = 0;
export const SBI_HSM_STATE_STOPPED: i32 = 1;
export const SBI_HSM_STATE_START_PENDING: i32 = 2;
export const SBI_HSM_STATE_STOP_PENDING: i32 = 3;
export const SBI_HSM_STATE_SUSPENDED: i32 = 4;
export const SBI_HSM_STATE_SUSPEND_PENDING: i32 = 5;
export const SBI_HSM_STATE_RESUME_PENDING: i32 = 6;

/** Hart ids the device tree lists: bit N = hart N. Set once by the boot hart. */
export let hart_valid_mask: u64 = 0;
/** The hart that won the boot lottery. */
export let boot_hart: i32 = -1;

const hsm_state: usize = memory.data(MAX_HARTS * 4, 4);

/** The calling hart's id. */
export function this_hart(): i32 {
  return <i32>csrr_mhartid();
}

/** Boot hart only: take the harts and memory the device tree describes. */
export function harts_init(me: i32): void {
  hart_valid_mask = fdt_hart_mask;
  boot_hart = me;
  for (let h = 0; h < MAX_HARTS; h++) {
    atomic.store<i32>(hsm_state + (<usize>h << 2), h == me ? SBI_HSM_STATE_STARTED : SBI_HSM_STATE_STOPPED);
  }
}

export function hart_count(): i32 {
  return <i32>popcnt<u64>(hart_valid_mask);
}

/** Is `hartid` a hart of this board? */
export function hart_is_valid(hartid: u64): bool {
  return hartid < <u64>MAX_HARTS && ((hart_valid_mask >> hartid) & 1) != 0;
}

export function hsm_state_get(h: i32): i32 {
  return atomic.load<i32>(hsm_state + (<usize>h << 2));
}

export function hsm_state_set(h: i32, state: i32): void {
  atomic.store<i32>(hsm_state + (<usize>h << 2), state);
}

/** Move hart h from state `from` to `to` if it is in `from`; true if it was. */
export function hsm_state_change(h: i32, from: i32, to: i32): bool {
  return atomic.cmpxchg<i32>(hsm_state + (<usize>h << 2), from, to) == from;
}

/**
 * Does (hart_mask, hart_mask_base) name only valid harts (SBI v2.0 section
 * 3.1)? hart_mask_base = -1 means every hart and is always valid.
 */
export function hart_mask_is_valid(hart_mask: u64, hart_mask_base: u64): bool {
  if (hart_mask_base == SBI_HART_MASK_BASE_ALL || hart_mask == 0) return true;
  if (hart_mask_base >= <u64>MAX_HARTS) return false;
  // A bit that would name a hart id >= MAX_HARTS, or a hart the board lacks.
  if (hart_mask_base > 0 && (hart_mask >> (<u64>MAX_HARTS - hart_mask_base)) != 0) return false;
  return ((hart_mask << hart_mask_base) & ~hart_valid_mask) == 0;
}

/** The harts (bit N = hart N) a valid (hart_mask, hart_mask_base) names. */
export function hart_mask_decode(hart_mask: u64, hart_mask_base: u64): u64 {
  if (hart_mask_base == SBI_HART_MASK_BASE_ALL) return hart_valid_mask;
  if (hart_mask == 0) return 0;
  return (hart_mask << hart_mask_base) & hart_valid_mask;
}

/**
 * May S-mode use the physical range [addr, addr + len)? It must lie inside
 * one memory bank of the device tree and outside the firmware's own memory.
 */
export function s_mode_range_ok(addr: u64, len: u64): bool {
  const end = addr + len;
  if (end < addr) return false; // wraps around
  if (addr < FW_END && end > FW_BASE) return false;
  for (let i = 0; i < fdt_mem_count; i++) {
    const base = fdt_mem_bank_base(i);
    const size = fdt_mem_bank_size(i);
    if (addr >= base && end <= base + size) return true;
  }
  return false;
}
