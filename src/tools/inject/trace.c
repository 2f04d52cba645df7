/* trace.c — holding a process with ptrace: its threads, their stops, the
 * breakpoint.
 *
 * Every thread is a separate tracee. Attaching seizes each thread listed in
 * /proc/PID/task (PTRACE_SEIZE with PTRACE_O_TRACECLONE, so threads created
 * later are traced from birth) and stops it with PTRACE_INTERRUPT; a spawned
 * child is seized before it execs. Threads are waited for one by one
 * (waitpid(tid, __WALL)), never with waitpid(-1), so a caller's other
 * children are left alone; SIGCHLD, blocked, wakes the loop.
 *
 * A stop is one of: a signal-delivery-stop (our breakpoint's SIGTRAP, or a
 * signal meant for the process, passed on when the thread resumes), a
 * PTRACE_EVENT_STOP (our interrupt, a new thread's first stop, or a
 * group-stop, which is honoured with PTRACE_LISTEN), a clone or exec event,
 * or an exit.
 *
 * The breakpoint: software is an int3 (0xCC) written over the instruction's
 * first byte; the thread traps with rip one past it, so rip is rewound. Hardware
 * is debug register DR0 = address with DR7 enabling it as an execute
 * breakpoint, per thread (set on each new thread too); the thread traps with rip
 * at the instruction. Removing it means stopping every thread first: only a
 * stopped tracee's memory and debug registers can be written, and a thread that
 * trapped on the int3 before it was removed must be found and rewound. */
#include "trace.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TRACE_OPTS (PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC)
#define POLL_NS (20 * 1000 * 1000L)  /* re-poll even if a SIGCHLD went elsewhere */
#define STOP_WINDOW_MS 5000           /* every thread stops within this, or give up */
#define DR_OFF(i) offsetof(struct user, u_debugreg[i])
#define DR7_L0 1ul                    /* DR0 enabled, execute, length 1 */

enum phase { RUN, HOLD };
enum event { TEV_NONE, TEV_HIT, TEV_EXEC };

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct rvi_thread *find_thread(struct rvi_trace *tr, pid_t tid)
{
    for (size_t i = 0; i < tr->n; i++)
        if (tr->t[i].tid == tid)
            return &tr->t[i];
    return NULL;
}

static struct rvi_thread *add_thread(struct rvi_trace *tr, pid_t tid)
{
    struct rvi_thread *th = find_thread(tr, tid);
    if (th)
        return th;
    if (tr->n == tr->cap) {
        size_t cap = tr->cap ? tr->cap * 2 : 16;
        struct rvi_thread *t = realloc(tr->t, cap * sizeof *t);
        if (!t)
            return NULL;
        tr->t = t;
        tr->cap = cap;
    }
    th = &tr->t[tr->n++];
    *th = (struct rvi_thread){ .tid = tid, .st = RVI_TS_RUNNING };
    return th;
}

static bool all_gone(const struct rvi_trace *tr)
{
    for (size_t i = 0; i < tr->n; i++)
        if (tr->t[i].st != RVI_TS_GONE)
            return false;
    return true;
}

static int set_debugregs(pid_t tid, uint64_t addr, bool on)
{
    if (on)
        return ptrace(PTRACE_POKEUSER, tid, DR_OFF(0), addr) < 0 ||
               ptrace(PTRACE_POKEUSER, tid, DR_OFF(7), DR7_L0) < 0 ? -1 : 0;
    return ptrace(PTRACE_POKEUSER, tid, DR_OFF(7), 0) < 0 ||
           ptrace(PTRACE_POKEUSER, tid, DR_OFF(0), 0) < 0 ? -1 : 0;
}

/* Is this SIGTRAP our breakpoint (armed now, or armed before and hit by a
 * thread that trapped just before it was removed)? Rewinds past an int3. */
