/**
 * asc transform: what the KUNIT_* C macros get from the preprocessor.
 *
 * Every call of a KUNIT_EXPECT_* / KUNIT_ASSERT_* / KUNIT_FAIL helper
 * (kernel/test/ktap.ts) written with only its value arguments gets its
 * trailing arguments filled in at parse time: the source text of each value
 * (#x in C), the file and the line (__FILE__, __LINE__):
 *
 *   KUNIT_EXPECT_EQ(test, nr_mem_banks, 2)
 *   → KUNIT_EXPECT_EQ(test, nr_mem_banks, 2, "nr_mem_banks", "2", "kernel/test/fdt_test.ts", 42)
 *
 * Calls that already pass them are left alone. Use: asc --transform
 * ./kernel/test/kunit_transform.mjs (or "transform" in asconfig.json).
 */
import { Node, NodeKind } from 'assemblyscript';

/** Helper name → number of value arguments after `test`. */
const HELPERS = new Map([
  ['KUNIT_EXPECT_EQ', 2], ['KUNIT_EXPECT_NE', 2], ['KUNIT_EXPECT_LT', 2], ['KUNIT_EXPECT_LE', 2],
  ['KUNIT_EXPECT_GT', 2], ['KUNIT_EXPECT_GE', 2], ['KUNIT_ASSERT_EQ', 2], ['KUNIT_ASSERT_GE', 2],
  ['KUNIT_EXPECT_STREQ', 2], ['KUNIT_EXPECT_TRUE', 1], ['KUNIT_EXPECT_FALSE', 1], ['KUNIT_ASSERT_TRUE', 1],
  ['KUNIT_EXPECT_BYTES_STREQ', 3], ['KUNIT_FAIL', 1],
]);

/** Arguments the helper's values are described by: texts (one per value, or none for KUNIT_FAIL / BYTES). */
function textsFor(name, args, source) {
  if (name === 'KUNIT_FAIL') return [];
  if (name === 'KUNIT_EXPECT_BYTES_STREQ') {
    // (test, ptr, len, want): describe the bytes by "ptr" and the wanted string by its text.
    return [args[1], args[3]].map((a) => source.text.substring(a.range.start, a.range.end));
  }
  return args.slice(1).map((a) => source.text.substring(a.range.start, a.range.end));
}

function visit(node, source, seen) {
  if (node === null || typeof node !== 'object' || seen.has(node)) return;
  seen.add(node);
  if (Array.isArray(node)) {
    for (const n of node) visit(n, source, seen);
    return;
  }
  if (typeof node.kind !== 'number') return;
  if (node.kind === NodeKind.Call && node.expression && node.expression.kind === NodeKind.Identifier) {
    const want = HELPERS.get(node.expression.text);
    if (want !== undefined && node.args.length === 1 + want) {
      const range = node.range;
      const texts = textsFor(node.expression.text, node.args, source);
      for (const t of texts) node.args.push(Node.createStringLiteralExpression(t.replace(/\s+/g, ' '), range));
      const line = source.lineAt(range.start);
      node.args.push(Node.createStringLiteralExpression(source.normalizedPath, range));
      // asc represents i64 values as i64_new(lo, hi) objects (a Long in the JS build).
      node.args.push(Node.createIntegerLiteralExpression(globalThis.i64_new(line, 0), range));
    }
  }
  for (const key of Object.keys(node)) {
    if (key === 'range' || key === 'source' || key === 'parent') continue;
    visit(node[key], source, seen);
  }
}

export default class KunitTransform {
  afterParse(parser) {
    for (const source of parser.sources) {
      if (source.normalizedPath.startsWith('~lib/')) continue;
      visit(source.statements, source, new Set());
    }
  }
}
