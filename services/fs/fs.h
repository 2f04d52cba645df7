/* fs.h — the `fs` service's native protocol, shared by the service (fs.c),
 * the client library (fs_client.c, revive/fs... see rvfs.h) and the tests.
 *
 * A session is a process's view of the file system, as in CuriOS and the
 * SSR design: its open files (inode, offset, flags) and its working
 * directory live in the session's SSR, so they survive every crash of the
 * service. Paths are resolved from the working directory (relative) or the
 * root, with the permissions of the user that opened the session.
 *
 * Requests are structs followed by their strings (each NUL-terminated);
 * integers are in the host's order. A failed request returns
 * FS_ERR(errno): RV_EAPP_BASE - errno, with errno the POSIX one. */
#ifndef RV_FS_H
#define RV_FS_H

#include <stdint.h>
#include "revive/base.h"

#define FS_ERR(e) (RV_EAPP_BASE - (e))
#define FS_ERRNO(rc) (RV_EAPP_BASE - (rc))         /* rc <= RV_EAPP_BASE - 1 */
#define FS_MAX_FDS 32                               /* open files per session */
#define FS_IO_MAX (RV_MAX_PAYLOAD - 32)             /* bytes one read or write moves */
/* rv-svc-fs-test only: making a directory of this name crashes the
 * service, every time (tests/integration/test_fs.c's poisonous request). */
#define FS_TEST_CRASH_NAME ".rv-crash"

enum fs_op {
    FS_OPEN = 1,        /* struct fs_open_req, path          -> u32 fd */
    FS_CLOSE,           /* u32 fd                              -> empty */
    FS_READ,            /* struct fs_io_req (off unused)       -> bytes, at the fd's offset, which advances */
    FS_WRITE,           /* struct fs_io_req (len, off unused), bytes -> u32 written; advances (O_APPEND: at the end) */
    FS_PREAD,           /* struct fs_io_req                    -> bytes */
    FS_PWRITE,          /* struct fs_io_req (len unused), bytes -> u32 written */
    FS_SEEK,            /* struct fs_seek_req                  -> u64 new offset */
    FS_FTRUNCATE,       /* struct fs_io_req (off = the size)   -> empty */
    FS_FSYNC,           /* u32 fd                              -> empty */
    FS_FSTAT,           /* u32 fd                              -> struct fs_stat */
    FS_STAT,            /* path (symlinks followed)            -> struct fs_stat */
    FS_LSTAT,           /* path                                -> struct fs_stat */
    FS_READDIR,         /* u64 cookie, path                    -> struct fs_dirents, entries */
    FS_MKDIR,           /* u32 mode, path                      -> empty */
    FS_RMDIR,           /* path */
    FS_UNLINK,          /* path */
    FS_RENAME,          /* from, to */
    FS_LINK,            /* existing, new */
    FS_SYMLINK,         /* target, path */
    FS_READLINK,        /* path                                -> the target, without NUL */
    FS_CHMOD,           /* u32 mode, path */
    FS_CHOWN,           /* u32 uid, u32 gid, path (-1: unchanged) */
    FS_UTIMENS,         /* struct fs_times, path */
    FS_TRUNCATE,        /* u64 size, path */
    FS_CHDIR,           /* path */
    FS_STATFS,          /* empty                               -> struct fs_statfs */
};

struct fs_open_req {
    uint32_t flags;     /* O_RDONLY/O_WRONLY/O_RDWR | O_CREAT O_EXCL O_TRUNC O_APPEND O_DIRECTORY O_NOFOLLOW */
    uint32_t mode;      /* with O_CREAT */
};

struct fs_io_req {
    uint32_t fd;
    uint32_t len;
    uint64_t off;
};

struct fs_seek_req {
    uint32_t fd;
    uint32_t whence;    /* SEEK_SET, SEEK_CUR, SEEK_END */
    int64_t off;
};

struct fs_stat {
    uint64_t ino, size, blocks;
    uint32_t mode, nlink, uid, gid, rdev, blksize;
    int64_t atime_sec, mtime_sec, ctime_sec;
    uint32_t atime_nsec, mtime_nsec, ctime_nsec, pad;
};

struct fs_times {
    int64_t atime_sec, mtime_sec;
    int64_t atime_nsec, mtime_nsec;     /* or UTIME_NOW, UTIME_OMIT */
};

/* FS_READDIR's reply: this header, then n entries: u32 ino, u8 type
 * (DT_*), u8 name length, the name. next is the cookie to go on from; 0:
 * the directory is done. */
struct fs_dirents {
    uint64_t next;
    uint32_t n;
    uint32_t pad;
};

struct fs_statfs {
    uint64_t bsize, blocks, bfree, bavail, files, ffree;
    uint32_t namemax, pad;
};

#endif
