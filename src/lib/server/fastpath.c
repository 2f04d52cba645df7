/* fastpath.c — the fast path of a service instance: calls that come
 * through a session's ring (ring.h) instead of its socket.
 *
 * A socket call costs the service an epoll_wait, a recvmsg and a sendmsg,
 * and the client a sendmsg and a recvmsg; the ring costs an epoll_wait on
 * the doorbell and a futex wake here, an eventfd write and a futex wait in
 * the client: the floor two processes can hand a message to each other at,
 * and no copy through the kernel.
 *
 * The doorbell is one eventfd per service, so the thread that reads it
 * does not know whose call woke it: it looks at every session with a ring
 * (one load each) and serves those whose `posted` is past their journal's
 * last completed seq, and not answered. A ring while the thread looks at
 * other sessions is an edge all the same, and the next wait returns at
 * once: no call is lost.
 *
 * Serving a ring's call is the socket path with a different first step:
 * the header is copied once out of memory the client may still be writing
 * and checked there, the body is copied into the journal, and the seq is
 * stored last, which makes the request journaled. From there rv__sess_rerun
 * runs it, commits, and sends the committed reply, which serve.c routes
 * back to the ring because the ring still says it posted that seq.
 *
 * The thread runs the service's code, so it takes the turn (fastpath.h) with
 * the event loop: one of them at a time. A service with workers has no
 * fast path (server.c refuses the combination at start). */
#include "fastpath.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>
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

/* A call the ring holds that is neither completed nor answered: new. */
static bool posted_new(rv_svc_session *s, uint64_t seq)
{
    return seq > rv__journal_committed(s->j)->done_seq &&
           __atomic_load_n(&s->ring->answered, __ATOMIC_ACQUIRE) != (uint32_t)seq;
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
    if (!rv__sess_check(s) || !posted_new(s, seq))
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

/* The doorbell is watched edge-triggered: every ring is an edge, so the
 * count need not be read (a system call per call) to sleep again. It is
 * emptied when nothing rang for RV_RING_LOOK_MS, and every EMPTY_EVERY
 * rings, so a client that lies cannot keep it full for long: while it is
 * full, rings fail (EAGAIN) and make no edge, and the calls behind them
 * wait for the next look, or come on their socket too (client.c). */
#define EMPTY_EVERY 1024
static int bell_ep = -1;

static void empty_doorbell(void)
{
    uint64_t rung;
    if (read(rv__rt.doorbell, &rung, sizeof rung) < 0 && errno != EAGAIN && errno != EINTR)
        rv__fail_stop("cannot read the fast path's doorbell");
}

/* Looks at every ring, then sleeps until the doorbell rings or
 * RV_RING_LOOK_MS pass. The first look also serves calls posted while no
 * instance ran. */
static void *fast_main(void *arg)
{
    (void)arg;
    for (unsigned rings = 0;;) {
        rv__rt_turn_take();
        for (size_t i = 0; i < rv__rt.nsess; i++)
            if (rv__rt.sess[i]->ring)
                serve_ring(rv__rt.sess[i]);
        __atomic_add_fetch(&rv__rt.status->ring_scans, 1, __ATOMIC_RELEASE);   /* revived's stall check */
        rv__rt_turn_give();
        struct epoll_event ev;
        int n = epoll_wait(bell_ep, &ev, 1, RV_RING_LOOK_MS);
        if (n < 0 && errno != EINTR)
            rv__fail_stop("cannot wait on the fast path's doorbell");
        if (n == 0 || ++rings % EMPTY_EVERY == 0)
            empty_doorbell();
    }
    return NULL;
}

int rv__fastpath_start(void)
{
    if (rv__rt.doorbell < 0)
        return 0;
    struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
    bell_ep = epoll_create1(EPOLL_CLOEXEC);
    if (bell_ep < 0 || epoll_ctl(bell_ep, EPOLL_CTL_ADD, rv__rt.doorbell, &ev) < 0)
        return -1;
    taking_turns = true;
    pthread_t th;
    if (pthread_create(&th, NULL, fast_main, NULL) != 0)
        return -1;
    pthread_detach(th);
    return 0;
}
