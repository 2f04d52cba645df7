/* bench_peer.c — revive beside its peers: one synchronous call, measured
 * in the same run as revive's own call and the raw SEQPACKET floor.
 *
 * Rows: the raw AF_UNIX SEQPACKET ping-pong (64 B, the floor); rv_call on
 * rv-svc-bench's null service with an empty request and reply, and with
 * 64 B each way; the same two calls with sd-bus, peer to peer and through a
 * private dbus-daemon (bench_dbus.c). The figure that matters is revive's
 * ratio to each D-Bus row with the same payload.
 *
 * No varlink row: Debian 12 packages no C varlink library, and its
 * libsystemd (252) has no public sd-varlink (systemd 257 added it).
 *
 * Every server side (revived and its service, the echo process, the sd-bus
 * servers, dbus-daemon) runs on SERVER_CPU; the client on the same core,
 * then on the next. PEER_RUNS runs of fresh contenders, each an interleaved
 * measurement (measure_interleaved); a run's figure is its median batch, and
 * the report gives the minimum and the median of the runs. */
#include "bench_tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>
#include "bench.h"

enum kind { K_SEQPACKET, K_REVIVE, K_DIRECT, K_BROKER };

static const struct peer_row {
    const char *label;
    const char *csv;      /* the label in peer.csv */
    size_t bytes;         /* each way */
    enum kind kind;
} rows[PEER_NROWS] = {
    [PEER_SEQPACKET] = { "raw AF_UNIX SEQPACKET", "seqpacket", MSG_BYTES, K_SEQPACKET },
    [PEER_RV_NULL] = { "revive rv_call", "revive", 0, K_REVIVE },
    [PEER_RV_64] = { "revive rv_call", "revive", MSG_BYTES, K_REVIVE },
    [PEER_P2P_NULL] = { "sd-bus, peer to peer (no daemon)", "sdbus_p2p", 0, K_DIRECT },
    [PEER_P2P_64] = { "sd-bus, peer to peer (no daemon)", "sdbus_p2p", MSG_BYTES, K_DIRECT },
    [PEER_BUS_NULL] = { "sd-bus via a private dbus-daemon", "sdbus_dbus_daemon", 0, K_BROKER },
    [PEER_BUS_64] = { "sd-bus via a private dbus-daemon", "sdbus_dbus_daemon", MSG_BYTES, K_BROKER },
};

static const char *const place_label[PEER_NPLACE] = { "same core", "cross core" };

/* The revive row a peer row is compared with: the same payload. */
static int revive_row(int row)
{
    return rows[row].bytes ? PEER_RV_64 : PEER_RV_NULL;
}

static const char *payload(int row)
{
    return rows[row].bytes ? "64 B each way" : "none";
}

#ifndef RV_BENCH_DBUS

const bool peer_built = false;

void peer_measure(struct peer_results *res, struct revived *r, const char *svc, int quick)
{
    (void)r;
    (void)svc;
    (void)quick;
    *res = (struct peer_results){ 0 };
}

#else

const bool peer_built = true;

struct peer_env {
    struct revived *r;
    const char *svc;
    const char *bus;      /* the broker's address */
};

static struct contender row_start(int row, const struct peer_env *e)
{
    switch (rows[row].kind) {
    case K_SEQPACKET:
        return seqpacket_start();
    case K_REVIVE:
        return call_start_sized(e->r, e->svc, BENCH_NULL, 1, rows[row].bytes);
    case K_DIRECT:
        return dbus_start(NULL, rows[row].bytes);
    default:
        return dbus_start(e->bus, rows[row].bytes);
    }
}

static void row_stop(int row, struct contender *c)
{
    switch (rows[row].kind) {
    case K_SEQPACKET:
        pingpong_stop(c);
        break;
    case K_REVIVE:
        call_stop(c);
        break;
    default:
        dbus_stop(c);
    }
}

/* One run: fresh servers and connections, every measured row interleaved;
 * adds each row's median batch to runs[row]. */
static void measure_run(const struct peer_results *res, int place, const struct peer_env *e, struct series *runs)
{
    struct contender c[PEER_NROWS];
    struct rtt t[PEER_NROWS];
    int which[PEER_NROWS];
    size_t n = 0;
    for (int row = 0; row < PEER_NROWS; row++)
        if (res->measured[row]) {
            which[n] = row;
            c[n++] = row_start(row, e);
        }
    measure_interleaved(c, n, &res->plan[place], t);
    for (size_t i = 0; i < n; i++) {
        row_stop(which[i], &c[i]);
        series_add(&runs[which[i]], t[i].median_us);
    }
}

static void measure_place(struct peer_results *res, int place, const struct peer_env *e)
{
    int cpu = place == PEER_SAME ? SERVER_CPU : SERVER_CPU + 1;
    if (bench_pin(cpu) < 0)
        bench_die("cannot pin to CPU %d: %m", cpu);
    struct series runs[PEER_NROWS] = { { 0 } };
    for (int run = 0; run < PEER_RUNS; run++) {
        fprintf(stderr, "rv-bench: revive beside D-Bus, %s, run %d of %d ...\n", place_label[place], run + 1,
                PEER_RUNS);
        measure_run(res, place, e, runs);
    }
    for (int row = 0; row < PEER_NROWS; row++) {
        res->min_us[place][row] = series_quantile(&runs[row], 0);
        res->median_us[place][row] = series_quantile(&runs[row], 0.5);
        series_free(&runs[row]);
    }
}

static void read_loadavg(char *buf, size_t len)
{
    FILE *f = fopen("/proc/loadavg", "r");
    float a[3];
    if (f && fscanf(f, "%f %f %f", &a[0], &a[1], &a[2]) == 3)
        snprintf(buf, len, "%.2f, %.2f, %.2f", a[0], a[1], a[2]);
    else
        snprintf(buf, len, "unknown");
    if (f)
        fclose(f);
}

