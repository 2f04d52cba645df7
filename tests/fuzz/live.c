/* live.c — see live.h. */
#include "live.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "random.h"

static const struct live *running;   /* killed by live_die, so no test leaves one behind */

void live_die(const char *fmt, ...)
{
    if (running) {
        kill(running->pid, SIGKILL);
        waitpid(running->pid, NULL, 0);
        unlink(running->sock);
        if (running->manifest[0])
            unlink(running->manifest);
        rmdir(running->dir);
        running = NULL;
    }
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

static void exec_revived(const struct live *l, const char *const *wrapper, const char *revived, int ready)
{
    const char *argv[16];
    size_t n = 0;
    for (; wrapper && wrapper[n] && n < 10; n++)
        argv[n] = wrapper[n];
    const char *own[] = { revived, "--foreground", "--socket", l->sock,
                          l->manifest[0] ? "--manifest" : NULL, l->manifest, NULL };
    memcpy(argv + n, own, sizeof own);
    char fd[16];
    snprintf(fd, sizeof fd, "%d", ready);
    setenv("REVIVE_READY_FD", fd, 1);
    fcntl(ready, F_SETFD, 0);
    execv(argv[0], (char *const *)argv);
    fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

static void write_manifest(struct live *l, const char *text)
{
    snprintf(l->manifest, sizeof l->manifest, "%s/manifest.ini", l->dir);
    FILE *f = fopen(l->manifest, "we");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        live_die("cannot write %s: %s", l->manifest, strerror(errno));
}

void live_start(struct live *l, const char *const *wrapper, const char *revived, const char *manifest)
{
    snprintf(l->dir, sizeof l->dir, "/tmp/rv-live-XXXXXX");
    if (!mkdtemp(l->dir))
        live_die("mkdtemp: %s", strerror(errno));
    snprintf(l->sock, sizeof l->sock, "%s/revived.sock", l->dir);
    l->manifest[0] = '\0';
    if (manifest)
        write_manifest(l, manifest);
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        live_die("pipe: %s", strerror(errno));
    l->pid = fork();
    if (l->pid < 0)
        live_die("fork: %s", strerror(errno));
    if (l->pid == 0)
        exec_revived(l, wrapper, revived, p[1]);
    close(p[1]);
    running = l;
    char line[16] = "";
    size_t got = 0;
    ssize_t r;
    while (got < 6 && (r = read(p[0], line + got, 6 - got)) > 0)
        got += (size_t)r;
    close(p[0]);
    if (got != 6 || memcmp(line, "READY\n", 6) != 0)
        live_die("revived exited before it was ready");
}

int live_stop(struct live *l)
{
    int st;
    kill(l->pid, SIGTERM);
    running = NULL;
    if (waitpid(l->pid, &st, 0) != l->pid)
        live_die("waitpid: %s", strerror(errno));
    if (l->manifest[0])
        unlink(l->manifest);
    rmdir(l->dir);
    return st;
}

int live_alive(const struct live *l)
{
    int st;
    return waitpid(l->pid, &st, WNOHANG) == 0;
}

size_t live_fd_count(const struct live *l)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)l->pid);
    DIR *d = opendir(path);
    if (!d)
        live_die("%s: %s", path, strerror(errno));
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

void live_fd_dump(const struct live *l)
{
    char path[64], link[sizeof path + 256], target[256];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)l->pid);
    DIR *d = opendir(path);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(link, sizeof link, "%s/%s", path, e->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        fprintf(stderr, "  fd %s -> %.*s\n", e->d_name, (int)(n < 0 ? 0 : n), target);
    }
    if (d)
        closedir(d);
}

int live_dial(const struct live *l)
{
    int fd = rv__wire_dial(l->sock);
    if (fd < 0)
        live_die("cannot connect to %s: %s", l->sock, strerror(errno));
    return fd;
}

void live_request(int fd, uint8_t type, uint32_t op, const char *name, struct rv_msg *m)
{
    struct rv_hdr h = rv__hdr_make(type, 0, op, 0, name ? strlen(name) + 1 : 0);
    if (rv__wire_send(fd, &h, name, NULL, 0, 0) < 0 || rv__wire_recv(fd, m, RV_WIRE_MAX_BODY, 0) != 1)
        live_die("no answer from revived to a request of type %u", type);
    if (m->hdr.type == RV_T_ERROR)
        live_die("revived refused a request of type %u: %.*s", type, (int)m->hdr.len, (const char *)m->body);
}

struct rv_wire_svc_status live_status(int fd, const char *service)
{
    static struct rv_msg m;
    live_request(fd, RV_T_STATUS, 0, NULL, &m);
    const struct rv_wire_svc_status *st = (const struct rv_wire_svc_status *)m.body;
    for (size_t i = 0; i < m.hdr.len / sizeof *st; i++)
        if (strncmp(st[i].name, service, sizeof st[i].name) == 0)
            return st[i];
    live_die("revived reports no service named '%s'", service);
}

int live_poll_until(int (*done)(void *arg), void *arg)
{
    struct timespec pause = { .tv_nsec = 10 * 1000 * 1000 };
    for (int i = 0; i < 2000; i++) {
        if (done(arg))
            return 0;
        nanosleep(&pause, NULL);
    }
    return done(arg) ? 0 : -1;
}

rv_session *live_open(rv_conn *c, const char *name, const char *args)
{
    rv_session *s;
    if (rv_open(c, name, args, &s) != 0)
        live_die("cannot open a session with %s: %s", name, rv_conn_error(c));
    return s;
}

uint64_t live_draw(rv_session *s)
{
    uint64_t v;
    size_t len = 0;
    if (rv_call(s, RANDOM_NEXT, NULL, 0, &v, sizeof v, &len) != 0 || len != sizeof v)
        live_die("random: call failed: %s", rv_session_error(s));
    return v;
}
