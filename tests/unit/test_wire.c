/* test_wire.c — unit tests of revive's wire protocol (src/lib/shared/wire.c).
 *
 * rv__wire_check is tested on buffers: it must accept exactly the datagrams
 * that hold a whole header of our magic and version whose length field
 * matches the bytes that came. rv__wire_send/rv__wire_recv are tested over a
 * real socketpair(AF_UNIX, SOCK_SEQPACKET), the kind every revive channel
 * uses, including descriptor passing. Whenever a message is rejected its
 * descriptors must be closed, so those tests compare the number of entries
 * in /proc/self/fd before and after: a leak shows up as a larger count.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wire.h"

#define HDR sizeof(struct rv_hdr)

/* -------------------------------------------------------------- helpers */

static size_t count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    size_t n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* A datagram buffer: a header of `type` claiming `len` payload bytes,
 * followed by `len` bytes of a recognisable pattern. */
static size_t make_datagram(uint8_t *buf, uint8_t type, uint32_t len)
{
    struct rv_hdr h = rv__hdr_make(type, 7, 9, -3, len);
    memcpy(buf, &h, HDR);
    for (uint32_t i = 0; i < len; i++)
        buf[HDR + i] = (uint8_t)(i * 31 + 1);
    return HDR + len;
}

static int sockets_setup(void **state)
{
    int *sv = malloc(2 * sizeof *sv);
    if (!sv || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    *state = sv;
    return 0;
}

static int sockets_teardown(void **state)
{
    int *sv = *state;
    close(sv[0]);
    if (sv[1] >= 0)
        close(sv[1]);
    free(sv);
    return 0;
}

/* Sends raw bytes with optional descriptors, bypassing rv__wire_send's own
 * checks, the way a hostile peer would. */
static void send_raw(int sock, const void *buf, size_t n, const int *fds, size_t nfds)
{
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = n };
    union {
        char buf[CMSG_SPACE(sizeof(int) * (RV_WIRE_MAX_FDS + 1))];
        struct cmsghdr align;
    } ctl;
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (nfds) {
        mh.msg_control = ctl.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    assert_int_equal(sendmsg(sock, &mh, 0), (ssize_t)n);
}

/* Opens n descriptors, all duplicates of one pipe's write end; rfd gets
 * the read end, so a received descriptor can be proven to be the pipe. */
static void open_pipe_fds(int *fds, size_t n, int *rfd)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    *rfd = p[0];
    fds[0] = p[1];
    for (size_t i = 1; i < n; i++)
        assert_true((fds[i] = dup(p[1])) >= 0);
}

static void close_all(int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        close(fds[i]);
}

/* Every received descriptor is the write end of the pipe read by rfd. */
static void assert_pipe_fds(const struct rv_msg *m, size_t n, int rfd)
{
    struct stat want, got;
    assert_int_equal(fstat(rfd, &want), 0);
    assert_int_equal(m->nfds, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(fstat(m->fds[i], &got), 0);
        assert_true(got.st_ino == want.st_ino && got.st_dev == want.st_dev);
    }
    char c = 0;
    assert_int_equal(write(m->fds[n - 1], "x", 1), 1);
    assert_int_equal(read(rfd, &c, 1), 1);
    assert_int_equal(c, 'x');
}

/* Sends n pipe descriptors with a small message and checks they arrive. */
static void round_trip_fds(int *sv, size_t n)
{
    int fds[RV_WIRE_MAX_FDS], rfd;
    open_pipe_fds(fds, n, &rfd);
    struct rv_hdr h = rv__hdr_make(RV_T_BIND, 1, 0, 0, 3);
    assert_int_equal(rv__wire_send(sv[0], &h, "abc", fds, n, 0), 0);
    close_all(fds, n);
    static struct rv_msg m;
    assert_int_equal(rv__wire_recv(sv[1], &m, RV_WIRE_MAX_BODY, 0), 1);
    assert_memory_equal(m.body, "abc", 3);
    assert_pipe_fds(&m, n, rfd);
    rv__msg_close_fds(&m);
    assert_int_equal(m.nfds, 0);
    close(rfd);
}

