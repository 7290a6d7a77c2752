/**
 * The in-kernel self-test framework: KUnit's model and its KTAP version 1
 * output, as Linux 6.1 prints it (lib/kunit/test.c, executor.c; the sample
 * in ../shared/reference/linux-6.1-kunit-ktap.txt):
 *
 *   KTAP version 1
 *   1..N                                   suites to run
 *       KTAP version 1                     ┐
 *       # Subtest: <suite>                 │ one block per suite,
 *       1..M                               │ indented 4 spaces
 *       ok 1 <case>                        │
 *       not ok 2 <case>                    │ (diagnostics before it)
 *       ok 3 <case> # SKIP <reason>        │
 *   # <suite>: pass:P fail:F skip:S total:T┘ when the suite has more than one case
 *   # Totals: pass:P fail:F skip:S total:T   (as KUnit 6.1: per suite)
 *   ok 1 <suite>                           not ok when a case failed,
 *                                          "# SKIP" when all were skipped
 *
 * A failed expectation prints KUnit's report, at KERN_ERR:
 *
 *       # <case>: EXPECTATION FAILED at kernel/test/fdt_test.ts:42
 *       Expected nr_mem_banks == 2, but
 *           nr_mem_banks == 1 (0x1)
 *
 * The expression texts and the file:line come from an asc transform
 * (kernel/test/kunit_transform.mjs) that fills the trailing arguments of
 * every KUNIT_EXPECT_* / KUNIT_ASSERT_* call at compile time, the way the C
 * macros stringify theirs; without the transform they read "left", "right",
 * "?" and 0.
 *
 * Suites are registered in one table (kernel/test/suites.ts) and chosen by
 * the command line: selftest=all or selftest=name,name. Cases run one after
 * the other on the boot CPU in process context, interrupts on; they may use
 * every CPU (through IPIs). KUNIT_ASSERT_* cannot abort a case (no
 * exceptions in AssemblyScript): it marks the case failed ("ASSERTION
 * FAILED") and returns false, and the case must return itself.
 */
import { pr_info, pr_err, console_loglevel, set_console_loglevel, log_next_seq, log_read_record } from "../printk";
import { scnprintf } from "../lib/vsprintf";
import { mm_reports_after_suite } from "../mm/vmstat";
import { bytes_starts_with } from "../lib/string";

export const KUNIT_SUCCESS: i32 = 0;
export const KUNIT_FAILURE: i32 = 1;
export const KUNIT_SKIPPED: i32 = 2;

/** The state of the running case (Linux's struct kunit). */
@unmanaged
export class kunit {
  /** Case name (an AS string). */
  name: usize;
  status: i32;
  /** Failed expectations so far. */
  failures: i32;
  /** Reason given to kunit_skip (an AS string), 0 = none. */
  skip_reason: usize;
  /** Free for the suite's init / cases. */
  priv: u64;
}

const MAX_SUITES: i32 = 64;
const MAX_CASES: i32 = 512;
const SUITE_SIZE: i32 = 24;
const CASE_SIZE: i32 = 8;

// suite: +0 name, +4 first case, +8 case count, +12 init fn (0 = none), +16 exit fn, +20 flags
const suite_table: usize = memory.data(MAX_SUITES * SUITE_SIZE, 8);
// case: +0 name, +4 fn
const case_table: usize = memory.data(MAX_CASES * CASE_SIZE, 8);
let nr_suites: i32 = 0;
let nr_cases: i32 = 0;

/** Suite flag: run whenever a self-test run happens (the deliberate failure). */
export const KUNIT_SUITE_ALWAYS: u32 = 1;

/**
 * Start a suite; the kunit_case calls that follow add its cases. Returns
 * the suite index, or -1 when the table is full. Context: boot, one CPU.
 */
export function kunit_suite(name: string, flags: u32 = 0): i32 {
  if (nr_suites >= MAX_SUITES) return -1;
  const s = suite_table + <usize>(nr_suites * SUITE_SIZE);
  store<usize>(s, changetype<usize>(name));
  store<i32>(s, nr_cases, 4);
  store<i32>(s, 0, 8);
  store<usize>(s, 0, 12);
  store<usize>(s, 0, 16);
  store<u32>(s, flags, 20);
  return nr_suites++;
}

/** Give the current suite an init (run before each case; non-zero = the case fails) and exit function. */
export function kunit_suite_hooks(init: (test: kunit) => i32, exit: (test: kunit) => void): void {
  if (nr_suites == 0) return;
  const s = suite_table + <usize>((nr_suites - 1) * SUITE_SIZE);
  store<usize>(s, changetype<usize>(init), 12);
  store<usize>(s, changetype<usize>(exit), 16);
}

