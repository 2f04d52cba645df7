/* watcher.c — the capability watcher thread (L4ReAnimator §3.3): finds
 * capabilities whose object died while nobody invokes them — a consumer
 * that keeps a dataspace mapped and only reads memory would never learn
 * that its provider is gone.
 *
 * A watched capability has a liveness descriptor (a dataspace's lifeline:
 * revived closes the other end when the provider goes), which becomes
 * readable (EOF) or hung up when the object dies. Two ways to look:
 *   periodic — every period, poll all of them with a zero timeout: the
 *              paper's periodic validation, with its trade-off between
 *              detection latency and the cost of waking up;
 *   event    — block in poll() on all of them: the kernel wakes the
 *              watcher at the moment of death and it costs nothing until
 *              then (the paper's option 3, which it did not build);
 *   both     — block, but wake up every period anyway.
 * A dead one raises its capability fault from this thread: the unmap
 * action, then the handler. One that cannot be repaired is no longer
 * watched (its next invocation reports the error), so the watcher never
 * spins on it. The watched set is re-read whenever the registry changes
 * (cap.c kicks an eventfd the watcher always waits on). */
#include "revive/cap.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include "cap_internal.h"

static struct {
    pthread_mutex_t lock;
    pthread_t thread;
    bool running, stopping;
    int wake;                 /* eventfd: the registry changed, or stop; never closed */
    enum rv_watch_mode mode;
    unsigned period_ms;
} W = { .lock = PTHREAD_MUTEX_INITIALIZER, .wake = -1 };

/* The watched set in an epoll instance of its own, rebuilt whenever the
 * registry changes: a validation pass is then one epoll_wait that returns
 * only the dead, instead of a poll() that visits every descriptor (56 us
 * for 1000 sockets with warm caches, three times that once a CPU-bound job
 * has evicted them: rv-bench's caps section). A repair puts a new object
 * on the old descriptor number, which is why a change rebuilds the set
 * rather than patching it: the kernel dropped the closed description. */
struct watch_set {
    struct rv__cap_watched *caps;
    size_t n, cap;
    unsigned version;
    int ep;
};

#define WAKE_TAG SIZE_MAX

/* Wakes the watcher to re-read the watched set. */
static void kick(void)
{
    int fd = __atomic_load_n(&W.wake, __ATOMIC_ACQUIRE);
    uint64_t one = 1;
    if (fd >= 0 && write(fd, &one, sizeof one) < 0)
        return;   /* the counter is saturated: a wake-up is pending anyway */
}

static int read_set(struct watch_set *s)
{
    for (;;) {
        s->n = rv__cap_watched(s->caps, s->cap, &s->version);
        if (s->n < s->cap)
            return 0;
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct rv__cap_watched *c = realloc(s->caps, cap * sizeof *c);
        if (!c)
            return -1;
        s->caps = c;
        s->cap = cap;
    }
}

static int epoll_add(int ep, int fd, size_t tag)
{
    struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.u64 = tag };
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* The event mode's set holds the wake eventfd too, so one wait covers both. */
static int refresh(struct watch_set *s)
{
    if (s->ep >= 0)
        close(s->ep);
    s->ep = epoll_create1(EPOLL_CLOEXEC);
    if (s->ep < 0 || read_set(s) < 0)
        return -1;
    if (W.mode != RV_WATCH_PERIODIC && epoll_add(s->ep, W.wake, WAKE_TAG) < 0)
        return -1;
    for (size_t i = 0; i < s->n; i++)
        if (epoll_add(s->ep, s->caps[i].liveness_fd, i) < 0)
            s->caps[i].liveness_fd = -1;   /* closed meanwhile: the next refresh sees why */
    return 0;
}

static void drain_wake(void)
{
    uint64_t n;
    if (read(W.wake, &n, sizeof n) < 0 && errno != EAGAIN)
        return;
}

/* Faults every capability among the ready events. */
static void fault_dead(const struct watch_set *s, const struct epoll_event *ev, int n)
{
    for (int i = 0; i < n; i++) {
        if (ev[i].data.u64 == WAKE_TAG) {
            drain_wake();
            continue;
        }
        const struct rv__cap_watched *c = &s->caps[ev[i].data.u64];
        if (rv_cap_fault(c->fd, RV_EREVOKED, c->generation) != 0)
            rv_cap_watch(c->fd, false);
    }
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* One wait: the event mode blocks on everything (for at most a period in
 * `both`); the periodic mode sleeps on the wake fd alone until the next
 * validation is due — a kick (the set changed) interrupts the sleep but
 * does not postpone the validation — then validates without waiting. */
static void watch_once(struct watch_set *s, int64_t *due)
{
    struct epoll_event ev[64];
    int n;
    if (W.mode == RV_WATCH_PERIODIC) {
        int64_t left = *due - now_ms();
        struct pollfd wake = { .fd = W.wake, .events = POLLIN };
        if (left > 0 && poll(&wake, 1, (int)left) > 0) {
            drain_wake();
            return;   /* the set changed, or stop: re-read first */
        }
        *due = now_ms() + W.period_ms;
        n = epoll_wait(s->ep, ev, 64, 0);
    } else
        n = epoll_wait(s->ep, ev, 64, W.mode == RV_WATCH_BOTH ? (int)W.period_ms : -1);
    if (n > 0)
        fault_dead(s, ev, n);
}

static void *watcher_main(void *arg)
{
    (void)arg;
    struct watch_set s = { .ep = -1 };
    int64_t due = now_ms() + W.period_ms;
    while (!__atomic_load_n(&W.stopping, __ATOMIC_ACQUIRE)) {
        if ((s.ep < 0 || rv__cap_version() != s.version) && refresh(&s) < 0)
            break;   /* out of memory or descriptors: stop watching rather than spin */
        watch_once(&s, &due);
    }
    if (s.ep >= 0)
        close(s.ep);
    free(s.caps);
    return NULL;
}

int rv_watcher_start(enum rv_watch_mode mode, unsigned period_ms)
{
    if (mode < RV_WATCH_PERIODIC || mode > RV_WATCH_BOTH || (mode != RV_WATCH_EVENT && period_ms == 0) ||
        period_ms > 3600000)
        return RV_EINVAL;
    pthread_mutex_lock(&W.lock);
    int rc = W.running ? RV_EBUSY : 0;
    if (rc == 0) {
        W.mode = mode;
        W.period_ms = period_ms;
        W.stopping = false;
        if (W.wake < 0)   /* kept for the process's life: a kick never races a close */
            __atomic_store_n(&W.wake, eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), __ATOMIC_RELEASE);
        if (W.wake < 0 || pthread_create(&W.thread, NULL, watcher_main, NULL) != 0)
            rc = RV_ENOMEM;
        else
            W.running = true;
        rv__cap_on_change(kick);
    }
    pthread_mutex_unlock(&W.lock);
    return rc;
}

void rv_watcher_stop(void)
{
    pthread_mutex_lock(&W.lock);
    if (W.running) {
        __atomic_store_n(&W.stopping, true, __ATOMIC_RELEASE);
        kick();
        pthread_join(W.thread, NULL);
        W.running = false;
    }
    pthread_mutex_unlock(&W.lock);
}
