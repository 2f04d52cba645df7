/* device.c — blk's device and its io_uring; see device.h.
 *
 * The ring's completions wake the runtime's event loop through an eventfd;
 * each completion either issues the rest of a short transfer or ends its
 * request, and frees a place for the next one the scheduler picks. */
#include "device.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "blk.h"
#include "revive/server.h"

struct io_list {
    struct dev_io *first, *last;
};

static struct {
    int fd;
    uint64_t bytes;
    unsigned queue_depth, in_flight;
    struct io_uring ring;
    int ring_efd;
    bool held;
    struct io_list flying, waiting;
} dev = { .fd = -1, .ring_efd = -1 };

uint64_t device_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t device_bytes(void) { return dev.bytes; }
unsigned device_queue_depth(void) { return dev.queue_depth; }

static void prep(struct io_uring_sqe *sqe, struct dev_io *io)
{
    uint64_t off = io->off + io->done, len = io->len - io->done;
    uint8_t *mem = io->mem + io->done;
    switch (io->op) {
    case BLK_READ: io_uring_prep_read(sqe, dev.fd, mem, (unsigned)len, off); break;
    case BLK_WRITE: io_uring_prep_write(sqe, dev.fd, mem, (unsigned)len, off); break;
    case BLK_FLUSH: io_uring_prep_fsync(sqe, dev.fd, IORING_FSYNC_DATASYNC); break;
    default:
        io_uring_prep_fallocate(sqe, dev.fd, io->falloc_mode ? io->falloc_mode : FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                                off, len);
        break;
    }
    io_uring_sqe_set_data(sqe, io);
}

/* ---- the in-flight and waiting lists ---- */

static void list_add(struct io_list *l, struct dev_io *io)
{
    io->next = NULL;
    io->prev = l->last;
    if (l->last)
        l->last->next = io;
    else
        l->first = io;
    l->last = io;
}

static void list_del(struct io_list *l, struct dev_io *io)
{
    if (io->prev)
        io->prev->next = io->next;
    else
        l->first = io->next;
    if (io->next)
        io->next->prev = io->prev;
    else
        l->last = io->prev;
    io->prev = io->next = NULL;
}

static bool changes(const struct dev_io *io)
{
    return io->op == BLK_WRITE || io->op == BLK_DISCARD;
}

/* Must io wait for one in flight? Two reads never conflict, nor a flush. */
static bool conflicts(const struct dev_io *io)
{
    if (io->op == BLK_FLUSH)
        return false;
    for (const struct dev_io *f = dev.flying.first; f; f = f->next)
        if (f->op != BLK_FLUSH && (changes(io) || changes(f)) && io->off < f->off + f->len && f->off < io->off + io->len)
            return true;
    return false;
}

/* ---- issuing ---- */

static void issue(struct dev_io *io)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&dev.ring);
    if (!sqe)
        abort();        /* the ring is twice the queue depth: cannot be full */
    prep(sqe, io);
    if (!io->in_flight) {
        io->in_flight = true;
        dev.in_flight++;
        list_add(&dev.flying, io);
    }
}

/* Issues io, or sets it aside while it conflicts; true if issued. */
static bool try_issue(struct dev_io *io)
{
    if (conflicts(io)) {
        if (!io->waiting) {
            io->waiting = true;
            list_add(&dev.waiting, io);
        }
        return false;
    }
    if (io->waiting) {
        io->waiting = false;
        list_del(&dev.waiting, io);
    }
    issue(io);
    return true;
}

/* Requests set aside go first, in the order they were picked; then the
 * scheduler's. */
void device_dispatch(void)
{
    bool any = false;
    for (struct dev_io *w = dev.waiting.first, *next; w && !dev.held && dev.in_flight < dev.queue_depth; w = next) {
        next = w->next;
        any |= try_issue(w);
    }
    struct sched_req *sr;
    while (!dev.held && dev.in_flight < dev.queue_depth && (sr = sched_next(device_now_ns())))
        any |= try_issue((struct dev_io *)sr);
    if (any && io_uring_submit(&dev.ring) < 0)
        abort();
}

bool device_cancel(struct dev_io *io)
{
    if (io->in_flight)
        return false;
    if (io->waiting) {
        io->waiting = false;
        list_del(&dev.waiting, io);
    }
    sched_remove(&io->sr);
    return true;
}

void device_queue(struct dev_io *io)
{
    io->done = 0;
    io->in_flight = io->waiting = false;
    if (sched_add(&io->sr) < 0)
        abort();        /* out of memory for the queue: the next instance rebuilds it */
    device_dispatch();
}

void device_hold(bool on)
{
    dev.held = on;
    device_dispatch();
}

/* A read or write that moved less than asked goes out again for the rest;
 * one that moved nothing has reached the end of the image. */
static void complete(struct dev_io *io, int res)
{
    bool data = io->op == BLK_READ || io->op == BLK_WRITE;
    if (data && res > 0 && io->done + (uint64_t)res < io->len) {
        io->done += (uint64_t)res;
        issue(io);          /* still in flight: the rest of the range */
        return;
    }
    io->in_flight = false;
    dev.in_flight--;
    list_del(&dev.flying, io);
    io->finished(io, res < 0 ? res : data && res == 0 && io->len > 0 ? -EIO : 0);
}

static void on_completions(int fd, void *arg)
{
    (void)arg;
    uint64_t n;
    if (read(fd, &n, sizeof n) < 0 && errno != EAGAIN)
        abort();
    struct io_uring_cqe *cqe;
    while (io_uring_peek_cqe(&dev.ring, &cqe) == 0) {
        struct dev_io *io = io_uring_cqe_get_data(cqe);
        int res = cqe->res;
        io_uring_cqe_seen(&dev.ring, cqe);
        complete(io, res);
    }
    device_dispatch();
}

int device_open(unsigned queue_depth, bool direct, char *why, size_t whylen)
{
    struct stat st;
    dev.fd = rv_service_fd(RV_FD_IMAGE);
    dev.queue_depth = queue_depth;
    if (dev.fd < 0 || fstat(dev.fd, &st) < 0) {
        snprintf(why, whylen, "the manifest gives no image (image = PATH)");
        return -1;
    }
    int fl = fcntl(dev.fd, F_GETFL);
    if (direct && (fl < 0 || fcntl(dev.fd, F_SETFL, fl | O_DIRECT) < 0)) {
        snprintf(why, whylen, "the image cannot do direct I/O: %s", strerror(errno));
        return -1;
    }
    dev.bytes = (uint64_t)st.st_size;
    if (S_ISBLK(st.st_mode) && ioctl(dev.fd, BLKGETSIZE64, &dev.bytes) < 0) {
        snprintf(why, whylen, "cannot size the device: %s", strerror(errno));
        return -1;
    }
    dev.bytes -= dev.bytes % BLK_BLOCK;
    if (dev.bytes == 0) {
        snprintf(why, whylen, "the image holds no whole %u-byte block", BLK_BLOCK);
        return -1;
    }
    int rc = io_uring_queue_init(2 * queue_depth, &dev.ring, 0);
    if (rc < 0 || (dev.ring_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0 ||
        io_uring_register_eventfd(&dev.ring, dev.ring_efd) < 0 || rv_watch_fd(dev.ring_efd, on_completions, NULL) < 0) {
        snprintf(why, whylen, "cannot set up io_uring: %s", strerror(rc < 0 ? -rc : errno));
        return -1;
    }
    return 0;
}
