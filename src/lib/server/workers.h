/* workers.h — the pool of threads that serve requests (workers.c), for a
 * service with `.workers = N`. */
#ifndef RV_WORKERS_H
#define RV_WORKERS_H

#include <stdbool.h>
#include "core.h"

int rv__workers_start(unsigned n);
void rv__workers_submit(rv_svc_session *s);
/* True if a worker has s: it will unbind s when done. */
bool rv__workers_defer_unbind(rv_svc_session *s);

#endif
