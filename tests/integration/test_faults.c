/* test_faults.c — faults from inside the service: hangs, requests that
 * crash it every time, a corrupt SSR, wild writes into another client's
 * SSR, and a service that crashes too often. Each fault costs its own
 * client alone; every other client is served correctly meanwhile. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "harness.h"
#include "testsvc.h"

/* A short request_timeout so a hang is caught quickly; heartbeats stay
 * slower, so a hung request is blamed by its deadline. */
#define HANG_POLICY "max_restarts = 100 in 10s\nrequest_timeout = 300ms\nheartbeat = 1s\n"
#define CRASH_POLICY "max_restarts = 100 in 10s\nrequest_timeout = 20s\nheartbeat = 10s\n"

static void start(struct rvd *d, const char *policy)
{
    char m[512];
    rvd_start(d, manifest_test(m, sizeof m, policy));
}

static void expect_call(rv_session *s, uint32_t op, int want)
{
    uint64_t v;
    int rc = call_u64(s, op, &v);
    if (rc != want)
        fail_msg("op %u: status %d (%s), expected %d", op, rc, rv_session_error(s), want);
}

/* The faulting request fails alone while a crew of clients keeps calling,
 * and the faulting client's session goes on afterwards. */
static void fault_alone(const char *policy, uint32_t op, int want, long long restarts, const char *exit_note)
{
    struct rvd d;
    start(&d, policy);
    rv_session *s = open_session(&d, "test", NULL);
    assert_int_equal(call_ok(s, TEST_INCR), 1);
    struct crew crew;
    crew_start(&crew, &d, 3);
    crew_wait_progress(&crew, 10);
    expect_call(s, op, want);
    crew_wait_progress(&crew, 10);
    crew_stop(&crew);
    assert_int_equal(call_ok(s, TEST_INCR), 2);
    rv_close(s);
    struct svc_status st;
    svc_status(&d, "test", &st);
    assert_int_equal(st.restarts, restarts);
    assert_true(st.requests_failed >= 1);
    if (!strstr(st.last_exit, exit_note))
        fail_msg("last_exit '%s' does not mention '%s'", st.last_exit, exit_note);
    rvd_stop(&d);
}

static void test_poison_segv(void **state)
{
    (void)state;
    fault_alone(CRASH_POLICY, TEST_POISON, RV_EPOISON, 2, "SIGSEGV");
}

static void test_poison_abort(void **state)
{
    (void)state;
    fault_alone(CRASH_POLICY, TEST_ABORT, RV_EPOISON, 2, "SIGABRT");
}

/* A SIGKILL leaves no crash record, but a request that makes the process
 * die by it (as the OOM killer would) is still its culprit: the busy slot
 * names it, and the second death poisons it. */
static void test_poison_sigkill(void **state)
{
    (void)state;
    fault_alone(CRASH_POLICY, TEST_SELF_KILL, RV_EPOISON, 2, "SIGKILL");
}

/* Nor does a system call the seccomp filter forbids (docs/sandbox.md): the
 * kernel kills the process at once. It is blamed as a SIGKILL is. */
static void test_poison_forbidden_call(void **state)
{
    (void)state;
    fault_alone(CRASH_POLICY, TEST_FORBIDDEN, RV_EPOISON, 2, "SIGSYS (a system call its seccomp filter forbids)");
}

static void test_hang_op(void **state)
{
    (void)state;
    fault_alone(HANG_POLICY, TEST_HANG, RV_EPOISON, 2, "hang");
}

/* SIGSTOPs the instance under `policy` and checks the next call is served by
 * a new one, the old one's exit naming `why`. */
static void stop_and_recover(const char *policy, const char *why)
{
    struct rvd d;
    start(&d, policy);
    rv_session *s = open_session(&d, "test", NULL);
    assert_int_equal(call_ok(s, TEST_INCR), 1);
    ctl(&d, "kill", "test", "STOP");
    assert_int_equal(call_ok(s, TEST_INCR), 2);
    struct svc_status st;
    svc_status(&d, "test", &st);
    assert_int_equal(st.restarts, 1);
    if (!strstr(st.last_exit, why))
        fail_msg("last_exit '%s' does not mention '%s'", st.last_exit, why);
    rv_close(s);
    rvd_stop(&d);
}

