/* image_file.c — the image as a file or device revived holds; see image.h. */
#include "image.h"

#include <errno.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static struct {
    int fd;
    uint8_t *map;
} f = { .fd = -1 };

static const uint8_t *file_page(uint64_t page)
{
    return f.map + page * TXN_PAGE;
}

/* Runs of neighbouring pages go out with one pwritev each. */
static int file_write(const uint64_t *pages, uint8_t *const *data, uint32_t n)
{
    struct iovec iov[64];
    for (uint32_t i = 0; i < n;) {
        uint64_t first = pages[i];
        int k = 0;
        while (i < n && k < 64 && pages[i] == first + (uint64_t)k) {
            iov[k++] = (struct iovec){ data[i], TXN_PAGE };
            i++;
        }
        if (pwritev(f.fd, iov, k, (off_t)(first * TXN_PAGE)) != (ssize_t)k * TXN_PAGE)
            return -(errno ? errno : EIO);
    }
    return 0;
}

static int file_sync(void)
{
    return fdatasync(f.fd) < 0 ? -errno : 0;
}

int image_file_open(int fd, struct txnio_image *img, char *why, size_t whylen)
{
    struct stat st;
    uint64_t bytes;
    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(why, whylen, "the manifest gives no image (image = PATH), and no --blk SERVICE");
        return -1;
    }
    bytes = (uint64_t)st.st_size;
    if (S_ISBLK(st.st_mode) && ioctl(fd, BLKGETSIZE64, &bytes) < 0) {
        snprintf(why, whylen, "cannot size the image's device: %s", strerror(errno));
        return -1;
    }
    bytes -= bytes % TXN_PAGE;
    void *m = bytes ? mmap(NULL, bytes, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
    if (m == MAP_FAILED) {
        snprintf(why, whylen, "cannot map the image: %s", bytes ? strerror(errno) : "it is empty");
        return -1;
    }
    f.fd = fd;
    f.map = m;
    *img = (struct txnio_image){ .bytes = bytes, .page = file_page, .write = file_write, .sync = file_sync };
    return 0;
}
