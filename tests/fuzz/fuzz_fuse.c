/* fuzz_fuse.c — fuzz target for the raw requests a FUSE service reads from
 * /dev/fuse (services/fs/fusefs.c, services/blk/export.c): the check
 * revive-fuse makes of each (src/lib/fuse/fuse_check.c), and libfuse's
 * decoding of every request the check lets through — its opcode, the
 * lengths it trusts, the names it reads.
 *
 * Each input is one request as a read of the device returns it, copied
 * to the end of a buffer whose next page is unmapped: libfuse is not built
 * with the sanitizers, and a read past the request faults all the same.
 * A fresh libfuse session (its device
 * /dev/null, so replies go nowhere) is initialised with a well-formed INIT
 * and handed the request if rv__fuse_request_ok accepts it, as fuse.c
 * does, then a STATFS: libfuse keeps an INTERRUPT for a request it has
 * not seen until the next request comes, and frees none at the session's
 * end. The session's operations are stubs for all of libfuse's low-level
 * operations, not only the ones revive's services implement, so every
 * opcode libfuse knows is decoded to the end; each stub reads every byte
 * of every name and buffer it is given, and answers ENOSYS.
 *
 * Checked (by the guard page, and AddressSanitizer in the harness and
 * the check): neither the check nor libfuse reads past an accepted request.
 */
#include "fuzz.h"

#define FUSE_USE_VERSION 34
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "fuse_check.h"
#include "harness.h"

#define HARNESS "fuzz_fuse"

static volatile uint8_t sink;

static void touch(const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sink ^= ((const uint8_t *)p)[i];
}

static void touch_name(const char *s)
{
    touch(s, strlen(s) + 1);
}

static void nosys(fuse_req_t req)
{
    fuse_reply_err(req, ENOSYS);
}

/* ---- one stub per operation: read what came, answer ENOSYS ---- */

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    (void)parent;
    touch_name(name);
    nosys(req);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
    (void)ino, (void)nlookup;
    fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
    touch(forgets, count * sizeof *forgets);
    fuse_reply_none(req);
}

static void op_ino(fuse_req_t req, fuse_ino_t ino)
{
    (void)ino;
    nosys(req);
}

static void op_ino_fi(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)ino, (void)fi;
    nosys(req);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi)
{
    (void)ino, (void)attr, (void)to_set, (void)fi;
    nosys(req);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
    (void)parent, (void)mode, (void)rdev;
    touch_name(name);
    nosys(req);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
    (void)mode;
    op_lookup(req, parent, name);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
    touch_name(link);
    op_lookup(req, parent, name);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent, const char *newname,
                      unsigned flags)
{
    (void)newparent, (void)flags;
    touch_name(name);
    op_lookup(req, parent, newname);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
    (void)ino;
    op_lookup(req, newparent, newname);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
    (void)ino, (void)size, (void)off, (void)fi;
    nosys(req);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi)
{
    (void)ino, (void)off, (void)fi;
    touch(buf, size);
    nosys(req);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
    (void)datasync;
    op_ino_fi(req, ino, fi);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size, int flags)
{
    (void)ino, (void)flags;
    touch_name(name);
    touch(value, size);
    nosys(req);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
    (void)size;
    op_lookup(req, ino, name);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
    (void)size;
    op_ino(req, ino);
}

static void op_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
    (void)mask;
    op_ino(req, ino);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi)
{
    (void)mode, (void)fi;
    op_lookup(req, parent, name);
}

static void op_getlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, struct flock *lock)
{
    (void)lock;
    op_ino_fi(req, ino, fi);
}

static void op_setlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, struct flock *lock, int sleep)
{
    (void)lock, (void)sleep;
    op_ino_fi(req, ino, fi);
}

static void op_bmap(fuse_req_t req, fuse_ino_t ino, size_t blocksize, uint64_t idx)
{
    (void)blocksize, (void)idx;
    op_ino(req, ino);
}

static void op_ioctl(fuse_req_t req, fuse_ino_t ino, int cmd, void *arg, struct fuse_file_info *fi,
                     unsigned flags, const void *in_buf, size_t in_bufsz, size_t out_bufsz)
{
    (void)cmd, (void)arg, (void)flags, (void)out_bufsz;
    touch(in_buf, in_bufsz);
    op_ino_fi(req, ino, fi);
}

