/* txnio.h — the file system's block I/O: a libext2fs io_manager over the
 * image whose writes are grouped into transactions, each applied to the
 * image all or nothing.
 *
 * A transaction's writes go, a 4 KiB page at a time, into a redo log in
 * memory revived holds (the arena), never to the image directly; reads see
 * them. Committing writes the log's page list, its metadata and a checksum,
 * then flips its state to COMMITTED with one store: the commit point.
 * Settling copies the pages into the image and empties the log. So, killed
 * at any instruction, the next instance finds either an empty log (the
 * image as after the last committed transaction), a torn one (never
 * committed: thrown away) or a committed one, which it settles again — the
 * same bytes to the same places. A transaction can carry a tag (the native
 * request that made it: applied only if that request committed too) and a
 * little metadata of the service's (its reply journal entry), applied with
 * it.
 *
 * libext2fs rewrites every group descriptor and bitmap at each flush: those
 * pages (txnio_compare_pages) are compared with the image and logged only
 * when they changed. */
#ifndef RV_FS_TXNIO_H
#define RV_FS_TXNIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <ext2fs/ext2fs.h>

#define TXN_PAGE 4096u
#define TXN_META_MAX 2048u

/* The log's size in memory, for a transaction of up to max_pages pages. */
size_t txnio_log_bytes(uint32_t max_pages);

/* Where the image is: a file or device revived holds (image_file.c), or
 * a blk session (image_blk.c). */
struct txnio_image {
    uint64_t bytes;
    /* The image's page (4 KiB) as it is now; valid until the next call. */
    const uint8_t *(*page)(uint64_t page);
    /* Writes n pages, sorted by number, all or fail: 0 or -errno. */
    int (*write)(const uint64_t *pages, uint8_t *const *data, uint32_t n);
    /* Makes what was written durable. */
    int (*sync)(void);
};

/* Binds the io_manager to the image and to its log (log_bytes of memory
 * that outlives the instance, zeroed when new). 0, or a negative errno. */
int txnio_attach(const struct txnio_image *img, void *log, size_t log_bytes);
uint64_t txnio_image_bytes(void);
/* The pages (sorted, kept by the caller) whose writes are compared with
 * the image first and dropped when they change nothing. */
void txnio_compare_pages(const uint64_t *pages, size_t n);
extern io_manager txnio_manager;

/* What a committed log waiting to be settled is tagged with: (0, 0) for
 * one that always applies. false if none waits. */
bool txnio_pending(uint64_t *tag_session, uint64_t *tag_seq);
/* Settles the log: a committed one is applied (its metadata goes to
 * apply_meta first), an uncommitted one thrown away; it is empty after. */
void txnio_settle(void (*apply_meta)(const void *meta, size_t len));
/* Throws away the writes since the last settle (never a committed log). */
void txnio_abort(void);
/* Throws away a committed log: its transaction's request did not commit. */
void txnio_discard(void);
/* Commits the writes since the last settle with their metadata; 0, or
 * -EFBIG when the log is too small for them (nothing is committed). */
int txnio_commit(uint64_t tag_session, uint64_t tag_seq, const void *meta, size_t len);
/* Pages written since the last settle; whether one is committed. */
uint32_t txnio_dirty(void);
bool txnio_committed(void);
/* Makes the settled image durable (fdatasync). 0 or a negative errno. */
int txnio_sync(void);

#endif
