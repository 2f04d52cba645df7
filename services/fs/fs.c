/* fs.c — `rv-svc-fs`, a real file system as a revive service: an ext2/3/4
 * image served through libext2fs, to native clients (the protocol in
 * fs.h) and, through the FUSE mount revived holds, to every program.
 *
 * What survives a crash, and where:
 *   - the image, changed only by whole transactions (txnio.c, in the
 *     arena): killed at any instruction, the next instance finds it as
 *     after the last committed operation;
 *   - each native client's open files and working directory, in its SSR
 *     (struct fs_ssr), after CuriOS and the SSR design: a request killed
 *     mid-way re-runs from the journal on the state its SSR committed;
 *   - the mount (revive/fuse.h) and what it needs (fsstate.c).
 *
 * A native request's transaction commits before the request does (the
 * runtime commits the SSR and the reply after the handler), so the
 * transaction is tagged with the request and the SSR records its seq: the
 * next instance applies a committed transaction only if its request
 * committed too, else discards it and lets the request run again.
 *
 * Single-threaded: FUSE requests and native requests are served one at a
 * time from the runtime's event loop, so transactions never overlap. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "fs.h"
#include "fscore.h"
#include "fsreq.h"
#include "fsstate.h"
#include "fusefs.h"
#include "image.h"
#include "revive/server.h"
#include "txnio.h"

#define FS_SSR_LAYOUT 1
#define SYMLINK_DEPTH 40

struct fs_file {
    uint32_t ino;           /* 0: a free slot */
    uint32_t flags;
    uint64_t off;
};

struct fs_ssr {
    uint64_t txn_seq;       /* the last request of this session whose transaction committed */
    uint32_t cwd;
    uint32_t pad;
    struct fs_file fd[FS_MAX_FDS];
};

/* One native request being served (its payload decoded by fsreq.c). */
struct call {
    rv_request *req;
    struct fs_ssr *ssr;
    struct fsc_cred cred;
};

static int settle_fd = -1;  /* an eventfd: settle once the runtime has committed the request */
static const char *blk_service; /* --blk: the device is that service's, not the manifest's image */

/* ---- paths ---- */

static int need(const struct call *c, uint32_t ino, int mask)
{
    return fsc_access(ino, &c->cred, mask);
}

static int resolve_in(const struct call *c, uint32_t dir, const char *path, bool follow_last, int depth, uint32_t *out);

/* Follows ino if it is a symlink (found in dir). */
static int follow(const struct call *c, uint32_t dir, uint32_t ino, int depth, uint32_t *out)
{
    struct stat st;
    int rc = fsc_getattr(ino, &st);
    if (rc < 0 || !S_ISLNK(st.st_mode)) {
        *out = ino;
        return rc;
    }
    if (depth >= SYMLINK_DEPTH)
        return -ELOOP;
    char target[4096];
    if ((rc = fsc_readlink(ino, target, sizeof target)) < 0)
        return rc;
    return resolve_in(c, dir, target, true, depth + 1, out);
}

/* Walks path from dir (or the root for an absolute one): every directory
 * on the way must be searchable by the caller. */
static int resolve_in(const struct call *c, uint32_t dir, const char *path, bool follow_last, int depth, uint32_t *out)
{
    uint32_t cur = path[0] == '/' ? FSC_ROOT : dir;
    char name[FSC_NAME_MAX + 1];
    for (const char *p = path;;) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        size_t len = strcspn(p, "/");
        if (len > FSC_NAME_MAX)
            return -ENAMETOOLONG;
        memcpy(name, p, len);
        name[len] = '\0';
        p += len;
        bool last = !*p || !p[strspn(p, "/")];
        int rc = need(c, cur, X_OK);
        uint32_t next;
        if (rc < 0 || (rc = fsc_lookup(cur, name, &next)) < 0)
            return rc;
        if ((!last || follow_last || *p == '/') && (rc = follow(c, cur, next, depth, &next)) < 0)
            return rc;
        cur = next;
    }
    *out = cur;
    return 0;
}

static int resolve(const struct call *c, const char *path, bool follow_last, uint32_t *out)
{
    return resolve_in(c, c->ssr->cwd, path, follow_last, 0, out);
}

