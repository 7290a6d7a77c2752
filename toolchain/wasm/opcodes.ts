/**
 * The WebAssembly instruction table, shared by the reader (decode and
 * validate) and the encoder, so that the two can never disagree.
 *
 * Core spec 2.0 §5.4 (binary instructions) and §3.3 (their typing), plus the
 * threads proposal's 0xFE atomics. Each entry gives the opcode, the
 * text-format name the `Instr.op` field carries, the shape of its immediates,
 * and — for instructions whose typing is a fixed [params] → [results] — the
 * signature. Instructions with special typing rules (control, locals,
 * globals, tables, select, references, br_table …) have no `sig`; the
 * validator handles them by name.
 *
 *   code:  one byte for the MVP space            0x00 … 0xD2
 *          prefix << 8 | sub-opcode otherwise    0xFC00 … (bulk, sat), 0xFE00 … (atomics)
 */
import type { ValType } from './module.js';

export const PREFIX_MISC = 0xfc;
export const PREFIX_SIMD = 0xfd;
export const PREFIX_ATOMIC = 0xfe;

/** How an instruction's immediates are encoded (§5.4) and which `Instr` fields hold them. */
export type Immediate =
  | 'none'
  | 'block' //        blocktype (§5.4.1)                 -> blockType
  | 'label' //        labelidx                           -> index
  | 'br_table' //     vec(labelidx) labelidx             -> labels, defaultLabel
  | 'func' //         funcidx                            -> index
  | 'call_indirect' // typeidx tableidx                   -> index (type), table
  | 'local' //        localidx                           -> index
  | 'global' //       globalidx                          -> index
  | 'table' //        tableidx                           -> index
  | 'memarg' //       u32 align, u32 offset (§5.4.6)     -> align, memOffset
  | 'zero' //         one reserved 0x00 byte (memory.size/grow/fill, atomic.fence)
  | 'zero2' //        two reserved 0x00 bytes (memory.copy)
  | 'i32' //          s32                                -> value (sign-extended)
  | 'i64' //          s64                                -> value
  | 'f32' //          4 raw bytes                        -> value (raw bits)
  | 'f64' //          8 raw bytes                        -> value (raw bits)
  | 'select_t' //     vec(valtype)                       -> selectType
  | 'reftype' //      reftype (ref.null)                 -> refType
  | 'data_zero' //    dataidx 0x00 (memory.init)         -> index
  | 'data' //         dataidx (data.drop)                -> index
  | 'elem' //         elemidx (elem.drop)                -> index
  | 'elem_table' //   elemidx tableidx (table.init)      -> index (elem), table
  | 'table_table'; // tableidx tableidx (table.copy)     -> index (destination), table (source)

export interface OpInfo {
  readonly code: number;
  readonly name: string;
  readonly imm: Immediate;
  /** Fixed typing [params] → [results], when the instruction has one. */
  readonly sig?: { readonly params: readonly ValType[]; readonly results: readonly ValType[] };
  /** Memory accesses: log2 of the access width, the natural (maximum) alignment (§3.3.7). */
  readonly natural?: number;
  /** Threads proposal atomics: the alignment must equal the natural one. */
  readonly atomic?: boolean;
  /** Needs memory 0 to exist (§3.3.7: C.mems[0] must be defined). */
  readonly memory?: boolean;
}

const OPS: OpInfo[] = [];

type Sig = string; // "ii:i" — params ':' results, one letter per type
const LETTER: Record<string, ValType> = { i: 'i32', I: 'i64', f: 'f32', F: 'f64' };
function parseSig(s: Sig): { params: ValType[]; results: ValType[] } {
  const [p = '', r = ''] = s.split(':');
  return { params: [...p].map((c) => LETTER[c]!), results: [...r].map((c) => LETTER[c]!) };
}

function op(code: number, name: string, imm: Immediate, sig?: Sig, extra?: Partial<OpInfo>): void {
  OPS.push({ code, name, imm, ...(sig !== undefined ? { sig: parseSig(sig) } : {}), ...extra });
}

// §5.4.1 Control instructions.
op(0x00, 'unreachable', 'none');
op(0x01, 'nop', 'none', ':');
op(0x02, 'block', 'block');
op(0x03, 'loop', 'block');
op(0x04, 'if', 'block');
op(0x05, 'else', 'none');
op(0x0b, 'end', 'none');
op(0x0c, 'br', 'label');
op(0x0d, 'br_if', 'label');
op(0x0e, 'br_table', 'br_table');
op(0x0f, 'return', 'none');
op(0x10, 'call', 'func');
op(0x11, 'call_indirect', 'call_indirect');

