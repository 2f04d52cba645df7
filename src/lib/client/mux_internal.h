/* mux_internal.h — a client's shared channels (mux.c): the one
 * socket that carries the sessions a connection opened to a service with
 * rv_open_shared. Not a public header. */
#ifndef RV_MUX_INTERNAL_H
#define RV_MUX_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include "revive/client.h"

struct rv__chan;

/* The channel revived named in an OPEN_OK, now with one session more:
 * with fd >= 0 a new one (fd becomes its socket), else one c was given
 * before. NULL (fd closed) when c has no channel by that id, or memory
 * ran out. */
struct rv__chan *rv__chan_join(rv_conn *c, uint32_t id, int fd, rv_session *s, uint64_t session_id);
/* The session leaves; a channel is kept, empty, for the next session
 * revived puts on it (see mux.c). */
void rv__chan_leave(struct rv__chan *ch, rv_session *s, uint64_t session_id);

int rv__chan_fd(const struct rv__chan *ch);
/* One call at a time on a channel: the caller holds it while it waits. */
void rv__chan_lock(struct rv__chan *ch);
void rv__chan_unlock(struct rv__chan *ch);
/* The next seq of the channel's (seqs are the channel's, so that a reply
 * names the one call it answers; each session's still only grow). */
uint64_t rv__chan_next_seq(struct rv__chan *ch);
/* The session of the channel with this id, or NULL: revived's notices
 * name their session by id. Under the channel's lock. */
rv_session *rv__chan_session(struct rv__chan *ch, uint64_t session_id);

#endif
