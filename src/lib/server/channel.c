/* channel.c — the shared channels a service instance holds; see channel.h.
 *
 * A client process that opens many sessions with rv_open_shared gets one
 * socket for them all instead of one each, so neither revived nor the
 * service holds a descriptor per session (wire.h: RV_OPEN_SHARED). Each
 * session keeps everything else of its own: its slab record (SSR and
 * journal), its seqs, its exactly-once replies and its failures. Here is
 * the table of channels by revived's number, each counted by the sessions
 * that use it and closed with the last; demux.c reads them.
 */
#include "channel.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUCKETS 1024

static struct rv_channel *table[BUCKETS];

static struct rv_channel **bucket(uint32_t id)
{
    return &table[id % BUCKETS];
}

struct rv_channel *rv__chan_find(uint32_t id)
{
    struct rv_channel *ch = *bucket(id);
    while (ch && ch->id != id)
        ch = ch->next;
    return ch;
}

struct rv_channel *rv__chan_attach(uint32_t id, int fd)
{
    struct rv_channel *ch = rv__chan_find(id);
    if (ch) {
        if (fd >= 0)
            close(fd);   /* sent again: the one it has serves */
        ch->refs++;
        return ch;
    }
    if (fd < 0 || !(ch = calloc(1, sizeof *ch))) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    *ch = (struct rv_channel){ .src = { RV_SRC_CHANNEL }, .id = id, .fd = fd, .refs = 1, .next = *bucket(id) };
    rv__rt_lock();
    *bucket(id) = ch;
    rv__rt_unlock();
    return ch;
}

void rv__chan_put(struct rv_channel *ch)
{
    if (--ch->refs)
        return;
    rv__rt_lock();
    struct rv_channel **p = bucket(ch->id);
    while (*p != ch)
        p = &(*p)->next;
    *p = ch->next;
    rv__rt_unlock();
    rv__rt_await(&ch->in_worker);
    rv__rt_unpoll_channel(ch);
    close(ch->fd);
    free(ch);
}
