/* dataspace.c — the dataspaces revived holds, their lifelines, and the
 * attaches waiting for a provider; see dataspace.h.
 *
 * Everything a provider sends is checked before revived keeps it: the
 * descriptor count against the notifier count, the memfd (a memfd, opened
 * read-write, of a size within bounds: consumers map it shared read-write
 * and trust its size), each notifier (an eventfd). revived never maps a
 * dataspace itself, so a provider cannot make revived fault through it.
 *
 * Lifelines are polled for hang-up only (EPOLLRDHUP, never EPOLLIN): a
 * consumer that writes into its end cannot make the level-triggered loop
 * spin, and revived never reads what it wrote.
 *
 * Waiting attaches share one timerfd, armed for the earliest deadline, so a
 * waiting attach costs revived memory but no descriptor.
 *
 * Any reply can fail and close its connection (control.c closes a client
 * that does not read), which withdraws what that connection provides and
 * drops its waiting attaches. So nothing here walks a list, or touches a
 * dataspace, across a reply: waiting attaches are taken off the list before
 * they are answered, and dataspaces are looked up again by name. */
#include "dataspace.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "account.h"
#include "conn.h"
#include "log.h"
#include "list.h"
#include "loop.h"
#include "namespace.h"
#include "util.h"
#include "wire.h"

#define DS_SIZE_MAX (UINT64_C(1) << 30)  /* a frame buffer, not a disk */
#define DS_MAX 1024                      /* dataspaces of unprivileged users */
#define DS_MAX_ATTACHED 1024             /* lifelines per dataspace: each is a descriptor */
#define DS_MAX_PENDING 1024              /* attaches of unprivileged users waiting */
#define SCOPE_TRUSTED ((uid_t)-1)        /* root's and revived's own user's names */

struct dataspace;

struct lifeline {
    struct rv_handler h;
    int fd;                         /* revived's end */
    struct dataspace *ds;
    struct account *consumer;       /* charged for fd */
    struct lifeline *next, *prev;
};

struct dataspace {
    char name[RV_NAME_MAX];         /* resolved */
    uid_t scope;
    struct conn *provider;          /* holds a reference */
    int memfd;
    uint64_t size;
    int notifiers[DS_MAX_NOTIFIERS];
    unsigned nnotifiers;
    struct lifeline *lifelines;
    unsigned nlifelines;
    struct dataspace *next, *prev;
};

struct pending {
    struct conn *c;                 /* holds a reference */
    char name[RV_NAME_MAX];         /* resolved */
    uid_t scope;
    char asked[RV_NAME_MAX];        /* as the client wrote it, for its error */
    uint32_t wait_ms;
    uint64_t deadline_ns;
    struct pending *next, *prev;
};

static struct dataspace *spaces;
static unsigned nshared;            /* of unprivileged users, against DS_MAX */
static struct pending *pendings;
static unsigned npending;
static int timer_fd = -1;

