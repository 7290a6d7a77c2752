import { describe, expect, it } from 'vitest';
import {
  DmaEngine,
  DMA_CTRL,
  DMA_CTRL_IRQ_EN,
  DMA_DST,
  DMA_ERR_ADDR,
  DMA_ERR_BAD_OP,
  DMA_ERR_BUS_ERROR,
  DMA_ERR_BUSY,
  DMA_ERR_OUT_OF_WINDOW,
  DMA_FILL,
  DMA_ID,
  DMA_ID_VALUE,
  DMA_LEN,
  DMA_OP_COPY,
  DMA_OP_FILL,
  DMA_SRC,
  DMA_STATUS,
  DMA_STATUS_BUSY,
  DMA_STATUS_DONE,
  DMA_STATUS_ERROR,
  DMA_VERSION,
  DMA_WIN_BASE,
  DMA_WIN_SIZE,
  dmaTransferTicks,
} from '../../emulator/devices/dma.js';
import { PhysMemory } from '../../emulator/machine/ram.js';
import { Machine, MachineError } from '../../emulator/machine/machine.js';
import { parseFdt } from '../../emulator/machine/fdt.js';
import { buildVirtDtb, DMA_ENGINE_PATH } from '../../emulator/machine/virt_dtb.js';
import {
  MiB, VIRT_DMA_BASE, VIRT_DMA_IRQ, VIRT_DMA_SIZE, VIRT_DRAM_BASE, VIRT_PLIC_BASE, VIRT_UART0_BASE,
} from '../../emulator/machine/memmap.js';
import { parseRunOptions, UsageError } from '../../cli/options.js';
import { DATA, lit, runGuest } from '../helpers/guest.js';
import { prng } from '../helpers/prng.js';
import { Wire } from '../helpers/wire.js';

const BASE = VIRT_DRAM_BASE;
const WIN = 16 * MiB;

/** An engine over 32 MiB of RAM at 0x8000_0000 with a 16 MiB window, driven through its registers. */
function make(opts: { ramSize?: number; windowSize?: number } = {}) {
  const mem = new PhysMemory([{ name: 'dram', base: BASE, size: opts.ramSize ?? 32 * MiB }]);
  const irq = new Wire();
  const writes: [number, number][] = [];
  const dma = new DmaEngine(irq, mem, { windowBase: BASE, windowSize: opts.windowSize ?? WIN, wrote: (pa, len) => writes.push([pa, len]) });
  const rd = (off: number): number => dma.read(off, 4);
  const wr = (off: number, v: number): void => dma.write(off, 4, v >>> 0);
  const rd64 = (off: number): bigint => BigInt(rd(off)) | (BigInt(rd(off + 4)) << 32n);
  const wr64 = (off: number, v: bigint): void => {
    wr(off, Number(v & 0xffff_ffffn));
    wr(off + 4, Number((v >> 32n) & 0xffff_ffffn));
  };
  const status = (): number => rd(DMA_STATUS);
  const code = (): number => (status() >>> 8) & 0xff;
  const at = (pa: number): number => pa - BASE;
  const bytes = (pa: number, len: number): number[] => Array.from(mem.u8.subarray(at(pa), at(pa) + len));
  const poke = (pa: number, data: number[]): void => mem.u8.set(data, at(pa));
  /** Program a transfer and start it. */
  const start = (op: number, a: { src?: bigint; dst: bigint; len: bigint; fill?: number; irq?: boolean }): void => {
    if (a.src !== undefined) wr64(DMA_SRC, a.src);
    wr64(DMA_DST, a.dst);
    wr64(DMA_LEN, a.len);
    if (a.fill !== undefined) wr64(DMA_FILL, BigInt(a.fill));
    wr(DMA_CTRL, op | (a.irq ? DMA_CTRL_IRQ_EN : 0));
  };
  /** Run the transfer to its end (exactly its duration). */
  const finish = (): void => dma.advance(dma.ticksToCompletion());
  return { mem, irq, dma, writes, rd, wr, rd64, wr64, status, code, bytes, poke, start, finish };
}

const pattern = (n: number, seed = 1): number[] => Array.from({ length: n }, (_, i) => (i * 7 + seed * 13) & 0xff);

