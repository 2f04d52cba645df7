/* test_procstat.c — unit tests of revived's reading of /proc/PID/stat
 * (src/revived/procstat.c), which decides whether a dying instance is past
 * the point of no return. The command name is the process's own: a name
 * with parentheses and spaces must not shift the fields after it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procstat.h"

/* A stat line of 52 fields: field i (3..52) is i itself, but for those
 * given. */
static void make_line(char *buf, size_t len, const char *comm, char state, unsigned flags, long threads,
                      unsigned long long vsize, int exit_code, int nfields)
{
    int off = snprintf(buf, len, "4242 (%s) %c", comm, state);
    for (int f = 4; f <= nfields; f++) {
        long long v = f == 9 ? flags : f == 20 ? threads : f == 23 ? (long long)vsize : f == 52 ? exit_code : f;
        off += snprintf(buf + off, len - (size_t)off, " %lld", v);
    }
    snprintf(buf + off, len - (size_t)off, "\n");
}

static void test_own_line(void **state)
{
    (void)state;
    struct procstat ps = { 0 };
    assert_int_equal(procstat_read(getpid(), &ps), 0);
    assert_int_equal(ps.state, 'R');
    assert_false(ps.flags & PROCSTAT_PF_EXITING);
    assert_true(ps.threads >= 1);
    assert_true(ps.vsize > 0);
    assert_int_equal(ps.exit_code, 0);
}

static void test_dying_line(void **state)
{
    (void)state;
    char line[1024];
    struct procstat ps = { 0 };
    make_line(line, sizeof line, "rv-svc-bench", 'R', 0x400104, 1, 0, SIGKILL, 52);
    assert_int_equal(procstat_parse(line, &ps), 0);
    assert_true(ps.flags & PROCSTAT_PF_EXITING);
    assert_int_equal(ps.threads, 1);
    assert_int_equal(ps.vsize, 0);
    assert_true(WIFSIGNALED(ps.exit_code));
    assert_int_equal(WTERMSIG(ps.exit_code), SIGKILL);
}

static void test_name_with_parentheses(void **state)
{
    (void)state;
    char line[1024];
    struct procstat ps = { 0 };
    make_line(line, sizeof line, ") 1 (x) S 9 ", 'S', 0x400140, 3, 8192, 3 << 8, 52);
    assert_int_equal(procstat_parse(line, &ps), 0);
    assert_int_equal(ps.state, 'S');
    assert_false(ps.flags & PROCSTAT_PF_EXITING);
    assert_int_equal(ps.threads, 3);
    assert_int_equal(ps.vsize, 8192);
    assert_int_equal(WEXITSTATUS(ps.exit_code), 3);
}

static void test_refused(void **state)
{
    (void)state;
    char line[1024];
    struct procstat ps;
    make_line(line, sizeof line, "short", 'R', 4, 1, 0, 9, 40);   /* an older kernel's: no exit_code */
    assert_int_equal(procstat_parse(line, &ps), -1);
    assert_int_equal(procstat_parse("4242 no-name R 1 2 3", &ps), -1);
    assert_int_equal(procstat_parse("4242 (x)R 1", &ps), -1);
    make_line(line, sizeof line, "x", 'R', 4, 1, 0, 9, 52);
    line[strlen(line) - 4] = 'z';   /* a field that is no number */
    assert_int_equal(procstat_parse(line, &ps), -1);
    assert_int_equal(procstat_parse("", &ps), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_own_line),
        cmocka_unit_test(test_dying_line),
        cmocka_unit_test(test_name_with_parentheses),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
