/* test_instrument.c — automatic instrumentation: code compiled with
 * rd_instrumented_dep (gcc's -fsanitize=thread, linked against revive's
 * __tsan_* hooks instead of libtsan) is undo-logged with no rd_log_range.
 *
 * The service code under test is instrumented.c; this file is built the
 * same way (one target, one dependency, as a service would be), so the
 * atomics it performs go through the hooks too. Checked: every kind of
 * store (widths 1-16, struct copies, memcpy/memset/memmove small and large)
 * is rolled back when the domain then faults; a bad pointer in instrumented
 * code — faulting inside the write hook or at the store itself — is the
 * domain's fault; frames created inside the domain are not logged; atomics
 * take effect, correctly, and are not undone; outside domains and in
 * unlogged domains nothing is logged; a read hook on one thread of another
 * thread's uncommitted store makes a dependence, so the reader is rolled
 * back with the writer; and libtsan is not in the process.
 *
 * cmocka installs its own fault handlers around every test, so each test
 * re-installs the runtime's with rd_init() first.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "revive/rd.h"
#include "instrumented.h"

static struct svc_state st, before;
static struct svc_counters counters;
static int plain;

/* An address that is never mapped, hidden from the compiler. */
static volatile uintptr_t bad_address = 16;

static void setup(void)
{
    assert_int_equal(rd_init(), 0);
    assert_int_equal(rd_depth(), 0);
}

/* A failed assertion inside a domain leaves it open; close it. */
static int close_leftover_domains(void **state)
{
    (void)state;
    while (rd_depth() > 0)
        rd_commit();
    return 0;
}

/* Scribbles over st inside a basic domain, then stores through `bad`,
 * which must fault; returns the domain's error code. st must be back to
 * `before` afterwards. */
static int scribble_then_store(int *bad)
{
    volatile int code = 0;
    svc_scribble(&st, 1);
    before = st;
    RD_BEGIN(RD_BASIC) {
        svc_scribble(&st, 0x5a);
        assert_true(memcmp(&st, &before, sizeof st) != 0);
        assert_true(rd_log_count() > 0);
        svc_store(bad, 1);
        fail_msg("the store through a bad pointer did not fault");
    } RD_ONABORT {
        code = rd_errno();
    } RD_END
    return code;
}

/* The write hook reads the old value first: an unmapped address faults
 * inside the hook, before the store, and the domain takes the blame. */
static void test_fault_in_hook_rolls_back_every_write(void **state)
{
    (void)state;
    setup();
    assert_int_equal(scribble_then_store((int *)bad_address), RD_EFAULT(SIGSEGV));
    assert_memory_equal(&st, &before, sizeof st);
    assert_int_equal(rd_log_count(), 0);
}

/* A read-only page passes the hook (reading is fine) and faults at the
 * store itself. */
static void test_fault_at_store_rolls_back_every_write(void **state)
{
    (void)state;
    setup();
    int *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(ro != MAP_FAILED);
    assert_int_equal(scribble_then_store(ro), RD_EFAULT(SIGSEGV));
    assert_memory_equal(&st, &before, sizeof st);
    assert_int_equal(*ro, 0);
    munmap(ro, 4096);
}

/* The hooks see svc_fill's stores (an older frame's array is logged and
 * restored) but drop them when they land in a frame the domain created. */
static void test_frames_created_inside_not_logged(void **state)
{
    (void)state;
    setup();
    char mine[64] = { 0 };
    RD_BEGIN(RD_BASIC) {
        size_t n0 = rd_log_count();
        assert_int_equal(svc_fill_local(), 64);
        assert_int_equal(rd_log_count(), n0);
        svc_fill(mine, sizeof mine);
        assert_true(rd_log_count() > n0);
        rd_abort(1);
    } RD_ONABORT {
        assert_int_equal(rd_errno(), 1);
    } RD_END
    for (size_t i = 0; i < sizeof mine; i++)
        assert_int_equal(mine[i], 0);
}

/* Atomics act at once and are not logged, so a rollback keeps them; the
 * plain store next to them is undone. */
