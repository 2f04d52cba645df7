/* test_isolation.c — what one task can and cannot do to revived and to
 * others: a client never sees its SSR, a dead client's SSRs are freed, the
 * SSR quota holds with a clear message, and malformed messages on the
 * public socket or a session socket get RV_EPROTO while everything keeps
 * working. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"
#include "journal.h"
#include "testsvc.h"
#include "wire.h"

static void start(struct rvd *d, const char *extra)
{
    char m[512];
    rvd_start(d, manifest_test(m, sizeof m, extra));
}

static int count_fds(bool *memfd)
{
    DIR *dir = opendir("/proc/self/fd");
    assert_non_null(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        char path[300], target[256];
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t len = readlink(path, target, sizeof target - 1);
        target[len > 0 ? len : 0] = '\0';
        *memfd |= strstr(target, "/memfd:") != NULL;
        n++;
    }
    closedir(dir);
    return n - 1;   /* the directory's own descriptor */
}

static void test_client_never_maps_ssr(void **state)
{
    (void)state;
    struct rvd d;
    start(&d, "");
    bool memfd = false;
    int before = count_fds(&memfd);
    rv_session *s = open_session(&d, "test", NULL);
    assert_int_equal(call_ok(s, TEST_INCR), 1);
    /* the session's socket, and the connection it is re-opened through if
     * it faults (kept while a session needs it): nothing else */
    assert_int_equal(count_fds(&memfd), before + 2);
    assert_false(memfd);
    struct stat st;
    assert_int_equal(fstat(rv_session_fd(s), &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, rv_session_fd(s), 0);
    assert_true(p == MAP_FAILED);
    rv_close(s);
    rvd_stop(&d);
}

/* A child opens sessions, says so, and is SIGKILLed: revived must notice
 * and free every session and SSR it held. */
static void child_opens(const struct rvd *d, int ready, int n)
{
    rv_conn *c;
    rv_session *s;
    if (rv_connect(d->sock, &c) != 0)
        _exit(1);
    for (int i = 0; i < n; i++)
        if (rv_open(c, "test", NULL, &s) != 0)
            _exit(1);
    if (write(ready, "!", 1) != 1)
        _exit(1);
    pause();
    _exit(0);
}

static bool all_freed(const struct svc_status *st, const void *arg)
{
    (void)arg;
    return st->sessions == 0 && st->ssr_bytes == 0;
}

/* What a session of the test service costs its user: its SSR and journal
 * at the manifest's defaults (max_request and max_reply 4K, checksum). */
static size_t session_bytes(void)
{
    struct rv_journal_shape shape = { TEST_SSR_SIZE, RV_MAX_PAYLOAD, RV_MAX_PAYLOAD };
    return rv__session_bytes(&shape, false);
}

static void test_client_death_frees(void **state)
{
    (void)state;
    struct rvd d;
    start(&d, "");
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        child_opens(&d, p[1], 3);
    close(p[1]);
    char b;
    assert_int_equal(read(p[0], &b, 1), 1);
    close(p[0]);
    struct svc_status st;
    svc_status(&d, "test", &st);
    assert_int_equal(st.sessions, 3);
    assert_int_equal(st.ssr_bytes, 3 * (long long)(session_bytes()));
    kill(child, SIGKILL);
    assert_int_equal(waitpid(child, NULL, 0), child);
    wait_status(&d, "test", all_freed, NULL, &st);
    rvd_stop(&d);
}

static void test_quota(void **state)
{
    (void)state;
    struct rvd d;
    rvd_start(&d, "[revived]\nmax_ssr_bytes = 64K\n[service test]\nexec = rv-svc-test\nssr_size = 256\n");
    size_t per = session_bytes();
    size_t fit = (64 * 1024) / per;
    assert_true(fit >= 1);
    rv_conn *c;
    rv_session *s[64];
    assert_true(fit < 64);
    assert_int_equal(rv_connect(d.sock, &c), 0);
    for (size_t i = 0; i < fit; i++)
        assert_int_equal(rv_open(c, "test", NULL, &s[i]), 0);
    rv_session *extra;
    assert_int_equal(rv_open(c, "test", NULL, &extra), RV_EQUOTA);
    if (!strstr(rv_conn_error(c), "quota") || !strstr(rv_conn_error(c), "max_ssr_bytes"))
        fail_msg("unclear quota message: '%s'", rv_conn_error(c));
    assert_int_equal(call_ok(s[0], TEST_INCR), 1);
    for (size_t i = 0; i < fit; i++)
        rv_close(s[i]);
    rv_disconnect(c);
    rvd_stop(&d);
}

/* max_sessions = 3: a fourth open is refused with the reason; a session
 * closed gives its slab record to the next open (once the instance has
 * handled its UNBIND: the open is tried until then), which starts from a
 * fresh state, not the record's last one; the others keep theirs. */
static void test_max_sessions(void **state)
{
    (void)state;
    struct rvd d;
    rvd_start(&d, "[service test]\nexec = rv-svc-test\nssr_size = 256\nmax_sessions = 3\n");
    rv_conn *c;
    rv_session *s[3], *extra = NULL;
    assert_int_equal(rv_connect(d.sock, &c), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(rv_open(c, "test", NULL, &s[i]), 0);
        for (int k = 0; k <= i; k++)
            assert_int_equal(call_ok(s[i], TEST_INCR), (uint64_t)k + 1);
    }
    assert_int_equal(rv_open(c, "test", NULL, &extra), RV_EBUSY);
    if (!strstr(rv_conn_error(c), "max_sessions (3)"))
        fail_msg("unclear refusal: '%s'", rv_conn_error(c));
    rv_close(s[2]);
    int rc = RV_EBUSY;
    for (int i = 0; i < 100000 && rc == RV_EBUSY; i++)
        rc = rv_open(c, "test", NULL, &extra);
    assert_int_equal(rc, 0);
    assert_int_equal(call_ok(extra, TEST_INCR), 1);
    assert_int_equal(call_ok(s[0], TEST_INCR), 2);
    assert_int_equal(call_ok(s[1], TEST_INCR), 3);
    rv_close(extra);
    rv_close(s[0]);
    rv_close(s[1]);
    rv_disconnect(c);
    rvd_stop(&d);
}

/* ---- malformed messages ---- */

static int dial(const struct rvd *d)
{
    int fd = rv__wire_dial(d->sock);
    assert_true(fd >= 0);
    return fd;
}

/* Sends a raw datagram, with one descriptor if fd >= 0. */
static void send_raw(int sock, const void *buf, size_t len, int fd)
{
    struct iovec iov = { (void *)buf, len };
    union {
        char b[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (fd >= 0) {
        mh.msg_control = ctl.b;
        mh.msg_controllen = sizeof ctl.b;
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    assert_int_equal(sendmsg(sock, &mh, 0), (ssize_t)len);
}

struct bad {
    const char *what;
    struct rv_hdr h;
    const char *body;   /* appended after the header */
    size_t sent;        /* bytes to send; 0: header + body */
    bool with_fd;
};

static size_t bad_datagram(const struct bad *b, uint8_t *buf)
{
    size_t blen = b->body ? strlen(b->body) : 0;
    memcpy(buf, &b->h, sizeof b->h);
    if (blen)
        memcpy(buf + sizeof b->h, b->body, blen);
    return b->sent ? b->sent : sizeof b->h + blen;
}

/* The answer to a malformed message: type and status as given. */
static void expect_reject(int sock, const struct bad *b, uint8_t type, struct rv_msg *m)
{
    uint8_t buf[sizeof(struct rv_hdr) + 64];
    send_raw(sock, buf, bad_datagram(b, buf), b->with_fd ? STDIN_FILENO : -1);
    int r = rv__wire_recv(sock, m, RV_WIRE_MAX_BODY, 0);
    if (r != 1 || m->hdr.type != type || m->hdr.status != RV_EPROTO)
        fail_msg("%s: answer %d, type %u, status %d", b->what, r, r == 1 ? m->hdr.type : 0,
                 r == 1 ? m->hdr.status : 0);
    rv__msg_close_fds(m);
}

static struct rv_hdr hdr(uint8_t type, uint32_t len)
{
    return rv__hdr_make(type, 0, 0, 0, len);
}

static struct rv_hdr hdr_with(uint16_t magic, uint8_t version, uint8_t type, uint32_t len)
{
    struct rv_hdr h = hdr(type, len);
    h.magic = magic;
    h.version = version;
    return h;
}

static void test_public_malformed(void **state)
{
    (void)state;
    struct rvd d;
    start(&d, "");
    const struct bad cases[] = {
        { "short datagram", hdr(RV_T_STATUS, 0), NULL, 10, false },
        { "bad magic", hdr_with(0x1234, RV_WIRE_VERSION, RV_T_STATUS, 0), NULL, 0, false },
        { "bad version", hdr_with(RV_WIRE_MAGIC, 99, RV_T_STATUS, 0), NULL, 0, false },
        { "length mismatch", hdr(RV_T_OPEN, 40), "test", 0, false },
        { "unknown type", hdr(99, 0), NULL, 0, false },
        { "unterminated name", hdr(RV_T_OPEN, 4), "test", 0, false },
        { "a descriptor", hdr(RV_T_STATUS, 0), NULL, 0, true },
    };
    static struct rv_msg m;
    int sock = dial(&d);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_reject(sock, &cases[i], RV_T_ERROR, &m);
    struct rv_hdr h = hdr(RV_T_STATUS, 0);
    send_raw(sock, &h, sizeof h, -1);
    assert_int_equal(rv__wire_recv(sock, &m, RV_WIRE_MAX_BODY, 0), 1);
    assert_int_equal(m.hdr.type, RV_T_STATUS_REPLY);
    close(sock);
    rv_session *s = open_session(&d, "test", NULL);
    assert_int_equal(call_ok(s, TEST_INCR), 1);
    rv_close(s);
    rvd_stop(&d);
}

static void test_session_malformed(void **state)
{
    (void)state;
    struct rvd d;
    start(&d, "");
    rv_session *s = open_session(&d, "test", NULL);
    assert_int_equal(call_ok(s, TEST_INCR), 1);
    const struct bad cases[] = {
        { "short datagram", hdr(RV_T_CALL, 0), NULL, 10, false },
        { "bad magic", hdr_with(0x1234, RV_WIRE_VERSION, RV_T_CALL, 0), NULL, 0, false },
        { "bad version", hdr_with(RV_WIRE_MAGIC, 99, RV_T_CALL, 0), NULL, 0, false },
        { "length mismatch", hdr(RV_T_CALL, 40), "abc", 0, false },
        { "not a call", hdr(RV_T_OPEN, 0), NULL, 0, false },
    };
    static struct rv_msg m;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_reject(rv_session_fd(s), &cases[i], RV_T_REPLY, &m);
    assert_int_equal(call_ok(s, TEST_INCR), 2);
    rv_close(s);
    rvd_stop(&d);
}

/* ---- services that lie to revived ---- */

static bool refused(const struct svc_status *st, const void *arg)
{
    (void)arg;
    return strcmp(st->state, "failed") == 0;
}

/* An instance whose HELLO asks for "system calls" no runtime names, and
 * one whose status page claims every control message handled before it
 * was sent (so revived hands its slab records to new sessions at once):
 * the first is refused with its reason, the second decides nothing but
 * when its own records come back. revived serves on, counts right, and a
 * service beside them is untouched. */
static void test_lying_instances(void **state)
{
    (void)state;
    struct rvd d;
    char liars[512], m[1024];
    int n = snprintf(liars, sizeof liars,
                     "[service liar-hello]\nexec = %s\nargs = hello-list\nrestart = never\n"
                     "[service liar-done]\nexec = %s\nargs = ctl-done\nsandbox = no\nssr_size = 64\nmax_sessions = 8\n",
                     RV_IT_LIAR, RV_IT_LIAR);
    assert_true(n > 0 && (size_t)n < sizeof liars);
    rvd_start(&d, manifest_test(m, sizeof m, liars));
    rv_session *s = open_session(&d, "test", NULL);
    struct svc_status st;
    wait_status(&d, "liar-hello", refused, NULL, &st);
    assert_non_null(strstr(st.last_exit, "its HELLO's list of system calls is malformed"));
    uint64_t calls = 0;
    for (int round = 0; round < 20; round++) {
        rv_session *liars[8];
        for (int i = 0; i < 8; i++)
            liars[i] = open_session(&d, "liar-done", NULL);
        for (int i = 0; i < 8; i++)
            rv_close(liars[i]);
        assert_int_equal(call_ok(s, TEST_INCR), ++calls);
    }
    wait_status(&d, "liar-done", all_freed, NULL, &st);
    assert_int_equal(st.restarts, 0);
    rv_close(s);
    rvd_stop(&d);
}

static bool standby_gone(const struct svc_status *st, const void *arg)
{
    (void)arg;
    return st->standby_pid == 0 && strcmp(st->state, "ready") == 0;
}

/* A standby that closes its control channel and lives on can no longer be
 * handed a session or promoted: revived kills it, rather than keep a
 * standby that looks ready and would hold up the next recovery. The active
 * instance and the service beside it serve on. */
static void test_standby_closing_its_channel(void **state)
{
    (void)state;
    struct rvd d;
    char dir[64], fifo[96], liar[384], m[1024];
    tempdir_make(dir, sizeof dir);
    snprintf(fifo, sizeof fifo, "%s/hung-up", dir);
    it_mkfifo(fifo);
    int said = open(fifo, O_RDWR | O_CLOEXEC);
    assert_true(said >= 0);
    int n = snprintf(liar, sizeof liar,
                     "[service liar-standby]\nexec = %s\nargs = standby-hangs-up %s\nsandbox = no\nstandby = yes\n",
                     RV_IT_LIAR, fifo);
    assert_true(n > 0 && (size_t)n < sizeof liar);
    rvd_start(&d, manifest_test(m, sizeof m, liar));
    pid_t standby;
    assert_int_equal(read(said, &standby, sizeof standby), sizeof standby);   /* it hung up, alive */
    struct svc_status st;
    wait_status(&d, "liar-standby", standby_gone, NULL, &st);
    assert_int_equal(kill(standby, 0), -1);
    assert_int_equal(errno, ESRCH);
    assert_int_equal(st.restarts, 0);
    assert_true(st.pid > 0 && st.pid != standby);
    rv_session *s = open_session(&d, "test", NULL);
    assert_int_equal(call_ok(s, TEST_INCR), 1);
    rv_close(s);
    rvd_stop(&d);
    close(said);
    tempdir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_client_never_maps_ssr, it_teardown),
        cmocka_unit_test_teardown(test_client_death_frees, it_teardown),
        cmocka_unit_test_teardown(test_quota, it_teardown),
        cmocka_unit_test_teardown(test_max_sessions, it_teardown),
        cmocka_unit_test_teardown(test_public_malformed, it_teardown),
        cmocka_unit_test_teardown(test_session_malformed, it_teardown),
        cmocka_unit_test_teardown(test_lying_instances, it_teardown),
        cmocka_unit_test_teardown(test_standby_closing_its_channel, it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
