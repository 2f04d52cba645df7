/* device.h — blk's device: the image revived holds, I/O on io_uring with up
 * to a queue depth in flight, fed by the scheduler (ioqueue.h).
 *
 * Whoever has I/O to do — a session's slot (blk.c), a request of the FUSE
 * export (export.c) — fills a struct dev_io, tags and queues it, and is
 * called back once with the result when the whole range is done (a short
 * transfer is issued again for its rest).
 *
 * A write (or discard) is never issued while an I/O of an overlapping range
 * is in flight, nor a read while such a write is: the kernel orders neither,
 * and a write issued by an instance that died must land before a later
 * instance's write of the same blocks, not after. The request waits aside
 * until the conflict completes. */
#ifndef RV_BLK_DEVICE_H
#define RV_BLK_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ioqueue.h"

struct dev_io {
    struct sched_req sr;        /* first: the scheduler hands these back */
    uint8_t op;                 /* enum blk_rw */
    int falloc_mode;            /* BLK_DISCARD: fallocate's mode; 0 means punch a hole */
    uint64_t off, len;          /* bytes */
    uint8_t *mem;               /* read into, or written from */
    uint64_t done;              /* bytes transferred so far */
    bool in_flight;
    bool waiting;               /* picked, but waits for an overlapping I/O in flight */
    struct dev_io *prev, *next; /* in the in-flight list, or the waiting one */
    void (*finished)(struct dev_io *io, int result);    /* 0 or -errno */
};

/* Opens the manifest's image and io_uring; with direct, its I/O bypasses
 * the page cache (O_DIRECT: buffers and offsets aligned). 0, or -1 with a
 * sentence. */
int device_open(unsigned queue_depth, bool direct, char *why, size_t whylen);
uint64_t device_bytes(void);
unsigned device_queue_depth(void);

/* Queues io (tags set by sched_tag) and dispatches what can go. */
void device_queue(struct dev_io *io);
/* Dispatches what the queue and the depth allow (after a rebuild). */
void device_dispatch(void);
/* Takes a queued or waiting io back (its client went away); false if it is
 * in flight, and will finish. */
bool device_cancel(struct dev_io *io);
/* Holds or releases dispatching (the test build's BLK_TEST_HOLD). */
void device_hold(bool on);

uint64_t device_now_ns(void);

#endif
