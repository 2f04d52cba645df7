/* test_namespace.c — revived's side of client reanimation: dataspaces, their
 * lifelines, and tasks revived starts with a name space of their own.
 *
 * The dataspace tests speak the wire protocol on raw connections to the
 * public socket (the client library has its own tests), so each checks
 * exactly what revived sends. Every wait is for an event — a reply, a
 * lifeline's POLLHUP, a line from a task — bounded by IT_WAIT_MS.
 *
 * The task tests have revived start rv-it-task (task_helper.c), which
 * reports through a FIFO in a temp dir the test makes before revived
 * starts, so no start-up race exists.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "wire.h"

#define DS_SIZE 4096

static struct rv_msg msg;

/* ---- the wire ---- */

static int dial(const struct rvd *d)
{
    int fd = rv__wire_dial(d->sock);
    assert_true(fd >= 0);
    return fd;
}

static void send_req(int fd, uint8_t type, uint32_t op, const char *name, const int *fds, size_t nfds)
{
    struct rv_hdr h = rv__hdr_make(type, 0, op, 0, name ? strlen(name) + 1 : 0);
    assert_int_equal(rv__wire_send(fd, &h, name, fds, nfds, 0), 0);
}

/* The next message on fd, within IT_WAIT_MS. */
static struct rv_msg *recv_reply(int fd)
{
    struct pollfd p = { fd, POLLIN, 0 };
    if (poll(&p, 1, IT_WAIT_MS) != 1)
        fail_msg("no reply from revived within %d ms", IT_WAIT_MS);
    assert_int_equal(rv__wire_recv(fd, &msg, RV_WIRE_MAX_BODY, 0), 1);
    return &msg;
}

static struct rv_msg *expect_type(int fd, uint8_t type)
{
    struct rv_msg *m = recv_reply(fd);
    if (m->hdr.type != type)
        fail_msg("expected message type %u, got %u (status %d: %.*s)", type, m->hdr.type, (int)m->hdr.status,
                 m->hdr.type == RV_T_ERROR ? (int)m->hdr.len : 0, (const char *)m->body);
    return m;
}

/* An RV_T_ERROR with this status whose sentence contains `what`. */
static void expect_error(int fd, int32_t status, const char *what)
{
    struct rv_msg *m = expect_type(fd, RV_T_ERROR);
    char text[512];
    snprintf(text, sizeof text, "%.*s", (int)m->hdr.len, (const char *)m->body);
    if (m->hdr.status != status || !strstr(text, what))
        fail_msg("expected error %d '...%s...', got %d '%s'", status, what, (int)m->hdr.status, text);
}

/* Sealed against shrinking, as revived requires of a dataspace. */
static int make_memfd(size_t size, const char *text)
{
    int fd = memfd_create("rv-it-ds", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)size), 0);
    assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
    if (text)
        assert_int_equal(pwrite(fd, text, strlen(text) + 1, 0), (ssize_t)strlen(text) + 1);
    return fd;
}

static void *map(int fd, size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    assert_true(p != MAP_FAILED);
    return p;
}

/* Provides memfd (+ notifiers) as name on fd; revived keeps copies. */
static void provide(int fd, const char *name, int memfd, const int *notifiers, unsigned n)
{
    int fds[3] = { memfd, n > 0 ? notifiers[0] : -1, n > 1 ? notifiers[1] : -1 };
    send_req(fd, RV_T_DS_PROVIDE, n, name, fds, 1 + n);
    expect_type(fd, RV_T_OK);
}

/* An answered attach: the message, with its descriptors, stays in msg. */
static struct rv_msg *attach(int fd, const char *name, uint32_t wait_ms)
{
    send_req(fd, RV_T_DS_ATTACH, wait_ms, name, NULL, 0);
    struct rv_msg *m = expect_type(fd, RV_T_DS_OK);
    uint64_t size;
    assert_int_equal(m->hdr.len, sizeof size);
    memcpy(&size, m->body, sizeof size);
    assert_int_equal(size, DS_SIZE);
    assert_int_equal(m->nfds, 2 + m->hdr.op);
    return m;
}

static bool hung_up(int fd, int timeout_ms)
{
    struct pollfd p = { fd, POLLIN, 0 };
    return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLHUP);
}

