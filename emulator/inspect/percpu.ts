/**
 * Per-CPU data read by the host out of guest memory (kernel/mm/percpu.ts),
 * with the layout it publishes in VMCOREINFO (percpu.ts pcpu_vmcoreinfo_setup):
 * each CPU's copy of a per-CPU variable, as gdb's `p per_cpu(var, cpu)`
 * (Linux per_cpu_ptr: ptr + __per_cpu_offset[cpu]), and the chunk table.
 *
 *   SYMBOL(__per_cpu_offset)  u32[NR_CPUS]; CPUs 0 … NUMBER(pcpu_nr_units) − 1 have a unit
 *   SYMBOL(pcpu_chunks)       records {base_addr, start_off, end_off, free_bytes, nr_alloc,
 *                             vmalloced} (u32 each): 0 the reserved chunk, 1 the first
 *                             dynamic one (both in the first chunk, after its static
 *                             area [base, record 0's start_off)), then vmalloc chunks
 *   SYMBOL(pcpu_static_descs) the DEFINE_PER_CPU descriptors placed so far:
 *                             {u32 size, u32 align, u32 per-CPU pointer, u32 "PCPU"}
 *
 * What a name or address can stand for (resolvePercpu):
 *   a per-CPU pointer          an address inside some chunk's unit 0 (or the static area)
 *   a DEFINE_PER_CPU descriptor  memory with the descriptor magic: its pointer (+8), its size
 *   a variable holding one     a kernel global (ELF symbol, an 8-byte slot) whose value
 *                              is a per-CPU pointer (alloc_percpu's result, pcp_pages_ptr)
 * A name is looked up in VMCOREINFO (SYMBOL(name)) first, then in the ELF
 * symbols (the full `kernel/mm/mmzone/pcp_pages_ptr` or its last component).
 *
 * Copies in a vmalloc chunk (above the linear map) are read through the
 * kernel's page tables (SYMBOL(swapper_pg_dir), emulator/inspect/pagetable.ts).
 */
import { type ReadPhys, type Vmcoreinfo, linearPa, readU32, vmci } from './vmcoreinfo.js';
import { InspectError, hex, kernelPa, kptr, readKernel } from './page.js';

/** PERCPU_DESC_MAGIC ("PCPU", kernel/mm/percpu.ts). */
export const PERCPU_DESC_MAGIC = 0x5550_4350;

export interface PercpuChunk {
  /** The record's index (0 reserved, 1 first dynamic, then vmalloc chunks). */
  index: number;
  kind: 'reserved' | 'dynamic' | 'vmalloc';
  /** Unit 0's kernel virtual address. */
  base: bigint;
  startOff: number;
  endOff: number;
  freeBytes: number;
  nrAlloc: number;
}

export interface PercpuLayout {
  nrUnits: number;
  unitSize: number;
  /** __per_cpu_offset[cpu] for each unit. */
  offsets: number[];
  chunks: PercpuChunk[];
  /** The static area [base, base + staticSize) of unit 0 (DEFINE_PER_CPU). */
  staticBase: bigint;
  staticSize: number;
}

export function readPercpuLayout(read: ReadPhys, info: Vmcoreinfo): PercpuLayout {
  const nrUnits = vmci.number(info, 'pcpu_nr_units');
  const unitSize = vmci.number(info, 'pcpu_unit_size');
  const offs = linearPa(vmci.symbol(info, '__per_cpu_offset'));
  const offsets: number[] = [];
  for (let cpu = 0; cpu < nrUnits; cpu++) offsets.push(readU32(read, offs + cpu * 4));
  const table = linearPa(vmci.symbol(info, 'pcpu_chunks'));
  const size = vmci.size(info, 'pcpu_chunk');
  const n = vmci.length(info, 'pcpu_chunks');
  const f = (name: string): number => vmci.offset(info, `pcpu_chunk.${name}`);
  const chunks: PercpuChunk[] = [];
  for (let i = 0; i < n; i++) {
    const r = table + i * size;
    const base = readU32(read, r);
    if (base === 0) continue;
    chunks.push({
      index: i,
      kind: readU32(read, r + f('vmalloced')) !== 0 ? 'vmalloc' : i === 0 ? 'reserved' : 'dynamic',
      base: kptr(base),
      startOff: readU32(read, r + f('start_off')),
      endOff: readU32(read, r + f('end_off')),
      freeBytes: readU32(read, r + f('free_bytes')),
      nrAlloc: readU32(read, r + f('nr_alloc')),
    });
  }
  const first = chunks.find((c) => c.index === 0);
  if (!first) throw new InspectError('the per-CPU first chunk is not set up (no reserved chunk record): read after setup_per_cpu_areas');
  return { nrUnits, unitSize, offsets, chunks, staticBase: first.base, staticSize: first.startOff };
}

