/* watchdog.c — see watchdog.h. Every check reads the instance's status
 * page, which the instance writes: a claim, bounded by what revived knows
 * (the manifest's timeouts, its own clock). */
#include "watchdog.h"

#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "child.h"
#include "list.h"
#include "loop.h"
#include "procstat.h"
#include "service.h"
#include "ring.h"
#include "session.h"
#include "util.h"

/* Whether the instance (process pid) waits on a request of its own to
 * another service: fs, a client of blk, waiting on a blk that is hung or
 * recovering. That service's watchdog judges its hang; the waiting
 * request is no more to blame than its own client. */
static bool waits_on_another(const struct service *svc, pid_t pid)
{
    for (size_t i = 0; i < services_count(); i++) {
        const struct service *other = service_at(i);
        for (struct held_session *s = other == svc ? NULL : other->sessions; s; s = s->next) {
            uint64_t done;
            if (s->client_pid == pid && s->state == SESS_BOUND && session_waiting(s, &done) != WAITS_NOTHING)
                return true;
        }
    }
    return false;
}

/* A request past its deadline is blamed (twice: poisoned) only when its
 * instance could have run it: not while the instance waits on another
 * service, and not when the instance is stopped (SIGSTOP from outside),
 * which is killed as hung all the same. */
static void check_request_deadline(struct service *svc, struct instance *in, uint64_t now)
{
    struct rv_busy oldest = { 0 };
    uint64_t since = rv__status_oldest(in->status, &oldest);
    uint64_t limit = svc->conf->request_timeout_ms * 1000000ull;
    if (!limit || !since || now < since || now - since <= limit || waits_on_another(svc, in->pid))
        return;
    struct held_session *s = service_session(svc, oldest.session);
    uint64_t seq = oldest.seq;
    struct procstat ps;
    bool stopped = procstat_read(in->pid, &ps) == 0 && ps.state == 'T';
    service_abort(in, stopped ? "hang: stopped past request_timeout" : "hang: a request exceeded request_timeout");
    if (s && !stopped)
        session_blame(s, seq);
}

/* A request nobody serves: queued or journaled, while the instance is idle
 * and the session's completed seq does not move for request_timeout. The
 * instance looks healthy (it answers pings) but has lost the request, which
 * only a bit flip or a bug does: killing it makes the next instance re-run
 * the request from the journal. Or a call in a ring, which revived rings
 * for at each scan, that the instance does not look at (its fast path's
 * thread is stopped or lost): each look at the rings is progress, even one
 * that answers nothing (a client that lies keeps its own call unanswered).
 * Scanned every half timeout, not every tick: each session costs an
 * ioctl. */
static void check_stalls(struct service *svc, struct instance *in, uint64_t now)
{
    uint64_t limit = svc->conf->request_timeout_ms * 1000000ull;
    struct rv_busy oldest = { 0 };
    if (!limit || rv__status_oldest(in->status, &oldest) || now - svc->stall_scan_ns < limit / 2)
        return;
    svc->stall_scan_ns = now;
    uint64_t scans = __atomic_load_n(&in->status->ring_scans, __ATOMIC_ACQUIRE);
    bool rung = false;
    for (struct held_session *s = svc->sessions; s; s = s->next) {
        uint64_t done;
        enum session_wait w = s->state == SESS_BOUND ? session_waiting(s, &done) : WAITS_NOTHING;
        if (w == WAITS_NOTHING) {
            s->stall_since_ns = 0;
            continue;
        }
        if (w == WAITS_IN_RING && !rung) {   /* posted without a ring, or one undone (ring.h) */
            rv__doorbell_ring(svc->bell);
            rung = true;
        }
        uint64_t posted = session_ring_posted(s), looks = w == WAITS_IN_RING ? scans : 0;
        if (!s->stall_since_ns || s->stall_done != done || s->stall_posted != posted || s->stall_scans != looks) {
            s->stall_since_ns = now;
            s->stall_done = done;
            s->stall_posted = posted;
            s->stall_scans = looks;
        } else if (now - s->stall_since_ns > limit) {
            service_abort(in, "hang: a request waited past request_timeout, unserved");
            return;
        }
    }
}

