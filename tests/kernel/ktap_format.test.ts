/**
 * The self-test framework's output (kernel/test/ktap.ts) in V8: the exact
 * KTAP text for suites that pass, fail, skip, and the KUnit failure reports
 * with the expression texts and file:line the asc transform supplies.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Harness } from './v8.js';
import { parseKtap } from './ktap.js';
import { KUNIT_TRANSFORM, ROOT } from './images.js';

const HARNESS = 'tests/kernel/harness/ktap_harness.ts';
const SOURCE = readFileSync(path.join(ROOT, HARNESS), 'utf8').split('\n');
/** 1-based line of the harness that contains `text`. */
const lineOf = (text: string): number => SOURCE.findIndex((l) => l.includes(text)) + 1;

async function run(which: number): Promise<{ text: string; totals: number }> {
  const h = await Harness.create(HARNESS, {}, ['--transform', KUNIT_TRANSFORM]);
  const totals = Number(h.fn<(w: number) => number>('t_run')(which));
  return { text: h.consoleText(), totals };
}

describe('KTAP output of the self-test framework', () => {
  it('prints KUnit 6.1\'s shape: nested suites, stats for multi-case suites, SKIP directives, failure reports', async () => {
    const { text, totals } = await run(0);
    const F = 'tests/kernel/harness/ktap_harness.ts';
    expect(text).toBe([
      'KTAP version 1',
      '1..3',
      '    KTAP version 1',
      '    # Subtest: alpha',
      '    1..4',
      '    ok 1 passes',
      `    # fails: EXPECTATION FAILED at ${F}:${lineOf('KUNIT_EXPECT_EQ(test, banks, 2)')}`,
      '    Expected banks == 2, but',
      '        banks == 1 (0x1)',
      `    # fails: EXPECTATION FAILED at ${F}:${lineOf('KUNIT_EXPECT_LT(test, 5, banks)')}`,
      '    Expected 5 < banks, but',
      '        banks == 1 (0x1)',
      `    # fails: EXPECTATION FAILED at ${F}:${lineOf('KUNIT_EXPECT_TRUE(test, banks > 3)')}`,
      '    Expected banks > 3 to be true, but is false',
      `    # fails: EXPECTATION FAILED at ${F}:${lineOf('KUNIT_EXPECT_STREQ(test, "abc", "abd")')}`,
      '    Expected "abc" == "abd", but',
      '        "abc" == "abc"',
      '        "abd" == "abd"',
      '    not ok 2 fails',
      '    ok 3 skips # SKIP no hardware',
      `    # asserts: ASSERTION FAILED at ${F}:${lineOf('KUNIT_ASSERT_EQ(test, -1, 0)')}`,
      '    Expected -1 == 0, but',
      '    not ok 4 asserts',
      '# alpha: pass:1 fail:2 skip:1 total:4',
      '# Totals: pass:1 fail:2 skip:1 total:4',
      'not ok 1 alpha',
      '    KTAP version 1',
      '    # Subtest: beta',
      '    1..1',
      '    ok 1 only_case',
      'ok 2 beta',
      '    KTAP version 1',
      '    # Subtest: gamma',
      '    1..2',
      '    ok 1 skipped_a # SKIP no hardware',
      '    ok 2 skipped_b # SKIP ',
      '# gamma: pass:0 fail:0 skip:2 total:2',
      '# Totals: pass:0 fail:0 skip:2 total:2',
      'ok 3 gamma # SKIP',
      '',
    ].join('\n'));
    expect(totals).toBe((2 << 24) | (2 << 16) | (3 << 8) | 7);
    const doc = parseKtap(text);
    expect(doc.errors).toEqual([]);
    expect(doc.tests.map((t) => [t.name, t.ok, t.directive])).toEqual([['alpha', false, undefined], ['beta', true, undefined], ['gamma', true, 'SKIP']]);
  });

  it('runs only the selected suites, numbered from 1', async () => {
    const { text, totals } = await run(1);
    expect(text).toBe('KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: beta\n    1..1\n    ok 1 only_case\nok 1 beta\n');
    expect(totals).toBe((1 << 24) | 1);
  });
});
