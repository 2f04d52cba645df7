/* arena.h — the arenas revived holds for `state = arena` services: a
 * sealed memfd created once and handed to every instance, and, with
 * `arena_file`, the file that keeps it durable across revived itself. */
#ifndef RV_REVIVED_ARENA_H
#define RV_REVIVED_ARENA_H

#include <stddef.h>
#include "manifest.h"

/* Creates the arena of service c: *memfd, and *filefd (-1 without
 * arena_file). Returns 0, or -1 with a sentence in why. */
int arena_open(const struct rv_service_conf *c, int *memfd, int *filefd, char *why, size_t whylen);

#endif
