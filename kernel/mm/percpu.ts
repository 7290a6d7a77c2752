/**
 * Per-CPU variables and the per-CPU allocator (Linux mm/percpu.c and
 * include/linux/percpu-defs.h, in miniature).
 *
 * A per-CPU pointer (`__percpu` in Linux) is the address of CPU 0's copy.
 * CPU n's copy is that address plus __per_cpu_offset[n] = n × unit size:
 * every chunk is one contiguous block of nr_units units, unit n belonging to
 * CPU n, so the same offset works for every chunk (Linux gets that from the
 * vmalloc area it lays chunks out in; we get it from contiguous memory):
 *
 *   chunk base ─► ┌── unit 0 (CPU 0) ──┬── unit 1 (CPU 1) ──┬ … ┬── unit N-1 ──┐
 *                 │ 32 KiB             │ 32 KiB             │   │              │
 *                 └────────────────────┴────────────────────┴───┴──────────────┘
 *   per_cpu_ptr(p, cpu) = p + __per_cpu_offset[cpu]        (p inside unit 0)
 *
 * The first chunk (setup_per_cpu_areas, from memblock at boot, Linux's
 * pcpu_embed_first_chunk) has Linux's three parts in every unit
 * (pcpu_setup_first_chunk), and is described by two chunk records as in
 * Linux: the reserved chunk and the first dynamic chunk share its memory.
 *
 *   unit: ┌─ static 4 KiB ─┬─ reserved 8 KiB ─┬─ dynamic 20 KiB ─────────┐
 *         │ DEFINE_PER_CPU │ __alloc_reserved │ __alloc_percpu           │
 *         └────────────────┴──────────────────┴──────────────────────────┘
 *         Linux: static = the kernel's .data..percpu, reserved
 *         PERCPU_MODULE_RESERVE (8 KiB), dynamic PERCPU_DYNAMIC_RESERVE
 *         (28 KiB on 64-bit); we keep Linux's 32 KiB PCPU_MIN_UNIT_SIZE as the
 *         unit (so the size limit is Linux's) and give the static area the
 *         4 KiB our variables need with room to spare.
 *
 * Further chunks come from vmalloc (mm/vmalloc.ts, Linux's pcpu-vm chunks):
 * one area of nr_units × 32 KiB, virtually contiguous, so the unit offsets
 * are the first chunk's; its pages are order-0 (highmem first), so no
 * high-order block is ever needed. The whole unit is dynamic. A chunk that
 * becomes empty is vfree'd by the free_percpu that empties it when that
 * caller may sleep; a free from atomic context leaves it as an empty spare
 * (vfree sleeps: IPIs for the TLB flush), and the next free_percpu that may
 * sleep releases every empty spare (Linux frees them from pcpu_balance_work).
 *
 * Static per-CPU variables (DEFINE_PER_CPU). AssemblyScript has no sections
 * and no start function, so a variable cannot be placed at link time, nor
 * registered by a module-level initialiser. A per-CPU variable is declared
 * as a 16-byte static descriptor, and gets its place in the static area at
 * its first use (per_cpu_var), under pcpu_lock, in the order of first use:
 *
 *   // DEFINE_PER_CPU(u64, my_counter):
 *   const my_counter = memory.data<u32>([8, 8, 0, PERCPU_DESC_MAGIC], 8); // size, align, ptr, magic
 *   this_cpu_inc(per_cpu_var(my_counter));
 *
 *   descriptor: +0 size  +4 align  +8 per-CPU pointer (0 = not placed yet)  +12 magic
 *
 * The static area of every unit is zero at boot and never reused, so a late
 * placement still finds zeroes on every CPU. Placing a variable costs one
 * lock round; after that per_cpu_var is one load and a branch. The static
 * area full is a build-level bug: panic.
 *
 * tp and the cpu_hot block. tp stays what kernel/cpu.ts made it (the offset
 * of this CPU's cpu_hot block, needed from the first instruction, before
 * memory exists). Each cpu_hot block caches its CPU's __per_cpu_offset in
 * `percpu_offset` (x86's this_cpu_off), so this_cpu_ptr(p) is p plus one
 * load from tp's block: no table walk, no smp_processor_id.
 *
 * Allocation map: per chunk, a bitmap of the unit in PCPU_MIN_ALLOC_SIZE
 * (4-byte) units (alloc_map: 1 = in use) and a boundary map (bound_map: a bit
 * at the start of each allocation and just past its end), Linux's two maps.
 * Inside a live allocation no bound bit is set but its first, so its size is
 * the distance to the next bound bit; a free leaves the bound bits alone
 * (its start may be the end mark of the allocation before it), so a live
 * allocation's start is a bit set in both maps.
 * First fit from the chunk's start, honouring the alignment; chunks are
 * searched in order (reserved chunk only for reserved requests). Memory is
 * zeroed on every CPU's copy before it is returned.
 *
 * Limits and messages (Linux pcpu_alloc): size rounded up to 4, align below
 * 4 raised to 4; size 0, size > PCPU_MIN_UNIT_SIZE, align > PAGE_SIZE or not
 * a power of two: a WARN "illegal size (%zu) or align (%zu) for percpu
 * allocation" (not with __GFP_NOWARN) and NULL. No room: "percpu: allocation
 * failed, size=%zu align=%zu atomic=%d, <why>" (the first 10 times, then
 * "percpu: limit reached, disable warning"), with a stack dump unless atomic.
 * Atomic requests (gfp that cannot sleep) use existing chunks only.
 *
 * Context and locks: pcpu_lock (irqsave) around the chunk table and maps.
 * __alloc_percpu / alloc_percpu may sleep (GFP_KERNEL: might_sleep() reports
 * a call in atomic context); the _gfp variants with GFP_ATOMIC / GFP_NOWAIT
 * from any context; free_percpu from any context. The this_cpu_* ops run
 * with interrupts off for their read-modify-write: safe against preemption
 * and interrupts on the same CPU (Linux's generic this_cpu_* do the same).
 */
