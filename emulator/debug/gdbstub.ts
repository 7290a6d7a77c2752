/**
 * A GDB remote stub (GDB manual, appendix "GDB Remote Serial Protocol"): a
 * real `gdb-multiarch` attaches with `target remote HOST:PORT` and debugs the
 * whole machine through the debugger core (emulator/debug/debugger.ts).
 *
 * GdbStub speaks the protocol over an abstract byte transport (receive() in,
 * GdbTransport.write out), so tests drive it without sockets; serveGdb() at
 * the end puts it on one TCP connection (the only part that uses a host API).
 *
 * Framing
 * -------
 * `$payload#cs`, acknowledged `+` (good checksum) or `-` (bad: gdb sends it
 * again) until QStartNoAckMode. On input: `}` escapes (byte xor 0x20) and
 * run-length encoding (`x*n` = x repeated n - 29 more times); a 0x03 byte
 * outside a packet is gdb's interrupt (^C). On output, binary replies
 * (qXfer) escape `$ # } *`. A packet longer than PACKET_SIZE, with bad
 * escapes or bad run lengths gets E22; a bad checksum a NAK (or, in no-ack
 * mode, E22, so that gdb never waits for an answer that cannot come).
 * Every handler's failure is an E reply: bad input never throws out of the
 * stub and never harms the machine.
 *
 * Packets
 * -------
 *   qSupported (PacketSize, qXfer:features:read+, QStartNoAckMode+,
 *   vContSupported+, swbreak+, hwbreak+), QStartNoAckMode,
 *   qXfer:features:read:target.xml (emulator/debug/target_xml.ts),
 *   ?, g, G, p, P (x0–x31, pc, every CSR the hart has at 65 + csr, priv at
 *   4161; a CSR the hart lacks is E22; g and G carry x0–x31 and pc only),
 *   m, M, X (virtual addresses, through the selected thread's MMU as it is
 *   now; unmapped or not RAM is E14; a read that runs into an unmapped page
 *   returns the bytes before it),
 *   c, C, s, S (the signal is ignored; an address sets the pc first),
 *   vCont? (c, C, s, S), vCont, Z0–Z4 and z0–z4, qfThreadInfo, qsThreadInfo,
 *   qC, Hg, Hc, T, qThreadExtraInfo ("hart 2 S-mode running" / "wfi" /
 *   "stopped (HSM)"), qAttached (1), qSymbol (OK), qRcmd (monitor commands:
 *   GdbStubOptions.monitor, which `kmemlab run --gdb` points at the debugger
 *   console, emulator/debug/console.ts; without one the stub answers `help`
 *   and `info harts` itself; output goes back in O packets), D, k, vKill.
 *   Anything else: the empty reply.
 *
 * Threads: one per hart, thread id = hart id + 1 (gdb's ids start at 1).
 * `Hg` picks the hart registers and memory are read through; after a stop
 * it is the hart that stopped.
 *
 * Stops (all-stop mode only)
 * --------------------------
 * Continuing runs every hart under the machine's deterministic scheduler
 * (Debugger.contAsync, in slices, so that a 0x03 can stop it between two).
 * Stepping runs exactly one instruction on ONE hart with interrupts held
 * off; the other harts stay stopped — also for `vCont;s:N;c`, where gdb
 * would let them run (QEMU lets them run until the stepped vCPU stops). A
 * hart that cannot step now (in WFI with nothing pending, or not started by
 * SBI HSM) is stepped the way QEMU's would be: every hart runs until that one
 * executes an instruction (or a breakpoint, watchpoint or power-off comes
 * first, and is reported instead); when nothing can wake it, or it does not
 * run within Debugger's STEP_WAIT_LIMIT, the stub says why in an `O` packet
 * and reports the stop at the same pc.
 *
 *   breakpoint   T05thread:N;swbreak:;   (hwbreak:; when only a Z1 is there;
 *                each only when gdb's qSupported announced it)
 *   watchpoint   T05thread:N;watch:ADDR; (rwatch:, awatch: for Z3, Z4),
 *                after the access, ADDR being the address gdb gave in Z
 *   step         T05thread:N;
 *   ^C           T02thread:N;
 *   every hart idle, no input to wait for: an O packet saying so, T05
 *   power-off    W00 (pass) or Wnn (the failure code); a reset: W00 after
 *                an O packet saying the guest reset; the connection then
 *                closes, as QEMU's does when its guest ends
 *   --max-insns  X18 (SIGXCPU)
 *
 * Breakpoints are the debugger core's pc checks: nothing is written into
 * guest memory, so Z0 and Z1 are one mechanism, for 2- and 4-byte
 * instructions alike (kind 2 or 4). Watchpoints are translated to physical
 * addresses when gdb inserts them (through the Hg hart's MMU) and then catch
 * every alias of the memory, from every hart.
 *
 * vCont with a step action steps that one hart and nothing else; any other
 * vCont (c, C, also `c:N` for one thread) continues every hart: a hart
 * cannot run on its own under the machine's scheduler.
 *
 * Ending: `D` answers OK, takes every breakpoint and watchpoint out
 * (Debugger.detach) and ends the session with 'detach': the host then lets
 * the machine run on freely to its end (console on stdout, the guest's exit
 * code), as QEMU's guest does after gdb's detach. A lost connection does
 * the same. `k` / vKill end it with 'kill': `kmemlab run` stops the machine
 * and exits with 0 (QEMU exits). The host learns the end from `ended`, and
 * only once no run of the stub is in flight, so the machine never has two
 * drivers.
 *
 * Differences from QEMU's stub: no multiprocess extensions, no non-stop
 * mode, no FPU registers (RV64IMAC); stepping never runs the other harts;
 * memory access never reaches devices (their reads have side effects: E14);
 * `priv` is writable only with 0, 1 or 3; one client per run (others are
 * refused while one is attached, and none is accepted after it leaves).
 * serveGdb imports node:net when called, so the protocol class itself loads
 * without any host API.
 */
