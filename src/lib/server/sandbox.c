/* sandbox.c — see sandbox.h.
 *
 * The allow-list is what the runtime itself does between two requests and
 * inside one: memory, the sessions' sockets and memfds, the epoll loop,
 * timers, signals, threads, time, logging. Calls are named, and resolved
 * by revived for the machine at hand, so one list serves every
 * architecture (a name the architecture lacks, `open` on arm64, is
 * skipped). revived adds the few it allows only with their arguments
 * checked (src/revived/filter.c). Everything else — exec, fork, ptrace,
 * mount, a network socket, a change of ids — kills the process. */
#include "sandbox.h"

#include <errno.h>
#include <linux/filter.h>
#include <stdbool.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *const runtime_calls[] = {
    /* memory: malloc, SSRs and journals (mapped, protected), the arena */
    "brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "msync",
    /* descriptors: sessions, memfds, the image, /dev/fuse, the arena's file */
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2", "pwritev2",
    "close", "fcntl", "dup", "dup3", "lseek", "fstat", "newfstatat", "statx", "ftruncate", "fallocate",
    "fsync", "fdatasync", "openat", "open",
    /* the event loop: epoll, timers, the stop signal's signalfd, eventfds */
    "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "poll", "ppoll", "eventfd2",
    "timerfd_create", "timerfd_settime", "timerfd_gettime", "signalfd4", "pipe2",
    /* messages: the control channel, sessions, revived's socket, syslog */
    "recvmsg", "sendmsg", "recvfrom", "sendto", "connect", "getsockopt", "setsockopt", "shutdown",
    /* time */
    "clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday",
    /* signals: the fatal handlers that write the crash record, abort() */
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "restart_syscall",
    /* threads: workers, librevive's watcher, locks */
    "futex", "set_robust_list", "rseq", "sched_yield", "sched_getaffinity", "gettid", "getpid",
    "exit", "exit_group",
    /* what the process may know of itself and the machine (glibc's qsort
     * asks sysinfo how much memory there is) */
    "getuid", "geteuid", "getgid", "getegid", "getrandom", "uname", "sysinfo",
};

#ifdef __SANITIZE_ADDRESS__
/* AddressSanitizer's leak check at exit, measured: a helper it clones (a
 * process, not a thread) lists the threads in /proc/self/task, stops them
 * with ptrace and is waited for (getdents on x86-64, getdents64 where that
 * is all there is); a report finds the program to symbolize through
 * /proc/self/exe. Only in a sanitizer build. */
static const char *const sanitizer_calls[] = { "clone", "ptrace", "prctl", "getdents", "getdents64", "getppid",
                                               "wait4", "readlink", "readlinkat" };
#endif

#define COUNT(a) (sizeof a / sizeof *a)

/* Appends the names, each after a blank; false when they do not fit. */
static bool append(char *buf, size_t cap, size_t *at, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n && names[i]; i++) {
        int w = snprintf(buf + *at, cap - *at, "%s%s", *at && buf[*at - 1] != '\n' ? " " : "", names[i]);
        if (w < 0 || (size_t)w >= cap - *at)
            return false;
        *at += (size_t)w;
    }
    return true;
}

size_t rv__sandbox_asked(const char *const *service, char *buf, size_t cap)
{
    size_t at = 0;
    bool ok = append(buf, cap, &at, runtime_calls, COUNT(runtime_calls));
#ifdef __SANITIZE_ADDRESS__
    ok = ok && append(buf, cap, &at, sanitizer_calls, COUNT(sanitizer_calls));
#endif
    ok = ok && at + 1 < cap;
    if (ok)
        buf[at++] = '\n';
    size_t n = 0;
    while (service && service[n])
        n++;
    ok = ok && append(buf, cap, &at, service, n);
    return ok ? at : 0;
}

/* On every thread (one started by init, or by a client library, would
 * otherwise escape it); no_new_privs is set already, by revived. */
int rv__sandbox_install(int fd, char *why, size_t whylen)
{
    struct stat st;
    struct sock_filter *prog = NULL;
    if (fstat(fd, &st) == 0 && st.st_size > 0 && st.st_size % (off_t)sizeof *prog == 0 &&
        st.st_size <= (off_t)(BPF_MAXINSNS * sizeof *prog) && (prog = malloc((size_t)st.st_size)) &&
        pread(fd, prog, (size_t)st.st_size, 0) != st.st_size) {
        free(prog);
        prog = NULL;
    }
    if (!prog) {
        snprintf(why, whylen, "the filter revived sent cannot be read");
        return -1;
    }
    struct sock_fprog fprog = { .len = (unsigned short)((size_t)st.st_size / sizeof *prog), .filter = prog };
    long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &fprog);
    free(prog);
    if (rc > 0)
        snprintf(why, whylen, "thread %ld could not be filtered", rc);
    else if (rc < 0)
        snprintf(why, whylen, "the kernel refused the filter: %s", strerror(errno));
    return rc == 0 ? 0 : -1;
}
