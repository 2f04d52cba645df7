/* test_arena.c — unit tests of the arena's persistent undo log and allocator
 * (src/lib/arena.c), with real deaths: a forked child shares the arena's
 * memfd mapping, writes through the log and is killed (SIGKILL, so nothing
 * of it runs after the write); the parent then maps the arena afresh, as
 * the next service instance would, and recovers it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arena_internal.h"
#include "journal.h"
#include "revive/arena.h"
#include "runtime.h"

#define SIZE (2u << 20)

static int fd = -1;

static void remap(void)
{
    char why[160];
    rv_arena_detach();
    if (rv_arena_attach(fd, SIZE, why, sizeof why) != 0)
        fail_msg("attach: %s", why);
}

static void assert_consistent(void)
{
    char why[160];
    if (rv_arena_check(why, sizeof why) != 0)
        fail_msg("arena check: %s", why);
}

/* A fresh, formatted arena for each test. */
static int setup(void **state)
{
    (void)state;
    fd = memfd_create("test-arena", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, SIZE) < 0)
        return -1;
    remap();
    rv_arena_recover(NULL, 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rv_arena_detach();
    close(fd);
    return 0;
}

/* Runs fn in a child that shares the mapping and must die by SIGKILL
 * (fn ends by killing itself, mid-request). */
static void in_killed_child(void (*fn)(void *), void *arg)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        fn(arg);
        raise(SIGKILL);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
}

static char *committed_string(const char *text)
{
    char *p = rv_arena_alloc(64);
    assert_non_null(p);
    strcpy(p, text);
    rv_arena_commit();
    return p;
}

/* ---- the undo log ---- */

static void overwrite_twice(void *arg)
{
    char *p = arg;
    rv_arena_log(p, 64);
    strcpy(p, "newer");
    rv_arena_log(p, 64);   /* the same bytes again: the oldest image must win */
    strcpy(p, "newest");
    rv_arena_log(rv_arena_root(), sizeof(void *));
    *rv_arena_root() = p;
}

static void test_crash_rolls_back(void **state)
{
    (void)state;
    char *p = committed_string("old");
    in_killed_child(overwrite_twice, p);
    assert_string_equal(p, "newest");   /* the child's writes reached the arena ... */
    remap();
    rv_arena_recover(NULL, 0);
    assert_string_equal(p, "old");      /* ... and the next mapping undid them */
    assert_null(*rv_arena_root());
    assert_consistent();
}

static void overwrite_and_commit(void *arg)
{
    char *p = arg;
    rv_arena_log(p, 64);
    strcpy(p, "new");
    rv_arena_commit();
}

static void test_commit_is_durable(void **state)
{
    (void)state;
    char *p = committed_string("old");
    in_killed_child(overwrite_and_commit, p);
    remap();
    rv_arena_recover(NULL, 0);
    assert_string_equal(p, "new");
}

/* ---- the journal decides: session 7's request 3 ---- */

static void overwrite_in_request(void *arg)
{
    char *p = arg;
    rv_sess s = { .id = 7 };
    rv_request req = { .session = &s, .seq = 3 };
    rv_rt_serving = &req;
    rv_arena_log(p, 64);
    strcpy(p, "new");   /* killed before rv_arena_commit */
}

static void recover_with_journal(uint64_t done_seq)
{
    struct rv_journal *j = calloc(1, rv_journal_bytes(0));
    assert_non_null(j);
    j->magic = RV_JOURNAL_MAGIC;
    rv_journal_slot(j, 0)->done_seq = done_seq;
    rv_sess s = { .id = 7, .j = j };
    rv_sess *all[] = { &s };
    remap();
    rv_arena_recover(all, 1);
    free(j);
}

static void test_committed_journal_keeps_writes(void **state)
{
    (void)state;
    char *p = committed_string("old");
    in_killed_child(overwrite_in_request, p);
    recover_with_journal(3);   /* the request completed: it crashed between the two commits */
    assert_string_equal(p, "new");
}

static void test_uncommitted_journal_undoes_writes(void **state)
{
    (void)state;
    char *p = committed_string("old");
    in_killed_child(overwrite_in_request, p);
    recover_with_journal(2);   /* request 3 is still in flight: it re-runs */
    assert_string_equal(p, "old");
}

/* ---- the allocator ---- */

/* Frees a block and gets the same block back, overwriting it: only the
 * whole-block log of free makes that undoable. */
static void free_then_reuse(void *arg)
{
    char *p = arg;
    rv_arena_free(p);
    char *q = rv_arena_alloc(64);
    if (q != p)
        _exit(1);   /* not killed: the parent's SIGKILL check fails */
    strcpy(q, "reused, past the first word of the block");
    for (int i = 0; i < 10; i++)
        if (!rv_arena_alloc(100))
            _exit(1);
}

static void test_free_and_alloc_roll_back(void **state)
{
    (void)state;
    char *p = committed_string("kept, and longer than the block's first word");
    char *next = rv_arena_alloc(64);   /* what the next allocation of the class is */
    rv_arena_abort();
    in_killed_child(free_then_reuse, p);
    remap();
    rv_arena_recover(NULL, 0);
    assert_string_equal(p, "kept, and longer than the block's first word");
    assert_consistent();
    assert_ptr_equal(rv_arena_alloc(64), next);   /* p is still allocated, nothing leaked */
    rv_arena_commit();
}

static void test_alloc_limits(void **state)
{
    (void)state;
    assert_null(rv_arena_alloc(0));
    assert_null(rv_arena_alloc(RV_ARENA_ALLOC_MAX + 1));
    char *big = rv_arena_alloc(RV_ARENA_ALLOC_MAX);
    assert_non_null(big);
    assert_int_equal(rv_arena_usable(big), RV_ARENA_ALLOC_MAX);
    assert_true(rv_arena_usable(rv_arena_alloc(33)) >= 33);
    size_t n = 0;
    while (rv_arena_alloc(RV_ARENA_ALLOC_MAX)) {   /* until full: then NULL, not a crash */
        n++;
        rv_arena_commit();   /* each block's bookkeeping fits the log */
    }
    rv_arena_commit();
    assert_true(n > 0);
    assert_consistent();
}

static void test_check_finds_corruption(void **state)
{
    (void)state;
    char *p = committed_string("x");
    char why[160];
    ((uint16_t *)p)[-3] = 99;   /* the block header's class: {u16 magic, u16 class, u32 in use} */
    assert_int_equal(rv_arena_check(why, sizeof why), -1);
    assert_non_null(strstr(why, "malformed block header"));
}

/* ---- the fixed address ---- */

static void test_address_taken(void **state)
{
    (void)state;
    char why[160];
    rv_arena_detach();
    void *squat = mmap((void *)RV_ARENA_BASE, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    assert_ptr_equal(squat, (void *)RV_ARENA_BASE);
    assert_int_equal(rv_arena_attach(fd, SIZE, why, sizeof why), -1);
    assert_non_null(strstr(why, "something else is mapped there"));
    munmap(squat, 4096);
    assert_int_equal(rv_arena_attach(fd, SIZE + 4096, why, sizeof why), -1);
    assert_non_null(strstr(why, "not the"));
    remap();
}

int main(void)
{
    rv_rt.name = "test_arena";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_crash_rolls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_is_durable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_committed_journal_keeps_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uncommitted_journal_undoes_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_and_alloc_roll_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alloc_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_finds_corruption, setup, teardown),
        cmocka_unit_test_setup_teardown(test_address_taken, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