/* The directory path's last name is in, and that name. */
static int resolve_parent(const struct call *c, const char *path, uint32_t *dir, char name[FSC_NAME_MAX + 1])
{
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    size_t start = len;
    while (start > 0 && path[start - 1] != '/')
        start--;
    if (len - start > FSC_NAME_MAX)
        return -ENAMETOOLONG;
    if (len == start)
        return -EEXIST;         /* "/": the root has no parent to change */
    memcpy(name, path + start, len - start);
    name[len - start] = '\0';
    char parent[4096];
    memcpy(parent, path, start);
    parent[start] = '\0';
    return resolve(c, start ? parent : ".", true, dir);
}

/* May the caller remove or replace the entry name -> ino of dir? Write and
 * search on dir, and in a sticky directory, own the file or the directory. */
static int may_delete(const struct call *c, uint32_t dir, uint32_t ino)
{
    int rc = need(c, dir, W_OK | X_OK);
    struct stat d, f;
    if (rc < 0 || (rc = fsc_getattr(dir, &d)) < 0 || (rc = fsc_getattr(ino, &f)) < 0)
        return rc;
    bool owner = c->cred.uid == 0 || c->cred.uid == d.st_uid || c->cred.uid == f.st_uid;
    return (d.st_mode & S_ISVTX) && !owner ? -EPERM : 0;
}

static int may_own(const struct call *c, uint32_t ino)
{
    struct stat st;
    int rc = fsc_getattr(ino, &st);
    return rc < 0 ? rc : c->cred.uid == 0 || c->cred.uid == st.st_uid ? 0 : -EPERM;
}

/* ---- transactions ---- */

static void wake_settle(void)
{
    uint64_t one = 1;
    if (write(settle_fd, &one, sizeof one) < 0)
        abort();
}

static void on_settle(int fd, void *arg)
{
    (void)arg;
    uint64_t n;
    if (read(fd, &n, sizeof n) == sizeof n)
        fss_settle();
}

/* Commits a native request's changes, tagged with it; its SSR says it
 * committed them (the runtime commits the SSR after the handler). */
static int commit(struct call *c, int rc)
{
    rc = fss_end(rc, rv_svc_session_id(c->req->session), c->req->seq);
    if (rc >= 0 && txnio_committed()) {
        c->ssr->txn_seq = c->req->seq;
        wake_settle();
    }
    return rc;
}

/* ---- open files ---- */

static struct fs_file *file_of(struct call *c, uint32_t fd)
{
    return fd < FS_MAX_FDS && c->ssr->fd[fd].ino ? &c->ssr->fd[fd] : NULL;
}

static int open_access(const struct call *c, uint32_t ino, uint32_t flags, const struct stat *st)
{
    if ((flags & O_DIRECTORY) && !S_ISDIR(st->st_mode))
        return -ENOTDIR;
    if (S_ISDIR(st->st_mode) && ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC)))
        return -EISDIR;
    if (S_ISLNK(st->st_mode))
        return -ELOOP;          /* O_NOFOLLOW on a symlink */
    int mask = ((flags & O_ACCMODE) != O_WRONLY ? R_OK : 0) |
               ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC) ? W_OK : 0);
    return need(c, ino, mask);
}

/* Finds or creates path's file for FS_OPEN. */
static int open_target(struct call *c, const char *path, uint32_t flags, uint32_t mode, uint32_t *ino, bool *made)
{
    *made = false;
    int rc = resolve(c, path, !(flags & O_NOFOLLOW), ino);
    if (rc == 0 && (flags & O_CREAT) && (flags & O_EXCL))
        return -EEXIST;
    if (rc != -ENOENT || !(flags & O_CREAT))
        return rc;
    uint32_t dir;
    char name[FSC_NAME_MAX + 1];
    if ((rc = resolve_parent(c, path, &dir, name)) < 0 || (rc = need(c, dir, W_OK | X_OK)) < 0)
        return rc;
    *made = true;
    return fsc_mknod(dir, name, S_IFREG | (mode & 07777), 0, &c->cred, ino);
}

