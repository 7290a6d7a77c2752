// The C version of ../bench_hash.ts.
#include <stdint.h>
#define LEN 16384
static uint64_t buf64[LEN / 8];
static uint32_t crc_table[256];

int64_t bench(void) {
  uint8_t *buf = (uint8_t *)buf64;
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (int i = 0; i < LEN / 8; i++) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    buf64[i] = x;
  }
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    crc_table[i] = c;
  }
  uint32_t fnv = 0x811c9dc5u, crc = 0xffffffffu;
  uint64_t mix = 0;
  for (int i = 0; i < LEN; i++) {
    uint32_t b = buf[i];
    fnv = (fnv ^ b) * 0x01000193u;
    crc = crc_table[(crc ^ b) & 0xff] ^ (crc >> 8);
  }
  for (int i = 0; i < LEN / 8; i++) {
    mix = (mix ^ buf64[i]) * 0xff51afd7ed558ccdull;
    mix ^= mix >> 33;
  }
  return (int64_t)(((uint64_t)fnv << 32) ^ (uint64_t)(~crc) ^ mix);
}
