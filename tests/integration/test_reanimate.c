/* test_reanimate.c — client reanimation (tier 3): sessions a
 * `state = stateless` service loses when it is killed come back through
 * librevive's capability faults, transparently to the caller; a custom
 * handler restores the client's server-side state; a service that cannot
 * come back gives a clear error in bounded time. Every case kills the real
 * service process. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"
#include "random.h"
#include "registry.h"
#include "revive/cap.h"
#include "testsvc.h"

#define STATELESS "state = stateless\nmax_restarts = 100 in 10s\nrequest_timeout = 20s\nheartbeat = 10s\n"

static bool restarted(const struct svc_status *st, const void *arg)
{
    return st->restarts == *(const long long *)arg && strcmp(st->state, "ready") == 0;
}

static void kill_svc_and_wait(const struct rvd *d, const char *svc, long long restarts)
{
    struct svc_status st;
    ctl(d, "kill", svc, "KILL");
    wait_status(d, svc, restarted, &restarts, &st);
}

static void kill_and_wait(const struct rvd *d, long long restarts) { kill_svc_and_wait(d, "test", restarts); }

/* A call after the restart faults on the revoked session, the generic
 * handler re-opens it onto the same descriptor, and the call is retried
 * there: the caller sees a fresh counter, no error. */
static void test_session_reanimated(void **state)
{
    (void)state;
    struct rvd d;
    char m[512];
    rvd_start(&d, manifest_test(m, sizeof m, STATELESS));
    rv_session *s = open_session(&d, "test", NULL);
    int fd = rv_session_fd(s);
    assert_int_equal(call_ok(s, TEST_INCR), 1);
    assert_int_equal(call_ok(s, TEST_INCR), 2);
    kill_and_wait(&d, 1);
    assert_int_equal(call_ok(s, TEST_INCR), 1);   /* stateless: the new session starts at 0 */
    assert_int_equal(rv_session_fd(s), fd);
    struct rv_cap_info info;
    assert_int_equal(rv_cap_info(fd, &info), 0);
    assert_int_equal(info.kind, RV_CAP_SESSION);
    assert_string_equal(info.name, "test");
    assert_int_equal(info.generation, 1);
    assert_int_equal(info.faults, 1);
    kill_and_wait(&d, 2);
    assert_int_equal(call_ok(s, TEST_INCR), 1);
    assert_int_equal(rv_cap_info(fd, &info), 0);
    assert_int_equal(info.generation, 2);
    rv_close(s);
    rvd_stop(&d);
}

/* The paper's second case: the caller is blocked in the call when the
 * service dies; revived's revocation cancels it, and the retried call
 * completes on the reanimated session. */
static void test_blocked_call_reanimated(void **state)
{
    (void)state;
    struct rvd d;
    char m[512], args[160], path[128];
    rvd_start(&d, manifest_test(m, sizeof m, STATELESS));
    snprintf(args, sizeof args, "fifo=%s", rvd_file(&d, "sync.fifo", path, sizeof path));
    rv_session *s = open_session(&d, "test", args);
    struct fifo f;
    fifo_make(&d, "sync.fifo", &f);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {   /* the blocked caller, in its own process */
        uint64_t v = 0;
        int rc = call_u64(s, TEST_SLOW_INCR, &v);
        _exit(rc == 0 && v == 1 ? 0 : 1);
    }
    fifo_wait(&f);   /* SLOW_INCR is running: the caller is blocked */
    fifo_close(&f);  /* the retried SLOW_INCR must not block */
    ctl(&d, "kill", "test", "KILL");
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    rv_close(s);
    rvd_stop(&d);
}

/* A custom handler (what a service's client library registers): the
 * generic re-open, then the client's server-side state is restored. */
struct restore {
    rv_session *s;
    uint64_t count;    /* what the client had put on the server */
    int runs;
};

static int restore_counter(int fd, int err, void *arg)
{
    struct restore *r = arg;
    r->runs++;
    int rc = rv_cap_reopen(fd, err);
    for (uint64_t i = 0; rc == 0 && i < r->count; i++) {
        uint64_t v;
        rc = call_u64(r->s, TEST_INCR, &v);
    }
    return rc;
}

