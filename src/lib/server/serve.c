/* serve.c — one session inside a service instance: its mappings, the
 * request path, commits and recovery after a restart.
 *
 * The request path is the hot path of revive, so it does the least that the
 * exactly-once guarantee needs: recv straight into the journal, run the
 * handler with the SSR open, commit (one SSR copy + checksum + one store),
 * send the reply from the journal. See journal.h for why that order makes
 * every crash point recoverable.
 */
#include "serve.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include "arena_internal.h"
#include "channel.h"
#include "rings.h"
#include "revive/arena.h"

/* Under the mprotect policy at most one SSR is writable: the one whose
 * session's code runs or ran last. Closing is lazy, done when another
 * session's code is about to run, so a client calling again and again costs
 * no mprotect at all, while a handler still never runs with any other
 * session's SSR writable. */
static rv_svc_session *open_sess;
/* What a closed SSR goes back to: PROT_NONE, except during the recover hook,
 * which may read every SSR (and update some with rv_svc_session_update). */
static int rest_prot = PROT_NONE;

int rv__slab_map(int fd, uint64_t records, char *why, size_t whylen)
{
    struct rv_slab_geom *g = &rv__rt.slab;
    bool mprotected = rv__rt.protect == RV_PROTECT_MPROTECT;
    rv__slab_geom(g, &rv__rt.shape, records, mprotected);
    void *ssrs = mmap(NULL, g->journal_off, mprotected ? PROT_NONE : PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    void *journals = mmap(NULL, g->bytes - g->journal_off, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                          (off_t)g->journal_off);
    rv__rt.by_record = calloc(records, sizeof *rv__rt.by_record);
    if (ssrs == MAP_FAILED || journals == MAP_FAILED || !rv__rt.by_record) {
        snprintf(why, whylen, "cannot map the slab of %llu sessions (%zu bytes): %s", (unsigned long long)records,
                 g->bytes, strerror(errno));
        return -1;
    }
    rv__rt.slab_ssrs = ssrs;
    rv__rt.slab_journals = journals;
    return 0;
}

/* Faults a record's pages in now, in one call: a new instance touches every
 * session's journal during recovery, and a standby adopts sessions ahead
 * of it, so the faults are off the recovery's path. An SSR kept PROT_NONE
 * (mprotect) is left to fault when opened. */
static void populate(void *p, size_t len)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = (uintptr_t)p & ~(pg - 1), end = ((uintptr_t)p + len + pg - 1) & ~(pg - 1);
    madvise((void *)a, end - a, MADV_POPULATE_WRITE);
}

/* What attach was given and cannot keep: the endpoint and the stored
 * descriptors. */
static void close_all(const struct rv_wire_session *w, const int *fds)
{
    for (size_t i = 0; i < rv__wire_fds_of(w); i++)
        close(fds[i]);
}

/* The session's endpoint: a socket of its own (and its ring, if it has a
 * fast path), or its shared channel's (fds[0] only when the channel's
 * socket came along). How many of fds it took, or -1 with why, those
 * closed. */
static int take_endpoint(rv_svc_session *s, const struct rv_wire_session *w, const int *fds, char *why,
                         size_t whylen)
{
    if (!(w->flags & RV_SESS_SHARED)) {
        s->fd = fds[0];
        if (!(w->flags & RV_SESS_RING))
            return 1;
        if (rv__ring_attach(s, fds[1], why, whylen) == 0)
            return 2;
        close(fds[0]);
        return -1;
    }
    s->chan = rv__chan_attach(w->channel, (w->flags & RV_SESS_CHANNEL_FD) ? fds[0] : -1);
    if (!s->chan) {
        snprintf(why, whylen, "its shared channel %u is not one this instance holds", w->channel);
        return -1;
    }
    s->fd = s->chan->fd;
    return (w->flags & RV_SESS_CHANNEL_FD) ? 1 : 0;
}

