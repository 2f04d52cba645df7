/* rv-ring-consumer.c — the consumer of the `ringbuf` example (ring.h).
 *
 *   rv-ring-consumer [--socket PATH] [--watch event|periodic|both|off]
 *                    [--period-ms N] [--records N] [--report FILE]
 *
 * Attaches the "ring" dataspace, starts librevive's watcher (event mode by
 * default), and consumes records until N were accepted (default: for ever,
 * until SIGTERM). A record is accepted when it carries the current
 * producer's id and a valid check. After every reanimation it scans the
 * whole buffer for records of the producer that died: a stale mapping
 * would show them; the count must stay 0. The summary line (records,
 * reanimations, stale records seen, errors) goes to stdout and to FILE. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "revive/version.h"
#include "revive/cap.h"
#include "revive/dataspace.h"
#include "ring.h"

struct tally {
    unsigned long long accepted, reanimations, stale, errors;
};

static volatile sig_atomic_t stop;

static void on_term(int sig) { (void)sig; stop = 1; }

/* Records of `dead` anywhere in the buffer: a stale mapping would have them. */
static unsigned long long scan_for(const struct ring *r, uint64_t dead)
{
    unsigned long long n = 0;
    for (unsigned i = 0; i < RING_SLOTS; i++)
        n += r->rec[i].producer == dead;
    return n;
}

/* One step: accept the next record, or wait for one (which is where a dead
 * producer is found, if the watcher did not find it first). */
static int step(rv_dataspace *ds, struct ring *r, uint64_t *id, struct tally *t)
{
    if (r->magic == RING_MAGIC && r->producer != *id) {   /* a new buffer under us */
        t->stale += scan_for(r, *id);
        *id = r->producer;
        t->reanimations++;
        return 0;
    }
    uint64_t tail = atomic_load(&r->tail);
    if (r->magic != RING_MAGIC || tail == atomic_load(&r->head)) {
        long w = rv_ds_wait(ds, RING_DATA, 1000);
        return w >= 0 || w == RV_EREVOKED ? 0 : (int)w;
    }
    struct ring_record rec = r->rec[tail % RING_SLOTS];
    if (r->producer != *id)
        return 0;   /* replaced while we read: the next step notices */
    if (rec.producer != *id || rec.seq != tail || rec.check != ring_check(*id, tail))
        t->errors++;
    else
        t->accepted++;
    atomic_store(&r->tail, tail + 1);
    int rc = rv_ds_notify(ds, RING_SPACE);
    return rc == RV_EREVOKED ? 0 : rc;
}

static enum rv_watch_mode parse_mode(const char *s)
{
    return !strcmp(s, "event") ? RV_WATCH_EVENT : !strcmp(s, "periodic") ? RV_WATCH_PERIODIC
         : !strcmp(s, "both") ? RV_WATCH_BOTH : 0;
}

static void report(const char *path, const struct tally *t)
{
    char line[256];
    snprintf(line, sizeof line, "records=%llu reanimations=%llu stale=%llu errors=%llu\n", t->accepted,
             t->reanimations, t->stale, t->errors);
    fputs(line, stdout);
    FILE *f = path ? fopen(path, "w") : NULL;
    if (f) {
        fputs(line, f);
        fclose(f);
    }
}

static int usage(void)
{
    fprintf(stderr, "usage: rv-ring-consumer [--socket PATH] [--watch event|periodic|both|off] "
                    "[--period-ms N] [--records N] [--report FILE]\n");
    return 2;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "socket", required_argument, NULL, 's' }, { "watch", required_argument, NULL, 'w' },
        { "period-ms", required_argument, NULL, 'p' }, { "records", required_argument, NULL, 'n' },
        { "report", required_argument, NULL, 'r' },
        { "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 },
    };
    const char *sock = NULL, *out = NULL, *watch = "event";
    unsigned long long want = 0;
    unsigned period = 10;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's': sock = optarg; break;
        case 'w': watch = optarg; break;
        case 'p': period = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'n': want = strtoull(optarg, NULL, 10); break;
        case 'r': out = optarg; break;
        case 'V': printf("rv-ring-consumer %s\n", REVIVE_VERSION); return 0;
        default: return usage();
        }
    }
    if (strcmp(watch, "off") && !parse_mode(watch))
        return usage();
    signal(SIGTERM, on_term);
    rv_conn *conn;
    rv_dataspace *ds;
    int rc = rv_connect(sock, &conn);
    if (rc == 0 && (rc = rv_ds_attach(conn, RING_NAME, 10000, &ds)) != 0)
        fprintf(stderr, "rv-ring-consumer: attaching '%s': %s\n", RING_NAME, rv_conn_error(conn));
    if (rc == 0 && strcmp(watch, "off") && (rc = rv_watcher_start(parse_mode(watch), period)) != 0)
        fprintf(stderr, "rv-ring-consumer: the watcher: %s\n", rv_strerror(rc));
    if (rc)
        return 1;
    struct ring *r = rv_ds_addr(ds);
    uint64_t id = r->producer;
    struct tally t = { 0 };
    while (!stop && (!want || t.accepted < want) && (rc = step(ds, r, &id, &t)) == 0)
        ;
    if (rc)
        fprintf(stderr, "rv-ring-consumer: %s\n", rv_strerror(rc));
    report(out, &t);
    return rc || t.stale || t.errors ? 1 : 0;
}
