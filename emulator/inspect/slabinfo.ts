/**
 * The slab caches read by the host out of guest memory (kernel/mm/slub.ts),
 * through the layout the kernel publishes in VMCOREINFO (slub.ts
 * slab_vmcoreinfo_setup): /proc/slabinfo byte for byte as the guest prints
 * it (slub.ts print_slabinfo_body, Linux mm/slab_common.c cache_show), every
 * slab and object of a cache, and who allocated / freed the objects of a
 * SLAB_STORE_USER cache (Linux's /sys/kernel/slab/<cache>/alloc_calls).
 *
 *   SYMBOL(slab_caches) ─▶ kmem_cache.list ⇄ kmem_cache.list ⇄ …   newest first
 *   kmem_cache ┬ name, object_size, size, inuse, offset, red_left_pad, flags, oo
 *              ├ node[nid] ┬ partial ⇄ slab.slab_list ⇄ …     (struct page of the slab)
 *              │           ├ full    ⇄ …
 *              │           └ nr_slabs, total_objects (u64)
 *              └ cpu_slab  per-CPU kmem_cache_cpu {freelist, slab}: a per-CPU pointer
 *                          (+ __per_cpu_offset[cpu], maybe in a vmalloc chunk), or 0 for
 *                          the boot caches' array after node[MAX_NUMNODES]
 *
 * The counts are Linux get_slabinfo's: num_objs = Σ total_objects, active_objs
 * = num_objs − the free objects of the partial slabs (objects free in a CPU's
 * slab — on its CPU freelist, or freed into the frozen slab by another CPU —
 * count as active, as in Linux), active_slabs = num_slabs = Σ nr_slabs,
 * objperslab / pagesperslab from the preferred order (oo). Rows in list
 * order, at most 128 (then the guest's "slabinfo: N more caches not shown").
 *
 * The object walk: a slab's objects are at page_address + red_left_pad +
 * i · size; the free ones are those on the slab's freelist and, for a CPU's
 * slab, on that CPU's freelist; a free object's next pointer is the u32 at
 * +offset. A freelist link that is not an object of its slab, or a list that
 * runs longer than the slab, is an InspectError naming the cache and slab.
 * With SLAB_STORE_USER two tracks follow the free pointer (Linux
 * get_info_end): addrs[LENGTH(track.addrs)] (u64: the call site, then its
 * callers), when (jiffies), cpu, valid, pid.
 *
 * Read a stopped machine, or one whose allocators are quiescent: nothing
 * here takes the kernel's locks.
 */
import { type ReadPhys, type Vmcoreinfo, linearPa, readU32, readU64, vmci } from './vmcoreinfo.js';
import { InspectError, PAGE_SIZE, hex, kptr, readKernel, readKernelString, readKernelU32, readMemSections, readRawPage, pageToPfn, readU16 } from './page.js';

/** Linux include/linux/slab.h (6.1), as kernel/mm/slub.ts. */
export const SLAB_CONSISTENCY_CHECKS = 0x0000_0100;
export const SLAB_RED_ZONE = 0x0000_0400;
export const SLAB_POISON = 0x0000_0800;
export const SLAB_KMALLOC = 0x0000_1000;
export const SLAB_HWCACHE_ALIGN = 0x0000_2000;
export const SLAB_CACHE_DMA = 0x0000_4000;
export const SLAB_STORE_USER = 0x0001_0000;
const WORD = 8;
/** print_slabinfo_body's row limit. */
export const MAX_SLABINFO_ROWS = 128;
/** More caches than this on the list is a corrupt (cyclic) list. */
const MAX_CACHES = 4096;
/** More slabs than this on one list is a corrupt list. */
const MAX_LIST = 1 << 20;

export interface SlabCache {
  /** Kernel pointer (u32) of the struct kmem_cache. */
  addr: number;
  name: string;
  objectSize: number;
  /** The stride (Linux s->size, /proc/slabinfo's objsize). */
  size: number;
  inuse: number;
  /** Offset of the free pointer. */
  offset: number;
  redLeftPad: number;
  flags: number;
  /** The preferred order (oo) and its objects per slab. */
  order: number;
  objectsPerSlab: number;
  /** The per-CPU pointer of the kmem_cache_cpu, 0 for an embedded array (boot caches). */
  cpuSlab: number;
  numSlabs: bigint;
  numObjs: bigint;
  /** Free objects on the node partial lists (Linux count_partial). */
  partialFree: bigint;
  activeObjs: bigint;
}

