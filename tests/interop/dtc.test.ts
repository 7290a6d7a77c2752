/**
 * Our DTB against programs nobody here wrote:
 *  - dtc (device-tree-compiler) must decompile it with exit 0 and no warning,
 *    and its own blob of the same tree must parse back to the same tree;
 *  - QEMU's `virt` machine (qemu-system-riscv64 -M virt,dumpdtb=…) must agree
 *    with us on every node we both have, except for the differences listed in
 *    KNOWN_DIFFERENCES with their reasons;
 *  - real firmware (Debian's OpenSBI fw_jump.elf, then U-Boot) booted by QEMU
 *    with `-dtb` set to our blob must find the harts, console, timer, IPI and
 *    reset devices through it.
 * Each test skips with the package to install when its program is absent.
 */

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FdtNode, parseFdt } from '../../emulator/machine/fdt.js';
import { buildVirtDtb, type VirtDtbConfig } from '../../emulator/machine/virt_dtb.js';
import { MiB } from '../../emulator/machine/memmap.js';

const has = (cmd: string, arg: string): boolean => spawnSync(cmd, [arg], { encoding: 'utf8' }).status === 0;
const DTC = has('dtc', '--version');
const QEMU = has('qemu-system-riscv64', '--version');
const NO_DTC = 'dtc is not installed (apt-get install device-tree-compiler)';
const NO_QEMU = 'qemu-system-riscv64 is not installed (apt-get install qemu-system-misc)';

const dir = mkdtempSync(join(tmpdir(), 'kmemlab-dtc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const base: VirtDtbConfig = { harts: 4, dramSize: 256 * MiB, highmemSize: 256 * MiB, bootargs: 'console=ttyS0 earlycon=sbi' };

describe('dtc accepts our DTB', () => {
  for (const harts of [1, 4, 64]) {
    for (const highmemSize of [0, 256 * MiB]) {
      it(`decompiles ${harts} hart(s), highmem ${highmemSize / MiB} MiB without warnings`, (ctx) => {
        ctx.skip(!DTC, NO_DTC);
        const file = join(dir, `virt-${harts}-${highmemSize}.dtb`);
        writeFileSync(file, buildVirtDtb({ ...base, harts, highmemSize }));
        const r = run('dtc', ['-I', 'dtb', '-O', 'dts', file]);
        expect(r.stderr.trim()).toBe('');
        expect(r.status).toBe(0);

        const dts = r.stdout;
        for (let h = 0; h < harts; h++) {
          expect(dts).toContain(`\t\tcpu@${h.toString(16)} {`);
          expect(dts).toContain(`\t\t\t\tcore${h} {`);
        }
        expect(dts).not.toContain(`cpu@${harts.toString(16)} {`);
        for (const node of ['cpus', 'cpu-map', 'cluster0', 'memory@80000000', 'soc', 'clint@2000000', 'plic@c000000', 'serial@10000000', 'test@100000', 'dma-bus', 'dma-controller@10200000', 'poweroff', 'reboot', 'chosen']) {
          expect(dts).toMatch(new RegExp(`^\\t*${node} \\{$`, 'm'));
        }
        expect(dts.includes('memory@100000000 {')).toBe(highmemSize > 0);
        expect(dts).toContain('compatible = "riscv-virtio";');
        expect(dts).toContain('riscv,isa = "rv64imac_zicsr_zifencei";');
        expect(dts).toContain('compatible = "sifive,plic-1.0.0\\0riscv,plic0";');
        expect(dts).toContain('riscv,ndev = <0x5f>;');
        expect(dts).toContain(`bootargs = "${base.bootargs}";`);
        expect(dts).toContain('stdout-path = "/soc/serial@10000000";');
        expect(dts).toContain('reg = <0x00 0x80000000 0x00 0x10000000>;');
        // The DMA-limited bus: the default 16 MiB window, and the engine on it.
        expect(dts).toContain('dma-ranges = <0x00 0x80000000 0x00 0x80000000 0x00 0x1000000>;');
        expect(dts).toContain('compatible = "kmemlab,dma-engine";');
        expect(dts).toContain('reg = <0x00 0x10200000 0x00 0x1000>;');
        expect(dts).toContain('interrupts = <0x0c>;');
      });
    }
  }

  for (const dmaWindowSize of [4 * MiB, 256 * MiB]) {
    it(`decompiles a DMA window of ${dmaWindowSize / MiB} MiB without warnings`, (ctx) => {
      ctx.skip(!DTC, NO_DTC);
      const file = join(dir, `virt-dma-${dmaWindowSize}.dtb`);
      writeFileSync(file, buildVirtDtb({ ...base, dmaWindowSize }));
      const r = run('dtc', ['-I', 'dtb', '-O', 'dts', file]);
      expect(r.stderr.trim()).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(`dma-ranges = <0x00 0x80000000 0x00 0x80000000 0x00 0x${dmaWindowSize.toString(16)}>;`);
    });
  }

  it('parses dtc-written blobs of our tree back to the same tree', (ctx) => {
    ctx.skip(!DTC, NO_DTC);
    const ours = buildVirtDtb(base);
    const src = join(dir, 'roundtrip-in.dtb');
    const dts = join(dir, 'roundtrip.dts');
    const out = join(dir, 'roundtrip-out.dtb');
    writeFileSync(src, ours);
    // dtb → dtb (dtc's own layout: its own string table order) and dts → dtb.
    expect(run('dtc', ['-I', 'dtb', '-O', 'dtb', '-o', out, src]).status).toBe(0);
    expect(treeOf(parseFdt(readFileSync(out)))).toEqual(treeOf(parseFdt(ours)));
    expect(run('dtc', ['-I', 'dtb', '-O', 'dts', '-o', dts, src]).status).toBe(0);
    expect(run('dtc', ['-I', 'dts', '-O', 'dtb', '-o', out, dts]).status).toBe(0);
    expect(treeOf(parseFdt(readFileSync(out)))).toEqual(treeOf(parseFdt(ours)));
  });
});

/** A plain structure for deep equality: path → prop → hex bytes. */
function treeOf(root: FdtNode): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const n of root.walk()) {
    out[n.path] = Object.fromEntries([...n.props].map(([k, v]) => [k, Buffer.from(v).toString('hex')]));
  }
  return out;
}

