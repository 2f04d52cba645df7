/* bench_caps.c — what capabilities cost, measured the way
 * L4ReAnimator's §4 measures them.
 *
 *   registry  the null call of bench_calls.c on a session the registry
 *             knows (on, the default) and on one opened while it was off,
 *             interleaved in the same run: the paper's +8.66% per IPC.
 *             rv_call_fd looks the session's generation up before every
 *             call, whether or not the session is registered, so the
 *             on/off ratio shows only what a registered entry adds; the
 *             lookup itself is timed alone as well, which is the whole
 *             registry's share of a call.
 *   watcher   the paper's Figure 8: a CPU-bound job (matrix multiplication)
 *             timed without and with the watcher thread watching 10, 100
 *             and 1000 capabilities, periodically every 1, 10 and 100 ms
 *             and in event mode. The job and the watcher share one core —
 *             every wake-up of the watcher is time taken from the job, the
 *             paper's single-CPU situation — and then, for comparison, may
 *             use both cores.
 *
 * Every watched capability is one end of a socketpair, registered as its
 * own liveness descriptor: it becomes readable only when the other end, the
 * "object", goes away. After each watcher cell three objects are closed, to
 * prove the watcher really watches that set and to time how late it finds
 * out: the other side of the trade-off the paper names.
 */
#include "bench_tool.h"

#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"
#include "cap_internal.h"
#include "revive/cap.h"

static const char *caps_place_name[CAPS_NPLACE] = { "same core", "cross core" };
static const char *watch_place_name[CAPS_NPLACE] = { "one core", "two cores" };

const size_t caps_counts[CAPS_NCOUNTS] = { 10, 100, 1000 };
/* The targets name two of them. */
#define MODE_10MS 1
#define MODE_EVENT 3
const struct caps_mode caps_modes[CAPS_NMODES] = {
    { "1 ms", RV_WATCH_PERIODIC, 1 },
    { "10 ms", RV_WATCH_PERIODIC, 10 },
    { "100 ms", RV_WATCH_PERIODIC, 100 },
    { "event", RV_WATCH_EVENT, 0 },
};

#define TARGET_RATIO 1.03      /* registry on / off */
#define TARGET_WATCH_PCT 1.0   /* 1000 capabilities, 10 ms */
#define EVENT_OWN_PCT 0.01     /* event mode: "0%": no wake-up; 50 us in a 500 ms run */
#define PAPER_IPC_PCT 8.66
#define LOOKUPS 1000000
#define KILLS 3                /* detection samples per watcher cell */
#define DETECT_TIMEOUT_NS 5000000000ull
#define SETTLE_NS 20000000L    /* after the watcher starts, before the job */
#define MAX_WATCHED 1000       /* the largest of caps_counts */
#define WATCH_CPU SERVER_CPU   /* revived is stopped by then: the core is idle */

static void pin_or_die(int cpu)
{
    if (bench_pin(cpu) < 0)
        bench_die("cannot pin to CPU %d: %m", cpu);
}

/* ---- the registry on a call ---- */

/* ns per rv__cap_generation(fd): exactly what rv_call_fd adds per call. */
static double lookup_ns(int fd)
{
    volatile unsigned sink = 0;
    uint64_t t0 = bench_now_ns();
    for (int i = 0; i < LOOKUPS; i++)
        sink += rv__cap_generation(fd);
    (void)sink;
    return (double)(bench_now_ns() - t0) / LOOKUPS;
}

static rv_session *open_null(rv_conn *conn, const char *svc)
{
    rv_session *s;
    if (rv_open(conn, svc, NULL, &s) < 0)
        bench_die("cannot open a session of %s: %s", svc, rv_conn_error(conn));
    return s;
}

static void time_lookups(struct caps_results *res, struct revived *r, const char *svc)
{
    rv_conn *conn;
    if (rv_connect(r->sock, &conn) < 0)
        bench_die("cannot connect to revived at %s", r->sock);
    rv_session *on = open_null(conn, svc);
    rv_cap_registry_enable(false);
    rv_session *off = open_null(conn, svc);
    rv_cap_registry_enable(true);
    struct rv_cap_info info;
    if (rv_cap_info(rv_session_fd(on), &info) < 0 || rv_cap_info(rv_session_fd(off), &info) == 0)
        bench_die("the registry did not register exactly the session opened while it was on");
    res->lookup_on_ns = lookup_ns(rv_session_fd(on));
    res->lookup_off_ns = lookup_ns(rv_session_fd(off));
    rv_close(on);
    rv_close(off);
    rv_disconnect(conn);
}

