/**
 * The host's Sv39 walker (emulator/inspect/pagetable.ts) and page-table
 * dumps (emulator/inspect/ptdump.ts).
 *
 * Unit tests on tables built by hand in a Uint8Array: 1 GiB, 2 MiB and
 * 4 KiB leaves translate to the right address with the right steps; an
 * invalid entry, W without R, reserved bits, a misaligned superpage, a
 * pointer at level 0 and a non-canonical address are WalkFaults with their
 * reason; readVirt crosses pages that map to scattered frames.
 *
 * Boot tests: the kernel publishes SYMBOL(swapper_pg_dir) (arch/pgtable.ts
 * paging_init); every online hart's satp points at it; walking it, a .text
 * symbol (kernel_main) is R X and never W, a .data symbol (vmcoreinfo_data)
 * R W and never X (what the guest's own pgtable suite checks with
 * pte_lookup), a linear-map address maps to its physical address in a 2 MiB
 * leaf, the vmalloc area of the DMA engine's registers maps to the
 * registers; a non-canonical and an unmapped address are WalkFaults; the
 * ptdump listing covers the linear map without gaps and agrees with walks.
 */
import { describe, expect, it } from 'vitest';
import { boot, guestImages } from '../kernel/images.js';
import { parseElf } from '../../emulator/machine/elf.js';
import { readVmcoreinfo, type ReadPhys } from '../../emulator/inspect/vmcoreinfo.js';
import {
  walkSv39, translateSv39, readVirt, satpRoot, isTranslation, pteFlagString, PageTableError,
  PTE_V, PTE_R, PTE_W, PTE_X, PTE_G, PTE_A, PTE_D, type Translation, type WalkFault,
} from '../../emulator/inspect/pagetable.js';
import { renderPageTable, renderKernelPageTables, readKernelMappings, kernelRoot, ptdumpFlags } from '../../emulator/inspect/ptdump.js';
import { readVmapAreas } from '../../emulator/inspect/vmallocinfo.js';
import { VIRT_DMA_BASE } from '../../emulator/machine/memmap.js';

const MAX_INSNS = 400_000_000;

// --- hand-built tables ------------------------------------------------------------------------

/** A tiny physical memory: `pages` 4 KiB frames from physical 0. */
class Phys {
  readonly bytes: Uint8Array;
  constructor(pages: number) { this.bytes = new Uint8Array(pages * 4096); }
  readonly read: ReadPhys = (pa, len) => {
    if (pa < 0 || pa + len > this.bytes.length) throw new RangeError(`read outside memory at 0x${pa.toString(16)}`);
    return this.bytes.subarray(pa, pa + len);
  };
  pte(table: number, index: number, pa: number, flags: number): void {
    const v = (BigInt(pa) >> 12n) << 10n | BigInt(flags);
    new DataView(this.bytes.buffer).setBigUint64(table + index * 8, v, true);
  }
  raw(table: number, index: number, v: bigint): void {
    new DataView(this.bytes.buffer).setBigUint64(table + index * 8, v, true);
  }
}

const LEAF_RW = PTE_V | PTE_R | PTE_W | PTE_A | PTE_D;
const LEAF_RX = PTE_V | PTE_R | PTE_X | PTE_A;

function ok(t: Translation | WalkFault): Translation {
  if (!isTranslation(t)) throw new Error(`expected a translation, got: ${t.reason}`);
  return t;
}
function fault(t: Translation | WalkFault): WalkFault {
  if (isTranslation(t)) throw new Error(`expected a fault, got pa 0x${t.pa.toString(16)}`);
  return t;
}