static bool our_trap(struct rvi_trace *tr, pid_t tid)
{
    siginfo_t si;
    struct user_regs_struct r;
    if (!tr->bp_addr || ptrace(PTRACE_GETSIGINFO, tid, NULL, &si) < 0 ||
        ptrace(PTRACE_GETREGS, tid, NULL, &r) < 0)
        return false;
    if (tr->kind == RVI_BP_HW)
        return si.si_code == TRAP_HWBKPT && r.rip == tr->bp_addr;
    if (si.si_code != SI_KERNEL || r.rip != tr->bp_addr + 1)
        return false;
    r.rip = tr->bp_addr;
    return ptrace(PTRACE_SETREGS, tid, NULL, &r) == 0;
}

static bool is_stop_signal(int sig)
{
    return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

static void resume_thread(struct rvi_trace *tr, struct rvi_thread *th)
{
    if (tr->armed && tr->kind == RVI_BP_HW && !th->dr_set)
        th->dr_set = set_debugregs(th->tid, tr->bp_addr, true) == 0;
    if (ptrace(PTRACE_CONT, th->tid, NULL, (void *)(long)th->sig) == 0 || errno == ESRCH)
        th->st = RVI_TS_RUNNING;
    th->sig = 0;
}

static void on_exit_status(struct rvi_trace *tr, struct rvi_thread *th, int status)
{
    th->st = RVI_TS_GONE;
    if (th->tid == tr->pid) {
        tr->leader_done = true;
        tr->leader_status = status;
    }
}

static enum event on_event_stop(struct rvi_trace *tr, struct rvi_thread *th, int status,
                                enum phase ph)
{
    int ev = status >> 16, sig = WSTOPSIG(status);
    if (ev == PTRACE_EVENT_EXEC) {
        tr->armed = false;              /* the old image, breakpoint included, is gone */
        return TEV_EXEC;
    }
    if (ev == PTRACE_EVENT_STOP && is_stop_signal(sig) && ph == RUN) {
        if (ptrace(PTRACE_LISTEN, th->tid, NULL, NULL) == 0)
            th->st = RVI_TS_LISTENING;
    }
    return TEV_NONE;
}

/* Updates TH from one wait status. In the RUN phase every stop but a hit is
 * resumed at once; in HOLD every thread stays stopped. */
static enum event handle(struct rvi_trace *tr, struct rvi_thread *th, int status, enum phase ph)
{
    unsigned long msg;
    if (status >> 16 == PTRACE_EVENT_CLONE &&
        ptrace(PTRACE_GETEVENTMSG, th->tid, NULL, &msg) == 0) {
        pid_t tid = th->tid;            /* adding may move the array */
        add_thread(tr, (pid_t)msg);
        th = find_thread(tr, tid);
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
        on_exit_status(tr, th, status);
        return TEV_NONE;
    }
    th->st = RVI_TS_STOPPED;
    th->sig = 0;
    enum event e = TEV_NONE;
    if (status >> 16)
        e = on_event_stop(tr, th, status, ph);
    else if (WSTOPSIG(status) == SIGTRAP && our_trap(tr, th->tid))
        e = tr->armed ? TEV_HIT : TEV_NONE;
    else
        th->sig = WSTOPSIG(status);
    if (ph == RUN && e == TEV_NONE && th->st == RVI_TS_STOPPED)
        resume_thread(tr, th);
    return e;
}

/* One wait status of any traced thread, or why there is none. */
static int next_status(struct rvi_trace *tr, int64_t deadline, bool cancellable,
                       struct rvi_thread **th, int *status)
{
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    for (;;) {
        for (size_t i = 0; i < tr->n; i++) {
            if (tr->t[i].st == RVI_TS_GONE)
                continue;
            pid_t r = waitpid(tr->t[i].tid, status, __WALL | WNOHANG);
            if (r == tr->t[i].tid) {
                *th = &tr->t[i];
                return 0;
            }
            if (r < 0 && errno == ECHILD)
                tr->t[i].st = RVI_TS_GONE;
        }
        if (all_gone(tr))
            return RVI_W_EXITED;
        if (cancellable && tr->cancel && *tr->cancel)
            return RVI_W_CANCELLED;
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return RVI_W_TIMEOUT;
        struct timespec ts = { 0, left * 1000000L < POLL_NS ? left * 1000000L : POLL_NS };
        sigtimedwait(&chld, NULL, &ts);
    }
}

enum rvi_wait rvi_trace_wait_hit(struct rvi_trace *tr, int timeout_ms, pid_t *hit)
{
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        struct rvi_thread *th;
        int status, w = next_status(tr, deadline, true, &th, &status);
        if (w)
            return (enum rvi_wait)w;
        pid_t tid = th->tid;
        enum event e = handle(tr, th, status, RUN);
        if (e == TEV_HIT) {
            *hit = tid;
            return RVI_W_HIT;
        }
        if (e == TEV_EXEC)
            return RVI_W_EXEC;
    }
}

