/**
 * The debugger console of `kmemlab debug`: gdb's command language over the
 * debugger core (emulator/debug/debugger.ts), plus the host's inspectors of
 * the kernel's allocator state (emulator/inspect/).
 *
 *   DebugConsole.execute(line) → Promise<string>
 *
 * takes one command and returns everything it prints, ending in "\n" (or ""
 * for silent commands), so the CLI, the tests and the GDB stub's `monitor`
 * command share it. The guest's console output never goes through here: the
 * machine's output callback (given when the Machine was built) carries it,
 * so a transcript of commands is the same whatever the guest prints.
 *
 * Design notes
 * - Stops are reported in gdb's words: "Breakpoint 1, 0x… in name+0xoff
 *   (file:line)", the source line, "Hardware watchpoint 2: *0x…" with
 *   "Old value"/"New value", "[hart N]" when the stopping hart is not the
 *   one selected before, "[Inferior 1 exited normally]" /
 *   "[Inferior 1 exited with code N]" on power-off. Names are the ELF's full
 *   `file/function` names; offsets hex. Nothing printed depends on wall time.
 * - `si`/`ni` step the selected hart only (the others stay, as in the
 *   debugger core); `ni` over a call (jal/jalr/c.jalr writing ra) sets a
 *   temporary breakpoint on this hart after the call and continues the whole
 *   machine; `finish` does the same at the frame's return address. Such
 *   internal breakpoints are removed when the stop happened elsewhere.
 * - `c` continues in slices (contAsync) so that interrupt() (Ctrl-C) lands;
 *   with a run bound (--max-insns) a `c` stops there.
 * - Memory is read through the selected hart's MMU ("x/4gx $sp"); `-p`
 *   (or `--phys`) reads physical memory. When the hart does not map an
 *   address that lies in a loaded ELF segment (M-mode at the reset vector,
 *   before the kernel turns on paging), code and data are read where the
 *   loader put that segment, as gdb reads an executable's sections.
 * - Inspector commands are one table (INSPECTORS below): each reads guest
 *   physical memory and VMCOREINFO (found through the kernel's ELF symbol)
 *   afresh, so they work at any stop once the kernel has published it.
 * - Bad input is one line ("Undefined command: …", "Cannot access memory at
 *   address 0x1234", "No symbol …") and the session goes on; nothing a user
 *   types can throw out of execute().
 */
import { Debugger, DebugError, type StopEvent, type Watchpoint, type WatchType } from './debugger.js';
import { ProgramInfo, SymbolError, backtrace, shortName, type DebugSymbol } from './source.js';
import { evaluate, ExprError, type ExprEnv } from './expr.js';
import { MachineError } from '../machine/machine.js';
import { PRV_M, PRV_S, PRV_U, SATP_MODE_SV39 } from '../cpu/riscv/csr.js';
import { Disassembler } from '../../toolchain/disasm.js';
import { REG_ABI_NAMES, regNumber } from '../../toolchain/regs.js';
import { csrNumber } from '../../toolchain/csr-names.js';
import { readVmcoreinfo, VmcoreinfoError, type ReadPhys, type Vmcoreinfo } from '../inspect/vmcoreinfo.js';
import { renderBuddyinfo } from '../inspect/buddyinfo.js';
import { renderZoneinfo } from '../inspect/zoneinfo.js';
import { renderMeminfo } from '../inspect/meminfo.js';
import { renderVmallocinfo } from '../inspect/vmallocinfo.js';
import { renderDmesg } from '../inspect/dmesg.js';
import { kernelRoot, renderPageTable } from '../inspect/ptdump.js';
import { formatLocations, formatSlabWalk, readJiffies, readOnlineCpus, readSlabObjects, renderSlabinfo } from '../inspect/slabinfo.js';
import { renderPercpu } from '../inspect/percpu.js';
import { whatis } from '../inspect/whatis.js';
import { SymbolTable } from '../inspect/symbols.js';
import { CoreError, saveCore } from '../inspect/core.js';
import { PageTableError } from '../inspect/pagetable.js';
import type { ElfImage } from '../machine/elf.js';

export interface DebugConsoleOptions {
  /** The loaded ELF files as bytes (symbols with sizes, line tables); default: machine.images (no line table). */
  images?: readonly { name: string; bytes: Uint8Array }[];
  /** Source text of a line-table file name (kernel/mm/slub.ts, ~lib/…); undefined when unreadable. */
  readSource?: (file: string) => string | undefined;
  /** Bound on the machine's total instructions (--max-insns): `c` stops there. */
  maxInsns?: number;
  /** Instructions per slice of a `c` between visits to the event loop. */
  slice?: number;
  /**
   * The machine is a saved one (emulator/inspect/core.ts machineFromCore):
   * what it is, for the answer to commands that would run it.
   */
  frozen?: string;
}

const hex = (v: bigint | number): string => `0x${BigInt.asUintN(64, BigInt(v)).toString(16)}`;
const hexPad = (v: bigint, bytes: number): string => `0x${BigInt.asUintN(bytes * 8, v).toString(16).padStart(bytes * 2, '0')}`;
const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const PRIV_NAME: Record<number, string> = { [PRV_M]: 'M', [PRV_S]: 'S', [PRV_U]: 'U' };

/** Little-endian bytes → bigint. */
function leValue(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  return v;
}

/** An error that is the user's (bad input, unreadable memory): its message is the whole answer. */
class UserError extends Error {}

const isUserError = (e: unknown): e is Error =>
  e instanceof UserError || e instanceof DebugError || e instanceof ExprError || e instanceof SymbolError
  || e instanceof VmcoreinfoError || e instanceof PageTableError || e instanceof CoreError;

/** The CSRs `info csrs` shows, in the privileged spec's order. */
const INFO_CSRS = [
  'mstatus', 'misa', 'medeleg', 'mideleg', 'mie', 'mtvec', 'mscratch', 'mepc', 'mcause', 'mtval', 'mip', 'mhartid',
  'sstatus', 'sie', 'stvec', 'sscratch', 'sepc', 'scause', 'stval', 'sip', 'satp',
  'time', 'cycle', 'instret',
];

interface InspectorCtx {
  read: ReadPhys;
  info(): Vmcoreinfo;
  /** Parse an address expression. */
  addr(text: string): bigint;
  /** The page-table root: the selected hart's satp, else the kernel's swapper_pg_dir. */
  root(): number;
  dbg: Debugger;
  prog: ProgramInfo;
  kernelElf(): ElfImage | undefined;
  elfSymbols(): Map<string, bigint>;
}

interface Inspector {
  name: string;
  usage: string;
  help: string;
  run(c: InspectorCtx, args: string): string;
}

