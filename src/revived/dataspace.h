/* dataspace.h — shared memory one task provides to others, through revived.
 *
 * A provider hands revived a memfd (and up to two notifier eventfds) under
 * a name (RV_T_DS_PROVIDE); revived keeps its own copies for as long as the
 * provider's connection stays open. A consumer attaches by name
 * (RV_T_DS_ATTACH) and gets the memfd, the notifiers and a lifeline: one
 * end of a socketpair whose other end revived keeps. When the provider's
 * connection closes — it died or hung up — revived withdraws the dataspace
 * and closes its end of every lifeline, so every consumer sees POLLHUP at
 * once: that is how a consumer learns that its mapping went stale, without
 * asking. An attach that finds no provider waits (up to the time it asked
 * for, at most a minute) and is answered when one appears.
 *
 * Names are resolved in the connection's name space (namespace.h), and
 * then belong to a scope: every user has its own, and root and revived's
 * own user share the trusted one. A provider's name is taken only in its
 * scope, so no user can squat a name another user's provider needs; a
 * consumer attaches to a dataspace of its own scope or, if there is none,
 * of the trusted scope, never to one of another unprivileged user.
 * What a provider or consumer makes revived hold is charged to its user
 * (account.h). A closing connection (conn.h's close hook, which dataspace_init sets)
 * withdraws what it provides and forgets its waiting attaches. */
#ifndef RV_DATASPACE_H
#define RV_DATASPACE_H

#include <stddef.h>
#include <stdint.h>

struct conn;

#define DS_MAX_NOTIFIERS 2
#define DS_MAX_WAIT_MS 60000

int dataspace_init(void);
void dataspace_fini(void);

/* RV_T_DS_PROVIDE: takes the descriptors (closing them if it refuses) and
 * replies RV_T_OK or RV_T_ERROR on c. */
void dataspace_provide(struct conn *c, const char *name, uint32_t notifiers, int *fds, size_t nfds);
/* RV_T_DS_ATTACH: replies RV_T_DS_OK or RV_T_ERROR on c, now or later. */
void dataspace_attach(struct conn *c, const char *name, uint32_t wait_ms);

#endif
