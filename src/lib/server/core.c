/* core.c — see core.h. */
#include "core.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

struct rv_runtime rv__rt = { .ctl = -1, .ep = -1, .sess_ep = -1, .image_fd = -1, .fuse_fd = -1, .doorbell = -1 };
__thread rv_request *rv__rt_serving;
__thread unsigned rv__rt_slot;

void rv__rt_set_busy(uint64_t session, uint64_t seq)
{
    struct rv_busy *b = &rv__rt.status->busy[rv__rt_slot];
    if (session) {
        b->session = session;
        b->seq = seq;
        __atomic_store_n(&b->since_ns, rv__now_ns(), __ATOMIC_RELEASE);
    } else {
        __atomic_store_n(&b->since_ns, 0, __ATOMIC_RELEASE);
        b->session = 0;
    }
}

/* ---- crash records ---- */

/* Runs on the faulting thread, on the alternate stack: only stores and
 * async-signal-safe calls. "self" separates a real fault (a bad pointer,
 * abort()) from a signal someone else sent: only a real fault makes the
 * request being served a suspect. */
void rv__rt_record_crash(int sig, int code, uint64_t addr, bool self)
{
    struct rv_status_page *st = rv__rt.status;
    if (st) {
        const struct rv_busy *b = &st->busy[rv__rt_slot];   /* the faulting thread's */
        st->crash_session = b->since_ns ? b->session : 0;
        st->crash_seq = b->seq;
        st->crash_code = code;
        st->crash_addr = addr;
        st->crash_self = self;
        __atomic_store_n(&st->crash_signal, (uint32_t)sig, __ATOMIC_RELEASE);
    }
}

void rv__rt_escalate(int sig)
{
    rv__rt_record_crash(sig, 0, 0, true);
    signal(sig, SIG_DFL);
    raise(sig);
    _exit(128 + sig);   /* a blocked signal: die all the same */
}

void rv__rt_report_lost(rv_svc_session *s, int status, const char *why)
{
    rv__log(RV_LOG_ERR, "session %llu: %s; failing this session alone", (unsigned long long)s->id, why);
    struct rv_hdr h = rv__hdr_make(RV_T_SESSION_LOST, s->id, 0, status, strlen(why));
    rv__wire_send(rv__rt.ctl, &h, why, NULL, 0, 0);
}

rv_svc_session *rv__rt_sess_find(uint64_t id)
{
    uint64_t record = id & (RV_SLAB_MAX_RECORDS - 1);
    rv_svc_session *s = record < rv__rt.slab.records ? rv__rt.by_record[record] : NULL;
    return s && s->id == id ? s : NULL;
}

/* ---- the lock workers take ---- */

static pthread_mutex_t rt_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t rt_done = PTHREAD_COND_INITIALIZER;

void rv__rt_lock(void) { pthread_mutex_lock(&rt_lock); }
void rv__rt_unlock(void) { pthread_mutex_unlock(&rt_lock); }
void rv__rt_let_go(void) { pthread_cond_broadcast(&rt_done); }
void rv__rt_wait_let_go(void) { pthread_cond_wait(&rt_done, &rt_lock); }

void rv__rt_await(const bool *in_worker)
{
    pthread_mutex_lock(&rt_lock);
    while (*in_worker)
        pthread_cond_wait(&rt_done, &rt_lock);
    pthread_mutex_unlock(&rt_lock);
}

/* ---- the epoll sets ---- */

int rv__rt_poll_add(int fd, struct rv_source *src)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = src };
    return epoll_ctl(rv__rt.ep, EPOLL_CTL_ADD, fd, &ev);
}

static struct epoll_event source_event(uint64_t id, const struct rv_source *src)
{
    if (rv__rt.sess_ep != rv__rt.ep)
        return (struct epoll_event){ .events = EPOLLIN | EPOLLONESHOT, .data.u64 = id };
    return (struct epoll_event){ .events = EPOLLIN, .data.ptr = (void *)src };
}

/* polling is set first: with workers, the first event may reach a worker
 * before epoll_ctl returns here, and the worker re-arms only what is
 * polled. */
static void poll_source(int fd, uint64_t id, const struct rv_source *src, bool *polling)
{
    struct epoll_event ev = source_event(id, src);
    *polling = true;
    if (epoll_ctl(rv__rt.sess_ep, EPOLL_CTL_ADD, fd, &ev) < 0)
        *polling = false;
}

static void rearm_source(int fd, uint64_t id, const struct rv_source *src)
{
    struct epoll_event ev = source_event(id, src);
    if (epoll_ctl(rv__rt.sess_ep, EPOLL_CTL_MOD, fd, &ev) < 0)
        rv__fail_stop("cannot re-arm a session");
}

void rv__rt_poll_session(rv_svc_session *s)
{
    if (s->chan) {
        if (!s->chan->polling)
            rv__rt_poll_channel(s->chan);
        return;
    }
    poll_source(s->fd, s->id, &s->src, &s->polling);
}

void rv__rt_rearm(rv_svc_session *s)
{
    rearm_source(s->fd, s->id, &s->src);
}

void rv__rt_poll_channel(struct rv_channel *ch)
{
    poll_source(ch->fd, RV_CHAN_EVENT | ch->id, &ch->src, &ch->polling);
}

void rv__rt_rearm_channel(struct rv_channel *ch)
{
    rearm_source(ch->fd, RV_CHAN_EVENT | ch->id, &ch->src);
}

/* A session that leaves the event loop's set may be freed while an event
 * of it is still in the batch, so its events there are struck out — only
 * its. (The workers' set names sessions by id, and a worker finds a
 * session gone by its id: workers.c.) Only the event loop's thread touches
 * the batch. */
struct epoll_event rv__rt_batch[64];
int rv__rt_batch_next, rv__rt_batch_len;

static void strike_from_batch(const struct rv_source *src)
{
    for (int i = rv__rt_batch_next; i < rv__rt_batch_len; i++)
        if (rv__rt_batch[i].data.ptr == src)
            rv__rt_batch[i].data.ptr = NULL;
}

static void unpoll_source(int fd, const struct rv_source *src, bool *polling)
{
    if (*polling) {
        epoll_ctl(rv__rt.sess_ep, EPOLL_CTL_DEL, fd, NULL);
        if (rv__rt.sess_ep == rv__rt.ep)
            strike_from_batch(src);
    }
    *polling = false;
}

/* A session of a shared channel was never polled itself: the channel,
 * which its other sessions still use, stays polled. */
void rv__rt_unpoll(rv_svc_session *s)
{
    unpoll_source(s->fd, &s->src, &s->polling);
}

void rv__rt_unpoll_channel(struct rv_channel *ch)
{
    unpoll_source(ch->fd, &ch->src, &ch->polling);
}

void rv__rt_client_gone(rv_svc_session *s)
{
    if (s->chan)
        rv__rt_unpoll_channel(s->chan);
    else
        rv__rt_unpoll(s);
}
