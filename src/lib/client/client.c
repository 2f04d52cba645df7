/* client.c — librevive's client side: connect, open, call, close.
 *
 * A call sends one CALL datagram with a fresh seq and waits for the REPLY
 * with that seq. Replies with older seqs are duplicates a restarted service
 * re-sent (it cannot know whether the first copy left before it died), and
 * are dropped here: that is the client's half of exactly-once. A NOTICE
 * from revived, or the socket closing, ends the session with its reason.
 *
 * Sessions and connections are capabilities (cap.c): a call whose session
 * is gone (revoked by a stateless service's restart, closed, its service
 * failed) raises a capability fault; the generic session handler re-opens
 * it by name with the saved arguments onto the same descriptor number, and
 * the call is retried on the new session. For a stateless service the
 * retried request may have run before the crash: reanimation is
 * at-least-once. A session of a service that keeps session state (`state =
 * ssr` or `arena`, which OPEN_OK says) survives every crash of its
 * service; if it ends anyway (the service failed, revived went away), its
 * state went with it, and a fresh session in its place would be wrong
 * data: the call says RV_ELOST, unless the client set a handler of its own
 * that restores what it had.
 */
#include "revive/client.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "cap_internal.h"
#include "mux_internal.h"
#include "conn_internal.h"
#include "ring.h"
#include "wire.h"

/* A repair that is itself undone before the retried call completes (the
 * service keeps restarting) is tried again, this many times in all. */
#define MAX_REPAIRS 8
/* What a session that simply closed (revived's end went away) says. */
#define CLOSED_TEXT "the session was closed"

struct rv_session {
    int fd;             /* its socket, or its shared channel's */
    struct rv_ring *ring;   /* its fast path (ring.h), mapped; NULL: calls go on the socket */
    size_t ring_len;
    uint32_t ring_request, ring_reply;  /* its body sizes, as mapped (the service may rewrite the ring's) */
    struct rv_doorbell *bell;   /* with a ring: the service's doorbell, mapped */
    struct rv__chan *chan;  /* its shared channel (mux.c); NULL: the socket is its own */
    uint64_t id;        /* revived's number for it: names it on a shared channel */
    rv_conn *conn;      /* where it was opened, and is re-opened */
    bool keeps_state;   /* the service keeps state for it: see RV_OPEN_KEEPS_STATE */
    char *reopen_with;  /* shared: its service's name NUL args (it is no capability of its own) */
    uint64_t seq;
    int dead;           /* a notice or EOF ended it: later calls fail at once */
    int dead_status;
    int last_status;    /* of the last call */
    char err[384];
};

/* The buffer a call receives into: one per thread, not one per session (a
 * session is used by one thread at a time, client.h), so a client with
 * thousands of sessions does not keep 17 KiB for each; allocated once, off
 * the call path. */
static pthread_key_t msg_key;
static pthread_once_t msg_once = PTHREAD_ONCE_INIT;

static void make_msg_key(void)
{
    if (pthread_key_create(&msg_key, free) != 0)
        abort();   /* PTHREAD_KEYS_MAX keys taken: nothing librevive could call with */
}

static struct rv_msg *thread_msg(void)
{
    pthread_once(&msg_once, make_msg_key);
    struct rv_msg *m = pthread_getspecific(msg_key);
    if (!m && (m = malloc(sizeof *m)) && pthread_setspecific(msg_key, m) != 0) {
        free(m);
        m = NULL;
    }
    return m;
}

int rv_errno(int err)
{
    if (err <= RV_EAPP_BASE - 1)
        return RV_EAPP_BASE - err;
    switch (err) {
    case RV_OK: return 0;
    case RV_ELOST: case RV_ECLOSED: case RV_EFAILED: case RV_ESTOPPED: case RV_EREVOKED: return ENOTCONN;
    case RV_ETOOBIG: return EMSGSIZE;
    case RV_ENOMEM: return ENOMEM;
    case RV_EQUOTA: return EDQUOT;
    case RV_EPERM: return EPERM;
    case RV_EINVAL: return EINVAL;
    default: return EIO;
    }
}

