/**
 * The board: wires harts, RAM, devices and the device tree, loads images, and
 * runs the harts. It only wires and boots; the CPU, the MMU, the devices and
 * the DTB live in their own modules.
 *
 * Scheduling and time
 * -------------------
 * Harts run interleaved on one JS thread in fixed quanta (QUANTUM instructions
 * each, in hart order), so a run is deterministic: the same images, options
 * and console input give the same instruction count and output. After every
 * round `mtime` advances by QUANTUM / insnsPerTick ticks: time follows
 * executed instructions, not the host clock. A hart in WFI is skipped until
 * an interrupt is pending for it; when every hart waits, time jumps to the
 * next timer deadline or DMA completion. The DMA engine is advanced by the
 * same ticks as the CLINT, right after it.
 *
 * Boot (as QEMU virt): every hart starts in M-mode at the reset vector in the
 * reset ROM (0x1000) with a0 = mhartid, a1 = DTB address, a2 = address of a
 * fw_dynamic_info record, and jumps to the firmware (or, with no firmware, to
 * the kernel) entry.
 */

import { Hart, type HartEnv } from '../cpu/riscv/hart.js';
import { IRQ_M_EXT, IRQ_M_SOFT, IRQ_M_TIMER, IRQ_S_EXT } from '../cpu/riscv/csr.js';
import { DeviceMap, type Device, type IrqLine } from './bus.js';
import { PhysMemory } from './ram.js';
import {
  DEFAULT_HARTS, DMA_DEFAULT_LIMIT, DRAM_DEFAULT_SIZE, DRAM_MAX_SIZE, HIGHMEM_DEFAULT_SIZE, HIGHMEM_MAX_SIZE, KERNEL_LOAD_ADDR,
  MAX_HARTS, PAGE_SIZE, VIRT_CLINT_BASE, VIRT_CLINT_SIZE, VIRT_DRAM_BASE, VIRT_HIGHMEM_BASE, VIRT_MROM_BASE,
  VIRT_MROM_SIZE, VIRT_PLIC_BASE, VIRT_PLIC_NDEV, VIRT_PLIC_SIZE, VIRT_TEST_BASE, VIRT_TEST_SIZE,
  VIRT_UART0_BASE, VIRT_UART0_IRQ, VIRT_UART0_SIZE, VIRT_DMA_BASE, VIRT_DMA_IRQ, VIRT_DMA_SIZE,
} from './memmap.js';
import { Clint } from '../devices/clint.js';
import { Plic } from '../devices/plic.js';
import { Uart16550 } from '../devices/uart16550.js';
import { TestFinisher } from '../devices/test_finisher.js';
import { DmaEngine } from '../devices/dma.js';
import { buildVirtDtb, dtbLoadAddress } from './virt_dtb.js';
import { ImageError, isElf, parseElf, type ElfImage } from './elf.js';
import { findHtif, planLoad, rawImage } from './loader.js';
import { Htif } from './htif.js';

/** Instructions each hart runs before the next hart's turn. */
export const QUANTUM = 1000;
/** Default instructions per mtime tick: 10 MHz timebase, 100 MHz virtual harts. */
export const DEFAULT_INSNS_PER_TICK = 10;

export class MachineError extends Error {}

export interface ImageFile {
  name: string;
  bytes: Uint8Array;
}

export interface MachineOptions {
  harts?: number;
  dramSize?: number;
  highmemSize?: number;
  /** Bytes of low DRAM the DMA engine reaches from its start (default 16 MiB, clipped to dramSize). */
  dmaLimit?: number;
  /** Firmware loaded at the start of DRAM; undefined = none. */
  bios?: ImageFile;
  /** Kernel: at 0x8020_0000 behind firmware, or started directly with no firmware. */
  kernel?: ImageFile;
  append?: string;
  /** Console output, one byte at a time. */
  output?: (byte: number) => void;
  insnsPerTick?: number;
}

export type ExitKind = 'pass' | 'fail' | 'reset';
export interface ExitState {
  kind: ExitKind;
  code: number;
  /** Who ended the run: the test finisher or HTIF tohost. */
  via: 'finisher' | 'htif';
}

