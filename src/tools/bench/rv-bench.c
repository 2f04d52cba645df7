/* rv-bench — revive's cost, measured beside its floor in one run.
 *
 *   rv-bench [--quick] [--only calls|caps|rd|storm|arena|fs|blk|peer|scale|throughput] [--out DIR] [--build DIR]
 *
 * Round trips of a 64-byte request and reply: raw AF_UNIX SOCK_SEQPACKET
 * and a futex ping-pong between two processes (the floor), then rv_call
 * through a revived of rv-bench's own, on a service that does nothing and on
 * services that touch an SSR under each ssr_protect policy. Each figure is
 * given as a ratio to the floor measured minutes earlier on the same
 * machine, with the server side on CPU 0 and the client first on the same
 * core, then on another. Then recovery: kill -> the in-flight request
 * answered, with 1, 100 and 1000 open sessions. These are the "calls"
 * sections. The "caps" sections (bench_caps.c) measure what capabilities
 * cost: the registry on a call, and the watcher on a CPU-bound job. The
 * "rd" sections (bench_rd.c) measure recovery domains: the hooks and
 * domains on an in-process hash table, and kv through revive with and
 * without tier 1. The "peer" section (bench_peer.c) sets revive's call
 * beside a D-Bus method call, peer to peer and through dbus-daemon. The
 * "throughput" section (bench_throughput.c) serves 1, 8 and 64 clients at
 * once, beside a raw echo server serving the same.
 *
 * The report goes to stdout and, with --out, to DIR/results.md and
 * DIR/results.csv (calls), DIR/caps.md, DIR/caps.csv and DIR/watcher.dat
 * (caps), DIR/rd.md and DIR/rd.csv (rd), and so on for each section (DIR/peer.md
 * and DIR/peer.csv for peer). --only runs one, and rewrites
 * only its own files.
 * This is a measuring tool, not a test: it fails only when
 * something it measures breaks. See docs/EVALUATION.md for what the numbers
 * mean.
 */
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "revive/version.h"
#include "bench.h"
#include "bench_tool.h"

enum { SAME, CROSS, NPLACE };
static const char *place_name[NPLACE] = { "same core", "cross core" };

struct call_case {
    const char *label;
    struct bench_svc svc;
    uint32_t op;
    double target;      /* the bound on the ratio to seqpacket; 0: none */
    unsigned sessions;  /* 1, or 2: calls alternate between two sessions */
};

static const struct call_case cases[] = {
    { "revive null call (no SSR)", { "null", 0, "none", false }, BENCH_NULL, 1.3, 1 },
    { "revive null call, fast path", { "null-fast", 0, "none", true }, BENCH_NULL, 1.0, 1 },
    { "SSR call, 64 B, none, fast path", { "ssr64-none-fast", 64, "none", true }, BENCH_TOUCH, 1.1, 1 },
    { "SSR call, 64 B, checksum, fast path", { "ssr64-checksum-fast", 64, "checksum", true }, BENCH_TOUCH, 1.1, 1 },
    { "SSR call, 64 B, none", { "ssr64-none", 64, "none", false }, BENCH_TOUCH, 2.0, 1 },
    { "SSR call, 64 B, checksum", { "ssr64-checksum", 64, "checksum", false }, BENCH_TOUCH, 2.0, 1 },
    { "SSR call, 64 B, mprotect", { "ssr64-mprotect", 64, "mprotect", false }, BENCH_TOUCH, 2.0, 1 },
    { "SSR call, 64 B, checksum, 2 sess. alt.", { "ssr64-checksum-alt", 64, "checksum", false }, BENCH_TOUCH, 2.0, 2 },
    { "SSR call, 64 B, mprotect, 2 sess. alt.", { "ssr64-mprotect-alt", 64, "mprotect", false }, BENCH_TOUCH, 2.0, 2 },
    { "SSR call, 4 KiB, none", { "ssr4k-none", 4096, "none", false }, BENCH_TOUCH, 2.0, 1 },
    { "SSR call, 4 KiB, checksum", { "ssr4k-checksum", 4096, "checksum", false }, BENCH_TOUCH, 2.0, 1 },
    { "SSR call, 4 KiB, mprotect", { "ssr4k-mprotect", 4096, "mprotect", false }, BENCH_TOUCH, 2.0, 1 },
};
#define NCASES (sizeof cases / sizeof cases[0])

static const size_t recovery_sessions[] = { 1, 100, 1000, 10000 };
#define NRECOVERY (sizeof recovery_sessions / sizeof recovery_sessions[0])
#define CROSS_RECOVERY_SESSIONS 100

