/**
 * `kmemlab start` (npm start) and `kmemlab test`: build the kernel and the
 * firmware (cached by content hash), boot the machine with the self-tests
 * (`selftest=all` or the chosen suites), pass the KTAP through, and end with
 * a summary line and the guest's exit code.
 *
 * `kmemlab machine-test` boots the bare-metal machine self-test image instead
 * (selftest_image.ts): the board checked from the inside, no kernel needed.
 */
import { join } from 'node:path';
import { assemble } from '../toolchain/asm.js';
import { BuildError, buildImages, findRoot } from '../toolchain/build.js';
import { parseRunOptions, UsageError } from './options.js';
import { runMachine, type HostIo } from './run.js';
import { machineSelftestSource } from './selftest_image.js';

/** Guest instructions a self-test run may take before it counts as hung. */
export const SELFTEST_MAX_INSNS = 4_000_000_000;

/** Count the KTAP test cases (indented "ok"/"not ok" lines) of a run's console output. */
export function summariseKtap(out: string): { passed: number; failed: number; skipped: number } {
  const s = { passed: 0, failed: 0, skipped: 0 };
  for (const line of out.split(/\r?\n/)) {
    const m = /^ {4}(not )?ok \d+ [^#]*(#\s*SKIP\b)?/.exec(line);
    if (!m) continue;
    if (m[2]) s.skipped++;
    else if (m[1]) s.failed++;
    else s.passed++;
  }
  return s;
}

export async function testCommand(args: string[], io: HostIo): Promise<number> {
  const suites: string[] = [];
  const rest: string[] = [];
  let fail = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--suite') {
      const v = args[++i];
      if (v === undefined) throw new UsageError('--suite needs a suite name');
      suites.push(...v.split(','));
    } else if (a.startsWith('--suite=')) suites.push(...a.slice(8).split(','));
    else if (a === '--fail') fail = true;
    else rest.push(a);
  }
  const o = parseRunOptions(rest);
  if (o.maxInsns === Infinity) o.maxInsns = SELFTEST_MAX_INSNS;
  const root = findRoot(process.cwd());
  if (root === undefined) throw new UsageError('no asconfig.json here or above: run kmemlab start/test in the kmemlab repository');
  if (o.kernel === undefined || o.bios === undefined) {
    let built;
    try {
      built = await buildImages({ root, log: (l) => { if (!l.endsWith('up to date')) io.writeErr(`${l}\n`); } });
    } catch (e) {
      if (e instanceof BuildError) throw new UsageError(e.message);
      throw e;
    }
    if (!built.ok) return 2;
  }
  o.kernel ??= join(root, 'build', 'kernel.elf');
  o.bios ??= join(root, 'build', 'firmware.elf');
  const params = [`selftest=${suites.length ? suites.join(',') : 'all'}`];
  if (fail) params.push('selftest_fail=1');
  o.append = [o.append, ...params].filter(Boolean).join(' ');
  let out = '';
  const tee: HostIo = { ...io, writeOut: (b) => { out += Buffer.from(b).toString('latin1'); io.writeOut(b); } };
  const code = await runMachine(o, tee);
  const s = summariseKtap(out);
  io.writeOut(new TextEncoder().encode(`selftests: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped (exit code ${code})\n`));
  return code;
}

export async function startCommand(args: string[], io: HostIo): Promise<number> {
  return testCommand(args, io);
}

export async function machineTestCommand(args: string[], io: HostIo): Promise<number> {
  const o = parseRunOptions(args);
  if (o.maxInsns === Infinity) o.maxInsns = 500_000_000;
  const { bytes } = assemble(machineSelftestSource(o.harts), { base: 0x8000_0000 });
  return runMachine(o, io, { kernel: { name: 'machine-selftest', bytes } });
}
