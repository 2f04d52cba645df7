/* dataspace.c — shared memory one task provides to others through revived
 * (L4ReAnimator §3.2.3), and its reanimation.
 *
 * An attach gets, from revived, the provider's memfd, its notifier
 * eventfds and a *lifeline*: a socket whose other end revived closes the
 * moment the provider goes away. The memfd and the notifiers are three
 * capabilities with one fault handler (the generic relookup) and the memfd
 * carries the unmap action and the lifeline, so the watcher can find a
 * dead provider even while nobody invokes anything.
 *
 * The unmap action does not leave a hole: it replaces the stale mapping
 * with zero pages at the same address, in one mmap(MAP_FIXED). A consumer
 * thread reading the buffer at that moment reads zeros — an empty buffer —
 * and never faults, and never again reads a byte the dead provider wrote.
 * The relookup then maps the new provider's memfd over the same range and
 * dup2()s the new notifiers and lifeline onto the old numbers. */
#include "revive/cap.h"
#include "revive/dataspace.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>
#include "cap_internal.h"
#include "conn_internal.h"
#include "wire.h"

#define MAX_NOTIFIERS 2

struct rv_dataspace {
    rv_conn *conn;
    char name[RV_NAME_MAX];
    unsigned wait_ms;
    int fd, lifeline;
    int notifiers[MAX_NOTIFIERS];
    unsigned nnotifiers;
    void *addr;
    size_t size;
};

/* What one attach brought back. */
struct grant {
    int memfd, lifeline;
    int notifiers[MAX_NOTIFIERS];
    unsigned nnotifiers;
    uint64_t size;
};

static void grant_close(struct grant *g)
{
    close(g->memfd);
    close(g->lifeline);
    for (unsigned i = 0; i < g->nnotifiers; i++)
        close(g->notifiers[i]);
}

static int take_grant(rv_conn *c, struct rv_msg *m, struct grant *g)
{
    if (m->hdr.type != RV_T_DS_OK || m->hdr.op > MAX_NOTIFIERS || m->nfds != 2 + m->hdr.op ||
        m->hdr.len != sizeof g->size)
        return rv__conn_fail(c, RV_EPROTO, "unexpected answer from revived");
    memcpy(&g->size, m->body, sizeof g->size);
    if (g->size == 0 || g->size > SIZE_MAX / 2)
        return rv__conn_fail(c, RV_EPROTO, "revived sent a dataspace of impossible size");
    g->memfd = m->fds[0];
    g->lifeline = m->fds[1];
    g->nnotifiers = m->hdr.op;
    for (unsigned i = 0; i < g->nnotifiers; i++)
        g->notifiers[i] = m->fds[2 + i];
    m->nfds = 0;
    return 0;
}

static int request_attach(rv_conn *c, const char *name, unsigned wait_ms, struct grant *g)
{
    size_t nl = strlen(name);
    if (nl == 0 || nl >= RV_NAME_MAX)
        return rv__conn_fail(c, RV_EINVAL, "dataspace name empty or too long");
    struct rv_msg *m = malloc(sizeof *m);
    if (!m)
        return RV_ENOMEM;
    struct rv_hdr h = rv__hdr_make(RV_T_DS_ATTACH, 0, wait_ms, 0, nl + 1);
    int rc = rv__conn_request(c, &h, name, NULL, 0, m);
    if (rc == 0)
        rc = take_grant(c, m, g);
    rv__msg_close_fds(m);
    free(m);
    return rc;
}