describe('DMA engine registers', () => {
  it('identifies itself and reports its window (read-only)', () => {
    const d = make();
    expect(d.rd(DMA_ID)).toBe(DMA_ID_VALUE);
    expect(Buffer.from(Uint32Array.of(d.rd(DMA_ID)).buffer).toString('latin1')).toBe('KDMA');
    expect(d.rd(DMA_VERSION)).toBe(1);
    expect(d.rd64(DMA_WIN_BASE)).toBe(0x8000_0000n);
    expect(d.rd64(DMA_WIN_SIZE)).toBe(BigInt(WIN));
    for (const off of [DMA_ID, DMA_VERSION, DMA_WIN_BASE, DMA_WIN_BASE + 4, DMA_WIN_SIZE, DMA_WIN_SIZE + 4, DMA_ERR_ADDR, DMA_ERR_ADDR + 4]) {
      d.wr(off, 0xdead_beef);
    }
    expect(d.rd(DMA_ID)).toBe(DMA_ID_VALUE);
    expect(d.rd(DMA_VERSION)).toBe(1);
    expect(d.rd64(DMA_WIN_BASE)).toBe(0x8000_0000n);
    expect(d.rd64(DMA_WIN_SIZE)).toBe(BigInt(WIN));
    expect(d.rd64(DMA_ERR_ADDR)).toBe(0n);
  });

  it('keeps SRC, DST, LEN and FILL as 64-bit values written in halves', () => {
    const d = make();
    const values = [0x0123_4567_89ab_cdefn, 0xffff_ffff_ffff_ffffn, 0x8000_0000n, 0x1_0000_0000n];
    for (const reg of [DMA_SRC, DMA_DST, DMA_LEN, DMA_FILL]) {
      for (const v of values) {
        d.wr64(reg, v);
        expect(d.rd64(reg)).toBe(v);
      }
      // Either half alone.
      d.wr64(reg, 0x1111_1111_2222_2222n);
      d.wr(reg + 4, 0x3333_3333);
      expect(d.rd64(reg)).toBe(0x3333_3333_2222_2222n);
      d.wr(reg, 0x4444_4444);
      expect(d.rd64(reg)).toBe(0x3333_3333_4444_4444n);
    }
  });

  it('reads back the last CTRL written; op 0 starts nothing', () => {
    const d = make();
    expect(d.rd(DMA_CTRL)).toBe(0);
    d.wr(DMA_CTRL, DMA_CTRL_IRQ_EN);
    expect(d.rd(DMA_CTRL)).toBe(DMA_CTRL_IRQ_EN);
    expect(d.status()).toBe(0);
    d.start(DMA_OP_FILL, { dst: BigInt(BASE + 0x1000), len: 8n, fill: 1 });
    expect(d.rd(DMA_CTRL)).toBe(DMA_OP_FILL);
    expect(d.status()).toBe(DMA_STATUS_BUSY);
  });

  it('other sizes, misaligned offsets and holes read 0 and ignore writes', () => {
    const d = make();
    d.wr64(DMA_SRC, 0x1234_5678_9abc_def0n);
    for (const size of [1, 2] as const) {
      expect(d.dma.read(DMA_ID, size)).toBe(0);
      d.dma.write(DMA_SRC, size, 0xff);
      d.dma.write(DMA_CTRL, size, DMA_OP_FILL);
    }
    expect(d.dma.read(DMA_SRC + 2, 4)).toBe(0);
    d.dma.write(DMA_SRC + 2, 4, 0);
    d.dma.write(DMA_CTRL + 1, 4, DMA_OP_FILL);
    expect(d.rd64(DMA_SRC)).toBe(0x1234_5678_9abc_def0n);
    expect(d.status()).toBe(0);
    for (const off of [0x48, 0x4c, 0x100, 0xffc]) {
      d.wr(off, 0xffff_ffff);
      expect(d.rd(off)).toBe(0);
    }
  });

  it('never throws on garbage accesses', () => {
    const d = make();
    const next = prng(4242);
    for (let i = 0; i < 20_000; i++) {
      const off = next() % 0x1000;
      const size = ([1, 2, 4] as const)[next() % 3]!;
      const v = next() >>> 0;
      if (next() & 1) d.dma.write(off, size, v);
      else expect(d.dma.read(off, size)).toBeGreaterThanOrEqual(0);
      if ((i & 63) === 0) d.dma.advance(next() % 5000);
    }
    // Huge lengths and addresses too.
    d.wr64(DMA_LEN, 0xffff_ffff_ffff_ffffn);
    d.wr64(DMA_SRC, 0xffff_ffff_ffff_ff00n);
    d.wr(DMA_STATUS, 0xffff_ffff);
    d.dma.advance(1 << 30);
    d.wr(DMA_CTRL, DMA_OP_COPY);
    d.dma.advance(Number.MAX_SAFE_INTEGER);
    expect(d.dma.read(DMA_STATUS, 4) & DMA_STATUS_BUSY).toBe(DMA_STATUS_BUSY);
    expect(d.dma.ticksToCompletion()).toBe(Infinity);
  });
});

