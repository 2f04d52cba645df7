/* cap_internal.h — the registry's inside, shared by the parts of librevive
 * that hand out capabilities (client.c: sessions and the name-space
 * channel; dataspace.c: dataspaces and notifiers) and the watcher. */
#ifndef RV_CAP_INTERNAL_H
#define RV_CAP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include "revive/cap.h"

/* Registers fd with its origin, generic handler and owning object (a
 * rv_session, a rv_dataspace). No-op while the registry is off. */
int rv_cap_add(int fd, enum rv_cap_kind kind, const char *name, const char *args, int liveness_fd,
               rv_cap_fault_fn fault, void *owner);
bool rv_cap_enabled(void);
void *rv_cap_owner(int fd);
/* Marks fd repaired (generation + 1), for siblings repaired together. */
void rv_cap_repaired(int fd);
unsigned rv_cap_generation(int fd);
/* An error that a repair may cure: the object behind the capability is gone. */
bool rv_cap_is_fault(int err);
/* fd's handler is one the client set (rv_cap_set_handler), not its kind's
 * generic one. */
bool rv_cap_custom_handler(int fd);

/* The watched set, for the watcher; *version changes whenever it may have. */
struct rv_cap_watched {
    int fd, liveness_fd;
    unsigned generation;
};
size_t rv_cap_watched(struct rv_cap_watched *out, size_t max, unsigned *version);
unsigned rv_cap_version(void);
/* fn is called whenever the watched set may have changed (the watcher
 * registers its wake-up when it starts). */
void rv_cap_on_change(void (*fn)(void));

#endif
