/* memfd.h — the memory revived hands out: SSRs, journals, arenas. */
#ifndef RV_MEMFD_H
#define RV_MEMFD_H

#include <stddef.h>

/* A memfd of len bytes, sealed against growing and shrinking: a service
 * that maps it can trust its size, and nobody can make revived's memory
 * grow through it. -1 with errno. */
int sealed_memfd(const char *name, size_t len);

#endif