export type StopReason = 'exit' | 'limit' | 'idle' | 'break';

export class Machine implements HartEnv {
  readonly mem: PhysMemory;
  readonly harts: Hart[] = [];
  readonly devices = new DeviceMap();
  readonly clint: Clint;
  readonly plic: Plic;
  readonly uart: Uart16550;
  readonly finisher: TestFinisher;
  readonly dma: DmaEngine;
  readonly dtb: Uint8Array;
  readonly dtbAddr: number;
  readonly entry: bigint;
  readonly insnsPerTick: number;
  readonly images: { name: string; elf?: ElfImage; loadAddr: number }[] = [];
  htif: Htif | undefined;
  exit: ExitState | undefined;
  /** The hart whose debugger stop made run() return 'break'. */
  debugHart: Hart | undefined;
  /** Total instructions executed by all harts (trapping ones included). */
  insns = 0;
  private readonly output: (byte: number) => void;
  /** Whose turn it is, how much of it is left, and whether any hart ran this round. */
  private turn = 0;
  private turnLeft = QUANTUM;
  private roundRan = false;
  /** Instructions not yet turned into whole mtime ticks. */
  private tickRemainder = 0;
  /** Number of harts holding an LR reservation (fast exit for observeStore). */
  private reservations = 0;

  constructor(opts: MachineOptions) {
    const nHarts = opts.harts ?? DEFAULT_HARTS;
    const dramSize = opts.dramSize ?? DRAM_DEFAULT_SIZE;
    const highmemSize = opts.highmemSize ?? HIGHMEM_DEFAULT_SIZE;
    if (!Number.isInteger(nHarts) || nHarts < 1 || nHarts > MAX_HARTS) {
      throw new MachineError(`hart count ${nHarts} is out of range: kmemlab supports 1 to ${MAX_HARTS} harts`);
    }
    if (!Number.isInteger(dramSize) || dramSize < 2 * 1024 * 1024 || dramSize > DRAM_MAX_SIZE || dramSize % PAGE_SIZE) {
      throw new MachineError(`memory size ${dramSize} is out of range: low DRAM takes 2 MiB to 1 GiB, in whole pages`);
    }
    if (!Number.isInteger(highmemSize) || highmemSize < 0 || highmemSize > HIGHMEM_MAX_SIZE || highmemSize % PAGE_SIZE) {
      throw new MachineError(`highmem size ${highmemSize} is out of range: 0 (none) to 2 GiB, in whole pages`);
    }
    const dmaLimit = opts.dmaLimit ?? Math.min(DMA_DEFAULT_LIMIT, dramSize);
    if (!Number.isInteger(dmaLimit) || dmaLimit <= 0 || dmaLimit > dramSize) {
      throw new MachineError(`DMA limit ${dmaLimit} is out of range: 1 byte to the low DRAM size (${dramSize})`);
    }
    this.output = opts.output ?? (() => {});
    this.insnsPerTick = opts.insnsPerTick ?? DEFAULT_INSNS_PER_TICK;
    if (!Number.isInteger(this.insnsPerTick) || this.insnsPerTick < 1) {
      throw new MachineError(`instructions per timer tick must be a whole number >= 1, not ${this.insnsPerTick}`);
    }
    this.mem = new PhysMemory([
      { name: 'mrom', base: VIRT_MROM_BASE, size: VIRT_MROM_SIZE, readOnly: true },
      { name: 'dram', base: VIRT_DRAM_BASE, size: dramSize },
      { name: 'highmem', base: VIRT_HIGHMEM_BASE, size: highmemSize },
    ]);
    for (let i = 0; i < nHarts; i++) {
      const h = new Hart(i, this);
      h.mmu.storeWatch = (pageOff) => this.storeWatched(h, pageOff);
      h.mmu.pteStored = (off) => this.observeStore(h, off, 8);
      this.harts.push(h);
    }
    const line = (h: Hart, bit: number): IrqLine => h.irqLine(bit);
    this.clint = new Clint(nHarts, this.harts.map((h) => line(h, IRQ_M_SOFT)), this.harts.map((h) => line(h, IRQ_M_TIMER)));
    const contexts: IrqLine[] = [];
    for (const h of this.harts) contexts.push(line(h, IRQ_M_EXT), line(h, IRQ_S_EXT));
    this.plic = new Plic(nHarts, VIRT_PLIC_NDEV, contexts);
    this.uart = new Uart16550(this.plic.source(VIRT_UART0_IRQ), (b) => this.output(b));
    this.finisher = new TestFinisher((kind, code) => this.finish({ kind, code, via: 'finisher' }));
    this.dma = new DmaEngine(this.plic.source(VIRT_DMA_IRQ), this.mem, {
      windowBase: VIRT_DRAM_BASE,
      windowSize: dmaLimit,
      wrote: (paddr, len) => this.hostWrote(paddr, len),
    });
    this.devices.add(VIRT_TEST_BASE, VIRT_TEST_SIZE, this.finisher);
    this.devices.add(VIRT_CLINT_BASE, VIRT_CLINT_SIZE, this.clint);
    this.devices.add(VIRT_PLIC_BASE, VIRT_PLIC_SIZE, this.plic);
    this.devices.add(VIRT_UART0_BASE, VIRT_UART0_SIZE, this.uart);
    this.devices.add(VIRT_DMA_BASE, VIRT_DMA_SIZE, this.dma);

    // Images: firmware at the start of DRAM, the kernel behind it (or alone).
    let entry: bigint;
    let kernelEntry: bigint | undefined;
    if (opts.kernel) {
      const k = this.load(opts.kernel, opts.bios ? KERNEL_LOAD_ADDR : VIRT_DRAM_BASE);
      kernelEntry = k;
    }
    if (opts.bios) {
      entry = this.load(opts.bios, VIRT_DRAM_BASE);
    } else if (kernelEntry !== undefined) {
      entry = kernelEntry;
    } else {
      throw new MachineError('nothing to run: give a firmware (--bios FILE) or a kernel (--kernel FILE)');
    }
    this.entry = entry;
    this.dtb = buildVirtDtb({ harts: nHarts, dramSize, highmemSize, dmaWindowSize: dmaLimit, bootargs: opts.append ?? '' });
    this.dtbAddr = dtbLoadAddress(dramSize, this.dtb.length);
    for (const img of this.images) {
      const segs = img.elf ? img.elf.segments : [];
      for (const s of segs) {
        if (this.dtbAddr < s.paddr + s.memsz && s.paddr < this.dtbAddr + this.dtb.length) {
          throw new MachineError(`${img.name}: segment at 0x${s.paddr.toString(16)} overlaps the device tree at 0x${this.dtbAddr.toString(16)}; give the machine more memory (--mem)`);
        }
      }
    }
    this.mem.writeBytes(this.dtbAddr, this.dtb);
    this.writeResetRom(entry, kernelEntry ?? BigInt(KERNEL_LOAD_ADDR), opts.bios !== undefined);
    for (const h of this.harts) h.reset(BigInt(VIRT_MROM_BASE));
  }