static void test_custom_handler_restores(void **state)
{
    (void)state;
    struct rvd d;
    char m[512];
    rvd_start(&d, manifest_test(m, sizeof m, STATELESS));
    rv_session *s = open_session(&d, "test", NULL);
    struct restore r = { .s = s };
    assert_int_equal(rv_cap_set_handler(rv_session_fd(s), restore_counter, &r), 0);
    for (int i = 0; i < 3; i++)
        r.count = call_ok(s, TEST_INCR);
    kill_and_wait(&d, 1);
    assert_int_equal(call_ok(s, TEST_INCR), 4);   /* 3 restored, then this one */
    assert_int_equal(r.runs, 1);
    rv_close(s);
    rvd_stop(&d);
}

static bool failed(const struct svc_status *st, const void *arg)
{
    (void)arg;
    return strcmp(st->state, "failed") == 0;
}

/* A service that gave up cannot be reanimated: the call returns
 * RV_EFAILED with revived's sentence, at once rather than after a hang. */
static void test_failed_service_errors(void **state)
{
    (void)state;
    struct rvd d;
    char m[512];
    rvd_start(&d, manifest_test(m, sizeof m, "state = stateless\nmax_restarts = 0 in 10s\n"));
    rv_session *s = open_session(&d, "test", NULL);
    assert_int_equal(call_ok(s, TEST_INCR), 1);
    struct svc_status st;
    ctl(&d, "kill", "test", "KILL");
    wait_status(&d, "test", failed, NULL, &st);
    uint64_t v;
    assert_int_equal(call_u64(s, TEST_INCR, &v), RV_EFAILED);
    assert_non_null(strstr(rv_session_error(s), "failed"));
    assert_int_equal(call_u64(s, TEST_INCR, &v), RV_EFAILED);   /* and stays so, without a hang */
    rv_close(s);
    rvd_stop(&d);
}

/* ---- sessions whose state went with the service (state = ssr) ---- */

#define FAIL_AT_ONCE "max_restarts = 0 in 10s\nrequest_timeout = 20s\nheartbeat = 10s\n"

static void fail_and_restart(const struct rvd *d, const char *svc)
{
    struct svc_status st;
    ctl(d, "kill", svc, "KILL");
    wait_status(d, svc, failed, NULL, &st);
    ctl(d, "restart", svc, NULL);
}

static uint64_t next_random(rv_session *s, int *rc)
{
    uint64_t v = 0;
    size_t len;
    *rc = rv_call(s, RANDOM_NEXT, NULL, 0, &v, sizeof v, &len);
    return v;
}

/* random keeps each client's generator in its SSR. Once the service failed
 * the SSR is gone, and a restarted service must not hand the session a
 * fresh generator under the old descriptor (its numbers would repeat the
 * seed's first ones): every later call says RV_ELOST, naming the service
 * and why; a new session starts from the seed as a new session should. */
static void test_failed_ssr_session_is_lost(void **state)
{
    (void)state;
    struct rvd d;
    rvd_start(&d, "[service random]\nexec = rv-svc-random\nssr_size = 64\n" FAIL_AT_ONCE);
    rv_session *s = open_session(&d, "random", "seed=42");
    int rc;
    uint64_t first = next_random(s, &rc);
    assert_int_equal(rc, 0);
    fail_and_restart(&d, "random");
    for (int i = 0; i < 2; i++) {   /* and stays so */
        next_random(s, &rc);
        assert_int_equal(rc, RV_ELOST);
        const char *why = rv_session_error(s);
        if (!strstr(why, "'random'") || !strstr(why, "failed") || !strstr(why, "state"))
            fail_msg("unclear error for a session whose state is gone: '%s'", why);
    }
    rv_session *fresh = open_session(&d, "random", "seed=42");
    assert_int_equal(next_random(fresh, &rc), first);
    assert_int_equal(rc, 0);
    rv_close(fresh);
    rv_close(s);
    rvd_stop(&d);
}

/* ... unless the client registered a handler that restores its state, as a
 * service's client library would: then the call goes on where it was. */
static void test_failed_ssr_session_restored_by_handler(void **state)
{
    (void)state;
    struct rvd d;
    char m[512];
    rvd_start(&d, manifest_test(m, sizeof m, FAIL_AT_ONCE));
    rv_session *s = open_session(&d, "test", NULL);
    struct restore r = { .s = s };
    assert_int_equal(rv_cap_set_handler(rv_session_fd(s), restore_counter, &r), 0);
    for (int i = 0; i < 3; i++)
        r.count = call_ok(s, TEST_INCR);
    fail_and_restart(&d, "test");
    assert_int_equal(call_ok(s, TEST_INCR), 4);
    assert_int_equal(r.runs, 1);
    rv_close(s);
    rvd_stop(&d);
}