rv_svc_session *rv__sess_attach(const struct rv_wire_session *w, const int *fds, char *why, size_t whylen)
{
    const struct rv_slab_geom *g = &rv__rt.slab;
    rv_svc_session *s = w->record < g->records ? calloc(1, sizeof *s) : NULL;
    if (!s) {
        if (w->record >= g->records)
            snprintf(why, whylen, "its slab record %u is past the slab's %llu", w->record,
                     (unsigned long long)g->records);
        else
            snprintf(why, whylen, "out of memory");
        close_all(w, fds);
        return NULL;
    }
    int taken = take_endpoint(s, w, fds, why, whylen);
    if (taken < 0) {
        size_t stored = rv__wire_fds_of(w) - (size_t)__builtin_popcount(w->stored_mask);
        for (size_t i = stored; i < rv__wire_fds_of(w); i++)
            close(fds[i]);
        free(s);
        return NULL;
    }
    s->src.kind = RV_SRC_SESSION;
    s->id = w->id;
    s->flags = w->flags & RV_SESS_CRASH_FLAGS;
    s->poison_seq = w->poison_seq;
    s->uid = w->uid;
    s->gid = w->gid;
    s->record = w->record;
    s->ssr = (struct rv_ssr_hdr *)(rv__rt.slab_ssrs + (size_t)w->record * g->ssr_stride);
    s->j = (struct rv_journal *)(rv__rt.slab_journals + (size_t)w->record * g->journal_stride);
    for (size_t i = 0, k = (size_t)taken; i < RV_MAX_STORED_FDS; i++)
        s->stored[i] = (w->stored_mask & (1u << i)) ? fds[k++] : -1;
    populate(s->j, g->journal_stride);
    if (rv__rt.protect != RV_PROTECT_MPROTECT)
        populate(s->ssr, g->ssr_stride);
    return s;
}

void rv__sess_detach(rv_svc_session *s)
{
    if (open_sess == s)
        rv__ssr_close_open();
    rv__rt_unpoll(s);
    for (unsigned i = 0; i < RV_MAX_STORED_FDS; i++)
        if (s->stored[i] >= 0)
            close(s->stored[i]);
    if (s->chan)
        rv__chan_put(s->chan);
    else
        close(s->fd);
    rv__ring_detach(s);
    free(s);
}

void rv__sess_unbind(rv_svc_session *s)
{
    char why[128];
    bool sound = !s->lost && (!s->unchecked || rv__sess_recover(s, why, sizeof why));
    if (rv__rt.ops->unbind && sound) {
        rv__sess_open_ssr(s);
        rv__rt_set_busy(s->id, 0);
        rv__rt.ops->unbind(s, s->ssr + 1);
        rv__rt_set_busy(0, 0);
    }
    rv__sess_detach(s);
}

/* A journal header this runtime could have written: the dead instance
 * may have trampled it, and its ssr_size places the slots (journal.c), so
 * nothing past the header is read before this holds. */
static bool journal_header_sound(const struct rv_journal *j)
{
    return j->magic == RV_JOURNAL_MAGIC && j->version == RV_JOURNAL_VERSION && j->ssr_size == rv__rt.shape.ssr_size &&
           j->max_request == rv__rt.shape.max_request && j->max_reply == rv__rt.shape.max_reply && j->cur <= 1 &&
           j->bound;
}

bool rv__sess_done(rv_svc_session **all, size_t n, uint64_t id, uint64_t seq)
{
    for (size_t i = 0; i < n; i++) {
        struct rv_journal *j = all[i]->j;
        if (all[i]->id == id && journal_header_sound(j))
            return rv__journal_committed(j)->done_seq >= seq;
    }
    return false;
}

void rv__sess_open_ssr(rv_svc_session *s)
{
    if (rv__rt.protect != RV_PROTECT_MPROTECT || open_sess == s)
        return;
    rv__ssr_close_open();
    mprotect(s->ssr, rv__rt.slab.ssr_stride, PROT_READ | PROT_WRITE);
    open_sess = s;
}

void rv__ssr_close_open(void)
{
    if (open_sess)
        mprotect(open_sess->ssr, rv__rt.slab.ssr_stride, rest_prot);
    open_sess = NULL;
}

