/* test_blk.c — the blk service with real kills, a client that lies and one
 * that never reaps.
 *
 *   - Clients of every class and of different weights keep requests in
 *     flight, writing and verifying patterns in their own regions, while
 *     the service is SIGKILLed and SEGVed every 50–100 ms: every tag
 *     completes exactly once (a completion for a tag not in flight, or a
 *     second one, fails), with success, and every pattern reads back.
 *   - The queue a new instance rebuilds keeps its order: with dispatching
 *     held, requests are queued in an order the scheduler does not serve
 *     them in; the service is killed; the new instance (queue depth 1)
 *     must serve them by priority and fair share, not by arrival.
 *   - A request that crashes the service twice is poisoned for its client
 *     alone.
 *   - Malformed requests get errors; a client that never reaps fills its
 *     own slots (EAGAIN) and nobody else's. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "blk_client.h"
#include "harness.h"

#define REGION 2048u            /* blocks per client */
#define CHUNK 8u
#define DEPTH 12u
#define KILLS 24

struct device {
    char dir[64];
    char path[96];
};

static void device_make(struct device *dv, const char *size)
{
    tempdir_make(dv->dir, sizeof dv->dir);
    snprintf(dv->path, sizeof dv->path, "%s/device", dv->dir);
    const char *trunc[] = { "/usr/bin/truncate", "-s", size, dv->path, NULL };
    assert_int_equal(run(trunc, NULL, 0, NULL, 0), 0);
}

static const char *blk_manifest(char *buf, size_t len, const struct device *dv, const char *args, const char *extra)
{
    snprintf(buf, len, "[service blk]\nexec = rv-svc-blk-test\nargs = %s\nssr_size = 8K\nimage = %s\n%s", args,
             dv->path, extra);
    return buf;
}

static rvblk *blk_session(const struct rvd *d, rv_conn **conn, unsigned weight, size_t buffer)
{
    assert_int_equal(rv_connect(d->sock, conn), 0);
    rvblk *b = rvblk_connect(*conn, "blk", weight, buffer);
    if (!b)
        fail_msg("cannot open a blk session: %s", strerror(errno));
    return b;
}

/* ---- a killer on its own thread ---- */

struct killer {
    const struct rvd *d;
    pthread_t th;
    volatile bool done;
    int kills;
};

static void *killer_main(void *arg)
{
    struct killer *k = arg;
    for (unsigned i = 0; k->kills < KILLS; i++) {
        const char *argv[] = { RV_IT_REVIVECTL, "--socket", k->d->sock, "kill", "blk", "--signal",
                               i % 2 ? "SEGV" : "KILL", NULL };
        if (run(argv, NULL, 0, NULL, 0) == 0)
            k->kills++;
        struct timespec ts = { .tv_nsec = (50 + (long)(i * 37 % 50)) * 1000 * 1000 };
        nanosleep(&ts, NULL);   /* the kill cadence, 50–100 ms */
    }
    k->done = true;
    return NULL;
}

/* ---- clients: patterns through kills ---- */

struct client {
    const struct rvd *d;
    const struct killer *k;
    int id;
    unsigned weight;
    enum blk_class cls;
    uint64_t completions, rounds;
    pthread_t th;
    char why[256];
};

struct flight {
    uint32_t tag;
    uint64_t lba;
    uint32_t part;
    bool busy;
};

/* One pass over the client's region: writes (or reads and checks) the
 * pattern of seed, DEPTH requests in flight, each completion matched to
 * exactly one of them. */
