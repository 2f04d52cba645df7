/* fuzz_revived.c — a protocol fuzz of a live revived's public socket.
 *
 *     fuzz_revived REVIVED [SEED]
 *
 * Starts revived with its embedded manifest (services random and timer;
 * REVIVE_SERVICE_PATH must point at the built services), opens a session
 * with each, and then sends a few thousand datagrams over hundreds of short
 * connections: valid OPEN, STATUS, DS_PROVIDE (with a real memfd and
 * eventfds) and DS_ATTACH (waiting a few ms, so some wait and some find a
 * provider) requests and mutations of them and of KILL and RESTART (random
 * types, lengths, truncations, random bytes, oversized datagrams, stray or
 * wrong descriptors). Each connection either reads
 * every reply up to revived closing it, or just hangs up. A datagram whose
 * type byte says KILL or RESTART is never sent: this fuzz attacks the
 * parser, not the services.
 *
 * It then checks what a hostile client must never achieve:
 *   - revived is alive and no service was restarted;
 *   - revived's descriptor count comes back to its baseline (no leak: every
 *     dataspace a fuzz connection provided is withdrawn with it, every
 *     lifeline dropped, every waiting attach timed out);
 *   - a new session works and the session opened before the fuzz carries
 *     on exactly where it was;
 *   - revived shuts down cleanly on SIGTERM (exit 0; under ASan this
 *     includes LeakSanitizer's verdict).
 * The seed is printed; passing it back sends the same datagrams (a
 * connection revived closes early can cut a run short at a different point,
 * since that depends on timing).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "live.h"
#include "mutate.h"

#define DATAGRAMS 3000
#define MAX_PER_CONN 16
#define DATAGRAM_CAP (sizeof(struct rv_hdr) + RV_WIRE_MAX_BODY + 64)

/* Descriptors to attach: strays (/dev/null, an empty memfd, a pipe), then
 * what a provide wants (a memfd with pages, two eventfds). */
enum { STRAYS = 3, DS_MEMFD = 3, DS_NOTIFIER = 4 };
static int pool[6];