static int do_open(struct call *c, const struct fs_req *r)
{
    const struct fs_open_req o = r->open;
    uint32_t fd = 0;
    while (fd < FS_MAX_FDS && c->ssr->fd[fd].ino)
        fd++;
    if (fd == FS_MAX_FDS)
        return FS_ERR(EMFILE);
    uint32_t ino;
    bool made;
    struct stat st;
    int rc = open_target(c, r->path, o.flags, o.mode, &ino, &made);
    if (rc == 0 && (rc = fsc_getattr(ino, &st)) == 0 && !made)
        rc = open_access(c, ino, o.flags, &st);
    if (rc == 0 && (o.flags & O_TRUNC) && S_ISREG(st.st_mode) && st.st_size > 0)
        rc = fsc_setattr(ino, &(struct fsc_setattr){ .set = FSC_SET_SIZE, .size = 0 });
    if ((rc = commit(c, rc)) < 0)
        return FS_ERR(-rc);
    c->ssr->fd[fd] = (struct fs_file){ .ino = ino, .flags = o.flags & ~(uint32_t)(O_CREAT | O_EXCL | O_TRUNC) };
    fss_native_open(ino, +1);
    return rv_reply(c->req, &fd, sizeof fd);
}

/* Drops one native open of ino: the last close of an unlinked file frees it. */
static int drop_open(uint32_t ino)
{
    fss_native_open(ino, -1);
    return fss_is_open(ino) ? 0 : fsc_release_orphan(ino);
}

static int do_close(struct call *c, const struct fs_req *r)
{
    struct fs_file *f = file_of(c, r->fd);
    if (!f)
        return FS_ERR(EBADF);
    int rc = commit(c, drop_open(f->ino));
    if (rc < 0) {
        fss_native_open(f->ino, +1);
        return FS_ERR(-rc);
    }
    *f = (struct fs_file){ 0 };
    return 0;
}

static int do_read(struct call *c, const struct fs_req *r, bool positioned)
{
    const struct fs_io_req io = r->io;
    struct fs_file *f = file_of(c, io.fd);
    if (!f || (f->flags & O_ACCMODE) == O_WRONLY)
        return FS_ERR(EBADF);
    static uint8_t buf[FS_IO_MAX];
    ssize_t n = fsc_read(f->ino, buf, io.len < sizeof buf ? io.len : sizeof buf, positioned ? io.off : f->off);
    if (n < 0)
        return FS_ERR((int)-n);
    if (!positioned)
        f->off += (uint64_t)n;
    return rv_reply(c->req, buf, (size_t)n);
}

static int do_write(struct call *c, const struct fs_req *r, bool positioned)
{
    const struct fs_io_req io = r->io;
    struct fs_file *f = file_of(c, io.fd);
    struct stat st;
    if (!f || (f->flags & O_ACCMODE) == O_RDONLY)
        return FS_ERR(EBADF);
    int rc = fsc_getattr(f->ino, &st);
    uint64_t off = positioned ? io.off : (f->flags & O_APPEND) ? (uint64_t)st.st_size : f->off;
    ssize_t n = rc < 0 ? rc : fsc_write(f->ino, r->data, r->len, off);
    if ((rc = commit(c, n < 0 ? (int)n : 0)) < 0)
        return FS_ERR(-rc);
    if (!positioned)
        f->off = off + (uint64_t)n;
    uint32_t put = (uint32_t)n;
    return rv_reply(c->req, &put, sizeof put);
}

static int do_seek(struct call *c, const struct fs_req *r)
{
    const struct fs_seek_req s = r->seek;
    struct fs_file *f = file_of(c, s.fd);
    struct stat st;
    if (!f)
        return FS_ERR(EBADF);
    int rc = fsc_getattr(f->ino, &st);
    if (rc < 0)
        return FS_ERR(-rc);
    int64_t base = s.whence == SEEK_SET ? 0 : s.whence == SEEK_CUR ? (int64_t)f->off : st.st_size;
    if (s.whence > SEEK_END || (s.off < 0 && base + s.off < 0))
        return FS_ERR(EINVAL);
    f->off = (uint64_t)(base + s.off);
    return rv_reply(c->req, &f->off, sizeof f->off);
}

static int do_ftruncate(struct call *c, const struct fs_req *r)
{
    struct fs_file *f = file_of(c, r->io.fd);
    if (!f || (f->flags & O_ACCMODE) == O_RDONLY)
        return FS_ERR(EBADF);
    int rc = commit(c, fsc_setattr(f->ino, &(struct fsc_setattr){ .set = FSC_SET_SIZE, .size = r->io.off }));
    return rc < 0 ? FS_ERR(-rc) : 0;
}

