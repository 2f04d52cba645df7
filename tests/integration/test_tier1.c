/* test_tier1.c — tier 1 in the server runtime: with
 * `.runner = rv_domain_runner` (rv-svc-test-rd, which also serves on 4
 * worker threads) a fault in a request is
 * rolled back inside the live process and the request retried once; a
 * fault that persists gets its client RV_EFAULT while the process serves
 * on; a fault where nothing can be undone escalates to revived's restart.
 * Every fault is a real SIGSEGV in the real service process. */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "harness.h"
#include "testsvc.h"

#define MANIFEST "[service test]\nexec = rv-svc-test-rd\nssr_size = 256\nmax_restarts = 100 in 10s\n" \
                 "request_timeout = 20s\nheartbeat = 10s\n" IT_TEST_PATHS

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

/* ---- the worker pool ---- */

struct watched_call {
    rv_session *s;
    int rc;
    uint64_t v;
    volatile int done;
};

static void *slow_main(void *arg)
{
    struct watched_call *c = arg;
    c->rc = call_u64(c->s, TEST_SLOW_INCR, &c->v);
    c->done = 1;
    return NULL;
}

/* One session's request blocks inside its handler; another session is
 * served meanwhile (one thread would have to finish the first request
 * before it reads the second), and the crash that ends the blocked one is
 * recovered as usual, the request re-run exactly once. */
static void test_workers_serve_in_parallel(void **state)
{
    (void)state;
    struct rvd d;
    char args[160], path[128];
    rvd_start(&d, MANIFEST);
    snprintf(args, sizeof args, "fifo=%s", rvd_file(&d, "sync.fifo", path, sizeof path));
    rv_session *blocked = open_session(&d, "test", args), *other = open_session(&d, "test", NULL);
    struct fifo f;
    fifo_make(&d, "sync.fifo", &f);
    struct watched_call c = { .s = blocked };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, slow_main, &c), 0);
    fifo_wait(&f);                                   /* SLOW_INCR is inside its handler */
    for (uint64_t i = 1; i <= 20; i++)
        assert_int_equal(call_ok(other, TEST_INCR), i);
    assert_false(c.done);                            /* still blocked all that time */
    fifo_close(&f);
    ctl(&d, "kill", "test", "KILL");
    pthread_join(th, NULL);
    assert_int_equal(c.rc, 0);
    assert_int_equal(c.v, 1);
    assert_int_equal(call_ok(other, TEST_GET), 20);
    rv_close(other);
    rv_close(blocked);
    rvd_stop(&d);
}

/* A client killed while a worker runs its request: revived unbinds the
 * session, and the event loop, which must not free it under that worker,
 * waits for it. The other sessions are served meanwhile, while the orphaned
 * request still sleeps in its handler (the workers poll the sessions
 * themselves; were requests handed to them by the event loop, every session
 * would wait on that one request). Then it ends, nothing restarted, and the
 * next session gets a clean state. */
static bool one_session(const struct svc_status *st, const void *arg)
{
    (void)arg;
    return st->sessions == 1;
}

/* Whether a thread of process pid sleeps in (clock_)nanosleep, as
 * SLOW_INCR's handler does for TEST_SLOW_BLOCK_S. */
static bool thread_sleeping(long long pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%lld/task", pid);
    DIR *dir = opendir(path);
    assert_non_null(dir);
    bool found = false;
    for (struct dirent *e; !found && (e = readdir(dir));) {
        char file[384];
        long nr = -1;
        snprintf(file, sizeof file, "%s/%s/syscall", path, e->d_name);
        FILE *f = e->d_name[0] != '.' ? fopen(file, "re") : NULL;
        if (f && fscanf(f, "%ld", &nr) == 1)
            found = nr == SYS_clock_nanosleep || nr == SYS_nanosleep;
        if (f)
            fclose(f);
    }
    closedir(dir);
    return found;
}

static void test_workers_client_dies_mid_call(void **state)
{
    (void)state;
    struct rvd d;
    char args[160], path[128];
    rvd_start(&d, MANIFEST);
    snprintf(args, sizeof args, "fifo=%s", rvd_file(&d, "sync.fifo", path, sizeof path));
    rv_session *other = open_session(&d, "test", NULL);
    struct fifo f;
    fifo_make(&d, "sync.fifo", &f);
    pid_t client = fork();
    assert_true(client >= 0);
    if (client == 0) {
        uint64_t v;
        call_u64(open_session(&d, "test", args), TEST_SLOW_INCR, &v);
        _exit(0);
    }
    fifo_wait(&f);                                   /* SLOW_INCR is inside its handler */
    kill(client, SIGKILL);
    waitpid(client, NULL, 0);
    struct svc_status st;
    wait_status(&d, "test", one_session, NULL, &st);  /* revived sent the UNBIND */
    for (uint64_t i = 1; i <= 20; i++)
        assert_int_equal(call_ok(other, TEST_INCR), i);
    long long restarts, pid = instance_pid(&d, &restarts);
    assert_true(thread_sleeping(pid));               /* the orphan still runs */
    fifo_close(&f);
    rv_session *next = open_session(&d, "test", NULL);
    assert_int_equal(call_ok(next, TEST_GET), 0);
    assert_int_equal(instance_pid(&d, &restarts), pid);
    assert_int_equal(restarts, 0);
    rv_close(next);
    rv_close(other);
    rvd_stop(&d);
}

