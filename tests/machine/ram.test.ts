/**
 * Guest RAM costs host memory only where the guest touches it, and the banks
 * sit where the memory map says.
 */
import { describe, expect, it } from 'vitest';
import { Machine } from '../../emulator/machine/machine.js';
import { PhysMemory } from '../../emulator/machine/ram.js';
import { assemble } from '../../toolchain/asm.js';
import { GiB, MiB, VIRT_DRAM_BASE, VIRT_HIGHMEM_BASE } from '../../emulator/machine/memmap.js';

describe('guest RAM', () => {
  it('a 1 GiB + 2 GiB machine that touches a few pages costs far less than 3 GiB of host memory', () => {
    const before = process.memoryUsage().rss;
    // Touch one word in each of 16 pages spread over both banks.
    const src = `
      li   t0, 0x80100000
      li   t1, 0x100000000
      li   t2, 8
      li   t3, 0x2000000
  1:  sd   t2, 0(t0)
      sd   t2, 0(t1)
      add  t0, t0, t3
      add  t1, t1, t3
      addi t2, t2, -1
      bnez t2, 1b
      li   t0, 0x100000
      li   t1, 0x5555
      sw   t1, 0(t0)`;
    const m = new Machine({ harts: 1, dramSize: 1 * GiB, highmemSize: 2 * GiB, kernel: { name: 'touch', bytes: assemble(src).bytes } });
    expect(m.run(10_000)).toBe('exit');
    const grown = process.memoryUsage().rss - before;
    expect(m.mem.buffer.byteLength).toBeGreaterThanOrEqual(3 * GiB);
    expect(grown).toBeLessThan(256 * MiB);
    // And the stores landed where the guest put them.
    expect(new DataView(m.mem.buffer).getBigUint64(m.mem.offsetOf(VIRT_HIGHMEM_BASE, 8), true)).toBe(8n);
  });

  it('maps each bank at its base and nothing in the holes', () => {
    const mem = new PhysMemory([
      { name: 'dram', base: VIRT_DRAM_BASE, size: 2 * MiB },
      { name: 'highmem', base: VIRT_HIGHMEM_BASE, size: 1 * MiB },
    ]);
    expect(mem.offsetOf(VIRT_DRAM_BASE)).toBe(0);
    expect(mem.offsetOf(VIRT_DRAM_BASE + 2 * MiB - 8, 8)).toBe(2 * MiB - 8);
    expect(mem.offsetOf(VIRT_DRAM_BASE + 2 * MiB - 4, 8)).toBe(-1); // runs off the end
    expect(mem.offsetOf(VIRT_HIGHMEM_BASE)).toBe(2 * MiB);
    expect(mem.offsetOf(VIRT_DRAM_BASE - 1)).toBe(-1);
    expect(() => new PhysMemory([{ name: 'odd', base: 0x1001, size: 4096 }])).toThrow(/page aligned/);
  });
});
