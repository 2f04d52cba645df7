/* channel.h — the shared channels a service instance holds (channel.c):
 * a table by revived's number, each counted by its sessions. Not a public
 * header. */
#ifndef RV_CHANNEL_H
#define RV_CHANNEL_H

#include "core.h"

/* The channel `id`, one session more of it: fd (-1: none came) is its
 * socket when this is the first session of it here. NULL, fd closed, if
 * it is unknown and no socket came, or memory ran out. */
struct rv_channel *rv__chan_attach(uint32_t id, int fd);
/* One session fewer: the last one's leaving closes the channel. */
void rv__chan_put(struct rv_channel *ch);
struct rv_channel *rv__chan_find(uint32_t id);

#endif
