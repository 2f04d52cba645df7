/* fs_client.c — the fs service's native client; see fs_client.h.
 *
 * Each call is one request (fs.h) built in a buffer: a fixed part, then
 * NUL-terminated strings. Replies come back into a buffer of the largest
 * payload revive carries. */
#include "fs_client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "fs.h"

struct rvfs {
    rv_session *s;
};

struct msg {
    uint8_t b[RV_MAX_PAYLOAD];
    size_t len;
    bool too_long;
};

static void add(struct msg *m, const void *p, size_t len)
{
    if (len == 0)
        return;
    if (m->len + len > sizeof m->b) {
        m->too_long = true;
        return;
    }
    memcpy(m->b + m->len, p, len);
    m->len += len;
}

static void add_str(struct msg *m, const char *s)
{
    add(m, s, strlen(s) + 1);
}

/* One request; the reply's length, or -1 with errno. */
static ssize_t call(rvfs *fs, uint32_t op, const struct msg *m, void *reply, size_t cap)
{
    if (m->too_long) {
        errno = ENAMETOOLONG;
        return -1;
    }
    size_t got = 0;
    int rc = rv_call(fs->s, op, m->b, m->len, reply, cap, &got);
    if (rc != 0) {
        errno = rv_errno(rc);
        return -1;
    }
    return (ssize_t)got;
}

static int call_path(rvfs *fs, uint32_t op, const void *head, size_t head_len, const char *path)
{
    struct msg m = { .len = 0 };
    add(&m, head, head_len);
    add_str(&m, path);
    return call(fs, op, &m, NULL, 0) < 0 ? -1 : 0;
}

static int call_two(rvfs *fs, uint32_t op, const char *a, const char *b)
{
    struct msg m = { .len = 0 };
    add_str(&m, a);
    add_str(&m, b);
    return call(fs, op, &m, NULL, 0) < 0 ? -1 : 0;
}

rvfs *rvfs_connect(rv_conn *conn, const char *service)
{
    rvfs *fs = calloc(1, sizeof *fs);
    if (!fs)
        return NULL;
    int rc = rv_open(conn, service ? service : "fs", NULL, &fs->s);
    if (rc != 0) {
        free(fs);
        errno = rv_errno(rc);
        return NULL;
    }
    return fs;
}

void rvfs_disconnect(rvfs *fs)
{
    if (!fs)
        return;
    rv_close(fs->s);
    free(fs);
}

const char *rvfs_error(const rvfs *fs)
{
    return rv_session_error(fs->s);
}

/* ---- files ---- */

int rvfs_open(rvfs *fs, const char *path, int flags, mode_t mode)
{
    struct fs_open_req o = { .flags = (uint32_t)flags & ~(uint32_t)O_LARGEFILE, .mode = mode };
    struct msg m = { .len = 0 };
    add(&m, &o, sizeof o);
    add_str(&m, path);
    uint32_t fd;
    if (call(fs, FS_OPEN, &m, &fd, sizeof fd) != sizeof fd)
        return -1;
    return (int)fd;
}

static int call_fd(rvfs *fs, uint32_t op, int fd, void *reply, size_t cap)
{
    uint32_t f = (uint32_t)fd;
    struct msg m = { .len = 0 };
    add(&m, &f, sizeof f);
    return call(fs, op, &m, reply, cap) < 0 ? -1 : 0;
}

int rvfs_close(rvfs *fs, int fd) { return call_fd(fs, FS_CLOSE, fd, NULL, 0); }
int rvfs_fsync(rvfs *fs, int fd) { return call_fd(fs, FS_FSYNC, fd, NULL, 0); }

/* Reads in pieces until len, the end of the file or an error. */
static ssize_t read_pieces(rvfs *fs, uint32_t op, int fd, void *buf, size_t len, off_t off)
{
    size_t done = 0;
    while (done < len) {
        struct fs_io_req io = { .fd = (uint32_t)fd, .off = (uint64_t)off + done };
        io.len = (uint32_t)(len - done < FS_IO_MAX ? len - done : FS_IO_MAX);
        struct msg m = { .len = 0 };
        add(&m, &io, sizeof io);
        ssize_t got = call(fs, op, &m, (uint8_t *)buf + done, io.len);
        if (got < 0)
            return done ? (ssize_t)done : -1;
        done += (size_t)got;
        if ((size_t)got < io.len)
            break;
    }
    return (ssize_t)done;
}

