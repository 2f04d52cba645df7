/* test_sandbox.c — the sandbox of a service (docs/sandbox.md), seen from
 * outside: the ids it runs as, no_new_privs and the seccomp filter as the
 * kernel reports them in /proc/PID/status; a forbidden system call, which
 * kills the instance like any crash and costs the client nothing but a
 * retry; an instance that skips its filter, which revived refuses; the
 * Landlock domain, which denies a world-readable file outside the
 * service's paths; the manifest's keys; and a revived that is not root.
 * (A call forbidden every time is poisoned like any other crash: see
 * test_faults.c.) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "harness.h"
#include "testsvc.h"

#define POLICY "max_restarts = 100 in 10s\nrequest_timeout = 20s\nheartbeat = 10s\n"
#define NOBODY 65534u

struct proc_status {
    unsigned uid[4], gid[4];
    char groups[64];
    int no_new_privs, seccomp;
};

static void read_status(long long pid, struct proc_status *ps)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%lld/status", pid);
    FILE *f = fopen(path, "re");
    assert_non_null(f);
    memset(ps, 0, sizeof *ps);
    ps->no_new_privs = ps->seccomp = -1;
    while (fgets(line, sizeof line, f)) {
        sscanf(line, "Uid: %u %u %u %u", &ps->uid[0], &ps->uid[1], &ps->uid[2], &ps->uid[3]);
        sscanf(line, "Gid: %u %u %u %u", &ps->gid[0], &ps->gid[1], &ps->gid[2], &ps->gid[3]);
        sscanf(line, "Groups: %63[^\n]", ps->groups);
        sscanf(line, "NoNewPrivs: %d", &ps->no_new_privs);
        sscanf(line, "Seccomp: %d", &ps->seccomp);
    }
    fclose(f);
}

/* Runs as uid:gid and nothing more, with no_new_privs (set before exec)
 * and, once its init has run, a seccomp filter. */
static void expect_ids(long long pid, unsigned uid, unsigned gid)
{
    struct proc_status ps;
    read_status(pid, &ps);
    for (int i = 0; i < 4; i++)
        if (ps.uid[i] != uid || ps.gid[i] != gid)
            fail_msg("instance %lld runs as uid %u gid %u (id %d), not %u:%u", pid, ps.uid[i], ps.gid[i], i, uid, gid);
    assert_string_equal(ps.groups, "");
    assert_int_equal(ps.no_new_privs, 1);
}

static void expect_confined(long long pid, unsigned uid, unsigned gid)
{
    struct proc_status ps;
    expect_ids(pid, uid, gid);
    read_status(pid, &ps);
    assert_int_equal(ps.seccomp, 2);
}

static long long instance_pid(const struct rvd *d, const char *name)
{
    struct svc_status st;
    svc_status(d, name, &st);
    assert_true(st.pid > 0);
    return st.pid;
}

/* revived with rv-svc-test and the extra manifest lines, and a session. */
static rv_session *start_test(struct rvd *d, const char *extra, bool as_nobody)
{
    char m[512];
    manifest_test(m, sizeof m, extra);
    if (as_nobody)
        rvd_start_as_nobody(d, m);
    else
        rvd_start(d, m);
    return open_session(d, "test", NULL);
}

static bool has_standby(const struct svc_status *st, const void *arg)
{
    (void)arg;
    return st->standby_pid > 0;
}

/* revived as root gives each of its own services a uid of its own from
 * the dynamic range, its standby the same, and never nobody's: the
 * services cannot signal or trace each other, nor can a local user. */
static void test_default_ids(void **state)
{
    (void)state;
    static const char *const names[] = { "random", "timer", "kv" };
    unsigned uid[3];
    struct rvd d;
    rvd_start(&d, NULL);
    for (int i = 0; i < 3; i++) {
        struct svc_status st;
        wait_status(&d, names[i], has_standby, NULL, &st);
        struct proc_status ps;
        read_status(st.pid, &ps);
        uid[i] = ps.uid[0];
        if (uid[i] < 61184 || uid[i] > 65519)
            fail_msg("%s runs as uid %u, outside the dynamic range 61184..65519", names[i], uid[i]);
        expect_confined(st.pid, uid[i], uid[i]);
        expect_ids(st.standby_pid, uid[i], uid[i]);   /* it may not have run its init yet */
    }
    assert_true(uid[0] != uid[1] && uid[1] != uid[2] && uid[0] != uid[2]);
    rvd_stop(&d);
}

