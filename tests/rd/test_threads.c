/* test_threads.c — recovery domains across threads: the dependence graph,
 * the commit protocol and cascading rollback (Akeso §3.5 rule 3, §4.2-4.4),
 * and the mutex wrappers (§5.2).
 *
 * Each test runs its domains on threads of its own and orders them with
 * eventfds ("gates"), never with sleeps: a thread that must still be inside
 * its domain when another fails blocks on a gate nobody opens, and only
 * the cascade signal gets it out. Reads of another thread's data are
 * announced with rd_note_read (this file is not instrumented), writes are
 * logged with SET as in the other tests. Threads record what they saw in
 * globals; the main thread asserts after joining them (cmocka's asserts
 * must run on the main thread). free() is wrapped at link time to see when
 * a deferred free really happens.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "revive/rd.h"

#define SET(var, val) do { rd_log_range(&(var), sizeof(var)); (var) = (val); } while (0)
#define GET(var) (rd_note_read(&(var), sizeof(var)), (var))

/* An address that is never mapped, hidden from the compiler. */
static volatile uintptr_t bad_address = 16;

static long x, y, z, w;
static volatile int a_code, b_code, c_code;
static volatile long b_saw;
static volatile int a_deferred, b_deferred, c_deferred;
static volatile int b_deferred_at_end, a_deferred_at_end, both_at_b_end;
static volatile int b_pad, c_pad;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

/* ------------------------------------------------------------------ gates */

/* RELEASE is opened by a failing thread once its rollback is done: a
 * dependent that was condemned has left its domain long before (or leaves
 * it at its end, which a condemned domain cannot pass); one that was not
 * would end normally and fail the test instead of hanging it. */
enum { A_WROTE, B_READ, B_DONE, A_DONE, RELEASE, NGATES };
static int gates[NGATES];

static void gate_open(int g)
{
    uint64_t one = 1;
    (void)!write(gates[g], &one, sizeof one);
}

static void gate_open_all(int g)
{
    uint64_t many = 4;
    (void)!write(gates[g], &many, sizeof many);
}

static void gate_wait(int g)
{
    uint64_t v;
    while (read(gates[g], &v, sizeof v) != sizeof v && errno == EINTR)
        ;
}

static void setup(void)
{
    assert_int_equal(rd_init(), 0);
    for (int i = 0; i < NGATES; i++) {
        gates[i] = eventfd(0, EFD_CLOEXEC | EFD_SEMAPHORE);
        assert_true(gates[i] >= 0);
    }
    x = y = w = 0;
    z = 7;
    a_code = b_code = c_code = 0;
    b_saw = 0;
    a_deferred = b_deferred = c_deferred = 0;
    b_deferred_at_end = a_deferred_at_end = both_at_b_end = -1;
    b_pad = c_pad = 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < NGATES; i++)
        close(gates[i]);
    return 0;
}

