/* memfd.c — see memfd.h. */
#include "memfd.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

int sealed_memfd(const char *name, size_t len)
{
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return -1;
    if (ftruncate(fd, (off_t)len) < 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}
