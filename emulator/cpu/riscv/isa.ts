/**
 * The one RV64IMAC + Zicsr + Zifencei + privileged instruction table, shared
 * by the interpreter, the assembler (toolchain/asm.ts) and the disassembler
 * (toolchain/disasm.ts), so that the three can never disagree.
 *
 * References: "The RISC-V Instruction Set Manual, Volume I: Unprivileged ISA",
 * document version 20191213 (cited as "unpriv"), and "Volume II: Privileged
 * Architecture", version 1.12 (cited as "priv").
 *
 *  32-bit encodings (unpriv 2.2, figure 2.3):
 *
 *   31        25 24   20 19   15 14  12 11    7 6      0
 *  ┌────────────┬───────┬───────┬──────┬───────┬────────┐
 *  │   funct7   │  rs2  │  rs1  │funct3│  rd   │ opcode │  R
 *  ├────────────┴───────┼───────┼──────┼───────┼────────┤
 *  │     imm[11:0]      │  rs1  │funct3│  rd   │ opcode │  I
 *  ├────────────┬───────┼───────┼──────┼───────┼────────┤
 *  │ imm[11:5]  │  rs2  │  rs1  │funct3│imm4:0 │ opcode │  S
 *  ├────────────┴───────┴───────┴──────┼───────┼────────┤
 *  │            imm[31:12]             │  rd   │ opcode │  U
 *  └───────────────────────────────────┴───────┴────────┘
 *
 * decode() is a single typed-array lookup indexed by opcode[6:2], funct3 and
 * funct7 (15 bits); the few ops whose mask has bits outside those fields
 * (ECALL/EBREAK/SRET/MRET/WFI, SFENCE.VMA, LR) are rechecked against their
 * full match/mask from a short candidate list.
 *
 * Compressed (unpriv chapter 16, RV64C): C_INSNS describes each 16-bit form
 * and how it expands; C_EXPAND (65536 entries) is built from it at load time.
 */

/** Every operation of RV64IMAC + Zicsr + Zifencei + privileged (regular enum: the interpreter switches on it). */
export enum Op {
  ILLEGAL = 0,
  // RV64I (unpriv chapters 2 and 5)
  LUI, AUIPC, JAL, JALR, BEQ, BNE, BLT, BGE, BLTU, BGEU,
  LB, LH, LW, LD, LBU, LHU, LWU, SB, SH, SW, SD,
  ADDI, SLTI, SLTIU, XORI, ORI, ANDI, SLLI, SRLI, SRAI,
  ADD, SUB, SLL, SLT, SLTU, XOR, SRL, SRA, OR, AND,
  ADDIW, SLLIW, SRLIW, SRAIW, ADDW, SUBW, SLLW, SRLW, SRAW,
  FENCE, ECALL, EBREAK,
  // Zifencei (unpriv chapter 3)
  FENCE_I,
  // Zicsr (unpriv chapter 9)
  CSRRW, CSRRS, CSRRC, CSRRWI, CSRRSI, CSRRCI,
  // M (unpriv chapter 7)
  MUL, MULH, MULHSU, MULHU, DIV, DIVU, REM, REMU, MULW, DIVW, DIVUW, REMW, REMUW,
  // A (unpriv chapter 8)
  LR_W, SC_W, AMOSWAP_W, AMOADD_W, AMOXOR_W, AMOAND_W, AMOOR_W, AMOMIN_W, AMOMAX_W, AMOMINU_W, AMOMAXU_W,
  LR_D, SC_D, AMOSWAP_D, AMOADD_D, AMOXOR_D, AMOAND_D, AMOOR_D, AMOMIN_D, AMOMAX_D, AMOMINU_D, AMOMAXU_D,
  // privileged (priv 3.3 and 4.2)
  SRET, MRET, WFI, SFENCE_VMA,
}

/** Number of Op members (ILLEGAL included). */
export const OP_COUNT = Op.SFENCE_VMA + 1;

export type Ext = 'I' | 'M' | 'A' | 'C' | 'Zicsr' | 'Zifencei' | 'priv';

/**
 * Operand layout, as the assembler reads it and the disassembler prints it
 * (GNU syntax). 32-bit formats:
 *  - 'U'        rd, imm20            lui, auipc (imm20 printed 0x%x)
 *  - 'J'        rd, target           jal
 *  - 'I-jalr'   rd, imm(rs1)         jalr
 *  - 'B'        rs1, rs2, target     branches
 *  - 'I-load'   rd, imm(rs1)         loads
 *  - 'S'        rs2, imm(rs1)        stores
 *  - 'I'        rd, rs1, imm12       addi …, addiw
 *  - 'shift64'  rd, rs1, shamt6      slli/srli/srai (RV64, 6-bit shamt, funct6)
 *  - 'shift32'  rd, rs1, shamt5      slliw/srliw/sraiw
 *  - 'R'        rd, rs1, rs2
 *  - 'fence'    pred, succ           fence (fm, rs1, rd are ignored)
 *  - 'none'     (no operands)        fence.i, ecall, ebreak, sret, mret, wfi
 *  - 'sfence'   rs1, rs2             sfence.vma
 *  - 'csr'      rd, csr, rs1
 *  - 'csr-imm'  rd, csr, uimm5       (uimm5 in the rs1 field)
 *  - 'amo'      rd, rs2, (rs1)       + .aq/.rl/.aqrl suffix from bits 26/25
 *  - 'lr'       rd, (rs1)            + .aq/.rl/.aqrl suffix
 * Compressed formats (unpriv 16.2, table 16.1; r' = x8..x15):
 *  - 'CIW'       rd', sp, nzuimm           c.addi4spn
 *  - 'CL-w'/'CL-d'  rd', uimm(rs1')        c.lw / c.ld
 *  - 'CS-w'/'CS-d'  rs2', uimm(rs1')       c.sw / c.sd
 *  - 'CI'        rd, imm6                  c.addi, c.addiw, c.li
 *  - 'CI-sp'     sp, nzimm                 c.addi16sp
 *  - 'CI-lui'    rd, imm20 (6 significant bits, printed like lui)
 *  - 'CI-shift'  rd, shamt6                c.slli
 *  - 'CI-rd'     rd                        c.slli64 (shamt = 0 HINT)
 *  - 'CB-shift'  rd', shamt6               c.srli, c.srai
 *  - 'CB-rd'     rd'                       c.srli64, c.srai64
 *  - 'CB-imm'    rd', imm6                 c.andi
 *  - 'CA'        rd', rs2'                 c.sub … c.addw
 *  - 'CJ'        target                    c.j
 *  - 'CB'        rs1', target              c.beqz, c.bnez
 *  - 'CI-lwsp'/'CI-ldsp'  rd, uimm(sp)
 *  - 'CSS-w'/'CSS-d'      rs2, uimm(sp)
 *  - 'CR-rs1'    rs1                       c.jr, c.jalr
 *  - 'CR'        rd, rs2                   c.mv, c.add
 *  - 'C-none'                              c.ebreak
 */
