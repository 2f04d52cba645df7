/* fsreq.h — the fs service's native requests (fs.h), decoded: the fixed
 * part of each, its strings and its bytes, checked for what the protocol
 * says before any of it reaches the file system.
 *
 * A pure function, no I/O: fs.c serves only what fs_req_decode accepted,
 * and the fuzz harness (tests/fuzz/fuzz_fs.c) feeds it anything. Whether
 * a descriptor is open, a path exists or the caller may touch it is the
 * file system's to say, after this. */
#ifndef RV_FS_REQ_H
#define RV_FS_REQ_H

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include "fs.h"

/* The longest path a request carries, with its NUL (PATH_MAX). */
#define FS_PATH_MAX 4096

/* A request, decoded: the fields its op has (fs.h), the rest zero. */
struct fs_req {
    uint32_t fd;                /* CLOSE, FSYNC, FSTAT */
    struct fs_open_req open;    /* OPEN: flags of OPEN_FLAGS_KNOWN only */
    struct fs_io_req io;        /* READ, PREAD, WRITE, PWRITE, FTRUNCATE */
    struct fs_seek_req seek;    /* SEEK */
    struct fs_times times;      /* UTIMENS: each nsec in range, UTIME_NOW or UTIME_OMIT */
    uint32_t mode;              /* MKDIR, CHMOD */
    uint32_t uid, gid;          /* CHOWN */
    uint64_t cookie;            /* READDIR */
    uint64_t size;              /* TRUNCATE */
    const char *path;           /* the first string: non-empty, NUL-terminated, */
    const char *path2;          /* within the request; the second: RENAME, LINK, SYMLINK */
    const uint8_t *data;        /* WRITE, PWRITE: the bytes after the fixed part */
    size_t len;
};

/* The open flags a native client may pass. */
#define FS_OPEN_FLAGS (O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_APPEND | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* Decodes request op's payload into r: 0, or the error the request is
 * answered with: FS_ERR(EINVAL) for a malformed one, FS_ERR(EBADF) for a
 * descriptor that cannot have been sent, FS_ERR(ENOSYS) for an unknown op. */
int fs_req_decode(uint32_t op, const void *data, size_t len, struct fs_req *r);

#endif
