/**
 * UART: the ns16550a that QEMU `virt` puts at 0x1000_0000 (register shift 0,
 * one byte per register, IRQ 10 on the PLIC).
 *
 * Spec: National Semiconductor (now TI) PC16550D datasheet, "Universal
 * Asynchronous Receiver/Transmitter with FIFOs" (SNLS378), chapter
 * "Registers": Line Control, Line Status, FIFO Control, Interrupt
 * Identification (table "Interrupt Control Functions"), Interrupt Enable,
 * MODEM Control, MODEM Status, Scratchpad, "FIFO Interrupt Mode Operation";
 * table "UART Reset Configuration". Cited below as [DS: section]. Register
 * and bit names are Linux's include/uapi/linux/serial_reg.h names.
 *
 *   off  DLAB=0 read   DLAB=0 write   DLAB=1
 *   0    RBR (UART_RX) THR (UART_TX)  DLL
 *   1    IER           IER            DLM
 *   2    IIR           FCR            (as DLAB=0)
 *   3    LCR           LCR
 *   4    MCR           MCR
 *   5    LSR           (ignored)
 *   6    MSR           (ignored)
 *   7    SCR           SCR
 *
 * Offsets 8..0xFF of the 0x100 window are holes (read 0). An access of any
 * size reaches the one byte register at its offset (zero-extended on read,
 * low byte on write), as QEMU's serial_mm does.
 *
 * Choices that follow from the emulator having no baud-rate timing:
 *
 *  - Transmission is instantaneous: a THR write hands the byte to `output`
 *    (or, in loopback, to the receiver) at once, so LSR.THRE and LSR.TEMT
 *    always read 1. The write clears a pending THRE interrupt and, the holding
 *    register being empty again immediately, raises it again (as a real UART
 *    does once the byte moves to the shift register).
 *  - Receive: host input queues without limit in front of the receiver
 *    (`pushInput`) and is moved into the RX FIFO (16 bytes) or, with FIFOs
 *    off, into RBR (1 byte) whenever there is room, so pasted text is never
 *    lost to overruns. Host input therefore never overruns; an overrun (OE)
 *    comes from loopback writes into a full receiver ([DS: Line Status]: in
 *    FIFO mode the FIFO is kept and the new character lost; in 16450 mode
 *    RBR is overwritten).
 *  - Character timeout ([DS: FIFO Interrupt Mode Operation], IIR = 0x0C):
 *    with FIFOs on, data below the trigger level would on hardware raise the
 *    timeout interrupt after four character times without FIFO activity. Here time does not pass
 *    between device events, and a FIFO below its trigger level means the host
 *    queue is empty, so the timeout indication is raised at once. Hence with
 *    FIFOs on and IER.RDI set: count >= trigger -> UART_IIR_RDI, 0 < count <
 *    trigger -> UART_IIR_RX_TIMEOUT; both clear when the FIFO is read empty.
 *
 * Interrupts ([DS: Interrupt Identification]), highest priority first:
 *   1. UART_IIR_RLSI  IER.RLSI and LSR has OE/PE/FE/BI      cleared by reading LSR
 *   2. UART_IIR_RDI / UART_IIR_RX_TIMEOUT  IER.RDI, data    cleared by reading RBR
 *   3. UART_IIR_THRI  IER.THRI and THR empty                cleared by reading IIR
 *                     (when it is the reported reason) or writing THR
 *   4. UART_IIR_MSI   IER.MSI and an MSR delta bit          cleared by reading MSR
 * The THRE interrupt is also raised when IER.THRI goes 0 -> 1 with THR empty
 * (and dropped when it goes 1 -> 0), as QEMU does; Linux's 8250 driver probes
 * for this. Clearing the XMIT FIFO (which includes toggling FIFO mode) also
 * raises it: "the first transmitter interrupt after enabling the FIFO mode
 * will be immediate" [DS: FIFO Interrupt Mode Operation]. IIR bits 7:6 read
 * 11 (UART_IIR_FIFO_ENABLED) while FCR enables the FIFOs. The INTR output is
 * not gated by MCR.OUT2 (QEMU virt wires it straight to the PLIC).
 *
 * Loopback (MCR.LOOP, [DS: MODEM Control]): THR bytes go to the receiver and
 * not to `output`; host input stays queued until loopback ends; MSR's inputs
 * follow MCR: CTS = RTS, DSR = DTR, RI = OUT1, DCD = OUT2. Outside loopback the modem
 * inputs read DCD | DSR | CTS (a connected, ready line), RI clear.
 *
 * Reset ([DS: UART Reset Configuration]): IER = 0, IIR = 0x01, FCR = 0,
 * LCR = 0, MCR = 0, LSR = THRE | TEMT, MSR deltas 0; the divisor latch is not
 * reset on hardware, we start it at 12 as QEMU does. `reset()` keeps the host input queue.
 */

