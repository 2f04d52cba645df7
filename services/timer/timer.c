/* timer.c — the `timer` service: periodic notifications that survive crashes.
 *
 * A type-2 server in CuriOS's terms: besides the per-client state in SSRs
 * (start, period, expirations acknowledged, next deadline) it keeps a global
 * view, the queue of deadlines, which dies with the process. The recover
 * hook rebuilds the queue from all SSRs and notifies at once every client
 * whose deadline passed while the service was down. Unlike the SSR paper's
 * design, which restarted periods at recovery time (a skew of up to one
 * period), deadlines here are start + k * period, so recovery adds no skew
 * and no expiration is lost: the count is computed, not accumulated. */
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include "deadline_heap.h"
#include "revive/server.h"
#include "timer.h"

#define TIMER_SSR_LAYOUT 1
#define NOTIFIER_SLOT 0

struct timer_ssr {
    uint64_t start_ns, period_ns;
    uint64_t acked;          /* expirations reported by TIMER_ACK so far */
    uint64_t next_ns;        /* next deadline, 0 when not armed */
};

static struct deadline_heap queue;
static int tfd = -1;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t due(const struct timer_ssr *t, uint64_t now)
{
    return now < t->start_ns ? 0 : (now - t->start_ns) / t->period_ns;
}

static uint64_t deadline_after(const struct timer_ssr *t, uint64_t now)
{
    return t->start_ns + (due(t, now) + 1) * t->period_ns;
}

static void rearm(void)
{
    struct itimerspec it = { 0 };
    uint64_t first = heap_min_deadline(&queue);
    if (first) {
        it.it_value.tv_sec = (time_t)(first / 1000000000ull);
        it.it_value.tv_nsec = (long)(first % 1000000000ull);
    }
    timerfd_settime(tfd, TFD_TIMER_ABSTIME, &it, NULL);
}

static void notify(rv_svc_session *s)
{
    uint64_t one = 1;
    ssize_t w = write(rv_stored_fd(s, NOTIFIER_SLOT), &one, sizeof one);
    (void)w;   /* a full counter still wakes the client */
}

static void set_next(rv_svc_session *s, void *ssr, void *arg)
{
    (void)s;
    struct timer_ssr *t = ssr;
    t->next_ns = *(uint64_t *)arg;
}

/* Fire every deadline that has passed: wake the client, then commit the
 * next deadline. A crash between the two re-notifies after recovery; the
 * ACK count stays exact either way. */
static void on_tick(int fd, void *arg)
{
    (void)arg;
    uint64_t n;
    ssize_t r = read(fd, &n, sizeof n);
    (void)r;
    uint64_t now = now_ns();
    struct deadline *d;
    while ((d = heap_pop_due(&queue, now))) {
        rv_svc_session *s = d->sess;
        notify(s);
        uint64_t next = d->deadline;
        while (next <= now)
            next += d->period;
        rv_svc_session_update(s, set_next, &next);
        d->deadline = next;
        heap_push(&queue, d);
    }
    rearm();
}

static int timer_init(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    return tfd < 0 ? -1 : rv_watch_fd(tfd, on_tick, NULL);
}

static int timer_bind(rv_svc_session *s, void *ssr, const char *args)
{
    (void)ssr;
    (void)args;
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0 || rv_store_fd(s, NOTIFIER_SLOT, efd) != 0)
        return RV_EIO;
    return 0;
}

static void schedule(rv_svc_session *s, uint64_t deadline, uint64_t period)
{
    struct deadline *d = rv_svc_session_data(s);
    if (!d) {
        d = calloc(1, sizeof *d);
        if (!d)
            return;
        d->sess = s;
        rv_svc_session_set_data(s, d);
    } else
        heap_remove(&queue, d);
    d->deadline = deadline;
    d->period = period;
    heap_push(&queue, d);
    rearm();
}