/* Sends a datagram with nfds descriptors that the receiver must reject,
 * and checks rv__wire_recv returns -EPROTO without leaking them. */
static void assert_rejected_leaking_none(int *sv, const void *buf, size_t n, size_t max_body, size_t nfds)
{
    int fds[RV_WIRE_MAX_FDS + 1], rfd;
    open_pipe_fds(fds, nfds, &rfd);
    send_raw(sv[0], buf, n, fds, nfds);
    close_all(fds, nfds);
    size_t before = count_fds();
    static struct rv_msg m;
    assert_int_equal(rv__wire_recv(sv[1], &m, max_body, MSG_DONTWAIT), -EPROTO);
    assert_int_equal(m.nfds, 0);
    assert_int_equal(count_fds(), before);
    close(rfd);
}

static void assert_rejected_without_leak(int *sv, const void *buf, size_t n, size_t max_body)
{
    assert_rejected_leaking_none(sv, buf, n, max_body, 3);
}

/* ------------------------------------------------------- rv__wire_check */

static void check_accepts_well_formed(void **state)
{
    (void)state;
    static uint8_t buf[HDR + RV_WIRE_MAX_BODY];
    static const uint32_t lens[] = { 0, 1, 23, 24, 1000, RV_WIRE_MAX_BODY };
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        size_t n = make_datagram(buf, RV_T_CALL, lens[i]);
        assert_int_equal(rv__wire_check(buf, n, RV_WIRE_MAX_BODY), 0);
        assert_int_equal(rv__wire_check(buf, n, lens[i]), 0);
    }
}

static void check_rejects_short(void **state)
{
    (void)state;
    uint8_t buf[HDR];
    make_datagram(buf, RV_T_CALL, 0);
    for (size_t n = 0; n < HDR; n++)
        assert_int_equal(rv__wire_check(buf, n, RV_WIRE_MAX_BODY), -EPROTO);
}

static void check_rejects_bad_magic_and_version(void **state)
{
    (void)state;
    uint8_t buf[HDR + 8];
    size_t n = make_datagram(buf, RV_T_CALL, 8);
    struct rv_hdr *h = (struct rv_hdr *)buf;
    h->magic = RV_WIRE_MAGIC ^ 0x0100;
    assert_int_equal(rv__wire_check(buf, n, RV_WIRE_MAX_BODY), -EPROTO);
    h->magic = RV_WIRE_MAGIC;
    assert_int_equal(rv__wire_check(buf, n, RV_WIRE_MAX_BODY), 0);
    static const uint8_t versions[] = { 0, RV_WIRE_VERSION + 1, 255 };
    for (size_t i = 0; i < sizeof versions; i++) {
        h->version = versions[i];
        assert_int_equal(rv__wire_check(buf, n, RV_WIRE_MAX_BODY), -EPROTO);
    }
}

static void check_rejects_len_too_large(void **state)
{
    (void)state;
    static uint8_t buf[HDR + RV_WIRE_MAX_BODY + 1];
    size_t n = make_datagram(buf, RV_T_CALL, 100);
    assert_int_equal(rv__wire_check(buf, n, 99), -EPROTO);
    n = make_datagram(buf, RV_T_CALL, RV_WIRE_MAX_BODY + 1);
    assert_int_equal(rv__wire_check(buf, n, RV_WIRE_MAX_BODY), -EPROTO);
}

static void check_rejects_len_mismatch(void **state)
{
    (void)state;
    uint8_t buf[HDR + 64];
    size_t n = make_datagram(buf, RV_T_CALL, 32);
    assert_int_equal(rv__wire_check(buf, n - 1, RV_WIRE_MAX_BODY), -EPROTO);
    assert_int_equal(rv__wire_check(buf, n + 1, RV_WIRE_MAX_BODY), -EPROTO);
    assert_int_equal(rv__wire_check(buf, HDR, RV_WIRE_MAX_BODY), -EPROTO);
    /* a length field near 2^32 must not wrap around the size check */
    ((struct rv_hdr *)buf)->len = UINT32_MAX;
    assert_int_equal(rv__wire_check(buf, n, SIZE_MAX), -EPROTO);
}