static void close_all(int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

static uid_t scope_of(const struct conn *c)
{
    uid_t uid;
    gid_t gid;
    conn_cred(c, &uid, &gid);
    return conn_privileged(c) ? SCOPE_TRUSTED : uid;
}

static struct dataspace *find_in(const char *name, uid_t scope)
{
    for (struct dataspace *ds = spaces; ds; ds = ds->next)
        if (ds->scope == scope && strcmp(ds->name, name) == 0)
            return ds;
    return NULL;
}

/* What a consumer of `scope` attaches to: its own, else a trusted one. */
static struct dataspace *find_for(const char *name, uid_t scope)
{
    struct dataspace *ds = find_in(name, scope);
    return ds || scope == SCOPE_TRUSTED ? ds : find_in(name, SCOPE_TRUSTED);
}

/* ---------------------------------------------------------- lifelines */

static void lifeline_drop(struct lifeline *l)
{
    loop_del(l->fd);
    close(l->fd);
    account_uncharge(l->consumer, 1, 0);
    account_put(l->consumer);
    RV_LIST_UNLINK(l->ds->lifelines, l);
    l->ds->nlifelines--;
    free(l);
}

/* The consumer closed its end (it detached, or died). */
static void on_lifeline(struct rv_handler *h, uint32_t events)
{
    (void)events;
    struct lifeline *l = (struct lifeline *)h;
    rv_debug("dataspace '%s': a consumer hung up its lifeline", l->ds->name);
    lifeline_drop(l);
}

/* A fresh socketpair: revived keeps one end, *peer goes to the consumer,
 * whose account has been charged for it. */
static int lifeline_new(struct dataspace *ds, struct account *consumer, int *peer)
{
    int sv[2];
    struct lifeline *l = calloc(1, sizeof *l);
    if (!l || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        free(l);
        return -1;
    }
    *l = (struct lifeline){ .h = { on_lifeline }, .fd = sv[0], .ds = ds, .consumer = account_ref(consumer) };
    if (loop_add(sv[0], EPOLLRDHUP, &l->h) < 0) {
        close_all(sv, 2);
        account_put(consumer);
        free(l);
        return -1;
    }
    RV_LIST_PUSH(ds->lifelines, l);
    ds->nlifelines++;
    *peer = sv[1];
    return 0;
}

/* ------------------------------------------------------------ answers */

/* Why a request is refused. A provide's refusal is sent only after its
 * descriptors are closed: a client that reads it may rely on revived
 * holding none of them; so the reason is kept until then. */
struct verdict {
    int32_t status;
    char why[256];
};

static int vdeny(struct verdict *v, int32_t status, const char *fmt, va_list ap)
{
    vsnprintf(v->why, sizeof v->why, fmt, ap);
    v->status = status;
    return -1;
}

/* Records a refusal; returns -1. */
static int deny(struct verdict *v, int32_t status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int deny(struct verdict *v, int32_t status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdeny(v, status, fmt, ap);
    va_end(ap);
    return -1;
}

/* Sends a refusal at once. */
static void refuse(struct conn *c, int32_t status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void refuse(struct conn *c, int32_t status, const char *fmt, ...)
{
    struct verdict v;
    va_list ap;
    va_start(ap, fmt);
    vdeny(&v, status, fmt, ap);
    va_end(ap);
    conn_reply_error(c, v.status, v.why);
}

/* DS_OK: op = notifiers, payload the size; memfd, lifeline, notifiers.
 * ds may be gone once this returns. */
static void answer_attach(struct conn *c, struct dataspace *ds, const char *asked)
{
    if (ds->nlifelines >= DS_MAX_ATTACHED) {
        refuse(c, RV_EBUSY, "dataspace '%s' has %d attachments already", asked, DS_MAX_ATTACHED);
        return;
    }
    int fds[2 + DS_MAX_NOTIFIERS];
    char what[RV_NAME_MAX + 32], why[256];
    snprintf(what, sizeof what, "an attachment of '%s'", asked);
    if (account_charge(conn_account(c), 1, 0, what, why, sizeof why) < 0) {
        conn_reply_error(c, RV_EQUOTA, why);
        return;
    }
    if (lifeline_new(ds, conn_account(c), &fds[1]) < 0) {
        account_uncharge(conn_account(c), 1, 0);
        refuse(c, RV_ENOMEM, "cannot attach dataspace '%s': %s", asked, strerror(errno));
        return;
    }
    fds[0] = ds->memfd;
    memcpy(fds + 2, ds->notifiers, ds->nnotifiers * sizeof *fds);
    uint64_t size = ds->size;
    struct rv_hdr h = rv__hdr_make(RV_T_DS_OK, 0, ds->nnotifiers, 0, sizeof size);
    conn_reply(c, &h, &size, fds, 2 + ds->nnotifiers);
    close(fds[1]);   /* sent, or the consumer is gone: then our end sees the hang-up */
}

/* ------------------------------------------------------ waiting attaches */

/* Arms the timer for the earliest deadline (never 0 ms: that disarms). */
static void rearm(void)
{
    uint64_t first = UINT64_MAX, now = rv__now_ns();
    for (struct pending *p = pendings; p; p = p->next)
        if (p->deadline_ns < first)
            first = p->deadline_ns;
    if (first == UINT64_MAX) {
        timer_arm(timer_fd, 0, 0);
        return;
    }
    uint64_t ms = first > now ? (first - now + 999999) / 1000000 : 1;
    timer_arm(timer_fd, ms ? ms : 1, 0);
}

/* Moves the waiting attaches `match` picks to a list of their own, so they
 * can be answered safely (see the top of the file). */
static struct pending *take(bool (*match)(const struct pending *p, const void *arg), const void *arg)
{
    struct pending *taken = NULL;
    for (struct pending *p = pendings, *next; p; p = next) {
        next = p->next;
        if (!match(p, arg))
            continue;
        RV_LIST_UNLINK(pendings, p);
        npending--;
        RV_LIST_PUSH(taken, p);
    }
    return taken;
}

/* Frees a taken one. */
static struct pending *release(struct pending *p)
{
    struct pending *next = p->next;
    conn_put(p->c);
    free(p);
    return next;
}

static bool expired(const struct pending *p, const void *now)
{
    return p->deadline_ns <= *(const uint64_t *)now;
}

static void on_timer(struct rv_handler *h, uint32_t events)
{
    (void)h;
    (void)events;
    timer_drain(timer_fd);
    uint64_t now = rv__now_ns();
    for (struct pending *p = take(expired, &now); p;) {
        refuse(p->c, RV_ENOSVC, "no dataspace '%s' (waited %" PRIu32 " ms)", p->asked, p->wait_ms);
        p = release(p);
    }
    rearm();
}

static struct rv_handler timer_h = { on_timer };

static void wait_for_provider(struct conn *c, const char *name, const char *asked, uint32_t wait_ms)
{
    if (!conn_privileged(c) && npending >= DS_MAX_PENDING) {
        refuse(c, RV_EBUSY, "no dataspace '%s', and %d attaches wait already", asked, DS_MAX_PENDING);
        return;
    }
    struct pending *p = calloc(1, sizeof *p);
    if (!p) {
        refuse(c, RV_ENOMEM, "cannot wait for dataspace '%s': out of memory", asked);
        return;
    }
    *p = (struct pending){ .c = conn_get(c), .scope = scope_of(c), .wait_ms = wait_ms,
                           .deadline_ns = rv__now_ns() + wait_ms * UINT64_C(1000000) };
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->asked, sizeof p->asked, "%s", asked);
    RV_LIST_PUSH(pendings, p);
    npending++;
    rearm();
}

struct scoped_name {
    const char *name;
    uid_t scope;
};

static bool waits_for(const struct pending *p, const void *arg)
{
    const struct scoped_name *n = arg;
    return strcmp(p->name, n->name) == 0 && (p->scope == n->scope || n->scope == SCOPE_TRUSTED);
}

/* A provider appeared: every attach waiting for its name, in a scope that
 * sees it, is answered. If the provider vanishes meanwhile (a failed reply
 * closed it), the rest go back to waiting. */
static void answer_waiting(const char *name, uid_t scope)
{
    struct scoped_name n = { name, scope };
    struct pending *p = take(waits_for, &n);
    for (struct dataspace *ds; p && (ds = find_in(name, scope));) {
        answer_attach(p->c, ds, p->asked);
        p = release(p);
    }
    for (struct pending *next; p; p = next) {
        next = p->next;
        RV_LIST_PUSH(pendings, p);
        npending++;
    }
    rearm();
}

/* -------------------------------------------------------- validation */

/* What /proc says the descriptor is: "/memfd:NAME (deleted)",
 * "anon_inode:[eventfd]", ... */
static void fd_target(int fd, char *buf, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, buf, len - 1);
    buf[n < 0 ? 0 : n] = '\0';
}

static int check_memfd(struct verdict *v, const char *asked, int fd, uint64_t *size)
{
    char target[128];
    struct stat st;
    fd_target(fd, target, sizeof target);
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || strncmp(target, "/memfd:", 7) != 0)
        return deny(v, RV_EINVAL, "dataspace '%s': the first descriptor is not a memfd (it is %s)", asked,
                    *target ? target : "unknown");
    if ((fcntl(fd, F_GETFL) & O_ACCMODE) != O_RDWR)
        return deny(v, RV_EINVAL, "dataspace '%s': the memfd is not open for reading and writing", asked);
    /* Unsealed, a provider could shrink it under its consumers' mappings
     * and kill them with SIGBUS: the size a consumer maps must be final. */
    int seals = fcntl(fd, F_GET_SEALS);
    if (seals < 0 || !(seals & F_SEAL_SHRINK))
        return deny(v, RV_EINVAL, "dataspace '%s': the memfd is not sealed against shrinking (F_SEAL_SHRINK)", asked);
    if (st.st_size <= 0 || (uint64_t)st.st_size > DS_SIZE_MAX)
        return deny(v, RV_EINVAL, "dataspace '%s': the memfd has %lld bytes; it must have 1 to %" PRIu64, asked,
                    (long long)st.st_size, DS_SIZE_MAX);
    *size = (uint64_t)st.st_size;
    return 0;
}