/* Lists revived's descriptors, to explain a count that does not match. */
static void fd_dump(pid_t pid)
{
    char path[64], link[sizeof path + 256], target[256];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *dir = opendir(path);
    for (struct dirent *e; dir && (e = readdir(dir));) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(link, sizeof link, "%s/%s", path, e->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        fprintf(stderr, "  fd %s -> %.*s\n", e->d_name, (int)(n < 0 ? 0 : n), target);
    }
    if (dir)
        closedir(dir);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void start_plain(struct rvd *d)
{
    char m[256];
    rvd_start(d, manifest_test(m, sizeof m, ""));
}

/* ---- dataspaces ---- */

/* The consumer maps the provider's memory: a write through either mapping
 * is read through the other; the notifier is the provider's eventfd. */
static void test_provide_attach_shares_memory(void **state)
{
    (void)state;
    struct rvd d;
    start_plain(&d);
    int prov = dial(&d), cons = dial(&d);
    int memfd = make_memfd(DS_SIZE, NULL), efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    provide(prov, "frames", memfd, &efd, 1);

    struct rv_msg *m = attach(cons, "frames", 0);
    assert_int_equal(m->hdr.op, 1);
    int cmem = m->fds[0], life = m->fds[1], cnote = m->fds[2];
    char *a = map(memfd, DS_SIZE), *b = map(cmem, DS_SIZE);
    strcpy(a, "written by the provider");
    assert_string_equal(b, "written by the provider");
    strcpy(b + 100, "written by the consumer");
    assert_string_equal(a + 100, "written by the consumer");
    uint64_t one = 1, got = 0;
    assert_int_equal(write(cnote, &one, sizeof one), sizeof one);
    assert_int_equal(read(efd, &got, sizeof got), sizeof got);
    assert_int_equal(got, 1);

    /* The lifeline stays quiet while the provider lives, and hangs up at
     * once when its connection goes. */
    assert_false(hung_up(life, 0));
    close(prov);
    assert_true(hung_up(life, IT_WAIT_MS));
    send_req(cons, RV_T_DS_ATTACH, 0, "frames", NULL, 0);
    expect_error(cons, RV_ENOSVC, "no dataspace 'frames' (waited 0 ms)");

    munmap(a, DS_SIZE);
    munmap(b, DS_SIZE);
    close(cmem);
    close(life);
    close(cnote);
    close(memfd);
    close(efd);
    close(cons);
    rvd_stop(&d);
}

/* The provider process: provides "video", says so on `ready`, waits to be
 * killed. No cmocka here: a failure is an exit status the parent sees as
 * a missing byte. */
static void __attribute__((noreturn)) provider_child(const struct rvd *d, int ready)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = rv__wire_dial(d->sock);
    int memfd = memfd_create("rv-it-ds", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0 || memfd < 0 || ftruncate(memfd, DS_SIZE) < 0 || fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK) < 0 ||
        pwrite(memfd, "alive", 6, 0) != 6)
        _exit(1);
    struct rv_hdr h = rv__hdr_make(RV_T_DS_PROVIDE, 0, 0, 0, 6);
    if (rv__wire_send(fd, &h, "video", &memfd, 1, 0) < 0 || rv__wire_recv(fd, &msg, RV_WIRE_MAX_BODY, 0) != 1 ||
        msg.hdr.type != RV_T_OK || write(ready, "R", 1) != 1)
        _exit(1);
    for (;;)
        pause();
}

/* A provider in another process, killed with SIGKILL: the consumer's
 * lifeline reports POLLHUP, and the name is free again. */
static void test_provider_killed(void **state)
{
    (void)state;
    struct rvd d;
    start_plain(&d);
    int ready[2];
    assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        provider_child(&d, ready[1]);
    close(ready[1]);
    char b;
    assert_int_equal(read(ready[0], &b, 1), 1);
    close(ready[0]);

    int cons = dial(&d);
    struct rv_msg *m = attach(cons, "video", 0);
    int cmem = m->fds[0], life = m->fds[1];
    char *p = map(cmem, DS_SIZE);
    assert_string_equal(p, "alive");
    assert_false(hung_up(life, 0));
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    assert_true(hung_up(life, IT_WAIT_MS));

    /* withdrawn: a new provider may take the name */
    int prov = dial(&d), memfd = make_memfd(DS_SIZE, NULL);
    provide(prov, "video", memfd, NULL, 0);
    munmap(p, DS_SIZE);
    close(cmem);
    close(life);
    close(memfd);
    close(prov);
    close(cons);
    rvd_stop(&d);
}