/* SIGSTOP from outside: the watchdog sees missed heartbeats, kills and
 * restarts the instance; the stopped client's call completes normally. */
static void test_hang_stop(void **state)
{
    (void)state;
    stop_and_recover("request_timeout = 300ms\nheartbeat = 200ms\n", "hang");
}

/* SEGV, then STOP at once (the README tour's order): the STOP lands on the
 * instance that is starting in the crashed one's place, before it is
 * ready, where no heartbeat reaches it. It is found stopped at the
 * watchdog's next look, not after start_timeout (20 s here), and the next
 * instance serves the session. The instance is held in its init (the
 * --init-fifo) so that the STOP certainly lands before READY. */
static void test_stop_while_starting(void **state)
{
    (void)state;
    char dir[64], fifo[128], m[512], extra[256];
    tempdir_make(dir, sizeof dir);
    snprintf(fifo, sizeof fifo, "%s/init", dir);
    snprintf(extra, sizeof extra, "args = --init-fifo %s\nstart_timeout = 20s\n" CRASH_POLICY, fifo);
    struct rvd d;
    rvd_start(&d, manifest_test(m, sizeof m, extra));
    rv_session *s = open_session(&d, "test", NULL);
    assert_int_equal(call_ok(s, TEST_INCR), 1);
    it_mkfifo(fifo);
    int f = open(fifo, O_RDWR | O_CLOEXEC);
    assert_true(f >= 0);
    ctl(&d, "kill", "test", "SEGV");
    char b;
    assert_int_equal(read(f, &b, 1), 1);   /* the next instance is in its init */
    ctl(&d, "kill", "test", "STOP");
    unlink(fifo);                          /* the one after it starts unhindered */
    assert_int_equal(call_ok(s, TEST_INCR), 2);
    struct svc_status st;
    svc_status(&d, "test", &st);
    if (!strstr(st.last_exit, "stopped while starting"))
        fail_msg("last_exit '%s' does not say the instance was found stopped", st.last_exit);
    close(f);
    rv_close(s);
    rvd_stop(&d);
    tempdir_remove(dir);
}

/* Without a heartbeat, a stopped instance is found only by revived's watch
 * for unserved requests: one is queued, the instance is idle, and the
 * session's completed seq does not move for request_timeout. */
static void test_unserved_request(void **state)
{
    (void)state;
    stop_and_recover("request_timeout = 300ms\nheartbeat = 0\n", "unserved");
}

/* CORRUPT breaks its own SSR's magic: validate, run before the commit,
 * rejects it, so the instance fails stop, the re-run does the same, and the
 * request is poisoned; the corrupt state is never committed, the session
 * keeps its counter, and the other session does not notice. */
static void test_corrupt_ssr_never_committed(void **state)
{
    (void)state;
    struct rvd d;
    start(&d, CRASH_POLICY);
    rv_session *bad = open_session(&d, "test", NULL), *good = open_session(&d, "test", NULL);
    assert_int_equal(call_ok(bad, TEST_INCR), 1);
    assert_int_equal(call_ok(good, TEST_INCR), 1);
    expect_call(bad, TEST_CORRUPT, RV_EPOISON);
    assert_int_equal(call_ok(bad, TEST_INCR), 2);
    assert_int_equal(call_ok(good, TEST_INCR), 2);
    struct svc_status st;
    svc_status(&d, "test", &st);
    assert_int_equal(st.restarts, 2);
    rv_close(bad);
    rv_close(good);
    rvd_stop(&d);
}

static bool restarted(const struct svc_status *st, const void *arg)
{
    (void)arg;
    return st->restarts == 1 && strcmp(st->state, "ready") == 0;
}

/* A service whose audit fails at a heartbeat (its own views are broken,
 * though it answers) is restarted, and its sessions carry on. */
static void test_failed_audit_restarts(void **state)
{
    (void)state;
    struct rvd d;
    start(&d, "max_restarts = 100 in 10s\nrequest_timeout = 20s\nheartbeat = 100ms\n");
    rv_session *s = open_session(&d, "test", NULL);
    assert_int_equal(call_ok(s, TEST_INCR), 1);
    assert_int_equal(call_ok(s, TEST_SPOIL_AUDIT), 1);
    struct svc_status st;
    wait_status(&d, "test", restarted, NULL, &st);
    assert_non_null(strstr(st.last_exit, "SIGABRT"));
    assert_int_equal(call_ok(s, TEST_INCR), 2);
    rv_close(s);
    rvd_stop(&d);
}

