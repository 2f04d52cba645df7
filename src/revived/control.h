/* control.h — revived's public socket: where clients open sessions and
 * revivectl asks for status, kills and restarts. It listens, accepts (each
 * connection identified by SO_PEERCRED, conn.h), and reads and dispatches
 * every request: to the supervisor (open, kill, restart), the service
 * records (status) and the dataspaces (provide, attach).
 *
 * A task revived starts (loader.h) gets a connection too, over a socketpair
 * instead of the public socket: an ordinary connection, except that names
 * are resolved in the task's name space (namespace.h) and it may not kill
 * or restart services. */
#ifndef RV_CONTROL_H
#define RV_CONTROL_H

#include <stddef.h>
#include <sys/types.h>
#include "manifest.h"

struct conn;
struct rv_msg;

/* Binds and listens at path, a socket file of the given mode and group
 * ((gid_t)-1: revived's own); refuses if another revived answers there. */
int control_init(const char *path, unsigned mode, gid_t group, char *why, size_t whylen);
/* Closes every connection (which withdraws every dataspace) and the socket. */
void control_fini(void);

/* A connection over fd (revived's end of a socketpair) for the task `ns`
 * runs as process pid. Returns it with a second reference, the caller's,
 * or NULL (fd closed) if it cannot be set up. */
struct conn *control_adopt(int fd, pid_t pid, const struct rv_task_conf *ns);

/* Answers one request that arrived on c and passed rv__wire_recv's checks
 * (the framing), taking its descriptors. The connection's reader calls it
 * for every message; so does the fuzz harness of revived's control
 * dispatch (tests/fuzz/fuzz_control.c), which builds messages in memory. */
void control_dispatch(struct conn *c, struct rv_msg *m);

#endif
