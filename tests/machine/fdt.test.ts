import { describe, expect, it } from 'vitest';
import {
  FDT_END,
  FDT_MAGIC,
  FdtBuilder,
  FdtError,
  FdtNode,
  parseFdt,
  readFdtHeader,
  readFdtReservations,
} from '../../emulator/machine/fdt.js';
import { buildVirtDtb, dtbLoadAddress, splitIsa, VIRT_DEFAULT_ISA } from '../../emulator/machine/virt_dtb.js';
import { MiB } from '../../emulator/machine/memmap.js';

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

function sampleTree(): Uint8Array {
  const b = new FdtBuilder(3);
  b.addReservation(0x8000_0000, 0x20_0000).addReservation(0x1_0000_0000n, 0x1000n);
  const ph = b.allocPhandle();
  b.beginNode('');
  b.propU32('#address-cells', 2).propU32('#size-cells', 2).propString('compatible', 'acme,board', 'acme,generic');
  b.beginNode('intc@1000').propEmpty('interrupt-controller').propU32('#interrupt-cells', 1).propU32('phandle', ph).endNode();
  b.beginNode('dev@2000');
  b.propU64('reg', 0x2000, 0x100).propU32('interrupt-parent', ph).propU32('interrupts', 1, 2, 3);
  b.propBytes('mac-address', Uint8Array.from([1, 2, 3, 4, 5, 6])).propString('status', 'okay');
  b.beginNode('child').propString('label', 'x').endNode();
  b.endNode();
  b.endNode();
  return b.finish();
}

