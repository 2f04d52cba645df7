/* arena_file.c — the durable copy of an arena (`arena_file = PATH`): a redo
 * log and a checkpointed image in one file (arena_file.h shows the layout).
 *
 * Why a redo log beside the memfd rather than the arena mapped from the
 * file: the kernel writes a shared file mapping back whenever it likes, so a
 * page holding a request's uncommitted writes could reach the disk before
 * the undo record that would take them back. Here the file receives only
 * committed bytes, in an order revive chooses:
 *
 *   commit    every range the request's undo log covers (and every block it
 *             allocated) is copied, as it is now, into one transaction,
 *             appended to the redo log with a checksum and fdatasync'ed;
 *             only then is the undo log emptied and the reply sent. A reply
 *             therefore means the bytes are on disk.
 *   rollback  recovery that undoes a request's writes in memory writes the
 *             restored bytes as a transaction too, before it forgets the
 *             log: memory and file never disagree about a request.
 *   checkpoint when the log is full, every page a logged transaction
 *             touched is written from memory into the image (all of memory
 *             is committed then: writers are serialised until their
 *             commit), fdatasync'ed, and only then does the header's
 *             generation move on, which empties the log. A crash half-way
 *             leaves the old generation's log, whose replay over a
 *             half-written image gives the same bytes again.
 *   load      a new revived hands a fresh (zeroed) memfd: the first
 *             instance reads the image into it and replays the log, the
 *             transactions of the current generation up to the first whose
 *             checksum fails (the one a crash tore).
 *
 * Whether memory holds the file's contents is a word in the arena's header
 * page (RV_ARENA_LOADED_OFF) that the image never carries: a crash during
 * the load leaves it unset, and the next instance loads again.
 *
 * All of this runs with the arena's writer lock held (commit) or alone
 * (recovery), so the static state needs no lock of its own.
 */
#include "arena_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "arena_file.h"
#include "fail.h"
#include "journal.h"

#define FILE_MAGIC 0x4c49464152565200ull   /* "\0RVARFIL" */
#define FILE_VERSION 1
#define TXN_MAGIC 0x4e58545652ull         /* "RVTXN" */
#define PAGE 4096u

struct file_hdr {
    uint64_t magic, version, arena_size, wal_bytes;
    uint64_t generation;      /* the redo log's transactions carry it; +1 empties the log */
};

struct txn_hdr {
    uint64_t magic, generation;
    uint64_t bytes;           /* the whole transaction, this header included */
    uint64_t sum;             /* rv__checksum of the transaction with sum = 0 */
};

struct range_hdr {
    uint64_t off, len;        /* then len bytes, padded to 8 */
};

static int fd = -1;
static uint64_t arena_bytes;
static struct file_hdr fh;
static uint64_t wal_end;          /* where the next transaction goes, from the log's start */
static uint8_t *dirty;            /* a bit per arena page written since the checkpoint */
static uint8_t *txn;              /* the transaction being built */
static size_t txn_len, txn_cap;

static uint64_t image_off(uint64_t off) { return RV_ARENA_FILE_HDR + off; }
static uint64_t wal_off(uint64_t off) { return RV_ARENA_FILE_HDR + arena_bytes + off; }
static uint64_t round8(uint64_t n) { return (n + 7) & ~(uint64_t)7; }

static void io_failed(const char *what)
{
    char why[160];
    snprintf(why, sizeof why, "arena file: cannot %s: %s", what, strerror(errno));
    rv__fail_stop(why);
}

