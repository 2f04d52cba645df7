/* test_semantics.c — unit tests of recovery-domain semantics on one thread:
 * the predictable-semantics rules of Akeso §3.5 that apply to a single
 * thread, each domain kind's success and error behaviour (§4.1, Table 1),
 * nesting, deferred releases, rd_malloc/rd_free, the frame filter and the
 * block and function forms of the API.
 *
 * Failures here are explicit rd_abort calls (hardware faults are in
 * test_faults.c), so every rollback path is deterministic. Writes go through
 * SET, which undo-logs the location first as instrumented code will.
 * free() is wrapped at link time (-Wl,--wrap=free) so a test can see which
 * blocks the runtime freed and when.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "revive/rd.h"

#define SET(var, val) do { rd_log_range(&(var), sizeof(var)); (var) = (val); } while (0)

static long a, b, c;
static int log_calls[8];
static int nlog_calls;

static void reset(void)
{
    a = b = c = 0;
    nlog_calls = 0;
    assert_int_equal(rd_depth(), 0);
}

/* An undo or deferred operation that records its argument in order. */
static void note(void *arg)
{
    if (nlog_calls < 8)
        log_calls[nlog_calls] = (int)(intptr_t)arg;
    nlog_calls++;
}

/* ------------------------------------------------------- free() tracker */

void __real_free(void *p);
static void *freed[16];
static int nfreed;

void __wrap_free(void *p)
{
    if (p && nfreed < 16)
        freed[nfreed++] = p;
    __real_free(p);
}

static int was_freed(const void *p)
{
    for (int i = 0; i < nfreed; i++)
        if (freed[i] == p)
            return 1;
    return 0;
}

/* After a failed assertion inside a domain cmocka jumps out of the test
 * with the domain still open; close it so the next test starts clean. */
static int close_leftover_domains(void **state)
{
    (void)state;
    while (rd_depth() > 0)
        rd_commit();
    return 0;
}

/* ---------------------------------------------- §3.5 predictable semantics */

/* Rule 1: control returns to the start of the faulting domain — the
 * innermost one — not to an enclosing domain. */
static void test_rule_control_returns_to_faulting_domain(void **state)
{
    (void)state;
    reset();
    volatile int inner_code = 0, outer_aborted = 0;
    RD_BEGIN(RD_BASIC) {
        SET(a, 1);
        RD_BEGIN(RD_BASIC) {
            SET(b, 1);
            rd_abort(7);
            SET(b, 2);           /* not reached */
        } RD_ONABORT {
            inner_code = rd_errno();
        } RD_END
        SET(c, 1);               /* the outer domain carries on */
    } RD_ONABORT {
        outer_aborted = 1;
    } RD_END
    assert_int_equal(inner_code, 7);
    assert_int_equal(outer_aborted, 0);
    assert_int_equal(a, 1);
    assert_int_equal(b, 0);
    assert_int_equal(c, 1);
    assert_int_equal(rd_depth(), 0);
}

/* Rule 2: memory looks as if the faulting domain had never run: globals,
 * heap, a local of the enclosing frame, a location written twice, a range
 * in the middle of an array — byte for byte. */
static void test_rule_memory_restored_as_if_not_run(void **state)
{
    (void)state;
    reset();
    unsigned char *heap = malloc(256);
    assert_non_null(heap);
    for (int i = 0; i < 256; i++)
        heap[i] = (unsigned char)i;
    unsigned char before[256];
    memcpy(before, heap, sizeof before);
    volatile long local = 42;
    size_t records = rd_log_count();

    RD_BEGIN(RD_BASIC) {
        SET(a, 1);
        SET(a, 2);
        SET(local, 43);
        rd_log_range(heap + 100, 50);
        memset(heap + 100, 0xee, 50);
        rd_log_range(heap + 120, 100);    /* overlaps the first range */
        memset(heap + 120, 0xdd, 100);
        rd_abort(1);
    } RD_END

    assert_int_equal(a, 0);
    assert_int_equal(local, 42);
    assert_memory_equal(heap, before, sizeof before);
    assert_int_equal(rd_log_count(), records);
    free(heap);
}

/* Rule 2's exception: an unlogged domain's writes stay; only its semantic
 * undo, registered with the enclosing logged domain, runs. */
static void test_rule_unlogged_writes_are_not_restored(void **state)
{
    (void)state;
    reset();
    RD_BEGIN(RD_BASIC) {
        SET(a, 1);
        RD_BEGIN(RD_UNLOGGED) {
            size_t n = rd_log_count();
            SET(b, 5);                     /* not logged: commits at once */
            assert_int_equal(rd_log_count(), n);
            rd_log_undo(note, (void *)1);  /* its semantic undo */
        } RD_END
        rd_abort(2);
    } RD_END
    assert_int_equal(a, 0);
    assert_int_equal(b, 5);
    assert_int_equal(nlog_calls, 1);
    assert_int_equal(log_calls[0], 1);
}

