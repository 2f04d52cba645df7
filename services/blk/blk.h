/* blk.h — the `blk` service's protocol, shared by the service (blk.c), its
 * client library (blk_client.c) and the tests.
 *
 * A block device — the manifest's `image`, a file or a real device — in
 * blocks of BLK_BLOCK bytes. A client submits requests (read, write, flush,
 * discard a range) and reaps their completions; several are in flight at
 * once, on io_uring. Each request carries a priority class; each client a
 * weight (its session's argument "weight=N", else the service's default).
 *
 * After the SSR design's storage server, a client's queued requests live
 * in its SSR: the service's queue is a cache of them, rebuilt from every
 * SSR when an instance takes over, in the order it had (strict priority
 * between classes, weighted fair share by virtual finish time within one),
 * so no client resubmits anything. A request the dead instance had issued
 * is issued again: a read or a write of a range is idempotent, and so is a
 * flush; a discard is too, but one issued again after a later write of the
 * same range would undo that write — so, as on any block device, a client
 * must not have a discard and a write of the same blocks in flight at once.
 * Each request completes exactly once: its completion is committed in the
 * SSR before the client's notifier is written, and reaping it frees it.
 *
 * Data moves through a buffer the service shares with the session
 * (BLK_BUFFER: a memfd it keeps for the session across its restarts);
 * requests name an offset in it. Integers are in the host's order. */
#ifndef RV_BLK_H
#define RV_BLK_H

#include <stdint.h>
#include "revive/base.h"

#define BLK_BLOCK 4096u
#define BLK_SLOTS 64                    /* requests a session may have outstanding */
#define BLK_BUFFER_MAX (64u << 20)
#define BLK_WEIGHT_MAX 1000
#define BLK_ERR(e) (RV_EAPP_BASE - (e))
#define BLK_ERRNO(rc) (RV_EAPP_BASE - (rc))

enum blk_op {
    BLK_INFO = 1,       /* -> struct blk_info */
    BLK_NOTIFIER,       /* -> empty, + the session's notifier (an eventfd written at completions) */
    BLK_BUFFER,         /* u64 bytes (a multiple of BLK_BLOCK) -> empty, + the shared buffer (a memfd) */
    BLK_SUBMIT,         /* struct blk_submit -> u32 tag */
    BLK_REAP,           /* u32 most -> u32 n, then n x struct blk_completion */
    BLK_SUBMITV,        /* n x struct blk_submit -> n x u32 tag: all queued, or none (one round trip for many) */
    BLK_TEST_HOLD = 100,    /* rv-svc-blk-test only: u32 1 holds dispatching, 0 lets it go */
};

enum blk_rw { BLK_READ = 1, BLK_WRITE, BLK_FLUSH, BLK_DISCARD };
enum blk_class { BLK_RT, BLK_BE, BLK_IDLE, BLK_CLASSES };

struct blk_info {
    uint64_t blocks;
    uint32_t block_size;
    uint32_t weight;        /* this session's */
    uint32_t slots;         /* BLK_SLOTS */
    uint32_t queue_depth;   /* requests the service keeps in flight at most */
};

struct blk_submit {
    uint8_t op;             /* enum blk_rw */
    uint8_t cls;            /* enum blk_class */
    uint16_t pad;
    uint32_t nblocks;       /* read, write, discard: 1.. */
    uint64_t lba;
    uint64_t buf_off;       /* read, write: where in the buffer, block-aligned */
};

struct blk_completion {
    uint32_t tag;
    int32_t result;         /* 0, or -errno */
    uint64_t done_seq;      /* the service's completion order, across all sessions */
};

#endif
