/* test_manifest.c — unit tests of the manifest loader (src/revived/manifest.c).
 *
 * The group setup makes a scratch directory that plays the service path:
 *   svc            executable (0755)
 *   true           executable, to check the service path wins over PATH
 *   noexec         a plain file (0644)
 *   adir/          a directory (passes access(X_OK), must still be refused)
 *   rv-svc-random, rv-svc-timer, rv-svc-kv   executables, for the default manifest
 * Every error test checks the exact "ORIGIN:LINE: key 'KEY': " prefix, a
 * fragment of the explanation, that the message is one line, and that the
 * manifest was left empty.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest.h"

#define ORIGIN "test.ini"

static char dir[PATH_MAX];      /* the scratch directory, real path */
static char svc_path[PATH_MAX + 16]; /* dir/svc */

static int make_file(const char *name, mode_t mode)
{
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (!f)
        return -1;
    fputs("#!/bin/sh\nexit 0\n", f);
    fclose(f);
    return chmod(p, mode);
}

static int group_setup(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/rv-test-manifest-XXXXXX";
    if (!mkdtemp(tmpl) || !realpath(tmpl, dir))
        return -1;
    snprintf(svc_path, sizeof svc_path, "%s/svc", dir);
    if (make_file("svc", 0755) || make_file("true", 0755) || make_file("noexec", 0644) ||
        make_file("rv-svc-random", 0755) || make_file("rv-svc-timer", 0755) || make_file("rv-svc-kv", 0755))
        return -1;
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/adir", dir);
    return mkdir(p, 0755);
}

static int group_teardown(void **state)
{
    (void)state;
    static const char *const names[] = {"svc", "true", "noexec", "rv-svc-random",
                                        "rv-svc-timer", "rv-svc-kv", "m.ini", "bad.ini"};
    char p[PATH_MAX + 32];
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    snprintf(p, sizeof p, "%s/adir", dir);
    rmdir(p);
    return rmdir(dir);
}

/* -------------------------------------------------------------- helpers */

static void assert_empty(const struct rv_manifest *m)
{
    assert_null(m->services);
    assert_int_equal(m->nservices, 0);
    assert_null(m->tasks);
    assert_int_equal(m->ntasks, 0);
    assert_int_equal(m->max_ssr_bytes, 0);
}

/* Loads `text`, which must fail; returns the message. */
static const char *load_fails(const char *text)
{
    static char err[512];
    struct rv_manifest m;
    memset(err, 'x', sizeof err); /* no stale message can pass */
    err[sizeof err - 1] = '\0';
    assert_int_equal(rv_manifest_load_text(text, ORIGIN, dir, &m, err, sizeof err), -1);
    assert_empty(&m);
    assert_null(strchr(err, '\n'));
    return err;
}

/* Fails with a message starting "test.ini:LINE: key 'KEY': " (or
 * "test.ini:LINE: " when key is NULL) and containing `what`. */
static void expect_error(const char *text, int line, const char *key, const char *what)
{
    char prefix[128];
    const char *err = load_fails(text);
    if (key)
        snprintf(prefix, sizeof prefix, "%s:%d: key '%s': ", ORIGIN, line, key);
    else
        snprintf(prefix, sizeof prefix, "%s:%d: ", ORIGIN, line);
    if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, what))
        fail_msg("for:\n%s\nexpected '%s...%s...'\ngot      '%s'", text, prefix, what, err);
}

/* A one-service manifest with `key = value` on line 5. */
static void expect_bad_value(const char *key, const char *value, const char *what)
{
    char text[512];
    snprintf(text, sizeof text, "; a comment\n\n[service a]\nexec = svc\n%s = %s\n", key, value);
    expect_error(text, 5, key, what);
}

static void load_ok(const char *text, struct rv_manifest *m)
{
    char err[512] = "";
    if (rv_manifest_load_text(text, ORIGIN, dir, m, err, sizeof err) != 0)
        fail_msg("unexpected error: %s", err);
}

/* Loads a one-service manifest with `key = value` and returns the service. */
static struct rv_service_conf *load_one(struct rv_manifest *m, const char *key, const char *value)
{
    char text[512];
    snprintf(text, sizeof text, "[service a]\nexec = svc\n%s = %s\n", key, value);
    load_ok(text, m);
    assert_int_equal(m->nservices, 1);
    return &m->services[0];
}

/* ---------------------------------------------------------- valid input */

static void test_full_manifest(void **state)
{
    (void)state;
    struct rv_manifest m;
    char abs_exec[2 * PATH_MAX];
    snprintf(abs_exec, sizeof abs_exec,
             "[revived]\n"
             "max_ssr_bytes = 32MiB\n"
             "\n"
             "[service kv-store_2]\n"
             "exec = svc\n"
             "args = --verbose\t-n  3 ; trailing comment\n"
             "state = ssr\n"
             "ssr_size = 4K\n"
             "restart = on-failure\n"
             "max_restarts = 5 in 10s\n"
             "backoff = 20ms..2s\n"
             "request_timeout = 0\n"
             "heartbeat = 250ms\n"
             "ssr_protect = mprotect\n"
             "standby = yes\n"
             "\n"
             "[service other]\n"
             "args = x\n" /* before exec: argv[0] must still be exec */
             "exec = %s\n"
             "restart = never\n"
             "max_restarts = 0 in 500ms\n"
             "backoff = 1s..1s\n"
             "request_timeout = 1500us\n"
             "heartbeat = 0\n"
             "ssr_protect = none\n"
             "state = stateless\n"
             "ssr_size = 0\n",
             svc_path);
    load_ok(abs_exec, &m);

    assert_int_equal(m.max_ssr_bytes, 32u << 20);
    assert_int_equal(m.nservices, 2);
    struct rv_service_conf *a = &m.services[0], *b = &m.services[1];
    assert_string_equal(a->name, "kv-store_2");
    assert_string_equal(a->exec, svc_path);
    assert_string_equal(a->argv[0], svc_path);
    assert_string_equal(a->argv[1], "--verbose");
    assert_string_equal(a->argv[2], "-n");
    assert_string_equal(a->argv[3], "3");
    assert_null(a->argv[4]);
    assert_int_equal(a->state, RV_STATE_SSR);
    assert_int_equal(a->ssr_size, 4096);
    assert_int_equal(a->restart, RV_RESTART_ON_FAILURE);
    assert_int_equal(a->max_restarts, 5);
    assert_int_equal(a->restart_window_ms, 10000);
    assert_int_equal(a->backoff_min_ms, 20);
    assert_int_equal(a->backoff_max_ms, 2000);
    assert_int_equal(a->request_timeout_ms, 0);
    assert_int_equal(a->heartbeat_ms, 250);
    assert_int_equal(a->ssr_protect, RV_PROTECT_MPROTECT);
    assert_true(a->standby);

    assert_string_equal(b->name, "other");
    assert_string_equal(b->exec, svc_path);
    assert_string_equal(b->argv[0], svc_path);
    assert_string_equal(b->argv[1], "x");
    assert_null(b->argv[2]);
    assert_int_equal(b->restart, RV_RESTART_NEVER);
    assert_int_equal(b->max_restarts, 0);
    assert_int_equal(b->restart_window_ms, 500);
    assert_int_equal(b->backoff_min_ms, 1000);
    assert_int_equal(b->backoff_max_ms, 1000);
    assert_int_equal(b->request_timeout_ms, 2); /* 1.5 ms rounds up */
    assert_int_equal(b->heartbeat_ms, 0);
    assert_int_equal(b->ssr_protect, RV_PROTECT_NONE);
    assert_int_equal(b->ssr_size, 0);
    assert_int_equal(b->state, RV_STATE_STATELESS);
    assert_false(b->standby);

    rv_manifest_free(&m);
    assert_empty(&m);
}

