/* sandbox.h — the seccomp filter of a service instance (docs/sandbox.md):
 * the system calls it may make once its init hook has run, which are what
 * the runtime needs, what the service declares (rv_service_ops.syscalls)
 * and what its manifest adds (`syscalls`). Any other call kills the
 * process by SIGSYS, which revived treats as any crash. revived asks for
 * the filter (REVIVE_SANDBOX=1) and checks it is there when the instance
 * says it is ready; the other half of the sandbox (ids, no_new_privs,
 * Landlock) revived puts the process in before it runs. */
#ifndef RV_SANDBOX_H
#define RV_SANDBOX_H

#include <stddef.h>

/* Installs the filter on every thread of the process, for good. service:
 * NULL-terminated names (or NULL); manifest: blank-separated names (or
 * NULL). 0, or -1 with a sentence in why (a name this machine's libseccomp
 * does not know, a filter the kernel refused). */
int rv__sandbox_enter(const char *const *service, const char *manifest, char *why, size_t whylen);

#endif
