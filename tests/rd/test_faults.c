/* test_faults.c — unit tests of real faults inside recovery domains: each
 * signal the runtime catches (SIGSEGV, SIGBUS, SIGFPE, SIGILL), rd_assert,
 * a stack overflow (handled on the alternate signal stack), a bad pointer
 * handed to rd_log_range, a fault on a second thread; and the faults that
 * must escalate and kill the process — outside any domain, in an unlogged
 * domain, inside the runtime, a fault signal sent from outside — each run in
 * a forked child whose death by the signal, and the reason its escalation
 * hook was given, are checked.
 *
 * cmocka installs its own SIGSEGV/SIGBUS/SIGFPE/SIGILL handlers around every
 * test, so each test re-installs the runtime's with rd_init() first.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "revive/rd.h"

#define SET(var, val) do { rd_log_range(&(var), sizeof(var)); (var) = (val); } while (0)

static long a, b;

/* An address that is never mapped, hidden from the compiler and from
 * UBSan's null-pointer check. */
static volatile uintptr_t bad_address = 16;

static void setup(void)
{
    assert_int_equal(rd_init(), 0);
    a = b = 0;
    assert_int_equal(rd_depth(), 0);
}

/* Runs `fault` in a basic domain that first logged a write to `a`; returns
 * the domain's error code after checking the write was undone. */