  /** Load an ELF (each PT_LOAD at its physical address) or a raw image at `rawAddr`. */
  private load(file: ImageFile, rawAddr: number): bigint {
    let image: ElfImage;
    if (isElf(file.bytes)) {
      image = parseElf(file.bytes, file.name);
    } else {
      if (file.bytes.length === 0) throw new ImageError(`${file.name}: the file is empty; give a RISC-V ELF or raw binary image`);
      image = rawImage(file.bytes, rawAddr, file.name);
    }
    // Images go to DRAM only (never over the reset ROM).
    const dram = this.mem.banks.filter((b) => !b.readOnly);
    planLoad(image, { contains: (pa, len) => dram.some((b) => pa >= b.base && pa + len <= b.base + b.size), banks: dram }, file.name);
    for (const prev of this.images) {
      for (const a of image.segments) {
        for (const b of prev.elf?.segments ?? []) {
          if (a.paddr < b.paddr + b.memsz && b.paddr < a.paddr + a.memsz) {
            throw new ImageError(`${file.name}: segment at 0x${a.paddr.toString(16)} overlaps ${prev.name}'s segment at 0x${b.paddr.toString(16)}; link the kernel above the firmware (0x80200000) or load only one of them`);
          }
        }
      }
    }
    for (const s of image.segments) {
      this.mem.writeBytes(s.paddr, s.data);
      // memsz beyond filesz is already zero: the buffer starts zero-filled.
    }
    this.images.push({ name: file.name, elf: image, loadAddr: rawAddr });
    const htif = findHtif(image, file.name);
    if (htif && !this.htif) {
      this.htif = new Htif(this.mem, htif.tohost, htif.fromhost, {
        output: (b) => this.output(b),
        exit: (code) => this.finish({ kind: code === 0 ? 'pass' : 'fail', code, via: 'htif' }),
      });
    }
    return image.entry;
  }