import type { Debugger, StopEvent, WatchType } from './debugger.js';
import { DebugError } from './debugger.js';
import type { Hart } from '../cpu/riscv/hart.js';
import { PRV_M, PRV_S, PRV_U } from '../cpu/riscv/csr.js';
import { MachineError, type ExitState } from '../machine/machine.js';
import { CSR_COUNT, GDB_REGNUM_FIRST_CSR, GDB_REGNUM_PC, GDB_REGNUM_PRIV, implementedCsrs, targetXml } from './target_xml.js';

/** Largest packet payload either side sends (advertised as PacketSize). */
export const PACKET_SIZE = 0x4000;
/** Bytes one m read returns at most: its reply is two hex digits a byte. */
const MAX_MEM_READ = PACKET_SIZE / 2;

const SIGINT = 2;
const SIGTRAP = 5;
const SIGXCPU = 24;
const SIGABRT = 6;

/** Error replies: errno numbers written as QEMU's stub writes them (gdb shows the number, nothing more). */
const E_FAULT = 'E14'; // EFAULT: memory that does not map, or is not RAM
const E_INVAL = 'E22'; // EINVAL: a malformed packet or argument
const E_NOENT = 'E02'; // ENOENT: no such breakpoint, no such annex
const E_SRCH = 'E03'; // ESRCH: no such thread
const E_NOREG = 'E22'; // a register (CSR) this hart does not have
const E_FAILED = 'E01'; // the debugger core refused (e.g. a watchpoint on a device)

export interface GdbTransport {
  write(bytes: Uint8Array): void;
  /** Close the connection once what was written has gone out. */
  close(): void;
}

export type GdbSessionEnd =
  /** `D`: the debugger is detached; the machine may run on freely. */
  | { how: 'detach' }
  /** The connection went away without `D`: likewise detached. */
  | { how: 'disconnect' }
  /** `k`, vKill, or the host's abort(): stop the machine. */
  | { how: 'kill' }
  /** The guest powered off or asked for a reset (reported W). */
  | { how: 'exit'; exit: ExitState }
  /** The instruction bound (maxInsns) was reached (reported X18). */
  | { how: 'limit' }
  /** The emulator failed (a MachineError out of a run or a step). */
  | { how: 'fault'; message: string };

export interface GdbStubOptions {
  /** The run's instruction bound: continuing stops there (default none). */
  maxInsns?: number;
  /** Instructions per contAsync slice (default the core's). */
  slice?: number;
  /**
   * Monitor commands (qRcmd): the debugger console's execute(). Without
   * it the stub answers `help` and `info harts` itself.
   */
  monitor?: (line: string) => Promise<string>;
  /**
   * Every hart waits for an interrupt and no timer is armed: resolve true
   * when something (console input) may wake the guest, so the run goes on;
   * false when nothing can come.
   */
  waitIdle?: () => Promise<boolean>;
  /** After every slice and step: the host flushes console output. */
  afterRun?: () => void;
  /** Where the stub's own faults are reported (a bug, never the user's input). */
  log?: (message: string) => void;
}

const ENC = new TextEncoder();
const DEC = new TextDecoder();

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return s;
}

function bytesOf(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}

const HEX_DIGITS = /^[0-9a-fA-F]+$/;

function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

function fromHex(s: string): Uint8Array | undefined {
  if (s.length % 2 !== 0 || (s.length > 0 && !HEX_DIGITS.test(s))) return undefined;
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** A hex number of at most 64 bits. */
function parseAddr(s: string | undefined): bigint | undefined {
  if (s === undefined || s.length === 0 || s.length > 16 || !HEX_DIGITS.test(s)) return undefined;
  return BigInt(`0x${s}`);
}

/** A hex count no larger than `max`. */
function parseCount(s: string | undefined, max: number): number | undefined {
  if (s === undefined || s.length === 0 || s.length > 8 || !HEX_DIGITS.test(s)) return undefined;
  const v = parseInt(s, 16);
  return v <= max ? v : undefined;
}

/** A 64-bit value as gdb's register bytes: little-endian hex. */
function regHex(v: bigint): string {
  let s = '';
  let x = BigInt.asUintN(64, v);
  for (let i = 0; i < 8; i++) {
    s += (x & 0xffn).toString(16).padStart(2, '0');
    x >>= 8n;
  }
  return s;
}

function regFromHex(s: string): bigint | undefined {
  const b = fromHex(s);
  if (!b || b.length !== 8) return undefined;
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  return v;
}

/** Escape a binary reply: `$`, `#`, `}` and `*` become `}` and the byte xor 0x20. */
export function escapeBinary(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (const b of data) {
    if (b === 0x23 || b === 0x24 || b === 0x7d || b === 0x2a) out.push(0x7d, b ^ 0x20);
    else out.push(b);
  }
  return Uint8Array.from(out);
}

/** Undo `}` escapes and run-length encoding of a packet's payload; undefined when malformed. */
export function decodePayload(raw: Uint8Array): Uint8Array | undefined {
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b === 0x7d) {
      if (i + 1 >= raw.length) return undefined;
      out.push(raw[++i]! ^ 0x20);
    } else if (b === 0x2a) {
      // `*` repeats the byte before it (n - 29) more times; n is printable, 3 … 97 repeats.
      if (out.length === 0 || i + 1 >= raw.length) return undefined;
      const n = raw[++i]! - 29;
      if (n < 3 || n > 97) return undefined;
      const last = out[out.length - 1]!;
      for (let k = 0; k < n; k++) out.push(last);
    } else {
      out.push(b);
    }
    if (out.length > PACKET_SIZE) return undefined;
  }
  return Uint8Array.from(out);
}

