/* bench_rd.c — what recovery domains cost, on an in-process
 * workload: the hash table of bench_ht.c, one operation per step.
 *
 *   plain     the table compiled plainly: the baseline;
 *   hooks     the same source compiled with the store instrumentation and
 *             revive's __tsan_* hooks, run outside any domain: what the
 *             hooks alone cost (each store calls into the runtime, which
 *             finds no domain open and returns);
 *   domains   the instrumented table with every operation in its own basic
 *             domain: the hooks now undo-log each store, and each domain
 *             is opened (a sigsetjmp) and committed.
 *
 * Each contender runs the same operation sequence (an LCG from the same
 * seed) on its own table, interleaved repetition by repetition on one
 * pinned core so that noise hits all three alike; the figure is the median
 * time per operation and its ratio to plain. The paper's anchors: Akeso
 * 1.08x-5.6x on whole-kernel workloads, libtsan 14.5x; a prototype of this
 * runtime measured 2.6x with hooks only and 6-15x with domains. */
#include "bench_tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench_ht.h"
#include "revive/client.h"
#include "revive/rd.h"

#define OPS 2000000
#define REPS 7
#define SEED 0x2545f4914f6cdd1dull

enum { PLAIN, HOOKS, DOMAINS, NCONT };
static const char *const names[NCONT] = { "plain", "instrumented, no domain", "instrumented, a domain per operation" };

static uint64_t lcg(uint64_t *x)
{
    *x = *x * 6364136223846793005ull + 1442695040888963407ull;
    return *x >> 1;
}

static void one_in_domain(struct ht *t, uint64_t r)
{
    RD_BEGIN(RD_BASIC) {
        ht_inst_op(t, r);
    } RD_ONABORT {
        bench_die("a hash-table operation rolled back (code %d)", rd_errno());
    } RD_END
}

/* ns per operation of one contender's run; `sink` keeps the work alive. */
static double run(int which, struct ht *t, long ops, uint64_t *sink)
{
    uint64_t x = SEED, acc = 0;
    uint64_t t0 = bench_now_ns();
    for (long i = 0; i < ops; i++) {
        uint64_t r = lcg(&x);
        if (which == PLAIN)
            acc += ht_plain_op(t, r);
        else if (which == HOOKS)
            acc += ht_inst_op(t, r);
        else
            one_in_domain(t, r);
    }
    uint64_t t1 = bench_now_ns();
    *sink += acc;
    return (double)(t1 - t0) / (double)ops;
}

void rd_measure(struct rd_results *res, int quick)
{
    long ops = quick ? OPS / 10 : OPS;
    struct ht *t[NCONT] = { ht_plain_new(), ht_inst_new(), ht_inst_new() };
    if (!t[PLAIN] || !t[HOOKS] || !t[DOMAINS])
        bench_die("out of memory for the hash tables");
    if (rd_init() < 0)
        bench_die("cannot set up recovery domains: %m");
    bench_pin(SERVER_CPU);
    struct series s[NCONT] = { { 0 } };
    uint64_t sink = 0;
    for (int rep = 0; rep <= REPS; rep++)   /* rep 0 warms up */
        for (int c = 0; c < NCONT; c++) {
            double ns = run(c, t[c], ops, &sink);
            if (rep)
                series_add(&s[c], ns);
        }
    for (int c = 0; c < NCONT; c++) {
        res->ns[c] = series_quantile(&s[c], 0.5);
        series_free(&s[c]);
    }
    res->ops = ops;
    res->reps = REPS;
    res->sink = sink;
    ht_plain_free(t[PLAIN]);
    ht_inst_free(t[HOOKS]);
    ht_inst_free(t[DOMAINS]);
}

void rd_report(FILE *f, const struct rd_results *res)
{
    fprintf(f, "## Recovery domains: an in-process hash table\n\n"
               "Open addressing, 64K slots, 16K keys; per operation 50%% lookups, 40%% inserts or "
               "updates, 10%% deletes, chosen by an LCG (the same sequence for every contender). Median "
               "over %d repetitions of %ld operations, interleaved, on one pinned core; ns per operation "
               "and the ratio to the plain build. Anchors: Akeso 1.08x-5.6x, libtsan 14.5x, a prototype "
               "of this runtime 2.6x (hooks) and 6-15x (domains).\n\n"
               "| build | ns/op | x plain |\n|---|---:|---:|\n", res->reps, res->ops);
    for (int c = 0; c < NCONT; c++)
        fprintf(f, "| %s | %.1f | %.2fx |\n", names[c], res->ns[c], res->ns[c] / res->ns[PLAIN]);
    fputc('\n', f);
}