static int do_fsync(struct call *c, const struct fs_req *r)
{
    if (!file_of(c, r->fd))
        return FS_ERR(EBADF);
    int rc = txnio_sync();
    return rc < 0 ? FS_ERR(-rc) : 0;
}

/* ---- names ---- */

static int reply_stat(struct call *c, uint32_t ino)
{
    struct stat st;
    int rc = fsc_getattr(ino, &st);
    if (rc < 0)
        return FS_ERR(-rc);
    struct fs_stat w = {
        .ino = st.st_ino, .size = (uint64_t)st.st_size, .blocks = (uint64_t)st.st_blocks, .mode = st.st_mode,
        .nlink = (uint32_t)st.st_nlink, .uid = st.st_uid, .gid = st.st_gid, .rdev = (uint32_t)st.st_rdev,
        .blksize = (uint32_t)st.st_blksize, .atime_sec = st.st_atim.tv_sec, .mtime_sec = st.st_mtim.tv_sec,
        .ctime_sec = st.st_ctim.tv_sec, .atime_nsec = (uint32_t)st.st_atim.tv_nsec,
        .mtime_nsec = (uint32_t)st.st_mtim.tv_nsec, .ctime_nsec = (uint32_t)st.st_ctim.tv_nsec,
    };
    return rv_reply(c->req, &w, sizeof w);
}

static int do_fstat(struct call *c, const struct fs_req *r)
{
    struct fs_file *f = file_of(c, r->fd);
    return f ? reply_stat(c, f->ino) : FS_ERR(EBADF);
}

static int do_stat(struct call *c, const struct fs_req *r, bool follow_last)
{
    uint32_t ino;
    int rc = resolve(c, r->path, follow_last, &ino);
    return rc < 0 ? FS_ERR(-rc) : reply_stat(c, ino);
}

struct dirents {
    uint8_t buf[RV_MAX_PAYLOAD];
    size_t used;
    struct fs_dirents *head;
    bool full;
};

static bool add_dirent(const char *name, size_t len, uint32_t ino, unsigned dtype, uint64_t next, void *arg)
{
    struct dirents *d = arg;
    if (d->used + 6 + len > sizeof d->buf) {
        d->full = true;
        return false;
    }
    uint8_t t = (uint8_t)dtype, l = (uint8_t)len;
    memcpy(d->buf + d->used, &ino, 4);
    d->buf[d->used + 4] = t;
    d->buf[d->used + 5] = l;
    memcpy(d->buf + d->used + 6, name, len);
    d->used += 6 + len;
    d->head->n++;
    d->head->next = next;
    return true;
}

static int do_readdir(struct call *c, const struct fs_req *r)
{
    uint32_t ino;
    static struct dirents d;
    d.used = sizeof *d.head;
    d.full = false;
    d.head = (struct fs_dirents *)d.buf;
    *d.head = (struct fs_dirents){ 0 };
    int rc = resolve(c, r->path, true, &ino);
    if (rc == 0)
        rc = need(c, ino, R_OK);
    if (rc == 0)
        rc = fsc_readdir(ino, r->cookie, add_dirent, &d);
    if (rc < 0)
        return FS_ERR(-rc);
    if (!d.full)
        d.head->next = 0;       /* every entry fitted: the directory is done */
    return rv_reply(c->req, d.buf, d.used);
}

static int do_mkdir(struct call *c, const struct fs_req *r)
{
    uint32_t dir, ino;
    char name[FSC_NAME_MAX + 1];
    int rc = resolve_parent(c, r->path, &dir, name);
    if (rc == 0)
        rc = need(c, dir, W_OK | X_OK);
    if (rc == 0)
        rc = fsc_mkdir(dir, name, r->mode, &c->cred, &ino);
    rc = commit(c, rc);
    return rc < 0 ? FS_ERR(-rc) : 0;
}

static int do_remove(struct call *c, const struct fs_req *r, bool is_dir)
{
    uint32_t dir, ino;
    char name[FSC_NAME_MAX + 1];
    int rc = resolve_parent(c, r->path, &dir, name);
    if (rc == 0 && (rc = fsc_lookup(dir, name, &ino)) == 0 && (rc = may_delete(c, dir, ino)) == 0)
        rc = is_dir ? fsc_rmdir(dir, name) : fsc_unlink(dir, name);
    rc = commit(c, rc);
    return rc < 0 ? FS_ERR(-rc) : 0;
}

