/* workload.c — real clients whose correct result is known.
 *
 * random: CP_CLIENTS sessions with fixed seeds each draw a fixed count of
 * numbers; the correct numbers are those of a golden run against an
 * uninjected revived, taken once per campaign. timer: CP_CLIENTS rv-tick
 * clients (10 ms period); the oracle is the service's own contract, total
 * expirations == elapsed / period within one, with no error. kv: clients
 * that check every reply against their own model (workload_kv.c). Each
 * client runs in its own thread over the librevive client API,
 * concurrently with the injector. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "campaign.h"
#include "revive/client.h"
#include "random/random.h"
#include "timer/timer.h"

#define SEED_BASE 1000
#define PERIOD_MS 10
#define STALL_MS 2000   /* a timer client without a notification this long is stalled */

struct job {
    struct cp_workload *w;
    int i;
};

static int draws(bool quick) { return quick ? 16 : CP_DRAWS; }
static long ticks(bool quick) { return quick ? 8 : 20; }

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int cp_open_session(const char *sock, const char *svc, const char *args, struct cp_client *c,
                    rv_session **s)
{
    rv_conn *conn;
    int rc = rv_connect(sock, &conn);
    if (rc < 0) {
        c->err = rc;
        snprintf(c->note, sizeof c->note, "connect: %s", rv_strerror(rc));
        return rc;
    }
    if ((rc = rv_open(conn, svc, args, s)) < 0) {
        c->err = rc;
        snprintf(c->note, sizeof c->note, "open: %s", rv_conn_error(conn));
    }
    rv_disconnect(conn);
    return rc;
}

void cp_call_failed(struct cp_client *c, rv_session *s, int rc, const char *what)
{
    c->err = rc;
    snprintf(c->note, sizeof c->note, "%s: %s (%s)", what, rv_strerror(rc), rv_session_error(s));
}

static void random_client(struct cp_workload *w, int i, const char *sock, struct cp_client *c)
{
    char args[32];
    rv_session *s;
    snprintf(args, sizeof args, "seed=%d", SEED_BASE + i);
    if (cp_open_session(sock, "random", args, c, &s) < 0)
        return;
    for (int k = 0; k < draws(w->quick); k++) {
        uint64_t v = 0;
        size_t len = 0;
        int rc = rv_call(s, RANDOM_NEXT, NULL, 0, &v, sizeof v, &len);
        if (rc == 0 && len != sizeof v)
            rc = RV_EPROTO;
        if (rc < 0) {
            cp_call_failed(c, s, rc, "next");
            break;
        }
        w->got[i][k] = v;
        if (w->golden && v != w->golden[i][k] && !c->wrong) {
            c->wrong = true;
            snprintf(c->note, sizeof c->note, "draw %d: %#" PRIx64 " != golden %#" PRIx64, k, v,
                     w->golden[i][k]);
        }
    }
    rv_close(s);
}

/* One notification and its ACK; 1 when stalled. */
static int tick(rv_session *s, int efd, uint64_t *fresh)
{
    struct pollfd p[2] = { { .fd = efd, .events = POLLIN }, { .fd = rv_session_fd(s), .events = POLLIN } };
    int r;
    while ((r = poll(p, 2, STALL_MS)) < 0 && errno == EINTR)
        ;
    if (r == 0)
        return 1;
    uint64_t v;
    if ((p[0].revents & POLLIN) && read(efd, &v, sizeof v) < 0)
        return RV_EIO;
    size_t len = 0;
    int rc = rv_call(s, TIMER_ACK, NULL, 0, fresh, sizeof *fresh, &len);
    return rc == 0 && len != sizeof *fresh ? RV_EPROTO : rc;
}

static void check_total(struct cp_client *c, uint64_t total, uint64_t start, uint64_t period)
{
    uint64_t expect = (now_ns() - start) / period;
    if (total + 1 < expect || total > expect + 1) {
        c->wrong = true;
        snprintf(c->note, sizeof c->note, "total %" PRIu64 " != elapsed/period %" PRIu64, total, expect);
    }
}

