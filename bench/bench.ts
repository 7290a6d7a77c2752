/**
 * `npm run bench`: speed figures, reported as measured in one run — never
 * thresholds. 1) interpreter MIPS on a CPU-bound bare-metal guest and the
 * ratio against qemu-system-riscv64 (TCG) running the same ELF, when QEMU is
 * installed; 2) instructions and time for Debian's OpenSBI to boot to an
 * S-mode payload, when it is installed; 3) the page allocator: guest
 * instructions per alloc+free pair on its paths (bench/page_alloc.ts); 4) the
 * slab allocator: the same for kmalloc and kmem_cache paths, and objects per
 * second on 1 and 4 harts (bench/slab.ts); 5) vmalloc+vfree, the TLB shootdown
 * on 1, 4 and 16 harts, this_cpu_add and alloc_percpu (bench/vmalloc.ts); 6) what
 * the debugger costs: attached, with a breakpoint, per stop (bench/debug.ts).
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
import { pageAllocBench } from './page_alloc.js';
import { slabBench } from './slab.js';
import { vmallocBench } from './vmalloc.js';
import { debugBench } from './debug.js';

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
  // QEMU is much faster: give it QEMU_SCALE times the iterations so that its
  // run is long enough to time, and subtract its start-up (a 1-iteration run).
  const QEMU_SCALE = 20;
  const elfOf = (iters: number, name: string): { path: string; insns: number } => {
    const img = assemble(cpuLoopSource(iters), { base: 0x8000_0000 }).bytes;
    const path = join(dir, name);
    writeFileSync(path, writeElf64({ entry: 0x8000_0000, segments: [{ paddr: 0x8000_0000, data: img, flags: 7 }] }));
    const m = new Machine({ harts: 1, highmemSize: 0, kernel: { name, bytes: img } });
    m.run(iters <= 1 ? Infinity : 1000); // count only the tiny one exactly; the big one by the loop's slope
    return { path, insns: m.insns };
  };
  const tiny = elfOf(1, 'tiny.elf');
  const big = elfOf(ITERATIONS * QEMU_SCALE, 'cpuloop.elf');
  const perIter = (insns - tiny.insns) / (ITERATIONS - 1);
  const qInsns = Math.round(tiny.insns + perIter * (ITERATIONS * QEMU_SCALE - 1));
  const time = (file: string): number => {
    let b = Infinity;
    for (let run = 0; run < 3; run++) {
      const t0 = process.hrtime.bigint();
      execFileSync('qemu-system-riscv64', ['-M', 'virt', '-smp', '1', '-m', '256M', '-bios', 'none', '-kernel', file, '-nographic', '-monitor', 'none', '-serial', 'null'], { stdio: 'ignore', timeout: 300_000 });
      b = Math.min(b, Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return b;
  };
  const qFull = time(big.path);
  const qStart = time(tiny.path);
  const qMips = qInsns / Math.max(1, qFull - qStart) / 1000;
  console.log(`qemu (TCG): ${qInsns} instructions in ${qFull.toFixed(0)} ms, of which ${qStart.toFixed(0)} ms start-up: ${qMips.toFixed(0)} MIPS on the loop`);
  console.log(`ratio: kmemlab / QEMU = ${(mips / qMips).toFixed(3)} (QEMU is ${(qMips / mips).toFixed(1)} x faster)`);
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
await pageAllocBench();
await slabBench();
await vmallocBench();
await debugBench();
