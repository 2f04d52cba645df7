/* test_limits.c — revived out of descriptors.
 *
 * This program lowers the RLIMIT_NOFILE of the revived it starts, hard
 * limit included (prlimit: the test's own clients hold a descriptor per
 * session too, and must not run out first). Clients then open sessions
 * until revived has no descriptor left. What must hold: a connection revived has
 * no room for is refused (accepted and closed at once, not left to spin the
 * loop or hang its client); a service that crashes still restarts (revived
 * keeps descriptors in reserve for that); existing sessions keep working;
 * and once clients let go, opens work again. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "harness.h"
#include "testsvc.h"

#define NOFILE 160
#define FLOOD 40
#define MAX_SESSIONS NOFILE

static void test_exhaustion(void **state)
{
    (void)state;
    struct rvd d;
    char m[512];
    rvd_start(&d, manifest_test(m, sizeof m, "max_restarts = 100 in 10s\n"));
    struct rlimit rl = { NOFILE, NOFILE };
    assert_int_equal(prlimit(d.pid, RLIMIT_NOFILE, &rl, NULL), 0);
    rv_session *steady = open_session(&d, "test", NULL), *culprit = open_session(&d, "test", NULL);
    assert_int_equal(call_ok(steady, TEST_INCR), 1);

    rv_conn *c;
    assert_int_equal(rv_connect(d.sock, &c), 0);
    rv_session *fill[MAX_SESSIONS];
    size_t n = 0;
    while (n < MAX_SESSIONS && rv_open(c, "test", NULL, &fill[n]) == 0)
        n++;
    assert_true(n < MAX_SESSIONS);   /* revived ran out, with a reason */
    assert_non_null(strstr(rv_conn_error(c), "cannot create a session"));

    rv_conn *flood[FLOOD];
    for (size_t i = 0; i < FLOOD; i++) {
        rv_session *s;
        assert_int_equal(rv_connect(d.sock, &flood[i]), 0);
        assert_int_not_equal(rv_open(flood[i], "test", NULL, &s), 0);   /* refused, not hung */
    }

    uint64_t v;
    assert_int_equal(call_u64(culprit, TEST_ABORT, &v), RV_EPOISON);   /* two restarts happened */
    assert_int_equal(call_ok(steady, TEST_INCR), 2);

    for (size_t i = 0; i < FLOOD; i++)
        rv_disconnect(flood[i]);
    for (size_t i = 0; i < n; i++)
        rv_close(fill[i]);
    rv_disconnect(c);
    rv_session *after = open_session(&d, "test", NULL);
    assert_int_equal(call_ok(after, TEST_INCR), 1);
    rv_close(after);
    rv_close(culprit);
    rv_close(steady);
    rvd_stop(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_exhaustion, it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