static void timer_client(struct cp_workload *w, const char *sock, struct cp_client *c)
{
    rv_session *s;
    if (cp_open_session(sock, "timer", NULL, c, &s) < 0)
        return;
    struct timer_start st = { .period_ns = PERIOD_MS * 1000000ull, .start_ns = now_ns() };
    int efd = -1, rc = rv_call_fd(s, TIMER_START, &st, sizeof st, NULL, 0, NULL, &efd);
    if (rc < 0 || efd < 0) {
        cp_call_failed(c, s, rc < 0 ? rc : RV_EPROTO, "start");
        rv_close(s);
        return;
    }
    uint64_t total = 0;
    for (long n = 0; n < ticks(w->quick) && rc == 0;) {
        uint64_t fresh = 0;
        if ((rc = tick(s, efd, &fresh)) == 1) {
            c->stalled = true;
            snprintf(c->note, sizeof c->note, "no notification in %d ms after %ld", STALL_MS, n);
        } else if (rc < 0) {
            cp_call_failed(c, s, rc, "ack");
        } else if (fresh) {
            total += fresh;
            n++;
        }
    }
    if (rc == 0)
        check_total(c, total, st.start_ns, st.period_ns);
    close(efd);
    rv_close(s);
}

static void client(struct cp_workload *w, int i, const char *sock, struct cp_client *c)
{
    memset(c, 0, sizeof *c);
    if (w->svc == CP_RANDOM)
        random_client(w, i, sock, c);
    else if (w->svc == CP_TIMER)
        timer_client(w, sock, c);
    else
        cp_kv_client(w, i, sock, c);
}

static void *client_thread(void *arg)
{
    struct job *j = arg;
    client(j->w, j->i, j->w->sock, &j->w->c[j->i]);
    return NULL;
}

int cp_workload_run(struct cp_workload *w, const char *sock, int ms)
{
    static struct job jobs[CP_CLIENTS];
    w->sock = sock;
    for (int i = 0; i < CP_CLIENTS; i++)
        w->joined[i] = true;   /* nothing to join until its thread exists */
    for (int i = 0; i < CP_CLIENTS; i++) {
        jobs[i] = (struct job){ w, i };
        if (pthread_create(&w->th[i], NULL, client_thread, &jobs[i]) != 0)
            return -1;
        w->joined[i] = false;
    }
    struct timespec end;
    clock_gettime(CLOCK_REALTIME, &end);
    end.tv_sec += ms / 1000;
    end.tv_nsec += (ms % 1000) * 1000000L;
    if (end.tv_nsec >= 1000000000L) {
        end.tv_sec++;
        end.tv_nsec -= 1000000000L;
    }
    int rc = 0;
    for (int i = 0; i < CP_CLIENTS; i++) {
        w->joined[i] = pthread_timedjoin_np(w->th[i], NULL, &end) == 0;
        rc = w->joined[i] ? rc : -1;
    }
    return rc;
}

void cp_workload_join(struct cp_workload *w)
{
    for (int i = 0; i < CP_CLIENTS; i++)
        if (!w->joined[i])
            w->joined[i] = pthread_join(w->th[i], NULL) == 0;
}

int cp_golden(enum cp_service svc, bool quick, uint64_t golden[CP_CLIENTS][CP_DRAWS])
{
    struct cp_daemon d = { 0 };
    struct cp_workload w = { .svc = svc, .quick = quick };
    int rc = cp_daemon_start(&d, svc, false);
    bool ran = rc == 0;
    if (ran)
        rc = cp_workload_run(&w, d.sock, 30000);
    cp_daemon_stop(&d, 0);
    cp_daemon_remove(&d, NULL);
    if (ran)
        cp_workload_join(&w);
    for (int i = 0; i < CP_CLIENTS && rc == 0; i++)
        rc = w.c[i].err || w.c[i].stalled || w.c[i].wrong ? -1 : 0;
    memcpy(golden, w.got, sizeof w.got);
    return rc;
}

bool cp_postcheck(const struct cp_workload *w, const char *sock, char *why, size_t len)
{
    if (w->svc == CP_KV)
        return cp_kv_postcheck(w, sock, why, len);
    struct cp_workload fresh = { .svc = w->svc, .quick = w->quick, .golden = w->golden };
    client(&fresh, 0, sock, &fresh.c[0]);
    const struct cp_client *c = &fresh.c[0];
    bool ok = !c->err && !c->stalled && !c->wrong;
    snprintf(why, len, "%s", ok ? "" : c->note);
    return ok;
}
