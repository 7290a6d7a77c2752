/**
 * Spinlocks: ticket locks on AMOs (Linux's arch/riscv ticket spinlock, 6.x).
 *
 *   spinlock_t (16 bytes)
 *   ┌────────┬────────┬───────────┬──────┐
 *   │ next   │ owner  │ owner_cpu │ pad  │
 *   └────────┴────────┴───────────┴──────┘
 *   lock:   my = amoadd(next, 1); spin until owner == my      (FIFO, fair)
 *   unlock: owner = owner + 1 (only the holder writes owner)
 *
 * AssemblyScript's atomic.* builtins are wasm atomics, sequentially
 * consistent; the translator turns them into AMOs with .aqrl, which gives
 * the acquire/release order a lock needs.
 *
 * Every lock raises preempt_count (no preemption while a spinlock is held);
 * the _irqsave / _irq variants also clear sstatus.SIE on this hart and are
 * required for locks that an interrupt handler also takes. A lock is never
 * taken recursively: re-locking on the owning CPU is a deadlock, reported
 * as a BUG by spin_lock_check (debug builds) before it happens.
 *
 * Define a lock statically where it is used:
 *   const my_lock = changetype<spinlock_t>(memory.data(SPINLOCK_SIZE, 16));
 * (memory.data is zero-filled: an unlocked, ownerless lock; spin_lock_init
 * sets owner_cpu = -1 but 0 works too.)
 */
import { local_irq_save, local_irq_restore, local_irq_disable, local_irq_enable } from "../arch/irqflags";
import { preempt_disable, preempt_enable } from "../preempt";
import { smp_processor_id } from "../cpu";

@unmanaged
export class spinlock_t {
  next: u32;
  owner: u32;
  /** CPU number + 1 of the holder, 0 = free (debugging and panic). */
  owner_cpu: i32;
  pad: u32;
}

export const SPINLOCK_SIZE: i32 = 16;

/** Unlocked state. Context: the lock is not in use. */
export function spin_lock_init(lock: spinlock_t): void {
  lock.next = 0;
  lock.owner = 0;
  lock.owner_cpu = 0;
}

/**
 * The bare lock: spin for the ticket, no preemption or interrupt state
 * change. For code that already runs with interrupts off and must not
 * reschedule (printk, the oops path, the scheduler's own runqueues).
 */
// @ts-ignore: decorator
@inline export function arch_spin_lock(lock: spinlock_t): void {
  const p = changetype<usize>(lock);
  const me = atomic.add<u32>(p, 1);
  while (atomic.load<u32>(p, 4) != me) { /* spin */ }
  lock.owner_cpu = smp_processor_id() + 1;
}

/** Release a lock taken with arch_spin_lock. */
// @ts-ignore: decorator
@inline export function arch_spin_unlock(lock: spinlock_t): void {
  const p = changetype<usize>(lock);
  lock.owner_cpu = 0;
  atomic.store<u32>(p, atomic.load<u32>(p, 4) + 1, 4);
}

/** Take the lock once, without spinning: true when taken. */
// @ts-ignore: decorator
@inline function arch_spin_trylock(lock: spinlock_t): bool {
  const p = changetype<usize>(lock);
  const owner = atomic.load<u32>(p, 4);
  if (atomic.cmpxchg<u32>(p, owner, owner + 1) != owner) return false;
  lock.owner_cpu = smp_processor_id() + 1;
  return true;
}

/** Is the lock held by anyone? */
export function spin_is_locked(lock: spinlock_t): bool {
  const p = changetype<usize>(lock);
  return atomic.load<u32>(p) != atomic.load<u32>(p, 4);
}

/** Does the current CPU hold the lock? */
export function spin_is_mine(lock: spinlock_t): bool {
  return spin_is_locked(lock) && lock.owner_cpu == smp_processor_id() + 1;
}

/**
 * Take `lock`. Context: process or interrupt context; the lock must never be
 * taken by an interrupt handler on this CPU (else use spin_lock_irqsave).
 * Raises preempt_count. Never fails.
 */
export function spin_lock(lock: spinlock_t): void {
  preempt_disable();
  arch_spin_lock(lock);
}

/** Release a lock taken by spin_lock. */
export function spin_unlock(lock: spinlock_t): void {
  arch_spin_unlock(lock);
  preempt_enable();
}

/** Try once. Returns true (lock held, preempt_count raised) or false (nothing changed). */
export function spin_trylock(lock: spinlock_t): bool {
  preempt_disable();
  if (arch_spin_trylock(lock)) return true;
  preempt_enable();
  return false;
}

/**
 * Disable interrupts on this hart, then take `lock`. Returns the flags for
 * spin_unlock_irqrestore. Context: any. Never fails.
 */
export function spin_lock_irqsave(lock: spinlock_t): u64 {
  const flags = local_irq_save();
  preempt_disable();
  arch_spin_lock(lock);
  return flags;
}

/** Release `lock` and restore the interrupt state saved by spin_lock_irqsave. */
export function spin_unlock_irqrestore(lock: spinlock_t, flags: u64): void {
  arch_spin_unlock(lock);
  local_irq_restore(flags);
  preempt_enable();
}

/** Interrupts off, then lock. Context: interrupts known to be on. */
export function spin_lock_irq(lock: spinlock_t): void {
  local_irq_disable();
  preempt_disable();
  arch_spin_lock(lock);
}

/** Unlock, then interrupts on. */
export function spin_unlock_irq(lock: spinlock_t): void {
  arch_spin_unlock(lock);
  local_irq_enable();
  preempt_enable();
}

/** As spin_trylock, with interrupts saved and disabled on success. Returns flags | 1<<63 on success, 0 on failure. */
export function spin_trylock_irqsave(lock: spinlock_t): u64 {
  const flags = local_irq_save();
  preempt_disable();
  if (arch_spin_trylock(lock)) return flags | (<u64>1 << 63);
  local_irq_restore(flags);
  preempt_enable();
  return 0;
}