void caps_measure_registry(struct caps_results *res, struct revived *r, const char *svc, int quick)
{
    res->have_cross = sysconf(_SC_NPROCESSORS_ONLN) > 1;
    res->plan[CAPS_SAME] = (struct plan){ 40, 5000 / (quick ? 5 : 1) };
    res->plan[CAPS_CROSS] = (struct plan){ 20, 500 / (quick ? 5 : 1) };
    for (int p = CAPS_SAME; p < (res->have_cross ? CAPS_NPLACE : CAPS_CROSS); p++) {
        pin_or_die(p == CAPS_SAME ? SERVER_CPU : SERVER_CPU + 1);
        fprintf(stderr, "rv-bench: registry on/off, %s ...\n", caps_place_name[p]);
        struct contender c[2];
        struct rtt t[2];
        rv_cap_registry_enable(false);   /* read when the session registers, at open */
        c[1] = call_start(r, svc, BENCH_NULL, 1);
        rv_cap_registry_enable(true);
        c[0] = call_start(r, svc, BENCH_NULL, 1);
        measure_interleaved(c, 2, &res->plan[p], t);
        res->on[p] = t[0];
        res->off[p] = t[1];
        call_stop(&c[0]);
        call_stop(&c[1]);
    }
    pin_or_die(SERVER_CPU);
    time_lookups(res, r, svc);
}

/* ---- the watcher on a CPU-bound job ---- */

#define MAT 256
static double mat_a[MAT][MAT], mat_b[MAT][MAT], mat_c[MAT][MAT];
static volatile double mat_sink;

static void mat_init(void)
{
    for (int i = 0; i < MAT; i++)
        for (int j = 0; j < MAT; j++) {
            mat_a[i][j] = 1.0 / (i + j + 1);
            mat_b[i][j] = (double)((i * 7 + j * 3) % 11) - 5.0;
        }
}

/* C = A * B, i-k-j order; the sink keeps every product alive. */
static void matmul(void)
{
    for (int i = 0; i < MAT; i++) {
        for (int j = 0; j < MAT; j++)
            mat_c[i][j] = 0;
        for (int k = 0; k < MAT; k++) {
            double a = mat_a[i][k];
            for (int j = 0; j < MAT; j++)
                mat_c[i][j] += a * mat_b[k][j];
        }
    }
    mat_sink += mat_c[MAT / 2][MAT / 3];
}

/* Wall-clock ms of `mults` multiplications: time the watcher takes from
 * the job's core shows here. */
static double job_ms(unsigned mults)
{
    uint64_t t0 = bench_now_ns();
    for (unsigned i = 0; i < mults; i++)
        matmul();
    return (double)(bench_now_ns() - t0) / 1e6;
}

/* Multiplications for one run of about target_ms. */
static unsigned calibrate(double target_ms)
{
    job_ms(2);   /* warm-up: page faults, caches, frequency */
    double one = job_ms(5) / 5;
    unsigned n = (unsigned)(target_ms / one + 0.5);
    return n ? n : 1;
}

/* The watched set: caps[i] is registered with itself as liveness
 * descriptor — the registry owns and closes it — and objs[i] is the other
 * end, whose close is the capability's death. */
struct watched {
    size_t n;
    int caps[MAX_WATCHED], objs[MAX_WATCHED];
};

static void watch_set_up(struct watched *w, size_t n)
{
    w->n = n;
    for (size_t i = 0; i < n; i++) {
        int sv[2];
        char name[32];
        snprintf(name, sizeof name, "bench-%zu", i);
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
            bench_die("socketpair for watched capability %zu: %m (RLIMIT_NOFILE too low?)", i);
        if (rv_cap_register(sv[0], RV_CAP_NOTIFIER, name, sv[0]) < 0 || rv_cap_watch(sv[0], true) < 0)
            bench_die("cannot register watched capability %zu", i);
        w->caps[i] = sv[0];
        w->objs[i] = sv[1];
    }
}

