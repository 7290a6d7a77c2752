/**
 * `kmemlab run`: boot the machine headless with the console on stdio.
 *
 * Exit codes: the guest's (test finisher: 0 for pass, the failure code
 * otherwise; HTIF tohost likewise), 2 for bad command lines and images,
 * 124 when --max-insns stops a guest, 125 when every hart waits for an
 * interrupt that nothing can raise any more, 70 for an emulator fault.
 *
 * With --gdb HOST:PORT the machine waits at the reset vector for gdb
 * (emulator/debug/gdbstub.ts) and runs only as gdb says; the console still
 * prints on stdout. When gdb detaches (or its connection drops) the machine
 * runs on to its end as without gdb; `kill` from gdb exits with 0.
 */

import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Machine, MachineError, type ImageFile, type MachineOptions } from '../emulator/machine/machine.js';
import { ImageError, isElf, parseElf } from '../emulator/machine/elf.js';
import { ConsoleSymbolizer, SymbolTable } from '../emulator/inspect/symbols.js';
import { Debugger } from '../emulator/debug/debugger.js';
import { serveGdb, type GdbSessionEnd } from '../emulator/debug/gdbstub.js';
import { DebugConsole } from '../emulator/debug/console.js';
import { sourcePaths } from '../emulator/debug/source.js';
import { findRoot } from '../toolchain/build.js';
import { isLoopbackHost, UsageError, type RunOptions } from './options.js';

export const EXIT_USAGE = 2;
export const EXIT_MAX_INSNS = 124;
export const EXIT_DEADLOCK = 125;
export const EXIT_EMULATOR_FAULT = 70;

/** Instructions per slice between visits to the host's event loop. */
const SLICE = 4_000_000;

export interface HostIo {
  writeOut(bytes: Uint8Array): void;
  writeErr(text: string): void;
  /** Console input: subscribe; returns whether more input may come. */
  input?: HostInput;
}

export interface HostInput {
  /** Called with each chunk typed or piped in. */
  onData(cb: (data: Uint8Array) => void): void;
  /** True while more input can arrive (a terminal, or a pipe not yet closed). */
  open(): boolean;
  /** Resolves when input arrives or the stream ends. */
  wait(): Promise<void>;
  close(): void;
}

function readImage(path: string, what: string): ImageFile {
  try {
    return { name: path, bytes: new Uint8Array(readFileSync(path)) };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : String((e as Error).message);
    throw new UsageError(`${what} '${path}': ${why}`);
  }
}

export function machineOptions(o: RunOptions, output: (b: number) => void, images?: { bios?: ImageFile; kernel?: ImageFile }): MachineOptions {
  const bios = images?.bios ?? (o.bios && o.bios !== 'none' ? readImage(o.bios, '--bios') : undefined);
  const kernel = images?.kernel ?? (o.kernel ? readImage(o.kernel, '--kernel') : undefined);
  if (!bios && !kernel) throw new UsageError("nothing to run: give --kernel FILE and/or --bios FILE (see 'kmemlab help')");
  return { harts: o.harts, dramSize: o.mem, highmemSize: o.highmem, dmaLimit: o.dmaLimit, append: o.append, bios, kernel, output };
}

/**
 * The console filter that symbolises the kernel's stack frames, when the
 * kernel is an ELF with a symbol table (a broken one is the loader's error
 * to report, not ours).
 */
/**
 * The debugger's reader of line-table source names (kernel/mm/slub.ts,
 * ~lib/…): under the project root of the working directory, of the kernel
 * file, or the working directory itself.
 */
export function sourceReader(kernelFile: string | undefined): (file: string) => string | undefined {
  const roots = [findRoot(process.cwd()), kernelFile ? findRoot(dirname(resolve(kernelFile))) : undefined, process.cwd()]
    .filter((r, i, all): r is string => r !== undefined && all.indexOf(r) === i);
  return (file) => {
    for (const p of sourcePaths(file, roots)) {
      try {
        if (existsSync(p)) return readFileSync(p, 'utf8');
      } catch {
        // unreadable: try the next root
      }
    }
    return undefined;
  };
}

export function kernelSymbolizer(kernel: ImageFile | undefined): ConsoleSymbolizer | undefined {
  if (!kernel || !isElf(kernel.bytes)) return undefined;
  try {
    const table = new SymbolTable(parseElf(kernel.bytes, kernel.name).functions);
    return table.size > 0 ? new ConsoleSymbolizer(table) : undefined;
  } catch {
    return undefined;
  }
}