export interface StaticPercpuVar {
  /** Kernel virtual address of the descriptor. */
  desc: bigint;
  size: number;
  align: number;
  /** The per-CPU pointer (unit 0's copy). */
  ptr: bigint;
}

/** The DEFINE_PER_CPU variables placed so far, in placement order. */
export function readStaticPercpuVars(read: ReadPhys, info: Vmcoreinfo): StaticPercpuVar[] {
  const table = linearPa(vmci.symbol(info, 'pcpu_static_descs'));
  const n = vmci.length(info, 'pcpu_static_descs');
  const out: StaticPercpuVar[] = [];
  for (let i = 0; i < n; i++) {
    const d = readU32(read, table + i * 4);
    if (d === 0) break;
    out.push(readDescriptor(read, info, kptr(d)));
  }
  return out;
}

function readDescriptor(read: ReadPhys, info: Vmcoreinfo, va: bigint): StaticPercpuVar {
  const b = readKernel(read, info, va, 16);
  const v = new DataView(b.buffer, b.byteOffset, 16);
  if (v.getUint32(12, true) !== PERCPU_DESC_MAGIC) throw new InspectError(`${hex(va)} is not a DEFINE_PER_CPU descriptor (no "PCPU" magic)`);
  return { desc: va, size: v.getUint32(0, true), align: v.getUint32(4, true), ptr: kptr(v.getUint32(8, true)) };
}

/** Where a per-CPU pointer lies: the static area or a chunk (unit 0's range), or undefined. */
export function percpuArea(l: PercpuLayout, ptr: bigint): { area: 'static' } | { area: 'chunk'; chunk: PercpuChunk } | undefined {
  if (ptr >= l.staticBase && ptr < l.staticBase + BigInt(l.staticSize)) return { area: 'static' };
  const chunk = l.chunks.find((c) => ptr >= c.base + BigInt(c.startOff) && ptr < c.base + BigInt(c.endOff));
  return chunk ? { area: 'chunk', chunk } : undefined;
}

export interface ResolvedPercpu {
  /** The per-CPU pointer (unit 0's address). */
  ptr: bigint;
  /** Bytes per CPU: the descriptor's size, else the caller's or 8. */
  size: number;
  /** How the name or address was understood. */
  how: string;
}

function findElfSymbol(name: string, elf: ReadonlyMap<string, bigint> | undefined): bigint | undefined {
  if (!elf) return undefined;
  const exact = elf.get(name);
  if (exact !== undefined) return exact;
  const hits = [...elf].filter(([k]) => k.endsWith(`/${name}`) || k.endsWith(`.${name}`));
  if (hits.length > 1) throw new InspectError(`${JSON.stringify(name)} is ambiguous: ${hits.map(([k]) => k).join(', ')}`);
  return hits[0]?.[1];
}

/**
 * What `symbolOrAddress` names: see the note. Throws InspectError naming
 * what it found instead.
 */
export function resolvePercpu(read: ReadPhys, info: Vmcoreinfo, symbolOrAddress: string | bigint,
  opts: { elfSymbols?: ReadonlyMap<string, bigint>; size?: number } = {}): ResolvedPercpu {
  const l = readPercpuLayout(read, info);
  let va: bigint;
  let what: string;
  if (typeof symbolOrAddress === 'string') {
    const v = info.symbols.get(symbolOrAddress) ?? findElfSymbol(symbolOrAddress, opts.elfSymbols);
    if (v === undefined) throw new InspectError(`no symbol ${JSON.stringify(symbolOrAddress)} in VMCOREINFO${opts.elfSymbols ? ' or the kernel ELF' : ' (no ELF symbols given)'}`);
    va = v;
    what = symbolOrAddress;
  } else {
    if (symbolOrAddress < 0n || symbolOrAddress >= 1n << 64n) throw new InspectError(`not an address: ${symbolOrAddress}`);
    va = symbolOrAddress;
    what = hex(va);
  }
  const size = opts.size ?? 8;
  if (percpuArea(l, va)) return { ptr: va, size, how: `${what}: a per-CPU pointer` };
  let word: Uint8Array;
  try {
    word = readKernel(read, info, va, 16);
  } catch (e) {
    throw new InspectError(`${what} (${hex(va)}): cannot be read: ${(e as Error).message}`);
  }
  const dv = new DataView(word.buffer, word.byteOffset, 16);
  if (dv.getUint32(12, true) === PERCPU_DESC_MAGIC) {
    const d = readDescriptor(read, info, va);
    if (d.ptr === kptr(0)) throw new InspectError(`${what}: DEFINE_PER_CPU variable not placed yet (never used)`);
    return { ptr: d.ptr, size: opts.size ?? d.size, how: `${what}: DEFINE_PER_CPU descriptor, size ${d.size}, align ${d.align}` };
  }
  const held = kptr(dv.getUint32(0, true));
  if (dv.getUint32(0, true) !== 0 && percpuArea(l, held)) return { ptr: held, size, how: `${what}: a variable holding per-CPU pointer ${hex(held)}` };
  throw new InspectError(`${what} (${hex(va)}) is neither a per-CPU pointer, a DEFINE_PER_CPU descriptor, nor a variable holding a per-CPU pointer`
    + (dv.getUint32(0, true) === 0 ? ' (it holds NULL)' : ''));
}

