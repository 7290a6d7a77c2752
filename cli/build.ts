/**
 * `kmemlab build [--out DIR] [--force] [--target NAME]…`: compile the kernel
 * and the firmware (asconfig.json targets) into build/<target>.elf, cached
 * by content hash (toolchain/build.ts). Progress and problems go to stderr,
 * one line each; exit code 0 when every target built (or was up to date),
 * 2 for any compile, translation or link error.
 */

import { BuildError, buildImages, findRoot } from '../toolchain/build.js';
import { UsageError } from './options.js';
import { EXIT_USAGE, type HostIo } from './run.js';

export interface BuildArgs {
  out?: string;
  root?: string;
  force: boolean;
  targets?: string[];
}

export function parseBuildArgs(args: string[]): BuildArgs {
  const o: BuildArgs = { force: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (arg.startsWith('--') && eq > 0) return arg.slice(eq + 1);
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${name} needs a value`);
      return v;
    };
    switch (name) {
      case '--out': o.out = value(); break;
      case '--root': o.root = value(); break;
      case '--force': o.force = true; break;
      case '--target': (o.targets ??= []).push(value()); break;
      default: throw new UsageError(`unknown build option '${arg}'; see 'kmemlab help'`);
    }
  }
  return o;
}

export async function buildCommand(args: string[], io: HostIo): Promise<number> {
  const o = parseBuildArgs(args);
  const root = o.root ?? findRoot(process.cwd());
  if (root === undefined) throw new UsageError('no asconfig.json here or above; run kmemlab build in the kmemlab repository (or give --root DIR)');
  let result;
  try {
    result = await buildImages({ root, outDir: o.out, force: o.force, targets: o.targets, log: (l) => io.writeErr(`${l}\n`) });
  } catch (e) {
    if (e instanceof BuildError) throw new UsageError(e.message);
    throw e;
  }
  return result.ok ? 0 : EXIT_USAGE;
}
