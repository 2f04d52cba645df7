/* service.c — the supervisor's life cycle of a service: spawn, death, the
 * restart policy, the watchdog, and the requests revivectl makes.
 * The conversation with a running instance lives in handover.c. */
#include "service.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "arena.h"
#include "child.h"
#include "control.h"
#include "handover.h"
#include "log.h"
#include "session.h"
#include "util.h"

static struct service *services;
static size_t nservices;

static const char *state_name[] = {
    [SVC_STARTING] = "starting", [SVC_READY] = "ready", [SVC_RECOVERING] = "recovering",
    [SVC_FAILED] = "failed", [SVC_STOPPED] = "stopped",
};

#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

static void append_exit_note(struct service *svc, const char *note)
{
    size_t l = strlen(svc->last_exit);
    snprintf(svc->last_exit + l, sizeof svc->last_exit - l, "%s", note);
}

/* ---- spawning ---- */

static void on_instance_exit(struct rv_handler *h, uint32_t events);

static int spawn_active(struct service *svc)
{
    svc->active = instance_spawn(svc, on_instance_exit, handover_on_ctl);
    if (!svc->active)
        rv_err("%s: cannot start %s: %s", svc->conf->name, svc->conf->exec, strerror(errno));
    return svc->active ? 0 : -1;
}

/* A standby that cannot be started costs speed, not service: log it.
 * Called once the active instance is READY, so the new standby's start
 * never competes with a recovery for the CPU, and again when a backoff
 * that held it back ends. */
void service_spawn_standby(struct service *svc)
{
    if (!svc->conf->standby || svc->standby || svc->pacing)
        return;
    svc->standby = instance_spawn(svc, on_instance_exit, handover_on_ctl);
    if (!svc->standby)
        rv_warn("%s: cannot start a standby: %s", svc->conf->name, strerror(errno));
}

/* The standby becomes the active instance. If it already waits for its
 * sessions they go now; otherwise its HELLO, when it comes, finds it active. */
static void promote_standby(struct service *svc)
{
    svc->active = svc->standby;
    svc->standby = NULL;
    svc->active->spawn_ns = rv_now_ns();
    rv_info("%s: standby %d takes over", svc->conf->name, (int)svc->active->pid);
    if (svc->active->waiting)
        handover_begin(svc->active);
}

/* A standby that can take over: started, and not being retired. */
static bool has_standby(const struct service *svc)
{
    return svc->standby && !svc->standby->retiring;
}

/* Freed when its exit is seen; never promoted meanwhile. */
static void stop_standby(struct service *svc)
{
    if (svc->standby) {
        svc->standby->retiring = true;
        instance_signal(svc->standby, SIGKILL);
    }
}

/* ---- ending sessions ---- */

/* A bound session of a service that keeps session state loses that state
 * with the service: its client hears RV_ELOST, never a silent fresh start.
 * An open still waiting for its bind has lost nothing yet. */
static void fail_all_sessions(struct service *svc, int status, const char *why)
{
    bool keeps_state = svc->conf->state != RV_STATE_STATELESS;
    char lost[640];
    snprintf(lost, sizeof lost, "%s; this session's state (state = %s) is gone with it: open a new session", why,
             svc->conf->state == RV_STATE_ARENA ? "arena" : "ssr");
    while (svc->sessions) {
        struct session *s = svc->sessions;
        bool loses = keeps_state && s->state == SESS_BOUND;
        service_unlink(s);
        session_fail(s, loses ? RV_ELOST : status, loses ? lost : why);
    }
}

/* state = stateless: the service keeps nothing across a restart, so no
 * bound session can be continued; its clients get RV_EREVOKED and reopen
 * (librevive's session handler does that for them). Sessions still waiting
 * for their bind are kept: the next instance binds them fresh. */