interface Layout {
  listOff: number;
  nodeOff: number;
  nodeSize: number;
  nodes: number;
  maxNumNodes: number;
  partialOff: number;
  nrSlabsOff: number;
  cpuSize: number;
  cpuFreelistOff: number;
  cpuSlabOff: number;
  nrCpus: number;
  slabListOff: number;
  pageSize: number;
}

function layout(info: Vmcoreinfo): Layout {
  return {
    listOff: vmci.offset(info, 'kmem_cache.list'),
    nodeOff: vmci.offset(info, 'kmem_cache.node'),
    nodeSize: vmci.size(info, 'kmem_cache_node'),
    nodes: vmci.number(info, 'nr_online_nodes'),
    maxNumNodes: vmci.number(info, 'MAX_NUMNODES'),
    partialOff: vmci.offset(info, 'kmem_cache_node.partial'),
    nrSlabsOff: vmci.offset(info, 'kmem_cache_node.nr_slabs'),
    cpuSize: vmci.size(info, 'kmem_cache_cpu'),
    cpuFreelistOff: vmci.offset(info, 'kmem_cache_cpu.freelist'),
    cpuSlabOff: vmci.offset(info, 'kmem_cache_cpu.slab'),
    nrCpus: vmci.number(info, 'pcpu_nr_units'),
    slabListOff: vmci.offset(info, 'slab.slab_list'),
    pageSize: vmci.size(info, 'page'),
  };
}

/** Physical address of a linear-map kernel pointer found in a structure, or a clear error naming `what`. */
function lpa(p: number, what: string): number {
  const va = kptr(p);
  if (p === 0) throw new InspectError(`${what} is NULL`);
  if (va < 0xffff_ffff_8000_0000n || va >= 0xffff_ffff_c000_0000n) throw new InspectError(`${what} (${hex(va)}) is not a linear-map pointer`);
  return linearPa(va);
}

/** The entries of a kernel list_head (u32 next, u32 prev) at physical `head`, bounded; kernel pointers of the entries' list_heads. */
function listEntries(read: ReadPhys, head: number, what: string): number[] {
  const out: number[] = [];
  const headPtr = head; // linear map: a pointer's value is the physical address
  let e = readU32(read, head);
  while (e !== headPtr) {
    if (out.length >= MAX_LIST) throw new InspectError(`${what}: list does not come back to its head after ${MAX_LIST} entries`);
    out.push(e);
    e = readU32(read, lpa(e, `${what}: list entry`));
  }
  return out;
}

function cacheStruct(read: ReadPhys, info: Vmcoreinfo, addr: number, l: Layout): SlabCache {
  const pa = lpa(addr, 'kmem_cache');
  const u32 = (field: string): number => readU32(read, pa + vmci.offset(info, `kmem_cache.${field}`));
  const size = u32('size');
  const order = u32('oo');
  if (size === 0 || size > PAGE_SIZE << 10 || order > 10) throw new InspectError(`kmem_cache at ${hex(kptr(addr))} is not a cache (size ${size}, order ${order})`);
  let numSlabs = 0n;
  let numObjs = 0n;
  let partialFree = 0n;
  const name = readKernelString(read, info, u32('name'));
  for (let nid = 0; nid < l.nodes; nid++) {
    const n = pa + l.nodeOff + nid * l.nodeSize;
    numSlabs += readU64(read, n + l.nrSlabsOff);
    numObjs += readU64(read, n + l.nrSlabsOff + 8);
    for (const e of listEntries(read, n + l.partialOff, `cache ${name} node ${nid} partial`)) {
      const slab = readRawPage(read, info, e - l.slabListOff);
      const inuse = readU16(read, lpa(slab.addr, 'slab') + vmci.offset(info, 'slab.counters')) & 0x7fff;
      partialFree += BigInt(Math.floor((PAGE_SIZE << slab.private) / size) - inuse);
    }
  }
  return {
    addr, name, objectSize: u32('object_size'), size, inuse: u32('inuse'), offset: u32('offset'), redLeftPad: u32('red_left_pad'),
    flags: u32('flags'), order, objectsPerSlab: Math.floor((PAGE_SIZE << order) / size), cpuSlab: u32('cpu_slab'),
    numSlabs, numObjs, partialFree, activeObjs: numObjs - partialFree,
  };
}

