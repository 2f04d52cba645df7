/* handover.c — the control channel of a service instance; see handover.h.
 *
 * The instance is untrusted: each message is checked for the descriptors
 * and sizes its type requires, and for a session id that belongs to this
 * service. A lie gets the instance killed and replaced — which costs its
 * clients nothing, since revived holds their sessions. */
#include "handover.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "channel.h"
#include "conn.h"
#include "filter.h"
#include "log.h"
#include "opening.h"
#include "reserve.h"
#include "sandbox.h"
#include "service.h"
#include "session.h"
#include "util.h"

/* Sessions per SESSIONS message: 9,600 bytes of records, and at most
 * RV_WIRE_MAX_FDS descriptors whatever they store. */
#define BATCH_MAX 240

static struct rv_msg msg;

/* Blocking with SO_SNDTIMEO: an instance that does not drain its control
 * channel within the timeout is hung, and is treated as such. */
static int ctl_send_hdr(struct instance *in, const struct rv_hdr *h, const void *body, const int *fds, size_t nfds)
{
    int rc = instance_send(in, h, body, fds, nfds, 0);
    /* a peer already dead is for the exit handler to judge, with its crash
     * record: aborting here would make revived the killer and lose the blame */
    if (rc < 0 && rc != -EPIPE && rc != -ECONNRESET) {
        char why[64];
        snprintf(why, sizeof why, "control channel write failed: %s", strerror(-rc));
        service_abort(in, why);
    }
    return rc;
}

static int ctl_send(struct instance *in, uint8_t type, uint64_t seq, const void *body, size_t len,
                    const int *fds, size_t nfds)
{
    struct rv_hdr h = rv__hdr_make(type, seq, 0, 0, len);
    return ctl_send_hdr(in, &h, body, fds, nfds);
}

/* Sessions going to in in its next control message; sure: handed over,
 * not bound (nothing refuses them). */
static struct session_dest next_message(const struct instance *in, bool sure)
{
    return (struct session_dest){ .serial = in->serial, .msg = in->ctl_sent + 1, .sure = sure };
}

static int send_batch(struct instance *in, uint8_t type, struct rv_wire_session *w, size_t n, int *fds, size_t nfds)
{
    return n ? ctl_send(in, type, 0, w, n * sizeof *w, fds, nfds) : 0;
}

/* SESSIONS to one instance, in batches that respect SCM_MAX_FD. A standby
 * adopts them without their crash flags: those are the state of the crash
 * it will take over from, and it learns them when promoted. */
struct sessions_msg {
    struct instance *to;
    bool adopt;
    struct rv_wire_session w[BATCH_MAX];
    int fds[RV_WIRE_MAX_FDS];
    size_t n, nfds;
};

static int sessions_flush(struct sessions_msg *b)
{
    int rc = send_batch(b->to, RV_T_SESSIONS, b->w, b->n, b->fds, b->nfds);
    b->n = b->nfds = 0;
    return rc;
}

static int sessions_add(struct sessions_msg *b, const struct held_session *s)
{
    if ((b->n == BATCH_MAX || b->nfds + SESSION_MAX_FDS > RV_WIRE_MAX_FDS) && sessions_flush(b) < 0)
        return -1;
    struct session_dest to = next_message(b->to, true);
    b->nfds += session_wire(s, &b->w[b->n], b->fds + b->nfds, &to);
    if (b->adopt)
        b->w[b->n].flags &= ~(uint32_t)RV_SESS_CRASH_FLAGS, b->w[b->n].poison_seq = 0;
    b->n++;
    return 0;
}

/* Every bound session. */
static int hand_over_sessions(struct instance *in, bool adopt)
{
    struct sessions_msg b = { .to = in, .adopt = adopt };
    for (struct held_session *s = in->svc->sessions; s; s = s->next)
        if (s->state == SESS_BOUND && sessions_add(&b, s) < 0)
            return -1;
    return sessions_flush(&b);
}

/* A promoted standby's sessions that carry crash flags (the culprit of
 * this crash, the poisoned): usually one, or none. */