enum { SECT_CALLS = 1, SECT_CAPS = 2, SECT_RD = 4, SECT_STORM = 8, SECT_ARENA = 16, SECT_FS = 32, SECT_BLK = 64,
       SECT_PEER = 128, SECT_SCALE = 256, SECT_THROUGHPUT = 512 };
#define STORM_KILLS 200

struct options {
    int quick;
    int sections;       /* SECT_* bits */
    const char *out;
    char build[PATH_MAX];
};

struct results {
    int have_cross;
    struct rtt seqpacket[NPLACE], futex[NPLACE], call[NCASES][NPLACE];
    struct recovery rec[NRECOVERY], rec_standby[NRECOVERY], rec_cross;
    struct recovery rec_shared;     /* a standby, SCALE_SHARED_SESSIONS on shared channels */
    struct recovery bare[2];        /* sandbox = no, at SANDBOX_SESSIONS: a new process, a standby */
    struct plan plan[NPLACE];
    int reps;
    struct caps_results caps;
    struct rd_results rd;
    struct storm_result storm[4];   /* with a standby, with a new process; then the same beside STORM_IDLE sessions */
    struct arena_results arena;
    struct fs_results fs;
    struct blk_results blk;
    struct peer_results peer;
    struct scale_results scale, scale_shared;
    struct thr_results throughput;
};

/* ---- running ---- */

static void pin_or_die(int cpu)
{
    if (bench_pin(cpu) < 0)
        bench_die("cannot pin to CPU %d: %m", cpu);
}

/* Contender order: seqpacket, futex, then the cases. */
static void run_round_trips(struct results *res, struct revived *r, int place)
{
    pin_or_die(place == SAME ? SERVER_CPU : SERVER_CPU + 1);
    fprintf(stderr, "rv-bench: round trips, %s ...\n", place_name[place]);
    struct contender c[2 + NCASES];
    struct rtt t[2 + NCASES];
    c[1] = futex_start();   /* first, so its child holds no copy of the seqpacket socket */
    c[0] = seqpacket_start();
    for (size_t i = 0; i < NCASES; i++)
        c[2 + i] = call_start(r, cases[i].svc.name, cases[i].op, cases[i].sessions);
    measure_interleaved(c, 2 + NCASES, &res->plan[place], t);
    pingpong_stop(&c[0]);
    pingpong_stop(&c[1]);
    res->seqpacket[place] = t[0];
    res->futex[place] = t[1];
    for (size_t i = 0; i < NCASES; i++) {
        call_stop(&c[2 + i]);
        res->call[i][place] = t[2 + i];
    }
}

static void run_recovery_series(struct results *res, struct revived *r, const char *svc, bool standby,
                                struct recovery *out)
{
    struct recovery_run *run = recovery_begin(r, svc, standby, false);
    for (size_t i = 0; i < NRECOVERY; i++) {
        fprintf(stderr, "rv-bench: recovery of %s, %zu sessions ...\n", svc, recovery_sessions[i]);
        out[i] = recovery_measure(run, recovery_sessions[i], res->reps);
    }
    recovery_end(run);
}

/* The sandbox's cost: the same recovery without it, in the same run. */
#define SANDBOX_SESSIONS 100

static void run_bare_recovery(struct results *res, struct revived *r)
{
    const char *svcs[] = { HOLD_BARE_SVC, HOLD_STANDBY_BARE_SVC };
    for (int i = 0; i < 2; i++) {
        fprintf(stderr, "rv-bench: recovery of %s, %d sessions ...\n", svcs[i], SANDBOX_SESSIONS);
        struct recovery_run *run = recovery_begin(r, svcs[i], i == 1, false);
        res->bare[i] = recovery_measure(run, SANDBOX_SESSIONS, res->reps);
        recovery_end(run);
    }
}

/* The largest count: idle sessions on a shared channel, which cost no
 * descriptor, beside the one with the request in flight. */
static void run_shared_recovery(struct results *res, struct revived *r, int quick)
{
    size_t n = SCALE_SHARED_SESSIONS / (quick ? 10 : 1);
    fprintf(stderr, "rv-bench: recovery of %s, %zu shared sessions ...\n", HOLD_STANDBY_SVC, n);
    struct recovery_run *run = recovery_begin(r, HOLD_STANDBY_SVC, true, true);
    res->rec_shared = recovery_measure(run, n, res->reps);
    recovery_end(run);
}