/* No provider: the attach waits for as long as it asked, then RV_ENOSVC. */
static void test_attach_times_out(void **state)
{
    (void)state;
    struct rvd d;
    start_plain(&d);
    int cons = dial(&d);
    long long t0 = now_ms();
    send_req(cons, RV_T_DS_ATTACH, 200, "nobody", NULL, 0);
    expect_error(cons, RV_ENOSVC, "no dataspace 'nobody' (waited 200 ms)");
    long long took = now_ms() - t0;
    if (took < 200 || took > 200 + IT_WAIT_MS)
        fail_msg("the attach was refused after %lld ms, want 200 ms or a little more", took);
    close(cons);
    rvd_stop(&d);
}

/* An attach waits (revived answers the connection's next request first),
 * and is answered when the provider appears. */
static void test_attach_waits_for_provider(void **state)
{
    (void)state;
    struct rvd d;
    start_plain(&d);
    int cons = dial(&d), prov = dial(&d);
    send_req(cons, RV_T_DS_ATTACH, IT_WAIT_MS, "late", NULL, 0);
    send_req(cons, RV_T_STATUS, 0, NULL, NULL, 0);
    expect_type(cons, RV_T_STATUS_REPLY);   /* so the attach is waiting */
    int memfd = make_memfd(DS_SIZE, "here at last");
    provide(prov, "late", memfd, NULL, 0);
    struct rv_msg *m = expect_type(cons, RV_T_DS_OK);
    assert_int_equal(m->nfds, 2);
    char *p = map(m->fds[0], DS_SIZE);
    assert_string_equal(p, "here at last");
    munmap(p, DS_SIZE);
    rv__msg_close_fds(m);
    close(memfd);
    close(prov);
    close(cons);
    rvd_stop(&d);
}

/* A live provider keeps its name; once it is gone, the name is free. */
static void test_duplicate_provide(void **state)
{
    (void)state;
    struct rvd d;
    start_plain(&d);
    int first = dial(&d), second = dial(&d), cons = dial(&d);
    int m1 = make_memfd(DS_SIZE, NULL), m2 = make_memfd(DS_SIZE, NULL);
    provide(first, "dup", m1, NULL, 0);
    int fds[1] = { m2 };
    send_req(second, RV_T_DS_PROVIDE, 0, "dup", fds, 1);
    expect_error(second, RV_EBUSY, "dataspace 'dup' is already provided");

    struct rv_msg *m = attach(cons, "dup", 0);
    int life = m->fds[1];
    close(m->fds[0]);
    close(first);
    assert_true(hung_up(life, IT_WAIT_MS));   /* withdrawn */
    provide(second, "dup", m2, NULL, 0);
    close(life);
    close(m1);
    close(m2);
    close(second);
    close(cons);
    rvd_stop(&d);
}

/* Sends a provide with these descriptors and op; expects the refusal. */
static void expect_bad_provide(int fd, uint32_t op, const char *name, const int *fds, size_t nfds,
                               int32_t status, const char *what)
{
    send_req(fd, RV_T_DS_PROVIDE, op, name, fds, nfds);
    expect_error(fd, status, what);
}

/* Every bad descriptor or field is refused with its sentence, and revived
 * keeps none of the descriptors it was sent. */
