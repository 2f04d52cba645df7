/* test_kv.c — the kv service's crash consistency, with real kills, and the
 * rv-kv command's contract.
 *
 * Crash consistency: concurrent clients put, delete and read their own keys
 * while the test kills the service (SEGV, KILL, ABRT through revivectl) at
 * whatever moment that is, and also while a put is provably in flight —
 * applied in the arena, not committed (rv-svc-kv-test's KV_PUT_SLOW tells
 * the test so through a FIFO, then blocks). Each client keeps a model of
 * its keys and checks every reply against it: a put says whether it
 * replaced a value, a delete whether the key existed, so a request that ran
 * twice, or whose effect a restart lost, shows at once. At the end every
 * key must hold what the model says (acknowledged puts present with their
 * value, acknowledged deletes absent), and KV_CHECK must find the table's
 * and the allocator's invariants intact: nothing half-applied. A put whose
 * client died before its reply must be undone whole by the restart.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"
#include "kv.h"

#define CLIENTS 4
#define KEYS 24
#define ROUNDS 12

static char fifo_path[64];    /* KV_PUT_SLOW's FIFO: named in the manifest, before revived's dir exists */

/* "fast_path = yes" when meson runs this file again for the fast path
 * (kv-fast), as harness.c's manifest_test does for `test`. */
static const char *fast_line(void)
{
    const char *fast = getenv("RV_IT_FAST_PATH");
    return fast && strcmp(fast, "1") == 0 ? "fast_path = yes\n" : "";
}

static const char *kv_manifest(char *buf, size_t len, const char *policy)
{
    snprintf(fifo_path, sizeof fifo_path, "/tmp/rv-kv-it-%d.fifo", (int)getpid());
    snprintf(buf, len, "[service kv]\nexec = rv-svc-kv-test\nargs = --test-fifo %s\nstate = arena\n"
                       "arena_size = 4M\nssr_size = 0\n" IT_TEST_PATHS "%s%s", fifo_path, fast_line(), policy);
    return buf;
}

#define KILL_POLICY "max_restarts = 100 in 10s\nrequest_timeout = 20s\nheartbeat = 10s\n"

static void slow_fifo(struct fifo *f)
{
    snprintf(f->path, sizeof f->path, "%s", fifo_path);
    unlink(f->path);
    it_mkfifo(f->path);
    f->fd = open(f->path, O_RDWR | O_CLOEXEC);
    assert_true(f->fd >= 0);
}

/* ---- calls ---- */

static int kv_put_op(rv_session *s, uint32_t op, const char *key, const char *value, uint8_t *replaced)
{
    char req[1 + KV_KEY_MAX + KV_VALUE_MAX], reply[256];
    size_t klen = strlen(key), vlen = strlen(value), len = 0;
    req[0] = (char)klen;
    memcpy(req + 1, key, klen);
    memcpy(req + 1 + klen, value, vlen);
    int rc = rv_call(s, op, req, 1 + klen + vlen, reply, sizeof reply, &len);
    if (rc == 0 && len != 1)
        return RV_EPROTO;
    *replaced = rc == 0 ? (uint8_t)reply[0] : 0;
    return rc;
}

/* The value, NUL-terminated, into buf (KV_VALUE_MAX + 1 bytes). */
static int kv_get(rv_session *s, const char *key, char *buf)
{
    size_t len = 0;
    int rc = rv_call(s, KV_GET, key, strlen(key), buf, KV_VALUE_MAX, &len);
    buf[rc == 0 ? len : 0] = '\0';
    return rc;
}

static int kv_del(rv_session *s, const char *key)
{
    return rv_call(s, KV_DEL, key, strlen(key), NULL, 0, NULL);
}

static uint64_t kv_check(rv_session *s)
{
    char reply[256] = "";
    size_t len = 0;
    int rc = rv_call(s, KV_CHECK, NULL, 0, reply, sizeof reply - 1, &len);
    if (rc != 0)
        fail_msg("KV_CHECK: %d: %.*s", rc, (int)len, reply);
    assert_int_equal(len, sizeof(uint64_t));
    uint64_t n;
    memcpy(&n, reply, sizeof n);
    return n;
}

