/* testsvc.c — `rv-svc-test`, a service built to be broken by the integration
 * tests (tests/integration). Its state is one counter per session, in the
 * SSR; its ops (testsvc.h) fault in every way the runtime must survive: a
 * real SIGSEGV, abort(), a hang, a wild write into another client's SSR, a
 * corrupt SSR, a request that blocks until the test kills the process, and
 * one its sandbox kills it for.
 * It is not installed: it exists only so that recovery can be tested
 * against real faults in a real process. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>
#include "revive/server.h"
#include "testsvc.h"

#define TEST_SSR_LAYOUT 1
#define TEST_MAGIC 0x54455354u   /* "TEST" */
#define MAX_SESSIONS 256

struct test_ssr {
    uint32_t magic;
    uint32_t pad;
    uint64_t counter_v1;         /* the counter, in layout 1 */
    uint64_t recoveries;         /* bumped by the recover hook, through rv_svc_session_update */
    char fifo[200];              /* from the open arguments; "" for none */
    uint64_t counter_v2;         /* the counter, in layout 2 (an upgrade moved it) */
};
_Static_assert(sizeof(struct test_ssr) <= TEST_SSR_SIZE, "SSR fits the manifest's ssr_size");

/* The SSR layout this instance's code reads: 1, or what --layout-file
 * says (an upgrade the tests make by rewriting the file and restarting).
 * Layout 2 keeps the counter in another field, so an instance of one
 * layout that read the other's SSR as its own would count from 0. */
static uint32_t layout = TEST_SSR_LAYOUT;

static uint64_t *counter(struct test_ssr *t)
{
    return layout == 2 ? &t->counter_v2 : &t->counter_v1;
}

/* Every session this instance serves, so WILD can find a victim. The list
 * dies with the instance; the recover hook rebuilds it. */
static rv_svc_session *sessions[MAX_SESSIONS];
static size_t nsessions;

static void remember(rv_svc_session *s)
{
    if (nsessions < MAX_SESSIONS)
        sessions[nsessions++] = s;
}

static void forget(rv_svc_session *s)
{
    for (size_t i = 0; i < nsessions; i++)
        if (sessions[i] == s) {
            sessions[i] = sessions[--nsessions];
            return;
        }
}

static void test_unbind(rv_svc_session *s, void *ssr)
{
    (void)ssr;
    forget(s);
}

/* Tells the test the request is in flight, then waits to be killed. With no
 * FIFO (the test removed it before killing us) it returns at once, which is
 * what the re-run in the next instance does. */
/* One byte to the test's FIFO, if it is there; true if it went. */
static bool signal_byte(const char *fifo)
{
    int fd = *fifo ? open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC) : -1;
    if (fd < 0)
        return false;
    ssize_t w = write(fd, "!", 1);
    close(fd);
    return w == 1;
}

