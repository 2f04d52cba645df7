/* held.h — the descriptors revived holds for a service as a whole (beside
 * each session's) and hands to every instance, like systemd's FDSTORE: the
 * image file the manifest names (`image`), and the FUSE device of the file
 * system it mounts for the service (`mount`). Because revived holds them,
 * an instance that dies takes neither with it: the mount outlives its
 * server, and the next instance takes it over. */
#ifndef RV_HELD_H
#define RV_HELD_H

#include <stdbool.h>
#include <stddef.h>
#include "manifest.h"

struct held {
    int image_fd;        /* `image`, read-write; -1 without */
    int fuse_fd;         /* /dev/fuse, opened for `mount`; -1 without */
    bool mounted;
};

#define HELD_NONE ((struct held){ .image_fd = -1, .fuse_fd = -1 })

/* Opens what c asks for (before its first instance starts). Returns 0, or
 * -1 with a sentence in why. */
int held_open(const struct rv_service_conf *c, struct held *h, char *why, size_t whylen);
/* Mounts the service's file system at c->mount (once its instance is ready
 * to answer the kernel's INIT): creates the directory if it is missing.
 * Returns 0 (also if there is nothing to mount), or -1 with a sentence. */
int held_mount(const struct rv_service_conf *c, struct held *h, char *why, size_t whylen);
/* Unmounts and closes everything. */
void held_close(const struct rv_service_conf *c, struct held *h);

#endif
