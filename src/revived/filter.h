/* filter.h — the seccomp filter of a service instance, as revived builds it
 * (docs/sandbox.md).
 *
 * An instance names in its HELLO the system calls it asks for: its
 * runtime's (some of which a machine may lack: skipped) and its service's
 * own (rv_service_ops.syscalls: each must exist). revived adds the
 * manifest's `syscalls` and the calls it allows only with their arguments
 * checked (an AF_UNIX socket alone, a signal to the instance itself, a
 * clone that makes a thread), compiles the filter with libseccomp as a
 * binary tree, and hands the program to the instance with its SVC_CONFIG;
 * the runtime installs it once its init hook has run. The list an
 * instance asks for comes from its own binary, so it is trusted as much as
 * before, when each instance built its filter itself; what moved is the
 * cost: libseccomp's compilation (~0.25 ms in a fresh process) is done
 * once per service and list, and each instance only gets a copy with its
 * own pid in the two rules that name it. */
#ifndef RV_FILTER_H
#define RV_FILTER_H

#include <stddef.h>
#include <sys/types.h>
#include "manifest.h"

/* A service's compiled filter, kept for its next instances. */
struct filter_cache {
    char *asked;                  /* the HELLO's list it was compiled for */
    struct sock_filter *prog;     /* with FILTER_PID_MARK where the pid goes */
    size_t len;                   /* instructions */
};

/* A sealed memfd holding the program for instance pid of service c, which
 * asked for `asked` (len bytes: the runtime's names, a newline, the
 * service's; blank-separated); -1 with a sentence in why (a malformed list,
 * an unknown service call, a filter libseccomp cannot build). */
int filter_for(struct filter_cache *cache, const struct rv_service_conf *c, const char *asked, size_t len, pid_t pid,
               char *why, size_t whylen);
void filter_cache_free(struct filter_cache *cache);

#endif