export type Format =
  | 'U' | 'J' | 'I-jalr' | 'B' | 'I-load' | 'S' | 'I' | 'shift64' | 'shift32' | 'R'
  | 'fence' | 'none' | 'sfence' | 'csr' | 'csr-imm' | 'amo' | 'lr'
  | 'CIW' | 'CL-w' | 'CL-d' | 'CS-w' | 'CS-d' | 'CI' | 'CI-sp' | 'CI-lui' | 'CI-shift' | 'CI-rd'
  | 'CB-shift' | 'CB-rd' | 'CB-imm' | 'CA' | 'CJ' | 'CB' | 'CI-lwsp' | 'CI-ldsp' | 'CSS-w' | 'CSS-d'
  | 'CR-rs1' | 'CR' | 'C-none';

/** One row of the instruction table. match/mask are unsigned 32-bit (16-bit for compressed). */
export interface InsnSpec {
  readonly op: Op;
  /** Mnemonic as GNU as/objdump spell it ('addi', 'fence.i', 'amoadd.w', 'c.addi'). */
  readonly name: string;
  readonly ext: Ext;
  readonly match: number;
  readonly mask: number;
  readonly format: Format;
}

/** A compressed form: op is the op of the 32-bit instruction it expands to. */
export interface CInsnSpec extends InsnSpec {
  /** True when some encodings matching match/mask are reserved (expand to 0). */
  readonly reserved?: (parcel: number) => boolean;
  /** The 32-bit expansion of a matching, non-reserved parcel (unpriv 16.3-16.6). */
  readonly expand: (parcel: number) => number;
}

// --- Base opcode map (unpriv chapter 24, table 24.1) -------------------------
export const OPCODE_LOAD = 0x03;
export const OPCODE_MISC_MEM = 0x0f;
export const OPCODE_OP_IMM = 0x13;
export const OPCODE_AUIPC = 0x17;
export const OPCODE_OP_IMM_32 = 0x1b;
export const OPCODE_STORE = 0x23;
export const OPCODE_AMO = 0x2f;
export const OPCODE_OP = 0x33;
export const OPCODE_LUI = 0x37;
export const OPCODE_OP_32 = 0x3b;
export const OPCODE_BRANCH = 0x63;
export const OPCODE_JALR = 0x67;
export const OPCODE_JAL = 0x6f;
export const OPCODE_SYSTEM = 0x73;

/** Masks of the fixed fields (unpriv 2.2). */
const MASK_OPCODE = 0x7f;
const MASK_F3 = 0x707f; // opcode + funct3
const MASK_F7 = 0xfe00707f; // opcode + funct3 + funct7
const MASK_F6 = 0xfc00707f; // opcode + funct3 + funct6 (RV64 immediate shifts)
const MASK_F5 = 0xf800707f; // opcode + funct3 + funct5 (AMOs; aq/rl free)
const MASK_ALL = 0xffffffff;

function f3(opcode: number, funct3: number): number {
  return (opcode | (funct3 << 12)) >>> 0;
}
function f7(opcode: number, funct3: number, funct7: number): number {
  return (opcode | (funct3 << 12) | (funct7 << 25)) >>> 0;
}

function row(op: Op, name: string, ext: Ext, match: number, mask: number, format: Format): InsnSpec {
  return { op, name, ext, match: match >>> 0, mask: mask >>> 0, format };
}

/** funct5 of the A extension (unpriv 8.4, table 24.x "RV32A/RV64A Standard Extension"). */
const AMO_FUNCT5: ReadonlyArray<readonly [string, number]> = [
  ['sc', 0b00011], ['amoswap', 0b00001], ['amoadd', 0b00000], ['amoxor', 0b00100], ['amoand', 0b01100],
  ['amoor', 0b01000], ['amomin', 0b10000], ['amomax', 0b10100], ['amominu', 0b11000], ['amomaxu', 0b11100],
];
const FUNCT5_LR = 0b00010;

function atomics(width: 'w' | 'd', funct3: number): InsnSpec[] {
  const upper = width.toUpperCase();
  const rows: InsnSpec[] = [
    // LR: rs2 must be 0 (unpriv 8.2).
    row(Op[`LR_${upper}` as keyof typeof Op], `lr.${width}`, 'A', f3(OPCODE_AMO, funct3) | (FUNCT5_LR << 27), MASK_F5 | (0x1f << 20), 'lr'),
  ];
  for (const [base, funct5] of AMO_FUNCT5) {
    const op = Op[`${base.toUpperCase()}_${upper}` as keyof typeof Op];
    rows.push(row(op, `${base}.${width}`, 'A', f3(OPCODE_AMO, funct3) | (funct5 << 27), MASK_F5, 'amo'));
  }
  return rows;
}

/**
 * The 32-bit instructions. Encodings from unpriv chapter 24 (RV32/64G listings)
 * and priv 2.x table "RISC-V Privileged Instructions".
 */