/* ------------------------------------------------ rv__wire_send / _recv */

static void round_trip_header_and_payload(void **state)
{
    int *sv = *state;
    uint8_t payload[1000];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i ^ 0x5a);
    struct rv_hdr h = rv__hdr_make(RV_T_REPLY, 0x123456789abcdefull, 77, RV_EAPP, sizeof payload);
    assert_int_equal(rv__wire_send(sv[0], &h, payload, NULL, 0, 0), 0);
    static struct rv_msg m;
    assert_int_equal(rv__wire_recv(sv[1], &m, RV_WIRE_MAX_BODY, 0), 1);
    assert_memory_equal(&m.hdr, &h, HDR);
    assert_memory_equal(m.body, payload, sizeof payload);
    assert_int_equal(m.nfds, 0);
    /* and an empty payload */
    h = rv__hdr_make(RV_T_PING, 1, 2, 3, 0);
    assert_int_equal(rv__wire_send(sv[1], &h, NULL, NULL, 0, 0), 0);
    assert_int_equal(rv__wire_recv(sv[0], &m, RV_WIRE_MAX_BODY, 0), 1);
    assert_memory_equal(&m.hdr, &h, HDR);
}

static void passes_one_fd(void **state) { round_trip_fds(*state, 1); }

static void passes_many_fds(void **state)
{
    round_trip_fds(*state, 200);
    round_trip_fds(*state, RV_WIRE_MAX_FDS);
}

static void send_refuses_oversize(void **state)
{
    int *sv = *state;
    static uint8_t body[RV_WIRE_MAX_BODY + 1];
    struct rv_hdr h = rv__hdr_make(RV_T_CALL, 1, 0, 0, sizeof body);
    assert_int_equal(rv__wire_send(sv[0], &h, body, NULL, 0, 0), -EINVAL);
    int fds[RV_WIRE_MAX_FDS + 1] = { 0 };
    h = rv__hdr_make(RV_T_CALL, 1, 0, 0, 0);
    assert_int_equal(rv__wire_send(sv[0], &h, NULL, fds, RV_WIRE_MAX_FDS + 1, 0), -EINVAL);
    /* nothing was sent */
    static struct rv_msg m;
    assert_int_equal(rv__wire_recv(sv[1], &m, RV_WIRE_MAX_BODY, MSG_DONTWAIT), -EAGAIN);
}

static void rejects_body_over_max_and_closes_fds(void **state)
{
    uint8_t buf[HDR + 100];
    size_t n = make_datagram(buf, RV_T_CALL, 100);
    assert_rejected_without_leak(*state, buf, n, 99);
}

static void rejects_truncated_datagram(void **state)
{
    /* The header is valid and its length matches the bytes rv__wire_recv
     * can take, but the datagram was longer: only MSG_TRUNC tells. */
    static uint8_t buf[HDR + RV_WIRE_MAX_BODY + 100];
    make_datagram(buf, RV_T_CALL, RV_WIRE_MAX_BODY);
    assert_rejected_without_leak(*state, buf, sizeof buf, RV_WIRE_MAX_BODY);
}

static void rejects_malformed_header_and_closes_fds(void **state)
{
    uint8_t buf[HDR + 8];
    size_t n = make_datagram(buf, RV_T_CALL, 8);
    ((struct rv_hdr *)buf)->magic = 0;
    assert_rejected_without_leak(*state, buf, n, RV_WIRE_MAX_BODY);
    assert_rejected_without_leak(*state, buf, HDR - 1, RV_WIRE_MAX_BODY);
    /* descriptors with no bytes at all are not a peer closing */
    assert_rejected_without_leak(*state, buf, 0, RV_WIRE_MAX_BODY);
}