static int check_notifier(struct verdict *v, const char *asked, int fd, unsigned i)
{
    char target[128];
    fd_target(fd, target, sizeof target);
    if (strcmp(target, "anon_inode:[eventfd]") == 0)
        return 0;
    return deny(v, RV_EINVAL, "dataspace '%s': notifier %u is not an eventfd (it is %s)", asked, i,
                *target ? target : "unknown");
}

/* The counts, then each descriptor; *size is the memfd's. */
static int check_provide(struct verdict *v, const char *asked, uint32_t notifiers, const int *fds, size_t nfds,
                         uint64_t *size)
{
    if (notifiers > DS_MAX_NOTIFIERS)
        return deny(v, RV_EINVAL, "dataspace '%s': %" PRIu32 " notifiers; at most %d are allowed", asked,
                    notifiers, DS_MAX_NOTIFIERS);
    if (nfds != 1 + notifiers)
        return deny(v, RV_EINVAL, "dataspace '%s': %" PRIu32 " notifiers need %" PRIu32 " descriptors (the "
                    "memfd, then the notifiers), got %zu", asked, notifiers, 1 + notifiers, nfds);
    if (check_memfd(v, asked, fds[0], size) < 0)
        return -1;
    for (unsigned i = 0; i < notifiers; i++)
        if (check_notifier(v, asked, fds[1 + i], i) < 0)
            return -1;
    return 0;
}

