/**
 * The debugger console (emulator/debug/console.ts) in scripted sessions on
 * the real kernel behind our firmware (tests/kernel/images.ts builds both):
 * breaking on the allocators, stepping, backtraces through AssemblyScript
 * frames, source listings, watchpoints on a buddy free-list head, harts,
 * memory, registers, the inspectors, bad input, power-off; and the CLI end
 * to end (`kmemlab debug --script FILE`).
 *
 * Expected text is derived from the images themselves (ELF symbols, the
 * line table, the source files), never from addresses written down here, so
 * the tests hold while the kernel changes. Every run is bounded by the
 * kernel's own power-off (a few million instructions) and a --max-insns
 * bound, never by wall time.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';
import { ROOT, buildKernel, buildTarget } from '../kernel/images.js';
import { Machine } from '../../emulator/machine/machine.js';
import { Debugger } from '../../emulator/debug/debugger.js';
import { DebugConsole } from '../../emulator/debug/console.js';
import { sourcePaths } from '../../emulator/debug/source.js';
import { readVmcoreinfo } from '../../emulator/inspect/vmcoreinfo.js';
import { renderBuddyinfo } from '../../emulator/inspect/buddyinfo.js';
import { machineFromCore, readCore } from '../../emulator/inspect/core.js';
import { disassembleBuffer } from '../../toolchain/disasm.js';
import { parseElf } from '../../emulator/machine/elf.js';
import { lineAt, readLineTable } from '../../toolchain/elf_writer.js';
import { REG_ABI_NAMES } from '../../toolchain/regs.js';
import { main } from '../../cli/kmemlab.js';

const kernel = await buildKernel();
const firmware = await buildTarget('firmware');
const skip = !kernel.image || !firmware.image;
const MAX_INSNS = 200_000_000;

const kernelElf = kernel.image?.elf ?? new Uint8Array();
const firmwareElf = firmware.image?.elf ?? new Uint8Array();
const elf = skip ? undefined : parseElf(kernelElf, 'kernel.elf');
const lines = skip ? [] : readLineTable(kernelElf) ?? [];

const hex = (v: bigint | number): string => `0x${BigInt(v).toString(16)}`;

function readSource(file: string): string | undefined {
  for (const p of sourcePaths(file, [ROOT])) if (existsSync(p)) return readFileSync(p, 'utf8');
  return undefined;
}

function func(short: string): { name: string; value: bigint; size: number } {
  const f = elf!.functions.find((fn) => fn.name.endsWith(`/${short}`));
  if (!f) throw new Error(`no function ${short} in the kernel`);
  return f;
}

/** "file:line" of a pc by the line table. */
function lineOf(pc: bigint): { file: string; line: number } {
  const e = lineAt(lines, pc)!;
  return { file: e.source!, line: e.line! };
}

interface Session {
  con: DebugConsole;
  machine: Machine;
  dbg: Debugger;
  guest: () => string;
  /** Run commands; returns the transcript "(kmemlab) cmd\n<output>" for all of them. */
  run(...cmds: string[]): Promise<string>;
}

function session(opts: { harts?: number; append?: string } = {}): Session {
  let guest = '';
  const machine = new Machine({
    harts: opts.harts ?? 4,
    bios: { name: 'firmware.elf', bytes: firmwareElf },
    kernel: { name: 'kernel.elf', bytes: kernelElf },
    append: opts.append ?? '',
    output: (b) => { guest += String.fromCharCode(b); },
  });
  const dbg = new Debugger(machine);
  const con = new DebugConsole(dbg, {
    images: [{ name: 'firmware.elf', bytes: firmwareElf }, { name: 'kernel.elf', bytes: kernelElf }],
    readSource,
    maxInsns: MAX_INSNS,
  });
  return {
    con, machine, dbg, guest: () => guest,
    async run(...cmds) {
      let t = '';
      for (const c of cmds) t += `${DebugConsole.PROMPT}${c}\n${await con.execute(c)}`;
      return t;
    },
  };
}

/** Output of one command (no echo). */
async function one(s: Session, cmd: string): Promise<string> {
  return s.con.execute(cmd);
}

