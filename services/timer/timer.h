/* timer.h — the protocol of the `timer` service, shared by the service and
 * its clients.
 *
 * TIMER_START arms a periodic timer and returns the session's notifier, an
 * eventfd the service writes whenever expirations are due. A notification is
 * only a wake-up; TIMER_ACK says how many expirations occurred since the last
 * ACK. The count is derived from the start time and the period kept in the
 * SSR, so it is exact across any number of service restarts: no expiration
 * is lost or counted twice, and deadlines never drift. */
#ifndef RV_SVC_TIMER_H
#define RV_SVC_TIMER_H

#include <stdint.h>

enum timer_op {
    TIMER_START = 1,  /* req: struct timer_start; reply: empty + the notifier eventfd */
    TIMER_ACK = 2,    /* reply: uint64_t expirations since the last ACK */
};

struct timer_start {
    uint64_t period_ns;
    uint64_t start_ns;  /* CLOCK_MONOTONIC; the caller's, so a re-run request
                           computes the same deadlines */
};

#endif