static void run_recovery(struct results *res, struct revived *r, int quick)
{
    pin_or_die(SERVER_CPU);
    run_recovery_series(res, r, HOLD_SVC, false, res->rec);
    run_recovery_series(res, r, HOLD_STANDBY_SVC, true, res->rec_standby);
    run_shared_recovery(res, r, quick);
    run_bare_recovery(res, r);
    if (!res->have_cross)
        return;
    pin_or_die(SERVER_CPU + 1);
    fprintf(stderr, "rv-bench: recovery, %d sessions, cross core ...\n", CROSS_RECOVERY_SESSIONS);
    struct recovery_run *run = recovery_begin(r, HOLD_SVC, false, false);
    res->rec_cross = recovery_measure(run, CROSS_RECOVERY_SESSIONS, res->reps);
    recovery_end(run);
}

static void run_storms(struct results *res, struct revived *r, int quick)
{
    pin_or_die(SERVER_CPU);
    const char *svcs[] = { STORM_STANDBY_SVC, STORM_NEW_SVC };
    for (int i = 0; i < 4; i++) {
        size_t idle = i < 2 ? 0 : quick ? STORM_IDLE / 10 : STORM_IDLE;
        fprintf(stderr, "rv-bench: a kill every %d ms, service %s, %zu idle sessions ...\n", STORM_PERIOD_MS,
                svcs[i % 2], idle);
        res->storm[i] = storm_measure(r, svcs[i % 2], quick ? STORM_KILLS / 4 : STORM_KILLS, idle);
    }
}

/* 1000 sessions are ~1000 descriptors here and ~3000 in revived and the
 * service, which inherit the limit from us. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return;
    rlim_t want = 65536;
    rl.rlim_cur = want;
    if (rl.rlim_max < want)
        rl.rlim_max = want;   /* allowed for root; otherwise the next try */
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0 && getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void run_all(struct results *res, const struct options *o)
{
    res->have_cross = sysconf(_SC_NPROCESSORS_ONLN) > 1;
    int scale = o->quick ? 5 : 1;
    res->plan[SAME] = (struct plan){ 20, 5000 / scale };
    res->plan[CROSS] = (struct plan){ 20, 500 / scale };
    res->reps = o->quick ? 20 : 100;
    raise_nofile();
    pin_or_die(SERVER_CPU);   /* revived and its services inherit this */
    struct bench_svc svcs[NCASES];
    for (size_t i = 0; i < NCASES; i++)
        svcs[i] = cases[i].svc;
    struct revived r;
    revived_start(&r, o->build, svcs, NCASES);
    if (o->sections & SECT_CALLS) {
        for (int place = SAME; place < (res->have_cross ? NPLACE : CROSS); place++)
            run_round_trips(res, &r, place);
        run_recovery(res, &r, o->quick);
    }
    if (o->sections & SECT_CAPS)
        caps_measure_registry(&res->caps, &r, cases[0].svc.name, o->quick);
    if (o->sections & SECT_RD) {
        fprintf(stderr, "rv-bench: kv with and without recovery domains ...\n");
        rd_measure_kv(&res->rd, &r, o->quick);
    }
    if (o->sections & SECT_STORM)
        run_storms(res, &r, o->quick);
    if (o->sections & SECT_ARENA) {
        fprintf(stderr, "rv-bench: kv puts, arena in memory and in a file ...\n");
        arena_measure(&res->arena, &r, o->quick);
    }
    if (o->sections & SECT_PEER)
        peer_measure(&res->peer, &r, cases[0].svc.name, o->quick);
    if (o->sections & SECT_SCALE) {
        scale_measure(&res->scale, &r, o->quick, false);
        scale_measure(&res->scale_shared, &r, o->quick, true);
    }
    if (o->sections & SECT_THROUGHPUT)
        throughput_measure(&res->throughput, &r, o->quick);
    revived_stop(&r);
    if (o->sections & SECT_CAPS)
        caps_measure_watcher(&res->caps, o->quick);
    if (o->sections & SECT_RD) {
        fprintf(stderr, "rv-bench: recovery domains on a hash table ...\n");
        rd_measure(&res->rd, o->quick);
    }
    if (o->sections & SECT_FS)
        fs_measure(&res->fs, o->build, o->quick);
    if (o->sections & SECT_BLK)
        blk_measure(&res->blk, o->build, o->quick);
}

/* ---- reporting ---- */

struct context {
    char command[1024];
    char date[64];
    char model[128];
    char kernel[128];
    long ncpu;
};

static void cpu_model(char *buf, size_t len)
{
    snprintf(buf, len, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "model name", 10) == 0 && strchr(line, ':')) {
            snprintf(buf, len, "%s", strchr(line, ':') + 2);
            buf[strcspn(buf, "\n")] = '\0';
            break;
        }
    if (f)
        fclose(f);
}