static void test_atomics_not_undone(void **state)
{
    (void)state;
    setup();
    counters = (struct svc_counters){ 0 };
    plain = 0;
    RD_BEGIN(RD_BASIC) {
        size_t n0 = rd_log_count();
        svc_bump(&counters);
        assert_int_equal(rd_log_count(), n0);
        svc_store(&plain, 5);
        svc_store((int *)bad_address, 1);
    } RD_ONABORT {
        assert_int_equal(rd_errno(), RD_EFAULT(SIGSEGV));
    } RD_END
    assert_int_equal(plain, 0);
    assert_int_equal(counters.c8, 1);
    assert_int_equal(counters.c16, 1);
    assert_int_equal(counters.c32, 1);
    assert_int_equal(counters.c64, 1);
}

/* Every atomic operation the hooks implement, on one variable of type T
 * (a global, so the compiler keeps each operation), checked for its
 * result and its effect. */
#define CHECK_ATOMICS(T, v)                                                 \
    do {                                                                    \
        T e = 0;                                                            \
        __atomic_store_n(&v, (T)10, __ATOMIC_RELEASE);                      \
        assert_true(__atomic_load_n(&v, __ATOMIC_ACQUIRE) == 10);           \
        assert_true(__atomic_fetch_add(&v, 5, __ATOMIC_RELAXED) == 10);     \
        assert_true(__atomic_fetch_sub(&v, 3, __ATOMIC_ACQ_REL) == 15);     \
        assert_true(__atomic_fetch_and(&v, 0xe, __ATOMIC_SEQ_CST) == 12);   \
        assert_true(__atomic_fetch_or(&v, 1, __ATOMIC_SEQ_CST) == 12);      \
        assert_true(__atomic_fetch_xor(&v, 3, __ATOMIC_SEQ_CST) == 13);     \
        assert_true(__atomic_fetch_nand(&v, 0xf, __ATOMIC_SEQ_CST) == 14);  \
        assert_true(v == (T)~(T)14);                                        \
        assert_true(__atomic_exchange_n(&v, 7, __ATOMIC_SEQ_CST) == (T)~(T)14); \
        e = 6;                                                              \
        assert_false(__atomic_compare_exchange_n(&v, &e, 9, 1,              \
                     __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));                  \
        assert_true(e == 7);                                                \
        assert_true(__atomic_compare_exchange_n(&v, &e, 9, 0,               \
                    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));                   \
        assert_true(__sync_val_compare_and_swap(&v, 9, 4) == 9);            \
        assert_true(v == 4);                                                \
    } while (0)

static uint8_t v8;
static uint16_t v16;
static uint32_t v32;
static uint64_t v64;
static unsigned __int128 v128;