import { PAGE_SIZE, PAGE_SHIFT, NR_CPUS } from "../arch/layout";
import { this_cpu, cpu_hot_of, smp_processor_id } from "../cpu";
import { preempt_disable, preempt_enable, in_atomic } from "../preempt";
import { local_irq_save, local_irq_restore } from "../arch/irqflags";
import { spinlock_t, SPINLOCK_SIZE, spin_lock_irqsave, spin_unlock_irqrestore } from "../locking/spinlock";
import { memblock_alloc } from "./memblock";
import { __vmalloc_node, vfree } from "./vmalloc";
import { gfp_t, GFP_KERNEL, gfpflags_allow_blocking, __GFP_NOWARN, __GFP_NORETRY } from "./gfp";
import { might_sleep } from "../sched/core";
import { nr_cpu_ids } from "../of/fdt";
import { pr_info, pr_warn } from "../printk";
import { dump_stack } from "../arch/traps";
import { panic, BUG } from "../panic";
import { vmcoreinfo_symbol, vmcoreinfo_size, vmcoreinfo_offset, vmcoreinfo_number, vmcoreinfo_append } from "../vmcoreinfo";

/** Allocation granule (Linux PCPU_MIN_ALLOC_SHIFT / _SIZE). */
export const PCPU_MIN_ALLOC_SHIFT: u32 = 2;
export const PCPU_MIN_ALLOC_SIZE: usize = 1 << PCPU_MIN_ALLOC_SHIFT;
/** Largest allocation, and our unit size (Linux PCPU_MIN_UNIT_SIZE). */
export const PCPU_MIN_UNIT_SIZE: usize = 32 << 10;
export const PCPU_UNIT_SIZE: usize = PCPU_MIN_UNIT_SIZE;
/** The first chunk's parts, per unit. */
export const PERCPU_STATIC_SIZE: usize = 4 << 10;
export const PERCPU_MODULE_RESERVE: usize = 8 << 10;
export const PERCPU_DYNAMIC_SIZE: usize = PCPU_UNIT_SIZE - PERCPU_STATIC_SIZE - PERCPU_MODULE_RESERVE;
/** Chunk records: the reserved chunk, the first dynamic chunk, then vmalloc chunks. */
export const PCPU_MAX_CHUNKS: i32 = 16;
export const PCPU_RESERVED_CHUNK: i32 = 0;
export const PCPU_FIRST_CHUNK: i32 = 1;
/** A static variable's descriptor tag (word 3). */
export const PERCPU_DESC_MAGIC: u32 = 0x55504350; // "PCPU"

/** Map bits per unit, and the bytes of each map (the bound map has one more bit). */
const MAP_BITS: u32 = <u32>(PCPU_UNIT_SIZE >> PCPU_MIN_ALLOC_SHIFT);
const ALLOC_MAP_BYTES: usize = <usize>(MAP_BITS >> 3);
const BOUND_MAP_BYTES: usize = ALLOC_MAP_BYTES + 8;
/** How many allocation failures are reported (Linux warn_limit). */
const PCPU_WARN_LIMIT: i32 = 10;

@unmanaged
class pcpu_chunk {
  /** Unit 0's address; 0 = a free record. */
  base_addr: usize;
  /** The allocatable byte range of each unit, [start_off, end_off). */
  start_off: u32;
  end_off: u32;
  free_bytes: u32;
  nr_alloc: u32;
  /** Backed by vmalloc (vfree it when empty); 0 for the first chunk's two records. */
  vmalloced: u32;
  pad0: u32;
  pad1: u32;
}
const CHUNK_SIZE: usize = 32;