/* ---- a request that read another's uncommitted write ---- */

struct async_call {
    rv_session *s;
    uint32_t op;
    int rc;
    uint64_t v;
};

static void *async_main(void *arg)
{
    struct async_call *c = arg;
    c->rc = call_u64(c->s, c->op, &c->v);
    return NULL;
}

/* B reads what A wrote while A still runs; then A faults. B's domain ended
 * completed, not committed: its reply waits for A's outcome, and when A is
 * rolled back B is rolled back with it and re-run — so B never answers
 * with the 42 that never committed, only with 0 (before A's re-run) or 7
 * (A's re-run). A itself is re-run once and answers 7. */
static void test_dependent_request_waits_for_commit(void **state)
{
    (void)state;
    struct rvd d;
    char args_a[160], args_b[160], path_a[128], path_b[128], go[140];
    rvd_start(&d, MANIFEST);
    snprintf(args_a, sizeof args_a, "fifo=%s", rvd_file(&d, "a.fifo", path_a, sizeof path_a));
    snprintf(args_b, sizeof args_b, "fifo=%s", rvd_file(&d, "b.fifo", path_b, sizeof path_b));
    rv_session *a = open_session(&d, "test", args_a), *b = open_session(&d, "test", args_b);
    struct fifo fa, fb, fgo;
    fifo_make(&d, "a.fifo", &fa);
    fifo_make(&d, "b.fifo", &fb);
    snprintf(go, sizeof go, "a.fifo.go");
    fifo_make(&d, go, &fgo);
    struct async_call ca = { .s = a, .op = TEST_SHARED_WRITE }, cb = { .s = b, .op = TEST_SHARED_READ };
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, async_main, &ca), 0);
    fifo_wait(&fa);                       /* A wrote 42 and waits */
    assert_int_equal(pthread_create(&tb, NULL, async_main, &cb), 0);
    fifo_wait(&fb);                       /* B read it */
    assert_int_equal(write(fgo.fd, "!", 1), 1);   /* A faults */
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(ca.rc, 0);
    assert_int_equal(ca.v, 7);
    assert_int_equal(cb.rc, 0);
    if (cb.v != 0 && cb.v != 7)
        fail_msg("B answered %llu: a value that was rolled back", (unsigned long long)cb.v);
    long long restarts;
    instance_pid(&d, &restarts);
    assert_int_equal(restarts, 0);
    fifo_close(&fa);
    fifo_close(&fb);
    fifo_close(&fgo);
    rv_close(a);
    rv_close(b);
    rvd_stop(&d);
}

/* Sessions that come and go while others are served: a session leaving the
 * event loop's set must not cost another session's one-shot event, or that
 * request waits unserved until the watchdog kills the instance. */
#define CHURN_THREADS 4
#define CHURN_ROUNDS 150

static void *churn_main(void *arg)
{
    const struct rvd *d = arg;
    for (int i = 0; i < CHURN_ROUNDS; i++) {
        rv_session *s = open_session(d, "test", NULL);
        call_ok(s, TEST_INCR);
        rv_close(s);
    }
    return NULL;
}

static void test_workers_sessions_churn(void **state)
{
    (void)state;
    struct rvd d;
    rvd_start(&d, "[service test]\nexec = rv-svc-test-rd\nssr_size = 256\nmax_restarts = 100 in 10s\n"
                  "request_timeout = 300ms\nheartbeat = 10s\n");
    pthread_t th[CHURN_THREADS];
    for (int i = 0; i < CHURN_THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, churn_main, &d), 0);
    for (int i = 0; i < CHURN_THREADS; i++)
        pthread_join(th[i], NULL);
    long long restarts;
    instance_pid(&d, &restarts);
    assert_int_equal(restarts, 0);
    rvd_stop(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_fault_once_retried, it_teardown),
        cmocka_unit_test_teardown(test_persistent_fault_answered, it_teardown),
        cmocka_unit_test_teardown(test_rd_abort_answers_its_code, it_teardown),
        cmocka_unit_test_teardown(test_unsafe_fault_escalates, it_teardown),
        cmocka_unit_test_teardown(test_workers_serve_in_parallel, it_teardown),
        cmocka_unit_test_teardown(test_workers_sessions_churn, it_teardown),
        cmocka_unit_test_teardown(test_workers_client_dies_mid_call, it_teardown),
        cmocka_unit_test_teardown(test_dependent_request_waits_for_commit, it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