void rd_csv(FILE *f, const struct rd_results *res)
{
    fputs("build,ns_per_op,ratio_to_plain\n", f);
    for (int c = 0; c < NCONT; c++)
        fprintf(f, "%s,%.2f,%.3f\n", names[c], res->ns[c], res->ns[c] / res->ns[PLAIN]);
}

/* ---- end to end: kv through revive, with and without tier 1 ---- */

#define KV_KEYS 1024
#define KV_VALUE_BYTES 64

struct kv_client {
    rv_conn *conn;
    rv_session *s;
    uint64_t step;
    bool puts_only;
};

/* One operation per round trip: a PUT of key (step/2 % KV_KEYS) with a
 * 64-byte value, then a GET of it: the write path and the read path of a
 * request alternate. With puts_only, PUTs alone. */
static int kv_round(void *ctx)
{
    struct kv_client *c = ctx;
    uint8_t req[1 + 16 + KV_VALUE_BYTES], reply[KV_VALUE_BYTES + 8];
    char key[16];
    int klen = snprintf(key, sizeof key, "k%05llu", (unsigned long long)((c->step / 2) % KV_KEYS));
    size_t len, rlen;
    uint32_t op;
    if (c->puts_only || c->step++ % 2 == 0) {
        c->step += c->puts_only ? 2 : 0;
        req[0] = (uint8_t)klen;
        memcpy(req + 1, key, (size_t)klen);
        memset(req + 1 + klen, (int)('a' + c->step % 26), KV_VALUE_BYTES);
        len = 1 + (size_t)klen + KV_VALUE_BYTES;
        op = 2;   /* KV_PUT */
    } else {
        memcpy(req, key, (size_t)klen);
        len = (size_t)klen;
        op = 1;   /* KV_GET */
    }
    return rv_call(c->s, op, req, len, reply, sizeof reply, &rlen) == 0 ? 0 : -1;
}

struct contender kv_start(struct revived *r, const char *svc, const char *what, bool puts_only)
{
    struct kv_client *c = calloc(1, sizeof *c);
    if (!c || rv_connect(r->sock, &c->conn) != 0 || rv_open(c->conn, svc, NULL, &c->s) != 0)
        bench_die("cannot open a session with %s", svc);
    c->puts_only = puts_only;
    return (struct contender){ what, kv_round, c };
}

void kv_stop(struct contender *k)
{
    struct kv_client *c = k->ctx;
    rv_close(c->s);
    rv_disconnect(c->conn);
    free(c);
}

void rd_measure_kv(struct rd_results *res, struct revived *r, int quick)
{
    struct plan p = { 20, quick ? 500 : 4000 };
    bench_pin(SERVER_CPU);
    struct contender c[3] = {
        seqpacket_start(),
        kv_start(r, RD_KV_SVC, "kv", false),
        kv_start(r, RD_KV_RD_SVC, "kv, every request in a recovery domain", false),
    };
    struct rtt out[3];
    measure_interleaved(c, 3, &p, out);
    res->kv_seqpacket_us = out[0].median_us;
    res->kv_us = out[1].median_us;
    res->kv_rd_us = out[2].median_us;
    pingpong_stop(&c[0]);
    kv_stop(&c[1]);
    kv_stop(&c[2]);
}

void rd_report_kv(FILE *f, const struct rd_results *res)
{
    double ratio = res->kv_rd_us / res->kv_us;
    fprintf(f, "## Recovery domains end to end: kv through revive\n\n"
               "One client, same core as revived and kv; alternating PUT (64-byte value, 1024 keys) and GET, "
               "median over 20 interleaved batches. `kv` is rv-svc-kv (arena, 4 workers, hand-logged "
               "arena writes); `kv-rd` is the same source built with the store instrumentation and every "
               "request in a root recovery domain (rv-svc-kv-rd). Target: kv-rd <= 1.5x kv.\n\n"
               "| case | us per op | x SEQPACKET | x kv |\n|---|---:|---:|---:|\n"
               "| raw AF_UNIX SEQPACKET round trip | %.2f | 1.00x | |\n"
               "| kv | %.2f | %.2fx | 1.00x |\n"
               "| kv-rd (tier 1) | %.2f | %.2fx | **%.2fx**: %s |\n\n",
            res->kv_seqpacket_us, res->kv_us, res->kv_us / res->kv_seqpacket_us, res->kv_rd_us,
            res->kv_rd_us / res->kv_seqpacket_us, ratio, ratio <= 1.5 ? "met" : "MISSED");
}
