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
int rv__cap_add(int fd, enum rv_cap_kind kind, const char *name, const char *args, int liveness_fd,
               rv_cap_fault_fn fault, void *owner);
bool rv__cap_enabled(void);
void *rv__cap_owner(int fd);
/* Marks fd repaired (generation + 1), for siblings repaired together. */
void rv__cap_repaired(int fd);
unsigned rv__cap_generation(int fd);
/* An error that a repair may cure: the object behind the capability is gone. */
bool rv__cap_is_fault(int err);
/* fd's handler is one the client set (rv_cap_set_handler), not its kind's
 * generic one. */
bool rv__cap_custom_handler(int fd);

/* The watched set, for the watcher; *version changes whenever it may have. */
struct rv__cap_watched {
    int fd, liveness_fd;
    unsigned generation;
};
size_t rv__cap_watched(struct rv__cap_watched *out, size_t max, unsigned *version);
unsigned rv__cap_version(void);
/* fn is called whenever the watched set may have changed (the watcher
 * registers its wake-up when it starts). */
void rv__cap_on_change(void (*fn)(void));

#endif