static void test_defaults(void **state)
{
    (void)state;
    struct rv_manifest m;
    load_ok("[service a]\nexec = svc\n", &m);
    assert_int_equal(m.max_ssr_bytes, 16u << 20);
    assert_int_equal(m.nservices, 1);
    struct rv_service_conf *c = &m.services[0];
    assert_string_equal(c->name, "a");
    assert_string_equal(c->exec, svc_path);
    assert_string_equal(c->argv[0], svc_path);
    assert_null(c->argv[1]);
    assert_int_equal(c->state, RV_STATE_SSR);
    assert_int_equal(c->ssr_size, 256);
    assert_int_equal(c->restart, RV_RESTART_ALWAYS);
    assert_int_equal(c->max_restarts, 50);
    assert_int_equal(c->restart_window_ms, 10000);
    assert_int_equal(c->backoff_min_ms, 1);
    assert_int_equal(c->backoff_max_ms, 100);
    assert_int_equal(c->request_timeout_ms, 2000);
    assert_int_equal(c->heartbeat_ms, 1000);
    assert_int_equal(c->ssr_protect, RV_PROTECT_CHECKSUM);
    assert_int_equal(c->arena_size, 0);
    assert_int_equal(m.max_arena_bytes, 1u << 30);
    rv_manifest_free(&m);
}

/* ---------------------------------------------------------------- arenas */

static void test_arena(void **state)
{
    (void)state;
    struct rv_manifest m;
    struct rv_service_conf *c = load_one(&m, "state", "arena");
    assert_int_equal(c->state, RV_STATE_ARENA);
    assert_int_equal(c->arena_size, 64u << 20);   /* the default */
    rv_manifest_free(&m);

    load_ok("[revived]\nmax_arena_bytes = 12M\n"
            "[service a]\nexec = svc\narena_size = 8M\nstate = arena\n"
            "[service b]\nexec = svc\nstate = arena\narena_size = 1M\n"
            "[service c]\nexec = svc\nstate = arena\narena_size = 3072K\n", &m);
    assert_int_equal(m.max_arena_bytes, 12u << 20);
    assert_int_equal(m.services[0].arena_size, 8u << 20);
    assert_int_equal(m.services[1].arena_size, 1u << 20);
    assert_int_equal(m.services[2].arena_size, 3072u << 10);   /* 12M exactly: at the bound */
    assert_null(m.services[0].arena_file);
    rv_manifest_free(&m);
    load_ok("[service a]\nexec = svc\nstate = arena\narena_file = rel.arena\nstart_timeout = 250ms\n", &m);
    char want[PATH_MAX + 16];
    assert_non_null(getcwd(want, PATH_MAX));
    strcat(want, "/rel.arena");
    assert_string_equal(m.services[0].arena_file, want);   /* absolute: revived may change directory */
    assert_int_equal(m.services[0].start_timeout_ms, 250);
    rv_manifest_free(&m);
}

/* image: a file revived opens read-write; mount: where it mounts the
 * service's file system, which needs an arena. */
