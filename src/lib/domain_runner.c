/* domain_runner.c — tier 1 in the server runtime: each request in a root
 * recovery domain (Akeso, seed 002; include/revive/server.h says when a
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
#include <pthread.h>
#include <signal.h>
#include "revive/rd.h"
#include "revive/server.h"
#include "runtime.h"

static void escalate(int sig, const char *why)
{
    rv_rt_log(2, "unrecoverable fault (%s): escalating to a restart", why);
    rv_rt_escalate(sig);
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

/* One attempt: 1 and the handler's status, or 0 and the domain's code. */
static int attempt(rv_request *req, rv_handle_fn handle, int *out)
{
    volatile int ok = 1, rc = 0;
    RD_BEGIN(RD_BASIC) {
        rc = handle(req);
    } RD_ONABORT {
        ok = 0;
        rc = rd_errno();
    } RD_END
    *out = rc;
    return ok;
}

int rv_domain_runner(rv_request *req, rv_handle_fn handle)
{
    if (ensure_init() < 0)
        rv_rt_fail_stop("cannot set up recovery domains");
    int rc;
    for (int tries = 0; tries < 2; tries++) {
        if (attempt(req, handle, &rc))
            return rc;
        rv_request_rollback(req);
        if (rc > 0)
            return RV_EAPP_BASE - rc;   /* the handler's own rd_abort(code) */
        rv_rt_log(4, "request %llu: fault (rd code %d) rolled back%s", (unsigned long long)req->seq, rc,
                  tries ? "; answered with RV_EFAULT" : "; retrying once");
    }
    return RV_EFAULT;
}
