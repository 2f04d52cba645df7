/* fusefs.h — the fs service's FUSE front end (fusefs.c): serves the mount
 * revived holds from the runtime's event loop. Called from the recover
 * hook, once the file system is open. 0 or an RV_E* code. */
#ifndef RV_FS_FUSEFS_H
#define RV_FS_FUSEFS_H

int fusefs_start(void);

#endif