static void op_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, struct fuse_pollhandle *ph)
{
    fuse_pollhandle_destroy(ph);
    op_ino_fi(req, ino, fi);
}

static void op_flock(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, int op)
{
    (void)op;
    op_ino_fi(req, ino, fi);
}

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len, struct fuse_file_info *fi)
{
    (void)mode, (void)off, (void)len;
    op_ino_fi(req, ino, fi);
}

static void op_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in, struct fuse_file_info *fi_in,
                               fuse_ino_t ino_out, off_t off_out, struct fuse_file_info *fi_out, size_t len, int flags)
{
    (void)off_in, (void)fi_in, (void)ino_out, (void)off_out, (void)fi_out, (void)len, (void)flags;
    op_ino(req, ino_in);
}

static void op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence, struct fuse_file_info *fi)
{
    (void)off, (void)whence;
    op_ino_fi(req, ino, fi);
}

static const struct fuse_lowlevel_ops ops = {
    .lookup = op_lookup, .forget = op_forget, .forget_multi = op_forget_multi, .getattr = op_ino_fi,
    .setattr = op_setattr, .readlink = op_ino, .mknod = op_mknod, .mkdir = op_mkdir, .unlink = op_lookup,
    .rmdir = op_lookup, .symlink = op_symlink, .rename = op_rename, .link = op_link, .open = op_ino_fi,
    .read = op_read, .write = op_write, .flush = op_ino_fi, .release = op_ino_fi, .fsync = op_fsync,
    .opendir = op_ino_fi, .readdir = op_read, .releasedir = op_ino_fi, .fsyncdir = op_fsync, .statfs = op_ino,
    .setxattr = op_setxattr, .getxattr = op_getxattr, .listxattr = op_listxattr, .removexattr = op_lookup,
    .access = op_access, .create = op_create, .getlk = op_getlk, .setlk = op_setlk, .bmap = op_bmap,
    .ioctl = op_ioctl, .poll = op_poll, .flock = op_flock, .fallocate = op_fallocate, .readdirplus = op_read,
    .copy_file_range = op_copy_file_range, .lseek = op_lseek,
};

/* ---- requests ---- */

/* A request: header, fixed argument, names (each with its NUL), tail. */
static size_t request(uint8_t *buf, size_t cap, uint32_t opcode, const void *arg, size_t argsize, const char *a,
                      const char *b, size_t tail)
{
    size_t alen = a ? strlen(a) + 1 : 0, blen = b ? strlen(b) + 1 : 0;
    size_t n = sizeof(struct fuse_in_header) + argsize + alen + blen + tail;
    if (n > cap)
        return 0;
    struct fuse_in_header in = { .len = (uint32_t)n, .opcode = opcode, .unique = 2, .nodeid = FUSE_ROOT_ID };
    uint8_t *p = buf;
    memcpy(p, &in, sizeof in);
    p += sizeof in;
    if (argsize)
        memcpy(p, arg, argsize);
    p += argsize;
    if (alen)
        memcpy(p, a, alen);
    if (blen)
        memcpy(p + alen, b, blen);
    memset(p + alen + blen, 'x', tail);
    return n;
}

static size_t init_request(uint8_t *buf, size_t cap, uint32_t flags)
{
    struct fuse_init_in init = { .major = FUSE_KERNEL_VERSION, .minor = 31, .max_readahead = 1 << 17, .flags = flags };
    size_t size = flags & FUSE_INIT_EXT ? sizeof init : offsetof(struct fuse_init_in, flags2);
    return request(buf, cap, FUSE_INIT, &init, size, NULL, NULL, 0);
}

