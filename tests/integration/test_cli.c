/* test_cli.c — the command-line contract of every program: --help exits 0,
 * bad arguments and an unreachable socket exit non-zero with a message that
 * says what is wrong, and a malformed manifest stops revived with exit 2
 * and one line naming file:line and the key. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "harness.h"
#include "wire.h"

/* Runs argv; asserts the exit status and that stderr holds every needle. */
static void expect_run(const char *const argv[], int want, const char *out_needle, const char *err_needle)
{
    char out[4096], err[4096];
    int rc = run(argv, out, sizeof out, err, sizeof err);
    if (want ? rc == 0 : rc != 0)
        fail_msg("%s %s: exit %d (want %s): %s", argv[0], argv[1] ? argv[1] : "", rc,
                 want ? "non-zero" : "0", err);
    if (out_needle && !strstr(out, out_needle))
        fail_msg("%s %s: stdout lacks '%s': %s", argv[0], argv[1] ? argv[1] : "", out_needle, out);
    if (err_needle && !strstr(err, err_needle))
        fail_msg("%s %s: stderr lacks '%s': %s", argv[0], argv[1] ? argv[1] : "", err_needle, err);
}

static void test_help(void **state)
{
    (void)state;
    const char *progs[] = { RV_IT_REVIVED, RV_IT_REVIVECTL, RV_IT_RV_RANDOM, RV_IT_RV_TICK };
    for (size_t i = 0; i < sizeof progs / sizeof progs[0]; i++) {
        const char *argv[] = { progs[i], "--help", NULL };
        expect_run(argv, 0, "usage:", NULL);
    }
}

