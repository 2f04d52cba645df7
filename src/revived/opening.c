/* opening.c — OPENs waiting for their binds; see opening.h.
 *
 * Opening many sessions in one request exists for the client that holds
 * thousands: one message each way instead of one per session, and the
 * service's instance binds them in one wake-up. Each session still binds,
 * and may fail, on its own, so the answer says for each whether it is
 * open; a session's failure never undoes another's bind. */
#include "opening.h"

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
    int client_fd;                  /* the socket, or new channel, the answer hands over */
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
    o->client_fd = -1;
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
    conn_reply(o->opener, &h, body, &o->client_fd, o->client_fd >= 0);
}

static void answer(struct opening *o)
{
    if (o->client_fd >= 0 && (o->flags & RV_OPEN_SHARED))
        o->flags |= RV_OPEN_NEW_CHANNEL;
    if (!o->opened)
        conn_reply_error(o->opener, o->first_error, o->why);
    else if (o->many)
        answer_many(o);
    else {
        struct rv_hdr h = rv__hdr_make(RV_T_OPEN_OK, o->entries[0].id, o->flags, (int32_t)o->channel, 0);
        conn_reply(o->opener, &h, NULL, &o->client_fd, o->client_fd >= 0);
    }
    if (o->client_fd >= 0)
        close(o->client_fd);
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

void opening_bound(struct held_session *s, uint32_t flags)
{
    struct opening *o = s->opening;
    int end = s->chan ? channel_take_client_end(s->chan) : s->client_fd;
    s->client_fd = -1;
    if (end >= 0)
        o->client_fd = end;   /* one per opening: its socket, or its shared channel when new */
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