export const INSNS: readonly InsnSpec[] = [
  // RV32I (unpriv 2.4-2.8)
  row(Op.LUI, 'lui', 'I', OPCODE_LUI, MASK_OPCODE, 'U'),
  row(Op.AUIPC, 'auipc', 'I', OPCODE_AUIPC, MASK_OPCODE, 'U'),
  row(Op.JAL, 'jal', 'I', OPCODE_JAL, MASK_OPCODE, 'J'),
  row(Op.JALR, 'jalr', 'I', f3(OPCODE_JALR, 0), MASK_F3, 'I-jalr'),
  row(Op.BEQ, 'beq', 'I', f3(OPCODE_BRANCH, 0), MASK_F3, 'B'),
  row(Op.BNE, 'bne', 'I', f3(OPCODE_BRANCH, 1), MASK_F3, 'B'),
  row(Op.BLT, 'blt', 'I', f3(OPCODE_BRANCH, 4), MASK_F3, 'B'),
  row(Op.BGE, 'bge', 'I', f3(OPCODE_BRANCH, 5), MASK_F3, 'B'),
  row(Op.BLTU, 'bltu', 'I', f3(OPCODE_BRANCH, 6), MASK_F3, 'B'),
  row(Op.BGEU, 'bgeu', 'I', f3(OPCODE_BRANCH, 7), MASK_F3, 'B'),
  row(Op.LB, 'lb', 'I', f3(OPCODE_LOAD, 0), MASK_F3, 'I-load'),
  row(Op.LH, 'lh', 'I', f3(OPCODE_LOAD, 1), MASK_F3, 'I-load'),
  row(Op.LW, 'lw', 'I', f3(OPCODE_LOAD, 2), MASK_F3, 'I-load'),
  row(Op.LD, 'ld', 'I', f3(OPCODE_LOAD, 3), MASK_F3, 'I-load'),
  row(Op.LBU, 'lbu', 'I', f3(OPCODE_LOAD, 4), MASK_F3, 'I-load'),
  row(Op.LHU, 'lhu', 'I', f3(OPCODE_LOAD, 5), MASK_F3, 'I-load'),
  row(Op.LWU, 'lwu', 'I', f3(OPCODE_LOAD, 6), MASK_F3, 'I-load'),
  row(Op.SB, 'sb', 'I', f3(OPCODE_STORE, 0), MASK_F3, 'S'),
  row(Op.SH, 'sh', 'I', f3(OPCODE_STORE, 1), MASK_F3, 'S'),
  row(Op.SW, 'sw', 'I', f3(OPCODE_STORE, 2), MASK_F3, 'S'),
  row(Op.SD, 'sd', 'I', f3(OPCODE_STORE, 3), MASK_F3, 'S'),
  row(Op.ADDI, 'addi', 'I', f3(OPCODE_OP_IMM, 0), MASK_F3, 'I'),
  row(Op.SLTI, 'slti', 'I', f3(OPCODE_OP_IMM, 2), MASK_F3, 'I'),
  row(Op.SLTIU, 'sltiu', 'I', f3(OPCODE_OP_IMM, 3), MASK_F3, 'I'),
  row(Op.XORI, 'xori', 'I', f3(OPCODE_OP_IMM, 4), MASK_F3, 'I'),
  row(Op.ORI, 'ori', 'I', f3(OPCODE_OP_IMM, 6), MASK_F3, 'I'),
  row(Op.ANDI, 'andi', 'I', f3(OPCODE_OP_IMM, 7), MASK_F3, 'I'),
  // RV64I shifts: 6-bit shamt, funct6 in [31:26] (unpriv 5.2.1).
  row(Op.SLLI, 'slli', 'I', f7(OPCODE_OP_IMM, 1, 0), MASK_F6, 'shift64'),
  row(Op.SRLI, 'srli', 'I', f7(OPCODE_OP_IMM, 5, 0), MASK_F6, 'shift64'),
  row(Op.SRAI, 'srai', 'I', f7(OPCODE_OP_IMM, 5, 0b0100000), MASK_F6, 'shift64'),
  row(Op.ADD, 'add', 'I', f7(OPCODE_OP, 0, 0), MASK_F7, 'R'),
  row(Op.SUB, 'sub', 'I', f7(OPCODE_OP, 0, 0b0100000), MASK_F7, 'R'),
  row(Op.SLL, 'sll', 'I', f7(OPCODE_OP, 1, 0), MASK_F7, 'R'),
  row(Op.SLT, 'slt', 'I', f7(OPCODE_OP, 2, 0), MASK_F7, 'R'),
  row(Op.SLTU, 'sltu', 'I', f7(OPCODE_OP, 3, 0), MASK_F7, 'R'),
  row(Op.XOR, 'xor', 'I', f7(OPCODE_OP, 4, 0), MASK_F7, 'R'),
  row(Op.SRL, 'srl', 'I', f7(OPCODE_OP, 5, 0), MASK_F7, 'R'),
  row(Op.SRA, 'sra', 'I', f7(OPCODE_OP, 5, 0b0100000), MASK_F7, 'R'),
  row(Op.OR, 'or', 'I', f7(OPCODE_OP, 6, 0), MASK_F7, 'R'),
  row(Op.AND, 'and', 'I', f7(OPCODE_OP, 7, 0), MASK_F7, 'R'),
  // RV64I word ops (unpriv 5.2, 5.3). *IW shifts with shamt[5] = 1 are reserved:
  // the full funct7 is part of the mask.
  row(Op.ADDIW, 'addiw', 'I', f3(OPCODE_OP_IMM_32, 0), MASK_F3, 'I'),
  row(Op.SLLIW, 'slliw', 'I', f7(OPCODE_OP_IMM_32, 1, 0), MASK_F7, 'shift32'),
  row(Op.SRLIW, 'srliw', 'I', f7(OPCODE_OP_IMM_32, 5, 0), MASK_F7, 'shift32'),
  row(Op.SRAIW, 'sraiw', 'I', f7(OPCODE_OP_IMM_32, 5, 0b0100000), MASK_F7, 'shift32'),
  row(Op.ADDW, 'addw', 'I', f7(OPCODE_OP_32, 0, 0), MASK_F7, 'R'),
  row(Op.SUBW, 'subw', 'I', f7(OPCODE_OP_32, 0, 0b0100000), MASK_F7, 'R'),
  row(Op.SLLW, 'sllw', 'I', f7(OPCODE_OP_32, 1, 0), MASK_F7, 'R'),
  row(Op.SRLW, 'srlw', 'I', f7(OPCODE_OP_32, 5, 0), MASK_F7, 'R'),
  row(Op.SRAW, 'sraw', 'I', f7(OPCODE_OP_32, 5, 0b0100000), MASK_F7, 'R'),
  // FENCE: opcode + funct3 only. Unused fm/rs1/rd and reserved fm values are
  // ignored, as unpriv 2.7 requires of base implementations (FENCE.TSO and
  // PAUSE are FENCEs).
  row(Op.FENCE, 'fence', 'I', f3(OPCODE_MISC_MEM, 0), MASK_F3, 'fence'),
  row(Op.ECALL, 'ecall', 'I', 0x00000073, MASK_ALL, 'none'),
  row(Op.EBREAK, 'ebreak', 'I', 0x00100073, MASK_ALL, 'none'),
  // Zifencei (unpriv 3.1): imm, rs1 and rd are reserved for future use and ignored.
  row(Op.FENCE_I, 'fence.i', 'Zifencei', f3(OPCODE_MISC_MEM, 1), MASK_F3, 'none'),
  // Zicsr (unpriv 9.1)
  row(Op.CSRRW, 'csrrw', 'Zicsr', f3(OPCODE_SYSTEM, 1), MASK_F3, 'csr'),
  row(Op.CSRRS, 'csrrs', 'Zicsr', f3(OPCODE_SYSTEM, 2), MASK_F3, 'csr'),
  row(Op.CSRRC, 'csrrc', 'Zicsr', f3(OPCODE_SYSTEM, 3), MASK_F3, 'csr'),
  row(Op.CSRRWI, 'csrrwi', 'Zicsr', f3(OPCODE_SYSTEM, 5), MASK_F3, 'csr-imm'),
  row(Op.CSRRSI, 'csrrsi', 'Zicsr', f3(OPCODE_SYSTEM, 6), MASK_F3, 'csr-imm'),
  row(Op.CSRRCI, 'csrrci', 'Zicsr', f3(OPCODE_SYSTEM, 7), MASK_F3, 'csr-imm'),
  // M (unpriv 7.1, 7.2): funct7 = MULDIV = 1
  row(Op.MUL, 'mul', 'M', f7(OPCODE_OP, 0, 1), MASK_F7, 'R'),
  row(Op.MULH, 'mulh', 'M', f7(OPCODE_OP, 1, 1), MASK_F7, 'R'),
  row(Op.MULHSU, 'mulhsu', 'M', f7(OPCODE_OP, 2, 1), MASK_F7, 'R'),
  row(Op.MULHU, 'mulhu', 'M', f7(OPCODE_OP, 3, 1), MASK_F7, 'R'),
  row(Op.DIV, 'div', 'M', f7(OPCODE_OP, 4, 1), MASK_F7, 'R'),
  row(Op.DIVU, 'divu', 'M', f7(OPCODE_OP, 5, 1), MASK_F7, 'R'),
  row(Op.REM, 'rem', 'M', f7(OPCODE_OP, 6, 1), MASK_F7, 'R'),
  row(Op.REMU, 'remu', 'M', f7(OPCODE_OP, 7, 1), MASK_F7, 'R'),
  row(Op.MULW, 'mulw', 'M', f7(OPCODE_OP_32, 0, 1), MASK_F7, 'R'),
  row(Op.DIVW, 'divw', 'M', f7(OPCODE_OP_32, 4, 1), MASK_F7, 'R'),
  row(Op.DIVUW, 'divuw', 'M', f7(OPCODE_OP_32, 5, 1), MASK_F7, 'R'),
  row(Op.REMW, 'remw', 'M', f7(OPCODE_OP_32, 6, 1), MASK_F7, 'R'),
  row(Op.REMUW, 'remuw', 'M', f7(OPCODE_OP_32, 7, 1), MASK_F7, 'R'),
  // A (unpriv 8.2, 8.4): funct3 = 2 (.w) / 3 (.d); aq = bit 26, rl = bit 25
  ...atomics('w', 2),
  ...atomics('d', 3),
  // Privileged (priv 3.3.2, 3.3.3, 4.2.1): fully specified encodings; SFENCE.VMA needs rd = 0.
  row(Op.SRET, 'sret', 'priv', 0x10200073, MASK_ALL, 'none'),
  row(Op.MRET, 'mret', 'priv', 0x30200073, MASK_ALL, 'none'),
  row(Op.WFI, 'wfi', 'priv', 0x10500073, MASK_ALL, 'none'),
  row(Op.SFENCE_VMA, 'sfence.vma', 'priv', f7(OPCODE_SYSTEM, 0, 0b0001001), 0xfe007fff, 'sfence'),
];