int rv_ds_provide(rv_conn *c, const char *name, int memfd, const int *notifiers, unsigned n)
{
    size_t nl = strlen(name);
    if (nl == 0 || nl >= RV_NAME_MAX || n > MAX_NOTIFIERS || memfd < 0)
        return rv__conn_fail(c, RV_EINVAL, "bad dataspace: empty or long name, too many notifiers, no memfd");
    /* revived accepts only a memfd whose size is final (see its check). */
    int seals = fcntl(memfd, F_GET_SEALS);
    if ((seals < 0 || !(seals & F_SEAL_SHRINK)) && fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0)
        return rv__conn_fail(c, RV_EINVAL, "cannot seal the memfd against resizing: create it with "
                                          "MFD_ALLOW_SEALING and its final size");
    int fds[1 + MAX_NOTIFIERS] = { memfd };
    for (unsigned i = 0; i < n; i++)
        fds[1 + i] = notifiers[i];
    struct rv_msg *m = malloc(sizeof *m);
    if (!m)
        return RV_ENOMEM;
    struct rv_hdr h = rv__hdr_make(RV_T_DS_PROVIDE, 0, n, 0, nl + 1);
    int rc = rv__conn_request(c, &h, name, fds, 1 + n, m);
    if (rc == 0 && m->hdr.type != RV_T_OK)
        rc = rv__conn_fail(c, RV_EPROTO, "unexpected answer from revived");
    rv__msg_close_fds(m);
    free(m);
    return rc;
}

/* Maps the grant over ds->addr (or anywhere, the first time). */
static int map_grant(rv_dataspace *ds, const struct grant *g)
{
    if (ds->addr && g->size != ds->size)
        return RV_EPROTO;   /* a new provider with another size cannot stand in at this address */
    void *p = mmap(ds->addr, g->size, PROT_READ | PROT_WRITE, MAP_SHARED | (ds->addr ? MAP_FIXED : 0),
                   g->memfd, 0);
    if (p == MAP_FAILED)
        return RV_ENOMEM;
    ds->addr = p;
    ds->size = g->size;
    return 0;
}

static int move_fd(int from, int to)
{
    int rc = dup3(from, to, O_CLOEXEC) < 0 ? RV_EIO : 0;
    close(from);
    return rc;
}

/* The new objects take over the old descriptor numbers. */
static int install_grant(rv_dataspace *ds, struct grant *g)
{
    if (g->nnotifiers != ds->nnotifiers) {
        grant_close(g);
        return RV_EPROTO;
    }
    int rc = map_grant(ds, g);
    if (rc) {
        grant_close(g);
        return rc;
    }
    /* every move closes its source, so none may be skipped */
    rc = move_fd(g->memfd, ds->fd);
    rc = move_fd(g->lifeline, ds->lifeline) ? RV_EIO : rc;
    for (unsigned i = 0; i < g->nnotifiers; i++)
        rc = move_fd(g->notifiers[i], ds->notifiers[i]) ? RV_EIO : rc;
    return rc;
}

