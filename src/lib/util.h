/* util.h — small helpers librevive and revived share. */
#ifndef RV_UTIL_H
#define RV_UTIL_H

#include <stdint.h>

uint64_t rv_now_ns(void);   /* CLOCK_MONOTONIC */
int rv_set_nonblock(int fd, int on);

#endif
