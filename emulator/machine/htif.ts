/**
 * HTIF, the Berkeley host-target interface that Spike and QEMU honour for ELF
 * images defining the symbols `tohost` and `fromhost`.
 *
 * The guest writes a 64-bit command to tohost:
 *   bits 63..56 device, 55..48 command, 47..0 payload.
 *   device 0, command 0, payload odd:  exit, code = payload >> 1 (0 = pass)
 *   device 0, command 0, payload even: pointer to a syscall block
 *                                      (magic_mem: [0] number, [1..] args);
 *                                      64 = write(fd, buf, len), 93 = exit(code)
 *   device 1, command 1:               console putchar(payload & 0xff)
 * The host answers in fromhost and clears tohost, as riscv-fesvr does.
 * Stores to tohost's page always take the CPU's slow path, which calls
 * observe(); so the command is seen at the store that writes it.
 */

import type { PhysMemory } from './ram.js';

const SYS_WRITE = 64n;
const SYS_EXIT = 93n;

export interface HtifHost {
  output(byte: number): void;
  exit(code: number): void;
}

export class Htif {
  private readonly toOff: number;
  private readonly fromOff: number;
  private readonly view: DataView;

  constructor(private readonly mem: PhysMemory, tohost: number, fromhost: number | undefined, private readonly host: HtifHost) {
    this.toOff = mem.offsetOf(tohost, 8);
    this.fromOff = fromhost === undefined ? -1 : mem.offsetOf(fromhost, 8);
    if (this.toOff < 0) throw new Error(`tohost at 0x${tohost.toString(16)} is not in RAM`);
    this.view = new DataView(mem.buffer);
  }

  /** Is this RAM page (buffer offset) the one holding tohost? */
  onPage(pageOff: number): boolean {
    return this.toOff - (this.toOff % 4096) === pageOff;
  }

  /** A store touched RAM at buffer offset `off`. */
  observe(off: number, len: number): void {
    if (off >= this.toOff + 8 || off + len <= this.toOff) return;
    const cmd = this.view.getBigUint64(this.toOff, true);
    if (cmd === 0n) return;
    const dev = Number(cmd >> 56n);
    const op = Number((cmd >> 48n) & 0xffn);
    const payload = cmd & 0xffff_ffff_ffffn;
    this.view.setBigUint64(this.toOff, 0n, true);
    if (dev === 0 && op === 0) {
      if (payload & 1n) {
        this.host.exit(Number(payload >> 1n));
        return;
      }
      this.syscall(payload);
      this.reply(1n);
    } else if (dev === 1 && op === 1) {
      this.host.output(Number(payload & 0xffn));
      this.reply((1n << 56n) | (1n << 48n));
    }
  }

  private syscall(addr: bigint): void {
    const base = this.mem.offsetOf(Number(addr), 64);
    if (base < 0) return;
    const arg = (i: number): bigint => this.view.getBigUint64(base + 8 * i, true);
    const num = arg(0);
    if (num === SYS_WRITE) {
      const buf = this.mem.offsetOf(Number(arg(2)), Number(arg(3)));
      const len = Number(arg(3));
      if (buf >= 0) for (let i = 0; i < len; i++) this.host.output(this.mem.u8[buf + i]);
      this.view.setBigUint64(base, buf >= 0 ? BigInt(len) : -14n & 0xffff_ffff_ffff_ffffn, true);
    } else if (num === SYS_EXIT) {
      this.host.exit(Number(arg(1) & 0xffn));
    } else {
      this.view.setBigUint64(base, -38n & 0xffff_ffff_ffff_ffffn, true); // -ENOSYS
    }
  }

  private reply(v: bigint): void {
    if (this.fromOff >= 0) this.view.setBigUint64(this.fromOff, v, true);
  }
}
