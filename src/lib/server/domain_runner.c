/* domain_runner.c — tier 1 in the server runtime: each request in a root
 * recovery domain (Akeso; include/revive/server.h says when a
 * service may opt in).
 *
 * A library of its own (revive-rd-runner) because it needs an rd library,
 * and a service picks which: the instrumented one (rd_instrumented_dep),
 * whose hooks log every store of the service's code, or the plain one for
 * services that log by hand.
 *
 * Why retry exactly once: a fault that came from the environment (a soft
 * error, a transient resource failure) will not come again, and the second
 * attempt answers the client as if nothing happened; a fault that comes
 * again is deterministic in this request, and its client is told
 * (RV_EFAULT) rather than the process dying for it — the rest of the
 * service's clients never notice. The SSR is not undo-logged: the
 * journal's committed copy is its pre-image, restored whole. */
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "revive/rd.h"
#include "revive/server.h"
#include "core.h"

static void escalate(int sig, const char *why)
{
    rv__log(RV_LOG_CRIT, "unrecoverable fault (%s): escalating to a restart", why);
    rv__rt_escalate(sig);
}

/* rd's fault handlers replace the runtime's crash-record handlers, so
 * its escalation must write the crash record instead. Once per process;
 * rd_begin sets up each further thread itself. */
static int init_status = -1;

static void init_once(void)
{
    if (rd_init() == 0) {
        rd_set_escalate(escalate);
        init_status = 0;
    }
}

static int ensure_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_once);
    return init_status;
}

/* How a request's root domain ended up: it may end *completed* — it read
 * another request's uncommitted write — and commit, or be rolled back with
 * that other request, only later, on another thread. Its reply must wait
 * for that: a reply sent for a request that is then undone would tell the
 * client of effects that no longer exist. The markers run inside the rd
 * runtime, possibly in a fault handler on another thread: a futex, which
 * is async-signal-safe, carries the news. */
enum { PENDING, COMMITTED, UNDONE };

static void settle(int *state, int to)
{
    __atomic_store_n(state, to, __ATOMIC_RELEASE);
    syscall(SYS_futex, state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void on_commit(void *arg) { settle(arg, COMMITTED); }
static void on_undo(void *arg) { settle(arg, UNDONE); }

static int await_outcome(int *state)
{
    int s;
    while ((s = __atomic_load_n(state, __ATOMIC_ACQUIRE)) == PENDING)
        syscall(SYS_futex, state, FUTEX_WAIT_PRIVATE, PENDING, NULL, NULL, 0);
    return s;
}

/* One attempt: 1 and the handler's status, or 0 and the domain's code. */
static int attempt(rv_request *req, rv_handle_fn handle, int *out)
{
    volatile int ok = 1, rc = 0;
    int state = PENDING;
    RD_BEGIN(RD_BASIC) {
        rd_log_undo(on_undo, &state);
        rc = handle(req);
        rd_defer(on_commit, &state);
    } RD_ONABORT {
        ok = 0;
        rc = rd_errno();
    } RD_END
    if (ok && await_outcome(&state) == UNDONE) {
        ok = 0;
        rc = RD_ECASCADE;   /* undone with a request it depended on */
    }
    *out = rc;
    return ok;
}

int rv_domain_runner(rv_request *req, rv_handle_fn handle)
{
    if (ensure_init() < 0)
        rv__fail_stop("cannot set up recovery domains");
    int rc;
    for (int tries = 0; tries < 2; tries++) {
        if (attempt(req, handle, &rc))
            return rc;
        rv_request_rollback(req);
        if (rc > 0)
            return RV_EAPP_BASE - rc;   /* the handler's own rd_abort(code) */
        rv__log(RV_LOG_WARNING, "request %llu: fault (rd code %d) rolled back%s", (unsigned long long)req->seq, rc,
                  tries ? "; answered with RV_EFAULT" : "; retrying once");
    }
    return RV_EFAULT;
}