static void test_configured_ids(void **state)
{
    (void)state;
    struct rvd d;
    rv_session *s = start_test(&d, "user = 4242\ngroup = 4343\n", false);
    assert_int_equal(call_ok(s, TEST_INCR), 1);
    expect_confined(instance_pid(&d, "test"), 4242, 4343);
    rv_close(s);
    rvd_stop(&d);
}

/* The first run of the request makes a call the filter forbids: the
 * instance dies by SIGSYS, the next one re-runs the request, which this
 * time succeeds; the client sees its counter go up once. */
static void test_forbidden_call_retried(void **state)
{
    (void)state;
    struct rvd d;
    char m[512], marker[160], args[192];
    rvd_start(&d, manifest_test(m, sizeof m, POLICY));
    snprintf(args, sizeof args, "fifo=%s", rvd_marker(&d, marker, sizeof marker));
    rv_session *s = open_session(&d, "test", args);
    assert_int_equal(call_ok(s, TEST_INCR), 1);
    assert_int_equal(call_ok(s, TEST_FORBIDDEN_ONCE), 2);
    assert_int_equal(call_ok(s, TEST_INCR), 3);
    assert_int_equal(access(marker, F_OK), 0);
    struct svc_status st;
    svc_status(&d, "test", &st);
    assert_int_equal(st.restarts, 1);
    assert_int_equal(st.requests_failed, 0);
    if (!strstr(st.last_exit, "killed by SIGSYS (a system call its seccomp filter forbids) in session"))
        fail_msg("last_exit '%s' does not blame a forbidden call in a session", st.last_exit);
    rv_close(s);
    rvd_stop(&d);
}

/* The manifest's `syscalls` widens the filter: socket is allowed whole. */
static void test_manifest_adds_syscalls(void **state)
{
    (void)state;
    struct rvd d;
    rv_session *s = start_test(&d, "syscalls = socket\n" POLICY, false);
    assert_int_equal(call_ok(s, TEST_INCR), 1);
    assert_int_equal(call_ok(s, TEST_FORBIDDEN), 1);
    struct svc_status st;
    svc_status(&d, "test", &st);
    assert_int_equal(st.restarts, 0);
    struct proc_status ps;
    read_status(st.pid, &ps);
    assert_int_equal(ps.seccomp, 2);   /* filtered still, socket allowed */
    rv_close(s);
    rvd_stop(&d);
}

static bool failed(const struct svc_status *st, const void *arg)
{
    (void)arg;
    return strcmp(st->state, "failed") == 0;
}

/* Starts the test service with args, which must get it refused at once
 * (failed, never restarted) with `why` in its last exit; revived is left
 * running in d. */
static void start_refused(struct rvd *d, const char *args, const char *why)
{
    char m[512], extra[128];
    snprintf(extra, sizeof extra, "args = %s\n" POLICY, args);
    rvd_start(d, manifest_test(m, sizeof m, extra));
    struct svc_status st;
    wait_status(d, "test", failed, NULL, &st);
    if (!strstr(st.last_exit, why))
        fail_msg("last_exit '%s' does not say '%s'", st.last_exit, why);
    assert_int_equal(st.restarts, 0);
}

/* An instance that does not install the filter revived asked for is
 * refused at its READY, not restarted, and its would-be clients are told. */
static void test_skipped_filter_refused(void **state)
{
    (void)state;
    struct rvd d;
    start_refused(&d, "--skip-filter", "refused: its sandbox is not in force: installed no seccomp filter (Seccomp: 0)");
    rv_conn *c;
    rv_session *s;
    assert_int_equal(rv_connect(d.sock, &c), 0);
    assert_int_equal(rv_open(c, "test", NULL, &s), RV_EFAILED);
    assert_non_null(strstr(rv_conn_error(c), "installed no seccomp filter"));
    rv_disconnect(c);
    rvd_stop(&d);
}

/* revived builds the filter from what the instance asks for: a system
 * call of the service's own that this machine does not know refuses the
 * service with the name, rather than running it unfiltered or killing it
 * on a call later. */
static void test_unknown_call_refused(void **state)
{
    (void)state;
    struct rvd d;
    start_refused(&d, "--ask-unknown-call", "refused: its seccomp filter: system call 'no_such_call': unknown");
    rvd_stop(&d);
}

