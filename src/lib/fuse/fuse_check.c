/* fuse_check.c — see fuse_check.h. A table gives each opcode's shape as
 * libfuse decodes it: a fixed argument, names after it, and for a few a
 * tail whose size the argument announces. An opcode without an entry is
 * one libfuse reads nothing of (or answers ENOSYS without reading). */
#include "fuse_check.h"

#include <linux/fuse.h>
#include <stdint.h>
#include <string.h>

enum tail { NO_TAIL, WRITE_DATA, XATTR_VALUE, IOCTL_IN, FORGETS, INIT_EXT, NEVER };

struct shape {
    uint16_t size;              /* the fixed argument */
    uint8_t names;              /* NUL-terminated names after it */
    uint8_t tail;               /* enum tail */
};

static const struct shape shapes[] = {
    [FUSE_LOOKUP] = { 0, 1, NO_TAIL },
    [FUSE_FORGET] = { sizeof(struct fuse_forget_in), 0, NO_TAIL },
    [FUSE_GETATTR] = { sizeof(struct fuse_getattr_in), 0, NO_TAIL },
    [FUSE_SETATTR] = { sizeof(struct fuse_setattr_in), 0, NO_TAIL },
    [FUSE_SYMLINK] = { 0, 2, NO_TAIL },
    [FUSE_MKNOD] = { sizeof(struct fuse_mknod_in), 1, NO_TAIL },
    [FUSE_MKDIR] = { sizeof(struct fuse_mkdir_in), 1, NO_TAIL },
    [FUSE_UNLINK] = { 0, 1, NO_TAIL },
    [FUSE_RMDIR] = { 0, 1, NO_TAIL },
    [FUSE_RENAME] = { sizeof(struct fuse_rename_in), 2, NO_TAIL },
    [FUSE_LINK] = { sizeof(struct fuse_link_in), 1, NO_TAIL },
    [FUSE_OPEN] = { sizeof(struct fuse_open_in), 0, NO_TAIL },
    [FUSE_READ] = { sizeof(struct fuse_read_in), 0, NO_TAIL },
    [FUSE_WRITE] = { sizeof(struct fuse_write_in), 0, WRITE_DATA },
    [FUSE_RELEASE] = { sizeof(struct fuse_release_in), 0, NO_TAIL },
    [FUSE_FSYNC] = { sizeof(struct fuse_fsync_in), 0, NO_TAIL },
    /* the name where libfuse looks without FUSE_CAP_SETXATTR_EXT, which
     * revive's mounts do not ask for */
    [FUSE_SETXATTR] = { FUSE_COMPAT_SETXATTR_IN_SIZE, 1, XATTR_VALUE },
    [FUSE_GETXATTR] = { sizeof(struct fuse_getxattr_in), 1, NO_TAIL },
    [FUSE_LISTXATTR] = { sizeof(struct fuse_getxattr_in), 0, NO_TAIL },
    [FUSE_REMOVEXATTR] = { 0, 1, NO_TAIL },
    [FUSE_FLUSH] = { sizeof(struct fuse_flush_in), 0, NO_TAIL },
    [FUSE_INIT] = { offsetof(struct fuse_init_in, flags2), 0, INIT_EXT },
    [FUSE_OPENDIR] = { sizeof(struct fuse_open_in), 0, NO_TAIL },
    [FUSE_READDIR] = { sizeof(struct fuse_read_in), 0, NO_TAIL },
    [FUSE_RELEASEDIR] = { sizeof(struct fuse_release_in), 0, NO_TAIL },
    [FUSE_FSYNCDIR] = { sizeof(struct fuse_fsync_in), 0, NO_TAIL },
    [FUSE_GETLK] = { sizeof(struct fuse_lk_in), 0, NO_TAIL },
    [FUSE_SETLK] = { sizeof(struct fuse_lk_in), 0, NO_TAIL },
    [FUSE_SETLKW] = { sizeof(struct fuse_lk_in), 0, NO_TAIL },
    [FUSE_ACCESS] = { sizeof(struct fuse_access_in), 0, NO_TAIL },
    [FUSE_CREATE] = { sizeof(struct fuse_create_in), 1, NO_TAIL },
    [FUSE_INTERRUPT] = { sizeof(struct fuse_interrupt_in), 0, NO_TAIL },
    [FUSE_BMAP] = { sizeof(struct fuse_bmap_in), 0, NO_TAIL },
    [FUSE_IOCTL] = { sizeof(struct fuse_ioctl_in), 0, IOCTL_IN },
    [FUSE_POLL] = { sizeof(struct fuse_poll_in), 0, NO_TAIL },
    /* the answer to a retrieve (fuse_lowlevel_notify_retrieve), which
     * revive's services never ask for: libfuse would keep the request
     * that answers nothing for ever */
    [FUSE_NOTIFY_REPLY] = { 0, 0, NEVER },
    [FUSE_BATCH_FORGET] = { sizeof(struct fuse_batch_forget_in), 0, FORGETS },
    [FUSE_FALLOCATE] = { sizeof(struct fuse_fallocate_in), 0, NO_TAIL },
    [FUSE_READDIRPLUS] = { sizeof(struct fuse_read_in), 0, NO_TAIL },
    [FUSE_RENAME2] = { sizeof(struct fuse_rename2_in), 2, NO_TAIL },
    [FUSE_LSEEK] = { sizeof(struct fuse_lseek_in), 0, NO_TAIL },
    [FUSE_COPY_FILE_RANGE] = { sizeof(struct fuse_copy_file_range_in), 0, NO_TAIL },
};

