/**
 * "What is at this address?" (emulator/inspect/whatis.ts) on a stopped
 * guest booted with slub_debug=U (owners recorded) and `report=slabinfo`:
 *
 *   inside an allocated slab object   the cache, the object's index and start,
 *                                     the offset, "allocated", its owner naming
 *                                     a kernel function
 *   a free object of the same cache   "free" (on a CPU freelist or the slab's)
 *   a free page (physical and virtual) its zone, "free buddy block: order N,
 *                                     head pfn …" (a page inside the block too)
 *   a kernel text address             "kernel image text: <function>+0x…"
 *   kernel data                       "kernel image data/bss" with the variable
 *   an unmapped vmalloc address,      "not mapped: …", "not a kernel address",
 *     a user address, a hole in RAM   "not RAM"
 *   bad input                         negative, over 64 bits, non-canonical:
 *                                     InspectError
 */
import { describe, expect, it } from 'vitest';
import { boot, guestImages } from '../kernel/images.js';
import { parseElf } from '../../emulator/machine/elf.js';
import { readVmcoreinfo, type ReadPhys } from '../../emulator/inspect/vmcoreinfo.js';
import { InspectError, readMemSections, pfnToPage, readRawPage } from '../../emulator/inspect/page.js';
import { readSlabObjects } from '../../emulator/inspect/slabinfo.js';
import { whatis, formatWhatis } from '../../emulator/inspect/whatis.js';
import { SymbolTable } from '../../emulator/inspect/symbols.js';

const MAX_INSNS = 400_000_000;

const { kernel, firmware, missing } = await guestImages();
const elf = missing === undefined ? parseElf(kernel.image!.elf, 'kernel.elf') : undefined;

it('the kernel and our firmware build', () => {
  expect(missing).toBeUndefined();
});