static void get_context(struct context *c, int argc, char **argv)
{
    size_t n = 0;
    c->command[0] = '\0';
    for (int i = 0; i < argc && n < sizeof c->command; i++)
        n += (size_t)snprintf(c->command + n, sizeof c->command - n, "%s%s", i ? " " : "", argv[i]);
    time_t now = time(NULL);
    strftime(c->date, sizeof c->date, "%Y-%m-%d %H:%M:%S %Z", localtime(&now));
    cpu_model(c->model, sizeof c->model);
    struct utsname u;
    snprintf(c->kernel, sizeof c->kernel, "%s", uname(&u) == 0 ? u.release : "unknown");
    c->ncpu = sysconf(_SC_NPROCESSORS_ONLN);
}

static void print_rtt_row(FILE *f, const struct results *res, const char *label, const struct rtt *t,
                          double target)
{
    fprintf(f, "| %-38s |", label);
    for (int p = SAME; p < NPLACE; p++) {
        if (p == CROSS && !res->have_cross) {
            fprintf(f, " %8s | %6s | %6s |", "n/a", "", "");
            continue;
        }
        fprintf(f, " %8.2f | %5.2fx | %5.2fx |", t[p].median_us, t[p].median_us / res->seqpacket[p].median_us,
                t[p].median_us / res->futex[p].median_us);
    }
    char verdict[32] = "";
    if (target > 0)
        snprintf(verdict, sizeof verdict, "<= %.1fx: %s", target,
                 t[SAME].median_us / res->seqpacket[SAME].median_us <= target ? "met" : "MISS");
    fprintf(f, " %-15s |\n", verdict);
}

static void print_round_trips(FILE *f, const struct results *res)
{
    fprintf(f, "## Round trips: 64-byte request, 64-byte reply\n\n"
               "Server side (echo process, revived, services) on CPU %d; client on CPU %d (same core) or "
               "CPU %d (cross core). Median over %d batches of %d (same core) / %d (cross core) round trips "
               "(us per round trip), and its ratio to the raw SEQPACKET and futex ping-pong of the same "
               "placement. The target applies to the same-core ratio.\n\n",
            SERVER_CPU, SERVER_CPU, SERVER_CPU + 1, res->plan[SAME].batches, res->plan[SAME].per_batch,
            res->plan[CROSS].per_batch);
    fprintf(f, "| %-38s | %8s | %6s | %6s | %8s | %6s | %6s | %-15s |\n", "case", "same us", "x seqp", "x futx",
            "cross us", "x seqp", "x futx", "target (same)");
    fprintf(f, "|%s|---------:|-------:|-------:|---------:|-------:|-------:|-----------------|\n",
            "----------------------------------------");
    print_rtt_row(f, res, "raw AF_UNIX SEQPACKET", res->seqpacket, 0);
    print_rtt_row(f, res, "futex on shared memory", res->futex, 0);
    for (size_t i = 0; i < NCASES; i++)
        print_rtt_row(f, res, cases[i].label, res->call[i], cases[i].target);
    fprintf(f, "\nBest batch (us), same core: seqpacket %.2f, futex %.2f, null %.2f.\n\n",
            res->seqpacket[SAME].min_us, res->futex[SAME].min_us, res->call[0][SAME].min_us);
}

static void print_recovery_row(FILE *f, const struct recovery *r, const char *place, const char *next)
{
    fprintf(f, "| %8zu | %-10s | %-9s | %4d | %9.0f | %9.0f | %9.0f | %12.0f |\n", r->sessions, place, next, r->reps,
            r->p50_us, r->p99_us, r->max_us, r->revived_p50_us);
}

static void print_recovery_target(FILE *f, const struct recovery *rec, const char *next)
{
    for (size_t i = 0; i < NRECOVERY; i++)
        if (rec[i].sessions == 100)
            fprintf(f, "\nTarget p50 <= 2000 us at 100 sessions, %s instance: %s.\n", next,
                    rec[i].p50_us <= 2000 ? "met" : "MISSED");
}