describe('walkSv39 on hand-built tables', () => {
  // root at 0x1000, level-1 table at 0x2000, level-0 table at 0x3000; frames above.
  const m = new Phys(16);
  const ROOT = 0x1000, L1 = 0x2000, L0 = 0x3000;
  m.pte(ROOT, 0, L1, PTE_V);                                // VA 0 … 1 GiB: a table
  m.pte(ROOT, 2, 0x8000_0000, LEAF_RW | PTE_G);             // VA 2 GiB: a 1 GiB leaf at 2 GiB
  m.pte(ROOT, 511, 0x4000_0000, LEAF_RX);                   // 0xffffffffc0000000: a 1 GiB leaf at 1 GiB
  m.pte(L1, 1, 0x0060_0000, LEAF_RW);                       // VA 2 MiB: a 2 MiB leaf at 6 MiB
  m.pte(L1, 0, L0, PTE_V);                                  // VA 0 … 2 MiB: a level-0 table
  m.pte(L0, 4, 0x5000, LEAF_RW);                            // VA 0x4000 → 0x5000
  m.pte(L0, 5, 0x9000, LEAF_RX);                            // VA 0x5000 → 0x9000 (not contiguous)
  m.pte(L0, 6, 0x7000, PTE_V | PTE_W);                      // W without R
  m.pte(L0, 7, L0, PTE_V);                                  // a pointer at level 0
  m.pte(L1, 2, 0x0030_0000, LEAF_RW);                       // a 2 MiB leaf at 3 MiB: misaligned
  m.raw(L1, 3, (1n << 60n) | (0x400n << 10n) | BigInt(LEAF_RW)); // reserved bit 60
  m.pte(ROOT, 3, 0x8000_1000, LEAF_RW);                     // a 1 GiB leaf at a 4 KiB boundary: misaligned

  it('translates through a 4 KiB leaf with three steps', () => {
    const t = ok(walkSv39(m.read, ROOT, 0x4123n));
    expect(t.pa).toBe(0x5123);
    expect(t.level).toBe(0);
    expect(t.flags).toBe(LEAF_RW);
    expect(t.steps.map((s) => [s.level, s.pteAddr])).toEqual([[2, ROOT], [1, L1], [0, L0 + 4 * 8]]);
  });
  it('translates through a 2 MiB leaf (offset within the superpage kept)', () => {
    const t = ok(walkSv39(m.read, ROOT, 0x0023_4567n));
    expect(t.pa).toBe(0x0063_4567);
    expect(t.level).toBe(1);
    expect(t.steps.length).toBe(2);
  });
  it('translates through 1 GiB leaves, in the low and the high (sign-extended) half', () => {
    const lo = ok(walkSv39(m.read, ROOT, 0x8765_4321n));
    expect(lo.pa).toBe(0x8765_4321);
    expect(lo.level).toBe(2);
    expect(pteFlagString(lo.flags)).toBe('VRW--GAD');
    const hi = ok(walkSv39(m.read, ROOT, 0xffff_ffff_c012_3456n));
    expect(hi.pa).toBe(0x4012_3456);
    expect(hi.steps[0]!.pteAddr).toBe(ROOT + 511 * 8);
  });
  it('names why an address does not map', () => {
    expect(fault(walkSv39(m.read, ROOT, 0x1000n)).reason).toBe('no valid entry at level 0');
    expect(fault(walkSv39(m.read, ROOT, 0x4000_0000n)).reason).toBe('no valid entry at level 2');
    expect(fault(walkSv39(m.read, ROOT, 0x6000n)).reason).toMatch(/writable but not readable/);
    expect(fault(walkSv39(m.read, ROOT, 0x7000n)).reason).toBe('level-0 entry points to another table');
    expect(fault(walkSv39(m.read, ROOT, 0x0040_0000n)).reason).toBe('misaligned level-1 superpage');
    expect(fault(walkSv39(m.read, ROOT, 0x0060_0000n)).reason).toMatch(/reserved bits 63..54/);
    expect(fault(walkSv39(m.read, ROOT, 0xc000_0000n)).reason).toBe('misaligned level-2 superpage');
    const nc = fault(walkSv39(m.read, ROOT, 0x0000_4000_0000_0000n));
    expect(nc.reason).toMatch(/not a canonical Sv39 address/);
    expect(nc.steps).toEqual([]);
  });
  it('translateSv39 throws PageTableError naming the address and the reason', () => {
    expect(translateSv39(m.read, ROOT, 0x4000n)).toBe(0x5000);
    expect(() => translateSv39(m.read, ROOT, 0x1000n)).toThrow(PageTableError);
    expect(() => translateSv39(m.read, ROOT, 0x1000n)).toThrow('0x1000 is not mapped: no valid entry at level 0');
  });
  it('readVirt reads across pages that map to scattered frames', () => {
    m.bytes.fill(0xaa, 0x5ff0, 0x6000);
    m.bytes.fill(0xbb, 0x9000, 0x9010);
    const b = readVirt(m.read, ROOT, 0x4ff0n, 32);
    expect([...b.subarray(0, 16)].every((x) => x === 0xaa)).toBe(true);
    expect([...b.subarray(16)].every((x) => x === 0xbb)).toBe(true);
    expect(() => readVirt(m.read, ROOT, 0x5ff0n, 32)).toThrow(PageTableError);
  });
  it('satpRoot: Sv39 gives the root, Bare gives undefined', () => {
    expect(satpRoot((8n << 60n) | 0x8ffffn)).toBe(0x8ffff000);
    expect(satpRoot(0n)).toBeUndefined();
  });
  it('the ptdump listing merges contiguous leaves and lists refused entries', () => {
    const { ranges, bad } = readKernelMappings(m.read, ROOT);
    expect(ranges.map((r) => [r.start, r.end, r.pa, r.level])).toEqual([
      [0x4000n, 0x5000n, 0x5000, 0], [0x5000n, 0x6000n, 0x9000, 0],
      [0x0020_0000n, 0x0040_0000n, 0x0060_0000, 1],
      [0x8000_0000n, 0xc000_0000n, 0x8000_0000, 2],
      [0xffff_ffff_c000_0000n, 0x1_0000_0000_0000_0000n, 0x4000_0000, 2],
    ]);
    expect(bad.map((b) => b.reason)).toEqual([
      'writable but not readable (reserved)', 'level-0 entry points to another table',
      'misaligned level-1 superpage', 'reserved bits 63..54 set', 'misaligned level-2 superpage',
    ]);
    expect(ptdumpFlags(LEAF_RW | PTE_G)).toBe('D A G . . W R V');
  });
});

