/* server.c — a service instance's life: hand-shake with revived, take over
 * the sessions, recover them, then serve until killed.
 *
 * revived starts the instance with its control channel as $REVIVE_CTL_FD.
 * Start-up is a fixed exchange:
 *   service: SVC_HELLO(state size, layout)
 *                                   revived: SVC_CONFIG + status page [+ arena]
 *                                   (or, if its state does not fit ssr_size, a kill)
 *   revived: SESSIONS ... HANDOVER_END  (every session, in SCM_RIGHTS batches)
 *   service: recovers them, then SVC_READY
 * After that the control channel carries BIND/UNBIND/PING from revived and
 * STORE_FD/SESSION_LOST from the service; requests never pass through
 * revived: each session socket is polled here directly.
 */
#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include "arena_internal.h"
#include "demux.h"
#include "fastpath.h"
#include "ctlmsg.h"
#include "revive/version.h"
#include "sandbox.h"
#include "serve.h"
#include "workers.h"

struct watch {
    struct rv_source src;
    int fd;
    void (*on_ready)(int fd, void *arg);
    void *arg;
};

/* Whether revived asks for the seccomp filter (src/revived/sandbox.c),
 * and the filter it sent with the SVC_CONFIG (-1: none). */
static bool sandboxed;
static int filter_fd = -1;

static struct rv_source ctl_src = { RV_SRC_CTL };
static struct rv_source sig_src = { RV_SRC_SIGNAL };
static int sig_fd = -1;

/* ---- crash records ---- */

static void on_fatal(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    rv__rt_record_crash(sig, si->si_code, (uint64_t)(uintptr_t)si->si_addr, si->si_code > 0 || si->si_pid == getpid());
    raise(sig);   /* SA_RESETHAND restored the default action: die */
}

static int setup_signals(void)
{
    static char altstack[64 * 1024];
    stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack };
    sigaltstack(&ss, NULL);
    struct sigaction sa = { .sa_sigaction = on_fatal, .sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER | SA_ONSTACK };
    sigemptyset(&sa.sa_mask);
    const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        sigaction(fatal[i], &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigaddset(&term, SIGINT);
    sigprocmask(SIG_BLOCK, &term, NULL);
    sig_fd = signalfd(-1, &term, SFD_CLOEXEC | SFD_NONBLOCK);
    return sig_fd < 0 ? -1 : 0;
}

/* ---- the session table ----
 *
 * Only this thread changes it, under the runtime's lock: workers look
 * sessions up by id in by_record (workers.c), and the fast path's thread
 * walks the table (fastpath.c). */

static int sess_grow(void)
{
    if (rv__rt.nsess < rv__rt.capsess)
        return 0;
    size_t cap = rv__rt.capsess ? rv__rt.capsess * 2 : 64;
    rv_svc_session **n = realloc(rv__rt.sess, cap * sizeof *n);
    if (!n)
        return -1;
    rv__rt.sess = n;
    rv__rt.capsess = cap;
    return 0;
}

/* -1 when the table cannot grow, or the record is another session's. */
static int sess_add(rv_svc_session *s)
{
    rv__rt_lock();
    int rc = rv__rt.by_record[s->record] ? -1 : sess_grow();
    if (rc == 0) {
        s->pos = rv__rt.nsess;
        rv__rt.sess[rv__rt.nsess++] = s;
        rv__rt.by_record[s->record] = s;
    }
    rv__rt_unlock();
    return rc;
}

static void sess_remove(rv_svc_session *s)
{
    rv__rt_lock();
    rv_svc_session *last = rv__rt.sess[--rv__rt.nsess];
    rv__rt.sess[s->pos] = last;
    last->pos = s->pos;
    rv__rt.by_record[s->record] = NULL;
    rv__rt_unlock();
}

static rv_svc_session *sess_take(uint64_t id)
{
    rv_svc_session *s = rv__rt_sess_find(id);
    if (s)
        sess_remove(s);
    return s;
}

/* ---- control channel ---- */

static int ctl_recv(struct rv_msg *m)
{
    int r = rv__wire_recv(rv__rt.ctl, m, RV_WIRE_MAX_BODY, 0);
    if (r <= 0) {
        rv__log(RV_LOG_ERR, "control channel to revived %s; exiting", r == 0 ? "closed" : "broken");
        exit(r == 0 ? 0 : 1);
    }
    return r;
}