/* WILD writes into the victim's SSR. Under mprotect the write faults, so
 * the writer's request is the culprit and is poisoned; under checksum the
 * victim's committed state is restored before its next request. Either
 * way the victim's counter is intact. */
static void wild_write(const char *protect, int want, long long restarts)
{
    struct rvd d;
    char policy[256];
    snprintf(policy, sizeof policy, CRASH_POLICY "ssr_protect = %s\n", protect);
    start(&d, policy);
    rv_session *victim = open_session(&d, "test", NULL), *writer = open_session(&d, "test", NULL);
    for (uint64_t i = 1; i <= 3; i++)
        assert_int_equal(call_ok(victim, TEST_INCR), i);
    expect_call(writer, TEST_WILD, want);
    assert_int_equal(call_ok(victim, TEST_GET), 3);
    assert_int_equal(call_ok(victim, TEST_INCR), 4);
    struct svc_status st;
    svc_status(&d, "test", &st);
    assert_int_equal(st.restarts, restarts);
    rv_close(victim);
    rv_close(writer);
    rvd_stop(&d);
}

static void test_wild_mprotect(void **state)
{
    (void)state;
    wild_write("mprotect", RV_EPOISON, 2);
}

static void test_wild_checksum(void **state)
{
    (void)state;
    wild_write("checksum", 0, 0);
}

/* A restart recovers an idle session when it is next used, not at once
 * (the runtime's rv__sess_check): the victim of a wild write, idle when the
 * instance is killed, still reads its committed counter. With ssr_protect
 * = none no check before a request would repair it, and without a recover
 * hook nothing recovers it at the restart: only that first use. With a new
 * process, and with a standby that held the sessions before the crash. */
static void wild_then_crash(const char *extra)
{
    struct rvd d;
    char policy[256];
    snprintf(policy, sizeof policy, CRASH_POLICY "ssr_protect = none\nargs = --no-recover-hook\n%s", extra);
    start(&d, policy);
    rv_session *victim = open_session(&d, "test", NULL), *writer = open_session(&d, "test", NULL);
    for (uint64_t i = 1; i <= 3; i++)
        assert_int_equal(call_ok(victim, TEST_INCR), i);
    assert_int_equal(call_ok(writer, TEST_WILD), 0);
    struct svc_status st;
    if (strstr(extra, "standby"))
        wait_status(&d, "test", status_standby_ready, NULL, &st);
    ctl(&d, "kill", "test", "KILL");
    wait_status(&d, "test", restarted, NULL, &st);
    assert_int_equal(call_ok(victim, TEST_GET), 3);
    assert_int_equal(call_ok(victim, TEST_INCR), 4);
    assert_int_equal(call_ok(writer, TEST_INCR), 1);
    rv_close(victim);
    rv_close(writer);
    rvd_stop(&d);
}

static void test_wild_then_crash(void **state)
{
    (void)state;
    wild_then_crash("");
}

static void test_wild_then_crash_standby(void **state)
{
    (void)state;
    wild_then_crash("standby = yes\n");
}

/* A journal sized by the manifest holds no more. max_request = 16: a
 * longer request is answered RV_ETOOBIG without running (the counter shows
 * it never ran), one of 16 bytes is served. max_reply = 4: the counter's 8
 * bytes are refused to the handler, whose status the client gets. The
 * session carries on, the service is never restarted. */