static bool pass(struct client *c, rvblk *b, uint64_t seed, bool verify)
{
    struct flight f[DEPTH] = { 0 };
    uint64_t base = (uint64_t)c->id * REGION, next = 0;
    unsigned busy = 0;
    for (;;) {
        for (unsigned p = 0; p < DEPTH && next < REGION; p++) {
            if (f[p].busy)
                continue;
            uint8_t *mem = rvblk_buffer(b) + (size_t)p * CHUNK * BLK_BLOCK;
            for (unsigned i = 0; !verify && i < CHUNK; i++)
                rvblk_pattern(mem + (size_t)i * BLK_BLOCK, seed, base + next + i);
            int rc = rvblk_submit(b, verify ? BLK_READ : BLK_WRITE, c->cls, base + next, CHUNK,
                                  (uint64_t)p * CHUNK * BLK_BLOCK, &f[p].tag);
            if (rc < 0)
                return snprintf(c->why, sizeof c->why, "submit: %s", strerror(-rc)), false;
            f[p].lba = base + next;
            f[p].busy = true;
            busy++;
            next += CHUNK;
        }
        if (busy == 0)
            return true;
        struct blk_completion done[BLK_SLOTS];
        int n = rvblk_reap(b, done, BLK_SLOTS, true);
        if (n < 0)
            return snprintf(c->why, sizeof c->why, "reap: %s", strerror(-n)), false;
        for (int k = 0; k < n; k++) {
            unsigned p = 0;
            while (p < DEPTH && !(f[p].busy && f[p].tag == done[k].tag))
                p++;
            if (p == DEPTH)
                return snprintf(c->why, sizeof c->why, "tag %u completed but was not in flight (twice?)", done[k].tag),
                       false;
            if (done[k].result != 0)
                return snprintf(c->why, sizeof c->why, "tag %u failed: %s", done[k].tag, strerror(-done[k].result)),
                       false;
            const uint8_t *mem = rvblk_buffer(b) + (size_t)p * CHUNK * BLK_BLOCK;
            for (unsigned i = 0; verify && i < CHUNK; i++)
                if (!rvblk_pattern_ok(mem + (size_t)i * BLK_BLOCK, seed, f[p].lba + i))
                    return snprintf(c->why, sizeof c->why, "block %llu lost its pattern",
                                    (unsigned long long)(f[p].lba + i)), false;
            f[p].busy = false;
            busy--;
            c->completions++;
        }
    }
}

static void *client_main(void *arg)
{
    struct client *c = arg;
    rv_conn *conn = NULL;
    rvblk *b = NULL;
    if (rv_connect(c->d->sock, &conn) != 0 || !(b = rvblk_connect(conn, "blk", c->weight, DEPTH * CHUNK * BLK_BLOCK)))
        snprintf(c->why, sizeof c->why, "cannot connect: %s", strerror(errno));
    for (uint64_t seed = 1; b && !c->why[0] && !c->k->done; seed++, c->rounds++)
        if (pass(c, b, seed * 10 + (uint64_t)c->id, false))
            pass(c, b, seed * 10 + (uint64_t)c->id, true);
    rvblk_disconnect(b);
    if (conn)
        rv_disconnect(conn);
    return NULL;
}

static void test_blk_clients_through_kills(void **state)
{
    (void)state;
    struct device dv;
    struct rvd d;
    char m[512];
    device_make(&dv, "64M");
    rvd_start(&d, blk_manifest(m, sizeof m, &dv, "--queue-depth 16", "standby = yes\nmax_restarts = 100000 in 10s\n"));
    struct killer k = { .d = &d };
    struct client cl[] = {
        { .id = 0, .weight = 1, .cls = BLK_RT }, { .id = 1, .weight = 1, .cls = BLK_BE },
        { .id = 2, .weight = 3, .cls = BLK_BE }, { .id = 3, .weight = 2, .cls = BLK_IDLE },
    };
    size_t n = sizeof cl / sizeof cl[0];
    for (size_t i = 0; i < n; i++) {
        cl[i].d = &d;
        cl[i].k = &k;
        assert_int_equal(pthread_create(&cl[i].th, NULL, client_main, &cl[i]), 0);
    }
    assert_int_equal(pthread_create(&k.th, NULL, killer_main, &k), 0);
    pthread_join(k.th, NULL);
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        pthread_join(cl[i].th, NULL);
        if (cl[i].why[0])
            fail_msg("client %zu: %s (after %d kills)", i, cl[i].why, k.kills);
        total += cl[i].completions;
    }
    print_message("%zu clients, %llu requests completed once each, patterns intact, through %d kills\n", n,
                  (unsigned long long)total, k.kills);
    rvd_stop(&d);
    tempdir_remove(dv.dir);
}

/* ---- the rebuilt queue's order ---- */

struct queued {
    rvblk *b;
    enum blk_class cls;
    uint32_t tag;
    const char *name;
};

