/* log.h — revived's log: stderr lines with journald priority prefixes.
 *
 * "<3>revived: ..." is read by journald (and by systemd's StandardError=)
 * as an error line; under a terminal it stays readable. */
#ifndef RV_LOG_H
#define RV_LOG_H

#include "util.h"

void rv_log_set_level(int level);
/* Parses "err", "warning", "notice", "info", "debug" or a digit 0-7; -1 if bad. */
int rv_log_parse_level(const char *s);
void rv_log(enum rv_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define rv_err(...) rv_log(RV_LOG_ERR, __VA_ARGS__)
#define rv_warn(...) rv_log(RV_LOG_WARNING, __VA_ARGS__)
#define rv_notice(...) rv_log(RV_LOG_NOTICE, __VA_ARGS__)
#define rv_info(...) rv_log(RV_LOG_INFO, __VA_ARGS__)
#define rv_debug(...) rv_log(RV_LOG_DEBUG, __VA_ARGS__)

#endif