static void rejects_too_many_fds(void **state)
{
    /* one more than fits the receive buffer: the kernel truncates the
     * control data (MSG_CTRUNC), and what did arrive must be closed */
    uint8_t buf[HDR];
    size_t n = make_datagram(buf, RV_T_SESSIONS, 0);
    assert_rejected_leaking_none(*state, buf, n, RV_WIRE_MAX_BODY, RV_WIRE_MAX_FDS + 1);
}

static void rejects_foreign_control_data(void **state)
{
    /* SO_PASSCRED makes every datagram carry SCM_CREDENTIALS: control data
     * revive never expects, so the message is refused. */
    int *sv = *state;
    int on = 1;
    assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on), 0);
    struct rv_hdr h = rv__hdr_make(RV_T_PING, 1, 0, 0, 0);
    assert_int_equal(rv__wire_send(sv[0], &h, NULL, NULL, 0, 0), 0);
    static struct rv_msg m;
    assert_int_equal(rv__wire_recv(sv[1], &m, RV_WIRE_MAX_BODY, 0), -EPROTO);
}

static void empty_queue_is_eagain(void **state)
{
    int *sv = *state;
    static struct rv_msg m;
    assert_int_equal(rv__wire_recv(sv[1], &m, RV_WIRE_MAX_BODY, MSG_DONTWAIT), -EAGAIN);
}

static void peer_close_gives_zero(void **state)
{
    int *sv = *state;
    struct rv_hdr h = rv__hdr_make(RV_T_PONG, 5, 0, 0, 0);
    assert_int_equal(rv__wire_send(sv[1], &h, NULL, NULL, 0, 0), 0);
    close(sv[1]);
    sv[1] = -1;
    static struct rv_msg m;
    /* what was queued before the close still arrives, then the end */
    assert_int_equal(rv__wire_recv(sv[0], &m, RV_WIRE_MAX_BODY, 0), 1);
    assert_int_equal(m.hdr.seq, 5);
    assert_int_equal(rv__wire_recv(sv[0], &m, RV_WIRE_MAX_BODY, 0), 0);
}

#define SOCK_TEST(f) cmocka_unit_test_setup_teardown(f, sockets_setup, sockets_teardown)

/* The errno a POSIX-shaped client library reports for a status. */
static void errno_of_status(void **state)
{
    (void)state;
    assert_int_equal(rv_errno(0), 0);
    assert_int_equal(rv_errno(RV_EAPP_BASE - ENOENT), ENOENT);
    assert_int_equal(rv_errno(RV_EAPP_BASE - EACCES), EACCES);
    assert_int_equal(rv_errno(RV_EPOISON), EIO);
    assert_int_equal(rv_errno(RV_EFAULT), EIO);
    assert_int_equal(rv_errno(RV_ELOST), ENOTCONN);
    assert_int_equal(rv_errno(RV_EFAILED), ENOTCONN);
    assert_int_equal(rv_errno(RV_ETOOBIG), EMSGSIZE);
    assert_int_equal(rv_errno(RV_EQUOTA), EDQUOT);
    assert_int_equal(rv_errno(RV_EAPP), EIO);      /* a service's error without an errno */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(check_accepts_well_formed),
        cmocka_unit_test(check_rejects_short),
        cmocka_unit_test(check_rejects_bad_magic_and_version),
        cmocka_unit_test(check_rejects_len_too_large),
        cmocka_unit_test(check_rejects_len_mismatch),
        cmocka_unit_test(errno_of_status),
        SOCK_TEST(round_trip_header_and_payload),
        SOCK_TEST(passes_one_fd),
        SOCK_TEST(passes_many_fds),
        SOCK_TEST(send_refuses_oversize),
        SOCK_TEST(rejects_body_over_max_and_closes_fds),
        SOCK_TEST(rejects_truncated_datagram),
        SOCK_TEST(rejects_malformed_header_and_closes_fds),
        SOCK_TEST(rejects_too_many_fds),
        SOCK_TEST(rejects_foreign_control_data),
        SOCK_TEST(empty_queue_is_eagain),
        SOCK_TEST(peer_close_gives_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