// --- Field extractors (unpriv 2.3, figure 2.4). Signed immediates are signed 32-bit numbers. --

export const rd = (insn: number): number => (insn >>> 7) & 0x1f;
export const rs1 = (insn: number): number => (insn >>> 15) & 0x1f;
export const rs2 = (insn: number): number => (insn >>> 20) & 0x1f;
export const funct3 = (insn: number): number => (insn >>> 12) & 7;
export const funct7 = (insn: number): number => insn >>> 25;
export const immI = (insn: number): number => insn >> 20;
export const immS = (insn: number): number => ((insn >> 25) << 5) | ((insn >>> 7) & 0x1f);
export const immB = (insn: number): number =>
  ((insn >> 31) << 12) | (((insn >>> 7) & 1) << 11) | (((insn >>> 25) & 0x3f) << 5) | (((insn >>> 8) & 0xf) << 1);
/** U-immediate with its low 12 bits zero, sign-extended from bit 31 (as RV64 lui/auipc use it). */
export const immU = (insn: number): number => insn & ~0xfff;
export const immJ = (insn: number): number =>
  ((insn >> 31) << 20) | (insn & 0xff000) | (((insn >>> 20) & 1) << 11) | (((insn >>> 21) & 0x3ff) << 1);
/** 6-bit shift amount of SLLI/SRLI/SRAI on RV64. */
export const shamt6 = (insn: number): number => (insn >>> 20) & 0x3f;
/** 5-bit shift amount of the *IW shifts. */
export const shamt5 = (insn: number): number => (insn >>> 20) & 0x1f;
/** CSR number (unpriv 9.1). */
export const csrOf = (insn: number): number => insn >>> 20;
/** 5-bit zero-extended immediate of CSRR*I, held in the rs1 field. */
export const zimm = (insn: number): number => (insn >>> 15) & 0x1f;
/** AMO ordering bits (unpriv 8.2). */
export const aqOf = (insn: number): number => (insn >>> 26) & 1;
export const rlOf = (insn: number): number => (insn >>> 25) & 1;
/** FENCE fields (unpriv 2.7): fm[31:28], pred[27:24] = PI PO PR PW, succ[23:20] = SI SO SR SW. */
export const fenceFm = (insn: number): number => insn >>> 28;
export const fencePred = (insn: number): number => (insn >>> 24) & 0xf;
export const fenceSucc = (insn: number): number => (insn >>> 20) & 0xf;