static bool needs_stop(const struct rvi_thread *th)
{
    return th->st == RVI_TS_RUNNING || th->st == RVI_TS_LISTENING || th->st == RVI_TS_STOPPING;
}

/* Interrupts every running thread and waits until all are stopped. */
static int stop_all(struct rvi_trace *tr)
{
    int64_t deadline = now_ms() + STOP_WINDOW_MS;
    for (;;) {
        bool pending = false;
        for (size_t i = 0; i < tr->n; i++) {
            struct rvi_thread *th = &tr->t[i];
            if (th->st == RVI_TS_RUNNING || th->st == RVI_TS_LISTENING) {
                ptrace(PTRACE_INTERRUPT, th->tid, NULL, NULL);
                th->st = RVI_TS_STOPPING;
            }
            pending |= needs_stop(th);
        }
        if (!pending)
            return 0;
        struct rvi_thread *th;
        int status, w = next_status(tr, deadline, false, &th, &status);
        if (w == RVI_W_EXITED)
            return 0;
        if (w)
            return -1;
        handle(tr, th, status, HOLD);
    }
}

void rvi_trace_resume(struct rvi_trace *tr)
{
    for (size_t i = 0; i < tr->n; i++)
        if (tr->t[i].st == RVI_TS_STOPPED)
            resume_thread(tr, &tr->t[i]);
}

void rvi_trace_set_signal(struct rvi_trace *tr, pid_t tid, int sig)
{
    struct rvi_thread *th = find_thread(tr, tid);
    if (th)
        th->sig = sig;
}

static struct rvi_thread *any_stopped(struct rvi_trace *tr)
{
    for (size_t i = 0; i < tr->n; i++)
        if (tr->t[i].st == RVI_TS_STOPPED)
            return &tr->t[i];
    return NULL;
}

/* Replaces the byte at ADDR (int3 in, original out) through stopped TID. */
static int poke_byte(pid_t tid, uint64_t addr, uint8_t byte, uint8_t *old)
{
    errno = 0;
    long word = ptrace(PTRACE_PEEKTEXT, tid, (void *)addr, NULL);
    if (errno)
        return -1;
    if (old)
        *old = (uint8_t)word;
    word = (long)(((unsigned long)word & ~0xfful) | byte);
    return ptrace(PTRACE_POKETEXT, tid, (void *)addr, (void *)word) < 0 ? -1 : 0;
}

int rvi_trace_arm(struct rvi_trace *tr, enum rvi_bp kind, uint64_t addr, char *err, size_t errlen)
{
    struct rvi_thread *th = any_stopped(tr);
    tr->kind = kind;
    tr->bp_addr = addr;
    if (!th) {
        snprintf(err, errlen, "no stopped thread to set the breakpoint through");
        return -1;
    }
    if (kind == RVI_BP_SW) {
        if (poke_byte(th->tid, addr, 0xcc, &tr->orig_byte) < 0) {
            snprintf(err, errlen, "writing int3 at %#llx: %s", (unsigned long long)addr,
                     strerror(errno));
            return -1;
        }
        tr->armed = true;
        return 0;
    }
    tr->armed = true;   /* so that a failure below still clears what was set */
    for (size_t i = 0; i < tr->n; i++) {
        struct rvi_thread *t = &tr->t[i];
        if (t->st == RVI_TS_STOPPED && set_debugregs(t->tid, addr, true) < 0) {
            snprintf(err, errlen, "setting debug registers of thread %d: %s", (int)t->tid,
                     strerror(errno));
            return -1;
        }
        t->dr_set = t->st == RVI_TS_STOPPED;
    }
    return 0;
}

