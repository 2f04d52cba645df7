/* test_cli.c — the command-line contract of every program: --help exits 0,
 * bad arguments and an unreachable socket exit non-zero with a message that
 * says what is wrong, and a malformed manifest stops revived with exit 2
 * and one line naming file:line and the key. */
#include <stdio.h>
#include <string.h>
#include "harness.h"

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
        cmocka_unit_test(test_bad_manifests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
