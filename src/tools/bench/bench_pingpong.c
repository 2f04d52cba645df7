/* bench_pingpong.c — the floor revive is compared with: a 64-byte request
 * and reply between two processes, with nothing on top.
 *
 *   seqpacket  an AF_UNIX SOCK_SEQPACKET socketpair, the transport revive's
 *              sessions use, so revive's overhead is the ratio to this;
 *   futex      a word and two buffers in shared memory, a blocking futex
 *              wait/wake per direction: the cheapest blocking hand-off the
 *              kernel offers between processes.
 *
 * The echo side is a forked child pinned to SERVER_CPU; the caller stays
 * where it was pinned. */
#include "bench_tool.h"

#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct futex_chan;

/* A running baseline: the echo child and the caller's end of the channel. */
struct pingpong {
    pid_t pid;
    int fd;                     /* seqpacket: the caller's socket */
    struct futex_chan *chan;    /* futex: the shared page */
};

static struct pingpong *pingpong_new(void)
{
    struct pingpong *pp = calloc(1, sizeof *pp);
    if (!pp)
        bench_die("out of memory");
    pp->fd = -1;
    return pp;
}

/* ---- AF_UNIX SOCK_SEQPACKET ---- */

/* arg: the socketpair; the child closes the caller's end, or it would never
 * see the caller close it. */
static void seqpacket_echo(void *arg)
{
    int *sv = arg, fd = sv[1];
    close(sv[0]);
    char buf[MSG_BYTES];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            return;   /* the caller closed: done */
        if (send(fd, buf, (size_t)n, 0) != n)
            _exit(1);
    }
}

static int seqpacket_round(void *ctx)
{
    struct pingpong *pp = ctx;
    char req[MSG_BYTES] = { 1 }, rep[MSG_BYTES];
    if (send(pp->fd, req, sizeof req, 0) != sizeof req)
        return -1;
    return recv(pp->fd, rep, sizeof rep, 0) == sizeof rep ? 0 : -1;
}

struct contender seqpacket_start(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        bench_die("socketpair: %m");
    struct pingpong *pp = pingpong_new();
    pp->pid = bench_fork_server(seqpacket_echo, sv);
    close(sv[1]);
    pp->fd = sv[0];
    return (struct contender){ "seqpacket", seqpacket_round, pp };
}

/* ---- futex on shared memory ---- */

/* Whose turn it is: F_REPLY (the caller's, also the start), F_REQUEST
 * (the echo side's) or F_QUIT. */
enum { F_REQUEST = 1, F_REPLY, F_QUIT };

struct futex_chan {
    uint32_t state;
    char req[MSG_BYTES];
    char rep[MSG_BYTES];
};

/* Shared between processes, so no FUTEX_PRIVATE_FLAG. */
static void futex_wait_while(uint32_t *word, uint32_t v)
{
    while (__atomic_load_n(word, __ATOMIC_ACQUIRE) == v)
        syscall(SYS_futex, word, FUTEX_WAIT, v, NULL, NULL, 0);
}

static void futex_post(uint32_t *word, uint32_t v)
{
    __atomic_store_n(word, v, __ATOMIC_RELEASE);
    syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
}

static void futex_echo(void *arg)
{
    struct futex_chan *c = arg;
    for (;;) {
        futex_wait_while(&c->state, F_REPLY);
        if (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE) == F_QUIT)
            return;
        memcpy(c->rep, c->req, MSG_BYTES);
        futex_post(&c->state, F_REPLY);
    }
}

static int futex_round(void *ctx)
{
    struct futex_chan *c = ((struct pingpong *)ctx)->chan;
    char rep[MSG_BYTES];
    memset(c->req, 1, MSG_BYTES);
    futex_post(&c->state, F_REQUEST);
    futex_wait_while(&c->state, F_REQUEST);
    memcpy(rep, c->rep, MSG_BYTES);
    return rep[0] == 1 ? 0 : -1;
}

struct contender futex_start(void)
{
    struct futex_chan *c = mmap(NULL, sizeof *c, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (c == MAP_FAILED)
        bench_die("mmap: %m");
    c->state = F_REPLY;
    struct pingpong *pp = pingpong_new();
    pp->chan = c;
    pp->pid = bench_fork_server(futex_echo, c);
    return (struct contender){ "futex", futex_round, pp };
}

/* Tells the echo child to finish (EOF, or F_QUIT) and reaps it. */
void pingpong_stop(struct contender *c)
{
    struct pingpong *pp = c->ctx;
    if (pp->fd >= 0)
        close(pp->fd);
    if (pp->chan) {
        futex_post(&pp->chan->state, F_QUIT);
        munmap(pp->chan, sizeof *pp->chan);
    }
    int st;
    if (waitpid(pp->pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        bench_die("the echo process of the %s baseline failed", c->what);
    free(pp);
}