/** Every cache on slab_caches, in list order (newest first), with Linux get_slabinfo's counts. */
export function readSlabCaches(read: ReadPhys, info: Vmcoreinfo): SlabCache[] {
  const l = layout(info);
  const head = linearPa(vmci.symbol(info, 'slab_caches'));
  const entries = listEntries(read, head, 'slab_caches');
  if (entries.length > MAX_CACHES) throw new InspectError(`slab_caches has ${entries.length} entries: corrupt`);
  return entries.map((e) => cacheStruct(read, info, e - l.listOff, l));
}

/** The version and header lines of /proc/slabinfo 2.1 (Linux print_slabinfo_header, SLUB: no statistics). */
export const SLABINFO_HEADER = 'slabinfo - version: 2.1\n'
  + '# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> '
  + '<sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n';

/** One row, Linux cache_show: "%-17s %6lu %6lu %6u %4u %4d : tunables %4u %4u %4u : slabdata %6lu %6lu %6lu". */
export function formatSlabinfoRow(c: SlabCache): string {
  const r = (v: bigint | number, w: number): string => String(v).padStart(w);
  return `${c.name.padEnd(17)} ${r(c.activeObjs, 6)} ${r(c.numObjs, 6)} ${r(c.size, 6)} ${r(c.objectsPerSlab, 4)} ${r(1 << c.order, 4)}`
    + ` : tunables ${r(0, 4)} ${r(0, 4)} ${r(0, 4)} : slabdata ${r(c.numSlabs, 6)} ${r(c.numSlabs, 6)} ${r(0, 6)}\n`;
}

/** The text the guest prints after "# cat /proc/slabinfo": header lines, then a row per cache (at most 128). */
export function formatSlabinfo(caches: readonly SlabCache[]): string {
  const rows = caches.slice(0, MAX_SLABINFO_ROWS).map(formatSlabinfoRow).join('');
  const more = caches.length - MAX_SLABINFO_ROWS;
  return SLABINFO_HEADER + rows + (more > 0 ? `slabinfo: ${more} more caches not shown\n` : '');
}

/** readSlabCaches + formatSlabinfo. */
export function renderSlabinfo(read: ReadPhys, info: Vmcoreinfo): string {
  return formatSlabinfo(readSlabCaches(read, info));
}

// --- slabs and objects ---------------------------------------------------------------------------

export interface Track {
  /** addrs[0] is the call site, then its callers (0s left out). */
  addrs: bigint[];
  /** jiffies when it was recorded. */
  when: bigint;
  cpu: number;
  pid: number;
}

export interface SlabObject {
  index: number;
  /** Kernel virtual address of the object (after the left red zone). */
  addr: bigint;
  allocated: boolean;
  /** Free on a CPU's freelist: that CPU. */
  cpuFreelist?: number;
  /** SLAB_STORE_USER: the last allocation and free (undefined = never recorded). */
  alloc?: Track;
  free?: Track;
}

export interface SlabWalk {
  /** Kernel pointer (u32) of the slab's (head) struct page. */
  page: number;
  pfn: number;
  /** Kernel virtual address of the slab's first byte. */
  base: bigint;
  order: number;
  objects: number;
  inuse: number;
  frozen: boolean;
  /** Where it is: a node list, or a CPU's slab. */
  where: { list: 'partial' | 'full'; node: number } | { list: 'cpu'; cpu: number };
  objectList: SlabObject[];
}

export interface CacheObjects {
  cache: SlabCache;
  slabs: SlabWalk[];
  allocated: number;
  free: number;
  /** Free objects of CPU slabs (their CPU freelist or the frozen slab's own): /proc/slabinfo counts them as active. */
  freeInCpuSlabs: number;
}

/** Kernel pointer (u32) of CPU `cpu`'s struct kmem_cache_cpu of cache `c` (per_cpu_ptr, or the embedded array). */
export function cpuSlabPtr(read: ReadPhys, info: Vmcoreinfo, c: SlabCache, cpu: number): number {
  const l = layout(info);
  if (c.cpuSlab !== 0) {
    const off = readU32(read, linearPa(vmci.symbol(info, '__per_cpu_offset')) + cpu * 4);
    return (c.cpuSlab + off) >>> 0;
  }
  return (c.addr + l.nodeOff + l.maxNumNodes * l.nodeSize + cpu * l.cpuSize) >>> 0;
}

