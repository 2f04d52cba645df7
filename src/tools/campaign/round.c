/* round.c — one injected fault against a running revived, and what the
 * clients saw: the unit both campaign modes are made of.
 *
 * The injector (rvi_run) runs on its own thread, attached to the service
 * instance; once it says ARMED the workload runs on this one. The end of
 * the workload closes the injection window, so a fault the workload never
 * reaches is NOT_ACTIVATED rather than a wait for the full window, and the
 * fresh session that checks recovery afterwards is never hit by the fault
 * itself (kv's post-check, say, is the only caller of KV_CHECK). A client
 * still blocked at the workload's bound can only be freed by ending
 * revived, which ends the round's daemon too (the caller sees d->pid == 0). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "campaign.h"

#define WINDOW_MS 10000     /* the injector's window; the workload's end cancels it */
#define WORKLOAD_MS 5000    /* a client still blocked after this is stuck: the watchdog
                               and a restart take well under a second */
#define SETTLE_MS 10000

struct injector {
    struct rvi_config cfg;
    struct rvi_result *res;
    int armed_w;
};

static void *injector_thread(void *arg)
{
    struct injector *in = arg;
    rvi_run(&in->cfg, in->res);
    close(in->armed_w);   /* EOF tells the main thread if it never armed */
    return NULL;
}

static bool wait_armed(int fd)
{
    char buf[8];
    size_t got = 0;
    while (got < 6) {
        ssize_t r = read(fd, buf + got, 6 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return memcmp(buf, "ARMED\n", 6) == 0;
}

/* Once the window is closed: the fresh session and the counters; or, if a
 * client stayed blocked, the end of revived (which frees it). */
static void observe(struct cp_experiment *e, struct cp_daemon *d, pid_t instance)
{
    if (e->workload_stuck) {
        e->status_ok = cp_status(d, &e->st) == 0;
        cp_daemon_stop(d, instance);
        for (int i = 0; i < CP_CLIENTS; i++)
            e->w.c[i].blocked = !e->w.joined[i];
        cp_workload_join(&e->w);
        snprintf(e->post_why, sizeof e->post_why, "not tried (revived stopped to free the blocked client)");
        return;
    }
    e->post_ok = cp_postcheck(&e->w, d->sock, e->post_why, sizeof e->post_why);
    e->status_ok = cp_wait_settled(d, &e->st, SETTLE_MS) == 0;
}

int cp_settle(const struct cp_daemon *d, struct rv_wire_svc_status *st)
{
    return cp_wait_settled(d, st, SETTLE_MS);
}

void cp_round(struct cp_experiment *e, struct cp_daemon *d, pid_t instance)
{
    volatile sig_atomic_t cancel = 0;
    int p[2];
    if (pipe(p) < 0)
        abort();
    struct injector in = {
        .cfg = { .pid = instance, .fault = e->fault, .bp = RVI_BP_SW, .seed = e->seed,
                 .timeout_ms = WINDOW_MS, .observe_ms = 100, .armed_fd = p[1], .cancel = &cancel },
        .res = &e->inj, .armed_w = p[1],
    };
    pthread_t th;
    if (pthread_create(&th, NULL, injector_thread, &in) != 0)
        abort();
    bool armed = wait_armed(p[0]);
    if (armed)
        e->workload_stuck = cp_workload_run(&e->w, d->sock, WORKLOAD_MS) < 0;
    cancel = 1;
    pthread_join(th, NULL);
    close(p[0]);
    if (armed)
        observe(e, d, instance);
}
