/* fuzz_control.c — fuzz target for revived's control dispatch
 * (src/revived/control.c): what revived does with each request a client
 * sends on its public socket, or a task on its name-space channel.
 *
 * revived's own objects run in this process, without its event loop: the
 * harness makes three connections as revived would (conn.h), each over a
 * socketpair whose other end it reads, and hands every message of the
 * input to control_dispatch, the function revived's connection reader
 * calls once rv__wire_recv has accepted a datagram. The services of a
 * small manifest exist as records but are never started, so an OPEN waits
 * for a bind that never comes, and a KILL finds no process to signal.
 *
 * Input: records (harness.h). The selector byte of each:
 *   bits 0-1  the connection: 0 and 3 root's (it may kill and restart),
 *             1 another user's, 2 the task `dice`'s name space
 *   bits 2-3  how many descriptors ride along (0-3)
 *   bit 4     which: a sealed memfd and two eventfds, as a dataspace
 *             provider sends them, or strays (/dev/null, an unsealed
 *             memfd, a pipe)
 * A RESTART is never sent on root's connection: it would start a process.
 *
 * Checked on every input: every reply revived sends is well-formed; a
 * request other than OPEN and DS_ATTACH (which may be answered later) is
 * answered at once; there are never more replies than requests; and once
 * the connections are closed and the service records torn down, no
 * descriptor is left open and (under ASan) no memory.
 */
#include "fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include "conn.h"
#include "control.h"
#include "dataspace.h"
#include "harness.h"
#include "log.h"
#include "loop.h"
#include "manifest.h"
#include "service.h"
#include "supervisor.h"
#include "access.h"
#include "account.h"

#define NCONNS 3
#define HARNESS "fuzz_control"

static const char manifest_text[] =
    "[service alpha]\nexec = /bin/true\nssr_size = 64\n"
    "[service beta]\nexec = /bin/true\nstate = stateless\n"
    "[task dice]\nexec = /bin/true\nnames = roll:alpha frames:ds/video\n";

static struct rv_manifest manifest;
static int pool[2][3];      /* [0]: what a provider sends; [1]: strays */

static void on_event(struct conn *c, uint32_t events)
{
    (void)c, (void)events;
}

static void open_pool(void)
{
    int p[2];
    pool[0][0] = memfd_create("fuzz-ds", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    pool[0][1] = eventfd(0, EFD_CLOEXEC);
    pool[0][2] = eventfd(0, EFD_CLOEXEC);
    pool[1][0] = open("/dev/null", O_RDWR | O_CLOEXEC);
    pool[1][1] = memfd_create("fuzz-stray", MFD_CLOEXEC);
    if (pool[0][0] < 0 || pool[0][1] < 0 || pool[0][2] < 0 || pool[1][0] < 0 || pool[1][1] < 0 ||
        ftruncate(pool[0][0], 4096) < 0 || fcntl(pool[0][0], F_ADD_SEALS, F_SEAL_SHRINK) < 0 ||
        pipe2(p, O_CLOEXEC) < 0)
        fuzz_fail(HARNESS, "cannot open descriptors");
    pool[1][2] = p[1];
    close(p[0]);
}

static void setup_once(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    char err[512];
    rv_log_set_level(0);
    fuzz_quiet();
    signal(SIGPIPE, SIG_IGN);
    if (rv_manifest_load_text(manifest_text, "fuzz_control.ini", "", &manifest, err, sizeof err) < 0)
        fuzz_fail(HARNESS, "%s", err);
    if (loop_init() < 0 || dataspace_init() < 0)
        fuzz_fail(HARNESS, "cannot set up revived's loop");
    account_set_limits(&manifest);
    access_init(&manifest);
    open_pool();
}

/* A connection as control.c's accept makes one; *peer is the client's end. */
static struct conn *connect_one(int k, int *peer)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
        fuzz_fail(HARNESS, "socketpair");
    *peer = sv[1];
    struct conn *c = conn_new(sv[0], getpid(), k == 1 ? getuid() + 1 : getuid(), getgid(), on_event);
    if (!c)
        fuzz_fail(HARNESS, "conn_new");
    if (k == 2)
        conn_set_ns(c, &manifest.tasks[0]);
    return c;
}

/* Reads every reply waiting at a client's end; returns how many. */
static size_t drain(int peer)
{
    static struct rv_msg reply;
    size_t n = 0;
    for (;;) {
        int r = rv__wire_recv(peer, &reply, RV_WIRE_MAX_BODY, MSG_DONTWAIT);
        if (r == -EAGAIN || r == 0)
            return n;
        if (r < 0)
            fuzz_fail(HARNESS, "revived sent a malformed reply (%d)", r);
        rv__msg_close_fds(&reply);
        n++;
    }
}