  /** The reset ROM of QEMU virt (hw/riscv/boot.c riscv_setup_rom_reset_vec). */
  private writeResetRom(start: bigint, nextAddr: bigint, hasFirmware: boolean): void {
    const rom = new DataView(new ArrayBuffer(0x60));
    const code = [
      0x00000297, // auipc t0, 0
      0x02828613, // addi  a2, t0, 40      (&fw_dynamic_info)
      0xf1402573, // csrr  a0, mhartid
      0x0202b583, // ld    a1, 32(t0)      (DTB address)
      0x0182b283, // ld    t0, 24(t0)      (start address)
      0x00028067, // jr    t0
    ];
    code.forEach((w, i) => rom.setUint32(4 * i, w, true));
    rom.setBigUint64(0x18, start, true);
    rom.setBigUint64(0x20, BigInt(this.dtbAddr), true);
    // struct fw_dynamic_info (OpenSBI include/sbi/fw_dynamic.h), version 2.
    rom.setBigUint64(0x28, 0x4942534fn, true); // magic "OSBI"
    rom.setBigUint64(0x30, 2n, true); // version
    rom.setBigUint64(0x38, nextAddr, true); // next_addr
    rom.setBigUint64(0x40, hasFirmware ? 1n : 3n, true); // next_mode: S (or M with no firmware)
    rom.setBigUint64(0x48, 0n, true); // options
    rom.setBigUint64(0x50, 0n, true); // boot_hart: any (lottery)
    const off = this.mem.offsetOf(VIRT_MROM_BASE, 0x60);
    this.mem.u8.set(new Uint8Array(rom.buffer), off);
  }

  // ---------------------------------------------------------------------------
  // HartEnv
  // ---------------------------------------------------------------------------

  ioRead(paddr: number, size: 1 | 2 | 4): number {
    const m = this.devices.find(paddr, size);
    if (m === undefined) return -1;
    return m.device.read(paddr - m.base, size) >>> 0;
  }

  ioWrite(paddr: number, size: 1 | 2 | 4, value: number): boolean {
    const m = this.devices.find(paddr, size);
    if (m === undefined) return false;
    m.device.write(paddr - m.base, size, value);
    return true;
  }

  mtime(): number {
    return this.clint.mtime;
  }

  observeStore(hart: Hart | undefined, off: number, len: number): void {
    if (this.reservations > 0) {
      for (const h of this.harts) {
        if (h !== hart && h.resvOff >= 0 && off < h.resvOff + 8 && h.resvOff < off + len) {
          h.resvOff = -1;
          this.reservations--;
        }
      }
    }
    if (this.htif) this.htif.observe(off, len);
  }

  reserved(hart: Hart, _off: number): void {
    this.reservations = 0;
    for (const h of this.harts) {
      if (h.resvOff >= 0) this.reservations++;
      if (h !== hart) h.mmu.flushStores();
    }
  }

  /** May `hart` cache stores to this RAM page? Not while another hart holds a reservation in it, nor on tohost's page. */
  private storeWatched(hart: Hart, pageOff: number): boolean {
    if (this.htif && this.htif.onPage(pageOff)) return true;
    if (this.debugWatch !== null && this.debugWatch(pageOff)) return true;
    if (this.reservations > 0) {
      for (const h of this.harts) {
        if (h !== hart && h.resvOff >= 0 && h.resvOff - (h.resvOff % PAGE_SIZE) === pageOff) return true;
      }
    }
    return false;
  }