static int send_flags(struct instance *in)
{
    struct rv_wire_session w[BATCH_MAX];
    size_t n = 0;
    for (struct held_session *s = in->svc->sessions; s; s = s->next) {
        int fds[SESSION_MAX_FDS];
        struct rv_wire_session one;
        session_wire(s, &one, fds, NULL);
        if (s->state != SESS_BOUND || !(one.flags & RV_SESS_CRASH_FLAGS))
            continue;
        one.flags &= RV_SESS_CRASH_FLAGS;
        one.stored_mask = 0;   /* it has them: see handover_stored */
        w[n++] = one;
        if (n == BATCH_MAX && send_batch(in, RV_T_SESSION_FLAGS, w, n, NULL, 0) < 0)
            return -1;
        n %= BATCH_MAX;
    }
    return send_batch(in, RV_T_SESSION_FLAGS, w, n, NULL, 0);
}

void handover_begin(struct instance *in)
{
    in->waiting = false;
    in->handed_over = true;
    if ((in->adopted ? send_flags(in) : hand_over_sessions(in, false)) == 0)
        ctl_send(in, RV_T_HANDOVER_END, 0, NULL, 0, NULL, 0);
}

/* The standby holding the service's sessions, if there is one that may
 * still be promoted. */
static struct instance *adopter(const struct service *svc)
{
    struct instance *sb = svc->standby;
    return sb && sb->adopted && !sb->retiring && !sb->killed_by_us ? sb : NULL;
}

/* Sessions that have just bound go to the standby too, so a crash finds
 * them there already: a BIND_DONE's worth in as few messages as fit. */
static void adopt(struct service *svc, struct held_session *const *s, size_t n)
{
    struct instance *sb = adopter(svc);
    if (!sb || !n)
        return;
    struct sessions_msg b = { .to = sb, .adopt = true };
    for (size_t i = 0; i < n; i++)
        if (sessions_add(&b, s[i]) < 0)
            return;
    sessions_flush(&b);
}

void handover_forget(struct held_session *s)
{
    struct instance *sb = adopter(s->svc);
    if (sb && s->state == SESS_BOUND && ctl_send(sb, RV_T_UNBIND, s->id, NULL, 0, NULL, 0) == 0 && s->chan)
        channel_keep(s->chan, sb->serial, false);
}

/* Whether the state the instance's code keeps per session fits the SSRs
 * the manifest gives it; if not, the service is refused, not run with
 * state that a restart would lose. */
static bool state_fits(struct instance *in, const struct rv_msg *m)
{
    struct rv_wire_svc_hello hello;
    if (m->hdr.len < sizeof hello) {
        service_abort(in, "sent a malformed HELLO");
        return false;
    }
    memcpy(&hello, m->body, sizeof hello);
    uint64_t have = in->svc->conf->ssr_size;
    if (hello.state_size <= have)
        return true;
    char why[128];
    snprintf(why, sizeof why, "refused: keeps %llu bytes of state per session, ssr_size is %llu",
             (unsigned long long)hello.state_size, (unsigned long long)have);
    rv_err("%s: its code keeps %llu bytes of state per session (ssr_size of its rv_service_ops), more than the "
           "manifest's ssr_size = %llu gives it; raise ssr_size to at least %llu", in->svc->conf->name,
           (unsigned long long)hello.state_size, (unsigned long long)have, (unsigned long long)hello.state_size);
    service_refuse(in, why);
    return false;
}

/* The instance's seccomp filter, from the system calls its HELLO asks for
 * (filter.h); -1 without a sandbox, -2 (the instance refused) when it
 * cannot be built. */
static int sandbox_filter(struct instance *in, const struct rv_msg *m)
{
    if (!in->conf->sandbox)
        return -1;
    char why[160], last[200];
    size_t off = sizeof(struct rv_wire_svc_hello);
    int fd = filter_for(&in->svc->filter, in->conf, (const char *)m->body + off, m->hdr.len - off, in->pid, why,
                        sizeof why);
    if (fd >= 0)
        return fd;
    snprintf(last, sizeof last, "refused: its seccomp filter: %s", why);
    rv_err("%s: instance %d: cannot build its seccomp filter: %s", in->conf->name, (int)in->pid, why);
    service_refuse(in, last);
    return -2;
}

