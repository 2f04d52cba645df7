/* workers.c — a pool of threads that serve requests, for a service that
 * opts in with `.workers = N` (include/revive/server.h).
 *
 * The event loop stays on the main thread and stays the only one that
 * talks to revived (binds, unbinds, pings) and that changes the session
 * table. A readable session is handed to the pool instead of served in
 * the loop. Its descriptor is registered EPOLLONESHOT, so it reports
 * nothing more until the worker that served it re-arms it: one session is
 * never served by two threads at once, which keeps the per-session
 * journal protocol exactly as it is single-threaded; sessions run in
 * parallel with each other.
 *
 * The one hazard is revived unbinding a session (its client went away)
 * while a worker still serves its last request: the event loop waits for
 * that worker before it unbinds, so a session is never freed under a
 * thread that uses it, and its slab record, which revived hands to the
 * next session at once, is never written after the UNBIND was read. The
 * wait is as long as that one request: a client that leaves mid-call. */
#include "workers.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include "serve.h"

static struct {
    pthread_mutex_t lock;
    pthread_cond_t more;
    pthread_cond_t done;             /* a worker finished a session */
    rv_svc_session **queue;          /* ring of readable sessions */
    size_t cap, head, len;
    unsigned n;
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER, .more = PTHREAD_COND_INITIALIZER, .done = PTHREAD_COND_INITIALIZER };

static rv_svc_session *take(void)
{
    pthread_mutex_lock(&pool.lock);
    while (pool.len == 0)
        pthread_cond_wait(&pool.more, &pool.lock);
    rv_svc_session *s = pool.queue[pool.head];
    pool.head = (pool.head + 1) % pool.cap;
    pool.len--;
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

static void *worker_main(void *arg)
{
    rv__rt_slot = (unsigned)(uintptr_t)arg;
    for (;;) {
        rv_svc_session *s = take();
        rv__sess_on_readable(s);
        finish(s);
    }
    return NULL;
}

int rv__workers_start(unsigned n)
{
    /* each session is in the ring at most once (one-shot), and revived
     * bounds the sessions per instance: the ring grows on demand */
    for (unsigned i = 0; i < n; i++) {
        pthread_t th;
        if (pthread_create(&th, NULL, worker_main, (void *)(uintptr_t)(i + 1)) != 0)
            return -1;
        pthread_detach(th);
    }
    pool.n = n;
    rv__rt.workers = true;
    return 0;
}


static int grow(void)
{
    size_t cap = pool.cap ? pool.cap * 2 : 64;
    rv_svc_session **q = malloc(cap * sizeof *q);
    if (!q)
        return -1;
    for (size_t i = 0; i < pool.len; i++)
        q[i] = pool.queue[(pool.head + i) % pool.cap];
    free(pool.queue);
    pool.queue = q;
    pool.cap = cap;
    pool.head = 0;
    return 0;
}

void rv__workers_submit(rv_svc_session *s)
{
    pthread_mutex_lock(&pool.lock);
    if (pool.len == pool.cap && grow() < 0)
        rv__fail_stop("out of memory queueing a request");
    s->in_worker = true;
    pool.queue[(pool.head + pool.len++) % pool.cap] = s;
    pthread_cond_signal(&pool.more);
    pthread_mutex_unlock(&pool.lock);
}

void rv__workers_await(rv_svc_session *s)
{
    pthread_mutex_lock(&pool.lock);
    while (s->in_worker)
        pthread_cond_wait(&pool.done, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
}
