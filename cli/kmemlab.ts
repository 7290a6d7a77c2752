/**
 * The kmemlab command line. One line on stderr and exit code 2 for any usage
 * or image mistake; never a stack trace for bad input.
 */

import { parseRunOptions, UsageError } from './options.js';
import { EXIT_EMULATOR_FAULT, EXIT_USAGE, runMachine, stdinInput, type HostIo } from './run.js';
import { machineTestCommand, startCommand, testCommand } from './start.js';
import { buildCommand } from './build.js';
import { debugCommand } from './debug.js';

export const HELP = `kmemlab: an emulated RISC-V machine (QEMU virt compatible) for kernel memory allocation

usage:
  kmemlab run [options]     boot the machine headless, console on stdio
  kmemlab start [options]   build (cached) and boot the default machine: firmware, kernel, selftest=all (npm start)
  kmemlab test [--suite NAME]... [--fail] [options]
                            the same for chosen suites or any configuration (--fail adds a failing case)
  kmemlab machine-test [options]  boot the bare-metal machine self-test image (no kernel)
  kmemlab build [--out DIR] compile kernel/ and firmware/ into build/*.elf (cached; --force rebuilds)
  kmemlab debug [--script FILE] [options]
                            boot stopped at the reset vector and take gdb-style commands
                            (b kmalloc, c, si, bt, list, x/4gx $sp, slabinfo; 'help' inside)
  kmemlab debug --core FILE --kernel FILE [--script FILE]
                            the same commands on a saved machine (the console's 'dump FILE')
  kmemlab help              this text

run options:
  --bios FILE|none          firmware loaded at 0x80000000 (ELF or raw); none = start the kernel in M-mode
  --kernel FILE             kernel: at 0x80200000 behind firmware (ELF by physical address, or raw)
  --harts N                 number of harts, 1-64 (default 4)
  --mem SIZE                low DRAM at 0x80000000, 2M-1G (default 256M)
  --highmem SIZE            high DRAM at 0x100000000, 0-2G (default 256M; 0 = none)
  --dma-limit SIZE          bytes of low DRAM the DMA engine reaches, up to --mem (default 16M)
  --append CMDLINE          kernel command line (/chosen/bootargs)
  --max-insns N             stop after N instructions (exit code 124)
  --input TEXT              console input, as if typed
  --input-file FILE         console input from a file
  --stats                   print the instruction count on stderr at the end
  --gdb HOST:PORT           start stopped at the reset vector; serve gdb there (target remote HOST:PORT; 127.0.0.1 if no HOST)

console: Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A.
exit code: the guest's (power-off 0, failure code, tohost code); 2 bad usage or image;
124 --max-insns reached; 125 every hart waits forever; 70 emulator fault.
`;

export async function main(argv: string[], io: HostIo): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'run':
        return await runMachine(parseRunOptions(rest), io);
      case 'start':
        return await startCommand(rest, io);
      case 'test':
        return await testCommand(rest, io);
      case 'machine-test':
        return await machineTestCommand(rest, io);
      case 'debug':
        return await debugCommand(rest, io);
      case 'build':
        return await buildCommand(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.writeErr(HELP);
        return cmd === undefined ? EXIT_USAGE : 0;
      default:
        throw new UsageError(`unknown command '${cmd}'; see 'kmemlab help'`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.writeErr(`kmemlab: ${e.message}\n`);
      return EXIT_USAGE;
    }
    io.writeErr(`kmemlab: internal error: ${(e as Error).message}\n`);
    return EXIT_EMULATOR_FAULT;
  }
}

/** Process entry (the esbuild bundle's main). */
export async function cliMain(): Promise<void> {
  const needsInput = ['run', 'start', 'test', 'machine-test'].includes(process.argv[2] ?? '');
  const io: HostIo = {
    writeOut: (b) => process.stdout.write(b),
    writeErr: (t) => process.stderr.write(t),
    input: needsInput && !process.argv.some((a) => a.startsWith('--input')) ? stdinInput() : undefined,
  };
  const code = await main(process.argv.slice(2), io);
  process.exitCode = code;
  // Let stdout drain, then leave even if stdin is still open.
  process.stdout.write('', () => process.exit(code));
}