static void revoke_bound_sessions(struct service *svc)
{
    char why[192];
    snprintf(why, sizeof why, "service '%s' restarted and keeps no state (state = stateless); reopen the session",
             svc->conf->name);
    struct session *next;
    for (struct session *s = svc->sessions; s; s = next) {
        next = s->next;
        if (s->state != SESS_BOUND)
            continue;
        service_unlink(s);
        session_fail(s, RV_EREVOKED, why);
    }
}

static void give_up(struct service *svc, enum svc_state state, int status)
{
    char why[512];
    snprintf(why, sizeof why, "service '%s' %s (last exit: %s); 'revivectl restart %s' starts it again",
             svc->conf->name, state == SVC_FAILED ? "has failed" : "is stopped", svc->last_exit,
             svc->conf->name);
    svc->state = state;
    rv_log(state == SVC_FAILED ? RV_LOG_ERR : RV_LOG_NOTICE, "%s", why);
    fail_all_sessions(svc, status, why);
    stop_standby(svc);
}

/* ---- the restart policy ---- */

static bool intensity_exceeded(struct service *svc, uint64_t now)
{
    unsigned n = svc->conf->max_restarts;
    if (n == 0)
        return true;
    uint64_t oldest = svc->restart_ns[svc->restart_ring_pos];
    return oldest && now - oldest < svc->conf->restart_window_ms * 1000000ull;
}

static void note_restart(struct service *svc, uint64_t now)
{
    if (svc->conf->max_restarts) {
        svc->restart_ns[svc->restart_ring_pos] = now;
        svc->restart_ring_pos = (svc->restart_ring_pos + 1) % svc->conf->max_restarts;
    }
    svc->restarts++;
}

/* No delay after a crash that follows a stable run; exponential from
 * backoff_min after crashes that come quickly one after another. */
static uint64_t backoff_ms(struct service *svc, uint64_t lived_ns)
{
    const struct rv_service_conf *c = svc->conf;
    if (lived_ns >= c->backoff_max_ms * 1000000ull)
        svc->fast_crashes = 0;
    else
        svc->fast_crashes++;
    if (svc->fast_crashes == 0)
        return 0;
    unsigned shift = svc->fast_crashes - 1 > 30 ? 30 : svc->fast_crashes - 1;
    uint64_t d = c->backoff_min_ms << shift;
    return d > c->backoff_max_ms ? c->backoff_max_ms : d;
}

static void restart_now(struct service *svc)
{
    if (has_standby(svc))
        promote_standby(svc);
    else if (spawn_active(svc) < 0) {
        snprintf(svc->last_exit, sizeof svc->last_exit, "could not start: %s", strerror(errno));
        give_up(svc, SVC_FAILED, RV_EFAILED);
    }
}

/* After the active instance died, having lived lived_ns. */
static void schedule_restart(struct service *svc, bool clean_exit, uint64_t lived_ns)
{
    uint64_t now = rv_now_ns();
    const struct rv_service_conf *c = svc->conf;
    if (svc->refused) {
        give_up(svc, SVC_FAILED, RV_EFAILED);
        return;
    }
    if (svc->restart_requested) {
        svc->restart_requested = false;
        svc->restarts++;
        svc->state = SVC_RECOVERING;
        restart_now(svc);
        return;
    }
    if (c->restart == RV_RESTART_NEVER || (clean_exit && c->restart == RV_RESTART_ON_FAILURE)) {
        give_up(svc, clean_exit ? SVC_STOPPED : SVC_FAILED, clean_exit ? RV_ESTOPPED : RV_EFAILED);
        return;
    }
    if (intensity_exceeded(svc, now)) {
        char note[64];
        snprintf(note, sizeof note, "; more than %u restarts in %" PRIu64 " ms", c->max_restarts,
                 c->restart_window_ms);
        append_exit_note(svc, note);
        give_up(svc, SVC_FAILED, RV_EFAILED);
        return;
    }
    note_restart(svc, now);
    if (!svc->crash_ns)
        svc->crash_ns = now;
    svc->state = SVC_RECOVERING;
    uint64_t delay = backoff_ms(svc, lived_ns);
    /* The backoff paces the starting of processes, not a standby that is
     * already started: it takes over at once. Its replacement, one process
     * start that guards the next crash, waits backoff_min after a fast
     * crash rather than the growing delay, so that a standby is ready for
     * crashes that come every few milliseconds; a crash loop is still
     * bounded by max_restarts. */
    if (has_standby(svc) && delay)
        delay = c->backoff_min_ms;
    if (delay) {
        svc->pacing = true;
        timer_arm(svc->backoff_tfd, delay, 0);
    }
    if (has_standby(svc) || !delay)
        restart_now(svc);
}