/* ------------------------------------------------------------ provide */

/* The name must be free in the provider's own scope; other users' names
 * are none of its business. */
static int check_free(struct verdict *v, const struct conn *c, const char *name, const char *asked)
{
    const struct dataspace *ds = find_in(name, scope_of(c));
    if (ds)
        return deny(v, RV_EBUSY, "dataspace '%s' is already provided (by task %d)", asked,
                    (int)conn_pid(ds->provider));
    if (!conn_privileged(c) && nshared >= DS_MAX)
        return deny(v, RV_EBUSY, "cannot provide dataspace '%s': users other than root and revived's own "
                    "hold %d dataspaces already", asked, DS_MAX);
    return 0;
}

/* The memfd and the notifiers stay open in revived: the provider's user
 * pays for them. */
static int charge_provider(struct verdict *v, struct conn *c, const char *asked, uint32_t notifiers)
{
    char what[RV_NAME_MAX + 32];
    snprintf(what, sizeof what, "dataspace '%s'", asked);
    if (account_charge(conn_account(c), 1 + notifiers, 0, what, v->why, sizeof v->why) == 0)
        return 0;
    v->status = RV_EQUOTA;
    return -1;
}

/* Everything a provide must pass. */
static int admit(struct conn *c, const char *asked, uint32_t notifiers, const int *fds, size_t nfds,
                 char name[RV_NAME_MAX], uint64_t *size, struct verdict *v)
{
    v->status = ns_resolve(conn_ns(c), asked, NS_DATASPACE, name, v->why, sizeof v->why);
    if (v->status)
        return -1;
    return check_provide(v, asked, notifiers, fds, nfds, size) < 0 || check_free(v, c, name, asked) < 0 ||
           charge_provider(v, c, asked, notifiers) < 0 ? -1 : 0;
}

