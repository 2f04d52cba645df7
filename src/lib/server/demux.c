/* demux.c — reading a shared channel (channel.c) for its sessions; see
 * demux.h.
 *
 * The channel is polled in its sessions' place, and one datagram is read
 * at a time: its header is peeked first to learn the session its tag
 * names, so that the session's journal says "receiving" before the
 * datagram leaves the socket, exactly as for a socket of its own (a death
 * inside that recv is the one that can lose a request; journal.h). With
 * workers a channel is held by one worker at a time, so its sessions'
 * requests are served in the order they came, never two at once.
 *
 * The tag is the client's word: it names a session of this channel or
 * nothing. A tag of another channel's session is answered like one of no
 * session, so a client cannot reach what it did not open. */
#include "demux.h"

#include <errno.h>
#include <sys/socket.h>
#include "serve.h"

/* Takes the peeked datagram off the channel, unread (any descriptors it
 * carried are closed by the kernel). */
static void discard(struct rv_channel *ch)
{
    char none;
    while (recv(ch->fd, &none, 0, MSG_DONTWAIT | MSG_TRUNC) < 0 && errno == EINTR)
        continue;
}

/* No session of this channel to serve it: a CALL is answered, so that no
 * caller waits for ever, with RV_ECLOSED (revived's notice of why its
 * session ended comes before it); anything else with RV_EPROTO. */
static void refuse(struct rv_channel *ch, const struct rv_hdr *h, bool framed)
{
    discard(ch);
    bool call = framed && h->type == RV_T_CALL;
    struct rv_hdr r = rv__hdr_make(RV_T_REPLY, call ? h->seq : 0, 0, call ? RV_ECLOSED : RV_EPROTO, 0);
    rv__wire_send(ch->fd, &r, NULL, NULL, 0, MSG_DONTWAIT);
}

void rv__demux_serve(struct rv_channel *ch, const struct rv_demux_claimer *c)
{
    struct rv_hdr h;
    ssize_t n = recv(ch->fd, &h, sizeof h, MSG_DONTWAIT | MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {   /* the client is gone; revived unbinds its sessions */
        rv__rt_unpoll_channel(ch);
        return;
    }
    bool framed = (size_t)n == sizeof h && h.magic == RV_WIRE_MAGIC;
    rv_svc_session *s = framed && h.type == RV_T_CALL ? c->claim(ch, h.status) : NULL;
    if (!s) {
        refuse(ch, &h, framed);
        return;
    }
    if (rv__sess_check(s))
        rv__sess_on_readable(s);
    else
        discard(ch);   /* its state is lost: revived fails it, and tells its client */
    if (c->release)
        c->release(s);
}

static rv_svc_session *lookup(struct rv_channel *ch, int32_t tag)
{
    rv_svc_session *s = tag >= 0 && (uint64_t)tag < rv__rt.slab.records ? rv__rt.by_record[tag] : NULL;
    return s && s->chan == ch ? s : NULL;
}

const struct rv_demux_claimer rv__demux_lookup = { lookup, NULL };
