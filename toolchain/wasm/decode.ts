/**
 * Decoding of value types and instructions (core spec 2.0 §5.3, §5.4; the
 * threads proposal's 0xFE atomics), driven by the opcode table of
 * opcodes.ts. Shared by the module reader for function bodies and constant
 * expressions; typing is validate.ts's job.
 */
import type { ByteReader } from './binary.js';
import { LIMITS } from './limits.js';
import type { FuncType, Instr, ValType } from './module.js';
import { OPCODES, PREFIX_ATOMIC, PREFIX_MISC, UNSUPPORTED_OPCODES, VALTYPE_OF_CODE, isRefType, type OpInfo } from './opcodes.js';

/** A value type (§5.3.1–3); v128 is valid wasm but refused here. */
export function readValType(r: ByteReader, what = 'value type'): ValType {
  const at = r.pos;
  const b = r.u8(what);
  const t = VALTYPE_OF_CODE.get(b);
  if (t === undefined) return r.fail(`invalid ${what} 0x${b.toString(16)}`, at);
  if (t === 'v128') r.fail('v128 (SIMD) is not supported', at);
  return t;
}

/** A reference type (§5.3.2). */
export function readRefType(r: ByteReader, what = 'reference type'): ValType {
  const at = r.pos;
  const t = readValType(r, what);
  if (!isRefType(t)) r.fail(`${what} must be funcref or externref, got ${t}`, at);
  return t;
}

/** Decode one instruction and its immediates (§5.4); block type indices are resolved in `types`. */
export function decodeInstr(r: ByteReader, types: readonly FuncType[]): { ins: Instr; info: OpInfo } {
  const offset = r.pos;
  const b = r.u8('opcode');
  let code = b;
  if (b === PREFIX_MISC || b === PREFIX_ATOMIC) {
    const sub = r.u32('sub-opcode');
    if (sub > 0xff) r.fail(`unknown opcode 0x${b.toString(16)} ${sub}`, offset);
    code = (b << 8) | sub;
  }
  const info = OPCODES.get(code);
  if (!info) {
    const feature = UNSUPPORTED_OPCODES.get(b);
    if (feature) r.fail(`${feature} is not supported`, offset);
    return r.fail(code > 0xff ? `unknown opcode 0x${b.toString(16)} 0x${(code & 0xff).toString(16)}` : `unknown opcode 0x${b.toString(16)}`, offset);
  }
  const ins: Instr = { op: info.name, offset };
  switch (info.imm) {
    case 'none':
      break;
    case 'block':
      ins.blockType = blockType(r, types);
      break;
    case 'label':
      ins.index = r.u32('label index');
      break;
    case 'br_table': {
      const n = r.count('br_table labels', LIMITS.brTable);
      const labels: number[] = [];
      for (let i = 0; i < n; i++) labels.push(r.u32('label index'));
      ins.labels = labels;
      ins.defaultLabel = r.u32('default label index');
      break;
    }
    case 'func':
      ins.index = r.u32('function index');
      break;
    case 'call_indirect':
      ins.index = r.u32('type index');
      ins.table = r.u32('table index');
      break;
    case 'local':
      ins.index = r.u32('local index');
      break;
    case 'global':
      ins.index = r.u32('global index');
      break;
    case 'table':
      ins.index = r.u32('table index');
      break;
    case 'memarg':
      ins.align = r.u32('alignment');
      ins.memOffset = r.u32('offset');
      break;
    case 'zero':
      zeroByte(r);
      break;
    case 'zero2':
      zeroByte(r);
      zeroByte(r);
      break;
    case 'i32':
      ins.value = r.signed(32, 'i32 constant');
      break;
    case 'i64':
      ins.value = r.signed(64, 'i64 constant');
      break;
    case 'f32':
      ins.value = r.floatBits(4, 'f32 constant');
      break;
    case 'f64':
      ins.value = r.floatBits(8, 'f64 constant');
      break;
    case 'select_t': {
      const n = r.count('select types');
      const selectTypes: ValType[] = [];
      for (let i = 0; i < n; i++) selectTypes.push(readValType(r));
      ins.selectType = selectTypes;
      break;
    }
    case 'reftype':
      ins.refType = readRefType(r);
      break;
    case 'data_zero':
      ins.index = r.u32('data segment index');
      zeroByte(r);
      break;
    case 'data':
      ins.index = r.u32('data segment index');
      break;
    case 'elem':
      ins.index = r.u32('element segment index');
      break;
    case 'elem_table':
      ins.index = r.u32('element segment index');
      ins.table = r.u32('table index');
      break;
    case 'table_table':
      ins.index = r.u32('table index');
      ins.table = r.u32('table index');
      break;
  }
  return { ins, info };
}

/** The reserved memory index byte of memory.size/grow/copy/fill/init and atomic.fence (§5.4.6). */
function zeroByte(r: ByteReader): void {
  const at = r.pos;
  const b = r.u8('reserved byte');
  if (b !== 0) r.fail(`reserved byte must be 0x00, got 0x${b.toString(16)}`, at);
}

/** §5.4.1 blocktype: 0x40 (empty), a value type, or an s33 type index. */
function blockType(r: ByteReader, types: readonly FuncType[]): FuncType {
  const at = r.pos;
  const b = r.u8('block type');
  if (b === 0x40) return { params: [], results: [] };
  if (VALTYPE_OF_CODE.has(b)) {
    r.pos = at;
    return { params: [], results: [readValType(r, 'block type')] };
  }
  r.pos = at;
  const i = r.signed(33, 'block type');
  if (i < 0n) r.fail(`invalid block type 0x${b.toString(16)}`, at);
  if (i >= BigInt(types.length)) r.fail(`block type index ${i} is out of range (${types.length} types)`, at);
  return types[Number(i)]!;
}
