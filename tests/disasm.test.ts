/**
 * The disassembler (toolchain/disasm.ts): objdump-compatible text in both
 * modes, address hints, listing format, and assemble ↔ disassemble round
 * trips over every table row with random operands. Expected strings were
 * checked against riscv64-unknown-elf-objdump 2.40; tests/interop/objdump.test.ts
 * compares the two exhaustively.
 */
import { describe, expect, it } from 'vitest';
import { C_EXPAND, C_INSNS, INSNS, compressedSpec, decode, rd, rs1 } from '../emulator/cpu/riscv/isa.js';
import { assemble } from '../toolchain/asm.js';
import { Disassembler, disassemble, disassembleBuffer, formatObjdumpLine } from '../toolchain/disasm.js';
import { prng } from './helpers/prng.js';

const PC = 0x8000_0000n;


const text = (insn: number, pc?: bigint): string => disassemble(insn, pc).text.replace('\t', ' ');
const alias = (insn: number, pc?: bigint): string => disassemble(insn, pc, { aliases: true }).text.replace('\t', ' ');

/** The instruction(s) an assembler run produced, as one number (first parcel or word). */
function assembled(src: string, base: bigint): { bits: number; length: number } {
  const b = assemble(src, { base }).bytes;
  if (b.length === 2) return { bits: b[0] | (b[1] << 8), length: 2 };
  if (b.length === 4) return { bits: (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0, length: 4 };
  throw new Error(`'${src}' assembled to ${b.length} bytes`);
}

describe('no-aliases mode (objdump -M no-aliases)', () => {
  const CASES: ReadonlyArray<readonly [number, string]> = [
    [0xffb58513, 'addi a0,a1,-5'],
    [0x0ff0000f, 'fence iorw,iorw'],
    [0x0310000f, 'fence rw,w'],
    [0x8330000f, 'fence.tso'],
    [0x0100000f, 'fence w,unknown'], // pause: succ = 0 is "unknown" to objdump
    [0x0000100f, 'fence.i'],
    [0x300312f3, 'csrrw t0,mstatus,t1'],
    [0x7c002573, 'csrrs a0,0x7c0,zero'],
    [0x00302573, 'csrrs a0,fcsr,zero'],
    [0x7b002573, 'csrrs a0,dcsr,zero'],
    [0x3002d073, 'csrrwi zero,mstatus,5'],
    [0x06b6252f, 'amoadd.w.aqrl a0,a1,(a2)'],
    [0x1005b52f, 'lr.d a0,(a1)'],
    [0x1cb6252f, 'sc.w.aq a0,a1,(a2)'],
    [0x02b6352f, 'amoadd.d.rl a0,a1,(a2)'],
    [0x12b50073, 'sfence.vma a0,a1'],
    [0x12000073, 'sfence.vma zero,zero'],
    [0x03f59513, 'slli a0,a1,0x3f'],
    [0x4215d513, 'srai a0,a1,0x21'],
    [0x4035d51b, 'sraiw a0,a1,0x3'],
    [0xfffff537, 'lui a0,0xfffff'],
    [0x00001517, 'auipc a0,0x1'],
    [0xff813503, 'ld a0,-8(sp)'],
    [0x00a13423, 'sd a0,8(sp)'],
    [0x004500e7, 'jalr ra,4(a0)'],
    [0x00000073, 'ecall'],
    [0x00100073, 'ebreak'],
    [0x30200073, 'mret'],
    [0x10200073, 'sret'],
    [0x10500073, 'wfi'],
    [0xc0001073, 'unimp'], // csrrw zero, cycle, zero: objdump's unimp even with no-aliases
    [0x0200101b, '.4byte 0x200101b'],
    [0x8000000f, '.4byte 0x8000000f'], // a FENCE with reserved fm: executes as FENCE, objdump refuses it
    [0x0010100f, '.4byte 0x10100f'], // FENCE.I with imm != 0
    [0x00200073, '.4byte 0x200073'], // uret: not in priv 1.12
    [0x01023503, 'ld a0,16(tp) # 0x10'],
    [0x01003503, 'ld a0,16(zero) # 0x10'],
    // compressed
    [0x0000, 'c.unimp'],
    [0x0001, 'c.addi zero,0'],
    [0x0505, 'c.addi a0,1'],
    [0x0028, 'c.addi4spn a0,sp,8'],
    [0x157e, 'c.slli a0,0x3f'],
    [0x0502, 'c.slli64 a0'],
    [0x8101, 'c.srli64 a0'],
    [0x8501, 'c.srai64 a0'],
    [0x8082, 'c.jr ra'],
    [0x9002, 'c.ebreak'],
    [0x7505, 'c.lui a0,0xfffe1'],
    [0x400d, 'c.li zero,3'],
    [0x4000, 'c.lw s0,0(s0)'],
    [0x717d, 'c.addi16sp sp,-16'],
    [0x8006, 'c.mv zero,ra'],
    [0x9c21, 'c.addw s0,s0'],
    [0x2000, '.2byte 0x2000'], // c.fld: no D on this machine
    [0x8002, '.2byte 0x8002'], // c.jr zero: reserved
    [0x6101, '.2byte 0x6101'], // c.addi16sp sp,0: reserved (objdump decodes it anyway)
  ];
  it.each(CASES.map(([i, t]) => [`0x${i.toString(16)}`, t, i] as const))('%s → %s', (_h, want, insn) => {
    expect(text(insn)).toBe(want);
  });

  it('prints branch and jump targets as absolute addresses, 64-bit wrapped', () => {
    expect(text(0xfeb50ce3, 0x5cn)).toBe('beq a0,a1,0x54');
    expect(text(0xfeb50ce3, 0n)).toBe('beq a0,a1,0xfffffffffffffff8');
    expect(text(0x010000ef, 0x58n)).toBe('jal ra,0x68');
    expect(text(0xb7d9, 0x8000009en)).toBe('c.j 0x80000064');
    expect(text(0xc119, PC)).toBe('c.beqz a0,0x80000006');
    expect(text(0xfeb50ce3)).toBe('beq a0,a1,.-8'); // no pc: relative, and still assemblable
  });

  it('returns the instruction length from the low bits', () => {
    expect(disassemble(0x0505).length).toBe(2);
    expect(disassemble(0x00000013).length).toBe(4);
    expect(disassemble(0xffffffff).length).toBe(4);
  });
});

describe('aliases mode (plain objdump -d, binutils 2.40)', () => {
  const CASES: ReadonlyArray<readonly [number, string]> = [
    [0x00000013, 'nop'], [0x00500513, 'li a0,5'], [0x00058513, 'mv a0,a1'], [0xffb58513, 'add a0,a1,-5'],
    [0x0005851b, 'sext.w a0,a1'], [0x0ff5f513, 'zext.b a0,a1'], [0xfff5c513, 'not a0,a1'], [0x40b00533, 'neg a0,a1'],
    [0x0015b513, 'seqz a0,a1'], [0x00b03533, 'snez a0,a1'], [0x0005a533, 'sltz a0,a1'], [0x00b02533, 'sgtz a0,a1'],
    [0x03f59513, 'sll a0,a1,0x3f'], [0x4035d51b, 'sraw a0,a1,0x3'], [0x00008067, 'ret'], [0x00050067, 'jr a0'],
    [0x000500e7, 'jalr a0'], [0x000505e7, 'jalr a1,a0'], [0x00458067, 'jr 4(a1)'], [0x0ff0000f, 'fence'],
    [0x0310000f, 'fence rw,w'], [0xc0002573, 'rdcycle a0'], [0x34002573, 'csrr a0,mscratch'],
    [0x34051073, 'csrw mscratch,a0'], [0x3402d073, 'csrw mscratch,5'], [0x3401d573, 'csrrw a0,mscratch,3'],
    [0x00302573, 'frcsr a0'], [0x00259073, 'fsrm a1'], [0x12000073, 'sfence.vma'], [0x12050073, 'sfence.vma a0'],
    [0xc0001073, 'unimp'], [0x0000, 'unimp'], [0x0001, 'nop'], [0x0005, 'c.nop 1'], [0x0505, 'add a0,a0,1'],
    [0x8082, 'ret'], [0x9002, 'ebreak'], [0x2501, 'sext.w a0,a0'], [0x852e, 'mv a0,a1'], [0x400d, 'c.li zero,3'],
    [0x4515, 'li a0,5'], [0x0028, 'add a0,sp,8'], [0x6522, 'ld a0,8(sp)'], [0x0502, 'c.slli64 a0'],
  ];
  it.each(CASES.map(([i, t]) => [`0x${i.toString(16)}`, t, i] as const))('%s → %s', (_h, want, insn) => {
    expect(alias(insn)).toBe(want);
  });

  it('prints branch aliases with targets', () => {
    expect(alias(0xfc050ce3, 0x80000028n)).toBe('beqz a0,0x80000000');
    expect(alias(0xfca058e3, 0x80000030n)).toBe('blez a0,0x80000000');
    expect(alias(0xfb1ff06f, 0x80000050n)).toBe('j 0x80000000');
    expect(alias(0xfadff0ef, 0x80000054n)).toBe('jal 0x80000000');
  });
});

describe('address hints (objdump riscv-dis.c maybe_print_address)', () => {
  it('pairs lui/auipc with the next use of the register, once', () => {
    const d = new Disassembler();
    expect(d.disassemble(0x00001537, 0n).text).toBe('lui\ta0,0x1');
    expect(d.disassemble(0x00450513, 4n).text).toBe('addi\ta0,a0,4 # 0x1004');
    expect(d.disassemble(0x00450513, 8n).text).toBe('addi\ta0,a0,4'); // consumed
    expect(d.disassemble(0xfffff397, 0x38n).text).toBe('auipc\tt2,0xfffff');
    expect(d.disassemble(0x00038393, 0x3cn).text).toBe('addi\tt2,t2,0 # 0xfffffffffffff038');
    expect(d.disassemble(0x80000637, 0n).text).toBe('lui\ta2,0x80000');
    expect(d.disassemble(0xfff6061b, 0n).text).toBe('addiw\ta2,a2,-1 # 0x7fffffff'); // addiw: 32-bit wrap
    expect(d.disassemble(0x7505, 0n).text).toBe('c.lui\ta0,0xfffe1');
    expect(d.disassemble(0x0505, 0n).text).toBe('c.addi\ta0,1 # 0xfffffffffffe1001');
  });

  it('uses gp when its value is given', () => {
    expect(disassemble(0x0101b503, 0n, { gp: 0x80001000n }).text).toBe('ld\ta0,16(gp) # 0x80001010');
    expect(disassemble(0x0101b503, 0n).text).toBe('ld\ta0,16(gp)');
  });
});

describe('disassembleBuffer and the objdump listing format', () => {
  it('walks mixed-length code and formats lines like objdump -D', () => {
    const bytes = assemble('addi a0, a1, -5\nc.addi a0, 1\n.2byte 0xffff\nfence', { base: 0 }).bytes;
    const lines = disassembleBuffer(bytes, 0n).map((l) => formatObjdumpLine(l, bytes, 0n, BigInt(bytes.length)));
    expect(lines).toEqual([
      '   0:\tffb58513          \taddi\ta0,a1,-5',
      '   4:\t0505                \tc.addi\ta0,1',
      '   6:\tffff                \t.2byte\t0xffff',
      '   8:\t0ff0000f          \tfence\tiorw,iorw',
    ]);
    const at = disassembleBuffer(bytes, PC)[0];
    expect(formatObjdumpLine(at, bytes, PC, PC + 12n)).toBe('    80000000:\tffb58513          \taddi\ta0,a1,-5');
  });

  it('prints longer encodings and a truncated tail as objdump does', () => {
    const b = new Uint8Array([0x1f, 0x10, 0, 0, 0x3f, 0, 0x13, 0]);
    expect(disassembleBuffer(b, 0n).map((l) => l.text)).toEqual([
      '.byte\t0x1f, 0x10, 0x00, 0x00, 0x3f, 0x00', '.byte\t0x13, 0x00',
    ]);
  });
});

describe('round trips over the whole table', () => {
  /**
   * Random encodings of a row: its match with random bits in the free fields, kept if objdump-printable.
   * FENCE and FENCE.I only print with fm/rs1/rd (and FENCE.I's imm) zero, so those fields stay zero.
   */
  function samples(match: number, rowMask: number, n: number, rnd: () => number, width: 16 | 32): number[] {
    const mask = match === 0x0000000f ? 0xf00fffff : match === 0x0000100f ? 0xffffffff : rowMask;
    const out: number[] = [];
    for (let k = 0; out.length < n && k < n * 50; k++) {
      const bits = ((match | (rnd() & ~mask)) & (width === 16 ? 0xffff : 0xffffffff)) >>> 0;
      const t = disassemble(bits, PC).text;
      if (t.startsWith('.') || t.includes('unknown')) continue; // not a printable instruction
      out.push(bits);
    }
    return out;
  }

  it('disassemble → assemble gives back every 32-bit encoding (no-aliases text)', () => {
    const rnd = prng(11);
    for (const spec of INSNS) {
      const list = samples(spec.match, spec.mask, 300, rnd, 32);
      expect(list.length, spec.name).toBeGreaterThan(0);
      for (const insn of list) {
        const src = disassemble(insn, PC).text;
        const got = assembled(src, PC);
        if (got.bits !== insn) expect.fail(`${spec.name}: 0x${insn.toString(16)} → '${src}' → 0x${got.bits.toString(16)}`);
      }
    }
  });

  it('disassemble → assemble gives back every compressed parcel', () => {
    let n = 0;
    for (let p = 1; p < 0x10000; p++) {
      if (C_EXPAND[p] === 0) continue;
      const src = disassemble(p, PC).text;
      const got = assembled(src, PC);
      if (got.length !== 2 || got.bits !== p) expect.fail(`0x${p.toString(16)} → '${src}' → 0x${got.bits.toString(16)}`);
      n++;
    }
    expect(n).toBe(38551);
    expect(assembled('c.unimp', PC).bits).toBe(0);
  });

  it('assembles the alias text of every 32-bit sample back to the same encoding', () => {
    const rnd = prng(12);
    for (const spec of INSNS) {
      for (const insn of samples(spec.match, spec.mask, 100, rnd, 32)) {
        const src = disassemble(insn, PC, { aliases: true }).text;
        if (/^f(r|s)(csr|rm|flags)/.test(src)) continue; // F-extension CSR aliases: no F here
        const got = assembled(src, PC);
        if (got.bits !== insn) expect.fail(`${spec.name}: 0x${insn.toString(16)} → '${src}' → 0x${got.bits.toString(16)}`);
      }
    }
  });

  it('assembles the alias text of every compressed parcel to its 32-bit expansion', () => {
    for (let p = 1; p < 0x10000; p++) {
      const e = C_EXPAND[p] >>> 0;
      if (e === 0) continue;
      const src = disassemble(p, PC, { aliases: true }).text;
      const got = assembled(src, PC);
      if (got.length === 2) {
        if (got.bits !== p) expect.fail(`0x${p.toString(16)} → '${src}' → 0x${got.bits.toString(16)}`);
      } else if (compressedSpec(p)!.name === 'c.mv') {
        // `mv rd, rs` is addi rd, rs, 0 while c.mv expands to add rd, x0, rs: same effect.
        expect([decode(got.bits), rd(got.bits), rs1(got.bits)]).toEqual([decode(0x00000013), rd(e), (e >>> 20) & 31]);
      } else if (got.bits !== e) {
        expect.fail(`0x${p.toString(16)} → '${src}' → 0x${got.bits.toString(16)}, expansion 0x${e.toString(16)}`);
      }
    }
  });

  it('assembles text → disassembles → reassembles to the same bytes (every row, random operands)', () => {
    // Start from source text this time: the no-aliases text of random samples, reassembled as one program.
    const rnd = prng(13);
    const lines: string[] = [];
    for (const spec of [...INSNS, ...C_INSNS]) {
      const width = spec.name.startsWith('c.') ? 16 : 32;
      for (const insn of samples(spec.match, spec.mask, 20, rnd, width)) {
        // Targets are relative (.+off) without a pc, so the text is position independent.
        lines.push(disassemble(insn).text);
      }
    }
    const first = assemble(lines.join('\n'), { base: PC });
    const relisted = disassembleBuffer(first.bytes, PC).map((l) => l.text);
    const second = assemble(relisted.join('\n'), { base: PC });
    expect(second.bytes).toEqual(first.bytes);
    expect(relisted.length).toBe(lines.length);
  });
});