const needArg = (args: string, usage: string): string => {
  if (args.trim() === '') throw new UserError(`usage: ${usage}`);
  return args.trim();
};

/** The inspector commands: one line each to wire (see the note). */
const INSPECTORS: Inspector[] = [
  { name: 'slabinfo', usage: 'slabinfo', help: '/proc/slabinfo: the slab caches', run: (c) => renderSlabinfo(c.read, c.info()) },
  {
    name: 'slab', usage: 'slab CACHE [objects|alloc_calls|free_calls]',
    help: "a cache's slabs; each object allocated or free; owners (slub_debug=U)",
    run: (c, a) => {
      const [cache, what = 'slabs', extra] = needArg(a, 'slab CACHE [objects|alloc_calls|free_calls]').split(/\s+/);
      if (extra !== undefined || !['slabs', 'objects', 'alloc_calls', 'free_calls'].includes(what)) {
        throw new UserError('usage: slab CACHE [objects|alloc_calls|free_calls]');
      }
      const info = c.info();
      const objs = readSlabObjects(c.read, info, cache!);
      const elf = c.kernelElf();
      const syms = elf ? new SymbolTable(elf.functions) : undefined;
      const name = (pc: bigint): string => syms?.format(pc) ?? hex(pc);
      if (what === 'alloc_calls' || what === 'free_calls') {
        return formatLocations(objs, what === 'alloc_calls' ? 'alloc' : 'free', {
          now: readJiffies(c.read, info), symbolize: name, onlineCpus: readOnlineCpus(c.read, info).length,
        });
      }
      return formatSlabWalk(objs, what === 'objects', name);
    },
  },
  { name: 'buddyinfo', usage: 'buddyinfo', help: '/proc/buddyinfo: free blocks per order and zone', run: (c) => renderBuddyinfo(c.read, c.info()) },
  { name: 'zoneinfo', usage: 'zoneinfo', help: '/proc/zoneinfo: zones, watermarks, per-CPU pagesets', run: (c) => renderZoneinfo(c.read, c.info()) },
  { name: 'meminfo', usage: 'meminfo', help: '/proc/meminfo', run: (c) => renderMeminfo(c.read, c.info()) },
  { name: 'vmallocinfo', usage: 'vmallocinfo', help: '/proc/vmallocinfo: the vmap areas', run: (c) => renderVmallocinfo(c.read, c.info()) },
  { name: 'dmesg', usage: 'dmesg', help: "the kernel's log buffer", run: (c) => renderDmesg(c.read, c.info()) },
  {
    name: 'pt', usage: 'pt VADDR', help: 'walk the page table for VADDR (crash vtop)',
    run: (c, a) => renderPageTable(c.read, c.root(), c.addr(needArg(a, 'pt VADDR'))),
  },
  {
    name: 'whatis', usage: 'whatis ADDR', help: 'what lies at ADDR: region, page, zone, slab object',
    run: (c, a) => {
      const elf = c.kernelElf();
      const r = whatis(c.read, c.info(), c.addr(needArg(a, 'whatis ADDR')), { elf, symbols: elf ? new SymbolTable(elf.functions) : undefined });
      return r.lines.map((l) => `${l}\n`).join('');
    },
  },
  {
    name: 'percpu', usage: 'percpu SYMBOL|ADDR', help: "a per-CPU variable's copy on every CPU",
    run: (c, a) => {
      const arg = needArg(a, 'percpu SYMBOL|ADDR');
      const target = /^(0x[0-9a-f_]+|\d+)$/i.test(arg) ? c.addr(arg) : arg;
      let name: string | bigint = target;
      if (typeof target === 'string' && !c.elfSymbols().has(target)) {
        try { name = c.prog.resolve(target, ['object', 'notype']).symbol.name; } catch { name = target; }
      }
      return renderPercpu(c.read, c.info(), name, undefined, { elfSymbols: c.elfSymbols() });
    },
  },
  {
    name: 'dump', usage: 'dump FILE', help: 'save an ELF core of the machine (gdb-multiarch, kmemlab debug --core)',
    run: (c, a) => {
      const file = needArg(a, 'dump FILE');
      let n: number;
      try {
        n = saveCore(c.dbg.machine, file, { kernelSymbols: c.elfSymbols() });
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        if (typeof code === 'string') throw new UserError(`dump: cannot write ${file}: ${code === 'ENOENT' ? 'no such directory' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : code}`);
        throw e;
      }
      return `Saved a core dump of ${n} bytes to ${file}\n`;
    },
  },
];

const HELP = `Running:
  si [N], stepi [N]      execute N instructions on the selected hart (the others stay)
  ni [N], nexti [N]      the same, stepping over calls (jal/jalr that write ra)
  c, continue            run the machine until a breakpoint, a watchpoint or power-off (Ctrl-C stops it)
  finish                 run until the current function returns
Breakpoints and watchpoints:
  b LOC [hart N]         break at LOC: SYMBOL (full or unique short name), *ADDR or ADDR, FILE:LINE
  tbreak LOC [hart N]    a breakpoint deleted at its first hit
  watch ADDR [LEN]       stop after a write to LEN bytes at ADDR (default 8, or a global's size; -p: physical)
  rwatch ADDR [LEN]      ... after a read;  awatch ADDR [LEN]  ... after any access
  d [N...], delete [N...]  delete breakpoints/watchpoints (all without N)
Looking:
  info registers [REG...]  the 32 registers and pc     info csrs   machine and supervisor CSRs
  info breakpoints       with hit counts               info harts  every hart's pc, mode and state
  info tlb               the selected hart's TLB       info symbol ADDR
  hart [N]               select hart N (gdb's thread)
  x/NFU [-p] ADDR        memory: F = x d u c s i, U = b h w g (x/4gx $sp); -p or --phys: physical
  disas [ADDR] [N]       disassemble the function (or N instructions from ADDR)
  bt, backtrace          the frames of the selected hart
  list [FILE:LINE|SYMBOL]  AssemblyScript source around the pc or a place
  p EXPR, print EXPR     a symbol's value (by its size) and address, a register, an expression
  set $REG = EXPR        write a register or CSR
  Expressions: numbers (0x… or decimal), $pc $sp $a0 … $satp, symbols, + - * ( ), *ADDR reads a u64.
Kernel state (read from guest memory, VMCOREINFO):
${INSPECTORS.map((i) => `  ${i.usage.padEnd(22)} ${i.help}`).join('\n')}
Other:
  help                   this text
  quit                   leave (exit code: the guest's if it powered off, else 0)
`;