function readTrack(read: ReadPhys, info: Vmcoreinfo, at: bigint): Track | undefined {
  const n = vmci.length(info, 'track.addrs');
  const b = readKernel(read, info, at, vmci.size(info, 'track'));
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (v.getUint16(8 * n + 10, true) === 0) return undefined; // valid
  const addrs: bigint[] = [];
  for (let i = 0; i < n; i++) {
    const a = v.getBigUint64(8 * i, true);
    if (a === 0n) break;
    addrs.push(a);
  }
  return { addrs, when: v.getBigUint64(8 * n, true), cpu: v.getUint16(8 * n + 8, true), pid: v.getInt32(8 * n + 12, true) };
}

/** Find a cache by name (the first on the list) or by its kmem_cache pointer. */
export function findCache(read: ReadPhys, info: Vmcoreinfo, cache: string | number): SlabCache {
  const all = readSlabCaches(read, info);
  const c = typeof cache === 'string' ? all.find((x) => x.name === cache) : all.find((x) => x.addr === cache >>> 0);
  if (!c) throw new InspectError(`no slab cache ${typeof cache === 'string' ? JSON.stringify(cache) : hex(kptr(cache))} (caches: ${all.map((x) => x.name).join(', ')})`);
  return c;
}

/**
 * Every slab of a cache (node lists, then each CPU's slab) with each object
 * allocated or free, and the SLAB_STORE_USER tracks. `cache`: its name or
 * its kmem_cache pointer.
 */
export function readSlabObjects(read: ReadPhys, info: Vmcoreinfo, cache: string | number): CacheObjects {
  const c = findCache(read, info, cache);
  const l = layout(info);
  const sections = readMemSections(read, info);
  const cpa = lpa(c.addr, 'kmem_cache');
  const slabs: SlabWalk[] = [];
  const storeUser = (c.flags & SLAB_STORE_USER) !== 0;
  const infoEnd = c.offset >= c.inuse ? c.inuse + WORD : c.inuse;
  const trackSize = storeUser ? vmci.size(info, 'track') : 0;

  const walkSlab = (page: number, where: SlabWalk['where'], cpuFreelist: number): SlabWalk => {
    const what = `cache ${c.name}: slab ${hex(kptr(page))}`;
    const pfn = pageToPfn(info, page, sections);
    if (pfn === undefined) throw new InspectError(`${what} is not a struct page`);
    const raw = readRawPage(read, info, page);
    const ppa = lpa(page, what);
    const cacheOf = readU32(read, ppa + vmci.offset(info, 'slab.slab_cache'));
    if (cacheOf !== c.addr) throw new InspectError(`${what} belongs to cache ${hex(kptr(cacheOf))}, not ${hex(kptr(c.addr))}`);
    const counters = readU16(read, ppa + vmci.offset(info, 'slab.counters'));
    const order = raw.private;
    const objects = Math.floor((PAGE_SIZE << order) / c.size);
    const base = kptr(pfn * PAGE_SIZE); // slab pages are lowmem: page_address is the linear map
    const first = base + BigInt(c.redLeftPad);
    const indexOf = (p: number, list: string): number => {
      const off = kptr(p) - first;
      const i = Number(off / BigInt(c.size));
      if (off < 0n || off % BigInt(c.size) !== 0n || i >= objects) throw new InspectError(`${what}: ${list} link ${hex(kptr(p))} is not an object of the slab`);
      return i;
    };
    const free = new Map<number, number | undefined>();
    const walk = (start: number, list: string, cpu: number | undefined): void => {
      let p = start;
      while (p !== 0) {
        const i = indexOf(p, list);
        if (free.has(i)) throw new InspectError(`${what}: ${list} visits object ${i} twice (a cycle or a double free)`);
        free.set(i, cpu);
        p = readKernelU32(read, info, kptr(p) + BigInt(c.offset));
      }
    };
    walk(readU32(read, ppa + vmci.offset(info, 'slab.freelist')), 'freelist', undefined);
    if (where.list === 'cpu') walk(cpuFreelist, `CPU ${where.cpu} freelist`, where.cpu);
    const objectList: SlabObject[] = [];
    for (let i = 0; i < objects; i++) {
      const addr = first + BigInt(i * c.size);
      const o: SlabObject = { index: i, addr, allocated: !free.has(i) };
      const cpu = free.get(i);
      if (cpu !== undefined) o.cpuFreelist = cpu;
      if (storeUser) {
        const a = readTrack(read, info, addr + BigInt(infoEnd));
        const f = readTrack(read, info, addr + BigInt(infoEnd + trackSize));
        if (a) o.alloc = a;
        if (f) o.free = f;
      }
      objectList.push(o);
    }
    return { page, pfn, base, order, objects, inuse: counters & 0x7fff, frozen: (counters & 0x8000) !== 0, where, objectList };
  };

  for (let nid = 0; nid < l.nodes; nid++) {
    const n = cpa + l.nodeOff + nid * l.nodeSize;
    for (const [list, off] of [['partial', 0], ['full', 8]] as const) {
      for (const e of listEntries(read, n + l.partialOff + off, `cache ${c.name} node ${nid} ${list}`)) {
        slabs.push(walkSlab(e - l.slabListOff, { list, node: nid }, 0));
      }
    }
  }
  for (let cpu = 0; cpu < l.nrCpus; cpu++) {
    const kc = kptr(cpuSlabPtr(read, info, c, cpu));
    const slab = readKernelU32(read, info, kc + BigInt(l.cpuSlabOff));
    if (slab === 0) continue;
    slabs.push(walkSlab(slab, { list: 'cpu', cpu }, readKernelU32(read, info, kc + BigInt(l.cpuFreelistOff))));
  }
  let allocated = 0;
  let free = 0;
  let freeInCpuSlabs = 0;
  for (const s of slabs) {
    for (const o of s.objectList) {
      if (o.allocated) allocated++;
      else {
        free++;
        if (s.where.list === 'cpu') freeInCpuSlabs++;
      }
    }
  }
  return { cache: c, slabs, allocated, free, freeInCpuSlabs };
}

