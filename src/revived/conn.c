/* conn.c — see conn.h.
 *
 * A connection that has not sent a byte yet sits on the `silent` list, in
 * the order connections came: one timer, armed for the oldest, closes those
 * that stay silent for [revived] idle_timeout. Idle connections would
 * otherwise cost a descriptor each for as long as their owner likes. */
#include "conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "account.h"
#include "list.h"
#include "log.h"
#include "loop.h"
#include "util.h"

struct conn {
    struct rv_handler h;
    void (*on_event)(struct conn *c, uint32_t events);
    int fd;
    unsigned refs;
    struct account *account;
    pid_t pid;
    uid_t uid;
    gid_t gid;
    gid_t *groups;                   /* supplementary groups, as the kernel said */
    size_t ngroups;
    const struct rv_task_conf *ns;   /* a loaded task's name space; NULL: identity */
    bool silent;                     /* nothing received yet: on the silent list */
    uint64_t silent_until_ns;
    struct conn *next, *prev;
    struct conn *silent_next, *silent_prev;
};

static struct conn *conns;   /* open connections, closed at shutdown */
static struct conn *silent_head, *silent_tail;
static int silence_tfd = -1;
static uint64_t idle_timeout_ms = 10000;
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
    account_put(c->account);
    free(c->groups);
    free(c);
}

int conn_fd(const struct conn *c) { return c->fd; }
struct account *conn_account(const struct conn *c) { return c->account; }
const struct rv_task_conf *conn_ns(const struct conn *c) { return c->ns; }
pid_t conn_pid(const struct conn *c) { return c->pid; }
bool conn_privileged(const struct conn *c) { return account_privileged(c->account); }

void conn_cred(const struct conn *c, uid_t *uid, gid_t *gid)
{
    *uid = c->uid;
    *gid = c->gid;
}

bool conn_in_group(const struct conn *c, gid_t gid)
{
    if (c->gid == gid)
        return true;
    for (size_t i = 0; i < c->ngroups; i++)
        if (c->groups[i] == gid)
            return true;
    return false;
}

/* ------------------------------------------------------------ silence */

static void silent_unlink(struct conn *c)
{
    if (!c->silent)
        return;
    c->silent = false;
    *(c->silent_prev ? &c->silent_prev->silent_next : &silent_head) = c->silent_next;
    *(c->silent_next ? &c->silent_next->silent_prev : &silent_tail) = c->silent_prev;
}

static void arm_for_oldest(void)
{
    if (!silent_head) {
        timer_arm(silence_tfd, 0, 0);
        return;
    }
    uint64_t now = rv__now_ns(), due = silent_head->silent_until_ns;
    timer_arm(silence_tfd, due > now ? (due - now + 999999) / 1000000 : 1, 0);
}

static void on_silence(struct rv_handler *h, uint32_t events)
{
    (void)h;
    (void)events;
    timer_drain(silence_tfd);
    uint64_t now = rv__now_ns();
    while (silent_head && silent_head->silent_until_ns <= now) {
        struct conn *c = silent_head;
        char b;
        if (recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0) {
            silent_unlink(c);   /* it spoke just now: the loop reads it next; closed, the request would be lost */
            continue;
        }
        rv_info("closing a connection of user %u (pid %d): it sent nothing for %llu ms ([revived] idle_timeout)",
                (unsigned)c->uid, (int)c->pid, (unsigned long long)idle_timeout_ms);
        conn_close(c);
    }
    arm_for_oldest();
}

static struct rv_handler silence_h = { on_silence };

int conn_init(uint64_t idle_ms)
{
    idle_timeout_ms = idle_ms;
    if (idle_ms == 0)
        return 0;   /* idle_timeout = 0: connections may stay silent */
    silence_tfd = timer_new();
    return silence_tfd < 0 ? -1 : loop_add(silence_tfd, EPOLLIN, &silence_h);
}

void conn_heard(struct conn *c)
{
    if (!c->silent)
        return;
    bool oldest = c == silent_head;
    silent_unlink(c);
    if (oldest)
        arm_for_oldest();
}

static void silent_push(struct conn *c)
{
    if (silence_tfd < 0)
        return;
    c->silent = true;
    c->silent_until_ns = rv__now_ns() + idle_timeout_ms * 1000000;
    c->silent_prev = silent_tail;
    c->silent_next = NULL;
    *(silent_tail ? &silent_tail->silent_next : &silent_head) = c;
    silent_tail = c;
    if (c == silent_head)
        arm_for_oldest();
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
    silent_unlink(c);
    account_uncharge_connection(c->account);
    RV_LIST_UNLINK(conns, c);
    conn_put(c);
}

void conn_close_all(void)
{
    while (conns)
        conn_close(conns);
    if (silence_tfd >= 0)
        close(silence_tfd);
    silence_tfd = -1;
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

static void on_conn_event(struct rv_handler *h, uint32_t events)
{
    struct conn *c = (struct conn *)h;
    c->on_event(c, events);
}

/* Refused for a limit: the reason goes out first, so the client's library
 * can tell its user why (it reads it after its own send fails). */
static void refuse(int fd, const char *why)
{
    rv_info("refusing a connection: %s", why);
    struct rv_hdr h = rv__hdr_make(RV_T_ERROR, 0, 0, RV_EQUOTA, strlen(why));
    rv__wire_send(fd, &h, why, NULL, 0, MSG_DONTWAIT);
    close(fd);
}

/* The peer's supplementary groups (SO_PEERGROUPS), for `users = @group`. */
static void read_groups(struct conn *c)
{
    socklen_t len = 0;
    if (getsockopt(c->fd, SOL_SOCKET, SO_PEERGROUPS, NULL, &len) < 0 && errno != ERANGE)
        return;
    if (len == 0 || !(c->groups = malloc(len)))
        return;
    if (getsockopt(c->fd, SOL_SOCKET, SO_PEERGROUPS, c->groups, &len) < 0) {
        free(c->groups);
        c->groups = NULL;
        return;
    }
    c->ngroups = len / sizeof(gid_t);
}

struct conn *conn_new(int fd, pid_t pid, uid_t uid, gid_t gid, void (*on_event)(struct conn *c, uint32_t events))
{
    char why[256];
    struct account *a = account_get(uid);
    struct conn *c = a ? calloc(1, sizeof *c) : NULL;
    if (!c) {
        rv_warn("refusing a connection: out of memory");
        if (a)
            account_put(a);
        close(fd);
        return NULL;
    }
    if (account_charge_connection(a, why, sizeof why) < 0) {
        account_put(a);
        free(c);
        refuse(fd, why);
        return NULL;
    }
    *c = (struct conn){ .h = { on_conn_event }, .on_event = on_event, .fd = fd, .refs = 1, .account = a,
                        .pid = pid, .uid = uid, .gid = gid };
    read_groups(c);
    RV_LIST_PUSH(conns, c);
    silent_push(c);
    if (loop_add(fd, EPOLLIN, &c->h) < 0) {
        conn_close(c);
        return NULL;
    }
    return c;
}
