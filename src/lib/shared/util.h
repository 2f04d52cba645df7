/* util.h — small helpers librevive and revived share. */
#ifndef RV_UTIL_H
#define RV_UTIL_H

#include <stdarg.h>
#include <stdint.h>

/* syslog's priorities, which journald reads from a "<N>" prefix too. */
enum rv_log_level { RV_LOG_CRIT = 2, RV_LOG_ERR = 3, RV_LOG_WARNING = 4, RV_LOG_NOTICE = 5, RV_LOG_INFO = 6,
                    RV_LOG_DEBUG = 7 };

uint64_t rv__now_ns(void);   /* CLOCK_MONOTONIC */
int rv__set_nonblock(int fd, int on);
/* Writes "<level>prefix: message\n" to stderr in one write(), so lines from
 * revived and its services never interleave mid-line; the <N> prefix is the
 * journald priority. With REVIVE_LOG=syslog (a revived that detached from
 * its terminal, and the programs it starts) the line goes to syslog(3)
 * instead, facility daemon. */
void rv__log_line(enum rv_log_level level, const char *prefix, const char *fmt, va_list ap);

#endif
