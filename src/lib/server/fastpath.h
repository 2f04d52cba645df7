/* fastpath.h — the thread of a service instance that takes calls out of
 * its sessions' rings (ring.h) and serves them, in turn with the event
 * loop or beside the workers (fastpath.c). Not a public header. */
#ifndef RV_FASTPATH_H
#define RV_FASTPATH_H

/* The turn. With a fast path, two threads serve: the event loop and this
 * one. Each holds the turn while it does anything at all with sessions,
 * so that the service's code, and the runtime's, still run one at a time,
 * as they were written to. Without a fast path these do nothing. */
void rv__rt_turn_take(void);
void rv__rt_turn_give(void);

/* Starts it, once the instance has recovered (and its workers have
 * started), if revived sent a doorbell, with its busy slot in the status
 * page: 0, or -1. */
int rv__fastpath_start(unsigned slot);

#endif
