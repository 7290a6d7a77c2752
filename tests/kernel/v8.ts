/**
 * Run kernel AssemblyScript in V8: compile a harness with asc (the same
 * flags as the kernel build, plus --exportRuntime so the host can make
 * strings), and instantiate it with the "riscv" intrinsics stubbed:
 *
 *   csrr_* / csrw_ / csrs_ / csrc_   a CSR file in a Map (time advances by
 *                                    `timeStep` per read)
 *   ecall                            a small SBI: BASE, legacy putchar,
 *                                    DBCN write (optional), TIME, SRST
 *   tp_read / tp_write, fence, wfi …  trivial
 *
 * This is the test level for pure kernel logic (formatting, printk, FDT,
 * command line): the whole kernel runs only on the emulated machine.
 */
import asc from 'assemblyscript/asc';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const compiled = new Map<string, Promise<WebAssembly.Module>>();

/** Compile `file` (relative to the repository root) once per test run, with extra asc arguments. */
export function compileHarness(file: string, extra: string[] = []): Promise<WebAssembly.Module> {
  const key = [file, ...extra].join(' ');
  let m = compiled.get(key);
  if (!m) {
    m = (async () => {
      let binary: Uint8Array<ArrayBuffer> | undefined;
      const stderr: string[] = [];
      const { error } = await asc.main(
        [file, '--baseDir', ROOT, '--runtime', 'stub', '--enable', 'threads', '--noAssert', '-O3', '--exportRuntime', '--outFile', 'out.wasm', ...extra],
        {
          writeFile: (name: string, contents: Uint8Array | string) => {
            if (name.endsWith('.wasm')) binary = new Uint8Array(contents as Uint8Array);
          },
          stderr: { write: (s: string | Uint8Array) => { stderr.push(String(s)); return true; } } as never,
          stdout: { write: () => true } as never,
        } as never,
      );
      if (error || !binary) throw new Error(`asc ${file}: ${error?.message ?? 'no output'}\n${stderr.join('')}`);
      return WebAssembly.compile(new Uint8Array(binary));
    })();
    compiled.set(key, m);
  }
  return m;
}

export interface SbiStubOptions {
  dbcn?: boolean;
  /** Ticks the time CSR advances per read. */
  timeStep?: bigint;
}

export class Harness {
  readonly console: number[] = [];
  readonly csr = new Map<string, bigint>();
  tp = 0n;
  resets: { type: bigint; reason: bigint }[] = [];
  private a1 = 0n;
  instance!: WebAssembly.Instance;

  constructor(private readonly opts: SbiStubOptions = {}) {}

  static async create(file: string, opts: SbiStubOptions = {}, extra: string[] = []): Promise<Harness> {
    const h = new Harness(opts);
    const mod = await compileHarness(file, extra);
    h.instance = new WebAssembly.Instance(mod, h.imports());
    return h;
  }

  get exports(): Record<string, unknown> & { memory: WebAssembly.Memory } {
    return this.instance.exports as never;
  }

  fn<T extends (...args: never[]) => unknown>(name: string): T {
    const f = this.exports[name];
    if (typeof f !== 'function') throw new Error(`harness exports no function ${name}`);
    return f as T;
  }

  /** A global's value (AssemblyScript exports `const x: usize` as a WebAssembly.Global). */
  global(name: string): number {
    const g = this.exports[name] as WebAssembly.Global | undefined;
    if (!g) throw new Error(`harness exports no global ${name}`);
    return Number(g.value);
  }

  get bytes(): Uint8Array {
    return new Uint8Array(this.exports.memory.buffer);
  }

  /** A new AssemblyScript string in guest memory; returns its pointer. */
  str(s: string): number {
    const ptr = (this.fn<(size: number, id: number) => number>('__new'))(s.length * 2, 2) >>> 0;
    const view = new DataView(this.exports.memory.buffer);
    for (let i = 0; i < s.length; i++) view.setUint16(ptr + 2 * i, s.charCodeAt(i), true);
    return ptr;
  }

  /** NUL-terminated (or `len`-byte) string at `ptr`. */
  cstr(ptr: number, len = -1): string {
    const b = this.bytes;
    let end = ptr;
    if (len >= 0) end = ptr + len;
    else while (b[end] !== 0) end++;
    return Buffer.from(b.subarray(ptr, end)).toString('latin1');
  }

  write(ptr: number, data: Uint8Array): void {
    this.bytes.set(data, ptr);
  }

  consoleText(): string {
    return Buffer.from(this.console).toString('latin1');
  }

  private imports(): WebAssembly.Imports {
    const step = this.opts.timeStep ?? 1000n;
    const riscv: Record<string, (...a: bigint[]) => bigint | number | void> = {
      ecall: (a0, a1, a2, _a3, _a4, _a5, a6, a7) => this.ecall(a0!, a1!, a2!, a6!, a7!),
      ecall_a1: () => this.a1,
      tp_read: () => this.tp,
      tp_write: (v) => { this.tp = v!; },
      sp_read: () => 0n,
      fence: () => {}, fence_i: () => {}, wfi: () => {}, pause: () => {}, ebreak: () => {}, sfence_vma: () => {}, sfence_vma_all: () => {},
    };
    const handler: ProxyHandler<typeof riscv> = {
      get: (t, name: string) => {
        if (name in t) return t[name];
        const m = /^(csrr|csrw|csrs|csrc|csrrw|csrrs|csrrc)_(\w+)$/.exec(name);
        if (!m) return undefined;
        const [, op, csr] = m as unknown as [string, string, string];
        return (v?: bigint) => {
          const old = this.csr.get(csr) ?? 0n;
          if (csr === 'time' && op === 'csrr') { this.csr.set('time', old + step); return old; }
          if (op === 'csrw') this.csr.set(csr, v!);
          else if (op === 'csrs') this.csr.set(csr, old | v!);
          else if (op === 'csrc') this.csr.set(csr, old & ~v!);
          else if (op === 'csrrw') { this.csr.set(csr, v!); return old; }
          else if (op === 'csrrs') { this.csr.set(csr, old | v!); return old; }
          else if (op === 'csrrc') { this.csr.set(csr, old & ~v!); return old; }
          return op === 'csrr' ? old : undefined;
        };
      },
    };
    return {
      riscv: new Proxy(riscv, handler) as never,
      env: {
        abort: (msg: number, file: number, line: number, col: number) => {
          throw new Error(`abort at ${line}:${col} (${msg}, ${file})`);
        },
        seed: () => 0,
      },
    };
  }

  private ecall(a0: bigint, a1: bigint, a2: bigint, fid: bigint, eid: bigint): bigint {
    this.a1 = 0n;
    switch (eid) {
      case 0x01n: this.console.push(Number(a0 & 0xffn)); return 0n;
      case 0x10n: // BASE
        if (fid === 0n) { this.a1 = 2n << 24n; return 0n; }
        if (fid === 3n) { this.a1 = a0 === 0x4442434en ? (this.opts.dbcn ? 1n : 0n) : 1n; return 0n; }
        return 0n;
      case 0x4442434en: { // DBCN write
        if (!this.opts.dbcn) return -2n;
        const n = Number(a0);
        for (let i = 0; i < n; i++) this.console.push(this.bytes[Number(a1) + i]!);
        this.a1 = a0;
        void a2;
        return 0n;
      }
      case 0x53525354n: this.resets.push({ type: a0, reason: a1 }); return 0n;
      default: return 0n;
    }
  }
}