/** Commands and their aliases (for dispatch and completion). */
const COMMANDS: Record<string, string> = {
  si: 'si', stepi: 'si', ni: 'ni', nexti: 'ni', c: 'c', cont: 'c', continue: 'c', finish: 'finish', fin: 'finish',
  b: 'b', br: 'b', break: 'b', tbreak: 'tbreak', watch: 'watch', rwatch: 'rwatch', awatch: 'awatch',
  d: 'delete', delete: 'delete', info: 'info', i: 'info', hart: 'hart', thread: 'hart', x: 'x',
  disas: 'disas', disassemble: 'disas', bt: 'bt', backtrace: 'bt', where: 'bt', list: 'list', l: 'list',
  p: 'p', print: 'p', set: 'set', help: 'help', h: 'help', quit: 'quit', q: 'quit', exit: 'quit',
};

const INFO_SUBCOMMANDS = ['registers', 'csrs', 'breakpoints', 'watchpoints', 'harts', 'threads', 'tlb', 'symbol'];

export class DebugConsole {
  readonly dbg: Debugger;
  readonly prog: ProgramInfo;
  /** Set by `quit`: the host should end the session. */
  quitRequested = false;
  private readonly opts: DebugConsoleOptions;
  /** Breakpoints the console set for itself (ni, finish): no "Breakpoint N," header, removed after the stop. */
  private readonly internal = new Set<number>();
  private history = 0;
  private xFmt = 'x';
  private xUnit = 'w';
  private xNext: { addr: bigint; phys: boolean } | undefined;
  private listAt: { file: string; next: number } | undefined;
  private running = false;

  constructor(dbg: Debugger, opts: DebugConsoleOptions = {}) {
    this.dbg = dbg;
    this.opts = opts;
    this.prog = new ProgramInfo(opts.images ?? [], dbg.machine.images, opts.readSource);
  }

  /** The guest's exit, once it powered off (or reported through tohost). */
  get exit(): { kind: string; code: number } | undefined {
    return this.dbg.machine.exit;
  }

  /** The exit code for the host: the guest's when it powered off, else 0. */
  exitCode(): number {
    const ex = this.dbg.machine.exit;
    if (!ex || ex.kind === 'reset') return 0;
    return ex.kind === 'pass' ? 0 : (ex.code & 0xff) || 1;
  }

  /** Is a `c` (or `ni` over a call, `finish`) running now? */
  get busy(): boolean {
    return this.running;
  }

  /** Ctrl-C: stop a running `c` at its next slice. */
  interrupt(): void {
    if (this.running) this.dbg.requestStop();
  }

  /** The session's prompt. */
  static readonly PROMPT = '(kmemlab) ';

  /** Command, info-subcommand and symbol completions for a partly typed line. */
  complete(line: string): string[] {
    const m = /^(\s*)(\S*)$/.exec(line);
    if (m) return [...new Set([...Object.keys(COMMANDS), ...INSPECTORS.map((i) => i.name)])].filter((c) => c.startsWith(m[2]!)).sort();
    const info = /^\s*(info|i)\s+(\S*)$/.exec(line);
    if (info) return INFO_SUBCOMMANDS.filter((s) => s.startsWith(info[2]!)).map((s) => `${info[1]} ${s}`);
    const last = /(\S*)$/.exec(line)![1]!;
    const head = line.slice(0, line.length - last.length);
    if (last.startsWith('$')) {
      return [...REG_ABI_NAMES, 'pc'].map((r) => `$${r}`).filter((r) => r.startsWith(last)).map((r) => head + r);
    }
    if (last === '') return [];
    return this.prog.completions(last.replace(/^\*/, '')).slice(0, 200).map((s) => head + (last.startsWith('*') ? '*' : '') + s);
  }

  /** Execute one command line; returns what it prints. Never throws. */
  async execute(line: string): Promise<string> {
    const text = line.trim();
    if (text === '' || text.startsWith('#')) return '';
    try {
      const out = await this.dispatch(text);
      return out === '' || out.endsWith('\n') ? out : `${out}\n`;
    } catch (e) {
      if (isUserError(e)) return `${e.message}\n`;
      if (e instanceof MachineError) return `The machine stopped with an emulator fault: ${e.message}\n`;
      return `internal error: ${(e as Error).message ?? String(e)}\n`;
    }
  }

  private async dispatch(text: string): Promise<string> {
    const m = /^([A-Za-z_]+)(\/\S*)?\s*(.*)$/.exec(text);
    if (!m) throw new UserError(`Undefined command: "${text.split(/\s/)[0]}".  Try "help".`);
    const word = m[1]!;
    const fmt = m[2] ?? '';
    const args = m[3]!.trim();
    const cmd = COMMANDS[word];
    const inspector = INSPECTORS.find((i) => i.name === word);
    if (fmt !== '' && cmd !== 'x' && cmd !== 'p') throw new UserError(`Undefined command: "${word}${fmt}".  Try "help".`);
    if (inspector) return this.inspect(inspector, args);
    if (this.opts.frozen !== undefined && (cmd === 'si' || cmd === 'ni' || cmd === 'c' || cmd === 'finish')) {
      throw new UserError(`${this.opts.frozen} does not run: it is a saved machine (x, p, bt, list, info, disas and the inspectors work)`);
    }
    switch (cmd) {
      case 'si': return this.stepCmd(args, false);
      case 'ni': return this.stepCmd(args, true);
      case 'c': return this.continueCmd();
      case 'finish': return this.finish();
      case 'b': return this.breakCmd(args, false);
      case 'tbreak': return this.breakCmd(args, true);
      case 'watch': return this.watchCmd(args, 'write');
      case 'rwatch': return this.watchCmd(args, 'read');
      case 'awatch': return this.watchCmd(args, 'access');
      case 'delete': return this.deleteCmd(args);
      case 'info': return this.info(args);
      case 'hart': return this.hartCmd(args);
      case 'x': return this.examine(fmt, args);
      case 'disas': return this.disas(args);
      case 'bt': return this.bt();
      case 'list': return this.list(args);
      case 'p': return this.print(fmt, args);
      case 'set': return this.set(args);
      case 'help': return HELP;
      case 'quit':
        this.quitRequested = true;
        return '';
      default:
        throw new UserError(`Undefined command: "${word}".  Try "help".`);
    }
  }

  // --- locations ----------------------------------------------------------------------------

  private where(pc: bigint): string {
    return `${hex(pc)} in ${ProgramInfo.where(this.prog.locate(pc))}`;
  }

  /** "173\t<source text>" for pc's line, when the source can be read. */
  private sourceLine(pc: bigint): string | undefined {
    const l = this.prog.lineOf(pc);
    if (!l) return undefined;
    const text = this.prog.sourceLines(l.file)?.[l.line - 1];
    return text === undefined ? undefined : `${l.line}\t${text}`;
  }

