/* ctlmsg.c — see ctlmsg.h. */
#include "ctlmsg.h"

#include <stdbool.h>
#include <string.h>

/* The descriptors follow the status page and the slab in this order: the
 * arena's memfd, its file, the image, the FUSE device, the doorbell, the
 * seccomp filter (wire.h); each present or not. */
int rv__ctl_config(const struct rv_msg *m, struct rv__config *out)
{
    struct rv_wire_svc_config *c = &out->cfg;
    if (m->hdr.type != RV_T_SVC_CONFIG || m->hdr.len != sizeof *c)
        return -1;
    memcpy(c, m->body, sizeof *c);
    bool arena = c->arena_size != 0, file = c->flags & RV_CONFIG_ARENA_FILE;
    bool image = c->flags & RV_CONFIG_IMAGE, fuse = c->flags & RV_CONFIG_FUSE, filter = c->flags & RV_CONFIG_FILTER;
    bool doorbell = c->flags & RV_CONFIG_DOORBELL;
    /* A file without an arena would be a descriptor nobody asked for, and
     * a mount of id 0 would pass for an old one (rv_fuse_is_new_mount). */
    if ((file && !arena) || (fuse && c->mount_id == 0) || c->protect > RV_PROTECT_MPROTECT ||
        c->slab_records == 0 || c->slab_records > RV_SLAB_MAX_RECORDS || c->max_request > RV_MAX_PAYLOAD ||
        c->max_reply > RV_MAX_PAYLOAD)
        return -1;
    if (m->nfds != 2u + arena + file + image + fuse + doorbell + filter || c->flags >> 5)
        return -1;
    size_t n = 0;
    out->status_fd = m->fds[n++];
    out->slab_fd = m->fds[n++];
    out->arena_fd = arena ? m->fds[n++] : -1;
    out->arena_file_fd = file ? m->fds[n++] : -1;
    out->image_fd = image ? m->fds[n++] : -1;
    out->fuse_fd = fuse ? m->fds[n++] : -1;
    out->doorbell_fd = doorbell ? m->fds[n++] : -1;
    out->filter_fd = filter ? m->fds[n++] : -1;
    return 0;
}

long rv__ctl_batch(const struct rv_msg *m, size_t extra)
{
    if (m->hdr.len < extra || (m->hdr.len - extra) % sizeof(struct rv_wire_session))
        return -1;
    size_t k = (m->hdr.len - extra) / sizeof(struct rv_wire_session), want = 0;
    for (size_t i = 0; i < k; i++) {
        struct rv_wire_session w;
        memcpy(&w, m->body + i * sizeof w, sizeof w);
        uint32_t known = RV_SESS_CRASH_FLAGS | RV_SESS_SHARED | RV_SESS_CHANNEL_FD | RV_SESS_RING;
        bool fd_alone = (w.flags & RV_SESS_CHANNEL_FD) && !(w.flags & RV_SESS_SHARED);
        bool shared_ring = (w.flags & RV_SESS_RING) && (w.flags & RV_SESS_SHARED);
        if (w.stored_mask >> RV_MAX_STORED_FDS || (w.flags & ~known) || fd_alone || shared_ring)
            return -1;
        want += rv__wire_fds_of(&w);
    }
    return want == m->nfds ? (long)k : -1;
}

long rv__ctl_bind(const struct rv_msg *m, char args[RV_ARGS_MAX + 1])
{
    size_t k = m->hdr.op, records = k * sizeof(struct rv_wire_session);
    if (k < 1 || k > RV_BIND_MAX || m->hdr.len < records || rv__ctl_batch(m, m->hdr.len - records) != (long)k)
        return -1;
    size_t alen = m->hdr.len - records > RV_ARGS_MAX ? RV_ARGS_MAX : m->hdr.len - records;
    memcpy(args, m->body + records, alen);
    args[alen] = '\0';
    return (long)k;
}

long rv__ctl_flags(const struct rv_msg *m)
{
    if (m->hdr.type != RV_T_SESSION_FLAGS || m->nfds || m->hdr.len % sizeof(struct rv_wire_session))
        return -1;
    size_t k = m->hdr.len / sizeof(struct rv_wire_session);
    for (size_t i = 0; i < k; i++) {
        struct rv_wire_session w;
        memcpy(&w, m->body + i * sizeof w, sizeof w);
        if (w.stored_mask || (w.flags & ~(uint32_t)(RV_SESS_CULPRIT | RV_SESS_POISONED)))
            return -1;
    }
    return (long)k;
}