const chunks: usize = memory.data(<i32>CHUNK_SIZE * PCPU_MAX_CHUNKS, 8);
const alloc_maps: usize = memory.data(<i32>ALLOC_MAP_BYTES * PCPU_MAX_CHUNKS, 8);
const bound_maps: usize = memory.data(<i32>BOUND_MAP_BYTES * PCPU_MAX_CHUNKS, 8);
const pcpu_lock = changetype<spinlock_t>(memory.data(SPINLOCK_SIZE, 16));
/** __per_cpu_offset[cpu] (usize each). */
const per_cpu_offsets: usize = memory.data(NR_CPUS * 4, 8);
/**
 * The DEFINE_PER_CPU descriptors placed so far, in placement order (u32
 * kernel addresses), for the host (emulator/inspect/percpu.ts): descriptors
 * are static data without an ELF symbol of their own. Under pcpu_lock.
 */
export const PCPU_MAX_STATIC_VARS: i32 = 64;
const pcpu_static_descs: usize = memory.data(PCPU_MAX_STATIC_VARS * 4, 8);

/** The first chunk's unit 0, and the number of units (possible CPUs). */
export let pcpu_base_addr: usize = 0;
export let pcpu_nr_units: i32 = 0;
/** Bytes of the static area handed out, and the variables placed. */
export let pcpu_static_used: u32 = 0;
export let pcpu_static_vars: i32 = 0;
/** Chunks created (vmalloc) and released (vfree). */
export let pcpu_chunks_created: i32 = 0;
export let pcpu_chunks_destroyed: i32 = 0;
let pcpu_warn_limit: i32 = 10; // PCPU_WARN_LIMIT (a literal: no start function)

// @ts-ignore: decorator
@inline function chunk_of(i: i32): pcpu_chunk { return changetype<pcpu_chunk>(chunks + <usize>i * CHUNK_SIZE); }
// @ts-ignore: decorator
@inline function alloc_map_of(i: i32): usize { return alloc_maps + <usize>i * ALLOC_MAP_BYTES; }
// @ts-ignore: decorator
@inline function bound_map_of(i: i32): usize { return bound_maps + <usize>i * BOUND_MAP_BYTES; }

// --- the per-CPU pointer operations ----------------------------------------------------------

/** __per_cpu_offset[cpu]: what to add to a per-CPU pointer for CPU `cpu`'s copy. Context: any. */
// @ts-ignore: decorator
@inline export function __per_cpu_offset(cpu: i32): usize { return load<usize>(per_cpu_offsets + (<usize>cpu << 2)); }

/** CPU `cpu`'s copy of per-CPU pointer `ptr` (static or dynamic). Context: any. */
// @ts-ignore: decorator
@inline export function per_cpu_ptr(ptr: usize, cpu: i32): usize { return ptr + __per_cpu_offset(cpu); }

/**
 * The current CPU's copy of `ptr`. Context: any; the answer stays this
 * CPU's only while preemption is off (our kthreads never migrate, but do
 * not rely on it: use get_cpu_ptr or the this_cpu_* ops).
 */
// @ts-ignore: decorator
@inline export function this_cpu_ptr(ptr: usize): usize { return ptr + this_cpu().percpu_offset; }
// @ts-ignore: decorator
@inline export function raw_cpu_ptr(ptr: usize): usize { return ptr + this_cpu().percpu_offset; }

/** Read this CPU's u64 at `ptr` (one load: atomic against preemption). Context: any. */
export function this_cpu_read(ptr: usize): u64 {
  const f = local_irq_save();
  const v = load<u64>(this_cpu_ptr(ptr));
  local_irq_restore(f);
  return v;
}

/** Write this CPU's u64 at `ptr`. Context: any. */
export function this_cpu_write(ptr: usize, v: u64): void {
  const f = local_irq_save();
  store<u64>(this_cpu_ptr(ptr), v);
  local_irq_restore(f);
}

/** Add `v` to this CPU's u64 at `ptr`, with interrupts off (no lost update on this CPU). Context: any. */
export function this_cpu_add(ptr: usize, v: u64): void {
  const f = local_irq_save();
  const a = this_cpu_ptr(ptr);
  store<u64>(a, load<u64>(a) + v);
  local_irq_restore(f);
}

/** this_cpu_add and return the new value. Context: any. */
export function this_cpu_add_return(ptr: usize, v: u64): u64 {
  const f = local_irq_save();
  const a = this_cpu_ptr(ptr);
  const n = load<u64>(a) + v;
  store<u64>(a, n);
  local_irq_restore(f);
  return n;
}

// @ts-ignore: decorator
@inline export function this_cpu_sub(ptr: usize, v: u64): void { this_cpu_add(ptr, <u64>(-<i64>v)); }
// @ts-ignore: decorator
@inline export function this_cpu_inc(ptr: usize): void { this_cpu_add(ptr, 1); }
// @ts-ignore: decorator
@inline export function this_cpu_dec(ptr: usize): void { this_cpu_add(ptr, <u64>-1); }

