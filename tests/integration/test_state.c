/* test_state.c — the per-session state a service declares (its size and its
 * layout) against what the manifest gives it and what earlier instances
 * wrote: a service whose state does not fit ssr_size is refused, not run
 * into losing it; an instance never reads an SSR of another layout as its
 * own across an upgrade, unless its migrate hook converts it. */
#include <stdio.h>
#include <string.h>
#include "harness.h"
#include "testsvc.h"

#define POLICY "max_restarts = 100 in 10s\nrequest_timeout = 20s\nheartbeat = 10s\n"

static bool failed(const struct svc_status *st, const void *arg)
{
    (void)arg;
    return strcmp(st->state, "failed") == 0;
}

/* rv-svc-test keeps more than 64 bytes per session. With ssr_size = 0 or
 * 64 its state would not survive a restart: it is refused at its HELLO,
 * failed without a restart, and both the status and an opener say which
 * key to raise and by how much. */
static void refused_with(const char *ssr_size)
{
    struct rvd d;
    char m[512];
    snprintf(m, sizeof m, "[service test]\nexec = rv-svc-test\nssr_size = %s\n" POLICY, ssr_size);
    rvd_start(&d, m);
    struct svc_status st;
    wait_status(&d, "test", failed, NULL, &st);
    char want[64];
    snprintf(want, sizeof want, "ssr_size is %s", ssr_size);
    if (!strstr(st.last_exit, "refused") || !strstr(st.last_exit, want))
        fail_msg("last_exit '%s' does not say the state does not fit %s", st.last_exit, want);
    assert_int_equal(st.restarts, 0);
    rv_conn *c;
    rv_session *s;
    assert_int_equal(rv_connect(d.sock, &c), 0);
    assert_int_equal(rv_open(c, "test", NULL, &s), RV_EFAILED);
    if (!strstr(rv_conn_error(c), "ssr_size"))
        fail_msg("an opener is not told why: '%s'", rv_conn_error(c));
    rv_disconnect(c);
    rvd_stop(&d);
}

static void test_state_over_ssr_size_refused(void **state)
{
    (void)state;
    refused_with("0");
    refused_with("64");
}

/* ---- upgrades: a new layout ---- */

/* The layout rv-svc-test's next instance is built for ("1", "2", "2
 * migrate"), in a file of a directory of the test's own: the manifest must
 * name it before revived's temp dir exists. */
struct build {
    char dir[64], file[128];
};

static void build_as(const struct build *b, const char *layout)
{
    FILE *f = fopen(b->file, "we");
    assert_non_null(f);
    assert_true(fputs(layout, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

static bool restarted_once(const struct svc_status *st, const void *arg)
{
    (void)arg;
    return st->restarts == 1 && strcmp(st->state, "ready") == 0;
}

/* Two sessions count to 3 and 5 on layout 1; then the service is
 * restarted as `next`, as an upgrade is: a new program, the same SSRs. */
static void upgrade(struct rvd *d, struct build *b, rv_session **s, const char *next)
{
    char m[512];
    tempdir_make(b->dir, sizeof b->dir);
    snprintf(b->file, sizeof b->file, "%s/layout", b->dir);
    build_as(b, "1");
    snprintf(m, sizeof m, "[service test]\nexec = rv-svc-test\nssr_size = %d\nargs = --layout-file %s\n" IT_TEST_PATHS POLICY,
             TEST_SSR_SIZE, b->file);
    rvd_start(d, m);
    for (int i = 0; i < 2; i++) {
        s[i] = open_session(d, "test", NULL);
        for (int k = 0; k < 3 + 2 * i; k++)
            call_ok(s[i], TEST_INCR);
    }
    build_as(b, next);
    ctl(d, "restart", "test", NULL);
    struct svc_status st;
    wait_status(d, "test", restarted_once, NULL, &st);
}

static void finish(struct rvd *d, struct build *b, rv_session **s)
{
    rv_close(s[0]);
    rv_close(s[1]);
    rvd_stop(d);
    tempdir_remove(b->dir);
}

/* Layout 2 keeps the counter elsewhere. Read as its own, a layout-1 SSR
 * would count from 0 again: each old session ends with RV_ELOST instead,
 * saying why; a session opened after the upgrade is served. */
static void test_new_layout_without_migrate_loses(void **state)
{
    (void)state;
    struct rvd d;
    struct build b;
    rv_session *s[2];
    upgrade(&d, &b, s, "2");
    for (int i = 0; i < 2; i++) {
        uint64_t v;
        assert_int_equal(call_u64(s[i], TEST_INCR, &v), RV_ELOST);
        if (!strstr(rv_session_error(s[i]), "layout 1") || !strstr(rv_session_error(s[i]), "layout 2"))
            fail_msg("unclear error for an SSR of another layout: '%s'", rv_session_error(s[i]));
    }
    rv_session *fresh = open_session(&d, "test", NULL);
    assert_int_equal(call_ok(fresh, TEST_INCR), 1);
    rv_close(fresh);
    struct svc_status st;
    svc_status(&d, "test", &st);
    assert_int_equal(st.requests_failed, 2);   /* the two lost sessions */
    finish(&d, &b, s);
}

/* With a migrate hook the new instance converts each SSR once, and every
 * session carries on where it was — also across a later crash, which finds
 * the SSR already in the new layout. */
static void test_new_layout_migrated(void **state)
{
    (void)state;
    struct rvd d;
    struct build b;
    rv_session *s[2];
    upgrade(&d, &b, s, "2 migrate");
    assert_int_equal(call_ok(s[0], TEST_INCR), 4);
    assert_int_equal(call_ok(s[1], TEST_INCR), 6);
    ctl(&d, "kill", "test", "SEGV");
    assert_int_equal(call_ok(s[0], TEST_INCR), 5);
    assert_int_equal(call_ok(s[1], TEST_INCR), 7);
    finish(&d, &b, s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_state_over_ssr_size_refused, it_teardown),
        cmocka_unit_test_teardown(test_new_layout_without_migrate_loses, it_teardown),
        cmocka_unit_test_teardown(test_new_layout_migrated, it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
