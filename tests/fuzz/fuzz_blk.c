/* fuzz_blk.c — fuzz target for what the blk service believes of a client
 * (services/blk/blkcheck.c): a request's payload decoded, each submitted
 * request checked against the device and the session's buffer, the weight
 * a session's arguments ask for, and a session's SSR when an instance
 * takes it over.
 *
 * Input: byte 0 the request's op; bytes 1-8 the device's size in blocks
 * and 9-16 the session's buffer in bytes (host order); bytes 17-18 where
 * the payload is also laid over a sound SSR; the rest is the payload. It
 * is decoded as the request, read as the open arguments (up to its first
 * NUL), and written over the SSR.
 *
 * Checked: a payload is accepted only in the size its op has, refused
 * only with an errno blk.h's clients expect; a request that passes the
 * checks reads and writes only blocks of the device and bytes of the
 * buffer (counted here without overflow); a weight is 1..BLK_WEIGHT_MAX or
 * refused; an SSR found sound has such requests only, a weight in range
 * and a buffer no larger than BLK_BUFFER_MAX.
 */
#include "fuzz.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include "blkcheck.h"
#include "harness.h"

#define HARNESS "fuzz_blk"
#define HEAD 19

/* The request's blocks lie on the device, its bytes in the buffer. */
static bool in_bounds(const struct blk_submit *q, uint64_t blocks, uint64_t buf_bytes)
{
    if (q->cls >= BLK_CLASSES || q->op < BLK_READ || q->op > BLK_DISCARD)
        return false;
    if (q->op == BLK_FLUSH)
        return true;
    uint64_t end, bytes, buf_end;
    if (q->nblocks == 0 || __builtin_add_overflow(q->lba, q->nblocks, &end) || end > blocks)
        return false;
    if (q->op == BLK_DISCARD)
        return true;
    return q->buf_off % BLK_BLOCK == 0 && !__builtin_mul_overflow((uint64_t)q->nblocks, BLK_BLOCK, &bytes) &&
           !__builtin_add_overflow(q->buf_off, bytes, &buf_end) && buf_end <= buf_bytes;
}

static void check_decoded(uint32_t op, size_t len, int e, const struct blk_args *a, uint64_t blocks, uint64_t buf)
{
    if (e != 0 && e != EINVAL && e != EAGAIN && e != ENOSYS)
        fuzz_fail(HARNESS, "op %u refused with errno %d", op, e);
    if (e)
        return;
    bool sized = op == BLK_INFO || op == BLK_NOTIFIER || (op == BLK_BUFFER && len == 8) ||
                 (op == BLK_REAP && len == 4) || (op == BLK_SUBMIT && len == sizeof a->q[0] && a->n == 1) ||
                 (op == BLK_SUBMITV && a->n >= 1 && a->n <= BLK_SLOTS && len == a->n * sizeof a->q[0]);
    if (!sized)
        fuzz_fail(HARNESS, "op %u accepted with a payload of %zu bytes", op, len);
    for (size_t i = 0; (op == BLK_SUBMIT || op == BLK_SUBMITV) && i < a->n; i++)
        if (blk_submit_check(&a->q[i], blocks, buf) == 0 && !in_bounds(&a->q[i], blocks, buf))
            fuzz_fail(HARNESS, "request %zu passes its checks but reaches outside the device or the buffer", i);
}

static void check_weight(const uint8_t *p, size_t n)
{
    char args[RV_ARGS_MAX + 1];
    n = n < RV_ARGS_MAX ? n : RV_ARGS_MAX;
    memcpy(args, p, n);
    args[n] = '\0';
    int w = blk_weight_of(args, 1);
    if (w != -1 && (w < 1 || w > BLK_WEIGHT_MAX))
        fuzz_fail(HARNESS, "weight %d", w);
}

/* A session with a buffer of 64 blocks and one request of each kind queued,
 * one done, with the payload laid over it at off. */