static void write_at(const void *buf, size_t len, uint64_t off, const char *what)
{
    for (size_t done = 0; done < len;) {
        ssize_t n = pwrite(fd, (const uint8_t *)buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            io_failed(what);
        done += (size_t)n;
    }
}

static void read_at(void *buf, size_t len, uint64_t off, const char *what)
{
    for (size_t done = 0; done < len;) {
        ssize_t n = pread(fd, (uint8_t *)buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            io_failed(what);
        done += (size_t)n;
    }
}

static void sync_file(void)
{
    if (fdatasync(fd) < 0)
        io_failed("fdatasync");
}

static void mark_dirty(uint64_t off, uint64_t len)
{
    for (uint64_t p = off / PAGE; len && p <= (off + len - 1) / PAGE; p++)
        dirty[p / 8] |= (uint8_t)(1u << (p % 8));
}

static bool is_dirty(uint64_t page) { return dirty[page / 8] & (1u << (page % 8)); }

/* ---- the redo log ---- */

static bool range_ok(uint64_t off, uint64_t len) { return off <= arena_bytes && len <= arena_bytes - off; }

/* Checks the transaction at t (at most room bytes); its size, or 0. */
static uint64_t txn_valid(const uint8_t *t, uint64_t room)
{
    struct txn_hdr h;
    if (room < sizeof h)
        return 0;
    memcpy(&h, t, sizeof h);
    if (h.magic != TXN_MAGIC || h.generation != fh.generation || h.bytes < sizeof h || h.bytes > room ||
        h.bytes % 8)
        return 0;
    uint64_t sum = h.sum;
    struct txn_hdr zeroed = h;
    zeroed.sum = 0;
    uint64_t check = rv__checksum(&zeroed, sizeof zeroed) ^ rv__checksum(t + sizeof h, h.bytes - sizeof h);
    return check == sum ? h.bytes : 0;
}

/* Walks the log's transactions of this generation; marks what they touch
 * dirty and, with mem, applies them. Returns where the log ends. */
static uint64_t replay(uint8_t *mem)
{
    uint8_t *log = malloc(RV_ARENA_WAL_BYTES);
    if (!log)
        rv__fail_stop("arena file: out of memory reading the redo log");
    read_at(log, RV_ARENA_WAL_BYTES, wal_off(0), "read the redo log");
    uint64_t at = 0, size;
    while ((size = txn_valid(log + at, RV_ARENA_WAL_BYTES - at))) {
        for (uint64_t r = at + sizeof(struct txn_hdr); r < at + size;) {
            struct range_hdr rh;
            memcpy(&rh, log + r, sizeof rh);
            if (!range_ok(rh.off, rh.len) || r + sizeof rh + round8(rh.len) > at + size)
                rv__fail_stop("arena file: a transaction with a sound checksum names bytes outside the arena");
            if (mem)
                memcpy(mem + rh.off, log + r + sizeof rh, rh.len);
            mark_dirty(rh.off, rh.len);
            r += sizeof rh + round8(rh.len);
        }
        at += size;
    }
    free(log);
    return at;
}

/* ---- checkpoints ---- */

/* Page 0 goes out with the loaded word cleared: the image never says that
 * a memory is loaded. */
static void write_pages(const uint8_t *mem, uint64_t first, uint64_t count)
{
    if (first == 0) {
        uint8_t page[PAGE];
        memcpy(page, mem, PAGE);
        memset(page + RV_ARENA_LOADED_OFF, 0, 8);
        write_at(page, PAGE, image_off(0), "write the image");
        first++, count--;
    }
    if (count)
        write_at(mem + first * PAGE, count * PAGE, image_off(first * PAGE), "write the image");
}

static void write_header(void)
{
    write_at(&fh, sizeof fh, 0, "write the header");
}

static void checkpoint(const uint8_t *mem)
{
    uint64_t pages = arena_bytes / PAGE;
    for (uint64_t p = 0; p < pages;) {
        if (!is_dirty(p)) {
            p++;
            continue;
        }
        uint64_t q = p;
        while (q < pages && is_dirty(q))
            q++;
        write_pages(mem, p, q - p);
        p = q;
    }
    sync_file();
    fh.generation++;
    write_header();
    sync_file();
    memset(dirty, 0, (pages + 7) / 8);
    wal_end = 0;
}

/* ---- building and committing a transaction ---- */

static void txn_reserve(size_t more)
{
    if (txn_len + more <= txn_cap)
        return;
    size_t cap = txn_cap ? txn_cap : 4096;
    while (cap < txn_len + more)
        cap *= 2;
    uint8_t *t = realloc(txn, cap);
    if (!t)
        rv__fail_stop("arena file: out of memory building a transaction");
    txn = t;
    txn_cap = cap;
}

void rv__arena_file_add(const uint8_t *mem, uint64_t off, uint64_t len)
{
    if (fd < 0 || !len)
        return;
    if (!range_ok(off, len))
        rv__fail_stop("arena file: a range outside the arena");
    if (txn_len == 0)
        txn_len = sizeof(struct txn_hdr);
    struct range_hdr rh = { off, len };
    txn_reserve(sizeof rh + round8(len));
    memcpy(txn + txn_len, &rh, sizeof rh);
    memcpy(txn + txn_len + sizeof rh, mem + off, len);
    memset(txn + txn_len + sizeof rh + len, 0, round8(len) - len);
    txn_len += sizeof rh + round8(len);
    mark_dirty(off, len);
}

void rv__arena_file_commit(const uint8_t *mem)
{
    if (fd < 0 || txn_len == 0)
        return;
    if (txn_len > RV_ARENA_WAL_BYTES - wal_end)
        checkpoint(mem);   /* the transaction's pages are marked: a too-big one goes straight in */
    if (txn_len <= RV_ARENA_WAL_BYTES - wal_end) {
        struct txn_hdr h = { .magic = TXN_MAGIC, .generation = fh.generation, .bytes = txn_len };
        h.sum = rv__checksum(&h, sizeof h) ^ rv__checksum(txn + sizeof h, txn_len - sizeof h);
        memcpy(txn, &h, sizeof h);
        write_at(txn, txn_len, wal_off(wal_end), "append to the redo log");
        sync_file();
        wal_end += txn_len;
    }
    txn_len = 0;
}

/* ---- opening and loading ---- */

void rv__arena_file_detach(void)
{
    if (fd >= 0)
        close(fd);
    fd = -1;
    free(dirty);
    dirty = NULL;
    wal_end = txn_len = 0;
}

int rv__arena_file_open(int file, uint64_t size, char *why, size_t whylen)
{
    struct stat st;
    rv__arena_file_detach();
    fd = file;
    arena_bytes = size;
    if (fstat(fd, &st) < 0 || (uint64_t)st.st_size != rv__arena_file_bytes(size) || size % PAGE) {
        snprintf(why, whylen, "the arena file is not the %llu bytes an arena of %llu needs",
                 (unsigned long long)rv__arena_file_bytes(size), (unsigned long long)size);
        return -1;
    }
    if (pread(fd, &fh, sizeof fh, 0) != (ssize_t)sizeof fh) {   /* not read_at: no fail-stop here */
        snprintf(why, whylen, "cannot read the arena file's header: %s", strerror(errno));
        return -1;
    }
    if (fh.magic == 0) {   /* a new file: all zeros, an empty arena */
        fh = (struct file_hdr){ .magic = FILE_MAGIC, .version = FILE_VERSION, .arena_size = size,
                                .wal_bytes = RV_ARENA_WAL_BYTES, .generation = 1 };
        write_header();
        sync_file();
    }
    if (fh.magic != FILE_MAGIC || fh.version != FILE_VERSION || fh.arena_size != size ||
        fh.wal_bytes != RV_ARENA_WAL_BYTES) {
        snprintf(why, whylen, "the arena file's header is not one of this revive's for an arena of %llu bytes",
                 (unsigned long long)size);
        return -1;
    }
    dirty = calloc((size / PAGE + 7) / 8, 1);
    if (!dirty) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    return 0;
}

bool rv__arena_file_on(void) { return fd >= 0; }

void rv__arena_file_recover(uint8_t *mem)
{
    if (fd < 0)
        return;
    uint64_t loaded;
    memcpy(&loaded, mem + RV_ARENA_LOADED_OFF, 8);
    if (loaded == RV_ARENA_LOADED) {
        wal_end = replay(NULL);   /* where to append, and what the next checkpoint writes */
        return;
    }
    read_at(mem, arena_bytes, image_off(0), "read the image");
    wal_end = replay(mem);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    loaded = RV_ARENA_LOADED;
    memcpy(mem + RV_ARENA_LOADED_OFF, &loaded, 8);
    rv__log(RV_LOG_INFO, "arena: loaded from its file (%llu bytes of redo log replayed)", (unsigned long long)wal_end);
}