// --- The 32-bit decoder -----------------------------------------------------------------

/** 15-bit bucket index: opcode[6:2] | funct3 << 5 | funct7 << 8. */
const bucketOf = (insn: number): number => ((insn >>> 2) & 0x1f) | ((insn >>> 7) & 0xe0) | ((insn >>> 17) & 0x7f00);
/** The bits bucketOf looks at, plus the length bits [1:0]. */
const BUCKET_BITS = 0xfe00707f;
/** DECODE_INDEX values at or above this select a candidate list. */
const CANDIDATE_FLAG = 0x80;

const DECODE_INDEX = new Uint8Array(1 << 15);
/** Candidate lists: ops with their full match/mask, as signed int32 for cheap compares. */
const CANDIDATE_OPS: Op[][] = [];
const CANDIDATE_MATCH: Int32Array[] = [];
const CANDIDATE_MASK: Int32Array[] = [];

/** Every bucket index an entry can fall into (its free bits inside the bucket fields enumerated). */
function bucketsOf(spec: InsnSpec): number[] {
  const fixed = spec.mask & BUCKET_BITS;
  const free = BUCKET_BITS & ~fixed & ~3;
  const freeBits: number[] = [];
  for (let b = 0; b < 32; b++) if ((free >>> b) & 1) freeBits.push(b);
  const out: number[] = [];
  for (let combo = 0; combo < 1 << freeBits.length; combo++) {
    let insn = spec.match & fixed;
    for (let i = 0; i < freeBits.length; i++) if ((combo >>> i) & 1) insn |= 1 << freeBits[i];
    out.push(bucketOf(insn));
  }
  return out;
}

function buildDecodeIndex(): void {
  if (OP_COUNT >= CANDIDATE_FLAG) throw new Error('isa: too many ops for the 8-bit decode index');
  const perBucket = new Map<number, InsnSpec[]>();
  for (const spec of INSNS) {
    for (const b of bucketsOf(spec)) {
      const list = perBucket.get(b);
      if (list) list.push(spec);
      else perBucket.set(b, [spec]);
    }
  }
  const listIds = new Map<string, number>();
  for (const [b, specs] of perBucket) {
    const direct = specs.length === 1 && (specs[0].mask & ~BUCKET_BITS) === 0;
    if (direct) {
      DECODE_INDEX[b] = specs[0].op;
      continue;
    }
    const key = specs.map((s) => s.op).join(',');
    let id = listIds.get(key);
    if (id === undefined) {
      id = CANDIDATE_OPS.length;
      if (id >= CANDIDATE_FLAG) throw new Error('isa: too many candidate lists');
      listIds.set(key, id);
      CANDIDATE_OPS.push(specs.map((s) => s.op));
      CANDIDATE_MATCH.push(Int32Array.from(specs, (s) => s.match | 0));
      CANDIDATE_MASK.push(Int32Array.from(specs, (s) => s.mask | 0));
    }
    DECODE_INDEX[b] = CANDIDATE_FLAG | id;
  }
}
buildDecodeIndex();

/**
 * The op of a 32-bit instruction ((insn & 3) === 3), or Op.ILLEGAL.
 * Hot path: one table load; a recheck only for the SYSTEM/AMO buckets that need it.
 */
export function decode(insn: number): Op {
  if ((insn & 3) !== 3) return Op.ILLEGAL;
  const k = DECODE_INDEX[bucketOf(insn)];
  if (k < CANDIDATE_FLAG) return k;
  const id = k & 0x7f;
  const match = CANDIDATE_MATCH[id];
  const mask = CANDIDATE_MASK[id];
  for (let i = 0; i < match.length; i++) {
    if ((insn & mask[i]) === match[i]) return CANDIDATE_OPS[id][i];
  }
  return Op.ILLEGAL;
}

/** Table row of each op (its 32-bit form). */
export const SPEC_OF_OP: readonly InsnSpec[] = (() => {
  const a: InsnSpec[] = new Array<InsnSpec>(OP_COUNT);
  for (const s of INSNS) a[s.op] = s;
  return a;
})();

// --- Compressed (unpriv chapter 16, RV64C) ------------------------------------------------
//
//  15 13 12 11   7 6     2 1 0
// ┌─────┬──┬──────┬───────┬───┐
// │ f3  │  │rd/rs1│  rs2  │op │  CR (funct4 = [15:12]), CI, CSS …
// └─────┴──┴──────┴───────┴───┘
// rd'/rs1'/rs2' are 3-bit fields naming x8..x15 (16.2, table 16.2).

