/* deadline_heap.h — the timer service's queue: a binary min-heap of
 * deadlines, each entry knowing its own index so it can be removed when its
 * session ends. */
#ifndef RV_DEADLINE_HEAP_H
#define RV_DEADLINE_HEAP_H

#include <stddef.h>
#include <stdint.h>
#include "revive/server.h"

struct deadline {
    uint64_t deadline, period;
    rv_svc_session *sess;
    size_t index;       /* position in the heap, or SIZE_MAX when not queued */
};

struct deadline_heap {
    struct deadline **v;
    size_t n, cap;
};

int heap_push(struct deadline_heap *h, struct deadline *d);
void heap_remove(struct deadline_heap *h, struct deadline *d);
/* The earliest entry if its deadline is at or before now (removed), else NULL. */
struct deadline *heap_pop_due(struct deadline_heap *h, uint64_t now);
uint64_t heap_min_deadline(const struct deadline_heap *h);   /* 0 when empty */

#endif