void rv__ssr_rest_all(int prot)
{
    rv__ssr_close_open();
    rest_prot = prot;
    if (rv__rt.protect == RV_PROTECT_MPROTECT)
        mprotect(rv__rt.slab_ssrs, rv__rt.slab.journal_off, prot);
}

/* The slot the next commit will write. */
static struct rv_slot *next_slot(rv_svc_session *s)
{
    return rv__journal_slot(s->j, s->j->cur ^ 1);
}

static void prepare_next(rv_svc_session *s, uint64_t done_seq)
{
    struct rv_slot *n = next_slot(s);
    n->done_seq = done_seq;
    n->reply_len = 0;
    n->reply_status = 0;
    n->reply_attach = -1;
}

int rv__sess_bind(rv_svc_session *s, const char *args)
{
    rv__sess_open_ssr(s);
    rv__session_format(s->j, s->ssr, &rv__rt.shape, rv__rt.ops->ssr_layout);
    rv__rt_set_busy(s->id, 0);
    int rc = rv__rt.ops->bind ? rv__rt.ops->bind(s, s->ssr + 1, args) : 0;
    if (rc == 0 && rv__rt.ops->validate && !rv__rt.ops->validate(s, s->ssr + 1)) {
        rv__log(RV_LOG_ERR, "session %llu: bind left an SSR its own validate hook rejects", (unsigned long long)s->id);
        rc = RV_EAPP;   /* refused now, rather than found corrupt at the next restart */
    }
    rv__rt_set_busy(0, 0);
    if (rc == 0) {
        prepare_next(s, 0);
        rv__journal_commit(s->j, s->ssr);
        s->j->bound = 1;
    }
    return rc;
}

bool rv__sess_in_flight(rv_svc_session *s)
{
    const struct rv_hdr *r = &s->j->req;
    return r->magic == RV_WIRE_MAGIC && r->version == RV_WIRE_VERSION && r->type == RV_T_CALL &&
           r->len <= rv__rt.shape.max_request &&
           r->seq > rv__journal_committed(s->j)->done_seq;
}

/* The slot the next commit will write, with the committed slot's last
 * reply carried over, so a retry of that request is still answered from
 * it: for commits that complete no request. */
static void carry_last_reply(rv_svc_session *s)
{
    struct rv_slot *c = rv__journal_committed(s->j), *n = next_slot(s);
    n->done_seq = c->done_seq;
    n->reply_status = c->reply_status;
    n->reply_attach = c->reply_attach;
    n->reply_len = c->reply_len;
    memcpy(n->reply, c->reply, c->reply_len);
}

/* The live SSR becomes the committed image again, stamped as this
 * instance's: an interrupted request's changes (or a wild write) undone. */
static void restore_committed(rv_svc_session *s, uint32_t layout)
{
    rv__journal_rollback(s->j, s->ssr);
    s->ssr->magic = RV_SSR_MAGIC;
    s->ssr->layout = layout;
    s->ssr->size = rv__rt.shape.ssr_size;
}

/* An SSR another layout wrote is never read as this one's: the service's
 * migrate hook converts the committed image (into a zeroed SSR, from a
 * copy), or the session is lost. An interrupted request re-runs on the
 * converted state. */
static bool migrate_ssr(rv_svc_session *s, uint32_t from, char *why, size_t whylen)
{
    uint32_t to = rv__rt.ops->ssr_layout;
    if (!rv__rt.ops->migrate) {
        snprintf(why, whylen, "its state has layout %u and this instance reads layout %u (the service has "
                 "no migrate hook)", from, to);
        return false;
    }
    void *old = malloc(rv__rt.shape.ssr_size ? rv__rt.shape.ssr_size : 1);
    if (!old) {
        snprintf(why, whylen, "out of memory migrating its state");
        return false;
    }
    restore_committed(s, to);
    memcpy(old, s->ssr + 1, rv__rt.shape.ssr_size);
    memset(s->ssr + 1, 0, rv__rt.shape.ssr_size);
    int rc = rv__rt.ops->migrate(s, from, old, s->ssr + 1, rv__rt.shape.ssr_size);
    free(old);
    if (rc)
        snprintf(why, whylen, "the migrate hook could not convert its state from layout %u to %u (%d)", from, to, rc);
    return rc == 0;
}

