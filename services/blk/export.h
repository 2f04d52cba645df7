/* export.h — blk's device as the file /device in the service's FUSE mount
 * (export.c). */
#ifndef RV_BLK_EXPORT_H
#define RV_BLK_EXPORT_H

#include <stdint.h>
#include "revive/fuse.h"

/* The export's weight among the device's clients (--export-weight). */
void export_set_weight(uint32_t weight);
/* Serves the mount from the runtime's event loop; from the recover hook. */
int export_start(void);

#endif
