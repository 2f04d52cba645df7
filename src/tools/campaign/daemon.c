/* daemon.c — a private revived for each experiment, and its status.
 *
 * Every experiment starts from a fresh revived (so one experiment's damage
 * never leaks into the next) in its own temp dir holding the manifest, the
 * socket and revived's log. The manifest runs just the target service with
 * no standby (each crash is a real restart), a quick watchdog (a hang costs
 * 300 ms, not 2 s) and a generous restart budget (the injected fault, not
 * the restart policy, decides the outcome). The status comes from revived's
 * public socket, as `revivectl status` gets it.
 *
 * The baseline (state preservation off, a plain MINIX-3-style restart):
 * random and timer run with `state = stateless`, so a restart revokes
 * every session. kv keeps its table in its arena, which revived does not
 * allow together with `state = stateless` and always carries across
 * restarts; its baseline is rv-svc-kv-test --volatile, which zeroes the
 * arena when an instance starts (an empty table, as a server holding it in
 * its own memory would come back) and rejects the surviving sessions, so
 * their clients are told (RV_ELOST) as a stateless service's are. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "campaign.h"

#define READY_FD 100
#define STOP_WAIT_MS 5000

/* The policy every campaign's service runs under. */
static const char policy[] =
    "ssr_protect = checksum\n"
    "restart = always\n"
    "max_restarts = 100 in 10s\n"
    "backoff = 1ms..10ms\n"
    "request_timeout = 300ms\n"
    "heartbeat = 200ms\n"
    "standby = no\n";

/* kv's arena: the table's directory (128 KiB) and a few dozen small
 * entries need far less than the default 64M; a small one keeps the
 * baseline's wipe cheap. */
#define KV_STATE "state = arena\narena_size = 2M\nssr_size = 0\n"

/* Each service's own lines: normally, and in the baseline. */
static const struct {
    const char *normal, *baseline, *baseline_what;
} service_lines[CP_NSERVICES] = {
    [CP_RANDOM] = { "exec = rv-svc-random\n", "exec = rv-svc-random\nstate = stateless\n",
                    "`state = stateless`: a restart revokes every session" },
    [CP_TIMER] = { "exec = rv-svc-timer\n", "exec = rv-svc-timer\nstate = stateless\n",
                   "`state = stateless`: a restart revokes every session" },
    [CP_KV] = { "exec = rv-svc-kv\n" KV_STATE, "exec = rv-svc-kv-test\nargs = --volatile\n" KV_STATE,
                "`rv-svc-kv-test --volatile`: a restart empties the table and loses every session" },
};

const char *cp_baseline_what(enum cp_service svc) { return service_lines[svc].baseline_what; }

static int write_manifest(const char *path, enum cp_service svc, bool baseline)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "[service %s]\n%s%s", cp_service_name(svc),
            baseline ? service_lines[svc].baseline : service_lines[svc].normal, policy);
    return fclose(f);
}

static void exec_revived(const struct cp_daemon *d, const char *manifest, int ready)
{
    char log[128], fd[16];
    prctl(PR_SET_PDEATHSIG, SIGKILL);   /* an interrupted campaign leaves nothing behind */
    snprintf(log, sizeof log, "%s/revived.log", d->dir);
    int lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (dup2(ready, READY_FD) < 0 || lfd < 0 || dup2(lfd, STDERR_FILENO) < 0)
        _exit(126);
    snprintf(fd, sizeof fd, "%d", READY_FD);
    setenv("REVIVE_READY_FD", fd, 1);
    setenv("REVIVE_SERVICE_PATH", RV_CP_SERVICE_PATH, 1);
    execl(RV_CP_REVIVED, "revived", "--foreground", "--manifest", manifest, "--socket", d->sock,
          "--log-level", "info", (char *)NULL);
    _exit(127);
}

