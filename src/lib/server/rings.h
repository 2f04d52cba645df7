/* rings.h — a session's ring (ring.h) as the instance holds it: mapping
 * it, and publishing replies into it (rings.c). Not a public header. */
#ifndef RV_RINGS_H
#define RV_RINGS_H

#include <stdbool.h>
#include <stddef.h>
#include "core.h"

/* Maps the ring revived sent with s (fd is closed): 0, or -1 with why. */
int rv__ring_attach(rv_svc_session *s, int fd, char *why, size_t whylen);
void rv__ring_detach(rv_svc_session *s);
/* Whether the call seq of s came through its ring: its reply goes there. */
bool rv__ring_carries(const rv_svc_session *s, uint64_t seq);
/* Puts the reply (seq, status, body) into s's ring and wakes its caller;
 * on_socket: the reply itself went on the socket (it carries a descriptor). */
void rv__ring_publish(rv_svc_session *s, uint64_t seq, int32_t status, const void *body, uint32_t len,
                      bool on_socket);

#endif