static void watch_tear_down(struct watched *w)
{
    for (size_t i = 0; i < w->n; i++) {
        rv_cap_unregister(w->caps[i]);   /* closes caps[i], its liveness descriptor */
        if (w->objs[i] >= 0)
            close(w->objs[i]);
    }
    w->n = 0;
}

static unsigned faults_of(int fd)
{
    struct rv_cap_info info;
    return rv_cap_info(fd, &info) == 0 ? info.faults : 0;
}

/* Kills capability i's object and returns the ms until the watcher has
 * raised its fault. Sleeps between looks, so a watcher on this core runs. */
static double detect_ms(struct watched *w, size_t i)
{
    unsigned before = faults_of(w->caps[i]);
    uint64_t t0 = bench_now_ns();
    close(w->objs[i]);
    w->objs[i] = -1;
    while (faults_of(w->caps[i]) == before) {
        if (bench_now_ns() - t0 > DETECT_TIMEOUT_NS)
            bench_die("the watcher did not notice a dead capability within 5 s");
        nanosleep(&(struct timespec){ 0, 20000 }, NULL);
    }
    return (double)(bench_now_ns() - t0) / 1e6;
}

static double median_of(struct series *s)
{
    double m = series_quantile(s, 0.5);
    series_free(s);
    return m;
}

/* CPU clocks rather than getrusage: getrusage(RUSAGE_THREAD) leaves out
 * the time since the last scheduler tick, up to 4 ms per reading. */