/* One more control message handled in full, said on the status page:
 * revived gives a session's slab record to the next session only once
 * this instance has handled the session's UNBIND, after which nothing of
 * it touches the record. A count, not a reply: a reply to every UNBIND
 * could fill the channel revived is itself blocked writing to. */
static void ctl_handled(void)
{
    rv__rt.ctl_done++;
    if (rv__rt.status)
        __atomic_store_n(&rv__rt.status->ctl_done, rv__rt.ctl_done, __ATOMIC_RELEASE);
}

/* What the instance tells revived must arrive (a BIND_DONE lost would leave
 * an opener waiting): a failed send ends the instance. */
static void ctl_send_body(uint8_t type, uint64_t seq, uint32_t op, int32_t status, const void *body, size_t len)
{
    struct rv_hdr h = rv__hdr_make(type, seq, op, status, len);
    if (rv__wire_send(rv__rt.ctl, &h, body, NULL, 0, 0) < 0)
        rv__fail_stop("cannot write to revived");
}

static void ctl_send(uint8_t type, uint64_t seq, uint32_t op, int32_t status)
{
    ctl_send_body(type, seq, op, status, NULL, 0);
}

static void take_batch(struct rv_msg *m)
{
    long k = rv__ctl_batch(m, 0);
    if (k < 0) {
        rv__log(RV_LOG_ERR, "malformed session batch from revived");
        exit(1);
    }
    const int *fd = m->fds;
    for (long i = 0; i < k; i++) {
        struct rv_wire_session w;
        memcpy(&w, m->body + (size_t)i * sizeof w, sizeof w);
        char why[128];
        rv_svc_session *s = rv__sess_attach(&w, fd, why, sizeof why);
        fd += rv__wire_fds_of(&w);
        if (!s || sess_add(s) < 0) {
            rv__log(RV_LOG_ERR, "session %llu: %s", (unsigned long long)w.id, s ? "out of memory" : why);
            exit(1);
        }
        rv__rt_poll_session(s);   /* not waited on before READY */
    }
    m->nfds = 0;   /* every descriptor is a session's now */
}

/* Mapped now, in a standby too; recovered (and loaded from its file, if it
 * has one) only once the hand-over says no other instance is left to write
 * it (rv_service_main). */
static void map_arena(int fd, int file, uint64_t size)
{
    char why[160];
    int rc = rv__arena_attach(fd, size, why, sizeof why);
    close(fd);
    if (rc == 0 && file >= 0)
        rc = rv__arena_file_open(file, size, why, sizeof why);
    if (rc < 0) {
        rv__log(RV_LOG_ERR, "%s", why);
        exit(1);
    }
}

/* The state it keeps, then the system calls it asks for (wire.h). */
static void say_hello(void)
{
    static char body[sizeof(struct rv_wire_svc_hello) + 4096];
    struct rv_wire_svc_hello hello = { .state_size = rv__rt.ops->ssr_size, .layout = rv__rt.ops->ssr_layout };
    memcpy(body, &hello, sizeof hello);
    size_t asked = rv__sandbox_asked(rv__rt.ops->syscalls, body + sizeof hello, sizeof body - sizeof hello);
    if (!asked)
        rv__fail_stop("the service's system calls (rv_service_ops.syscalls) are too many to name");
    struct rv_hdr h = rv__hdr_make(RV_T_SVC_HELLO, 0, 0, 0, sizeof hello + asked);
    if (rv__wire_send(rv__rt.ctl, &h, body, NULL, 0, 0) < 0)
        rv__fail_stop("cannot write to revived");
}

