/**
 * Suite `printk`: formatting (lib/vsprintf.ts), levels against
 * console_loglevel, and the log ring (printk.ts). Messages the cases log
 * are at KERN_DEBUG, below the default console threshold, so the console
 * (and the KTAP stream on it) stays clean.
 */
import { kunit, kunit_suite, kunit_case, KUNIT_EXPECT_EQ, KUNIT_EXPECT_BYTES_STREQ, KUNIT_EXPECT_TRUE, KUNIT_EXPECT_GE } from "./ktap";
import { vsnprintf, str } from "../lib/vsprintf";
import { printk, pr_debug, log_next_seq, log_first_seq, log_read_record, prb, console_loglevel, LOGLEVEL_DEBUG, LOG_NEWLINE, LOG_BUF_LEN } from "../printk";

const buf: usize = memory.data(256, 8);

function printk_format_integers(test: kunit): void {
  let n = vsnprintf(buf, 256, "%d %u %x %lx %ld", -5, -1, 0xbeef, 0xdead_beef_cafe, -1);
  KUNIT_EXPECT_BYTES_STREQ(test, buf, n, "-5 4294967295 beef deadbeefcafe -1");
  n = vsnprintf(buf, 256, "[%08x|%-4d|%+d|%#x|%5lu]", 0x12ab, 7, 3, 255, 42);
  KUNIT_EXPECT_BYTES_STREQ(test, buf, n, "[000012ab|7   |+3|0xff|   42]");
  n = vsnprintf(buf, 256, "%llu", 0xffff_ffff_ffff_ffff);
  KUNIT_EXPECT_BYTES_STREQ(test, buf, n, "18446744073709551615");
}

function printk_format_strings_pointers(test: kunit): void {
  let n = vsnprintf(buf, 256, "<%s|%6s|%.2s>", str("abc"), str("de"), str("xyz"));
  KUNIT_EXPECT_BYTES_STREQ(test, buf, n, "<abc|    de|xy>");
  n = vsnprintf(buf, 256, "%p", 0x8020_0000);
  KUNIT_EXPECT_BYTES_STREQ(test, buf, n, "ffffffff80200000");
  n = vsnprintf(buf, 256, "%pa", 0x1_0000_0000);
  KUNIT_EXPECT_BYTES_STREQ(test, buf, n, "0x0000000100000000");
}

function printk_format_truncates(test: kunit): void {
  const n = vsnprintf(buf, 4, "%d", 123456);
  KUNIT_EXPECT_EQ(test, n, 6);
  KUNIT_EXPECT_EQ(test, load<u8>(buf + 3), 0);
  KUNIT_EXPECT_BYTES_STREQ(test, buf, 3, "123");
}

const rec: usize = memory.data(128, 8);

function printk_ring_buffer(test: kunit): void {
  const before = log_next_seq();
  printk("\x017printk_test: record %d\n", 42);
  KUNIT_EXPECT_EQ(test, log_next_seq(), before + 1);
  const r = log_read_record(before, rec, 128);
  KUNIT_EXPECT_GE(test, r, 0);
  KUNIT_EXPECT_BYTES_STREQ(test, rec, r >> 16, "printk_test: record 42");
  KUNIT_EXPECT_EQ(test, (r >> 8) & 7, LOGLEVEL_DEBUG);
  KUNIT_EXPECT_EQ(test, r & 0x1f, LOG_NEWLINE);
  KUNIT_EXPECT_EQ(test, log_read_record(log_next_seq(), rec, 128), -1);
  KUNIT_EXPECT_TRUE(test, log_first_seq() <= before);
  KUNIT_EXPECT_EQ(test, prb.log_buf_len, LOG_BUF_LEN);
}

function printk_levels(test: kunit): void {
  // A KERN_DEBUG message is logged but not printed at the default threshold.
  const shown = prb.console_seq;
  pr_debug("printk_test: quiet\n");
  if (console_loglevel <= LOGLEVEL_DEBUG) KUNIT_EXPECT_EQ(test, prb.console_seq, shown);
  const r = log_read_record(log_next_seq() - 1, rec, 128);
  KUNIT_EXPECT_BYTES_STREQ(test, rec, r >> 16, "printk_test: quiet");
}

export function register_printk_tests(): void {
  kunit_suite("printk");
  kunit_case("printk_format_integers", printk_format_integers);
  kunit_case("printk_format_strings_pointers", printk_format_strings_pointers);
  kunit_case("printk_format_truncates", printk_format_truncates);
  kunit_case("printk_ring_buffer", printk_ring_buffer);
  kunit_case("printk_levels", printk_levels);
}
