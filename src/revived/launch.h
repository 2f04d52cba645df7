/* launch.h — starting a program revived supervises: a service instance or a
 * task (loader.h). Both get one descriptor as fd 3, named by an environment
 * variable, and a clean signal state; a service also its sandbox (jail),
 * which the child enters before it executes the program. */
#ifndef RV_LAUNCH_H
#define RV_LAUNCH_H

#include <stdbool.h>
#include <sys/types.h>
#include "landlock.h"

/* What the child does to itself between clone and exec, in this order. */
struct launch_jail {
    bool set_ids;                       /* no supplementary group, then gid, then uid */
    uid_t uid;
    gid_t gid;
    bool no_new_privs;                  /* exec grants no privilege (setuid bits, file capabilities) */
    struct landlock_plan landlock;      /* abi 0: none */
};

/* Starts exec with argv. `fd` becomes the child's descriptor 3; `vars`
 * (NULL-terminated "NAME=VALUE" strings) are added to revived's
 * environment, replacing variables of the same names; jail (NULL: none) is
 * entered before exec. Returns 0 with *pid set, or an errno value (the
 * log says which step failed). */
int launch_program(pid_t *pid, const char *exec, char *const argv[], int fd, char *const vars[],
                   const struct launch_jail *jail);
/* From now on, programs start with /dev/null as their standard streams
 * and REVIVE_LOG=syslog: revived has detached from its terminal. */
void launch_detached(void);

#endif
