/* opening.c — OPENs waiting for their binds; see opening.h.
 *
 * Opening many sessions in one request exists for the client that holds
 * thousands: one message each way instead of one per session, and the
 * service's instance binds them in one wake-up. Each session still binds,
 * and may fail, on its own, so the answer says for each whether it is
 * open; a session's failure never undoes another's bind. */
#include "opening.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "channel.h"
#include "conn.h"
#include "session.h"
#include "wire.h"

struct opening {
    struct conn *opener;            /* a reference */
    bool many, sealed;
    uint32_t want, added, unsettled, opened;
    uint32_t flags;                 /* RV_OPEN_* of the answer */
    uint32_t channel;               /* the shared channel's number */
    int fds[3];                     /* what the answer hands over: the socket, or new channel; */
    size_t nfds;                    /* with a fast path (RV_OPEN_RING), copies of the ring and doorbell */
    int32_t first_error;
    char why[256];                  /* of the first failure */
    struct rv_wire_opened entries[];
};

struct opening *opening_new(struct conn *opener, uint32_t want, bool many)
{
    struct opening *o = calloc(1, sizeof *o + want * sizeof o->entries[0]);
    if (!o)
        return NULL;
    o->opener = conn_get(opener);
    o->many = many;
    o->want = want;
    return o;
}

void opening_add(struct opening *o, struct held_session *s)
{
    s->opening = o;
    s->opening_slot = o->added++;
    o->unsettled++;
}

static void note_failure(struct opening *o, int status, const char *why)
{
    if (o->first_error)
        return;
    o->first_error = status;
    snprintf(o->why, sizeof o->why, "%s", why);
}

/* One OPEN_OK with an entry for each session asked for. */
static void answer_many(struct opening *o)
{
    static uint8_t body[RV_WIRE_MAX_BODY];
    size_t len = o->want * sizeof o->entries[0];
    memcpy(body, o->entries, len);
    size_t wl = o->first_error ? strlen(o->why) : 0;
    memcpy(body + len, o->why, wl);
    struct rv_hdr h = rv__hdr_make(RV_T_OPEN_OK, o->want, o->flags | RV_OPEN_MANY, (int32_t)o->channel, len + wl);
    conn_reply(o->opener, &h, body, o->fds, o->nfds);
}

static void answer(struct opening *o)
{
    if (o->nfds && (o->flags & RV_OPEN_SHARED))
        o->flags |= RV_OPEN_NEW_CHANNEL;
    if (!o->opened)
        conn_reply_error(o->opener, o->first_error, o->why);
    else if (o->many)
        answer_many(o);
    else {
        struct rv_hdr h = rv__hdr_make(RV_T_OPEN_OK, o->entries[0].id, o->flags, (int32_t)o->channel, 0);
        conn_reply(o->opener, &h, NULL, o->fds, o->nfds);
    }
    while (o->nfds)
        close(o->fds[--o->nfds]);
    conn_put(o->opener);
    free(o);
}

static void settle(struct held_session *s)
{
    struct opening *o = s->opening;
    s->opening = NULL;
    o->unsettled--;
    if (o->sealed && !o->unsettled)
        answer(o);
}

void opening_seal(struct opening *o, int status, const char *why)
{
    for (uint32_t i = o->added; i < o->want; i++)
        o->entries[i] = (struct rv_wire_opened){ .status = status };
    if (status)
        note_failure(o, status, why);
    o->sealed = true;
    if (!o->unsettled)
        answer(o);
}

/* The client's copies of a fast path's ring and doorbell, after its
 * socket; the session keeps its own. Without them the session has no fast
 * path, and its calls go on the socket. */
static void hand_over_ring(struct opening *o, const struct held_session *s)
{
    int ring = fcntl(s->ring_fd, F_DUPFD_CLOEXEC, 0);
    int bell = ring < 0 ? -1 : fcntl(s->doorbell, F_DUPFD_CLOEXEC, 0);
    if (bell < 0) {
        if (ring >= 0)
            close(ring);
        return;
    }
    o->fds[o->nfds++] = ring;
    o->fds[o->nfds++] = bell;
    o->flags |= RV_OPEN_RING;
}

void opening_bound(struct held_session *s, uint32_t flags)
{
    struct opening *o = s->opening;
    int end = s->chan ? channel_take_client_end(s->chan) : s->client_fd;
    s->client_fd = -1;
    if (end >= 0) {   /* one per opening: its socket, or its shared channel when new */
        o->fds[o->nfds++] = end;
        if (s->ring_fd >= 0)
            hand_over_ring(o, s);
    }
    o->flags |= flags | (s->chan ? RV_OPEN_SHARED : 0);
    if (s->chan)
        o->channel = s->chan->id;
    o->entries[s->opening_slot] = (struct rv_wire_opened){ .id = s->id };
    o->opened++;
    settle(s);
}

void opening_failed(struct held_session *s, int status, const char *why)
{
    struct opening *o = s->opening;
    o->entries[s->opening_slot] = (struct rv_wire_opened){ .status = status };
    note_failure(o, status, why);
    settle(s);
}