describe.skipIf(missing !== undefined)('whatis', () => {
  const r = missing === undefined
    ? boot({ kernel: kernel.image!.elf, bios: firmware.image!.elf, harts: 2, append: 'slub_debug=U report=slabinfo', maxInsns: MAX_INSNS })
    : undefined;
  const read: ReadPhys = (pa, len) => r!.machine.mem.readBytes(pa, len);
  const info = missing === undefined ? readVmcoreinfo(read, elf!.symbols) : undefined;
  const symbols = missing === undefined ? new SymbolTable(elf!.functions) : undefined;
  const opts = { elf: elf!, symbols: symbols! };

  it('the boot passes', () => {
    expect(r!.exit, r!.console.slice(-2000)).toEqual({ kind: 'pass', code: 0, via: 'finisher' });
  });

  it('an address inside an allocated slab object: cache, object, offset, owner', () => {
    const objs = readSlabObjects(read, info!, 'kmalloc-64');
    const o = objs.slabs.flatMap((s) => s.objectList).find((x) => x.allocated)!;
    expect(o).toBeDefined();
    const w = whatis(read, info!, o.addr + 5n, opts);
    expect(w.region).toBe('linear');
    expect(w.object).toMatchObject({ cache: 'kmalloc-64', index: o.index, start: o.addr, offset: 5, allocated: true });
    const text = formatWhatis(w);
    expect(text).toContain(`slab object ${o.index} of kmalloc-64 at 0x${o.addr.toString(16)} (object size 64, stride ${objs.cache.size}), offset 5: allocated`);
    expect(text).toMatch(/flags: 0x[0-9a-f]+\((\w+\|)*slab(\|\w+)*\)/);
    expect(text).toMatch(/slab: cache kmalloc-64, head pfn 0x[0-9a-f]+, order 0, inuse \d+/);
    // The owner, a kernel function (slub_debug=U), as the kernel recorded it.
    expect(text).toMatch(/ {2}allocated by [A-Za-z_]\w*\+0x[0-9a-f]+\/0x[0-9a-f]+ age=\d+ cpu=[01] pid=\d+\n/);
    // The same through its physical address.
    const p = whatis(read, info!, (o.addr + 5n) & 0xffff_ffffn, opts);
    expect(p.region).toBe('physical');
    expect(p.object).toEqual(w.object);
  });

  it('a free slab object, a free page (physical and virtual), a page inside a free block', () => {
    const objs = readSlabObjects(read, info!, 'kmalloc-64');
    const f = objs.slabs.flatMap((s) => s.objectList).find((x) => !x.allocated)!;
    expect(whatis(read, info!, f.addr, opts).object).toMatchObject({ allocated: false, offset: 0 });
    expect(formatWhatis(whatis(read, info!, f.addr, opts))).toMatch(/: free( \(on CPU \d's freelist\))?\n/);
    // A free block of order ≥ 1 in low memory.
    const sections = readMemSections(read, info!);
    const low = sections[0]!;
    const buddy = Number(info!.numbers.get('PAGE_TYPE_BUDDY')) >>> 0;
    let head = -1;
    let order = 0;
    for (let pfn = low.startPfn; pfn < low.endPfn && head < 0; pfn++) {
      const p = readRawPage(read, info!, pfnToPage(read, info!, pfn, sections)!);
      if (p.pageType >>> 0 === buddy && p.private >= 1) { head = pfn; order = p.private; }
    }
    expect(head).toBeGreaterThan(0);
    const phys = whatis(read, info!, BigInt(head * 4096), opts);
    expect(phys.page?.buddy).toEqual({ headPfn: head, order });
    expect(formatWhatis(phys)).toContain(`free buddy block: order ${order}, head pfn 0x${head.toString(16)} (this page)`);
    const inside = whatis(read, info!, 0xffff_ffff_0000_0000n + BigInt((head + 1) * 4096 + 123), opts);
    expect(inside.region).toBe('linear');
    expect(inside.pa).toBe((head + 1) * 4096 + 123);
    expect(formatWhatis(inside)).toContain(`free buddy block: order ${order}, head pfn 0x${head.toString(16)}\n`);
    expect(inside.page!.zone).toMatch(/^(DMA|Normal)$/);
  });

  it('kernel text and data in the image', () => {
    const fn = elf!.functions.find((f) => f.name.endsWith('/kmem_cache_shrink'))!;
    const t = whatis(read, info!, fn.value + 8n, opts);
    expect(t.region).toBe('kernel-image');
    expect(t.lines[0]).toBe(`0x${(fn.value + 8n).toString(16)}: kernel image text: kmem_cache_shrink+0x8/0x${fn.size.toString(16)} (linear map, pa 0x${Number(fn.value + 8n - 0xffff_ffff_0000_0000n).toString(16)})`);
    expect(formatWhatis(t)).toContain('flags: ');
    expect(formatWhatis(t)).toMatch(/reserved/);
    const v = elf!.symbols.get('kernel/vmcoreinfo/vmcoreinfo_data')!;
    const d = whatis(read, info!, v, opts);
    expect(d.lines[0]).toMatch(/kernel image (data|bss): kernel\/vmcoreinfo\/vmcoreinfo_data\+0x0 /);
  });

  it('unmapped, user space, not RAM: answers, not errors', () => {
    const u = whatis(read, info!, 0xffff_ffff_e000_0000n, opts);
    expect(u.region).toBe('vmalloc');
    expect(u.lines.join('\n'), u.lines.join('\n')).toMatch(/vmalloc space, in no vmap area\n {2}not mapped: no valid entry at level \d/);
    expect(u.pa).toBeUndefined();
    const user = whatis(read, info!, 0x3f_0000_1000n, { ...opts, physical: false });
    expect(user.lines[0]).toContain('not a kernel address');
    const hole = whatis(read, info!, 0x1_0000_0000n - 0x1000n + 0x10n, opts); // between low DRAM's end and high DRAM
    expect(hole.lines.join('\n')).toMatch(/not RAM/);
    const mmio = whatis(read, info!, 0x1000_0000n, opts); // the UART
    expect(mmio.region).toBe('not-ram');
  });

  it('bad input: clear errors', () => {
    expect(() => whatis(read, info!, -1n, opts)).toThrow(InspectError);
    expect(() => whatis(read, info!, 1n << 64n, opts)).toThrow(/not an address/);
    expect(() => whatis(read, info!, 0x0000_8000_0000_0000n, opts)).toThrow(/not a canonical Sv39 address/);
    expect(() => whatis(read, info!, 1n << 40n, { ...opts, physical: true })).toThrow(/beyond the 39-bit physical address space/);
  });
});
