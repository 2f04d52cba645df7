/* harness.c — see harness.h. Paths of the programs under test come from
 * meson as compile-time defines (RV_IT_*), so a test binary runs the same
 * from meson or by hand. */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "testsvc.h"

#define READY_FD 100   /* where revived finds its readiness pipe */

/* ---- subprocesses ---- */

static void child_exec(const char *const argv[], int out, int err, int deathsig)
{
    prctl(PR_SET_PDEATHSIG, deathsig);   /* a failed test leaves nothing behind */
    setenv("REVIVE_SERVICE_PATH", RV_IT_SERVICE_PATH, 1);
    if ((out >= 0 && dup2(out, STDOUT_FILENO) < 0) || (err >= 0 && dup2(err, STDERR_FILENO) < 0))
        _exit(126);
    execv(argv[0], (char *const *)argv);
    fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* A crew's threads call while others fork: each call is made under this
 * lock, read-held, and it_fork write-holds it, so a child never inherits a
 * lock one of them held at the fork. (gcc 12's ASan takes none of its
 * allocator's locks around a fork: a child that allocates after a fork
 * that caught a thread in malloc waits forever.) Writers first, or the
 * callers, one after another, would starve the fork. */
static pthread_rwlock_t fork_lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;

pid_t it_fork(void)
{
    pthread_rwlock_wrlock(&fork_lock);
    pid_t pid = fork();
    if (pid != 0)
        pthread_rwlock_unlock(&fork_lock);
    return pid;
}

void proc_spawn(struct proc *p, const char *const argv[])
{
    int o[2], e[2];
    assert_int_equal(pipe2(o, O_CLOEXEC), 0);
    assert_int_equal(pipe2(e, O_CLOEXEC), 0);
    p->pid = it_fork();
    assert_true(p->pid >= 0);
    if (p->pid == 0)
        child_exec(argv, o[1], e[1], SIGKILL);
    close(o[1]);
    close(e[1]);
    p->out = o[0];
    p->err = e[0];
}

/* One byte at a time: lines are short and this keeps no hidden buffer, so
 * proc_finish sees exactly what proc_line did not consume. */
bool proc_line(struct proc *p, char *buf, size_t len)
{
    size_t n = 0;
    for (;;) {
        char c;
        ssize_t r = read(p->out, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            buf[n] = '\0';
            return n > 0;
        }
        if (c == '\n')
            break;
        if (n + 1 < len)
            buf[n++] = c;
    }
    buf[n] = '\0';
    return true;
}

struct sink {
    int fd;
    char *buf;
    size_t len, used;
};

/* Drains one readable stream; returns false at EOF. Output past the buffer
 * is read and dropped, so the child never blocks on a full pipe. */
static bool drain(struct sink *s)
{
    char tmp[4096];
    ssize_t r = read(s->fd, tmp, sizeof tmp);
    if (r < 0 && errno == EINTR)
        return true;
    if (r <= 0)
        return false;
    if (s->buf && s->used + 1 < s->len) {
        size_t k = (size_t)r < s->len - 1 - s->used ? (size_t)r : s->len - 1 - s->used;
        memcpy(s->buf + s->used, tmp, k);
        s->used += k;
        s->buf[s->used] = '\0';
    }
    return true;
}

int proc_finish(struct proc *p, char *out, size_t outlen, char *err, size_t errlen)
{
    struct sink sinks[2] = { { p->out, out, outlen, 0 }, { p->err, err, errlen, 0 } };
    if (out && outlen)
        out[0] = '\0';
    if (err && errlen)
        err[0] = '\0';
    int open = 2;
    bool live[2] = { true, true };
    while (open) {
        struct pollfd pf[2] = { { live[0] ? p->out : -1, POLLIN, 0 }, { live[1] ? p->err : -1, POLLIN, 0 } };
        if (poll(pf, 2, -1) < 0) {
            assert_int_equal(errno, EINTR);
            continue;
        }
        for (int i = 0; i < 2; i++)
            if (live[i] && pf[i].revents && !drain(&sinks[i])) {
                live[i] = false;
                open--;
            }
    }
    close(p->out);
    close(p->err);
    int status;
    assert_int_equal(waitpid(p->pid, &status, 0), p->pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int run(const char *const argv[], char *out, size_t outlen, char *err, size_t errlen)
{
    struct proc p;
    proc_spawn(&p, argv);
    return proc_finish(&p, out, outlen, err, errlen);
}

/* ---- revived ---- */

#define MAX_LIVE 4
/* Started and not yet stopped: copies, since a failed assertion leaves the
 * test's own struct rvd in a stack frame that no longer exists. */
static struct rvd live[MAX_LIVE];

static void track(struct rvd *d, bool on)
{
    for (int i = 0; i < MAX_LIVE; i++)
        if (on ? !live[i].pid : live[i].pid == d->pid) {
            live[i] = on ? *d : (struct rvd){ 0 };
            return;
        }
}

const char *rvd_file(const struct rvd *d, const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", d->dir, name);
    return buf;
}

const char *rvd_marker(const struct rvd *d, char *buf, size_t len)
{
    char marks[128];
    rvd_file(d, "marks", marks, sizeof marks);
    assert_int_equal(mkdir(marks, 0777), 0);
    assert_int_equal(chmod(marks, 0777), 0);   /* past the umask */
    snprintf(buf, len, "%s/once", marks);
    return buf;
}

void it_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "we");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, 0644), 0);   /* whatever the umask: a service, another user, may read it */
}