describe('DMA engine transfers', () => {
  it('copies after exactly 16 + ceil(LEN / 64) ticks, the bytes moving at completion', () => {
    const d = make();
    const src = BASE + 0x10_0000;
    const dst = BASE + 0x20_0000;
    const data = pattern(1000);
    d.poke(src, data);
    d.start(DMA_OP_COPY, { src: BigInt(src), dst: BigInt(dst), len: 1000n });
    const ticks = 16 + Math.ceil(1000 / 64);
    expect(dmaTransferTicks(1000n)).toBe(BigInt(ticks));
    expect(d.dma.ticksToCompletion()).toBe(ticks);
    d.dma.advance(ticks - 1);
    expect(d.status()).toBe(DMA_STATUS_BUSY);
    expect(d.bytes(dst, 1000)).toEqual(new Array(1000).fill(0));
    expect(d.writes).toEqual([]);
    d.dma.advance(1);
    expect(d.status()).toBe(DMA_STATUS_DONE);
    expect(d.bytes(dst, 1000)).toEqual(data);
    expect(d.bytes(dst + 1000, 4)).toEqual([0, 0, 0, 0]);
    expect(d.writes).toEqual([[dst, 1000]]);
    expect(d.dma.ticksToCompletion()).toBe(Infinity);
    expect(d.dma.completed).toBe(1);
  });

  it('fills with the low byte of FILL', () => {
    const d = make();
    const dst = BASE + 0x30_0000;
    d.start(DMA_OP_FILL, { dst: BigInt(dst), len: 4096n, fill: 0x1234_5a });
    expect(d.dma.ticksToCompletion()).toBe(16 + 64);
    d.finish();
    expect(d.status()).toBe(DMA_STATUS_DONE);
    expect(new Set(d.bytes(dst, 4096))).toEqual(new Set([0x5a]));
    expect(d.bytes(dst + 4096, 1)).toEqual([0]);
    expect(d.bytes(dst - 1, 1)).toEqual([0]);
  });

  it('latches the registers at the start', () => {
    const d = make();
    const dst = BASE + 0x30_0000;
    d.start(DMA_OP_FILL, { dst: BigInt(dst), len: 16n, fill: 0x11 });
    d.wr64(DMA_DST, BigInt(dst + 0x1000));
    d.wr64(DMA_LEN, 0n);
    d.wr64(DMA_FILL, 0x22n);
    d.finish();
    expect(d.bytes(dst, 16)).toEqual(new Array(16).fill(0x11));
    expect(d.bytes(dst + 0x1000, 1)).toEqual([0]);
  });

  it('LEN 0 completes with DONE after 16 ticks and moves nothing, wherever it points', () => {
    const d = make();
    d.start(DMA_OP_FILL, { dst: 0xffff_ffff_ffff_fff0n, len: 0n, fill: 0xff });
    expect(d.dma.ticksToCompletion()).toBe(16);
    d.finish();
    expect(d.status()).toBe(DMA_STATUS_DONE);
    expect(d.writes).toEqual([]);
    d.start(DMA_OP_COPY, { src: 0n, dst: BigInt(BASE), len: 0n });
    d.finish();
    expect(d.status()).toBe(DMA_STATUS_DONE);
  });

  it('overlapping copies behave like memmove, both ways', () => {
    for (const shift of [5, -5, 100, -100, 0]) {
      const d = make();
      const a = BASE + 0x40_0000;
      const data = pattern(300, 3);
      d.poke(a, data);
      // The view [a - 100, a + 400): zeros, data, zeros; then data again at a + shift.
      const want = [...new Array(100).fill(0), ...data, ...new Array(100).fill(0)];
      for (let i = 0; i < 300; i++) want[100 + shift + i] = data[i]!;
      d.start(DMA_OP_COPY, { src: BigInt(a), dst: BigInt(a + shift), len: 300n });
      d.finish();
      expect(d.status()).toBe(DMA_STATUS_DONE);
      expect(d.bytes(a - 100, 500)).toEqual(want);
    }
  });

  it('rejects a start while busy; the running transfer goes on', () => {
    const d = make();
    const dst = BASE + 0x50_0000;
    d.start(DMA_OP_FILL, { dst: BigInt(dst), len: 64n, fill: 0x77 });
    d.dma.advance(3);
    d.start(DMA_OP_FILL, { dst: BigInt(dst + 0x1000), len: 64n, fill: 0x88, irq: true });
    expect(d.status()).toBe(DMA_STATUS_BUSY | DMA_STATUS_ERROR | (DMA_ERR_BUSY << 8));
    expect(d.irq.level).toBe(true); // ERROR, and the last CTRL (the rejected one) has IRQ_EN
    expect(d.dma.ticksToCompletion()).toBe(17 - 3);
    d.finish();
    // The completion describes the transfer that ran.
    expect(d.status()).toBe(DMA_STATUS_DONE);
    expect(d.bytes(dst, 64)).toEqual(new Array(64).fill(0x77));
    expect(d.bytes(dst + 0x1000, 1)).toEqual([0]);
  });

  it('rejects op 3 at once with BAD_OP, nothing runs', () => {
    const d = make();
    d.start(3, { dst: BigInt(BASE), len: 16n });
    expect(d.status()).toBe(DMA_STATUS_ERROR | (DMA_ERR_BAD_OP << 8));
    expect(d.dma.busy()).toBe(false);
    expect(d.dma.ticksToCompletion()).toBe(Infinity);
  });

  it('clears DONE and ERROR (and the code) by writing 1 to them', () => {
    const d = make();
    d.start(DMA_OP_FILL, { dst: BigInt(BASE + WIN), len: 1n });
    d.finish();
    expect(d.status()).toBe(DMA_STATUS_DONE | DMA_STATUS_ERROR | (DMA_ERR_OUT_OF_WINDOW << 8));
    d.wr(DMA_STATUS, DMA_STATUS_BUSY);
    expect(d.status()).toBe(DMA_STATUS_DONE | DMA_STATUS_ERROR | (DMA_ERR_OUT_OF_WINDOW << 8));
    d.wr(DMA_STATUS, DMA_STATUS_DONE);
    expect(d.status()).toBe(DMA_STATUS_ERROR | (DMA_ERR_OUT_OF_WINDOW << 8));
    d.wr(DMA_STATUS, DMA_STATUS_ERROR);
    expect(d.status()).toBe(0);
    // A new start clears everything left over.
    d.start(DMA_OP_FILL, { dst: BigInt(BASE + WIN), len: 1n });
    d.finish();
    d.start(DMA_OP_FILL, { dst: BigInt(BASE + 0x100), len: 1n });
    expect(d.status()).toBe(DMA_STATUS_BUSY);
    expect(d.rd64(DMA_ERR_ADDR)).toBe(0n);
  });
});