import type { AccessSize, Device, IrqLine } from '../machine/bus.js';

// Register offsets (serial_reg.h).
export const UART_RX = 0; // In:  receive buffer
export const UART_TX = 0; // Out: transmit holding register
export const UART_DLL = 0; // DLAB: divisor latch low
export const UART_IER = 1;
export const UART_DLM = 1; // DLAB: divisor latch high
export const UART_IIR = 2; // In
export const UART_FCR = 2; // Out
export const UART_LCR = 3;
export const UART_MCR = 4;
export const UART_LSR = 5;
export const UART_MSR = 6;
export const UART_SCR = 7;

export const UART_IER_MSI = 0x08;
export const UART_IER_RLSI = 0x04;
export const UART_IER_THRI = 0x02;
export const UART_IER_RDI = 0x01;

export const UART_IIR_NO_INT = 0x01;
export const UART_IIR_MSI = 0x00;
export const UART_IIR_THRI = 0x02;
export const UART_IIR_RDI = 0x04;
export const UART_IIR_RLSI = 0x06;
export const UART_IIR_RX_TIMEOUT = 0x0c;
export const UART_IIR_MASK = 0x0f;
/** IIR bits 7:6, "FIFOs enabled" [DS: Interrupt Identification]; not in serial_reg.h, named after it. */
export const UART_IIR_FIFO_ENABLED = 0xc0;

export const UART_FCR_ENABLE_FIFO = 0x01;
export const UART_FCR_CLEAR_RCVR = 0x02;
export const UART_FCR_CLEAR_XMIT = 0x04;
export const UART_FCR_DMA_SELECT = 0x08;
export const UART_FCR_TRIGGER_MASK = 0xc0;

export const UART_LCR_DLAB = 0x80;

export const UART_MCR_LOOP = 0x10;
export const UART_MCR_OUT2 = 0x08;
export const UART_MCR_OUT1 = 0x04;
export const UART_MCR_RTS = 0x02;
export const UART_MCR_DTR = 0x01;

export const UART_LSR_FIFOE = 0x80;
export const UART_LSR_TEMT = 0x40;
export const UART_LSR_THRE = 0x20;
export const UART_LSR_BI = 0x10;
export const UART_LSR_FE = 0x08;
export const UART_LSR_PE = 0x04;
export const UART_LSR_OE = 0x02;
export const UART_LSR_DR = 0x01;
export const UART_LSR_BRK_ERROR_BITS = 0x1e;

export const UART_MSR_DCD = 0x80;
export const UART_MSR_RI = 0x40;
export const UART_MSR_DSR = 0x20;
export const UART_MSR_CTS = 0x10;
export const UART_MSR_DDCD = 0x08;
export const UART_MSR_TERI = 0x04;
export const UART_MSR_DDSR = 0x02;
export const UART_MSR_DCTS = 0x01;
export const UART_MSR_ANY_DELTA = 0x0f;

/** Depth of the 16550's receive FIFO. */
export const UART_FIFO_SIZE = 16;
/** RX trigger levels for FCR bits 7:6 = 00, 01, 10, 11 [DS: FIFO Control]. */
const RX_TRIGGER = [1, 4, 8, 14] as const;
/** Modem inputs outside loopback: carrier, data set ready, clear to send. */
const MSR_IDLE_INPUTS = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
/** Reset divisor (QEMU's; the datasheet leaves the latch undefined). */
const DIVISOR_RESET = 12;

const encoder = new TextEncoder();

