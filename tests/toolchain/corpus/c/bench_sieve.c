// The C version of ../bench_sieve.ts.
#include <stdint.h>
#include <stddef.h>
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
#define N 65536
static uint8_t flags[N];

int64_t bench(void) {
  int64_t total = 0;
  for (int round = 0; round < 4; round++) {
    memset(flags, 1, N);
    flags[0] = 0;
    flags[1] = 0;
    for (uint32_t i = 2; i * i < N; i++) {
      if (flags[i]) {
        for (uint32_t j = i * i; j < N; j += i) flags[j] = 0;
      }
    }
    int64_t count = 0;
    for (uint32_t i = 0; i < N; i++) count += flags[i];
    total = total * 31 + count;
  }
  return total;
}