/* Rule 3 (dependent domains on other threads roll back too) is in
 * test_threads.c. */

/* ------------------------------------------------------------ basic kind */

static void test_basic_root_commit_is_final(void **state)
{
    (void)state;
    reset();
    RD_BEGIN(RD_BASIC) {
        SET(a, 1);
    } RD_END
    assert_int_equal(rd_log_count(), 0);
    RD_BEGIN(RD_BASIC) {
        SET(b, 1);
        rd_abort(1);
    } RD_END
    assert_int_equal(a, 1);
    assert_int_equal(b, 0);
}

/* A committed nested basic domain merges into its parent, which can still
 * undo it. */
static void test_basic_nested_commit_merges_into_parent(void **state)
{
    (void)state;
    reset();
    RD_BEGIN(RD_BASIC) {
        RD_BEGIN(RD_BASIC) {
            SET(b, 1);
        } RD_END
        assert_int_equal(rd_log_count(), 1);   /* still in the log */
        assert_int_equal(b, 1);
        rd_abort(3);
    } RD_END
    assert_int_equal(b, 0);
    assert_int_equal(rd_errno(), 3);
}

/* Three levels: the middle one fails after the innermost merged into it;
 * both are undone, the outermost keeps its write and commits. */
static void test_basic_middle_abort_keeps_outer(void **state)
{
    (void)state;
    reset();
    volatile int outer_committed = 0;
    RD_BEGIN(RD_BASIC) {
        SET(a, 1);
        RD_BEGIN(RD_BASIC) {
            SET(b, 1);
            RD_BEGIN(RD_BASIC) {
                SET(c, 1);
            } RD_END
            rd_abort(4);
        } RD_END
        outer_committed = 1;
    } RD_END
    assert_int_equal(outer_committed, 1);
    assert_int_equal(a, 1);
    assert_int_equal(b, 0);
    assert_int_equal(c, 0);
    assert_int_equal(rd_log_count(), 0);
}

/* A basic domain whose parent is unlogged is a root: it commits for good. */
static void test_basic_in_unlogged_is_a_root(void **state)
{
    (void)state;
    reset();
    RD_BEGIN(RD_BASIC) {
        RD_BEGIN(RD_UNLOGGED) {
            RD_BEGIN(RD_BASIC) {
                SET(c, 1);
            } RD_END
        } RD_END
        rd_abort(5);
    } RD_END
    assert_int_equal(c, 1);
}

/* ------------------------------------------------------- reversible kind */

/* A committed reversible domain is not undone by its parent's rollback; the
 * inverse it logged with the parent runs instead (paper Figure 1). */
static void test_reversible_commit_ignores_parent_and_compensation_runs(void **state)
{
    (void)state;
    reset();
    RD_BEGIN(RD_BASIC) {
        RD_BEGIN(RD_REVERSIBLE) {
            SET(b, 1);
        } RD_END
        rd_log_undo(note, (void *)9);
        assert_int_equal(rd_log_count(), 1);   /* the inverse, not the write */
        rd_abort(6);
    } RD_END
    assert_int_equal(b, 1);
    assert_int_equal(nlog_calls, 1);
    assert_int_equal(log_calls[0], 9);
}

static void test_reversible_compensation_not_run_when_parent_commits(void **state)
{
    (void)state;
    reset();
    RD_BEGIN(RD_BASIC) {
        RD_BEGIN(RD_REVERSIBLE) {
            SET(b, 1);
        } RD_END
        rd_log_undo(note, (void *)9);
    } RD_END
    assert_int_equal(b, 1);
    assert_int_equal(nlog_calls, 0);
    assert_int_equal(rd_log_count(), 0);
}

/* A fault inside a reversible domain rolls it back (it is logged) and its
 * parent goes on; no inverse is logged for work that did not happen. */
static void test_reversible_internal_fault_rolls_back_itself(void **state)
{
    (void)state;
    reset();
    volatile int rev_code = 0;
    RD_BEGIN(RD_BASIC) {
        SET(a, 1);
        RD_BEGIN(RD_REVERSIBLE) {
            SET(b, 1);
            rd_abort(8);
        } RD_ONABORT {
            rev_code = rd_errno();
        } RD_END
    } RD_END
    assert_int_equal(rev_code, 8);
    assert_int_equal(a, 1);
    assert_int_equal(b, 0);
}