// §5.4.2 Reference instructions.
op(0xd0, 'ref.null', 'reftype');
op(0xd1, 'ref.is_null', 'none');
op(0xd2, 'ref.func', 'func');

// §5.4.3 Parametric instructions.
op(0x1a, 'drop', 'none');
op(0x1b, 'select', 'none');
op(0x1c, 'select', 'select_t');

// §5.4.4 Variable instructions.
op(0x20, 'local.get', 'local');
op(0x21, 'local.set', 'local');
op(0x22, 'local.tee', 'local');
op(0x23, 'global.get', 'global');
op(0x24, 'global.set', 'global');

// §5.4.5 Table instructions.
op(0x25, 'table.get', 'table');
op(0x26, 'table.set', 'table');
op(0xfc0c, 'table.init', 'elem_table');
op(0xfc0d, 'elem.drop', 'elem');
op(0xfc0e, 'table.copy', 'table_table');
op(0xfc0f, 'table.grow', 'table');
op(0xfc10, 'table.size', 'table');
op(0xfc11, 'table.fill', 'table');

// §5.4.6 Memory instructions.
function load(code: number, name: string, sig: Sig, natural: number): void {
  op(code, name, 'memarg', sig, { natural, memory: true });
}
load(0x28, 'i32.load', 'i:i', 2);
load(0x29, 'i64.load', 'i:I', 3);
load(0x2a, 'f32.load', 'i:f', 2);
load(0x2b, 'f64.load', 'i:F', 3);
load(0x2c, 'i32.load8_s', 'i:i', 0);
load(0x2d, 'i32.load8_u', 'i:i', 0);
load(0x2e, 'i32.load16_s', 'i:i', 1);
load(0x2f, 'i32.load16_u', 'i:i', 1);
load(0x30, 'i64.load8_s', 'i:I', 0);
load(0x31, 'i64.load8_u', 'i:I', 0);
load(0x32, 'i64.load16_s', 'i:I', 1);
load(0x33, 'i64.load16_u', 'i:I', 1);
load(0x34, 'i64.load32_s', 'i:I', 2);
load(0x35, 'i64.load32_u', 'i:I', 2);
load(0x36, 'i32.store', 'ii:', 2);
load(0x37, 'i64.store', 'iI:', 3);
load(0x38, 'f32.store', 'if:', 2);
load(0x39, 'f64.store', 'iF:', 3);
load(0x3a, 'i32.store8', 'ii:', 0);
load(0x3b, 'i32.store16', 'ii:', 1);
load(0x3c, 'i64.store8', 'iI:', 0);
load(0x3d, 'i64.store16', 'iI:', 1);
load(0x3e, 'i64.store32', 'iI:', 2);
op(0x3f, 'memory.size', 'zero', ':i', { memory: true });
op(0x40, 'memory.grow', 'zero', 'i:i', { memory: true });
op(0xfc08, 'memory.init', 'data_zero', 'iii:', { memory: true });
op(0xfc09, 'data.drop', 'data', ':');
op(0xfc0a, 'memory.copy', 'zero2', 'iii:', { memory: true });
op(0xfc0b, 'memory.fill', 'zero', 'iii:', { memory: true });

// §5.4.7 Numeric instructions.
op(0x41, 'i32.const', 'i32', ':i');
op(0x42, 'i64.const', 'i64', ':I');
op(0x43, 'f32.const', 'f32', ':f');
op(0x44, 'f64.const', 'f64', ':F');

