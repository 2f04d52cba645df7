/* bench_fs.c — the file system service through its mount, beside the two
 * file systems a user would otherwise pick for the same image: fuse2fs
 * (Debian's ext4 FUSE driver, the peer) and the kernel's ext4 on a loop
 * device (the floor). Three identical images (mke2fs -t ext4 -b 4096, 1 GiB)
 * in one temp directory, each workload run on the three in turn, `reps`
 * times, the median kept:
 *
 *   sequential write   256 MiB in 1 MiB writes, then fsync       MiB/s
 *   sequential read    the same file, O_DIRECT, 1 MiB reads      MiB/s
 *   random write       4 KiB at random offsets in it, fsync       IOPS
 *   random read        4 KiB at random offsets, O_DIRECT          IOPS
 *   create, stat, unlink   5000 empty files in a directory        per second
 *
 * Reads bypass the page cache (O_DIRECT), so every read reaches the file
 * system's server: a cached read is the kernel's page cache for all three,
 * and whether a FUSE server's pages stay cached after writes depends on
 * how precise its mtimes are (fuse2fs reports whole seconds, so the kernel
 * keeps pages a second-precise mtime does not invalidate). Dropping the
 * page cache instead would not be fair either: the fs service maps the
 * image, and mapped pages survive drop_caches.
 *
 * Everything runs twice: with every process (this one, revived and its
 * instances, fuse2fs) on CPU 0, and with no pinning.
 *
 * Then the stall a program sees when the server dies: a writer (a dd of
 * 64 KiB writes) runs while fs is SIGKILLed every 200 ms; for each kill,
 * the longest wait for one write until the next kill, beside the longest
 * in the same windows without kills. fuse2fs is killed once under the
 * same writer: its mount is gone. */
#include "bench_tool.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define IMAGE_SIZE "1G"
#define SEQ_MIB 256
#define WRITE_CHUNK (64 * 1024)
#define STALL_PERIOD_MS 200

static const char *const row_name[FS_NROWS] = {
    "sequential write (MiB/s)", "sequential read, O_DIRECT (MiB/s)", "random 4 KiB write (IOPS)",
    "random 4 KiB read, O_DIRECT (IOPS)",
    "create (files/s)", "stat (files/s)", "unlink (files/s)",
};
static const char *const target_name[FS_NTARGETS] = { "revive", "fuse2fs", "ext4 (loop)" };
static const char *const place_label[FS_NPLACES] = { "all on CPU 0", "no pinning" };

struct target {
    int kind;               /* FS_REVIVE, FS_FUSE2FS, FS_EXT4 */
    char img[160], mnt[160], sock[160], log[160];
    pid_t server;           /* revived or fuse2fs; 0 for ext4 */
};

/* ---- processes ---- */

