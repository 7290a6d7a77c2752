import { describe, expect, it } from 'vitest';
import type { IrqLine } from '../../emulator/machine/bus.js';
import {
  Uart16550,
  UART_DLL,
  UART_DLM,
  UART_FCR,
  UART_FCR_CLEAR_RCVR,
  UART_FCR_ENABLE_FIFO,
  UART_FCR_TRIGGER_MASK,
  UART_IER,
  UART_IER_MSI,
  UART_IER_RDI,
  UART_IER_RLSI,
  UART_IER_THRI,
  UART_IIR,
  UART_IIR_FIFO_ENABLED,
  UART_IIR_MSI,
  UART_IIR_NO_INT,
  UART_IIR_RDI,
  UART_IIR_RLSI,
  UART_IIR_RX_TIMEOUT,
  UART_IIR_THRI,
  UART_LCR,
  UART_LCR_DLAB,
  UART_LSR,
  UART_LSR_DR,
  UART_LSR_OE,
  UART_LSR_TEMT,
  UART_LSR_THRE,
  UART_MCR,
  UART_MCR_DTR,
  UART_MCR_LOOP,
  UART_MCR_OUT1,
  UART_MCR_OUT2,
  UART_MCR_RTS,
  UART_MSR,
  UART_MSR_CTS,
  UART_MSR_DCD,
  UART_MSR_DDCD,
  UART_MSR_DDSR,
  UART_MSR_DCTS,
  UART_MSR_DSR,
  UART_MSR_RI,
  UART_MSR_TERI,
  UART_RX,
  UART_SCR,
  UART_TX,
} from '../../emulator/devices/uart16550.js';
import { Wire } from '../helpers/wire.js';


function make() {
  const irq = new Wire();
  const out: number[] = [];
  const uart = new Uart16550(irq, (b) => out.push(b));
  const rd = (reg: number) => uart.read(reg, 1);
  const wr = (reg: number, v: number) => uart.write(reg, 1, v);
  const iir = () => rd(UART_IIR);
  /** Read RBR while LSR.DR says there is data. */
  const drain = () => {
    const got: number[] = [];
    while (rd(UART_LSR) & UART_LSR_DR) got.push(rd(UART_RX));
    return got;
  };
  return { uart, irq, out, rd, wr, iir, drain };
}

const bytes = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
const EMPTY = UART_LSR_THRE | UART_LSR_TEMT;

describe('Uart16550 registers', () => {
  it('comes out of reset as the datasheet says', () => {
    const { irq, rd } = make();
    expect(rd(UART_IER)).toBe(0);
    expect(rd(UART_IIR)).toBe(UART_IIR_NO_INT);
    expect(rd(UART_LCR)).toBe(0);
    expect(rd(UART_MCR)).toBe(0);
    expect(rd(UART_LSR)).toBe(EMPTY);
    expect(rd(UART_MSR)).toBe(UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS);
    expect(irq.history).toEqual([false]);
  });

  it('switches offsets 0 and 1 to the divisor latch under DLAB', () => {
    const { out, rd, wr } = make();
    wr(UART_IER, UART_IER_RDI);
    wr(UART_LCR, UART_LCR_DLAB | 0x03);
    wr(UART_DLL, 0x34);
    wr(UART_DLM, 0x12);
    expect(rd(UART_DLL)).toBe(0x34);
    expect(rd(UART_DLM)).toBe(0x12);
    expect(out).toEqual([]); // a DLL write is not a THR write
    expect(rd(UART_LCR)).toBe(0x83);
    wr(UART_LCR, 0x03);
    expect(rd(UART_IER)).toBe(UART_IER_RDI); // IER untouched by the DLM write
    wr(UART_TX, 0x41);
    expect(out).toEqual([0x41]);
    wr(UART_LCR, UART_LCR_DLAB);
    expect(rd(UART_DLL)).toBe(0x34); // THR write did not touch DLL
  });

  it('keeps IER to its 4 bits, MCR to 5, SCR to 8; LSR/MSR writes are ignored', () => {
    const { rd, wr } = make();
    wr(UART_IER, 0xff);
    expect(rd(UART_IER)).toBe(0x0f);
    wr(UART_IER, 0);
    wr(UART_MCR, 0xff & ~UART_MCR_LOOP);
    expect(rd(UART_MCR)).toBe(0x0f);
    wr(UART_SCR, 0xa5);
    expect(rd(UART_SCR)).toBe(0xa5);
    wr(UART_LSR, 0);
    expect(rd(UART_LSR)).toBe(EMPTY);
    wr(UART_MSR, 0);
    expect(rd(UART_MSR)).toBe(0xb0);
  });

  it('reads holes as 0, ignores hole writes, and serves wide accesses by byte', () => {
    const { uart, out, wr } = make();
    expect(uart.read(8, 1)).toBe(0);
    expect(uart.read(0xfc, 4)).toBe(0);
    uart.write(8, 1, 0x41);
    expect(out).toEqual([]);
    wr(UART_SCR, 0x5a);
    expect(uart.read(UART_SCR, 4)).toBe(0x5a);
    expect(uart.read(UART_LSR, 2)).toBe(EMPTY);
    uart.write(UART_TX, 4, 0x1234_5642);
    expect(out).toEqual([0x42]);
  });
});

