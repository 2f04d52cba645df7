/* control.h — revived's public socket: where clients open sessions and
 * revivectl asks for status, kills and restarts.
 *
 * Each accepted connection is identified by SO_PEERCRED and bound to its
 * task. Every request gets exactly one reply; an open may be answered later
 * (once the service has bound the session), which is why a connection is
 * reference-counted by the sessions still opening on it (and by the
 * dataspaces it provides and the attaches it waits for).
 *
 * A task revived starts (loader.h) gets a connection too, over a socketpair
 * instead of the public socket: an ordinary connection, except that names
 * are resolved in the task's name space (namespace.h) and it may not kill
 * or restart services. */
#ifndef RV_CONTROL_H
#define RV_CONTROL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "manifest.h"
#include "wire.h"

struct conn;
struct session;

/* Binds and listens at path; refuses if another revived answers there. */
int control_init(const char *path, char *why, size_t whylen);
void control_fini(void);

/* A connection over fd (revived's end of a socketpair) for the task `ns`
 * runs as process pid. Returns it with a second reference, the caller's,
 * or NULL (fd closed) if it cannot be set up. */
struct conn *conn_adopt(int fd, pid_t pid, const struct rv_task_conf *ns);
/* Closes the connection (if it is still open); references stay valid. */
void conn_close(struct conn *c);

void conn_put(struct conn *c);
struct conn *conn_get(struct conn *c);
/* The task name space names resolve in (NULL: the identity one), and the
 * process on the other end. */
const struct rv_task_conf *conn_ns(const struct conn *c);
pid_t conn_pid(const struct conn *c);
/* Sends one reply; a client that does not read loses its connection. */
void conn_reply(struct conn *c, const struct rv_hdr *h, const void *body, const int *fds, size_t nfds);
/* Hands a session's client end to the opener; flags are RV_OPEN_*. */
void conn_reply_open(struct conn *c, uint64_t id, int client_fd, uint32_t flags);
void conn_reply_error(struct conn *c, int32_t status, const char *why);

#endif