static void test_blk_rebuilt_queue_keeps_order(void **state)
{
    (void)state;
    struct device dv;
    struct rvd d;
    char m[512];
    device_make(&dv, "16M");
    rvd_start(&d, blk_manifest(m, sizeof m, &dv, "--queue-depth 1 --starvation-ms 60000", "standby = yes\n"));
    rv_conn *ca, *cb, *cc;
    rvblk *a = blk_session(&d, &ca, 1, 16 * BLK_BLOCK), *bw = blk_session(&d, &cb, 3, 16 * BLK_BLOCK),
          *r = blk_session(&d, &cc, 1, 16 * BLK_BLOCK);
    rv_session *admin = open_session(&d, "blk", NULL);
    uint32_t on = 1;
    size_t got;
    assert_int_equal(rv_call(admin, BLK_TEST_HOLD, &on, sizeof on, NULL, 0, &got), 0);
    /* arrival order: idle, A1..A4 (weight 1), B1..B4 (weight 3), RT1, RT2 */
    struct queued q[] = {
        { r, BLK_IDLE, 0, "idle" }, { a, BLK_BE, 0, "A1" }, { a, BLK_BE, 0, "A2" }, { a, BLK_BE, 0, "A3" },
        { a, BLK_BE, 0, "A4" }, { bw, BLK_BE, 0, "B1" }, { bw, BLK_BE, 0, "B2" }, { bw, BLK_BE, 0, "B3" },
        { bw, BLK_BE, 0, "B4" }, { r, BLK_RT, 0, "RT1" }, { r, BLK_RT, 0, "RT2" },
    };
    size_t n = sizeof q / sizeof q[0];
    for (size_t i = 0; i < n; i++)
        assert_int_equal(rvblk_submit(q[i].b, BLK_WRITE, q[i].cls, i, 1, 0, &q[i].tag), 0);
    ctl(&d, "kill", "blk", "KILL");             /* nothing was issued: all eleven are only in SSRs */
    /* start tags: RT by arrival; BE by finish (B: 341, 682, 1023; A1: 1024; B4: 1365; A2..A4); idle last */
    static const char *const want[] = { "RT1", "RT2", "B1", "B2", "B3", "A1", "B4", "A2", "A3", "A4", "idle" };
    uint64_t seq[16] = { 0 };
    for (size_t left = n; left > 0;) {
        for (size_t s = 0; s < 3; s++) {
            rvblk *b = s == 0 ? a : s == 1 ? bw : r;
            struct blk_completion c[BLK_SLOTS];
            int k = rvblk_reap(b, c, BLK_SLOTS, false);
            assert_true(k >= 0);
            for (int j = 0; j < k; j++)
                for (size_t i = 0; i < n; i++)
                    if (q[i].b == b && q[i].tag == c[j].tag) {
                        assert_int_equal(c[j].result, 0);
                        assert_int_equal(seq[i], 0);
                        seq[i] = c[j].done_seq;
                        left--;
                    }
        }
    }
    for (size_t w = 0; w + 1 < n; w++) {
        size_t i = 0, k = 0;
        while (strcmp(q[i].name, want[w]) != 0)
            i++;
        while (strcmp(q[k].name, want[w + 1]) != 0)
            k++;
        if (seq[i] >= seq[k])
            fail_msg("after the restart %s was served after %s: the queue was not rebuilt in its order", want[w],
                     want[w + 1]);
    }
    rv_close(admin);
    rvblk_disconnect(a), rvblk_disconnect(bw), rvblk_disconnect(r);
    rv_disconnect(ca), rv_disconnect(cb), rv_disconnect(cc);
    rvd_stop(&d);
    tempdir_remove(dv.dir);
}

/* ---- poison, lies and a client that never reaps ---- */

