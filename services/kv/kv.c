/* kv.c — `rv-svc-kv`, a key-value store whose table lives in its arena
 * (`state = arena`; the protocol is in kv.h, the table in kv_table.c).
 *
 * What it shows: a service with state that belongs to no single client
 * survives being killed at any instruction. The table is in the arena, a
 * persistent heap revived holds, mapped at the same address in every
 * instance; every change to it is undo-logged in the arena before it is
 * made. The runtime commits a request's arena writes together with the
 * request's journal entry and only then replies, so:
 *   - a reply means the write is durable: the next instance finds it;
 *   - a write whose request did not commit is undone when the next
 *     instance starts, before it serves anyone, and the request re-runs
 *     from the journal — exactly once, as every revive request;
 *   - nothing is ever half-applied, which KV_CHECK verifies (the table's
 *     invariants and the allocator's).
 * Sessions keep nothing (ssr_size = 0): every client sees one table.
 *
 * It serves on KV_WORKERS threads. Writers hold the arena's exclusive lock
 * from their lookup to their commit, readers its shared lock, so a reader
 * never returns data a crash could still take back.
 *
 * Built twice: rv-svc-kv, and rv-svc-kv-test with KV_TEST_HOOKS, which
 * adds KV_PUT_SLOW (a put that blocks until the test kills the service)
 * for tests/integration/test_kv.c, and --volatile, rv-campaign's baseline
 * without state preservation; the installed service has neither.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "kv.h"
#include "kv_table.h"
#include "revive/arena.h"
#include "revive/server.h"

#define KV_SSR_LAYOUT 1
#define KV_WORKERS 4

static int invalid(rv_request *req, const char *why)
{
    rv_reply(req, why, strlen(why));
    return KV_EINVAL;
}

static bool key_ok(size_t klen)
{
    return klen >= 1 && klen <= KV_KEY_MAX;
}

/* A key as the table stores it: its owner's uid first, so that users'
 * keys never meet (kv.h). */
struct owned_key {
    uint8_t bytes[KV_TABLE_KEY_MAX];
    size_t len;
};

static void own(const rv_request *req, const void *key, size_t klen, struct owned_key *k)
{
    uint32_t uid, gid;
    rv_svc_session_peer(req->session, &uid, &gid);
    memcpy(k->bytes, &uid, KV_OWNER_BYTES);
    memcpy(k->bytes + KV_OWNER_BYTES, key, klen);
    k->len = KV_OWNER_BYTES + klen;
}

static int kv_get(rv_request *req)
{
    if (!key_ok(req->len))
        return invalid(req, "a key is 1 to 64 bytes");
    struct owned_key k;
    own(req, req->data, req->len, &k);
    rv_arena_lock_shared();
    const struct kv_entry *e = kv_table_get(k.bytes, k.len);
    size_t vlen = 0;
    const void *v = e ? kv_entry_value(e, &vlen) : NULL;
    int rc = e ? rv_reply(req, v, vlen) : KV_ENOTFOUND;
    rv_arena_unlock_shared();
    return rc;
}

/* After a write, before its commit: the chain it changed must still be
 * sound. A corrupted pointer or length stored into the arena (a soft
 * error) would otherwise be committed and crash every later request that
 * walks the chain; failing stop here lets the next instance roll the
 * write back from the arena's log and re-run it. */
static void chain_sound(const void *key, size_t klen)
{
    if (kv_table_check_chain_of(key, klen) < 0)
        abort();
}

/* Read back through a volatile pointer: the compiler cannot reuse what the
 * write computed. */
static const struct kv_entry *(*volatile read_back)(const void *key, size_t klen) = kv_table_get;

/* After a write, before its commit: the key reads back as written (or as
 * gone). A corrupted pointer could have put the entry elsewhere. */
static void write_landed(const void *key, size_t klen, const void *value, size_t vlen)
{
    const struct kv_entry *e = read_back(key, klen);
    size_t got_len;
    const void *got = e ? kv_entry_value(e, &got_len) : NULL;
    if (value ? !e || got_len != vlen || memcmp(got, value, vlen) != 0 : e != NULL)
        abort();
}

