/* launch.c — see launch.h.
 *
 * clone(CLONE_VM | CLONE_VFORK) rather than fork: revived may hold
 * thousands of descriptors and mappings, and a restart is on the clock;
 * the child borrows revived's memory, as posix_spawn's does, until it
 * executes the program. Not posix_spawn itself, which cannot change the
 * ids, set no_new_privs or enter a Landlock domain: a service's sandbox
 * is entered here, before exec, so the program never runs outside it.
 *
 * The child shares revived's memory and revived waits for it, so it runs
 * on a stack of its own and makes raw system calls only (no allocation,
 * no stdio, no sanitizer interceptor). Signals are blocked around the
 * clone, so none of revived's handlers (a sanitizer's, in such a build)
 * can run in it; the child sets every signal's default action (revived
 * ignores SIGPIPE and SIGHUP, and ignored dispositions survive exec), and
 * unblocks them just before exec. A step that fails is reported through a
 * close-on-exec pipe, which the exec closes when it succeeds. */
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "log.h"

extern char **environ;

/* Set once revived detaches: its children's standard streams go to
 * /dev/null and their logs to syslog, never to the terminal revived was
 * started from. */
static bool quiet;

void launch_detached(void) { quiet = true; }

static bool overridden(const char *var, char *const vars[])
{
    for (size_t i = 0; vars[i]; i++) {
        size_t n = strcspn(vars[i], "=") + 1;
        if (strncmp(var, vars[i], n) == 0)
            return true;
    }
    return false;
}

/* environ without the variables vars sets, then vars, then `extra` (if
 * not NULL) unless vars sets it. */
static char **child_env(char *const vars[], char *extra)
{
    size_t n = 0, nv = 0;
    while (environ[n])
        n++;
    while (vars[nv])
        nv++;
    char **env = calloc(n + nv + 2, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!overridden(environ[i], vars) && !(extra && strncmp(environ[i], extra, strcspn(extra, "=") + 1) == 0))
            env[k++] = environ[i];
    for (size_t i = 0; i < nv; i++)
        env[k++] = vars[i];
    if (extra && !overridden(extra, vars))
        env[k++] = extra;
    return env;
}

enum step { STEP_FD, STEP_NULL, STEP_GROUPS, STEP_GID, STEP_UID, STEP_NO_NEW_PRIVS, STEP_LANDLOCK, STEP_EXEC };

static const char *const step_names[] = {
    [STEP_FD] = "dup3", [STEP_NULL] = "open /dev/null", [STEP_GROUPS] = "setgroups", [STEP_GID] = "setresgid",
    [STEP_UID] = "setresuid", [STEP_NO_NEW_PRIVS] = "no_new_privs", [STEP_LANDLOCK] = "Landlock",
    [STEP_EXEC] = "execve",
};

struct child {
    const char *exec;
    char *const *argv;
    char **env;
    int fd;                           /* becomes 3 */
    int report;                       /* where a failed step is told */
    const struct launch_jail *jail;   /* NULL: none */
};

struct failure {
    int step, err;
};

/* The child's stack: one is enough, revived waits while the child runs. */
static char child_stack[64 * 1024] __attribute__((aligned(16)));

static _Noreturn void child_fail(const struct child *c, enum step step, int err)
{
    struct failure f = { step, err };
    syscall(SYS_write, c->report, &f, sizeof f);
    for (;;)
        syscall(SYS_exit_group, 127);
}

static void check(const struct child *c, enum step step, long rc)
{
    if (rc < 0)
        child_fail(c, step, errno);
}

/* The kernel's struct sigaction, all zero: SIG_DFL, no flags, no mask. */
static void default_signals(void)
{
    struct { void *handler; unsigned long flags; void *restorer; uint64_t mask; } dfl = { 0 };
    for (int sig = 1; sig <= 64; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask);
}

static void standard_streams(const struct child *c)
{
    int null = (int)syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDWR);
    check(c, STEP_NULL, null);
    for (int std = 0; std < 3; std++)
        if (null != std)
            check(c, STEP_NULL, syscall(SYS_dup3, null, std, 0));
    if (null > 2)
        syscall(SYS_close, null);
}

/* Ids first (the groups while still allowed to), then no_new_privs,
 * which Landlock requires of a process without CAP_SYS_ADMIN. */
static void enter_jail(const struct child *c, const struct launch_jail *j)
{
    if (j->set_ids) {
        check(c, STEP_GROUPS, syscall(SYS_setgroups, 0, NULL));
        check(c, STEP_GID, syscall(SYS_setresgid, j->gid, j->gid, j->gid));
        check(c, STEP_UID, syscall(SYS_setresuid, j->uid, j->uid, j->uid));
    }
    if (j->no_new_privs)
        check(c, STEP_NO_NEW_PRIVS, syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    int rc = j->landlock.abi ? landlock_enter(&j->landlock) : 0;
    if (rc < 0)
        child_fail(c, STEP_LANDLOCK, -rc);
}

static int child_main(void *arg)
{
    const struct child *c = arg;
    uint64_t none = 0;
    default_signals();
    check(c, STEP_FD, syscall(SYS_dup3, c->fd, 3, 0));
    if (quiet)
        standard_streams(c);
    if (c->jail)
        enter_jail(c, c->jail);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof none);
    syscall(SYS_execve, c->exec, c->argv, c->env);
    child_fail(c, STEP_EXEC, errno);
}

/* Starts the child and waits until it has executed the program (the pipe
 * closes) or told why it could not. */
static int spawn(pid_t *pid, struct child *c)
{
    int report[2];
    if (pipe2(report, O_CLOEXEC) < 0)
        return errno;
    c->report = report[1];
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    pid_t child = clone(child_main, child_stack + sizeof child_stack, CLONE_VM | CLONE_VFORK | SIGCHLD, c);
    int err = child < 0 ? errno : 0;
    sigprocmask(SIG_SETMASK, &old, NULL);
    close(report[1]);
    struct failure f;
    ssize_t n = 0;
    while (child > 0 && (n = read(report[0], &f, sizeof f)) < 0 && errno == EINTR)
        ;
    close(report[0]);
    if (n == (ssize_t)sizeof f) {
        waitpid(child, NULL, 0);
        rv_warn("cannot start %s: %s: %s", c->exec, step_names[f.step], strerror(f.err));
        return f.err;
    }
    if (!err)
        *pid = child;
    return err;
}

int launch_program(pid_t *pid, const char *exec, char *const argv[], int fd, char *const vars[],
                   const struct launch_jail *jail)
{
    /* dup3 cannot make 3 of 3: pass a copy from above 3 */
    int moved = fd == 3 ? fcntl(fd, F_DUPFD_CLOEXEC, 4) : fd;
    if (moved < 0)
        return errno;
    struct child c = { .exec = exec, .argv = argv, .fd = moved, .jail = jail,
                       .env = child_env(vars, quiet ? "REVIVE_LOG=syslog" : NULL) };
    int rc = c.env ? spawn(pid, &c) : ENOMEM;
    free(c.env);
    if (moved != fd)
        close(moved);
    return rc;
}