/** Disable preemption and return this CPU's copy of `ptr` (Linux get_cpu_ptr). Pair with put_cpu_ptr. */
export function get_cpu_ptr(ptr: usize): usize {
  preempt_disable();
  return this_cpu_ptr(ptr);
}

/** End of a get_cpu_ptr section. */
export function put_cpu_ptr(ptr: usize): void { preempt_enable(); }

// --- static per-CPU variables ---------------------------------------------------------------

/**
 * The per-CPU pointer of static variable `desc` (Linux `&var` of a
 * DEFINE_PER_CPU variable), placing it in the static area at its first use.
 * Context: any, after setup_per_cpu_areas (the first use takes pcpu_lock).
 */
export function per_cpu_var(desc: usize): usize {
  const p = atomic.load<u32>(desc, 8);
  if (p != 0) return <usize>p;
  return pcpu_place_static(desc);
}

/** CPU `cpu`'s copy of static variable `desc` (Linux &per_cpu(var, cpu)). Context: any. */
export function per_cpu(desc: usize, cpu: i32): usize { return per_cpu_ptr(per_cpu_var(desc), cpu); }

/**
 * Disable preemption and return this CPU's copy of static variable `desc`
 * (Linux &get_cpu_var(var)). Pair with put_cpu_var.
 */
export function get_cpu_var(desc: usize): usize {
  const p = per_cpu_var(desc);
  preempt_disable();
  return this_cpu_ptr(p);
}

/** End of a get_cpu_var section. */
export function put_cpu_var(desc: usize): void { preempt_enable(); }

function pcpu_place_static(desc: usize): usize {
  if (pcpu_base_addr == 0) BUG("per-CPU variable used before setup_per_cpu_areas");
  if (load<u32>(desc, 12) != PERCPU_DESC_MAGIC) BUG("per_cpu_var: not a DEFINE_PER_CPU descriptor");
  const flags = spin_lock_irqsave(pcpu_lock);
  let p = load<u32>(desc, 8);
  if (p == 0) {
    const size = load<u32>(desc);
    let align = load<u32>(desc, 4);
    if (align == 0) align = 1;
    if (size == 0 || (align & (align - 1)) != 0 || align > PAGE_SIZE) {
      spin_unlock_irqrestore(pcpu_lock, flags);
      panic("percpu: bad DEFINE_PER_CPU size %u align %u", size, align);
    }
    const off = (pcpu_static_used + align - 1) & ~(align - 1);
    if (<usize>off + <usize>size > PERCPU_STATIC_SIZE) {
      spin_unlock_irqrestore(pcpu_lock, flags);
      panic("percpu: static area full (%u of %u bytes used, %u more wanted)", pcpu_static_used, PERCPU_STATIC_SIZE, size);
    }
    pcpu_static_used = off + size;
    if (pcpu_static_vars < PCPU_MAX_STATIC_VARS) store<u32>(pcpu_static_descs + (<usize>pcpu_static_vars << 2), <u32>desc);
    pcpu_static_vars++;
    p = <u32>(pcpu_base_addr + <usize>off);
    atomic.store<u32>(desc, p, 8);
  }
  spin_unlock_irqrestore(pcpu_lock, flags);
  return <usize>p;
}

// --- bitmaps --------------------------------------------------------------------------------

/** First set bit in [start, size) of `map`, or size. */
function find_next_bit(map: usize, size: u32, start: u32): u32 {
  if (start >= size) return size;
  let w = start >> 5;
  let word = load<u32>(map + (<usize>w << 2)) & (<u32>0xffffffff << (start & 31));
  while (true) {
    if (word != 0) {
      const r = (w << 5) + ctz<u32>(word);
      return r < size ? r : size;
    }
    w++;
    if ((w << 5) >= size) return size;
    word = load<u32>(map + (<usize>w << 2));
  }
  return size;
}

/** First clear bit in [start, size) of `map`, or size. */
function find_next_zero_bit(map: usize, size: u32, start: u32): u32 {
  if (start >= size) return size;
  let w = start >> 5;
  let word = ~load<u32>(map + (<usize>w << 2)) & (<u32>0xffffffff << (start & 31));
  while (true) {
    if (word != 0) {
      const r = (w << 5) + ctz<u32>(word);
      return r < size ? r : size;
    }
    w++;
    if ((w << 5) >= size) return size;
    word = ~load<u32>(map + (<usize>w << 2));
  }
  return size;
}

// @ts-ignore: decorator
@inline function test_bit(map: usize, b: u32): bool { return (load<u32>(map + (<usize>(b >> 5) << 2)) & (<u32>1 << (b & 31))) != 0; }
// @ts-ignore: decorator
@inline function set_bit(map: usize, b: u32): void {
  const a = map + (<usize>(b >> 5) << 2);
  store<u32>(a, load<u32>(a) | (<u32>1 << (b & 31)));
}
// @ts-ignore: decorator
@inline function clear_bit(map: usize, b: u32): void {
  const a = map + (<usize>(b >> 5) << 2);
  store<u32>(a, load<u32>(a) & ~(<u32>1 << (b & 31)));
}

