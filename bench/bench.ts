/**
 * `npm run bench`: speed figures, reported as measured in one run — never
 * thresholds. 1) interpreter MIPS on a CPU-bound bare-metal guest and the
 * ratio against qemu-system-riscv64 (TCG) running the same ELF, when QEMU is
 * installed; 2) instructions and time for Debian's OpenSBI to boot to an
 * S-mode payload, when it is installed.
 */

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble } from '../toolchain/asm.js';
import { Machine } from '../emulator/machine/machine.js';
import { writeElf64 } from '../tests/helpers/elf_writer.js';
import { cpuLoopSource } from './guest.js';
import { sbiPayloadSource } from '../tests/helpers/sbi_payload.js';

const FW_JUMP = '/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf';
const ITERATIONS = Number(process.env.KMEMLAB_BENCH_ITERS ?? 4_000_000);

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function cpuBench(): void {
  const { bytes } = assemble(cpuLoopSource(ITERATIONS), { base: 0x8000_0000 });
  let best = Infinity;
  let insns = 0;
  for (let run = 0; run < 3; run++) {
    const m = new Machine({ harts: 1, highmemSize: 0, kernel: { name: 'cpuloop', bytes } });
    const t0 = process.hrtime.bigint();
    const r = m.run();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r !== 'exit' || m.exit?.kind !== 'pass') throw new Error(`benchmark guest did not finish: ${r}`);
    insns = m.insns;
    best = Math.min(best, ms);
  }
  const mips = insns / best / 1000;
  console.log(`cpu loop: ${insns} instructions, best of 3: ${best.toFixed(0)} ms, ${mips.toFixed(1)} MIPS (kmemlab interpreter)`);

  if (!has('qemu-system-riscv64')) {
    console.log('qemu: qemu-system-riscv64 not installed (apt-get install qemu-system-misc); no ratio');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'kmemlab-bench-'));
  const elf = join(dir, 'cpuloop.elf');
  writeFileSync(elf, writeElf64({ entry: 0x8000_0000, segments: [{ paddr: 0x8000_0000, data: bytes, flags: 7 }] }));
  const args = ['-M', 'virt', '-smp', '1', '-m', '256M', '-bios', 'none', '-kernel', elf, '-nographic', '-monitor', 'none', '-serial', 'null'];
  // QEMU's start-up alone, to subtract: the same machine with a 1-iteration guest.
  const tiny = join(dir, 'tiny.elf');
  const tinyBytes = assemble(cpuLoopSource(1), { base: 0x8000_0000 }).bytes;
  writeFileSync(tiny, writeElf64({ entry: 0x8000_0000, segments: [{ paddr: 0x8000_0000, data: tinyBytes, flags: 7 }] }));
  const time = (file: string): number => {
    let b = Infinity;
    for (let run = 0; run < 3; run++) {
      const t0 = process.hrtime.bigint();
      execFileSync('qemu-system-riscv64', args.map((a) => (a === elf ? file : a)), { stdio: 'ignore', timeout: 120_000 });
      b = Math.min(b, Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return b;
  };
  const qFull = time(elf);
  const qStart = time(tiny);
  const qRun = Math.max(1, qFull - qStart);
  const qMips = insns / qRun / 1000;
  console.log(`qemu (TCG): ${qFull.toFixed(0)} ms in all, ${qStart.toFixed(0)} ms of it start-up; ${qMips.toFixed(0)} MIPS on the loop`);
  console.log(`ratio: kmemlab runs the loop at ${(mips / qMips).toFixed(3)} x QEMU's speed (QEMU is ${(qMips / mips).toFixed(1)} x faster)`);
}

function bootBench(): void {
  if (!existsSync(FW_JUMP)) {
    console.log(`opensbi boot: ${FW_JUMP} not installed (apt-get install opensbi)`);
    return;
  }
  const bios = new Uint8Array(readFileSync(FW_JUMP));
  const payload = assemble(sbiPayloadSource(), { base: 0x8020_0000 }).bytes;
  for (const harts of [1, 4]) {
    let out = '';
    const m = new Machine({ harts, bios: { name: 'fw_jump.elf', bytes: bios }, kernel: { name: 'payload', bytes: payload }, output: (b) => (out += String.fromCharCode(b)) });
    const t0 = process.hrtime.bigint();
    const r = m.run(500_000_000);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const ok = r === 'exit' && m.exit?.kind === 'pass' && out.includes('kmemlab payload');
    console.log(`opensbi boot to payload and power-off, ${harts} hart(s): ${m.insns} instructions, ${ms.toFixed(0)} ms, ${(m.insns / ms / 1000).toFixed(1)} MIPS${ok ? '' : ' (DID NOT FINISH)'}`);
  }
}

console.log(`kmemlab benchmark (node ${process.version}, ${new Date().toISOString()})`);
cpuBench();
bootBench();
