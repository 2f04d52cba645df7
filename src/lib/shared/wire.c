/* wire.c — framing, validation and descriptor passing for revive's protocol.
 *
 * The checks here are the first line of revived's defence: everything that
 * arrives on a socket passes rv__wire_recv() before any other code sees it.
 */
#include "wire.h"
#include "revive/client.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

const int rv__kill_signals[] = { SIGSEGV, SIGKILL, SIGABRT, SIGSTOP, SIGTERM, SIGBUS, SIGILL, SIGFPE };
const size_t rv__nkill_signals = sizeof rv__kill_signals / sizeof rv__kill_signals[0];

const char *rv__kill_signal_list(char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < rv__nkill_signals && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "", sigabbrev_np(rv__kill_signals[i]));
    return buf;
}

struct rv_hdr rv__hdr_make(uint8_t type, uint64_t seq, uint32_t op, int32_t status, size_t len)
{
    struct rv_hdr h = {
        .magic = RV_WIRE_MAGIC, .version = RV_WIRE_VERSION, .type = type,
        .len = (uint32_t)len, .seq = seq, .op = op, .status = status,
    };
    return h;
}

int rv__wire_send(int sock, const struct rv_hdr *hdr, const void *payload,
                 const int *fds, size_t nfds, int flags)
{
    if (nfds > RV_WIRE_MAX_FDS || hdr->len > RV_WIRE_MAX_BODY)
        return -EINVAL;
    struct iovec iov[2] = {
        { .iov_base = (void *)hdr, .iov_len = sizeof *hdr },
        { .iov_base = (void *)payload, .iov_len = hdr->len },
    };
    union {
        char buf[CMSG_SPACE(sizeof(int) * RV_WIRE_MAX_FDS)];
        struct cmsghdr align;
    } ctl;
    struct msghdr mh = { .msg_iov = iov, .msg_iovlen = hdr->len ? 2 : 1 };
    if (nfds) {
        mh.msg_control = ctl.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        memset(ctl.buf, 0, mh.msg_controllen);   /* the alignment padding goes to the kernel too */
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    ssize_t n;
    do
        n = sendmsg(sock, &mh, flags | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    return (size_t)n == sizeof *hdr + hdr->len ? 0 : -EPROTO;
}

/* A datagram of n bytes is well formed when it holds a whole header of our
 * magic and version whose length field matches the bytes that came. */
static int hdr_valid(const struct rv_hdr *h, size_t n, size_t max_body)
{
    return n >= sizeof *h && h->magic == RV_WIRE_MAGIC && h->version == RV_WIRE_VERSION &&
           h->len <= max_body && h->len == n - sizeof *h;
}

int rv__wire_check(const void *buf, size_t n, size_t max_body)
{
    struct rv_hdr h;
    if (n < sizeof h)
        return -EPROTO;
    memcpy(&h, buf, sizeof h);
    return hdr_valid(&h, n, max_body) ? 0 : -EPROTO;
}

void rv__msg_close_fds(struct rv_msg *m)
{
    for (size_t i = 0; i < m->nfds; i++)
        close(m->fds[i]);
    m->nfds = 0;
}

/* Collects SCM_RIGHTS descriptors; anything else in the control data is a
 * protocol error (and its descriptors are closed, so a peer cannot leak
 * them into us). */
static int take_fds(struct msghdr *mh, struct rv_msg *m)
{
    int bad = (mh->msg_flags & MSG_CTRUNC) != 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
            bad = 1;
            continue;
        }
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        const unsigned char *p = CMSG_DATA(c);
        for (size_t i = 0; i < k; i++) {
            int fd;
            memcpy(&fd, p + i * sizeof fd, sizeof fd);
            if (m->nfds < RV_WIRE_MAX_FDS)
                m->fds[m->nfds++] = fd;
            else {
                close(fd);
                bad = 1;
            }
        }
    }
    return bad ? -EPROTO : 0;
}

int rv__wire_recv(int sock, struct rv_msg *m, size_t max_body, int flags)
{
    struct iovec iov[2] = {
        { .iov_base = &m->hdr, .iov_len = sizeof m->hdr },
        { .iov_base = m->body, .iov_len = sizeof m->body },
    };
    union {
        char buf[CMSG_SPACE(sizeof(int) * RV_WIRE_MAX_FDS)];
        struct cmsghdr align;
    } ctl;
    struct msghdr mh = {
        .msg_iov = iov, .msg_iovlen = 2,
        .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf,
    };
    m->nfds = 0;
    ssize_t n;
    do
        n = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    int fdres = take_fds(&mh, m);
    if (n == 0 && m->nfds == 0)
        return 0;
    if (fdres < 0 || (mh.msg_flags & MSG_TRUNC) || !hdr_valid(&m->hdr, (size_t)n, max_body)) {
        rv__msg_close_fds(m);
        return -EPROTO;
    }
    return 1;
}

int rv__wire_send_error(int sock, int32_t status, const char *text, int flags)
{
    size_t len = strnlen(text, RV_WIRE_MAX_BODY - 1);
    struct rv_hdr h = rv__hdr_make(RV_T_ERROR, 0, 0, status, len);
    return rv__wire_send(sock, &h, text, NULL, 0, flags);
}

int rv__wire_dial(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
        return fd;
    int e = errno;
    if (fd >= 0)
        close(fd);
    errno = e;
    return -1;
}

/* ---- where revived listens by default (declared in revive/client.h) ---- */

const char *rv_runtime_dir(char *buf, size_t len)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    snprintf(buf, len, "%s", xdg && *xdg ? xdg : "/run");
    size_t n = strlen(buf);
    snprintf(buf + n, len - n, "/revive");
    return buf;
}

const char *rv_default_socket(char *buf, size_t len)
{
    const char *env = getenv("REVIVE_SOCKET");
    if (env && *env)
        snprintf(buf, len, "%s", env);
    else {
        rv_runtime_dir(buf, len);
        size_t n = strlen(buf);
        snprintf(buf + n, len - n, "/revived.sock");
    }
    return buf;
}
