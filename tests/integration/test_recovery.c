/* test_recovery.c — services killed from outside (SEGV, KILL, ABRT) while
 * clients are calling them: every reply arrives exactly once and is what a
 * run without kills gives. Covers the three services (test, random, timer)
 * and `revivectl restart`; and `state = stateless`, where a restart revokes
 * the sessions instead. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "harness.h"
#include "revive/cap.h"
#include "testsvc.h"
#include "wire.h"

static const char *const signals[] = { "SEGV", "KILL", "ABRT" };
#define NSIGNALS (sizeof signals / sizeof signals[0])

/* Generous limits: the point is recovery, not the restart policy. */
#define KILL_POLICY "max_restarts = 100 in 10s\nrequest_timeout = 20s\nheartbeat = 10s\n"

/* ---- test: the counters of concurrent clients across kills ---- */

/* Kills the service while SLOW_INCR is certainly in flight: its byte came
 * through the FIFO, and only then is the FIFO removed (so the re-run does
 * not block) and the signal sent. */
static void kill_in_flight(const struct rvd *d, rv_session *sync, uint64_t expect, const char *sig)
{
    struct fifo f;
    fifo_make(d, "sync.fifo", &f);
    struct slow_call c = { .s = sync };
    slow_call_start(&c);
    fifo_wait(&f);
    fifo_close(&f);
    ctl(d, "kill", "test", sig);
    pthread_join(c.th, NULL);
    if (c.rc != 0)
        fail_msg("SLOW_INCR across SIG%s: %d: %s", sig, c.rc, rv_session_error(sync));
    assert_int_equal(c.v, expect);
}

static void test_testsvc_kills(void **state)
{
    (void)state;
    struct rvd d;
    char m[512], args[160], path[128];
    rvd_start(&d, manifest_test(m, sizeof m, KILL_POLICY));
    snprintf(args, sizeof args, "fifo=%s", rvd_file(&d, "sync.fifo", path, sizeof path));
    rv_session *sync = open_session(&d, "test", args);
    struct crew crew;
    crew_start(&crew, &d, 4);
    uint64_t slow = 0;
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < NSIGNALS; i++) {
            crew_wait_progress(&crew, 20);
            kill_in_flight(&d, sync, ++slow, signals[i]);
            crew_wait_progress(&crew, 20);
            ctl(&d, "kill", "test", signals[i]);   /* while the crew's INCRs run */
        }
    crew_wait_progress(&crew, 20);
    crew_stop(&crew);
    assert_int_equal(call_ok(sync, TEST_GET), slow);
    rv_close(sync);
    struct svc_status st;
    svc_status(&d, "test", &st);
    assert_int_equal(st.restarts, 4 * NSIGNALS);
    rvd_stop(&d);
}

/* ---- test: rv-random processes against a golden run ---- */

#define RANDOM_CLIENTS 3
#define RANDOM_COUNT 6000

static const char random_manifest[] =
    "[service random]\nexec = rv-svc-random\nssr_size = 64\n" KILL_POLICY;

struct stream {
    pthread_t th;
    struct proc p;
    char *out;
    size_t used, cap, lines;
    pthread_mutex_t *mu;
    pthread_cond_t *cv;
};

static void *stream_main(void *arg)
{
    struct stream *s = arg;
    for (;;) {
        if (s->used + 4096 > s->cap && !(s->out = realloc(s->out, s->cap *= 2)))
            abort();
        ssize_t r = read(s->p.out, s->out + s->used, 4096);
        if (r <= 0 && !(r < 0 && errno == EINTR))
            break;
        size_t lines = 0;
        for (ssize_t i = 0; i < r; i++)
            lines += s->out[s->used + (size_t)i] == '\n';
        pthread_mutex_lock(s->mu);
        s->used += r > 0 ? (size_t)r : 0;
        s->lines += lines;
        pthread_cond_broadcast(s->cv);
        pthread_mutex_unlock(s->mu);
    }
    pthread_mutex_lock(s->mu);
    s->lines = SIZE_MAX;   /* EOF: no more progress to wait for */
    pthread_cond_broadcast(s->cv);
    pthread_mutex_unlock(s->mu);
    return NULL;
}

