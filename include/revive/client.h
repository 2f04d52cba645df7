/* revive/client.h — the client side of revive.
 *
 * A client connects to revived, opens a session with a service by name, and
 * calls it. A call is exactly-once: if the service crashes while handling it,
 * revived restarts the service, which rolls the session's state back and
 * re-runs the request; the caller only sees latency. If the service cannot
 * come back (it failed, or the request keeps crashing it), the call returns a
 * clear error instead of blocking forever.
 *
 *     rv_conn *c;  rv_session *s;
 *     rv_connect(NULL, &c);
 *     rv_open(c, "random", "seed=42", &s);
 *     rv_call(s, OP, req, len, reply, sizeof reply, &reply_len);
 *     rv_close(s);  rv_disconnect(c);
 *
 * A session is independent of the connection once open: rv_disconnect()
 * keeps the session alive until rv_close() (the connection itself stays
 * open while a session may need to be re-opened through it).
 * Not thread-safe per handle: use one session per thread, or a lock.
 *
 * Sessions are capabilities (revive/cap.h): one whose service cannot keep
 * it (`state = stateless` restarted, the service failed) is re-opened by
 * librevive and the call retried, or the call reports why it cannot be.
 *
 * A program revived starts from a `[task]` section finds its name-space
 * channel in REVIVE_NS_FD: rv_connect(NULL, ...) uses it, and names resolve
 * through the task's `names` mapping.
 */
#ifndef REVIVE_CLIENT_H
#define REVIVE_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include "revive/base.h"


typedef struct rv_conn rv_conn;
typedef struct rv_session rv_session;

/* The socket path revive uses when none is given: $REVIVE_SOCKET, else
 * $XDG_RUNTIME_DIR/revive/revived.sock, else /run/revive/revived.sock.
 * Writes into buf (at least 108 bytes). */
const char *rv_default_socket(char *buf, size_t len);
/* revive's own runtime directory, which revived creates if it is missing:
 * $XDG_RUNTIME_DIR/revive, else /run/revive. Writes into buf. */
const char *rv_runtime_dir(char *buf, size_t len);

/* Connects to revived at path (NULL: the default). */
int rv_connect(const char *path, rv_conn **out);
void rv_disconnect(rv_conn *conn);

/* The sentence revived sent with the last failed rv_open on conn. */
const char *rv_conn_error(const rv_conn *conn);

/* Opens a session with service `name`; args (may be NULL) go to its bind
 * hook. Waits while the service is starting or recovering. */
int rv_open(rv_conn *conn, const char *name, const char *args, rv_session **out);

/* As rv_open, on the one channel this connection shares with the service
 * instead of a socket of the session's own: for a process that holds many
 * sessions (thousands to 100,000) with one service, none of which costs a
 * descriptor here, in revived or in the service. Each keeps its own
 * state, exactly-once calls and failures; calls on sessions that share a
 * channel take turns (one is in flight at a time), and rv_session_fd is
 * the channel's. Such a session is not a capability of its own
 * (revive/cap.h): one that a stateless service revoked is re-opened on the
 * connection; one whose state is lost says RV_ELOST. */
int rv_open_shared(rv_conn *conn, const char *name, const char *args, rv_session **out);

/* Opens n sessions as rv_open_shared, into out[0..n-1], asking revived for
 * up to 1,000 at a time in one message (the service binds them in one
 * wake-up): for a process that opens thousands at once. All or nothing:
 * when one cannot be opened, those opened are closed again and the first
 * failure's code is returned (rv_conn_error says why). */
int rv_open_shared_many(rv_conn *conn, const char *name, const char *args, size_t n, rv_session **out);

/* Calls the service: op and req go to its handler; the reply (at most
 * reply_cap bytes) comes back. Returns the handler's status (0, or a
 * negative code; handler errors are RV_EAPP or RV_EAPP_BASE and below). */
int rv_call(rv_session *s, uint32_t op, const void *req, size_t req_len,
            void *reply, size_t reply_cap, size_t *reply_len);

/* As rv_call, and also receives a descriptor the reply carries (*fd = -1 if
 * none). The caller owns it. */
int rv_call_fd(rv_session *s, uint32_t op, const void *req, size_t req_len,
               void *reply, size_t reply_cap, size_t *reply_len, int *fd);

/* The session's socket, for poll(); readable means a reply or a notice
 * (on a shared channel, for any of its sessions). */
int rv_session_fd(const rv_session *s);

/* The sentence a failed call left behind (revived's or the service's
 * explanation), or rv_strerror's when there is none. */
const char *rv_session_error(const rv_session *s);

void rv_close(rv_session *s);

#endif
