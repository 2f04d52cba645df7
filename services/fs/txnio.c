/* txnio.c — the transactional io_manager under libext2fs; see txnio.h.
 *
 * The log, in memory that outlives the instance:
 *
 *   struct log_head | page numbers (max_pages) | pad to 4K | page slots
 *
 * Only this process writes it, and only an instance that took over reads
 * it, so the protocol needs no locks, only ordering: every byte of a
 * transaction is stored before the release store of COMMITTED, and the log
 * is marked EMPTY only after the image holds every page. Which page lives
 * in which slot is also kept in a hash table in process memory, rebuilt
 * from nothing: an instance starts on a settled (empty) log.
 *
 * The image itself is behind struct txnio_image: a file or device revived
 * holds (image_file.c), or a blk session (image_blk.c). */
#include "txnio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>

#define LOG_MAGIC 0x4c4e5854u   /* "TXNL" */
#define LOG_EMPTY 0u
#define LOG_COMMITTED 1u

struct log_head {
    uint32_t magic;
    uint32_t state;             /* LOG_EMPTY, LOG_COMMITTED: the commit point */
    uint32_t max_pages;
    uint32_t npages;
    uint32_t meta_len;
    uint32_t reserved;
    uint64_t tag_session, tag_seq;
    uint64_t checksum;          /* of the fields from max_pages on, the meta and the page numbers */
    uint8_t meta[TXN_META_MAX];
    uint64_t pageno[];
};

static struct {
    struct log_head *head;
    uint8_t *slots;
    const struct txnio_image *img;
    uint64_t image_bytes;
    uint32_t used;              /* slots written since the last settle */
    bool overflow;              /* a write found the log full */
    uint32_t *index;            /* page number hash -> slot + 1; 0: free */
    uint32_t index_mask;
    const uint64_t *compared;   /* sorted: pages whose writes are compared first */
    size_t ncompared;
    uint32_t *order;            /* settle's scratch: slots by page number */
    uint64_t *order_pages;
    uint8_t **order_data;
} lg;

static size_t head_bytes(uint32_t max_pages)
{
    size_t b = sizeof(struct log_head) + (size_t)max_pages * sizeof(uint64_t);
    return (b + TXN_PAGE - 1) / TXN_PAGE * TXN_PAGE;
}

size_t txnio_log_bytes(uint32_t max_pages)
{
    return head_bytes(max_pages) + (size_t)max_pages * TXN_PAGE;
}

uint64_t txnio_image_bytes(void)
{
    return lg.image_bytes;
}

/* ---- the slot index ---- */

static uint32_t hash_page(uint64_t page)
{
    return (uint32_t)((page * 0x9e3779b97f4a7c15ull) >> 32) & lg.index_mask;
}

static uint8_t *slot_of(uint64_t page)
{
    for (uint32_t h = hash_page(page);; h = (h + 1) & lg.index_mask) {
        uint32_t s = lg.index[h];
        if (s == 0)
            return NULL;
        if (lg.head->pageno[s - 1] == page)
            return lg.slots + (size_t)(s - 1) * TXN_PAGE;
    }
}

static void index_add(uint64_t page, uint32_t slot)
{
    uint32_t h = hash_page(page);
    while (lg.index[h] != 0)
        h = (h + 1) & lg.index_mask;
    lg.index[h] = slot + 1;
}

static void index_clear(void)
{
    memset(lg.index, 0, ((size_t)lg.index_mask + 1) * sizeof *lg.index);
}

/* ---- attaching ---- */

int txnio_attach(const struct txnio_image *img, void *log, size_t log_bytes)
{
    uint32_t max_pages = 0;
    while (txnio_log_bytes(max_pages + 1) <= log_bytes)
        max_pages++;
    if (max_pages == 0)
        return -EINVAL;
    lg.img = img;
    lg.image_bytes = img->bytes - img->bytes % TXN_PAGE;
    lg.head = log;
    lg.slots = (uint8_t *)log + head_bytes(max_pages);
    if (lg.head->magic != LOG_MAGIC) {
        memset(lg.head, 0, sizeof *lg.head);
        lg.head->max_pages = max_pages;
        __atomic_store_n(&lg.head->magic, LOG_MAGIC, __ATOMIC_RELEASE);
    }
    uint32_t cap = 1;
    while (cap < 2 * max_pages)
        cap <<= 1;
    lg.index = calloc(cap, sizeof *lg.index);
    lg.order = calloc(max_pages, sizeof *lg.order);
    lg.order_pages = calloc(max_pages, sizeof *lg.order_pages);
    lg.order_data = calloc(max_pages, sizeof *lg.order_data);
    if (!lg.index || !lg.order || !lg.order_pages || !lg.order_data)
        return -ENOMEM;
    lg.index_mask = cap - 1;
    return 0;
}

/* ---- commit and settle ---- */

static uint64_t mix(uint64_t h, const void *p, size_t len)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < len; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t head_checksum(const struct log_head *h)
{
    size_t from = offsetof(struct log_head, max_pages);
    uint64_t c = mix(0xcbf29ce484222325ull, (const uint8_t *)h + from, offsetof(struct log_head, checksum) - from);
    c = mix(c, h->meta, h->meta_len);
    return mix(c, h->pageno, (size_t)h->npages * sizeof *h->pageno);
}

