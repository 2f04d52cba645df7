/* fuzz_wire.c — fuzz target for the wire protocol's parsers (src/lib/shared/wire.c):
 * rv__wire_check on raw bytes, and rv__wire_recv on the same bytes sent as real
 * SOCK_SEQPACKET datagrams, with and without descriptors.
 *
 * Input layout: byte 0 is a control byte, the rest is datagram bytes.
 *   bits 0-2  how many descriptors ride along with the first datagram (0-7)
 *   bits 3-4  the max_body the receiver passes (16384, 4096, 64 or 0)
 *   bit 5     split: bytes 1-2 (little-endian) pick a cut, the bytes after
 *             them are sent as two datagrams, the second without descriptors
 * For each datagram the target checks that rv__wire_recv agrees with
 * rv__wire_check, returns the header and payload unchanged and the
 * descriptors sent when it accepts, and that no descriptor leaks (the
 * count of /proc/self/fd is unchanged) whatever it decides.
 *
 * Built with the stand-alone driver (suite 'fuzz' replays corpus/wire and
 * mutates the seeds below) or with libFuzzer (make fuzz); docs/fuzzing.md.
 */
#include "fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "harness.h"
#include "wire.h"

#define MAX_FDS 7

static int sv[2] = { -1, -1 };
static int devnull = -1;
static struct rv_msg msg;

static void die(const char *what, size_t len, int r)
{
    fuzz_fail("fuzz_wire", "%s (datagram of %zu bytes, rv__wire_recv returned %d)", what, len, r);
}

static void setup_once(void)
{
    if (devnull >= 0)
        return;
    devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        perror("fuzz_wire: setup");
        abort();
    }
    int big = 1 << 20;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
}

static void send_datagram(const uint8_t *buf, size_t len, size_t nfds)
{
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
    union {
        char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
        struct cmsghdr align;
    } ctl;
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (nfds) {
        mh.msg_control = ctl.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        *c = (struct cmsghdr){ .cmsg_len = CMSG_LEN(sizeof(int) * nfds), .cmsg_level = SOL_SOCKET,
                               .cmsg_type = SCM_RIGHTS };
        for (size_t i = 0; i < nfds; i++)
            memcpy(CMSG_DATA(c) + i * sizeof(int), &devnull, sizeof(int));
    }
    if (sendmsg(sv[0], &mh, 0) != (ssize_t)len)
        die("sendmsg failed", len, -errno);
}

/* What rv__wire_recv must answer for this datagram: 0 for an empty one
 * with no descriptors (indistinguishable from the peer closing), 1 for a
 * well-formed one that fits the receive buffer, -EPROTO otherwise. */
static int expected(const uint8_t *buf, size_t len, size_t nfds, size_t max_body)
{
    if (len == 0 && nfds == 0)
        return 0;
    int fits = len <= sizeof msg.hdr + sizeof msg.body;
    return fits && rv__wire_check(buf, len, max_body) == 0 ? 1 : -EPROTO;
}

static void check_accepted(const uint8_t *buf, size_t len, size_t nfds, size_t fds_before)
{
    if (msg.nfds != nfds)
        die("wrong descriptor count", len, 1);
    if (memcmp(&msg.hdr, buf, sizeof msg.hdr) || memcmp(msg.body, buf + sizeof msg.hdr, len - sizeof msg.hdr))
        die("message differs from the datagram", len, 1);
    if (fuzz_count_fds() != fds_before + nfds)
        die("descriptors received are not open", len, 1);
    rv__msg_close_fds(&msg);
}

