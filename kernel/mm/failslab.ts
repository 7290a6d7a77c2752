/**
 * Fault injection for the allocators (Linux mm/failslab.c, the
 * fail_page_alloc part of mm/page_alloc.c, and lib/fault-inject.c, reduced
 * to the attribute that makes runs repeatable: `times`).
 *
 * Two switches, one per allocator:
 *
 *   failslab          should_failslab(s, gfp)            the slab allocator calls it at
 *                                                        the top of kmem_cache_alloc
 *                                                        (kmalloc's caches included)
 *   fail_page_alloc   should_fail_alloc_page(gfp, order) the page allocator calls it at
 *                                                        the top of __alloc_pages
 *
 * Each holds a count (Linux fault_attr.times): the next `times` calls that
 * are allowed to fail do fail, then the switch is off again; -1 fails every
 * call until the switch is turned off (failslab_fail_next(0)). Arm them
 * with failslab_fail_next(n) / fail_page_alloc_next(n), or from the
 * command line:
 *
 *   failslab=N         the first N slab allocations after boot fail
 *   fail_page_alloc=N  the first N page allocations after boot fail
 *
 * (N = -1: all of them.) Linux's own form, `failslab=<interval>,<probability>,
 * <space>,<times>`, is accepted too; only its last field is used, and a
 * warning says so unless the others are 1,100,0 (fail every time). The
 * command line is read at the first call of should_failslab /
 * should_fail_alloc_page (or by failslab_init(), which boot may call
 * earlier); an explicit failslab_fail_next() before that wins over it.
 *
 * Never failed: __GFP_NOFAIL requests (as in Linux). Unlike Linux's
 * defaults, requests that may sleep are failed too (Linux's
 * ignore-gfp-wait = Y for both switches), and fail_page_alloc fails order-0
 * requests too (Linux's min-order = 1): "the next N fail" means every one.
 * There is no probability, interval or task filter (no RNG, no debugfs).
 *
 * A forced failure prints Linux's fail_dump report, unless the request says
 * __GFP_NOWARN:
 *
 *   FAULT_INJECTION: forcing a failure.
 *   name failslab, interval 1, probability 100, space 0, times 2     (times left)
 *   <the call trace>                                                 (verbose 2)
 *
 * Every forced failure is counted (failslab_failures(),
 * fail_page_alloc_failures()) with or without a report.
 *
 * Context: every function here may be called from any context, on any CPU
 * at once (the counts are atomics); nothing sleeps, no lock is taken.
 */
import { gfp_t, __GFP_NOFAIL, __GFP_NOWARN } from "./gfp";
import { pr_notice, pr_warn } from "../printk";
import { dump_stack } from "../arch/traps";
import { cmdline_find_in, cmdline_val_ptr, cmdline_val_len } from "../cmdline";
import { boot_command_line, boot_command_line_len } from "../of/fdt";
import { parse_u64 } from "../lib/string";

/** One switch (the part of Linux's struct fault_attr kept here). */
@unmanaged
class fault_attr {
  /** Calls still to fail: > 0 that many, -1 every one, 0 off (atomic). */
  times: i32;
  /** 0 no report, 1 the two lines, 2 also the call trace (Linux's verbose; default 2). */
  verbose: i32;
  /** Failures forced so far (atomic). */
  failed: u64;
  /** 0 = the command line not read yet, 1 = being read, 2 = done (atomic). */
  setup: u32;
  pad: u32;
}

const failslab = changetype<fault_attr>(memory.data(offsetof<fault_attr>(), 8));
const fail_page_alloc = changetype<fault_attr>(memory.data(offsetof<fault_attr>(), 8));

// memory.data is zero-filled; verbose = 2 is applied with the setup (no start function).
const SETUP_NONE: u32 = 0;
const SETUP_BUSY: u32 = 1;
const SETUP_DONE: u32 = 2;
const DEFAULT_VERBOSE: i32 = 2;