static void signal_and_block(const char *fifo)
{
    if (!signal_byte(fifo))
        return;
    struct timespec ts = { .tv_sec = TEST_SLOW_BLOCK_S };
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* True the first time, across instances: it creates the file at path. A
 * request's re-run after the crash finds the file, and serves. */
static bool first_time(const char *path)
{
    int fd = *path ? open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644) : -1;
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

/* "fifo=PATH": SLOW_INCR blocks on it. "bindfifo=PATH": the bind itself
 * signals and blocks while PATH exists, so a test can kill the service
 * while revived holds an open (or a re-open) pending. "refuseonce=PATH":
 * one session of several opened together is refused, the others not. */
static int test_bind(rv_svc_session *s, void *ssr, const char *args)
{
    struct test_ssr *t = ssr;
    *t = (struct test_ssr){ .magic = TEST_MAGIC };
    if (strncmp(args, "fifo=", 5) == 0) {
        if (strlen(args + 5) >= sizeof t->fifo)
            return RV_EAPP;
        strcpy(t->fifo, args + 5);
    } else if (strncmp(args, "bindfifo=", 9) == 0)
        signal_and_block(args + 9);
    else if (strncmp(args, "refuseonce=", 11) == 0) {
        if (first_time(args + 11))
            return RV_EAPP;
    } else if (*args)
        return RV_EAPP;
    remember(s);
    return 0;
}

/* Another session's SSR, written through the read-only view the runtime
 * hands out: exactly the bug SSR protection exists for. */
static int wild_write(rv_request *req)
{
    for (size_t i = 0; i < nsessions; i++)
        if (sessions[i] != req->session) {
            struct test_ssr *victim = (void *)rv_svc_session_ssr(sessions[i]);
            *counter(victim) += 1000000;
            return 0;
        }
    return RV_EAPP;
}

/* A store to a page mapped PROT_NONE: a genuine SIGSEGV from the handler
 * itself, which no sanitizer turns into an orderly exit (a null pointer
 * would be reported and exited on by UBSan, hiding the fault). */
static void segfault(void)
{
    volatile char *guard = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (guard != MAP_FAILED)
        *guard = 1;
    abort();   /* mmap failed: still a real fault of this request */
}

static void hang(void)
{
    for (volatile unsigned long spin = 0;; spin++)
        ;
}

#ifdef TEST_TIER1
#include "revive/rd.h"

static uint64_t global;      /* process memory: undone only because it is logged */
static bool faulted_once;    /* not logged on purpose: the retry must see it */

/* A value other requests read while its writer is still running: the
 * writer signals, waits for the test's go, then faults (its first run
 * only), so a reader can depend on an uncommitted write that is rolled
 * back. The attempt count is not logged: the re-run must see it. */
static uint64_t shared;
static unsigned shared_runs;

static void wait_for_go(const char *fifo)
{
    char go[sizeof ((struct test_ssr *)0)->fifo + 4], b;
    snprintf(go, sizeof go, "%s.go", fifo);
    int fd = open(go, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && read(fd, &b, 1) != 1)
        b = 0;
    if (fd >= 0)
        close(fd);
}

static int shared_write(rv_request *req, struct test_ssr *t)
{
    bool first = shared_runs++ == 0;
    rd_log_range(&shared, sizeof shared);
    shared = first ? 42 : 7;
    if (first) {
        signal_byte(t->fifo);
        wait_for_go(t->fifo);
        segfault();
    }
    return rv_reply(req, &shared, sizeof shared);
}

static int shared_read(rv_request *req, struct test_ssr *t)
{
    uint64_t v = shared;
    signal_byte(t->fifo);
    return rv_reply(req, &v, sizeof v);
}

static int tier1_op(rv_request *req, struct test_ssr *t)
{
    switch (req->op) {
    case TEST_FAULT_ONCE:
        ++*counter(t);
        if (!faulted_once) {
            faulted_once = true;
            segfault();
        }
        break;
    case TEST_GLOBAL_FAULT:
        rd_log_range(&global, sizeof global);
        global += 100;
        ++*counter(t);
        segfault();
        break;
    case TEST_GLOBAL_GET: return rv_reply(req, &global, sizeof global);
    case TEST_UNSAFE_FAULT:
        RD_BEGIN(RD_UNLOGGED) {
            segfault();
        } RD_ONABORT {
        } RD_END
        break;
    case TEST_RD_ABORT:
        ++*counter(t);
        rd_abort(TEST_ABORT_CODE);
    case TEST_SHARED_WRITE: return shared_write(req, t);
    case TEST_SHARED_READ:
        rd_note_read(&shared, sizeof shared);
        return shared_read(req, t);
    default: return RV_EAPP;
    }
    return rv_reply(req, counter(t), sizeof *counter(t));
}
#else
static int tier1_op(rv_request *req, struct test_ssr *t)
{
    (void)req, (void)t;
    return RV_EAPP;
}
#endif

/* The audit reports what SPOIL_AUDIT left: a service's broken global view,
 * which only a restart repairs. */
static bool audit_ok = true;

static bool test_audit(void) { return audit_ok; }

/* A system call no service needs, which the filter allows only to the
 * AF_UNIX family: the instance dies by SIGSYS. */
static void forbidden_call(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0)
        close(fd);
}

/* An eventfd whose count is the counter, kept by revived for the session:
 * the instance that answers TEST_FETCH, maybe another one, attaches it. */
static int store_counter(rv_request *req, uint64_t value)
{
    int efd = eventfd((unsigned)value, EFD_CLOEXEC);
    if (efd < 0)
        return RV_EIO;
    return rv_store_fd(req->session, TEST_STORED_SLOT, efd) ? RV_EIO : 0;
}

/* The runtime keeps its control channel at the top of the descriptor
 * table (server.c), so it is the descriptor just under the limit. */
static void close_control_channel(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > 3)
        close((int)(rl.rlim_cur - 1));
}

static int open_errno(rv_request *req)
{
    char path[256];
    snprintf(path, sizeof path, "%.*s", (int)req->len, (const char *)req->data);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    uint64_t err = fd < 0 ? (uint64_t)errno : 0;
    if (fd >= 0)
        close(fd);
    return rv_reply(req, &err, sizeof err);
}

