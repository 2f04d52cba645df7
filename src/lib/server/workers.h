/* workers.h — the pool of threads that serve requests (workers.c), for a
 * service with `.workers = N`. */
#ifndef RV_WORKERS_H
#define RV_WORKERS_H

#include <stdbool.h>
#include "core.h"

/* n threads serving the sessions of rv__rt.sess_ep. */
int rv__workers_start(unsigned n);

#endif
