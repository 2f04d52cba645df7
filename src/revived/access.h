/* access.h — who may open sessions with a service.
 *
 * The manifest's `users` key lists the users (by name or number) and
 * @groups admitted to a service, or `*` for every local user. Without it a
 * service admits revived's own user and root only: a service is not open
 * to every account on the machine unless someone said so. The manifest's
 * own services are always admitted: they run as users of their own
 * (the sandbox), and one may be another's client (fs on blk). Groups count by
 * the peer's primary group and its supplementary groups, as the kernel
 * reported them when it connected (SO_PEERCRED, SO_PEERGROUPS). */
#ifndef RV_ACCESS_H
#define RV_ACCESS_H

#include <stddef.h>
#include "manifest.h"

struct conn;

/* The manifest whose services are always admitted; it outlives revived's loop. */
void access_init(const struct rv_manifest *m);

/* 0 if c's user may open sessions with the service; else -1 and a
 * sentence in why naming the key that would let it in. */
int access_check_open(const struct rv_service_conf *conf, const struct conn *c, char *why, size_t len);

#endif