/** Set (or clear) bits [start, start + n). */
function bitmap_fill(map: usize, start: u32, n: u32, on: bool): void {
  let b = start;
  const end = start + n;
  while (b < end) {
    if ((b & 31) == 0 && end - b >= 32) {
      store<u32>(map + (<usize>(b >> 5) << 2), on ? 0xffffffff : 0);
      b += 32;
      continue;
    }
    if (on) set_bit(map, b); else clear_bit(map, b);
    b++;
  }
}

// --- chunks ---------------------------------------------------------------------------------

function chunk_init(i: i32, base: usize, start_off: u32, end_off: u32, vmalloced: bool): void {
  const c = chunk_of(i);
  memory.fill(alloc_map_of(i), 0, ALLOC_MAP_BYTES);
  memory.fill(bound_map_of(i), 0, BOUND_MAP_BYTES);
  c.start_off = start_off;
  c.end_off = end_off;
  c.free_bytes = end_off - start_off;
  c.nr_alloc = 0;
  c.vmalloced = vmalloced ? 1 : 0;
  c.base_addr = base;
}

/** First fit of `bits` map bits aligned to `align_bits` in chunk i; the start bit, or -1. Under pcpu_lock. */
function pcpu_find_fit(i: i32, bits: u32, align_bits: u32): i32 {
  const c = chunk_of(i);
  if (c.free_bytes < (bits << PCPU_MIN_ALLOC_SHIFT)) return -1;
  const map = alloc_map_of(i);
  const end = c.end_off >> PCPU_MIN_ALLOC_SHIFT;
  const amask = align_bits - 1;
  let bit = ((c.start_off >> PCPU_MIN_ALLOC_SHIFT) + amask) & ~amask;
  while (bit + bits <= end) {
    const s = find_next_bit(map, bit + bits, bit);
    if (s >= bit + bits) return <i32>bit;
    const z = find_next_zero_bit(map, end, s + 1);
    bit = (z + amask) & ~amask;
  }
  return -1;
}

/** Mark the area in use. Under pcpu_lock. */
function pcpu_alloc_area(i: i32, bit: u32, bits: u32): void {
  const c = chunk_of(i);
  bitmap_fill(alloc_map_of(i), bit, bits, true);
  const bm = bound_map_of(i);
  set_bit(bm, bit);
  if (bits > 1) bitmap_fill(bm, bit + 1, bits - 1, false);
  set_bit(bm, bit + bits);
  c.free_bytes -= bits << PCPU_MIN_ALLOC_SHIFT;
  c.nr_alloc++;
}

/** The chunk record holding per-CPU pointer `ptr` (unit 0's range), or -1. Under pcpu_lock. */
function pcpu_chunk_index(ptr: usize): i32 {
  for (let i = 0; i < PCPU_MAX_CHUNKS; i++) {
    const c = chunk_of(i);
    if (c.base_addr == 0) continue;
    if (ptr >= c.base_addr + <usize>c.start_off && ptr < c.base_addr + <usize>c.end_off) return i;
  }
  return -1;
}

/** Which chunk record `ptr` lies in (tests, reports): -1 for none. Context: any. */
export function pcpu_chunk_of(ptr: usize): i32 {
  const flags = spin_lock_irqsave(pcpu_lock);
  const i = pcpu_chunk_index(ptr);
  spin_unlock_irqrestore(pcpu_lock, flags);
  return i;
}

/** Chunk records in use (2 = the first chunk only). Context: any. */
export function pcpu_nr_chunks(): i32 {
  let n = 0;
  const flags = spin_lock_irqsave(pcpu_lock);
  for (let i = 0; i < PCPU_MAX_CHUNKS; i++) if (chunk_of(i).base_addr != 0) n++;
  spin_unlock_irqrestore(pcpu_lock, flags);
  return n;
}

/** Free bytes of chunk record i (per unit), -1 for an unused record. Context: any. */
export function pcpu_chunk_free_bytes(i: i32): i32 {
  if (i < 0 || i >= PCPU_MAX_CHUNKS) return -1;
  const flags = spin_lock_irqsave(pcpu_lock);
  const c = chunk_of(i);
  const r = c.base_addr == 0 ? -1 : <i32>c.free_bytes;
  spin_unlock_irqrestore(pcpu_lock, flags);
  return r;
}

/** Live allocations of chunk record i. Context: any. */
export function pcpu_chunk_nr_alloc(i: i32): i32 {
  if (i < 0 || i >= PCPU_MAX_CHUNKS) return -1;
  return <i32>chunk_of(i).nr_alloc;
}

// --- setup ----------------------------------------------------------------------------------

/**
 * Allocate the first chunk (one unit per possible CPU, from memblock), set
 * __per_cpu_offset[] and every cpu_hot block's percpu_offset. Context: boot
 * CPU, before memblock_free_all and before the other CPUs start; once.
 */
