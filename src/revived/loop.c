/* loop.c — see loop.h. Level-triggered epoll: a handler that leaves data
 * unread is simply called again, which keeps every handler stateless about
 * wake-ups. */
#include "loop.h"

#include <errno.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

static int ep = -1;
static bool running;
/* A handler may free another handler (or itself) whose event is still in
 * the batch epoll_wait returned; such an object is always loop_del'd first,
 * so after any loop_del the rest of the batch is dropped and epoll_wait
 * asked again (level-triggered: nothing ready is lost). */
static bool batch_stale;

int loop_init(void)
{
    ep = epoll_create1(EPOLL_CLOEXEC);
    return ep < 0 ? -1 : 0;
}

int loop_add(int fd, uint32_t events, struct rv_handler *h)
{
    struct epoll_event ev = { .events = events, .data.ptr = h };
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

void loop_del(int fd)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
    batch_stale = true;
}

int loop_run(void)
{
    struct epoll_event ev[64];
    running = true;
    while (running) {
        int n = epoll_wait(ep, ev, 64, -1);
        if (n < 0 && errno != EINTR)
            return -1;
        batch_stale = false;
        for (int i = 0; i < n && running && !batch_stale; i++) {
            struct rv_handler *h = ev[i].data.ptr;
            h->on_event(h, ev[i].events);
        }
    }
    return 0;
}

void loop_stop(void) { running = false; }

void loop_fini(void)
{
    if (ep >= 0)
        close(ep);
    ep = -1;
}

int timer_new(void)
{
    return timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
}

void timer_arm(int tfd, uint64_t first_ms, uint64_t period_ms)
{
    struct itimerspec it = {
        .it_value = { (time_t)(first_ms / 1000), (long)(first_ms % 1000) * 1000000 },
        .it_interval = { (time_t)(period_ms / 1000), (long)(period_ms % 1000) * 1000000 },
    };
    if (first_ms == 0 && period_ms == 0)
        it.it_value.tv_nsec = 0;
    else if (first_ms == 0)
        it.it_value.tv_nsec = 1;   /* fire at once: a zero value would disarm */
    timerfd_settime(tfd, 0, &it, NULL);
}

void timer_drain(int tfd)
{
    uint64_t n;
    ssize_t r = read(tfd, &n, sizeof n);
    (void)r;
}