const char *rv_strerror(int err)
{
    switch (err) {
    case RV_OK: return "success";
    case RV_ECONNECT: return "cannot reach revived";
    case RV_EPROTO: return "malformed or unexpected message";
    case RV_ENOSVC: return "no such service";
    case RV_EQUOTA: return "SSR quota exceeded";
    case RV_EFAILED: return "the service has failed";
    case RV_EPOISON: return "the request crashed the service twice";
    case RV_ELOST: return "the session's state was lost";
    case RV_ETOOBIG: return "message too large";
    case RV_EINVAL: return "invalid argument";
    case RV_EIO: return "system call failed";
    case RV_ECLOSED: return "the session was closed";
    case RV_EAPP: return "the service reported an error";
    case RV_ESTOPPED: return "the service is stopped";
    case RV_ENOMEM: return "out of memory";
    case RV_EBUSY: return "revived is busy";
    case RV_EPERM: return "permission denied";
    case RV_EREVOKED: return "the session was revoked: the service restarted without its state";
    case RV_EFAULT: return "the request faulted in the service; its effects were rolled back";
    default: return err <= RV_EAPP_BASE ? "the service reported an error" : "unknown error";
    }
}

/* What an OPEN_OK says: the session's socket (or a new shared channel's;
 * -1: none came), its ring and the service's doorbell (-1: no fast path),
 * its id, its RV_OPEN_* flags and, on a shared channel, the channel's
 * number. */
struct opened {
    int fd, ring, doorbell;
    uint64_t id;
    uint32_t flags;
    uint32_t channel;
};

/* A shared open gets a socket exactly when its channel is new; a session
 * of its own gets one, and its ring and doorbell with a fast path. */
static bool answer_fits(const struct rv_msg *m, bool shared)
{
    if (m->hdr.type != RV_T_OPEN_OK || !!(m->hdr.op & RV_OPEN_SHARED) != shared)
        return false;
    if (shared)
        return m->nfds == !!(m->hdr.op & RV_OPEN_NEW_CHANNEL) && !(m->hdr.op & RV_OPEN_RING);
    return m->nfds == ((m->hdr.op & RV_OPEN_RING) ? 3u : 1u);
}

static void close_opened(struct opened *o)
{
    int *fds[] = { &o->fd, &o->ring, &o->doorbell };
    for (size_t i = 0; i < 3; i++)
        if (*fds[i] >= 0)
            close(*fds[i]);
    o->fd = o->ring = o->doorbell = -1;
}

/* ---- the fast path (ring.h) ---- */

static void ring_drop(rv_session *s)
{
    if (s->ring)
        munmap(s->ring, s->ring_len);
    if (s->bell)
        munmap(s->bell, RV_DOORBELL_BYTES);
    s->ring = NULL;
    s->bell = NULL;
}

/* A mapping of all of fd, at least `least` bytes, that starts with magic
 * (0: any); NULL if it is not one. */
static void *map_checked(int fd, size_t least, uint32_t magic, size_t *len)
{
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || (size_t)st.st_size < least)
        return NULL;
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (magic && *(const uint32_t *)p != magic) {
        munmap(p, (size_t)st.st_size);
        return NULL;
    }
    *len = (size_t)st.st_size;
    return p;
}

/* Maps the ring and the doorbell an OPEN_OK brought (and closes them).
 * One that does not map, or is smaller than its own header says, leaves
 * the session on its socket, which serves every call as well. */
