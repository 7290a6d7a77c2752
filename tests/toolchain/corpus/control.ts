// br_table (switch with many cases, default, out-of-range and negative index), deep nesting,
// loops with break / continue and labelled exits, early returns.
import { put, put32, result } from './lib/check';
import { V32 } from './lib/values';

function sw(x: i32): i32 {
  switch (x) {
    case 0: return 11;
    case 1: return 22;
    case 2: return 33;
    case 3: return -44;
    case 4: return 55;
    case 5: return 0x7fffffff;
    case 6: return 77;
    case 7: return 88;
    case 8: return 99;
    case 9: return 1010;
    case 10: return 1111;
    case 11: return 1212;
    case 13: return 1313; // a hole at 12
    case 14: return 1414;
    case 15: return 1515;
    default: return -1;
  }
}

// fall-through cases: a br_table into nested blocks
function fall(x: i32): i32 {
  let r = 0;
  switch (x) {
    case 0: r += 1;
    case 1: r += 10;
    case 2: r += 100; break;
    case 3: r += 1000;
    case 4: r += 10000;
    case 5: r *= 3; break;
    default: r = -7;
  }
  return r;
}

function nested(a: i32, b: i32, c: i32): i32 {
  let r = 0;
  if (a > 0) {
    if (b > 0) {
      if (c > 0) { r = 1; } else { if (c < -5) r = 2; else r = 3; }
    } else {
      if (c == 0) { r = 4; } else if (c == 1) { r = 5; } else if (c == 2) { r = 6; } else { r = 7; }
    }
  } else if (a == 0) {
    r = b > c ? (b > 2 * c ? 8 : 9) : (c > 3 ? 10 : 11);
  } else {
    r = a < -100 ? (b < -100 ? (c < -100 ? 12 : 13) : 14) : 15;
  }
  return r;
}

function loops(n: i32): i64 {
  let s: i64 = 0;
  let stop = false;
  for (let i = 0; i < n && !stop; i++) {
    if (i % 3 == 0) continue;
    let j = 0;
    while (true) {
      j++;
      if (j > i) break;
      if ((i ^ j) & 1) continue;
      s += <i64>(i * j);
      if (s > 100000) { stop = true; break; }
    }
    do {
      s ^= <i64>j << 3;
      j -= 3;
    } while (j > 0);
  }
  return s;
}

function deep(x: i32): i32 {
  let r = x;
  for (let a = 0; a < 2; a++) {
    for (let b = 0; b < 2; b++) {
      for (let c = 0; c < 2; c++) {
        for (let d = 0; d < 2; d++) {
          for (let e = 0; e < 2; e++) {
            if ((a + b + c + d + e) % 2 == 0) {
              if (r & 1) { r = r * 3 + 1; } else { r = r >> 1; }
            } else {
              switch ((r + a) & 3) {
                case 0: r += 5; break;
                case 1: r -= 3; break;
                case 2: r ^= 0x55; break;
                default: r = ~r;
              }
            }
          }
        }
      }
    }
  }
  return r;
}

export function main(): i64 {
  for (let i = -3; i < 20; i++) put32(sw(i));
  for (let i = 0; i < V32.length; i++) {
    const v = unchecked(V32[i]);
    put32(sw(v));         // out of range, negative, huge
    put32(fall(v));
    put32(fall(v & 7));
    put32(deep(v));
    for (let j = 0; j < V32.length; j += 5) put32(nested(v, unchecked(V32[j]), unchecked(V32[(j + i) % V32.length])));
  }
  for (let n = 0; n < 40; n += 7) put(loops(n));
  return result();
}

export function table_default(): i32 {
  return sw(<i32>0x80000000) + sw(16) + sw(12) + sw(-1);
}
