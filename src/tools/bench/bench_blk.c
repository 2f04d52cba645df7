/* bench_blk.c — the block service beside raw io_uring on the same file.
 *
 * rv-bench starts its own revived with `blk` (standby = yes, queue depth
 * 32, --direct) over a 256 MiB image file in a temp directory, written whole
 * first. Both sides do direct I/O (O_DIRECT), so they measure a block
 * device's work — the disk's — not copies from the page cache, which
 * complete inside the submitting call and would leave nothing to queue or
 * share. Then, each for a second, on the same file:
 *
 *   4 KiB random reads and writes, 1 MiB sequential reads and writes, at
 *   queue depth 1 and 32: a blk client (requests queued with BLK_SUBMITV,
 *   completions reaped) against one process's own io_uring.
 *
 * Fairness and priority on a second blk over the same image, keeping 4
 * requests in flight (so that clients' requests queue and the scheduler
 * chooses): two clients of weights 1 and 3 keep 32 random 4 KiB reads each
 * outstanding for two seconds, and their shares of the completions are
 * compared; an RT client's 4 KiB reads, one at a time, are timed alone and
 * under a flood of IDLE-class reads (32 outstanding).
 *
 * The stall a client sees at queue depth 32 when blk is SIGKILLed every
 * 200 ms (with a standby): per kill, the longest wait for any completion.
 * And the same for the kernel's ext4 on a loop device over blk's FUSE
 * export: a writer's 64 KiB O_DIRECT writes, per kill the longest. */
#include "bench_tool.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "blk_client.h"

#define IMAGE_MIB 256
#define RUN_NS 1000000000ull
#define KILL_PERIOD_MS 200

static const char *const io_name[BLK_NIO] = {
    "4 KiB random read", "4 KiB random write", "1 MiB sequential read", "1 MiB sequential write",
};

struct bench_blk {
    char dir[64], img[96], sock[108], log[128], mnt[96], export[96];
    pid_t revived;
    rv_conn *conn;
};

/* ---- processes ---- */

static void run_or_die(const char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, STDOUT_FILENO);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        bench_die("%s failed", argv[0]);
}