/** 3-bit register fields, as full register numbers (x8 + field). */
export const cRdPrime = (p: number): number => 8 + ((p >>> 2) & 7); // [4:2]
export const cRs2Prime = cRdPrime;
export const cRs1Prime = (p: number): number => 8 + ((p >>> 7) & 7); // [9:7]
/** 5-bit fields: rd/rs1 [11:7], rs2 [6:2]. */
export const cRd = (p: number): number => (p >>> 7) & 0x1f;
export const cRs2 = (p: number): number => (p >>> 2) & 0x1f;

/** CI imm[5] = [12], imm[4:0] = [6:2], sign-extended (c.addi, c.li, c.addiw, c.andi). */
export const cImmCI = (p: number): number => ((((p >>> 12) & 1) << 5) | ((p >>> 2) & 0x1f)) << 26 >> 26;
/** CI shamt[5] = [12], shamt[4:0] = [6:2], zero-extended. */
export const cShamt = (p: number): number => (((p >>> 12) & 1) << 5) | ((p >>> 2) & 0x1f);
/** C.LUI nzimm[17:12], sign-extended and shifted into place (a full U-immediate). */
export const cImmLui = (p: number): number => cImmCI(p) << 12;
/** C.ADDI16SP nzimm[9|4|6|8:7|5] in [12|6|5|4:3|2]. */
export const cImmAddi16sp = (p: number): number =>
  ((((p >>> 12) & 1) << 9) | (((p >>> 6) & 1) << 4) | (((p >>> 5) & 1) << 6) | (((p >>> 3) & 3) << 7) | (((p >>> 2) & 1) << 5)) << 22 >> 22;
/** C.ADDI4SPN nzuimm[5:4|9:6|2|3] in [12:5]. */
export const cImmAddi4spn = (p: number): number =>
  (((p >>> 11) & 3) << 4) | (((p >>> 7) & 0xf) << 6) | (((p >>> 6) & 1) << 2) | (((p >>> 5) & 1) << 3);
/** C.LW/C.SW uimm[5:3] in [12:10], uimm[2|6] in [6:5]. */
export const cImmLw = (p: number): number => (((p >>> 10) & 7) << 3) | (((p >>> 6) & 1) << 2) | (((p >>> 5) & 1) << 6);
/** C.LD/C.SD uimm[5:3] in [12:10], uimm[7:6] in [6:5]. */
export const cImmLd = (p: number): number => (((p >>> 10) & 7) << 3) | (((p >>> 5) & 3) << 6);
/** C.LWSP uimm[5] in [12], uimm[4:2|7:6] in [6:2]. */
export const cImmLwsp = (p: number): number => (((p >>> 12) & 1) << 5) | (((p >>> 4) & 7) << 2) | (((p >>> 2) & 3) << 6);
/** C.LDSP uimm[5] in [12], uimm[4:3|8:6] in [6:2]. */
export const cImmLdsp = (p: number): number => (((p >>> 12) & 1) << 5) | (((p >>> 5) & 3) << 3) | (((p >>> 2) & 7) << 6);
/** C.SWSP uimm[5:2|7:6] in [12:7]. */
export const cImmSwsp = (p: number): number => (((p >>> 9) & 0xf) << 2) | (((p >>> 7) & 3) << 6);
/** C.SDSP uimm[5:3|8:6] in [12:7]. */
export const cImmSdsp = (p: number): number => (((p >>> 10) & 7) << 3) | (((p >>> 7) & 7) << 6);
/** C.J offset[11|4|9:8|10|6|7|3:1|5] in [12:2], sign-extended. */
export const cImmJ = (p: number): number =>
  ((((p >>> 12) & 1) << 11) | (((p >>> 11) & 1) << 4) | (((p >>> 9) & 3) << 8) | (((p >>> 8) & 1) << 10) |
    (((p >>> 7) & 1) << 6) | (((p >>> 6) & 1) << 7) | (((p >>> 3) & 7) << 1) | (((p >>> 2) & 1) << 5)) << 20 >> 20;
/** C.BEQZ/C.BNEZ offset[8|4:3] in [12:10], offset[7:6|2:1|5] in [6:2], sign-extended. */
export const cImmB = (p: number): number =>
  ((((p >>> 12) & 1) << 8) | (((p >>> 10) & 3) << 3) | (((p >>> 5) & 3) << 6) | (((p >>> 3) & 3) << 1) | (((p >>> 2) & 1) << 5)) << 23 >> 23;

// 32-bit encoders used by the expansions (and exported for the assembler).
const X0 = 0;
const X_RA = 1;
const X_SP = 2;

/** Encode an R-type instruction. */
export function encodeR(match: number, rdN: number, rs1N: number, rs2N: number): number {
  return (match | (rdN << 7) | (rs1N << 15) | (rs2N << 20)) >>> 0;
}
/** Encode an I-type instruction (imm is the signed 12-bit value). */
export function encodeI(match: number, rdN: number, rs1N: number, imm: number): number {
  return (match | (rdN << 7) | (rs1N << 15) | ((imm & 0xfff) << 20)) >>> 0;
}
/** Encode an S-type instruction. */
export function encodeS(match: number, rs1N: number, rs2N: number, imm: number): number {
  return (match | ((imm & 0x1f) << 7) | (rs1N << 15) | (rs2N << 20) | (((imm >> 5) & 0x7f) << 25)) >>> 0;
}
/** Encode a B-type instruction (offset even, ±4 KiB). */
export function encodeB(match: number, rs1N: number, rs2N: number, off: number): number {
  return (match | (((off >> 11) & 1) << 7) | (((off >> 1) & 0xf) << 8) | (rs1N << 15) | (rs2N << 20) |
    (((off >> 5) & 0x3f) << 25) | (((off >> 12) & 1) << 31)) >>> 0;
}
/** Encode a U-type instruction from its 20-bit field value. */
export function encodeU(match: number, rdN: number, imm20: number): number {
  return (match | (rdN << 7) | ((imm20 & 0xfffff) << 12)) >>> 0;
}
/** Encode a J-type instruction (offset even, ±1 MiB). */
export function encodeJ(match: number, rdN: number, off: number): number {
  return (match | (rdN << 7) | (((off >> 12) & 0xff) << 12) | (((off >> 11) & 1) << 20) |
    (((off >> 1) & 0x3ff) << 21) | (((off >> 20) & 1) << 31)) >>> 0;
}

