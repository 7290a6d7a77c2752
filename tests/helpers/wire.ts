import type { IrqLine } from '../../emulator/machine/bus.js';

/** An IrqLine that records its level and every change, for device tests. */
export class Wire implements IrqLine {
  level = false;
  history: boolean[] = [];
  set(level: boolean): void {
    this.level = level;
    this.history.push(level);
  }
}
