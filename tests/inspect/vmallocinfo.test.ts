/**
 * The host reads /proc/vmallocinfo out of guest memory (emulator/inspect/
 * vmallocinfo.ts: vmap_area_list and struct vm_struct, with the layout of
 * kernel/vmcoreinfo.ts) and renders it byte for byte as the guest prints it
 * (kernel/mm/vmalloc.ts print_vmallocinfo, `report=vmallocinfo`, right
 * before power-off), summary line included. Machines: 1 and 4 harts, with
 * and without highmem, without self-tests and after selftest=vmalloc,ioremap
 * / percpu.
 *
 * Also, with the machine stopped every 400 000 instructions during
 * selftest=vmalloc (one hart: the list is consistent between two of its
 * instructions except inside vmap_area_lock), readVmapAreas sees the suite's
 * areas come and go, and whenever it reads the list: the areas are in
 * address order inside [VMALLOC_START, VMALLOC_END), never overlap, are
 * whole pages, a vmalloc area's pages = size / 4 KiB − 1, its guard page is
 * never mapped (emulator/inspect/pagetable.ts through SYMBOL(swapper_pg_dir)),
 * and findVmapArea names the area of an address inside it. And: the format
 * of each kind of line (Linux 6.1's s_show, the samples in
 * ../shared/reference), a corrupt list → VmcoreinfoError.
 */
import { describe, expect, it } from 'vitest';
import { boot, symbolize, guestImages } from '../kernel/images.js';
import { parseElf } from '../../emulator/machine/elf.js';
import { Machine } from '../../emulator/machine/machine.js';
import { readVmcoreinfo, VmcoreinfoError, type ReadPhys } from '../../emulator/inspect/vmcoreinfo.js';
import {
  readVmapAreas, renderVmallocinfo, renderVmallocSummary, formatVmapArea, findVmapArea, VMALLOCINFO_MAX_LINES, type VmapArea,
} from '../../emulator/inspect/vmallocinfo.js';
import { walkSv39, isTranslation } from '../../emulator/inspect/pagetable.js';
import { kernelRoot } from '../../emulator/inspect/ptdump.js';
import { VIRT_DMA_BASE } from '../../emulator/machine/memmap.js';

const MAX_INSNS = 400_000_000;
const VMALLOC_START = 0xffff_ffff_c000_0000n;
const VMALLOC_END = 0xffff_ffff_f000_0000n;

const { kernel, firmware, missing } = await guestImages();

/** The guest's summary line and the area lines after "# cat /proc/vmallocinfo", each with "\n". */
function guestVmallocinfo(console: string): { summary: string; lines: string } {
  const lines = console.split(/\r?\n/);
  const at = lines.indexOf('# cat /proc/vmallocinfo');
  expect(at, 'no "# cat /proc/vmallocinfo" line').toBeGreaterThan(0);
  expect(lines.indexOf('# cat /proc/vmallocinfo', at + 1), 'two reports').toBe(-1);
  const out: string[] = [];
  for (let i = at + 1; i < lines.length && /^0x[0-9a-f]{16}-0x[0-9a-f]{16} /.test(lines[i]!); i++) out.push(`${lines[i]}\n`);
  return { summary: `${lines[at - 1]}\n`, lines: out.join('') };
}

const area = (a: Partial<VmapArea>): VmapArea => ({
  addr: VMALLOC_START, size: 8192n, caller: 0n, nrPages: 0, phys: 0n, flags: 0, ioremap: false, vmalloc: false, vmap: false, descPa: 0, ...a,
});

describe('formatVmapArea', () => {
  it("prints Linux 6.1's s_show fields in its order, with the guest's %pS", () => {
    expect(formatVmapArea(area({ caller: 0xffff_ffff_8026_75ccn, phys: 0x1020_0000n, ioremap: true })))
      .toBe('0xffffffffc0000000-0xffffffffc0002000    8192 [<ffffffff802675cc>] phys=0x0000000010200000 ioremap');
    expect(formatVmapArea(area({ addr: 0xffff_ffff_c000_3000n, size: 16384n, caller: 0xffff_ffff_8020_1000n, nrPages: 3, vmalloc: true })))
      .toBe('0xffffffffc0003000-0xffffffffc0007000   16384 [<ffffffff80201000>] pages=3 vmalloc');
    expect(formatVmapArea(area({ size: 40960000n, nrPages: 10000, vmap: true })))
      .toBe('0xffffffffc0000000-0xffffffffc2710000 40960000 pages=10000 vmap');
  });
  it('findVmapArea: the area of an address, its guard page included', () => {
    const areas = [area({}), area({ addr: VMALLOC_START + 0x3000n, size: 0x2000n })];
    expect(findVmapArea(areas, VMALLOC_START + 0x1fffn)).toBe(areas[0]);
    expect(findVmapArea(areas, VMALLOC_START + 0x2000n)).toBeUndefined();
    expect(findVmapArea(areas, VMALLOC_START + 0x4123n)).toBe(areas[1]);
  });
});

it('the kernel and our firmware build', () => {
  expect(missing).toBeUndefined();
});

const cases = [
  { harts: 4, selftest: undefined, highmem: true },
  { harts: 1, selftest: undefined, highmem: false },
  { harts: 4, selftest: 'vmalloc,ioremap', highmem: true },
  { harts: 1, selftest: 'percpu', highmem: false },
];

