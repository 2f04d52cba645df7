/* random.h — the protocol of the `random` service, shared by the service
 * and its clients. */
#ifndef RV_SVC_RANDOM_H
#define RV_SVC_RANDOM_H

#include <stdint.h>

/* Open arguments: "seed=N". */
enum random_op {
    RANDOM_NEXT = 1,    /* reply: uint64_t, the next number of the session's sequence */
};

#endif