/* After a restart: roll an interrupted request back, then check the SSR.
 * Order matters: the committed slot is the only copy we trust, so it is
 * checked first; its layout says whose it is; a damaged live SSR is
 * repaired from it; only then does the service's own validate hook judge
 * the contents. A session whose recovery crashed the service twice (its
 * validate or migrate hook) is lost alone. */
bool rv__sess_recover(rv_svc_session *s, char *why, size_t whylen)
{
    struct rv_journal *j = s->j;
    if (!journal_header_sound(j)) {
        snprintf(why, whylen, "journal header is corrupt");
        return false;
    }
    if (!rv__journal_committed_valid(j)) {
        snprintf(why, whylen, "committed SSR image fails its checksum");
        return false;
    }
    if ((s->flags & RV_SESS_POISONED) && s->poison_seq == 0) {
        snprintf(why, whylen, "recovering its state crashed the service twice");
        return false;
    }
    j->receiving = 0;   /* revived read it when the last instance died */
    uint32_t layout = rv__journal_committed(j)->layout;
    rv__sess_open_ssr(s);
    rv__rt_set_busy(s->id, 0);
    bool ok = true, migrated = layout != rv__rt.ops->ssr_layout;
    if (migrated)
        ok = migrate_ssr(s, layout, why, whylen);
    else if (rv__sess_in_flight(s) || !rv__ssr_valid(s->ssr, layout, rv__rt.shape.ssr_size))
        restore_committed(s, layout);
    if (ok && rv__rt.ops->validate && !rv__rt.ops->validate(s, s->ssr + 1)) {
        snprintf(why, whylen, "the service's validate hook rejected the SSR%s", migrated ? " after migrating it" : "");
        ok = false;
    }
    if (ok && migrated) {
        carry_last_reply(s);
        rv__journal_commit(j, s->ssr);
    }
    rv__rt_set_busy(0, 0);
    return ok;
}

bool rv__sess_quiescent(rv_svc_session *s)
{
    struct rv_journal *j = s->j;
    return !s->flags && journal_header_sound(j) && !j->receiving && !rv__sess_in_flight(s) &&
           j->sent_seq == rv__journal_committed(j)->done_seq;
}

bool rv__sess_check(rv_svc_session *s)
{
    char why[128];
    if (s->lost)
        return false;
    if (!s->unchecked)
        return true;
    s->unchecked = false;
    if (rv__sess_recover(s, why, sizeof why))
        return true;
    s->lost = true;
    rv__rt_unpoll(s);
    rv__rt_report_lost(s, RV_ELOST, why);
    return false;
}

/* A call that came through the ring is answered there, and on the socket
 * too when the reply carries a descriptor (a ring cannot); any other on
 * the socket. */
static void send_committed_reply(rv_svc_session *s)
{
    struct rv_slot *c = rv__journal_committed(s->j);
    struct rv_hdr h = rv__hdr_make(RV_T_REPLY, c->done_seq, 0, c->reply_status, c->reply_len);
    int fd = c->reply_attach >= 0 && c->reply_attach < RV_MAX_STORED_FDS ? s->stored[c->reply_attach] : -1;
    bool ring = rv__ring_carries(s, c->done_seq);
    /* MSG_DONTWAIT: a client that stops reading must not stall the service;
     * it has one call outstanding, so a full buffer means it broke protocol.
     * A client gone is revived's to notice. Any other failure means our own
     * state is wrong (a committed reply that cannot be sent): fail stop. */
    int rc = ring && fd < 0 ? 0 : rv__wire_send(s->fd, &h, c->reply, fd >= 0 ? &fd : NULL, fd >= 0, MSG_DONTWAIT);
    if (ring)
        rv__ring_publish(s, c->done_seq, c->reply_status, c->reply, c->reply_len, fd >= 0);
    if (rc == 0)
        s->j->sent_seq = c->done_seq;
    else if (rc != -EAGAIN && rc != -EPIPE && rc != -ECONNRESET)
        rv__fail_stop("cannot send a committed reply");
}

