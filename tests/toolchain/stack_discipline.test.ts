/**
 * The translated code never touches the stack below sp: an interrupt may
 * arrive between any two instructions and its trap frame is pushed right
 * below sp, so a load or store at a negative offset from sp reads or
 * writes memory the trap entry may have just overwritten. (A function
 * epilogue that did `mv sp, s0; ld s0, -16(sp)` lost its caller's frame
 * pointer when a timer interrupt landed between the two; the buddy
 * allocator's exhaustion cases found it.)
 *
 * Checked statically over every instruction of the real kernel and
 * firmware images: no sp-relative access with a negative offset.
 */
import { describe, expect, it } from 'vitest';
import { parseElf, PF_X } from '../../emulator/machine/elf.js';
import { disassembleBuffer } from '../../toolchain/disasm.js';
import { buildKernel, buildTarget, type Built } from '../kernel/images.js';

const BELOW_SP = /^\s*(c\.)?(l[bhwd]u?|s[bhwd]|fl[wd]|fs[wd]|lr\.[wd]|sc\.[wd]|amo\w+(\.\w+)*)\s.*-\d+\(sp\)/;

function belowSp(built: Built): string[] {
  expect(built.error).toBeUndefined();
  const elf = parseElf(built.image!.elf, "translated image");
  const bad: string[] = [];
  let checked = 0;
  for (const seg of elf.segments) {
    if (!(seg.flags & PF_X)) continue;
    for (const line of disassembleBuffer(seg.data, seg.vaddr)) {
      checked++;
      if (BELOW_SP.test(line.text)) bad.push(`${line.address.toString(16)}: ${line.text}`);
    }
  }
  expect(checked).toBeGreaterThan(2_000);
  return bad;
}

describe('stack discipline of the translated images', () => {
  it('the kernel never loads or stores below sp', async () => {
    expect(belowSp(await buildKernel())).toEqual([]);
  }, 300_000);
  it('the firmware never loads or stores below sp', async () => {
    expect(belowSp(await buildTarget('firmware'))).toEqual([]);
  }, 300_000);
});
