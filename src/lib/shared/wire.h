/* wire.h — revive's wire protocol: one message per SOCK_SEQPACKET datagram.
 *
 * Every message starts with a fixed 24-byte header: magic, version, type,
 * payload length, and three fields whose meaning depends on the type (seq,
 * op, status). Descriptors travel as SCM_RIGHTS. The same framing is used on
 * all three channels:
 *   - session sockets (client <-> service, revived may post a notice),
 *   - the public socket (clients and revivectl <-> revived),
 *   - each service instance's control channel (service <-> revived).
 * rv__wire_recv() checks everything a peer controls (magic, version, the
 * length against the datagram size, descriptor counts) before anyone looks at
 * a payload, so a malformed message is an error, never a crash.
 */
#ifndef RV_WIRE_H
#define RV_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "revive/base.h"

#define RV_WIRE_MAGIC 0x5652u /* "RV" little-endian */
#define RV_WIRE_VERSION 1
#define RV_WIRE_MAX_BODY 16384 /* control payloads; session payloads stop at RV_MAX_PAYLOAD */
#define RV_WIRE_MAX_FDS 252   /* the kernel's SCM_MAX_FD is 253 */
#define RV_SLAB_MAX_RECORDS (1u << 24) /* sessions per service: a record's number fits 24 bits of an id */

struct rv_hdr {
    uint16_t magic;
    uint8_t version;
    uint8_t type;
    uint32_t len;      /* payload bytes after the header */
    uint64_t seq;
    uint32_t op;
    int32_t status;
};
_Static_assert(sizeof(struct rv_hdr) == 24, "wire header is 24 bytes");

enum rv_msg_type {
    /* session socket */
    RV_T_CALL = 1,          /* client: seq, op, request payload */
    RV_T_REPLY = 2,         /* service: seq, status, reply payload [+fd] */
    RV_T_NOTICE = 3,        /* revived: the session is over; status says why */
    RV_T_RESTARTED = 4,     /* revived: the service recovered; a waiting caller re-sends */
    /* public socket */
    RV_T_OPEN = 16,         /* op = RV_OPEN_SHARED [| RV_OPEN_MANY] or 0, payload: name NUL args NUL */
    RV_T_OPEN_OK = 17,      /* seq = session id, op = RV_OPEN_*, status = channel, + the session socket
                               (shared: a new channel's) */
    RV_T_ERROR = 18,        /* status + a sentence */
    RV_T_STATUS = 19,
    RV_T_STATUS_REPLY = 20, /* payload: struct rv_wire_svc_status[] */
    RV_T_KILL = 21,         /* op = signal, payload: name */
    RV_T_RESTART = 22,      /* payload: name */
    RV_T_OK = 23,
    RV_T_DS_PROVIDE = 24,   /* op = notifiers (0..2), payload: name NUL; + memfd, notifiers */
    RV_T_DS_ATTACH = 25,    /* op = ms to wait for a provider (capped), payload: name NUL */
    RV_T_DS_OK = 26,        /* op = notifiers, payload: u64 size; + memfd, lifeline, notifiers */
    RV_T_CLOSE = 27,        /* seq = the id of a session on the client's shared channel; OK */
    /* service control channel */
    RV_T_SVC_HELLO = 32,    /* service: struct rv_wire_svc_hello, then the system calls it asks for */
    RV_T_SVC_CONFIG = 33,   /* revived: struct rv_wire_svc_config + status page and slab fds [+ the RV_CONFIG_* ones] */
    RV_T_SESSIONS = 34,     /* revived: struct rv_wire_session[] + their fds (to a standby: adopt them) */
    RV_T_HANDOVER_END = 35, /* revived: every session has been handed over (a standby: promoted) */
    RV_T_SVC_READY = 36,    /* service: recovered, serving */
    RV_T_BIND = 37,         /* revived: op = n (1..RV_BIND_MAX), n rv_wire_session + their args (alike), + fds */
    RV_T_BIND_DONE = 38,    /* service: an rv_wire_opened per session of one BIND, in order */
    RV_T_UNBIND = 39,       /* revived: seq = session id (to a standby: forget it) */
    RV_T_STORE_FD = 40,     /* service: seq = session id, op = slot, + fd (revived forwards it to a standby) */
    RV_T_SESSION_LOST = 41, /* service: seq = session id, status, a sentence */
    RV_T_PING = 42,
    RV_T_PONG = 43,
    RV_T_SESSION_FLAGS = 44, /* revived, promoting a standby: rv_wire_session[] (no fds), their flags */
};

