/**
 * Test finisher: the `sifive,test0` device QEMU `virt` has at 0x10_0000, with
 * which a guest powers the machine off, reports a failure, or resets it.
 *
 * One write-only command register at offset 0 (QEMU hw/misc/sifive_test.c):
 *
 *   bits 15:0   status   FINISHER_PASS 0x5555   power off, success
 *                        FINISHER_FAIL 0x3333   power off, failure
 *                        FINISHER_RESET 0x7777  reset the machine
 *   bits 31:16  code     exit code of FINISHER_FAIL
 *
 * Like QEMU, only the low 16 bits select the command (the code bits of a
 * PASS or RESET write are ignored), 2- and 4-byte writes are accepted (QEMU's
 * valid access sizes are 2..4; a 2-byte write carries no code), and anything
 * else (other values, other offsets, byte writes) is ignored. Reads return 0.
 *
 * Exit code of FINISHER_FAIL: QEMU calls exit(code), so `0x3333` with code 0
 * makes QEMU exit with status 0, indistinguishable from a pass. We report a
 * failure with code 0 as code 1, so that a failing guest can never look like
 * a passing one. (The code is reported in full, 1..0xFFFF; whoever turns it
 * into a host exit status must also keep codes whose low byte is 0, such as
 * 0x100, from reading as success, a trap QEMU's exit(code) falls into.)
 *
 * Stateless: no getState/setState. What a finish does (stop the run, reset
 * every device) is the machine's business, through `onFinish`.
 */

import type { AccessSize, Device } from '../machine/bus.js';

export const FINISHER_FAIL = 0x3333;
export const FINISHER_PASS = 0x5555;
export const FINISHER_RESET = 0x7777;

export type FinishKind = 'pass' | 'fail' | 'reset';

export class TestFinisher implements Device {
  readonly name = 'test-finisher';

  private readonly onFinish: (kind: FinishKind, code: number) => void;

  constructor(onFinish: (kind: FinishKind, code: number) => void) {
    this.onFinish = onFinish;
  }

  read(_offset: number, _size: AccessSize): number {
    return 0;
  }

  write(offset: number, size: AccessSize, value: number): void {
    if (offset !== 0 || size === 1) return;
    const status = value & 0xffff;
    const code = size === 4 ? (value >>> 16) & 0xffff : 0;
    switch (status) {
      case FINISHER_PASS:
        this.onFinish('pass', 0);
        return;
      case FINISHER_FAIL:
        this.onFinish('fail', code === 0 ? 1 : code);
        return;
      case FINISHER_RESET:
        this.onFinish('reset', 0);
        return;
      default:
        return;
    }
  }
}
