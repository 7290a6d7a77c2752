/**
 * Command-line options of `kmemlab run` (and the commands built on it).
 * Every mistake is reported as a UsageError: one line saying what was wrong
 * and what to do, which the CLI prints before exiting with code 2.
 */

import { readFileSync } from 'node:fs';
import { DEFAULT_HARTS, DRAM_DEFAULT_SIZE, HIGHMEM_DEFAULT_SIZE, MAX_HARTS } from '../emulator/machine/memmap.js';

export class UsageError extends Error {}

export interface RunOptions {
  bios: string | 'none' | undefined;
  kernel: string | undefined;
  harts: number;
  mem: number;
  highmem: number;
  /** Bytes of low DRAM the DMA engine reaches (--dma-limit); undefined = the machine's default (16M, clipped to --mem). */
  dmaLimit: number | undefined;
  append: string;
  maxInsns: number;
  /** Console input given on the command line (tests, scripts). */
  input: string | undefined;
  /** Print the instruction count on stderr at the end. */
  stats: boolean;
  /** --gdb HOST:PORT: boot stopped at the reset vector and wait for gdb there (port 0: any free port). */
  gdb: GdbAddress | undefined;
}

export interface GdbAddress {
  host: string;
  port: number;
}

/**
 * "HOST:PORT", "[v6addr]:PORT", ":PORT" or "PORT" (HOST defaults to
 * 127.0.0.1: only this machine's users can reach the stub).
 */
export function parseGdbAddress(text: string): GdbAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d+)$/.exec(text) ?? /^()()(\d+)$/.exec(text);
  if (!m) throw new UsageError(`--gdb: '${text}' is not HOST:PORT; write it like 127.0.0.1:1234 or :1234`);
  const host = m[1] || m[2] || '127.0.0.1';
  const port = Number(m[3]);
  if (!Number.isInteger(port) || port > 65535) throw new UsageError(`--gdb: port ${m[3]} is out of range (0 to 65535; 0 picks a free one)`);
  return { host, port };
}

/** Does `host` name this machine only (127.0.0.0/8, ::1, localhost)? */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** "256M", "1G", "64MiB", "4096", "0" -> bytes. */
export function parseSize(text: string, what: string): number {
  const m = /^(\d+)\s*([kmg]?)(i?b)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`${what}: '${text}' is not a size; write it like 256M, 1G or 65536`);
  const v = Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
  if (!Number.isSafeInteger(v)) throw new UsageError(`${what}: '${text}' is too large`);
  return v;
}

function parseCount(text: string, what: string, min: number, max: number): number {
  const clean = text.replace(/_/g, '');
  if (!/^\d+$/.test(clean)) throw new UsageError(`${what}: '${text}' is not a whole number`);
  const v = Number(clean);
  if (v < min || v > max) throw new UsageError(`${what}: ${text} is out of range (${min} to ${max})`);
  return v;
}

export function parseRunOptions(args: string[]): RunOptions {
  const o: RunOptions = {
    bios: undefined,
    kernel: undefined,
    harts: DEFAULT_HARTS,
    mem: DRAM_DEFAULT_SIZE,
    highmem: HIGHMEM_DEFAULT_SIZE,
    dmaLimit: undefined,
    append: '',
    maxInsns: Infinity,
    input: undefined,
    stats: false,
    gdb: undefined,
  };
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
      case '--bios': o.bios = value(); break;
      case '--kernel': o.kernel = value(); break;
      case '--harts':
      case '--smp': o.harts = parseCount(value(), '--harts', 1, MAX_HARTS); break;
      case '--mem':
      case '-m': o.mem = parseSize(value(), '--mem'); break;
      case '--highmem': o.highmem = parseSize(value(), '--highmem'); break;
      case '--dma-limit': {
        const v = value();
        o.dmaLimit = parseSize(v, '--dma-limit');
        if (o.dmaLimit === 0) throw new UsageError(`--dma-limit: '${v}' is empty; give 1 byte up to the --mem size, like 16M`);
        break;
      }
      case '--append': o.append = value(); break;
      case '--max-insns': o.maxInsns = parseCount(value(), '--max-insns', 1, Number.MAX_SAFE_INTEGER); break;
      case '--input': o.input = (o.input ?? '') + value(); break;
      case '--input-file': {
        const path = value();
        try {
          o.input = (o.input ?? '') + readFileSync(path, 'utf8');
        } catch {
          throw new UsageError(`--input-file '${path}': cannot read it; give a readable file`);
        }
        break;
      }
      case '--stats': o.stats = true; break;
      case '--gdb': o.gdb = parseGdbAddress(value()); break;
      default:
        throw new UsageError(`unknown option '${arg}'; see 'kmemlab help'`);
    }
  }
  if (o.dmaLimit !== undefined && o.dmaLimit > o.mem) {
    throw new UsageError(`--dma-limit: ${o.dmaLimit} bytes is more than the low DRAM (--mem, ${o.mem} bytes); the DMA window lies inside it`);
  }
  return o;
}