/* Protection of SSRs against wild writes; see docs/manifest.md. */
enum rv_ssr_protect { RV_PROTECT_NONE = 0, RV_PROTECT_CHECKSUM = 1, RV_PROTECT_MPROTECT = 2 };

/* What an instance says of itself before revived configures it. The
 * system calls it asks for follow (filter.h in revived): its runtime's,
 * a newline, its service's; blank-separated names. */
struct rv_wire_svc_hello {
    uint64_t state_size;    /* bytes of per-session state its code keeps (rv_service_ops.ssr_size) */
    uint32_t layout;        /* rv_service_ops.ssr_layout */
    uint32_t reserved;
};
_Static_assert(sizeof(struct rv_wire_svc_hello) == 16, "svc_hello has no padding");

/* rv_wire_svc_config's flags: which descriptors follow the status page and
 * the slab, in this order: the arena's memfd (arena_size != 0) and its
 * file, the image, the FUSE device, the fast path's doorbell (an eventfd,
 * ring.h), the seccomp filter (a sealed memfd of struct sock_filter, to
 * install once init has run). */
enum { RV_CONFIG_ARENA_FILE = 1u, RV_CONFIG_IMAGE = 2u, RV_CONFIG_FUSE = 4u, RV_CONFIG_FILTER = 8u,
       RV_CONFIG_DOORBELL = 16u };

struct rv_wire_svc_config {
    uint64_t ssr_size;
    uint32_t protect;
    uint32_t flags;         /* RV_CONFIG_* */
    uint64_t arena_size;    /* state = arena: the arena memfd follows the status page; else 0 */
    uint64_t mount_id;      /* with RV_CONFIG_FUSE: this run's mount, never 0 */
    uint64_t slab_records;  /* the slab's records (journal.h): the service's max_sessions */
    uint32_t max_request;   /* the largest request and reply its journals hold (<= RV_MAX_PAYLOAD) */
    uint32_t max_reply;
};
_Static_assert(sizeof(struct rv_wire_svc_config) == 48, "svc_config has no padding");

/* RV_SESS_SHARED: the session is one of a shared channel's (`channel`
 * names it), and its endpoint descriptor is that channel's: sent with the
 * first session of the channel an instance is given (RV_SESS_CHANNEL_FD),
 * never again while the instance holds a session of it. */
enum { RV_SESS_CULPRIT = 1u, RV_SESS_POISONED = 2u, RV_SESS_SHARED = 4u, RV_SESS_CHANNEL_FD = 8u,
       RV_SESS_RING = 16u /* its fast-path ring (ring.h) follows its socket */ };
enum { RV_SESS_CRASH_FLAGS = RV_SESS_CULPRIT | RV_SESS_POISONED };

/* OPEN_OK's op: the service keeps state for the session (state = ssr or
 * arena), so a session that ends has lost it (RV_ELOST), and re-opening it
 * is no repair unless the client restores what it had.
 *
 * RV_OPEN_SHARED, in OPEN's op: the client asks for a session on the one
 * channel its connection shares with the service, not a socket of its own
 * (client.h: rv_open_shared). In OPEN_OK's op: it got one; with
 * RV_OPEN_NEW_CHANNEL the channel is new and its socket comes along, else
 * the session is on the channel the connection got before. On a shared
 * channel each CALL names its session by its tag (the header's status;
 * rv__wire_tag), revived's notices name it by its id (their seq), and the
 * client closes one with a CLOSE to revived (a channel cannot close).
 * OPEN_OK's status is the channel's number.
 *
 * RV_OPEN_RING, in OPEN_OK's op: the session (one with a socket of its
 * own) has a fast path, and its ring and the service's doorbell follow
 * the socket (ring.h).
 *
 * RV_OPEN_MANY, with RV_OPEN_SHARED in OPEN's op: seq shared sessions at
 * once (1..RV_OPEN_MANY_MAX), so that opening many costs one message each
 * way. OPEN_OK's seq is then their count and its body an
 * rv_wire_opened for each, in order, followed by the sentence that says
 * why the first that failed did; RV_T_ERROR when none was opened. */
enum { RV_OPEN_KEEPS_STATE = 1u, RV_OPEN_SHARED = 2u, RV_OPEN_NEW_CHANNEL = 4u, RV_OPEN_MANY = 8u,
       RV_OPEN_RING = 16u };
#define RV_OPEN_MANY_MAX 1000