// --- the kernel's own tables -----------------------------------------------------------------

const { kernel, firmware, missing } = await guestImages();

it('the kernel and our firmware build', () => {
  expect(missing).toBeUndefined();
});

describe.skipIf(missing !== undefined)('the host walks swapper_pg_dir', () => {
  const elf = missing === undefined ? parseElf(kernel.image!.elf, 'kernel.elf') : undefined;
  const r = missing === undefined
    ? boot({ kernel: kernel.image!.elf, bios: firmware.image!.elf, harts: 4, append: 'selftest=pgtable', maxInsns: MAX_INSNS })
    : undefined;
  const read: ReadPhys = (pa, len) => r!.machine.mem.readBytes(pa, len);
  const sym = (name: string): bigint => {
    const v = elf!.symbols.get(name);
    if (v === undefined) throw new Error(`no ELF symbol ${name}`);
    return v;
  };

  it('boots and passes the guest\'s own pgtable suite', () => {
    expect(r!.exit, r!.console.slice(-2000)).toEqual({ kind: 'pass', code: 0, via: 'finisher' });
    expect(r!.console).toContain('ok 1 pgtable');
  });

  it('SYMBOL(swapper_pg_dir) is the root every online hart runs on', () => {
    const root = kernelRoot(readVmcoreinfo(read, elf!.symbols));
    expect(root % 4096).toBe(0);
    // The guest's global says the same (a linear-map pointer: its low 32 bits are the physical address).
    const global = read(Number(sym('kernel/arch/pgtable/swapper_pg_dir') & 0xffff_ffffn), 4);
    expect(new DataView(global.buffer, global.byteOffset, 4).getUint32(0, true)).toBe(root);
    for (const h of r!.machine.harts) {
      expect(satpRoot((BigInt(h.satpMode) << 60n) | BigInt(h.satpPpn))).toBe(root);
    }
  });

  it('a .text symbol is R X, never W; a .data symbol R W, never X', () => {
    const root = kernelRoot(readVmcoreinfo(read, elf!.symbols));
    const text = ok(walkSv39(read, root, sym('kernel/init/main/kernel_main')));
    expect(text.flags & (PTE_V | PTE_R | PTE_W | PTE_X)).toBe(PTE_V | PTE_R | PTE_X);
    expect(text.level).toBe(0);
    expect(BigInt(text.pa)).toBe(sym('kernel/init/main/kernel_main') & 0xffff_ffffn);
    const data = ok(walkSv39(read, root, sym('kernel/vmcoreinfo/vmcoreinfo_data')));
    expect(data.flags & (PTE_V | PTE_R | PTE_W | PTE_X)).toBe(PTE_V | PTE_R | PTE_W);
    expect(renderPageTable(read, root, sym('kernel/init/main/kernel_main'))).toMatch(/^ PAGE: [0-9a-f]+ {2}\(4K\) {2}VR-X-GA-$/m);
  });

  it('the linear map: __pa(va) = the low 32 bits, in 2 MiB leaves, RW and never X', () => {
    const root = kernelRoot(readVmcoreinfo(read, elf!.symbols));
    for (const va of [0xffff_ffff_8000_0000n, 0xffff_ffff_8800_1234n, 0xffff_ffff_8fff_fff8n]) {
      const t = ok(walkSv39(read, root, va));
      expect(t.pa).toBe(Number(va & 0xffff_ffffn));
      expect(t.level).toBe(1);
      expect(t.flags & (PTE_R | PTE_W | PTE_X)).toBe(PTE_R | PTE_W);
    }
  });

  it('the DMA engine\'s ioremap area maps to its registers', () => {
    const info = readVmcoreinfo(read, elf!.symbols);
    const root = kernelRoot(info);
    const io = readVmapAreas(read, info).find((a) => a.ioremap && a.phys === BigInt(VIRT_DMA_BASE));
    expect(io, 'no ioremap area of the DMA engine').toBeDefined();
    expect(translateSv39(read, root, io!.addr + 8n)).toBe(VIRT_DMA_BASE + 8);
    // Its guard page (the area's last page) is not mapped.
    expect(fault(walkSv39(read, root, io!.addr + io!.size - 4096n)).reason).toMatch(/no valid entry/);
  });

  it('non-canonical and unmapped addresses are WalkFaults with a reason, and vtop says so', () => {
    const root = kernelRoot(readVmcoreinfo(read, elf!.symbols));
    expect(fault(walkSv39(read, root, 0x0000_4000_0000_0000n)).reason).toMatch(/not a canonical/);
    const f = fault(walkSv39(read, root, 0x0000_0000_1000_0000n));
    expect(f.reason).toBe('no valid entry at level 2');
    const text = renderPageTable(read, root, 0xffff_ffff_d000_0000n);
    expect(text).toMatch(/^ffffffffd0000000 {2}\(not mapped\)$/m);
    expect(text).toMatch(/^ {2}WHY: no valid entry at level 1$/m);
  });

  it('the ptdump listing covers the linear map without gaps, and every range agrees with a walk', () => {
    const root = kernelRoot(readVmcoreinfo(read, elf!.symbols));
    const { ranges, bad } = readKernelMappings(read, root);
    expect(bad).toEqual([]);
    const linear = ranges.filter((x) => x.start >= 0xffff_ffff_8000_0000n && x.end <= 0xffff_ffff_c000_0000n);
    expect(linear[0]!.start).toBe(0xffff_ffff_8000_0000n);
    expect(linear[linear.length - 1]!.end).toBe(0xffff_ffff_c000_0000n);
    for (let i = 1; i < linear.length; i++) expect(linear[i]!.start).toBe(linear[i - 1]!.end);
    // Exactly one executable range: the kernel's .text.
    expect(linear.filter((x) => x.flags & PTE_X).length).toBe(1);
    for (const x of ranges) {
      for (const va of [x.start, x.end - 1n]) {
        const t = ok(walkSv39(read, root, va));
        expect(t.flags).toBe(x.flags);
        expect(t.pa).toBe(x.pa + Number(va - x.start));
      }
    }
    const text = renderKernelPageTables(read, root);
    expect(text.split('\n')[0]).toBe('---[ Linear mapping ]---');
    expect(text).toContain('---[ vmalloc() area ]---');
    expect(text).toMatch(/^0xffffffff80000000-0xffffffff80200000 {3}0x0000000080000000 {3} {8}2M PMD {5}D A G \. \. W R V$/m);
  });
});
