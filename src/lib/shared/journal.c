/* journal.c — commit, rollback and validation of SSRs; see journal.h for the
 * invariant this file keeps. */
#include "journal.h"

#include <string.h>
#include <unistd.h>

static size_t page_round(size_t n)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    return (n + pg - 1) / pg * pg;
}

/* Everything in a slab is 64-byte aligned, so images copy at full speed
 * and no two records share a cache line. */
static size_t line_round(size_t n)
{
    return (n + 63) & ~(size_t)63;
}

static size_t ssr_stride(uint64_t ssr_size, bool page_ssrs)
{
    size_t n = sizeof(struct rv_ssr_hdr) + ssr_size;
    return page_ssrs ? page_round(n) : line_round(n);
}

/* Where a slot's SSR image starts, from the slot's start. */
static size_t image_offset(uint32_t max_reply)
{
    return sizeof(struct rv_slot) + line_round(max_reply);
}

static size_t slot_bytes(const struct rv_journal_shape *sh)
{
    return line_round(image_offset(sh->max_reply) + sh->ssr_size);
}

size_t rv__journal_slot_offset(const struct rv_journal_shape *sh, unsigned i)
{
    return line_round(sizeof(struct rv_journal) + sh->max_request) + (i & 1) * slot_bytes(sh);
}

static size_t journal_stride(const struct rv_journal_shape *sh)
{
    return rv__journal_slot_offset(sh, 0) + 2 * slot_bytes(sh);
}

void rv__slab_geom(struct rv_slab_geom *g, const struct rv_journal_shape *shape, uint64_t records, bool page_ssrs)
{
    g->shape = *shape;
    g->records = records;
    g->ssr_stride = ssr_stride(shape->ssr_size, page_ssrs);
    g->journal_stride = journal_stride(shape);
    g->journal_off = page_round(records * g->ssr_stride);
    g->bytes = page_round(g->journal_off + records * g->journal_stride);
}

size_t rv__session_bytes(const struct rv_journal_shape *shape, bool page_ssrs)
{
    return ssr_stride(shape->ssr_size, page_ssrs) + journal_stride(shape);
}

static struct rv_journal_shape shape_of(const struct rv_journal *j)
{
    return (struct rv_journal_shape){ j->ssr_size, j->max_request, j->max_reply };
}

struct rv_slot *rv__journal_slot(struct rv_journal *j, unsigned i)
{
    struct rv_journal_shape sh = shape_of(j);
    return (struct rv_slot *)((uint8_t *)j + rv__journal_slot_offset(&sh, i));
}

uint8_t *rv__slot_ssr(const struct rv_journal *j, struct rv_slot *s)
{
    return (uint8_t *)s + image_offset(j->max_reply);
}

void rv__journal_commit(struct rv_journal *j, struct rv_ssr_hdr *ssr)
{
    unsigned next = j->cur ^ 1;
    struct rv_slot *s = rv__journal_slot(j, next);
    memcpy(rv__slot_ssr(j, s), ssr + 1, j->ssr_size);
    s->layout = ssr->layout;
    s->sum = rv__checksum(rv__slot_ssr(j, s), j->ssr_size);
    ssr->sum = s->sum;
    /* the commit point: everything above is in place before cur flips */
    __atomic_store_n(&j->cur, next, __ATOMIC_RELEASE);
}

void rv__journal_rollback(struct rv_journal *j, struct rv_ssr_hdr *ssr)
{
    struct rv_slot *s = rv__journal_committed(j);
    memcpy(ssr + 1, rv__slot_ssr(j, s), j->ssr_size);
    ssr->sum = s->sum;
}

bool rv__journal_committed_valid(struct rv_journal *j)
{
    struct rv_slot *s = rv__journal_committed(j);
    return s->reply_len <= j->max_reply && s->sum == rv__checksum(rv__slot_ssr(j, s), j->ssr_size);
}

bool rv__ssr_valid(const struct rv_ssr_hdr *ssr, uint32_t layout, uint64_t size)
{
    return ssr->magic == RV_SSR_MAGIC && ssr->layout == layout && ssr->size == size &&
           ssr->sum == rv__checksum(ssr + 1, size);
}

void rv__session_format(struct rv_journal *j, struct rv_ssr_hdr *ssr, const struct rv_journal_shape *shape,
                        uint32_t layout)
{
    memset(ssr, 0, sizeof *ssr + shape->ssr_size);
    ssr->magic = RV_SSR_MAGIC;
    ssr->layout = layout;
    ssr->size = shape->ssr_size;
    memset(j, 0, sizeof *j);
    j->magic = RV_JOURNAL_MAGIC;
    j->version = RV_JOURNAL_VERSION;
    j->ssr_size = shape->ssr_size;
    j->max_request = shape->max_request;
    j->max_reply = shape->max_reply;
    for (unsigned i = 0; i < 2; i++) {
        struct rv_slot *s = rv__journal_slot(j, i);
        memset(s, 0, sizeof *s);
        s->reply_attach = -1;
    }
    rv__journal_commit(j, ssr);
}

uint64_t rv__checksum(const void *data, size_t len)
{
    const uint64_t k = 0x9e3779b97f4a7c15ull;
    uint64_t h[4] = { len, k, ~len, ~k };
    const uint8_t *p = data;
    size_t i = 0;
    for (; i + 32 <= len; i += 32) {
        uint64_t w[4];
        memcpy(w, p + i, 32);
        for (int l = 0; l < 4; l++)
            h[l] = (h[l] ^ w[l]) * k, h[l] ^= h[l] >> 29;
    }
    for (; i < len; i++)
        h[i & 3] = (h[i & 3] ^ p[i]) * k;
    uint64_t r = h[0] ^ (h[1] << 1) ^ (h[2] << 2) ^ (h[3] << 3);
    return r ^ (r >> 31);
}
