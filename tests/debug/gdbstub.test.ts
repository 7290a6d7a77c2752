/**
 * The GDB remote stub (emulator/debug/gdbstub.ts) driven packet by packet
 * over a fake transport, on small guest programs (tests/helpers/guest.ts):
 * framing, acks and no-ack mode, escapes and run lengths; the target
 * description; registers and CSRs; memory through the MMU, with errors for
 * unmapped and device addresses; breakpoints (2- and 4-byte instructions),
 * watchpoints, steps of one hart, harts as threads, ^C, power-off, detach
 * and kill; monitor commands; and malformed input, which only ever gets an
 * E reply or a NAK and leaves the machine as it was. Two tests go through
 * a real loopback socket: serveGdb alone, and `kmemlab run --gdb` (runMachine)
 * end to end; and the --gdb option's parsing.
 */
import { describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunOptions, parseGdbAddress, isLoopbackHost, UsageError } from '../../cli/options.js';
import { runMachine } from '../../cli/run.js';
import { assemble } from '../../toolchain/asm.js';
import { Machine } from '../../emulator/machine/machine.js';
import { Debugger } from '../../emulator/debug/debugger.js';
import {
  GdbStub, PACKET_SIZE, decodePayload, escapeBinary, framePacket, serveGdb, type GdbSessionEnd, type GdbStubOptions,
} from '../../emulator/debug/gdbstub.js';
import { ALIAS_BASE, DATA, GUEST_BASE, enterSv39Alias, guestSource } from '../helpers/guest.js';
import { prng } from '../helpers/prng.js';

const COUNTER = DATA + 0x100n;
const FINISHER = 0x10_0000n;

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const text = (b: Uint8Array | number[]): string => String.fromCharCode(...b);
const hexOf = (s: string): string => Buffer.from(s, 'utf8').toString('hex');
const le64 = (v: bigint): string => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, v));
  return b.toString('hex');
};
const fromLe = (h: string): bigint => Buffer.from(h, 'hex').readBigUInt64LE();

/** Hart 0 counts to 3 storing to COUNTER (a 2-byte instruction at `here`), then powers off; other harts park in WFI. */
const LOOP = `
    bnez a0, park
    li s1, ${COUNTER}
    li s2, 0
    li s3, 3
    li s4, 2000
spin:
    addi s4, s4, -1
    bnez s4, spin
loop:
    addi s2, s2, 1
here:
    c.addi s2, 0
    sd s2, 0(s1)
after_store:
    ld t0, 0(s1)
after_load:
    blt s2, s3, loop
    j pass
park:
    wfi
    j park
`;

function machineOf(src: string, harts = 1): { machine: Machine; sym: (n: string) => bigint; bytes: Uint8Array } {
  const { bytes, symbols } = assemble(guestSource(src), { base: GUEST_BASE });
  const machine = new Machine({
    harts, dramSize: 16 * 1024 * 1024, highmemSize: 0, kernel: { name: 'guest.bin', bytes }, output: () => {},
  });
  const sym = (n: string): bigint => {
    const v = symbols.get(n);
    if (v === undefined) throw new Error(`no label ${n}`);
    return v;
  };
  return { machine, sym, bytes };
}

/** gdb's side of the wire: frames packets, reads replies, keeps O packets apart. */
class FakeGdb {
  readonly dbg: Debugger;
  readonly stub: GdbStub;
  private rx: number[] = [];
  closed = false;
  /** Text of the O packets received so far. */
  console = '';
  end: GdbSessionEnd | undefined;

  constructor(readonly machine: Machine, opts: GdbStubOptions = {}) {
    this.dbg = new Debugger(machine);
    this.stub = new GdbStub(this.dbg, { write: (b) => this.rx.push(...b), close: () => { this.closed = true; } }, opts);
    void this.stub.ended.then((e) => { this.end = e; });
  }

  raw(s: string | Uint8Array): void {
    this.stub.receive(typeof s === 'string' ? ascii(s) : s);
  }

  packet(payload: string | Uint8Array): void {
    this.raw(framePacket(typeof payload === 'string' ? ascii(payload) : payload));
  }

  /** Acks (and anything else outside packets) received so far. */
  acks = '';

  readAcks(): void {
    while (this.rx.length && this.rx[0] !== 0x24) this.acks += String.fromCharCode(this.rx.shift()!);
  }

  /** The next packet from the stub (O packets are collected into `console`), waiting for the event loop. */
  async reply(maxTurns = 20000): Promise<string> {
    for (let turn = 0; turn < maxTurns; turn++) {
      const p = this.take();
      if (p !== undefined) {
        if (p.startsWith('O') && p !== 'OK') {
          this.console += Buffer.from(p.slice(1), 'hex').toString('utf8');
          continue;
        }
        return p;
      }
      await new Promise((r) => setImmediate(r));
    }
    throw new Error(`no reply from the stub; received ${JSON.stringify(text(this.rx))}`);
  }

