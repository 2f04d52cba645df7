/* supervisor.h — the life cycle of every service (supervisor.c): start
 * them, restart them by their policy, give up on them, and do what clients
 * and revivectl ask: open a session, kill, restart. */
#ifndef RV_SUPERVISOR_H
#define RV_SUPERVISOR_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include "manifest.h"

struct service;
struct conn;

/* Creates every service's record and starts its first instance. */
int supervisor_init(const struct rv_manifest *m);
/* Kills every instance, frees every session and record. */
void supervisor_fini(void);

/* Opens count sessions on behalf of connection c, charged to its user;
 * replies on c, now (an error) or once the service has bound them. flags
 * are OPEN's (wire.h): RV_OPEN_SHARED, on the one channel c shares with
 * the service; RV_OPEN_MANY, count of them answered at once. */
void service_open(struct service *svc, struct conn *c, const char *args, uint32_t flags, uint32_t count);
/* revivectl kill: sends sig (one of rv__kill_signals) to the active instance. */
int service_kill(struct service *svc, int sig, char *why, size_t whylen);
/* revivectl restart: a new process at a request boundary (an upgrade), or
 * the start of a failed service. */
int service_restart(struct service *svc, char *why, size_t whylen);

#endif
