// Benchmark + corpus: linked-list churn over a static node pool with a free list.
// node: [next: u32, value: u32]
const NODES: i32 = 4096;
const POOL: usize = memory.data(NODES * 8, 16);
let freeList: usize = 0;
let head: usize = 0;
let rng: u32 = 12345;

function rand(): u32 {
  rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5;
  return rng;
}

function alloc(): usize {
  const n = freeList;
  if (n != 0) freeList = <usize>load<u32>(n);
  return n;
}

function free(n: usize): void {
  store<u32>(n, <u32>freeList);
  freeList = n;
}

export function main(): i64 {
  freeList = 0;
  for (let i = NODES - 1; i >= 1; i--) free(POOL + (<usize>i << 3));
  head = 0;
  let sum: i64 = 0;
  for (let step = 0; step < 20000; step++) {
    const r = rand();
    if ((r & 3) != 0) {
      const n = alloc();
      if (n != 0) {
        store<u32>(n, <u32>head);
        store<u32>(n, r, 4);
        head = n;
      }
    } else {
      // remove the first node whose value has the same low 2 bits set as r >> 2
      let prev: usize = 0;
      let cur = head;
      let hops = 0;
      while (cur != 0 && hops < 16) {
        if ((load<u32>(cur, 4) & 0x30) == ((r >> 2) & 0x30)) {
          const next = <usize>load<u32>(cur);
          if (prev == 0) head = next; else store<u32>(prev, <u32>next);
          sum += <i64>load<u32>(cur, 4);
          free(cur);
          break;
        }
        prev = cur;
        cur = <usize>load<u32>(cur);
        hops++;
      }
    }
  }
  for (let cur = head; cur != 0; cur = <usize>load<u32>(cur)) sum = sum * 7 + <i64>load<u32>(cur, 4);
  return sum;
}
