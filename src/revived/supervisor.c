/* supervisor.c — the life cycle of every service: starting its instances,
 * learning of their deaths, the restart policy (intensity, backoff, the hot
 * standby), giving up, and what clients and revivectl ask of a service
 * (open a session, kill, restart). It reads each instance's control channel
 * through handover.c and has the watchdog (watchdog.c) find hangs; the
 * records it acts on are service.c's. */
#include "supervisor.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "arena.h"
#include "child.h"
#include "channel.h"
#include "opening.h"
#include "ring.h"
#include "conn.h"
#include "handover.h"
#include "list.h"
#include "log.h"
#include "service.h"
#include "session.h"
#include "util.h"
#include "watchdog.h"

#define STOP_GRACE_MS 1000      /* an active instance's time to stop between two requests */

/* ---- spawning ---- */

static void on_instance_exit(struct rv_handler *h, uint32_t events);
static void on_instance_ctl(struct rv_handler *h, uint32_t events);

static int spawn_active(struct service *svc)
{
    svc->active = instance_spawn(svc->conf, svc, on_instance_exit, on_instance_ctl);
    if (!svc->active)
        rv_err("%s: cannot start %s: %s", svc->conf->name, svc->conf->exec, strerror(errno));
    return svc->active ? 0 : -1;
}

/* A standby that cannot be started costs speed, not service: log it.
 * Called once the active instance is READY, so the new standby's start
 * never competes with a recovery for the CPU, and again when a backoff
 * that held it back ends. */
static void spawn_standby(struct service *svc)
{
    if (!svc->conf->standby || svc->standby || svc->pacing)
        return;
    svc->standby = instance_spawn(svc->conf, svc, on_instance_exit, on_instance_ctl);
    if (!svc->standby)
        rv_warn("%s: cannot start a standby: %s", svc->conf->name, strerror(errno));
}

/* The standby becomes the active instance. If it already waits for its
 * sessions they go now; otherwise its HELLO, when it comes, finds it active. */
static void promote_standby(struct service *svc)
{
    svc->active = svc->standby;
    svc->standby = NULL;
    svc->active->spawn_ns = rv__now_ns();
    rv_info("%s: standby %d takes over", svc->conf->name, (int)svc->active->pid);
    if (svc->active->waiting)
        handover_begin(svc->active);
}

/* A standby that can take over: started, and neither being retired nor
 * killed for what it did (service_abort). */