function checksum(bytes: Uint8Array): number {
  let s = 0;
  for (const b of bytes) s = (s + b) & 0xff;
  return s;
}

/** A packet ready to send: `$`, payload, `#`, two hex checksum digits. */
export function framePacket(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.length + 4);
  out[0] = 0x24;
  out.set(payload, 1);
  out[payload.length + 1] = 0x23;
  out.set(bytesOf(checksum(payload).toString(16).padStart(2, '0')), payload.length + 2);
  return out;
}

const PRIV_NAME: Record<number, string> = { [PRV_U]: 'U', [PRV_S]: 'S', [PRV_M]: 'M' };

/** The one-line state of a hart (qThreadExtraInfo, `monitor info harts`). */
export function hartState(h: Hart): string {
  const what = h.halted ? 'stopped (HSM)' : h.wfi ? 'wfi' : 'running';
  return `hart ${h.hartId} ${PRIV_NAME[h.priv] ?? h.priv}-mode ${what}`;
}

type RxState = 'idle' | 'body' | 'cs1' | 'cs2';

type Resume =
  | { kind: 'continue' }
  | { kind: 'step'; hart: number };

export class GdbStub {
  readonly ended: Promise<GdbSessionEnd>;
  private resolveEnd!: (e: GdbSessionEnd) => void;
  private end: GdbSessionEnd | undefined;

  // Receiving.
  private rx: RxState = 'idle';
  private body: number[] = [];
  /** Checksum of the whole body, also of bytes past PACKET_SIZE that are not kept. */
  private bodySum = 0;
  private tooLong = false;
  private csText = '';
  private readonly queue: ({ payload: Uint8Array } | { error: string })[] = [];
  private busy = false;

  // Sending.
  private ackMode = true;
  private lastPacket: Uint8Array | undefined;

  // Session state.
  private swbreak = false;
  private hwbreak = false;
  /** Hart that g/G/p/P/m/M/X/Z2–Z4 act on (Hg). */
  private gHart: number;
  /** Hart that plain s acts on (Hc); -1: the current one. */
  private cHart = -1;
  private running = false;
  private interrupted = false;
  private wakeInterrupt: (() => void) | undefined;
  private lastStop: string;
  /** Which Z types hold each breakpoint address: gdb's Z0 and Z1 may both insert one. */
  private readonly bpKinds = new Map<bigint, Set<'sw' | 'hw'>>();
  private threadInfoSent = false;
  private xml: string | undefined;

  constructor(
    private readonly dbg: Debugger,
    private readonly transport: GdbTransport,
    private readonly opts: GdbStubOptions = {},
  ) {
    this.ended = new Promise((r) => { this.resolveEnd = r; });
    this.gHart = dbg.current;
    this.lastStop = this.threadStop(SIGTRAP, dbg.current);
  }

  private get harts(): Hart[] {
    return this.dbg.machine.harts;
  }

  // --- bytes in --------------------------------------------------------------

  /** Bytes from gdb. */
  receive(data: Uint8Array): void {
    if (this.end) return;
    for (const b of data) this.rxByte(b);
    this.pump();
  }

  /** The connection is gone: end as after `D`, unless the session has ended already. */
  disconnected(): void {
    if (this.end) return;
    this.dbg.requestStop();
    this.finish({ how: 'disconnect' }, false);
  }

  /** The host ends the session (e.g. the console's Ctrl-A x): as `k`. */
  abort(): void {
    if (this.end) return;
    this.dbg.requestStop();
    this.finish({ how: 'kill' }, false);
  }

  private rxByte(b: number): void {
    switch (this.rx) {
      case 'idle':
        if (b === 0x24) this.startPacket();
        else if (b === 0x03) this.interrupt();
        else if (b === 0x2d && this.ackMode && this.lastPacket) this.transport.write(this.lastPacket); // `-`: send again
        // `+` and line noise between packets: nothing to do.
        return;
      case 'body':
        if (b === 0x23) {
          this.rx = 'cs1';
          this.csText = '';
        } else if (b === 0x24) {
          this.startPacket(); // a new packet start: gdb gave up on the last one
        } else {
          this.bodySum = (this.bodySum + b) & 0xff;
          if (this.body.length < PACKET_SIZE + 16) this.body.push(b);
          else this.tooLong = true;
        }
        return;
      case 'cs1':
        this.csText = String.fromCharCode(b);
        this.rx = 'cs2';
        return;
      case 'cs2':
        this.csText += String.fromCharCode(b);
        this.rx = 'idle';
        this.packetDone();
        return;
    }
  }

