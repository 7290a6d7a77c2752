/**
 * Interop: a real gdb-multiarch attaches to `kmemlab run --gdb` (our
 * firmware and kernel, 4 harts) and debugs the kernel by its ELF symbols:
 * it stops at a breakpoint on a kernel function (pc = the symbol's address),
 * reads the stack and code (the same bytes the debugger console and the ELF
 * file hold), lists the 4 harts as threads, switches to thread 2 and steps
 * it, watches a kernel global (old and new value), and detaches, after which
 * the machine runs on to power-off (exit code 0); or the guest's power-off
 * ends the session ("exited normally"); or gdb interrupts the running
 * machine (^C, sent from gdb's Python 2 s after `continue`; the guest spins
 * forever, hang_on_boot=1, so the interrupt never races its power-off) and
 * kills it.
 *
 * Our kernel's symbols carry their source path: `kernel/mm/slub/__kmem_cache_alloc`.
 * gdb takes them quoted, and `break *'NAME'` breaks at the symbol's own
 * address (`break 'NAME'` would skip gdb's idea of the prologue). gdb shows
 * `__` inside such a name as `.` (an Ada-style demangling) unless
 * `set demangle-style none` comes before `file`; the test sets it.
 *
 * The stub listens on port 0 (a free port chosen by the OS), and kmemlab
 * prints the port it got on stderr; gdb is started once that line is there.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildKernel, buildTarget, ROOT, type Built } from '../kernel/images.js';
import { parseElf, type ElfImage } from '../../emulator/machine/elf.js';

const haveGdb = spawnSync('sh', ['-c', 'command -v gdb-multiarch']).status === 0;
/** gdb's Python, to send an interrupt (^C) from inside a batch session. */
const haveGdbPython = haveGdb && spawnSync('gdb-multiarch', ['-batch', '-nx', '-ex', 'python print(6 * 7)'], { encoding: 'utf8' }).stdout.includes('42');

/** A slab allocation entry point, called early on hart 0 (before the other harts are started). */
const BREAK_AT = 'kernel/mm/slub/__kmem_cache_alloc';
/** A kernel global the boot changes: the number of vmap areas (0, then 1 at the first vmalloc). */
const WATCH = 'kernel/mm/vmalloc/nr_vmap_areas';

interface Session {
  gdb: string;
  kmemlab: { code: number | null; stdout: string; stderr: string };
}

const hex = (v: bigint): string => `0x${v.toString(16)}`;

