/* conn.h — a connection to revived: a client (or revivectl) on the public
 * socket, or a task revived started, on its name-space channel.
 *
 * Each is charged to its user's account (SO_PEERCRED, or the loader's word
 * for a task it started; see account.h). Every request gets exactly one reply; an open may be
 * answered later (once the service has bound the session), which is why a
 * connection is reference-counted by the sessions still opening on it, the
 * dataspaces it provides and the attaches it waits for. A client that does
 * not read its replies loses its connection, not everyone else's service.
 *
 * What arrives on a connection is the caller's (control.c reads and
 * dispatches it); what a closing connection leaves behind is told to one
 * hook (dataspace.c's). */
#ifndef RV_CONN_H
#define RV_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "manifest.h"
#include "wire.h"

struct conn;
struct account;

/* Starts closing connections that send nothing for idle_ms (0: never). */
int conn_init(uint64_t idle_ms);
/* A connection for the process pid of user uid, group gid on fd; on_event
 * gets its epoll events. NULL (fd closed) if it cannot be set up or its
 * user is over a limit (it is told why first). */
struct conn *conn_new(int fd, pid_t pid, uid_t uid, gid_t gid, void (*on_event)(struct conn *c, uint32_t events));
/* Who is at the other end, as the kernel said when it connected. */
void conn_cred(const struct conn *c, uid_t *uid, gid_t *gid);
/* Whether gid is its primary or one of its supplementary groups. */
bool conn_in_group(const struct conn *c, gid_t gid);
/* It has said something: it is not idle. */
void conn_heard(struct conn *c);
/* The task name space its names resolve in (NULL: the identity one). */
void conn_set_ns(struct conn *c, const struct rv_task_conf *ns);
/* Closes the connection (if it is still open); references stay valid. */
void conn_close(struct conn *c);
void conn_close_all(void);
/* The one hook told of every connection that closes. */
void conn_on_close(void (*hook)(struct conn *c));

struct conn *conn_get(struct conn *c);
void conn_put(struct conn *c);
int conn_fd(const struct conn *c);
struct account *conn_account(const struct conn *c);
const struct rv_task_conf *conn_ns(const struct conn *c);
pid_t conn_pid(const struct conn *c);
/* root or revived's own user: may kill and restart services. */
bool conn_privileged(const struct conn *c);

/* Sends one reply; a client that does not read loses its connection. */
void conn_reply(struct conn *c, const struct rv_hdr *h, const void *body, const int *fds, size_t nfds);
void conn_reply_ok(struct conn *c);
void conn_reply_error(struct conn *c, int32_t status, const char *why);

#endif