static void open_pool(void)
{
    int p[2];
    pool[0] = open("/dev/null", O_RDWR | O_CLOEXEC);
    pool[1] = memfd_create("fuzz", MFD_CLOEXEC);
    pool[DS_MEMFD] = memfd_create("fuzz-ds", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    pool[DS_NOTIFIER] = eventfd(0, EFD_CLOEXEC);
    pool[DS_NOTIFIER + 1] = eventfd(0, EFD_CLOEXEC);
    if (pool[0] < 0 || pool[1] < 0 || pool[DS_MEMFD] < 0 || pool[DS_NOTIFIER] < 0 || pool[DS_NOTIFIER + 1] < 0 ||
        ftruncate(pool[DS_MEMFD], 4096) < 0 || fcntl(pool[DS_MEMFD], F_ADD_SEALS, F_SEAL_SHRINK) < 0 ||
        pipe2(p, O_CLOEXEC) < 0)
        live_die("cannot open descriptors: %s", strerror(errno));
    pool[2] = p[1];
}

/* ------------------------------------------------------ building datagrams */

static size_t message(uint8_t *buf, uint8_t type, uint32_t op, const char *a, size_t alen,
                      const char *b, size_t blen)
{
    struct rv_hdr h = rv__hdr_make(type, 0, op, 0, alen + blen);
    memcpy(buf, &h, sizeof h);
    memcpy(buf + sizeof h, a, alen);
    memcpy(buf + sizeof h + alen, b, blen);
    return sizeof h + alen + blen;
}

/* A provide or an attach of one of a few names, so they meet. Sets *nfds
 * to the descriptors a provide needs (from pool[DS_MEMFD] on). */
static size_t dataspace_request(struct rng *r, uint8_t *buf, size_t *nfds)
{
    char name[8];
    int n = snprintf(name, sizeof name, "fz%" PRIu64, rng_below(r, 4));
    if (rng_below(r, 2))
        return message(buf, RV_T_DS_ATTACH, (uint32_t)rng_below(r, 20), name, (size_t)n + 1, "", 0);
    uint32_t notifiers = (uint32_t)rng_below(r, 3);
    *nfds = 1 + notifiers;
    return message(buf, RV_T_DS_PROVIDE, notifiers, name, (size_t)n + 1, "", 0);
}

/* Shared sessions: one, or up to 40 at once (RV_OPEN_MANY, the count in
 * seq); a connection that closes while they bind leaves them abandoned. */
static size_t shared_open(struct rng *r, uint8_t *buf)
{
    size_t len = message(buf, RV_T_OPEN, RV_OPEN_SHARED, "random", 7, "", 0);
    if (rng_below(r, 2)) {
        struct rv_hdr h = rv__hdr_make(RV_T_OPEN, 1 + rng_below(r, 40), RV_OPEN_SHARED | RV_OPEN_MANY, 0, 7);
        memcpy(buf, &h, sizeof h);
    }
    return len;
}

/* One of the requests a real client, task or revivectl sends; *nfds says
 * how many of the provide's descriptors go with it. */
static size_t valid_request(struct rng *r, uint8_t *buf, size_t *nfds)
{
    char seed[32];
    int n = snprintf(seed, sizeof seed, "seed=%" PRIu64, rng_next(r) % 1000);
    *nfds = 0;
    switch (rng_below(r, 10)) {
    case 0: return message(buf, RV_T_OPEN, 0, "random", 7, seed, (size_t)n + 1);
    case 1: return message(buf, RV_T_OPEN, 0, "timer", 6, "", 1);
    case 2: return message(buf, RV_T_OPEN, 0, "random", 7, "", 0);
    case 3: return message(buf, RV_T_OPEN, 0, "nosuch", 7, "x", 2);
    case 4: return message(buf, RV_T_STATUS, 0, "", 0, "", 0);
    case 5: return message(buf, RV_T_KILL, 9, "random", 7, "", 0);
    case 6: return message(buf, RV_T_RESTART, 0, "timer", 6, "", 0);
    case 7: return shared_open(r, buf);
    default: return dataspace_request(r, buf, nfds);
    }
}

static int kills_or_restarts(const uint8_t *buf, size_t len)
{
    return len > 3 && (buf[3] == RV_T_KILL || buf[3] == RV_T_RESTART);
}

/* A datagram to send: a valid request, mutated three times out of four,
 * never one that could kill or restart a service. */
static size_t next_datagram(struct rng *r, uint8_t *buf, size_t *nfds)
{
    for (;;) {
        size_t len = valid_request(r, buf, nfds);
        if (rng_below(r, 4))
            len = mutate(r, buf, len, DATAGRAM_CAP);
        if (!kills_or_restarts(buf, len))
            return len;
    }
}

/* -------------------------------------------------------------- the fuzz */

/* Sends one datagram: a provide with its descriptors (one time in eight
 * with strays instead), anything else one time in eight with strays.
 * Returns 0, or -1 once revived has closed the connection. */
static int send_datagram(int fd, struct rng *r, const uint8_t *buf, size_t len, size_t provide_fds)
{
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
    union {
        char buf[CMSG_SPACE(sizeof pool)];
        struct cmsghdr align;
    } ctl;
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
    bool stray = rng_below(r, 8) == 0;
    size_t nfds = stray ? 1 + rng_below(r, STRAYS) : provide_fds;
    const int *fds = stray ? pool : pool + DS_MEMFD;
    if (nfds) {
        mh.msg_control = ctl.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        *c = (struct cmsghdr){ .cmsg_len = CMSG_LEN(sizeof(int) * nfds), .cmsg_level = SOL_SOCKET,
                               .cmsg_type = SCM_RIGHTS };
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    if (sendmsg(fd, &mh, MSG_NOSIGNAL) == (ssize_t)len)
        return 0;
    if (errno == EPIPE || errno == ECONNRESET)
        return -1;
    live_die("sendmsg: %s", strerror(errno));
}

static size_t opened, attached, refused;   /* replies seen, to show how deep the fuzz got */

/* Reads replies until revived closes the connection; each must be well
 * formed. Sessions revived opened for us are closed at once. */
static void drain(int fd)
{
    static struct rv_msg m;
    int r;
    while ((r = rv__wire_recv(fd, &m, RV_WIRE_MAX_BODY, 0)) == 1) {
        opened += m.hdr.type == RV_T_OPEN_OK;
        attached += m.hdr.type == RV_T_DS_OK;
        refused += m.hdr.type == RV_T_ERROR;
        rv__msg_close_fds(&m);
    }
    if (r != 0 && r != -ECONNRESET)
        live_die("revived sent a malformed reply (rv__wire_recv: %d)", r);
}

/* One connection's worth of datagrams; returns how many were sent. */
static size_t fuzz_connection(const struct live *l, struct rng *r)
{
    static uint8_t buf[DATAGRAM_CAP];
    int fd = live_dial(l);
    size_t n = 1 + rng_below(r, MAX_PER_CONN), sent = 0;
    while (sent < n) {
        size_t nfds;
        size_t len = next_datagram(r, buf, &nfds);
        if (send_datagram(fd, r, buf, len, nfds) < 0)
            break;
        sent++;
    }
    if (rng_below(r, 2)) {
        shutdown(fd, SHUT_WR);
        drain(fd);
    }
    close(fd);
    return sent;
}

/* ------------------------------------------------------------ the checks */

/* The embedded manifest runs every service with a hot standby, started once
 * the active instance is ready: until each holds its sessions and has said
 * so, revived's descriptor count still moves (it lends its descriptor
 * reserve to a standby's filter and to the check of its sandbox), and no
 * baseline can be taken. */
static const char *const services[] = { "random", "timer", "kv" };

static int standbys_up(void *arg)
{
    int probe = *(int *)arg;
    for (size_t i = 0; i < sizeof services / sizeof services[0]; i++) {
        struct rv_wire_svc_status st = live_status(probe, services[i]);
        if (st.standby_pid <= 0 || !st.standby_ready || strcmp(st.state, "ready") != 0)
            return 0;
    }
    return 1;
}

struct settle {
    const struct live *l;
    int probe;
    size_t baseline, fds;
    struct rv_wire_svc_status random, timer;
};

static int settled(void *arg)
{
    struct settle *t = arg;
    t->random = live_status(t->probe, "random");
    t->timer = live_status(t->probe, "timer");
    t->fds = live_fd_count(t->l);
    return t->fds == t->baseline && t->random.sessions == 1 && t->timer.sessions == 1;
}

/* Waits until revived has dealt with every fuzz connection and session
 * (asking on the probe connection, which adds no descriptor). */
static void settle(const struct live *l, int probe, size_t baseline)
{
    struct settle t = { .l = l, .probe = probe, .baseline = baseline };
    if (live_poll_until(settled, &t) == 0)
        return;
    live_fd_dump(l);
    live_die("revived holds %zu descriptors (baseline %zu), random has %u sessions and timer %u "
             "(want 1 each)", t.fds, baseline, t.random.sessions, t.timer.sessions);
}

static void assert_no_restarts(int probe, const char *name)
{
    struct rv_wire_svc_status st = live_status(probe, name);
    if (st.restarts || strcmp(st.state, "ready") != 0)
        live_die("%s: state %.15s, %u restarts (last exit: %.63s)", name, st.state, st.restarts, st.last_exit);
}

/* The session opened before the fuzz (which drew first[0..1]) carries on
 * where it was, and a new one with the same seed draws the same sequence. */
static void check_still_serves(const struct live *l, rv_session *kept, const uint64_t first[2])
{
    rv_conn *c;
    if (rv_connect(l->sock, &c) != 0)
        live_die("revived accepts no new connection");
    rv_session *fresh = live_open(c, "random", "seed=1");
    uint64_t f0 = live_draw(fresh), f1 = live_draw(fresh), f2 = live_draw(fresh);
    if (f0 != first[0] || f1 != first[1])
        live_die("a new session with seed=1 draws %#" PRIx64 ", %#" PRIx64 ", want %#" PRIx64 ", %#" PRIx64,
                 f0, f1, first[0], first[1]);
    if (live_draw(kept) != f2)
        live_die("the session opened before the fuzz lost its place in the sequence");
    rv_close(fresh);
    rv_disconnect(c);
}

static void fuzz(const struct live *l, uint64_t seed)
{
    struct rng r;
    rng_seed(&r, seed);
    size_t sent = 0, conns = 0;
    for (; sent < DATAGRAMS; conns++)
        sent += fuzz_connection(l, &r);
    printf("sent %zu datagrams over %zu connections; replies read: %zu sessions opened, %zu dataspaces "
           "attached, %zu errors\n", sent, conns, opened, attached, refused);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: fuzz_revived REVIVED [SEED]\n");
        return 2;
    }
    uint64_t seed = argc == 3 ? strtoull(argv[2], NULL, 0) : 0x5eed;
    printf("fuzz_revived: seed %" PRIu64 " (replay: fuzz_revived REVIVED %" PRIu64 ")\n", seed, seed);
    fflush(stdout);
    open_pool();
    struct live l;
    live_start(&l, NULL, argv[1], NULL);
    rv_conn *c;
    if (rv_connect(l.sock, &c) != 0)
        live_die("cannot connect to revived");
    rv_session *kept = live_open(c, "random", "seed=1"), *timer = live_open(c, "timer", "");
    uint64_t first[2] = { live_draw(kept), live_draw(kept) };
    int probe = live_dial(&l);
    if (live_poll_until(standbys_up, &probe) != 0)
        live_die("the services' standbys did not start");
    size_t baseline = live_fd_count(&l);

    fuzz(&l, seed);

    if (!live_alive(&l))
        live_die("revived died");
    settle(&l, probe, baseline);
    assert_no_restarts(probe, "random");
    assert_no_restarts(probe, "timer");
    check_still_serves(&l, kept, first);
    rv_close(kept);
    rv_close(timer);
    rv_disconnect(c);
    close(probe);
    int st = live_stop(&l);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        live_die("revived did not exit cleanly on SIGTERM (wait status %#x)", st);
    printf("ok: revived survived, leaked no descriptor and still serves correctly\n");
    return 0;
}