/** What `name=` in the command line `line` asks for: a times value (-1 … I32.MAX), or NOT_GIVEN (absent or malformed). */
const NOT_GIVEN: i32 = -2;
function parse_times(line: usize, line_len: i32, name: string): i32 {
  const v = cmdline_find_in(line, line_len, name);
  if (v < 0) return NOT_GIVEN;
  const p = cmdline_val_ptr(v);
  const len = cmdline_val_len(v);
  // Linux's interval,probability,space,times: the last field.
  let start = 0;
  let commas = 0;
  for (let i = 0; i < len; i++) if (load<u8>(p + <usize>i) == 44) { start = i + 1; commas++; }
  if (commas != 0 && commas != 3) {
    pr_warn("%s=: expected N or <interval>,<probability>,<space>,<times>\n", changetype<usize>(name));
    return NOT_GIVEN;
  }
  let t: i64 = -1; // "-1": every call
  const minus_one = len - start == 2 && load<u8>(p + <usize>start) == 45 && load<u8>(p + <usize>start + 1) == 49;
  if (!minus_one) t = parse_u64(p + <usize>start, len - start, false); // -1 = not a number
  if ((!minus_one && t < 0) || t > <i64>I32.MAX_VALUE) {
    pr_warn("%s=: bad count '%.*pz'\n", changetype<usize>(name), len, p);
    return NOT_GIVEN;
  }
  if (commas == 3) {
    // Only "fail every time" is supported: interval 1, probability 100, space 0.
    let field = 0, fs = 0;
    let every = true;
    for (let i = 0; i < start; i++) {
      if (load<u8>(p + <usize>i) != 44) continue;
      const n = parse_u64(p + <usize>fs, i - fs, false);
      if ((field == 0 && n != 1) || (field == 1 && n != 100) || (field == 2 && n != 0)) every = false;
      field++;
      fs = i + 1;
    }
    if (!every) pr_warn("%s=: only the times field is used (every call fails until it runs out)\n", changetype<usize>(name));
  }
  return <i32>t;
}

/** Read the command line for `attr` once (the first caller does it; the others go on). */
function attr_setup(attr: fault_attr, name: string): void {
  if (atomic.load<u32>(changetype<usize>(attr), offsetof<fault_attr>("setup")) == SETUP_DONE) return;
  if (atomic.cmpxchg<u32>(changetype<usize>(attr), SETUP_NONE, SETUP_BUSY, offsetof<fault_attr>("setup")) != SETUP_NONE) return;
  attr.verbose = DEFAULT_VERBOSE;
  const t = parse_times(boot_command_line, boot_command_line_len, name);
  if (t != NOT_GIVEN) {
    atomic.store<i32>(changetype<usize>(attr), t, offsetof<fault_attr>("times"));
    if (t < 0) pr_notice("%s: every allocation fails (%s=-1 on the command line)\n", changetype<usize>(name), changetype<usize>(name));
    else if (t > 0) pr_notice("%s: the first %d allocations fail (%s= on the command line)\n", changetype<usize>(name), t, changetype<usize>(name));
  }
  atomic.store<u32>(changetype<usize>(attr), SETUP_DONE, offsetof<fault_attr>("setup"));
}

/** Nothing armed and the command line already read: the hot path's one test. */
// @ts-ignore: decorator
@inline function attr_idle(attr: fault_attr): bool {
  return atomic.load<i32>(changetype<usize>(attr), offsetof<fault_attr>("times")) == 0 &&
    atomic.load<u32>(changetype<usize>(attr), offsetof<fault_attr>("setup")) == SETUP_DONE;
}

/** An explicit setting: the command line will not override it. */
function attr_set(attr: fault_attr, times: i32): void {
  if (atomic.xchg<u32>(changetype<usize>(attr), SETUP_DONE, offsetof<fault_attr>("setup")) != SETUP_DONE) attr.verbose = DEFAULT_VERBOSE;
  atomic.store<i32>(changetype<usize>(attr), times < 0 ? -1 : times, offsetof<fault_attr>("times"));
}

/** Take one failure from the count (Linux should_fail_ex's times handling). */
function attr_take(attr: fault_attr): bool {
  const p = changetype<usize>(attr);
  while (true) {
    const t = atomic.load<i32>(p, offsetof<fault_attr>("times"));
    if (t == 0) return false;
    if (t < 0) break;
    if (atomic.cmpxchg<i32>(p, t, t - 1, offsetof<fault_attr>("times")) == t) break;
  }
  atomic.add<u64>(p, 1, offsetof<fault_attr>("failed"));
  return true;
}

/** Linux fail_dump. */
function fail_dump(attr: fault_attr, name: string): void {
  if (attr.verbose <= 0) return;
  pr_notice("FAULT_INJECTION: forcing a failure.\n");
  pr_notice("name %s, interval 1, probability 100, space 0, times %d\n", changetype<usize>(name),
    atomic.load<i32>(changetype<usize>(attr), offsetof<fault_attr>("times")));
  if (attr.verbose > 1) dump_stack();
}