/* While a request runs, its deadline is the judge: a handler may legitimately
 * take longer than a heartbeat. Without a deadline the heartbeat still is. */
static void check_heartbeat(struct service *svc, struct instance *in, uint64_t now)
{
    uint64_t period = svc->conf->heartbeat_ms * 1000000ull;
    struct rv_busy oldest = { 0 };
    bool busy = rv__status_oldest(in->status, &oldest) != 0;
    if (!period || (busy && svc->conf->request_timeout_ms)) {
        in->ping_sent_ns = 0;
        in->last_ping_ns = now;
        return;
    }
    if (in->ping_sent_ns && now - in->ping_sent_ns > period) {
        service_abort(in, "hang: missed a heartbeat");
        return;
    }
    if (!in->ping_sent_ns && now - in->last_ping_ns >= period) {
        struct rv_hdr h = rv__hdr_make(RV_T_PING, now, 0, 0, 0);
        if (instance_send(in, &h, NULL, NULL, 0, MSG_DONTWAIT) == 0)
            in->ping_sent_ns = in->last_ping_ns = now;
    }
}

/* Before READY an instance answers no ping, but one that is stopped (a
 * SIGSTOP that hit it while it started or took over) will never get there:
 * it is hung at once, not after start_timeout. */
static void check_start(struct service *svc, struct instance *in, uint64_t now)
{
    char why[96];
    if (now - in->spawn_ns > svc->conf->start_timeout_ms * 1000000ull) {
        snprintf(why, sizeof why, "hang: not ready within start_timeout (%llu ms)",
                 (unsigned long long)svc->conf->start_timeout_ms);
        service_abort(in, why);
    } else if (child_stopped(in->pid, in->pidfd))
        service_abort(in, "hang: stopped while starting");
}

static void on_watchdog(struct rv_handler *h, uint32_t events)
{
    (void)events;
    struct service *svc = rv__container_of(h, struct service, watchdog_h);
    timer_drain(svc->watchdog_tfd);
    struct instance *in = svc->active;
    if (!in || in->killed_by_us)
        return;
    uint64_t now = rv__now_ns();
    /* before READY too: a re-run request can hang, and must be blamed */
    check_request_deadline(svc, in, now);
    if (in->killed_by_us)
        return;
    if (svc->state != SVC_READY) {
        check_start(svc, in, now);
        return;
    }
    check_heartbeat(svc, in, now);
    if (!in->killed_by_us)
        check_stalls(svc, in, now);
}

static uint64_t watchdog_period_ms(const struct rv_service_conf *c)
{
    uint64_t p = c->start_timeout_ms;
    if (c->request_timeout_ms && c->request_timeout_ms < p)
        p = c->request_timeout_ms;
    if (c->heartbeat_ms && c->heartbeat_ms < p)
        p = c->heartbeat_ms;
    p /= 4;
    return p < 5 ? 5 : p;
}

int watchdog_start(struct service *svc)
{
    svc->watchdog_h.on_event = on_watchdog;
    svc->watchdog_tfd = timer_new();
    if (svc->watchdog_tfd < 0 || loop_add(svc->watchdog_tfd, EPOLLIN, &svc->watchdog_h) < 0)
        return -1;
    uint64_t p = watchdog_period_ms(svc->conf);
    timer_arm(svc->watchdog_tfd, p, p);
    return 0;
}

void watchdog_stop(struct service *svc)
{
    if (svc->watchdog_tfd >= 0) {
        loop_del(svc->watchdog_tfd);
        close(svc->watchdog_tfd);
    }
    svc->watchdog_tfd = -1;
}
