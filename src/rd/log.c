/* log.c — the undo log and the deferred-release list of one thread.
 *
 * Records are (address, old bytes) pairs or undo functions, appended as the
 * domain runs and replayed newest first on rollback, so the oldest value of
 * a location written twice is the one that ends up restored, and an undo
 * function (say, free of an rd_malloc'd block) runs only after every write
 * into that block has been restored.
 *
 * rd_log_range reads the old bytes before it publishes anything: a bad
 * address faults in that copy, the fault handler blames the domain
 * (in_runtime is clear during the copy), and the log is exactly as it was
 * before the call (only spare capacity may have grown), so the rollback is
 * sound.
 *
 * Frames created inside a domain are never logged or restored: an address
 * on this thread's stack below the domain's entry stack pointer belongs to
 * a frame that the rollback discards anyway, and restoring it could
 * overwrite the very frames the rollback runs in.
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
static int reserve(struct rd_thread *t, struct rd_vec *v, size_t extra, size_t elem)
{
    t->in_runtime++;
    int r = vec_reserve(v, extra, elem);
    t->in_runtime--;
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
    if (reserve(t, &t->recs, 1, sizeof r))
        return -1;
    ((struct rd_rec *)t->recs.data)[t->recs.len++] = r;
    return 0;
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
    if (reserve(t, &t->bytes, len, 1) || reserve(t, &t->recs, 1, sizeof(struct rd_rec)))
        rd_abort(RD_ENOMEM);
    size_t off = t->bytes.len;
    memcpy((char *)t->bytes.data + off, (const void *)a, len);  /* may fault */
    t->bytes.len += len;
    struct rd_rec r = { .type = RD_REC_BYTES, .u.bytes = { (void *)a, len, off } };
    ((struct rd_rec *)t->recs.data)[t->recs.len++] = r;
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
    if (reserve(t, &t->deferred, 1, sizeof(struct rd_deferred)))
        rd_abort(RD_ENOMEM);
    ((struct rd_deferred *)t->deferred.data)[t->deferred.len++] = (struct rd_deferred){ fn, arg };
}

/* ------------------------------------------------- rollback and commit */

static void truncate_to(struct rd_thread *t, const struct rd_marks *m)
{
    t->recs.len = m->recs;
    t->bytes.len = m->bytes;
    t->deferred.len = m->deferred;
}

static void replay(const struct rd_thread *t, const struct rd_rec *r, uintptr_t limit)
{
    if (r->type == RD_REC_UNDO) {
        r->u.undo.fn(r->u.undo.arg);
        return;
    }
    uintptr_t a = (uintptr_t)r->u.bytes.addr;
    size_t len = r->u.bytes.len, skipped;
    clip_frames(t, limit, &a, &len);
    skipped = r->u.bytes.len - len;
    const char *old = (const char *)t->bytes.data + r->u.bytes.off + skipped;
    /* Unchanged bytes are left alone: the write that was logged may have
     * been the one that faulted (a read-only page), so storing into it
     * again would fault inside the runtime. */
    if (memcmp((const void *)a, old, len) != 0)
        memcpy((void *)a, old, len);
}

/* Undoes everything `d` (and the domains merged into it) did, newest first,
 * and forgets its records and deferred releases. The caller has set
 * in_runtime: a fault in an undo function is the runtime's. */
void rd_log_rollback(struct rd_thread *t, const struct rd_domain *d)
{
    const struct rd_rec *recs = t->recs.data;
    for (size_t i = t->recs.len; i > d->marks.recs; i--)
        replay(t, &recs[i - 1], d->entry_sp);
    truncate_to(t, &d->marks);
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
    truncate_to(t, m);
}

void rd_log_release(struct rd_thread *t)
{
    free(t->recs.data);
    free(t->bytes.data);
    free(t->deferred.data);
    t->recs = t->bytes = t->deferred = (struct rd_vec){ 0 };
}