void rv__sess_resend_reply(rv_svc_session *s)
{
    struct rv_slot *c = rv__journal_committed(s->j);
    if (c->done_seq > 0 && s->j->sent_seq != c->done_seq)
        send_committed_reply(s);
}

/* Answers the journaled request without running the handler: the request
 * crashed the service twice, so its client alone gets an error. */
static void answer_poisoned(rv_svc_session *s, uint64_t seq)
{
    prepare_next(s, seq);
    next_slot(s)->reply_status = RV_EPOISON;
    rv__sess_open_ssr(s);
    rv__journal_commit(s->j, s->ssr);
    rv__log(RV_LOG_WARNING, "session %llu: request %llu crashed the service twice; answered with an error",
              (unsigned long long)s->id, (unsigned long long)seq);
}

/* In checksum mode a wild write into this SSR since its last commit shows
 * as a mismatch; the committed copy is the state to restore. */
static void check_ssr(rv_svc_session *s)
{
    if (rv__rt.protect != RV_PROTECT_CHECKSUM)
        return;
    if (s->ssr->sum == rv__checksum(s->ssr + 1, rv__rt.shape.ssr_size))
        return;
    rv__journal_rollback(s->j, s->ssr);
    rv__log(RV_LOG_WARNING, "session %llu: SSR changed outside its requests (wild write); restored the committed copy",
              (unsigned long long)s->id);
}

/* A corrupted value stored into the SSR (a soft error, a wild pointer)
 * that breaks the service's own invariants must not become the state every
 * later instance recovers from: fail stop, and the next instance re-runs
 * from the committed SSR. For requests and rv_svc_session_update alike. */
static void validate_before_commit(rv_svc_session *s)
{
    if (rv__rt.ops->validate && !rv__rt.ops->validate(s, s->ssr + 1))
        rv__fail_stop("a change left an SSR its own validate rejects");
}

static void run_handler(rv_svc_session *s)
{
    const struct rv_hdr *r = &s->j->req;
    rv_request req = {
        .session = s, .seq = r->seq, .op = r->op, .data = s->j->req_body, .len = r->len,
        .ssr = rv__rt.shape.ssr_size ? s->ssr + 1 : NULL, .ssr_size = rv__rt.shape.ssr_size,
    };
    prepare_next(s, r->seq);
    rv__rt_set_busy(s->id, r->seq);
    rv__sess_open_ssr(s);
    check_ssr(s);
    rv__rt_serving = &req;
    rv__arena_request(s->id, r->seq);
    int rc = rv__rt.ops->runner ? rv__rt.ops->runner(&req, rv__rt.ops->handle) : rv__rt.ops->handle(&req);
    rv__rt_serving = NULL;
    validate_before_commit(s);
    next_slot(s)->reply_status = rc;
    rv__journal_commit(s->j, s->ssr);
    rv_arena_commit();   /* after the journal's commit point, before the reply: see arena.c */
    rv__arena_request(0, 0);
    rv__rt_set_busy(0, 0);
}

void rv_request_rollback(rv_request *req)
{
    rv_svc_session *s = req->session;
    rv_arena_abort();   /* the attempt's arena writes, from the arena's own log */
    rv__journal_rollback(s->j, s->ssr);
    prepare_next(s, req->seq);
}

/* Serves the request that sits in the journal. */
void rv__sess_rerun(rv_svc_session *s)
{
    uint64_t seq = s->j->req.seq;
    if ((s->flags & RV_SESS_POISONED) && seq == s->poison_seq)
        answer_poisoned(s, seq);
    else
        run_handler(s);
    send_committed_reply(s);
}

/* A malformed request, or one older than the last completed (no client of
 * ours sends one), or one larger than the manifest's max_request (status
 * RV_ETOOBIG): answered with an error, never dropped, so no caller waits
 * for ever. */
static void reject_request(rv_svc_session *s, ssize_t n, int status)
{
    struct rv_hdr h = rv__hdr_make(RV_T_REPLY, 0, 0, status, 0);
    if ((size_t)n >= sizeof h && s->j->req.magic == RV_WIRE_MAGIC)
        h.seq = s->j->req.seq;
    /* forget it, so a restart does not mistake it for a request in flight */
    memset(&s->j->req, 0, sizeof s->j->req);
    rv__wire_send(s->fd, &h, NULL, NULL, 0, MSG_DONTWAIT);
}

