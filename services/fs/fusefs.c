/* fusefs.c — the fs service's FUSE front end: the kernel's requests for
 * the mount revived holds, answered with fscore's operations.
 *
 * What makes it survive its process (beside revive/fuse.h's takeover):
 *   - Node ids are inode numbers (the root's is FUSE's 1) and file handles
 *     carry nothing, so every id the kernel holds means the same thing to
 *     the next instance.
 *   - Every changing request is one transaction, applied to the image
 *     before its reply is written. Killed before the commit, the request
 *     is resent and runs on the image as it was; killed after, it is
 *     resent and answered from the journal the transaction wrote (creates,
 *     links, unlinks, renames, opens and releases: the requests whose
 *     second run would differ), or, for the others (a write at an offset,
 *     a setattr), simply run again to the same effect.
 *
 * Permissions are the kernel's: the mount has default_permissions. Files
 * keep their page cache across opens (keep_cache, as fuse2fs's
 * kernel_cache): every write reaches the image through this process, so
 * the kernel's copy is the image's, and a change made through the native
 * API shows as a new mtime within TIMEOUT, which makes the kernel drop its
 * copy (libfuse's default auto_inval_data). */
#include "fusefs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "fscore.h"
#include "fsstate.h"
#include "txnio.h"

#define TIMEOUT 1.0     /* seconds the kernel may cache names and attributes */

static uint32_t ino_of(fuse_ino_t node)
{
    return node == FUSE_ROOT_ID ? FSC_ROOT : node > UINT32_MAX ? 0 : (uint32_t)node;
}

static fuse_ino_t node_of(uint32_t ino)
{
    return ino == FSC_ROOT ? FUSE_ROOT_ID : ino;
}

static struct fsc_cred cred_of(fuse_req_t req)
{
    const struct fuse_ctx *c = fuse_req_ctx(req);
    return (struct fsc_cred){ .uid = c->uid, .gid = c->gid };
}

static void reply_rc(fuse_req_t req, int rc)
{
    fuse_reply_err(req, rc < 0 ? -rc : 0);
}

static void reply_entry(fuse_req_t req, int rc, uint32_t ino)
{
    struct fuse_entry_param e = { .attr_timeout = TIMEOUT, .entry_timeout = TIMEOUT };
    if (rc >= 0)
        rc = fsc_getattr(ino, &e.attr);
    if (rc < 0) {
        reply_rc(req, rc);
        return;
    }
    e.ino = node_of(ino);
    e.generation = fsc_generation(ino);
    fuse_reply_entry(req, &e);
}

static void reply_attr(fuse_req_t req, uint32_t ino)
{
    struct stat st;
    int rc = fsc_getattr(ino, &st);
    if (rc < 0)
        reply_rc(req, rc);
    else
        fuse_reply_attr(req, &st, TIMEOUT);
}

/* ---- the transaction around a changing request ---- */

/* Did the request take effect before the last instance died? Then *ino is
 * what it made (or 0), and it must not run again. */
static bool answered_before(uint32_t *ino)
{
    fss_begin();
    *ino = 0;
    return rv_fuse_resent() && fss_journal_find(rv_fuse_unique(), ino);
}

/* The answers of a request that already took effect: its entry, or success. */
static bool replayed_entry(fuse_req_t req, uint32_t *ino)
{
    if (!answered_before(ino))
        return false;
    reply_entry(req, 0, *ino);
    return true;
}

static bool replayed_ok(fuse_req_t req)
{
    uint32_t ino;
    if (!answered_before(&ino))
        return false;
    reply_rc(req, 0);
    return true;
}

/* Commits (journaled, for the requests answered_before guards) and applies
 * the transaction: after this the reply may go out. */
static int finish(int rc, bool journal, uint32_t ino)
{
    if (rc >= 0 && journal)
        fss_meta_journal(rv_fuse_unique(), ino);
    rc = fss_end(rc, 0, 0);
    fss_settle();
    return rc;
}

