/* bench_recovery.c — how long a client waits when the service dies under
 * its request.
 *
 * One session (the "hold" session) sends BENCH_HOLD naming the current
 * instance's pid; that instance parks the request in its handler and writes
 * a byte to the fifo. Once rv-bench reads the byte the request is journaled
 * and half-served, and rv-bench SIGKILLs the instance. revived restarts it,
 * hands over every session, the new instance rolls the hold session back
 * and re-runs the request (its pid no longer matches, so it just echoes).
 * The figure is the time from kill() to the reply reaching the caller.
 * The other sessions are idle, but each has an SSR and a journal that
 * revived hands over and the new instance maps and checks: that is what
 * grows with the session count. */
#include "bench_tool.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include "bench.h"
#include "revive/client.h"

struct recovery_run {
    struct revived *r;
    const char *svc;        /* HOLD_SVC or HOLD_STANDBY_SVC */
    rv_conn *conn;
    rv_session *hold;       /* the session with a request in flight at each kill */
    rv_session **idle;      /* the others */
    size_t nidle;
    uint32_t recoveries;    /* revived's count, to tell a fresh last_recovery_us */
    bool standby;           /* wait for the standby before each kill */
    bool shared;            /* the idle sessions are on a shared channel */
};

static rv_session *open_session(struct recovery_run *run, bool shared)
{
    rv_session *s;
    if ((shared ? rv_open_shared : rv_open)(run->conn, run->svc, NULL, &s) < 0)
        bench_die("cannot open session %zu of %s: %s", run->nidle + 1, run->svc, rv_conn_error(run->conn));
    return s;
}

struct recovery_run *recovery_begin(struct revived *r, const char *svc, bool standby, bool shared)
{
    struct recovery_run *run = calloc(1, sizeof *run);
    if (!run)
        bench_die("out of memory");
    run->r = r;
    run->svc = svc;
    run->standby = standby;
    run->shared = shared;
    if (rv_connect(r->sock, &run->conn) < 0)
        bench_die("cannot connect to revived at %s", r->sock);
    run->hold = open_session(run, false);
    run->recoveries = revived_status(r, svc).recoveries;
    return run;
}

static void grow(struct recovery_run *run, size_t sessions)
{
    size_t want = sessions - 1;
    if (want <= run->nidle)
        return;
    run->idle = realloc(run->idle, want * sizeof *run->idle);
    if (!run->idle)
        bench_die("out of memory");
    while (run->nidle < want)
        run->idle[run->nidle++] = open_session(run, run->shared);
}

struct hold_call {
    rv_session *s;
    int32_t pid;
    int rc;
    uint64_t done_ns;
};

static void *hold_thread(void *arg)
{
    struct hold_call *h = arg;
    int32_t rep;
    size_t len;
    h->rc = rv_call(h->s, BENCH_HOLD, &h->pid, sizeof h->pid, &rep, sizeof rep, &len);
    h->done_ns = bench_now_ns();
    return NULL;
}

static int32_t instance_pid(rv_session *s)
{
    int32_t pid;
    size_t len;
    if (rv_call(s, BENCH_PID, NULL, 0, &pid, sizeof pid, &len) != 0 || len != sizeof pid)
        bench_die("cannot ask the service for its pid: %s", rv_session_error(s));
    return pid;
}

/* The replacement standby starts once the last recovery is done, and
 * adopts every session: a crash before that takes over without it. */
static void await_standby(struct recovery_run *run)
{
    for (int i = 0; run->standby && !revived_status(run->r, run->svc).standby_ready; i++) {
        if (i == 1000000)
            bench_die("the standby of %s never became ready", run->svc);
        sched_yield();
    }
}

/* One kill with a request in flight; returns kill -> reply in us. */
static double one_kill(struct recovery_run *run)
{
    await_standby(run);
    struct hold_call h = { .s = run->hold, .pid = instance_pid(run->hold) };
    pthread_t t;
    if (pthread_create(&t, NULL, hold_thread, &h) != 0)
        bench_die("pthread_create failed");
    char b;
    if (read(run->r->notify_fd, &b, 1) != 1)
        bench_die("no word from the held request: %m");
    uint64_t t0 = bench_now_ns();
    if (kill(h.pid, SIGKILL) < 0)
        bench_die("kill %d: %m", (int)h.pid);
    pthread_join(t, NULL);
    if (h.rc != 0)
        bench_die("the in-flight call failed after the kill: %s", rv_session_error(run->hold));
    return (double)(h.done_ns - t0) / 1e3;
}

/* revived counts a recovery when the new instance says READY, which may
 * reach it just after the reply reached us: ask until the count moves. */
static double revived_recovery_us(struct recovery_run *run)
{
    for (int i = 0; i < 100000; i++) {
        struct rv_wire_svc_status st = revived_status(run->r, run->svc);
        if (st.recoveries > run->recoveries) {
            run->recoveries = st.recoveries;
            return (double)st.last_recovery_us;
        }
        sched_yield();
    }
    bench_die("revived never counted the recovery");
}

struct recovery recovery_measure(struct recovery_run *run, size_t sessions, int reps)
{
    grow(run, sessions);
    struct series client = { 0 }, nucleus = { 0 };
    for (int i = -1; i < reps; i++) {   /* the first kill warms up */
        double us = one_kill(run);
        double rv_us = revived_recovery_us(run);
        if (i >= 0) {
            series_add(&client, us);
            series_add(&nucleus, rv_us);
        }
    }
    struct recovery out = {
        .sessions = sessions, .reps = reps, .p50_us = series_quantile(&client, 0.5),
        .p99_us = series_quantile(&client, 0.99), .max_us = client.v[client.n - 1],
        .revived_p50_us = series_quantile(&nucleus, 0.5),
    };
    series_free(&client);
    series_free(&nucleus);
    return out;
}

void recovery_end(struct recovery_run *run)
{
    for (size_t i = 0; i < run->nidle; i++)
        rv_close(run->idle[i]);
    rv_close(run->hold);
    rv_disconnect(run->conn);
    free(run->idle);
    free(run);
}
