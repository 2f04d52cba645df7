/* instance.c — starting an instance and releasing it; see instance.h. */
#include "instance.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "child.h"
#include "log.h"
#include "reserve.h"
#include "launch.h"
#include "sandbox.h"
#include "util.h"

static int status_page(struct instance *in)
{
    size_t len = (size_t)sysconf(_SC_PAGESIZE);
    in->status_fd = memfd_create("rv-status", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (in->status_fd < 0 || ftruncate(in->status_fd, (off_t)len) < 0 ||
        fcntl(in->status_fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0)
        return -1;
    void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, in->status_fd, 0);
    if (p == MAP_FAILED)
        return -1;
    in->status = p;
    return 0;
}

static int spawn_child(struct instance *in, int child_end)
{
    const struct rv_service_conf *conf = in->conf;
    struct sandbox_plan plan;
    sandbox_plan(conf, &plan);
    char ctl_var[] = "REVIVE_CTL_FD=3";
    char *const vars[] = { ctl_var, plan.vars[0], plan.vars[1], NULL };
    return launch_program(&in->pid, conf->exec, conf->argv, child_end, vars, &plan.jail);
}

/* The control channel: revived's end blocks at most 2 s on a write, so an
 * instance that stops reading is found hung rather than stalling revived. */
static int control_channel(struct instance *in, int *child_end)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    in->ctl_fd = sv[0];
    *child_end = sv[1];
    struct timeval tv = { .tv_sec = 2 };
    setsockopt(in->ctl_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return 0;
}

static int start(struct instance *in)
{
    int child_end = -1;
    if (status_page(in) < 0 || control_channel(in, &child_end) < 0)
        goto fail;
    int err = spawn_child(in, child_end);
    close(child_end);
    child_end = -1;
    if (err) {
        errno = err;
        goto fail;
    }
    if (child_watch(in->pid, &in->pidfd, &in->exit_h) < 0 || loop_add(in->ctl_fd, EPOLLIN, &in->ctl_h) < 0) {
        int e = errno;
        kill(in->pid, SIGKILL);
        waitpid(in->pid, NULL, 0);
        errno = e;
        goto fail;
    }
    in->spawn_ns = in->last_ping_ns = rv__now_ns();
    return 0;
fail:
    if (child_end >= 0)
        close(child_end);
    return -1;
}

struct instance *instance_spawn(const struct rv_service_conf *conf, struct service *owner,
                                void (*on_exit)(struct rv_handler *, uint32_t),
                                void (*on_ctl)(struct rv_handler *, uint32_t))
{
    struct instance *in = calloc(1, sizeof *in);
    if (!in)
        return NULL;
    static uint64_t serials;
    *in = (struct instance){ .conf = conf, .svc = owner, .serial = ++serials, .pidfd = -1, .ctl_fd = -1,
                             .status_fd = -1, .exit_h = { on_exit }, .ctl_h = { on_ctl } };
    reserve_release();
    int rc = start(in);
    reserve_refill();
    if (rc < 0) {
        int e = errno;
        in->pid = 0;
        instance_free(in);
        errno = e;
        return NULL;
    }
    rv_info("%s: started instance %d", conf->name, (int)in->pid);
    return in;
}

int instance_signal(const struct instance *in, int sig)
{
    return child_signal(in->pid, in->pidfd, sig);
}

int instance_send(struct instance *in, const struct rv_hdr *h, const void *body, const int *fds, size_t nfds,
                  int flags)
{
    int rc = rv__wire_send(in->ctl_fd, h, body, fds, nfds, flags);
    in->ctl_sent += rc == 0;
    return rc;
}

uint64_t instance_ctl_done(const struct instance *in)
{
    return in->status ? __atomic_load_n(&in->status->ctl_done, __ATOMIC_ACQUIRE) : 0;
}

enum child_exit instance_exit_state(const struct instance *in, siginfo_t *si)
{
    return child_exit_state(in->pid, si);
}

int instance_reap(struct instance *in, siginfo_t *si, bool block)
{
    return child_reap(in->pid, in->pidfd, si, block ? 0 : WNOHANG);
}

void instance_free(struct instance *in)
{
    if (in->ctl_fd >= 0) {
        loop_del(in->ctl_fd);
        close(in->ctl_fd);
    }
    child_unwatch(in->pid, &in->pidfd);
    if (in->status)
        munmap(in->status, (size_t)sysconf(_SC_PAGESIZE));
    if (in->status_fd >= 0)
        close(in->status_fd);
    free(in);
}