/** Add a case to the current suite. Returns false when the table is full. */
export function kunit_case(name: string, fn: (test: kunit) => void): bool {
  if (nr_suites == 0 || nr_cases >= MAX_CASES) return false;
  const c = case_table + <usize>(nr_cases * CASE_SIZE);
  store<usize>(c, changetype<usize>(name));
  store<usize>(c, changetype<usize>(fn), 4);
  nr_cases++;
  const s = suite_table + <usize>((nr_suites - 1) * SUITE_SIZE);
  store<i32>(s, load<i32>(s, 8) + 1, 8);
  return true;
}

export function kunit_nr_suites(): i32 { return nr_suites; }
export function kunit_suite_name(i: i32): string { return changetype<string>(load<usize>(suite_table + <usize>(i * SUITE_SIZE))); }
export function kunit_suite_flags(i: i32): u32 { return load<u32>(suite_table + <usize>(i * SUITE_SIZE), 20); }

/** Forget every registration (for the framework's own tests). */
export function kunit_reset_registry(): void { nr_suites = 0; nr_cases = 0; }

// --- results ----------------------------------------------------------------------

const test_state = changetype<kunit>(memory.data(offsetof<kunit>(), 8));

function set_failure(test: kunit): void {
  test.status = KUNIT_FAILURE;
  test.failures++;
}

/** Mark the case skipped (Linux kunit_skip / kunit_mark_skipped): the case should return. */
export function kunit_skip(test: kunit, reason: string): void {
  if (test.status != KUNIT_FAILURE) test.status = KUNIT_SKIPPED;
  test.skip_reason = changetype<usize>(reason);
}

/** Fail the case with a message (Linux KUNIT_FAIL). */
export function KUNIT_FAIL(test: kunit, msg: string, file: string = "?", line: i32 = 0): void {
  set_failure(test);
  pr_err("    # %s: EXPECTATION FAILED at %s:%d\n    %s\n", test.name, changetype<usize>(file), line, changetype<usize>(msg));
}

/** Is `text` the decimal spelling of `v` (then KUnit does not repeat it)? */
const lit_buf: usize = memory.data(32, 8);
function is_literal(text: string, v: i64): bool {
  const n = scnprintf(lit_buf, 32, "%lld", v);
  if (n != text.length) return false;
  for (let i = 0; i < n; i++) if (<i32>load<u8>(lit_buf + <usize>i) != text.charCodeAt(i)) return false;
  return true;
}

function binary_failed(test: kunit, assert: bool, op: string, left: i64, right: i64,
    left_text: string, right_text: string, file: string, line: i32): void {
  set_failure(test);
  pr_err("    # %s: %s FAILED at %s:%d\n    Expected %s %s %s, but\n", test.name, changetype<usize>(assert ? "ASSERTION" : "EXPECTATION"),
    changetype<usize>(file), line, changetype<usize>(left_text), changetype<usize>(op), changetype<usize>(right_text));
  if (!is_literal(left_text, left)) pr_err("        %s == %lld (0x%llx)\n", changetype<usize>(left_text), left, left);
  if (!is_literal(right_text, right)) pr_err("        %s == %lld (0x%llx)\n", changetype<usize>(right_text), right, right);
}

function check(test: kunit, ok: bool, assert: bool, op: string, left: i64, right: i64,
    left_text: string, right_text: string, file: string, line: i32): bool {
  if (!ok) binary_failed(test, assert, op, left, right, left_text, right_text, file, line);
  return ok;
}

// The expectation helpers. Each returns whether it held. The last four
// arguments are filled by the transform; callers write only the values.

export function KUNIT_EXPECT_EQ(test: kunit, left: i64, right: i64, lt: string = "left", rt: string = "right", file: string = "?", line: i32 = 0): bool {
  return check(test, left == right, false, "==", left, right, lt, rt, file, line);
}
export function KUNIT_EXPECT_NE(test: kunit, left: i64, right: i64, lt: string = "left", rt: string = "right", file: string = "?", line: i32 = 0): bool {
  return check(test, left != right, false, "!=", left, right, lt, rt, file, line);
}
export function KUNIT_EXPECT_LT(test: kunit, left: i64, right: i64, lt: string = "left", rt: string = "right", file: string = "?", line: i32 = 0): bool {
  return check(test, left < right, false, "<", left, right, lt, rt, file, line);
}
export function KUNIT_EXPECT_LE(test: kunit, left: i64, right: i64, lt: string = "left", rt: string = "right", file: string = "?", line: i32 = 0): bool {
  return check(test, left <= right, false, "<=", left, right, lt, rt, file, line);
}
export function KUNIT_EXPECT_GT(test: kunit, left: i64, right: i64, lt: string = "left", rt: string = "right", file: string = "?", line: i32 = 0): bool {
  return check(test, left > right, false, ">", left, right, lt, rt, file, line);
}
export function KUNIT_EXPECT_GE(test: kunit, left: i64, right: i64, lt: string = "left", rt: string = "right", file: string = "?", line: i32 = 0): bool {
  return check(test, left >= right, false, ">=", left, right, lt, rt, file, line);
}
export function KUNIT_ASSERT_EQ(test: kunit, left: i64, right: i64, lt: string = "left", rt: string = "right", file: string = "?", line: i32 = 0): bool {
  return check(test, left == right, true, "==", left, right, lt, rt, file, line);
}
export function KUNIT_ASSERT_GE(test: kunit, left: i64, right: i64, lt: string = "left", rt: string = "right", file: string = "?", line: i32 = 0): bool {
  return check(test, left >= right, true, ">=", left, right, lt, rt, file, line);
}