int txnio_commit(uint64_t tag_session, uint64_t tag_seq, const void *meta, size_t len)
{
    struct log_head *h = lg.head;
    if (lg.overflow || len > TXN_META_MAX)
        return -EFBIG;
    h->npages = lg.used;
    h->meta_len = (uint32_t)len;
    h->tag_session = tag_session;
    h->tag_seq = tag_seq;
    memcpy(h->meta, meta, len);
    h->checksum = head_checksum(h);
    __atomic_store_n(&h->state, LOG_COMMITTED, __ATOMIC_RELEASE);
    return 0;
}

bool txnio_pending(uint64_t *tag_session, uint64_t *tag_seq)
{
    const struct log_head *h = lg.head;
    if (__atomic_load_n(&h->state, __ATOMIC_ACQUIRE) != LOG_COMMITTED)
        return false;
    *tag_session = h->tag_session;
    *tag_seq = h->tag_seq;
    return true;
}

/* A committed log that fails its checksum or names a page outside the
 * image was not written by this code: applying it would scribble over the
 * image, so the process stops and the log stays for a person to look at. */
static void check_committed(const struct log_head *h)
{
    bool sound = h->npages <= h->max_pages && h->meta_len <= TXN_META_MAX && h->checksum == head_checksum(h);
    for (uint32_t i = 0; sound && i < h->npages; i++)
        sound = h->pageno[i] < lg.image_bytes / TXN_PAGE;
    if (!sound)
        abort();
}

static void forget_writes(void)
{
    index_clear();
    lg.used = 0;
    lg.overflow = false;
}

static int by_page(const void *a, const void *b)
{
    uint64_t x = lg.head->pageno[*(const uint32_t *)a], y = lg.head->pageno[*(const uint32_t *)b];
    return x < y ? -1 : x > y;
}

/* Writes the committed pages into the image, in page order. An image that
 * cannot be written cannot be left half-written: the process stops, and the
 * next instance settles the log again. */
static void apply_pages(const struct log_head *h)
{
    for (uint32_t i = 0; i < h->npages; i++)
        lg.order[i] = i;
    qsort(lg.order, h->npages, sizeof *lg.order, by_page);
    for (uint32_t i = 0; i < h->npages; i++) {
        lg.order_pages[i] = h->pageno[lg.order[i]];
        lg.order_data[i] = lg.slots + (size_t)lg.order[i] * TXN_PAGE;
    }
    int rc = lg.img->write(lg.order_pages, lg.order_data, h->npages);
    if (rc < 0) {
        fprintf(stderr, "rv-svc-fs: cannot write the image: %s\n", strerror(-rc));
        abort();
    }
}

void txnio_settle(void (*apply_meta)(const void *meta, size_t len))
{
    struct log_head *h = lg.head;
    if (__atomic_load_n(&h->state, __ATOMIC_ACQUIRE) == LOG_COMMITTED) {
        check_committed(h);
        if (apply_meta)
            apply_meta(h->meta, h->meta_len);
        apply_pages(h);
        __atomic_store_n(&h->state, LOG_EMPTY, __ATOMIC_RELEASE);
    }
    forget_writes();
}

void txnio_abort(void)
{
    if (__atomic_load_n(&lg.head->state, __ATOMIC_ACQUIRE) == LOG_COMMITTED)
        abort();
    forget_writes();
}

void txnio_discard(void)
{
    __atomic_store_n(&lg.head->state, LOG_EMPTY, __ATOMIC_RELEASE);
    forget_writes();
}

uint32_t txnio_dirty(void)
{
    return lg.used;
}

bool txnio_committed(void)
{
    return __atomic_load_n(&lg.head->state, __ATOMIC_ACQUIRE) == LOG_COMMITTED;
}

int txnio_sync(void)
{
    return lg.img->sync();
}

/* ---- byte-level reads and writes over pages ---- */

static const uint8_t *page_now(uint64_t page)
{
    const uint8_t *s = slot_of(page);
    return s ? s : lg.img->page(page);
}

static errcode_t read_bytes(uint64_t off, size_t len, void *data)
{
    if (off > lg.image_bytes || len > lg.image_bytes - off)
        return EXT2_ET_SHORT_READ;
    uint8_t *out = data;
    while (len > 0) {
        uint64_t page = off / TXN_PAGE;
        size_t in = off % TXN_PAGE, n = TXN_PAGE - in < len ? TXN_PAGE - in : len;
        memcpy(out, page_now(page) + in, n);
        out += n, off += n, len -= n;
    }
    return 0;
}

/* The slot of page, made if new (holding the page's bytes from the image
 * unless the caller overwrites it whole); NULL when the log is full. */