static void test_image_and_mount(void **state)
{
    (void)state;
    struct rv_manifest m;
    char image[PATH_MAX + 16], text[PATH_MAX + 128];
    snprintf(image, sizeof image, "%s/image", dir);
    FILE *f = fopen(image, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(text, sizeof text, "[service fs]\nexec = svc\nstate = arena\nimage = %s\nmount = /tmp/rv-test/mnt\n",
             image);
    load_ok(text, &m);
    assert_string_equal(m.services[0].mount, "/tmp/rv-test/mnt");
    assert_string_equal(m.services[0].image, image);
    rv_manifest_free(&m);
    unlink(image);
    expect_bad_value("image", "/tmp/no-such-image", "'/tmp/no-such-image': No such file or directory");
    expect_bad_value("image", "/dev/null", "'/dev/null' is neither a regular file nor a block device");
    expect_bad_value("mount", "mnt", "'mnt' is not an absolute path");
    expect_bad_value("mount", "/etc/passwd", "'/etc/passwd' exists and is not a directory");
    assert_string_equal(load_fails("[service a]\nexec = svc\nmount = /tmp/rv-test/mnt\n"),
                        "test.ini: [service a]: key 'mount' needs state = arena");
}

static void test_arena_errors(void **state)
{
    (void)state;
    expect_bad_value("arena_size", "512K", "'512K' is out of range (1M..64G)");
    expect_bad_value("arena_size", "65G", "'65G' is out of range (1M..64G)");
    expect_bad_value("arena_size", "1048577", "'1048577' is not a multiple of 4K");
    expect_bad_value("arena_size", "big", "'big' is not a size");
    expect_bad_value("state", "persistent", "'persistent' is not one of ssr, stateless, arena");
    assert_string_equal(load_fails("[service a]\nexec = svc\narena_size = 8M\n"),
                        "test.ini: [service a]: key 'arena_size' needs state = arena");
    assert_string_equal(load_fails("[revived]\nmax_arena_bytes = 100M\n"
                                   "[service a]\nexec = svc\nstate = arena\n"
                                   "[service b]\nexec = svc\nstate = arena\n"),
                        "test.ini: [service b]: its arena of 67108864 bytes brings the arenas to 134217728 bytes, "
                        "more than [revived] max_arena_bytes (104857600)");
    assert_string_equal(load_fails("[service a]\nexec = svc\narena_file = /tmp/a.arena\n"),
                        "test.ini: [service a]: key 'arena_file' needs state = arena");
    expect_bad_value("arena_file", "/nonexistent/dir/a.arena", "directory '/nonexistent/dir' does not exist");
    expect_bad_value("arena_file", "/tmp/", "'/tmp/' is not a file path");
    expect_error("[revived]\nmax_arena_bytes = 1K\n[service a]\nexec = svc\n", 2,
                 "max_arena_bytes", "'1K' is out of range (1M..64G)");
    expect_error("[service a]\nexec = svc\n[revived]\nmax_arena_bytes = x\n", 4,
                 "max_arena_bytes", "'x' is not a size");
}

static void test_empty_args(void **state)
{
    (void)state;
    struct rv_manifest m;
    struct rv_service_conf *c = load_one(&m, "args", "");
    assert_string_equal(c->argv[0], svc_path);
    assert_null(c->argv[1]);
    rv_manifest_free(&m);
}

static void test_sizes(void **state)
{
    (void)state;
    static const struct { const char *text; uint64_t bytes; } cases[] = {
        {"0", 0}, {"64", 64}, {"64B", 64}, {"1K", 1024}, {"3KiB", 3072},
        {"2M", 2u << 20}, {"2MiB", 2u << 20}, {"64M", 64u << 20}, {"007", 7},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct rv_manifest m;
        assert_int_equal(load_one(&m, "ssr_size", cases[i].text)->ssr_size, cases[i].bytes);
        rv_manifest_free(&m);
    }
    struct rv_manifest m;
    load_ok("[revived]\nmax_ssr_bytes = 1G\n[service a]\nexec = svc\n", &m);
    assert_int_equal(m.max_ssr_bytes, UINT64_C(1) << 30);
    rv_manifest_free(&m);
    load_ok("[service a]\nexec = svc\n[revived]\nmax_ssr_bytes = 2GiB\n", &m);
    assert_int_equal(m.max_ssr_bytes, UINT64_C(2) << 30);
    rv_manifest_free(&m);
}

static void test_durations(void **state)
{
    (void)state;
    static const struct { const char *text; uint64_t ms; } cases[] = {
        {"0", 0}, {"0ms", 0}, {"0s", 0}, {"1us", 1}, {"1000us", 1}, {"1001us", 2},
        {"250ms", 250}, {"2s", 2000}, {"1min", 60000}, {"1440min", 86400000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct rv_manifest m;
        assert_int_equal(load_one(&m, "request_timeout", cases[i].text)->request_timeout_ms, cases[i].ms);
        rv_manifest_free(&m);
        assert_int_equal(load_one(&m, "heartbeat", cases[i].text)->heartbeat_ms, cases[i].ms);
        rv_manifest_free(&m);
    }
}

static void test_restart_and_backoff_forms(void **state)
{
    (void)state;
    struct rv_manifest m;
    struct rv_service_conf *c = load_one(&m, "max_restarts", "3   in\t2min");
    assert_int_equal(c->max_restarts, 3);
    assert_int_equal(c->restart_window_ms, 120000);
    rv_manifest_free(&m);
    c = load_one(&m, "backoff", "0 .. 100ms");
    assert_int_equal(c->backoff_min_ms, 0);
    assert_int_equal(c->backoff_max_ms, 100);
    rv_manifest_free(&m);
    c = load_one(&m, "restart", "on-failure");
    assert_int_equal(c->restart, RV_RESTART_ON_FAILURE);
    rv_manifest_free(&m);
    c = load_one(&m, "ssr_protect", "checksum");
    assert_int_equal(c->ssr_protect, RV_PROTECT_CHECKSUM);
    rv_manifest_free(&m);
}

/* Inline ';' comments, CRLF line ends, a BOM, '#' comments, blank lines. */
static void test_syntax_tolerance(void **state)
{
    (void)state;
    struct rv_manifest m;
    load_ok("\xEF\xBB\xBF# hash comment\r\n\r\n  [service a] ; the first\r\n"
            "  exec = svc ; comment\r\nrestart=never\r\n", &m);
    assert_int_equal(m.nservices, 1);
    assert_string_equal(m.services[0].exec, svc_path);
    assert_int_equal(m.services[0].restart, RV_RESTART_NEVER);
    rv_manifest_free(&m);
}

static void test_service_names(void **state)
{
    (void)state;
    char text[256];
    char name[RV_NAME_MAX];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0'; /* 63 characters: the longest allowed */
    snprintf(text, sizeof text, "[service %s]\nexec = svc\n[service A-z_09]\nexec=svc\n", name);
    struct rv_manifest m;
    load_ok(text, &m);
    assert_int_equal(m.nservices, 2);
    assert_string_equal(m.services[0].name, name);
    assert_string_equal(m.services[1].name, "A-z_09");
    rv_manifest_free(&m);
}

/* ---------------------------------------------------------- exec lookup */

static void test_exec_search(void **state)
{
    (void)state;
    struct rv_manifest m;
    char want[PATH_MAX + 8], sp[PATH_MAX + 32], err[512];

    /* The service path comes before PATH: dir/true, not /usr/bin/true. */
    snprintf(want, sizeof want, "%s/true", dir);
    load_ok("[service a]\nexec = true\n", &m);
    assert_string_equal(m.services[0].exec, want);
    rv_manifest_free(&m);

    /* Every directory of the service path is searched, empty ones skipped. */
    snprintf(sp, sizeof sp, "/nonexistent::%s", dir);
    assert_int_equal(rv_manifest_load_text("[service a]\nexec = svc\n", ORIGIN, sp, &m, err, sizeof err), 0);
    assert_string_equal(m.services[0].exec, svc_path);
    rv_manifest_free(&m);

    /* Not in the service path: PATH. /bin/sh exists on any Linux. */
    assert_int_equal(rv_manifest_load_text("[service a]\nexec = sh\n", ORIGIN, NULL, &m, err, sizeof err), 0);
    assert_int_equal(m.services[0].exec[0], '/');
    assert_int_equal(access(m.services[0].exec, X_OK), 0);
    rv_manifest_free(&m);
}

static void test_exec_paths(void **state)
{
    (void)state;
    struct rv_manifest m;
    char text[PATH_MAX + 64], cwd[PATH_MAX];

    /* Absolute, with a detour that realpath removes. */
    snprintf(text, sizeof text, "[service a]\nexec = %s/adir/../svc\n", dir);
    load_ok(text, &m);
    assert_string_equal(m.services[0].exec, svc_path);
    rv_manifest_free(&m);

    /* Relative to the current directory, made absolute. */
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    load_ok("[service a]\nexec = ./svc\n", &m);
    assert_int_equal(chdir(cwd), 0);
    assert_string_equal(m.services[0].exec, svc_path);
    rv_manifest_free(&m);
}

static void test_exec_missing_binary(void **state)
{
    (void)state;
    char what[PATH_MAX + 64];
    snprintf(what, sizeof what, "no executable 'nosuch' (searched %s:", dir);
    expect_error("[service a]\nexec = nosuch\n", 2, "exec", what);
    expect_error("[service a]\nexec = /nonexistent/bin/x\n", 2, "exec",
                 "no executable '/nonexistent/bin/x' (No such file or directory)");
    expect_error("[service a]\nexec = ./nosuch\n", 2, "exec", "no executable './nosuch'");
    expect_error("[service a]\nexec =\n", 2, "exec", "empty value");
}

static void test_exec_not_executable(void **state)
{
    (void)state;
    char text[PATH_MAX + 64], what[PATH_MAX + 64];
    /* Found only as a plain file: the message points at it. */
    snprintf(what, sizeof what, "no executable 'noexec' (searched %s:", dir);
    expect_error("[service a]\nexec = noexec\n", 2, "exec", what);
    snprintf(what, sizeof what, "not executable: %s/noexec", dir);
    expect_error("[service a]\nexec = noexec\n", 2, "exec", what);
    snprintf(text, sizeof text, "[service a]\nexec = %s/noexec\n", dir);
    expect_error(text, 2, "exec", "not an executable file");
    /* A directory is "executable" to access(2), but not a program. */
    expect_error("[service a]\nexec = adir\n", 2, "exec", "no executable 'adir'");
    snprintf(text, sizeof text, "[service a]\nexec = %s/adir\n", dir);
    expect_error(text, 2, "exec", "not an executable file");
}

/* ----------------------------------------------------------- bad values */

static void test_bad_values(void **state)
{
    (void)state;
    static const struct { const char *key, *value, *what; } cases[] = {
        {"state", "crdt", "'crdt' is not one of ssr, stateless"},
        {"state", "", "empty value"},
        {"ssr_size", "", "empty value"},
        {"ssr_size", "abc", "'abc' is not a size"},
        {"ssr_size", "-1", "'-1' is negative"},
        {"ssr_size", "12Q", "'12Q' is not a size"},
        {"ssr_size", "1.5K", "'1.5K' is not a size"},
        {"ssr_size", "4 K", "'4 K' is not a size"},
        {"ssr_size", "4k", "'4k' is not a size"},
        {"ssr_size", "K", "'K' is not a size"},
        {"ssr_size", "65M", "'65M' is out of range (0..64M)"},
        {"ssr_size", "67108865", "out of range"},
        {"ssr_size", "1G", "out of range"},
        {"ssr_size", "99999999999999999999", "out of range"},
        {"ssr_size", "17179869184G", "out of range"}, /* 2^34 G overflows 64 bits */
        {"restart", "sometimes", "'sometimes' is not one of always, on-failure, never"},
        {"restart", "Always", "is not one of"},
        {"restart", "", "empty value"},
        {"max_restarts", "5", "'5' is not of the form 'N in DURATION'"},
        {"max_restarts", "5 in", "is not of the form"},
        {"max_restarts", "5 of 10s", "is not of the form"},
        {"max_restarts", "5 in 10s extra", "is not of the form"},
        {"max_restarts", "x in 10s", "'x' is not a number"},
        {"max_restarts", "5x in 10s", "'5x' is not a number"},
        {"max_restarts", "-1 in 10s", "'-1' is negative"},
        {"max_restarts", "4294967296 in 10s", "'4294967296' is out of range"},
        {"max_restarts", "5 in 10", "'10' needs a unit"},
        {"max_restarts", "5 in 10h", "'10h' is not a duration"},
        {"max_restarts", "5 in 0s", "must be longer than 0"},
        {"max_restarts", "", "empty value"},
        {"backoff", "10ms", "'10ms' is not of the form 'MIN..MAX'"},
        {"backoff", "10ms..", "is not of the form"},
        {"backoff", "..1s", "is not of the form"},
        {"backoff", "10..1s", "'10' needs a unit"},
        {"backoff", "a..b", "'a' is not a duration"},
        {"backoff", "10ms..1x", "'1x' is not a duration"},
        {"backoff", "1s..10ms", "minimum '1s' is longer than maximum '10ms'"},
        {"backoff", "-1s..2s", "'-1s' is negative"},
        {"request_timeout", "2", "'2' needs a unit (us, ms, s or min)"},
        {"request_timeout", "2h", "'2h' is not a duration"},
        {"request_timeout", "2 s", "'2 s' is not a duration"},
        {"request_timeout", "2sx", "'2sx' is not a duration"},
        {"request_timeout", "s", "'s' is not a duration"},
        {"request_timeout", "-2s", "'-2s' is negative"},
        {"request_timeout", "1.5s", "'1.5s' is not a duration"},
        {"request_timeout", "1441min", "'1441min' is too long (at most 24 hours)"},
        {"request_timeout", "99999999999999999999ms", "is too long"},
        {"request_timeout", "999999999999999999min", "is too long"}, /* overflows when scaled */
        {"request_timeout", "", "empty value"},
        {"start_timeout", "0", "must be longer than 0"},
        {"start_timeout", "5", "'5' needs a unit"},
        {"heartbeat", "1", "'1' needs a unit"},
        {"heartbeat", "fast", "'fast' is not a duration"},
        {"heartbeat", "-1ms", "'-1ms' is negative"},
        {"heartbeat", "", "empty value"},
        {"ssr_protect", "crc", "'crc' is not one of none, checksum, mprotect"},
        {"ssr_protect", "", "empty value"},
        {"standby", "maybe", "'maybe' is not one of no, yes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        expect_bad_value(cases[i].key, cases[i].value, cases[i].what);
}

static void test_bad_max_ssr_bytes(void **state)
{
    (void)state;
    expect_error("[service a]\nexec = svc\n[revived]\nmax_ssr_bytes = lots\n", 4,
                 "max_ssr_bytes", "'lots' is not a size");
    expect_error("[revived]\nmax_ssr_bytes = 0\n[service a]\nexec = svc\n", 2,
                 "max_ssr_bytes", "'0' is out of range (1..64G)");
    expect_error("[revived]\nmax_ssr_bytes = 65G\n[service a]\nexec = svc\n", 2,
                 "max_ssr_bytes", "out of range");
    expect_error("[revived]\nmax_ssr_bytes =\n[service a]\nexec = svc\n", 2,
                 "max_ssr_bytes", "empty value");
}

/* Who may open sessions, and the limits per user. */
static void test_users_and_limits(void **state)
{
    (void)state;
    struct rv_manifest m;
    load_ok("[service a]\nexec = svc\n", &m);
    assert_false(m.services[0].users.given);   /* root and revived's own user */
    assert_int_equal(m.socket_mode, 0666);
    assert_int_equal(m.max_sessions_per_user, 1024);
    assert_int_equal(m.idle_timeout_ms, 10000);
    rv_manifest_free(&m);
    load_ok("[service a]\nexec = svc\nusers = root, 65534 @0,@4242\n[revived]\nsocket_mode = 666\n"
            "socket_group = 4242\nmax_sessions_per_user = 7\nmax_connections_per_user = 3\n"
            "reserved_descriptors = 0\nidle_timeout = 0\n", &m);
    const struct rv_users *u = &m.services[0].users;
    assert_true(u->given && !u->anyone);
    assert_int_equal(u->nuids, 2);
    assert_int_equal(u->uids[0], 0);
    assert_int_equal(u->uids[1], 65534);
    assert_int_equal(u->ngids, 2);
    assert_int_equal(u->gids[1], 4242);
    assert_int_equal(m.socket_mode, 0666);
    assert_int_equal(m.socket_group, 4242);
    assert_int_equal(m.max_sessions_per_user, 7);
    assert_int_equal(m.max_connections_per_user, 3);
    assert_int_equal(m.reserved_descriptors, 0);
    assert_int_equal(m.idle_timeout_ms, 0);
    rv_manifest_free(&m);
    load_ok("[service a]\nexec = svc\nusers = *\n", &m);
    assert_true(m.services[0].users.anyone);
    rv_manifest_free(&m);
}

static void test_bad_users_and_limits(void **state)
{
    (void)state;
    expect_error("[service a]\nexec = svc\nusers = no-such-user-here\n", 3, "users",
                 "no user 'no-such-user-here' (neither a name in the user database nor a number)");
    expect_error("[service a]\nexec = svc\nusers = @no-such-group\n", 3, "users",
                 "no group 'no-such-group' (neither a name in the group database nor a number)");
    expect_error("[service a]\nexec = svc\nusers = ,\n", 3, "users", "no user given");
    expect_error("[service a]\nexec = svc\n[revived]\nsocket_mode = 0999\n", 4, "socket_mode",
                 "'0999' is not a file mode");
    expect_error("[service a]\nexec = svc\n[revived]\nsocket_mode = 01777\n", 4, "socket_mode",
                 "is not a file mode");
    expect_error("[service a]\nexec = svc\n[revived]\nmax_sessions_per_user = 0\n", 4,
                 "max_sessions_per_user", "'0' is out of range (1..1000000)");
    expect_error("[service a]\nexec = svc\n[revived]\nmax_connections_per_user = many\n", 4,
                 "max_connections_per_user", "'many' is not a number");
    expect_error("[service a]\nexec = svc\n[revived]\nidle_timeout = 5\n", 4, "idle_timeout",
                 "needs a unit");
}

/* The whole message, once, to pin the format down. */
static void test_exact_message(void **state)
{
    (void)state;
    assert_string_equal(load_fails("[service a]\nexec = svc\n\nrestart = sometimes\n"),
                        "test.ini:4: key 'restart': 'sometimes' is not one of always, on-failure, never");
}

/* --------------------------------------------------- structural errors */

static void test_unknown_key(void **state)
{
    (void)state;
    assert_string_equal(load_fails("[service a]\nexec = svc\ncolour = blue\n"),
                        "test.ini:3: key 'colour': unknown key in [service a]");
    assert_string_equal(load_fails("[revived]\nexec = svc\n[service a]\nexec = svc\n"),
                        "test.ini:2: key 'exec': unknown key in [revived]");
    assert_string_equal(load_fails("[service a]\nExec = svc\n"),
                        "test.ini:2: key 'Exec': unknown key in [service a]");
}

static void test_unknown_section(void **state)
{
    (void)state;
    assert_string_equal(load_fails("[service a]\nexec = svc\n[servce b]\nexec = svc\n"),
                        "test.ini:3: unknown section [servce b]");
    /* Even an empty one is noticed. */
    assert_string_equal(load_fails("[service a]\nexec = svc\n\n[global]\n"),
                        "test.ini:4: unknown section [global]");
    assert_string_equal(load_fails("[service a]\nexec = svc\n[services b]\n"),
                        "test.ini:3: unknown section [services b]");
    assert_string_equal(load_fails("[]\n[service a]\nexec = svc\n"), "test.ini:1: unknown section []");
}

static void test_bad_service_name(void **state)
{
    (void)state;
    char text[256], name[RV_NAME_MAX + 1];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0'; /* 64 characters: one too many */
    snprintf(text, sizeof text, "[service a]\nexec = svc\n[service %s]\nexec = svc\n", name);
    expect_error(text, 3, NULL, "bad service name");
    expect_error("[service a/b]\nexec = svc\n", 1, NULL, "bad service name 'a/b' (1 to 63 characters");
    expect_error("[service a.b]\nexec = svc\n", 1, NULL, "bad service name 'a.b'");
    expect_error("[service]\nexec = svc\n", 1, NULL, "bad service name ''");
    expect_error("[service ]\nexec = svc\n", 1, NULL, "bad service name ''");
    expect_error("[service a b]\nexec = svc\n", 1, NULL, "bad service name 'a b'");
    expect_error("[service a ]\nexec = svc\n", 1, NULL, "bad service name 'a '");
}

static void test_duplicates(void **state)
{
    (void)state;
    assert_string_equal(load_fails("[service a]\nexec = svc\n[service b]\nexec = svc\n[service a]\n"),
                        "test.ini:5: duplicate section [service a]");
    assert_string_equal(load_fails("[service a]\nexec = svc\n[service a]\nexec = svc\n"),
                        "test.ini:3: duplicate section [service a]");
    assert_string_equal(load_fails("[revived]\n[service a]\nexec = svc\n[revived]\n"),
                        "test.ini:4: duplicate section [revived]");
    assert_string_equal(load_fails("[service a]\nexec = svc\nrestart = never\nrestart = always\n"),
                        "test.ini:4: key 'restart': given twice (first on line 3)");
    /* The same key in another service is fine. */
    struct rv_manifest m;
    load_ok("[service a]\nexec = svc\n[service b]\nexec = svc\n", &m);
    assert_int_equal(m.nservices, 2);
    rv_manifest_free(&m);
}

static void test_missing_exec(void **state)
{
    (void)state;
    assert_string_equal(load_fails("[service a]\nexec = svc\n[service b]\nrestart = never\n"),
                        "test.ini: [service b]: missing key 'exec'");
    /* A section with no keys at all is still a service. */
    assert_string_equal(load_fails("[service a]\n"), "test.ini: [service a]: missing key 'exec'");
}

static void test_zero_services(void **state)
{
    (void)state;
    const char *err = load_fails("");
    assert_non_null(strstr(err, "test.ini: "));
    assert_non_null(strstr(err, "at least one service"));
    err = load_fails("; nothing here\n[revived]\nmax_ssr_bytes = 1M\n");
    assert_non_null(strstr(err, "at least one service"));
}

static void test_syntax_errors(void **state)
{
    (void)state;
    assert_string_equal(load_fails("[service a]\nexec = svc\nthis is no key\n"), "test.ini:3: syntax error");
    assert_string_equal(load_fails("[service a\nexec = svc\n"), "test.ini:1: syntax error");
    /* The first problem wins, even though inih carries on after it. */
    assert_string_equal(load_fails("[service a]\nnonsense\nexec = svc\nrestart = sometimes\n"),
                        "test.ini:2: syntax error");
    /* A key before any section. */
    expect_error("exec = svc\n[service a]\nexec = svc\n", 1, "exec", "not inside a section");
    /* inih would read an indented line after a key as more of its value. */
    expect_error("[service a]\nexec = svc\n  restart = never\n", 3, "exec", "multi-line values are not supported");
}

static void test_long_line(void **state)
{
    (void)state;
    char text[1024];
    char pad[400];
    memset(pad, ' ', sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    snprintf(text, sizeof text, "[service a]\nexec = svc\nargs = %s x\nrestart = never\n", pad);
    expect_error(text, 3, NULL, "line too long");
}

/* An error in the second service frees the first one too (ASan checks). */
static void test_error_frees_everything(void **state)
{
    (void)state;
    expect_error("[service a]\nexec = svc\nargs = 1 2 3\n[service b]\nargs = x y\nexec = svc\nheartbeat = x\n",
                 7, "heartbeat", "not a duration");
    assert_string_equal(load_fails("[service a]\nexec = svc\nargs = 1 2 3\n[service b]\nargs = x y\n"),
                        "test.ini: [service b]: missing key 'exec'");
}

/* ------------------------------------------------------------------ tasks */

static void assert_name(const struct rv_name *n, const char *name, const char *target, bool ds, int line)
{
    assert_string_equal(n->name, name);
    assert_string_equal(n->target, target);
    assert_int_equal(n->dataspace, ds);
    assert_int_equal(n->line, line);
}

static void test_task(void **state)
{
    (void)state;
    struct rv_manifest m;
    load_ok("[task early]\n"           /* before the services it names */
            "names = rng:a, tick:b\tframes:ds/video  x:a\n"
            "args = --once  -v\n"
            "exec = svc\n"
            "restart = always\n"
            "[service a]\nexec = svc\n[service b]\nexec = svc\n"
            "[task plain]\nexec = true\n", &m);
    assert_int_equal(m.nservices, 2);
    assert_int_equal(m.ntasks, 2);
    struct rv_task_conf *t = &m.tasks[0], *u = &m.tasks[1];
    assert_string_equal(t->name, "early");
    assert_string_equal(t->exec, svc_path);
    assert_string_equal(t->argv[0], svc_path);
    assert_string_equal(t->argv[1], "--once");
    assert_string_equal(t->argv[2], "-v");
    assert_null(t->argv[3]);
    assert_int_equal(t->restart, RV_RESTART_ALWAYS);
    assert_int_equal(t->nnames, 4);
    assert_name(&t->names[0], "rng", "a", false, 2);
    assert_name(&t->names[1], "tick", "b", false, 2);
    assert_name(&t->names[2], "frames", "video", true, 2);
    assert_name(&t->names[3], "x", "a", false, 2);

    /* Defaults: restart on failure, an empty name space. */
    char want[PATH_MAX + 8];
    snprintf(want, sizeof want, "%s/true", dir);
    assert_string_equal(u->name, "plain");
    assert_string_equal(u->exec, want);
    assert_null(u->argv[1]);
    assert_int_equal(u->restart, RV_RESTART_ON_FAILURE);
    assert_int_equal(u->nnames, 0);
    assert_null(u->names);
    rv_manifest_free(&m);
    assert_empty(&m);
}

/* A one-service, one-task manifest with `key = value` on line 5. */
static void expect_bad_task_value(const char *key, const char *value, const char *what)
{
    char text[512];
    snprintf(text, sizeof text, "[service a]\nexec = svc\n[task t]\nexec = svc\n%s = %s\n", key, value);
    expect_error(text, 5, key, what);
}

static void test_task_bad_values(void **state)
{
    (void)state;
    static const struct { const char *key, *value, *what; } cases[] = {
        {"restart", "sometimes", "'sometimes' is not one of always, on-failure, never"},
        {"restart", "", "empty value"},
        {"names", "", "empty value"},
        {"names", "rng", "'rng' is not of the form NAME:SERVICE or NAME:ds/DATASPACE"},
        {"names", "rng:a tick", "'tick' is not of the form"},
        {"names", ":a", "':a' is not of the form"},
        {"names", "rng:", "'rng:' is not of the form"},
        {"names", "a.b:a", "bad name 'a.b' in 'a.b:a' (1 to 63 characters of A-Z a-z 0-9 _ -)"},
        {"names", "rng:a.b", "bad service 'a.b' in 'rng:a.b'"},
        {"names", "rng:a:b", "bad service 'a:b' in 'rng:a:b'"},
        {"names", "f:ds/", "bad dataspace '' in 'f:ds/'"},
        {"names", "f:ds/x/y", "bad dataspace 'x/y' in 'f:ds/x/y'"},
        {"names", "rng:a, rng:a", "name 'rng' is mapped twice"},
        {"names", "rng:a frames:ds/rng rng:ds/v", "name 'rng' is mapped twice"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        expect_bad_task_value(cases[i].key, cases[i].value, cases[i].what);
    /* exec is resolved as for services */
    char what[PATH_MAX + 64];
    snprintf(what, sizeof what, "no executable 'nosuch' (searched %s:", dir);
    expect_error("[service a]\nexec = svc\n[task t]\nexec = nosuch\n", 4, "exec", what);
    snprintf(what, sizeof what, "not executable: %s/noexec", dir);
    expect_error("[service a]\nexec = svc\n[task t]\nexec = noexec\n", 4, "exec", what);
}

static void test_task_structure(void **state)
{
    (void)state;
    /* Service keys are not task keys. */
    assert_string_equal(load_fails("[service a]\nexec = svc\n[task t]\nexec = svc\nssr_size = 1K\n"),
                        "test.ini:5: key 'ssr_size': unknown key in [task t]");
    assert_string_equal(load_fails("[service a]\nexec = svc\n[task t]\nexec = svc\nnames = r:a\nnames = s:a\n"),
                        "test.ini:6: key 'names': given twice (first on line 5)");
    assert_string_equal(load_fails("[service a]\nexec = svc\n[task t]\nnames = r:a\n"),
                        "test.ini: [task t]: missing key 'exec'");
    assert_string_equal(load_fails("[service a]\nexec = svc\n[task t]\nexec = svc\n[task t]\nexec = svc\n"),
                        "test.ini:5: duplicate section [task t]");
    expect_error("[service a]\nexec = svc\n[task a/b]\nexec = svc\n", 3, NULL,
                 "bad task name 'a/b' (1 to 63 characters of A-Z a-z 0-9 _ -)");
    expect_error("[service a]\nexec = svc\n[task]\nexec = svc\n", 3, NULL, "bad task name ''");
    assert_string_equal(load_fails("[service a]\nexec = svc\n[tasks t]\n"), "test.ini:3: unknown section [tasks t]");
    /* A task alone is no manifest: clients need services. */
    assert_non_null(strstr(load_fails("[task t]\nexec = svc\n"), "at least one service"));
    /* A task and a service may share a name: they live apart. */
    struct rv_manifest m;
    load_ok("[service a]\nexec = svc\n[task a]\nexec = svc\nnames = a:a\n", &m);
    assert_int_equal(m.ntasks, 1);
    rv_manifest_free(&m);
}

/* Only the whole manifest tells whether a service exists; the error still
 * points at the line of the mapping. */
static void test_task_unknown_service(void **state)
{
    (void)state;
    assert_string_equal(load_fails("[task t]\nexec = svc\nnames = rng:a, tick:nosuch\n[service a]\nexec = svc\n"),
                        "test.ini:3: key 'names': 'tick:nosuch' maps to service 'nosuch', which the manifest "
                        "does not define");
    /* A dataspace is not looked for among the services. */
    struct rv_manifest m;
    load_ok("[task t]\nexec = svc\nnames = f:ds/nosuch\n[service a]\nexec = svc\n", &m);
    assert_true(m.tasks[0].names[0].dataspace);
    rv_manifest_free(&m);
    /* An error after a task was built frees it too (ASan checks). */
    expect_error("[task t]\nexec = svc\nargs = 1 2\nnames = r:a\n[service a]\nexec = svc\nstate = x\n",
                 7, "state", "'x' is not one of ssr, stateless");
}

/* ------------------------------------------------------------------ files */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_load_file(void **state)
{
    (void)state;
    char path[PATH_MAX + 16], err[512], want[PATH_MAX + 64];
    struct rv_manifest m;

    snprintf(path, sizeof path, "%s/m.ini", dir);
    write_file(path, "[service a]\nexec = svc\nssr_size = 1K\n");
    assert_int_equal(rv_manifest_load_file(path, dir, &m, err, sizeof err), 0);
    assert_int_equal(m.nservices, 1);
    assert_int_equal(m.services[0].ssr_size, 1024);
    rv_manifest_free(&m);

    /* Errors name the file. */
    snprintf(path, sizeof path, "%s/bad.ini", dir);
    write_file(path, "[service a]\nexec = svc\nrestart = sometimes\n");
    assert_int_equal(rv_manifest_load_file(path, dir, &m, err, sizeof err), -1);
    assert_empty(&m);
    snprintf(want, sizeof want, "%s:3: key 'restart': ", path);
    assert_int_equal(strncmp(err, want, strlen(want)), 0);
}

static void test_load_file_missing(void **state)
{
    (void)state;
    char err[512];
    struct rv_manifest m;
    assert_int_equal(rv_manifest_load_file("/nonexistent/revive.ini", dir, &m, err, sizeof err), -1);
    assert_empty(&m);
    assert_string_equal(err, "/nonexistent/revive.ini: cannot read: No such file or directory");
    assert_int_equal(rv_manifest_load_file(dir, dir, &m, err, sizeof err), -1);
    assert_empty(&m);
    assert_non_null(strstr(err, dir));
}

/* ---------------------------------------------------------------- default */

static void test_default_manifest(void **state)
{
    (void)state;
    struct rv_manifest m;
    char err[512], empty[PATH_MAX + 16];

    /* Without the binaries, it fails only because of them. */
    snprintf(empty, sizeof empty, "%s/adir", dir);
    setenv("RV_SAVED_PATH", getenv("PATH") ? getenv("PATH") : "", 1);
    setenv("PATH", empty, 1);
    int r = rv_manifest_load_text(rv_default_manifest, "default", empty, &m, err, sizeof err);
    setenv("PATH", getenv("RV_SAVED_PATH"), 1);
    unsetenv("RV_SAVED_PATH");
    assert_int_equal(r, -1);
    assert_non_null(strstr(err, "default:4: key 'exec': no executable 'rv-svc-random'"));

    assert_int_equal(rv_manifest_load_text(rv_default_manifest, "default", dir, &m, err, sizeof err), 0);
    assert_int_equal(m.nservices, 3);
    static const char *const names[] = {"random", "timer", "kv"};
    for (size_t i = 0; i < 3; i++) {
        struct rv_service_conf *c = &m.services[i];
        char want[PATH_MAX + 32];
        snprintf(want, sizeof want, "%s/rv-svc-%s", dir, names[i]);
        assert_string_equal(c->name, names[i]);
        assert_string_equal(c->exec, want);
        assert_null(c->argv[1]);
        assert_int_equal(c->ssr_size, i < 2 ? 64 : 0);
        assert_int_equal(c->state, i < 2 ? RV_STATE_SSR : RV_STATE_ARENA);
        assert_int_equal(c->arena_size, i < 2 ? 0 : 64u << 20);
        assert_int_equal(c->restart, RV_RESTART_ALWAYS);
        assert_int_equal(c->request_timeout_ms, 1000);
        assert_int_equal(c->heartbeat_ms, 500);
        assert_int_equal(c->max_restarts, 50);
        assert_int_equal(c->restart_window_ms, 10000);
        assert_int_equal(c->backoff_min_ms, 1);
        assert_int_equal(c->backoff_max_ms, 100);
        assert_int_equal(c->ssr_protect, RV_PROTECT_CHECKSUM);
        assert_true(c->standby);
    }
    rv_manifest_free(&m);
}

static void test_free_twice(void **state)
{
    (void)state;
    struct rv_manifest m;
    load_ok("[service a]\nexec = svc\n", &m);
    rv_manifest_free(&m);
    assert_empty(&m);
    rv_manifest_free(&m); /* a freed manifest is empty, freeing it is harmless */
    assert_empty(&m);
}

/* ----------------------------------------------------------- the sandbox */

/* Run as root (the tests are), a sandboxed service naming no user gets a
 * dynamic id of its own, the same for the same name; two services get two. */
static void test_sandbox_ids(void **state)
{
    (void)state;
    struct rv_manifest m, again;
    load_ok("[service a]\nexec = svc\n[service b]\nexec = svc\n[service c]\nexec = svc\nsandbox = no\n", &m);
    load_ok("[service a]\nexec = svc\n", &again);
    const struct rv_service_conf *a = &m.services[0], *b = &m.services[1], *c = &m.services[2];
    assert_true(a->sandbox && a->set_ids && a->uid == a->gid);
    assert_in_range(a->uid, RV_DYNAMIC_ID_MIN, RV_DYNAMIC_ID_MAX);
    assert_in_range(b->uid, RV_DYNAMIC_ID_MIN, RV_DYNAMIC_ID_MAX);
    assert_int_not_equal(a->uid, b->uid);
    assert_int_equal(again.services[0].uid, a->uid);
    assert_false(c->sandbox || c->set_ids);   /* as revived: root */
    assert_int_equal(c->uid, geteuid());
    rv_manifest_free(&m);
    rv_manifest_free(&again);
}

static void test_sandbox_keys(void **state)
{
    (void)state;
    struct rv_manifest m;
    load_ok("[service a]\nexec = svc\nuser = root\nsyscalls = io_uring_enter,pause  read\n"
            "read_paths = /usr /etc/ld.so.cache\nwrite_paths = /tmp\n", &m);
    const struct rv_service_conf *a = &m.services[0];
    assert_int_equal(a->uid, 0);
    assert_int_equal(a->gid, 0);   /* root's group */
    assert_true(a->set_ids);
    assert_string_equal(a->syscalls, "io_uring_enter pause read");
    assert_string_equal(a->read_paths[0], "/usr");
    assert_string_equal(a->read_paths[1], "/etc/ld.so.cache");
    assert_null(a->read_paths[2]);
    assert_string_equal(a->write_paths[0], "/tmp");
    rv_manifest_free(&m);
    struct rv_service_conf *c = load_one(&m, "group", "4343");
    assert_int_equal(c->gid, 4343);
    assert_in_range(c->uid, RV_DYNAMIC_ID_MIN, RV_DYNAMIC_ID_MAX);
    rv_manifest_free(&m);
}

static void test_sandbox_errors(void **state)
{
    (void)state;
    expect_bad_value("user", "no-such-user-of-revive", "no user 'no-such-user-of-revive'");
    expect_bad_value("group", "no-such-group-of-revive", "no group 'no-such-group-of-revive'");
    expect_bad_value("user", "4294967295", "out of range");
    expect_bad_value("sandbox", "maybe", "not one of no, yes");
    expect_bad_value("syscalls", "read foo", "unknown system call 'foo'");
    expect_bad_value("read_paths", "etc", "'etc' is not an absolute path");
    expect_bad_value("write_paths", "/no/such/dir", "'/no/such/dir': No such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_manifest),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_arena),
        cmocka_unit_test(test_arena_errors),
        cmocka_unit_test(test_empty_args),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_restart_and_backoff_forms),
        cmocka_unit_test(test_syntax_tolerance),
        cmocka_unit_test(test_service_names),
        cmocka_unit_test(test_exec_search),
        cmocka_unit_test(test_exec_paths),
        cmocka_unit_test(test_exec_missing_binary),
        cmocka_unit_test(test_exec_not_executable),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_bad_max_ssr_bytes),
        cmocka_unit_test(test_exact_message),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_unknown_section),
        cmocka_unit_test(test_bad_service_name),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_missing_exec),
        cmocka_unit_test(test_zero_services),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_error_frees_everything),
        cmocka_unit_test(test_task),
        cmocka_unit_test(test_task_bad_values),
        cmocka_unit_test(test_task_structure),
        cmocka_unit_test(test_task_unknown_service),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_image_and_mount),
        cmocka_unit_test(test_load_file_missing),
        cmocka_unit_test(test_default_manifest),
        cmocka_unit_test(test_free_twice),
        cmocka_unit_test(test_users_and_limits),
        cmocka_unit_test(test_bad_users_and_limits),
        cmocka_unit_test(test_sandbox_ids),
        cmocka_unit_test(test_sandbox_keys),
        cmocka_unit_test(test_sandbox_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
