/* fastpath.c — the fast path of a service instance: calls that come
 * through a session's ring (ring.h) instead of its socket.
 *
 * A socket call costs the service an epoll_wait, a recvmsg and a sendmsg,
 * and the client a sendmsg and a recvmsg; the ring costs a futex wait and
 * a futex wake on each side, the floor two processes can hand a message
 * to each other at, and no copy through the kernel.
 *
 * The doorbell is one futex per service, so the thread that sleeps on it
 * does not know whose call woke it: it looks at every session with a ring
 * (one load each) and serves those whose `posted` is past their journal's
 * last completed seq, and not answered. Every client of the service may
 * write the doorbell, so it is a hint: one that lies can wake the thread
 * for nothing (a look at every ring, as a flood of calls costs), or undo
 * another's ring, which then waits for revived's next stall check to ring
 * again (ring.h). It can block nobody.
 *
 * Serving a ring's call is the socket path with a different first step:
 * the header is copied once out of memory the client may still be writing
 * and checked there, the body is copied into the journal, and the seq is
 * stored last, which makes the request journaled. From there rv__sess_rerun
 * runs it, commits, and sends the committed reply, which serve.c routes
 * back to the ring because the ring still says it posted that seq.
 *
 * The thread runs the service's code. Without workers it takes the turn
 * (fastpath.h) with the event loop: one of them at a time, as the service
 * was written for. With workers (whose service serves requests in
 * parallel) it is one more worker, claiming each session it serves as
 * they do. */
#include "fastpath.h"

#include <linux/futex.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "ring.h"
#include "rings.h"
#include "serve.h"

static pthread_mutex_t turn = PTHREAD_MUTEX_INITIALIZER;
static bool taking_turns;   /* set once, before the fast thread starts */

void rv__rt_turn_take(void)
{
    if (taking_turns)
        pthread_mutex_lock(&turn);
}

void rv__rt_turn_give(void)
{
    if (taking_turns)
        pthread_mutex_unlock(&turn);
}

/* A call that cannot even be read (a header the client garbled, a body
 * larger than the manifest's max_request) is answered with an error and
 * never run. Its answer in the ring is what keeps the next wake-up from
 * answering it again (and revived from taking it for a call unserved). */
static void refuse(rv_svc_session *s, uint64_t seq, int status)
{
    rv__ring_publish(s, seq, status, NULL, 0, false);
}

/* Whether the ring holds a call neither answered nor completed. The ring
 * is looked at first: a session nothing was posted to since its last
 * answer costs one load, and one left unchecked at the restart (its
 * journal not yet trusted, serve.c) stays so until a call comes. */
static bool posted_new(rv_svc_session *s, uint64_t seq)
{
    return __atomic_load_n(&s->ring->answered, __ATOMIC_ACQUIRE) != (uint32_t)seq && rv__sess_check(s) &&
           seq > rv__journal_committed(s->j)->done_seq;
}

/* The body first, then the header with seq 0, then the seq alone: a kill
 * part-way leaves a journal whose request is not in flight (its seq is not
 * past the last completed), and the ring still holds the call for the
 * next instance. */
static void journal_call(rv_svc_session *s, const struct rv_hdr *h)
{
    struct rv_journal *j = s->j;
    struct rv_hdr head = *h;
    memcpy(j->req_body, s->ring->body, h->len);
    head.seq = 0;
    memcpy(&j->req, &head, sizeof head);
    __atomic_store_n(&j->req.seq, h->seq, __ATOMIC_RELEASE);
}

static void serve_ring(rv_svc_session *s)
{
    struct rv_ring *r = s->ring;
    uint64_t seq = __atomic_load_n(&r->posted, __ATOMIC_ACQUIRE);
    if (!posted_new(s, seq))
        return;
    struct rv_hdr h;
    memcpy(&h, &r->req, sizeof h);   /* once: the client may be writing it still */
    if (h.magic != RV_WIRE_MAGIC || h.version != RV_WIRE_VERSION || h.type != RV_T_CALL || h.seq != seq)
        refuse(s, seq, RV_EPROTO);
    else if (h.len > rv__rt.shape.max_request)
        refuse(s, seq, RV_ETOOBIG);
    else {
        journal_call(s, &h);
        rv__sess_rerun(s);
    }
}

static struct rv_doorbell *bell;

/* Single-threaded, a look takes the turn and serves every ring. */
static void look_in_turn(void)
{
    rv__rt_turn_take();
    for (size_t i = 0; i < rv__rt.nsess; i++)
        if (rv__rt.sess[i]->ring)
            serve_ring(rv__rt.sess[i]);
    rv__rt_turn_give();
}

#define CLAIM_MAX 64

/* Beside workers, the thread is one more: it claims the sessions whose
 * rings hold a new call as a worker claims a session (workers.c: under
 * the lock, in_worker), serves them, and lets them go. One a worker holds
 * is left to it: only a client that also calls on its socket meanwhile
 * is late (until revived's stall check rings again, ring.h). */
static size_t claim_posted(rv_svc_session **mine)
{
    size_t n = 0;
    rv__rt_lock();
    for (size_t i = 0; i < rv__rt.nsess && n < CLAIM_MAX; i++) {
        rv_svc_session *s = rv__rt.sess[i];
        if (s->ring && !s->in_worker &&
            __atomic_load_n(&s->ring->answered, __ATOMIC_ACQUIRE) !=
                (uint32_t)__atomic_load_n(&s->ring->posted, __ATOMIC_ACQUIRE)) {
            s->in_worker = true;
            mine[n++] = s;
        }
    }
    rv__rt_unlock();
    return n;
}

static void look_beside_workers(void)
{
    rv_svc_session *mine[CLAIM_MAX];
    size_t n;
    do {
        n = claim_posted(mine);
        for (size_t i = 0; i < n; i++)
            serve_ring(mine[i]);
        rv__rt_lock();
        for (size_t i = 0; i < n; i++)
            mine[i]->in_worker = false;
        rv__rt_let_go();
        rv__rt_unlock();
    } while (n == CLAIM_MAX);
}

/* Looks at every ring, then sleeps on the doorbell's futex until a client
 * (or revived) rings it. `rung` is read before the look: a ring during the
 * look changes it, and the wait returns at once. The first look also
 * serves calls posted while no instance ran. No timeout: a timer armed per
 * wait would cost every call a fifth of a microsecond. */
static void *fast_main(void *arg)
{
    rv__rt_slot = (unsigned)(uintptr_t)arg;
    for (;;) {
        uint32_t seen = __atomic_load_n(&bell->rung, __ATOMIC_ACQUIRE);
        if (rv__rt.workers)
            look_beside_workers();
        else
            look_in_turn();
        __atomic_add_fetch(&rv__rt.status->ring_scans, 1, __ATOMIC_RELEASE);   /* revived's stall check */
        syscall(SYS_futex, &bell->rung, FUTEX_WAIT, seen, NULL, NULL, 0);   /* woken, or rung meanwhile */
    }
    return NULL;
}

int rv__fastpath_start(unsigned slot)
{
    if (rv__rt.doorbell < 0)
        return 0;
    bell = mmap(NULL, RV_DOORBELL_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, rv__rt.doorbell, 0);
    if (bell == MAP_FAILED)
        return -1;
    taking_turns = !rv__rt.workers;
    pthread_t th;
    if (pthread_create(&th, NULL, fast_main, (void *)(uintptr_t)slot) != 0)
        return -1;
    pthread_detach(th);
    return 0;
}
