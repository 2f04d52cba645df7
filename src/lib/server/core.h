/* core.h — the server runtime's shared state, below everything else of it
 * but fail.h: the instance's record (rv__rt), the session record, the busy
 * slots and crash record of the status page, and the epoll set that the
 * event loop (server.c), the session code (serve.c) and the workers
 * (workers.c) all register sessions in. Not a public header. */
#ifndef RV_CORE_H
#define RV_CORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include "fail.h"
#include "journal.h"
#include "revive/server.h"
#include "status.h"
#include "wire.h"

enum rv_source_kind { RV_SRC_CTL, RV_SRC_SESSION, RV_SRC_CHANNEL, RV_SRC_WATCH, RV_SRC_SIGNAL };

/* What an epoll event's data points at. */
struct rv_source {
    enum rv_source_kind kind;
};

/* A shared channel (wire.h: RV_OPEN_SHARED): one socket that carries many
 * sessions of one client, polled in their place (channel.c). */
struct rv_channel {
    struct rv_source src;
    uint32_t id;                /* revived's number for it */
    int fd;
    unsigned refs;              /* its sessions here */
    bool polling;               /* registered in the epoll set */
    bool in_worker;             /* a worker reads it (workers.c) */
    struct rv_channel *next;    /* in its bucket of the channel table */
};

/* A session as the service instance holds it (the service's handle to it is
 * this, opaque). */
struct rv_svc_session {
    struct rv_source src;
    uint64_t id;
    int fd;                     /* session endpoint (server end), or its channel's */
    struct rv_channel *chan;    /* its shared channel; NULL: the socket is its own */
    uint32_t record;            /* its SSR and journal in the slab */
    size_t pos;                 /* in rv__rt.sess */
    struct rv_ssr_hdr *ssr;
    struct rv_journal *j;
    int stored[RV_MAX_STORED_FDS];
    uint32_t flags;             /* RV_SESS_* from the hand-over */
    uint64_t poison_seq;
    uint32_t uid, gid;          /* the opener's, from revived */
    bool polling;               /* registered in the epoll set */
    bool in_worker;             /* served by a worker (workers.c) */
    bool unchecked;             /* quiescent at the restart: recovered when next used */
    bool lost;                  /* its state was found lost: revived unbinds it */
    struct rv_ring *ring;       /* its fast path (ring.h), mapped; NULL: none */
    void *data;
};

struct rv_runtime {
    const struct rv_service_ops *ops;
    int ctl;                    /* control channel to revived */
    int ep;                     /* the event loop's epoll set */
    int sess_ep;                /* where sessions are polled: ep, or the workers' own set (workers.c) */
    struct rv_status_page *status;
    struct rv_journal_shape shape;  /* ssr_size, and the largest request and reply (journal.h) */
    enum rv_ssr_protect protect;
    bool workers;               /* requests are served on the pool (workers.c) */
    int image_fd, fuse_fd;      /* rv_service_fd's; -1: none */
    uint64_t mount_id;          /* revived's name for the mount fuse_fd serves */
    struct rv_slab_geom slab;   /* journal.h */
    uint8_t *slab_ssrs;         /* the slab's SSR area, mapped once */
    uint8_t *slab_journals;     /* and its journal area */
    rv_svc_session **sess;      /* every session, in no order */
    size_t nsess, capsess;
    rv_svc_session **by_record; /* the session in each slab record, or NULL */
    uint64_t ctl_done;          /* control messages handled in full (status.h) */
    int doorbell;               /* the fast path's (ring.h), served by its thread (fastpath.c); -1: none */
};

extern struct rv_runtime rv__rt;
/* The request whose handler runs on this thread, if any. */
extern __thread rv_request *rv__rt_serving;
/* This thread's busy slot in the status page: 0 for the event loop's
 * thread, 1.. for workers. */
extern __thread unsigned rv__rt_slot;

/* This thread serves (session, seq) from now; (0, 0): nothing. */
void rv__rt_set_busy(uint64_t session, uint64_t seq);
/* The crash record, from a fault handler: only stores. "self": the fault
 * came from the process itself, not a signal another sent. */
void rv__rt_record_crash(int sig, int code, uint64_t addr, bool self);
/* A fault the recovery domains cannot undo (tier 1 escalates): the crash
 * record names the request being served, then the process dies by sig. */
void rv__rt_escalate(int sig) __attribute__((noreturn));
/* Tells revived the session's state is lost (it fails that session alone). */
void rv__rt_report_lost(rv_svc_session *s, int status, const char *why);

/* The session with this id, or NULL. Its slab record is in the id's low
 * bits (revived's session.c), so it is found in one step. */
rv_svc_session *rv__rt_sess_find(uint64_t id);

/* ---- the lock workers take (workers.c) ----
 * Around every change to what workers look up (rv__rt.by_record, the
 * channel table) and to in_worker flags; `done` is signalled when a worker
 * lets go of what it held. Here, below both, so that the tables and the
 * pool need not call each other. */
void rv__rt_lock(void);
void rv__rt_unlock(void);
/* Under the lock: a worker let go of something. */
void rv__rt_let_go(void);
/* Under the lock: sleeps until one does (the lock released meanwhile). */
void rv__rt_wait_let_go(void);
/* Returns once *in_worker is false (read under the lock). */
void rv__rt_await(const bool *in_worker);

/* ---- the epoll sets ---- */

int rv__rt_poll_add(int fd, struct rv_source *src);
/* Single-threaded, sessions are polled in the event loop's set, the event
 * naming the session; with workers, in the workers' set, one-shot, the
 * event naming the session's id (workers.c says why). */
void rv__rt_poll_session(rv_svc_session *s);
void rv__rt_unpoll(rv_svc_session *s);
void rv__rt_rearm(rv_svc_session *s);         /* one-shot again, after a worker served it */
/* The client is gone (its socket closed): stop polling what it used. */
void rv__rt_client_gone(rv_svc_session *s);
/* The same for a shared channel: polled once, for all its sessions; in
 * the workers' set its event names it by id with RV_CHAN_EVENT set. */
#define RV_CHAN_EVENT (1ull << 63)
void rv__rt_poll_channel(struct rv_channel *ch);
void rv__rt_unpoll_channel(struct rv_channel *ch);
void rv__rt_rearm_channel(struct rv_channel *ch);
/* The events the event loop is working through (server.c fills it). */
extern struct epoll_event rv__rt_batch[64];
extern int rv__rt_batch_next, rv__rt_batch_len;

#endif