void peer_measure(struct peer_results *res, struct revived *r, const char *svc, int quick)
{
    read_loadavg(res->load_start, sizeof res->load_start);
    res->nice = getpriority(PRIO_PROCESS, 0);
    struct dbus_broker b;
    bool broker = dbus_broker_start(&b) == 0;
    struct peer_env e = { r, svc, broker ? b.address : NULL };
    res->nplace = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? PEER_NPLACE : 1;
    res->plan[PEER_SAME] = (struct plan){ 10, quick ? 200 : 2000 };
    res->plan[PEER_CROSS] = (struct plan){ 10, quick ? 50 : 300 };
    for (int row = 0; row < PEER_NROWS; row++)
        res->measured[row] = broker || rows[row].kind != K_BROKER;
    for (int place = PEER_SAME; place < res->nplace; place++)
        measure_place(res, place, &e);
    if (broker)
        dbus_broker_stop(&b);
    read_loadavg(res->load_end, sizeof res->load_end);
}

#endif

/* ---- the report ---- */

static void print_rows(FILE *f, const struct peer_results *res)
{
    fprintf(f, "| call | payload | same core min us | same core median us | x SEQPACKET | cross core min us "
               "| cross core median us | x SEQPACKET |\n|---|---|---:|---:|---:|---:|---:|---:|\n");
    for (int row = 0; row < PEER_NROWS; row++) {
        fprintf(f, "| %s | %s |", rows[row].label, payload(row));
        for (int p = 0; p < PEER_NPLACE; p++)
            if (!res->measured[row] || p >= res->nplace)
                fprintf(f, " not measured | | |");
            else
                fprintf(f, " %.2f | %.2f | %.2fx |", res->min_us[p][row], res->median_us[p][row],
                        res->median_us[p][row] / res->median_us[p][PEER_SEQPACKET]);
        fputc('\n', f);
    }
}

static void print_ratios(FILE *f, const struct peer_results *res)
{
    fprintf(f, "\n### revive's ratio to each peer\n\n"
               "revive's median over the peer's median, same payload, same placement; below 1 revive is the "
               "faster.\n\n| revive's call beside | payload | same core | cross core |\n|---|---|---:|---:|\n");
    for (int row = PEER_P2P_NULL; row < PEER_NROWS; row++) {
        if (!res->measured[row])
            continue;
        fprintf(f, "| %s | %s |", rows[row].label, payload(row));
        for (int p = 0; p < PEER_NPLACE; p++)
            if (p < res->nplace)
                fprintf(f, " %.2fx |", res->median_us[p][revive_row(row)] / res->median_us[p][row]);
            else
                fprintf(f, " n/a |");
        fputc('\n', f);
    }
}

void peer_report(FILE *f, const struct peer_results *res)
{
    fprintf(f, "## One synchronous call: revive beside D-Bus\n\n");
    if (!peer_built) {
        fprintf(f, "Not measured: this rv-bench was built without libsystemd (sd-bus). Install libsystemd-dev "
                   "and dbus-daemon (scripts/deps.sh), then reconfigure the build.\n");
        return;
    }
    fprintf(f, "The server side (revived and rv-svc-bench's null service, the echo process, the sd-bus servers "
               "and dbus-daemon) on CPU %d; the client on CPU %d (same core) or CPU %d (cross core). sd-bus: a "
               "synchronous sd_bus_call of a method with no arguments and no reply values (payload none), or "
               "with an `ay` of 64 bytes each way, to a server that only answers; peer to peer over a "
               "socketpair, or through a private dbus-daemon (two hops each way). %d runs, each of fresh "
               "servers and connections and %d interleaved batches of %d (same core) / %d (cross core) calls "
               "per row; a run's figure is its median batch, in us per call; min and median over the runs. "
               "x SEQPACKET: the median over the raw SEQPACKET median of the same placement.\n\n",
            SERVER_CPU, SERVER_CPU, SERVER_CPU + 1, PEER_RUNS, res->plan[PEER_SAME].batches,
            res->plan[PEER_SAME].per_batch, res->plan[PEER_CROSS].per_batch);
    fprintf(f, "Load average (1, 5, 15 min) at the start: %s; at the end: %s. Niceness %d.\n\n", res->load_start,
            res->load_end, res->nice);
    print_rows(f, res);
    if (!res->measured[PEER_BUS_NULL])
        fprintf(f, "\nThe dbus-daemon rows were not measured: no dbus-daemon (scripts/deps.sh installs it).\n");
    print_ratios(f, res);
    fprintf(f, "\nvarlink: no row. Debian 12 packages no C varlink library (`apt-cache search varlink` finds "
               "golang-github-varlink-go-dev and varlink-go, both Go), and its libsystemd (252) has no public "
               "sd-varlink (systemd 257 added it).\n");
}

void peer_csv(FILE *f, const struct peer_results *res)
{
    fprintf(f, "call,payload_bytes,placement,min_us,median_us,x_seqpacket,revive_ratio\n");
    for (int row = 0; peer_built && row < PEER_NROWS; row++)
        for (int p = 0; res->measured[row] && p < res->nplace; p++) {
            double med = res->median_us[p][row];
            fprintf(f, "%s,%zu,%s,%.3f,%.3f,%.3f,", rows[row].csv, rows[row].bytes, place_label[p],
                    res->min_us[p][row], med, med / res->median_us[p][PEER_SEQPACKET]);
            if (rows[row].kind == K_DIRECT || rows[row].kind == K_BROKER)
                fprintf(f, "%.3f", res->median_us[p][revive_row(row)] / med);
            fputc('\n', f);
        }
}
