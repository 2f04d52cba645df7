/* bench.h — the operations of rv-svc-bench, shared by the service and rv-bench.
 *
 * Every operation but PID echoes its request, so a revive call carries the
 * same 64-byte request and reply as the raw socket ping-pong it is compared
 * with. */
#ifndef RV_BENCH_OPS_H
#define RV_BENCH_OPS_H

enum bench_op {
    BENCH_NULL = 1,   /* echo; the SSR is not touched */
    BENCH_TOUCH = 2,  /* echo, and increment a counter in the SSR */
    BENCH_PID = 3,    /* reply with the instance's pid (an int32) */
    BENCH_HOLD = 4,   /* request: an int32 pid. The instance with that pid
                         announces it on the notify fifo and blocks until
                         killed; any later instance just echoes */
    BENCH_COUNT = 5,  /* increment a counter in the SSR; reply with it (a uint64): exactly-once made visible */
};

#endif
