/* ioqueue.c — blk's scheduler; see ioqueue.h.
 *
 * Per class: a binary min-heap by finish tag (the order requests go out)
 * and a list by arrival (its head is the class's oldest, for the
 * starvation bound). Both are intrusive: a request knows its heap index and
 * its list neighbours, so it leaves both in O(log n). */
#include "ioqueue.h"

#include <stdlib.h>
#include "blk.h"

struct class_queue {
    struct sched_req **heap;
    size_t n, cap;
    struct sched_req *oldest, *newest;
    uint64_t v;                 /* virtual time */
};

static struct class_queue q[BLK_CLASSES];
static uint64_t starve_ns = 100 * 1000 * 1000ull;

void sched_set_starvation(uint64_t ns)
{
    starve_ns = ns;
}

size_t sched_queued(void)
{
    size_t n = 0;
    for (int c = 0; c < BLK_CLASSES; c++)
        n += q[c].n;
    return n;
}

void sched_tag(struct sched_req *r, uint64_t *client_finish, uint32_t weight, uint32_t cost)
{
    uint64_t v = q[r->cls].v;
    r->start = *client_finish > v ? *client_finish : v;
    r->finish = r->start + (uint64_t)(cost ? cost : 1) * SCHED_SCALE / (weight ? weight : 1);
    *client_finish = r->finish;
}

/* ---- the heap by finish tag (ties by arrival) ---- */

static bool before(const struct sched_req *a, const struct sched_req *b)
{
    return a->finish < b->finish || (a->finish == b->finish && a->arrival_ns < b->arrival_ns);
}

static void put(struct class_queue *c, size_t i, struct sched_req *r)
{
    c->heap[i] = r;
    r->heap_i = i;
}

static void sift_up(struct class_queue *c, size_t i)
{
    struct sched_req *r = c->heap[i];
    while (i > 0 && before(r, c->heap[(i - 1) / 2])) {
        put(c, i, c->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    put(c, i, r);
}

static void sift_down(struct class_queue *c, size_t i)
{
    struct sched_req *r = c->heap[i];
    for (;;) {
        size_t k = 2 * i + 1;
        if (k >= c->n)
            break;
        if (k + 1 < c->n && before(c->heap[k + 1], c->heap[k]))
            k++;
        if (!before(c->heap[k], r))
            break;
        put(c, i, c->heap[k]);
        i = k;
    }
    put(c, i, r);
}

static void heap_take(struct class_queue *c, struct sched_req *r)
{
    size_t i = r->heap_i;
    struct sched_req *last = c->heap[--c->n];
    r->heap_i = SIZE_MAX;
    if (i == c->n)
        return;
    put(c, i, last);
    sift_down(c, i);
    sift_up(c, last->heap_i);
}

/* ---- queueing ---- */

int sched_add(struct sched_req *r)
{
    struct class_queue *c = &q[r->cls];
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        struct sched_req **h = realloc(c->heap, cap * sizeof *h);
        if (!h)
            return -1;
        c->heap = h;
        c->cap = cap;
    }
    c->heap[c->n] = r;
    r->heap_i = c->n++;
    sift_up(c, r->heap_i);
    r->newer = NULL;
    r->older = c->newest;
    if (c->newest)
        c->newest->newer = r;
    else
        c->oldest = r;
    c->newest = r;
    return 0;
}

void sched_remove(struct sched_req *r)
{
    if (r->heap_i == SIZE_MAX)
        return;
    struct class_queue *c = &q[r->cls];
    heap_take(c, r);
    if (r->older)
        r->older->newer = r->newer;
    else
        c->oldest = r->newer;
    if (r->newer)
        r->newer->older = r->older;
    else
        c->newest = r->older;
    r->older = r->newer = NULL;
}

static int by_arrival(const void *a, const void *b)
{
    const struct sched_req *x = *(struct sched_req *const *)a, *y = *(struct sched_req *const *)b;
    return x->arrival_ns < y->arrival_ns ? -1 : x->arrival_ns > y->arrival_ns;
}

int sched_rebuild(struct sched_req **all, size_t n, const uint64_t idle_v[])
{
    qsort(all, n, sizeof *all, by_arrival);
    for (int c = 0; c < BLK_CLASSES; c++)
        q[c].v = UINT64_MAX;
    for (size_t i = 0; i < n; i++) {
        if (sched_add(all[i]) < 0)
            return -1;
        if (all[i]->start < q[all[i]->cls].v)
            q[all[i]->cls].v = all[i]->start;
    }
    for (int c = 0; c < BLK_CLASSES; c++)
        if (q[c].v == UINT64_MAX)
            q[c].v = idle_v[c];
    return 0;
}

struct sched_req *sched_next(uint64_t now_ns)
{
    struct sched_req *pick = NULL;
    for (int c = 0; c < BLK_CLASSES && !pick; c++)
        pick = q[c].n ? q[c].heap[0] : NULL;
    if (!pick)
        return NULL;
    for (int c = pick->cls + 1; c < BLK_CLASSES; c++) {     /* starved: the oldest of a lower class */
        struct sched_req *old = q[c].oldest;
        if (old && now_ns > old->arrival_ns && now_ns - old->arrival_ns > starve_ns) {
            pick = old;
            break;
        }
    }
    sched_remove(pick);
    q[pick->cls].v = pick->start;
    return pick;
}