static int disarm(struct rvi_trace *tr, char *err, size_t errlen)
{
    if (!tr->armed)
        return 0;
    int rc = 0;
    if (tr->kind == RVI_BP_SW) {
        struct rvi_thread *th = any_stopped(tr);
        if (!th || poke_byte(th->tid, tr->bp_addr, tr->orig_byte, NULL) < 0)
            rc = -1;
    } else {
        /* every thread, dr_set or not: a clone may inherit its parent's */
        for (size_t i = 0; i < tr->n; i++) {
            struct rvi_thread *t = &tr->t[i];
            if (t->st != RVI_TS_GONE && set_debugregs(t->tid, 0, false) < 0)
                rc = -1;
            t->dr_set = false;
        }
    }
    tr->armed = false;
    if (rc < 0)
        snprintf(err, errlen, "could not remove the breakpoint at %#llx from process %d",
                 (unsigned long long)tr->bp_addr, (int)tr->pid);
    return rc;
}

static void detach_all(struct rvi_trace *tr)
{
    for (size_t i = 0; i < tr->n; i++) {
        struct rvi_thread *th = &tr->t[i];
        if (th->st != RVI_TS_GONE)
            ptrace(PTRACE_DETACH, th->tid, NULL, (void *)(long)th->sig);
    }
}

int rvi_trace_release(struct rvi_trace *tr, char *err, size_t errlen)
{
    int rc = 0;
    if (tr->n) {
        if (stop_all(tr) < 0) {
            snprintf(err, errlen, "some thread of process %d did not stop", (int)tr->pid);
            rc = -1;
        }
        if (disarm(tr, err, errlen) < 0)
            rc = -1;
        detach_all(tr);
    }
    free(tr->t);
    tr->t = NULL;
    tr->n = tr->cap = 0;
    return rc;
}

/* Seizes every thread listed in /proc/PID/task until a pass finds no new one:
 * then each existing thread is traced and each new one is traced from birth. */
static int seize_tasks(struct rvi_trace *tr, char *err, size_t errlen)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/task", (int)tr->pid);
    for (bool added = true; added;) {
        added = false;
        DIR *d = opendir(dir);
        if (!d) {
            snprintf(err, errlen, "cannot list %s: %s", dir, strerror(errno));
            return -1;
        }
        for (struct dirent *e; (e = readdir(d));) {
            pid_t tid = (pid_t)atoi(e->d_name);
            if (tid <= 0 || find_thread(tr, tid))
                continue;
            if (ptrace(PTRACE_SEIZE, tid, NULL, (void *)(long)TRACE_OPTS) < 0)
                continue;                       /* it exited meanwhile */
            if (!add_thread(tr, tid)) {
                closedir(d);
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            added = true;
        }
        closedir(d);
    }
    return 0;
}

int rvi_trace_attach(struct rvi_trace *tr, pid_t pid, char *err, size_t errlen)
{
    tr->pid = pid;
    if (pid <= 0 || ptrace(PTRACE_SEIZE, pid, NULL, (void *)(long)TRACE_OPTS) < 0) {
        int e = pid <= 0 ? ESRCH : errno;
        if (e == EPERM)
            snprintf(err, errlen, "no permission to trace process %d (not yours, already traced, "
                     "or restricted by /proc/sys/kernel/yama/ptrace_scope)", (int)pid);
        else if (e == ESRCH)
            snprintf(err, errlen, "no such process: %d", (int)pid);
        else
            snprintf(err, errlen, "cannot trace process %d: %s", (int)pid, strerror(e));
        return -1;
    }
    if (!add_thread(tr, pid) || seize_tasks(tr, err, errlen) < 0)
        return -1;
    if (stop_all(tr) < 0 || all_gone(tr)) {
        snprintf(err, errlen, "process %d did not stop (or exited)", (int)pid);
        return -1;
    }
    return 0;
}

