/* log.c — the undo log and the deferred-release list of one thread.
 *
 * Records are (address, old bytes) pairs, undo functions or mutexes taken
 * inside the domain, appended as the domain runs and replayed newest first
 * on rollback (undo.c), so the oldest value of a location written twice is
 * the one that ends up restored, and an undo function (say, free of an
 * rd_malloc'd block) runs only after every write into that block has been
 * restored.
 *
 * A logged write also publishes the domain as the granules' last writer in
 * the shadow table (shadow.c), keeping the words it replaced in the record
 * so the rollback can put them back; a replaced word naming another
 * domain's uncommitted write makes this domain depend on that one. The
 * words are published before the old bytes are copied and the record is
 * pushed with `copied` clear: a bad address then faults in the copy, the
 * fault handler blames the domain (in_runtime is clear during the copy),
 * and the rollback restores the words and leaves the bytes alone — no
 * write happened. Publishing first also closes a window: a rollback of the
 * earlier writer waits for this record before it restores the granule, so
 * the old bytes copied here cannot be overwritten under this domain.
 *
 * Frames created inside a domain are never logged or restored: an address
 * on this thread's stack below the domain's entry stack pointer belongs to
 * a frame that the rollback discards anyway, and restoring it could
 * overwrite the very frames the rollback runs in. Writes to this thread's
 * own stack are not published: no other thread reads them.
 */
#include <stdlib.h>
#include <string.h>

#include "rd_internal.h"

/* -------------------------------------------------------- growable arrays */

static int vec_reserve(struct rd_vec *v, size_t extra, size_t elem)
{
    if (v->cap - v->len >= extra)
        return 0;
    size_t cap = v->cap ? v->cap : 64;
    while (cap - v->len < extra)
        cap *= 2;
    void *n = realloc(v->data, cap * elem);
    if (!n)
        return -1;
    v->data = n;
    v->cap = cap;
    return 0;
}

/* Growth changes runtime state only, never the log's contents, but a fault
 * inside the allocator is not the domain's fault. */
int rd_reserve(struct rd_thread *t, struct rd_vec *v, size_t extra, size_t elem)
{
    if (v->cap - v->len >= extra)
        return 0;
    rd_runtime_enter(t);
    int r = vec_reserve(v, extra, elem);
    rd_runtime_leave(t);
    return r;
}

/* ------------------------------------------------------------- the stack */

/* Trims [*addr, *addr+*len) so it starts at or above `limit` when it starts
 * in this thread's stack below `limit` (a frame newer than the domain). */
static void clip_frames(const struct rd_thread *t, uintptr_t limit,
                        uintptr_t *addr, size_t *len)
{
    if (*addr < t->stack_lo || *addr >= limit)
        return;
    size_t cut = limit - *addr;
    *len = *len > cut ? *len - cut : 0;
    *addr = limit;
}

/* -------------------------------------------------------------- logging */

int rd_logging(const struct rd_thread *t)
{
    return t->top && t->top->kind != RD_UNLOGGED;
}

struct rd_marks rd_log_marks(const struct rd_thread *t)
{
    return (struct rd_marks){ t->recs.len, t->bytes.len, t->deferred.len };
}

size_t rd_log_count(void)
{
    return rd_self.recs.len;
}

static int push_rec(struct rd_thread *t, struct rd_rec r)
{
    if (rd_reserve(t, &t->recs, 1, sizeof r))
        return -1;
    ((struct rd_rec *)t->recs.data)[t->recs.len++] = r;
    return 0;
}

/* Makes the innermost domain the last writer of every granule of
 * [a, a+len), keeping the replaced words at `prev` in the byte pool. */
static void publish(struct rd_thread *t, uintptr_t a, size_t len, uint64_t me, size_t prev)
{
    size_t n = rd_granules(a, len);
    char *dst = (char *)t->bytes.data + prev;
    for (size_t i = 0; i < n; i++) {
        uint64_t *w = rd_shadow_word(a + i * RD_GRANULE);
        uint64_t old = __atomic_load_n(w, __ATOMIC_ACQUIRE);
        __atomic_store_n(w, me, __ATOMIC_RELEASE);
        memcpy(dst + i * sizeof old, &old, sizeof old);
    }
}

/* The replaced words that name another domain's uncommitted write are
 * dependences (an overwrite too: see shadow.c). */
static void depend_on_replaced(struct rd_thread *t, const struct rd_rec *r)
{
    size_t n = rd_granules((uintptr_t)r->u.bytes.addr, r->u.bytes.len);
    size_t prev = r->u.bytes.prev;
    for (size_t i = 0; i < n; i++) {
        uint64_t old;
        memcpy(&old, (char *)t->bytes.data + prev + i * sizeof old, sizeof old);
        if (old && old != r->u.bytes.owner && !rd_node_is_mine(t, old))
            rd_depend(t, old);
    }
}

