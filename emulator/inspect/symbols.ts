/**
 * Symbols of a guest image, for the host: a pc becomes `name+0xoff/0xsize`
 * (the form of Linux's %pS, which kallsyms gives the kernel; ours leaves it
 * to the host — see kernel/arch/stacktrace.ts).
 *
 * The kernel prints stack frames as Linux does without kallsyms,
 * "[<ffffffff80201234>]"; ConsoleSymbolizer appends the symbol to each such
 * line of the console stream as it passes, the way
 * scripts/decode_stacktrace.sh annotates a saved log.
 */
import type { ElfFunction } from '../machine/elf.js';

export interface SymbolHit {
  /** The function's short name (the last path component of the toolchain's `file/function`). */
  name: string;
  offset: number;
  size: number;
}

/** STT_FUNC symbols sorted by address; lookups by binary search. */
export class SymbolTable {
  private readonly funcs: ElfFunction[];

  constructor(functions: readonly ElfFunction[]) {
    this.funcs = functions.filter((f) => f.size > 0).sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  }

  get size(): number {
    return this.funcs.length;
  }

  /** The function containing `pc`, or undefined. */
  lookup(pc: bigint): SymbolHit | undefined {
    let lo = 0;
    let hi = this.funcs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const f = this.funcs[mid]!;
      if (pc < f.value) hi = mid - 1;
      else if (pc >= f.value + BigInt(f.size)) lo = mid + 1;
      else return { name: shortName(f.name), offset: Number(pc - f.value), size: f.size };
    }
    return undefined;
  }

  /** `name+0xoff/0xsize`, or undefined when no function holds `pc`. */
  format(pc: bigint): string | undefined {
    const hit = this.lookup(pc);
    return hit && `${hit.name}+0x${hit.offset.toString(16)}/0x${hit.size.toString(16)}`;
  }
}

/** `kernel/mm/page_alloc/__alloc_pages` → `__alloc_pages`. */
function shortName(name: string): string {
  const slash = name.lastIndexOf('/');
  return slash >= 0 && slash < name.length - 1 ? name.slice(slash + 1) : name;
}

const FRAME_LINE = /\[<([0-9a-f]{16})>\]\s*$/;
const MAX_LINE = 512;
const NL = 0x0a;
const CR = 0x0d;

/**
 * A console stream filter: bytes pass through unchanged and at once, except
 * that a line ending in a stack frame "[<pc>]" gets " name+0xoff/0xsize"
 * before its newline.
 */
export class ConsoleSymbolizer {
  private line = '';

  constructor(private readonly table: SymbolTable) {}

  /** Filter one chunk of console output. */
  filter(bytes: Uint8Array): Uint8Array {
    let out: number[] | undefined;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      if (b === NL || b === CR) {
        const m = FRAME_LINE.exec(this.line);
        const sym = m ? this.table.format(BigInt('0x' + m[1]!)) : undefined;
        this.line = '';
        if (sym) {
          out ??= Array.from(bytes.subarray(0, i));
          for (const c of ' ' + sym) out.push(c.charCodeAt(0));
        }
      } else if (this.line.length < MAX_LINE) {
        this.line += String.fromCharCode(b);
      }
      out?.push(b);
    }
    return out ? Uint8Array.from(out) : bytes;
  }
}