static void start_revived(struct bench_blk *b, const char *build)
{
    char manifest[128], revived[4096], svc[4096], fdvar[16];
    snprintf(manifest, sizeof manifest, "%s/blk.ini", b->dir);
    snprintf(revived, sizeof revived, "%s/src/revived/revived", build);
    snprintf(svc, sizeof svc, "%s/services/rv-svc-blk", build);
    FILE *f = fopen(manifest, "w");
    if (!f)
        bench_die("%s: %m", manifest);
    fprintf(f, "[service blk]\nexec = %s\nargs = --queue-depth 32 --direct\nstate = arena\narena_size = 1M\nssr_size = 8K\n"
               "image = %s\nmount = %s\nstandby = yes\nmax_restarts = 100000 in 10s\nheartbeat = 0\n\n"
               "[service blk-q4]\nexec = %s\nargs = --queue-depth 4 --direct\nssr_size = 8K\nimage = %s\n",
            svc, b->img, b->export, svc, b->img);
    fclose(f);
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        bench_die("pipe: %m");
    b->revived = fork();
    if (b->revived == 0) {
        int log = open(b->log, O_WRONLY | O_CREAT | O_TRUNC, 0644), w = dup(p[1]);
        snprintf(fdvar, sizeof fdvar, "%d", w);
        setenv("REVIVE_READY_FD", fdvar, 1);
        dup2(log, STDERR_FILENO);
        execl(revived, revived, "--foreground", "--log-level", "warning", "--manifest", manifest, "--socket", b->sock,
              (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char ready[8];
    if (read(p[0], ready, sizeof ready) != 6)
        bench_die("revived did not start (log: %s)", b->log);
    close(p[0]);
    if (rv_connect(b->sock, &b->conn) != 0)
        bench_die("cannot reach revived at %s", b->sock);
}

static rvblk *session_of(struct bench_blk *b, const char *svc, unsigned weight, size_t buffer)
{
    rvblk *s = rvblk_connect(b->conn, svc, weight, buffer);
    if (!s)
        bench_die("cannot open a session with %s: %m", svc);
    return s;
}

static rvblk *session(struct bench_blk *b, unsigned weight, size_t buffer)
{
    return session_of(b, "blk", weight, buffer);
}

/* ---- one workload, on blk or on io_uring ---- */

struct workload {
    int kind;               /* BLK_RAND_READ ... */
    unsigned depth;
};

static uint32_t blocks_of(int kind)
{
    return kind >= BLK_SEQ_READ ? 256 : 1;
}

static bool writing(int kind)
{
    return kind == BLK_RAND_WRITE || kind == BLK_SEQ_WRITE;
}

/* The next request's block: random, or the next run of the sequence. */
static uint64_t next_lba(int kind, uint64_t *cursor, unsigned *seed)
{
    uint64_t blocks = (uint64_t)IMAGE_MIB * 256, n = blocks_of(kind);
    if (kind < BLK_SEQ_READ)
        return (uint64_t)rand_r(seed) % blocks;
    uint64_t lba = *cursor;
    *cursor = (*cursor + n) % blocks;
    return lba;
}

/* Operations per second through blk, refilling with one SUBMITV. */
static double run_blk(rvblk *s, struct workload w)
{
    uint64_t cursor = 0, ops = 0, t0 = bench_now_ns();
    unsigned seed = 7, busy = 0, n = blocks_of(w.kind);
    uint32_t part_tag[BLK_SLOTS];
    while (bench_now_ns() - t0 < RUN_NS || busy) {
        struct blk_submit q[BLK_SLOTS];
        unsigned k = 0;
        while (bench_now_ns() - t0 < RUN_NS && busy + k < w.depth) {
            q[k] = (struct blk_submit){ .op = writing(w.kind) ? BLK_WRITE : BLK_READ, .cls = BLK_BE, .nblocks = n,
                                        .lba = next_lba(w.kind, &cursor, &seed),
                                        .buf_off = (uint64_t)(busy + k) % w.depth * n * BLK_BLOCK };
            k++;
        }
        if (k && rvblk_submitv(s, q, k, part_tag) < 0)
            bench_die("blk submit failed: %s", rvblk_error(s));
        busy += k;
        struct blk_completion c[BLK_SLOTS];
        int got = rvblk_reap(s, c, BLK_SLOTS, true);
        if (got < 0)
            bench_die("blk reap failed: %s", rvblk_error(s));
        busy -= (unsigned)got;
        ops += (uint64_t)got;
    }
    return (double)ops / ((double)(bench_now_ns() - t0) / 1e9);
}

/* The same on this process's own io_uring over the same file. */
static double run_uring(const char *img, struct workload w)
{
    struct io_uring ring;
    int fd = open(img, O_RDWR | O_DIRECT | O_CLOEXEC);
    unsigned n = blocks_of(w.kind), seed = 7, busy = 0;
    uint8_t *buf = NULL;
    if (fd < 0 || posix_memalign((void **)&buf, 4096, (size_t)w.depth * n * BLK_BLOCK) != 0 ||
        io_uring_queue_init(2 * w.depth, &ring, 0) < 0)
        bench_die("io_uring on %s: %m", img);
    memset(buf, 0x5a, (size_t)w.depth * n * BLK_BLOCK);
    uint64_t cursor = 0, ops = 0, t0 = bench_now_ns();
    while (bench_now_ns() - t0 < RUN_NS || busy) {
        for (; bench_now_ns() - t0 < RUN_NS && busy < w.depth; busy++) {
            struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
            uint8_t *mem = buf + (size_t)(ops + busy) % w.depth * n * BLK_BLOCK;
            uint64_t off = next_lba(w.kind, &cursor, &seed) * BLK_BLOCK;
            if (writing(w.kind))
                io_uring_prep_write(sqe, fd, mem, n * BLK_BLOCK, off);
            else
                io_uring_prep_read(sqe, fd, mem, n * BLK_BLOCK, off);
        }
        struct io_uring_cqe *cqe;
        if (io_uring_submit_and_wait(&ring, 1) < 0 || io_uring_wait_cqe(&ring, &cqe) < 0)
            bench_die("io_uring: %m");
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&ring, head, cqe) {
            if (cqe->res < 0)
                bench_die("io_uring I/O failed: %s", strerror(-cqe->res));
            seen++;
        }
        io_uring_cq_advance(&ring, seen);
        busy -= seen;
        ops += seen;
    }
    io_uring_queue_exit(&ring);
    close(fd);
    free(buf);
    return (double)ops / ((double)(bench_now_ns() - t0) / 1e9);
}

/* ---- fairness and priority ---- */

struct flood {
    rvblk *s;
    enum blk_class cls;
    unsigned depth;
    volatile bool stop;
    uint64_t ops;
    pthread_t th;
};

static void *flood_main(void *arg)
{
    struct flood *f = arg;
    unsigned seed = 11, busy = 0;
    uint32_t tags[BLK_SLOTS];
    uint64_t cursor = 0;
    while (!f->stop || busy) {
        struct blk_submit q[BLK_SLOTS];
        unsigned k = 0;
        for (; !f->stop && busy + k < f->depth; k++)
            q[k] = (struct blk_submit){ .op = BLK_READ, .cls = f->cls, .nblocks = 1,
                                        .lba = next_lba(BLK_RAND_READ, &cursor, &seed),
                                        .buf_off = (uint64_t)(busy + k) * BLK_BLOCK };
        if (k && rvblk_submitv(f->s, q, k, tags) < 0)
            bench_die("flood submit failed");
        busy += k;
        struct blk_completion c[BLK_SLOTS];
        int got = rvblk_reap(f->s, c, BLK_SLOTS, true);
        if (got < 0)
            bench_die("flood reap failed");
        busy -= (unsigned)got;
        f->ops += (uint64_t)got;
    }
    return NULL;
}

static void fairness(struct blk_results *res, struct bench_blk *b)
{
    struct flood f[2] = { { .s = session_of(b, "blk-q4", 1, 32 * BLK_BLOCK), .cls = BLK_BE, .depth = 32 },
                          { .s = session_of(b, "blk-q4", 3, 32 * BLK_BLOCK), .cls = BLK_BE, .depth = 32 } };
    for (int i = 0; i < 2; i++)
        pthread_create(&f[i].th, NULL, flood_main, &f[i]);
    struct timespec ts = { .tv_sec = 2 };
    nanosleep(&ts, NULL);       /* the measured period */
    for (int i = 0; i < 2; i++)
        f[i].stop = true;
    for (int i = 0; i < 2; i++) {
        pthread_join(f[i].th, NULL);
        rvblk_disconnect(f[i].s);
    }
    res->share_w1 = f[0].ops;
    res->share_w3 = f[1].ops;
}

/* An RT client's one-at-a-time reads: p50 and p99 latency, in µs. */
static void rt_latency(rvblk *s, double *p50, double *p99)
{
    struct series lat = { 0 };
    unsigned seed = 3;
    uint64_t cursor = 0, t0 = bench_now_ns();
    while (bench_now_ns() - t0 < RUN_NS) {
        uint64_t t = bench_now_ns();
        if (rvblk_io(s, BLK_READ, BLK_RT, next_lba(BLK_RAND_READ, &cursor, &seed), 1, 0) != 0)
            bench_die("rt read failed");
        series_add(&lat, (double)(bench_now_ns() - t) / 1000.0);
    }
    *p50 = series_quantile(&lat, 0.5);
    *p99 = series_quantile(&lat, 0.99);
    series_free(&lat);
}

static void priority(struct blk_results *res, struct bench_blk *b)
{
    rvblk *rt = session_of(b, "blk-q4", 1, BLK_BLOCK);
    rt_latency(rt, &res->rt_alone_p50, &res->rt_alone_p99);
    struct flood f = { .s = session_of(b, "blk-q4", 1, 32 * BLK_BLOCK), .cls = BLK_IDLE, .depth = 32 };
    pthread_create(&f.th, NULL, flood_main, &f);
    rt_latency(rt, &res->rt_flood_p50, &res->rt_flood_p99);
    f.stop = true;
    pthread_join(f.th, NULL);
    res->flood_ops = f.ops;
    rvblk_disconnect(f.s);
    rvblk_disconnect(rt);
}

/* ---- stalls across kills ---- */

static void kill_blk(const char *build, struct bench_blk *b)
{
    char ctl[4096];
    snprintf(ctl, sizeof ctl, "%s/src/tools/revivectl", build);
    const char *argv[] = { ctl, "--socket", b->sock, "kill", "blk", "--signal", "KILL", NULL };
    run_or_die(argv);
}

struct gaps {
    volatile bool stop;
    pthread_t th;
    uint64_t *end_ns, *wait_ns;
    size_t n, cap;
    int (*one)(void *ctx);          /* one unit of work: a completion, a write */
    void *ctx;
};

static void *gaps_main(void *arg)
{
    struct gaps *g = arg;
    while (!g->stop && g->n < g->cap) {
        uint64_t t = bench_now_ns();
        if (g->one(g->ctx) < 0)
            bench_die("the measured client failed across a kill");
        uint64_t end = bench_now_ns();
        g->end_ns[g->n] = end;
        g->wait_ns[g->n++] = end - t;
    }
    return NULL;
}

/* Per kill, the longest wait of a unit that ended before the next kill. */
static void stall_series(struct gaps *g, const char *build, struct bench_blk *b, int kills, double *p50, double *p99)
{
    g->cap = 1u << 22;
    g->end_ns = calloc(g->cap, sizeof *g->end_ns);
    g->wait_ns = calloc(g->cap, sizeof *g->wait_ns);
    uint64_t *at = calloc((size_t)kills + 1, sizeof *at);
    if (!g->end_ns || !g->wait_ns || !at)
        bench_die("out of memory");
    pthread_create(&g->th, NULL, gaps_main, g);
    struct timespec ts = { .tv_nsec = KILL_PERIOD_MS * 1000000L };
    for (int i = 0; i < kills; i++) {
        at[i] = bench_now_ns();
        kill_blk(build, b);
        nanosleep(&ts, NULL);   /* the kill cadence */
    }
    at[kills] = bench_now_ns();
    g->stop = true;
    pthread_join(g->th, NULL);
    struct series s = { 0 };
    for (int i = 0; i < kills; i++) {
        uint64_t longest = 0;
        for (size_t k = 0; k < g->n; k++)
            if (g->end_ns[k] >= at[i] && g->end_ns[k] < at[i + 1] && g->wait_ns[k] > longest)
                longest = g->wait_ns[k];
        series_add(&s, (double)longest / 1000.0);
    }
    *p50 = series_quantile(&s, 0.5);
    *p99 = series_quantile(&s, 0.99);
    series_free(&s);
    free(g->end_ns), free(g->wait_ns), free(at);
}

struct qd32 {
    rvblk *s;
    unsigned busy;
    unsigned seed;
    uint64_t cursor;
};

/* Keeps 32 writes in flight; one unit is the wait for the next completion. */
static int qd32_one(void *ctx)
{
    struct qd32 *q = ctx;
    struct blk_submit sub[BLK_SLOTS];
    uint32_t tags[BLK_SLOTS];
    unsigned k = 0;
    for (; q->busy + k < 32; k++)
        sub[k] = (struct blk_submit){ .op = BLK_WRITE, .cls = BLK_BE, .nblocks = 1,
                                      .lba = next_lba(BLK_RAND_WRITE, &q->cursor, &q->seed),
                                      .buf_off = (uint64_t)(q->busy + k) * BLK_BLOCK };
    if (k && rvblk_submitv(q->s, sub, k, tags) < 0)
        return -1;
    q->busy += k;
    struct blk_completion c[BLK_SLOTS];
    int got = rvblk_reap(q->s, c, BLK_SLOTS, true);
    if (got < 0)
        return -1;
    q->busy -= (unsigned)got;
    return 0;
}

struct ext4_writer {
    int fd;
    uint8_t *buf;
    off_t off;
};

static int ext4_one(void *ctx)
{
    struct ext4_writer *w = ctx;
    if (pwrite(w->fd, w->buf, 65536, w->off) != 65536)
        return -1;
    w->off = (w->off + 65536) % (32 << 20);
    return 0;
}

static void kernel_ext4_stall(struct blk_results *res, struct bench_blk *b, const char *build, int kills)
{
    char loop[64] = "", cmd[512];
    snprintf(cmd, sizeof cmd, "losetup -f --show %s/device", b->export);
    FILE *p = popen(cmd, "r");
    if (!p || !fgets(loop, sizeof loop, p) || pclose(p) != 0)
        bench_die("no loop device over blk's export");
    loop[strcspn(loop, "\n")] = '\0';
    const char *mkfs[] = { "mkfs.ext4", "-q", "-F", loop, NULL };
    run_or_die(mkfs);
    if (mkdir(b->mnt, 0755) < 0 || mount(loop, b->mnt, "ext4", 0, NULL) < 0)
        bench_die("cannot mount the kernel's ext4 over blk: %m");
    char file[160];
    snprintf(file, sizeof file, "%s/dd", b->mnt);
    struct ext4_writer w = { .fd = open(file, O_WRONLY | O_CREAT | O_DIRECT | O_CLOEXEC, 0644) };
    if (w.fd < 0 || posix_memalign((void **)&w.buf, 4096, 65536) != 0)
        bench_die("%s: %m", file);
    memset(w.buf, 0x77, 65536);
    struct gaps g = { .one = ext4_one, .ctx = &w };
    stall_series(&g, build, b, kills, &res->ext4_stall_p50_us, &res->ext4_stall_p99_us);
    close(w.fd);
    free(w.buf);
    umount2(b->mnt, 0);
    const char *detach[] = { "losetup", "-d", loop, NULL };
    run_or_die(detach);
}

/* ---- the section ---- */

void blk_measure(struct blk_results *res, const char *build, int quick)
{
    memset(res, 0, sizeof *res);
    struct bench_blk b = { 0 };
    snprintf(b.dir, sizeof b.dir, "/tmp/rv-bench-blk.XXXXXX");
    if (!mkdtemp(b.dir))
        bench_die("mkdtemp: %m");
    snprintf(b.img, sizeof b.img, "%s/device", b.dir);
    snprintf(b.sock, sizeof b.sock, "%s/revived.sock", b.dir);
    snprintf(b.log, sizeof b.log, "%s/revived.log", b.dir);
    snprintf(b.mnt, sizeof b.mnt, "%s/ext4", b.dir);
    snprintf(b.export, sizeof b.export, "%s/export", b.dir);
    char of[128], count[32];
    snprintf(of, sizeof of, "of=%s", b.img);
    snprintf(count, sizeof count, "count=%d", IMAGE_MIB);
    const char *dd[] = { "dd", "if=/dev/urandom", of, "bs=1M", count, "conv=fsync", "status=none", NULL };
    run_or_die(dd);
    if (bench_pin(SERVER_CPU) < 0)
        bench_die("cannot pin to CPU %d: %m", SERVER_CPU);
    start_revived(&b, build);
    rvblk *s = session(&b, 1, 32 * 256 * BLK_BLOCK);
    for (int kind = 0; kind < BLK_NIO; kind++)
        for (int d = 0; d < 2; d++) {
            struct workload w = { kind, d ? 32u : 1u };
            fprintf(stderr, "rv-bench: blk, %s at queue depth %u ...\n", io_name[kind], w.depth);
            res->uring[kind][d] = run_uring(b.img, w);
            res->blk[kind][d] = run_blk(s, w);
        }
    rvblk_disconnect(s);
    fprintf(stderr, "rv-bench: blk, fairness and priority ...\n");
    fairness(res, &b);
    priority(res, &b);
    int kills = quick ? 10 : 30;
    fprintf(stderr, "rv-bench: blk killed every %d ms under 32 writes in flight, then under the kernel's ext4 ...\n",
            KILL_PERIOD_MS);
    struct qd32 q = { .s = session(&b, 1, 32 * BLK_BLOCK), .seed = 5 };
    struct gaps g = { .one = qd32_one, .ctx = &q };
    stall_series(&g, build, &b, kills, &res->stall_p50_us, &res->stall_p99_us);
    while (q.busy > 0)
        if (qd32_one(&q) < 0)
            break;
    rvblk_disconnect(q.s);
    kernel_ext4_stall(res, &b, build, kills);
    res->kills = kills;
    rv_disconnect(b.conn);
    kill(b.revived, SIGTERM);
    waitpid(b.revived, NULL, 0);
    bench_pin(-1);
    char rm[128];
    snprintf(rm, sizeof rm, "rm -rf '%s'", b.dir);
    if (system(rm) != 0)
        fprintf(stderr, "rv-bench: could not remove %s\n", b.dir);
}

void blk_report(FILE *f, const struct blk_results *res)
{
    fprintf(f, "## The block service beside raw io_uring\n\n"
               "A 256 MiB image file on the machine's disk; direct I/O on both sides (blk `--queue-depth 32 --direct`, "
               "with a standby; this process's io_uring with O_DIRECT); everything on CPU 0; one second each. "
               "Operations per second (x 4 KiB or x 1 MiB).\n\n"
               "| | QD | raw io_uring | blk | blk / io_uring |\n|---|---:|---:|---:|---:|\n");
    for (int kind = 0; kind < BLK_NIO; kind++)
        for (int d = 0; d < 2; d++)
            fprintf(f, "| %s | %d | %.0f | %.0f | %.2fx |\n", io_name[kind], d ? 32 : 1, res->uring[kind][d],
                    res->blk[kind][d], res->blk[kind][d] / res->uring[kind][d]);
    double ratio = res->share_w1 ? (double)res->share_w3 / (double)res->share_w1 : 0;
    fprintf(f, "\nGoal >= 0.8x at queue depth 32.\n\n"
               "## Fair share and priority\n\n"
               "On a blk keeping 4 requests in flight (`--queue-depth 4`), so that requests queue and the scheduler "
               "chooses. Two clients, weights 1 and 3, 32 random 4 KiB reads each outstanding for 2 s: %llu and %llu "
               "completions, "
               "a ratio of %.2f to 1 (%.1f%% from 3:1; goal within 5%%).\n\n"
               "An RT client's 4 KiB reads, one at a time: p50 %.0f us, p99 %.0f us alone; under an IDLE flood of 32 "
               "reads outstanding (%llu flood reads meanwhile): p50 %.0f us, p99 %.0f us.\n\n",
            (unsigned long long)res->share_w1, (unsigned long long)res->share_w3, ratio, 100.0 * (ratio - 3.0) / 3.0,
            res->rt_alone_p50, res->rt_alone_p99, (unsigned long long)res->flood_ops, res->rt_flood_p50,
            res->rt_flood_p99);
    fprintf(f, "## What a client sees when blk is killed\n\n"
               "blk SIGKILLed every %d ms, %d times, with a standby; per kill, the longest wait.\n\n"
               "| | p50 | p99 |\n|---|---:|---:|\n"
               "| a blk client, 32 random 4 KiB writes in flight: for a completion | %.2f ms | %.2f ms |\n"
               "| the kernel's ext4 on a loop device over blk's FUSE export: a 64 KiB O_DIRECT write | %.2f ms | %.2f ms |\n\n"
               "Goal p50 <= 10 ms with a standby: %s.\n",
            KILL_PERIOD_MS, res->kills, res->stall_p50_us / 1000, res->stall_p99_us / 1000, res->ext4_stall_p50_us / 1000,
            res->ext4_stall_p99_us / 1000,
            res->stall_p50_us <= 10000 && res->ext4_stall_p50_us <= 10000 ? "met" : "MISSED");
}

void blk_csv(FILE *f, const struct blk_results *res)
{
    fprintf(f, "io,depth,uring_ops,blk_ops,x_uring\n");
    for (int kind = 0; kind < BLK_NIO; kind++)
        for (int d = 0; d < 2; d++)
            fprintf(f, "%s,%d,%.1f,%.1f,%.3f\n", io_name[kind], d ? 32 : 1, res->uring[kind][d], res->blk[kind][d],
                    res->blk[kind][d] / res->uring[kind][d]);
    fprintf(f, "\nkind,a,b\nshares_w1_w3,%llu,%llu\nrt_alone_p50_p99_us,%.1f,%.1f\nrt_flood_p50_p99_us,%.1f,%.1f\n"
               "stall_qd32_p50_p99_us,%.1f,%.1f\nstall_ext4_p50_p99_us,%.1f,%.1f\n",
            (unsigned long long)res->share_w1, (unsigned long long)res->share_w3, res->rt_alone_p50, res->rt_alone_p99,
            res->rt_flood_p50, res->rt_flood_p99, res->stall_p50_us, res->stall_p99_us, res->ext4_stall_p50_us,
            res->ext4_stall_p99_us);
}