describe('DMA engine window', () => {
  const winEnd = BigInt(BASE + WIN);
  const cases: { name: string; op: number; src?: bigint; dst: bigint; len: bigint; errAddr: bigint }[] = [
    { name: 'source below the window', op: DMA_OP_COPY, src: BigInt(BASE - 0x1000), dst: BigInt(BASE + 0x60_0000), len: 64n, errAddr: BigInt(BASE - 0x1000) },
    { name: 'source beyond the window (RAM there)', op: DMA_OP_COPY, src: winEnd, dst: BigInt(BASE + 0x60_0000), len: 64n, errAddr: winEnd },
    { name: 'destination beyond the window (RAM there)', op: DMA_OP_COPY, src: BigInt(BASE + 0x60_0000), dst: winEnd + 0x1000n, len: 64n, errAddr: winEnd + 0x1000n },
    { name: 'destination straddling the end', op: DMA_OP_COPY, src: BigInt(BASE + 0x60_0000), dst: winEnd - 16n, len: 64n, errAddr: winEnd },
    { name: 'source straddling the end', op: DMA_OP_COPY, src: winEnd - 1n, dst: BigInt(BASE + 0x60_0000), len: 2n, errAddr: winEnd },
    { name: 'fill straddling the end', op: DMA_OP_FILL, dst: winEnd - 4096n, len: 8192n, errAddr: winEnd },
    { name: 'fill of a device (UART)', op: DMA_OP_FILL, dst: BigInt(VIRT_UART0_BASE), len: 1n, errAddr: BigInt(VIRT_UART0_BASE) },
    { name: 'destination wrapping past 2^64', op: DMA_OP_FILL, dst: 0xffff_ffff_ffff_ff00n, len: 0x200n, errAddr: 0xffff_ffff_ffff_ff00n },
    { name: 'length wrapping from inside the window', op: DMA_OP_FILL, dst: BigInt(BASE + 0x1000), len: 0xffff_ffff_ffff_f000n, errAddr: winEnd },
    { name: 'source wrapping past 2^64', op: DMA_OP_COPY, src: 0xffff_ffff_ffff_fff0n, dst: BigInt(BASE), len: 0x20n, errAddr: 0xffff_ffff_ffff_fff0n },
  ];
  for (const c of cases) {
    it(`${c.name}: nothing written, DONE|ERROR code 1, ERR_ADDR, at the normal delay`, () => {
      const d = make();
      d.mem.u8.fill(0xcc);
      d.start(c.op, { src: c.src, dst: c.dst, len: c.len, fill: 0x11, irq: true });
      const ticks = dmaTransferTicks(c.len);
      if (ticks < 1_000_000n) {
        d.dma.advance(Number(ticks) - 1);
        expect(d.status()).toBe(DMA_STATUS_BUSY);
        d.dma.advance(1);
      } else {
        expect(d.dma.ticksToCompletion()).toBe(Infinity); // ~2^58 ticks: beyond the JS-number timeline
        d.dma.advance(Number(ticks) + 1024); // but a host may still push it through
      }
      expect(d.status()).toBe(DMA_STATUS_DONE | DMA_STATUS_ERROR | (DMA_ERR_OUT_OF_WINDOW << 8));
      expect(d.rd64(DMA_ERR_ADDR)).toBe(c.errAddr);
      expect(d.irq.level).toBe(true);
      expect(d.writes).toEqual([]);
      expect(d.mem.u8.every((b) => b === 0xcc)).toBe(true);
    });
  }

  it('the last byte of the window is reachable', () => {
    const d = make();
    d.start(DMA_OP_FILL, { dst: winEnd - 1n, len: 1n, fill: 0x42 });
    d.finish();
    expect(d.status()).toBe(DMA_STATUS_DONE);
    expect(d.bytes(BASE + WIN - 1, 2)).toEqual([0x42, 0]);
  });

  it('inside the window but not RAM: BUS_ERROR', () => {
    // A board whose window reaches past its RAM (the machine never builds one).
    const d = make({ ramSize: 1 * MiB, windowSize: 4 * MiB });
    d.start(DMA_OP_FILL, { dst: BigInt(BASE + MiB - 8), len: 16n });
    d.finish();
    expect(d.status()).toBe(DMA_STATUS_DONE | DMA_STATUS_ERROR | (DMA_ERR_BUS_ERROR << 8));
    expect(d.rd64(DMA_ERR_ADDR)).toBe(BigInt(BASE + MiB));
    d.start(DMA_OP_COPY, { src: BigInt(BASE + 2 * MiB), dst: BigInt(BASE), len: 16n });
    d.finish();
    expect(d.status()).toBe(DMA_STATUS_DONE | DMA_STATUS_ERROR | (DMA_ERR_BUS_ERROR << 8));
    expect(d.rd64(DMA_ERR_ADDR)).toBe(BigInt(BASE + 2 * MiB));
  });
});