describe('Uart16550 transmit', () => {
  it('hands every THR byte to the output at once; THRE and TEMT stay set', () => {
    const { out, rd, wr } = make();
    for (const b of bytes('hi\n')) {
      wr(UART_TX, b);
      expect(rd(UART_LSR) & EMPTY).toBe(EMPTY);
    }
    expect(out).toEqual(bytes('hi\n'));
  });
});

describe('Uart16550 receive', () => {
  it('without FIFOs, holds one byte in RBR and refills it from the host queue', () => {
    const { uart, rd } = make();
    expect(uart.inputPending()).toBe(false);
    uart.pushInput('abc');
    expect(uart.inputPending()).toBe(true);
    expect(rd(UART_LSR)).toBe(EMPTY | UART_LSR_DR);
    expect(rd(UART_RX)).toBe(0x61);
    expect(rd(UART_RX)).toBe(0x62);
    expect(rd(UART_RX)).toBe(0x63);
    expect(rd(UART_LSR)).toBe(EMPTY);
    expect(uart.inputPending()).toBe(false);
    expect(rd(UART_RX)).toBe(0x63); // 16450 mode: RBR keeps its last byte
  });

  it('queues input beyond the 16-byte FIFO without overrun or loss', () => {
    const { uart, rd, wr, drain } = make();
    wr(UART_FCR, UART_FCR_ENABLE_FIFO);
    const text = 'The quick brown fox jumps over the lazy dog.';
    uart.pushInput(new TextEncoder().encode(text));
    uart.pushInput('!');
    expect(rd(UART_LSR) & UART_LSR_OE).toBe(0);
    expect(drain()).toEqual(bytes(text + '!'));
    expect(rd(UART_LSR)).toBe(EMPTY);
    expect(rd(UART_RX)).toBe(0); // FIFO mode, empty
    expect(uart.inputPending()).toBe(false);
  });

  it('sends strings as UTF-8', () => {
    const { uart, drain } = make();
    uart.pushInput('é');
    expect(drain()).toEqual([0xc3, 0xa9]);
  });

  it('clearing the RCVR FIFO discards its bytes and refills from the queue', () => {
    const { uart, wr, drain } = make();
    wr(UART_FCR, UART_FCR_ENABLE_FIFO);
    uart.pushInput('0123456789abcdefXYZ'); // 16 in the FIFO, 3 queued
    wr(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR);
    expect(drain()).toEqual(bytes('XYZ'));
  });

  it('toggling FIFO enable flushes the receiver', () => {
    const { uart, wr, drain } = make();
    uart.pushInput('ab'); // 'a' in RBR, 'b' queued
    wr(UART_FCR, UART_FCR_ENABLE_FIFO); // flush, then 'b' moves in
    expect(drain()).toEqual(bytes('b'));
  });
});

