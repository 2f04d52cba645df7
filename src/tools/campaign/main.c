/* main.c — rv-campaign, the fault-injection campaign runner.
 *
 *   rv-campaign --service random|timer|kv --type M|R -n N [--seed S]
 *               [--first I] [--baseline] [--continuous] [--out DIR]
 *               [--quick] [--check]
 *
 * Runs N experiments one after the other, each against a fresh revived:
 * wait for the service instance, arm the injector on it (one fault, seed
 * S*100000+i for i = I..I+N-1, so --first I -n 1 reruns experiment I; any
 * function of the service binary, which includes the statically linked
 * librevive runtime), run the workload concurrently, stop
 * the window when the workload is done, check that a fresh session is
 * served correctly, read revived's counters, classify. Writes
 * DIR/<service>-<type>.csv and .md (default DIR: docs/fault-injection).
 * --baseline runs the service with state preservation off (daemon.c: for
 * random and timer `state = stateless`, a restart revokes the sessions; for
 * kv a variant whose restart empties its table and loses the sessions),
 * files named <service>-<type>-baseline.
 * --continuous is Akeso's mode (continuous.c): one revived, faults one after
 * another until it fails or N faults were activated.
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
#include "revive/version.h"
#include "revive/cap.h"

struct options {
    struct cp_campaign c;
    int n, first;
    bool check, continuous;
    const char *out;
};

static const char *const service_names[CP_NSERVICES] = { "random", "timer", "kv" };

const char *cp_service_name(enum cp_service s) { return service_names[s]; }

/* The service named `name`, or -1. */
static int service_of(const char *name)
{
    for (int s = 0; s < CP_NSERVICES; s++)
        if (strcmp(name, service_names[s]) == 0)
            return s;
    return -1;
}

static char type_letter(const struct cp_campaign *c) { return c->fault == RVI_FAULT_MEM ? 'M' : 'R'; }

/* Results are named <service>-<M|R>[-baseline][-continuous]; `suffix`
 * follows (".csv", "-17.log"). */
static void out_path(const struct options *o, const char *suffix, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s-%c%s%s%s", o->out, cp_service_name(o->c.svc), type_letter(&o->c),
             o->c.baseline ? "-baseline" : "", o->continuous ? "-continuous" : "", suffix);
}

static int start_target(struct cp_experiment *e, struct cp_daemon *d, const struct cp_campaign *c,
                        struct rv_wire_svc_status *st)
{
    if (cp_daemon_start(d, c->svc, c->baseline) < 0 || cp_settle(d, st) < 0 || st->pid <= 0) {
        e->inj.outcome = RVI_ERROR;
        snprintf(e->inj.error, sizeof e->inj.error, "revived or the service did not start");
        return -1;
    }
    return 0;
}

/* A failure's revived log goes beside the results: DIR/<svc>-<T>-<index>.log. */
static void cleanup(const struct options *o, struct cp_daemon *d, const struct cp_experiment *e)
{
    char keep[512], suffix[32];
    snprintf(suffix, sizeof suffix, "-%d.log", e->index);
    out_path(o, suffix, keep, sizeof keep);
    cp_daemon_remove(d, e->recovery == CP_NOT_RECOVERED ? keep : NULL);
}

static void experiment(const struct options *o, struct cp_experiment *e)
{
    struct cp_daemon d = { 0 };
    struct rv_wire_svc_status st0 = { 0 };
    e->w = (struct cp_workload){ .svc = o->c.svc, .quick = o->c.quick, .golden = o->c.golden };
    if (start_target(e, &d, &o->c, &st0) == 0)
        cp_round(e, &d, st0.pid);
    if (d.pid > 0)
        cp_daemon_stop(&d, st0.pid);
    cp_classify(e);
    cleanup(o, &d, e);
}

static void usage(FILE *f)
{
    fputs("usage: rv-campaign --service random|timer|kv --type M|R -n N [--seed S] [--first I]\n"
          "                   [--baseline] [--continuous] [--out DIR] [--quick] [--check]\n", f);
}

