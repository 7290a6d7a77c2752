/**
 * The linker, the ELF writer and the stubs of the three image kinds.
 *
 * Most cases feed linkImage a hand-written "translation" (assembly labelled
 * f1, f2 … like the code generator's functions) so that the stubs are tested
 * on their own: entry, stacks, the trap entries and their frames, the
 * failure reports. The last block compiles real AssemblyScript through asc
 * and the translator and checks the line table against the source.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseElf, PF_R, PF_W, PF_X } from '../../emulator/machine/elf.js';
import { Machine } from '../../emulator/machine/machine.js';
import { buildBareProgram } from '../../toolchain/build.js';
import {
  BARE_MEMORY_BASE, FIRMWARE_MEMORY_BASE, KERNEL_MEMORY_BASE, LinkError, linkImage, splitSections,
} from '../../toolchain/link.js';
import {
  SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHT_NOBITS, SHT_PROGBITS, decodeLineTable, encodeLineTable, lineAt, readLineTable,
  readSection, writeElf, type LineEntry,
} from '../../toolchain/elf_writer.js';
import { FRAME_RECORD, FRAME_SIZE } from '../../toolchain/stubs/common.js';
import { KERNEL_STACK_SIZE } from '../../toolchain/stubs/kernel.js';
import { FW_SCRATCH_SIZE, FW_STACK_SIZE } from '../../toolchain/stubs/firmware.js';
import { assemble } from '../../toolchain/asm.js';
import { ascString, fakeModule, fakeTranslation, helloExpected, runImages } from './link_helpers.js';

const KVA = 0xffff_ffff_0000_0000n;
const ROOT = join(__dirname, '../..');

// --- bare ---------------------------------------------------------------------------------------

/** main (f1) calls add (f2) on 20 and 22, prints "hi" and returns the sum. */
const BARE_TEXT = `
    .text
f1:
    addi sp, sp, -16
    sd ra, 8(sp)
    sd s0, 0(sp)
    addi s0, sp, 16
    .mark 100
    li a0, 'h'
    call __con_putc
    li a0, 'i'
    call __con_putc
    li a0, 10
    call __con_putc
    li a0, 20
    li a1, 22
    .mark 104
    call f2
    .mark 110
    la t0, g0
    ld t1, 0(t0)
    add a0, a0, t1
    ld ra, 8(sp)
    ld s0, 0(sp)
    addi sp, sp, 16
    ret
f2:
    .mark 120
    addw a0, a0, a1
    .mark 121
    ret
    .section .rodata
table: .dword f1, f2
    .data
g0: .dword -1
`;

