/* loader.h — revived as the loader of tasks: the client programs of the
 * manifest's [task NAME] sections.
 *
 * Each task is started once the services run, with
 *   REVIVE_NS_FD=3   its end of a SOCK_SEQPACKET socketpair: its connection
 *                    to revived, on which names resolve in its name space;
 *   REVIVE_TASK=NAME its section's name.
 * revived keeps the other end as an ordinary control connection bound to
 * the task's name space (control.h). The connection ends with the process:
 * whatever the task provided is withdrawn when it exits, even if a child of
 * it still holds the descriptor. A task that exits is started again as its
 * `restart` says, after a fixed short backoff (a task that keeps failing
 * costs a start every backoff, never a busy loop). At shutdown revived kills
 * its tasks. */
#ifndef RV_LOADER_H
#define RV_LOADER_H

#include "manifest.h"

/* Starts every task of m (which must outlive the loader). A task that
 * cannot be started is logged and retried after the backoff. -1 only when
 * revived itself cannot set up (errno). */
int loader_init(const struct rv_manifest *m);
void loader_fini(void);

#endif
