/**
 * The host reads the slab caches out of guest memory (emulator/inspect/
 * slabinfo.ts, through VMCOREINFO) and renders /proc/slabinfo byte for byte
 * as the guest prints it itself (kernel/mm/slub.ts print_slabinfo_body,
 * `report=slabinfo`, printed right before power-off, when the allocator is
 * quiescent). Then the object walk: for every cache, the objects it finds
 * allocated, plus the free ones in CPU slabs (which /proc/slabinfo counts as
 * active, as Linux does), are slabinfo's active_objs, and its slabs are
 * num_slabs; a node-list slab's inuse is its allocated objects. With
 * slub_debug=U the owners (alloc_calls) name kernel functions.
 *
 * Boots: 1 and 4 harts, without self-tests and after selftest=slab,kmalloc,
 * with slub_debug (FZPU on every cache) and slub_debug=U; bounded by
 * instructions.
 */
import { describe, expect, it } from 'vitest';
import { boot, type BootResult, guestImages } from '../kernel/images.js';
import { parseElf } from '../../emulator/machine/elf.js';
import { readVmcoreinfo, VmcoreinfoError, type ReadPhys, type Vmcoreinfo } from '../../emulator/inspect/vmcoreinfo.js';
import {
  SLAB_STORE_USER, bitmapList, formatLocations, readJiffies, readOnlineCpus, readSlabCaches, readSlabObjects, renderSlabinfo,
} from '../../emulator/inspect/slabinfo.js';
import { InspectError } from '../../emulator/inspect/page.js';
import { SymbolTable } from '../../emulator/inspect/symbols.js';

const MAX_INSNS = 400_000_000;

const { kernel, firmware, missing } = await guestImages();
const elf = missing === undefined ? parseElf(kernel.image!.elf, 'kernel.elf') : undefined;

/** The guest's own report: the version and header lines and the rows after "# cat /proc/slabinfo", each with its "\n". */
function guestSlabinfo(console: string): string {
  const lines = console.split(/\r?\n/);
  const at = lines.indexOf('# cat /proc/slabinfo');
  expect(at, 'no "# cat /proc/slabinfo" line').toBeGreaterThanOrEqual(0);
  const out = [`${lines[at + 1]}\n`, `${lines[at + 2]}\n`];
  for (let i = at + 3; i < lines.length && / : slabdata /.test(lines[i]!); i++) out.push(`${lines[i]}\n`);
  expect(out.length).toBeGreaterThan(2);
  return out.join('');
}

interface Case { harts: number; selftest?: string; debug?: string }
const cases: Case[] = [
  { harts: 1 }, { harts: 4 }, { harts: 1, selftest: 'slab,kmalloc' }, { harts: 4, selftest: 'slab,kmalloc' },
  { harts: 2, debug: 'slub_debug' }, { harts: 4, selftest: 'slab,kmalloc', debug: 'slub_debug=U' },
];
const title = (c: Case): string => `${c.harts} harts, ${c.selftest ? `selftest=${c.selftest}` : 'no self-tests'}${c.debug ? `, ${c.debug}` : ''}`;

function run(c: Case): { r: BootResult; read: ReadPhys; info: Vmcoreinfo } {
  const append = [c.selftest ? `selftest=${c.selftest}` : '', c.debug ?? '', 'report=slabinfo'].filter((x) => x).join(' ');
  const r = boot({ kernel: kernel.image!.elf, bios: firmware.image!.elf, harts: c.harts, append, maxInsns: MAX_INSNS });
  expect(r.exit, r.console.slice(-2000)).toEqual({ kind: 'pass', code: 0, via: 'finisher' });
  const read: ReadPhys = (pa, len) => r.machine.mem.readBytes(pa, len);
  return { r, read, info: readVmcoreinfo(read, elf!.symbols) };
}

it('the kernel and our firmware build', () => {
  expect(missing).toBeUndefined();
});

describe('pure helpers', () => {
  it("bitmapList is Linux's %*pbl", () => {
    expect(bitmapList([0, 1, 2, 5, 7, 8])).toBe('0-2,5,7-8');
    expect(bitmapList([3, 3, 1])).toBe('1,3');
    expect(bitmapList([])).toBe('');
  });
});

