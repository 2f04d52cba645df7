/* blk.c — `rv-svc-blk`, a block device as a revive service (protocol in
 * blk.h), after the SSR design's storage server.
 *
 * Each client's outstanding requests are slots in its SSR: queued ones with
 * their scheduling tags (ioqueue.h), and completed ones until reaped. The
 * service's queue and its set of requests in flight on io_uring are caches
 * of those slots, rebuilt by the recover hook from every SSR: a request in
 * flight when an instance died is simply queued again (idempotent at block
 * level, blk.h), and nobody resubmits anything.
 *
 * A completion is committed into the slot (rv_svc_session_update) before
 * the session's notifier is written, so it is reported once whatever dies
 * when; reaping it (a request, journaled like every other) frees the slot.
 * The I/O itself is device.c's; the FUSE export of the device, export.c's.
 *
 * Single-threaded: the io_uring's completions wake the runtime's event loop
 * through an eventfd. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>
#include "blk.h"
#include "blkcheck.h"
#include "revive/server.h"
#include "device.h"
#include "export.h"

#define BLK_SSR_LAYOUT 1
#define NOTIFIER_SLOT 0
#define BUFFER_SLOT 1

/* What the instance keeps per session: its requests (the device's copies
 * of the slots, so the SSR is read only in handlers) and the buffer's
 * mapping. */
struct req {
    struct dev_io io;           /* first: the device hands these back */
    struct client *c;
    unsigned slot;
};

struct client {
    rv_svc_session *s;
    uint8_t *buf;
    size_t buf_len;
    unsigned in_flight;         /* queued or issued */
    bool gone;                  /* unbound while requests were in flight */
    struct req req[BLK_SLOTS];
};

static unsigned queue_depth = 32;
static uint32_t default_weight = 1;
static bool direct;

static uint64_t device_blocks(void)
{
    return device_bytes() / BLK_BLOCK;
}

/* ---- completions ---- */

struct done {
    unsigned slot;
    int32_t result;
};

static void mark_done(rv_svc_session *s, void *ssr, void *arg)
{
    (void)s;
    const struct done *d = arg;
    struct blk_slot *sl = &((struct blk_ssr *)ssr)->slot[d->slot];
    sl->state = SLOT_DONE;
    sl->result = d->result;
    sl->done_seq = device_now_ns();
}

static void notify(const struct client *c)
{
    uint64_t one = 1;
    ssize_t w = write(rv_stored_fd(c->s, NOTIFIER_SLOT), &one, sizeof one);
    (void)w;    /* a full counter still wakes the client */
}

static void forget_client(struct client *c)
{
    if (c->buf)
        munmap(c->buf, c->buf_len);
    free(c);
}

/* The slot is committed done, then the client told. */
static void finished(struct dev_io *io, int result)
{
    struct req *r = (struct req *)io;
    struct client *c = r->c;
    c->in_flight--;
    if (c->gone) {
        if (c->in_flight == 0)
            forget_client(c);
        return;
    }
    struct done d = { r->slot, result };
    if (rv_svc_session_update(c->s, mark_done, &d) != 0)
        abort();        /* the completion cannot be recorded: the next instance issues it again */
    notify(c);
}

/* ---- sessions ---- */

static struct client *client_of(rv_svc_session *s)
{
    struct client *c = rv_svc_session_data(s);
    if (c)
        return c;
    if (!(c = calloc(1, sizeof *c)))
        return NULL;
    c->s = s;
    for (unsigned i = 0; i < BLK_SLOTS; i++)
        c->req[i] = (struct req){ .c = c, .slot = i, .io.sr.heap_i = SIZE_MAX };
    rv_svc_session_set_data(s, c);
    return c;
}

static int map_buffer(struct client *c, uint64_t bytes)
{
    int fd = rv_stored_fd(c->s, BUFFER_SLOT);
    void *m = fd < 0 ? MAP_FAILED : mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED)
        return -1;
    c->buf = m;
    c->buf_len = bytes;
    return 0;
}

static int blk_bind(rv_svc_session *s, void *ssr, const char *args)
{
    struct blk_ssr *b = ssr;
    int w = blk_weight_of(args, default_weight);
    if (w < 0)
        return BLK_ERR(EINVAL);
    b->weight = (uint32_t)w;
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0 || rv_store_fd(s, NOTIFIER_SLOT, efd) != 0 || !client_of(s))
        return RV_EIO;
    return 0;
}

static void blk_unbind(rv_svc_session *s, void *ssr)
{
    (void)ssr;
    struct client *c = rv_svc_session_data(s);
    if (!c)
        return;
    for (unsigned i = 0; i < BLK_SLOTS; i++)
        if ((c->req[i].io.sr.heap_i != SIZE_MAX || c->req[i].io.waiting) && device_cancel(&c->req[i].io))
            c->in_flight--;     /* not issued: it will not finish */
    rv_svc_session_set_data(s, NULL);
    c->gone = true;
    if (c->in_flight == 0)
        forget_client(c);
}

/* ---- requests ---- */

