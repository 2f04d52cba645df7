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
#include <stdint.h>
#include "manifest.h"

struct held {
    int image_fd;        /* `image`, read-write; -1 without */
    int fuse_fd;         /* /dev/fuse, opened for `mount`; -1 without */
    uint64_t mount_id;   /* names this mount to the instances: a new one is not a takeover */
    bool mounted;
};

#define HELD_NONE ((struct held){ .image_fd = -1, .fuse_fd = -1 })

/* Opens what c asks for and mounts its file system (before its first
 * instance starts: the kernel's INIT waits in the device for the instance
 * to answer, and programs using the mount wait with it). Returns 0, or -1
 * with a sentence in why. */
int held_open(const struct rv_service_conf *c, struct held *h, char *why, size_t whylen);
/* Mounts c->mount afresh, on a new FUSE device, creating the directory if
 * it is missing (nothing to do without a mount, or when mounted). */
int held_mount(const struct rv_service_conf *c, struct held *h, char *why, size_t whylen);
/* Ends the mount: programs waiting on it get ENOTCONN (a failed service). */
void held_unmount(const struct rv_service_conf *c, struct held *h);
/* Unmounts and closes everything. */
void held_close(const struct rv_service_conf *c, struct held *h);

#endif
