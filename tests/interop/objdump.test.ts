/**
 * Our disassembler against GNU objdump 2.40 (Debian binutils-riscv64-unknown-elf),
 * line for line, and our disassembly text against GNU as.
 *
 *   objdump -D -b binary -m riscv:rv64 [-M no-aliases] file.bin
 *
 * objdump disassembles a raw binary as rv64gc, so it knows the F and D
 * extensions (fld, fmadd.s, c.fldsp …) and a few withdrawn privileged
 * instructions (uret, dret, sfence.vm) that this machine does not have: where
 * we print `.2byte`/`.4byte` and objdump prints one of those, the encoding is
 * left out of the exact comparison (and must really be one of those). One
 * more known difference: objdump decodes 0x6101 as `c.addi16sp sp,0`, which
 * unpriv 16.5 says is reserved ("C.ADDI16SP is only valid when nzimm≠0"); we
 * print `.2byte 0x6101`, as the CPU raises illegal-instruction for it.
 * Everything else, address hints (" # 0x…") included, must match exactly.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { C_EXPAND, C_INSNS, INSNS } from '../../emulator/cpu/riscv/isa.js';
import { disassemble, disassembleBuffer, formatObjdumpLine, objdumpListing } from '../../toolchain/disasm.js';
import { prng } from '../helpers/prng.js';

const OBJDUMP = 'riscv64-unknown-elf-objdump';
const AS = 'riscv64-unknown-elf-as';
const OBJCOPY = 'riscv64-unknown-elf-objcopy';
const have = (tool: string): boolean => spawnSync(tool, ['--version']).status === 0;
const HAVE_OBJDUMP = have(OBJDUMP);
const HAVE_AS = have(AS) && have(OBJCOPY);
const MISSING = 'not installed (Debian package binutils-riscv64-unknown-elf)';

/** Encodings objdump knows from extensions this machine lacks (rv64gc's F/D, withdrawn privileged ops). */
const FOREIGN = /^(c\.)?f(?!ence)[a-z.]*$|^(uret|dret|sfence\.vm)$/;
/** c.addi16sp with nzimm = 0: reserved by the spec, decoded by objdump. */
const RESERVED_ADDI16SP = 0x6101;

