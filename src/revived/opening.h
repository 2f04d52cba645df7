/* opening.h — an OPEN that revived has not answered yet: one client's
 * request for one session, or for many at once (RV_OPEN_MANY, wire.h).
 *
 * Each session is answered for once its service's instance has bound it,
 * or once it failed (the bind refused it, the service failed, its client
 * closed the channel), in any order; the opener gets one answer when the
 * last is settled. A session that settles leaves the opening, so an
 * opening never reaches back into the sessions it answers for, and may be
 * settled from anywhere a session is failed or destroyed. */
#ifndef RVD_OPENING_H
#define RVD_OPENING_H

#include <stdbool.h>
#include <stdint.h>

struct conn;
struct held_session;

struct opening;

/* An opening for want sessions (many: answered as RV_OPEN_MANY), holding a
 * reference to its opener; NULL when memory ran out. */
struct opening *opening_new(struct conn *opener, uint32_t want, bool many);
/* s is the next of the opening's sessions, until it settles. */
void opening_add(struct opening *o, struct held_session *s);
/* Every session of o has been added, or is refused with status and why:
 * the opening is answered as soon as the added ones have settled. */
void opening_seal(struct opening *o, int status, const char *why);
/* s is bound: flags are RV_OPEN_KEEPS_STATE or 0. Takes the client end of
 * its socket or new channel, which the answer carries. */
void opening_bound(struct held_session *s, uint32_t flags);
/* s will not be opened: status and a sentence say why. */
void opening_failed(struct held_session *s, int status, const char *why);

#endif
