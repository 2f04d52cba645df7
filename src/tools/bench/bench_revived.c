/* bench_revived.c — rv-bench's own revived: a private temp directory with
 * the manifest, the socket, the HOLD fifo and the log, and revived started
 * in the foreground from the build tree.
 *
 * Every call service is rv-svc-bench under another name, one per SSR size
 * and protection policy; "hold" is the one the recovery benchmark kills, so
 * it restarts at once (backoff 0..0) and has no watchdog that could fire
 * while its request is parked. */
#include "bench_tool.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* If rv-bench dies half-way, its revived (and so every service instance)
 * goes with it rather than lingering pinned to CPU 0. */
static pid_t live_revived, owner;

static void stop_on_exit(void)
{
    if (live_revived > 0 && getpid() == owner)
        kill(live_revived, SIGTERM);
}

/* kv and kv-rd (bench_rd.c), each with its own arena, kv-file
 * (bench_arena.c), whose arena is kept durable in the temp dir, and
 * kv-fast (bench_throughput.c), kv on the fast path. */
static void write_kv_services(FILE *f, const char *build_dir, const char *dir)
{
    const char *execs[] = { "rv-svc-kv", "rv-svc-kv-rd" }, *names[] = { RD_KV_SVC, RD_KV_RD_SVC };
    for (int i = 0; i < 2; i++)
        fprintf(f, "\n[service %s]\nexec = %s/services/%s\nstate = arena\narena_size = 64M\n", names[i],
                build_dir, execs[i]);
    fprintf(f, "\n[service %s]\nexec = %s/services/rv-svc-kv\nstate = arena\narena_size = 64M\n"
               "arena_file = %s/kv.arena\n", ARENA_FILE_SVC, build_dir, dir);
    fprintf(f, "\n[service %s]\nexec = %s/services/rv-svc-kv\nstate = arena\narena_size = 64M\nfast_path = yes\n",
            THR_KV_FAST_SVC, build_dir);
}

static void write_manifest(const char *path, const char *dir, const char *build_dir, const char *svc_exec,
                           const char *fifo, const struct bench_svc *svcs, size_t n)
{
    FILE *f = fopen(path, "w");
    if (!f)
        bench_die("cannot write %s: %m", path);
    /* 10,000 sessions of SSR + journal are ~130 MB, past the 16M default,
     * and past the 1024 sessions a user may hold by default; the status
     * connection (revived_status) is dialled at the start and may stay
     * silent through a whole section */
    fprintf(f, "[revived]\nmax_ssr_bytes = 4G\nmax_sessions_per_user = 1000000\nidle_timeout = 0\n");
    const char *scales[] = { SCALE_SVC, SCALE_SHARED_SVC };
    for (int i = 0; i < 2; i++)
        fprintf(f, "\n[service %s]\nexec = %s\nssr_size = 64\nstandby = yes\nmax_sessions = %d\n"
                   "max_request = 64\nmax_reply = 64\nrequest_timeout = 0\nheartbeat = 0\n", scales[i], svc_exec,
                2 * (i ? SCALE_SHARED_SESSIONS : SCALE_SESSIONS));
    for (size_t i = 0; i < n; i++)
        fprintf(f, "\n[service %s]\nexec = %s\nssr_size = %u\nssr_protect = %s\nfast_path = %s\n", svcs[i].name,
                svc_exec, svcs[i].ssr_size, svcs[i].protect, svcs[i].fast ? "yes" : "no");
    const char *holds[] = { HOLD_SVC, HOLD_STANDBY_SVC, HOLD_BARE_SVC, HOLD_STANDBY_BARE_SVC };
    for (int i = 0; i < 4; i++)
        fprintf(f, "\n[service %s]\nexec = %s\nargs = --notify %s\nssr_size = %d\nssr_protect = checksum\n"
                   "backoff = 0..0\nmax_restarts = 100000 in 1s\nrequest_timeout = 0\nheartbeat = 0\nstandby = %s\n"
                   "max_request = 64\nmax_reply = 64\nmax_sessions = %d\n"
                   "write_paths = %s\nsandbox = %s\n",   /* its sandbox lets it open the fifo (docs/sandbox.md) */
                holds[i], svc_exec, fifo, HOLD_SSR_SIZE, i % 2 ? "yes" : "no",
                i == 1 ? SCALE_SHARED_SESSIONS + 100 : 20000, dir, i < 2 ? "yes" : "no");
    const char *storms[] = { STORM_STANDBY_SVC, STORM_NEW_SVC };
    for (int i = 0; i < 2; i++)
        fprintf(f, "\n[service %s]\nexec = %s\nssr_size = %d\nmax_restarts = 1000000 in 1s\n"
                   "request_timeout = 0\nheartbeat = 0\nstandby = %s\nmax_request = 64\nmax_reply = 64\n",
                storms[i], svc_exec, HOLD_SSR_SIZE, i ? "no" : "yes");
    write_kv_services(f, build_dir, dir);
    if (fclose(f) != 0)
        bench_die("cannot write %s: %m", path);
}

