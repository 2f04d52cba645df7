/* counter_client.c — a client built outside revive's tree with
 * `pkg-config --cflags --libs revive` alone: counts to 2, then sends SLOW
 * (the test kills the service while it runs) and counts on. Prints each
 * reply; exits 0 if every call returned exactly the next number: the
 * interrupted request ran once, across the kill.
 *
 *   counter_client SOCKET */
#include <stdint.h>
#include <stdio.h>
#include <revive/client.h>
#include <revive/version.h>

static int call(rv_session *s, uint32_t op, uint64_t want)
{
    uint64_t v = 0;
    size_t len = 0;
    int rc = rv_call(s, op, NULL, 0, &v, sizeof v, &len);
    printf("op %u: %d %llu\n", op, rc, (unsigned long long)v);
    if (rc != 0 || len != sizeof v || v != want) {
        fprintf(stderr, "counter_client: op %u returned %d (%s), %llu; expected %llu\n", op, rc,
                rv_session_error(s), (unsigned long long)v, (unsigned long long)want);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    rv_conn *c;
    rv_session *s;
    if (argc != 2 || rv_connect(argv[1], &c) != 0 || rv_open(c, "counter", NULL, &s) != 0) {
        fprintf(stderr, "counter_client (revive %s): cannot open a session with 'counter'\n", REVIVE_VERSION);
        return 1;
    }
    int bad = call(s, 1, 1) || call(s, 1, 2) || call(s, 2, 3) || call(s, 1, 4);
    rv_close(s);
    rv_disconnect(c);
    return bad ? 1 : 0;
}
