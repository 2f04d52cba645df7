/* deadline_heap.c — see deadline_heap.h. */
#include "deadline_heap.h"

#include <stdlib.h>

static void place(struct deadline_heap *h, size_t i, struct deadline *d)
{
    h->v[i] = d;
    d->index = i;
}

static void sift_up(struct deadline_heap *h, size_t i)
{
    struct deadline *d = h->v[i];
    while (i > 0 && h->v[(i - 1) / 2]->deadline > d->deadline) {
        place(h, i, h->v[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    place(h, i, d);
}

static void sift_down(struct deadline_heap *h, size_t i)
{
    struct deadline *d = h->v[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && h->v[c + 1]->deadline < h->v[c]->deadline)
            c++;
        if (h->v[c]->deadline >= d->deadline)
            break;
        place(h, i, h->v[c]);
        i = c;
    }
    place(h, i, d);
}

int heap_push(struct deadline_heap *h, struct deadline *d)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        struct deadline **v = realloc(h->v, cap * sizeof *v);
        if (!v)
            return -1;
        h->v = v;
        h->cap = cap;
    }
    place(h, h->n++, d);
    sift_up(h, d->index);
    return 0;
}

void heap_remove(struct deadline_heap *h, struct deadline *d)
{
    size_t i = d->index;
    if (i >= h->n || h->v[i] != d)
        return;
    d->index = SIZE_MAX;
    struct deadline *last = h->v[--h->n];
    if (i == h->n)
        return;
    place(h, i, last);
    sift_down(h, i);
    sift_up(h, last->index);
}

struct deadline *heap_pop_due(struct deadline_heap *h, uint64_t now)
{
    if (h->n == 0 || h->v[0]->deadline > now)
        return NULL;
    struct deadline *d = h->v[0];
    heap_remove(h, d);
    return d;
}

uint64_t heap_min_deadline(const struct deadline_heap *h)
{
    return h->n ? h->v[0]->deadline : 0;
}
