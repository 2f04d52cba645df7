/* fs_client.h — the native client of the `fs` service: a process's view of
 * the file system over a revive session, in the shape of the POSIX calls.
 *
 * Every call returns what its POSIX namesake does (a descriptor, a count,
 * 0) or -1 with errno set: the file system's own errno (ENOENT, EACCES...),
 * or, when revive could not carry the call, EIO (the request crashed the
 * service twice and was poisoned), ENOTCONN (the session was lost or the
 * service failed) or EMSGSIZE; rvfs_error() then has revive's sentence.
 *
 * The descriptors, their offsets and the working directory are the
 * session's, kept by the service in the session's SSR: they survive every
 * crash of the service, and a call interrupted by one is run again
 * exactly once. Permissions are checked against the user who opened the
 * session. A read or write moves at most FS_IO_MAX bytes per request;
 * longer ones are split (each piece exactly once, not the whole
 * atomically). */
#ifndef RV_FS_CLIENT_H
#define RV_FS_CLIENT_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include "revive/client.h"

typedef struct rvfs rvfs;

/* A session with the fs service `service` (NULL: "fs"); NULL with errno. */
rvfs *rvfs_connect(rv_conn *conn, const char *service);
void rvfs_disconnect(rvfs *fs);
const char *rvfs_error(const rvfs *fs);

int rvfs_open(rvfs *fs, const char *path, int flags, mode_t mode);
int rvfs_close(rvfs *fs, int fd);
ssize_t rvfs_read(rvfs *fs, int fd, void *buf, size_t len);
ssize_t rvfs_write(rvfs *fs, int fd, const void *buf, size_t len);
ssize_t rvfs_pread(rvfs *fs, int fd, void *buf, size_t len, off_t off);
ssize_t rvfs_pwrite(rvfs *fs, int fd, const void *buf, size_t len, off_t off);
off_t rvfs_lseek(rvfs *fs, int fd, off_t off, int whence);
int rvfs_ftruncate(rvfs *fs, int fd, off_t size);
int rvfs_fsync(rvfs *fs, int fd);
int rvfs_fstat(rvfs *fs, int fd, struct stat *st);

int rvfs_stat(rvfs *fs, const char *path, struct stat *st);
int rvfs_lstat(rvfs *fs, const char *path, struct stat *st);
int rvfs_mkdir(rvfs *fs, const char *path, mode_t mode);
int rvfs_rmdir(rvfs *fs, const char *path);
int rvfs_unlink(rvfs *fs, const char *path);
int rvfs_rename(rvfs *fs, const char *from, const char *to);
int rvfs_link(rvfs *fs, const char *existing, const char *path);
int rvfs_symlink(rvfs *fs, const char *target, const char *path);
ssize_t rvfs_readlink(rvfs *fs, const char *path, char *buf, size_t len);
int rvfs_chmod(rvfs *fs, const char *path, mode_t mode);
int rvfs_chown(rvfs *fs, const char *path, uid_t uid, gid_t gid);
/* times[0] atime, times[1] mtime; tv_nsec may be UTIME_NOW or UTIME_OMIT;
 * NULL: both now. */
int rvfs_utimens(rvfs *fs, const char *path, const struct timespec times[2]);
int rvfs_truncate(rvfs *fs, const char *path, off_t size);
int rvfs_chdir(rvfs *fs, const char *path);

/* Calls fn for each entry of the directory path ("." and ".." too) until
 * it returns non-zero (then that is returned); 0 at the end, -1 on error. */
typedef int (*rvfs_dirent_fn)(const char *name, uint64_t ino, unsigned type, void *arg);
int rvfs_readdir(rvfs *fs, const char *path, rvfs_dirent_fn fn, void *arg);

#endif