static bool has_standby(const struct service *svc)
{
    return svc->standby && !svc->standby->retiring && !svc->standby->killed_by_us;
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
        struct held_session *s = svc->sessions;
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
    struct held_session *next;
    for (struct held_session *s = svc->sessions; s; s = next) {
        next = s->next;
        if (s->state != SESS_BOUND)
            continue;
        handover_forget(s);
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
    held_unmount(svc->conf, &svc->held);
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
    uint64_t now = rv__now_ns();
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
        service_note_exit(svc, note);
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
    struct service *svc = rv__container_of(h, struct service, backoff_h);
    timer_drain(svc->backoff_tfd);
    svc->pacing = false;
    if (svc->state == SVC_RECOVERING && !svc->active)
        restart_now(svc);
    else if (svc->state == SVC_READY)
        spawn_standby(svc);
}

/* ---- death ---- */

/* What the instance said on its way out (rv_svc_fatal), made a printable
 * line of bounded length whatever it wrote; NULL if nothing. */
static const char *last_words(const struct instance *in)
{
    static char words[sizeof in->status->last_words];
    const struct rv_status_page *st = in->status;
    if (!st || st->magic != RV_STATUS_MAGIC || !st->last_words[0])
        return NULL;
    size_t i = 0;
    for (; i < sizeof words - 1 && st->last_words[i]; i++)
        words[i] = st->last_words[i] >= ' ' && st->last_words[i] < 127 ? st->last_words[i] : '?';
    words[i] = '\0';
    return words;
}

static void describe_exit(struct service *svc, const struct instance *in, const siginfo_t *si)
{
    char *d = svc->last_exit;
    size_t n = sizeof svc->last_exit;
    if (in->killed_by_us)
        return;   /* the watchdog already said why */
    if (si->si_code == CLD_EXITED)
        snprintf(d, n, "exited with status %d%s%s", si->si_status, last_words(in) ? ": " : "", last_words(in) ?: "");
    else
        snprintf(d, n, "killed by SIG%s%s", sigabbrev_np(si->si_status) ? sigabbrev_np(si->si_status) : "?",
                 si->si_status == SIGSYS && svc->conf->sandbox ? " (a system call its seccomp filter forbids)" : "");
}

/* The crash record is the dead instance's claim; it is believed only when it
 * matches how the kernel says the process died. */
static bool record_believed(const struct rv_status_page *st, const siginfo_t *si)
{
    return st && st->magic == RV_STATUS_MAGIC && st->crash_self && si->si_code != CLD_EXITED &&
           (uint32_t)si->si_status == st->crash_signal;
}

/* A SIGKILL leaves no record (it cannot be caught), nor does the SIGSYS of
 * a system call the seccomp filter forbids (the kernel kills the process
 * at once); but one from outside revive (the OOM killer, the request making
 * the process kill itself) or a forbidden call is still a death during the
 * request the instance was serving: blamed when exactly one request was
 * being served, so a bystander of a multi-worker instance is never
 * poisoned. A signal revivectl sent is an operator's, and blames no
 * request. */
static bool busy_request(const struct instance *in, const siginfo_t *si, struct rv_busy *b)
{
    const struct rv_status_page *st = in->status;
    bool unrecorded = si->si_status == SIGKILL || si->si_status == SIGSYS;
    if (!st || (si->si_code != CLD_KILLED && si->si_code != CLD_DUMPED) || !unrecorded ||
        in->signalled == si->si_status)
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
    for (struct held_session *s = svc->sessions; s; s = s->next)
        s->culprit = false;
    struct rv_busy b = { 0 };
    if (record_believed(in->status, si))
        b = (struct rv_busy){ .session = in->status->crash_session, .seq = in->status->crash_seq };
    else if (!busy_request(in, si, &b))
        return;
    struct held_session *s = service_session(svc, b.session);
    if (!s)
        return;
    session_blame(s, b.seq);
    char note[40];
    snprintf(note, sizeof note, " in session %llu", (unsigned long long)s->id);
    service_note_exit(svc, note);
}

/* A session whose bind crashed the service twice is refused; its opener
 * gets the error, and no instance sees it again. */
static void refuse_poisoned_binds(struct service *svc)
{
    for (struct held_session *s = svc->sessions, *next; s; s = next) {
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
        spawn_standby(svc);
}

/* Which sessions the dead instance may have lost a request of (it died
 * inside their recv): the next instance's READY tells those clients to
 * re-send. */
static void note_lost_requests(struct service *svc)
{
    for (struct held_session *s = svc->sessions; s; s = s->next)
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
    uint64_t lived = rv__now_ns() - in->spawn_ns;
    svc->active = NULL;
    if (!in->dying)
        instance_free(in);
    slab_release_all(&svc->slab);   /* no instance touches a retired record now */
    schedule_restart(svc, si->si_code == CLD_EXITED && si->si_status == 0, lived);
}

/* The active instance's channel hung up. When that is its exit under way,
 * its memory already released, its death is handled now, not at the exit
 * the kernel reports after tearing down each of its session sockets,
 * milliseconds later at thousands of sessions (the runtime puts the channel
 * where its hang-up comes first). The process stays on the dying list until
 * that exit is reaped. A live process that closed its channel can no
 * longer be told of a bind, an unbind or a ping: it is killed, and the
 * next instance takes over once it is gone. */
static void active_hung_up(struct service *svc, struct instance *in)
{
    siginfo_t si;
    switch (instance_exit_state(in, &si)) {
    case CHILD_RUNNING:
        service_abort(in, "closed its control channel to revived");
        break;
    case CHILD_EXITING:
        break;   /* its exit comes */
    case CHILD_RELEASED:
        in->dying = true;
        in->next_dying = svc->dying;
        svc->dying = in;
        active_exited(svc, in, &si);
        break;
    }
}

/* A standby whose channel hung up while it runs can no longer be handed a
 * session or promoted: it is killed, as a dead one would be only noted
 * (the next restart starts another). Left alone, it would look ready to
 * take over, and a crash of the active instance would wait on it for a
 * heartbeat. */
static void standby_hung_up(struct instance *in)
{
    siginfo_t si;
    if (instance_exit_state(in, &si) == CHILD_RUNNING)
        service_abort(in, "closed its control channel to revived");
}

static void dying_reaped(struct service *svc, struct instance *in)
{
    struct instance **p = &svc->dying;
    while (*p != in)
        p = &(*p)->next_dying;
    *p = in->next_dying;
    instance_free(in);
}

static void on_instance_exit(struct rv_handler *h, uint32_t events)
{
    (void)events;
    struct instance *in = rv__container_of(h, struct instance, exit_h);
    siginfo_t si = { 0 };
    if (instance_reap(in, &si, false) != 1)
        return;
    if (in->dying)
        dying_reaped(in->svc, in);
    else if (in == in->svc->active)
        active_exited(in->svc, in, &si);
    else
        standby_exited(in->svc, in, &si);
}

/* The instance's control channel, read through the hand-over. READY from
 * the active instance is the moment to start a standby: not before, where
 * it would compete with the recovery for the CPU, and not at once either,
 * where starting it (revived waits for the exec) would hold up the clients
 * the new instance has just answered. STANDBY_DELAY_MS later, on the
 * backoff timer, unless a backoff holds it back anyway. */
#define STANDBY_DELAY_MS 1

static void on_instance_ctl(struct rv_handler *h, uint32_t events)
{
    struct instance *in = rv__container_of(h, struct instance, ctl_h);
    struct service *svc = in->svc;
    enum handover_event ev = handover_read(in, events);
    if (ev == HANDOVER_READY && svc->conf->standby && !svc->standby && !svc->pacing)
        timer_arm(svc->backoff_tfd, STANDBY_DELAY_MS, 0);
    else if (ev == HANDOVER_HANGUP && in == svc->active)
        active_hung_up(svc, in);
    else if (ev == HANDOVER_HANGUP && in == svc->standby)
        standby_hung_up(in);
}

/* ---- set-up and tear-down ---- */

/* The arena outlives every instance, like the sessions' SSRs: created
 * once, zero-filled (the first instance formats it, or loads it from its
 * arena_file), handed to each. */
static int make_held(struct service *svc)
{
    char why[512];
    if (held_open(svc->conf, &svc->held, why, sizeof why) < 0) {
        rv_err("%s", why);
        return -1;
    }
    return 0;
}

static int make_slab(struct service *svc)
{
    char why[256];
    if (slab_open(&svc->slab, svc->conf, why, sizeof why) < 0) {
        rv_err("%s", why);
        return -1;
    }
    return 0;
}

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

/* One page for all its sessions' calls (the fast path, ring.h), whose
 * futex the instances sleep on and the clients ring (and revived, for a
 * call that waits: watchdog.c). It outlives the instances, so a call rung
 * while none runs is found by the next; sealed, so that no holder can
 * shrink it under another's mapping. */
static int make_doorbell(struct service *svc)
{
    if (!svc->conf->fast_path)
        return 0;
    struct rv_doorbell bell = { .magic = RV_DOORBELL_MAGIC };
    svc->doorbell = memfd_create("revive-doorbell", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (svc->doorbell < 0 || ftruncate(svc->doorbell, RV_DOORBELL_BYTES) < 0 ||
        pwrite(svc->doorbell, &bell, sizeof bell, 0) != (ssize_t)sizeof bell ||
        fcntl(svc->doorbell, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0 ||
        (svc->bell = mmap(NULL, RV_DOORBELL_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, svc->doorbell, 0)) ==
            MAP_FAILED) {
        svc->bell = NULL;
        rv_err("%s: cannot create the fast path's doorbell: %s", svc->conf->name, strerror(errno));
        return -1;
    }
    return 0;
}

static int start_service(struct service *svc)
{
    svc->backoff_h.on_event = on_backoff;
    svc->backoff_tfd = timer_new();
    if (svc->backoff_tfd < 0 || loop_add(svc->backoff_tfd, EPOLLIN, &svc->backoff_h) < 0 ||
        watchdog_start(svc) < 0 || make_slab(svc) < 0 || make_arena(svc) < 0 || make_held(svc) < 0 ||
        make_doorbell(svc) < 0)
        return -1;
    return spawn_active(svc);
}

int supervisor_init(const struct rv_manifest *m)
{
    if (services_create(m) < 0)
        return -1;
    for (size_t i = 0; i < services_count(); i++)
        if (start_service(service_at(i)) < 0)
            return -1;
    return 0;
}

/* The active instance is asked to stop (SIGTERM: the runtime exits between
 * two requests) and killed if it has not within STOP_GRACE_MS: it holds no
 * state revived does not, but it may be writing outside revived's memory
 * (a file system's image), which a kill mid-write would leave torn with
 * nothing left to repair it. A standby serves nothing: it is killed. */
static void stop_service(struct service *svc)
{
    struct instance *both[] = { svc->active, svc->standby };
    bool gone[2] = { false, false };
    siginfo_t si;
    if (svc->active && instance_signal(svc->active, SIGTERM) == 0)
        gone[0] = child_reap_within(svc->active->pid, svc->active->pidfd, &si, STOP_GRACE_MS) == 1;
    for (int k = 0; k < 2; k++)
        if (both[k]) {
            if (!gone[k]) {
                instance_signal(both[k], SIGKILL);
                instance_reap(both[k], &si, true);
            }
            instance_free(both[k]);
        }
    while (svc->dying) {
        instance_reap(svc->dying, &si, true);
        dying_reaped(svc, svc->dying);
    }
    while (svc->sessions) {
        struct held_session *s = svc->sessions;
        service_unlink(s);
        session_destroy(s);
    }
    held_close(svc->conf, &svc->held);
    slab_close(&svc->slab);
    watchdog_stop(svc);
    if (svc->backoff_tfd >= 0) {
        loop_del(svc->backoff_tfd);
        close(svc->backoff_tfd);
    }
    if (svc->arena_fd >= 0)
        close(svc->arena_fd);
    if (svc->arena_file_fd >= 0)
        close(svc->arena_file_fd);
    if (svc->doorbell >= 0)
        close(svc->doorbell);
    if (svc->bell)
        munmap(svc->bell, RV_DOORBELL_BYTES);
}

/* Last started, first stopped: a service listed after another may be its
 * client (fs on blk), and must be stopped while what it uses still serves. */
void supervisor_fini(void)
{
    for (size_t i = services_count(); i-- > 0;)
        stop_service(service_at(i));
    services_destroy();
    child_fini();
}

/* ---- clients ---- */

/* Whether s's BIND is out to the instance that may still confirm it. */
static bool bind_in_flight(const struct held_session *s)
{
    const struct instance *in = s->svc->active;
    return s->state == SESS_BINDING && in && in->serial == s->bind_sent_to;
}

/* The session's client end closed: the instance unbinds it (also while it
 * recovers: it reads the UNBIND once READY), revived frees it. A session
 * still binding has a socket of its own only the service can have closed
 * (its opener waits); one on a shared channel whose client went while the
 * instance binds it is kept, abandoned, until the instance confirms the
 * bind, so that the confirmation finds what it confirms. */
static void on_session_hangup(struct held_session *s)
{
    if (s->state == SESS_BINDING) {
        const char *why = s->chan ? "the client closed the shared channel while the session was opening"
                                  : "the service closed the session while opening it";
        if (s->chan && bind_in_flight(s)) {
            session_abandon(s, why);
            return;
        }
        service_unlink(s);
        session_fail(s, s->chan ? RV_ECLOSED : RV_EPROTO, why);
        return;
    }
    handover_unbind(s);
    service_unlink(s);
    session_destroy(s);
}

/* The channel c shares with the service, made with its first session. */
static struct held_channel *shared_channel(struct service *svc, struct conn *c, char *why, size_t whylen)
{
    struct held_channel *ch = channel_find(svc->channels, c);
    return ch ? ch : channel_create(&svc->channels, c, why, whylen);
}

/* One session of an OPEN, into *out; an RV_E* code with a sentence in why
 * if it cannot be made. */
static int open_one(struct service *svc, struct conn *c, const char *args, bool shared, struct opening *o,
                    struct held_session **out, char *why, size_t whylen)
{
    int err = RV_ENOMEM;
    struct held_channel *ch = shared ? shared_channel(svc, c, why, whylen) : NULL;
    uint64_t done = svc->active ? instance_ctl_done(svc->active) : UINT64_MAX;
    struct held_session *s = !shared || ch ? session_create(svc->conf, svc, &svc->slab, done, conn_account(c), ch,
                                                            shared ? -1 : svc->doorbell, args, on_session_hangup,
                                                            &err, why, whylen)
                                           : NULL;
    if (!s) {
        if (ch)
            channel_close_if_empty(ch);
        return err;
    }
    opening_add(o, s);
    s->client_pid = conn_pid(c);
    conn_cred(c, &s->uid, &s->gid);
    service_link(svc, s);
    *out = s;
    return 0;
}

void service_open(struct service *svc, struct conn *c, const char *args, uint32_t flags, uint32_t count)
{
    char why[384];
    if (svc->state == SVC_FAILED || svc->state == SVC_STOPPED) {
        snprintf(why, sizeof why, "service '%s' is %s (last exit: %s)", svc->conf->name,
                 service_state_name(svc->state), svc->last_exit);
        conn_reply_error(c, svc->state == SVC_FAILED ? RV_EFAILED : RV_ESTOPPED, why);
        return;
    }
    struct opening *o = opening_new(c, count, flags & RV_OPEN_MANY);
    if (!o) {
        conn_reply_error(c, RV_ENOMEM, "revived is out of memory");
        return;
    }
    static struct held_session *made[RV_OPEN_MANY_MAX];
    uint32_t n = 0;
    int err = 0;
    while (n < count && !(err = open_one(svc, c, args, flags & RV_OPEN_SHARED, o, &made[n], why, sizeof why)))
        n++;
    if (svc->state == SVC_READY)
        handover_bind(svc, made, n);
    opening_seal(o, err, why);
}

/* ---- revivectl ---- */

int service_kill(struct service *svc, int sig, char *why, size_t whylen)
{
    bool ok = false;
    for (size_t i = 0; i < rv__nkill_signals; i++)
        ok |= sig == rv__kill_signals[i];
    if (!ok) {
        char list[128];
        snprintf(why, whylen, "signal %d is not one revivectl may send (%s)", sig,
                 rv__kill_signal_list(list, sizeof list));
        return RV_EINVAL;
    }
    if (!svc->active) {
        snprintf(why, whylen, "service '%s' has no running instance (%s)", svc->conf->name,
                 service_state_name(svc->state));
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
    if (held_mount(svc->conf, &svc->held, why, whylen) < 0) {
        svc->state = SVC_FAILED;
        return RV_EIO;
    }
    svc->state = SVC_STARTING;
    if (spawn_active(svc) < 0) {
        snprintf(why, whylen, "cannot start '%s': %s", svc->conf->name, strerror(errno));
        svc->state = SVC_FAILED;
        return RV_EIO;
    }
    return 0;
}