  private take(): string | undefined {
    this.readAcks();
    const end = this.rx.indexOf(0x23);
    if (this.rx[0] !== 0x24 || end < 0 || this.rx.length < end + 3) return undefined;
    const payload = this.rx.slice(1, end);
    const cs = parseInt(text(this.rx.slice(end + 1, end + 3)), 16);
    expect(cs).toBe(payload.reduce((a, b) => (a + b) & 0xff, 0));
    this.rx.splice(0, end + 3);
    return text(payload);
  }

  async ask(payload: string | Uint8Array): Promise<string> {
    this.packet(payload);
    return this.reply();
  }

  /** The usual start: features, no-ack mode. */
  async handshake(): Promise<void> {
    expect(await this.ask('qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;xmlRegisters=i386')).toContain('PacketSize=');
    expect(await this.ask('QStartNoAckMode')).toBe('OK');
    this.acks = '';
  }

  async reg(n: number, thread?: number): Promise<bigint> {
    if (thread !== undefined) expect(await this.ask(`Hg${thread.toString(16)}`)).toBe('OK');
    return fromLe(await this.ask(`p${n.toString(16)}`));
  }

  async settled(): Promise<GdbSessionEnd> {
    return this.stub.ended;
  }
}

const PC = 32;
const csrReg = (n: number): number => 65 + n;
const PRIV = 4161;

