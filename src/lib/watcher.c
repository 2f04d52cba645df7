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
 * (cap.c kicks an eventfd that is part of every poll). */
#include "revive/cap.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
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

/* The watched set as poll wants it: slot 0 is the wake eventfd. */
struct watch_set {
    struct rv_cap_watched *caps;
    struct pollfd *pfds;
    size_t n, cap;
    unsigned version;
};

void rv_watcher_kick(void)
{
    int fd = __atomic_load_n(&W.wake, __ATOMIC_ACQUIRE);
    uint64_t one = 1;
    if (fd >= 0 && write(fd, &one, sizeof one) < 0)
        return;   /* the counter is saturated: a wake-up is pending anyway */
}

static int refresh(struct watch_set *s)
{
    for (;;) {
        s->n = rv_cap_watched(s->caps, s->cap, &s->version);
        if (s->n < s->cap)
            break;
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct rv_cap_watched *c = realloc(s->caps, cap * sizeof *c);
        if (c)
            s->caps = c;
        struct pollfd *p = realloc(s->pfds, (cap + 1) * sizeof *p);
        if (p)
            s->pfds = p;
        if (!c || !p)
            return -1;
        s->cap = cap;
    }
    s->pfds[0] = (struct pollfd){ .fd = W.wake, .events = POLLIN };
    for (size_t i = 0; i < s->n; i++)
        s->pfds[1 + i] = (struct pollfd){ .fd = s->caps[i].liveness_fd, .events = POLLIN };
    return 0;
}

static void drain_wake(void)
{
    uint64_t n;
    if (read(W.wake, &n, sizeof n) < 0 && errno != EAGAIN)
        return;
}

/* Faults every capability whose liveness descriptor fired. */
static void fault_dead(const struct watch_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        if (!s->pfds[1 + i].revents)
            continue;
        if (rv_cap_fault(s->caps[i].fd, RV_EREVOKED, s->caps[i].generation) != 0)
            rv_cap_watch(s->caps[i].fd, false);
    }
}

/* One wait: the event mode blocks on everything (for at most a period in
 * `both`); the periodic mode sleeps a period on the wake fd alone, then
 * validates everything without waiting. */
static void watch_once(struct watch_set *s)
{
    int n;
    if (W.mode == RV_WATCH_PERIODIC) {
        n = poll(s->pfds, 1, (int)W.period_ms);
        if (n == 0)
            n = poll(s->pfds + 1, s->n, 0) > 0 ? 1 : 0;
        else
            for (size_t i = 0; i < s->n; i++)
                s->pfds[1 + i].revents = 0;
    } else
        n = poll(s->pfds, s->n + 1, W.mode == RV_WATCH_BOTH ? (int)W.period_ms : -1);
    if (n <= 0)
        return;
    if (s->pfds[0].revents)
        drain_wake();
    fault_dead(s);
}

static void *watcher_main(void *arg)
{
    (void)arg;
    struct watch_set s = { 0 };
    while (!__atomic_load_n(&W.stopping, __ATOMIC_ACQUIRE)) {
        if ((s.cap == 0 || rv_cap_version() != s.version) && refresh(&s) < 0)
            break;   /* out of memory: stop watching rather than spin */
        watch_once(&s);
    }
    free(s.caps);
    free(s.pfds);
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
    }
    pthread_mutex_unlock(&W.lock);
    return rc;
}

void rv_watcher_stop(void)
{
    pthread_mutex_lock(&W.lock);
    if (W.running) {
        __atomic_store_n(&W.stopping, true, __ATOMIC_RELEASE);
        rv_watcher_kick();
        pthread_join(W.thread, NULL);
        W.running = false;
    }
    pthread_mutex_unlock(&W.lock);
}
