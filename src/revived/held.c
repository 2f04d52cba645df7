/* held.c — see held.h.
 *
 * The mount is FUSE's own protocol done by hand, as fusermount does it for
 * an unprivileged user: open /dev/fuse, then mount(2) with "fd=N" naming
 * that descriptor. It needs CAP_SYS_ADMIN (revived runs as root to mount).
 * `default_permissions` has the kernel check permissions against the
 * attributes the service reports, as a local file system would;
 * `allow_other` lets every user use the mount, as with any file system. */
#include "held.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"

static int mkdir_p(const char *path)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(dir, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static uint64_t new_mount_id(void)
{
    uint64_t id;
    if (getrandom(&id, sizeof id, 0) != sizeof id) {
        struct timespec t;      /* unique enough within one boot */
        clock_gettime(CLOCK_MONOTONIC, &t);
        id = (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
    }
    return id | 1;              /* never 0: "no mount yet" in an instance's state */
}

int held_mount(const struct rv_service_conf *c, struct held *h, char *why, size_t whylen)
{
    if (!c->mount || h->mounted)
        return 0;
    if ((h->fuse_fd = open("/dev/fuse", O_RDWR | O_CLOEXEC)) < 0) {
        snprintf(why, whylen, "%s: mount %s: cannot open /dev/fuse: %s", c->name, c->mount, strerror(errno));
        return -1;
    }
    char opts[160], source[RV_NAME_MAX + 16], type[RV_NAME_MAX + 16];
    snprintf(opts, sizeof opts, "fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other,default_permissions",
             h->fuse_fd);
    snprintf(source, sizeof source, "revive-%s", c->name);
    snprintf(type, sizeof type, "fuse.revive-%s", c->name);
    if (mkdir_p(c->mount) < 0 || mount(source, c->mount, type, MS_NOSUID | MS_NODEV, opts) < 0) {
        snprintf(why, whylen, "%s: cannot mount %s: %s%s", c->name, c->mount, strerror(errno),
                 errno == EPERM ? " (mounting needs root)" : "");
        close(h->fuse_fd);
        h->fuse_fd = -1;
        return -1;
    }
    h->mount_id = new_mount_id();
    h->mounted = true;
    rv_notice("%s: mounted at %s", c->name, c->mount);
    return 0;
}

/* Detaching the mount and closing the last descriptor of its device ends
 * the connection: every request still waiting fails with ENOTCONN. */
void held_unmount(const struct rv_service_conf *c, struct held *h)
{
    if (h->mounted && umount2(c->mount, MNT_DETACH) < 0)
        rv_warn("%s: cannot unmount %s: %s", c->name, c->mount, strerror(errno));
    h->mounted = false;
    if (h->fuse_fd >= 0)
        close(h->fuse_fd);
    h->fuse_fd = -1;
}

int held_open(const struct rv_service_conf *c, struct held *h, char *why, size_t whylen)
{
    *h = HELD_NONE;
    if (c->image && (h->image_fd = open(c->image, O_RDWR | O_CLOEXEC)) < 0) {
        snprintf(why, whylen, "%s: image %s: %s", c->name, c->image, strerror(errno));
        return -1;
    }
    if (held_mount(c, h, why, whylen) < 0) {
        held_close(c, h);
        return -1;
    }
    return 0;
}

void held_close(const struct rv_service_conf *c, struct held *h)
{
    held_unmount(c, h);
    if (h->image_fd >= 0)
        close(h->image_fd);
    *h = HELD_NONE;
}
