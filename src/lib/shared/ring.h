/* ring.h — the fast path's layout: one shared page (or a few) per session
 * between its client and the service instance, and a doorbell per service.
 *
 * A session of a service whose manifest says `fast_path = yes` gets, besides
 * its socket, a ring: a memfd revived creates, sizes for the service's
 * max_request and max_reply, seals against resizing (a client that shrank
 * it would fault the service on its next access) and keeps, so that it
 * outlives every instance, as the slab does. The doorbell is one more such
 * page per service, whose word `rung` is a futex: every client of the
 * service and every instance map it.
 *
 * A call (the client):  write req and its body, store `posted` = seq
 *                       (release), add 1 to `rung` and futex-wake it,
 *                       futex-wait on `answered` until it reads seq's
 *                       low 32 bits.
 * A reply (the instance's fast thread, woken by `rung`): copy req
 *                       into the journal (from then on it is journaled, as
 *                       a received datagram is), serve it exactly as a
 *                       socket request, write reply and its body, store
 *                       `answered` (release), futex-wake.
 *
 * So nothing of the recovery changes: the request is in the ring until the
 * journal has it, and the ring outlives the instance, so a kill at any point
 * loses nothing; a re-run's reply is published again, and the client takes
 * the reply with its call's seq only. What the client writes is a claim:
 * the instance copies the header once and checks the copy, and reads sizes
 * from its own manifest-given shape, never from the ring. A reply that
 * carries a descriptor goes on the socket, and the ring says so. */
#ifndef RV_RING_H
#define RV_RING_H

#include <linux/futex.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "wire.h"

#define RV_RING_MAGIC 0x474e4952u /* "RING" */

/* reply.op: the reply came on the session socket (it carries a descriptor). */
#define RV_RING_ON_SOCKET 1u
#define RV_DOORBELL_MAGIC 0x4c4c4542u /* "BELL" */
#define RV_DOORBELL_BYTES 4096

/* Any client of the service may write it: a hint, never trusted. A ring
 * a client that lies undoes (rewriting `rung` under the instance) or never
 * rings (a call posted without one) is rung by revived at its next stall
 * check, so such a call waits, and the instance is blamed, no longer than
 * request_timeout (docs/manifest.md). */
struct rv_doorbell {
    uint32_t magic;
    uint32_t rung;          /* clients and revived add 1 and futex-wake; the instance futex-waits */
};

struct rv_ring {
    uint32_t magic;
    uint32_t max_request;   /* revived's, at creation: the bytes the request body holds */
    uint32_t max_reply;     /* and the reply body */
    uint32_t answered;      /* the instance's: low 32 bits of the seq of the reply in `reply` (a futex) */
    uint64_t posted;        /* the client's: the seq of the call in `req`, stored last */
    uint64_t reserved[5];
    struct rv_hdr req;
    struct rv_hdr reply;
    uint8_t body[];         /* max_request bytes of request, then max_reply of reply */
};
_Static_assert(sizeof(struct rv_ring) == 112, "ring header has no padding");

/* One ring of the doorbell: `rung` moves (so a wait about to begin
 * returns at once) and its sleeper wakes. Never blocks. */
static inline void rv__doorbell_ring(struct rv_doorbell *bell)
{
    __atomic_add_fetch(&bell->rung, 1, __ATOMIC_RELEASE);
    syscall(SYS_futex, &bell->rung, FUTEX_WAKE, 1, NULL, NULL, 0);
}

static inline size_t rv__ring_bytes(uint32_t max_request, uint32_t max_reply)
{
    size_t n = sizeof(struct rv_ring) + (size_t)max_request + max_reply;
    return (n + 4095) & ~(size_t)4095;
}

static inline uint8_t *rv__ring_reply_body(struct rv_ring *r, uint32_t max_request)
{
    return r->body + max_request;
}

#endif
