/* arena_internal.h — what the server runtime (and the unit test) call in
 * arena.c: the mapping at instance start, the recovery before any session
 * is served. Not a public header; the service's API is revive/arena.h. */
#ifndef RV_ARENA_INTERNAL_H
#define RV_ARENA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "revive/server.h"

/* Maps the arena memfd of size bytes at RV_ARENA_BASE. Returns 0, or -1
 * with a sentence in why (the address is taken, the size is wrong). */
int rv_arena_attach(int fd, uint64_t size, char *why, size_t whylen);

/* Once no other instance can write the arena any more (the hand-over is
 * over): formats a fresh arena, or checks its header and undoes every
 * undo log whose request did not commit. A log written for request seq of a
 * session in `all` whose journal has completed seq is kept (that request
 * committed; it crashed before emptying its log). Fail-stops on a corrupt
 * header or log: no request may run on an arena in an unknown state. */
void rv_arena_recover(rv_sess **all, size_t n);

/* Unmaps the arena (tests). */
void rv_arena_detach(void);

#endif
