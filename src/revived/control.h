/* control.h — revived's public socket: where clients open sessions and
 * revivectl asks for status, kills and restarts.
 *
 * Each accepted connection is identified by SO_PEERCRED and bound to its
 * task. Every request gets exactly one reply; an open may be answered later
 * (once the service has bound the session), which is why a connection is
 * reference-counted by the sessions still opening on it. */
#ifndef RV_CONTROL_H
#define RV_CONTROL_H

#include <stddef.h>
#include <stdint.h>

struct conn;
struct session;

/* Binds and listens at path; refuses if another revived answers there. */
int control_init(const char *path, char *why, size_t whylen);
void control_fini(void);

void conn_put(struct conn *c);
struct conn *conn_get(struct conn *c);
/* Hands the session's client end to the opener. */
void conn_reply_open(struct conn *c, struct session *s);
void conn_reply_error(struct conn *c, int32_t status, const char *why);

#endif