static void on_backoff(struct rv_handler *h, uint32_t events)
{
    (void)events;
    struct service *svc = container_of(h, struct service, backoff_h);
    timer_drain(svc->backoff_tfd);
    svc->pacing = false;
    if (svc->state == SVC_RECOVERING && !svc->active)
        restart_now(svc);
    else if (svc->state == SVC_READY)
        service_spawn_standby(svc);
}

/* ---- death ---- */

static void describe_exit(struct service *svc, const struct instance *in, const siginfo_t *si)
{
    char *d = svc->last_exit;
    size_t n = sizeof svc->last_exit;
    if (in->killed_by_us)
        return;   /* the watchdog already said why */
    if (si->si_code == CLD_EXITED)
        snprintf(d, n, "exited with status %d", si->si_status);
    else
        snprintf(d, n, "killed by SIG%s", sigabbrev_np(si->si_status) ? sigabbrev_np(si->si_status) : "?");
}

/* The crash record is the dead instance's claim; it is believed only when it
 * matches how the kernel says the process died. */
static bool record_believed(const struct rv_status_page *st, const siginfo_t *si)
{
    return st && st->magic == RV_STATUS_MAGIC && st->crash_self && si->si_code != CLD_EXITED &&
           (uint32_t)si->si_status == st->crash_signal;
}

/* A SIGKILL leaves no record (it cannot be caught), but one from outside
 * revive (the OOM killer, the request making the process kill itself) is
 * still a death during the request the instance was serving: blamed when
 * exactly one request was being served, so a bystander of a multi-worker
 * instance is never poisoned. A kill revivectl asked for is an operator's,
 * and blames no request. */
static bool busy_request(const struct instance *in, const siginfo_t *si, struct rv_busy *b)
{
    const struct rv_status_page *st = in->status;
    if (!st || si->si_code != CLD_KILLED || si->si_status != SIGKILL || in->signalled == SIGKILL)
        return false;
    unsigned n = 0;
    for (int i = 0; i < RV_STATUS_SLOTS; i++) {
        struct rv_busy slot = { .session = st->busy[i].session, .seq = st->busy[i].seq,
                                .since_ns = __atomic_load_n(&st->busy[i].since_ns, __ATOMIC_ACQUIRE) };
        if (slot.since_ns && slot.session && slot.session != UINT64_MAX) {
            *b = slot;
            n++;
        }
    }
    return n == 1;
}

/* Finds the request the death is blamed on, if any, and counts it. */
static void blame_death(struct service *svc, const struct instance *in, const siginfo_t *si)
{
    if (in->killed_by_us)
        return;   /* service_abort cleared the culprits; the watchdog named the new one, if any */
    for (struct session *s = svc->sessions; s; s = s->next)
        s->culprit = false;
    struct rv_busy b = { 0 };
    if (record_believed(in->status, si))
        b = (struct rv_busy){ .session = in->status->crash_session, .seq = in->status->crash_seq };
    else if (!busy_request(in, si, &b))
        return;
    struct session *s = service_session(svc, b.session);
    if (!s)
        return;
    session_blame(s, b.seq);
    char note[40];
    snprintf(note, sizeof note, " in session %llu", (unsigned long long)s->id);
    append_exit_note(svc, note);
}

/* A session whose bind crashed the service twice is refused; its opener
 * gets the error, and no instance sees it again. */