static void run(void *(*fns[])(void *), int n)
{
    pthread_t th[4];
    for (int i = 0; i < n; i++)
        assert_int_equal(pthread_create(&th[i], NULL, fns[i], NULL), 0);
    for (int i = 0; i < n; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
}

static void count(void *arg)
{
    __atomic_add_fetch((volatile int *)arg, 1, __ATOMIC_SEQ_CST);
}

/* ------------------------------------------------------- free() tracker */

void __real_free(void *p);
static void *volatile freed_block;
static volatile int freed_it;

void __wrap_free(void *p)
{
    if (p && p == freed_block)
        freed_it = 1;
    __real_free(p);
}

/* -------------------------------------------- cascades (§3.5 rule 3) */

/* A writes x, waits until B read it, then fails. */
static void *a_writes_then_aborts(void *arg)
{
    (void)arg;
    RD_BEGIN(RD_BASIC) {
        SET(x, 1);
        gate_open(A_WROTE);
        gate_wait(B_READ);
        rd_abort(5);
    } RD_ONABORT {
        a_code = rd_errno();
    } RD_END
    gate_open_all(RELEASE);
    return NULL;
}

/* B reads A's uncommitted x, writes y, and stays in its domain: only the
 * cascade can end it. */
static void *b_reads_and_waits(void *arg)
{
    (void)arg;
    gate_wait(A_WROTE);
    RD_BEGIN(RD_BASIC) {
        b_saw = GET(x);
        SET(y, 1);
        gate_open(B_READ);
        gate_wait(RELEASE);
    } RD_ONABORT {
        b_code = rd_errno();
        b_pad = 1;
    } RD_END
    return NULL;
}

/* C reads only committed data while A's domain is open, and commits. */
static void *c_reads_committed(void *arg)
{
    (void)arg;
    gate_wait(A_WROTE);
    RD_BEGIN(RD_BASIC) {
        SET(w, GET(z));
        rd_defer(count, (void *)&c_deferred);
    } RD_ONABORT {
        c_pad = 1;
    } RD_END
    c_code = c_deferred;     /* committed at its end: the release ran */
    gate_open(B_READ);
    return NULL;
}

static void test_cascade_rolls_back_dependent_on_its_thread(void **state)
{
    (void)state;
    setup();
    void *(*fns[])(void *) = { a_writes_then_aborts, b_reads_and_waits };
    run(fns, 2);
    assert_int_equal(b_saw, 1);             /* B really saw A's write */
    assert_int_equal(a_code, 5);
    assert_int_equal(b_code, RD_ECASCADE);
    assert_int_equal(x, 0);
    assert_int_equal(y, 0);
}

/* C read nothing of A's: it commits at its end and keeps its write. B's
 * gate is opened by C here, so A fails only after C committed. */
static void test_reader_of_committed_data_untouched(void **state)
{
    (void)state;
    setup();
    void *(*fns[])(void *) = { a_writes_then_aborts, c_reads_committed };
    run(fns, 2);
    assert_int_equal(a_code, 5);
    assert_int_equal(c_pad, 0);
    assert_int_equal(c_code, 1);
    assert_int_equal(c_deferred, 1);
    assert_int_equal(w, 7);
    assert_int_equal(x, 0);
}

/* A real fault (SIGSEGV) on A: the same cascade. */
static void *a_writes_then_faults(void *arg)
{
    (void)arg;
    RD_BEGIN(RD_BASIC) {
        SET(x, 1);
        gate_open(A_WROTE);
        gate_wait(B_READ);
        *(volatile int *)bad_address = 1;
    } RD_ONABORT {
        a_code = rd_errno();
    } RD_END
    gate_open_all(RELEASE);
    return NULL;
}

static void test_cascade_from_hardware_fault(void **state)
{
    (void)state;
    setup();
    void *(*fns[])(void *) = { a_writes_then_faults, b_reads_and_waits };
    run(fns, 2);
    assert_int_equal(a_code, RD_EFAULT(SIGSEGV));
    assert_int_equal(b_code, RD_ECASCADE);
    assert_int_equal(x, 0);
    assert_int_equal(y, 0);
}

/* Transitively: D read B's write, B read A's; A fails, D goes too. */
static volatile int d_code;
static long v;

static void *b_reads_then_passes_on(void *arg)
{
    (void)arg;
    gate_wait(A_WROTE);
    RD_BEGIN(RD_BASIC) {
        SET(y, GET(x) + 1);
        gate_open(B_DONE);
        gate_wait(RELEASE);
    } RD_ONABORT {
        b_code = rd_errno();
    } RD_END
    return NULL;
}

static void *d_reads_b(void *arg)
{
    (void)arg;
    gate_wait(B_DONE);
    RD_BEGIN(RD_BASIC) {
        SET(v, GET(y) + 1);
        gate_open(B_READ);
        gate_wait(RELEASE);
    } RD_ONABORT {
        d_code = rd_errno();
    } RD_END
    return NULL;
}

static void test_cascade_is_transitive(void **state)
{
    (void)state;
    setup();
    v = 0;
    d_code = 0;
    void *(*fns[])(void *) = { a_writes_then_aborts, b_reads_then_passes_on, d_reads_b };
    run(fns, 3);
    assert_int_equal(a_code, 5);
    assert_int_equal(b_code, RD_ECASCADE);
    assert_int_equal(d_code, RD_ECASCADE);
    assert_int_equal(x, 0);
    assert_int_equal(y, 0);
    assert_int_equal(v, 0);
}

/* ------------------------------------------------- the commit protocol */

/* B depends on A and ends first: it is completed, not committed — its
 * releases wait — until A commits. */
static void *a_writes_then_commits(void *arg)
{
    (void)arg;
    RD_BEGIN(RD_BASIC) {
        SET(x, 1);
        gate_open(A_WROTE);
        gate_wait(B_DONE);
    } RD_END
    a_deferred_at_end = b_deferred;   /* A's commit let B commit */
    return NULL;
}

static void *b_reads_and_ends(void *arg)
{
    (void)arg;
    gate_wait(A_WROTE);
    RD_BEGIN(RD_BASIC) {
        SET(y, GET(x) + 1);
        rd_defer(count, (void *)&b_deferred);
        rd_free(freed_block);
    } RD_ONABORT {
        b_pad = 1;
    } RD_END
    b_deferred_at_end = b_deferred + freed_it;
    gate_open(B_DONE);
    return NULL;
}

static void test_completed_commits_after_its_dependence(void **state)
{
    (void)state;
    setup();
    freed_it = 0;
    freed_block = malloc(16);
    void *(*fns[])(void *) = { a_writes_then_commits, b_reads_and_ends };
    run(fns, 2);
    assert_int_equal(b_pad, 0);
    assert_int_equal(b_deferred_at_end, 0);   /* neither release nor free yet */
    assert_int_equal(a_deferred_at_end, 1);
    assert_int_equal(freed_it, 1);
    assert_int_equal(x, 1);
    assert_int_equal(y, 2);
}

/* A completed domain whose dependence then fails is rolled back by the
 * failing thread: its writes undone, its releases (and its free) dropped. */
static void *a_waits_completed_then_aborts(void *arg)
{
    (void)arg;
    RD_BEGIN(RD_BASIC) {
        SET(x, 1);
        gate_open(A_WROTE);
        gate_wait(B_DONE);
        rd_abort(6);
    } RD_ONABORT {
        a_code = rd_errno();
    } RD_END
    gate_open_all(RELEASE);
    return NULL;
}

static void test_completed_dependent_rolled_back(void **state)
{
    (void)state;
    setup();
    freed_it = 0;
    void *block = malloc(16);
    freed_block = block;
    void *(*fns[])(void *) = { a_waits_completed_then_aborts, b_reads_and_ends };
    run(fns, 2);
    assert_int_equal(a_code, 6);
    assert_int_equal(b_pad, 0);       /* B's frame is gone: no landing pad */
    assert_int_equal(b_deferred, 0);
    assert_int_equal(freed_it, 0);
    assert_int_equal(x, 0);
    assert_int_equal(y, 0);
    freed_block = NULL;
    free(block);
}

/* A cycle: A read B's write and B read A's. A ends first and waits; when B
 * ends, both commit together. */
static void *a_cycle(void *arg)
{
    (void)arg;
    RD_BEGIN(RD_BASIC) {
        SET(x, 1);
        gate_open(A_WROTE);
        gate_wait(B_READ);
        SET(z, GET(y) + 10);
        rd_defer(count, (void *)&a_deferred);
    } RD_END
    a_deferred_at_end = a_deferred;
    gate_open(A_DONE);
    return NULL;
}

static void *b_cycle(void *arg)
{
    (void)arg;
    gate_wait(A_WROTE);
    RD_BEGIN(RD_BASIC) {
        SET(y, GET(x) + 1);
        gate_open(B_READ);
        gate_wait(A_DONE);
        rd_defer(count, (void *)&b_deferred);
    } RD_END
    both_at_b_end = a_deferred + b_deferred;
    return NULL;
}

static void test_cycle_commits_together(void **state)
{
    (void)state;
    setup();
    void *(*fns[])(void *) = { a_cycle, b_cycle };
    run(fns, 2);
    assert_int_equal(a_deferred_at_end, 0);
    assert_int_equal(both_at_b_end, 2);
    assert_int_equal(x, 1);
    assert_int_equal(y, 2);
    assert_int_equal(z, 12);
}

/* ------------------------------------------------------ mutex wrappers */

/* A faults holding m; the rollback unlocks it, so W, waiting for m in a
 * domain of its own (it depends on nothing), gets it and commits. */
static void *a_locks_then_faults(void *arg)
{
    (void)arg;
    RD_BEGIN(RD_BASIC) {
        rd_mutex_lock(&m);
        SET(x, 1);
        gate_open(A_WROTE);
        gate_wait(B_READ);
        *(volatile int *)bad_address = 1;
    } RD_ONABORT {
        a_code = rd_errno();
    } RD_END
    gate_open_all(RELEASE);
    return NULL;
}

static void *w_waits_for_lock(void *arg)
{
    (void)arg;
    gate_wait(A_WROTE);
    gate_open(B_READ);
    RD_BEGIN(RD_BASIC) {
        rd_mutex_lock(&m);
        SET(w, 1);
        rd_mutex_unlock(&m);
    } RD_ONABORT {
        c_pad = 1;
    } RD_END
    return NULL;
}

static void test_rollback_releases_lock(void **state)
{
    (void)state;
    setup();
    void *(*fns[])(void *) = { a_locks_then_faults, w_waits_for_lock };
    run(fns, 2);
    assert_int_equal(a_code, RD_EFAULT(SIGSEGV));
    assert_int_equal(c_pad, 0);
    assert_int_equal(w, 1);
    assert_int_equal(x, 0);
    assert_int_equal(pthread_mutex_trylock(&m), 0);
    assert_int_equal(pthread_mutex_unlock(&m), 0);
}

/* B overwrote A's uncommitted x and then waits for the mutex A holds. A's
 * rollback must wait for B's undo of x (B wrote it later), and B must be
 * woken out of its wait to do it: no deadlock, x back to its first value,
 * m free. */
static void *a_locks_writes_aborts(void *arg)
{
    (void)arg;
    RD_BEGIN(RD_BASIC) {
        rd_mutex_lock(&m);
        SET(x, 1);
        gate_open(A_WROTE);
        gate_wait(B_READ);
        rd_abort(8);
    } RD_ONABORT {
        a_code = rd_errno();
    } RD_END
    gate_open_all(RELEASE);
    return NULL;
}

static void *b_overwrites_then_locks(void *arg)
{
    (void)arg;
    gate_wait(A_WROTE);
    RD_BEGIN(RD_BASIC) {
        SET(x, GET(x) + 1);
        gate_open(B_READ);
        rd_mutex_lock(&m);
        SET(y, 1);
        rd_mutex_unlock(&m);
        gate_wait(RELEASE);
    } RD_ONABORT {
        b_code = rd_errno();
    } RD_END
    return NULL;
}

static void test_lock_waiter_in_cascade(void **state)
{
    (void)state;
    setup();
    void *(*fns[])(void *) = { a_locks_writes_aborts, b_overwrites_then_locks };
    run(fns, 2);
    assert_int_equal(a_code, 8);
    assert_int_equal(b_code, RD_ECASCADE);
    assert_int_equal(x, 0);
    assert_int_equal(y, 0);
    assert_int_equal(pthread_mutex_trylock(&m), 0);
    assert_int_equal(pthread_mutex_unlock(&m), 0);
}

/* The mutex record sits in the log: a nested domain that took m and merged
 * keeps it for the parent's rollback; a committed domain leaves it held. */
static void test_lock_kept_by_commit(void **state)
{
    (void)state;
    setup();
    RD_BEGIN(RD_BASIC) {
        RD_BEGIN(RD_BASIC) {
            rd_mutex_lock(&m);
        } RD_END
        rd_abort(1);
    } RD_END
    assert_int_equal(pthread_mutex_trylock(&m), 0);
    assert_int_equal(pthread_mutex_unlock(&m), 0);
    RD_BEGIN(RD_BASIC) {
        rd_mutex_lock(&m);
    } RD_END
    assert_int_equal(pthread_mutex_trylock(&m), EBUSY);
    assert_int_equal(rd_mutex_unlock(&m), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_cascade_rolls_back_dependent_on_its_thread, teardown),
        cmocka_unit_test_teardown(test_reader_of_committed_data_untouched, teardown),
        cmocka_unit_test_teardown(test_cascade_from_hardware_fault, teardown),
        cmocka_unit_test_teardown(test_cascade_is_transitive, teardown),
        cmocka_unit_test_teardown(test_completed_commits_after_its_dependence, teardown),
        cmocka_unit_test_teardown(test_completed_dependent_rolled_back, teardown),
        cmocka_unit_test_teardown(test_cycle_commits_together, teardown),
        cmocka_unit_test_teardown(test_rollback_releases_lock, teardown),
        cmocka_unit_test_teardown(test_lock_waiter_in_cascade, teardown),
        cmocka_unit_test_teardown(test_lock_kept_by_commit, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