describe('bare images', () => {
  const mod = fakeModule([{ name: 'prog/main', results: ['i32'], export: 'main' }, { name: 'prog/add', params: ['i32', 'i32'], results: ['i32'] }]);

  it('run main, store its result in __result and power off with exit code 0', () => {
    const img = linkImage(mod, fakeTranslation(BARE_TEXT, 2), { kind: 'bare' });
    const r = runImages({ kernel: { name: 'bare.elf', bytes: img.elf } }, { harts: 2 });
    expect(r.output).toBe('hi\n');
    expect(r.exit).toMatchObject({ kind: 'pass' });
    expect(r.read(img.symbols.get('__result')!)).toBe(41n);
  });

  it('are ELF64 RISC-V executables our reader loads: entry, segments with permissions, symbols', () => {
    const data = [{ addr: BARE_MEMORY_BASE + 8, bytes: Uint8Array.of(1, 2, 3) }, { addr: BARE_MEMORY_BASE + 11, bytes: Uint8Array.of(4) }];
    const img = linkImage(fakeModule(mod.funcs.map((f, i) => ({ name: f.name, params: f.type.params, results: f.type.results, export: i === 0 ? 'main' : undefined })), { memoryPages: (BARE_MEMORY_BASE >>> 16) + 2 }),
      fakeTranslation(BARE_TEXT, 2, data), { kind: 'bare' });
    const elf = parseElf(img.elf, 'bare.elf');
    expect(elf.entry).toBe(0x8000_0000n);
    expect(img.entry).toBe(0x8000_0000n);
    const perms = elf.segments.map((s) => [s.paddr, s.flags]);
    expect(perms[0]).toEqual([0x8000_0000, PF_R | PF_X]);
    expect(perms.slice(1).map((p) => p[1])).toEqual([PF_R, PF_R | PF_W, PF_R | PF_W]);
    const wasm = elf.segments[3]!;
    expect(wasm.paddr).toBe(BARE_MEMORY_BASE); // from --memoryBase on
    expect([...wasm.data]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
    expect(wasm.memsz).toBe(0x2_0000); // with the heap, up to the initial memory
    // Segments are page-congruent and do not overlap (planLoad would refuse otherwise).
    for (const s of elf.segments) expect(Number(s.vaddr) % 4096).toBe(s.paddr % 4096);
    // One symbol per wasm function, named from the name section; the stub's; boundaries.
    expect(elf.symbols.get('prog/main')).toBe(img.symbols.get('f1'));
    expect(elf.symbols.get('prog/add')).toBe(img.symbols.get('f2'));
    expect(elf.symbols.get('_start')).toBe(0x8000_0000n);
    for (const name of ['tohost', 'fromhost', '__result', '__data_end', '__heap_base', '__heap_end', '_etext', '__bss_stop', '_end']) {
      expect(elf.symbols.has(name), name).toBe(true);
    }
    expect(elf.symbols.get('__data_end')).toBe(BigInt(BARE_MEMORY_BASE + 12));
    expect(elf.symbols.get('__heap_base')).toBe(BigInt(BARE_MEMORY_BASE + 16));
  });

  it('run the same with compressed instructions (e_flags says RVC)', () => {
    const img = linkImage(mod, fakeTranslation(BARE_TEXT, 2), { kind: 'bare', compress: true });
    const plain = linkImage(mod, fakeTranslation(BARE_TEXT, 2), { kind: 'bare' });
    expect(img.regions[0]!.end - img.regions[0]!.start).toBeLessThan(plain.regions[0]!.end - plain.regions[0]!.start);
    const r = runImages({ kernel: { name: 'rvc.elf', bytes: img.elf } });
    expect(r.output).toBe('hi\n');
    expect(r.read(img.symbols.get('__result')!)).toBe(41n);
  });

  it('report an M-mode trap with mcause, mepc and mtval and exit code 3', () => {
    const text = `f1:\n    li t0, 0x40000000\n    ld t1, 8(t0)\n    ret\n`;
    const img = linkImage(mod, fakeTranslation(text, 2), { kind: 'bare' });
    const r = runImages({ kernel: { name: 'trap.elf', bytes: img.elf } });
    const pc = img.symbols.get('f1')! + 4n;
    expect(r.output).toBe(`trap: mcause=0x0000000000000005 mepc=0x${pc.toString(16).padStart(16, '0')} mtval=0x0000000040000008\n`);
    expect(r.exit).toMatchObject({ kind: 'fail', code: 3 });
  });

  it('report a wasm trap with its reason and exit code 4', () => {
    const text = `f1:\n    la a0, reason\n    call __wasm_trap\n    .section .rodata\nreason: .asciz "integer divide by zero in prog/main"\n`;
    const img = linkImage(mod, fakeTranslation(text, 2), { kind: 'bare' });
    const r = runImages({ kernel: { name: 'wtrap.elf', bytes: img.elf } });
    expect(r.output).toBe('wasm trap: integer divide by zero in prog/main\n');
    expect(r.exit).toMatchObject({ kind: 'fail', code: 4 });
  });

  it('report abort(message, file, line, column) from the UTF-16 strings and exit code 5', () => {
    const msg = ascString('boom');
    const file = ascString('prog.ts');
    const blob = new Uint8Array(64);
    blob.set(msg.header, 0);
    blob.set(file.header, 32);
    const m = BARE_MEMORY_BASE + msg.ptrOffset;
    const f = BARE_MEMORY_BASE + 32 + file.ptrOffset;
    // Pointers arrive as wasm i32 values: sign-extended in the register.
    const text = `f1:\n    li a0, ${m | 0}\n    li a1, ${f | 0}\n    li a2, 12\n    li a3, 5\n    call __wasm_abort\n`;
    const img = linkImage(mod, fakeTranslation(text, 2, [{ addr: BARE_MEMORY_BASE, bytes: blob }]), { kind: 'bare' });
    const r = runImages({ kernel: { name: 'abort.elf', bytes: img.elf } });
    expect(r.output).toBe('abort: boom at prog.ts:12:5\n');
    expect(r.exit).toMatchObject({ kind: 'fail', code: 5 });
  });

  it('call the wasm start function before the entry export', () => {
    const m2 = fakeModule([{ name: 'main', results: ['i64'], export: 'main' }, { name: '~start' }], { start: 2 });
    const text = `f1:\n    la t0, g\n    ld a0, 0(t0)\n    ret\nf2:\n    la t0, g\n    li t1, -5\n    sd t1, 0(t0)\n    ret\n    .data\ng: .dword 0\n`;
    const img = linkImage(m2, fakeTranslation(text, 2), { kind: 'bare' });
    const r = runImages({ kernel: { name: 'start.elf', bytes: img.elf } });
    expect(r.read(img.symbols.get('__result')!)).toBe(BigInt.asUintN(64, -5n));
  });

  it('refuse modules without the entry export, and undefined externs, with one clear line', () => {
    expect(() => linkImage(mod, fakeTranslation(BARE_TEXT, 2), { kind: 'bare', entryExport: 'run' })).toThrow(/exports no function 'run'/);
    const tr = { ...fakeTranslation(BARE_TEXT, 2), externs: ['__wasm_memcpy'] };
    expect(() => linkImage(mod, tr, { kind: 'bare' })).toThrow(LinkError);
    expect(() => linkImage(mod, tr, { kind: 'bare' })).toThrow(/needs '__wasm_memcpy'/);
  });

  it('refuse code that runs into the wasm data', () => {
    // Data linked (asc --memoryBase) where the code and stacks are.
    expect(() => linkImage(mod, fakeTranslation(BARE_TEXT, 2, [{ addr: 0x8000_2000, bytes: Uint8Array.of(1) }]), { kind: 'bare' }))
      .toThrow(/code and stacks \[0x80000000, 0x80[0-9a-f]+\) run into the wasm data at 0x80002000/);
  });
});

// --- the ELF writer on its own -------------------------------------------------------------------

describe('writeElf', () => {
  const text = { name: '.text', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, addr: 0x8000_0000n, data: new Uint8Array(16), align: 4 };

  it('refuses overlapping sections, unknown section names and NOBITS in the middle of a segment', () => {
    const other = { name: '.data', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_WRITE, addr: 0x8000_0008n, data: new Uint8Array(8), align: 8 };
    expect(() => writeElf({ entry: 0n, sections: [text, other], segments: [], symbols: [] })).toThrow(/\.data at 0x80000008 overlaps \.text/);
    expect(() => writeElf({ entry: 0n, sections: [text], segments: [{ flags: 5, sections: ['.text', '.nope'] }], symbols: [] })).toThrow(/\.nope/);
    expect(() => writeElf({ entry: 0n, sections: [text], segments: [], symbols: [{ name: 'x', value: 0n, section: '.nope' }] })).toThrow(/\.nope/);
    const bss = { name: '.bss', type: SHT_NOBITS, flags: SHF_ALLOC | SHF_WRITE, addr: 0x8000_0010n, size: 16, align: 8 };
    const after = { ...other, addr: 0x8000_0020n };
    expect(() => writeElf({ entry: 0n, sections: [text, bss, after], segments: [{ flags: 7, sections: ['.text', '.bss', '.data'] }], symbols: [] }))
      .toThrow(/follows a SHT_NOBITS/);
  });

  it('lays segments out page-congruent, with gaps between sections zero-filled and .bss in memsz only', () => {
    const data = { name: '.data', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_WRITE, addr: 0x8000_0040n, data: Uint8Array.of(9, 9), align: 8 };
    const bss = { name: '.bss', type: SHT_NOBITS, flags: SHF_ALLOC | SHF_WRITE, addr: 0x8000_0100n, size: 0x100, align: 8 };
    const f = writeElf({
      entry: 0x8000_0000n, sections: [{ ...text, data: Uint8Array.of(1, 2, 3, 4) }, data, bss],
      segments: [{ flags: PF_R | PF_X, sections: ['.text', '.data', '.bss'], paddr: 0x1000n }],
      symbols: [{ name: 'g', value: 0x8000_0040n, size: 2, type: 'object', section: '.data' }, { name: 'l', value: 1n, bind: 'local' }],
    });
    const e = parseElf(f, 'w.elf');
    expect(e.segments).toHaveLength(1);
    expect(e.segments[0]).toMatchObject({ paddr: 0x1000, vaddr: 0x8000_0000n, memsz: 0x200 });
    expect([...e.segments[0]!.data]).toEqual([1, 2, 3, 4, ...new Array(0x3c).fill(0), 9, 9]);
    expect(e.symbols).toEqual(new Map([['l', 1n], ['g', 0x8000_0040n]]));
  });
});

// --- splitting sections ---------------------------------------------------------------------------

describe('splitSections', () => {
  it('groups lines by section, keeping labels before a directive in the section they end', () => {
    const p = splitSections('a: nop\n .section .rodata\nb: .byte 1\nc: .data\n.word 2\n .text\n ret\n .section .bss.x\n .skip 8', 'x');
    expect(p.text.map((l) => l.trim())).toEqual(['a: nop', 'ret']);
    expect(p.rodata.map((l) => l.trim())).toEqual(['b: .byte 1', 'c:']);
    expect(p.data.map((l) => l.trim())).toEqual(['.word 2']);
    expect(p.bss.map((l) => l.trim())).toEqual(['.skip 8']);
  });

  it('refuses unknown sections and directives hidden behind a ;', () => {
    expect(() => splitSections(' .section .weird', 'x')).toThrow(/unknown section/);
    expect(() => splitSections(' nop; .data', 'x')).toThrow(/own line/);
  });
});

// --- firmware -------------------------------------------------------------------------------------

/**
 * fw_main (f1): every hart counts itself in; hart 0 waits for all, then
 * `ecall`s from M-mode (fw_trap rewrites frame.a0 and steps mepc), then drops
 * to S-mode code that `ecall`s with sp = 0x5151 (fw_trap records the frame
 * and powers off). fw_trap (f2) keeps its findings in `seen`.
 */
const FW_TEXT = (harts: number) => `
f1:                               # fw_main(hartid, dtb)
    la t0, count
    li t1, 1
    amoadd.w zero, t1, (t0)
    la t0, args
    slli t1, a0, 4
    add t0, t0, t1
    sd a0, 0(t0)
    sd a1, 8(t0)
    bnez a0, 9f
1:  la t0, count
    lw t1, 0(t0)
    li t2, ${harts}
    bne t1, t2, 1b
    li a0, 0x77
    ecall                         # to fw_trap from M-mode
    la t0, seen
    sd a0, 0(t0)                  # a0 as fw_trap left it in the frame
    la t0, s_code
    csrw mepc, t0
    li t0, 0x1800
    csrc mstatus, t0
    li t0, 0x800                  # MPP = S
    csrs mstatus, t0
    li t0, -1
    csrw pmpaddr0, t0
    li t0, 0x1f
    csrw pmpcfg0, t0
    mret
9:  wfi
    j 9b
s_code:
    li sp, 0x5151
    li a0, 0x42
    ecall
1:  j 1b

f2:                               # fw_trap(frame)
    slli a0, a0, 32               # the frame pointer is a wasm i32: zero-extend it, as zext code does
    srli a0, a0, 32
    csrr t0, mcause
    li t1, 11
    bne t0, t1, 2f
    ld t1, 80(a0)                 # frame a0
    la t2, seen
    sd t1, 8(t2)
    li t1, 0x99
    sd t1, 80(a0)
    ld t1, 0(a0)
    addi t1, t1, 4
    sd t1, 0(a0)                  # step past the ecall through the frame
    csrw mepc, zero               # the live CSR does not matter: the exit restores it from the frame
    sd a0, 16(t2)                 # where the M-mode frame was
    sd sp, 24(t2)
    ret
2:  la t2, seen
    sd t0, 32(t2)                 # mcause
    ld t1, 80(a0)
    sd t1, 40(t2)                 # frame a0
    ld t1, 16(a0)
    sd t1, 48(t2)                 # frame sp
    sd a0, 56(t2)                 # frame address
    csrr t1, mscratch
    sd t1, 64(t2)
    ld t1, 0(a0)
    sd t1, 72(t2)                 # frame epc
    li t0, 0x100000
    li t1, 0x5555
    sw t1, 0(t0)
1:  j 1b
    .data
count: .word 0
    .balign 8
args: .skip 16 * ${harts}
seen: .skip 80
`;

describe('firmware images', () => {
  const mod = fakeModule([
    { name: 'fw/fw_main', params: ['i32', 'i32'], export: 'fw_main' },
    { name: 'fw/fw_trap', params: ['i32'], export: 'fw_trap' },
  ], { memoryPages: 0x8010 });

  it('give every hart its stack and fw_main(hartid, dtb); the trap entry saves a frame from M and from S', () => {
    const harts = 3;
    const img = linkImage(mod, fakeTranslation(FW_TEXT(harts), 2, [{ addr: FIRMWARE_MEMORY_BASE, bytes: Uint8Array.of(7) }]), { kind: 'firmware' });
    const r = runImages({ bios: { name: 'fw.elf', bytes: img.elf } }, { harts });
    expect(r.exit).toMatchObject({ kind: 'pass' });
    const args = img.symbols.get('args')!;
    for (let h = 0; h < harts; h++) {
      expect(r.read(args + BigInt(16 * h))).toBe(BigInt(h));
      // An i32 argument arrives sign-extended; zext code uses its low 32 bits.
      expect(r.read(args + BigInt(16 * h + 8))).toBe(BigInt.asUintN(64, BigInt(r.machine.dtbAddr | 0)));
    }
    const seen = img.symbols.get('seen')!;
    const at = (i: number): bigint => r.read(seen + BigInt(8 * i));
    // From M-mode: frame a0 = 0x77, rewritten to 0x99 and restored; the frame lies just below the interrupted sp.
    expect(at(1)).toBe(0x77n);
    expect(at(0)).toBe(0x99n);
    const stacks = img.symbols.get('__fw_stacks')!;
    const scratch0 = stacks + BigInt(FW_STACK_SIZE - FW_SCRATCH_SIZE);
    expect(at(2)).toBe(scratch0 - BigInt(FRAME_SIZE)); // fw_main pushed nothing: its sp was the stack top
    expect(at(3)).toBe(at(2));                          // fw_trap runs on the stack below its frame
    // From S-mode: cause 9, the frame just below hart 0's scratch area, sp and a0 of S-mode, epc of the ecall.
    expect(at(4)).toBe(9n);
    expect(at(5)).toBe(0x42n);
    expect(at(6)).toBe(0x5151n);
    expect(at(7)).toBe(scratch0 - BigInt(FRAME_SIZE));
    expect(at(8)).toBe(scratch0);
    expect(at(9)).toBe(img.symbols.get('s_code')! + 12n);
  });

  it('must stay below the kernel (0x8020_0000)', () => {
    const m = fakeModule(mod.funcs.map((f) => ({ name: f.name, params: f.type.params, export: f.name.slice(3) })), { memoryPages: 0x8021 });
    expect(() => linkImage(m, fakeTranslation(FW_TEXT(1), 2, [{ addr: FIRMWARE_MEMORY_BASE, bytes: Uint8Array.of(7) }]), { kind: 'firmware' }))
      .toThrow(/beyond its limit 0x80200000/);
  });

  it('need fw_main and fw_trap with the right types', () => {
    const m = fakeModule([{ name: 'x', params: ['i32', 'i32'], export: 'fw_main' }]);
    expect(() => linkImage(m, fakeTranslation('f1: ret', 1), { kind: 'firmware' })).toThrow(/exports no function 'fw_trap'/);
    const m2 = fakeModule([{ name: 'x', params: ['i32'], export: 'fw_main' }, { name: 'y', params: ['i32'], export: 'fw_trap' }]);
    expect(() => linkImage(m2, fakeTranslation('f1: ret\nf2: ret', 2), { kind: 'firmware' })).toThrow(/expected fw_main\(hartid: u32, dtb: usize\)/);
  });
});

// --- kernel ---------------------------------------------------------------------------------------

/**
 * A minimal M-mode firmware for the kernel tests (raw, at 0x8000_0000): every
 * hart opens PMP, delegates breakpoints to S, and enters 0x8020_0000 in
 * S-mode with a0 = hartid, a1 = DTB (hart 1 and up a little later, with
 * a1 = 0x0badc0de as HSM's opaque). It serves the legacy putchar (EID 1)
 * and SRST (shutdown: 0x5555, or 0x3333 | 1<<16 for "system failure").
 */
function miniSbi(): Uint8Array {
  return assemble(`
_start:
    csrr t0, mhartid
    li t1, -1
    csrw pmpaddr0, t1
    li t1, 0x1f
    csrw pmpcfg0, t1
    li t1, 1 << 3
    csrw medeleg, t1
    la t1, mtrap
    csrw mtvec, t1
    beqz t0, 2f
    li t1, 20000
1:  addi t1, t1, -1
    bnez t1, 1b
    li a1, 0x0badc0de
2:  li t1, 0x80200000
    csrw mepc, t1
    li t1, 0x1800
    csrc mstatus, t1
    li t1, 0x800
    csrs mstatus, t1
    mret
    .balign 4
mtrap:
    li t0, 1
    bne a7, t0, 1f
    li t0, 0x10000000
    sb a0, 0(t0)
    j 3f
1:  li t0, 0x53525354
    bne a7, t0, 3f
    li t0, 0x100000
    li t1, 0x5555
    beqz a1, 2f
    li t1, 0x13333
2:  sw t1, 0(t0)
3:  csrr t0, mepc
    addi t0, t0, 4
    csrw mepc, t0
    mret
`, { base: 0x8000_0000 }).bytes;
}

/**
 * kernel_main (f1): records where it runs, its arguments and tp, runs an
 * ebreak (kernel_trap (f2) records the frame, sets a0 = 0x77 and steps the
 * epc in the frame), waits for hart 1's kernel_secondary (f3) and returns 0.
 */
const KERNEL_TEXT = `
f1:
    la t0, seen
    auipc t1, 0
    sd t1, 0(t0)                  # where kernel_main runs
    sd a0, 8(t0)
    sd a1, 16(t0)
    sd tp, 24(t0)
    sd sp, 32(t0)
    li s5, 0x5555
    li a0, 1
    ebreak
    sd a0, 40(t0)                 # 0x77 from the handler
1:  ld t1, 88(t0)                 # kernel_secondary's hart id + 1
    beqz t1, 1b
    li a0, 0
    ret

f2:                               # kernel_trap(frame)
    la t0, seen
    sd a0, 48(t0)                 # frame address
    ld t1, 168(a0)                # s5 = x21
    sd t1, 56(t0)
    ld t1, 272(a0)                # scause
    sd t1, 64(t0)
    ld t1, 0(a0)                  # sepc
    sd t1, 72(t0)
    ld t1, ${FRAME_RECORD + 8}(a0)
    sd t1, 80(t0)
    addi t1, t1, 4
    sd t1, 0(a0)                  # resume after the ebreak
    li t1, 0x77
    sd t1, 80(a0)                 # a0
    ret

f3:                               # kernel_secondary(hartid, opaque)
    la t0, seen
    sd a1, 96(t0)
    sd sp, 104(t0)
    addi a0, a0, 1
    sd a0, 88(t0)
1:  wfi
    j 1b
    .data
seen: .skip 112
`;

describe('kernel images', () => {
  const mod = fakeModule([
    { name: 'kernel/kernel_main', params: ['i32', 'i32'], results: ['i32'], export: 'kernel_main' },
    { name: 'kernel/kernel_trap', params: ['i32'], export: 'kernel_trap' },
    { name: 'kernel/kernel_secondary', params: ['i32', 'i32'], export: 'kernel_secondary' },
  ], { memoryPages: 0x8061 });

  it('load at 0x8020_0000, run at 0xFFFF_FFFF_8020_0000 with Sv39 on, per-hart stacks, traps through kernel_trap', () => {
    const data = [{ addr: KERNEL_MEMORY_BASE, bytes: Uint8Array.of(1, 2, 3, 4) }];
    const img = linkImage(mod, fakeTranslation(KERNEL_TEXT, 3, data), { kind: 'kernel' });
    expect(img.entry).toBe(0x8020_0000n);
    expect(img.symbols.get('_start')).toBe(KVA + 0x8020_0000n);
    const elf = parseElf(img.elf, 'kernel.elf');
    expect(elf.entry).toBe(0x8020_0000n);
    expect(elf.segments[0]).toMatchObject({ paddr: 0x8020_0000, vaddr: KVA + 0x8020_0000n });
    expect(elf.segments[3]).toMatchObject({ paddr: KERNEL_MEMORY_BASE, vaddr: KVA + BigInt(KERNEL_MEMORY_BASE) });
    expect(img.symbols.get('__heap_end')).toBe(KVA + 0x8061_0000n);
    expect(img.symbols.get('_end')).toBe(KVA + 0x8061_0000n);

    const r = runImages({ bios: { name: 'sbi.bin', bytes: miniSbi() }, kernel: { name: 'kernel.elf', bytes: img.elf } }, { harts: 2 });
    expect(r.exit).toMatchObject({ kind: 'pass' });
    const seen = img.symbols.get('seen')! - KVA;
    const at = (i: number): bigint => r.read(seen + BigInt(8 * i));
    const stacks = img.symbols.get('__kernel_stacks')!;
    expect(at(0)).toBe(img.symbols.get('f1')! + 8n);        // virtual pc
    expect(at(1)).toBe(0n);                                   // hart id
    expect(at(2)).toBe(KVA + BigInt(r.machine.dtbAddr));      // dtb: u32 sign-extended = its linear-map address
    expect(at(3)).toBe(0n);                                   // tp = hart id
    expect(at(4)).toBe(stacks + BigInt(KERNEL_STACK_SIZE));   // sp at the top of hart 0's stack
    expect(at(5)).toBe(0x77n);                                // a0 rewritten in the frame
    expect(at(6)).toBe(at(4) - BigInt(FRAME_SIZE));           // frame below the interrupted sp
    expect(at(7)).toBe(0x5555n);                              // s5 saved
    expect(at(8)).toBe(3n);                                   // scause = breakpoint
    expect(at(9)).toBe(img.symbols.get('f1')! + 44n);         // sepc = the ebreak
    expect(at(10)).toBe(at(9));                               // the frame record holds the epc
    expect(at(11)).toBe(2n);                                  // hart 1 ran kernel_secondary
    expect(at(12)).toBe(0x0badc0den);                         // with its opaque value
    expect(at(13)).toBe(stacks + 2n * BigInt(KERNEL_STACK_SIZE));
    // The early page table: identity and linear-map gigapages, RWX G A D.
    const pgd = img.symbols.get('early_pg_dir')! - KVA;
    expect(r.read(pgd + 16n)).toBe(0x2000_00efn);
    expect(r.read(pgd + 8n * 510n)).toBe(0x2000_00efn);
  });

  it('shut down with "system failure" when kernel_main returns non-zero', () => {
    const text = KERNEL_TEXT.replace('    li a0, 0\n    ret\n\nf2:', '    li a0, 3\n    ret\n\nf2:');
    const img = linkImage(mod, fakeTranslation(text, 3), { kind: 'kernel' });
    const r = runImages({ bios: { name: 'sbi.bin', bytes: miniSbi() }, kernel: { name: 'kernel.elf', bytes: img.elf } }, { harts: 2 });
    expect(r.exit).toMatchObject({ kind: 'fail', code: 1 });
  });

  it('hand wasm traps and aborts to kernel_wasm_trap / kernel_abort when the kernel exports them', () => {
    const hooked = fakeModule([
      ...mod.funcs.map((f) => ({ name: f.name, params: f.type.params, results: f.type.results, export: f.name.slice(7) })),
      { name: 'kernel/kernel_wasm_trap', params: ['i32'], export: 'kernel_wasm_trap' },
    ], { memoryPages: 0x8061 });
    const text = `f1:\n    la a0, why\n    call __wasm_trap\nf2: ret\nf3: ret\nf4:\n    la t0, got\n    sd a0, 0(t0)\n    li a0, 9\n    j __kernel_shutdown\n` +
      `    .section .rodata\nwhy: .asciz "unreachable"\n    .data\ngot: .dword 0\n`;
    const img = linkImage(hooked, fakeTranslation(text, 4), { kind: 'kernel' });
    const r = runImages({ bios: { name: 'sbi.bin', bytes: miniSbi() }, kernel: { name: 'kernel.elf', bytes: img.elf } }, { harts: 1 });
    expect(r.output).toBe('');
    expect(r.read(img.symbols.get('got')! - KVA)).toBe(img.symbols.get('why')!); // the reason's address, as a kernel pointer
    const bad = fakeModule([...hooked.funcs.map((f) => ({ name: f.name, params: f.type.params, results: f.type.results, export: f.name.slice(7) })),
      { name: 'kernel/kernel_abort', params: ['i32'], export: 'kernel_abort' }]);
    expect(() => linkImage(bad, fakeTranslation(text, 5), { kind: 'kernel' })).toThrow(/expected kernel_abort\(message: usize, file: usize, line: u32, column: u32\)/);
  });

  it('print wasm traps through SBI', () => {
    const text = `f1:\n    la a0, why\n    call __wasm_trap\nf2: ret\nf3: ret\n    .section .rodata\nwhy: .asciz "unreachable in kernel_main"\n`;
    const img = linkImage(mod, fakeTranslation(text, 3), { kind: 'kernel' });
    const r = runImages({ bios: { name: 'sbi.bin', bytes: miniSbi() }, kernel: { name: 'kernel.elf', bytes: img.elf } }, { harts: 1 });
    expect(r.output).toBe('wasm trap: unreachable in kernel_main\n');
    expect(r.exit).toMatchObject({ kind: 'fail', code: 1 });
  });
});

// --- the line table -----------------------------------------------------------------------------

describe('the line table', () => {
  const entries: LineEntry[] = [
    { addr: 0x8000_0010n, wasmOffset: 40, source: 'a.ts', line: 3, column: 2 },
    { addr: 0x8000_0000n, wasmOffset: 30, source: 'a.ts', line: 2, column: 0 },
    { addr: 0x8000_0010n, wasmOffset: 41, source: 'b.ts', line: 9, column: 4 },
    { addr: 0x8000_0020n, wasmOffset: 50 },
  ];

  it('round-trips through its binary format, sorted by address', () => {
    const back = decodeLineTable(encodeLineTable(entries));
    expect(back).toEqual([entries[1], entries[0], entries[2], entries[3]]);
  });

  it('finds the entry covering a pc', () => {
    const sorted = decodeLineTable(encodeLineTable(entries));
    expect(lineAt(sorted, 0x7fff_ffffn)).toBeUndefined();
    expect(lineAt(sorted, 0x8000_000cn)?.line).toBe(2);
    expect(lineAt(sorted, 0x8000_0010n)?.source).toBe('b.ts');
    expect(lineAt(sorted, 0x8000_0024n)?.wasmOffset).toBe(50);
  });

  it('comes from the .mark directives of the translation and the source map, in the ELF', () => {
    const mod = fakeModule([{ name: 'prog/main', results: ['i32'], export: 'main' }, { name: 'prog/add', params: ['i32', 'i32'], results: ['i32'] }]);
    const sourceMap = { lookup: (off: number) => (off >= 120 ? { source: 'prog.ts', line: 7, column: 9 } : off >= 100 ? { source: 'prog.ts', line: 3, column: 1 } : undefined) };
    const img = linkImage(mod, fakeTranslation(BARE_TEXT, 2), { kind: 'bare', sourceMap });
    const f2 = img.symbols.get('f2')!;
    expect(img.lines.map((l) => l.wasmOffset)).toEqual([100, 104, 110, 120, 121]);
    expect(lineAt(img.lines, f2)).toMatchObject({ source: 'prog.ts', line: 7, wasmOffset: 120 });
    expect(lineAt(img.lines, f2 + 4n)).toMatchObject({ line: 7, wasmOffset: 121 });
    expect(lineAt(img.lines, img.symbols.get('f1')! + 20n)).toMatchObject({ line: 3, wasmOffset: 100 });
    expect(lineAt(img.lines, img.symbols.get('f1')! + 12n)?.wasmOffset).not.toBe(100);
    expect(readLineTable(img.elf)).toEqual(img.lines);
    expect(readSection(img.elf, '.riscv.attributes')?.[0]).toBe(0x41);
  });
});

// --- real AssemblyScript -------------------------------------------------------------------------

describe('an AssemblyScript program built bare', () => {
  const PROGRAM = 'tests/toolchain/programs/hello.ts';
  const source = readFileSync(join(ROOT, PROGRAM), 'utf8').split('\n');
  const lineOf = (text: string): number => source.findIndex((l) => l.includes(text)) + 1;
  let built: Awaited<ReturnType<typeof buildBareProgram>>;

  beforeAll(async () => {
    built = await buildBareProgram(ROOT, PROGRAM);
  });

  it('runs on the Machine: prints what JavaScript computes, returns its checksum', () => {
    const r = runImages({ kernel: { name: 'hello.elf', bytes: built.image.elf } }, { maxInsns: 20_000_000 });
    expect(r.output).toBe(helloExpected());
    expect(r.exit).toMatchObject({ kind: 'pass', code: 0 });
    expect(r.read(built.image.symbols.get('__result')!)).toBe(100n);
  });

  it('names every function from the name section, globals too', () => {
    const elf = parseElf(built.image.elf, 'hello.elf');
    for (const f of ['main', 'fib', 'fnv1a', 'mix', 'putdec']) expect(elf.symbols.has(`tests/toolchain/programs/hello/${f}`), f).toBe(true);
    expect(elf.symbols.has('tests/toolchain/programs/hello/counter')).toBe(true);
  });

  it('maps the pcs of a function back to its AssemblyScript lines, stopping the Machine there', () => {
    const lines = readLineTable(built.image.elf)!;
    const mix = built.image.symbols.get('tests/toolchain/programs/hello/mix')!;
    const next = nextSymbol(built.image.symbols, mix);
    const first = lineOf('x ^= x >> 33;');
    const ret = lineOf('return x ^ (x >> 33);');
    const inMix = lines.filter((l) => l.addr >= mix && l.addr < next);
    expect(inMix.length).toBeGreaterThan(5);
    for (const l of inMix) {
      expect(l.source).toBe(PROGRAM);
      expect(l.line).toBeGreaterThanOrEqual(first);
      expect(l.line).toBeLessThanOrEqual(ret);
    }
    expect(inMix.some((l) => l.line === ret)).toBe(true);

  });

  it('stops the Machine at a function and finds its source line from the pc', () => {
    const lines = readLineTable(built.image.elf)!;
    const fib = built.image.symbols.get('tests/toolchain/programs/hello/fib')!;
    const end = nextSymbol(built.image.symbols, fib);
    const machine = new Machine({ harts: 1, highmemSize: 0, kernel: { name: 'hello.elf', bytes: built.image.elf } });
    const hart = machine.harts[0]!;
    for (let n = 0; hart.pc !== fib; n++) {
      if (n > 2_000_000 || machine.run(1) === 'exit') throw new Error('never reached fib');
    }
    expect(lineAt(lines, hart.pc)).toMatchObject({ source: PROGRAM, line: lineOf('if (n < 2) return n;') });
    // Step on until the pc reaches the recursive line, still inside fib.
    const rec = lineOf('return fib(n - 1) + fib(n - 2);');
    for (let n = 0; lineAt(lines, hart.pc)?.line !== rec; n++) {
      if (n > 100) throw new Error('never reached the recursive calls');
      machine.run(1);
    }
    expect(hart.pc > fib && hart.pc < end).toBe(true);
  });
});

/** The address of the first non-local label after `addr` (`.L…` labels are inside functions). */
function nextSymbol(symbols: Map<string, bigint>, addr: bigint): bigint {
  return [...symbols].filter(([n, a]) => a > addr && !n.startsWith('.')).map(([, a]) => a).reduce((a, b) => (a < b ? a : b));
}
