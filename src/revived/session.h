/* session.h — one client's session with one service, as revived holds it
 * (struct held_session; the client's handle is librevive's rv_session, the
 * service's its rv_svc_session).
 *
 * revived owns everything that must outlive a service instance: the server
 * end of the session socket, the session's SSR and journal (a record of the
 * service's slab, slab.h), and the descriptors the service stored. The client holds only its end of the
 * socket; it never sees the SSR or the journal. revived polls the server
 * end for hang-up only (never for requests, which go straight to the
 * service), so it learns when the client is gone without sitting in the
 * data path: it tells the session's owner (the supervisor) through the
 * hook the session was created with. */
#ifndef RV_SESSION_H
#define RV_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>
#include "loop.h"
#include "manifest.h"
#include "slab.h"
#include "revive/server.h"
#include "wire.h"

struct service;
struct account;
struct conn;
struct held_channel;
struct opening;

enum session_state { SESS_BINDING, SESS_BOUND };

struct held_session {
    struct rv_handler hup;      /* client end closed */
    uint64_t id;
    const struct rv_service_conf *conf;
    struct service *svc;        /* the owner's: never looked into here */
    void (*on_hangup)(struct held_session *s);
    struct account *account;
    uid_t uid;                  /* the opener's credentials, for the service */
    gid_t gid;
    pid_t client_pid;           /* the process that opened it (a service's instance, for fs on blk) */
    struct opening *opening;    /* the OPEN waiting for it, while binding (opening.h) */
    uint32_t opening_slot;      /* its place in that OPEN's answer */
    uint64_t bind_sent_to;      /* the serial of the instance last sent its BIND */
    bool abandoned;             /* its client went while its BIND was out: unbound once confirmed */
    bool unsent;                /* binding, queued until the active instance has room (handover.c) */
    TAILQ_ENTRY(held_session) unsent_link;
    enum session_state state;
    int server_fd, client_fd;   /* client_fd only until handed to the opener; both -1 on a shared channel */
    int ring_fd;                /* its fast-path ring (ring.h); -1: none */
    const struct rv_ring *ring; /* read-only view of it, for the stall check; NULL: none */
    int doorbell;               /* with a ring: the service's doorbell (not its own) */
    struct held_channel *chan;  /* its shared channel (channel.h); NULL: the socket pair is its own */
    struct held_session *chan_next, *chan_prev;
    struct slab *slab;          /* the service's */
    uint32_t record;            /* this session's SSR and journal in it */
    uint64_t unbind_upto;       /* its UNBIND was the active instance's message number this; 0: none sent */
    int stored[RV_MAX_STORED_FDS];
    uint64_t charged;
    char *args;
    const struct rv_journal *journal;  /* read-only view, for the stall check */
    uint64_t stall_since_ns;    /* a request has been pending since, without progress ... */
    uint64_t stall_done;        /* ... past this completed seq */
    uint64_t stall_posted;      /* ... with this call in its ring ... */
    uint64_t stall_scans;       /* ... and its instance's looks at the rings at this count */
    uint64_t crash_seq;         /* the request last blamed for a crash ... */
    unsigned crash_count;       /* ... and how often */
    bool culprit;               /* blamed for the latest crash */
    bool maybe_lost;            /* the instance died inside a recv of it: see journal.h */
    struct held_session *next, *prev;
};

/* Creates the socketpair (or joins the shared channel chan, if not NULL),
 * and, for a socket of its own when doorbell >= 0 (the service's fast
 * path), its ring; takes a record of the slab (ctl_done: see slab_take) and
 * charges the account; on_hangup runs when the socket's other end closes.
 * On failure returns NULL with an RV_E* code in *err and a sentence in why. */
struct held_session *session_create(const struct rv_service_conf *conf, struct service *owner, struct slab *slab,
                                    uint64_t ctl_done, struct account *account, struct held_channel *chan,
                                    int doorbell, const char *args, void (*on_hangup)(struct held_session *s),
                                    int *err, char *why, size_t whylen);
void session_destroy(struct held_session *s);
/* Posts a notice to the client (or answers for it to its opener), shuts the socket
 * so every later call fails too, and destroys the session. */
void session_fail(struct held_session *s, int status, const char *why);
/* Where a session's record goes: the instance's serial, the number its
 * control message will have there, and whether the instance surely holds
 * the session once it reads it (a hand-over) or only if it binds it. */
struct session_dest {
    uint64_t serial, msg;
    bool sure;
};
/* The most descriptors session_wire gives one session: its socket (or
 * channel's), its ring, what the service stored. */
#define SESSION_MAX_FDS (2 + RV_MAX_STORED_FDS)
/* Fills the hand-over record and its descriptors for the instance to
 * (NULL: a record without descriptors); returns how many. */
size_t session_wire(const struct held_session *s, struct rv_wire_session *w, int *fds, const struct session_dest *to);
/* Posts a message of revived's (NOTICE, RESTARTED) to the session's
 * client: seq names the session on a shared channel. */
void session_post(const struct held_session *s, uint8_t type, int32_t status, const char *text);
/* The client went while the instance binds s: its opener is answered and
 * it leaves its channel, but s stays until the instance confirms the bind. */
void session_abandon(struct held_session *s, const char *why);
void session_blame(struct held_session *s, uint64_t seq);
/* What of the session waits for the service: nothing; a call posted in
 * its ring and not answered; or a request queued on its socket, or taken
 * into the journal and not completed. *done gets the last completed seq.
 * The journal and the ring are the service's and the client's to write:
 * read as claims, bounds from the manifest. */
enum session_wait { WAITS_NOTHING, WAITS_IN_RING, WAITS_QUEUED };
enum session_wait session_waiting(const struct held_session *s, uint64_t *done);
/* The seq of the call the session's ring holds; 0: it has no ring. */
uint64_t session_ring_posted(const struct held_session *s);
/* Whether the service instance, now dead, died inside a recv of this
 * session's next request (journal.h: receiving). A claim of the service's:
 * a lie costs its client one re-sent request, answered from the journal. */
bool session_died_receiving(const struct held_session *s);
/* Keeps a descriptor the service stored, replacing the slot's old one. */
void session_store_fd(struct held_session *s, unsigned slot, int fd);

#endif
