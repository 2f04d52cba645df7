/* fsstate.c — the fs service's state in its arena, and recovery; see
 * fsstate.h. */
#include "fsstate.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "fscore.h"
#include "revive/arena.h"
#include "txnio.h"

#define STATE_MAGIC 0x3174617473736672ull   /* "rfsstat1" */
#define LOG_PAGES 1024u                     /* a 1 MiB write and its metadata, with room to spare */
#define JOURNAL_SLOTS 64u                   /* FUSE requests in flight at a death: one at a time */
#define MOUNT_OPEN_MAX 8192u                /* files the mount may hold open at once */
#define NATIVE_OPEN_MAX 16384u

struct open_count {
    uint32_t ino;
    uint32_t count;                         /* 0: a free slot */
};

struct open_table {
    uint32_t hwm;                           /* slots in use are below it */
    uint32_t pad;
    struct open_count e[];
};

struct journal_entry {
    uint64_t unique;
    uint32_t ino;
    uint32_t pad;
};

struct fs_state {
    uint64_t magic;
    void *log;
    size_t log_bytes;
    struct rv_fuse_state fuse;
    struct journal_entry journal[JOURNAL_SLOTS];
    struct open_table mount_opens;          /* MOUNT_OPEN_MAX entries follow */
};

static struct fs_state *st;
static struct {
    uint32_t hwm;
    uint32_t pad;
    struct open_count e[NATIVE_OPEN_MAX];
} native;

static size_t state_bytes(void)
{
    return sizeof(struct fs_state) + MOUNT_OPEN_MAX * sizeof(struct open_count);
}

struct rv_fuse_state *fss_fuse_state(void)
{
    return &st->fuse;
}

/* ---- metadata: absolute writes into the state, applied at settle ---- */

struct meta_rec {
    uint32_t off;
    uint32_t len;
};

static struct {
    uint8_t b[TXN_META_MAX];
    size_t len;
    bool overflow;
} meta;

static void meta_put(const void *dst, const void *src, size_t len)
{
    size_t need = sizeof(struct meta_rec) + ((len + 7) & ~(size_t)7);
    if (meta.len + need > sizeof meta.b) {
        meta.overflow = true;
        return;
    }
    struct meta_rec r = { (uint32_t)((const uint8_t *)dst - (const uint8_t *)st), (uint32_t)len };
    memcpy(meta.b + meta.len, &r, sizeof r);
    memcpy(meta.b + meta.len + sizeof r, src, len);
    meta.len += need;
}

/* Writes only inside the state, or the process stops: a log that says
 * otherwise was not written by this code. */
static void apply_meta(const void *m, size_t len)
{
    const uint8_t *p = m;
    for (size_t at = 0; at < len;) {
        struct meta_rec r;
        if (len - at < sizeof r)
            abort();
        memcpy(&r, p + at, sizeof r);
        size_t body = ((size_t)r.len + 7) & ~(size_t)7;
        if (r.off > state_bytes() || r.len > state_bytes() - r.off || body > len - at - sizeof r)
            abort();
        memcpy((uint8_t *)st + r.off, p + at + sizeof r, r.len);
        at += sizeof r + body;
    }
}

void fss_begin(void)
{
    meta.len = 0;
    meta.overflow = false;
    fsc_begin(apply_meta);
}

int fss_end(int rc, uint64_t tag_session, uint64_t tag_seq)
{
    if (rc >= 0 && meta.overflow)
        rc = -EFBIG;
    return fsc_end(rc, tag_session, tag_seq, meta.b, meta.len);
}

void fss_settle(void)
{
    fsc_begin(apply_meta);
}

void fss_meta_journal(uint64_t unique, uint32_t ino)
{
    struct journal_entry e = { .unique = unique, .ino = ino };
    meta_put(&st->journal[unique % JOURNAL_SLOTS], &e, sizeof e);
}

bool fss_journal_find(uint64_t unique, uint32_t *ino)
{
    const struct journal_entry *e = &st->journal[unique % JOURNAL_SLOTS];
    if (e->unique != unique)
        return false;
    *ino = e->ino;
    return true;
}

/* ---- open counts ---- */

/* The slot of ino, or else a free one (possibly hwm itself); cap if full. */
static uint32_t slot_for(const struct open_table *t, uint32_t cap, uint32_t ino)
{
    uint32_t free_slot = t->hwm < cap ? t->hwm : cap;
    for (uint32_t i = 0; i < t->hwm; i++) {
        if (t->e[i].count && t->e[i].ino == ino)
            return i;
        if (!t->e[i].count && free_slot > i)
            free_slot = i;
    }
    return free_slot;
}

static uint32_t count_in(const struct open_table *t, uint32_t cap, uint32_t ino)
{
    uint32_t i = slot_for(t, cap, ino);
    return i < t->hwm && t->e[i].count && t->e[i].ino == ino ? t->e[i].count : 0;
}