  private startPacket(): void {
    this.rx = 'body';
    this.body = [];
    this.bodySum = 0;
    this.tooLong = false;
  }

  private packetDone(): void {
    const raw = Uint8Array.from(this.body);
    this.body = [];
    const good = /^[0-9a-fA-F]{2}$/.test(this.csText) && parseInt(this.csText, 16) === this.bodySum;
    if (!good) {
      if (this.ackMode) this.transport.write(bytesOf('-'));
      else this.queue.push({ error: E_INVAL });
      return;
    }
    if (this.ackMode) this.transport.write(bytesOf('+'));
    if (this.tooLong) {
      this.queue.push({ error: E_INVAL });
      return;
    }
    const payload = decodePayload(raw);
    this.queue.push(payload ? { payload } : { error: E_INVAL });
    // Handle it now, before the bytes after it: a ^C right behind a `c` must find the machine running.
    this.pump();
  }

  /** gdb's ^C: stop a running machine at the next slice boundary. */
  private interrupt(): void {
    if (!this.running) return;
    this.interrupted = true;
    this.dbg.requestStop();
    this.wakeInterrupt?.();
  }

  private pump(): void {
    if (this.busy) return;
    this.busy = true;
    void this.drain();
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length && !this.end) {
        const p = this.queue.shift()!;
        if ('error' in p) {
          this.send(p.error);
          continue;
        }
        await this.handleSafely(p.payload);
      }
    } finally {
      this.busy = false;
    }
  }

  private async handleSafely(payload: Uint8Array): Promise<void> {
    try {
      const reply = await this.handle(payload);
      if (reply !== undefined && !this.end) this.send(reply);
    } catch (e) {
      if (e instanceof MachineError) {
        this.sendOutput(`kmemlab: ${e.message}\n`);
        this.send(`X${SIGABRT.toString(16).padStart(2, '0')}`);
        this.finish({ how: 'fault', message: e.message }, true);
        return;
      }
      // A DebugError is the user's mistake; anything else is a bug in the
      // stub, but still only an error reply: the machine is untouched.
      if (!(e instanceof DebugError)) this.opts.log?.(`gdb stub: internal error on '${latin1(payload.subarray(0, 40))}': ${(e as Error).stack ?? e}`);
      this.send(E_FAILED);
    }
  }

  // --- bytes out -------------------------------------------------------------

  private send(payload: string | Uint8Array): void {
    if (this.end) return;
    const p = framePacket(typeof payload === 'string' ? bytesOf(payload) : payload);
    this.lastPacket = p;
    this.transport.write(p);
  }

  /** Text for gdb's console (O packets), while a resume or a monitor command runs. */
  private sendOutput(text: string): void {
    const bytes = ENC.encode(text);
    const chunk = (PACKET_SIZE - 2) >> 1;
    for (let i = 0; i < bytes.length; i += chunk) this.send(`O${toHex(bytes.subarray(i, i + chunk))}`);
  }

  private finish(end: GdbSessionEnd, close: boolean): void {
    if (this.end) return;
    this.end = end;
    this.queue.length = 0;
    if (end.how === 'detach' || end.how === 'disconnect') this.dbg.detach();
    if (close) this.transport.close();
    this.settle();
  }

  /** Hand the end to the host once no run of ours is in flight (never two drivers of one machine). */
  private settle(): void {
    if (this.end && !this.running) this.resolveEnd(this.end);
  }

  // --- dispatch --------------------------------------------------------------

  /** The reply to one packet; undefined when there is none (k) or it was sent already. */
  private async handle(payload: Uint8Array): Promise<string | Uint8Array | undefined> {
    const text = latin1(payload);
    switch (text[0]) {
      case '?': return this.lastStop;
      case 'g': return this.readRegisters();
      case 'G': return this.writeRegisters(text.slice(1));
      case 'p': return this.readRegister(text.slice(1));
      case 'P': return this.writeRegister(text.slice(1));
      case 'm': return this.readMemory(text.slice(1));
      case 'M': return this.writeMemoryHex(text.slice(1));
      case 'X': return this.writeMemoryBinary(payload);
      case 'c':
      case 'C':
      case 's':
      case 'S':
        return this.resumePacket(text);
      case 'Z':
      case 'z':
        return this.breakpointPacket(text);
      case 'H': return this.setThread(text.slice(1));
      case 'T': return this.threadAlive(text.slice(1));
      case 'D': {
        this.send('OK');
        this.finish({ how: 'detach' }, true);
        return undefined;
      }
      case 'k':
        this.finish({ how: 'kill' }, true);
        return undefined;
      case 'q': return this.query(text);
      case 'Q':
        if (text === 'QStartNoAckMode') {
          this.send('OK');
          this.ackMode = false;
          return undefined;
        }
        return '';
      case 'v': return this.vPacket(text);
      default:
        return '';
    }
  }

  private query(text: string): Promise<string | Uint8Array> | string | Uint8Array {
    if (text.startsWith('qSupported')) {
      const features = text.slice('qSupported:'.length).split(';');
      this.swbreak = features.includes('swbreak+');
      this.hwbreak = features.includes('hwbreak+');
      return `PacketSize=${PACKET_SIZE.toString(16)};qXfer:features:read+;QStartNoAckMode+;vContSupported+;swbreak+;hwbreak+`;
    }
    if (text.startsWith('qXfer:features:read:')) return this.readFeatures(text.slice('qXfer:features:read:'.length));
    if (text === 'qfThreadInfo') {
      this.threadInfoSent = true;
      return `m${this.harts.map((h) => (h.hartId + 1).toString(16)).join(',')}`;
    }
    if (text === 'qsThreadInfo') {
      if (!this.threadInfoSent) return E_INVAL;
      return 'l';
    }
    if (text === 'qC') return `QC${(this.gHart + 1).toString(16)}`;
    if (text === 'qAttached' || text.startsWith('qAttached:')) return '1';
    if (text.startsWith('qThreadExtraInfo,')) {
      const h = this.thread(text.slice('qThreadExtraInfo,'.length));
      if (h === undefined || h < 0) return E_SRCH;
      return toHex(ENC.encode(hartState(this.harts[h]!)));
    }
    if (text.startsWith('qSymbol:')) return 'OK';
    if (text.startsWith('qRcmd,')) return this.monitorCommand(text.slice('qRcmd,'.length));
    return '';
  }

  private vPacket(text: string): Promise<string | undefined> | string | undefined {
    if (text === 'vCont?') return 'vCont;c;C;s;S';
    if (text.startsWith('vCont;')) return this.vCont(text.slice('vCont;'.length));
    if (text === 'vKill' || text.startsWith('vKill;')) {
      this.send('OK');
      this.finish({ how: 'kill' }, true);
      return undefined;
    }
    return '';
  }

  // --- threads ---------------------------------------------------------------

  /**
   * A thread id: a hart index, -1 for "all" (-1), or undefined when it is
   * malformed or names no hart. 0 ("any") is the current hart.
   */
  private thread(s: string): number | undefined {
    let t = s;
    if (t.startsWith('p')) {
      const dot = t.indexOf('.');
      if (dot < 0) return undefined;
      t = t.slice(dot + 1);
    }
    if (t === '-1') return -1;
    if (t.length === 0 || t.length > 8 || !HEX_DIGITS.test(t)) return undefined;
    const id = parseInt(t, 16);
    if (id === 0) return this.dbg.current;
    return id <= this.harts.length ? id - 1 : undefined;
  }

  private setThread(s: string): string {
    const op = s[0];
    const h = this.thread(s.slice(1));
    if ((op !== 'g' && op !== 'c') || h === undefined) return E_SRCH;
    if (op === 'g') this.gHart = h < 0 ? this.dbg.current : h;
    else this.cHart = h;
    return 'OK';
  }

  private threadAlive(s: string): string {
    const h = this.thread(s);
    return h === undefined || h < 0 ? E_SRCH : 'OK';
  }

  private threadStop(signal: number, hart: number, extra = ''): string {
    return `T${signal.toString(16).padStart(2, '0')}thread:${(hart + 1).toString(16)};${extra}`;
  }

  // --- registers -------------------------------------------------------------

  private get gh(): Hart {
    return this.harts[this.gHart]!;
  }

  private readRegisters(): string {
    const h = this.gh;
    let s = '';
    for (let i = 0; i < 32; i++) s += regHex(h.getReg(i));
    return s + regHex(h.pc);
  }

  private writeRegisters(hex: string): string {
    if (hex.length === 0 || hex.length % 16 !== 0 || !HEX_DIGITS.test(hex)) return E_INVAL;
    const n = Math.min(hex.length / 16, 33);
    const values: bigint[] = [];
    for (let i = 0; i < n; i++) values.push(regFromHex(hex.slice(16 * i, 16 * i + 16))!);
    const h = this.gh;
    values.forEach((v, i) => {
      if (i < 32) h.setReg(i, v);
      else h.pc = v;
    });
    return 'OK';
  }

  private regnum(s: string): number | undefined {
    if (s.length === 0 || s.length > 8 || !HEX_DIGITS.test(s)) return undefined;
    return parseInt(s, 16);
  }

  private readRegister(s: string): string {
    const n = this.regnum(s);
    if (n === undefined) return E_INVAL;
    const h = this.gh;
    if (n < 32) return regHex(h.getReg(n));
    if (n === GDB_REGNUM_PC) return regHex(h.pc);
    if (n === GDB_REGNUM_PRIV) return regHex(BigInt(h.priv));
    if (n >= GDB_REGNUM_FIRST_CSR && n < GDB_REGNUM_FIRST_CSR + CSR_COUNT) {
      const v = h.debugCsrRead(n - GDB_REGNUM_FIRST_CSR);
      return v === undefined ? E_NOREG : regHex(v);
    }
    return E_NOREG;
  }

  private writeRegister(s: string): string {
    const eq = s.indexOf('=');
    const n = this.regnum(s.slice(0, eq < 0 ? s.length : eq));
    const v = eq < 0 ? undefined : regFromHex(s.slice(eq + 1));
    if (n === undefined || v === undefined) return E_INVAL;
    const h = this.gh;
    if (n < 32) h.setReg(n, v);
    else if (n === GDB_REGNUM_PC) h.pc = v;
    else if (n === GDB_REGNUM_PRIV) {
      if (v !== BigInt(PRV_U) && v !== BigInt(PRV_S) && v !== BigInt(PRV_M)) return E_INVAL;
      h.priv = Number(v);
      h.mmu.flush();
    } else if (n >= GDB_REGNUM_FIRST_CSR && n < GDB_REGNUM_FIRST_CSR + CSR_COUNT) {
      if (!h.debugCsrWrite(n - GDB_REGNUM_FIRST_CSR, v)) return E_NOREG;
    } else {
      return E_NOREG;
    }
    return 'OK';
  }

  // --- memory ----------------------------------------------------------------

  private addrLen(s: string, max: number): { addr: bigint; len: number } | undefined {
    const comma = s.indexOf(',');
    if (comma < 0) return undefined;
    const addr = parseAddr(s.slice(0, comma));
    const len = parseCount(s.slice(comma + 1), max);
    if (addr === undefined || len === undefined) return undefined;
    return { addr, len };
  }

  private readMemory(s: string): string {
    const a = this.addrLen(s, MAX_MEM_READ);
    if (!a) return E_INVAL;
    // Page by page, so a read running into an unmapped page returns what came before it.
    const parts: Uint8Array[] = [];
    let done = 0;
    while (done < a.len) {
      const at = BigInt.asUintN(64, a.addr + BigInt(done));
      const n = Math.min(a.len - done, 4096 - Number(at & 0xfffn));
      try {
        parts.push(this.dbg.readVirt(at, n, this.gHart));
      } catch (e) {
        if (e instanceof DebugError) break;
        throw e;
      }
      done += n;
    }
    if (done === 0 && a.len > 0) return E_FAULT;
    return parts.map(toHex).join('');
  }

  private writeMemory(addr: bigint, data: Uint8Array): string {
    if (data.length === 0) return 'OK';
    try {
      this.dbg.writeVirt(addr, data, this.gHart);
    } catch (e) {
      if (e instanceof DebugError) return E_FAULT;
      throw e;
    }
    return 'OK';
  }

  private writeMemoryHex(s: string): string {
    const colon = s.indexOf(':');
    if (colon < 0) return E_INVAL;
    const a = this.addrLen(s.slice(0, colon), PACKET_SIZE);
    const data = fromHex(s.slice(colon + 1));
    if (!a || !data || data.length !== a.len) return E_INVAL;
    return this.writeMemory(a.addr, data);
  }

  private writeMemoryBinary(payload: Uint8Array): string {
    const colon = payload.indexOf(0x3a);
    if (colon < 0) return E_INVAL;
    const a = this.addrLen(latin1(payload.subarray(1, colon)), PACKET_SIZE);
    const data = payload.subarray(colon + 1);
    if (!a || data.length !== a.len) return E_INVAL;
    return this.writeMemory(a.addr, data);
  }

  // --- target description ----------------------------------------------------

  private readFeatures(s: string): string | Uint8Array {
    const m = /^([^:]*):([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(s);
    if (!m) return E_INVAL;
    if (m[1] !== 'target.xml') return E_NOENT;
    const off = parseCount(m[2], 0xffffffff);
    const len = parseCount(m[3], 0xffffffff);
    if (off === undefined || len === undefined) return E_INVAL;
    this.xml ??= targetXml(implementedCsrs(this.harts[0]!));
    const all = ENC.encode(this.xml);
    if (off > all.length) return E_INVAL;
    // Escaping can double a byte: keep the reply within the packet size.
    const chunk = all.subarray(off, off + Math.min(len, (PACKET_SIZE - 1) >> 1));
    const more = off + chunk.length < all.length;
    const body = escapeBinary(chunk);
    const out = new Uint8Array(body.length + 1);
    out[0] = more ? 0x6d /* m */ : 0x6c /* l */;
    out.set(body, 1);
    return out;
  }

  // --- breakpoints and watchpoints -------------------------------------------

  private breakpointPacket(text: string): string {
    const insert = text[0] === 'Z';
    const parts = text.slice(1).split(';')[0]!.split(',');
    if (parts.length !== 3) return E_INVAL;
    const type = parts[0];
    const addr = parseAddr(parts[1]);
    const kind = parseCount(parts[2], 0xffff);
    if (addr === undefined || kind === undefined) return E_INVAL;
    try {
      if (type === '0' || type === '1') {
        if (kind !== 2 && kind !== 4) return E_INVAL;
        return insert ? this.insertBreakpoint(addr, type === '0' ? 'sw' : 'hw') : this.removeBreakpoint(addr, type === '0' ? 'sw' : 'hw');
      }
      const wt: WatchType | undefined = type === '2' ? 'write' : type === '3' ? 'read' : type === '4' ? 'access' : undefined;
      if (wt === undefined) return ''; // an unknown type: not supported
      if (insert) this.dbg.addWatchpoint(addr, kind, wt, { hart: this.gHart });
      else if (!this.dbg.deleteWatchpointAt(addr, kind, wt)) return E_NOENT;
      return 'OK';
    } catch (e) {
      if (e instanceof DebugError) return E_FAILED;
      throw e;
    }
  }

  private insertBreakpoint(addr: bigint, how: 'sw' | 'hw'): string {
    const kinds = this.bpKinds.get(addr);
    if (kinds) {
      kinds.add(how);
      return 'OK';
    }
    this.dbg.addBreakpoint(addr);
    this.bpKinds.set(addr, new Set([how]));
    return 'OK';
  }

  private removeBreakpoint(addr: bigint, how: 'sw' | 'hw'): string {
    const kinds = this.bpKinds.get(addr);
    if (!kinds || !kinds.delete(how)) return E_NOENT;
    if (kinds.size === 0) {
      this.bpKinds.delete(addr);
      this.dbg.deleteBreakpointAt(addr);
    }
    return 'OK';
  }

  // --- running ---------------------------------------------------------------

  /** c [addr], C sig[;addr], s [addr], S sig[;addr]. */
  private async resumePacket(text: string): Promise<string | undefined> {
    const step = text[0] === 's' || text[0] === 'S';
    let rest = text.slice(1);
    if (text[0] === 'C' || text[0] === 'S') {
      const semi = rest.indexOf(';');
      const sig = semi < 0 ? rest : rest.slice(0, semi);
      if (!/^[0-9a-fA-F]{1,2}$/.test(sig)) return E_INVAL;
      rest = semi < 0 ? '' : rest.slice(semi + 1);
    }
    const hart = this.cHart < 0 ? this.dbg.current : this.cHart;
    if (rest.length) {
      const addr = parseAddr(rest);
      if (addr === undefined) return E_INVAL;
      this.harts[hart]!.pc = addr;
    }
    return this.resume(step ? { kind: 'step', hart } : { kind: 'continue' });
  }

  /** vCont;action[:thread]… : a step action for a thread steps that hart alone; otherwise continue all. */
  private async vCont(s: string): Promise<string | undefined> {
    let stepHart: number | undefined;
    let any = false;
    for (const action of s.split(';')) {
      const colon = action.indexOf(':');
      const verb = colon < 0 ? action : action.slice(0, colon);
      const h = colon < 0 ? -1 : this.thread(action.slice(colon + 1));
      if (h === undefined) return E_INVAL;
      if (!/^([cs]|[CS][0-9a-fA-F]{2})$/.test(verb)) return E_INVAL;
      any = true;
      if ((verb[0] === 's' || verb[0] === 'S') && stepHart === undefined) {
        stepHart = h >= 0 ? h : this.cHart >= 0 ? this.cHart : this.dbg.current;
      }
    }
    if (!any) return E_INVAL;
    return this.resume(stepHart !== undefined ? { kind: 'step', hart: stepHart } : { kind: 'continue' });
  }

  private async resume(r: Resume): Promise<string | undefined> {
    let ev: StopEvent;
    if (r.kind === 'step') {
      ev = this.dbg.step(r.hart);
      this.opts.afterRun?.();
    } else {
      ev = await this.runUntilStop();
    }
    return this.reportStop(ev, r.kind === 'step' ? r.hart : this.dbg.current);
  }

  private async runUntilStop(): Promise<StopEvent> {
    const m = this.dbg.machine;
    const max = this.opts.maxInsns ?? Infinity;
    this.running = true;
    this.interrupted = false;
    try {
      for (;;) {
        const left = max - m.insns;
        if (left <= 0) return { reason: 'limit' };
        const ev = await this.dbg.contAsync(left, this.opts.slice);
        this.opts.afterRun?.();
        if (this.end) return ev;
        if (this.interrupted && (ev.reason === 'limit' || ev.reason === 'idle')) return { reason: 'interrupted' };
        if (ev.reason !== 'idle' || !this.opts.waitIdle) return ev;
        // Every hart waits: wait for console input, or gdb's ^C.
        const woke = await Promise.race([
          this.opts.waitIdle(),
          new Promise<'interrupt'>((resolve) => { this.wakeInterrupt = () => resolve('interrupt'); }),
        ]);
        this.wakeInterrupt = undefined;
        if (this.end) return ev;
        if (woke === 'interrupt' || this.interrupted) return { reason: 'interrupted' };
        if (!woke) return ev;
      }
    } finally {
      this.running = false;
      this.interrupted = false;
      this.settle();
    }
  }

  private exitReply(exit: ExitState): string {
    const code = exit.kind === 'pass' || exit.kind === 'reset' ? 0 : (exit.code & 0xff) || 1;
    return `W${code.toString(16).padStart(2, '0')}`;
  }

  private reportStop(ev: StopEvent, hart: number): string | undefined {
    let reply: string;
    switch (ev.reason) {
      case 'exit': {
        if (ev.exit.kind === 'reset') this.sendOutput('kmemlab: the guest asked for a reset; the gdb session ends here\n');
        this.send(this.exitReply(ev.exit));
        this.finish({ how: 'exit', exit: ev.exit }, true);
        return undefined;
      }
      case 'limit':
        this.sendOutput(`kmemlab: the instruction bound (--max-insns ${this.opts.maxInsns}) is reached\n`);
        this.send(`X${SIGXCPU.toString(16)}`);
        this.finish({ how: 'limit' }, true);
        return undefined;
      case 'breakpoint': {
        const kinds = this.bpKinds.get(ev.pc);
        const hwOnly = kinds !== undefined && !kinds.has('sw');
        const why = hwOnly ? (this.hwbreak ? 'hwbreak:;' : '') : this.swbreak ? 'swbreak:;' : '';
        reply = this.threadStop(SIGTRAP, ev.hart, why);
        this.gHart = ev.hart;
        break;
      }
      case 'watchpoint': {
        const w = ev.watchpoint;
        const key = w.type === 'write' ? 'watch' : w.type === 'read' ? 'rwatch' : 'awatch';
        reply = this.threadStop(SIGTRAP, ev.hart, `${key}:${w.addr.toString(16)};`);
        this.gHart = ev.hart;
        break;
      }
      case 'step':
        reply = this.threadStop(SIGTRAP, ev.hart);
        this.gHart = ev.hart;
        break;
      case 'blocked':
        this.sendOutput(`kmemlab: ${ev.why}\n`);
        reply = this.threadStop(SIGTRAP, ev.hart);
        this.gHart = ev.hart;
        break;
      case 'idle':
        this.sendOutput('kmemlab: every hart waits for an interrupt that nothing can raise (no timer armed, no console input)\n');
        reply = this.threadStop(SIGTRAP, hart);
        break;
      case 'interrupted':
        reply = this.threadStop(SIGINT, this.dbg.current);
        this.gHart = this.dbg.current;
        break;
    }
    this.dbg.current = this.gHart;
    this.lastStop = reply;
    return reply;
  }

  // --- monitor commands ------------------------------------------------------

  private async monitorCommand(hex: string): Promise<string> {
    const bytes = fromHex(hex);
    if (!bytes) return E_INVAL;
    const line = DEC.decode(bytes).trim();
    let out: string;
    this.dbg.current = this.gHart; // the console's commands act on gdb's selected thread
    try {
      out = this.opts.monitor ? await this.opts.monitor(line) : this.builtinMonitor(line);
    } catch (e) {
      if (e instanceof MachineError) throw e;
      out = `error: ${(e as Error).message}\n`;
    }
    if (out.length && !out.endsWith('\n')) out += '\n';
    if (out.length) this.sendOutput(out);
    return 'OK';
  }

  /**
   * SEAM: the monitor commands the stub answers itself until the debugger
   * console (emulator/debug/console.ts, DebugConsole.execute) is passed as
   * opts.monitor by the host (cli/run.ts).
   */
  private builtinMonitor(line: string): string {
    const words = line.split(/\s+/).filter((w) => w.length);
    if (words.length === 0 || words[0] === 'help') {
      return 'kmemlab monitor commands:\n  help          this text\n  info harts    each hart: privilege, pc, running / wfi / stopped (HSM)\n';
    }
    if (words[0] === 'info' && words[1] === 'harts') {
      return this.harts.map((h) => `${h.hartId === this.gHart ? '*' : ' '} ${hartState(h)} pc=0x${h.pc.toString(16)}`).join('\n') + '\n';
    }
    return `unknown monitor command '${line}'; try 'monitor help'\n`;
  }
}

// --- TCP ---------------------------------------------------------------------

export interface GdbServerOptions extends GdbStubOptions {
  host: string;
  /** 0: any free port (the one chosen goes to onListening). */
  port: number;
  onListening?: (address: { host: string; port: number }) => void;
}

export interface GdbServer {
  /** The session's end. */
  ended: Promise<GdbSessionEnd>;
  /** End the session from the host (as `k`) and stop listening. */
  abort(): void;
}

/**
 * Listen on host:port for one gdb (rejects when the port cannot be opened);
 * serve it until it detaches or kills, the guest ends or the connection
 * drops. Other connections are refused while one is served; the listener
 * closes when the session ends.
 */
export async function serveGdb(dbg: Debugger, opts: GdbServerOptions): Promise<GdbServer> {
  const { createServer } = await import('node:net');
  let stub: GdbStub | undefined;
  let aborted = false;
  let resolveEnd!: (e: GdbSessionEnd) => void;
  const ended = new Promise<GdbSessionEnd>((res) => { resolveEnd = res; });
  const server = createServer({ noDelay: true }, (socket) => {
    if (stub || aborted) {
      socket.destroy();
      return;
    }
    const s = new GdbStub(dbg, {
      write: (b) => { if (!socket.destroyed) socket.write(b); },
      close: () => socket.end(),
    }, opts);
    stub = s;
    socket.on('data', (d: Buffer) => s.receive(new Uint8Array(d.buffer, d.byteOffset, d.length)));
    socket.on('close', () => s.disconnected());
    socket.on('error', () => s.disconnected());
    void s.ended.then((e) => {
      server.close();
      resolveEnd(e);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      const a = server.address();
      const port = a && typeof a === 'object' ? a.port : opts.port;
      opts.onListening?.({ host: opts.host, port });
      resolve();
    });
  });
  server.on('error', () => { /* after listening: a refused or broken connection, not ours to report */ });
  return {
    ended,
    abort() {
      aborted = true;
      if (stub) stub.abort();
      else {
        server.close();
        resolveEnd({ how: 'kill' });
      }
    },
  };
}
