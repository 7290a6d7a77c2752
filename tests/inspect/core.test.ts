/**
 * ELF cores of a stopped machine (emulator/inspect/core.ts): the real kernel
 * boots to power-off, the machine is written as a core and read back; every
 * RAM byte, every hart's registers and CSRs and the VMCOREINFO block come
 * back as the live machine has them, and the buddyinfo inspector prints the
 * same text from the dump as from the live machine and as the guest itself.
 * All-zero stretches are left out of the file (never inside a loaded
 * image's file bytes) and still read back as zeros, with at most MAX_PHNUM
 * program headers however fragmented RAM is. Malformed files end in a
 * CoreError naming what and where.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { boot, guestImages } from '../kernel/images.js';
import { guestBlocks } from './reports.js';
import { parseElf, PT_LOAD } from '../../emulator/machine/elf.js';
import { Machine } from '../../emulator/machine/machine.js';
import { readVmcoreinfo, type ReadPhys } from '../../emulator/inspect/vmcoreinfo.js';
import { renderBuddyinfo } from '../../emulator/inspect/buddyinfo.js';
import {
  CoreError, KMEMLAB_CSRS, MAX_PHNUM, NT_KMEMLAB_CSRS, NT_PRSTATUS, PRSTATUS_SIZE, PT_NOTE, readCore, saveCore, writeCore,
} from '../../emulator/inspect/core.js';
import { CSR_NAMES, CSR_SATP } from '../../emulator/cpu/riscv/csr.js';

const MAX_INSNS = 400_000_000;
const MiB = 1024 * 1024;

const { kernel, firmware, missing } = await guestImages();

const dir = mkdtempSync(join(tmpdir(), 'kmemlab-core-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The guest's own /proc/buddyinfo (its one print, before power-off). */
function guestBuddyinfo(console: string): string {
  const prints = guestBlocks(console, 'buddyinfo');
  expect(prints.length, 'one "# cat /proc/buddyinfo" report').toBe(1);
  expect(prints[0]!.length).toBeGreaterThan(0);
  return prints[0]!;
}

/** The program headers of a core, as readelf shows them. */
function phdrs(bytes: Uint8Array): { type: number; offset: number; vaddr: bigint; paddr: number; filesz: number; memsz: number }[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = [];
  for (let i = 0; i < v.getUint16(56, true); i++) {
    const o = Number(v.getBigUint64(32, true)) + i * 56;
    out.push({
      type: v.getUint32(o, true), offset: Number(v.getBigUint64(o + 8, true)), vaddr: v.getBigUint64(o + 16, true),
      paddr: Number(v.getBigUint64(o + 24, true)), filesz: Number(v.getBigUint64(o + 32, true)), memsz: Number(v.getBigUint64(o + 40, true)),
    });
  }
  return out;
}

it('the kernel and our firmware build', () => {
  expect(missing).toBeUndefined();
});

