/* arena.c — see arena.h.
 *
 * The arena file is opened (or created, sparse, at its full size) here and
 * locked with flock: two revived processes writing one arena would corrupt
 * it. A revived that died leaves service instances that may still hold the
 * file for a moment (they exit when their control channel closes), so the
 * lock is waited for, briefly, before giving up with a sentence. */
#include "arena.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "arena_file.h"
#include "memfd.h"

#define LOCK_WAIT_MS 2000

static int lock_file(int fd)
{
    for (int waited = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; waited += 10) {
        if (errno != EWOULDBLOCK || waited >= LOCK_WAIT_MS)
            return -1;
        nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000000 }, NULL);
    }
    return 0;
}

/* A new file: sparse, but its redo log written out with zeros, so that an
 * append later overwrites blocks the file system has already allocated
 * and its fdatasync flushes data alone, not an allocation's metadata. */
static int create(int fd, uint64_t arena_size)
{
    static const char zeros[64 * 1024];
    if (ftruncate(fd, (off_t)rv__arena_file_bytes(arena_size)) < 0)
        return -1;
    for (uint64_t off = 0; off < RV_ARENA_WAL_BYTES; off += sizeof zeros)
        if (pwrite(fd, zeros, sizeof zeros, (off_t)(RV_ARENA_FILE_HDR + arena_size + off)) != (ssize_t)sizeof zeros)
            return -1;
    return fsync(fd);
}

static int open_file(const struct rv_service_conf *c, char *why, size_t whylen)
{
    uint64_t want = rv__arena_file_bytes(c->arena_size);
    int fd = open(c->arena_file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(why, whylen, "%s: arena_file %s: %s", c->name, c->arena_file, strerror(errno));
        goto fail;
    }
    if (lock_file(fd) < 0) {
        snprintf(why, whylen, "%s: arena_file %s is in use by another process (another revived, or a service "
                 "instance of one that died)", c->name, c->arena_file);
        goto fail;
    }
    if (st.st_size == 0 && create(fd, c->arena_size) < 0) {
        snprintf(why, whylen, "%s: cannot size arena_file %s to %" PRIu64 " bytes: %s", c->name, c->arena_file,
                 want, strerror(errno));
        goto fail;
    }
    if (st.st_size != 0 && (uint64_t)st.st_size != want) {
        snprintf(why, whylen, "%s: arena_file %s has %" PRIu64 " bytes, but an arena_size of %" PRIu64 " needs %"
                 PRIu64 ": it belongs to another arena_size (or another program)", c->name, c->arena_file,
                 (uint64_t)st.st_size, c->arena_size, want);
        goto fail;
    }
    return fd;
fail:
    if (fd >= 0)
        close(fd);
    return -1;
}

int arena_open(const struct rv_service_conf *c, int *memfd, int *filefd, char *why, size_t whylen)
{
    char name[RV_NAME_MAX + 16];
    *filefd = -1;
    snprintf(name, sizeof name, "rv-arena-%s", c->name);
    *memfd = sealed_memfd(name, c->arena_size);
    if (*memfd < 0) {
        snprintf(why, whylen, "%s: cannot create its arena of %" PRIu64 " bytes: %s", c->name, c->arena_size,
                 strerror(errno));
        return -1;
    }
    if (c->arena_file && (*filefd = open_file(c, why, whylen)) < 0) {
        close(*memfd);
        *memfd = -1;
        return -1;
    }
    return 0;
}