static void ring_take(rv_session *s, struct opened *o)
{
    ring_drop(s);
    size_t len = 0, bell_len = 0;
    struct rv_ring *r = map_checked(o->ring, sizeof *r, RV_RING_MAGIC, &len);
    /* the doorbell's magic is not checked: any client of the service may
     * have overwritten it, and it came from revived all the same */
    struct rv_doorbell *b = r ? map_checked(o->doorbell, RV_DOORBELL_BYTES, 0, &bell_len) : NULL;
    if (r && (!b || rv__ring_bytes(r->max_request, r->max_reply) > len)) {
        munmap(r, len);
        r = NULL;
    }
    if (b && !r)
        munmap(b, bell_len);
    if (r) {
        s->ring = r;
        s->ring_len = len;
        s->ring_request = r->max_request;
        s->ring_reply = r->max_reply;
        s->bell = b;
    }
    close_opened(o);
}

/* Sends an OPEN through c (op: RV_OPEN_*, count with RV_OPEN_MANY) and
 * receives revived's answer into m, whose descriptors the caller closes. */
static int request_open(rv_conn *c, const char *name, const char *args, uint32_t op, uint64_t count,
                        struct rv_msg *m)
{
    size_t nl = strlen(name), al = strlen(args);
    if (nl == 0 || nl >= RV_NAME_MAX || al > RV_ARGS_MAX)
        return rv__conn_fail(c, RV_EINVAL, "service name or arguments too long");
    char body[RV_NAME_MAX + RV_ARGS_MAX + 2];
    memcpy(body, name, nl + 1);
    memcpy(body + nl + 1, args, al + 1);
    struct rv_hdr h = rv__hdr_make(RV_T_OPEN, count, op, 0, nl + al + 2);
    return rv__conn_request(c, &h, body, NULL, 0, m);
}

/* OPEN through c, shared or not. */
static int open_on(rv_conn *c, const char *name, const char *args, bool shared, struct opened *o)
{
    struct rv_msg *m = malloc(sizeof *m);
    if (!m)
        return RV_ENOMEM;
    int rc = request_open(c, name, args, shared ? RV_OPEN_SHARED : 0, 0, m);
    if (rc == 0 && !answer_fits(m, shared))
        rc = rv__conn_fail(c, RV_EPROTO, "unexpected answer from revived");
    else if (rc == 0) {
        bool ring = m->nfds == 3;
        *o = (struct opened){ .fd = m->nfds ? m->fds[0] : -1, .ring = ring ? m->fds[1] : -1,
                              .doorbell = ring ? m->fds[2] : -1, .id = m->hdr.seq, .flags = m->hdr.op,
                              .channel = (uint32_t)m->hdr.status };
        m->nfds = 0;
    }
    rv__msg_close_fds(m);
    free(m);
    return rc;
}

int rv_cap_reopen(int fd, int err)
{
    (void)err;
    struct rv_cap_info info;
    rv_session *s = rv__cap_owner(fd);
    if (!s || rv_cap_info(fd, &info) < 0 || info.kind != RV_CAP_SESSION)
        return RV_EINVAL;
    struct opened o;
    int rc = open_on(s->conn, info.name, info.args, false, &o);   /* re-dials a closed connection */
    if (rc) {
        snprintf(s->err, sizeof s->err, "re-opening '%.63s' failed: %.160s", info.name, rv_conn_error(s->conn));
        return rc;
    }
    rc = dup3(o.fd, fd, O_CLOEXEC) < 0 ? RV_EIO : 0;
    if (rc == 0)
        ring_take(s, &o);   /* closes o's descriptors, o.fd a copy now */
    close_opened(&o);
    if (rc == 0) {
        s->dead = 0;
        s->seq = 0;
        s->id = o.id;
        s->keeps_state = o.flags & RV_OPEN_KEEPS_STATE;
        s->err[0] = '\0';
    }
    return rc;
}

static int generic_reopen(int fd, int err, void *arg)
{
    (void)arg;
    return rv_cap_reopen(fd, err);
}