/**
 * Where our blob and QEMU's are allowed to differ, and why. Everything else on
 * a node we both have must be equal (phandles compared by the node they name).
 */
const KNOWN_DIFFERENCES = {
  /** Properties whose values differ. */
  value: {
    model: 'ours is riscv-virtio,kmemlab; QEMU says riscv-virtio,qemu',
    'riscv,isa': 'our harts are rv64imac; QEMU defaults to rv64gc plus many extensions',
    'riscv,isa-extensions': 'follows riscv,isa (QEMU >= 8.2 only)',
    'mmu-type': 'we implement Sv39; QEMU defaults to Sv48 (7.x) or Sv57 (8.x+)',
    'riscv,ndev': 'QEMU before 8.0 wrote 96; 8.0+ writes 95 (VIRT_IRQCHIP_NUM_SOURCES - 1), as we do',
  } as Record<string, string>,
  /** Properties only we write, on nodes QEMU has too. */
  oursOnly: {
    'riscv,isa-base': 'QEMU >= 8.2 writes it too (riscv,isa-extensions binding); 7.x does not',
    'riscv,isa-extensions': 'as riscv,isa-base',
    '#address-cells': 'on the cpu interrupt controllers, so that dtc >= 1.6.1 does not warn (interrupt_provider)',
    bootargs: 'QEMU writes /chosen/bootargs only with -kernel and -append',
  } as Record<string, string>,
  /** Properties only QEMU writes, on nodes we have too. */
  qemuOnly: {
    'rng-seed': 'random bytes in /chosen: we stay deterministic',
    'riscv,cbom-block-size': 'Zicbom, which our harts do not implement',
    'riscv,cboz-block-size': 'Zicboz, which our harts do not implement',
    'riscv,cbop-block-size': 'Zicbop, which our harts do not implement',
  } as Record<string, string>,
  /** Nodes only we have. */
  oursOnlyNodes: {
    '/memory@100000000': 'our highmem bank; QEMU virt has one contiguous memory node',
    '/soc/dma-bus': 'the DMA-limited bus (dma-ranges = the DMA window): our own device',
    '/soc/dma-bus/dma-controller@10200000': 'our DMA engine (kmemlab,dma-engine), at an address QEMU virt leaves free',
  } as Record<string, string>,
};

/** Properties that hold phandles: compare the path of the node they name. */
function normalized(node: FdtNode, prop: string): unknown {
  const pathOf = (ph: number): string => node.byPhandle(ph)?.path ?? `<dangling ${ph}>`;
  switch (prop) {
    case 'interrupt-parent':
    case 'regmap':
    case 'cpu':
      return pathOf(node.u32(prop)!);
    case 'interrupts-extended': {
      const c = node.u32s(prop)!;
      const out: [string, number][] = [];
      for (let i = 0; i + 1 < c.length; i += 2) out.push([pathOf(c[i]!), c[i + 1]!]);
      return out;
    }
    default:
      return Buffer.from(node.props.get(prop)!).toString('hex');
  }
}

