/**
 * `kmemlab start` (npm start): boot the default machine and run its self-tests.
 * Until the kernel lands, the self-tests are the machine's own (see
 * selftest_image.ts); the run options of `kmemlab run` apply.
 */
import { assemble } from '../toolchain/asm.js';
import { parseRunOptions } from './options.js';
import { runMachine, type HostIo } from './run.js';
import { machineSelftestSource } from './selftest_image.js';

export async function startCommand(args: string[], io: HostIo): Promise<number> {
  const o = parseRunOptions(args);
  if (o.maxInsns === Infinity) o.maxInsns = 500_000_000;
  const { bytes } = assemble(machineSelftestSource(o.harts), { base: 0x8000_0000 });
  return runMachine(o, io, { kernel: { name: 'machine-selftest', bytes } });
}
