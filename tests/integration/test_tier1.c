/* test_tier1.c — tier 1 in the server runtime (issue 4, item 3): with
 * `.runner = rv_domain_runner` (rv-svc-test-rd) a fault in a request is
 * rolled back inside the live process and the request retried once; a
 * fault that persists gets its client RV_EFAULT while the process serves
 * on; a fault where nothing can be undone escalates to revived's restart.
 * Every fault is a real SIGSEGV in the real service process. */
#include <string.h>
#include "harness.h"
#include "testsvc.h"

#define MANIFEST "[service test]\nexec = rv-svc-test-rd\nssr_size = 256\nmax_restarts = 100 in 10s\n" \
                 "request_timeout = 20s\nheartbeat = 10s\n"

static long long instance_pid(const struct rvd *d, long long *restarts)
{
    struct svc_status st;
    svc_status(d, "test", &st);
    *restarts = st.restarts;
    return st.pid;
}

/* The fault happens once; the retry succeeds: the client sees one
 * increment, exactly once, and the process never restarted. */
static void test_fault_once_retried(void **state)
{
    (void)state;
    struct rvd d;
    rvd_start(&d, MANIFEST);
    rv_session *s = open_session(&d, "test", NULL);
    long long restarts, pid = instance_pid(&d, &restarts);
    assert_int_equal(call_ok(s, TEST_INCR), 1);
    assert_int_equal(call_ok(s, TEST_FAULT_ONCE), 2);
    assert_int_equal(call_ok(s, TEST_GET), 2);
    assert_int_equal(instance_pid(&d, &restarts), pid);
    assert_int_equal(restarts, 0);
    rv_close(s);
    rvd_stop(&d);
}

/* A fault every time: after the retry the client gets RV_EFAULT; the
 * request's logged write to process memory and its SSR change are both
 * undone; another client's session is untouched; no restart. */
static void test_persistent_fault_answered(void **state)
{
    (void)state;
    struct rvd d;
    rvd_start(&d, MANIFEST);
    rv_session *s = open_session(&d, "test", NULL), *other = open_session(&d, "test", NULL);
    long long restarts, pid = instance_pid(&d, &restarts);
    assert_int_equal(call_ok(s, TEST_INCR), 1);
    assert_int_equal(call_ok(other, TEST_INCR), 1);
    uint64_t v;
    assert_int_equal(call_u64(s, TEST_GLOBAL_FAULT, &v), RV_EFAULT);
    assert_int_equal(call_ok(s, TEST_GLOBAL_GET), 0);   /* the logged global is back */
    assert_int_equal(call_ok(s, TEST_GET), 1);          /* and so is the SSR */
    assert_int_equal(call_ok(other, TEST_INCR), 2);
    assert_int_equal(instance_pid(&d, &restarts), pid);
    assert_int_equal(restarts, 0);
    rv_close(other);
    rv_close(s);
    rvd_stop(&d);
}

/* rd_abort(code) is the handler's own error path: answered at once with
 * RV_EAPP_BASE - code, its writes undone. */
static void test_rd_abort_answers_its_code(void **state)
{
    (void)state;
    struct rvd d;
    rvd_start(&d, MANIFEST);
    rv_session *s = open_session(&d, "test", NULL);
    uint64_t v;
    assert_int_equal(call_u64(s, TEST_RD_ABORT, &v), RV_EAPP_BASE - TEST_ABORT_CODE);
    assert_int_equal(call_ok(s, TEST_GET), 0);
    rv_close(s);
    rvd_stop(&d);
}

static bool restarted_twice(const struct svc_status *st, const void *arg)
{
    (void)arg;
    return st->restarts == 2 && strcmp(st->state, "ready") == 0;
}

/* A fault inside an unlogged domain cannot be undone: the runtime writes
 * the crash record and dies, revived restarts it (tier 2) and re-runs the
 * request, which crashes it again and is then poisoned. */
static void test_unsafe_fault_escalates(void **state)
{
    (void)state;
    struct rvd d;
    rvd_start(&d, MANIFEST);
    rv_session *s = open_session(&d, "test", NULL);
    assert_int_equal(call_ok(s, TEST_INCR), 1);
    uint64_t v;
    assert_int_equal(call_u64(s, TEST_UNSAFE_FAULT, &v), RV_EPOISON);
    struct svc_status st;
    wait_status(&d, "test", restarted_twice, NULL, &st);
    assert_non_null(strstr(st.last_exit, "SIGSEGV"));
    assert_int_equal(call_ok(s, TEST_GET), 1);
    rv_close(s);
    rvd_stop(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_fault_once_retried, it_teardown),
        cmocka_unit_test_teardown(test_persistent_fault_answered, it_teardown),
        cmocka_unit_test_teardown(test_rd_abort_answers_its_code, it_teardown),
        cmocka_unit_test_teardown(test_unsafe_fault_escalates, it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