const FRAME = /^#(\d+) {2}0x[0-9a-f]+ in (\S+)\+0x[0-9a-f]+(?: \((\S+):(\d+)\))?$/;

describe.skipIf(skip)('debugger console on the kernel', () => {
  it('boots stopped at the reset vector: info registers has the 32 registers and pc', async () => {
    const s = session();
    const out = await one(s, 'info registers');
    const rows = out.trimEnd().split('\n');
    expect(rows.map((r) => r.split(/\s+/)[0])).toEqual([...REG_ABI_NAMES, 'pc', 'priv']);
    expect(rows[32]).toMatch(/^pc {13}0x1000 /);
    expect(rows[33]).toBe('priv           M');
    expect(s.machine.insns).toBe(0);
  });

  it('b kmem_cache_alloc (an @inline wrapper) breaks on __kmem_cache_alloc; c stops there; si steps one instruction', async () => {
    const s = session();
    const f = func('__kmem_cache_alloc');
    const at = lineOf(f.value);
    const set = await one(s, 'b kmem_cache_alloc');
    expect(set).toBe(
      `(no function 'kmem_cache_alloc' of its own (an @inline wrapper?): using ${f.name}, which it calls)\n`
      + `Breakpoint 1 at ${hex(f.value)}: ${f.name}+0x0 (${at.file}:${at.line})\n`,
    );
    const stop = await one(s, 'c');
    const text = readSource(at.file)!.split('\n')[at.line - 1];
    expect(stop).toBe(`Breakpoint 1, ${hex(f.value)} in ${f.name}+0x0 (${at.file}:${at.line})\n${at.line}\t${text}\n`);
    expect(s.dbg.hart().pc).toBe(f.value);
    const before = s.machine.insns;
    const step = await one(s, 'si');
    const pc = s.dbg.hart().pc;
    expect(s.machine.insns).toBe(before + 1);
    expect(pc).toBeGreaterThan(f.value);
    expect(step.split('\n')[0]).toBe(`${hex(pc)} in ${f.name}+${hex(pc - f.value)} (${lineOf(pc).file}:${lineOf(pc).line})`);
    expect(step).toMatch(new RegExp(`=> ${hex(pc)} <__kmem_cache_alloc\\+${Number(pc - f.value)}>:\\t\\S+`));
    expect(await one(s, 'info breakpoints')).toContain('\tbreakpoint already hit 1 time');
  });

  it('bt at kmalloc names the AssemblyScript callers back to kernel_main, each frame a call site', async () => {
    const s = session();
    await one(s, 'b kmalloc');
    await one(s, 'c');
    const bt = (await one(s, 'bt')).trimEnd().split('\n');
    expect(bt.length).toBeGreaterThanOrEqual(3);
    const frames = bt.map((l) => {
      const m = FRAME.exec(l);
      expect(m, l).not.toBeNull();
      return { level: Number(m![1]), name: m![2]!, pc: BigInt(/0x[0-9a-f]+/.exec(l)![0]) };
    });
    expect(frames.map((f) => f.level)).toEqual(frames.map((_, i) => i));
    expect(frames[0]!.name).toBe(func('__kmalloc').name);
    expect(frames.map((f) => f.name)).toContain(func('kernel_main').name);
    // Every outer frame's pc is a return address: the instruction before it is a call (jalr/jal ra).
    for (const f of frames.slice(1)) {
      if (f.name === '_start') continue;
      const insn = new DataView(s.dbg.readVirt(f.pc - 4n, 4).buffer).getUint32(0, true);
      expect([0x67, 0x6f], `${hex(f.pc)} ${f.name}`).toContain(insn & 0x7f);
      expect((insn >>> 7) & 0x1f).toBe(1);
    }
  });

  it('list shows the source lines around the pc, its own line included; list FILE:LINE; b FILE:LINE', async () => {
    const s = session();
    await one(s, 'b kmalloc');
    await one(s, 'c');
    const pc = s.dbg.hart().pc;
    const at = lineOf(pc);
    const src = readSource(at.file)!.split('\n');
    const out = await one(s, 'list');
    const rows = out.trimEnd().split('\n');
    expect(rows).toHaveLength(10);
    expect(rows[0]).toBe(`${at.line - 5}\t${src[at.line - 6]}`);
    expect(rows).toContain(`${at.line}\t${src[at.line - 1]}`);
    // `list` again goes on with the next ten lines.
    expect((await one(s, 'list')).split('\n')[0]).toBe(`${at.line + 5}\t${src[at.line + 4]}`);
    expect((await one(s, `list ${at.file}:${at.line}`)).split('\n')[5]).toBe(`${at.line}\t${src[at.line - 1]}`);
    // b FILE:LINE: the lowest address of that line in the line table.
    const lowest = lines.filter((e) => e.source === at.file && e.line === at.line).reduce((m, e) => (e.addr < m ? e.addr : m), 1n << 64n);
    expect(await one(s, `b ${at.file}:${at.line}`)).toMatch(new RegExp(`^Breakpoint 2 at ${hex(lowest)}: `));
  });

  it('ni steps over a call; finish returns to the caller with $a0', async () => {
    const s = session();
    const f = func('__kmalloc');
    // The call to __kmem_cache_alloc in __kmalloc: auipc ra,hi; jalr ra,lo(ra).
    const target = func('__kmem_cache_alloc').value;
    let call = 0n;
    const word = (a: bigint): number => new DataView(s.dbg.readPhys(Number(a & 0xffff_ffffn), 4).buffer).getUint32(0, true);
    for (let a = f.value; a + 8n <= f.value + BigInt(f.size); a += 2n) {
      const auipc = word(a);
      const jalr = word(a + 4n);
      if ((auipc & 0xfff) !== 0x097 || (jalr & 0xfffff) !== 0x080e7) continue;
      if (a + BigInt((auipc & 0xfffff000) | 0) + BigInt(jalr >> 20) === target) { call = a + 4n; break; }
    }
    expect(call).not.toBe(0n);
    expect(await one(s, `tbreak *${hex(call)}`)).toMatch(/^Temporary breakpoint 1 at /);
    expect(await one(s, 'c')).toMatch(new RegExp(`^Temporary breakpoint 1, ${hex(call)} in ${f.name}\\+`));
    const hart = s.dbg.current;
    const out = await one(s, 'ni');
    expect(s.dbg.current).toBe(hart);
    expect(s.dbg.hart().pc).toBe(call + 4n);
    expect(out.split('\n')[0]).toBe(`${hex(call + 4n)} in ${f.name}+${hex(call + 4n - f.value)} (${lineOf(call + 4n).file}:${lineOf(call + 4n).line})`);
    expect(await one(s, 'info breakpoints')).toBe('No breakpoints or watchpoints.\n');
    const fin = await one(s, 'finish');
    expect(fin).toMatch(/^Run till exit from #0 {2}0x[0-9a-f]+ in /);
    expect(fin).toMatch(new RegExp(`\nValue returned is \\$a0 = ${hex(s.dbg.hart().getReg(10))}\n$`));
  });

  it('a watchpoint on a zone free-list head catches the page allocator writing it', async () => {
    const s = session();
    await one(s, 'b kmalloc');
    await one(s, 'c');
    const info = readVmcoreinfo((pa, len) => s.machine.mem.readBytes(pa, len), elf!.symbols);
    // Zone Normal (zid 1) of node 0, order 0: its list_head's `next` (u32) at offset 0.
    const nz = Number(info.numbers.get('MAX_NR_ZONES'));
    const head = info.symbols.get('free_area')! + BigInt(((0 * nz + 1) * info.lengths.get('zone.free_area')! + 0) * info.sizes.get('free_area')!);
    await one(s, 'delete');
    expect(await one(s, `watch ${hex(head)} 4`)).toBe(`Hardware watchpoint 2: *${hex(head)} (4 bytes, physical ${hex(head & 0xffff_ffffn)})\n`);
    const out = await one(s, 'c');
    const m = /\nHardware watchpoint 2: \*(0x[0-9a-f]+)\n\nOld value = (0x[0-9a-f]{8})\nNew value = (0x[0-9a-f]{8})\n\(accessed by the instruction at 0x[0-9a-f]+ <(\S+)\+0x/.exec(out);
    expect(m, out).not.toBeNull();
    expect(BigInt(m![1]!)).toBe(head);
    expect(m![2]).not.toBe(m![3]);
    const now = new DataView(s.dbg.readVirt(head, 4).buffer).getUint32(0, true);
    expect(BigInt(m![3]!)).toBe(BigInt(now));
    expect(m![4]).toMatch(/^kernel\/mm\/page_alloc\//);
    expect(await one(s, 'info breakpoints')).toMatch(/^Num {5}Type .*\n2 +hw watchpoint +keep y +\*0x[0-9a-f]+ \(4 bytes, physical 0x[0-9a-f]+\)\n\tbreakpoint already hit 1 time\n$/);
  });

  it('harts: a breakpoint hit on another hart says [hart N]; hart N selects; info harts marks it', async () => {
    const s = session();
    await one(s, 'b secondary_init');
    const out = await one(s, 'c');
    expect(out).toMatch(new RegExp(`^\\[hart ([123])\\]\nBreakpoint 1, 0x[0-9a-f]+ in ${func('secondary_init').name}\\+0x0 `));
    const h = s.dbg.current;
    expect(h).not.toBe(0);
    const sw = await one(s, 'hart 2');
    expect(sw.split('\n')[0]).toMatch(/^\[Switching to hart 2( \(.*\))?\]$/);
    expect(sw.split('\n')[1]).toBe(`#0  ${hex(s.machine.harts[2]!.pc)} in ${sw.split('\n')[1]!.split(' in ')[1]}`);
    const harts = (await one(s, 'info harts')).trimEnd().split('\n');
    expect(harts).toHaveLength(5);
    expect(harts[3]).toMatch(/^\* 2 /);
    expect(await one(s, 'hart')).toBe('[Current hart is 2]\n');
  });

  it('x/4gx $sp reads the stack through the MMU; x/2i $pc disassembles; p reads a global by its size', async () => {
    const s = session();
    await one(s, 'b kmalloc');
    await one(s, 'c');
    const sp = s.dbg.hart().getReg(2);
    const bytes = s.dbg.readVirt(sp, 32);
    const v = new DataView(bytes.buffer);
    const q = (i: number): string => `0x${v.getBigUint64(8 * i, true).toString(16).padStart(16, '0')}`;
    const out = (await one(s, 'x/4gx $sp')).trimEnd().split('\n');
    expect(out).toHaveLength(2);
    expect(out[0]).toMatch(new RegExp(`^${hex(sp)}( <[^>]+>)?:\\t${q(0)}\\t${q(1)}$`));
    expect(out[1]).toMatch(new RegExp(`^${hex(sp + 16n)}( <[^>]+>)?:\\t${q(2)}\\t${q(3)}$`));
    const pa = s.dbg.translate(sp);
    expect((await one(s, `x/1gx -p ${hex(pa)}`)).trimEnd()).toBe(`${hex(pa)}:\t${q(0)}`);
    expect((await one(s, 'x/2i $pc')).split('\n')[0]).toMatch(/^=> 0x[0-9a-f]+ <__kmalloc\+0>:\t\S+/);
    const sym = 'kernel/vmcoreinfo/vmcoreinfo_data';
    const addr = elf!.symbols.get(sym)!;
    const val = new DataView(s.dbg.readVirt(addr, 8).buffer).getBigUint64(0, true);
    expect(await one(s, 'p vmcoreinfo_data')).toBe(`$1 = ${hex(val)} (u64 ${sym} at ${hex(addr)})\n`);
    expect(await one(s, 'p $sp + 16')).toBe(`$2 = ${hex(sp + 16n)} (${BigInt.asIntN(64, sp + 16n)})\n`);
  });

  it('disas shows the whole function as the toolchain disassembler does, with => at the pc', async () => {
    const s = session();
    await one(s, 'b kmalloc');
    await one(s, 'c');
    const f = func('__kmalloc');
    const code = s.dbg.readVirt(f.value, f.size);
    const want = disassembleBuffer(code, f.value, { aliases: true }).map((l, i) => `${i === 0 ? '=> ' : '   '}${hex(l.address)} <+${Number(l.address - f.value)}>:\t${l.text}`);
    expect(await one(s, 'disas')).toBe([`Dump of assembler code for function ${f.name}:`, ...want, 'End of assembler dump.', ''].join('\n'));
    expect((await one(s, 'disas $pc 2')).split('\n').slice(1, 3)).toEqual([want[0]!.replace(' <+0>', ' <__kmalloc+0>'), want[1]!.replace(' <+4>', ' <__kmalloc+4>')]);
  });

  it('the inspectors read the stopped kernel: buddyinfo as the inspector renders it, slabinfo, pt, whatis', async () => {
    const s = session();
    await one(s, 'b kmalloc');
    await one(s, 'c');
    const read = (pa: number, len: number): Uint8Array => s.machine.mem.readBytes(pa, len);
    expect(await one(s, 'buddyinfo')).toBe(renderBuddyinfo(read, readVmcoreinfo(read, elf!.symbols)));
    const slab = await one(s, 'slabinfo');
    expect(slab).toMatch(/^slabinfo - version: 2\.1\n/);
    expect(slab).toMatch(/\nkmalloc-64 /);
    expect(await one(s, 'pt $pc')).toMatch(/^VIRTUAL +PHYSICAL\n/);
    expect((await one(s, 'whatis $sp')).length).toBeGreaterThan(0);
    expect(await one(s, 'pt')).toBe('usage: pt VADDR\n');
    expect(await one(s, 'dump /nonexistent-dir/vmcore')).toBe('dump: cannot write /nonexistent-dir/vmcore: no such directory\n');
    const core = path.join(mkdtempSync(path.join(tmpdir(), 'kmemlab-dump-')), 'vmcore');
    const saved = await one(s, `dump ${core}`);
    expect(saved).toBe(`Saved a core dump of ${statSync(core).size} bytes to ${core}\n`);
    expect(readCore(new Uint8Array(readFileSync(core)), core).harts.length).toBe(4);
  });

  it('bad input gets one clear line and the session goes on', async () => {
    const s = session();
    await one(s, 'b kmalloc');
    await one(s, 'c');
    const t = await s.run('frobnicate', 'x/4gx 0x1234', 'b no_such_symbol', 'hart 99', 'x/4q $sp', 'p (1 +', 'd 77', 'si abc', 'info nonsense', 'watch', 'list nowhere.ts:3', '');
    expect(t).toBe([
      '(kmemlab) frobnicate', 'Undefined command: "frobnicate".  Try "help".',
      '(kmemlab) x/4gx 0x1234', 'Cannot access memory at address 0x1234: 0x1234 is not mapped on hart 0: no valid entry at level 2',
      '(kmemlab) b no_such_symbol', 'No symbol "no_such_symbol" in the loaded images.',
      '(kmemlab) hart 99', 'no hart 99: this machine has harts 0 to 3',
      '(kmemlab) x/4q $sp', 'Undefined output format "q" (formats x d u o t c s i, units b h w g)',
      '(kmemlab) p (1 +', "expression '(1 +' ends too early",
      '(kmemlab) d 77', 'No breakpoint number 77.',
      '(kmemlab) si abc', "si: 'abc' is not a count of instructions",
      '(kmemlab) info nonsense', 'info nonsense: give one of registers, csrs, breakpoints, watchpoints, harts, threads, tlb, symbol',
      '(kmemlab) watch', 'usage: watch [-p] ADDR [LEN]',
      '(kmemlab) list nowhere.ts:3', 'No source file named nowhere.ts.',
      '(kmemlab) ', '',
    ].join('\n'));
    expect((await one(s, 'info registers')).split('\n')).toHaveLength(35);
  });

  it('interrupt() (Ctrl-C) stops a running c in gdb\'s words; c goes on from there', async () => {
    const s = session({ append: 'selftest=kmalloc' });
    const running = s.con.execute('c');
    expect(s.con.busy).toBe(true);
    setImmediate(() => s.con.interrupt());
    const out = await running;
    expect(out).toMatch(/^\nProgram received signal SIGINT, Interrupt\.\n0x[0-9a-f]+ in /);
    expect(s.con.busy).toBe(false);
    expect(s.machine.exit).toBeUndefined();
    expect(await one(s, 'c')).toBe('[Inferior 1 exited normally]\n');
  });

  it('help lists the commands; quit asks the host to leave', async () => {
    const s = session();
    const help = await one(s, 'help');
    for (const c of ['si [N]', 'ni [N]', 'b LOC', 'watch ADDR', 'x/NFU', 'disas', 'bt', 'list', 'info tlb', 'slabinfo', 'whatis ADDR', 'percpu', 'dump FILE', 'quit']) expect(help).toContain(c);
    expect(s.con.complete('sla')).toEqual(['slab', 'slabinfo']);
    expect(s.con.complete('slabi')).toEqual(['slabinfo']);
    expect(s.con.complete('info re')).toEqual(['info registers']);
    expect(s.con.complete('b __kmem_cache_al')).toContain('b __kmem_cache_alloc');
    expect(s.con.complete('x/4gx $s')).toEqual(expect.arrayContaining(['x/4gx $sp', 'x/4gx $s0']));
    expect(await one(s, 'quit')).toBe('');
    expect(s.con.quitRequested).toBe(true);
  });

  it('runs to power-off: [Inferior 1 exited normally], then nothing more runs; a session is deterministic', async () => {
    const script = ['b kmalloc', 'c', 'bt', 'si 5', 'ni 3', 'info breakpoints', 'delete', 'c', 'si', 'info harts'];
    const a = session();
    const ta = await a.run(...script);
    expect(ta).toContain('(kmemlab) c\n[Inferior 1 exited normally]\n(kmemlab) si\nThe program is not being run.\n');
    expect(a.con.exitCode()).toBe(0);
    expect(a.guest()).toContain('powering off');
    const b = session();
    expect(await b.run(...script)).toBe(ta);
    expect(b.guest()).toBe(a.guest());
    expect(b.machine.insns).toBe(a.machine.insns);
  });
});

/** The CLI in-process: the images written into `dir`, console output and stderr captured. */
function cliIn(dir: string): { io: { writeOut(b: Uint8Array): void; writeErr(t: string): void }; cap: { out: string; err: string }; kernel: string; bios: string } {
  const kernel = path.join(dir, 'kernel.elf');
  const bios = path.join(dir, 'firmware.elf');
  writeFileSync(kernel, kernelElf);
  writeFileSync(bios, firmwareElf);
  const cap = { out: '', err: '' };
  const io = { writeOut: (b: Uint8Array): void => { cap.out += Buffer.from(b).toString('latin1'); }, writeErr: (t: string): void => { cap.err += t; } };
  return { io, cap, kernel, bios };
}

describe.skipIf(skip)('kmemlab debug (the CLI, end to end)', () => {
  it('runs a --script, prints the transcript and the guest console, exits 0', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kmemlab-debug-'));
    const bundle = path.join(dir, 'kmemlab.mjs');
    await build({
      stdin: { contents: "import { cliMain } from './cli/kmemlab.ts'; cliMain();", resolveDir: ROOT, sourcefile: 'main.ts', loader: 'ts' },
      bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: bundle, logLevel: 'silent',
    });
    writeFileSync(path.join(dir, 'kernel.elf'), kernelElf);
    writeFileSync(path.join(dir, 'firmware.elf'), firmwareElf);
    const script = path.join(dir, 'session.gdb');
    writeFileSync(script, '# a comment\nb kmalloc\nc\nbt\n\nlist\nquit\nc\n');
    const r = spawnSync(process.execPath, [bundle, 'debug', '--script', script, '--kernel', path.join(dir, 'kernel.elf'), '--bios', path.join(dir, 'firmware.elf'), '--max-insns', String(MAX_INSNS)], {
      cwd: ROOT, encoding: 'latin1', timeout: 120_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const f = func('__kmalloc');
    expect(r.stdout).toMatch(/^\(kmemlab\) b kmalloc\n\(no function 'kmalloc' of its own/);
    expect(r.stdout).toContain('kmemlab SBI 2.0 firmware');
    expect(r.stdout).toMatch(new RegExp(`\nBreakpoint 1, ${hex(f.value)} in ${f.name}\\+0x0 \\(`));
    expect(r.stdout).toMatch(/\n\(kmemlab\) bt\n#0 {2}0x/);
    expect(r.stdout).toContain(`\n(kmemlab) list\n`);
    expect(r.stdout.endsWith('(kmemlab) quit\n')).toBe(true);
  }, 180_000);

  it('exits with the guest\'s code when it powered off failing, and says so; bad options are usage errors', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kmemlab-debug-'));
    const { io, cap, kernel: kernelFile, bios } = cliIn(dir);
    const script = path.join(dir, 'run.gdb');
    writeFileSync(script, 'c\ninfo harts\n');
    const code = await main(['debug', '--script', script, '--kernel', kernelFile, '--bios', bios,
      '--append', 'selftest=kmalloc selftest_fail=1'], io);
    expect(cap.out).toMatch(/\n\[Inferior 1 exited with code (\d+)\]\n\(kmemlab\) info harts\n {2}Hart Priv/);
    const guest = Number(/exited with code (\d+)/.exec(cap.out)![1]);
    expect(guest).not.toBe(0);
    expect(code).toBe(guest);
    expect(cap.err).toBe(`kmemlab: the guest powered off during the session; exit code ${guest} is the guest's\n`);
    cap.err = '';
    expect(await main(['debug', '--script'], io)).toBe(2);
    expect(cap.err).toBe('kmemlab: --script needs a file of debugger commands\n');
    cap.err = '';
    expect(await main(['debug', '--script', path.join(dir, 'none.gdb'), '--kernel', kernelFile], io)).toBe(2);
    expect(cap.err).toMatch(/^kmemlab: --script '.*none\.gdb': cannot read it/);
  });
});

describe.skipIf(skip)('a saved machine (dump FILE, then kmemlab debug --core FILE)', () => {
  /** The commands that look: on the dump each must answer exactly as on the live machine it was saved from. */
  const LOOKING = [
    'info registers', 'info csrs', 'info harts', 'bt', 'x/8gx $sp', 'x/4i $pc', 'p totalram_pages', 'list',
    'buddyinfo', 'zoneinfo', 'meminfo', 'slabinfo', 'vmallocinfo', 'dmesg', 'pt $pc', 'whatis $a0', 'percpu pcp_pages',
    'hart 2', 'info registers pc', 'x/2gx $sp', 'hart 0',
  ];

  it('answers every looking command as the live machine did, refuses to run, and the CLI opens it', async () => {
    const live = session({ append: 'selftest=slab,kmalloc' });
    // Somewhere in the middle of the slab self-tests: the 300th slab allocation.
    await live.run('b kmem_cache_alloc');
    for (let i = 0; i < 300; i++) expect(await live.con.execute('c')).toMatch(/^Breakpoint 1, /m);
    const dir = mkdtempSync(path.join(tmpdir(), 'kmemlab-dump-'));
    const file = path.join(dir, 'mid-slab.core');
    expect(await live.con.execute(`dump ${file}`)).toMatch(/^Saved a core dump of \d+ bytes to /);
    const want = await live.run(...LOOKING);

    const core = readCore(new Uint8Array(readFileSync(file)), file);
    const images = [{ name: 'firmware.elf', bytes: firmwareElf }, { name: 'kernel.elf', bytes: kernelElf }];
    const frozen = machineFromCore(core, { bios: images[0], kernel: images[1] });
    const con = new DebugConsole(new Debugger(frozen), { images, readSource, frozen: `the dump ${file}` });
    let got = '';
    for (const c of LOOKING) got += `${DebugConsole.PROMPT}${c}\n${await con.execute(c)}`;
    expect(got).toBe(want);
    // Not vacuous: the stop is inside the slab allocator, with objects in the caches.
    expect(want).toMatch(/#0 {2}0x[0-9a-f]+ in kernel\/mm\/slub\/__kmem_cache_alloc/);
    expect(want).toMatch(/\nkmalloc-\d+ +[1-9]\d* /);
    for (const c of ['c', 'si', 'ni', 'finish']) {
      expect(await con.execute(c)).toBe(`the dump ${file} does not run: it is a saved machine (x, p, bt, list, info, disas and the inspectors work)\n`);
    }
    expect(frozen.insns).toBe(0);

    // The CLI: kmemlab debug --core FILE --kernel … --bios … --script.
    const { io, cap, kernel: kernelFile, bios } = cliIn(dir);
    const script = path.join(dir, 'look.gdb');
    writeFileSync(script, 'slabinfo\nc\n');
    const code = await main(['debug', '--core', file, '--kernel', kernelFile, '--bios', bios, '--script', script], io);
    expect(cap.err).toBe('');
    expect(code).toBe(0);
    const slab = want.slice(want.indexOf('(kmemlab) slabinfo\n'), want.indexOf('(kmemlab) vmallocinfo\n'));
    expect(cap.out).toBe(`${slab}(kmemlab) c\nthe dump ${file} does not run: it is a saved machine (x, p, bt, list, info, disas and the inspectors work)\n`);
    // Bad dumps and missing kernels are usage errors.
    writeFileSync(path.join(dir, 'bad.core'), 'not an ELF core');
    expect(await main(['debug', '--core', path.join(dir, 'bad.core'), '--kernel', kernelFile], io)).toBe(2);
    expect(cap.err).toMatch(/^kmemlab: .*bad\.core.*ELF/);
    cap.err = '';
    expect(await main(['debug', '--core', path.join(dir, 'none.core'), '--kernel', kernelFile], io)).toBe(2);
    expect(cap.err).toMatch(/^kmemlab: --core '.*none\.core': cannot read it \(ENOENT\)/);
    cap.err = '';
    expect(await main(['debug', '--core'], io)).toBe(2);
    expect(cap.err).toMatch(/^kmemlab: --core needs an ELF core/);
  }, 300_000);
});

describe.skipIf(skip)('slab CACHE: the object walk in the console', () => {
  it('lists slabs and objects consistent with slabinfo, and owners under slub_debug=U', async () => {
    const s = session({ append: 'selftest=kmalloc slub_debug=U' });
    await s.run('b kmalloc');
    for (let i = 0; i < 40; i++) expect(await s.con.execute('c')).toMatch(/^Breakpoint 1, /m);
    const slabinfo = await s.con.execute('slabinfo');
    let checked = 0;
    for (const row of slabinfo.split('\n').slice(2).filter((l) => l)) {
      const [name, active, num] = row.split(/\s+/);
      const out = await s.con.execute(`slab ${name} objects`);
      const head = /^(\S+): object size \d+, stride \d+, (\d+) slabs, (\d+) objects allocated, (\d+) free \((\d+) of them in CPU slabs\)\n/.exec(out);
      expect(head, out).not.toBeNull();
      expect(head![1]).toBe(name);
      const [allocated, free, inCpu] = [Number(head![3]), Number(head![4]), Number(head![5])];
      expect(allocated + inCpu, name).toBe(Number(active));
      expect(allocated + free, name).toBe(Number(num));
      const objs = out.split('\n').filter((l) => /^ {4}\[/.test(l));
      expect(objs.length, name).toBe(Number(num));
      const owned = objs.filter((l) => / allocated by /.test(l));
      expect(owned.length, name).toBe(allocated);
      if (allocated === 0) continue;
      const calls = await s.con.execute(`slab ${name} alloc_calls`);
      expect(calls.trimEnd().split('\n').reduce((n, l) => n + Number(l.trim().split(' ')[0]), 0), name).toBe(allocated);
      checked++;
    }
    expect(checked).toBeGreaterThan(2);
    // kmalloc's objects name the function that asked for them.
    expect(await s.con.execute('slab kmalloc-64 objects')).toMatch(/ allocated by [A-Za-z_]\w*\+0x[0-9a-f]+\/0x[0-9a-f]+ cpu \d+ pid -?\d+\n/);
    expect(await s.con.execute('slab nosuch')).toMatch(/^no slab cache "nosuch" \(caches: .*kmalloc-64/);
    expect(await s.con.execute('slab kmalloc-64 wat')).toBe('usage: slab CACHE [objects|alloc_calls|free_calls]\n');
    expect(await s.con.execute('slab')).toBe('usage: slab CACHE [objects|alloc_calls|free_calls]\n');
  }, 300_000);
});