/* Room for n bytes that end where an inaccessible page begins. */
static uint8_t *against_guard(size_t n)
{
    static uint8_t *area;
    static size_t span;
    if (!area) {
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        span = (FUZZ_MAX_INPUT + page - 1) / page * page;
        area = mmap(NULL, span + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (area == MAP_FAILED || mprotect(area + span, page, PROT_NONE) < 0)
            fuzz_fail(HARNESS, "cannot map the guarded buffer");
    }
    return area + span - n;
}

static void process(struct fuse_session *se, uint8_t *p, size_t n)
{
    struct fuse_buf fb = { .size = n, .mem = p };
    fuse_session_process_buf(se, &fb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int null_fd = -1;
    static uint8_t init[128], statfs[64];
    static size_t init_len, statfs_len;
    if (null_fd < 0) {
        fuzz_quiet();
        null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        init_len = init_request(init, sizeof init, 0);
        statfs_len = request(statfs, sizeof statfs, FUSE_STATFS, NULL, 0, NULL, NULL, 0);
    }
    size = size < FUZZ_MAX_INPUT ? size : FUZZ_MAX_INPUT;
    uint8_t *p = against_guard(size);
    memcpy(p, data, size);
    bool ok = rv__fuse_request_ok(p, size);
    char *argv[] = { "fuzz_fuse", NULL }, path[32];
    struct fuse_args args = FUSE_ARGS_INIT(1, argv);
    struct fuse_session *se = fuse_session_new(&args, &ops, sizeof ops, NULL);
    fuse_opt_free_args(&args);
    snprintf(path, sizeof path, "/dev/fd/%d", fcntl(null_fd, F_DUPFD_CLOEXEC, 0));
    if (!se || fuse_session_mount(se, path) != 0)
        fuzz_fail(HARNESS, "cannot set up a libfuse session");
    process(se, init, init_len);
    if (ok)
        process(se, p, size);
    process(se, statfs, statfs_len);
    fuse_session_destroy(se);
    return 0;
}

size_t fuzz_seed(size_t i, uint8_t *buf, size_t cap)
{
    struct fuse_mknod_in mknod = { .mode = 0100644 };
    struct fuse_mkdir_in mkdir = { .mode = 0755 };
    struct fuse_rename2_in rename2 = { .newdir = FUSE_ROOT_ID };
    struct fuse_link_in link = { .oldnodeid = 5 };
    struct fuse_create_in create = { .flags = O_RDWR | O_CREAT, .mode = 0644 };
    struct fuse_write_in write = { .size = 100, .offset = 4096 };
    struct fuse_setxattr_in setxattr = { .size = 5 };
    struct fuse_getxattr_in getxattr = { .size = 64 };
    struct fuse_batch_forget_in forget = { .count = 2 };
    struct fuse_ioctl_in ioctl = { .in_size = 8, .out_size = 8 };
    struct fuse_setattr_in setattr = { .valid = FATTR_SIZE, .size = 1 };
    struct fuse_read_in read = { .size = 4096 };
    switch (i) {
    case 0: return request(buf, cap, FUSE_LOOKUP, NULL, 0, "name", NULL, 0);
    case 1: return request(buf, cap, FUSE_MKNOD, &mknod, sizeof mknod, "file", NULL, 0);
    case 2: return request(buf, cap, FUSE_MKDIR, &mkdir, sizeof mkdir, "dir", NULL, 0);
    case 3: return request(buf, cap, FUSE_SYMLINK, NULL, 0, "link", "../target", 0);
    case 4: return request(buf, cap, FUSE_RENAME2, &rename2, sizeof rename2, "old", "new", 0);
    case 5: return request(buf, cap, FUSE_LINK, &link, sizeof link, "hard", NULL, 0);
    case 6: return request(buf, cap, FUSE_CREATE, &create, sizeof create, "new", NULL, 0);
    case 7: return request(buf, cap, FUSE_WRITE, &write, sizeof write, NULL, NULL, write.size);
    case 8: return request(buf, cap, FUSE_SETXATTR, &setxattr, FUSE_COMPAT_SETXATTR_IN_SIZE, "user.x", NULL, 5);
    case 9: return request(buf, cap, FUSE_GETXATTR, &getxattr, sizeof getxattr, "user.x", NULL, 0);
    case 10: return request(buf, cap, FUSE_BATCH_FORGET, &forget, sizeof forget, NULL, NULL, 32);
    case 11: return request(buf, cap, FUSE_IOCTL, &ioctl, sizeof ioctl, NULL, NULL, 8);
    case 12: return request(buf, cap, FUSE_SETATTR, &setattr, sizeof setattr, NULL, NULL, 0);
    case 13: return request(buf, cap, FUSE_READ, &read, sizeof read, NULL, NULL, 0);
    case 14: return request(buf, cap, FUSE_UNLINK, NULL, 0, "gone", NULL, 0);
    case 15: return init_request(buf, cap, FUSE_INIT_EXT);
    case 16: return request(buf, cap, FUSE_STATFS, NULL, 0, NULL, NULL, 0);
    default: return 0;
    }
}
