/* fail.h — how the server runtime reports and how it gives up: a log line
 * that names its instance, and fail-stop. The bottom of the runtime: every
 * other part of it (the arena too) may call this, and this calls nothing of
 * the runtime.
 *
 * Fail-stop: the runtime found its own state broken (a corrupted value, a
 * message it cannot have been sent, an I/O error it cannot hide): it dies
 * by abort() rather than carry on wrong or silent, its SIGABRT handler
 * writes the crash record, and revived restarts it from the journals. */
#ifndef RV_FAIL_H
#define RV_FAIL_H

#include "util.h"

/* The program name log lines carry; set once at start. */
void rv__log_as(const char *name);
void rv__log(enum rv_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rv__fail_stop(const char *why) __attribute__((noreturn));

#endif