static void random_argv(const struct rvd *d, unsigned seed, char *seedbuf, const char *argv[8])
{
    static char count[16];
    snprintf(count, sizeof count, "%d", RANDOM_COUNT);
    sprintf(seedbuf, "%u", seed);
    const char *a[] = { RV_IT_RV_RANDOM, "--socket", d->sock, "--seed", seedbuf, "--count", count, NULL };
    memcpy(argv, a, sizeof a);
}

static char *golden_run(const struct rvd *d, unsigned seed)
{
    const char *argv[8];
    char seedbuf[16], err[512];
    char *out = malloc(RANDOM_COUNT * 24);
    assert_non_null(out);
    random_argv(d, seed, seedbuf, argv);
    int rc = run(argv, out, RANDOM_COUNT * 24, err, sizeof err);
    if (rc != 0)
        fail_msg("rv-random golden run: exit %d: %s", rc, err);
    return out;
}

static void wait_lines(struct stream *s, size_t n, size_t lines)
{
    pthread_mutex_lock(s[0].mu);
    for (;;) {
        bool done = true;
        for (size_t i = 0; i < n; i++)
            done &= s[i].lines >= lines;
        if (done)
            break;
        pthread_cond_wait(s[0].cv, s[0].mu);
    }
    pthread_mutex_unlock(s[0].mu);
}

static void test_random_kills(void **state)
{
    (void)state;
    struct rvd d;
    rvd_start(&d, random_manifest);
    char *golden[RANDOM_CLIENTS];
    for (unsigned i = 0; i < RANDOM_CLIENTS; i++)
        golden[i] = golden_run(&d, 1000 + i);
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    struct stream s[RANDOM_CLIENTS];
    char seeds[RANDOM_CLIENTS][16];
    for (unsigned i = 0; i < RANDOM_CLIENTS; i++) {
        const char *argv[8];
        random_argv(&d, 1000 + i, seeds[i], argv);
        s[i] = (struct stream){ .cap = 1 << 16, .mu = &mu, .cv = &cv };
        s[i].out = malloc(s[i].cap);
        assert_non_null(s[i].out);
        proc_spawn(&s[i].p, argv);
        assert_int_equal(pthread_create(&s[i].th, NULL, stream_main, &s[i]), 0);
    }
    for (size_t k = 0; k < NSIGNALS; k++) {
        wait_lines(s, RANDOM_CLIENTS, (k + 1) * RANDOM_COUNT / (NSIGNALS + 2));
        ctl(&d, "kill", "random", signals[k]);
    }
    for (unsigned i = 0; i < RANDOM_CLIENTS; i++) {
        char err[512];
        pthread_join(s[i].th, NULL);
        int rc = proc_finish(&s[i].p, NULL, 0, err, sizeof err);
        if (rc != 0)
            fail_msg("rv-random seed %u: exit %d: %s", 1000 + i, rc, err);
        s[i].out[s[i].used] = '\0';
        assert_string_equal(s[i].out, golden[i]);
        free(s[i].out);
        free(golden[i]);
    }
    struct svc_status st;
    svc_status(&d, "random", &st);
    assert_int_equal(st.restarts, NSIGNALS);
    rvd_stop(&d);
}

/* ---- test: rv-tick counts every expiration across timer restarts ---- */

static const char timer_manifest[] =
    "[service timer]\nexec = rv-svc-timer\nssr_size = 64\n" KILL_POLICY;
static const char timer_standby_manifest[] =
    "[service timer]\nexec = rv-svc-timer\nssr_size = 64\nstandby = yes\n" KILL_POLICY;

/* rv-tick's session stores its notifier (an eventfd) with revived, and the
 * next instance must signal it. With a standby each kill waits until the
 * standby holds the sessions, so the notifier reaches it forwarded (the
 * first kill: stored after the standby adopted the session) or with the
 * sessions it adopts (the later ones). */