// --- alloc_calls / free_calls ---------------------------------------------------------------------

export interface LocationOptions {
  /** The kernel's jiffies now (readJiffies), for the ages. */
  now: bigint;
  /** A pc to "name+0xoff/0xsize" (SymbolTable.format); undefined: hex. */
  symbolize?: (pc: bigint) => string | undefined;
  /** Online CPUs: the cpus= column only when more than one (as Linux). */
  onlineCpus: number;
}

/** jiffies_64 (SYMBOL(jiffies_64)). */
export function readJiffies(read: ReadPhys, info: Vmcoreinfo): bigint {
  return readU64(read, linearPa(vmci.symbol(info, 'jiffies_64')));
}

/** Online CPUs (SYMBOL(cpu_online_mask), a u64 bitmap). */
export function readOnlineCpus(read: ReadPhys, info: Vmcoreinfo): number[] {
  const m = readU64(read, linearPa(vmci.symbol(info, 'cpu_online_mask')));
  const out: number[] = [];
  for (let i = 0; i < 64; i++) if ((m >> BigInt(i)) & 1n) out.push(i);
  return out;
}

/** Linux %*pbl: "0-2,5". */
export function bitmapList(bits: readonly number[]): string {
  const s = [...new Set(bits)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < s.length;) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j]! + 1) j++;
    out.push(i === j ? `${s[i]}` : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/**
 * Linux list_locations (mm/slub.c, 6.1), for the allocated objects of a
 * SLAB_STORE_USER cache: one line per call site of their last allocation
 * (`alloc`) or last free (`free`), in address order —
 * "%7ld %pS age=min/avg/max pid=min-max cpus=list" (a single age / pid when
 * all agree; cpus only with more than one CPU online) — or "No data".
 */
export function formatLocations(objs: CacheObjects, which: 'alloc' | 'free', opts: LocationOptions): string {
  if ((objs.cache.flags & SLAB_STORE_USER) === 0) throw new InspectError(`cache ${objs.cache.name} does not record owners (no SLAB_STORE_USER: boot with slub_debug=U,${objs.cache.name})`);
  interface Loc { addr: bigint; count: number; sum: bigint; min: bigint; max: bigint; minPid: number; maxPid: number; cpus: number[] }
  const locs = new Map<bigint, Loc>();
  for (const s of objs.slabs) {
    for (const o of s.objectList) {
      if (!o.allocated) continue;
      const t = which === 'alloc' ? o.alloc : o.free;
      const addr = t?.addrs[0] ?? 0n;
      const age = t ? opts.now - t.when : opts.now;
      const pid = t?.pid ?? 0;
      let l = locs.get(addr);
      if (!l) { l = { addr, count: 0, sum: 0n, min: age, max: age, minPid: pid, maxPid: pid, cpus: [] }; locs.set(addr, l); }
      l.count++;
      l.sum += age;
      if (age < l.min) l.min = age;
      if (age > l.max) l.max = age;
      l.minPid = Math.min(l.minPid, pid);
      l.maxPid = Math.max(l.maxPid, pid);
      if (t) l.cpus.push(t.cpu);
    }
  }
  if (locs.size === 0) return 'No data\n';
  const lines: string[] = [];
  for (const l of [...locs.values()].sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0))) {
    let s = `${String(l.count).padStart(7)} `;
    s += l.addr === 0n ? '<not-available>' : (opts.symbolize?.(l.addr) ?? hex(l.addr));
    s += l.sum !== l.min ? ` age=${l.min}/${l.sum / BigInt(l.count)}/${l.max}` : ` age=${l.min}`;
    s += l.minPid !== l.maxPid ? ` pid=${l.minPid}-${l.maxPid}` : ` pid=${l.minPid}`;
    if (opts.onlineCpus > 1 && l.cpus.length > 0) s += ` cpus=${bitmapList(l.cpus)}`;
    lines.push(`${s}\n`);
  }
  return lines.join('');
}