/* ---- clients, each with a model of its keys ---- */

struct client {
    struct clients *all;
    pthread_t th;
    rv_session *s;
    unsigned id, seed;
    bool present[KEYS];
    char value[KEYS][KV_VALUE_MAX + 1];
    int pending;              /* the key a put or delete is in flight for; -1: none */
    bool pending_put;
    char pending_value[KV_VALUE_MAX + 1];
    int last_rc;              /* of the last call */
    uint64_t calls;
    char why[320];            /* first failure; "" while all is well */
};

struct clients {
    struct client c[CLIENTS];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
};

static void key_name(char *buf, size_t len, unsigned client, unsigned k)
{
    snprintf(buf, len, "c%u-k%02u", client, k);
}

/* A value whose length varies from ~20 to ~920 bytes, so puts both update
 * in place and move entries to blocks of other sizes. */
static void make_value(struct client *c, unsigned k, char *v)
{
    int n = snprintf(v, KV_VALUE_MAX + 1, "c%u-k%02u-v%" PRIu64 "-", c->id, k, c->calls);
    unsigned pad = rand_r(&c->seed) % 900;
    memset(v + n, 'a' + (int)(c->calls % 26), pad);
    v[n + pad] = '\0';
}

/* One random operation, checked against the model; false and c->why on a
 * mismatch. */
static bool step(struct client *c)
{
    unsigned k = rand_r(&c->seed) % KEYS, what = rand_r(&c->seed) % 10;
    char key[32], v[KV_VALUE_MAX + 1];
    key_name(key, sizeof key, c->id, k);
    int rc;
    c->pending = what < 9 ? (int)k : -1;
    c->pending_put = what < 6;
    if (what < 6) {
        uint8_t replaced;
        make_value(c, k, v);
        strcpy(c->pending_value, v);
        rc = c->last_rc = kv_put_op(c->s, KV_PUT, key, v, &replaced);
        if (rc == 0 && replaced == c->present[k]) {
            c->pending = -1;
            c->present[k] = true;
            strcpy(c->value[k], v);
            return true;
        }
        snprintf(c->why, sizeof c->why, "put %s: status %d, replaced %u, but the key was %s", key, rc, replaced,
                 c->present[k] ? "present" : "absent");
    } else if (what < 9) {
        rc = c->last_rc = kv_del(c->s, key);
        if (rc == (c->present[k] ? 0 : KV_ENOTFOUND)) {
            c->pending = -1;
            c->present[k] = false;
            return true;
        }
        snprintf(c->why, sizeof c->why, "del %s: status %d, but the key was %s", key, rc,
                 c->present[k] ? "present" : "absent");
    } else {
        rc = c->last_rc = kv_get(c->s, key, v);
        if (c->present[k] ? rc == 0 && strcmp(v, c->value[k]) == 0 : rc == KV_ENOTFOUND)
            return true;
        snprintf(c->why, sizeof c->why, "get %s: status %d, value '%.40s...', expected '%.40s...'", key, rc, v,
                 c->present[k] ? c->value[k] : "none");
    }
    return false;
}

static void *client_main(void *arg)
{
    struct client *c = arg;
    struct clients *all = c->all;
    for (;;) {
        pthread_mutex_lock(&all->mu);
        bool stop = all->stop;
        pthread_mutex_unlock(&all->mu);
        if (stop)
            return NULL;
        bool ok = step(c);
        pthread_mutex_lock(&all->mu);
        c->calls++;
        pthread_cond_broadcast(&all->cv);
        pthread_mutex_unlock(&all->mu);
        if (!ok)
            return NULL;
    }
}

/* New sessions and threads for the clients, whose models carry on. */
static void clients_resume(struct clients *all, const struct rvd *d)
{
    all->stop = false;
    for (unsigned i = 0; i < CLIENTS; i++) {
        struct client *c = &all->c[i];
        c->s = open_session(d, "kv", NULL);
        c->why[0] = '\0';
        c->pending = -1;
    }
    for (unsigned i = 0; i < CLIENTS; i++)
        assert_int_equal(pthread_create(&all->c[i].th, NULL, client_main, &all->c[i]), 0);
}