export function setup_per_cpu_areas(): void {
  const units = nr_cpu_ids < 1 ? 1 : nr_cpu_ids > NR_CPUS ? NR_CPUS : nr_cpu_ids;
  const base = memblock_alloc(<u64>units * PCPU_UNIT_SIZE, PAGE_SIZE);
  if (base == 0) panic("Failed to allocate first percpu chunk (%u bytes)", <u64>units * PCPU_UNIT_SIZE);
  pcpu_nr_units = units;
  for (let cpu = 0; cpu < NR_CPUS; cpu++) {
    const off = cpu < units ? <usize>cpu * PCPU_UNIT_SIZE : 0;
    store<usize>(per_cpu_offsets + (<usize>cpu << 2), off);
    cpu_hot_of(cpu).percpu_offset = off;
  }
  chunk_init(PCPU_RESERVED_CHUNK, base, <u32>PERCPU_STATIC_SIZE, <u32>(PERCPU_STATIC_SIZE + PERCPU_MODULE_RESERVE), false);
  chunk_init(PCPU_FIRST_CHUNK, base, <u32>(PERCPU_STATIC_SIZE + PERCPU_MODULE_RESERVE), <u32>PCPU_UNIT_SIZE, false);
  pcpu_base_addr = base;
  pcpu_vmcoreinfo_setup();
  pr_info("percpu: Embedded %u pages/cpu s%u r%u d%u u%u\n", PCPU_UNIT_SIZE >> PAGE_SHIFT, PERCPU_STATIC_SIZE,
    PERCPU_MODULE_RESERVE, PERCPU_DYNAMIC_SIZE, PCPU_UNIT_SIZE);
}

/**
 * The layout the host needs to read per-CPU data (emulator/inspect/percpu.ts),
 * in VMCOREINFO (kernel/vmcoreinfo.ts; one shared page: only what the host
 * cannot derive):
 *
 *   SYMBOL(__per_cpu_offset)     u32 [NR_CPUS]: what to add to a per-CPU pointer for each CPU
 *   NUMBER(pcpu_nr_units), NUMBER(pcpu_unit_size)
 *   SYMBOL(pcpu_chunks)          LENGTH records of SIZE(pcpu_chunk): base_addr (unit 0, a u32
 *                                kernel pointer; 0 = unused record), start_off, end_off,
 *                                free_bytes, nr_alloc, vmalloced (a vmalloc chunk: its
 *                                pointers go through the page tables); record 0 is the
 *                                reserved chunk, 1 the first dynamic one (Linux's two records
 *                                of the first chunk), the static area is [base, record 0's start_off)
 *   SYMBOL(pcpu_static_descs)    LENGTH u32 DEFINE_PER_CPU descriptor addresses in placement
 *                                order, 0 after the last; a descriptor: +0 size, +4 align,
 *                                +8 per-CPU pointer, +12 PERCPU_DESC_MAGIC
 *
 * Context: boot, once (setup_per_cpu_areas).
 */
function pcpu_vmcoreinfo_setup(): void {
  vmcoreinfo_symbol("__per_cpu_offset", per_cpu_offsets);
  vmcoreinfo_number("pcpu_nr_units", pcpu_nr_units);
  vmcoreinfo_number("pcpu_unit_size", <i64>PCPU_UNIT_SIZE);
  vmcoreinfo_symbol("pcpu_chunks", chunks);
  vmcoreinfo_size("pcpu_chunk", CHUNK_SIZE);
  vmcoreinfo_append("LENGTH(pcpu_chunks)=%d\n", PCPU_MAX_CHUNKS);
  vmcoreinfo_offset("pcpu_chunk.start_off", offsetof<pcpu_chunk>("start_off"));
  vmcoreinfo_offset("pcpu_chunk.end_off", offsetof<pcpu_chunk>("end_off"));
  vmcoreinfo_offset("pcpu_chunk.free_bytes", offsetof<pcpu_chunk>("free_bytes"));
  vmcoreinfo_offset("pcpu_chunk.nr_alloc", offsetof<pcpu_chunk>("nr_alloc"));
  vmcoreinfo_offset("pcpu_chunk.vmalloced", offsetof<pcpu_chunk>("vmalloced"));
  vmcoreinfo_symbol("pcpu_static_descs", pcpu_static_descs);
  vmcoreinfo_append("LENGTH(pcpu_static_descs)=%d\n", PCPU_MAX_STATIC_VARS);
}

// --- the allocator --------------------------------------------------------------------------

function pcpu_warn_illegal(size: usize, align: usize): void {
  pr_warn("------------[ cut here ]------------\n");
  pr_warn("illegal size (%zu) or align (%zu) for percpu allocation\n", size, align);
  pr_warn("WARNING: CPU: %d: mm/percpu.ts (pcpu_alloc)\n", smp_processor_id());
  dump_stack();
  pr_warn("---[ end trace 0000000000000000 ]---\n");
}

