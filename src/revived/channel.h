/* channel.h — shared channels as revived holds them: one socket pair that
 * carries every session one client connection opened to one service with
 * RV_OPEN_SHARED (wire.h), so that revived holds one descriptor for them
 * all, not one each.
 *
 * A channel lives while it carries a session: it is made with the first
 * and closed with the last, or when its client closes its end (which ends
 * every session on it, as a closed socket of its own ends a session).
 * An instance gets its socket with the first of its sessions it is sent,
 * and keeps its copy while it holds a session of the channel. revived
 * sends the socket again (the instance keeps the copy it has, if any)
 * unless that copy is sure to be open when the message is read: sent in
 * the same message, or kept open by a session the instance is sure to
 * hold (one it confirmed bound, or was handed over). A bind the instance
 * may refuse keeps nothing for later messages, and an UNBIND may close
 * the copy: either way the next message brings the socket again. */
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
    struct channel_copy {           /* the last two instances sent its socket */
        uint64_t serial;            /* 0: none */
        uint64_t msg;               /* the number of the control message that last carried it */
        bool kept;                  /* a session the instance surely holds keeps it open there */
    } copies[2];
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
/* Whether the instance with this serial will have the channel's socket
 * open when it reads its control message number msg. */
bool channel_held(const struct held_channel *ch, uint64_t serial, uint64_t msg);
/* The socket goes to the instance in message msg; kept: with a session
 * nothing will refuse (a hand-over). */
void channel_give(struct held_channel *ch, uint64_t serial, uint64_t msg, bool kept);
/* kept: the instance confirmed a session of the channel bound, so its copy
 * stays open; not: it is sent an UNBIND of one, and its copy may close. */
void channel_keep(struct held_channel *ch, uint64_t serial, bool kept);
/* The client end, taken by the OPEN_OK that hands it over; -1 once taken. */
int channel_take_client_end(struct held_channel *ch);

#endif