describe('Uart16550 interrupts', () => {
  it('RX data available without FIFOs: raised by input, cleared by reading RBR', () => {
    const { uart, irq, iir, wr, rd } = make();
    wr(UART_IER, UART_IER_RDI);
    expect(irq.level).toBe(false);
    uart.pushInput('xy');
    expect(iir()).toBe(UART_IIR_RDI);
    expect(irq.level).toBe(true);
    rd(UART_RX);
    expect(iir()).toBe(UART_IIR_RDI); // 'y' moved in
    rd(UART_RX);
    expect(iir()).toBe(UART_IIR_NO_INT);
    expect(irq.level).toBe(false);
    expect(irq.history).toEqual([false, true, false]);
  });

  it('with FIFOs: data below the trigger level reports a timeout, at the level RDI', () => {
    const { uart, irq, iir, wr, rd } = make();
    wr(UART_FCR, UART_FCR_ENABLE_FIFO | 0x80); // trigger level 8
    wr(UART_IER, UART_IER_RDI);
    expect(iir()).toBe(UART_IIR_FIFO_ENABLED | UART_IIR_NO_INT);
    uart.pushInput('abc');
    expect(iir()).toBe(UART_IIR_FIFO_ENABLED | UART_IIR_RX_TIMEOUT);
    expect(irq.level).toBe(true);
    uart.pushInput('defgh');
    expect(iir()).toBe(UART_IIR_FIFO_ENABLED | UART_IIR_RDI);
    rd(UART_RX);
    expect(iir()).toBe(UART_IIR_FIFO_ENABLED | UART_IIR_RX_TIMEOUT);
    for (let i = 0; i < 7; i++) rd(UART_RX);
    expect(iir()).toBe(UART_IIR_FIFO_ENABLED | UART_IIR_NO_INT);
    expect(irq.level).toBe(false);
    wr(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_TRIGGER_MASK); // trigger level 14
    uart.pushInput('0123456789abcd');
    expect(iir() & 0x0f).toBe(UART_IIR_RDI);
    rd(UART_RX);
    expect(iir() & 0x0f).toBe(UART_IIR_RX_TIMEOUT);
  });

  it('THR empty: raised when IER.THRI is set, cleared by reading IIR, raised again by a THR write', () => {
    const { irq, iir, wr, out } = make();
    wr(UART_IER, UART_IER_THRI);
    expect(irq.level).toBe(true);
    expect(iir()).toBe(UART_IIR_THRI); // this read clears it
    expect(irq.level).toBe(false);
    expect(iir()).toBe(UART_IIR_NO_INT);
    wr(UART_TX, 0x2a); // THR empties at once: THRE interrupt again
    expect(out).toEqual([0x2a]);
    expect(irq.level).toBe(true);
    wr(UART_IER, 0);
    expect(irq.level).toBe(false);
    wr(UART_IER, UART_IER_THRI); // re-enabling with THR empty raises it again
    expect(iir()).toBe(UART_IIR_THRI);
    expect(irq.history).toEqual([false, true, false, true, false, true, false]);
  });

  it('THR empty is not cleared by an IIR read that reports something else', () => {
    const { uart, iir, wr, rd } = make();
    wr(UART_IER, UART_IER_THRI | UART_IER_RDI);
    uart.pushInput('z');
    expect(iir()).toBe(UART_IIR_RDI); // higher priority than THRE
    rd(UART_RX);
    expect(iir()).toBe(UART_IIR_THRI); // still pending
    expect(iir()).toBe(UART_IIR_NO_INT);
  });

  it('receiver line status: overrun in loopback, cleared by reading LSR, ahead of RX data', () => {
    const { irq, iir, wr, rd, out } = make();
    wr(UART_MCR, UART_MCR_LOOP);
    wr(UART_IER, UART_IER_RLSI | UART_IER_RDI);
    wr(UART_TX, 0x31);
    expect(iir()).toBe(UART_IIR_RDI);
    wr(UART_TX, 0x32); // RBR still full: overrun, RBR overwritten (16450 mode)
    expect(out).toEqual([]);
    expect(iir()).toBe(UART_IIR_RLSI);
    expect(irq.level).toBe(true);
    expect(rd(UART_LSR)).toBe(EMPTY | UART_LSR_OE | UART_LSR_DR);
    expect(rd(UART_LSR)).toBe(EMPTY | UART_LSR_DR); // OE cleared by the read
    expect(iir()).toBe(UART_IIR_RDI);
    expect(rd(UART_RX)).toBe(0x32);
    expect(iir()).toBe(UART_IIR_NO_INT);
    expect(irq.level).toBe(false);
  });

  it('a loopback overrun in FIFO mode keeps the FIFO and loses the new byte', () => {
    const { rd, wr, drain } = make();
    wr(UART_FCR, UART_FCR_ENABLE_FIFO);
    wr(UART_MCR, UART_MCR_LOOP);
    for (let i = 0; i < 17; i++) wr(UART_TX, 0x40 + i);
    expect(rd(UART_LSR) & UART_LSR_OE).toBe(UART_LSR_OE);
    expect(drain()).toEqual(Array.from({ length: 16 }, (_, i) => 0x40 + i));
  });

  it('modem status: loopback maps MCR to MSR; deltas interrupt and clear on an MSR read', () => {
    const { irq, iir, wr, rd } = make();
    wr(UART_IER, UART_IER_MSI);
    expect(irq.level).toBe(false);
    wr(UART_MCR, UART_MCR_LOOP | UART_MCR_RTS); // DCD and DSR drop, CTS stays
    expect(iir()).toBe(UART_IIR_MSI);
    expect(irq.level).toBe(true);
    expect(rd(UART_MSR)).toBe(UART_MSR_CTS | UART_MSR_DDCD | UART_MSR_DDSR);
    expect(rd(UART_MSR)).toBe(UART_MSR_CTS);
    expect(iir()).toBe(UART_IIR_NO_INT);
    expect(irq.level).toBe(false);
    wr(UART_MCR, UART_MCR_LOOP | UART_MCR_DTR | UART_MCR_OUT1 | UART_MCR_OUT2);
    expect(rd(UART_MSR)).toBe(UART_MSR_DSR | UART_MSR_RI | UART_MSR_DCD | UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_DDCD);
    wr(UART_MCR, UART_MCR_LOOP | UART_MCR_DTR | UART_MCR_OUT2); // RI falls: trailing edge
    expect(rd(UART_MSR)).toBe(UART_MSR_DSR | UART_MSR_DCD | UART_MSR_TERI);
  });

  it('orders simultaneous reasons RLSI > RDI > THRI > MSI', () => {
    const { iir, wr, rd } = make();
    wr(UART_MCR, UART_MCR_LOOP);
    wr(UART_TX, 1);
    wr(UART_TX, 2); // overrun
    wr(UART_IER, UART_IER_RLSI | UART_IER_RDI | UART_IER_THRI | UART_IER_MSI);
    expect(iir()).toBe(UART_IIR_RLSI);
    rd(UART_LSR);
    expect(iir()).toBe(UART_IIR_RDI);
    rd(UART_RX);
    expect(iir()).toBe(UART_IIR_THRI);
    expect(iir()).toBe(UART_IIR_MSI);
    rd(UART_MSR);
    expect(iir()).toBe(UART_IIR_NO_INT);
  });
});