void rd_log_range(const volatile void *addr, size_t len)
{
    struct rd_thread *t = &rd_self;
    if (!rd_logging(t))
        return;
    uintptr_t a = (uintptr_t)addr;
    clip_frames(t, t->top->entry_sp, &a, &len);
    if (len == 0)
        return;
    uint64_t me = rd_on_own_stack(t, a) ? 0 : rd_node_id(t->top->node);
    size_t words = me ? rd_granules(a, len) * sizeof(uint64_t) : 0;
    if (rd_reserve(t, &t->bytes, len + words, 1) || rd_reserve(t, &t->recs, 1, sizeof(struct rd_rec)))
        rd_abort(RD_ENOMEM);
    size_t off = t->bytes.len;
    struct rd_rec *r = (struct rd_rec *)t->recs.data + t->recs.len;
    *r = (struct rd_rec){ .type = RD_REC_BYTES,
                          .u.bytes = { (void *)a, len, off, off + len, me, 0 } };
    if (me)
        publish(t, a, len, me, off + len);
    t->bytes.len += len + words;
    t->recs.len++;
    memcpy((char *)t->bytes.data + off, (const void *)a, len);  /* may fault */
    r->u.bytes.copied = 1;
    /* With one thread every replaced word is this thread's own (nesting
     * orders those) or committed; a second thread sets rd_multi before its
     * first write. */
    if (me && __atomic_load_n(&rd_multi, __ATOMIC_RELAXED))
        depend_on_replaced(t, r);
}

void rd_log_undo(rd_fn fn, void *arg)
{
    struct rd_thread *t = &rd_self;
    if (!t->top)
        return;
    struct rd_rec r = { .type = RD_REC_UNDO, .u.undo = { fn, arg } };
    if (push_rec(t, r)) {
        fn(arg);       /* the domain is rolled back, so undo this one now */
        rd_abort(RD_ENOMEM);
    }
}

void rd_defer(rd_fn fn, void *arg)
{
    struct rd_thread *t = &rd_self;
    if (!rd_logging(t)) {
        fn(arg);
        return;
    }
    if (rd_reserve(t, &t->deferred, 1, sizeof(struct rd_deferred)))
        rd_abort(RD_ENOMEM);
    ((struct rd_deferred *)t->deferred.data)[t->deferred.len++] = (struct rd_deferred){ fn, arg };
}

/* ------------------------------------------------- commit and hand-over */

/* The held list stays in acquisition order (rd_held_forget relies on it). */
void rd_held_drop(struct rd_thread *t, size_t i)
{
    struct rd_held *h = t->held.data;
    memmove(&h[i], &h[i + 1], (t->held.len - i - 1) * sizeof *h);
    t->held.len--;
}

/* Mutexes recorded above from_rec are no longer the log's to release: the
 * domain that took them committed (the thread still holds them). */
void rd_held_forget(struct rd_thread *t, size_t from_rec)
{
    const struct rd_held *h = t->held.data;
    while (t->held.len > 0 && h[t->held.len - 1].rec >= from_rec)
        t->held.len--;
}

void rd_log_truncate(struct rd_thread *t, const struct rd_marks *m)
{
    rd_held_forget(t, m->recs);
    t->recs.len = m->recs;
    t->bytes.len = m->bytes;
    t->deferred.len = m->deferred;
}

/* A domain's work is final: run its deferred releases in the order they
 * were requested, then forget its records. The caller has set in_runtime:
 * a release that faults is the runtime's fault, and releases (like undo
 * functions) must not call back into rd_*. */
void rd_log_commit(struct rd_thread *t, const struct rd_marks *m)
{
    const struct rd_deferred *dv = t->deferred.data;
    for (size_t i = m->deferred; i < t->deferred.len; i++)
        dv[i].fn(dv[i].arg);
    rd_log_truncate(t, m);
}

static void *dup_range(const struct rd_vec *v, size_t from, size_t elem)
{
    size_t n = (v->len - from) * elem;
    void *p = malloc(n ? n : 1);
    if (p && n)
        memcpy(p, (const char *)v->data + from * elem, n);
    return p;
}

/* Writes to this thread's stack stay behind (the thread goes on using its
 * frames; restoring them later, from another thread, would corrupt it), and
 * so do mutex records (the thread still holds those mutexes and releases
 * them itself). The caller has set in_runtime. */
int rd_log_detach(struct rd_thread *t, const struct rd_marks *m, struct rd_seg *seg)
{
    struct rd_seg s = { 0 };
    s.recs = malloc((t->recs.len - m->recs + 1) * sizeof *s.recs);
    s.bytes = dup_range(&t->bytes, m->bytes, 1);
    s.deferred = dup_range(&t->deferred, m->deferred, sizeof *s.deferred);
    if (!s.recs || !s.bytes || !s.deferred) {
        free(s.recs);
        free(s.bytes);
        free(s.deferred);
        return -1;
    }
    const struct rd_rec *recs = t->recs.data;
    for (size_t i = m->recs; i < t->recs.len; i++) {
        struct rd_rec r = recs[i];
        if (r.type == RD_REC_LOCK || (r.type == RD_REC_BYTES && !r.u.bytes.owner))
            continue;
        if (r.type == RD_REC_BYTES) {
            r.u.bytes.off -= m->bytes;
            r.u.bytes.prev -= m->bytes;
        }
        s.recs[s.nrecs++] = r;
    }
    s.ndeferred = t->deferred.len - m->deferred;
    *seg = s;
    rd_log_truncate(t, m);
    return 0;
}

void rd_log_release(struct rd_thread *t)
{
    free(t->recs.data);
    free(t->bytes.data);
    free(t->deferred.data);
    free(t->held.data);
    t->recs = t->bytes = t->deferred = t->held = (struct rd_vec){ 0 };
}