static uint64_t entry_point(pid_t pid)
{
    char path[64];
    Elf64_auxv_t av;
    uint64_t entry = 0;
    snprintf(path, sizeof path, "/proc/%d/auxv", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    while (fd >= 0 && !entry && read(fd, &av, sizeof av) == sizeof av && av.a_type != AT_NULL)
        if (av.a_type == AT_ENTRY)
            entry = av.a_un.a_val;
    if (fd >= 0)
        close(fd);
    return entry;
}

/* From the exec stop to the program's entry point, the loader having mapped
 * the libraries. The temporary breakpoint is forgotten once passed. */
static int run_to_entry(struct rvi_trace *tr, char *err, size_t errlen)
{
    uint64_t entry = entry_point(tr->pid);
    pid_t hit;
    if (!entry) {
        snprintf(err, errlen, "cannot find the entry point of process %d", (int)tr->pid);
        return -1;
    }
    if (rvi_trace_arm(tr, RVI_BP_SW, entry, err, errlen) < 0)
        return -1;
    rvi_trace_resume(tr);
    enum rvi_wait w = rvi_trace_wait_hit(tr, STOP_WINDOW_MS, &hit);
    if (w != RVI_W_HIT) {
        snprintf(err, errlen, "the program did not reach its entry point");
        return -1;
    }
    int rc = disarm(tr, err, errlen) < 0 || stop_all(tr) < 0 ? -1 : 0;
    tr->bp_addr = 0;
    return rc;
}

static void exec_child(int sync, int report, char *const argv[], const sigset_t *mask)
{
    char c;
    setpgid(0, 0);
    sigprocmask(SIG_SETMASK, mask, NULL);
    if (read(sync, &c, 1) == 1)
        execvp(argv[0], argv);
    int e = errno;
    if (write(report, &e, sizeof e) < 0)
        _exit(126);
    _exit(127);
}

/* The child blocks on SYNC until it is seized, so its exec is traced. */
static int start_child(struct rvi_trace *tr, char *const argv[], const sigset_t *mask, int *report,
                       char *err, size_t errlen)
{
    int sync[2], rep[2];
    if (pipe2(sync, O_CLOEXEC) < 0 || pipe2(rep, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0)
        exec_child(sync[0], rep[1], argv, mask);
    close(sync[0]);
    close(rep[1]);
    *report = rep[0];
    int rc = pid < 0 ? -1 : 0;
    if (pid > 0) {
        tr->pid = pid;
        tr->spawned = true;
        rc = ptrace(PTRACE_SEIZE, pid, NULL,
                    (void *)(long)(TRACE_OPTS | PTRACE_O_EXITKILL));
        if (rc == 0 && !add_thread(tr, pid))
            rc = -1;
        if (rc < 0)
            kill(pid, SIGKILL);
    }
    if (rc < 0)
        snprintf(err, errlen, "cannot start a traced child: %s", strerror(errno));
    else if (write(sync[1], "g", 1) != 1)
        rc = -1;
    close(sync[1]);
    return rc;
}

static int wait_exec(struct rvi_trace *tr, int report, const char *prog, char *err, size_t errlen)
{
    for (;;) {
        struct rvi_thread *th;
        int status, e = 0;
        if (next_status(tr, now_ms() + STOP_WINDOW_MS, false, &th, &status) != 0) {
            if (read(report, &e, sizeof e) == sizeof e)
                snprintf(err, errlen, "cannot execute %s: %s", prog, strerror(e));
            else
                snprintf(err, errlen, "%s did not start", prog);
            return -1;
        }
        pid_t tid = th->tid;            /* handle() may move the array */
        if (handle(tr, th, status, HOLD) == TEV_EXEC)
            return 0;
        th = find_thread(tr, tid);
        if (th->st == RVI_TS_STOPPED)
            resume_thread(tr, th);
    }
}

int rvi_trace_spawn(struct rvi_trace *tr, char *const argv[], const sigset_t *child_mask,
                    char *err, size_t errlen)
{
    int report = -1;
    int rc = start_child(tr, argv, child_mask, &report, err, errlen);
    if (rc == 0)
        rc = wait_exec(tr, report, argv[0], err, errlen);
    if (report >= 0)
        close(report);
    return rc == 0 ? run_to_entry(tr, err, errlen) : -1;
}
