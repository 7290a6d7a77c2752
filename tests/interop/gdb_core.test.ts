/**
 * Interop: gdb-multiarch (Debian's GDB 13) reads our ELF cores
 * (emulator/inspect/core.ts) together with the kernel ELF, as it reads the
 * cores of QEMU's dump-guest-memory: one thread per hart with the pc we
 * saved, the kernel's globals and linear-map memory (through the kernel's
 * own symbols, which are linear-map addresses), firmware memory by physical
 * address, and zeros in the stretches the dump leaves out.
 *
 * gdb names our kernel's symbols with slashes (kernel/vmcoreinfo/
 * vmcoreinfo_data): quoted, 'kernel/vmcoreinfo/vmcoreinfo_data' is a symbol
 * with no debug info, so its value is read with a cast:
 * p/x *(unsigned long *)&'kernel/vmcoreinfo/vmcoreinfo_data' (without the
 * cast gdb says "has unknown type; cast it to its declared type";
 * x/gx &'kernel/vmcoreinfo/vmcoreinfo_data' works too).
 *
 * And the other way round: readCore reads the core QEMU's own
 * dump-guest-memory writes of our firmware and kernel on -M virt (taken at
 * the reset vector, -S): its harts, its RAM with the kernel where it was
 * loaded, and the same ELF header fields (e_flags 0) and note layout as ours.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boot, buildKernel, buildTarget, type BootResult } from '../kernel/images.js';
import { parseElf } from '../../emulator/machine/elf.js';
import { linearPa, readU64, type ReadPhys } from '../../emulator/inspect/vmcoreinfo.js';
import { readCore, saveCore, type CoreDump } from '../../emulator/inspect/core.js';

const GDB = 'gdb-multiarch';
const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const haveGdb = has(GDB);
const haveQemu = has('qemu-system-riscv64');
const HARTS = 4;
const VMCOREINFO_SYM = 'kernel/vmcoreinfo/vmcoreinfo_data';

let dir = '';
let kernelFile = '';
let coreFile = '';
let run: BootResult | undefined;
let core: CoreDump | undefined;
let symbols: Map<string, bigint> = new Map();
let why = '';

const hex = (v: bigint | number): string => `0x${v.toString(16)}`;

/** gdb -batch on the kernel ELF and the core; its stdout (stderr must hold nothing but known notices). */
function gdb(...commands: string[]): string {
  const args = ['-batch', '-nx', '-ex', 'set architecture riscv:rv64', '-ex', `file ${kernelFile}`, '-ex', `core-file ${coreFile}`];
  for (const c of commands) args.push('-ex', c);
  const r = spawnSync(GDB, args, { encoding: 'utf8', timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  return r.stdout;
}

/** The u64 words gdb prints for x/Ngx. */
function words(out: string): bigint[] {
  return [...out.matchAll(/\t0x([0-9a-f]+)/g)].map((m) => BigInt(`0x${m[1]}`));
}

beforeAll(async () => {
  if (!haveGdb && !haveQemu) return;
  const kernel = await buildKernel();
  const firmware = await buildTarget('firmware');
  if (!kernel.image || !firmware.image) {
    why = `the kernel or firmware did not build: ${kernel.error ?? firmware.error}`;
    return;
  }
  dir = mkdtempSync(join(tmpdir(), 'kmemlab-gdb-core-'));
  kernelFile = join(dir, 'kernel.elf');
  coreFile = join(dir, 'dump.core');
  writeFileSync(kernelFile, kernel.image.elf);
  symbols = parseElf(kernel.image.elf, 'kernel.elf').symbols;
  // The default board (256 MiB low DRAM + 256 MiB highmem), after the page allocator's self-tests.
  run = boot({ kernel: kernel.image.elf, bios: firmware.image.elf, harts: HARTS, append: 'selftest=page_alloc', maxInsns: 400_000_000 });
  expect(run.exit, run.console.slice(-2000)).toEqual({ kind: 'pass', code: 0, via: 'finisher' });
  saveCore(run.machine, coreFile, { kernelSymbols: symbols });
  core = readCore(new Uint8Array(readFileSync(coreFile)), coreFile);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!haveGdb)(`gdb-multiarch reads kmemlab's ELF cores${haveGdb ? '' : ' (skipped: apt-get install gdb-multiarch)'}`, () => {
  it('the images built and the machine booted', () => {
    expect(why).toBe('');
    expect(core).toBeDefined();
  });

  it('shows one thread per hart, each at the pc we saved', () => {
    const m = run!.machine;
    const out = gdb('info threads', 'thread apply all info registers pc');
    for (let i = 1; i <= HARTS; i++) expect(out).toMatch(new RegExp(`^\\*?\\s+${i}\\s+LWP ${i}\\s`, 'm'));
    expect(out).not.toMatch(/LWP 5/);
    for (const h of m.harts) {
      const block = new RegExp(`Thread ${h.hartId + 1} \\(LWP ${h.hartId + 1}\\):\\npc\\s+${hex(h.pc)}\\s`);
      expect(out).toMatch(block);
    }
  });

  it('shows every integer register of a hart as saved', () => {
    const h = run!.machine.harts[1]!;
    const out = gdb('thread 2', 'info registers ra sp gp tp t0 a0 a1 s0 t6');
    const names: [string, number][] = [['ra', 1], ['sp', 2], ['gp', 3], ['tp', 4], ['t0', 5], ['a0', 10], ['a1', 11], ['s0', 8], ['t6', 31]];
    for (const [name, i] of names) expect(out).toMatch(new RegExp(`^${name}\\s+${hex(h.getReg(i))}\\s`, 'm'));
  });

  it("reads a kernel global by its symbol and the linear-map memory it points at", () => {
    const read: ReadPhys = (pa, len) => run!.machine.mem.readBytes(pa, len);
    const sym = symbols.get(VMCOREINFO_SYM)!;
    const va = readU64(read, linearPa(sym));
    expect(va >> 32n).toBe(0xffff_ffffn);
    const out = gdb(`p/x *(unsigned long *)&'${VMCOREINFO_SYM}'`, `info symbol ${hex(sym)}`, `x/2gx ${hex(va)}`);
    expect(out).toContain(`$1 = ${hex(va)}\n`);
    expect(out).toMatch(new RegExp(`^${VMCOREINFO_SYM} in section \\S+$`, 'm'));
    // "VMCOREIN", then u32 text length | u32 version 1 — as the live machine holds them.
    const [magic, lenVer] = words(out.slice(out.indexOf(`${hex(va)}:`)));
    expect(magic).toBe(0x4e49_4552_4f43_4d56n);
    expect(lenVer).toBe(readU64(read, linearPa(va) + 8));
    expect(Number(lenVer & 0xffff_ffffn)).toBe(core!.vmcoreinfo!.length);
  });

  it('reads the same bytes by physical address (firmware view) and by linear-map address', () => {
    const m = run!.machine;
    const pas = [0x8000_0000, 0x8020_0000, m.dtbAddr];
    const out = gdb(...pas.flatMap((pa) => [`x/4gx ${hex(pa)}`, `x/4gx ${hex(0xffff_ffff_0000_0000n | BigInt(pa))}`]));
    const got = words(out);
    pas.forEach((pa, i) => {
      const live = new DataView(m.mem.readBytes(pa, 32).buffer);
      const want = [0, 1, 2, 3].map((k) => live.getBigUint64(8 * k, true));
      expect(got.slice(8 * i, 8 * i + 4), hex(pa)).toEqual(want);
      expect(got.slice(8 * i + 4, 8 * i + 8), `linear ${hex(pa)}`).toEqual(want);
    });
  });

  it('reads the stretches the dump leaves out as zeros, and highmem by physical address', () => {
    const m = run!.machine;
    // A PT_LOAD with p_filesz < p_memsz: an address in its zero tail.
    const tail = core!.loads.find((l) => l.filesz < l.memsz && l.vaddr === BigInt(l.paddr) && l.paddr >= 0x8000_0000)!;
    expect(tail).toBeDefined();
    const zeroPa = tail.paddr + tail.filesz + 0x1000;
    const high = m.mem.banks.find((b) => b.name === 'highmem')!;
    const out = gdb(`x/2gx ${hex(zeroPa)}`, `x/2gx ${hex(0xffff_ffff_0000_0000n | BigInt(zeroPa))}`, `x/2gx ${hex(high.base + high.size - 16)}`);
    expect(words(out)).toEqual([0n, 0n, 0n, 0n, 0n, 0n]);
    expect(out).not.toMatch(/Cannot access memory/);
  });
});

describe.skipIf(!haveQemu)(`readCore reads QEMU's dump-guest-memory${haveQemu ? '' : ' (skipped: apt-get install qemu-system-misc)'}`, () => {
  it('two harts at the reset vector, the kernel in RAM where QEMU loaded it, the header fields we write', async () => {
    expect(why).toBe('');
    const firmware = await buildTarget('firmware');
    const fwFile = join(dir, 'firmware.elf');
    writeFileSync(fwFile, firmware.image!.elf);
    const qemuCore = join(dir, 'qemu.core');
    // -S: stopped before the first instruction; the monitor on stdin dumps the machine and quits.
    const q = spawnSync('qemu-system-riscv64', ['-M', 'virt', '-m', '128M', '-smp', '2', '-S', '-bios', fwFile, '-kernel', kernelFile,
      '-display', 'none', '-serial', 'null', '-monitor', 'stdio'], { input: `dump-guest-memory ${qemuCore}\nquit\n`, encoding: 'utf8', timeout: 60_000 });
    expect(q.status, q.stderr).toBe(0);
    const bytes = new Uint8Array(readFileSync(qemuCore));
    const theirs = readCore(bytes, qemuCore);
    expect(theirs.harts.map((h) => [h.id, h.pc])).toEqual([[0, 0x1000n], [1, 0x1000n]]);
    expect(theirs.harts[0]!.csrs).toEqual({});
    expect(theirs.vmcoreinfo).toBeUndefined();
    // The kernel's loaded segments, byte for byte, and the end of its 128 MiB.
    for (const seg of parseElf(readFileSync(kernelFile), 'kernel.elf').segments) {
      expect(Buffer.compare(theirs.readPhys(seg.paddr, seg.data.length), seg.data), hex(seg.paddr)).toBe(0);
    }
    expect(theirs.readPhys(0x8000_0000 + 128 * 1024 * 1024 - 8, 8)).toHaveLength(8);
    expect(() => theirs.readPhys(0x8000_0000 + 128 * 1024 * 1024, 8)).toThrow(/0x88000000 is not in the dump/);
    // The ELF header fields ours shares with QEMU's: class, data, OS ABI, e_type, e_machine, e_flags.
    const ours = readFileSync(coreFile).subarray(0, 64);
    const field = (b: Uint8Array, o: number, n: number): number[] => [...b.subarray(o, o + n)];
    for (const [o, n] of [[0, 8], [16, 4], [48, 4]] as const) expect(field(ours, o, n)).toEqual(field(bytes, o, n));
    // QEMU's program headers: one PT_NOTE, then PT_LOADs with p_paddr = p_vaddr = the physical address.
    expect(theirs.loads.map((l) => [hex(l.paddr), hex(l.vaddr)])).toEqual([['0x1000', '0x1000'], ['0x80000000', '0x80000000']]);
  });
});
