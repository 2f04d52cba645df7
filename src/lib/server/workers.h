/* workers.h — the pool of threads that serve requests (workers.c), for a
 * service with `.workers = N`. */
#ifndef RV_WORKERS_H
#define RV_WORKERS_H

#include <stdbool.h>
#include "core.h"

int rv__workers_start(unsigned n);
void rv__workers_submit(rv_svc_session *s);
/* Returns once no worker has s (queued or serving it). */
void rv__workers_await(rv_svc_session *s);

#endif
