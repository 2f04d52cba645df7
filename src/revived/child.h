/* child.h — watching, signalling and reaping a service instance.
 *
 * A pidfd is the way: it names the process, not a reusable number, and it
 * becomes readable when the process dies. Where pidfd_open does not exist
 * (kernels before 5.3, and valgrind 3.19, which revive's memory checks run
 * under) a SIGCHLD signalfd tells that some child died, and each watched
 * child is reaped by pid. That stays race-free because revived is the only
 * one who reaps its children: an unreaped pid cannot be reused, so kill()
 * on it cannot hit a stranger. */
#ifndef RV_CHILD_H
#define RV_CHILD_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>
#include "loop.h"

/* Calls h->on_event when pid may have exited. *pidfd is the pidfd, or -1
 * when the fallback watches the child. Returns 0 or -1 (errno). */
int child_watch(pid_t pid, int *pidfd, struct rv_handler *h);
void child_unwatch(pid_t pid, int *pidfd);
int child_signal(pid_t pid, int pidfd, int sig);
/* Whether the child is stopped by a signal (SIGSTOP, SIGTSTP ...). */
bool child_stopped(pid_t pid, int pidfd);
/* How far the child's exit has gone, before the kernel reports it. */
enum child_exit {
    CHILD_RUNNING,     /* not exiting */
    CHILD_EXITING,     /* begun: it runs no code of its own again */
    CHILD_RELEASED,    /* and one thread is left, its memory released: it
                          writes nothing shared again (si filled as waitid will);
                          not said of a clean exit (child.c says why) */
};
enum child_exit child_exit_state(pid_t pid, siginfo_t *si);
/* waitid for this child: 1 reaped (si filled), 0 still running, -1 error. */
int child_reap(pid_t pid, int pidfd, siginfo_t *si, int flags);
/* Waits up to timeout_ms for the child to exit and reaps it: 1 reaped, 0
 * still running, -1 error. */
int child_reap_within(pid_t pid, int pidfd, siginfo_t *si, int timeout_ms);
void child_fini(void);

#endif
