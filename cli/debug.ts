/**
 * `kmemlab debug [--script FILE] [run options]`: boot the machine stopped at
 * the reset vector (0x1000, every hart) and take gdb-style commands
 * (emulator/debug/console.ts; `help` lists them).
 *
 * Input, in this order of preference:
 *   --script FILE   commands from the file, one a line;
 *   a terminal      node:readline with history, tab completion (commands,
 *                   `info` subcommands, $registers, symbols), Ctrl-C stops a
 *                   running `c` (and otherwise just gives a new prompt);
 *   a pipe          commands from stdin.
 * With a script or a pipe each command is echoed after the prompt,
 * "(kmemlab) cmd", then its output, so the transcript reads as a session and
 * compares stably in tests (nothing depends on wall time). Blank lines and
 * lines starting with '#' are skipped.
 *
 * `--core FILE` opens a saved machine instead (an ELF core of the console's
 * `dump FILE`, with the --kernel (and --bios) the machine ran; its harts and
 * memory sizes come from the dump): the same commands look at it (x, p, bt, list, info, the
 * inspectors); the ones that would run it say it does not run.
 *
 * The guest's console output goes to stdout as it comes, kernel stack frames
 * symbolised as `kmemlab run` does; it is kept apart from the commands'
 * output: whatever the guest printed is flushed, and its last line ended,
 * before the next command's output.
 *
 * Exit: `quit` or the end of the input. Exit code 0, or the guest's exit
 * code when it powered off during the session (then stderr says so); 2 for
 * bad command lines and images, as `kmemlab run`.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Machine, MachineError, type ImageFile } from '../emulator/machine/machine.js';
import { ImageError } from '../emulator/machine/elf.js';
import { Debugger } from '../emulator/debug/debugger.js';
import { DebugConsole } from '../emulator/debug/console.js';
import { CoreError, machineFromCore, readCore } from '../emulator/inspect/core.js';
import type { ConsoleSymbolizer } from '../emulator/inspect/symbols.js';
import { parseRunOptions, UsageError } from './options.js';
import { kernelSymbolizer, machineOptions, sourceReader, type HostIo } from './run.js';

const enc = new TextEncoder();

/** Split `--script FILE` and `--core FILE` off the run options. */
function splitArgs(args: string[]): { script?: string; core?: string; rest: string[] } {
  const rest: string[] = [];
  const got: { script?: string; core?: string } = {};
  const what = { script: 'a file of debugger commands', core: 'an ELF core (the console\'s dump FILE, QEMU\'s dump-guest-memory)' };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const m = /^--(script|core)(?:=(.*))?$/.exec(a);
    if (!m) {
      rest.push(a);
      continue;
    }
    const key = m[1] as 'script' | 'core';
    const v = m[2] ?? args[++i];
    if (v === undefined || v === '') throw new UsageError(`--${key} needs ${what[key]}`);
    got[key] = v;
  }
  return { ...got, rest };
}

function readCoreFile(file: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new UsageError(`--core '${file}': cannot read it (${(e as { code?: string }).code ?? (e as Error).message}); give an ELF core written by the console's dump FILE`);
  }
}