static ssize_t write_pieces(rvfs *fs, uint32_t op, int fd, const void *buf, size_t len, off_t off)
{
    size_t done = 0;
    do {
        struct fs_io_req io = { .fd = (uint32_t)fd, .off = (uint64_t)off + done };
        size_t n = len - done < FS_IO_MAX ? len - done : FS_IO_MAX;
        struct msg m = { .len = 0 };
        add(&m, &io, sizeof io);
        add(&m, (const uint8_t *)buf + done, n);
        uint32_t put;
        if (call(fs, op, &m, &put, sizeof put) != sizeof put)
            return done ? (ssize_t)done : -1;
        done += put;
        if (put < n)
            break;
    } while (done < len);
    return (ssize_t)done;
}

ssize_t rvfs_read(rvfs *fs, int fd, void *buf, size_t len) { return read_pieces(fs, FS_READ, fd, buf, len, 0); }
ssize_t rvfs_pread(rvfs *fs, int fd, void *buf, size_t len, off_t off) { return read_pieces(fs, FS_PREAD, fd, buf, len, off); }
ssize_t rvfs_write(rvfs *fs, int fd, const void *buf, size_t len) { return write_pieces(fs, FS_WRITE, fd, buf, len, 0); }

ssize_t rvfs_pwrite(rvfs *fs, int fd, const void *buf, size_t len, off_t off)
{
    return write_pieces(fs, FS_PWRITE, fd, buf, len, off);
}

off_t rvfs_lseek(rvfs *fs, int fd, off_t off, int whence)
{
    struct fs_seek_req s = { .fd = (uint32_t)fd, .whence = (uint32_t)whence, .off = off };
    struct msg m = { .len = 0 };
    add(&m, &s, sizeof s);
    uint64_t pos;
    return call(fs, FS_SEEK, &m, &pos, sizeof pos) == sizeof pos ? (off_t)pos : -1;
}

int rvfs_ftruncate(rvfs *fs, int fd, off_t size)
{
    struct fs_io_req io = { .fd = (uint32_t)fd, .off = (uint64_t)size };
    struct msg m = { .len = 0 };
    add(&m, &io, sizeof io);
    return call(fs, FS_FTRUNCATE, &m, NULL, 0) < 0 ? -1 : 0;
}

/* ---- attributes ---- */

static void stat_of(const struct fs_stat *w, struct stat *st)
{
    memset(st, 0, sizeof *st);
    st->st_ino = w->ino;
    st->st_size = (off_t)w->size;
    st->st_blocks = (blkcnt_t)w->blocks;
    st->st_mode = w->mode;
    st->st_nlink = w->nlink;
    st->st_uid = w->uid;
    st->st_gid = w->gid;
    st->st_rdev = w->rdev;
    st->st_blksize = w->blksize;
    st->st_atim = (struct timespec){ w->atime_sec, w->atime_nsec };
    st->st_mtim = (struct timespec){ w->mtime_sec, w->mtime_nsec };
    st->st_ctim = (struct timespec){ w->ctime_sec, w->ctime_nsec };
}

int rvfs_fstat(rvfs *fs, int fd, struct stat *st)
{
    struct fs_stat w;
    if (call_fd(fs, FS_FSTAT, fd, &w, sizeof w) < 0)
        return -1;
    stat_of(&w, st);
    return 0;
}

static int stat_path(rvfs *fs, uint32_t op, const char *path, struct stat *st)
{
    struct msg m = { .len = 0 };
    add_str(&m, path);
    struct fs_stat w;
    if (call(fs, op, &m, &w, sizeof w) != sizeof w)
        return -1;
    stat_of(&w, st);
    return 0;
}

int rvfs_stat(rvfs *fs, const char *path, struct stat *st) { return stat_path(fs, FS_STAT, path, st); }
int rvfs_lstat(rvfs *fs, const char *path, struct stat *st) { return stat_path(fs, FS_LSTAT, path, st); }