/* A standby stops here, initialised, until it is promoted. */
static void on_hello(struct instance *in, const struct rv_msg *m)
{
    if (in->waiting || in->handed_over) {
        service_abort(in, "said HELLO twice");
        return;
    }
    if (!state_fits(in, m))
        return;
    struct rv_wire_svc_config cfg;
    int fds[SERVICE_CONFIG_FDS];
    size_t nfds = service_config(in->svc, &cfg, fds);
    fds[0] = in->status_fd;
    reserve_release();   /* revived may be out of descriptors: the filter needs two */
    int filter = sandbox_filter(in, m);
    if (filter >= 0) {
        cfg.flags |= RV_CONFIG_FILTER;
        fds[nfds++] = filter;
    }
    int sent = filter == -2 ? -1 : ctl_send(in, RV_T_SVC_CONFIG, 0, &cfg, sizeof cfg, fds, nfds);
    if (filter >= 0)
        close(filter);
    reserve_refill();
    if (sent < 0)
        return;
    if (in == in->svc->active)
        handover_begin(in);
    else if (hand_over_sessions(in, true) == 0 && ctl_send(in, RV_T_PING, 0, NULL, 0, NULL, 0) == 0) {
        in->waiting = true;
        in->adopted = true;
    }
}

/* BINDs to the active instance, as many sessions to a message as share
 * their arguments and fit. Filled and flushed in one go (revived is
 * single-threaded, and nothing it calls binds). */
static struct bind_batch {
    struct rv_wire_session w[RV_BIND_MAX];
    int fds[RV_WIRE_MAX_FDS];
    size_t n, nfds;
    const char *args;
} batch;

/* BINDs out to one instance at most. Each is answered by one BIND_DONE,
 * so the instance never has more than this many answers to write back,
 * and revived's end never holds more than this many BINDs (a full one is
 * about 10 KiB, the socket's buffer 208 KiB). Unbounded, a flood of
 * openers filled the control socket both ways: the instance blocked on
 * answers revived was not reading, revived's own write timed out, and it
 * killed a healthy instance. Sessions past the window wait in the
 * service's queue and go out as answers come back, many to a BIND. */
#define BIND_WINDOW 8

/* false: the instance cannot be sent it (dying, or being killed); the
 * sessions in the batch go to its successor at READY. */
static bool bind_flush(struct instance *in)
{
    static uint8_t body[RV_WIRE_MAX_BODY];
    if (!batch.n)
        return true;
    size_t wl = batch.n * sizeof batch.w[0], al = strlen(batch.args);
    memcpy(body, batch.w, wl);
    memcpy(body + wl, batch.args, al);
    struct rv_hdr h = rv__hdr_make(RV_T_BIND, 0, (uint32_t)batch.n, 0, wl + al);
    bool sent = ctl_send_hdr(in, &h, body, batch.fds, batch.nfds) == 0;
    in->binds_out += sent;
    batch.n = batch.nfds = 0;
    return sent;
}

static bool batch_takes(const struct held_session *s)
{
    return !batch.n || (batch.n < RV_BIND_MAX && strcmp(batch.args, s->args) == 0 &&
                        batch.nfds + SESSION_MAX_FDS <= RV_WIRE_MAX_FDS);
}

/* Sends the queued sessions, oldest first, while the active instance has
 * room for another BIND. One revived is killing waits: its successor's
 * READY sends them. */
static void bind_queued(struct service *svc)
{
    struct instance *in = svc->active;
    if (!in || in->killed_by_us)
        return;
    struct held_session *s;
    while ((s = TAILQ_FIRST(&svc->unsent)) && (batch.n || in->binds_out < BIND_WINDOW)) {
        if (!batch_takes(s)) {
            if (!bind_flush(in))
                return;
            continue;
        }
        service_dequeue_bind(s);
        struct session_dest to = next_message(in, false);
        batch.nfds += session_wire(s, &batch.w[batch.n++], batch.fds + batch.nfds, &to);
        batch.args = s->args;
        s->bind_sent_to = in->serial;
    }
    bind_flush(in);
}

void handover_bind(struct service *svc, struct held_session **s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        service_queue_bind(s[i]);
    bind_queued(svc);
}

/* Tells the client of a recovered service to re-send the call it is
 * waiting for, where the crash may have destroyed it: the one request the
 * journal cannot hold is one lost between socket and journal (a failed
 * copy discards a datagram), and only a death inside that recv can do so.
 * Every other session's request is in its socket or its journal, so an
 * idle client pays nothing for a recovery. A re-sent seq is answered from
 * the journal if it ran. */
static void announce_restart(struct service *svc)
{
    for (struct held_session *s = svc->sessions; s; s = s->next) {
        if (s->state == SESS_BOUND && s->maybe_lost)
            session_post(s, RV_T_RESTARTED, 0, NULL);
        s->maybe_lost = false;
    }
}