export interface PercpuCopy {
  cpu: number;
  /** Kernel virtual address of this CPU's copy. */
  va: bigint;
  /** Physical address of its first byte. */
  pa: number;
  bytes: Uint8Array;
  /** The first 8 bytes as a u64 (size ≥ 8), else the bytes as a little-endian number. */
  value: bigint;
}

/** Each CPU's copy of a per-CPU variable (Linux per_cpu_ptr(ptr, cpu) for cpu < nrCpus). */
export function readPercpu(read: ReadPhys, info: Vmcoreinfo, symbolOrAddress: string | bigint,
  opts: { elfSymbols?: ReadonlyMap<string, bigint>; size?: number; nrCpus?: number } = {}): { resolved: ResolvedPercpu; copies: PercpuCopy[] } {
  const l = readPercpuLayout(read, info);
  const resolved = resolvePercpu(read, info, symbolOrAddress, opts);
  const n = opts.nrCpus ?? l.nrUnits;
  if (!Number.isInteger(n) || n < 1 || n > l.nrUnits) throw new InspectError(`nrCpus ${n}: the machine has ${l.nrUnits} per-CPU units`);
  const copies: PercpuCopy[] = [];
  for (let cpu = 0; cpu < n; cpu++) {
    const va = BigInt.asUintN(64, resolved.ptr + BigInt(l.offsets[cpu]!));
    const bytes = readKernel(read, info, va, resolved.size);
    let value = 0n;
    for (let i = Math.min(8, bytes.length) - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
    copies.push({ cpu, va, pa: kernelPa(read, info, va), bytes, value });
  }
  return { resolved, copies };
}

/**
 * gdb's `p per_cpu(var, cpu)` for every CPU: the resolution, then
 * "cpu N: <va> (pa <pa>) = <u64>" and the bytes (up to 64 shown).
 */
export function renderPercpu(read: ReadPhys, info: Vmcoreinfo, symbolOrAddress: string | bigint, nrCpus?: number,
  opts: { elfSymbols?: ReadonlyMap<string, bigint>; size?: number } = {}): string {
  const { resolved, copies } = readPercpu(read, info, symbolOrAddress, { ...opts, ...(nrCpus === undefined ? {} : { nrCpus }) });
  const lines = [`${resolved.how}; ${resolved.size} bytes per CPU`];
  for (const c of copies) {
    const shown = c.bytes.subarray(0, 64);
    const hexBytes = Array.from(shown, (b) => b.toString(16).padStart(2, '0')).join(' ');
    lines.push(`cpu ${c.cpu}: ${hex(c.va, 16)} (pa ${hex(c.pa)}) = ${hex(c.value)}${c.bytes.length > 8 ? `  [${hexBytes}${c.bytes.length > 64 ? ' …' : ''}]` : ''}`);
  }
  return lines.map((x) => `${x}\n`).join('');
}

/**
 * The allocator's state, like Linux's pcpu_dump_alloc_info / the percpu
 * debugfs stats: units, the static area, then one line per chunk record.
 */
export function renderPercpuChunks(read: ReadPhys, info: Vmcoreinfo): string {
  const l = readPercpuLayout(read, info);
  const vars = readStaticPercpuVars(read, info);
  const used = vars.reduce((m, v) => Math.max(m, Number(v.ptr - l.staticBase) + v.size), 0);
  const lines = [
    `percpu: ${l.nrUnits} units of ${l.unitSize} bytes, offsets ${l.offsets.map((o) => hex(o)).join(' ')}`,
    `static: base ${hex(l.staticBase, 16)} size ${l.staticSize}, ${vars.length} variables, ${used} bytes used`,
  ];
  for (const c of l.chunks) {
    lines.push(`chunk ${c.index} ${c.kind.padEnd(8)} base ${hex(c.base, 16)} [${c.startOff}, ${c.endOff}) free ${c.freeBytes} allocs ${c.nrAlloc}`);
  }
  return lines.map((x) => `${x}\n`).join('');
}