int rvfs_chmod(rvfs *fs, const char *path, mode_t mode)
{
    uint32_t m = mode;
    return call_path(fs, FS_CHMOD, &m, sizeof m, path);
}

int rvfs_chown(rvfs *fs, const char *path, uid_t uid, gid_t gid)
{
    uint32_t ids[2] = { uid, gid };
    return call_path(fs, FS_CHOWN, ids, sizeof ids, path);
}

int rvfs_utimens(rvfs *fs, const char *path, const struct timespec times[2])
{
    struct fs_times t = { .atime_nsec = UTIME_NOW, .mtime_nsec = UTIME_NOW };
    if (times)
        t = (struct fs_times){ times[0].tv_sec, times[1].tv_sec, times[0].tv_nsec, times[1].tv_nsec };
    return call_path(fs, FS_UTIMENS, &t, sizeof t, path);
}

int rvfs_truncate(rvfs *fs, const char *path, off_t size)
{
    uint64_t s = (uint64_t)size;
    return call_path(fs, FS_TRUNCATE, &s, sizeof s, path);
}

/* ---- names ---- */

int rvfs_mkdir(rvfs *fs, const char *path, mode_t mode)
{
    uint32_t m = mode;
    return call_path(fs, FS_MKDIR, &m, sizeof m, path);
}

int rvfs_rmdir(rvfs *fs, const char *path) { return call_path(fs, FS_RMDIR, NULL, 0, path); }
int rvfs_unlink(rvfs *fs, const char *path) { return call_path(fs, FS_UNLINK, NULL, 0, path); }
int rvfs_chdir(rvfs *fs, const char *path) { return call_path(fs, FS_CHDIR, NULL, 0, path); }
int rvfs_rename(rvfs *fs, const char *from, const char *to) { return call_two(fs, FS_RENAME, from, to); }
int rvfs_link(rvfs *fs, const char *existing, const char *path) { return call_two(fs, FS_LINK, existing, path); }
int rvfs_symlink(rvfs *fs, const char *target, const char *path) { return call_two(fs, FS_SYMLINK, target, path); }

ssize_t rvfs_readlink(rvfs *fs, const char *path, char *buf, size_t len)
{
    struct msg m = { .len = 0 };
    add_str(&m, path);
    char target[RV_MAX_PAYLOAD];
    ssize_t n = call(fs, FS_READLINK, &m, target, sizeof target);
    if (n < 0)
        return -1;
    size_t k = (size_t)n < len ? (size_t)n : len;
    memcpy(buf, target, k);
    return (ssize_t)k;
}

/* One reply's entries; 1 if fn stopped, -1 if the reply is malformed. */
static int walk_entries(const uint8_t *p, size_t len, uint32_t n, rvfs_dirent_fn fn, void *arg, int *stop)
{
    size_t at = sizeof(struct fs_dirents);
    for (uint32_t i = 0; i < n; i++) {
        if (at + 6 > len || at + 6 + p[at + 5] > len)
            return -1;
        uint32_t ino;
        memcpy(&ino, p + at, 4);
        char name[256];
        memcpy(name, p + at + 6, p[at + 5]);
        name[p[at + 5]] = '\0';
        if ((*stop = fn(name, ino, p[at + 4], arg)) != 0)
            return 1;
        at += 6 + (size_t)p[at + 5];
    }
    return 0;
}

int rvfs_readdir(rvfs *fs, const char *path, rvfs_dirent_fn fn, void *arg)
{
    uint64_t cookie = 0;
    do {
        struct msg m = { .len = 0 };
        add(&m, &cookie, sizeof cookie);
        add_str(&m, path);
        uint8_t reply[RV_MAX_PAYLOAD];
        ssize_t got = call(fs, FS_READDIR, &m, reply, sizeof reply);
        struct fs_dirents h;
        if (got < (ssize_t)sizeof h)
            return got < 0 ? -1 : (errno = EIO, -1);
        memcpy(&h, reply, sizeof h);
        int stop = 0, rc = walk_entries(reply, (size_t)got, h.n, fn, arg, &stop);
        if (rc != 0)
            return rc < 0 ? (errno = EIO, -1) : stop;
        cookie = h.next;
    } while (cookie != 0);
    return 0;
}
