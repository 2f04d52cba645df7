/* workers.h — the pool of threads that serve requests (workers.c), for a
 * service with `.workers = N`. */
#ifndef RV_WORKERS_H
#define RV_WORKERS_H

#include <stdbool.h>
#include "core.h"

int rv_workers_start(unsigned n);
void rv_workers_submit(rv_sess *s);
/* True if a worker has s: it will unbind s when done. */
bool rv_workers_defer_unbind(rv_sess *s);

#endif