/* ------------------------------------------------------ transparent kind */

/* On error a transparent domain is rolled back and skipped: the parent
 * sees no error and continues right after it. */
static void test_transparent_error_is_skipped(void **state)
{
    (void)state;
    reset();
    volatile int outer_aborted = 0;
    RD_BEGIN(RD_BASIC) {
        SET(a, 1);
        RD_BEGIN(RD_TRANSPARENT) {
            SET(b, 1);
            rd_abort(3);
        } RD_END
        SET(c, 1);
    } RD_ONABORT {
        outer_aborted = 1;
    } RD_END
    assert_int_equal(outer_aborted, 0);
    assert_int_equal(a, 1);
    assert_int_equal(b, 0);
    assert_int_equal(c, 1);
}

static void test_transparent_commit_is_not_undone_by_parent(void **state)
{
    (void)state;
    reset();
    RD_BEGIN(RD_BASIC) {
        SET(a, 1);
        RD_BEGIN(RD_TRANSPARENT) {
            SET(b, 1);
        } RD_END
        rd_abort(1);
    } RD_END
    assert_int_equal(a, 0);
    assert_int_equal(b, 1);
}

/* -------------------------------------------------------- deferred work */

/* Releases run at the commit of the outermost logged domain, in the order
 * they were requested: a nested basic commit does not run them. */
static void test_defer_runs_at_outermost_commit_in_order(void **state)
{
    (void)state;
    reset();
    RD_BEGIN(RD_BASIC) {
        RD_BEGIN(RD_BASIC) {
            rd_defer(note, (void *)1);
        } RD_END
        assert_int_equal(nlog_calls, 0);
        rd_defer(note, (void *)2);
        assert_int_equal(nlog_calls, 0);
    } RD_END
    assert_int_equal(nlog_calls, 2);
    assert_int_equal(log_calls[0], 1);
    assert_int_equal(log_calls[1], 2);
}

static void test_defer_dropped_on_abort(void **state)
{
    (void)state;
    reset();
    RD_BEGIN(RD_BASIC) {
        RD_BEGIN(RD_BASIC) {
            rd_defer(note, (void *)1);
        } RD_END
        rd_abort(1);
    } RD_END
    RD_BEGIN(RD_BASIC) {
    } RD_END
    assert_int_equal(nlog_calls, 0);
}

/* A reversible domain really commits, so its releases run then. */
static void test_defer_in_reversible_runs_at_its_commit(void **state)
{
    (void)state;
    reset();
    RD_BEGIN(RD_BASIC) {
        RD_BEGIN(RD_REVERSIBLE) {
            rd_defer(note, (void *)1);
        } RD_END
        assert_int_equal(nlog_calls, 1);
        rd_abort(1);
    } RD_END
    assert_int_equal(nlog_calls, 1);
}

static void test_defer_outside_logged_domains_runs_at_once(void **state)
{
    (void)state;
    reset();
    rd_defer(note, (void *)1);
    assert_int_equal(nlog_calls, 1);
    RD_BEGIN(RD_UNLOGGED) {
        rd_defer(note, (void *)2);
        assert_int_equal(nlog_calls, 2);
    } RD_END
}

static void test_rd_free_deferred_to_commit(void **state)
{
    (void)state;
    reset();
    nfreed = 0;
    char *p = malloc(32), *q = malloc(32);
    assert_non_null(p);
    assert_non_null(q);
    RD_BEGIN(RD_BASIC) {
        rd_free(p);
        assert_false(was_freed(p));
    } RD_END
    assert_true(was_freed(p));

    RD_BEGIN(RD_BASIC) {
        rd_free(q);
        rd_abort(1);
    } RD_END
    assert_false(was_freed(q));   /* the rollback still owns q */
    free(q);
}

static void test_rd_malloc_undone_on_abort(void **state)
{
    (void)state;
    reset();
    nfreed = 0;
    long *volatile p = NULL, *volatile kept = NULL;
    RD_BEGIN(RD_BASIC) {
        RD_BEGIN(RD_BASIC) {
            p = rd_malloc(64);
            assert_non_null(p);
            rd_log_range(p, 8);       /* restored before the block is freed */
            *p = 1;
        } RD_END
        assert_false(was_freed(p));
        rd_abort(1);
    } RD_END
    assert_true(was_freed(p));

    nfreed = 0;    /* kept may reuse p's address */
    RD_BEGIN(RD_BASIC) {
        kept = rd_malloc(64);
    } RD_END
    assert_false(was_freed(kept));
    free(kept);
}

/* ------------------------------------------------------- frames, the API */

