/* conn.c — see conn.h. */
#include "conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "list.h"
#include "log.h"
#include "loop.h"
#include "task.h"

struct conn {
    struct rv_handler h;
    void (*on_event)(struct conn *c, uint32_t events);
    int fd;
    unsigned refs;
    struct task *task;
    uid_t uid;
    gid_t gid;
    bool privileged;
    const struct rv_task_conf *ns;   /* a loaded task's name space; NULL: identity */
    struct conn *next, *prev;
};

static struct conn *conns;   /* open connections, closed at shutdown */
static void (*close_hook)(struct conn *c);

void conn_on_close(void (*hook)(struct conn *c)) { close_hook = hook; }

struct conn *conn_get(struct conn *c)
{
    c->refs++;
    return c;
}

void conn_put(struct conn *c)
{
    if (--c->refs)
        return;
    task_put(c->task);
    free(c);
}

int conn_fd(const struct conn *c) { return c->fd; }
struct task *conn_task(const struct conn *c) { return c->task; }
const struct rv_task_conf *conn_ns(const struct conn *c) { return c->ns; }
pid_t conn_pid(const struct conn *c) { return c->task->pid; }
bool conn_privileged(const struct conn *c) { return c->privileged; }

void conn_cred(const struct conn *c, uid_t *uid, gid_t *gid)
{
    *uid = c->uid;
    *gid = c->gid;
}

void conn_set_ns(struct conn *c, const struct rv_task_conf *ns) { c->ns = ns; }

void conn_close(struct conn *c)
{
    if (c->fd < 0)
        return;
    if (close_hook)
        close_hook(c);
    loop_del(c->fd);
    close(c->fd);
    c->fd = -1;
    RV_LIST_UNLINK(conns, c);
    conn_put(c);
}

void conn_close_all(void)
{
    while (conns)
        conn_close(conns);
}

/* Replies never block revived: a client that does not read its replies
 * loses its connection, not everyone else's service. */
void conn_reply(struct conn *c, const struct rv_hdr *h, const void *body, const int *fds, size_t nfds)
{
    if (c->fd >= 0 && rv__wire_send(c->fd, h, body, fds, nfds, MSG_DONTWAIT) < 0)
        conn_close(c);
}

void conn_reply_ok(struct conn *c)
{
    struct rv_hdr h = rv__hdr_make(RV_T_OK, 0, 0, 0, 0);
    conn_reply(c, &h, NULL, NULL, 0);
}

void conn_reply_error(struct conn *c, int32_t status, const char *why)
{
    struct rv_hdr h = rv__hdr_make(RV_T_ERROR, 0, 0, status, strnlen(why, RV_WIRE_MAX_BODY));
    conn_reply(c, &h, why, NULL, 0);
}

void conn_reply_open(struct conn *c, uint64_t id, int client_fd, uint32_t flags)
{
    struct rv_hdr h = rv__hdr_make(RV_T_OPEN_OK, id, flags, 0, 0);
    conn_reply(c, &h, NULL, &client_fd, 1);
}

static void on_conn_event(struct rv_handler *h, uint32_t events)
{
    struct conn *c = (struct conn *)h;
    c->on_event(c, events);
}

struct conn *conn_new(int fd, pid_t pid, uid_t uid, gid_t gid, void (*on_event)(struct conn *c, uint32_t events))
{
    struct conn *c = calloc(1, sizeof *c);
    if (!c || !(c->task = task_get(pid, uid))) {
        rv_warn("refusing a connection: %s", strerror(errno ? errno : ENOMEM));
        free(c);
        close(fd);
        return NULL;
    }
    c->h.on_event = on_conn_event;
    c->on_event = on_event;
    c->fd = fd;
    c->refs = 1;
    c->uid = uid;
    c->gid = gid;
    c->privileged = uid == 0 || uid == getuid();
    RV_LIST_PUSH(conns, c);
    if (loop_add(fd, EPOLLIN, &c->h) < 0) {
        conn_close(c);
        return NULL;
    }
    return c;
}