static void print_recovery(FILE *f, const struct results *res)
{
    fprintf(f, "## Recovery: SIGKILL with a request in flight -> its reply reaches the client\n\n"
               "Service `hold`: ssr_size %d, checksum, backoff 0..0. Every session has an SSR; one has the "
               "request in flight. Times in us. \"revived\" is revived's own last_recovery_us (crash seen -> new "
               "instance READY). \"next\" is the instance that takes over: a new process (`standby = no`), or "
               "a hot standby started beforehand (`standby = yes`, service `%s`). "
               "Target: p50 <= 2000 us at 100 sessions.\n\n",
            HOLD_SSR_SIZE, HOLD_STANDBY_SVC);
    fprintf(f, "| sessions | placement  | next      | reps |   p50 us  |   p99 us  |   max us  | revived p50  |\n"
               "|---------:|------------|-----------|-----:|----------:|----------:|----------:|-------------:|\n");
    for (size_t i = 0; i < NRECOVERY; i++)
        print_recovery_row(f, &res->rec[i], place_name[SAME], "new");
    for (size_t i = 0; i < NRECOVERY; i++)
        print_recovery_row(f, &res->rec_standby[i], place_name[SAME], "standby");
    print_recovery_row(f, &res->rec_shared, place_name[SAME], "standby");
    if (res->have_cross)
        print_recovery_row(f, &res->rec_cross, place_name[CROSS], "new");
    fprintf(f, "\nThe standby row of %zu sessions: all but the one in flight opened with rv_open_shared "
               "(one channel); target p50 <= 100 ms: %s.\n", res->rec_shared.sessions,
            res->rec_shared.p50_us <= 100000 ? "met" : "MISSED");
    print_recovery_target(f, res->rec, "new");
    print_recovery_target(f, res->rec_standby, "standby");
}

/* The recovery at SANDBOX_SESSIONS with its sandbox beside the same
 * without (docs/sandbox.md). */
static const struct recovery *at_sandbox_sessions(const struct recovery *rec)
{
    for (size_t i = 0; i < NRECOVERY; i++)
        if (rec[i].sessions == SANDBOX_SESSIONS)
            return &rec[i];
    return &rec[0];
}

static void print_sandbox_cost(FILE *f, const struct results *res)
{
    fprintf(f, "\n### What the sandbox costs a recovery\n\n"
               "The same service with `sandbox = no` (`%s`, `%s`), %d sessions, same core, same run.\n\n"
               "| next | sandbox = no p50 us | sandbox = yes p50 us | yes / no |\n|---|---:|---:|---:|\n",
            HOLD_BARE_SVC, HOLD_STANDBY_BARE_SVC, SANDBOX_SESSIONS);
    const struct recovery *with[] = { at_sandbox_sessions(res->rec), at_sandbox_sessions(res->rec_standby) };
    const char *next[] = { "new", "standby" };
    for (int i = 0; i < 2; i++)
        fprintf(f, "| %s | %.0f | %.0f | %.2fx |\n", next[i], res->bare[i].p50_us, with[i]->p50_us,
                with[i]->p50_us / res->bare[i].p50_us);
}

static void print_header(FILE *f, const char *title, const struct context *c)
{
    fprintf(f, "# %s\n\n- command: `%s`\n- date: %s\n- machine: %ld CPUs, %s, Linux %s\n\n", title, c->command,
            c->date, c->ncpu, c->model, c->kernel);
}

static void write_calls_md(FILE *f, const struct results *res, const struct context *c)
{
    print_header(f, "rv-bench results", c);
    print_round_trips(f, res);
    print_recovery(f, res);
    print_sandbox_cost(f, res);
}

static void write_rd_md(FILE *f, const struct results *res, const struct context *c)
{
    print_header(f, "rv-bench results: recovery domains", c);
    rd_report(f, &res->rd);
    rd_report_kv(f, &res->rd);
}

static void write_storm_md(FILE *f, const struct results *res, const struct context *c)
{
    print_header(f, "rv-bench results: recovery under a kill storm", c);
    fprintf(f, "A client calls `BENCH_COUNT` (SSR of 64 B, checksum: it increments a counter and replies with it) "
               "without pause while the service's active instance is SIGKILLed every %d ms, first alone, then "
               "beside %d idle sessions; everything on CPU %d. \"wrong\": replies that were not the last one plus "
               "one (a request run twice or lost). Per kill: \"back\" is kill() -> "
               "the first call begun after the kill answered (the service serves again); \"stall\" is the "
               "longest the client waited for any reply until the next kill (the recovery, or the start of a "
               "replacement standby on the same core). \"refused\": ticks at which revived had no new instance "
               "to kill (a restart waiting for its backoff). Both services run the default backoff "
               "(1ms..100ms), so every crash is a fast one. Target: p50 <= 1000 us with a standby.\n\n",
            STORM_PERIOD_MS, STORM_IDLE, SERVER_CPU);
    fprintf(f, "| service | next | idle sessions | kills | refused | calls | wrong | back p50 us | back p99 us | "
               "stall p50 us | stall p99 us |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < 4; i++) {
        const struct storm_result *s = &res->storm[i];
        fprintf(f, "| %s | %s | %zu | %d | %d | %zu | %zu | %.0f | %.0f | %.0f | %.0f |\n", s->svc,
                i % 2 ? "new process" : "standby", s->idle, s->kills, s->refused, s->calls, s->wrong, s->back_p50_us,
                s->back_p99_us, s->stall_p50_us, s->stall_p99_us);
    }
    fprintf(f, "\nTarget p50 <= 1000 us with a standby: back %s, stall %s.\n",
            res->storm[0].back_p50_us <= 1000 ? "met" : "MISSED", res->storm[0].stall_p50_us <= 1000 ? "met" : "MISSED");
}

