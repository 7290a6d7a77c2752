/**
 * Helpers for the linker tests: a WasmModule built by hand (what the stubs
 * and the linker read of it), a "translation" written by hand in assembly
 * labelled the way the code generator labels functions, and a run on the
 * Machine bounded by an instruction count.
 */
import { Machine, type ImageFile } from '../../emulator/machine/machine.js';
import type { FuncType, ValType, WasmModule } from '../../toolchain/wasm/module.js';
import type { TranslationInput } from '../../toolchain/link.js';

export interface FakeFunc {
  name: string;
  params?: ValType[];
  results?: ValType[];
  /** Export name, if exported. */
  export?: string;
}

/** A module with an `env.abort` import (function 0) and the given functions (1 …). */
export function fakeModule(funcs: FakeFunc[], opts: { memoryPages?: number; start?: number } = {}): WasmModule {
  const types: FuncType[] = [];
  const typeIndex = (t: FuncType): number => {
    const i = types.findIndex((x) => x.params.join() === t.params.join() && x.results.join() === t.results.join());
    if (i >= 0) return i;
    types.push(t);
    return types.length - 1;
  };
  const abortType = typeIndex({ params: ['i32', 'i32', 'i32', 'i32'], results: [] });
  const mod: WasmModule = {
    types,
    importFuncs: [{ module: 'env', name: 'abort', typeIndex: abortType }],
    importOther: [],
    funcs: funcs.map((f, i) => {
      const type = { params: f.params ?? [], results: f.results ?? [] };
      return { index: i + 1, typeIndex: typeIndex(type), type, locals: [], body: [], name: f.name, bodyOffset: 0 };
    }),
    tables: [],
    memories: [{ min: opts.memoryPages ?? 0, shared: false }],
    globals: [],
    exports: funcs.flatMap((f, i) => (f.export ? [{ name: f.export, kind: 'func' as const, index: i + 1 }] : [])),
    start: opts.start,
    elements: [],
    data: [],
    funcNames: new Map(funcs.map((f, i) => [i + 1, f.name])),
  };
  return mod;
}

/** A translation whose function i (1 …) is labelled `f<i>` in `text`. */
export function fakeTranslation(text: string, nFuncs: number, data: { addr: number; bytes: Uint8Array }[] = []): TranslationInput {
  return {
    text,
    data,
    funcLabels: ['__wasm_abort', ...Array.from({ length: nFuncs }, (_, i) => `f${i + 1}`)],
    externs: ['__wasm_abort', '__wasm_trap'],
  };
}

export interface Run {
  machine: Machine;
  output: string;
  exit: Machine['exit'];
  read(addr: bigint, size?: 1 | 2 | 4 | 8): bigint;
}

/** Boot images on a Machine (1 hart by default) and run to the end, at most maxInsns instructions. */
export function runImages(images: { bios?: ImageFile; kernel?: ImageFile }, opts: { harts?: number; maxInsns?: number } = {}): Run {
  let output = '';
  const machine = new Machine({ harts: opts.harts ?? 1, highmemSize: 0, ...images, output: (b) => (output += String.fromCharCode(b)) });
  const reason = machine.run(opts.maxInsns ?? 5_000_000);
  if (reason !== 'exit') throw new Error(`guest did not finish (${reason}) after ${machine.insns} instructions; output:\n${output}`);
  return {
    machine,
    output,
    exit: machine.exit,
    read(addr, size = 8) {
      const b = machine.mem.readBytes(Number(addr), size);
      let v = 0n;
      for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
      return v;
    },
  };
}

/** The wasm layout of an AssemblyScript string: u32 byte length at ptr − 4, UTF-16LE at ptr. */
export function ascString(s: string): { header: Uint8Array; ptrOffset: number } {
  const bytes = new Uint8Array(4 + 2 * s.length);
  new DataView(bytes.buffer).setUint32(0, 2 * s.length, true);
  for (let i = 0; i < s.length; i++) new DataView(bytes.buffer).setUint16(4 + 2 * i, s.charCodeAt(i), true);
  return { header: bytes, ptrOffset: 4 };
}

/** What hello.ts prints, computed in JavaScript. */
export function helloExpected(): string {
  const fib = (n: number): number => (n < 2 ? n : fib(n - 1) + fib(n - 2));
  let h = 0x811c9dc5;
  for (const b of [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3]) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  const M = (1n << 64n) - 1n;
  let x = 0x0123456789abcdefn;
  x ^= x >> 33n; x = (x * 0xff51afd7ed558ccdn) & M;
  x ^= x >> 33n; x = (x * 0xc4ceb9fe1a85ec53n) & M;
  x ^= x >> 33n;
  const hex = (v: bigint | number): string => `0x${BigInt(v).toString(16).padStart(16, '0')}`;
  return `hello from AssemblyScript\nfib(20) = ${fib(20)}\nfnv1a = ${hex(h)}\nmix = ${hex(x)}\ncounter = 45\n`;
}
