/**
 * The host's KTAP parser (tests/kernel/ktap.ts) on Linux 6.1's own KUnit
 * output, on the guest's failure report, and on broken reports.
 */
import { describe, expect, it } from 'vitest';
import { ktapCases, parseKtap } from './ktap.js';

/** Linux 6.1.192 KUnit output (riscv64, QEMU virt, 4 harts), from ../shared/reference/linux-6.1-kunit-ktap.txt. */
const REFERENCE = `KTAP version 1
1..1
    KTAP version 1
    # Subtest: slub_test
    1..5
    ok 1 test_clobber_zone
    ok 2 test_next_pointer
    ok 3 test_first_word
    ok 4 test_clobber_50th_byte
    ok 5 test_clobber_redzone_free
# slub_test: pass:5 fail:0 skip:0 total:5
# Totals: pass:5 fail:0 skip:0 total:5
ok 1 slub_test`;

describe('parseKtap', () => {
  it('reads Linux 6.1 KUnit output (the reference sample)', () => {
    const doc = parseKtap(REFERENCE);
    expect(doc.errors).toEqual([]);
    expect(doc.version).toBe(1);
    expect(doc.plan).toBe(1);
    expect(doc.tests).toHaveLength(1);
    const suite = doc.tests[0]!;
    expect(suite).toMatchObject({ ok: true, number: 1, name: 'slub_test', plan: 5 });
    expect(suite.subtests.map((t) => t.name)).toEqual([
      'test_clobber_zone', 'test_next_pointer', 'test_first_word', 'test_clobber_50th_byte', 'test_clobber_redzone_free',
    ]);
    expect(suite.diagnostics).toEqual(['# slub_test: pass:5 fail:0 skip:0 total:5', '# Totals: pass:5 fail:0 skip:0 total:5']);
    expect(ktapCases(doc)).toHaveLength(5);
  });

  const guest = [
    'OpenSBI v1.1',
    '[    0.000000] kmemlab version 0.1.0',
    'KTAP version 1',
    '1..2',
    '    KTAP version 1',
    '    # Subtest: ipi',
    '    1..2',
    '    ok 1 ipi_call_function_all # SKIP needs at least 2 CPUs',
    '    ok 2 ipi_offline_cpu',
    '# ipi: pass:1 fail:0 skip:1 total:2',
    '# Totals: pass:1 fail:0 skip:1 total:2',
    'ok 2 ipi',
  ];

  it('reads the guest report with failures, diagnostics, skips and timestamps', () => {
    const text = [
      ...guest.slice(0, 4),
      '    KTAP version 1',
      '    # Subtest: selftest_fail',
      '    1..1',
      '    # deliberate_failure: EXPECTATION FAILED at kernel/test/suites.ts:23',
      '    Expected 1 + 1 == 3, but',
      '        1 + 1 == 2 (0x2)',
      '    not ok 1 deliberate_failure',
      'not ok 1 selftest_fail',
      ...guest.slice(4).map((l) => l.replace('ok 2 ipi', 'ok 2 ipi')),
      'selftest: 2 suites, 3 cases: 1 passed, 1 failed, 1 skipped',
    ].join('\n');
    const doc = parseKtap(text);
    expect(doc.errors).toEqual([]);
    expect(doc.tests.map((t) => [t.name, t.ok])).toEqual([['selftest_fail', false], ['ipi', true]]);
    const [fail] = doc.tests[0]!.subtests;
    expect(fail).toMatchObject({ ok: false, name: 'deliberate_failure' });
    expect(fail!.diagnostics).toEqual([
      '# deliberate_failure: EXPECTATION FAILED at kernel/test/suites.ts:23',
      'Expected 1 + 1 == 3, but',
      '1 + 1 == 2 (0x2)',
    ]);
    const skip = doc.tests[1]!.subtests[0]!;
    expect(skip).toMatchObject({ ok: true, directive: 'SKIP', reason: 'needs at least 2 CPUs', name: 'ipi_call_function_all' });
    expect(ktapCases(doc).map((c) => `${c.suite}.${c.test.name}`)).toEqual([
      'selftest_fail.deliberate_failure', 'ipi.ipi_call_function_all', 'ipi.ipi_offline_cpu',
    ]);
  });

  it('reports a truncated run (a panic in the middle of a suite)', () => {
    const text = [...guest.slice(0, 8), 'Kernel panic - not syncing: Fatal exception'].join('\n');
    const doc = parseKtap(text);
    expect(doc.errors).toContain('subtest "ipi": plan 1..2 but 1 result(s)');
    expect(doc.errors).toContain('top level: plan 1..2 but 0 result(s)');
  });

  it('reports numbers out of order and a missing report', () => {
    const doc = parseKtap('KTAP version 1\n1..2\nok 2 a\nok 1 b\n');
    expect(doc.errors).toEqual(['top level: result "a" has number 2, expected 1', 'top level: result "b" has number 1, expected 2']);
    expect(parseKtap('no report here').errors).toEqual(['no "KTAP version" line in the output']);
  });

  it('accepts the older "ok 1 - name" form', () => {
    const doc = parseKtap('KTAP version 1\n1..1\nok 1 - old_style # SKIP reason here\n');
    expect(doc.errors).toEqual([]);
    expect(doc.tests[0]).toMatchObject({ name: 'old_style', directive: 'SKIP', reason: 'reason here' });
  });
});
