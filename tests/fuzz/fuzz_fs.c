/* fuzz_fs.c — fuzz target for the fs service's native request decoder
 * (services/fs/fsreq.c): every request a client of the fs protocol (fs.h,
 * fs_client.c) sends passes it before fs.c touches the file system.
 *
 * Input: byte 0 is the request's op, the rest its payload, copied into a
 * buffer of exactly its size so that a read past it is a fault.
 *
 * Checked: a request is refused only as fs.h's clients expect (EINVAL,
 * EBADF, ENOSYS); an accepted one's strings are non-empty, NUL-terminated
 * inside the payload and shorter than FS_PATH_MAX; a write's bytes are
 * the end of the payload; open flags are among FS_OPEN_FLAGS, and times
 * are in range or UTIME_NOW / UTIME_OMIT.
 */
#include "fuzz.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "fsreq.h"
#include "harness.h"

#define HARNESS "fuzz_fs"

static void check_string(const char *s, const uint8_t *p, size_t n, const char *which)
{
    if (!s)
        return;
    const uint8_t *u = (const uint8_t *)s;
    if (u < p || u >= p + n)
        fuzz_fail(HARNESS, "%s is outside the payload", which);
    const uint8_t *end = memchr(u, 0, (size_t)(p + n - u));
    if (!end || end == u || end - u >= FS_PATH_MAX)
        fuzz_fail(HARNESS, "%s is empty, unterminated or too long", which);
}

static bool nsec_ok(int64_t nsec)
{
    return (nsec >= 0 && nsec < 1000000000) || nsec == UTIME_NOW || nsec == UTIME_OMIT;
}

static void check_request(uint32_t op, const struct fs_req *r, const uint8_t *p, size_t n)
{
    check_string(r->path, p, n, "the first string");
    check_string(r->path2, p, n, "the second string");
    if (r->path2 && (!r->path || r->path2 <= r->path))
        fuzz_fail(HARNESS, "a second string without a first before it");
    if (r->data && (r->data < p || r->data + r->len != p + n))
        fuzz_fail(HARNESS, "a write's bytes are not the end of the payload");
    if (r->open.flags & ~(uint32_t)FS_OPEN_FLAGS)
        fuzz_fail(HARNESS, "open flags %#x accepted", r->open.flags);
    if (op == FS_UTIMENS && (!nsec_ok(r->times.atime_nsec) || !nsec_ok(r->times.mtime_nsec)))
        fuzz_fail(HARNESS, "times out of range accepted");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t n = size - 1;
    uint8_t *p = malloc(n ? n : 1);
    if (!p)
        return 0;
    memcpy(p, data + 1, n);
    struct fs_req r;
    int rc = fs_req_decode(data[0], p, n, &r);
    if (rc == 0)
        check_request(data[0], &r, p, n);
    else if (rc != FS_ERR(EINVAL) && rc != FS_ERR(EBADF) && rc != FS_ERR(ENOSYS))
        fuzz_fail(HARNESS, "op %u refused with %d", data[0], rc);
    free(p);
    return 0;
}

static size_t append(uint8_t *buf, size_t at, const void *p, size_t n)
{
    if (n)
        memcpy(buf + at, p, n);
    return at + n;
}

/* A request: op, a fixed part, then strings (each with its NUL). */
static size_t put(uint8_t *buf, size_t cap, uint8_t op, const void *fixed, size_t flen, const char *a, const char *b)
{
    size_t alen = a ? strlen(a) + 1 : 0, blen = b ? strlen(b) + 1 : 0;
    if (1 + flen + alen + blen > cap)
        return 0;
    buf[0] = op;
    return append(buf, append(buf, append(buf, 1, fixed, flen), a, alen), b, blen);
}

size_t fuzz_seed(size_t i, uint8_t *buf, size_t cap)
{
    const struct fs_open_req o = { .flags = O_RDWR | O_CREAT | O_TRUNC, .mode = 0644 };
    const struct fs_io_req io = { .fd = 3, .len = 100, .off = 4096 };
    const struct fs_seek_req sk = { .fd = 1, .whence = SEEK_END, .off = -10 };
    const struct fs_times t = { .atime_sec = 1, .mtime_sec = 2, .atime_nsec = UTIME_NOW, .mtime_nsec = 999999999 };
    const uint32_t fd = 2, mode = 0755, ids[2] = { 1000, UINT32_MAX };
    const uint64_t cookie = 7, size = 1 << 20;
    switch (i) {
    case 0: return put(buf, cap, FS_OPEN, &o, sizeof o, "dir/file.txt", NULL);
    case 1: return put(buf, cap, FS_CLOSE, &fd, sizeof fd, NULL, NULL);
    case 2: return put(buf, cap, FS_PREAD, &io, sizeof io, NULL, NULL);
    case 3: return put(buf, cap, FS_WRITE, &io, sizeof io, "bytes to write", NULL);
    case 4: return put(buf, cap, FS_SEEK, &sk, sizeof sk, NULL, NULL);
    case 5: return put(buf, cap, FS_STAT, NULL, 0, "/a/b/../c", NULL);
    case 6: return put(buf, cap, FS_READDIR, &cookie, sizeof cookie, ".", NULL);
    case 7: return put(buf, cap, FS_MKDIR, &mode, sizeof mode, "new", NULL);
    case 8: return put(buf, cap, FS_RENAME, NULL, 0, "old", "new/name");
    case 9: return put(buf, cap, FS_SYMLINK, NULL, 0, "../target", "link");
    case 10: return put(buf, cap, FS_CHOWN, ids, sizeof ids, "file", NULL);
    case 11: return put(buf, cap, FS_UTIMENS, &t, sizeof t, "file", NULL);
    case 12: return put(buf, cap, FS_TRUNCATE, &size, sizeof size, "file", NULL);
    case 13: return put(buf, cap, FS_STATFS, NULL, 0, NULL, NULL);
    case 14: return put(buf, cap, FS_FTRUNCATE, &io, sizeof io, NULL, NULL);
    default: return 0;
    }
}
