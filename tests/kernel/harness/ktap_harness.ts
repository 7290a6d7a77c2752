/**
 * V8 harness for the self-test framework (kernel/test/ktap.ts): made-up
 * suites that pass, fail, skip, so that the exact KTAP text can be checked
 * on the host. Compiled with the KUnit transform.
 */
import {
  kunit, kunit_suite, kunit_case, kunit_skip, kunit_run_selected, kunit_reset_registry, KUNIT_EXPECT_EQ, KUNIT_EXPECT_TRUE,
  KUNIT_EXPECT_STREQ, KUNIT_EXPECT_LT, KUNIT_ASSERT_EQ,
} from "../../../kernel/test/ktap";

function passes(test: kunit): void {
  KUNIT_EXPECT_EQ(test, 2 + 2, 4);
  KUNIT_EXPECT_TRUE(test, true);
}
function fails(test: kunit): void {
  const banks = 1;
  KUNIT_EXPECT_EQ(test, banks, 2);
  KUNIT_EXPECT_LT(test, 5, banks);
  KUNIT_EXPECT_TRUE(test, banks > 3);
  KUNIT_EXPECT_STREQ(test, "abc", "abd");
}
function asserts(test: kunit): void {
  if (!KUNIT_ASSERT_EQ(test, -1, 0)) return;
  KUNIT_EXPECT_EQ(test, 1, 2); // not reached
}
function skips(test: kunit): void { kunit_skip(test, "no hardware"); }
function skips_quietly(test: kunit): void { kunit_skip(test, ""); }

function all(name: string): bool { return true; }
function only_beta(name: string): bool { return name == "beta"; }

export function t_run(which: i32): i32 {
  kunit_reset_registry();
  kunit_suite("alpha");
  kunit_case("passes", passes);
  kunit_case("fails", fails);
  kunit_case("skips", skips);
  kunit_case("asserts", asserts);
  kunit_suite("beta");
  kunit_case("only_case", passes);
  kunit_suite("gamma");
  kunit_case("skipped_a", skips);
  kunit_case("skipped_b", skips_quietly);
  const r = kunit_run_selected(which == 0 ? all : only_beta);
  return (r.passed << 24) | (r.failed << 16) | (r.skipped << 8) | r.total;
}