static void refuse_poisoned_binds(struct service *svc)
{
    for (struct session *s = svc->sessions, *next; s; s = next) {
        next = s->next;
        if (s->state == SESS_BINDING && s->crash_count >= 2) {
            service_unlink(s);
            svc->requests_failed++;
            session_fail(s, RV_EPOISON, "opening this session crashed the service twice");
        } else if (s->crash_count >= 2 && s->culprit)
            svc->requests_failed++;
    }
}

/* A standby that dies is only noted; the next restart starts another.
 * One revived retired (for a restart, which must run the program as it is
 * now) is replaced as soon as it is gone. */
static void standby_exited(struct service *svc, struct instance *in, const siginfo_t *si)
{
    bool retired = in->retiring;
    if (!retired)
        rv_warn("%s: standby %d %s %d", svc->conf->name, (int)in->pid,
                si->si_code == CLD_EXITED ? "exited with status" : "killed by signal", si->si_status);
    svc->standby = NULL;
    instance_free(in);
    if (retired && svc->state == SVC_READY)
        service_spawn_standby(svc);
}

/* Which sessions the dead instance may have lost a request of (it died
 * inside their recv): the next instance's READY tells those clients to
 * re-send. */
static void note_lost_requests(struct service *svc)
{
    for (struct session *s = svc->sessions; s; s = s->next)
        s->maybe_lost |= s->state == SESS_BOUND && session_died_receiving(s);
}

static void active_exited(struct service *svc, struct instance *in, const siginfo_t *si)
{
    handover_drain(in);
    note_lost_requests(svc);
    describe_exit(svc, in, si);
    blame_death(svc, in, si);
    refuse_poisoned_binds(svc);
    if (svc->conf->state == RV_STATE_STATELESS)
        revoke_bound_sessions(svc);
    rv_notice("%s: instance %d %s", svc->conf->name, (int)in->pid, svc->last_exit);
    uint64_t lived = rv_now_ns() - in->spawn_ns;
    svc->active = NULL;
    instance_free(in);
    schedule_restart(svc, si->si_code == CLD_EXITED && si->si_status == 0, lived);
}

static void on_instance_exit(struct rv_handler *h, uint32_t events)
{
    (void)events;
    struct instance *in = container_of(h, struct instance, exit_h);
    siginfo_t si = { 0 };
    if (instance_reap(in, &si, false) != 1)
        return;
    if (in == in->svc->active)
        active_exited(in->svc, in, &si);
    else
        standby_exited(in->svc, in, &si);
}

/* ---- the watchdog ---- */

void service_abort(struct instance *in, const char *why)
{
    struct service *svc = in->svc;
    if (in->killed_by_us)
        return;
    in->killed_by_us = true;
    rv_warn("%s: instance %d: %s; killing it", svc->conf->name, (int)in->pid, why);
    instance_signal(in, SIGKILL);
    if (in != svc->active)
        return;
    snprintf(svc->last_exit, sizeof svc->last_exit, "%s", why);
    for (struct session *s = svc->sessions; s; s = s->next)
        s->culprit = false;
}

void service_refuse(struct instance *in, const char *why)
{
    struct service *svc = in->svc;
    bool active = in == svc->active;
    service_abort(in, why);
    if (active)
        svc->refused = true;
}

static void check_request_deadline(struct service *svc, struct instance *in, uint64_t now)
{
    struct rv_busy oldest = { 0 };
    uint64_t since = rv_status_oldest(in->status, &oldest);
    uint64_t limit = svc->conf->request_timeout_ms * 1000000ull;
    if (!limit || !since || now < since || now - since <= limit)
        return;
    struct session *s = service_session(svc, oldest.session);
    uint64_t seq = oldest.seq;
    service_abort(in, "hang: a request exceeded request_timeout");
    if (s)
        session_blame(s, seq);
}

/* A request nobody serves: queued or journaled, while the instance is idle
 * and the session's completed seq does not move for request_timeout. The
 * instance looks healthy (it answers pings) but has lost the request, which
 * only a bit flip or a bug does: killing it makes the next instance re-run
 * the request from the journal. Scanned every half timeout, not every tick:
 * each session costs an ioctl. */
