/* service.h — the supervisor: one struct service per manifest entry.
 *
 * A service runs as an active instance (instance.h), and optionally a hot
 * standby. revived learns of a death from the instance's pidfd, of a hang
 * from its watchdog (a request past request_timeout, a missed heartbeat, a
 * request left unserved), and answers both the same way: blame the culprit
 * request if there is one, apply the restart policy, and hand every session
 * to the next instance, the standby first. */
#ifndef RV_SERVICE_H
#define RV_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "loop.h"
#include "manifest.h"
#include "instance.h"
#include "status.h"
#include "wire.h"

struct session;
struct conn;
struct task;

enum svc_state { SVC_STARTING, SVC_READY, SVC_RECOVERING, SVC_FAILED, SVC_STOPPED };

struct service {
    const struct rv_service_conf *conf;
    enum svc_state state;
    struct instance *active;           /* serves the sessions; NULL while none runs */
    struct instance *standby;          /* waits to take over; NULL unless `standby = yes` */
    struct rv_handler watchdog_h, backoff_h;
    int watchdog_tfd, backoff_tfd;
    struct session *sessions;          /* bound and binding */
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
    char last_exit[128];
};

int services_init(const struct rv_manifest *m);
void services_fini(void);
struct service *service_find(const char *name);
size_t services_status(struct rv_wire_svc_status *out, size_t max);

/* Opens a session for task on behalf of connection c; replies on c. */
void service_open(struct service *svc, struct conn *c, struct task *task, const char *args);
void service_session_closed(struct session *s);
/* The session list (handover.c). */
struct session *service_session(struct service *svc, uint64_t id);
void service_link(struct service *svc, struct session *s);
void service_unlink(struct session *s);

/* Starts a standby if the manifest asks for one and none runs. */
void service_spawn_standby(struct service *svc);
/* Kills an instance for a reason revived found (a hang, a lie). */
void service_abort(struct instance *in, const char *why);
/* Kills an instance that cannot run as configured (its state does not fit
 * ssr_size); once the active one is refused, the service is failed with
 * `why` as its last exit rather than restarted into the same refusal. */
void service_refuse(struct instance *in, const char *why);
int service_kill(struct service *svc, int sig, char *why, size_t whylen);
int service_restart(struct service *svc, char *why, size_t whylen);

#endif