static void test_bad_arguments(void **state)
{
    (void)state;
    const char *const cases[][6] = {
        { RV_IT_REVIVED, "--bogus", NULL },
        { RV_IT_REVIVED, "--log-level", "loud", NULL },
        { RV_IT_REVIVED, "extra", NULL },
        { RV_IT_REVIVECTL, "frobnicate", NULL },
        { RV_IT_REVIVECTL, "kill", NULL },
        { RV_IT_REVIVECTL, "kill", "test", "--signal", "HUP", NULL },
        { RV_IT_RV_RANDOM, "--seed", "1", NULL },
        { RV_IT_RV_RANDOM, "--seed", "1", "--count", "many", NULL },
        { RV_IT_RV_TICK, "--period-ms", "0", "--count", "1", NULL },
        { RV_IT_RV_TICK, NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *const *argv = cases[i];
        const char *base = strrchr(argv[0], '/') + 1;
        char needle[32];
        snprintf(needle, sizeof needle, "%s", base);   /* each message names its program */
        expect_run(argv, 2, NULL, needle);
    }
}

static void test_unreachable_socket(void **state)
{
    (void)state;
    char dir[64], sock[128], blocked[128];
    tempdir_make(dir, sizeof dir);
    snprintf(sock, sizeof sock, "%s/nobody.sock", dir);
    const char *const clients[][8] = {
        { RV_IT_REVIVECTL, "--socket", sock, "status", NULL },
        { RV_IT_RV_RANDOM, "--socket", sock, "--seed", "1", "--count", "1", NULL },
        { RV_IT_RV_TICK, "--socket", sock, "--period-ms", "10", "--count", "1", NULL },
    };
    for (size_t i = 0; i < sizeof clients / sizeof clients[0]; i++) {
        expect_run(clients[i], 1, NULL, "cannot reach revived");
        expect_run(clients[i], 1, NULL, sock);
    }
    /* revived's own socket: a path below a regular file cannot be bound */
    snprintf(blocked, sizeof blocked, "%s/nobody.sock/revived.sock", dir);
    FILE *f = fopen(sock, "w");
    assert_non_null(f);
    fclose(f);
    const char *argv[] = { RV_IT_REVIVED, "--socket", blocked, "--foreground", NULL };
    expect_run(argv, 1, NULL, "cannot listen on");
    tempdir_remove(dir);
}

static void test_socket_taken(void **state)
{
    (void)state;
    struct rvd d;
    char m[256];
    rvd_start(&d, manifest_test(m, sizeof m, ""));
    const char *argv[] = { RV_IT_REVIVED, "--socket", d.sock, "--foreground", NULL };
    expect_run(argv, 1, NULL, "already listening");
    rvd_stop(&d);
}

static bool restarted(const struct svc_status *st, const void *arg)
{
    return st->restarts == *(const long long *)arg && strcmp(st->state, "ready") == 0;
}

/* The signals `revivectl --help` lists are exactly the ones kill takes:
 * each is accepted and costs the service one restart (STOP a hang the
 * heartbeat catches); one it does not list is refused by revivectl, and
 * by revived too when asked directly, with the list. */
static void test_kill_signals_listed(void **state)
{
    (void)state;
    char out[2048], err[1024];
    const char *help[] = { RV_IT_REVIVECTL, "--help", NULL };
    assert_int_equal(run(help, out, sizeof out, err, sizeof err), 0);
    char *list = strstr(out, "one of\n");
    assert_non_null(list);
    list += strlen("one of\n");
    list[strcspn(list, "(")] = '\0';
    struct rvd d;
    char m[512];
    rvd_start(&d, manifest_test(m, sizeof m, "max_restarts = 100 in 10s\nbackoff = 0..0\n"
                                             "request_timeout = 300ms\nheartbeat = 100ms\n"));
    long long n = 0;
    for (char *sig = strtok(list, ", \n"); sig; sig = strtok(NULL, ", \n")) {
        ctl(&d, "kill", "test", sig);
        struct svc_status st;
        n++;
        wait_status(&d, "test", restarted, &n, &st);
    }
    assert_true(n >= 4);
    const char *hup[] = { RV_IT_REVIVECTL, "--socket", d.sock, "kill", "test", "--signal", "HUP", NULL };
    expect_run(hup, 2, NULL, "one of SEGV");
    int fd = rv__wire_dial(d.sock);
    assert_true(fd >= 0);
    struct rv_hdr h = rv__hdr_make(RV_T_KILL, 0, SIGHUP, 0, 5);
    static struct rv_msg reply;
    assert_int_equal(rv__wire_send(fd, &h, "test", NULL, 0, 0), 0);
    assert_int_equal(rv__wire_recv(fd, &reply, RV_WIRE_MAX_BODY, 0), 1);
    assert_int_equal(reply.hdr.type, RV_T_ERROR);
    if (!memmem(reply.body, reply.hdr.len, "SEGV, KILL", 10))
        fail_msg("revived's refusal does not list the signals: %.*s", (int)reply.hdr.len, (const char *)reply.body);
    close(fd);
    rvd_stop(&d);
}

/* `revived --help` names every service the embedded manifest runs: the
 * ones a revived without --manifest reports. */
static void test_help_names_builtin_services(void **state)
{
    (void)state;
    char help[4096], status[4096];
    const char *argv[] = { RV_IT_REVIVED, "--help", NULL };
    assert_int_equal(run(argv, help, sizeof help, NULL, 0), 0);
    struct rvd d;
    rvd_start(&d, NULL);
    const char *st[] = { RV_IT_REVIVECTL, "--socket", d.sock, "status", NULL };
    assert_int_equal(run(st, status, sizeof status, NULL, 0), 0);
    int services = 0;
    for (char *line = strchr(status, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        char name[64];
        assert_int_equal(sscanf(line + 1, "%63s", name), 1);
        char *at = strstr(help, name);
        if (!at || (at[strlen(name)] != ',' && at[strlen(name)] != ')'))
            fail_msg("revived --help does not name the built-in service '%s': %s", name, help);
        services++;
    }
    assert_true(services >= 3);
    rvd_stop(&d);
}

struct bad_manifest {
    const char *text;
    int line;
    const char *key;
};

static void test_bad_manifests(void **state)
{
    (void)state;
    static const struct bad_manifest cases[] = {
        { "[service test]\nexec = rv-svc-test\nbogus = 1\n", 3, "bogus" },
        { "[service test]\nexec = rv-svc-test\nrestart = sometimes\n", 3, "restart" },
        { "[service test]\nexec = rv-svc-test\nssr_size = 1K\nssr_size = 2K\n", 4, "ssr_size" },
        { "[service test]\nexec = no-such-service-binary\n", 2, "exec" },
        { "; timeouts need units\n[service test]\nexec = rv-svc-test\nrequest_timeout = 2\n", 4, "request_timeout" },
        { "[service test]\nexec = rv-svc-test\nbackoff = 1s..10ms\n", 3, "backoff" },
        { "[service test]\nexec = rv-svc-test\nuser = no-such-user-of-revive\n", 3, "user" },
        { "[service test]\nexec = rv-svc-test\ngroup = no-such-group-of-revive\n", 3, "group" },
        { "[service test]\nexec = rv-svc-test\nsyscalls = read foo\n", 3, "syscalls" },
        { "[service test]\nexec = rv-svc-test\nread_paths = etc\n", 3, "read_paths" },
        { "[service test]\nexec = rv-svc-test\nsandbox = maybe\n", 3, "sandbox" },
    };
    char dir[64], path[128], sock[128];
    tempdir_make(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/manifest.ini", dir);
    snprintf(sock, sizeof sock, "%s/revived.sock", dir);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(cases[i].text, f);
        fclose(f);
        char err[1024], where[160], key[64];
        const char *argv[] = { RV_IT_REVIVED, "--manifest", path, "--socket", sock, "--foreground", NULL };
        int rc = run(argv, NULL, 0, err, sizeof err);
        snprintf(where, sizeof where, "%s:%d:", path, cases[i].line);
        snprintf(key, sizeof key, "key '%s'", cases[i].key);
        char *nl = strchr(err, '\n');
        bool one_line = nl && nl[1] == '\0';
        if (rc != 2 || !one_line || !strstr(err, where) || !strstr(err, key))
            fail_msg("case %zu: exit %d, want 2 and one line with '%s' and \"%s\": %s", i, rc, where, key, err);
    }
    tempdir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_unreachable_socket),
        cmocka_unit_test_teardown(test_socket_taken, it_teardown),
        cmocka_unit_test_teardown(test_kill_signals_listed, it_teardown),
        cmocka_unit_test_teardown(test_help_names_builtin_services, it_teardown),
        cmocka_unit_test(test_bad_manifests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
