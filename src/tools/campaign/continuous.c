/* continuous.c — Akeso's continuous mode (§6.2): how many faults
 * does one running system survive?
 *
 * Akeso injected a normally fatal fault every 300,000 + rand(300,000) basic
 * blocks into a running kernel until it crashed, deadlocked or visibly
 * failed, and counted the faults survived (35.4 on average). Here: one
 * revived, started once, and round after round of the campaign's workload
 * against it, each round with one fault armed at a random instruction of
 * the current service instance after a random pause (uniform in 0..300 ms,
 * from the seed: about 5 faults a second, near Akeso's 4, and below the
 * manifest's restart budget of 100 in 10 s, which a faster stream would
 * exhaust and so test the restart policy instead) — so faults arrive at
 * random points of a system under load, into whichever instance the last recovery left, with
 * revived's restart policy and counters carried from round to round. A
 * round is classified as an experiment is (classify.c), from the change in
 * revived's counters over the round. The run ends at the first round whose
 * fault was not recovered (the system failed), or once `max_activated`
 * faults were activated. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "campaign.h"

/* A round whose injector cannot attach (the instance died under it, say)
 * injects nothing; a run of them means the system is not there to inject
 * into, and is a failure of its own. */
#define MAX_IDLE_ROUNDS 50
#define MAX_PAUSE_MS 300

struct tally {
    int rounds, activated, manifested, recovered, with_loss, idle;
    bool failed;
    struct cp_experiment failure;
};

/* The round's share of revived's cumulative counters. */
static void round_delta(struct rv_wire_svc_status *st, const struct rv_wire_svc_status *before)
{
    bool restarted = st->restarts != before->restarts;
    st->restarts -= before->restarts;
    st->requests_failed -= before->requests_failed;
    if (!restarted)
        snprintf(st->last_exit, sizeof st->last_exit, "-");
}

static void count(struct tally *t, const struct cp_experiment *e)
{
    t->rounds++;
    t->activated += e->outcome != CP_NOT_ACTIVATED;
    t->manifested += e->recovery != CP_REC_NONE;
    t->recovered += e->recovery == CP_RECOVERED;
    t->with_loss += e->recovery == CP_RECOVERED_WITH_LOSS;
    t->idle = e->inj.outcome == RVI_ERROR ? t->idle + 1 : 0;
    if (e->recovery == CP_NOT_RECOVERED || t->idle >= MAX_IDLE_ROUNDS) {
        t->failed = true;
        t->failure = *e;
    }
}

/* One round: the fault, the workload, the counters' change. */
static void round_once(const struct cp_campaign *c, struct cp_daemon *d, struct rv_wire_svc_status *last,
                       struct cp_experiment *e)
{
    e->fault = c->fault;
    e->w = (struct cp_workload){ .svc = c->svc, .quick = c->quick, .golden = c->golden };
    struct rv_wire_svc_status before = *last;
    if (last->pid > 0)
        cp_round(e, d, last->pid);
    else {
        e->inj.outcome = RVI_ERROR;
        snprintf(e->inj.error, sizeof e->inj.error, "no service instance to inject into (state %s)", last->state);
    }
    if (e->status_ok)
        *last = e->st;
    round_delta(&e->st, &before);
    cp_classify(e);
}

/* splitmix64: the pause before a round, reproducible from its seed. */
static void pause_before(uint64_t seed)
{
    uint64_t z = seed + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    long ms = (long)(z % MAX_PAUSE_MS);
    nanosleep(&(struct timespec){ ms / 1000, (ms % 1000) * 1000000 }, NULL);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void summary(FILE *md, const char *cmdline, const struct cp_campaign *c, const struct tally *t,
                    const struct rv_wire_svc_status *last, double secs)
{
    cp_markdown_title(md, cmdline, c, "continuous run");
    fprintf(md, "| rounds | faults activated | manifested | recovered | with loss | survived | "
                "system failed | restarts | time |\n|---:|---:|---:|---:|---:|---:|---|---:|---:|\n"
                "| %d | %d | %d | %d | %d | **%d** | %s | %u | %.0f s |\n",
            t->rounds, t->activated, t->manifested, t->recovered, t->with_loss,
            t->activated - (t->failed && t->failure.outcome != CP_NOT_ACTIVATED),
            t->failed ? "yes" : "no (limit reached)", last->restarts, secs);
    fputs("\nA fault is survived when, after it, every client of its round and a fresh session were "
          "served correctly (a client told of an error counts as survived with loss). Akeso "
          "(§6.2): 35.4 faults survived on average (17 to 72), 97.2% of faults.\n", md);
    if (t->failed)
        cp_markdown_failures(md, &t->failure, 1);
}

int cp_continuous(const struct cp_campaign *c, int max_activated, FILE *csv, FILE *md, const char *cmdline,
                  const char *failure_log)
{
    struct cp_daemon d = { 0 };
    struct rv_wire_svc_status last = { 0 };
    struct tally t = { 0 };
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (cp_daemon_start(&d, c->svc, c->baseline) < 0 || cp_settle(&d, &last) < 0) {
        fprintf(stderr, "rv-campaign: revived or the service did not start\n");
        cp_daemon_stop(&d, 0);
        cp_daemon_remove(&d, NULL);
        return 1;
    }
    while (!t.failed && t.activated < max_activated && d.pid > 0) {
        struct cp_experiment e = { .index = t.rounds, .seed = c->seed * 100000 + (uint64_t)t.rounds };
        pause_before(e.seed);
        round_once(c, &d, &last, &e);
        cp_csv_row(csv, &e);
        fflush(csv);
        count(&t, &e);
        cp_progress(&e, max_activated);
    }
    pid_t instance = last.pid;
    if (d.pid > 0)
        cp_daemon_stop(&d, instance);
    cp_daemon_remove(&d, t.failed ? failure_log : NULL);
    summary(md, cmdline, c, &t, &last, seconds_since(&t0));
    printf("rv-campaign: %d faults activated, %d survived, system %s%s%s\n", t.activated,
           t.activated - (t.failed && t.failure.outcome != CP_NOT_ACTIVATED), t.failed ? "failed" : "still serving",
           t.failed ? "; revived's log: " : "", t.failed ? failure_log : "");
    return t.failed ? 1 : 0;
}