int rv_open(rv_conn *c, const char *name, const char *args, rv_session **out)
{
    args = args ? args : "";
    rv_session *s = calloc(1, sizeof *s);
    if (!s)
        return RV_ENOMEM;
    struct opened o = { .fd = -1, .ring = -1, .doorbell = -1 };
    int rc = open_on(c, name, args, false, &o);
    if (rc == 0)
        rc = rv__cap_add(o.fd, RV_CAP_SESSION, name, args, -1, generic_reopen, s);
    if (rc) {
        close_opened(&o);
        free(s);
        return rc;
    }
    s->fd = o.fd;
    o.fd = -1;   /* the session's */
    ring_take(s, &o);
    s->id = o.id;
    s->conn = rv__conn_get(c);
    s->keeps_state = o.flags & RV_OPEN_KEEPS_STATE;
    *out = s;
    return 0;
}

/* Puts s on the channel an OPEN_OK named. */
static int join_channel(rv_session *s, rv_conn *c, const struct opened *o)
{
    struct rv__chan *ch = rv__chan_join(c, o->channel, o->fd, s, o->id);
    if (!ch)
        return rv__conn_fail(c, RV_EPROTO, "revived put the session on a shared channel this connection "
                                           "does not have");
    s->chan = ch;
    s->fd = rv__chan_fd(ch);
    s->id = o->id;
    s->keeps_state = o->flags & RV_OPEN_KEEPS_STATE;
    return 0;
}

/* A session to be put on a shared channel, which keeps its service's name
 * and arguments to be re-opened with; NULL when memory ran out. */
static rv_session *shared_session(const char *name, const char *args)
{
    size_t nl = strlen(name), al = strlen(args);
    rv_session *s = calloc(1, sizeof *s);
    char *saved = s ? malloc(nl + al + 2) : NULL;
    if (!saved) {
        free(s);
        return NULL;
    }
    memcpy(saved, name, nl + 1);
    memcpy(saved + nl + 1, args, al + 1);
    s->reopen_with = saved;
    return s;
}

/* A shared session that joined no channel. */
static void free_unjoined(rv_session *s)
{
    free(s->reopen_with);
    free(s);
}

int rv_open_shared(rv_conn *c, const char *name, const char *args, rv_session **out)
{
    args = args ? args : "";
    rv_session *s = shared_session(name, args);
    if (!s)
        return RV_ENOMEM;
    struct opened o = { .fd = -1 };
    int rc = open_on(c, name, args, true, &o);
    if (rc == 0)
        rc = join_channel(s, c, &o);
    if (rc) {
        free_unjoined(s);
        return rc;
    }
    s->conn = rv__conn_get(c);
    *out = s;
    return 0;
}

/* Asks revived to close the shared session with this id; one it no longer
 * holds (it ended) is no error. */
static void close_by_id(rv_conn *c, uint64_t id)
{
    struct rv_msg *m = malloc(sizeof *m);
    struct rv_hdr h = rv__hdr_make(RV_T_CLOSE, id, 0, 0, 0);
    if (m) {
        rv__conn_request(c, &h, NULL, NULL, 0, m);
        rv__msg_close_fds(m);
    }
    free(m);
}

/* An OPEN_OK for k sessions opened at once. */
static bool many_fit(const struct rv_msg *m, size_t k)
{
    uint32_t want = RV_OPEN_SHARED | RV_OPEN_MANY;
    return m->hdr.type == RV_T_OPEN_OK && (m->hdr.op & want) == want && m->hdr.seq == k &&
           m->hdr.len >= k * sizeof(struct rv_wire_opened) && m->nfds == !!(m->hdr.op & RV_OPEN_NEW_CHANNEL);
}

/* Closes the n sessions a failed request had opened (each close is a
 * request of its own, which clears the connection's error) and returns
 * rc, with the connection's error kept. */
static int undo_opens(rv_conn *c, int rc, rv_session **s, size_t n)
{
    char why[384];
    snprintf(why, sizeof why, "%s", rv_conn_error(c));
    while (n)
        rv_close(s[--n]);
    return rv__conn_fail(c, rc, why);
}

/* Puts each session the answer m says is open on its channel. All or
 * nothing: if one failed, those that opened are closed again, and the
 * connection's error is the first failure's sentence. */