/* The device's copy of slot i, ready to be queued with the slot's tags. */
static struct dev_io *take_slot(struct client *c, unsigned i, const struct blk_slot *sl)
{
    struct req *r = &c->req[i];
    *r = (struct req){ .c = c, .slot = i,
                       .io = { .op = sl->op, .off = sl->lba * BLK_BLOCK, .len = (uint64_t)sl->nblocks * BLK_BLOCK,
                               .mem = c->buf ? c->buf + sl->buf_off : NULL, .finished = finished,
                               .sr = { .cls = sl->cls, .start = sl->start, .finish = sl->finish,
                                       .arrival_ns = sl->arrival_ns, .heap_i = SIZE_MAX } } };
    return &r->io;
}

static unsigned free_slots(const struct blk_ssr *b)
{
    unsigned n = 0;
    for (unsigned i = 0; i < BLK_SLOTS; i++)
        n += b->slot[i].state == SLOT_FREE;
    return n;
}

/* Queues q (checked) in a free slot; its tag. */
static uint32_t queue_one(struct blk_ssr *b, struct client *c, const struct blk_submit *q)
{
    unsigned i = 0;
    while (b->slot[i].state != SLOT_FREE)
        i++;
    if (++b->next_tag == 0)
        b->next_tag = 1;
    struct blk_slot *sl = &b->slot[i];
    *sl = (struct blk_slot){ .tag = b->next_tag, .state = SLOT_QUEUED, .op = q->op, .cls = q->cls,
                             .nblocks = q->op == BLK_FLUSH ? 0 : q->nblocks, .lba = q->lba, .buf_off = q->buf_off,
                             .arrival_ns = device_now_ns() };
    struct dev_io *io = take_slot(c, i, sl);
    sched_tag(&io->sr, &b->last_finish[q->cls], b->weight, sl->nblocks);
    sl->start = io->sr.start;
    sl->finish = io->sr.finish;
    c->in_flight++;
    device_queue(io);
    return sl->tag;
}

/* BLK_SUBMIT and BLK_SUBMITV: every request checked before any is queued. */
static int do_submit(rv_request *req, struct client *c, const struct blk_args *a)
{
    struct blk_ssr *b = req->ssr;
    if (a->n > free_slots(b))
        return BLK_ERR(EAGAIN);
    for (size_t i = 0; i < a->n; i++) {
#ifdef BLK_TEST_HOOKS
        if (a->q[i].cls == 7)
            abort();        /* the test build's poisonous request */
#endif
        int e = blk_submit_check(&a->q[i], device_blocks(), b->buf_bytes);
        if (e)
            return BLK_ERR(e);
    }
    uint32_t tags[BLK_SLOTS];
    for (size_t i = 0; i < a->n; i++)
        tags[i] = queue_one(b, c, &a->q[i]);
    return rv_reply(req, tags, a->n * sizeof tags[0]);
}

static int do_reap(rv_request *req, uint32_t most)
{
    struct blk_ssr *b = req->ssr;
    uint8_t out[RV_MAX_PAYLOAD];
    uint32_t n = 0;
    size_t at = sizeof n;
    for (unsigned i = 0; i < BLK_SLOTS && n < most && at + sizeof(struct blk_completion) <= sizeof out; i++) {
        struct blk_slot *sl = &b->slot[i];
        if (sl->state != SLOT_DONE)
            continue;
        struct blk_completion cmp = { .tag = sl->tag, .result = sl->result, .done_seq = sl->done_seq };
        memcpy(out + at, &cmp, sizeof cmp);
        at += sizeof cmp;
        n++;
        *sl = (struct blk_slot){ .state = SLOT_FREE };
    }
    memcpy(out, &n, sizeof n);
    return rv_reply(req, out, at);
}

static int do_buffer(rv_request *req, struct client *c, uint64_t bytes)
{
    struct blk_ssr *b = req->ssr;
    if (b->buf_bytes)
        return bytes == b->buf_bytes ? rv_reply_attach(req, BUFFER_SLOT) : BLK_ERR(EEXIST);
    if (bytes == 0 || bytes % BLK_BLOCK || bytes > BLK_BUFFER_MAX)
        return BLK_ERR(EINVAL);
    int fd = memfd_create("rv-blk-buffer", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t)bytes) < 0 || rv_store_fd(req->session, BUFFER_SLOT, fd) != 0) {
        if (fd >= 0)
            close(fd);
        return BLK_ERR(ENOMEM);
    }
    if (map_buffer(c, bytes) < 0)
        return BLK_ERR(ENOMEM);
    b->buf_bytes = bytes;
    return rv_reply_attach(req, BUFFER_SLOT);
}

static int do_info(rv_request *req)
{
    const struct blk_ssr *b = req->ssr;
    struct blk_info in = { .blocks = device_blocks(), .block_size = BLK_BLOCK, .weight = b->weight, .slots = BLK_SLOTS,
                           .queue_depth = device_queue_depth() };
    return rv_reply(req, &in, sizeof in);
}

