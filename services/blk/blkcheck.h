/* blkcheck.h — what the blk service believes of a client before it acts:
 * a request's payload decoded (blk.h's protocol), a submitted request
 * checked against the device and the session's buffer, the weight a
 * session's arguments ask for, and a session's SSR (the layout below)
 * checked when an instance takes it over.
 *
 * Pure functions, no I/O: blk.c serves only what these accept, and the
 * fuzz harness (tests/fuzz/fuzz_blk.c) feeds them anything. */
#ifndef RV_BLK_CHECK_H
#define RV_BLK_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "blk.h"

/* ---- a session's SSR: its outstanding requests ---- */

enum { SLOT_FREE, SLOT_QUEUED, SLOT_DONE };

struct blk_slot {
    uint32_t tag;               /* the client's name for it; 0 when free */
    uint8_t state;              /* SLOT_* */
    uint8_t op, cls, pad;
    int32_t result;
    uint32_t nblocks;
    uint64_t lba, buf_off;
    uint64_t start, finish;     /* scheduling tags */
    uint64_t arrival_ns;
    uint64_t done_seq;
};

struct blk_ssr {
    uint32_t weight;
    uint32_t next_tag;
    uint64_t buf_bytes;                 /* the shared buffer's size; 0: none yet */
    uint64_t last_finish[BLK_CLASSES];  /* this client's last finish tag per class */
    struct blk_slot slot[BLK_SLOTS];
};

/* ---- requests ---- */

/* A request's payload, decoded. */
struct blk_args {
    size_t n;                           /* SUBMIT, SUBMITV: how many in q */
    struct blk_submit q[BLK_SLOTS];
    uint32_t most;                      /* REAP */
    uint64_t bytes;                     /* BUFFER */
};

/* Decodes the payload of request op: 0, or the errno it is refused with:
 * EINVAL (malformed), EAGAIN (more requests than a session has slots),
 * ENOSYS (no such op). */
int blk_decode(uint32_t op, const void *data, size_t len, struct blk_args *a);

/* A submitted request against a device of `blocks` blocks and a shared
 * buffer of buf_bytes: 0, or EINVAL (no such op or class), ERANGE (blocks
 * outside the device), EFAULT (bytes outside the buffer), ENOBUFS (no
 * buffer yet). */
int blk_submit_check(const struct blk_submit *q, uint64_t blocks, uint64_t buf_bytes);

/* The weight a session's open arguments ask for ("weight=N"), else
 * default_weight; -1 when they ask for one out of 1..BLK_WEIGHT_MAX. */
int blk_weight_of(const char *args, uint32_t default_weight);

/* An SSR this code could have written: its weight, its buffer's size, and
 * every queued slot a request that can be issued as it is. */
bool blk_ssr_sound(const struct blk_ssr *b, uint64_t blocks);

#endif