describe.skipIf(missing !== undefined)('a booted machine saved as an ELF core and read back', () => {
  const elf = missing === undefined ? parseElf(kernel.image!.elf, 'kernel.elf') : undefined;
  const cases = [
    { harts: 4, dramSize: 64 * MiB, highmemSize: 32 * MiB, append: 'selftest=page_alloc report=buddyinfo' },
    { harts: 1, dramSize: 32 * MiB, highmemSize: 0, append: 'report=buddyinfo' },
  ];
  for (const c of cases) {
    it(`keeps RAM, registers, CSRs and VMCOREINFO (${c.harts} harts, ${c.dramSize / MiB} + ${c.highmemSize / MiB} MiB, ${c.append})`, () => {
      const r = boot({ kernel: kernel.image!.elf, bios: firmware.image!.elf, harts: c.harts, append: c.append, maxInsns: MAX_INSNS, dramSize: c.dramSize, highmemSize: c.highmemSize });
      expect(r.exit, r.console.slice(-2000)).toEqual({ kind: 'pass', code: 0, via: 'finisher' });
      const m = r.machine;
      const live: ReadPhys = (pa, len) => m.mem.readBytes(pa, len);

      const bytes = writeCore(m, { kernelSymbols: elf!.symbols });
      // Deterministic, and the same without naming the symbols (the machine's own images have them).
      expect(Buffer.compare(writeCore(m), bytes)).toBe(0);
      const file = join(dir, `dump-${c.harts}.core`);
      expect(saveCore(m, file)).toBe(bytes.length);
      expect(Buffer.compare(readFileSync(file), bytes)).toBe(0);
      // Zero stretches are left out: the file is much smaller than RAM.
      const ram = m.mem.banks.reduce((n, b) => n + b.size, 0);
      expect(bytes.length).toBeLessThan(ram / 2);

      const core = readCore(bytes, file);
      // Every RAM byte, bank by bank.
      for (const b of m.mem.banks) expect(Buffer.compare(core.readPhys(b.base, b.size), m.mem.readBytes(b.base, b.size)), b.name).toBe(0);
      // Reads across piece boundaries: the kernel image and the DTB at the top of low DRAM.
      expect(Buffer.compare(core.readPhys(0x8020_0000, 3 * MiB + 5), live(0x8020_0000, 3 * MiB + 5))).toBe(0);
      expect(Buffer.compare(core.readPhys(m.dtbAddr - 4096, m.dtb.length + 4096), live(m.dtbAddr - 4096, m.dtb.length + 4096))).toBe(0);

      // Registers and CSRs, hart by hart.
      expect(core.harts.map((h) => h.id)).toEqual(m.harts.map((h) => h.hartId));
      core.harts.forEach((h, i) => {
        const hart = m.harts[i]!;
        expect(h.pc).toBe(hart.pc);
        expect(h.regs).toEqual(Array.from({ length: 32 }, (_, k) => hart.getReg(k)));
        expect(h.csrs.priv).toBe(BigInt(hart.priv));
        for (const csr of KMEMLAB_CSRS) {
          const want = csr === CSR_SATP
            ? (BigInt(hart.satpMode) << 60n) | (BigInt(hart.satpAsid) << 44n) | BigInt(hart.satpPpn)
            : BigInt.asUintN(64, hart.csrRead(csr));
          expect(h.csrs[CSR_NAMES.get(csr)!], CSR_NAMES.get(csr)).toBe(want);
        }
        expect(h.csrs.mhartid).toBe(BigInt(hart.hartId));
      });
      // The kernel ran with paging on: the dump keeps its satp.
      expect(core.harts[0]!.csrs.satp! >> 60n).toBe(8n);

      // VMCOREINFO: the note equals the live block, and the dump finds the block itself too.
      const info = readVmcoreinfo(live, elf!.symbols);
      expect(core.vmcoreinfo).toBe(info.text);
      const fromDump = readVmcoreinfo(core.readPhys, elf!.symbols);
      expect(fromDump.text).toBe(info.text);

      // The buddyinfo inspector: the dump, the live machine and the guest agree.
      const host = renderBuddyinfo(live, info);
      expect(renderBuddyinfo(core.readPhys, fromDump)).toBe(host);
      expect(host).toBe(guestBuddyinfo(r.console));
      expect(host).toMatch(/^Node 0, zone      DMA /);

      // Outside RAM: a clear error naming the address.
      expect(() => core.readPhys(0x1000_0000, 8)).toThrow(/0x10000000 is not in the dump/);
      expect(() => core.readPhys(m.mem.banks[1]!.base + c.dramSize - 4, 8)).toThrow(CoreError);
    });
  }

  it('lays low DRAM out twice (physical and linear map) over the same file bytes', () => {
    const m = new Machine({ harts: 2, dramSize: 16 * MiB, highmemSize: 4 * MiB, kernel: { name: 'kernel.elf', bytes: kernel.image!.elf }, bios: { name: 'firmware', bytes: firmware.image!.elf } });
    const bytes = writeCore(m);
    const ph = phdrs(bytes);
    expect(ph[0]!.type).toBe(PT_NOTE);
    const loads = ph.filter((p) => p.type === PT_LOAD);
    // Ascending p_vaddr, every p_paddr physical.
    for (let i = 1; i < loads.length; i++) expect(loads[i]!.vaddr > loads[i - 1]!.vaddr).toBe(true);
    const ident = loads.filter((l) => l.vaddr === BigInt(l.paddr));
    const linear = loads.filter((l) => l.vaddr !== BigInt(l.paddr));
    expect(linear.every((l) => l.vaddr === (0xffff_ffff_0000_0000n | BigInt(l.paddr)) && l.paddr >= 0x8000_0000 && l.paddr < 0x1_0000_0000)).toBe(true);
    expect(linear.map((l) => [l.offset, l.filesz, l.memsz])).toEqual(ident.filter((l) => l.paddr >= 0x8000_0000 && l.paddr < 0x1_0000_0000).map((l) => [l.offset, l.filesz, l.memsz]));
    // The identity pieces tile each bank exactly.
    for (const b of m.mem.banks) {
      const mine = ident.filter((l) => l.paddr >= b.base && l.paddr < b.base + b.size);
      let at = b.base;
      for (const l of mine) { expect(l.paddr).toBe(at); at += l.memsz; }
      expect(at, b.name).toBe(b.base + b.size);
    }
    // Not booted: no VMCOREINFO yet, harts at the reset vector.
    const core = readCore(bytes, 'fresh.core');
    expect(core.vmcoreinfo).toBeUndefined();
    expect(core.harts.map((h) => [h.id, h.pc])).toEqual([[0, 0x1000n], [1, 0x1000n]]);
  });
});

