/* bench_scale.c — what a session costs at scale, and how fast sessions
 * open: SCALE_SESSIONS sessions on one service (`scale`: rv-svc-bench,
 * ssr_size 64, a hot standby), opened one after another on one connection.
 *
 * Each run reads, before the opens and after them: revived's descriptors,
 * the active instance's descriptors and mappings, the standby's
 * descriptors, the server side's memory (server_kb) and rv-bench's own
 * anonymous memory (the client's rv_session records). A session's cost is
 * the difference over the number of sessions. Then every
 * session is closed, and the next run waits until revived holds none.
 * SCALE_RUNS runs; the report gives the minimum and the median. */
#include "bench_tool.h"

#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "revive/client.h"

/* The service a series runs on: SCALE_SVC, or SCALE_SHARED_SVC (a slab of
 * its own, so that its first run's pages are fresh: see the report). */
static const char *svc_name = SCALE_SVC;

struct reading {
    long revived_fds, instance_fds, instance_maps, standby_fds;
    long long server_kb, own_rss_kb;
};

static long count_fds(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    long n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static long count_maps(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    long n = 0;
    for (int c; (c = getc(f)) != EOF;)
        n += c == '\n';
    fclose(f);
    return n;
}

/* The kB figure of `key:` in a /proc file of such lines; 0 if it has none
 * (a process that is gone). */
static long long proc_kb(const char *path, const char *key)
{
    FILE *f = fopen(path, "re");
    char line[128];
    long long v = 0;
    size_t kl = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, kl) == 0 && line[kl] == ':')
            v = atoll(line + kl + 1);
    if (f)
        fclose(f);
    return v;
}

static long long meminfo_kb(const char *key)
{
    return proc_kb("/proc/meminfo", key);
}

static long long status_kb(pid_t pid, const char *key)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    return pid > 0 ? proc_kb(path, key) : 0;
}

/* What the server side holds: the anonymous memory of revived and both
 * instances, and the kernel's share that grows with sessions (shared
 * memory: the slab's pages; unreclaimable slab: sockets, files; page
 * tables). Not MemAvailable, which the page cache moves by more than
 * thousands of sessions cost. */
static long long server_kb(pid_t revived, const struct rv_wire_svc_status *st)
{
    return status_kb(revived, "RssAnon") + status_kb(st->pid, "RssAnon") + status_kb(st->standby_pid, "RssAnon") +
           meminfo_kb("Shmem") + meminfo_kb("SUnreclaim") + meminfo_kb("PageTables");
}

static struct reading read_now(struct revived *r)
{
    struct rv_wire_svc_status st = revived_status(r, svc_name);
    return (struct reading){
        .revived_fds = count_fds(r->pid), .instance_fds = count_fds(st.pid), .instance_maps = count_maps(st.pid),
        .standby_fds = st.standby_pid ? count_fds(st.standby_pid) : -1,
        .server_kb = server_kb(r->pid, &st), .own_rss_kb = status_kb(getpid(), "RssAnon"),
    };
}

/* Until revived holds none of the last run's sessions, and the standby
 * holds what the active instance does. */
static void settle(struct revived *r)
{
    for (int i = 0;; i++) {
        struct rv_wire_svc_status st = revived_status(r, svc_name);
        if (st.sessions == 0 && st.standby_ready)
            return;
        if (i == 10000000)
            bench_die("%s never let go of its sessions", svc_name);
        sched_yield();
    }
}

/* The standby adopts each session as it binds, reading its control
 * channel at its own pace: wait until it has read every one. */
static void adopted(struct revived *r)
{
    for (int i = 0;; i++) {
        struct rv_wire_svc_status st = revived_status(r, svc_name);
        if (!st.standby_pid || st.standby_ready)
            return;
        if (i == 10000000)
            bench_die("the standby of %s never held the sessions", svc_name);
        sched_yield();
    }
}

/* One connection's share of the opens. */
struct opener {
    struct revived *r;
    rv_session **s;
    size_t n;
    bool shared;
};

