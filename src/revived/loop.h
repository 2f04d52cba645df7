/* loop.h — revived's event loop: one epoll set, one thread.
 *
 * Everything revived reacts to (the public socket, connections, service
 * control channels, pidfds, timers, session hang-ups) is an fd with an
 * rv_handler; the loop calls handler->on_event with the epoll events. */
#ifndef RV_LOOP_H
#define RV_LOOP_H

#include <stdint.h>

struct rv_handler {
    void (*on_event)(struct rv_handler *h, uint32_t events);
};

int loop_init(void);
int loop_add(int fd, uint32_t events, struct rv_handler *h);
void loop_del(int fd);
/* Runs until loop_stop(); returns 0, or -1 if epoll fails. */
int loop_run(void);
void loop_stop(void);
void loop_fini(void);

/* A one-shot or periodic timerfd, armed in milliseconds (0 disarms). */
int timer_new(void);
void timer_arm(int tfd, uint64_t first_ms, uint64_t period_ms);
void timer_drain(int tfd);

#endif
