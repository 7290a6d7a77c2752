/**
 * Our SBI firmware (firmware/, AssemblyScript built by the toolchain) on the
 * kmemlab machine with 4 harts, one S-mode payload per behaviour
 * (payloads.ts): boot and banner, BASE, TIME, IPI, HSM, RFENCE, DBCN and the
 * legacy console, SRST, PMP, and the firmware's own fatal-trap report.
 *
 * Runs are bounded by instruction counts, and deterministic: hart 0 always
 * wins the boot lottery here (it runs first), so hart ids are fixed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { assemble } from '../../toolchain/asm.js';
import { Machine, type StopReason } from '../../emulator/machine/machine.js';
import { parseFdt, readFdtHeader, readFdtReservations } from '../../emulator/machine/fdt.js';
import { CSR_MCOUNTEREN, CSR_MEDELEG, CSR_MIDELEG, CSR_MIE, CSR_PMPADDR0, CSR_PMPCFG0, PRV_M, PRV_S } from '../../emulator/cpu/riscv/csr.js';
import { sbiPayloadSource } from '../helpers/sbi_payload.js';
import { firmwareImage, type FirmwareImage } from './firmware_image.js';
import { PAYLOAD_BASE, payloadLines } from './payload.js';
import * as P from './payloads.js';

interface Run {
  machine: Machine;
  stop: StopReason;
  output: string;
  /** The payload's lines, "payload: " removed. */
  lines: string[];
  payloadSymbols: Map<string, bigint>;
}

interface BootOptions {
  harts?: number;
  /** Console input, as if typed before the machine starts. */
  input?: string;
  maxInsns?: number;
  /** Change the machine before it runs (memory, device tree). */
  before?: (m: Machine) => void;
}

let fw: FirmwareImage;

beforeAll(async () => {
  fw = await firmwareImage();
}, 300_000);

function boot(source: string, o: BootOptions = {}): Run {
  const { bytes, symbols } = assemble(source, { base: PAYLOAD_BASE });
  const out: number[] = [];
  const machine = new Machine({
    harts: o.harts ?? 4,
    bios: { name: 'firmware.elf', bytes: fw.elf },
    kernel: { name: 'payload.bin', bytes },
    output: (b) => out.push(b),
  });
  if (o.input) machine.uart.pushInput(o.input);
  o.before?.(machine);
  const stop = machine.run(o.maxInsns ?? 20_000_000);
  const output = String.fromCharCode(...out);
  return { machine, stop, output, lines: payloadLines(output), payloadSymbols: symbols };
}

/** A run that powered off through the finisher as `kind` (code for 'fail'). */
function expectExit(r: Run, kind: 'pass' | 'fail' | 'reset', code?: number): void {
  expect(r.stop, `the run stopped with '${r.stop}', output:\n${r.output}`).toBe('exit');
  expect(r.machine.exit?.kind, r.output).toBe(kind);
  if (code !== undefined) expect(r.machine.exit?.code).toBe(code);
}

const BANNER_4 = 'kmemlab SBI 2.0 firmware: 4 harts, next 0x80200000 (S-mode)';