/* Sessions still waiting for their bind go to the instance now ready,
 * oldest first (the list has the newest at its head): the opener that
 * has waited longest is answered first. One abandoned while a dead
 * instance bound it is only freed. */
static void rebind(struct service *svc)
{
    struct held_session *s = svc->sessions, *newer;
    while (s && s->next)
        s = s->next;
    for (; s; s = newer) {
        newer = s->prev;
        if (s->state == SESS_BINDING && s->abandoned) {
            service_unlink(s);
            session_destroy(s);
        } else if (s->state == SESS_BINDING)
            service_queue_bind(s);
    }
    bind_queued(svc);
}

static void on_ready(struct service *svc)
{
    svc->state = SVC_READY;
    for (struct held_session *s = svc->sessions; s; s = s->next)
        s->stall_since_ns = 0;   /* waiting through a recovery is no stall */
    svc->active->last_ping_ns = rv__now_ns();
    if (svc->crash_ns) {
        svc->last_recovery_us = (rv__now_ns() - svc->crash_ns) / 1000;
        svc->recoveries++;
        svc->crash_ns = 0;
        rv_notice("%s: recovered in %llu us, %u sessions handed over", svc->conf->name,
                  (unsigned long long)svc->last_recovery_us, svc->nsessions);
        announce_restart(svc);
    } else
        rv_info("%s: ready", svc->conf->name);
    rebind(svc);
}

/* An abandoned session (session.h) is unbound as soon as it is bound;
 * one that stays bound goes to *adoptee, for the standby. false: the
 * instance lied, and is being replaced. */
static bool bind_done(struct service *svc, uint64_t id, int32_t status, struct held_session **adoptee)
{
    struct held_session *s = service_session(svc, id);
    if (!s || s->state != SESS_BINDING || s->bind_sent_to != svc->active->serial) {
        service_abort(svc->active, "confirmed a bind revived did not ask for");
        return false;
    }
    if (status != 0) {
        char why[128];
        snprintf(why, sizeof why, "service '%s' refused the session (bind returned %d)", svc->conf->name, status);
        service_unlink(s);
        session_fail(s, status <= RV_EAPP ? status : RV_EAPP, why);
        return true;
    }
    s->state = SESS_BOUND;
    if (s->chan)
        channel_keep(s->chan, svc->active->serial, true);
    if (s->abandoned) {
        handover_unbind(s);
        service_unlink(s);
        session_destroy(s);
        return true;
    }
    opening_bound(s, svc->conf->state == RV_STATE_STATELESS ? 0 : RV_OPEN_KEEPS_STATE);
    *adoptee = s;   /* adopted after the answer: its opener need not wait for the standby */
    return true;
}

static void on_bind_done(struct service *svc, const struct rv_msg *m)
{
    struct rv_wire_opened e;
    if (m->hdr.len == 0 || m->hdr.len % sizeof e) {
        service_abort(svc->active, "sent a malformed BIND_DONE");
        return;
    }
    static struct held_session *bound[RV_WIRE_MAX_BODY / sizeof e];
    struct instance *in = svc->active;
    bool truthful = true;
    size_t n = 0;
    for (size_t at = 0; at < m->hdr.len && truthful; at += sizeof e) {
        memcpy(&e, m->body + at, sizeof e);
        bound[n] = NULL;
        truthful = bind_done(svc, e.id, e.status, &bound[n]);
        n += bound[n] != NULL;
    }
    adopt(svc, bound, n);
    if (truthful && in->binds_out)
        in->binds_out--;
    if (truthful)
        bind_queued(svc);
}

static void on_store_fd(struct service *svc, struct rv_msg *m)
{
    struct held_session *s = service_session(svc, m->hdr.seq);
    if (m->nfds != 1 || m->hdr.op >= RV_MAX_STORED_FDS || !s) {
        service_abort(svc->active, "sent a malformed STORE_FD");
        return;
    }
    session_store_fd(s, m->hdr.op, m->fds[0]);
    m->nfds = 0;   /* kept: not ours to close any more */
    struct instance *sb = adopter(svc);
    if (sb && s->state == SESS_BOUND) {
        struct rv_hdr h = rv__hdr_make(RV_T_STORE_FD, s->id, m->hdr.op, 0, 0);
        ctl_send_hdr(sb, &h, NULL, &s->stored[m->hdr.op], 1);
    }
}

