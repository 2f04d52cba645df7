/* campaign.h — the parts of rv-campaign, the fault-injection campaign runner
 * (after CuriOS §6.1).
 *
 * One experiment: a fresh revived with one service (daemon.c), the
 * injector (rvi_run, inject.h) attached to the service's instance and armed,
 * a workload of real clients whose correct result is known (workload.c), a
 * fresh session afterwards to see whether the system still serves correctly,
 * and revived's status counters; classify.c turns all that into one outcome
 * and one recovery class, report.c into CSV and markdown rows. */
#ifndef RV_CAMPAIGN_H
#define RV_CAMPAIGN_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include "inject.h"
#include "revive/client.h"
#include "wire.h"

enum cp_service { CP_RANDOM, CP_TIMER, CP_KV, CP_NSERVICES };

/* ---- daemon.c: a private revived per experiment ---- */

struct cp_daemon {
    pid_t pid;
    char dir[64];
    char sock[96];
};

/* Writes a manifest with just `svc` (no standby, a quick watchdog) into a
 * fresh temp dir and starts revived on it; returns once it listens.
 * `baseline`: state preservation off, as in a plain MINIX-3-style restart
 * (cp_baseline_what says how, per service). */
int cp_daemon_start(struct cp_daemon *d, enum cp_service svc, bool baseline);
/* What the baseline of `svc` is, for the reports. */
const char *cp_baseline_what(enum cp_service svc);
/* SIGTERM (SIGKILL if it does not go within a few seconds), reap. Kills
 * `orphan` too if it is still there (the instance of a revived that had to
 * be killed). */
void cp_daemon_stop(struct cp_daemon *d, pid_t orphan);
/* Removes the temp dir, first copying revived's log to `keep` (may be NULL). */
void cp_daemon_remove(struct cp_daemon *d, const char *keep);
/* The status of the daemon's one service; -1 if revived does not answer. */
int cp_status(const struct cp_daemon *d, struct rv_wire_svc_status *st);
/* Polls the status until the service is neither starting nor recovering
 * (no event tells), at most `ms`. -1 on timeout or no answer. */
int cp_wait_settled(const struct cp_daemon *d, struct rv_wire_svc_status *st, int ms);

/* ---- workload.c: clients with a known correct result ---- */

#define CP_CLIENTS 2
#define CP_DRAWS 64
#define CP_KV_KEYS 16   /* kv: the keys each client owns */

/* kv: what one client knows its keys hold (workload_kv.c). */
struct cp_kv_model {
    int16_t ver[CP_KV_KEYS];   /* the version of the value last acknowledged; -1: absent;
                                  -2: unknown (before the client's first write of it) */
    int8_t pending;            /* -1, or the key of the write whose call failed: */
    int16_t pending_ver;       /* it may or may not have happened (-1: a delete) */
};

/* What one client saw. */
struct cp_client {
    int err;          /* 0, or the RV_E* code a call returned */
    bool stalled;     /* timer: no notification within the bound */
    bool wrong;       /* an output differed from the correct one */
    bool blocked;     /* still waiting at the workload's bound (its err, if any,
                         only says how stopping revived freed it) */
    char note[96];
};

struct cp_workload {
    enum cp_service svc;
    bool quick;
    const uint64_t (*golden)[CP_DRAWS];  /* random: the golden run's numbers, or NULL */
    uint64_t got[CP_CLIENTS][CP_DRAWS];  /* random: what each client drew */
    struct cp_kv_model kv[CP_CLIENTS];   /* kv: each client's model of its keys */
    struct cp_client c[CP_CLIENTS];
    const char *sock;
    pthread_t th[CP_CLIENTS];
    bool joined[CP_CLIENTS];
};

/* Runs every client concurrently against `sock` (one thread each) and
 * waits for all, at most `ms`. -1 if a client is still blocked then (the
 * caller must kill revived to free it, then call cp_workload_join). */