static void write_storm_csv(FILE *f, const struct results *res, const struct context *c)
{
    (void)c;
    fprintf(f, "service,idle,kills,refused,calls,wrong,back_p50_us,back_p99_us,stall_p50_us,stall_p99_us\n");
    for (int i = 0; i < 4; i++) {
        const struct storm_result *s = &res->storm[i];
        fprintf(f, "%s,%zu,%d,%d,%zu,%zu,%.1f,%.1f,%.1f,%.1f\n", s->svc, s->idle, s->kills, s->refused, s->calls,
                s->wrong, s->back_p50_us, s->back_p99_us, s->stall_p50_us, s->stall_p99_us);
    }
}

static void write_arena_md(FILE *f, const struct results *res, const struct context *c)
{
    print_header(f, "rv-bench results: durable arenas", c);
    arena_report(f, &res->arena);
}

static void write_arena_csv(FILE *f, const struct results *res, const struct context *c)
{
    (void)c;
    arena_csv(f, &res->arena);
}

static void write_fs_md(FILE *f, const struct results *res, const struct context *c)
{
    print_header(f, "rv-bench results: the file system", c);
    fs_report(f, &res->fs);
}

static void write_fs_csv(FILE *f, const struct results *res, const struct context *c)
{
    (void)c;
    fs_csv(f, &res->fs);
}

static void write_blk_md(FILE *f, const struct results *res, const struct context *c)
{
    print_header(f, "rv-bench results: the block service", c);
    blk_report(f, &res->blk);
}

static void write_blk_csv(FILE *f, const struct results *res, const struct context *c)
{
    (void)c;
    blk_csv(f, &res->blk);
}

static void write_peer_md(FILE *f, const struct results *res, const struct context *c)
{
    print_header(f, "rv-bench results: revive beside its peers", c);
    peer_report(f, &res->peer);
}

static void write_peer_csv(FILE *f, const struct results *res, const struct context *c)
{
    (void)c;
    peer_csv(f, &res->peer);
}

static void write_scale_md(FILE *f, const struct results *res, const struct context *c)
{
    print_header(f, "rv-bench results: sessions at scale", c);
    scale_report(f, &res->scale);
    scale_report(f, &res->scale_shared);
}

static void write_scale_csv(FILE *f, const struct results *res, const struct context *c)
{
    (void)c;
    fprintf(f, "measure,sessions,run,value\n");
    scale_csv(f, &res->scale);
    scale_csv(f, &res->scale_shared);
}

static void write_throughput_md(FILE *f, const struct results *res, const struct context *c)
{
    print_header(f, "rv-bench results: throughput with many clients", c);
    throughput_report(f, &res->throughput);
}

static void write_throughput_csv(FILE *f, const struct results *res, const struct context *c)
{
    (void)c;
    throughput_csv(f, &res->throughput);
}

static void write_rd_csv(FILE *f, const struct results *res, const struct context *c)
{
    (void)c;
    rd_csv(f, &res->rd);
}

static void write_caps_md(FILE *f, const struct results *res, const struct context *c)
{
    print_header(f, "rv-bench results: capabilities", c);
    caps_report(f, &res->caps);
}

static void csv_rtt(FILE *f, const struct results *res, const char *label, const struct rtt *t)
{
    for (int p = SAME; p < (res->have_cross ? NPLACE : CROSS); p++)
        fprintf(f, "round_trip,%s,%s,%.3f,%.3f,%.3f,%.3f\n", label, place_name[p], t[p].median_us, t[p].min_us,
                t[p].median_us / res->seqpacket[p].median_us, t[p].median_us / res->futex[p].median_us);
}