  private insnLine(pc: bigint, marker = true): string {
    try {
      const { text } = this.decodeAt(new Disassembler({ aliases: true }), pc);
      return `${marker ? '=> ' : ''}${hex(pc)}${this.label(pc)}:\t${text}`;
    } catch (e) {
      if (isUserError(e)) return `=> ${hex(pc)}:\t(${e.message})`;
      throw e;
    }
  }

  /** " <short+dec>" for an address inside a symbol (gdb's <sym+off>), else "". */
  private label(addr: bigint): string {
    const s = this.prog.symbolAt(addr);
    return s ? ` <${shortName(s.name)}+${Number(BigInt.asUintN(64, addr) - s.value)}>` : '';
  }

  // --- memory ---------------------------------------------------------------------------------

  /** Read through the selected hart, falling back to a loaded image's segment when the hart does not map it. */
  private readMem(va: bigint, len: number, phys = false): Uint8Array {
    if (phys) return this.readPhysChecked(va, len);
    try {
      return this.dbg.readVirt(va, len);
    } catch (e) {
      if (!(e instanceof DebugError)) throw e;
      const pa = this.prog.imagePhys(va, len);
      if (pa !== undefined && this.dbg.machine.mem.contains(pa, len)) return this.dbg.readPhys(pa, len);
      throw new UserError(`Cannot access memory at address ${hex(va)}: ${e.message}`);
    }
  }

  private readPhysChecked(pa: bigint, len: number): Uint8Array {
    try {
      return this.dbg.readPhys(Number(BigInt.asUintN(64, pa)), len);
    } catch (e) {
      if (e instanceof DebugError) throw new UserError(`Cannot access memory at physical address ${hex(pa)}: ${e.message}`);
      throw e;
    }
  }

  private decodeAt(d: Disassembler, pc: bigint): { text: string; length: number; insn: number } {
    const lo = this.readMem(pc, 2);
    const half = lo[0]! | (lo[1]! << 8);
    if ((half & 3) !== 3) return { ...d.disassemble(half, pc), insn: half };
    const b = this.readMem(pc, 4);
    const insn = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
    return { ...d.disassemble(insn, pc), insn };
  }

  // --- expressions ----------------------------------------------------------------------------

  private regValue(name: string, hartNo = this.dbg.current): bigint | undefined {
    const h = this.dbg.hart(hartNo);
    if (name === 'pc') return h.pc;
    const r = regNumber(name);
    if (r !== undefined) return h.getReg(r);
    if (name === 'priv') return BigInt(h.priv);
    const csr = csrNumber(name);
    return csr === undefined ? undefined : h.debugCsrRead(csr);
  }

  private env(): ExprEnv {
    return {
      reg: (n) => this.regValue(n),
      symbol: (n) => this.prog.resolve(n).symbol.value,
      deref: (a) => leValue(this.readMem(a, 8)),
    };
  }

  private eval(text: string): bigint {
    return evaluate(text, this.env());
  }