static pid_t spawn(const char *const argv[], const char *log, int keep_fd)
{
    pid_t pid = fork();
    if (pid < 0)
        bench_die("fork: %m");
    if (pid == 0) {
        int fd = log ? open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        if (keep_fd >= 0)
            fcntl(keep_fd, F_SETFD, 0);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static void run_cmd(const char *const argv[])
{
    int status;
    pid_t pid = spawn(argv, NULL, -1);
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        bench_die("%s failed (is it installed? rv-bench's file system part needs e2fsprogs, fuse2fs and root)",
                  argv[0]);
}

static bool mounted(const char *mnt)
{
    FILE *f = fopen("/proc/self/mountinfo", "r");
    char line[1024], a[512], b[512], where[512];
    bool found = false;
    while (f && !found && fgets(line, sizeof line, f))
        found = sscanf(line, "%511s %511s %*s %*s %511s", a, b, where) == 3 && strcmp(where, mnt) == 0;
    if (f)
        fclose(f);
    return found;
}

static void wait_mounted(const struct target *t)
{
    for (int i = 0; i < 1000 && !mounted(t->mnt); i++)
        usleep(10 * 1000);  /* fuse2fs mounts in the background: nothing to wait on but the mount table */
    if (!mounted(t->mnt))
        bench_die("%s did not mount %s (log: %s)", target_name[t->kind], t->mnt, t->log);
}

/* ---- the three file systems ---- */

static void start_revive(struct target *t, const char *build, const char *dir)
{
    char manifest[200], revived[4096], fs_exec[4096], fdvar[16];
    snprintf(manifest, sizeof manifest, "%s/revive.ini", dir);
    snprintf(revived, sizeof revived, "%s/src/revived/revived", build);
    snprintf(fs_exec, sizeof fs_exec, "%s/services/rv-svc-fs", build);
    snprintf(t->sock, sizeof t->sock, "%s/revived.sock", dir);
    FILE *f = fopen(manifest, "w");
    if (!f)
        bench_die("%s: %m", manifest);
    fprintf(f, "[service fs]\nexec = %s\nstate = arena\narena_size = 16M\nssr_size = 1K\nimage = %s\nmount = %s\n"
               "standby = yes\nmax_restarts = 100000 in 10s\n", fs_exec, t->img, t->mnt);
    fclose(f);
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        bench_die("pipe: %m");
    snprintf(fdvar, sizeof fdvar, "%d", p[1]);
    setenv("REVIVE_READY_FD", fdvar, 1);
    const char *argv[] = { revived, "--foreground", "--log-level", "warning", "--manifest", manifest, "--socket",
                           t->sock, NULL };
    t->server = spawn(argv, t->log, p[1]);
    unsetenv("REVIVE_READY_FD");
    close(p[1]);
    char ready[8];
    if (read(p[0], ready, sizeof ready) != 6)
        bench_die("revived did not start (log: %s)", t->log);
    close(p[0]);
    wait_mounted(t);
}

static void start(struct target *t, const char *build, const char *dir)
{
    if (t->kind == FS_REVIVE) {
        start_revive(t, build, dir);
    } else if (t->kind == FS_FUSE2FS) {
        const char *argv[] = { "fuse2fs", t->img, t->mnt, "-f", NULL };
        t->server = spawn(argv, t->log, -1);
        wait_mounted(t);
    } else {
        const char *argv[] = { "mount", "-o", "loop", t->img, t->mnt, NULL };
        run_cmd(argv);
    }
}

static void stop(struct target *t)
{
    if (t->kind == FS_REVIVE) {
        kill(t->server, SIGTERM);       /* revived unmounts */
    } else if (umount2(t->mnt, t->kind == FS_FUSE2FS ? MNT_DETACH : 0) < 0 && errno != EINVAL) {
        bench_die("umount %s: %m", t->mnt);
    }
    if (t->server > 0)
        waitpid(t->server, NULL, 0);
    t->server = 0;
}

/* ---- workloads ---- */

/* 1 MiB, page-aligned for O_DIRECT. */
static void *chunk(void)
{
    static char *buf;
    if (!buf) {
        if (posix_memalign((void **)&buf, 4096, 1 << 20) != 0)
            bench_die("out of memory");
        for (int i = 0; i < 1 << 20; i++)
            buf[i] = (char)(i * 31 + 7);
    }
    return buf;
}

static int open_or_die(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC, 0644);
    if (fd < 0)
        bench_die("open %s: %m", path);
    return fd;
}

static double seq_write(const char *file, int mib)
{
    int fd = open_or_die(file, O_WRONLY | O_CREAT | O_TRUNC);
    uint64_t t0 = bench_now_ns();
    for (int i = 0; i < mib; i++)
        if (write(fd, chunk(), 1 << 20) != 1 << 20)
            bench_die("write %s: %m", file);
    if (fsync(fd) < 0)
        bench_die("fsync %s: %m", file);
    double s = (double)(bench_now_ns() - t0) / 1e9;
    close(fd);
    return mib / s;
}

static double seq_read(const char *file, int mib)
{
    int fd = open_or_die(file, O_RDONLY | O_DIRECT);
    uint64_t t0 = bench_now_ns();
    ssize_t n;
    long total = 0;
    while ((n = read(fd, chunk(), 1 << 20)) > 0)
        total += n;
    if (n < 0 || total != (long)mib << 20)
        bench_die("read %s: %m", file);
    double s = (double)(bench_now_ns() - t0) / 1e9;
    close(fd);
    return mib / s;
}

static double random_io(const char *file, int mib, int ops, bool writing)
{
    int fd = open_or_die(file, writing ? O_WRONLY : O_RDONLY | O_DIRECT);
    posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
    unsigned seed = 12345;
    long blocks = (long)mib * 256;
    uint64_t t0 = bench_now_ns();
    for (int i = 0; i < ops; i++) {
        off_t off = (off_t)(rand_r(&seed) % blocks) * 4096;
        ssize_t n = writing ? pwrite(fd, chunk(), 4096, off) : pread(fd, chunk(), 4096, off);
        if (n != 4096)
            bench_die("%s %s: %m", writing ? "pwrite" : "pread", file);
    }
    if (writing && fsync(fd) < 0)
        bench_die("fsync %s: %m", file);
    double s = (double)(bench_now_ns() - t0) / 1e9;
    close(fd);
    return ops / s;
}

/* Creates, stats and unlinks n files in a fresh directory: three rates. */
static void metadata(const char *dir, int n, double out[3])
{
    char path[320];
    if (mkdir(dir, 0755) < 0)
        bench_die("mkdir %s: %m", dir);
    uint64_t t[4];
    t[0] = bench_now_ns();
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/f%06d", dir, i);
        close(open_or_die(path, O_WRONLY | O_CREAT | O_EXCL));
    }
    t[1] = bench_now_ns();
    struct stat st;
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/f%06d", dir, i);
        if (stat(path, &st) < 0)
            bench_die("stat %s: %m", path);
    }
    t[2] = bench_now_ns();
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/f%06d", dir, i);
        if (unlink(path) < 0)
            bench_die("unlink %s: %m", path);
    }
    t[3] = bench_now_ns();
    if (rmdir(dir) < 0)
        bench_die("rmdir %s: %m", dir);
    for (int k = 0; k < 3; k++)
        out[k] = n / ((double)(t[k + 1] - t[k]) / 1e9);
}