static int do_rename(struct call *c, const struct fs_req *r)
{
    uint32_t dir, newdir, ino, old;
    char name[FSC_NAME_MAX + 1], newname[FSC_NAME_MAX + 1];
    int rc = resolve_parent(c, r->path, &dir, name);
    if (rc == 0)
        rc = resolve_parent(c, r->path2, &newdir, newname);
    if (rc == 0 && (rc = fsc_lookup(dir, name, &ino)) == 0)
        rc = may_delete(c, dir, ino);
    if (rc == 0 && (rc = need(c, newdir, W_OK | X_OK)) == 0 && fsc_lookup(newdir, newname, &old) == 0)
        rc = may_delete(c, newdir, old);
    if (rc == 0)
        rc = fsc_rename(dir, name, newdir, newname, 0);
    rc = commit(c, rc);
    return rc < 0 ? FS_ERR(-rc) : 0;
}

static int do_link(struct call *c, const struct fs_req *r)
{
    uint32_t ino, dir;
    char name[FSC_NAME_MAX + 1];
    int rc = resolve(c, r->path, false, &ino);
    if (rc == 0)
        rc = resolve_parent(c, r->path2, &dir, name);
    if (rc == 0 && (rc = need(c, dir, W_OK | X_OK)) == 0)
        rc = fsc_link(ino, dir, name);
    rc = commit(c, rc);
    return rc < 0 ? FS_ERR(-rc) : 0;
}

static int do_symlink(struct call *c, const struct fs_req *r)
{
    uint32_t dir, ino;
    char name[FSC_NAME_MAX + 1];
    int rc = resolve_parent(c, r->path2, &dir, name);
    if (rc == 0 && (rc = need(c, dir, W_OK | X_OK)) == 0)
        rc = fsc_symlink(dir, name, r->path, &c->cred, &ino);
    rc = commit(c, rc);
    return rc < 0 ? FS_ERR(-rc) : 0;
}

static int do_readlink(struct call *c, const struct fs_req *r)
{
    uint32_t ino;
    char target[4096];
    int rc = resolve(c, r->path, false, &ino);
    if (rc == 0)
        rc = fsc_readlink(ino, target, sizeof target);
    return rc < 0 ? FS_ERR(-rc) : rv_reply(c->req, target, (size_t)rc);
}

/* chmod, chown, utimens, truncate: a setattr by path, with its check. */
static int setattr_path(struct call *c, const char *path, struct fsc_setattr *sa, int (*allowed)(const struct call *, uint32_t, const struct fsc_setattr *))
{
    uint32_t ino;
    int rc = resolve(c, path, true, &ino);
    if (rc == 0)
        rc = allowed(c, ino, sa);
    if (rc == 0)
        rc = fsc_setattr(ino, sa);
    rc = commit(c, rc);
    return rc < 0 ? FS_ERR(-rc) : 0;
}

static int chmod_allowed(const struct call *c, uint32_t ino, const struct fsc_setattr *sa)
{
    (void)sa;
    return may_own(c, ino);
}

/* Only root gives a file away; an owner may change its group to their own. */
static int chown_allowed(const struct call *c, uint32_t ino, const struct fsc_setattr *sa)
{
    struct stat st;
    int rc = fsc_getattr(ino, &st);
    if (rc < 0 || c->cred.uid == 0)
        return rc;
    if ((sa->set & FSC_SET_UID) && sa->uid != st.st_uid)
        return -EPERM;
    return c->cred.uid == st.st_uid && (!(sa->set & FSC_SET_GID) || sa->gid == c->cred.gid) ? 0 : -EPERM;
}

/* Setting times to now needs write access; to given times, ownership. */
static int utimens_allowed(const struct call *c, uint32_t ino, const struct fsc_setattr *sa)
{
    if (sa->set & (FSC_SET_ATIME | FSC_SET_MTIME))
        return may_own(c, ino);
    return may_own(c, ino) == 0 ? 0 : need(c, ino, W_OK);
}

static int truncate_allowed(const struct call *c, uint32_t ino, const struct fsc_setattr *sa)
{
    (void)sa;
    return need(c, ino, W_OK);
}

