/* sandbox.h — a service's sandbox as revived makes and checks it
 * (docs/sandbox.md). revived's part: the ids the service runs as,
 * no_new_privs and its Landlock domain, all entered by the child before
 * it executes the service (launch.h). The service's part: the seccomp
 * filter its runtime installs once its init hook has run, told through
 * the environment whether to (revived builds the filter: filter.h).
 * And the check, when an instance says it is ready, that all of it is in
 * force: revived never trusts an instance's word for it. */
#ifndef RV_SANDBOX_H
#define RV_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "launch.h"
#include "manifest.h"

#define SANDBOX_RULES_MAX (8 + 2 * RV_PATHS_MAX)

/* What one start of a service needs; built anew for each (it is cheap). */
struct sandbox_plan {
    struct launch_jail jail;
    struct landlock_rule rules[SANDBOX_RULES_MAX];
    char sandbox_var[20];      /* REVIVE_SANDBOX=1 (or 0): install the seccomp filter */
    char *vars[2];             /* it, then NULL: for launch_program */
};

void sandbox_plan(const struct rv_service_conf *c, struct sandbox_plan *p);
/* Whether the instance pid runs as c asks (its ids, and with the sandbox
 * on no_new_privs and a seccomp filter), as the kernel tells in
 * /proc/PID/status. false with a sentence in why. */
bool sandbox_in_force(pid_t pid, const struct rv_service_conf *c, char *why, size_t whylen);

#endif