static void test_bad_provide(void **state)
{
    (void)state;
    struct rvd d;
    start_plain(&d);
    struct svc_status st;
    wait_status(&d, "test", status_ready, NULL, &st);   /* its HELLO borrowed revived's reserve */
    int fd = dial(&d);
    send_req(fd, RV_T_STATUS, 0, NULL, NULL, 0);
    expect_type(fd, RV_T_STATUS_REPLY);
    size_t baseline = it_fd_count(d.pid);

    int good = make_memfd(DS_SIZE, NULL), empty = make_memfd(0, NULL), efd = eventfd(0, EFD_CLOEXEC), p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", good);
    int rdonly = open(path, O_RDONLY | O_CLOEXEC), devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    assert_true(rdonly >= 0 && devnull >= 0);

    expect_bad_provide(fd, 0, "x", NULL, 0, RV_EINVAL, "'x': 0 notifiers need 1 descriptors (the memfd, then "
                       "the notifiers), got 0");
    expect_bad_provide(fd, 3, "x", (int[]){ good, efd, efd, efd }, 4, RV_EINVAL, "3 notifiers; at most 2");
    expect_bad_provide(fd, 1, "x", (int[]){ good }, 1, RV_EINVAL, "1 notifiers need 2 descriptors");
    expect_bad_provide(fd, 0, "x", (int[]){ good, efd }, 2, RV_EINVAL, "got 2");
    expect_bad_provide(fd, 0, "x", (int[]){ p[0] }, 1, RV_EINVAL, "the first descriptor is not a memfd (it is pipe:");
    expect_bad_provide(fd, 0, "x", (int[]){ devnull }, 1, RV_EINVAL, "not a memfd (it is /dev/null)");
    expect_bad_provide(fd, 0, "x", (int[]){ empty }, 1, RV_EINVAL, "the memfd has 0 bytes; it must have 1 to");
    expect_bad_provide(fd, 0, "x", (int[]){ rdonly }, 1, RV_EINVAL, "not open for reading and writing");
    int unsealed = memfd_create("rv-it-unsealed", MFD_CLOEXEC);
    assert_true(unsealed >= 0 && ftruncate(unsealed, DS_SIZE) == 0);
    expect_bad_provide(fd, 0, "x", (int[]){ unsealed }, 1, RV_EINVAL, "not sealed against shrinking");
    close(unsealed);
    expect_bad_provide(fd, 1, "x", (int[]){ good, p[1] }, 2, RV_EINVAL, "notifier 0 is not an eventfd (it is pipe:");
    expect_bad_provide(fd, 2, "x", (int[]){ good, efd, good }, 3, RV_EINVAL, "notifier 1 is not an eventfd");
    expect_bad_provide(fd, 0, "a/b", (int[]){ good }, 1, RV_EINVAL, "bad name 'a/b'");
    expect_bad_provide(fd, 0, "", (int[]){ good }, 1, RV_EINVAL, "bad name ''");
    send_req(fd, RV_T_DS_ATTACH, 0, "x", (int[]){ good }, 1);
    expect_error(fd, RV_EPROTO, "unexpected descriptors");
    struct rv_hdr h = rv__hdr_make(RV_T_DS_ATTACH, 0, 0, 0, 4);
    assert_int_equal(rv__wire_send(fd, &h, "x\0yz", NULL, 0, 0), 0);
    expect_error(fd, RV_EPROTO, "2 bytes after the name");
    h = rv__hdr_make(RV_T_DS_PROVIDE, 0, 0, 0, 2);
    assert_int_equal(rv__wire_send(fd, &h, "xy", (int[]){ good }, 1, 0), 0);
    expect_error(fd, RV_EPROTO, "the payload must be a name of at most 63 bytes and its NUL");
    h = rv__hdr_make(RV_T_DS_PROVIDE, 0, 0, 0, 4);
    assert_int_equal(rv__wire_send(fd, &h, "x\0yz", (int[]){ good }, 1, 0), 0);
    expect_error(fd, RV_EPROTO, "the payload must be a name");

    if (it_fd_count(d.pid) != baseline) {
        fd_dump(d.pid);
        fail_msg("revived holds %zu descriptors after the refusals, %zu before", it_fd_count(d.pid), baseline);
    }
    int fds[] = { good, efd, rdonly, devnull, empty, p[0], p[1], fd };
    for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
        close(fds[i]);
    rvd_stop(&d);
}

/* ---- tasks ---- */

struct report {
    char dir[64];
    char path[96];
    int fd;
};

/* A FIFO for the task's lines, opened read-write so it never hangs up. */
static void report_make(struct report *r)
{
    tempdir_make(r->dir, sizeof r->dir);
    snprintf(r->path, sizeof r->path, "%s/report", r->dir);
    assert_int_equal(mkfifo(r->path, 0600), 0);
    r->fd = open(r->path, O_RDWR | O_CLOEXEC);
    assert_true(r->fd >= 0);
}

