/* reserve.c — see reserve.h. */
#include "reserve.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

/* An instance start takes a status memfd, a socketpair, a pidfd and perhaps
 * one more to move the child's end: 5; twice that covers an active and a
 * standby started in one turn of the loop. */
#define RESERVE 12

static int held[RESERVE];
static int nheld;
static int spare = -1;   /* for refusing connections only */

static int open_null(void)
{
    return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

void reserve_refill(void)
{
    while (nheld < RESERVE) {
        int fd = open_null();
        if (fd < 0)
            return;
        held[nheld++] = fd;
    }
}

int reserve_init(void)
{
    spare = open_null();
    reserve_refill();
    return nheld == RESERVE && spare >= 0 ? 0 : -1;
}

int reserve_refuse(int listen_fd)
{
    if (spare >= 0)
        close(spare);
    int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd >= 0)
        close(fd);
    spare = open_null();
    return fd >= 0 ? 0 : -1;
}

void reserve_release(void)
{
    while (nheld > 0)
        close(held[--nheld]);
}

void reserve_fini(void)
{
    reserve_release();
    if (spare >= 0)
        close(spare);
    spare = -1;
}
