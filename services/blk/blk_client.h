/* blk_client.h — the client of the `blk` service: a block device with a
 * queue of requests in flight, in the shape of io_uring's submit and reap.
 *
 * A client gets a buffer it shares with the service (its requests' data
 * lives there) and a notifier (an eventfd, readable when completions wait
 * to be reaped). Submitting puts a request into the client's slots, kept in
 * its SSR: it survives every crash of the service and completes exactly
 * once. Functions return 0 (or a count) or a negative errno: EAGAIN when
 * every slot is taken (reap first), ERANGE past the device's end, and, when
 * revive could not carry the call, EIO (poisoned) or ENOTCONN (the session
 * is gone); rvblk_error() then has revive's sentence. */
#ifndef RV_BLK_CLIENT_H
#define RV_BLK_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "blk.h"
#include "revive/client.h"

typedef struct rvblk rvblk;

/* A session with the blk service `service` (NULL: "blk"), of weight weight
 * (0: the service's default), with a shared buffer of buffer_bytes (a
 * multiple of BLK_BLOCK). NULL with errno set. */
rvblk *rvblk_connect(rv_conn *conn, const char *service, unsigned weight, size_t buffer_bytes);
void rvblk_disconnect(rvblk *b);
const char *rvblk_error(const rvblk *b);

const struct blk_info *rvblk_info(const rvblk *b);
uint8_t *rvblk_buffer(const rvblk *b);
int rvblk_notifier(const rvblk *b);

/* Queues a request; its tag in *tag. */
int rvblk_submit(rvblk *b, enum blk_rw op, enum blk_class cls, uint64_t lba, uint32_t nblocks, uint64_t buf_off,
                 uint32_t *tag);
/* Queues n requests in one round trip, all or none; their tags in tags. */
int rvblk_submitv(rvblk *b, const struct blk_submit *q, unsigned n, uint32_t *tags);
/* Up to `most` completions into out; with wait, blocks until at least one. */
int rvblk_reap(rvblk *b, struct blk_completion *out, unsigned most, bool wait);
/* Submits one request and waits for it alone (nothing else in flight). */
int rvblk_io(rvblk *b, enum blk_rw op, enum blk_class cls, uint64_t lba, uint32_t nblocks, uint64_t buf_off);

/* The test pattern: block lba of a fill with seed, and whether a block
 * holds it. */
void rvblk_pattern(uint8_t *block, uint64_t seed, uint64_t lba);
bool rvblk_pattern_ok(const uint8_t *block, uint64_t seed, uint64_t lba);

#endif
