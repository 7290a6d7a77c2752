/* A differential check of the CPU: C compiled by GCC (nobody here wrote the
 * code generator) exercising 64-bit arithmetic, division, shifts, byte
 * access, misaligned access, atomics and recursion. It prints its results
 * through the HTIF console, so the output can be compared with QEMU's spike
 * machine and with values the test computes in JavaScript. */
#include <stdint.h>

extern volatile uint64_t tohost, fromhost;

static void putch(char c) {
  tohost = (1ull << 56) | (1ull << 48) | (unsigned char)c;
  while (tohost != 0) {}
}
static void puts_(const char *s) { while (*s) putch(*s++); }
static void puthex(uint64_t v) {
  puts_("0x");
  for (int i = 60; i >= 0; i -= 4) putch("0123456789abcdef"[(v >> i) & 15]);
  putch('\n');
}

static uint32_t crc32(const uint8_t *p, int n) {
  uint32_t c = 0xffffffffu;
  for (int i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & -(c & 1));
  }
  return ~c;
}

static uint64_t fib(int n) { return n < 2 ? (uint64_t)n : fib(n - 1) + fib(n - 2); }

static uint8_t buf[1024];

int main(void) {
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (int i = 0; i < 1024; i++) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    buf[i] = (uint8_t)x;
  }
  puts_("crc32 "); puthex(crc32(buf, 1024));

  uint64_t acc = 0;
  int64_t s = -1234567890123ll;
  for (int i = 1; i < 200; i++) {
    uint64_t a = x * (uint64_t)i + 0x1234;
    acc += a / (uint64_t)(i * 7 + 1);
    acc ^= a % (uint64_t)(i + 3);
    acc += (uint64_t)(s / i) + (uint64_t)(s % (i + 1));
    acc = (acc << (i & 63)) | (acc >> ((64 - (i & 63)) & 63));
    acc += ((__uint128_t)a * acc) >> 64;          /* mulhu */
    acc += (uint64_t)(((__int128)(int64_t)a * (int64_t)acc) >> 64); /* mulh */
  }
  puts_("arith "); puthex(acc);

  /* misaligned 64-bit access across a word boundary */
  uint64_t m;
  __builtin_memcpy(&m, buf + 3, 8);
  volatile uint64_t *mp = (volatile uint64_t *)(void *)(buf + 5);
  *mp = m;
  puts_("misaligned "); puthex(*mp);

  static uint64_t counter;
  for (int i = 0; i < 10; i++) __atomic_fetch_add(&counter, (uint64_t)i, __ATOMIC_SEQ_CST);
  uint64_t expected = 45;
  __atomic_compare_exchange_n(&counter, &expected, 1000, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  puts_("atomic "); puthex(counter);

  puts_("fib "); puthex(fib(24));
  return counter == 1000 ? 0 : 5;
}
