/* conn.c — librevive's connection to revived: the task's name-space
 * channel, and a capability like any other.
 *
 * A connection is dialled at revived's socket, or, for a task revived
 * started itself, inherited as REVIVE_NS_FD (revived resolves names through
 * that task's name space). Its sessions and dataspaces hold references,
 * because they are re-opened through it when they fault; it is closed with
 * the last. Its own fault (revived closed it) is repaired by dialling the
 * same path again onto the same descriptor: the generic name-space
 * handler. An inherited channel cannot be dialled again.
 */
#include "revive/client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "cap_internal.h"
#include "revive/cap.h"
#include "conn_internal.h"
#include "wire.h"

struct rv_conn {
    int fd;
    unsigned refs;
    struct rv__chan *chans;   /* its shared channels (mux.c) */
    void (*free_chans)(struct rv__chan *list);
    char path[108];     /* "" for an inherited name-space channel */
    char err[384];
};

/* The name-space channel revived gave a task it started: REVIVE_NS_FD.
 * Taken once (the variable is removed) so that a second rv_connect, or a
 * child process, does not share it by accident. */
static int inherited_channel(void)
{
    const char *env = getenv("REVIVE_NS_FD");
    if (!env || !*env)
        return -1;
    char *end;
    long fd = strtol(env, &end, 10);
    unsetenv("REVIVE_NS_FD");
    if (*end || fd < 0 || fd > 65535 || fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0)
        return -1;
    return (int)fd;
}

/* The generic name-space handler: a connection revived closed is dialled
 * again at the same path, onto the same descriptor. */
static int reconnect(int fd, int err, void *arg)
{
    rv_conn *c = arg;
    if (!c->path[0])
        return err;   /* an inherited channel cannot be dialled again */
    int nfd = rv__wire_dial(c->path);
    if (nfd < 0)
        return RV_ECONNECT;
    int rc = dup3(nfd, fd, O_CLOEXEC) < 0 ? RV_EIO : 0;
    close(nfd);
    return rc;
}

int rv_connect(const char *path, rv_conn **out)
{
    char buf[108];
    rv_conn *c = calloc(1, sizeof *c);
    if (!c)
        return RV_ENOMEM;
    c->refs = 1;
    c->fd = path ? -1 : inherited_channel();
    if (c->fd < 0) {
        path = path ? path : rv_default_socket(buf, sizeof buf);
        if (strlen(path) >= sizeof c->path) {
            free(c);
            return RV_EINVAL;
        }
        strcpy(c->path, path);
        c->fd = rv__wire_dial(path);
    }
    if (c->fd < 0) {
        int e = errno;
        free(c);
        errno = e;
        return RV_ECONNECT;
    }
    rv__cap_add(c->fd, RV_CAP_NAMESPACE, c->path, NULL, -1, reconnect, c);
    *out = c;
    return 0;
}

rv_conn *rv__conn_get(rv_conn *c)
{
    c->refs++;
    return c;
}

void rv__conn_put(rv_conn *c)
{
    if (c && --c->refs == 0) {
        rv_cap_unregister(c->fd);
        close(c->fd);
        if (c->free_chans)
            c->free_chans(c->chans);   /* empty: each session held a reference */
        free(c);
    }
}

void rv_disconnect(rv_conn *c) { rv__conn_put(c); }

const char *rv_conn_error(const rv_conn *c) { return c->err; }

int rv__conn_fd(const rv_conn *c) { return c->fd; }
struct rv__chan **rv__conn_chans(rv_conn *c, void (*free_all)(struct rv__chan *list))
{
    c->free_chans = free_all;
    return &c->chans;
}

int rv__conn_fail_text(rv_conn *c, int status, const char *text, size_t len)
{
    snprintf(c->err, sizeof c->err, "%.*s", (int)len, text);
    return status;
}

int rv__conn_fail(rv_conn *c, int status, const char *text)
{
    return rv__conn_fail_text(c, status, text, strlen(text));
}

/* revived refuses a connection over a limit by saying why and closing it;
 * the reason may sit behind the reset the close left. */
static int parting_words(rv_conn *c, struct rv_msg *m)
{
    for (int tries = 0; tries < 2; tries++) {
        int r = rv__wire_recv(c->fd, m, RV_WIRE_MAX_BODY, MSG_DONTWAIT);
        if (r > 0 && m->hdr.type == RV_T_ERROR)
            return rv__conn_fail_text(c, m->hdr.status < 0 ? m->hdr.status : RV_EPROTO, (const char *)m->body, m->hdr.len);
        if (r != -ECONNRESET)
            break;
    }
    return rv__conn_fail(c, RV_ECONNECT, "revived closed the connection");
}

/* revived closes a connection that has sent nothing for its idle_timeout,
 * unread, and so does a revived that died: a request whose send finds the
 * connection closed never reached revived, and goes once more on a new
 * one (the name-space capability's own repair, which dials the path again
 * onto the same descriptor). A connection revived refused with a reason
 * is not dialled again: the reason is the answer. */
static int send_request(rv_conn *c, const struct rv_hdr *h, const void *body, const int *fds, size_t nfds,
                        struct rv_msg *m)
{
    int sent = rv__wire_send(c->fd, h, body, fds, nfds, 0);
    if (sent == 0)
        return 0;
    if (sent != -EPIPE && sent != -ECONNRESET && sent != -ENOTCONN)
        return rv__conn_fail(c, RV_EIO, "cannot send a request to revived");
    int rc = parting_words(c, m);
    if (rc != RV_ECONNECT || rv_cap_fault(c->fd, rc, rv__cap_generation(c->fd)) != 0)
        return rc;
    return rv__wire_send(c->fd, h, body, fds, nfds, 0) == 0 ? 0 : parting_words(c, m);
}

int rv__conn_request(rv_conn *c, const struct rv_hdr *h, const void *body, const int *fds, size_t nfds,
                    struct rv_msg *m)
{
    m->nfds = 0;   /* the caller closes m's descriptors, also when nothing came */
    int rc = send_request(c, h, body, fds, nfds, m);
    if (rc)
        return rc;
    int r = rv__wire_recv(c->fd, m, RV_WIRE_MAX_BODY, 0);
    if (r == -ECONNRESET)
        return parting_words(c, m);
    if (r <= 0)
        return rv__conn_fail(c, r == 0 ? RV_ECONNECT : RV_EPROTO, "no answer from revived");
    if (m->hdr.type == RV_T_ERROR)
        return rv__conn_fail_text(c, m->hdr.status < 0 ? m->hdr.status : RV_EPROTO, (const char *)m->body, m->hdr.len);
    c->err[0] = '\0';
    return 0;
}

