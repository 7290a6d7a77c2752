/**
 * The guest's own /proc reports on its console (kernel/mm/vmstat.ts
 * mm_reports_from_cmdline: each after a "# cat /proc/<name>" line), for the
 * tests that compare them with what the host reads out of guest memory.
 */

/** Where a report's text ends: an empty line, or the next line that is not part of any /proc report. */
const BLOCK_END = /^($|# cat \/proc\/|vmallocinfo: |selftest: |KTAP |\s*# Subtest|\s*KTAP version|ok |not ok |# Totals)/;

/** Every print of `report`, in order: the lines after each "# cat /proc/<report>", each with its "\n". */
export function guestBlocks(console: string, report: string): string[] {
  const lines = console.split(/\r?\n/);
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== `# cat /proc/${report}`) continue;
    let j = i + 1;
    while (j < lines.length && !BLOCK_END.test(lines[j]!)) j++;
    out.push(lines.slice(i + 1, j).map((l) => `${l}\n`).join(''));
  }
  return out;
}
