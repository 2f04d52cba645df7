/* rv-random — prints N numbers from the `random` service, seeded with S.
 * The output depends only on the seed, however often the service is killed
 * while it runs: the property the demo and the tests check. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "random.h"
#include "revive/version.h"
#include "revive/client.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: rv-random [--socket PATH] --seed S --count N\n"
               "  prints N 64-bit numbers of the sequence seeded with S, one per line\n");
}

static int parse_u64(const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    *v = strtoull(s, &end, 0);
    return errno || end == s || *end || s[0] == '-' ? -1 : 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "socket", required_argument, NULL, 's' }, { "seed", required_argument, NULL, 'e' },
        { "count", required_argument, NULL, 'c' },  { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    const char *sock = NULL, *seed = NULL;
    uint64_t count = 0, seedv;
    int have_count = 0, c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's': sock = optarg; break;
        case 'e': seed = optarg; break;
        case 'c':
            if (parse_u64(optarg, &count) < 0) {
                fprintf(stderr, "rv-random: --count must be a non-negative integer, not '%s'\n", optarg);
                return 2;
            }
            have_count = 1;
            break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("rv-random %s\n", REVIVE_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!seed || !have_count || optind < argc || parse_u64(seed, &seedv) < 0) {
        fprintf(stderr, "rv-random: %s\n", !seed || !have_count ? "--seed and --count are required"
                                                               : "--seed must be a non-negative integer");
        usage(stderr);
        return 2;
    }
    rv_conn *conn;
    rv_session *s;
    char args[64];
    snprintf(args, sizeof args, "seed=%" PRIu64, seedv);
    int rc = rv_connect(sock, &conn);
    if (rc < 0) {
        char buf[128];
        fprintf(stderr, "rv-random: cannot reach revived at %s: %s\n",
                sock ? sock : rv_default_socket(buf, sizeof buf), strerror(errno));
        return 1;
    }
    if ((rc = rv_open(conn, "random", args, &s)) < 0) {
        fprintf(stderr, "rv-random: cannot open a session with 'random': %s\n", rv_conn_error(conn));
        rv_disconnect(conn);
        return 1;
    }
    rv_disconnect(conn);
    for (uint64_t i = 0; i < count; i++) {
        uint64_t v;
        size_t len;
        rc = rv_call(s, RANDOM_NEXT, NULL, 0, &v, sizeof v, &len);
        if (rc < 0 || len != sizeof v) {
            fprintf(stderr, "rv-random: call %" PRIu64 " failed: %s\n", i + 1,
                    rc < 0 ? rv_session_error(s) : "short reply");
            rv_close(s);
            return 1;
        }
        printf("%" PRIu64 "\n", v);
    }
    rv_close(s);
    return fflush(stdout) == 0 ? 0 : 1;
}