static int test_handle(rv_request *req)
{
    struct test_ssr *t = req->ssr;
    switch (req->op) {
    case TEST_INCR: ++*counter(t); break;
    case TEST_GET: break;
    case TEST_SLOW_INCR:
        ++*counter(t);
        signal_and_block(t->fifo);
        break;
    case TEST_POISON: segfault(); break;
    case TEST_ABORT: abort();
    case TEST_SELF_KILL: kill(getpid(), SIGKILL); break;
    case TEST_HANG: hang(); break;
    case TEST_WILD: {
        int rc = wild_write(req);
        if (rc)
            return rc;
        break;
    }
    case TEST_CORRUPT: t->magic = ~TEST_MAGIC; break;
    case TEST_RECOVERIES: return rv_reply(req, &t->recoveries, sizeof t->recoveries);
    case TEST_SPOIL_AUDIT: audit_ok = false; break;
    case TEST_FORBIDDEN: forbidden_call(); break;
    case TEST_FORBIDDEN_ONCE:
        ++*counter(t);
        if (first_time(t->fifo))
            forbidden_call();
        break;
    case TEST_OPEN: return open_errno(req);
    case TEST_CLOSE_CTL:
        ++*counter(t);
        if (first_time(t->fifo))
            close_control_channel();
        break;
    case TEST_STORE:
    case TEST_FETCH: {
        int rc = req->op == TEST_STORE ? store_counter(req, *counter(t)) : rv_reply_attach(req, TEST_STORED_SLOT);
        if (rc)
            return rc;
        break;
    }
    default: return tier1_op(req, t);
    }
    return rv_reply(req, counter(t), sizeof *counter(t));
}

static bool test_validate(rv_svc_session *s, const void *ssr)
{
    (void)s;
    return ((const struct test_ssr *)ssr)->magic == TEST_MAGIC;
}

static void count_recovery(rv_svc_session *s, void *ssr, void *arg)
{
    (void)s;
    (void)arg;
    ((struct test_ssr *)ssr)->recoveries++;
}

/* Also changes every SSR through rv_svc_session_update, as a service that keeps
 * recovery bookkeeping in its SSRs would. */
static int test_recover(rv_svc_session **all, size_t n)
{
    nsessions = 0;
    for (size_t i = 0; i < n; i++) {
        remember(all[i]);
        rv_svc_session_update(all[i], count_recovery, NULL);
    }
    return 0;
}

/* "--init-fifo PATH" (manifest args): each instance signals and blocks
 * before it registers, while PATH exists, so a test can kill a restarted
 * service that has not registered yet. */
static int test_init(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--init-fifo") == 0)
            signal_and_block(argv[i + 1]);
    return 0;
}

/* Layout 1 -> 2: the counter moves to its new field. */
static int test_migrate(rv_svc_session *s, uint32_t from, const void *old, void *ssr, size_t size)
{
    (void)s;
    if (from != 1 || layout != 2 || size < sizeof(struct test_ssr))
        return RV_EAPP;
    struct test_ssr *t = ssr;
    memcpy(t, old, sizeof *t);
    t->counter_v2 = t->counter_v1;
    t->counter_v1 = 0;
    return 0;
}

/* "--layout-file PATH" (manifest args): the file holds the layout this
 * instance is built for, and "migrate" after it if it may convert older
 * SSRs. Read before the runtime starts, as a rebuilt binary would be. */
static void read_layout(int argc, char **argv, struct rv_service_ops *ops)
{
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--layout-file") != 0)
            continue;
        char text[32] = "";
        FILE *f = fopen(argv[i + 1], "re");
        if (f && fgets(text, sizeof text, f))
            layout = (uint32_t)strtoul(text, NULL, 10);
        if (f)
            fclose(f);
        if (strstr(text, "migrate"))
            ops->migrate = test_migrate;
    }
    ops->ssr_layout = layout;
}

/* A system call no machine has, asked for as rv_service_ops.syscalls. */
static const char *const unknown_call[] = { "no_such_call", NULL };

int main(int argc, char **argv)
{
    static struct rv_service_ops ops = {
        .ssr_layout = TEST_SSR_LAYOUT,
        .ssr_size = sizeof(struct test_ssr),
        .init = test_init,
        .bind = test_bind,
        .unbind = test_unbind,
        .handle = test_handle,
        .validate = test_validate,
        .recover = test_recover,
        .audit = test_audit,
#ifdef TEST_TIER1
        .runner = rv_domain_runner,
        .workers = 4,
#endif
    };
    read_layout(argc, argv, &ops);
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--skip-filter") == 0)
            unsetenv("REVIVE_SANDBOX");   /* the runtime then installs none */
        else if (strcmp(argv[i], "--no-recover-hook") == 0)
            ops.recover = NULL;           /* idle sessions are then recovered when next used */
        else if (strcmp(argv[i], "--ask-unknown-call") == 0)
            ops.syscalls = unknown_call;  /* revived cannot build its filter */
    return rv_service_main(&ops, argc, argv);
}