static int kv_put(rv_request *req)
{
    const uint8_t *p = req->data;
    if (req->len < 1 || !key_ok(p[0]) || req->len < 1u + p[0])
        return invalid(req, "a put is a key of 1 to 64 bytes and its value");
    size_t klen = p[0], vlen = req->len - 1 - klen;
    if (vlen > KV_VALUE_MAX)
        return invalid(req, "a value is at most 1024 bytes");
    bool replaced;
    struct owned_key k;
    own(req, p + 1, klen, &k);
    int rc = kv_table_put(k.bytes, k.len, p + 1 + klen, vlen, &replaced);
    chain_sound(k.bytes, k.len);
    if (rc == 0)
        write_landed(k.bytes, k.len, p + 1 + klen, vlen);
    if (rc == KV_EFULL)
        rv_reply(req, "the arena is full", 17);
    uint8_t r = replaced;
    return rc ? rc : rv_reply(req, &r, 1);
}

static int kv_del(rv_request *req)
{
    if (!key_ok(req->len))
        return invalid(req, "a key is 1 to 64 bytes");
    struct owned_key k;
    own(req, req->data, req->len, &k);
    int rc = kv_table_del(k.bytes, k.len);
    chain_sound(k.bytes, k.len);
    if (rc == 0)
        write_landed(k.bytes, k.len, NULL, 0);
    return rc;
}

/* ---- scan: entries appended to the reply while they fit ---- */

struct scan_reply {
    uint8_t buf[RV_MAX_PAYLOAD];
    size_t used;
    uint16_t n;
};

static bool emit(const struct kv_entry *e, void *arg)
{
    struct scan_reply *r = arg;
    size_t klen, vlen;
    const uint8_t *k = kv_entry_key(e, &klen);
    const void *v = kv_entry_value(e, &vlen);
    k += KV_OWNER_BYTES;   /* the scan's prefix begins with the owner */
    klen -= KV_OWNER_BYTES;
    if (r->used + 3 + klen + vlen > sizeof r->buf)
        return false;
    uint8_t kl = (uint8_t)klen;
    uint16_t vl = (uint16_t)vlen;
    memcpy(r->buf + r->used, &kl, 1);
    memcpy(r->buf + r->used + 1, &vl, 2);
    memcpy(r->buf + r->used + 3, k, klen);
    memcpy(r->buf + r->used + 3 + klen, v, vlen);
    r->used += 3 + klen + vlen;
    r->n++;
    return true;
}

/* One scan into r, from cursor c. */
static void scan_into(struct scan_reply *r, struct kv_cursor *c, const void *prefix, size_t plen)
{
    r->used = sizeof *c + 2;
    r->n = 0;
    kv_table_scan(c, prefix, plen, emit, r);
    memcpy(r->buf, c, sizeof *c);
    memcpy(r->buf + sizeof *c, &r->n, 2);
}

/* Called through a volatile pointer, so the compiler keeps two scans. */
static void (*volatile second_scan)(struct scan_reply *, struct kv_cursor *, const void *, size_t) = scan_into;

/* Scanned twice and compared, for the reason lookups are (kv_table.c): a
 * corrupted compare would silently leave a key out. */
static int kv_scan(rv_request *req)
{
    struct kv_cursor c, c2;
    size_t plen = req->len - sizeof c;
    if (req->len < sizeof c || plen > KV_KEY_MAX)
        return invalid(req, "a scan is a cursor and a prefix of at most 64 bytes");
    memcpy(&c, req->data, sizeof c);
    if (c.bucket == KV_SCAN_DONE || c.after_len > KV_TABLE_KEY_MAX)
        return invalid(req, "the scan cursor is malformed");
    c2 = c;
    static __thread struct scan_reply r, r2;
    struct owned_key prefix;
    own(req, (const uint8_t *)req->data + sizeof c, plen, &prefix);
    rv_arena_lock_shared();
    scan_into(&r, &c, prefix.bytes, prefix.len);
    second_scan(&r2, &c2, prefix.bytes, prefix.len);
    rv_arena_unlock_shared();
    if (r.used != r2.used || memcmp(r.buf, r2.buf, r.used) != 0)
        abort();
    return rv_reply(req, r.buf, r.used);
}

