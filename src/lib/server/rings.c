/* rings.c — a session's ring (ring.h) as a service instance holds it:
 * mapped once per session, sized from the instance's own shape (never
 * from what the ring says), and the one place replies are put into it.
 * Below serve.c, which routes a committed reply here when its call came
 * through the ring; the thread that takes calls out of rings is
 * fastpath.c, above. */
#include "rings.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "ring.h"

static size_t ring_bytes(void)
{
    return rv__ring_bytes(rv__rt.shape.max_request, rv__rt.shape.max_reply);
}

int rv__ring_attach(rv_svc_session *s, int fd, char *why, size_t whylen)
{
    struct stat st;
    size_t len = ring_bytes();
    void *p = fstat(fd, &st) == 0 && (uint64_t)st.st_size >= len
                  ? mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
    close(fd);
    if (p == MAP_FAILED) {
        snprintf(why, whylen, "cannot map its ring of %zu bytes: %s", len, strerror(errno));
        return -1;
    }
    s->ring = p;
    return 0;
}

void rv__ring_detach(rv_svc_session *s)
{
    if (s->ring)
        munmap(s->ring, ring_bytes());
    s->ring = NULL;
}

bool rv__ring_carries(const rv_svc_session *s, uint64_t seq)
{
    return s->ring && __atomic_load_n(&s->ring->posted, __ATOMIC_ACQUIRE) == seq;
}

void rv__ring_publish(rv_svc_session *s, uint64_t seq, int32_t status, const void *body, uint32_t len,
                      bool on_socket)
{
    struct rv_ring *r = s->ring;
    r->reply = rv__hdr_make(RV_T_REPLY, seq, on_socket ? RV_RING_ON_SOCKET : 0, status, on_socket ? 0 : len);
    if (!on_socket && len)
        memcpy(rv__ring_reply_body(r, rv__rt.shape.max_request), body, len);
    __atomic_store_n(&r->answered, (uint32_t)seq, __ATOMIC_RELEASE);
    syscall(SYS_futex, &r->answered, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}