/* ---- names ---- */

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    uint32_t ino = 0;
    int rc = fsc_lookup(ino_of(parent), name, &ino);
    if (rc == -ENOENT) {
        struct fuse_entry_param e = { .entry_timeout = TIMEOUT };   /* a negative entry, cached */
        fuse_reply_entry(req, &e);
        return;
    }
    reply_entry(req, rc, ino);
}

static void op_forget(fuse_req_t req, fuse_ino_t node, uint64_t nlookup)
{
    (void)node, (void)nlookup;
    fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
    (void)count, (void)forgets;
    fuse_reply_none(req);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
    uint32_t ino;
    if (replayed_entry(req, &ino))
        return;
    struct fsc_cred c = cred_of(req);
    int rc = fsc_mknod(ino_of(parent), name, mode, rdev, &c, &ino);
    reply_entry(req, finish(rc, true, ino), ino);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
    uint32_t ino;
    if (replayed_entry(req, &ino))
        return;
    struct fsc_cred c = cred_of(req);
    int rc = fsc_mkdir(ino_of(parent), name, mode, &c, &ino);
    reply_entry(req, finish(rc, true, ino), ino);
}

static void op_symlink(fuse_req_t req, const char *target, fuse_ino_t parent, const char *name)
{
    uint32_t ino;
    if (replayed_entry(req, &ino))
        return;
    struct fsc_cred c = cred_of(req);
    int rc = fsc_symlink(ino_of(parent), name, target, &c, &ino);
    reply_entry(req, finish(rc, true, ino), ino);
}

static void op_link(fuse_req_t req, fuse_ino_t node, fuse_ino_t newparent, const char *newname)
{
    uint32_t ino;
    if (replayed_entry(req, &ino))
        return;
    ino = ino_of(node);
    int rc = fsc_link(ino, ino_of(newparent), newname);
    reply_entry(req, finish(rc, true, ino), ino);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    if (replayed_ok(req))
        return;
    reply_rc(req, finish(fsc_unlink(ino_of(parent), name), true, 0));
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    if (replayed_ok(req))
        return;
    reply_rc(req, finish(fsc_rmdir(ino_of(parent), name), true, 0));
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent, const char *newname,
                      unsigned flags)
{
    if (replayed_ok(req))
        return;
    reply_rc(req, finish(fsc_rename(ino_of(parent), name, ino_of(newparent), newname, flags), true, 0));
}

/* ---- attributes ---- */

static void op_getattr(fuse_req_t req, fuse_ino_t node, struct fuse_file_info *fi)
{
    (void)fi;
    reply_attr(req, ino_of(node));
}

static struct fsc_setattr setattr_of(const struct stat *attr, int to_set)
{
    struct fsc_setattr sa = { .mode = attr->st_mode, .uid = attr->st_uid, .gid = attr->st_gid,
                              .size = (uint64_t)attr->st_size, .atime = attr->st_atim, .mtime = attr->st_mtim,
                              .ctime = attr->st_ctim };
    static const struct { int fuse; unsigned fsc; } bits[] = {
        { FUSE_SET_ATTR_MODE, FSC_SET_MODE }, { FUSE_SET_ATTR_UID, FSC_SET_UID }, { FUSE_SET_ATTR_GID, FSC_SET_GID },
        { FUSE_SET_ATTR_SIZE, FSC_SET_SIZE }, { FUSE_SET_ATTR_ATIME, FSC_SET_ATIME },
        { FUSE_SET_ATTR_MTIME, FSC_SET_MTIME }, { FUSE_SET_ATTR_ATIME_NOW, FSC_SET_ATIME_NOW },
        { FUSE_SET_ATTR_MTIME_NOW, FSC_SET_MTIME_NOW }, { FUSE_SET_ATTR_CTIME, FSC_SET_CTIME },
    };
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++)
        if (to_set & bits[i].fuse)
            sa.set |= bits[i].fsc;
    return sa;
}

