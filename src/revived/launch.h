/* launch.h — starting a program revived supervises: a service instance or a
 * task (loader.h). Both get one descriptor as fd 3, named by an environment
 * variable, and a clean signal state. */
#ifndef RV_LAUNCH_H
#define RV_LAUNCH_H

#include <sys/types.h>

/* Starts exec with argv. `fd` becomes the child's descriptor 3; `vars`
 * (NULL-terminated "NAME=VALUE" strings) are added to revived's
 * environment, replacing variables of the same names. Returns 0 with *pid
 * set, or an errno value. */
int launch_program(pid_t *pid, const char *exec, char *const argv[], int fd, char *const vars[]);
/* From now on, programs start with /dev/null as their standard streams
 * and REVIVE_LOG=syslog: revived has detached from its terminal. */
void launch_detached(void);

#endif