describe('Uart16550 loopback', () => {
  it('loops TX to RX, keeps host input queued until loopback ends', () => {
    const { uart, out, wr, drain } = make();
    wr(UART_FCR, UART_FCR_ENABLE_FIFO);
    wr(UART_MCR, UART_MCR_LOOP);
    uart.pushInput('host');
    for (const b of bytes('loop')) wr(UART_TX, b);
    expect(out).toEqual([]);
    expect(drain()).toEqual(bytes('loop'));
    expect(uart.inputPending()).toBe(true);
    wr(UART_MCR, 0);
    expect(drain()).toEqual(bytes('host'));
    wr(UART_TX, 0x21);
    expect(out).toEqual([0x21]);
  });
});

describe('Uart16550 snapshots', () => {
  it('round-trips registers, receiver and host queue, and drives the IRQ level', () => {
    const a = make();
    a.wr(UART_FCR, UART_FCR_ENABLE_FIFO | 0x40); // trigger 4
    a.wr(UART_LCR, 0x03);
    a.wr(UART_SCR, 0x77);
    a.wr(UART_IER, UART_IER_RDI);
    a.uart.pushInput('0123456789abcdefghij');
    const state = JSON.parse(JSON.stringify(a.uart.getState())) as Record<string, unknown>;
    const b = make();
    b.uart.setState(state);
    expect(b.irq.level).toBe(true);
    expect(b.iir()).toBe(UART_IIR_FIFO_ENABLED | UART_IIR_RDI);
    expect(b.rd(UART_LCR)).toBe(0x03);
    expect(b.rd(UART_SCR)).toBe(0x77);
    expect(b.drain()).toEqual(bytes('0123456789abcdefghij'));
    expect(() => b.uart.setState({ ...state, version: 9 })).toThrow();
  });

  it('reset() restores the registers and keeps queued host input', () => {
    const { uart, rd, wr, drain } = make();
    wr(UART_LCR, 0x1b);
    wr(UART_IER, 0x0f);
    uart.pushInput('ab');
    uart.reset();
    expect(rd(UART_LCR)).toBe(0);
    expect(rd(UART_IER)).toBe(0);
    expect(drain()).toEqual(bytes('b')); // 'a' was in RBR, cleared by the reset
  });
});