static void op_setattr(fuse_req_t req, fuse_ino_t node, struct stat *attr, int to_set, struct fuse_file_info *fi)
{
    (void)fi;
    uint32_t ino = ino_of(node);
    struct fsc_setattr sa = setattr_of(attr, to_set);
    fss_begin();
    int rc = finish(fsc_setattr(ino, &sa), false, 0);
    if (rc < 0)
        reply_rc(req, rc);
    else
        reply_attr(req, ino);
}

static void op_readlink(fuse_req_t req, fuse_ino_t node)
{
    static char target[4096];
    int rc = fsc_readlink(ino_of(node), target, sizeof target);
    if (rc < 0)
        reply_rc(req, rc);
    else
        fuse_reply_readlink(req, target);
}

static void op_statfs(fuse_req_t req, fuse_ino_t node)
{
    (void)node;
    struct statvfs sv;
    fsc_statfs(&sv);
    fuse_reply_statfs(req, &sv);
}

/* ---- files ---- */

/* The mount's count of opens of ino changes by delta, journaled; the last
 * close of an unlinked file frees it. */
static int count_open(uint32_t ino, int delta)
{
    int after = fss_meta_fuse_open(ino, delta);
    if (after < 0)
        return after;
    return after == 0 && delta < 0 && fss_native_count(ino) == 0 ? fsc_release_orphan(ino) : 0;
}

/* The mount has atomic O_TRUNC (libfuse's default): an open with O_TRUNC
 * truncates, in the same transaction as the open. */
static int open_file(uint32_t ino, int flags)
{
    struct stat st;
    int rc = fsc_getattr(ino, &st);
    if (rc == 0 && (flags & O_TRUNC) && S_ISREG(st.st_mode) && st.st_size > 0)
        rc = fsc_setattr(ino, &(struct fsc_setattr){ .set = FSC_SET_SIZE, .size = 0 });
    return rc < 0 ? rc : count_open(ino, +1);
}

static void op_open(fuse_req_t req, fuse_ino_t node, struct fuse_file_info *fi)
{
    uint32_t ino;
    fi->fh = 0;
    fi->keep_cache = 1;
    if (answered_before(&ino)) {
        fuse_reply_open(req, fi);
        return;
    }
    ino = ino_of(node);
    int rc = finish(open_file(ino, fi->flags), true, ino);
    if (rc < 0)
        reply_rc(req, rc);
    else
        fuse_reply_open(req, fi);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi)
{
    uint32_t ino;
    fi->fh = 0;
    fi->keep_cache = 1;
    if (!answered_before(&ino)) {
        struct fsc_cred c = cred_of(req);
        int rc = fsc_mknod(ino_of(parent), name, (mode & 07777) | S_IFREG, 0, &c, &ino);
        bool made = rc == 0;
        if (rc == -EEXIST && !(fi->flags & O_EXCL))
            rc = fsc_lookup(ino_of(parent), name, &ino);   /* made meanwhile (not through this mount) */
        if (rc == 0)
            rc = made ? count_open(ino, +1) : open_file(ino, fi->flags);
        rc = finish(rc, true, ino);
        if (rc < 0) {
            reply_rc(req, rc);
            return;
        }
    }
    struct fuse_entry_param e = { .attr_timeout = TIMEOUT, .entry_timeout = TIMEOUT };
    int rc = fsc_getattr(ino, &e.attr);
    if (rc < 0) {
        reply_rc(req, rc);
        return;
    }
    e.ino = node_of(ino);
    e.generation = fsc_generation(ino);
    fuse_reply_create(req, &e, fi);
}

static void op_release(fuse_req_t req, fuse_ino_t node, struct fuse_file_info *fi)
{
    (void)fi;
    if (replayed_ok(req))
        return;
    reply_rc(req, finish(count_open(ino_of(node), -1), true, 0));
}

