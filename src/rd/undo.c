/* undo.c — rolling logs back, possibly several at once, across threads.
 *
 * A rollback undoes the records of one thread's log above a domain's marks
 * and, for a cascade, the logs of completed domains it condemned (their
 * threads have moved on). Each log is undone newest first. Across logs —
 * and across threads, since each condemned thread undoes its own log at the
 * same time — the order that matters is per granule: when several condemned
 * domains wrote one granule, the latest write must be undone first, so that
 * the earliest pre-image is what stays (paper §4.4: memory as if none of
 * them ran). The shadow word gives that order: it names the last writer,
 * and undoing a record puts back the word it replaced. So a record is
 * undone only once every granule it covers names its writer again; until
 * then another log holds a later write there, and the rollback turns to
 * its other logs or sleeps until some thread undoes something.
 *
 * That cannot deadlock: of all records not yet undone, the latest one is
 * always undoable (every later write of its granules is undone, and each
 * later writer depended on the earlier one, so it was condemned too), and
 * it is the newest of its log, so whoever undoes that log can take it.
 */
#include <string.h>

#include "rd_internal.h"

static int undo_epoch;          /* bumped after every undone published record */
static int undo_waiters;

void rd_undo_wake(void)
{
    __atomic_add_fetch(&undo_epoch, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&undo_waiters, __ATOMIC_SEQ_CST))
        rd_futex_wake(&undo_epoch);
}

/* One log being undone: records [end, pos) remain. */
struct cursor {
    const struct rd_rec *recs;
    size_t pos, end;
    const char *bytes;
    struct rd_thread *t;        /* the log's own thread, or NULL (completed) */
    uintptr_t limit;            /* its frames below this are not restored */
};

static uint64_t prev_word(const struct cursor *c, const struct rd_rec *r, size_t i)
{
    uint64_t w;
    memcpy(&w, c->bytes + r->u.bytes.prev + i * sizeof w, sizeof w);
    return w;
}

static int ready(const struct rd_rec *r)
{
    if (r->type != RD_REC_BYTES || !r->u.bytes.owner)
        return 1;
    uintptr_t a = (uintptr_t)r->u.bytes.addr;
    size_t n = rd_granules(a, r->u.bytes.len);
    for (size_t i = 0; i < n; i++)
        if (__atomic_load_n(rd_shadow_word(a + i * RD_GRANULE), __ATOMIC_ACQUIRE) != r->u.bytes.owner)
            return 0;
    return 1;
}

/* Unchanged bytes are left alone: the write that was logged may have been
 * the one that faulted (a read-only page), so storing into it again would
 * fault inside the runtime. */
static void restore(void *dst, const char *old, size_t len)
{
    if (memcmp(dst, old, len) != 0)
        memcpy(dst, old, len);
}

static void undo_bytes(const struct cursor *c, const struct rd_rec *r)
{
    uintptr_t a = (uintptr_t)r->u.bytes.addr;
    size_t len = r->u.bytes.len;
    const char *old = c->bytes + r->u.bytes.off;
    if (!r->u.bytes.owner) {        /* own stack: clip the domain's frames */
        uintptr_t from = a;
        if (a >= c->t->stack_lo && a < c->limit)
            from = c->limit < a + len ? c->limit : a + len;
        if (r->u.bytes.copied && from < a + len)
            restore((void *)from, old + (from - a), a + len - from);
        return;
    }
    /* Granule by granule, newest word first: bytes, then the word. */
    size_t n = rd_granules(a, len);
    for (size_t i = n; i-- > 0;) {
        uintptr_t lo = (a / RD_GRANULE + i) * RD_GRANULE, hi = lo + RD_GRANULE;
        lo = lo < a ? a : lo;
        hi = hi > a + len ? a + len : hi;
        if (r->u.bytes.copied)
            restore((void *)lo, old + (lo - a), hi - lo);
        __atomic_store_n(rd_shadow_word(lo), prev_word(c, r, i), __ATOMIC_RELEASE);
    }
    rd_undo_wake();
}

/* A mutex taken inside the domain and still held is released here, after
 * everything written under it has been restored. */
static void undo_lock(struct rd_thread *t, size_t rec, pthread_mutex_t *m)
{
    const struct rd_held *h = t->held.data;
    for (size_t i = t->held.len; i-- > 0;)
        if (h[i].rec == rec && h[i].lock == m) {
            rd_held_drop(t, i);
            rd_lock_released(m);
            return;
        }
}

static void undo_one(struct cursor *c, size_t i)
{
    const struct rd_rec *r = &c->recs[i];
    if (r->type == RD_REC_UNDO)
        r->u.undo.fn(r->u.undo.arg);
    else if (r->type == RD_REC_LOCK)
        undo_lock(c->t, i, r->u.lock);
    else
        undo_bytes(c, r);
}

/* Undoes what it can of c; returns 1 if anything was undone. */
static int advance(struct cursor *c)
{
    int moved = 0;
    while (c->pos > c->end && ready(&c->recs[c->pos - 1])) {
        undo_one(c, c->pos - 1);
        c->pos--;
        moved = 1;
    }
    return moved;
}

static struct cursor orphan_cursor(struct rd_node *n)
{
    return (struct cursor){ .recs = n->seg.recs, .pos = n->undo_pos,
                            .bytes = n->seg.bytes };
}

void rd_undo(struct rd_thread *t, const struct rd_domain *d, struct rd_node *orphans)
{
    struct cursor own = { .recs = t->recs.data, .pos = t->recs.len, .end = d->marks.recs,
                          .bytes = t->bytes.data, .t = t, .limit = d->entry_sp };
    for (;;) {
        int epoch = __atomic_load_n(&undo_epoch, __ATOMIC_SEQ_CST);
        int moved = advance(&own), left = own.pos > own.end;
        for (struct rd_node *n = orphans; n; n = n->next) {
            struct cursor c = orphan_cursor(n);
            moved |= advance(&c);
            n->undo_pos = c.pos;
            left |= c.pos > 0;
        }
        if (!left)
            break;
        if (!moved) {
            __atomic_add_fetch(&undo_waiters, 1, __ATOMIC_SEQ_CST);
            rd_futex_wait(&undo_epoch, epoch);
            __atomic_sub_fetch(&undo_waiters, 1, __ATOMIC_SEQ_CST);
        }
    }
    rd_log_truncate(t, &d->marks);
}
