/* ioqueue.h — blk's request scheduler: strict priority between classes,
 * weighted fair share within one, and a bound on starvation.
 *
 * Within a class, start-time fair queueing: a request of a client of
 * weight w and cost c (blocks) gets the start tag max(V, the client's last
 * finish tag in that class) and the finish tag start + c * SCHED_SCALE / w;
 * requests go out by increasing finish tag, and the class's virtual time V
 * becomes the start tag of the one that went. Over any busy period a
 * client's share of a class is then its weight's share, whatever its
 * requests' sizes.
 *
 * Between classes, strictly by priority (BLK_RT, then BLK_BE, then
 * BLK_IDLE) — except that a request of a lower class that has waited
 * longer than the starvation bound goes next. The tags and the arrival time
 * are the request's own (kept in its client's SSR), so a queue rebuilt from
 * them after a crash is the same queue. */
#ifndef RV_BLK_IOQUEUE_H
#define RV_BLK_IOQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCHED_SCALE 1024u

struct sched_req {
    uint8_t cls;
    uint64_t start, finish;     /* virtual tags */
    uint64_t arrival_ns;        /* CLOCK_MONOTONIC */
    size_t heap_i;              /* in its class's heap; SIZE_MAX when not queued */
    struct sched_req *older, *newer;   /* its class's queue by arrival */
};

/* Requests of a lower class go ahead of higher ones after waiting this long. */
void sched_set_starvation(uint64_t ns);

/* The tags of a new request: V of its class, the client's last finish tag
 * there (updated), its weight and its cost. */
void sched_tag(struct sched_req *r, uint64_t *client_finish, uint32_t weight, uint32_t cost);

/* Queues r (tags and arrival set). Requests must be added in arrival
 * order; sched_rebuild sorts a recovered set first. */
int sched_add(struct sched_req *r);
/* Queues every request of a recovered set (any order), and sets each
 * class's virtual time from what is queued, or else from the clients'
 * last finish tags (idle_v). */
int sched_rebuild(struct sched_req **all, size_t n, const uint64_t idle_v[]);
/* The request to dispatch now, removed from the queue; NULL if none. */
struct sched_req *sched_next(uint64_t now_ns);
/* Takes r out of the queue (its client went away). */
void sched_remove(struct sched_req *r);
size_t sched_queued(void);

#endif
