/* revive/fuse.h — serving the FUSE mount revived holds for a service, so
 * that the mount outlives the process that serves it.
 *
 * revived opens /dev/fuse, mounts it at the manifest's `mount` once the
 * service is ready, and keeps the device for its whole run (rv_service_fd
 * RV_FD_FUSE hands it to every instance). Each instance serves it with
 * libfuse's low-level API through rv_fuse_start, in the runtime's own event
 * loop:
 *
 *   - The first instance answers the kernel's INIT. Its bytes are kept in
 *     `state`, memory that outlives the instance (the arena: a service
 *     with a mount has `state = arena`), and every later instance replays
 *     them to libfuse, since the kernel sends no second INIT: the
 *     negotiated parameters are the first instance's, unchanged.
 *   - A later instance then asks the kernel to resend every request the
 *     dead one had read and not answered (FUSE_NOTIFY_RESEND, Linux 6.9 and
 *     later); they arrive again with their unique marked (rv_fuse_resent).
 *     An idempotent request simply runs again; a service answers a
 *     non-idempotent one (create, unlink, rename, an append...) that the
 *     dead instance had completed from a journal of its own, keyed by
 *     rv_fuse_unique. On an older kernel those requests are lost: the
 *     programs waiting for them wait until the mount is aborted, and the
 *     instance says so in its log.
 *   - A request during which the service died twice is poisoned: the
 *     third time it is answered EIO without reaching the service, and
 *     every other request is served.
 *
 * Node ids and file handles are the service's own numbers: a service that
 * derives them from its storage (inode numbers) keeps them across deaths
 * for free.
 */
#ifndef REVIVE_FUSE_H
#define REVIVE_FUSE_H

#define FUSE_USE_VERSION 34
#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <stdint.h>

/* What outlives an instance; put it in the arena, zeroed at first. It
 * belongs to one mount: revived mounts afresh each time it starts, and an
 * arena kept in a file (arena_file) outlives that mount. */
struct rv_fuse_state {
    uint64_t mount_id;          /* the mount it belongs to (revived's name for it) */
    uint32_t init_len;          /* 0 until the first INIT was read */
    uint32_t crash_count;       /* how often an instance died serving crash_unique */
    uint64_t serving;           /* the unique being served; 0: none */
    uint64_t crash_unique;
    uint8_t init[256];          /* the kernel's INIT request, as read */
};

/* Is the mount new to state: revived mounted it since state was last
 * served (or state is new), so there is nothing to take over and whatever
 * the service keeps per open file of the mount is stale? rv_fuse_start
 * then makes state the new mount's. */
bool rv_fuse_is_new_mount(const struct rv_fuse_state *state);

/* Serves rv_service_fd(RV_FD_FUSE) with ops from the runtime's event loop.
 * Call it from the recover hook (it runs in the active instance only,
 * before READY); a standby must not serve. Returns 0, or RV_EINVAL (no
 * mount), RV_ENOMEM, RV_EIO. */
int rv_fuse_start(const struct fuse_lowlevel_ops *ops, size_t ops_size, void *userdata,
                  struct rv_fuse_state *state);

/* The request being served: its unique without the resend mark, and
 * whether the kernel resent it after an instance died. */
uint64_t rv_fuse_unique(void);
bool rv_fuse_resent(void);

#endif