/* sandbox = no: the service runs as revived does, unfiltered. */
static void test_sandbox_off(void **state)
{
    (void)state;
    struct rvd d;
    rv_session *s = start_test(&d, "sandbox = no\n" POLICY, false);
    assert_int_equal(call_ok(s, TEST_FORBIDDEN), 0);
    struct proc_status ps;
    read_status(instance_pid(&d, "test"), &ps);
    assert_int_equal(ps.uid[1], geteuid());
    assert_int_equal(ps.no_new_privs, 0);
    assert_int_equal(ps.seccomp, 0);
    rv_close(s);
    rvd_stop(&d);
}

static uint64_t open_as_service(rv_session *s, const char *path)
{
    uint64_t err = 0;
    size_t len = 0;
    assert_int_equal(rv_call(s, TEST_OPEN, path, strlen(path), &err, sizeof err, &len), 0);
    assert_int_equal(len, sizeof err);
    return err;
}

/* One service reads dir/readable (mode 0644, in a directory anyone may
 * pass through: only Landlock can stop it), the system's libraries, and
 * not /etc/passwd; the same service given read_paths = dir reads it. */
static void landlock_reads(const char *dir, const char *paths, uint64_t want)
{
    char m[512], file[128];
    snprintf(file, sizeof file, "%s/readable", dir);
    snprintf(m, sizeof m, "[service test]\nexec = rv-svc-test\nssr_size = %d\n%s", TEST_SSR_SIZE, paths);
    struct rvd d;
    rvd_start(&d, m);
    rv_session *s = open_session(&d, "test", NULL);
    assert_int_equal(open_as_service(s, file), want);
    assert_int_equal(open_as_service(s, "/etc/passwd"), EACCES);
    assert_int_equal(open_as_service(s, "/etc/ld.so.cache"), 0);
    assert_int_equal(open_as_service(s, "/usr/include/stdio.h"), 0);
    rv_close(s);
    rvd_stop(&d);
}

static void test_landlock(void **state)
{
    (void)state;
    if (syscall(SYS_landlock_create_ruleset, NULL, 0, 1) <= 0)
        skip();   /* this kernel has no Landlock: revived says so once and goes on */
    char dir[64], file[128], paths[128];
    tempdir_make(dir, sizeof dir);
    snprintf(file, sizeof file, "%s/readable", dir);
    it_write_file(file, "anyone may read this\n");
    landlock_reads(dir, "", EACCES);
    snprintf(paths, sizeof paths, "read_paths = %s\n", dir);
    landlock_reads(dir, paths, 0);
    tempdir_remove(dir);
}

/* A revived that is not root cannot change ids: a `user` other than its
 * own is a load error; without one the service runs as revived does, in
 * the rest of its sandbox. */
static void test_not_root(void **state)
{
    (void)state;
    char dir[64], path[128], err[1024];
    tempdir_make(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/manifest.ini", dir);
    it_write_file(path, "[service test]\nexec = rv-svc-test\nuser = root\n");
    const char *argv[] = { "/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                           RV_IT_REVIVED, "--manifest", path, "--foreground", NULL };   /* fails before any socket */
    assert_int_equal(run(argv, NULL, 0, err, sizeof err), 2);
    if (!strstr(err, ":3: key 'user': revived runs as uid 65534, not as root"))
        fail_msg("unexpected error: %s", err);
    tempdir_remove(dir);

    struct rvd d;
    rv_session *s = start_test(&d, POLICY, true);
    assert_int_equal(call_ok(s, TEST_INCR), 1);
    expect_confined(instance_pid(&d, "test"), NOBODY, NOBODY);
    rv_close(s);
    rvd_stop(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_default_ids, it_teardown),
        cmocka_unit_test_teardown(test_configured_ids, it_teardown),
        cmocka_unit_test_teardown(test_forbidden_call_retried, it_teardown),
        cmocka_unit_test_teardown(test_manifest_adds_syscalls, it_teardown),
        cmocka_unit_test_teardown(test_skipped_filter_refused, it_teardown),
        cmocka_unit_test_teardown(test_unknown_call_refused, it_teardown),
        cmocka_unit_test_teardown(test_sandbox_off, it_teardown),
        cmocka_unit_test_teardown(test_landlock, it_teardown),
        cmocka_unit_test_teardown(test_not_root, it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