static int take_many(rv_conn *c, struct rv_msg *m, size_t k, rv_session **s)
{
    struct opened o = { .fd = m->nfds ? m->fds[0] : -1, .flags = m->hdr.op, .channel = (uint32_t)m->hdr.status };
    m->nfds = 0;   /* the first join takes the channel's socket, or closes it */
    size_t at = k * sizeof(struct rv_wire_opened), joined = 0;
    int rc = 0;
    for (size_t i = 0; i < k; i++) {
        struct rv_wire_opened e;
        memcpy(&e, m->body + i * sizeof e, sizeof e);
        int r = e.status > 0 ? RV_EPROTO : e.status;
        if (r == 0) {
            o.id = e.id;
            r = join_channel(s[i], c, &o);
            o.fd = -1;
            if (r)
                close_by_id(c, e.id);
        } else if (!rc)
            rv__conn_fail_text(c, r, (const char *)m->body + at, m->hdr.len - at);
        rc = rc ? rc : r;
        if (r) {
            free_unjoined(s[i]);
            continue;
        }
        s[i]->conn = rv__conn_get(c);
        s[joined++] = s[i];
    }
    if (o.fd >= 0)
        close(o.fd);   /* a new channel, yet no session on it: revived's mistake */
    return rc ? undo_opens(c, rc, s, joined) : 0;
}

/* Up to RV_OPEN_MANY_MAX sessions in one OPEN. */
static int open_batch(rv_conn *c, const char *name, const char *args, size_t k, rv_session **out)
{
    struct rv_msg *m = malloc(sizeof *m);
    size_t made = 0;
    while (m && made < k && (out[made] = shared_session(name, args)))
        made++;
    int rc = made < k ? RV_ENOMEM : request_open(c, name, args, RV_OPEN_SHARED | RV_OPEN_MANY, k, m);
    if (rc == 0 && !many_fit(m, k))
        rc = rv__conn_fail(c, RV_EPROTO, "unexpected answer from revived");
    if (rc == 0)
        rc = take_many(c, m, k, out);
    else
        while (made)
            free_unjoined(out[--made]);
    if (m)
        rv__msg_close_fds(m);
    free(m);
    return rc;
}

int rv_open_shared_many(rv_conn *c, const char *name, const char *args, size_t n, rv_session **out)
{
    args = args ? args : "";
    size_t done = 0;
    while (done < n) {
        size_t k = n - done < RV_OPEN_MANY_MAX ? n - done : RV_OPEN_MANY_MAX;
        int rc = open_batch(c, name, args, k, out + done);
        if (rc)
            return undo_opens(c, rc, out, done);
        done += k;
    }
    return 0;
}

static int session_end(rv_session *s, int status, const char *text, size_t len)
{
    s->dead = 1;
    s->dead_status = status;
    snprintf(s->err, sizeof s->err, "%.*s", (int)len, text);
    return status;
}

static int send_call(rv_session *s, const struct rv_hdr *call, const void *req)
{
    int rc = rv__wire_send(s->fd, call, req, NULL, 0, 0);
    /* a send that fails still leaves a notice to read, if revived posted one */
    return rc < 0 && rc != -EPIPE && rc != -ECONNRESET ? RV_EIO : 0;
}

/* The session a notice of revived's is for: s on a socket of its own; on a
 * shared channel the one its seq names, which may be another of the
 * channel's (NULL: one already closed here). */
static rv_session *notice_target(rv_session *s, const struct rv_msg *m)
{
    if (!s->chan || m->hdr.seq == s->id)
        return s;
    return rv__chan_session(s->chan, m->hdr.seq);
}

/* Waits for the reply to the call; see the top of the file for what else
 * may come. After a restart the call is sent again with the same seq: the
 * service's journal answers it if it already ran, and runs it if the crash
 * lost it before it reached the journal. */