/** Boot and run to the end; returns the process exit code. */
export async function runMachine(o: RunOptions, io: HostIo, given?: { bios?: ImageFile; kernel?: ImageFile }): Promise<number> {
  const images = {
    bios: given?.bios ?? (o.bios && o.bios !== 'none' ? readImage(o.bios, '--bios') : undefined),
    kernel: given?.kernel ?? (o.kernel ? readImage(o.kernel, '--kernel') : undefined),
  };
  const symbolizer = kernelSymbolizer(images.kernel);
  const pending: number[] = [];
  const flush = (): void => {
    if (!pending.length) return;
    const bytes = Uint8Array.from(pending.splice(0));
    io.writeOut(symbolizer ? symbolizer.filter(bytes) : bytes);
  };
  // Under gdb the debugger core runs the machine: console output is flushed
  // when it yields to the event loop (between slices, after a step).
  let flushLater = false;
  let flushQueued = false;
  const output = (b: number): void => {
    pending.push(b);
    if (flushLater && !flushQueued) {
      flushQueued = true;
      setImmediate(() => {
        flushQueued = false;
        flush();
      });
    }
  };
  let machine: Machine;
  const boot = (): Machine => {
    try {
      return new Machine(machineOptions(o, output, images));
    } catch (e) {
      if (e instanceof MachineError || e instanceof ImageError || e instanceof UsageError) throw new UsageError(e.message);
      throw e;
    }
  };
  machine = boot();
  let quit = false;
  let onQuit: (() => void) | undefined;
  if (o.input !== undefined) machine.uart.pushInput(o.input);
  io.input?.onData((data) => {
    const out: number[] = [];
    for (let i = 0; i < data.length; i++) {
      // Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A (as QEMU's -nographic console).
      if (escape) {
        escape = false;
        if (data[i] === 0x78 /* x */) { quit = true; onQuit?.(); break; }
        if (data[i] === 0x01) out.push(0x01);
        continue;
      }
      if (data[i] === 0x01 && io.input && isTty) { escape = true; continue; }
      out.push(data[i]!);
    }
    if (out.length) machine.uart.pushInput(Uint8Array.from(out));
  });
  let escape = false;
  const isTty = Boolean(process.stdin.isTTY);
  let base = 0; // instructions of earlier boots (guest resets)
  try {
    if (o.gdb) {
      flushLater = true;
      const end = await gdbSession(machine, o, io, images, flush, (abort) => { onQuit = abort; });
      flushLater = false;
      onQuit = undefined;
      flush();
      if (end.how === 'fault') {
        io.writeErr(`kmemlab: ${end.message}\n`);
        return EXIT_EMULATOR_FAULT;
      }
      if (end.how === 'kill' && !quit) {
        io.writeErr('kmemlab: killed from gdb\n');
        return 0;
      }
      if (end.how === 'detach' || end.how === 'disconnect') {
        io.writeErr(`kmemlab: ${end.how === 'detach' ? 'gdb detached' : 'the gdb connection closed'}; the machine runs on to its end\n`);
      }
      // Power-off, a reset, --max-insns, Ctrl-A x: the loop below reports them as without gdb.
    }
    for (;;) {
      if (quit) {
        flush();
        io.writeErr('kmemlab: terminated (Ctrl-A x)\n');
        return 0;
      }
      const left = o.maxInsns - (base + machine.insns);
      let reason;
      try {
        reason = machine.run(Math.min(SLICE, left));
      } catch (e) {
        flush();
        if (e instanceof MachineError) {
          io.writeErr(`kmemlab: ${e.message}\n`);
          return EXIT_EMULATOR_FAULT;
        }
        throw e;
      }
      flush();
      if (reason === 'exit') {
        const ex = machine.exit!;
        if (ex.kind === 'reset') {
          base += machine.insns;
          machine = boot();
          continue;
        }
        if (o.stats) io.writeErr(`kmemlab: ${base + machine.insns} instructions\n`);
        if (ex.kind === 'pass') return 0;
        const code = ex.code & 0xff || 1;
        return code;
      }
      if (reason === 'limit') {
        if (base + machine.insns >= o.maxInsns) {
          io.writeErr(`kmemlab: stopped the guest after ${base + machine.insns} instructions (--max-insns ${o.maxInsns})\n`);
          return EXIT_MAX_INSNS;
        }
        await new Promise((r) => setImmediate(r));
        continue;
      }
      // idle: every hart waits for an interrupt and no timer is armed.
      if (io.input && io.input.open()) {
        await io.input.wait();
        continue;
      }
      io.writeErr(`kmemlab: every hart waits for an interrupt that nothing can raise (no timer armed, no console input); stopped after ${base + machine.insns} instructions\n`);
      return EXIT_DEADLOCK;
    }
  } finally {
    io.input?.close();
  }
}