describe('FdtBuilder and parseFdt', () => {
  it('round-trips nodes and properties', () => {
    const root = parseFdt(sampleTree());
    expect(root.name).toBe('');
    expect(root.path).toBe('/');
    expect(root.children.map((c) => c.name)).toEqual(['intc@1000', 'dev@2000']);
    expect(root.strings('compatible')).toEqual(['acme,board', 'acme,generic']);
    const dev = root.find('/dev@2000')!;
    expect(dev.path).toBe('/dev@2000');
    expect(dev.u64s('reg')).toEqual([0x2000n, 0x100n]);
    expect(dev.u32s('reg')).toEqual([0, 0x2000, 0, 0x100]);
    expect(dev.u32s('interrupts')).toEqual([1, 2, 3]);
    expect(Array.from(dev.props.get('mac-address')!)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(dev.string('status')).toBe('okay');
    expect(dev.find('child')!.path).toBe('/dev@2000/child');
    expect(dev.find('/intc@1000')!.has('interrupt-controller')).toBe(true);
    expect(dev.byPhandle(dev.u32('interrupt-parent')!)!.name).toBe('intc@1000');
    expect(root.find('/nope')).toBeUndefined();
    expect(dev.u32('absent')).toBeUndefined();
    expect(() => dev.u32('interrupts')).toThrow(FdtError);
    expect(() => dev.string('reg')).toThrow(FdtError);
  });

  it('writes the header, alignment and block order of chapter 5', () => {
    const blob = sampleTree();
    const h = readFdtHeader(blob);
    expect(h.magic).toBe(FDT_MAGIC);
    expect(h.totalsize).toBe(blob.length);
    expect(h.version).toBe(17);
    expect(h.last_comp_version).toBe(16);
    expect(h.boot_cpuid_phys).toBe(3);
    expect(h.off_mem_rsvmap % 8).toBe(0);
    expect(h.off_mem_rsvmap).toBe(40);
    expect(h.off_dt_struct % 4).toBe(0);
    expect(h.size_dt_struct % 4).toBe(0);
    expect(h.off_dt_struct).toBe(h.off_mem_rsvmap + 16 * 3); // two entries and the terminator
    expect(h.off_dt_strings).toBe(h.off_dt_struct + h.size_dt_struct);
    expect(h.off_dt_strings + h.size_dt_strings).toBe(h.totalsize);
    const view = new DataView(blob.buffer);
    expect(view.getUint32(h.off_dt_struct + h.size_dt_struct - 4)).toBe(FDT_END);
    expect(readFdtReservations(blob)).toEqual([
      { address: 0x8000_0000n, size: 0x20_0000n },
      { address: 0x1_0000_0000n, size: 0x1000n },
    ]);
  });

  it('stores each property name once in the strings block', () => {
    const blob = sampleTree();
    const h = readFdtHeader(blob);
    const names = text(blob.subarray(h.off_dt_strings, h.off_dt_strings + h.size_dt_strings)).split('\0').slice(0, -1);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('#address-cells');
    expect(names).toContain('phandle');

    const many = new FdtBuilder().beginNode('');
    for (let i = 0; i < 50; i++) many.beginNode(`n@${i}`).propU32('reg', i).propString('compatible', 'x').endNode();
    const big = many.endNode().finish();
    const hb = readFdtHeader(big);
    expect(text(big.subarray(hb.off_dt_strings, hb.off_dt_strings + hb.size_dt_strings))).toBe('reg\0compatible\0');
    expect(parseFdt(big).children).toHaveLength(50);
  });

  it('pads node names and values to 4 bytes', () => {
    for (const name of ['a', 'ab', 'abc', 'abcd', 'abcde']) {
      const blob = new FdtBuilder().beginNode('').beginNode(name).propBytes('v', new TextEncoder().encode(name)).endNode().endNode().finish();
      const node = parseFdt(blob).child(name)!;
      expect(text(node.props.get('v')!)).toBe(name);
    }
  });

  it('allocates distinct phandles, skipping ones written by hand', () => {
    const b = new FdtBuilder().beginNode('');
    b.beginNode('a').propU32('phandle', 1).endNode();
    const p = b.allocPhandle();
    const q = b.allocPhandle();
    expect(p).toBe(2);
    expect(q).toBe(3);
    b.beginNode('b').propU32('phandle', p).endNode();
    expect(() => b.beginNode('c').propU32('phandle', 1)).toThrow(/already used/);
  });

  it('rejects misuse with an FdtError', () => {
    const root = (): FdtBuilder => new FdtBuilder().beginNode('');
    expect(() => new FdtBuilder().beginNode('x')).toThrow(/root node has an empty name/);
    expect(() => root().beginNode('bad name')).toThrow(/invalid node name/);
    expect(() => root().beginNode('a'.repeat(32))).toThrow(/invalid node name/);
    expect(() => root().propU32('bad name!', 1)).toThrow(/invalid property name/);
    expect(() => root().propU32('x', 1).propU32('x', 2)).toThrow(/duplicate property/);
    expect(() => root().beginNode('a').endNode().beginNode('a')).toThrow(/duplicate node \/a/);
    expect(() => root().beginNode('a').endNode().propU32('late', 1)).toThrow(/after a child node/);
    expect(() => root().endNode().beginNode('')).toThrow(/exactly one root/);
    expect(() => root().endNode().endNode()).toThrow(/without an open node/);
    expect(() => root().beginNode('a').finish()).toThrow(/node \/a is still open/);
    expect(() => new FdtBuilder().finish()).toThrow(/no root node/);
    expect(() => new FdtBuilder().propU32('x', 1)).toThrow(/outside any node/);
    expect(() => root().propU32('phandle', 0)).toThrow(/reserved/);
    expect(() => root().propU32('x', -1)).toThrow(/not a u32/);
    expect(() => root().propU32('x', 2 ** 32)).toThrow(/not a u32/);
    expect(() => root().propU64('x', -1n)).toThrow(/not a u64/);
    expect(() => root().propString('x', 'a\0b')).toThrow(/NUL/);
    expect(() => root().propString('x')).toThrow(/at least one string/);
    expect(() => new FdtBuilder().addReservation(0, 0)).toThrow(FdtError);
  });

  it('rejects malformed blobs with FdtError only, at every truncation', () => {
    const blob = sampleTree();
    for (let len = 0; len < blob.length; len++) {
      expect(() => parseFdt(blob.slice(0, len))).toThrow(FdtError);
    }
    const badMagic = blob.slice();
    badMagic[0] = 0;
    expect(() => parseFdt(badMagic)).toThrow(/bad magic/);
    const badToken = blob.slice();
    const h = readFdtHeader(blob);
    new DataView(badToken.buffer).setUint32(h.off_dt_struct, 0x77);
    expect(() => parseFdt(badToken)).toThrow(/unknown token 0x77/);
  });

  it('bounds the nesting depth', () => {
    const deep = (levels: number): Uint8Array => {
      const b = new FdtBuilder().beginNode('');
      for (let i = 0; i < levels; i++) b.beginNode('n');
      for (let i = 0; i <= levels; i++) b.endNode();
      return b.finish();
    };
    expect(parseFdt(deep(64)).find('/n/n/n')).toBeDefined();
    expect(() => parseFdt(deep(65))).toThrow(/deeper than 64/);
  });

  it('survives random corruption (FdtError or a tree, nothing else)', () => {
    const blob = sampleTree();
    let seed = 42;
    const rand = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let round = 0; round < 2000; round++) {
      const b = blob.slice();
      for (let k = 1 + rand(3); k > 0; k--) b[rand(b.length)] = rand(256);
      try {
        const root = parseFdt(b);
        expect(root).toBeInstanceOf(FdtNode);
      } catch (e) {
        expect(e).toBeInstanceOf(FdtError);
      }
    }
  });
});

