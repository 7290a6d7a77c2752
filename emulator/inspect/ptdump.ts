/**
 * Page-table dumps of the kernel's Sv39 tables, read by the host (through
 * emulator/inspect/pagetable.ts, no side effects). The root is the kernel's
 * swapper_pg_dir (SYMBOL(swapper_pg_dir) in VMCOREINFO, a linear-map
 * address: kernelRoot) or any satp's (pagetable.ts satpRoot).
 *
 * renderPageTable(read, root, va): one address, in the manner of crash(8)'s
 * `vtop` (levels named as Linux names them on riscv64 Sv39: PGD = level 2,
 * PMD = level 1, PTE = level 0; addresses in hex without 0x, as crash):
 *
 *   VIRTUAL           PHYSICAL
 *   ffffffff80264534  80264534
 *
 *   PGD DIRECTORY: 8ffff000
 *     PGD: 8ffffff0 [510] => 23fff801          V-------
 *     PMD: 8fffe008 [1]   => 23fff401          V-------
 *     PTE: 8fffd320 [100] => 2009906b          VR-X-GA-
 *    PAGE: 80264000  (4K)  VR-X-GA-
 *
 * Each step is the PTE's physical address, its index in its table, its
 * value and its flags (pagetable.ts pteFlagString: V R W X U G A D, '-' for
 * a clear bit); PAGE is the leaf's frame and size (4K, 2M or 1G). An address
 * that does not map prints "(not mapped)" as its physical address, the steps
 * that were read, then "  WHY: <reason>" (the WalkFault reason).
 *
 * renderKernelPageTables(read, root): every mapping of the tables, in the
 * manner of Linux's ptdump (arch/riscv/mm/ptdump.c, /sys/kernel/debug/
 * kernel_page_tables): address markers for the kernel's regions
 * (kernel/arch/layout.ts), then one line per run of leaves that are
 * contiguous in VA and PA, at the same level, with the same flags:
 *
 *   ---[ Linear mapping ]---
 *   0xffffffff80000000-0xffffffff80200000   0x0000000080000000           2M PMD     D A G . . W R V
 *   0xffffffff80200000-0xffffffff8026a000   0x0000000080200000         424K PTE     . A G . X . R V
 *   ---[ vmalloc() area ]---
 *   0xffffffffc0000000-0xffffffffc0001000   0x0000000010200000           4K PTE     D A G . . W R V
 *
 * (start-end VA, start PA, size as Linux's dump_addr "%9lu%c" in the largest
 * of K/M/G that divides it, the level, and
 * Linux's riscv flag columns: D A G U X W R V, '.' for a clear bit). A
 * malformed entry (pagetable.ts's rules) is listed as "bad" with its reason
 * instead of being followed.
 */
import type { ReadPhys, Vmcoreinfo } from './vmcoreinfo.js';
import { linearPa, vmci } from './vmcoreinfo.js';
import { LEVEL_SIZE, PAGE_SIZE, PTE_R, PTE_V, PTE_W, PTE_X, isTranslation, pteFlagString, walkSv39 } from './pagetable.js';

/** Linux's names of the Sv39 levels. */
export const LEVEL_NAME = ['PTE', 'PMD', 'PGD'] as const;

/** Where the kernel's regions start (kernel/arch/layout.ts), as Linux's ptdump address markers. */
export const ADDRESS_MARKERS: readonly { start: bigint; name: string }[] = [
  { start: 0xffff_ffff_8000_0000n, name: 'Linear mapping' },
  { start: 0xffff_ffff_c000_0000n, name: 'vmalloc() area' },
  { start: 0xffff_ffff_f000_0000n, name: 'Early I/O' },
  { start: 0xffff_ffff_f800_0000n, name: 'pkmap' },
  { start: 0xffff_ffff_f840_0000n, name: 'Fixmap start' },
];

/** The physical address of the kernel's root table (SYMBOL(swapper_pg_dir), a linear-map address). */
export function kernelRoot(info: Vmcoreinfo): number {
  return linearPa(vmci.symbol(info, 'swapper_pg_dir'));
}

const hex = (v: bigint | number): string => BigInt.asUintN(64, BigInt(v)).toString(16);
const sizeName = (bytes: bigint): string => {
  for (const [unit, shift] of [['G', 30n], ['M', 20n], ['K', 10n]] as const) {
    if (bytes >= 1n << shift && bytes % (1n << shift) === 0n) return `${bytes >> shift}${unit}`;
  }
  return `${bytes}`;
};

/** One address, crash `vtop` style (see the note). */
export function renderPageTable(read: ReadPhys, root: number, va: bigint): string {
  const t = walkSv39(read, root, va);
  const v = BigInt.asUintN(64, va);
  const lines = ['VIRTUAL           PHYSICAL', `${hex(v).padEnd(16)}  ${isTranslation(t) ? hex(t.pa) : '(not mapped)'}`, '', `PGD DIRECTORY: ${hex(root)}`];
  const stepLines = t.steps.map((s) => {
    const index = `[${Number((v >> BigInt(12 + 9 * s.level)) & 0x1ffn)}]`;
    return `  ${LEVEL_NAME[s.level]}: ${hex(s.pteAddr)} ${index.padEnd(5)} => ${hex(s.pte).padEnd(16)}  ${pteFlagString(Number(s.pte & 0xffn))}`;
  });
  lines.push(...stepLines);
  if (isTranslation(t)) {
    const size = LEVEL_SIZE[t.level]!;
    lines.push(` PAGE: ${hex(t.pa - (t.pa % size))}  (${sizeName(BigInt(size))})  ${pteFlagString(t.flags)}`);
  } else {
    lines.push(`  WHY: ${t.reason}`);
  }
  return lines.map((l) => `${l}\n`).join('');
}

