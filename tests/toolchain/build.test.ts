/**
 * `kmemlab build`, in-process through the CLI's main(), in a temporary root
 * holding the repository's asconfig.json, the tests' minimal kernel and
 * firmware (programs/*_min.ts) as kernel/main.ts and firmware/main.ts, and
 * toolchain/ linked in (for the content hash): caching,
 * rebuilding on a change, one clear line per error with exit code 2, and the
 * two images booting together on the Machine.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/kmemlab.js';
import { parseElf } from '../../emulator/machine/elf.js';
import { LAYOUTS } from '../../toolchain/link.js';
import { readLineTable } from '../../toolchain/elf_writer.js';
import { runImages } from './link_helpers.js';
import { makeScratchTree } from './scratch_tree.js';

const ROOT = join(__dirname, '../..');
let root = '';
let out = '';

async function build(...args: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const code = await main(['build', '--root', root, '--out', out, ...args], {
    writeOut: () => {},
    writeErr: (t) => (err += t),
  });
  return { code, err };
}

function edit(rel: string, f: (s: string) => string): void {
  const p = join(root, rel);
  writeFileSync(p, f(readFileSync(p, 'utf8')));
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'kmemlab-build-'));
  out = join(root, 'build');
  makeScratchTree(root);
});

describe('kmemlab build', () => {
  it('asconfig.json places the data where the image layouts expect it', () => {
    const cfg = JSON.parse(readFileSync(join(ROOT, 'asconfig.json'), 'utf8')) as { targets: Record<string, Record<string, unknown>> };
    for (const kind of ['kernel', 'firmware'] as const) {
      const t = cfg.targets[kind]!;
      expect(t['kind']).toBe(kind);
      expect(t['memoryBase']).toBe(LAYOUTS[kind].memoryBase);
      expect(t['initialMemory']).toBe(LAYOUTS[kind].memoryPages);
      expect(t['debug']).toBe(true); // the name section, for the symbol table
    }
    expect(Object.keys(cfg)).toEqual(['targets']); // nothing that every asc run in the tree would inherit
  });

  it('builds both images, then finds them up to date', async () => {
    const first = await build();
    expect(first.err).toContain('kernel.elf: compiling kernel/main.ts');
    expect(first.code, first.err).toBe(0);
    for (const t of ['kernel', 'firmware']) {
      const bytes = new Uint8Array(readFileSync(join(out, `${t}.elf`)));
      expect(parseElf(bytes, `${t}.elf`).symbols.has(`${t}/main/${t === 'kernel' ? 'kernel_main' : 'fw_main'}`)).toBe(true);
      expect(readLineTable(bytes)!.some((l) => l.source === `${t}/main.ts`)).toBe(true);
    }
    const second = await build();
    expect(second.code).toBe(0);
    expect(second.err).toBe('kernel.elf: up to date\nfirmware.elf: up to date\n');
  });

  it('boots: the firmware enters the kernel in S-mode, the kernel prints through SBI and shuts down', () => {
    const r = runImages({
      bios: { name: 'firmware.elf', bytes: new Uint8Array(readFileSync(join(out, 'firmware.elf'))) },
      kernel: { name: 'kernel.elf', bytes: new Uint8Array(readFileSync(join(out, 'kernel.elf'))) },
    }, { harts: 2, maxInsns: 20_000_000 });
    expect(r.output).toMatch(/^kmemlab firmware \(placeholder\): entering the kernel at 0x80200000\nkmemlab kernel \(placeholder\): hart 0, device tree at 0x00000000[0-9a-f]{8}\n$/);
    expect(r.exit).toMatchObject({ kind: 'pass' });
  });

  it('rebuilds what a changed file affects, and only that', async () => {
    edit('kernel/main.ts', (s) => `${s}\n// a change\n`);
    const r = await build();
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('kernel.elf: compiling');
    expect(r.err).toContain('firmware.elf: up to date');
    expect((await build()).err).toBe('kernel.elf: up to date\nfirmware.elf: up to date\n');
    expect((await build('--force', '--target', 'firmware')).err).toContain('firmware.elf: compiling');
  });

  it('reports a syntax error as file:line:column with exit code 2', async () => {
    const good = readFileSync(join(root, 'kernel/main.ts'), 'utf8');
    edit('kernel/main.ts', (s) => s.replace('  return 0;\n}', '  return 0 +;\n}'));
    const r = await build();
    expect(r.code).toBe(2);
    const line = good.split('\n').findIndex((l) => l === '  return 0;') + 1;
    expect(r.err).toContain(`kernel/main.ts:${line}:13: error TS1109: Expression expected.`);
    expect(r.err).toContain('kernel.elf: not built (1 error)');
    expect(existsSync(join(out, 'kernel.elf'))).toBe(false); // no stale image left behind
    expect(r.err).toContain('firmware.elf: up to date');
    expect(r.err).not.toMatch(/\bat .*\.ts:\d+:\d+\)|Error:/); // no stack trace
    writeFileSync(join(root, 'kernel/main.ts'), good);
  });

  it('reports translator and linker errors with exit code 2', async () => {
    const good = readFileSync(join(root, 'kernel/main.ts'), 'utf8');
    // A float operation: the translator refuses it and names the function; the source map gives the line.
    edit('kernel/main.ts', (s) => s.replace('  return 0;\n}', '  return <i32>(<f64>hartid * 1.5);\n}'));
    let r = await build();
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/kernel\/main\.ts:\d+:\d+: error: .*kernel_main/);
    // No kernel_trap: the kernel stub cannot be linked.
    writeFileSync(join(root, 'kernel/main.ts'), good.replace('export function kernel_trap', 'function kernel_trap'));
    r = await build();
    expect(r.code).toBe(2);
    expect(r.err).toContain("error: kernel image: the kernel exports no function 'kernel_trap'");
    writeFileSync(join(root, 'kernel/main.ts'), good);
    expect((await build()).code).toBe(0);
  });

  it('refuses unknown targets and options with one line', async () => {
    expect(await build('--target', 'nope')).toEqual({ code: 2, err: "kmemlab: no target 'nope' in asconfig.json (targets: kernel, firmware)\n" });
    expect((await build('--fast')).err).toBe("kmemlab: unknown build option '--fast'; see 'kmemlab help'\n");
  });
});
