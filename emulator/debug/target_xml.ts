/**
 * The target description the GDB stub hands gdb (qXfer:features:read:
 * target.xml; GDB manual, "Target Descriptions" and "RISC-V Features"), and
 * gdb's register numbering for RISC-V (gdb/riscv-tdep.h):
 *
 *   0 … 31      x0 … x31 (org.gnu.gdb.riscv.cpu, ABI names as QEMU gives them)
 *   32          pc
 *   33 … 64     f0 … f31, fcsr: absent, our harts are RV64IMAC
 *   65 + n      CSR number n (org.gnu.gdb.riscv.csr)
 *   4161        priv, the privilege level (org.gnu.gdb.riscv.virtual, as QEMU)
 *
 * The CSR feature lists exactly the CSRs the hart implements: those its
 * debugCsrRead answers for. Names are the assembler's (CSR_NAMES), which are
 * gdb's own for every CSR the hart has.
 */
import type { Hart } from '../cpu/riscv/hart.js';
import { CSR_NAMES } from '../cpu/riscv/csr.js';

export const GDB_REGNUM_PC = 32;
export const GDB_REGNUM_FIRST_CSR = 65;
export const GDB_REGNUM_PRIV = GDB_REGNUM_FIRST_CSR + 4096;
/** CSR numbers are 12 bits. */
export const CSR_COUNT = 4096;

export const XREG_NAMES: readonly string[] = [
  'zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 'fp', 's1',
  'a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7',
  's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11',
  't3', 't4', 't5', 't6',
];

const XREG_TYPES: Record<string, string> = { ra: 'code_ptr', sp: 'data_ptr', gp: 'data_ptr', tp: 'data_ptr' };

/** The CSR numbers `hart` implements, ascending. */
export function implementedCsrs(hart: Hart): number[] {
  const list: number[] = [];
  for (let n = 0; n < CSR_COUNT; n++) if (hart.debugCsrRead(n) !== undefined) list.push(n);
  return list;
}

export function csrName(n: number): string {
  return CSR_NAMES.get(n) ?? `csr${n.toString(16).padStart(3, '0')}`;
}

/** target.xml for a hart implementing `csrs`. */
export function targetXml(csrs: readonly number[]): string {
  const reg = (name: string, regnum: number, type = 'int'): string =>
    `    <reg name="${name}" bitsize="64" type="${type}" regnum="${regnum}"/>\n`;
  let xml = '<?xml version="1.0"?>\n<!DOCTYPE target SYSTEM "gdb-target.dtd">\n<target version="1.0">\n';
  xml += '  <architecture>riscv:rv64</architecture>\n';
  xml += '  <feature name="org.gnu.gdb.riscv.cpu">\n';
  XREG_NAMES.forEach((name, i) => { xml += reg(name, i, XREG_TYPES[name]); });
  xml += reg('pc', GDB_REGNUM_PC, 'code_ptr');
  xml += '  </feature>\n  <feature name="org.gnu.gdb.riscv.csr">\n';
  for (const n of csrs) xml += reg(csrName(n), GDB_REGNUM_FIRST_CSR + n);
  xml += '  </feature>\n  <feature name="org.gnu.gdb.riscv.virtual">\n';
  xml += reg('priv', GDB_REGNUM_PRIV);
  xml += '  </feature>\n</target>\n';
  return xml;
}