describe('the GDB stub', () => {
  it('acks packets until QStartNoAckMode, NAKs a bad checksum and sends again on a NAK', async () => {
    const g = new FakeGdb(machineOf(LOOP).machine);
    g.packet('?');
    expect(await g.reply()).toBe('T05thread:1;');
    g.raw('$?#00');
    await new Promise((r) => setImmediate(r));
    g.readAcks();
    expect(g.acks).toBe('+-'); // the first packet acked, the bad one refused
    g.raw('-'); // gdb did not get the last reply: it comes again
    expect(await g.reply()).toBe('T05thread:1;');
    expect(await g.ask('QStartNoAckMode')).toBe('OK');
    g.acks = '';
    expect(await g.ask('qAttached')).toBe('1');
    expect(g.acks).toBe('');
    // In no-ack mode a corrupted packet still gets an answer (E), never silence.
    g.raw('$qC#00');
    expect(await g.reply()).toMatch(/^E/);
    expect(await g.ask('qC')).toBe('QC1');
  });

  it('decodes escapes and run lengths, and escapes binary replies', () => {
    expect(text(decodePayload(ascii('X}\x03}]'))!)).toBe('X#}');
    expect(text(decodePayload(ascii('m0*"'))!)).toBe('m000000'); // '"' = 34: 5 more
    expect(decodePayload(ascii('*"'))).toBeUndefined();
    expect(decodePayload(ascii('a}'))).toBeUndefined();
    expect(text(decodePayload(ascii('a* '))!)).toBe('aaaa'); // ' ' = 32: 3 more, the least gdb sends
    expect(decodePayload(ascii('a*\x1f'))).toBeUndefined(); // 2 more: not a run length
    expect(text(escapeBinary(ascii('a$#}*b')))).toBe('a}\x04}\x03}]}\nb');
  });

  it('answers qSupported and describes RV64 registers, the CSRs the hart has and priv (no FPU)', async () => {
    const g = new FakeGdb(machineOf(LOOP).machine);
    const sup = await g.ask('qSupported:swbreak+;hwbreak+');
    for (const f of [`PacketSize=${PACKET_SIZE.toString(16)}`, 'qXfer:features:read+', 'QStartNoAckMode+', 'vContSupported+', 'swbreak+', 'hwbreak+']) {
      expect(sup.split(';')).toContain(f);
    }
    let xml = '';
    for (;;) {
      const r = await g.ask(`qXfer:features:read:target.xml:${xml.length.toString(16)},200`);
      expect(r[0]).toMatch(/[ml]/);
      xml += r.slice(1);
      if (r[0] === 'l') break;
    }
    expect(xml).toContain('<architecture>riscv:rv64</architecture>');
    expect(xml).toContain('<feature name="org.gnu.gdb.riscv.cpu">');
    expect(xml).toContain('<reg name="zero" bitsize="64" type="int" regnum="0"/>');
    expect(xml).toContain('<reg name="t6" bitsize="64" type="int" regnum="31"/>');
    expect(xml).toContain('<reg name="pc" bitsize="64" type="code_ptr" regnum="32"/>');
    expect(xml).toContain(`<reg name="mstatus" bitsize="64" type="int" regnum="${65 + 0x300}"/>`);
    expect(xml).toContain(`<reg name="satp" bitsize="64" type="int" regnum="${65 + 0x180}"/>`);
    expect(xml).toContain('<feature name="org.gnu.gdb.riscv.virtual">');
    expect(xml).toContain('<reg name="priv" bitsize="64" type="int" regnum="4161"/>');
    expect(xml).not.toContain('fpu');
    expect(xml).not.toContain('"fcsr"');
    expect(xml).not.toContain('"mtinst"'); // named by the assembler, but this hart has no such CSR
    expect(await g.ask('qXfer:features:read:other.xml:0,100')).toMatch(/^E/);
    expect(await g.ask('qXfer:features:read:target.xml:zz,100')).toMatch(/^E/);
    expect(await g.ask(`qXfer:features:read:target.xml:${(xml.length + 10).toString(16)},100`)).toMatch(/^E/);
  });

  it('reads and writes registers, CSRs and priv of the selected thread', async () => {
    const g = new FakeGdb(machineOf(LOOP, 2).machine);
    await g.handshake();
    const regs = await g.ask('g');
    expect(regs).toHaveLength(33 * 16);
    expect(fromLe(regs.slice(32 * 16))).toBe(0x1000n); // the reset vector
    expect(await g.reg(PC)).toBe(0x1000n);
    expect(await g.ask(`P5=${le64(0x1234_5678_9abc_def0n)}`)).toBe('OK');
    expect(await g.reg(5)).toBe(0x1234_5678_9abc_def0n);
    expect(g.machine.harts[0]!.getReg(5)).toBe(0x1234_5678_9abc_def0n);
    expect(await g.ask(`P0=${le64(7n)}`)).toBe('OK');
    expect(await g.reg(0)).toBe(0n);
    // CSRs at 65 + number; one the hart lacks is an error.
    expect(await g.reg(csrReg(0xf14), 2)).toBe(1n); // mhartid of hart 1 (thread 2)
    expect(await g.reg(csrReg(0xf14), 1)).toBe(0n);
    expect(await g.ask(`P${csrReg(0x340).toString(16)}=${le64(0xabcn)}`)).toBe('OK'); // mscratch
    expect(g.machine.harts[0]!.debugCsrRead(0x340)).toBe(0xabcn);
    expect(await g.ask(`p${csrReg(0x7c0).toString(16)}`)).toMatch(/^E/);
    expect(await g.ask(`P${csrReg(0xf14).toString(16)}=${le64(5n)}`)).toMatch(/^E/); // read-only
    expect(await g.ask(`p${(40).toString(16)}`)).toMatch(/^E/); // f7: no FPU
    expect(await g.reg(PRIV)).toBe(3n);
    expect(await g.ask(`P${PRIV.toString(16)}=${le64(2n)}`)).toMatch(/^E/);
    // G: all of x0–x31 and pc at once.
    const values = Array.from({ length: 33 }, (_, i) => (i === 32 ? 0x8000_0000n : BigInt(i) * 0x101n));
    expect(await g.ask(`G${values.map(le64).join('')}`)).toBe('OK');
    const back = await g.ask('g');
    expect(fromLe(back.slice(0, 16))).toBe(0n);
    expect(fromLe(back.slice(16 * 9, 16 * 10))).toBe(9n * 0x101n);
    expect(g.machine.harts[0]!.pc).toBe(0x8000_0000n);
    expect(g.machine.harts[1]!.pc).toBe(0x1000n);
    for (const bad of ['Gzz', 'G123', 'p', 'pzz', 'P5', 'P5=12', 'P5=zzzzzzzzzzzzzzzz', 'Hg9', 'Hgq', 'Hx1']) {
      expect(await g.ask(bad), bad).toMatch(/^E/);
    }
  });

  it('reads and writes memory through the MMU; unmapped and device addresses are E14, never a crash', async () => {
    const { machine, bytes } = machineOf(LOOP);
    const g = new FakeGdb(machine);
    await g.handshake();
    expect(await g.ask(`m${GUEST_BASE.toString(16)},20`)).toBe(Buffer.from(bytes.subarray(0, 32)).toString('hex'));
    expect(await g.ask(`M${COUNTER.toString(16)},4:deadbeef`)).toBe('OK');
    expect(await g.ask(`m${COUNTER.toString(16)},4`)).toBe('deadbeef');
    // X: binary, with the bytes that must be escaped.
    const data = Uint8Array.from([0x23, 0x24, 0x7d, 0x2a, 0x00, 0xff]);
    const x = new Uint8Array([...ascii(`X${(COUNTER + 8n).toString(16)},6:`), ...escapeBinary(data)]);
    expect(await g.ask(x)).toBe('OK');
    expect(await g.ask(`m${(COUNTER + 8n).toString(16)},6`)).toBe('2324 7d2a00ff'.replace(' ', ''));
    expect(await g.ask(`X${COUNTER.toString(16)},0:`)).toBe('OK'); // gdb's probe for X
    expect(await g.ask('m10000000,4')).toBe('E14'); // the UART: device reads have side effects
    expect(await g.ask('m0,4')).toBe('E14');
    expect(await g.ask('mffffffffffffffff,10')).toBe('E14');
    expect(await g.ask('M10000000,1:41')).toBe('E14');
    // A read running off the end of RAM returns the bytes before it.
    const end = 0x8000_0000n + 16n * 1024n * 1024n;
    expect(await g.ask(`m${(end - 4n).toString(16)},8`)).toHaveLength(8);
    for (const bad of ['m', 'm1', 'mzz,4', 'm1,zz', `m0,${(PACKET_SIZE).toString(16)}`, 'm10000000000000000,4', 'M1,2:414', 'M1,2:4142zz', 'M1,1', 'X1,3:ab', 'X1']) {
      expect(await g.ask(bad), bad).toMatch(/^E/);
    }
    expect(machine.harts[0]!.pc).toBe(0x1000n);
  });

  it('reads virtual memory through the selected hart\'s Sv39 tables', async () => {
    const ALIAS = ALIAS_BASE;
    const src = `
    ${enterSv39Alias('s_code')}
s_code:
    li s1, ${COUNTER}
    li t0, 42
    sd t0, 0(s1)
s_stop:
    j s_stop
`;
    const { machine, sym } = machineOf(src);
    const g = new FakeGdb(machine);
    await g.handshake();
    expect(await g.ask(`Z0,${sym('s_stop').toString(16)},4`)).toBe('OK');
    expect(await g.ask('c')).toBe('T05thread:1;swbreak:;');
    expect(await g.reg(PRIV)).toBe(1n);
    expect(await g.ask(`m${(ALIAS + (COUNTER - 0x8000_0000n)).toString(16)},8`)).toBe(le64(42n));
    expect(await g.ask('mc0000000,8')).toBe('E14'); // no entry at level 2
    expect(await g.ask(`M${(ALIAS + (COUNTER - 0x8000_0000n)).toString(16)},8:${le64(43n)}`)).toBe('OK');
    expect(machine.mem.readBytes(Number(COUNTER), 1)[0]).toBe(43);
  });

  it('stops at breakpoints on 2- and 4-byte instructions (swbreak / hwbreak) and goes on past them', async () => {
    const { machine, sym } = machineOf(LOOP);
    const g = new FakeGdb(machine);
    await g.handshake();
    const here = sym('here');
    expect(await g.ask(`Z0,${here.toString(16)},2`)).toBe('OK');
    expect(await g.ask('c')).toBe('T05thread:1;swbreak:;');
    expect(await g.reg(PC)).toBe(here);
    expect(await g.reg(18)).toBe(1n); // s2: stopped before c.addi, after the addi
    expect(await g.ask('vCont;c')).toBe('T05thread:1;swbreak:;');
    expect(await g.reg(18)).toBe(2n);
    expect(await g.ask(`z0,${here.toString(16)},2`)).toBe('OK');
    expect(await g.ask(`z0,${here.toString(16)},2`)).toMatch(/^E/); // none left
    const after = sym('after_store');
    expect(await g.ask(`Z1,${after.toString(16)},4`)).toBe('OK');
    expect(await g.ask('c')).toBe('T05thread:1;hwbreak:;');
    expect(await g.reg(PC)).toBe(after);
    expect(await g.ask(`z1,${after.toString(16)},4`)).toBe('OK');
    expect(await g.ask('?')).toBe('T05thread:1;hwbreak:;');
    for (const bad of ['Z0,1001,2', 'Z0,zz,2', 'Z0,1000,3', 'Z0,1000', 'Z2,80200000,0', 'Z3,10000000,4', 'Z0,10000000000000000,2']) {
      expect(await g.ask(bad), bad).toMatch(/^E/);
    }
    expect(await g.ask('Z9,1000,4')).toBe('');
    expect(await g.ask('c')).toBe('W00');
    expect(g.closed).toBe(true);
    expect(await g.settled()).toEqual({ how: 'exit', exit: machine.exit });
  });

  it('reports write, read and access watchpoints after the access, with the address gdb gave', async () => {
    const { machine, sym } = machineOf(LOOP);
    const g = new FakeGdb(machine);
    await g.handshake();
    const a = COUNTER.toString(16);
    expect(await g.ask(`Z2,${a},8`)).toBe('OK');
    expect(await g.ask('c')).toBe(`T05thread:1;watch:${a};`);
    expect(await g.reg(PC)).toBe(sym('after_store'));
    expect(await g.ask(`z2,${a},8`)).toBe('OK');
    expect(await g.ask(`Z3,${a},8`)).toBe('OK');
    expect(await g.ask('c')).toBe(`T05thread:1;rwatch:${a};`);
    expect(await g.reg(PC)).toBe(sym('after_load'));
    expect(await g.ask(`z3,${a},8`)).toBe('OK');
    expect(await g.ask(`Z4,${(COUNTER + 4n).toString(16)},4`)).toBe('OK');
    expect(await g.ask('c')).toBe(`T05thread:1;awatch:${(COUNTER + 4n).toString(16)};`);
    expect(await g.reg(PC)).toBe(sym('after_store'));
    expect(await g.ask(`z4,${(COUNTER + 4n).toString(16)},4`)).toBe('OK');
    expect(await g.ask(`z4,${(COUNTER + 4n).toString(16)},4`)).toMatch(/^E/);
  });

  it('shows harts as threads 1…N; steps one hart alone, and says so when it cannot step', async () => {
    const { machine, sym } = machineOf(LOOP, 4);
    const g = new FakeGdb(machine);
    await g.handshake();
    expect(await g.ask('qfThreadInfo')).toBe('m1,2,3,4');
    expect(await g.ask('qsThreadInfo')).toBe('l');
    expect(await g.ask('T4')).toBe('OK');
    expect(await g.ask('T5')).toMatch(/^E/);
    expect(await g.ask('T0g')).toMatch(/^E/);
    expect(await g.ask('vCont?')).toBe('vCont;c;C;s;S');
    // Step thread 3 (hart 2) from the reset vector: the others do not move.
    expect(await g.ask('vCont;s:3;c')).toBe('T05thread:3;');
    expect(machine.harts.map((h) => h.pc)).toEqual([0x1000n, 0x1000n, 0x1004n, 0x1000n]);
    expect(await g.ask('qC')).toBe('QC3');
    expect(await g.ask('Hc1')).toBe('OK');
    expect(await g.ask('s')).toBe('T05thread:1;');
    expect(machine.harts[0]!.pc).toBe(0x1004n);
    expect(await g.ask('Hc-1')).toBe('OK');
    // Run until hart 0 is past the spin: the others have parked in WFI by then.
    expect(await g.ask(`Z0,${sym('here').toString(16)},2`)).toBe('OK');
    expect(await g.ask('vCont;c')).toBe('T05thread:1;swbreak:;');
    expect(Buffer.from(await g.ask('qThreadExtraInfo,2'), 'hex').toString()).toBe('hart 1 M-mode wfi');
    expect(Buffer.from(await g.ask('qThreadExtraInfo,1'), 'hex').toString()).toBe('hart 0 M-mode running');
    expect(await g.ask('qThreadExtraInfo,9')).toMatch(/^E/);
    const parked = machine.harts[1]!.pc;
    // Stepping a parked hart runs the others until it can execute: hart 0 comes round its loop to the
    // breakpoint again first (nothing ever wakes hart 1 here).
    expect(await g.ask('vCont;s:2;c')).toBe('T05thread:1;swbreak:;');
    expect(machine.harts[1]!.pc).toBe(parked);
    // A step past the breakpoint executes the c.addi (2 bytes).
    expect(await g.ask('vCont;s:1')).toBe('T05thread:1;');
    expect(machine.harts[0]!.pc).toBe(sym('here') + 2n);
    expect(await g.ask('vCont;s:9')).toMatch(/^E/);
    expect(await g.ask('vCont;x')).toMatch(/^E/);
    expect(await g.ask('vCont;')).toMatch(/^E/);
  });

  it('stops a running machine on ^C (0x03) with SIGINT', async () => {
    const { machine } = machineOf('forever:\n    j forever\n');
    const g = new FakeGdb(machine, { slice: 5000 });
    await g.handshake();
    g.packet('c');
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    const before = machine.insns;
    expect(before).toBeGreaterThan(0);
    g.raw(Uint8Array.of(3));
    expect(await g.reply()).toBe('T02thread:1;');
    expect(machine.exit).toBeUndefined();
    // ^C while stopped changes nothing.
    g.raw(Uint8Array.of(3));
    expect(await g.ask('?')).toBe('T02thread:1;');
    // A ^C in the same chunk right behind the c stops that c.
    g.raw(new Uint8Array([...framePacket(ascii('c')), 3]));
    expect(await g.reply()).toBe('T02thread:1;');
  });

  it('reports every hart idle with nothing to wake it; waits for input when the host has some, and ^C ends the wait', async () => {
    const IDLE = 'idle:\n    wfi\n    j idle\n';
    const g = new FakeGdb(machineOf(IDLE).machine);
    await g.handshake();
    expect(await g.ask('c')).toBe('T05thread:1;');
    expect(g.console).toContain('every hart waits for an interrupt that nothing can raise');
    let waited = 0;
    const h = new FakeGdb(machineOf(IDLE).machine, { waitIdle: () => { waited++; return new Promise<boolean>(() => {}); } });
    await h.handshake();
    h.packet('c');
    await expect.poll(() => waited).toBe(1);
    h.raw(Uint8Array.of(3));
    expect(await h.reply()).toBe('T02thread:1;');
  });

  it('reports the guest\'s exit code as W and ends the session', async () => {
    const { machine } = machineOf('    li a0, 7\n    j fail\n');
    const g = new FakeGdb(machine);
    await g.handshake();
    expect(await g.ask('c')).toBe(`W${(machine.exit!.code & 0xff).toString(16).padStart(2, '0')}`);
    expect(machine.exit!.kind).toBe('fail');
    expect((await g.settled()).how).toBe('exit');
  });

  it('stops at --max-insns with X18', async () => {
    const { machine } = machineOf('forever:\n    j forever\n');
    const g = new FakeGdb(machine, { maxInsns: 10_000 });
    await g.handshake();
    expect(await g.ask('c')).toBe('X18');
    expect(g.console).toContain('--max-insns 10000');
    expect(await g.settled()).toEqual({ how: 'limit' });
  });

  it('detaches: OK, breakpoints and watchpoints gone, the machine runs on freely', async () => {
    const { machine, sym } = machineOf(LOOP);
    const g = new FakeGdb(machine);
    await g.handshake();
    expect(await g.ask(`Z0,${sym('here').toString(16)},2`)).toBe('OK');
    expect(await g.ask(`Z2,${COUNTER.toString(16)},8`)).toBe('OK');
    expect(await g.ask('D')).toBe('OK');
    expect(await g.settled()).toEqual({ how: 'detach' });
    expect(g.closed).toBe(true);
    expect(g.dbg.list()).toEqual([]);
    expect(machine.run(1_000_000)).toBe('exit');
    expect(machine.exit!.kind).toBe('pass');
  });

  it('kills on k without a reply', async () => {
    const g = new FakeGdb(machineOf(LOOP).machine);
    await g.handshake();
    g.packet('k');
    expect(await g.settled()).toEqual({ how: 'kill' });
    expect(g.closed).toBe(true);
  });

  it('treats a lost connection like a detach', async () => {
    const { machine, sym } = machineOf(LOOP);
    const g = new FakeGdb(machine);
    await g.handshake();
    expect(await g.ask(`Z0,${sym('here').toString(16)},2`)).toBe('OK');
    g.stub.disconnected();
    expect(await g.settled()).toEqual({ how: 'disconnect' });
    expect(machine.run(1_000_000)).toBe('exit');
  });

  it('answers monitor commands itself, or through the console it is given', async () => {
    const g = new FakeGdb(machineOf(LOOP, 2).machine);
    await g.handshake();
    expect(await g.ask(`qRcmd,${hexOf('help')}`)).toBe('OK');
    expect(g.console).toContain('info harts');
    g.console = '';
    expect(await g.ask(`qRcmd,${hexOf('info harts')}`)).toBe('OK');
    expect(g.console).toBe('* hart 0 M-mode running pc=0x1000\n  hart 1 M-mode running pc=0x1000\n');
    g.console = '';
    expect(await g.ask(`qRcmd,${hexOf('frobnicate')}`)).toBe('OK');
    expect(g.console).toContain("unknown monitor command 'frobnicate'");
    expect(await g.ask('qRcmd,zz')).toMatch(/^E/);

    const lines: string[] = [];
    const h = new FakeGdb(machineOf(LOOP).machine, {
      monitor: async (line) => {
        lines.push(line);
        if (line === 'boom') throw new Error('no such cache');
        return 'x'.repeat(PACKET_SIZE); // longer than one O packet
      },
    });
    await h.handshake();
    expect(await h.ask(`qRcmd,${hexOf('slabinfo')}`)).toBe('OK');
    expect(h.console).toBe(`${'x'.repeat(PACKET_SIZE)}\n`);
    h.console = '';
    expect(await h.ask(`qRcmd,${hexOf('boom')}`)).toBe('OK');
    expect(h.console).toContain('no such cache');
    expect(lines).toEqual(['slabinfo', 'boom']);
  });

  it('answers unknown packets with the empty reply and the usual queries as gdb expects', async () => {
    const g = new FakeGdb(machineOf(LOOP).machine);
    await g.handshake();
    for (const p of ['vMustReplyEmpty', 'qTStatus', 'qOffsets', 'Qfoo', '!', 'vFile:open:', 'bc', 'jfoo']) expect(await g.ask(p), p).toBe('');
    expect(await g.ask('qSymbol::')).toBe('OK');
    expect(await g.ask('qAttached:1')).toBe('1');
    expect(await g.ask('Hg0')).toBe('OK');
    expect(await g.ask('Hc-1')).toBe('OK');
  });

  it('survives malformed input: E replies or NAKs, no exception, no hang, the machine unharmed', async () => {
    const { machine } = machineOf(LOOP, 2);
    const g = new FakeGdb(machine);
    const snapshot = (): string => machine.harts.map((h) => `${h.pc}:${h.getReg(5)}`).join() + Buffer.from(machine.mem.readBytes(0x8000_0000, 4096)).toString('hex');
    const before = snapshot();
    // Oversized: the stub stops collecting and answers E.
    g.packet('m' + '0'.repeat(PACKET_SIZE + 100));
    expect(await g.reply()).toMatch(/^E/);
    // Bad escapes and run lengths.
    g.packet('m}');
    expect(await g.reply()).toMatch(/^E/);
    g.packet('*3');
    expect(await g.reply()).toMatch(/^E/);
    // A checksum of non-hex digits, then junk between packets, then a good packet.
    g.raw('$qC#zz');
    g.raw('junk+++\x00\xff');
    expect(await g.ask('qC')).toBe('QC1');
    // A packet start inside a packet: the first is abandoned.
    g.raw('$qAtt$qC#b4');
    expect(await g.reply()).toBe('QC1');
    // Random bytes, random fields for the parsers that take arguments.
    const rnd = prng(20261207);
    for (let i = 0; i < 300; i++) {
      const junk = Uint8Array.from({ length: rnd() % 40 }, () => rnd() & 0xff);
      g.raw(junk.filter((b) => b !== 0x03 && b !== 0x24 && b !== 0x2d)); // no packet start, ^C or NAK: pure noise
      const cmd = ['m', 'p', 'g', 'H', 'T', 'qXfer:features:read:', 'qThreadExtraInfo,', 'z0,', 'z2,', 'qRcmd,'][rnd() % 10]!;
      const arg = Array.from({ length: rnd() % 24 }, () => ',:;0123456789abcdefxyz-}*#$'[rnd() % 27]).join('');
      g.packet(escapeBinary(ascii(cmd + arg))); // as gdb would send it: $ # } * escaped
      await g.reply();
    }
    // The machine is as it was, and the stub still answers.
    expect(snapshot()).toBe(before);
    expect(await g.ask('qfThreadInfo')).toBe('m1,2');
  });

  it('serves one gdb on a TCP port and refuses a second connection', async () => {
    const { machine } = machineOf(LOOP);
    const dbg = new Debugger(machine);
    let port = 0;
    const server = await serveGdb(dbg, { host: '127.0.0.1', port: 0, onListening: (a) => { port = a.port; } });
    expect(port).toBeGreaterThan(0);
    const sock = connect(port, '127.0.0.1');
    let got = '';
    sock.on('data', (d) => { got += d.toString('latin1'); });
    await new Promise((r) => sock.once('connect', r));
    sock.write(Buffer.from(framePacket(ascii('qC'))));
    await expect.poll(() => got, { timeout: 5000 }).toBe(`+${text(framePacket(ascii('QC1')))}`);
    const second = connect(port, '127.0.0.1');
    await new Promise((r) => second.once('close', r));
    sock.write(Buffer.from(framePacket(ascii('D'))));
    expect(await server.ended).toEqual({ how: 'detach' });
    sock.destroy();
  });
});

