/* demux.h — serving a shared channel's datagrams to the sessions they
 * name (demux.c). Not a public header. */
#ifndef RV_DEMUX_H
#define RV_DEMUX_H

#include "core.h"

/* How a reader takes the session a datagram's tag names: claim returns it
 * held (NULL if the channel has no such session), release lets it go. */
struct rv_demux_claimer {
    rv_svc_session *(*claim)(struct rv_channel *ch, int32_t tag);
    void (*release)(rv_svc_session *s);
};

/* Serves the channel's next datagram: a CALL by the session its tag names
 * (rv__sess_on_readable); anything else, or a tag of no session of this
 * channel, answered with an error and dropped. */
void rv__demux_serve(struct rv_channel *ch, const struct rv_demux_claimer *c);
/* The single-threaded claimer: a look-up, nothing to hold. */
extern const struct rv_demux_claimer rv__demux_lookup;

#endif
