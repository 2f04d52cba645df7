/* channel.h — shared channels as revived holds them: one socket pair that
 * carries every session one client connection opened to one service with
 * RV_OPEN_SHARED (wire.h), so that revived holds one descriptor for them
 * all, not one each.
 *
 * A channel lives while it carries a session: it is made with the first
 * and closed with the last, or when its client closes its end (which ends
 * every session on it, as a closed socket of its own ends a session).
 * Each instance of the service gets its socket once, with the first of its
 * sessions it is sent; `given` remembers which instances have it (an
 * instance closes its copy only with its last session of the channel,
 * which revived's last one going also ends here). */
#ifndef RVD_CHANNEL_H
#define RVD_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "loop.h"

struct conn;
struct account;
struct held_session;

struct held_channel {
    struct rv_handler hup;          /* the client closed its end */
    uint32_t id;                    /* never 0, unique among the live ones */
    int server_fd, client_fd;       /* client_fd only until the first OPEN_OK carries it */
    struct conn *opener;            /* whose sessions it carries (a reference) */
    struct account *account;        /* charged its descriptor */
    struct held_session *sessions;  /* linked by chan_next/chan_prev */
    uint64_t given[2];              /* serials of the last two instances sent its socket */
    struct held_channel **list;     /* the owner's list it is in */
    struct held_channel *next, *prev;
};

/* The channel c opened in list, or NULL. */
struct held_channel *channel_find(struct held_channel *list, const struct conn *c);
/* A new channel for c in *list, charged to c's account; NULL with a
 * sentence in why. It closes itself when its last session leaves. */
struct held_channel *channel_create(struct held_channel **list, struct conn *c, char *why, size_t whylen);
void channel_join(struct held_channel *ch, struct held_session *s);
/* s leaves its channel; the channel closes if s was its last session. */
void channel_leave(struct held_session *s);
/* Closes a channel no session joined (its first open failed). */
void channel_close_if_empty(struct held_channel *ch);
/* Whether the instance with this serial was sent the channel's socket;
 * channel_give records that it is being sent. */
bool channel_given(const struct held_channel *ch, uint64_t serial);
void channel_give(struct held_channel *ch, uint64_t serial);
/* The client end, taken by the OPEN_OK that hands it over; -1 once taken. */
int channel_take_client_end(struct held_channel *ch);

#endif