static void attach_fds(struct rv_msg *m, uint8_t sel)
{
    const int *from = pool[(sel >> 4) & 1];
    for (size_t i = 0; i < ((sel >> 2) & 3u); i++) {
        m->fds[i] = fcntl(from[i], F_DUPFD_CLOEXEC, 0);
        if (m->fds[i] < 0)
            fuzz_fail(HARNESS, "dup");
        m->nfds++;
    }
}

static bool answered_later(uint8_t type)
{
    return type == RV_T_OPEN || type == RV_T_DS_ATTACH;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct rv_msg m;
    setup_once();
    size_t fds_before = fuzz_count_fds();   /* each time: the sanitizers' symbolizer opens pipes */
    if (services_create(&manifest) < 0)
        fuzz_fail(HARNESS, "services_create");
    struct conn *conns[NCONNS];
    int peers[NCONNS];
    for (int k = 0; k < NCONNS; k++)
        conns[k] = connect_one(k, &peers[k]);
    struct fuzz_input in = { data, size };
    uint8_t sel;
    size_t requests = 0, replies = 0;
    while (fuzz_next_msg(&in, &sel, &m)) {
        int k = (sel & 3) % NCONNS;
        if (k == 0 && m.hdr.type == RV_T_RESTART)
            k = 1;
        if (!fuzz_msg_framed(&m, RV_WIRE_MAX_BODY))
            continue;
        attach_fds(&m, sel);
        control_dispatch(conns[k], &m);
        requests++;
        size_t own = drain(peers[k]);
        if (own == 0 && !answered_later(m.hdr.type))
            fuzz_fail(HARNESS, "request of type %u got no reply", m.hdr.type);
        replies += own;
        for (int o = 0; o < NCONNS; o++)
            replies += o == k ? 0 : drain(peers[o]);
    }
    for (int k = 0; k < NCONNS; k++)
        conn_close(conns[k]);
    supervisor_fini();
    for (int k = 0; k < NCONNS; k++) {
        replies += drain(peers[k]);
        close(peers[k]);
    }
    if (replies > requests)
        fuzz_fail(HARNESS, "%zu replies to %zu requests", replies, requests);
    fuzz_expect_fds(HARNESS, fds_before, "descriptors leaked");
    return 0;
}

static size_t put_named(uint8_t *buf, size_t *len, size_t cap, uint8_t sel, uint8_t type, uint32_t op,
                        const char *a, const char *b)
{
    char payload[128];
    size_t n = strlen(a) + 1;
    memcpy(payload, a, n);
    if (b) {
        memcpy(payload + n, b, strlen(b) + 1);
        n += strlen(b) + 1;
    }
    return fuzz_put_msg(buf, len, cap, sel, type, 0, op, 0, payload, n);
}

size_t fuzz_seed(size_t i, uint8_t *buf, size_t cap)
{
    size_t len = 0;
    switch (i) {
    case 0: put_named(buf, &len, cap, 0, RV_T_OPEN, 0, "alpha", NULL); break;
    case 1: put_named(buf, &len, cap, 1, RV_T_OPEN, 0, "beta", "weight=3 x"); break;
    case 2: fuzz_put_msg(buf, &len, cap, 0, RV_T_STATUS, 0, 0, 0, NULL, 0); break;
    case 3: put_named(buf, &len, cap, 0, RV_T_KILL, SIGSEGV, "alpha", NULL); break;
    case 4: put_named(buf, &len, cap, 1, RV_T_RESTART, 0, "beta", NULL); break;
    case 5: put_named(buf, &len, cap, 2, RV_T_OPEN, 0, "roll", NULL); break;
    case 6: /* a provider, then a consumer that finds it */
        put_named(buf, &len, cap, 0x0c, RV_T_DS_PROVIDE, 2, "video", NULL);
        put_named(buf, &len, cap, 1, RV_T_DS_ATTACH, 0, "video", NULL);
        break;
    case 7: /* a consumer that waits, in a task's name space, then the provider */
        put_named(buf, &len, cap, 2, RV_T_DS_ATTACH, 50, "frames", NULL);
        put_named(buf, &len, cap, 0x04, RV_T_DS_PROVIDE, 0, "video", NULL);
        break;
    case 8: put_named(buf, &len, cap, 0x1c, RV_T_DS_PROVIDE, 2, "strays", NULL); break;
    case 9: put_named(buf, &len, cap, 2, RV_T_KILL, SIGKILL, "roll", NULL); break;
    default: return 0;
    }
    return len;
}