static int parse(int argc, char **argv, struct options *o)
{
    static const struct option opts[] = {
        { "service", required_argument, NULL, 's' }, { "type", required_argument, NULL, 't' },
        { "seed", required_argument, NULL, 'S' },    { "out", required_argument, NULL, 'o' },
        { "quick", no_argument, NULL, 'q' },         { "check", no_argument, NULL, 'c' },
        { "first", required_argument, NULL, 'f' },   { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { "baseline", no_argument, NULL, 'b' },      { "continuous", no_argument, NULL, 'C' },
        { NULL, 0, NULL, 0 },
    };
    *o = (struct options){ .c = { .svc = -1, .fault = -1, .seed = 1 }, .out = "docs/fault-injection" };
    int c;
    while ((c = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
        switch (c) {
        case 's': o->c.svc = service_of(optarg); break;
        case 't': o->c.fault = !strcmp(optarg, "M") ? RVI_FAULT_MEM : !strcmp(optarg, "R") ? RVI_FAULT_REG : -1; break;
        case 'n': o->n = atoi(optarg); break;
        case 'f': o->first = atoi(optarg); break;
        case 'S': o->c.seed = strtoull(optarg, NULL, 0); break;
        case 'o': o->out = optarg; break;
        case 'q': o->c.quick = true; break;
        case 'b': o->c.baseline = true; break;
        case 'C': o->continuous = true; break;
        case 'c': o->check = true; break;
        case 'h': usage(stdout); exit(0);
        case 'V': printf("rv-campaign %s\n", REVIVE_VERSION); exit(0);
        default: return -1;
        }
    }
    return (int)o->c.svc < 0 || (int)o->c.fault < 0 || o->n <= 0 || o->first < 0 || optind < argc ||
           (o->continuous && (o->check || o->first)) ? -1 : 0;
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
    out_path(o, ext, path, sizeof path);
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

static int run_experiments(const struct options *o, FILE *csv, const char *cmd)
{
    struct cp_experiment *e = calloc((size_t)o->n, sizeof *e);
    if (!e)
        return 1;
    for (int i = 0; i < o->n; i++) {
        e[i].index = o->first + i;
        e[i].seed = o->c.seed * 100000 + (uint64_t)e[i].index;
        e[i].fault = o->c.fault;
        experiment(o, &e[i]);
        cp_csv_row(csv, &e[i]);
        fflush(csv);
        cp_progress(&e[i], o->n);
    }
    FILE *md = open_out(o, ".md");
    if (md) {
        cp_markdown(md, cmd, &o->c, e, o->n);
        fclose(md);
    }
    int rc = !md ? 1 : o->check ? verdict(e, o->n) : 0;
    free(e);
    return rc;
}

int main(int argc, char **argv)
{
    struct options o;
    if (parse(argc, argv, &o) < 0) {
        usage(stderr);
        return 2;
    }
    mkdir(o.out, 0755);
    /* The baseline measures a plain restart: clients that hear of the loss.
     * librevive's generic reanimation would re-open a revoked session and
     * carry on from fresh state, silently (a random client would draw its
     * sequence from the start again): tier 3 is not part of the baseline. */
    if (o.c.baseline)
        rv_cap_registry_enable(false);
    static uint64_t golden[CP_CLIENTS][CP_DRAWS];
    if (cp_golden(o.c.svc, o.c.quick, golden) < 0) {
        fprintf(stderr, "rv-campaign: the golden run failed: revive does not work without faults\n");
        return 1;
    }
    if (o.c.svc == CP_RANDOM)
        o.c.golden = golden;
    char cmd[1024];
    command_line(argc, argv, cmd, sizeof cmd);
    FILE *csv = open_out(&o, ".csv");
    if (!csv)
        return 1;
    cp_csv_header(csv);
    int rc;
    if (o.continuous) {
        FILE *md = open_out(&o, ".md");
        char log[512];
        out_path(&o, ".log", log, sizeof log);
        rc = md ? cp_continuous(&o.c, o.n, csv, md, cmd, log) : 1;
        if (md)
            fclose(md);
    } else
        rc = run_experiments(&o, csv, cmd);
    fclose(csv);
    return rc;
}