static int code_of(void (*fault)(void))
{
    volatile int code = 0;
    RD_BEGIN(RD_BASIC) {
        SET(a, 1);
        fault();
    } RD_ONABORT {
        code = rd_errno();
    } RD_END
    assert_int_equal(a, 0);
    assert_int_equal(rd_depth(), 0);
    assert_int_equal(rd_log_count(), 0);
    return code;
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

/* ---------------------------------------------------------------- faults */

static void write_bad_pointer(void)
{
    *(volatile int *)bad_address = 1;
}

static void test_sigsegv_bad_pointer(void **state)
{
    (void)state;
    setup();
    assert_int_equal(code_of(write_bad_pointer), RD_EFAULT(SIGSEGV));
}

static volatile int *readonly_page;

static void write_readonly_page(void)
{
    rd_log_range(readonly_page, sizeof *readonly_page);  /* reading is fine */
    *readonly_page = 1;
}

static void test_sigsegv_readonly_page(void **state)
{
    (void)state;
    setup();
    readonly_page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(readonly_page != MAP_FAILED);
    assert_int_equal(code_of(write_readonly_page), RD_EFAULT(SIGSEGV));
    assert_int_equal(*readonly_page, 0);
    munmap((void *)readonly_page, 4096);
}

static volatile char *past_eof;

static void write_past_eof(void)
{
    *past_eof = 1;
}

/* A shared mapping of an empty file: touching it is SIGBUS. */
static void test_sigbus_past_end_of_file(void **state)
{
    (void)state;
    setup();
    int fd = memfd_create("rd-sigbus", MFD_CLOEXEC);
    assert_true(fd >= 0);
    past_eof = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    assert_true(past_eof != MAP_FAILED);
    assert_int_equal(code_of(write_past_eof), RD_EFAULT(SIGBUS));
    munmap((void *)past_eof, 4096);
}

/* An integer division by zero in machine code: in C it would be undefined
 * behaviour, which UBSan would report instead of letting it trap. */
static void divide_by_zero(void)
{
#if defined(__x86_64__)
    int q = 1;
    __asm__ volatile("xorl %%ecx, %%ecx\n\tcltd\n\tidivl %%ecx" : "+a"(q) : : "ecx", "edx");
#else
    raise(SIGFPE);
#endif
}

static void test_sigfpe_divide_by_zero(void **state)
{
    (void)state;
    setup();
    assert_int_equal(code_of(divide_by_zero), RD_EFAULT(SIGFPE));
}

static void illegal_instruction(void)
{
    __builtin_trap();
}

static void test_sigill_trap(void **state)
{
    (void)state;
    setup();
    assert_int_equal(code_of(illegal_instruction), RD_EFAULT(SIGILL));
}

static void failing_assert(void)
{
    rd_assert(a == 0);
}

static void test_rd_assert_rolls_back(void **state)
{
    (void)state;
    setup();
    assert_int_equal(code_of(failing_assert), RD_EASSERT);
}

/* A bad pointer faults inside rd_log_range itself (it reads the old value):
 * that is the domain's fault, and the log stays consistent. */
static void log_bad_pointer(void)
{
    SET(b, 1);
    rd_log_range((const void *)bad_address, 64);
}

static void test_fault_inside_log_range_is_the_domains(void **state)
{
    (void)state;
    setup();
    assert_int_equal(code_of(log_bad_pointer), RD_EFAULT(SIGSEGV));
    assert_int_equal(b, 0);
    RD_BEGIN(RD_BASIC) {               /* the log works as before */
        SET(b, 2);
        rd_abort(1);
    } RD_END
    assert_int_equal(b, 0);
}

/* A real fault in an inner domain lands at the inner pad; the outer domain
 * keeps its writes and goes on. */
static void test_fault_in_inner_domain_leaves_outer(void **state)
{
    (void)state;
    setup();
    volatile int inner_code = 0;
    RD_BEGIN(RD_BASIC) {
        SET(a, 1);
        RD_BEGIN(RD_BASIC) {
            SET(b, 1);
            write_bad_pointer();
        } RD_ONABORT {
            inner_code = rd_errno();
        } RD_END
    } RD_END
    assert_int_equal(inner_code, RD_EFAULT(SIGSEGV));
    assert_int_equal(a, 1);
    assert_int_equal(b, 0);
}

/* --------------------------------------------------------- stack overflow */

static volatile int recursion_limit = INT_MAX;

static int recurse(int depth)
{
    volatile char frame[512];
    frame[0] = (char)depth;
    if (depth == recursion_limit)
        return 0;
    return recurse(depth + 1) + frame[0];
}

static void overflow_stack(void)
{
    recurse(0);
}

/* Twice: the alternate stack is usable again after the first overflow. */
static void test_stack_overflow_caught(void **state)
{
    (void)state;
    setup();
    assert_int_equal(code_of(overflow_stack), RD_EFAULT(SIGSEGV));
    assert_int_equal(code_of(overflow_stack), RD_EFAULT(SIGSEGV));
}

/* ---------------------------------------------------------- other thread */

/* A second thread's faults roll back its own domain only, on its own
 * alternate stack, while the main thread holds a domain open. */
static void *faulting_thread(void *arg)
{
    (void)arg;
    int *codes = calloc(2, sizeof *codes);
    codes[0] = code_of(write_bad_pointer);
    codes[1] = code_of(overflow_stack);
    return codes;
}

static void test_faults_on_another_thread_are_its_own(void **state)
{
    (void)state;
    setup();
    RD_BEGIN(RD_BASIC) {
        SET(b, 1);
        pthread_t th;
        void *ret;
        assert_int_equal(pthread_create(&th, NULL, faulting_thread, NULL), 0);
        assert_int_equal(pthread_join(th, &ret), 0);
        int *codes = ret;
        assert_int_equal(codes[0], RD_EFAULT(SIGSEGV));
        assert_int_equal(codes[1], RD_EFAULT(SIGSEGV));
        free(codes);
        assert_int_equal(rd_depth(), 1);
    } RD_END
    assert_int_equal(b, 1);
}

/* ------------------------------------------------------------ escalation */

/* Every escalating child installs this hook: it reports the signal and the
 * reason on a pipe and returns, so the default escalation (die by the
 * signal) must still follow. The server runtime will write its crash record
 * here. */
static int hook_fd = -1, ready_fd = -1;

static void report_hook(int sig, const char *why)
{
    char line[128];
    int n = snprintf(line, sizeof line, "%d %s", sig, why);
    (void)!write(hook_fd, line, (size_t)n);
}

static void child_main(void (*fn)(void), int hook_w, int ready_w)
{
    struct rlimit none = { 0, 0 };
    setrlimit(RLIMIT_CORE, &none);
    hook_fd = hook_w;
    ready_fd = ready_w;
    if (rd_init() != 0)
        _exit(90);
    rd_set_escalate(report_hook);
    fn();
    _exit(0);    /* survived: the test fails */
}

/* Runs fn in a forked child and checks it died by `sig` after the hook
 * reported `sig` and `why`. With `from_outside`, the parent waits until fn
 * signals it is ready and then sends the child SIGSEGV itself. */
static void assert_escalates(void (*fn)(void), int sig, const char *why, int from_outside)
{
    int hook[2], ready[2];
    assert_int_equal(pipe(hook), 0);
    assert_int_equal(pipe(ready), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        child_main(fn, hook[1], ready[1]);
    close(hook[1]);
    close(ready[1]);
    char c;
    if (from_outside) {
        assert_int_equal(read(ready[0], &c, 1), 1);
        assert_int_equal(kill(pid, SIGSEGV), 0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    char got[128] = { 0 }, want[128];
    assert_true(read(hook[0], got, sizeof got - 1) > 0);
    close(hook[0]);
    close(ready[0]);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), sig);
    snprintf(want, sizeof want, "%d %s", sig, why);
    assert_string_equal(got, want);
}

static void test_fault_outside_domains_escalates(void **state)
{
    (void)state;
    setup();
    assert_escalates(write_bad_pointer, SIGSEGV, "outside any recovery domain", 0);
}

/* The enclosing basic domain must not catch it either. */
static void fault_in_unlogged(void)
{
    RD_BEGIN(RD_BASIC) {
        RD_BEGIN(RD_UNLOGGED) {
            write_bad_pointer();
        } RD_END
    } RD_ONABORT {
        _exit(91);
    } RD_END
}

static void test_fault_in_unlogged_domain_escalates(void **state)
{
    (void)state;
    setup();
    assert_escalates(fault_in_unlogged, SIGSEGV, "in an unlogged domain", 0);
}

static void bad_release(void *arg)
{
    (void)arg;
    write_bad_pointer();
}

/* Deferred releases run inside the runtime at commit. */
static void fault_in_runtime(void)
{
    RD_BEGIN(RD_BASIC) {
        rd_defer(bad_release, NULL);
    } RD_ONABORT {
        _exit(91);
    } RD_END
}

static void test_fault_inside_runtime_escalates(void **state)
{
    (void)state;
    setup();
    assert_escalates(fault_in_runtime, SIGSEGV, "inside the recovery-domain runtime", 0);
}

static void abort_outside(void)
{
    rd_abort(1);
}

static void assert_outside(void)
{
    rd_assert(bad_address == 0);
}

static void abort_in_unlogged(void)
{
    RD_BEGIN(RD_UNLOGGED) {
        rd_abort(1);
    } RD_END
}

static void test_abort_without_logged_domain_escalates(void **state)
{
    (void)state;
    setup();
    assert_escalates(abort_outside, SIGABRT, "outside any recovery domain", 0);
    assert_escalates(assert_outside, SIGABRT, "outside any recovery domain", 0);
    assert_escalates(abort_in_unlogged, SIGABRT, "in an unlogged domain", 0);
}

/* SIGSEGV sent by another process is not a fault of the domain running:
 * the child dies instead of rolling back. */
static void wait_in_domain(void)
{
    RD_BEGIN(RD_BASIC) {
        (void)!write(ready_fd, "r", 1);
        pause();
    } RD_ONABORT {
        _exit(91);
    } RD_END
}

static void test_fault_signal_from_outside_escalates(void **state)
{
    (void)state;
    setup();
    assert_escalates(wait_in_domain, SIGSEGV, "fault signal sent by another process", 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_sigsegv_bad_pointer, close_leftover_domains),
        cmocka_unit_test_teardown(test_sigsegv_readonly_page, close_leftover_domains),
        cmocka_unit_test_teardown(test_sigbus_past_end_of_file, close_leftover_domains),
        cmocka_unit_test_teardown(test_sigfpe_divide_by_zero, close_leftover_domains),
        cmocka_unit_test_teardown(test_sigill_trap, close_leftover_domains),
        cmocka_unit_test_teardown(test_rd_assert_rolls_back, close_leftover_domains),
        cmocka_unit_test_teardown(test_fault_inside_log_range_is_the_domains, close_leftover_domains),
        cmocka_unit_test_teardown(test_fault_in_inner_domain_leaves_outer, close_leftover_domains),
        cmocka_unit_test_teardown(test_stack_overflow_caught, close_leftover_domains),
        cmocka_unit_test_teardown(test_faults_on_another_thread_are_its_own, close_leftover_domains),
        cmocka_unit_test_teardown(test_fault_outside_domains_escalates, close_leftover_domains),
        cmocka_unit_test_teardown(test_fault_in_unlogged_domain_escalates, close_leftover_domains),
        cmocka_unit_test_teardown(test_fault_inside_runtime_escalates, close_leftover_domains),
        cmocka_unit_test_teardown(test_abort_without_logged_domain_escalates, close_leftover_domains),
        cmocka_unit_test_teardown(test_fault_signal_from_outside_escalates, close_leftover_domains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
