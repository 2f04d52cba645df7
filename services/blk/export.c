/* export.c — blk's device as one file, /device, in the FUSE mount revived
 * holds for the service (`mount = PATH`), so that anything that takes a
 * file — a loop device, and the kernel's own ext4 on it — runs on revive's
 * block service.
 *
 * The export is a client of the device like any session, of class BE and
 * the weight --export-weight (1): its reads and writes are queued by the
 * same scheduler and answered when io_uring completes them, several at
 * once. It keeps nothing across a crash and needs nothing kept: the mount
 * outlives the process (revive/fuse.h), and the kernel resends every
 * request the dead instance had not answered — a read or a write of a
 * range, idempotent, done again. */
#include "export.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include "blk.h"
#include "device.h"
#include "revive/arena.h"

#define DEVICE_INO 2
#define TIMEOUT 60.0            /* nothing changes the device's name or size */

struct export_io {
    struct dev_io io;           /* first: the device hands these back */
    fuse_req_t req;
    size_t size;                /* what the kernel asked for (a read may be clipped) */
};

static uint32_t weight = 1;
static uint64_t last_finish[BLK_CLASSES];

void export_set_weight(uint32_t w)
{
    weight = w;
}

static void device_attr(fuse_ino_t ino, struct stat *st)
{
    memset(st, 0, sizeof *st);
    st->st_ino = ino;
    st->st_nlink = ino == FUSE_ROOT_ID ? 2 : 1;
    st->st_mode = ino == FUSE_ROOT_ID ? S_IFDIR | 0755 : S_IFREG | 0600;
    st->st_size = ino == FUSE_ROOT_ID ? 0 : (off_t)device_bytes();
    st->st_blksize = BLK_BLOCK;
    st->st_blocks = st->st_size / 512;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    if (parent != FUSE_ROOT_ID || strcmp(name, "device") != 0) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    struct fuse_entry_param e = { .ino = DEVICE_INO, .attr_timeout = TIMEOUT, .entry_timeout = TIMEOUT };
    device_attr(DEVICE_INO, &e.attr);
    fuse_reply_entry(req, &e);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)fi;
    struct stat st;
    if (ino != FUSE_ROOT_ID && ino != DEVICE_INO) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    device_attr(ino, &st);
    fuse_reply_attr(req, &st, TIMEOUT);
}

/* The device's size is its own: a setattr may touch times, never the size. */
static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi)
{
    if ((to_set & FUSE_SET_ATTR_SIZE) && (uint64_t)attr->st_size != device_bytes()) {
        fuse_reply_err(req, EPERM);
        return;
    }
    op_getattr(req, ino, fi);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
    (void)fi;
    char buf[512];
    size_t used = 0;
    static const char *const names[] = { ".", "..", "device" };
    for (off_t i = off; ino == FUSE_ROOT_ID && i < 3; i++) {
        struct stat st = { .st_ino = i == 2 ? DEVICE_INO : FUSE_ROOT_ID, .st_mode = i == 2 ? S_IFREG : S_IFDIR };
        size_t need = fuse_add_direntry(req, buf + used, sizeof buf - used, names[i], &st, i + 1);
        if (used + need > size || need > sizeof buf - used)
            break;
        used += need;
    }
    fuse_reply_buf(req, buf, used);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    if (ino != DEVICE_INO) {
        fuse_reply_err(req, ino == FUSE_ROOT_ID ? EISDIR : ENOENT);
        return;
    }
    fi->keep_cache = 1;         /* every write comes through here: the kernel's copy is the device's */
    fuse_reply_open(req, fi);
}

static void finished(struct dev_io *io, int result)
{
    struct export_io *x = (struct export_io *)io;
    if (result < 0)
        fuse_reply_err(x->req, -result);
    else if (io->op == BLK_READ)
        fuse_reply_buf(x->req, (const char *)io->mem, io->len);
    else if (io->op == BLK_WRITE)
        fuse_reply_write(x->req, x->size);
    else if (io->op == BLK_DISCARD && io->len < x->size)
        fuse_reply_err(x->req, ENOSPC);     /* part of the range was past the device's end */
    else
        fuse_reply_err(x->req, 0);
    free(io->mem);
    free(x);
}

