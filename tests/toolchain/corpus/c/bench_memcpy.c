// The C version of ../bench_memcpy.ts.
#include <stdint.h>
#include <stddef.h>
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
#define LEN 8192
static uint8_t src[LEN] __attribute__((aligned(16)));
static uint8_t dst[LEN] __attribute__((aligned(16)));

int64_t bench(void) {
  for (uint32_t i = 0; i < LEN; i++) src[i] = (uint8_t)(i * 7 + (i >> 8));
  int64_t h = 0;
  for (int round = 0; round < 8; round++) {
    for (uint32_t n = 1; n < 4096; n = n * 3 + 1) {
      for (uint32_t a = 0; a < 4; a++) {
        memcpy(dst + a, src + a * 3, n);
        h = h * 31 + dst[a + n - 1];
      }
    }
    for (uint32_t i = 0; i < 2048; i++) dst[4096 + i] = src[1 + i];
    int64_t w;
    memcpy(&w, dst + 4096 + 8 * round, 8);
    h ^= w;
  }
  return h;
}