static int await_reply(rv_session *s, struct rv_msg *m, const struct rv_hdr *call, const void *req,
                       void *reply, size_t cap, size_t *rlen, int *fd)
{
    int resent_garbled = 0;
    for (;;) {
        int r = rv__wire_recv(s->fd, m, RV_MAX_PAYLOAD, 0);
        if (r == 0)
            return session_end(s, RV_ECLOSED, CLOSED_TEXT, strlen(CLOSED_TEXT));
        if (r == -ECONNRESET)
            continue;   /* revived closed the session with our call unread; its notice follows */
        if (r < 0)
            return r == -EPROTO ? RV_EPROTO : RV_EIO;
        if (m->hdr.type == RV_T_NOTICE) {
            rv__msg_close_fds(m);
            rv_session *to = notice_target(s, m);
            int status = m->hdr.status < 0 ? m->hdr.status : RV_ECLOSED;
            if (to)
                session_end(to, status, (const char *)m->body, m->hdr.len);
            if (to == s)
                return status;
            continue;
        }
        if (m->hdr.type == RV_T_RESTARTED) {
            rv__msg_close_fds(m);
            if (notice_target(s, m) == s && send_call(s, call, req) < 0)
                return RV_EIO;
            continue;
        }
        if (m->hdr.type == RV_T_REPLY && m->hdr.seq == 0 && m->hdr.status == RV_EPROTO) {
            /* The service rejected a request it could not even read the
             * seq of: ours, the only one outstanding. It may have been
             * garbled on the way (a soft error): send it once more. */
            rv__msg_close_fds(m);
            if (resent_garbled++ || send_call(s, call, req) < 0)
                return RV_EPROTO;
            continue;
        }
        if (m->hdr.type != RV_T_REPLY || m->hdr.seq != call->seq) {
            rv__msg_close_fds(m);   /* a duplicate of an earlier reply */
            continue;
        }
        int status = m->hdr.status;
        if (m->hdr.len > cap) {
            rv__msg_close_fds(m);
            return RV_ETOOBIG;
        }
        if (m->hdr.len)   /* reply may be NULL when cap is 0 */
            memcpy(reply, m->body, m->hdr.len);
        if (rlen)
            *rlen = m->hdr.len;
        if (fd && m->nfds) {
            *fd = m->fds[0];
            m->fds[0] = -1;
        }
        for (size_t i = 0; i < m->nfds; i++)
            if (m->fds[i] >= 0)
                close(m->fds[i]);
        s->err[0] = '\0';
        s->last_status = status;
        return status;
    }
}

/* While a call waits on its ring, what revived posts on the socket: a
 * NOTICE ends the session, RESTARTED asks for nothing (the ring kept the
 * call, and the next instance finds it there), an old REPLY is a
 * duplicate. RV_OK when nothing ended the session. */
static int ring_check_socket(rv_session *s, struct rv_msg *m)
{
    for (;;) {
        int r = rv__wire_recv(s->fd, m, RV_MAX_PAYLOAD, MSG_DONTWAIT);
        if (r == -EAGAIN || r == -ECONNRESET)
            return RV_OK;   /* reset: revived closed the session; its notice, if any, comes next time */
        if (r == 0)
            return session_end(s, RV_ECLOSED, CLOSED_TEXT, strlen(CLOSED_TEXT));
        if (r < 0)
            return r == -EPROTO ? RV_EPROTO : RV_EIO;
        rv__msg_close_fds(m);
        if (m->hdr.type == RV_T_NOTICE)
            return session_end(s, m->hdr.status < 0 ? m->hdr.status : RV_ECLOSED, (const char *)m->body, m->hdr.len);
    }
}

/* How long a call sleeps on its ring before it looks at the socket: only a
 * session that ends (its service failed, revived went away) waits this
 * long to hear so; a reply wakes it at once. */
#define RING_LOOK_NS 20000000L