static void *open_all(void *arg)
{
    struct opener *o = arg;
    rv_conn *c;
    if (rv_connect(o->r->sock, &c) < 0)
        bench_die("cannot connect to revived at %s", o->r->sock);
    for (size_t i = 0; i < o->n; i++)
        if ((o->shared ? rv_open_shared : rv_open)(c, svc_name, NULL, &o->s[i]) < 0)
            bench_die("session %zu of %s: %s", i + 1, svc_name, rv_conn_error(c));
    rv_disconnect(c);   /* the sessions stay open */
    return NULL;
}

/* Opens n sessions into s on `conns` connections at once, one thread
 * each; returns the seconds it took. */
static double open_sessions(struct revived *r, rv_session **s, size_t n, int conns, bool shared)
{
    struct opener o[SCALE_OPENERS];
    pthread_t t[SCALE_OPENERS];
    uint64_t t0 = bench_now_ns();
    for (int i = 0; i < conns; i++) {
        size_t from = n * (size_t)i / (size_t)conns, to = n * (size_t)(i + 1) / (size_t)conns;
        o[i] = (struct opener){ r, s + from, to - from, shared };
        if (pthread_create(&t[i], NULL, open_all, &o[i]) != 0)
            bench_die("pthread_create failed");
    }
    for (int i = 0; i < conns; i++)
        pthread_join(t[i], NULL);
    return (double)(bench_now_ns() - t0) / 1e9;
}

/* Opens n shared sessions into s with rv_open_shared_many on one
 * connection; returns the seconds it took. */
static double open_batched(struct revived *r, rv_session **s, size_t n)
{
    rv_conn *c;
    if (rv_connect(r->sock, &c) < 0)
        bench_die("cannot connect to revived at %s", r->sock);
    uint64_t t0 = bench_now_ns();
    if (rv_open_shared_many(c, svc_name, NULL, n, s) < 0)
        bench_die("%zu sessions of %s at once: %s", n, svc_name, rv_conn_error(c));
    double secs = (double)(bench_now_ns() - t0) / 1e9;
    rv_disconnect(c);
    return secs;
}

static void close_sessions(rv_session **s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        rv_close(s[i]);
}