static void write_calls_csv(FILE *f, const struct results *res, const struct context *c)
{
    (void)c;
    fprintf(f, "kind,case,placement,median_us,min_us,x_seqpacket,x_futex\n");
    csv_rtt(f, res, "seqpacket", res->seqpacket);
    csv_rtt(f, res, "futex", res->futex);
    for (size_t i = 0; i < NCASES; i++)
        csv_rtt(f, res, cases[i].svc.name, res->call[i]);
    fprintf(f, "\nkind,sessions,placement,next,reps,p50_us,p99_us,max_us,revived_p50_us\n");
    for (size_t i = 0; i < 2 * NRECOVERY + (size_t)res->have_cross; i++) {
        const struct recovery *r = i < NRECOVERY ? &res->rec[i]
                                 : i < 2 * NRECOVERY ? &res->rec_standby[i - NRECOVERY] : &res->rec_cross;
        fprintf(f, "recovery,%zu,%s,%s,%d,%.1f,%.1f,%.1f,%.1f\n", r->sessions,
                place_name[i < 2 * NRECOVERY ? SAME : CROSS], i >= NRECOVERY && i < 2 * NRECOVERY ? "standby" : "new",
                r->reps, r->p50_us, r->p99_us, r->max_us, r->revived_p50_us);
    }
    for (int i = 0; i < 2; i++)   /* sandbox = no */
        fprintf(f, "recovery,%zu,%s,%s,%d,%.1f,%.1f,%.1f,%.1f\n", res->bare[i].sessions, place_name[SAME],
                i ? "standby-nosandbox" : "new-nosandbox", res->bare[i].reps, res->bare[i].p50_us,
                res->bare[i].p99_us, res->bare[i].max_us, res->bare[i].revived_p50_us);
}

static void write_caps_csv(FILE *f, const struct results *res, const struct context *c)
{
    (void)c;
    caps_csv(f, &res->caps);
}

static void write_caps_dat(FILE *f, const struct results *res, const struct context *c)
{
    (void)c;
    caps_dat(f, &res->caps);
}

typedef void (*writer_fn)(FILE *f, const struct results *res, const struct context *c);

/* The files each section writes with --out; the .md ones also go to stdout. */
static const struct output {
    int section;
    const char *name;
    writer_fn write;
} outputs[] = {
    { SECT_CALLS, "results.md", write_calls_md }, { SECT_CAPS, "caps.md", write_caps_md },
    { SECT_CALLS, "results.csv", write_calls_csv }, { SECT_CAPS, "caps.csv", write_caps_csv },
    { SECT_CAPS, "watcher.dat", write_caps_dat },
    { SECT_RD, "rd.md", write_rd_md }, { SECT_RD, "rd.csv", write_rd_csv },
    { SECT_STORM, "storm.md", write_storm_md }, { SECT_STORM, "storm.csv", write_storm_csv },
    { SECT_ARENA, "arena.md", write_arena_md }, { SECT_ARENA, "arena.csv", write_arena_csv },
    { SECT_FS, "fs.md", write_fs_md }, { SECT_FS, "fs.csv", write_fs_csv },
    { SECT_BLK, "blk.md", write_blk_md }, { SECT_BLK, "blk.csv", write_blk_csv },
    { SECT_PEER, "peer.md", write_peer_md }, { SECT_PEER, "peer.csv", write_peer_csv },
    { SECT_SCALE, "scale.md", write_scale_md }, { SECT_SCALE, "scale.csv", write_scale_csv },
    { SECT_THROUGHPUT, "throughput.md", write_throughput_md }, { SECT_THROUGHPUT, "throughput.csv", write_throughput_csv },
};
#define NOUTPUTS (sizeof outputs / sizeof outputs[0])

static void write_file(const char *dir, const struct output *out, const struct results *res,
                       const struct context *c)
{
    const char *name = out->name;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        bench_die("cannot write %s: %m", path);
    out->write(f, res, c);
    if (fclose(f) != 0)
        bench_die("cannot write %s: %m", path);
    fprintf(stderr, "rv-bench: wrote %s\n", path);
}

/* ---- options ---- */

/* The build tree this binary sits in: BUILD/src/tools/bench/rv-bench. */
static void default_build_dir(char *buf, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n < 0)
        bench_die("cannot find myself (/proc/self/exe): %m; pass --build DIR");
    exe[n] = '\0';
    snprintf(buf, len, "%s", dirname(dirname(dirname(dirname(exe)))));
}

