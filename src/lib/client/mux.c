/* mux.c — a client's shared channels, each the one socket its sessions
 * with one service are multiplexed on; see mux_internal.h.
 *
 * rv_open_shared puts a connection's sessions with one service on one
 * socket, so that a process may hold tens of thousands of sessions without
 * a descriptor each, here, in revived or in the service. revived says in
 * each OPEN_OK which channel the session is on (its number, and the socket
 * when it is new).
 *
 * revived closes its end of a channel when the channel's last session
 * ends; the client cannot know when that happens (a close it sent is
 * still on its way through the service), so an empty channel is kept
 * while its other end is open: revived may put the next session on it.
 * One whose other end has closed is dropped when the connection gets a
 * new channel, or goes away.
 *
 * Calls on a channel take turns (its lock), so at most one is in flight
 * and a reply's seq names the caller; revived's notices name their session
 * by id, and one read by another session's caller is recorded in the
 * session it names (client.c). */
#include "mux_internal.h"

#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include "conn_internal.h"

#define BUCKETS 256

struct member {
    uint64_t id;
    rv_session *s;
    struct member *next;
};

struct rv__chan {
    uint32_t id;
    int fd;
    unsigned sessions;
    uint64_t seq;
    pthread_mutex_t lock;
    struct member *members[BUCKETS];
    struct rv__chan *next;       /* in the connection's list */
};

static struct member **bucket(struct rv__chan *ch, uint64_t session_id)
{
    return &ch->members[session_id % BUCKETS];
}

static void free_chan(struct rv__chan *ch)
{
    close(ch->fd);
    pthread_mutex_destroy(&ch->lock);
    free(ch);
}

static bool hung_up(const struct rv__chan *ch)
{
    struct pollfd p = { .fd = ch->fd, .events = POLLRDHUP };
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* Empty channels revived has closed its end of. */
static void sweep(struct rv__chan **list)
{
    for (struct rv__chan **p = list; *p;) {
        struct rv__chan *ch = *p;
        if (ch->sessions == 0 && hung_up(ch)) {
            *p = ch->next;
            free_chan(ch);
        } else
            p = &ch->next;
    }
}

static struct rv__chan *find(struct rv__chan *list, uint32_t id)
{
    while (list && list->id != id)
        list = list->next;
    return list;
}

static struct rv__chan *create(struct rv__chan **list, uint32_t id, int fd)
{
    sweep(list);
    struct rv__chan *ch = calloc(1, sizeof *ch);
    if (!ch)
        return NULL;
    ch->id = id;
    ch->fd = fd;
    pthread_mutex_init(&ch->lock, NULL);
    ch->next = *list;
    *list = ch;
    return ch;
}

static void free_all(struct rv__chan *list)
{
    while (list) {
        struct rv__chan *next = list->next;
        free_chan(list);
        list = next;
    }
}

struct rv__chan *rv__chan_join(rv_conn *c, uint32_t id, int fd, rv_session *s, uint64_t session_id)
{
    struct rv__chan **list = rv__conn_chans(c, free_all);
    struct rv__chan *ch = fd >= 0 ? create(list, id, fd) : find(*list, id);
    struct member *m = ch ? malloc(sizeof *m) : NULL;
    if (!m) {
        if (!ch && fd >= 0)
            close(fd);
        return NULL;
    }
    *m = (struct member){ .id = session_id, .s = s, .next = *bucket(ch, session_id) };
    rv__chan_lock(ch);
    *bucket(ch, session_id) = m;
    rv__chan_unlock(ch);
    ch->sessions++;
    return ch;
}

void rv__chan_leave(struct rv__chan *ch, rv_session *s, uint64_t session_id)
{
    rv__chan_lock(ch);
    for (struct member **p = bucket(ch, session_id); *p; p = &(*p)->next)
        if ((*p)->s == s) {
            struct member *m = *p;
            *p = m->next;
            free(m);
            break;
        }
    rv__chan_unlock(ch);
    ch->sessions--;
}

int rv__chan_fd(const struct rv__chan *ch) { return ch->fd; }
void rv__chan_lock(struct rv__chan *ch) { pthread_mutex_lock(&ch->lock); }
void rv__chan_unlock(struct rv__chan *ch) { pthread_mutex_unlock(&ch->lock); }
uint64_t rv__chan_next_seq(struct rv__chan *ch) { return ++ch->seq; }

rv_session *rv__chan_session(struct rv__chan *ch, uint64_t session_id)
{
    for (struct member *m = *bucket(ch, session_id); m; m = m->next)
        if (m->id == session_id)
            return m->s;
    return NULL;
}
