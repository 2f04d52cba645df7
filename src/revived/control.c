/* control.c — the public socket and its connections; see control.h.
 *
 * Everything here is untrusted input: each message passed rv__wire_recv's
 * framing checks, and each handler below checks its payload before use.
 * A bad message earns an RV_T_ERROR reply and the connection stays up. */
#include "control.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "access.h"
#include "channel.h"
#include "dataspace.h"
#include "log.h"
#include "revive/client.h"
#include "loop.h"
#include "namespace.h"
#include "reserve.h"
#include "conn.h"
#include "service.h"
#include "session.h"
#include "supervisor.h"
#include "wire.h"

static int listen_fd = -1;
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static struct rv_msg msg;

/* A NUL-terminated string that starts at off and fits in max bytes. */
static const char *take_string(const struct rv_msg *m, size_t *off, size_t max)
{
    const char *p = (const char *)m->body + *off;
    size_t room = m->hdr.len - *off;
    size_t n = strnlen(p, room < max ? room : max);
    if (n == room || n == max)
        return NULL;
    *off += n + 1;
    return p;
}

static const char *take_name(struct conn *c, const struct rv_msg *m, size_t *off)
{
    const char *name = take_string(m, off, RV_NAME_MAX);
    if (!name)
        conn_reply_error(c, RV_EPROTO, "malformed request: name missing or too long");
    return name;
}

/* The service the request's name stands for in c's name space. */
static struct service *find_named(struct conn *c, const struct rv_msg *m, size_t *off)
{
    char global[RV_NAME_MAX], why[256];
    const char *name = take_name(c, m, off);
    if (!name)
        return NULL;
    int rc = ns_resolve(conn_ns(c), name, NS_SERVICE, global, why, sizeof why);
    struct service *svc = rc ? NULL : service_find(global);
    if (!rc && !svc) {
        rc = RV_ENOSVC;
        snprintf(why, sizeof why, "no service named '%s' (see 'revivectl status')", name);
    }
    if (rc)
        conn_reply_error(c, rc, why);
    return svc;
}

/* How many sessions an OPEN asks for: 1, or with RV_OPEN_MANY its seq; 0
 * (answered) for flags revived does not know or a count out of range. */
static uint32_t open_count(struct conn *c, const struct rv_msg *m)
{
    uint32_t op = m->hdr.op;
    if (op & ~(uint32_t)(RV_OPEN_SHARED | RV_OPEN_MANY)) {
        conn_reply_error(c, RV_EPROTO, "malformed open: unknown flags");
        return 0;
    }
    if (!(op & RV_OPEN_MANY))
        return 1;
    if (!(op & RV_OPEN_SHARED) || m->hdr.seq < 1 || m->hdr.seq > RV_OPEN_MANY_MAX) {
        char why[128];
        snprintf(why, sizeof why, "malformed open: many sessions are opened shared, 1 to %d at a time",
                 RV_OPEN_MANY_MAX);
        conn_reply_error(c, RV_EPROTO, why);
        return 0;
    }
    return (uint32_t)m->hdr.seq;
}

static void on_open(struct conn *c, const struct rv_msg *m)
{
    size_t off = 0;
    struct service *svc = find_named(c, m, &off);
    if (!svc)
        return;
    const char *args = m->hdr.len > off ? take_string(m, &off, RV_ARGS_MAX + 1) : "";
    if (!args) {
        conn_reply_error(c, RV_EPROTO, "malformed open: arguments not terminated or longer than 1024 bytes");
        return;
    }
    char why[320];
    if (access_check_open(svc->conf, c, why, sizeof why) < 0) {
        conn_reply_error(c, RV_EPERM, why);
        return;
    }
    uint32_t count = open_count(c, m);
    if (count)
        service_open(svc, c, args, m->hdr.op, count);
}

static void on_status(struct conn *c)
{
    static struct rv_wire_svc_status st[RV_WIRE_MAX_BODY / sizeof(struct rv_wire_svc_status)];
    size_t n = services_status(st, sizeof st / sizeof st[0]);
    struct rv_hdr h = rv__hdr_make(RV_T_STATUS_REPLY, 0, 0, 0, n * sizeof st[0]);
    conn_reply(c, &h, st, NULL, 0);
}

static void on_kill_or_restart(struct conn *c, const struct rv_msg *m)
{
    if (conn_ns(c)) {
        conn_reply_error(c, RV_EPERM, "permission denied: a task's name-space connection may not kill or "
                         "restart services");
        return;
    }
    if (!conn_privileged(c)) {
        conn_reply_error(c, RV_EPERM, "permission denied: only root or revived's user may kill or restart services");
        return;
    }
    size_t off = 0;
    struct service *svc = find_named(c, m, &off);
    if (!svc)
        return;
    char why[256];
    int rc = m->hdr.type == RV_T_KILL ? service_kill(svc, (int)m->hdr.op, why, sizeof why)
                                      : service_restart(svc, why, sizeof why);
    if (rc < 0)
        conn_reply_error(c, rc, why);
    else
        conn_reply_ok(c);
}