static int kv_check(rv_request *req)
{
    char why[160];
    uint64_t count;
    rv_arena_lock_shared();
    int rc = kv_table_check(&count, why, sizeof why);
    rv_arena_unlock_shared();
    if (rc < 0) {
        rv_reply(req, why, strlen(why));
        return KV_ECORRUPT;
    }
    return rv_reply(req, &count, sizeof count);
}

/* ---- the test build's in-flight put ---- */

#ifdef KV_TEST_HOOKS
static const char *test_fifo;   /* --test-fifo PATH */
static bool volatile_table;     /* --volatile */
static bool inherited;          /* --volatile: sessions met now are a previous instance's */

/* Applies the put, tells the test through the FIFO that it is in flight
 * (applied in the arena, not committed), and blocks until killed. With
 * the FIFO gone — the test removes it before the kill, so the re-run in
 * the next instance — it returns at once. */
static int kv_put_slow(rv_request *req)
{
    int rc = kv_put(req);
    int fd = test_fifo ? open(test_fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC) : -1;
    if (rc != 0 || fd < 0)
        return rc;
    ssize_t w = write(fd, "!", 1);
    close(fd);
    struct timespec ts = { .tv_sec = 60 };
    while (w == 1 && nanosleep(&ts, &ts) != 0)
        ;
    return rc;
}

/* --volatile: a kv that keeps nothing across a restart, as a server
 * holding its table in its own memory would after a plain (MINIX-3-style)
 * restart — rv-campaign's baseline, since revived refuses `state =
 * stateless` together with an arena. init zeroes the arena, which the
 * runtime then formats afresh (an empty table, an empty heap), and
 * validate rejects every session that survived the restart, so its client
 * is told (RV_ELOST) as a stateless service's clients are. validate runs
 * on inherited sessions only until the first bind of a new one (which
 * revived sends once the instance is ready), and after binds and requests
 * of new sessions, which it accepts. Only with `standby = no`: a standby's
 * init would wipe the live instance's table. */
static void volatile_wipe(void)
{
    size_t size;
    void *arena = rv_arena(&size);
    memset(arena, 0, size);
}

static int kv_bind(rv_svc_session *s, void *ssr, const char *args)
{
    (void)s, (void)ssr, (void)args;
    inherited = false;
    return 0;
}

static bool kv_validate(rv_svc_session *s, const void *ssr)
{
    (void)s, (void)ssr;
    return !inherited;
}
#endif

static int kv_handle(rv_request *req)
{
    switch (req->op) {
    case KV_GET: return kv_get(req);
    case KV_PUT: return kv_put(req);
    case KV_DEL: return kv_del(req);
    case KV_SCAN: return kv_scan(req);
    case KV_CHECK: return kv_check(req);
#ifdef KV_TEST_HOOKS
    case KV_PUT_SLOW: return kv_put_slow(req);
#endif
    default: return invalid(req, "unknown operation");
    }
}

static int kv_init(int argc, char **argv)
{
    if (!rv_arena(NULL)) {
        fprintf(stderr, "rv-svc-kv: no arena: declare the service with state = arena (docs/manifest.md)\n");
        return -1;
    }
    for (int i = 1; i < argc; i++) {
#ifdef KV_TEST_HOOKS
        if (strcmp(argv[i], "--test-fifo") == 0 && i + 1 < argc) {
            test_fifo = argv[++i];
            continue;
        }
        if (strcmp(argv[i], "--volatile") == 0) {
            volatile_table = true;
            continue;
        }
#endif
        fprintf(stderr, "rv-svc-kv: unknown argument '%s' (it takes none)\n", argv[i]);
        return -1;
    }
#ifdef KV_TEST_HOOKS
    if (volatile_table)
        volatile_wipe();
    inherited = volatile_table;
#endif
    return 0;
}

int main(int argc, char **argv)
{
    static const struct rv_service_ops ops = {
        .ssr_layout = KV_SSR_LAYOUT,
        .init = kv_init,
        .handle = kv_handle,
#ifdef KV_TEST_HOOKS
        .bind = kv_bind,
        .validate = kv_validate,
#endif
        .workers = KV_WORKERS,
#ifdef KV_TIER1
        .runner = rv_domain_runner,   /* rv-svc-kv-rd: tier 1 around every request */
#endif
    };
    return rv_service_main(&ops, argc, argv);
}
