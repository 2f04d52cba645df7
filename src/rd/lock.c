/* lock.c — mutexes taken inside recovery domains (paper §5.2).
 *
 * A lock acquire is not a reversible operation: deferring its inverse (the
 * unlock) to commit could deadlock against the next acquire. Instead
 * rd_mutex_lock logs the acquire as a record of the domain's undo log; the
 * domain unlocks as usual, and a rollback that reaches the record while the
 * thread still holds the mutex unlocks it — after restoring everything
 * written under it, since the log replays newest first. So a domain that
 * faults holding a lock does not leave it locked forever.
 *
 * A domain waiting for a mutex must stay interruptible: the thread holding
 * it may be rolling back and waiting, in turn, for this domain's undo (a
 * cascade condemned both). pthread_mutex_lock cannot be left safely from a
 * signal handler, so the wait is rd_mutex_lock's own: try the mutex, sleep
 * on a futex word that every rd_mutex_unlock of a mutex hashing to it bumps,
 * and let the cascade signal bump it too (fault.c), so a condemned waiter
 * wakes up and rolls back instead of waiting.
 *
 * Mutexes are plain pthread mutexes, so code outside domains uses them with
 * pthread_mutex_lock as before; it should unlock them with rd_mutex_unlock
 * when domains may be waiting for them.
 */
#include <errno.h>

#include "rd_internal.h"

#define WORDS 64

static int words[WORDS], waiters[WORDS];

static unsigned slot(const pthread_mutex_t *m)
{
    uintptr_t a = (uintptr_t)m / sizeof(void *);
    return (unsigned)((a ^ (a >> 6)) % WORDS);
}

static void notify(const pthread_mutex_t *m)
{
    unsigned s = slot(m);
    __atomic_add_fetch(&words[s], 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&waiters[s], __ATOMIC_SEQ_CST))
        rd_futex_wake(&words[s]);
}

void rd_lock_released(pthread_mutex_t *m)
{
    pthread_mutex_unlock(m);
    notify(m);
}

/* Sleeps until a mutex hashing like m is unlocked (or a cascade signal
 * arrives), unless one was unlocked since `seen` was read. */
static void wait_unlock(struct rd_thread *t, const pthread_mutex_t *m, int seen)
{
    unsigned s = slot(m);
    t->wait_word = &words[s];
    __atomic_add_fetch(&waiters[s], 1, __ATOMIC_SEQ_CST);
    if (!t->cascade_pending)
        rd_futex_wait(&words[s], seen);
    __atomic_sub_fetch(&waiters[s], 1, __ATOMIC_SEQ_CST);
    t->wait_word = NULL;
}

int rd_mutex_lock(pthread_mutex_t *m)
{
    struct rd_thread *t = &rd_self;
    if (!rd_logging(t))
        return pthread_mutex_lock(m);
    /* Room first: once the mutex is ours, recording it must not fail. */
    if (rd_reserve(t, &t->recs, 1, sizeof(struct rd_rec)) ||
        rd_reserve(t, &t->held, 1, sizeof(struct rd_held)))
        rd_abort(RD_ENOMEM);
    /* Inside the runtime from the try to the record: a cascade arriving
     * between them would otherwise roll back with the mutex held but not
     * recorded. Leaving the runtime runs a cascade that arrived meanwhile:
     * while waiting, nothing is held; once recorded, the rollback unlocks. */
    int r;
    for (;;) {
        rd_runtime_enter(t);
        int seen = __atomic_load_n(&words[slot(m)], __ATOMIC_SEQ_CST);
        if ((r = pthread_mutex_trylock(m)) != EBUSY)
            break;
        wait_unlock(t, m, seen);
        rd_runtime_leave(t);
    }
    if (r == 0) {
        size_t rec = t->recs.len;
        ((struct rd_rec *)t->recs.data)[t->recs.len++] =
            (struct rd_rec){ .type = RD_REC_LOCK, .u.lock = m };
        ((struct rd_held *)t->held.data)[t->held.len++] = (struct rd_held){ m, rec };
    }
    rd_runtime_leave(t);
    return r;
}

int rd_mutex_unlock(pthread_mutex_t *m)
{
    struct rd_thread *t = &rd_self;
    const struct rd_held *h = t->held.data;
    for (size_t i = t->held.len; i-- > 0;)
        if (h[i].lock == m) {
            rd_held_drop(t, i);
            break;
        }
    int r = pthread_mutex_unlock(m);
    notify(m);
    return r;
}