/* revived itself held the SSR: when revived dies and a new one starts on
 * the same socket, the session is lost, not re-opened from scratch behind
 * the client's back. */
static void test_revived_restart_loses_ssr_session(void **state)
{
    (void)state;
    struct rvd d;
    char m[512];
    rvd_start(&d, manifest_test(m, sizeof m, ""));
    rv_session *s = open_session(&d, "test", NULL);
    assert_int_equal(call_ok(s, TEST_INCR), 1);
    rvd_crash_and_restart(&d);
    uint64_t v;
    assert_int_equal(call_u64(s, TEST_INCR, &v), RV_ELOST);
    const char *why = rv_session_error(s);
    if (!strstr(why, "'test'") || !strstr(why, "revived"))
        fail_msg("unclear error for a session revived took with it: '%s'", why);
    rv_close(s);
    rvd_stop(&d);
}

/* With the registry off the fault reaches the caller unrepaired. */
static void test_registry_off_reports_revocation(void **state)
{
    (void)state;
    struct rvd d;
    char m[512];
    rvd_start(&d, manifest_test(m, sizeof m, STATELESS));
    rv_cap_registry_enable(false);
    rv_session *s = open_session(&d, "test", NULL);
    assert_int_equal(call_ok(s, TEST_INCR), 1);
    kill_and_wait(&d, 1);
    uint64_t v;
    assert_int_equal(call_u64(s, TEST_INCR, &v), RV_EREVOKED);
    rv_close(s);
    rv_cap_registry_enable(true);
    rvd_stop(&d);
}

/* ---- recursive reanimation: the paper's Figure 7 chain ---- */

static bool has_sessions(const struct svc_status *st, const void *arg)
{
    return st->sessions == *(const long long *)arg;
}

/* A FIFO of the test's own, opened read-write so it never sees EOF. */
static int own_fifo(const char *dir, const char *name, char *path, size_t len)
{
    snprintf(path, len, "%s/%s", dir, name);
    it_mkfifo(path);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    assert_true(fd >= 0);
    return fd;
}

static void read_line(int fd, char *buf, size_t len)
{
    size_t n = 0;
    while (n + 1 < len && read(fd, buf + n, 1) == 1 && buf[n] != '\n')
        n++;
    buf[n] = '\0';
}

static void read_byte(int fd)
{
    char b;
    assert_int_equal(read(fd, &b, 1), 1);
}

/* The client (rv-it-chain, a task revived started, whose name `svc` maps
 * to the stateless service `test`) calls after the service was killed.
 * Its session faults (1); its name-space handler looks `svc` up again
 * through revived (2); revived, its loader, opens a new session (3) and
 * must wait for the service to restart (4) and register (5). The service
 * is killed between the steps: before the call; twice after restarting
 * but before registering, with the re-open waiting in revived; and once
 * while it binds the re-opened session. The call still succeeds, on a
 * fresh session, repaired once. */
static void test_figure7_chain(void **state)
{
    (void)state;
    char dir[64], cmdp[128], outp[128], initp[128], bindp[128], m[1024];
    tempdir_make(dir, sizeof dir);
    int cmd = own_fifo(dir, "cmd", cmdp, sizeof cmdp), out = own_fifo(dir, "out", outp, sizeof outp);
    snprintf(initp, sizeof initp, "%s/init", dir);
    snprintf(bindp, sizeof bindp, "%s/bind", dir);
    snprintf(m, sizeof m, "[service test]\nexec = rv-svc-test\nssr_size = %d\nstate = stateless\n"
             "args = --init-fifo %s\nmax_restarts = 100 in 10s\nheartbeat = 20s\nrequest_timeout = 20s\n" IT_TEST_PATHS
             "[task chain]\nexec = %s\nargs = %s %s svc bindfifo=%s\nnames = svc:test\nrestart = never\n",
             TEST_SSR_SIZE, initp, RV_IT_CHAIN, cmdp, outp, bindp);
    struct rvd d;
    rvd_start(&d, m);
    char line[128];
    read_line(out, line, sizeof line);
    assert_string_equal(line, "open 0");
    assert_int_equal(write(cmd, "c", 1), 1);
    read_line(out, line, sizeof line);
    assert_string_equal(line, "call 0 1 0");

    int init = own_fifo(dir, "init", initp, sizeof initp);
    ctl(&d, "kill", "test", "KILL");              /* (1): the session dies with it */
    read_byte(init);                               /* instance 2 restarted, not registered */
    assert_int_equal(write(cmd, "c", 1), 1);       /* fault, re-lookup, re-open: waits in revived */
    long long one = 1;
    struct svc_status st;
    wait_status(&d, "test", has_sessions, &one, &st);
    ctl(&d, "kill", "test", "KILL");               /* between (4) and (5) */
    read_byte(init);                               /* instance 3, not registered either */
    unlink(initp);
    int bind = own_fifo(dir, "bind", bindp, sizeof bindp);
    ctl(&d, "kill", "test", "KILL");               /* again before (5) */
    read_byte(bind);                               /* instance 4 registered; binding the re-open */
    unlink(bindp);
    ctl(&d, "kill", "test", "KILL");               /* during the re-open's bind */
    read_line(out, line, sizeof line);
    assert_string_equal(line, "call 0 1 1");       /* fresh state, one repair, no error */
    svc_status(&d, "test", &st);
    assert_int_equal(st.restarts, 4);
    assert_int_equal(write(cmd, "q", 1), 1);
    close(init);
    close(bind);
    close(cmd);
    close(out);
    rvd_stop(&d);
    tempdir_remove(dir);
}