static void check_stalls(struct service *svc, struct instance *in, uint64_t now)
{
    uint64_t limit = svc->conf->request_timeout_ms * 1000000ull;
    struct rv_busy oldest = { 0 };
    if (!limit || rv_status_oldest(in->status, &oldest) || now - svc->stall_scan_ns < limit / 2)
        return;
    svc->stall_scan_ns = now;
    for (struct session *s = svc->sessions; s; s = s->next) {
        uint64_t done;
        if (s->state != SESS_BOUND || !session_request_pending(s, &done)) {
            s->stall_since_ns = 0;
            continue;
        }
        if (!s->stall_since_ns || s->stall_done != done) {
            s->stall_since_ns = now;
            s->stall_done = done;
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
    bool busy = rv_status_oldest(in->status, &oldest) != 0;
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
        struct rv_hdr h = rv_hdr_make(RV_T_PING, now, 0, 0, 0);
        if (rv_wire_send(in->ctl_fd, &h, NULL, NULL, 0, MSG_DONTWAIT) == 0)
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
    struct service *svc = container_of(h, struct service, watchdog_h);
    timer_drain(svc->watchdog_tfd);
    struct instance *in = svc->active;
    if (!in || in->killed_by_us)
        return;
    uint64_t now = rv_now_ns();
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

/* ---- set-up and tear-down ---- */

/* The arena outlives every instance, like the sessions' SSRs: created
 * once, zero-filled (the first instance formats it, or loads it from its
 * arena_file), handed to each. */
static int make_arena(struct service *svc)
{
    char why[512];
    if (svc->conf->state != RV_STATE_ARENA)
        return 0;
    if (arena_open(svc->conf, &svc->arena_fd, &svc->arena_file_fd, why, sizeof why) < 0) {
        rv_err("%s", why);
        return -1;
    }
    return 0;
}

static int service_init(struct service *svc, const struct rv_service_conf *conf)
{
    *svc = (struct service){
        .conf = conf, .state = SVC_STARTING, .watchdog_h = { on_watchdog }, .backoff_h = { on_backoff },
        .arena_fd = -1, .arena_file_fd = -1,
    };
    snprintf(svc->last_exit, sizeof svc->last_exit, "-");
    svc->restart_ns = calloc(conf->max_restarts ? conf->max_restarts : 1, sizeof *svc->restart_ns);
    svc->watchdog_tfd = timer_new();
    svc->backoff_tfd = timer_new();
    if (!svc->restart_ns || svc->watchdog_tfd < 0 || svc->backoff_tfd < 0 ||
        loop_add(svc->watchdog_tfd, EPOLLIN, &svc->watchdog_h) < 0 ||
        loop_add(svc->backoff_tfd, EPOLLIN, &svc->backoff_h) < 0 || make_arena(svc) < 0)
        return -1;
    uint64_t p = watchdog_period_ms(conf);
    timer_arm(svc->watchdog_tfd, p, p);
    return spawn_active(svc);
}

int services_init(const struct rv_manifest *m)
{
    services = calloc(m->nservices, sizeof *services);
    if (!services)
        return -1;
    /* counted as they are set up, so services_fini after a failure here
     * releases only what exists (a zeroed entry's descriptors are not -1) */
    for (size_t i = 0; i < m->nservices; i++) {
        nservices = i + 1;
        if (service_init(&services[i], &m->services[i]) < 0)
            return -1;
    }
    return 0;
}

/* Instances are killed, not asked to stop: they hold nothing that revived
 * does not also hold, which is the point of revive. */
void services_fini(void)
{
    for (size_t i = 0; i < nservices; i++) {
        struct service *svc = &services[i];
        struct instance *both[] = { svc->active, svc->standby };
        for (int k = 0; k < 2; k++)
            if (both[k]) {
                siginfo_t si;
                instance_signal(both[k], SIGKILL);
                instance_reap(both[k], &si, true);
                instance_free(both[k]);
            }
        while (svc->sessions) {
            struct session *s = svc->sessions;
            service_unlink(s);
            session_destroy(s);
        }
        if (svc->watchdog_tfd >= 0)
            close(svc->watchdog_tfd);
        if (svc->backoff_tfd >= 0)
            close(svc->backoff_tfd);
        if (svc->arena_fd >= 0)
            close(svc->arena_fd);
        if (svc->arena_file_fd >= 0)
            close(svc->arena_file_fd);
        free(svc->restart_ns);
    }
    free(services);
    services = NULL;
    nservices = 0;
    child_fini();
}

struct service *service_find(const char *name)
{
    for (size_t i = 0; i < nservices; i++)
        if (strcmp(services[i].conf->name, name) == 0)
            return &services[i];
    return NULL;
}

size_t services_status(struct rv_wire_svc_status *out, size_t max)
{
    size_t n = nservices < max ? nservices : max;
    for (size_t i = 0; i < n; i++) {
        const struct service *svc = &services[i];
        struct rv_wire_svc_status *o = &out[i];
        memset(o, 0, sizeof *o);
        snprintf(o->name, sizeof o->name, "%s", svc->conf->name);
        snprintf(o->state, sizeof o->state, "%s", state_name[svc->state]);
        snprintf(o->last_exit, sizeof o->last_exit, "%s", svc->last_exit);
        o->pid = svc->active ? svc->active->pid : 0;
        o->standby_pid = svc->standby ? svc->standby->pid : 0;
        o->restarts = svc->restarts;
        o->sessions = svc->nsessions;
        o->recoveries = svc->recoveries;
        o->ssr_bytes = svc->ssr_bytes;
        o->last_recovery_us = svc->last_recovery_us;
        o->requests_failed = svc->requests_failed;
    }
    return n;
}

/* ---- revivectl ---- */

int service_kill(struct service *svc, int sig, char *why, size_t whylen)
{
    bool ok = false;
    for (size_t i = 0; i < rv_nkill_signals; i++)
        ok |= sig == rv_kill_signals[i];
    if (!ok) {
        char list[128];
        snprintf(why, whylen, "signal %d is not one revivectl may send (%s)", sig,
                 rv_kill_signal_list(list, sizeof list));
        return RV_EINVAL;
    }
    if (!svc->active) {
        snprintf(why, whylen, "service '%s' has no running instance (%s)", svc->conf->name, state_name[svc->state]);
        return RV_ESTOPPED;
    }
    svc->active->signalled = sig;
    if (instance_signal(svc->active, sig) < 0) {
        snprintf(why, whylen, "cannot signal '%s': %s", svc->conf->name, strerror(errno));
        return RV_EIO;
    }
    rv_notice("%s: SIG%s sent to instance %d on request", svc->conf->name, sigabbrev_np(sig), (int)svc->active->pid);
    return 0;
}

/* A restart runs the program as it is now (an upgrade): a standby started
 * from the old one is retired, not promoted. */
int service_restart(struct service *svc, char *why, size_t whylen)
{
    stop_standby(svc);
    if (svc->active) {
        svc->restart_requested = true;
        instance_signal(svc->active, SIGTERM);
        instance_signal(svc->active, SIGCONT);
        return 0;
    }
    svc->pacing = false;
    if (svc->state == SVC_RECOVERING) {   /* waiting out a backoff: skip it */
        timer_arm(svc->backoff_tfd, 0, 0);
        restart_now(svc);
        return 0;
    }
    memset(svc->restart_ns, 0, (svc->conf->max_restarts ? svc->conf->max_restarts : 1) * sizeof *svc->restart_ns);
    svc->fast_crashes = 0;
    svc->refused = false;
    svc->state = SVC_STARTING;
    if (spawn_active(svc) < 0) {
        snprintf(why, whylen, "cannot start '%s': %s", svc->conf->name, strerror(errno));
        svc->state = SVC_FAILED;
        return RV_EIO;
    }
    return 0;
}