/* A frame created inside the domain is never logged; a local of the frame
 * that opened the domain is. */
static __attribute__((noinline)) void log_own_local(void)
{
    volatile long mine = 1;
    rd_log_range(&mine, sizeof mine);
    mine = 2;
}

static void test_frames_created_inside_are_not_logged(void **state)
{
    (void)state;
    reset();
    volatile long outer = 0;
    RD_BEGIN(RD_BASIC) {
        log_own_local();
        assert_int_equal(rd_log_count(), 0);
        SET(outer, 1);
        assert_int_equal(rd_log_count(), 1);
        rd_abort(1);
    } RD_END
    assert_int_equal(outer, 0);
}

/* `break` leaves the body and commits; `rd_abort(0)` still reports an
 * error. */
static void test_break_commits_and_abort_zero_reports_eabort(void **state)
{
    (void)state;
    reset();
    RD_BEGIN(RD_BASIC) {
        SET(a, 1);
        if (a)
            break;
        SET(a, 2);
    } RD_END
    assert_int_equal(a, 1);
    assert_int_equal(rd_depth(), 0);
    assert_int_equal(rd_log_count(), 0);

    volatile int code = 0;
    RD_BEGIN(RD_BASIC) {
        rd_abort(0);
    } RD_ONABORT {
        code = rd_errno();
    } RD_END
    assert_int_equal(code, RD_EABORT);
}

/* The function form, as in the paper's Figure 1: rd_begin returns the
 * landing pad, the caller arms it. */
static long *checked_alloc(size_t n, volatile int *code)
{
    long *volatile result = NULL;
    sigjmp_buf *pad = rd_begin(RD_REVERSIBLE);
    if (sigsetjmp(*pad, 1) == 0) {
        result = rd_malloc(n * sizeof *result);
        if (n > 100)
            rd_abort(12);
        rd_commit();
    } else {
        result = NULL;      /* the error value this domain specifies */
        *code = rd_errno();
    }
    return result;
}

static void test_function_form(void **state)
{
    (void)state;
    reset();
    nfreed = 0;
    volatile int code = 0;
    long *p = checked_alloc(4, &code);
    assert_non_null(p);
    assert_int_equal(code, 0);
    assert_null(checked_alloc(1000, &code));
    assert_int_equal(code, 12);
    assert_int_equal(nfreed, 1);   /* the aborted allocation, not p */
    assert_false(was_freed(p));
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_rule_control_returns_to_faulting_domain, close_leftover_domains),
        cmocka_unit_test_teardown(test_rule_memory_restored_as_if_not_run, close_leftover_domains),
        cmocka_unit_test_teardown(test_rule_unlogged_writes_are_not_restored, close_leftover_domains),
        cmocka_unit_test_teardown(test_basic_root_commit_is_final, close_leftover_domains),
        cmocka_unit_test_teardown(test_basic_nested_commit_merges_into_parent, close_leftover_domains),
        cmocka_unit_test_teardown(test_basic_middle_abort_keeps_outer, close_leftover_domains),
        cmocka_unit_test_teardown(test_basic_in_unlogged_is_a_root, close_leftover_domains),
        cmocka_unit_test_teardown(test_reversible_commit_ignores_parent_and_compensation_runs, close_leftover_domains),
        cmocka_unit_test_teardown(test_reversible_compensation_not_run_when_parent_commits, close_leftover_domains),
        cmocka_unit_test_teardown(test_reversible_internal_fault_rolls_back_itself, close_leftover_domains),
        cmocka_unit_test_teardown(test_transparent_error_is_skipped, close_leftover_domains),
        cmocka_unit_test_teardown(test_transparent_commit_is_not_undone_by_parent, close_leftover_domains),
        cmocka_unit_test_teardown(test_defer_runs_at_outermost_commit_in_order, close_leftover_domains),
        cmocka_unit_test_teardown(test_defer_dropped_on_abort, close_leftover_domains),
        cmocka_unit_test_teardown(test_defer_in_reversible_runs_at_its_commit, close_leftover_domains),
        cmocka_unit_test_teardown(test_defer_outside_logged_domains_runs_at_once, close_leftover_domains),
        cmocka_unit_test_teardown(test_rd_free_deferred_to_commit, close_leftover_domains),
        cmocka_unit_test_teardown(test_rd_malloc_undone_on_abort, close_leftover_domains),
        cmocka_unit_test_teardown(test_frames_created_inside_are_not_logged, close_leftover_domains),
        cmocka_unit_test_teardown(test_break_commits_and_abort_zero_reports_eabort, close_leftover_domains),
        cmocka_unit_test_teardown(test_function_form, close_leftover_domains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
