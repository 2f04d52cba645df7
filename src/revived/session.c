/* session.c — creating, handing over and ending the sessions revived
 * holds; see session.h. */
#include "session.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include "conn.h"
#include "journal.h"
#include "ring.h"
#include "log.h"
#include "account.h"
#include "channel.h"
#include "opening.h"

/* Session ids are unique for revived's run, and carry the session's slab
 * record in their low bits: an instance finds the session of a control
 * message in one step (server.c's sess_find). */
static uint64_t next_serial = 1;

static void on_hangup(struct rv_handler *h, uint32_t events)
{
    (void)events;
    struct held_session *s = (struct held_session *)h;
    rv_info("session %llu with '%s': client gone", (unsigned long long)s->id, s->conf->name);
    s->on_hangup(s);
}

static int make_endpoints(struct held_session *s)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    s->server_fd = sv[0];
    s->client_fd = sv[1];
    return loop_add(s->server_fd, EPOLLRDHUP, &s->hup);
}

/* The ring (ring.h): sized for the manifest's largest request and reply,
 * its header said once with pwrite, and sealed so that no holder (a client
 * that lies) can shrink it under the instance's mapping, which would fault
 * the service. revived maps its header alone, read-only, to see the call
 * it holds (session_waiting). */
static int make_ring(struct held_session *s)
{
    uint32_t req = (uint32_t)s->conf->max_request, rep = (uint32_t)s->conf->max_reply;
    struct rv_ring head = { .magic = RV_RING_MAGIC, .max_request = req, .max_reply = rep };
    s->ring_fd = memfd_create("revive-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (s->ring_fd < 0 || ftruncate(s->ring_fd, (off_t)rv__ring_bytes(req, rep)) < 0 ||
        pwrite(s->ring_fd, &head, sizeof head, 0) != (ssize_t)sizeof head ||
        fcntl(s->ring_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
        return -1;
    void *view = mmap(NULL, sizeof head, PROT_READ, MAP_SHARED, s->ring_fd, 0);
    if (view == MAP_FAILED)
        return -1;
    s->ring = view;
    return 0;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void release(struct held_session *s)
{
    if (s->chan)
        channel_leave(s);
    if (s->server_fd >= 0)
        loop_del(s->server_fd);
    close_fd(&s->server_fd);
    close_fd(&s->client_fd);
    close_fd(&s->ring_fd);
    if (s->ring)
        munmap((void *)s->ring, sizeof *s->ring);
    for (unsigned i = 0; i < RV_MAX_STORED_FDS; i++)
        close_fd(&s->stored[i]);
    if (s->opening)
        opening_failed(s, RV_ECLOSED, "the session was closed before it was open");
    free(s->args);
    free(s);
}

/* The descriptors a session costs revived: its socket and its ring, or
 * none on a shared channel (its SSR and journal are a record of the
 * service's slab, which has one descriptor for them all). */
static unsigned session_fds(const struct held_channel *chan, int doorbell)
{
    return chan ? 0 : doorbell >= 0 ? 2 : 1;
}

/* And the bytes: its slab record, and its ring. */
static uint64_t session_bytes(const struct rv_service_conf *conf, const struct slab *slab,
                              const struct held_channel *chan, int doorbell)
{
    uint64_t bytes = slab->geom.ssr_stride + slab->geom.journal_stride;
    if (!chan && doorbell >= 0)
        bytes += rv__ring_bytes((uint32_t)conf->max_request, (uint32_t)conf->max_reply);
    return bytes;
}

struct held_session *session_create(const struct rv_service_conf *conf, struct service *owner, struct slab *slab,
                                    uint64_t ctl_done, struct account *account, struct held_channel *chan,
                                    int doorbell, const char *args, void (*hangup)(struct held_session *s),
                                    int *err, char *why, size_t whylen)
{
    doorbell = chan ? -1 : doorbell;
    uint64_t bytes = session_bytes(conf, slab, chan, doorbell);
    unsigned fds = session_fds(chan, doorbell);
    char what[RV_NAME_MAX + 24];
    snprintf(what, sizeof what, "a session with '%s'", conf->name);
    if (account_charge(account, fds, bytes, what, why, whylen) < 0) {
        *err = RV_EQUOTA;
        return NULL;
    }
    long record = slab_take(slab, ctl_done);
    struct held_session *s = record < 0 ? NULL : calloc(1, sizeof *s);
    if (s) {
        *s = (struct held_session){ .hup = { on_hangup }, .id = next_serial++ << 24 | (uint64_t)record,
                                    .conf = conf, .svc = owner, .slab = slab, .record = (uint32_t)record,
                                    .on_hangup = hangup, .account = account, .server_fd = -1, .client_fd = -1,
                                    .ring_fd = -1, .doorbell = doorbell, .charged = bytes,
                                    .args = strdup(args ? args : ""), .journal = slab_journal(slab, (uint32_t)record) };
        for (unsigned i = 0; i < RV_MAX_STORED_FDS; i++)
            s->stored[i] = -1;
    }
    if (!s || !s->args || (!chan && make_endpoints(s) < 0) || (doorbell >= 0 && make_ring(s) < 0)) {
        if (record < 0) {
            snprintf(why, whylen, "service '%s' holds its max_sessions (%llu) sessions", conf->name,
                     (unsigned long long)conf->max_sessions);
            *err = RV_EBUSY;
        } else {
            snprintf(why, whylen, "cannot create a session with '%s': %s", conf->name, strerror(errno));
            *err = RV_ENOMEM;
            slab_give_back(slab, (uint32_t)record);
        }
        if (s)
            release(s);
        account_uncharge(account, fds, bytes);
        return NULL;
    }
    if (chan)
        channel_join(chan, s);
    account_ref(account);
    return s;
}

void session_destroy(struct held_session *s)
{
    if (s->unbind_upto)
        slab_retire(s->slab, s->record, s->unbind_upto);
    else
        slab_give_back(s->slab, s->record);
    account_uncharge(s->account, session_fds(s->chan, s->doorbell), s->charged);
    account_put(s->account);
    release(s);
}

void session_post(const struct held_session *s, uint8_t type, int32_t status, const char *text)
{
    size_t len = text ? strlen(text) : 0;
    struct rv_hdr h = rv__hdr_make(type, s->chan ? s->id : 0, 0, status, len);
    rv__wire_send(s->chan ? s->chan->server_fd : s->server_fd, &h, text, NULL, 0, MSG_DONTWAIT);
}

void session_abandon(struct held_session *s, const char *why)
{
    if (s->opening)
        opening_failed(s, RV_ECLOSED, why);
    if (s->chan)
        channel_leave(s);
    s->abandoned = true;
}

/* A socket of its own is shut too, so every later call fails at once; a
 * shared channel carries other sessions on, and the notice alone ends
 * this one in its client. */
void session_fail(struct held_session *s, int status, const char *why)
{
    if (s->state == SESS_BOUND) {
        session_post(s, RV_T_NOTICE, status, why);
        if (!s->chan)
            shutdown(s->server_fd, SHUT_RDWR);
    } else if (s->opening)
        opening_failed(s, status, why);
    session_destroy(s);
}

size_t session_wire(const struct held_session *s, struct rv_wire_session *w, int *fds, const struct session_dest *to)
{
    *w = (struct rv_wire_session){ .id = s->id, .uid = s->uid, .gid = s->gid };
    if (s->culprit)
        w->flags |= RV_SESS_CULPRIT;
    if (s->crash_count >= 2) {
        w->flags |= RV_SESS_POISONED;
        w->poison_seq = s->crash_seq;
    }
    w->record = s->record;
    size_t n = 0;
    if (!s->chan) {
        fds[n++] = s->server_fd;
        if (s->ring_fd >= 0) {
            w->flags |= RV_SESS_RING;
            fds[n++] = s->ring_fd;
        }
    } else {
        w->flags |= RV_SESS_SHARED;
        w->channel = s->chan->id;
        if (to && !channel_held(s->chan, to->serial, to->msg)) {
            w->flags |= RV_SESS_CHANNEL_FD;
            fds[n++] = s->chan->server_fd;
            channel_give(s->chan, to->serial, to->msg, to->sure);
        }
    }
    for (unsigned i = 0; i < RV_MAX_STORED_FDS; i++)
        if (s->stored[i] >= 0) {
            w->stored_mask |= 1u << i;
            fds[n++] = s->stored[i];
        }
    return n;
}

void session_blame(struct held_session *s, uint64_t seq)
{
    if (s->crash_count && s->crash_seq == seq)
        s->crash_count++;
    else {
        s->crash_seq = seq;
        s->crash_count = 1;
    }
    s->culprit = true;
}

enum session_wait session_waiting(const struct held_session *s, uint64_t *done)
{
    const struct rv_journal *j = s->journal;
    unsigned cur = __atomic_load_n(&j->cur, __ATOMIC_ACQUIRE) & 1;
    const struct rv_slot *c =
        (const struct rv_slot *)((const uint8_t *)j + rv__journal_slot_offset(&s->slab->geom.shape, cur));
    *done = c->done_seq;
    const struct rv_hdr *r = &j->req;
    if (r->magic == RV_WIRE_MAGIC && r->type == RV_T_CALL && r->seq > *done)
        return WAITS_QUEUED;
    int queued = 0;   /* a shared channel's queue is no one session's */
    if (!s->chan && ioctl(s->server_fd, SIOCINQ, &queued) == 0 && queued > 0)
        return WAITS_QUEUED;
    uint64_t posted = session_ring_posted(s);
    if (posted > *done && __atomic_load_n(&s->ring->answered, __ATOMIC_ACQUIRE) != (uint32_t)posted)
        return WAITS_IN_RING;
    return WAITS_NOTHING;
}

uint64_t session_ring_posted(const struct held_session *s)
{
    return s->ring ? __atomic_load_n(&s->ring->posted, __ATOMIC_ACQUIRE) : 0;
}

bool session_died_receiving(const struct held_session *s)
{
    return __atomic_load_n(&s->journal->receiving, __ATOMIC_RELAXED) != 0;
}

void session_store_fd(struct held_session *s, unsigned slot, int fd)
{
    close_fd(&s->stored[slot]);
    s->stored[slot] = fd;
}