static void need_executable(const char *path)
{
    if (access(path, X_OK) < 0)
        bench_die("%s: %m (build first: ninja -C BUILD, or pass --build DIR)", path);
}

/* The child: stderr to the log, READY on ready_fd, then revived. */
static void exec_revived(const struct revived *r, const char *revived_bin, const char *manifest, int ready_fd)
{
    int log = open(r->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    char fdvar[16];
    snprintf(fdvar, sizeof fdvar, "%d", ready_fd);
    if (log < 0 || dup2(log, STDERR_FILENO) < 0 || setenv("REVIVE_READY_FD", fdvar, 1) < 0)
        _exit(127);
    execl(revived_bin, revived_bin, "--foreground", "--log-level", "warning", "--manifest", manifest,
          "--socket", r->sock, (char *)NULL);
    _exit(127);
}

static int dial(const char *path)
{
    int fd = rv__wire_dial(path);
    if (fd < 0)
        bench_die("cannot reach revived at %s: %m", path);
    return fd;
}

static void wait_ready(struct revived *r, int ready_rd)
{
    char buf[8];
    if (read(ready_rd, buf, sizeof buf) != 6 || memcmp(buf, "READY\n", 6) != 0) {
        fprintf(stderr, "rv-bench: revived did not start; its log (%s):\n", r->log);
        char cmd[192];
        snprintf(cmd, sizeof cmd, "cat '%s' >&2", r->log);
        int rc = system(cmd);
        (void)rc;
        exit(1);
    }
}

void revived_start(struct revived *r, const char *build_dir, const struct bench_svc *svcs, size_t n)
{
    char revived_bin[4096], svc_exec[4096], manifest[128], fifo[128];
    snprintf(revived_bin, sizeof revived_bin, "%s/src/revived/revived", build_dir);
    snprintf(svc_exec, sizeof svc_exec, "%s/bench/rv-svc-bench", build_dir);
    need_executable(revived_bin);
    need_executable(svc_exec);
    snprintf(r->dir, sizeof r->dir, "/tmp/rv-bench.XXXXXX");
    if (!mkdtemp(r->dir) || chmod(r->dir, 0711) < 0)   /* the services, users of their own, pass through */
        bench_die("mkdtemp: %m");
    snprintf(r->sock, sizeof r->sock, "%s/revived.sock", r->dir);
    snprintf(r->log, sizeof r->log, "%s/revived.log", r->dir);
    snprintf(manifest, sizeof manifest, "%s/manifest.ini", r->dir);
    snprintf(fifo, sizeof fifo, "%s/notify", r->dir);
    char kv_rd[4096];
    snprintf(kv_rd, sizeof kv_rd, "%s/services/rv-svc-kv-rd", build_dir);
    need_executable(kv_rd);
    write_manifest(manifest, r->dir, build_dir, svc_exec, fifo, svcs, n);
    /* O_RDWR: opening never blocks, and the fifo never reports EOF between
     * one instance of "hold" and the next */
    if (mkfifo(fifo, 0600) < 0 || chmod(fifo, 0666) < 0 || (r->notify_fd = open(fifo, O_RDWR | O_CLOEXEC)) < 0)
        bench_die("fifo %s: %m", fifo);
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        bench_die("pipe: %m");
    r->pid = fork();
    if (r->pid < 0)
        bench_die("fork: %m");
    if (r->pid == 0) {
        int w = dup(p[1]);   /* without close-on-exec */
        exec_revived(r, revived_bin, manifest, w);
    }
    close(p[1]);
    live_revived = r->pid;
    owner = getpid();
    atexit(stop_on_exit);
    wait_ready(r, p[0]);
    close(p[0]);
    r->ctl = dial(r->sock);
}

void revived_stop(struct revived *r)
{
    close(r->ctl);
    close(r->notify_fd);
    int st;
    live_revived = 0;
    if (kill(r->pid, SIGTERM) < 0 || waitpid(r->pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "rv-bench: revived did not shut down cleanly; its log is kept: %s\n", r->log);
        return;
    }
    char path[160];
    const char *files[] = { "manifest.ini", "notify", "revived.log", "kv.arena" };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", r->dir, files[i]);
        unlink(path);
    }
    rmdir(r->dir);
}

struct rv_wire_svc_status revived_status(struct revived *r, const char *name)
{
    static struct rv_msg m;
    struct rv_hdr h = rv__hdr_make(RV_T_STATUS, 0, 0, 0, 0);
    if (rv__wire_send(r->ctl, &h, NULL, NULL, 0, 0) < 0 || rv__wire_recv(r->ctl, &m, RV_WIRE_MAX_BODY, 0) <= 0 ||
        m.hdr.type != RV_T_STATUS_REPLY)
        bench_die("no status from revived");
    struct rv_wire_svc_status st;
    for (size_t off = 0; off + sizeof st <= m.hdr.len; off += sizeof st) {
        memcpy(&st, m.body + off, sizeof st);
        if (strncmp(st.name, name, sizeof st.name) == 0)
            return st;
    }
    bench_die("revived does not know service '%s'", name);
}
