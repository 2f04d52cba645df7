/* sandbox.h — the seccomp filter of a service instance (docs/sandbox.md):
 * the system calls it may make once its init hook has run, which are what
 * the runtime needs and what the service declares (rv_service_ops.syscalls),
 * asked for in the HELLO, and what its manifest adds (`syscalls`). revived
 * compiles it (src/revived/filter.c) and sends it with the SVC_CONFIG; any
 * other call kills the process by SIGSYS, which revived treats as any
 * crash. revived asks for the filter (REVIVE_SANDBOX=1) and checks it is
 * there when the instance says it is ready; the other half of the sandbox
 * (ids, no_new_privs, Landlock) revived puts the process in before it
 * runs. */
#ifndef RV_SANDBOX_H
#define RV_SANDBOX_H

#include <stddef.h>

/* What the HELLO asks for: the runtime's names, a newline, the service's
 * (NULL-terminated, or NULL), blank-separated, into buf; their length, 0
 * when they do not fit. */
size_t rv__sandbox_asked(const char *const *service, char *buf, size_t cap);
/* Installs the program in memfd fd on every thread of the process, for
 * good. 0, or -1 with a sentence in why. */
int rv__sandbox_install(int fd, char *why, size_t whylen);

#endif