static int do_chmod(struct call *c, const struct fs_req *r)
{
    struct fsc_setattr sa = { .set = FSC_SET_MODE, .mode = r->mode };
    return setattr_path(c, r->path, &sa, chmod_allowed);
}

static int do_chown(struct call *c, const struct fs_req *r)
{
    struct fsc_setattr sa = { .uid = r->uid, .gid = r->gid };
    sa.set = (sa.uid != UINT32_MAX ? FSC_SET_UID : 0) | (sa.gid != UINT32_MAX ? FSC_SET_GID : 0);
    return setattr_path(c, r->path, &sa, chown_allowed);
}

static unsigned time_bits(int64_t nsec, unsigned given, unsigned now)
{
    return nsec == UTIME_OMIT ? 0 : nsec == UTIME_NOW ? now : given;
}

static int do_utimens(struct call *c, const struct fs_req *r)
{
    const struct fs_times t = r->times;
    struct fsc_setattr sa = {
        .set = time_bits(t.atime_nsec, FSC_SET_ATIME, FSC_SET_ATIME_NOW) | time_bits(t.mtime_nsec, FSC_SET_MTIME, FSC_SET_MTIME_NOW),
        .atime = { .tv_sec = t.atime_sec, .tv_nsec = t.atime_nsec },
        .mtime = { .tv_sec = t.mtime_sec, .tv_nsec = t.mtime_nsec },
    };
    return setattr_path(c, r->path, &sa, utimens_allowed);
}

static int do_truncate(struct call *c, const struct fs_req *r)
{
    struct fsc_setattr sa = { .set = FSC_SET_SIZE, .size = r->size };
    return setattr_path(c, r->path, &sa, truncate_allowed);
}

static int do_chdir(struct call *c, const struct fs_req *r)
{
    uint32_t ino;
    struct stat st;
    int rc = resolve(c, r->path, true, &ino);
    if (rc == 0 && (rc = fsc_getattr(ino, &st)) == 0 && !S_ISDIR(st.st_mode))
        rc = -ENOTDIR;
    if (rc == 0)
        rc = need(c, ino, X_OK);
    if (rc < 0)
        return FS_ERR(-rc);
    c->ssr->cwd = ino;
    return 0;
}

static int do_statfs(struct call *c)
{
    struct statvfs sv;
    fsc_statfs(&sv);
    struct fs_statfs w = { .bsize = sv.f_bsize, .blocks = sv.f_blocks, .bfree = sv.f_bfree, .bavail = sv.f_bavail,
                           .files = sv.f_files, .ffree = sv.f_ffree, .namemax = (uint32_t)sv.f_namemax };
    return rv_reply(c->req, &w, sizeof w);
}

static int dispatch(struct call *c)
{
    struct fs_req r;
    int rc = fs_req_decode(c->req->op, c->req->data, c->req->len, &r);
    if (rc)
        return rc;
    switch (c->req->op) {
    case FS_OPEN: return do_open(c, &r);
    case FS_CLOSE: return do_close(c, &r);
    case FS_READ: return do_read(c, &r, false);
    case FS_PREAD: return do_read(c, &r, true);
    case FS_WRITE: return do_write(c, &r, false);
    case FS_PWRITE: return do_write(c, &r, true);
    case FS_SEEK: return do_seek(c, &r);
    case FS_FTRUNCATE: return do_ftruncate(c, &r);
    case FS_FSYNC: return do_fsync(c, &r);
    case FS_FSTAT: return do_fstat(c, &r);
    case FS_STAT: return do_stat(c, &r, true);
    case FS_LSTAT: return do_stat(c, &r, false);
    case FS_READDIR: return do_readdir(c, &r);
    case FS_MKDIR: return do_mkdir(c, &r);
    case FS_RMDIR: return do_remove(c, &r, true);
    case FS_UNLINK: return do_remove(c, &r, false);
    case FS_RENAME: return do_rename(c, &r);
    case FS_LINK: return do_link(c, &r);
    case FS_SYMLINK: return do_symlink(c, &r);
    case FS_READLINK: return do_readlink(c, &r);
    case FS_CHMOD: return do_chmod(c, &r);
    case FS_CHOWN: return do_chown(c, &r);
    case FS_UTIMENS: return do_utimens(c, &r);
    case FS_TRUNCATE: return do_truncate(c, &r);
    case FS_CHDIR: return do_chdir(c, &r);
    default: return do_statfs(c);   /* fs_req_decode knows no other op */
    }
}

