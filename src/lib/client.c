/* client.c — librevive's client side: connect, open, call, close.
 *
 * A call sends one CALL datagram with a fresh seq and waits for the REPLY
 * with that seq. Replies with older seqs are duplicates a restarted service
 * re-sent (it cannot know whether the first copy left before it died), and
 * are dropped here: that is the client's half of exactly-once. A NOTICE
 * from revived, or the socket closing, ends the session with its reason.
 */
#include "revive/client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "wire.h"

struct rv_conn {
    int fd;
    char err[256];
};

struct rv_session {
    int fd;
    uint64_t seq;
    int dead;           /* a notice or EOF ended it: later calls fail at once */
    int dead_status;
    int last_status;    /* of the last call */
    char err[256];
    struct rv_msg msg;  /* receive buffer, kept off the call path's allocator */
};

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
    default: return err < RV_EAPP ? "the service reported an error" : "unknown error";
    }
}

const char *rv_default_socket(char *buf, size_t len)
{
    const char *env = getenv("REVIVE_SOCKET");
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (env && *env)
        snprintf(buf, len, "%s", env);
    else if (xdg && *xdg)
        snprintf(buf, len, "%s/revive/revived.sock", xdg);
    else
        snprintf(buf, len, "/run/revive/revived.sock");
    return buf;
}

int rv_connect(const char *path, rv_conn **out)
{
    char buf[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    path = path ? path : rv_default_socket(buf, sizeof buf);
    if (strlen(path) >= sizeof sa.sun_path)
        return RV_EINVAL;
    strcpy(sa.sun_path, path);
    rv_conn *c = calloc(1, sizeof *c);
    if (!c)
        return RV_ENOMEM;
    c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        if (c->fd >= 0)
            close(c->fd);
        free(c);
        errno = e;
        return RV_ECONNECT;
    }
    *out = c;
    return 0;
}

void rv_disconnect(rv_conn *c)
{
    if (c) {
        close(c->fd);
        free(c);
    }
}

const char *rv_conn_error(const rv_conn *c) { return c->err; }

static int conn_fail(rv_conn *c, int status, const char *text, size_t len)
{
    snprintf(c->err, sizeof c->err, "%.*s", (int)len, text);
    return status;
}

int rv_open(rv_conn *c, const char *name, const char *args, rv_session **out)
{
    args = args ? args : "";
    size_t nl = strlen(name), al = strlen(args);
    if (nl == 0 || nl >= RV_NAME_MAX || al > RV_ARGS_MAX)
        return conn_fail(c, RV_EINVAL, "service name or arguments too long", 34);
    char body[RV_NAME_MAX + RV_ARGS_MAX + 2];
    memcpy(body, name, nl + 1);
    memcpy(body + nl + 1, args, al + 1);
    struct rv_hdr h = rv_hdr_make(RV_T_OPEN, 0, 0, 0, nl + al + 2);
    if (rv_wire_send(c->fd, &h, body, NULL, 0, 0) < 0)
        return conn_fail(c, RV_ECONNECT, "revived closed the connection", 29);
    struct rv_msg *m = malloc(sizeof *m);
    if (!m)
        return RV_ENOMEM;
    int r = rv_wire_recv(c->fd, m, RV_WIRE_MAX_BODY, 0);
    int rc;
    if (r <= 0)
        rc = conn_fail(c, r == 0 ? RV_ECONNECT : RV_EPROTO, "no answer from revived", 22);
    else if (m->hdr.type == RV_T_ERROR)
        rc = conn_fail(c, m->hdr.status < 0 ? m->hdr.status : RV_EPROTO, (const char *)m->body, m->hdr.len);
    else if (m->hdr.type != RV_T_OPEN_OK || m->nfds != 1)
        rc = conn_fail(c, RV_EPROTO, "unexpected answer from revived", 30);
    else {
        rv_session *s = calloc(1, sizeof *s);
        rc = s ? 0 : RV_ENOMEM;
        if (s) {
            s->fd = m->fds[0];
            m->nfds = 0;
            *out = s;
        }
    }
    rv_msg_close_fds(m);
    free(m);
    return rc;
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
    struct rv_hdr h = rv_hdr_make(RV_T_CALL, s->seq, op, 0, req_len);
    int rc = rv_wire_send(s->fd, &h, req, NULL, 0, 0);
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
    for (;;) {
        int r = rv_wire_recv(s->fd, m, RV_MAX_PAYLOAD, 0);
        if (r == 0)
            return session_end(s, RV_ECLOSED, "the session was closed", 22);
        if (r == -ECONNRESET)
            continue;   /* revived closed the session with our call unread; its notice follows */
        if (r < 0)
            return r == -EPROTO ? RV_EPROTO : RV_EIO;
        if (m->hdr.type == RV_T_NOTICE) {
            rv_msg_close_fds(m);
            return session_end(s, m->hdr.status < 0 ? m->hdr.status : RV_ECLOSED, (const char *)m->body, m->hdr.len);
        }
        if (m->hdr.type == RV_T_RESTARTED) {
            rv_msg_close_fds(m);
            if (send_call(s, call->op, req, call->len) < 0)
                return RV_EIO;
            continue;
        }
        if (m->hdr.type != RV_T_REPLY || m->hdr.seq != s->seq) {
            rv_msg_close_fds(m);   /* a duplicate of an earlier reply */
            continue;
        }
        int status = m->hdr.status;
        if (m->hdr.len > cap) {
            rv_msg_close_fds(m);
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

int rv_call_fd(rv_session *s, uint32_t op, const void *req, size_t req_len,
               void *reply, size_t reply_cap, size_t *reply_len, int *fd)
{
    if (fd)
        *fd = -1;
    if (s->dead)
        return s->dead_status;
    if (req_len > RV_MAX_PAYLOAD)
        return RV_ETOOBIG;
    ++s->seq;
    if (send_call(s, op, req, req_len) < 0)
        return RV_EIO;
    struct rv_hdr call = rv_hdr_make(RV_T_CALL, s->seq, op, 0, req_len);
    return await_reply(s, &s->msg, &call, req, reply, reply_cap, reply_len, fd);
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
        close(s->fd);
        free(s);
    }
}