const M = (op: Op): number => SPEC_OF_OP[op].match;

function cRow(
  op: Op, name: string, match: number, mask: number, format: Format,
  expand: (p: number) => number, reserved?: (p: number) => boolean,
): CInsnSpec {
  return { op, name, ext: 'C', match, mask, format, expand, reserved };
}

/**
 * The RV64C instructions (unpriv 16.3-16.6 and table 16.5-16.7, "RVC opcode map").
 * Order matters: the first row whose match/mask fits a parcel describes it, so
 * the narrower rows (c.ebreak, c.jr, c.addi16sp, c.*64) come before the wider
 * ones they carve out of. Reserved encodings are marked by `reserved` and expand
 * to 0. C.FLD/C.FSD/C.FLDSP/C.FSDSP (and RV32's C.FLW…/C.JAL) have no row: this
 * machine has no F/D, and on RV64 the C.JAL slot is C.ADDIW.
 * HINTs (16.7, table 16.3) are legal and expand to their base instruction.
 */
export const C_INSNS: readonly CInsnSpec[] = [
  // Quadrant 0
  cRow(Op.ADDI, 'c.addi4spn', 0x0000, 0xe003, 'CIW',
    (p) => encodeI(M(Op.ADDI), cRdPrime(p), X_SP, cImmAddi4spn(p)),
    (p) => cImmAddi4spn(p) === 0), // nzuimm = 0 reserved (0x0000 is the defined illegal instruction)
  cRow(Op.LW, 'c.lw', 0x4000, 0xe003, 'CL-w', (p) => encodeI(M(Op.LW), cRdPrime(p), cRs1Prime(p), cImmLw(p))),
  cRow(Op.LD, 'c.ld', 0x6000, 0xe003, 'CL-d', (p) => encodeI(M(Op.LD), cRdPrime(p), cRs1Prime(p), cImmLd(p))),
  cRow(Op.SW, 'c.sw', 0xc000, 0xe003, 'CS-w', (p) => encodeS(M(Op.SW), cRs1Prime(p), cRs2Prime(p), cImmLw(p))),
  cRow(Op.SD, 'c.sd', 0xe000, 0xe003, 'CS-d', (p) => encodeS(M(Op.SD), cRs1Prime(p), cRs2Prime(p), cImmLd(p))),
  // Quadrant 1. C.NOP is c.addi with rd = 0 (imm ≠ 0 there is a HINT); c.addi with imm = 0 is a HINT.
  cRow(Op.ADDI, 'c.addi', 0x0001, 0xe003, 'CI', (p) => encodeI(M(Op.ADDI), cRd(p), cRd(p), cImmCI(p))),
  cRow(Op.ADDIW, 'c.addiw', 0x2001, 0xe003, 'CI', (p) => encodeI(M(Op.ADDIW), cRd(p), cRd(p), cImmCI(p)),
    (p) => cRd(p) === 0), // rd = 0 reserved
  cRow(Op.ADDI, 'c.li', 0x4001, 0xe003, 'CI', (p) => encodeI(M(Op.ADDI), cRd(p), X0, cImmCI(p))), // rd = 0: HINT
  cRow(Op.ADDI, 'c.addi16sp', 0x6101, 0xef83, 'CI-sp', (p) => encodeI(M(Op.ADDI), X_SP, X_SP, cImmAddi16sp(p)),
    (p) => cImmAddi16sp(p) === 0), // nzimm = 0 reserved
  cRow(Op.LUI, 'c.lui', 0x6001, 0xe003, 'CI-lui', (p) => encodeU(M(Op.LUI), cRd(p), cImmLui(p) >>> 12),
    (p) => cImmCI(p) === 0), // nzimm = 0 reserved; rd = 0 HINT
  cRow(Op.SRLI, 'c.srli64', 0x8001, 0xfc7f, 'CB-rd', (p) => encodeI(M(Op.SRLI), cRs1Prime(p), cRs1Prime(p), 0)), // HINT
  cRow(Op.SRLI, 'c.srli', 0x8001, 0xec03, 'CB-shift', (p) => encodeI(M(Op.SRLI), cRs1Prime(p), cRs1Prime(p), cShamt(p))),
  cRow(Op.SRAI, 'c.srai64', 0x8401, 0xfc7f, 'CB-rd', (p) => encodeI(M(Op.SRAI), cRs1Prime(p), cRs1Prime(p), 0)), // HINT
  cRow(Op.SRAI, 'c.srai', 0x8401, 0xec03, 'CB-shift',
    (p) => encodeI(M(Op.SRAI), cRs1Prime(p), cRs1Prime(p), cShamt(p) | 0x400)), // funct6 = 010000 lives in imm[11:6]
  cRow(Op.ANDI, 'c.andi', 0x8801, 0xec03, 'CB-imm', (p) => encodeI(M(Op.ANDI), cRs1Prime(p), cRs1Prime(p), cImmCI(p))),
  cRow(Op.SUB, 'c.sub', 0x8c01, 0xfc63, 'CA', (p) => encodeR(M(Op.SUB), cRs1Prime(p), cRs1Prime(p), cRs2Prime(p))),
  cRow(Op.XOR, 'c.xor', 0x8c21, 0xfc63, 'CA', (p) => encodeR(M(Op.XOR), cRs1Prime(p), cRs1Prime(p), cRs2Prime(p))),
  cRow(Op.OR, 'c.or', 0x8c41, 0xfc63, 'CA', (p) => encodeR(M(Op.OR), cRs1Prime(p), cRs1Prime(p), cRs2Prime(p))),
  cRow(Op.AND, 'c.and', 0x8c61, 0xfc63, 'CA', (p) => encodeR(M(Op.AND), cRs1Prime(p), cRs1Prime(p), cRs2Prime(p))),
  cRow(Op.SUBW, 'c.subw', 0x9c01, 0xfc63, 'CA', (p) => encodeR(M(Op.SUBW), cRs1Prime(p), cRs1Prime(p), cRs2Prime(p))),
  cRow(Op.ADDW, 'c.addw', 0x9c21, 0xfc63, 'CA', (p) => encodeR(M(Op.ADDW), cRs1Prime(p), cRs1Prime(p), cRs2Prime(p))),
  // (0x9c41/0x9c61 with funct2 = 10/11 are reserved on RV64: no row.)
  cRow(Op.JAL, 'c.j', 0xa001, 0xe003, 'CJ', (p) => encodeJ(M(Op.JAL), X0, cImmJ(p))),
  cRow(Op.BEQ, 'c.beqz', 0xc001, 0xe003, 'CB', (p) => encodeB(M(Op.BEQ), cRs1Prime(p), X0, cImmB(p))),
  cRow(Op.BNE, 'c.bnez', 0xe001, 0xe003, 'CB', (p) => encodeB(M(Op.BNE), cRs1Prime(p), X0, cImmB(p))),
  // Quadrant 2. c.slli with rd = 0 or shamt = 0 is a HINT (objdump names the latter c.slli64).
  cRow(Op.SLLI, 'c.slli64', 0x0002, 0xf07f, 'CI-rd', (p) => encodeI(M(Op.SLLI), cRd(p), cRd(p), 0)),
  cRow(Op.SLLI, 'c.slli', 0x0002, 0xe003, 'CI-shift', (p) => encodeI(M(Op.SLLI), cRd(p), cRd(p), cShamt(p))),
  cRow(Op.LW, 'c.lwsp', 0x4002, 0xe003, 'CI-lwsp', (p) => encodeI(M(Op.LW), cRd(p), X_SP, cImmLwsp(p)),
    (p) => cRd(p) === 0), // rd = 0 reserved
  cRow(Op.LD, 'c.ldsp', 0x6002, 0xe003, 'CI-ldsp', (p) => encodeI(M(Op.LD), cRd(p), X_SP, cImmLdsp(p)),
    (p) => cRd(p) === 0), // rd = 0 reserved
  cRow(Op.JALR, 'c.jr', 0x8002, 0xf07f, 'CR-rs1', (p) => encodeI(M(Op.JALR), X0, cRd(p), 0),
    (p) => cRd(p) === 0), // rs1 = 0 reserved
  cRow(Op.ADD, 'c.mv', 0x8002, 0xf003, 'CR', (p) => encodeR(M(Op.ADD), cRd(p), X0, cRs2(p))), // rd = 0: HINT
  cRow(Op.EBREAK, 'c.ebreak', 0x9002, 0xffff, 'C-none', () => M(Op.EBREAK)),
  cRow(Op.JALR, 'c.jalr', 0x9002, 0xf07f, 'CR-rs1', (p) => encodeI(M(Op.JALR), X_RA, cRd(p), 0)),
  cRow(Op.ADD, 'c.add', 0x9002, 0xf003, 'CR', (p) => encodeR(M(Op.ADD), cRd(p), cRd(p), cRs2(p))), // rd = 0: HINT
  cRow(Op.SW, 'c.swsp', 0xc002, 0xe003, 'CSS-w', (p) => encodeS(M(Op.SW), X_SP, cRs2(p), cImmSwsp(p))),
  cRow(Op.SD, 'c.sdsp', 0xe002, 0xe003, 'CSS-d', (p) => encodeS(M(Op.SD), X_SP, cRs2(p), cImmSdsp(p))),
];

