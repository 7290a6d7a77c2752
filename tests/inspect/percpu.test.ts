/**
 * The host reads per-CPU data out of guest memory (emulator/inspect/
 * percpu.ts, through VMCOREINFO): each CPU's copy of a per-CPU variable, as
 * gdb's `p per_cpu(var, cpu)`, and the chunk table.
 *
 *   a DEFINE_PER_CPU the guest prints: pcp_pages (kernel/mm/mmzone.ts, the
 *     per-CPU page lists; SYMBOL(pcp_pages)): each CPU's count / high / batch
 *     in every populated zone equal the guest's own `report=zoneinfo`
 *     "pagesets" lines, on 1 and 4 harts
 *   the static variable registry: pcp_pages is among the placed descriptors,
 *     and the percpu self-test's DEFINE_PER_CPU u32 holds 0xc0de0000 | cpu on
 *     every CPU at the end (what the self-test wrote and checked)
 *   a dynamic per-CPU area in a vmalloc chunk: the machine runs the percpu
 *     self-test in slices until its chunk-growth case has filled the new
 *     chunk's first allocation with 0xa0 + cpu on every CPU; the host reads
 *     those bytes through the page walk (swapper_pg_dir), and whatis names
 *     the vmap area and the CPU's unit
 *   bad input: unknown names, addresses that are no per-CPU anything, too
 *     many CPUs: clear errors
 */
import { describe, expect, it } from 'vitest';
import { boot, guestImages } from '../kernel/images.js';
import { parseElf } from '../../emulator/machine/elf.js';
import { Machine } from '../../emulator/machine/machine.js';
import { readVmcoreinfo, type ReadPhys, type Vmcoreinfo } from '../../emulator/inspect/vmcoreinfo.js';
import {
  readPercpu, readPercpuLayout, readStaticPercpuVars, renderPercpu, renderPercpuChunks, resolvePercpu,
} from '../../emulator/inspect/percpu.js';
import { InspectError, isLinear } from '../../emulator/inspect/page.js';
import { whatis } from '../../emulator/inspect/whatis.js';

const MAX_INSNS = 400_000_000;
const PCP_SIZE = 48; // kernel/mm/mmzone.ts per_cpu_pages: count +32, high +36, batch +40 (u32)

const { kernel, firmware, missing } = await guestImages();
const elf = missing === undefined ? parseElf(kernel.image!.elf, 'kernel.elf') : undefined;

interface Pageset { zone: string; cpu: number; count: number; high: number; batch: number }

/** The guest's zoneinfo "pagesets" entries: zone name, cpu, count, high, batch. */
function guestPagesets(console: string): Pageset[] {
  const lines = console.split(/\r?\n/);
  const at = lines.indexOf('# cat /proc/zoneinfo');
  expect(at, 'no "# cat /proc/zoneinfo" line').toBeGreaterThanOrEqual(0);
  const out: Pageset[] = [];
  let zone = '';
  for (let i = at + 1; i < lines.length; i++) {
    const z = /^Node 0, zone +(\S+)$/.exec(lines[i]!);
    if (z) zone = z[1]!;
    const c = /^ {4}cpu: (\d+)$/.exec(lines[i]!);
    if (!c) continue;
    const v = (k: number, name: string): number => {
      const m = new RegExp(`^ +${name}: +(\\d+)$`).exec(lines[i + k]!);
      expect(m, lines[i + k]).not.toBeNull();
      return Number(m![1]);
    };
    out.push({ zone, cpu: Number(c[1]), count: v(1, 'count'), high: v(2, 'high'), batch: v(3, 'batch') });
  }
  return out;
}

it('the kernel and our firmware build', () => {
  expect(missing).toBeUndefined();
});