void rv__sess_on_readable(rv_svc_session *s)
{
    struct rv_journal *j = s->j;
    __atomic_store_n(&j->receiving, 1, __ATOMIC_RELAXED);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    size_t room = sizeof j->req + rv__rt.shape.max_request;
    ssize_t n = recv(s->fd, &j->req, room, MSG_DONTWAIT | MSG_TRUNC);
    if (n >= 0 || errno == EAGAIN || errno == EINTR || errno == ECONNRESET)
        __atomic_store_n(&j->receiving, 0, __ATOMIC_RELAXED);   /* journaled, or nothing taken */
    if (n < 0) {
        if (errno == ECONNRESET)
            rv__rt_client_gone(s);   /* revived will send UNBIND */
        else if (errno != EAGAIN && errno != EINTR)
            rv__fail_stop("cannot receive from a session socket");
        return;
    }
    if (n == 0) {   /* the client is gone; revived will send UNBIND */
        rv__rt_client_gone(s);
        return;
    }
    uint64_t done = rv__journal_committed(j)->done_seq;
    if ((size_t)n > room)   /* MSG_TRUNC: the datagram's whole length */
        reject_request(s, n, RV_ETOOBIG);
    else if (rv__wire_check(&j->req, (size_t)n, rv__rt.shape.max_request) < 0 || j->req.type != RV_T_CALL ||
             j->req.seq < done)
        reject_request(s, n, RV_EPROTO);
    else if (j->req.seq > done)
        rv__sess_rerun(s);
    else
        send_committed_reply(s);    /* a retry of the last call */
    /* every path above answers: a request still in flight here means the
     * runtime's own state is wrong, and only a restart re-runs it */
    if (rv__sess_in_flight(s))
        rv__fail_stop("a request was received but not answered");
}

/* ---- the public helpers handlers call ---- */

int rv_reply(rv_request *req, const void *data, size_t len)
{
    if (len > rv__rt.shape.max_reply)
        return RV_ETOOBIG;
    struct rv_slot *n = next_slot(req->session);
    if (len)   /* an empty reply may come with a NULL pointer */
        memcpy(n->reply, data, len);
    n->reply_len = (uint32_t)len;
    return 0;
}

int rv_reply_attach(rv_request *req, unsigned slot)
{
    if (slot >= RV_MAX_STORED_FDS || req->session->stored[slot] < 0)
        return RV_EINVAL;
    next_slot(req->session)->reply_attach = (int32_t)slot;
    return 0;
}

int rv_svc_session_update(rv_svc_session *s, void (*fn)(rv_svc_session *s, void *ssr, void *arg), void *arg)
{
    if (rv__rt_serving || rv__rt.workers)
        return RV_EINVAL;   /* inside a handler the SSR is already open; workers may have it */
    if (!rv__sess_check(s))
        return RV_ELOST;
    carry_last_reply(s);
    rv__rt_set_busy(s->id, 0);
    rv__sess_open_ssr(s);
    check_ssr(s);
    fn(s, s->ssr + 1, arg);
    validate_before_commit(s);
    rv__journal_commit(s->j, s->ssr);
    rv__rt_set_busy(0, 0);
    return 0;
}

const void *rv_svc_session_ssr(const rv_svc_session *s) { return s->ssr + 1; }
void *rv_svc_session_data(const rv_svc_session *s) { return s->data; }
void rv_svc_session_set_data(rv_svc_session *s, void *data) { s->data = data; }
uint64_t rv_svc_session_id(const rv_svc_session *s) { return s->id; }

void rv_svc_session_peer(const rv_svc_session *s, uint32_t *uid, uint32_t *gid)
{
    *uid = s->uid;
    *gid = s->gid;
}

int rv_stored_fd(const rv_svc_session *s, unsigned slot)
{
    return slot < RV_MAX_STORED_FDS ? s->stored[slot] : -1;
}