/* ---- hooks ---- */

static int fs_handle(rv_request *req)
{
    struct call c = { .req = req, .ssr = req->ssr };
    rv_svc_session_peer(req->session, &c.cred.uid, &c.cred.gid);
    fss_begin();
    return dispatch(&c);
}

static int fs_bind(rv_svc_session *s, void *ssr, const char *args)
{
    (void)s, (void)args;
    struct fs_ssr *f = ssr;
    f->cwd = FSC_ROOT;
    return 0;
}

/* The client went away: its files close. Not a request, so its changes
 * (freeing what it held open and had unlinked) commit untagged. */
static void fs_unbind(rv_svc_session *s, void *ssr)
{
    (void)s;
    struct fs_ssr *f = ssr;
    fss_begin();
    int rc = 0;
    for (unsigned i = 0; i < FS_MAX_FDS; i++)
        if (f->fd[i].ino && rc == 0)
            rc = drop_open(f->fd[i].ino);
    fss_end(rc, 0, 0);
    fss_settle();
}

static bool fs_validate(rv_svc_session *s, const void *ssr)
{
    (void)s;
    const struct fs_ssr *f = ssr;
    if (f->cwd == 0)
        return false;
    for (unsigned i = 0; i < FS_MAX_FDS; i++)
        if (f->fd[i].ino && (f->fd[i].flags & ~(uint32_t)FS_OPEN_FLAGS))
            return false;
    return true;
}

static uint64_t ssr_txn_seq(const rv_svc_session *s)
{
    return ((const struct fs_ssr *)rv_svc_session_ssr(s))->txn_seq;
}

static void count_native_opens(rv_svc_session **all, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct fs_ssr *f = rv_svc_session_ssr(all[i]);
        for (unsigned k = 0; k < FS_MAX_FDS; k++)
            if (f->fd[k].ino)
                fss_native_open(f->fd[k].ino, +1);
    }
}

/* An instance that exits (revived stopping it, or gone) does so between two
 * requests: a native request's transaction, committed with its request and
 * not yet written into the image, is written now, while the log that holds
 * it still exists. */
static void settle_at_exit(void)
{
    fss_settle();
}

/* Without its image the service cannot serve at all: it says why (in the
 * log, and as its last exit) and exits; revived's restart policy decides
 * what follows. */
static int fs_recover(rv_svc_session **all, size_t n)
{
    char why[256];
    static struct txnio_image img;
    if (blk_service ? image_blk_open(blk_service, &img, why, sizeof why) < 0
                    : image_file_open(rv_service_fd(RV_FD_IMAGE), &img, why, sizeof why) < 0)
        rv_svc_fatal("%s", why);
    settle_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (settle_fd < 0 || rv_watch_fd(settle_fd, on_settle, NULL) < 0)
        rv_svc_fatal("cannot watch an eventfd: %s", strerror(errno));
    if (fss_recover(&img, all, n, ssr_txn_seq, count_native_opens, why, sizeof why) < 0)
        rv_svc_fatal("%s", why);
    atexit(settle_at_exit);
    if (rv_service_fd(RV_FD_FUSE) >= 0 && fusefs_start() < 0)
        rv_svc_fatal("cannot serve the FUSE mount");
    return 0;
}

/* Arguments (the manifest's `args`): --blk SERVICE, to keep the file
 * system on that blk service's device instead of the manifest's image. */
static int fs_init(int argc, char **argv)
{
    for (int i = 1; i < argc; i += 2) {
        if (strcmp(argv[i], "--blk") == 0 && i + 1 < argc)
            blk_service = argv[i + 1];
        else
            rv_svc_fatal("bad argument '%s' (--blk SERVICE)", argv[i]);
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct rv_service_ops ops = {
        .init = fs_init,
        .ssr_layout = FS_SSR_LAYOUT,
        .ssr_size = sizeof(struct fs_ssr),
        .bind = fs_bind,
        .unbind = fs_unbind,
        .handle = fs_handle,
        .validate = fs_validate,
        .recover = fs_recover,
    };
    return rv_service_main(&ops, argc, argv);
}