/* One round of every workload on t: v[row]. */
static void round_on(const struct target *t, int rep, int quick, double v[FS_NROWS])
{
    char file[256], dir[256];
    int mib = quick ? SEQ_MIB / 4 : SEQ_MIB, ops = quick ? 4000 : 20000, files = quick ? 1000 : 5000;
    snprintf(file, sizeof file, "%s/seq", t->mnt);
    snprintf(dir, sizeof dir, "%s/meta%d", t->mnt, rep);
    v[FS_SEQ_WRITE] = seq_write(file, mib);
    v[FS_SEQ_READ] = seq_read(file, mib);
    v[FS_RAND_WRITE] = random_io(file, mib, ops, true);
    v[FS_RAND_READ] = random_io(file, mib, ops, false);
    metadata(dir, files, &v[FS_CREATE]);
    unlink(file);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void throughput(struct fs_results *res, struct target *ts, int place, int quick)
{
    int reps = quick ? 1 : 3;
    double v[5][FS_NTARGETS][FS_NROWS];
    for (int rep = 0; rep < reps; rep++)
        for (int k = 0; k < FS_NTARGETS; k++) {
            fprintf(stderr, "rv-bench: file systems, %s, %s, round %d ...\n", place_label[place], target_name[k],
                    rep + 1);
            round_on(&ts[k], rep, quick, v[rep][k]);
        }
    for (int k = 0; k < FS_NTARGETS; k++)
        for (int row = 0; row < FS_NROWS; row++) {
            double s[5];
            for (int rep = 0; rep < reps; rep++)
                s[rep] = v[rep][k][row];
            qsort(s, (size_t)reps, sizeof s[0], cmp_double);
            res->v[place][row][k] = s[reps / 2];
        }
    res->reps = reps;
}

/* ---- the stall across a kill ---- */

struct writer {
    const char *file;
    volatile bool stop;
    int err;                    /* errno of the first failed write */
    uint64_t failed_at;
    pthread_t th;
    struct { uint64_t end_ns, wait_ns; } *w;
    size_t n, cap;
};

static void *writer_main(void *arg)
{
    struct writer *wr = arg;
    int fd = open(wr->file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        wr->err = errno;
        return NULL;
    }
    for (long done = 0; !wr->stop && wr->n < wr->cap; done += WRITE_CHUNK) {
        if (done == 64L << 20)
            lseek(fd, 0, SEEK_SET), done = 0;     /* a bounded file, written over and over */
        uint64_t t0 = bench_now_ns();
        if (write(fd, chunk(), WRITE_CHUNK) != WRITE_CHUNK) {
            wr->err = errno;
            wr->failed_at = bench_now_ns();
            break;
        }
        uint64_t t1 = bench_now_ns();
        wr->w[wr->n].end_ns = t1;
        wr->w[wr->n++].wait_ns = t1 - t0;
    }
    close(fd);
    return NULL;
}

static void writer_start(struct writer *wr, const char *file)
{
    *wr = (struct writer){ .file = file, .cap = 4u << 20 };
    wr->w = calloc(wr->cap, sizeof *wr->w);
    if (!wr->w || pthread_create(&wr->th, NULL, writer_main, wr) != 0)
        bench_die("cannot start the writer");
}

static void writer_stop(struct writer *wr)
{
    wr->stop = true;
    pthread_join(wr->th, NULL);
}

/* The longest wait of a write that ended in [from, to). */
static double longest_wait_us(const struct writer *wr, uint64_t from, uint64_t to)
{
    uint64_t longest = 0;
    for (size_t i = 0; i < wr->n; i++)
        if (wr->w[i].end_ns >= from && wr->w[i].end_ns < to && wr->w[i].wait_ns > longest)
            longest = wr->w[i].wait_ns;
    return (double)longest / 1000.0;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);   /* the kill cadence */
}