int fss_meta_fuse_open(uint32_t ino, int delta)
{
    struct open_table *t = &st->mount_opens;
    uint32_t i = slot_for(t, MOUNT_OPEN_MAX, ino);
    if (i == MOUNT_OPEN_MAX)
        return -ENFILE;
    uint32_t now = i < t->hwm && t->e[i].ino == ino ? t->e[i].count : 0;
    if (delta < 0 && now == 0)
        return 0;       /* a release of an open the table never saw */
    struct open_count c = { .ino = ino, .count = (uint32_t)((int)now + delta) };
    meta_put(&t->e[i], &c, sizeof c);
    if (i == t->hwm) {
        uint32_t hwm = i + 1;
        meta_put(&t->hwm, &hwm, sizeof hwm);
    }
    return (int)c.count;
}

uint32_t fss_native_count(uint32_t ino)
{
    return count_in((const struct open_table *)&native, NATIVE_OPEN_MAX, ino);
}

bool fss_is_open(uint32_t ino)
{
    return count_in(&st->mount_opens, MOUNT_OPEN_MAX, ino) > 0 || fss_native_count(ino) > 0;
}

void fss_native_open(uint32_t ino, int delta)
{
    struct open_table *t = (struct open_table *)&native;
    uint32_t i = slot_for(t, NATIVE_OPEN_MAX, ino);
    if (i == NATIVE_OPEN_MAX)
        return;         /* more files than that open: their unlink frees them at once (logged) */
    if (i == t->hwm) {
        if (delta < 0)
            return;
        t->hwm++;
        t->e[i] = (struct open_count){ .ino = ino };
    }
    if ((int)t->e[i].count + delta >= 0)
        t->e[i].count = (uint32_t)((int)t->e[i].count + delta);
}

void fss_native_reset(void)
{
    native.hwm = 0;
}

/* ---- recovery ---- */

static int find_or_make_state(void)
{
    void **root = rv_arena_root();
    if (*root) {
        st = *root;
        return st->magic == STATE_MAGIC ? 0 : -EINVAL;
    }
    size_t log_bytes = txnio_log_bytes(LOG_PAGES);
    struct fs_state *s = rv_arena_alloc_pages(state_bytes());
    void *log = rv_arena_alloc_pages(log_bytes);
    if (!s || !log) {
        rv_arena_abort();
        return -ENOMEM;
    }
    /* Logged like any arena write, so that an arena kept in a file
     * (arena_file) keeps them; the log's pages and the per-mount tables
     * are written without logging and start afresh after revived does. */
    rv_arena_log(s, offsetof(struct fs_state, fuse));
    s->magic = STATE_MAGIC;
    s->log = log;
    s->log_bytes = log_bytes;
    rv_arena_log(root, sizeof *root);
    *root = s;
    rv_arena_commit();
    st = s;
    return 0;
}

/* A transaction a native request committed is applied only if the
 * request committed too (its SSR holds its seq); else the request runs
 * again, and must find the image as before it. A session that is gone
 * has no one to run it again: its complete transaction is applied. */
static void settle_pending(rv_svc_session **all, size_t n, uint64_t (*ssr_txn_seq)(const rv_svc_session *s))
{
    uint64_t tag_session, tag_seq;
    if (!txnio_pending(&tag_session, &tag_seq))
        return;
    for (size_t i = 0; tag_session && i < n; i++) {
        if (rv_svc_session_id(all[i]) == tag_session && ssr_txn_seq(all[i]) != tag_seq) {
            txnio_discard();
            return;
        }
    }
    txnio_settle(apply_meta);
}

static int reap_orphans(void)
{
    fss_begin();
    int rc = fss_end(fsc_reap_orphans(), 0, 0);
    fss_settle();
    return rc;
}

int fss_recover(const struct txnio_image *img, rv_svc_session **all, size_t n,
                uint64_t (*ssr_txn_seq)(const rv_svc_session *s),
                void (*count_native_opens)(rv_svc_session **all, size_t n), char *why, size_t whylen)
{
    int rc = find_or_make_state();
    if (rc < 0) {
        snprintf(why, whylen, "%s", rc == -ENOMEM ? "the arena is too small for the redo log: give it arena_size = 16M"
                                                  : "the arena holds something other than fs's state");
        return rc;
    }
    if ((rc = txnio_attach(img, st->log, st->log_bytes)) < 0) {
        snprintf(why, whylen, "cannot set up the redo log: %s", strerror(-rc));
        return rc;
    }
    settle_pending(all, n, ssr_txn_seq);
    txnio_settle(apply_meta);       /* an uncommitted log is thrown away */
    if ((rc = fsc_mount(fss_is_open, why, whylen)) < 0)
        return rc;
    fss_native_reset();
    count_native_opens(all, n);
    if (rv_service_fd(RV_FD_FUSE) >= 0 && rv_fuse_is_new_mount(&st->fuse)) {
        /* Another run's mount: its open files and request numbers mean
         * nothing to this one. (Redone if killed here: the mount stays new
         * until rv_fuse_start.) */
        memset(st->journal, 0, sizeof st->journal);
        memset(&st->mount_opens, 0, sizeof st->mount_opens + MOUNT_OPEN_MAX * sizeof(struct open_count));
    }
    if ((rc = reap_orphans()) < 0)
        snprintf(why, whylen, "cannot free the files unlinked while open: %s", strerror(-rc));
    return rc;
}
