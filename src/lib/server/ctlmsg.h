/* ctlmsg.h — the messages revived sends a service instance on its control
 * channel (wire.h), decoded and checked before the runtime acts on them:
 * the hand-shake's SVC_CONFIG, the SESSIONS batches of a hand-over (and
 * the SESSION_FLAGS a promoted standby gets), and BIND. Pure functions, no I/O: server.c acts only on what they accepted,
 * and the fuzz harness (tests/fuzz/fuzz_svc_ctl.c) feeds them anything.
 *
 * revived is trusted, so a message these refuse ends the instance (revived
 * restarts it); but a descriptor taken for the wrong one (a journal mapped
 * as an SSR) would corrupt sessions silently, which is why every count is
 * checked against the descriptors that came. Not a public header. */
#ifndef RV_CTLMSG_H
#define RV_CTLMSG_H

#include <stddef.h>
#include "revive/server.h"
#include "wire.h"

/* SVC_CONFIG, decoded: the configuration and where each of its
 * descriptors is in the message (-1: not sent). */
struct rv__config {
    struct rv_wire_svc_config cfg;
    int status_fd;              /* always sent */
    int slab_fd;                /* always sent */
    int arena_fd;               /* with arena_size */
    int arena_file_fd;          /* RV_CONFIG_ARENA_FILE, only with an arena */
    int image_fd;               /* RV_CONFIG_IMAGE */
    int fuse_fd;                /* RV_CONFIG_FUSE, with a mount_id */
    int doorbell_fd;            /* RV_CONFIG_DOORBELL */
    int filter_fd;              /* RV_CONFIG_FILTER */
};

/* 0 when m is an SVC_CONFIG of the right size, a known protection, a slab
 * of 1..RV_SLAB_MAX_RECORDS records, requests and replies of at most
 * RV_MAX_PAYLOAD, and exactly the descriptors its flags announce; else -1. */
int rv__ctl_config(const struct rv_msg *m, struct rv__config *out);

/* The rv_wire_session records at the start of m's payload (all of it but
 * `extra` bytes): their count when it is whole, every stored_mask names
 * slots that exist, and their descriptors are exactly m's; else -1. */
long rv__ctl_batch(const struct rv_msg *m, size_t extra);

/* BIND: op session records (1..RV_BIND_MAX), then the open arguments
 * they share (not terminated on the wire; cut at RV_ARGS_MAX). Their
 * count, or -1 when malformed. */
long rv__ctl_bind(const struct rv_msg *m, char args[RV_ARGS_MAX + 1]);

/* SESSION_FLAGS: rv_wire_session records that carry crash flags alone (no
 * stored descriptors, no unknown flag, no descriptor in m). Their count, or
 * -1 when malformed. */
long rv__ctl_flags(const struct rv_msg *m);

#endif