/** Index+1 into C_INSNS of the row describing each parcel (0 = none: not compressed, reserved or absent). */
const C_ROW = new Uint8Array(1 << 16);

/**
 * The 32-bit instruction each 16-bit parcel expands to; 0 when the parcel is
 * not a legal RV64C instruction (0x0000, reserved encodings, F/D forms, and
 * parcels whose low bits are 11, which are not compressed at all).
 */
export const C_EXPAND: Int32Array = (() => {
  const out = new Int32Array(1 << 16);
  for (let p = 0; p < 1 << 16; p++) {
    if ((p & 3) === 3) continue;
    for (let i = 0; i < C_INSNS.length; i++) {
      const c = C_INSNS[i];
      if ((p & c.mask) !== c.match) continue;
      if (!c.reserved?.(p)) {
        out[p] = c.expand(p) | 0;
        C_ROW[p] = i + 1;
      }
      break;
    }
  }
  return out;
})();

/** The 32-bit expansion of a 16-bit parcel (0 = illegal or reserved). */
export function expandCompressed(parcel: number): number {
  return C_EXPAND[parcel & 0xffff];
}

/** The compressed-table row of a legal parcel, or undefined (for the disassembler). */
export function compressedSpec(parcel: number): CInsnSpec | undefined {
  const i = C_ROW[parcel & 0xffff];
  return i === 0 ? undefined : C_INSNS[i - 1];
}

/** The 32-bit table row matching an instruction, or undefined (for the disassembler). */
export function insnSpec(insn: number): InsnSpec | undefined {
  const op = decode(insn);
  return op === Op.ILLEGAL ? undefined : SPEC_OF_OP[op];
}

/** Length in bytes of the instruction whose first parcel is given (unpriv 1.5, figure 1.1): 2 or 4 here. */
export function insnLength(parcel: number): 2 | 4 {
  return (parcel & 3) === 3 ? 4 : 2;
}

/** Every row, 32-bit and compressed, by mnemonic (for the assembler). */
export const SPEC_BY_NAME: ReadonlyMap<string, InsnSpec | CInsnSpec> = new Map(
  [...INSNS, ...C_INSNS].map((s) => [s.name, s] as const),
);