/** Start kmemlab with --gdb on a free port, run gdb-multiarch -batch with `commands` against it, wait for both. */
async function withGdb(dir: string, commands: string[], append = 'selftest=kmalloc'): Promise<Session> {
  const run = spawn('node', [
    join(ROOT, 'dist/kmemlab.js'), 'run', '--gdb', '127.0.0.1:0', '--bios', join(dir, 'firmware.elf'), '--kernel', join(dir, 'kernel.elf'),
    '--harts', '4', '--append', append, '--max-insns', '400000000', '--input', '',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  run.stdout.on('data', (d: Buffer) => { stdout += d.toString('latin1'); });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kmemlab did not listen within 30 s; stderr: ${stderr}`)), 30_000);
    run.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('latin1');
      const m = /waiting for gdb on 127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    run.once('exit', () => reject(new Error(`kmemlab exited before listening; stderr: ${stderr}`)));
  });
  const exited = new Promise<number | null>((resolve) => {
    if (run.exitCode !== null) resolve(run.exitCode);
    else run.once('exit', (code) => resolve(code));
  });
  const args = ['-batch', '-nx', '-ex', 'set architecture riscv:rv64', '-ex', 'set demangle-style none',
    '-ex', `file ${join(dir, 'kernel.elf')}`, '-ex', `target remote 127.0.0.1:${port}`];
  for (const c of commands) args.push('-ex', c);
  const g = spawnSync('gdb-multiarch', args, { encoding: 'utf8', timeout: 180_000 });
  const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 180_000))]);
  if (code === 'timeout') run.kill();
  return { gdb: `${g.stdout}${g.stderr}`, kmemlab: { code: code === 'timeout' ? null : code, stdout, stderr } };
}

/** The file bytes of the ELF at virtual address `va`. */
function elfBytes(elf: ElfImage, va: bigint, len: number): Uint8Array {
  const seg = elf.segments.find((s) => va >= s.vaddr && va + BigInt(len) <= s.vaddr + BigInt(s.data.length));
  if (!seg) throw new Error(`no loaded bytes at ${hex(va)}`);
  const off = Number(va - seg.vaddr);
  return seg.data.subarray(off, off + len);
}

/** The values of a gdb `x/..x` dump, in order. */
function dumpValues(text: string): bigint[] {
  return [...text.matchAll(/:\s+((?:0x[0-9a-f]+\s*)+)/g)].flatMap((m) => m[1]!.trim().split(/\s+/).map((v) => BigInt(v)));
}

describe.skipIf(!haveGdb)(
  `gdb-multiarch on kmemlab run --gdb${haveGdb ? '' : ' (skipped: gdb-multiarch is not installed; apt-get install gdb-multiarch)'}`, () => {
    let kernel: Built;
    let firmware: Built;
    let elf: ElfImage;
    let dir = '';

    beforeAll(async () => {
      const b = spawnSync('node', ['scripts/build.mjs'], { cwd: ROOT, encoding: 'utf8' });
      expect(b.status, b.stderr).toBe(0);
      kernel = await buildKernel();
      firmware = await buildTarget('firmware');
      dir = mkdtempSync(join(tmpdir(), 'kmemlab-gdb-'));
      if (kernel.image) {
        writeFileSync(join(dir, 'kernel.elf'), kernel.image.elf);
        elf = parseElf(kernel.image.elf, 'kernel.elf');
      }
      if (firmware.image) writeFileSync(join(dir, 'firmware.elf'), firmware.image.elf);
    });

    it('breaks at a kernel function, reads memory, lists and switches harts, steps, detaches; the machine runs on to power-off', async () => {
      expect(kernel.error).toBeUndefined();
      expect(firmware.error).toBeUndefined();
      const addr = elf.symbols.get(BREAK_AT);
      expect(addr, `${BREAK_AT} in the kernel's symbol table`).toBeDefined();
      const s = await withGdb(dir, [
        `break *'${BREAK_AT}'`,
        'continue',
        'info registers pc',
        'x/2gx $sp',
        'monitor x/2gx $sp',
        'x/8xb $pc',
        'info threads',
        'delete 1',
        'thread 2',
        'info registers pc',
        'stepi',
        'thread',
        'info registers pc',
        'detach',
      ]);
      const out = s.gdb;
      const ctx = `gdb:\n${out}\nkmemlab stderr:\n${s.kmemlab.stderr}`;
      // Stopped at the function: the pc is the symbol's address.
      expect(out, ctx).toContain(`Breakpoint 1 at ${hex(addr!)}`);
      // gdb names the function, and (from our DWARF line table) its AssemblyScript source line.
      expect(out, ctx).toMatch(new RegExp(`Thread 1 hit Breakpoint 1, ${BREAK_AT.replace(/\//g, '\\/')} \\(\\) at kernel/mm/slub\\.ts:\\d+\n\\d+\t`));
      const pcs = [...out.matchAll(/^pc\s+(0x[0-9a-f]+)/gm)].map((m) => BigInt(m[1]!));
      expect(pcs, ctx).toHaveLength(3);
      expect(pcs[0]).toBe(addr);
      // Memory: the stack as gdb reads it is what the debugger console reads; the code is the ELF's bytes.
      const dumps = out.split('\n').filter((l) => /^0x[0-9a-f]+ <[^>]*>:\s+0x/.test(l));
      // (gdb's own output and the monitor's O packets reach a pipe in either order.)
      expect(dumps, ctx).toHaveLength(3);
      const stack = dumps.filter((l) => dumpValues(l).length === 2);
      const code = dumps.filter((l) => dumpValues(l).length === 8);
      expect(stack, ctx).toHaveLength(2);
      expect(dumpValues(stack[0]!)).toEqual(dumpValues(stack[1]!));
      expect(code[0], ctx).toMatch(new RegExp(`^${hex(addr!)} <`));
      expect(dumpValues(code[0]!).map(Number)).toEqual([...elfBytes(elf, addr!, 8)]);
      // Four harts as threads, thread 1 current, each with its state.
      const threads = out.split('\n').filter((l) => /^\*?\s+\d+\s+Thread \d+ \(hart \d+ [MSU]-mode (running|wfi|stopped \(HSM\))\)/.test(l));
      expect(threads, ctx).toHaveLength(4);
      expect(threads[0]).toMatch(/^\*\s+1\s+Thread 1 \(hart 0 S-mode running\)/);
      // Thread 2 selected and stepped (it waited in the firmware for SBI HSM to start it: the others ran
      // until it executed one instruction); it is still the current thread and its pc moved.
      expect(out, ctx).toContain('[Switching to thread 2 (Thread 2)]');
      expect(out, ctx).toMatch(/\[Current thread is 2 \(Thread 2\)\]/);
      expect(pcs[2], ctx).not.toBe(pcs[1]);
      expect(out, ctx).toContain('[Inferior 1 (Remote target) detached]');
      // The machine ran on: the suite's KTAP results, power-off, exit 0.
      expect(s.kmemlab.stderr).toContain('gdb detached; the machine runs on to its end');
      expect(s.kmemlab.stdout).toMatch(/^ok \d+ kmalloc$/m);
      expect(s.kmemlab.code, ctx).toBe(0);
    });

    it.skipIf(!haveGdbPython)('interrupts a running machine (^C: SIGINT), shows every hart, and kills it', async () => {
      expect(kernel.error).toBeUndefined();
      const s = await withGdb(dir, [
        // Two seconds after the machine starts running, gdb interrupts it (as ^C would).
        'python import threading; gdb.events.cont.connect(lambda ev: threading.Timer(2.0, lambda: gdb.post_event(lambda: gdb.execute("interrupt"))).start())',
        'continue',
        'info threads',
        'kill',
      ], 'hang_on_boot=1'); // a guest that never ends by itself: the interrupt always finds it running
      const out = s.gdb;
      const ctx = `gdb:\n${out}\nkmemlab stderr:\n${s.kmemlab.stderr}`;
      expect(out, ctx).toContain('received signal SIGINT, Interrupt.');
      const threads = out.split('\n').filter((l) => /^\*?\s+\d+\s+Thread \d+ \(hart \d+ [MSU]-mode (running|wfi|stopped \(HSM\))\)/.test(l));
      expect(threads, ctx).toHaveLength(4);
      expect(out, ctx).toContain('[Inferior 1 (Remote target) killed]');
      expect(s.kmemlab.stderr).toContain('killed from gdb');
      expect(s.kmemlab.stdout).toMatch(/hang_on_boot: spinning with interrupts off/); // the console printed while gdb held the run
      expect(s.kmemlab.code, ctx).toBe(0);
    });

    it('watches a kernel global (old and new value), then the guest\'s power-off ends the session', async () => {
      expect(kernel.error).toBeUndefined();
      const addr = elf.symbols.get(WATCH);
      expect(addr, `${WATCH} in the kernel's symbol table`).toBeDefined();
      const s = await withGdb(dir, [
        `break *'${BREAK_AT}'`,
        'continue',
        'delete 1',
        `watch *(long *)${hex(addr!)}`,
        'continue',
        'info registers pc',
        'delete 2',
        'continue',
      ], '');
      const out = s.gdb;
      const ctx = `gdb:\n${out}\nkmemlab stderr:\n${s.kmemlab.stderr}`;
      expect(out, ctx).toContain(`Hardware watchpoint 2: *(long *)${hex(addr!)}`);
      expect(out, ctx).toMatch(/hit Hardware watchpoint 2: \*\(long \*\)0x[0-9a-f]+\s+Old value = 0\s+New value = 1/);
      expect(out, ctx).toContain('[Inferior 1 (Remote target) exited normally]');
      expect(s.kmemlab.stdout).toContain('powering off');
      expect(s.kmemlab.code, ctx).toBe(0);
    });
  });