/* One request to the device, with a buffer of its own. */
static void queue(fuse_req_t req, uint8_t op, uint64_t off, size_t size, const void *data, int falloc_mode)
{
    uint64_t len = op == BLK_FLUSH ? 0 : off >= device_bytes() ? 0 : device_bytes() - off < size ? device_bytes() - off : size;
    if (op == BLK_WRITE && len < size) {
        fuse_reply_err(req, ENOSPC);        /* past the device's end */
        return;
    }
    struct export_io *x = malloc(sizeof *x);
    uint8_t *mem = NULL;        /* page-aligned, for a device opened with --direct */
    if (!x || (op != BLK_DISCARD && len && posix_memalign((void **)&mem, 4096, len) != 0)) {
        free(x);
        fuse_reply_err(req, ENOMEM);
        return;
    }
    if (data && len)
        memcpy(mem, data, len);             /* libfuse's buffer is the next request's */
    *x = (struct export_io){ .req = req, .size = size,
                             .io = { .op = op, .off = off, .len = len, .mem = mem, .finished = finished,
                                     .falloc_mode = falloc_mode,
                                     .sr = { .cls = BLK_BE, .arrival_ns = device_now_ns(), .heap_i = SIZE_MAX } } };
    if (len == 0 && op == BLK_READ) {
        finished(&x->io, 0);
        return;
    }
    sched_tag(&x->io.sr, &last_finish[BLK_BE], weight, (uint32_t)((len + BLK_BLOCK - 1) / BLK_BLOCK));
    device_queue(&x->io);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
    (void)ino, (void)fi;
    queue(req, BLK_READ, (uint64_t)off, size, NULL, 0);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    (void)ino, (void)fi;
    queue(req, BLK_WRITE, (uint64_t)off, size, buf, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
    (void)ino, (void)datasync, (void)fi;
    queue(req, BLK_FLUSH, 0, 0, NULL, 0);
}

/* The loop device turns discards and write-zeroes into these: a hole
 * punched, or a range zeroed, in the image (its size stays). */
static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len, struct fuse_file_info *fi)
{
    (void)ino, (void)fi;
    int known = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE;
    if (mode & ~known)
        fuse_reply_err(req, EOPNOTSUPP);
    else if (!(mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)))
        fuse_reply_err(req, 0);             /* preallocating: a device's blocks are all there */
    else if (off < 0 || len <= 0)
        fuse_reply_err(req, EINVAL);
    else
        queue(req, BLK_DISCARD, (uint64_t)off, (size_t)len, NULL, mode | FALLOC_FL_KEEP_SIZE);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)ino, (void)fi;
    fuse_reply_err(req, 0);
}

static const struct fuse_lowlevel_ops ops = {
    .lookup = op_lookup,
    .getattr = op_getattr,
    .setattr = op_setattr,
    .readdir = op_readdir,
    .open = op_open,
    .read = op_read,
    .write = op_write,
    .fsync = op_fsync,
    .fallocate = op_fallocate,
    .release = op_release,
};

/* The takeover state lives in the arena: found there, or made. */
static struct rv_fuse_state *fuse_state(void)
{
    void **root = rv_arena_root();
    if (*root)
        return *root;
    struct rv_fuse_state *st = rv_arena_alloc(sizeof *st);
    if (!st)
        return NULL;
    memset(st, 0, sizeof *st);
    rv_arena_log(root, sizeof *root);
    *root = st;
    rv_arena_commit();
    return st;
}

int export_start(void)
{
    struct rv_fuse_state *st = fuse_state();
    return st ? rv_fuse_start(&ops, sizeof ops, NULL, st) : RV_ENOMEM;
}