const dir = mkdtempSync(join(tmpdir(), 'kmemlab-objdump-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));


function bytesOf(parcels: readonly number[], width: 2 | 4): Uint8Array {
  const b = new Uint8Array(parcels.length * width);
  parcels.forEach((p, i) => {
    for (let k = 0; k < width; k++) b[i * width + k] = (p >>> (8 * k)) & 0xff;
  });
  return b;
}

/** objdump's instruction lines for a raw file. */
function objdump(bytes: Uint8Array, name: string, aliases: boolean): string[] {
  const file = join(dir, `${name}.bin`);
  writeFileSync(file, bytes);
  const r = spawnSync(OBJDUMP, ['-D', '-b', 'binary', '-m', 'riscv:rv64', ...(aliases ? [] : ['-M', 'no-aliases']), file], {
    maxBuffer: 1 << 30,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`${OBJDUMP} failed: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => /^\s*[0-9a-f]+:\t/.test(l));
}

/** Our lines in objdump's format. */
function ours(bytes: Uint8Array, aliases: boolean): string[] {
  return objdumpListing(bytes, 0n, { aliases });
}

const mnemonicOf = (line: string | undefined): string => (line ?? '').split('\t')[2]?.split(/\s/)[0] ?? '';

interface Comparison {
  readonly mismatches: string[];
  /** Line indexes where objdump decodes an extension we lack. */
  readonly foreign: number[];
}

function compare(od: readonly string[], us: readonly string[]): Comparison {
  const mismatches: string[] = [];
  const foreign: number[] = [];
  const n = Math.max(od.length, us.length);
  for (let i = 0; i < n; i++) {
    if (od[i] === us[i]) continue;
    const ourMnemonic = mnemonicOf(us[i]);
    if ((ourMnemonic === '.2byte' || ourMnemonic === '.4byte') && FOREIGN.test(mnemonicOf(od[i]))) {
      foreign.push(i);
      continue;
    }
    mismatches.push(`objdump: ${od[i]}\nours:    ${us[i]}`);
  }
  return { mismatches, foreign };
}

describe.runIf(HAVE_OBJDUMP)('objdump agrees with disassemble()', () => {
  const parcels: number[] = [];
  for (let p = 0; p < 0x10000; p++) if ((p & 3) !== 3) parcels.push(p);
  const c16 = bytesOf(parcels, 2);

  it.each([false, true])('on all 49152 16-bit parcels (aliases: %s)', (aliases) => {
    const { mismatches, foreign } = compare(objdump(c16, `c16-${aliases}`, aliases), ours(c16, aliases));
    const addi16sp = parcels.indexOf(RESERVED_ADDI16SP);
    expect(mismatches.filter((m) => !m.includes(`\t${RESERVED_ADDI16SP.toString(16)} `)).slice(0, 20)).toEqual([]);
    expect(mismatches.length).toBe(1); // the reserved c.addi16sp sp,0
    expect(mismatches[0]).toContain(aliases ? 'add\tsp,sp,0' : 'c.addi16sp\tsp,0');
    expect(addi16sp).toBeGreaterThan(0);
    // The foreign ones are exactly C.FLD, C.FSD, C.FLDSP, C.FSDSP: 4 × 2048.
    expect(foreign.length).toBe(4 * 2048);
    expect(foreign.every((i) => C_EXPAND[parcels[i]] === 0)).toBe(true);
  });

  /** Random encodings of every row plus random words, without the ones objdump reads as F/D. */
  function corpus32(): number[] {
    const rnd = prng(2024);
    const words: number[] = [];
    for (const s of INSNS) {
      for (let k = 0; k < 300; k++) words.push((s.match | (rnd() & ~s.mask)) >>> 0);
      // Canonical fence/fence.i forms (objdump prints the others as .4byte).
      if (s.name === 'fence') for (let k = 0; k < 256; k++) words.push((0x0000000f | (k << 20)) >>> 0);
    }
    words.push(0x8330000f, 0x0000100f, 0xc0001073);
    while (words.length < 60_000) {
      const w = rnd();
      if ((w & 3) === 3 && (w & 0x1f) !== 0x1f) words.push(w); // 48-bit and longer encodings have no 32-bit meaning
    }
    // Drop what objdump decodes as F/D etc.: those lines would also upset the address hints of later lines.
    const b = bytesOf(words, 4);
    const { foreign } = compare(objdump(b, 'probe32', false), ours(b, false));
    const drop = new Set(foreign);
    return words.filter((_, i) => !drop.has(i));
  }
  let cached: number[] | undefined;

  it.each([false, true])('on every 32-bit table row with random operands and 60000 random words (aliases: %s)', (aliases) => {
    const words = (cached ??= corpus32());
    const w32 = bytesOf(words, 4);
    expect(words.length).toBeGreaterThan(50_000);
    const { mismatches, foreign } = compare(objdump(w32, `w32-${aliases}`, aliases), ours(w32, aliases));
    expect(foreign).toEqual([]);
    expect(mismatches.slice(0, 20)).toEqual([]);
  });

  it('on the name of every CSR number (csrrs a0, csr, zero for 0..4095)', () => {
    const csrs = Array.from({ length: 4096 }, (_, c) => ((c << 20) | (10 << 7) | (2 << 12) | 0x73) >>> 0);
    const b = bytesOf(csrs, 4);
    const { mismatches } = compare(objdump(b, 'csr', false), ours(b, false));
    expect(mismatches.slice(0, 20)).toEqual([]);
  });

  it('on a listing at a high address (address column width, absolute targets)', () => {
    const b = bytesOf([0xfeb50ce3, 0x010000ef, 0x00001517, 0x00450513], 4);
    const file = join(dir, 'high.bin');
    writeFileSync(file, b);
    const r = spawnSync(OBJDUMP, ['-D', '-b', 'binary', '-m', 'riscv:rv64', '-M', 'no-aliases', '--adjust-vma=0x80000000', file], { encoding: 'utf8' });
    const od = r.stdout.split('\n').filter((l) => /^\s*[0-9a-f]+:\t/.test(l));
    const base = 0x8000_0000n;
    const us = disassembleBuffer(b, base).map((l) => formatObjdumpLine(l, b, base, base + BigInt(b.length)));
    expect(us).toEqual(od);
  });
});

describe.runIf(HAVE_AS)('GNU as assembles our disassembly to the same bytes', () => {
  it('for random encodings of every row, 32-bit and compressed (no-aliases text, relative targets)', () => {
    const rnd = prng(77);
    const want: number[] = [];
    const lines: string[] = [];
    const source: string[] = ['.option norvc']; // no automatic compression of the 32-bit lines
    for (const s of [...INSNS, ...C_INSNS]) {
      const c = s.name.startsWith('c.');
      if (c && !source.includes('.option rvc')) source.push('.option rvc'); // explicit c.* needs RVC enabled
      for (let k = 0, n = 0; n < 40 && k < 4000; k++) {
        const fill = s.name === 'fence' ? 0x0ff00000 : s.name === 'fence.i' ? 0 : ~s.mask;
        const insn = ((s.match | (rnd() & fill)) & (c ? 0xffff : 0xffffffff)) >>> 0;
        const t = disassemble(insn).text;
        if (t.startsWith('.') || t.includes('unknown')) continue;
        lines.push(t);
        source.push(t);
        want.push(insn);
        n++;
      }
    }
    const src = join(dir, 'rt.s');
    writeFileSync(src, `${source.join('\n')}\n`);
    const obj = join(dir, 'rt.o');
    const a = spawnSync(AS, ['-march=rv64imac_zicsr_zifencei', '-mno-relax', '-o', obj, src], { encoding: 'utf8' });
    expect(a.status, a.stderr.split('\n').filter((l) => l.includes('Error')).slice(0, 10).join('\n')).toBe(0);
    const bin = join(dir, 'rt.bin');
    expect(spawnSync(OBJCOPY, ['-O', 'binary', '-j', '.text', obj, bin]).status).toBe(0);
    const got = readFileSync(bin);
    const mine: number[] = [];
    for (let off = 0; off < got.length;) {
      const lo = got[off] | (got[off + 1] << 8);
      if ((lo & 3) !== 3) { mine.push(lo); off += 2; } else { mine.push(got.readUInt32LE(off)); off += 4; }
    }
    const diffs = want.map((w, i) => (w === mine[i] ? '' : `${lines[i]}: want 0x${w.toString(16)}, GNU as 0x${(mine[i] ?? 0).toString(16)}`)).filter(Boolean);
    expect(diffs.slice(0, 20)).toEqual([]);
    expect(mine.length).toBe(want.length);
  });
});

if (!HAVE_OBJDUMP || !HAVE_AS) {
  describe('binutils for RISC-V', () => {
    it.skip(`SKIPPED: ${!HAVE_OBJDUMP ? OBJDUMP : AS} ${MISSING}; the interop comparisons did not run`, () => {});
  });
}