static void op_read(fuse_req_t req, fuse_ino_t node, size_t size, off_t off, struct fuse_file_info *fi)
{
    (void)fi;
    static char *buf;
    static size_t cap;
    if (size > cap) {
        char *b = realloc(buf, size);
        if (!b) {
            reply_rc(req, -ENOMEM);
            return;
        }
        buf = b, cap = size;
    }
    ssize_t n = fsc_read(ino_of(node), buf, size, (uint64_t)off);
    if (n < 0)
        reply_rc(req, (int)n);
    else
        fuse_reply_buf(req, buf, (size_t)n);
}

static void op_write(fuse_req_t req, fuse_ino_t node, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi)
{
    (void)fi;
    fss_begin();
    ssize_t n = fsc_write(ino_of(node), buf, size, (uint64_t)off);
    int rc = finish(n < 0 ? (int)n : 0, false, 0);
    if (rc < 0)
        reply_rc(req, rc);
    else
        fuse_reply_write(req, (size_t)n);
}

/* Every reply was sent after its transaction was in the image: making the
 * image durable is all an fsync has to do. */
static void op_fsync(fuse_req_t req, fuse_ino_t node, int datasync, struct fuse_file_info *fi)
{
    (void)node, (void)datasync, (void)fi;
    fss_settle();
    reply_rc(req, txnio_sync());
}

/* ---- directories ---- */

static void op_opendir(fuse_req_t req, fuse_ino_t node, struct fuse_file_info *fi)
{
    struct stat st;
    int rc = fsc_getattr(ino_of(node), &st);
    if (rc == 0 && !S_ISDIR(st.st_mode))
        rc = -ENOTDIR;
    fi->fh = 0;
    if (rc < 0)
        reply_rc(req, rc);
    else
        fuse_reply_open(req, fi);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t node, struct fuse_file_info *fi)
{
    (void)node, (void)fi;
    reply_rc(req, 0);
}

struct dirbuf {
    fuse_req_t req;
    char *buf;
    size_t size, used;
};

static bool add_entry(const char *name, size_t len, uint32_t ino, unsigned dtype, uint64_t next, void *arg)
{
    struct dirbuf *d = arg;
    char n[FSC_NAME_MAX + 1];
    memcpy(n, name, len);
    n[len] = '\0';
    struct stat st = { .st_ino = ino, .st_mode = dtype << 12 };
    size_t need = fuse_add_direntry(d->req, d->buf + d->used, d->size - d->used, n, &st, (off_t)next);
    if (need > d->size - d->used)
        return false;
    d->used += need;
    return true;
}

static void op_readdir(fuse_req_t req, fuse_ino_t node, size_t size, off_t off, struct fuse_file_info *fi)
{
    (void)fi;
    struct dirbuf d = { .req = req, .buf = malloc(size), .size = size };
    if (!d.buf) {
        reply_rc(req, -ENOMEM);
        return;
    }
    int rc = fsc_readdir(ino_of(node), (uint64_t)off, add_entry, &d);
    if (rc < 0)
        reply_rc(req, rc);
    else
        fuse_reply_buf(req, d.buf, d.used);
    free(d.buf);
}

/* No flush: nothing is buffered per open file, and once libfuse answers a
 * FLUSH with ENOSYS the kernel stops sending them (a round trip less per
 * close). No access: the mount checks permissions in the kernel. */
static const struct fuse_lowlevel_ops ops = {
    .lookup = op_lookup,
    .forget = op_forget,
    .forget_multi = op_forget_multi,
    .getattr = op_getattr,
    .setattr = op_setattr,
    .readlink = op_readlink,
    .mknod = op_mknod,
    .mkdir = op_mkdir,
    .unlink = op_unlink,
    .rmdir = op_rmdir,
    .symlink = op_symlink,
    .rename = op_rename,
    .link = op_link,
    .open = op_open,
    .read = op_read,
    .write = op_write,
    .release = op_release,
    .fsync = op_fsync,
    .opendir = op_opendir,
    .readdir = op_readdir,
    .releasedir = op_releasedir,
    .fsyncdir = op_fsync,
    .statfs = op_statfs,
    .create = op_create,
};

int fusefs_start(void)
{
    return rv_fuse_start(&ops, sizeof ops, NULL, fss_fuse_state());
}
