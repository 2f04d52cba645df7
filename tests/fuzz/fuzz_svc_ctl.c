/* fuzz_svc_ctl.c — fuzz target for the service runtime's reading of its
 * control channel (src/lib/server/ctlmsg.c): the SVC_CONFIG of the
 * hand-shake, the SESSIONS batches of a hand-over, the SESSION_FLAGS of a
 * standby's promotion and BIND, as revived sends them to every instance it
 * starts.
 *
 * Input: records (harness.h); each selector byte is the number of
 * descriptors that came with the message (at most RV_WIRE_MAX_FDS). They
 * are numbers, never opened: the decoders only say where each one goes.
 * Every record goes through all four decoders.
 *
 * Checked on every record: a configuration accepted places every
 * descriptor that came exactly once (the status page and the slab
 * always), a slab of 1..RV_SLAB_MAX_RECORDS records, requests and replies
 * of at most RV_MAX_PAYLOAD, no arena
 * file without an arena, no mount without an id, a protection this
 * runtime knows; a batch accepted is a whole number of records whose
 * descriptors are exactly those that came; flags accepted are a whole
 * number of records with no descriptor, no stored slot and no unknown
 * flag; a BIND accepted is one record and arguments of at most RV_ARGS_MAX
 * bytes.
 */
#include "fuzz.h"

#include <string.h>
#include "ctlmsg.h"
#include "harness.h"

#define HARNESS "fuzz_svc_ctl"
#define FD_BASE 1000    /* the descriptor numbers that "came": FD_BASE + i */

static void check_config(const struct rv_msg *m, const struct rv__config *c)
{
    const int placed[] = { c->status_fd, c->slab_fd, c->arena_fd, c->arena_file_fd, c->image_fd, c->fuse_fd,
                           c->doorbell_fd, c->filter_fd };
    bool seen[RV_WIRE_MAX_FDS] = { false };
    size_t n = 0;
    for (size_t i = 0; i < sizeof placed / sizeof placed[0]; i++) {
        if (placed[i] == -1)
            continue;
        size_t k = (size_t)(placed[i] - FD_BASE);
        if (placed[i] < FD_BASE || k >= m->nfds || seen[k])
            fuzz_fail(HARNESS, "config: descriptor %d is not one that came, or is used twice", placed[i]);
        seen[k] = true;
        n++;
    }
    if (n != m->nfds || c->status_fd == -1 || c->slab_fd == -1)
        fuzz_fail(HARNESS, "config: %zu of %zu descriptors placed", n, m->nfds);
    if (c->cfg.slab_records == 0 || c->cfg.slab_records > RV_SLAB_MAX_RECORDS)
        fuzz_fail(HARNESS, "config: accepted a slab of %llu records", (unsigned long long)c->cfg.slab_records);
    if (c->cfg.max_request > RV_MAX_PAYLOAD || c->cfg.max_reply > RV_MAX_PAYLOAD)
        fuzz_fail(HARNESS, "config: accepted journals for requests or replies past RV_MAX_PAYLOAD");
    if ((c->arena_file_fd != -1 && c->arena_fd == -1) || (c->fuse_fd != -1 && c->cfg.mount_id == 0) ||
        c->cfg.protect > RV_PROTECT_MPROTECT)
        fuzz_fail(HARNESS, "config: accepted a configuration that cannot be served");
}

static void check_batch(const struct rv_msg *m, long k, size_t extra)
{
    size_t fds = 0;
    for (long i = 0; i < k; i++) {
        struct rv_wire_session w;
        memcpy(&w, m->body + (size_t)i * sizeof w, sizeof w);
        if (w.stored_mask >= 1u << RV_MAX_STORED_FDS)
            fuzz_fail(HARNESS, "batch: record %ld stores into a slot that does not exist", i);
        fds += rv__wire_fds_of(&w);
    }
    if ((size_t)k * sizeof(struct rv_wire_session) + extra != m->hdr.len || fds != m->nfds)
        fuzz_fail(HARNESS, "batch: %ld records, %zu descriptors, for %u bytes and %zu descriptors", k, fds,
                  m->hdr.len, m->nfds);
}