/**
 * Linux pcpu_alloc: `size` bytes aligned to `align` in every CPU's unit,
 * zeroed, from the reserved chunk or the dynamic chunks. Returns the per-CPU
 * pointer, or 0. Context: may sleep unless `gfp` cannot (then existing
 * chunks only).
 */
function pcpu_alloc(size: usize, align: usize, reserved: bool, gfp: gfp_t): usize {
  const is_atomic = !gfpflags_allow_blocking(gfp);
  const do_warn = (gfp & __GFP_NOWARN) == 0;
  if (align < PCPU_MIN_ALLOC_SIZE) align = PCPU_MIN_ALLOC_SIZE;
  size = (size + PCPU_MIN_ALLOC_SIZE - 1) & ~(PCPU_MIN_ALLOC_SIZE - 1);
  if (size == 0 || size > PCPU_MIN_UNIT_SIZE || align > <usize>PAGE_SIZE || (align & (align - 1)) != 0) {
    if (do_warn) pcpu_warn_illegal(size, align);
    return 0;
  }
  if (pcpu_base_addr == 0) BUG("percpu allocation before setup_per_cpu_areas");
  // Linux takes pcpu_alloc_mutex here for non-atomic requests: a sleeping lock.
  if (!is_atomic) might_sleep("mm/percpu.ts (pcpu_alloc)");
  const bits = <u32>(size >> PCPU_MIN_ALLOC_SHIFT);
  const align_bits = <u32>(align >> PCPU_MIN_ALLOC_SHIFT);
  let err = "";
  let ptr: usize = 0;
  let flags = spin_lock_irqsave(pcpu_lock);
  if (reserved) {
    const bit = pcpu_find_fit(PCPU_RESERVED_CHUNK, bits, align_bits);
    if (bit < 0) err = "alloc from reserved chunk failed";
    else {
      pcpu_alloc_area(PCPU_RESERVED_CHUNK, <u32>bit, bits);
      ptr = chunk_of(PCPU_RESERVED_CHUNK).base_addr + (<usize>bit << PCPU_MIN_ALLOC_SHIFT);
    }
  } else {
    while (true) {
      for (let i = PCPU_FIRST_CHUNK; i < PCPU_MAX_CHUNKS && ptr == 0; i++) {
        if (chunk_of(i).base_addr == 0) continue;
        const bit = pcpu_find_fit(i, bits, align_bits);
        if (bit < 0) continue;
        pcpu_alloc_area(i, <u32>bit, bits);
        ptr = chunk_of(i).base_addr + (<usize>bit << PCPU_MIN_ALLOC_SHIFT);
      }
      if (ptr != 0) break;
      if (is_atomic) { err = "atomic alloc failed, no space left"; break; }
      // A new chunk, outside the lock (vmalloc sleeps). Its own failure
      // message is ours to give (Linux pcpu_create_chunk: pcpu_gfp).
      spin_unlock_irqrestore(pcpu_lock, flags);
      const base = __vmalloc_node(<u64>pcpu_nr_units * PCPU_UNIT_SIZE, PAGE_SIZE,
        (gfp & (GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN)) | __GFP_NOWARN, 0);
      flags = spin_lock_irqsave(pcpu_lock);
      let slot = -1;
      if (base != 0) for (let i = PCPU_FIRST_CHUNK + 1; i < PCPU_MAX_CHUNKS && slot < 0; i++) if (chunk_of(i).base_addr == 0) slot = i;
      if (slot < 0) {
        spin_unlock_irqrestore(pcpu_lock, flags);
        if (base != 0) vfree(base);
        flags = spin_lock_irqsave(pcpu_lock);
        err = "failed to allocate new chunk";
        break;
      }
      chunk_init(slot, base, 0, <u32>PCPU_UNIT_SIZE, true);
      pcpu_chunks_created++;
    }
  }
  spin_unlock_irqrestore(pcpu_lock, flags);
  if (ptr != 0) {
    for (let cpu = 0; cpu < pcpu_nr_units; cpu++) memory.fill(per_cpu_ptr(ptr, cpu), 0, size);
    return ptr;
  }
  if (do_warn && pcpu_warn_limit > 0) {
    pr_warn("percpu: allocation failed, size=%zu align=%zu atomic=%d, %s\n", size, align, is_atomic ? 1 : 0,
      changetype<usize>(err));
    if (!is_atomic) dump_stack();
    pcpu_warn_limit--;
    if (pcpu_warn_limit == 0) pr_info("percpu: limit reached, disable warning\n");
  }
  return 0;
}

/**
 * `size` bytes aligned to `align` on every possible CPU, zeroed (Linux
 * __alloc_percpu). Returns the per-CPU pointer, or 0 (with a warning).
 * Context: process context, may sleep.
 */