static void handshake(void)
{
    struct rv_msg *m = malloc(sizeof *m);
    if (!m)
        exit(1);
    say_hello();
    ctl_recv(m);
    struct rv__config c;
    if (rv__ctl_config(m, &c) < 0) {
        rv__log(RV_LOG_ERR, "unexpected hand-shake from revived");
        exit(1);
    }
    const struct rv_wire_svc_config *cfg = &c.cfg;
    rv__rt.image_fd = c.image_fd;
    rv__rt.fuse_fd = c.fuse_fd;
    rv__rt.doorbell = c.doorbell_fd;
    filter_fd = c.filter_fd;
    rv__rt.mount_id = cfg->mount_id;
    if (cfg->ssr_size < rv__rt.ops->ssr_size) {   /* revived refuses this; never hand out a smaller SSR */
        rv__log(RV_LOG_ERR, "the manifest's ssr_size (%llu) is smaller than the %zu bytes of state per session this "
                  "service keeps", (unsigned long long)cfg->ssr_size, rv__rt.ops->ssr_size);
        exit(1);
    }
    if (cfg->arena_size)
        map_arena(c.arena_fd, c.arena_file_fd, cfg->arena_size);
    rv__rt.shape = (struct rv_journal_shape){ cfg->ssr_size, cfg->max_request, cfg->max_reply };
    rv__rt.protect = (enum rv_ssr_protect)cfg->protect;
    char why[160];
    int slab = rv__slab_map(c.slab_fd, cfg->slab_records, why, sizeof why);
    close(c.slab_fd);
    if (slab < 0) {
        rv__log(RV_LOG_ERR, "%s", why);
        exit(1);
    }
    rv__rt.status = mmap(NULL, sizeof *rv__rt.status, PROT_READ | PROT_WRITE, MAP_SHARED, c.status_fd, 0);
    close(c.status_fd);
    if (rv__rt.status == MAP_FAILED) {
        rv__log(RV_LOG_ERR, "cannot map the status page: %s", strerror(errno));
        exit(1);
    }
    rv__rt.status->magic = RV_STATUS_MAGIC;   /* revived believes no crash record without it */
    ctl_handled();   /* the SVC_CONFIG */
    free(m);
}

/* A descriptor the active instance stored, forwarded to a standby. */
static void take_stored(struct rv_msg *m)
{
    rv_svc_session *s = rv__rt_sess_find(m->hdr.seq);
    if (!s || m->nfds != 1 || m->hdr.op >= RV_MAX_STORED_FDS) {
        rv__log(RV_LOG_ERR, "malformed STORE_FD from revived");
        exit(1);
    }
    if (s->stored[m->hdr.op] >= 0)
        close(s->stored[m->hdr.op]);
    s->stored[m->hdr.op] = m->fds[0];
    m->nfds = 0;
}

/* The crash flags of a promoted standby's sessions: it adopted them
 * without any. */
static void take_flags(const struct rv_msg *m)
{
    long k = rv__ctl_flags(m);
    for (long i = 0; i < k; i++) {
        struct rv_wire_session w;
        memcpy(&w, m->body + (size_t)i * sizeof w, sizeof w);
        rv_svc_session *s = rv__rt_sess_find(w.id);
        if (!s) {
            rv__log(RV_LOG_ERR, "crash flags for session %llu, which revived never handed over",
                    (unsigned long long)w.id);
            exit(1);
        }
        s->flags = w.flags;
        s->poison_seq = w.poison_seq;
    }
    if (k < 0) {
        rv__log(RV_LOG_ERR, "malformed SESSION_FLAGS from revived");
        exit(1);
    }
}

/* Until HANDOVER_END: a new instance is sent every session at once; a
 * standby adopts them as they bind, forgets those that end, and keeps what
 * the active instance stores, for as long as it waits. Nothing here reads a
 * session's journal or SSR: another instance may be writing them. */
static void receive_sessions(struct rv_msg *m)
{
    for (;;) {
        ctl_recv(m);
        switch (m->hdr.type) {
        case RV_T_HANDOVER_END: ctl_handled(); return;
        case RV_T_SESSIONS: take_batch(m); break;
        case RV_T_SESSION_FLAGS: take_flags(m); break;
        case RV_T_STORE_FD: take_stored(m); break;
        case RV_T_PING: ctl_send(RV_T_PONG, m->hdr.seq, 0, 0); break;
        case RV_T_UNBIND: {
            rv_svc_session *s = sess_take(m->hdr.seq);
            if (s)
                rv__sess_detach(s);
            break;
        }
        default:
            rv__log(RV_LOG_ERR, "unexpected message %u during hand-over", m->hdr.type);
            exit(1);
        }
        rv__msg_close_fds(m);
        ctl_handled();
    }
}

/* ---- recovery after a restart ---- */

/* For the arena: did the request (session, seq) of a handed-over session
 * commit? */
static bool committed(uint64_t session, uint64_t seq)
{
    return rv__sess_done(rv__rt.sess, rv__rt.nsess, session, seq);
}

/* A session nothing waits on is recovered when next used (rv__sess_check),
 * so a restart costs the sessions in use, not every session; unless the
 * service's recover hook is to see them all. */
