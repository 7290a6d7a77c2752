/**
 * The kernel command line (/chosen/bootargs, copied to boot_command_line).
 *
 * Syntax as Linux's (Documentation/admin-guide/kernel-parameters.rst):
 * space-separated `name` or `name=value`, values may be "double quoted".
 * Subsystems look their parameters up when they initialise (like x86's
 * cmdline_find_option); parse_early_params() applies the ones that must act
 * before anything prints:
 *
 *   loglevel=N        console threshold (0-15)        quiet / debug   4 / 10
 *   printk.time=1     timestamps on the console
 *   selftest=all|a,b  run self-test suites (kernel/test)
 *   selftest_fail=1   add a deliberately failing case (to check the plumbing)
 *   panic_on_boot=1   panic right after bring-up (to check the panic path)
 *   oops_on_boot=1    dereference NULL after bring-up (to check the oops path)
 *   hang_on_boot=1    spin forever with interrupts off (to check the host's bound)
 *   maxcpus=N, nosmp  bring up at most N CPUs (1 with nosmp)
 *
 * The line is parsed in place, so everything here is pure over a static
 * buffer: any context, no locks (the line never changes after boot).
 */
import { boot_command_line, boot_command_line_len } from "./of/fdt";
import { bytes_eq_str, parse_u64 } from "./lib/string";
import { set_console_loglevel, set_printk_time, CONSOLE_LOGLEVEL_QUIET } from "./printk";

/** The value of a parameter, packed: bits 0-31 the pointer, 32-62 the length; -1 when absent, length 0 for a bare `name`. */
export function cmdline_find_in(line: usize, line_len: i32, name: string): i64 {
  let i = 0;
  while (i < line_len) {
    while (i < line_len && load<u8>(line + <usize>i) <= 32) i++;
    if (i >= line_len) break;
    // name: up to '=' or space
    const ks = i;
    while (i < line_len && load<u8>(line + <usize>i) > 32 && load<u8>(line + <usize>i) != 61) i++;
    const klen = i - ks;
    let vs = i;
    let vlen = 0;
    if (i < line_len && load<u8>(line + <usize>i) == 61) {
      i++;
      if (i < line_len && load<u8>(line + <usize>i) == 34) { // "quoted value"
        i++;
        vs = i;
        while (i < line_len && load<u8>(line + <usize>i) != 34) i++;
        vlen = i - vs;
        if (i < line_len) i++;
      } else {
        vs = i;
        while (i < line_len && load<u8>(line + <usize>i) > 32) i++;
        vlen = i - vs;
      }
    }
    if (bytes_eq_str(line + <usize>ks, klen, name)) return (<i64>vlen << 32) | <i64><u32>(line + <usize>vs);
  }
  return -1;
}

/** cmdline_find_in on boot_command_line. */
export function cmdline_find(name: string): i64 {
  return cmdline_find_in(boot_command_line, boot_command_line_len, name);
}

/** Is `name` on the command line (bare or with a value)? */
export function cmdline_has(name: string): bool {
  return cmdline_find(name) >= 0;
}

/** Pointer / length of a packed value from cmdline_find. */
// @ts-ignore: decorator
@inline export function cmdline_val_ptr(v: i64): usize { return <usize><u32>v; }
// @ts-ignore: decorator
@inline export function cmdline_val_len(v: i64): i32 { return <i32>(v >> 32); }

/** Integer parameter (decimal, 0x hex, K/M/G suffixes); `dflt` when absent or malformed. */
export function cmdline_get_int(name: string, dflt: i64): i64 {
  const v = cmdline_find(name);
  if (v < 0) return dflt;
  const n = parse_u64(cmdline_val_ptr(v), cmdline_val_len(v), true);
  return n < 0 ? dflt : n;
}

/** Boolean parameter: bare `name`, name=1/y/yes/on → true; 0/n/no/off → false; absent → dflt. */
export function cmdline_get_bool(name: string, dflt: bool): bool {
  const v = cmdline_find(name);
  if (v < 0) return dflt;
  const p = cmdline_val_ptr(v);
  const len = cmdline_val_len(v);
  if (len == 0) return true;
  const c = load<u8>(p) | 0x20;
  if (c == 49 || c == 121 || (len >= 2 && c == 111 && (load<u8>(p + 1) | 0x20) == 110)) return true; // 1 y on
  return false;
}

/** Does comma-separated `list` (bytes) contain `name`? */
export function list_contains(list: usize, len: i32, name: string): bool {
  let i = 0;
  while (i <= len) {
    let e = i;
    while (e < len && load<u8>(list + <usize>e) != 44) e++;
    if (bytes_eq_str(list + <usize>i, e - i, name)) return true;
    i = e + 1;
  }
  return false;
}

/** Apply the parameters that must act before the first message. Context: boot CPU, early. */
export function parse_early_params(): void {
  if (cmdline_has("quiet")) set_console_loglevel(CONSOLE_LOGLEVEL_QUIET);
  if (cmdline_has("debug")) set_console_loglevel(10);
  const ll = cmdline_get_int("loglevel", -1);
  if (ll >= 0) set_console_loglevel(<i32>(ll > 15 ? 15 : ll));
  if (cmdline_get_bool("printk.time", false)) set_printk_time(true);
}
