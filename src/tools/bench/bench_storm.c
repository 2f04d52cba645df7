/* bench_storm.c — recovery under a kill storm: the active instance of a
 * service is SIGKILLed every STORM_PERIOD_MS while a client calls it without
 * pause, as an OOM killer or a crashing dependency might.
 *
 * Two figures per kill: the time until the service answers again (the
 * first call begun after the kill is answered: the in-flight request was
 * rolled back, re-run by the next instance and answered before it), and
 * the longest the client waited for any reply until the next kill. Each
 * call increments a counter in the session's SSR and replies with it
 * (BENCH_COUNT): a reply that is not the last one plus one is a wrong
 * answer (a request run twice, lost, or a state rolled back too far).
 * The storm runs with `idle` more sessions open that never call, each with
 * its SSR and journal to recover. A kill is "refused" when revived reports no
 * running instance to kill (the service waits for its backoff) or the same
 * instance as the last kill (no successor yet): revivectl would say "no
 * running instance" there, and a client would wait.
 *
 * Each storm service runs with the default backoff (1ms..100ms) so that the
 * crashes, coming 10 ms apart, count as fast ones: the backoff must pace
 * the starting of replacements without delaying a standby's takeover. */
#include "bench_tool.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include "bench.h"
#include "revive/client.h"

#define MAX_REPLIES (8u << 20)

struct caller {
    rv_session *s;
    uint64_t *start_ns, *done_ns;   /* of every call, in order */
    size_t n;
    size_t wrong;                   /* replies that were not the counter's next value */
    atomic_bool stop;
    int rc;
};

static void *caller_main(void *arg)
{
    struct caller *c = arg;
    uint64_t count, last = 0;
    size_t len;
    while (!atomic_load(&c->stop) && c->n < MAX_REPLIES) {
        c->start_ns[c->n] = bench_now_ns();
        c->rc = rv_call(c->s, BENCH_COUNT, NULL, 0, &count, sizeof count, &len);
        if (c->rc != 0)
            break;
        c->done_ns[c->n] = bench_now_ns();
        __atomic_store_n(&c->n, c->n + 1, __ATOMIC_RELEASE);
        c->wrong += len != sizeof count || count != last + 1;
        last = count;
    }
    return NULL;
}

static void sleep_until(uint64_t ns)
{
    struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0)
        ;
}

/* The index of the first call in times[] (sorted) after t; c->n if none. */
static size_t first_after(const struct caller *c, const uint64_t *times, uint64_t t)
{
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (times[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Kill -> the first call begun after the kill is answered: the service is
 * back. (The first reply after the kill may have left the dead instance
 * just before it died.) */
static double back_us(const struct caller *c, uint64_t t)
{
    size_t i = first_after(c, c->start_ns, t);
    if (i == c->n)
        bench_die("no call completed after a kill of the storm");
    return (double)(c->done_ns[i] - t) / 1e3;
}

/* The longest the client waited for a reply between the kill at t and
 * `until`: the recovery, or anything else the crash set off (the start of
 * a replacement standby on the same core). */
static double stall_us(const struct caller *c, uint64_t t, uint64_t until)
{
    uint64_t worst = 0;
    for (size_t i = first_after(c, c->done_ns, t); i < c->n && (i == 0 || c->done_ns[i - 1] < until); i++) {
        uint64_t from = i && c->done_ns[i - 1] > t ? c->done_ns[i - 1] : t;
        if (c->done_ns[i] - from > worst)
            worst = c->done_ns[i] - from;
    }
    return (double)worst / 1e3;
}

/* Kills every period; returns the kill times in *kills (n of them). */
static size_t storm(struct revived *r, const char *svc, int kills, uint64_t *at, int *refused)
{
    int32_t last = 0;
    size_t n = 0;
    uint64_t next = bench_now_ns();
    for (int k = 0; k < kills; k++) {
        next += STORM_PERIOD_MS * 1000000ull;
        sleep_until(next);
        int32_t pid = revived_status(r, svc).pid;
        if (pid == 0 || pid == last) {
            (*refused)++;
            continue;
        }
        at[n] = bench_now_ns();
        if (kill(pid, SIGKILL) < 0)
            bench_die("kill %d: %m", (int)pid);
        last = pid;
        n++;
    }
    return n;
}

/* Until a call begun after the last kill is answered: the last recovery
 * is complete (the caller thread fills the times; n only grows). */
static void await_back(struct caller *c, uint64_t last_kill)
{
    for (;;) {
        size_t n = __atomic_load_n(&c->n, __ATOMIC_ACQUIRE);
        if (__atomic_load_n(&c->rc, __ATOMIC_RELAXED) != 0 || (n && c->start_ns[n - 1] > last_kill))
            return;
        sleep_until(bench_now_ns() + 1000000ull);
    }
}

static rv_session **open_idle(rv_conn *conn, const char *svc, size_t idle)
{
    rv_session **s = calloc(idle ? idle : 1, sizeof *s);
    if (!s)
        bench_die("out of memory");
    for (size_t i = 0; i < idle; i++)
        if (rv_open(conn, svc, NULL, &s[i]) < 0)
            bench_die("idle session %zu of %s: %s", i + 1, svc, rv_conn_error(conn));
    return s;
}

struct storm_result storm_measure(struct revived *r, const char *svc, int kills, size_t idle)
{
    struct caller c = { .start_ns = malloc(MAX_REPLIES * sizeof(uint64_t)),
                        .done_ns = malloc(MAX_REPLIES * sizeof(uint64_t)) };
    uint64_t *at = calloc((size_t)kills, sizeof *at);
    rv_conn *conn;
    if (!c.start_ns || !c.done_ns || !at)
        bench_die("out of memory");
    if (rv_connect(r->sock, &conn) < 0 || rv_open(conn, svc, NULL, &c.s) < 0)
        bench_die("cannot open a session of %s: %s", svc, rv_conn_error(conn));
    rv_session **idlers = open_idle(conn, svc, idle);
    pthread_t t;
    if (pthread_create(&t, NULL, caller_main, &c) != 0)
        bench_die("pthread_create failed");
    struct storm_result out = { .svc = svc, .idle = idle };
    size_t n = storm(r, svc, kills, at, &out.refused);
    await_back(&c, n ? at[n - 1] : 0);
    atomic_store(&c.stop, true);
    pthread_join(t, NULL);
    if (c.rc != 0)
        bench_die("a call failed during the %s storm: %s", svc, rv_session_error(c.s));
    struct series back = { 0 }, stall = { 0 };
    for (size_t i = 0; i < n; i++) {
        series_add(&back, back_us(&c, at[i]));
        series_add(&stall, stall_us(&c, at[i], i + 1 < n ? at[i + 1] : c.done_ns[c.n - 1]));
    }
    out.kills = (int)n;
    out.calls = c.n;
    out.wrong = c.wrong;
    out.back_p50_us = series_quantile(&back, 0.5);
    out.back_p99_us = series_quantile(&back, 0.99);
    out.stall_p50_us = series_quantile(&stall, 0.5);
    out.stall_p99_us = series_quantile(&stall, 0.99);
    series_free(&back);
    series_free(&stall);
    rv_close(c.s);
    for (size_t i = 0; i < idle; i++)
        rv_close(idlers[i]);
    free(idlers);
    rv_disconnect(conn);
    free(c.start_ns);
    free(c.done_ns);
    free(at);
    return out;
}