// --- failslab -------------------------------------------------------------------------------------

/**
 * Read `failslab=` and `fail_page_alloc=` from the command line now
 * (otherwise the first allocation does). Context: any; idempotent.
 */
export function failslab_init(): void {
  attr_setup(failslab, "failslab");
  attr_setup(fail_page_alloc, "fail_page_alloc");
}

/**
 * Make the next `n` slab allocations fail (n > 0), every one until called
 * again with 0 (n < 0), or none (n = 0, the switch off). Replaces what was
 * left of an earlier count. Context: any.
 */
export function failslab_fail_next(n: i32): void { attr_set(failslab, n); }

/** Slab allocations still to fail (-1 = all, 0 = off). Context: any. */
export function failslab_remaining(): i32 {
  attr_setup(failslab, "failslab");
  return atomic.load<i32>(changetype<usize>(failslab), offsetof<fault_attr>("times"));
}

/** Slab allocations failed by injection since boot. Context: any. */
export function failslab_failures(): u64 { return atomic.load<u64>(changetype<usize>(failslab), offsetof<fault_attr>("failed")); }

/** The report on a forced failure: 0 none, 1 two lines, 2 also the call trace (the default). Context: any. */
export function failslab_set_verbose(v: i32): void { attr_setup(failslab, "failslab"); failslab.verbose = v; }

/**
 * Should this slab allocation fail? The slab allocator asks at the top of
 * its allocation path and returns NULL when told so (Linux
 * should_failslab, whose -ENOMEM means the same). `s` is the kmem_cache
 * (not looked at: there is no per-cache filter). Never fails __GFP_NOFAIL.
 * Reports the failure unless __GFP_NOWARN. Context: any; never sleeps.
 */
export function should_failslab(s: usize, gfp: gfp_t): bool {
  if (attr_idle(failslab)) return false;
  attr_setup(failslab, "failslab");
  if ((gfp & __GFP_NOFAIL) != 0) return false;
  if (!attr_take(failslab)) return false;
  if ((gfp & __GFP_NOWARN) == 0) fail_dump(failslab, "failslab");
  return true;
}

// --- fail_page_alloc ------------------------------------------------------------------------------

/** As failslab_fail_next, for the page allocator. Context: any. */
export function fail_page_alloc_next(n: i32): void { attr_set(fail_page_alloc, n); }

/** Page allocations still to fail (-1 = all, 0 = off). Context: any. */
export function fail_page_alloc_remaining(): i32 {
  attr_setup(fail_page_alloc, "fail_page_alloc");
  return atomic.load<i32>(changetype<usize>(fail_page_alloc), offsetof<fault_attr>("times"));
}

/** Page allocations failed by injection since boot. Context: any. */
export function fail_page_alloc_failures(): u64 {
  return atomic.load<u64>(changetype<usize>(fail_page_alloc), offsetof<fault_attr>("failed"));
}

/** As failslab_set_verbose, for the page allocator. Context: any. */
export function fail_page_alloc_set_verbose(v: i32): void { attr_setup(fail_page_alloc, "fail_page_alloc"); fail_page_alloc.verbose = v; }

/**
 * Should this page allocation fail (Linux should_fail_alloc_page)? The
 * page allocator asks before its fast path and returns NULL when told so,
 * without its own failure warning. Every order counts. Never fails
 * __GFP_NOFAIL. Reports the failure unless __GFP_NOWARN. Context: any;
 * never sleeps.
 */
export function should_fail_alloc_page(gfp: gfp_t, order: u32): bool {
  if (attr_idle(fail_page_alloc)) return false;
  attr_setup(fail_page_alloc, "fail_page_alloc");
  if ((gfp & __GFP_NOFAIL) != 0) return false;
  if (!attr_take(fail_page_alloc)) return false;
  if ((gfp & __GFP_NOWARN) == 0) fail_dump(fail_page_alloc, "fail_page_alloc");
  return true;
}

/**
 * What `failslab=` in the command line `line` (len bytes) would arm: the
 * count (-1 = every allocation), or -2 when absent or malformed. Arms
 * nothing (the self-tests check the syntax with it). Context: any.
 */
export function failslab_parse(line: usize, len: i32): i32 { return parse_times(line, len, "failslab"); }
