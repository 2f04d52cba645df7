/* handover.h — revived's side of the conversation with a service instance:
 * the start-up hand-over of every session, binds of new sessions, and what
 * the instance reports (stored descriptors, lost sessions, heartbeats). */
#ifndef RV_HANDOVER_H
#define RV_HANDOVER_H

#include <stdint.h>
#include "loop.h"

struct instance;

void handover_on_ctl(struct rv_handler *h, uint32_t events);
/* Sends the instance every bound session, then HANDOVER_END. */
void handover_begin(struct instance *in);
/* Handles every message a dead instance left in its channel: the pidfd and
 * the channel can be ready in the same epoll batch, and what the instance
 * said before dying (a stored descriptor, a lost session) still counts. */
void handover_drain(struct instance *in);

#endif
