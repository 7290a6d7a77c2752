/**
 * The device tree of our board, written the way QEMU's `virt` machine writes
 * its own (hw/riscv/virt.c create_fdt and friends, QEMU 8.x/9.x), so that
 * OpenSBI, U-Boot, Linux and our kernel find the same nodes on both.
 *
 *   /                         #address-cells = #size-cells = 2
 *   ├── cpus                  timebase-frequency, #address-cells = 1, #size-cells = 0
 *   │   ├── cpu@N             one per hart, phandle used by cpu-map
 *   │   │   └── interrupt-controller   riscv,cpu-intc, the target of every
 *   │   │                              interrupts-extended below
 *   │   └── cpu-map/cluster0/coreN     cpu = <&cpuN>
 *   ├── memory@80000000       low DRAM
 *   ├── memory@100000000      high DRAM (only when highmemSize > 0)
 *   ├── soc                   simple-bus, ranges (identity)
 *   │   ├── clint@2000000     <intc 3 intc 7> per hart (M soft, M timer)
 *   │   ├── plic@c000000      <intc 11 intc 9> per hart (M ext, S ext)
 *   │   ├── serial@10000000   ns16550a, interrupts = <10> via the PLIC
 *   │   ├── test@100000       sifive,test0 syscon
 *   │   └── dma-bus           simple-bus, ranges (identity), dma-ranges = the DMA window
 *   │       └── dma-controller@10200000   kmemlab,dma-engine, interrupts = <12> via the PLIC
 *   ├── poweroff, reboot      syscon-poweroff / syscon-reboot on test@100000
 *   └── chosen                bootargs, stdout-path
 *
 * Differences from QEMU's own blob are deliberate and listed in
 * tests/interop/dtc.test.ts, which compares the two when QEMU is installed.
 */

import { IRQ_M_EXT, IRQ_M_SOFT, IRQ_M_TIMER, IRQ_S_EXT } from '../cpu/riscv/csr.js';
import { FINISHER_PASS, FINISHER_RESET } from '../devices/test_finisher.js';
import { FdtBuilder } from './fdt.js';
import {
  DMA_DEFAULT_LIMIT,
  DRAM_MAX_SIZE,
  GiB,
  HIGHMEM_MAX_SIZE,
  MAX_HARTS,
  MiB,
  TIMEBASE_FREQ,
  VIRT_CLINT_BASE,
  VIRT_CLINT_SIZE,
  VIRT_DMA_BASE,
  VIRT_DMA_IRQ,
  VIRT_DMA_SIZE,
  VIRT_DRAM_BASE,
  VIRT_HIGHMEM_BASE,
  VIRT_PLIC_BASE,
  VIRT_PLIC_NDEV,
  VIRT_PLIC_SIZE,
  VIRT_TEST_BASE,
  VIRT_TEST_SIZE,
  VIRT_UART0_BASE,
  VIRT_UART0_CLOCK,
  VIRT_UART0_IRQ,
  VIRT_UART0_SIZE,
} from './memmap.js';

export interface VirtDtbConfig {
  /** Number of harts, 1..MAX_HARTS; hart N is cpu@N. */
  harts: number;
  /** Low DRAM at VIRT_DRAM_BASE, bytes. */
  dramSize: number;
  /** High DRAM at VIRT_HIGHMEM_BASE, bytes; 0 = no second memory node. */
  highmemSize: number;
  /**
   * Bytes of low DRAM the DMA engine reaches, from VIRT_DRAM_BASE (the
   * `dma-ranges` of /soc/dma-bus); default DMA_DEFAULT_LIMIT clipped to dramSize.
   */
  dmaWindowSize?: number;
  /** Kernel command line; omitted from /chosen when empty, as QEMU does. */
  bootargs: string;
  /** `riscv,isa` of every hart; default VIRT_DEFAULT_ISA. */
  isa?: string;
}

/** What our harts implement. */
export const VIRT_DEFAULT_ISA = 'rv64imac_zicsr_zifencei';
export const VIRT_MODEL = 'riscv-virtio,kmemlab';
export const VIRT_COMPATIBLE = 'riscv-virtio';
export const VIRT_MMU_TYPE = 'riscv,sv39';
/** The PLIC's #interrupt-cells and #address-cells (QEMU FDT_PLIC_INT_CELLS, FDT_PLIC_ADDR_CELLS). */
const PLIC_INT_CELLS = 1;
const PLIC_ADDR_CELLS = 0;

export const UART0_PATH = `/soc/serial@${VIRT_UART0_BASE.toString(16)}`;
export const DMA_BUS_PATH = '/soc/dma-bus';
export const DMA_ENGINE_PATH = `${DMA_BUS_PATH}/dma-controller@${VIRT_DMA_BASE.toString(16)}`;
export const DMA_ENGINE_COMPATIBLE = 'kmemlab,dma-engine';

/**
 * The parts of a RISC-V ISA string (riscv,isa) as the devicetree binding
 * Documentation/devicetree/bindings/riscv/extensions.yaml splits them:
 * `riscv,isa-base` ("rv64i") and `riscv,isa-extensions` (["i", "m", …, "zicsr"]).
 */