static void report_line(struct report *r, char *buf, size_t len)
{
    size_t n = 0;
    for (;;) {
        struct pollfd p = { r->fd, POLLIN, 0 };
        if (poll(&p, 1, IT_WAIT_MS) != 1)
            fail_msg("the task reported nothing within %d ms (got '%.*s')", IT_WAIT_MS, (int)n, buf);
        char c;
        assert_int_equal(read(r->fd, &c, 1), 1);
        if (c == '\n')
            break;
        if (n + 1 < len)
            buf[n++] = c;
    }
    buf[n] = '\0';
}

static void report_remove(struct report *r)
{
    close(r->fd);
    tempdir_remove(r->dir);
}

/* revived with services `test` and `other` and one task `t`. */
static void start_with_task(struct rvd *d, const struct report *r, const char *args, const char *task_extra)
{
    char extra[1024], m[1536];
    snprintf(extra, sizeof extra,
             "[service other]\nexec = rv-svc-test\n"
             "[task t]\nexec = %s\nargs = %s %s\n%s",
             RV_IT_TASK, r->path, args, task_extra);
    rvd_start(d, manifest_test(m, sizeof m, extra));
}

/* The task's name `mine` stands for `other`: its open reaches `other`. */
static void test_task_name_space(void **state)
{
    (void)state;
    struct rvd d;
    struct report r;
    char line[256];
    report_make(&r);
    start_with_task(&d, &r, "open mine", "names = mine:other\n");
    report_line(&r, line, sizeof line);
    assert_string_equal(line, "t 1 OK");
    struct svc_status st;
    svc_status(&d, "other", &st);
    assert_int_equal(st.sessions, 1);
    svc_status(&d, "test", &st);
    assert_int_equal(st.sessions, 0);
    rvd_stop(&d);
    report_remove(&r);
}

/* `test` exists, but not in the task's name space. */
static void test_task_unmapped_name(void **state)
{
    (void)state;
    struct rvd d;
    struct report r;
    char line[256], want[256];
    report_make(&r);
    start_with_task(&d, &r, "open test", "names = mine:other\n");
    report_line(&r, line, sizeof line);
    snprintf(want, sizeof want, "t 1 ERR %d name 'test' is not in task 't''s name space", RV_ENOSVC);
    assert_string_equal(line, want);
    rvd_stop(&d);
    report_remove(&r);
}

/* The first run exits with status 3; on-failure (the default) starts it
 * again, and the second run reports. */
static void test_task_restarted_on_failure(void **state)
{
    (void)state;
    struct rvd d;
    struct report r;
    char line[256];
    report_make(&r);
    start_with_task(&d, &r, "open mine fail-once", "names = mine:other\n");
    report_line(&r, line, sizeof line);
    assert_string_equal(line, "t 2 OK");
    rvd_stop(&d);
    report_remove(&r);
}

/* Dataspace names resolve in the task's name space too: its `frames` is
 * the `video` a public-socket client provides, after the task asked. */
static void test_task_dataspace_name(void **state)
{
    (void)state;
    struct rvd d;
    struct report r;
    char line[256];
    report_make(&r);
    start_with_task(&d, &r, "attach frames", "names = frames:ds/video mine:other\n");
    int prov = dial(&d), memfd = make_memfd(DS_SIZE, "frame 1");
    provide(prov, "video", memfd, NULL, 0);
    report_line(&r, line, sizeof line);
    assert_string_equal(line, "t 1 OK frame 1");
    /* a public-socket client has no `frames` */
    send_req(prov, RV_T_DS_ATTACH, 0, "frames", NULL, 0);
    expect_error(prov, RV_ENOSVC, "no dataspace 'frames'");
    close(memfd);
    close(prov);
    rvd_stop(&d);
    report_remove(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_provide_attach_shares_memory, it_teardown),
        cmocka_unit_test_teardown(test_provider_killed, it_teardown),
        cmocka_unit_test_teardown(test_attach_times_out, it_teardown),
        cmocka_unit_test_teardown(test_attach_waits_for_provider, it_teardown),
        cmocka_unit_test_teardown(test_duplicate_provide, it_teardown),
        cmocka_unit_test_teardown(test_bad_provide, it_teardown),
        cmocka_unit_test_teardown(test_task_name_space, it_teardown),
        cmocka_unit_test_teardown(test_task_unmapped_name, it_teardown),
        cmocka_unit_test_teardown(test_task_restarted_on_failure, it_teardown),
        cmocka_unit_test_teardown(test_task_dataspace_name, it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
