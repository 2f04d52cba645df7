/* image_blk.c — the image as the blk service's device; see image.h.
 *
 * A 4-way set-associative cache of image pages in this process (64 MiB)
 * serves libext2fs's reads; a miss reads READ_AHEAD pages at once.
 * Settling writes every page of a transaction through blk, several
 * requests in flight, and keeps the cache up to date. A blk request
 * outlives blk's crashes (its queue is rebuilt from the session's SSR); one
 * that cannot complete at all stops this instance (abort), and the next
 * settles the transaction again. */
#include "image.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "blk_client.h"

#define WAYS 4
#define SETS 4096u                  /* 16384 pages, 64 MiB */
#define READ_AHEAD 16u
#define XFER_PAGES 256u             /* the shared buffer: 1 MiB */
#define RUN_MAX 32u                 /* pages per write request */

struct way {
    uint64_t page;                  /* UINT64_MAX: empty */
    uint64_t used;                  /* last use, for LRU within the set */
};

static struct {
    rv_conn *conn;
    rvblk *b;
    uint64_t bytes, clock;
    struct way way[SETS][WAYS];
    uint8_t *data;                  /* SETS x WAYS pages */
} c;

static uint32_t set_of(uint64_t page)
{
    return (uint32_t)((page * 0x9e3779b97f4a7c15ull) >> 40) % SETS;
}

static uint8_t *slot_data(uint32_t set, unsigned w)
{
    return c.data + ((size_t)set * WAYS + w) * TXN_PAGE;
}

static uint8_t *cached(uint64_t page)
{
    uint32_t set = set_of(page);
    for (unsigned w = 0; w < WAYS; w++)
        if (c.way[set][w].page == page) {
            c.way[set][w].used = ++c.clock;
            return slot_data(set, w);
        }
    return NULL;
}

/* A way for page: its own, or the set's least recently used. */
static uint8_t *place(uint64_t page)
{
    uint32_t set = set_of(page);
    unsigned victim = 0;
    for (unsigned w = 0; w < WAYS; w++) {
        if (c.way[set][w].page == page) {
            victim = w;
            break;
        }
        if (c.way[set][w].used < c.way[set][victim].used)
            victim = w;
    }
    c.way[set][victim] = (struct way){ .page = page, .used = ++c.clock };
    return slot_data(set, victim);
}

static void fail_stop(const char *what, int rc)
{
    fprintf(stderr, "rv-svc-fs: blk %s: %s (%s)\n", what, strerror(-rc), rvblk_error(c.b));
    abort();
}

static const uint8_t *blk_page(uint64_t page)
{
    uint8_t *p = cached(page);
    if (p)
        return p;
    uint64_t pages = c.bytes / TXN_PAGE;
    uint32_t n = (uint32_t)(pages - page < READ_AHEAD ? pages - page : READ_AHEAD);
    int rc = rvblk_io(c.b, BLK_READ, BLK_BE, page, n, 0);
    if (rc < 0)
        fail_stop("read", rc);
    for (uint32_t i = n; i-- > 0;)          /* the page asked for last: most recently used */
        memcpy(p = place(page + i), rvblk_buffer(c.b) + (size_t)i * TXN_PAGE, TXN_PAGE);
    return p;
}

/* Reaps until nothing is in flight; the first error wins. */
static int drain(unsigned *busy)
{
    int err = 0;
    while (*busy > 0) {
        struct blk_completion done[BLK_SLOTS];
        int n = rvblk_reap(c.b, done, BLK_SLOTS, true);
        if (n < 0)
            return n;
        for (int k = 0; k < n; k++)
            err = err ? err : done[k].result;
        *busy -= (unsigned)n;
    }
    return err;
}

/* Writes as many runs as the buffer and the slots hold with one
 * BLK_SUBMITV, waits for them, and goes on. */
static int blk_write(const uint64_t *pages, uint8_t *const *data, uint32_t n)
{
    for (uint32_t i = 0; i < n;) {
        struct blk_submit q[BLK_SLOTS];
        uint32_t tags[BLK_SLOTS];
        unsigned runs = 0, used = 0;
        while (i < n && runs < BLK_SLOTS) {
            uint32_t run = 1;
            while (i + run < n && run < RUN_MAX && pages[i + run] == pages[i] + run)
                run++;
            if (used + run > XFER_PAGES)
                break;
            for (uint32_t k = 0; k < run; k++) {
                memcpy(rvblk_buffer(c.b) + (size_t)(used + k) * TXN_PAGE, data[i + k], TXN_PAGE);
                uint8_t *p = cached(pages[i + k]);
                if (p)
                    memcpy(p, data[i + k], TXN_PAGE);
            }
            q[runs++] = (struct blk_submit){ .op = BLK_WRITE, .cls = BLK_BE, .nblocks = run, .lba = pages[i],
                                             .buf_off = (uint64_t)used * TXN_PAGE };
            used += run;
            i += run;
        }
        int rc = rvblk_submitv(c.b, q, runs, tags);
        if (rc < 0 || (rc = drain(&runs)) < 0)
            return rc;
    }
    return 0;
}

static int blk_sync(void)
{
    return rvblk_io(c.b, BLK_FLUSH, BLK_BE, 0, 0, 0);
}

int image_blk_open(const char *service, struct txnio_image *img, char *why, size_t whylen)
{
    if (rv_connect(NULL, &c.conn) != 0) {
        snprintf(why, whylen, "cannot reach revived for blk service '%s': %s", service, strerror(errno));
        return -1;
    }
    c.b = rvblk_connect(c.conn, service, 0, XFER_PAGES * TXN_PAGE);
    c.data = malloc((size_t)SETS * WAYS * TXN_PAGE);
    if (!c.b || !c.data) {
        snprintf(why, whylen, "cannot open a session with blk service '%s': %s", service,
                 c.b ? "out of memory" : errno == ENOTCONN ? rv_conn_error(c.conn) : strerror(errno));
        return -1;
    }
    for (uint32_t s = 0; s < SETS; s++)
        for (unsigned w = 0; w < WAYS; w++)
            c.way[s][w] = (struct way){ .page = UINT64_MAX };
    c.bytes = rvblk_info(c.b)->blocks * BLK_BLOCK;
    *img = (struct txnio_image){ .bytes = c.bytes, .page = blk_page, .write = blk_write, .sync = blk_sync };
    return 0;
}
