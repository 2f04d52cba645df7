/* service.h — the record revived keeps of each service of its manifest:
 * its instances (the active one, a standby), the sessions it holds for it,
 * its state and counters, and the two things anyone may do to an instance:
 * kill it for a reason revived found (a hang, a lie), or refuse it (its
 * state does not fit). When to start, restart or give up is the
 * supervisor's (supervisor.h), the conversation with an instance is the
 * hand-over's (handover.h), finding hangs is the watchdog's (watchdog.h). */
#ifndef RV_SERVICE_H
#define RV_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include "filter.h"
#include "held.h"
#include "instance.h"
#include "loop.h"
#include "manifest.h"
#include "slab.h"
#include "wire.h"

struct held_session;
struct held_channel;

enum svc_state { SVC_STARTING, SVC_READY, SVC_RECOVERING, SVC_FAILED, SVC_STOPPED };

struct service {
    const struct rv_service_conf *conf;
    enum svc_state state;
    struct instance *active;           /* serves the sessions; NULL while none runs */
    struct instance *standby;          /* waits to take over; NULL unless `standby = yes` */
    struct instance *dying;            /* former active instances whose death was handled
                                          before their exit was reaped (supervisor.c) */
    struct rv_handler watchdog_h, backoff_h;
    int watchdog_tfd, backoff_tfd;
    struct held_session *sessions;     /* bound and binding */
    TAILQ_HEAD(, held_session) unsent; /* binding, waiting for their BIND, oldest first (service_queue_bind) */
    struct held_session **by_record;   /* the session in each slab record (service_session) */
    struct held_channel *channels;     /* the shared channels its sessions use (channel.h) */
    unsigned nsessions;
    uint64_t ssr_bytes;
    unsigned restarts, recoveries, fast_crashes;
    uint64_t *restart_ns;              /* ring of the last max_restarts restart times */
    unsigned restart_ring_pos;
    uint64_t crash_ns, last_recovery_us, requests_failed;
    uint64_t stall_scan_ns;            /* last scan for unserved requests */
    bool restart_requested;            /* revivectl restart: not a failure */
    bool pacing;                       /* the backoff runs: no process starts before it ends */
    bool refused;                      /* the active instance was refused (service_refuse) */
    int arena_fd;                      /* state = arena: held for revived's whole run; else -1 */
    int arena_file_fd;                 /* arena_file: its durable copy, locked; else -1 */
    int doorbell;                      /* fast_path: the page its clients ring (ring.h); else -1 */
    struct rv_doorbell *bell;          /* and mapped, for the stall check to ring too */
    struct held held;                  /* its image, its FUSE device and mount */
    struct slab slab;                  /* every session's SSR and journal */
    struct filter_cache filter;        /* its instances' seccomp filter, compiled once */
    char last_exit[224];
};

/* One record per service of m, nothing started; -1 when out of memory.
 * services_destroy frees them (their descriptors are the supervisor's). */
int services_create(const struct rv_manifest *m);
void services_destroy(void);
size_t services_count(void);
struct service *service_at(size_t i);
struct service *service_find(const char *name);
size_t services_status(struct rv_wire_svc_status *out, size_t max);
const char *service_state_name(enum svc_state state);
/* Appends to the last exit's description (" in session 7"). */
void service_note_exit(struct service *svc, const char *note);

/* What an instance is configured with (SVC_CONFIG) and the descriptors
 * that go with it, fds[0] left for its status page, room left for the
 * seccomp filter; returns their count. */
#define SERVICE_CONFIG_FDS 8
size_t service_config(const struct service *svc, struct rv_wire_svc_config *cfg, int fds[SERVICE_CONFIG_FDS]);

/* The sessions revived holds for the service. */
struct held_session *service_session(struct service *svc, uint64_t id);
void service_link(struct service *svc, struct held_session *s);
/* Also takes s off the queue of sessions waiting for their BIND. */
void service_unlink(struct held_session *s);
/* Queues a binding session for its BIND (at the tail; once only) and
 * takes it off again: handover.c sends from the head as the active
 * instance has room. */
void service_queue_bind(struct held_session *s);
void service_dequeue_bind(struct held_session *s);

/* Kills an instance for a reason revived found (a hang, a lie); for the
 * active one, `why` becomes the last exit and no session is its culprit
 * unless the caller blames one after. */
void service_abort(struct instance *in, const char *why);
/* Kills an instance that cannot run as configured (its state does not fit
 * ssr_size); once the active one is refused, the service is failed with
 * `why` as its last exit rather than restarted into the same refusal. */
void service_refuse(struct instance *in, const char *why);

#endif
