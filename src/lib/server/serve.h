/* serve.h — one session inside a service instance (serve.c): its mappings,
 * the request path, commits, recovery after a restart, and its end. Called
 * by the event loop (server.c) and the workers (workers.c). */
#ifndef RV_SERVE_H
#define RV_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include "core.h"

rv_sess *rv_sess_attach(const struct rv_wire_session *w, const int *fds, char *why, size_t whylen);
void rv_sess_detach(rv_sess *s);
int rv_sess_bind(rv_sess *s, const char *args);
/* The unbind hook, then detach: the client went away. */
void rv_sess_unbind(rv_sess *s);
bool rv_sess_recover(rv_sess *s, char *why, size_t whylen);
bool rv_sess_in_flight(rv_sess *s);
void rv_sess_rerun(rv_sess *s);
void rv_sess_resend_reply(rv_sess *s);
void rv_sess_on_readable(rv_sess *s);
/* Whether the request (session id, seq) of a session in `all` completed:
 * its journal says so. */
bool rv_sess_done(rv_sess **all, size_t n, uint64_t id, uint64_t seq);
void rv_sess_open_ssr(rv_sess *s);           /* make s's SSR the writable one */
void rv_ssr_close_open(void);                 /* no SSR writable */
/* Closes the open SSR and gives every SSR `prot` while none is open. */
void rv_ssr_rest_all(rv_sess **all, size_t n, int prot);

#endif
