/* loader.c — starting, watching and restarting tasks; see loader.h.
 *
 * One struct per [task] section, for revived's whole life: a restart reuses
 * it. A task's death is learnt from child.h (a pidfd, or the SIGCHLD
 * fallback) exactly like a service instance's; its restart waits on its own
 * one-shot timerfd. */
#include "loader.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "child.h"
#include "conn.h"
#include "control.h"
#include "list.h"
#include "log.h"
#include "loop.h"
#include "reserve.h"
#include "launch.h"

/* Long enough that a task failing at once costs little, short enough that
 * a client's restart is not noticed. */
#define TASK_BACKOFF_MS 100

struct task_run {
    const struct rv_task_conf *conf;
    pid_t pid;                      /* 0: not running */
    int pidfd;
    struct conn *conn;              /* its name-space connection, while it runs */
    struct rv_handler exit_h, backoff_h;
    int backoff_tfd;
    unsigned starts;
};

static struct task_run *runs;
static size_t nruns;

static void schedule_start(struct task_run *t)
{
    rv_notice("task %s: starting again in %d ms", t->conf->name, TASK_BACKOFF_MS);
    timer_arm(t->backoff_tfd, TASK_BACKOFF_MS, 0);
}

/* Our end becomes non-blocking (like an accepted connection); the task's
 * end stays blocking, as a client library expects. */
static int ns_channel(int sv[2])
{
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    int fl = fcntl(sv[0], F_GETFL);
    if (fl < 0 || fcntl(sv[0], F_SETFL, fl | O_NONBLOCK) < 0) {
        close(sv[0]);
        close(sv[1]);
        return -1;
    }
    return 0;
}

static int spawn_task(struct task_run *t, int child_end)
{
    char task_var[RV_NAME_MAX + 16], ns_var[] = "REVIVE_NS_FD=3";
    snprintf(task_var, sizeof task_var, "REVIVE_TASK=%s", t->conf->name);
    char *const vars[] = { ns_var, task_var, NULL };
    int err = launch_program(&t->pid, t->conf->exec, t->conf->argv, child_end, vars, NULL);
    if (err) {
        t->pid = 0;
        errno = err;
        return -1;
    }
    return 0;
}

/* After the spawn: watch the process, adopt our end as its connection. */
static int attach_task(struct task_run *t, int our_end)
{
    if (child_watch(t->pid, &t->pidfd, &t->exit_h) < 0) {
        close(our_end);
        return -1;
    }
    t->conn = control_adopt(our_end, t->pid, t->conf);
    return t->conn ? 0 : -1;
}

static int start(struct task_run *t)
{
    int sv[2];
    if (ns_channel(sv) < 0)
        return -1;
    int rc = spawn_task(t, sv[1]);
    close(sv[1]);
    if (rc < 0) {
        close(sv[0]);
        return -1;
    }
    if (attach_task(t, sv[0]) < 0) {
        int e = errno;
        siginfo_t si;
        child_signal(t->pid, t->pidfd, SIGKILL);
        child_reap(t->pid, t->pidfd, &si, 0);
        child_unwatch(t->pid, &t->pidfd);
        t->pid = 0;
        errno = e;
        return -1;
    }
    return 0;
}

static void start_task(struct task_run *t)
{
    reserve_release();
    int rc = start(t);
    reserve_refill();
    if (rc < 0) {
        rv_err("task %s: cannot start %s: %s", t->conf->name, t->conf->exec, strerror(errno));
        schedule_start(t);
        return;
    }
    t->starts++;
    rv_notice("task %s: started process %d (start %u)", t->conf->name, (int)t->pid, t->starts);
}

static void on_backoff(struct rv_handler *h, uint32_t events)
{
    (void)events;
    struct task_run *t = rv__container_of(h, struct task_run, backoff_h);
    timer_drain(t->backoff_tfd);
    if (!t->pid)
        start_task(t);
}

/* The process is gone (reaped): its connection goes with it. */
static void stopped(struct task_run *t)
{
    child_unwatch(t->pid, &t->pidfd);
    t->pid = 0;
    if (t->conn) {
        conn_close(t->conn);
        conn_put(t->conn);
        t->conn = NULL;
    }
}

static bool wants_restart(const struct task_run *t, bool clean_exit)
{
    return t->conf->restart == RV_RESTART_ALWAYS || (t->conf->restart == RV_RESTART_ON_FAILURE && !clean_exit);
}

static void on_exit_event(struct rv_handler *h, uint32_t events)
{
    (void)events;
    struct task_run *t = rv__container_of(h, struct task_run, exit_h);
    siginfo_t si = { 0 };
    if (!t->pid || child_reap(t->pid, t->pidfd, &si, WNOHANG) != 1)
        return;
    bool clean = si.si_code == CLD_EXITED && si.si_status == 0;
    if (si.si_code == CLD_EXITED)
        rv_log(clean ? RV_LOG_NOTICE : RV_LOG_WARNING, "task %s: process %d exited with status %d",
               t->conf->name, (int)t->pid, si.si_status);
    else
        rv_warn("task %s: process %d killed by SIG%s", t->conf->name, (int)t->pid,
                sigabbrev_np(si.si_status) ? sigabbrev_np(si.si_status) : "?");
    stopped(t);
    if (wants_restart(t, clean))
        schedule_start(t);
    else
        rv_notice("task %s: not restarted (restart = %s)", t->conf->name,
                  t->conf->restart == RV_RESTART_NEVER ? "never" : "on-failure");
}

static int task_init(struct task_run *t, const struct rv_task_conf *conf)
{
    *t = (struct task_run){ .conf = conf, .pidfd = -1, .exit_h = { on_exit_event }, .backoff_h = { on_backoff } };
    t->backoff_tfd = timer_new();
    if (t->backoff_tfd < 0 || loop_add(t->backoff_tfd, EPOLLIN, &t->backoff_h) < 0)
        return -1;
    start_task(t);
    return 0;
}

int loader_init(const struct rv_manifest *m)
{
    if (!m->ntasks)
        return 0;
    runs = calloc(m->ntasks, sizeof *runs);
    if (!runs)
        return -1;
    for (size_t i = 0; i < m->ntasks; i++) {
        runs[i].backoff_tfd = -1;
        nruns++;
        if (task_init(&runs[i], &m->tasks[i]) < 0)
            return -1;
    }
    return 0;
}

/* Killed, not asked: a task's state worth keeping lives in the services
 * and dataspaces, and a revived that is going away cannot serve it anyway. */
void loader_fini(void)
{
    for (size_t i = 0; i < nruns; i++) {
        struct task_run *t = &runs[i];
        if (t->pid) {
            siginfo_t si;
            child_signal(t->pid, t->pidfd, SIGKILL);
            child_reap(t->pid, t->pidfd, &si, 0);
            stopped(t);
        }
        if (t->backoff_tfd >= 0) {
            loop_del(t->backoff_tfd);
            close(t->backoff_tfd);
        }
    }
    free(runs);
    runs = NULL;
    nruns = 0;
}