static void drop_unrecoverable(void)
{
    for (size_t i = 0; i < rv__rt.nsess;) {
        rv_svc_session *s = rv__rt.sess[i];
        char why[128];
        if (!rv__rt.ops->recover && rv__sess_quiescent(s)) {
            s->unchecked = true;
            i++;
            continue;
        }
        if (rv__sess_recover(s, why, sizeof why)) {
            i++;
            continue;
        }
        rv__rt_report_lost(s, RV_ELOST, why);
        sess_remove(s);
        rv__sess_detach(s);
    }
}

static void call_recover_hook(void)
{
    if (!rv__rt.ops->recover)
        return;
    rv__ssr_rest_all(PROT_READ);
    rv__rt_set_busy((uint64_t)-1, 0);
    rv__rt.ops->recover(rv__rt.sess, rv__rt.nsess);
    rv__rt_set_busy(0, 0);
    rv__ssr_rest_all(PROT_NONE);
}

/* In-flight requests run again, the suspected culprit's last: if it crashes
 * us once more, everyone else's interrupted request is already answered. */
static void rerun_in_flight(void)
{
    for (int culprit = 0; culprit < 2; culprit++)
        for (size_t i = 0; i < rv__rt.nsess; i++) {
            rv_svc_session *s = rv__rt.sess[i];
            if (!s->unchecked && !!(s->flags & RV_SESS_CULPRIT) == culprit && rv__sess_in_flight(s))
                rv__sess_rerun(s);
        }
    for (size_t i = 0; i < rv__rt.nsess; i++)
        if (!rv__rt.sess[i]->unchecked)
            rv__sess_resend_reply(rv__rt.sess[i]);
}

/* ---- steady state ---- */

/* One session of a BIND: 0, or why it could not be bound. A session
 * refused after it was attached goes to *refused, still attached. */
static int bind_one(const struct rv_wire_session *w, const int *fds, const char *args, rv_svc_session **refused)
{
    char why[128];
    rv_svc_session *s = rv__sess_attach(w, fds, why, sizeof why);
    /* a record another session still has is never formatted over it */
    int rc = !s ? RV_ENOMEM : rv__rt.by_record[s->record] ? RV_EPROTO : rv__sess_bind(s, args);
    if (rc == 0 && sess_add(s) == 0)
        rv__rt_poll_session(s);
    else if (s) {
        *refused = s;
        rc = rc ? rc : RV_ENOMEM;
    }
    return rc;
}

/* Sessions opened together are bound together, and confirmed in one
 * message. The refused are detached only once every session of the BIND
 * is bound: a shared channel's socket comes with the first of its sessions
 * in a message, and detaching that one, refused, must not close the
 * channel under the others. */
static void on_bind(struct rv_msg *m)
{
    char args[RV_ARGS_MAX + 1];
    long k = rv__ctl_bind(m, args);
    if (k < 0)
        rv__fail_stop("malformed BIND from revived");
    struct rv_wire_opened done[RV_BIND_MAX];
    rv_svc_session *refused[RV_BIND_MAX];
    size_t nrefused = 0;
    const int *fd = m->fds;
    for (long i = 0; i < k; i++) {
        struct rv_wire_session w;
        memcpy(&w, m->body + (size_t)i * sizeof w, sizeof w);
        refused[nrefused] = NULL;
        done[i] = (struct rv_wire_opened){ .id = w.id, .status = bind_one(&w, fd, args, &refused[nrefused]) };
        nrefused += refused[nrefused] != NULL;
        fd += rv__wire_fds_of(&w);
    }
    m->nfds = 0;   /* the sessions' now, or closed */
    for (size_t i = 0; i < nrefused; i++)
        rv__sess_detach(refused[i]);
    ctl_send_body(RV_T_BIND_DONE, 0, 0, 0, done, (size_t)k * sizeof done[0]);
}

/* Also for a session whose state this instance found lost: revived
 * unbinds it once told. Once an UNBIND is handled, nothing of this
 * instance touches the session's slab record any more (a worker serving
 * its last request is waited for), and revived, which sees the count of
 * handled messages (ctl_handled), may give the record to another session. */
static void on_unbind(uint64_t id)
{
    rv_svc_session *s = sess_take(id);
    if (!s)
        return;
    rv__rt_await(&s->in_worker);
    rv__sess_unbind(s);
}

