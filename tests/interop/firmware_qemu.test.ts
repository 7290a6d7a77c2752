/**
 * Interop: our SBI firmware (the same ELF kmemlab runs) on
 * `qemu-system-riscv64 -M virt -smp 4 -bios firmware.elf -kernel payload.bin`,
 * with the payloads of tests/firmware/payloads.ts. QEMU must print the same
 * banner and payload lines as `kmemlab run` and end with the same exit code.
 *
 * On QEMU the harts really run in parallel, so any of them can win the boot
 * lottery; the payloads pick secondaries relative to the boot hart, and hart
 * ids in the output are compared as "N" (their set is checked instead).
 * The BASE payload's machine ids (mvendorid, marchid, mimpid) are QEMU's own
 * and are left out of the comparison.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assemble } from '../../toolchain/asm.js';
import { sbiPayloadSource } from '../helpers/sbi_payload.js';
import { firmwareImage } from '../firmware/firmware_image.js';
import { PAYLOAD_BASE } from '../firmware/payload.js';
import * as P from '../firmware/payloads.js';

const haveQemu = spawnSync('sh', ['-c', 'command -v qemu-system-riscv64']).status === 0;
const ROOT = join(__dirname, '../..');
const CLI = join(ROOT, 'dist/kmemlab.js');

interface Case {
  name: string;
  source: () => string;
  /** Exit code of both runs. */
  exit: number;
  /** Console input, typed at the start. */
  input?: string;
}

const CASES: Case[] = [
  { name: 'banner and hand-over', source: sbiPayloadSource, exit: 0 },
  { name: 'BASE', source: P.basePayload, exit: 0 },
  { name: 'TIME', source: P.timerPayload, exit: 0 },
  { name: 'IPI', source: P.ipiPayload, exit: 0 },
  { name: 'HSM', source: P.hsmPayload, exit: 0 },
  { name: 'RFENCE', source: P.rfencePayload, exit: 0 },
  { name: 'DBCN', source: P.dbcnPayload, exit: 0, input: 'xyz' },
  { name: 'SRST system failure', source: P.srstFailurePayload, exit: 1 },
  { name: 'PMP faults redirected to S-mode', source: P.pmpPayload, exit: 0 },
  { name: 'PMP fault with no S-mode handler', source: P.pmpFatalPayload, exit: 3 },
];

let firmware = '';
let dir = '';

beforeAll(async () => {
  const build = spawnSync('node', ['scripts/build.mjs'], { cwd: ROOT, encoding: 'utf8' });
  expect(build.status, build.stderr).toBe(0);
  firmware = (await firmwareImage()).path;
  dir = mkdtempSync(join(tmpdir(), 'kmemlab-fwq-'));
});

/** The lines worth comparing: the banner, the payload's, the firmware's reports; hart ids as N. */
function comparable(out: string): string[] {
  return out.split(/\r?\n/)
    .filter((l) => /^(kmemlab |payload: )/.test(l) && !l.startsWith('payload: machine '))
    .map((l) => l.replace(/(hart id \(a0\)|on hart) \d+/, '$1 N'));
}

function payloadFile(c: Case): string {
  const path = join(dir, `${c.name.replace(/\W+/g, '_')}.bin`);
  writeFileSync(path, assemble(c.source(), { base: PAYLOAD_BASE }).bytes);
  return path;
}

describe.skipIf(!haveQemu)(`our firmware on qemu-system-riscv64 -M virt -smp 4${haveQemu ? '' : ' (skipped: apt-get install qemu-system-misc)'}`, () => {
  it.each(CASES)('$name: the same lines and exit code as kmemlab', (c) => {
    const payload = payloadFile(c);
    const ours = spawnSync('node', [CLI, 'run', '--bios', firmware, '--kernel', payload, '--harts', '4',
      '--max-insns', '100000000', ...(c.input ? ['--input', c.input] : [])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const q = spawnSync('qemu-system-riscv64', ['-M', 'virt', '-smp', '4', '-m', '256M', '-nographic', '-monitor', 'none',
      '-serial', 'stdio', '-bios', firmware, '-kernel', payload], {
      encoding: 'utf8',
      input: c.input ?? '',
      timeout: 60_000,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    expect(ours.status, ours.stdout + ours.stderr).toBe(c.exit);
    expect(q.status, q.stdout + q.stderr).toBe(c.exit);
    const theirs = comparable(q.stdout);
    expect(theirs[0]).toBe('kmemlab SBI 2.0 firmware: 4 harts, next 0x80200000 (S-mode)');
    expect(theirs.length).toBeGreaterThan(1);
    expect(theirs).toEqual(comparable(ours.stdout));
    if (c.source === P.hsmPayload) {
      // The three secondaries are three different harts of the four.
      const ids = [...q.stdout.matchAll(/hart id \(a0\) (\d+)/g)].map((m) => Number(m[1]));
      expect(ids.slice(0, 3).every((id) => id >= 0 && id < 4)).toBe(true);
      expect(new Set(ids.slice(0, 3)).size).toBe(3);
    }
  });
});
