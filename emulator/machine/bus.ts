/**
 * The bus interface between the CPU and the board's devices.
 *
 * A device is registered on the bus as (base, size, device); the bus hands it
 * offsets relative to its base. Device registers are at most 32 bits wide here:
 * the bus splits an 8-byte access into two 4-byte accesses (low word first),
 * which is how every device of the `virt` board behaves for aligned accesses.
 * Interrupts never go through a reference to the PLIC or a hart: a device gets
 * an IrqLine and raises or lowers it.
 */

export type AccessSize = 1 | 2 | 4;

export interface Device {
  /** Short name used in errors and in `info` listings. */
  readonly name: string;
  /** Read `size` bytes at `offset`; returns the unsigned value (0 for holes). */
  read(offset: number, size: AccessSize): number;
  /** Write the low `size` bytes of `value` at `offset`. */
  write(offset: number, size: AccessSize, value: number): void;
  /** Versioned, named state for snapshots. */
  getState?(): Record<string, unknown>;
  setState?(state: Record<string, unknown>): void;
}

/** A level-triggered interrupt wire. */
export interface IrqLine {
  set(level: boolean): void;
}

/** An IrqLine that goes nowhere (a device with no interrupt wired). */
export const NO_IRQ: IrqLine = { set() {} };

export interface Mapping {
  readonly base: number;
  readonly size: number;
  readonly device: Device;
}

/** The device table: a sorted list of half-open ranges. */
export class DeviceMap {
  private readonly maps: Mapping[] = [];

  add(base: number, size: number, device: Device): void {
    if (size <= 0) throw new Error(`device ${device.name}: empty range`);
    for (const m of this.maps) {
      if (base < m.base + m.size && m.base < base + size) {
        throw new Error(`device ${device.name} at 0x${base.toString(16)} overlaps ${m.device.name}`);
      }
    }
    this.maps.push({ base, size, device });
    this.maps.sort((a, b) => a.base - b.base);
  }

  /** The mapping that holds `[paddr, paddr + len)` entirely, or undefined. */
  find(paddr: number, len: number): Mapping | undefined {
    for (const m of this.maps) {
      if (paddr >= m.base && paddr + len <= m.base + m.size) return m;
    }
    return undefined;
  }

  all(): readonly Mapping[] {
    return this.maps;
  }
}