static uint8_t *slot_for_write(uint64_t page, bool whole)
{
    uint8_t *s = slot_of(page);
    if (s)
        return s;
    if (lg.used == lg.head->max_pages) {
        lg.overflow = true;
        return NULL;
    }
    uint32_t slot = lg.used++;
    lg.head->pageno[slot] = page;
    s = lg.slots + (size_t)slot * TXN_PAGE;
    if (!whole)
        memcpy(s, lg.img->page(page), TXN_PAGE);
    index_add(page, slot);
    return s;
}

static bool compared(uint64_t page)
{
    size_t lo = 0, hi = lg.ncompared;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (lg.compared[mid] == page)
            return true;
        if (lg.compared[mid] < page)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

void txnio_compare_pages(const uint64_t *pages, size_t n)
{
    lg.compared = pages;
    lg.ncompared = n;
}

static errcode_t write_bytes(uint64_t off, size_t len, const void *data)
{
    if (off > lg.image_bytes || len > lg.image_bytes - off)
        return EXT2_ET_SHORT_WRITE;
    if (txnio_committed())
        abort();            /* a write before the last transaction was settled */
    const uint8_t *in_data = data;
    while (len > 0) {
        uint64_t page = off / TXN_PAGE;
        size_t in = off % TXN_PAGE, n = TXN_PAGE - in < len ? TXN_PAGE - in : len;
        if (!compared(page) || memcmp(page_now(page) + in, in_data, n) != 0) {
            uint8_t *s = slot_for_write(page, n == TXN_PAGE);
            if (!s)
                return EXT2_ET_NO_MEMORY;
            memcpy(s + in, in_data, n);
        }
        in_data += n, off += n, len -= n;
    }
    return 0;
}

/* ---- the io_manager ---- */

static errcode_t tx_open(const char *name, int flags, io_channel *channel)
{
    (void)flags;
    io_channel ch;
    errcode_t err = ext2fs_get_memzero(sizeof *ch, &ch);
    if (err)
        return err;
    if ((err = ext2fs_get_mem(strlen(name) + 1, &ch->name))) {
        ext2fs_free_mem(&ch);
        return err;
    }
    strcpy(ch->name, name);
    ch->magic = EXT2_ET_MAGIC_IO_CHANNEL;
    ch->manager = txnio_manager;
    ch->block_size = 1024;
    ch->refcount = 1;
    *channel = ch;
    return 0;
}

static errcode_t tx_close(io_channel ch)
{
    if (--ch->refcount > 0)
        return 0;
    ext2fs_free_mem(&ch->name);
    ext2fs_free_mem(&ch);
    return 0;
}

static errcode_t tx_set_blksize(io_channel ch, int blksize)
{
    ch->block_size = blksize;
    return 0;
}

/* A negative count is a byte count, as in every io_manager. */
static size_t span(io_channel ch, int count)
{
    return count < 0 ? (size_t)-count : (size_t)count * (size_t)ch->block_size;
}

static errcode_t tx_read64(io_channel ch, unsigned long long block, int count, void *data)
{
    return read_bytes(block * (uint64_t)ch->block_size, span(ch, count), data);
}

static errcode_t tx_write64(io_channel ch, unsigned long long block, int count, const void *data)
{
    return write_bytes(block * (uint64_t)ch->block_size, span(ch, count), data);
}

static errcode_t tx_read(io_channel ch, unsigned long block, int count, void *data)
{
    return tx_read64(ch, block, count, data);
}

static errcode_t tx_write(io_channel ch, unsigned long block, int count, const void *data)
{
    return tx_write64(ch, block, count, data);
}

static errcode_t tx_write_byte(io_channel ch, unsigned long offset, int count, const void *data)
{
    (void)ch;
    return write_bytes(offset, (size_t)count, data);
}

/* Durability is txnio_sync's, once a transaction is settled; libext2fs
 * flushes the channel after each of its own flushes, mid-transaction. */
static errcode_t tx_flush(io_channel ch)
{
    (void)ch;
    return 0;
}

static errcode_t tx_set_option(io_channel ch, const char *option, const char *arg)
{
    (void)ch, (void)option, (void)arg;
    return EXT2_ET_INVALID_ARGUMENT;
}

static errcode_t tx_zeroout(io_channel ch, unsigned long long block, unsigned long long count)
{
    static const uint8_t zeros[TXN_PAGE];
    uint64_t off = block * (uint64_t)ch->block_size, len = count * (uint64_t)ch->block_size;
    while (len > 0) {
        size_t n = len < sizeof zeros ? (size_t)len : sizeof zeros;
        errcode_t err = write_bytes(off, n, zeros);
        if (err)
            return err;
        off += n, len -= n;
    }
    return 0;
}

static struct struct_io_manager txn_io = {
    .magic = EXT2_ET_MAGIC_IO_MANAGER,
    .name = "revive transactional I/O",
    .open = tx_open,
    .close = tx_close,
    .set_blksize = tx_set_blksize,
    .read_blk = tx_read,
    .write_blk = tx_write,
    .flush = tx_flush,
    .write_byte = tx_write_byte,
    .set_option = tx_set_option,
    .read_blk64 = tx_read64,
    .write_blk64 = tx_write64,
    .zeroout = tx_zeroout,
};

io_manager txnio_manager = &txn_io;
