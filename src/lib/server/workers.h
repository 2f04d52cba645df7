/* workers.h — the pool of threads that serve requests (workers.c), for a
 * service with `.workers = N`. */
#ifndef RV_WORKERS_H
#define RV_WORKERS_H

#include <stdbool.h>
#include "core.h"

/* n threads serving the sessions of rv__rt.sess_ep. */
int rv__workers_start(unsigned n);
/* Around every change to rv__rt.by_record, which workers read. */
void rv__workers_lock(void);
void rv__workers_unlock(void);
/* Returns once no worker has s. */
void rv__workers_await(rv_svc_session *s);

#endif