static void run_datagram(const uint8_t *buf, size_t len, size_t nfds, size_t max_body)
{
    (void)rv__wire_check(buf, len, max_body);
    send_datagram(buf, len, nfds);
    size_t before = fuzz_count_fds();
    int r = rv__wire_recv(sv[1], &msg, max_body, MSG_DONTWAIT);
    if (r != expected(buf, len, nfds, max_body))
        die("rv__wire_recv disagrees with rv__wire_check", len, r);
    if (r == 1)
        check_accepted(buf, len, nfds, before);
    else if (msg.nfds != 0)
        die("a rejected message kept descriptors", len, r);
    if (fuzz_count_fds() != before)
        die("descriptors leaked", len, r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t max_bodies[] = { RV_WIRE_MAX_BODY, RV_MAX_PAYLOAD, 64, 0 };
    setup_once();
    if (size > FUZZ_MAX_INPUT)
        size = FUZZ_MAX_INPUT;
    (void)rv__wire_check(data, size, RV_WIRE_MAX_BODY);
    if (size == 0)
        return 0;
    uint8_t ctl = data[0];
    size_t nfds = ctl & 7, max_body = max_bodies[(ctl >> 3) & 3];
    if (!(ctl & 0x20) || size < 3) {
        run_datagram(data + 1, size - 1, nfds, max_body);
        return 0;
    }
    const uint8_t *rest = data + 3;
    size_t n = size - 3, cut = (size_t)(data[1] | data[2] << 8) % (n + 1);
    run_datagram(rest, cut, nfds, max_body);
    run_datagram(rest + cut, n - cut, 0, max_body);
    return 0;
}

/* Appends a message of `type` with a len-byte payload at buf[off]; returns
 * the new length, or 0 when it does not fit. */
static size_t put_message(uint8_t *buf, size_t off, size_t cap, uint8_t type, size_t len)
{
    if (!off || off + sizeof(struct rv_hdr) + len > cap)
        return 0;
    struct rv_hdr h = rv__hdr_make(type, 1, 0, 0, len);
    memcpy(buf + off, &h, sizeof h);
    for (size_t i = 0; i < len; i++)
        buf[off + sizeof h + i] = (uint8_t)('a' + i % 26);
    return off + sizeof h + len;
}

size_t fuzz_seed(size_t i, uint8_t *buf, size_t cap)
{
    static const struct { uint8_t ctl, type; uint16_t len; uint8_t type2; uint16_t len2; } seeds[] = {
        { 0x00, RV_T_STATUS, 0, 0, 0 },     { 0x00, RV_T_OPEN, 14, 0, 0 },
        { 0x01, RV_T_OPEN_OK, 0, 0, 0 },    { 0x03, RV_T_BIND, 40, 0, 0 },
        { 0x08, RV_T_CALL, RV_MAX_PAYLOAD, 0, 0 }, { 0x10, RV_T_REPLY, 64, 0, 0 },
        { 0x00, RV_T_ERROR, RV_WIRE_MAX_BODY, 0, 0 },
        { 0x22, RV_T_SESSIONS, 200, RV_T_PING, 0 }, { 0x20, RV_T_CALL, 10, RV_T_CALL, 20 },
        /* every other type once, with the descriptors it carries */
        { 0x00, RV_T_NOTICE, 30, 0, 0 },    { 0x00, RV_T_RESTARTED, 0, 0, 0 },
        { 0x00, RV_T_STATUS_REPLY, 1024, 0, 0 }, { 0x00, RV_T_KILL, 6, 0, 0 },
        { 0x00, RV_T_RESTART, 6, 0, 0 },    { 0x00, RV_T_OK, 0, 0, 0 },
        { 0x03, RV_T_DS_PROVIDE, 6, 0, 0 }, { 0x00, RV_T_DS_ATTACH, 6, 0, 0 },
        { 0x04, RV_T_DS_OK, 8, 0, 0 },      { 0x00, RV_T_SVC_HELLO, 16, 0, 0 },
        { 0x02, RV_T_SVC_CONFIG, 32, 0, 0 }, { 0x20, RV_T_HANDOVER_END, 0, RV_T_SVC_READY, 0 },
        { 0x00, RV_T_BIND_DONE, 0, 0, 0 },  { 0x00, RV_T_UNBIND, 0, 0, 0 },
        { 0x01, RV_T_STORE_FD, 0, 0, 0 },   { 0x00, RV_T_SESSION_LOST, 40, 0, 0 },
        { 0x00, RV_T_PONG, 0, 0, 0 },
    };
    if (i >= sizeof seeds / sizeof *seeds || cap < 3)
        return 0;
    buf[0] = seeds[i].ctl;
    if (!seeds[i].type2)
        return put_message(buf, 1, cap, seeds[i].type, seeds[i].len);
    size_t cut = sizeof(struct rv_hdr) + seeds[i].len;
    buf[1] = (uint8_t)cut;
    buf[2] = (uint8_t)(cut >> 8);
    return put_message(buf, put_message(buf, 3, cap, seeds[i].type, seeds[i].len), cap,
                       seeds[i].type2, seeds[i].len2);
}
