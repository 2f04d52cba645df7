/* fscore.h — the file system itself: ext2/ext4 operations by inode number
 * over libext2fs, each one a transaction on the image (txnio.h).
 *
 * Every function returns 0 (or a byte count) or a negative errno. Each
 * changing operation runs between fsc_begin and fsc_end: fsc_end flushes
 * libext2fs's in-memory metadata (bitmaps, group descriptors, superblock)
 * into the transaction and commits it, or, if the operation failed
 * part-way, throws the transaction away together with libext2fs's
 * in-memory state, so a failed operation changes nothing at all.
 *
 * Names are bytes, at most 255 of them, without '/' or NUL. Permission
 * checks are the caller's: the FUSE mount lets the kernel do them
 * (default_permissions), the native API does them with fsc_access. */
#ifndef RV_FS_FSCORE_H
#define RV_FS_FSCORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#define FSC_ROOT 2u             /* ext2's root directory inode */
#define FSC_NAME_MAX 255

struct fsc_cred {
    uint32_t uid, gid;
};

/* Opens the image through txnio (already attached). is_open tells the
 * core whether a file is held open, so that its last unlink keeps its data
 * until the last close (fsc_release_orphan). 0, or -errno with a sentence
 * in why. */
int fsc_mount(bool (*is_open)(uint32_t ino), char *why, size_t whylen);
void fsc_unmount(void);

/* Brackets a changing operation: begin settles the last transaction
 * (apply_meta as txnio_settle's); end commits this one with its tag and
 * metadata when rc >= 0 (and returns rc, or the commit's error), or throws
 * it away. */
void fsc_begin(void (*apply_meta)(const void *meta, size_t len));
int fsc_end(int rc, uint64_t tag_session, uint64_t tag_seq, const void *meta, size_t len);

int fsc_lookup(uint32_t dir, const char *name, uint32_t *ino);
int fsc_getattr(uint32_t ino, struct stat *st);
uint32_t fsc_generation(uint32_t ino);
/* May cred do mask (R_OK|W_OK|X_OK) to ino? 0 or -EACCES. */
int fsc_access(uint32_t ino, const struct fsc_cred *cred, int mask);
int fsc_statfs(struct statvfs *sv);

/* Creation: a file, device, FIFO or socket (mknod), a directory, a
 * symlink. The new inode is owned by cred; -EEXIST if name exists. */
int fsc_mknod(uint32_t dir, const char *name, mode_t mode, dev_t rdev, const struct fsc_cred *cred, uint32_t *ino);
int fsc_mkdir(uint32_t dir, const char *name, mode_t mode, const struct fsc_cred *cred, uint32_t *ino);
int fsc_symlink(uint32_t dir, const char *name, const char *target, const struct fsc_cred *cred, uint32_t *ino);
int fsc_link(uint32_t ino, uint32_t dir, const char *name);

int fsc_unlink(uint32_t dir, const char *name);
int fsc_rmdir(uint32_t dir, const char *name);
/* flags: RENAME_NOREPLACE, RENAME_EXCHANGE, or 0. */
int fsc_rename(uint32_t dir, const char *name, uint32_t newdir, const char *newname, unsigned flags);
/* An unlinked file's last close: frees it if no link came back. */
int fsc_release_orphan(uint32_t ino);

int fsc_readlink(uint32_t ino, char *buf, size_t size);
ssize_t fsc_read(uint32_t ino, void *buf, size_t size, uint64_t off);
ssize_t fsc_write(uint32_t ino, const void *buf, size_t size, uint64_t off);

/* What fsc_setattr changes: the FSC_SET_* bits of `set`. */
enum {
    FSC_SET_MODE = 1, FSC_SET_UID = 2, FSC_SET_GID = 4, FSC_SET_SIZE = 8,
    FSC_SET_ATIME = 16, FSC_SET_MTIME = 32, FSC_SET_ATIME_NOW = 64, FSC_SET_MTIME_NOW = 128,
    FSC_SET_CTIME = 256,
};
struct fsc_setattr {
    unsigned set;
    mode_t mode;
    uint32_t uid, gid;
    uint64_t size;
    struct timespec atime, mtime, ctime;
};
int fsc_setattr(uint32_t ino, const struct fsc_setattr *sa);

/* Calls emit for the entries of dir from cookie `from` on (0: the first),
 * each with the cookie of the next, until emit returns false. */
typedef bool (*fsc_emit_fn)(const char *name, size_t len, uint32_t ino, unsigned dtype, uint64_t next, void *arg);
int fsc_readdir(uint32_t dir, uint64_t from, fsc_emit_fn emit, void *arg);

/* Frees every inode on the image's orphan list that is not open: the
 * files unlinked while open when the mount they were open through went
 * away. */
int fsc_reap_orphans(void);

#endif