  /** Set by a debugger: RAM pages (buffer offset) with a watchpoint, never cached in a store TLB. */
  debugWatch: ((pageOff: number) => boolean) | null = null;

  /** Writes by someone other than a hart (DMA, the debugger) break reservations too. */
  hostWrote(paddr: number, len: number): void {
    const off = this.mem.offsetOf(paddr, len);
    if (off >= 0) this.observeStore(undefined, off, len);
  }

  private finish(state: ExitState): void {
    if (this.exit) return;
    this.exit = state;
    for (const h of this.harts) {
      h.externalStop = true;
      h.stopFlag = true;
    }
  }

  /**
   * Execute one instruction on `h` alone (the debugger's single step), with
   * interrupts held off as QEMU's gdbstub steps by default; time advances by
   * the instruction. Returns the number executed: 0 when the hart is halted,
   * waits in WFI or is stopped for the debugger.
   */
  stepHart(h: Hart): number {
    if (this.exit !== undefined || h.halted || (h.wfi && !h.wakeable())) return 0;
    h.wfi = false;
    h.externalStop = false;
    let n: number;
    try {
      n = h.run(1, false);
    } catch (e) {
      throw new MachineError(`hart ${h.hartId} at pc 0x${h.pc.toString(16)}: emulator fault: ${(e as Error).message}`);
    }
    this.insns += n;
    this.tickRemainder += n;
    const ticks = Math.floor(this.tickRemainder / this.insnsPerTick);
    this.tickRemainder -= ticks * this.insnsPerTick;
    if (ticks > 0) {
      this.clint.advance(ticks);
      this.dma.advance(ticks);
    }
    return n;
  }

  /** Register an extra device (tests, later devices). */
  addDevice(base: number, size: number, device: Device): void {
    this.devices.add(base, size, device);
  }

  // ---------------------------------------------------------------------------
  // Running
  // ---------------------------------------------------------------------------

  /**
   * Run until the guest powers off (or reports through tohost), until `limit`
   * more instructions have executed, or until every hart waits for an
   * interrupt that no timer will bring ('idle': console input may).
   */
  run(limit = Infinity): StopReason {
    const stopAt = this.insns + limit;
    while (this.exit === undefined) {
      if (this.insns >= stopAt) return 'limit';
      const h = this.harts[this.turn]!;
      let turnOver = true;
      if (!h.halted && (!h.wfi || h.wakeable())) {
        h.wfi = false;
        h.externalStop = false;
        const budget = Math.min(this.turnLeft, stopAt - this.insns);
        let n: number;
        try {
          n = h.run(budget);
        } catch (e) {
          throw new MachineError(`hart ${h.hartId} at pc 0x${h.pc.toString(16)}: emulator fault: ${(e as Error).message}`);
        }
        this.insns += n;
        this.turnLeft -= n;
        this.roundRan = true;
        if (this.exit !== undefined) return 'exit';
        // Stopped for the debugger: the turn goes on at the next call.
        if (h.debugStop !== undefined) {
          this.debugHart = h;
          return 'break';
        }
        // A turn cut short by the caller's limit goes on at the next call, so
        // running in slices gives exactly the run of one call.
        turnOver = n < budget || this.turnLeft <= 0;
      }
      if (!turnOver) continue;
      this.turnLeft = QUANTUM;
      if (++this.turn < this.harts.length) continue;
      this.turn = 0;
      if (this.roundRan) {
        this.roundRan = false;
        // mtime is an integer count: carry the part of a tick not yet reached.
        this.tickRemainder += QUANTUM;
        const ticks = Math.floor(this.tickRemainder / this.insnsPerTick);
        this.tickRemainder -= ticks * this.insnsPerTick;
        this.clint.advance(ticks);
        this.dma.advance(ticks);
      } else {
        // Every hart waits: jump to the next timer deadline or DMA completion.
        const now = this.clint.mtime;
        const next = Math.min(this.clint.nextDeadline(), now + this.dma.ticksToCompletion());
        if (!Number.isFinite(next) || !Number.isSafeInteger(next)) return 'idle';
        this.clint.setMtime(next);
        this.dma.advance(next - now);
      }
    }
    return 'exit';
  }
}