static void on_ctl(struct rv_msg *m)
{
    ctl_recv(m);
    switch (m->hdr.type) {
    case RV_T_BIND: on_bind(m); break;
    case RV_T_UNBIND: on_unbind(m->hdr.seq); break;
    case RV_T_PING:
        if (rv__rt.ops->audit && !rv__rt.ops->audit())
            rv__fail_stop("the service's audit failed");
        ctl_send(RV_T_PONG, m->hdr.seq, 0, 0);
        break;
    default:
        rv__fail_stop("unexpected control message from revived");
    }
    ctl_handled();
}

static void on_signal(void)
{
    struct signalfd_siginfo si;
    if (read(sig_fd, &si, sizeof si) == sizeof si) {
        rv__log(RV_LOG_INFO, "signal %u: stopping at a request boundary", si.ssi_signo);
        exit(0);
    }
}

static void event_loop(struct rv_msg *m)
{
    for (;;) {
        rv__rt_batch_len = epoll_wait(rv__rt.ep, rv__rt_batch, 64, -1);
        rv__rt_turn_take();
        for (rv__rt_batch_next = 0; rv__rt_batch_next < rv__rt_batch_len;) {
            struct rv_source *src = rv__rt_batch[rv__rt_batch_next++].data.ptr;
            if (!src)
                continue;   /* struck out: see strike_from_batch */
            switch (src->kind) {
            case RV_SRC_SESSION:   /* single-threaded; the workers poll their own set */
                if (rv__sess_check((rv_svc_session *)src))
                    rv__sess_on_readable((rv_svc_session *)src);
                break;
            case RV_SRC_CHANNEL: rv__demux_serve((struct rv_channel *)src, &rv__demux_lookup); break;
            case RV_SRC_CTL: on_ctl(m); break;
            case RV_SRC_SIGNAL: on_signal(); break;
            case RV_SRC_WATCH: {
                struct watch *w = (struct watch *)src;
                w->on_ready(w->fd, w->arg);
                break;
            }
            }
        }
        rv__rt_turn_give();
    }
}

int rv_watch_fd(int fd, void (*on_ready)(int fd, void *arg), void *arg)
{
    struct watch *w = malloc(sizeof *w);
    if (!w)
        return RV_ENOMEM;
    *w = (struct watch){ { RV_SRC_WATCH }, fd, on_ready, arg };
    if (rv__rt_poll_add(fd, &w->src) < 0) {
        free(w);
        return RV_EIO;
    }
    return 0;
}

void rv_svc_fatal(const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    rv__log(RV_LOG_ERR, "%s", why);
    if (rv__rt.status) {
        char *words = rv__rt.status->last_words;
        size_t n = sizeof rv__rt.status->last_words - 1;
        memcpy(words, why, n);
        words[n] = '\0';
    }
    _exit(1);       /* at once, as a crash would: the process holds nothing revived does not */
}

int rv_service_fd(enum rv_service_fd which)
{
    return which == RV_FD_IMAGE ? rv__rt.image_fd : which == RV_FD_FUSE ? rv__rt.fuse_fd : -1;
}

int rv_store_fd(rv_svc_session *s, unsigned slot, int fd)
{
    if (slot >= RV_MAX_STORED_FDS || fd < 0)
        return RV_EINVAL;
    struct rv_hdr h = rv__hdr_make(RV_T_STORE_FD, s->id, slot, 0, 0);
    if (rv__wire_send(rv__rt.ctl, &h, NULL, &fd, 1, 0) < 0)
        return RV_EIO;
    if (s->stored[slot] >= 0 && s->stored[slot] != fd)
        close(s->stored[slot]);
    s->stored[slot] = fd;
    return 0;
}

static void read_sandbox(void)
{
    const char *on = getenv("REVIVE_SANDBOX");
    sandboxed = on && strcmp(on, "1") == 0;
    unsetenv("REVIVE_SANDBOX");
}

/* After init, which may still open what it needs, and before the first
 * request (a re-run one too) is read. */
static void enter_sandbox(void)
{
    char why[160];
    if (sandboxed && filter_fd < 0)
        rv_svc_fatal("revived asked for a seccomp filter and sent none");
    if (sandboxed && rv__sandbox_install(filter_fd, why, sizeof why) < 0)
        rv_svc_fatal("cannot install the seccomp filter: %s", why);
    if (filter_fd >= 0)
        close(filter_fd);
    filter_fd = -1;
}

