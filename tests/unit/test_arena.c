/* test_arena.c — unit tests of the arena's persistent undo log and allocator
 * (src/lib/server/arena.c), with real deaths: a forked child shares the arena's
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

#include <fcntl.h>
#include "arena_file.h"
#include "arena_internal.h"
#include "fail.h"
#include "revive/arena.h"

#define SIZE (2u << 20)

static bool nothing_committed(uint64_t session, uint64_t seq)
{
    (void)session, (void)seq;
    return false;
}

static int fd = -1;

static void remap(void)
{
    char why[160];
    rv__arena_detach();
    if (rv__arena_attach(fd, SIZE, why, sizeof why) != 0)
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
    rv__arena_recover(nothing_committed);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rv__arena_detach();
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
    rv__arena_recover(nothing_committed);
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
    rv__arena_recover(nothing_committed);
    assert_string_equal(p, "new");
}

/* ---- the journal decides: session 7's request 3 ---- */

static void overwrite_in_request(void *arg)
{
    char *p = arg;
    rv__arena_request(7, 3);
    rv_arena_log(p, 64);
    strcpy(p, "new");   /* killed before rv_arena_commit */
}

/* What the runtime answers from session 7's journal: its last completed
 * request is `done_seq`. */
static uint64_t done_seq;

static bool journal_says(uint64_t session, uint64_t seq)
{
    return session == 7 && seq <= done_seq;
}