static double cpu_ms(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct job_run {
    double wall_ms;
    double job_cpu_ms;       /* this thread's CPU time */
    double watcher_cpu_ms;   /* the process's CPU time less this thread's */
};

/* One run of the job with the watcher in `mode` (NULL: without), in the
 * steady state: the watcher runs all the time in a real task, so its start
 * (reading the watched set, arming poll on every descriptor) and its stop
 * happen outside the timed window — a settling sleep, which also lets a
 * watcher on this core get there. The process's CPU clock counts the live
 * watcher thread too. */
static struct job_run run_with(const struct caps_mode *mode, unsigned mults)
{
    if (mode && rv_watcher_start(mode->mode, mode->period_ms) != 0)
        bench_die("cannot start the watcher");
    nanosleep(&(struct timespec){ 0, SETTLE_NS }, NULL);
    double self0 = cpu_ms(CLOCK_PROCESS_CPUTIME_ID), me0 = cpu_ms(CLOCK_THREAD_CPUTIME_ID);
    struct job_run run = { .wall_ms = job_ms(mults) };
    run.job_cpu_ms = cpu_ms(CLOCK_THREAD_CPUTIME_ID) - me0;
    run.watcher_cpu_ms = cpu_ms(CLOCK_PROCESS_CPUTIME_ID) - self0 - run.job_cpu_ms;
    if (mode)
        rv_watcher_stop();
    return run;
}

/* Over `reps` pairs of runs without and with the watcher, the order inside
 * a pair alternating so that drift cancels, the medians of the overheads in
 * %: by wall-clock time, by CPU time (the job's and the watcher's: what
 * other processes take from the core does not count), and the watcher's
 * own CPU time alone. mode NULL: the control, two runs without a watcher. */
static struct caps_cell overhead(const struct caps_mode *mode, unsigned mults, int reps, struct series *base)
{
    struct series wall = { 0 }, cpu = { 0 }, own = { 0 };
    for (int r = 0; r < reps; r++) {
        struct job_run b, m;
        if (r % 2) {
            m = run_with(mode, mults);
            b = run_with(NULL, mults);
        } else {
            b = run_with(NULL, mults);
            m = run_with(mode, mults);
        }
        series_add(&wall, (m.wall_ms / b.wall_ms - 1) * 100);
        series_add(&cpu, ((m.job_cpu_ms + m.watcher_cpu_ms) / b.job_cpu_ms - 1) * 100);
        series_add(&own, m.watcher_cpu_ms / b.job_cpu_ms * 100);
        series_add(base, b.wall_ms);
    }
    return (struct caps_cell){ .wall_pct = median_of(&wall), .cpu_pct = median_of(&cpu), .own_pct = median_of(&own) };
}

static void measure_cell(struct caps_results *res, int place, size_t ci, size_t mi, unsigned mults,
                         struct series *base)
{
    static struct watched w;
    const struct caps_mode *m = &caps_modes[mi];
    fprintf(stderr, "rv-bench: watcher, %s, %zu capabilities, %s ...\n", watch_place_name[place], caps_counts[ci],
            m->label);
    watch_set_up(&w, caps_counts[ci]);
    res->watch[place][ci][mi] = overhead(m, mults, res->reps, base);
    if (rv_watcher_start(m->mode, m->period_ms) != 0)
        bench_die("cannot start the watcher");
    /* The watcher starts a new period once it has handled a fault, and
     * each kill follows the previous detection at once: kills 2 and 3 come
     * just as a period begins, the worst case, and so does the median. */
    struct series d = { 0 };
    for (size_t k = 0; k < KILLS; k++)
        series_add(&d, detect_ms(&w, k * (w.n / KILLS)));
    rv_watcher_stop();
    res->watch[place][ci][mi].detect_ms = median_of(&d);
    watch_tear_down(&w);
}

static void measure_place(struct caps_results *res, int place, unsigned mults)
{
    struct series base = { 0 };
    res->control[place] = overhead(NULL, mults, res->reps, &base);
    for (size_t ci = 0; ci < CAPS_NCOUNTS; ci++)
        for (size_t mi = 0; mi < CAPS_NMODES; mi++)
            measure_cell(res, place, ci, mi, mults, &base);
    res->job_ms[place] = median_of(&base);
}

/* Pinning the process before the watcher starts pins the watcher thread
 * too: a thread inherits its creator's affinity. */
static void allow_all_cpus(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    for (long i = 0; i < sysconf(_SC_NPROCESSORS_ONLN) && i < CPU_SETSIZE; i++)
        CPU_SET((int)i, &set);
    if (sched_setaffinity(0, sizeof set, &set) < 0)
        bench_die("cannot allow every CPU: %m");
}

void caps_measure_watcher(struct caps_results *res, int quick)
{
    res->have_two = sysconf(_SC_NPROCESSORS_ONLN) > 1;
    res->reps = quick ? 3 : 7;
    mat_init();
    pin_or_die(WATCH_CPU);
    res->mults = calibrate(quick ? 100 : 500);
    measure_place(res, CAPS_SAME, res->mults);
    if (res->have_two) {
        allow_all_cpus();
        measure_place(res, CAPS_CROSS, res->mults);
        pin_or_die(SERVER_CPU);
    }
}

/* ---- reporting ---- */

static void report_registry(FILE *f, const struct caps_results *res)
{
    fprintf(f, "## Capability registry: null call, registry on vs off\n\n"
               "The null call of the round-trip table on a session registered with the capability registry "
               "(on, the default) and on one opened after `rv_cap_registry_enable(false)`, interleaved: median "
               "over %d batches of %d (same core) / %d batches of %d (cross core) round trips, us per round "
               "trip; server side on CPU %d, client on CPU %d or %d.\n\n",
            res->plan[CAPS_SAME].batches, res->plan[CAPS_SAME].per_batch, res->plan[CAPS_CROSS].batches,
            res->plan[CAPS_CROSS].per_batch, SERVER_CPU, SERVER_CPU, SERVER_CPU + 1);
    fprintf(f, "| placement  | on us    | off us   | on / off | target (same)        |\n"
               "|------------|---------:|---------:|---------:|----------------------|\n");
    for (int p = CAPS_SAME; p < (res->have_cross ? CAPS_NPLACE : CAPS_CROSS); p++) {
        double ratio = res->on[p].median_us / res->off[p].median_us;
        char verdict[32] = "";
        if (p == CAPS_SAME)
            snprintf(verdict, sizeof verdict, "<= %.2fx: %s", TARGET_RATIO, ratio <= TARGET_RATIO ? "met" : "MISS");
        fprintf(f, "| %-10s | %8.2f | %8.2f | %7.3fx | %-20s |\n", caps_place_name[p], res->on[p].median_us,
                res->off[p].median_us, ratio, verdict);
    }
    double call_ns = res->on[CAPS_SAME].median_us * 1e3;
    fprintf(f, "\nThe registry's whole share of a call: rv_call_fd looks the session's generation up before "
               "every call (`rv__cap_generation`, a mutex and a table lookup), registered or not. Timed alone "
               "over %d lookups: %.1f ns for a registered session (%.2f%% of the same-core call), %.1f ns for "
               "an unregistered one (%.2f%%). The paper: +%.2f%% per CPU-local IPC.\n\n",
            LOOKUPS, res->lookup_on_ns, 100 * res->lookup_on_ns / call_ns, res->lookup_off_ns,
            100 * res->lookup_off_ns / call_ns, PAPER_IPC_PCT);
}

static double get_wall(const struct caps_cell *c) { return c->wall_pct; }
static double get_cpu(const struct caps_cell *c) { return c->cpu_pct; }
static double get_own(const struct caps_cell *c) { return c->own_pct; }
static double get_detect(const struct caps_cell *c) { return c->detect_ms; }

/* One figure of every cell of a placement: counts down, modes across. */
static void report_matrix(FILE *f, const struct caps_results *res, int place, double (*get)(const struct caps_cell *),
                          const char *fmt)
{
    fprintf(f, "| %-12s |", "watched caps");
    for (size_t mi = 0; mi < CAPS_NMODES; mi++)
        fprintf(f, " %8s |", caps_modes[mi].label);
    fprintf(f, "\n|-------------:|");
    for (size_t mi = 0; mi < CAPS_NMODES; mi++)
        fprintf(f, "---------:|");
    for (size_t ci = 0; ci < CAPS_NCOUNTS; ci++) {
        fprintf(f, "\n| %12zu |", caps_counts[ci]);
        for (size_t mi = 0; mi < CAPS_NMODES; mi++) {
            fputc(' ', f);
            fprintf(f, fmt, get(&res->watch[place][ci][mi]));
            fprintf(f, " |");
        }
    }
    fprintf(f, "\n\n");
}

static void report_place(FILE *f, const struct caps_results *res, int place)
{
    const struct caps_cell *ctl = &res->control[place];
    fprintf(f, "Overhead by CPU time: the job thread's and the watcher's CPU time (CPU clocks) with the watcher, "
               "over the job's without, - 1. Direct and indirect (caches, TLB) cost; time other processes "
               "take from the core does not count:\n\n");
    report_matrix(f, res, place, get_cpu, "%+7.2f%%");
    fprintf(f, "Overhead by wall-clock time, the paper's figure, which also counts whatever else ran on the "
               "core:\n\n");
    report_matrix(f, res, place, get_wall, "%+7.2f%%");
    fprintf(f, "Control, both runs without a watcher (the noise of the two figures above): %+.2f%% by CPU "
               "time, %+.2f%% by wall-clock time. A run without the watcher: %.0f ms.\n\n"
               "The watcher thread's own CPU time alone, in %% of the job's:\n\n",
            ctl->cpu_pct, ctl->wall_pct, res->job_ms[place]);
    report_matrix(f, res, place, get_own, "%7.3f%%");
}

static void report_targets(FILE *f, const struct caps_results *res)
{
    const struct caps_cell *at10 = &res->watch[CAPS_SAME][CAPS_NCOUNTS - 1][MODE_10MS];
    const struct caps_cell *ev = &res->watch[CAPS_SAME][CAPS_NCOUNTS - 1][MODE_EVENT];
    size_t most = caps_counts[CAPS_NCOUNTS - 1];
    /* The watcher's own time is a lower bound of its cost on one core, and
     * far less noisy than the job's time: it alone can decide a miss. */
    bool met = at10->own_pct < TARGET_WATCH_PCT && at10->cpu_pct < TARGET_WATCH_PCT;
    fprintf(f, "Target < %.0f%% at %zu capabilities, 10 ms, one core: %s (watcher alone %.3f%%, a lower bound; "
               "%+.2f%% by CPU time, %+.2f%% by wall-clock time).\n\n",
            TARGET_WATCH_PCT, most, met ? "met" : "MISSED", at10->own_pct, at10->cpu_pct, at10->wall_pct);
    fprintf(f, "Target 0%% in event mode: %s (watcher alone %.3f%% at %zu capabilities; %+.2f%% by CPU time, "
               "%+.2f%% by wall-clock time).\n\n",
            ev->own_pct < EVENT_OWN_PCT ? "met" : "MISSED", ev->own_pct, most, ev->cpu_pct, ev->wall_pct);
}

static void report_watcher(FILE *f, const struct caps_results *res)
{
    fprintf(f, "## Watcher: overhead on a CPU-bound job (L4ReAnimator Figure 8)\n\n"
               "Job: %u multiplications of %dx%d doubles per run. Every figure is the median over %d pairs of "
               "runs without and with the watcher, the order inside a pair alternating. The watcher is started "
               "%ld ms before a run and stopped after it: the figures are its steady state. Each watched "
               "capability is a socketpair end, registered as its own liveness descriptor.\n\n"
               "### Job and watcher thread on one core (CPU %d)\n\n",
            res->mults, MAT, MAT, res->reps, SETTLE_NS / 1000000, WATCH_CPU);
    report_place(f, res, CAPS_SAME);
    report_targets(f, res);
    fprintf(f, "Detection latency, one core: ms from the object's death to the watcher's capability fault, "
               "median of %d deaths that each come just as a period begins (the worst case; a death at a random "
               "moment waits half a period less on average):\n\n",
            KILLS);
    report_matrix(f, res, CAPS_SAME, get_detect, "%8.2f");
    if (res->have_two) {
        fprintf(f, "### Job and watcher free to use both cores\n\n");
        report_place(f, res, CAPS_CROSS);
    }
}

void caps_report(FILE *f, const struct caps_results *res)
{
    report_registry(f, res);
    report_watcher(f, res);
}

static void csv_cell(FILE *f, const char *place, size_t count, const char *mode, const struct caps_cell *c)
{
    fprintf(f, "watcher,%s,%zu,%s,%.3f,%.3f,%.4f,%.3f\n", place, count, mode, c->cpu_pct, c->wall_pct, c->own_pct,
            c->detect_ms);
}

void caps_csv(FILE *f, const struct caps_results *res)
{
    fprintf(f, "kind,placement,on_us,off_us,ratio,lookup_on_ns,lookup_off_ns\n");
    for (int p = CAPS_SAME; p < (res->have_cross ? CAPS_NPLACE : CAPS_CROSS); p++)
        fprintf(f, "registry,%s,%.3f,%.3f,%.4f,%.1f,%.1f\n", caps_place_name[p], res->on[p].median_us,
                res->off[p].median_us, res->on[p].median_us / res->off[p].median_us, res->lookup_on_ns,
                res->lookup_off_ns);
    fprintf(f, "\nkind,placement,capabilities,mode,cpu_overhead_pct,wall_overhead_pct,watcher_own_pct,detect_ms\n");
    for (int p = CAPS_SAME; p < (res->have_two ? CAPS_NPLACE : CAPS_CROSS); p++) {
        csv_cell(f, watch_place_name[p], 0, "control", &res->control[p]);
        for (size_t ci = 0; ci < CAPS_NCOUNTS; ci++)
            for (size_t mi = 0; mi < CAPS_NMODES; mi++)
                csv_cell(f, watch_place_name[p], caps_counts[ci], caps_modes[mi].label, &res->watch[p][ci][mi]);
    }
}

static void dat_columns(FILE *f, const struct caps_results *res, size_t ci, double (*get)(const struct caps_cell *))
{
    for (size_t mi = 0; mi < CAPS_NMODES; mi++)
        fprintf(f, " %.4f", get(&res->watch[CAPS_SAME][ci][mi]));
}

/* The plot's data, one core: a row per count; the overhead by CPU time,
 * then by wall-clock time, then the watcher alone, each per mode. */
void caps_dat(FILE *f, const struct caps_results *res)
{
    fprintf(f, "# rv-bench: the watcher's overhead in %% on a CPU-bound job, one core (bench/plot-watcher.sh)\n"
               "# capabilities, then by CPU time, by wall-clock time, the watcher alone, each at");
    for (size_t mi = 0; mi < CAPS_NMODES; mi++)
        fprintf(f, " %s", caps_modes[mi].label);
    fprintf(f, "\n");
    for (size_t ci = 0; ci < CAPS_NCOUNTS; ci++) {
        fprintf(f, "%zu", caps_counts[ci]);
        dat_columns(f, res, ci, get_cpu);
        dat_columns(f, res, ci, get_wall);
        dat_columns(f, res, ci, get_own);
        fprintf(f, "\n");
    }
}