/** A gdb client on a socket: send a packet, read the next reply packet (acks skipped). */
class SocketGdb {
  private buf = '';
  constructor(private readonly sock: Socket) {
    sock.on('data', (d: Buffer) => { this.buf += d.toString('latin1'); });
  }

  async ask(payload: string): Promise<string> {
    this.sock.write(Buffer.from(framePacket(ascii(payload))));
    let reply: string | undefined;
    await expect.poll(() => {
      const m = /^\+*\$([^#]*)#[0-9a-f]{2}/.exec(this.buf);
      if (m) {
        this.buf = this.buf.slice(m[0].length);
        reply = m[1]!;
      }
      return reply;
    }, { timeout: 10_000 }).toBeDefined();
    return reply!;
  }
}

describe('kmemlab run --gdb', () => {
  it('parses HOST:PORT, [v6]:PORT, :PORT and PORT; loopback unless told otherwise', () => {
    expect(parseRunOptions(['--gdb', '127.0.0.1:1234']).gdb).toEqual({ host: '127.0.0.1', port: 1234 });
    expect(parseRunOptions(['--gdb=:1234']).gdb).toEqual({ host: '127.0.0.1', port: 1234 });
    expect(parseGdbAddress('1234')).toEqual({ host: '127.0.0.1', port: 1234 });
    expect(parseGdbAddress('[::1]:9')).toEqual({ host: '::1', port: 9 });
    expect(parseGdbAddress('0.0.0.0:0')).toEqual({ host: '0.0.0.0', port: 0 });
    expect(parseRunOptions([]).gdb).toBeUndefined();
    for (const bad of ['', 'host', 'host:', ':', '1.2.3.4:65536', '::1:80', 'a:b']) {
      expect(() => parseGdbAddress(bad), bad).toThrow(UsageError);
    }
    expect(() => parseRunOptions(['--gdb'])).toThrow(/--gdb needs a value/);
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('::1')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
    expect(isLoopbackHost('192.168.1.2')).toBe(false);
  });

  it('boots stopped at the reset vector, serves gdb, prints the console, runs on after D with the guest\'s exit code', async () => {
    const src = `
    li t0, 0x10000000
    li t1, 'h'
    sb t1, 0(t0)
mark:
    li t1, 'i'
    sb t1, 0(t0)
    li a0, 3
    j fail
`;
    const { bytes, symbols } = assemble(guestSource(src), { base: GUEST_BASE });
    const file = join(mkdtempSync(join(tmpdir(), 'kmemlab-gdbstub-')), 'guest.bin');
    writeFileSync(file, bytes);
    let err = '';
    const out: number[] = [];
    const done = runMachine(parseRunOptions(['--gdb', '127.0.0.1:0', '--bios', 'none', '--kernel', file, '--harts', '2']), {
      writeOut: (b) => out.push(...b),
      writeErr: (t) => { err += t; },
    });
    let port = 0;
    await expect.poll(() => {
      port = Number(/waiting for gdb on 127\.0\.0\.1:(\d+) \(gdb: target remote 127\.0\.0\.1:\d+\)/.exec(err)?.[1] ?? 0);
      return port;
    }, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(err).not.toContain('warning');
    const sock = connect(port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    const g = new SocketGdb(sock);
    expect(await g.ask('qSupported:swbreak+')).toContain('swbreak+');
    expect(await g.ask('?')).toBe('T05thread:1;');
    expect(await g.ask('p20')).toBe(le64(0x1000n));
    expect(await g.ask(`Z0,${symbols.get('mark')!.toString(16)},4`)).toBe('OK');
    expect(await g.ask('c')).toBe('T05thread:1;swbreak:;');
    await expect.poll(() => text(out)).toBe('h'); // printed while gdb holds the machine
    expect(await g.ask(`qRcmd,${hexOf('info harts')}`)).toMatch(/^O/); // the debugger console answers
    expect(await g.ask('D')).toBe('OK');
    expect(await done).toBe(3);
    expect(text(out)).toBe('hi');
    expect(err).toContain('gdb detached; the machine runs on to its end');
    sock.destroy();
  });

  it('ends with the guest\'s code when it powers off under gdb, and 0 on k', async () => {
    const { bytes } = assemble(guestSource('    li a0, 5\n    j fail\n'), { base: GUEST_BASE });
    const file = join(mkdtempSync(join(tmpdir(), 'kmemlab-gdbstub-')), 'guest.bin');
    writeFileSync(file, bytes);
    for (const how of ['c', 'k'] as const) {
      let err = '';
      const done = runMachine(parseRunOptions(['--gdb', ':0', '--bios', 'none', '--kernel', file]), {
        writeOut: () => {},
        writeErr: (t) => { err += t; },
      });
      let port = 0;
      await expect.poll(() => {
        port = Number(/waiting for gdb on 127\.0\.0\.1:(\d+)/.exec(err)?.[1] ?? 0);
        return port;
      }, { timeout: 10_000 }).toBeGreaterThan(0);
      const sock = connect(port, '127.0.0.1');
      await new Promise((r) => sock.once('connect', r));
      const g = new SocketGdb(sock);
      if (how === 'c') {
        expect(await g.ask('c')).toBe('W05');
        expect(await done).toBe(5);
      } else {
        sock.write(Buffer.from(framePacket(ascii('k'))));
        expect(await done).toBe(0);
        expect(err).toContain('killed from gdb');
      }
      sock.destroy();
    }
  });
});
