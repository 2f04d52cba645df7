/* handover.h — revived's side of the conversation with a service instance
 * over its control channel: the start-up hand-over of every session, binds
 * and unbinds, and what the instance reports (its state size and layout,
 * READY, stored descriptors, lost sessions, heartbeats). It acts on what it
 * reads and tells the supervisor, which reads the channel through it, what
 * the supervisor must act on in turn.
 *
 * A standby holds the sessions before it is needed: at its HELLO it is
 * sent every bound session, then each one that binds, each descriptor the
 * active instance stores and each session that ends, so that taking over
 * costs it no per-session hand-over, only the crash's flags. */
#ifndef RV_HANDOVER_H
#define RV_HANDOVER_H

#include <stddef.h>
#include <stdint.h>

struct instance;
struct service;
struct held_session;

enum handover_event {
    HANDOVER_NONE,
    HANDOVER_READY,     /* the active instance has recovered and serves */
    HANDOVER_HANGUP,    /* the channel closed: the instance is dying, or lies */
};

/* Reads one message of in's control channel (its epoll events) and acts on
 * it. A channel that closed or broke is left to the exit handler. */
enum handover_event handover_read(struct instance *in, uint32_t events);
/* Handles every message a dead instance left in its channel: the pidfd and
 * the channel can be ready in the same epoll batch, and what the instance
 * said before dying (a stored descriptor, a lost session) still counts. */
void handover_drain(struct instance *in);
/* Makes the instance the one that serves: sends it every bound session, or
 * (a standby that holds them already) the crash flags of those that have
 * any, then HANDOVER_END. */
void handover_begin(struct instance *in);
/* Asks the active instance to bind n new sessions (it answers BIND_DONE
 * for each): those opened together go in one message. */
void handover_bind(struct service *svc, struct held_session **s, size_t n);
/* Tells the active instance a bound session's client is gone; while it
 * recovers, it reads this once READY. The standby forgets it. */
void handover_unbind(struct held_session *s);
/* Tells the standby, which holds every bound session, that one has ended
 * (failed, revoked, lost) and is not to be served when it takes over. */
void handover_forget(struct held_session *s);

#endif