/** Linux riscv ptdump's flag columns, high bit first: D A G U X W R V ('.' when clear). */
export function ptdumpFlags(flags: number): string {
  const names = 'VRWXUGAD';
  const out: string[] = [];
  for (let i = 7; i >= 0; i--) out.push((flags & (1 << i)) !== 0 ? names[i]! : '.');
  return out.join(' ');
}

export interface MappedRange {
  start: bigint;
  end: bigint;
  pa: number;
  level: number;
  flags: number;
}

export interface BadEntry {
  va: bigint;
  level: number;
  pteAddr: number;
  pte: bigint;
  reason: string;
}

/** The VA of index `i` at `level` under `base`, sign-extended from bit 38. */
function vaOf(base: bigint, level: number, i: number): bigint {
  const v = base | (BigInt(i) << BigInt(12 + 9 * level));
  return level === 2 && i >= 256 ? v | (0xffff_ff80_0000_0000n) : v;
}

/**
 * Every leaf under `root`, merged into ranges (contiguous VA and PA, same
 * level and flags), in VA order (low half first), plus the entries that a
 * walk would refuse (they are not followed).
 */
export function readKernelMappings(read: ReadPhys, root: number): { ranges: MappedRange[]; bad: BadEntry[] } {
  const ranges: MappedRange[] = [];
  const bad: BadEntry[] = [];
  const table = (pa: number): bigint[] => {
    const b = read(pa, PAGE_SIZE);
    const dv = new DataView(b.buffer, b.byteOffset, PAGE_SIZE);
    return Array.from({ length: 512 }, (_, i) => dv.getBigUint64(i * 8, true));
  };
  const visit = (tablePa: number, level: number, base: bigint): void => {
    const ptes = table(tablePa);
    for (let i = 0; i < 512; i++) {
      const pte = ptes[i]!;
      const lo = Number(pte & 0xffn);
      if ((lo & PTE_V) === 0) continue;
      const va = vaOf(base, level, i);
      const fail = (reason: string): void => { bad.push({ va, level, pteAddr: tablePa + i * 8, pte, reason }); };
      if ((lo & PTE_R) === 0 && (lo & PTE_W) !== 0) { fail('writable but not readable (reserved)'); continue; }
      if (pte >> 54n !== 0n) { fail('reserved bits 63..54 set'); continue; }
      const ppn = (pte >> 10n) & ((1n << 44n) - 1n);
      if ((lo & (PTE_R | PTE_X)) === 0) {
        if (level === 0) { fail('level-0 entry points to another table'); continue; }
        visit(Number(ppn) * PAGE_SIZE, level - 1, va);
        continue;
      }
      if ((ppn & ((1n << BigInt(9 * level)) - 1n)) !== 0n) { fail(`misaligned level-${level} superpage`); continue; }
      const size = BigInt(LEVEL_SIZE[level]!);
      const pa = Number(ppn) * PAGE_SIZE;
      const last = ranges[ranges.length - 1];
      if (last && last.end === va && !ADDRESS_MARKERS.some((m) => m.start === va) && last.level === level && last.flags === lo && last.pa + Number(last.end - last.start) === pa) {
        last.end = va + size;
      } else {
        ranges.push({ start: va, end: va + size, pa, level, flags: lo });
      }
    }
  };
  visit(root, 2, 0n);
  return { ranges, bad };
}

/** One ptdump line (no "\n"). */
export function formatRange(r: MappedRange): string {
  const pad16 = (v: bigint | number): string => `0x${hex(v).padStart(16, '0')}`;
  // Linux dump_addr: "%9lu%c %s" of the size in the largest unit that divides it.
  const size = sizeName(r.end - r.start);
  const unit = /[KMG]$/.test(size) ? size.slice(-1) : ' ';
  const num = unit === ' ' ? size : size.slice(0, -1);
  return `${pad16(r.start)}-${pad16(r.end)}   ${pad16(r.pa)}   ${num.padStart(9)}${unit} ${LEVEL_NAME[r.level]}     ${ptdumpFlags(r.flags)}`;
}

/** The whole table, Linux ptdump style (see the note). */
export function renderKernelPageTables(read: ReadPhys, root: number): string {
  const { ranges, bad } = readKernelMappings(read, root);
  const lines: string[] = [];
  let marker = -1;
  for (const r of ranges) {
    let m = marker;
    while (m + 1 < ADDRESS_MARKERS.length && r.start >= ADDRESS_MARKERS[m + 1]!.start) m++;
    if (m !== marker) { lines.push(`---[ ${ADDRESS_MARKERS[m]!.name} ]---`); marker = m; }
    lines.push(formatRange(r));
  }
  for (const b of bad) {
    lines.push(`bad ${LEVEL_NAME[b.level]} at 0x${hex(b.va).padStart(16, '0')}: pte 0x${hex(b.pte)} at 0x${hex(b.pteAddr)}: ${b.reason}`);
  }
  return lines.map((l) => `${l}\n`).join('');
}