export class Uart16550 implements Device {
  readonly name = 'uart16550';

  private readonly irq: IrqLine;
  private readonly output: (byte: number) => void;

  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  private fcr = 0; // the bits that stick: ENABLE_FIFO, DMA_SELECT, trigger
  private lsr = 0; // error bits only (OE, PE, FE, BI); DR, THRE, TEMT are derived
  private msr = 0;
  private scr = 0;
  private divisor = DIVISOR_RESET;
  /** THRE interrupt pending: set when THR empties, cleared by an IIR read that reports it or a THR write. */
  private thrIpending = false;
  /** Receiver: FIFO contents, or RBR alone (length <= 1) with FIFOs off. */
  private rx: number[] = [];
  /** Last byte read from RBR in 16450 mode (RBR keeps it after the read). */
  private rbr = 0;
  /** Host input not yet in the receiver. */
  private queue: number[] = [];
  private queueHead = 0;
  private irqLevel = false;

  constructor(irq: IrqLine, output: (byte: number) => void) {
    this.irq = irq;
    this.output = output;
    this.resetRegisters();
    this.irqLevel = this.computeIir() !== UART_IIR_NO_INT;
    this.irq.set(this.irqLevel);
  }

  /** Hardware reset of the registers and receiver; queued host input is kept. */
  reset(): void {
    this.resetRegisters();
    this.refill();
    this.update(true);
  }

  // --- Host side --------------------------------------------------------------

  /** Queue console input (strings are sent as UTF-8). Never drops bytes. */
  pushInput(data: Uint8Array | string): void {
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    if (bytes.length === 0) return;
    for (const b of bytes) this.queue.push(b & 0xff);
    this.refill();
    this.update();
  }

  /** True while some input has not been read by the guest (queued or in the receiver). */
  inputPending(): boolean {
    return this.queueLength() > 0 || this.rx.length > 0;
  }

  // --- Device -----------------------------------------------------------------

  read(offset: number, _size: AccessSize): number {
    if (offset >= 8) return 0;
    const dlab = (this.lcr & UART_LCR_DLAB) !== 0;
    switch (offset) {
      case UART_RX:
        return dlab ? this.divisor & 0xff : this.readRbr();
      case UART_IER:
        return dlab ? (this.divisor >>> 8) & 0xff : this.ier;
      case UART_IIR: {
        const id = this.computeIir();
        // [DS: Interrupt Identification]: reading IIR clears a THRE interrupt it reports.
        if (id === UART_IIR_THRI) {
          this.thrIpending = false;
          this.update();
        }
        return id | (this.fifoEnabled() ? UART_IIR_FIFO_ENABLED : 0);
      }
      case UART_LCR:
        return this.lcr;
      case UART_MCR:
        return this.mcr;
      case UART_LSR: {
        const v = this.readLsrValue();
        // [DS: Line Status]: OE, PE, FE and BI clear when the CPU reads LSR.
        if (this.lsr & UART_LSR_BRK_ERROR_BITS) {
          this.lsr &= ~UART_LSR_BRK_ERROR_BITS;
          this.update();
        }
        return v;
      }
      case UART_MSR: {
        const v = this.msr;
        // [DS: MODEM Status]: the delta bits clear when the CPU reads MSR.
        if (this.msr & UART_MSR_ANY_DELTA) {
          this.msr &= ~UART_MSR_ANY_DELTA;
          this.update();
        }
        return v;
      }
      default: // UART_SCR
        return this.scr;
    }
  }

  write(offset: number, _size: AccessSize, value: number): void {
    if (offset >= 8) return;
    value &= 0xff;
    const dlab = (this.lcr & UART_LCR_DLAB) !== 0;
    switch (offset) {
      case UART_TX:
        if (dlab) this.divisor = (this.divisor & 0xff00) | value;
        else this.writeThr(value);
        return;
      case UART_IER:
        if (dlab) this.divisor = (this.divisor & 0x00ff) | (value << 8);
        else this.writeIer(value);
        return;
      case UART_FCR:
        this.writeFcr(value);
        return;
      case UART_LCR:
        this.lcr = value;
        return;
      case UART_MCR:
        this.writeMcr(value);
        return;
      case UART_LSR:
      case UART_MSR:
        return; // read-only (factory-test writes not emulated)
      default: // UART_SCR
        this.scr = value;
        return;
    }
  }