  /** Split "EXPR [N]" where N is a trailing decimal count (not part of the expression). */
  private static splitCount(args: string): { expr: string; count?: number } {
    const m = /^(.*\S)\s+(\d+)$/.exec(args);
    if (m && !/[-+*(]$/.test(m[1]!)) return { expr: m[1]!, count: Number(m[2]) };
    return { expr: args };
  }

  // --- running --------------------------------------------------------------------------------

  private notRunning(): string | undefined {
    return this.dbg.machine.exit ? 'The program is not being run.\n' : undefined;
  }

  private parseCount(args: string, what: string): number {
    if (args === '') return 1;
    if (!/^\d+$/.test(args)) throw new UserError(`${what}: '${args}' is not a count of instructions`);
    const n = Number(args);
    if (n < 1 || n > 1_000_000) throw new UserError(`${what}: ${args} is out of range (1 to 1000000; use a breakpoint and c for longer runs)`);
    return n;
  }

  private async stepCmd(args: string, over: boolean): Promise<string> {
    const n = this.parseCount(args, over ? 'ni' : 'si');
    const idle = this.notRunning();
    if (idle) return idle;
    const before = this.dbg.current;
    let ev: StopEvent = { reason: 'step', hart: before, pc: this.dbg.hart().pc };
    for (let i = 0; i < n; i++) {
      ev = over ? await this.stepOver() : this.dbg.step();
      const internalStop = ev.reason === 'breakpoint' && this.internal.has(ev.breakpoint.id);
      if (ev.reason !== 'step' && !internalStop) break;
    }
    return this.report(ev, before, true);
  }

  /** One `ni`: a call is run to its return on this hart; anything else is one step. */
  private async stepOver(): Promise<StopEvent> {
    const h = this.dbg.hart();
    const pc = h.pc;
    let call: { length: number } | undefined;
    try {
      const d = this.decodeAt(new Disassembler(), pc);
      const insn = d.insn;
      const op = insn & 0x7f;
      if (d.length === 4 && (op === 0x6f || op === 0x67) && ((insn >>> 7) & 0x1f) === 1) call = d;
      if (d.length === 2 && (insn & 0xf07f) === 0x9002 && ((insn >>> 7) & 0x1f) !== 0) call = d;
    } catch {
      call = undefined;
    }
    if (!call) return this.dbg.step();
    return this.runTo(pc + BigInt(call.length), h.hartId);
  }

  /** Continue to an internal temporary breakpoint at `addr` on `hartNo`; removed if the stop is elsewhere. */
  private async runTo(addr: bigint, hartNo: number): Promise<StopEvent> {
    const bp = this.dbg.addBreakpoint(addr, { temporary: true, hart: hartNo });
    this.internal.add(bp.id);
    try {
      return await this.contBounded();
    } finally {
      if (this.dbg.list().some((b) => b.id === bp.id)) this.dbg.delete(bp.id);
    }
  }

  private async contBounded(): Promise<StopEvent> {
    const left = (this.opts.maxInsns ?? Infinity) - this.dbg.machine.insns;
    if (left <= 0) return { reason: 'limit' };
    this.running = true;
    try {
      return await this.dbg.contAsync(left, this.opts.slice);
    } finally {
      this.running = false;
    }
  }

  private async continueCmd(): Promise<string> {
    const idle = this.notRunning();
    if (idle) return idle;
    const before = this.dbg.current;
    const ev = await this.contBounded();
    return this.report(ev, before, false);
  }

  private async finish(): Promise<string> {
    const idle = this.notRunning();
    if (idle) return idle;
    const frames = this.frames();
    const caller = frames[1];
    if (!caller) throw new UserError('"finish" not meaningful in the outermost frame.');
    const before = this.dbg.current;
    const head = `Run till exit from #0  ${this.where(frames[0]!.pc)}\n`;
    const ev = await this.runTo(caller.pc, before);
    const returned = ev.reason === 'breakpoint' && this.internal.has(ev.breakpoint.id);
    let out = head + this.report(ev, before, false);
    if (returned) {
      const a0 = this.dbg.hart().getReg(10);
      out += `Value returned is $a0 = ${hex(a0)}\n`;
    }
    return out;
  }

  /** gdb's words for a stop. */
  private report(ev: StopEvent, before: number, stepped: boolean): string {
    const lines: string[] = [];
    const hartNote = (h: number): void => {
      if (h !== before) lines.push(`[hart ${h}]`);
    };
    const place = (pc: bigint, header = ''): void => {
      lines.push(`${header}${this.where(pc)}`);
      const src = this.sourceLine(pc);
      if (src) lines.push(src);
      if (stepped) lines.push(this.insnLine(pc));
      const l = this.prog.lineOf(pc);
      this.listAt = l ? { file: l.file, next: Math.max(1, l.line - 5) } : undefined;
    };
    switch (ev.reason) {
      case 'step':
        hartNote(ev.hart);
        place(ev.pc);
        break;
      case 'breakpoint': {
        hartNote(ev.hart);
        const bp = ev.breakpoint;
        if (this.internal.has(bp.id)) {
          this.internal.delete(bp.id);
          place(ev.pc);
        } else {
          place(ev.pc, `${bp.temporary ? 'Temporary breakpoint' : 'Breakpoint'} ${bp.id}, `);
        }
        break;
      }
      case 'watchpoint': {
        hartNote(ev.hart);
        const wp = ev.watchpoint;
        lines.push('', `${watchTitle(wp)} ${wp.id}: ${watchExpr(wp)}`, '');
        const fmt = (b: Uint8Array): string => ([1, 2, 4, 8].includes(b.length) ? hexPad(leValue(b), b.length) : `{${Array.from(b, (x) => hex(x)).join(', ')}}`);
        if (ev.write) {
          lines.push(`Old value = ${fmt(ev.old)}`, `New value = ${fmt(ev.value)}`);
        } else {
          lines.push(`Value = ${fmt(ev.value)}`);
        }
        lines.push(`(accessed by the instruction at ${hex(ev.insnPc)} <${ProgramInfo.where(this.prog.locate(ev.insnPc))}>)`);
        place(ev.pc);
        break;
      }
      case 'blocked':
        lines.push(`Cannot step hart ${ev.hart}: ${ev.why}`);
        break;
      case 'exit': {
        const ex = ev.exit;
        if (ex.kind === 'pass') lines.push('[Inferior 1 exited normally]');
        else if (ex.kind === 'fail') lines.push(`[Inferior 1 exited with code ${(ex.code & 0xff) || 1}]`);
        else lines.push('[Inferior 1 asked for a reset: the debugger does not reboot the machine; quit and start again]');
        break;
      }
      case 'limit':
        lines.push(`Stopped: the run reached its instruction bound (--max-insns ${this.opts.maxInsns}) after ${this.dbg.machine.insns} instructions.`);
        break;
      case 'idle':
        lines.push(`Every hart waits for an interrupt that nothing can raise (no timer armed); the machine stays stopped after ${this.dbg.machine.insns} instructions.`);
        break;
      case 'interrupted': {
        const h = this.dbg.current;
        lines.push('', 'Program received signal SIGINT, Interrupt.');
        place(this.dbg.hart(h).pc);
        break;
      }
    }
    return lines.map((l) => `${l}\n`).join('');
  }

  // --- breakpoints ----------------------------------------------------------------------------

  /** LOC → address: FILE:LINE, *EXPR, or an expression (a function symbol: its entry). */
  private location(loc: string): { addr: bigint; notes: string[] } {
    const notes: string[] = [];
    const fl = /^(\S+):(\d+)$/.exec(loc);
    if (fl) {
      const r = this.prog.addressOfLine(fl[1]!, Number(fl[2]));
      if (r.line !== Number(fl[2])) notes.push(`(line ${fl[2]} has no code: using line ${r.line})`);
      return { addr: r.addr, notes };
    }
    const expr = loc.startsWith('*') ? loc.slice(1) : loc;
    if (/^[A-Za-z_.~][\w./~]*$/.test(expr)) {
      const r = this.prog.resolve(expr, ['func', 'notype']);
      if (r.note) notes.push(`(${r.note})`);
      return { addr: r.symbol.value, notes };
    }
    return { addr: this.eval(expr), notes };
  }

  private breakCmd(args: string, temporary: boolean): string {
    let loc = args;
    let hartNo: number | undefined;
    const hm = /^(.*\S)\s+(?:hart|thread)\s+(\d+)$/.exec(args);
    if (hm) {
      loc = hm[1]!;
      hartNo = Number(hm[2]);
    }
    if (loc === '') loc = `*${hex(this.dbg.hart().pc)}`;
    const { addr, notes } = this.location(loc);
    const bp = this.dbg.addBreakpoint(addr, { temporary, hart: hartNo });
    const lines = [...notes, `${temporary ? 'Temporary breakpoint' : 'Breakpoint'} ${bp.id} at ${hex(bp.addr)}: ${ProgramInfo.where(this.prog.locate(bp.addr))}${hartNo !== undefined ? ` (hart ${hartNo} only)` : ''}`];
    return lines.join('\n');
  }

  private watchCmd(args: string, type: WatchType): string {
    let rest = args;
    let phys = false;
    const flag = /^(-p|--phys)\s+/.exec(rest);
    if (flag) {
      phys = true;
      rest = rest.slice(flag[0].length);
    }
    if (rest === '') throw new UserError('usage: watch [-p] ADDR [LEN]');
    const { expr, count } = DebugConsole.splitCount(rest);
    const e = expr.startsWith('*') ? expr.slice(1) : expr;
    const addr = this.eval(e);
    // A global named alone is watched whole (as gdb watches a variable), else 8 bytes.
    let len = count ?? 8;
    if (count === undefined && /^[A-Za-z_.~][\w./~]*$/.test(e)) {
      const sym = this.prog.resolve(e).symbol;
      if (sym.kind === 'object' && sym.size > 0 && sym.size <= 4096) len = sym.size;
    }
    const wp = this.dbg.addWatchpoint(addr, len, type, { phys });
    const pa = phys ? '' : `, physical ${hex(wp.pa)}`;
    return `${watchTitle(wp)} ${wp.id}: ${watchExpr(wp)} (${wp.len} bytes${pa})`;
  }

  private deleteCmd(args: string): string {
    const ids = args === '' ? this.dbg.list().filter((b) => !this.internal.has(b.id)).map((b) => b.id) : args.split(/[\s,]+/).map((s) => {
      if (!/^\d+$/.test(s)) throw new UserError(`Convenience variable must have integer value.\nArgs must be numbers or '$' variables: '${s}'`);
      return Number(s);
    });
    const out: string[] = [];
    for (const id of ids) if (!this.dbg.delete(id)) out.push(`No breakpoint number ${id}.`);
    return out.join('\n');
  }

  // --- info -----------------------------------------------------------------------------------

  private info(args: string): string {
    const [sub = '', ...rest] = args.split(/\s+/);
    const pick = INFO_SUBCOMMANDS.filter((s) => sub !== '' && s.startsWith(sub));
    const name = sub === 'r' ? 'registers' : sub === 'b' ? 'breakpoints' : pick.length === 1 ? pick[0] : undefined;
    if (!name) throw new UserError(`info ${sub}: give one of ${INFO_SUBCOMMANDS.join(', ')}`);
    switch (name) {
      case 'registers': return this.infoRegisters(rest.filter(Boolean));
      case 'csrs': return this.infoCsrs();
      case 'breakpoints':
      case 'watchpoints': return this.infoBreakpoints(name === 'watchpoints');
      case 'harts':
      case 'threads': return this.infoHarts();
      case 'tlb': return this.infoTlb();
      default: return this.infoSymbol(rest.join(' '));
    }
  }

  private infoRegisters(names: string[]): string {
    const h = this.dbg.hart();
    const row = (name: string, v: bigint, pointer: boolean): string => {
      const lab = this.label(v);
      const natural = lab ? `${hex(v)}${lab}` : pointer ? hex(v) : String(s64(v));
      return `${name.padEnd(15)}${hex(v).padEnd(19)}${natural}`;
    };
    const ptr = new Set(['ra', 'sp', 'gp', 'tp', 's0', 'fp', 'pc']);
    const out: string[] = [];
    const list = names.length ? names.map((n) => n.replace(/^\$/, '')) : [...REG_ABI_NAMES, 'pc'];
    for (const n of list) {
      const v = this.regValue(n);
      if (v === undefined) throw new UserError(`Invalid register \`${n}'`);
      out.push(row(n, v, ptr.has(n) || csrNumber(n) !== undefined));
    }
    if (!names.length) out.push(`${'priv'.padEnd(15)}${PRIV_NAME[h.priv] ?? h.priv}`);
    return out.join('\n');
  }

  private infoCsrs(): string {
    const h = this.dbg.hart();
    const out = [`${'priv'.padEnd(15)}${PRIV_NAME[h.priv] ?? h.priv}`];
    for (const n of INFO_CSRS) {
      const v = h.debugCsrRead(csrNumber(n)!);
      out.push(`${n.padEnd(15)}${v === undefined ? '(not implemented)' : hex(v)}`);
    }
    return out.join('\n');
  }

  private infoBreakpoints(watchOnly: boolean): string {
    const list = this.dbg.list().filter((b) => !this.internal.has(b.id) && (!watchOnly || b.kind === 'watchpoint'));
    if (list.length === 0) return watchOnly ? 'No watchpoints.' : 'No breakpoints or watchpoints.';
    const out = ['Num     Type            Disp Enb Address            What'];
    for (const b of list) {
      if (b.kind === 'breakpoint') {
        out.push(`${String(b.id).padEnd(8)}${'breakpoint'.padEnd(16)}${(b.temporary ? 'del' : 'keep').padEnd(5)}y   ${hex(b.addr).padEnd(19)}in ${ProgramInfo.where(this.prog.locate(b.addr))}`);
        if (b.hart !== undefined) out.push(`\tstop only on hart ${b.hart}`);
      } else {
        const type = b.type === 'write' ? 'hw watchpoint' : b.type === 'read' ? 'read watchpoint' : 'acc watchpoint';
        out.push(`${String(b.id).padEnd(8)}${type.padEnd(16)}keep y   ${''.padEnd(19)}${watchExpr(b)} (${b.len} bytes, physical ${hex(b.pa)})`);
      }
      if (b.hits > 0) out.push(`\tbreakpoint already hit ${b.hits} time${b.hits === 1 ? '' : 's'}`);
    }
    return out.join('\n');
  }

  private infoHarts(): string {
    const out = ['  Hart Priv State    PC                  Where'];
    for (const h of this.dbg.machine.harts) {
      const state = h.halted ? 'stopped' : h.wfi ? 'wfi' : 'runnable';
      const cur = h.hartId === this.dbg.current ? '*' : ' ';
      out.push(`${cur} ${String(h.hartId).padEnd(4)} ${(PRIV_NAME[h.priv] ?? '?').padEnd(4)} ${state.padEnd(8)} ${hex(h.pc).padEnd(19)} ${ProgramInfo.where(this.prog.locate(h.pc))}`);
    }
    return out.join('\n');
  }

  private infoTlb(): string {
    const h = this.dbg.hart();
    const mmu = h.mmu;
    const banks = this.dbg.machine.mem.banks;
    const paOf = (off: number): string => {
      const b = banks.find((x) => off >= x.offset && off < x.offset + x.size);
      return b ? hex(b.base + (off - b.offset)) : `(offset ${hex(off)})`;
    };
    const rows: string[] = [];
    const kinds: [string, Int32Array, Int32Array, Uint32Array][] = [
      ['fetch', mmu.ftLo, mmu.ftHi, mmu.ftOff], ['load', mmu.ltLo, mmu.ltHi, mmu.ltOff], ['store', mmu.stLo, mmu.stHi, mmu.stOff],
    ];
    const counts: string[] = [];
    for (const [kind, lo, hi, off] of kinds) {
      const entries: [bigint, string][] = [];
      for (let i = 0; i < lo.length; i++) {
        if (lo[i] === -1) continue;
        const va = (BigInt(hi[i]! >>> 0) << 32n) | BigInt(((lo[i]! >>> 0) << 12) >>> 0);
        entries.push([va, `${kind.padEnd(6)} ${hex(va).padEnd(19)} ${paOf(off[i]!)}`]);
      }
      entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      rows.push(...entries.map((e) => e[1]));
      counts.push(`${entries.length} ${kind}`);
    }
    return [`TLB of hart ${h.hartId} (software, direct-mapped, ${mmu.ftLo.length} entries per kind, RAM pages only): ${counts.join(', ')}`,
      ...(rows.length ? ['kind   virtual page        physical page', ...rows] : ['(empty)'])].join('\n');
  }

  private infoSymbol(args: string): string {
    if (args === '') throw new UserError('Argument required (address).');
    const a = this.eval(args);
    const s = this.prog.symbolAt(a);
    if (!s) return `No symbol matches ${args}.`;
    const l = s.kind === 'func' ? this.prog.lineOf(a) : undefined;
    return `${s.name} + ${Number(a - s.value)} (${s.kind === 'func' ? 'function' : 'object'}, ${s.size} bytes, ${s.image})${l ? ` at ${l.file}:${l.line}` : ''}`;
  }

  // --- harts ----------------------------------------------------------------------------------

  private hartCmd(args: string): string {
    if (args === '') return `[Current hart is ${this.dbg.current}]`;
    if (!/^\d+$/.test(args)) throw new UserError(`Invalid hart ID: ${args}`);
    this.dbg.selectHart(Number(args));
    const h = this.dbg.hart();
    this.xNext = undefined;
    const state = h.halted ? ' (stopped: SBI HSM)' : h.wfi ? ' (waiting in wfi)' : '';
    const src = this.sourceLine(h.pc);
    return [`[Switching to hart ${h.hartId}${state}]`, `#0  ${this.where(h.pc)}`, ...(src ? [src] : [])].join('\n');
  }

  // --- x, disas -------------------------------------------------------------------------------

  private examine(fmtText: string, args: string): string {
    let rest = args;
    let phys = false;
    for (;;) {
      const f = /^(-p|--phys)(\s+|$)/.exec(rest);
      if (!f) break;
      phys = true;
      rest = rest.slice(f[0].length);
    }
    const fm = /^\/(\d*)([a-z]*)$/.exec(fmtText || '/');
    if (!fm) throw new UserError(`Invalid format '${fmtText}': write x/NFU, like x/4gx`);
    const count = fm[1] ? Number(fm[1]) : 1;
    if (count < 1 || count > 4096) throw new UserError(`Invalid number ${fm[1]}: 1 to 4096`);
    for (const c of fm[2]!) {
      if ('bhwg'.includes(c)) this.xUnit = c;
      else if ('xduocsit'.includes(c)) this.xFmt = c;
      else throw new UserError(`Undefined output format "${c}" (formats x d u o t c s i, units b h w g)`);
    }
    let addr: bigint;
    if (rest === '') {
      if (!this.xNext) throw new UserError('Argument required (starting display address).');
      addr = this.xNext.addr;
      phys = this.xNext.phys;
    } else {
      addr = this.eval(rest);
    }
    const F = this.xFmt;
    if (F === 'i') {
      const d = new Disassembler({ aliases: true });
      const out: string[] = [];
      let pc = addr;
      const cur = this.dbg.hart().pc;
      for (let i = 0; i < count; i++) {
        const r = phys ? this.decodePhys(d, pc) : this.decodeAt(d, pc);
        out.push(`${pc === cur && !phys ? '=> ' : '   '}${hex(pc)}${phys ? '' : this.label(pc)}:\t${r.text}`);
        pc += BigInt(r.length);
      }
      this.xNext = { addr: pc, phys };
      return out.join('\n');
    }
    if (F === 's') {
      const out: string[] = [];
      let at = addr;
      for (let i = 0; i < count; i++) {
        let s = '';
        let n = 0;
        for (; n < 512; n++) {
          const b = this.readMem(at + BigInt(n), 1, phys)[0]!;
          if (b === 0) break;
          s += b === 0x22 ? '\\"' : b === 0x5c ? '\\\\' : b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\${b.toString(8).padStart(3, '0')}`;
        }
        out.push(`${hex(at)}${phys ? '' : this.label(at)}:\t"${s}"${n === 512 ? '...' : ''}`);
        at += BigInt(n + 1);
      }
      this.xNext = { addr: at, phys };
      return out.join('\n');
    }
    const size = F === 'c' ? 1 : { b: 1, h: 2, w: 4, g: 8 }[this.xUnit]!;
    const bytes = this.readMem(addr, size * count, phys);
    const perLine = F === 'c' ? 8 : size === 8 ? 2 : size === 4 ? 4 : 8;
    const out: string[] = [];
    for (let i = 0; i < count; i += perLine) {
      const at = addr + BigInt(i * size);
      const vals: string[] = [];
      for (let j = i; j < Math.min(count, i + perLine); j++) {
        const v = leValue(bytes.subarray(j * size, (j + 1) * size));
        vals.push(formatUnit(v, size, F));
      }
      out.push(`${hex(at)}${phys ? '' : this.label(at)}:\t${vals.join('\t')}`);
    }
    this.xNext = { addr: addr + BigInt(size * count), phys };
    return out.join('\n');
  }

  private decodePhys(d: Disassembler, pa: bigint): { text: string; length: number } {
    const lo = this.readPhysChecked(pa, 2);
    const half = lo[0]! | (lo[1]! << 8);
    if ((half & 3) !== 3) return d.disassemble(half, pa);
    const b = this.readPhysChecked(pa, 4);
    return d.disassemble((b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0, pa);
  }

  private disas(args: string): string {
    const { expr, count } = DebugConsole.splitCount(args);
    const pc = this.dbg.hart().pc;
    let start = expr === '' ? pc : this.location(expr).addr;
    let end: bigint | undefined;
    let title: string | undefined;
    const fn = count === undefined ? this.prog.symbolAt(start, true) : undefined;
    if (fn) {
      start = fn.value;
      end = fn.value + BigInt(fn.size);
      title = fn.name;
    }
    const n = count ?? 16;
    if (n < 1 || n > 4096) throw new UserError('disas: N is 1 to 4096');
    const d = new Disassembler({ aliases: true });
    const out: string[] = [];
    if (title !== undefined) out.push(`Dump of assembler code for function ${title}:`);
    else out.push(`Dump of assembler code from ${hex(start)}:`);
    let at = start;
    for (let i = 0; end !== undefined ? at < end && i < 4096 : i < n; i++) {
      const r = this.decodeAt(d, at);
      const off = title !== undefined ? ` <+${Number(at - start)}>` : this.label(at);
      out.push(`${at === pc ? '=> ' : '   '}${hex(at)}${off}:\t${r.text}`);
      at += BigInt(r.length);
    }
    out.push('End of assembler dump.');
    return out.join('\n');
  }

  // --- frames and source ----------------------------------------------------------------------

  private frames(): ReturnType<typeof backtrace> {
    const h = this.dbg.hart();
    return backtrace(this.prog, (va, len) => this.readMem(va, len), { pc: h.pc, ra: h.getReg(1), sp: h.getReg(2), s0: h.getReg(8) });
  }

  private bt(): string {
    return this.frames().map((f) => `#${f.level}  ${hex(f.pc)} in ${ProgramInfo.where(f.loc)}`).join('\n');
  }

  private list(args: string): string {
    let file: string;
    let first: number;
    if (args === '') {
      if (!this.listAt) {
        const pc = this.dbg.hart().pc;
        const l = this.prog.lineOf(pc);
        if (!l) throw new UserError(`No line number information for ${this.where(pc)}.`);
        this.listAt = { file: l.file, next: Math.max(1, l.line - 5) };
      }
      file = this.listAt.file;
      first = this.listAt.next;
    } else {
      const fl = /^(\S+):(\d+)$/.exec(args);
      let loc: { file: string; line: number } | undefined;
      if (fl) {
        const files = this.prog.matchFiles(fl[1]!);
        if (files.length === 0) throw new UserError(`No source file named ${fl[1]}.`);
        if (files.length > 1) throw new UserError(`Source file name "${fl[1]}" is ambiguous: ${files.join(', ')}`);
        loc = { file: files[0]!, line: Number(fl[2]) };
      } else {
        const addr = this.location(args).addr;
        loc = this.prog.lineOf(addr);
        if (!loc) throw new UserError(`No line number information for ${hex(addr)}.`);
      }
      file = loc.file;
      first = Math.max(1, loc.line - 5);
    }
    const text = this.prog.sourceLines(file);
    if (!text) throw new UserError(`${file}: cannot read the source file (not found under the project root)`);
    const total = text.length - (text[text.length - 1] === '' ? 1 : 0);
    if (first > total) throw new UserError(`Line number ${first} out of range; "${file}" has ${total} lines.`);
    const last = Math.min(total, first + 9);
    const out: string[] = [];
    for (let n = first; n <= last; n++) out.push(`${n}\t${text[n - 1]}`);
    this.listAt = { file, next: last + 1 };
    return out.join('\n');
  }

  // --- print, set -----------------------------------------------------------------------------

  private print(fmtText: string, args: string): string {
    if (args === '') throw new UserError('usage: p SYMBOL|$REG|EXPR');
    const fmt = fmtText.replace('/', '');
    if (fmt !== '' && !['x', 'd', 'u'].includes(fmt)) throw new UserError(`Undefined output format "${fmt}" (p/x, p/d, p/u)`);
    const n = ++this.history;
    const show = (v: bigint): string => (fmt === 'x' ? hex(v) : fmt === 'd' ? String(s64(v)) : fmt === 'u' ? String(v) : `${hex(v)} (${s64(v)})`);
    if (/^[A-Za-z_.~][\w./~]*$/.test(args)) {
      const { symbol: s } = this.prog.resolve(args);
      return `$${n} = ${this.symbolValue(s, fmt === '' ? hex : show)}`;
    }
    return `$${n} = ${show(this.eval(args))}`;
  }

  private symbolValue(s: DebugSymbol, show: (v: bigint) => string): string {
    if (s.kind === 'func') return `{function} ${hex(s.value)} <${s.name}>`;
    if ([1, 2, 4, 8].includes(s.size)) {
      const v = leValue(this.readMem(s.value, s.size));
      const shown = s.size === 8 ? show(v) : show(s.size === 4 ? BigInt.asUintN(32, v) : v);
      return `${shown} (u${s.size * 8} ${s.name} at ${hex(s.value)})`;
    }
    if (s.kind === 'notype' || s.size === 0) return `${hex(s.value)} <${s.name}> (a label: no size; x/4gx ${s.name} shows the memory)`;
    return `{${s.size} bytes} at ${hex(s.value)} <${s.name}> (x/${Math.min(64, Math.ceil(s.size / 8))}gx ${hex(s.value)} shows them)`;
  }

  private set(args: string): string {
    const m = /^(?:var\s+)?\$(\w+)\s*=\s*(.+)$/.exec(args);
    if (!m) throw new UserError('usage: set $REG = EXPR');
    const name = m[1]!;
    const v = this.eval(m[2]!);
    const h = this.dbg.hart();
    if (name === 'pc') {
      h.pc = v;
      return '';
    }
    const r = regNumber(name);
    if (r !== undefined) {
      if (r === 0) throw new UserError('$zero is always 0');
      h.setReg(r, v);
      return '';
    }
    const csr = csrNumber(name);
    if (csr === undefined) throw new UserError(`no register or CSR named $${name}`);
    if (!h.debugCsrWrite(csr, v)) throw new UserError(`$${name} cannot be written (read-only or not implemented)`);
    return '';
  }

  // --- inspectors -----------------------------------------------------------------------------

  private inspect(ins: Inspector, args: string): string {
    const read: ReadPhys = (pa, len) => this.dbg.readPhys(pa, len);
    let syms: Map<string, bigint> | undefined;
    const elfSymbols = (): Map<string, bigint> => {
      if (!syms) {
        syms = new Map();
        for (const s of this.prog.symbols) if (!syms.has(s.name)) syms.set(s.name, s.value);
        for (const img of this.dbg.machine.images) for (const [k, v] of img.elf?.symbols ?? []) if (!syms.has(k)) syms.set(k, v);
      }
      return syms;
    };
    const ctx: InspectorCtx = {
      read,
      dbg: this.dbg,
      prog: this.prog,
      info: () => readVmcoreinfo(read, elfSymbols()),
      addr: (t) => this.eval(t),
      elfSymbols,
      kernelElf: () => this.dbg.machine.images.find((i) => i.elf && [...i.elf.symbols.keys()].some((k) => k.startsWith('kernel/')))?.elf,
      root: () => {
        const h = this.dbg.hart();
        if (h.priv !== PRV_M && h.satpMode === Number(SATP_MODE_SV39)) return h.satpPpn * 4096;
        return kernelRoot(ctx.info());
      },
    };
    const out = ins.run(ctx, args);
    return out;
  }
}

function watchTitle(wp: Watchpoint): string {
  return wp.type === 'write' ? 'Hardware watchpoint' : wp.type === 'read' ? 'Hardware read watchpoint' : 'Hardware access (read/write) watchpoint';
}

function watchExpr(wp: Watchpoint): string {
  return `*${hex(wp.addr)}`;
}

function formatUnit(v: bigint, size: number, F: string): string {
  switch (F) {
    case 'd': return String(BigInt.asIntN(size * 8, v));
    case 'u': return String(v);
    case 'o': return `0${v.toString(8)}`;
    case 't': return v.toString(2).padStart(size * 8, '0');
    case 'c': {
      const c = Number(v);
      const shown = c >= 0x20 && c < 0x7f ? (c === 0x27 || c === 0x5c ? `\\${String.fromCharCode(c)}` : String.fromCharCode(c)) : `\\${c.toString(8).padStart(3, '0')}`;
      return `${BigInt.asIntN(8, v)} '${shown}'`;
    }
    default: return hexPad(v, size);
  }
}