describe('boot', () => {
  it('prints a one-line banner, then runs the payload in S-mode with a0 = boot hart and a1 = the DTB', () => {
    const r = boot(sbiPayloadSource());
    expectExit(r, 'pass');
    const lines = r.output.split('\n');
    expect(lines[0]).toBe(BANNER_4);
    expect(lines.slice(1, 5)).toEqual([
      'kmemlab payload: hello from S-mode on hart 0',
      'kmemlab payload: SBI spec version 0x02000000',
      'kmemlab payload: device tree magic 0xedfe0dd0',
      'kmemlab payload: powering off through SBI SRST',
    ]);
    expect(lines.slice(5).join('')).toBe('');
  });

  it('counts the harts of the device tree (1 hart)', () => {
    const r = boot(sbiPayloadSource(), { harts: 1 });
    expectExit(r, 'pass');
    expect(r.output.split('\n')[0]).toBe('kmemlab SBI 2.0 firmware: 1 hart, next 0x80200000 (S-mode)');
  });

  it('sets up every hart: PMP over its memory then all memory, delegation, counters, the IPI doorbell', () => {
    // Stop while the payload runs (it waits for a secondary in S-mode): every hart is set up by then.
    const r = boot(P.ipiPayload(), { maxInsns: 60_000 });
    for (const h of r.machine.harts) {
      expect(h.csrRead(CSR_PMPCFG0) & 0xffffn, `hart ${h.hartId} pmpcfg0`).toBe(0x1f18n); // NAPOT ---, NAPOT RWX
      expect(h.csrRead(CSR_PMPADDR0), `hart ${h.hartId} pmpaddr0`).toBe(0x2003_ffffn); // [0x8000_0000, +2 MiB)
      expect(h.csrRead(CSR_PMPADDR0 + 1), `hart ${h.hartId} pmpaddr1`).toBe((1n << 54n) - 1n);
      // misaligned fetch, breakpoint, ecall from U, the three page faults
      expect(h.csrRead(CSR_MEDELEG)).toBe((1n << 0n) | (1n << 3n) | (1n << 8n) | (1n << 12n) | (1n << 13n) | (1n << 15n));
      expect(h.csrRead(CSR_MIDELEG)).toBe(0x222n); // SSIP, STIP, SEIP
      expect(h.csrRead(CSR_MCOUNTEREN)).toBe(7n); // CY, TM, IR
      expect(h.csrRead(CSR_MIE) & 0x8n).toBe(0x8n); // MSIE
    }
  });

  it('parks the other harts in M-mode WFI until hart_start', () => {
    const r = boot(P.emptyPayload(), { maxInsns: 20_000_000 });
    expectExit(r, 'pass');
    for (const h of r.machine.harts.slice(1)) {
      expect(h.priv, `hart ${h.hartId}`).toBe(PRV_M);
      expect(h.wfi, `hart ${h.hartId}`).toBe(true);
    }
  });

  it("adds its own memory to the device tree's memory reservation block", () => {
    const r = boot(P.emptyPayload());
    expectExit(r, 'pass');
    const m = r.machine;
    const header = readFdtHeader(m.dtb);
    const blob = m.mem.readBytes(m.dtbAddr, header.totalsize + 16);
    const after = readFdtHeader(blob);
    expect(after.totalsize).toBe(header.totalsize + 16);
    expect(readFdtReservations(blob.subarray(0, after.totalsize))).toEqual([
      ...readFdtReservations(m.dtb),
      { address: 0x8000_0000n, size: 0x20_0000n },
    ]);
    // The rest of the tree is intact.
    const before = parseFdt(m.dtb);
    const now = parseFdt(blob.subarray(0, after.totalsize));
    expect(now.find('/cpus')?.children.length).toBe(before.find('/cpus')?.children.length);
    expect(now.find('/chosen')?.string('stdout-path')).toBe(before.find('/chosen')?.string('stdout-path'));
  });

  it('reaches the payload in a fixed number of instructions (reported)', () => {
    const count = (harts: number): number => {
      const { bytes } = assemble(P.emptyPayload(), { base: PAYLOAD_BASE });
      const m = new Machine({ harts, bios: { name: 'firmware.elf', bytes: fw.elf }, kernel: { name: 'payload.bin', bytes } });
      const h0 = m.harts[0]!;
      while (!(h0.priv === PRV_S && h0.pc === PAYLOAD_BASE)) {
        expect(m.run(1)).toBe('limit');
        expect(m.insns).toBeLessThan(1_000_000);
      }
      return m.insns;
    };
    const one = count(1);
    const four = count(4);
    expect(count(4)).toBe(four);
    console.log(`firmware boot to the payload's first instruction: ${one} instructions (1 hart), ${four} (4 harts)`);
  });

  it('stops with a message and exit code 6 when a1 holds no device tree', () => {
    const r = boot(P.emptyPayload(), { before: (m) => m.mem.writeBytes(m.dtbAddr, new Uint8Array(4)) });
    expectExit(r, 'fail', 6);
    expect(r.output).toMatch(/^kmemlab firmware: no device tree at 0x[0-9a-f]+ \(a1\); cannot boot\n$/);
  });
});

