/**
 * V8 harness for the kernel's pure logic (formatting, printk, FDT, command
 * line): compiled with asc by tests/kernel/v8.ts and run in V8 with the
 * "riscv" intrinsics stubbed in JavaScript. Exports thin wrappers; strings
 * come in through the runtime's __new (compiled with --exportRuntime).
 */
import { vsnprintf, scnprintf } from "../../../kernel/lib/vsprintf";
import {
  printk, pr_info, pr_err, pr_cont, pr_debug, log_first_seq, log_next_seq, log_read_record, prb, log_buf,
  console_loglevel, set_console_loglevel, printk_time, set_printk_time,
} from "../../../kernel/printk";
import {
  early_init_dt_scan, nr_mem_banks, of_mem_bank, nr_reserved, of_reserved, nr_cpu_ids, cpuid_to_hartid,
  boot_command_line, boot_command_line_len, of_timebase_frequency, of_find_compatible_node, of_address_to_resource,
  resource, of_irq_get, of_irq_context_target,
} from "../../../kernel/of/fdt";
import { fdt_path_offset, fdt_check_header, fdt_get_name, fdt_parent_offset, fdt_first_subnode, fdt_next_subnode } from "../../../kernel/lib/fdt";
import { cmdline_find, cmdline_get_int, cmdline_get_bool, list_contains, parse_early_params } from "../../../kernel/cmdline";
import { parse_u64 } from "../../../kernel/lib/string";

export const OUT_SIZE: i32 = 4096;
export const out: usize = memory.data(4096, 8);
/** Where the host copies a DTB. */
export const dtb_area: usize = memory.data(65536, 8);

export function t_snprintf(fmt: string, size: i32, a0: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64, a6: u64, a7: u64): i32 {
  return vsnprintf(out, size, fmt, a0, a1, a2, a3, a4, a5, a6, a7);
}
export function t_scnprintf(fmt: string, size: i32, a0: u64, a1: u64): i32 {
  return scnprintf(out, size, fmt, a0, a1);
}

export function t_printk(fmt: string, a0: u64, a1: u64): i32 { return printk(fmt, a0, a1); }
export function t_pr_info(fmt: string, a0: u64): i32 { return pr_info(fmt, a0); }
export function t_pr_err(fmt: string, a0: u64): i32 { return pr_err(fmt, a0); }
export function t_pr_debug(fmt: string, a0: u64): i32 { return pr_debug(fmt, a0); }
export function t_pr_cont(fmt: string, a0: u64): i32 { return pr_cont(fmt, a0); }
export function t_log_first_seq(): u64 { return log_first_seq(); }
export function t_log_next_seq(): u64 { return log_next_seq(); }
export function t_log_read(seq: u64): i32 { return log_read_record(seq, out, OUT_SIZE); }
export function t_prb(): usize { return changetype<usize>(prb); }
export function t_log_buf(): usize { return log_buf; }
export function t_set_loglevel(l: i32): void { set_console_loglevel(l); }
export function t_loglevel(): i32 { return console_loglevel; }
export function t_printk_time(): bool { return printk_time; }
export function t_set_printk_time(on: bool): void { set_printk_time(on); }

export function t_dt_scan(boot_hart: i32): i32 { return early_init_dt_scan(dtb_area, boot_hart); }
export function t_check_header(): i32 { return fdt_check_header(dtb_area); }
export function t_nr_mem_banks(): i32 { return nr_mem_banks; }
export function t_mem_base(i: i32): u64 { return of_mem_bank(i).base; }
export function t_mem_size(i: i32): u64 { return of_mem_bank(i).size; }
export function t_nr_reserved(): i32 { return nr_reserved; }
export function t_rsv_base(i: i32): u64 { return of_reserved(i).base; }
export function t_rsv_size(i: i32): u64 { return of_reserved(i).size; }
export function t_rsv_flags(i: i32): u32 { return of_reserved(i).flags; }
export function t_nr_cpu_ids(): i32 { return nr_cpu_ids; }
export function t_hartid(cpu: i32): i32 { return cpuid_to_hartid(cpu); }
export function t_bootargs(): usize { return boot_command_line; }
export function t_bootargs_len(): i32 { return boot_command_line_len; }
export function t_timebase(): u64 { return of_timebase_frequency; }
export function t_path(p: string): i32 { return fdt_path_offset(dtb_area, p); }
export function t_name(node: i32): usize { return fdt_get_name(dtb_area, node); }
export function t_parent(node: i32): i32 { return fdt_parent_offset(dtb_area, node); }
export function t_first_subnode(node: i32): i32 { return fdt_first_subnode(dtb_area, node); }
export function t_next_subnode(node: i32): i32 { return fdt_next_subnode(dtb_area, node); }
export function t_compat(from: i32, c: string): i32 { return of_find_compatible_node(from, c); }
const res = changetype<resource>(memory.data(16, 8));
export function t_reg(node: i32, index: i32): i32 { return of_address_to_resource(node, index, res); }
export function t_res_start(): u64 { return res.start; }
export function t_res_end(): u64 { return res.end; }
export function t_irq(node: i32, index: i32): i32 { return of_irq_get(node, index); }
export function t_irq_ctx(node: i32, index: i32): i32 { return of_irq_context_target(node, index); }

export function t_cmdline_find(name: string): i64 { return cmdline_find(name); }
export function t_cmdline_int(name: string, d: i64): i64 { return cmdline_get_int(name, d); }
export function t_cmdline_bool(name: string, d: bool): bool { return cmdline_get_bool(name, d); }
export function t_list_contains(list: usize, len: i32, name: string): bool { return list_contains(list, len, name); }
export function t_parse_early(): void { parse_early_params(); }
export function t_parse_u64(p: usize, len: i32, suffix: bool): i64 { return parse_u64(p, len, suffix); }
