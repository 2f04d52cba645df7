/* journal.h — the layouts of a session's SSR and journal, of the slab that
 * holds them, and the commit rule.
 *
 * Every session of a service has a record in the service's slab: one memfd
 * that revived creates, sizes once for the service's max_sessions, seals
 * against resizing and keeps, so the records outlive any service instance.
 * An instance maps the slab once, whatever the number of sessions; revived
 * maps the journals read-only; clients never see either.
 *
 * Slab:     [SSR 0][SSR 1]...[SSR n-1] | [journal 0][journal 1]...[journal n-1]
 *           (the journal area starts on a page; an SSR record is a whole
 *           page under ssr_protect = mprotect, which protects it alone)
 * SSR:      [struct rv_ssr_hdr][ssr_size bytes the service owns]
 * Journal:  [struct rv_journal][request: header, max_request bytes][slot 0][slot 1]
 * Slot:     [struct rv_slot][reply: max_reply bytes][SSR image: ssr_size bytes]
 *
 * The request is received straight into the journal (recv writes the
 * datagram there), so the moment the kernel hands it over, it is journaled:
 * a kill after that point finds it in the journal, a kill before finds it
 * still queued in the session socket. Neither loses it.
 *
 * A slot is one committed state of the session: the SSR image, the layout
 * it is in, the seq of the last completed request and its reply. `cur` names the committed slot.
 * Committing writes the other slot completely, then flips `cur` with one
 * store: the commit point. So at any instant slot[cur] is a consistent pair
 * (state, reply) and
 *   - a request is in flight iff journal.req.seq > slot[cur].done_seq;
 *   - rolling back is copying slot[cur].ssr over the SSR;
 *   - a repeated seq is answered from slot[cur].reply.
 */
#ifndef RV_JOURNAL_H
#define RV_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "wire.h"

#define RV_SSR_MAGIC 0x52535352u     /* "RSSR" */
#define RV_JOURNAL_MAGIC 0x4c4e524au /* "JRNL" */
#define RV_JOURNAL_VERSION 3

struct rv_ssr_hdr {
    uint32_t magic;
    uint32_t layout;     /* the service's ssr_layout */
    uint64_t size;       /* bytes after this header */
    uint64_t sum;        /* rv__checksum of those bytes, as of the last commit */
    uint64_t reserved[5];
};
_Static_assert(sizeof(struct rv_ssr_hdr) == 64, "SSR header is one cache line");

struct rv_slot {
    uint64_t done_seq;   /* last completed request */
    uint64_t sum;        /* checksum of this slot's SSR image */
    int32_t reply_status;
    uint32_t reply_len;
    int32_t reply_attach; /* stored-fd slot the reply carries, or -1 */
    uint32_t layout;     /* the ssr_layout of the code that wrote this slot's image */
    uint8_t reply[];     /* max_reply bytes, then the SSR image (rv__slot_ssr) */
};

struct rv_journal {
    uint32_t magic;
    uint32_t version;
    uint64_t ssr_size;
    uint32_t cur;        /* committed slot: 0 or 1 */
    uint32_t bound;      /* bind completed and committed */
    uint64_t sent_seq;   /* last reply known to have been sent */
    uint32_t receiving;  /* 1 from just before a recv into req until it returned: a crash
                            in between may have destroyed a datagram (a failed copy) */
    uint32_t max_request; /* bytes req_body holds: the service's max_request */
    uint32_t max_reply;  /* bytes a slot's reply holds: its max_reply */
    uint32_t pad;
    uint64_t reserved[2];
    /* the request datagram, received in place */
    struct rv_hdr req;
    uint8_t req_body[];  /* max_request bytes */
};
_Static_assert(sizeof(struct rv_journal) == 88, "journal header, then the request's");

/* What sizes a journal: the SSR it keeps images of, and the largest
 * request and reply it holds (the manifest's ssr_size, max_request and
 * max_reply). A journal sized for the replies a service really sends, not
 * for RV_MAX_PAYLOAD, is what makes a session cost hundreds of bytes
 * rather than thirteen kilobytes. */
struct rv_journal_shape {
    uint64_t ssr_size;
    uint32_t max_request, max_reply;
};

/* Where everything is in a slab of `records` records. */
struct rv_slab_geom {
    struct rv_journal_shape shape;
    uint64_t records;
    size_t ssr_stride;       /* bytes from one SSR to the next */
    size_t journal_stride;   /* bytes from one journal to the next */
    size_t journal_off;      /* where the journal area starts */
    size_t bytes;            /* the slab's size */
};
/* page_ssrs: each SSR on pages of its own (ssr_protect = mprotect). */
void rv__slab_geom(struct rv_slab_geom *g, const struct rv_journal_shape *shape, uint64_t records, bool page_ssrs);
/* What one session costs in a slab: its SSR and its journal strides. */
size_t rv__session_bytes(const struct rv_journal_shape *shape, bool page_ssrs);

/* Slot i of a journal whose header was found sound (its shape is this
 * runtime's): the offsets come from the header. */
struct rv_slot *rv__journal_slot(struct rv_journal *j, unsigned i);
/* Where slot i starts, from the journal's start. revived, which reads
 * journals as a service's claims, computes it from the manifest. */
size_t rv__journal_slot_offset(const struct rv_journal_shape *shape, unsigned i);
static inline struct rv_slot *rv__journal_committed(struct rv_journal *j)
{
    return rv__journal_slot(j, __atomic_load_n(&j->cur, __ATOMIC_ACQUIRE));
}
/* The SSR image of a slot of journal j, after its reply. */
uint8_t *rv__slot_ssr(const struct rv_journal *j, struct rv_slot *s);

/* Commit: the caller filled slot !cur (reply fields); this copies the SSR
 * image and its layout into it, checksums, and flips cur. */
void rv__journal_commit(struct rv_journal *j, struct rv_ssr_hdr *ssr);
/* Copies the committed image back over the SSR. */
void rv__journal_rollback(struct rv_journal *j, struct rv_ssr_hdr *ssr);
/* The committed slot's image matches its checksum. */
bool rv__journal_committed_valid(struct rv_journal *j);
/* The SSR matches its header (magic, layout, size, checksum). */
bool rv__ssr_valid(const struct rv_ssr_hdr *ssr, uint32_t layout, uint64_t size);
/* First-time formatting of a fresh session's SSR and journal. */
void rv__session_format(struct rv_journal *j, struct rv_ssr_hdr *ssr, const struct rv_journal_shape *shape,
                        uint32_t layout);

/* A fast non-cryptographic 64-bit checksum (four independent multiply-xor
 * lanes, so it runs near memory speed). Catches wild writes, not attackers. */
uint64_t rv__checksum(const void *data, size_t len);

#endif
