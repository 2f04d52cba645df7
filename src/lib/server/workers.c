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
 * the pool's lock, and the event loop takes a session out of the table
 * under the same lock, then waits for a worker that claimed it before.
 * An event of a session already gone finds no session (a record's next
 * session has another id) and is dropped. A session is never freed under
 * a thread that uses it, and its slab record, which revived hands to the
 * next session, is never written after the UNBIND was read. The wait is as
 * long as that one request: a client that leaves mid-call. */
#include "workers.h"

#include <pthread.h>
#include <sys/epoll.h>
#include "serve.h"

static struct {
    pthread_mutex_t lock;
    pthread_cond_t done;             /* a worker let go of a session */
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER, .done = PTHREAD_COND_INITIALIZER };

void rv__workers_lock(void) { pthread_mutex_lock(&pool.lock); }
void rv__workers_unlock(void) { pthread_mutex_unlock(&pool.lock); }

/* The session an event names, now this worker's; NULL if it is gone. */
static rv_svc_session *claim(uint64_t id)
{
    pthread_mutex_lock(&pool.lock);
    rv_svc_session *s = rv__rt_sess_find(id);
    if (s)
        s->in_worker = true;
    pthread_mutex_unlock(&pool.lock);
    return s;
}

/* After serving: re-arm the session. The re-arm happens under the lock,
 * before in_worker clears: once it clears, the event loop may unbind and
 * free the session. */
static void finish(rv_svc_session *s)
{
    pthread_mutex_lock(&pool.lock);
    if (s->polling)
        rv__rt_rearm(s);
    s->in_worker = false;
    pthread_cond_broadcast(&pool.done);
    pthread_mutex_unlock(&pool.lock);
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
        rv_svc_session *s = claim(ev.data.u64);
        if (!s)
            continue;
        if (rv__sess_check(s))
            rv__sess_on_readable(s);
        finish(s);
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

void rv__workers_await(rv_svc_session *s)
{
    pthread_mutex_lock(&pool.lock);
    while (s->in_worker)
        pthread_cond_wait(&pool.done, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
}
