/* slab.c — a service's slab of SSRs and journals; see slab.h. */
#include "slab.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "memfd.h"

int slab_open(struct slab *sl, const struct rv_service_conf *c, char *why, size_t whylen)
{
    *sl = (struct slab){ .fd = -1 };
    struct rv_journal_shape shape = { c->ssr_size, (uint32_t)c->max_request, (uint32_t)c->max_reply };
    rv__slab_geom(&sl->geom, &shape, c->max_sessions, c->ssr_protect == RV_PROTECT_MPROTECT);
    char name[RV_NAME_MAX + 16];
    snprintf(name, sizeof name, "rv-slab-%s", c->name);
    sl->fd = sealed_memfd(name, sl->geom.bytes);
    const struct rv_slab_geom *g = &sl->geom;
    void *j = sl->fd < 0 ? MAP_FAILED
                         : mmap(NULL, g->bytes - g->journal_off, PROT_READ, MAP_SHARED, sl->fd, (off_t)g->journal_off);
    if (j == MAP_FAILED) {
        snprintf(why, whylen, "%s: cannot create its slab of %llu sessions (%zu bytes of address space): %s", c->name,
                 (unsigned long long)g->records, g->bytes, strerror(errno));
        slab_close(sl);
        return -1;
    }
    sl->journals = j;
    return 0;
}

void slab_close(struct slab *sl)
{
    if (sl->journals)
        munmap((void *)sl->journals, sl->geom.bytes - sl->geom.journal_off);
    if (sl->fd >= 0)
        close(sl->fd);
    free(sl->free);
    free(sl->retired);
    *sl = (struct slab){ .fd = -1 };
}

/* Retired in the order their UNBINDs were sent, so the oldest go first. */
static void reclaim(struct slab *sl, uint64_t done)
{
    while (sl->first < sl->nretired && sl->retired[sl->first].upto <= done)
        slab_give_back(sl, sl->retired[sl->first++].record);
    if (sl->first == sl->nretired)
        sl->first = sl->nretired = 0;
}

long slab_take(struct slab *sl, uint64_t done)
{
    reclaim(sl, done);
    if (sl->nfree)
        return sl->free[--sl->nfree];
    return sl->fresh < sl->geom.records ? (long)sl->fresh++ : -1;
}

static void punch(int fd, size_t off, size_t len)
{
    fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
}

/* A record that cannot be pushed for want of memory is lost to this run:
 * a session fewer, never a record handed out twice. */
void slab_give_back(struct slab *sl, uint32_t record)
{
    const struct rv_slab_geom *g = &sl->geom;
    punch(sl->fd, record * g->ssr_stride, g->ssr_stride);
    punch(sl->fd, g->journal_off + record * g->journal_stride, g->journal_stride);
    if (sl->nfree == sl->capfree) {
        size_t cap = sl->capfree ? sl->capfree * 2 : 64;
        uint32_t *n = realloc(sl->free, cap * sizeof *n);
        if (!n)
            return;
        sl->free = n;
        sl->capfree = cap;
    }
    sl->free[sl->nfree++] = record;
}

/* A record that cannot be queued for want of memory is lost to this run,
 * as in slab_give_back. */
void slab_retire(struct slab *sl, uint32_t record, uint64_t upto)
{
    if (sl->first && sl->nretired == sl->capretired) {   /* slide the live part down first */
        sl->nretired -= sl->first;
        memmove(sl->retired, sl->retired + sl->first, sl->nretired * sizeof *sl->retired);
        sl->first = 0;
    }
    if (sl->nretired == sl->capretired) {
        size_t cap = sl->capretired ? sl->capretired * 2 : 64;
        struct slab_retired *n = realloc(sl->retired, cap * sizeof *n);
        if (!n)
            return;
        sl->retired = n;
        sl->capretired = cap;
    }
    sl->retired[sl->nretired++] = (struct slab_retired){ record, upto };
}

void slab_release_all(struct slab *sl)
{
    reclaim(sl, UINT64_MAX);
}

const struct rv_journal *slab_journal(const struct slab *sl, uint32_t record)
{
    return (const struct rv_journal *)(sl->journals + (size_t)record * sl->geom.journal_stride);
}
