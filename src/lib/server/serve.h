/* serve.h — one session inside a service instance (serve.c): its mappings,
 * the request path, commits, recovery after a restart, and its end. Called
 * by the event loop (server.c) and the workers (workers.c). */
#ifndef RV_SERVE_H
#define RV_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include "core.h"

/* Maps the service's slab (journal.h) of `records` records, once; the SSR
 * size and protection must be known. 0, or -1 with a sentence in why. */
int rv__slab_map(int fd, uint64_t records, char *why, size_t whylen);
/* A session of the hand-over or a bind: its endpoint and stored
 * descriptors (in fds, in rv_wire_session's order) become its own, its
 * SSR and journal are its record of the slab. NULL, with a sentence in
 * why and those descriptors closed, for a record past the slab. */
rv_svc_session *rv__sess_attach(const struct rv_wire_session *w, const int *fds, char *why, size_t whylen);
void rv__sess_detach(rv_svc_session *s);
int rv__sess_bind(rv_svc_session *s, const char *args);
/* The unbind hook, then detach: the client went away. */
void rv__sess_unbind(rv_svc_session *s);
bool rv__sess_recover(rv_svc_session *s, char *why, size_t whylen);
/* After a restart: nothing of the session's waits on this instance (no
 * request in flight or half received, its last reply sent, no crash flag),
 * so its recovery may wait until it is next used (rv__sess_check). */
bool rv__sess_quiescent(rv_svc_session *s);
/* Recovers a session left unchecked at the restart, the first time it is
 * used; false (and revived told, and the session out of the epoll set)
 * when its state is lost. */
bool rv__sess_check(rv_svc_session *s);
bool rv__sess_in_flight(rv_svc_session *s);
void rv__sess_rerun(rv_svc_session *s);
void rv__sess_resend_reply(rv_svc_session *s);
void rv__sess_on_readable(rv_svc_session *s);
/* Whether the request (session id, seq) of a session in `all` completed:
 * its journal says so. */
bool rv__sess_done(rv_svc_session **all, size_t n, uint64_t id, uint64_t seq);
void rv__sess_open_ssr(rv_svc_session *s);           /* make s's SSR the writable one */
void rv__ssr_close_open(void);                 /* no SSR writable */
/* Closes the open SSR and gives every SSR `prot` while none is open. */
void rv__ssr_rest_all(int prot);

#endif