static void timer_kills(const char *manifest, bool standby)
{
    struct rvd d;
    rvd_start(&d, manifest);
    struct svc_status st;
    if (standby)
        wait_status(&d, "timer", status_standby_ready, NULL, &st);
    const char *argv[] = { RV_IT_RV_TICK, "--socket", d.sock, "--period-ms", "50", "--count", "15", NULL };
    struct proc p;
    proc_spawn(&p, argv);
    char line[256], last[256] = "";
    size_t kills = 0;
    for (int n = 0; proc_line(&p, line, sizeof line); snprintf(last, sizeof last, "%s", line))
        if (sscanf(line, "notification %d:", &n) == 1 && n % 4 == 0 && kills < NSIGNALS) {
            if (standby)
                wait_status(&d, "timer", status_standby_ready, NULL, &st);
            ctl(&d, "kill", "timer", signals[kills++]);
        }
    char err[512];
    int rc = proc_finish(&p, NULL, 0, err, sizeof err);
    if (rc != 0)
        fail_msg("rv-tick: exit %d: %s", rc, err);
    assert_int_equal(kills, NSIGNALS);
    unsigned long long total;
    double secs, ratio;
    long period;
    if (sscanf(last, "total %llu expirations in %lf s (period %ld ms, elapsed/period %lf)", &total, &secs,
               &period, &ratio) != 4)
        fail_msg("rv-tick's last line is not its summary: '%s'", last);
    if ((double)total > ratio + 1.0 || (double)total < ratio - 1.0)
        fail_msg("rv-tick counted %llu expirations in %.2f periods", total, ratio);
    svc_status(&d, "timer", &st);
    assert_int_equal(st.restarts, NSIGNALS);
    rvd_stop(&d);
}

static void test_timer_kills(void **state)
{
    (void)state;
    timer_kills(timer_manifest, false);
}

static void test_timer_standby_kills(void **state)
{
    (void)state;
    timer_kills(timer_standby_manifest, true);
}

/* ---- test: revivectl restart keeps the session ---- */

static bool replaced(const struct svc_status *st, const void *arg)
{
    return st->pid != *(const long long *)arg && st->pid > 0 && strcmp(st->state, "ready") == 0;
}

static void test_ctl_restart(void **state)
{
    (void)state;
    struct rvd d;
    char m[512];
    rvd_start(&d, manifest_test(m, sizeof m, KILL_POLICY));
    rv_session *s = open_session(&d, "test", NULL);
    for (uint64_t i = 1; i <= 3; i++)
        assert_int_equal(call_ok(s, TEST_INCR), i);
    struct svc_status st;
    svc_status(&d, "test", &st);
    long long old = st.pid;
    ctl(&d, "restart", "test", NULL);
    wait_status(&d, "test", replaced, &old, &st);
    assert_int_equal(st.restarts, 1);
    assert_int_equal(st.sessions, 1);
    assert_int_equal(call_ok(s, TEST_INCR), 4);
    rv_close(s);
    rvd_stop(&d);
}

/* ---- test: the recover hook may update SSRs, under every policy ---- */

/* One session, so the first request after each recovery is on the SSR the
 * hook updated last: under mprotect, the one the runtime may still think is
 * open. */
static void test_recover_updates(void **state)
{
    (void)state;
    static const char *const policies[] = { "ssr_protect = mprotect\n", "ssr_protect = checksum\n" };
    for (size_t p = 0; p < 2; p++) {
        struct rvd d;
        char m[512], extra[256];
        snprintf(extra, sizeof extra, "%s%s", KILL_POLICY, policies[p]);
        rvd_start(&d, manifest_test(m, sizeof m, extra));
        rv_session *s = open_session(&d, "test", NULL);
        for (uint64_t k = 1; k <= 2; k++) {
            ctl(&d, "kill", "test", "KILL");
            assert_int_equal(call_ok(s, TEST_INCR), k);
            assert_int_equal(call_ok(s, TEST_RECOVERIES), k);
        }
        rv_close(s);
        rvd_stop(&d);
    }
}

/* ---- test: state = stateless revokes sessions on restart ---- */

static bool restarted_once(const struct svc_status *st, const void *arg)
{
    (void)arg;
    return st->restarts == 1 && strcmp(st->state, "ready") == 0;
}

/* Nothing survives the restart: both sessions are revoked, each client is
 * told so with RV_EREVOKED (not a hang, not a bare hang-up), and a session
 * opened afterwards starts from fresh state. The capability registry is off,
 * or librevive would reanimate the sessions (test_reanimate.c). */