describe.skipIf(missing !== undefined)('the host reads /proc/vmallocinfo out of guest memory', () => {
  const elf = missing === undefined ? parseElf(kernel.image!.elf, 'kernel.elf') : undefined;
  for (const c of cases) {
    const title = `${c.harts} harts, ${c.selftest ? `selftest=${c.selftest}` : 'no self-tests'}, ${c.highmem ? 'highmem' : 'no highmem'}`;
    it(`equals the guest's own report byte for byte (${title})`, () => {
      const append = `${c.selftest ? `selftest=${c.selftest} ` : ''}report=vmallocinfo`;
      const r = boot({ kernel: kernel.image!.elf, bios: firmware.image!.elf, harts: c.harts, append, maxInsns: MAX_INSNS, ...(c.highmem ? {} : { highmemSize: 0 }) });
      expect(r.exit, r.console.slice(-2000)).toEqual({ kind: 'pass', code: 0, via: 'finisher' });
      const read: ReadPhys = (pa, len) => r.machine.mem.readBytes(pa, len);
      const info = readVmcoreinfo(read, elf!.symbols);
      const guest = guestVmallocinfo(r.console);
      expect(renderVmallocinfo(read, info)).toBe(guest.lines);
      expect(renderVmallocSummary(read, info)).toBe(guest.summary);
      // The DMA engine's registers: an ioremap area whose caller is kmemlab_dma_probe.
      const areas = readVmapAreas(read, info);
      const dma = areas.find((a) => a.ioremap && a.phys === BigInt(VIRT_DMA_BASE));
      expect(dma).toBeDefined();
      expect(symbolize(kernel.image!, dma!.caller)).toMatch(/kmemlab_dma_probe/);
    });
  }

  it('follows the vmalloc suite\'s areas while it runs, and they are always well-formed', () => {
    const out: number[] = [];
    const m = new Machine({
      harts: 1, bios: { name: 'firmware', bytes: firmware.image!.elf }, kernel: { name: 'kernel.elf', bytes: kernel.image!.elf },
      append: 'selftest=vmalloc', output: (b) => out.push(b),
    });
    const read: ReadPhys = (pa, len) => m.mem.readBytes(pa, len);
    let info: ReturnType<typeof readVmcoreinfo> | undefined;
    let snapshots = 0, maxAreas = 0, vmallocSeen = 0;
    const STEP = 400_000;
    while (m.run(STEP) === 'limit' && m.insns < MAX_INSNS) {
      if (info === undefined || !info.symbols.has('swapper_pg_dir') || !info.symbols.has('pcp_pages')) {
        try { info = readVmcoreinfo(read, elf!.symbols); } catch { continue; } // not published yet
        if (!info.symbols.has('vmap_area_list') || !info.symbols.has('swapper_pg_dir')) continue;
      }
      let areas: VmapArea[];
      try { areas = readVmapAreas(read, info); } catch { continue; } // caught inside a list update
      if (areas.length === 0) continue;
      snapshots++;
      maxAreas = Math.max(maxAreas, areas.length);
      const root = kernelRoot(info);
      for (let i = 0; i < areas.length; i++) {
        const a = areas[i]!;
        expect(a.addr >= VMALLOC_START && a.addr + a.size <= VMALLOC_END).toBe(true);
        expect(a.addr % 4096n).toBe(0n);
        expect(a.size % 4096n).toBe(0n);
        if (i > 0) expect(a.addr).toBeGreaterThanOrEqual(areas[i - 1]!.addr + areas[i - 1]!.size);
        // The guard page never maps.
        expect(isTranslation(walkSv39(read, root, a.addr + a.size - 4096n))).toBe(false);
        expect(findVmapArea(areas, a.addr + a.size - 1n)).toBe(a);
        if (a.vmalloc) {
          vmallocSeen++;
          expect(BigInt(a.nrPages)).toBe(a.size / 4096n - 1n);
        }
      }
    }
    expect(m.exit, Buffer.from(out).toString('latin1').slice(-2000)).toEqual({ kind: 'pass', code: 0, via: 'finisher' });
    expect(snapshots).toBeGreaterThan(10);
    expect(maxAreas).toBeGreaterThan(1);
    expect(vmallocSeen).toBeGreaterThan(0);
  });

  it('a corrupt list is a VmcoreinfoError, not a hang', () => {
    const r = boot({ kernel: kernel.image!.elf, bios: firmware.image!.elf, harts: 1, append: '', maxInsns: MAX_INSNS });
    const read: ReadPhys = (pa, len) => r.machine.mem.readBytes(pa, len);
    const info = readVmcoreinfo(read, elf!.symbols);
    const [first] = readVmapAreas(read, info);
    expect(first).toBeDefined();
    // The first area's next pointer → itself: a loop that never reaches the head.
    const self = first!.descPa;
    const loop: ReadPhys = (pa, len) => {
      const b = new Uint8Array(read(pa, len));
      if (pa === self && len >= 4) new DataView(b.buffer).setUint32(0, self, true);
      return b;
    };
    expect(() => readVmapAreas(loop, info)).toThrow(VmcoreinfoError);
    expect(() => readVmapAreas(loop, info)).toThrow(/loops back/);
    // A next pointer outside the linear map.
    const wild: ReadPhys = (pa, len) => {
      const b = new Uint8Array(read(pa, len));
      if (pa === self && len >= 4) new DataView(b.buffer).setUint32(0, 0x1234, true);
      return b;
    };
    expect(() => readVmapAreas(wild, info)).toThrow(/is not a linear-map pointer: vmap_area_list is corrupt/);
    expect(VMALLOCINFO_MAX_LINES).toBe(256);
  });
});
