/* child.c — see child.h. */
#include "child.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>
#include "procstat.h"
#include "util.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define MAX_WATCHED 96   /* 32 services, each with a standby, and 32 tasks */

struct watched {
    pid_t pid;
    struct rv_handler *h;
};

static struct watched watched[MAX_WATCHED];
static int sigchld_fd = -1;

static void on_sigchld(struct rv_handler *h, uint32_t events)
{
    (void)h;
    (void)events;
    struct signalfd_siginfo si;
    while (read(sigchld_fd, &si, sizeof si) == sizeof si)
        ;
    for (size_t i = 0; i < MAX_WATCHED; i++)
        if (watched[i].pid > 0)
            watched[i].h->on_event(watched[i].h, EPOLLIN);
}

static struct rv_handler sigchld_h = { on_sigchld };

static int start_fallback(void)
{
    if (sigchld_fd >= 0)
        return 0;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    sigchld_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    return sigchld_fd < 0 ? -1 : loop_add(sigchld_fd, EPOLLIN, &sigchld_h);
}

int child_watch(pid_t pid, int *pidfd, struct rv_handler *h)
{
    *pidfd = pidfd_open(pid, 0);
    if (*pidfd >= 0)
        return loop_add(*pidfd, EPOLLIN, h);
    if (errno != ENOSYS || start_fallback() < 0)
        return -1;
    for (size_t i = 0; i < MAX_WATCHED; i++)
        if (watched[i].pid <= 0) {
            watched[i] = (struct watched){ pid, h };
            return 0;
        }
    errno = EMFILE;
    return -1;
}

void child_unwatch(pid_t pid, int *pidfd)
{
    if (*pidfd >= 0) {
        loop_del(*pidfd);
        close(*pidfd);
        *pidfd = -1;
        return;
    }
    for (size_t i = 0; i < MAX_WATCHED; i++)
        if (watched[i].pid == pid && pid > 0)
            watched[i].pid = 0;
}

int child_signal(pid_t pid, int pidfd, int sig)
{
    return pidfd >= 0 ? pidfd_send_signal(pidfd, sig, NULL, 0) : kill(pid, sig);
}

int child_reap(pid_t pid, int pidfd, siginfo_t *si, int flags)
{
    si->si_pid = 0;
    int rc = pidfd >= 0 ? waitid((idtype_t)P_PIDFD, (id_t)pidfd, si, WEXITED | flags)
                        : waitid(P_PID, (id_t)pid, si, WEXITED | flags);
    if (rc < 0)
        return -1;
    return si->si_pid != 0;
}

int child_reap_within(pid_t pid, int pidfd, siginfo_t *si, int timeout_ms)
{
    uint64_t deadline = rv__now_ns() + (uint64_t)timeout_ms * 1000000u;
    for (;;) {
        int rc = child_reap(pid, pidfd, si, WNOHANG);
        uint64_t now = rv__now_ns();
        if (rc != 0 || now >= deadline)
            return rc;
        int left_ms = (int)((deadline - now + 999999) / 1000000);
        struct pollfd p = { .fd = pidfd, .events = POLLIN };
        if (pidfd >= 0)
            poll(&p, 1, left_ms);   /* readable once it exited */
        else
            usleep(1000);           /* no pidfd (valgrind): look again shortly */
    }
}

bool child_stopped(pid_t pid, int pidfd)
{
    siginfo_t si = { 0 };
    int flags = WSTOPPED | WNOHANG | WNOWAIT;   /* WNOWAIT: asked again next time, still true */
    int rc = pidfd >= 0 ? waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, flags) : waitid(P_PID, (id_t)pid, &si, flags);
    return rc == 0 && si.si_pid != 0 && si.si_code == CLD_STOPPED;
}

/* A process that cannot be read is a zombie on its way to being reaped.
 * The kernel shows the exit code only to a reader that may trace the
 * process, and 0 to any other: so only a code other than 0 is believed,
 * and a clean exit waits for its reaping like an undecided one. */
enum child_exit child_exit_state(pid_t pid, siginfo_t *si)
{
    struct procstat ps;
    if (procstat_read(pid, &ps) < 0)
        return CHILD_EXITING;
    if (!(ps.flags & PROCSTAT_PF_EXITING))
        return CHILD_RUNNING;
    if (ps.threads != 1 || ps.vsize != 0 || ps.exit_code == 0)
        return CHILD_EXITING;
    *si = (siginfo_t){ .si_signo = SIGCHLD, .si_pid = pid };
    if (WIFSIGNALED(ps.exit_code)) {
        si->si_code = WCOREDUMP(ps.exit_code) ? CLD_DUMPED : CLD_KILLED;
        si->si_status = WTERMSIG(ps.exit_code);
    } else {
        si->si_code = CLD_EXITED;
        si->si_status = WEXITSTATUS(ps.exit_code);
    }
    return CHILD_RELEASED;
}

void child_fini(void)
{
    if (sigchld_fd >= 0) {
        loop_del(sigchld_fd);
        close(sigchld_fd);
    }
    sigchld_fd = -1;
}
