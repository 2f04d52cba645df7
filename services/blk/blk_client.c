/* blk_client.c — the blk service's client; see blk_client.h. */
#include "blk_client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct rvblk {
    rv_session *s;
    struct blk_info info;
    uint8_t *buf;
    size_t buf_len;
    int notifier;
};

static int call(rvblk *b, uint32_t op, const void *req, size_t len, void *reply, size_t cap, int *fd)
{
    size_t got;
    int rc = fd ? rv_call_fd(b->s, op, req, len, reply, cap, &got, fd) : rv_call(b->s, op, req, len, reply, cap, &got);
    return rc ? -rv_errno(rc) : (int)got;
}

static int setup(rvblk *b, size_t buffer_bytes)
{
    uint64_t bytes = buffer_bytes;
    int fd = -1;
    if (call(b, BLK_INFO, NULL, 0, &b->info, sizeof b->info, NULL) != sizeof b->info)
        return -EPROTO;
    int rc = call(b, BLK_NOTIFIER, NULL, 0, NULL, 0, &b->notifier);
    if (rc < 0 || b->notifier < 0)
        return rc < 0 ? rc : -EPROTO;
    if ((rc = call(b, BLK_BUFFER, &bytes, sizeof bytes, NULL, 0, &fd)) < 0 || fd < 0)
        return rc < 0 ? rc : -EPROTO;
    b->buf = mmap(NULL, buffer_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (b->buf == MAP_FAILED) {
        b->buf = NULL;
        return -errno;
    }
    b->buf_len = buffer_bytes;
    return 0;
}

rvblk *rvblk_connect(rv_conn *conn, const char *service, unsigned weight, size_t buffer_bytes)
{
    rvblk *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->notifier = -1;
    char args[32] = "";
    if (weight)
        snprintf(args, sizeof args, "weight=%u", weight);
    int rc = rv_open(conn, service ? service : "blk", args, &b->s);
    if (rc != 0) {
        free(b);
        errno = rv_errno(rc);
        return NULL;
    }
    if ((rc = setup(b, buffer_bytes)) < 0) {
        rvblk_disconnect(b);
        errno = -rc;
        return NULL;
    }
    return b;
}

void rvblk_disconnect(rvblk *b)
{
    if (!b)
        return;
    if (b->buf)
        munmap(b->buf, b->buf_len);
    if (b->notifier >= 0)
        close(b->notifier);
    rv_close(b->s);
    free(b);
}

const char *rvblk_error(const rvblk *b) { return rv_session_error(b->s); }
const struct blk_info *rvblk_info(const rvblk *b) { return &b->info; }
uint8_t *rvblk_buffer(const rvblk *b) { return b->buf; }
int rvblk_notifier(const rvblk *b) { return b->notifier; }

int rvblk_submit(rvblk *b, enum blk_rw op, enum blk_class cls, uint64_t lba, uint32_t nblocks, uint64_t buf_off,
                 uint32_t *tag)
{
    struct blk_submit q = { .op = (uint8_t)op, .cls = (uint8_t)cls, .nblocks = nblocks, .lba = lba, .buf_off = buf_off };
    int rc = call(b, BLK_SUBMIT, &q, sizeof q, tag, sizeof *tag, NULL);
    return rc < 0 ? rc : rc == sizeof *tag ? 0 : -EPROTO;
}

int rvblk_submitv(rvblk *b, const struct blk_submit *q, unsigned n, uint32_t *tags)
{
    int rc = call(b, BLK_SUBMITV, q, n * sizeof *q, tags, n * sizeof *tags, NULL);
    return rc < 0 ? rc : rc == (int)(n * sizeof *tags) ? 0 : -EPROTO;
}

int rvblk_reap(rvblk *b, struct blk_completion *out, unsigned most, bool wait)
{
    for (;;) {
        uint64_t wakeups;
        if (read(b->notifier, &wakeups, sizeof wakeups) < 0 && errno != EAGAIN)
            return -errno;
        uint8_t reply[RV_MAX_PAYLOAD];
        uint32_t n;
        int rc = call(b, BLK_REAP, &most, sizeof most, reply, sizeof reply, NULL);
        if (rc < (int)sizeof n)
            return rc < 0 ? rc : -EPROTO;
        memcpy(&n, reply, sizeof n);
        if (n > most || sizeof n + (size_t)n * sizeof *out != (size_t)rc)
            return -EPROTO;
        memcpy(out, reply + sizeof n, (size_t)n * sizeof *out);
        if (n > 0 || !wait)
            return (int)n;
        struct pollfd p = { .fd = b->notifier, .events = POLLIN };
        if (poll(&p, 1, -1) < 0 && errno != EINTR)
            return -errno;
    }
}

int rvblk_io(rvblk *b, enum blk_rw op, enum blk_class cls, uint64_t lba, uint32_t nblocks, uint64_t buf_off)
{
    uint32_t tag;
    struct blk_completion c = { 0 };
    int rc = rvblk_submit(b, op, cls, lba, nblocks, buf_off, &tag);
    while (rc == 0 && (rc = rvblk_reap(b, &c, 1, true)) == 1 && c.tag != tag)
        ;
    return rc < 0 ? rc : c.result;
}

/* ---- the test pattern ---- */

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

void rvblk_pattern(uint8_t *block, uint64_t seed, uint64_t lba)
{
    for (size_t i = 0; i < BLK_BLOCK / 8; i++) {
        uint64_t w = mix(seed * 0x9e3779b97f4a7c15ull ^ (lba << 9 | i));
        memcpy(block + i * 8, &w, 8);
    }
}

bool rvblk_pattern_ok(const uint8_t *block, uint64_t seed, uint64_t lba)
{
    uint8_t want[BLK_BLOCK];
    rvblk_pattern(want, seed, lba);
    return memcmp(want, block, BLK_BLOCK) == 0;
}
