/* fsstate.h — what the fs service keeps across its deaths besides the
 * image: the state in its arena (the redo log, the FUSE mount's state, the
 * journal of answered FUSE requests, the mount's open-file counts) and the
 * steps that bring an instance back to it.
 *
 * Changes to that arena state never happen in place during an operation:
 * an operation queues them as "metadata" of its transaction (absolute
 * writes, so applying them twice is applying them once), and they are
 * applied when the transaction is settled, at the same commit point as its
 * image pages. A FUSE request's journal entry is therefore in the arena
 * exactly when its effect is in the image. */
#ifndef RV_FS_FSSTATE_H
#define RV_FS_FSSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "revive/fuse.h"
#include "revive/server.h"
#include "txnio.h"

/* The recover hook's work: the arena state found or made, the redo log
 * settled (a native request's transaction only if that request committed,
 * as its session's SSR says: ssr_txn_seq reads it), the file system
 * opened, open-file counts rebuilt, orphans freed. 0, or a negative errno
 * with a sentence in why. */
int fss_recover(const struct txnio_image *img, rv_svc_session **all, size_t n,
                uint64_t (*ssr_txn_seq)(const rv_svc_session *s),
                void (*count_native_opens)(rv_svc_session **all, size_t n), char *why, size_t whylen);
struct rv_fuse_state *fss_fuse_state(void);

/* An operation: begin settles what the last one committed; the meta_*
 * calls queue arena changes; end commits (tagged with a native request, or
 * 0, 0) or throws away, as fsc_end. settle applies a committed transaction
 * now (a FUSE reply must not go out before). */
void fss_begin(void);
void fss_meta_journal(uint64_t unique, uint32_t ino);
/* The mount's opens of ino change by delta: the count after, or -ENFILE. */
int fss_meta_fuse_open(uint32_t ino, int delta);
int fss_end(int rc, uint64_t tag_session, uint64_t tag_seq);
void fss_settle(void);

/* The FUSE request `unique` took effect already: its inode (or 0). */
bool fss_journal_find(uint64_t unique, uint32_t *ino);

/* Open files: the mount's (in the arena) and the native sessions' (in
 * this process, rebuilt from SSRs by count_native_opens). */
bool fss_is_open(uint32_t ino);
uint32_t fss_native_count(uint32_t ino);
void fss_native_open(uint32_t ino, int delta);
void fss_native_reset(void);

#endif