static struct scale_run one_run(struct revived *r, size_t n, bool shared)
{
    settle(r);
    rv_session **s = calloc(n, sizeof *s);
    if (!s)
        bench_die("out of memory");
    struct reading before = read_now(r);
    double secs = open_sessions(r, s, n, 1, shared);
    adopted(r);
    struct reading after = read_now(r);
    double k = (double)n;
    struct scale_run out = {
        .opens_per_s = k / secs,
        .revived_fds = (double)(after.revived_fds - before.revived_fds) / k,
        .instance_fds = (double)(after.instance_fds - before.instance_fds) / k,
        .instance_maps = (double)(after.instance_maps - before.instance_maps) / k,
        .standby_fds = (double)(after.standby_fds - before.standby_fds) / k,
        .server_bytes = (double)(after.server_kb - before.server_kb) * 1024 / k,
        .client_bytes = (double)(after.own_rss_kb - before.own_rss_kb) * 1024 / k,
    };
    close_sessions(s, n);
    settle(r);
    out.opens_per_s_many = k / open_sessions(r, s, n, SCALE_OPENERS, shared);
    close_sessions(s, n);
    if (shared) {
        settle(r);
        out.opens_per_s_batched = k / open_batched(r, s, n);
        close_sessions(s, n);
    }
    free(s);
    return out;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* min and median of one field over the runs */
static void min_median(const struct scale_results *res, size_t off, double *min, double *med)
{
    double v[SCALE_RUNS];
    for (int i = 0; i < res->runs; i++)
        memcpy(&v[i], (const char *)&res->run[i] + off, sizeof v[i]);
    qsort(v, (size_t)res->runs, sizeof *v, by_value);
    *min = v[0];
    *med = v[res->runs / 2];
}

void scale_measure(struct scale_results *res, struct revived *r, int quick, bool shared)
{
    res->sessions = shared ? SCALE_SHARED_SESSIONS : SCALE_SESSIONS;
    res->sessions /= quick ? 10 : 1;
    res->shared = shared;
    res->runs = SCALE_RUNS;
    svc_name = shared ? SCALE_SHARED_SVC : SCALE_SVC;
    for (int i = 0; i < res->runs; i++) {
        fprintf(stderr, "rv-bench: %zu%s sessions on %s, run %d of %d ...\n", res->sessions,
                shared ? " shared" : "", svc_name, i + 1, res->runs);
        res->run[i] = one_run(r, res->sessions, shared);
    }
}

/* first_run: memory, whose later runs reuse the pages and heap the first
 * run's sessions left (a figure near 0 there is no cost): the first run's
 * figure in both columns. */
static const struct scale_field {
    const char *label, *csv, *unit, *target;
    size_t off;
    bool first_run, shared_only;
} fields[] = {
    { "sessions opened per second, one connection", "opens_per_s", "/s", ">= 50000",
      offsetof(struct scale_run, opens_per_s), false, false },
    { "sessions opened per second, 8 connections at once", "opens_per_s_8", "/s", ">= 50000",
      offsetof(struct scale_run, opens_per_s_many), false, false },
    { "sessions opened per second, one connection, rv_open_shared_many (1,000 per request)", "opens_per_s_batched",
      "/s", ">= 50000", offsetof(struct scale_run, opens_per_s_batched), false, true },
    { "revived's descriptors per session", "revived_fds", "", "0 (then 100,000 sessions fit)",
      offsetof(struct scale_run, revived_fds), false, false },
    { "the active instance's mappings per session", "instance_maps", "", "0",
      offsetof(struct scale_run, instance_maps), false, false },
    { "the active instance's descriptors per session", "instance_fds", "", "",
      offsetof(struct scale_run, instance_fds), false, false },
    { "the standby's descriptors per session", "standby_fds", "", "", offsetof(struct scale_run, standby_fds), false, false },
    { "server-side memory per session (revived, instances, slab, kernel), first run", "server_bytes", " B",
      "<= 8192 B", offsetof(struct scale_run, server_bytes), true, false },
    { "client-side memory per session (librevive), first run", "client_bytes", " B", "",
      offsetof(struct scale_run, client_bytes), true, false },
};
#define NFIELDS (sizeof fields / sizeof fields[0])

void scale_report(FILE *f, const struct scale_results *res)
{
    fprintf(f, "## Sessions at scale: %zu sessions on one service, %s\n\n"
               "Service `%s`: rv-svc-bench, ssr_size 64, max_request and max_reply 64, checksum, a hot standby. "
               "One connection opens the sessions one after another (%s); the readings before and after "
               "give each session's cost. Then the same number is opened by 8 connections at once, a thread "
               "each, for the open rate alone%s. "
               "Server-side memory: the anonymous memory (RssAnon) of revived and both instances, and the "
               "system's Shmem (the slab), SUnreclaim (sockets, files) and PageTables. Client-side: rv-bench's "
               "own RssAnon. %d runs.\n\n"
               "| per session | min | median | target |\n|---|---:|---:|---|\n",
               res->sessions, res->shared ? "on shared channels" : "a socket each",
               res->shared ? SCALE_SHARED_SVC : SCALE_SVC,
               res->shared ? "rv_open_shared: one channel per connection" : "rv_open",
               res->shared ? ", and by one connection with rv_open_shared_many" : "", res->runs);
    for (size_t i = 0; i < NFIELDS; i++) {
        if (fields[i].shared_only && !res->shared)
            continue;
        double min, med;
        min_median(res, fields[i].off, &min, &med);
        if (fields[i].first_run) {
            memcpy(&min, (const char *)&res->run[0] + fields[i].off, sizeof min);
            med = min;
        }
        fprintf(f, "| %s | %.2f%s | %.2f%s | %s |\n", fields[i].label, min, fields[i].unit, med, fields[i].unit,
                fields[i].target);
    }
    fprintf(f, "\n");
}

void scale_csv(FILE *f, const struct scale_results *res)
{
    for (size_t i = 0; i < NFIELDS; i++)
        for (int k = 0; k < res->runs && !(fields[i].shared_only && !res->shared); k++) {
            double v;
            memcpy(&v, (const char *)&res->run[k] + fields[i].off, sizeof v);
            fprintf(f, "%s%s,%zu,%d,%.3f\n", res->shared ? "shared_" : "", fields[i].csv, res->sessions, k + 1, v);
        }
}