describe('BASE', () => {
  it('gives the versions and ids, probes every extension, and rejects unknown EIDs and FIDs', () => {
    const r = boot(P.basePayload());
    expectExit(r, 'pass');
    expect(r.lines).toEqual([
      'get_spec_version: error 0',
      'spec version 0x2000000',
      'impl id 0x4b4d4c42',
      'impl version 0x10000',
      'probe BASE 1', 'probe TIME 1', 'probe IPI 1', 'probe RFENCE 1', 'probe HSM 1', 'probe SRST 1', 'probe DBCN 1',
      'probe legacy putchar 1', 'probe legacy getchar 1',
      'probe legacy set_timer 0', 'probe legacy shutdown 0', 'probe PMU 0', 'probe 0x12345678 0',
      'machine mvendorid 0x0', 'machine marchid 0x0', 'machine mimpid 0x0',
      'unknown EID: error -2',
      'BASE fid 7: error -2',
      'TIME fid 1: error -2',
      'legacy putchar: a0 0',
      'legacy putchar: a1 changed by 0x0',
    ]);
    expect(r.output).toContain('\n>\n');
  });
});

describe('TIME', () => {
  it('set_timer raises an S timer interrupt at the deadline; set_timer(-1) clears it; a past deadline fires at once', () => {
    const r = boot(P.timerPayload());
    expectExit(r, 'pass');
    expect(r.lines).toEqual([
      'set_timer: error 0',
      'sip.STIP before the deadline 0x0',
      'trap: scause 0x8000000000000005',
      'interrupt before the deadline 0x0',
      'sip.STIP after set_timer(-1) 0x0',
      'trap: scause 0x8000000000000005',
      'timer interrupts taken 2',
    ]);
  });
});

describe('IPI', () => {
  it('send_ipi reaches one hart, every hart with base -1, skips stopped harts, and rejects invalid masks', () => {
    const r = boot(P.ipiPayload());
    expectExit(r, 'pass');
    expect(r.lines).toEqual([
      'hart_start: error 0',
      'send_ipi(1, base = secondary): error 0',
      'the secondary took 1 S software interrupt',
      'send_ipi(1 << secondary, base = 0): error 0',
      'the secondary took 2 S software interrupts',
      'send_ipi(0, base = -1): error 0',
      'the secondary and the boot hart took the broadcast IPI',
      'send_ipi to a stopped hart: error 0',
      'status of that hart 1',
      'send_ipi(1, base = 64): error -3',
      'send_ipi(1 << 4, base = 0) on 4 harts: error -3',
      'send_ipi(3, base = 3) on 4 harts: error -3',
      'IPI fid 1: error -2',
    ]);
  });
});

