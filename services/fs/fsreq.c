/* fsreq.c — see fsreq.h. Every request is a fixed part, then strings, then
 * (writes) bytes: a table says which of each an op has, so the shape of
 * the protocol is in one place, beside fs.h's list. */
#include "fsreq.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

struct shape {
    bool known;
    uint8_t strings;            /* how many follow the fixed part */
    bool data;                  /* the rest is bytes */
    int short_err;              /* errno when the fixed part is cut short */
    size_t at, size;            /* where in struct fs_req the fixed part goes */
};

#define FIXED(field, err) .known = true, .short_err = err, .at = offsetof(struct fs_req, field), \
                          .size = sizeof(((struct fs_req *)0)->field)
#define STRINGS(n) .known = true, .strings = n, .short_err = EINVAL

static const struct shape shapes[] = {
    [FS_OPEN] = { FIXED(open, EINVAL), .strings = 1 },
    [FS_CLOSE] = { FIXED(fd, EBADF) },
    [FS_READ] = { FIXED(io, EBADF) },
    [FS_WRITE] = { FIXED(io, EBADF), .data = true },
    [FS_PREAD] = { FIXED(io, EBADF) },
    [FS_PWRITE] = { FIXED(io, EBADF), .data = true },
    [FS_SEEK] = { FIXED(seek, EBADF) },
    [FS_FTRUNCATE] = { FIXED(io, EBADF) },
    [FS_FSYNC] = { FIXED(fd, EBADF) },
    [FS_FSTAT] = { FIXED(fd, EBADF) },
    [FS_STAT] = { STRINGS(1) },
    [FS_LSTAT] = { STRINGS(1) },
    [FS_READDIR] = { FIXED(cookie, EINVAL), .strings = 1 },
    [FS_MKDIR] = { FIXED(mode, EINVAL), .strings = 1 },
    [FS_RMDIR] = { STRINGS(1) },
    [FS_UNLINK] = { STRINGS(1) },
    [FS_RENAME] = { STRINGS(2) },
    [FS_LINK] = { STRINGS(2) },
    [FS_SYMLINK] = { STRINGS(2) },
    [FS_READLINK] = { STRINGS(1) },
    [FS_CHMOD] = { FIXED(mode, EINVAL), .strings = 1 },
    [FS_CHOWN] = { .known = true, .short_err = EINVAL, .at = offsetof(struct fs_req, uid), .size = 8, .strings = 1 },
    [FS_UTIMENS] = { FIXED(times, EINVAL), .strings = 1 },
    [FS_TRUNCATE] = { FIXED(size, EINVAL), .strings = 1 },
    [FS_CHDIR] = { STRINGS(1) },
    [FS_STATFS] = { .known = true },
};
_Static_assert(offsetof(struct fs_req, gid) == offsetof(struct fs_req, uid) + 4, "CHOWN's uid and gid are adjacent");

/* A non-empty string, terminated within FS_PATH_MAX bytes, or NULL. */
static const char *take_str(const uint8_t **p, size_t *left)
{
    const uint8_t *end = *left ? memchr(*p, 0, *left < FS_PATH_MAX ? *left : FS_PATH_MAX) : NULL;
    if (!end || end == *p)
        return NULL;
    const char *s = (const char *)*p;
    *left -= (size_t)(end + 1 - *p);
    *p = end + 1;
    return s;
}

static bool nsec_ok(int64_t nsec)
{
    return (nsec >= 0 && nsec < 1000000000) || nsec == UTIME_NOW || nsec == UTIME_OMIT;
}

/* What the fixed part may hold, beyond its size. */
static bool fields_ok(uint32_t op, const struct fs_req *r)
{
    if (op == FS_OPEN)
        return !(r->open.flags & ~(uint32_t)FS_OPEN_FLAGS);
    if (op == FS_UTIMENS)
        return nsec_ok(r->times.atime_nsec) && nsec_ok(r->times.mtime_nsec);
    return true;
}

int fs_req_decode(uint32_t op, const void *data, size_t len, struct fs_req *r)
{
    if (op >= sizeof shapes / sizeof shapes[0] || !shapes[op].known)
        return FS_ERR(ENOSYS);
    const struct shape *sh = &shapes[op];
    const uint8_t *p = data;
    *r = (struct fs_req){ 0 };
    if (len < sh->size)
        return FS_ERR(sh->short_err);
    if (sh->size)
        memcpy((uint8_t *)r + sh->at, p, sh->size);
    p += sh->size, len -= sh->size;
    if (sh->strings >= 1 && !(r->path = take_str(&p, &len)))
        return FS_ERR(EINVAL);
    if (sh->strings >= 2 && !(r->path2 = take_str(&p, &len)))
        return FS_ERR(EINVAL);
    if (!fields_ok(op, r))
        return FS_ERR(EINVAL);
    if (sh->data)
        r->data = p, r->len = len;
    return 0;
}
