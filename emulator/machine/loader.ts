/**
 * Load planning for images: check that an ElfImage fits the board's RAM before
 * a single byte is copied, treat a raw binary as a one-segment image, and find
 * the HTIF mailbox (`tohost` / `fromhost`) that Spike and QEMU honour so that
 * the official ISA tests report pass or fail.
 *
 * Nothing here touches RAM: the machine copies `segment.data` to
 * `segment.paddr` and zero-fills up to `segment.memsz` once planLoad passed.
 * Ranges are half-open: [paddr, paddr + memsz).
 */

import { ImageError, PF_R, PF_W, PF_X, type ElfImage, type ElfSegment } from './elf.js';

/** What the loader needs to know about RAM. */
export interface RamLayout {
  /** True when [paddr, paddr + len) lies entirely inside one RAM bank. */
  contains(paddr: number, len: number): boolean;
  /** The banks, named in error messages when present. */
  readonly banks?: readonly { readonly base: number; readonly size: number; readonly name?: string }[];
}

/** The HTIF mailbox of an image: physical addresses of the two 64-bit words. */
export interface HtifSymbols {
  tohost: number;
  fromhost?: number;
}

const hex = (v: number): string => `0x${v.toString(16)}`;

/** "segment 1 (R-X, [0x80000000, 0x80001000))" — how errors name a segment. */
export function describeSegment(image: ElfImage, seg: ElfSegment): string {
  const i = image.segments.indexOf(seg);
  const f = seg.flags;
  const perms = `${f & PF_R ? 'R' : '-'}${f & PF_W ? 'W' : '-'}${f & PF_X ? 'X' : '-'}`;
  return `segment ${i} (${perms}, [${hex(seg.paddr)}, ${hex(seg.paddr + seg.memsz)}))`;
}

/**
 * Check that every segment lies inside RAM and that no two segments overlap.
 * Throws ImageError naming the segment, its range and the RAM banks.
 */
export function planLoad(image: ElfImage, ram: RamLayout, fileName: string): void {
  const banks = ram.banks?.length
    ? ram.banks.map((b) => `${b.name ? `${b.name} ` : ''}[${hex(b.base)}, ${hex(b.base + b.size)})`).join(', ')
    : 'unknown';
  for (const seg of image.segments) {
    if (!ram.contains(seg.paddr, seg.memsz)) {
      throw new ImageError(
        `${fileName}: ${describeSegment(image, seg)} lies outside RAM (banks ${banks}); ` +
          `link the image at a RAM address or give the machine more memory`,
      );
    }
  }
  const sorted = [...image.segments].sort((a, b) => a.paddr - b.paddr);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (cur.paddr < prev.paddr + prev.memsz) {
      throw new ImageError(
        `${fileName}: ${describeSegment(image, prev)} overlaps ${describeSegment(image, cur)}; ` +
          `fix the physical addresses (AT>) in the linker script`,
      );
    }
  }
}

/** A raw binary as an image: one RWX segment at `paddr`, entry at `paddr`. */
export function rawImage(bytes: Uint8Array, paddr: number, fileName = 'raw image'): ElfImage {
  if (bytes.length === 0) {
    throw new ImageError(`${fileName}: the file is empty; give the path of an RV64 ELF image or raw binary`);
  }
  if (!Number.isSafeInteger(paddr) || paddr < 0 || paddr + bytes.length > Number.MAX_SAFE_INTEGER) {
    throw new ImageError(`${fileName}: load address ${paddr} is not a valid physical address; give one inside RAM`);
  }
  return {
    entry: BigInt(paddr),
    segments: [{ paddr, vaddr: BigInt(paddr), data: bytes, memsz: bytes.length, flags: PF_R | PF_W | PF_X }],
    symbols: new Map(),
    functions: [],
  };
}

/**
 * The HTIF mailbox from the symbols `tohost` and `fromhost`, or undefined when
 * the image does not define `tohost`. The physical address is the symbol
 * value, as in Spike and QEMU (bare-metal tests link with vaddr = paddr).
 * Throws ImageError when a symbol's 8-byte word lies outside every segment.
 */
export function findHtif(image: ElfImage, fileName = 'image'): HtifSymbols | undefined {
  const tohost = image.symbols.get('tohost');
  if (tohost === undefined) return undefined;
  const result: HtifSymbols = { tohost: mailbox(image, 'tohost', tohost, fileName) };
  const fromhost = image.symbols.get('fromhost');
  if (fromhost !== undefined) result.fromhost = mailbox(image, 'fromhost', fromhost, fileName);
  return result;
}

function mailbox(image: ElfImage, name: string, value: bigint, fileName: string): number {
  const inside = image.segments.some(
    (s) => value >= BigInt(s.paddr) && value + 8n <= BigInt(s.paddr) + BigInt(s.memsz),
  );
  if (!inside) {
    throw new ImageError(
      `${fileName}: symbol ${name} = 0x${value.toString(16)} lies outside every loaded segment; ` +
        `put ${name} in a loaded section (e.g. .tohost) of the linker script`,
    );
  }
  return Number(value);
}