static void on_session_lost(struct service *svc, const struct rv_msg *m)
{
    struct held_session *s = service_session(svc, m->hdr.seq);
    if (!s)
        return;
    char why[256];
    snprintf(why, sizeof why, "service '%s' lost this session's state: %.*s", svc->conf->name,
             (int)(m->hdr.len < 200 ? m->hdr.len : 200), (const char *)m->body);
    svc->requests_failed++;
    handover_unbind(s);   /* the instance keeps its record of it until told */
    service_unlink(s);
    session_fail(s, RV_ELOST, why);
}

/* An instance serves as the manifest says or not at all: one without its
 * seccomp filter, or with other ids, is refused, never trusted on its
 * word. Checked at READY, when the runtime has installed its filter and
 * before the instance counts as serving; a standby's when it says it holds
 * the sessions, its filter in by then (nothing a process does undoes a
 * filter, no_new_privs or, under the filter, its ids), so that its
 * promotion does not wait for the reading of /proc. */
static bool sandbox_holds(struct instance *in)
{
    char why[160], last[200];
    reserve_release();   /* revived may be out of descriptors: the check needs one */
    bool holds = sandbox_in_force(in->pid, in->conf, why, sizeof why);
    reserve_refill();
    if (holds)
        return true;
    snprintf(last, sizeof last, "refused: its sandbox is not in force: %s", why);
    rv_err("%s: instance %d %s; its runtime must install the seccomp filter (rv_service_main does), or the "
           "manifest say sandbox = no", in->conf->name, (int)in->pid, why);
    service_refuse(in, last);
    return false;
}

/* Everything but HELLO (and the PONG that says it has adopted the
 * sessions) belongs to the conversation with the active instance; a
 * standby saying more is lying. */
static enum handover_event dispatch(struct instance *in, struct rv_msg *m)
{
    struct service *svc = in->svc;
    enum handover_event ev = HANDOVER_NONE;
    if (in == svc->standby && in->adopted && m->hdr.type == RV_T_PONG) {
        in->settled = sandbox_holds(in);
        return ev;
    }
    if (m->hdr.type != RV_T_SVC_HELLO && in != svc->active) {
        service_abort(in, "a standby sent more than its HELLO");
        rv__msg_close_fds(m);
        return ev;
    }
    switch (m->hdr.type) {
    case RV_T_SVC_HELLO: on_hello(in, m); break;
    case RV_T_SVC_READY:
        if (!in->settled && !sandbox_holds(in))
            break;
        on_ready(svc);
        ev = HANDOVER_READY;
        break;
    case RV_T_BIND_DONE: on_bind_done(svc, m); break;
    case RV_T_STORE_FD: on_store_fd(svc, m); break;
    case RV_T_SESSION_LOST: on_session_lost(svc, m); break;
    case RV_T_PONG: in->ping_sent_ns = 0; break;
    default: service_abort(in, "sent an unknown control message");
    }
    rv__msg_close_fds(m);
    return ev;
}

enum handover_event handover_read(struct instance *in, uint32_t events)
{
    int r = (events & EPOLLIN) ? rv__wire_recv(in->ctl_fd, &msg, RV_WIRE_MAX_BODY, MSG_DONTWAIT) : 0;
    if (r == -EAGAIN)
        return HANDOVER_NONE;
    if (r == -EPROTO) {
        loop_del(in->ctl_fd);
        service_abort(in, "sent a malformed control message");
        return HANDOVER_NONE;
    }
    if (r <= 0) {
        /* Closed, or reset because the instance died with messages of ours
         * unread: a death, reported with its signal and crash record by
         * the caller once it is sure of it, or by the exit handler.
         * Blaming the channel here would make revived the killer and lose
         * the culprit. Stop listening. */
        loop_del(in->ctl_fd);
        return HANDOVER_HANGUP;
    }
    return dispatch(in, &msg);
}

void handover_drain(struct instance *in)
{
    while (rv__wire_recv(in->ctl_fd, &msg, RV_WIRE_MAX_BODY, MSG_DONTWAIT) > 0)
        dispatch(in, &msg);
}

void handover_unbind(struct held_session *s)
{
    struct instance *active = s->svc->active;
    if (s->state == SESS_BOUND && active && active->handed_over &&
        ctl_send(active, RV_T_UNBIND, s->id, NULL, 0, NULL, 0) == 0) {
        s->unbind_upto = active->ctl_sent;
        if (s->chan)
            channel_keep(s->chan, active->serial, false);
    }
    handover_forget(s);
}