static void check_ssr(const uint8_t *p, size_t n, size_t off, uint64_t blocks)
{
    static struct blk_ssr b;
    b = (struct blk_ssr){ .weight = 1, .next_tag = 5, .buf_bytes = 64 * BLK_BLOCK };
    for (uint8_t op = BLK_READ; op <= BLK_DISCARD; op++)
        b.slot[op] = (struct blk_slot){ .tag = op, .state = SLOT_QUEUED, .op = op, .cls = op % BLK_CLASSES,
                                        .nblocks = op == BLK_FLUSH ? 0 : op, .lba = op, .buf_off = op * BLK_BLOCK };
    b.slot[5] = (struct blk_slot){ .tag = 5, .state = SLOT_DONE, .op = BLK_READ, .nblocks = 1 };
    off %= sizeof b;
    memcpy((uint8_t *)&b + off, p, n < sizeof b - off ? n : sizeof b - off);
    if (!blk_ssr_sound(&b, blocks))
        return;
    if (b.weight < 1 || b.weight > BLK_WEIGHT_MAX || b.buf_bytes > BLK_BUFFER_MAX)
        fuzz_fail(HARNESS, "a sound SSR with weight %u and a buffer of %llu bytes", b.weight,
                  (unsigned long long)b.buf_bytes);
    for (unsigned i = 0; i < BLK_SLOTS; i++) {
        const struct blk_slot *sl = &b.slot[i];
        struct blk_submit q = { .op = sl->op, .cls = sl->cls, .nblocks = sl->nblocks, .lba = sl->lba,
                                .buf_off = sl->buf_off };
        if (sl->state == SLOT_QUEUED && !in_bounds(&q, blocks, b.buf_bytes))
            fuzz_fail(HARNESS, "a sound SSR queues slot %u outside the device or the buffer", i);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < HEAD)
        return 0;
    uint64_t blocks, buf;
    uint16_t off;
    memcpy(&blocks, data + 1, sizeof blocks);
    memcpy(&buf, data + 9, sizeof buf);
    memcpy(&off, data + 17, sizeof off);
    const uint8_t *p = data + HEAD;
    size_t n = size - HEAD;
    static struct blk_args a;
    int e = blk_decode(data[0], p, n, &a);
    check_decoded(data[0], n, e, &a, blocks, buf);
    check_weight(p, n);
    check_ssr(p, n, off, blocks);
    return 0;
}

static size_t put(uint8_t *buf, size_t cap, uint8_t op, uint64_t blocks, uint64_t buf_bytes, uint16_t off,
                  const void *payload, size_t n)
{
    if (HEAD + n > cap)
        return 0;
    buf[0] = op;
    memcpy(buf + 1, &blocks, 8);
    memcpy(buf + 9, &buf_bytes, 8);
    memcpy(buf + 17, &off, 2);
    memcpy(buf + HEAD, payload, n);
    return HEAD + n;
}

size_t fuzz_seed(size_t i, uint8_t *buf, size_t cap)
{
    const uint64_t blocks = 1 << 18, bytes = 64 * BLK_BLOCK;
    struct blk_submit v[4] = {
        { .op = BLK_READ, .cls = BLK_RT, .nblocks = 8, .lba = 100, .buf_off = 0 },
        { .op = BLK_WRITE, .cls = BLK_BE, .nblocks = 56, .lba = blocks - 56, .buf_off = 8 * BLK_BLOCK },
        { .op = BLK_FLUSH, .cls = BLK_IDLE },
        { .op = BLK_DISCARD, .cls = BLK_BE, .nblocks = 1024, .lba = 0 },
    };
    const uint32_t most = 16;
    const uint64_t size = bytes;
    const size_t slot1 = offsetof(struct blk_ssr, slot[1]);
    switch (i) {
    case 0: return put(buf, cap, BLK_SUBMIT, blocks, bytes, 0, &v[0], sizeof v[0]);
    case 1: return put(buf, cap, BLK_SUBMITV, blocks, bytes, (uint16_t)slot1, v, sizeof v);
    case 2: return put(buf, cap, BLK_REAP, blocks, bytes, 0, &most, sizeof most);
    case 3: return put(buf, cap, BLK_BUFFER, blocks, 0, 0, &size, sizeof size);
    case 4: return put(buf, cap, BLK_INFO, blocks, bytes, 0, "weight=12", 9);
    case 5: return put(buf, cap, BLK_NOTIFIER, 1, bytes, 0, "x weight=1000 y", 15);
    default: return 0;
    }
}