/* Payload: the name and nothing else. */
static const char *take_ds_name(struct conn *c, const struct rv_msg *m)
{
    size_t off = 0;
    const char *name = take_name(c, m, &off);
    if (name && off != m->hdr.len) {
        char why[96];
        snprintf(why, sizeof why, "malformed request: %zu bytes after the name", (size_t)m->hdr.len - off);
        conn_reply_error(c, RV_EPROTO, why);
        return NULL;
    }
    return name;
}

/* A malformed one's descriptors are closed before the refusal is sent, as
 * dataspace_provide does: whoever reads a refusal may rely on revived
 * holding none of them. */
static void on_ds_provide(struct conn *c, struct rv_msg *m)
{
    size_t off = 0;
    const char *name = take_string(m, &off, RV_NAME_MAX);
    if (!name || off != m->hdr.len) {
        rv__msg_close_fds(m);
        conn_reply_error(c, RV_EPROTO, "malformed request: the payload must be a name of at most 63 bytes "
                         "and its NUL");
        return;
    }
    dataspace_provide(c, name, m->hdr.op, m->fds, m->nfds);
    m->nfds = 0;
}

static void on_ds_attach(struct conn *c, const struct rv_msg *m)
{
    const char *name = take_ds_name(c, m);
    if (name)
        dataspace_attach(c, name, m->hdr.op);
}

/* A shared session's client closes it here (its channel stays open for
 * the others). Only its own user may: revived's ids are no secret. */
static void on_close(struct conn *c, const struct rv_msg *m)
{
    struct held_session *s = NULL;
    for (size_t i = 0; i < services_count() && !s; i++)
        s = service_session(service_at(i), m->hdr.seq);
    uid_t uid, owner;
    gid_t gid;
    conn_cred(c, &uid, &gid);
    if (s && s->chan)
        conn_cred(s->chan->opener, &owner, &gid);
    if (!s || !s->chan || s->state != SESS_BOUND || owner != uid) {
        conn_reply_error(c, RV_EINVAL, "no such session on a shared channel of yours");
        return;
    }
    s->on_hangup(s);
    conn_reply_ok(c);
}

static void dispatch(struct conn *c, struct rv_msg *m)
{
    if (m->hdr.type == RV_T_DS_PROVIDE) {   /* the one request that carries descriptors */
        on_ds_provide(c, m);
        return;
    }
    if (m->nfds) {
        rv__msg_close_fds(m);
        conn_reply_error(c, RV_EPROTO, "unexpected descriptors in a request");
        return;
    }
    switch (m->hdr.type) {
    case RV_T_DS_ATTACH: on_ds_attach(c, m); break;
    case RV_T_OPEN: on_open(c, m); break;
    case RV_T_CLOSE: on_close(c, m); break;
    case RV_T_STATUS: on_status(c); break;
    case RV_T_KILL:
    case RV_T_RESTART: on_kill_or_restart(c, m); break;
    default: {
        char why[64];
        snprintf(why, sizeof why, "unknown request type %u", m->hdr.type);
        conn_reply_error(c, RV_EPROTO, why);
    }
    }
}

/* A reply that fails closes c (conn.h), and closing drops the reference
 * the connection holds on itself: the one taken here keeps c valid until
 * the handler is done with it. */
void control_dispatch(struct conn *c, struct rv_msg *m)
{
    conn_get(c);
    dispatch(c, m);
    conn_put(c);
}

/* Reads and dispatches one request; the loop calls again for the next. */
static void on_conn_event(struct conn *c, uint32_t events)
{
    if (!(events & EPOLLIN)) {
        conn_close(c);
        return;
    }
    int r = rv__wire_recv(conn_fd(c), &msg, RV_WIRE_MAX_BODY, MSG_DONTWAIT);
    if (r == -EAGAIN)
        return;
    conn_heard(c);
    if (r == -EPROTO) {
        rv_info("task %d: malformed message rejected", (int)conn_pid(c));
        conn_reply_error(c, RV_EPROTO, "malformed message: bad magic, version or length");
        return;
    }
    if (r <= 0) {
        conn_close(c);
        return;
    }
    control_dispatch(c, &msg);
}

static void accept_one(int fd)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
        rv_warn("refusing a connection: %s", strerror(errno));
        close(fd);
        return;
    }
    conn_new(fd, cred.pid, cred.uid, cred.gid, on_conn_event);
}

