/* runtime.h — the server runtime's internal state, shared by server.c (the
 * instance: start-up, event loop, control channel) and serve.c (one session:
 * mapping, requests, commit, recovery). Not a public header. */
#ifndef RV_RUNTIME_H
#define RV_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>
#include "revive/server.h"
#include "journal.h"
#include "status.h"
#include "wire.h"

enum rv_source_kind { RV_SRC_CTL, RV_SRC_SESSION, RV_SRC_WATCH, RV_SRC_SIGNAL };

struct rv_source {
    enum rv_source_kind kind;
};

struct rv_sess {
    struct rv_source src;
    uint64_t id;
    int fd;                     /* session endpoint (server end) */
    struct rv_ssr_hdr *ssr;
    size_t ssr_len;
    struct rv_journal *j;
    size_t j_len;
    int stored[RV_MAX_STORED_FDS];
    uint32_t flags;             /* RV_SESS_* from the hand-over */
    uint64_t poison_seq;
    bool polling;               /* registered in the epoll set */
    bool in_worker;             /* queued for or served by a worker (workers.c) */
    bool doomed;                /* revived unbound it meanwhile: the worker unbinds */
    void *data;
};

struct rv_runtime {
    const struct rv_service_ops *ops;
    int ctl;                    /* control channel to revived */
    int ep;
    struct rv_status_page *status;
    uint64_t ssr_size;
    enum rv_ssr_protect protect;
    rv_sess **sess;
    size_t nsess, capsess;
    const char *name;           /* for log lines */
};

extern struct rv_runtime rv_rt;
/* The request whose handler runs on this thread, if any. */
extern __thread rv_request *rv_rt_serving;

/* serve.c */
rv_sess *rv_sess_attach(const struct rv_wire_session *w, const int *fds, char *why, size_t whylen);
void rv_sess_detach(rv_sess *s);
int rv_sess_bind(rv_sess *s, const char *args);
bool rv_sess_recover(rv_sess *s, char *why, size_t whylen);
bool rv_sess_in_flight(rv_sess *s);
void rv_sess_rerun(rv_sess *s);
void rv_sess_resend_reply(rv_sess *s);
void rv_sess_on_readable(rv_sess *s);
void rv_sess_open_ssr(rv_sess *s);           /* make s's SSR the writable one */
void rv_ssr_close_open(void);                 /* no SSR writable */
/* Closes the open SSR and gives every SSR `prot` while none is open. */
void rv_ssr_rest_all(rv_sess **all, size_t n, int prot);

/* server.c */
void rv_rt_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rv_rt_set_busy(uint64_t session, uint64_t seq);
extern __thread unsigned rv_rt_slot;   /* this thread's status-page busy slot */
void rv_rt_report_lost(rv_sess *s, int status, const char *why);
void rv_rt_unpoll(rv_sess *s);
void rv_rt_rearm(rv_sess *s);         /* one-shot again, after a worker served it */
void rv_rt_unbind(rv_sess *s);        /* the unbind hook, then detach */

/* workers.c */
int rv_workers_start(unsigned n);
bool rv_workers_on(void);
void rv_workers_submit(rv_sess *s);
/* True if a worker has s: it will unbind s when done. */
bool rv_workers_defer_unbind(rv_sess *s);
/* The runtime found its own state broken (a corrupted value, a message it
 * cannot have been sent): it dies with a crash record rather than carry on
 * wrong or silent, and revived restarts it from the journals. */
void rv_rt_fail_stop(const char *why) __attribute__((noreturn));
/* A fault the recovery domains cannot undo (tier 1 escalates): the crash
 * record names the request being served, then the process dies by sig. */
void rv_rt_escalate(int sig) __attribute__((noreturn));

#endif
