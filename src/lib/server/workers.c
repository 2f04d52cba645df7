/* workers.c — a pool of threads that serve requests, for a service that
 * opts in with `.workers = N` (include/revive/server.h).
 *
 * The event loop stays on the main thread and stays the only one that
 * talks to revived (binds, unbinds, pings) and that changes the session
 * table. Sessions are not in its epoll set but in the workers' own, which
 * every worker waits on directly: a request wakes the thread that serves
 * it, and no other (a hand-off from the event loop to a worker cost a
 * second wake-up, a lock and a condition variable per request). Each
 * session is registered EPOLLONESHOT, so it reports nothing more until
 * the worker that served it re-arms it: one session is never served by two
 * threads at once, which keeps the per-session journal protocol exactly as
 * it is single-threaded; sessions run in parallel with each other.
 *
 * The hazard is revived unbinding a session (its client went away) while a
 * worker holds an event of it. So the event names the session by its id,
 * not its address: a worker finds the session by id and claims it under
 * the runtime's lock (core.h), and the event loop takes a session out of the table
 * under the same lock, then waits for a worker that claimed it before.
 * An event of a session already gone finds no session (a record's next
 * session has another id) and is dropped. A session is never freed under
 * a thread that uses it, and its slab record, which revived hands to the
 * next session, is never written after the UNBIND was read. The wait is as
 * long as that one request: a client that leaves mid-call.
 *
 * A shared channel (channel.c) is registered the same way, its event
 * naming it by id with RV_CHAN_EVENT set: the worker that claims it reads
 * one datagram, claims the session the datagram names, and re-arms the
 * channel when that request is done. */
#include "workers.h"

#include <pthread.h>
#include <sys/epoll.h>
#include "demux.h"
#include "channel.h"
#include "serve.h"

/* Under the lock: s (found, or NULL) is this worker's now. */
static rv_svc_session *hold(rv_svc_session *s)
{
    if (s)
        s->in_worker = true;
    return s;
}

/* The session an event names, now this worker's; NULL if it is gone.
 * The fast path's thread may hold it (a call in its ring, fastpath.c):
 * then this waits, and looks the session up again, for it may be gone. */
static rv_svc_session *claim(uint64_t id)
{
    rv__rt_lock();
    rv_svc_session *s;
    while ((s = rv__rt_sess_find(id)) && s->in_worker)
        rv__rt_wait_let_go();
    hold(s);
    rv__rt_unlock();
    return s;
}

/* After serving: re-arm the session (one of a shared channel is not
 * polled itself: its channel is re-armed). The re-arm happens under the
 * lock, before in_worker clears: once it clears, the event loop may unbind
 * and free the session. */
static void finish(rv_svc_session *s)
{
    rv__rt_lock();
    if (s->polling)
        rv__rt_rearm(s);
    s->in_worker = false;
    rv__rt_let_go();
    rv__rt_unlock();
}

static rv_svc_session *claim_tagged(struct rv_channel *ch, int32_t tag)
{
    rv__rt_lock();
    rv_svc_session *s = hold(rv__demux_lookup.claim(ch, tag));
    rv__rt_unlock();
    return s;
}

static const struct rv_demux_claimer tagged = { claim_tagged, finish };

static void serve_channel(uint32_t id)
{
    rv__rt_lock();
    struct rv_channel *ch = rv__chan_find(id);
    if (ch)
        ch->in_worker = true;
    rv__rt_unlock();
    if (!ch)
        return;
    rv__demux_serve(ch, &tagged);
    rv__rt_lock();
    if (ch->polling)
        rv__rt_rearm_channel(ch);
    ch->in_worker = false;
    rv__rt_let_go();
    rv__rt_unlock();
}

static void serve_session(uint64_t id)
{
    rv_svc_session *s = claim(id);
    if (!s)
        return;
    if (rv__sess_check(s))
        rv__sess_on_readable(s);
    finish(s);
}

/* One event at a time: a batch would hold ready sessions back from idle
 * workers. */
static void *worker_main(void *arg)
{
    rv__rt_slot = (unsigned)(uintptr_t)arg;
    for (;;) {
        struct epoll_event ev;
        if (epoll_wait(rv__rt.sess_ep, &ev, 1, -1) != 1)
            continue;   /* EINTR */
        if (ev.data.u64 & RV_CHAN_EVENT)
            serve_channel((uint32_t)ev.data.u64);
        else
            serve_session(ev.data.u64);
    }
    return NULL;
}

int rv__workers_start(unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        pthread_t th;
        if (pthread_create(&th, NULL, worker_main, (void *)(uintptr_t)(i + 1)) != 0)
            return -1;
        pthread_detach(th);
    }
    rv__rt.workers = true;
    return 0;
}