static void check_flags(const struct rv_msg *m, long k)
{
    if (m->nfds || (size_t)k * sizeof(struct rv_wire_session) != m->hdr.len)
        fuzz_fail(HARNESS, "flags: %ld records for %u bytes and %zu descriptors", k, m->hdr.len, m->nfds);
    for (long i = 0; i < k; i++) {
        struct rv_wire_session w;
        memcpy(&w, m->body + (size_t)i * sizeof w, sizeof w);
        if (w.stored_mask || w.flags > (RV_SESS_CULPRIT | RV_SESS_POISONED))
            fuzz_fail(HARNESS, "flags: record %ld carries more than crash flags", i);
    }
}

static void check_bind(const struct rv_msg *m, long k, const char *args)
{
    size_t records = (size_t)k * sizeof(struct rv_wire_session), extra = m->hdr.len - records, alen = strlen(args);
    if (k != (long)m->hdr.op || k < 1 || k > RV_BIND_MAX || alen > RV_ARGS_MAX || alen > extra ||
        memcmp(args, m->body + records, alen) != 0)
        fuzz_fail(HARNESS, "bind: the sessions or their arguments are not what came");
    check_batch(m, k, extra);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct rv_msg m;
    struct fuzz_input in = { data, size };
    uint8_t sel;
    while (fuzz_next_msg(&in, &sel, &m)) {
        m.nfds = sel < RV_WIRE_MAX_FDS ? sel : RV_WIRE_MAX_FDS;
        for (size_t i = 0; i < m.nfds; i++)
            m.fds[i] = FD_BASE + (int)i;
        struct rv__config c;
        if (rv__ctl_config(&m, &c) == 0)
            check_config(&m, &c);
        long k = rv__ctl_batch(&m, 0);
        if (k >= 0)
            check_batch(&m, k, 0);
        long f = rv__ctl_flags(&m);
        if (f >= 0)
            check_flags(&m, f);
        char args[RV_ARGS_MAX + 1];
        long b = rv__ctl_bind(&m, args);
        if (b >= 0)
            check_bind(&m, b, args);
    }
    return 0;
}

/* A session record with the stored descriptors of mask. */
static struct rv_wire_session session(uint64_t id, uint32_t mask)
{
    return (struct rv_wire_session){ .id = id, .stored_mask = mask, .uid = 1000, .gid = 1000 };
}

size_t fuzz_seed(size_t i, uint8_t *buf, size_t cap)
{
    size_t len = 0;
    struct rv_wire_svc_config cfg = { .ssr_size = 64, .protect = RV_PROTECT_CHECKSUM, .slab_records = 1024 };
    struct rv_wire_session batch[3] = { session(1, 0), session(2, 5), session(3, 15) };
    struct {
        struct rv_wire_session w[2];
        char args[16];
    } bind = { { session(9, 2), session(10, 0) }, "weight=3" };
    switch (i) {
    case 0: fuzz_put_msg(buf, &len, cap, 2, RV_T_SVC_CONFIG, 0, 0, 0, &cfg, sizeof cfg); break;
    case 1:
        cfg = (struct rv_wire_svc_config){ .ssr_size = 4096, .protect = RV_PROTECT_MPROTECT, .arena_size = 1 << 20,
                                           .flags = RV_CONFIG_ARENA_FILE | RV_CONFIG_IMAGE | RV_CONFIG_FUSE |
                                                    RV_CONFIG_FILTER,
                                           .mount_id = 7, .slab_records = 1 };
        fuzz_put_msg(buf, &len, cap, 7, RV_T_SVC_CONFIG, 0, 0, 0, &cfg, sizeof cfg);
        break;
    case 2:
        fuzz_put_msg(buf, &len, cap, 1 + 3 + 5, RV_T_SESSIONS, 0, 0, 0, batch, sizeof batch);
        fuzz_put_msg(buf, &len, cap, 0, RV_T_HANDOVER_END, 0, 0, 0, NULL, 0);
        break;
    case 3: fuzz_put_msg(buf, &len, cap, 3, RV_T_BIND, 0, 2, 0, &bind, sizeof bind.w + strlen(bind.args)); break;
    case 4: fuzz_put_msg(buf, &len, cap, 0, RV_T_UNBIND, 9, 0, 0, NULL, 0); break;
    case 5:
        batch[1].stored_mask = 0;
        batch[1].flags = RV_SESS_CULPRIT | RV_SESS_POISONED;
        batch[1].poison_seq = 7;
        fuzz_put_msg(buf, &len, cap, 0, RV_T_SESSION_FLAGS, 0, 0, 0, &batch[1], sizeof batch[1]);
        break;
    default: return 0;
    }
    return len;
}