int cp_daemon_start(struct cp_daemon *d, enum cp_service svc, bool baseline)
{
    char manifest[128];
    snprintf(d->dir, sizeof d->dir, "/tmp/rv-campaign-XXXXXX");
    if (!mkdtemp(d->dir))
        return -1;
    snprintf(d->sock, sizeof d->sock, "%s/revived.sock", d->dir);
    snprintf(manifest, sizeof manifest, "%s/manifest.ini", d->dir);
    int p[2];
    if (write_manifest(manifest, svc, baseline) < 0 || pipe2(p, O_CLOEXEC) < 0)
        return -1;
    d->pid = fork();
    if (d->pid == 0)
        exec_revived(d, manifest, p[1]);
    close(p[1]);
    char ready[8] = "";
    ssize_t n;
    while ((n = read(p[0], ready, sizeof ready - 1)) < 0 && errno == EINTR)
        ;
    close(p[0]);
    return d->pid > 0 && n == 6 && strcmp(ready, "READY\n") == 0 ? 0 : -1;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* waitpid with a bound: revived's exit is the event, polled with WNOHANG. */
static bool reap_within(pid_t pid, int ms)
{
    int64_t end = now_ms() + ms;
    int status;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (now_ms() >= end)
            return false;
        nanosleep(&(struct timespec){ 0, 2000000 }, NULL);
    }
    return true;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* revived's log into `keep`, so a failure can be studied afterwards. */
static void keep_log(const struct cp_daemon *d, const char *keep)
{
    char log[128], buf[4096];
    snprintf(log, sizeof log, "%s/revived.log", d->dir);
    FILE *in = fopen(log, "r"), *out = in ? fopen(keep, "w") : NULL;
    size_t n;
    while (out && (n = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, n, out);
    if (out)
        fclose(out);
    if (in)
        fclose(in);
}

void cp_daemon_remove(struct cp_daemon *d, const char *keep)
{
    if (!d->dir[0])
        return;
    if (keep)
        keep_log(d, keep);
    nftw(d->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    d->dir[0] = '\0';
}

void cp_daemon_stop(struct cp_daemon *d, pid_t orphan)
{
    if (d->pid > 0) {
        kill(d->pid, SIGTERM);
        if (!reap_within(d->pid, STOP_WAIT_MS)) {
            kill(d->pid, SIGKILL);
            waitpid(d->pid, NULL, 0);
        }
    }
    if (orphan > 0)
        kill(orphan, SIGKILL);   /* a no-op unless revived was killed and left it */
    d->pid = 0;
}

int cp_status(const struct cp_daemon *d, struct rv_wire_svc_status *st)
{
    int fd = rv__wire_dial(d->sock);
    if (fd < 0)
        return -1;
    struct rv_msg *m = malloc(sizeof *m);
    struct rv_hdr h = rv__hdr_make(RV_T_STATUS, 0, 0, 0, 0);
    int rc = -1;
    if (m && rv__wire_send(fd, &h, NULL, NULL, 0, 0) == 0 && rv__wire_recv(fd, m, RV_WIRE_MAX_BODY, 0) > 0 &&
        m->hdr.type == RV_T_STATUS_REPLY && m->hdr.len >= sizeof *st) {
        memcpy(st, m->body, sizeof *st);
        st->name[sizeof st->name - 1] = st->state[sizeof st->state - 1] = '\0';
        st->last_exit[sizeof st->last_exit - 1] = '\0';
        rc = 0;
    }
    free(m);
    close(fd);
    return rc;
}

int cp_wait_settled(const struct cp_daemon *d, struct rv_wire_svc_status *st, int ms)
{
    int64_t end = now_ms() + ms;
    for (;;) {
        if (cp_status(d, st) < 0)
            return -1;
        bool moving = strcmp(st->state, "starting") == 0 || strcmp(st->state, "recovering") == 0;
        if (!moving && (st->pid > 0 || strcmp(st->state, "ready") != 0))
            return 0;
        if (now_ms() >= end)
            return -1;
        nanosleep(&(struct timespec){ 0, 2000000 }, NULL);
    }
}