static void kill_fs(const char *build, const struct target *t)
{
    char ctl[4096];
    snprintf(ctl, sizeof ctl, "%s/src/tools/revivectl", build);
    const char *argv[] = { ctl, "--socket", t->sock, "kill", "fs", "--signal", "KILL", NULL };
    run_cmd(argv);
}

static void stall_revive(struct fs_results *res, const struct target *t, const char *build, int kills)
{
    char file[300];
    snprintf(file, sizeof file, "%s/dd", t->mnt);
    struct series with = { 0 }, without = { 0 };
    struct writer wr;
    writer_start(&wr, file);
    uint64_t *at = calloc((size_t)kills + 1, sizeof *at);
    for (int i = 0; i < kills; i++) {           /* windows without a kill first, then with */
        sleep_ms(STALL_PERIOD_MS);
        at[i] = bench_now_ns();
    }
    for (int i = 0; i + 1 < kills; i++)
        series_add(&without, longest_wait_us(&wr, at[i], at[i + 1]));
    for (int i = 0; i < kills; i++) {
        at[i] = bench_now_ns();
        kill_fs(build, t);
        sleep_ms(STALL_PERIOD_MS);
    }
    at[kills] = bench_now_ns();
    writer_stop(&wr);
    if (wr.err)
        bench_die("the writer on revive's mount failed across a kill: %s", strerror(wr.err));
    for (int i = 0; i < kills; i++)
        series_add(&with, longest_wait_us(&wr, at[i], at[i + 1]));
    res->stall_kills = kills;
    res->stall_p50_us = series_quantile(&with, 0.5);
    res->stall_p99_us = series_quantile(&with, 0.99);
    res->stall_max_us = series_quantile(&with, 1.0);
    res->calm_p50_us = series_quantile(&without, 0.5);
    res->calm_max_us = series_quantile(&without, 1.0);
    series_free(&with), series_free(&without);
    free(at), free(wr.w);
}

