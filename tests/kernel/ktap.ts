/**
 * A KTAP version 1 parser for the guest's console (kernel/test/ktap.ts
 * writes it; Documentation/dev-tools/ktap.rst describes it; Linux 6.1's
 * KUnit is the sample in ../shared/reference/linux-6.1-kunit-ktap.txt).
 *
 *   KTAP version 1            a document: version, plan "1..N", N results;
 *   1..N                      a result may be preceded by a nested
 *       KTAP version 1        document (its subtests), indented 4 more
 *       # Subtest: name       spaces; "# SKIP reason" / "# TODO" directives;
 *       1..M                  "# …" and any other line are diagnostics of
 *       ok 1 case             the result that follows them
 *   ok 1 suite
 *
 * Console text around the report (firmware banners, kernel messages,
 * "[   1.234] " printk timestamps) is tolerated: parsing starts at the first
 * top-level "KTAP version" line. Problems (a plan that does not match the
 * results, numbers out of order, a truncated report) go into `errors`
 * instead of throwing, so a test can show them all.
 */

export interface KtapTest {
  ok: boolean;
  number: number;
  name: string;
  directive?: 'SKIP' | 'TODO';
  /** Text after the directive ("needs at least 2 CPUs"). */
  reason?: string;
  /** Diagnostic lines that came before the result (failure reports), without indentation. */
  diagnostics: string[];
  /** The nested document's results (a suite's cases), empty for a leaf. */
  subtests: KtapTest[];
  /** The nested document's plan, when it had one. */
  plan?: number;
}

export interface KtapDocument {
  version: number;
  plan: number;
  tests: KtapTest[];
  /** Diagnostics after the last result (e.g. a final "# Totals"). */
  trailing: string[];
  /** Everything that does not follow KTAP; empty for a well-formed report. */
  errors: string[];
}

interface Frame {
  indent: number;
  version?: number;
  plan?: number;
  tests: KtapTest[];
  diagnostics: string[];
  subtestName?: string;
}

const TIMESTAMP = /^\[\s*\d+\.\d+\]\s?/;
const VERSION = /^KTAP version (\d+)$/;
const PLAN = /^1\.\.(\d+)(?:\s*#.*)?$/;
const RESULT = /^(ok|not ok) (\d+)(?: (?:- )?(.*?))?\s*$/;
const DIRECTIVE = /^(.*?)\s*#\s*(SKIP|TODO)\b\s*(.*)$/i;

/** Parse the KTAP report contained in console output `text`. */
export function parseKtap(text: string): KtapDocument {
  const lines = text.split(/\r?\n/).map((l) => l.replace(TIMESTAMP, '').replace(/\s+$/, ''));
  const start = lines.findIndex((l) => VERSION.test(l));
  const doc: KtapDocument = { version: 0, plan: 0, tests: [], trailing: [], errors: [] };
  if (start < 0) {
    doc.errors.push('no "KTAP version" line in the output');
    return doc;
  }
  const stack: Frame[] = [{ indent: 0, tests: [], diagnostics: [] }];
  let pendingChild: Frame | undefined;

  const closeTo = (indent: number): void => {
    while (stack.length > 1 && stack[stack.length - 1]!.indent > indent) {
      const f = stack.pop()!;
      check(f);
      pendingChild = f;
    }
  };
  const check = (f: Frame): void => {
    const where = f.subtestName ? `subtest "${f.subtestName}"` : 'top level';
    if (f.plan === undefined) doc.errors.push(`${where}: no plan line`);
    else if (f.plan !== f.tests.length) doc.errors.push(`${where}: plan 1..${f.plan} but ${f.tests.length} result(s)`);
    f.tests.forEach((t, i) => {
      if (t.number !== i + 1) doc.errors.push(`${where}: result "${t.name}" has number ${t.number}, expected ${i + 1}`);
    });
  };

  for (let i = start; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trim() === '') continue;
    const indent = raw.length - raw.trimStart().length;
    const line = raw.trimStart();
    const top = stack[stack.length - 1]!;
    if (VERSION.test(line)) {
      const version = Number(VERSION.exec(line)![1]);
      if (i === start) { stack[0]!.version = version; doc.version = version; continue; }
      if (stack.length > 1 && indent === top.indent && top.tests.length === 0 && top.version === undefined) {
        top.version = version; // "# Subtest:" came first
      } else if (indent > top.indent) {
        stack.push({ indent, version, tests: [], diagnostics: [] });
        pendingChild = undefined;
      } else {
        closeTo(indent);
        stack[stack.length - 1]!.diagnostics.push(line);
      }
      continue;
    }
    // Lines deeper than the innermost document are diagnostics of it (KUnit's "Expected …" lines).
    if (indent > top.indent && !line.startsWith('# Subtest:')) {
      top.diagnostics.push(line);
      continue;
    }
    if (indent < top.indent) closeTo(indent);
    const cur = stack[stack.length - 1]!;
    const sub = /^# Subtest: (.*)$/.exec(line);
    if (sub) {
      if (indent > cur.indent) { stack.push({ indent, tests: [], diagnostics: [], subtestName: sub[1] }); pendingChild = undefined; }
      else cur.subtestName = sub[1];
      continue;
    }
    const plan = PLAN.exec(line);
    if (plan && cur.plan === undefined && cur.tests.length === 0) {
      cur.plan = Number(plan[1]);
      continue;
    }
    const res = RESULT.exec(line);
    if (res) {
      let name = res[3] ?? '';
      let directive: KtapTest['directive'];
      let reason: string | undefined;
      const d = DIRECTIVE.exec(name);
      if (d) {
        name = d[1]!;
        directive = d[2]!.toUpperCase() as 'SKIP' | 'TODO';
        reason = d[3] || undefined;
      }
      const t: KtapTest = { ok: res[1] === 'ok', number: Number(res[2]), name, directive, reason, diagnostics: cur.diagnostics, subtests: [] };
      if (pendingChild) {
        t.subtests = pendingChild.tests;
        t.plan = pendingChild.plan;
        if (pendingChild.subtestName !== undefined && pendingChild.subtestName !== name) {
          doc.errors.push(`subtest "${pendingChild.subtestName}" ends with a result named "${name}"`);
        }
        t.diagnostics = [...pendingChild.diagnostics, ...cur.diagnostics];
        pendingChild = undefined;
      }
      cur.diagnostics = [];
      cur.tests.push(t);
      if (stack.length === 1 && cur.plan !== undefined && cur.tests.length === cur.plan) {
        // The report is complete; what follows is diagnostics at most.
        for (let k = i + 1; k < lines.length; k++) {
          const l = lines[k]!.trim();
          if (l.startsWith('#')) doc.trailing.push(l);
          else if (l !== '') break;
        }
        break;
      }
      continue;
    }
    cur.diagnostics.push(line);
  }
  closeTo(0);
  const root = stack[0]!;
  doc.plan = root.plan ?? doc.plan;
  doc.tests = root.tests;
  check(root);
  return doc;
}

/** Every leaf result with its suite's name, for one test case per guest case. */
export function ktapCases(doc: KtapDocument): { suite: string; test: KtapTest }[] {
  return doc.tests.flatMap((s) => (s.subtests.length ? s.subtests.map((test) => ({ suite: s.name, test })) : [{ suite: '', test: s }]));
}