static void test_atomics_correct(void **state)
{
    (void)state;
    CHECK_ATOMICS(uint8_t, v8);
    CHECK_ATOMICS(uint16_t, v16);
    CHECK_ATOMICS(uint32_t, v32);
    CHECK_ATOMICS(uint64_t, v64);
    CHECK_ATOMICS(unsigned __int128, v128);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/* Outside any domain, and in an unlogged one, instrumented code just runs. */
static void test_outside_domains_nothing_logged(void **state)
{
    (void)state;
    setup();
    assert_int_equal(rd_log_count(), 0);
    svc_scribble(&st, 9);
    assert_int_equal(rd_log_count(), 0);
    assert_true(st.fields.u128 == (((unsigned __int128)9 << 64) | 5));
    assert_int_equal(st.a64[SVC_ELEMS - 1], 9 + SVC_ELEMS - 1);
    assert_int_equal(st.large[SVC_LARGE - 1], 9);
    assert_memory_equal(st.small, "abc", 3);
    assert_memory_equal(&st.copy, &st.fields, sizeof st.copy);
    RD_BEGIN(RD_UNLOGGED) {
        svc_scribble(&st, 11);
        assert_int_equal(rd_log_count(), 0);
    } RD_ONABORT {
        fail_msg("the unlogged domain rolled back");
    } RD_END
    assert_int_equal(st.fields.u32, 11 + 3);
}

/* ------------------------------------------------------- across threads */

/* A stores `shared` and fails once B loaded it; B's load went through the
 * read hook only, yet B is rolled back with A. `wrote` and `loaded` order
 * them; `release` is opened by A after its rollback, so a B that was not
 * condemned would end its domain normally and fail the test. */
/* Apart: sharing a shadow granule, B's store to derived would itself make
 * B depend on A (an overwrite), and the test would not see the read hook. */
static int shared __attribute__((aligned(64)));
static int derived __attribute__((aligned(64)));
static volatile int a_code, b_code, b_saw;
static int wrote, loaded, release;

static void gate_open(int fd)
{
    uint64_t one = 1;
    (void)!write(fd, &one, sizeof one);
}

static void gate_wait(int fd)
{
    uint64_t v;
    while (read(fd, &v, sizeof v) != sizeof v && errno == EINTR)
        ;
}

static void *writer(void *arg)
{
    (void)arg;
    RD_BEGIN(RD_BASIC) {
        svc_store(&shared, 1);
        gate_open(wrote);
        gate_wait(loaded);
        rd_abort(4);
    } RD_ONABORT {
        a_code = rd_errno();
    } RD_END
    gate_open(release);
    return NULL;
}

static void *reader(void *arg)
{
    (void)arg;
    gate_wait(wrote);
    RD_BEGIN(RD_BASIC) {
        int saw = svc_load(&shared);
        RD_BEGIN(RD_UNLOGGED) {
            b_saw = saw;      /* every store here is logged: this one stays */
        } RD_END
        svc_store(&derived, saw + 1);
        gate_open(loaded);
        gate_wait(release);
    } RD_ONABORT {
        b_code = rd_errno();
    } RD_END
    return NULL;
}

static void test_read_hook_makes_cross_thread_dependence(void **state)
{
    (void)state;
    setup();
    shared = derived = 0;
    wrote = eventfd(0, EFD_CLOEXEC);
    loaded = eventfd(0, EFD_CLOEXEC);
    release = eventfd(0, EFD_CLOEXEC);
    assert_true(wrote >= 0 && loaded >= 0 && release >= 0);
    pthread_t a, b;
    assert_int_equal(pthread_create(&a, NULL, writer, NULL), 0);
    assert_int_equal(pthread_create(&b, NULL, reader, NULL), 0);
    assert_int_equal(pthread_join(a, NULL), 0);
    assert_int_equal(pthread_join(b, NULL), 0);
    close(wrote);
    close(loaded);
    close(release);
    assert_int_equal(b_saw, 1);
    assert_int_equal(a_code, 4);
    assert_int_equal(b_code, RD_ECASCADE);
    assert_int_equal(shared, 0);
    assert_int_equal(derived, 0);
}

/* The hooks are revive's: libtsan (whose runtime would start race
 * detection) is not mapped into the process. */
static void test_libtsan_not_loaded(void **state)
{
    (void)state;
    FILE *maps = fopen("/proc/self/maps", "r");
    assert_non_null(maps);
    char line[512];
    int lines = 0, tsan = 0;
    while (fgets(line, sizeof line, maps)) {
        lines++;
        tsan += strstr(line, "libtsan") != NULL;
    }
    fclose(maps);
    assert_true(lines > 0);
    assert_int_equal(tsan, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_fault_in_hook_rolls_back_every_write, close_leftover_domains),
        cmocka_unit_test_teardown(test_fault_at_store_rolls_back_every_write, close_leftover_domains),
        cmocka_unit_test_teardown(test_frames_created_inside_not_logged, close_leftover_domains),
        cmocka_unit_test_teardown(test_atomics_not_undone, close_leftover_domains),
        cmocka_unit_test(test_atomics_correct),
        cmocka_unit_test_teardown(test_outside_domains_nothing_logged, close_leftover_domains),
        cmocka_unit_test_teardown(test_read_hook_makes_cross_thread_dependence, close_leftover_domains),
        cmocka_unit_test(test_libtsan_not_loaded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
