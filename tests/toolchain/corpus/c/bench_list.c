// The C version of ../bench_list.ts: nodes hold a next pointer and a value.
#include <stddef.h>
#include <stdint.h>
#define NODES 4096
struct node { struct node *next; uint32_t value; };
static struct node pool[NODES];
static struct node *free_list, *head;
static uint32_t rng;

static uint32_t rand32(void) {
  rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5;
  return rng;
}
static struct node *alloc(void) {
  struct node *n = free_list;
  if (n) free_list = n->next;
  return n;
}
static void release(struct node *n) {
  n->next = free_list;
  free_list = n;
}

int64_t bench(void) {
  rng = 12345;
  free_list = NULL;
  for (int i = NODES - 1; i >= 1; i--) release(&pool[i]);
  head = NULL;
  int64_t sum = 0;
  for (int step = 0; step < 20000; step++) {
    uint32_t r = rand32();
    if ((r & 3) != 0) {
      struct node *n = alloc();
      if (n) { n->next = head; n->value = r; head = n; }
    } else {
      struct node *prev = NULL, *cur = head;
      int hops = 0;
      while (cur && hops < 16) {
        if ((cur->value & 0x30) == ((r >> 2) & 0x30)) {
          if (!prev) head = cur->next; else prev->next = cur->next;
          sum += cur->value;
          release(cur);
          break;
        }
        prev = cur;
        cur = cur->next;
        hops++;
      }
    }
  }
  for (struct node *cur = head; cur; cur = cur->next) sum = sum * 7 + cur->value;
  return sum;
}