function bool_failed(test: kunit, assert: bool, want: bool, text: string, file: string, line: i32): void {
  set_failure(test);
  pr_err("    # %s: %s FAILED at %s:%d\n    Expected %s to be %s, but is %s\n", test.name,
    changetype<usize>(assert ? "ASSERTION" : "EXPECTATION"), changetype<usize>(file), line, changetype<usize>(text),
    changetype<usize>(want ? "true" : "false"), changetype<usize>(want ? "false" : "true"));
}

export function KUNIT_EXPECT_TRUE(test: kunit, cond: bool, text: string = "condition", file: string = "?", line: i32 = 0): bool {
  if (!cond) bool_failed(test, false, true, text, file, line);
  return cond;
}
export function KUNIT_EXPECT_FALSE(test: kunit, cond: bool, text: string = "condition", file: string = "?", line: i32 = 0): bool {
  if (cond) bool_failed(test, false, false, text, file, line);
  return !cond;
}
export function KUNIT_ASSERT_TRUE(test: kunit, cond: bool, text: string = "condition", file: string = "?", line: i32 = 0): bool {
  if (!cond) bool_failed(test, true, true, text, file, line);
  return cond;
}

/** Two AS strings equal (KUNIT_EXPECT_STREQ). */
export function KUNIT_EXPECT_STREQ(test: kunit, left: string, right: string, lt: string = "left", rt: string = "right", file: string = "?", line: i32 = 0): bool {
  const ok = left == right;
  if (!ok) {
    set_failure(test);
    pr_err("    # %s: EXPECTATION FAILED at %s:%d\n    Expected %s == %s, but\n", test.name,
      changetype<usize>(file), line, changetype<usize>(lt), changetype<usize>(rt));
    pr_err("        %s == \"%s\"\n", changetype<usize>(lt), changetype<usize>(left));
    pr_err("        %s == \"%s\"\n", changetype<usize>(rt), changetype<usize>(right));
  }
  return ok;
}

/** A byte string of `len` bytes at `p` equals AS string `want` (for text the kernel produced). */
export function KUNIT_EXPECT_BYTES_STREQ(test: kunit, p: usize, len: i32, want: string, lt: string = "left", rt: string = "right", file: string = "?", line: i32 = 0): bool {
  let ok = len == want.length;
  for (let i = 0; ok && i < len; i++) if (<i32>load<u8>(p + <usize>i) != want.charCodeAt(i)) ok = false;
  if (!ok) {
    set_failure(test);
    pr_err("    # %s: EXPECTATION FAILED at %s:%d\n    Expected %s == %s, but\n", test.name,
      changetype<usize>(file), line, changetype<usize>(lt), changetype<usize>(rt));
    pr_err("        %s == \"%.*pz\"\n", changetype<usize>(lt), len, p);
    pr_err("        %s == \"%s\"\n", changetype<usize>(rt), changetype<usize>(want));
  }
  return ok;
}

// --- running --------------------------------------------------------------------

/** Totals of one run. */
@unmanaged
export class kunit_result {
  passed: i32;
  failed: i32;
  skipped: i32;
  total: i32;
  suites_failed: i32;
  suites_run: i32;
}
const run_result = changetype<kunit_result>(memory.data(offsetof<kunit_result>(), 8));

function print_stats(name: usize, p: i32, f: i32, s: i32, t: i32): void {
  // KUnit prints stats only for more than one case (kunit_should_print_stats).
  if (t <= 1) return;
  if (name != 0) pr_info("# %s: pass:%d fail:%d skip:%d total:%d\n", name, p, f, s, t);
  else pr_info("# Totals: pass:%d fail:%d skip:%d total:%d\n", p, f, s, t);
}