export function __alloc_percpu(size: usize, align: usize): usize { return pcpu_alloc(size, align, false, GFP_KERNEL); }

/** __alloc_percpu with allocation flags: GFP_ATOMIC / GFP_NOWAIT never sleep (existing chunks only), __GFP_NOWARN is quiet. */
export function __alloc_percpu_gfp(size: usize, align: usize, gfp: gfp_t): usize { return pcpu_alloc(size, align, false, gfp); }

/** From the first chunk's reserved part (Linux __alloc_reserved_percpu, for modules' static variables). Context: may sleep. */
export function __alloc_reserved_percpu(size: usize, align: usize): usize { return pcpu_alloc(size, align, true, GFP_KERNEL); }

/** The alignment alloc_percpu gives an object of `size` bytes: its size rounded up to a power of two, at most 8 (__alignof__ of a C type). */
export function percpu_natural_align(size: usize): usize {
  let a: usize = 1;
  while (a < size && a < 8) a <<= 1;
  return a;
}

/** Linux alloc_percpu(type): `size` bytes at their natural alignment. Context: may sleep. Returns 0 on failure. */
export function alloc_percpu(size: usize): usize { return pcpu_alloc(size, percpu_natural_align(size), false, GFP_KERNEL); }

/** alloc_percpu with allocation flags (Linux alloc_percpu_gfp). */
export function alloc_percpu_gfp(size: usize, gfp: gfp_t): usize { return pcpu_alloc(size, percpu_natural_align(size), false, gfp); }

/** Bad frees reported. */
export let pcpu_bad_frees: i32 = 0;

/**
 * Free a per-CPU allocation (Linux free_percpu); 0 is ignored. An address
 * that is not the start of a live allocation gets a WARN and is left alone.
 * When the caller may sleep, every vmalloc chunk left empty is vfree'd;
 * from atomic context an emptied chunk stays as a spare. Context: any.
 */
export function free_percpu(ptr: usize): void {
  if (ptr == 0) return;
  let flags = spin_lock_irqsave(pcpu_lock);
  const i = pcpu_chunk_index(ptr);
  const c = i < 0 ? changetype<pcpu_chunk>(0) : chunk_of(i);
  const off = i < 0 ? 0 : <u32>(ptr - c.base_addr);
  const bit = off >> PCPU_MIN_ALLOC_SHIFT;
  if (i < 0 || (off & (<u32>PCPU_MIN_ALLOC_SIZE - 1)) != 0 || !test_bit(alloc_map_of(i), bit) || !test_bit(bound_map_of(i), bit)) {
    spin_unlock_irqrestore(pcpu_lock, flags);
    pcpu_bad_frees++;
    pr_warn("------------[ cut here ]------------\n");
    pr_warn("percpu: free_percpu(%#lx): not the start of a live percpu allocation\n", <u64>ptr);
    pr_warn("WARNING: CPU: %d: mm/percpu.ts (free_percpu)\n", smp_processor_id());
    dump_stack();
    pr_warn("---[ end trace 0000000000000000 ]---\n");
    return;
  }
  const end = find_next_bit(bound_map_of(i), (c.end_off >> PCPU_MIN_ALLOC_SHIFT) + 1, bit + 1);
  // The bound bits stay: bit `bit` may also be the end mark of the allocation before (Linux pcpu_free_area).
  bitmap_fill(alloc_map_of(i), bit, end - bit, false);
  c.free_bytes += (end - bit) << PCPU_MIN_ALLOC_SHIFT;
  c.nr_alloc--;
  spin_unlock_irqrestore(pcpu_lock, flags);
  if (!in_atomic()) pcpu_release_empty_chunks();
}

/** Empty spare chunks. Context: any. */
export function pcpu_nr_empty_chunks(): i32 {
  let n = 0;
  const flags = spin_lock_irqsave(pcpu_lock);
  for (let i = PCPU_FIRST_CHUNK + 1; i < PCPU_MAX_CHUNKS; i++) if (chunk_of(i).base_addr != 0 && chunk_of(i).nr_alloc == 0) n++;
  spin_unlock_irqrestore(pcpu_lock, flags);
  return n;
}

/** vfree every empty vmalloc chunk (detached under the lock, freed outside). Context: process context, may sleep. */
function pcpu_release_empty_chunks(): void {
  while (true) {
    let base: usize = 0;
    const flags = spin_lock_irqsave(pcpu_lock);
    for (let i = PCPU_FIRST_CHUNK + 1; i < PCPU_MAX_CHUNKS && base == 0; i++) {
      const c = chunk_of(i);
      if (c.base_addr == 0 || c.nr_alloc != 0 || c.vmalloced == 0) continue;
      base = c.base_addr;
      c.base_addr = 0;
      pcpu_chunks_destroyed++;
    }
    spin_unlock_irqrestore(pcpu_lock, flags);
    if (base == 0) return;
    vfree(base);
  }
}