describe('zero stretches', () => {
  const tiny = new Uint8Array([0x73, 0x00, 0x50, 0x10, 0x6f, 0x00, 0x00, 0x00]); // wfi; j .
  const fresh = (dramSize: number, highmemSize: number): Machine =>
    new Machine({ harts: 1, dramSize, highmemSize, bios: { name: 'tiny.bin', bytes: tiny } });

  it('are left out while every byte reads back, and headers stay within MAX_PHNUM however fragmented RAM is', () => {
    const m = fresh(64 * MiB, 16 * MiB);
    // A non-zero page every 17 pages: 16-page holes, each of which would cost two program headers.
    for (let pa = 0x8000_0000 + 4096; pa < 0x8000_0000 + 60 * MiB; pa += 17 * 4096) m.mem.writeBytes(pa + 123, new Uint8Array([pa & 0xff | 1]));
    m.mem.writeBytes(0x1_0000_0000 + 5 * MiB, new Uint8Array([7]));
    const bytes = writeCore(m);
    const ph = phdrs(bytes);
    expect(ph.length).toBeLessThanOrEqual(MAX_PHNUM);
    const core = readCore(bytes, 'frag.core');
    for (const b of m.mem.banks) expect(Buffer.compare(core.readPhys(b.base, b.size), m.mem.readBytes(b.base, b.size)), b.name).toBe(0);
    // Highmem: one page of data between two long zero runs.
    const high = ph.filter((p) => p.type === PT_LOAD && p.paddr >= 0x1_0000_0000);
    expect(high.map((p) => [p.paddr - 0x1_0000_0000, p.filesz, p.memsz])).toEqual([[0, 0, 5 * MiB], [5 * MiB, 4096, 11 * MiB]]);
    // The 16-page holes of low DRAM stay in (a hole of 32 pages is the smallest that fits), highmem's are out.
    expect(bytes.length).toBeGreaterThan(59 * MiB);
    expect(bytes.length).toBeLessThan(65 * MiB);
  });

  it('never within the file bytes of a loaded image (gdb would read the ELF there instead)', () => {
    // A machine that never ran: RAM holds the kernel's file bytes as loaded, zero runs included.
    const elf = parseElf(kernel.image?.elf ?? new Uint8Array(), 'kernel.elf');
    const m = new Machine({ harts: 1, dramSize: 16 * MiB, highmemSize: 0, kernel: { name: 'kernel.elf', bytes: kernel.image!.elf } });
    // Not vacuous: some segment's file bytes do hold such a run (the kernel's wasm data does).
    const zeroPages = (d: Uint8Array): number => {
      let run = 0;
      let best = 0;
      for (let o = 0; o + 4096 <= d.length; o += 4096) {
        run = d.subarray(o, o + 4096).every((x) => x === 0) ? run + 1 : 0;
        best = Math.max(best, run);
      }
      return best;
    };
    expect(Math.max(...elf.segments.map((s) => zeroPages(s.data)))).toBeGreaterThanOrEqual(32);
    const ph = phdrs(writeCore(m)).filter((p) => p.type === PT_LOAD && p.vaddr === BigInt(p.paddr));
    for (const seg of elf.segments.filter((s) => s.data.length > 0)) {
      const piece = ph.find((p) => p.paddr <= seg.paddr && seg.paddr < p.paddr + p.memsz)!;
      expect(piece.paddr + piece.filesz, `segment at 0x${seg.paddr.toString(16)}`).toBeGreaterThanOrEqual(seg.paddr + seg.data.length);
    }
  });
});