static void recover_with_journal(uint64_t done)
{
    done_seq = done;
    remap();
    rv__arena_recover(journal_says);
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
    rv__arena_recover(nothing_committed);
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

static void take_pages(void *arg)
{
    (void)arg;
    if (!rv_arena_alloc_pages(100 * 1024))
        _exit(1);
}

/* Pages come page-aligned from the top, blocks never grow into them, an
 * interrupted request's pages come back, and a full arena says NULL. */
static void test_alloc_pages(void **state)
{
    (void)state;
    uint8_t *a = rv_arena_alloc_pages(5000);
    assert_non_null(a);
    assert_int_equal((uintptr_t)a % 4096, 0);
    assert_true((uintptr_t)a + 8192 <= RV_ARENA_BASE + SIZE);
    memset(a, 0xab, 8192);
    rv_arena_commit();
    in_killed_child(take_pages, NULL);
    remap();
    rv__arena_recover(nothing_committed);
    uint8_t *b = rv_arena_alloc_pages(4096);
    assert_ptr_equal(b, a - 4096);   /* the child's 100 KiB were given back */
    rv_arena_commit();
    assert_null(rv_arena_alloc_pages(SIZE));
    size_t blocks = 0;
    while (rv_arena_alloc(RV_ARENA_ALLOC_MAX)) {
        blocks++;
        rv_arena_commit();
    }
    rv_arena_commit();
    assert_true(blocks > 0);
    for (int i = 0; i < 8192; i++)
        assert_int_equal(a[i], 0xab);   /* no block was cut from the pages */
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

/* ---- the arena file: what a new revived's fresh memory is loaded from ---- */

static char file_path[64];
static int file_fd = -1;

/* What a new revived hands the first instance: a zeroed memory, the file. */
static void new_revived(void)
{
    char why[160];
    rv__arena_detach();
    close(fd);
    fd = memfd_create("test-arena", MFD_CLOEXEC);
    assert_int_equal(ftruncate(fd, SIZE), 0);
    remap();
    if (rv__arena_file_open(dup(file_fd), SIZE, why, sizeof why) != 0)
        fail_msg("open the arena file: %s", why);
    rv__arena_recover(nothing_committed);
}

static int setup_file(void **state)
{
    (void)state;
    snprintf(file_path, sizeof file_path, "/tmp/rv-test-arena-%d", (int)getpid());
    file_fd = open(file_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (file_fd < 0 || ftruncate(file_fd, (off_t)rv__arena_file_bytes(SIZE)) < 0)
        return -1;
    fd = memfd_create("test-arena", MFD_CLOEXEC);
    new_revived();
    return 0;
}

static int teardown_file(void **state)
{
    teardown(state);
    close(file_fd);
    unlink(file_path);
    return 0;
}

static void test_file_outlives_memory(void **state)
{
    (void)state;
    char *p = committed_string("durable");
    rv_arena_log(rv_arena_root(), sizeof(void *));
    *rv_arena_root() = p;
    rv_arena_commit();
    new_revived();
    assert_ptr_equal(*rv_arena_root(), p);
    assert_string_equal(p, "durable");
    assert_consistent();
}

/* More committed bytes than the redo log holds (every block rewritten
 * round after round): checkpoints write the image, and the reload still
 * finds every block as it was last committed. */
static void test_file_checkpoints(void **state)
{
    (void)state;
    enum { BLOCKS = 100, BYTES = 8000, ROUNDS = 7 };
    uint8_t **table = rv_arena_alloc(BLOCKS * sizeof *table);
    assert_non_null(table);
    for (int i = 0; i < BLOCKS; i++)
        assert_non_null(table[i] = rv_arena_alloc(BYTES));
    rv_arena_log(rv_arena_root(), sizeof(void *));
    *rv_arena_root() = table;
    rv_arena_commit();
    for (int r = 0; r < ROUNDS; r++)
        for (int i = 0; i < BLOCKS; i++) {
            rv_arena_log(table[i], BYTES);
            memset(table[i], (i + r) & 0xff, BYTES);
            rv_arena_commit();
        }
    assert_true((uint64_t)BLOCKS * BYTES * ROUNDS > RV_ARENA_WAL_BYTES);
    new_revived();
    assert_ptr_equal(*rv_arena_root(), table);
    for (int i = 0; i < BLOCKS; i++)
        for (int k = 0; k < BYTES; k += 997)
            if (table[i][k] != ((i + ROUNDS - 1) & 0xff))
                fail_msg("block %d byte %d: %u after the reload, committed %u", i, k, table[i][k],
                         (i + ROUNDS - 1) & 0xff);
    assert_consistent();
}

/* The last transaction torn by a crash (its last byte never written):
 * its checksum fails, and the reload stops before it. */
static void test_file_torn_transaction(void **state)
{
    (void)state;
    char *p = committed_string("first");
    rv_arena_log(p, 64);
    strcpy(p, "second");
    rv_arena_commit();
    static uint8_t log[RV_ARENA_WAL_BYTES];
    off_t at = (off_t)(RV_ARENA_FILE_HDR + SIZE);
    assert_int_equal(pread(file_fd, log, sizeof log, at), (ssize_t)sizeof log);
    size_t last = sizeof log;
    while (last && !log[last - 1])
        last--;
    assert_true(last > 0);
    log[last - 1] ^= 0xff;
    assert_int_equal(pwrite(file_fd, &log[last - 1], 1, at + (off_t)last - 1), 1);
    new_revived();
    assert_string_equal(p, "first");
    assert_consistent();
}

/* A request killed before its commit is undone in memory, and the file,
 * which never had it, agrees after the reload. */
static void test_file_without_uncommitted(void **state)
{
    (void)state;
    char *p = committed_string("old");
    in_killed_child(overwrite_twice, p);
    remap();
    rv__arena_recover(nothing_committed);
    new_revived();
    assert_string_equal(p, "old");
    assert_null(*rv_arena_root());
    assert_consistent();
}

/* ---- the fixed address ---- */

static void test_address_taken(void **state)
{
    (void)state;
    char why[160];
    rv__arena_detach();
    void *squat = mmap((void *)RV_ARENA_BASE, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    assert_ptr_equal(squat, (void *)RV_ARENA_BASE);
    assert_int_equal(rv__arena_attach(fd, SIZE, why, sizeof why), -1);
    assert_non_null(strstr(why, "something else is mapped there"));
    munmap(squat, 4096);
    assert_int_equal(rv__arena_attach(fd, SIZE + 4096, why, sizeof why), -1);
    assert_non_null(strstr(why, "not the"));
    remap();
}

int main(void)
{
    rv__log_as("test_arena");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_crash_rolls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_is_durable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_committed_journal_keeps_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uncommitted_journal_undoes_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_and_alloc_roll_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alloc_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alloc_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_finds_corruption, setup, teardown),
        cmocka_unit_test_setup_teardown(test_address_taken, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_outlives_memory, setup_file, teardown_file),
        cmocka_unit_test_setup_teardown(test_file_checkpoints, setup_file, teardown_file),
        cmocka_unit_test_setup_teardown(test_file_torn_transaction, setup_file, teardown_file),
        cmocka_unit_test_setup_teardown(test_file_without_uncommitted, setup_file, teardown_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