  // --- Snapshots --------------------------------------------------------------

  getState(): Record<string, unknown> {
    return {
      version: 1,
      ier: this.ier,
      lcr: this.lcr,
      mcr: this.mcr,
      fcr: this.fcr,
      lsrErrors: this.lsr,
      msr: this.msr,
      scr: this.scr,
      divisor: this.divisor,
      thrIpending: this.thrIpending,
      rx: this.rx.slice(),
      rbr: this.rbr,
      inputQueue: this.queue.slice(this.queueHead),
    };
  }

  setState(state: Record<string, unknown>): void {
    if (state['version'] !== 1) throw new Error(`uart: unsupported state version ${String(state['version'])}`);
    const byte = (k: string): number => Number(state[k]) & 0xff;
    const bytes = (k: string): number[] => {
      const v = state[k];
      if (!Array.isArray(v)) throw new Error(`uart: bad ${k} in state`);
      return v.map((x) => Number(x) & 0xff);
    };
    this.ier = byte('ier') & 0x0f;
    this.lcr = byte('lcr');
    this.mcr = byte('mcr') & 0x1f;
    this.fcr = byte('fcr') & (UART_FCR_ENABLE_FIFO | UART_FCR_DMA_SELECT | UART_FCR_TRIGGER_MASK);
    this.lsr = byte('lsrErrors') & UART_LSR_BRK_ERROR_BITS;
    this.msr = byte('msr');
    this.scr = byte('scr');
    this.divisor = Number(state['divisor']) & 0xffff;
    this.thrIpending = state['thrIpending'] === true;
    this.rx = bytes('rx').slice(0, this.rxCapacity());
    this.rbr = byte('rbr');
    this.queue = bytes('inputQueue');
    this.queueHead = 0;
    this.update(true);
  }

  // --- Registers --------------------------------------------------------------

  private readRbr(): number {
    let v: number;
    if (this.fifoEnabled()) {
      v = this.rx.length > 0 ? this.rx.shift()! : 0;
    } else {
      if (this.rx.length > 0) this.rbr = this.rx.shift()!;
      v = this.rbr; // 16450 mode: RBR keeps its last byte
    }
    this.refill();
    this.update();
    return v;
  }

  private writeThr(byte: number): void {
    // Writing THR clears the THRE interrupt ...
    this.thrIpending = false;
    if (this.mcr & UART_MCR_LOOP) this.receive(byte);
    else this.output(byte);
    // ... and the byte leaves at once, so THR is empty again.
    this.thrIpending = true;
    this.update();
  }

  private writeIer(value: number): void {
    const old = this.ier;
    this.ier = value & 0x0f;
    if ((old ^ this.ier) & UART_IER_THRI) {
      // THR is always empty here, so enabling THRI raises the THRE interrupt.
      this.thrIpending = (this.ier & UART_IER_THRI) !== 0;
    }
    this.update();
  }

  private writeFcr(value: number): void {
    // [DS: FIFO Control]: changing bit 0 resets both FIFOs.
    if ((value ^ this.fcr) & UART_FCR_ENABLE_FIFO) value |= UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT;
    if (value & UART_FCR_CLEAR_RCVR) {
      this.rx = [];
      this.lsr &= ~UART_LSR_BI;
    }
    if (value & UART_FCR_CLEAR_XMIT) this.thrIpending = true; // THR empty (it always is)
    this.fcr = value & (UART_FCR_ENABLE_FIFO | UART_FCR_DMA_SELECT | UART_FCR_TRIGGER_MASK);
    this.refill();
    this.update();
  }

  private writeMcr(value: number): void {
    const wasLoop = (this.mcr & UART_MCR_LOOP) !== 0;
    this.mcr = value & 0x1f; // bits 7:5 are always 0 on the 16550
    this.setModemInputs(this.modemInputs());
    if (wasLoop && !(this.mcr & UART_MCR_LOOP)) this.refill();
    this.update();
  }