static void test_blk_poisoned_request_fails_alone(void **state)
{
    (void)state;
    struct device dv;
    struct rvd d;
    char m[512];
    device_make(&dv, "16M");
    rvd_start(&d, blk_manifest(m, sizeof m, &dv, "--queue-depth 4", "standby = yes\n"));
    rv_conn *ca, *cb;
    rvblk *a = blk_session(&d, &ca, 1, 16 * BLK_BLOCK), *b = blk_session(&d, &cb, 1, 16 * BLK_BLOCK);
    uint32_t tag;
    assert_int_equal(rvblk_submit(a, BLK_WRITE, (enum blk_class)7, 0, 1, 0, &tag), -EIO);
    rvblk_pattern(rvblk_buffer(b), 5, 3);
    assert_int_equal(rvblk_io(b, BLK_WRITE, BLK_BE, 3, 1, 0), 0);
    rvblk_pattern(rvblk_buffer(a), 6, 4);
    assert_int_equal(rvblk_io(a, BLK_WRITE, BLK_BE, 4, 1, 0), 0);     /* a goes on */
    memset(rvblk_buffer(b), 0, BLK_BLOCK);
    assert_int_equal(rvblk_io(b, BLK_READ, BLK_BE, 3, 1, 0), 0);
    assert_true(rvblk_pattern_ok(rvblk_buffer(b), 5, 3));
    rvblk_disconnect(a), rvblk_disconnect(b);
    rv_disconnect(ca), rv_disconnect(cb);
    rvd_stop(&d);
    tempdir_remove(dv.dir);
}

static void test_blk_lies_and_hoarders(void **state)
{
    (void)state;
    struct device dv;
    struct rvd d;
    char m[512];
    device_make(&dv, "16M");
    rvd_start(&d, blk_manifest(m, sizeof m, &dv, "--queue-depth 4", ""));
    rv_conn *ca, *cb;
    rvblk *a = blk_session(&d, &ca, 1, 16 * BLK_BLOCK), *b = blk_session(&d, &cb, 1, 16 * BLK_BLOCK);
    uint32_t tag;
    assert_int_equal(rvblk_submit(a, 9, BLK_BE, 0, 1, 0, &tag), -EINVAL);
    assert_int_equal(rvblk_submit(a, BLK_READ, BLK_BE, 4096, 1, 0, &tag), -ERANGE);
    assert_int_equal(rvblk_submit(a, BLK_READ, BLK_BE, 0, 1, 100, &tag), -EFAULT);
    assert_int_equal(rvblk_submit(a, BLK_READ, BLK_BE, 0, 17, 0, &tag), -EFAULT);
    rv_session *raw = open_session(&d, "blk", NULL);
    uint8_t junk[64] = { 1, 2, 3 }, reply[RV_MAX_PAYLOAD];
    size_t got;
    assert_int_equal(rv_call(raw, BLK_SUBMIT, junk, 3, reply, sizeof reply, &got), BLK_ERR(EINVAL));
    assert_int_equal(rv_call(raw, BLK_REAP, junk, 64, reply, sizeof reply, &got), BLK_ERR(EINVAL));
    for (int i = 0; i < 200; i++) {             /* random bytes as every operation */
        for (size_t k = 0; k < sizeof junk; k++)
            junk[k] = (uint8_t)rand();
        rv_call(raw, (uint32_t)(1 + i % BLK_REAP), junk, (size_t)rand() % sizeof junk, reply, sizeof reply, &got);
    }
    int filled = 0;
    while (rvblk_submit(a, BLK_READ, BLK_BE, 0, 1, 0, &tag) == 0)
        filled++;                               /* a never reaps */
    assert_int_equal(filled, BLK_SLOTS);
    assert_int_equal(rvblk_submit(a, BLK_READ, BLK_BE, 0, 1, 0, &tag), -EAGAIN);
    assert_int_equal(rvblk_io(b, BLK_READ, BLK_BE, 0, 1, 0), 0);      /* b is served */
    struct svc_status st;
    svc_status(&d, "blk", &st);
    assert_int_equal(st.restarts, 0);
    rv_close(raw);
    rvblk_disconnect(a), rvblk_disconnect(b);
    rv_disconnect(ca), rv_disconnect(cb);
    rvd_stop(&d);
    tempdir_remove(dv.dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_blk_clients_through_kills, it_teardown),
        cmocka_unit_test_teardown(test_blk_rebuilt_queue_keeps_order, it_teardown),
        cmocka_unit_test_teardown(test_blk_poisoned_request_fails_alone, it_teardown),
        cmocka_unit_test_teardown(test_blk_lies_and_hoarders, it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
