/* classify.c — what one experiment's fault did, and whether revive recovered.
 *
 * The outcome, checked in this order:
 *   NOT_ACTIVATED  the instruction was not reached within the window;
 *   HANG           the watchdog killed the instance (last_exit "hang ...");
 *   CRASH          the instance died otherwise (it has a last_exit);
 *   DETECTED       no death, but the runtime or the service reported it
 *                  (requests_failed went up, or a client got an error code);
 *   SDC            nobody reported anything, yet an output was wrong, a
 *                  timer client stalled, a client stayed blocked (a hang
 *                  the watchdog missed), or a fresh session failed;
 *   BENIGN         nothing visible at all.
 * Manifested faults are HANG, CRASH, DETECTED and SDC. Their recovery, as in
 * CuriOS ("recovered" = afterwards all clients are served correctly):
 *   RECOVERED              every client's outputs correct, no client error,
 *                          and a fresh session afterwards served correctly;
 *   RECOVERED_WITH_LOSS    some client got an error (its session lost or its
 *                          request poisoned), the fresh session is correct;
 *   NOT_RECOVERED          the fresh session failed, a client was left
 *                          blocked, or a client got wrong output or stalled
 *                          without being told (an SDC is never recovered).
 * A blocked client's error code is not a detection: it is how stopping
 * revived (the only way to free it) ended its call. */
#include <stdio.h>
#include <string.h>
#include "campaign.h"

static const char *const outcome_names[CP_NOUTCOMES] = {
    "NOT_ACTIVATED", "BENIGN", "DETECTED", "CRASH", "HANG", "SDC",
};
static const char *const recovery_names[CP_NRECOVERY] = {
    "-", "RECOVERED", "RECOVERED_WITH_LOSS", "NOT_RECOVERED",
};

const char *cp_outcome_name(enum cp_outcome o) { return outcome_names[o]; }
const char *cp_recovery_name(enum cp_recovery r) { return recovery_names[r]; }

static bool any_client(const struct cp_experiment *e, bool (*pred)(const struct cp_client *))
{
    for (int i = 0; i < CP_CLIENTS; i++)
        if (pred(&e->w.c[i]))
            return true;
    return false;
}

static bool errored(const struct cp_client *c) { return c->err != 0 && !c->blocked; }
static bool silent_bad(const struct cp_client *c) { return c->blocked || (!c->err && (c->wrong || c->stalled)); }

static enum cp_outcome outcome(const struct cp_experiment *e)
{
    if (e->inj.outcome != RVI_ACTIVATED)
        return CP_NOT_ACTIVATED;
    bool died = e->status_ok && (e->st.restarts > 0 || strcmp(e->st.last_exit, "-") != 0);
    if (died)   /* an instance exited: restarted, or failed for good */
        return strncmp(e->st.last_exit, "hang", 4) == 0 ? CP_HANG : CP_CRASH;
    if (!e->status_ok)
        return CP_CRASH;   /* revived itself is gone: the worst crash there is */
    if (e->st.requests_failed > 0 || any_client(e, errored))
        return CP_DETECTED;
    if (any_client(e, silent_bad) || !e->post_ok || e->workload_stuck)
        return CP_SDC;
    return CP_BENIGN;
}

static enum cp_recovery recovery(const struct cp_experiment *e)
{
    switch (e->outcome) {
    case CP_NOT_ACTIVATED: case CP_BENIGN: case CP_NOUTCOMES:
        return CP_REC_NONE;
    case CP_SDC:
        return CP_NOT_RECOVERED;
    default:
        break;
    }
    if (!e->status_ok || !e->post_ok || e->workload_stuck || any_client(e, silent_bad))
        return CP_NOT_RECOVERED;
    return any_client(e, errored) ? CP_RECOVERED_WITH_LOSS : CP_RECOVERED;
}

/* The fault, revived's counters, then whatever a client or the fresh
 * session noticed: the row's `detail` column. */
static void describe(struct cp_experiment *e)
{
    size_t n = sizeof e->detail, k = 0;
    char *d = e->detail;
    if (e->inj.outcome == RVI_ERROR)
        k += (size_t)snprintf(d + k, n - k, "injector error: %s; ", e->inj.error);
    else if (e->fault == RVI_FAULT_REG && e->inj.bit >= 0)
        k += (size_t)snprintf(d + k, n - k, "%s bit %d; ", e->inj.reg, e->inj.bit);
    if (e->status_ok)
        k += (size_t)snprintf(d + k, n - k, "restarts=%u failed=%llu state=%s last_exit=%s", e->st.restarts,
                              (unsigned long long)e->st.requests_failed, e->st.state, e->st.last_exit);
    else
        k += (size_t)snprintf(d + k, n - k, "revived did not answer");
    for (int i = 0; i < CP_CLIENTS && k < n; i++)
        if (e->w.c[i].blocked)
            k += (size_t)snprintf(d + k, n - k, "; client %d: blocked, nobody answered (then %s)", i,
                                  e->w.c[i].note);
        else if (e->w.c[i].note[0])
            k += (size_t)snprintf(d + k, n - k, "; client %d: %s", i, e->w.c[i].note);
    if (!e->post_ok && k < n)
        snprintf(d + k, n - k, "; fresh session: %s", e->post_why);
}

void cp_classify(struct cp_experiment *e)
{
    e->outcome = outcome(e);
    e->recovery = recovery(e);
    describe(e);
}