/* The reply to seq, once the ring has it: RV_OK, or the call's end. */
static int ring_wait(rv_session *s, struct rv_msg *m, uint64_t seq)
{
    struct rv_ring *r = s->ring;
    for (;;) {
        uint32_t seen = __atomic_load_n(&r->answered, __ATOMIC_ACQUIRE);
        if (seen == (uint32_t)seq && r->reply.seq == seq)
            return RV_OK;
        struct timespec look = { 0, RING_LOOK_NS };
        if (syscall(SYS_futex, &r->answered, FUTEX_WAIT, seen, &look, NULL, 0) < 0 && errno == ETIMEDOUT) {
            int rc = ring_check_socket(s, m);
            if (rc)
                return rc;
        }
    }
}

/* One call through the ring (ring.h): the body, the header, then `posted`,
 * then the doorbell's ring. A reply that carries a descriptor comes on the
 * socket, as every reply of the socket path does. */
static int ring_exchange(rv_session *s, struct rv_msg *m, uint32_t op, const void *req, size_t req_len,
                         void *reply, size_t reply_cap, size_t *reply_len, int *fd)
{
    struct rv_ring *r = s->ring;
    struct rv_hdr call = rv__hdr_make(RV_T_CALL, ++s->seq, op, 0, req_len);
    if (req_len)
        memcpy(r->body, req, req_len);
    r->req = call;
    __atomic_store_n(&r->posted, call.seq, __ATOMIC_RELEASE);
    rv__doorbell_ring(s->bell);
    int rc = ring_wait(s, m, call.seq);
    if (rc)
        return rc;
    struct rv_hdr h = r->reply;
    if (h.op & RV_RING_ON_SOCKET)
        return await_reply(s, m, &call, req, reply, reply_cap, reply_len, fd);
    if (h.len > reply_cap || h.len > s->ring_reply)
        return RV_ETOOBIG;
    if (h.len)
        memcpy(reply, rv__ring_reply_body(r, s->ring_request), h.len);
    if (reply_len)
        *reply_len = h.len;
    s->err[0] = '\0';
    s->last_status = h.status;
    return h.status;
}

/* One call and its reply. Seqs on a shared channel are the channel's, and
 * the CALL carries the session's tag (wire.h). A session with a ring uses
 * it for every request it holds. */
static int exchange(rv_session *s, struct rv_msg *m, uint32_t op, const void *req, size_t req_len,
                    void *reply, size_t reply_cap, size_t *reply_len, int *fd)
{
    if (s->ring && req_len <= s->ring_request)
        return ring_exchange(s, m, op, req, req_len, reply, reply_cap, reply_len, fd);
    uint64_t seq = s->chan ? rv__chan_next_seq(s->chan) : ++s->seq;
    struct rv_hdr call = rv__hdr_make(RV_T_CALL, seq, op, s->chan ? rv__wire_tag(s->id) : 0, req_len);
    if (send_call(s, &call, req) < 0)
        return RV_EIO;
    return await_reply(s, m, &call, req, reply, reply_cap, reply_len, fd);
}

/* On a shared channel the call waits its turn: another session's caller
 * may also have ended this session (a notice it read), so `dead` is read
 * under the channel's lock. */
static int call_once(rv_session *s, uint32_t op, const void *req, size_t req_len,
                     void *reply, size_t reply_cap, size_t *reply_len, int *fd)
{
    struct rv_msg *m = thread_msg();
    if (!m)
        return RV_ENOMEM;
    if (s->chan)
        rv__chan_lock(s->chan);
    int rc = s->dead ? s->dead_status : exchange(s, m, op, req, req_len, reply, reply_cap, reply_len, fd);
    if (s->chan)
        rv__chan_unlock(s->chan);
    return rc;
}

/* A session of a service that keeps its state cannot end without that
 * state going with it: whatever ended it (the service failed or stopped,
 * revived closed it, the state was found corrupt), the client hears
 * RV_ELOST and why, never a silent fresh start. */