/* Skips `names` NUL-terminated names from *at; false if one runs to the end. */
static bool skip_names(const uint8_t *p, size_t n, size_t *at, unsigned names)
{
    for (unsigned i = 0; i < names; i++) {
        const uint8_t *nul = memchr(p + *at, 0, n - *at);
        if (!nul)
            return false;
        *at = (size_t)(nul - p) + 1;
    }
    return true;
}

static uint32_t u32_at(const uint8_t *arg, size_t off)
{
    uint32_t v;
    memcpy(&v, arg + off, sizeof v);
    return v;
}

/* Whether the bytes the argument at arg announces follow `at`. */
static bool tail_fits(enum tail t, const uint8_t *arg, size_t at, size_t n)
{
    uint64_t want = 0;
    switch (t) {
    case NO_TAIL: return true;
    case NEVER: return false;
    case WRITE_DATA: want = u32_at(arg, offsetof(struct fuse_write_in, size)); break;
    case XATTR_VALUE: want = u32_at(arg, offsetof(struct fuse_setxattr_in, size)); break;
    case IOCTL_IN: want = u32_at(arg, offsetof(struct fuse_ioctl_in, in_size)); break;
    case FORGETS:
        want = (uint64_t)u32_at(arg, offsetof(struct fuse_batch_forget_in, count)) * sizeof(struct fuse_forget_one);
        break;
    case INIT_EXT:
        if (u32_at(arg, offsetof(struct fuse_init_in, flags)) & FUSE_INIT_EXT)
            want = sizeof(struct fuse_init_in) - offsetof(struct fuse_init_in, flags2);
        break;
    }
    return want <= n - at;
}

bool rv__fuse_request_ok(const void *buf, size_t n)
{
    struct fuse_in_header in;
    if (n < sizeof in)
        return false;
    memcpy(&in, buf, sizeof in);
    if (in.len != n)
        return false;
    if (in.opcode >= sizeof shapes / sizeof shapes[0])
        return true;
    const struct shape *sh = &shapes[in.opcode];
    const uint8_t *p = buf;
    size_t at = sizeof in + sh->size;
    return at <= n && skip_names(p, n, &at, sh->names) && tail_fits((enum tail)sh->tail, p + sizeof in, at, n);
}
