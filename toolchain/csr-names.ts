/**
 * CSR names for the assembler and the disassembler.
 *
 * The machine's own CSRs and their names live in emulator/cpu/riscv/csr.ts
 * (CSR_NAMES). GNU binutils 2.40 knows more CSR names than this machine
 * implements (F, V, H, Smstateen, AIA, Sstc, debug …); objdump prints those
 * names, so the disassembler prints them too, and the assembler accepts them.
 * The list below is exactly what `riscv64-unknown-elf-objdump` 2.40 prints for
 * the numbers CSR_NAMES does not name (checked by tests/interop/objdump.test.ts).
 */
import { CSR_BY_NAME, CSR_NAMES } from '../emulator/cpu/riscv/csr.js';

const BINUTILS_EXTRA_CSR_NAMES: ReadonlyArray<readonly [number, string]> = [
  [0x001, 'fflags'], [0x002, 'frm'], [0x003, 'fcsr'], [0x008, 'vstart'], [0x009, 'vxsat'], [0x00a, 'vxrm'],
  [0x00f, 'vcsr'], [0x015, 'seed'], [0x10c, 'sstateen0'], [0x10d, 'sstateen1'], [0x10e, 'sstateen2'],
  [0x10f, 'sstateen3'], [0x114, 'sieh'], [0x14d, 'stimecmp'], [0x150, 'siselect'], [0x151, 'sireg'],
  [0x154, 'siph'], [0x15c, 'stopei'], [0x15d, 'stimecmph'], [0x200, 'vsstatus'], [0x204, 'vsie'],
  [0x205, 'vstvec'], [0x214, 'vsieh'], [0x240, 'vsscratch'], [0x241, 'vsepc'], [0x242, 'vscause'],
  [0x243, 'vstval'], [0x244, 'vsip'], [0x24d, 'vstimecmp'], [0x250, 'vsiselect'], [0x251, 'vsireg'],
  [0x254, 'vsiph'], [0x25c, 'vstopei'], [0x25d, 'vstimecmph'], [0x280, 'vsatp'], [0x308, 'mvien'],
  [0x309, 'mvip'], [0x30c, 'mstateen0'], [0x30d, 'mstateen1'], [0x30e, 'mstateen2'], [0x30f, 'mstateen3'],
  [0x310, 'mstatush'], [0x313, 'midelegh'], [0x314, 'mieh'], [0x318, 'mvienh'], [0x319, 'mviph'],
  [0x31a, 'menvcfgh'], [0x31c, 'mstateen0h'], [0x31d, 'mstateen1h'], [0x31e, 'mstateen2h'],
  [0x31f, 'mstateen3h'], [0x350, 'miselect'], [0x351, 'mireg'], [0x354, 'miph'], [0x35c, 'mtopei'],
  [0x5a8, 'scontext'], [0x600, 'hstatus'], [0x602, 'hedeleg'], [0x603, 'hideleg'], [0x604, 'hie'],
  [0x605, 'htimedelta'], [0x606, 'hcounteren'], [0x607, 'hgeie'], [0x608, 'hvien'], [0x609, 'hvictl'],
  [0x60a, 'henvcfg'], [0x60c, 'hstateen0'], [0x60d, 'hstateen1'], [0x60e, 'hstateen2'], [0x60f, 'hstateen3'],
  [0x613, 'hidelegh'], [0x615, 'htimedeltah'], [0x618, 'hvienh'], [0x61a, 'henvcfgh'], [0x61c, 'hstateen0h'],
  [0x61d, 'hstateen1h'], [0x61e, 'hstateen2h'], [0x61f, 'hstateen3h'], [0x643, 'htval'], [0x644, 'hip'],
  [0x645, 'hvip'], [0x646, 'hviprio1'], [0x647, 'hviprio2'], [0x64a, 'htinst'], [0x655, 'hviph'],
  [0x656, 'hviprio1h'], [0x657, 'hviprio2h'], [0x680, 'hgatp'], [0x6a8, 'hcontext'], [0x747, 'mseccfg'],
  [0x757, 'mseccfgh'], [0x7a4, 'tinfo'], [0x7a5, 'tcontrol'], [0x7a8, 'mcontext'], [0x7aa, 'mscontext'],
  [0x7b0, 'dcsr'], [0x7b1, 'dpc'], [0x7b2, 'dscratch0'], [0x7b3, 'dscratch1'], [0xb80, 'mcycleh'],
  [0xb82, 'minstreth'], [0xc20, 'vl'], [0xc21, 'vtype'], [0xc22, 'vlenb'], [0xc80, 'cycleh'], [0xc81, 'timeh'],
  [0xc82, 'instreth'], [0xda0, 'scountovf'], [0xdb0, 'stopi'], [0xe12, 'hgeip'], [0xeb0, 'vstopi'],
  [0xfb0, 'mtopi'],
];

/** Old names GNU as still accepts (priv 1.9 and earlier), assembler only. */
const LEGACY_CSR_ALIASES: ReadonlyArray<readonly [string, number]> = [
  ['sbadaddr', 0x143], ['mbadaddr', 0x343], ['sptbr', 0x180], ['dscratch', 0x7b2],
];

const NAMES = new Map<number, string>(CSR_NAMES);
for (const [n, s] of BINUTILS_EXTRA_CSR_NAMES) NAMES.set(n, s);
// RV32 high halves of the counters (priv 2.2, table 2.5), which objdump names on RV64 too.
for (let i = 3; i < 32; i++) {
  NAMES.set(0xc80 + i, `hpmcounter${i}h`);
  NAMES.set(0xb80 + i, `mhpmcounter${i}h`);
  NAMES.set(0x720 + i, `mhpmevent${i}h`);
}

const NUMBERS = new Map<string, number>(CSR_BY_NAME);
for (const [n, s] of NAMES) if (!NUMBERS.has(s)) NUMBERS.set(s, n);
for (const [s, n] of LEGACY_CSR_ALIASES) NUMBERS.set(s, n);

/** The name objdump prints for a CSR number, or undefined (objdump then prints 0x%x). */
export function csrName(num: number): string | undefined {
  return NAMES.get(num);
}

/** The CSR number of a name GNU as accepts, or undefined. */
export function csrNumber(name: string): number | undefined {
  return NUMBERS.get(name);
}