static void clients_start(struct clients *all, const struct rvd *d, unsigned seed)
{
    memset(all, 0, sizeof *all);
    pthread_mutex_init(&all->mu, NULL);
    pthread_cond_init(&all->cv, NULL);
    for (unsigned i = 0; i < CLIENTS; i++)
        all->c[i] = (struct client){ .all = all, .id = i, .seed = seed + i };
    clients_resume(all, d);
}

static void clients_check(struct clients *all)
{
    for (unsigned i = 0; i < CLIENTS; i++)
        if (all->c[i].why[0])
            fail_msg("client %u: %s (%s)", i, all->c[i].why, rv_session_error(all->c[i].s));
}

/* Waits until every client made `calls` more calls (or one failed). */
static void clients_progress(struct clients *all, uint64_t calls)
{
    uint64_t want[CLIENTS];
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += IT_WAIT_MS / 1000;
    pthread_mutex_lock(&all->mu);
    for (unsigned i = 0; i < CLIENTS; i++)
        want[i] = all->c[i].calls + calls;
    bool done = false, failed = false;
    while (!done && !failed) {
        done = true;
        for (unsigned i = 0; i < CLIENTS; i++) {
            done &= all->c[i].calls >= want[i];
            failed |= all->c[i].why[0] != '\0';
        }
        if (!done && !failed && pthread_cond_timedwait(&all->cv, &all->mu, &deadline) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&all->mu);
    clients_check(all);
    if (!done)
        fail_msg("the kv clients made no progress within %d ms", IT_WAIT_MS);
}

/* Stops and joins the clients. With `revived_died`, each one's call in
 * flight may have ended with RV_ELOST (its session went with revived), and
 * with nothing else; the sessions are closed. */
static void clients_stop(struct clients *all, bool revived_died)
{
    pthread_mutex_lock(&all->mu);
    all->stop = true;
    pthread_mutex_unlock(&all->mu);
    for (unsigned i = 0; i < CLIENTS; i++) {
        struct client *c = &all->c[i];
        pthread_join(c->th, NULL);
        if (c->why[0] && !(revived_died && c->last_rc == RV_ELOST))
            fail_msg("client %u: %s (%s)", i, c->why, rv_session_error(c->s));
        rv_close(c->s);
    }
}

/* Every acknowledged put and delete is there; a put or delete a client had
 * in flight when revived died took effect whole or not at all (its value
 * entire, or the old state), and the models learn which. Returns how many
 * of the clients' keys are present. */
static uint64_t verify_models(struct clients *all, rv_session *s)
{
    uint64_t present = 0;
    for (unsigned i = 0; i < CLIENTS; i++)
        for (unsigned k = 0; k < KEYS; k++) {
            struct client *c = &all->c[i];
            char key[32], v[KV_VALUE_MAX + 1];
            key_name(key, sizeof key, i, k);
            int rc = kv_get(s, key, v);
            bool as_model = c->present[k] ? rc == 0 && strcmp(v, c->value[k]) == 0 : rc == KV_ENOTFOUND;
            bool as_pending = c->pending == (int)k &&
                              (c->pending_put ? rc == 0 && strcmp(v, c->pending_value) == 0 : rc == KV_ENOTFOUND);
            if (!as_model && !as_pending)
                fail_msg("%s: status %d, value '%.40s...'; acknowledged: %s '%.40s...'%s", key,
                         rc, v, c->present[k] ? "present" : "absent", c->present[k] ? c->value[k] : "",
                         c->pending == (int)k ? " (a write was in flight)" : "");
            c->present[k] = rc == 0;
            if (rc == 0)
                strcpy(c->value[k], v);
            present += rc == 0;
        }
    return present;
}

static unsigned test_seed(void)
{
    const char *env = getenv("KV_TEST_SEED");
    unsigned seed = env ? (unsigned)strtoul(env, NULL, 0) : (unsigned)time(NULL);
    fprintf(stderr, "test_kv: seed %u (KV_TEST_SEED=%u repeats this run)\n", seed, seed);
    return seed;
}

/* ---- durability: an arena_file, across the death of revived itself ---- */

static char arena_path[64];   /* named in the manifest, before revived's dir exists */

static const char *kv_durable_manifest(char *buf, size_t len)
{
    snprintf(arena_path, sizeof arena_path, "/tmp/rv-kv-it-%d.arena", (int)getpid());
    snprintf(buf, len, "[service kv]\nexec = rv-svc-kv\nstate = arena\narena_size = 4M\nssr_size = 0\n"
                       "arena_file = %s\n%s" KILL_POLICY, arena_path, fast_line());
    return buf;
}

/* Clients put, delete and read while revived itself is SIGKILLed (with
 * every service instance: everything that could lose a write), then a new
 * revived starts on the same manifest and loads the arena from its file.
 * Five times over: no acknowledged write is lost, none half-applied, and
 * the table's and the allocator's invariants hold (KV_CHECK). */
static void test_kv_durable_across_revived_kill(void **state)
{
    (void)state;
    struct rvd d;
    char m[512];
    kv_durable_manifest(m, sizeof m);
    unlink(arena_path);
    rvd_start(&d, m);
    static struct clients all;
    clients_start(&all, &d, test_seed());
    for (int round = 0; round < 5; round++) {
        clients_progress(&all, 30);
        rvd_crash_and_restart(&d);
        clients_stop(&all, true);
        rv_session *s = open_session(&d, "kv", NULL);
        assert_int_equal(kv_check(s), verify_models(&all, s));
        rv_close(s);
        clients_resume(&all, &d);
    }
    clients_progress(&all, 30);
    clients_stop(&all, false);
    rvd_stop(&d);
    unlink(arena_path);
}

/* ---- in-flight puts ---- */

struct slow_put {
    pthread_t th;
    rv_session *s;
    char key[32], value[32];
    int rc;
    uint8_t replaced;
};

static void *slow_main(void *arg)
{
    struct slow_put *p = arg;
    p->rc = kv_put_op(p->s, KV_PUT_SLOW, p->key, p->value, &p->replaced);
    return NULL;
}

/* Kills the service while a put is certainly applied and uncommitted; the
 * caller waits through the restart, the put re-runs from the journal on a
 * rolled-back arena, and is answered once with the right "replaced". */
static void kill_in_flight(const struct rvd *d, rv_session *s, unsigned n, const char *sig)
{
    struct fifo f;
    struct slow_put p = { .s = s };
    snprintf(p.key, sizeof p.key, "slow");
    snprintf(p.value, sizeof p.value, "slow-%u", n);
    slow_fifo(&f);
    assert_int_equal(pthread_create(&p.th, NULL, slow_main, &p), 0);
    fifo_wait(&f);
    fifo_close(&f);   /* so the re-run does not block */
    ctl(d, "kill", "kv", sig);
    pthread_join(p.th, NULL);
    if (p.rc != 0)
        fail_msg("KV_PUT_SLOW across SIG%s: %d: %s", sig, p.rc, rv_session_error(s));
    assert_int_equal(p.replaced, n > 0);
    char v[KV_VALUE_MAX + 1];
    assert_int_equal(kv_get(s, "slow", v), 0);
    assert_string_equal(v, p.value);
}

static void test_kv_crash_consistency(void **state)
{
    (void)state;
    static const char *const signals[] = { "SEGV", "KILL", "ABRT" };
    struct rvd d;
    char m[512];
    unsigned seed = test_seed(), slow = 0;
    rvd_start(&d, kv_manifest(m, sizeof m, KILL_POLICY));
    rv_session *s = open_session(&d, "kv", NULL);
    static struct clients all;
    clients_start(&all, &d, seed);
    for (unsigned round = 0; round < ROUNDS; round++) {
        clients_progress(&all, 25);
        const char *sig = signals[rand_r(&seed) % 3];
        if (round % 3 == 2)
            kill_in_flight(&d, s, slow++, sig);
        else
            ctl(&d, "kill", "kv", sig);   /* wherever the clients' requests are */
    }
    clients_progress(&all, 25);
    clients_stop(&all, false);
    uint64_t present = verify_models(&all, s);
    assert_int_equal(kv_check(s), present + 1);   /* + "slow" */
    struct svc_status st;
    svc_status(&d, "kv", &st);
    assert_int_equal(st.restarts, ROUNDS);
    rv_close(s);
    rvd_stop(&d);
}

/* ---- a put whose client died before the reply ---- */

static bool sessions_are(const struct svc_status *st, const void *arg)
{
    return st->sessions == *(const long long *)arg;
}

/* In a child process: opens a session, sends the slow put, and waits for
 * a reply it will never read (the parent kills it). */
static pid_t orphan_put(const struct rvd *d, const char *key, const char *value)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        rv_conn *c;
        rv_session *s;
        uint8_t replaced;
        if (rv_connect(d->sock, &c) != 0 || rv_open(c, "kv", NULL, &s) != 0)
            _exit(1);
        kv_put_op(s, KV_PUT_SLOW, key, value, &replaced);
        _exit(1);
    }
    return pid;
}