function run_suite(idx: i32, number: i32): void {
  const s = suite_table + <usize>(idx * SUITE_SIZE);
  const name = load<usize>(s);
  const first = load<i32>(s, 4);
  const n = load<i32>(s, 8);
  const init = load<usize>(s, 12);
  const exit = load<usize>(s, 16);
  pr_info("    KTAP version 1\n");
  pr_info("    # Subtest: %s\n", name);
  pr_info("    1..%d\n", n);
  let p = 0, f = 0, sk = 0;
  for (let i = 0; i < n; i++) {
    const c = case_table + <usize>((first + i) * CASE_SIZE);
    const test = test_state;
    test.name = load<usize>(c);
    test.status = KUNIT_SUCCESS;
    test.failures = 0;
    test.skip_reason = 0;
    test.priv = 0;
    let ran = true;
    if (init != 0) {
      const r = changetype<(t: kunit) => i32>(init)(test);
      if (r != 0) {
        pr_err("    # %s: failed to initialize: %d\n", test.name, r);
        test.status = KUNIT_FAILURE;
        ran = false;
      }
    }
    if (ran) {
      changetype<(t: kunit) => void>(load<usize>(c, 4))(test);
      kunit_loud(); // a case that returned early while quiet
      if (exit != 0) changetype<(t: kunit) => void>(exit)(test);
    }
    if (test.status == KUNIT_SKIPPED) {
      sk++;
      if (test.skip_reason != 0) pr_info("    ok %d %s # SKIP %s\n", i + 1, test.name, test.skip_reason);
      else pr_info("    ok %d %s # SKIP\n", i + 1, test.name);
    } else if (test.status == KUNIT_FAILURE) {
      f++;
      pr_info("    not ok %d %s\n", i + 1, test.name);
    } else {
      p++;
      pr_info("    ok %d %s\n", i + 1, test.name);
    }
  }
  print_stats(name, p, f, sk, n);
  print_stats(0, p, f, sk, n);
  // The suite: failed if any case failed, skipped if every case was skipped (KUnit).
  if (f > 0) pr_info("not ok %d %s\n", number, name);
  else if (n > 0 && sk == n) pr_info("ok %d %s # SKIP\n", number, name);
  else pr_info("ok %d %s\n", number, name);
  run_result.passed += p;
  run_result.failed += f;
  run_result.skipped += sk;
  run_result.total += n;
  run_result.suites_run++;
  if (f > 0) run_result.suites_failed++;
}

/**
 * Run the suites `want(name)` selects (plus KUNIT_SUITE_ALWAYS ones), in
 * table order, printing KTAP. Returns the totals (a static block, valid until
 * the next run). Context: process context on one CPU, interrupts on.
 */
export function kunit_run_selected(want: (name: string) => bool): kunit_result {
  run_result.passed = 0;
  run_result.failed = 0;
  run_result.skipped = 0;
  run_result.total = 0;
  run_result.suites_failed = 0;
  run_result.suites_run = 0;
  let n = 0;
  for (let i = 0; i < nr_suites; i++) if (kunit_suite_flags(i) & KUNIT_SUITE_ALWAYS || want(kunit_suite_name(i))) n++;
  pr_info("KTAP version 1\n");
  pr_info("1..%d\n", n);
  let number = 1;
  for (let i = 0; i < nr_suites; i++) {
    if (!(kunit_suite_flags(i) & KUNIT_SUITE_ALWAYS || want(kunit_suite_name(i)))) continue;
    run_suite(i, number++);
    mm_reports_after_suite(); // report_each=suite: the /proc reports after each suite (mm/vmstat.ts)
  }
  return run_result;
}

// --- reports a case provokes on purpose -----------------------------------------------

let quiet_saved_level: i32 = -1;
const quiet_rec: usize = memory.data(192, 8);

/**
 * Send what the kernel prints from now on to the log ring only, not the
 * console: a report a case provokes on purpose (a bad free, an allocation
 * failure) would otherwise break the KTAP nesting. Returns the sequence
 * number of the next record, for kunit_logged. Pair with kunit_loud.
 */
export function kunit_quiet(): u64 {
  if (quiet_saved_level < 0) quiet_saved_level = console_loglevel;
  set_console_loglevel(1);
  return log_next_seq();
}

/** Undo kunit_quiet: the console level the case started with. */
export function kunit_loud(): void {
  if (quiet_saved_level < 0) return;
  set_console_loglevel(quiet_saved_level);
  quiet_saved_level = -1;
}

/** Log records since sequence `first` whose text starts with `prefix`. */
export function kunit_logged(first: u64, prefix: string): i32 {
  let n = 0;
  for (let s = first; s < log_next_seq(); s++) {
    const r = log_read_record(s, quiet_rec, 192);
    if (r >= 0 && bytes_starts_with(quiet_rec, r >> 16, prefix)) n++;
  }
  return n;
}