describe('QEMU virt agrees with our DTB', () => {
  for (const harts of [1, 4]) {
    it(`on every node we both have, ${harts} hart(s)`, async (ctx) => {
      ctx.skip(!QEMU, NO_QEMU);
      const file = join(dir, `qemu-${harts}.dtb`);
      const r = run('qemu-system-riscv64', ['-M', `virt,dumpdtb=${file}`, '-smp', String(harts), '-m', '256M', '-bios', 'none', '-display', 'none']);
      expect(r.status, r.stderr).toBe(0);
      const qemu = parseFdt(readFileSync(file));
      const ours = parseFdt(buildVirtDtb({ ...base, harts }));

      const problems: string[] = [];
      const notes: string[] = [];
      for (const node of ours.walk()) {
        const theirs = qemu.find(node.path);
        if (!theirs) {
          if (!(node.path in KNOWN_DIFFERENCES.oursOnlyNodes)) problems.push(`${node.path}: not in QEMU's tree`);
          continue;
        }
        for (const prop of new Set([...node.props.keys(), ...theirs.props.keys()])) {
          if (prop === 'phandle') continue; // numbers differ; references are compared by path
          const where = `${node.path} ${prop}`;
          if (!theirs.has(prop)) {
            if (!(prop in KNOWN_DIFFERENCES.oursOnly)) problems.push(`${where}: only ours`);
          } else if (!node.has(prop)) {
            if (prop in KNOWN_DIFFERENCES.qemuOnly) notes.push(`${where}: only QEMU's`);
            else problems.push(`${where}: only QEMU's`);
          } else if (JSON.stringify(normalized(node, prop)) !== JSON.stringify(normalized(theirs, prop))) {
            if (!(prop in KNOWN_DIFFERENCES.value)) {
              problems.push(`${where}: ours ${JSON.stringify(normalized(node, prop))}, QEMU ${JSON.stringify(normalized(theirs, prop))}`);
            }
          }
        }
      }
      const qemuOnlyNodes = [...qemu.walk()].filter((n) => !ours.find(n.path)).map((n) => n.path);
      await ctx.annotate(`QEMU-only nodes (devices we do not have): ${qemuOnlyNodes.join(', ')}`);
      if (notes.length) await ctx.annotate(`known QEMU-only properties: ${notes.join('; ')}`);
      expect(problems).toEqual([]);
    });
  }
});

const FW_JUMP = '/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf';
const UBOOT = '/usr/lib/u-boot/qemu-riscv64_smode/uboot.elf';

/** Run `cmd` until its output contains `marker` (then kill it) or `ms` pass; the output so far. */
function runUntil(cmd: string, args: string[], marker: string, ms: number): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const done = (): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve(out);
    };
    const timer = setTimeout(done, ms);
    const onData = (d: Buffer): void => {
      out += d.toString('utf8');
      if (out.includes(marker)) done();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', done);
  });
}

describe('real firmware reads our DTB on QEMU', () => {
  const qemuArgs = (dtb: string, extra: string[]): string[] => [
    '-M', 'virt', '-smp', '4', '-m', '256M', '-dtb', dtb, '-bios', FW_JUMP,
    '-display', 'none', '-monitor', 'none', '-serial', 'stdio', ...extra,
  ];

  it('OpenSBI fw_jump finds harts, console, timer, IPI and reset devices', async (ctx) => {
    ctx.skip(!QEMU, NO_QEMU);
    ctx.skip(!existsSync(FW_JUMP), `${FW_JUMP} is missing (apt-get install opensbi)`);
    const dtb = join(dir, 'opensbi.dtb');
    writeFileSync(dtb, buildVirtDtb({ ...base, highmemSize: 0 })); // QEMU's RAM is one bank
    const out = await runUntil('qemu-system-riscv64', qemuArgs(dtb, []), 'Boot HART MEDELEG', 30_000);
    expect(out).toMatch(/Platform Name\s*: riscv-virtio,kmemlab/);
    expect(out).toMatch(/Platform HART Count\s*: 4/);
    expect(out).toMatch(/Platform Console Device\s*: uart8250/);
    expect(out).toMatch(/Platform Timer Device\s*: aclint-mtimer @ 10000000Hz/);
    expect(out).toMatch(/Platform IPI Device\s*: aclint-mswi/);
    expect(out).toMatch(/Platform Shutdown Device\s*: sifive_test/);
    expect(out).toMatch(/Platform Reboot Device\s*: sifive_test/);
  });

  it('U-Boot (S-mode, after fw_jump) finds the model, ISA, DRAM and console', async (ctx) => {
    ctx.skip(!QEMU, NO_QEMU);
    ctx.skip(!existsSync(FW_JUMP), `${FW_JUMP} is missing (apt-get install opensbi)`);
    ctx.skip(!existsSync(UBOOT), `${UBOOT} is missing (apt-get install u-boot-qemu)`);
    const dtb = join(dir, 'uboot.dtb');
    writeFileSync(dtb, buildVirtDtb({ ...base, highmemSize: 0 }));
    const out = await runUntil('qemu-system-riscv64', qemuArgs(dtb, ['-kernel', UBOOT]), 'Hit any key', 30_000);
    expect(out).toMatch(/CPU:\s+rv64imac_zicsr_zifencei/);
    expect(out).toMatch(/Model: riscv-virtio,kmemlab/);
    expect(out).toMatch(/DRAM:\s+256 MiB/);
    expect(out).toMatch(/Out:\s+serial@10000000/);
  });
});
