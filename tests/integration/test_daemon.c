/* test_daemon.c — revived as a daemon: started without --foreground it
 * detaches once it listens, never writes to the terminal it came from
 * again (nor do the services it starts), creates no directory but revive's
 * own runtime directory for its socket, and keeps a start-up error on the
 * terminal where its user sees it. Its services die with it, even one
 * busy in a handler that would never read the hang-up. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"
#include "testsvc.h"
#include "wire.h"

/* The pid of the revived that answers on sock (it made the socket). */
static pid_t revived_pid(const char *sock)
{
    int fd = rv__wire_dial(sock);
    assert_true(fd >= 0);
    struct ucred cred;
    socklen_t len = sizeof cred;
    assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len), 0);
    close(fd);
    return cred.pid;
}

/* SIGTERM to a revived that is not our child; returns once it is gone. */
static void stop_detached(const char *sock)
{
    pid_t pid = revived_pid(sock);
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    assert_true(pidfd >= 0);
    assert_int_equal(kill(pid, SIGTERM), 0);
    struct pollfd p = { .fd = pidfd, .events = POLLIN };
    assert_int_equal(poll(&p, 1, IT_WAIT_MS), 1);
    close(pidfd);
}

/* Runs revived without --foreground, its stdout and stderr on `out`;
 * returns once the parent it forked exited, i.e. once the daemon listens. */
static void start_detached(const char *manifest, const char *sock, int out, const char *xdg)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(out, STDOUT_FILENO);
        dup2(out, STDERR_FILENO);
        if (xdg)
            setenv("XDG_RUNTIME_DIR", xdg, 1);
        unsetenv("REVIVE_SOCKET");
        setenv("REVIVE_SERVICE_PATH", RV_IT_SERVICE_PATH, 1);
        const char *argv[] = { RV_IT_REVIVED, "--manifest", manifest, sock ? "--socket" : NULL, sock, NULL };
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void write_manifest(const char *path, const char *text)
{
    FILE *f = fopen(path, "we");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

/* Whatever the terminal has received, without waiting; its size. */
static size_t drain(int master, char *buf, size_t len)
{
    size_t n = 0;
    ssize_t r;
    while (n < len - 1 && (r = read(master, buf + n, len - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
    return n;
}

static bool restarted(const struct svc_status *st, const void *arg)
{
    (void)arg;
    return st->restarts == 1 && strcmp(st->state, "ready") == 0;
}

/* Once detached, revived writes nothing to its terminal: a kill, which it
 * logs, and the restarted service, whose stderr it chose, leave the
 * terminal silent. The socket lands in revive's runtime directory under
 * XDG_RUNTIME_DIR, which revived creates. */
static void test_detached_leaves_terminal(void **state)
{
    (void)state;
    char dir[64], manifest[96], sock[96], buf[4096];
    tempdir_make(dir, sizeof dir);
    snprintf(manifest, sizeof manifest, "%s/manifest.ini", dir);
    snprintf(sock, sizeof sock, "%s/revive/revived.sock", dir);
    char m[512];
    write_manifest(manifest, manifest_test(m, sizeof m, "max_restarts = 10 in 10s\n"));
    int master, slave;
    assert_int_equal(openpty(&master, &slave, NULL, NULL, NULL), 0);
    assert_int_equal(fcntl(master, F_SETFL, O_NONBLOCK), 0);
    start_detached(manifest, NULL, slave, dir);
    struct stat st;
    assert_int_equal(stat(sock, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    drain(master, buf, sizeof buf);   /* what it said while it started */
    struct rvd d = { .pid = 0 };
    snprintf(d.sock, sizeof d.sock, "%s", sock);
    ctl(&d, "kill", "test", "SEGV");
    struct svc_status s;
    wait_status(&d, "test", restarted, NULL, &s);
    if (drain(master, buf, sizeof buf))
        fail_msg("revived wrote to its terminal after detaching: %s", buf);
    stop_detached(sock);
    close(master);
    close(slave);
    tempdir_remove(dir);
}

/* A socket path in a directory that does not exist is refused on the
 * terminal, and nothing is created on the way. */
static void test_socket_dir_not_created(void **state)
{
    (void)state;
    char dir[64], sock[128], made[128], err[1024];
    tempdir_make(dir, sizeof dir);
    snprintf(sock, sizeof sock, "%s/typo/deeper/revived.sock", dir);
    snprintf(made, sizeof made, "%s/typo", dir);
    char m[512], manifest[128];
    snprintf(manifest, sizeof manifest, "%s/manifest.ini", dir);
    write_manifest(manifest, manifest_test(m, sizeof m, ""));
    const char *argv[] = { RV_IT_REVIVED, "--manifest", manifest, "--socket", sock, NULL };
    int rc = run(argv, NULL, 0, err, sizeof err);
    assert_int_equal(rc, 1);
    if (!strstr(err, "does not exist") || !strstr(err, made))
        fail_msg("unclear refusal of a socket in a missing directory: %s", err);
    struct stat st;
    assert_int_equal(stat(made, &st), -1);
    assert_int_equal(errno, ENOENT);
    tempdir_remove(dir);
}

/* CPU ticks (user + system) the process has used, from /proc/PID/stat. */
static long long cpu_ticks(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    long long utime = 0, stime = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lld %lld", &utime, &stime) != 2)
        return -1;
    return utime + stime;
}

static void test_services_die_with_revived(void **state)
{
    (void)state;
    struct rvd d;
    char m[256];
    rvd_start(&d, manifest_test(m, sizeof m, "request_timeout = 0\nheartbeat = 0\n"));   /* no watchdog */
    rv_session *s = open_session(&d, "test", NULL);
    struct svc_status st;
    svc_status(&d, "test", &st);
    pid_t svc = (pid_t)st.pid;
    int pidfd = (int)syscall(SYS_pidfd_open, svc, 0);
    assert_true(pidfd >= 0);
    struct rv_hdr h = rv__hdr_make(RV_T_CALL, 1, TEST_HANG, 0, 0);
    assert_int_equal(send(rv_session_fd(s), &h, sizeof h, 0), (ssize_t)sizeof h);
    long long before = cpu_ticks(svc);
    for (int i = 0; i < IT_WAIT_MS / 10 && cpu_ticks(svc) < before + 10; i++)
        poll(NULL, 0, 10);   /* only /proc tells that it spins in the handler */
    assert_true(cpu_ticks(svc) >= before + 10);
    rvd_crash_and_restart(&d);   /* SIGKILL: the service hears nothing from revived */
    struct pollfd p = { .fd = pidfd, .events = POLLIN };
    assert_int_equal(poll(&p, 1, IT_WAIT_MS), 1);   /* it is gone */
    close(pidfd);
    rv_close(s);
    rvd_stop(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detached_leaves_terminal),
        cmocka_unit_test(test_socket_dir_not_created),
        cmocka_unit_test_teardown(test_services_die_with_revived, it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