describe('HSM', () => {
  let r: Run;
  beforeAll(() => {
    r = boot(P.hsmPayload());
  });

  it('powers off cleanly at the end', () => expectExit(r, 'pass'));

  it('starts each secondary in S-mode with a0 = hart id, a1 = opaque, satp = 0, SIE = 0; hart_stop stops it', () => {
    const started = (id: number): string[] => [
      `secondary started: hart id (a0) ${id}`,
      'secondary started: a1 is the opaque value 0x1',
      'secondary started: satp 0x0',
      'secondary started: sstatus.SIE 0x0',
      'hart_start: error 0',
      'status after hart_stop 1',
    ];
    expect(r.lines.slice(0, 20)).toEqual([
      'status of a parked secondary 1',
      'status of the boot hart 0',
      ...started(1), ...started(2), ...started(3),
    ]);
  });

  it('restarts a stopped hart, refuses started ones, and checks hart ids and addresses', () => {
    expect(r.lines.slice(20, 35)).toEqual([
      'hart_start of a stopped hart: error 0',
      'its status 0',
      'hart_start of a started hart: error -6',
      'hart_start of the boot hart: error -6',
      'hart_get_status(64): error -3',
      'hart_start(64): error -3',
      'hart_start at 0x80000000 (firmware): error -5',
      'hart_start at 0x1000 (not RAM): error -5',
      'status after the failed starts 1',
      'hart_suspend(1) (reserved): error -3',
      'hart_suspend(0x10000000) (platform): error -3',
      'hart_suspend(non-retentive, resume at 0x80000000): error -5',
      'HSM fid 4: error -2',
      'hart_start of the suspender: error 0',
      'status of the suspended hart 4',
    ]);
  });

  it('suspends: retentive returns on an interrupt, non-retentive resumes at resume_addr', () => {
    expect(r.lines.slice(35)).toEqual([
      'the suspender resumed; hart_suspend returned 0',
      'hart_suspend(retentive): error 0',
      'woke before the deadline 0x0',
      'sip.STIP after resuming 0x20',
      'resumed at resume_addr: a0 is the hart id 0x1',
      'resumed at resume_addr: a1 0x5678',
      'resumed at resume_addr: satp 0x0',
    ]);
  });
});

describe('RFENCE', () => {
  it('remote_sfence_vma flushes a translation another hart has cached; the other fences and errors', () => {
    const r = boot(P.rfencePayload());
    expectExit(r, 'pass');
    expect(r.lines).toEqual([
      'secondary reads VA 0x40000000 0xaaaa',
      'remote_sfence_vma(secondary, 0x40000000, 4096): error 0',
      'secondary reads VA 0x40000000 after remote_sfence_vma 0xbbbb',
      'remote_fence_i(all): error 0',
      'remote_sfence_vma(all, whole space): error 0',
      'remote_sfence_vma(all, 4 MiB): error 0',
      'remote_sfence_vma_asid(all, whole space, asid 1): error 0',
      'remote_sfence_vma_asid(secondary, 2 pages, asid 0): error 0',
      'remote_sfence_vma of a range that wraps: error -5',
      'remote_sfence_vma(1, base = 64): error -3',
      'remote_hfence_gvma_vmid: error -2',
      'RFENCE fid 7: error -2',
    ]);
    // Before the fence, the secondary (hart 1) still read page A through its TLB:
    // the fence, not the page-table store, is what made it see page B.
    const flags = r.payloadSymbols.get('flags')!;
    const stale = r.machine.mem.readBytes(Number(flags + 64n + 3n * 8n), 8);
    expect(new DataView(stale.buffer, stale.byteOffset).getBigUint64(0, true)).toBe(0xaaaan);
  });
});

describe('DBCN and the legacy console', () => {
  it('writes buffers and bytes, reads typed input, and rejects buffers S-mode may not use', () => {
    const r = boot(P.dbcnPayload(), { input: 'xyz' });
    expectExit(r, 'pass');
    expect(r.lines).toEqual([
      'written by console_write',
      'console_write: error 0',
      'console_write: value 34',
      'console_write of 0 bytes: error 0',
      'console_write of 0 bytes: value 0',
      'console_write from firmware memory: error -3',
      'console_write across the firmware end: error -3',
      'console_write with base_addr_hi = 1: error -3',
      'console_write from the UART registers: error -3',
      'written by console_write_byte',
      'console_write_byte: error 0',
      'console_read: bytes 3',
      'console_read: "xyz"',
      'legacy getchar with nothing typed -1',
      'console_read into firmware memory: error -3',
      'console_read of 0 bytes: error 0',
      'console_read of 0 bytes: value 0',
      'DBCN fid 3: error -2',
    ]);
  });
});