function group(start: number, prefix: string, names: string, sig: Sig): void {
  names.split(' ').forEach((n, i) => op(start + i, `${prefix}.${n}`, 'none', sig));
}
op(0x45, 'i32.eqz', 'none', 'i:i');
group(0x46, 'i32', 'eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u', 'ii:i');
op(0x50, 'i64.eqz', 'none', 'I:i');
group(0x51, 'i64', 'eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u', 'II:i');
group(0x5b, 'f32', 'eq ne lt gt le ge', 'ff:i');
group(0x61, 'f64', 'eq ne lt gt le ge', 'FF:i');
group(0x67, 'i32', 'clz ctz popcnt', 'i:i');
group(0x6a, 'i32', 'add sub mul div_s div_u rem_s rem_u and or xor shl shr_s shr_u rotl rotr', 'ii:i');
group(0x79, 'i64', 'clz ctz popcnt', 'I:I');
group(0x7c, 'i64', 'add sub mul div_s div_u rem_s rem_u and or xor shl shr_s shr_u rotl rotr', 'II:I');
group(0x8b, 'f32', 'abs neg ceil floor trunc nearest sqrt', 'f:f');
group(0x92, 'f32', 'add sub mul div min max copysign', 'ff:f');
group(0x99, 'f64', 'abs neg ceil floor trunc nearest sqrt', 'F:F');
group(0xa0, 'f64', 'add sub mul div min max copysign', 'FF:F');
op(0xa7, 'i32.wrap_i64', 'none', 'I:i');
op(0xa8, 'i32.trunc_f32_s', 'none', 'f:i');
op(0xa9, 'i32.trunc_f32_u', 'none', 'f:i');
op(0xaa, 'i32.trunc_f64_s', 'none', 'F:i');
op(0xab, 'i32.trunc_f64_u', 'none', 'F:i');
op(0xac, 'i64.extend_i32_s', 'none', 'i:I');
op(0xad, 'i64.extend_i32_u', 'none', 'i:I');
op(0xae, 'i64.trunc_f32_s', 'none', 'f:I');
op(0xaf, 'i64.trunc_f32_u', 'none', 'f:I');
op(0xb0, 'i64.trunc_f64_s', 'none', 'F:I');
op(0xb1, 'i64.trunc_f64_u', 'none', 'F:I');
op(0xb2, 'f32.convert_i32_s', 'none', 'i:f');
op(0xb3, 'f32.convert_i32_u', 'none', 'i:f');
op(0xb4, 'f32.convert_i64_s', 'none', 'I:f');
op(0xb5, 'f32.convert_i64_u', 'none', 'I:f');
op(0xb6, 'f32.demote_f64', 'none', 'F:f');
op(0xb7, 'f64.convert_i32_s', 'none', 'i:F');
op(0xb8, 'f64.convert_i32_u', 'none', 'i:F');
op(0xb9, 'f64.convert_i64_s', 'none', 'I:F');
op(0xba, 'f64.convert_i64_u', 'none', 'I:F');
op(0xbb, 'f64.promote_f32', 'none', 'f:F');
op(0xbc, 'i32.reinterpret_f32', 'none', 'f:i');
op(0xbd, 'i64.reinterpret_f64', 'none', 'F:I');
op(0xbe, 'f32.reinterpret_i32', 'none', 'i:f');
op(0xbf, 'f64.reinterpret_i64', 'none', 'I:F');
// Sign-extension operators.
op(0xc0, 'i32.extend8_s', 'none', 'i:i');
op(0xc1, 'i32.extend16_s', 'none', 'i:i');
op(0xc2, 'i64.extend8_s', 'none', 'I:I');
op(0xc3, 'i64.extend16_s', 'none', 'I:I');
op(0xc4, 'i64.extend32_s', 'none', 'I:I');
// Non-trapping float-to-int conversions (0xFC 0–7).
op(0xfc00, 'i32.trunc_sat_f32_s', 'none', 'f:i');
op(0xfc01, 'i32.trunc_sat_f32_u', 'none', 'f:i');
op(0xfc02, 'i32.trunc_sat_f64_s', 'none', 'F:i');
op(0xfc03, 'i32.trunc_sat_f64_u', 'none', 'F:i');
op(0xfc04, 'i64.trunc_sat_f32_s', 'none', 'f:I');
op(0xfc05, 'i64.trunc_sat_f32_u', 'none', 'f:I');
op(0xfc06, 'i64.trunc_sat_f64_s', 'none', 'F:I');
op(0xfc07, 'i64.trunc_sat_f64_u', 'none', 'F:I');