/**
 * A cache's slabs as the object walk found them, one line each (its place:
 * a CPU's slab, or a node's partial or full list; the slab's address,
 * order and objects in use), then the totals; with `objects`, every object
 * under its slab: allocated or free (on which CPU's freelist), and the
 * recorded owner of its last allocation under SLAB_STORE_USER.
 */
export function formatSlabWalk(objs: CacheObjects, objects: boolean, symbolize: (pc: bigint) => string): string {
  const c = objs.cache;
  const out = [`${c.name}: object size ${c.objectSize}, stride ${c.size}, ${objs.slabs.length} slabs, `
    + `${objs.allocated} objects allocated, ${objs.free} free (${objs.freeInCpuSlabs} of them in CPU slabs)\n`];
  for (const s of objs.slabs) {
    const where = s.where.list === 'cpu' ? `cpu ${s.where.cpu}` : `node ${s.where.node} ${s.where.list}`;
    out.push(`  slab ${hex(s.base)} pfn ${hex(s.pfn)} order ${s.order} ${where.padEnd(14)} inuse ${s.inuse}/${s.objects}${s.frozen ? ' frozen' : ''}\n`);
    if (!objects) continue;
    for (const o of s.objectList) {
      let line = `    [${String(o.index).padStart(3)}] ${hex(o.addr)} ${o.allocated ? 'allocated' : o.cpuFreelist !== undefined ? `free (cpu ${o.cpuFreelist} freelist)` : 'free'}`;
      if (o.allocated && o.alloc) line += ` by ${o.alloc.addrs[0] ? symbolize(o.alloc.addrs[0]) : '<not-available>'} cpu ${o.alloc.cpu} pid ${o.alloc.pid}`;
      out.push(`${line}\n`);
    }
  }
  return out.join('');
}

/** Where the object containing kernel virtual `va` is, if `va` lies in a slab of `objs`. */
export function objectAt(objs: CacheObjects, va: bigint): { slab: SlabWalk; object: SlabObject; offset: number } | undefined {
  for (const s of objs.slabs) {
    const end = s.base + BigInt(PAGE_SIZE << s.order);
    if (va < s.base || va >= end) continue;
    const first = s.base + BigInt(objs.cache.redLeftPad);
    const i = va < first ? 0 : Number((va - first) / BigInt(objs.cache.size));
    if (i >= s.objects) return undefined; // the leftover after the last object
    const object = s.objectList[i]!;
    return { slab: s, object, offset: Number(va - object.addr) };
  }
  return undefined;
}