/* revived holds every session: without it an instance serves nobody, and
 * one busy in a handler (or hung) would never read the hang-up of its
 * control channel. So it dies with revived. Set here, after exec: a change
 * of user before exec (the sandbox) clears the parent-death signal. If
 * revived died before this, the handshake's read finds the channel closed. */
static void die_with_revived(void)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* The control channel moves to the top of the descriptor table. A dying
 * process's descriptors are released in the reverse order of their
 * numbers (the kernel queues each release as the table is closed from 0
 * up, then runs the queue newest first), so the channel's hang-up reaches
 * revived before the thousands of session sockets below it are torn
 * down: revived learns of the death milliseconds sooner at 10,000
 * sessions than from the process's exit (docs/design.md). Where the table
 * cannot grow, it stays where it is. */
static int ctl_on_top(int fd)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur <= (rlim_t)fd + 1 || rl.rlim_cur > INT_MAX)
        return fd;
    int top = fcntl(fd, F_DUPFD_CLOEXEC, (int)(rl.rlim_cur - 1));
    if (top < 0)
        return fd;
    close(fd);
    return top;
}

static int start_instance(const struct rv_service_ops *ops, char *argv0)
{
    const char *base = strrchr(argv0, '/');
    const char *name = base ? base + 1 : argv0;
    rv__log_as(name);
    rv__rt.ops = ops;
    const char *env = getenv("REVIVE_CTL_FD");
    char *end;
    long fd = env ? strtol(env, &end, 10) : -1;
    if (!env || *end || fd < 0 || fd > 1 << 20) {
        fprintf(stderr, "%s: a revive service is started by revived, which passes $REVIVE_CTL_FD; "
                        "declare it in a manifest (see docs/manifest.md)\n", name);
        return -1;
    }
    rv__rt.ctl = ctl_on_top((int)fd);
    unsetenv("REVIVE_CTL_FD");
    die_with_revived();
    read_sandbox();
    rv__rt.ep = epoll_create1(EPOLL_CLOEXEC);
    rv__rt.sess_ep = ops->workers > 1 ? epoll_create1(EPOLL_CLOEXEC) : rv__rt.ep;
    if (rv__rt.ep < 0 || rv__rt.sess_ep < 0 || setup_signals() < 0 || rv__rt_poll_add(rv__rt.ctl, &ctl_src) < 0 ||
        rv__rt_poll_add(sig_fd, &sig_src) < 0) {
        rv__log(RV_LOG_ERR, "cannot set up the event loop: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* After recovery, which runs on this thread alone: the workers, then the
 * fast path's thread, which serves beside them as one more (its busy slot
 * after theirs), or in turn with this thread when there are none. */
static void start_workers(void)
{
    unsigned n = rv__rt.ops->workers, fast = rv__rt.doorbell >= 0;
    if (n > 1 && (n + fast >= RV_STATUS_SLOTS || rv__rt.protect == RV_PROTECT_MPROTECT))
        rv_svc_fatal("%u workers: at most %d (%d with fast_path), and not with ssr_protect = mprotect", n,
                     RV_STATUS_SLOTS - 1, RV_STATUS_SLOTS - 2);
    if (n > 1 && rv__workers_start(n) < 0)
        rv__fail_stop("cannot start the worker threads");
    if (rv__fastpath_start(n > 1 ? n + 1 : 0) < 0)
        rv__fail_stop("cannot start the fast path's thread");
}

int rv_service_main(const struct rv_service_ops *ops, int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--help") == 0) {
        printf("%s: a revive service; revived starts it from its manifest (see docs/manifest.md)\n", argv[0]);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("%s (revive %s)\n", argv[0], REVIVE_VERSION);
        return 0;
    }
    if (start_instance(ops, argv[0]) < 0)
        return 2;
    handshake();
    if (ops->init && ops->init(argc, argv) != 0) {
        rv__log(RV_LOG_ERR, "init hook failed");
        return 1;
    }
    enter_sandbox();
    struct rv_msg *m = malloc(sizeof *m);
    if (!m)
        return 1;
    receive_sessions(m);
    rv__arena_recover(committed);   /* the last instance is gone: undo its torn request */
    drop_unrecoverable();
    call_recover_hook();
    rerun_in_flight();
    start_workers();
    ctl_send(RV_T_SVC_READY, 0, 0, 0);
    event_loop(m);
    return 0;
}