// Threads proposal, "Atomic memory accesses": 0xFE prefix. Every access is
// naturally aligned (the alignment immediate must equal the width).
function atomic(code: number, name: string, sig: Sig, natural: number): void {
  op(0xfe00 | code, name, 'memarg', sig, { natural, atomic: true, memory: true });
}
atomic(0x00, 'memory.atomic.notify', 'ii:i', 2);
atomic(0x01, 'memory.atomic.wait32', 'iiI:i', 2);
atomic(0x02, 'memory.atomic.wait64', 'iII:i', 3);
op(0xfe03, 'atomic.fence', 'zero', ':');
atomic(0x10, 'i32.atomic.load', 'i:i', 2);
atomic(0x11, 'i64.atomic.load', 'i:I', 3);
atomic(0x12, 'i32.atomic.load8_u', 'i:i', 0);
atomic(0x13, 'i32.atomic.load16_u', 'i:i', 1);
atomic(0x14, 'i64.atomic.load8_u', 'i:I', 0);
atomic(0x15, 'i64.atomic.load16_u', 'i:I', 1);
atomic(0x16, 'i64.atomic.load32_u', 'i:I', 2);
atomic(0x17, 'i32.atomic.store', 'ii:', 2);
atomic(0x18, 'i64.atomic.store', 'iI:', 3);
atomic(0x19, 'i32.atomic.store8', 'ii:', 0);
atomic(0x1a, 'i32.atomic.store16', 'ii:', 1);
atomic(0x1b, 'i64.atomic.store8', 'iI:', 0);
atomic(0x1c, 'i64.atomic.store16', 'iI:', 1);
atomic(0x1d, 'i64.atomic.store32', 'iI:', 2);
// Read-modify-write: seven widths per operation, from 0x1E in groups of 7.
const RMW_WIDTHS: [string, string, number][] = [
  ['i32.atomic.rmw', '', 2],
  ['i64.atomic.rmw', '', 3],
  ['i32.atomic.rmw8', '_u', 0],
  ['i32.atomic.rmw16', '_u', 1],
  ['i64.atomic.rmw8', '_u', 0],
  ['i64.atomic.rmw16', '_u', 1],
  ['i64.atomic.rmw32', '_u', 2],
];
['add', 'sub', 'and', 'or', 'xor', 'xchg', 'cmpxchg'].forEach((rmw, g) => {
  RMW_WIDTHS.forEach(([prefix, suffix, natural], w) => {
    const t = prefix.startsWith('i32') ? 'i' : 'I';
    const sig = rmw === 'cmpxchg' ? `i${t}${t}:${t}` : `i${t}:${t}`;
    atomic(0x1e + g * 7 + w, `${prefix}.${rmw}${suffix}`, sig, natural);
  });
});

/** Decoding: opcode (one byte, or prefix << 8 | sub) → its entry. */
export const OPCODES: ReadonlyMap<number, OpInfo> = new Map(OPS.map((o) => [o.code, o]));

/**
 * Encoding: text name → entry. `select` maps to the untyped form 0x1B; the
 * encoder picks 0x1C when the instruction carries a `selectType`.
 */
export const OPS_BY_NAME: ReadonlyMap<string, OpInfo> = new Map(
  OPS.filter((o) => o.code !== 0x1c).map((o) => [o.name, o]),
);
export const SELECT_T = OPCODES.get(0x1c)!;

/**
 * Opcodes that V8 accepts but this toolchain does not: their error says "not
 * supported" (rather than "unknown opcode") so that a reader of the message
 * knows the module may be valid wasm.
 */
export const UNSUPPORTED_OPCODES: ReadonlyMap<number, string> = new Map([
  [0x06, 'exception handling (try)'],
  [0x07, 'exception handling (catch)'],
  [0x08, 'exception handling (throw)'],
  [0x09, 'exception handling (rethrow)'],
  [0x18, 'exception handling (delegate)'],
  [0x19, 'exception handling (catch_all)'],
  [0x12, 'tail calls (return_call)'],
  [0x13, 'tail calls (return_call_indirect)'],
  [PREFIX_SIMD, 'SIMD (0xfd prefix)'],
]);

/** Value type encodings (§5.3.1 number types, §5.3.2 reference types). */
export const VALTYPE_CODE: Readonly<Record<ValType, number>> = {
  i32: 0x7f,
  i64: 0x7e,
  f32: 0x7d,
  f64: 0x7c,
  v128: 0x7b,
  funcref: 0x70,
  externref: 0x6f,
};
export const VALTYPE_OF_CODE: ReadonlyMap<number, ValType> = new Map(
  (Object.entries(VALTYPE_CODE) as [ValType, number][]).map(([t, c]) => [c, t]),
);

export function isRefType(t: ValType): boolean {
  return t === 'funcref' || t === 'externref';
}