const CFG = { harts: 4, dramSize: 256 * MiB, highmemSize: 256 * MiB, bootargs: 'console=ttyS0 earlycon' };

/** Resolve interrupts-extended into [node path of the controller, irq] pairs. */
function interruptsExtended(node: FdtNode): [string, number][] {
  const cells = node.u32s('interrupts-extended')!;
  const out: [string, number][] = [];
  for (let i = 0; i < cells.length; ) {
    const ctrl = node.byPhandle(cells[i]!);
    expect(ctrl, `phandle ${cells[i]} of ${node.path}`).toBeDefined();
    const n = ctrl!.u32('#interrupt-cells')!;
    expect(n).toBe(1);
    out.push([ctrl!.path, cells[i + 1]!]);
    i += 1 + n;
  }
  return out;
}

describe('buildVirtDtb', () => {
  for (const harts of [1, 4]) {
    for (const highmemSize of [0, 256 * MiB]) {
      it(`describes the board with ${harts} hart(s), highmem ${highmemSize / MiB} MiB`, () => {
        const blob = buildVirtDtb({ ...CFG, harts, highmemSize });
        const root = parseFdt(blob);
        expect(readFdtHeader(blob).boot_cpuid_phys).toBe(0);

        expect(root.u32('#address-cells')).toBe(2);
        expect(root.u32('#size-cells')).toBe(2);
        expect(root.string('compatible')).toBe('riscv-virtio');
        expect(root.string('model')).toMatch(/^riscv-virtio,/);
        const top = root.children.map((c) => c.name);
        expect(top).toEqual(
          ['cpus', 'memory@80000000', ...(highmemSize ? ['memory@100000000'] : []), 'soc', 'poweroff', 'reboot', 'chosen'],
        );

        // /cpus
        const cpus = root.find('/cpus')!;
        expect(cpus.u32('#address-cells')).toBe(1);
        expect(cpus.u32('#size-cells')).toBe(0);
        expect(cpus.u32('timebase-frequency')).toBe(10_000_000);
        expect(cpus.children.map((c) => c.name)).toEqual([...Array.from({ length: harts }, (_, h) => `cpu@${h}`), 'cpu-map']);
        for (let h = 0; h < harts; h++) {
          const cpu = cpus.child(`cpu@${h}`)!;
          expect(cpu.string('device_type')).toBe('cpu');
          expect(cpu.u32('reg')).toBe(h);
          expect(cpu.string('status')).toBe('okay');
          expect(cpu.string('compatible')).toBe('riscv');
          expect(cpu.string('riscv,isa')).toBe(VIRT_DEFAULT_ISA);
          expect(cpu.string('riscv,isa-base')).toBe('rv64i');
          expect(cpu.strings('riscv,isa-extensions')).toEqual(['i', 'm', 'a', 'c', 'zicsr', 'zifencei']);
          expect(cpu.string('mmu-type')).toBe('riscv,sv39');
          const intc = cpu.child('interrupt-controller')!;
          expect(intc.u32('#interrupt-cells')).toBe(1);
          expect(intc.string('compatible')).toBe('riscv,cpu-intc');
          expect(intc.has('interrupt-controller')).toBe(true);
          expect(intc.u32('phandle')).toBeGreaterThan(0);
          const core = root.find(`/cpus/cpu-map/cluster0/core${h}`)!;
          expect(root.byPhandle(core.u32('cpu')!)).toBe(cpu);
        }

        // memory
        expect(root.find('/memory@80000000')!.u64s('reg')).toEqual([0x8000_0000n, 256n * 0x10_0000n]);
        expect(root.find('/memory@80000000')!.string('device_type')).toBe('memory');
        if (highmemSize) {
          expect(root.find('/memory@100000000')!.u64s('reg')).toEqual([0x1_0000_0000n, 256n * 0x10_0000n]);
          expect(root.find('/memory@100000000')!.string('device_type')).toBe('memory');
        }

        // /soc
        const soc = root.find('/soc')!;
        expect(soc.string('compatible')).toBe('simple-bus');
        expect(soc.has('ranges')).toBe(true);
        expect(soc.props.get('ranges')!.length).toBe(0);
        expect(soc.children.map((c) => c.name)).toEqual(['clint@2000000', 'plic@c000000', 'serial@10000000', 'test@100000', 'dma-bus']);
        for (const dev of soc.children.filter((c) => c.name.includes('@'))) {
          // Unit address matches the first reg address (spec 2.2.1.1).
          expect(dev.name.split('@')[1]).toBe(dev.u64s('reg')![0]!.toString(16));
        }

        const intcOf = (h: number): string => `/cpus/cpu@${h}/interrupt-controller`;
        const clint = soc.child('clint@2000000')!;
        expect(clint.strings('compatible')).toEqual(['sifive,clint0', 'riscv,clint0']);
        expect(clint.u64s('reg')).toEqual([0x200_0000n, 0x1_0000n]);
        expect(interruptsExtended(clint)).toEqual(Array.from({ length: harts }, (_, h) => [[intcOf(h), 3], [intcOf(h), 7]]).flat());

        const plic = soc.child('plic@c000000')!;
        expect(plic.strings('compatible')).toEqual(['sifive,plic-1.0.0', 'riscv,plic0']);
        expect(plic.u64s('reg')).toEqual([0xc00_0000n, 0x60_0000n]);
        expect(plic.u32('riscv,ndev')).toBe(95);
        expect(plic.u32('#interrupt-cells')).toBe(1);
        expect(plic.u32('#address-cells')).toBe(0);
        expect(plic.has('interrupt-controller')).toBe(true);
        expect(interruptsExtended(plic)).toEqual(Array.from({ length: harts }, (_, h) => [[intcOf(h), 11], [intcOf(h), 9]]).flat());

        const uart = soc.child('serial@10000000')!;
        expect(uart.string('compatible')).toBe('ns16550a');
        expect(uart.u64s('reg')).toEqual([0x1000_0000n, 0x100n]);
        expect(uart.u32('clock-frequency')).toBe(3_686_400);
        expect(uart.u32('interrupts')).toBe(10);
        expect(root.byPhandle(uart.u32('interrupt-parent')!)).toBe(plic);

        const test = soc.child('test@100000')!;
        expect(test.strings('compatible')).toEqual(['sifive,test1', 'sifive,test0', 'syscon']);
        expect(test.u64s('reg')).toEqual([0x10_0000n, 0x1000n]);
        for (const [name, compatible, value] of [
          ['poweroff', 'syscon-poweroff', 0x5555],
          ['reboot', 'syscon-reboot', 0x7777],
        ] as const) {
          const n = root.child(name)!;
          expect(n.string('compatible')).toBe(compatible);
          expect(root.byPhandle(n.u32('regmap')!)).toBe(test);
          expect(n.u32('offset')).toBe(0);
          expect(n.u32('value')).toBe(value);
        }

        // /chosen
        const chosen = root.find('/chosen')!;
        expect(chosen.string('bootargs')).toBe(CFG.bootargs);
        expect(chosen.string('stdout-path')).toBe('/soc/serial@10000000');
        expect(root.find(chosen.string('stdout-path')!)).toBe(uart);

        // Phandles are unique.
        const phandles = [...root.walk()].map((n) => n.u32('phandle')).filter((p) => p !== undefined);
        expect(new Set(phandles).size).toBe(phandles.length);
        expect(phandles).toHaveLength(2 * harts + 2);
      });
    }
  }

  it('builds 64 harts', () => {
    const root = parseFdt(buildVirtDtb({ ...CFG, harts: 64 }));
    expect(root.find('/cpus/cpu@3f')!.u32('reg')).toBe(63);
    expect(root.find('/cpus/cpu-map/cluster0/core63')).toBeDefined();
    expect(root.find('/soc/plic@c000000')!.u32s('interrupts-extended')).toHaveLength(64 * 4);
  });

  it('takes cfg.isa and omits empty bootargs', () => {
    const root = parseFdt(buildVirtDtb({ ...CFG, bootargs: '', isa: 'rv64gc_zba' }));
    const cpu = root.find('/cpus/cpu@0')!;
    expect(cpu.string('riscv,isa')).toBe('rv64gc_zba');
    expect(cpu.strings('riscv,isa-extensions')).toEqual(['i', 'm', 'a', 'f', 'd', 'c', 'zicsr', 'zifencei', 'zba']);
    expect(root.find('/chosen')!.has('bootargs')).toBe(false);
  });

  it('rejects impossible configurations', () => {
    expect(() => buildVirtDtb({ ...CFG, harts: 0 })).toThrow(RangeError);
    expect(() => buildVirtDtb({ ...CFG, harts: 65 })).toThrow(RangeError);
    expect(() => buildVirtDtb({ ...CFG, dramSize: 0 })).toThrow(RangeError);
    expect(() => buildVirtDtb({ ...CFG, dramSize: 2048 * MiB })).toThrow(RangeError);
    expect(() => buildVirtDtb({ ...CFG, highmemSize: -1 })).toThrow(RangeError);
    expect(() => buildVirtDtb({ ...CFG, isa: 'rv32imac' })).toThrow(/not of the form/);
    expect(() => buildVirtDtb({ ...CFG, isa: 'RV64IMAC' })).toThrow(/not of the form/);
  });
});