describe('readCore rejects malformed files with a CoreError naming what and where', () => {
  // A tiny valid core to damage: a machine that never ran, with a raw 8-byte firmware (wfi; j .).
  const tiny = new Uint8Array([0x73, 0x00, 0x50, 0x10, 0x6f, 0x00, 0x00, 0x00]);
  const m = new Machine({ harts: 1, dramSize: 4 * MiB, highmemSize: 0, bios: { name: 'tiny.bin', bytes: tiny } });
  const good = writeCore(m);
  const ph = phdrs(good);
  const noteAt = ph[0]!.offset;
  const lastLoad = ph.length - 1;
  const damaged = (f: (v: DataView, b: Uint8Array) => void): Uint8Array => {
    const b = good.slice();
    f(new DataView(b.buffer), b);
    return b;
  };
  const cases: [string, Uint8Array, RegExp][] = [
    ['an empty file', new Uint8Array(0), /bad\.core: not an ELF file/],
    ['not ELF', new TextEncoder().encode('#!/bin/sh\necho hello\n'), /not an ELF file/],
    ['truncated in the ELF header', good.subarray(0, 40), /truncated: the ELF header at offset 0x0 needs 64 bytes, the file has 40/],
    ['truncated in the program headers', good.subarray(0, 64 + 56 + 10), /truncated: the \d+ program headers at offset 0x40/],
    ['ELFCLASS32', damaged((_, b) => { b[4] = 1; }), /not a 64-bit ELF file/],
    ['big-endian', damaged((_, b) => { b[5] = 2; }), /not a little-endian ELF file/],
    ['an executable, not a core', damaged((v) => v.setUint16(16, 2, true)), /not a core file \(e_type 2/],
    ['x86-64', damaged((v) => v.setUint16(18, 62, true)), /not a RISC-V core \(e_machine 62/],
    ['a wrong e_phentsize', damaged((v) => v.setUint16(54, 32, true)), /e_phentsize is 32/],
    ['a PT_LOAD past the end of the file', damaged((v) => v.setBigUint64(64 + lastLoad * 56 + 32, BigInt(good.length), true)), /PT_LOAD \(program header \d+, paddr 0x[0-9a-f]+\) at offset 0x[0-9a-f]+ \+ 0x[0-9a-f]+ runs past the end of the file/],
    ['a whole file cut short inside RAM', good.subarray(0, good.length - 4096), /PT_LOAD .* runs past the end of the file/],
    ['p_filesz > p_memsz', damaged((v) => v.setBigUint64(64 + lastLoad * 56 + 40, 0n, true)), /p_filesz 0x[0-9a-f]+ > p_memsz 0x0/],
    ['a PT_NOTE past the end of the file', damaged((v) => v.setBigUint64(64 + 32, BigInt(good.length), true)), /PT_NOTE \(program header 0\) .* runs past the end of the file/],
    ['a note running past its segment', damaged((v) => v.setUint32(noteAt + 4, 0x10000, true)), /note 0 of PT_NOTE \(program header 0\) at offset 0x[0-9a-f]+: name \(5 bytes\) and desc \(65536 bytes\) run past the segment's end/],
    ['a note header cut by its segment', damaged((v) => v.setBigUint64(64 + 32, BigInt(PRSTATUS_SIZE + 20 + 4), true)), /note 1 of PT_NOTE .*: its 12-byte header runs past the segment's end/],
    ['an NT_PRSTATUS of the wrong size', damaged((v) => { v.setUint32(noteAt + 4, 200, true); }), /NT_PRSTATUS is 200 bytes, riscv64's struct elf_prstatus is 376/],
    ['an absurd p_offset', damaged((v) => v.setBigUint64(64 + lastLoad * 56 + 8, 1n << 60n, true)), /p_offset is absurd/],
  ];
  for (const [what, bytes, msg] of cases) {
    it(what, () => {
      let err: unknown;
      try { readCore(bytes, 'bad.core'); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(CoreError);
      expect((err as Error).message).toMatch(/^bad\.core: /);
      expect((err as Error).message).toMatch(msg);
    });
  }

  it("reads gABI extended numbering (e_phnum = PN_XNUM, the count in section header 0's sh_info)", () => {
    const b = new Uint8Array(good.length + 64);
    b.set(good);
    const v = new DataView(b.buffer);
    v.setBigUint64(40, BigInt(good.length), true); // e_shoff
    v.setUint16(56, 0xffff, true);
    v.setUint32(good.length + 44, ph.length, true);
    const core = readCore(b, 'xnum.core');
    expect(core.loads).toEqual(readCore(good, 'good.core').loads);
    v.setBigUint64(40, BigInt(b.length), true);
    expect(() => readCore(b, 'bad.core')).toThrow(/truncated: section header 0 \(e_phnum is PN_XNUM\)/);
  });

  it('the undamaged file reads, with its note types where the header says', () => {
    const core = readCore(good, 'good.core');
    expect(core.harts).toHaveLength(1);
    const v = new DataView(good.buffer);
    expect(v.getUint32(noteAt + 8, true)).toBe(NT_PRSTATUS);
    expect(v.getUint32(noteAt + 12 + 8 + PRSTATUS_SIZE + 8, true)).toBe(NT_KMEMLAB_CSRS);
    expect(() => core.readPhys(0x8000_0000 + 4 * MiB, 1)).toThrow(/^good\.core: physical address 0x80400000 is not in the dump/);
  });
});
