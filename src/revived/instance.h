/* instance.h — one running process of a service.
 *
 * A service has an active instance, which serves its sessions, and, where
 * the manifest asks for `standby = yes`, a standby: started ahead of need,
 * initialised, and holding every bound session already (mapped, polled, not
 * read), so a crash costs neither a process start (about 1 ms here) nor a
 * hand-over of each session: only its promotion. Each
 * instance has its control channel, a status page (what it is serving, and
 * its crash record) and a way to learn of its death (child.h). */
#ifndef RV_INSTANCE_H
#define RV_INSTANCE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "child.h"
#include "loop.h"
#include "manifest.h"
#include "status.h"
#include "wire.h"

struct service;

struct instance {
    const struct rv_service_conf *conf;
    struct service *svc;               /* the owner's: never looked into here */
    pid_t pid;
    uint64_t serial;                   /* unique for revived's run, never 0 (channel.h: given) */
    int pidfd, ctl_fd, status_fd;
    struct rv_status_page *status;     /* read-only view of the instance's page */
    struct rv_handler exit_h, ctl_h;
    uint64_t spawn_ns;                 /* or the promotion, for a standby */
    uint64_t ping_sent_ns;             /* 0: no ping outstanding */
    uint64_t ctl_sent;                 /* control messages sent to it (its status page says how
                                          many it has handled) */
    uint64_t last_ping_ns;
    unsigned binds_out;                /* BINDs sent it whose BIND_DONE is not read yet (handover.c) */
    bool killed_by_us;                 /* the service's last_exit already says why */
    int signalled;                     /* the last signal revivectl asked for; 0: none */
    bool waiting;                      /* said HELLO, waits for its sessions */
    bool handed_over;                  /* has been sent the sessions */
    bool adopted;                      /* a standby that holds every bound session already: sent
                                          at its HELLO, then those each BIND_DONE binds (handover.c) */
    bool settled;                      /* ... and has said so (its PONG to the PING behind them),
                                          its sandbox found in force then */
    bool retiring;                     /* a standby killed on purpose: never to be promoted */
    struct instance *next_dying;       /* on its service's dying list (supervisor.c) */
    bool dying;                        /* dead to revived, its exit not yet reaped */
};

/* Starts the program of service conf for its owner; the handlers run on its
 * death and on its control messages. NULL (errno set) if it cannot be
 * started. */
struct instance *instance_spawn(const struct rv_service_conf *conf, struct service *owner,
                                void (*on_exit)(struct rv_handler *, uint32_t),
                                void (*on_ctl)(struct rv_handler *, uint32_t));
int instance_signal(const struct instance *in, int sig);
/* Sends a control message (rv__wire_send), counting it; 0 or -errno. */
int instance_send(struct instance *in, const struct rv_hdr *h, const void *body, const int *fds, size_t nfds,
                  int flags);
/* How many of the control messages sent it has handled in full, by its
 * own word (status.h): a claim, trusted only with its own sessions. */
uint64_t instance_ctl_done(const struct instance *in);
/* How far its exit has gone (child.h); si filled when CHILD_RELEASED. */
enum child_exit instance_exit_state(const struct instance *in, siginfo_t *si);
/* 1 when it has exited (si filled), 0 while it runs. */
int instance_reap(struct instance *in, siginfo_t *si, bool block);
/* Releases revived's side of a dead (reaped) instance. */
void instance_free(struct instance *in);

#endif