static void stall_fuse2fs(struct fs_results *res, struct target *t)
{
    char file[300];
    snprintf(file, sizeof file, "%s/dd", t->mnt);
    struct writer wr;
    writer_start(&wr, file);
    sleep_ms(STALL_PERIOD_MS);
    uint64_t killed = bench_now_ns();
    kill(t->server, SIGKILL);
    for (int i = 0; i < 100 && !wr.err; i++)
        sleep_ms(10);       /* the writer's next write fails at once; bounded in case it does not */
    writer_stop(&wr);
    struct stat st;
    res->fuse2fs_err = wr.err;
    res->fuse2fs_ms = wr.err ? (double)(wr.failed_at - killed) / 1e6 : -1;
    res->fuse2fs_stat_err = stat(t->mnt, &st) < 0 ? errno : 0;
    waitpid(t->server, NULL, 0);
    t->server = 0;
    umount2(t->mnt, MNT_DETACH);
    free(wr.w);
}

/* ---- the whole section ---- */

void fs_measure(struct fs_results *res, const char *build, int quick)
{
    memset(res, 0, sizeof *res);
    char dir[] = "/tmp/rv-bench-fs.XXXXXX";
    if (!mkdtemp(dir))
        bench_die("mkdtemp: %m");
    struct target ts[FS_NTARGETS];
    for (int k = 0; k < FS_NTARGETS; k++) {
        ts[k] = (struct target){ .kind = k };
        snprintf(ts[k].img, sizeof ts[k].img, "%s/image%d", dir, k);
        snprintf(ts[k].mnt, sizeof ts[k].mnt, "%s/mnt%d", dir, k);
        snprintf(ts[k].log, sizeof ts[k].log, "%s/server%d.log", dir, k);
        const char *trunc[] = { "truncate", "-s", IMAGE_SIZE, ts[k].img, NULL };
        const char *mkfs[] = { "mke2fs", "-q", "-F", "-t", "ext4", "-b", "4096", ts[k].img, NULL };
        run_cmd(trunc);
        run_cmd(mkfs);
        if (mkdir(ts[k].mnt, 0755) < 0)
            bench_die("mkdir %s: %m", ts[k].mnt);
    }
    for (int place = 0; place < FS_NPLACES; place++) {
        if (place == FS_PINNED ? bench_pin(SERVER_CPU) < 0 : bench_pin(-1) < 0)
            bench_die("cannot set this process's CPUs: %m");
        for (int k = 0; k < FS_NTARGETS; k++)
            start(&ts[k], build, dir);
        throughput(res, ts, place, quick);
        if (place == FS_PINNED) {
            fprintf(stderr, "rv-bench: a writer while fs is killed every %d ms ...\n", STALL_PERIOD_MS);
            stall_revive(res, &ts[FS_REVIVE], build, quick ? 10 : 40);
            stall_fuse2fs(res, &ts[FS_FUSE2FS]);
        }
        for (int k = 0; k < FS_NTARGETS; k++)
            if (ts[k].kind != FS_FUSE2FS || ts[k].server)
                stop(&ts[k]);
    }
    bench_pin(-1);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "rv-bench: could not remove %s\n", dir);
}

/* ---- the report ---- */