describe('DBCN above 4 GiB', () => {
  it('reads and writes buffers in the highmem bank', () => {
    const r = boot(P.dbcnHighmemPayload(), { input: 'hi' });
    expectExit(r, 'pass');
    expect(r.lines).toEqual([
      'written from highmem',
      'console_write from highmem: error 0',
      'console_write from highmem: value 30',
      'console_read into highmem: first byte 0x68',
      'console_read into highmem: second byte 0x69',
      'console_write across the end of highmem: error -3',
      'console_write beyond every bank: error -3',
    ]);
  });
});

describe('SRST', () => {
  it('rejects reserved and unimplemented types and reasons; "system failure" powers off with exit code 1', () => {
    const r = boot(P.srstFailurePayload());
    expectExit(r, 'fail', 1);
    expect(r.lines).toEqual([
      'system_reset(3, 0) (reserved type): error -3',
      'system_reset(0xf0000000, 0) (vendor type): error -3',
      'system_reset(0, 2) (reserved reason): error -3',
      'system_reset(0, 0xe0000000) (SBI-specific reason): error -3',
      'system_reset(0, 0xf0000000) (vendor reason): error -3',
      'SRST fid 1: error -2',
      'shutting down with reason "system failure"',
    ]);
  });

  it('shutdown with no reason powers off with exit code 0', () => {
    const r = boot(P.emptyPayload());
    expectExit(r, 'pass');
    expect(r.lines).toEqual([]);
  });

  it.each([1, 2] as const)('reboot type %i resets the machine through the finisher', (type) => {
    const r = boot(P.srstRebootPayload(type));
    expectExit(r, 'reset');
    expect(r.lines).toEqual([type === 1 ? 'cold reboot' : 'warm reboot']);
  });
});

describe('PMP: the firmware memory is out of S-mode reach', () => {
  it('loads, stores and fetches there fault, and the firmware hands the faults to S-mode (scause, stval)', () => {
    const r = boot(P.pmpPayload());
    expectExit(r, 'pass');
    expect(r.lines).toEqual([
      'trap: scause 0x5', 'trap: stval 0x80000000',
      'trap: scause 0x7', 'trap: stval 0x80000000',
      'trap: scause 0x5', 'trap: stval 0x801ffff8',
      'trap: scause 0x1', 'trap: stval 0x80000000',
      'the payload itself (0x80200000) is readable',
    ]);
  });

  it('with no S-mode trap handler the firmware reports the fault and powers off with exit code 3', () => {
    const r = boot(P.pmpFatalPayload());
    expectExit(r, 'fail', 3);
    expect(r.lines).toEqual(['loading from firmware memory with stvec = 0']);
    expect(r.output).toMatch(
      /\nkmemlab firmware: unhandled exception on hart 0 from S-mode: mcause 0x5 mepc 0x802[0-9a-f]{5} mtval 0x80000000\n$/,
    );
  });
});

describe('fatal traps in the firmware itself', () => {
  it('an exception in M-mode prints mcause, mepc and mtval and powers off with exit code 3', () => {
    // Point the device tree's structure block at 0x4000_0000, where no device answers:
    // the boot hart's first read there is a load access fault in M-mode.
    const r = boot(P.emptyPayload(), {
      before: (m) => {
        const off = (0x4000_0000 - m.dtbAddr) >>> 0;
        m.mem.writeBytes(m.dtbAddr + 8, new Uint8Array([off >>> 24, (off >>> 16) & 0xff, (off >>> 8) & 0xff, off & 0xff]));
      },
    });
    expectExit(r, 'fail', 3);
    const m = /^kmemlab firmware: unhandled exception on hart 0 from M-mode: mcause 0x5 mepc (0x[0-9a-f]+) mtval 0x40000000\n$/.exec(r.output);
    expect(m, r.output).not.toBeNull();
    const mepc = BigInt(m![1]!);
    expect(mepc >= 0x8000_0000n && mepc < 0x8010_0000n).toBe(true);
  });
});
