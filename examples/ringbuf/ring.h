/* ring.h — the `ringbuf` example: L4ReAnimator's shared-memory
 * producer/consumer buffer (L4ReAnimator §3.3) on revive.
 *
 * The producer (rv-ring-producer) provides one dataspace, "ring", with two
 * notifiers through revived: DATA (the producer signals new records) and
 * SPACE (the consumer signals freed slots). The consumer (rv-ring-consumer)
 * attaches it; librevive registers the dataspace and both notifiers with
 * one fault handler, and the memfd with an unmap action. When the producer
 * dies, revived closes the consumer's lifeline; the watcher (or the
 * consumer's own wait) raises the fault, the stale buffer is replaced by
 * zero pages, and the handler attaches the restarted producer's buffer at
 * the same address. Every record carries its producer's id, so a consumer
 * can prove it never accepts a byte of a dead producer's buffer. */
#ifndef RV_EXAMPLE_RING_H
#define RV_EXAMPLE_RING_H

#include <stdatomic.h>
#include <stdint.h>

#define RING_NAME "ring"
#define RING_MAGIC 0x52494e47u   /* "RING" */
#define RING_SLOTS 1024
enum { RING_DATA = 0, RING_SPACE = 1 };   /* notifier indexes */

struct ring_record {
    uint64_t producer;    /* the id of the producer that wrote it */
    uint64_t seq;         /* 0, 1, 2, ... per producer */
    uint64_t check;       /* ring_check(producer, seq): never 0 */
};

struct ring {
    uint32_t magic;       /* 0 in the zero pages that replace a dead buffer */
    uint32_t slots;
    uint64_t producer;    /* never 0 */
    _Atomic uint64_t head;   /* next seq the producer writes */
    _Atomic uint64_t tail;   /* next seq the consumer reads */
    struct ring_record rec[RING_SLOTS];
};

static inline uint64_t ring_check(uint64_t producer, uint64_t seq)
{
    uint64_t z = producer ^ (seq * 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 31)) * 0xbf58476d1ce4e5b9ull;
    return (z ^ (z >> 29)) | 1;
}

#endif