static int handle_start(rv_request *req, struct timer_ssr *t)
{
    struct timer_start st;
    if (req->len != sizeof st)
        return RV_EAPP;
    memcpy(&st, req->data, sizeof st);
    if (st.period_ns < 100000 || st.period_ns > 86400000000000ull)
        return RV_EAPP;   /* 100 us .. 1 day */
    *t = (struct timer_ssr){ .start_ns = st.start_ns, .period_ns = st.period_ns };
    t->next_ns = deadline_after(t, now_ns());
    schedule(req->session, t->next_ns, t->period_ns);
    return rv_reply_attach(req, NOTIFIER_SLOT);
}

static int handle_ack(rv_request *req, struct timer_ssr *t)
{
    if (!t->period_ns)
        return RV_EAPP;
    uint64_t d = due(t, now_ns());
    uint64_t fresh = d > t->acked ? d - t->acked : 0;
    t->acked = d > t->acked ? d : t->acked;
    return rv_reply(req, &fresh, sizeof fresh);
}

static int timer_handle(rv_request *req)
{
    switch (req->op) {
    case TIMER_START: return handle_start(req, req->ssr);
    case TIMER_ACK: return handle_ack(req, req->ssr);
    default: return RV_EAPP;
    }
}

static void timer_unbind(rv_svc_session *s, void *ssr)
{
    (void)ssr;
    struct deadline *d = rv_svc_session_data(s);
    if (d) {
        heap_remove(&queue, d);
        free(d);
        rearm();
    }
}

/* Every deadline is start + k * period. (Nothing ties the stored deadline to
 * the acknowledged count: an ACK served before a late tick runs ahead of it.) */
static bool timer_validate(rv_svc_session *s, const void *ssr)
{
    (void)s;
    const struct timer_ssr *t = ssr;
    if (t->period_ns == 0)
        return t->start_ns == 0 && t->acked == 0 && t->next_ns == 0;
    return t->period_ns >= 100000 && t->period_ns <= 86400000000000ull && t->next_ns > t->start_ns &&
           (t->next_ns - t->start_ns) % t->period_ns == 0 && t->acked <= due(t, now_ns());
}

/* Ticks must not stop: a deadline still ahead must be armed on the timerfd
 * (after it passes, the timerfd has fired and on_tick is due), and the
 * earliest deadline must not lie far in the past. Either failing means a
 * corrupted heap or a failed re-arm, and clients would wait for ever. The
 * slack covers an event loop that is merely busy. */
#define OVERDUE_NS 500000000ull

static bool timer_audit(void)
{
    uint64_t first = heap_min_deadline(&queue);
    if (!first)
        return true;
    uint64_t now = now_ns();
    if (now >= first)
        return now - first < OVERDUE_NS;
    struct itimerspec it;
    return timerfd_gettime(tfd, &it) == 0 && (it.it_value.tv_sec || it.it_value.tv_nsec);
}

/* Rebuild the deadline queue from every SSR. The schedule is recomputed from
 * start and period, never taken from a stored deadline that could be stale;
 * a client with expirations it has not acknowledged is woken now, and its
 * ACK will report every one of them. */
static int timer_recover(rv_svc_session **all, size_t n)
{
    uint64_t now = now_ns();
    for (size_t i = 0; i < n; i++) {
        const struct timer_ssr *t = rv_svc_session_ssr(all[i]);
        if (!t->period_ns)
            continue;
        if (due(t, now) > t->acked)
            notify(all[i]);
        schedule(all[i], deadline_after(t, now), t->period_ns);
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct rv_service_ops ops = {
        .ssr_layout = TIMER_SSR_LAYOUT,
        .ssr_size = sizeof(struct timer_ssr),
        .init = timer_init,
        .bind = timer_bind,
        .unbind = timer_unbind,
        .handle = timer_handle,
        .validate = timer_validate,
        .recover = timer_recover,
        .audit = timer_audit,
    };
    return rv_service_main(&ops, argc, argv);
}