void dataspace_provide(struct conn *c, const char *asked, uint32_t notifiers, int *fds, size_t nfds)
{
    char name[RV_NAME_MAX];
    uint64_t size = 0;
    struct verdict v;
    struct dataspace *ds = NULL;
    if (admit(c, asked, notifiers, fds, nfds, name, &size, &v) == 0 && !(ds = calloc(1, sizeof *ds))) {
        account_uncharge(conn_account(c), 1 + notifiers, 0);
        deny(&v, RV_ENOMEM, "cannot provide dataspace '%s': out of memory", asked);
    }
    if (!ds) {
        close_all(fds, nfds);
        conn_reply_error(c, v.status, v.why);
        return;
    }
    *ds = (struct dataspace){ .scope = scope_of(c), .provider = conn_get(c), .memfd = fds[0], .size = size,
                              .nnotifiers = notifiers };
    snprintf(ds->name, sizeof ds->name, "%s", name);
    memcpy(ds->notifiers, fds + 1, notifiers * sizeof *fds);
    RV_LIST_PUSH(spaces, ds);
    nshared += ds->scope != SCOPE_TRUSTED;
    uid_t scope = ds->scope;
    rv_info("dataspace '%s' provided by task %d: %" PRIu64 " bytes, %" PRIu32 " notifiers", name,
            (int)conn_pid(c), size, notifiers);
    struct rv_hdr h = rv__hdr_make(RV_T_OK, 0, 0, 0, 0);
    conn_reply(c, &h, NULL, NULL, 0);   /* may withdraw ds: it is not touched again */
    answer_waiting(name, scope);
}

/* ------------------------------------------------------------- attach */

void dataspace_attach(struct conn *c, const char *asked, uint32_t wait_ms)
{
    char name[RV_NAME_MAX], why[256];
    int rc = ns_resolve(conn_ns(c), asked, NS_DATASPACE, name, why, sizeof why);
    if (rc) {
        conn_reply_error(c, rc, why);
        return;
    }
    if (wait_ms > DS_MAX_WAIT_MS)
        wait_ms = DS_MAX_WAIT_MS;
    struct dataspace *ds = find_for(name, scope_of(c));
    if (ds)
        answer_attach(c, ds, asked);
    else if (wait_ms == 0)
        refuse(c, RV_ENOSVC, "no dataspace '%s' (waited 0 ms)", asked);
    else
        wait_for_provider(c, name, asked, wait_ms);
}

/* ----------------------------------------------------------- withdraw */

/* Closing revived's end of every lifeline is what tells the consumers. */
static void withdraw(struct dataspace *ds)
{
    rv_info("dataspace '%s' withdrawn: its provider (task %d) hung up; %u consumers told", ds->name,
            (int)conn_pid(ds->provider), ds->nlifelines);
    while (ds->lifelines)
        lifeline_drop(ds->lifelines);
    close(ds->memfd);
    close_all(ds->notifiers, ds->nnotifiers);
    account_uncharge(conn_account(ds->provider), 1 + ds->nnotifiers, 0);
    conn_put(ds->provider);
    RV_LIST_UNLINK(spaces, ds);
    nshared -= ds->scope != SCOPE_TRUSTED;
    free(ds);
}

static bool waits_on(const struct pending *p, const void *c)
{
    return p->c == c;
}

/* A connection closes (conn.h's hook): what it provides is withdrawn, its
 * waiting attaches forgotten. */
static void conn_closed(struct conn *c)
{
    for (struct dataspace *ds = spaces, *next; ds; ds = next) {
        next = ds->next;
        if (ds->provider == c)
            withdraw(ds);
    }
    for (struct pending *p = take(waits_on, c); p;)
        p = release(p);
    rearm();
}

/* -------------------------------------------------------- set-up */

int dataspace_init(void)
{
    conn_on_close(conn_closed);
    timer_fd = timer_new();
    return timer_fd < 0 ? -1 : loop_add(timer_fd, EPOLLIN, &timer_h);
}

/* Connections are closed before (control_fini), which withdrew every
 * dataspace and forgot every waiting attach. */
void dataspace_fini(void)
{
    if (timer_fd >= 0) {
        loop_del(timer_fd);
        close(timer_fd);
    }
    timer_fd = -1;
}
