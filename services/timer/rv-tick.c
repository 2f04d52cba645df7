/* rv-tick — registers a periodic timer with the `timer` service and prints
 * each notification with the expirations it carried, then the total and the
 * elapsed time. Across service restarts the total must equal
 * elapsed / period (within one): nothing lost, nothing counted twice. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "revive/version.h"
#include "revive/client.h"
#include "timer.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: rv-tick [--socket PATH] --period-ms P --count N\n"
               "  waits for N notifications of a P-millisecond periodic timer\n");
}

static int parse_pos(const char *s, long max, long *v)
{
    char *end;
    errno = 0;
    *v = strtol(s, &end, 10);
    return errno || end == s || *end || *v <= 0 || *v > max ? -1 : 0;
}

/* Waits until the notifier fires or the session has something to say (a
 * notice that the service failed), then asks for the expirations. */
static int wait_and_ack(rv_session *s, int efd, uint64_t *fresh)
{
    struct pollfd p[2] = { { .fd = efd, .events = POLLIN }, { .fd = rv_session_fd(s), .events = POLLIN } };
    while (poll(p, 2, -1) < 0)
        if (errno != EINTR)
            return RV_EIO;
    uint64_t v;
    if (p[0].revents & POLLIN) {
        ssize_t r = read(efd, &v, sizeof v);
        (void)r;
    }
    size_t len;
    int rc = rv_call(s, TIMER_ACK, NULL, 0, fresh, sizeof *fresh, &len);
    return rc == 0 && len != sizeof *fresh ? RV_EPROTO : rc;
}

static int run(const char *sock, long period_ms, long count)
{
    rv_conn *conn;
    rv_session *s;
    if (rv_connect(sock, &conn) < 0) {
        char buf[128];
        fprintf(stderr, "rv-tick: cannot reach revived at %s: %s\n",
                sock ? sock : rv_default_socket(buf, sizeof buf), strerror(errno));
        return 1;
    }
    int rc = rv_open(conn, "timer", NULL, &s);
    if (rc < 0) {
        fprintf(stderr, "rv-tick: cannot open a session with 'timer': %s\n", rv_conn_error(conn));
        rv_disconnect(conn);
        return 1;
    }
    rv_disconnect(conn);
    struct timer_start st = { .period_ns = (uint64_t)period_ms * 1000000ull, .start_ns = now_ns() };
    int efd = -1;
    rc = rv_call_fd(s, TIMER_START, &st, sizeof st, NULL, 0, NULL, &efd);
    if (rc < 0 || efd < 0) {
        fprintf(stderr, "rv-tick: cannot start the timer: %s\n", rc < 0 ? rv_session_error(s) : "no notifier");
        rv_close(s);
        return 1;
    }
    uint64_t total = 0;
    for (long n = 0; n < count;) {
        uint64_t fresh;
        if ((rc = wait_and_ack(s, efd, &fresh)) < 0) {
            fprintf(stderr, "rv-tick: %s\n", rv_session_error(s));
            break;
        }
        if (fresh == 0)
            continue;   /* a repeated wake-up after a restart: nothing new */
        total += fresh;
        printf("notification %ld: %" PRIu64 " expiration%s\n", ++n, fresh, fresh == 1 ? "" : "s");
        fflush(stdout);
    }
    double elapsed = (double)(now_ns() - st.start_ns) / 1e9;
    if (rc >= 0)
        printf("total %" PRIu64 " expirations in %.3f s (period %ld ms, elapsed/period %.2f)\n", total,
               elapsed, period_ms, elapsed * 1000.0 / (double)period_ms);
    close(efd);
    rv_close(s);
    return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "socket", required_argument, NULL, 's' }, { "period-ms", required_argument, NULL, 'p' },
        { "count", required_argument, NULL, 'c' },  { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    const char *sock = NULL;
    long period = 0, count = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's': sock = optarg; break;
        case 'p':
            if (parse_pos(optarg, 86400000, &period) < 0) {
                fprintf(stderr, "rv-tick: --period-ms must be 1..86400000, not '%s'\n", optarg);
                return 2;
            }
            break;
        case 'c':
            if (parse_pos(optarg, 1000000000, &count) < 0) {
                fprintf(stderr, "rv-tick: --count must be a positive integer, not '%s'\n", optarg);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("rv-tick %s\n", REVIVE_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!period || !count || optind < argc) {
        fprintf(stderr, "rv-tick: --period-ms and --count are required\n");
        usage(stderr);
        return 2;
    }
    return run(sock, period, count);
}
