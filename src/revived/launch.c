/* launch.c — see launch.h.
 *
 * posix_spawn (vfork underneath) rather than fork: revived may hold
 * thousands of descriptors and mappings, and a restart is on the clock.
 * The child starts with a clean signal state: revived blocks the signals it
 * reads through signalfds and ignores SIGPIPE and SIGHUP, and both the mask
 * and ignored dispositions would otherwise survive exec. */
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static int spawn_at_3(pid_t *pid, const char *exec, char *const argv[], int fd, char **env)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGHUP);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd, 3);
    for (int std = 0; quiet && std < 3; std++)
        posix_spawn_file_actions_addopen(&fa, std, "/dev/null", std ? O_WRONLY : O_RDONLY, 0);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    int rc = posix_spawn(pid, exec, &fa, &attr, argv, env);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

int launch_program(pid_t *pid, const char *exec, char *const argv[], int fd, char *const vars[])
{
    /* dup2(3, 3) would leave close-on-exec set: pass a copy from above 3 */
    int moved = fd == 3 ? fcntl(fd, F_DUPFD_CLOEXEC, 4) : fd;
    if (moved < 0)
        return errno;
    char **env = child_env(vars, quiet ? "REVIVE_LOG=syslog" : NULL);
    int rc = env ? spawn_at_3(pid, exec, argv, moved, env) : ENOMEM;
    free(env);
    if (moved != fd)
        close(moved);
    return rc;
}