static void usage(FILE *f)
{
    fprintf(f, "usage: rv-bench [--quick] [--only calls|caps|rd|storm|arena|fs|blk|peer|scale|throughput] [--out DIR] [--build DIR]\n"
               "  --quick      fewer round trips and kills (a smoke run, noisier figures)\n"
               "  --only SECT  calls: round trips and recovery; caps: the capability registry and watcher;\n"
               "               rd: recovery domains (hash table, kv end to end);\n"
               "               storm: recovery while the service is killed every 10 ms;\n"
               "               arena: a kv put with the arena in memory and in a file (arena_file);\n"
               "               fs: the file system's mount beside fuse2fs and ext4 (root);\n"
               "               blk: the block service beside io_uring, its fairness, its kills (root);\n"
               "               peer: revive's call beside a D-Bus call (sd-bus; dbus-daemon);\n"
               "               scale: what a session costs, and the open rate, at 10,000 sessions;\n"
               "               throughput: calls/s of 1, 8 and 64 clients beside a raw echo server\n"
               "  --out DIR    also write DIR/results.md and .csv (calls), DIR/caps.md, .csv and\n"
               "               DIR/watcher.dat (caps), DIR/rd.md and .csv (rd), DIR/storm.md and .csv,\n"
               "               DIR/arena.md and .csv, DIR/fs.md and .csv, DIR/blk.md and .csv,\n"
               "               DIR/peer.md and .csv, DIR/scale.md and .csv, DIR/throughput.md and .csv\n"
               "  --build DIR  the build tree with revived and rv-svc-bench (default: this binary's)\n");
}

static int parse_section(const char *arg, int *sections)
{
    if (strcmp(arg, "calls") == 0)
        *sections = SECT_CALLS;
    else if (strcmp(arg, "caps") == 0)
        *sections = SECT_CAPS;
    else if (strcmp(arg, "rd") == 0)
        *sections = SECT_RD;
    else if (strcmp(arg, "storm") == 0)
        *sections = SECT_STORM;
    else if (strcmp(arg, "arena") == 0)
        *sections = SECT_ARENA;
    else if (strcmp(arg, "fs") == 0)
        *sections = SECT_FS;
    else if (strcmp(arg, "blk") == 0)
        *sections = SECT_BLK;
    else if (strcmp(arg, "peer") == 0)
        *sections = SECT_PEER;
    else if (strcmp(arg, "scale") == 0)
        *sections = SECT_SCALE;
    else if (strcmp(arg, "throughput") == 0)
        *sections = SECT_THROUGHPUT;
    else {
        fprintf(stderr, "rv-bench: --only '%s': no such section (calls, caps, rd, storm, arena, fs, blk, peer, scale or throughput)\n",
                arg);
        return -1;
    }
    return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option opts[] = {
        { "quick", no_argument, NULL, 'q' }, { "out", required_argument, NULL, 'o' },
        { "build", required_argument, NULL, 'b' }, { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { "only", required_argument, NULL, 's' }, { NULL, 0, NULL, 0 },
    };
    *o = (struct options){ .sections = SECT_CALLS | SECT_CAPS | SECT_RD | SECT_STORM | SECT_ARENA | SECT_SCALE | SECT_THROUGHPUT |
                                       (geteuid() == 0 ? SECT_FS | SECT_BLK : 0) |   /* they mount: root only */
                                       (peer_built ? SECT_PEER : 0) };   /* --only peer says it was not built */
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'q': o->quick = 1; break;
        case 'o': o->out = optarg; break;
        case 'b': snprintf(o->build, sizeof o->build, "%s", optarg); break;
        case 's':
            if (parse_section(optarg, &o->sections) < 0)
                return -1;
            break;
        case 'h': usage(stdout); exit(0);
        case 'V': printf("rv-bench %s\n", REVIVE_VERSION); exit(0);
        default: usage(stderr); return -1;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return -1;
    }
    if (o->out && access(o->out, W_OK) < 0)   /* find out now, not after the run */
        bench_die("--out %s: %m", o->out);
    if (!o->build[0])
        default_build_dir(o->build, sizeof o->build);
    return 0;
}

int main(int argc, char **argv)
{
    struct options o;
    if (parse_options(argc, argv, &o) < 0)
        return 2;
    struct context ctx;
    get_context(&ctx, argc, argv);
    static struct results res;
    run_all(&res, &o);
    for (size_t i = 0; i < NOUTPUTS; i++)
        if ((o.sections & outputs[i].section) && strstr(outputs[i].name, ".md"))
            outputs[i].write(stdout, &res, &ctx);
    for (size_t i = 0; o.out && i < NOUTPUTS; i++)
        if (o.sections & outputs[i].section)
            write_file(o.out, &outputs[i], &res, &ctx);
    return 0;
}