describe('DMA engine interrupt line', () => {
  it('is high while DONE or ERROR and the last CTRL had IRQ_EN', () => {
    const d = make();
    d.start(DMA_OP_FILL, { dst: BigInt(BASE + 0x1000), len: 1n, irq: true });
    expect(d.irq.level).toBe(false);
    d.finish();
    expect(d.irq.level).toBe(true);
    d.wr(DMA_CTRL, 0); // IRQ_EN off: the line drops, DONE stays
    expect(d.irq.level).toBe(false);
    expect(d.status()).toBe(DMA_STATUS_DONE);
    d.wr(DMA_CTRL, DMA_CTRL_IRQ_EN);
    expect(d.irq.level).toBe(true);
    d.wr(DMA_STATUS, DMA_STATUS_DONE);
    expect(d.irq.level).toBe(false);
    // Without IRQ_EN nothing is raised.
    d.start(DMA_OP_FILL, { dst: BigInt(BASE + 0x1000), len: 1n });
    d.finish();
    expect(d.irq.level).toBe(false);
    // A rejected start with IRQ_EN raises it at once (ERROR).
    d.wr(DMA_STATUS, DMA_STATUS_DONE);
    d.wr(DMA_CTRL, 3 | DMA_CTRL_IRQ_EN);
    expect(d.irq.level).toBe(true);
    d.wr(DMA_STATUS, DMA_STATUS_ERROR);
    expect(d.irq.level).toBe(false);
    expect(d.irq.history).toEqual([false, true, false, true, false, true, false]);
  });

  it('a start clears a leftover DONE and drops the line', () => {
    const d = make();
    d.start(DMA_OP_FILL, { dst: BigInt(BASE), len: 1n, irq: true });
    d.finish();
    expect(d.irq.level).toBe(true);
    d.start(DMA_OP_FILL, { dst: BigInt(BASE), len: 1n, irq: true });
    expect(d.irq.level).toBe(false);
    d.finish();
    expect(d.irq.level).toBe(true);
  });

  it('survives a snapshot in the middle of a transfer', () => {
    const a = make();
    a.poke(BASE + 0x100, pattern(200));
    a.start(DMA_OP_COPY, { src: BigInt(BASE + 0x100), dst: BigInt(BASE + 0x8000), len: 200n, irq: true });
    a.dma.advance(5);
    const state = JSON.parse(JSON.stringify(a.dma.getState())) as Record<string, unknown>;
    const b = make();
    b.poke(BASE + 0x100, pattern(200));
    b.dma.setState(state);
    expect(b.status()).toBe(DMA_STATUS_BUSY);
    expect(b.dma.ticksToCompletion()).toBe(a.dma.ticksToCompletion());
    b.finish();
    expect(b.status()).toBe(DMA_STATUS_DONE);
    expect(b.irq.level).toBe(true);
    expect(b.bytes(BASE + 0x8000, 200)).toEqual(pattern(200));
    expect(() => b.dma.setState({ version: 9 })).toThrow(/version/);
  });
});