static void test_request_and_reply_limits(void **state)
{
    (void)state;
    uint8_t req[17] = { 0 }, reply[8];
    size_t len;
    struct svc_status st;
    const char *limits[] = { "max_request = 16\n", "max_reply = 4\n" };
    for (int i = 0; i < 2; i++) {
        struct rvd d;
        char policy[256];
        snprintf(policy, sizeof policy, CRASH_POLICY "%s", limits[i]);
        start(&d, policy);
        rv_session *s = open_session(&d, "test", NULL);
        if (i == 0) {
            assert_int_equal(rv_call(s, TEST_INCR, req, sizeof req, reply, sizeof reply, &len), RV_ETOOBIG);
            assert_int_equal(rv_call(s, TEST_INCR, req, 16, reply, sizeof reply, &len), 0);
            assert_int_equal(len, 8);
            assert_int_equal(call_ok(s, TEST_GET), 1);
        } else {
            assert_int_equal(rv_call(s, TEST_INCR, NULL, 0, reply, sizeof reply, &len), RV_ETOOBIG);
            assert_int_equal(rv_call(s, TEST_GET, NULL, 0, reply, sizeof reply, &len), RV_ETOOBIG);
        }
        svc_status(&d, "test", &st);
        assert_int_equal(st.restarts, 0);
        rv_close(s);
        rvd_stop(&d);
    }
}

/* ---- restart intensity ---- */

/* A request whose instance is stopped from outside (SIGSTOP) past
 * request_timeout: the instance is killed as hung, but a stopped process
 * runs nothing of the request, so the request is no culprit. Its re-run
 * then hangs in its handler by itself (blamed once), and its third run
 * answers, where two blames would have poisoned it (RV_EPOISON). What fs on
 * blk met when the killer stopped them in turn. */
static void test_stopped_request_is_no_culprit(void **state)
{
    (void)state;
    struct rvd d;
    start(&d, "request_timeout = 1s\nheartbeat = 10s\nmax_restarts = 100 in 10s\n");
    struct fifo f;
    char args[160];
    fifo_make(&d, "slow.fifo", &f);
    snprintf(args, sizeof args, "fifo=%s", f.path);
    struct slow_call c = { .s = open_session(&d, "test", args) };
    slow_call_start(&c);
    fifo_wait(&f);   /* the request is in its handler: stopped well within 1 s */
    ctl(&d, "kill", "test", "STOP");
    fifo_wait(&f);   /* its re-run blocks in the handler past 1 s: a hang of its own */
    unlink(f.path);  /* the third run does not block */
    pthread_join(c.th, NULL);
    fifo_close(&f);
    assert_int_equal(c.rc, 0);
    assert_int_equal(call_ok(c.s, TEST_GET), 1);
    struct svc_status st;
    svc_status(&d, "test", &st);
    assert_int_equal(st.restarts, 2);
    if (!strstr(st.last_exit, "exceeded request_timeout"))
        fail_msg("last_exit '%s' does not say the re-run hung", st.last_exit);
    rv_close(c.s);
    rvd_stop(&d);
}

struct open_call {
    pthread_t th;
    const struct rvd *d;
    rv_session *s;
    int rc;
};

static void *open_main(void *arg)
{
    struct open_call *o = arg;
    rv_conn *c;
    o->rc = rv_connect(o->d->sock, &c);
    if (o->rc == 0) {
        o->rc = rv_open(c, "test", NULL, &o->s);
        rv_disconnect(c);
    }
    return NULL;
}

static bool sessions_are(const struct svc_status *st, const void *arg)
{
    return st->sessions == *(const long long *)arg;
}

/* SIGKILLs an instance 50 times while it serves a request and has a BIND
 * of revived's unread in its control channel, so that revived reads the
 * dead channel as "reset" before or after its pidfd fires. A death is a
 * death: every LAST-EXIT names SIGKILL (never a protocol violation revived
 * made up), every interrupted request completes once, every pending open
 * is bound by the next instance. */