/* The put ran, in the arena, and then the client and the service died:
 * nobody was told it happened, no journal will re-run it, so the next
 * instance must undo it whole. */
static void unacknowledged_put(const struct rvd *d, const char *key, const char *value)
{
    struct fifo f;
    slow_fifo(&f);
    pid_t pid = orphan_put(d, key, value);
    fifo_wait(&f);
    fifo_close(&f);
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    long long one = 1;   /* only s: revived has ended the dead client's session */
    struct svc_status st;
    wait_status(d, "kv", sessions_are, &one, &st);
    ctl(d, "kill", "kv", "KILL");
}

static void test_kv_unacknowledged_put_undone(void **state)
{
    (void)state;
    struct rvd d;
    char m[512], v[KV_VALUE_MAX + 1];
    uint8_t replaced;
    rvd_start(&d, kv_manifest(m, sizeof m, KILL_POLICY));
    rv_session *s = open_session(&d, "kv", NULL);
    assert_int_equal(kv_put_op(s, KV_PUT, "orphan", "old", &replaced), 0);

    unacknowledged_put(&d, "orphan", "a new value that never committed");
    assert_int_equal(kv_get(s, "orphan", v), 0);
    assert_string_equal(v, "old");

    unacknowledged_put(&d, "fresh", "a key that never existed");
    assert_int_equal(kv_get(s, "fresh", v), KV_ENOTFOUND);
    assert_int_equal(kv_check(s), 1);
    rv_close(s);
    rvd_stop(&d);
}

