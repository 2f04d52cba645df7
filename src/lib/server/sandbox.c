/* sandbox.c — see sandbox.h.
 *
 * The allow-list is what the runtime itself does between two requests and
 * inside one: memory, the sessions' sockets and memfds, the epoll loop,
 * timers, signals, threads, time, logging. Calls are named, and resolved
 * for the machine at hand, so one list serves every architecture (a name
 * the architecture lacks, `open` on arm64, is skipped). A few are allowed
 * only with their arguments checked: a socket of the AF_UNIX family alone
 * (revived's socket, syslog's), a signal to this process alone, a clone
 * that makes a thread and never a process. Everything else — exec, fork,
 * ptrace, mount, a network socket, a change of ids — kills the process. */
#include "sandbox.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
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

static int allow_name(scmp_filter_ctx f, const char *name, bool known, char *why, size_t whylen)
{
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR && !known)
        return 0;
    int rc = nr == __NR_SCMP_ERROR ? -EINVAL : seccomp_rule_add(f, SCMP_ACT_ALLOW, nr, 0);
    if (rc < 0)
        snprintf(why, whylen, "system call '%s': %s", name, nr == __NR_SCMP_ERROR ? "unknown" : strerror(-rc));
    return rc < 0 ? -1 : 0;
}

#define COUNT(a) (sizeof a / sizeof *a)

static int allow_names(scmp_filter_ctx f, const char *const *names, size_t n, char *why, size_t whylen)
{
    for (size_t i = 0; i < n; i++)
        if (allow_name(f, names[i], false, why, whylen) < 0)
            return -1;
    return 0;
}

/* Blank-separated names, as the manifest's `syscalls` (revived checked them). */
static int allow_words(scmp_filter_ctx f, const char *list, char *why, size_t whylen)
{
    char name[64];
    for (const char *p = list + strspn(list, " "); *p; p += strspn(p, " ")) {
        size_t len = strcspn(p, " ");
        snprintf(name, sizeof name, "%.*s", (int)len, p);
        if (allow_name(f, name, true, why, whylen) < 0)
            return -1;
        p += len;
    }
    return 0;
}

/* The calls allowed with their arguments checked. clone3 passes its flags
 * in memory, which a filter cannot read: it fails with ENOSYS, and glibc
 * falls back to clone. Resource limits may be read, not set (glibc's
 * pthread_getattr_np reads the stack's, for recovery domains). An ioctl only for what stdio and the runtime ask of
 * a descriptor (isatty: TCGETS), so a service whose standard streams are a
 * terminal cannot push input into it (TIOCSTI). */
/* An argument compared with a value (under a mask, for MASKED_EQ), spelled
 * out: libseccomp's SCMP_An macros leave a field to the compiler, which
 * clang's -Wmissing-field-initializers refuses. */
static struct scmp_arg_cmp arg_is(unsigned arg, enum scmp_compare op, scmp_datum_t a, scmp_datum_t b)
{
    return (struct scmp_arg_cmp){ .arg = arg, .op = op, .datum_a = a, .datum_b = b };
}

static int allow_narrowed(scmp_filter_ctx f)
{
    const scmp_datum_t self = (scmp_datum_t)getpid();
    int rc = 0;
    rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, arg_is(0, SCMP_CMP_EQ, AF_UNIX, 0));
    rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1, arg_is(0, SCMP_CMP_EQ, self, 0));
    rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1, arg_is(0, SCMP_CMP_EQ, self, 0));
    rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                           arg_is(0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
    rc |= seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 2, arg_is(0, SCMP_CMP_EQ, 0, 0),
                           arg_is(2, SCMP_CMP_EQ, 0, 0));
    rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, arg_is(1, SCMP_CMP_EQ, TCGETS, 0));
    return rc ? -1 : 0;
}

static int build(scmp_filter_ctx f, const char *const *service, const char *manifest, char *why, size_t whylen)
{
    if (allow_names(f, runtime_calls, COUNT(runtime_calls), why, whylen) < 0)
        return -1;
#ifdef __SANITIZE_ADDRESS__
    if (allow_names(f, sanitizer_calls, COUNT(sanitizer_calls), why, whylen) < 0)
        return -1;
#endif
    for (size_t i = 0; service && service[i]; i++)
        if (allow_name(f, service[i], true, why, whylen) < 0)
            return -1;
    if (manifest && allow_words(f, manifest, why, whylen) < 0)
        return -1;
    if (allow_narrowed(f) < 0) {
        snprintf(why, whylen, "cannot add the rules on arguments");
        return -1;
    }
    return 0;
}

int rv__sandbox_enter(const char *const *service, const char *manifest, char *why, size_t whylen)
{
    scmp_filter_ctx f = seccomp_init(SCMP_ACT_KILL_PROCESS);
    if (!f) {
        snprintf(why, whylen, "seccomp_init failed");
        return -1;
    }
    int rc = build(f, service, manifest, why, whylen);
    /* every thread: one started before (by init, a client library) would escape it */
    if (rc == 0 && (rc = seccomp_attr_set(f, SCMP_FLTATR_CTL_TSYNC, 1)) < 0)
        snprintf(why, whylen, "cannot filter every thread: %s", strerror(-rc));
    /* a binary tree of the ~90 calls rather than a list: every system call
     * of the request path passes the filter, and the tree is also quicker
     * to build (~40 us less in a fresh process, measured with the
     * runtime's list) */
    if (rc == 0 && (rc = seccomp_attr_set(f, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0)
        snprintf(why, whylen, "cannot ask for a binary tree: %s", strerror(-rc));
    if (rc == 0 && (rc = seccomp_load(f)) < 0)
        snprintf(why, whylen, "the kernel refused the filter: %s", strerror(-rc));
    seccomp_release(f);
    return rc < 0 ? -1 : 0;
}