/* ---- the stateless example: the registry and its client library ---- */

static reg_client *reg_connect(const struct rvd *d)
{
    rv_conn *c;
    reg_client *r;
    assert_int_equal(rv_connect(d->sock, &c), 0);
    assert_int_equal(reg_open(c, "registry", &r), 0);
    rv_disconnect(c);
    return r;
}

static void expect_entry(reg_client *r, const char *key, const char *value)
{
    char buf[REG_VALUE_MAX];
    int rc = reg_get(r, key, buf, sizeof buf);
    if (rc != 0)
        fail_msg("reg_get(%s): %d: %s", key, rc, reg_error(r));
    assert_string_equal(buf, value);
}

/* Each kill wipes the service's table; each client's library re-registers
 * its own entries when its next call faults, so every client always finds
 * what it registered, and the table is whole again once both have called. */
static void test_registry_restores_entries(void **state)
{
    (void)state;
    struct rvd d;
    rvd_start(&d, "[service registry]\nexec = rv-svc-registry\nstate = stateless\nssr_size = 0\n"
                  "max_restarts = 100 in 10s\n");
    reg_client *a = reg_connect(&d), *b = reg_connect(&d);
    assert_int_equal(reg_set(a, "printer", "lp0"), 0);
    assert_int_equal(reg_set(a, "mail", "smtp.example"), 0);
    assert_int_equal(reg_set(b, "scanner", "sc1"), 0);
    for (long long k = 1; k <= 3; k++) {
        kill_svc_and_wait(&d, "registry", k);
        expect_entry(a, "printer", "lp0");
        expect_entry(a, "mail", "smtp.example");
        expect_entry(b, "scanner", "sc1");
        expect_entry(b, "printer", "lp0");   /* a's, restored by a */
        assert_int_equal(reg_reanimations(a), k);
        assert_int_equal(reg_reanimations(b), k);
        unsigned long n;
        assert_int_equal(reg_count(a, &n), 0);
        assert_int_equal(n, 3);
    }
    char buf[REG_VALUE_MAX];
    assert_int_equal(reg_get(a, "nobody-set-this", buf, sizeof buf), REG_ENOTFOUND);
    reg_close(b);
    reg_close(a);
    rvd_stop(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_session_reanimated, it_teardown),
        cmocka_unit_test_teardown(test_blocked_call_reanimated, it_teardown),
        cmocka_unit_test_teardown(test_custom_handler_restores, it_teardown),
        cmocka_unit_test_teardown(test_failed_service_errors, it_teardown),
        cmocka_unit_test_teardown(test_failed_ssr_session_is_lost, it_teardown),
        cmocka_unit_test_teardown(test_failed_ssr_session_restored_by_handler, it_teardown),
        cmocka_unit_test_teardown(test_revived_restart_loses_ssr_session, it_teardown),
        cmocka_unit_test_teardown(test_registry_off_reports_revocation, it_teardown),
        cmocka_unit_test_teardown(test_registry_restores_entries, it_teardown),
        cmocka_unit_test_teardown(test_figure7_chain, it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