describe('splitIsa', () => {
  it('splits single-letter and multi-letter extensions', () => {
    expect(splitIsa('rv64imac_zicsr_zifencei')).toEqual({ base: 'rv64i', extensions: ['i', 'm', 'a', 'c', 'zicsr', 'zifencei'] });
    expect(splitIsa('rv64emc')).toEqual({ base: 'rv64e', extensions: ['e', 'm', 'c'] });
    expect(splitIsa('rv64gc_zicsr')).toEqual({ base: 'rv64i', extensions: ['i', 'm', 'a', 'f', 'd', 'c', 'zicsr', 'zifencei'] });
  });
});

describe('dtbLoadAddress', () => {
  it('is the end of DRAM minus the blob, aligned down to 2 MiB, as QEMU virt', () => {
    expect(dtbLoadAddress(256 * MiB, 0x1000)).toBe(0x8fe0_0000);
    expect(dtbLoadAddress(256 * MiB, 2 * MiB)).toBe(0x8fe0_0000);
    expect(dtbLoadAddress(256 * MiB, 2 * MiB + 1)).toBe(0x8fc0_0000);
    expect(dtbLoadAddress(1024 * MiB, 0x2000)).toBe(0xbfe0_0000);
    expect(dtbLoadAddress(128 * MiB + 1 * MiB, 0x1000)).toBe(0x8800_0000);
  });

  it('rejects a blob that does not fit', () => {
    expect(dtbLoadAddress(1 * MiB, 0x1000)).toBe(0x8000_0000); // QEMU would do the same
    expect(() => dtbLoadAddress(1 * MiB, 2 * MiB)).toThrow(RangeError);
    expect(() => dtbLoadAddress(256 * MiB, 0)).toThrow(RangeError);
  });
});
