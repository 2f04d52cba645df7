/* rv-ring-producer.c — the producer of the `ringbuf` example (ring.h).
 *
 *   rv-ring-producer [--socket PATH] [--rate N]
 *
 * Creates the ring in a memfd, provides it through revived as "ring" with
 * its two notifiers, then writes records (about N a second, default
 * 20000) for as long as it lives: kill it, and revived withdraws the ring;
 * the manifest restarts it with a new id and a fresh buffer. Once it
 * provides the ring it says so on stdout, with its id. Run by revived
 * from examples/manifest.ini, it finds revived through REVIVE_NS_FD. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "revive/version.h"
#include "revive/cap.h"
#include "revive/dataspace.h"
#include "ring.h"

static uint64_t fresh_id(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return ((uint64_t)getpid() << 32) ^ (uint64_t)t.tv_nsec ^ ((uint64_t)t.tv_sec << 20) ^ 1;
}

static struct ring *make_ring(int *memfd)
{
    *memfd = memfd_create("ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (*memfd < 0 || ftruncate(*memfd, sizeof(struct ring)) < 0)
        return NULL;
    struct ring *r = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE, MAP_SHARED, *memfd, 0);
    if (r == MAP_FAILED)
        return NULL;
    r->slots = RING_SLOTS;
    r->producer = fresh_id();
    r->magic = RING_MAGIC;
    return r;
}

/* Waits for the consumer to free a slot (or a short while, to re-check). */
static void wait_space(int space)
{
    struct pollfd p = { .fd = space, .events = POLLIN };
    uint64_t n;
    if (poll(&p, 1, 100) == 1 && read(space, &n, sizeof n) < 0)
        return;
}

static void produce(struct ring *r, int data, int space, long rate)
{
    struct timespec gap = { 0, rate > 0 ? 1000000000L / rate : 0 };
    uint64_t one = 1;
    for (;;) {
        uint64_t head = atomic_load(&r->head);
        if (head - atomic_load(&r->tail) >= RING_SLOTS) {
            wait_space(space);
            continue;
        }
        struct ring_record *rec = &r->rec[head % RING_SLOTS];
        rec->producer = r->producer;
        rec->seq = head;
        rec->check = ring_check(r->producer, head);
        atomic_store(&r->head, head + 1);
        if (write(data, &one, sizeof one) < 0 && errno != EAGAIN)
            return;
        if (gap.tv_nsec)
            nanosleep(&gap, NULL);
    }
}

/* A restarted producer may find its dead predecessor still holding the
 * name for a moment (revived withdraws it when it sees the death):
 * RV_EBUSY is retried for a while before it counts as a real conflict. */
static int provide(rv_conn *conn, int memfd, const int *notifiers)
{
    int rc;
    for (int tries = 0; tries < 300; tries++) {
        if ((rc = rv_ds_provide(conn, RING_NAME, memfd, notifiers, 2)) != RV_EBUSY)
            break;
        nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
    }
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = { { "socket", required_argument, NULL, 's' },
                                          { "rate", required_argument, NULL, 'r' },
                                          { "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 } };
    const char *sock = NULL;
    long rate = 20000;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 's')
            sock = optarg;
        else if (c == 'r')
            rate = strtol(optarg, NULL, 10);
        else if (c == 'V') {
            printf("rv-ring-producer %s\n", REVIVE_VERSION);
            return 0;
        } else {
            fprintf(stderr, "usage: rv-ring-producer [--socket PATH] [--rate N]\n");
            return 2;
        }
    }
    int memfd;
    struct ring *r = make_ring(&memfd);
    int notifiers[2] = { eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) };
    rv_conn *conn;
    int rc = !r || notifiers[0] < 0 || notifiers[1] < 0 ? RV_EIO : rv_connect(sock, &conn);
    if (rc == 0 && (rc = provide(conn, memfd, notifiers)) != 0)
        fprintf(stderr, "rv-ring-producer: providing '%s': %s: %s\n", RING_NAME, rv_strerror(rc), rv_conn_error(conn));
    else if (rc)
        fprintf(stderr, "rv-ring-producer: %s\n", rv_strerror(rc));
    if (rc)
        return 1;
    printf("providing '%s' as producer %#llx\n", RING_NAME, (unsigned long long)r->producer);
    fflush(stdout);
    produce(r, notifiers[RING_DATA], notifiers[RING_SPACE], rate);
    return 1;
}