static int blk_handle(rv_request *req)
{
    struct client *c = client_of(req->session);
    if (!c)
        return RV_ENOMEM;
#ifdef BLK_TEST_HOOKS
    if (req->op == BLK_TEST_HOLD) {
        device_hold(req->len == 4 && *(const uint32_t *)req->data);
        return 0;
    }
#endif
    struct blk_args a;
    int e = blk_decode(req->op, req->data, req->len, &a);
    if (e)
        return BLK_ERR(e);
    switch (req->op) {
    case BLK_INFO: return do_info(req);
    case BLK_NOTIFIER: return rv_reply_attach(req, NOTIFIER_SLOT);
    case BLK_BUFFER: return do_buffer(req, c, a.bytes);
    case BLK_SUBMIT:
    case BLK_SUBMITV: return do_submit(req, c, &a);
    default: return do_reap(req, a.most);    /* blk_decode knows no other op */
    }
}

/* ---- recovery ---- */

static bool blk_validate(rv_svc_session *s, const void *ssr)
{
    (void)s;
    return blk_ssr_sound(ssr, device_blocks());
}

/* Every session's queued requests go back into the queue, in the order
 * their tags give; completed ones are told again (a notifier is only a
 * wake-up: the client reaps what is done). */
static int blk_recover(rv_svc_session **all, size_t n)
{
    struct sched_req **queued = calloc(n * BLK_SLOTS + 1, sizeof *queued);
    uint64_t idle_v[BLK_CLASSES] = { 0 };
    size_t k = 0;
    for (size_t i = 0; queued && i < n; i++) {
        const struct blk_ssr *b = rv_svc_session_ssr(all[i]);
        struct client *c = client_of(all[i]);
        if (!c || (b->buf_bytes && map_buffer(c, b->buf_bytes) < 0))
            rv_svc_fatal("cannot map a session's buffer: %s", strerror(errno));
        bool done = false;
        for (unsigned j = 0; j < BLK_SLOTS; j++) {
            const struct blk_slot *sl = &b->slot[j];
            done |= sl->state == SLOT_DONE;
            if (sl->state != SLOT_QUEUED)
                continue;
            queued[k++] = &take_slot(c, j, sl)->sr;
            c->in_flight++;
        }
        for (int cl = 0; cl < BLK_CLASSES; cl++)
            idle_v[cl] = b->last_finish[cl] > idle_v[cl] ? b->last_finish[cl] : idle_v[cl];
        if (done)
            notify(c);
    }
    if (!queued || sched_rebuild(queued, k, idle_v) < 0)
        rv_svc_fatal("out of memory rebuilding the queue");
    free(queued);
    device_dispatch();
    if (rv_service_fd(RV_FD_FUSE) >= 0 && export_start() != 0)
        rv_svc_fatal("cannot serve the FUSE export (a mount needs state = arena)");
    return 0;
}

/* Arguments (the manifest's `args`): --queue-depth N (requests in flight,
 * 1..256, default 32), --weight N (a session's weight when it names none),
 * --starvation-ms N (how long a lower class may wait), --export-weight N
 * (the FUSE export's weight), --direct (I/O bypasses the page cache). */
static int blk_init(int argc, char **argv)
{
    for (int i = 1; i < argc; i += 2) {
        long v = i + 1 < argc ? strtol(argv[i + 1], NULL, 10) : 0;
        if (strcmp(argv[i], "--direct") == 0) {
            direct = true;
            i--;                /* no value */
        } else if (strcmp(argv[i], "--queue-depth") == 0 && v >= 1 && v <= 256)
            queue_depth = (unsigned)v;
        else if (strcmp(argv[i], "--weight") == 0 && v >= 1 && v <= BLK_WEIGHT_MAX)
            default_weight = (uint32_t)v;
        else if (strcmp(argv[i], "--starvation-ms") == 0 && v >= 1)
            sched_set_starvation((uint64_t)v * 1000000u);
        else if (strcmp(argv[i], "--export-weight") == 0 && v >= 1 && v <= BLK_WEIGHT_MAX)
            export_set_weight((uint32_t)v);
        else
            rv_svc_fatal("bad argument '%s%s%s' (--queue-depth 1..256, --weight 1..%d, --starvation-ms N, "
                         "--export-weight N, --direct)", argv[i], i + 1 < argc ? " " : "",
                         i + 1 < argc ? argv[i + 1] : "", BLK_WEIGHT_MAX);
    }
    char why[160];
    if (device_open(queue_depth, direct, why, sizeof why) < 0)  /* here, not in recover: validate checks ranges against it */
        rv_svc_fatal("%s", why);
    return 0;
}

/* Beyond the runtime's calls: the ring's (set up in init, before the
 * filter: only io_uring_enter afterwards) and a client's buffer. */
static const char *const blk_syscalls[] = { "io_uring_enter", "memfd_create", NULL };

int main(int argc, char **argv)
{
    static const struct rv_service_ops ops = {
        .ssr_layout = BLK_SSR_LAYOUT,
        .ssr_size = sizeof(struct blk_ssr),
        .init = blk_init,
        .bind = blk_bind,
        .unbind = blk_unbind,
        .handle = blk_handle,
        .validate = blk_validate,
        .recover = blk_recover,
        .syscalls = blk_syscalls,
    };
    return rv_service_main(&ops, argc, argv);
}