void fs_report(FILE *f, const struct fs_results *res)
{
    fprintf(f, "## The file system through its mount\n\n"
               "Three identical 1 GiB images (mke2fs -t ext4 -b 4096): revive's fs service (standby = yes), "
               "fuse2fs, and the kernel's ext4 on a loop device. Median of %d rounds. Writes include the final fsync; "
               "reads are O_DIRECT, so each reaches the file system's server (cached reads are the kernel's page "
               "cache for all three).\n", res->reps);
    for (int place = 0; place < FS_NPLACES; place++) {
        fprintf(f, "\n### %s\n\n| | revive | fuse2fs | ext4 (loop) | revive / fuse2fs | revive / ext4 |\n"
                   "|---|---:|---:|---:|---:|---:|\n", place_label[place]);
        for (int row = 0; row < FS_NROWS; row++) {
            const double *v = res->v[place][row];
            fprintf(f, "| %s | %.0f | %.0f | %.0f | %.2fx%s | %.2fx |\n", row_name[row], v[FS_REVIVE], v[FS_FUSE2FS],
                    v[FS_EXT4], v[FS_REVIVE] / v[FS_FUSE2FS], v[FS_REVIVE] >= v[FS_FUSE2FS] ? "" : " (below 1.0)",
                    v[FS_REVIVE] / v[FS_EXT4]);
        }
    }
    fprintf(f, "\n## What a writer sees when the server is killed\n\n"
               "A writer of 64 KiB writes (a dd) on the mount, all on CPU 0; fs SIGKILLed every %d ms, %d times. "
               "Per kill: the longest wait for one write until the next kill.\n\n"
               "| | p50 | p99 | max |\n|---|---:|---:|---:|\n"
               "| revive, across a kill | %.2f ms | %.2f ms | %.2f ms |\n"
               "| revive, the same windows without kills | %.2f ms | | %.2f ms |\n\n",
            STALL_PERIOD_MS, res->stall_kills, res->stall_p50_us / 1000, res->stall_p99_us / 1000,
            res->stall_max_us / 1000, res->calm_p50_us / 1000, res->calm_max_us / 1000);
    fprintf(f, "Target p50 <= 10 ms with a standby: %s.\n\n", res->stall_p50_us <= 10000 ? "met" : "MISSED");
    if (res->fuse2fs_err)
        fprintf(f, "fuse2fs killed once under the same writer: its next write failed with %s after %.1f ms, and the "
                   "mount is gone (stat of the mount point: %s). Every later write fails the same way until someone "
                   "unmounts and mounts again; open files do not come back.\n",
                strerrorname_np(res->fuse2fs_err), res->fuse2fs_ms,
                res->fuse2fs_stat_err ? strerror(res->fuse2fs_stat_err) : "works");
    else
        fprintf(f, "fuse2fs killed once under the same writer: the writer saw no error (unexpected).\n");
}

void fs_csv(FILE *f, const struct fs_results *res)
{
    fprintf(f, "placement,row,revive,fuse2fs,ext4_loop,x_fuse2fs,x_ext4\n");
    for (int place = 0; place < FS_NPLACES; place++)
        for (int row = 0; row < FS_NROWS; row++) {
            const double *v = res->v[place][row];
            fprintf(f, "%s,%s,%.1f,%.1f,%.1f,%.3f,%.3f\n", place_label[place], row_name[row], v[FS_REVIVE],
                    v[FS_FUSE2FS], v[FS_EXT4], v[FS_REVIVE] / v[FS_FUSE2FS], v[FS_REVIVE] / v[FS_EXT4]);
        }
    fprintf(f, "\nkind,kills,p50_us,p99_us,max_us\nstall_with_kills,%d,%.1f,%.1f,%.1f\nstall_without,%d,%.1f,,%.1f\n",
            res->stall_kills, res->stall_p50_us, res->stall_p99_us, res->stall_max_us, res->stall_kills - 1,
            res->calm_p50_us, res->calm_max_us);
    fprintf(f, "\nfuse2fs_killed,errno,ms_to_error,mount_after\n,%s,%.1f,%s\n",
            res->fuse2fs_err ? strerrorname_np(res->fuse2fs_err) : "none", res->fuse2fs_ms,
            res->fuse2fs_stat_err ? strerrorname_np(res->fuse2fs_stat_err) : "ok");
}
