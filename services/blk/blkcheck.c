/* blkcheck.c — see blkcheck.h. */
#include "blkcheck.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A whole number of requests, as many as a session can hold at most (more
 * can never fit its free slots, whatever they are). */
static int decode_submits(const void *data, size_t len, bool vector, struct blk_args *a)
{
    size_t n = len / sizeof a->q[0];
    if (len % sizeof a->q[0] || n == 0 || (!vector && n != 1))
        return EINVAL;
    if (n > BLK_SLOTS)
        return EAGAIN;
    memcpy(a->q, data, n * sizeof a->q[0]);
    a->n = n;
    return 0;
}

static int decode_fixed(const void *data, size_t len, void *out, size_t size)
{
    if (len != size)
        return EINVAL;
    memcpy(out, data, size);
    return 0;
}

int blk_decode(uint32_t op, const void *data, size_t len, struct blk_args *a)
{
    switch (op) {
    case BLK_INFO:
    case BLK_NOTIFIER: return 0;
    case BLK_BUFFER: return decode_fixed(data, len, &a->bytes, sizeof a->bytes);
    case BLK_SUBMIT: return decode_submits(data, len, false, a);
    case BLK_SUBMITV: return decode_submits(data, len, true, a);
    case BLK_REAP: return decode_fixed(data, len, &a->most, sizeof a->most);
    default: return ENOSYS;
    }
}

int blk_submit_check(const struct blk_submit *q, uint64_t blocks, uint64_t buf_bytes)
{
    if (q->cls >= BLK_CLASSES || q->op < BLK_READ || q->op > BLK_DISCARD)
        return EINVAL;
    if (q->op == BLK_FLUSH)
        return 0;
    if (q->nblocks == 0 || q->lba >= blocks || q->nblocks > blocks - q->lba)
        return ERANGE;
    bool data = q->op == BLK_READ || q->op == BLK_WRITE;
    if (data && (q->buf_off % BLK_BLOCK || q->buf_off > buf_bytes ||
                 (uint64_t)q->nblocks * BLK_BLOCK > buf_bytes - q->buf_off))
        return buf_bytes ? EFAULT : ENOBUFS;
    return 0;
}

int blk_weight_of(const char *args, uint32_t default_weight)
{
    const char *w = args ? strstr(args, "weight=") : NULL;
    if (!w)
        return (int)default_weight;
    char *end;
    long v = strtol(w + 7, &end, 10);
    return v >= 1 && v <= BLK_WEIGHT_MAX && (*end == '\0' || *end == ' ') ? (int)v : -1;
}

static bool slot_sound(const struct blk_ssr *b, const struct blk_slot *sl, uint64_t blocks)
{
    if (sl->state == SLOT_FREE || sl->state == SLOT_DONE)
        return true;
    struct blk_submit q = { .op = sl->op, .cls = sl->cls, .nblocks = sl->nblocks, .lba = sl->lba,
                            .buf_off = sl->buf_off };
    return sl->state == SLOT_QUEUED && sl->tag != 0 && blk_submit_check(&q, blocks, b->buf_bytes) == 0 &&
           (sl->op == BLK_FLUSH || sl->nblocks != 0);
}

bool blk_ssr_sound(const struct blk_ssr *b, uint64_t blocks)
{
    if (b->weight < 1 || b->weight > BLK_WEIGHT_MAX || b->buf_bytes > BLK_BUFFER_MAX)
        return false;
    for (unsigned i = 0; i < BLK_SLOTS; i++)
        if (!slot_sound(b, &b->slot[i], blocks))
            return false;
    return true;
}
