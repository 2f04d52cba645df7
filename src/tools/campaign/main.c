/* main.c — rv-campaign, the fault-injection campaign runner (issue 5).
 *
 *   rv-campaign --service random|timer --type M|R -n N [--seed S]
 *               [--first I] [--out DIR] [--quick] [--check]
 *
 * Runs N experiments one after the other, each against a fresh revived:
 * wait for the service instance, arm the injector on it (one fault, seed
 * S*100000+i for i = I..I+N-1, so --first I -n 1 reruns experiment I; any
 * function of the service binary, which includes the statically linked
 * librevive runtime), run the workload concurrently, stop
 * the window when the workload is done, check that a fresh session is
 * served correctly, read revived's counters, classify. Writes
 * DIR/<service>-<type>.csv and .md (default DIR: docs/evaluation).
 * --check (for the test suite): exit 1 unless some fault manifested and
 * every manifested fault was recovered, and no experiment hit an injector
 * error. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "campaign.h"

#define WINDOW_MS 10000     /* the injector's window; the workload's end cancels it */
#define WORKLOAD_MS 5000    /* a client still blocked after this is stuck: the watchdog
                               and a restart take well under a second */
#define SETTLE_MS 10000

struct options {
    enum cp_service svc;
    enum rvi_fault fault;
    int n, first;
    uint64_t seed;
    const char *out;
    bool quick, check;
};

struct injector {
    struct rvi_config cfg;
    struct rvi_result *res;
    int armed_w;
};

static const char *svc_name(enum cp_service s) { return s == CP_RANDOM ? "random" : "timer"; }

static void *injector_thread(void *arg)
{
    struct injector *in = arg;
    rvi_run(&in->cfg, in->res);
    close(in->armed_w);   /* EOF tells the main thread if it never armed */
    return NULL;
}