int cp_workload_run(struct cp_workload *w, const char *sock, int ms);
void cp_workload_join(struct cp_workload *w);
/* The golden run: the random clients' numbers from an uninjected revived. */
int cp_golden(enum cp_service svc, bool quick, uint64_t golden[CP_CLIENTS][CP_DRAWS]);
/* A fresh session after the experiment: true if it is served correctly. */
bool cp_postcheck(const struct cp_workload *w, const char *sock, char *why, size_t len);
/* Shared by the clients: open a session to `svc` (an error goes into c),
 * and record a failed call in c. */
int cp_open_session(const char *sock, const char *svc, const char *args, struct cp_client *c,
                    rv_session **s);
void cp_call_failed(struct cp_client *c, rv_session *s, int rc, const char *what);

/* ---- workload_kv.c: the kv clients and their oracle ---- */

/* Client i: a fixed sequence of puts, deletes, gets and scans on its own
 * keys, every reply checked against w->kv[i]. */
void cp_kv_client(struct cp_workload *w, int i, const char *sock, struct cp_client *c);
/* The fresh session: the whole store against the union of the models. */
bool cp_kv_postcheck(const struct cp_workload *w, const char *sock, char *why, size_t len);

/* ---- what a campaign runs ---- */

struct cp_campaign {
    enum cp_service svc;
    enum rvi_fault fault;
    bool quick;
    bool baseline;                        /* state preservation off (cp_baseline_what) */
    uint64_t seed;
    const uint64_t (*golden)[CP_DRAWS];   /* random: the golden run */
};

const char *cp_service_name(enum cp_service s);

/* ---- round.c: one fault against a running revived ---- */

struct cp_experiment;
/* Arms the injector on `instance` with e->fault and e->seed, runs e->w
 * (already set up) meanwhile, then checks a fresh session and reads the
 * settled counters into e->st. Leaves d->pid == 0 if it had to end revived
 * to free a blocked client. */
void cp_round(struct cp_experiment *e, struct cp_daemon *d, pid_t instance);
/* cp_wait_settled with the campaign's bound. */
int cp_settle(const struct cp_daemon *d, struct rv_wire_svc_status *st);

/* ---- continuous.c: Akeso's continuous mode ---- */

/* Faults one after another into one running revived until the system fails
 * or `max_activated` faults were activated; one CSV row per round, a
 * markdown summary, revived's log kept in `failure_log` if it failed.
 * Returns 0, or 1 if the system failed. */
int cp_continuous(const struct cp_campaign *c, int max_activated, FILE *csv, FILE *md, const char *cmdline,
                  const char *failure_log);

/* ---- classify.c: one outcome and one recovery class ---- */

enum cp_outcome { CP_NOT_ACTIVATED, CP_BENIGN, CP_DETECTED, CP_CRASH, CP_HANG, CP_SDC, CP_NOUTCOMES };
enum cp_recovery { CP_REC_NONE, CP_RECOVERED, CP_RECOVERED_WITH_LOSS, CP_NOT_RECOVERED, CP_NRECOVERY };

struct cp_experiment {
    int index;
    uint64_t seed;
    enum rvi_fault fault;
    struct rvi_result inj;
    struct cp_workload w;
    bool workload_stuck;        /* a client was still blocked after the bound */
    bool status_ok;             /* revived answered the final status */
    struct rv_wire_svc_status st;
    bool post_ok;
    char post_why[96];
    enum cp_outcome outcome;
    enum cp_recovery recovery;
    char detail[384];
};

void cp_classify(struct cp_experiment *e);
const char *cp_outcome_name(enum cp_outcome o);
const char *cp_recovery_name(enum cp_recovery r);

/* ---- report.c: CSV and markdown ---- */

void cp_csv_header(FILE *f);
void cp_csv_row(FILE *f, const struct cp_experiment *e);
/* One line per experiment on stdout, as it finishes (of n). */
void cp_progress(const struct cp_experiment *e, int n);
/* The markdown summary of a finished campaign. */
void cp_markdown(FILE *f, const char *cmdline, const struct cp_campaign *c, const struct cp_experiment *e, int n);
/* Its parts, for the continuous mode: the title with the command, and the
 * section listing every not-recovered experiment among e[0..n). */
void cp_markdown_title(FILE *f, const char *cmdline, const struct cp_campaign *c, const char *mode);
void cp_markdown_failures(FILE *f, const struct cp_experiment *e, int n);

#endif