/* One session of an RV_OPEN_MANY: its id, or (status < 0) why it failed. */
struct rv_wire_opened {
    uint64_t id;
    int32_t status;
    uint32_t reserved;
};
_Static_assert(sizeof(struct rv_wire_opened) == 16, "wire opened has no padding");
_Static_assert(RV_OPEN_MANY_MAX * sizeof(struct rv_wire_opened) + 384 <= RV_WIRE_MAX_BODY,
               "an OPEN_OK of RV_OPEN_MANY_MAX sessions fits, with its sentence");

/* A session's tag on a shared channel: its slab record, from its id. */
static inline int32_t rv__wire_tag(uint64_t id)
{
    return (int32_t)(id & (RV_SLAB_MAX_RECORDS - 1));
}

/* One session in a hand-over or bind. Its descriptors follow in this order:
 * endpoint (not for a shared session whose channel's was sent before), its
 * ring (RV_SESS_RING), then one per set bit of stored_mask. Its SSR and journal are record `record`
 * of the service's slab. */
struct rv_wire_session {
    uint64_t id;
    uint64_t poison_seq;    /* with RV_SESS_POISONED: answer this seq with an error */
    uint32_t flags;
    uint32_t stored_mask;
    uint32_t uid, gid;      /* of the process that opened it (SO_PEERCRED) */
    uint32_t record;        /* its place in the slab */
    uint32_t channel;       /* with RV_SESS_SHARED: revived's number for its channel */
};
_Static_assert(sizeof(struct rv_wire_session) == 40, "wire session has no padding");

/* Sessions per BIND: sessions opened together (RV_OPEN_MANY) bind together. */
#define RV_BIND_MAX 256
_Static_assert(RV_BIND_MAX * sizeof(struct rv_wire_session) + RV_ARGS_MAX <= RV_WIRE_MAX_BODY,
               "a BIND of RV_BIND_MAX sessions fits, with the longest arguments");

struct rv_wire_svc_status {
    char name[RV_NAME_MAX];
    char state[16];
    char last_exit[224];
    int32_t pid;
    int32_t standby_pid;      /* 0: none */
    uint32_t restarts;
    uint32_t sessions;
    uint32_t recoveries;
    uint32_t standby_ready;   /* 1: the standby holds every session and may take over at once */
    uint64_t ssr_bytes;
    uint64_t last_recovery_us;
    uint64_t requests_failed; /* poisoned requests and lost sessions */
    char mount[128];          /* where its file system is mounted; "" for none */
};

struct rv_msg {
    struct rv_hdr hdr;
    uint8_t body[RV_WIRE_MAX_BODY];
    int fds[RV_WIRE_MAX_FDS];
    size_t nfds;
};

static inline size_t rv__wire_fds_of(const struct rv_wire_session *w)
{
    bool endpoint = !(w->flags & RV_SESS_SHARED) || (w->flags & RV_SESS_CHANNEL_FD);
    return endpoint + !!(w->flags & RV_SESS_RING) + (size_t)__builtin_popcount(w->stored_mask);
}

/* The signals `revivectl kill` may ask revived to send, in the order it
 * lists them: the one list revivectl parses and revived checks. */
extern const int rv__kill_signals[];
extern const size_t rv__nkill_signals;
/* Their names without "SIG", joined by ", ", into buf. */
const char *rv__kill_signal_list(char *buf, size_t len);

/* Sends one message. flags go to sendmsg (MSG_DONTWAIT). Returns 0 or -errno. */
int rv__wire_send(int sock, const struct rv_hdr *hdr, const void *payload,
                 const int *fds, size_t nfds, int flags);
/* Builds a header for rv__wire_send. */
struct rv_hdr rv__hdr_make(uint8_t type, uint64_t seq, uint32_t op, int32_t status, size_t len);

/* Receives and checks one message into m. Returns 1 for a message, 0 when the
 * peer closed, -EAGAIN, -EPROTO for a malformed message (its descriptors are
 * closed), or -errno. max_body bounds the accepted payload. */
int rv__wire_recv(int sock, struct rv_msg *m, size_t max_body, int flags);

/* Checks a received datagram of n bytes: the pure part of rv__wire_recv,
 * exposed for unit tests and the fuzzer. Returns 0 or -EPROTO. */
int rv__wire_check(const void *buf, size_t n, size_t max_body);

void rv__msg_close_fds(struct rv_msg *m);

/* Sends RV_T_ERROR with a sentence. */
int rv__wire_send_error(int sock, int32_t status, const char *text, int flags);

/* A SOCK_SEQPACKET connection (close-on-exec) to the socket at path, or -1
 * with errno (ENAMETOOLONG for a path sun_path cannot hold). */
int rv__wire_dial(const char *path);

#endif
