/**
 * The assembly buffer of one function: instructions as text for our
 * assembler (toolchain/asm.ts), labels, conditional branches kept symbolic
 * until the function is complete, `.mark` records, and placeholders (the
 * return sequence) that are expanded once the frame is known.
 *
 * Branch relaxation: a conditional branch reaches ±4 KiB. The emitter knows
 * the exact size of every item (li sequences come from the assembler's own
 * asm-li.ts), so at the end it lays the function out, and every branch whose
 * target is out of reach becomes the inverted branch over a `j` (±1 MiB),
 * repeating until nothing changes. Branches only ever target labels of the
 * same function.
 */
import { liSequence } from '../asm-li.js';

/** Branch conditions, RISC-V's six (the others are these with swapped operands). */
export type Cc = 'eq' | 'ne' | 'lt' | 'ge' | 'ltu' | 'geu';
export const NEGATE: Readonly<Record<Cc, Cc>> = { eq: 'ne', ne: 'eq', lt: 'ge', ge: 'lt', ltu: 'geu', geu: 'ltu' };

type Item =
  | { t: 'i'; text: string; size: number }
  | { t: 'l'; name: string }
  | { t: 'b'; cc: Cc; a: string; b: string; target: string; long: boolean }
  | { t: 'm'; offset: number }
  | { t: 'p'; key: string }
  | { t: 'd'; text: string };

/** Bytes of `li rd, v`. */
export function liSize(v: bigint): number {
  return 4 * liSequence(v).length;
}

const EIGHT_BYTE = new Set(['la', 'lla', 'call', 'tail']);

/** Reach of a conditional branch, kept a little short of ±4 KiB. */
const BRANCH_REACH = 4096 - 16;

export class Emitter {
  private items: Item[] = [];
  private pendingMark = -1;
  private lastMark = -1;
  private far = 0;
  /** Instructions emitted (a li sequence counts as its length), for statistics. */
  count = 0;

  constructor(private readonly labelPrefix: string) {}

  /** Fresh local label. */
  private nLabels = 0;
  newLabel(hint = ''): string {
    return `${this.labelPrefix}_${hint}${this.nLabels++}`;
  }

  /** The wasm offset the following code belongs to (written lazily, before the next instruction). */
  mark(offset: number): void {
    this.pendingMark = offset;
  }

  private flushMark(): void {
    if (this.pendingMark >= 0 && this.pendingMark !== this.lastMark) {
      this.items.push({ t: 'm', offset: this.pendingMark });
      this.lastMark = this.pendingMark;
    }
  }

  /** One instruction (not li: use li()). */
  insn(text: string): void {
    this.flushMark();
    const sp = text.indexOf(' ');
    const mn = sp < 0 ? text : text.slice(0, sp);
    const size = EIGHT_BYTE.has(mn) ? 8 : 4;
    this.items.push({ t: 'i', text, size });
    this.count += size / 4;
  }

  li(rd: string, v: bigint): void {
    this.flushMark();
    const size = liSize(v);
    this.items.push({ t: 'i', text: `li ${rd}, ${v}`, size });
    this.count += size / 4;
  }

  /**
   * The operand for frame slot `off` (bytes from s0): `off(s0)`, or beyond
   * the 12-bit reach `0(tmp)` after tmp = s0 + off.
   */
  slot(off: number, tmp = 't6'): string {
    if (off >= -2048 && off < 2048) return `${off}(s0)`;
    this.li(tmp, BigInt(off));
    this.insn(`add ${tmp}, ${tmp}, s0`);
    return `0(${tmp})`;
  }

  mv(rd: string, rs: string): void {
    if (rd !== rs) this.insn(`mv ${rd}, ${rs}`);
  }

  label(name: string): void {
    this.items.push({ t: 'l', name });
    // The code after a label can be reached from elsewhere: mark it again.
    this.lastMark = -1;
  }

  branch(cc: Cc, a: string, b: string, target: string): void {
    this.flushMark();
    this.items.push({ t: 'b', cc, a, b, target, long: false });
    this.count++;
  }

  j(target: string): void {
    this.insn(`j ${target}`);
  }

  /** A directive that emits no bytes (.option …). */
  directive(text: string): void {
    this.items.push({ t: 'd', text });
  }

  placeholder(key: string): void {
    this.flushMark();
    this.items.push({ t: 'p', key });
  }

  /** Raw items of another emitter (the prologue), placed first. */
  prepend(other: Emitter): void {
    this.items = [...other.items, ...this.items];
    this.count += other.count;
  }

  /** Lay out, relax the branches and return the text. */
  finalize(expand: (key: string) => string[]): string {
    const items: Item[] = [];
    for (const it of this.items) {
      if (it.t !== 'p') { items.push(it); continue; }
      for (const text of expand(it.key)) {
        const mn = text.split(' ')[0]!;
        if (mn.endsWith(':')) { items.push({ t: 'l', name: mn.slice(0, -1) }); continue; }
        const size = mn === 'li' ? liSize(BigInt(text.split(',')[1]!.trim())) : EIGHT_BYTE.has(mn) ? 8 : 4;
        items.push({ t: 'i', text, size });
      }
    }
    const sizeOf = (it: Item): number => (it.t === 'i' ? it.size : it.t === 'b' ? (it.long ? 8 : 4) : 0);
    for (let changed = true; changed;) {
      changed = false;
      const at = new Map<string, number>();
      let addr = 0;
      for (const it of items) {
        if (it.t === 'l') at.set(it.name, addr);
        addr += sizeOf(it);
      }
      addr = 0;
      for (const it of items) {
        if (it.t === 'b' && !it.long) {
          const target = at.get(it.target);
          if (target === undefined || Math.abs(target - addr) > BRANCH_REACH) {
            it.long = true;
            changed = true;
          }
        }
        addr += sizeOf(it);
      }
    }
    const out: string[] = [];
    for (const it of items) {
      switch (it.t) {
        case 'i': out.push(`\t${it.text}`); break;
        case 'l': out.push(`${it.name}:`); break;
        case 'm': out.push(`\t.mark ${it.offset}`); break;
        case 'd': out.push(`\t${it.text}`); break;
        case 'b':
          if (!it.long) {
            out.push(`\tb${it.cc} ${it.a}, ${it.b}, ${it.target}`);
          } else {
            const skip = `${this.labelPrefix}_far${this.far++}`;
            out.push(`\tb${NEGATE[it.cc]} ${it.a}, ${it.b}, ${skip}`, `\tj ${it.target}`, `${skip}:`);
          }
          break;
        default: break;
      }
    }
    return out.join('\n');
  }
}