static void test_stateless_revokes(void **state)
{
    (void)state;
    struct rvd d;
    char m[512];
    rvd_start(&d, manifest_test(m, sizeof m, KILL_POLICY "state = stateless\n"));
    rv_cap_registry_enable(false);
    rv_session *a = open_session(&d, "test", NULL), *b = open_session(&d, "test", NULL);
    assert_int_equal(call_ok(a, TEST_INCR), 1);
    assert_int_equal(call_ok(a, TEST_INCR), 2);
    ctl(&d, "kill", "test", "KILL");
    struct svc_status st;
    wait_status(&d, "test", restarted_once, NULL, &st);
    assert_int_equal(st.sessions, 0);
    uint64_t v;
    assert_int_equal(call_u64(a, TEST_INCR, &v), RV_EREVOKED);
    assert_non_null(strstr(rv_session_error(a), "stateless"));
    assert_int_equal(call_u64(b, TEST_INCR, &v), RV_EREVOKED);
    rv_close(a);
    rv_close(b);
    rv_session *fresh = open_session(&d, "test", NULL);
    assert_int_equal(call_ok(fresh, TEST_INCR), 1);
    rv_close(fresh);
    rv_cap_registry_enable(true);
    rvd_stop(&d);
}

/* ---- test: a hot standby takes over, and is replaced ---- */

static bool has_standby(const struct svc_status *st, const void *arg)
{
    (void)arg;
    return st->standby_pid > 0 && strcmp(st->state, "ready") == 0;
}

static bool standby_promoted(const struct svc_status *st, const void *arg)
{
    const struct svc_status *before = arg;
    return st->pid == before->standby_pid && st->standby_pid > 0 && st->standby_pid != before->standby_pid &&
           strcmp(st->state, "ready") == 0;
}

static void test_standby_takeover(void **state)
{
    (void)state;
    struct rvd d;
    char m[512], path[128], args[160];
    rvd_start(&d, manifest_test(m, sizeof m, KILL_POLICY "standby = yes\n"));
    snprintf(args, sizeof args, "fifo=%s", rvd_file(&d, "sync.fifo", path, sizeof path));
    rv_session *s = open_session(&d, "test", args);
    assert_int_equal(call_ok(s, TEST_INCR), 1);
    struct svc_status before, after;
    wait_status(&d, "test", status_standby_ready, NULL, &before);
    assert_true(before.standby_pid != before.pid);
    /* opened while the standby waits: it adopts this one as it binds */
    rv_session *late = open_session(&d, "test", args), *gone = open_session(&d, "test", args);
    assert_int_equal(call_ok(late, TEST_INCR), 1);
    rv_close(gone);   /* and forgets this one */
    kill_in_flight(&d, s, 2, "KILL");
    wait_status(&d, "test", standby_promoted, &before, &after);
    assert_int_equal(after.restarts, 1);
    assert_int_equal(call_ok(s, TEST_INCR), 3);
    assert_int_equal(call_ok(late, TEST_INCR), 2);
    rv_close(late);
    rv_close(s);
    rvd_stop(&d);
}

/* A service that closes its control channel and serves on (it lies, or
 * it is broken) is not taken for dead: its channel's hang-up hands its
 * sessions to no one while it runs. The heartbeat finds it deaf and kills
 * it, and only then does the standby take over (the old process gone by
 * then); the session's requests stay exactly-once throughout. */
static void test_closed_channel_is_no_death(void **state)
{
    (void)state;
    struct rvd d;
    char m[512];
    rvd_start(&d, manifest_test(m, sizeof m, "max_restarts = 100 in 10s\nrequest_timeout = 20s\nheartbeat = 200ms\n"
                                             "standby = yes\n"));
    char marker[160], args[192];
    snprintf(args, sizeof args, "fifo=%s", rvd_marker(&d, marker, sizeof marker));
    rv_session *s = open_session(&d, "test", args);
    assert_int_equal(call_ok(s, TEST_INCR), 1);
    struct svc_status before, after;
    wait_status(&d, "test", status_standby_ready, NULL, &before);
    /* the request that closes the channel may be re-run by the next
     * instance, if revived kills this one first: it closes nothing then */
    assert_int_equal(call_ok(s, TEST_CLOSE_CTL), 2);
    assert_int_equal(call_ok(s, TEST_INCR), 3);
    wait_status(&d, "test", standby_promoted, &before, &after);
    if (kill((pid_t)before.pid, 0) == 0)
        fail_msg("the standby took over while instance %lld still ran", before.pid);
    assert_int_equal(errno, ESRCH);
    assert_int_equal(call_ok(s, TEST_INCR), 4);
    rv_close(s);
    rvd_stop(&d);
}

/* A descriptor the active instance stores while the standby waits is
 * forwarded to the standby, which attaches it once it has taken over. */