// --- on the machine -------------------------------------------------------------

const PLIC = BigInt(VIRT_PLIC_BASE);
const DMA = BigInt(VIRT_DMA_BASE);

/** Guest code: program a transfer at DMA (t6 = base), op in a0, then poll until BUSY clears; a1 = STATUS. */
const PROGRAM = `
    li    t6, ${lit(DMA)}
    sd    s2, ${DMA_SRC}(t6)
    sd    s3, ${DMA_DST}(t6)
    sd    s4, ${DMA_LEN}(t6)
    sd    s5, ${DMA_FILL}(t6)
    sw    a0, ${DMA_CTRL}(t6)`;
const POLL = `
1:  lw    a1, ${DMA_STATUS}(t6)
    andi  t0, a1, ${DMA_STATUS_BUSY}
    bnez  t0, 1b`;

describe('DMA engine on the machine', () => {
  it('is mapped at VIRT_DMA_BASE on PLIC source 12, window 16 MiB by default, clipped to --mem', () => {
    const kernel = { name: 'k.bin', bytes: new Uint8Array(16) };
    const m = new Machine({ harts: 1, dramSize: 256 * MiB, highmemSize: 0, kernel });
    expect(m.ioRead(VIRT_DMA_BASE + DMA_ID, 4)).toBe(DMA_ID_VALUE);
    expect(m.ioRead(VIRT_DMA_BASE + DMA_WIN_SIZE, 4)).toBe(16 * MiB);
    expect(m.ioRead(VIRT_DMA_BASE + VIRT_DMA_SIZE - 4, 4)).toBe(0);
    expect(m.devices.find(VIRT_DMA_BASE, 4)?.device).toBe(m.dma);
    const small = new Machine({ harts: 1, dramSize: 8 * MiB, highmemSize: 0, kernel });
    expect(small.dma.windowSize).toBe(BigInt(8 * MiB));
    const limited = new Machine({ harts: 1, dramSize: 64 * MiB, highmemSize: 0, dmaLimit: 32 * MiB, kernel });
    expect(limited.ioRead(VIRT_DMA_BASE + DMA_WIN_SIZE, 4)).toBe(32 * MiB);
    const node = parseFdt(limited.dtb).find(DMA_ENGINE_PATH)!;
    expect(node.parent!.u64s('dma-ranges')).toEqual([0x8000_0000n, 0x8000_0000n, BigInt(32 * MiB)]);
    expect(() => new Machine({ harts: 1, dramSize: 64 * MiB, dmaLimit: 65 * MiB, kernel })).toThrow(MachineError);
    expect(() => new Machine({ harts: 1, dramSize: 64 * MiB, dmaLimit: 0, kernel })).toThrow(MachineError);
  });

  it('the device tree carries the engine and its window under /soc/dma-bus', () => {
    const root = parseFdt(buildVirtDtb({ harts: 2, dramSize: 256 * MiB, highmemSize: 0, bootargs: '' }));
    const bus = root.find('/soc/dma-bus')!;
    expect(bus.string('compatible')).toBe('simple-bus');
    expect(bus.u32('#address-cells')).toBe(2);
    expect(bus.u32('#size-cells')).toBe(2);
    expect(bus.props.get('ranges')!.length).toBe(0);
    expect(bus.u64s('dma-ranges')).toEqual([0x8000_0000n, 0x8000_0000n, 0x100_0000n]);
    const eng = bus.child('dma-controller@10200000')!;
    expect(eng.path).toBe(DMA_ENGINE_PATH);
    expect(eng.string('compatible')).toBe('kmemlab,dma-engine');
    expect(eng.u64s('reg')).toEqual([BigInt(VIRT_DMA_BASE), BigInt(VIRT_DMA_SIZE)]);
    expect(eng.u32('interrupts')).toBe(VIRT_DMA_IRQ);
    expect(root.byPhandle(eng.u32('interrupt-parent')!)).toBe(root.find('/soc/plic@c000000'));
  });

  it('a guest copies inside the window and gets the interrupt through the PLIC while every hart waits', () => {
    const g = runGuest(`
    # PLIC: source 12 priority 1, enabled for hart 0's M context, threshold 0; MEIE on, MIE off (WFI wakes anyway).
    li    t0, ${lit(PLIC)}
    li    t1, 1
    sw    t1, ${4 * VIRT_DMA_IRQ}(t0)
    li    t2, ${lit(PLIC + 0x2000n)}
    li    t1, ${1 << VIRT_DMA_IRQ}
    sw    t1, 0(t2)
    li    t2, ${lit(PLIC + 0x20_0000n)}
    sw    zero, 0(t2)
    li    t1, 0x800
    csrs  mie, t1
    # Source data.
    li    s2, ${lit(DATA)}
    li    t1, 0x1122334455667788
    sd    t1, 0(s2)
    sd    t1, 8(s2)
    li    s3, ${lit(DATA + 0x1000n)}
    li    s4, 16
    li    s5, 0
    li    a0, ${DMA_OP_COPY | DMA_CTRL_IRQ_EN}
    rdtime s6
${PROGRAM}
    lw    a2, ${DMA_STATUS}(t6)   # busy right after the start
2:  wfi
    lw    a1, ${DMA_STATUS}(t6)
    andi  t0, a1, ${DMA_STATUS_DONE}
    beqz  t0, 2b
    rdtime s7
    li    t2, ${lit(PLIC + 0x20_0004n)}
    lw    a3, 0(t2)               # claim
    li    t1, ${DMA_STATUS_DONE}
    sw    t1, ${DMA_STATUS}(t6)
    sw    a3, 0(t2)               # complete
    lw    a4, 0(t2)               # nothing more
    ld    a5, 0(s3)
    ld    a6, 8(s3)
    j     pass`);
    expect(g.reg('a2')).toBe(BigInt(DMA_STATUS_BUSY));
    expect(g.reg('a1')).toBe(BigInt(DMA_STATUS_DONE));
    expect(g.reg('a3')).toBe(BigInt(VIRT_DMA_IRQ));
    expect(g.reg('a4')).toBe(0n);
    expect(g.reg('a5')).toBe(0x1122334455667788n);
    expect(g.reg('a6')).toBe(0x1122334455667788n);
    // Time jumped to the completion (16 + 1 ticks), not beyond a round's worth.
    expect(g.reg('s7') - g.reg('s6')).toBeGreaterThanOrEqual(17n);
    expect(g.reg('s7') - g.reg('s6')).toBeLessThanOrEqual(200n);
    expect(g.traps()).toEqual([]);
  });

  it('a guest transfer out of the window fails and writes nothing', () => {
    const g = runGuest(`
    li    s2, ${lit(DATA)}
    li    s3, ${lit(0x8000_0000n + BigInt(16 * MiB) - 8n)}
    li    s4, 16
    li    s5, 0xab
    li    a0, ${DMA_OP_FILL}
${PROGRAM}
${POLL}
    ld    a2, ${DMA_ERR_ADDR}(t6)
    ld    a3, ${DMA_WIN_SIZE}(t6)
    ld    a4, -8(s3)
    ld    a5, 0(s3)
    j     pass`, { dramSize: 32 * MiB });
    expect(g.reg('a1')).toBe(BigInt(DMA_STATUS_DONE | DMA_STATUS_ERROR | (DMA_ERR_OUT_OF_WINDOW << 8)));
    expect(g.reg('a2')).toBe(0x8000_0000n + BigInt(16 * MiB));
    expect(g.reg('a3')).toBe(BigInt(16 * MiB));
    expect(g.reg('a4')).toBe(0n);
    expect(g.reg('a5')).toBe(0n);
  });

  it('an engine write breaks an LR reservation on the range', () => {
    const g = runGuest(`
    li    s2, ${lit(DATA)}
    li    s3, ${lit(DATA + 0x100n)}
    li    s4, 64
    li    s5, 0x5a
    lr.d  a3, (s3)                # reserve DATA + 0x100
    li    a0, ${DMA_OP_FILL}
${PROGRAM}
${POLL}
    li    t1, 0x77
    sc.d  a4, t1, (s3)            # must fail: the engine wrote the reserved doubleword
    ld    a5, 0(s3)
    # Control: a reservation on another line survives an engine write elsewhere.
    li    s3, ${lit(DATA + 0x800n)}
    lr.d  a3, (s2)
    li    a0, ${DMA_OP_FILL}
${PROGRAM}
${POLL}
    li    t1, 0x77
    sc.d  a6, t1, (s2)
    ld    a7, 0(s2)
    j     pass`);
    expect(g.reg('a4')).not.toBe(0n);
    expect(g.reg('a5')).toBe(0x5a5a5a5a5a5a5a5an);
    expect(g.reg('a6')).toBe(0n);
    expect(g.reg('a7')).toBe(0x77n);
  });

  it('another hart sees an engine write as soon as it completes (its reservation breaks too)', () => {
    const g = runGuest(`
    li    s3, ${lit(DATA + 0x200n)}
    li    s7, ${lit(DATA + 0x400n)}   # flag: hart 1 holds its reservation
    bnez  a0, hart1
    # hart 0: wait for hart 1, then fill hart 1's reserved doubleword.
1:  ld    t0, 0(s7)
    beqz  t0, 1b
    li    s4, 8
    li    s5, 0x33
    li    a0, ${DMA_OP_FILL}
${PROGRAM}
${POLL}
    li    t0, 2
    sd    t0, 0(s7)
3:  ld    t0, 0(s7)
    li    t1, 3
    bne   t0, t1, 3b
    j     pass
hart1:
    lr.d  a3, (s3)
    li    t0, 1
    sd    t0, 0(s7)
2:  ld    t0, 0(s7)
    li    t1, 2
    bne   t0, t1, 2b
    li    t1, 0x99
    sc.d  a4, t1, (s3)
    ld    a5, 0(s3)
    li    t0, 3
    sd    t0, 0(s7)
4:  wfi
    j     4b`, { harts: 2 });
    expect(g.reg('a4', 1)).not.toBe(0n);
    expect(g.reg('a5', 1)).toBe(0x3333333333333333n);
  });

  it('code the engine overwrites is what the hart runs next', () => {
    const g = runGuest(`
    li    a0, 0
    call  patched                 # runs once before: a0 = 1 (and its page is in the fetch TLB)
    mv    s8, a0
    la    s2, replacement
    la    s3, patched
    li    s4, 8
    li    s5, 0
    li    a0, ${DMA_OP_COPY}
${PROGRAM}
${POLL}
    li    a0, 0
    call  patched
    mv    s9, a0
    j     pass
    .align 3
patched:
    li    a0, 1
    ret
    .align 3
replacement:
    li    a0, 2
    ret`);
    expect(g.reg('s8')).toBe(1n);
    expect(g.reg('s9')).toBe(2n);
  });
});

describe('--dma-limit', () => {
  it('parses a size up to --mem; the default is the machine\'s', () => {
    expect(parseRunOptions([]).dmaLimit).toBeUndefined();
    expect(parseRunOptions(['--dma-limit', '8M']).dmaLimit).toBe(8 * MiB);
    expect(parseRunOptions(['--dma-limit=64M', '--mem', '64M']).dmaLimit).toBe(64 * MiB);
    expect(() => parseRunOptions(['--dma-limit', '0'])).toThrow(UsageError);
    expect(() => parseRunOptions(['--dma-limit', 'lots'])).toThrow(/not a size/);
    expect(() => parseRunOptions(['--mem', '32M', '--dma-limit', '64M'])).toThrow(/more than the low DRAM/);
    expect(() => parseRunOptions(['--dma-limit'])).toThrow(/needs a value/);
  });
});