/* SO_PEERCRED would name revived itself, which made the socketpair. */
struct conn *control_adopt(int fd, pid_t pid, const struct rv_task_conf *ns)
{
    struct conn *c = conn_new(fd, pid, getuid(), getgid(), on_conn_event);
    if (!c)
        return NULL;
    conn_heard(c);   /* a task of revived's own is never idle */
    conn_set_ns(c, ns);
    return conn_get(c);
}

/* Out of descriptors, the pending connection is accepted with a spare
 * descriptor and closed at once: left in the backlog, it would wake the
 * level-triggered loop again and again. If even that fails, revived stops
 * listening for a moment instead of spinning. Logged at most once a second. */
static void on_listen(struct rv_handler *h, uint32_t events);
static struct rv_handler listen_h = { on_listen };
static void on_listen_pause(struct rv_handler *h, uint32_t events);
static struct rv_handler pause_h = { on_listen_pause };
static int pause_tfd = -1;

#define LISTEN_PAUSE_MS 100

static void on_listen_pause(struct rv_handler *h, uint32_t events)
{
    (void)h;
    (void)events;
    timer_drain(pause_tfd);
    loop_add(listen_fd, EPOLLIN, &listen_h);
}

static void refuse_one(int err)
{
    static time_t last_log;
    time_t now = time(NULL);
    if (now != last_log) {
        rv_warn("refusing connections: %s (revived holds too many sessions or connections)", strerror(err));
        last_log = now;
    }
    if (reserve_refuse(listen_fd) == 0)
        return;
    loop_del(listen_fd);
    timer_arm(pause_tfd, LISTEN_PAUSE_MS, 0);
}

static void on_listen(struct rv_handler *h, uint32_t events)
{
    (void)h;
    (void)events;
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd >= 0) {
            accept_one(fd);
            continue;
        }
        if (errno == EMFILE || errno == ENFILE)
            refuse_one(errno);
        return;   /* one refusal per wake-up: the loop gets to its other events */
    }
}

/* The socket's directory must exist, with one exception: revive's own
 * runtime directory ($XDG_RUNTIME_DIR/revive, else /run/revive), which
 * revived creates (not its parents). A typo in --socket never leaves a
 * trail of directories behind. */
static int check_parent_dir(const char *path, char *why, size_t whylen)
{
    char dir[sizeof sock_path], own[sizeof sock_path];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    if (strcmp(dir, rv_runtime_dir(own, sizeof own)) == 0 && mkdir(dir, 0755) < 0 && errno != EEXIST) {
        snprintf(why, whylen, "cannot create revive's runtime directory %s: %s", dir, strerror(errno));
        return -1;
    }
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        snprintf(why, whylen, "cannot listen on %s: %s is not a directory%s", path, dir,
                 errno == ENOENT ? " (it does not exist; revived creates no directory but revive's own)" : "");
        return -1;
    }
    return 0;
}

/* A socket file may be left by a revived that died; one that still answers
 * belongs to a live revived, and taking it over would strand its clients. */
static int claim_path(const struct sockaddr_un *sa, char *why, size_t whylen)
{
    int probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    int live = probe >= 0 && connect(probe, (const struct sockaddr *)sa, sizeof *sa) == 0;
    if (probe >= 0)
        close(probe);
    if (live) {
        snprintf(why, whylen, "another revived is already listening on %s", sa->sun_path);
        return -1;
    }
    unlink(sa->sun_path);
    return 0;
}

/* Who may connect at all: the socket file's mode and group. The gate per
 * service is `users` (access.c); this one is coarser, and the kernel's. */
static int set_socket_access(const char *path, unsigned mode, gid_t group)
{
    if (group != (gid_t)-1 && chown(path, (uid_t)-1, group) < 0)
        return -1;
    return chmod(path, mode);
}

int control_init(const char *path, unsigned mode, gid_t group, char *why, size_t whylen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path) {
        snprintf(why, whylen, "socket path too long (max %zu bytes): %s", sizeof sa.sun_path - 1, path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    if (check_parent_dir(path, why, whylen) < 0 || claim_path(&sa, why, whylen) < 0)
        return -1;
    listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    pause_tfd = timer_new();
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        set_socket_access(path, mode, group) < 0 || listen(listen_fd, 128) < 0 || loop_add(listen_fd, EPOLLIN, &listen_h) < 0 ||
        pause_tfd < 0 || loop_add(pause_tfd, EPOLLIN, &pause_h) < 0) {
        snprintf(why, whylen, "cannot listen on %s: %s", path, strerror(errno));
        return -1;
    }
    strcpy(sock_path, path);
    return 0;
}

void control_fini(void)
{
    conn_close_all();
    if (listen_fd >= 0) {
        close(listen_fd);
        unlink(sock_path);
    }
    if (pause_tfd >= 0)
        close(pause_tfd);
    listen_fd = pause_tfd = -1;
}