export async function debugCommand(args: string[], io: HostIo): Promise<number> {
  const { script, core, rest } = splitArgs(args);
  const o = parseRunOptions(rest);
  if (o.gdb) throw new UsageError("--gdb belongs to 'kmemlab run': the debugger console and gdb cannot both drive one machine (gdb's 'monitor' reaches the console's commands)");
  let scriptLines: string[] | undefined;
  if (script !== undefined) {
    try {
      scriptLines = readFileSync(script, 'utf8').split(/\r?\n/);
    } catch {
      throw new UsageError(`--script '${script}': cannot read it; give a readable file of debugger commands`);
    }
  }

  // The guest's console: to stdout as it comes, its last line ended before command output.
  let atLineStart = true;
  let filter: ConsoleSymbolizer | undefined;
  const pending: number[] = [];
  const flushGuest = (): void => {
    if (!pending.length) return;
    const bytes = Uint8Array.from(pending.splice(0));
    const out = filter ? filter.filter(bytes) : bytes;
    if (out.length) {
      io.writeOut(out);
      atLineStart = out[out.length - 1] === 0x0a;
    }
  };
  const mo = machineOptions(o, (b) => {
    pending.push(b);
    if (b === 0x0a || pending.length >= 4096) flushGuest();
  });
  filter = kernelSymbolizer(mo.kernel);
  let machine: Machine;
  try {
    machine = core === undefined ? new Machine(mo) : machineFromCore(readCore(readCoreFile(core), core), { bios: mo.bios, kernel: mo.kernel });
  } catch (e) {
    if (e instanceof MachineError || e instanceof ImageError || e instanceof CoreError) throw new UsageError(e.message);
    throw e;
  }
  if (o.input !== undefined) machine.uart.pushInput(o.input);

  const images = [mo.bios, mo.kernel].filter((i): i is ImageFile => i !== undefined);
  const con = new DebugConsole(new Debugger(machine), {
    images,
    readSource: sourceReader(o.kernel),
    maxInsns: Number.isFinite(o.maxInsns) ? o.maxInsns : undefined,
    frozen: core === undefined ? undefined : `the dump ${core}`,
  });

  const say = (text: string): void => {
    flushGuest();
    if (!text) return;
    if (!atLineStart) io.writeOut(enc.encode('\n'));
    io.writeOut(enc.encode(text));
    atLineStart = text.endsWith('\n');
  };
  const run = async (line: string, echo: boolean): Promise<void> => {
    if (echo) say(`${DebugConsole.PROMPT}${line}\n`);
    say(await con.execute(line));
  };

  const onSigint = (): void => {
    if (con.busy) con.interrupt();
    else process.exit(130);
  };
  process.on('SIGINT', onSigint);
  try {
    if (scriptLines) {
      for (const raw of scriptLines) {
        const line = raw.trim();
        if (line === '' || line.startsWith('#')) continue;
        await run(line, true);
        if (con.quitRequested) break;
      }
    } else if (process.stdin.isTTY) {
      await interactive(con, say);
    } else {
      const rl = createInterface({ input: process.stdin, terminal: false });
      for await (const raw of rl) {
        const line = raw.trim();
        if (line === '' || line.startsWith('#')) continue;
        await run(line, true);
        if (con.quitRequested) break;
      }
      rl.close();
    }
  } finally {
    process.off('SIGINT', onSigint);
    flushGuest();
  }
  const ex = machine.exit;
  if (ex && ex.kind !== 'reset') {
    const code = con.exitCode();
    io.writeErr(`kmemlab: the guest powered off during the session; exit code ${code} is the guest's\n`);
    return code;
  }
  return 0;
}

/** A terminal session: readline with history and completion; Ctrl-C stops a running `c`. */
async function interactive(con: DebugConsole, say: (text: string) => void): Promise<void> {
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal: true,
    historySize: 1000,
    prompt: DebugConsole.PROMPT,
    completer: (line: string): [string[], string] => [con.complete(line), line],
  });
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  let busy = false;
  rl.on('line', (l) => {
    queue.push(l);
    wake?.();
  });
  rl.on('close', () => {
    closed = true;
    wake?.();
  });
  rl.on('SIGINT', () => {
    if (busy) con.interrupt();
    else {
      process.stdout.write('Quit\n');
      rl.prompt();
    }
  });
  const repeatable = /^(si|stepi|ni|nexti|x|list|l|c|continue)\b/;
  let last = '';
  say('Type "help" for the commands; "quit" or Ctrl-D leaves.\n');
  rl.prompt();
  for (;;) {
    if (queue.length === 0) {
      if (closed) break;
      await new Promise<void>((r) => { wake = r; });
      wake = undefined;
      continue;
    }
    let line = queue.shift()!.trim();
    if (line === '' && repeatable.test(last)) line = last.replace(/^x\S*\s+.*$/, (x) => x.split(/\s/)[0]!);
    if (line !== '') {
      last = line;
      busy = true;
      try {
        say(await con.execute(line));
      } finally {
        busy = false;
      }
      if (con.quitRequested) break;
    }
    rl.prompt();
  }
  rl.close();
}
