/**
 * Circular doubly linked lists (Linux include/linux/list.h) on 32-bit
 * kernel pointers.
 *
 *   struct list_head { u32 next; u32 prev; }   embedded in the owner
 *
 *   head ⇄ a ⇄ b ⇄ … ⇄ head        an empty list: head.next = head.prev = head
 *
 * Entries are the addresses of the embedded list_head; the owner is at
 * entry − offsetof(owner, link) (Linux list_entry / container_of).
 * No locking: callers hold whatever protects the list.
 */

export const LIST_HEAD_SIZE: usize = 8;

// @ts-ignore: decorator
@inline export function list_next(e: usize): usize { return <usize>load<u32>(e); }
// @ts-ignore: decorator
@inline export function list_prev(e: usize): usize { return <usize>load<u32>(e, 4); }

/** Make `head` an empty list. */
// @ts-ignore: decorator
@inline export function INIT_LIST_HEAD(head: usize): void {
  store<u32>(head, <u32>head);
  store<u32>(head, <u32>head, 4);
}

// @ts-ignore: decorator
@inline export function list_empty(head: usize): bool { return list_next(head) == head; }

// @ts-ignore: decorator
@inline function __list_add(e: usize, prev: usize, next: usize): void {
  store<u32>(next, <u32>e, 4);
  store<u32>(e, <u32>next);
  store<u32>(e, <u32>prev, 4);
  store<u32>(prev, <u32>e);
}

/** Insert `e` right after `head` (at the front). */
// @ts-ignore: decorator
@inline export function list_add(e: usize, head: usize): void { __list_add(e, head, list_next(head)); }

/** Insert `e` right before `head` (at the back). */
// @ts-ignore: decorator
@inline export function list_add_tail(e: usize, head: usize): void { __list_add(e, list_prev(head), head); }

/** Unlink `e` and leave it pointing at itself. */
// @ts-ignore: decorator
@inline export function list_del_init(e: usize): void {
  const next = list_next(e);
  const prev = list_prev(e);
  store<u32>(next, <u32>prev, 4);
  store<u32>(prev, <u32>next);
  INIT_LIST_HEAD(e);
}

/** Number of entries (walks the list). */
export function list_count(head: usize): u64 {
  let n: u64 = 0;
  for (let e = list_next(head); e != head; e = list_next(e)) n++;
  return n;
}
