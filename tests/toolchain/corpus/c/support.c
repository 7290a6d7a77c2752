// memcpy / memmove / memset for the freestanding C benchmark programs:
// word at a time when source and destination share their alignment, as a
// reasonable libc would (compiled with -fno-builtin -fno-tree-loop-distribute-patterns
// so that gcc does not turn these loops back into calls to themselves).
#include <stddef.h>
#include <stdint.h>

void *memcpy(void *dst, const void *src, size_t n) {
  uint8_t *d = dst;
  const uint8_t *s = src;
  if ((((uintptr_t)d ^ (uintptr_t)s) & 7) == 0) {
    while (n && ((uintptr_t)d & 7)) { *d++ = *s++; n--; }
    while (n >= 8) { *(uint64_t *)d = *(const uint64_t *)s; d += 8; s += 8; n -= 8; }
  }
  while (n--) *d++ = *s++;
  return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
  uint8_t *d = dst;
  const uint8_t *s = src;
  if (d <= s || d >= s + n) return memcpy(dst, src, n);
  d += n; s += n;
  while (n--) *--d = *--s;
  return dst;
}

void *memset(void *dst, int c, size_t n) {
  uint8_t *d = dst;
  uint64_t v = (uint8_t)c * 0x0101010101010101ull;
  while (n && ((uintptr_t)d & 7)) { *d++ = (uint8_t)c; n--; }
  while (n >= 8) { *(uint64_t *)d = v; d += 8; n -= 8; }
  while (n--) *d++ = (uint8_t)c;
  return dst;
}