describe.skipIf(missing !== undefined)('the host reads per-CPU data out of guest memory', () => {
  for (const harts of [1, 4]) {
    it(`pcp_pages (DEFINE_PER_CPU) per CPU equals the guest's zoneinfo pagesets; the static variables (${harts} harts)`, () => {
      const r = boot({ kernel: kernel.image!.elf, bios: firmware.image!.elf, harts, append: 'selftest=percpu report=zoneinfo', maxInsns: MAX_INSNS });
      expect(r.exit, r.console.slice(-2000)).toEqual({ kind: 'pass', code: 0, via: 'finisher' });
      const read: ReadPhys = (pa, len) => r.machine.mem.readBytes(pa, len);
      const info = readVmcoreinfo(read, elf!.symbols);
      const layout = readPercpuLayout(read, info);
      expect(layout.nrUnits).toBe(harts);
      expect(layout.offsets).toEqual(Array.from({ length: harts }, (_, cpu) => cpu * layout.unitSize));
      const sets = guestPagesets(r.console);
      expect(sets.length).toBeGreaterThanOrEqual(2 * harts);
      const zones = ['DMA', 'Normal', 'HighMem'];
      const { resolved, copies } = readPercpu(read, info, 'pcp_pages', { size: zones.length * PCP_SIZE });
      expect(resolved.how).toMatch(/per-CPU pointer/);
      expect(copies.map((c) => c.cpu)).toEqual(Array.from({ length: harts }, (_, i) => i));
      for (const s of sets) {
        const b = copies[s.cpu]!.bytes;
        const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
        const at = zones.indexOf(s.zone) * PCP_SIZE;
        expect(at, s.zone).toBeGreaterThanOrEqual(0);
        expect([v.getUint32(at + 32, true), v.getUint32(at + 36, true), v.getUint32(at + 40, true)], `${s.zone} cpu ${s.cpu}`)
          .toEqual([s.count, s.high, s.batch]);
      }
      // The same variable through its ELF-named pointer variable.
      expect(resolvePercpu(read, info, 'pcp_pages_ptr', { elfSymbols: elf!.symbols }).ptr).toBe(resolved.ptr);
      // The registry: pcp_pages's descriptor, and the self-test's DEFINE_PER_CPU(u32) = 0xc0de0000 | cpu.
      const vars = readStaticPercpuVars(read, info);
      const pcp = vars.find((x) => x.ptr === resolved.ptr)!;
      expect(pcp).toBeDefined();
      expect(pcp.size).toBe(576);
      expect(resolvePercpu(read, info, pcp.desc).size).toBe(576);
      const u32 = vars.filter((x) => x.size === 4 && x.align === 4);
      expect(u32.length).toBe(1);
      const vals = readPercpu(read, info, u32[0]!.desc).copies.map((c) => c.value);
      expect(vals).toEqual(Array.from({ length: harts }, (_, cpu) => BigInt((0xc0de0000 | cpu) >>> 0)));
      const text = renderPercpu(read, info, u32[0]!.desc);
      expect(text.split('\n')[0]).toMatch(/^0x[0-9a-f]+: DEFINE_PER_CPU descriptor, size 4, align 4; 4 bytes per CPU$/);
      expect(text).toContain(`cpu 0: 0x${u32[0]!.ptr.toString(16)} (pa 0x${(Number(u32[0]!.ptr & 0xffff_ffffn)).toString(16)}) = 0xc0de0000\n`);
      // The self-test released what it grew: the first chunk's two records only, nothing allocated.
      const chunks = renderPercpuChunks(read, info);
      expect(chunks).toMatch(/^chunk 0 reserved +base 0x[0-9a-f]{16} \[4096, 12288\) free 8192 allocs 0$/m);
      expect(chunks).toMatch(/^chunk 1 dynamic +base 0x[0-9a-f]{16} \[12288, 32768\) free 20480 allocs 0$/m);
      expect(layout.chunks.length).toBe(2);
    });
  }

  it('a dynamic per-CPU area in a vmalloc chunk, read through the page walk while the self-test holds it', () => {
    const out: number[] = [];
    const m = new Machine({
      harts: 4, bios: { name: 'firmware', bytes: firmware.image!.elf }, kernel: { name: 'kernel.elf', bytes: kernel.image!.elf },
      append: 'selftest=percpu', output: (b) => out.push(b),
    });
    const read: ReadPhys = (pa, len) => m.mem.readBytes(pa, len);
    let info: Vmcoreinfo | undefined;
    let hit: ReturnType<typeof readPercpu> | undefined;
    // Slices of 20k instructions (a sliced run is exactly the one-call run) until the pattern is there.
    while (!hit && m.insns < MAX_INSNS && m.run(20_000) === 'limit') {
      if (!Buffer.from(out).toString('latin1').includes('percpu_random_alloc_free')) continue;
      info ??= readVmcoreinfo(read, elf!.symbols);
      const v = readPercpuLayout(read, info).chunks.find((c) => c.kind === 'vmalloc' && c.nrAlloc === 1);
      if (!v) continue;
      const r = readPercpu(read, info, v.base + BigInt(v.startOff), { size: 1024 });
      if (r.copies.every((c) => c.bytes.every((b) => b === 0xa0 + c.cpu))) hit = r;
    }
    expect(hit, 'the chunk-growth case never showed its filled allocation').toBeDefined();
    const l = readPercpuLayout(read, info!);
    const chunk = l.chunks.find((c) => c.kind === 'vmalloc')!;
    expect(isLinear(chunk.base)).toBe(false);
    expect(chunk.base >= 0xffff_ffff_c000_0000n).toBe(true);
    for (const c of hit!.copies) {
      expect(c.va).toBe(chunk.base + BigInt(c.cpu * l.unitSize));
      const w = whatis(read, info!, c.va, { elf: elf! });
      expect(w.region).toBe('vmalloc');
      expect(w.pa).toBe(c.pa);
      expect(w.lines.join('\n')).toMatch(/vmalloc space, area 0x[0-9a-f]{16}-0x[0-9a-f]{16} +\d+ .*vmalloc/);
      expect(w.lines.join('\n')).toContain(`per-CPU: unit of CPU ${c.cpu}, offset 0x0 (vmalloc chunk ${chunk.index})`);
    }
    // Four units, four different frames.
    expect(new Set(hit!.copies.map((c) => c.pa)).size).toBe(4);
    expect(renderPercpuChunks(read, info!)).toMatch(new RegExp(`^chunk ${chunk.index} vmalloc +base 0x${chunk.base.toString(16)} \\[0, 32768\\) free 31744 allocs 1$`, 'm'));
    // The run goes on to pass.
    m.run(MAX_INSNS);
    expect(m.exit).toEqual({ kind: 'pass', code: 0, via: 'finisher' });
  });

  it('bad input: clear errors', () => {
    const r = boot({ kernel: kernel.image!.elf, bios: firmware.image!.elf, harts: 2, append: 'report=zoneinfo', maxInsns: MAX_INSNS });
    const read: ReadPhys = (pa, len) => r.machine.mem.readBytes(pa, len);
    const info = readVmcoreinfo(read, elf!.symbols);
    expect(() => resolvePercpu(read, info, 'no_such_variable', { elfSymbols: elf!.symbols })).toThrow(/no symbol "no_such_variable"/);
    expect(() => resolvePercpu(read, info, 'no_such_variable')).toThrow(/no ELF symbols given/);
    // A kernel function is no per-CPU anything.
    const fn = elf!.functions.find((f) => f.name.endsWith('/free_percpu'))!;
    expect(() => resolvePercpu(read, info, fn.value)).toThrow(InspectError);
    expect(() => resolvePercpu(read, info, fn.value)).toThrow(/neither a per-CPU pointer/);
    expect(() => resolvePercpu(read, info, -1n)).toThrow(/not an address/);
    expect(() => readPercpu(read, info, 'pcp_pages', { nrCpus: 3 })).toThrow(/2 per-CPU units/);
    // An unmapped vmalloc address.
    expect(() => resolvePercpu(read, info, 0xffff_ffff_e000_0000n)).toThrow(/cannot be read: .*not mapped/);
  });
});