/**
 * Console commands that would move the machine or drop gdb's breakpoints
 * behind gdb's back (it keeps its own idea of where the harts are): `monitor`
 * refuses them and points at gdb's own command.
 */
const GDB_OWNS = new Set(['si', 'stepi', 'ni', 'nexti', 'c', 'cont', 'continue', 'finish', 'fin', 'd', 'delete', 'quit', 'q', 'exit']);

const showAddress = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/**
 * --gdb: serve the GDB remote protocol (emulator/debug/gdbstub.ts) on the
 * machine, stopped at the reset vector, until gdb detaches or kills it or
 * the guest ends. Monitor commands go to the debugger console
 * (emulator/debug/console.ts), so `monitor slabinfo` works as in `kmemlab debug`.
 */
async function gdbSession(
  machine: Machine, o: RunOptions, io: HostIo, images: { bios?: ImageFile; kernel?: ImageFile },
  afterRun: () => void, setAbort: (abort: () => void) => void,
): Promise<GdbSessionEnd> {
  const { host, port } = o.gdb!;
  if (!isLoopbackHost(host)) {
    io.writeErr(`kmemlab: warning: the gdb stub listens on ${showAddress(host, port)}: anyone who can reach that port controls this machine\n`);
  }
  const dbg = new Debugger(machine);
  let monitorConsole: DebugConsole | undefined;
  const elfs = [images.bios, images.kernel].filter((f): f is ImageFile => f !== undefined && isElf(f.bytes));
  let server;
  try {
    server = await serveGdb(dbg, {
      host,
      port,
      maxInsns: o.maxInsns,
      afterRun,
      waitIdle: async () => {
        if (!io.input || !io.input.open()) return false;
        await io.input.wait();
        return true;
      },
      monitor: async (line) => {
        const word = /^\s*([A-Za-z_]+)/.exec(line)?.[1];
        if (word !== undefined && GDB_OWNS.has(word)) return `'${word}' is gdb's own command here: the monitor neither runs the machine nor deletes gdb's breakpoints\n`;
        monitorConsole ??= new DebugConsole(dbg, { images: elfs, readSource: sourceReader(o.kernel), maxInsns: o.maxInsns });
        return monitorConsole.execute(line);
      },
      log: (m) => io.writeErr(`kmemlab: ${m}\n`),
      onListening: (a) => io.writeErr(`kmemlab: waiting for gdb on ${showAddress(a.host, a.port)} (gdb: target remote ${showAddress(a.host, a.port)})\n`),
    });
  } catch (e) {
    throw new UsageError(`--gdb ${showAddress(host, port)}: cannot listen there: ${(e as Error).message}`);
  }
  setAbort(() => server.abort());
  return server.ended;
}

/** Console input from the process's stdin (raw mode on a terminal). */
export function stdinInput(): HostInput {
  const stdin = process.stdin;
  let ended = false;
  let waiter: (() => void) | undefined;
  const wake = (): void => {
    const w = waiter;
    waiter = undefined;
    w?.();
  };
  const listeners: ((d: Uint8Array) => void)[] = [];
  let started = false;
  const start = (): void => {
    if (started) return;
    started = true;
    if (stdin.isTTY) stdin.setRawMode(true);
    stdin.on('data', (d: Buffer) => {
      for (const l of listeners) l(new Uint8Array(d));
      wake();
    });
    stdin.on('end', () => {
      ended = true;
      wake();
    });
    stdin.on('error', () => {
      ended = true;
      wake();
    });
  };
  return {
    onData(cb) {
      listeners.push(cb);
      start();
    },
    open: () => !ended,
    wait: () => new Promise<void>((r) => {
      if (ended) r();
      else waiter = r;
    }),
    close() {
      if (stdin.isTTY) stdin.setRawMode(false);
      stdin.pause();
      stdin.unref?.();
    },
  };
}