static bool wait_armed(int fd)
{
    char buf[8];
    size_t got = 0;
    while (got < 6) {
        ssize_t r = read(fd, buf + got, 6 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return memcmp(buf, "ARMED\n", 6) == 0;
}

/* The workload, then the fresh session and the counters; or, if a client
 * stays blocked, the end of revived (which frees it). */
static void observe(struct cp_experiment *e, struct cp_daemon *d, pid_t instance)
{
    e->workload_stuck = cp_workload_run(&e->w, d->sock, WORKLOAD_MS) < 0;
    if (e->workload_stuck) {
        e->status_ok = cp_status(d, &e->st) == 0;
        cp_daemon_stop(d, instance);
        for (int i = 0; i < CP_CLIENTS; i++)
            e->w.c[i].blocked = !e->w.joined[i];
        cp_workload_join(&e->w);
        snprintf(e->post_why, sizeof e->post_why, "not tried (revived stopped to free the blocked client)");
        return;
    }
    e->post_ok = cp_postcheck(&e->w, d->sock, e->post_why, sizeof e->post_why);
    e->status_ok = cp_wait_settled(d, &e->st, SETTLE_MS) == 0;
}

static int start_target(struct cp_experiment *e, struct cp_daemon *d, const char *svc,
                        struct rv_wire_svc_status *st)
{
    if (cp_daemon_start(d, svc) < 0 || cp_wait_settled(d, st, SETTLE_MS) < 0 || st->pid <= 0) {
        e->inj.outcome = RVI_ERROR;
        snprintf(e->inj.error, sizeof e->inj.error, "revived or the service did not start");
        return -1;
    }
    return 0;
}

/* A failure's revived log goes beside the results: DIR/<svc>-<T>-<index>.log. */
static void cleanup(const struct options *o, struct cp_daemon *d, const struct cp_experiment *e)
{
    char keep[512];
    snprintf(keep, sizeof keep, "%s/%s-%c-%d.log", o->out, svc_name(o->svc),
             o->fault == RVI_FAULT_MEM ? 'M' : 'R', e->index);
    cp_daemon_remove(d, e->recovery == CP_NOT_RECOVERED ? keep : NULL);
}

static void experiment(const struct options *o, const uint64_t golden[CP_CLIENTS][CP_DRAWS],
                       struct cp_experiment *e)
{
    struct cp_daemon d = { 0 };
    struct rv_wire_svc_status st0 = { 0 };
    e->w = (struct cp_workload){ .svc = o->svc, .quick = o->quick, .golden = golden };
    if (start_target(e, &d, svc_name(o->svc), &st0) == 0) {
        volatile sig_atomic_t cancel = 0;
        int p[2];
        if (pipe(p) < 0)
            abort();
        struct injector in = {
            .cfg = { .pid = st0.pid, .fault = o->fault, .bp = RVI_BP_SW, .seed = e->seed,
                     .timeout_ms = WINDOW_MS, .observe_ms = 100, .armed_fd = p[1], .cancel = &cancel },
            .res = &e->inj, .armed_w = p[1],
        };
        pthread_t th;
        if (pthread_create(&th, NULL, injector_thread, &in) != 0)
            abort();
        if (wait_armed(p[0]))
            observe(e, &d, st0.pid);
        cancel = 1;
        pthread_join(th, NULL);
        close(p[0]);
    }
    if (d.pid > 0)
        cp_daemon_stop(&d, st0.pid);
    cp_classify(e);
    cleanup(o, &d, e);
}

static void usage(FILE *f)
{
    fputs("usage: rv-campaign --service random|timer --type M|R -n N [--seed S] [--first I]\n"
          "                   [--out DIR] [--quick] [--check]\n", f);
}

static int parse(int argc, char **argv, struct options *o)
{
    static const struct option opts[] = {
        { "service", required_argument, NULL, 's' }, { "type", required_argument, NULL, 't' },
        { "seed", required_argument, NULL, 'S' },    { "out", required_argument, NULL, 'o' },
        { "quick", no_argument, NULL, 'q' },         { "check", no_argument, NULL, 'c' },
        { "first", required_argument, NULL, 'f' },   { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    *o = (struct options){ .svc = -1, .fault = -1, .seed = 1, .out = "docs/evaluation" };
    int c;
    while ((c = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
        switch (c) {
        case 's': o->svc = !strcmp(optarg, "random") ? CP_RANDOM : !strcmp(optarg, "timer") ? CP_TIMER : -1; break;
        case 't': o->fault = !strcmp(optarg, "M") ? RVI_FAULT_MEM : !strcmp(optarg, "R") ? RVI_FAULT_REG : -1; break;
        case 'n': o->n = atoi(optarg); break;
        case 'f': o->first = atoi(optarg); break;
        case 'S': o->seed = strtoull(optarg, NULL, 0); break;
        case 'o': o->out = optarg; break;
        case 'q': o->quick = true; break;
        case 'c': o->check = true; break;
        case 'h': usage(stdout); exit(0);
        default: return -1;
        }
    }
    return (int)o->svc < 0 || (int)o->fault < 0 || o->n <= 0 || o->first < 0 || optind < argc ? -1 : 0;
}

static void command_line(int argc, char **argv, char *buf, size_t len)
{
    size_t k = 0;
    for (int i = 0; i < argc && k < len; i++)
        k += (size_t)snprintf(buf + k, len - k, "%s%s", i ? " " : "", i ? argv[i] : "rv-campaign");
}

static FILE *open_out(const struct options *o, const char *ext)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s-%c.%s", o->out, svc_name(o->svc),
             o->fault == RVI_FAULT_MEM ? 'M' : 'R', ext);
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "rv-campaign: cannot write %s: %s\n", path, strerror(errno));
    return f;
}

/* --check: something manifested, all of it recovered, no injector error. */
static int verdict(const struct cp_experiment *e, int n)
{
    int manifested = 0, bad = 0;
    for (int i = 0; i < n; i++) {
        manifested += e[i].recovery != CP_REC_NONE;
        bad += e[i].recovery == CP_NOT_RECOVERED || e[i].inj.outcome == RVI_ERROR;
    }
    fprintf(stderr, "rv-campaign: %d manifested, %d not recovered or in error\n", manifested, bad);
    return manifested > 0 && bad == 0 ? 0 : 1;
}

static void progress(const struct cp_experiment *e, int n)
{
    printf("#%d (of %d) seed=%" PRIu64 " %s+%#" PRIx64 " %-13s %s%s%s\n", e->index, n, e->seed,
           e->inj.function, e->inj.offset, cp_outcome_name(e->outcome), cp_recovery_name(e->recovery),
           e->recovery == CP_NOT_RECOVERED || e->inj.outcome == RVI_ERROR ? "  " : "",
           e->recovery == CP_NOT_RECOVERED || e->inj.outcome == RVI_ERROR ? e->detail : "");
    fflush(stdout);
}

int main(int argc, char **argv)
{
    struct options o;
    if (parse(argc, argv, &o) < 0) {
        usage(stderr);
        return 2;
    }
    mkdir(o.out, 0755);
    static uint64_t golden[CP_CLIENTS][CP_DRAWS];
    if (cp_golden(o.svc, o.quick, golden) < 0) {
        fprintf(stderr, "rv-campaign: the golden run failed: revive does not work without faults\n");
        return 1;
    }
    struct cp_experiment *e = calloc((size_t)o.n, sizeof *e);
    FILE *csv = open_out(&o, "csv");
    if (!e || !csv)
        return 1;
    cp_csv_header(csv);
    for (int i = 0; i < o.n; i++) {
        e[i].index = o.first + i;
        e[i].seed = o.seed * 100000 + (uint64_t)e[i].index;
        e[i].fault = o.fault;
        experiment(&o, o.svc == CP_RANDOM ? golden : NULL, &e[i]);
        cp_csv_row(csv, &e[i]);
        fflush(csv);
        progress(&e[i], o.n);
    }
    fclose(csv);
    char cmd[1024];
    command_line(argc, argv, cmd, sizeof cmd);
    FILE *md = open_out(&o, "md");
    if (!md)
        return 1;
    cp_markdown(md, cmd, svc_name(o.svc), o.fault == RVI_FAULT_MEM ? 'M' : 'R', e, o.n);
    fclose(md);
    int rc = o.check ? verdict(e, o.n) : 0;
    free(e);
    return rc;
}