static void exec_revived(const char *manifest, const char *sock, int ready, bool as_nobody)
{
    char fd[16];
    snprintf(fd, sizeof fd, "%d", READY_FD);
    if (dup2(ready, READY_FD) < 0)
        _exit(126);
    setenv("REVIVE_READY_FD", fd, 1);
    const char *argv[] = { "/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                           RV_IT_REVIVED, "--socket", sock, "--foreground", "--manifest", manifest, NULL };
    if (access(manifest, F_OK) < 0)
        argv[8] = NULL;   /* none written: the embedded one */
    child_exec(as_nobody ? argv : argv + 4, -1, -1, SIGTERM);
}

void tempdir_make(char *buf, size_t len)
{
    snprintf(buf, len, "/tmp/rv-it-XXXXXX");
    assert_non_null(mkdtemp(buf));
    assert_int_equal(chmod(buf, 0711), 0);
}

void it_mkfifo(const char *path)
{
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(chmod(path, 0666), 0);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void tempdir_remove(const char *dir)
{
    nftw(dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

void expect_fetch(rv_session *s, uint64_t want)
{
    uint64_t counter = 0, stored = 0;
    size_t len;
    int fd;
    if (rv_call_fd(s, TEST_FETCH, NULL, 0, &counter, sizeof counter, &len, &fd) != 0)
        fail_msg("TEST_FETCH: %s", rv_session_error(s));
    assert_int_equal(counter, want);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, &stored, sizeof stored), sizeof stored);
    assert_int_equal(stored, want);
    close(fd);
}

static void *slow_main(void *arg)
{
    struct slow_call *c = arg;
    c->rc = call_u64(c->s, TEST_SLOW_INCR, &c->v);
    return NULL;
}

void slow_call_start(struct slow_call *c)
{
    assert_int_equal(pthread_create(&c->th, NULL, slow_main, c), 0);
}

const char *manifest_test(char *buf, size_t len, const char *extra)
{
    const char *fast = getenv("RV_IT_FAST_PATH");
    snprintf(buf, len, "[service test]\nexec = rv-svc-test\nssr_size = %d\n" IT_TEST_PATHS "%s%s", TEST_SSR_SIZE,
             fast && strcmp(fast, "1") == 0 ? "fast_path = yes\n" : "", extra);
    return buf;
}

/* Starts revived on DIR/manifest.ini and waits until it listens. */
static void rvd_spawn(struct rvd *d)
{
    char mpath[128];
    rvd_file(d, "manifest.ini", mpath, sizeof mpath);
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    d->pid = fork();
    assert_true(d->pid >= 0);
    if (d->pid == 0)
        exec_revived(mpath, d->sock, p[1], d->as_nobody);
    close(p[1]);
    track(d, true);
    char ready[8] = "";
    ssize_t n;
    while ((n = read(p[0], ready, sizeof ready - 1)) < 0 && errno == EINTR)
        ;
    close(p[0]);
    if (n != 6 || strcmp(ready, "READY\n") != 0)
        fail_msg("revived did not become ready (see its log above)");
}

static void start_as(struct rvd *d, const char *manifest, bool as_nobody)
{
    char mpath[128];
    d->as_nobody = as_nobody;
    tempdir_make(d->dir, sizeof d->dir);
    if (as_nobody)
        assert_int_equal(chmod(d->dir, 0777), 0);   /* where it makes its socket */
    rvd_file(d, "revived.sock", d->sock, sizeof d->sock);
    if (manifest)
        it_write_file(rvd_file(d, "manifest.ini", mpath, sizeof mpath), manifest);
    rvd_spawn(d);
}

void rvd_start(struct rvd *d, const char *manifest)
{
    start_as(d, manifest, false);
}

void rvd_start_as_nobody(struct rvd *d, const char *manifest)
{
    start_as(d, manifest, true);
}

void rvd_crash_and_restart(struct rvd *d)
{
    int status;
    assert_int_equal(kill(d->pid, SIGKILL), 0);
    while (waitpid(d->pid, &status, 0) < 0 && errno == EINTR)
        ;
    track(d, false);
    rvd_spawn(d);
}

static int reap(struct rvd *d)
{
    int status;
    kill(d->pid, SIGTERM);
    while (waitpid(d->pid, &status, 0) < 0 && errno == EINTR)
        ;
    tempdir_remove(d->dir);
    track(d, false);   /* last: d may be the tracked copy */
    d->pid = 0;
    return status;
}

void rvd_stop(struct rvd *d)
{
    int status = reap(d);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int it_teardown(void **state)
{
    (void)state;
    for (int i = 0; i < MAX_LIVE; i++)
        if (live[i].pid)
            reap(&live[i]);
    return 0;
}

/* ---- revivectl ---- */

void ctl(const struct rvd *d, const char *cmd, const char *svc, const char *sig)
{
    const char *argv[] = { RV_IT_REVIVECTL, "--socket", d->sock, cmd, svc,
                           sig ? "--signal" : NULL, sig, NULL };
    char err[512];
    int rc = run(argv, NULL, 0, err, sizeof err);
    if (rc != 0)
        fail_msg("revivectl %s %s: exit %d: %s", cmd, svc ? svc : "", rc, err);
}

static long long json_number(const char *obj, const char *key)
{
    char pat[48];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(obj, pat);
    assert_non_null(p);
    return strtoll(p + strlen(pat), NULL, 10);
}

/* Copies a JSON string value; revivectl escapes only '"', '\\' and controls. */
static void json_string(const char *obj, const char *key, char *buf, size_t len)
{
    char pat[48];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *p = strstr(obj, pat);
    assert_non_null(p);
    p += strlen(pat);
    size_t n = 0;
    for (; *p && *p != '"'; p++) {
        if (*p == '\\')
            p++;
        if (n + 1 < len)
            buf[n++] = *p;
    }
    buf[n] = '\0';
}

void svc_status(const struct rvd *d, const char *name, struct svc_status *st)
{
    const char *argv[] = { RV_IT_REVIVECTL, "--socket", d->sock, "status", "--json", NULL };
    char out[8192], err[512], pat[96];
    int rc = run(argv, out, sizeof out, err, sizeof err);
    if (rc != 0)
        fail_msg("revivectl status: exit %d: %s", rc, err);
    snprintf(pat, sizeof pat, "{\"name\":\"%s\"", name);
    char *obj = strstr(out, pat);
    assert_non_null(obj);
    char *end = strchr(obj, '}');
    assert_non_null(end);
    *end = '\0';
    json_string(obj, "state", st->state, sizeof st->state);
    json_string(obj, "last_exit", st->last_exit, sizeof st->last_exit);
    st->pid = json_number(obj, "pid");
    st->standby_pid = json_number(obj, "standby_pid");
    st->standby_ready = strstr(obj, "\"standby_ready\":true") != NULL;
    st->restarts = json_number(obj, "restarts");
    st->recoveries = json_number(obj, "recoveries");
    st->sessions = json_number(obj, "sessions");
    st->ssr_bytes = json_number(obj, "ssr_bytes");
    st->requests_failed = json_number(obj, "requests_failed");
}

size_t it_fd_count(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *dir = opendir(path);
    assert_non_null(dir);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(dir));)
        n += e->d_name[0] != '.';
    closedir(dir);
    return n;
}

bool status_ready(const struct svc_status *st, const void *arg)
{
    (void)arg;
    return strcmp(st->state, "ready") == 0;
}

bool status_standby_ready(const struct svc_status *st, const void *arg)
{
    (void)arg;
    return st->standby_ready && strcmp(st->state, "ready") == 0;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void wait_status(const struct rvd *d, const char *name,
                 bool (*done)(const struct svc_status *st, const void *arg), const void *arg,
                 struct svc_status *st)
{
    long long deadline = now_ms() + IT_WAIT_MS;
    for (;;) {
        svc_status(d, name, st);
        if (done(st, arg))
            return;
        if (now_ms() > deadline)
            fail_msg("%s: status never reached the awaited state (now %s, %lld sessions, %lld SSR bytes)",
                     name, st->state, st->sessions, st->ssr_bytes);
        struct timespec ts = { .tv_nsec = 10 * 1000000 };
        nanosleep(&ts, NULL);
    }
}

/* ---- sessions ---- */

rv_session *open_session(const struct rvd *d, const char *svc, const char *args)
{
    rv_conn *c;
    rv_session *s;
    assert_int_equal(rv_connect(d->sock, &c), 0);
    int rc = rv_open(c, svc, args, &s);
    if (rc != 0)
        fail_msg("rv_open(%s): %d: %s", svc, rc, rv_conn_error(c));
    rv_disconnect(c);
    return s;
}

int call_u64(rv_session *s, uint32_t op, uint64_t *v)
{
    size_t len = 0;
    *v = 0;
    int rc = rv_call(s, op, NULL, 0, v, sizeof *v, &len);
    return rc == 0 && len != sizeof *v ? RV_EPROTO : rc;
}

uint64_t call_ok(rv_session *s, uint32_t op)
{
    uint64_t v;
    int rc = call_u64(s, op, &v);
    if (rc != 0)
        fail_msg("call op %u: %d: %s", op, rc, rv_session_error(s));
    return v;
}

/* ---- FIFOs ---- */

void fifo_make(const struct rvd *d, const char *name, struct fifo *f)
{
    rvd_file(d, name, f->path, sizeof f->path);
    it_mkfifo(f->path);
    f->fd = open(f->path, O_RDWR | O_CLOEXEC);
    assert_true(f->fd >= 0);
}

void fifo_wait(struct fifo *f)
{
    char b;
    ssize_t r;
    while ((r = read(f->fd, &b, 1)) < 0 && errno == EINTR)
        ;
    assert_int_equal(r, 1);
}

void fifo_close(struct fifo *f)
{
    unlink(f->path);
    close(f->fd);
}

/* ---- client threads ---- */

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct crew *c = w->crew;
    for (;;) {
        pthread_mutex_lock(&c->mu);
        bool stop = c->stop;
        pthread_mutex_unlock(&c->mu);
        if (stop)
            return NULL;
        uint64_t v;
        pthread_rwlock_rdlock(&fork_lock);
        int rc = call_u64(w->s, TEST_INCR, &v);
        pthread_rwlock_unlock(&fork_lock);
        pthread_mutex_lock(&c->mu);
        if (rc != 0 || v != w->n + 1) {
            w->rc = rc ? rc : RV_EPROTO;
            snprintf(w->why, sizeof w->why, "after counter %llu: status %d, counter %llu: %s",
                     (unsigned long long)w->n, rc, (unsigned long long)v, rv_session_error(w->s));
        } else
            w->n = v;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        if (w->rc)
            return NULL;
    }
}

void crew_start(struct crew *c, const struct rvd *d, size_t n)
{
    assert_true(n <= CREW_MAX);
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->n = n;
    for (size_t i = 0; i < n; i++) {
        c->w[i].crew = c;
        c->w[i].s = open_session(d, "test", NULL);
    }
    for (size_t i = 0; i < n; i++)
        assert_int_equal(pthread_create(&c->w[i].th, NULL, worker_main, &c->w[i]), 0);
}

static void crew_check(const struct crew *c)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->w[i].rc)
            fail_msg("client %zu: %s", i, c->w[i].why);
}

void crew_wait_progress(struct crew *c, uint64_t calls)
{
    uint64_t want[CREW_MAX];
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += IT_WAIT_MS / 1000;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->n; i++)
        want[i] = c->w[i].n + calls;
    for (;;) {
        bool done = true, failed = false;
        for (size_t i = 0; i < c->n; i++) {
            done &= c->w[i].n >= want[i];
            failed |= c->w[i].rc != 0;
        }
        if (done || failed || pthread_cond_timedwait(&c->cv, &c->mu, &deadline) == ETIMEDOUT)
            break;
    }
    bool done = true;
    for (size_t i = 0; i < c->n; i++)
        done &= c->w[i].n >= want[i];
    pthread_mutex_unlock(&c->mu);
    crew_check(c);
    if (!done)
        fail_msg("clients made no progress within %d ms", IT_WAIT_MS);
}

void crew_stop(struct crew *c)
{
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_mutex_unlock(&c->mu);
    for (size_t i = 0; i < c->n; i++)
        pthread_join(c->w[i].th, NULL);
    crew_check(c);
    for (size_t i = 0; i < c->n; i++) {
        assert_int_equal(call_ok(c->w[i].s, TEST_GET), c->w[i].n);
        rv_close(c->w[i].s);
    }
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
}