  /** LSR as read: derived DR/THRE/TEMT plus the latched error bits. */
  private readLsrValue(): number {
    let v = this.lsr | UART_LSR_THRE | UART_LSR_TEMT;
    if (this.rx.length > 0) v |= UART_LSR_DR;
    return v;
  }

  // --- Receiver ---------------------------------------------------------------

  private fifoEnabled(): boolean {
    return (this.fcr & UART_FCR_ENABLE_FIFO) !== 0;
  }

  private rxCapacity(): number {
    return this.fifoEnabled() ? UART_FIFO_SIZE : 1;
  }

  private queueLength(): number {
    return this.queue.length - this.queueHead;
  }

  /** A character arrives from the line (loopback): overrun if there is no room. */
  private receive(byte: number): void {
    if (this.rx.length < this.rxCapacity()) {
      this.rx.push(byte);
    } else {
      this.lsr |= UART_LSR_OE;
      if (!this.fifoEnabled()) this.rx[0] = byte; // 16450 mode: RBR is overwritten
    }
  }

  /** Move queued host input into the receiver while there is room. */
  private refill(): void {
    if (this.mcr & UART_MCR_LOOP) return; // the serial input is disconnected
    const cap = this.rxCapacity();
    while (this.rx.length < cap && this.queueHead < this.queue.length) {
      this.rx.push(this.queue[this.queueHead++]);
    }
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    } else if (this.queueHead >= 4096) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
  }

  // --- Modem status -------------------------------------------------------------

  /** The four modem inputs (MSR bits 7:4) as the UART sees them now. */
  private modemInputs(): number {
    if (!(this.mcr & UART_MCR_LOOP)) return MSR_IDLE_INPUTS;
    let v = 0;
    if (this.mcr & UART_MCR_RTS) v |= UART_MSR_CTS;
    if (this.mcr & UART_MCR_DTR) v |= UART_MSR_DSR;
    if (this.mcr & UART_MCR_OUT1) v |= UART_MSR_RI;
    if (this.mcr & UART_MCR_OUT2) v |= UART_MSR_DCD;
    return v;
  }

  /** Latch new modem inputs, setting the delta bits (TERI on RI's trailing edge only). */
  private setModemInputs(inputs: number): void {
    const old = this.msr & 0xf0;
    const changed = (old ^ inputs) >>> 4;
    let delta = changed & (UART_MSR_DDCD | UART_MSR_DDSR | UART_MSR_DCTS);
    if (changed & UART_MSR_TERI && old & UART_MSR_RI) delta |= UART_MSR_TERI;
    this.msr = inputs | (this.msr & UART_MSR_ANY_DELTA) | delta;
  }

  // --- Interrupts -------------------------------------------------------------

  /** IIR bits 3:0: the highest-priority pending interrupt [DS: Interrupt Identification]. */
  private computeIir(): number {
    if (this.ier & UART_IER_RLSI && this.lsr & UART_LSR_BRK_ERROR_BITS) return UART_IIR_RLSI;
    if (this.ier & UART_IER_RDI && this.rx.length > 0) {
      if (!this.fifoEnabled()) return UART_IIR_RDI;
      const trigger = RX_TRIGGER[(this.fcr & UART_FCR_TRIGGER_MASK) >>> 6];
      return this.rx.length >= trigger ? UART_IIR_RDI : UART_IIR_RX_TIMEOUT;
    }
    if (this.ier & UART_IER_THRI && this.thrIpending) return UART_IIR_THRI;
    if (this.ier & UART_IER_MSI && this.msr & UART_MSR_ANY_DELTA) return UART_IIR_MSI;
    return UART_IIR_NO_INT;
  }

  private update(force = false): void {
    const level = this.computeIir() !== UART_IIR_NO_INT;
    if (level !== this.irqLevel || force) {
      this.irqLevel = level;
      this.irq.set(level);
    }
  }

  private resetRegisters(): void {
    this.ier = 0;
    this.lcr = 0;
    this.mcr = 0;
    this.fcr = 0;
    this.lsr = 0;
    this.scr = 0;
    this.divisor = DIVISOR_RESET;
    this.thrIpending = false;
    this.rx = [];
    this.rbr = 0;
    this.msr = MSR_IDLE_INPUTS;
  }
}