static void zero_mapping(int fd, void *arg)
{
    (void)fd;
    rv_dataspace *ds = arg;
    mmap(ds->addr, ds->size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

int rv_cap_relookup(int fd, int err)
{
    (void)err;
    rv_dataspace *ds = rv__cap_owner(fd);
    if (!ds)
        return RV_EINVAL;
    struct grant g;
    int rc = request_attach(ds->conn, ds->name, ds->wait_ms, &g);
    if (rc == 0)
        rc = install_grant(ds, &g);
    if (rc == 0) {   /* the siblings are repaired with it */
        for (unsigned i = 0; i < ds->nnotifiers; i++)
            if (ds->notifiers[i] != fd)
                rv__cap_repaired(ds->notifiers[i]);
        if (ds->fd != fd)
            rv__cap_repaired(ds->fd);
    }
    return rc;
}

static int generic_relookup(int fd, int err, void *arg)
{
    (void)arg;
    return rv_cap_relookup(fd, err);
}

static int register_all(rv_dataspace *ds)
{
    int rc = rv__cap_add(ds->fd, RV_CAP_DATASPACE, ds->name, NULL, ds->lifeline, generic_relookup, ds);
    rc = rc ? rc : rv_cap_set_unmap(ds->fd, zero_mapping, ds);
    for (unsigned i = 0; i < ds->nnotifiers && rc == 0; i++)
        rc = rv__cap_add(ds->notifiers[i], RV_CAP_NOTIFIER, ds->name, NULL, -1, generic_relookup, ds);
    if (rc == 0 && rv__cap_enabled())
        rc = rv_cap_watch(ds->fd, true);
    return rc;
}

static void unregister_all(rv_dataspace *ds)
{
    rv_cap_unregister(ds->fd);
    for (unsigned i = 0; i < ds->nnotifiers; i++)
        rv_cap_unregister(ds->notifiers[i]);
}

int rv_ds_attach(rv_conn *c, const char *name, unsigned wait_ms, rv_dataspace **out)
{
    rv_dataspace *ds = calloc(1, sizeof *ds);
    if (!ds)
        return RV_ENOMEM;
    struct grant g;
    int rc = request_attach(c, name, wait_ms, &g);
    if (rc == 0 && (rc = map_grant(ds, &g)) != 0)
        grant_close(&g);
    if (rc) {
        free(ds);
        return rc;
    }
    snprintf(ds->name, sizeof ds->name, "%s", name);
    ds->conn = rv__conn_get(c);
    ds->wait_ms = wait_ms;
    ds->fd = g.memfd;
    ds->lifeline = g.lifeline;
    ds->nnotifiers = g.nnotifiers;
    memcpy(ds->notifiers, g.notifiers, sizeof g.notifiers);
    if ((rc = register_all(ds)) != 0) {
        rv_ds_detach(ds);
        return rc;
    }
    *out = ds;
    return 0;
}

void *rv_ds_addr(const rv_dataspace *ds) { return ds->addr; }
size_t rv_ds_size(const rv_dataspace *ds) { return ds->size; }
int rv_ds_fd(const rv_dataspace *ds) { return ds->fd; }
int rv_ds_notifier(const rv_dataspace *ds, unsigned i) { return i < ds->nnotifiers ? ds->notifiers[i] : -1; }

/* The lifeline says the provider is gone: raise the fault, unless it was
 * already repaired since `seen`. */
static int lifeline_fault(rv_dataspace *ds, unsigned seen)
{
    int rc = rv_cap_fault(ds->fd, RV_EREVOKED, seen);
    return rc ? rc : RV_EREVOKED;
}

static bool lifeline_dead(const rv_dataspace *ds)
{
    struct pollfd p = { .fd = ds->lifeline, .events = POLLIN };
    return poll(&p, 1, 0) == 1;
}

int rv_ds_notify(rv_dataspace *ds, unsigned i)
{
    if (i >= ds->nnotifiers)
        return RV_EINVAL;
    unsigned seen = rv__cap_generation(ds->fd);
    if (lifeline_dead(ds))
        return lifeline_fault(ds, seen);
    uint64_t one = 1;
    return write(ds->notifiers[i], &one, sizeof one) == sizeof one ? 0 : RV_EIO;
}

long rv_ds_wait(rv_dataspace *ds, unsigned i, int timeout_ms)
{
    if (i >= ds->nnotifiers)
        return RV_EINVAL;
    unsigned seen = rv__cap_generation(ds->fd);
    struct pollfd p[2] = { { .fd = ds->notifiers[i], .events = POLLIN }, { .fd = ds->lifeline, .events = POLLIN } };
    int n;
    while ((n = poll(p, 2, timeout_ms)) < 0 && errno == EINTR)
        ;
    if (n < 0)
        return RV_EIO;
    if (n == 0)
        return 0;
    if (p[1].revents || rv__cap_generation(ds->fd) != seen)
        return lifeline_fault(ds, seen);
    uint64_t count;
    if (read(ds->notifiers[i], &count, sizeof count) != sizeof count)
        return errno == EAGAIN ? 0 : RV_EIO;
    return (long)count;
}

void rv_ds_detach(rv_dataspace *ds)
{
    if (!ds)
        return;
    unregister_all(ds);
    if (ds->addr)
        munmap(ds->addr, ds->size);
    close(ds->fd);
    close(ds->lifeline);
    for (unsigned i = 0; i < ds->nnotifiers; i++)
        close(ds->notifiers[i]);
    rv__conn_put(ds->conn);
    free(ds);
}
