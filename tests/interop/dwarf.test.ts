/**
 * The DWARF line information our linker writes (toolchain/dwarf.ts) read by
 * the tools nobody here wrote: binutils' readelf decodes .debug_line into
 * the very rows of our own .kmemlab.lines table (every address that has a
 * source line, the same file and line), and gdb-multiarch places
 * `break FILE:LINE` where our console's line lookup does and answers
 * `info line *ADDR` with our table's line. Kernel and firmware images, as
 * `kmemlab build` makes them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, buildTarget } from '../kernel/images.js';
import { readLineTable, type LineEntry } from '../../toolchain/elf_writer.js';

const READELF = 'riscv64-unknown-elf-readelf';
const GDB = 'gdb-multiarch';
const have = (tool: string): boolean => spawnSync(tool, ['--version']).status === 0;

const dir = mkdtempSync(join(tmpdir(), 'kmemlab-dwarf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Our table as rows: the last entry at each address, only those with a source line. */
function ourRows(lines: readonly LineEntry[]): Map<bigint, { file: string; line: number }> {
  const last = new Map<bigint, LineEntry>();
  for (const e of lines) last.set(e.addr, e);
  const rows = new Map<bigint, { file: string; line: number }>();
  for (const [addr, e] of last) if (e.source !== undefined && e.line !== undefined) rows.set(addr, { file: e.source, line: e.line });
  return rows;
}

for (const target of ['kernel', 'firmware'] as const) {
  describe(`${target}.elf`, async () => {
    const built = await buildTarget(target);
    const file = join(dir, `${target}.elf`);
    if (built.image) writeFileSync(file, built.image.elf);
    const ours = built.image ? ourRows(readLineTable(built.image.elf) ?? []) : new Map();

    it('builds', () => expect(built.error).toBeUndefined());

    it.skipIf(!have(READELF))(`${READELF} decodes .debug_line into our line table's rows`, () => {
      const r = spawnSync(READELF, ['--debug-dump=decodedline', '-W', file], { encoding: 'utf8', maxBuffer: 256 << 20 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      const theirs = new Map<bigint, { file: string; line: number }>();
      for (const l of r.stdout.split('\n')) {
        const m = /^(\S+)\s+(\d+)\s+(0x[0-9a-f]+)(?:\s+\d+)?\s+x?\s*$/.exec(l);
        if (m) theirs.set(BigInt(m[3]!), { file: m[1]!, line: Number(m[2]) });
      }
      expect(ours.size).toBeGreaterThan(target === 'kernel' ? 10_000 : 500);
      let differ = 0;
      for (const [addr, row] of ours) {
        const t = theirs.get(addr);
        if (!t || t.file !== row.file || t.line !== row.line) {
          if (differ++ < 5) expect.soft(t, `0x${addr.toString(16)}`).toEqual(row);
        }
      }
      expect(differ).toBe(0);
      // And nothing more: every row readelf shows with a line is one of ours.
      for (const [addr, t] of theirs) if (t.line !== 0) expect(ours.has(addr), `0x${addr.toString(16)}`).toBe(true);
    });

    it.skipIf(!have(GDB))(`${GDB}: info line *ADDR and break FILE:LINE agree with our table`, () => {
      // A spread of rows: every 997th address that has a source line.
      const sample = [...ours].filter((_, i) => i % 997 === 0).slice(0, 12);
      const args = ['-batch', '-nx', '-ex', 'set demangle-style none', '-ex', `file ${file}`];
      for (const [addr] of sample) args.push('-ex', `info line *0x${addr.toString(16)}`);
      // break FILE:LINE on a line of our own sources (not ~lib): gdb's address is one of that line's rows.
      const [, target] = sample.find(([, row]) => !row.file.startsWith('~'))!;
      args.push('-ex', `break ${target.file}:${target.line}`);
      const r = spawnSync(GDB, args, { encoding: 'utf8', cwd: ROOT });
      expect(r.status, r.stderr).toBe(0);
      const answers = r.stdout.split('\n').filter((l) => /^(Line \d+ of|No line number)/.test(l));
      expect(answers).toHaveLength(sample.length);
      sample.forEach(([, row], i) => expect(answers[i], `row ${i}`).toMatch(new RegExp(`^Line ${row.line} of "${row.file.replace(/[.~]/g, '\\$&')}"`)));
      const bp = /Breakpoint 1 at (0x[0-9a-f]+): (?:file )?(\S+?),? line (\d+)\./.exec(r.stdout) ?? /Breakpoint 1 at (0x[0-9a-f]+): (\S+):(\d+)\./.exec(r.stdout);
      expect(bp, r.stdout).not.toBeNull();
      expect([bp![2], Number(bp![3])]).toEqual([target.file, target.line]);
      expect(ours.get(BigInt(bp![1]!)), `gdb's address ${bp![1]}`).toEqual(target);
    });
  });
}
