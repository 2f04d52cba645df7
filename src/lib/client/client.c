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
#include <sys/socket.h>
#include <unistd.h>
#include "cap_internal.h"
#include "conn_internal.h"
#include "wire.h"

/* A repair that is itself undone before the retried call completes (the
 * service keeps restarting) is tried again, this many times in all. */
#define MAX_REPAIRS 8
/* What a session that simply closed (revived's end went away) says. */
#define CLOSED_TEXT "the session was closed"

struct rv_session {
    int fd;
    rv_conn *conn;      /* where it was opened, and is re-opened */
    bool keeps_state;   /* the service keeps state for it: see RV_OPEN_KEEPS_STATE */
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

/* OPEN through c; the new session socket in *fd, OPEN_OK's RV_OPEN_* flags
 * in *flags. */
static int open_fd(rv_conn *c, const char *name, const char *args, int *fd, uint32_t *flags)
{
    size_t nl = strlen(name), al = strlen(args);
    if (nl == 0 || nl >= RV_NAME_MAX || al > RV_ARGS_MAX)
        return rv__conn_fail(c, RV_EINVAL, "service name or arguments too long");
    char body[RV_NAME_MAX + RV_ARGS_MAX + 2];
    memcpy(body, name, nl + 1);
    memcpy(body + nl + 1, args, al + 1);
    struct rv_msg *m = malloc(sizeof *m);
    if (!m)
        return RV_ENOMEM;
    struct rv_hdr h = rv__hdr_make(RV_T_OPEN, 0, 0, 0, nl + al + 2);
    int rc = rv__conn_request(c, &h, body, NULL, 0, m);
    if (rc == 0 && (m->hdr.type != RV_T_OPEN_OK || m->nfds != 1))
        rc = rv__conn_fail(c, RV_EPROTO, "unexpected answer from revived");
    else if (rc == 0) {
        *fd = m->fds[0];
        *flags = m->hdr.op;
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
    uint32_t flags = 0;
    int nfd, rc = open_fd(s->conn, info.name, info.args, &nfd, &flags);   /* re-dials a closed connection */
    if (rc) {
        snprintf(s->err, sizeof s->err, "re-opening '%.63s' failed: %.160s", info.name, rv_conn_error(s->conn));
        return rc;
    }
    rc = dup3(nfd, fd, O_CLOEXEC) < 0 ? RV_EIO : 0;
    close(nfd);
    if (rc == 0) {
        s->dead = 0;
        s->seq = 0;
        s->keeps_state = flags & RV_OPEN_KEEPS_STATE;
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
    s->fd = -1;
    uint32_t flags = 0;
    int rc = open_fd(c, name, args, &s->fd, &flags);
    if (rc == 0)
        rc = rv__cap_add(s->fd, RV_CAP_SESSION, name, args, -1, generic_reopen, s);
    if (rc) {
        if (s->fd >= 0)
            close(s->fd);
        free(s);
        return rc;
    }
    s->conn = rv__conn_get(c);
    s->keeps_state = flags & RV_OPEN_KEEPS_STATE;
    *out = s;
    return 0;
}

static int session_end(rv_session *s, int status, const char *text, size_t len)
{
    s->dead = 1;
    s->dead_status = status;
    snprintf(s->err, sizeof s->err, "%.*s", (int)len, text);
    return status;
}

static int send_call(rv_session *s, uint32_t op, const void *req, size_t req_len)
{
    struct rv_hdr h = rv__hdr_make(RV_T_CALL, s->seq, op, 0, req_len);
    int rc = rv__wire_send(s->fd, &h, req, NULL, 0, 0);
    /* a send that fails still leaves a notice to read, if revived posted one */
    return rc < 0 && rc != -EPIPE && rc != -ECONNRESET ? RV_EIO : 0;
}

/* Waits for the reply to seq; see the top of the file for what else may
 * come. After a restart the call is sent again with the same seq: the
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
            return session_end(s, m->hdr.status < 0 ? m->hdr.status : RV_ECLOSED, (const char *)m->body, m->hdr.len);
        }
        if (m->hdr.type == RV_T_RESTARTED) {
            rv__msg_close_fds(m);
            if (send_call(s, call->op, req, call->len) < 0)
                return RV_EIO;
            continue;
        }
        if (m->hdr.type == RV_T_REPLY && m->hdr.seq == 0 && m->hdr.status == RV_EPROTO) {
            /* The service rejected a request it could not even read the
             * seq of: ours, the only one outstanding. It may have been
             * garbled on the way (a soft error): send it once more. */
            rv__msg_close_fds(m);
            if (resent_garbled++ || send_call(s, call->op, req, call->len) < 0)
                return RV_EPROTO;
            continue;
        }
        if (m->hdr.type != RV_T_REPLY || m->hdr.seq != s->seq) {
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

static int call_once(rv_session *s, uint32_t op, const void *req, size_t req_len,
                     void *reply, size_t reply_cap, size_t *reply_len, int *fd)
{
    if (s->dead)
        return s->dead_status;
    struct rv_msg *m = thread_msg();
    if (!m)
        return RV_ENOMEM;
    ++s->seq;
    if (send_call(s, op, req, req_len) < 0)
        return RV_EIO;
    struct rv_hdr call = rv__hdr_make(RV_T_CALL, s->seq, op, 0, req_len);
    return await_reply(s, m, &call, req, reply, reply_cap, reply_len, fd);
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
        int fixed = rv_cap_fault(s->fd, rc, gen);
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

void rv_close(rv_session *s)
{
    if (s) {
        rv_cap_unregister(s->fd);
        close(s->fd);
        rv__conn_put(s->conn);
        free(s);
    }
}