export function splitIsa(isa: string): { base: string; extensions: string[] } {
  const m = /^rv64([a-z]+)((?:_[a-z][a-z0-9]*)*)$/.exec(isa);
  if (!m || !/^[ieg]/.test(m[1]!)) {
    throw new RangeError(`ISA string "${isa}" is not of the form rv64i…[_zext…] (lower case)`);
  }
  const single = [...m[1]!.replace('g', 'imafd')];
  const multi = m[2]!.split('_').filter((s) => s.length > 0);
  if (m[1]!.includes('g')) multi.unshift('zicsr', 'zifencei');
  const extensions = [...new Set([...single, ...multi])];
  return { base: single[0] === 'e' ? 'rv64e' : 'rv64i', extensions };
}

/** Build the DTB for a board with `cfg`. Throws RangeError on an impossible config. */
export function buildVirtDtb(cfg: VirtDtbConfig): Uint8Array {
  const { harts, dramSize, highmemSize, bootargs } = cfg;
  if (!Number.isInteger(harts) || harts < 1 || harts > MAX_HARTS) throw new RangeError(`harts must be 1..${MAX_HARTS}, not ${harts}`);
  if (!Number.isInteger(dramSize) || dramSize <= 0 || dramSize > DRAM_MAX_SIZE) throw new RangeError(`dramSize must be 1..${DRAM_MAX_SIZE}, not ${dramSize}`);
  if (!Number.isInteger(highmemSize) || highmemSize < 0 || highmemSize > HIGHMEM_MAX_SIZE) throw new RangeError(`highmemSize must be 0..${HIGHMEM_MAX_SIZE}, not ${highmemSize}`);
  const dmaWindowSize = cfg.dmaWindowSize ?? Math.min(DMA_DEFAULT_LIMIT, dramSize);
  if (!Number.isInteger(dmaWindowSize) || dmaWindowSize <= 0 || dmaWindowSize > dramSize) {
    throw new RangeError(`dmaWindowSize must be 1..dramSize (${dramSize}), not ${dmaWindowSize}`);
  }
  const isa = cfg.isa ?? VIRT_DEFAULT_ISA;
  const { base: isaBase, extensions } = splitIsa(isa);

  const b = new FdtBuilder();
  const at = (v: number): string => v.toString(16);

  // Phandles first, so every reference is known when its property is written.
  const cpuPh = Array.from({ length: harts }, () => b.allocPhandle());
  const intcPh = Array.from({ length: harts }, () => b.allocPhandle());
  const plicPh = b.allocPhandle();
  const testPh = b.allocPhandle();

  b.beginNode('');
  b.propU32('#address-cells', 2);
  b.propU32('#size-cells', 2);
  b.propString('compatible', VIRT_COMPATIBLE);
  b.propString('model', VIRT_MODEL);

  // /cpus (Devicetree spec 3.7, 3.8; riscv/cpus.yaml).
  b.beginNode('cpus');
  b.propU32('#address-cells', 1);
  b.propU32('#size-cells', 0);
  b.propU32('timebase-frequency', TIMEBASE_FREQ);
  for (let h = 0; h < harts; h++) {
    b.beginNode(`cpu@${at(h)}`);
    b.propU32('phandle', cpuPh[h]!);
    b.propString('device_type', 'cpu');
    b.propU32('reg', h);
    b.propString('status', 'okay');
    b.propString('compatible', 'riscv');
    b.propString('riscv,isa', isa);
    b.propString('riscv,isa-base', isaBase);
    b.propString('riscv,isa-extensions', ...extensions);
    b.propString('mmu-type', VIRT_MMU_TYPE);
    b.beginNode('interrupt-controller');
    b.propU32('#interrupt-cells', 1);
    // Not in QEMU's blob; dtc >= 1.6.1 warns about an interrupt provider without it.
    b.propU32('#address-cells', 0);
    b.propEmpty('interrupt-controller');
    b.propString('compatible', 'riscv,cpu-intc');
    b.propU32('phandle', intcPh[h]!);
    b.endNode();
    b.endNode();
  }
  b.beginNode('cpu-map').beginNode('cluster0');
  for (let h = 0; h < harts; h++) b.beginNode(`core${h}`).propU32('cpu', cpuPh[h]!).endNode();
  b.endNode().endNode();
  b.endNode(); // cpus

  // Memory (spec 3.4).
  b.beginNode(`memory@${at(VIRT_DRAM_BASE)}`);
  b.propString('device_type', 'memory');
  b.propU64('reg', VIRT_DRAM_BASE, dramSize);
  b.endNode();
  if (highmemSize > 0) {
    b.beginNode(`memory@${at(VIRT_HIGHMEM_BASE)}`);
    b.propString('device_type', 'memory');
    b.propU64('reg', VIRT_HIGHMEM_BASE, highmemSize);
    b.endNode();
  }

  // /soc: the devices, physical addresses one to one (empty ranges, spec 2.3.8).
  b.beginNode('soc');
  b.propU32('#address-cells', 2);
  b.propU32('#size-cells', 2);
  b.propString('compatible', 'simple-bus');
  b.propEmpty('ranges');

  b.beginNode(`clint@${at(VIRT_CLINT_BASE)}`);
  b.propString('compatible', 'sifive,clint0', 'riscv,clint0');
  b.propU64('reg', VIRT_CLINT_BASE, VIRT_CLINT_SIZE);
  b.propU32('interrupts-extended', ...intcPh.flatMap((ph) => [ph, IRQ_M_SOFT, ph, IRQ_M_TIMER]));
  b.endNode();

  b.beginNode(`plic@${at(VIRT_PLIC_BASE)}`);
  b.propU32('#interrupt-cells', PLIC_INT_CELLS);
  b.propU32('#address-cells', PLIC_ADDR_CELLS);
  b.propString('compatible', 'sifive,plic-1.0.0', 'riscv,plic0');
  b.propEmpty('interrupt-controller');
  b.propU32('interrupts-extended', ...intcPh.flatMap((ph) => [ph, IRQ_M_EXT, ph, IRQ_S_EXT]));
  b.propU64('reg', VIRT_PLIC_BASE, VIRT_PLIC_SIZE);
  b.propU32('riscv,ndev', VIRT_PLIC_NDEV);
  b.propU32('phandle', plicPh);
  b.endNode();

  b.beginNode(`serial@${at(VIRT_UART0_BASE)}`);
  b.propString('compatible', 'ns16550a');
  b.propU64('reg', VIRT_UART0_BASE, VIRT_UART0_SIZE);
  b.propU32('clock-frequency', VIRT_UART0_CLOCK);
  b.propU32('interrupt-parent', plicPh);
  b.propU32('interrupts', VIRT_UART0_IRQ);
  b.endNode();

  b.beginNode(`test@${at(VIRT_TEST_BASE)}`);
  b.propString('compatible', 'sifive,test1', 'sifive,test0', 'syscon');
  b.propU64('reg', VIRT_TEST_BASE, VIRT_TEST_SIZE);
  b.propU32('phandle', testPh);
  b.endNode();

  // The DMA-limited bus (spec 2.3.9 dma-ranges: child address, parent
  // address, length): the engine behind it reaches only low DRAM's first
  // dmaWindowSize bytes. Its registers are not limited: empty ranges.
  b.beginNode('dma-bus');
  b.propU32('#address-cells', 2);
  b.propU32('#size-cells', 2);
  b.propString('compatible', 'simple-bus');
  b.propEmpty('ranges');
  b.propU64('dma-ranges', VIRT_DRAM_BASE, VIRT_DRAM_BASE, dmaWindowSize);
  b.beginNode(`dma-controller@${at(VIRT_DMA_BASE)}`);
  b.propString('compatible', DMA_ENGINE_COMPATIBLE);
  b.propU64('reg', VIRT_DMA_BASE, VIRT_DMA_SIZE);
  b.propU32('interrupt-parent', plicPh);
  b.propU32('interrupts', VIRT_DMA_IRQ);
  b.endNode();
  b.endNode(); // dma-bus
  b.endNode(); // soc

  // The finisher as syscon reboot / poweroff (bindings power/reset/syscon-*.yaml).
  b.beginNode('poweroff');
  b.propString('compatible', 'syscon-poweroff');
  b.propU32('regmap', testPh);
  b.propU32('offset', 0);
  b.propU32('value', FINISHER_PASS);
  b.endNode();
  b.beginNode('reboot');
  b.propString('compatible', 'syscon-reboot');
  b.propU32('regmap', testPh);
  b.propU32('offset', 0);
  b.propU32('value', FINISHER_RESET);
  b.endNode();

  // /chosen (spec 3.6).
  b.beginNode('chosen');
  if (bootargs.length > 0) b.propString('bootargs', bootargs);
  b.propString('stdout-path', UART0_PATH);
  b.endNode();

  b.endNode(); // root
  return b.finish();
}

/** 3 GiB: QEMU keeps the DTB below it so that 32-bit code can reach it. */
const FDT_LIMIT_32BIT = 3 * GiB;
const FDT_ALIGN = 2 * MiB;

/**
 * Where QEMU virt puts the DTB (hw/riscv/boot.c riscv_compute_fdt_addr, QEMU
 * 8.0–9.0): the end of low DRAM or 3 GiB, whichever is lower, minus the blob,
 * aligned down to 2 MiB. With DRAM at 2 GiB and at most 1 GiB of it the two
 * limits agree, so later QEMU (which drops the 3 GiB cap for RV64) gives the
 * same address.
 */
export function dtbLoadAddress(dramSize: number, dtbSize: number): number {
  const dramEnd = VIRT_DRAM_BASE + dramSize;
  const top = VIRT_DRAM_BASE < FDT_LIMIT_32BIT ? Math.min(dramEnd, FDT_LIMIT_32BIT) : dramEnd;
  const addr = Math.floor((top - dtbSize) / FDT_ALIGN) * FDT_ALIGN;
  if (dtbSize <= 0 || addr < VIRT_DRAM_BASE) throw new RangeError(`a DTB of ${dtbSize} bytes does not fit ${dramSize} bytes of DRAM`);
  return addr;
}
