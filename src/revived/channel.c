/* channel.c — shared channels as revived holds them; see channel.h. */
#include "channel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "account.h"
#include "conn.h"
#include "list.h"
#include "log.h"
#include "session.h"

static uint32_t next_id;

/* The client closed its end: every session on the channel ends, as one
 * with a socket of its own does when its client closes it. Each session's
 * hook destroys it, and the last one's destroys the channel. */
static void on_hangup(struct rv_handler *h, uint32_t events)
{
    (void)events;
    struct held_channel *ch = (struct held_channel *)h;
    rv_info("shared channel %u: client gone, ending its sessions", ch->id);
    for (;;) {
        struct held_session *s = ch->sessions;
        bool last = !s->chan_next;
        s->on_hangup(s);
        if (last)
            return;
    }
}

struct held_channel *channel_find(struct held_channel *list, const struct conn *c)
{
    while (list && list->opener != c)
        list = list->next;
    return list;
}

struct held_channel *channel_create(struct held_channel **list, struct conn *c, char *why, size_t whylen)
{
    struct account *a = conn_account(c);
    if (account_charge_fd(a, why, whylen) < 0)
        return NULL;
    int sv[2];
    struct held_channel *ch = calloc(1, sizeof *ch);
    if (!ch || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        snprintf(why, whylen, "cannot create a shared channel: %s", strerror(errno));
        free(ch);
        account_uncharge_fd();
        return NULL;
    }
    next_id = next_id + 1 ? next_id + 1 : 1;
    *ch = (struct held_channel){ .hup = { on_hangup }, .id = next_id, .server_fd = sv[0], .client_fd = sv[1],
                                 .opener = conn_get(c), .account = a, .list = list };
    RV_LIST_PUSH(*list, ch);
    if (loop_add(ch->server_fd, EPOLLRDHUP, &ch->hup) < 0) {
        snprintf(why, whylen, "cannot watch a shared channel: %s", strerror(errno));
        channel_close_if_empty(ch);
        return NULL;
    }
    return ch;
}

void channel_close_if_empty(struct held_channel *ch)
{
    if (ch->sessions)
        return;
    loop_del(ch->server_fd);
    close(ch->server_fd);
    if (ch->client_fd >= 0)
        close(ch->client_fd);
    RV_LIST_UNLINK(*ch->list, ch);
    conn_put(ch->opener);
    account_uncharge_fd();
    free(ch);
}

void channel_join(struct held_channel *ch, struct held_session *s)
{
    s->chan = ch;
    s->chan_prev = NULL;
    s->chan_next = ch->sessions;
    if (ch->sessions)
        ch->sessions->chan_prev = s;
    ch->sessions = s;
}

void channel_leave(struct held_session *s)
{
    struct held_channel *ch = s->chan;
    if (s->chan_prev)
        s->chan_prev->chan_next = s->chan_next;
    else
        ch->sessions = s->chan_next;
    if (s->chan_next)
        s->chan_next->chan_prev = s->chan_prev;
    s->chan = NULL;
    channel_close_if_empty(ch);
}

static struct channel_copy *copy_of(struct held_channel *ch, uint64_t serial)
{
    for (int i = 0; i < 2; i++)
        if (serial && ch->copies[i].serial == serial)
            return &ch->copies[i];
    return NULL;
}

bool channel_held(const struct held_channel *ch, uint64_t serial, uint64_t msg)
{
    const struct channel_copy *c = copy_of((struct held_channel *)ch, serial);
    return c && (c->kept || c->msg == msg);
}

/* The older of the two forgotten: at most an active instance and its
 * standby take sessions at a time, and a wrong guess costs one more copy
 * of the socket (an instance that has it keeps the one it has). */
void channel_give(struct held_channel *ch, uint64_t serial, uint64_t msg, bool kept)
{
    struct channel_copy *c = copy_of(ch, serial);
    if (!c) {
        ch->copies[0] = ch->copies[1];
        c = &ch->copies[1];
        *c = (struct channel_copy){ .serial = serial };
    }
    c->msg = msg;
    c->kept |= kept;
}

void channel_keep(struct held_channel *ch, uint64_t serial, bool kept)
{
    struct channel_copy *c = copy_of(ch, serial);
    if (c)
        c->kept = kept;
}

int channel_take_client_end(struct held_channel *ch)
{
    int fd = ch->client_fd;
    ch->client_fd = -1;
    return fd;
}