describe.skipIf(missing !== undefined)('the host reads the slab caches out of guest memory', () => {
  for (const c of cases) {
    it(`/proc/slabinfo equals the guest's own byte for byte, and the object walk agrees (${title(c)})`, () => {
      const { r, read, info } = run(c);
      expect(renderSlabinfo(read, info)).toBe(guestSlabinfo(r.console));
      const caches = readSlabCaches(read, info);
      expect(caches.at(-1)!.name).toBe('kmem_cache');
      let withObjects = 0;
      for (const cache of caches) {
        const objs = readSlabObjects(read, info, cache.name);
        expect(objs.allocated + objs.freeInCpuSlabs, cache.name).toBe(Number(cache.activeObjs));
        expect(objs.allocated + objs.free, cache.name).toBe(Number(cache.numObjs));
        expect(BigInt(objs.slabs.length), cache.name).toBe(cache.numSlabs);
        for (const s of objs.slabs) {
          expect(s.objectList.length, cache.name).toBe(s.objects);
          if (s.where.list !== 'cpu') {
            expect(s.frozen, cache.name).toBe(false);
            expect(s.objectList.filter((o) => o.allocated).length, `${cache.name} slab pfn ${s.pfn}`).toBe(s.inuse);
          } else {
            expect(s.frozen, cache.name).toBe(true);
          }
          if (s.where.list === 'full') expect(s.inuse, cache.name).toBe(s.objects);
        }
        if (objs.allocated > 0) withObjects++;
        // Debug caches take no CPU slabs (everything under the list lock).
        if (c.debug === 'slub_debug') expect(objs.slabs.every((s) => s.where.list !== 'cpu'), cache.name).toBe(true);
      }
      expect(withObjects).toBeGreaterThanOrEqual(2); // kmem_cache and kmalloc-64 at least
      // The descriptor cache holds every cache's descriptor.
      expect(readSlabObjects(read, info, 'kmem_cache').allocated).toBeGreaterThanOrEqual(caches.length);
    });
  }

  it('slub_debug=U: the owners of allocated objects name kernel functions, as alloc_calls', () => {
    const { read, info } = run({ harts: 2, debug: 'slub_debug=U' });
    const syms = new SymbolTable(elf!.functions);
    const opts = { now: readJiffies(read, info), symbolize: (pc: bigint) => syms.format(pc), onlineCpus: readOnlineCpus(read, info).length };
    expect(opts.onlineCpus).toBe(2);
    const line = /^ {0,6}\d+ (\S+) age=\d+(\/\d+\/\d+)? pid=\d+(-\d+)?( cpus=[\d,-]+)?$/;
    let named = 0;
    for (const cache of readSlabCaches(read, info)) {
      expect(cache.flags & SLAB_STORE_USER, cache.name).toBe(SLAB_STORE_USER);
      const objs = readSlabObjects(read, info, cache.name);
      const text = formatLocations(objs, 'alloc', opts);
      if (objs.allocated === 0) {
        expect(text).toBe('No data\n');
        continue;
      }
      const lines = text.trimEnd().split('\n');
      const total = lines.reduce((n, l) => {
        const m = line.exec(l);
        expect(m, `${cache.name}: ${JSON.stringify(l)}`).not.toBeNull();
        if (m![1] !== '<not-available>') {
          expect(m![1], cache.name).toMatch(/^[A-Za-z_][\w$.~<>-]*\+0x[0-9a-f]+\/0x[0-9a-f]+$/);
          named++;
        }
        return n + Number(l.trim().split(' ')[0]);
      }, 0);
      expect(total, cache.name).toBe(objs.allocated);
      // Each recorded owner: cpu online, the call site's function known.
      for (const s of objs.slabs) for (const o of s.objectList) {
        if (!o.allocated || !o.alloc) continue;
        expect(o.alloc.cpu).toBeLessThan(2);
        if (o.alloc.addrs.length > 0) expect(syms.lookup(o.alloc.addrs[0]!), cache.name).toBeDefined();
      }
      expect(formatLocations(objs, 'free', opts)).toMatch(/^ {0,6}\d+ /);
    }
    expect(named).toBeGreaterThan(0);
  });

  it('bad input: clear errors', () => {
    const { read, info } = run({ harts: 1 });
    expect(() => readSlabObjects(read, info, 'no-such-cache')).toThrow(/no slab cache "no-such-cache"/);
    const objs = readSlabObjects(read, info, 'kmalloc-64');
    expect(() => formatLocations(objs, 'alloc', { now: 0n, onlineCpus: 1 })).toThrow(/does not record owners/);
    // A corrupt cache list: slab_caches.next pointing into vmalloc space.
    const head = Number(info.symbols.get('slab_caches')! & 0xffff_ffffn);
    const bad: ReadPhys = (pa, len) => (pa === head && len === 4 ? Uint8Array.of(0, 0, 0, 0xd0) : read(pa, len));
    expect(() => readSlabCaches(bad, info)).toThrow(InspectError);
    expect(() => readSlabCaches(bad, info)).toThrow(/not a linear-map pointer/);
    // No layout published.
    const empty = { ...info, offsets: new Map<string, number>() };
    expect(() => readSlabCaches(read, empty)).toThrow(VmcoreinfoError);
    expect(() => readSlabCaches(read, empty)).toThrow(/OFFSET\(kmem_cache.list\)/);
  });
});