/* ---- rv-kv ---- */

struct out {
    int rc;
    char out[16384], err[1024];
};

static void rv_kv(const struct rvd *d, struct out *o, const char *a1, const char *a2, const char *a3)
{
    const char *argv[] = { RV_IT_RV_KV, "--socket", d->sock, a1, a2, a3, NULL };
    o->rc = run(argv, o->out, sizeof o->out, o->err, sizeof o->err);
}

static void expect(const struct out *o, int rc, const char *out, const char *err)
{
    if (o->rc != rc || strcmp(o->out, out) != 0 || !strstr(o->err, err))
        fail_msg("rv-kv: exit %d, stdout '%s', stderr '%s'; expected exit %d, stdout '%s', stderr with '%s'", o->rc,
                 o->out, o->err, rc, out, err);
}

static bool is_failed(const struct svc_status *st, const void *arg)
{
    (void)arg;
    return strcmp(st->state, "failed") == 0;
}

static void test_kv_cli(void **state)
{
    (void)state;
    struct rvd d;
    struct out o;
    char m[512], long_key[80], long_value[1100];
    rvd_start(&d, kv_manifest(m, sizeof m, "max_restarts = 1 in 1min\n"));

    rv_kv(&d, &o, "put", "colour", "blue green");
    expect(&o, 0, "", "");
    rv_kv(&d, &o, "get", "colour", NULL);
    expect(&o, 0, "blue green\n", "");
    rv_kv(&d, &o, "get", "shape", NULL);
    expect(&o, 1, "", "rv-kv: no key 'shape'");
    rv_kv(&d, &o, "del", "shape", NULL);
    expect(&o, 1, "", "rv-kv: no key 'shape'");

    /* a put that exited 0 survives the service's death right after it */
    rv_kv(&d, &o, "put", "durable", "yes");
    expect(&o, 0, "", "");
    ctl(&d, "kill", "kv", "KILL");
    rv_kv(&d, &o, "get", "durable", NULL);
    expect(&o, 0, "yes\n", "");
    rv_kv(&d, &o, "del", "durable", NULL);
    expect(&o, 0, "", "");
    rv_kv(&d, &o, "get", "durable", NULL);
    expect(&o, 1, "", "no key 'durable'");

    /* scan: more keys than one reply holds, each exactly once, in any order */
    rv_session *s = open_session(&d, "kv", NULL);
    char key[16], value[64], want[16384] = "";
    uint8_t replaced;
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof key, "s%03d", i);
        snprintf(value, sizeof value, "value %d, long enough to need several replies", i);
        assert_int_equal(kv_put_op(s, KV_PUT, key, value, &replaced), 0);
    }
    rv_kv(&d, &o, "scan", "s", NULL);
    assert_int_equal(o.rc, 0);
    for (int i = 0; i < 200; i++) {
        snprintf(want, sizeof want, "s%03d\tvalue %d, long enough to need several replies\n", i, i);
        char *at = strstr(o.out, want);
        if (!at || strstr(at + 1, want))
            fail_msg("scan: '%s' not exactly once", want);
    }
    rv_kv(&d, &o, "scan", NULL, NULL);
    assert_int_equal(o.rc, 0);
    assert_non_null(strstr(o.out, "colour\tblue green\n"));
    rv_close(s);

    /* usage errors: exit 2, nothing sent */
    rv_kv(&d, &o, NULL, NULL, NULL);
    expect(&o, 2, "", "rv-kv: no command given");
    rv_kv(&d, &o, "frob", NULL, NULL);
    expect(&o, 2, "", "rv-kv: unknown command 'frob'");
    rv_kv(&d, &o, "put", "colour", NULL);
    expect(&o, 2, "", "rv-kv: wrong number of arguments for 'put'");
    memset(long_key, 'k', 65);
    long_key[65] = '\0';
    rv_kv(&d, &o, "get", long_key, NULL);
    expect(&o, 2, "", "is not a key (1 to 64 bytes)");
    memset(long_value, 'v', 1025);
    long_value[1025] = '\0';
    rv_kv(&d, &o, "put", "colour", long_value);
    expect(&o, 2, "", "the value is longer than 1024 bytes");

    /* revive errors: exit 3 with a sentence */
    const char *argv[] = { RV_IT_RV_KV, "--socket", "/nonexistent/revived.sock", "get", "colour", NULL };
    o.rc = run(argv, o.out, sizeof o.out, o.err, sizeof o.err);
    expect(&o, 3, "", "rv-kv: cannot reach revived at /nonexistent/revived.sock");
    ctl(&d, "kill", "kv", "KILL");   /* the second restart within a minute: kv fails */
    struct svc_status st;
    wait_status(&d, "kv", is_failed, NULL, &st);
    rv_kv(&d, &o, "get", "colour", NULL);
    expect(&o, 3, "", "rv-kv: cannot open a session with 'kv': service 'kv' is failed");
    rvd_stop(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_kv_crash_consistency, it_teardown),
        cmocka_unit_test_teardown(test_kv_unacknowledged_put_undone, it_teardown),
        cmocka_unit_test_teardown(test_kv_durable_across_revived_kill, it_teardown),
        cmocka_unit_test_teardown(test_kv_cli, it_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(fifo_path);
    unlink(arena_path);
    return rc;
}