static void test_sigkill_is_a_crash(void **state)
{
    (void)state;
    struct rvd d;
    start(&d, CRASH_POLICY);
    char args[160];
    struct fifo f;
    rvd_file(&d, "slow.fifo", f.path, sizeof f.path);
    snprintf(args, sizeof args, "fifo=%s", f.path);
    struct slow_call c = { .s = open_session(&d, "test", args) };
    for (long long i = 1; i <= 50; i++) {
        fifo_make(&d, "slow.fifo", &f);
        slow_call_start(&c);
        fifo_wait(&f);
        struct open_call o = { .d = &d };
        assert_int_equal(pthread_create(&o.th, NULL, open_main, &o), 0);
        long long two = 2;
        struct svc_status st;
        wait_status(&d, "test", sessions_are, &two, &st);   /* the BIND is sent, unread */
        fifo_close(&f);   /* the re-run completes at once */
        ctl(&d, "kill", "test", "KILL");
        pthread_join(c.th, NULL);
        pthread_join(o.th, NULL);
        assert_int_equal(c.rc, 0);
        assert_int_equal(o.rc, 0);
        rv_close(o.s);
        svc_status(&d, "test", &st);
        if (strcmp(st.last_exit, "killed by SIGKILL") != 0)
            fail_msg("kill %lld: last_exit '%s', not 'killed by SIGKILL'", i, st.last_exit);
        assert_int_equal(st.restarts, i);
        assert_int_equal(call_ok(c.s, TEST_GET), i);
    }
    rv_close(c.s);
    rvd_stop(&d);
}

/* max_restarts = 2: the third kill fails the service. The FIFO stays, so
 * every re-run of SLOW_INCR blocks again and the call is in flight at each
 * kill; when the service fails, that call and every other call of a bound
 * session return RV_ELOST (their state went with the service), and a new
 * open gets RV_EFAILED. */
static void test_intensity(void **state)
{
    (void)state;
    struct rvd d;
    start(&d, "max_restarts = 2 in 1min\nrequest_timeout = 20s\nheartbeat = 10s\n");
    struct fifo f;
    char args[160];
    fifo_make(&d, "slow.fifo", &f);
    snprintf(args, sizeof args, "fifo=%s", f.path);
    rv_session *idle = open_session(&d, "test", NULL);
    struct slow_call c = { .s = open_session(&d, "test", args) };
    slow_call_start(&c);
    for (int i = 0; i < 3; i++) {
        fifo_wait(&f);
        ctl(&d, "kill", "test", "KILL");
    }
    pthread_join(c.th, NULL);
    fifo_close(&f);
    assert_int_equal(c.rc, RV_ELOST);
    expect_call(idle, TEST_INCR, RV_ELOST);
    const char *why = rv_session_error(idle);
    if (!strstr(why, "'test' has failed") || !strstr(why, "state"))
        fail_msg("unclear error for a session whose service failed: '%s'", why);
    struct svc_status st;
    svc_status(&d, "test", &st);
    assert_string_equal(st.state, "failed");
    rv_conn *conn;
    rv_session *s;
    assert_int_equal(rv_connect(d.sock, &conn), 0);
    assert_int_equal(rv_open(conn, "test", NULL, &s), RV_EFAILED);
    if (!strstr(rv_conn_error(conn), "failed") || !strstr(rv_conn_error(conn), "test"))
        fail_msg("unclear error for opening a failed service: '%s'", rv_conn_error(conn));
    rv_disconnect(conn);
    rv_close(c.s);
    rv_close(idle);
    rvd_stop(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_poison_segv, it_teardown),
        cmocka_unit_test_teardown(test_poison_abort, it_teardown),
        cmocka_unit_test_teardown(test_poison_sigkill, it_teardown),
        cmocka_unit_test_teardown(test_poison_forbidden_call, it_teardown),
        cmocka_unit_test_teardown(test_sigkill_is_a_crash, it_teardown),
        cmocka_unit_test_teardown(test_hang_op, it_teardown),
        cmocka_unit_test_teardown(test_hang_stop, it_teardown),
        cmocka_unit_test_teardown(test_stopped_request_is_no_culprit, it_teardown),
        cmocka_unit_test_teardown(test_stop_while_starting, it_teardown),
        cmocka_unit_test_teardown(test_unserved_request, it_teardown),
        cmocka_unit_test_teardown(test_corrupt_ssr_never_committed, it_teardown),
        cmocka_unit_test_teardown(test_failed_audit_restarts, it_teardown),
        cmocka_unit_test_teardown(test_wild_mprotect, it_teardown),
        cmocka_unit_test_teardown(test_wild_checksum, it_teardown),
        cmocka_unit_test_teardown(test_wild_then_crash, it_teardown),
        cmocka_unit_test_teardown(test_request_and_reply_limits, it_teardown),
        cmocka_unit_test_teardown(test_wild_then_crash_standby, it_teardown),
        cmocka_unit_test_teardown(test_intensity, it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