static int state_lost(rv_session *s, int rc)
{
    if (rc != RV_ECLOSED && rc != RV_EFAILED && rc != RV_ESTOPPED && rc != RV_ELOST)
        return rc;
    struct rv_cap_info info = { 0 };
    if (s->chan)
        snprintf(info.name, sizeof info.name, "%s", s->reopen_with);
    else
        rv_cap_info(s->fd, &info);
    char was[sizeof s->err];
    snprintf(was, sizeof was, "%s", rc == RV_ECLOSED && !strcmp(s->err, CLOSED_TEXT)
                                        ? "revived closed it (revived stopped, or was restarted)" : s->err);
    if (rc != RV_ELOST)
        snprintf(s->err, sizeof s->err, "the session with '%.63s' lost its state: %.150s", info.name, was);
    s->dead_status = RV_ELOST;
    return RV_ELOST;
}

/* Whether a capability fault may repair the session: a session revived
 * revoked or closed is re-opened, unless its state went with it; then only
 * a handler of the client's own, which restores that state, may. */
static bool repairable(const rv_session *s, int rc)
{
    if (!rv__cap_enabled())
        return false;
    if (s->keeps_state)
        return rc == RV_ELOST && rv__cap_custom_handler(s->fd);
    return rv__cap_is_fault(rc);
}

/* A shared session's repair: not a capability of its own (it has no
 * descriptor of its own), it is opened again on the connection, and
 * leaves its old channel once it is on the new one. */
static int reopen_shared(rv_session *s)
{
    const char *name = s->reopen_with, *args = name + strlen(name) + 1;
    struct rv__chan *old = s->chan;
    uint64_t old_id = s->id;
    struct opened o = { .fd = -1 };
    int rc = open_on(s->conn, name, args, true, &o);
    if (rc == 0)
        rc = join_channel(s, s->conn, &o);
    if (rc) {
        snprintf(s->err, sizeof s->err, "re-opening '%.63s' failed: %.160s", name, rv_conn_error(s->conn));
        return rc;
    }
    rv__chan_leave(old, s, old_id);
    s->dead = 0;
    s->err[0] = '\0';
    return 0;
}

int rv_call_fd(rv_session *s, uint32_t op, const void *req, size_t req_len,
               void *reply, size_t reply_cap, size_t *reply_len, int *fd)
{
    if (fd)
        *fd = -1;
    if (req_len > RV_MAX_PAYLOAD)
        return RV_ETOOBIG;
    for (int repairs = 0;; repairs++) {
        unsigned gen = rv__cap_generation(s->fd);
        int rc = call_once(s, op, req, req_len, reply, reply_cap, reply_len, fd);
        if (s->keeps_state)
            rc = state_lost(s, rc);
        if (!repairable(s, rc) || repairs == MAX_REPAIRS)
            return rc;
        int fixed = s->chan ? reopen_shared(s) : rv_cap_fault(s->fd, rc, gen);
        if (fixed) {   /* s->err: the handler's sentence, else the fault's */
            s->dead = 1;
            s->dead_status = fixed;
            return fixed;
        }
    }
}

int rv_call(rv_session *s, uint32_t op, const void *req, size_t req_len,
            void *reply, size_t reply_cap, size_t *reply_len)
{
    return rv_call_fd(s, op, req, req_len, reply, reply_cap, reply_len, NULL);
}

int rv_session_fd(const rv_session *s) { return s->fd; }

const char *rv_session_error(const rv_session *s)
{
    return s->err[0] ? s->err : rv_strerror(s->dead ? s->dead_status : s->last_status);
}

/* A shared session is closed by revived, asked on the connection (the
 * channel stays open for the others): a request, not a datagram left on
 * the channel, which holds a few only and may have no reader while the
 * service restarts. One revived no longer holds (it ended) is no error. */
static void close_shared(rv_session *s)
{
    if (!s->dead)
        close_by_id(s->conn, s->id);
    rv__chan_leave(s->chan, s, s->id);
    free(s->reopen_with);
}

void rv_close(rv_session *s)
{
    if (!s)
        return;
    if (s->chan)
        close_shared(s);
    else {
        rv_cap_unregister(s->fd);
        close(s->fd);
        ring_drop(s);
    }
    rv__conn_put(s->conn);
    free(s);
}