static void test_standby_gets_stored_fds(void **state)
{
    (void)state;
    struct rvd d;
    char m[512];
    rvd_start(&d, manifest_test(m, sizeof m, KILL_POLICY "standby = yes\n"));
    rv_session *s = open_session(&d, "test", NULL);
    struct svc_status before, after;
    wait_status(&d, "test", status_standby_ready, NULL, &before);
    for (int i = 0; i < 5; i++)
        assert_int_equal(call_ok(s, TEST_INCR), i + 1);
    assert_int_equal(call_ok(s, TEST_STORE), 5);
    ctl(&d, "kill", "test", "KILL");
    wait_status(&d, "test", standby_promoted, &before, &after);
    expect_fetch(s, 5);   /* from the standby that took over */
    rv_close(s);
    rvd_stop(&d);
}

/* A recovery costs an idle client nothing: no notice waits in its socket
 * afterwards (a RESTARTED there would make its next call send its request
 * twice), and the next call is served once. The one message allowed is a
 * second copy of the reply already read: a kill between the reply's send
 * and the journal's note that it was sent leaves the next instance unable
 * to tell whether it arrived, so it sends it again (the client drops it). */
static void test_idle_session_not_told(void **state)
{
    (void)state;
    struct rvd d;
    char m[512];
    rvd_start(&d, manifest_test(m, sizeof m, KILL_POLICY));
    rv_session *idle = open_session(&d, "test", NULL);
    assert_int_equal(call_ok(idle, TEST_INCR), 1);
    ctl(&d, "kill", "test", "SEGV");
    struct svc_status st;
    wait_status(&d, "test", restarted_once, NULL, &st);   /* READY: any notice is sent by now */
    struct rv_hdr h = { 0 };
    ssize_t r = recv(rv_session_fd(idle), &h, sizeof h, MSG_PEEK | MSG_DONTWAIT);
    if (r < 0 && errno != EAGAIN)
        fail_msg("cannot peek at the idle session's socket: %s", strerror(errno));
    if (r >= 0 && (r != (ssize_t)sizeof h || h.type != RV_T_REPLY || h.seq != 1))
        fail_msg("an idle session found a message other than its answered reply after a recovery "
                 "(%zd bytes, type %u, seq %llu)", r, r >= 1 ? h.type : 0u, (unsigned long long)h.seq);
    assert_int_equal(call_ok(idle, TEST_INCR), 2);
    rv_close(idle);
    rvd_stop(&d);
}

/* The backoff paces process starts, not a standby already started: a crash
 * soon after the start (a "fast" one, which arms a 1 s backoff here) finds
 * the standby active at once, with no gap in which a kill or a call finds
 * no running instance; only the replacement standby waits for the backoff. */
static void test_standby_skips_backoff(void **state)
{
    (void)state;
    struct rvd d;
    char m[512];
    rvd_start(&d, manifest_test(m, sizeof m, KILL_POLICY "standby = yes\nbackoff = 1s..1min\n"));
    rv_session *s = open_session(&d, "test", NULL);
    struct svc_status before, after;
    wait_status(&d, "test", has_standby, NULL, &before);
    ctl(&d, "kill", "test", "KILL");
    wait_status(&d, "test", restarted_once, NULL, &after);
    assert_int_equal(after.pid, before.standby_pid);
    assert_int_equal(after.standby_pid, 0);   /* its replacement waits out the backoff */
    assert_int_equal(call_ok(s, TEST_INCR), 1);
    rv_close(s);
    rvd_stop(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_testsvc_kills, it_teardown),
        cmocka_unit_test_teardown(test_random_kills, it_teardown),
        cmocka_unit_test_teardown(test_timer_kills, it_teardown),
        cmocka_unit_test_teardown(test_timer_standby_kills, it_teardown),
        cmocka_unit_test_teardown(test_ctl_restart, it_teardown),
        cmocka_unit_test_teardown(test_standby_takeover, it_teardown),
        cmocka_unit_test_teardown(test_standby_skips_backoff, it_teardown),
        cmocka_unit_test_teardown(test_standby_gets_stored_fds, it_teardown),
        cmocka_unit_test_teardown(test_closed_channel_is_no_death, it_teardown),
        cmocka_unit_test_teardown(test_idle_session_not_told, it_teardown),
        cmocka_unit_test_teardown(test_recover_updates, it_teardown),
        cmocka_unit_test_teardown(test_stateless_revokes, it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
