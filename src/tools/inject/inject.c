/* inject.c — one experiment from start to end: take the process, choose,
 * arm, wait, inject, let go, watch. The pieces live in elfsym.c (symbols),
 * pick.c (decoding and the seeded choice), trace.c (ptrace and breakpoints)
 * and fault.c (the faults); this file orders them and fills the result. */
#include "inject.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "elfsym.h"
#include "fault.h"
#include "pick.h"
#include "trace.h"

#define SIGCHLD_POLL_NS (20 * 1000 * 1000L)

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void record_choice(struct rvi_result *res, const struct rvi_funcs *funcs,
                          const struct rvi_choice *c, enum rvi_fault fault)
{
    const struct rvi_func *f = &funcs->v[c->func];
    snprintf(res->module, sizeof res->module, "%s", f->module);
    snprintf(res->function, sizeof res->function, "%s", f->name);
    snprintf(res->insn, sizeof res->insn, "%s", c->insn);
    res->address = c->addr;
    res->offset = c->addr - f->addr;
    res->candidates = c->candidates;
    if (fault == RVI_FAULT_REG) {
        snprintf(res->reg, sizeof res->reg, "%s", c->reg.name);
        res->bit = c->bit;
        res->width = (int)c->reg.width;
    }
}

static int apply_fault(struct rvi_trace *tr, pid_t tid, const struct rvi_choice *c,
                       enum rvi_fault fault, struct rvi_result *res)
{
    if (fault == RVI_FAULT_REG)
        return rvi_fault_reg(tid, &c->reg, c->bit, &res->before, &res->after, res->error,
                             sizeof res->error);
    if (rvi_fault_mem(tid, &c->mem, &res->mem_addr, res->error, sizeof res->error) < 0)
        return -1;
    rvi_trace_set_signal(tr, tid, SIGSEGV);
    return 0;
}

static void announce_armed(int fd)
{
    if (fd >= 0 && write(fd, "ARMED\n", 6) != 6)
        return;
}

/* Arms the breakpoint, runs the window, injects on a hit. */
static int experiment(const struct rvi_config *cfg, struct rvi_trace *tr,
                      const struct rvi_choice *c, struct rvi_result *res)
{
    static const enum rvi_why why[] = {
        [RVI_W_TIMEOUT] = RVI_WHY_TIMEOUT, [RVI_W_EXITED] = RVI_WHY_EXITED,
        [RVI_W_EXEC] = RVI_WHY_EXEC, [RVI_W_CANCELLED] = RVI_WHY_CANCELLED,
    };
    if (cfg->cancel && *cfg->cancel) {
        res->why = RVI_WHY_CANCELLED;
        return RVI_NOT_ACTIVATED;
    }
    if (rvi_trace_arm(tr, cfg->bp, c->addr, res->error, sizeof res->error) < 0)
        return RVI_ERROR;
    rvi_trace_resume(tr);
    announce_armed(cfg->armed_fd);
    pid_t hit = 0;
    enum rvi_wait w = rvi_trace_wait_hit(tr, cfg->timeout_ms, &hit);
    if (w != RVI_W_HIT) {
        res->why = why[w];
        return RVI_NOT_ACTIVATED;
    }
    res->tid = hit;
    return apply_fault(tr, hit, c, cfg->fault, res) < 0 ? RVI_ERROR : RVI_ACTIVATED;
}

static void set_fate(struct rvi_result *res, int status)
{
    res->fate = WIFSIGNALED(status) ? RVI_FATE_SIGNALED : RVI_FATE_EXITED;
    res->status = WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status);
}

static void kill_child(pid_t pid)
{
    int status;
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
}

/* Our child: wait for its exit within the window, then kill it unless kept. */
static void observe_child(const struct rvi_config *cfg, pid_t pid, struct rvi_result *res)
{
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    int64_t deadline = now_ms() + cfg->observe_ms;
    int status;
    for (;;) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            set_fate(res, status);
            return;
        }
        int64_t left = deadline - now_ms();
        if (left <= 0 || (cfg->cancel && *cfg->cancel))
            break;
        struct timespec ts = { 0, left * 1000000L < SIGCHLD_POLL_NS ? left * 1000000L
                                                                   : SIGCHLD_POLL_NS };
        sigtimedwait(&chld, NULL, &ts);
    }
    res->fate = RVI_FATE_RUNNING;
    if (!cfg->keep_running)
        kill_child(pid);
}

/* Not our child: only whether it is still there is known. */
static void observe_other(const struct rvi_config *cfg, pid_t pid, struct rvi_result *res)
{
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0) {
        res->fate = RVI_FATE_GONE;
        return;
    }
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int64_t deadline = now_ms() + cfg->observe_ms;
    int r;
    do
        r = poll(&p, 1, (int)(deadline - now_ms() > 0 ? deadline - now_ms() : 0));
    while (r < 0 && errno == EINTR && !(cfg->cancel && *cfg->cancel));
    res->fate = r > 0 ? RVI_FATE_GONE : RVI_FATE_RUNNING;
    close(fd);
}

static void observe(const struct rvi_config *cfg, struct rvi_trace *tr, struct rvi_result *res)
{
    if (tr->leader_done)
        set_fate(res, tr->leader_status);
    else if (tr->spawned)
        observe_child(cfg, tr->pid, res);
    else
        observe_other(cfg, tr->pid, res);
}

/* Resolve, choose, run: everything between taking and letting go. */
static int held(const struct rvi_config *cfg, struct rvi_trace *tr, struct rvi_result *res)
{
    struct rvi_funcs funcs;
    struct rvi_choice c;
    if (rvi_resolve(tr->pid, cfg->modules, cfg->nmodules, cfg->functions, &funcs, res->error,
                    sizeof res->error) < 0)
        return RVI_ERROR;
    int rc = RVI_ERROR;
    if (rvi_pick(tr->pid, &funcs, cfg->fault, cfg->seed, &c, res->error, sizeof res->error) == 0) {
        record_choice(res, &funcs, &c, cfg->fault);
        rc = experiment(cfg, tr, &c, res);
    }
    rvi_funcs_free(&funcs);
    return rc;
}

int rvi_run(const struct rvi_config *cfg, struct rvi_result *res)
{
    sigset_t chld, old;
    struct rvi_trace tr = { .cancel = cfg->cancel };
    memset(res, 0, sizeof *res);
    res->bit = -1;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &chld, &old);
    int rc = cfg->pid ? rvi_trace_attach(&tr, cfg->pid, res->error, sizeof res->error)
                      : rvi_trace_spawn(&tr, cfg->argv, &old, res->error, sizeof res->error);
    res->pid = tr.pid;
    rc = rc < 0 ? RVI_ERROR : held(cfg, &tr, res);
    char err[sizeof res->error];
    if (rvi_trace_release(&tr, err, sizeof err) < 0 && rc != RVI_ERROR) {
        memcpy(res->error, err, sizeof err);
        rc = RVI_ERROR;
    }
    if (rc != RVI_ERROR)
        observe(cfg, &tr, res);
    else if (tr.spawned && !tr.leader_done)
        kill_child(tr.pid);
    res->outcome = (enum rvi_outcome)rc;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}
