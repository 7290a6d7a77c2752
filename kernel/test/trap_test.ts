/**
 * Suite `traps`: the trap paths that do not end the run. dump_stack() takes
 * its deliberate fault and comes back; the PLIC delivers a real external
 * interrupt (the UART's "transmitter empty", raised the moment IER.THRI is
 * set) to the CPU that requested it. Output meant for the console during a
 * case is silenced (console_loglevel) and checked in the log ring instead.
 */
import { kunit, kunit_suite, kunit_case, kunit_skip, KUNIT_EXPECT_EQ, KUNIT_EXPECT_TRUE, KUNIT_EXPECT_GE } from "./ktap";
import { dump_stack } from "../arch/traps";
import { console_loglevel, set_console_loglevel, log_next_seq, log_read_record } from "../printk";
import { of_find_compatible_node, of_address_to_resource, of_irq_get, resource } from "../of/fdt";
import { early_ioremap } from "../arch/early_ioremap";
import { request_irq, free_irq, plic_present, irq_count } from "../irq/plic";
import { readb, writeb } from "../arch/io";
import { csrr_time } from "../arch/riscv";
import { timebase_freq } from "../time/clock";
import { this_cpu } from "../cpu";
import { bytes_starts_with } from "../lib/string";

const rec: usize = memory.data(160, 8);

function traps_dump_stack_returns(test: kunit): void {
  const level = console_loglevel;
  const first = log_next_seq();
  set_console_loglevel(1);
  dump_stack();
  set_console_loglevel(level);
  // The report: a CPU line, "Call Trace:", then at least one frame.
  let saw_trace = false;
  let frames = 0;
  for (let s = first; s < log_next_seq(); s++) {
    const r = log_read_record(s, rec, 160);
    if (r < 0) continue;
    const len = r >> 16;
    if (bytes_starts_with(rec, len, "Call Trace:")) saw_trace = true;
    else if (saw_trace && bytes_starts_with(rec, len, "[<ffffffff8")) frames++;
  }
  KUNIT_EXPECT_TRUE(test, saw_trace);
  KUNIT_EXPECT_GE(test, frames, 2);
}

const UART_IER: usize = 1;
const UART_IIR: usize = 2;
const UART_IER_THRI: u8 = 2;
let uart_regs: usize = 0;
const hits: usize = memory.data(8, 8);
const hit_cpu: usize = memory.data(8, 8);

function uart_irq(irq: i32, arg: u64): void {
  // Transmitter empty: turn the source off and acknowledge it by reading IIR.
  writeb(0, uart_regs + UART_IER);
  readb(uart_regs + UART_IIR);
  atomic.add<u64>(hits, 1);
  atomic.store<u64>(hit_cpu, <u64>this_cpu().cpu);
}

function traps_external_interrupt(test: kunit): void {
  if (!plic_present()) { kunit_skip(test, "no PLIC"); return; }
  const node = of_find_compatible_node(-1, "ns16550a");
  if (node < 0) { kunit_skip(test, "no ns16550a UART"); return; }
  const res = changetype<resource>(memory.data(16, 8));
  KUNIT_EXPECT_EQ(test, of_address_to_resource(node, 0, res), 0);
  const irq = of_irq_get(node, 0);
  if (uart_regs == 0) uart_regs = early_ioremap(res.start, res.end - res.start + 1);
  atomic.store<u64>(hits, 0);
  atomic.store<u64>(hit_cpu, 0xff);
  const before = irq_count(irq);
  KUNIT_EXPECT_EQ(test, request_irq(irq, uart_irq, 0, 0), 0);
  KUNIT_EXPECT_EQ(test, request_irq(irq, uart_irq, 0, 0), -16);
  writeb(UART_IER_THRI, uart_regs + UART_IER);
  const deadline = csrr_time() + timebase_freq; // 1 s: on QEMU, real time on a possibly busy host
  while (atomic.load<u64>(hits) == 0 && csrr_time() < deadline) { /* wait */ }
  free_irq(irq);
  writeb(0, uart_regs + UART_IER);
  KUNIT_EXPECT_GE(test, atomic.load<u64>(hits), 1);
  KUNIT_EXPECT_EQ(test, atomic.load<u64>(hit_cpu), 0);
  KUNIT_EXPECT_EQ(test, irq_count(irq), before + atomic.load<u64>(hits));
}

export function register_trap_tests(): void {
  kunit_suite("traps");
  kunit_case("traps_dump_stack_returns", traps_dump_stack_returns);
  kunit_case("traps_external_interrupt", traps_external_interrupt);
}
